// An application installed on NS7, at /org/nethserver/Ns8Migration1/apps/<id>.
#pragma once

#include "appprofile.h"
#include "bus.h"
#include "statedb.h"

#include <QObject>
#include <QPointer>

#include <functional>
#include <memory>

namespace ns8m {

class Daemon;
class Job;
class Ns8Client;
struct ScanResult;

class App : public QObject
{
    Q_OBJECT
public:
    App(Daemon *daemon, AppProfile profile, QObject *parent = nullptr);
    ~App() override;

    bool publish(QString *error);
    QString path() const;
    const AppProfile &profile() const { return m_profile; }
    Daemon *daemon() const { return m_daemon; }
    QString status() const { return m_record.status; }

    void startScan(sd_bus_message *call, quint32 uid);
    // The migration (appmigration.cpp); each replies to CALL.
    void startMigration(sd_bus_message *call, quint32 uid, const QVariantMap &options);
    void startSync(sd_bus_message *call, quint32 uid, const QVariantMap &options);
    void startAbort(sd_bus_message *call, quint32 uid, const QVariantMap &options);
    void skip(sd_bus_message *call, bool skip);
    void checkOptions(sd_bus_message *call, const QString &method, const QVariantMap &options);
    QList<OptionSpec> startOptions() const;
    bool isBusy() const;
    int appendProperty(const char *name, sd_bus_message *reply) const;

private:
    struct MigrationRun;
    bool refuseUnlessIdle(sd_bus_message *call);
    Job *newJob(sd_bus_message *call, quint32 uid, const QString &operation, const char *cancelAction,
                QList<struct JobStep> steps);
    QList<struct JobStep> syncSteps() const;
    void setStatus(const QString &status);
    void runChecks(const std::shared_ptr<MigrationRun> &run);
    void runProxy(const std::shared_ptr<MigrationRun> &run);
    void runImport(const std::shared_ptr<MigrationRun> &run);
    void runSync(const std::shared_ptr<MigrationRun> &run, std::function<void(bool ok, const QString &message)> done);
    void endRun(const std::shared_ptr<MigrationRun> &run, bool ok, const QString &message, const QString &errorName = {});
    QString secretPath() const;
    void setJob(Job *job);
    void scanDone(Job *job, bool success, const QString &message, const ScanResult &result);
    void changed(const QStringList &names);

    Daemon *m_daemon;
    AppProfile m_profile;
    AppRecord m_record;
    MigrationRecord m_migration;
    QList<SyncRecord> m_syncs;
    QPointer<Job> m_job;
    QString m_jobPath = QStringLiteral("/");
    sd_bus_slot *m_slot = nullptr;
};

} // namespace ns8m
