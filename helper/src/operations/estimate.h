// How long Finish will keep the app down (App.EstimatedDowntime and its
// parts, the preflight check "downtime"): from the asterisk stop to the
// configure-module request, step by step as Finish runs them, from what the
// syncs and Scan measured (docs/transfers.md, "The estimate").
#pragma once

#include "profile/appprofile.h"
#include "store/statedb.h"

#include <QList>
#include <QString>

namespace ns8m {

// A sync's rsync run that sent less than this (a small tree's file list)
// measures what one session through the tunnel costs (SyncRecord::session).
constexpr quint64 kSessionBytes = 65536;

struct DowntimePart {
    QString id; // stop, walk, sync, dump, upload, verify, import
    qint64 usec = 0;
};

// Empty when nothing was synced yet (nothing measured).
QList<DowntimePart> estimateDowntime(const AppProfile &profile, const AppRecord &record, const QList<SyncRecord> &syncs);
qint64 downtimeTotal(const QList<DowntimePart> &parts); // µs

} // namespace ns8m
