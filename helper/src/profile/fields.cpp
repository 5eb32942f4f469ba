#include "profile/fields.h"

#include "ns7/accountprovider.h"
#include "core/qtcompat.h"

#include <QHostAddress>

namespace ns8m {

Text checkFqdn(const QString &raw)
{
    const QString v = raw.trimmed();
    if (v.isEmpty())
        return Text("field.fqdn.empty", "Give a host name, e.g. app.example.com.");
    if (v.contains(QStringLiteral("://")))
        return Text("field.fqdn.url", "\"%1\" is a URL: give only the host name, without \"%2://\" (e.g. %3).")
            .arg(v)
            .arg(v.section(QStringLiteral("://"), 0, 0))
            .arg(v.section(QStringLiteral("://"), 1).section(u'/', 0, 0));
    QHostAddress addr;
    if (addr.setAddress(v))
        return Text("field.fqdn.ip", "%1 is an IP address: give a host name (FQDN) such as app.example.com, "
                                     "that DNS will point at the NS8 node.")
            .arg(v);
    if (v.contains(u'/') || v.contains(u' ') || v.contains(u':'))
        return Text("field.fqdn.not-name", "\"%1\" is not a host name: give only the name, without path, port or "
                                           "spaces.")
            .arg(v);
    if (v.size() > 253)
        return Text("field.fqdn.too-long", "A host name is at most 253 characters long.");
    if (!v.contains(u'.'))
        return Text("field.fqdn.no-domain", "\"%1\" has no domain: give a fully qualified name such as "
                                            "%1.example.com.")
            .arg(v);
    if (v.endsWith(u'.') || !isValidDomainName(v))
        return Text("field.fqdn.invalid", "\"%1\" is not a valid host name: use letters, digits, '-' and dots; "
                                          "each part at most 63 characters, not starting or ending with '-'.")
            .arg(v);
    return {};
}

Text checkIpv4(const QString &raw)
{
    const QString v = raw.trimmed();
    QHostAddress addr;
    if (v.isEmpty())
        return Text("field.ipv4.empty", "Give an IPv4 address, e.g. 192.0.2.10.");
    if (v.contains(u'/'))
        return Text("field.ipv4.cidr", "\"%1\" has a prefix length: give only the address (%2).")
            .arg(v, v.section(u'/', 0, 0));
    if (!addr.setAddress(v) || (addr.protocol() == QAbstractSocket::IPv4Protocol && v.count(u'.') != 3))
        return Text("field.ipv4.invalid", "\"%1\" is not an IPv4 address: give four numbers from 0 to 255 "
                                          "separated by dots, e.g. 192.0.2.10.")
            .arg(v);
    if (addr.protocol() != QAbstractSocket::IPv4Protocol)
        return Text("field.ipv4.ipv6", "%1 is an IPv6 address: give an IPv4 address.").arg(v);
    const quint32 a = addr.toIPv4Address();
    if ((a >> 24) == 127 || a == 0 || (a >> 28) == 14 || a == 0xffffffffu)
        return Text("field.ipv4.unusable", "%1 cannot be a host's address (loopback, unspecified, multicast or "
                                           "broadcast): give the address of one of the node's network interfaces.")
            .arg(v);
    return {};
}

QList<OptionSpec> fieldOptionSpecs(const AppProfile &profile, const QList<OptionSpec> &extra)
{
    // The names must outlive the specs: they live in a per-profile cache.
    static QHash<QString, QList<QByteArray>> names;
    QList<QByteArray> &keep = names[profile.file + u'#' + profile.id];
    if (keep.isEmpty())
        for (const Field &f : profile.fields)
            keep.append(f.id.toLatin1());
    QList<OptionSpec> specs = extra;
    for (Size i = 0; i < profile.fields.size(); ++i) {
        const Field &f = profile.fields.at(i);
        specs.append({keep.at(i).constData(), f.kind == Field::Kind::Bool ? 'b' : 's', 253});
    }
    return specs;
}

QMap<QString, Text> checkFields(const AppProfile &profile, const QVariantMap &options,
                                   const QVariantMap &settings, bool partial, QVariantMap *merged)
{
    QMap<QString, Text> problems;
    QVariantMap values;
    for (const Field &f : profile.fields) {
        QVariant v = options.contains(f.id) ? options.value(f.id)
                     : settings.contains(f.id) ? settings.value(f.id)
                                               : f.defaultValue;
        if ((f.kind == Field::Kind::Fqdn || f.kind == Field::Kind::Ipv4) && v.isValid())
            v = v.toString().trimmed().toLower();
        values.insert(f.id, v);
    }
    for (const Field &f : profile.fields) {
        if (partial && !options.contains(f.id))
            continue;
        const QVariant v = values.value(f.id);
        if (f.kind == Field::Kind::Bool)
            continue;
        const QString s = v.toString();
        // A value chosen among NS8's (choices) once the module exists stays.
        const QString chosen = settings.value(f.id).toString();
        if (!f.choices.isEmpty() && !chosen.isEmpty() && s != chosen) {
            problems.insert(f.id, Text("field.chosen", "%1 was chosen at Start among the values NS8 offered: Abort "
                                                       "and Start again to change it.")
                                      .arg(chosen));
            continue;
        }
        if (s.isEmpty()) {
            if (f.required)
                problems.insert(f.id, Text("field.required", "This field is required."));
            continue;
        }
        if (f.kind == Field::Kind::Fqdn || f.kind == Field::Kind::Ipv4) {
            const Text p = f.kind == Field::Kind::Fqdn ? checkFqdn(s) : checkIpv4(s);
            if (!p.isEmpty()) {
                problems.insert(f.id, p);
                continue;
            }
        }
        for (const QString &other : f.distinctFrom) {
            if (values.value(other).toString() == s)
                problems.insert(f.id, Text("field.distinct", "This value must differ from another field's, which is "
                                                             "%1 too.")
                                          .arg(s));
        }
    }
    if (merged)
        *merged = values;
    return problems;
}

QString fieldValue(const AppProfile &profile, const QVariantMap &settings, const Field &field)
{
    const QString own = settings.value(field.id).toString();
    if (!own.isEmpty() || field.defaultField.isEmpty())
        return own;
    for (const Field &f : profile.fields)
        if (f.id == field.defaultField)
            return settings.value(f.id).toString();
    return own;
}

BusError fieldError(const QMap<QString, Text> &problems)
{
    if (problems.isEmpty())
        return {};
    // The page shows the first problem by its field; busctl and the log get
    // all of them, each after its field.
    BusError error{Error::InvalidArgument, problems.first()};
    QStringList parts;
    for (auto it = problems.constBegin(); it != problems.constEnd(); ++it)
        parts.append(it.key() + QStringLiteral(": ") + it.value().english());
    error.message = parts.join(u' ');
    return error;
}

} // namespace ns8m
