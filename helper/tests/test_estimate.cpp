// App.EstimatedDowntime's parts from what the syncs and Scan measured
// (operations/estimate.h).
#include "operations/estimate.h"

#include <QJsonArray>
#include <QTest>

using namespace ns8m;

namespace {

// Three transfers, one of them staged (rewrite: always a full pass), and
// a 20 MB database without call history (dumped whole at the cutover).
AppProfile profile()
{
    AppProfile p;
    for (const char *id : {"recordings", "voicemail", "phonebook-sources"}) {
        Transfer t;
        t.id = QString::fromLatin1(id);
        p.transfers.append(t);
    }
    p.transfers.last().rewrite.append({QStringLiteral("/old"), QStringLiteral("/new")});
    DatabaseItem db;
    db.name = QStringLiteral("asterisk");
    p.databases.append(db);
    return p;
}

AppRecord record(quint64 files)
{
    AppRecord r;
    r.sourceFiles = files;
    r.scanDetails = QJsonArray{QJsonArray{QStringLiteral("db:asterisk"), QStringLiteral("asterisk"), 0, 20e6}};
    return r;
}

SyncRecord sync(qint64 time, quint64 bytes, quint64 files, double seconds, double session)
{
    SyncRecord s;
    s.time = time;
    s.bytes = bytes;
    s.files = files;
    s.duration = qint64(seconds * 1e6);
    s.session = qint64(session * 1e6);
    return s;
}

double part(const QList<DowntimePart> &parts, const char *id)
{
    for (const DowntimePart &p : parts)
        if (p.id == QLatin1String(id))
            return double(p.usec) / 1e6;
    return -1;
}

} // namespace

class TestEstimate : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void nothingBeforeTheFirstSync()
    {
        QVERIFY(estimateDowntime(profile(), record(10), {}).isEmpty());
    }

    // A first sync at 10 MB/s, then a Sync that copied nothing in 12 s
    // (the whole file list of a million files), its small rsync runs 0.15 s each.
    void builtFromTheMeasuredSessionAndLink()
    {
        const QList<SyncRecord> syncs{sync(1000000000, 100000000, 1000000, 10, 0.2),
                                      sync(2000000000, 5000000, 0, 12, 0.15)};
        const QList<DowntimePart> parts = estimateDowntime(profile(), record(1000000), syncs);
        QStringList ids;
        for (const DowntimePart &p : parts)
            ids.append(p.id);
        QCOMPARE(ids, (QStringList{QStringLiteral("stop"), QStringLiteral("walk"), QStringLiteral("sync"),
                                   QStringLiteral("dump"), QStringLiteral("upload"), QStringLiteral("verify"),
                                   QStringLiteral("import")}));
        // The walk: 0.3 µs an entry (the manifest read back).
        QCOMPARE(part(parts, "walk"), 0.3);
        // One round of sessions (the changed trees and the staged one, two at
        // a time) and nothing changed: the last Sync copied no file.
        QCOMPARE(part(parts, "sync"), 0.15);
        // The database at the link's 10 MB/s after a session.
        QCOMPARE(part(parts, "upload"), 2.15);
        // Four dry runs (three transfers and the dumps' upload) in two rounds,
        // far less than the 11.5 s the full listing took; the tables; two
        // listings of the dumps.
        QCOMPARE(part(parts, "verify"), 0.15 * 2 + 0.1 + 0.15 * 2);
        // /terminate read in a session, then NS8's restore.
        QCOMPARE(part(parts, "import"), 0.15 + 2.0);
        qint64 sum = 0;
        for (const DowntimePart &p : parts)
            sum += p.usec;
        QCOMPARE(downtimeTotal(parts), sum);
    }

    // The slower the sessions measured, the longer every part made of them;
    // the least of the last syncs' counts, not an old one's.
    void theSessionComesFromTheLastSyncs()
    {
        QList<SyncRecord> syncs{sync(1000000000, 100000000, 100, 10, 0.01)};
        for (int i = 1; i <= 5; ++i)
            syncs.append(sync(1000000000 + i * 1000000, 1000, 0, 3, 0.5 + 0.1 * i));
        const QList<DowntimePart> slow = estimateDowntime(profile(), record(1000), syncs);
        QCOMPARE(part(slow, "sync"), 0.6);
        QCOMPARE(part(slow, "import"), 2.6);
        syncs.append(sync(2000000000, 1000, 0, 3, 0.1));
        const QList<DowntimePart> fast = estimateDowntime(profile(), record(1000), syncs);
        QCOMPARE(part(fast, "sync"), 0.1);
        QVERIFY(downtimeTotal(fast) < downtimeTotal(slow));
    }

    // Syncs of a version that did not measure sessions: 0.3 s each.
    void aDefaultSessionBeforeOneWasMeasured()
    {
        const QList<SyncRecord> syncs{sync(1000000000, 100000000, 100, 10, 0)};
        QCOMPARE(part(estimateDowntime(profile(), record(1000), syncs), "import"), 2.3);
    }

    // Changes during presync: the last sync's bytes per second since the
    // one before, over its length plus 10 s, at the link's rate.
    void whatChangesDuringPresyncIsSent()
    {
        const QList<SyncRecord> syncs{sync(1000000000, 100000000, 1000, 10, 0.1),
                                      sync(1100000000, 10000000, 50, 2, 0.1)};
        // 10 MB in 100 s: 0.1 MB/s over 12 s = 1.2 MB, at 10 MB/s.
        QCOMPARE(part(estimateDowntime(profile(), record(1000), syncs), "sync"), 0.1 + 0.12);
    }
};

QTEST_GUILESS_MAIN(TestEstimate)
#include "test_estimate.moc"
