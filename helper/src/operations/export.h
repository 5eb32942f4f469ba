// App.Export: the administrator's documentation of an app read from NS7
// (the profile's export: tables), in the reply.
#pragma once

#include "bus/sdbus.h"

#include <QVariantMap>

namespace ns8m {

struct AppProfile;
struct Context;

// OPTIONS: format ("json" or "csv", checked by the caller), secrets (b).
// Replies a{ss}: file name → content.
void replyExport(sd_bus_message *call, Context *ctx, const AppProfile &profile, const QVariantMap &options);

} // namespace ns8m
