#include "operations/preflight.h"

#include "operations/context.h"
#include "core/qtcompat.h"

#include <QDir>
#include <QFile>
#include <QTemporaryDir>
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

// The checks of a report on a server with no app and no cluster: every
// fact comes from files under ROOT, so the run ends at once.
QList<Check> reportUnder(const QString &root)
{
    Context ctx;
    ctx.settings.root = root;
    ctx.settings.stateDir = root;
    QList<Check> out;
    bool called = false;
    Preflight::run(&ctx, {}, [&](const QList<Check> &checks) {
        out = checks;
        called = true;
    });
    if (!called)
        qWarning("the report did not end at once");
    return out;
}

const Check *byId(const QList<Check> &checks, const QString &id)
{
    for (const Check &c : checks)
        if (c.id == id)
            return &c;
    return nullptr;
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

    // Every check says its title, finding and remedy by id: the English is
    // the template with the arguments in it.
    void checksSayTheirTextsById()
    {
        QTemporaryDir root;
        QVERIFY(root.isValid());
        QVERIFY(QDir(root.path()).mkpath(QStringLiteral("etc")));
        QFile rel(root.filePath(QStringLiteral("etc/nethserver-release")));
        QVERIFY(rel.open(QIODevice::WriteOnly));
        rel.write("NethServer release 7.9.2009 (final)\n");
        rel.close();
        const QList<Check> checks = reportUnder(root.path());
        QVERIFY(checks.size() >= 19);
        for (const Check &c : checks) {
            QVERIFY2(c.titleText.id.startsWith(QStringLiteral("check.")), qPrintable(c.id));
            QVERIFY2(c.detailText.id.startsWith(QStringLiteral("check.")), qPrintable(c.id + u' ' + c.detail));
            QCOMPARE(c.titleText.english(), c.title);
            QCOMPARE(c.detailText.english(), c.detail);
            QCOMPARE(c.remedyText.english(), c.remedy);
            QCOMPARE(c.remedyText.id.isEmpty(), c.remedy.isEmpty());
        }

        const Check *ver = byId(checks, QStringLiteral("ns7-version"));
        QVERIFY(ver);
        QCOMPARE(ver->titleText.id, QStringLiteral("check.ns7-version.title"));
        QCOMPARE(ver->detailText.id, QStringLiteral("check.ns7-version.current"));
        QCOMPARE(ver->detailText.args.value(0), QStringLiteral("NethServer release 7.9.2009 (final)"));
        QVERIFY(ver->detail.startsWith(QStringLiteral("NethServer release 7.9.2009 (final); migration helper ")));

        const Check *reach = byId(checks, QStringLiteral("leader-reach"));
        QVERIFY(reach);
        QVERIFY(!reach->checked);
        QCOMPARE(reach->detailText.id, QStringLiteral("check.not-yet.leader"));
        QCOMPARE(reach->detail, QStringLiteral("Not checked yet: give the NS8 leader's host name."));

        const Check *backup = byId(checks, QStringLiteral("backup"));
        QVERIFY(backup);
        QCOMPARE(backup->severity, QStringLiteral("warning"));
        QCOMPARE(backup->detailText.id, QStringLiteral("check.backup.none"));
        QCOMPARE(backup->remedyText.id, QStringLiteral("check.backup.remedy"));
    }

    // An old release: the release line is an argument, the rest the template.
    void argumentsFillTheTemplate()
    {
        QTemporaryDir root;
        QVERIFY(root.isValid());
        QVERIFY(QDir(root.path()).mkpath(QStringLiteral("etc")));
        QFile rel(root.filePath(QStringLiteral("etc/nethserver-release")));
        QVERIFY(rel.open(QIODevice::WriteOnly));
        rel.write("NethServer release 7.6.1810 (final)\n");
        rel.close();
        const Check *ver = nullptr;
        const QList<Check> checks = reportUnder(root.path());
        ver = byId(checks, QStringLiteral("ns7-version"));
        QVERIFY(ver);
        QCOMPARE(ver->severity, QStringLiteral("warning"));
        QCOMPARE(ver->detailText.id, QStringLiteral("check.ns7-version.old"));
        QCOMPARE(ver->detailText.tmpl, QStringLiteral("\"%1\" is older than NethServer 7.9 (migration helper %2)."));
        QCOMPARE(ver->detailText.args.size(), 2);
        QCOMPARE(ver->detail, QStringLiteral("\"NethServer release 7.6.1810 (final)\" is older than NethServer 7.9 "
                                             "(migration helper %1).")
                                  .arg(ver->detailText.args.at(1)));
        QCOMPARE(ver->remedyText.id, QStringLiteral("check.ns7-version.remedy"));
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
        Size count = 0;
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
