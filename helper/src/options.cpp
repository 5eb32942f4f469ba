#include "options.h"

#include "version.h"

#include <QCommandLineOption>
#include <QCommandLineParser>

#ifndef NS8M_PROFILES_DIR
#error "NS8M_PROFILES_DIR must name the installed app profiles"
#endif

namespace ns8m {

namespace {

const char kProgram[] = "ns8-migration-helper";
const int kWidth = 79;

// The words of text, filled into lines of at most kWidth columns, each
// indented by `indent` spaces.
QString wrap(const QString &text, int indent)
{
    const QString pad(indent, QLatin1Char(' '));
    QString out, line;
    for (const QString &word : text.split(QLatin1Char(' '))) {
        if (word.isEmpty())
            continue;
        if (!line.isEmpty() && pad.size() + line.size() + 1 + word.size() > kWidth) {
            out += pad + line + QLatin1Char('\n');
            line.clear();
        }
        if (!line.isEmpty())
            line += QLatin1Char(' ');
        line += word;
    }
    if (!line.isEmpty())
        out += pad + line + QLatin1Char('\n');
    return out;
}

QString flag(const Option &o)
{
    return QStringLiteral("--%1=%2").arg(QLatin1String(o.name), QLatin1String(o.valueName));
}

// "seconds" for SECONDS: the unit of a number, in the error sentence.
QString unit(const Option &o)
{
    return QString(QLatin1String(o.valueName)).toLower();
}

} // namespace

QString Settings::defaultProfilesDir()
{
    return QStringLiteral(NS8M_PROFILES_DIR);
}

const QList<Option> &options()
{
    static const QList<Option> table = [] {
        QList<Option> t;
        Option o{};
        o = Option{"bus-address", "ADDR", "Use the D-Bus bus at ADDR instead of the system bus"};
        o.text = &Settings::busAddress;
        t.append(o);
        o = Option{"state-dir", "DIR", "Keep the state database and the secrets in DIR, created 0700"};
        o.text = &Settings::stateDir;
        t.append(o);
        o = Option{"root", "DIR",
                   "Read the NS7 system under DIR, an absolute path: the e-smith databases, the data "
                   "trees, /root/.my.cnf and the log /var/log/ns8-migration.log are all taken under it"};
        o.text = &Settings::root;
        o.absolutePath = true;
        t.append(o);
        o = Option{"profiles-dir", "DIR", "Read the app profiles from DIR"};
        o.text = &Settings::profilesDir;
        t.append(o);
        o = Option{"job-linger", "SECONDS", "Keep a finished job on the bus for SECONDS"};
        o.number = &Settings::jobLingerSeconds;
        o.min = 0;
        o.max = 86400;
        t.append(o);
        o = Option{"ca-file", "FILE",
                   "Also trust the CA certificates in FILE (PEM) for the NS8 leader, for a private PKI"};
        o.text = &Settings::caFile;
        t.append(o);
        o = Option{"vpn-timeout", "SECONDS",
                   "Wait up to SECONDS for the first WireGuard handshake and for the NS8 API through the tunnel"};
        o.number = &Settings::vpnTimeoutSeconds;
        o.min = 1;
        o.max = 3600;
        t.append(o);
        o = Option{"task-timeout", "SECONDS", "Wait up to SECONDS for one NS8 task"};
        o.number = &Settings::taskTimeoutSeconds;
        o.min = 1;
        o.max = 86400;
        t.append(o);
        return t;
    }();
    return table;
}

QString helpText(const Settings &defaults)
{
    QString usage = QStringLiteral("Usage: %1").arg(QLatin1String(kProgram));
    QString line = usage;
    const int indent = int(usage.size()) + 1;
    QStringList brackets{QStringLiteral("[--help]"), QStringLiteral("[--version]")};
    for (const Option &o : options())
        brackets << QStringLiteral("[%1]").arg(flag(o));
    usage.clear();
    for (const QString &b : brackets) {
        if (line.size() + 1 + b.size() > kWidth) {
            usage += line + QLatin1Char('\n');
            line = QString(indent - 1, QLatin1Char(' '));
        }
        line += QLatin1Char(' ') + b;
    }
    usage += line + QLatin1Char('\n');

    QString out = usage + QLatin1Char('\n')
        + wrap(QStringLiteral("Moves the applications of this NethServer 7 host to a NethServer 8 cluster. "
                              "Runs as root on the system bus as org.nethserver.Ns8Migration1."), 0)
        + QStringLiteral("\nOptions:\n  -h, --help\n      Show this help and exit.\n"
                         "  -v, --version\n      Show the version and exit.\n");
    for (const Option &o : options()) {
        QString text = QLatin1String(o.help);
        if (o.number)
            text += QStringLiteral(", %1 to %2 (default %3)").arg(o.min).arg(o.max).arg(defaults.*o.number);
        else if (!(defaults.*o.text).isEmpty())
            text += QStringLiteral(" (default %1)").arg(defaults.*o.text);
        out += QStringLiteral("  %1\n").arg(flag(o)) + wrap(text + QLatin1Char('.'), 6);
    }
    return out;
}

ParsedCommandLine parseCommandLine(const QStringList &args)
{
    ParsedCommandLine r;
    const QString program = QLatin1String(kProgram);
    QCommandLineParser parser;
    const QCommandLineOption help(
        QStringList{QStringLiteral("h"), QStringLiteral("?"), QStringLiteral("help"), QStringLiteral("help-all")});
    const QCommandLineOption version(QStringList{QStringLiteral("v"), QStringLiteral("version")});
    parser.addOption(help);
    parser.addOption(version);
    QList<QCommandLineOption> parsed;
    for (const Option &o : options()) {
        parsed.append(QCommandLineOption(QLatin1String(o.name), QLatin1String(o.help), QLatin1String(o.valueName)));
        parser.addOption(parsed.last());
    }
    if (!parser.parse(args)) {
        r.err = QStringLiteral("%1: %2\n").arg(program, parser.errorText());
        r.exitCode = 1;
        return r;
    }
    if (parser.isSet(version)) {
        r.out = QStringLiteral("%1 %2\n").arg(program, QLatin1String(kVersion));
        r.exitCode = 0;
        return r;
    }
    if (parser.isSet(help)) {
        r.out = helpText();
        r.exitCode = 0;
        return r;
    }
    if (!parser.positionalArguments().isEmpty()) {
        r.err = QStringLiteral("%1: unexpected argument: %2\n").arg(program, parser.positionalArguments().first());
        r.exitCode = 2;
        return r;
    }
    for (int i = 0; i < options().size(); ++i) {
        const Option &o = options().at(i);
        if (!parser.isSet(parsed.at(i)))
            continue;
        const QString value = parser.value(parsed.at(i));
        if (o.number) {
            bool ok = false;
            const int n = value.toInt(&ok);
            if (!ok || n < o.min || n > o.max) {
                r.err = QStringLiteral("%1: --%2 takes %3 to %4 %5\n")
                            .arg(program, QLatin1String(o.name))
                            .arg(o.min)
                            .arg(o.max)
                            .arg(unit(o));
                r.exitCode = 2;
                return r;
            }
            r.settings.*o.number = n;
        } else {
            r.settings.*o.text = value;
        }
    }
    for (const Option &o : options()) {
        if (o.absolutePath && !(r.settings.*o.text).startsWith(QLatin1Char('/'))) {
            r.err = QStringLiteral("%1: --%2 needs an absolute path\n").arg(program, QLatin1String(o.name));
            r.exitCode = 2;
            return r;
        }
    }
    return r;
}

} // namespace ns8m
