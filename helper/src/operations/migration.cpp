#include "operations/migration.h"

#include "bus/authority.h"
#include "operations/context.h"
#include "profile/fields.h"
#include "bus/job.h"
#include "core/log.h"
#include "operations/operation.h"
#include "transfer/scanner.h"

#include <QJsonArray>

namespace ns8m {

Migration::Migration(Context *ctx, AppProfile profile, QString path, QObject *parent)
    : QObject(parent), m_ctx(ctx), m_profile(std::move(profile)), m_path(std::move(path))
{
    m_record = m_ctx->state->app(m_profile.id);
    m_migration = m_ctx->state->migration(m_profile.id);
    m_syncs = m_ctx->state->syncs(m_profile.id);
    // A job cut short by a stop of the helper leaves the app where it can
    // be retried: a sync in flight becomes "migrating" again (its job is
    // recorded as failed), a Start that had not created anything yet
    // goes back to "not_migrated".
    if (m_record.status == AppStatus::Syncing)
        m_record.status = AppStatus::Migrating;
    if (m_record.status == AppStatus::Migrating && m_migration.isEmpty())
        m_record.status = AppStatus::NotMigrated;
    m_ctx->state->saveApp(m_record);
    // A Finish cut short: what it stopped runs again (finish.cpp).
    recoverInterruptedFinish();
    // The schedules, armed again (appschedule.cpp).
    loadSchedules();
}

Migration::~Migration() = default;

void Migration::changed(const QStringList &names)
{
    emit propertiesChanged(names);
}

void Migration::setJob(Job *job)
{
    m_job = job;
    m_jobPath = job ? job->path() : QStringLiteral("/");
    if (job) {
        // When the job leaves the bus the property stops pointing at it.
        connect(job, &QObject::destroyed, this, [this, p = m_jobPath] {
            if (m_jobPath == p) {
                m_jobPath = QStringLiteral("/");
                changed({QStringLiteral("Job")});
            }
        });
    }
    changed({QStringLiteral("Job")});
}

// App.Scan: the walk of every transfer (one job step each), the database
// sizes, then the results saved.  Nothing changes until the last row.
void Migration::startScan(sd_bus_message *call, quint32 uid)
{
    if (refuseUnlessIdle(call))
        return;
    // The table without its scanner gives the job's steps; the job exists
    // before the scanner that reports to it.
    Job *job = newJob(call, uid, QStringLiteral("scan"), Action::Read, Operation::jobSteps(scanSteps(nullptr)));
    if (!job)
        return;
    auto *scanner = new Scanner(m_profile, m_ctx->settings.root, job, job);
    auto *op = new Operation(job, scanSteps(scanner));
    op->summary = [scanner] { return scanner->summary(); };
    op->start();
}

QList<Operation::Step> Migration::scanSteps(Scanner *scanner)
{
    QList<Operation::Step> steps;
    steps.append({QStringLiteral("walk"), Text("step.scan.walk", "Files"), 1.0,
                  [scanner](const Operation::Next &next) { scanner->walk(next); }, {}, false,
                  Scanner::plan(m_profile, m_record.scanDetails)});
    if (!m_profile.databases.isEmpty())
        steps.append({QStringLiteral("databases"), Text("step.scan.databases", "Database sizes"), 1.0,
                      [scanner](const Operation::Next &next) { next(scanner->readDatabases()); }});
    steps.append({QStringLiteral("Saving the results"), 0.1,
                  [this, scanner](const Operation::Next &next) { next(saveScan(scanner->result())); }});
    return steps;
}

Failure Migration::saveScan(const ScanResult &result)
{
    m_record.sourceFiles = result.files;
    m_record.sourceBytes = result.bytes;
    m_record.databaseBytes = result.databaseBytes;
    m_record.scanDetails = result.details;
    m_record.scanTime = nowUsec();
    if (!m_ctx->state->saveApp(m_record))
        return Failure::failed(Text("scan.not-saved", "The scan ended but its results could not be saved: %1")
                                   .arg(m_ctx->state->lastError()));
    changed({QStringLiteral("SourceFiles"), QStringLiteral("SourceBytes"), QStringLiteral("DatabaseBytes"),
             QStringLiteral("ScanDetails"), QStringLiteral("ScanSymlinks"), QStringLiteral("ScanTime")});
    return {};
}

} // namespace ns8m
