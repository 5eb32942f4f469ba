// A long operation on the bus, modelled on udisks2's jobs: callers get its
// path at once, any client can watch it, and it stays on the bus for a while
// after it ends so a page opened later can read the outcome.
#pragma once

#include "bus/bus.h"
#include "core/text.h"
#include "core/log.h"

#include <QElapsedTimer>
#include <QList>
#include <QObject>
#include <QSet>
#include <QTimer>

namespace ns8m {

class Authority;
class StateDb;

struct JobStep {
    QString id;
    QString title;
    double weight = 1.0; // share of the whole job's progress
    double progress = 0.0;
    qint64 began = 0; // µs since the epoch; 0 while it has not begun
    qint64 ended = 0; // 0 while it runs or has not begun
};

class Job : public QObject
{
    Q_OBJECT
public:
    enum class Outcome { Succeeded, Failed, Canceled };

    struct Params {
        quint64 id = 0;
        QString operation;
        QString objectPath;
        QString objectId; // for the log: app id or ""
        quint32 startedByUid = 0;
        const char *cancelAction = nullptr; // polkit action needed to cancel
        QList<JobStep> steps;
        int lingerSeconds = 600;
    };

    Job(Bus *bus, StateDb *state, Authority *authority, Params params, QObject *parent = nullptr);
    ~Job() override;

    // Puts the job on the bus and in the state database.
    bool publish(QString *error);

    quint64 id() const { return m_p.id; }
    QString path() const;
    QString operation() const { return m_p.operation; }
    const char *cancelAction() const { return m_p.cancelAction; }
    // The polkit actions any one of which lets a caller cancel a job whose
    // Params::cancelAction is ACTION (job.cpp says which).
    static QList<const char *> cancelActions(const char *action);
    Authority *authority() const { return m_authority; }
    bool isFinished() const { return m_finished; }
    bool isCancelable() const { return m_cancelable && !m_finished; }
    bool cancelRequested() const { return m_cancelRequested; }
    LogContext logContext() const;

    // Progress reporting, from the code doing the work.
    void beginStep(const QString &id);
    void setStepProgress(const QString &id, double progress);
    void setBytes(quint64 bytes, quint64 total = 0);
    void setRate(quint64 bytesPerSecond);
    void setCancelable(bool cancelable);
    // The D-Bus error name that says what kind of failure ended the job
    // (e.g. ...Error.ClusterUnreachable), so a page can point at the field.
    void setErrorName(const QString &name);
    QString errorName() const { return m_errorName; }

    // Ends the job (once): PropertiesChanged, Completed, state database,
    // log; it leaves the bus after its linger time.  TEXTS are its
    // sentences by id (Message is their English).
    void finish(Outcome outcome, const Texts &texts);
    const Texts &messageTexts() const { return m_messageTexts; }

    // Asks the job to stop: emits canceled(); the worker then finishes it.
    void requestCancel();

signals:
    void canceled();
    void finished(bool success, const QString &message);

private:
    friend struct JobObject; // the bus edge: property getters (job.cpp)
    void markDirty(const QString &property);
    void flush();
    void updateOverall();
    void unpublish();

    Bus *m_bus;
    StateDb *m_state;
    Authority *m_authority;
    Params m_p;
    sd_bus_slot *m_slot = nullptr;
    QString m_currentStep;
    double m_progress = 0.0;
    bool m_progressValid = false;
    quint64 m_bytes = 0;
    quint64 m_bytesTotal = 0;
    quint64 m_rate = 0;
    qint64 m_startTime = 0;
    qint64 m_expectedEnd = 0;
    bool m_cancelable = true;
    bool m_cancelRequested = false;
    bool m_finished = false;
    bool m_success = false;
    QString m_message;
    Texts m_messageTexts;
    QString m_errorName;
    QElapsedTimer m_clock;
    QSet<QString> m_dirty;
    QTimer m_flushTimer;
    QTimer m_lingerTimer;
};

qint64 nowUsec();

} // namespace ns8m
