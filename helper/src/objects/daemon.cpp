#include "objects/daemon.h"

#include "objects/app.h"
#include "operations/migration.h"
#include "operations/cluster.h"
#include "operations/inventory.h"
#include "ns7/accountprovider.h"
#include "ns7/esmithdb.h"
#include "core/log.h"
#include "operations/preflight.h"
#include "core/paths.h"
#include "core/qtcompat.h"
#include "transfer/rsync.h"
#include "ns7/esmith.h"
#include "ns7/services.h"
#include "ns7/systemd.h"
#include "ns7/system.h"
#include "version.h"

#include <QDir>
#include <QFileInfo>
#include <QTimer>

#include <algorithm>

#include <sys/stat.h>

namespace ns8m {

namespace {

bool makePrivateDir(const QString &path, QString *error)
{
    if (!QDir().mkpath(path)) {
        *error = QStringLiteral("cannot create the state directory %1").arg(path);
        return false;
    }
    // Keys, passwords and the state database live here: root only.
    if (::chmod(QFile::encodeName(path).constData(), 0700) != 0) {
        *error = QStringLiteral("cannot make the state directory %1 private").arg(path);
        return false;
    }
    return true;
}

} // namespace

Daemon::Daemon(Settings settings, QObject *parent) : QObject(parent)
{
    m_ctx.settings = std::move(settings);
    m_ctx.bus = &m_bus;
    m_ctx.state = &m_state;
    m_ctx.authority = &m_authority;
    m_ctx.owner = this;
    m_ctx.createJob = [this](Job::Params params, QString *error) { return createJob(std::move(params), error); };
    m_ctx.appsInMigration = [this] { return appsInMigration(); };
    m_ctx.appsOnTemporaryDomain = [this] { return appsOnTemporaryDomain(); };
    m_ctx.appsBefore = [this](const QString &id) { return appsBefore(inventory(), id); };
    connect(&m_bus, &Bus::disconnected, this, &Daemon::busLost);
    m_cluster = new Cluster(&m_ctx, this);
    m_ctx.cluster = m_cluster;
    m_ctx.link = &m_cluster->link();
    connect(m_cluster, &Cluster::changed, this, [this](const QStringList &names) {
        m_bus.emitPropertiesChanged(QLatin1String(kRootPath), kManagerIface, names);
    });
}

Daemon::~Daemon()
{
    qDeleteAll(m_apps);
    m_apps.clear();
    for (const QPointer<Job> &j : std::as_const(m_jobs))
        delete j.data();
    if (m_objectManagerSlot)
        sd_bus_slot_unref(m_objectManagerSlot);
    if (m_managerSlot)
        sd_bus_slot_unref(m_managerSlot);
    m_state.close();
}

bool Daemon::start(QString *error)
{
    umask(077);
    Log::open(m_ctx.pathUnderRoot(QStringLiteral("/var/log/ns8-migration.log")));
    if (!makePrivateDir(m_ctx.settings.stateDir, error))
        return false;
    if (!m_state.open(m_ctx.settings.stateDir + QStringLiteral("/state.db"), error))
        return false;
    const int interrupted = m_state.failInterruptedJobs(
        QStringLiteral("The helper stopped before this job finished; it can be run again."), nowUsec());
    if (interrupted > 0)
        Log::warning(QStringLiteral("%1 job(s) were cut short by the last stop of the helper and are "
                                    "recorded as failed")
                         .arg(interrupted));
    m_nextJobId = m_state.nextJobId();
    if (!m_ctx.settings.caFile.isEmpty()) {
        m_ctx.extraCas = QSslCertificate::fromPath(m_ctx.settings.caFile);
        if (m_ctx.extraCas.isEmpty()) {
            *error = QStringLiteral("no certificate could be read from %1").arg(m_ctx.settings.caFile);
            return false;
        }
    }
    m_cluster->load();
    // Rewritten copies staged by a sync that a crash cut short.
    removeStaleStages(m_ctx.settings.stateDir + QStringLiteral("/stage"));

    if (!m_bus.open(m_ctx.settings.busAddress, error))
        return false;
    sd_bus *bus = m_bus.handle();
    m_ctx.systemd = new Systemd(bus, this);
    m_ctx.esmith = new EsmithTools(m_ctx.settings.root, this);
    m_ctx.services = new Ns7Services(m_ctx.systemd, m_ctx.esmith, this);
    if (!publish(error))
        return false;
    detectApps();
    if (!m_bus.requestName(kBusName, error))
        return false;
    Log::info(QStringLiteral("ns8-migration-helper %1 started (root %2, state %3, %4 app(s), %5)")
                  .arg(QLatin1String(kVersion), m_ctx.settings.root, m_ctx.settings.stateDir)
                  .arg(m_apps.size())
                  .arg(m_cluster->isConnected()
                           ? QStringLiteral("connected to %1 as node %2").arg(m_cluster->leader()).arg(m_cluster->nodeId())
                           : QStringLiteral("not connected")));
    m_cluster->restoreTunnel();
    return true;
}

void Daemon::detectApps()
{
    QString catalogError;
    const QString catalogPath = m_ctx.settings.profilesDir + QStringLiteral("/catalog/ns7-apps.yaml");
    if (std::optional<Catalog> catalog = Catalog::load(catalogPath, &catalogError))
        m_ctx.catalog = *catalog;
    else
        Log::error(QStringLiteral("the catalog of NS7 apps is not used: %1").arg(catalogError));
    QStringList errors;
    QList<AppProfile> profiles = AppProfile::loadDirectory(m_ctx.settings.profilesDir, &errors);
    // By file name, those that go last (the account provider) after the others.
    std::stable_partition(profiles.begin(), profiles.end(), [](const AppProfile &p) { return !p.last; });
    for (const QString &e : std::as_const(errors))
        Log::error(QStringLiteral("app profile skipped: %1").arg(e));
    QHash<QString, EsmithDb> dbs;
    for (const AppProfile &p : profiles) {
        if (!isInstalled(p, &dbs))
            continue;
        auto *app = new App(&m_ctx, p, this);
        QString err;
        if (!app->publish(&err)) {
            Log::error(err);
            delete app;
            continue;
        }
        m_apps.append(app);
        m_ctx.profiles.append(p);
        connect(app->migration(), &Migration::propertiesChanged, this, &Daemon::appChanged);
    }
}

// The profile's detect: its e-smith record, or NS7's account provider of its kind.
bool Daemon::isInstalled(const AppProfile &p, QHash<QString, EsmithDb> *dbs) const
{
    const QString database = p.detectProvider.isEmpty() ? p.detectDatabase : QStringLiteral("configuration");
    if (!dbs->contains(database)) {
        QString err;
        dbs->insert(database,
                    EsmithDb::load(m_ctx.pathUnderRoot(QStringLiteral("/var/lib/nethserver/db/") + database), &err));
        if (!err.isEmpty())
            Log::error(err);
    }
    if (!p.detectProvider.isEmpty())
        return readAccountProvider(dbs->value(database)).kindName() == p.detectProvider;
    return dbs->value(database).contains(p.detectKey);
}

QList<InventoryItem> Daemon::inventory() const
{
    QList<InstalledApp> apps;
    for (const App *a : m_apps)
        apps.append({a->migration()->profile().id, a->migration()->profile().name, a->path(), a->migration()->status(),
                     a->migration()->profile().detectProvider});
    return buildInventory(m_ctx, apps);
}

void Daemon::appChanged(const QStringList &names)
{
    if (!names.contains(QStringLiteral("Status")))
        return;
    m_bus.emitPropertiesChanged(QLatin1String(kRootPath), kManagerIface,
                                {QStringLiteral("Inventory"), QStringLiteral("DomainDependents")});
    // Only what happens while the helper runs ends the migration, never a start.
    for (const App *a : m_apps)
        if (a->migration()->status() == AppStatus::Migrated || a->migration()->status() == AppStatus::Skipped)
            m_endArmed = true;
    QTimer::singleShot(0, this, &Daemon::leaveWhenComplete);
}

// The end of the migration, as the original tool: once nothing is left to
// migrate (and no job runs), this server leaves the cluster by itself.
void Daemon::leaveWhenComplete()
{
    if (!m_endArmed || !m_cluster->isConnected() || m_cluster->state() != u"connected")
        return;
    for (const App *a : m_apps)
        if (a->migration()->isBusy())
            return; // its job's end calls again
    if (!migrationComplete(inventory()))
        return;
    m_endArmed = false;
    Log::info(QStringLiteral("nothing is left to migrate: leaving the cluster"));
    m_cluster->leaveAtEnd();
}

Job *Daemon::createJob(Job::Params params, QString *error)
{
    params.id = m_nextJobId++;
    params.lingerSeconds = m_ctx.settings.jobLingerSeconds;
    auto *job = new Job(&m_bus, &m_state, &m_authority, std::move(params), this);
    if (!job->publish(error)) {
        delete job;
        return nullptr;
    }
    m_jobs.append(job);
    connect(job, &Job::finished, this, [this] { QTimer::singleShot(0, this, &Daemon::leaveWhenComplete); });
    // Forget jobs that left the bus.
    removeIf(m_jobs, [](const QPointer<Job> &j) { return j.isNull(); });
    return job;
}

void Daemon::stop(const QString &why)
{
    for (const QPointer<Job> &j : std::as_const(m_jobs))
        if (j && !j->isFinished())
            j->finish(Job::Outcome::Failed, Texts{Text("job.helper-stopped", "The helper was stopped (%1) before this job "
                                                                             "finished; it can be run again.")
                                                      .arg(why)});
    if (m_bus.handle())
        sd_bus_release_name(m_bus.handle(), kBusName);
    Log::info(QStringLiteral("ns8-migration-helper stopped (%1)").arg(why));
}

QStringList Daemon::appsInMigration() const
{
    QStringList names;
    for (const App *a : m_apps) {
        const AppStatus s = a->migration()->status();
        // A Start still running has no "migrating" yet; a Scan changes nothing on NS8.
        const QString running = a->migration()->runningOperation();
        if (s == AppStatus::Migrating || s == AppStatus::Syncing || s == AppStatus::Finishing
            || (!running.isEmpty() && running != u"scan"))
            names.append(a->migration()->profile().name);
    }
    return names;
}

QStringList Daemon::appsOnTemporaryDomain() const
{
    QStringList names;
    if (!m_ctx.link || !m_ctx.link->domainCreated)
        return names;
    for (const App *a : m_apps)
        if (a->migration()->status() == AppStatus::Migrated && a->migration()->profile().usesUserDomain())
            names.append(a->migration()->profile().name);
    return names;
}

// ------------------------------------------------------------ the bus edge
//
// The Manager's methods (each checks polkit, then hands over to the
// cluster or to Preflight) and one getter per property, beside the vtable.

namespace {

int methodConnect(sd_bus_message *m, void *userdata, sd_bus_error *)
{
    auto *daemon = static_cast<Daemon *>(userdata);
    return authorizedCall(m, daemon, daemon->authority(), Cluster::connectOptions(), {Action::Connect},
                          [](Daemon *d, sd_bus_message *call, quint32 uid, const QVariantMap &o) {
                              d->cluster()->connectCall(call, uid, o);
                          });
}

int methodDisconnect(sd_bus_message *m, void *userdata, sd_bus_error *)
{
    auto *daemon = static_cast<Daemon *>(userdata);
    return authorizedCall(m, daemon, daemon->authority(), Cluster::disconnectOptions(), {Action::Connect},
                          [](Daemon *d, sd_bus_message *call, quint32 uid, const QVariantMap &o) {
                              d->cluster()->disconnectCall(call, uid, o);
                          });
}

int methodListNodes(sd_bus_message *m, void *userdata, sd_bus_error *)
{
    auto *d = static_cast<Daemon *>(userdata);
    QPointer<Daemon> guard(d);
    d->authority()->check(m, Action::Read, [guard](sd_bus_message *call, quint32) {
        if (guard)
            guard->cluster()->listNodesCall(call);
    });
    return 1;
}

int methodPreflight(sd_bus_message *m, void *userdata, sd_bus_error *)
{
    auto *daemon = static_cast<Daemon *>(userdata);
    return authorizedCall(m, daemon, daemon->authority(), Preflight::options(daemon->context().profiles), {Action::Read},
                          [](Daemon *d, sd_bus_message *call, quint32, const QVariantMap &o) {
                              // Just restarted: the checks wait for the tunnel to be back.
                              const PendingCall pending(call);
                              d->cluster()->whenTunnelSettled(d, [d, pending, o] { Preflight::call(&d->context(), pending.msg(), o); });
                          });
}

int methodDescribeSource(sd_bus_message *m, void *userdata, sd_bus_error *);

} // namespace

struct ManagerObject {
    static const Daemon &of(void *userdata) { return *static_cast<const Daemon *>(userdata); }
    static int str(sd_bus_message *reply, const QString &s) { return sd_bus_message_append(reply, "s", s.toUtf8().constData()); }
    // The link's facts show only while joined (not during Connect).
    static const ClusterLink *joined(void *userdata)
    {
        const Cluster *c = of(userdata).m_cluster;
        return c->isConnected() ? &c->link() : nullptr;
    }

    // DescribeSource's reply: NS7 as read now (ns7/system), and each app's last Scan.
    static void describeSource(const Daemon &d, sd_bus_message *call)
    {
        QList<Ns7AppSize> apps;
        for (const App *a : d.m_apps) {
            const AppRecord &rec = a->migration()->record();
            apps.append({a->migration()->profile().id, a->migration()->profile().name, toString(rec.status),
                         rec.sourceFiles, rec.sourceBytes, rec.databaseBytes, rec.scanTime});
        }
        sd_bus_message *reply = nullptr;
        int r = sd_bus_message_new_method_return(call, &reply);
        if (r >= 0)
            r = appendNs7System(reply, readNs7System(d.m_ctx.settings.root), apps);
        if (r >= 0)
            sd_bus_send(nullptr, reply, nullptr);
        sd_bus_message_unref(reply);
    }

    NS8M_BUS_GETTER(version)
    {
        Q_UNUSED(userdata)
        return sd_bus_message_append(reply, "s", kVersion);
    }
    NS8M_BUS_GETTER(state) { return str(reply, of(userdata).m_cluster->state()); }
    NS8M_BUS_GETTER(leader)
    {
        const ClusterLink *l = joined(userdata);
        return str(reply, l ? l->leader : QString());
    }
    NS8M_BUS_GETTER(nodeId)
    {
        const ClusterLink *l = joined(userdata);
        return sd_bus_message_append(reply, "u", l ? l->nodeId : 0u);
    }
    NS8M_BUS_GETTER(vpnAddress)
    {
        const ClusterLink *l = joined(userdata);
        return str(reply, l ? l->vpnAddress : QString());
    }
    NS8M_BUS_GETTER(userDomain)
    {
        const ClusterLink *l = joined(userdata);
        return str(reply, l ? l->userDomain : QString());
    }
    NS8M_BUS_GETTER(tlsFingerprint) { return str(reply, of(userdata).m_cluster->tlsFingerprint()); }
    NS8M_BUS_GETTER(inventory)
    {
        int r = sd_bus_message_open_container(reply, 'a', "a{sv}");
        for (const InventoryItem &i : of(userdata).inventory())
            if (r >= 0)
                r = appendItem(reply, i);
        return r < 0 ? r : sd_bus_message_close_container(reply);
    }
    NS8M_BUS_GETTER(domainDependents) { return appendStrings(reply, of(userdata).appsOnTemporaryDomain()); }

    static int appendItem(sd_bus_message *reply, const InventoryItem &i)
    {
        int r = sd_bus_message_open_container(reply, 'a', "{sv}");
        if (r >= 0)
            r = sd_bus_message_append(reply, "{sv}{sv}{sv}{sv}{sv}{sv}", "id", "s", i.id.toUtf8().constData(), "name", "s",
                                      i.name.toUtf8().constData(), "status", "s", i.status.toUtf8().constData(), "app", "o",
                                      i.appPath.toUtf8().constData(), "app_status", "s", i.appStatus.toUtf8().constData(),
                                      "provider", "b", int(i.provider));
        if (r >= 0)
            r = appendLangTexts(reply, "names", i.names);
        if (r >= 0)
            r = appendLangTexts(reply, "reason", i.reason);
        return r < 0 ? r : sd_bus_message_close_container(reply);
    }
    // One {sv} entry whose value is an a{ss}: language → text.
    static int appendLangTexts(sd_bus_message *reply, const char *key, const LangTexts &texts)
    {
        int r = sd_bus_message_open_container(reply, 'e', "sv");
        if (r >= 0)
            r = sd_bus_message_append(reply, "s", key);
        if (r >= 0)
            r = sd_bus_message_open_container(reply, 'v', "a{ss}");
        if (r >= 0)
            r = sd_bus_message_open_container(reply, 'a', "{ss}");
        for (auto l = texts.constBegin(); r >= 0 && l != texts.constEnd(); ++l)
            r = sd_bus_message_append(reply, "{ss}", l.key().toUtf8().constData(), l->toUtf8().constData());
        for (int k = 0; k < 3 && r >= 0; ++k)
            r = sd_bus_message_close_container(reply);
        return r;
    }
};

namespace {

int methodDescribeSource(sd_bus_message *m, void *userdata, sd_bus_error *)
{
    auto *d = static_cast<Daemon *>(userdata);
    QPointer<Daemon> guard(d);
    d->authority()->check(m, Action::Read, [guard](sd_bus_message *call, quint32) {
        if (guard)
            ManagerObject::describeSource(*guard, call);
    });
    return 1;
}

} // namespace

#define NS8M_MANAGER_PROPERTY(name, signature, getter, flags) \
    SD_BUS_PROPERTY(name, signature, ManagerObject::getter, 0, SD_BUS_VTABLE_PROPERTY_##flags)

const sd_bus_vtable kManagerVtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_METHOD_WITH_ARGS("Preflight", SD_BUS_ARGS("a{sv}", options), SD_BUS_RESULT("aa{sv}", checks),
                            methodPreflight, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_NAMES("ListNodes", "", "", "aa{sv}", SD_BUS_PARAM(nodes), methodListNodes,
                             SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_NAMES("DescribeSource", "", "", "a{sv}", SD_BUS_PARAM(source), methodDescribeSource,
                             SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_ARGS("Connect", SD_BUS_ARGS("a{sv}", options), SD_BUS_RESULT("o", job), methodConnect,
                            SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_ARGS("Disconnect", SD_BUS_ARGS("a{sv}", options), SD_BUS_RESULT("o", job), methodDisconnect,
                            SD_BUS_VTABLE_UNPRIVILEGED),
    NS8M_MANAGER_PROPERTY("Version", "s", version, CONST),
    NS8M_MANAGER_PROPERTY("State", "s", state, EMITS_CHANGE),
    NS8M_MANAGER_PROPERTY("Leader", "s", leader, EMITS_CHANGE),
    NS8M_MANAGER_PROPERTY("NodeId", "u", nodeId, EMITS_CHANGE),
    NS8M_MANAGER_PROPERTY("VpnAddress", "s", vpnAddress, EMITS_CHANGE),
    NS8M_MANAGER_PROPERTY("UserDomain", "s", userDomain, EMITS_CHANGE),
    NS8M_MANAGER_PROPERTY("TlsFingerprint", "s", tlsFingerprint, EMITS_CHANGE),
    NS8M_MANAGER_PROPERTY("Inventory", "aa{sv}", inventory, EMITS_CHANGE),
    NS8M_MANAGER_PROPERTY("DomainDependents", "as", domainDependents, EMITS_CHANGE),
    SD_BUS_VTABLE_END,
};

#undef NS8M_MANAGER_PROPERTY

bool Daemon::publish(QString *error)
{
    sd_bus *bus = m_bus.handle();
    if (sd_bus_add_object_vtable(bus, &m_managerSlot, kRootPath, kManagerIface, kManagerVtable, this) < 0
        || sd_bus_add_object_manager(bus, &m_objectManagerSlot, kRootPath) < 0) {
        *error = QStringLiteral("cannot put the manager on the bus");
        return false;
    }
    return true;
}

} // namespace ns8m
