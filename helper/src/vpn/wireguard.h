// The WireGuard side of the join: a fresh X25519 key pair for every join,
// and the "ns8" interface towards the leader (kernel WireGuard when the
// kernel has it, wireguard-go otherwise).  The private key only ever goes to
// wg through a root-only file, never on a command line.
#pragma once

#include <QHostAddress>
#include <QList>
#include <QObject>
#include <QString>
#include <QStringList>

#include "core/text.h"

#include <functional>

namespace ns8m {

// The host of a WireGuard endpoint: "host:port", "[v6]:port" or a bare host.
QString hostOfEndpoint(const QString &endpoint);

struct TunnelConfig;
// A network: its address and prefix length.
struct IpNetwork {
    QHostAddress address;
    int prefix = -1;
};
// The networks this server has: its interfaces' (loopback included) and
// its routes' destinations (the default route left out: it is "anything").
QList<IpNetwork> localNetworks();

// What add-node answered for the tunnel, checked before any of it reaches
// wg, ip or getent (a value from NS8 is input too): NETWORK an IPv4 or
// IPv6 network with a sane prefix length (IPv4 /8-/30, IPv6 /48-/126), not
// a default route, that neither overlaps nor contains any of LOCAL; the VPN
// address and the leader's VPN address distinct hosts inside it; the
// leader's key a WireGuard public key; the endpoint "host:port" with a host
// name or address (nothing that starts with "-") and a port.  Empty when
// all is well, otherwise what is wrong.
Text checkTunnelFields(const TunnelConfig &config, const QString &leaderIp, const QList<IpNetwork> &local);

struct WgKeyPair {
    QString privateKey; // base64, as `wg genkey` prints it: secret
    QString publicKey;  // base64, as `wg pubkey` prints it
};

// Generates a key pair with OpenSSL; false when OpenSSL fails.
bool generateWgKeyPair(WgKeyPair *out);
// The public key of a base64 private key ("" when it is not one).
QString wgPublicKey(const QString &privateKeyBase64);

// The name of the WireGuard interface towards the cluster.  Everything
// sent to the cluster API inside the tunnel and to the module receivers is
// sent only while the kernel routes it through this interface
// (core/tunnelroute.h).
inline constexpr const char *kTunnelInterface = "ns8";

struct TunnelConfig {
    QString interface = QString::fromLatin1(kTunnelInterface);
    QString privateKeyFile;  // 0600
    QString address;         // this host's VPN address, e.g. 10.5.4.3
    QString network;         // the cluster network, e.g. 10.5.4.0/24
    QString peerPublicKey;   // the leader's
    QString peerEndpoint;    // host:port
    int keepalive = 25;
};

class Tunnel : public QObject
{
    Q_OBJECT
public:
    explicit Tunnel(QObject *parent = nullptr) : QObject(parent) {}

    // What Tunnel says when it is done: nothing, or what went wrong, by id.
    using Done = std::function<void(const Texts &error)>;

    // How wireguard-go is started when the kernel has no WireGuard: ARGV
    // (which daemonizes once the interface exists) with ENV; DONE gets ""
    // or why it failed.  The helper hands it to systemd as a unit of its own
    // (objects/daemon.cpp), so that the tunnel outlives the helper; without
    // a launcher it is a child of the helper.
    using Launcher = std::function<void(const QStringList &argv, const QStringList &env,
                                        std::function<void(const QString &error)> done)>;
    void setUserspaceLauncher(Launcher launcher) { m_launcher = std::move(launcher); }

    // Creates (or re-creates) the interface and configures it.
    void up(const TunnelConfig &config, Done done);
    // Removes the interface (wireguard-go exits with it); fine when absent.
    void down(const QString &interface, Done done);
    // Whether the interface exists now.
    void exists(const QString &interface, std::function<void(bool)> done);
    // Polls until the peer's first handshake, or TIMEOUTMS passes.
    void waitHandshake(const QString &interface, int timeoutMs, std::function<void(bool)> done);

private:
    Launcher m_launcher;
    void userspaceStarted(const TunnelConfig &config, const Texts &why, Done done);
    void startUserspaceChild(const TunnelConfig &config, Done done);
    static QStringList userspaceEnvironment();
    // After down(): the interface in the kernel, or wireguard-go when the
    // kernel has no WireGuard; then configure().
    void addInterface(const TunnelConfig &config, Done done);
    void startUserspace(const TunnelConfig &config, Done done);
    void configure(const TunnelConfig &config, Done done);
    void pollHandshake(const QString &interface, qint64 deadline, std::function<void(bool)> done);
};

} // namespace ns8m
