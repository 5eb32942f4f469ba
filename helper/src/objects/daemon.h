// The helper as a whole: the bus connection, the state, the apps and the
// jobs, and the Manager object at /org/nethserver/Ns8Migration1.
#pragma once

#include "profile/appprofile.h"
#include "bus/authority.h"
#include "bus/bus.h"
#include "bus/job.h"
#include "store/statedb.h"

#include <QList>
#include <QObject>
#include <QPointer>
#include <QSslCertificate>

namespace ns8m {

class App;
class Cluster;
class Systemd;

// What the command line sets (options.cpp); the defaults here are the only
// ones, --help shows them.
struct Settings {
    static QString defaultProfilesDir(); // the installed profiles, set at build time

    QString busAddress;     // "" → the system bus
    QString stateDir = QStringLiteral("/var/lib/ns8-migration");
    QString root = QStringLiteral("/");
    QString profilesDir = defaultProfilesDir();
    int jobLingerSeconds = 600;
    QString caFile;             // CAs trusted for the leader besides the system's
    int vpnTimeoutSeconds = 60; // first handshake and API through the tunnel
    int taskTimeoutSeconds = 300;
};

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

    Bus *bus() { return &m_bus; }
    StateDb *state() { return &m_state; }
    Authority *authority() { return &m_authority; }
    const Settings &settings() const { return m_settings; }

    // A new job with the next free id, on the bus and in the state DB.
    Job *createJob(Job::Params params, QString *error);

    QString pathUnderRoot(const QString &path) const;
    QList<QSslCertificate> extraCas() const { return m_extraCas; }
    // Names of the apps whose migration is under way (migrating, syncing).
    QStringList appsInMigration() const;
    Cluster *cluster() { return m_cluster; }
    // The apps installed on NS7; app() is null for an unknown id.
    QList<App *> apps() const { return m_apps; }
    App *app(const QString &id) const;
    // systemd's manager on the same bus (set once the bus is open).
    Systemd *systemd() { return m_systemd; }
    int appendProperty(const char *name, sd_bus_message *reply) const;

signals:
    void busLost(const QString &reason);

private:
    void detectApps();

    Settings m_settings;
    Bus m_bus;
    StateDb m_state;
    Authority m_authority{&m_bus};
    sd_bus_slot *m_managerSlot = nullptr;
    sd_bus_slot *m_objectManagerSlot = nullptr;
    QList<App *> m_apps;
    QList<QPointer<Job>> m_jobs;
    Cluster *m_cluster = nullptr;
    Systemd *m_systemd = nullptr;
    QList<QSslCertificate> m_extraCas;
    quint64 m_nextJobId = 1;
};

} // namespace ns8m
