#include "ns8/jsonschema.h"

#include "ns7/accountprovider.h"
#include "core/qtcompat.h"

#include <QHostAddress>
#include <QJsonArray>
#include <QJsonDocument>
#include <QRegularExpression>

namespace ns8m {

namespace {

QString typeOf(const QJsonValue &v)
{
    switch (v.type()) {
    case QJsonValue::Null: return QStringLiteral("null");
    case QJsonValue::Bool: return QStringLiteral("boolean");
    case QJsonValue::Double: {
        const double d = v.toDouble();
        return d == double(qint64(d)) ? QStringLiteral("integer") : QStringLiteral("number");
    }
    case QJsonValue::String: return QStringLiteral("string");
    case QJsonValue::Array: return QStringLiteral("array");
    case QJsonValue::Object: return QStringLiteral("object");
    default: return QStringLiteral("undefined");
    }
}

bool hasType(const QJsonValue &v, const QString &type)
{
    const QString t = typeOf(v);
    return t == type || (type == u"number" && t == u"integer");
}

// A value of the SCHEMA (enum, const), never one of the input: the input
// may be a secret (a profile's `secret: true` configure input), and the
// problems end up in a job's Message, readable by everybody, and in the log.
QString show(const QJsonValue &v)
{
    if (v.isString())
        return QStringLiteral("\"%1\"").arg(v.toString().left(80));
    if (v.isArray() || v.isObject())
        return typeOf(v);
    const QString json = QString::fromUtf8(QJsonDocument(QJsonArray{v}).toJson(QJsonDocument::Compact));
    return json.mid(1, json.size() - 2);
}

bool matchesFormat(const QString &format, const QString &s)
{
    if (format == u"hostname")
        return isHostname(s);
    if (format == u"ipv4")
        return isIpv4(s);
    if (format == u"ipv6") {
        QHostAddress a;
        return s.contains(u':') && a.setAddress(s) && a.protocol() == QAbstractSocket::IPv6Protocol;
    }
    if (format == u"email") {
        const Size at = s.indexOf(u'@');
        return at > 0 && at == s.lastIndexOf(u'@') && at < s.size() - 1;
    }
    return true; // formats a validator does not know are not asserted
}

QString describeFormat(const QString &format)
{
    if (format == u"hostname")
        return QStringLiteral("a host name");
    if (format == u"ipv4")
        return QStringLiteral("an IPv4 address");
    if (format == u"ipv6")
        return QStringLiteral("an IPv6 address");
    return format;
}

void check(const QJsonValue &v, const QJsonObject &schema, const QString &path, QList<SchemaProblem> *out);

// type, enum, const and the keywords of strings and numbers.  False when
// the type is wrong: nothing else is worth saying then.
bool checkScalar(const QJsonValue &v, const QJsonObject &schema, const QString &path, QList<SchemaProblem> *out)
{
    auto problem = [&](const QString &message) { out->append({path, message}); };
    const QJsonValue type = schema.value(QStringLiteral("type"));
    if (type.isString() || type.isArray()) {
        const QJsonArray types = type.isArray() ? type.toArray() : QJsonArray{type};
        bool ok = false;
        for (const QJsonValue &t : types)
            ok = ok || hasType(v, t.toString());
        if (!ok) {
            QStringList names;
            for (const QJsonValue &t : types)
                names.append(t.toString());
            problem(QStringLiteral("must be of type %1, not %2.").arg(names.join(QStringLiteral(" or ")), typeOf(v)));
            return false;
        }
    }
    if (schema.contains(QStringLiteral("enum"))) {
        const QJsonArray values = schema.value(QStringLiteral("enum")).toArray();
        if (!values.contains(v)) {
            QStringList shown;
            for (const QJsonValue &e : values)
                shown.append(show(e));
            problem(QStringLiteral("must be one of %1.").arg(shown.join(QStringLiteral(", "))));
        }
    }
    if (schema.contains(QStringLiteral("const")) && schema.value(QStringLiteral("const")) != v)
        problem(QStringLiteral("must be %1.").arg(show(schema.value(QStringLiteral("const")))));
    if (v.isString()) {
        const QString s = v.toString();
        if (schema.contains(QStringLiteral("minLength")) && s.size() < schema.value(QStringLiteral("minLength")).toInt())
            problem(QStringLiteral("must be at least %1 characters long.").arg(schema.value(QStringLiteral("minLength")).toInt()));
        if (schema.contains(QStringLiteral("maxLength")) && s.size() > schema.value(QStringLiteral("maxLength")).toInt())
            problem(QStringLiteral("must be at most %1 characters long.").arg(schema.value(QStringLiteral("maxLength")).toInt()));
        if (schema.contains(QStringLiteral("pattern"))) {
            const QRegularExpression re(schema.value(QStringLiteral("pattern")).toString());
            if (re.isValid() && !re.match(s).hasMatch())
                problem(QStringLiteral("does not have the expected form (%1).")
                            .arg(schema.value(QStringLiteral("pattern")).toString()));
        }
        const QString format = schema.value(QStringLiteral("format")).toString();
        if (!format.isEmpty() && !matchesFormat(format, s))
            problem(QStringLiteral("is not %1.").arg(describeFormat(format)));
    }
    if (v.isDouble()) {
        const double d = v.toDouble();
        if (schema.contains(QStringLiteral("minimum")) && d < schema.value(QStringLiteral("minimum")).toDouble())
            problem(QStringLiteral("must be at least %1.").arg(schema.value(QStringLiteral("minimum")).toDouble()));
        if (schema.contains(QStringLiteral("maximum")) && d > schema.value(QStringLiteral("maximum")).toDouble())
            problem(QStringLiteral("must be at most %1.").arg(schema.value(QStringLiteral("maximum")).toDouble()));
    }
    return true;
}

// required, properties, additionalProperties and items.
void checkMembers(const QJsonValue &v, const QJsonObject &schema, const QString &path, QList<SchemaProblem> *out)
{
    if (v.isObject()) {
        const QJsonObject o = v.toObject();
        for (const QJsonValue &r : schema.value(QStringLiteral("required")).toArray())
            if (!o.contains(r.toString()))
                out->append({path.isEmpty() ? r.toString() : path + u'.' + r.toString(), QStringLiteral("is required.")});
        const QJsonObject props = schema.value(QStringLiteral("properties")).toObject();
        const QJsonValue additional = schema.value(QStringLiteral("additionalProperties"));
        for (auto it = o.constBegin(); it != o.constEnd(); ++it) {
            const QString sub = path.isEmpty() ? it.key() : path + u'.' + it.key();
            if (props.contains(it.key()))
                check(it.value(), props.value(it.key()).toObject(), sub, out);
            else if (additional.isBool() && !additional.toBool())
                out->append({sub, QStringLiteral("is not an accepted property.")});
            else if (additional.isObject())
                check(it.value(), additional.toObject(), sub, out);
        }
    }
    if (v.isArray() && schema.value(QStringLiteral("items")).isObject()) {
        const QJsonArray a = v.toArray();
        for (Size i = 0; i < a.size(); ++i)
            check(a.at(i), schema.value(QStringLiteral("items")).toObject(), QStringLiteral("%1[%2]").arg(path).arg(i), out);
    }
}

// not, allOf, anyOf, oneOf.
void checkCombined(const QJsonValue &v, const QJsonObject &schema, const QString &path, QList<SchemaProblem> *out)
{
    if (schema.value(QStringLiteral("not")).isObject()) {
        const QJsonObject n = schema.value(QStringLiteral("not")).toObject();
        QList<SchemaProblem> inner;
        check(v, n, path, &inner);
        if (inner.isEmpty()) {
            const QString format = n.value(QStringLiteral("format")).toString();
            out->append({path, !format.isEmpty() && n.size() == 1
                                   ? QStringLiteral("must not be %1.").arg(describeFormat(format))
                                   : QStringLiteral("is a value that is not accepted here.")});
        }
    }
    for (const QJsonValue &s : schema.value(QStringLiteral("allOf")).toArray())
        check(v, s.toObject(), path, out);
    for (const char *kw : {"anyOf", "oneOf"}) {
        const QJsonArray alternatives = schema.value(QLatin1String(kw)).toArray();
        if (alternatives.isEmpty())
            continue;
        int matching = 0;
        QList<SchemaProblem> first;
        for (const QJsonValue &s : alternatives) {
            QList<SchemaProblem> inner;
            check(v, s.toObject(), path, &inner);
            if (inner.isEmpty())
                ++matching;
            else if (first.isEmpty())
                first = inner;
        }
        if (matching == 0)
            out->append(first.isEmpty() ? QList<SchemaProblem>{{path, QStringLiteral("matches none of the accepted forms.")}} : first);
        else if (matching > 1 && QLatin1String(kw) == QLatin1String("oneOf"))
            out->append({path, QStringLiteral("matches more than one of the accepted forms.")});
    }
}

void check(const QJsonValue &v, const QJsonObject &schema, const QString &path, QList<SchemaProblem> *out)
{
    if (!checkScalar(v, schema, path, out))
        return;
    checkMembers(v, schema, path, out);
    checkCombined(v, schema, path, out);
}

} // namespace

bool isIpv4(const QString &s)
{
    static const QRegularExpression re(QStringLiteral("^(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)(\\.(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)){3}$"));
    return re.match(s).hasMatch();
}

bool isHostname(const QString &s)
{
    // RFC 1123 host names, as JSON Schema's "hostname" format.
    return !s.isEmpty() && s.size() <= 253 && !s.endsWith(u'.') && isValidDomainName(s);
}

QList<SchemaProblem> validateJson(const QJsonValue &value, const QJsonObject &schema)
{
    QList<SchemaProblem> out;
    check(value, schema, QString(), &out);
    return out;
}

} // namespace ns8m
