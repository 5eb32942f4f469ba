#include "options.h"

#include <QFile>
#include <QRegularExpression>
#include <QTest>

using namespace ns8m;

namespace {

QString oneLine(QString s)
{
    return s.replace(QRegularExpression(QStringLiteral("\\s+")), QStringLiteral(" "));
}

QString defaultOf(const Option &o, const Settings &s)
{
    return o.number ? QString::number(s.*o.number) : s.*o.text;
}

ParsedCommandLine parse(const QStringList &args)
{
    return parseCommandLine(QStringList{QStringLiteral("ns8-migration-helper")} + args);
}

} // namespace

class TestOptions : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void helpListsEveryOptionWithItsDefault()
    {
        const ParsedCommandLine r = parse({QStringLiteral("--help")});
        QCOMPARE(r.exitCode, 0);
        QVERIFY(r.err.isEmpty());
        QCOMPARE(r.out, helpText());
        const QString help = oneLine(r.out);
        const Settings defaults;
        for (const Option &o : options()) {
            const QString flag = QStringLiteral("--%1=%2").arg(QLatin1String(o.name), QLatin1String(o.valueName));
            QVERIFY2(help.contains(QStringLiteral(" %1 ").arg(flag)), qPrintable(flag));
            const QString d = defaultOf(o, defaults);
            if (!d.isEmpty())
                QVERIFY2(help.contains(QStringLiteral("(default %1)").arg(d)), qPrintable(flag));
            if (o.number)
                QVERIFY2(help.contains(QStringLiteral("%1 to %2 (default").arg(o.min).arg(o.max)), qPrintable(flag));
        }
        QVERIFY(help.contains(QStringLiteral("(default %1)").arg(Settings::defaultProfilesDir())));
        for (const QString &line : r.out.split(QLatin1Char('\n')))
            QVERIFY2(line.size() <= 79, qPrintable(line));
    }

    void helpShowsTheDefaultsItIsGiven()
    {
        Settings other;
        other.profilesDir = QStringLiteral("/elsewhere/apps");
        other.taskTimeoutSeconds = 42;
        const QString help = oneLine(helpText(other));
        QVERIFY(help.contains(QStringLiteral("(default /elsewhere/apps)")));
        QVERIFY(help.contains(QStringLiteral("(default 42)")));
    }

    void defaultsAreSettings()
    {
        const ParsedCommandLine r = parse({});
        QCOMPARE(r.exitCode, -1);
        QVERIFY(r.out.isEmpty() && r.err.isEmpty());
        const Settings defaults;
        for (const Option &o : options())
            QCOMPARE(defaultOf(o, r.settings), defaultOf(o, defaults));
        // The defaults themselves, as the README and the unit file rely on them.
        QCOMPARE(r.settings.busAddress, QString());
        QCOMPARE(r.settings.stateDir, QStringLiteral("/var/lib/ns8-migration"));
        QCOMPARE(r.settings.root, QStringLiteral("/"));
        QCOMPARE(r.settings.profilesDir, Settings::defaultProfilesDir());
        QVERIFY(r.settings.profilesDir.endsWith(QStringLiteral("/ns8-migration/apps")));
        QCOMPARE(r.settings.jobLingerSeconds, 600);
        QCOMPARE(r.settings.caFile, QString());
        QCOMPARE(r.settings.vpnTimeoutSeconds, 60);
        QCOMPARE(r.settings.taskTimeoutSeconds, 300);
    }

    void everyOptionSetsItsField()
    {
        QStringList args;
        for (const Option &o : options()) {
            QVERIFY2((o.text == nullptr) != (o.number == nullptr), o.name);
            const QString v = o.number ? QString::number(o.max) : QStringLiteral("/x/%1").arg(QLatin1String(o.name));
            args << QStringLiteral("--%1=%2").arg(QLatin1String(o.name), v);
        }
        const ParsedCommandLine r = parse(args);
        QCOMPARE(r.exitCode, -1);
        for (const Option &o : options()) {
            if (o.number)
                QCOMPARE(r.settings.*o.number, o.max);
            else
                QCOMPARE(r.settings.*o.text, QStringLiteral("/x/%1").arg(QLatin1String(o.name)));
        }
        // The space-separated form too, and the bounds are accepted.
        for (const Option &o : options()) {
            if (!o.number)
                continue;
            const ParsedCommandLine low = parse({QStringLiteral("--%1").arg(QLatin1String(o.name)), QString::number(o.min)});
            QCOMPARE(low.exitCode, -1);
            QCOMPARE(low.settings.*o.number, o.min);
        }
    }

    void badNumberIsRefusedNamingTheOption_data()
    {
        QTest::addColumn<QString>("name");
        QTest::addColumn<QString>("value");
        for (const Option &o : options()) {
            if (!o.number)
                continue;
            const QByteArray n(o.name);
            const QString name = QLatin1String(o.name);
            QTest::newRow(n + " word") << name << QStringLiteral("ten");
            QTest::newRow(n + " empty") << name << QString();
            QTest::newRow(n + " trailing junk") << name << QStringLiteral("10s");
            QTest::newRow(n + " fraction") << name << QStringLiteral("1.5");
            QTest::newRow(n + " below") << name << QString::number(o.min - 1);
            QTest::newRow(n + " above") << name << QString::number(o.max + 1);
            QTest::newRow(n + " overflow") << name << QStringLiteral("99999999999999999999");
        }
    }
    void badNumberIsRefusedNamingTheOption()
    {
        QFETCH(QString, name);
        QFETCH(QString, value);
        const ParsedCommandLine r = parse({QStringLiteral("--%1=%2").arg(name, value)});
        QCOMPARE(r.exitCode, 2);
        QVERIFY(r.out.isEmpty());
        QVERIFY2(r.err.startsWith(QStringLiteral("ns8-migration-helper: --%1 takes ").arg(name)), qPrintable(r.err));
        QVERIFY2(r.err.endsWith(QStringLiteral(" seconds\n")), qPrintable(r.err));
    }

    void otherRefusals_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<int>("exitCode");
        QTest::addColumn<QString>("err");
        QTest::newRow("relative root") << QStringList{QStringLiteral("--root=srv")} << 2
                                       << QStringLiteral("ns8-migration-helper: --root needs an absolute path\n");
        QTest::newRow("empty root") << QStringList{QStringLiteral("--root=")} << 2
                                    << QStringLiteral("ns8-migration-helper: --root needs an absolute path\n");
        QTest::newRow("argument") << QStringList{QStringLiteral("scan")} << 2
                                  << QStringLiteral("ns8-migration-helper: unexpected argument: scan\n");
        QTest::newRow("unknown option") << QStringList{QStringLiteral("--linger=5")} << 1
                                        << QStringLiteral("ns8-migration-helper: Unknown option 'linger'.\n");
        QTest::newRow("missing value") << QStringList{QStringLiteral("--state-dir")} << 1
                                       << QStringLiteral("ns8-migration-helper: Missing value after '--state-dir'.\n");
    }
    void otherRefusals()
    {
        QFETCH(QStringList, args);
        QFETCH(int, exitCode);
        QFETCH(QString, err);
        const ParsedCommandLine r = parse(args);
        QCOMPARE(r.exitCode, exitCode);
        QCOMPARE(r.err, err);
        QVERIFY(r.out.isEmpty());
    }

    void version()
    {
        for (const char *flag : {"--version", "-v"}) {
            const ParsedCommandLine r = parse({QLatin1String(flag)});
            QCOMPARE(r.exitCode, 0);
            QVERIFY2(QRegularExpression(QStringLiteral("^ns8-migration-helper \\d+\\.\\d+\\.\\d+\\S*\\n$"))
                         .match(r.out)
                         .hasMatch(),
                     qPrintable(r.out));
        }
        QCOMPARE(parse({QStringLiteral("-h")}).out, helpText());
    }

    // The README shows --help as a package built for /usr prints it.
    void readmeShowsTheHelp()
    {
        QFile f(QStringLiteral(NS8M_SOURCE_DIR "/README.md"));
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QString readme = QString::fromUtf8(f.readAll());
        const auto section = readme.indexOf(QStringLiteral("\n## The helper\n"));
        QVERIFY(section >= 0);
        const auto begin = readme.indexOf(QStringLiteral("```\n"), section) + 4;
        const auto end = readme.indexOf(QStringLiteral("```\n"), begin);
        QVERIFY(begin >= 4 && end > begin);
        Settings packaged;
        packaged.profilesDir = QStringLiteral("/usr/share/ns8-migration/apps");
        QCOMPARE(readme.mid(begin, end - begin), helpText(packaged));
    }
};

QTEST_GUILESS_MAIN(TestOptions)
#include "test_options.moc"
