// The administrator's fields of an app (the profile's `fields`): checks
// with a sentence per field, shared by Start, Finish and CheckOptions.
#pragma once

#include "profile/appprofile.h"
#include "bus/bus.h"

#include <QMap>
#include <QVariantMap>

namespace ns8m {

// Empty when VALUE is a host name NS8 can serve an app at (letters, digits
// and '-', with a dot, not an IP address, not a URL); otherwise why not.
Text checkFqdn(const QString &value);

// Empty when VALUE is an IPv4 address a host can have (dotted quad, not
// loopback, unspecified, multicast or broadcast); otherwise why not.
Text checkIpv4(const QString &value);

// The options a method of the app accepts: the profile's fields (by kind)
// plus EXTRA.
QList<OptionSpec> fieldOptionSpecs(const AppProfile &profile, const QList<OptionSpec> &extra);

// Checks the field values in OPTIONS over the stored SETTINGS (a missing
// option keeps its stored value, then the default).  PARTIAL: check only the
// fields given (as you type).  Returns field id → problem; *MERGED gets the
// values to use.
QMap<QString, Text> checkFields(const AppProfile &profile, const QVariantMap &options,
                                   const QVariantMap &settings, bool partial, QVariantMap *merged);

// The value of FIELD in SETTINGS as a string; an empty one stands for its
// default_field's value.
QString fieldValue(const AppProfile &profile, const QVariantMap &settings, const Field &field);

// The problems as an InvalidArgument error: the first one's text, and
// "<field>: <sentence>" for each in its message.
BusError fieldError(const QMap<QString, Text> &problems);

} // namespace ns8m
