// The migration of one app installed on NS7: its saved state (record,
// migration, syncs) and its operations (Scan, Start, Sync, Abort, Finish),
// each a table of steps run by the Operation runner.  objects/app.* puts
// it on the bus; the operations live in appmigration.cpp, appsync.cpp and
// finish.cpp.
#pragma once

#include "profile/appprofile.h"
#include "bus/bus.h"
#include "ns8/ns8client.h"
#include "operations/operation.h"
#include "operations/preflight.h"
#include "operations/schedule.h"
#include "store/statedb.h"

#include <QElapsedTimer>
#include <QHash>
#include <QJsonObject>
#include <QObject>
#include <QPointer>
#include <QSet>

#include <functional>
#include <memory>

namespace ns8m {

struct Context;
class Job;
class Ns8Client;
struct ScanResult;
struct ChangeSetResult;
struct ChangeSetTree;

class Migration : public QObject
{
    Q_OBJECT
public:
    // PATH: the app's object on the bus (the jobs name it).
    Migration(Context *ctx, AppProfile profile, QString path, QObject *parent = nullptr);
    ~Migration() override;

    QString path() const { return m_path; }
    const AppProfile &profile() const { return m_profile; }
    Context *ctx() const { return m_ctx; }
    AppStatus status() const { return m_record.status; }
    const AppRecord &record() const { return m_record; }
    const MigrationRecord &migration() const { return m_migration; }
    // Field id → the (value, label) pairs NS8 offered at the last Start
    // (the profile's choices); kept until the helper restarts.
    using FieldChoiceMap = QMap<QString, QList<QPair<QString, QString>>>;
    const FieldChoiceMap &fieldChoices() const { return m_fieldChoices; }
    const QList<SyncRecord> &syncs() const { return m_syncs; }
    QString jobPath() const { return m_jobPath; }

    // The methods of the App interface, once polkit has said yes; each
    // replies to CALL.  Scan (migration.cpp), Start, Sync, Abort, Skip,
    // CheckOptions (appmigration.cpp), Finish (finish.cpp).
    void startScan(sd_bus_message *call, quint32 uid);
    void startMigration(sd_bus_message *call, quint32 uid, const QVariantMap &options);
    void startSync(sd_bus_message *call, quint32 uid, const QVariantMap &options);
    void startAbort(sd_bus_message *call, quint32 uid, const QVariantMap &options);
    void startFinish(sd_bus_message *call, quint32 uid, const QVariantMap &options); // finish.cpp
    void skip(sd_bus_message *call, bool skip);
    // Field id → problem, as a{ss} (English) or, BY_ID, a{s(ssas)}.
    void checkOptions(sd_bus_message *call, const QString &method, const QVariantMap &options, bool byId);
    QList<OptionSpec> startOptions() const;
    QList<OptionSpec> finishOptions() const;
    bool isBusy() const;
    // The operation of the job that runs now ("scan", "start", ...), "" none.
    QString runningOperation() const;

    // Schedules (appschedule.cpp, operations/schedule.h).  SetSchedule's
    // options; the schedule set (empty: removed) by UID, or why not.
    static QList<OptionSpec> scheduleOptions();
    Failure setSchedule(quint32 uid, const QVariantMap &options);
    const SyncSchedule &syncSchedule() const { return m_schedule; }
    qint64 nextScheduledSync() const { return m_nextSync; } // µs, 0: none
    // ScheduleFinish's options: Finish's and presync_lead.  Replies to CALL.
    QList<OptionSpec> scheduleFinishOptions() const;
    void scheduleFinish(sd_bus_message *call, quint32 uid, qint64 when, const QVariantMap &options);
    Failure cancelScheduledFinish(quint32 uid);
    const FinishSchedule &finishSchedule() const { return m_finishSchedule; }

signals:
    // Names of the App properties whose value changed.
    void propertiesChanged(const QStringList &names);

private:
    struct MigrationRun;
    bool refuseUnlessIdle(sd_bus_message *call);
    // WrongState unless the cluster link is there (true then).
    bool refuseUnlessConnected(sd_bus_message *call);
    Job *newJob(sd_bus_message *call, quint32 uid, const QString &operation, const char *cancelAction,
                QList<struct JobStep> steps);
    // The same without a call: nullptr and *FAILURE when it cannot be created.
    Job *createJob(quint32 uid, const QString &operation, const char *cancelAction, QList<struct JobStep> steps,
                   Failure *failure);
    Failure syncRefusal() const;
    Job *beginSync(quint32 uid, const QVariantMap &options, const Text &scheduled, Failure *failure);
    // Finish's checks before its Preflight (state, link, fields, the
    // configure input): *VALUES the field values it will use.
    Failure finishRefusal(const QVariantMap &options, QVariantMap *values) const;
    QList<struct JobStep> syncSteps() const;
    void setStatus(AppStatus status);
    void loadSchedules();
    void armSync(const QDateTime &after);
    void syncTimeCame();
    void runScheduledSync();
    void scheduledSyncEnded(const QString &outcome, Job *job, const Texts &message);
    void dropSchedules(AppStatus status);
    void finishScheduleChecked(sd_bus_message *call, quint32 uid, qint64 when, const QVariantMap &options,
                               const QList<Check> &checks);
    void armFinish();
    void finishTimeCame();
    void runFinishPresync();
    void scheduledFinishChecked(const QList<Check> &checks);
    void finishScheduleEnded(const QString &state, const Texts &reason);
    // Runs Preflight for PHASE; GO gets the call when it lets the method on
    // (QPointer-guarded), otherwise the call gets PreflightFailed.
    void afterPreflight(sd_bus_message *call, Preflight::Phase phase, const QVariantMap &options,
                        std::function<void(sd_bus_message *)> go);
    // Sync and Abort talk to NS8 (its API, the receiver) through the tunnel
    // only.  While a restart puts the tunnel back, AGAIN gets the call once
    // that has settled: true then.  Otherwise the call is refused with
    // TunnelDown (true) unless each of ADDRESSES is routed through it.
    bool waitForTunnel(sd_bus_message *call, std::function<void(sd_bus_message *)> again);
    bool refuseOutsideTunnel(sd_bus_message *call, const QStringList &addresses);
    void beginMigration(sd_bus_message *call, quint32 uid, const QVariantMap &options, const QVariantMap &values);
    Job *beginFinish(quint32 uid, const QVariantMap &values, Failure *error);
    QList<Operation::Step> startSteps(const std::shared_ptr<MigrationRun> &run);
    // TITLE: the operation's own text id, step.<operation>.sync.
    Operation::Step syncStep(const std::shared_ptr<MigrationRun> &run, const Text &title);
    void startCheckCluster(const std::shared_ptr<MigrationRun> &run, const Operation::Next &next);
    void startCheckDisk(const std::shared_ptr<MigrationRun> &run, const Operation::Next &next);
    void startReadModules(const std::shared_ptr<MigrationRun> &run, const Operation::Next &next);
    void startCompanion(const std::shared_ptr<MigrationRun> &run, int index, const Operation::Next &next);
    void startImport(const std::shared_ptr<MigrationRun> &run, const Operation::Next &next);
    Failure rememberModule(const std::shared_ptr<MigrationRun> &run, const QJsonObject &out, const QJsonArray &cred);
    // The fields with choices (from field INDEX on), checked against what the
    // new module MODULEID offers; DONE with the first refusal.
    void startCheckChoices(const std::shared_ptr<MigrationRun> &run, const QString &moduleId, int index,
                           std::function<void(const Failure &)> done);
    Failure chooseFieldValue(const std::shared_ptr<MigrationRun> &run, const Field &field, const QJsonArray &list);
    // Start refused after import-module: the module goes, then NEXT(REFUSAL).
    void startUndoImport(const std::shared_ptr<MigrationRun> &run, const QString &moduleId, const Failure &refusal,
                         const Operation::Next &next);
    void abortRestart(const std::shared_ptr<MigrationRun> &run, const Operation::Next &next);
    void abortRemoveModule(const std::shared_ptr<MigrationRun> &run, const Operation::Next &next);
    void abortForget(const Operation::Next &next);
    void abortRestoreDomain(const std::shared_ptr<MigrationRun> &run, const Operation::Next &next);
    using SyncDone = std::function<void(const Failure &failure)>; // empty: synced (run->message says what)
    void runSync(const std::shared_ptr<MigrationRun> &run, SyncDone done);
    void runTransfers(const std::shared_ptr<MigrationRun> &run, const QList<struct RsyncTransfer> &generated,
                      SyncDone done);
    QString generatedDir() const; // <state>/generated/<id>: the generated files of a pass
    void applyChangeSets(const std::shared_ptr<MigrationRun> &run, QList<struct RsyncTransfer> *transfers) const;
    void syncTransferred(const std::shared_ptr<MigrationRun> &run, const QElapsedTimer &clock, bool ok,
                         const QList<struct RsyncResult> &results, const SyncDone &done);
    void recordSync(const std::shared_ptr<MigrationRun> &run, const QElapsedTimer &clock, SyncRecord rec,
                    const Texts &warnings, const Texts &history, const SyncDone &done);
    QString secretPath() const;
    ClientPtr apiClient() const; // needs a connected cluster
    bool hasHistory() const;
    QString workDir() const; // <state>/apps/<id>: the database dumps
    // TARGET null: only whether the receiver's credentials are there.
    bool rsyncTarget(struct RsyncTarget *target) const;
    bool hasRsyncPassword() const; // the receiver's password is there (not read into memory for long)
    Failure missingCredentials() const;
    class RsyncBatch *newBatch(const std::shared_ptr<MigrationRun> &run, const QList<struct RsyncTransfer> &transfers);
    void restartReceiver(const std::shared_ptr<MigrationRun> &run, std::function<void()> go);
    void uploadDumps(const std::shared_ptr<MigrationRun> &run, const QStringList &dirs,
                     std::function<void(const Failure &failure, quint64 bytes)> done);
    // Finish (finish.cpp)
    // The input of the profile's configure action; empty with *PROBLEM
    // (InvalidArgument, "<key>: why") when a value is missing or invalid.
    QJsonObject configureInput(const QVariantMap &values, const QSet<QString> &databases, Failure *problem) const;
    void recoverInterruptedFinish();
    QList<Operation::Step> finishSteps(const std::shared_ptr<MigrationRun> &run);
    QList<Operation::Step> beforeTerminateSteps(const std::shared_ptr<MigrationRun> &run);
    Texts finishAftermath(const std::shared_ptr<MigrationRun> &run, const QList<Failure> &undoProblems);
    Texts finishSummary(const std::shared_ptr<MigrationRun> &run) const;
    void rememberNodeAddress(const QJsonArray &nodes);
    void forgetDumps();
    void finishCheckLocal(const std::shared_ptr<MigrationRun> &run, const Operation::Next &next);
    void finishCheckCluster(const std::shared_ptr<MigrationRun> &run, const Operation::Next &next);
    void finishSync(const std::shared_ptr<MigrationRun> &run, const QString &step, bool beforeStop,
                    const Operation::Next &next);
    // Finish's change sets (transfer/changeset.h): RECORD the manifests
    // before presync, or compare with them before the last sync; THEN.
    void walkChangeSets(const std::shared_ptr<MigrationRun> &run, bool record, const std::function<void()> &then);
    void changeSetsWalked(const std::shared_ptr<MigrationRun> &run, bool record, const QList<ChangeSetTree> &trees,
                          const QList<ChangeSetResult> &results);
    void finishStop(const std::shared_ptr<MigrationRun> &run, const Operation::Next &next);
    void finishRestart(const std::shared_ptr<MigrationRun> &run, const Operation::Next &next);
    void finishDump(const std::shared_ptr<MigrationRun> &run, const Operation::Next &next);
    void finishUpload(const std::shared_ptr<MigrationRun> &run, const Operation::Next &next);
    void runOnReceiver(const std::shared_ptr<MigrationRun> &run,
                       const std::function<QStringList(const struct RsyncTarget &)> &argvFor, const Operation::Next &next,
                       std::function<void(const struct ProcessResult &)> done);
    void finishTerminate(const std::shared_ptr<MigrationRun> &run, const Operation::Next &next);
    // The verification before /terminate (verify.cpp).
    void finishChecksumTables(const std::shared_ptr<MigrationRun> &run, const Operation::Next &next);
    void finishVerifyFiles(const std::shared_ptr<MigrationRun> &run, const Operation::Next &next);
    void verifiedFiles(const std::shared_ptr<MigrationRun> &run, const QList<struct RsyncResult> &results,
                       const QHash<QString, QString> &destinations);
    void finishVerifyTables(const std::shared_ptr<MigrationRun> &run, const Operation::Next &next);
    void finishVerifyDumps(const std::shared_ptr<MigrationRun> &run, const QString &dir, const Operation::Next &next);
    void verifiedDumps(const std::shared_ptr<MigrationRun> &run, const QString &dir, const struct ProcessResult &listing);
    void finishVerified(const std::shared_ptr<MigrationRun> &run, const Operation::Next &next);
    Texts verificationSummary(const std::shared_ptr<MigrationRun> &run) const;
    void finishImport(const std::shared_ptr<MigrationRun> &run, const Operation::Next &next);
    void finishConfigure(const std::shared_ptr<MigrationRun> &run, const Operation::Next &next);
    void configureEnded(const std::shared_ptr<MigrationRun> &run, const TaskResult &r, const Operation::Next &next);
    // Waits for the NS8 task TASKPATH (ACTION) to end, without giving up while
    // NS8 still runs it (NS7's writers stay stopped: NS8 may still come up);
    // UNTILANSWERED: a status that cannot be read is asked again too.
    void awaitTask(const std::shared_ptr<MigrationRun> &run, const QString &taskPath, const QString &action,
                   bool untilAnswered, std::function<void(const TaskResult &)> done, int round = 0);
    void awaitAgain(const std::shared_ptr<MigrationRun> &run, const QString &taskPath, const QString &action,
                    bool untilAnswered, std::function<void(const TaskResult &)> done, int round);

    void finishRetire(const std::shared_ptr<MigrationRun> &run, const Operation::Next &next);
    void finishDisable(const std::shared_ptr<MigrationRun> &run, const Operation::Next &next);
    void finishRedirect(const std::shared_ptr<MigrationRun> &run, const Operation::Next &next);
    void expandRedirect(const std::shared_ptr<MigrationRun> &run, const Operation::Next &next);
    void reloadWebServer(const std::shared_ptr<MigrationRun> &run, const Operation::Next &next);
    void redirectWarning(const std::shared_ptr<MigrationRun> &run, const QString &why, const Operation::Next &next);
    // Saved at once; false (lastError() says why) when the state database
    // could not be written.
    bool setFinishPhase(FinishPhase phase, const QStringList &stopped);
    bool writeRedirect(const QVariantMap &settings, QString *warning) const;
    void setJob(Job *job);
    QList<Operation::Step> scanSteps(class Scanner *scanner);
    Failure saveScan(const ScanResult &result);
    void changed(const QStringList &names);

    Context *m_ctx;
    AppProfile m_profile;
    AppRecord m_record;
    MigrationRecord m_migration;
    FieldChoiceMap m_fieldChoices;
    QList<SyncRecord> m_syncs;
    QPointer<Job> m_job;
    QString m_jobPath = QStringLiteral("/");
    QString m_path;
    SyncSchedule m_schedule;
    qint64 m_nextSync = 0;
    FinishSchedule m_finishSchedule;
    bool m_finishChecking = false;
    class QTimer *m_syncTimer = nullptr;
    class QTimer *m_finishTimer = nullptr;
};

} // namespace ns8m
