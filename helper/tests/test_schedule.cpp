// When a schedule's next run comes (operations/schedule.h): every N
// minutes or hours from the time it was set, daily at a local time, a
// quiet window (across midnight too), the days DST begins and ends; and
// what SetSchedule's options refuse.
#include "operations/schedule.h"

#include <QTest>
#include <QTimeZone>

using namespace ns8m;

namespace {

const QTimeZone kRome(QByteArrayLiteral("Europe/Rome"));

QDateTime rome(int y, int mo, int d, int h, int mi, int s = 0)
{
    return QDateTime(QDate(y, mo, d), QTime(h, mi, s), kRome);
}

SyncSchedule parsed(const QVariantMap &options)
{
    SyncSchedule s;
    const Failure f = schedule::parse(options, &s);
    if (f.isError())
        qWarning("%s", qPrintable(f.message));
    return s;
}

SyncSchedule every(quint32 minutes, const QDateTime &anchor)
{
    SyncSchedule s = parsed({{QStringLiteral("kind"), QStringLiteral("interval")}, {QStringLiteral("interval"), minutes}});
    s.anchor = anchor.toMSecsSinceEpoch() * 1000;
    return s;
}

SyncSchedule daily(const QString &at)
{
    return parsed({{QStringLiteral("kind"), QStringLiteral("daily")}, {QStringLiteral("at"), at}});
}

} // namespace

class TestSchedule : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void intervalFromTheAnchor()
    {
        const QDateTime set = rome(2026, 5, 4, 10, 0, 30);
        const SyncSchedule s = every(15, set);
        QCOMPARE(schedule::nextRun(s, set), rome(2026, 5, 4, 10, 15, 30));
        // Strictly after: a run due now is not the next one.
        QCOMPARE(schedule::nextRun(s, rome(2026, 5, 4, 10, 15, 30)), rome(2026, 5, 4, 10, 30, 30));
        // Hours later (a helper that was stopped): the next slot, not a catch-up.
        QCOMPARE(schedule::nextRun(s, rome(2026, 5, 4, 13, 7)), rome(2026, 5, 4, 13, 15, 30));
    }
    void hours()
    {
        const SyncSchedule s = parsed({{QStringLiteral("kind"), QStringLiteral("interval")},
                                       {QStringLiteral("interval"), 2u},
                                       {QStringLiteral("interval_unit"), QStringLiteral("hours")}});
        QCOMPARE(s.interval, 120u);
    }
    void dailyAtLocalTime()
    {
        const SyncSchedule s = daily(QStringLiteral("02:30"));
        QCOMPARE(schedule::nextRun(s, rome(2026, 5, 4, 1, 0)), rome(2026, 5, 4, 2, 30));
        QCOMPARE(schedule::nextRun(s, rome(2026, 5, 4, 2, 30)), rome(2026, 5, 5, 2, 30));
        QCOMPARE(schedule::nextRun(s, rome(2026, 5, 4, 23, 59)), rome(2026, 5, 5, 2, 30));
    }
    void quietWindowAcrossMidnight()
    {
        SyncSchedule s = every(60, rome(2026, 5, 4, 0, 10));
        s.quietFrom = QTime(22, 0);
        s.quietTo = QTime(6, 0);
        QVERIFY(schedule::inQuietWindow(s, rome(2026, 5, 4, 23, 0)));
        QVERIFY(schedule::inQuietWindow(s, rome(2026, 5, 5, 5, 59)));
        QVERIFY(!schedule::inQuietWindow(s, rome(2026, 5, 5, 6, 0)));
        QVERIFY(!schedule::inQuietWindow(s, rome(2026, 5, 4, 21, 59)));
        // 21:10 runs; 22:10 .. 05:10 do not; the next is 06:10.
        QCOMPARE(schedule::nextRun(s, rome(2026, 5, 4, 21, 0)), rome(2026, 5, 4, 21, 10));
        QCOMPARE(schedule::nextRun(s, rome(2026, 5, 4, 21, 10)), rome(2026, 5, 5, 6, 10));
    }
    void quietWindowSameDay()
    {
        SyncSchedule s = every(30, rome(2026, 5, 4, 0, 0));
        s.quietFrom = QTime(9, 0);
        s.quietTo = QTime(17, 0);
        QCOMPARE(schedule::nextRun(s, rome(2026, 5, 4, 8, 45)), rome(2026, 5, 4, 17, 0));
        QVERIFY(!schedule::inQuietWindow(s, rome(2026, 5, 4, 8, 59)));
        QVERIFY(schedule::inQuietWindow(s, rome(2026, 5, 4, 9, 0)));
    }
    void dstDays()
    {
        // 29 March 2026: 02:00 → 03:00 in Rome; 25 October: 03:00 → 02:00.
        const SyncSchedule d = daily(QStringLiteral("02:30"));
        const QDateTime spring = schedule::nextRun(d, rome(2026, 3, 29, 0, 0));
        QVERIFY(spring.isValid());
        QVERIFY(spring > rome(2026, 3, 29, 0, 0));
        QVERIFY(spring < rome(2026, 3, 30, 0, 0));
        const QDateTime autumn = schedule::nextRun(d, rome(2026, 10, 25, 0, 0));
        QVERIFY(autumn.isValid());
        QCOMPARE(autumn.date(), QDate(2026, 10, 25));
        // Interval runs keep their real spacing across the change.
        const SyncSchedule i = every(60, rome(2026, 3, 29, 0, 0));
        const QDateTime a = schedule::nextRun(i, rome(2026, 3, 29, 1, 30));
        QCOMPARE(schedule::nextRun(i, a).toMSecsSinceEpoch() - a.toMSecsSinceEpoch(), 3600 * 1000ll);
        SyncSchedule quiet = i;
        quiet.quietFrom = QTime(2, 0);
        quiet.quietTo = QTime(2, 45);
        QVERIFY(schedule::nextRun(quiet, rome(2026, 3, 29, 1, 30)).isValid());
    }
    void refused_data()
    {
        QTest::addColumn<QVariantMap>("options");
        QTest::addColumn<QString>("id");
        const QString k = QStringLiteral("kind"), i = QStringLiteral("interval");
        QTest::newRow("kind") << QVariantMap{{k, QStringLiteral("weekly")}} << QStringLiteral("schedule.kind");
        QTest::newRow("zero") << QVariantMap{{k, QStringLiteral("interval")}, {i, 0u}} << QStringLiteral("schedule.interval");
        QTest::newRow("too long") << QVariantMap{{k, QStringLiteral("interval")}, {i, 200u}, {QStringLiteral("interval_unit"), QStringLiteral("hours")}}
                                  << QStringLiteral("schedule.interval");
        QTest::newRow("unit") << QVariantMap{{k, QStringLiteral("interval")}, {i, 2u}, {QStringLiteral("interval_unit"), QStringLiteral("days")}}
                              << QStringLiteral("schedule.unit");
        QTest::newRow("at") << QVariantMap{{k, QStringLiteral("daily")}, {QStringLiteral("at"), QStringLiteral("25:00")}}
                            << QStringLiteral("schedule.at");
        QTest::newRow("one end") << QVariantMap{{k, QStringLiteral("interval")}, {i, 5u}, {QStringLiteral("quiet_from"), QStringLiteral("22:00")}}
                                 << QStringLiteral("schedule.quiet");
        QTest::newRow("daily in the window")
            << QVariantMap{{k, QStringLiteral("daily")}, {QStringLiteral("at"), QStringLiteral("23:00")},
                           {QStringLiteral("quiet_from"), QStringLiteral("22:00")}, {QStringLiteral("quiet_to"), QStringLiteral("06:00")}}
            << QStringLiteral("schedule.at-quiet");
    }
    void refused()
    {
        QFETCH(QVariantMap, options);
        QFETCH(QString, id);
        SyncSchedule s;
        const Failure f = schedule::parse(options, &s);
        QCOMPARE(f.name, QString::fromLatin1(Error::InvalidArgument));
        QCOMPARE(f.texts.value(0).id, id);
        QVERIFY(s.isEmpty());
    }
    void removed()
    {
        SyncSchedule s;
        QVERIFY(!schedule::parse({}, &s).isError());
        QVERIFY(s.isEmpty());
        QVERIFY(!schedule::parse({{QStringLiteral("enabled"), false}, {QStringLiteral("kind"), QStringLiteral("x")}}, &s).isError());
        QVERIFY(s.isEmpty());
        QVERIFY(!schedule::nextRun(s, rome(2026, 5, 4, 1, 0)).isValid());
    }
    void keptAsJson()
    {
        SyncSchedule s = every(5, rome(2026, 5, 4, 10, 0));
        s.quietFrom = QTime(22, 0);
        s.quietTo = QTime(6, 0);
        s.lastOutcome = QStringLiteral("failed");
        s.lastMessage = {Text("sync.failed", "The sync failed.")};
        const SyncSchedule back = SyncSchedule::fromJson(s.toJson());
        QCOMPARE(back.interval, 5u);
        QCOMPARE(back.anchor, s.anchor);
        QCOMPARE(back.quietTo, QTime(6, 0));
        QCOMPARE(back.lastMessage.value(0).id, QStringLiteral("sync.failed"));
        // Nonsense read back is no schedule.
        QVERIFY(SyncSchedule::fromJson({{QStringLiteral("kind"), QStringLiteral("interval")}}).isEmpty());
        FinishSchedule f;
        f.when = 123;
        f.state = QStringLiteral("scheduled");
        f.acceptedWarnings = QStringList{QStringLiteral("backup")};
        QCOMPARE(FinishSchedule::fromJson(f.toJson()).acceptedWarnings, f.acceptedWarnings);
        QVERIFY(FinishSchedule::fromJson(f.toJson()).isPending());
    }
};

QTEST_GUILESS_MAIN(TestSchedule)
#include "test_schedule.moc"
