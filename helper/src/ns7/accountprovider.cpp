#include "ns7/accountprovider.h"

#include "core/qtcompat.h"

#include <QJsonArray>
#include <QRegularExpression>
#include <QSet>
#include <QUrl>

namespace ns8m {

namespace {

const QString kDomainConflict = QString::fromLatin1(Error::DomainConflict);
const QString kInvalid = QString::fromLatin1(Error::InvalidArgument);

Failure conflict(const Text &message)
{
    return {kDomainConflict, message};
}

} // namespace

QString AccountProvider::describe() const
{
    // Names and values only, no sentence: it goes into sentences as data.
    switch (kind) {
    case Kind::None: return QStringLiteral("-");
    case Kind::LocalLdap: return QStringLiteral("OpenLDAP (%1)").arg(baseDn);
    case Kind::LocalAd: return QStringLiteral("Samba AD (%1, DC %2)").arg(realm, dcAddress);
    case Kind::RemoteLdap: return QStringLiteral("LDAP %1 (%2)").arg(ldapUri, baseDn);
    case Kind::RemoteAd: return QStringLiteral("AD %1 (%2)").arg(realm, ldapUri);
    }
    return {};
}

QString AccountProvider::kindName() const
{
    switch (kind) {
    case Kind::LocalLdap: return QStringLiteral("local_ldap");
    case Kind::LocalAd: return QStringLiteral("local_ad");
    case Kind::RemoteLdap: return QStringLiteral("remote_ldap");
    case Kind::RemoteAd: return QStringLiteral("remote_ad");
    case Kind::None: break;
    }
    return {};
}

AccountProvider readAccountProvider(const EsmithDb &db)
{
    AccountProvider p;
    const auto sssd = db.record(QStringLiteral("sssd"));
    if (!sssd)
        return p;
    const QString provider = sssd->prop(QStringLiteral("Provider")).toLower();
    p.ldapUri = sssd->prop(QStringLiteral("LdapURI"));
    p.baseDn = sssd->prop(QStringLiteral("BaseDN"));
    p.bindDn = sssd->prop(QStringLiteral("BindDN"));
    p.bindPassword = sssd->prop(QStringLiteral("BindPassword"));
    p.realm = sssd->prop(QStringLiteral("Realm"));
    if (provider == u"ldap") {
        const QString host = QUrl(p.ldapUri).host();
        const bool local = host == u"127.0.0.1" || host == u"localhost" || host == u"::1" || p.ldapUri.isEmpty();
        p.kind = local ? AccountProvider::Kind::LocalLdap : AccountProvider::Kind::RemoteLdap;
    } else if (provider == u"ad") {
        const auto nsdc = db.record(QStringLiteral("nsdc"));
        if (nsdc && !nsdc->prop(QStringLiteral("IpAddress")).isEmpty()) {
            p.kind = AccountProvider::Kind::LocalAd;
            p.dcAddress = nsdc->prop(QStringLiteral("IpAddress"));
        } else {
            p.kind = AccountProvider::Kind::RemoteAd;
        }
    }
    return p;
}

QString domainFromBaseDn(const QString &baseDn)
{
    QStringList labels;
    for (const QString &rdn : baseDn.split(u',', SkipEmptyParts)) {
        const QString part = rdn.trimmed();
        if (part.startsWith(QStringLiteral("dc="), Qt::CaseInsensitive))
            labels.append(part.mid(3).trimmed().toLower());
    }
    return labels.join(u'.');
}

bool isValidDomainName(const QString &name)
{
    static const QRegularExpression re(
        QStringLiteral("^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"));
    return re.match(name).hasMatch();
}

namespace {

using Domains = QHash<QString, QJsonObject>; // NS8's user domains by lower-case name

// A local OpenLDAP: NS8 sees it under the name the administrator chose.
ProviderPlan planLocalLdap(const Domains &domains, const QString &userDomain)
{
    ProviderPlan plan;
    if (userDomain.isEmpty()) {
        plan.error = {kInvalid, Text("provider.user-domain.missing", "NS7 has a local OpenLDAP account provider: choose the name "
                                               "of its user domain in NS8 (e.g. company.example.local), "
                                               "unique in the cluster.")};
    } else if (!isValidDomainName(userDomain)) {
        plan.error = {kInvalid, Text("provider.user-domain.invalid", "\"%1\" is not a valid domain name: use letters, digits, "
                                               "'-' and dots, e.g. company.example.local.")
                                    .arg(userDomain)};
    } else if (domains.contains(userDomain.toLower())) {
        plan.error = conflict(Text("provider.user-domain.taken", "NS8 already has a user domain named %1. Choose a different "
                                             "name (see \"Domains and users\" in NS8); it must be unique "
                                             "in the whole cluster.")
                                  .arg(userDomain));
    } else {
        plan.userDomain = userDomain.toLower();
        plan.createDomain = true;
    }
    return plan;
}

// A local Samba AD: its realm, on a node without a domain controller yet.
ProviderPlan planLocalAd(const AccountProvider &p, const Domains &domains, const QJsonObject &clusterStatus)
{
    ProviderPlan plan;
    const QString realm = p.realm.toLower();
    if (domains.contains(realm)) {
        plan.error = conflict(Text("provider.realm.taken", "NS8 already has a user domain named %1, the realm of NS7's "
                                             "Active Directory. An AD domain cannot be renamed: remove or "
                                             "rename the NS8 domain first.")
                                  .arg(realm));
        return plan;
    }
    // A node can host one AD domain controller: one must be free.
    QSet<int> adNodes;
    for (const QJsonObject &d : domains) {
        if (d.value(QStringLiteral("schema")).toString() != u"ad"
            || d.value(QStringLiteral("location")).toString() != u"internal")
            continue;
        for (const QJsonValue &prov : d.value(QStringLiteral("providers")).toArray())
            adNodes.insert(prov.toObject().value(QStringLiteral("node")).toInt());
    }
    bool freeNode = false;
    for (const QJsonValue &n : clusterStatus.value(QStringLiteral("nodes")).toArray())
        freeNode = freeNode || !adNodes.contains(n.toObject().value(QStringLiteral("id")).toInt());
    if (!freeNode) {
        plan.error = conflict(Text("provider.ad.no-node", "Every NS8 node already runs an Active Directory domain "
                                             "controller; NS7's domain %1 will need a node without one. "
                                             "Add a node to the cluster first.")
                                  .arg(realm));
        return plan;
    }
    plan.userDomain = realm;
    plan.createDomain = true;
    return plan;
}

// A remote LDAP or AD: NS8 must already have an external domain for it.
ProviderPlan planRemote(const AccountProvider &p, const Domains &domains)
{
    ProviderPlan plan;
    if (p.kind == AccountProvider::Kind::RemoteLdap) {
        const QString name = domainFromBaseDn(p.baseDn);
        const auto it = domains.constFind(name);
        if (name.isEmpty() || it == domains.constEnd() || it->value(QStringLiteral("location")).toString() != u"external"
            || it->value(QStringLiteral("schema")).toString() == u"ad")
            plan.error = conflict(Text("provider.remote-ldap.missing", "NS7 uses the remote LDAP server %1 with base DN %2: NS8 needs "
                                                 "an external LDAP user domain named %3 pointing at the same "
                                                 "LDAP database. Create it in NS8 (\"Domains and users\") "
                                                 "before connecting.")
                                      .arg(p.ldapUri, p.baseDn, name.isEmpty() ? QStringLiteral("?") : name));
        else
            plan.userDomain = name;
        return plan;
    }
    const QString realm = p.realm.toLower();
    const auto it = domains.constFind(realm);
    if (realm.isEmpty() || it == domains.constEnd() || it->value(QStringLiteral("schema")).toString() != u"ad")
        plan.error = conflict(Text("provider.remote-ad.missing", "NS7 uses the remote Active Directory %1: NS8 needs an AD user "
                                             "domain named %2 for the same directory. Create it in NS8 "
                                             "(\"Domains and users\") before connecting.")
                                  .arg(p.ldapUri, realm));
    else
        plan.userDomain = realm;
    return plan;
}

} // namespace

ProviderPlan planAccountProvider(const AccountProvider &p, const QJsonObject &listDomains,
                                 const QJsonObject &clusterStatus, const QString &userDomain)
{
    Domains domains;
    for (const QJsonValue &v : listDomains.value(QStringLiteral("domains")).toArray()) {
        const QJsonObject d = v.toObject();
        domains.insert(d.value(QStringLiteral("name")).toString().toLower(), d);
    }
    if (!userDomain.isEmpty() && p.kind != AccountProvider::Kind::LocalLdap) {
        ProviderPlan plan;
        plan.error = {kInvalid, Text("provider.user-domain.not-asked", "The LDAP user domain is asked only when NS7 has a local "
                                               "OpenLDAP account provider; this one has %1. Leave it empty.")
                                    .arg(p.describe())};
        return plan;
    }
    switch (p.kind) {
    case AccountProvider::Kind::None: return {};
    case AccountProvider::Kind::LocalLdap: return planLocalLdap(domains, userDomain);
    case AccountProvider::Kind::LocalAd: return planLocalAd(p, domains, clusterStatus);
    case AccountProvider::Kind::RemoteLdap:
    case AccountProvider::Kind::RemoteAd: return planRemote(p, domains);
    }
    return {};
}

} // namespace ns8m
