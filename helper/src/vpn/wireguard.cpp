#include "vpn/wireguard.h"

#include "core/commands.h"
#include "core/log.h"
#include "core/process.h"
#include "core/qtcompat.h"

#include <QDateTime>
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


} // namespace

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
