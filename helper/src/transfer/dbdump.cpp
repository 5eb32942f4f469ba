#include "transfer/dbdump.h"

#include "core/paths.h"
#include "core/commands.h"
#include "core/process.h"
#include "core/qtcompat.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QSaveFile>
#include <QFileInfo>
#include <QHash>
#include <QPointer>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QSqlRecord>
#include <QStorageInfo>
#include <QUuid>

#include <optional>

namespace ns8m {

namespace {

// A dump may take long on a big history; a hung server must still end it.
constexpr int kDumpTimeoutMs = 6 * 3600 * 1000;
constexpr int kQueryTimeoutMs = 600 * 1000;
// A cdr row is written when its call ends; the rows of the last minute may
// still be on their way.
constexpr int kEndMarginSeconds = 60;
// Calls longer than this are not looked for by index when a chunk is cut
// (the check of the whole table before the cutover finds them, and the table
// is shipped again whole).
constexpr int kLongestCallDays = 1;
// The tail, cut while the services are stopped, looks this far back.
constexpr int kTailWindowDays = 7;

QString quoteName(const QString &name)
{
    return u'`' + name + u'`';
}

QString sqlString(const QString &s)
{
    QString out = s;
    out.replace(u'\\', QLatin1String("\\\\")).replace(u'\'', QLatin1String("\\'"));
    return u'\'' + out + u'\'';
}

// The column whose growth says a row is new: the key, or the end time.
QString watermarkExpr(const IncrementalTable &t)
{
    if (!t.key.isEmpty())
        return quoteName(t.key);
    return QStringLiteral("(%1 + INTERVAL %2 SECOND)").arg(quoteName(t.start), quoteName(t.duration));
}

QString literal(const IncrementalTable &t, const QString &value)
{
    return t.key.isEmpty() ? sqlString(value) : value;
}

// Rows with the watermark in (low, high]; "" bounds are open.
QString rangeWhere(const IncrementalTable &t, const QString &low, const QString &high, int days = kLongestCallDays)
{
    QStringList parts;
    const QString expr = watermarkExpr(t);
    if (!low.isEmpty()) {
        if (t.key.isEmpty()) // let the start column's index narrow the search
            parts.append(QStringLiteral("%1 > %2 - INTERVAL %3 DAY").arg(quoteName(t.start), sqlString(low)).arg(days));
        parts.append(QStringLiteral("%1 > %2").arg(expr, literal(t, low)));
    }
    if (!high.isEmpty())
        parts.append(QStringLiteral("%1 <= %2").arg(expr, literal(t, high)));
    return parts.isEmpty() ? QStringLiteral("1") : parts.join(QStringLiteral(" AND "));
}

// The end of a shipped range where a late row can still land: the last
// hour of ends for a table without key, the last 10 000 ids otherwise.
QString windowWhere(const IncrementalTable &t, const QString &high)
{
    if (!t.key.isEmpty()) {
        const qint64 h = high.toLongLong();
        return QStringLiteral("%1 > %2 AND %1 <= %3").arg(quoteName(t.key)).arg(qMax<qint64>(0, h - 10000)).arg(h);
    }
    return QStringLiteral("%1 > %2 - INTERVAL %3 DAY - INTERVAL 1 HOUR AND %4 > %2 - INTERVAL 1 HOUR AND %4 <= %2")
        .arg(quoteName(t.start), sqlString(high)).arg(kLongestCallDays).arg(watermarkExpr(t));
}

// What the check before the stop found in that window (count and
// checksum), by "app/db.table@high": after the stop only the window is
// taken again.  In memory: a helper restarted in between checks the whole
// last range instead.
QHash<QString, QPair<quint64, QString>> &verifiedWindows()
{
    static QHash<QString, QPair<quint64, QString>> windows;
    return windows;
}

QString windowKey(const QString &app, const QString &db, const QString &table, const QString &high)
{
    return QStringLiteral("%1/%2.%3@%4").arg(app, db, table, high);
}

// A range as the log shows it: (low, high].
QString rangeText(const ChunkRecord &c)
{
    return QStringLiteral("(%1, %2]").arg(c.low.isEmpty() ? QStringLiteral("-∞") : c.low, c.high);
}

QString shownChecksum(const QString &checksum)
{
    return checksum.isEmpty() ? QStringLiteral("-") : checksum;
}

} // namespace

QString rangeDigestSql(const QString &table, const QStringList &columns, const QString &where, const QString &label)
{
    // CAST AS BINARY: the bytes of each value, whatever its collation (no
    // "illegal mix" between columns); ISNULL tells NULL from "" (CONCAT_WS
    // skips NULLs).
    QStringList values, nulls;
    for (const QString &c : columns) {
        values.append(QStringLiteral("CAST(%1 AS BINARY)").arg(quoteName(c)));
        nulls.append(QStringLiteral("ISNULL(%1)").arg(quoteName(c)));
    }
    const QString digest = columns.isEmpty()
                               ? QStringLiteral("0")
                               : QStringLiteral("COALESCE(SUM(CAST(CONV(SUBSTRING(MD5(CONCAT_WS('#', %1, %2)), 1, 16), 16, 10) "
                                                "AS UNSIGNED)), 0)")
                                     .arg(values.join(QStringLiteral(", ")), nulls.join(QStringLiteral(", ")));
    return QStringLiteral("SELECT %1COUNT(*), %2 FROM %3 WHERE %4")
        .arg(label.isEmpty() ? QString() : label + QStringLiteral(", "), digest, table, where);
}

struct DbDumper::Run {
    int nextSeq = 1;
    QList<ChunkRecord> chunks;
    Texts notes; // what the summary tells besides the counts
    int shipped = 0;
    quint64 rows = 0;
    QElapsedTimer clock;

    bool ofTable(const ChunkRecord &c, const QString &db, const QString &table) const
    {
        return c.database == db && c.table == table;
    }
    // The table's last chunk, and the rows of all its chunks.
    std::optional<ChunkRecord> last(const QString &db, const QString &table) const
    {
        std::optional<ChunkRecord> l;
        for (const ChunkRecord &c : chunks)
            if (ofTable(c, db, table))
                l = c;
        return l;
    }
    quint64 shippedRows(const QString &db, const QString &table) const
    {
        quint64 n = 0;
        for (const ChunkRecord &c : chunks)
            if (ofTable(c, db, table))
                n += c.rows;
        return n;
    }
};

DbDumper::DbDumper(const AppProfile &profile, const QString &root, const QString &workDir, StateDb *state,
                   const LogContext &log, QObject *parent)
    : QObject(parent), m_profile(profile), m_root(root), m_workDir(workDir), m_state(state), m_log(log)
{
    m_defaults = underRoot(root, profile.dbCredentials);
}

DbDumper::~DbDumper() = default;

QString DbDumper::restoreDir() const
{
    return m_workDir + QStringLiteral("/restore/");
}

QString DbDumper::backgroundDir() const
{
    return m_workDir + QStringLiteral("/restore_background/");
}

void DbDumper::forget(const QString &workDir)
{
    QDir(workDir).removeRecursively();
}

QString DbDumper::chunkName(const DatabaseItem &db, int seq, const QString &table) const
{
    QString stem = db.data;
    if (stem.endsWith(QLatin1String(".sql")))
        stem.chop(4);
    return QStringLiteral("%1_%2_%3.sql").arg(stem).arg(seq, 6, 10, QLatin1Char('0')).arg(table);
}

void DbDumper::runSteps(const std::shared_ptr<QList<Step>> &steps, int index, Next done)
{
    if (index >= steps->size())
        return done({});
    emit progress(double(index) / double(steps->size()));
    QPointer<DbDumper> self(this);
    (*steps)[index]([self, steps, index, done](const Text &error) {
        if (!self)
            return;
        if (!error.isEmpty())
            return done(error);
        self->runSteps(steps, index + 1, done);
    });
}

void DbDumper::query(const QString &sql, std::function<void(const QList<QStringList> &, const Text &)> done,
                     bool script)
{
    // --defaults-file: the credentials come from the option file, never argv.
    QStringList argv = commands::mysqlQuery(m_defaults, sql);
    const QString file = m_workDir + QStringLiteral("/query.sql");
    if (script) {
        QDir().mkpath(m_workDir);
        QFile f(file);
        if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate) || f.write(sql.toUtf8()) < 0)
            return done({}, Text("dump.write", "Cannot write %1: %2.").arg(file, f.errorString()));
        argv = commands::mysqlScript(m_defaults, file);
    }
    runProcess(this, argv, [done, sql, file, script](const ProcessResult &r) {
        if (script)
            QFile::remove(file);
        if (!r.ok())
            return done({}, Text("dump.query.refused", "MariaDB refused \"%1\": %2")
                                .arg(sql.left(200), QString::fromUtf8(r.err).trimmed()));
        QList<QStringList> rows;
        for (const QByteArray &line : r.out.split('\n'))
            if (!line.isEmpty())
                rows.append(QString::fromUtf8(line).split(u'\t'));
        done(rows, {});
    }, {}, kQueryTimeoutMs);
}

void DbDumper::dump(const QStringList &args, const QString &path, const QString &header, Next done)
{
    // Written under a temporary name and renamed when whole: a file under
    // its final name is always complete.
    const QString tmp = path + QStringLiteral(".part");
    QFile::remove(tmp);
    {
        QFile f(tmp);
        if (!f.open(QIODevice::WriteOnly) || f.write(header.toUtf8()) < 0) {
            return done(Text("dump.write", "Cannot write %1: %2.").arg(tmp, f.errorString()));
        }
    }
    QElapsedTimer clock;
    clock.start();
    const LogContext log = m_log;
    runProcessToFile(this, args, tmp, [tmp, path, done, clock, log](const ProcessResult &r) {
        if (!r.ok()) {
            QFile::remove(tmp);
            return done(Text("dump.mysqldump", "mysqldump failed (exit code %1): %2")
                            .arg(r.exitCode)
                            .arg(QString::fromUtf8(r.err).trimmed().right(400)));
        }
        QFile::remove(path);
        if (!QFile::rename(tmp, path))
            return done(Text("dump.rename", "Cannot rename %1.").arg(tmp));
        Log::info(QStringLiteral("dumped %1 (%2) in %3")
                      .arg(QFileInfo(path).fileName(), humanBytes(quint64(QFileInfo(path).size())), humanDuration(clock.elapsed())),
                  log);
        done({});
    }, kDumpTimeoutMs);
}

void DbDumper::readSchema(Next done)
{
    QStringList names, history;
    for (const DatabaseItem &d : m_profile.databases) {
        names.append(sqlString(d.name));
        for (const IncrementalTable &t : d.incremental)
            history.append(sqlString(t.table));
    }
    if (names.isEmpty())
        return done({});
    // The tables and databases that exist; the call history's columns, in
    // order, for its checksums.
    QString sql = QStringLiteral("SELECT 'T', table_schema, table_name FROM information_schema.TABLES WHERE table_schema IN (%1) "
                                 "UNION SELECT 'T', schema_name, '' FROM information_schema.SCHEMATA WHERE schema_name IN (%1)")
                      .arg(names.join(u','));
    if (!history.isEmpty())
        sql += QStringLiteral("; SELECT 'C', table_schema, table_name, column_name FROM information_schema.COLUMNS "
                              "WHERE table_schema IN (%1) AND table_name IN (%2) "
                              "ORDER BY table_schema, table_name, ORDINAL_POSITION")
                   .arg(names.join(u','), history.join(u','));
    QPointer<DbDumper> self(this);
    query(sql, [self, done](const QList<QStringList> &rows, const Text &error) {
        if (!self)
            return;
        if (!error.isEmpty())
            return done(error);
        self->m_databases.clear();
        self->m_tables.clear();
        self->m_columns.clear();
        for (const QStringList &r : rows) {
            const QString name = r.value(1) + u'.' + r.value(2);
            if (r.value(0) == u"C")
                self->m_columns[name].append(r.value(3));
            self->m_databases.insert(r.value(1));
            if (r.value(0) == u"T" && !r.value(2).isEmpty())
                self->m_tables.insert(name);
        }
        done({});
    });
}

void DbDumper::tableChecksums(ChecksumsDone done)
{
    QStringList names;
    for (const DatabaseItem &d : m_profile.databases)
        names.append(sqlString(d.name));
    if (names.isEmpty())
        return done({}, {});
    QPointer<DbDumper> self(this);
    query(QStringLiteral("SELECT c.TABLE_SCHEMA, c.TABLE_NAME, c.COLUMN_NAME FROM information_schema.COLUMNS c"
                         " JOIN information_schema.TABLES t ON t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME"
                         " WHERE t.TABLE_TYPE = 'BASE TABLE' AND c.TABLE_SCHEMA IN (%1)"
                         " ORDER BY c.TABLE_SCHEMA, c.TABLE_NAME, c.ORDINAL_POSITION")
              .arg(names.join(u',')),
          [self, done](const QList<QStringList> &rows, const Text &error) {
        if (!self)
            return;
        if (!error.isEmpty())
            return done({}, error);
        self->checksumTables(rows, done);
    });
}

// One SELECT per table inside one snapshot: its rows' count and content
// digest (rangeDigestSql).  A call-history table with shipped chunks is
// digested over its tail and the end of its last range (windowWhere): the
// ranges were checksummed before the stop and that window again after it,
// and nothing writes since, so the downtime does not grow with the history.
void DbDumper::checksumTables(const QList<QStringList> &columns, const ChecksumsDone &done)
{
    QMap<QString, QStringList> tables; // "db.table" → its columns
    for (const QStringList &c : columns)
        if (c.size() >= 3)
            tables[c.at(0) + u'.' + c.at(1)].append(c.at(2));
    if (tables.isEmpty())
        return done({}, {});
    // Chosen at the first call (the dump's start) and kept: a table the
    // cutover dumps whole is still compared the same way afterwards.
    if (!m_digestFrom) {
        QHash<QString, IncrementalTable> incremental;
        for (const DatabaseItem &d : m_profile.databases)
            for (const IncrementalTable &t : d.incremental)
                incremental.insert(d.name + u'.' + t.table, t);
        m_digestFrom.emplace();
        for (const ChunkRecord &c : m_state->chunks(m_profile.id)) { // by seq: the last one wins
            const QString key = c.database + u'.' + c.table;
            if (incremental.contains(key)) {
                const IncrementalTable &t = incremental[key];
                m_digestFrom->insert(key, QStringLiteral("(%1) OR (%2)").arg(windowWhere(t, c.high),
                                                                            rangeWhere(t, c.high, QString(), kTailWindowDays)));
            }
        }
    }
    const QHash<QString, QString> &shippedFrom = *m_digestFrom;
    QStringList sql{QStringLiteral("START TRANSACTION WITH CONSISTENT SNAPSHOT;")};
    for (auto it = tables.constBegin(); it != tables.constEnd(); ++it) {
        const QString table = quoteName(it.key().section(u'.', 0, 0)) + u'.' + quoteName(it.key().section(u'.', 1));
        sql.append(rangeDigestSql(table, it.value(), shippedFrom.value(it.key(), QStringLiteral("1")), sqlString(it.key()))
                   + u';');
    }
    sql.append(QStringLiteral("COMMIT;"));
    // Hundreds of tables pass the 128 KiB a single argument may have: a script.
    query(sql.join(u'\n'), [done](const QList<QStringList> &rows, const Text &error) {
        TableChecksums sums;
        for (const QStringList &r : rows)
            if (r.size() >= 3)
                sums.insert(r.at(0), qMakePair(r.at(1).toULongLong(), r.at(2)));
        done(sums, error);
    }, true);
}

void DbDumper::check(Done done)
{
    QPointer<DbDumper> self(this);
    readSchema([self, done](const Text &error) {
        if (!self)
            return;
        if (!error.isEmpty())
            return done(Failure::failed(error).after(Text("dump.check.unreadable", "MariaDB on NS7 cannot be read. Check "
                                                                                   "that it runs and that %1 holds valid "
                                                                                   "credentials.")
                                                         .arg(self->m_profile.dbCredentials)),
                        {});
        QStringList missing;
        for (const DatabaseItem &d : self->m_profile.databases)
            if (!d.optional && !self->m_databases.contains(d.name))
                missing.append(d.name);
        if (!missing.isEmpty())
            return done(Failure::failed(Text("dump.check.missing", "The database(s) %1 do not exist on NS7: %2 cannot be "
                                                                   "migrated without them.")
                                            .arg(missing.join(QStringLiteral(", ")), self->m_profile.name)),
                        {});
        QDir().mkpath(self->m_workDir);
        done({}, {});
    });
}

std::shared_ptr<DbDumper::Run> DbDumper::newRun()
{
    auto run = std::make_shared<Run>();
    run->clock.start();
    run->chunks = m_state->chunks(m_profile.id);
    for (const ChunkRecord &c : std::as_const(run->chunks))
        run->nextSeq = qMax(run->nextSeq, c.seq + 1);
    removeUnrecorded();
    return run;
}

void DbDumper::removeUnrecorded()
{
    // Keep exactly the recorded chunks: a tail or a whole-table dump of a
    // cutover that did not complete is made again.
    QSet<QString> keep;
    for (const ChunkRecord &c : m_state->chunks(m_profile.id))
        keep.insert(c.file);
    QDir bg(backgroundDir());
    for (const QString &name : bg.entryList(QDir::Files | QDir::Hidden))
        if (!keep.contains(name))
            bg.remove(name);
}

// One call-history table while a step works on it: what the step began with.
struct DbDumper::HistoryTable {
    DatabaseItem db;
    IncrementalTable t;
    std::shared_ptr<Run> run;
    std::optional<ChunkRecord> last; // the table's last chunk
    QString table;                   // `db`.`table`, for SQL
    Next next;
};

DbDumper::Step DbDumper::tableStep(const DatabaseItem &db, const IncrementalTable &t, const std::shared_ptr<Run> &run,
                                   TableWork work)
{
    QPointer<DbDumper> self(this);
    return [self, db, t, run, work](Next next) {
        if (!self)
            return;
        if (!self->m_tables.contains(db.name + u'.' + t.table))
            return next({});
        auto h = std::make_shared<HistoryTable>();
        h->db = db;
        h->t = t;
        h->run = run;
        h->last = run->last(db.name, t.table);
        h->table = quoteName(db.name) + u'.' + quoteName(t.table);
        h->next = next;
        (self.data()->*work)(h);
    };
}

DbDumper::Step DbDumper::shipTableStep(const DatabaseItem &db, const IncrementalTable &t, const std::shared_ptr<Run> &run)
{
    return tableStep(db, t, run, &DbDumper::shipTable);
}

// The rows after the last chunk, up to the key or the end time of now.
void DbDumper::shipTable(const std::shared_ptr<HistoryTable> &h)
{
    const IncrementalTable &t = h->t;
    const QString low = h->last ? h->last->high : QString();
    const QString highSql = t.key.isEmpty()
                                ? QStringLiteral("SELECT DATE_FORMAT(NOW() - INTERVAL %1 SECOND, '%Y-%m-%d %H:%i:%s')").arg(kEndMarginSeconds)
                                : QStringLiteral("SELECT COALESCE(MAX(%1), 0) FROM %2").arg(quoteName(t.key), h->table);
    QPointer<DbDumper> self(this);
    query(highSql, [self, h, low](const QList<QStringList> &rows, const Text &error) {
        if (!self)
            return;
        if (!error.isEmpty())
            return h->next(error);
        const QString high = rows.value(0).value(0);
        const bool newer = h->t.key.isEmpty() ? (low.isEmpty() || high > low)
                                              : high.toULongLong() > low.toULongLong();
        if (high.isEmpty() || !newer)
            return h->next({});
        self->countRange(h, low, high);
    });
}

void DbDumper::countRange(const std::shared_ptr<HistoryTable> &h, const QString &low, const QString &high)
{
    const QString where = rangeWhere(h->t, low, high);
    // Counted and checksummed before the dump: a row that arrives, changes
    // or goes in between makes the file differ from the record, and the
    // check before the cutover then ships the range again rather than trust
    // it: a change is never hidden.
    digestRows(h, where, [this, h, low, high, where](quint64 n, const QString &checksum) {
        if (n == 0)
            return h->next({});
        ChunkRecord c;
        c.database = h->db.name;
        c.table = h->t.table;
        c.low = low;
        c.high = high;
        c.rows = n;
        c.checksum = checksum;
        shipChunk(h, c, where);
    });
}

QString DbDumper::digestSql(const std::shared_ptr<HistoryTable> &h, const QString &where) const
{
    return rangeDigestSql(h->table, m_columns.value(h->db.name + u'.' + h->t.table), where);
}

// The count and checksum of the rows of H's table matching WHERE; a failure
// ends H's step.
void DbDumper::digestRows(const std::shared_ptr<HistoryTable> &h, const QString &where,
                          std::function<void(quint64, const QString &)> digested)
{
    QPointer<DbDumper> self(this);
    query(digestSql(h, where), [self, h, digested](const QList<QStringList> &rows, const Text &err) {
        if (!self)
            return;
        if (!err.isEmpty())
            return h->next(err);
        digested(rows.value(0).value(0).toULongLong(), rows.value(0).value(1));
    });
}

// C's rows (WHERE) as the next chunk file, recorded once it is whole.
void DbDumper::shipChunk(const std::shared_ptr<HistoryTable> &h, ChunkRecord c, const QString &where)
{
    const DatabaseItem &db = h->db;
    const IncrementalTable &t = h->t;
    c.seq = h->run->nextSeq++;
    c.file = chunkName(db, c.seq, t.table);
    const QStringList args = commands::mysqldumpTableRows(m_defaults, db.name, t.table, where);
    QDir().mkpath(backgroundDir());
    QPointer<DbDumper> self(this);
    dump(args, backgroundDir() + c.file,
         QStringLiteral("-- %1.%2, rows with %3 in %4\nUSE %5;\n")
             .arg(db.name, t.table, watermarkExpr(t), rangeText(c), quoteName(db.name)),
         [self, h, c](const Text &e) {
        if (!self)
            return;
        if (!e.isEmpty())
            return h->next(e);
        if (!self->m_state->addChunk(self->m_profile.id, c))
            return h->next(Text("dump.record", "Cannot record %1: %2.").arg(c.file, self->m_state->lastError()));
        h->run->chunks.append(c);
        h->run->shipped++;
        h->run->rows += c.rows;
        Log::info(QStringLiteral("call history: %1 new rows of %2.%3 shipped as %4")
                      .arg(c.rows).arg(c.database, c.table, c.file),
                  self->m_log);
        h->next({});
    });
}

DbDumper::Step DbDumper::verifyStep(const DatabaseItem &db, const IncrementalTable &t, const std::shared_ptr<Run> &run)
{
    return tableStep(db, t, run, &DbDumper::verifyTable);
}

void DbDumper::verifyTable(const std::shared_ptr<HistoryTable> &h)
{
    if (!h->last)
        return h->next({});
    QList<ChunkRecord> ranges;
    for (const ChunkRecord &c : std::as_const(h->run->chunks))
        if (h->run->ofTable(c, h->db.name, h->t.table))
            ranges.append(c);
    // In one snapshot, while NS7 still works (these scan the whole table):
    // the rows up to the last watermark, for what no range can see, then
    // each shipped range's count and checksum.  Through a file: the SQL
    // grows with the number of chunks.
    QStringList sql{QStringLiteral("START TRANSACTION WITH CONSISTENT SNAPSHOT"),
                    QStringLiteral("SELECT COUNT(*) FROM %1").arg(h->table),
                    QStringLiteral("SELECT COUNT(*) FROM %1 WHERE %2")
                        .arg(h->table, rangeWhere(h->t, h->last->high, QString(), kTailWindowDays))};
    for (const ChunkRecord &c : std::as_const(ranges))
        sql.append(digestSql(h, rangeWhere(h->t, c.low, c.high)));
    // ...and the end of the last range, which the cutover takes again.
    sql.append(digestSql(h, windowWhere(h->t, h->last->high)));
    sql.append(QStringLiteral("COMMIT;\n"));
    QElapsedTimer clock;
    clock.start();
    QPointer<DbDumper> self(this);
    query(sql.join(QStringLiteral(";\n")), [self, h, ranges, clock](const QList<QStringList> &rows, const Text &err) {
        if (!self)
            return;
        if (!err.isEmpty())
            return h->next(err);
        if (rows.size() != ranges.size() + 3)
            return h->next(Text("dump.verify.answers", "MariaDB gave %1 answers to the check of %2.%3, not %4.")
                               .arg(int(rows.size()))
                               .arg(h->db.name, h->t.table)
                               .arg(int(ranges.size()) + 3));
        const QStringList window = rows.last();
        verifiedWindows().insert(windowKey(self->m_profile.id, h->db.name, h->t.table, h->last->high),
                                 qMakePair(window.value(0).toULongLong(), window.value(1)));
        Log::info(QStringLiteral("call history: %1.%2: %3 shipped ranges checksummed in one snapshot in %4 ms")
                      .arg(h->db.name, h->t.table)
                      .arg(ranges.size())
                      .arg(clock.elapsed()),
                  self->m_log);
        self->compareRanges(h, ranges, rows);
    }, true);
}

void DbDumper::compareRanges(const std::shared_ptr<HistoryTable> &h, const QList<ChunkRecord> &ranges,
                             const QList<QStringList> &rows)
{
    const DatabaseItem &db = h->db;
    const IncrementalTable &t = h->t;
    const quint64 total = rows.value(0).value(0).toULongLong();
    const quint64 after = rows.value(1).value(0).toULongLong();
    quint64 covered = 0;
    QList<ChunkRecord> changed;
    for (int i = 0; i < ranges.size(); ++i) {
        ChunkRecord now = ranges[i];
        now.rows = rows[i + 2].value(0).toULongLong();
        now.checksum = rows[i + 2].value(1);
        covered += now.rows;
        if (now.rows == ranges[i].rows && now.checksum == ranges[i].checksum && !now.checksum.isEmpty())
            continue;
        Log::warning(QStringLiteral("call history: %1.%2 range %3 changed since it was shipped: %4 rows (checksum %5) "
                                    "then, %6 rows (checksum %7) now")
                         .arg(db.name, t.table, rangeText(now))
                         .arg(ranges[i].rows)
                         .arg(shownChecksum(ranges[i].checksum))
                         .arg(now.rows)
                         .arg(shownChecksum(now.checksum)),
                     m_log);
        changed.append(now);
    }
    if (total < after || total - after != covered) {
        // Rows that no range holds (a cdr call longer than a day): the
        // table goes again whole.
        const Text error = dropChunks(db, t, h->run,
                                      Text("dump.note.reshipped", "%1.%2 was shipped again whole: the table "
                                                                  "has %3 rows up to the last watermark, the "
                                                                  "shipped chunks %4.")
                                          .arg(db.name, t.table)
                                          .arg(total - qMin(total, after))
                                          .arg(covered));
        if (!error.isEmpty())
            return h->next(error);
        return shipTableStep(db, t, h->run)(h->next);
    }
    if (changed.isEmpty()) {
        Log::info(QStringLiteral("call history: %1.%2 checked: the %3 rows of its %4 shipped ranges are unchanged")
                      .arg(db.name, t.table)
                      .arg(covered)
                      .arg(ranges.size()),
                  m_log);
        return h->next({});
    }
    const Text note = Text("dump.note.ranges", "%1 of the %2 shipped ranges of %3.%4 had changed on NS7 and were "
                                               "shipped again.")
                          .arg(int(changed.size()))
                          .arg(int(ranges.size()))
                          .arg(db.name, t.table);
    h->run->notes.append(note);
    reshipRanges(h, changed, 0);
}

void DbDumper::reshipRanges(const std::shared_ptr<HistoryTable> &h, const QList<ChunkRecord> &changed, int index)
{
    if (index >= changed.size())
        return h->next({});
    const ChunkRecord &c = changed[index];
    const QString where = rangeWhere(h->t, c.low, c.high);
    QPointer<DbDumper> self(this);
    // Under the same name, atomically (dump()); recorded once the file is
    // whole: a failure in between leaves the old record, which still
    // differs from NS7, so the next check ships the range again.
    dump(commands::mysqldumpTableRows(m_defaults, h->db.name, h->t.table, where), backgroundDir() + c.file,
         QStringLiteral("-- %1.%2, rows with %3 in %4 (shipped again)\nUSE %5;\n")
             .arg(h->db.name, h->t.table, watermarkExpr(h->t), rangeText(c), quoteName(h->db.name)),
         [self, h, changed, index](const Text &e) {
        if (!self)
            return;
        if (!e.isEmpty())
            return h->next(e);
        const ChunkRecord &again = changed[index];
        if (!self->m_state->updateChunk(self->m_profile.id, again))
            return h->next(Text("dump.record", "Cannot record %1: %2.").arg(again.file, self->m_state->lastError()));
        for (ChunkRecord &r : h->run->chunks)
            if (r.seq == again.seq)
                r = again;
        Log::info(QStringLiteral("call history: %1.%2 range %3 shipped again as %4 (%5 rows, checksum %6)")
                      .arg(again.database, again.table, rangeText(again), again.file)
                      .arg(again.rows)
                      .arg(again.checksum),
                  self->m_log);
        self->reshipRanges(h, changed, index + 1);
    });
}

Text DbDumper::dropChunks(const DatabaseItem &db, const IncrementalTable &t, const std::shared_ptr<Run> &run,
                          const Text &note)
{
    if (!note.isEmpty()) {
        Log::warning(QStringLiteral("call history: ") + note.english(), m_log);
        run->notes.append(note);
    }
    QDir bg(backgroundDir());
    for (const ChunkRecord &c : std::as_const(run->chunks))
        if (run->ofTable(c, db.name, t.table))
            bg.remove(c.file);
    if (!m_state->removeChunks(m_profile.id, db.name, t.table))
        return Text("dump.state", "Cannot update the state database: %1.").arg(m_state->lastError());
    removeIf(run->chunks, [&](const ChunkRecord &c) { return run->ofTable(c, db.name, t.table); });
    return {};
}

void DbDumper::shipHistory(Done done, bool verify)
{
    const std::shared_ptr<Run> run = newRun();
    auto steps = std::make_shared<QList<Step>>();
    QPointer<DbDumper> self(this);
    steps->append([self](Next next) { self->readSchema(next); });
    for (const DatabaseItem &d : m_profile.databases) {
        for (const IncrementalTable &t : d.incremental) {
            steps->append(shipTableStep(d, t, run));
            if (verify)
                steps->append(verifyStep(d, t, run));
        }
    }
    runSteps(steps, 0, [self, run, done](const Text &error) {
        if (!self)
            return;
        emit self->progress(1.0);
        if (!error.isEmpty())
            return done(Failure::failed(error).after(Text("dump.history.failed", "Shipping the call history failed.")), {});
        Texts said{run->shipped == 0 ? Text("dump.history.none", "No new call history.")
                                     : Text("dump.history.rows", "%1 new call-history rows in %2 file(s).")
                                           .arg(run->rows)
                                           .arg(run->shipped)};
        done({}, said + run->notes);
    });
}

DbDumper::Step DbDumper::tailStep(const DatabaseItem &db, const IncrementalTable &t, const std::shared_ptr<Run> &run)
{
    return tableStep(db, t, run, &DbDumper::dumpTail);
}

// The rows after the last chunk; the whole table when nothing was shipped.
void DbDumper::dumpTail(const std::shared_ptr<HistoryTable> &h)
{
    if (!h->last)
        return dumpWhole(h, {});
    const DatabaseItem &db = h->db;
    const IncrementalTable &t = h->t;
    const QString tailWhere = rangeWhere(t, h->last->high, QString(), kTailWindowDays);
    const QString tailFile = chunkName(db, h->run->nextSeq++, t.table);
    const QStringList args = commands::mysqldumpTableRows(m_defaults, db.name, t.table, tailWhere);
    QPointer<DbDumper> self(this);
    dump(args, backgroundDir() + tailFile,
         QStringLiteral("-- %1.%2, rows with %3 after %4 (the tail)\nUSE %5;\n")
             .arg(db.name, t.table, watermarkExpr(t), h->last->high, quoteName(db.name)),
         [self, h, tailFile](const Text &e) {
        if (!self)
            return;
        if (!e.isEmpty())
            return h->next(e);
        self->checkTail(h, tailFile);
    });
}

// After the tail's dump (TAILFILE): the last range still holds what it held,
// or the tail goes and the table is dumped whole.
void DbDumper::checkTail(const std::shared_ptr<HistoryTable> &h, const QString &tailFile)
{
    // The ranges before the last one were checked (and shipped again where
    // they differed) before the stop (verifyStep); what may still have
    // changed since is the last range, where a late row can land: its count
    // and checksum are taken again, after the tail's dump, whole (a range
    // is one sync's worth of rows).
    // Checked before the stop (verifyTable), only the end of the last range,
    // where a late row can still land, is taken again: the cutover does not
    // grow with the history (the first range can hold all of it).
    ChunkRecord last = *h->last;
    const QString key = windowKey(m_profile.id, h->db.name, h->t.table, last.high);
    const bool windowOnly = verifiedWindows().contains(key);
    if (windowOnly) {
        last.rows = verifiedWindows().value(key).first;
        last.checksum = verifiedWindows().value(key).second;
    }
    const QString where = windowOnly ? windowWhere(h->t, last.high) : rangeWhere(h->t, last.low, last.high);
    digestRows(h, where, [this, h, tailFile, last, windowOnly](quint64 now, const QString &checksum) {
        const DatabaseItem &db = h->db;
        const IncrementalTable &t = h->t;
        if (now != last.rows || checksum != last.checksum || checksum.isEmpty()) {
            QFile::remove(backgroundDir() + tailFile);
            return dumpWhole(h, Text("dump.note.whole", "%1.%2 was dumped whole: its last shipped range holds %3 rows "
                                                        "(checksum %4) now, %5 rows (checksum %6) when it was shipped.")
                                    .arg(db.name, t.table)
                                    .arg(now)
                                    .arg(shownChecksum(checksum))
                                    .arg(last.rows)
                                    .arg(shownChecksum(last.checksum)));
        }
        Log::info(QStringLiteral("call history: %1.%2: the tail is dumped, %3 the last shipped range %4 is unchanged "
                                 "(%5 rows, checksum %6)")
                      .arg(db.name, t.table, windowOnly ? QStringLiteral("the end of") : QStringLiteral("all of"), rangeText(last))
                      .arg(now)
                      .arg(checksum),
                  m_log);
        h->next({});
    });
}

// The whole table, when nothing was shipped or the chunks miss rows.
void DbDumper::dumpWhole(const std::shared_ptr<HistoryTable> &h, const Text &why)
{
    const DatabaseItem &db = h->db;
    const IncrementalTable &t = h->t;
    const Text error = dropChunks(db, t, h->run, why);
    if (!error.isEmpty())
        return h->next(error);
    dump(commands::mysqldumpTableRows(m_defaults, db.name, t.table), backgroundDir() + chunkName(db, h->run->nextSeq++, t.table),
         QStringLiteral("-- %1.%2, every row\nUSE %3;\n").arg(db.name, t.table, quoteName(db.name)), h->next);
}

void DbDumper::dumpAll(Done done)
{
    const std::shared_ptr<Run> run = newRun();
    QDir(restoreDir()).removeRecursively();
    QDir().mkpath(restoreDir());
    QDir().mkpath(backgroundDir());
    auto steps = std::make_shared<QList<Step>>();
    QPointer<DbDumper> self(this);
    steps->append([self](Next next) { self->readSchema(next); });
    for (const DatabaseItem &d : m_profile.databases) {
        steps->append([self, d](Next next) {
            if (!self)
                return;
            if (!self->m_databases.contains(d.name))
                return next(d.optional ? Text() : Text("dump.missing", "The database %1 does not exist.").arg(d.name));
            self->dump(commands::mysqldumpSchema(self->m_defaults, d.name), self->restoreDir() + d.structure, QString(), next);
        });
    }
    for (const DatabaseItem &d : m_profile.databases) {
        steps->append([self, d](Next next) {
            if (!self || !self->m_databases.contains(d.name))
                return next({});
            QStringList ignore;
            for (const IncrementalTable &t : d.incremental)
                ignore.append(t.table);
            const QStringList args = commands::mysqldumpData(self->m_defaults, d.name, ignore);
            const QString dir = d.dataDestination.isEmpty() ? self->restoreDir() : self->backgroundDir();
            self->dump(args, dir + d.data, QString(), next);
        });
        for (const IncrementalTable &t : d.incremental)
            steps->append(tailStep(d, t, run));
    }
    for (const SqliteDump &s : m_profile.sqlite) {
        steps->append([self, s](Next next) {
            if (!self)
                return;
            QString error;
            const QString sql = self->sqliteDump(s, &error);
            if (!error.isEmpty())
                return next(Text("dump.sqlite", "Cannot dump %1: %2.").arg(s.path, error));
            QFile f(self->restoreDir() + QFileInfo(s.destination).fileName());
            if (!f.open(QIODevice::WriteOnly) || f.write(sql.toUtf8()) < 0)
                return next(Text("dump.write", "Cannot write %1: %2.").arg(f.fileName(), f.errorString()));
            Log::info(QStringLiteral("dumped %1 (%2) from %3").arg(QFileInfo(f.fileName()).fileName(), humanBytes(quint64(f.size())), s.path), self->m_log);
            next({});
        });
    }
    runSteps(steps, 0, [self, run, done](const Text &error) {
        if (!self)
            return;
        emit self->progress(1.0);
        if (!error.isEmpty())
            return done(Failure::failed(error).after(Text("dump.failed", "The database dump failed.")), {});
        done({}, Texts{Text("dump.done", "Databases dumped in %1.").arg(humanDuration(run->clock.elapsed()))} + run->notes);
    });
}

QString DbDumper::sqliteDump(const SqliteDump &s, QString *error) const
{
    const QString path = underRoot(m_root, s.path);
    if (!QFileInfo::exists(path)) {
        *error = QStringLiteral("%1 does not exist").arg(s.path);
        return {};
    }
    const QString conn = QStringLiteral("sqlite-") + withoutBraces(QUuid::createUuid());
    QString out;
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), conn);
        db.setDatabaseName(path);
        db.setConnectOptions(QStringLiteral("QSQLITE_OPEN_READONLY;QSQLITE_BUSY_TIMEOUT=5000"));
        if (!db.open()) {
            *error = QStringLiteral("cannot open %1: %2").arg(s.path, db.lastError().text());
        } else {
            QSqlQuery q(db);
            q.prepare(QStringLiteral("SELECT sql FROM sqlite_master WHERE type='table' AND name=?"));
            q.addBindValue(s.table);
            if (!q.exec() || !q.next()) {
                *error = QStringLiteral("%1 has no table %2").arg(s.path, s.table);
            } else {
                out = QStringLiteral("PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\nDROP TABLE IF EXISTS \"%1\";\n%2;\n")
                          .arg(s.table, q.value(0).toString());
                QSqlQuery rows(db);
                rows.setForwardOnly(true);
                quint64 kept = 0, dropped = 0;
                if (!rows.exec(QStringLiteral("SELECT * FROM \"%1\"").arg(s.table))) {
                    *error = QStringLiteral("cannot read %1: %2").arg(s.path, rows.lastError().text());
                } else {
                    const QSqlRecord rec = rows.record();
                    const int keyColumn = rec.indexOf(QStringLiteral("key")) >= 0 ? rec.indexOf(QStringLiteral("key")) : 0;
                    while (rows.next()) {
                        const QString key = rows.value(keyColumn).toString();
                        bool skip = false;
                        for (const QString &prefix : s.excludeKeyPrefixes)
                            skip = skip || key.startsWith(prefix);
                        if (skip) {
                            ++dropped;
                            continue;
                        }
                        QStringList values;
                        for (int i = 0; i < rec.count(); ++i) {
                            const QVariant v = rows.value(i);
                            if (v.isNull())
                                values.append(QStringLiteral("NULL"));
                            else if (v.userType() == QMetaType::LongLong || v.userType() == QMetaType::Int || v.userType() == QMetaType::Double)
                                values.append(v.toString());
                            else
                                values.append(u'\'' + v.toString().replace(u'\'', QLatin1String("''")) + u'\'');
                        }
                        out += QStringLiteral("INSERT INTO \"%1\" VALUES(%2);\n").arg(s.table, values.join(u','));
                        ++kept;
                    }
                    out += QStringLiteral("COMMIT;\n");
                    Log::info(QStringLiteral("%1: %2 entries kept, %3 volatile ones left out").arg(s.title).arg(kept).arg(dropped), m_log);
                }
            }
            db.close();
        }
    }
    QSqlDatabase::removeDatabase(conn);
    return error->isEmpty() ? out : QString();
}

} // namespace ns8m
