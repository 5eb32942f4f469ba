// Finish's verification, the step `verify` between `upload` and
// `terminate`: NS7's services are stopped, the last sync and the dumps are
// on NS8, and the receiver still answers (after /terminate it is gone).
//
//   files   each transfer of the last sync again, as a dry run with the same
//           options (--itemize-changes, --delete): every path that differs
//           is named; contents compared (--checksum) when the transfer is
//           small, otherwise on a random sample of its files (--files-from)
//   tables  each table's row count and content checksum, taken at the start
//           of the dump and again now: one that changed was written after
//           the stop, and the dump may not hold it
//   dumps   every file the helper dumped is in the receiver's state/, with
//           its size (rsync --list-only)
//
// A difference is a warning: it is named in the log, in App.Verification
// and in the job's closing sentence, and Finish goes on.
#include "operations/migration.h"
#include "operations/appmigration_p.h"

#include "bus/job.h"
#include "core/commands.h"
#include "core/log.h"
#include "core/process.h"
#include "operations/context.h"
#include "transfer/changeset.h"
#include "transfer/rsync.h"

#include <QDateTime>
#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QRegularExpression>
#include <QSaveFile>
#include <QSet>

#include <algorithm>

namespace ns8m {

namespace {

// Contents are compared in full below this (the last Scan's size of the
// transfer), on a sample of files above it.
constexpr quint64 kChecksumAllBytes = 256ull * 1024 * 1024;
const QLatin1String kSampleSuffix("#sample");

const QString kFiles = QStringLiteral("files");
const QString kTable = QStringLiteral("table");
const QString kDumps = QStringLiteral("dumps");
const QString kMatched = QStringLiteral("matched");
const QString kDiffers = QStringLiteral("differs");
const QString kMissing = QStringLiteral("missing");

// A sample of TRANSFER's files picked by a walk of its own (a tree the last
// sync sent whole), NUL-separated in FILE; "" when there is none.
QString writeSample(const RsyncTransfer &transfer, const QString &file)
{
    const QStringList sample = sampleFiles(transfer, kVerifySampleFiles);
    QByteArray names;
    for (const QString &name : sample)
        names += QFile::encodeName(name) + '\0';
    QSaveFile f(file);
    if (sample.isEmpty() || !f.open(QIODevice::WriteOnly) || f.write(names) < 0 || !f.commit())
        return {};
    return file;
}

// What an itemized change says differs ("YXcstpoguax"), in words.
QString changeWords(const QString &code)
{
    static const QList<QPair<int, const char *>> letters = {
        {2, "content"}, {3, "size"}, {4, "modification time"}, {5, "permissions"}, {6, "owner"}, {7, "group"}};
    QStringList words;
    for (const auto &[at, word] : letters)
        if (code.size() > at && code.at(at) != u'.' && code.at(at) != u' ' && code.at(at) != u'+')
            words.append(QLatin1String(word));
    return words.isEmpty() ? QStringLiteral("attributes") : words.join(QStringLiteral(", "));
}

} // namespace

void Verification::add(const QString &what, const QString &name, const QString &outcome, const QString &detail,
                       const LogContext &log)
{
    items.append(QJsonArray{what, name, outcome, detail});
    if (outcome == kMatched)
        return;
    differences.append(name);
    Log::warning(QStringLiteral("verify: %1 %2 %3: %4").arg(what, name, outcome, detail), log);
}

// At the start of the dump (the services stopped): the tables as the dump
// will read them.  Not readable: a warning later, the dump goes on.
void Migration::finishChecksumTables(const std::shared_ptr<MigrationRun> &run, const Operation::Next &next)
{
    run->verify = {};
    run->dumper->tableChecksums([run, next](const TableChecksums &sums, const Text &error) {
        run->verify.atDump = sums;
        run->verify.atDumpError = error;
        if (!error.isEmpty() && run->job)
            Log::warning(QStringLiteral("the tables could not be read before the dump: %1").arg(error.english()),
                         run->job->logContext());
        next({});
    });
}

void Migration::finishVerifyFiles(const std::shared_ptr<MigrationRun> &run, const Operation::Next &next)
{
    RsyncTarget target;
    if (!rsyncTarget(&target))
        return next(missingCredentials());
    // The last sync's transfers, planned the same way.
    QList<RsyncTransfer> plan = planTransfers(m_profile, m_ctx->settings.root, target,
                                              run->settings.value(QStringLiteral("bwlimit"), 0).toInt(),
                                              m_ctx->settings.stateDir + QStringLiteral("/stage"));
    boundMemory(&plan, m_record.scanDetails);
    target.password.fill(u'\0');
    QHash<QString, quint64> scanned;
    for (const QJsonValue &v : m_record.scanDetails)
        scanned.insert(v.toArray().at(0).toString(), quint64(v.toArray().at(3).toDouble()));
    QList<RsyncTransfer> runs;
    QHash<QString, QString> destinations;
    QDir().mkpath(workDir());
    for (const RsyncTransfer &t : plan) {
        const bool small = !t.stageFrom.isEmpty() || (scanned.contains(t.profileId) && scanned.value(t.profileId) < kChecksumAllBytes);
        // A large tree the last sync sent as a change set: what it listed,
        // with the contents; the sample below covers the rest.  A small
        // one is compared whole, as without a change set.
        const QString changes = small ? QString() : run->changeLists.value(t.id);
        if (!changes.isEmpty() && QFileInfo(changes).size() == 0) {
            run->verify.add(kFiles, t.id, kMatched, QStringLiteral("Nothing changed since the sync before the stop."),
                            run->job->logContext());
        } else {
            destinations.insert(t.id, t.destinationPath);
            runs.append(changes.isEmpty() ? verifyTransfer(t, small) : changeSetVerifyTransfer(t, changes));
        }
        // The sample the last sync's walk picked, else a walk of its own.
        QString list = small ? QString() : run->sampleLists.value(t.id);
        if (!list.isEmpty())
            Log::info(QStringLiteral("verify: the sample of %1 from the last sync's walk").arg(t.id), run->job->logContext());
        else if (!small)
            list = writeSample(t, workDir() + QStringLiteral("/verify-sample-%1").arg(runs.size()));
        if (list.isEmpty())
            continue;
        run->verify.lists.append(list);
        RsyncTransfer s = verifyTransfer(t, true, list);
        s.id = t.id + kSampleSuffix;
        runs.append(s);
    }
    Log::info(QStringLiteral("verify: %1 dry runs against %2").arg(runs.size()).arg(m_migration.moduleId), run->job->logContext());
    auto *batch = new RsyncBatch(runs, run->job);
    batch->setMaxParallel(2);
    Job *job = run->job;
    connect(batch, &RsyncBatch::progress, job, [job](quint64, quint64, double fraction, quint64) {
        job->setStepProgress(QStringLiteral("verify"), fraction * 0.8);
    });
    connect(batch, &RsyncBatch::finished, this, [this, run, next, destinations](bool, const QList<RsyncResult> &results) {
        if (!run->job)
            return;
        verifiedFiles(run, results, destinations);
        next({});
    });
    batch->start();
}

void Migration::verifiedFiles(const std::shared_ptr<MigrationRun> &run, const QList<RsyncResult> &results,
                              const QHash<QString, QString> &destinations)
{
    Verification &v = run->verify;
    const LogContext log = run->job->logContext();
    for (const QString &list : std::as_const(v.lists))
        QFile::remove(list);
    QSet<QString> compared;
    for (const RsyncResult &r : results) {
        const bool sample = r.id.endsWith(kSampleSuffix);
        const QString id = sample ? r.id.left(r.id.size() - kSampleSuffix.size()) : r.id;
        compared.insert(id);
        if (!r.ok()) {
            v.add(kFiles, id, kDiffers, QStringLiteral("The comparison could not run: %1").arg(r.errorText()), log);
            continue;
        }
        int named = 0;
        for (const QString &line : r.itemized) {
            const QString code = line.section(u' ', 0, 0);
            // A sample's dry run also lists the folders above the files.
            if (sample && (code.size() < 2 || code.at(1) != u'f'))
                continue;
            const QString path = destinations.value(id) + line.mid(code.size()).trimmed();
            ++named;
            if (code.startsWith(u'*'))
                v.add(kFiles, path, kDiffers, QStringLiteral("Only on NS8: it is not on NS7."), log);
            else if (code.contains(QLatin1String("+++++++")))
                v.add(kFiles, path, kMissing, QStringLiteral("Not on NS8."), log);
            else
                v.add(kFiles, path, kDiffers, QStringLiteral("Differs on NS8: %1.").arg(changeWords(code)), log);
        }
        if (r.itemizedCount > r.itemized.size())
            v.add(kFiles, id, kDiffers, QStringLiteral("%1 more paths differ.").arg(r.itemizedCount - r.itemized.size()), log);
        if (sample) {
            if (named == 0)
                v.add(kFiles, id + QStringLiteral(" (sample)"), kMatched,
                      QStringLiteral("The content of files chosen at random is the same."), log);
            continue;
        }
        const quint64 same = r.stats.files > quint64(r.itemizedCount) ? r.stats.files - quint64(r.itemizedCount) : 0;
        v.files += same;
        if (r.itemizedCount == 0)
            v.add(kFiles, id, kMatched, QStringLiteral("%1 entries the same on NS8.").arg(r.stats.files), log);
    }
    // A batch ends at its first failure: what did not run is named too.
    QStringList left = destinations.keys();
    std::sort(left.begin(), left.end());
    for (const QString &id : std::as_const(left))
        if (!compared.contains(id))
            v.add(kFiles, id, kDiffers, QStringLiteral("Not compared: an earlier comparison failed."), log);
    run->job->setStepProgress(QStringLiteral("verify"), 0.8);
}

void Migration::finishVerifyTables(const std::shared_ptr<MigrationRun> &run, const Operation::Next &next)
{
    run->dumper->tableChecksums([run, next](const TableChecksums &now, const Text &error) {
        if (!run->job)
            return;
        Verification &v = run->verify;
        const LogContext log = run->job->logContext();
        const Text why = v.atDumpError.isEmpty() ? error : v.atDumpError;
        if (!why.isEmpty()) {
            v.add(kTable, QStringLiteral("*"), kDiffers, QStringLiteral("The tables could not be compared: %1").arg(why.english()), log);
            return next({});
        }
        QStringList names = v.atDump.keys() + now.keys();
        names.removeDuplicates();
        std::sort(names.begin(), names.end());
        for (const QString &t : std::as_const(names)) {
            const auto before = v.atDump.value(t), after = now.value(t);
            if (!now.contains(t)) {
                v.add(kTable, t, kMissing, QStringLiteral("It was dropped after the dump."), log);
            } else if (!v.atDump.contains(t)) {
                v.add(kTable, t, kDiffers, QStringLiteral("It was created after the dump, which does not hold it."), log);
            } else if (before != after) {
                v.add(kTable, t, kDiffers, QStringLiteral("Written after the stop (%1 rows at the dump, %2 now): "
                                                          "the dump may not hold the change.")
                                               .arg(before.first).arg(after.first), log);
            } else {
                ++v.tables;
                v.add(kTable, t, kMatched, QStringLiteral("%1 rows, unchanged since the dump.").arg(after.first), log);
            }
        }
        next({});
    });
}

// DIR (restore, restore_background): each file the helper wrote there is on
// NS8 with the same size.
void Migration::finishVerifyDumps(const std::shared_ptr<MigrationRun> &run, const QString &dir, const Operation::Next &next)
{
    if (!m_profile.hasDumps())
        return next({});
    const auto argvFor = [dir](const RsyncTarget &target) {
        return commands::rsyncList(rsyncUrl(target, QStringLiteral("state/%1/").arg(dir)), kRsyncTimeoutSeconds,
                                   kRsyncConnectTimeoutSeconds);
    };
    runOnReceiver(run, argvFor, next, [this, run, dir, next](const ProcessResult &r) {
        if (!run->job)
            return;
        verifiedDumps(run, dir, r);
        next({});
    });
}

void Migration::verifiedDumps(const std::shared_ptr<MigrationRun> &run, const QString &dir, const ProcessResult &listing)
{
    Verification &v = run->verify;
    const LogContext log = run->job->logContext();
    if (!listing.ok()) {
        v.add(kDumps, dir, kMissing, QStringLiteral("NS8's state/%1 could not be listed: %2")
                                         .arg(dir, QString::fromUtf8(listing.err).trimmed().right(300)), log);
        return;
    }
    // "-rw-r--r--          1,234 2024/01/01 12:00:00 name"
    static const QRegularExpression entry(QStringLiteral(R"(^-\S{9}\s+([0-9,.']+)\s+\S+\s+\S+\s(.+)$)"));
    QHash<QString, quint64> remote;
    for (const QByteArray &raw : listing.out.split('\n')) {
        const auto m = entry.match(QString::fromUtf8(raw));
        if (m.hasMatch())
            remote.insert(m.captured(2), m.captured(1).remove(QRegularExpression(QStringLiteral("[,.']"))).toULongLong());
    }
    const QString local = workDir() + u'/' + dir;
    QDirIterator it(local, QDir::Files | QDir::Hidden | QDir::NoSymLinks, QDirIterator::Subdirectories);
    QStringList names;
    while (it.hasNext()) {
        it.next();
        names.append(it.filePath().mid(local.size() + 1));
    }
    std::sort(names.begin(), names.end());
    for (const QString &n : std::as_const(names)) {
        const quint64 size = quint64(QFileInfo(local + u'/' + n).size());
        const QString name = dir + u'/' + n;
        if (!remote.contains(n))
            v.add(kDumps, name, kMissing, QStringLiteral("Not on NS8."), log);
        else if (remote.value(n) != size)
            v.add(kDumps, name, kDiffers, QStringLiteral("%1 bytes on NS7, %2 on NS8.").arg(size).arg(remote.value(n)), log);
        else {
            ++v.dumps;
            v.add(kDumps, name, kMatched, QStringLiteral("%1 bytes on both.").arg(size), log);
        }
    }
}

// The outcome, kept (App.Verification) and told in one line.
void Migration::finishVerified(const std::shared_ptr<MigrationRun> &run, const Operation::Next &next)
{
    run->verified = true;
    // The change sets' manifests and lists (up to ~80 bytes a file) served.
    QDir(workDir() + QStringLiteral("/changeset")).removeRecursively();
    m_record.verification = run->verify.items;
    m_record.verificationTime = QDateTime::currentMSecsSinceEpoch() * 1000;
    m_ctx->state->saveApp(m_record);
    changed({QStringLiteral("Verification"), QStringLiteral("VerificationTime")});
    const QString line = english(verificationSummary(run));
    if (run->verify.differences.isEmpty())
        Log::info(line, run->job->logContext());
    else
        Log::warning(line, run->job->logContext());
    next({});
}

Texts Migration::verificationSummary(const std::shared_ptr<MigrationRun> &run) const
{
    const Verification &v = run->verify;
    if (v.differences.isEmpty())
        return {Text("finish.verified", "Verified: %1 files, %2 tables and %3 dump files matched.")
                    .arg(v.files)
                    .arg(v.tables)
                    .arg(v.dumps)};
    QStringList named = v.differences.mid(0, 10);
    if (v.differences.size() > named.size())
        named.append(QStringLiteral("… (%1 in all)").arg(v.differences.size()));
    return {Text("finish.verified-differences", "Warning: verified: %1 files, %2 tables matched; differences: %3. "
                                                "Check them on NS8.")
                .arg(v.files)
                .arg(v.tables)
                .arg(named.join(QStringLiteral(", ")))};
}

} // namespace ns8m
