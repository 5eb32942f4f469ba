#include "operations/operation.h"

#include "bus/job.h"
#include "core/log.h"

#include <QSet>
#include <QTimer>

#include <memory>

namespace ns8m {

QString Operation::validate(const QList<Step> &steps, const QString &operation)
{
    if (steps.isEmpty())
        return QStringLiteral("an operation without steps");
    if (steps.first().id.isEmpty())
        return QStringLiteral("the first step has no id");
    QSet<QString> ids;
    for (const Step &s : steps) {
        if (!s.run)
            return QStringLiteral("step %1 has nothing to run").arg(s.id.isEmpty() ? s.title : s.id);
        const QString titleId = QStringLiteral("step.%1.%2").arg(operation, s.id);
        if (!s.id.isEmpty() && !operation.isEmpty() && s.titleId != titleId)
            return QStringLiteral("the title of step %1 has the text id \"%2\", not \"%3\"").arg(s.id, s.titleId, titleId);
        QStringList own;
        if (!s.id.isEmpty())
            own.append(s.id);
        for (const JobStep &part : s.parts)
            own.append(part.id);
        for (const QString &id : std::as_const(own)) {
            if (id.isEmpty() || ids.contains(id))
                return QStringLiteral("step id \"%1\" is empty or used twice").arg(id);
            ids.insert(id);
        }
    }
    return {};
}

QList<JobStep> Operation::jobSteps(const QList<Step> &steps)
{
    QList<JobStep> out;
    for (const Step &s : steps) {
        if (!s.parts.isEmpty())
            out += s.parts;
        else if (s.id.isEmpty() && !out.isEmpty())
            out.last().weight += s.weight;
        else
            out.append({s.id, s.title, s.weight, 0.0});
    }
    return out;
}

Operation::Operation(Job *job, QList<Step> steps) : QObject(job), m_job(job), m_steps(std::move(steps)) { }

void Operation::start(const QString &from)
{
    const QString problem = validate(m_steps, m_job ? m_job->operation() : QString());
    int row = 0;
    if (!from.isEmpty()) {
        row = -1;
        for (int i = 0; i < m_steps.size(); ++i)
            if (m_steps.at(i).id == from)
                row = i;
    }
    Q_ASSERT_X(problem.isEmpty() && row >= 0, "Operation::start", "a malformed step table");
    if (!problem.isEmpty() || row < 0) {
        m_failure = Failure::failed(Text("operation.internal", "Internal error: %1.")
                                        .arg(problem.isEmpty() ? QStringLiteral("no step ") + from : problem));
        return conclude();
    }
    // Resuming after a commit point: what came before it is not undone.
    if (row > 0)
        m_committed = row - 1;
    runRow(row);
}

void Operation::interrupt(const Failure &why)
{
    if (!m_ended)
        m_interrupted = why;
}

void Operation::setProgress(double fraction)
{
    if (m_job && !m_stepId.isEmpty())
        m_job->setStepProgress(m_stepId, fraction);
}

void Operation::runRow(int row)
{
    if (!m_job)
        return; // the job is gone (the helper is stopping): nothing to report to
    if (row >= m_steps.size())
        return conclude();
    if (m_job->cancelRequested() && m_job->isCancelable())
        return rowDone(row - 1, {Error::Canceled, Text("operation.canceled", "Canceled.")});
    if (m_interrupted.isError())
        return rowDone(row - 1, m_interrupted);
    const Step &step = m_steps.at(row);
    if (!step.parts.isEmpty()) {
        m_stepId = step.parts.first().id; // the row's run begins the others
    } else if (!step.id.isEmpty()) {
        m_stepId = step.id;
        m_job->beginStep(step.id);
    }
    m_stepClock.start();
    // The step may call its Next at once or much later, but only once.
    auto called = std::make_shared<bool>(false);
    QPointer<Operation> self(this);
    step.run([self, row, called](const Failure &failure) {
        if (!self || *called) {
            Q_ASSERT_X(!*called, "Operation", "a step called its Next twice");
            return;
        }
        *called = true;
        // Always from the event loop: a step that answers at once does not
        // grow the stack, and its caller has returned before the next row.
        QTimer::singleShot(0, self, [self, row, failure] {
            if (self)
                self->rowDone(row, failure);
        });
    });
}

void Operation::rowDone(int row, const Failure &failure)
{
    if (!m_job)
        return;
    const LogContext ctx = m_job->logContext();
    if (row >= 0 && !failure.isError()) {
        const Step &step = m_steps.at(row);
        Log::info(QStringLiteral("step %1 done in %2")
                      .arg(step.id.isEmpty() ? step.title : step.id, humanDuration(m_stepClock.elapsed())),
                  ctx);
        if (step.commits)
            m_committed = row;
        return runRow(row + 1);
    }
    m_failure = failure;
    Log::warning(QStringLiteral("step %1 failed after %2: %3")
                     .arg(m_stepId, humanDuration(m_stepClock.elapsed()), failure.message),
                 ctx);
    undoFrom(row);
}

void Operation::undoFrom(int row)
{
    // Newest first, down to the last commit point.
    while (row > m_committed && row >= 0 && !m_steps.at(row).undo)
        --row;
    if (row <= m_committed || row < 0 || !m_job)
        return conclude();
    QPointer<Operation> self(this);
    auto called = std::make_shared<bool>(false);
    m_steps.at(row).undo([self, row, called](const Failure &problem) {
        if (!self || *called)
            return;
        *called = true;
        QTimer::singleShot(0, self, [self, row, problem] {
            if (!self)
                return;
            if (problem.isError()) {
                self->m_undoProblems.append(problem);
                if (self->m_job)
                    Log::error(QStringLiteral("undoing %1 failed: %2").arg(self->m_steps.at(row).title, problem.message),
                               self->m_job->logContext());
            }
            self->undoFrom(row - 1);
        });
    });
}

void Operation::conclude()
{
    if (m_ended || !m_job)
        return;
    m_ended = true;
    if (concluding)
        concluding(m_failure);
    if (!m_job)
        return;
    if (!m_failure.isError()) {
        m_job->finish(Job::Outcome::Succeeded, summary ? summary() : Texts{});
        return;
    }
    Texts message = m_failure.texts;
    if (aftermath)
        message += aftermath(m_failure, m_undoProblems);
    else if (!m_undoProblems.isEmpty())
        message.append(Text("operation.undo-failed", "Undoing it failed:"));
    if (!aftermath)
        for (const Failure &f : std::as_const(m_undoProblems))
            message += f.texts;
    const bool canceled = m_failure.name == QLatin1String(Error::Canceled) || m_job->cancelRequested();
    if (!canceled && m_failure.name != QLatin1String(Error::Failed))
        m_job->setErrorName(m_failure.name);
    m_job->finish(canceled ? Job::Outcome::Canceled : Job::Outcome::Failed, message);
}

} // namespace ns8m
