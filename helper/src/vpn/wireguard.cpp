#include "vpn/wireguard.h"

#include "core/commands.h"
#include "core/log.h"
#include "core/process.h"
#include "core/qtcompat.h"

#include "ns7/accountprovider.h"

#include <QDateTime>
#include <QFile>
#include <QNetworkInterface>
#include <QStandardPaths>
#include <QTimer>

#include <openssl/evp.h>

#include <memory>

namespace ns8m {

QString hostOfEndpoint(const QString &endpoint)
{
    if (endpoint.startsWith(u'['))
        return endpoint.mid(1, endpoint.indexOf(u']') - 1);
    // One colon: host:port.  None, or several (a bare IPv6 address): no port.
    const Size colon = endpoint.lastIndexOf(u':');
    return colon > 0 && endpoint.indexOf(u':') == colon ? endpoint.left(colon) : endpoint;
}

namespace {

struct PkeyDeleter {
    void operator()(EVP_PKEY *k) const { EVP_PKEY_free(k); }
};
struct CtxDeleter {
    void operator()(EVP_PKEY_CTX *c) const { EVP_PKEY_CTX_free(c); }
};


// "0A05040000000000..." of /proc/net/route (IPv4, host byte order of the
// kernel: the bytes as they are in memory) or of /proc/net/ipv6_route.
QHostAddress procAddress(const QByteArray &hex, bool v4)
{
    const QByteArray raw = QByteArray::fromHex(hex);
    if (v4 && raw.size() == 4) {
        quint32 a = 0;
        for (int i = 3; i >= 0; --i)
            a = (a << 8) | quint8(raw.at(i));
        return QHostAddress(a);
    }
    if (!v4 && raw.size() == 16)
        return QHostAddress(reinterpret_cast<const quint8 *>(raw.constData()));
    return {};
}

int maskLength(quint32 mask)
{
    int n = 0;
    while (mask & 0x80000000u) {
        ++n;
        mask <<= 1;
    }
    return n;
}

void routeNetworks(QList<IpNetwork> *out)
{
    QFile v4(QStringLiteral("/proc/net/route"));
    if (v4.open(QIODevice::ReadOnly)) {
        v4.readLine(); // the header
        for (const QByteArray &line : v4.readAll().split('\n')) {
            const QList<QByteArray> f = line.simplified().split(' ');
            if (f.size() < 8 || f.at(0) == kTunnelInterface)
                continue;
            const QHostAddress mask = procAddress(f.at(7), true);
            const int prefix = maskLength(mask.toIPv4Address());
            if (prefix > 0)
                out->append({procAddress(f.at(1), true), prefix});
        }
    }
    QFile v6(QStringLiteral("/proc/net/ipv6_route"));
    if (v6.open(QIODevice::ReadOnly)) {
        for (const QByteArray &line : v6.readAll().split('\n')) {
            const QList<QByteArray> f = line.simplified().split(' ');
            const int prefix = f.size() >= 10 ? f.at(1).toInt(nullptr, 16) : 0;
            if (prefix > 0 && f.at(9) != kTunnelInterface)
                out->append({procAddress(f.at(0), false), prefix});
        }
    }
}

// Whether A and B share an address: one contains the other.
bool overlaps(const IpNetwork &a, const IpNetwork &b)
{
    const int shorter = qMin(a.prefix, b.prefix);
    return a.address.protocol() == b.address.protocol() && a.address.isInSubnet(b.address, shorter);
}

Text checkNetwork(const QString &network, IpNetwork *net, const QList<IpNetwork> &local)
{
    const Text bad = Text("tunnel.network.invalid", "NS8 gave \"%1\" as the cluster's VPN network: that is not an "
                                                    "IPv4 or IPv6 network with a prefix length.")
                         .arg(network);
    if (!network.contains(u'/') || network.startsWith(u'-'))
        return bad;
    const QPair<QHostAddress, int> parsed = QHostAddress::parseSubnet(network);
    net->address = parsed.first;
    net->prefix = parsed.second;
    const bool v4 = net->address.protocol() == QAbstractSocket::IPv4Protocol;
    if (net->address.isNull() || net->prefix < 0 || (!v4 && net->address.protocol() != QAbstractSocket::IPv6Protocol))
        return bad;
    if (net->prefix == 0)
        return Text("tunnel.network.default", "NS8 gave %1 as the cluster's VPN network: that is a default route, "
                                              "which would send all of this server's traffic into the VPN.")
            .arg(network);
    if (v4 ? (net->prefix < 8 || net->prefix > 30) : (net->prefix < 48 || net->prefix > 126))
        return Text("tunnel.network.prefix", "NS8 gave %1 as the cluster's VPN network: its prefix length is out of "
                                             "the sane range (IPv4 /8 to /30, IPv6 /48 to /126).")
            .arg(network);
    if (QHostAddress(network.section(u'/', 0, 0)) != net->address)
        return bad; // host bits set: not a network address
    for (const IpNetwork &mine : local)
        if (overlaps(*net, mine))
            return Text("tunnel.network.overlap", "NS8 gave %1 as the cluster's VPN network: it overlaps %2/%3, a "
                                                  "network of this server. Change the VPN network of the NS8 cluster.")
                .arg(network, mine.address.toString())
                .arg(mine.prefix);
    return {};
}

Text checkEndpoint(const QString &endpoint)
{
    const Text bad = Text("tunnel.endpoint.invalid", "NS8 gave \"%1\" as the leader's VPN endpoint: that is not "
                                                     "host:port with a host name or an IP address.")
                         .arg(endpoint);
    const QString host = hostOfEndpoint(endpoint);
    if (host.isEmpty() || host.startsWith(u'-') || endpoint.startsWith(u'-'))
        return bad;
    const QString rest = endpoint.mid(endpoint.startsWith(u'[') ? host.size() + 2 : host.size());
    bool ok = false;
    const int port = rest.startsWith(u':') ? rest.mid(1).toInt(&ok) : 0;
    if (!ok || port < 1 || port > 65535 || rest.mid(1) != QString::number(port))
        return bad;
    QHostAddress addr;
    if (!addr.setAddress(host) && !isValidDomainName(host))
        return bad;
    if (endpoint.startsWith(u'[') != (addr.protocol() == QAbstractSocket::IPv6Protocol))
        return bad;
    return {};
}

} // namespace

QList<IpNetwork> localNetworks()
{
    QList<IpNetwork> out;
    for (const QNetworkInterface &i : QNetworkInterface::allInterfaces()) {
        if (i.name() == QLatin1String(kTunnelInterface))
            continue; // the tunnel of an earlier join, replaced
        for (const QNetworkAddressEntry &e : i.addressEntries())
            if (e.prefixLength() > 0)
                out.append({e.ip(), e.prefixLength()});
    }
    routeNetworks(&out);
    return out;
}

Text checkTunnelFields(const TunnelConfig &c, const QString &leaderIp, const QList<IpNetwork> &local)
{
    IpNetwork net;
    const Text network = checkNetwork(c.network, &net, local);
    if (!network.isEmpty())
        return network;
    for (const QString &host : {c.address, leaderIp}) {
        const QHostAddress a(host);
        if (a.isNull() || host.startsWith(u'-') || !a.isInSubnet(net.address, net.prefix) || a == net.address)
            return Text("tunnel.address.outside", "NS8 gave %1 as a VPN address: that is not a host address of the "
                                                  "cluster's VPN network %2.")
                .arg(host, c.network);
    }
    if (QHostAddress(c.address) == QHostAddress(leaderIp))
        return Text("tunnel.address.leader", "NS8 gave this server the leader's own VPN address %1.").arg(leaderIp);
    if (QByteArray::fromBase64(c.peerPublicKey.toLatin1()).size() != 32
        || QByteArray::fromBase64(c.peerPublicKey.toLatin1()).toBase64() != c.peerPublicKey.toLatin1())
        return Text("tunnel.key.invalid", "NS8 gave \"%1\" as the leader's WireGuard key: that is not a WireGuard "
                                          "public key.")
            .arg(c.peerPublicKey);
    return checkEndpoint(c.peerEndpoint);
}

bool generateWgKeyPair(WgKeyPair *out)
{
    std::unique_ptr<EVP_PKEY_CTX, CtxDeleter> ctx(EVP_PKEY_CTX_new_id(EVP_PKEY_X25519, nullptr));
    if (!ctx || EVP_PKEY_keygen_init(ctx.get()) <= 0)
        return false;
    EVP_PKEY *raw = nullptr;
    if (EVP_PKEY_keygen(ctx.get(), &raw) <= 0)
        return false;
    std::unique_ptr<EVP_PKEY, PkeyDeleter> key(raw);
    unsigned char priv[32], pub[32];
    size_t privLen = sizeof priv, pubLen = sizeof pub;
    if (EVP_PKEY_get_raw_private_key(key.get(), priv, &privLen) <= 0
        || EVP_PKEY_get_raw_public_key(key.get(), pub, &pubLen) <= 0 || privLen != 32 || pubLen != 32)
        return false;
    out->privateKey = QString::fromLatin1(QByteArray(reinterpret_cast<const char *>(priv), 32).toBase64());
    out->publicKey = QString::fromLatin1(QByteArray(reinterpret_cast<const char *>(pub), 32).toBase64());
    OPENSSL_cleanse(priv, sizeof priv);
    return true;
}

QString wgPublicKey(const QString &privateKeyBase64)
{
    const QByteArray priv = QByteArray::fromBase64(privateKeyBase64.toLatin1());
    if (priv.size() != 32)
        return {};
    std::unique_ptr<EVP_PKEY, PkeyDeleter> key(EVP_PKEY_new_raw_private_key(
        EVP_PKEY_X25519, nullptr, reinterpret_cast<const unsigned char *>(priv.constData()), 32));
    unsigned char pub[32];
    size_t len = sizeof pub;
    if (!key || EVP_PKEY_get_raw_public_key(key.get(), pub, &len) <= 0 || len != 32)
        return {};
    return QString::fromLatin1(QByteArray(reinterpret_cast<const char *>(pub), 32).toBase64());
}

void Tunnel::exists(const QString &interface, std::function<void(bool)> done)
{
    runProcess(this, commands::ipLinkShow(interface), [done](const ProcessResult &r) { done(r.ok()); });
}

void Tunnel::up(const TunnelConfig &config, Done done)
{
    // Start from a clean interface, then kernel WireGuard or wireguard-go.
    down(config.interface, [this, config, done](const Texts &) { addInterface(config, done); });
}

void Tunnel::addInterface(const TunnelConfig &config, Done done)
{
    runProcess(this, commands::ipLinkAddWireguard(config.interface),
               [this, config, done](const ProcessResult &kernel) {
                   if (kernel.ok())
                       return configure(config, done);
                   startUserspace(config, done);
               });
}

void Tunnel::startUserspace(const TunnelConfig &config, Done done)
{
    if (!m_launcher)
        return startUserspaceChild(config, done);
    QStringList argv = commands::wireguardGo(config.interface);
    const QString program = QStandardPaths::findExecutable(argv.first());
    if (!program.isEmpty())
        argv.first() = program; // systemd wants an absolute path
    m_launcher(argv, userspaceEnvironment(), [this, config, done](const QString &error) {
        if (error.isEmpty())
            return configure(config, done);
        // Better a tunnel that goes down with the helper than none.
        Log::warning(QStringLiteral("systemd could not run wireguard-go as a unit of its own (%1): running it as the "
                                    "helper's child, so the tunnel goes down with the helper")
                         .arg(error));
        startUserspaceChild(config, done);
    });
}

QStringList Tunnel::userspaceEnvironment()
{
    // wireguard-go guesses kernel support from the version and refuses to
    // run; the kernel just said it has none.
    return {QStringLiteral("WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1")};
}

void Tunnel::startUserspaceChild(const TunnelConfig &config, Done done)
{
    runProcess(this, commands::wireguardGo(config.interface),
               [this, config, done](const ProcessResult &userspace) {
                   userspaceStarted(config, userspace.ok() ? Texts() : Texts{userspace.failure()}, done);
               },
               userspaceEnvironment());
}

void Tunnel::userspaceStarted(const TunnelConfig &config, const Texts &why, Done done)
{
    if (!why.isEmpty())
        return done(Texts{Text("tunnel.no-wireguard", "The kernel has no WireGuard, and its userspace "
                                                      "implementation did not start:")}
                    + why);
    configure(config, done);
}

void Tunnel::configure(const TunnelConfig &c, Done done)
{
    const QList<QStringList> steps = {
        commands::wgSetPeer(c.interface, c.privateKeyFile, c.peerPublicKey, c.peerEndpoint, c.network, c.keepalive),
        commands::ipAddressReplace(c.address + QStringLiteral("/32"), c.interface),
        commands::ipLinkSetMtuUp(c.interface, 1420),
        commands::ipRouteReplace(c.network, c.interface, c.address),
    };
    runSequence(this, steps, [done](const ProcessResult &r) { done(r.ok() ? Texts() : Texts{r.failure()}); });
}

void Tunnel::down(const QString &interface, Done done)
{
    exists(interface, [this, interface, done](bool present) {
        if (!present)
            return done({});
        runProcess(this, commands::ipLinkDel(interface),
                   [done](const ProcessResult &r) { done(r.ok() ? Texts() : Texts{r.failure()}); });
    });
}

void Tunnel::waitHandshake(const QString &interface, int timeoutMs, std::function<void(bool)> done)
{
    pollHandshake(interface, QDateTime::currentMSecsSinceEpoch() + timeoutMs, std::move(done));
}

void Tunnel::pollHandshake(const QString &interface, qint64 deadline, std::function<void(bool)> done)
{
    runProcess(this, commands::wgShowLatestHandshakes(interface),
               [this, interface, deadline, done](const ProcessResult &r) {
                   for (const QByteArray &line : r.out.split('\n')) {
                       const QList<QByteArray> f = line.simplified().split(' ');
                       if (f.size() == 2 && f.at(1).toLongLong() > 0)
                           return done(true);
                   }
                   if (QDateTime::currentMSecsSinceEpoch() >= deadline)
                       return done(false);
                   QTimer::singleShot(250, this, [this, interface, deadline, done] {
                       pollHandshake(interface, deadline, done);
                   });
               });
}

} // namespace ns8m
