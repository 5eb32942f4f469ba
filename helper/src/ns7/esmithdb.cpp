#include "ns7/esmithdb.h"

#include "core/qtcompat.h"

#include <QFile>

namespace ns8m {

namespace {

// Splits at '|' unless the pipe is preceded by a backslash; keeps trailing
// empty fields (Perl's split with a negative limit).
QStringList splitFields(const QString &value)
{
    QStringList fields;
    QString current;
    for (Size i = 0; i < value.size(); ++i) {
        const QChar c = value.at(i);
        if (c == u'|' && (i == 0 || value.at(i - 1) != u'\\')) {
            fields.append(current);
            current.clear();
        } else {
            current.append(c);
        }
    }
    fields.append(current);
    return fields;
}

bool isBlankOrComment(const QString &line)
{
    for (const QChar c : line) {
        if (c.isSpace())
            continue;
        return c == u'#';
    }
    return true;
}

} // namespace

EsmithDb EsmithDb::parse(const QByteArray &text)
{
    EsmithDb db;
    const QList<QByteArray> lines = text.split('\n');
    for (QByteArray raw : lines) {
        if (raw.endsWith('\r'))
            raw.chop(1);
        const QString line = QString::fromUtf8(raw);
        if (isBlankOrComment(line))
            continue;
        const Size eq = line.indexOf(u'=');
        EsmithRecord rec;
        rec.key = eq < 0 ? line : line.left(eq);
        if (eq >= 0) {
            const QStringList fields = splitFields(line.mid(eq + 1));
            rec.type = fields.value(0);
            for (Size i = 1; i < fields.size(); i += 2)
                rec.props.insert(fields.at(i), fields.value(i + 1));
        }
        if (!db.m_records.contains(rec.key))
            db.m_order.append(rec.key);
        db.m_records.insert(rec.key, rec);
    }
    return db;
}

EsmithDb EsmithDb::load(const QString &path, QString *error)
{
    QFile f(path);
    if (!f.exists())
        return {};
    if (!f.open(QIODevice::ReadOnly)) {
        if (error)
            *error = QStringLiteral("cannot read %1: %2").arg(path, f.errorString());
        return {};
    }
    return parse(f.readAll());
}

std::optional<EsmithRecord> EsmithDb::record(const QString &key) const
{
    const auto it = m_records.constFind(key.trimmed());
    if (it == m_records.constEnd())
        return std::nullopt;
    return *it;
}

QString EsmithDb::type(const QString &key) const
{
    const auto rec = record(key);
    return rec ? rec->type : QString();
}

QString EsmithDb::prop(const QString &key, const QString &prop) const
{
    const auto rec = record(key);
    return rec ? rec->props.value(prop) : QString();
}

} // namespace ns8m
