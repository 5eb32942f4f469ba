#include "operations/context.h"

#include "core/paths.h"
#include "core/secrets.h"

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
    c->setCredentials(link->apiUser, QString::fromUtf8(readSecretFile(secretsDir() + QStringLiteral("/account"))));
    return c;
}

} // namespace ns8m
