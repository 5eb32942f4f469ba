#include "operations/preflight.h"
#include "operations/estimate.h"

#include "operations/context.h"
#include "ns7/esmithdb.h"
#include "profile/fields.h"
#include "bus/job.h"
#include "core/log.h"
#include "core/commands.h"
#include "core/process.h"
#include "transfer/scanner.h"
#include "store/statedb.h"
#include "ns7/systemd.h"
#include "ns7/system.h"
#include "version.h"
#include "vpn/wireguard.h"
#include "core/qtcompat.h"

#include <QDateTime>
#include <QFile>
#include <QFileInfo>
#include <QHostAddress>
#include <QJsonArray>
#include <QPointer>
#include <QRegularExpression>
#include <QStorageInfo>

#include <algorithm>
#include <memory>

namespace ns8m {

namespace {

const QString kUnreachable = QString::fromLatin1(Error::ClusterUnreachable);
const QString kTlsNotTrusted = QString::fromLatin1(Error::TlsNotTrusted);
constexpr qint64 kDay = 24 * 3600;
constexpr quint64 kMiB = 1024ull * 1024;

const QString kOk = QStringLiteral("ok");
const QString kWarning = QStringLiteral("warning");
const QString kBlocker = QStringLiteral("blocker");

// Which operations each check can stop (docs/preflight.md has the same table).
QStringList gatesOf(const QString &id)
{
    static const QHash<QString, QStringList> gates = {
        {QStringLiteral("app-services"), {QStringLiteral("start"), QStringLiteral("finish")}},
        {QStringLiteral("ns7-version"), {QStringLiteral("start")}},
        {QStringLiteral("ns7-disk"), {QStringLiteral("start"), QStringLiteral("finish")}},
        {QStringLiteral("leader-reach"), {QStringLiteral("connect")}},
        {QStringLiteral("leader-tls"), {QStringLiteral("connect")}},
        {QStringLiteral("cluster-nodes"), {QStringLiteral("connect"), QStringLiteral("start")}},
        {QStringLiteral("node-disk"), {QStringLiteral("start")}},
        {QStringLiteral("cluster-fresh"), {QStringLiteral("connect"), QStringLiteral("start")}},
        {QStringLiteral("vpn-endpoint"), {QStringLiteral("connect")}},
        {QStringLiteral("vpn-handshake"), {QStringLiteral("start"), QStringLiteral("finish")}},
        {QStringLiteral("vpn-api"), {QStringLiteral("start"), QStringLiteral("finish")}},
        {QStringLiteral("vpn-firewall"), {QStringLiteral("start"), QStringLiteral("finish")}},
        {QStringLiteral("fqdns"), {QStringLiteral("start"), QStringLiteral("finish")}},
        {QStringLiteral("dns-records"), {}},
        {QStringLiteral("account-provider"), {QStringLiteral("connect"), QStringLiteral("start"), QStringLiteral("finish")}},
        {QStringLiteral("scan"), {QStringLiteral("start")}},
        {QStringLiteral("data-sizes"), {}},
        {QStringLiteral("symlinks"), {QStringLiteral("start"), QStringLiteral("finish")}},
        {QStringLiteral("sync-estimate"), {}},
        {QStringLiteral("downtime"), {QStringLiteral("finish")}},
        {QStringLiteral("backup"), {QStringLiteral("start"), QStringLiteral("finish")}},
    };
    return gates.value(id);
}

QString ageText(qint64 seconds)
{
    if (seconds < 0)
        seconds = 0;
    if (seconds < 120)
        return QStringLiteral("%1 s").arg(seconds);
    if (seconds < 2 * 3600)
        return QStringLiteral("%1 min").arg((seconds + 30) / 60);
    if (seconds < 2 * kDay)
        return QStringLiteral("%1 h %2 min").arg(seconds / 3600).arg((seconds % 3600) / 60);
    // "d", the day's unit symbol: an age is data, said the same in every language.
    return QStringLiteral("%1 d").arg(seconds / kDay);
}

// The largest free space among a get-node-status answer's disks.
quint64 freeOf(const QJsonObject &nodeStatus)
{
    quint64 free = 0;
    for (const QJsonValue &d : nodeStatus.value(QStringLiteral("disks")).toArray())
        free = qMax(free, quint64(d.toObject().value(QStringLiteral("free")).toDouble()));
    return free;
}

struct Run {
    const Context *ctx = nullptr;
    Preflight::Input in;
    std::function<void(const QList<Check> &)> done;
    int pending = 1; // the starter holds one until everything is under way

    // NS7
    const AppProfile *app = nullptr; // the app looked at, null: none installed
    AppRecord record;
    MigrationRecord migration;
    QList<SyncRecord> syncs;
    EsmithDb config;
    AccountProvider provider;
    QStringList services; // the app's services enabled in the configuration DB
    QHash<QString, UnitState> units;
    QString unitsError;
    bool unitsRead = false;

    // The leader
    bool connected = false;
    QString leader;
    TlsPolicy tls;
    bool leaderLooked = false;
    QStringList leaderAddresses;
    bool probed = false;
    ApiError probeError;
    QString fingerprint;

    // The cluster API
    ClientPtr own;
    Ns8Client *api = nullptr;
    bool apiTried = false;
    ApiError apiError;
    bool haveStatus = false, haveDomains = false, haveModules = false, haveNodes = false;
    QJsonObject status, domains;
    QJsonArray modules, nodeList;
    quint32 node = 0; // the destination
    bool nodeRead = false;
    QJsonObject nodeStatus;
    Failure nodeFailure; // why get-node-status gave nothing, when it failed

    // Network
    QString endpoint;
    bool endpointGuessed = false;
    bool endpointLooked = false;
    QStringList endpointAddresses;
    bool handshakeLooked = false;
    qint64 handshake = -1; // epoch seconds, 0 never
    QString handshakeError;

    // DNS
    QMap<QString, QStringList> fqdnAddresses;
};

using RunPtr = std::shared_ptr<Run>;

void evaluate(const RunPtr &run);

void finishOne(const RunPtr &run)
{
    if (--run->pending == 0)
        evaluate(run);
}

// NSS resolution, as wg and rsync will do it (getent, not Qt's cache).
void lookup(const RunPtr &run, const QString &host, std::function<void(const QStringList &)> done)
{
    ++run->pending;
    runProcess(
        run->ctx->owner, commands::getentAhosts(host),
        [run, done](const ProcessResult &r) {
            QStringList addresses;
            if (r.ok())
                for (const QByteArray &line : r.out.split('\n')) {
                    const QString a = QString::fromLatin1(line.simplified().split(' ').value(0));
                    if (!a.isEmpty() && !addresses.contains(a))
                        addresses.append(a);
                }
            done(addresses);
            finishOne(run);
        },
        {}, 10000);
}

bool isIpAddress(const QString &s)
{
    return !QHostAddress(s).isNull();
}

quint32 selfNode(const RunPtr &run)
{
    return run->connected ? run->ctx->link->nodeId : 0;
}

void resolveEndpoint(const RunPtr &run)
{
    if (run->endpoint.isEmpty())
        return;
    const QString host = hostOfEndpoint(run->endpoint);
    if (isIpAddress(host)) {
        run->endpointLooked = true;
        run->endpointAddresses = QStringList{host};
        return;
    }
    lookup(run, host, [run](const QStringList &a) {
        run->endpointLooked = true;
        run->endpointAddresses = a;
    });
}

// Second stage of the API: the destination node's disks and the endpoint.
void apiDetails(const RunPtr &run)
{
    if (run->haveNodes && run->endpoint.isEmpty())
        for (const QJsonValue &v : std::as_const(run->nodeList)) {
            const QJsonObject n = v.toObject();
            if (n.value(QStringLiteral("role")).toString() == u"leader")
                run->endpoint = n.value(QStringLiteral("vpn_endpoint")).toString();
        }
    if (run->endpoint.isEmpty() && !run->leader.isEmpty()) {
        run->endpoint = run->leader + QStringLiteral(":55820");
        run->endpointGuessed = true;
    }
    resolveEndpoint(run);

    const quint32 self = selfNode(run);
    quint32 leaderNode = 0, first = 0;
    for (const QJsonValue &v : run->status.value(QStringLiteral("nodes")).toArray()) {
        const QJsonObject n = v.toObject();
        const quint32 id = quint32(n.value(QStringLiteral("id")).toInt());
        if (id == self)
            continue;
        if (!first)
            first = id;
        if (n.value(QStringLiteral("local")).toBool())
            leaderNode = id;
    }
    run->node = quint32(run->in.options.value(QStringLiteral("node"), 0u).toUInt());
    if (run->node == 0 && run->migration.node)
        run->node = run->migration.node;
    if (run->node == 0)
        run->node = leaderNode ? leaderNode : first;
    if (run->node == 0 || !run->haveStatus)
        return;
    ++run->pending;
    run->api->runTask(QStringLiteral("node/%1").arg(run->node), QStringLiteral("get-node-status"), {},
                      [run](const TaskResult &r) {
        run->nodeRead = r.ok();
        if (r.ok())
            run->nodeStatus = r.output.toObject();
        else
            run->nodeFailure = r.failure(QStringLiteral("get-node-status"));
        finishOne(run);
    });
}

// First stage: what the cluster is (each action at once, in parallel).
void apiRead(const RunPtr &run)
{
    auto stage = std::make_shared<int>(1);
    auto arrive = [run, stage] {
        if (--*stage == 0) {
            apiDetails(run);
            finishOne(run);
        }
    };
    ++run->pending; // released by the last arrival, after apiDetails has queued its work
    if (!run->haveStatus) {
        ++*stage;
        run->api->runTask(QStringLiteral("cluster"), QStringLiteral("get-cluster-status"), {}, [run, arrive](const TaskResult &r) {
            run->haveStatus = r.ok();
            run->status = r.output.toObject();
            if (!r.ok() && !run->apiError.isError())
                run->apiError = r.failure(QStringLiteral("get-cluster-status"), QString::fromLatin1(Error::Failed));
            arrive();
        });
    }
    if (!run->haveDomains) {
        ++*stage;
        run->api->runTask(QStringLiteral("cluster"), QStringLiteral("list-user-domains"), {}, [run, arrive](const TaskResult &r) {
            run->haveDomains = r.ok();
            run->domains = r.output.toObject();
            arrive();
        });
    }
    ++*stage;
    run->api->runTaskWithoutInput(QStringLiteral("cluster"), QStringLiteral("list-modules"), [run, arrive](const TaskResult &r) {
        run->haveModules = r.ok();
        run->modules = r.output.toArray();
        arrive();
    });
    ++*stage;
    run->api->runTask(QStringLiteral("cluster"), QStringLiteral("list-nodes"), {}, [run, arrive](const TaskResult &r) {
        run->haveNodes = r.ok();
        run->nodeList = r.output.toObject().value(QStringLiteral("nodes")).toArray();
        arrive();
    });
    arrive();
}

void startApi(const RunPtr &run)
{
    if (run->in.phase == Preflight::Phase::Connect && run->in.admin) {
        run->api = run->in.admin;
        run->apiTried = true;
        run->status = run->in.clusterStatus;
        run->haveStatus = !run->status.isEmpty();
        run->domains = run->in.domains;
        run->haveDomains = !run->domains.isEmpty();
        return apiRead(run);
    }
    if (run->connected) {
        // The saved endpoint is what the tunnel uses.
        run->endpoint = run->ctx->link->leaderEndpoint;
        run->own.reset(run->ctx->vpnClient(nullptr));
        run->own->setRequestTimeout(5000);
        run->own->setRetryDelays({});
        run->own->setTaskTimeout(20000);
        run->api = run->own.get();
        run->apiTried = true;
        ++run->pending;
        run->api->login([run](const ApiError &e) {
            if (e.isError()) {
                run->apiError = e;
                resolveEndpoint(run);
            } else {
                apiRead(run);
            }
            finishOne(run);
        });
        return;
    }
    // Not joined, no credentials: NS8's default endpoint is the leader's name.
    if (!run->leader.isEmpty()) {
        run->endpoint = run->leader + QStringLiteral(":55820");
        run->endpointGuessed = true;
        resolveEndpoint(run);
    }
}

void startLeader(const RunPtr &run)
{
    if (run->leader.isEmpty())
        return;
    if (run->in.phase == Preflight::Phase::Connect && run->in.admin) {
        // Connect has logged in already: the leader answered over TLS.
        run->probed = true;
        run->fingerprint = run->in.admin->peerFingerprint();
        return;
    }
    if (isIpAddress(run->leader)) {
        run->leaderLooked = true;
        run->leaderAddresses = QStringList{run->leader};
    } else {
        lookup(run, run->leader, [run](const QStringList &a) {
            run->leaderLooked = true;
            run->leaderAddresses = a;
        });
    }
    // A login without credentials: any answer over a trusted TLS session
    // (401 included) says that HTTPS works.
    auto *probe = new Ns8Client(run->ctx->owner);
    probe->setBaseUrl(adminApiBase(run->leader));
    probe->setTlsPolicy(run->tls);
    probe->setRequestTimeout(8000);
    probe->setRetryDelays({});
    ++run->pending;
    probe->login([run, probe](const ApiError &e) {
        run->probed = true;
        run->probeError = e;
        run->fingerprint = probe->peerFingerprint();
        probe->deleteLater();
        finishOne(run);
    });
}

void startSystemd(const RunPtr &run)
{
    if (!run->app || run->services.isEmpty())
        return;
    Systemd *systemd = run->ctx->systemd;
    if (!systemd) {
        run->unitsError = QStringLiteral("the helper has no connection to systemd");
        return;
    }
    ++run->pending;
    systemd->unitStates(run->services, [run](const QHash<QString, UnitState> &states, const QString &error) {
        run->unitsRead = error.isEmpty();
        run->units = states;
        run->unitsError = error;
        finishOne(run);
    });
}

void startHandshake(const RunPtr &run)
{
    if (!run->connected)
        return;
    ++run->pending;
    runProcess(
        run->ctx->owner, commands::wgShowLatestHandshakes(QStringLiteral("ns8")),
        [run](const ProcessResult &r) {
            run->handshakeLooked = true;
            if (!r.ok()) {
                run->handshakeError = QStringLiteral("the WireGuard interface ns8 is missing or cannot be read");
            } else {
                run->handshake = 0;
                for (const QByteArray &line : r.out.split('\n')) {
                    const QList<QByteArray> cols = line.simplified().split(' ');
                    if (cols.size() >= 2)
                        run->handshake = qMax(run->handshake, cols.at(1).toLongLong());
                }
            }
            finishOne(run);
        },
        {}, 10000);
}

QStringList fieldHosts(const RunPtr &run)
{
    QStringList hosts;
    if (!run->app)
        return hosts;
    for (const Field &f : run->app->fields) {
        if (f.kind != Field::Kind::Fqdn)
            continue;
        const QString v = run->in.options.value(f.id, run->migration.settings.value(f.id)).toString().trimmed();
        if (!v.isEmpty() && checkFqdn(v).isEmpty() && !hosts.contains(v))
            hosts.append(v);
    }
    return hosts;
}

void startDns(const RunPtr &run)
{
    for (const QString &h : fieldHosts(run))
        lookup(run, h, [run, h](const QStringList &a) { run->fqdnAddresses.insert(h, a); });
}

// ---------------------------------------------------------------- the checks

struct Report {
    QList<Check> checks;
    Check &add(const QString &id, const QString &group, const Text &title, const QString &doc)
    {
        Check c;
        c.id = id;
        c.group = group;
        c.titleText = title;
        c.title = title.english();
        c.doc = doc;
        c.severity = kOk;
        c.gates = gatesOf(id);
        checks.append(c);
        return checks.last();
    }
};

void set(Check &c, const QString &severity, const Text &detail, const Text &remedy = {})
{
    c.severity = severity;
    c.detailText = detail;
    c.detail = detail.english();
    c.remedyText = remedy;
    c.remedy = remedy.english();
}

// DETAIL followed by MORE sentences (a list's items).
void set(Check &c, const QString &severity, const Text &detail, const Texts &more, const Text &remedy)
{
    set(c, severity, detail, remedy);
    c.detailMore = more;
    c.detail = english(Texts{detail} + more);
}

// WHY is the whole sentence, "Not checked yet: ..." included.
void notYet(Check &c, const Text &why, const Text &remedy = {})
{
    c.checked = false;
    set(c, kOk, why, remedy);
}

// WHY followed by MORE sentences (what an answer that did not come said).
void notYet(Check &c, const Text &why, const Texts &more)
{
    c.checked = false;
    set(c, kOk, why, more, {});
}

// The template T with ARGS appended to its arguments.
Text withArgs(Text t, const QStringList &args)
{
    t.args += args;
    return t;
}

// FREE bytes against NEED: a blocker below it, a warning with less than 20 %
// to spare, else fine.
void judgeSpace(Check &c, quint64 free, quint64 need, const Text &enough, const Text &low, const Text &remedy)
{
    if (free < need)
        set(c, kBlocker, enough, remedy);
    else if (free < need + need / 5)
        set(c, kWarning, low, remedy);
    else
        set(c, kOk, enough);
}

QString appName(const RunPtr &run)
{
    return run->app ? run->app->name : QStringLiteral("the app");
}

const Text kScanFirst = Text("check.remedy-scan", "Scan the app.");

Text noApp()
{
    return Text("check.not-yet.no-app", "Not checked yet: no app to migrate is installed on this server.");
}

// Why a check that needs the cluster's API could not be judged.
Text needApi(const RunPtr &run)
{
    if (run->apiError.isError())
        return Text("check.not-yet.api-down", "Not checked yet: the cluster API did not answer (%1).").arg(run->apiError.message);
    return Text("check.not-yet.connect-first", "Not checked yet: it needs the cluster's API: connect first.");
}

void checkServices(const RunPtr &run, Report &rep, const QString &doc)
{
    Check &svc = rep.add(QStringLiteral("app-services"), QStringLiteral("source"),
                         run->app ? Text("check.app-services.title", "%1 installed and running on NS7").arg(appName(run))
                                  : Text("check.app-services.title-no-app", "the app installed and running on NS7"),
                         doc);
    if (!run->app) {
        notYet(svc, noApp());
    } else if (run->services.isEmpty()) {
        set(svc, kOk, Text("check.app-services.none-enabled",
                           "%1 is installed; none of its services is enabled in NS7's configuration.")
                          .arg(appName(run)));
    } else if (!run->unitsRead) {
        set(svc, kWarning,
            Text("check.app-services.unreadable", "The state of %1's services could not be read from systemd: %2.")
                .arg(appName(run))
                .arg(run->unitsError),
            Text("check.app-services.remedy-unreadable", "Check with: systemctl status %1").arg(run->services.join(u' ')));
    } else {
        QStringList down;
        for (const QString &s : std::as_const(run->services)) {
            const UnitState st = run->units.value(Systemd::unitName(s));
            if (!st.isActive())
                down.append(QStringLiteral("%1 (%2)").arg(s, st.activeState.isEmpty() ? st.loadState : st.activeState));
        }
        if (down.isEmpty())
            set(svc, kOk, Text("check.app-services.running", "%1 is installed and its services are running: %2.")
                              .arg(appName(run))
                              .arg(run->services.join(QStringLiteral(", "))));
        else
            set(svc, kWarning,
                Text("check.app-services.stopped", "%1 is installed but not all its enabled services run: %2.")
                    .arg(appName(run))
                    .arg(down.join(QStringLiteral(", "))),
                Text("check.app-services.remedy-stopped", "The guide asks for a working %1 before the migration: start the "
                                                          "services (systemctl start %2) and fix what stops them.")
                    .arg(appName(run))
                    .arg(down.first().section(u' ', 0, 0)));
    }
}

void checkVersion(const RunPtr &run, Report &rep, const QString &doc)
{
    Check &ver = rep.add(QStringLiteral("ns7-version"), QStringLiteral("source"), Text("check.ns7-version.title", "NS7 up to date"), doc);
    const QString release = readNs7Release(run->ctx->settings.root);
    static const QRegularExpression re(QStringLiteral("release\\s+(\\d+)\\.(\\d+)"));
    const QRegularExpressionMatch m = re.match(release);
    const QString helper = QLatin1String(kVersion);
    const Text update = Text("check.ns7-version.remedy", "Update NS7 to the latest 7.9 release (Software Center, or "
                                                  "yum update) before migrating.");
    if (!m.hasMatch())
        set(ver, kWarning,
            Text("check.ns7-version.unreadable", "The NS7 release could not be read from /etc/nethserver-release "
                                                 "(migration helper %1).")
                .arg(helper),
            update);
    else if (m.captured(1).toInt() != 7 || m.captured(2).toInt() < 9)
        set(ver, kWarning,
            Text("check.ns7-version.old", "\"%1\" is older than NethServer 7.9 (migration helper %2).").arg(release).arg(helper),
            update);
    else
        set(ver, kOk, Text("check.ns7-version.current", "%1; migration helper %2.").arg(release).arg(helper));
}

void checkSourceDisk(const RunPtr &run, Report &rep)
{
    Check &disk = rep.add(QStringLiteral("ns7-disk"), QStringLiteral("source"),
                          Text("check.ns7-disk.title", "Space on NS7 for the database dumps"), QStringLiteral("disk-space-calculation"));
    const QStorageInfo storage(run->ctx->settings.stateDir);
    if (!run->app || run->record.scanTime == 0) {
        notYet(disk, Text("check.ns7-disk.no-scan", "Not checked yet: the databases' size comes from a Scan."), kScanFirst);
        return;
    }
    if (!storage.isValid()) {
        set(disk, kWarning, Text("check.ns7-disk.unreadable", "The free space of %1 could not be read.").arg(run->ctx->settings.stateDir));
        return;
    }
    const quint64 db = run->record.databaseBytes;
    const quint64 need = db + db / 2 + 256 * kMiB;
    const quint64 free = quint64(storage.bytesAvailable());
    const QStringList found{humanBytes(free), storage.rootPath(), humanBytes(db), humanBytes(need)};
    const Text remedy = Text("check.ns7-disk.remedy", "Free space on %1 (old logs, old backups) before the migration.")
                            .arg(storage.rootPath());
    const Text enough = Text("check.ns7-disk.found", "%1 free on %2; the dumps of %3 of databases need about %4.");
    judgeSpace(disk, free, need, withArgs(enough, found),
               withArgs(Text("check.ns7-disk.low", "%1 free on %2; the dumps of %3 of databases need about %4. "
                                                   "Less than 20 % is left over."),
                        found),
               remedy);
}

void checkSource(const RunPtr &run, Report &rep)
{
    const QString doc = QStringLiteral("source-system-nethserver-7");
    checkServices(run, rep, doc);
    checkVersion(run, rep, doc);
    checkSourceDisk(run, rep);
}

// One check per companion module of the app's profile, its image as the id.
void checkCompanion(const RunPtr &run, Report &rep, const QString &doc, const QString &image)
{
    Check &c = rep.add(image, QStringLiteral("destination"), Text("check.companion.title", "%1 on the destination node").arg(image), doc);
    c.gates = QStringList{QStringLiteral("start")};
    if (!run->haveModules || !run->haveStatus)
        return notYet(c, needApi(run));
    const ModulePlacement placed = modulePlacement(run->modules, image, run->node);
    const QString node = QString::number(run->node);
    if (!placed.installedAs.isEmpty())
        set(c, kOk, Text("check.companion.installed", "%1 is installed on node %2 (%3).").arg(image).arg(node).arg(placed.installedAs));
    else if (placed.installable)
        set(c, kWarning,
            Text("check.companion.installable", "%1 is not installed on node %2: Start will install it, and it must be "
                                                "configured by hand afterwards.")
                .arg(image)
                .arg(node),
            Text("check.companion.remedy-install", "Install and configure %1 on node %2 before the migration, as the "
                                                   "guide recommends.")
                .arg(image)
                .arg(node));
    else
        set(c, kWarning,
            placed.rejectReason.isEmpty()
                ? Text("check.companion.impossible", "%1 is not installed on node %2 and cannot be installed there.")
                      .arg(image)
                      .arg(node)
                : Text("check.companion.refused", "%1 is not installed on node %2 and cannot be installed there (%3).")
                      .arg(image)
                      .arg(node)
                      .arg(placed.rejectReason),
            Text("check.companion.remedy-refused", "Make sure %1 can reach a %2 module, or choose another node.")
                .arg(appName(run))
                .arg(image));
}

void checkCompanions(const RunPtr &run, Report &rep, const QString &doc)
{
    if (!run->app)
        return;
    for (const auto &companion : run->app->companions)
        checkCompanion(run, rep, doc, companion.first);
}

const Text kGiveLeader = Text("check.not-yet.leader", "Not checked yet: give the NS8 leader's host name.");

void checkReach(const RunPtr &run, Check &reach)
{
    if (run->leaderLooked && run->leaderAddresses.isEmpty())
        set(reach, kBlocker, Text("check.leader-reach.unresolved", "%1 does not resolve from NS7.").arg(run->leader),
            Text("check.leader-reach.remedy-unresolved", "Create a DNS record for %1 that NS7 can resolve, or give the "
                                                         "leader's IP address.")
                .arg(run->leader));
    else if (run->probed && run->probeError.name == kUnreachable)
        set(reach, kBlocker,
            Text("check.leader-reach.unreachable", "%1 (%2) does not answer over HTTPS: %3")
                .arg(run->leader)
                .arg(run->leaderAddresses.join(QStringLiteral(", ")))
                .arg(run->probeError.message),
            Text("check.leader-reach.remedy-unreachable", "Check that NS8 is running and that TCP port 443 of the "
                                                          "leader is open from NS7."));
    else if (run->leaderAddresses.isEmpty() || run->leaderAddresses == QStringList{run->leader})
        set(reach, kOk, Text("check.leader-reach.answers", "%1 answers over HTTPS.").arg(run->leader));
    else
        set(reach, kOk, Text("check.leader-reach.answers-at", "%1 (%2) answers over HTTPS.")
                            .arg(run->leader)
                            .arg(run->leaderAddresses.join(QStringLiteral(", "))));
}

void checkTls(const RunPtr &run, Check &tls)
{
    const bool answered = run->probed && run->probeError.name != kUnreachable && run->probeError.name != kTlsNotTrusted;
    const QString fp = run->fingerprint;
    if (run->probed && run->probeError.name == kTlsNotTrusted)
        set(tls, kBlocker, run->probeError.texts.value(0),
            run->tls.verify ? Text("check.leader-tls.remedy-untrusted", "Give NS8 a certificate NS7 trusts (e.g. Let's "
                                                                        "Encrypt), or turn TLS validation off and confirm "
                                                                        "the fingerprint %1 with the one NS8 shows.")
                                  .arg(fp)
                            : Text("check.leader-tls.remedy-other", "The certificate is not the one confirmed: check that %1 "
                                                                    "is really the NS8 leader.")
                                  .arg(run->leader));
    else if (!answered)
        notYet(tls, Text("check.leader-tls.no-answer", "Not checked yet: the leader did not answer."));
    else if (run->tls.verify)
        set(tls, kOk, Text("check.leader-tls.valid", "The certificate is valid (SHA-256 fingerprint %1).").arg(fp));
    else if (!run->tls.pinnedSha256.isEmpty())
        set(tls, kOk, Text("check.leader-tls.pinned", "The certificate is not validated; it has the confirmed fingerprint %1.").arg(fp));
    else
        set(tls, kWarning, Text("check.leader-tls.unverified", "The certificate is not validated. Its SHA-256 fingerprint is %1.").arg(fp),
            Text("check.leader-tls.remedy-unverified", "Compare the fingerprint with the one of the NS8 leader's "
                                                       "certificate and confirm it (tls_fingerprint), or give NS8 a "
                                                       "trusted certificate."));
}

void checkLeader(const RunPtr &run, Report &rep, const QString &doc)
{
    // One after the other: adding a check may move the ones before it.
    Check &reach = rep.add(QStringLiteral("leader-reach"), QStringLiteral("destination"),
                           Text("check.leader-reach.title", "NS8 leader reachable over HTTPS"), doc);
    if (run->leader.isEmpty())
        notYet(reach, kGiveLeader);
    else
        checkReach(run, reach);
    Check &tls = rep.add(QStringLiteral("leader-tls"), QStringLiteral("destination"),
                         Text("check.leader-tls.title", "NS8 leader's TLS certificate"), doc);
    if (run->leader.isEmpty())
        notYet(tls, kGiveLeader);
    else
        checkTls(run, tls);
}

// The nodes of the cluster but NS7's own, "<id> (<name>[, leader][, offline])".
QStringList nodeNames(const RunPtr &run, bool *known, bool *online)
{
    QStringList names;
    *known = false;
    *online = true;
    const quint32 self = selfNode(run);
    for (const QJsonValue &v : run->status.value(QStringLiteral("nodes")).toArray()) {
        const QJsonObject n = v.toObject();
        const quint32 id = quint32(n.value(QStringLiteral("id")).toInt());
        if (id == self)
            continue;
        names.append(QStringLiteral("%1 (%2%3%4)")
                         .arg(id)
                         .arg(n.value(QStringLiteral("ui_name")).toString(),
                              n.value(QStringLiteral("local")).toBool() ? QStringLiteral(", leader") : QString(),
                              n.value(QStringLiteral("online")).toBool(true) ? QString() : QStringLiteral(", offline")));
        if (id == run->node) {
            *known = true;
            *online = n.value(QStringLiteral("online")).toBool(true);
        }
    }
    return names;
}

void checkNodes(const RunPtr &run, Report &rep, const QString &doc)
{
    Check &nodes = rep.add(QStringLiteral("cluster-nodes"), QStringLiteral("destination"),
                           Text("check.cluster-nodes.title", "NS8 nodes and the destination"), doc);
    if (!run->haveStatus)
        return notYet(nodes, needApi(run));
    bool known = false, online = true;
    const QStringList names = nodeNames(run, &known, &online);
    const bool one = names.size() == 1;
    const QStringList list{QString::number(names.size()), names.join(QStringLiteral(", ")), QString::number(run->node)};
    if (names.isEmpty())
        set(nodes, kBlocker, Text("check.cluster-nodes.none", "The NS8 cluster has no node to install on."),
            Text("check.cluster-nodes.remedy-none", "Install NS8 on the destination first."));
    else if (!known)
        set(nodes, kBlocker,
            withArgs(one ? Text("check.cluster-nodes.unknown-one", "NS8 has %1 node: %2. There is no node %3.")
                         : Text("check.cluster-nodes.unknown", "NS8 has %1 nodes: %2. There is no node %3."),
                     list),
            Text("check.cluster-nodes.remedy-unknown", "Choose one of the listed nodes."));
    else if (!online)
        set(nodes, kWarning,
            withArgs(one ? Text("check.cluster-nodes.offline-one", "NS8 has %1 node: %2. The destination, node %3, is offline.")
                         : Text("check.cluster-nodes.offline", "NS8 has %1 nodes: %2. The destination, node %3, is offline."),
                     list),
            Text("check.cluster-nodes.remedy-offline", "Bring node %1 back online or choose another node.").arg(run->node));
    else
        set(nodes, kOk,
            withArgs(one ? Text("check.cluster-nodes.chosen-one", "NS8 has %1 node: %2. %4 goes to node %3.")
                         : Text("check.cluster-nodes.chosen", "NS8 has %1 nodes: %2. %4 goes to node %3; choose another "
                                                              "one with the node option."),
                     list + QStringList{appName(run)}));
}

void checkNodeDisk(const RunPtr &run, Report &rep)
{
    Check &disk = rep.add(QStringLiteral("node-disk"), QStringLiteral("destination"),
                          Text("check.node-disk.title", "Disk space on the destination node"), QStringLiteral("disk-space-calculation"));
    if (!run->app || run->record.scanTime == 0)
        return notYet(disk, Text("check.node-disk.no-scan", "Not checked yet: the app's size comes from a Scan."), kScanFirst);
    if (!run->nodeRead && run->haveStatus && run->nodeFailure.isError())
        return notYet(disk, Text("check.not-yet.reason", "Not checked yet:"), run->nodeFailure.texts);
    if (!run->nodeRead)
        return notYet(disk, needApi(run));
    const quint64 data = run->record.sourceBytes + run->record.databaseBytes;
    const quint64 need = data + data / 5 + 512 * kMiB;
    const quint64 free = freeOf(run->nodeStatus);
    const QStringList found{QString::number(run->node), humanBytes(free), appName(run), humanBytes(need), humanBytes(data)};
    const Text enough = Text("check.node-disk.found", "Node %1 has %2 free; %3 needs about %4 (%5 of data plus margin).");
    const Text remedy = Text("check.node-disk.remedy", "Free space on node %1, add a disk, or choose another node.").arg(run->node);
    judgeSpace(disk, free, need, withArgs(enough, found),
               withArgs(Text("check.node-disk.low", "Node %1 has %2 free; %3 needs about %4 (%5 of data plus margin). "
                                                    "Less than 20 % is left over."),
                        found),
               remedy);
}

// What NS8 has already that the migration brings too: "module <id>", "user domain <name> (...)".
QStringList clashesOf(const RunPtr &run)
{
    QStringList clashes;
    const QString image = run->app ? run->app->image : QString();
    for (const QJsonValue &v : std::as_const(run->modules)) {
        const QJsonObject m = v.toObject();
        if (image.isEmpty() || m.value(QStringLiteral("name")).toString() != image)
            continue;
        for (const QJsonValue &inst : m.value(QStringLiteral("installed")).toArray())
            for (const QJsonValue &i : inst.isArray() ? inst.toArray() : QJsonArray{inst}) {
                const QString id = i.toObject().value(QStringLiteral("id")).toString();
                if (!id.isEmpty() && id != run->migration.moduleId)
                    clashes.append(QStringLiteral("module %1").arg(id));
            }
    }
    if (run->provider.isLocal())
        for (const QJsonValue &v : run->domains.value(QStringLiteral("domains")).toArray()) {
            const QJsonObject d = v.toObject();
            if (d.value(QStringLiteral("location")).toString() == u"internal")
                clashes.append(QStringLiteral("user domain %1 (a local account provider)").arg(d.value(QStringLiteral("name")).toString()));
        }
    return clashes;
}

void checkFresh(const RunPtr &run, Report &rep, const QString &doc)
{
    Check &fresh = rep.add(QStringLiteral("cluster-fresh"), QStringLiteral("destination"),
                           Text("check.cluster-fresh.title", "A fresh NS8 cluster"), doc);
    if (!run->haveModules || !run->haveDomains)
        return notYet(fresh, needApi(run));
    const QStringList clashes = clashesOf(run);
    if (clashes.isEmpty())
        set(fresh, kOk, Text("check.cluster-fresh.none", "No module or user domain of NS8 collides with what the migration brings."));
    else
        set(fresh, kWarning, Text("check.cluster-fresh.clashes", "NS8 already has %1.").arg(clashes.join(QStringLiteral(", "))),
            Text("check.cluster-fresh.remedy", "The guide asks for a freshly installed NS8: make sure these do not clash "
                                               "with what comes from NS7 (host names, the local account provider), or "
                                               "use a fresh cluster."));
}

void checkDestination(const RunPtr &run, Report &rep)
{
    const QString doc = QStringLiteral("destination-system-nethserver-8");
    checkLeader(run, rep, doc);
    checkNodes(run, rep, doc);
    checkNodeDisk(run, rep);
    checkFresh(run, rep, doc);
    checkCompanions(run, rep, doc);
}

void checkEndpoint(const RunPtr &run, Report &rep, const QString &doc)
{
    Check &ep = rep.add(QStringLiteral("vpn-endpoint"), QStringLiteral("network"),
                        Text("check.vpn-endpoint.title", "The cluster's VPN endpoint resolves from NS7"), doc);
    if (run->endpoint.isEmpty()) {
        notYet(ep, kGiveLeader);
    } else if (!run->endpointLooked) {
        notYet(ep, Text("check.vpn-endpoint.not-looked", "Not checked yet: %1 could not be looked up.").arg(run->endpoint));
    } else if (run->endpointAddresses.isEmpty()) {
        set(ep, kBlocker,
            run->endpointGuessed ? Text("check.vpn-endpoint.unresolved-default", "The VPN endpoint %1 does not resolve from "
                                                                                 "NS7 (NS8's default: the leader's name).")
                                       .arg(run->endpoint)
                                 : Text("check.vpn-endpoint.unresolved", "The VPN endpoint %1 does not resolve from NS7.")
                                       .arg(run->endpoint),
            Text("check.vpn-endpoint.remedy", "Create a DNS record for %1 that NS7 can resolve (or fix the VPN endpoint "
                                              "of the NS8 cluster), and make sure UDP port 55820 is open towards it.")
                .arg(hostOfEndpoint(run->endpoint)));
    } else {
        set(ep, kOk,
            withArgs(run->endpointGuessed ? Text("check.vpn-endpoint.resolves-default", "%1 resolves to %2 (NS8's default "
                                                                                        "endpoint, the leader's name; "
                                                                                        "confirmed when connecting).")
                                          : Text("check.vpn-endpoint.resolves", "%1 resolves to %2."),
                     {run->endpoint, run->endpointAddresses.join(QStringLiteral(", "))}));
    }
}

const Text kNotJoined = Text("check.not-yet.not-joined", "Not checked yet: this server has not joined the cluster.");

Text udpRemedy(const RunPtr &run)
{
    return Text("check.remedy-udp", "Check that UDP port 55820 is open between NS7 and NS8 (firewalls on both sides and "
                                    "in between): nc -zvu %1 55820")
        .arg(hostOfEndpoint(run->endpoint.isEmpty() ? run->leader : run->endpoint));
}

void checkHandshake(const RunPtr &run, Report &rep, const QString &doc)
{
    Check &hs = rep.add(QStringLiteral("vpn-handshake"), QStringLiteral("network"),
                        Text("check.vpn-handshake.title", "WireGuard handshake with the leader (UDP 55820)"), doc);
    const qint64 now = QDateTime::currentSecsSinceEpoch();
    const Text last = Text("check.vpn-handshake.last", "The last WireGuard handshake was %1 ago.").arg(ageText(now - run->handshake));
    // The API answering through the tunnel proves that handshakes happen;
    // the interface's own state tells what is wrong when it does not.
    const bool apiThrough = run->connected && run->apiTried && !run->apiError.isError();
    const bool fresh = run->handshakeError.isEmpty() && run->handshake > 0 && now - run->handshake <= 180;
    if (!run->connected)
        notYet(hs, kNotJoined);
    else if (fresh)
        set(hs, kOk, last);
    else if (apiThrough)
        set(hs, kOk, run->handshakeError.isEmpty()
                         ? Text("check.vpn-handshake.api-answers", "The cluster API answers through the tunnel (the last "
                                                                   "WireGuard handshake was %1 ago).")
                               .arg(ageText(now - run->handshake))
                         : Text("check.vpn-handshake.api-answers-no-wg", "The cluster API answers through the tunnel (%1).")
                               .arg(run->handshakeError));
    else if (!run->handshakeError.isEmpty())
        set(hs, kBlocker, Text("check.vpn-handshake.no-tunnel", "No tunnel: %1.").arg(run->handshakeError),
            Text("check.vpn-handshake.remedy-restart", "Restart the helper (systemctl restart ns8-migration-helper) to "
                                                       "put the tunnel back; if it stays down, disconnect and connect "
                                                       "again."));
    else if (run->handshake <= 0)
        set(hs, kBlocker, Text("check.vpn-handshake.never", "The leader has never answered the WireGuard handshake."), udpRemedy(run));
    else
        set(hs, kBlocker, last, udpRemedy(run));
}

// The zone NS7's firewall puts INTERFACE in, as the last expansion of
// shorewall's interfaces file says ("" when none; *found false when the
// file cannot be read).
QString shorewallZone(const QString &path, const QString &interface, bool *found)
{
    QFile f(path);
    *found = f.open(QIODevice::ReadOnly);
    if (!*found)
        return {};
    for (const QByteArray &raw : f.readAll().split('\n')) {
        const QString line = QString::fromUtf8(raw.left(raw.indexOf('#') < 0 ? raw.size() : raw.indexOf('#'))).simplified();
        const QStringList fields = line.split(u' ', ns8m::SkipEmptyParts);
        if (fields.size() >= 2 && fields.at(1) == interface)
            return fields.at(0);
    }
    return {};
}

// NS8 reads NS7's accounts through the tunnel (the temporary user domain's
// LDAP, TCP 636): NS7's firewall must let the tunnel's traffic in, which it
// does for the green zone (loc) that the package's fragment puts it in.
void checkFirewall(const RunPtr &run, Report &rep, const QString &doc)
{
    Check &fw = rep.add(QStringLiteral("vpn-firewall"), QStringLiteral("network"),
                        Text("check.vpn-firewall.title", "NS8 reaches NS7's accounts through the VPN (TCP 636)"), doc);
    if (!run->connected)
        return notYet(fw, kNotJoined);
    const QString interface = QStringLiteral("ns8");
    bool readable = false;
    const QString zone = shorewallZone(run->ctx->pathUnderRoot(QStringLiteral("/etc/shorewall/interfaces")), interface, &readable);
    const Text remedy = Text("check.vpn-firewall.remedy", "Put the tunnel back in the green zone: config setprop ns8-migration "
                                                          "Tunnel enabled, then signal-event firewall-adjust.");
    if (!readable)
        set(fw, kWarning, Text("check.vpn-firewall.unreadable", "NS7's firewall configuration (/etc/shorewall/interfaces) "
                                                                "cannot be read: check that it lets %1 in on TCP 636.")
                              .arg(interface),
            remedy);
    else if (zone.isEmpty() && !run->ctx->link->domainCreated)
        set(fw, kWarning, Text("check.vpn-firewall.no-zone-unused", "NS7's firewall has %1 in no zone: it drops what NS8 "
                                                                    "sends through the tunnel (no temporary user domain "
                                                                    "needs it now).")
                              .arg(interface),
            remedy);
    else if (zone.isEmpty())
        set(fw, kBlocker, Text("check.vpn-firewall.no-zone", "NS7's firewall has %1 in no zone: it drops NS8's reads of the "
                                                             "users (LDAP, TCP 636), and NS8's apps cannot log them in.")
                              .arg(interface),
            remedy);
    else if (zone != u"loc")
        set(fw, kWarning, Text("check.vpn-firewall.other-zone", "NS7's firewall has %1 in zone %2, not in the green zone "
                                                                "(loc): check that it lets TCP 636 in from it.")
                              .arg(interface, zone),
            remedy);
    else
        set(fw, kOk, Text("check.vpn-firewall.green", "NS7's firewall has %1 in the green zone (loc): NS8 reads the users "
                                                      "through it.")
                         .arg(interface));
}

void checkNetwork(const RunPtr &run, Report &rep)
{
    const QString doc = QStringLiteral("vpn-connectivity");
    checkEndpoint(run, rep, doc);
    checkHandshake(run, rep, doc);
    Check &api = rep.add(QStringLiteral("vpn-api"), QStringLiteral("network"),
                         Text("check.vpn-api.title", "The cluster API answers through the VPN"), doc);
    if (!run->connected)
        notYet(api, kNotJoined);
    else if (run->apiError.isError())
        set(api, kBlocker, Text("check.vpn-api.down", "The cluster API through the VPN does not answer: %1").arg(run->apiError.message),
            udpRemedy(run));
    else
        set(api, kOk, Text("check.vpn-api.answers", "The cluster API answers through the VPN (%1).")
                          .arg(run->api ? run->api->baseUrl().toString() : QString()));
    checkFirewall(run, rep, doc);
}

void checkFqdns(const RunPtr &run, Report &rep)
{
    // The guide's section on the app's host names is named after the app.
    Check &f = rep.add(QStringLiteral("fqdns"), QStringLiteral("dns"), Text("check.fqdns.title", "The app's host names"),
                       run->app ? QStringLiteral("fqdns-required-for-") + run->app->id : QStringLiteral("fqdns"));
    QStringList fqdnIds, examples;
    bool given = false;
    if (run->app)
        for (const Field &fd : run->app->fields)
            if (fd.kind == Field::Kind::Fqdn) {
                fqdnIds.append(fd.id);
                examples.append(fd.placeholder.isEmpty() ? fd.id.section(u'_', 0, 0) + QStringLiteral(".example.com")
                                                         : fd.placeholder);
                given = given || run->in.options.contains(fd.id) || run->migration.settings.contains(fd.id);
            }
    if (fqdnIds.isEmpty())
        return set(f, kOk, Text("check.fqdns.none-needed", "%1 needs no host name.").arg(appName(run)));
    if (!given)
        return notYet(f, Text("check.fqdns.not-given", "Not checked yet: give %1.").arg(fqdnIds.join(QStringLiteral(" and "))));
    QVariantMap merged;
    const QMap<QString, Text> problems = checkFields(*run->app, run->in.options, run->migration.settings, false, &merged);
    QStringList bad, good;
    Text firstBad; // by id: the first problem (the English detail has them all, each after its field)
    for (const QString &id : std::as_const(fqdnIds)) {
        if (problems.contains(id)) {
            bad.append(QStringLiteral("%1: %2").arg(id, problems.value(id).english()));
            if (firstBad.isEmpty())
                firstBad = problems.value(id);
        } else {
            good.append(QStringLiteral("%1 %2").arg(id, merged.value(id).toString()));
        }
    }
    if (!bad.isEmpty()) {
        set(f, kBlocker, firstBad,
            (fqdnIds.size() > 1 ? Text("check.fqdns.remedy-many", "Give different fully qualified host names, e.g. %1, "
                                                                  "without https:// or a path.")
                                : Text("check.fqdns.remedy-one", "Give a fully qualified host name, e.g. %1, without "
                                                                 "https:// or a path."))
                .arg(examples.join(QStringLiteral(" and "))));
        f.detail = bad.join(u' ');
    } else {
        set(f, kOk, Text("check.fqdns.valid", "Valid and distinct: %1.").arg(good.join(QStringLiteral(", "))));
    }
}

void checkDns(const RunPtr &run, Report &rep)
{
    checkFqdns(run, rep);
    Check &r = rep.add(QStringLiteral("dns-records"), QStringLiteral("dns"), Text("check.dns-records.title", "DNS records of the host names"),
                       QStringLiteral("dns-propagation"));
    if (run->fqdnAddresses.isEmpty())
        return notYet(r, Text("check.dns-records.none", "Not checked yet: no valid host name given."));
    Texts names;
    for (auto it = run->fqdnAddresses.constBegin(); it != run->fqdnAddresses.constEnd(); ++it)
        names.append(it.value().isEmpty()
                         ? Text("check.dns-records.unresolved", "%1 does not resolve yet.").arg(it.key())
                         : Text("check.dns-records.resolves", "%1 resolves to %2.").arg(it.key(), it.value().join(QStringLiteral(", "))));
    set(r, kOk, Text("check.dns-records.found", "Where the host names point today:"), names,
        Text("check.dns-records.remedy", "Point the A records at the NS8 node after Finish, as the guide says; lower "
                                         "their TTL (e.g. 300 s) a day before so the change spreads quickly."));
}

QString accountDoc(const RunPtr &run)
{
    switch (run->provider.kind) {
    case AccountProvider::Kind::LocalLdap: return QStringLiteral("openldap");
    case AccountProvider::Kind::LocalAd: return QStringLiteral("active-directory-samba");
    case AccountProvider::Kind::RemoteLdap:
    case AccountProvider::Kind::RemoteAd: return QStringLiteral("remote-account-provider");
    case AccountProvider::Kind::None: break;
    }
    return QStringLiteral("account-provider-prerequisites");
}

const Text kNoDomainNeeded = Text("check.account-provider.no-domain", "NS7 has %1. NS8 needs no user domain for it.");
const Text kNoProvider = Text("check.account-provider.none", "NS7 has no account provider: NS8 needs no user domain.");

// Once joined: the user domain chosen at Connect is still there.
void checkJoinedAccount(const RunPtr &run, Check &c)
{
    const QString kind = run->provider.describe();
    const QString domain = run->ctx->link->userDomain;
    if (domain.isEmpty())
        return set(c, kOk, run->provider.kind == AccountProvider::Kind::None ? kNoProvider : kNoDomainNeeded.arg(kind));
    if (!run->haveDomains)
        return notYet(c, Text("check.account-provider.unread", "Not checked yet: NS7 has %1. The user domain %2 could not "
                                                               "be read from NS8.")
                             .arg(kind)
                             .arg(domain));
    bool found = false;
    for (const QJsonValue &v : run->domains.value(QStringLiteral("domains")).toArray())
        found = found || v.toObject().value(QStringLiteral("name")).toString().compare(domain, Qt::CaseInsensitive) == 0;
    if (found)
        set(c, kOk, Text("check.account-provider.present", "NS7 has %1. Its accounts appear in NS8 as the user domain %2.")
                        .arg(kind)
                        .arg(domain));
    else
        set(c, kBlocker,
            Text("check.account-provider.missing", "NS7 has %1. The user domain %2 is missing from NS8.").arg(kind).arg(domain),
            run->provider.isLocal()
                ? Text("check.account-provider.remedy-reconnect", "Disconnect and connect again: the temporary user "
                                                                  "domain is created then.")
                : Text("check.account-provider.remedy-create", "Create the user domain %1 in NS8 (\"Domains and users\") "
                                                               "for the same directory as NS7.")
                      .arg(domain));
}

void checkAccount(const RunPtr &run, Report &rep)
{
    Check &c = rep.add(QStringLiteral("account-provider"), QStringLiteral("account"),
                       Text("check.account-provider.title", "Account provider"), accountDoc(run));
    const QString kind = run->provider.describe();
    if (run->connected)
        return checkJoinedAccount(run, c);
    if (run->provider.kind == AccountProvider::Kind::None)
        return set(c, kOk, kNoProvider);
    if (!run->haveDomains || !run->haveStatus)
        return notYet(c, Text("check.account-provider.at-connect", "Not checked yet: NS7 has %1. It is checked against "
                                                                   "NS8's user domains when connecting.")
                             .arg(kind));
    const ProviderPlan plan = planAccountProvider(run->provider, run->domains, run->status,
                                                  run->in.options.value(QStringLiteral("user_domain")).toString().trimmed());
    if (!plan.error.name.isEmpty())
        set(c, kBlocker, plan.error.texts.value(0),
            Text("check.account-provider.remedy-guide", "See the account provider prerequisites of the guide."));
    else if (plan.userDomain.isEmpty())
        set(c, kOk, kNoDomainNeeded.arg(kind));
    else
        set(c, kOk,
            (plan.createDomain ? Text("check.account-provider.planned-temporary", "NS7 has %1. Its accounts will appear "
                                                                                  "in NS8 as the user domain %2 (a "
                                                                                  "temporary external domain).")
                               : Text("check.account-provider.planned", "NS7 has %1. Its accounts will appear in NS8 as "
                                                                        "the user domain %2."))
                .arg(kind)
                .arg(plan.userDomain));
}

// The links of every transfer of the last Scan, added up; TRANSFERS and
// KNOWN count the transfers and those whose links the Scan looked at.
LinkReport scannedLinks(const RunPtr &run, int *transfers, int *known)
{
    LinkReport all;
    for (const QJsonValue &v : std::as_const(run->record.scanDetails)) {
        const QJsonArray d = v.toArray();
        if (d.at(0).toString().startsWith(QStringLiteral("db:")))
            continue;
        ++*transfers;
        if (!d.at(4).isObject())
            continue;
        ++*known;
        const LinkReport r = LinkReport::fromJson(d.at(4).toObject());
        all.absolute += r.absolute;
        all.escaping += r.escaping;
        for (const QString &p : r.absolutePaths)
            if (all.absolutePaths.size() < LinkReport::kExamples)
                all.absolutePaths.append(p);
        for (const QString &p : r.escapingPaths)
            if (all.escapingPaths.size() < LinkReport::kExamples)
                all.escapingPaths.append(p);
    }
    return all;
}

// Symbolic links that arrive pointing nowhere on NS8, as the last Scan found
// them (the Scan keeps per transfer the counts and the first few paths).
void checkLinks(const RunPtr &run, Report &rep)
{
    Check &c = rep.add(QStringLiteral("symlinks"), QStringLiteral("data"),
                       Text("check.symlinks.title", "Symbolic links that work on NS8"), QStringLiteral("resource-planning"));
    if (!run->app || run->record.scanTime == 0)
        return notYet(c, Text("check.symlinks.no-scan", "Not checked yet: the symbolic links are found by a Scan."), kScanFirst);
    int transfers = 0, known = 0;
    const LinkReport all = scannedLinks(run, &transfers, &known);
    if (transfers > 0 && known == 0)
        return notYet(c, Text("check.symlinks.old-scan", "Not checked yet: the last Scan was made by a version of the helper "
                                                         "that did not look at symbolic links."),
                      Text("check.symlinks.remedy-rescan", "Scan the app again."));
    if (all.isEmpty())
        return set(c, kOk, Text("check.symlinks.none", "The data to copy has no absolute symbolic link and none that leads "
                                                       "out of its tree."));
    const auto list = [](const QStringList &paths, quint64 count) {
        return paths.join(QStringLiteral(", ")) + (count > quint64(paths.size()) ? QStringLiteral(", ...") : QString());
    };
    // Counts and paths are data; the sentence around them is one of three.
    // A link is copied as a link and arrives pointing nowhere on NS8: an
    // absolute target loses its leading /, what is outside the tree is not copied.
    const Text found =
        !all.escaping ? Text("check.symlinks.found-absolute", "The last Scan found %1 absolute symbolic link(s): %2. "
                                                              "They are copied as links and arrive pointing nowhere on "
                                                              "NS8: an absolute target loses its leading /.")
                            .arg(all.absolute)
                            .arg(list(all.absolutePaths, all.absolute))
        : !all.absolute ? Text("check.symlinks.found-escaping", "The last Scan found %1 symbolic link(s) whose target is "
                                                                "outside the copied tree: %2. They are copied as links and "
                                                                "arrive pointing nowhere on NS8: what is outside the tree "
                                                                "is not copied.")
                              .arg(all.escaping)
                              .arg(list(all.escapingPaths, all.escaping))
                        : Text("check.symlinks.found-both", "The last Scan found %1 absolute symbolic link(s): %2; and %3 "
                                                            "whose target is outside the copied tree: %4. They are copied "
                                                            "as links and arrive pointing nowhere on NS8: an absolute "
                                                            "target loses its leading /, and what is outside the tree is "
                                                            "not copied.")
                              .arg(all.absolute)
                              .arg(list(all.absolutePaths, all.absolute))
                              .arg(all.escaping)
                              .arg(list(all.escapingPaths, all.escaping));
    set(c, kWarning, found,
        Text("check.symlinks.remedy", "Make each of them a relative link to a file within the same tree, or replace it "
                                      "with a copy of its target; then Scan again."));
}

void checkScan(const RunPtr &run, Report &rep)
{
    Check &scan = rep.add(QStringLiteral("scan"), QStringLiteral("data"), Text("check.scan.title", "Scan results"),
                          QStringLiteral("resource-planning"));
    const qint64 age = (nowUsec() - run->record.scanTime) / 1000000;
    if (!run->app)
        notYet(scan, noApp());
    else if (run->record.scanTime == 0)
        set(scan, kWarning, Text("check.scan.never", "%1 has never been scanned: its size is unknown.").arg(appName(run)),
            Text("check.scan.remedy-never", "Run Scan: the disk checks and the estimates need it."));
    else if (age > kDay)
        set(scan, kWarning,
            Text("check.scan.stale", "The last Scan is %1 old (%2 files, %3): its figures may be stale.")
                .arg(ageText(age))
                .arg(run->record.sourceFiles)
                .arg(humanBytes(run->record.sourceBytes + run->record.databaseBytes)),
            Text("check.scan.remedy-stale", "Scan again for current figures."));
    else
        set(scan, kOk, Text("check.scan.recent", "Scanned %1 ago: %2 files, %3 of files and %4 of databases.")
                           .arg(ageText(age))
                           .arg(run->record.sourceFiles)
                           .arg(humanBytes(run->record.sourceBytes))
                           .arg(humanBytes(run->record.databaseBytes)));
}

void checkSizes(const RunPtr &run, Report &rep)
{
    Check &sizes = rep.add(QStringLiteral("data-sizes"), QStringLiteral("data"), Text("check.data-sizes.title", "Data to move"),
                           QStringLiteral("disk-space-calculation"));
    if (!run->app || run->record.scanTime == 0)
        return notYet(sizes, Text("check.data-sizes.no-scan", "Not checked yet: the sizes come from a Scan."));
    // The profile's typical sizes, by Scan detail id (a transfer, db:<name>).
    QList<std::pair<QString, QString>> typical;
    for (const Transfer &t : run->app->transfers)
        if (!t.typicalSize.isEmpty())
            typical.append({t.id, t.typicalSize});
    for (const DatabaseItem &d : run->app->databases)
        if (!d.typicalSize.isEmpty())
            typical.append({QStringLiteral("db:") + d.name, d.typicalSize});
    QStringList parts;
    for (const auto &[id, range] : typical)
        for (const QJsonValue &v : std::as_const(run->record.scanDetails)) {
            const QJsonArray d = v.toArray();
            if (d.at(0).toString() == id)
                parts.append(QStringLiteral("%1 %2 (typically %3)").arg(d.at(1).toString(), humanBytes(quint64(d.at(3).toDouble())), range));
        }
    const QString total = humanBytes(run->record.sourceBytes + run->record.databaseBytes);
    if (parts.isEmpty())
        set(sizes, kOk, Text("check.data-sizes.total", "%1 in all.").arg(total));
    else
        set(sizes, kOk, Text("check.data-sizes.parts", "%1 in all: %2.").arg(total).arg(parts.join(QStringLiteral(", "))));
}

void checkEstimate(const RunPtr &run, Report &rep)
{
    Check &est = rep.add(QStringLiteral("sync-estimate"), QStringLiteral("data"), Text("check.sync-estimate.title", "Time of a full copy"),
                         QStringLiteral("network-and-time-planning"));
    if (run->syncs.isEmpty())
        return notYet(est, Text("check.sync-estimate.no-sync", "Not checked yet: the transfer rate is measured by the "
                                                               "first sync (Start)."));
    const quint64 total = run->record.sourceBytes + run->record.databaseBytes;
    const SyncRecord &first = run->syncs.first();
    const double secs = qMax(1.0, double(first.duration) / 1e6);
    const double rate = double(first.bytes) / secs;
    const QStringList measured{humanBytes(first.bytes), ageText(qint64(secs)), humanBytes(quint64(rate))};
    if (rate < 1)
        set(est, kOk, withArgs(Text("check.sync-estimate.measured", "The first sync moved %1 in %2 (%3/s)."), measured));
    else
        set(est, kOk,
            withArgs(Text("check.sync-estimate.full", "The first sync moved %1 in %2 (%3/s). A full copy of %4 takes "
                                                      "about %5 at that rate."),
                     measured + QStringList{humanBytes(total), ageText(qint64(double(total) / rate))}));
}

void checkDowntime(const RunPtr &run, Report &rep)
{
    Check &down = rep.add(QStringLiteral("downtime"), QStringLiteral("data"), Text("check.downtime.title", "Downtime of Finish"),
                          QStringLiteral("network-and-time-planning"));
    if (run->syncs.isEmpty())
        return notYet(down, Text("check.downtime.no-sync", "Not checked yet: it is estimated from the last sync."));
    const SyncRecord &last = run->syncs.last();
    // App.EstimatedDowntime: Finish's steps from the stop to configure-module.
    const qint64 estimate = run->app ? downtimeTotal(estimateDowntime(*run->app, run->record, run->syncs)) / 1000000 : 0;
    const qint64 lastAge = (nowUsec() - last.time) / 1000000;
    const QStringList found{ageText(lastAge), humanBytes(last.bytes), QString::number(last.files),
                            ageText(last.duration / 1000000), ageText(estimate)};
    if (estimate > 2 * 3600)
        set(down, kWarning,
            withArgs(Text("check.downtime.long", "The last sync, %1 ago, moved %2 (%3 files) in %4: Finish will need "
                                                 "about %5 of downtime. That is more than the guide's 2 hours."),
                     found),
            Text("check.downtime.remedy-long", "Sync again (more often, or with more bandwidth) so that less changes "
                                               "between the last sync and Finish."));
    else if (lastAge > kDay)
        set(down, kWarning,
            withArgs(Text("check.downtime.old", "The last sync, %1 ago, moved %2 (%3 files) in %4: Finish will need "
                                                "about %5 of downtime. The estimate is old: more has changed since."),
                     found),
            Text("check.downtime.remedy-old", "Sync again shortly before Finish."));
    else
        set(down, kOk,
            withArgs(Text("check.downtime.estimate", "The last sync, %1 ago, moved %2 (%3 files) in %4: Finish will need "
                                                     "about %5 of downtime."),
                     found));
}

void checkData(const RunPtr &run, Report &rep)
{
    checkScan(run, rep);
    checkSizes(run, rep);
    checkLinks(run, rep);
    checkEstimate(run, rep);
    checkDowntime(run, rep);
}

struct Backup {
    QString name, where;
};

// The backups NS7 has enabled, each with where it goes.
QList<Backup> enabledBackups(const RunPtr &run)
{
    QList<Backup> backups;
    auto where = [](const EsmithRecord &r) {
        const QString vfs = r.prop(QStringLiteral("VFSType"));
        QString host;
        for (const char *p : {"SftpHost", "SMBHost", "NFSHost", "S3Host", "RestHost", "USBLabel", "WebDAVUrl", "B2Bucket"})
            if (host.isEmpty())
                host = r.prop(QLatin1String(p));
        return QStringLiteral("%1%2%3").arg(r.type, vfs.isEmpty() ? QString() : QStringLiteral(" to ") + vfs,
                                            host.isEmpty() ? QString() : QStringLiteral(" ") + host);
    };
    const EsmithDb db = EsmithDb::load(run->ctx->pathUnderRoot(QStringLiteral("/var/lib/nethserver/db/backups")));
    for (const QString &key : db.keys()) {
        const auto r = db.record(key);
        if (r && r->prop(QStringLiteral("status"), QStringLiteral("enabled")) == u"enabled")
            backups.append({key, where(*r)});
    }
    if (const auto single = run->config.record(QStringLiteral("backup-data"));
        single && !single->prop(QStringLiteral("VFSType")).isEmpty()
        && single->prop(QStringLiteral("status"), QStringLiteral("enabled")) == u"enabled")
        backups.append({QStringLiteral("backup-data"), where(*single)});
    return backups;
}

void checkBackup(const RunPtr &run, Report &rep)
{
    Check &c = rep.add(QStringLiteral("backup"), QStringLiteral("backup"), Text("check.backup.title", "A recent backup of NS7"),
                       QStringLiteral("backup-strategy"));
    const QList<Backup> backups = enabledBackups(run);
    const Text remedy = Text("check.backup.remedy", "Make a complete backup of NS7 (Backup in the NS7 interface) and check "
                                             "that it can be restored before migrating.");
    if (backups.isEmpty())
        return set(c, kWarning, Text("check.backup.none", "No backup is configured on NS7."), remedy);
    // backup-data-wrapper writes the exit code of each run to /var/spool/backup/status-<name>.
    const qint64 now = QDateTime::currentSecsSinceEpoch();
    qint64 newestOk = -1;
    Texts seen;
    for (const Backup &b : backups) {
        const QString path = run->ctx->pathUnderRoot(QStringLiteral("/var/spool/backup/status-") + b.name);
        QFile f(path);
        if (!f.open(QIODevice::ReadOnly)) {
            seen.append(Text("check.backup.never", "%1 (%2) has never run.").arg(b.name, b.where));
            continue;
        }
        const QString code = QString::fromLatin1(f.readAll()).trimmed();
        const qint64 when = QFileInfo(path).lastModified().toSecsSinceEpoch();
        if (code != u"0") {
            seen.append(Text("check.backup.failed", "%1 (%2) failed %3 ago (exit code %4).")
                            .arg(b.name, b.where, ageText(now - when)).arg(code));
            continue;
        }
        seen.append(Text("check.backup.succeeded", "%1 (%2) succeeded %3 ago.").arg(b.name, b.where, ageText(now - when)));
        newestOk = qMax(newestOk, when);
    }
    if (newestOk < 0)
        set(c, kWarning, Text("check.backup.no-success", "No successful backup:"), seen, remedy);
    else if (now - newestOk > kDay)
        set(c, kWarning, Text("check.backup.old", "The last successful backup is older than a day:"), seen, remedy);
    else
        set(c, kOk, Text("check.backup.runs", "The last run of each backup:"), seen, {});
}

void evaluate(const RunPtr &run)
{
    Report rep;
    checkSource(run, rep);
    checkDestination(run, rep);
    checkNetwork(run, rep);
    checkDns(run, rep);
    checkAccount(run, rep);
    checkData(run, rep);
    checkBackup(run, rep);
    auto done = std::move(run->done);
    run->done = nullptr;
    if (done)
        done(rep.checks);
}

// {KEY: <TYPE>} as an a{sv} entry, the value appended by VALUE.
template <typename Append>
int appendEntry(sd_bus_message *m, const char *key, const char *type, Append value)
{
    int r = sd_bus_message_open_container(m, 'e', "sv");
    if (r >= 0)
        r = sd_bus_message_append(m, "s", key);
    if (r >= 0)
        r = sd_bus_message_open_container(m, 'v', type);
    if (r >= 0)
        r = value();
    for (int i = 0; i < 2 && r >= 0; ++i)
        r = sd_bus_message_close_container(m);
    return r;
}

// {KEY: <(ssas)>}: a text by id (id, template, arguments).
int appendTextEntry(sd_bus_message *m, const char *key, const Text &t)
{
    return appendEntry(m, key, "(ssas)", [m, &t] { return appendText(m, t); });
}

// {KEY: <a(ssas)>}: texts by id.
int appendTextsEntry(sd_bus_message *m, const char *key, const Texts &texts)
{
    return appendEntry(m, key, "a(ssas)", [m, &texts] { return appendTexts(m, texts); });
}

// {"gates": <as>}.
int appendGates(sd_bus_message *m, const QStringList &gates)
{
    return appendEntry(m, "gates", "as", [m, &gates] { return appendStrings(m, gates); });
}

// One check of Manager.Preflight's reply, an a{sv} (docs/api.md).
int appendCheck(sd_bus_message *m, const Check &c)
{
    int r = sd_bus_message_open_container(m, 'a', "{sv}");
    const auto str = [m, &r](const char *key, const QString &value) {
        if (r >= 0)
            r = sd_bus_message_append(m, "{sv}", key, "s", value.toUtf8().constData());
    };
    str("id", c.id);
    str("group", c.group);
    str("severity", c.severity);
    str("title", c.title);
    str("detail", c.detail);
    str("remedy", c.remedy);
    str("doc", c.doc);
    if (r >= 0)
        r = sd_bus_message_append(m, "{sv}", "checked", "b", int(c.checked));
    if (r >= 0)
        r = appendGates(m, c.gates);
    if (r >= 0)
        r = appendTextEntry(m, "title_text", c.titleText);
    if (r >= 0)
        r = appendTextEntry(m, "detail_text", c.detailText);
    if (r >= 0)
        r = appendTextEntry(m, "remedy_text", c.remedyText);
    if (r >= 0)
        r = appendTextsEntry(m, "detail_more", c.detailMore);
    return r < 0 ? r : sd_bus_message_close_container(m);
}

const AppProfile *chooseApp(const Context *ctx, const QString &id)
{
    if (!id.isEmpty())
        return ctx->profile(id);
    return ctx->profiles.isEmpty() ? nullptr : &ctx->profiles.first();
}

} // namespace

QList<OptionSpec> Preflight::options(const QList<AppProfile> &profiles)
{
    QList<OptionSpec> specs = {
        {"leader", 's', 253}, {"tls_verify", 'b'}, {"tls_fingerprint", 's', 128}, {"app", 's', 64},
        {"node", 'u'}, {"user_domain", 's', 253},
    };
    // Every field of every app, once (two apps may share a field id).
    for (const AppProfile &p : profiles)
        for (const OptionSpec &o : fieldOptionSpecs(p, {}))
            if (std::none_of(specs.cbegin(), specs.cend(), [&o](const OptionSpec &s) { return qstrcmp(s.name, o.name) == 0; }))
                specs.append(o);
    return specs;
}

QString Preflight::phaseName(Phase phase)
{
    switch (phase) {
    case Phase::Connect: return QStringLiteral("connect");
    case Phase::Start: return QStringLiteral("start");
    case Phase::Finish: return QStringLiteral("finish");
    case Phase::Report: break;
    }
    return QStringLiteral("report");
}

void Preflight::run(const Context *ctx, Input input, std::function<void(const QList<Check> &)> done)
{
    auto run = std::make_shared<Run>();
    run->ctx = ctx;
    run->in = std::move(input);
    run->done = std::move(done);
    const QVariantMap &o = run->in.options;

    run->app = chooseApp(ctx, o.value(QStringLiteral("app")).toString());
    QString err;
    run->config = EsmithDb::load(ctx->pathUnderRoot(QStringLiteral("/var/lib/nethserver/db/configuration")), &err);
    run->provider = readAccountProvider(run->config);
    if (run->app) {
        const AppProfile &p = *run->app;
        run->record = ctx->state->app(p.id);
        run->migration = ctx->state->migration(p.id);
        run->syncs = ctx->state->syncs(p.id);
        // The services NS7 has enabled (optional ones such as fias may be off).
        for (const QString &s : p.quiesceServices + p.retireServices)
            if (!run->services.contains(s) && run->config.type(s) == u"service"
                && run->config.prop(s, QStringLiteral("status")) == u"enabled")
                run->services.append(s);
    }

    run->connected = ctx->isJoined() && run->in.phase != Phase::Connect;
    if (run->connected) {
        run->leader = ctx->link->leader;
        run->tls = ctx->savedTlsPolicy();
    } else {
        run->leader = o.value(QStringLiteral("leader")).toString().trimmed();
        run->tls.verify = o.value(QStringLiteral("tls_verify"), true).toBool();
        QString pin = o.value(QStringLiteral("tls_fingerprint")).toString().trimmed().toUpper().remove(u':');
        if (!run->tls.verify && pin.size() == 64) {
            QStringList pairs;
            for (int i = 0; i < 64; i += 2)
                pairs.append(pin.mid(i, 2));
            run->tls.pinnedSha256 = pairs.join(u':');
        }
        run->tls.extraCas = ctx->extraCas;
    }

    startSystemd(run);
    startLeader(run);
    startApi(run);
    startHandshake(run);
    startDns(run);
    finishOne(run);
}

std::optional<BusError> Preflight::verdict(const QList<Check> &checks, Phase phase, bool acceptWarnings)
{
    const QString name = phaseName(phase);
    QStringList blockers, warnings; // "title [id]: detail remedy", for busctl and the log
    Texts blockerTexts, warningTexts;
    for (const Check &c : checks) {
        if (!c.gates.contains(name))
            continue;
        QString line = QStringLiteral("%1 [%2]: %3").arg(c.title, c.id, c.detail);
        Texts texts = Texts{c.titleText, c.detailText} + c.detailMore;
        if (!c.remedy.isEmpty()) {
            line += u' ' + c.remedy;
            texts.append(c.remedyText);
        }
        if (c.severity == kBlocker) {
            blockers.append(line);
            blockerTexts += texts;
        } else if (c.severity == kWarning) {
            warnings.append(line);
            warningTexts += texts;
        }
    }
    const QString op = name.at(0).toUpper() + name.mid(1);
    const bool blocked = !blockers.isEmpty();
    if (!blocked && (warnings.isEmpty() || acceptWarnings))
        return std::nullopt;
    const Size n = blocked ? blockers.size() : warnings.size();
    const Text head = blocked ? (n == 1 ? Text("preflight.refused.blocker", "%1 refused: 1 prerequisite must be fixed first.")
                                        : Text("preflight.refused.blockers", "%1 refused: %2 prerequisites must be fixed first."))
                              : (n == 1 ? Text("preflight.refused.warning", "%1 refused: 1 warning to read; pass "
                                                                            "accept_warnings to go on anyway.")
                                        : Text("preflight.refused.warnings", "%1 refused: %2 warnings to read; pass "
                                                                             "accept_warnings to go on anyway."));
    BusError e{QString::fromLatin1(Error::PreflightFailed), Texts{head.arg(op).arg(qint64(n))} + (blocked ? blockerTexts : warningTexts)};
    e.message = head.arg(op).arg(qint64(n)).english() + u' ' + (blocked ? blockers : warnings).join(u' ');
    return e;
}

void Preflight::gate(const Context *ctx, Phase phase, const QString &app, const QVariantMap &options,
                     std::function<void(std::optional<BusError>)> done)
{
    Input in;
    in.phase = phase;
    in.options = options;
    in.options.insert(QStringLiteral("app"), app);
    const bool accept = options.value(QStringLiteral("accept_warnings")).toBool();
    // Start and Finish talk to NS8 through the tunnel only: refused at once
    // without it (Connect's checks come before there is one).
    const Failure outside = phase != Phase::Connect && ctx->isJoined() ? ctx->throughTunnel({ctx->link->leaderVpnIp})
                                                                      : Failure{};
    if (outside.isError())
        return done(outside);
    run(ctx, in, [phase, accept, done](const QList<Check> &checks) {
        const std::optional<BusError> e = verdict(checks, phase, accept);
        if (e)
            Log::warning(e->message);
        done(e);
    });
}

void Preflight::call(const Context *ctx, sd_bus_message *call, const QVariantMap &options)
{
    const QString appId = options.value(QStringLiteral("app")).toString();
    if (!appId.isEmpty() && !ctx->profile(appId)) {
        QStringList ids;
        for (const AppProfile &p : ctx->profiles)
            ids.append(p.id);
        replyError(call, {Error::InvalidArgument,
                          ids.isEmpty() ? Text("preflight.app.none", "app: no app \"%1\" is installed on this server "
                                                                     "(none is).")
                                              .arg(appId)
                                        : Text("preflight.app.unknown", "app: no app \"%1\" is installed on this server "
                                                                        "(installed: %2).")
                                              .arg(appId, ids.join(QStringLiteral(", ")))});
        return;
    }
    const QString leader = options.value(QStringLiteral("leader")).toString().trimmed();
    if (!leader.isEmpty() && !isIpAddress(leader) && !isValidDomainName(leader)) {
        replyError(call, {Error::InvalidArgument, Text("preflight.leader.invalid", "leader: \"%1\" is not a host name or "
                                                                                  "IP address (no https://, no path).")
                                                      .arg(leader)});
        return;
    }
    // Joined, the checks ask NS8 through the tunnel: never around it.
    const Failure outside = ctx->isJoined() ? ctx->throughTunnel({ctx->link->leaderVpnIp}) : Failure{};
    if (outside.isError()) {
        replyError(call, outside);
        return;
    }
    PendingCall pending(call);
    Input in;
    in.options = options;
    run(ctx, in, [pending](const QList<Check> &checks) {
        sd_bus_message *m = nullptr;
        int r = sd_bus_message_new_method_return(pending.msg(), &m);
        if (r >= 0)
            r = sd_bus_message_open_container(m, 'a', "a{sv}");
        for (const Check &c : checks)
            if (r >= 0)
                r = appendCheck(m, c);
        if (r >= 0)
            r = sd_bus_message_close_container(m);
        if (r >= 0)
            sd_bus_send(nullptr, m, nullptr);
        else
            replyError(pending.msg(), Failure::failed(Text("preflight.reply", "The report could not be sent.")));
        sd_bus_message_unref(m);
    });
}

} // namespace ns8m
