#include "operations/context.h"

#include "core/paths.h"
#include "core/secrets.h"
#include "core/tunnelroute.h"
#include "vpn/wireguard.h"

namespace ns8m {

QString Context::pathUnderRoot(const QString &path) const
{
    return underRoot(settings.root, path);
}

QString Context::secretsDir() const
{
    return settings.stateDir + QStringLiteral("/secrets");
}

const AppProfile *Context::profile(const QString &id) const
{
    for (const AppProfile &p : profiles)
        if (p.id == id)
            return &p;
    return nullptr;
}

TlsPolicy Context::savedTlsPolicy() const
{
    TlsPolicy p;
    p.verify = !link || link->tlsVerify;
    // Without validation the certificate seen at Connect is pinned.
    if (!p.verify)
        p.pinnedSha256 = link->tlsFingerprint;
    p.extraCas = extraCas;
    return p;
}

Ns8Client *Context::vpnClient(QObject *parent) const
{
    if (!isJoined())
        return nullptr;
    auto *c = new Ns8Client(parent);
    c->setBaseUrl(vpnApiBase(link->leaderVpnIp));
    c->setTunnel(QString::fromLatin1(kTunnelInterface));
    c->setCredentials(link->apiUser, QString::fromUtf8(readSecretFile(secretsDir() + QStringLiteral("/account"))));
    return c;
}

Failure Context::throughTunnel(const QStringList &addresses) const
{
    for (const QString &a : addresses) {
        if (a.isEmpty())
            continue;
        const Failure refused = checkTunnelRoute(QString::fromLatin1(kTunnelInterface), a);
        if (refused.isError())
            return refused;
    }
    return {};
}

} // namespace ns8m
