#include "profile/fields.h"

#include "ns7/accountprovider.h"
#include "core/qtcompat.h"

#include <QHostAddress>

namespace ns8m {

QString checkFqdn(const QString &raw)
{
    const QString v = raw.trimmed();
    if (v.isEmpty())
        return QStringLiteral("give a host name, e.g. app.example.com.");
    if (v.contains(QStringLiteral("://")))
        return QStringLiteral("\"%1\" is a URL: give only the host name, without \"%2://\" (e.g. %3).")
            .arg(v, v.section(QStringLiteral("://"), 0, 0), v.section(QStringLiteral("://"), 1).section(u'/', 0, 0));
    QHostAddress addr;
    if (addr.setAddress(v))
        return QStringLiteral("%1 is an IP address: give a host name (FQDN) such as app.example.com, "
                              "that DNS will point at the NS8 node.")
            .arg(v);
    if (v.contains(u'/') || v.contains(u' ') || v.contains(u':'))
        return QStringLiteral("\"%1\" is not a host name: give only the name, without path, port or spaces.").arg(v);
    if (v.size() > 253)
        return QStringLiteral("a host name is at most 253 characters long.");
    if (!v.contains(u'.'))
        return QStringLiteral("\"%1\" has no domain: give a fully qualified name such as %1.example.com.").arg(v);
    if (v.endsWith(u'.') || !isValidDomainName(v))
        return QStringLiteral("\"%1\" is not a valid host name: use letters, digits, '-' and dots; each part "
                              "at most 63 characters, not starting or ending with '-'.")
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

QMap<QString, QString> checkFields(const AppProfile &profile, const QVariantMap &options,
                                   const QVariantMap &settings, bool partial, QVariantMap *merged)
{
    QMap<QString, QString> problems;
    QVariantMap values;
    for (const Field &f : profile.fields) {
        QVariant v = options.contains(f.id) ? options.value(f.id)
                     : settings.contains(f.id) ? settings.value(f.id)
                                               : f.defaultValue;
        if (f.kind == Field::Kind::Fqdn && v.isValid())
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
        if (s.isEmpty()) {
            if (f.required)
                problems.insert(f.id, QStringLiteral("%1 is required.").arg(f.title));
            continue;
        }
        if (f.kind == Field::Kind::Fqdn) {
            const QString p = checkFqdn(s);
            if (!p.isEmpty()) {
                problems.insert(f.id, p);
                continue;
            }
        }
        for (const QString &other : f.distinctFrom) {
            if (values.value(other).toString() == s) {
                QString otherTitle = other;
                for (const Field &g : profile.fields)
                    if (g.id == other)
                        otherTitle = g.title;
                problems.insert(f.id, QStringLiteral("must differ from the %1 (%2).").arg(otherTitle, s));
            }
        }
    }
    if (merged)
        *merged = values;
    return problems;
}

BusError fieldError(const QMap<QString, QString> &problems)
{
    if (problems.isEmpty())
        return {};
    QStringList parts;
    for (auto it = problems.constBegin(); it != problems.constEnd(); ++it)
        parts.append(it.key() + QStringLiteral(": ") + it.value());
    return {QString::fromLatin1(Error::InvalidArgument), parts.join(u' ')};
}

} // namespace ns8m
