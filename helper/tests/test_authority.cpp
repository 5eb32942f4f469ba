// The bound on polkit checks in flight (bus/authority, issue #17 row 7), and
// who may cancel which job (bus/job).  The integration test test_polkit
// proves both over the bus; this one walks the edges of the counting.
#include "bus/authority.h"
#include "bus/job.h"

#include <QTest>

using namespace ns8m;

class TestAuthority : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void boundPerCallerLeavesOthersServed()
    {
        Authority a(nullptr);
        for (int i = 0; i < Authority::kMaxChecksPerCaller; ++i)
            QVERIFY(a.acquire(1000));
        QVERIFY(!a.acquire(1000)); // the next one of the same caller is refused
        QCOMPARE(a.inFlight(1000), Authority::kMaxChecksPerCaller);
        QVERIFY(a.acquire(1001)); // another caller is served
        QCOMPARE(a.inFlightTotal(), Authority::kMaxChecksPerCaller + 1);
        a.release(1000);
        QVERIFY(a.acquire(1000)); // an answer frees a place
    }

    void boundInAll()
    {
        Authority a(nullptr);
        const int callers = Authority::kMaxChecks / Authority::kMaxChecksPerCaller;
        for (quint32 uid = 1; uid <= quint32(callers); ++uid)
            for (int i = 0; i < Authority::kMaxChecksPerCaller; ++i)
                QVERIFY(a.acquire(uid));
        QCOMPARE(a.inFlightTotal(), Authority::kMaxChecks);
        QVERIFY(!a.acquire(9999));
        QCOMPARE(a.inFlight(9999), 0); // a refusal counts nothing
        a.release(1);
        QVERIFY(a.acquire(9999));
    }

    void releaseOfUnknownCallerIsHarmless()
    {
        Authority a(nullptr);
        a.release(42);
        QCOMPARE(a.inFlightTotal(), 0);
        QVERIFY(a.acquire(42));
        a.release(42);
        a.release(42);
        QCOMPARE(a.inFlightTotal(), 0);
        QCOMPARE(a.inFlight(42), 0);
    }

    void refusalLoggedOncePerBurst()
    {
        Authority a(nullptr);
        QVERIFY(a.acquire(7));
        QVERIFY(a.noteRefusal(7));
        QVERIFY(!a.noteRefusal(7));
        a.release(7); // all answered: the next burst is logged again
        QVERIFY(a.noteRefusal(7));
    }

    // Cancel asks for what starting the job asks for (issue #17 row 10).
    void cancelActions()
    {
        using L = QList<QByteArray>;
        auto names = [](const QList<const char *> &actions) {
            L out;
            for (const char *a : actions)
                out.append(QByteArray(a));
            return out;
        };
        QCOMPARE(names(Job::cancelActions(Action::Sync)), (L{Action::Sync, Action::Migrate}));
        QCOMPARE(names(Job::cancelActions(Action::Migrate)), (L{Action::Migrate}));
        QCOMPARE(names(Job::cancelActions(Action::Read)), (L{Action::Read}));
        QCOMPARE(names(Job::cancelActions(nullptr)), (L{Action::Read}));
    }
};

QTEST_GUILESS_MAIN(TestAuthority)
#include "test_authority.moc"
