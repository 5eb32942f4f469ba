// What NS7 says about itself, read-only, for the wizard's Source summary
// (Manager.DescribeSource): host and domain name, network interfaces,
// release, subscription and account provider, from the e-smith databases
// and /etc/nethserver-release.  The subscription's Secret is never read out.
#pragma once

#include "bus/sdbus.h"

#include <QList>
#include <QString>

namespace ns8m {

struct Ns7Interface {
    QString name;     // eth0
    QString type;     // the networks record's type: ethernet, bridge, bond, vlan, xdsl...
    QString role;     // green, red, blue, orange, or "" (a bridge or bond member)
    QString address;  // ipaddr ("" with bootproto dhcp)
    QString netmask;
    QString gateway;
    QString bootproto; // none, dhcp
};

struct Ns7System {
    QString hostName;   // configuration SystemName
    QString domainName; // configuration DomainName
    QString release;    // the text of /etc/nethserver-release, "" when unreadable
    QList<Ns7Interface> interfaces;
    QString systemId;             // subscription SystemId, "" without a subscription
    QString subscriptionProvider; // subscription Provider (nsent, nscom), "" without
    QString accountProvider;      // none, openldap, samba-ad, remote-ldap, remote-ad
    QString accountProviderDetail; // AccountProvider::describe()
};

// One app of this NS7 and its size as the last Scan measured it.
struct Ns7AppSize {
    QString id, name, status;
    quint64 sourceFiles = 0, sourceBytes = 0, databaseBytes = 0;
    qint64 scanTime = 0;
};

// The text of ROOT's /etc/nethserver-release, trimmed; "" when unreadable.
QString readNs7Release(const QString &root);

// Reads everything of Ns7System below ROOT; what is missing stays empty.
Ns7System readNs7System(const QString &root);

// SYSTEM and APPS as the a{sv} of Manager.DescribeSource (docs/api.md).
int appendNs7System(sd_bus_message *reply, const Ns7System &system, const QList<Ns7AppSize> &apps);

} // namespace ns8m
