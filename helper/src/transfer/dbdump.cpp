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

// The end of a shipped range that a late row could still fall in: the last
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

// What the whole-table check before the stop counted in that window, by
// "app/db.table@high": the cutover recounts only the window.  In memory: a
// helper restarted in between checks the whole last range instead.
QHash<QString, quint64> &verifiedWindows()
{
    static QHash<QString, quint64> windows;
    return windows;
}

QString windowKey(const QString &app, const QString &db, const QString &table, const QString &high)
{
    return QStringLiteral("%1/%2.%3@%4").arg(app, db, table, high);
}

} // namespace

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

void DbDumper::query(const QString &sql, std::function<void(const QList<QStringList> &, const Text &)> done)
{
    // --defaults-file: the credentials come from the option file, never argv.
    runProcess(this, commands::mysqlQuery(m_defaults, sql),
               [done, sql](const ProcessResult &r) {
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
    QStringList names;
    for (const DatabaseItem &d : m_profile.databases)
        names.append(sqlString(d.name));
    if (names.isEmpty())
        return done({});
    QPointer<DbDumper> self(this);
    query(QStringLiteral("SELECT table_schema, table_name FROM information_schema.TABLES WHERE table_schema IN (%1) "
                         "UNION SELECT schema_name, '' FROM information_schema.SCHEMATA WHERE schema_name IN (%1)")
              .arg(names.join(u',')),
          [self, done](const QList<QStringList> &rows, const Text &error) {
        if (!self)
            return;
        if (!error.isEmpty())
            return done(error);
        self->m_databases.clear();
        self->m_tables.clear();
        for (const QStringList &r : rows) {
            self->m_databases.insert(r.value(0));
            if (!r.value(1).isEmpty())
                self->m_tables.insert(r.value(0) + u'.' + r.value(1));
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

// One SELECT per table inside one snapshot: the row count and the sum of
// the first 64 bits of each row's MD5 (NULL told apart from '' by ISNULL),
// so the order of the rows does not matter.  MariaDB 5.5 has all of it.
void DbDumper::checksumTables(const QList<QStringList> &columns, const ChecksumsDone &done)
{
    QMap<QString, QStringList> tables; // "db.table" → its columns, quoted
    QMap<QString, QString> from;
    for (const QStringList &c : columns) {
        if (c.size() < 3)
            continue;
        const QString key = c.at(0) + u'.' + c.at(1);
        tables[key].append(quoteName(c.at(2)));
        from.insert(key, quoteName(c.at(0)) + u'.' + quoteName(c.at(1)));
    }
    if (tables.isEmpty())
        return done({}, {});
    QStringList sql{QStringLiteral("START TRANSACTION WITH CONSISTENT SNAPSHOT;")};
    for (auto it = tables.constBegin(); it != tables.constEnd(); ++it) {
        QStringList nulls;
        for (const QString &col : it.value())
            nulls.append(QStringLiteral("ISNULL(%1)").arg(col));
        sql.append(QStringLiteral("SELECT %1, COUNT(*), COALESCE(SUM(CAST(CONV(SUBSTRING(MD5(CONCAT_WS('#', %2, %3)), 1, 16), 16, 10)"
                                  " AS UNSIGNED)), 0) FROM %4;")
                       .arg(sqlString(it.key()), it.value().join(QStringLiteral(", ")), nulls.join(QStringLiteral(", ")),
                            from.value(it.key())));
    }
    sql.append(QStringLiteral("COMMIT;"));
    // Hundreds of tables pass the 128 KiB a single argument may have: the
    // statements go into a file that the client reads (its "source").
    QDir().mkpath(m_workDir);
    const QString file = m_workDir + QStringLiteral("/checksums.sql");
    QSaveFile f(file);
    if (!f.open(QIODevice::WriteOnly) || f.write(sql.join(u'\n').toUtf8()) < 0 || !f.commit())
        return done({}, Text("dump.write", "Cannot write %1: %2.").arg(file, f.errorString()));
    query(QStringLiteral("source ") + file, [done](const QList<QStringList> &rows, const Text &error) {
        TableChecksums sums;
        for (const QStringList &r : rows)
            if (r.size() >= 3)
                sums.insert(r.at(0), qMakePair(r.at(1).toULongLong(), r.at(2)));
        done(sums, error);
    });
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
    // Counted before the dump: a row that arrives in between is in the
    // file but not in the count, and the final check then dumps the
    // table whole rather than trust the chunks.
    countRows(h, where, [this, h, low, high, where](quint64 n) {
        if (n == 0)
            return h->next({});
        ChunkRecord c;
        c.database = h->db.name;
        c.table = h->t.table;
        c.low = low;
        c.high = high;
        c.rows = n;
        shipChunk(h, c, where);
    });
}

// The rows of H's table matching WHERE, counted; a failure ends H's step.
void DbDumper::countRows(const std::shared_ptr<HistoryTable> &h, const QString &where, std::function<void(quint64)> counted)
{
    QPointer<DbDumper> self(this);
    query(QStringLiteral("SELECT COUNT(*) FROM %1 WHERE %2").arg(h->table, where),
          [self, h, counted](const QList<QStringList> &rows, const Text &err) {
        if (!self)
            return;
        if (!err.isEmpty())
            return h->next(err);
        counted(rows.value(0).value(0).toULongLong());
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
         QStringLiteral("-- %1.%2, rows with %3 in (%4, %5]\nUSE %6;\n")
             .arg(db.name, t.table, watermarkExpr(t), c.low.isEmpty() ? QStringLiteral("-∞") : c.low, c.high,
                  quoteName(db.name)),
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
    const QString last = h->last->high;
    const quint64 shipped = h->run->shippedRows(h->db.name, h->t.table);
    // In one snapshot: every row up to the last watermark must be in
    // the chunks.  A whole-table count, done while NS7 still works so
    // that the cutover need not.
    QPointer<DbDumper> self(this);
    query(QStringLiteral("START TRANSACTION WITH CONSISTENT SNAPSHOT; SELECT COUNT(*) FROM %1; "
                         "SELECT COUNT(*) FROM %1 WHERE %2; SELECT COUNT(*) FROM %1 WHERE %3; COMMIT")
              .arg(h->table, rangeWhere(h->t, last, QString(), kTailWindowDays), windowWhere(h->t, last)),
          [self, h, shipped, last](const QList<QStringList> &rows, const Text &err) {
        if (!self)
            return;
        if (!err.isEmpty())
            return h->next(err);
        const DatabaseItem &db = h->db;
        const IncrementalTable &t = h->t;
        const quint64 total = rows.value(0).value(0).toULongLong();
        const quint64 after = rows.value(1).value(0).toULongLong();
        if (rows.size() == 3 && total >= after && total - after == shipped) {
            verifiedWindows().insert(windowKey(self->m_profile.id, db.name, t.table, last), rows.value(2).value(0).toULongLong());
            Log::info(QStringLiteral("call history: %1.%2 checked: the %3 rows shipped are all there are")
                          .arg(db.name, t.table).arg(shipped), self->m_log);
            return h->next({});
        }
        const Text error = self->dropChunks(db, t, h->run,
                                            Text("dump.note.reshipped", "%1.%2 was shipped again whole: the table "
                                                                        "has %3 rows up to the last watermark, the "
                                                                        "shipped chunks %4.")
                                                .arg(db.name, t.table)
                                                .arg(total - qMin(total, after))
                                                .arg(shipped));
        if (!error.isEmpty())
            return h->next(error);
        self->shipTableStep(db, t, h->run)(h->next);
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

// After the tail's dump (TAILFILE): the chunks still hold what they held, or
// the tail goes and the table is dumped whole.
void DbDumper::checkTail(const std::shared_ptr<HistoryTable> &h, const QString &tailFile)
{
    // The rows before the last chunk were checked against the whole
    // table before the stop (verifyStep); what may have changed since
    // is the last chunk's range: counted again after the tail's dump.
    // Checked whole before the stop: only the end of the last range,
    // where a late row could still land, is counted again.
    const ChunkRecord &last = *h->last;
    const QString key = windowKey(m_profile.id, h->db.name, h->t.table, last.high);
    const bool windowOnly = verifiedWindows().contains(key);
    const quint64 expected = windowOnly ? verifiedWindows().value(key) : last.rows;
    const QString where = windowOnly ? windowWhere(h->t, last.high) : rangeWhere(h->t, last.low, last.high);
    countRows(h, where, [this, h, tailFile, expected, windowOnly](quint64 now) {
        const DatabaseItem &db = h->db;
        const IncrementalTable &t = h->t;
        if (now != expected) {
            QFile::remove(backgroundDir() + tailFile);
            return dumpWhole(h, Text("dump.note.whole", "%1.%2 was dumped whole: the end of the last shipped range "
                                                                 "holds %3 rows now, %4 before.")
                                          .arg(db.name, t.table)
                                          .arg(now)
                                          .arg(expected));
        }
        Log::info(QStringLiteral("call history: %1.%2: the tail is dumped, the end of the last shipped range is unchanged (%3 rows%4)")
                      .arg(db.name, t.table)
                      .arg(now)
                      .arg(windowOnly ? QString() : QStringLiteral(", whole range")),
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
