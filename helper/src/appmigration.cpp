// App.Start, App.Sync, App.Abort, App.Skip and App.CheckOptions: moving
// one app to NS8 ("Passaggio 3" of the NethVoice guide, phases 1 and 2).
#include "app.h"
#include "appmigration_p.h"

#include "cluster.h"
#include "daemon.h"
#include "dbdump.h"
#include "fields.h"
#include "job.h"
#include "log.h"
#include "ns8client.h"
#include "preflight.h"
#include "secrets.h"

#include <QFile>
#include <QJsonArray>

namespace ns8m {

namespace {

const QString kWrongState = QString::fromLatin1(Error::WrongState);
const QString kFailed = QString::fromLatin1(Error::Failed);

// NS8 disk space asked beyond what Scan measured: the databases are dumped
// there too, and a full disk in the middle of a sync helps nobody.
quint64 neededBytes(quint64 measured)
{
    return measured + measured / 5 + 512ull * 1024 * 1024;
}


} // namespace

ClientPtr App::apiClient() const
{
    // The cluster's API through the tunnel, as the migration account.
    ClientPtr client(m_daemon->cluster()->vpnClient(nullptr));
    client->setTaskTimeout(m_daemon->settings().taskTimeoutSeconds * 1000);
    return client;
}

QString App::secretPath() const
{
    return m_daemon->settings().stateDir + QStringLiteral("/secrets/") + m_profile.id + QStringLiteral(".rsync");
}

bool App::isBusy() const
{
    return m_job && !m_job->isFinished();
}

bool App::refuseUnlessIdle(sd_bus_message *call)
{
    if (!isBusy())
        return false;
    replyError(call, {QString::fromLatin1(Error::Busy),
                      QStringLiteral("%1 is busy with another job (%2, %3). Wait for it to end or cancel it, "
                                     "then try again.")
                          .arg(m_profile.name, m_job->operation(), m_job->path())});
    return true;
}

void App::setStatus(const QString &status)
{
    if (m_record.status == status)
        return;
    Log::info(QStringLiteral("%1: status %2 → %3").arg(m_profile.name, m_record.status, status));
    m_record.status = status;
    m_daemon->state()->saveApp(m_record);
    changed({QStringLiteral("Status")});
}

QList<OptionSpec> App::startOptions() const
{
    return fieldOptionSpecs(m_profile, {{"node", 'u'}, {"accept_warnings", 'b'}});
}

Job *App::newJob(sd_bus_message *call, quint32 uid, const QString &operation, const char *cancelAction,
                 QList<JobStep> steps)
{
    Job::Params params;
    params.operation = operation;
    params.objectPath = path();
    params.objectId = m_profile.id;
    params.startedByUid = uid;
    params.cancelAction = cancelAction;
    params.steps = std::move(steps);
    QString error;
    Job *job = m_daemon->createJob(params, &error);
    if (!job) {
        replyError(call, {kFailed, QStringLiteral("The %1 could not start: %2.").arg(operation, error)});
        return nullptr;
    }
    setJob(job);
    sd_bus_reply_method_return(call, "o", job->path().toUtf8().constData());
    return job;
}

void App::checkOptions(sd_bus_message *call, const QString &method, const QVariantMap &options)
{
    if (method != u"Start" && method != u"Finish") {
        replyError(call, {QString::fromLatin1(Error::InvalidArgument),
                          QStringLiteral("method: CheckOptions checks the options of \"Start\" or \"Finish\".")});
        return;
    }
    const QMap<QString, QString> problems = checkFields(m_profile, options, m_migration.settings, true, nullptr);
    sd_bus_message *reply = nullptr;
    int r = sd_bus_message_new_method_return(call, &reply);
    if (r >= 0)
        r = sd_bus_message_open_container(reply, 'a', "{ss}");
    for (auto it = problems.constBegin(); r >= 0 && it != problems.constEnd(); ++it)
        r = sd_bus_message_append(reply, "{ss}", it.key().toUtf8().constData(), it.value().toUtf8().constData());
    if (r >= 0)
        r = sd_bus_message_close_container(reply);
    if (r >= 0)
        sd_bus_send(nullptr, reply, nullptr);
    sd_bus_message_unref(reply);
}

void App::skip(sd_bus_message *call, bool skipIt)
{
    const QString s = m_record.status;
    if (skipIt && s != u"not_migrated" && s != u"failed" && s != u"skipped") {
        replyError(call, {kWrongState, QStringLiteral("%1 is %2: only an app whose migration has not started can "
                                                      "be skipped. Abort the migration first.")
                                           .arg(m_profile.name, s)});
        return;
    }
    if (!skipIt && s != u"skipped" && s != u"not_migrated") {
        replyError(call, {kWrongState, QStringLiteral("%1 is %2, not skipped.").arg(m_profile.name, s)});
        return;
    }
    setStatus(skipIt ? QStringLiteral("skipped") : QStringLiteral("not_migrated"));
    sd_bus_reply_method_return(call, "");
}

void App::startMigration(sd_bus_message *call, quint32 uid, const QVariantMap &options)
{
    if (refuseUnlessIdle(call))
        return;
    Cluster *cluster = m_daemon->cluster();
    if (!cluster->isConnected()) {
        replyError(call, {kWrongState, QStringLiteral("Connect this server to the NS8 cluster first (Passaggio 2).")});
        return;
    }
    const QString s = m_record.status;
    if (s != u"not_migrated" && s != u"failed") {
        replyError(call, {kWrongState,
                          s == u"skipped" ? QStringLiteral("%1 is marked as not to be migrated: unmark it first.").arg(m_profile.name)
                                          : QStringLiteral("The migration of %1 has already started (%2): use Sync "
                                                           "or Finish, or Abort to start over.")
                                                .arg(m_profile.name, s)});
        return;
    }
    if (!m_migration.isEmpty()) {
        replyError(call, {kWrongState, QStringLiteral("%1 still has a module on NS8 (%2) from an earlier attempt: "
                                                      "Abort first to remove it, then start again.")
                                           .arg(m_profile.name, m_migration.moduleId)});
        return;
    }
    QVariantMap values;
    const QMap<QString, QString> problems = checkFields(m_profile, options, {}, false, &values);
    if (!problems.isEmpty()) {
        replyError(call, fieldError(problems));
        return;
    }
    if (m_record.scanTime == 0) {
        replyError(call, {kWrongState, QStringLiteral("Scan %1 first: the migration needs its size to check the "
                                                      "destination node's disk.")
                                           .arg(m_profile.name)});
        return;
    }
    // The guide's prerequisites (Preflight): a blocker, or a warning not
    // accepted, refuses Start before anything is created.
    afterPreflight(call, Preflight::Phase::Start, options, [this, uid, options, values](sd_bus_message *c) {
        beginMigration(c, uid, options, values);
    });
}

void App::afterPreflight(sd_bus_message *call, Preflight::Phase phase, const QVariantMap &options,
                         std::function<void(sd_bus_message *)> go)
{
    const PendingCall pending(call);
    QPointer<App> self(this);
    Cluster *cluster = m_daemon->cluster();
    if (cluster->isRestoringTunnel()) {
        // Just restarted: the checks wait for the tunnel to be back.
        auto *wait = new QObject(this);
        connect(cluster, &Cluster::tunnelSettled, wait, [self, wait, pending, phase, options, go] {
            wait->deleteLater();
            if (self)
                self->afterPreflight(pending.msg(), phase, options, go);
        });
        return;
    }
    Preflight::gate(m_daemon, phase, m_profile.id, options, [self, pending, go](std::optional<BusError> refused) {
        if (!self)
            return;
        if (refused)
            return void(replyError(pending.msg(), *refused));
        // Another call may have started a job while the checks ran.
        if (self->refuseUnlessIdle(pending.msg()))
            return;
        go(pending.msg());
    });
}

void App::beginMigration(sd_bus_message *call, quint32 uid, const QVariantMap &options, const QVariantMap &values)
{
    auto run = std::make_shared<MigrationRun>();
    run->settings = values;
    run->node = quint32(options.value(QStringLiteral("node"), 0).toULongLong());
    QList<JobStep> steps = {
        {QStringLiteral("check"), QStringLiteral("Check the destination"), 1, 0},
        {QStringLiteral("proxy"), QStringLiteral("NethVoice Proxy"), 1, 0},
        {QStringLiteral("import"), QStringLiteral("Create the app on NS8"), 1, 0},
    };
    steps += syncSteps();
    run->job = newJob(call, uid, QStringLiteral("start"), Action::Migrate, steps);
    if (!run->job)
        return;
    run->job->setCancelable(false);
    run->client = apiClient();
    Log::info(QStringLiteral("Start migration of %1: %2").arg(m_profile.name, [&] {
                  QStringList kv;
                  for (auto it = values.constBegin(); it != values.constEnd(); ++it)
                      kv.append(it.key() + u'=' + it.value().toString());
                  return kv.join(QStringLiteral(", "));
              }()),
              run->job->logContext());
    setStatus(QStringLiteral("migrating"));
    runChecks(run);
}

void App::endRun(const std::shared_ptr<MigrationRun> &run, bool ok, const QString &message, const QString &errorName)
{
    if (!run->job)
        return;
    if (!ok && !errorName.isEmpty())
        run->job->setErrorName(errorName);
    run->job->finish(ok ? Job::Outcome::Succeeded
                     : run->job->cancelRequested() ? Job::Outcome::Canceled
                                                   : Job::Outcome::Failed,
                     message);
}

void App::runChecks(const std::shared_ptr<MigrationRun> &run)
{
    run->job->beginStep(QStringLiteral("check"));
    auto fail = [this, run](const QString &message) {
        // Nothing exists on NS8 yet: the app is as before.
        setStatus(QStringLiteral("not_migrated"));
        endRun(run, false, message + QStringLiteral(" Nothing was created on NS8."));
    };
    run->client->login([this, run, fail](const ApiError &e) {
        if (e.isError())
            return fail(e.message);
        run->client->runTask(QStringLiteral("cluster"), QStringLiteral("get-cluster-status"), {}, [this, run, fail](const TaskResult &st) {
            if (!st.ok())
                return fail(st.failureText(QStringLiteral("get-cluster-status")));
            const quint32 self = m_daemon->cluster()->nodeId();
            quint32 leader = 0;
            QList<quint32> nodes;
            for (const QJsonValue &v : st.output.toObject().value(QStringLiteral("nodes")).toArray()) {
                const QJsonObject n = v.toObject();
                const quint32 id = quint32(n.value(QStringLiteral("id")).toInt());
                if (id == self)
                    continue;
                nodes.append(id);
                if (n.value(QStringLiteral("local")).toBool())
                    leader = id;
            }
            if (run->node == 0)
                run->node = leader ? leader : (nodes.isEmpty() ? 0 : nodes.first());
            if (!nodes.contains(run->node))
                return fail(QStringLiteral("node: the NS8 cluster has no node %1 to install %2 on.")
                                .arg(run->node)
                                .arg(m_profile.name));
            run->job->setStepProgress(QStringLiteral("check"), 0.3);
            run->client->runTask(QStringLiteral("node/%1").arg(run->node), QStringLiteral("get-node-status"), {},
                                 [this, run, fail](const TaskResult &ns) {
                if (!ns.ok())
                    return fail(ns.failureText(QStringLiteral("get-node-status")));
                quint64 free = 0;
                for (const QJsonValue &d : ns.output.toObject().value(QStringLiteral("disks")).toArray())
                    free = qMax(free, quint64(d.toObject().value(QStringLiteral("free")).toDouble()));
                const quint64 need = neededBytes(m_record.sourceBytes + m_record.databaseBytes);
                if (free < need)
                    return fail(QStringLiteral("node: node %1 has %2 free, %3 needs about %4 (data %5 plus "
                                               "margin). Free space on that node or choose another one.")
                                    .arg(run->node)
                                    .arg(humanBytes(free), m_profile.name, humanBytes(need),
                                         humanBytes(m_record.sourceBytes + m_record.databaseBytes)));
                run->job->setStepProgress(QStringLiteral("check"), 0.6);
                // list-modules takes no input: its schema wants null.
                run->client->runTaskWithoutInput(QStringLiteral("cluster"), QStringLiteral("list-modules"),
                                     [this, run, fail](const TaskResult &lm) {
                    if (!lm.ok())
                        return fail(lm.failureText(QStringLiteral("list-modules")));
                    run->modules = lm.output.toArray();
                    runProxy(run);
                });
            });
        });
    });
}

void App::runProxy(const std::shared_ptr<MigrationRun> &run)
{
    run->job->beginStep(QStringLiteral("proxy"));
    if (m_profile.companions.isEmpty())
        return runImport(run);
    // One companion per profile today (nethvoice-proxy).
    const QString image = m_profile.companions.first().first;
    const QString notice = m_profile.companions.first().second;
    const ModulePlacement placed = modulePlacement(run->modules, image, run->node);
    const bool installed = !placed.installedAs.isEmpty(), installable = placed.installable;
    if (installed || !installable) {
        Log::info(QStringLiteral("%1 %2 on node %3").arg(image, installed ? QStringLiteral("is already installed")
                                                                           : QStringLiteral("cannot be installed"))
                      .arg(run->node),
                  run->job->logContext());
        return runImport(run);
    }
    Log::info(QStringLiteral("installing %1 on node %2").arg(image).arg(run->node), run->job->logContext());
    run->client->runTask(QStringLiteral("cluster"), QStringLiteral("add-module"),
                         {{QStringLiteral("image"), image}, {QStringLiteral("node"), int(run->node)}},
                         [this, run, image, notice](const TaskResult &r) {
        if (!r.ok()) {
            setStatus(QStringLiteral("not_migrated"));
            return endRun(run, false, QStringLiteral("Installing %1 failed: %2 Nothing else was created on NS8.")
                                          .arg(image, r.failureText(QStringLiteral("add-module"))));
        }
        const QString id = r.output.toObject().value(QStringLiteral("module_id")).toString();
        run->notices.append(notice.isEmpty() ? QStringLiteral("%1 was installed on node %2.").arg(image).arg(run->node)
                                             : QStringLiteral("%1 (%2 on node %3)").arg(notice, id).arg(run->node));
        Log::info(QStringLiteral("%1 installed as %2: it must be configured by hand").arg(image, id), run->job->logContext());
        runImport(run);
    });
}

void App::runImport(const std::shared_ptr<MigrationRun> &run)
{
    run->job->beginStep(QStringLiteral("import"));
    QJsonArray volumes;
    for (const QString &v : m_profile.volumes)
        volumes.append(v);
    run->client->runTask(QStringLiteral("cluster"), QStringLiteral("import-module"),
                         {{QStringLiteral("image"), m_profile.image}, {QStringLiteral("node"), int(run->node)},
                          {QStringLiteral("volumes"), volumes}},
                         [this, run](const TaskResult &r) {
        const QJsonObject out = r.output.toObject();
        const QJsonArray cred = out.value(QStringLiteral("credentials")).toArray();
        if (!r.ok() || cred.size() != 2 || out.value(QStringLiteral("module_id")).toString().isEmpty()) {
            setStatus(QStringLiteral("not_migrated"));
            return endRun(run, false, QStringLiteral("Creating %1 on NS8 failed: %2")
                                          .arg(m_profile.name, r.ok() ? QStringLiteral("import-module answered without "
                                                                                       "credentials.")
                                                                      : r.failureText(QStringLiteral("import-module"))));
        }
        MigrationRecord m;
        m.app = m_profile.id;
        m.node = run->node;
        m.moduleId = out.value(QStringLiteral("module_id")).toString();
        m.address = out.value(QStringLiteral("address")).toString();
        m.port = out.value(QStringLiteral("port")).toInt();
        m.rsyncUser = cred.at(0).toString();
        m.importTask = out.value(QStringLiteral("task")).toString();
        m.settings = run->settings;
        m.notices = run->notices;
        m.startedAt = nowUsec();
        // The receiver's password: root only, like every other secret.
        QString error;
        if (!writeSecretFile(secretPath(), cred.at(1).toString().toUtf8(), &error)
            || !m_daemon->state()->saveMigration(m)) {
            return endRun(run, false, QStringLiteral("%1 was created on NS8 as %2, but its credentials could not be "
                                                     "saved here: Abort to remove it and start again.")
                                          .arg(m_profile.name, m.moduleId));
        }
        m_migration = m;
        changed({QStringLiteral("Node"), QStringLiteral("ModuleId"), QStringLiteral("Settings"), QStringLiteral("Notices")});
        Log::info(QStringLiteral("%1 created on node %2 as %3; receiver %4:%5")
                      .arg(m_profile.name)
                      .arg(m.node)
                      .arg(m.moduleId, m.address)
                      .arg(m.port),
                  run->job->logContext());
        runSync(run, [this, run](bool ok, const QString &message) {
            if (ok)
                return endRun(run, true, QStringLiteral("%1 was created on NS8 (%2, node %3) and the first sync is done: %4")
                                             .arg(m_profile.name, m_migration.moduleId)
                                             .arg(m_migration.node)
                                             .arg(message));
            endRun(run, false, QStringLiteral("%1 was created on NS8 (%2), but the first sync did not complete: %3 "
                                              "Run Sync again, or Abort to remove it.")
                                   .arg(m_profile.name, m_migration.moduleId, message));
        });
    });
}

void App::startSync(sd_bus_message *call, quint32 uid, const QVariantMap &options)
{
    if (refuseUnlessIdle(call))
        return;
    if (m_record.status != u"migrating" || m_migration.isEmpty()) {
        replyError(call, {kWrongState, m_record.status == u"migrated"
                                           ? QStringLiteral("%1 has been migrated: there is nothing left to sync.").arg(m_profile.name)
                                           : QStringLiteral("Start the migration of %1 first.").arg(m_profile.name)});
        return;
    }
    if (!m_daemon->cluster()->isConnected()) {
        replyError(call, {kWrongState, QStringLiteral("This server is not connected to the NS8 cluster.")});
        return;
    }
    if (m_migration.finishPhase == 2) {
        replyError(call, {kWrongState, QStringLiteral("%1 already runs on NS8: run Finish again to complete the NS7 side.")
                                           .arg(m_profile.name)});
        return;
    }
    auto run = std::make_shared<MigrationRun>();
    run->settings = options;
    run->job = newJob(call, uid, QStringLiteral("sync"), Action::Sync, syncSteps());
    if (!run->job)
        return;
    run->client = apiClient();
    setStatus(QStringLiteral("syncing"));
    runSync(run, [this, run](bool ok, const QString &message) {
        setStatus(QStringLiteral("migrating"));
        endRun(run, ok, message);
    });
}

void App::startAbort(sd_bus_message *call, quint32 uid, const QVariantMap &)
{
    if (refuseUnlessIdle(call))
        return;
    const QString s = m_record.status;
    if (s == u"migrated") {
        replyError(call, {kWrongState, QStringLiteral("%1 has been migrated: NS8 is in charge now and the migration "
                                                      "cannot be aborted.")
                                           .arg(m_profile.name)});
        return;
    }
    if (s != u"migrating" && s != u"failed") {
        replyError(call, {kWrongState, QStringLiteral("There is no migration of %1 to abort.").arg(m_profile.name)});
        return;
    }
    if (m_migration.finishPhase == 2) {
        replyError(call, {kWrongState, QStringLiteral("%1 was configured on NS8 by Finish and runs there: the migration "
                                                      "cannot be aborted. Run Finish again to complete it.")
                                           .arg(m_profile.name)});
        return;
    }
    auto run = std::make_shared<MigrationRun>();
    run->job = newJob(call, uid, QStringLiteral("abort"), nullptr,
                      {{QStringLiteral("remove-module"), QStringLiteral("Remove the app from NS8"), 3, 0},
                       {QStringLiteral("forget"), QStringLiteral("Forget the migration"), 1, 0}});
    if (!run->job)
        return;
    run->job->setCancelable(false);
    Log::info(QStringLiteral("Abort migration of %1: removing %2 from NS8; nothing on NS7 changes")
                  .arg(m_profile.name, m_migration.moduleId.isEmpty() ? QStringLiteral("nothing") : m_migration.moduleId),
              run->job->logContext());
    auto forget = [this, run] {
        run->job->beginStep(QStringLiteral("forget"));
        QFile::remove(secretPath());
        DbDumper::forget(workDir());
        m_daemon->state()->clearMigration(m_profile.id);
        m_migration = MigrationRecord{};
        m_syncs.clear();
        setStatus(QStringLiteral("not_migrated"));
        changed({QStringLiteral("Node"), QStringLiteral("ModuleId"), QStringLiteral("Settings"), QStringLiteral("Notices"),
                 QStringLiteral("SyncHistory"), QStringLiteral("LastSyncTime"), QStringLiteral("LastSyncBytes"),
                 QStringLiteral("LastSyncFiles"), QStringLiteral("LastSyncDuration"), QStringLiteral("EstimatedDowntime")});
        endRun(run, true, QStringLiteral("The migration of %1 was aborted: its NS8 data was removed; nothing on NS7 "
                                         "was changed.")
                              .arg(m_profile.name));
    };
    run->job->beginStep(QStringLiteral("remove-module"));
    if (m_migration.isEmpty())
        return forget();
    if (!m_daemon->cluster()->isConnected())
        return endRun(run, false, QStringLiteral("This server is not connected to the NS8 cluster: %1 cannot be removed "
                                                 "from it now.")
                                      .arg(m_migration.moduleId));
    run->client = apiClient();
    run->client->runTask(QStringLiteral("cluster"), QStringLiteral("remove-module"),
                         {{QStringLiteral("module_id"), m_migration.moduleId}, {QStringLiteral("preserve_data"), false}},
                         [this, run, forget](const TaskResult &r) {
        if (!r.ok())
            return endRun(run, false, QStringLiteral("NS8 could not remove %1: %2 Nothing was changed; try again.")
                                          .arg(m_migration.moduleId, r.failureText(QStringLiteral("remove-module"))));
        forget();
    });
}

} // namespace ns8m
