// Reader for the e-smith configuration databases of NethServer 7
// (/var/lib/nethserver/db/<name>): one record a line, "key=type|prop|value|...".
#pragma once

#include "core/qtcompat.h"

#include <QHash>
#include <QString>
#include <QStringList>

#include <optional>

namespace ns8m {

struct EsmithRecord {
    QString key;
    QString type;
    QHash<QString, QString> props;

    QString prop(const QString &name, const QString &fallback = {}) const
    {
        return props.value(name, fallback);
    }
};

class EsmithDb
{
public:
    // Parses the text of a database file exactly as esmith::config and
    // esmith::db do: blank lines and lines starting with '#' are skipped,
    // the key ends at the first '=', fields are separated by '|' not preceded
    // by a backslash (escaped pipes stay as they are, as in esmith::db), the
    // first field is the type, then property/value pairs.  A later record
    // with the same key replaces an earlier one.
    static EsmithDb parse(const QByteArray &text);

    // Reads a file; a missing file is an empty database, an unreadable one
    // sets *error.
    static EsmithDb load(const QString &path, QString *error = nullptr);

    std::optional<EsmithRecord> record(const QString &key) const;
    bool contains(const QString &key) const { return m_records.contains(key.trimmed()); }
    QString type(const QString &key) const;
    QString prop(const QString &key, const QString &prop) const;
    QStringList keys() const { return m_order; }
    Size size() const { return m_records.size(); }

private:
    QHash<QString, EsmithRecord> m_records;
    QStringList m_order;
};

} // namespace ns8m
