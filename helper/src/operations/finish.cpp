// App.Finish: the cutover ("Passaggio 3", phase 3 of the migration guide).
//
//   check      login, the final configure-module input valid, databases there
//   presync    a sync with everything still running (and the new call history)
//   stop       the profile's quiesce units (only those running)
//   sync       the last file sync
//   dump       structure and data files, the call history's tail, astdb
//   upload     the dumps into the module's state/
//   verify     files, tables and dumps compared with NS8's (verify.cpp)
//   terminate  read the receiver's /terminate
//   import     wait for the module's import task (it restores the dumps)
//   configure  configure-module
//   retire     stop and disable the app on NS7
//   redirect   the page that sends the old addresses to the new ones
//
// Nothing is stopped before the input is known good.  A failure after the
// stop starts the quiesced units again and leaves the app "migrating", so
// Finish can be run again; once configure-module succeeded, NS8 is in
// charge and a new Finish only completes the NS7 side.  While NS8 runs
// configure-module (phase Configuring) its answer alone decides: nothing
// starts NS7's services before it, not a timeout, not a restart.
#include "operations/migration.h"
#include "operations/appmigration_p.h"

#include "operations/cluster.h"
#include "bus/authority.h"
#include "operations/context.h"
#include "transfer/dbdump.h"
#include "ns7/esmithdb.h"
#include "ns7/esmith.h"
#include "ns7/services.h"
#include "profile/fields.h"
#include "bus/job.h"
#include "ns8/jsonschema.h"
#include "core/commands.h"
#include "core/log.h"
#include "core/qtcompat.h"
#include "operations/operation.h"
#include "ns8/ns8client.h"
#include "operations/inventory.h"
#include "operations/preflight.h"
#include "core/process.h"
#include "transfer/rsync.h"
#include "core/secrets.h"
#include "ns7/systemd.h"

#include <QDateTime>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QHostAddress>
#include <QJsonDocument>
#include <QSaveFile>
#include <QRegularExpression>
#include <QStorageInfo>
#include <QTimer>

namespace ns8m {

namespace {

const QString kWrongState = QString::fromLatin1(Error::WrongState);
const Text kCannotFinish("finish.cannot", "Cannot finish:");

QString iniValue(const QString &path, const QString &key)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return {};
    for (const QByteArray &raw : f.readAll().split('\n')) {
        const QString line = QString::fromUtf8(raw).trimmed();
        if (line.startsWith(u'#') || line.startsWith(u';') || !line.contains(u'='))
            continue;
        if (line.section(u'=', 0, 0).trimmed() == key) {
            QString v = line.section(u'=', 1).trimmed();
            if (v.size() >= 2 && (v.startsWith(u'"') || v.startsWith(u'\'')) && v.endsWith(v.at(0)))
                v = v.mid(1, v.size() - 2);
            return v;
        }
    }
    return {};
}

// Where on NS7 an input comes from, as data for a sentence: the e-smith
// command that shows it, the file, the key in its file.
QString describe(const ConfigureInput &in)
{
    const QVariantMap &p = in.params;
    const auto param = [&p](const char *name) { return p.value(QLatin1String(name)).toString(); };
    if (in.source == u"esmith")
        return p.value(QStringLiteral("type")).toBool()
                   ? QStringLiteral("db %1 gettype %2").arg(param("esmith"), param("key"))
                   : QStringLiteral("db %1 getprop %2 %3").arg(param("esmith"), param("key"), param("prop"));
    if (in.source == u"file")
        return param("file");
    if (in.source == u"ini")
        return QStringLiteral("%1 [%2]").arg(param("ini"), param("key"));
    if (in.source == u"cluster")
        return QStringLiteral("NS8 %1").arg(param("cluster"));
    return in.source;
}

} // namespace

QList<OptionSpec> Migration::finishOptions() const
{
    return fieldOptionSpecs(m_profile, {{"accept_warnings", 'b'}});
}

QJsonObject Migration::configureInput(const QVariantMap &values, const QSet<QString> &databases, Failure *problem) const
{
    QJsonObject input;
    QHash<QString, EsmithDb> dbs;
    for (const ConfigureInput &in : m_profile.configure) {
        const QVariantMap &p = in.params;
        QJsonValue v;
        if (in.source == u"field") {
            const QVariant f = values.value(p.value(QStringLiteral("field")).toString());
            if (f.isValid())
                v = f.userType() == QMetaType::Bool ? QJsonValue(f.toBool()) : QJsonValue(f.toString());
        } else if (in.source == u"cluster") {
            if (p.value(QStringLiteral("cluster")).toString() == u"user_domain" && !m_ctx->cluster->userDomain().isEmpty())
                v = m_ctx->cluster->userDomain();
        } else if (in.source == u"esmith") {
            const QString name = p.value(QStringLiteral("esmith")).toString();
            if (!dbs.contains(name))
                dbs.insert(name, EsmithDb::load(m_ctx->pathUnderRoot(QStringLiteral("/var/lib/nethserver/db/") + name)));
            const EsmithDb &db = dbs[name];
            const QString key = p.value(QStringLiteral("key")).toString();
            const QString s = p.value(QStringLiteral("type")).toBool() ? db.type(key) : db.prop(key, p.value(QStringLiteral("prop")).toString());
            if (!s.isEmpty())
                v = s;
        } else if (in.source == u"file") {
            QFile f(m_ctx->pathUnderRoot(p.value(QStringLiteral("file")).toString()));
            if (f.open(QIODevice::ReadOnly)) {
                const QString s = QString::fromUtf8(f.readAll()).trimmed();
                if (!s.isEmpty())
                    v = s;
            }
        } else if (in.source == u"ini") {
            const QString s = iniValue(m_ctx->pathUnderRoot(p.value(QStringLiteral("ini")).toString()), p.value(QStringLiteral("key")).toString());
            if (!s.isEmpty())
                v = s;
        } else if (in.source == u"exists") {
            const QString name = p.value(QStringLiteral("name")).toString();
            v = p.value(QStringLiteral("exists")).toString() == u"database" ? databases.contains(name)
                                                                            : QFileInfo::exists(m_ctx->pathUnderRoot(name));
        } else if (in.source == u"const") {
            v = QJsonValue::fromVariant(p.value(QStringLiteral("const")));
        }
        if (v.isUndefined() || v.isNull()) {
            if (p.value(QStringLiteral("optional")).toBool())
                continue;
            *problem = {Error::InvalidArgument, Text("finish.configure.missing", "%1: no value on NS7 (%2). Set it on "
                                                                                 "NS7, then finish again.")
                                                    .arg(in.key, describe(in))};
            return {};
        }
        input.insert(in.key, v);
    }
    // The module's own rules, as NS8 will check them.
    if (!m_profile.configureSchema.isEmpty()) {
        const QString path = m_ctx->settings.profilesDir + QStringLiteral("/schemas/") + m_profile.configureSchema;
        QFile f(path);
        if (!f.open(QIODevice::ReadOnly)) {
            *problem = {Error::InvalidArgument, Text("finish.configure.no-schema", "configure: the schema %1 cannot be read: "
                                                                                   "the installation is incomplete.")
                                                    .arg(path)};
            return {};
        }
        const QList<SchemaProblem> problems = validateJson(input, QJsonDocument::fromJson(f.readAll()).object());
        if (!problems.isEmpty()) {
            const QString field = problems.first().path.isEmpty() ? QStringLiteral("configure") : problems.first().path;
            // What NS8 will say of the value (the schema's words), and where it comes from.
            *problem = {Error::InvalidArgument,
                        Text("finish.configure.invalid", "%1: %2").arg(field, problems.first().message)};
            for (const ConfigureInput &in : m_profile.configure)
                if (in.key == field && in.source != u"field")
                    *problem = {Error::InvalidArgument, Text("finish.configure.invalid-from", "%1: %2 (read from %3 on "
                                                                                              "NS7)")
                                                            .arg(field, problems.first().message, describe(in))};
            return {};
        }
    }
    return input;
}

bool Migration::setFinishPhase(FinishPhase phase, const QStringList &stopped)
{
    m_migration.finishPhase = phase;
    m_migration.stoppedServices = stopped;
    if (m_ctx->state->saveMigration(m_migration))
        return true;
    Log::error(QStringLiteral("%1: the Finish phase %2 (stopped: %3) could not be saved: %4")
                   .arg(m_profile.name)
                   .arg(int(phase))
                   .arg(stopped.join(QStringLiteral(", ")), m_ctx->state->lastError()));
    return false;
}

void Migration::recoverInterruptedFinish()
{
    // The helper stopped in the middle of a Finish: NS7 services it had
    // quiesced run again and the app can be finished again.  So do those a
    // failed Finish could not start again (it kept them in the record).
    if (m_record.status == AppStatus::Migrated)
        return;
    if (m_record.status == AppStatus::Finishing) {
        m_record.status = AppStatus::Migrating;
        m_ctx->state->saveApp(m_record);
    }
    if (m_migration.finishPhase == FinishPhase::Configuring) {
        // NS8 may come up with the app: starting NS7's services now could
        // make two PBXs.  Finish, run again, waits for NS8's answer.
        Log::warning(QStringLiteral("%1: the last Finish was interrupted while NS8 ran configure-module (%2): NS7's "
                                    "services %3 stay stopped until NS8's outcome is known. Run Finish again: it "
                                    "waits for that task, then completes the migration or starts them again.")
                         .arg(m_profile.name, m_migration.configureTask, m_migration.stoppedServices.join(QStringLiteral(", "))));
        return;
    }
    if (m_migration.finishPhase == FinishPhase::Stopped && !m_migration.stoppedServices.isEmpty()) {
        const QStringList units = m_migration.stoppedServices;
        Log::warning(QStringLiteral("%1: the last Finish was interrupted after stopping %2: starting them again")
                         .arg(m_profile.name, units.join(QStringLiteral(", "))));
        m_ctx->services->start(units, m_profile.recordServices, [this, units](const QString &error) {
            if (!error.isEmpty()) {
                Log::error(QStringLiteral("%1: could not start %2 again: %3. Set their status back (config setprop NAME status enabled), then signal-event runlevel-adjust; start those without a record with systemctl start.")
                               .arg(m_profile.name, units.join(u' '), error));
                return;
            }
            Log::info(QStringLiteral("%1: %2 running again; Finish can be retried").arg(m_profile.name, units.join(QStringLiteral(", "))));
            if (m_migration.finishPhase == FinishPhase::Stopped && !isBusy())
                setFinishPhase(FinishPhase::NothingStopped, {});
        });
    }
}

Failure Migration::finishRefusal(const QVariantMap &options, QVariantMap *values) const
{
    if (m_record.status == AppStatus::Migrated)
        return {kWrongState, Text("finish.migrated", "%1 has already been migrated.").arg(m_profile.name)};
    if (m_record.status != AppStatus::Migrating || m_migration.isEmpty())
        return {kWrongState, Text("finish.not-started", "Start the migration of %1 and sync it first.").arg(m_profile.name)};
    if (!m_ctx->cluster->isConnected())
        return {kWrongState, Text("finish.not-connected", "This server is not connected to the NS8 cluster.")};
    const QMap<QString, Text> problems = checkFields(m_profile, options, m_migration.settings, false, values);
    if (!problems.isEmpty())
        return fieldError(problems);
    // Every value configure-module will get, checked now (the database
    // probe is repeated before the stop; assume the optional ones are absent).
    Failure problem;
    configureInput(*values, {}, &problem);
    return problem;
}

void Migration::startFinish(sd_bus_message *call, quint32 uid, const QVariantMap &options)
{
    if (refuseUnlessIdle(call))
        return;
    QVariantMap values;
    const Failure refused = finishRefusal(options, &values);
    if (refused.isError()) {
        replyError(call, refused);
        return;
    }
    afterPreflight(call, Preflight::Phase::Finish, options, [this, uid, values](sd_bus_message *c) {
        if (m_record.status != AppStatus::Migrating)
            return void(replyError(c, {kWrongState, Text("finish.state-changed", "%1 is %2 now: Finish cannot start.")
                                                        .arg(m_profile.name, toString(m_record.status))}));
        Failure failure;
        Job *job = beginFinish(uid, values, &failure);
        if (!job)
            return void(replyError(c, failure));
        sd_bus_reply_method_return(c, "o", job->path().toUtf8().constData());
    });
}

Job *Migration::beginFinish(quint32 uid, const QVariantMap &values, Failure *error)
{
    auto run = std::make_shared<MigrationRun>();
    run->settings = values;
    run->node = m_migration.node;
    const bool resume = m_migration.finishPhase == FinishPhase::Configured;
    // Interrupted while NS8 ran configure-module: wait for that task (NS7's
    // writers are still stopped, as the earlier run left them).
    const bool awaiting = m_migration.finishPhase == FinishPhase::Configuring;
    if (awaiting) {
        run->stopped = m_migration.stoppedServices;
        run->resumedStop = true;
    }
    const QList<Operation::Step> steps = finishSteps(run);
    run->job = createJob(uid, QStringLiteral("finish"), Action::Migrate, Operation::jobSteps(steps), error);
    if (!run->job)
        return nullptr;
    run->job->setCancelable(false);
    run->client = apiClient();
    run->dumper = new DbDumper(m_profile, m_ctx->settings.root, workDir(), m_ctx->state,
                               run->job->logContext(), run->job);
    QStringList kv;
    for (auto it = values.constBegin(); it != values.constEnd(); ++it)
        kv.append(it.key() + u'=' + it.value().toString());
    Log::info(QStringLiteral("Finish migration of %1 into %2%3: %4")
                  .arg(m_profile.name, m_migration.moduleId,
                       resume     ? QStringLiteral(" (NS8 is configured already: completing the NS7 side)")
                       : awaiting ? QStringLiteral(" (waiting for the configure-module NS8 runs already)")
                                  : QString(),
                       kv.join(QStringLiteral(", "))),
              run->job->logContext());
    m_migration.settings = values;
    m_ctx->state->saveMigration(m_migration);
    changed({QStringLiteral("Settings")});
    setStatus(AppStatus::Finishing);
    run->op = new Operation(run->job, steps);
    run->op->aftermath = [this, run](const Failure &, const QList<Failure> &undoProblems) {
        return finishAftermath(run, undoProblems);
    };
    run->op->concluding = [this](const Failure &failure) {
        if (failure.isError())
            return setStatus(AppStatus::Migrating);
        setFinishPhase(FinishPhase::NothingStopped, {});
        forgetDumps();
        setStatus(AppStatus::Migrated);
        changed({QStringLiteral("DnsRecords")});
        Log::info(QStringLiteral("migration of %1 finished").arg(m_profile.name));
    };
    run->op->summary = [this, run] { return finishSummary(run); };
    // After a Finish that configured NS8, only the NS7 side is left.
    run->op->start(resume ? QStringLiteral("retire") : awaiting ? QStringLiteral("configure") : QString());
    return run->job;
}

// before_terminate's steps: each with the undo that puts back what it did
// when the import (or anything up to it) fails.
QList<Operation::Step> Migration::beforeTerminateSteps(const std::shared_ptr<MigrationRun> &run)
{
    using Next = Operation::Next;
    QList<Operation::Step> steps;
    if (m_profile.beforeTerminate.contains(QStringLiteral("remove_temporary_domain")))
        steps.append({QStringLiteral("user-domain"), Text("step.finish.user-domain", "Remove the temporary user domain"), 1,
                      [this, run](Next next) {
                          m_ctx->cluster->removeTemporaryDomain(run->client.get(), [run, next](const Failure &f) {
                              run->domainRemoved = !f.isError();
                              next(f);
                          });
                      },
                      [this, run](Next next) {
                          if (!run->domainRemoved)
                              return next({});
                          m_ctx->cluster->restoreTemporaryDomain(run->client.get(), [run, next](const Failure &f) {
                              run->domainRestored = !f.isError();
                              next(f);
                          });
                      }});
    return steps;
}

QList<Operation::Step> Migration::finishSteps(const std::shared_ptr<MigrationRun> &run)
{
    // Weights are rough seconds, so the estimate follows the clock.
    const double lastSync = m_syncs.isEmpty() ? 30.0 : qMax(1.0, double(m_syncs.last().duration) / 1e6);
    const double dumpSeconds = 2.0 + double(m_record.databaseBytes) / 20e6;
    using Next = Operation::Next;
    auto sync = [this, run](const QString &step, bool beforeStop) {
        return [this, run, step, beforeStop](Next next) { finishSync(run, step, beforeStop, next); };
    };
    QList<Operation::Step> steps = {
        {QStringLiteral("check"), Text("step.finish.check", "Check the final configuration"), 1,
         [this, run](Next next) { finishCheckLocal(run, next); }, {}, false},
        {QStringLiteral("Check the cluster"), 1, [this, run](Next next) { finishCheckCluster(run, next); }, {}, false},
        {QStringLiteral("presync"), Text("step.finish.presync", "Sync with the services running"), lastSync,
         sync(QStringLiteral("presync"), true), {}, false},
        // Its undo starts again what it stopped, for every failure up to configure.
        {QStringLiteral("stop"), Text("step.finish.stop", "Stop the NS7 services that write"), 2,
         [this, run](Next next) { finishStop(run, next); }, [this, run](Next next) { finishRestart(run, next); }, false},
        {QStringLiteral("sync"), Text("step.finish.sync", "Last sync"), lastSync, sync(QStringLiteral("sync"), false), {}, false},
        // The tables as the dump reads them, for the verification.
        {QStringLiteral("dump"), Text("step.finish.dump", "Dump the databases"), 1,
         [this, run](Next next) { finishChecksumTables(run, next); }, {}, false},
        {QStringLiteral("Dump the databases"), dumpSeconds, [this, run](Next next) { finishDump(run, next); }, {}, false},
        {QStringLiteral("upload"), Text("step.finish.upload", "Send the dumps to NS8"), 1 + dumpSeconds / 4,
         [this, run](Next next) { finishUpload(run, next); }, {}, false},
        // While the receiver still answers: after /terminate it is gone.
        {QStringLiteral("verify"), Text("step.finish.verify", "Verify what NS8 received"), lastSync,
         [this, run](Next next) { finishVerifyFiles(run, next); }, {}, false},
        {QStringLiteral("Compare the tables"), 1, [this, run](Next next) { finishVerifyTables(run, next); }, {}, false},
        {QStringLiteral("Compare the dump files"), 0.5,
         [this, run](Next next) { finishVerifyDumps(run, QStringLiteral("restore"), next); }, {}, false},
        {QStringLiteral("Compare the background dump files"), 0.5,
         [this, run](Next next) { finishVerifyDumps(run, QStringLiteral("restore_background"), next); }, {}, false},
        {QStringLiteral("Record the verification"), 0.1, [this, run](Next next) { finishVerified(run, next); }, {}, false},
    };
    steps += beforeTerminateSteps(run);
    steps += QList<Operation::Step>{
        {QStringLiteral("terminate"), Text("step.finish.terminate", "End the transfer"), 1,
         [this, run](Next next) { finishTerminate(run, next); }, {}, false},
        {QStringLiteral("import"), Text("step.finish.import", "NS8 restores the data"), 5,
         [this, run](Next next) { finishImport(run, next); }, {}, false},
        // From here on NS8 is the PBX: nothing is started again on NS7.
        // Its undo starts NS7's writers again when an earlier run stopped
        // them (a resumed run; otherwise the stop's undo does).
        {QStringLiteral("configure"), Text("step.finish.configure", "Configure the app on NS8"), 10,
         [this, run](Next next) { finishConfigure(run, next); },
         [this, run](Next next) { run->resumedStop ? finishRestart(run, next) : next({}); }, true},
        {QStringLiteral("retire"), Text("step.finish.retire", "Stop and disable the app on NS7"), 3,
         [this, run](Next next) { finishRetire(run, next); }, {}, false},
        {QStringLiteral("Disable the app on NS7"), 0.5, [this, run](Next next) { finishDisable(run, next); }, {}, false},
        {QStringLiteral("redirect"), Text("step.finish.redirect", "Redirect the old addresses"), 1,
         [this, run](Next next) { finishRedirect(run, next); }, {}, false},
    };
    return steps;
}

Texts Migration::finishAftermath(const std::shared_ptr<MigrationRun> &run, const QList<Failure> &undoProblems)
{
    if (m_migration.finishPhase == FinishPhase::Configured)
        return {Text("finish.complete-ns7", "Run Finish again to complete the NS7 side.")};
    const QStringList &stopped = run->stopped;
    Texts said;
    if (stopped.isEmpty()) {
        said.append(Text("finish.nothing-stopped", "Nothing was stopped on NS7: %1 runs as before.").arg(m_profile.name));
    } else if (undoProblems.isEmpty()) {
        said.append(Text("finish.restarted", "NS7: %1 were started again; %2 runs as before.")
                        .arg(stopped.join(QStringLiteral(", ")))
                        .arg(m_profile.name));
    } else {
        said.append(Text("finish.not-restarted", "NS7: %1 could NOT be started again: for each one set its status back (config setprop NAME status enabled), then run signal-event runlevel-adjust; start those without a record with systemctl start.")
                        .arg(stopped.join(QStringLiteral(", "))));
        for (const Failure &f : undoProblems)
            said += f.texts;
    }
    if (run->domainRestored)
        said.append(Text("finish.domain-restored", "The temporary user domain %1 was created again: NS8's apps sign "
                                                   "in this server's users as before.")
                        .arg(m_ctx->cluster->userDomain()));
    return said + Texts{Text("finish.ns8-not-configured", "NS8: %1 keeps the data of the last sync and is not configured "
                                                          "yet.")
                            .arg(m_migration.moduleId),
                        Text("finish.fix-and-retry", "Fix the cause and run Finish again.")};
}

Texts Migration::finishSummary(const std::shared_ptr<MigrationRun> &run) const
{
    Texts said{m_profile.redirectPage.isEmpty()
                   ? Text("finish.done-no-redirect", "%1 now runs on NS8 (%2). Its services on NS7 are stopped and "
                                                     "disabled.")
                         .arg(m_profile.name)
                         .arg(m_migration.moduleId)
                   : Text("finish.done", "%1 now runs on NS8 (%2). Its services on NS7 are stopped and disabled; the old "
                                   "addresses show a page with the new ones. Check %1 on NS8 and the notices below, "
                                   "then update the DNS.")
                   .arg(m_profile.name)
                   .arg(m_migration.moduleId)};
    said += run->waited;
    for (const CatalogApp &a : m_ctx->catalog.apps)
        if (m_profile.staysOnNs7.contains(a.id) && catalogAppStatus(*m_ctx, a) == u"unsupported")
            said.append(Text("finish.stays-on-ns7", "%1 stays on NS7: this version does not migrate it yet, so NS7 "
                                                    "must stay on for it.")
                            .arg(a.name));
    // An app whose files are all generated has nothing the verification compares.
    if (run->verified && (!m_profile.transfers.isEmpty() || m_profile.hasDumps()))
        said += verificationSummary(run);
    if (!run->warning.isEmpty())
        said.append(Text("finish.warning", "Warning: %1").arg(run->warning));
    return said;
}

// After a successful Finish: NS8 loaded the dumps and the verification is
// done, so the copies of the whole databases do not stay on NS7's disk.  (A
// failed Finish keeps them: its retry ships only what changed.)
void Migration::forgetDumps()
{
    QSet<QString> tables;
    for (const ChunkRecord &c : m_ctx->state->chunks(m_profile.id))
        tables.insert(c.database + u'\n' + c.table);
    for (const QString &t : std::as_const(tables))
        m_ctx->state->removeChunks(m_profile.id, t.section(u'\n', 0, 0), t.section(u'\n', 1));
    DbDumper::forget(workDir());
    Log::info(QStringLiteral("%1: the database dumps in %2 are removed: NS8 holds the data").arg(m_profile.name, workDir()));
}

void Migration::finishCheckLocal(const std::shared_ptr<MigrationRun> &run, const Operation::Next &next)
{
    run->dumper->check([this, run, next](const Failure &failure, const Texts &) {
        if (failure.isError())
            return next(failure.after(kCannotFinish));
        // Room for the dumps next to the state: the databases' size plus a margin.
        const QStorageInfo disk(workDir());
        const quint64 need = m_record.databaseBytes + m_record.databaseBytes / 5 + 64ull * 1024 * 1024;
        if (disk.isValid() && quint64(disk.bytesAvailable()) < need)
            return next(Failure::failed(Text("finish.local-disk", "Cannot finish: %1 has %2 free, the database dumps need "
                                                                  "about %3. Free some space on NS7.")
                                            .arg(disk.rootPath(), humanBytes(quint64(disk.bytesAvailable())), humanBytes(need))));
        // The input again, now that the databases are known.
        Failure problem;
        run->configure = configureInput(run->settings, run->dumper->databases(), &problem);
        if (problem.isError())
            return next(problem.after(kCannotFinish));
        run->configureChecked = true;
        next({});
    });
}

void Migration::finishCheckCluster(const std::shared_ptr<MigrationRun> &run, const Operation::Next &next)
{
    run->client->login([this, run, next](const ApiError &e) {
        if (e.isError())
            return next(e.asFailed().after(kCannotFinish));
        run->client->runTask(QStringLiteral("cluster"), QStringLiteral("get-cluster-status"), {}, [this, next](const TaskResult &st) {
            if (!st.ok())
                return next(st.failure(QStringLiteral("get-cluster-status")).after(kCannotFinish));
            rememberNodeAddress(st.output.toObject().value(QStringLiteral("nodes")).toArray());
            next({});
        });
    });
}

// The destination node's public address, for the DNS records shown at the end.
void Migration::rememberNodeAddress(const QJsonArray &nodes)
{
    for (const QJsonValue &v : nodes) {
        const QJsonObject n = v.toObject();
        if (quint32(n.value(QStringLiteral("id")).toInt()) != m_migration.node)
            continue;
        const QString host = hostOfEndpoint(n.value(QStringLiteral("vpn")).toObject().value(QStringLiteral("endpoint")).toString());
        const QString address = host.isEmpty() ? n.value(QStringLiteral("hostname")).toString() : host;
        if (!address.isEmpty()) {
            m_migration.nodeAddress = address;
            m_ctx->state->saveMigration(m_migration);
        }
    }
}

void Migration::finishSync(const std::shared_ptr<MigrationRun> &run, const QString &step, bool beforeStop,
                     const Operation::Next &next)
{
    // Before the stop: a sync with everything running (and the call history
    // checked whole), so that the one after the stop has only the last
    // minutes to carry.  After it: the files only, and of each tree with a
    // manifest only what changed since it (transfer/changeset.h); the dumps
    // take the rest.
    run->step = step;
    run->withHistory = beforeStop;
    run->verifyHistory = beforeStop;
    walkChangeSets(run, beforeStop, [this, run, next, beforeStop] {
        // The change lists stay for the verify step.
        runSync(run, [next, beforeStop](const Failure &failure) {
            if (!failure.isError())
                return next({});
            next(failure.after(beforeStop ? Text("finish.sync-before.failed", "The sync before the stop failed.")
                                          : Text("finish.sync-last.failed", "The last sync failed.")));
        });
    });
}

void Migration::walkChangeSets(const std::shared_ptr<MigrationRun> &run, bool record, const std::function<void()> &then)
{
    const LogContext log = run->job->logContext();
    const QString dir = workDir() + QStringLiteral("/changeset");
    QList<ChangeSetTree> trees = run->changeTrees;
    run->changeLists.clear();
    run->sampleLists.clear();
    for (ChangeSetTree &tree : trees)
        tree.sampleSize = kVerifySampleFiles;
    if (record) {
        trees.clear();
        run->changeTrees.clear();
        QDir(dir).removeRecursively();
        QDir().mkpath(dir);
        const QList<RsyncTransfer> plan = planTransfers(m_profile, m_ctx->settings.root, RsyncTarget{}, 0,
                                                        m_ctx->settings.stateDir + QStringLiteral("/stage"));
        int n = 0;
        for (const RsyncTransfer &t : plan) {
            ChangeSetTree tree;
            QString why;
            if (changeSetTree(t, dir, n++, &tree, &why))
                trees.append(tree);
            else
                Log::info(QStringLiteral("last sync of %1: the full pass (%2)").arg(t.id, why), log);
        }
    } else if (trees.isEmpty()) {
        Log::info(QStringLiteral("last sync: the full pass of every tree (no manifest from the sync before the stop)"), log);
    }
    if (trees.isEmpty())
        return then();
    if (record) {
        // Watched from the manifest's walk on: presync and whatever NS7
        // does until the stop (ChangeWatch reads the kernel's queue on the
        // event loop meanwhile).
        std::vector<std::string> tops;
        for (ChangeSetTree &tree : trees) {
            tree.watchIndex = int(tops.size());
            tops.push_back(tree.top.toStdString());
        }
        run->changeWatch = std::make_shared<ChangeWatch>(tops);
    } else if (run->changeWatch) {
        run->changeWatch->stopNotifier();
    }
    auto *walk = new ChangeSetWalk(record ? ChangeSetWalk::Mode::Record : ChangeSetWalk::Mode::Compare, trees,
                                   run->changeWatch, run->job);
    connect(walk, &QThread::finished, run->job, [this, run, walk, record, then] {
        walk->deleteLater();
        changeSetsWalked(run, record, walk->trees(), walk->results());
        then();
    });
    walk->start(QThread::LowPriority);
}

void Migration::changeSetsWalked(const std::shared_ptr<MigrationRun> &run, bool record, const QList<ChangeSetTree> &trees,
                                 const QList<ChangeSetResult> &results)
{
    const LogContext log = run->job ? run->job->logContext() : LogContext{};
    run->changeTrees.clear();
    for (int i = 0; i < results.size() && i < trees.size(); ++i) {
        const ChangeSetResult &r = results.at(i);
        if (!r.ok) {
            Log::warning(QStringLiteral("last sync of %1: the full pass, its change set cannot be trusted: %2").arg(r.id, r.error), log);
            continue;
        }
        if (record) {
            Log::info(QStringLiteral("manifest of %1: %2 entries in %3").arg(r.id).arg(r.entries).arg(humanDuration(r.durationMs)), log);
            run->changeTrees.append(trees.at(i));
            continue;
        }
        run->changeLists.insert(r.id, trees.at(i).list);
        if (r.sampled > 0)
            run->sampleLists.insert(r.id, trees.at(i).sample);
        const QString how = r.whole.isEmpty()
                                ? QStringLiteral("%1 of %2 directories read, the others unchanged since the manifest")
                                      .arg(r.dirsRead)
                                      .arg(r.dirsRead + r.dirsSkipped)
                                : QStringLiteral("the whole tree read: %1").arg(r.whole);
        Log::info(QStringLiteral("last sync of %1: the change set, %2 new or changed and %3 gone of %4 entries (walk %5; %6)")
                      .arg(r.id)
                      .arg(r.changed)
                      .arg(r.deleted)
                      .arg(r.entries)
                      .arg(humanDuration(r.durationMs), how),
                  log);
    }
    if (!record)
        run->changeWatch.reset(); // the last sync is the watch's last use
}

void Migration::finishStop(const std::shared_ptr<MigrationRun> &run, const Operation::Next &next)
{
    m_ctx->systemd->unitStates(m_profile.quiesceServices, [this, run, next](const QHash<QString, UnitState> &states,
                                                                                  const QString &error) {
        if (!run->job)
            return; // the helper is stopping: nothing was stopped
        if (!error.isEmpty())
            return next(Failure::failed(Text("finish.units.unreadable", "Cannot read the state of the NS7 services: %1")
                                            .arg(error)));
        QStringList running;
        for (const QString &u : m_profile.quiesceServices)
            if (states.value(Systemd::unitName(u)).isActive())
                running.append(Systemd::unitName(u));
        // Units an interrupted Finish stopped and could not start again are
        // still ours to start after this one.
        if (m_migration.finishPhase == FinishPhase::Stopped)
            for (const QString &u : std::as_const(m_migration.stoppedServices))
                if (!running.contains(u))
                    running.append(u);
        // Recorded before the stop: a crash in between still starts them
        // again.  A record that cannot be written stops nothing.
        if (!setFinishPhase(FinishPhase::Stopped, running))
            return next(Failure::failed(Text("finish.stop.not-saved", "Nothing was stopped: the helper's state database "
                                                                      "cannot be written (%1), and a stop it cannot "
                                                                      "record could not be undone after a crash. Free "
                                                                      "space under the state directory, then run Finish "
                                                                      "again.")
                                            .arg(m_ctx->state->lastError())));
        run->stopped = running;
        run->firstStopMs = QDateTime::currentMSecsSinceEpoch();
        Log::info(running.isEmpty() ? QStringLiteral("no service to stop: none of %1 runs").arg(m_profile.quiesceServices.join(QStringLiteral(", ")))
                                    : QStringLiteral("downtime starts: stopping %1").arg(running.join(QStringLiteral(", "))),
                  run->job->logContext());
        m_ctx->services->stop(running, m_profile.recordServices, [next](const QString &err) {
            next(err.isEmpty() ? Failure{}
                               : Failure::failed(Text("finish.stop.failed", "Stopping the NS7 services failed: %1.").arg(err)));
        });
    });
}

// The undo of the stop: before configure-module succeeded NS7 is still the
// PBX, so whatever was quiesced runs again and Finish can be retried.
void Migration::finishRestart(const std::shared_ptr<MigrationRun> &run, const Operation::Next &next)
{
    const QStringList stopped = run->stopped;
    if (stopped.isEmpty()) {
        setFinishPhase(FinishPhase::NothingStopped, {});
        return next({});
    }
    Log::warning(QStringLiteral("Finish failed after the stop: starting %1 again").arg(stopped.join(QStringLiteral(", "))),
                 run->job ? run->job->logContext() : LogContext{});
    m_ctx->services->start(stopped, m_profile.recordServices, [this, next](const QString &error) {
        // Failed: the record keeps them, for Abort, the next Finish and the
        // next start of the helper.
        if (!error.isEmpty())
            return next(Failure::failed(Text("finish.restart.failed", "Starting the NS7 services again failed: %1.")
                                            .arg(error)));
        setFinishPhase(FinishPhase::NothingStopped, {});
        next({});
    });
}

void Migration::finishDump(const std::shared_ptr<MigrationRun> &run, const Operation::Next &next)
{
    QPointer<Operation> op = run->op;
    connect(run->dumper, &DbDumper::progress, run->job, [op](double f) {
        if (op)
            op->setProgress(f);
    });
    run->dumper->dumpAll([run, next](const Failure &failure, const Texts &said) {
        if (!failure.isError() && run->job)
            Log::info(english(said), run->job->logContext());
        next(failure);
    });
}

void Migration::finishUpload(const std::shared_ptr<MigrationRun> &run, const Operation::Next &next)
{
    if (!m_profile.hasDumps())
        return next({});
    run->step = QStringLiteral("upload");
    uploadDumps(run, {QStringLiteral("restore"), QStringLiteral("restore_background")},
                [next](const Failure &failure, quint64) { next(failure); });
}

// ARGVFOR's command against the module's receiver, through the tunnel only,
// the rsync password in its environment only; DONE gets what it did.
void Migration::runOnReceiver(const std::shared_ptr<MigrationRun> &run,
                              const std::function<QStringList(const RsyncTarget &)> &argvFor, const Operation::Next &next,
                              std::function<void(const ProcessResult &)> done)
{
    RsyncTarget target;
    if (!rsyncTarget(&target))
        return next(missingCredentials());
    if (const Failure outside = m_ctx->throughTunnel({target.host}); outside.isError())
        return next(outside);
    const QStringList argv = argvFor(target);
    const QStringList env = {QStringLiteral("RSYNC_PASSWORD=") + target.password};
    target.password.fill(u'\0');
    runProcess(run->job, argv, std::move(done), env, (kRsyncConnectTimeoutSeconds + kRsyncTimeoutSeconds) * 1000);
}

void Migration::finishTerminate(const std::shared_ptr<MigrationRun> &run, const Operation::Next &next)
{
    // Reading /terminate ends the transfer phase: the module's import task
    // then restores the dumps (PROTOCOL.md §3).
    const auto argvFor = [](const RsyncTarget &target) {
        const QString host = target.host.contains(u':') ? u'[' + target.host + u']' : target.host;
        return commands::rsyncRead(QStringLiteral("rsync://%1@%2:%3/terminate").arg(target.user, host).arg(target.port),
                                   kRsyncTimeoutSeconds, kRsyncConnectTimeoutSeconds);
    };
    runOnReceiver(run, argvFor, next, [this, run, next](const ProcessResult &r) {
        if (!r.ok())
            return next(Failure::failed(Text("finish.terminate.failed", "Ending the transfer (/terminate) failed: %1")
                                            .arg(QString::fromUtf8(r.err).trimmed().right(300))));
        if (run->job)
            Log::info(QStringLiteral("transfer phase ended; waiting for NS8 to restore %1").arg(m_migration.moduleId), run->job->logContext());
        next({});
    });
}

void Migration::finishImport(const std::shared_ptr<MigrationRun> &run, const Operation::Next &next)
{
    run->client->login([this, run, next](const ApiError &e) {
        if (e.isError())
            return next(e.asFailed().after(Text("finish.import.unreachable", "NS8 cannot be reached to follow the import.")));
        awaitTask(run, m_migration.importTask, QStringLiteral("import-module"), false, [next](const TaskResult &t) {
            next(t.ok() ? Failure{}
                        : t.failure(QStringLiteral("import-module"))
                              .asFailed()
                              .after(Text("finish.import.failed", "NS8 could not restore the data.")));
        });
    });
}

void Migration::finishConfigure(const std::shared_ptr<MigrationRun> &run, const Operation::Next &next)
{
    // A Finish resumed after a restart in the middle of configure-module
    // waits for that task: it is not submitted twice.
    if (m_migration.finishPhase == FinishPhase::Configuring && !m_migration.configureTask.isEmpty()) {
        Log::info(QStringLiteral("waiting for the configure-module NS8 runs already (%1)").arg(m_migration.configureTask),
                  run->job->logContext());
        return run->client->login([this, run, next](const ApiError &) {
            awaitTask(run, m_migration.configureTask, m_profile.configureAction, true,
                      [this, run, next](const TaskResult &r) { configureEnded(run, r, next); });
        });
    }
    if (m_profile.configureAction.isEmpty()) {
        // Nothing to configure (an account provider): the import was the cutover.
        run->stopped.clear();
        setFinishPhase(FinishPhase::Configured, {});
        return next({});
    }
    if (!run->configureChecked) {
        // Resumed where an interrupted run had recorded configure-module but
        // not its task: the input is built and checked again first.
        return finishCheckLocal(run, [this, run, next](const Failure &failure) {
            if (failure.isError())
                return next(failure);
            finishConfigure(run, next);
        });
    }
    const QJsonObject input = run->configure; // built and checked before the stop
    // Recorded before the submission: once it may have reached NS8, a crash
    // must not start NS7's services again (a retry submits it again when
    // its task is not known).
    m_migration.configureTask.clear();
    if (!setFinishPhase(FinishPhase::Configuring, run->stopped))
        return next(Failure::failed(Text("finish.configure.not-saved", "configure-module was not submitted: the helper's "
                                                                       "state database cannot be written (%1).")
                                        .arg(m_ctx->state->lastError())));
    Log::info(QStringLiteral("configure-module of %1 submitted (downtime so far %2)")
                  .arg(m_migration.moduleId, humanDuration(QDateTime::currentMSecsSinceEpoch() - run->firstStopMs)),
              run->job->logContext());
    run->client->submitTask(QStringLiteral("module/") + m_migration.moduleId, m_profile.configureAction, input,
                            [this, run, next](const QString &taskPath, const ApiError &e) {
        if (e.isError()) { // not submitted: NS7 is still the PBX
            setFinishPhase(FinishPhase::Stopped, run->stopped);
            return next(e.asFailed().after(Text("finish.configure.refused", "NS8 refused the configuration.")));
        }
        // Recorded before the wait: from now on only NS8's answer decides
        // whether NS7's services start again, after a crash too.
        m_migration.configureTask = taskPath;
        setFinishPhase(FinishPhase::Configuring, run->stopped);
        awaitTask(run, taskPath, m_profile.configureAction, true,
                  [this, run, next](const TaskResult &r) { configureEnded(run, r, next); });
    });
}

void Migration::configureEnded(const std::shared_ptr<MigrationRun> &run, const TaskResult &r, const Operation::Next &next)
{
    if (!r.ok()) { // NS8 answered no: NS7 is still the PBX (the stop's undo starts it again)
        // Back to "stopped": should the start fail, the record keeps what to
        // start for Abort, the next Finish and the next start of the helper.
        setFinishPhase(FinishPhase::Stopped, run->stopped);
        return next(r.failure(m_profile.configureAction)
                        .asFailed()
                        .after(Text("finish.configure.refused", "NS8 refused the configuration.")));
    }
    // From here on NS8 is the PBX.
    run->stopped.clear();
    setFinishPhase(FinishPhase::Configured, {});
    if (run->job)
        Log::info(QStringLiteral("%1 configured on NS8: it is in charge now").arg(m_migration.moduleId), run->job->logContext());
    next({});
}

void Migration::awaitTask(const std::shared_ptr<MigrationRun> &run, const QString &taskPath, const QString &action,
                          bool untilAnswered, std::function<void(const TaskResult &)> done, int round)
{
    run->client->waitTask(taskPath, [this, run, taskPath, action, untilAnswered, done, round](const TaskResult &r) {
        if (!run->job)
            return;
        // Known: it ended (well or not), or it could not be followed and the
        // caller may give up on it.
        if (!r.stillRunning && (r.exitCode >= 0 || !untilAnswered))
            return done(r);
        if (round == 0) {
            const Text said = r.stillRunning
                                  ? Text("finish.task.still-running", "NS8's %1 (%2) still runs after the task timeout: "
                                                                      "NS7's services stay stopped and Finish waits for "
                                                                      "NS8's answer.")
                                        .arg(action, taskPath)
                                  : Text("finish.task.unknown", "The outcome of NS8's %1 (%2) cannot be read (%3): NS7's "
                                                                "services stay stopped, since NS8 may still come up, and "
                                                                "Finish asks again until NS8 answers.")
                                        .arg(action, taskPath, english(r.error.texts));
            Log::warning(said.english(), run->job->logContext());
            run->waited.append(said);
        }
        if (r.stillRunning) // waitTask polls on for another task timeout
            return awaitTask(run, taskPath, action, untilAnswered, done, round + 1);
        awaitAgain(run, taskPath, action, untilAnswered, done, round + 1);
    });
}

void Migration::awaitAgain(const std::shared_ptr<MigrationRun> &run, const QString &taskPath, const QString &action,
                           bool untilAnswered, std::function<void(const TaskResult &)> done, int round)
{
    // After a read error: again in a while, with a fresh login (the token
    // may have expired).
    QTimer::singleShot(5000, run->job, [this, run, taskPath, action, untilAnswered, done, round] {
        run->client->login([this, run, taskPath, action, untilAnswered, done, round](const ApiError &) {
            if (run->job)
                awaitTask(run, taskPath, action, untilAnswered, done, round);
        });
    });
}

namespace {

// NS8 is configured: a failure on the NS7 side starts nothing again there.
Failure retireFailed(const QString &app, const Text &what)
{
    return {Error::Failed, Texts{Text("finish.retire.failed", "%1 runs on NS8 now, but").arg(app), what}};
}

} // namespace

void Migration::finishRetire(const std::shared_ptr<MigrationRun> &run, const Operation::Next &next)
{
    const QStringList units = m_profile.retireServices;
    m_ctx->systemd->unitStates(units, [this, run, units, next](const QHash<QString, UnitState> &states, const QString &error) {
        if (!error.isEmpty())
            return next(retireFailed(m_profile.name, Text("finish.retire.unreadable", "the state of its NS7 services "
                                                                                 "cannot be read (%1).")
                                                            .arg(error)));
        QStringList running;
        run->present.clear();
        for (const QString &u : units) {
            const UnitState s = states.value(Systemd::unitName(u));
            if (s.loadState == u"not-found")
                continue;
            run->present.append(Systemd::unitName(u));
            if (s.isActive())
                running.append(Systemd::unitName(u));
        }
        if (run->job)
            Log::info(QStringLiteral("stopping %1 and disabling %2 on NS7").arg(running.join(QStringLiteral(", ")), run->present.join(QStringLiteral(", "))),
                      run->job->logContext());
        m_ctx->services->retire(run->present, running, m_profile.recordServices, [this, next](const QString &err) {
            next(err.isEmpty() ? Failure{} : retireFailed(m_profile.name, Text("finish.retire.stop", "stopping it on NS7 failed (%1).").arg(err)));
        });
    });
}

void Migration::finishDisable(const std::shared_ptr<MigrationRun> &run, const Operation::Next &next)
{
    m_ctx->systemd->disable(run->present, [this, next](const QString &e) {
        next(e.isEmpty() ? Failure{} : retireFailed(m_profile.name, Text("finish.retire.disable", "disabling it on NS7 failed (%1).").arg(e)));
    });
}

void Migration::finishRedirect(const std::shared_ptr<MigrationRun> &run, const Operation::Next &next)
{
    // A page that cannot be written is a warning: NS8 runs, NS7 is retired.
    if (!writeRedirect(run->settings, &run->warning)) {
        Log::warning(run->warning, run->job->logContext());
        return next({});
    }
    if (m_profile.redirectPage.isEmpty() || m_profile.redirectPaths.isEmpty())
        return next({});
    // NS7's web server configuration is templated: the redirect is a record
    // that the package's 00ns8migration.conf template turns into Alias and
    // RedirectMatch lines, at this expansion and at every later one.
    const QString url = QStringLiteral("/") + QFileInfo(m_profile.redirectPage).path().section(u'/', -1) + u'/'
                        + QFileInfo(m_profile.redirectPage).fileName();
    const QStringList props = {QStringLiteral("Page"), m_profile.redirectPage, QStringLiteral("Url"), url,
                               QStringLiteral("Paths"), m_profile.redirectPaths.join(u',')};
    m_ctx->esmith->setRecord(QStringLiteral("ns8-migration-redirect-") + m_profile.id, QStringLiteral("ns8-redirect"), props,
                             [this, run, next](const Texts &failure) {
                                 if (!failure.isEmpty())
                                     return redirectWarning(run, english(failure), next);
                                 expandRedirect(run, next);
                             });
}

void Migration::expandRedirect(const std::shared_ptr<MigrationRun> &run, const Operation::Next &next)
{
    m_ctx->esmith->expandTemplate(QStringLiteral("/etc/httpd/conf.d/00ns8migration.conf"), [this, run, next](const Texts &failure) {
        if (!failure.isEmpty())
            return redirectWarning(run, english(failure), next);
        Log::info(QStringLiteral("redirect page %1 written; the web server's 00ns8migration.conf redirects %2")
                      .arg(m_profile.redirectPage, m_profile.redirectPaths.join(QStringLiteral(", "))),
                  run->job->logContext());
        reloadWebServer(run, next);
    });
}

void Migration::reloadWebServer(const std::shared_ptr<MigrationRun> &run, const Operation::Next &next)
{
    m_ctx->systemd->unitStates({QStringLiteral("httpd")}, [this, run, next](const QHash<QString, UnitState> &s, const QString &) {
        if (!s.value(QStringLiteral("httpd.service")).isActive())
            return next({});
        m_ctx->systemd->runJob("ReloadUnit", QStringLiteral("httpd"), [run, next](const QString &reloadError) {
            if (!reloadError.isEmpty())
                run->warning = QStringLiteral("the web server could not reload the redirect (%1).").arg(reloadError);
            next({});
        });
    });
}

void Migration::redirectWarning(const std::shared_ptr<MigrationRun> &run, const QString &why, const Operation::Next &next)
{
    run->warning = QStringLiteral("the web server does not redirect the old addresses (%1).").arg(why);
    Log::warning(run->warning, run->job->logContext());
    next({});
}

bool Migration::writeRedirect(const QVariantMap &settings, QString *warning) const
{
    if (m_profile.redirectPage.isEmpty())
        return true;
    QStringList links;
    for (const Field &f : m_profile.fields) {
        if (f.kind != Field::Kind::Fqdn || f.planning || settings.value(f.id).toString().isEmpty())
            continue;
        const QString host = settings.value(f.id).toString().toHtmlEscaped();
        links.append(QStringLiteral("      <li>%1: <a href=\"https://%2/\">https://%2/</a></li>").arg(f.title.toHtmlEscaped(), host));
    }
    const QString page = QStringLiteral(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n  <meta charset=\"utf-8\">\n"
        "  <title>%1 has moved</title>\n</head>\n<body>\n  <h1>%1 has moved to NethServer 8</h1>\n"
        "  <p>%1 now runs on a new server. Use these addresses and update your bookmarks:</p>\n  <ul>\n%2\n  </ul>\n"
        "  <p lang=\"it\">%1 è stato spostato su NethServer 8: usa gli indirizzi qui sopra.</p>\n</body>\n</html>\n")
                             .arg(m_profile.name.toHtmlEscaped(), links.join(u'\n'));
    const QString pagePath = m_ctx->pathUnderRoot(m_profile.redirectPage);
    QDir().mkpath(QFileInfo(pagePath).path());
    QSaveFile pf(pagePath);
    if (!pf.open(QIODevice::WriteOnly) || pf.write(page.toUtf8()) < 0 || !pf.commit()) {
        *warning = QStringLiteral("the redirect page %1 could not be written (%2).").arg(m_profile.redirectPage, pf.errorString());
        return false;
    }
    QFile::setPermissions(pagePath, QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ReadGroup | QFileDevice::ReadOther);
    return true;
}

} // namespace ns8m
