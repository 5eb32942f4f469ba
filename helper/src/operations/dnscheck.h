// The DNS records an app's names need once it runs on NS8 (App.DnsRecords)
// and App.CheckDns: whether each name resolves, from NS7, to the NS8 node.
#pragma once

#include "bus/sdbus.h"

#include <QList>
#include <QString>

namespace ns8m {

struct AppProfile;
struct MigrationRecord;

struct DnsRecord {
    QString name;  // the app's host name (an FQDN field's value)
    QString type;  // A, AAAA, or CNAME when the node is known by a name
    QString value; // the node's address, or its name with a final dot
};

// One record per distinct name of the FQDN fields (an empty field with a
// default_field has that field's name); none before the node's address is known.
QList<DnsRecord> dnsRecords(const AppProfile &profile, const MigrationRecord &migration);

// Resolves every record's name (and, for a CNAME, the node's name) with the
// system's resolver, as NS7's users would, and replies a(ssss): name,
// expected addresses, addresses found, outcome ("ok", "elsewhere",
// "unresolved").
void replyDnsCheck(sd_bus_message *call, const QString &appName, const QList<DnsRecord> &records);

} // namespace ns8m
