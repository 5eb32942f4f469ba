// App.Start, App.Sync, App.Abort, App.Skip and App.CheckOptions: moving
// one app to NS8 ("Passaggio 3" of the migration guide, phases 1 and 2).
#include "operations/migration.h"
#include "operations/appmigration_p.h"

#include "operations/cluster.h"
#include "bus/authority.h"
#include "operations/context.h"
#include "transfer/dbdump.h"
#include "profile/fields.h"
#include "bus/job.h"
#include "core/log.h"
#include "operations/operation.h"
#include "ns8/ns8client.h"
#include "core/qtcompat.h"
#include "operations/preflight.h"
#include "core/secrets.h"
#include "ns7/services.h"

#include <QFile>
#include <QHostAddress>
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

ClientPtr Migration::apiClient() const
{
    // The cluster's API through the tunnel, as the migration account.  Not
    // connected (callers check first): a client with no address, whose
    // requests fail, rather than none.
    ClientPtr client(m_ctx->cluster->vpnClient(nullptr));
    if (!client)
        client.reset(new Ns8Client);
    client->setTaskTimeout(m_ctx->settings.taskTimeoutSeconds * 1000);
    return client;
}

QString Migration::secretPath() const
{
    return m_ctx->settings.stateDir + QStringLiteral("/secrets/") + m_profile.id + QStringLiteral(".rsync");
}

bool Migration::isBusy() const
{
    return m_job && !m_job->isFinished();
}

QString Migration::runningOperation() const
{
    return isBusy() ? m_job->operation() : QString();
}

bool Migration::refuseUnlessIdle(sd_bus_message *call)
{
    if (!isBusy())
        return false;
    replyError(call, {Error::Busy,
                      Text("app.busy", "%1 is busy with another job (%2, %3). Wait for it to end or cancel it, "
                                     "then try again.")
                          .arg(m_profile.name, m_job->operation(), m_job->path())});
    return true;
}

void Migration::setStatus(AppStatus status)
{
    if (m_record.status == status)
        return;
    Log::info(QStringLiteral("%1: status %2 → %3").arg(m_profile.name, toString(m_record.status), toString(status)));
    m_record.status = status;
    m_ctx->state->saveApp(m_record);
    changed({QStringLiteral("Status")});
    if (status == AppStatus::Migrated || status == AppStatus::NotMigrated || status == AppStatus::Skipped)
        dropSchedules(status);
}

QList<OptionSpec> Migration::startOptions() const
{
    return fieldOptionSpecs(m_profile, {{"node", 'u'}, {"accept_warnings", 'b'}});
}

Job *Migration::createJob(quint32 uid, const QString &operation, const char *cancelAction, QList<JobStep> steps,
                          Failure *failure)
{
    Job::Params params;
    params.operation = operation;
    params.objectPath = path();
    params.objectId = m_profile.id;
    params.startedByUid = uid;
    params.cancelAction = cancelAction;
    params.steps = std::move(steps);
    QString error;
    Job *job = m_ctx->createJob(params, &error);
    if (!job) {
        *failure = {kFailed, Text("job.not-started", "The %1 could not start: %2.").arg(operation, error)};
        return nullptr;
    }
    setJob(job);
    return job;
}

Job *Migration::newJob(sd_bus_message *call, quint32 uid, const QString &operation, const char *cancelAction,
                 QList<JobStep> steps)
{
    Failure failure;
    Job *job = createJob(uid, operation, cancelAction, std::move(steps), &failure);
    if (!job) {
        replyError(call, failure);
        return nullptr;
    }
    sd_bus_reply_method_return(call, "o", job->path().toUtf8().constData());
    return job;
}

void Migration::checkOptions(sd_bus_message *call, const QString &method, const QVariantMap &options, bool byId)
{
    if (method != u"Start" && method != u"Finish") {
        replyError(call, {Error::InvalidArgument,
                          Text("app.check-options.method", "method: CheckOptions checks the options of \"Start\" or "
                                                           "\"Finish\".")});
        return;
    }
    const QMap<QString, Text> problems = checkFields(m_profile, options, m_migration.settings, true, nullptr);
    sd_bus_message *reply = nullptr;
    int r = sd_bus_message_new_method_return(call, &reply);
    if (r >= 0)
        r = sd_bus_message_open_container(reply, 'a', byId ? "{s(ssas)}" : "{ss}");
    for (auto it = problems.constBegin(); r >= 0 && it != problems.constEnd(); ++it) {
        const QByteArray field = it.key().toUtf8();
        if (!byId) {
            r = sd_bus_message_append(reply, "{ss}", field.constData(), it.value().english().toUtf8().constData());
            continue;
        }
        r = sd_bus_message_open_container(reply, 'e', "s(ssas)");
        if (r >= 0)
            r = sd_bus_message_append(reply, "s", field.constData());
        if (r >= 0)
            r = appendText(reply, it.value());
        if (r >= 0)
            r = sd_bus_message_close_container(reply);
    }
    if (r >= 0)
        r = sd_bus_message_close_container(reply);
    if (r >= 0)
        sd_bus_send(nullptr, reply, nullptr);
    sd_bus_message_unref(reply);
}

void Migration::skip(sd_bus_message *call, bool skipIt)
{
    const AppStatus s = m_record.status;
    if (skipIt && s != AppStatus::NotMigrated && s != AppStatus::Failed && s != AppStatus::Skipped) {
        replyError(call, {kWrongState, Text("app.skip.started", "%1 is %2: only an app whose migration has not started can "
                                                      "be skipped. Abort the migration first.")
                                           .arg(m_profile.name, toString(s))});
        return;
    }
    if (!skipIt && s != AppStatus::Skipped && s != AppStatus::NotMigrated) {
        replyError(call, {kWrongState, Text("app.unskip.not-skipped", "%1 is %2, not skipped.").arg(m_profile.name, toString(s))});
        return;
    }
    setStatus(skipIt ? AppStatus::Skipped : AppStatus::NotMigrated);
    sd_bus_reply_method_return(call, "");
}

void Migration::startMigration(sd_bus_message *call, quint32 uid, const QVariantMap &options)
{
    if (refuseUnlessIdle(call))
        return;
    Cluster *cluster = m_ctx->cluster;
    if (!cluster->isConnected()) {
        replyError(call, {kWrongState, Text("start.not-connected", "Connect this server to the NS8 cluster first (Passaggio 2).")});
        return;
    }
    const AppStatus s = m_record.status;
    if (s != AppStatus::NotMigrated && s != AppStatus::Failed) {
        replyError(call, {kWrongState,
                          s == AppStatus::Skipped ? Text("start.skipped", "%1 is marked as not to be migrated: unmark it first.").arg(m_profile.name)
                                                  : Text("start.started", "The migration of %1 has already started (%2): use Sync "
                                                                   "or Finish, or Abort to start over.")
                                                        .arg(m_profile.name, toString(s))});
        return;
    }
    if (const QStringList before = m_profile.last ? m_ctx->appsBefore(m_profile.id) : QStringList(); !before.isEmpty()) {
        replyError(call, {Error::ProviderNotLast,
                          Text("start.not-last", "%1 is migrated last: migrate or skip %2 first. Until then they "
                                                 "read this server's users through the temporary user domain.")
                              .arg(m_profile.name, before.join(QStringLiteral(", ")))});
        return;
    }
    if (!m_migration.isEmpty()) {
        replyError(call, {kWrongState, Text("start.leftover", "%1 still has a module on NS8 (%2) from an earlier attempt: "
                                                      "Abort first to remove it, then start again.")
                                           .arg(m_profile.name, m_migration.moduleId)});
        return;
    }
    QVariantMap values;
    const QMap<QString, Text> problems = checkFields(m_profile, options, {}, false, &values);
    if (!problems.isEmpty()) {
        replyError(call, fieldError(problems));
        return;
    }
    if (m_record.scanTime == 0) {
        replyError(call, {kWrongState, Text("start.no-scan", "Scan %1 first: the migration needs its size to check the "
                                                      "destination node's disk.")
                                           .arg(m_profile.name)});
        return;
    }
    // The guide's prerequisites (Preflight): a blocker, or a warning not
    // accepted, refuses Start before anything is created.
    afterPreflight(call, Preflight::Phase::Start, options, [this, uid, options, values](sd_bus_message *c) {
        // Skip, Start or an Abort may have come in while the checks ran.
        const AppStatus now = m_record.status;
        if ((now != AppStatus::NotMigrated && now != AppStatus::Failed) || !m_migration.isEmpty())
            return void(replyError(c, {kWrongState, Text("start.state-changed", "%1 is %2 now: Start cannot begin.")
                                                        .arg(m_profile.name, toString(now))}));
        beginMigration(c, uid, options, values);
    });
}

void Migration::afterPreflight(sd_bus_message *call, Preflight::Phase phase, const QVariantMap &options,
                         std::function<void(sd_bus_message *)> go)
{
    const PendingCall pending(call);
    QPointer<Migration> self(this);
    Cluster *cluster = m_ctx->cluster;
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
    Preflight::gate(m_ctx, phase, m_profile.id, options, [self, pending, go](std::optional<BusError> refused) {
        if (!self)
            return;
        if (refused)
            return void(replyError(pending.msg(), *refused));
        // Another call may have started a job while the checks ran, or a
        // Disconnect may have ended the link.
        if (self->refuseUnlessIdle(pending.msg()) || self->refuseUnlessConnected(pending.msg()))
            return;
        go(pending.msg());
    });
}

// After an asynchronous wait (Preflight): the link may be gone
// (Disconnect) or being taken down.
bool Migration::refuseUnlessConnected(sd_bus_message *call)
{
    Cluster *cluster = m_ctx->cluster;
    if (cluster->isConnected() && m_ctx->isJoined())
        return false;
    replyError(call, {kWrongState, Text("app.connection-changed", "The connection to the NS8 cluster changed while %1's "
                                                                  "checks ran (it is %2 now): nothing was started. "
                                                                  "Connect again, then try again.")
                                       .arg(m_profile.name, cluster->state())});
    return true;
}

bool Migration::waitForTunnel(sd_bus_message *call, std::function<void(sd_bus_message *)> again)
{
    if (!m_ctx->cluster->isRestoringTunnel())
        return false;
    const PendingCall pending(call);
    m_ctx->cluster->whenTunnelSettled(this, [pending, again] { again(pending.msg()); });
    return true;
}

bool Migration::refuseOutsideTunnel(sd_bus_message *call, const QStringList &addresses)
{
    const Failure outside = m_ctx->throughTunnel(addresses);
    if (!outside.isError())
        return false;
    replyError(call, outside);
    return true;
}

void Migration::beginMigration(sd_bus_message *call, quint32 uid, const QVariantMap &options, const QVariantMap &values)
{
    auto run = std::make_shared<MigrationRun>();
    run->settings = values;
    run->node = quint32(options.value(QStringLiteral("node"), 0).toULongLong());
    const QList<Operation::Step> steps = startSteps(run);
    run->job = newJob(call, uid, QStringLiteral("start"), Action::Migrate, Operation::jobSteps(steps));
    if (!run->job)
        return;
    run->job->setCancelable(false);
    run->client = apiClient();
    QStringList kv;
    for (auto it = values.constBegin(); it != values.constEnd(); ++it)
        kv.append(it.key() + u'=' + it.value().toString());
    Log::info(QStringLiteral("Start migration of %1: %2").arg(m_profile.name, kv.join(QStringLiteral(", "))),
              run->job->logContext());
    setStatus(AppStatus::Migrating);
    run->op = new Operation(run->job, steps);
    run->op->aftermath = [this](const Failure &, const QList<Failure> &) {
        return Texts{m_migration.isEmpty() ? Text("start.nothing-created", "Nothing was created on NS8.")
                                           : Text("start.sync-or-abort", "Run Sync again, or Abort to remove it.")};
    };
    run->op->concluding = [this](const Failure &failure) {
        // Nothing exists on NS8 yet: the app is as before.
        if (failure.isError() && m_migration.isEmpty())
            setStatus(AppStatus::NotMigrated);
    };
    run->op->summary = [this, run] {
        return Texts{Text("start.done", "%1 was created on NS8 (%2, node %3) and the first sync is done:")
                         .arg(m_profile.name)
                         .arg(m_migration.moduleId)
                         .arg(m_migration.node)}
            + run->message;
    };
    run->op->start();
}

QList<Operation::Step> Migration::startSteps(const std::shared_ptr<MigrationRun> &run)
{
    using Next = Operation::Next;
    QList<Operation::Step> steps = {
        {QStringLiteral("check"), Text("step.start.check", "Check the destination"), 1,
         [this, run](Next next) { startCheckCluster(run, next); }, {}, false},
        {QStringLiteral("Check the destination's disk"), 1,
         [this, run](Next next) { startCheckDisk(run, next); }, {}, false},
        {QStringLiteral("Read the modules"), 1, [this, run](Next next) { startReadModules(run, next); }, {}, false},
    };
    // Every companion module of the profile, one row each, under one step.
    QStringList images;
    for (const auto &c : m_profile.companions)
        images.append(c.first);
    for (int i = 0; i < m_profile.companions.size(); ++i) {
        const auto install = [this, run, i](Next next) { startCompanion(run, i, next); };
        if (i == 0)
            steps.append({QStringLiteral("proxy"),
                          Text("step.start.proxy", "Install %1 when missing").arg(images.join(QStringLiteral(", "))), 1,
                          install});
        else
            steps.append({QStringLiteral("Install %1 when missing").arg(images.at(i)), 1, install});
    }
    steps.append({QStringLiteral("import"), Text("step.start.import", "Create the app on NS8"), 1,
                  [this, run](Next next) { startImport(run, next); }, {}, false});
    steps.append(syncStep(run, Text("step.start.sync", "Sync")));
    return steps;
}

// The sync as one row whose transfers show as their own job steps.
Operation::Step Migration::syncStep(const std::shared_ptr<MigrationRun> &run, const Text &title)
{
    return {QStringLiteral("sync"), title, 1,
            [this, run](Operation::Next next) {
                runSync(run, next);
            },
            {}, false, syncSteps()};
}

void Migration::startCheckCluster(const std::shared_ptr<MigrationRun> &run, const Operation::Next &next)
{
    run->client->login([this, run, next](const ApiError &e) {
        if (e.isError())
            return next(e.asFailed());
        run->client->runTask(QStringLiteral("cluster"), QStringLiteral("get-cluster-status"), {}, [this, run, next](const TaskResult &st) {
            if (!st.ok())
                return next(st.failure(QStringLiteral("get-cluster-status")));
            const quint32 self = m_ctx->cluster->nodeId();
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
                return next(Failure::failed(Text("start.node.unknown", "node: the NS8 cluster has no node %1 to install %2 on.")
                                            .arg(run->node)
                                            .arg(m_profile.name)));
            next({});
        });
    });
}

void Migration::startCheckDisk(const std::shared_ptr<MigrationRun> &run, const Operation::Next &next)
{
    run->client->runTask(QStringLiteral("node/%1").arg(run->node), QStringLiteral("get-node-status"), {},
                         [this, run, next](const TaskResult &ns) {
        if (!ns.ok())
            return next(ns.failure(QStringLiteral("get-node-status")));
        quint64 free = 0;
        for (const QJsonValue &d : ns.output.toObject().value(QStringLiteral("disks")).toArray())
            free = qMax(free, quint64(d.toObject().value(QStringLiteral("free")).toDouble()));
        const quint64 need = neededBytes(m_record.sourceBytes + m_record.databaseBytes);
        if (free < need)
            return next(Failure::failed(Text("start.node.disk", "node: node %1 has %2 free, %3 needs about %4 (data %5 plus "
                                                                "margin). Free space on that node or choose another one.")
                                            .arg(run->node)
                                            .arg(humanBytes(free), m_profile.name, humanBytes(need))
                                            .arg(humanBytes(m_record.sourceBytes + m_record.databaseBytes))));
        next({});
    });
}

void Migration::startReadModules(const std::shared_ptr<MigrationRun> &run, const Operation::Next &next)
{
    // list-modules takes no input: its schema wants null.
    run->client->runTaskWithoutInput(QStringLiteral("cluster"), QStringLiteral("list-modules"),
                                     [run, next](const TaskResult &lm) {
        if (!lm.ok())
            return next(lm.failure(QStringLiteral("list-modules")));
        run->modules = lm.output.toArray();
        next({});
    });
}

void Migration::startCompanion(const std::shared_ptr<MigrationRun> &run, int index, const Operation::Next &next)
{
    const QString image = m_profile.companions.at(index).first;
    const QString notice = m_profile.companions.at(index).second;
    const ModulePlacement placed = modulePlacement(run->modules, image, run->node);
    const bool installed = !placed.installedAs.isEmpty(), installable = placed.installable;
    if (installed || !installable) {
        Log::info(QStringLiteral("%1 %2 on node %3").arg(image, installed ? QStringLiteral("is already installed")
                                                                           : QStringLiteral("cannot be installed"))
                      .arg(run->node),
                  run->job->logContext());
        return next({});
    }
    Log::info(QStringLiteral("installing %1 on node %2").arg(image).arg(run->node), run->job->logContext());
    run->client->runTask(QStringLiteral("cluster"), QStringLiteral("add-module"),
                         {{QStringLiteral("image"), image}, {QStringLiteral("node"), int(run->node)}},
                         [run, image, notice, next](const TaskResult &r) {
        if (!r.ok())
            return next(r.failure(QStringLiteral("add-module"))
                            .after(Text("start.companion.failed", "Installing %1 failed.").arg(image)));
        const QString id = r.output.toObject().value(QStringLiteral("module_id")).toString();
        run->notices.append(notice.isEmpty() ? QStringLiteral("%1 was installed on node %2.").arg(image).arg(run->node)
                                             : QStringLiteral("%1 (%2 on node %3)").arg(notice, id).arg(run->node));
        if (run->job)
            Log::info(QStringLiteral("%1 installed as %2: it must be configured by hand").arg(image, id), run->job->logContext());
        next({});
    });
}

void Migration::startImport(const std::shared_ptr<MigrationRun> &run, const Operation::Next &next)
{
    QJsonArray volumes;
    for (const QString &v : m_profile.volumes)
        volumes.append(v);
    run->client->runTask(QStringLiteral("cluster"), QStringLiteral("import-module"),
                         {{QStringLiteral("image"), m_profile.image}, {QStringLiteral("node"), int(run->node)},
                          {QStringLiteral("volumes"), volumes}},
                         [this, run, next](const TaskResult &r) {
        const QJsonObject out = r.output.toObject();
        const QJsonArray cred = out.value(QStringLiteral("credentials")).toArray();
        if (!r.ok() || cred.size() != 2 || out.value(QStringLiteral("module_id")).toString().isEmpty())
            return next((r.ok() ? Failure::failed(Text("start.import.no-credentials", "import-module answered without "
                                                                                      "credentials."))
                                : r.failure(QStringLiteral("import-module")))
                            .after(Text("start.import.failed", "Creating %1 on NS8 failed.").arg(m_profile.name)));
        const QString moduleId = out.value(QStringLiteral("module_id")).toString();
        startCheckChoices(run, moduleId, 0, [this, run, out, cred, moduleId, next](const Failure &refusal) {
            if (refusal.isError())
                return startUndoImport(run, moduleId, refusal, next);
            next(rememberModule(run, out, cred));
        });
    });
}

void Migration::startCheckChoices(const std::shared_ptr<MigrationRun> &run, const QString &moduleId, int index,
                                  std::function<void(const Failure &)> done)
{
    while (index < m_profile.fields.size() && m_profile.fields.at(index).choices.isEmpty())
        ++index;
    if (index >= m_profile.fields.size())
        return done({});
    const Field field = m_profile.fields.at(index);
    run->client->runTask(QStringLiteral("module/") + moduleId, field.choices.action,
                         QJsonObject::fromVariantMap(field.choices.input),
                         [this, run, moduleId, index, field, done](const TaskResult &r) {
        if (!r.ok())
            return done(r.failure(field.choices.action));
        const QJsonArray list = r.output.toObject().value(field.choices.list).toArray();
        const Failure refusal = chooseFieldValue(run, field, list);
        if (refusal.isError())
            return done(refusal);
        startCheckChoices(run, moduleId, index + 1, done);
    });
}

// The field's value among LIST's (those outside the cluster's VPN network):
// the one given, or the only one when none is; into run->settings.
Failure Migration::chooseFieldValue(const std::shared_ptr<MigrationRun> &run, const Field &field, const QJsonArray &list)
{
    const QPair<QHostAddress, int> vpn = QHostAddress::parseSubnet(m_ctx->link ? m_ctx->link->network : QString());
    QStringList values, offered;
    QList<QPair<QString, QString>> choices;
    for (const QJsonValue &v : list) {
        const QString value = v.toObject().value(field.choices.value).toString();
        const QString label = v.toObject().value(field.choices.label).toString();
        if (value.isEmpty() || (!vpn.first.isNull() && QHostAddress(value).isInSubnet(vpn)))
            continue;
        values.append(value);
        choices.append({value, label});
        offered.append(label.isEmpty() ? value : QStringLiteral("%1 (%2)").arg(value, label));
    }
    m_fieldChoices.insert(field.id, choices);
    changed({QStringLiteral("FieldChoices")});
    const QString given = run->settings.value(field.id).toString();
    if (given.isEmpty() && values.size() == 1) {
        run->settings.insert(field.id, values.first());
        return {};
    }
    if (!given.isEmpty() && values.contains(given))
        return {};
    const QString title = field.title;
    if (given.isEmpty())
        return {Error::InvalidArgument, Text("start.choices.choose", "%1: choose one of the addresses NS8 offers on "
                                                                     "node %2: %3. Nothing was kept on NS8.")
                                            .arg(title)
                                            .arg(run->node)
                                            .arg(offered.join(QStringLiteral(", ")))};
    return {Error::InvalidArgument, Text("start.choices.not-offered", "%1: %2 is not one of the addresses NS8 offers "
                                                                      "on node %3: %4. Choose one of them; nothing "
                                                                      "was kept on NS8.")
                                        .arg(title, given)
                                        .arg(run->node)
                                        .arg(offered.join(QStringLiteral(", ")))};
}

void Migration::startUndoImport(const std::shared_ptr<MigrationRun> &run, const QString &moduleId,
                                const Failure &refusal, const Operation::Next &next)
{
    Log::info(QStringLiteral("removing %1 again: %2").arg(moduleId, refusal.message), run->job->logContext());
    run->client->runTask(QStringLiteral("cluster"), QStringLiteral("remove-module"),
                         {{QStringLiteral("module_id"), moduleId}, {QStringLiteral("preserve_data"), false}},
                         [moduleId, refusal, next](const TaskResult &r) {
        if (!r.ok())
            return next(r.failure(QStringLiteral("remove-module"))
                            .after(Text("start.undo.failed", "%1 stays on NS8 and must be removed there by hand.")
                                       .arg(moduleId)));
        next(refusal);
    });
}

// The module import-module created: recorded here, its receiver's password
// in a root-only secret file like every other secret.
Failure Migration::rememberModule(const std::shared_ptr<MigrationRun> &run, const QJsonObject &out, const QJsonArray &cred)
{
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
    QString error;
    if (!writeSecretFile(secretPath(), cred.at(1).toString().toUtf8(), &error) || !m_ctx->state->saveMigration(m)) {
        // Told as it is: the module exists on NS8 but this side cannot use it.
        m_migration = m;
        return Failure::failed(Text("start.credentials.not-saved", "%1 was created on NS8 as %2, but its credentials could not be saved here: "
                                          "Abort to remove it and start again.")
                               .arg(m_profile.name, m.moduleId));
    }
    m_migration = m;
    changed({QStringLiteral("Node"), QStringLiteral("ModuleId"), QStringLiteral("Settings"), QStringLiteral("Notices")});
    Log::info(QStringLiteral("%1 created on node %2 as %3; receiver %4:%5")
                  .arg(m_profile.name)
                  .arg(m.node)
                  .arg(m.moduleId, m.address)
                  .arg(m.port),
              run->job ? run->job->logContext() : LogContext{});
    return {};
}

// Why Sync cannot start now (busy, state, link, an interrupted Finish);
// nothing when it can.  The bus call and the schedule ask the same.
Failure Migration::syncRefusal() const
{
    if (isBusy())
        return {Error::Busy, Text("app.busy", "%1 is busy with another job (%2, %3). Wait for it to end or cancel it, "
                                              "then try again.")
                                 .arg(m_profile.name, m_job->operation(), m_job->path())};
    if (m_record.status != AppStatus::Migrating || m_migration.isEmpty())
        return {kWrongState, m_record.status == AppStatus::Migrated
                                 ? Text("sync.migrated", "%1 has been migrated: there is nothing left to sync.").arg(m_profile.name)
                                 : Text("sync.not-started", "Start the migration of %1 first.").arg(m_profile.name)};
    if (!m_ctx->cluster->isConnected())
        return {kWrongState, Text("sync.not-connected", "This server is not connected to the NS8 cluster.")};
    if (m_migration.finishPhase == FinishPhase::Configuring)
        return {kWrongState, Text("sync.configuring", "NS8 was configuring %1 when Finish was interrupted: run "
                                                      "Finish again, it waits for NS8's answer.")
                                 .arg(m_profile.name)};
    if (m_migration.finishPhase == FinishPhase::Configured)
        return {kWrongState, Text("sync.configured", "%1 already runs on NS8: run Finish again to complete the NS7 side.")
                                 .arg(m_profile.name)};
    return {};
}

void Migration::startSync(sd_bus_message *call, quint32 uid, const QVariantMap &options)
{
    const Failure refused = syncRefusal();
    if (refused.isError()) {
        replyError(call, refused);
        return;
    }
    if (waitForTunnel(call, [this, uid, options](sd_bus_message *c) { startSync(c, uid, options); }))
        return;
    // The API and the receiver, checked before the job starts.
    if (refuseOutsideTunnel(call, {m_ctx->link->leaderVpnIp, m_migration.address}))
        return;
    Failure failure;
    Job *job = beginSync(uid, options, {}, &failure);
    if (!job)
        return void(replyError(call, failure));
    sd_bus_reply_method_return(call, "o", job->path().toUtf8().constData());
}

// The Sync job, once every check passed (syncRefusal, the tunnel); SCHEDULED:
// the schedule's sentence that opens its closing message (empty for a Sync
// called on the bus).
Job *Migration::beginSync(quint32 uid, const QVariantMap &options, const Text &scheduled, Failure *failure)
{
    auto run = std::make_shared<MigrationRun>();
    run->settings = options;
    const QList<Operation::Step> steps = {syncStep(run, Text("step.sync.sync", "Sync"))};
    run->job = createJob(uid, QStringLiteral("sync"), Action::Sync, Operation::jobSteps(steps), failure);
    if (!run->job)
        return nullptr;
    if (!scheduled.isEmpty())
        Log::info(scheduled.english(), run->job->logContext());
    run->client = apiClient();
    setStatus(AppStatus::Syncing);
    run->op = new Operation(run->job, steps);
    run->op->concluding = [this](const Failure &) { setStatus(AppStatus::Migrating); };
    run->op->summary = [run, scheduled] { return scheduled.isEmpty() ? run->message : Texts{scheduled} + run->message; };
    if (!scheduled.isEmpty())
        run->op->aftermath = [scheduled](const Failure &, const QList<Failure> &) { return Texts{scheduled}; };
    run->op->start();
    return run->job;
}

void Migration::startAbort(sd_bus_message *call, quint32 uid, const QVariantMap &)
{
    if (refuseUnlessIdle(call))
        return;
    const AppStatus s = m_record.status;
    if (s == AppStatus::Migrated) {
        replyError(call, {kWrongState, Text("abort.migrated", "%1 has been migrated: NS8 is in charge now and the migration "
                                                      "cannot be aborted.")
                                           .arg(m_profile.name)});
        return;
    }
    if (s != AppStatus::Migrating && s != AppStatus::Failed) {
        replyError(call, {kWrongState, Text("abort.none", "There is no migration of %1 to abort.").arg(m_profile.name)});
        return;
    }
    if (m_migration.finishPhase == FinishPhase::Configuring) {
        replyError(call, {kWrongState, Text("abort.configuring", "NS8 was configuring %1 when Finish was interrupted and "
                                                                 "may run it already: the migration cannot be aborted "
                                                                 "now. Run Finish again, it waits for NS8's answer.")
                                           .arg(m_profile.name)});
        return;
    }
    if (m_migration.finishPhase == FinishPhase::Configured) {
        replyError(call, {kWrongState, Text("abort.configured", "%1 was configured on NS8 by Finish and runs there: the migration "
                                                      "cannot be aborted. Run Finish again to complete it.")
                                           .arg(m_profile.name)});
        return;
    }
    if (waitForTunnel(call, [this, uid](sd_bus_message *c) { startAbort(c, uid, {}); }))
        return;
    // Removing the module is a task of NS8's API: through the tunnel only.
    if (!m_migration.isEmpty() && m_ctx->cluster->isConnected()
        && refuseOutsideTunnel(call, {m_ctx->link->leaderVpnIp}))
        return;
    using Next = Operation::Next;
    auto run = std::make_shared<MigrationRun>();
    QList<Operation::Step> steps;
    // A Finish that failed and could not start NS7's services again left
    // them in the record: they run again before anything is forgotten.
    if (m_migration.finishPhase == FinishPhase::Stopped && !m_migration.stoppedServices.isEmpty())
        steps.append({QStringLiteral("restart"), Text("step.abort.restart", "Start the NS7 services again"), 1,
                      [this, run](Next next) { abortRestart(run, next); }, {}, false});
    steps.append({QStringLiteral("remove-module"), Text("step.abort.remove-module", "Remove the app from NS8"), 3,
                  [this, run](Next next) { abortRemoveModule(run, next); }, {}, false});
    // A Finish interrupted after it removed the temporary user domain (the
    // helper stopped before the import): NS8's apps get NS7's users back.
    if (m_profile.beforeTerminate.contains(QStringLiteral("remove_temporary_domain")) && m_ctx->isJoined()
        && !m_migration.isEmpty() && !m_ctx->link->userDomain.isEmpty())
        steps.append({QStringLiteral("user-domain"), Text("step.abort.user-domain", "Create the temporary user domain again"),
                      1, [this, run](Next next) { abortRestoreDomain(run, next); }, {}, false});
    steps.append({QStringLiteral("forget"), Text("step.abort.forget", "Forget the migration"), 1,
                  [this](Next next) { abortForget(next); }, {}, false});
    run->job = newJob(call, uid, QStringLiteral("abort"), nullptr, Operation::jobSteps(steps));
    if (!run->job)
        return;
    run->job->setCancelable(false);
    Log::info(QStringLiteral("Abort migration of %1: removing %2 from NS8; nothing on NS7 changes")
                  .arg(m_profile.name, m_migration.moduleId.isEmpty() ? QStringLiteral("nothing") : m_migration.moduleId),
              run->job->logContext());
    run->op = new Operation(run->job, steps);
    run->op->summary = [this, run] {
        if (!run->stopped.isEmpty())
            return Texts{Text("abort.done-restarted", "The migration of %1 was aborted: its NS8 data was removed; "
                                                      "%2, stopped by an earlier Finish, run again on NS7.")
                             .arg(m_profile.name, run->stopped.join(QStringLiteral(", ")))};
        return Texts{Text("abort.done", "The migration of %1 was aborted: its NS8 data was removed; nothing on NS7 "
                                        "was changed.")
                         .arg(m_profile.name)};
    };
    run->op->start();
}

void Migration::abortRestart(const std::shared_ptr<MigrationRun> &run, const Operation::Next &next)
{
    const QStringList units = m_migration.stoppedServices;
    if (run->job)
        Log::warning(QStringLiteral("%1: an earlier Finish left %2 stopped: starting them again")
                         .arg(m_profile.name, units.join(QStringLiteral(", "))),
                     run->job->logContext());
    m_ctx->services->start(units, m_profile.recordServices, [this, run, units, next](const QString &error) {
        if (!error.isEmpty())
            return next(Failure::failed(Text("abort.restart.failed", "The NS7 services %1, stopped by an earlier Finish, "
                                                                     "could not be started again (%2): nothing was removed "
                                                                     "from NS8. Start them by hand (config setprop NAME "
                                                                     "status enabled, then signal-event runlevel-adjust; "
                                                                     "systemctl start for those without a record), then "
                                                                     "Abort again.")
                                            .arg(units.join(QStringLiteral(", ")), error)));
        run->stopped = units;
        if (!setFinishPhase(FinishPhase::NothingStopped, {}))
            return next(Failure::failed(Text("abort.state-not-saved", "The NS7 services %1 run again, but the helper's "
                                                                      "state database cannot be written (%2): nothing "
                                                                      "was removed from NS8. Free space under the "
                                                                      "state directory, then Abort again.")
                                            .arg(units.join(QStringLiteral(", ")), m_ctx->state->lastError())));
        next({});
    });
}

void Migration::abortRemoveModule(const std::shared_ptr<MigrationRun> &run, const Operation::Next &next)
{
    if (m_migration.isEmpty())
        return next({});
    if (!m_ctx->cluster->isConnected())
        return next(Failure::failed(Text("abort.not-connected", "This server is not connected to the NS8 cluster: %1 cannot be removed "
                                               "from it now.")
                                    .arg(m_migration.moduleId)));
    run->client = apiClient();
    run->client->runTask(QStringLiteral("cluster"), QStringLiteral("remove-module"),
                         {{QStringLiteral("module_id"), m_migration.moduleId}, {QStringLiteral("preserve_data"), false}},
                         [this, next](const TaskResult &r) {
        if (!r.ok())
            return next(r.failure(QStringLiteral("remove-module"))
                            .asFailed()
                            .after(Text("abort.remove.failed", "NS8 could not remove %1; nothing was changed: try "
                                                               "again.")
                                       .arg(m_migration.moduleId)));
        next({});
    });
}

void Migration::abortRestoreDomain(const std::shared_ptr<MigrationRun> &run, const Operation::Next &next)
{
    if (!run->client)
        run->client = apiClient();
    m_ctx->cluster->ensureTemporaryDomain(run->client.get(), [next](const Failure &f) { next(f); });
}

void Migration::abortForget(const Operation::Next &next)
{
    QFile::remove(secretPath());
    DbDumper::forget(workDir());
    m_ctx->state->clearMigration(m_profile.id);
    m_migration = MigrationRecord{};
    m_syncs.clear();
    setStatus(AppStatus::NotMigrated);
    changed({QStringLiteral("Node"), QStringLiteral("ModuleId"), QStringLiteral("Settings"), QStringLiteral("Notices"),
             QStringLiteral("SyncHistory"), QStringLiteral("LastSyncTime"), QStringLiteral("LastSyncBytes"),
             QStringLiteral("LastSyncFiles"), QStringLiteral("LastSyncDuration"), QStringLiteral("EstimatedDowntime"),
             QStringLiteral("EstimatedDowntimeParts")});
    next({});
}

} // namespace ns8m
