// NS7's account provider (read from the e-smith configuration database) and
// what it needs on the NS8 side, as the prerequisites page describes:
//   local OpenLDAP  → a new user domain name, unique in NS8, chosen by the administrator;
//   local Samba AD  → its realm, which must not exist in NS8, and a node with no AD DC;
//   remote LDAP     → exactly one NS8 external rfc2307 domain named after NS7's base DN;
//   remote AD       → an NS8 AD domain of the same realm;
//   none            → nothing.
#pragma once

#include "core/errors.h"
#include "ns7/esmithdb.h"

#include <QJsonObject>
#include <QString>

namespace ns8m {

struct AccountProvider {
    enum class Kind { None, LocalLdap, LocalAd, RemoteLdap, RemoteAd };
    Kind kind = Kind::None;
    QString ldapUri;
    QString baseDn;
    QString bindDn;
    QString bindPassword; // secret
    QString realm;
    QString dcAddress; // local AD: the DC's IP address (nsdc IpAddress)

    QString describe() const;
    // local_ldap, local_ad, remote_ldap, remote_ad ("" for none): the kind's
    // name in the catalog and in a profile's detect: account_provider.
    QString kindName() const;
    bool isLocal() const { return kind == Kind::LocalLdap || kind == Kind::LocalAd; }
};

AccountProvider readAccountProvider(const EsmithDb &configuration);

// "dc=directory,dc=nh" → "directory.nh" ("" when no dc= part).
QString domainFromBaseDn(const QString &baseDn);

// True for a DNS-style domain name (letters, digits, '-', dots, ≤ 253).
bool isValidDomainName(const QString &name);

struct ProviderPlan {
    Failure error;            // name empty when the provider fits
    QString userDomain;       // the NS8 user domain NS7's accounts appear under
    bool createDomain = false; // a temporary external domain must be created
};

// Checks the provider against the cluster: LISTDOMAINS is the output of
// list-user-domains, CLUSTERSTATUS of get-cluster-status, USERDOMAIN the
// administrator's choice (only for a local OpenLDAP).
ProviderPlan planAccountProvider(const AccountProvider &provider, const QJsonObject &listDomains,
                                 const QJsonObject &clusterStatus, const QString &userDomain);

} // namespace ns8m
