#include "store/statedb.h"
#include "transfer/dbdump.h"

#include <QSqlDatabase>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>

using namespace ns8m;

namespace {

// A state database as schema 1 of an older version left it: its meta
// table, then STATEMENTS.
bool writeOldDatabase(const QString &path, const QStringList &statements)
{
    bool ok = true;
    {
        QSqlDatabase old = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("old"));
        old.setDatabaseName(path);
        ok = old.open();
        QSqlQuery q(old);
        const QStringList all = QStringList{QStringLiteral("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"),
                                            QStringLiteral("INSERT INTO meta VALUES ('schema_version', '1')")}
                                + statements;
        for (const QString &sql : all)
            ok = ok && q.exec(sql);
        old.close();
    }
    QSqlDatabase::removeDatabase(QStringLiteral("old"));
    return ok;
}

} // namespace

class TestStateDb : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    // A state database of a version without checksums opens; its chunks
    // read with no checksum (they are shipped again), and new ones keep theirs.
    void chunksOfAnOlderVersionHaveNoChecksum()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString path = dir.filePath(QStringLiteral("state.db"));
        QVERIFY(writeOldDatabase(path, {QStringLiteral(
                "CREATE TABLE chunks (app TEXT NOT NULL, db TEXT NOT NULL, tbl TEXT NOT NULL, seq INTEGER NOT NULL,"
                " low TEXT NOT NULL, high TEXT NOT NULL, rows INTEGER NOT NULL, file TEXT NOT NULL,"
                " PRIMARY KEY (app, seq))"),
                                        QStringLiteral("INSERT INTO chunks VALUES ('nethvoice', 'asteriskcdrdb', 'cel', 1, "
                                                       "'', '400', 400, '80_asteriskcdrdb_data_000001_cel.sql')")}));

        StateDb state;
        QString error;
        QVERIFY2(state.open(path, &error), qPrintable(error));
        QList<ChunkRecord> chunks = state.chunks(QStringLiteral("nethvoice"));
        QCOMPARE(chunks.size(), 1);
        QCOMPARE(chunks[0].rows, quint64(400));
        QCOMPARE(chunks[0].checksum, QString());

        ChunkRecord c{QStringLiteral("asteriskcdrdb"), QStringLiteral("cel"), 2, QStringLiteral("400"),
                      QStringLiteral("520"), 120, QStringLiteral("80_asteriskcdrdb_data_000002_cel.sql"),
                      QStringLiteral("123456789012345678901")};
        QVERIFY2(state.addChunk(QStringLiteral("nethvoice"), c), qPrintable(state.lastError()));
        chunks[0].rows = 401;
        chunks[0].checksum = QStringLiteral("42");
        QVERIFY2(state.updateChunk(QStringLiteral("nethvoice"), chunks[0]), qPrintable(state.lastError()));
        state.close();

        StateDb again;
        QVERIFY2(again.open(path, &error), qPrintable(error));
        chunks = again.chunks(QStringLiteral("nethvoice"));
        QCOMPARE(chunks.size(), 2);
        QCOMPARE(chunks[0].rows, quint64(401));
        QCOMPARE(chunks[0].checksum, QStringLiteral("42"));
        QCOMPARE(chunks[0].file, QStringLiteral("80_asteriskcdrdb_data_000001_cel.sql"));
        QCOMPARE(chunks[1].checksum, QStringLiteral("123456789012345678901"));
        QCOMPARE(chunks[1].rows, quint64(120));
    }

    // Syncs recorded by a version that did not measure a session's cost
    // read with none (the estimate's default); new ones keep theirs.
    void syncsOfAnOlderVersionHaveNoSessionCost()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString path = dir.filePath(QStringLiteral("state.db"));
        QVERIFY(writeOldDatabase(path, {QStringLiteral(
                "CREATE TABLE syncs (id INTEGER PRIMARY KEY, app TEXT NOT NULL, time INTEGER NOT NULL,"
                " bytes INTEGER NOT NULL, files INTEGER NOT NULL, duration INTEGER NOT NULL,"
                " warnings INTEGER NOT NULL DEFAULT 0)"),
                                        QStringLiteral("INSERT INTO syncs (app, time, bytes, files, duration, warnings)"
                                                       " VALUES ('nethvoice', 1000, 2000, 3, 4000000, 1)")}));

        StateDb state;
        QString error;
        QVERIFY2(state.open(path, &error), qPrintable(error));
        QList<SyncRecord> syncs = state.syncs(QStringLiteral("nethvoice"));
        QCOMPARE(syncs.size(), 1);
        QCOMPARE(syncs[0].duration, qint64(4000000));
        QCOMPARE(syncs[0].warnings, quint32(1));
        QCOMPARE(syncs[0].session, qint64(0));
        SyncRecord next;
        next.time = 2000;
        next.bytes = 10;
        next.duration = 1500000;
        next.session = 123456;
        QVERIFY2(state.addSync(QStringLiteral("nethvoice"), next), qPrintable(state.lastError()));
        state.close();

        StateDb again;
        QVERIFY2(again.open(path, &error), qPrintable(error));
        syncs = again.syncs(QStringLiteral("nethvoice"));
        QCOMPARE(syncs.size(), 2);
        QCOMPARE(syncs[1].session, qint64(123456));
        QCOMPARE(syncs[1].duration, qint64(1500000));
    }

    // The range checksum: every column, NULL flags, summed (not XORed) MD5 prefixes.
    void rangeDigestSql()
    {
        QCOMPARE(ns8m::rangeDigestSql(QStringLiteral("`d`.`t`"), {QStringLiteral("id"), QStringLiteral("v")},
                                      QStringLiteral("`id` <= 5")),
                 QStringLiteral("SELECT COUNT(*), COALESCE(SUM(CAST(CONV(SUBSTRING(MD5(CONCAT_WS('#', "
                                "CAST(`id` AS BINARY), CAST(`v` AS BINARY), ISNULL(`id`), ISNULL(`v`))), 1, 16), "
                                "16, 10) AS UNSIGNED)), 0) FROM `d`.`t` WHERE `id` <= 5"));
        QCOMPARE(ns8m::rangeDigestSql(QStringLiteral("`d`.`t`"), {}, QStringLiteral("1")),
                 QStringLiteral("SELECT COUNT(*), 0 FROM `d`.`t` WHERE 1"));
    }
};

QTEST_GUILESS_MAIN(TestStateDb)
#include "test_statedb.moc"
