// The helper's memory: a SQLite database (QtSql) under the state directory,
// written in transactions.  Jobs, apps and their scan results live here.
#pragma once

#include "core/qtcompat.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QString>
#include <QVariantMap>

#include <optional>

namespace ns8m {

struct JobRecord {
    quint64 id = 0;
    QString operation;
    QString object;
    QString status; // running | succeeded | failed | canceled
    QString message;
    quint32 startedByUid = 0;
    qint64 startTime = 0; // µs since the epoch
    qint64 endTime = 0;
};

// Where an app stands.  Stored and sent on the bus as its string
// (toString()); everywhere else it is this type, so that a switch over it
// lets the compiler say where a new status is not handled.
enum class AppStatus { NotMigrated, Migrating, Syncing, Finishing, Migrated, Skipped, Failed };
QString toString(AppStatus status);
// An unknown string (a state written by a newer version) reads as NotMigrated.
AppStatus appStatusFromString(const QString &text);

// How far a Finish got, kept across restarts.
enum class FinishPhase {
    NothingStopped = 0, // NS7 runs as before
    Stopped = 1,        // NS7's writers are stopped (stoppedServices: the ones to start again on failure)
    Configured = 2,     // NS8 is configured and in charge: only the NS7 wind-down is left
    // configure-module was submitted (configureTask) and its outcome is not
    // known yet: NS8 may still come up, so NS7's writers stay stopped until
    // NS8 answers (stoppedServices start again only if it failed).
    Configuring = 3,
};

struct AppRecord {
    QString id;
    AppStatus status = AppStatus::NotMigrated;
    quint64 sourceFiles = 0;
    quint64 sourceBytes = 0;
    quint64 databaseBytes = 0;
    qint64 scanTime = 0;
    QJsonArray scanDetails; // [[id, title, files, bytes, {symlinks}], ...] (the links: App.ScanSymlinks)
    // Finish's verification (App.Verification): [[what, name, outcome, detail], ...]
    // and when it ran (µs since the epoch, 0: never).
    QJsonArray verification;
    qint64 verificationTime = 0;
};

// Where an app's migration stands: the NS8 module created for it and the
// administrator's values.  The receiver's password is a secret file.
struct MigrationRecord {
    QString app;
    quint32 node = 0;
    QString moduleId;
    QString address;     // the receiver's VPN address
    int port = 0;
    QString rsyncUser;
    QString importTask;  // module/<id>/task/<uuid>
    QVariantMap settings;
    QStringList notices;
    qint64 startedAt = 0;
    FinishPhase finishPhase = FinishPhase::NothingStopped;
    QStringList stoppedServices;
    QString configureTask; // module/<id>/task/<uuid> of the submitted configure-module
    QString nodeAddress; // the destination node's public address (DNS records)
    bool isEmpty() const { return moduleId.isEmpty(); }
};

// One file of call history shipped ahead of the cutover: the rows of TABLE
// whose watermark column is in (low, high] ("" low: from the beginning).
struct ChunkRecord {
    QString database;
    QString table;
    int seq = 0;
    QString low;
    QString high;
    quint64 rows = 0; // counted before the dump: a late row makes the final check fail safe
    QString file;     // name in restore_background/
    // The range's content digest (a decimal number, see rangeDigestSql()),
    // taken with the count, before the dump; "" for a chunk recorded by a
    // version without checksums: it cannot match, so the range is shipped again.
    QString checksum;
};

struct SyncRecord {
    qint64 time = 0;      // end, µs since the epoch
    quint64 bytes = 0;    // bytes sent
    quint64 files = 0;    // files transferred
    qint64 duration = 0;  // µs
    quint32 warnings = 0;
    // µs: the median of its rsync runs that sent next to nothing, what one
    // session through the tunnel costs on this host and link before any
    // file moves (0: not measured)
    qint64 session = 0;
};

// The link to the NS8 cluster that Connect leaves (Manager's properties,
// the tunnel, the migration account), as saved.
struct ClusterLink {
    QString state = QStringLiteral("disconnected"); // connected once Connect has saved it
    QString leader;
    bool tlsVerify = true;
    QString tlsFingerprint;  // SHA-256 of the leader's certificate seen at Connect
    quint32 nodeId = 0;
    QString vpnAddress;      // this host's address in the cluster VPN
    QString network;         // the cluster VPN network (CIDR)
    QString leaderVpnIp;
    QString leaderPublicKey;
    QString leaderEndpoint;  // host:port of the leader's WireGuard
    QString userDomain;      // the external user domain NS8 sees NS7's LDAP as
    bool domainCreated = false;
    QString routeIp;         // the LDAP address routed through the tunnel, "" none
    QString apiUser;         // the migration account
    QString connectedAt;     // ISO 8601, UTC

    bool isConnected() const { return state == u"connected"; }
};

class StateDb
{
public:
    StateDb() = default;
    ~StateDb();
    StateDb(const StateDb &) = delete;
    StateDb &operator=(const StateDb &) = delete;

    bool open(const QString &path, QString *error);
    void close();

    // Jobs left "running" by a helper that died are marked failed; returns
    // how many.
    int failInterruptedJobs(const QString &message, qint64 now);
    quint64 nextJobId();
    bool insertJob(const JobRecord &job);
    bool finishJob(quint64 id, const QString &status, const QString &message, qint64 endTime);
    std::optional<JobRecord> job(quint64 id);

    AppRecord app(const QString &id);
    bool saveApp(const AppRecord &app);

    MigrationRecord migration(const QString &app);
    bool saveMigration(const MigrationRecord &m);
    bool clearMigration(const QString &app); // also its sync history
    QList<SyncRecord> syncs(const QString &app);
    bool addSync(const QString &app, const SyncRecord &s);
    QList<ChunkRecord> chunks(const QString &app); // by seq
    bool addChunk(const QString &app, const ChunkRecord &c);
    // A chunk shipped again under its name: its new count and checksum (by seq).
    bool updateChunk(const QString &app, const ChunkRecord &c);
    bool removeChunks(const QString &app, const QString &database, const QString &table);

    // The link to the NS8 cluster, replaced as a whole.
    ClusterLink connection();
    bool saveConnection(const ClusterLink &link);

    // An app's schedule of KIND ("sync", "finish"): its JSON object, empty
    // when there is none (operations/schedule.h reads and writes it).
    QJsonObject schedule(const QString &app, const QString &kind);
    bool saveSchedule(const QString &app, const QString &kind, const QJsonObject &data);
    bool removeSchedule(const QString &app, const QString &kind);

    QString lastError() const { return m_lastError; }

private:
    bool exec(const QString &sql, const QVariantList &binds = {});
    QString m_conn;
    QString m_lastError;
};

} // namespace ns8m
