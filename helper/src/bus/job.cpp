#include "bus/job.h"

#include "bus/authority.h"
#include "store/statedb.h"

#include <QDateTime>
#include <QPointer>

#include <algorithm>
#include <cmath>

namespace ns8m {

namespace {

// Property changes are sent at most this often.
constexpr int kFlushIntervalMs = 250;

const sd_bus_vtable *jobVtable(); // at the end of the file, with the getters

} // namespace

qint64 nowUsec()
{
    return QDateTime::currentMSecsSinceEpoch() * 1000;
}

Job::Job(Bus *bus, StateDb *state, Authority *authority, Params params, QObject *parent)
    : QObject(parent), m_bus(bus), m_state(state), m_authority(authority), m_p(std::move(params))
{
    m_startTime = nowUsec();
    m_clock.start();
    m_flushTimer.setSingleShot(true);
    m_flushTimer.setInterval(kFlushIntervalMs);
    connect(&m_flushTimer, &QTimer::timeout, this, &Job::flush);
    m_lingerTimer.setSingleShot(true);
    connect(&m_lingerTimer, &QTimer::timeout, this, [this] {
        unpublish();
        deleteLater();
    });
}

Job::~Job()
{
    if (!m_finished && m_state)
        m_state->finishJob(m_p.id, QStringLiteral("failed"),
                           QStringLiteral("The helper stopped before this job finished."), nowUsec());
    unpublish();
}

QString Job::path() const
{
    return QStringLiteral("%1/jobs/%2").arg(QLatin1String(kRootPath)).arg(m_p.id);
}

LogContext Job::logContext() const
{
    return {m_p.id, m_p.operation, m_p.objectId, m_currentStep};
}

bool Job::publish(QString *error)
{
    JobRecord rec;
    rec.id = m_p.id;
    rec.operation = m_p.operation;
    rec.object = m_p.objectPath;
    rec.startedByUid = m_p.startedByUid;
    rec.startTime = m_startTime;
    if (!m_state->insertJob(rec)) {
        *error = QStringLiteral("cannot record the job in the state database: %1").arg(m_state->lastError());
        return false;
    }
    const QByteArray p = path().toUtf8();
    const int r = sd_bus_add_object_vtable(m_bus->handle(), &m_slot, p.constData(), kJobIface,
                                           jobVtable(), this);
    if (r < 0) {
        *error = QStringLiteral("cannot put the job on the bus");
        return false;
    }
    m_bus->emitObjectAdded(path());
    QStringList titles;
    for (const JobStep &s : std::as_const(m_p.steps))
        titles.append(s.title);
    Log::info(QStringLiteral("started by uid %1; steps: %2")
                  .arg(m_p.startedByUid)
                  .arg(titles.join(QStringLiteral(", "))),
              logContext());
    return true;
}

void Job::unpublish()
{
    if (!m_slot)
        return;
    m_bus->emitObjectRemoved(path());
    sd_bus_slot_unref(m_slot);
    m_slot = nullptr;
}

void Job::markDirty(const QString &property)
{
    m_dirty.insert(property);
    if (!m_flushTimer.isActive())
        m_flushTimer.start();
}

void Job::flush()
{
    m_flushTimer.stop();
    if (m_dirty.isEmpty() || !m_slot)
        return;
    QStringList names = m_dirty.values();
    names.sort();
    m_dirty.clear();
    m_bus->emitPropertiesChanged(path(), kJobIface, names);
}

void Job::beginStep(const QString &id)
{
    if (m_finished || m_currentStep == id)
        return;
    const bool known = std::any_of(m_p.steps.cbegin(), m_p.steps.cend(), [&id](const JobStep &s) { return s.id == id; });
    Q_ASSERT_X(known, "Job::beginStep", "a step id that is not in the job's table");
    if (!known) {
        Log::error(QStringLiteral("internal error: step %1 is not one of this job's").arg(id), logContext());
        return;
    }
    // Steps before this one are done; the one that ran ends now.
    const qint64 now = nowUsec();
    for (JobStep &s : m_p.steps) {
        if (s.id == id) {
            s.began = now;
            s.ended = 0;
            break;
        }
        s.progress = 1.0;
        if (s.began && !s.ended)
            s.ended = now;
    }
    m_currentStep = id;
    markDirty(QStringLiteral("CurrentStep"));
    markDirty(QStringLiteral("Steps"));
    markDirty(QStringLiteral("StepTimes"));
    updateOverall();
    QString title = id;
    for (const JobStep &s : std::as_const(m_p.steps))
        if (s.id == id)
            title = s.title;
    Log::info(QStringLiteral("step: %1").arg(title), logContext());
}

void Job::setStepProgress(const QString &id, double progress)
{
    if (m_finished)
        return;
    progress = std::clamp(progress, 0.0, 1.0);
    for (JobStep &s : m_p.steps)
        if (s.id == id && progress > s.progress) {
            s.progress = progress;
            markDirty(QStringLiteral("Steps"));
            updateOverall();
        }
}

void Job::updateOverall()
{
    double total = 0, done = 0;
    for (const JobStep &s : std::as_const(m_p.steps)) {
        total += s.weight;
        done += s.weight * s.progress;
    }
    const double p = total > 0 ? std::clamp(done / total, 0.0, 1.0) : 0.0;
    if (!m_progressValid) {
        m_progressValid = true;
        markDirty(QStringLiteral("ProgressValid"));
    }
    if (p > m_progress) {
        m_progress = p;
        markDirty(QStringLiteral("Progress"));
        const qint64 elapsed = m_clock.elapsed();
        if (p >= 0.02 && elapsed >= 1000) {
            const qint64 expected = m_startTime + qint64(double(elapsed) * 1000.0 / p);
            if (expected != m_expectedEnd) {
                m_expectedEnd = expected;
                markDirty(QStringLiteral("ExpectedEndTime"));
            }
        }
    }
}

void Job::setBytes(quint64 bytes, quint64 total)
{
    if (m_finished)
        return;
    if (bytes != m_bytes) {
        m_bytes = bytes;
        markDirty(QStringLiteral("Bytes"));
    }
    if (total != m_bytesTotal) {
        m_bytesTotal = total;
        markDirty(QStringLiteral("BytesTotal"));
    }
}

void Job::setRate(quint64 bytesPerSecond)
{
    if (!m_finished && bytesPerSecond != m_rate) {
        m_rate = bytesPerSecond;
        markDirty(QStringLiteral("Rate"));
    }
}

void Job::setCancelable(bool cancelable)
{
    if (cancelable != m_cancelable) {
        m_cancelable = cancelable;
        markDirty(QStringLiteral("Cancelable"));
    }
}

void Job::setErrorName(const QString &name)
{
    if (!m_finished && name != m_errorName) {
        m_errorName = name;
        markDirty(QStringLiteral("ErrorName"));
    }
}

void Job::requestCancel()
{
    if (m_finished || m_cancelRequested)
        return;
    m_cancelRequested = true;
    Log::info(QStringLiteral("cancel requested"), logContext());
    emit canceled();
}

void Job::finish(Outcome outcome, const Texts &texts)
{
    if (m_finished)
        return;
    const QString message = english(texts);
    m_messageTexts = texts;
    m_finished = true;
    m_success = outcome == Outcome::Succeeded;
    if (m_success)
        m_errorName.clear();
    else if (m_errorName.isEmpty())
        m_errorName = QString::fromLatin1(outcome == Outcome::Canceled ? Error::Canceled
                                                                       : Error::Failed);
    m_message = message;
    if (m_success) {
        for (JobStep &s : m_p.steps)
            s.progress = 1.0;
        m_progress = 1.0;
        m_progressValid = true;
        m_dirty << QStringLiteral("Steps") << QStringLiteral("Progress")
                << QStringLiteral("ProgressValid");
    }
    for (JobStep &s : m_p.steps)
        if (s.began && !s.ended)
            s.ended = nowUsec();
    m_currentStep.clear();
    m_cancelable = false;
    m_rate = 0;
    m_expectedEnd = m_success ? nowUsec() : 0;
    m_dirty << QStringLiteral("CurrentStep") << QStringLiteral("Cancelable") << QStringLiteral("Rate")
            << QStringLiteral("ExpectedEndTime") << QStringLiteral("Finished")
            << QStringLiteral("Success") << QStringLiteral("Message") << QStringLiteral("MessageTexts")
            << QStringLiteral("ErrorName") << QStringLiteral("StepTimes");
    flush();

    static const char *const statusNames[] = {"succeeded", "failed", "canceled"};
    const QString status = QString::fromLatin1(statusNames[int(outcome)]);
    if (!m_state->finishJob(m_p.id, status, message, nowUsec()))
        Log::error(QStringLiteral("cannot record the outcome in the state database: %1")
                       .arg(m_state->lastError()),
                   logContext());
    LogContext ctx = logContext();
    const QString line = QStringLiteral("%1 after %2: %3")
                             .arg(status, humanDuration(m_clock.elapsed()), message);
    if (m_success)
        Log::info(line, ctx);
    else
        Log::error(line, ctx);

    if (m_slot)
        sd_bus_emit_signal(m_bus->handle(), path().toUtf8().constData(), kJobIface, "Completed", "bs",
                           int(m_success), message.toUtf8().constData());
    m_lingerTimer.start(m_p.lingerSeconds * 1000);
    emit finished(m_success, message);
}

// ------------------------------------------------------------ the bus edge

namespace {

} // namespace

// Who may cancel a job whose cancel action is ACTION: whoever may start such
// a job.  A Sync is started with .sync or .migrate (App.Sync asks for
// either), so either cancels it.  A job that can never be canceled (no
// action: connect, disconnect, abort) asks for .read, so that callers who
// may not even look at the helper are refused before they learn anything.
QList<const char *> Job::cancelActions(const char *action)
{
    if (!action)
        return {Action::Read};
    if (qstrcmp(action, Action::Sync) == 0)
        return {Action::Sync, Action::Migrate};
    return {action};
}

namespace {

int methodCancel(sd_bus_message *m, void *userdata, sd_bus_error *)
{
    auto *job = static_cast<Job *>(userdata);
    QVariantMap options;
    BusError error;
    if (!readOptions(m, {}, &options, &error))
        return replyError(m, error);
    QPointer<Job> guard(job);
    const bool never = !job->cancelAction(); // asked for .read only: never cancels
    job->authority()->checkAny(m, Job::cancelActions(job->cancelAction()), [guard, never](sd_bus_message *call, quint32 uid) {
        if (!guard || guard->isFinished()) {
            replyError(call, {Error::WrongState,
                              Text("job.cancel.ended", "This job has already ended; there is nothing to cancel.")});
            return;
        }
        if (never || !guard->isCancelable()) {
            replyError(call, {Error::WrongState,
                              Text("job.cancel.not-now", "This job cannot be canceled at this point: it would "
                                                         "leave things half done. Wait for it to end.")});
            return;
        }
        Log::info(QStringLiteral("cancel asked by uid %1").arg(uid), guard->logContext());
        guard->requestCancel();
        sd_bus_reply_method_return(call, "");
    });
    return 1;
}

} // namespace

struct JobObject {
    static const Job &of(void *userdata) { return *static_cast<const Job *>(userdata); }
    static int str(sd_bus_message *reply, const char *type, const QString &s)
    {
        return sd_bus_message_append(reply, type, s.toUtf8().constData());
    }

    NS8M_BUS_GETTER(operation) { return str(reply, "s", of(userdata).m_p.operation); }
    NS8M_BUS_GETTER(object) { return str(reply, "o", of(userdata).m_p.objectPath); }
    NS8M_BUS_GETTER(steps)
    {
        int r = sd_bus_message_open_container(reply, 'a', "(ssd)");
        for (const JobStep &s : of(userdata).m_p.steps)
            if (r >= 0)
                r = sd_bus_message_append(reply, "(ssd)", s.id.toUtf8().constData(), s.title.toUtf8().constData(),
                                          s.progress);
        return r < 0 ? r : sd_bus_message_close_container(reply);
    }
    NS8M_BUS_GETTER(stepTimes)
    {
        int r = sd_bus_message_open_container(reply, 'a', "(stt)");
        for (const JobStep &s : of(userdata).m_p.steps)
            if (r >= 0)
                r = sd_bus_message_append(reply, "(stt)", s.id.toUtf8().constData(), quint64(s.began), quint64(s.ended));
        return r < 0 ? r : sd_bus_message_close_container(reply);
    }
    NS8M_BUS_GETTER(currentStep) { return str(reply, "s", of(userdata).m_currentStep); }
    NS8M_BUS_GETTER(progress) { return sd_bus_message_append(reply, "d", of(userdata).m_progress); }
    NS8M_BUS_GETTER(progressValid) { return sd_bus_message_append(reply, "b", int(of(userdata).m_progressValid)); }
    NS8M_BUS_GETTER(bytes) { return sd_bus_message_append(reply, "t", quint64(of(userdata).m_bytes)); }
    NS8M_BUS_GETTER(bytesTotal) { return sd_bus_message_append(reply, "t", quint64(of(userdata).m_bytesTotal)); }
    NS8M_BUS_GETTER(rate) { return sd_bus_message_append(reply, "t", quint64(of(userdata).m_rate)); }
    NS8M_BUS_GETTER(startTime) { return sd_bus_message_append(reply, "t", quint64(of(userdata).m_startTime)); }
    NS8M_BUS_GETTER(expectedEndTime) { return sd_bus_message_append(reply, "t", quint64(of(userdata).m_expectedEnd)); }
    NS8M_BUS_GETTER(cancelable) { return sd_bus_message_append(reply, "b", int(of(userdata).isCancelable())); }
    NS8M_BUS_GETTER(startedByUid) { return sd_bus_message_append(reply, "u", of(userdata).m_p.startedByUid); }
    NS8M_BUS_GETTER(finished) { return sd_bus_message_append(reply, "b", int(of(userdata).m_finished)); }
    NS8M_BUS_GETTER(success) { return sd_bus_message_append(reply, "b", int(of(userdata).m_success)); }
    NS8M_BUS_GETTER(message) { return str(reply, "s", of(userdata).m_message); }
    NS8M_BUS_GETTER(messageTexts) { return appendTexts(reply, of(userdata).m_messageTexts); }
    NS8M_BUS_GETTER(errorName) { return str(reply, "s", of(userdata).m_errorName); }
};

// The Job interface on one screen (dbus/org.nethserver.Ns8Migration1.xml).
#define NS8M_JOB_PROPERTY(name, signature, getter, flags) \
    SD_BUS_PROPERTY(name, signature, JobObject::getter, 0, SD_BUS_VTABLE_PROPERTY_##flags)

namespace {

const sd_bus_vtable kJobVtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_METHOD_WITH_ARGS("Cancel", SD_BUS_ARGS("a{sv}", options), SD_BUS_NO_RESULT, methodCancel,
                            SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_SIGNAL_WITH_ARGS("Completed", SD_BUS_ARGS("b", success, "s", message), 0),
    NS8M_JOB_PROPERTY("Operation", "s", operation, CONST),
    NS8M_JOB_PROPERTY("Object", "o", object, CONST),
    NS8M_JOB_PROPERTY("Steps", "a(ssd)", steps, EMITS_CHANGE),
    NS8M_JOB_PROPERTY("StepTimes", "a(stt)", stepTimes, EMITS_CHANGE),
    NS8M_JOB_PROPERTY("CurrentStep", "s", currentStep, EMITS_CHANGE),
    NS8M_JOB_PROPERTY("Progress", "d", progress, EMITS_CHANGE),
    NS8M_JOB_PROPERTY("ProgressValid", "b", progressValid, EMITS_CHANGE),
    NS8M_JOB_PROPERTY("Bytes", "t", bytes, EMITS_CHANGE),
    NS8M_JOB_PROPERTY("BytesTotal", "t", bytesTotal, EMITS_CHANGE),
    NS8M_JOB_PROPERTY("Rate", "t", rate, EMITS_CHANGE),
    NS8M_JOB_PROPERTY("StartTime", "t", startTime, CONST),
    NS8M_JOB_PROPERTY("ExpectedEndTime", "t", expectedEndTime, EMITS_CHANGE),
    NS8M_JOB_PROPERTY("Cancelable", "b", cancelable, EMITS_CHANGE),
    NS8M_JOB_PROPERTY("StartedByUID", "u", startedByUid, CONST),
    NS8M_JOB_PROPERTY("Finished", "b", finished, EMITS_CHANGE),
    NS8M_JOB_PROPERTY("Success", "b", success, EMITS_CHANGE),
    NS8M_JOB_PROPERTY("Message", "s", message, EMITS_CHANGE),
    NS8M_JOB_PROPERTY("MessageTexts", "a(ssas)", messageTexts, EMITS_CHANGE),
    NS8M_JOB_PROPERTY("ErrorName", "s", errorName, EMITS_CHANGE),
    SD_BUS_VTABLE_END,
};

const sd_bus_vtable *jobVtable()
{
    return kJobVtable;
}

} // namespace

#undef NS8M_JOB_PROPERTY

} // namespace ns8m
