#include "ns7/system.h"

#include "core/paths.h"
#include "core/qtcompat.h"
#include "ns7/accountprovider.h"
#include "ns7/esmithdb.h"

#include <QFile>

namespace ns8m {

namespace {

QString providerId(AccountProvider::Kind kind)
{
    switch (kind) {
    case AccountProvider::Kind::None: return QStringLiteral("none");
    case AccountProvider::Kind::LocalLdap: return QStringLiteral("openldap");
    case AccountProvider::Kind::LocalAd: return QStringLiteral("samba-ad");
    case AccountProvider::Kind::RemoteLdap: return QStringLiteral("remote-ldap");
    case AccountProvider::Kind::RemoteAd: return QStringLiteral("remote-ad");
    }
    return {};
}

// The networks database: every record with an address or a role, in the
// database's order (aliases and members of a bridge without role included:
// they are what NS7 holds).
QList<Ns7Interface> readInterfaces(const EsmithDb &networks)
{
    QList<Ns7Interface> out;
    for (const QString &key : networks.keys()) {
        const auto rec = networks.record(key);
        if (!rec || rec->type.isEmpty())
            continue;
        Ns7Interface i;
        i.name = key;
        i.type = rec->type;
        i.role = rec->prop(QStringLiteral("role"));
        i.address = rec->prop(QStringLiteral("ipaddr"));
        i.netmask = rec->prop(QStringLiteral("netmask"));
        i.gateway = rec->prop(QStringLiteral("gateway"));
        i.bootproto = rec->prop(QStringLiteral("bootproto"));
        if (i.role.isEmpty() && i.address.isEmpty())
            continue;
        out.append(i);
    }
    return out;
}

int appendString(sd_bus_message *m, const char *key, const QString &value)
{
    return sd_bus_message_append(m, "{sv}", key, "s", value.toUtf8().constData());
}

int appendInterface(sd_bus_message *m, const Ns7Interface &i)
{
    int r = sd_bus_message_open_container(m, 'a', "{sv}");
    if (r >= 0)
        r = appendString(m, "name", i.name);
    if (r >= 0)
        r = appendString(m, "type", i.type);
    if (r >= 0)
        r = appendString(m, "role", i.role);
    if (r >= 0)
        r = appendString(m, "address", i.address);
    if (r >= 0)
        r = appendString(m, "netmask", i.netmask);
    if (r >= 0)
        r = appendString(m, "gateway", i.gateway);
    if (r >= 0)
        r = appendString(m, "bootproto", i.bootproto);
    return r < 0 ? r : sd_bus_message_close_container(m);
}

int appendApp(sd_bus_message *m, const Ns7AppSize &a)
{
    int r = sd_bus_message_open_container(m, 'a', "{sv}");
    if (r >= 0)
        r = appendString(m, "id", a.id);
    if (r >= 0)
        r = appendString(m, "name", a.name);
    if (r >= 0)
        r = appendString(m, "status", a.status);
    if (r >= 0)
        r = sd_bus_message_append(m, "{sv}{sv}{sv}{sv}", "source_files", "t", a.sourceFiles, "source_bytes", "t",
                                  a.sourceBytes, "database_bytes", "t", a.databaseBytes, "scan_time", "t",
                                  quint64(a.scanTime));
    return r < 0 ? r : sd_bus_message_close_container(m);
}

// {KEY: aa{sv}} with one dictionary per item, written by APPEND.
template <typename T, typename F>
int appendList(sd_bus_message *m, const char *key, const QList<T> &items, F append)
{
    int r = sd_bus_message_open_container(m, 'e', "sv");
    if (r >= 0)
        r = sd_bus_message_append(m, "s", key);
    if (r >= 0)
        r = sd_bus_message_open_container(m, 'v', "aa{sv}");
    if (r >= 0)
        r = sd_bus_message_open_container(m, 'a', "a{sv}");
    for (const T &item : items)
        if (r >= 0)
            r = append(m, item);
    for (int i = 0; i < 3 && r >= 0; ++i)
        r = sd_bus_message_close_container(m);
    return r;
}

} // namespace

QString readNs7Release(const QString &root)
{
    QFile rel(underRoot(root, QStringLiteral("/etc/nethserver-release")));
    return rel.open(QIODevice::ReadOnly) ? QString::fromUtf8(rel.read(4096)).trimmed() : QString();
}

Ns7System readNs7System(const QString &root)
{
    const QString dbDir = QStringLiteral("/var/lib/nethserver/db/");
    const EsmithDb config = EsmithDb::load(underRoot(root, dbDir + QStringLiteral("configuration")));
    Ns7System s;
    s.hostName = config.type(QStringLiteral("SystemName"));
    s.domainName = config.type(QStringLiteral("DomainName"));
    s.release = readNs7Release(root);
    s.interfaces = readInterfaces(EsmithDb::load(underRoot(root, dbDir + QStringLiteral("networks"))));
    // Only whether there is a subscription and its public id: never Secret.
    s.systemId = config.prop(QStringLiteral("subscription"), QStringLiteral("SystemId"));
    if (!s.systemId.isEmpty())
        s.subscriptionProvider = config.prop(QStringLiteral("subscription"), QStringLiteral("Provider"));
    const AccountProvider provider = readAccountProvider(config);
    s.accountProvider = providerId(provider.kind);
    s.accountProviderDetail = provider.kind == AccountProvider::Kind::None ? QString() : provider.describe();
    return s;
}

int appendNs7System(sd_bus_message *m, const Ns7System &s, const QList<Ns7AppSize> &apps)
{
    int r = sd_bus_message_open_container(m, 'a', "{sv}");
    if (r >= 0)
        r = appendString(m, "host_name", s.hostName);
    if (r >= 0)
        r = appendString(m, "domain_name", s.domainName);
    if (r >= 0)
        r = appendString(m, "release", s.release);
    if (r >= 0)
        r = sd_bus_message_append(m, "{sv}", "subscription", "b", int(!s.systemId.isEmpty()));
    if (r >= 0)
        r = appendString(m, "system_id", s.systemId);
    if (r >= 0)
        r = appendString(m, "subscription_provider", s.subscriptionProvider);
    if (r >= 0)
        r = appendString(m, "account_provider", s.accountProvider);
    if (r >= 0)
        r = appendString(m, "account_provider_detail", s.accountProviderDetail);
    if (r >= 0)
        r = appendList(m, "interfaces", s.interfaces, appendInterface);
    if (r >= 0)
        r = appendList(m, "apps", apps, appendApp);
    return r < 0 ? r : sd_bus_message_close_container(m);
}

} // namespace ns8m
