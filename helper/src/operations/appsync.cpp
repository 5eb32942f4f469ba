// One sync of an app's files into its NS8 module receiver (used by Start
// for the first copy and by every Sync): the profile's transfers as rsync
// runs, several at a time, progress into the job, and the receiver
// restarted once when it stopped answering.
#include "operations/migration.h"
#include "operations/appmigration_p.h"

#include "operations/cluster.h"
#include "transfer/dbdump.h"
#include "operations/context.h"
#include "operations/estimate.h"
#include "bus/job.h"
#include "core/log.h"
#include "ns8/ns8client.h"
#include "ns7/esmithdb.h"
#include "transfer/generate.h"
#include "transfer/rsync.h"
#include "core/secrets.h"
#include "vpn/wireguard.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QJsonArray>
#include <QTimer>

#include <algorithm>

namespace ns8m {

QList<JobStep> Migration::syncSteps() const
{
    // Weighted by what the last Scan found, so the bar follows the bytes.
    QHash<QString, double> bytes;
    double total = 0;
    for (const QJsonValue &v : m_record.scanDetails) {
        const QJsonArray a = v.toArray();
        bytes.insert(a.at(0).toString(), a.at(3).toDouble());
        total += a.at(3).toDouble();
    }
    QList<JobStep> steps;
    for (const GeneratedFile &g : m_profile.generated)
        steps.append({g.id, g.title, 1.0, 0.0});
    for (const Transfer &t : m_profile.transfers)
        steps.append({t.id, t.title, total > 0 ? 0.2 + 100.0 * bytes.value(t.id) / total : 1.0, 0.0});
    return steps;
}

namespace {

// The kind of a batch's failure: the one a run that did not start gave
// (TunnelDown), or Failed.
QString failureName(const QList<RsyncResult> &results)
{
    for (const RsyncResult &r : results)
        if (!r.localErrorName.isEmpty())
            return r.localErrorName;
    return QString::fromLatin1(Error::Failed);
}

// One line per rsync run in the log: what, how much, how long, how it ended.
void logTransfers(RsyncBatch *batch, Job *job)
{
    const LogContext ctx = job ? job->logContext() : LogContext{};
    QObject::connect(batch, &RsyncBatch::transferFinished, batch, [ctx](const QString &id, const RsyncResult &r) {
        const QString what = QStringLiteral("transfer %1: %2 files sent, %3 on the wire, %4 files in the tree (%5), %6")
                                 .arg(id)
                                 .arg(r.stats.regularFilesTransferred)
                                 .arg(humanBytes(r.stats.bytesSent))
                                 .arg(r.stats.files)
                                 .arg(humanBytes(r.stats.totalFileSize), humanDuration(r.durationMs));
        if (r.ok())
            Log::info(what + (r.vanished ? QStringLiteral(", some files vanished (normal on a live PBX)") : QString()), ctx);
        else if (r.canceled)
            Log::info(what + QStringLiteral(", canceled"), ctx);
        else
            Log::warning(what + QStringLiteral(", failed: ") + r.errorText(), ctx);
    });
}

} // namespace

QString Migration::workDir() const
{
    return m_ctx->settings.stateDir + QStringLiteral("/apps/") + m_profile.id;
}

bool Migration::hasRsyncPassword() const
{
    return !readSecretFile(secretPath()).isEmpty();
}

bool Migration::rsyncTarget(RsyncTarget *target) const
{
    target->host = m_migration.address;
    target->port = m_migration.port;
    target->user = m_migration.rsyncUser;
    target->tunnel = QString::fromLatin1(kTunnelInterface); // the receiver is reached through it only
    target->password = QString::fromUtf8(readSecretFile(secretPath()));
    return !target->password.isEmpty();
}

// A receiver that stopped (a reboot of the node, a terminate) is started
// again with module/<id> import-module; GO retries what failed.
void Migration::restartReceiver(const std::shared_ptr<MigrationRun> &run, std::function<void()> go)
{
    const QString moduleId = m_migration.moduleId;
    Log::warning(QStringLiteral("the receiver of %1 is not answering: restarting it").arg(moduleId),
                 run->job ? run->job->logContext() : LogContext{});
    const QString password = QString::fromUtf8(readSecretFile(secretPath()));
    QJsonArray volumes;
    for (const QString &v : m_profile.volumes)
        volumes.append(v);
    const QJsonObject input{{QStringLiteral("credentials"), QJsonArray{m_migration.rsyncUser, password}},
                            {QStringLiteral("port"), m_migration.port},
                            {QStringLiteral("volumes"), volumes}};
    run->client->login([this, run, input, moduleId, go](const ApiError &e) {
        if (e.isError())
            return go();
        // That task runs as long as the receiver does: it is the import
        // task Finish waits for from now on.
        run->client->submitTask(QStringLiteral("module/") + moduleId, QStringLiteral("import-module"), input,
                                [this, run, go](const QString &task, const ApiError &) {
            if (!task.isEmpty() && !m_migration.isEmpty()) {
                m_migration.importTask = task;
                m_ctx->state->saveMigration(m_migration);
            }
            // Give the receiver a moment to listen before the retry.
            QTimer::singleShot(1500, run->job, go);
        });
    });
}

Failure Migration::missingCredentials() const
{
    return Failure::failed(Text("sync.credentials.missing", "The receiver's credentials are missing (%1): Abort and start "
                                                            "again.")
                               .arg(secretPath()));
}

// Two runs at a time; a receiver that stopped is started again and the
// failed runs retried once; one log line per run.
RsyncBatch *Migration::newBatch(const std::shared_ptr<MigrationRun> &run, const QList<RsyncTransfer> &transfers)
{
    auto *batch = new RsyncBatch(transfers, run->job);
    batch->setMaxParallel(2);
    batch->retryFailedOnce(true);
    batch->beforeRetry = [this, run](std::function<void()> go) { restartReceiver(run, go); };
    logTransfers(batch, run->job);
    return batch;
}

void Migration::uploadDumps(const std::shared_ptr<MigrationRun> &run, const QStringList &dirs,
                      std::function<void(const Failure &, quint64)> done)
{
    RsyncTarget target;
    if (!rsyncTarget(&target))
        return done(missingCredentials(), 0);
    QList<RsyncTransfer> transfers;
    for (const QString &d : dirs) {
        const QString local = workDir() + u'/' + d;
        QDir().mkpath(local);
        transfers.append(directoryTransfer(QStringLiteral("upload-") + d, d, local, target,
                                           QStringLiteral("state/") + d, m_profile.ownerUid, m_profile.ownerGid));
    }
    target.password.fill(u'\0');
    RsyncBatch *batch = newBatch(run, transfers);
    if (!run->step.isEmpty()) {
        Job *job = run->job;
        const QString step = run->step;
        connect(batch, &RsyncBatch::progress, job, [job, step](quint64 bytes, quint64 total, double fraction, quint64 rate) {
            job->setStepProgress(step, fraction);
            job->setBytes(bytes, total);
            job->setRate(rate);
        });
    }
    connect(batch, &RsyncBatch::finished, this, [run, done](bool ok, const QList<RsyncResult> &results) {
        const QString name = failureName(results);
        quint64 bytes = 0;
        Texts errors;
        for (const RsyncResult &r : results) {
            bytes += r.stats.bytesSent;
            if (!r.ok())
                errors += r.errorTexts();
        }
        if (run->job)
            Log::info(QStringLiteral("database files uploaded: %1 sent").arg(humanBytes(bytes)), run->job->logContext());
        done(ok ? Failure{}
                : Failure(name, Texts{Text("sync.upload.failed", "Uploading the database files failed.")} + errors),
             bytes);
    });
    batch->start();
}

// Finish's last sync: a tree with a change set sends only its list
// (transfer/changeset.h), a tree where nothing changed is not sent at all.
void Migration::applyChangeSets(const std::shared_ptr<MigrationRun> &run, QList<RsyncTransfer> *transfers) const
{
    if (run->changeLists.isEmpty())
        return;
    QList<RsyncTransfer> kept;
    for (const RsyncTransfer &t : std::as_const(*transfers)) {
        const QString list = run->changeLists.value(t.id);
        if (list.isEmpty())
            kept.append(t);
        else if (QFileInfo(list).size() > 0)
            kept.append(changeSetTransfer(t, list));
    }
    *transfers = kept;
}

QString Migration::generatedDir() const
{
    return m_ctx->settings.stateDir + QStringLiteral("/generated/") + m_profile.id;
}

// The profile's generated files first (generate:, transfer/generate.h),
// made again at every pass, then every transfer with them; the generated
// files are removed once sent, since one may hold a password.
void Migration::runSync(const std::shared_ptr<MigrationRun> &run, SyncDone done)
{
    if (!hasRsyncPassword())
        return done(missingCredentials());
    if (m_profile.generated.isEmpty())
        return runTransfers(run, {}, done);
    const QString stage = generatedDir();
    const SyncDone cleanUp = [stage, done](const Failure &failure) {
        QDir(stage).removeRecursively();
        done(failure);
    };
    if (run->job && run->step.isEmpty())
        run->job->beginStep(m_profile.generated.first().id);
    const EsmithDb config = EsmithDb::load(m_ctx->pathUnderRoot(QStringLiteral("/var/lib/nethserver/db/configuration")));
    const GenerateInput in{m_ctx->settings.root, stage, m_ctx->cluster->userDomain(),
                           run->job ? run->job->logContext() : LogContext{},
                           [config](const QString &key, const QString &prop) { return config.prop(key, prop); },
                           m_migration.settings};
    generateFiles(run->job, m_profile.generated, in, [this, run, cleanUp](const Failure &failure,
                                                                          const QList<GeneratedOutput> &files) {
        if (failure.isError())
            return cleanUp(failure);
        RsyncTarget target;
        rsyncTarget(&target);
        QList<RsyncTransfer> sent;
        for (const GeneratedOutput &f : files)
            sent.append(fileTransfer(f.id, f.title, f.localPath, target, f.destinationDir, m_profile.ownerUid,
                                     m_profile.ownerGid));
        target.password.fill(u'\0');
        runTransfers(run, sent, cleanUp);
    });
}

void Migration::runTransfers(const std::shared_ptr<MigrationRun> &run, const QList<RsyncTransfer> &generated,
                             SyncDone done)
{
    Job *job = run->job;
    RsyncTarget target;
    if (!rsyncTarget(&target))
        return done(missingCredentials());
    const int bwlimit = run->settings.value(QStringLiteral("bwlimit"), 0).toInt();
    QList<RsyncTransfer> transfers = planTransfers(m_profile, m_ctx->settings.root, target, bwlimit,
                                                   m_ctx->settings.stateDir + QStringLiteral("/stage"));
    target.password.fill(u'\0');
    boundMemory(&transfers, m_record.scanDetails);
    applyChangeSets(run, &transfers);
    transfers = generated + transfers;
    QElapsedTimer clock;
    clock.start();
    QHash<QString, QString> stepOf; // run id → job step (the profile transfer)
    for (const RsyncTransfer &t : transfers)
        stepOf.insert(t.id, run->step.isEmpty() ? t.profileId : run->step);
    RsyncBatch *batch = newBatch(run, transfers);
    Log::info(QStringLiteral("sync of %1 into %2 (%3:%4): %5 rsync runs%6")
                  .arg(m_profile.name, m_migration.moduleId, m_migration.address)
                  .arg(m_migration.port)
                  .arg(transfers.size())
                  .arg(bwlimit > 0 ? QStringLiteral(", limited to %1 KiB/s").arg(bwlimit) : QString()),
              job->logContext());

    const QString single = run->step;
    connect(batch, &RsyncBatch::transferStarted, job, [job, stepOf](const QString &id) { job->beginStep(stepOf.value(id, id)); });
    connect(batch, &RsyncBatch::transferProgress, job, [job, stepOf, single](const QString &id, double fraction) {
        if (single.isEmpty())
            job->setStepProgress(stepOf.value(id, id), fraction);
    });
    connect(batch, &RsyncBatch::progress, job, [job, single](quint64 bytesDone, quint64 total, double fraction, quint64 rate) {
        if (!single.isEmpty())
            job->setStepProgress(single, fraction * 0.9);
        job->setBytes(bytesDone, total);
        job->setRate(rate);
    });
    connect(job, &Job::canceled, batch, &RsyncBatch::cancel);
    connect(batch, &RsyncBatch::finished, this, [this, run, clock, done](bool ok, const QList<RsyncResult> &results) {
        syncTransferred(run, clock, ok, results, done);
    });
    batch->start();
}

// The rsync runs are over: tally them, then ship the call history when
// this sync carries it, and record the sync.
void Migration::syncTransferred(const std::shared_ptr<MigrationRun> &run, const QElapsedTimer &clock, bool ok,
                                const QList<RsyncResult> &results, const SyncDone &done)
{
    SyncRecord rec;
    Texts warnings, errors;
    QList<qint64> sessions;
    for (const RsyncResult &r : results) {
        rec.files += r.stats.regularFilesTransferred;
        rec.bytes += r.stats.bytesSent;
        // A run that sent next to nothing (a small tree's file list) costs
        // what a session costs: the estimate's unit (operations/estimate.h).
        if (r.ok() && r.durationMs > 0 && r.stats.bytesSent < kSessionBytes)
            sessions.append(r.durationMs * 1000);
        if (!r.warning().isEmpty())
            warnings.append(r.warning());
        if (!r.ok() && !r.canceled)
            errors += r.errorTexts();
    }
    rec.warnings = quint32(warnings.size());
    if (!sessions.isEmpty()) {
        std::sort(sessions.begin(), sessions.end());
        rec.session = sessions.at(sessions.size() / 2); // the median
    }
    for (const Text &w : std::as_const(warnings))
        Log::warning(w.english(), run->job ? run->job->logContext() : LogContext{});
    if (run->job && run->job->cancelRequested())
        return done({Error::Canceled, Text("sync.canceled", "The sync was canceled; what was copied stays on NS8 and the "
                                                            "next Sync continues from there.")});
    if (!ok)
        return done(errors.isEmpty() ? Failure::failed(Text("sync.failed", "The sync failed.")) : Failure(failureName(results), errors));
    if (!run->withHistory || !hasHistory())
        return recordSync(run, clock, rec, warnings, {}, done);
    // The call history's new rows, then the chunk folder mirrored on NS8.
    auto *dumper = new DbDumper(m_profile, m_ctx->settings.root, workDir(), m_ctx->state,
                                run->job ? run->job->logContext() : LogContext{}, run->job);
    const Text again("sync.files-synced", "The files were synced; run Sync again.");
    dumper->shipHistory([this, run, clock, rec, warnings, done, dumper, again](const Failure &failure, const Texts &said) {
        dumper->deleteLater();
        if (failure.isError())
            return done({failure.name, failure.texts + Texts{again}});
        uploadDumps(run, {QStringLiteral("restore_background")},
                    [this, run, clock, rec, warnings, done, said, again](const Failure &upload, quint64 bytes) {
                        if (upload.isError())
                            return done({upload.name, upload.texts + Texts{again}});
                        SyncRecord withHistory = rec;
                        withHistory.bytes += bytes;
                        recordSync(run, clock, withHistory, warnings, said, done);
                    });
    }, run->verifyHistory);
}

void Migration::recordSync(const std::shared_ptr<MigrationRun> &run, const QElapsedTimer &clock, SyncRecord rec,
                           const Texts &warnings, const Texts &history, const SyncDone &done)
{
    rec.duration = clock.elapsed() * 1000;
    rec.time = nowUsec();
    m_ctx->state->addSync(m_profile.id, rec);
    m_syncs.append(rec);
    changed({QStringLiteral("SyncHistory"), QStringLiteral("LastSyncTime"), QStringLiteral("LastSyncBytes"),
             QStringLiteral("LastSyncFiles"), QStringLiteral("LastSyncDuration"), QStringLiteral("EstimatedDowntime"),
             QStringLiteral("EstimatedDowntimeParts")});
    // The counts, what the call history's shipping said, then the warnings.
    Texts said{Text("sync.done", "%1 files, %2 sent in %3.")
                   .arg(rec.files)
                   .arg(humanBytes(rec.bytes))
                   .arg(humanDuration(rec.duration / 1000))};
    said += history;
    if (!warnings.isEmpty())
        said.append(Text("sync.warnings", "Warnings:"));
    said += warnings;
    run->message = said;
    Log::info(QStringLiteral("sync of %1 done: %2").arg(m_profile.name, english(said)),
              run->job ? run->job->logContext() : LogContext{});
    done({});
}

bool Migration::hasHistory() const
{
    for (const DatabaseItem &d : m_profile.databases)
        if (!d.incremental.isEmpty())
            return true;
    return false;
}

} // namespace ns8m
