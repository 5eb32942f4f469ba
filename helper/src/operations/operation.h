// A long operation as one table of steps, walked by one runner.
//
// Each row of the table is a step: a stable id (the D-Bus API and the page's
// translations key on it), an English title, a weight for the job's overall
// progress, the function that does it and, where it changes something, the
// function that undoes it.  The runner owns the job: it begins each step on
// it, checks that the job is alive and whether it was canceled, times and logs
// every step, and on a failure runs the undo functions of the steps already
// done, newest first, then ends the job with one sentence.
//
// A step that waits for something asynchronous calls its Next once; the next
// thing to do is the next row, not a callback inside a callback.  A row with
// an empty id continues the step above it (same job step, its own function):
// a long step stays a list of short functions.
#pragma once

#include "core/errors.h"
#include "bus/job.h"

#include <QElapsedTimer>
#include <QList>
#include <QObject>
#include <QPointer>
#include <QString>
#include <QStringList>

#include <functional>

namespace ns8m {

class Operation : public QObject
{
    Q_OBJECT
public:
    // What a step (or an undo) hands back when it is done: an empty Failure,
    // or what went wrong.
    using Next = std::function<void(const Failure &failure)>;

    struct Step {
        // A step the job shows: its title has the text id "step.<operation>.<id>", by
        // which clients translate it (validate() holds them together).
        Step(QString id_, const Text &title_, double weight_, std::function<void(Next)> run_,
             std::function<void(Next)> undo_ = {}, bool commits_ = false, QList<JobStep> parts_ = {})
            : id(std::move(id_)), title(title_.english()), titleId(title_.id), weight(weight_), run(std::move(run_)),
              undo(std::move(undo_)), commits(commits_), parts(std::move(parts_))
        {
        }
        // A row that continues the step above: its title is for the log only.
        Step(const QString &logTitle, double weight_, std::function<void(Next)> run_,
             std::function<void(Next)> undo_ = {}, bool commits_ = false)
            : title(logTitle), weight(weight_), run(std::move(run_)), undo(std::move(undo_)), commits(commits_)
        {
        }
        QString id; // "" continues the step above
        QString title;
        QString titleId;
        double weight = 1.0; // rough seconds: the estimate follows the clock
        std::function<void(Next)> run;
        // Puts back what run() changed when this or a later step fails.  It
        // must know by itself whether run() got that far (undo runs for the
        // failing step too).  A failed undo is reported; the others still run.
        std::function<void(Next)> undo;
        // Once this step succeeded nothing before it is undone any more (for
        // example: NS8 is in charge once it is configured).
        bool commits = false;
        // Work that runs in parallel inside one row (the transfers of a
        // sync) shows as these job steps instead of the row's own: run()
        // begins them itself as they start.  Their ids are the table's too.
        QList<JobStep> parts;
    };

    // The job's step list, derived from the table (continuation rows add
    // their weight to the step above).  An empty first id or an id used twice
    // is a programming error: the table is refused (see isValid()).
    static QList<JobStep> jobSteps(const QList<Step> &steps);
    // "" when well formed; with OPERATION, the titles' text ids are
    // step.<operation>.<id> too.
    static QString validate(const QList<Step> &steps, const QString &operation = QString());

    // Parent: the job, so that the operation ends with it at the latest.
    Operation(Job *job, QList<Step> steps);

    // Runs the table from step FROM (a step id; "" is the first row).  The
    // runner finishes the job: successfully with SUMMARY's sentence, or with
    // the failure's message followed by AFTERMATH (what NS7 and NS8 hold now,
    // given the undo functions' problems).
    void start(const QString &from = QString());

    std::function<Texts()> summary;
    std::function<Texts(const Failure &failure, const QList<Failure> &undoProblems)> aftermath;
    // Called once, before the job ends (status changes and the like).
    std::function<void(const Failure &failure)> concluding;

    // Stops the table after the step under way (its Next still counts):
    // the next row fails with WHY instead of running, and what was done is
    // undone as for any failure (the helper is stopping).
    void interrupt(const Failure &why);

    // Progress of the current step, 0..1.
    void setProgress(double fraction);
    QString currentStep() const { return m_stepId; }
    Job *job() const { return m_job; }

private:
    void runRow(int row);
    void rowDone(int row, const Failure &failure);
    void undoFrom(int row);
    void conclude();

    QPointer<Job> m_job;
    QList<Step> m_steps;
    QString m_stepId;
    int m_committed = -1; // the last row with commits that succeeded
    Failure m_failure;
    Failure m_interrupted;
    QList<Failure> m_undoProblems;
    QElapsedTimer m_stepClock;
    bool m_ended = false;
};

} // namespace ns8m
