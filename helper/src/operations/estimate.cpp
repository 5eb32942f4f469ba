#include "operations/estimate.h"

#include "core/qtcompat.h"

#include <QJsonArray>

#include <algorithm>
#include <cmath>

namespace ns8m {

namespace {

// What the syncs cannot measure, measured by bench/run.py on a 2-core
// virtual machine with the machine otherwise idle (docs/benchmarks.md, run 7).
constexpr double kStopSeconds = 0.4; // the quiesce units' StopUnit calls
// The walk after the stop, per entry of the trees, with the kernel's watch
// (transfer/changewatch.h): the manifest read back, the few folders where
// something happened read from the disk.  Without the watch (queue
// overflow, no more watches) it is a lstat() of every entry, ten times this.
constexpr double kWalkSecondsPerEntry = 0.3e-6;
constexpr double kDumpSecondsFixed = 0.2; // the tail of the call history, astdb
constexpr double kDumpBytesPerSecond = 20e6; // mysqldump of the small databases
constexpr double kTablesSeconds = 0.1; // verify: the dumped tables' checksums again
// NS8's import task restoring the dumps after /terminate: it runs only
// then, so nothing before Finish can time it.  The simulator's restore (a
// fresh MariaDB loading the dumps); a real NS8 starts containers too.
constexpr double kImportSeconds = 2.0;
constexpr double kDefaultSessionSeconds = 0.3; // one rsync session through the tunnel, before a sync measured one
constexpr double kDefaultLinkBytesPerSecond = 10e6;

// One rsync session through the tunnel (connection, authentication, a
// small file list): the least of the medians the last syncs measured
// (SyncRecord::session), or a default before any did.
double sessionSeconds(const QList<SyncRecord> &syncs)
{
    double best = 0;
    for (Size i = std::max<Size>(0, syncs.size() - 5); i < syncs.size(); ++i) {
        const double s = double(syncs.at(i).session) / 1e6;
        if (s > 0 && (best == 0 || s < best))
            best = s;
    }
    return best > 0 ? best : kDefaultSessionSeconds;
}

// Rounds of rsync sessions when RUNS of them go two at a time.
double rounds(Size runs)
{
    return double((runs + 1) / 2);
}

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
    return qint64(std::llround(seconds * 1e6));
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
    const double session = sessionSeconds(syncs);
    // Verify: a dry run of each transfer (and the generated files), two at
    // a time: for small trees a whole-tree pass that walks and lists every
    // tree as the last sync did (its length less the time its bytes took
    // on the link), for large ones their change set and the sample the last
    // sync's walk picked (a session each): whichever is less.  Then the
    // tables again, and two listings of the dumps NS8 received.
    const Size transfers = profile.transfers.size() + profile.generated.size() + 1;
    const double listing = std::max(0.0, double(last.duration) / 1e6 - double(last.bytes) / rate);
    const double pass = std::min(listing, session * rounds(transfers));
    const double dump = dumpedBytes(profile, record);
    // The last sync: one session for the trees that changed, one for each
    // transfer that always gets the full pass (staged), two at a time.
    Size runs = 1;
    for (const Transfer &t : profile.transfers)
        runs += t.rewrite.isEmpty() ? 0 : 1;
    return {
        {QStringLiteral("stop"), usec(kStopSeconds)},
        {QStringLiteral("walk"), usec(double(record.sourceFiles) * kWalkSecondsPerEntry)},
        {QStringLiteral("sync"), usec(session * rounds(runs) + changed / rate)},
        {QStringLiteral("dump"), usec(kDumpSecondsFixed + dump / kDumpBytesPerSecond)},
        {QStringLiteral("upload"), usec(session + dump / rate)},
        {QStringLiteral("verify"), usec(pass + kTablesSeconds + 2 * session)},
        // Reading the receiver's /terminate, then NS8's restore.
        {QStringLiteral("import"), usec(session + kImportSeconds)},
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
