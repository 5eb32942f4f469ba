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

int getProperty(sd_bus *, const char *, const char *, const char *property,
                sd_bus_message *reply, void *userdata, sd_bus_error *)
{
    return static_cast<Job *>(userdata)->appendProperty(property, reply);
}

int methodCancel(sd_bus_message *m, void *userdata, sd_bus_error *);

const sd_bus_vtable kJobVtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_METHOD_WITH_ARGS("Cancel", SD_BUS_ARGS("a{sv}", options), SD_BUS_NO_RESULT,
                            methodCancel, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_SIGNAL_WITH_ARGS("Completed", SD_BUS_ARGS("b", success, "s", message), 0),
    SD_BUS_PROPERTY("Operation", "s", getProperty, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("Object", "o", getProperty, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("Steps", "a(ssd)", getProperty, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
    SD_BUS_PROPERTY("CurrentStep", "s", getProperty, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
    SD_BUS_PROPERTY("Progress", "d", getProperty, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
    SD_BUS_PROPERTY("ProgressValid", "b", getProperty, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
    SD_BUS_PROPERTY("Bytes", "t", getProperty, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
    SD_BUS_PROPERTY("BytesTotal", "t", getProperty, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
    SD_BUS_PROPERTY("Rate", "t", getProperty, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
    SD_BUS_PROPERTY("StartTime", "t", getProperty, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("ExpectedEndTime", "t", getProperty, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
    SD_BUS_PROPERTY("Cancelable", "b", getProperty, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
    SD_BUS_PROPERTY("StartedByUID", "u", getProperty, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("Finished", "b", getProperty, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
    SD_BUS_PROPERTY("Success", "b", getProperty, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
    SD_BUS_PROPERTY("Message", "s", getProperty, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
    SD_BUS_PROPERTY("ErrorName", "s", getProperty, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
    SD_BUS_VTABLE_END,
};

int methodCancel(sd_bus_message *m, void *userdata, sd_bus_error *)
{
    auto *job = static_cast<Job *>(userdata);
    QVariantMap options;
    BusError error;
    if (!readOptions(m, {}, &options, &error))
        return replyError(m, error);
    QPointer<Job> guard(job);
    job->authority()->check(m, job->cancelAction(), [guard](sd_bus_message *call, quint32 uid) {
        if (!guard || guard->isFinished()) {
            replyError(call, {QString::fromLatin1(Error::WrongState),
                              QStringLiteral("This job has already ended; there is nothing to cancel.")});
            return;
        }
        if (!guard->isCancelable()) {
            replyError(call, {QString::fromLatin1(Error::WrongState),
                              QStringLiteral("This job cannot be canceled at this point: it would "
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
                                           kJobVtable, this);
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
    QStringList names(m_dirty.begin(), m_dirty.end());
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
    // Steps before this one are done.
    for (JobStep &s : m_p.steps) {
        if (s.id == id)
            break;
        s.progress = 1.0;
    }
    m_currentStep = id;
    markDirty(QStringLiteral("CurrentStep"));
    markDirty(QStringLiteral("Steps"));
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

void Job::finish(Outcome outcome, const QString &message)
{
    if (m_finished)
        return;
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
    m_currentStep.clear();
    m_cancelable = false;
    m_rate = 0;
    m_expectedEnd = m_success ? nowUsec() : 0;
    m_dirty << QStringLiteral("CurrentStep") << QStringLiteral("Cancelable") << QStringLiteral("Rate")
            << QStringLiteral("ExpectedEndTime") << QStringLiteral("Finished")
            << QStringLiteral("Success") << QStringLiteral("Message") << QStringLiteral("ErrorName");
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

int Job::appendProperty(const char *name, sd_bus_message *reply) const
{
    const QLatin1String n(name);
    if (n == QLatin1String("Operation"))
        return sd_bus_message_append(reply, "s", m_p.operation.toUtf8().constData());
    if (n == QLatin1String("Object"))
        return sd_bus_message_append(reply, "o", m_p.objectPath.toUtf8().constData());
    if (n == QLatin1String("Steps")) {
        int r = sd_bus_message_open_container(reply, 'a', "(ssd)");
        for (const JobStep &s : m_p.steps) {
            if (r < 0)
                return r;
            r = sd_bus_message_append(reply, "(ssd)", s.id.toUtf8().constData(),
                                      s.title.toUtf8().constData(), s.progress);
        }
        return r < 0 ? r : sd_bus_message_close_container(reply);
    }
    if (n == QLatin1String("CurrentStep"))
        return sd_bus_message_append(reply, "s", m_currentStep.toUtf8().constData());
    if (n == QLatin1String("Progress"))
        return sd_bus_message_append(reply, "d", m_progress);
    if (n == QLatin1String("ProgressValid"))
        return sd_bus_message_append(reply, "b", int(m_progressValid));
    if (n == QLatin1String("Bytes"))
        return sd_bus_message_append(reply, "t", quint64(m_bytes));
    if (n == QLatin1String("BytesTotal"))
        return sd_bus_message_append(reply, "t", quint64(m_bytesTotal));
    if (n == QLatin1String("Rate"))
        return sd_bus_message_append(reply, "t", quint64(m_rate));
    if (n == QLatin1String("StartTime"))
        return sd_bus_message_append(reply, "t", quint64(m_startTime));
    if (n == QLatin1String("ExpectedEndTime"))
        return sd_bus_message_append(reply, "t", quint64(m_expectedEnd));
    if (n == QLatin1String("Cancelable"))
        return sd_bus_message_append(reply, "b", int(isCancelable()));
    if (n == QLatin1String("StartedByUID"))
        return sd_bus_message_append(reply, "u", m_p.startedByUid);
    if (n == QLatin1String("Finished"))
        return sd_bus_message_append(reply, "b", int(m_finished));
    if (n == QLatin1String("Success"))
        return sd_bus_message_append(reply, "b", int(m_success));
    if (n == QLatin1String("Message"))
        return sd_bus_message_append(reply, "s", m_message.toUtf8().constData());
    if (n == QLatin1String("ErrorName"))
        return sd_bus_message_append(reply, "s", m_errorName.toUtf8().constData());
    return -ENOENT;
}

} // namespace ns8m
