#include "core/process.h"

#include <QSignalSpy>
#include <QTest>

using namespace ns8m;

class TestProcess : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void environmentReachesTheChild()
    {
        ProcessResult got;
        bool done = false;
        runProcess(this, {QStringLiteral("sh"), QStringLiteral("-c"), QStringLiteral("printf '%s' \"$NS8M_TEST_VAR\"")},
                   [&](const ProcessResult &r) {
                       got = r;
                       done = true;
                   },
                   {QStringLiteral("NS8M_TEST_VAR=a=b")});
        QTRY_VERIFY_WITH_TIMEOUT(done, 10000);
        QCOMPARE(got.exitCode, 0);
        QCOMPARE(got.out, QByteArray("a=b"));
    }

    void failureIsReported()
    {
        ProcessResult got;
        bool done = false;
        runSequence(this, {{QStringLiteral("true")}, {QStringLiteral("sh"), QStringLiteral("-c"), QStringLiteral("echo oops >&2; exit 3")},
                           {QStringLiteral("touch"), QStringLiteral("/nonexistent/never")}},
                    [&](const ProcessResult &r) {
                        got = r;
                        done = true;
                    });
        QTRY_VERIFY_WITH_TIMEOUT(done, 10000);
        QCOMPARE(got.exitCode, 3);
        QVERIFY(got.errorText().contains(QStringLiteral("oops")));
        QVERIFY(got.errorText().contains(QStringLiteral("exit code 3")));
    }

    void missingProgram()
    {
        ProcessResult got;
        bool done = false;
        runProcess(this, {QStringLiteral("/nonexistent/program")}, [&](const ProcessResult &r) {
            got = r;
            done = true;
        });
        QTRY_VERIFY_WITH_TIMEOUT(done, 10000);
        QCOMPARE(got.exitCode, -1);
        QVERIFY(got.errorText().contains(QStringLiteral("could not run")));
    }
};

QTEST_GUILESS_MAIN(TestProcess)
#include "test_process.moc"
