// The operation runner: a table of steps walked in order, undone newest
// first on a failure, ended with one sentence; the job sees every step.
#include "bus/job.h"
#include "operations/operation.h"
#include "store/statedb.h"
#include "qtestcompat.h"

#include <QTemporaryDir>
#include <QTest>
#include <QTimer>

#include <memory>
#include <optional>

using namespace ns8m;

namespace {

using Next = Operation::Next;

// A step that succeeds later, from the event loop, and writes its name.
std::function<void(Next)> later(QStringList *trace, const QString &name, const Failure &result = {})
{
    return [trace, name, result](Next next) {
        trace->append(name);
        QTimer::singleShot(1, [next, result] { next(result); });
    };
}

} // namespace

class TestOperation : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    StateDb m_state;
    quint64 m_nextId = 1;

    // A job that is not on any bus (its properties go nowhere), recorded in
    // a real state database.
    Job *newJob(const QList<Operation::Step> &steps, QObject *parent)
    {
        Job::Params p;
        p.id = m_nextId++;
        p.operation = QStringLiteral("test");
        p.objectPath = QStringLiteral("/test");
        p.steps = Operation::jobSteps(steps);
        JobRecord rec;
        rec.id = p.id;
        rec.operation = p.operation;
        rec.object = p.objectPath;
        if (!m_state.insertJob(rec))
            qFatal("cannot record the job: %s", qPrintable(m_state.lastError()));
        return new Job(nullptr, &m_state, nullptr, p, parent);
    }

    struct Outcome {
        bool success;
        QString message;
    };

    static std::optional<Outcome> waitEnd(Job *job)
    {
        std::optional<Outcome> end;
        QObject::connect(job, &Job::finished, job, [&end](bool ok, const QString &m) { end = Outcome{ok, m}; });
        if (!waitFor([&end] { return end.has_value(); }, 5000))
            return std::nullopt;
        return end;
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        QString error;
        QVERIFY2(m_state.open(m_dir.filePath(QStringLiteral("state.db")), &error), qPrintable(error));
    }

    void tablesAreChecked()
    {
        auto noop = [](Next next) { next({}); };
        QCOMPARE(Operation::validate({{QStringLiteral("a"), Text("step.test.a", "A"), 1, noop, {}, false}}), QString());
        QVERIFY(Operation::validate({}).contains(QStringLiteral("without steps")));
        QVERIFY(Operation::validate({{QStringLiteral("A"), 1, noop, {}, false}})
                    .contains(QStringLiteral("no id")));
        QVERIFY(Operation::validate({{QStringLiteral("a"), Text("step.test.a", "A"), 1, noop, {}, false},
                                     {QStringLiteral("a"), Text("step.test.a", "B"), 1, noop, {}, false}})
                    .contains(QStringLiteral("used twice")));
        // A step's title is translated by "step.<id>": another id is a mistake.
        QVERIFY(Operation::validate({{QStringLiteral("a"), Text("step.test.b", "A"), 1, noop, {}, false}},
                                    QStringLiteral("test"))
                    .contains(QStringLiteral("not \"step.test.a\"")));
        // Parts share the table's ids.
        Operation::Step withParts{QStringLiteral("sync"), Text("step.test.sync", "Sync"), 1, noop, {}, false,
                                  {{QStringLiteral("a"), QStringLiteral("A"), 2, 0}, {QStringLiteral("b"), QStringLiteral("B"), 3, 0}}};
        QCOMPARE(Operation::validate({withParts}), QString());
        QVERIFY(Operation::validate({{QStringLiteral("a"), Text("step.test.a", "A"), 1, noop, {}, false}, withParts})
                    .contains(QStringLiteral("used twice")));
        const QList<JobStep> partSteps = Operation::jobSteps({{QStringLiteral("check"), Text("step.test.check", "Check"), 1, noop, {}, false}, withParts});
        QCOMPARE(partSteps.size(), 3);
        QCOMPARE(partSteps.at(2).id, QStringLiteral("b"));
        QCOMPARE(partSteps.at(2).weight, 3.0);
        QVERIFY(Operation::validate({{QStringLiteral("a"), Text("step.test.a", "A"), 1, {}, {}, false}})
                    .contains(QStringLiteral("nothing to run")));
        // Continuation rows belong to the step above: one job step, both weights.
        const QList<JobStep> js = Operation::jobSteps({{QStringLiteral("a"), Text("step.test.a", "A"), 1, noop, {}, false},
                                                       {QStringLiteral("A, part 2"), 2, noop, {}, false},
                                                       {QStringLiteral("b"), Text("step.test.b", "B"), 4, noop, {}, false}});
        QCOMPARE(js.size(), 2);
        QCOMPARE(js.at(0).id, QStringLiteral("a"));
        QCOMPARE(js.at(0).weight, 3.0);
        QCOMPARE(js.at(1).weight, 4.0);
    }

    void runsEveryRowInOrder()
    {
        QObject owner;
        QStringList trace;
        const QList<Operation::Step> steps = {
            {QStringLiteral("one"), Text("step.test.one", "One"), 1, later(&trace, QStringLiteral("one")), {}, false},
            {QStringLiteral("One, part 2"), 1, later(&trace, QStringLiteral("one.2")), {}, false},
            // A step that answers at once does not run the next row inside itself.
            {QStringLiteral("two"), Text("step.test.two", "Two"), 1,
             [&trace](Next next) {
                 next({});
                 trace.append(QStringLiteral("two returned"));
             },
             {}, false},
        };
        Job *job = newJob(steps, &owner);
        auto *op = new Operation(job, steps);
        op->summary = [] { return Texts{Text("test.done", "All %1 done.").arg(2)}; };
        op->start();
        const auto end = waitEnd(job);
        QVERIFY(end);
        QVERIFY(end->success);
        QCOMPARE(end->message, QStringLiteral("All 2 done."));
        // The sentence by id, for clients that translate it.
        QCOMPARE(job->messageTexts().size(), 1);
        QCOMPARE(job->messageTexts().first().id, QStringLiteral("test.done"));
        QCOMPARE(job->messageTexts().first().tmpl, QStringLiteral("All %1 done."));
        QCOMPARE(job->messageTexts().first().args, QStringList{QStringLiteral("2")});
        QCOMPARE(trace, (QStringList{QStringLiteral("one"), QStringLiteral("one.2"), QStringLiteral("two returned")}));
    }

    void textsFillInOnePass()
    {
        // An argument that holds a placeholder is data: it is not filled again.
        const Text t = Text("test.pair", "%1 and %2, 100%").arg(QStringLiteral("50%2")).arg(7);
        QCOMPARE(t.english(), QStringLiteral("50%2 and 7, 100%"));
        QCOMPARE(english(Texts{t, Text("test.then", "Then."), Text()}), QStringLiteral("50%2 and 7, 100% Then."));
        const Failure f{Error::Busy, Text("test.busy", "%1 is busy.").arg(QStringLiteral("X"))};
        QCOMPARE(f.message, QStringLiteral("X is busy."));
        QCOMPARE(f.texts.size(), 1);
        QCOMPARE(f.texts.first().id, QStringLiteral("test.busy"));
        // Told after what failed: the same kind, both sentences by id.
        const Failure g = f.after(Text("test.what", "Doing %1 failed:").arg(QStringLiteral("Y")));
        QCOMPARE(g.name, f.name);
        QCOMPARE(g.message, QStringLiteral("Doing Y failed: X is busy."));
        QCOMPARE(g.texts.size(), 2);
        QCOMPARE(g.texts.at(0).id, QStringLiteral("test.what"));
        QCOMPARE(g.texts.at(1).id, QStringLiteral("test.busy"));
        QCOMPARE(g.asFailed().name, QString::fromLatin1(Error::Failed));
        QCOMPARE(g.asFailed().message, g.message);
    }

    void undoesNewestFirstDownToTheCommitPoint()
    {
        QObject owner;
        QStringList trace;
        auto undo = [&trace](const QString &name, const Failure &result = {}) {
            return [&trace, name, result](Next next) {
                trace.append(QStringLiteral("undo ") + name);
                next(result);
            };
        };
        const QList<Operation::Step> steps = {
            {QStringLiteral("a"), Text("step.test.a", "A"), 1, later(&trace, QStringLiteral("a")), undo(QStringLiteral("a")), false},
            {QStringLiteral("b"), Text("step.test.b", "B"), 1, later(&trace, QStringLiteral("b")), undo(QStringLiteral("b")), true},
            {QStringLiteral("c"), Text("step.test.c", "C"), 1, later(&trace, QStringLiteral("c")),
             undo(QStringLiteral("c"), {Error::Failed, Text("test.stuck", "%1 stuck.").arg(QStringLiteral("c"))}), false},
            {QStringLiteral("d"), Text("step.test.d", "D"), 1, later(&trace, QStringLiteral("d")), {}, false},
            {QStringLiteral("e"), Text("step.test.e", "E"), 1,
             later(&trace, QStringLiteral("e"), {Error::ClusterUnreachable, Text("test.e", "E failed.")}),
             undo(QStringLiteral("e")), false},
            {QStringLiteral("f"), Text("step.test.f", "F"), 1, later(&trace, QStringLiteral("f")), undo(QStringLiteral("f")), false},
        };
        Job *job = newJob(steps, &owner);
        auto *op = new Operation(job, steps);
        Failure seen;
        op->concluding = [&seen](const Failure &f) { seen = f; };
        op->aftermath = [](const Failure &, const QList<Failure> &problems) {
            Texts t{Text("test.left", "Left over:")};
            for (const Failure &p : problems)
                t += p.texts;
            return t;
        };
        op->start();
        const auto end = waitEnd(job);
        QVERIFY(end);
        QVERIFY(!end->success);
        // e failed: its own undo, then c's (d has none); b committed, so b and a stay.
        QCOMPARE(trace, (QStringList{QStringLiteral("a"), QStringLiteral("b"), QStringLiteral("c"), QStringLiteral("d"),
                                     QStringLiteral("e"), QStringLiteral("undo e"), QStringLiteral("undo c")}));
        QCOMPARE(end->message, QStringLiteral("E failed. Left over: c stuck."));
        // The failure, the aftermath and the undo's failure, each by id.
        QCOMPARE(job->messageTexts().size(), 3);
        QCOMPARE(job->messageTexts().at(0).id, QStringLiteral("test.e"));
        QCOMPARE(job->messageTexts().at(1).id, QStringLiteral("test.left"));
        QCOMPARE(job->messageTexts().at(2).id, QStringLiteral("test.stuck"));
        QCOMPARE(job->messageTexts().at(2).args, QStringList{QStringLiteral("c")});
        QCOMPARE(seen.name, QString::fromLatin1(Error::ClusterUnreachable));
        // The kind of failure is the job's ErrorName (a page points at the field).
        QCOMPARE(job->errorName(), QString::fromLatin1(Error::ClusterUnreachable));
    }

    void startsFromAStepAfterACommit()
    {
        QObject owner;
        QStringList trace;
        const QList<Operation::Step> steps = {
            {QStringLiteral("a"), Text("step.test.a", "A"), 1, later(&trace, QStringLiteral("a")),
             [&trace](Next next) {
                 trace.append(QStringLiteral("undo a"));
                 next({});
             },
             false},
            {QStringLiteral("b"), Text("step.test.b", "B"), 1,
             later(&trace, QStringLiteral("b"), {Error::Failed, Text("test.b", "B failed.")}), {}, false},
        };
        Job *job = newJob(steps, &owner);
        auto *op = new Operation(job, steps);
        op->start(QStringLiteral("b"));
        const auto end = waitEnd(job);
        QVERIFY(end);
        QVERIFY(!end->success);
        // Resumed at b: a belongs to an earlier run and is not undone.
        QCOMPARE(trace, QStringList{QStringLiteral("b")});
        QCOMPARE(end->message, QStringLiteral("B failed."));
    }

    void cancelStopsBetweenSteps()
    {
        QObject owner;
        QStringList trace;
        Job *job = nullptr;
        const QList<Operation::Step> steps = {
            {QStringLiteral("a"), Text("step.test.a", "A"), 1,
             [&trace, &job](Next next) {
                 trace.append(QStringLiteral("a"));
                 job->requestCancel();
                 next({});
             },
             [&trace](Next next) {
                 trace.append(QStringLiteral("undo a"));
                 next({});
             },
             false},
            {QStringLiteral("b"), Text("step.test.b", "B"), 1, later(&trace, QStringLiteral("b")), {}, false},
        };
        job = newJob(steps, &owner);
        auto *op = new Operation(job, steps);
        op->start();
        const auto end = waitEnd(job);
        QVERIFY(end);
        QVERIFY(!end->success);
        QCOMPARE(trace, (QStringList{QStringLiteral("a"), QStringLiteral("undo a")}));
        const auto rec = m_state.job(job->id());
        QVERIFY(rec);
        QCOMPARE(rec->status, QStringLiteral("canceled"));
    }

    void aJobThatGoesAwayEndsTheOperation()
    {
        QStringList trace;
        auto *owner = new QObject;
        std::shared_ptr<Next> held = std::make_shared<Next>();
        const QList<Operation::Step> steps = {
            {QStringLiteral("a"), Text("step.test.a", "A"), 1,
             [held](Next next) { *held = next; }, {}, false},
            {QStringLiteral("b"), Text("step.test.b", "B"), 1, later(&trace, QStringLiteral("b")), {}, false},
        };
        Job *job = newJob(steps, owner);
        auto *op = new Operation(job, steps);
        op->start();
        QTest::qWait(10);
        delete owner; // the helper stops: the job and its operation go
        (*held)({}); // a late answer reaches nothing
        QTest::qWait(10);
        QVERIFY(trace.isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestOperation)
#include "test_operation.moc"
