// App.SetSchedule, App.ScheduleFinish and App.CancelScheduledFinish: the
// Syncs the helper starts by itself and a Finish at a set time, through
// the same start path as the methods (operations/schedule.h has the
// records and when a run comes).
#include "operations/migration.h"
#include "operations/appmigration_p.h"

#include "bus/authority.h"
#include "bus/job.h"
#include "core/log.h"
#include "operations/cluster.h"
#include "operations/context.h"
#include "operations/preflight.h"
#include "operations/schedule.h"

#include <QTimer>

namespace ns8m {

namespace {

const QString kSyncKind = QStringLiteral("sync");
const QString kFinishKind = QStringLiteral("finish");
// A timer never sleeps longer: a change of the clock (or of DST) is seen within the hour.
constexpr qint64 kMaxSleepMs = 3600 * 1000;
// A scheduled Finish whose time came while the app runs a job looks again this often.
constexpr int kBusyRetryMs = 5000;
// A scheduled Finish the helper missed (it was not running) still starts this late, not later.
constexpr qint64 kFinishGraceUsec = 15 * 60 * 1000000ll;
// The latest a Finish can be scheduled ahead.
constexpr qint64 kFinishHorizonUsec = 90ll * 24 * 3600 * 1000000ll;

QString whenText(qint64 usec)
{
    return QDateTime::fromMSecsSinceEpoch(usec / 1000).toString(Qt::ISODate);
}

QStringList warningIds(const QList<Check> &checks)
{
    QStringList ids;
    const QString finish = Preflight::phaseName(Preflight::Phase::Finish);
    for (const Check &c : checks)
        if (c.severity == u"warning" && c.gates.contains(finish))
            ids.append(c.id);
    return ids;
}

QString describe(const SyncSchedule &s)
{
    QString what = s.kind == u"daily" ? QStringLiteral("daily at %1").arg(s.at.toString(QStringLiteral("HH:mm")))
                                      : QStringLiteral("every %1 minutes").arg(s.interval);
    if (s.quietFrom.isValid())
        what += QStringLiteral(", none from %1 to %2")
                    .arg(s.quietFrom.toString(QStringLiteral("HH:mm")), s.quietTo.toString(QStringLiteral("HH:mm")));
    if (s.bwlimit)
        what += QStringLiteral(", limited to %1 KiB/s").arg(s.bwlimit);
    return what;
}

} // namespace

void Migration::loadSchedules()
{
    m_syncTimer = new QTimer(this);
    m_syncTimer->setSingleShot(true);
    m_syncTimer->setTimerType(Qt::PreciseTimer);
    connect(m_syncTimer, &QTimer::timeout, this, &Migration::syncTimeCame);
    m_finishTimer = new QTimer(this);
    m_finishTimer->setSingleShot(true);
    m_finishTimer->setTimerType(Qt::PreciseTimer);
    connect(m_finishTimer, &QTimer::timeout, this, &Migration::finishTimeCame);
    m_schedule = SyncSchedule::fromJson(m_ctx->state->schedule(m_profile.id, kSyncKind));
    m_finishSchedule = FinishSchedule::fromJson(m_ctx->state->schedule(m_profile.id, kFinishKind));
    // A scheduled Finish that was running when the helper stopped ended
    // there (the job is recorded as failed); one whose time passed while
    // the helper was down starts only if it is not too late.
    if (m_finishSchedule.state == u"started")
        finishScheduleEnded(QStringLiteral("failed"), {Text("schedule.finish.interrupted", "The scheduled Finish was "
                                                                                           "cut short by a stop of the "
                                                                                           "helper.")});
    else if (m_finishSchedule.isPending() && m_finishSchedule.when + kFinishGraceUsec < nowUsec())
        finishScheduleEnded(QStringLiteral("blocked"),
                            {Text("schedule.finish.missed", "The helper was not running at %1, the time of the scheduled "
                                                            "Finish: it did not start. Schedule it again.")
                                 .arg(whenText(m_finishSchedule.when))});
    // A scheduled sync that ran when the helper stopped ended there too.
    if (m_schedule.lastOutcome == u"running")
        scheduledSyncEnded(QStringLiteral("failed"), nullptr,
                           {Text("schedule.interrupted", "The scheduled sync was cut short by a stop of the helper.")});
    armSync(QDateTime::currentDateTime());
    armFinish();
}

// ------------------------------------------------------------ syncs

QList<OptionSpec> Migration::scheduleOptions()
{
    return {{"enabled", 'b'}, {"kind", 's', 16}, {"interval", 'u'}, {"interval_unit", 's', 16}, {"at", 's', 16},
            {"quiet_from", 's', 16}, {"quiet_to", 's', 16}, {"bwlimit", 'u'}};
}

Failure Migration::setSchedule(quint32 uid, const QVariantMap &options)
{
    SyncSchedule s;
    const Failure bad = schedule::parse(options, &s);
    if (bad.isError())
        return bad;
    const AppStatus st = m_record.status;
    if (!s.isEmpty() && ((st != AppStatus::Migrating && st != AppStatus::Syncing) || m_migration.isEmpty()))
        return {Error::WrongState, Text("schedule.not-syncing", "%1 is %2: only an app whose migration has started, "
                                                                "and is not being finished, syncs on a schedule.")
                                       .arg(m_profile.name, toString(st))};
    if (!s.isEmpty()) {
        s.createdBy = uid;
        s.anchor = nowUsec();
        // The record of the runs goes on across a change of the settings.
        s.lastRun = m_schedule.lastRun;
        s.lastOutcome = m_schedule.lastOutcome;
        s.lastMessage = m_schedule.lastMessage;
        s.lastJob = m_schedule.lastJob;
        s.runs = m_schedule.runs;
        s.failures = m_schedule.failures;
        s.skipped = m_schedule.skipped;
    }
    const bool saved = s.isEmpty() ? m_ctx->state->removeSchedule(m_profile.id, kSyncKind)
                                   : m_ctx->state->saveSchedule(m_profile.id, kSyncKind, s.toJson());
    if (!saved)
        return Failure::failed(Text("schedule.not-saved", "The schedule could not be saved: %1").arg(m_ctx->state->lastError()));
    m_schedule = s;
    Log::info(s.isEmpty() ? QStringLiteral("%1: sync schedule removed (uid %2)").arg(m_profile.name).arg(uid)
                          : QStringLiteral("%1: sync schedule set by uid %2: %3").arg(m_profile.name).arg(uid).arg(describe(s)));
    armSync(QDateTime::currentDateTime());
    return {};
}

void Migration::armSync(const QDateTime &after)
{
    m_syncTimer->stop();
    m_nextSync = 0;
    if (!m_schedule.isEmpty()) {
        const QDateTime next = schedule::nextRun(m_schedule, after);
        if (next.isValid()) {
            m_nextSync = next.toMSecsSinceEpoch() * 1000;
            const qint64 ms = next.toMSecsSinceEpoch() - QDateTime::currentMSecsSinceEpoch();
            m_syncTimer->start(int(qBound<qint64>(0, ms, kMaxSleepMs)));
        }
    }
    changed({QStringLiteral("Schedule")});
}

void Migration::syncTimeCame()
{
    const qint64 due = m_nextSync / 1000;
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    if (due == 0)
        return;
    if (now + 500 < due) // the hourly look at the clock
        return armSync(QDateTime::currentDateTime());
    runScheduledSync();
    armSync(QDateTime::fromMSecsSinceEpoch(qMax(now, due)));
}

void Migration::runScheduledSync()
{
    const QDateTime now = QDateTime::currentDateTime();
    if (schedule::inQuietWindow(m_schedule, now))
        return scheduledSyncEnded(QStringLiteral("skipped"), nullptr,
                                  {Text("schedule.skipped.quiet", "The scheduled sync was skipped: %1 is in the quiet "
                                                                  "window (%2 to %3).")
                                       .arg(now.toString(QStringLiteral("HH:mm")), m_schedule.quietFrom.toString(QStringLiteral("HH:mm")),
                                            m_schedule.quietTo.toString(QStringLiteral("HH:mm")))});
    Failure refused = syncRefusal();
    if (!refused.isError() && m_ctx->cluster->isRestoringTunnel())
        refused = {Error::WrongState, Text("schedule.skipped.tunnel", "The tunnel to the cluster was being restored.")};
    if (refused.isError())
        return scheduledSyncEnded(QStringLiteral("skipped"), nullptr,
                                  Texts{Text("schedule.skipped", "The scheduled sync was skipped:")} + refused.texts);
    Failure failure = m_ctx->throughTunnel({m_ctx->link->leaderVpnIp, m_migration.address});
    QVariantMap options;
    if (m_schedule.bwlimit)
        options.insert(QStringLiteral("bwlimit"), m_schedule.bwlimit);
    Job *job = failure.isError()
                   ? nullptr
                   : beginSync(m_schedule.createdBy, options,
                               Text("schedule.sync.started", "Scheduled sync (the schedule of uid %1).").arg(m_schedule.createdBy),
                               &failure);
    if (!job)
        return scheduledSyncEnded(QStringLiteral("failed"), nullptr,
                                  Texts{Text("schedule.failed", "The scheduled sync could not start:")} + failure.texts);
    scheduledSyncEnded(QStringLiteral("running"), job, {});
    connect(job, &Job::finished, this, [this, job](bool ok, const QString &) {
        scheduledSyncEnded(ok ? QStringLiteral("succeeded") : job->cancelRequested() ? QStringLiteral("canceled") : QStringLiteral("failed"),
                           job, job->messageTexts());
    });
}

// OUTCOME of a run (running, succeeded, failed, canceled, skipped) with its
// job (none when skipped) and its sentences, saved with the schedule.
void Migration::scheduledSyncEnded(const QString &outcome, Job *job, const Texts &message)
{
    if (m_schedule.isEmpty())
        return; // removed while it ran
    const bool begins = outcome == u"running" || outcome == u"skipped" || (!job && m_schedule.lastOutcome != u"running");
    if (begins)
        m_schedule.lastRun = nowUsec();
    if (outcome == u"running")
        ++m_schedule.runs;
    else if (outcome == u"skipped")
        ++m_schedule.skipped;
    else if (outcome == u"failed")
        ++m_schedule.failures;
    m_schedule.lastOutcome = outcome;
    m_schedule.lastMessage = message;
    m_schedule.lastJob = job ? job->path() : QString();
    m_ctx->state->saveSchedule(m_profile.id, kSyncKind, m_schedule.toJson());
    const QString line = QStringLiteral("%1: scheduled sync %2%3").arg(m_profile.name, outcome,
                                                                      message.isEmpty() ? QString() : QStringLiteral(": ") + english(message));
    const LogContext ctx = job ? job->logContext() : LogContext{};
    if (outcome == u"failed" || outcome == u"skipped")
        Log::warning(line + QStringLiteral(" (the schedule goes on)"), ctx);
    else if (outcome != u"running")
        Log::info(line, ctx);
    changed({QStringLiteral("Schedule")});
}

// The app is done with syncing (migrated, aborted, skipped): its
// schedule goes, and a Finish not started yet is cancelled.
void Migration::dropSchedules(AppStatus status)
{
    if (!m_schedule.isEmpty()) {
        m_ctx->state->removeSchedule(m_profile.id, kSyncKind);
        m_schedule = {};
        Log::info(QStringLiteral("%1 is %2: its sync schedule was removed").arg(m_profile.name, toString(status)));
        armSync(QDateTime::currentDateTime());
    }
    if (m_finishSchedule.isPending())
        finishScheduleEnded(QStringLiteral("cancelled"),
                            {Text("schedule.finish.dropped", "%1 is %2 now: the scheduled Finish was cancelled.")
                                 .arg(m_profile.name, toString(status))});
}

// ------------------------------------------------------------ Finish

QList<OptionSpec> Migration::scheduleFinishOptions() const
{
    QList<OptionSpec> specs = finishOptions();
    specs.append({"presync_lead", 'u'});
    return specs;
}

// App.ScheduleFinish: checked now as Finish is (state, fields, the
// configure input, Preflight: a blocker refuses, warnings need
// accept_warnings), then kept for WHEN (µs since the epoch).
void Migration::scheduleFinish(sd_bus_message *call, quint32 uid, qint64 when, const QVariantMap &options)
{
    if (m_finishSchedule.isPending())
        return void(replyError(call, {Error::WrongState, Text("schedule.finish.exists", "A Finish of %1 is already "
                                                                                          "scheduled for %2: cancel it "
                                                                                          "first.")
                                                              .arg(m_profile.name, whenText(m_finishSchedule.when))}));
    const qint64 now = nowUsec();
    if (when <= now || when > now + kFinishHorizonUsec)
        return void(replyError(call, {Error::InvalidArgument, Text("schedule.finish.when", "when: a Finish is scheduled "
                                                                                            "for a time in the next 90 "
                                                                                            "days (microseconds since the epoch).")}));
    QVariantMap values;
    const Failure refused = finishRefusal(options, &values);
    if (refused.isError())
        return void(replyError(call, refused));
    if (waitForTunnel(call, [this, uid, when, options](sd_bus_message *c) { scheduleFinish(c, uid, when, options); }))
        return;
    if (refuseOutsideTunnel(call, {m_ctx->link->leaderVpnIp}))
        return;
    Preflight::Input in;
    in.phase = Preflight::Phase::Finish;
    in.options = options;
    in.options.insert(QStringLiteral("app"), m_profile.id);
    const PendingCall pending(call);
    QPointer<Migration> self(this);
    Preflight::run(m_ctx, in, [self, pending, uid, when, options](const QList<Check> &checks) {
        if (self)
            self->finishScheduleChecked(pending.msg(), uid, when, options, checks);
    });
}

void Migration::finishScheduleChecked(sd_bus_message *call, quint32 uid, qint64 when, const QVariantMap &options,
                                      const QList<Check> &checks)
{
    const bool accept = options.value(QStringLiteral("accept_warnings")).toBool();
    if (const std::optional<BusError> e = Preflight::verdict(checks, Preflight::Phase::Finish, accept))
        return void(replyError(call, *e));
    QVariantMap values;
    const Failure refused = finishRefusal(options, &values); // the state may have changed meanwhile
    if (refused.isError() || m_finishSchedule.isPending())
        return void(replyError(call, refused.isError() ? refused
                                                       : Failure(Error::WrongState, Text("schedule.finish.exists", "A Finish of %1 is already scheduled for %2: cancel it first.")
                                                                                        .arg(m_profile.name, whenText(m_finishSchedule.when)))));
    FinishSchedule f;
    f.when = when;
    f.state = QStringLiteral("scheduled");
    f.options = options;
    f.options.remove(QStringLiteral("presync_lead"));
    f.acceptedWarnings = warningIds(checks);
    f.createdBy = uid;
    const qint64 lead = qint64(options.value(QStringLiteral("presync_lead"), quint32(kPresyncLeadSeconds)).toUInt()) * 1000000;
    // The sync before it, when there is time for one; otherwise the
    // Finish's own pass before the stop is all there is.
    f.presyncAt = lead > 0 && when - lead > nowUsec() ? when - lead : 0;
    if (!m_ctx->state->saveSchedule(m_profile.id, kFinishKind, f.toJson()))
        return void(replyError(call, Failure::failed(Text("schedule.not-saved", "The schedule could not be saved: %1")
                                                         .arg(m_ctx->state->lastError()))));
    m_finishSchedule = f;
    Log::info(QStringLiteral("%1: Finish scheduled by uid %2 for %3%4%5")
                  .arg(m_profile.name)
                  .arg(uid)
                  .arg(whenText(when),
                       f.presyncAt ? QStringLiteral(", a sync at %1").arg(whenText(f.presyncAt)) : QString(),
                       f.acceptedWarnings.isEmpty() ? QString()
                                                    : QStringLiteral(", warnings accepted: ") + f.acceptedWarnings.join(QStringLiteral(", "))));
    armFinish();
    changed({QStringLiteral("ScheduledFinish")});
    sd_bus_reply_method_return(call, "");
}

Failure Migration::cancelScheduledFinish(quint32 uid)
{
    if (!m_finishSchedule.isPending())
        return {Error::WrongState, m_finishSchedule.state == u"started"
                                       ? Text("schedule.finish.started", "The scheduled Finish of %1 has started: it "
                                                                         "cannot be cancelled any more.")
                                             .arg(m_profile.name)
                                       : Text("schedule.finish.none", "No Finish of %1 is scheduled.").arg(m_profile.name)};
    finishScheduleEnded(QStringLiteral("cancelled"),
                        {Text("schedule.finish.cancelled", "Cancelled by uid %1.").arg(uid)});
    return {};
}

void Migration::armFinish()
{
    m_finishTimer->stop();
    if (!m_finishSchedule.isPending())
        return;
    const qint64 at = m_finishSchedule.presyncAt ? m_finishSchedule.presyncAt : m_finishSchedule.when;
    const qint64 ms = at / 1000 - QDateTime::currentMSecsSinceEpoch();
    m_finishTimer->start(int(qBound<qint64>(0, ms, kMaxSleepMs)));
}

void Migration::finishTimeCame()
{
    if (!m_finishSchedule.isPending())
        return;
    const qint64 now = nowUsec();
    if (m_finishSchedule.presyncAt) {
        if (now + 500000 < m_finishSchedule.presyncAt)
            return armFinish();
        runFinishPresync();
        return armFinish();
    }
    if (now + 500000 < m_finishSchedule.when)
        return armFinish();
    // A job of the app (the sync before it, a Sync, a Scan) ends first.
    if (isBusy() || m_ctx->cluster->isRestoringTunnel() || m_finishChecking)
        return m_finishTimer->start(kBusyRetryMs);
    QVariantMap values;
    Failure refused = finishRefusal(m_finishSchedule.options, &values);
    if (!refused.isError() && m_ctx->isJoined())
        refused = m_ctx->throughTunnel({m_ctx->link->leaderVpnIp});
    if (refused.isError())
        return finishScheduleEnded(QStringLiteral("blocked"),
                                   Texts{Text("schedule.finish.not-started", "The scheduled Finish did not start:")} + refused.texts);
    Log::info(QStringLiteral("%1: the time of the scheduled Finish: Preflight again").arg(m_profile.name));
    Preflight::Input in;
    in.phase = Preflight::Phase::Finish;
    in.options = m_finishSchedule.options;
    in.options.insert(QStringLiteral("app"), m_profile.id);
    m_finishChecking = true;
    QPointer<Migration> self(this);
    Preflight::run(m_ctx, in, [self](const QList<Check> &checks) {
        if (self)
            self->scheduledFinishChecked(checks);
    });
}

void Migration::runFinishPresync()
{
    m_finishSchedule.presyncAt = 0;
    const Text why = Text("schedule.presync", "The sync before the Finish scheduled for %1.").arg(whenText(m_finishSchedule.when));
    Failure failure = syncRefusal();
    if (!failure.isError())
        failure = m_ctx->throughTunnel({m_ctx->link->leaderVpnIp, m_migration.address});
    Job *job = failure.isError() ? nullptr : beginSync(m_finishSchedule.createdBy, {}, why, &failure);
    if (job)
        m_finishSchedule.job = job->path();
    else
        Log::warning(QStringLiteral("%1: the sync before the scheduled Finish did not start (the Finish syncs first "
                                    "anyway): %2")
                         .arg(m_profile.name, failure.message));
    m_finishSchedule.state = QStringLiteral("presync");
    m_ctx->state->saveSchedule(m_profile.id, kFinishKind, m_finishSchedule.toJson());
    changed({QStringLiteral("ScheduledFinish")});
}

// Preflight at the time of the Finish: a blocker, or a warning that was not
// there when it was scheduled, stops it; otherwise Finish starts as if called.
void Migration::scheduledFinishChecked(const QList<Check> &checks)
{
    m_finishChecking = false;
    if (!m_finishSchedule.isPending())
        return; // cancelled while the checks ran
    const Text head("schedule.finish.not-started", "The scheduled Finish did not start:");
    if (const std::optional<BusError> blocked = Preflight::verdict(checks, Preflight::Phase::Finish, true))
        return finishScheduleEnded(QStringLiteral("blocked"), Texts{head} + blocked->texts);
    QStringList fresh;
    for (const QString &id : warningIds(checks))
        if (!m_finishSchedule.acceptedWarnings.contains(id))
            fresh.append(id);
    if (!fresh.isEmpty()) {
        const std::optional<BusError> w = Preflight::verdict(checks, Preflight::Phase::Finish, false);
        return finishScheduleEnded(QStringLiteral("blocked"),
                                   Texts{head, Text("schedule.finish.new-warnings", "Preflight warns of something that "
                                                                                    "was not there when it was "
                                                                                    "scheduled (%1); schedule it again "
                                                                                    "to accept it.")
                                                   .arg(fresh.join(QStringLiteral(", ")))}
                                       + (w ? w->texts : Texts{}));
    }
    if (isBusy())
        return m_finishTimer->start(kBusyRetryMs);
    QVariantMap values;
    Failure failure = finishRefusal(m_finishSchedule.options, &values);
    Job *job = failure.isError() ? nullptr : beginFinish(m_finishSchedule.createdBy, values, &failure);
    if (!job)
        return finishScheduleEnded(QStringLiteral("blocked"), Texts{head} + failure.texts);
    Log::info(QStringLiteral("%1: scheduled Finish started (scheduled by uid %2)").arg(m_profile.name).arg(m_finishSchedule.createdBy),
              job->logContext());
    m_finishSchedule.job = job->path();
    finishScheduleEnded(QStringLiteral("started"), {});
    connect(job, &Job::finished, this, [this, job](bool ok, const QString &) {
        if (m_finishSchedule.state == u"started" && m_finishSchedule.job == job->path())
            finishScheduleEnded(ok ? QStringLiteral("succeeded") : QStringLiteral("failed"), job->messageTexts());
    });
}

// The scheduled Finish is STATE now (started, succeeded, failed, blocked,
// cancelled), for REASON; saved, logged, the timer stopped.
void Migration::finishScheduleEnded(const QString &state, const Texts &reason)
{
    m_finishSchedule.state = state;
    m_finishSchedule.reason = reason;
    m_ctx->state->saveSchedule(m_profile.id, kFinishKind, m_finishSchedule.toJson());
    const QString line = QStringLiteral("%1: scheduled Finish %2%3").arg(m_profile.name, state,
                                                                       reason.isEmpty() ? QString() : QStringLiteral(": ") + english(reason));
    if (state == u"blocked" || state == u"failed")
        Log::warning(line);
    else
        Log::info(line);
    armFinish();
    changed({QStringLiteral("ScheduledFinish")});
}

} // namespace ns8m
