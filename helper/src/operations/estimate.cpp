#include "operations/estimate.h"

#include <QJsonArray>

#include <algorithm>

namespace ns8m {

namespace {

// What the syncs cannot measure, measured by bench/run.py on a 2-core
// virtual machine (docs/benchmarks.md, run 6).
constexpr double kStopSeconds = 0.5; // the quiesce units' StopUnit calls
constexpr double kWalkSecondsPerEntry = 5e-6; // the change-set walk, per entry of the trees (cached)
constexpr double kRunSeconds = 0.3; // one rsync session through the tunnel
constexpr double kDumpSecondsFixed = 0.5; // the tail of the call history, astdb
constexpr double kDumpBytesPerSecond = 20e6; // mysqldump of the small databases
constexpr double kImportSeconds = 4.5; // NS8's import task restoring the dumps
constexpr double kDefaultLinkBytesPerSecond = 10e6;

// The link's rate: the best a sync that moved enough (10 MB) reached.
double linkRate(const QList<SyncRecord> &syncs)
{
    double best = 0;
    for (const SyncRecord &s : syncs)
        if (s.bytes >= 10000000 && s.duration > 0)
            best = std::max(best, double(s.bytes) / (double(s.duration) / 1e6));
    return best > 0 ? best : kDefaultLinkBytesPerSecond;
}

// The bytes of the databases dumped whole at the cutover: those without
// call history (the history goes in shipped chunks before it).
double dumpedBytes(const AppProfile &profile, const AppRecord &record)
{
    double bytes = 0;
    for (const QJsonValue &v : record.scanDetails) {
        const QJsonArray a = v.toArray();
        if (!a.at(0).toString().startsWith(QLatin1String("db:")))
            continue;
        const QString name = a.at(1).toString();
        bool history = false;
        for (const DatabaseItem &d : profile.databases)
            history = history || (d.name == name && !d.incremental.isEmpty());
        if (!history)
            bytes += a.at(3).toDouble();
    }
    return bytes;
}

qint64 usec(double seconds)
{
    return qint64(seconds * 1e6);
}

} // namespace

QList<DowntimePart> estimateDowntime(const AppProfile &profile, const AppRecord &record, const QList<SyncRecord> &syncs)
{
    if (syncs.isEmpty())
        return {};
    const SyncRecord &last = syncs.last();
    const double rate = linkRate(syncs);
    // What changes between presync and the stop: the bytes the last sync
    // moved, per second since the one before, over presync's length.
    double changed = 0;
    // A sync that copied no file sent only the file lists: nothing changed.
    if (syncs.size() >= 2 && last.files > 0 && last.time > syncs.at(syncs.size() - 2).time) {
        const double interval = double(last.time - syncs.at(syncs.size() - 2).time) / 1e6;
        changed = double(last.bytes) / interval * (double(last.duration) / 1e6 + 10);
    }
    // Verify: small trees compared whole by a dry run (walking and listing
    // every tree, as the last sync did less the time its bytes took on the
    // link), large ones on their change set plus a sample that the last
    // sync's walk picked (a session each): whichever is less.
    const double listing = std::max(0.0, double(last.duration) / 1e6 - double(last.bytes) / rate);
    const double sampled = kRunSeconds * double(profile.transfers.size());
    const double pass = std::min(listing, sampled);
    const double dump = dumpedBytes(profile, record);
    // The last sync: one session for the trees that changed, one for each
    // transfer that always gets the full pass (staged), two at a time.
    int runs = 1;
    for (const Transfer &t : profile.transfers)
        runs += t.rewrite.isEmpty() ? 0 : 1;
    return {
        {QStringLiteral("stop"), usec(kStopSeconds)},
        {QStringLiteral("walk"), usec(double(record.sourceFiles) * kWalkSecondsPerEntry)},
        {QStringLiteral("sync"), usec(kRunSeconds * runs / 2 + changed / rate)},
        {QStringLiteral("dump"), usec(kDumpSecondsFixed + dump / kDumpBytesPerSecond)},
        {QStringLiteral("upload"), usec(kRunSeconds + dump / rate)},
        {QStringLiteral("verify"), usec(pass + 1.0)},
        {QStringLiteral("import"), usec(kImportSeconds)},
    };
}

qint64 downtimeTotal(const QList<DowntimePart> &parts)
{
    qint64 total = 0;
    for (const DowntimePart &p : parts)
        total += p.usec;
    return total;
}

} // namespace ns8m
