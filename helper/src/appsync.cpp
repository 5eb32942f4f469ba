// One sync of an app's files into its NS8 module receiver (used by Start
// for the first copy and by every Sync): the profile's transfers as rsync
// runs, several at a time, progress into the job, and the receiver
// restarted once when it stopped answering.
#include "app.h"
#include "appmigration_p.h"

#include "cluster.h"
#include "daemon.h"
#include "job.h"
#include "log.h"
#include "ns8client.h"
#include "rsync.h"
#include "secrets.h"

#include <QElapsedTimer>
#include <QJsonArray>
#include <QTimer>

namespace ns8m {

QList<JobStep> App::syncSteps() const
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
    for (const Transfer &t : m_profile.transfers)
        steps.append({t.id, t.title, total > 0 ? 0.2 + 100.0 * bytes.value(t.id) / total : 1.0, 0.0});
    return steps;
}

struct SyncState {
    QElapsedTimer clock;
    QPointer<RsyncBatch> batch;
};

void App::runSync(const std::shared_ptr<MigrationRun> &run, std::function<void(bool, const QString &)> done)
{
    Job *job = run->job;
    RsyncTarget target;
    target.host = m_migration.address;
    target.port = m_migration.port;
    target.user = m_migration.rsyncUser;
    target.password = QString::fromUtf8(readSecretFile(secretPath()));
    if (target.password.isEmpty())
        return done(false, QStringLiteral("The receiver's credentials are missing (%1): Abort and start again.").arg(secretPath()));
    const int bwlimit = run->settings.value(QStringLiteral("bwlimit"), 0).toInt();
    const QList<RsyncTransfer> transfers = planTransfers(m_profile, m_daemon->settings().root, target, bwlimit,
                                                         m_daemon->settings().stateDir + QStringLiteral("/stage"));
    target.password.fill(u'\0');
    auto state = std::make_shared<SyncState>();
    state->clock.start();
    QHash<QString, QString> stepOf; // run id → job step (the profile transfer)
    for (const RsyncTransfer &t : transfers)
        stepOf.insert(t.id, t.profileId);
    auto *batch = new RsyncBatch(transfers, job);
    batch->setMaxParallel(2);
    state->batch = batch;
    Log::info(QStringLiteral("sync of %1 into %2 (%3:%4): %5 rsync runs%6")
                  .arg(m_profile.name, m_migration.moduleId, m_migration.address)
                  .arg(m_migration.port)
                  .arg(transfers.size())
                  .arg(bwlimit > 0 ? QStringLiteral(", limited to %1 KiB/s").arg(bwlimit) : QString()),
              job->logContext());

    // A receiver that stopped (a reboot of the node, a terminate) is started
    // again with module/<id> import-module, and the transfer retried once.
    batch->retryFailedOnce(true);
    const QString moduleId = m_migration.moduleId;
    batch->beforeRetry = [this, run, moduleId](std::function<void()> go) {
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
            // task Finish will wait for from now on.
            run->client->submitTask(QStringLiteral("module/") + moduleId, QStringLiteral("import-module"), input,
                                    [this, run, go](const QString &task, const ApiError &) {
                if (!task.isEmpty() && !m_migration.isEmpty()) {
                    m_migration.importTask = task;
                    m_daemon->state()->saveMigration(m_migration);
                }
                // Give the receiver a moment to listen before the retry.
                QTimer::singleShot(1500, run->job, go);
            });
        });
    };

    connect(batch, &RsyncBatch::transferStarted, job, [job, stepOf](const QString &id) { job->beginStep(stepOf.value(id, id)); });
    connect(batch, &RsyncBatch::transferProgress, job, [job, stepOf](const QString &id, double fraction) {
        job->setStepProgress(stepOf.value(id, id), fraction);
    });
    connect(batch, &RsyncBatch::progress, job, [job](quint64 bytesDone, quint64 total, double, quint64 rate) {
        job->setBytes(bytesDone, total);
        job->setRate(rate);
    });
    connect(job, &Job::canceled, batch, &RsyncBatch::cancel);
    connect(batch, &RsyncBatch::finished, this,
            [this, run, state, done](bool ok, const QList<RsyncResult> &results) {
        SyncRecord rec;
        QStringList warnings, errors;
        for (const RsyncResult &r : results) {
            rec.files += r.stats.regularFilesTransferred;
            rec.bytes += r.stats.bytesSent;
            if (!r.warningText().isEmpty())
                warnings.append(r.warningText());
            if (!r.ok() && !r.canceled)
                errors.append(r.errorText());
        }
        rec.duration = state->clock.elapsed() * 1000;
        rec.time = nowUsec();
        rec.warnings = quint32(warnings.size());
        for (const QString &w : std::as_const(warnings))
            Log::warning(w, run->job ? run->job->logContext() : LogContext{});
        if (run->job && run->job->cancelRequested())
            return done(false, QStringLiteral("The sync was canceled; what was copied stays on NS8 and the next Sync "
                                              "continues from there."));
        if (!ok)
            return done(false, errors.isEmpty() ? QStringLiteral("The sync failed.") : errors.join(QStringLiteral(" ")));
        m_daemon->state()->addSync(m_profile.id, rec);
        m_syncs.append(rec);
        changed({QStringLiteral("SyncHistory"), QStringLiteral("LastSyncTime"), QStringLiteral("LastSyncBytes"),
                 QStringLiteral("LastSyncFiles"), QStringLiteral("LastSyncDuration"), QStringLiteral("EstimatedDowntime")});
        QString message = QStringLiteral("%1 files, %2 sent in %3.")
                              .arg(rec.files)
                              .arg(humanBytes(rec.bytes), humanDuration(rec.duration / 1000));
        if (!warnings.isEmpty())
            message += QStringLiteral(" Warnings: %1").arg(warnings.join(QStringLiteral(" ")));
        Log::info(QStringLiteral("sync of %1 done: %2").arg(m_profile.name, message), run->job ? run->job->logContext() : LogContext{});
        done(true, message);
    });
    batch->start();
}

} // namespace ns8m
