#include "store/statedb.h"

#include "core/qtcompat.h"

#include <QHash>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QUuid>

#include <utility>

namespace ns8m {

QString toString(AppStatus status)
{
    switch (status) {
    case AppStatus::NotMigrated:
        return QStringLiteral("not_migrated");
    case AppStatus::Migrating:
        return QStringLiteral("migrating");
    case AppStatus::Syncing:
        return QStringLiteral("syncing");
    case AppStatus::Finishing:
        return QStringLiteral("finishing");
    case AppStatus::Migrated:
        return QStringLiteral("migrated");
    case AppStatus::Skipped:
        return QStringLiteral("skipped");
    case AppStatus::Failed:
        return QStringLiteral("failed");
    }
    return QStringLiteral("not_migrated");
}

AppStatus appStatusFromString(const QString &text)
{
    for (const AppStatus s : {AppStatus::NotMigrated, AppStatus::Migrating, AppStatus::Syncing, AppStatus::Finishing,
                              AppStatus::Migrated, AppStatus::Skipped, AppStatus::Failed})
        if (toString(s) == text)
            return s;
    return AppStatus::NotMigrated;
}

namespace {
constexpr int kSchemaVersion = 1;
}

StateDb::~StateDb()
{
    close();
}

bool StateDb::open(const QString &path, QString *error)
{
    m_conn = QStringLiteral("state-") + withoutBraces(QUuid::createUuid());
    QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), m_conn);
    db.setDatabaseName(path);
    if (!db.open()) {
        *error = QStringLiteral("cannot open the state database %1: %2")
                     .arg(path, db.lastError().text());
        return false;
    }
    const QStringList setup = {
        QStringLiteral("PRAGMA journal_mode=WAL"),
        QStringLiteral("PRAGMA synchronous=FULL"),
        QStringLiteral("PRAGMA foreign_keys=ON"),
        QStringLiteral("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"),
        QStringLiteral("CREATE TABLE IF NOT EXISTS jobs ("
                       " id INTEGER PRIMARY KEY, operation TEXT NOT NULL, object TEXT NOT NULL,"
                       " status TEXT NOT NULL CHECK (status IN ('running','succeeded','failed','canceled')),"
                       " message TEXT NOT NULL DEFAULT '', started_by_uid INTEGER NOT NULL,"
                       " start_time INTEGER NOT NULL, end_time INTEGER NOT NULL DEFAULT 0)"),
        QStringLiteral("CREATE TABLE IF NOT EXISTS apps ("
                       " id TEXT PRIMARY KEY, status TEXT NOT NULL,"
                       " source_files INTEGER NOT NULL DEFAULT 0, source_bytes INTEGER NOT NULL DEFAULT 0,"
                       " database_bytes INTEGER NOT NULL DEFAULT 0, scan_time INTEGER NOT NULL DEFAULT 0,"
                       " scan_details TEXT NOT NULL DEFAULT '[]', verification TEXT NOT NULL DEFAULT '{}')"),
        QStringLiteral("CREATE TABLE IF NOT EXISTS connection (key TEXT PRIMARY KEY, value TEXT NOT NULL)"),
        QStringLiteral("CREATE TABLE IF NOT EXISTS migrations ("
                       " app TEXT PRIMARY KEY, node INTEGER NOT NULL, module_id TEXT NOT NULL,"
                       " address TEXT NOT NULL, port INTEGER NOT NULL, rsync_user TEXT NOT NULL,"
                       " import_task TEXT NOT NULL, settings TEXT NOT NULL DEFAULT '{}',"
                       " notices TEXT NOT NULL DEFAULT '[]', started_at INTEGER NOT NULL DEFAULT 0)"),
        QStringLiteral("CREATE TABLE IF NOT EXISTS syncs ("
                       " id INTEGER PRIMARY KEY, app TEXT NOT NULL, time INTEGER NOT NULL,"
                       " bytes INTEGER NOT NULL, files INTEGER NOT NULL, duration INTEGER NOT NULL,"
                       " warnings INTEGER NOT NULL DEFAULT 0, session INTEGER NOT NULL DEFAULT 0)"),
        QStringLiteral("CREATE TABLE IF NOT EXISTS chunks ("
                       " app TEXT NOT NULL, db TEXT NOT NULL, tbl TEXT NOT NULL, seq INTEGER NOT NULL,"
                       " low TEXT NOT NULL, high TEXT NOT NULL, rows INTEGER NOT NULL, file TEXT NOT NULL,"
                       " checksum TEXT NOT NULL DEFAULT '', PRIMARY KEY (app, seq))"),
        QStringLiteral("CREATE TABLE IF NOT EXISTS schedules (app TEXT NOT NULL, kind TEXT NOT NULL, data TEXT NOT NULL, PRIMARY KEY (app, kind))"),
    };
    for (const QString &sql : setup)
        if (!exec(sql)) {
            *error = QStringLiteral("cannot prepare the state database %1: %2").arg(path, m_lastError);
            return false;
        }
    QSqlQuery q(db);
    // Columns added after the first schema: present in new files, added to old ones.
    // Old chunks get an empty checksum: they are shipped again at the check
    // before the cutover.  A version without the column still reads and
    // writes the file (its new chunks get the default).
    const QList<std::pair<QString, QString>> added = {
        {QStringLiteral("SELECT finish FROM migrations LIMIT 0"),
         QStringLiteral("ALTER TABLE migrations ADD COLUMN finish TEXT NOT NULL DEFAULT '{}'")},
        {QStringLiteral("SELECT checksum FROM chunks LIMIT 0"),
         QStringLiteral("ALTER TABLE chunks ADD COLUMN checksum TEXT NOT NULL DEFAULT ''")},
        {QStringLiteral("SELECT session FROM syncs LIMIT 0"),
         QStringLiteral("ALTER TABLE syncs ADD COLUMN session INTEGER NOT NULL DEFAULT 0")},
        {QStringLiteral("SELECT verification FROM apps LIMIT 0"),
         QStringLiteral("ALTER TABLE apps ADD COLUMN verification TEXT NOT NULL DEFAULT '{}'")},
    };
    for (const auto &[probe, alter] : added) {
        q.exec(probe);
        if (q.lastError().isValid() && !exec(alter)) {
            *error = QStringLiteral("cannot update the state database %1: %2").arg(path, m_lastError);
            return false;
        }
    }
    q.exec(QStringLiteral("SELECT value FROM meta WHERE key='schema_version'"));
    if (q.next()) {
        if (q.value(0).toInt() > kSchemaVersion) {
            *error = QStringLiteral("the state database %1 was written by a newer version (schema %2)")
                         .arg(path, q.value(0).toString());
            return false;
        }
    } else if (!exec(QStringLiteral("INSERT INTO meta (key, value) VALUES ('schema_version', ?)"),
                     {QString::number(kSchemaVersion)})) {
        *error = m_lastError;
        return false;
    }
    return true;
}

void StateDb::close()
{
    if (m_conn.isEmpty())
        return;
    {
        QSqlDatabase db = QSqlDatabase::database(m_conn, false);
        if (db.isOpen())
            db.close();
    }
    QSqlDatabase::removeDatabase(m_conn);
    m_conn.clear();
}

bool StateDb::exec(const QString &sql, const QVariantList &binds)
{
    QSqlQuery q(QSqlDatabase::database(m_conn, false));
    if (!q.prepare(sql)) {
        m_lastError = q.lastError().text();
        return false;
    }
    for (const QVariant &b : binds)
        q.addBindValue(b);
    if (!q.exec()) {
        m_lastError = q.lastError().text();
        return false;
    }
    return true;
}

int StateDb::failInterruptedJobs(const QString &message, qint64 now)
{
    QSqlDatabase db = QSqlDatabase::database(m_conn, false);
    db.transaction();
    QSqlQuery q(db);
    q.exec(QStringLiteral("SELECT COUNT(*) FROM jobs WHERE status='running'"));
    const int n = q.next() ? q.value(0).toInt() : 0;
    if (!exec(QStringLiteral("UPDATE jobs SET status='failed', message=?, end_time=? WHERE status='running'"),
              {message, now})) {
        db.rollback();
        return 0;
    }
    db.commit();
    return n;
}

quint64 StateDb::nextJobId()
{
    QSqlQuery q(QSqlDatabase::database(m_conn, false));
    q.exec(QStringLiteral("SELECT COALESCE(MAX(id), 0) + 1 FROM jobs"));
    return q.next() ? q.value(0).toULongLong() : 1;
}

bool StateDb::insertJob(const JobRecord &job)
{
    return exec(QStringLiteral("INSERT INTO jobs (id, operation, object, status, message,"
                               " started_by_uid, start_time) VALUES (?, ?, ?, 'running', '', ?, ?)"),
                {job.id, job.operation, job.object, job.startedByUid, job.startTime});
}

bool StateDb::finishJob(quint64 id, const QString &status, const QString &message, qint64 endTime)
{
    return exec(QStringLiteral("UPDATE jobs SET status=?, message=?, end_time=? WHERE id=?"),
                {status, message, endTime, id});
}

std::optional<JobRecord> StateDb::job(quint64 id)
{
    QSqlQuery q(QSqlDatabase::database(m_conn, false));
    q.prepare(QStringLiteral("SELECT operation, object, status, message, started_by_uid,"
                             " start_time, end_time FROM jobs WHERE id=?"));
    q.addBindValue(id);
    if (!q.exec() || !q.next())
        return std::nullopt;
    JobRecord r;
    r.id = id;
    r.operation = q.value(0).toString();
    r.object = q.value(1).toString();
    r.status = q.value(2).toString();
    r.message = q.value(3).toString();
    r.startedByUid = q.value(4).toUInt();
    r.startTime = q.value(5).toLongLong();
    r.endTime = q.value(6).toLongLong();
    return r;
}

AppRecord StateDb::app(const QString &id)
{
    AppRecord r;
    r.id = id;
    QSqlQuery q(QSqlDatabase::database(m_conn, false));
    q.prepare(QStringLiteral("SELECT status, source_files, source_bytes, database_bytes, scan_time,"
                             " scan_details, verification FROM apps WHERE id=?"));
    q.addBindValue(id);
    if (q.exec() && q.next()) {
        r.status = appStatusFromString(q.value(0).toString());
        r.sourceFiles = q.value(1).toULongLong();
        r.sourceBytes = q.value(2).toULongLong();
        r.databaseBytes = q.value(3).toULongLong();
        r.scanTime = q.value(4).toLongLong();
        r.scanDetails = QJsonDocument::fromJson(q.value(5).toByteArray()).array();
        const QJsonObject v = QJsonDocument::fromJson(q.value(6).toByteArray()).object();
        r.verification = v.value(QStringLiteral("items")).toArray();
        r.verificationTime = qint64(v.value(QStringLiteral("time")).toDouble());
    }
    return r;
}

bool StateDb::saveApp(const AppRecord &app)
{
    QSqlDatabase db = QSqlDatabase::database(m_conn, false);
    db.transaction();
    const bool ok = exec(
        QStringLiteral("INSERT INTO apps (id, status, source_files, source_bytes, database_bytes,"
                       " scan_time, scan_details, verification) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                       " ON CONFLICT(id) DO UPDATE SET status=excluded.status,"
                       " source_files=excluded.source_files, source_bytes=excluded.source_bytes,"
                       " database_bytes=excluded.database_bytes, scan_time=excluded.scan_time,"
                       " scan_details=excluded.scan_details, verification=excluded.verification"),
        {app.id, toString(app.status), app.sourceFiles, app.sourceBytes, app.databaseBytes, app.scanTime,
         QString::fromUtf8(QJsonDocument(app.scanDetails).toJson(QJsonDocument::Compact)),
         QString::fromUtf8(QJsonDocument(QJsonObject{{QStringLiteral("time"), double(app.verificationTime)},
                                                     {QStringLiteral("items"), app.verification}})
                               .toJson(QJsonDocument::Compact))});
    if (!ok) {
        db.rollback();
        return false;
    }
    return db.commit();
}

MigrationRecord StateDb::migration(const QString &app)
{
    MigrationRecord m;
    m.app = app;
    QSqlQuery q(QSqlDatabase::database(m_conn, false));
    q.prepare(QStringLiteral("SELECT node, module_id, address, port, rsync_user, import_task, settings,"
                             " notices, started_at, finish FROM migrations WHERE app=?"));
    q.addBindValue(app);
    if (q.exec() && q.next()) {
        m.node = q.value(0).toUInt();
        m.moduleId = q.value(1).toString();
        m.address = q.value(2).toString();
        m.port = q.value(3).toInt();
        m.rsyncUser = q.value(4).toString();
        m.importTask = q.value(5).toString();
        m.settings = QJsonDocument::fromJson(q.value(6).toByteArray()).object().toVariantMap();
        for (const QJsonValue &v : QJsonDocument::fromJson(q.value(7).toByteArray()).array())
            m.notices.append(v.toString());
        m.startedAt = q.value(8).toLongLong();
        const QJsonObject finish = QJsonDocument::fromJson(q.value(9).toByteArray()).object();
        const int phase = finish.value(QStringLiteral("phase")).toInt();
        m.finishPhase = phase == 1   ? FinishPhase::Stopped
                        : phase == 2 ? FinishPhase::Configured
                        : phase == 3 ? FinishPhase::Configuring
                                     : FinishPhase::NothingStopped;
        m.configureTask = finish.value(QStringLiteral("configure_task")).toString();
        for (const QJsonValue &v : finish.value(QStringLiteral("stopped")).toArray())
            m.stoppedServices.append(v.toString());
        m.nodeAddress = finish.value(QStringLiteral("node_address")).toString();
    }
    return m;
}

bool StateDb::saveMigration(const MigrationRecord &m)
{
    QJsonArray notices;
    for (const QString &n : m.notices)
        notices.append(n);
    const QJsonObject finish{{QStringLiteral("phase"), int(m.finishPhase)},
                             {QStringLiteral("stopped"), QJsonArray::fromStringList(m.stoppedServices)},
                             {QStringLiteral("node_address"), m.nodeAddress},
                             {QStringLiteral("configure_task"), m.configureTask}};
    return exec(QStringLiteral("INSERT OR REPLACE INTO migrations (app, node, module_id, address, port,"
                               " rsync_user, import_task, settings, notices, started_at, finish)"
                               " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
                {m.app, m.node, m.moduleId, m.address, m.port, m.rsyncUser, m.importTask,
                 QString::fromUtf8(QJsonDocument(QJsonObject::fromVariantMap(m.settings)).toJson(QJsonDocument::Compact)),
                 QString::fromUtf8(QJsonDocument(notices).toJson(QJsonDocument::Compact)), m.startedAt,
                 QString::fromUtf8(QJsonDocument(finish).toJson(QJsonDocument::Compact))});
}

bool StateDb::clearMigration(const QString &app)
{
    QSqlDatabase db = QSqlDatabase::database(m_conn, false);
    db.transaction();
    if (!exec(QStringLiteral("DELETE FROM migrations WHERE app=?"), {app})
        || !exec(QStringLiteral("DELETE FROM syncs WHERE app=?"), {app})
        || !exec(QStringLiteral("DELETE FROM chunks WHERE app=?"), {app})) {
        db.rollback();
        return false;
    }
    return db.commit();
}

QList<SyncRecord> StateDb::syncs(const QString &app)
{
    QList<SyncRecord> out;
    QSqlQuery q(QSqlDatabase::database(m_conn, false));
    q.prepare(QStringLiteral("SELECT time, bytes, files, duration, warnings, session FROM syncs WHERE app=? ORDER BY id"));
    q.addBindValue(app);
    if (q.exec())
        while (q.next())
            out.append({q.value(0).toLongLong(), q.value(1).toULongLong(), q.value(2).toULongLong(),
                        q.value(3).toLongLong(), q.value(4).toUInt(), q.value(5).toLongLong()});
    return out;
}

bool StateDb::addSync(const QString &app, const SyncRecord &s)
{
    return exec(QStringLiteral("INSERT INTO syncs (app, time, bytes, files, duration, warnings, session) VALUES (?, ?, ?, ?, ?, ?, ?)"),
                {app, s.time, s.bytes, s.files, s.duration, s.warnings, s.session});
}

namespace {
// How each field of the link is saved: one row of the connection table.
struct LinkColumn {
    const char *key;
    QString ClusterLink::*text = nullptr;
    bool ClusterLink::*flag = nullptr;
    quint32 ClusterLink::*number = nullptr;
};

const LinkColumn kLinkColumns[] = {
    {"state", &ClusterLink::state},
    {"leader", &ClusterLink::leader},
    {"tls_verify", nullptr, &ClusterLink::tlsVerify},
    {"tls_fingerprint", &ClusterLink::tlsFingerprint},
    {"node_id", nullptr, nullptr, &ClusterLink::nodeId},
    {"vpn_address", &ClusterLink::vpnAddress},
    {"network", &ClusterLink::network},
    {"leader_vpn_ip", &ClusterLink::leaderVpnIp},
    {"leader_public_key", &ClusterLink::leaderPublicKey},
    {"leader_endpoint", &ClusterLink::leaderEndpoint},
    {"user_domain", &ClusterLink::userDomain},
    {"domain_created", nullptr, &ClusterLink::domainCreated},
    {"route_ip", &ClusterLink::routeIp},
    {"api_user", &ClusterLink::apiUser},
    {"connected_at", &ClusterLink::connectedAt},
};
} // namespace

ClusterLink StateDb::connection()
{
    QHash<QString, QString> rows;
    QSqlQuery q(QSqlDatabase::database(m_conn, false));
    q.exec(QStringLiteral("SELECT key, value FROM connection"));
    while (q.next())
        rows.insert(q.value(0).toString(), q.value(1).toString());
    ClusterLink link;
    for (const LinkColumn &c : kLinkColumns) {
        const auto it = rows.constFind(QLatin1String(c.key));
        if (it == rows.constEnd())
            continue;
        if (c.text)
            link.*c.text = *it;
        else if (c.flag)
            link.*c.flag = *it != u"false";
        else
            link.*c.number = it->toUInt();
    }
    return link;
}

bool StateDb::saveConnection(const ClusterLink &link)
{
    QSqlDatabase db = QSqlDatabase::database(m_conn, false);
    db.transaction();
    bool ok = exec(QStringLiteral("DELETE FROM connection"));
    for (const LinkColumn &c : kLinkColumns) {
        if (!ok)
            break;
        const QString value = c.text ? link.*c.text
                              : c.flag ? QString::fromLatin1(link.*c.flag ? "true" : "false")
                                       : QString::number(link.*c.number);
        // An empty QString may be null, which SQLite would store as NULL.
        ok = exec(QStringLiteral("INSERT INTO connection (key, value) VALUES (?, ?)"),
                  {QString::fromLatin1(c.key), value.isNull() ? QStringLiteral("") : value});
    }
    if (!ok) {
        db.rollback();
        return false;
    }
    return db.commit();
}

QList<ChunkRecord> StateDb::chunks(const QString &app)
{
    QList<ChunkRecord> out;
    QSqlQuery q(QSqlDatabase::database(m_conn, false));
    q.prepare(QStringLiteral("SELECT db, tbl, seq, low, high, rows, file, checksum FROM chunks WHERE app=? ORDER BY seq"));
    q.addBindValue(app);
    if (q.exec())
        while (q.next())
            out.append({q.value(0).toString(), q.value(1).toString(), q.value(2).toInt(), q.value(3).toString(),
                        q.value(4).toString(), q.value(5).toULongLong(), q.value(6).toString(), q.value(7).toString()});
    return out;
}

bool StateDb::addChunk(const QString &app, const ChunkRecord &c)
{
    return exec(QStringLiteral("INSERT INTO chunks (app, db, tbl, seq, low, high, rows, file, checksum)"
                               " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"),
                {app, c.database, c.table, c.seq, c.low.isEmpty() ? QStringLiteral("") : c.low, c.high,
                 QVariant::fromValue(qint64(c.rows)), c.file, c.checksum.isEmpty() ? QStringLiteral("") : c.checksum});
}

bool StateDb::updateChunk(const QString &app, const ChunkRecord &c)
{
    return exec(QStringLiteral("UPDATE chunks SET rows=?, checksum=? WHERE app=? AND seq=?"),
                {QVariant::fromValue(qint64(c.rows)), c.checksum.isEmpty() ? QStringLiteral("") : c.checksum, app, c.seq});
}

bool StateDb::removeChunks(const QString &app, const QString &database, const QString &table)
{
    return exec(QStringLiteral("DELETE FROM chunks WHERE app=? AND db=? AND tbl=?"), {app, database, table});
}

// An app's schedules (kind "sync" or "finish"), each a JSON object
// (operations/schedule.h); open() adds the table to a file without it.
QJsonObject StateDb::schedule(const QString &app, const QString &kind)
{
    QSqlQuery q(QSqlDatabase::database(m_conn, false));
    q.prepare(QStringLiteral("SELECT data FROM schedules WHERE app=? AND kind=?"));
    q.addBindValue(app);
    q.addBindValue(kind);
    if (!q.exec() || !q.next())
        return {};
    return QJsonDocument::fromJson(q.value(0).toByteArray()).object();
}

bool StateDb::saveSchedule(const QString &app, const QString &kind, const QJsonObject &data)
{
    return exec(QStringLiteral("INSERT OR REPLACE INTO schedules (app, kind, data) VALUES (?, ?, ?)"),
                {app, kind, QString::fromUtf8(QJsonDocument(data).toJson(QJsonDocument::Compact))});
}

bool StateDb::removeSchedule(const QString &app, const QString &kind)
{
    return exec(QStringLiteral("DELETE FROM schedules WHERE app=? AND kind=?"), {app, kind});
}

} // namespace ns8m
