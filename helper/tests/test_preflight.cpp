#include "operations/preflight.h"

#include <QTest>

using namespace ns8m;

namespace {

Check check(const char *id, const char *severity, QStringList gates, const char *remedy = "")
{
    Check c;
    c.id = QLatin1String(id);
    c.group = QStringLiteral("network");
    c.severity = QLatin1String(severity);
    c.title = QStringLiteral("Title of ") + c.id;
    c.detail = QStringLiteral("what was found about ") + c.id + u'.';
    c.remedy = QLatin1String(remedy);
    c.gates = std::move(gates);
    return c;
}

const QStringList kConnect{QStringLiteral("connect")};
const QStringList kStartFinish{QStringLiteral("start"), QStringLiteral("finish")};

} // namespace

class TestPreflight : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void allOkGoesOn()
    {
        const QList<Check> checks{check("a", "ok", kConnect), check("b", "ok", kStartFinish)};
        QVERIFY(!Preflight::verdict(checks, Preflight::Phase::Connect, false));
        QVERIFY(!Preflight::verdict(checks, Preflight::Phase::Finish, false));
    }

    void blockerRefusesEvenWithAcceptedWarnings()
    {
        const QList<Check> checks{check("vpn-endpoint", "blocker", kConnect, "Create a DNS record."),
                                  check("leader-tls", "warning", kConnect)};
        const auto e = Preflight::verdict(checks, Preflight::Phase::Connect, true);
        QVERIFY(e);
        QCOMPARE(e->name, QLatin1String(Error::PreflightFailed));
        // The blocking check by title and id, what was found and what to do.
        QVERIFY2(e->message.contains(QStringLiteral("Title of vpn-endpoint [vpn-endpoint]: what was found about vpn-endpoint. "
                                                    "Create a DNS record.")),
                 qPrintable(e->message));
        QVERIFY(e->message.startsWith(QStringLiteral("Connect refused")));
        // Warnings are not what stops it here.
        QVERIFY(!e->message.contains(QStringLiteral("leader-tls")));
    }

    void warningsRefuseUnlessAccepted()
    {
        const QList<Check> checks{check("backup", "warning", kStartFinish), check("scan", "ok", kStartFinish)};
        const auto e = Preflight::verdict(checks, Preflight::Phase::Start, false);
        QVERIFY(e);
        QVERIFY(e->message.contains(QStringLiteral("accept_warnings")));
        QVERIFY(e->message.contains(QStringLiteral("[backup]")));
        QVERIFY(!e->message.contains(QStringLiteral("[scan]")));
        QVERIFY(!Preflight::verdict(checks, Preflight::Phase::Start, true));
    }

    void onlyTheChecksOfThePhaseCount()
    {
        // A blocker that concerns Start does not stop Connect, and the other way round.
        const QList<Check> checks{check("node-disk", "blocker", {QStringLiteral("start")}),
                                  check("leader-reach", "blocker", kConnect),
                                  check("dns-records", "warning", {})};
        const auto connect = Preflight::verdict(checks, Preflight::Phase::Connect, true);
        QVERIFY(connect);
        QVERIFY(connect->message.contains(QStringLiteral("[leader-reach]")));
        QVERIFY(!connect->message.contains(QStringLiteral("[node-disk]")));
        const auto finish = Preflight::verdict(checks, Preflight::Phase::Finish, false);
        QVERIFY2(!finish, finish ? qPrintable(finish->message) : "");
        // The report itself refuses nothing.
        QVERIFY(!Preflight::verdict(checks, Preflight::Phase::Report, false));
    }

    void optionsAreTyped()
    {
        QHash<QString, char> types;
        for (const OptionSpec &o : Preflight::options({}))
            types.insert(QLatin1String(o.name), o.type);
        QCOMPARE(types.value(QStringLiteral("leader")), 's');
        QCOMPARE(types.value(QStringLiteral("tls_verify")), 'b');
        QCOMPARE(types.value(QStringLiteral("node")), 'u');
        QCOMPARE(types.value(QStringLiteral("app")), 's');
        QVERIFY(!types.contains(QStringLiteral("accept_warnings"))); // a report accepts nothing
    }

    // Every field of every profile is an option, typed by its kind, once.
    void optionsComeFromTheProfiles()
    {
        QList<AppProfile> profiles;
        for (const char *path : {NS8M_SOURCE_DIR "/apps/nethvoice.yaml", NS8M_SOURCE_DIR "/tests/profiles/toy.yaml"}) {
            QString error;
            const auto p = AppProfile::load(QLatin1String(path), &error);
            QVERIFY2(p, qPrintable(error));
            profiles.append(*p);
        }
        profiles.append(profiles.last()); // a field id twice
        QHash<QString, char> types;
        qsizetype count = 0;
        for (const OptionSpec &o : Preflight::options(profiles)) {
            types.insert(QLatin1String(o.name), o.type);
            ++count;
        }
        QCOMPARE(count, types.size());
        QCOMPARE(count, Preflight::options({}).size() + profiles.at(0).fields.size() + profiles.at(1).fields.size());
        for (const AppProfile &p : std::as_const(profiles))
            for (const Field &f : p.fields)
                QCOMPARE(types.value(f.id), f.kind == Field::Kind::Bool ? 'b' : 's');
    }
};

QTEST_GUILESS_MAIN(TestPreflight)
#include "test_preflight.moc"
