#include "operations/dnscheck.h"

#include "bus/bus.h"
#include "core/log.h"
#include "profile/appprofile.h"
#include "profile/fields.h"
#include "store/statedb.h"

#include <QCoreApplication>
#include <QHostAddress>
#include <QHostInfo>
#include <QObject>
#include <QStringList>

#include <memory>

namespace ns8m {

QList<DnsRecord> dnsRecords(const AppProfile &profile, const MigrationRecord &migration)
{
    QList<DnsRecord> out;
    const QString target = migration.nodeAddress;
    if (target.isEmpty())
        return out;
    QHostAddress addr;
    const bool isAddress = addr.setAddress(target);
    const QString type = !isAddress ? QStringLiteral("CNAME")
                         : addr.protocol() == QAbstractSocket::IPv6Protocol ? QStringLiteral("AAAA")
                                                                           : QStringLiteral("A");
    // One record per name: a field that shares another's name (e.g. by its
    // default_field) needs no record of its own.
    QStringList names;
    for (const Field &f : profile.fields) {
        const QString host = fieldValue(profile, migration.settings, f);
        if (f.kind != Field::Kind::Fqdn || host.isEmpty() || names.contains(host))
            continue;
        names.append(host);
        out.append({host, type, isAddress ? target : target + u'.'});
    }
    return out;
}

namespace {

// The lookups of one CheckDns: each name once, then the reply.
struct DnsCheck {
    sd_bus_message *call = nullptr;
    QString appName;
    QList<DnsRecord> records;
    QHash<QString, QStringList> found; // name → addresses ("" list: unresolved)
    int pending = 0;

    ~DnsCheck() { sd_bus_message_unref(call); }
    void reply();
};

QStringList addressesOf(const QHostInfo &info)
{
    QStringList out;
    if (info.error() != QHostInfo::NoError)
        return out;
    for (const QHostAddress &a : info.addresses())
        out.append(a.toString());
    out.sort();
    out.removeDuplicates();
    return out;
}

void DnsCheck::reply()
{
    sd_bus_message *m = nullptr;
    int r = sd_bus_message_new_method_return(call, &m);
    if (r >= 0)
        r = sd_bus_message_open_container(m, 'a', "(ssss)");
    QStringList summary;
    for (const DnsRecord &rec : std::as_const(records)) {
        const QStringList expected = rec.type == u"CNAME" ? found.value(rec.value.left(rec.value.size() - 1)) : QStringList{rec.value};
        const QStringList got = found.value(rec.name);
        bool hit = false;
        for (const QString &a : got)
            hit = hit || expected.contains(a);
        const char *outcome = got.isEmpty() ? "unresolved" : hit ? "ok" : "elsewhere";
        summary.append(rec.name + u' ' + QString::fromLatin1(outcome));
        if (r >= 0)
            r = sd_bus_message_append(m, "(ssss)", rec.name.toUtf8().constData(),
                                      expected.join(QStringLiteral(", ")).toUtf8().constData(),
                                      got.join(QStringLiteral(", ")).toUtf8().constData(), outcome);
    }
    if (r >= 0)
        r = sd_bus_message_close_container(m);
    if (r >= 0)
        sd_bus_send(nullptr, m, nullptr);
    sd_bus_message_unref(m);
    Log::info(QStringLiteral("%1: DNS check: %2").arg(appName, summary.join(QStringLiteral(", "))));
}

} // namespace

void replyDnsCheck(sd_bus_message *call, const QString &appName, const QList<DnsRecord> &records)
{
    if (records.isEmpty()) {
        replyError(call, {Error::WrongState, Text("dns.none", "%1 has no DNS record to check yet: the NS8 node's "
                                                              "address is known once Finish has begun.")
                                                 .arg(appName)});
        return;
    }
    auto check = std::make_shared<DnsCheck>();
    check->call = sd_bus_message_ref(call);
    check->appName = appName;
    check->records = records;
    QStringList names;
    for (const DnsRecord &rec : records) {
        names.append(rec.name);
        if (rec.type == u"CNAME")
            names.append(rec.value.left(rec.value.size() - 1));
    }
    names.removeDuplicates();
    check->pending = int(names.size());
    for (const QString &name : std::as_const(names)) {
        QHostInfo::lookupHost(name, QCoreApplication::instance(), [check, name](const QHostInfo &info) {
            check->found.insert(name, addressesOf(info));
            if (--check->pending == 0)
                check->reply();
        });
    }
}

} // namespace ns8m
