// The part of JSON Schema (draft 7) that NS8's action input schemas use,
// enough to check an input before it is sent: a bad value found after NS7
// services were stopped means downtime.
#pragma once

#include <QJsonObject>
#include <QJsonValue>
#include <QList>
#include <QString>

namespace ns8m {

struct SchemaProblem {
    QString path;    // "" for the whole value, else the property, e.g. "host"
    QString message; // a sentence for a person
};

// Keywords: type, required, properties, additionalProperties (boolean),
// items, enum, const, pattern, format (hostname, ipv4, ipv6, email),
// minLength, maxLength, minimum, maximum, not, anyOf, oneOf, allOf.
// Unknown keywords are ignored, as validators do.  A problem names the
// property and the rule it breaks, never the value (it may be a secret):
// "host: does not have the expected form (^[a-z]+$)."
QList<SchemaProblem> validateJson(const QJsonValue &value, const QJsonObject &schema);

bool isHostname(const QString &s);
bool isIpv4(const QString &s);

} // namespace ns8m
