#include "operations/cluster.h"

#include "operations/context.h"
#include "ns7/esmith.h"
#include "ns7/systemd.h"
#include "ns7/esmithdb.h"
#include "bus/job.h"
#include "core/log.h"
#include "operations/preflight.h"
#include "core/commands.h"
#include "core/process.h"
#include "core/secrets.h"
#include "core/qtcompat.h"

#include <QCryptographicHash>
#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QHostAddress>
#include <QJsonArray>
#include <QRegularExpression>
#include <QSslCertificate>
#include <QTimer>

#include <openssl/crypto.h>
#include <openssl/rand.h>

namespace ns8m {

namespace {

const QString kUnreachable = QString::fromLatin1(Error::ClusterUnreachable);
const QString kFailed = QString::fromLatin1(Error::Failed);
const QString kInvalid = QString::fromLatin1(Error::InvalidArgument);
const QString kWrongState = QString::fromLatin1(Error::WrongState);

// The first step of the Connect job that does something: the ones before it
// are done before the job exists.
constexpr const char *kFirstJobStep = "add-node";

// A step's failure as the job's message says it: "<what> failed: <why>".
Failure stepFailed(const Text &what, const Failure &error)
{
    return error.after(what);
}

QString randomSecret(int bytes)
{
    QByteArray buf(bytes, Qt::Uninitialized);
    if (RAND_bytes(reinterpret_cast<unsigned char *>(buf.data()), bytes) != 1)
        qFatal("OpenSSL could not produce random bytes");
    const QString out = QString::fromLatin1(buf.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals));
    OPENSSL_cleanse(buf.data(), size_t(buf.size()));
    return out;
}

QString sha256Hex(const QString &s)
{
    return QString::fromLatin1(QCryptographicHash::hash(s.toUtf8(), QCryptographicHash::Sha256).toHex());
}

// A host name (with a dot or not) or an IP address, nothing else.
Text checkLeader(const QString &leader)
{
    if (leader.isEmpty())
        return Text("connect.leader.empty", "Give the NS8 leader's host name or IP address, e.g. ns8.example.com.");
    if (leader.contains(QStringLiteral("://")))
        return Text("connect.leader.url", "\"%1\" is a URL: give only the host name, without \"%2://\", e.g. ns8.example.com.")
            .arg(leader, leader.section(QStringLiteral("://"), 0, 0));
    if (leader.contains(u' ') || leader.contains(u'\t'))
        return Text("connect.leader.spaces", "The leader's address must not contain spaces.");
    if (leader.contains(u'/'))
        return Text("connect.leader.path", "Give only the leader's host name or IP address, without a path.");
    QHostAddress addr;
    if (addr.setAddress(leader))
        return {};
    if (!isValidDomainName(leader))
        return Text("connect.leader.invalid", "\"%1\" is not a valid host name or IP address.").arg(leader);
    return {};
}


// The pin, as "AA:BB:..." in PIN, and whether it goes with VERIFY: without
// validation a pin is required (else the password goes to whoever answers),
// with it a pin has no use.
Text checkTlsOptions(bool verify, QString *pin)
{
    if (!pin->isEmpty()) {
        QString hex = *pin;
        hex.remove(u':');
        static const QRegularExpression hexRe(QStringLiteral("^[0-9A-F]{64}$"));
        if (!hexRe.match(hex).hasMatch())
            return Text("connect.fingerprint", "The TLS fingerprint must be a SHA-256 fingerprint: 64 hexadecimal digits, "
                                               "with or without ':' between pairs.");
        QStringList pairs;
        for (int i = 0; i < 64; i += 2)
            pairs.append(hex.mid(i, 2));
        *pin = pairs.join(u':');
    }
    if (!pin->isEmpty() && verify)
        return Text("connect.fingerprint.verify", "A TLS fingerprint is only used when TLS validation is off (tls_verify false).");
    if (pin->isEmpty() && !verify)
        return Text("connect.fingerprint.missing", "With TLS validation off, give the SHA-256 fingerprint of the leader's "
                                                   "certificate (tls_fingerprint), compared with the one NS8 shows: without "
                                                   "it the password would go to whichever server answers.");
    return {};
}

// What add-node answered, before any of it is used: the values go to wg,
// ip and getent as arguments (vpn/wireguard.h says what is checked).
Failure checkAddNodeFields(bool nodeAdded, const TunnelConfig &tunnel, const QString &leaderIp)
{
    if (!nodeAdded || tunnel.address.isEmpty() || tunnel.network.isEmpty() || tunnel.peerPublicKey.isEmpty()
        || tunnel.peerEndpoint.isEmpty() || leaderIp.isEmpty())
        return {kFailed, Text("connect.add-node.fields", "add-node answered without the fields the VPN needs.")};
    const Text wrong = checkTunnelFields(tunnel, leaderIp, localNetworks());
    if (!wrong.isEmpty())
        return {kFailed, wrong};
    return {};
}

} // namespace

struct Cluster::ConnectRun {
    PendingCall call;
    quint32 uid = 0;
    QString leader;
    QString username;
    QString userDomainOption;
    QVariantMap options; // for the preflight checks (no password)
    bool acceptWarnings = false;
    TlsPolicy tls;
    ClientPtr admin; // logged in with the administrator's password
    ClientPtr vpn;   // the migration account through the tunnel
    QJsonObject clusterStatus;
    QJsonObject domains;
    AccountProvider provider;
    ProviderPlan plan;
    QPointer<Job> job;
    QPointer<Operation> op;
    WgKeyPair keys;
    QString accountUser;
    QString accountPassword;
    // What add-node answered
    quint32 nodeId = 0;
    QString ipAddress, network, leaderPublicKey, leaderIp, leaderEndpoint;
    TunnelConfig tunnel;
    // What exists and must be undone on failure
    bool nodeAdded = false, userAdded = false, tunnelUp = false, routeAdded = false, domainAdded = false;
    bool addingRoute = false, addingDomain = false; // asked of NS8 (saved as if done)
    QStringList leftovers; // what an undo could not remove from NS8 ("node_id=3", ...)

    explicit ConnectRun(sd_bus_message *m) : call(m) {}
    ~ConnectRun() { forgetSecrets(); }
    // Once the job ends (the table lives as long as the job).
    void forgetSecrets()
    {
        if (admin)
            admin->forgetCredentials();
        if (vpn)
            vpn->forgetCredentials();
        accountPassword.fill(u'\0');
        keys.privateKey.fill(u'\0');
    }
};

struct Cluster::DisconnectRun {
    QPointer<Job> job;
    QString leader;
    ClientPtr client;
    bool loggedIn = false;
    QStringList leftovers; // what could not be removed from NS8
    QString userDomain;
    bool domainCreated = false;
    QStringList broken;    // the migrated apps a forced Disconnect takes the user domain from
    QStringList stranded;  // the apps a forced Disconnect leaves half-migrated
};

Cluster::Cluster(Context *ctx, QObject *parent) : QObject(parent), m_ctx(ctx)
{
    // wireguard-go, where the kernel has no WireGuard, runs as a unit of its
    // own: the helper's crash, stop or upgrade (KillMode=mixed) leaves the
    // tunnel up.
    m_tunnel.setUserspaceLauncher([ctx](const QStringList &argv, const QStringList &env, std::function<void(const QString &)> done) {
        if (!ctx->systemd)
            return done(QStringLiteral("no connection to systemd"));
        const QString unit = QStringLiteral("ns8-migration-wireguard-go-%1.service").arg(QDateTime::currentMSecsSinceEpoch());
        ctx->systemd->startTransientService(unit, QStringLiteral("WireGuard tunnel to the NS8 cluster (userspace)"), argv, env,
                                            std::move(done));
    });
}

// While this server is joined, the helper starts at boot (and after a
// crash, Restart=on-failure): the tunnel is checked and whatever an
// interrupted Finish left is put right without anyone calling the bus.
void Cluster::enableAtBoot(bool enable)
{
    if (!m_ctx->systemd)
        return;
    const QString unit = QStringLiteral("ns8-migration-helper.service");
    m_ctx->systemd->unitFileState(unit, [this, unit, enable](const QString &state, const QString &error) {
        // Nothing to write when it already is as it must be (every start).
        if (error.isEmpty() && (state == u"enabled") == enable)
            return;
        const auto logged = [enable](const QString &e) {
            if (!e.isEmpty())
                Log::warning(QStringLiteral("the helper's unit could not be %1 at boot: %2")
                                 .arg(enable ? QStringLiteral("enabled") : QStringLiteral("disabled"), e));
        };
        if (enable)
            m_ctx->systemd->enable({unit}, logged);
        else
            m_ctx->systemd->disable({unit}, logged);
    });
}

Cluster::~Cluster() = default;

const QList<OptionSpec> &Cluster::connectOptions()
{
    static const QList<OptionSpec> specs = {
        {"leader", 's', 253},       {"username", 's', 64},        {"password", 's', 1024},
        {"otp", 's', 16},           {"tls_verify", 'b'},          {"tls_fingerprint", 's', 128},
        {"user_domain", 's', 253}, {"accept_warnings", 'b'},
    };
    return specs;
}

const QList<OptionSpec> &Cluster::disconnectOptions()
{
    static const QList<OptionSpec> specs = {{"force", 'b'}};
    return specs;
}

QString Cluster::secretsDir() const
{
    return m_ctx->secretsDir();
}

bool Cluster::writeSecret(const QString &name, const QByteArray &data, QString *error) const
{
    return writeSecretFile(secretsDir() + u'/' + name, data, error);
}

QByteArray Cluster::readSecret(const QString &name) const
{
    return readSecretFile(secretsDir() + u'/' + name);
}

void Cluster::removeSecrets() const
{
    const QDir dir(secretsDir());
    for (const QString &name : dir.entryList(QDir::Files)) {
        QFile f(dir.filePath(name));
        // Overwrite before unlinking: the key and passwords must not linger.
        if (f.open(QIODevice::ReadWrite)) {
            f.write(QByteArray(static_cast<Size>(f.size()), '\0'));
            f.flush();
            f.close();
        }
        f.remove();
    }
}

TunnelConfig Cluster::tunnelConfig() const
{
    TunnelConfig c;
    c.privateKeyFile = secretsDir() + QStringLiteral("/wireguard.key");
    c.address = m_link.vpnAddress;
    c.network = m_link.network;
    c.peerPublicKey = m_link.leaderPublicKey;
    c.peerEndpoint = m_link.leaderEndpoint;
    return c;
}

void Cluster::setState(const QString &state)
{
    if (state == m_link.state)
        return;
    m_link.state = state;
    emit changed({QStringLiteral("State")});
}

void Cluster::setFingerprint(const QString &fp)
{
    if (fp.isEmpty() || fp == m_fingerprint)
        return;
    m_fingerprint = fp;
    emit changed({QStringLiteral("TlsFingerprint")});
}

void Cluster::load()
{
    m_link = m_ctx->state->connection();
    m_fingerprint = m_link.tlsFingerprint;
    // A Connect cut short (SIGKILL, a crash, a power cut): what it created
    // is removed once the bus is up (restoreTunnel()); until then no
    // Connect starts.
    m_interrupted = m_link.state == u"connecting";
    if (m_interrupted)
        m_link.state = QStringLiteral("disconnecting");
    else if (!m_link.isConnected())
        m_link.state = QStringLiteral("disconnected");
}

void Cluster::restoreTunnel()
{
    if (m_interrupted)
        return recoverInterruptedConnect();
    if (!isConnected())
        return;
    enableAtBoot(true);
    const TunnelConfig c = tunnelConfig();
    // Until this settles, checks of the tunnel would only see it coming up.
    m_restoring = true;
    m_tunnel.exists(c.interface, [this, c](bool present) {
        if (present)
            return tunnelRestored();
        Log::info(QStringLiteral("the tunnel %1 to the NS8 cluster is missing: putting it back (node %2, %3)")
                      .arg(c.interface)
                      .arg(nodeId())
                      .arg(c.address));
        restoreTunnelUp(c);
    });
}

void Cluster::restoreTunnelUp(const TunnelConfig &c)
{
    m_tunnel.up(c, [this, c](const Texts &error) {
        if (!error.isEmpty()) {
            Log::error(QStringLiteral("cannot restore the tunnel to the NS8 cluster: %1").arg(english(error)));
            return tunnelRestored();
        }
        restoreTunnelHandshake(c);
    });
}

void Cluster::restoreTunnelHandshake(const TunnelConfig &c)
{
    m_tunnel.waitHandshake(c.interface, m_ctx->settings.vpnTimeoutSeconds * 1000, [this, c](bool ok) {
        if (ok)
            Log::info(QStringLiteral("the tunnel to the NS8 cluster is back up"));
        else
            Log::warning(QStringLiteral("the tunnel is configured but the leader (%1) has not answered "
                                        "yet; check that UDP port 55820 is open")
                             .arg(c.peerEndpoint));
        tunnelRestored();
    });
}

void Cluster::tunnelRestored()
{
    m_restoring = false;
    emit tunnelSettled();
}

void Cluster::whenTunnelSettled(QObject *context, std::function<void()> go)
{
    if (!m_restoring)
        return go();
    auto *wait = new QObject(context);
    connect(this, &Cluster::tunnelSettled, wait, [wait, go] {
        wait->deleteLater(); // one call: the connection goes with it
        go();
    });
}

Ns8Client *Cluster::vpnClient(QObject *parent) const
{
    return m_ctx->vpnClient(parent);
}

// ---------------------------------------------------------------- Connect

void Cluster::connectCall(sd_bus_message *call, quint32 uid, const QVariantMap &o)
{
    if (m_link.state != u"disconnected") {
        replyError(call, {kWrongState,
                          m_link.state == u"connected"
                              ? Text("connect.connected", "This server is already connected to the NS8 cluster %1 as node %2. "
                                               "Disconnect first to connect to another cluster.")
                                    .arg(leader())
                                    .arg(nodeId())
                              : m_link.state == u"connecting"
                              ? Text("connect.connecting", "A connection is in progress; wait for it to end.")
                              : Text("connect.disconnecting", "A disconnection is in progress; wait for it to end.")});
        return;
    }
    auto run = std::make_shared<ConnectRun>(call);
    run->uid = uid;
    run->leader = o.value(QStringLiteral("leader")).toString().trimmed();
    run->username = o.value(QStringLiteral("username")).toString();
    run->userDomainOption = o.value(QStringLiteral("user_domain")).toString().trimmed();
    run->tls.verify = o.value(QStringLiteral("tls_verify"), true).toBool();
    run->tls.extraCas = m_ctx->extraCas;
    const QString otp = o.value(QStringLiteral("otp")).toString().trimmed();
    QString pin = o.value(QStringLiteral("tls_fingerprint")).toString().trimmed().toUpper();

    Text problem = checkLeader(run->leader);
    static const QRegularExpression userRe(QStringLiteral("^[A-Za-z0-9_.@-]{1,64}$"));
    static const QRegularExpression otpRe(QStringLiteral("^[0-9]{6,8}$"));
    if (problem.isEmpty() && !userRe.match(run->username).hasMatch())
        problem = Text("connect.username", "Give the NS8 administrator's user name (letters, digits, '.', '-', '_').");
    if (problem.isEmpty() && o.value(QStringLiteral("password")).toString().isEmpty())
        problem = Text("connect.password", "Give the NS8 administrator's password.");
    if (problem.isEmpty() && !otp.isEmpty() && !otpRe.match(otp).hasMatch())
        problem = Text("connect.otp", "The OTP code is the 6-digit number the authenticator app shows.");
    if (problem.isEmpty())
        problem = checkTlsOptions(run->tls.verify, &pin);
    if (!problem.isEmpty()) {
        replyError(call, {kInvalid, problem});
        return;
    }
    run->tls.pinnedSha256 = pin;
    run->acceptWarnings = o.value(QStringLiteral("accept_warnings")).toBool();
    run->options = {{QStringLiteral("leader"), run->leader},
                    {QStringLiteral("tls_verify"), run->tls.verify},
                    {QStringLiteral("tls_fingerprint"), pin},
                    {QStringLiteral("user_domain"), run->userDomainOption}};

    QString dbError;
    const EsmithDb config = EsmithDb::load(
        m_ctx->pathUnderRoot(QStringLiteral("/var/lib/nethserver/db/configuration")), &dbError);
    run->provider = readAccountProvider(config);

    setState(QStringLiteral("connecting"));
    Log::info(QStringLiteral("Join cluster: connecting to %1 as %2 (TLS validation %3; NS7 has %4)")
                  .arg(run->leader, run->username, run->tls.verify ? QStringLiteral("on") : QStringLiteral("off"),
                       run->provider.describe()));
    run->admin = ClientPtr(new Ns8Client);
    run->admin->setBaseUrl(adminApiBase(run->leader));
    run->admin->setTlsPolicy(run->tls);
    run->admin->setCredentials(run->username, o.value(QStringLiteral("password")).toString(), otp);
    run->admin->setTaskTimeout(m_ctx->settings.taskTimeoutSeconds * 1000);
    run->admin->login([this, run](const ApiError &e) {
        setFingerprint(run->admin->peerFingerprint());
        if (e.isError())
            return preflightFailed(run, e);
        connectReadCluster(run);
    });
}

void Cluster::preflightFailed(const std::shared_ptr<ConnectRun> &run, const ApiError &error)
{
    Log::error(QStringLiteral("Join cluster refused: %1").arg(error.message));
    setState(QStringLiteral("disconnected"));
    replyError(run->call.msg(), error);
}

void Cluster::connectReadCluster(const std::shared_ptr<ConnectRun> &run)
{
    run->admin->runTask(QStringLiteral("cluster"), QStringLiteral("get-cluster-status"), {}, [this, run](const TaskResult &r) {
        if (!r.ok())
            return preflightFailed(run, r.failure(QStringLiteral("get-cluster-status")));
        run->clusterStatus = r.output.toObject();
        run->admin->runTask(QStringLiteral("cluster"), QStringLiteral("list-user-domains"), {}, [this, run](const TaskResult &d) {
            if (!d.ok())
                return preflightFailed(run, d.failure(QStringLiteral("list-user-domains")));
            run->domains = d.output.toObject();
            run->plan = planAccountProvider(run->provider, run->domains, run->clusterStatus, run->userDomainOption);
            if (!run->plan.error.name.isEmpty())
                return preflightFailed(run, run->plan.error);
            connectPreflight(run);
        });
    });
}

// The prerequisites that concern joining (docs/preflight.md), with what
// Connect has read already; nothing has changed anywhere yet.
void Cluster::connectPreflight(const std::shared_ptr<ConnectRun> &run)
{
    Preflight::Input in;
    in.phase = Preflight::Phase::Connect;
    in.options = run->options;
    in.admin = run->admin.get();
    in.clusterStatus = run->clusterStatus;
    in.domains = run->domains;
    Preflight::run(m_ctx, in, [this, run](const QList<Check> &checks) {
        if (const auto refused = Preflight::verdict(checks, Preflight::Phase::Connect, run->acceptWarnings))
            return preflightFailed(run, *refused);
        connectStartJob(run);
    });
}

// The job's table.  Reaching the leader, logging in, reading the cluster and
// checking the account provider happened before the job existed (a failure
// there answers the D-Bus call and changes nothing): those rows are done when
// the operation starts at "add-node".  From there on, every row that creates
// something on NS8 or on this server has the undo that removes it.
QList<Operation::Step> Cluster::connectSteps(const std::shared_ptr<ConnectRun> &run)
{
    using Next = Operation::Next;
    const auto doneBeforeTheJob = [](Next next) { next({}); };
    return {
        {QStringLiteral("reach"), Text("step.connect.reach", "Reach the NS8 leader"), 1, doneBeforeTheJob, {}, false},
        {QStringLiteral("login"), Text("step.connect.login", "Log in"), 1, doneBeforeTheJob, {}, false},
        {QStringLiteral("read-cluster"), Text("step.connect.read-cluster", "Read the cluster"), 1, doneBeforeTheJob, {}, false},
        {QStringLiteral("account-provider"), Text("step.connect.account-provider", "Check the account provider"), 1, doneBeforeTheJob, {}, false},
        {QStringLiteral("add-node"), Text("step.connect.add-node", "Add this server as a node"), 2,
         [this, run](Next next) { connectAddNode(run, next); },
         [this, run](Next next) {
             connectRemove(run, run->nodeAdded, QStringLiteral("remove-node"), {{QStringLiteral("node_id"), int(run->nodeId)}},
                           QStringLiteral("node_id=%1").arg(run->nodeId), next);
         },
         false},
        {QStringLiteral("endpoint"), Text("step.connect.endpoint", "Resolve the VPN endpoint"), 1,
         [this, run](Next next) { connectCheckEndpoint(run, next); }, {}, false},
        {QStringLiteral("account"), Text("step.connect.account", "Create the migration account"), 2,
         [this, run](Next next) { connectAddUser(run, next); },
         [this, run](Next next) {
             connectRemove(run, run->userAdded, QStringLiteral("remove-user"), {{QStringLiteral("user"), run->accountUser}},
                           QStringLiteral("user=%1").arg(run->accountUser), next);
         },
         false},
        {QStringLiteral("tunnel"), Text("step.connect.tunnel", "Bring up the VPN"), 1, [this, run](Next next) { connectTunnel(run, next); },
         [this, run](Next next) { connectTunnelDown(run, next); }, false},
        {QStringLiteral("firewall"), Text("step.connect.firewall", "Let the VPN through NS7's firewall"), 1,
         [this, run](Next next) { tunnelZone(run->tunnel.interface, true, next); },
         [this, run](Next next) { tunnelZone(run->tunnel.interface, false, next); }, false},
        {QStringLiteral("Wait for the WireGuard handshake"), 3,
         [this, run](Next next) { connectHandshake(run, next); }, {}, false},
        {QStringLiteral("Reach the cluster API through the VPN"), 2,
         [this, run](Next next) { connectWaitApi(run, QDateTime::currentMSecsSinceEpoch() + vpnTimeoutMs(), next); }, {},
         false},
        // NS8 reaches a local Samba AD through this node: the route comes first.
        {QStringLiteral("user-domain"), Text("step.connect.user-domain", "Create the temporary user domain"), 1,
         [this, run](Next next) { connectRoute(run, next); },
         [this, run](Next next) {
             const QJsonObject route{{QStringLiteral("ip_address"), run->provider.dcAddress},
                                     {QStringLiteral("node_id"), int(run->nodeId)}};
             connectRemove(run, run->routeAdded, QStringLiteral("update-routes"), {{QStringLiteral("remove"), QJsonArray{route}}},
                           QStringLiteral("route=%1").arg(run->provider.dcAddress), next);
         },
         false},
        {QStringLiteral("Add the external user domain"), 1, [this, run](Next next) { connectDomain(run, next); },
         [this, run](Next next) {
             connectRemove(run, run->domainAdded, QStringLiteral("remove-external-domain"),
                           {{QStringLiteral("domain"), run->plan.userDomain}},
                           QStringLiteral("domain=%1").arg(run->plan.userDomain), next);
         },
         false},
        {QStringLiteral("save"), Text("step.connect.save", "Save the connection"), 1, [this, run](Next next) { connectSave(run, next); },
         {}, false},
    };
}

void Cluster::connectStartJob(const std::shared_ptr<ConnectRun> &run)
{
    const QList<Operation::Step> steps = connectSteps(run);
    Job::Params params;
    params.operation = QStringLiteral("connect");
    params.objectPath = QLatin1String(kRootPath);
    params.startedByUid = run->uid;
    params.cancelAction = nullptr; // a join is not left half done
    params.steps = Operation::jobSteps(steps);
    for (JobStep &s : params.steps) {
        if (s.id == QLatin1String(kFirstJobStep))
            break;
        s.progress = 1.0; // done before the job existed
    }
    QString error;
    Job *job = m_ctx->createJob(params, &error);
    if (!job)
        return preflightFailed(run, {kFailed, Text("connect.not-started", "The connection could not start: %1.").arg(error)});
    job->setCancelable(false);
    run->job = job;
    sd_bus_reply_method_return(run->call.msg(), "o", job->path().toUtf8().constData());
    run->op = new Operation(job, steps);
    run->op->aftermath = [run](const Failure &, const QList<Failure> &) {
        const QStringList &leftovers = run->leftovers;
        if (leftovers.isEmpty())
            return Texts{Text("connect.nothing-left", "Nothing was left behind on NS8 or on this server: fix the "
                                                      "problem and connect again.")};
        return Texts{Text("connect.left-behind", "These could not be removed from NS8 and must be removed by hand: %1.")
                         .arg(leftovers.join(QStringLiteral(", ")))};
    };
    run->op->summary = [run] { return connectSummary(*run); };
    run->op->concluding = [this, run](const Failure &failure) {
        // The undo functions are done with the administrator's session.
        run->forgetSecrets();
        if (m_connectOp == run->op)
            m_connectOp.clear();
        if (failure.isError()) {
            // Undone (what could not be removed is named in the message).
            removeSecrets();
            m_ctx->state->saveConnection(ClusterLink{});
            return setState(QStringLiteral("disconnected"));
        }
        setState(QStringLiteral("connected"));
        enableAtBoot(true);
        emit changed({QStringLiteral("Leader"), QStringLiteral("NodeId"), QStringLiteral("VpnAddress"),
                      QStringLiteral("UserDomain"), QStringLiteral("TlsFingerprint")});
        Log::info(QStringLiteral("Join cluster: done. %1").arg(english(connectSummary(*run))), run->job->logContext());
    };
    m_connectOp = run->op;
    run->op->start(QLatin1String(kFirstJobStep));
}

Texts Cluster::connectSummary(const ConnectRun &run)
{
    if (run.plan.userDomain.isEmpty())
        return {Text("connect.done", "Connected to %1 as node %2 (VPN address %3).")
                    .arg(run.leader)
                    .arg(run.nodeId)
                    .arg(run.ipAddress)};
    return {Text("connect.done-domain", "Connected to %1 as node %2 (VPN address %3), user domain %4.")
                .arg(run.leader)
                .arg(run.nodeId)
                .arg(run.ipAddress)
                .arg(run.plan.userDomain)};
}

int Cluster::vpnTimeoutMs() const
{
    return m_ctx->settings.vpnTimeoutSeconds * 1000;
}

// What this Connect has created so far, saved before each call that
// creates something on NS8 (state "connecting"): a helper killed in the
// middle removes it at its next start (recoverInterruptedConnect()).
bool Cluster::saveProgress(const ConnectRun &run)
{
    ClusterLink p;
    p.state = QStringLiteral("connecting");
    p.leader = run.leader;
    p.tlsVerify = run.tls.verify;
    p.tlsFingerprint = m_fingerprint;
    p.nodeId = run.nodeId;
    p.vpnAddress = run.ipAddress;
    p.network = run.network;
    p.leaderVpnIp = run.leaderIp;
    p.leaderPublicKey = run.leaderPublicKey;
    p.leaderEndpoint = run.leaderEndpoint;
    p.userDomain = run.plan.userDomain;
    p.domainCreated = run.domainAdded || run.addingDomain;
    p.routeIp = run.routeAdded || run.addingRoute ? run.provider.dcAddress : QString();
    p.apiUser = run.accountUser;
    if (m_ctx->state->saveConnection(p))
        return true;
    Log::error(QStringLiteral("Join cluster: the progress could not be saved: %1").arg(m_ctx->state->lastError()),
               run.job ? run.job->logContext() : LogContext{});
    return false;
}

Failure Cluster::progressNotSaved() const
{
    return Failure::failed(Text("connect.progress.not-saved", "The helper's state database cannot be written (%1): "
                                                              "nothing more was created on NS8. Free space under the "
                                                              "state directory and connect again.")
                               .arg(m_ctx->state->lastError()));
}

void Cluster::connectAddNode(const std::shared_ptr<ConnectRun> &run, const Operation::Next &next)
{
    const Text what("connect.add-node.failed", "Adding the node failed:");
    if (!generateWgKeyPair(&run->keys))
        return next(stepFailed(what, {kFailed, Text("connect.wg-key", "OpenSSL could not make a WireGuard key.")}));
    // The account's password and the key on disk before NS8 knows them: a
    // restart after add-user logs in with them to remove what was created.
    run->accountPassword = randomSecret(24);
    QString error;
    if (!writeSecret(QStringLiteral("wireguard.key"), run->keys.privateKey.toLatin1() + '\n', &error)
        || !writeSecret(QStringLiteral("account"), run->accountPassword.toUtf8() + '\n', &error))
        return next(stepFailed(what, Failure::failed(Text("connect.secret", "The VPN secrets could not be written: %1.")
                                                         .arg(error))));
    if (!saveProgress(*run))
        return next(stepFailed(what, progressNotSaved()));
    const QString nodePassword = randomSecret(32);
    const QJsonObject input{{QStringLiteral("node_pwh"), sha256Hex(nodePassword)},
                            {QStringLiteral("public_key"), run->keys.publicKey},
                            {QStringLiteral("endpoint"), QString()},
                            {QStringLiteral("core_version"), QStringLiteral("0.0.0-ns7")},
                            {QStringLiteral("flags"), QJsonArray{QStringLiteral("nomodules")}}};
    run->admin->runTask(QStringLiteral("cluster"), QStringLiteral("add-node"), input, [this, run, next, what](const TaskResult &r) {
        if (!r.ok())
            return next(stepFailed(what, r.failure(QStringLiteral("add-node"), kFailed)));
        const QJsonObject out = r.output.toObject();
        run->nodeId = quint32(out.value(QStringLiteral("node_id")).toInt());
        run->ipAddress = out.value(QStringLiteral("ip_address")).toString();
        run->network = out.value(QStringLiteral("network")).toString();
        run->leaderPublicKey = out.value(QStringLiteral("leader_public_key")).toString();
        run->leaderIp = out.value(QStringLiteral("leader_ip_address")).toString();
        run->leaderEndpoint = out.value(QStringLiteral("leader_endpoint")).toString();
        // Removed again (the step's undo) when what it answered is refused.
        run->nodeAdded = out.value(QStringLiteral("node_id")).toInt() > 0;
        TunnelConfig answered;
        answered.address = run->ipAddress;
        answered.network = run->network;
        answered.peerPublicKey = run->leaderPublicKey;
        answered.peerEndpoint = run->leaderEndpoint;
        const Failure refused = checkAddNodeFields(run->nodeAdded, answered, run->leaderIp);
        if (refused.isError())
            return next(stepFailed(what, refused));
        // Recorded before anything else happens: a kill from now on is
        // undone at the next start (the node and the account removed).
        if (!saveProgress(*run))
            return next(stepFailed(what, progressNotSaved()));
        Log::info(QStringLiteral("Join cluster: this server is node %1, VPN address %2 in %3; leader %4 at %5")
                      .arg(run->nodeId)
                      .arg(run->ipAddress, run->network, run->leaderIp, run->leaderEndpoint),
                  run->job->logContext());
        next({});
    });
}

void Cluster::connectCheckEndpoint(const std::shared_ptr<ConnectRun> &run, const Operation::Next &next)
{
    const QString host = hostOfEndpoint(run->leaderEndpoint);
    // Resolved through NSS as wg will, not through Qt's cache of earlier answers.
    runProcess(this, commands::getentAhosts(host), [run, next, host](const ProcessResult &r) {
        if (!r.ok() || r.out.trimmed().isEmpty())
            return next(stepFailed(Text("connect.endpoint.failed", "Resolving the VPN endpoint failed:"),
                                   {kUnreachable, Text("connect.endpoint.unresolved", "The cluster's VPN endpoint %1 does not resolve from this "
                                                                 "server. Create a DNS record for %2 that NS7 can resolve "
                                                                 "(or fix the VPN endpoint of the NS8 cluster), and make sure "
                                                                 "UDP port 55820 is open towards it.")
                                                      .arg(run->leaderEndpoint, host)}));
        next({});
    });
}

void Cluster::connectAddUser(const std::shared_ptr<ConnectRun> &run, const Operation::Next &next)
{
    run->accountUser = QStringLiteral("ns7admin%1").arg(run->nodeId);
    if (!saveProgress(*run))
        return next(stepFailed(Text("connect.account.failed", "Creating the migration account failed:"), progressNotSaved()));
    const QJsonObject input{
        {QStringLiteral("user"), run->accountUser},
        {QStringLiteral("password_hash"), sha256Hex(run->accountPassword)},
        {QStringLiteral("set"), QJsonObject{{QStringLiteral("display_name"),
                                             QStringLiteral("NS7 migration (node %1)").arg(run->nodeId)}}},
        {QStringLiteral("grant"), QJsonArray{QJsonObject{{QStringLiteral("role"), QStringLiteral("owner")},
                                                         {QStringLiteral("on"), QStringLiteral("*")}}}}};
    run->admin->runTask(QStringLiteral("cluster"), QStringLiteral("add-user"), input, [run, next](const TaskResult &r) {
        if (!r.ok())
            return next(stepFailed(Text("connect.account.failed", "Creating the migration account failed:"),
                                   r.failure(QStringLiteral("add-user"), kFailed)));
        run->userAdded = true;
        Log::info(QStringLiteral("Join cluster: migration account %1 created").arg(run->accountUser), run->job->logContext());
        next({});
    });
}

void Cluster::connectTunnel(const std::shared_ptr<ConnectRun> &run, const Operation::Next &next)
{
    const Text what("connect.tunnel.failed", "Bringing up the VPN failed:");
    TunnelConfig &c = run->tunnel;
    c.privateKeyFile = secretsDir() + QStringLiteral("/wireguard.key");
    c.address = run->ipAddress;
    c.network = run->network;
    c.peerPublicKey = run->leaderPublicKey;
    c.peerEndpoint = run->leaderEndpoint;
    run->tunnelUp = true; // whatever up() manages to create must be undone
    m_tunnel.up(c, [run, next, what](const Texts &err) {
        if (!err.isEmpty())
            return next(stepFailed(what, {kFailed, Texts{Text("connect.tunnel.interface", "The interface %1 could not be set up:")
                                                             .arg(run->tunnel.interface)} + err}));
        if (run->op)
            run->op->setProgress(0.2);
        next({});
    });
}

// The tunnel in (or out of) NS7's green zone, the NS7 way: the package's
// record, then the firewall event.
void Cluster::tunnelZone(const QString &interface, bool inZone, const Operation::Next &next)
{
    m_ctx->esmith->setTunnelZone(interface, inZone, [next](const Texts &failure) {
        next(failure.isEmpty() ? Failure{}
                               : Failure(Error::Failed, Texts{Text("firewall.failed", "NS7's firewall could not be told about the VPN:")} + failure));
    });
}

void Cluster::connectHandshake(const std::shared_ptr<ConnectRun> &run, const Operation::Next &next)
{
    const int timeout = vpnTimeoutMs();
    m_tunnel.waitHandshake(run->tunnel.interface, timeout, [this, run, next, timeout](bool ok) {
        const QString endpoint = run->tunnel.peerEndpoint;
        if (!ok)
            return next(stepFailed(Text("connect.tunnel.failed", "Bringing up the VPN failed:"),
                                   {kUnreachable, Text("connect.handshake", "No WireGuard handshake with the leader (%1) within %2 s. "
                                                                 "Check that UDP port 55820 is open between NS7 and NS8 "
                                                                 "(firewalls on both sides and in between) and that %3 "
                                                                 "resolves to the leader; test with: nc -zvu %3 55820")
                                                      .arg(endpoint)
                                                      .arg(timeout / 1000)
                                                      .arg(hostOfEndpoint(endpoint))}));
        Log::info(QStringLiteral("Join cluster: WireGuard handshake with the leader done"), run->job->logContext());
        if (run->op)
            run->op->setProgress(0.6);
        run->vpn = ClientPtr(new Ns8Client);
        run->vpn->setBaseUrl(vpnApiBase(run->leaderIp));
        run->vpn->setTunnel(run->tunnel.interface);
        run->vpn->setRequestTimeout(5000);
        run->vpn->setRetryDelays({});
        run->vpn->setTaskTimeout(m_ctx->settings.taskTimeoutSeconds * 1000);
        run->vpn->setCredentials(run->accountUser, run->accountPassword);
        next({});
    });
}

// The API answers through the tunnel some time after the handshake: log in
// again every half second until DEADLINE.
void Cluster::connectWaitApi(const std::shared_ptr<ConnectRun> &run, qint64 deadline, const Operation::Next &next)
{
    run->vpn->login([this, run, deadline, next](const ApiError &e) {
        if (!e.isError()) {
            Log::info(QStringLiteral("Join cluster: the cluster API answers through the VPN"), run->job->logContext());
            if (run->op)
                run->op->setProgress(1.0);
            return next({});
        }
        if (e.name == kUnreachable && QDateTime::currentMSecsSinceEpoch() < deadline) {
            QTimer::singleShot(500, this, [this, run, deadline, next] { connectWaitApi(run, deadline, next); });
            return;
        }
        next(stepFailed(Text("connect.api.failed", "Reaching the cluster API through the VPN failed:"),
                        {e.name, e.texts + Texts{Text("connect.api.hint", "(the API at %1:9311 through the VPN). Check "
                                                                          "that UDP port 55820 is open.")
                                                     .arg(run->leaderIp)}}));
    });
}

void Cluster::connectRoute(const std::shared_ptr<ConnectRun> &run, const Operation::Next &next)
{
    const AccountProvider &p = run->provider;
    if (!run->plan.createDomain || p.kind != AccountProvider::Kind::LocalAd)
        return next({});
    const QJsonObject routes{{QStringLiteral("add"), QJsonArray{QJsonObject{{QStringLiteral("ip_address"), p.dcAddress},
                                                                           {QStringLiteral("node_id"), int(run->nodeId)}}}}};
    run->addingRoute = true;
    if (!saveProgress(*run))
        return next(stepFailed(Text("connect.route.failed", "Routing to the domain controller failed:"), progressNotSaved()));
    run->vpn->runTask(QStringLiteral("cluster"), QStringLiteral("update-routes"), routes, [run, next](const TaskResult &r) {
        if (!r.ok())
            return next(stepFailed(Text("connect.route.failed", "Routing to the domain controller failed:"),
                                   r.failure(QStringLiteral("update-routes"), kFailed)));
        run->routeAdded = true;
        Log::info(QStringLiteral("Join cluster: NS8 reaches the domain controller %1 through this node")
                      .arg(run->provider.dcAddress),
                  run->job->logContext());
        next({});
    });
}

namespace {

// add-external-domain's input for the temporary user domain DOMAIN that
// reads NS7's provider P, which NS8 reaches at this node's VPNADDRESS (or,
// for AD, at the DC's address routed through it).
QJsonObject temporaryDomainInput(const AccountProvider &p, const QString &domain, const QString &vpnAddress)
{
    const bool ad = p.kind == AccountProvider::Kind::LocalAd;
    return {{QStringLiteral("domain"), domain},
            {QStringLiteral("protocol"), QStringLiteral("ldap")},
            {QStringLiteral("host"), ad ? p.dcAddress : vpnAddress},
            {QStringLiteral("port"), 636},
            {QStringLiteral("schema"), ad ? QStringLiteral("ad") : QStringLiteral("rfc2307")},
            {QStringLiteral("base_dn"), p.baseDn},
            {QStringLiteral("bind_dn"), p.bindDn},
            {QStringLiteral("bind_password"), p.bindPassword},
            {QStringLiteral("tls"), true},
            {QStringLiteral("tls_verify"), false}};
}

} // namespace

void Cluster::connectDomain(const std::shared_ptr<ConnectRun> &run, const Operation::Next &next)
{
    if (!run->plan.createDomain)
        return next({});
    const QJsonObject input = temporaryDomainInput(run->provider, run->plan.userDomain, run->ipAddress);
    run->addingDomain = true;
    if (!saveProgress(*run))
        return next(stepFailed(Text("connect.domain.failed", "Creating the temporary user domain failed:"), progressNotSaved()));
    run->vpn->runTask(QStringLiteral("cluster"), QStringLiteral("add-external-domain"), input, [run, next](const TaskResult &r) {
        if (!r.ok())
            return next(stepFailed(Text("connect.domain.failed", "Creating the temporary user domain failed:"),
                                   r.error.isError() ? r.error
                                                     : ApiError{Error::DomainConflict,
                                                                Text("connect.domain.refused", "NS8 refused the user domain %1 "
                                                                                               "(exit code %2): %3")
                                                                    .arg(run->plan.userDomain)
                                                                    .arg(r.exitCode)
                                                                    .arg(r.exitCode == 10 ? r.validationSummary() : r.stderrText.trimmed())}));
        run->domainAdded = true;
        Log::info(QStringLiteral("Join cluster: temporary external user domain %1 created").arg(run->plan.userDomain),
                  run->job->logContext());
        next({});
    });
}

void Cluster::connectSave(const std::shared_ptr<ConnectRun> &run, const Operation::Next &next)
{
    ClusterLink saved;
    saved.state = QStringLiteral("connected");
    saved.leader = run->leader;
    saved.tlsVerify = run->tls.verify;
    saved.tlsFingerprint = m_fingerprint;
    saved.nodeId = run->nodeId;
    saved.vpnAddress = run->ipAddress;
    saved.network = run->network;
    saved.leaderVpnIp = run->leaderIp;
    saved.leaderPublicKey = run->leaderPublicKey;
    saved.leaderEndpoint = run->leaderEndpoint;
    saved.userDomain = run->plan.userDomain;
    saved.domainCreated = run->domainAdded;
    saved.routeIp = run->routeAdded ? run->provider.dcAddress : QString();
    saved.apiUser = run->accountUser;
    saved.connectedAt = QDateTime::currentDateTimeUtc().toString(Qt::ISODate);
    if (!m_ctx->state->saveConnection(saved))
        return next(Failure::failed(Text("connect.save.failed", "Saving the connection failed: %1.")
                                        .arg(m_ctx->state->lastError())));
    // The state stays "connecting" until the job ends (setState).
    saved.state = m_link.state;
    m_link = saved;
    next({});
}

// The undo of a row that creates something on NS8 (when its run created it),
// with the administrator's session (still in memory).  A failure names what
// is left behind.
void Cluster::connectRemove(const std::shared_ptr<ConnectRun> &run, bool created, const QString &action,
                            const QJsonObject &input, const QString &what, const Operation::Next &next)
{
    if (!created)
        return next({});
    const LogContext ctx = run->job ? run->job->logContext() : LogContext{};
    Log::info(QStringLiteral("Join cluster: undoing: %1").arg(what), ctx);
    run->admin->runTask(QStringLiteral("cluster"), action, input, [run, next, action, what, ctx](const TaskResult &r) {
        if (r.ok())
            return next({});
        Log::error(QStringLiteral("Join cluster: %1 could not be removed: %2").arg(what, r.failureText(action)), ctx);
        run->leftovers.append(what);
        next({r.error.isError() ? r.error.name : kFailed,
              Text("connect.undo.failed", "%1 could not be removed from NS8.").arg(what)});
    });
}

// The undo of the tunnel row: the interface (if up() was tried) and the
// secrets written for it.  The interface is on this server, not on NS8: a
// failure to remove it is logged, not listed among NS8's leftovers.
void Cluster::connectTunnelDown(const std::shared_ptr<ConnectRun> &run, const Operation::Next &next)
{
    if (!run->tunnelUp) {
        removeSecrets();
        return next({});
    }
    const LogContext ctx = run->job ? run->job->logContext() : LogContext{};
    Log::info(QStringLiteral("Join cluster: undoing: the VPN interface %1").arg(run->tunnel.interface), ctx);
    m_tunnel.down(run->tunnel.interface, [this, next, ctx](const Texts &error) {
        if (!error.isEmpty())
            Log::warning(QStringLiteral("Join cluster: taking the VPN down: %1").arg(english(error)), ctx);
        removeSecrets();
        next({});
    });
}

// ---------------------------------------------------------------- ListNodes

namespace {

struct ListNodesRun {
    PendingCall call;
    ClientPtr client;
    QList<QVariantMap> nodes;
    int pending = 0;
    quint32 self = 0; // this NS7 host's node
    explicit ListNodesRun(sd_bus_message *m) : call(m) {}
};

void listNodesReply(const ListNodesRun &run)
{
    sd_bus_message *m = nullptr;
    int r = sd_bus_message_new_method_return(run.call.msg(), &m);
    if (r >= 0)
        r = sd_bus_message_open_container(m, 'a', "a{sv}");
    for (const QVariantMap &n : run.nodes) {
        if (r < 0)
            break;
        r = sd_bus_message_append(m, "a{sv}", 7, "id", "u", n.value(QStringLiteral("id")).toUInt(), "ui_name", "s",
                                  n.value(QStringLiteral("ui_name")).toString().toUtf8().constData(), "vpn_address", "s",
                                  n.value(QStringLiteral("vpn_address")).toString().toUtf8().constData(), "online", "b",
                                  int(n.value(QStringLiteral("online")).toBool()), "local", "b",
                                  int(n.value(QStringLiteral("local")).toBool()), "free_bytes", "t",
                                  n.value(QStringLiteral("free_bytes")).toULongLong(), "total_bytes", "t",
                                  n.value(QStringLiteral("total_bytes")).toULongLong());
    }
    if (r >= 0)
        r = sd_bus_message_close_container(m);
    if (r >= 0)
        sd_bus_send(nullptr, m, nullptr);
    sd_bus_message_unref(m);
}

// The disks of node I: the one with the most free space.
void listNodeDisks(const std::shared_ptr<ListNodesRun> &run, Size i)
{
    const quint32 id = run->nodes.at(i).value(QStringLiteral("id")).toUInt();
    run->client->runTask(QStringLiteral("node/%1").arg(id), QStringLiteral("get-node-status"), {},
                         [run, i](const TaskResult &ns) {
        quint64 free = 0, total = 0;
        for (const QJsonValue &d : ns.output.toObject().value(QStringLiteral("disks")).toArray()) {
            const QJsonObject disk = d.toObject();
            if (quint64(disk.value(QStringLiteral("free")).toDouble()) >= free) {
                free = quint64(disk.value(QStringLiteral("free")).toDouble());
                total = quint64(disk.value(QStringLiteral("total")).toDouble());
            }
        }
        run->nodes[i].insert(QStringLiteral("free_bytes"), free);
        run->nodes[i].insert(QStringLiteral("total_bytes"), total);
        if (!ns.ok())
            run->nodes[i].insert(QStringLiteral("online"), false);
        if (--run->pending == 0)
            listNodesReply(*run);
    });
}

void listNodesRead(const std::shared_ptr<ListNodesRun> &run)
{
    run->client->runTask(QStringLiteral("cluster"), QStringLiteral("get-cluster-status"), {}, [run](const TaskResult &st) {
        if (!st.ok())
            return (void)replyError(run->call.msg(), st.failure(QStringLiteral("get-cluster-status")));
        for (const QJsonValue &v : st.output.toObject().value(QStringLiteral("nodes")).toArray()) {
            const QJsonObject n = v.toObject();
            if (quint32(n.value(QStringLiteral("id")).toInt()) == run->self)
                continue; // this NS7 host: nothing is installed there
            run->nodes.append({{QStringLiteral("id"), n.value(QStringLiteral("id")).toInt()},
                               {QStringLiteral("ui_name"), n.value(QStringLiteral("ui_name")).toString()},
                               {QStringLiteral("vpn_address"), n.value(QStringLiteral("vpn")).toObject().value(QStringLiteral("ip_address")).toString()},
                               {QStringLiteral("online"), n.value(QStringLiteral("online")).toBool(true)},
                               {QStringLiteral("local"), n.value(QStringLiteral("local")).toBool()}});
        }
        run->pending = int(run->nodes.size());
        if (run->pending == 0)
            return listNodesReply(*run);
        for (Size i = 0; i < run->nodes.size(); ++i)
            listNodeDisks(run, i);
    });
}

} // namespace

void Cluster::listNodesCall(sd_bus_message *call)
{
    if (!isConnected()) {
        replyError(call, {kWrongState, Text("cluster.not-connected", "This server is not connected to an NS8 cluster.")});
        return;
    }
    if (m_restoring) {
        // Just restarted: NS8 is asked once the tunnel is back.
        const PendingCall pending(call);
        return whenTunnelSettled(this, [this, pending] { listNodesCall(pending.msg()); });
    }
    auto run = std::make_shared<ListNodesRun>(call);
    run->client.reset(vpnClient(nullptr));
    run->self = nodeId();
    run->client->login([run](const ApiError &e) {
        if (e.isError())
            return (void)replyError(run->call.msg(), e);
        listNodesRead(run);
    });
}

// ------------------------------------------------- the temporary user domain

void Cluster::setTemporaryDomain(bool created)
{
    m_link.domainCreated = created;
    if (!m_ctx->state->saveConnection(m_link))
        Log::error(QStringLiteral("the cluster link could not be saved (temporary user domain %1): %2")
                       .arg(created ? QStringLiteral("present") : QStringLiteral("removed"), m_ctx->state->lastError()));
    emit changed({QStringLiteral("DomainDependents")});
}

void Cluster::removeTemporaryDomain(Ns8Client *client, std::function<void(const Failure &)> done)
{
    if (!m_link.domainCreated)
        return done({});
    const QString domain = userDomain();
    client->runTask(QStringLiteral("cluster"), QStringLiteral("remove-external-domain"),
                    {{QStringLiteral("domain"), domain}}, [this, domain, done](const TaskResult &r) {
        if (!r.ok())
            return done(r.failure(QStringLiteral("remove-external-domain"))
                            .asFailed()
                            .after(Text("domain.remove.failed", "The temporary user domain %1 could not be removed.")
                                       .arg(domain)));
        Log::info(QStringLiteral("temporary external user domain %1 removed").arg(domain));
        setTemporaryDomain(false);
        done({});
    });
}

void Cluster::ensureTemporaryDomain(Ns8Client *client, std::function<void(const Failure &)> done)
{
    const QString domain = userDomain();
    client->runTask(QStringLiteral("cluster"), QStringLiteral("list-user-domains"), {},
                    [this, client, domain, done](const TaskResult &r) {
        if (!r.ok())
            return done(r.failure(QStringLiteral("list-user-domains")).asFailed());
        for (const QJsonValue &d : r.output.toObject().value(QStringLiteral("domains")).toArray())
            if (d.toObject().value(QStringLiteral("name")).toString() == domain) {
                if (!m_link.domainCreated && d.toObject().value(QStringLiteral("location")).toString() == QLatin1String("external"))
                    setTemporaryDomain(true);
                return done({});
            }
        Log::warning(QStringLiteral("the temporary user domain %1 is missing from NS8: creating it again").arg(domain));
        restoreTemporaryDomain(client, done);
    });
}

void Cluster::restoreTemporaryDomain(Ns8Client *client, std::function<void(const Failure &)> done)
{
    const EsmithDb config = EsmithDb::load(m_ctx->pathUnderRoot(QStringLiteral("/var/lib/nethserver/db/configuration")));
    const QString domain = userDomain();
    const QJsonObject input = temporaryDomainInput(readAccountProvider(config), domain, m_link.vpnAddress);
    client->runTask(QStringLiteral("cluster"), QStringLiteral("add-external-domain"), input,
                    [this, domain, done](const TaskResult &r) {
        if (!r.ok())
            return done(r.failure(QStringLiteral("add-external-domain"))
                            .asFailed()
                            .after(Text("domain.restore.failed", "The temporary user domain %1 could not be created "
                                                                 "again: NS8's apps cannot sign in NS7's users until "
                                                                 "it exists.")
                                       .arg(domain)));
        Log::info(QStringLiteral("temporary external user domain %1 created again").arg(domain));
        setTemporaryDomain(true);
        done({});
    });
}

// ---------------------------------------------------------------- Disconnect

void Cluster::disconnectCall(sd_bus_message *call, quint32 uid, const QVariantMap &o)
{
    if (m_link.state != u"connected") {
        replyError(call, {kWrongState, m_link.state == u"disconnected"
                                           ? Text("cluster.not-connected", "This server is not connected to an NS8 cluster.")
                                           : m_link.state == u"connecting"
                                           ? Text("connect.connecting", "A connection is in progress; wait for it to end.")
                                           : Text("connect.disconnecting", "A disconnection is in progress; wait for it to end.")});
        return;
    }
    const bool force = o.value(QStringLiteral("force")).toBool();
    const QStringList busy = m_ctx->appsInMigration();
    if (!busy.isEmpty() && !force) {
        replyError(call, {Error::MigrationInProgress,
                          Text("disconnect.busy", "%1 is being migrated: disconnecting now would strand it on NS8. "
                                                  "Finish or abort the migration first (or pass force to "
                                                  "disconnect anyway).")
                              .arg(busy.join(QStringLiteral(", ")))});
        return;
    }
    const QStringList dependent = m_ctx->appsOnTemporaryDomain();
    if (!dependent.isEmpty() && !force) {
        replyError(call, {Error::DomainInUse,
                          Text("disconnect.domain-in-use",
                               "%1 on NS8 signs its users in through the temporary user domain %2, which reads this "
                               "server's accounts: disconnecting removes that domain and its users cannot log in. "
                               "Migrate the account provider first, and the migration ends by itself (or pass force "
                               "to disconnect anyway).")
                              .arg(dependent.join(QStringLiteral(", ")), userDomain())});
        return;
    }
    if (force && !(busy.isEmpty() && dependent.isEmpty()))
        Log::warning(QStringLiteral("Leave cluster: forced while %1 %2")
                         .arg(busy.isEmpty() ? QStringLiteral("these apps depend on the temporary user domain:")
                                             : QStringLiteral("these apps are being migrated:"),
                              (busy + dependent).join(QStringLiteral(", "))));
    QString error;
    Job *job = startDisconnect(uid, LeaveReason::Asked, dependent, &error, busy);
    if (!job) {
        replyError(call, {kFailed, Text("disconnect.not-started", "The disconnection could not start: %1.").arg(error)});
        return;
    }
    sd_bus_reply_method_return(call, "o", job->path().toUtf8().constData());
}

void Cluster::leaveAtEnd()
{
    QString error;
    if (!startDisconnect(0, LeaveReason::Ended, {}, &error))
        Log::error(QStringLiteral("Leave cluster: the migration ended but the cluster cannot be left now: %1. Disconnect "
                                  "from the page.")
                       .arg(error));
}

// The Disconnect job, also what removes an interrupted Connect's leftovers
// at the next start (RECOVERING: the link as that Connect saved it).
Job *Cluster::startDisconnect(quint32 uid, LeaveReason reason, const QStringList &broken, QString *error,
                              const QStringList &stranded)
{
    const bool recovering = reason == LeaveReason::Recovering;
    auto run = std::make_shared<DisconnectRun>();
    run->userDomain = userDomain();
    run->domainCreated = m_link.domainCreated;
    run->broken = broken;
    run->stranded = stranded;
    const QList<Operation::Step> steps = disconnectSteps(run);
    Job::Params params;
    params.operation = QStringLiteral("disconnect");
    params.objectPath = QLatin1String(kRootPath);
    params.startedByUid = uid;
    params.steps = Operation::jobSteps(steps);
    Job *job = m_ctx->createJob(params, error);
    if (!job)
        return nullptr;
    job->setCancelable(false);
    setState(QStringLiteral("disconnecting"));
    if (recovering)
        Log::warning(QStringLiteral("Join cluster: the Connect to %1 was cut short (node %2, account %3): removing what "
                                    "it created")
                         .arg(leader())
                         .arg(nodeId())
                         .arg(m_link.apiUser.isEmpty() ? QStringLiteral("none") : m_link.apiUser),
                     job->logContext());
    else
        Log::info(QStringLiteral("Leave cluster: leaving %1 (node %2)").arg(leader()).arg(nodeId()), job->logContext());

    run->job = job;
    run->leader = leader();
    // Over HTTPS, not the tunnel: removing the node cuts the tunnel.
    run->client = ClientPtr(new Ns8Client);
    run->client->setBaseUrl(adminApiBase(leader()));
    run->client->setTlsPolicy(m_ctx->savedTlsPolicy());
    run->client->setRetryDelays({500, 1000});
    run->client->setTaskTimeout(m_ctx->settings.taskTimeoutSeconds * 1000);
    run->client->setCredentials(m_link.apiUser,
                                QString::fromUtf8(readSecret(QStringLiteral("account"))));
    auto *op = new Operation(job, steps);
    op->summary = [run, reason] { return leaveSummary(*run, reason); };
    op->concluding = [run](const Failure &failure) {
        run->client->forgetCredentials();
        if (!failure.isError() && run->job)
            Log::info(QStringLiteral("Leave cluster: done"), run->job->logContext());
    };
    op->start();
    return job;
}

Texts Cluster::leaveSummary(const DisconnectRun &run, LeaveReason reason)
{
    if (reason == LeaveReason::Recovering)
        return Texts{Text("connect.recovered", "A connection to %1 that a stop of the helper cut short was undone: "
                                               "what it had created on NS8 and on this server is removed.")
                         .arg(run.leader)};
    Texts t;
    if (reason == LeaveReason::Ended)
        t += Text("leave.ended", "The migration is complete: this server left the cluster %1 (node, migration account "
                                 "and VPN removed). NS7 can be switched off.")
                 .arg(run.leader);
    else if (run.domainCreated)
        t += Text("disconnect.done", "Disconnected from %1: node, account and temporary domain removed.").arg(run.leader);
    else
        t += Text("disconnect.done-no-domain", "Disconnected from %1: node and account removed.").arg(run.leader);
    if (!run.broken.isEmpty())
        t += Text("disconnect.broke", "Forced: %1 on NS8 used the temporary user domain %2, now removed, and its users "
                                      "cannot log in until a user domain of that name exists on NS8 again.")
                 .arg(run.broken.join(QStringLiteral(", ")), run.userDomain);
    if (!run.stranded.isEmpty())
        t += Text("disconnect.stranded", "Forced: %1 was being migrated; what NS8 received stays there as it is, and "
                                         "this server can no longer sync, finish or abort it. Remove the module on NS8 "
                                         "if it is not wanted.")
                 .arg(run.stranded.join(QStringLiteral(", ")));
    return t;
}

void Cluster::recoverInterruptedConnect()
{
    m_interrupted = false;
    QString error;
    if (!startDisconnect(0, LeaveReason::Recovering, {}, &error))
        Log::error(QStringLiteral("Join cluster: the leftovers of an interrupted Connect cannot be removed now: %1").arg(error));
}

bool Cluster::interruptConnect(QObject *context, std::function<void()> done)
{
    if (!m_connectOp || !m_connectOp->job() || m_connectOp->job()->isFinished())
        return false;
    Log::warning(QStringLiteral("Join cluster: the helper is stopping: undoing the connection"), m_connectOp->job()->logContext());
    connect(m_connectOp->job(), &Job::finished, context, [done] { done(); });
    m_connectOp->interrupt(Failure::failed(Text("connect.interrupted", "The helper was stopped before the connection "
                                                                       "was complete.")));
    return true;
}

// Best effort: a step that cannot remove something notes it and the next one
// runs; this server forgets the cluster in any case.  Only the last step
// fails, naming what NS8 still holds.
QList<Operation::Step> Cluster::disconnectSteps(const std::shared_ptr<DisconnectRun> &run)
{
    using Next = Operation::Next;
    return {
        {QStringLiteral("login"), Text("step.disconnect.login", "Log in"), 1, [this, run](Next next) { disconnectLogin(run, next); }, {}, false},
        {QStringLiteral("user-domain"), Text("step.disconnect.user-domain", "Remove the temporary user domain"), 1,
         [this, run](Next next) {
             if (!m_link.domainCreated)
                 return next({});
             disconnectTask(run, QStringLiteral("remove-external-domain"), {{QStringLiteral("domain"), userDomain()}},
                            QStringLiteral("domain=%1").arg(userDomain()), next);
         },
         {}, false},
        {QStringLiteral("node"), Text("step.disconnect.node", "Remove this node"), 1, [this, run](Next next) { disconnectNode(run, next); }, {},
         false},
        {QStringLiteral("account"), Text("step.disconnect.account", "Remove the migration account"), 1,
         [this, run](Next next) {
             const QString user = m_link.apiUser;
             if (user.isEmpty())
                 return next({});
             disconnectTask(run, QStringLiteral("remove-user"), {{QStringLiteral("user"), user}},
                            QStringLiteral("user=%1").arg(user), next);
         },
         {}, false},
        {QStringLiteral("tunnel"), Text("step.disconnect.tunnel", "Take the VPN down"), 1,
         [this, run](Next next) {
             m_tunnel.down(QStringLiteral("ns8"), [run, next](const Texts &error) {
                 if (!error.isEmpty() && run->job)
                     Log::error(QStringLiteral("Leave cluster: %1").arg(english(error)), run->job->logContext());
                 next({});
             });
         },
         {}, false},
        {QStringLiteral("firewall"), Text("step.disconnect.firewall", "Close NS7's firewall to the VPN"), 1,
         [this](Next next) { tunnelZone(QStringLiteral("ns8"), false, next); }, {}, false},
        {QStringLiteral("forget"), Text("step.disconnect.forget", "Forget keys and secrets"), 1,
         [this, run](Next next) { disconnectForget(run, next); }, {}, false},
    };
}

void Cluster::disconnectLogin(const std::shared_ptr<DisconnectRun> &run, const Operation::Next &next)
{
    // An interrupted Connect before add-user: no account to log in with.
    if (m_link.apiUser.isEmpty())
        return next({});
    run->client->login([this, run, next](const ApiError &e) {
        setFingerprint(run->client->peerFingerprint());
        run->loggedIn = !e.isError();
        if (e.isError() && run->job)
            Log::error(QStringLiteral("Leave cluster: cannot log in to NS8: %1").arg(e.message), run->job->logContext());
        next({});
    });
}

// One removal on NS8; what it could not remove is noted as left behind.
void Cluster::disconnectTask(const std::shared_ptr<DisconnectRun> &run, const QString &action, const QJsonObject &input,
                             const QString &what, const Operation::Next &next)
{
    if (!run->loggedIn) {
        run->leftovers.append(what);
        return next({});
    }
    run->client->runTask(QStringLiteral("cluster"), action, input, [run, next, what, action](const TaskResult &r) {
        // Removing the account the helper is logged in with ends its
        // session: a 401 right after that task was queued means it is gone.
        const bool removedSelf = action == u"remove-user" && r.queued
            && r.error.name == QLatin1String(Error::AuthenticationFailed);
        if (!r.ok() && !removedSelf) {
            run->leftovers.append(what);
            Log::error(QStringLiteral("Leave cluster: %1 failed: %2")
                           .arg(action, r.error.isError() ? r.error.message : r.stderrText.trimmed()),
                       run->job ? run->job->logContext() : LogContext{});
        }
        next({});
    });
}

void Cluster::disconnectNode(const std::shared_ptr<DisconnectRun> &run, const Operation::Next &next)
{
    // The route to NS7's domain controller goes with the node; its answer is
    // not waited for.
    const QString routeIp = m_link.routeIp;
    if (!routeIp.isEmpty() && run->loggedIn)
        run->client->runTask(QStringLiteral("cluster"), QStringLiteral("update-routes"),
                             {{QStringLiteral("remove"), QJsonArray{QJsonObject{{QStringLiteral("ip_address"), routeIp},
                                                                               {QStringLiteral("node_id"), int(nodeId())}}}}},
                             [](const TaskResult &) {});
    if (nodeId() == 0) // an interrupted Connect before add-node answered
        return next({});
    disconnectTask(run, QStringLiteral("remove-node"), {{QStringLiteral("node_id"), int(nodeId())}},
                   QStringLiteral("node_id=%1").arg(nodeId()), next);
}

void Cluster::disconnectForget(const std::shared_ptr<DisconnectRun> &run, const Operation::Next &next)
{
    run->client->forgetCredentials();
    removeSecrets();
    m_ctx->state->saveConnection(ClusterLink{});
    const QString state = m_link.state;
    m_link = ClusterLink{};
    m_link.state = state;
    setState(QStringLiteral("disconnected"));
    enableAtBoot(false);
    emit changed({QStringLiteral("Leader"), QStringLiteral("NodeId"), QStringLiteral("VpnAddress"),
                  QStringLiteral("UserDomain"), QStringLiteral("TlsFingerprint")});
    m_fingerprint.clear();
    if (run->leftovers.isEmpty())
        return next({});
    next({kUnreachable, Text("disconnect.leftovers", "Disconnected on this server, but NS8 (%1) could not remove: %2. Remove them "
                                       "by hand in the NS8 interface.")
                            .arg(run->leader, run->leftovers.join(QStringLiteral(", ")))});
}

} // namespace ns8m
