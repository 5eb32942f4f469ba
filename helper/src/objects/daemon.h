// The helper as a whole: the bus connection, the state, the apps and the
// jobs, and the Manager object at /org/nethserver/Ns8Migration1.
#pragma once

#include "bus/authority.h"
#include "bus/bus.h"
#include "bus/job.h"
#include "core/settings.h"
#include "operations/context.h"
#include "store/statedb.h"

#include <QHash>
#include <QList>
#include <QObject>
#include <QPointer>
#include <QSslCertificate>

namespace ns8m {

class EsmithDb;

class App;
class Cluster;
class Systemd;


class Daemon : public QObject
{
    Q_OBJECT
public:
    explicit Daemon(Settings settings, QObject *parent = nullptr);
    ~Daemon() override;

    // Opens the state, loads the profiles, puts every object on the bus and
    // takes the bus name.  On failure *error says why.
    bool start(QString *error);
    // Ends every running job as failed ("the helper was stopped") and
    // releases the name; called on SIGTERM.
    void stop(const QString &why);

    // What the operations are given (operations/context.h).
    const Context &context() const { return m_ctx; }
    Authority *authority() { return &m_authority; }
    Cluster *cluster() { return m_cluster; }

signals:
    void busLost(const QString &reason);

private:
    friend struct ManagerObject; // the bus edge: property getters (daemon.cpp)
    void detectApps();
    bool isInstalled(const AppProfile &profile, QHash<QString, EsmithDb> *dbs) const;
    void appChanged(const QStringList &names);
    void leaveWhenComplete();
    bool publish(QString *error); // the Manager object, its vtable last in daemon.cpp
    // A new job with the next free id, on the bus and in the state DB.
    Job *createJob(Job::Params params, QString *error);
    // Names of the apps whose migration is under way (migrating, syncing).
    QStringList appsInMigration() const;
    QStringList appsOnTemporaryDomain() const;
    QList<struct InventoryItem> inventory() const;

    Context m_ctx;
    Bus m_bus;
    StateDb m_state;
    Authority m_authority{&m_bus};
    sd_bus_slot *m_managerSlot = nullptr;
    sd_bus_slot *m_objectManagerSlot = nullptr;
    QList<App *> m_apps;
    bool m_endArmed = false; // an app became migrated or skipped since the start
    QList<QPointer<Job>> m_jobs;
    Cluster *m_cluster = nullptr;
    quint64 m_nextJobId = 1;
};

} // namespace ns8m
