// Every command line the helper can build, against what its program accepts
// on NethServer 7 (rsync 3.1.2, MariaDB 5.5's client tools, EL7's iproute,
// wireguard-tools, glibc's getent): the table is ns7-command-options.txt,
// beside this file, and each of its sections cites the manual it comes from.
#include "core/commands.h"
#include "core/qtcompat.h"
#include "profile/appprofile.h"
#include "transfer/changeset.h"
#include "transfer/rsync.h"

#include <QFile>
#include <QHash>
#include <QTest>

using namespace ns8m;

namespace {

// ------------------------------------------------------------ the table

struct Option {
    enum Kind { Flag, Attached, NextWord } kind = Flag;
    QStringList values; // empty: any value
    bool list = false;  // a comma-separated list of values
};

// A word of a grammar: a keyword (with or without a value) or a placeholder.
struct Token {
    QString word;       // the keyword, or the placeholder's name
    bool positional = false;
    bool rest = false;  // "NAME...": one or more words
    bool takesValue = false;
    bool list = false;
    QStringList values; // of the value (or of the positional word)
    int scope = 0;      // 0, or the scope "| kw ..." it belongs to
    bool opener = false;
};

struct Command {
    QStringList words;
    QList<Token> grammar;
};

struct Program {
    QStringList cites;
    QHash<QString, Option> options;
    QString first;
    bool hasOperands = false;
    QList<Token> operands;
    QList<Command> commands;
};

// "NAME{a,b}" -> NAME and {a, b}; "NAME,...{a,b}" -> a list.
void splitValues(QString spec, QStringList *values, bool *list)
{
    const int brace = int(spec.indexOf(u'{'));
    if (brace >= 0 && spec.endsWith(u'}')) {
        *values = spec.mid(brace + 1, spec.size() - brace - 2).split(u',');
        spec = spec.left(brace);
    }
    *list = spec.endsWith(QLatin1String(",..."));
}

QList<Token> parseGrammar(const QString &text)
{
    QList<Token> tokens;
    int scope = 0;
    bool opening = false;
    for (const QString &w : text.split(u' ', SkipEmptyParts)) {
        if (w == QLatin1String("|")) {
            ++scope;
            opening = true;
            continue;
        }
        Token t;
        t.scope = scope;
        t.opener = opening;
        opening = false;
        const int eq = int(w.indexOf(u'='));
        const QString head = eq >= 0 ? w.left(eq) : w.section(u'{', 0, 0);
        t.positional = eq < 0 && head.at(0).isUpper();
        t.takesValue = eq >= 0;
        t.rest = t.positional && head.endsWith(QLatin1String("..."));
        t.word = t.rest ? head.left(head.size() - 3) : head;
        splitValues(eq >= 0 ? w.mid(eq + 1) : w, &t.values, &t.list);
        tokens.append(t);
    }
    return tokens;
}

void parseOption(Program *p, const QString &rest)
{
    const QStringList parts = rest.split(u' ', SkipEmptyParts);
    Option o;
    QString name = parts.value(0);
    const int eq = int(name.indexOf(u'='));
    if (eq >= 0) {
        o.kind = Option::Attached;
        splitValues(name.mid(eq + 1), &o.values, &o.list);
        name = name.left(eq);
    } else if (parts.size() > 1) {
        o.kind = Option::NextWord;
        splitValues(parts.at(1), &o.values, &o.list);
    }
    p->options.insert(name, o);
}

// The table, or the reasons it cannot be read in ERRORS.
QHash<QString, Program> loadTable(QStringList *errors)
{
    QHash<QString, Program> table;
    QFile f(QStringLiteral(NS8M_SOURCE_DIR "/helper/tests/ns7-command-options.txt"));
    if (!f.open(QIODevice::ReadOnly)) {
        errors->append(f.fileName() + QStringLiteral(": ") + f.errorString());
        return table;
    }
    Program *p = nullptr;
    int n = 0;
    for (const QByteArray &raw : f.readAll().split('\n')) {
        ++n;
        const QString line = QString::fromUtf8(raw).trimmed();
        if (line.isEmpty() || line.startsWith(u'#'))
            continue;
        if (line.startsWith(u'[') && line.endsWith(u']')) {
            p = &table[line.mid(1, line.size() - 2)];
            continue;
        }
        const QString key = line.section(u' ', 0, 0);
        const QString rest = line.section(u' ', 1).trimmed();
        if (!p) {
            errors->append(QStringLiteral("line %1: outside a [program] section").arg(n));
        } else if (key == QLatin1String("cite:")) {
            p->cites.append(rest);
        } else if (key == QLatin1String("option")) {
            parseOption(p, rest);
        } else if (key == QLatin1String("first")) {
            p->first = rest;
        } else if (key == QLatin1String("operands:")) {
            p->hasOperands = true;
            p->operands = parseGrammar(rest);
        } else if (key == QLatin1String("command") && rest.contains(u':')) {
            p->commands.append({rest.section(u':', 0, 0).split(u' ', SkipEmptyParts),
                                parseGrammar(rest.section(u':', 1))});
        } else {
            errors->append(QStringLiteral("line %1: not understood: %2").arg(n).arg(line));
        }
    }
    return table;
}

// ------------------------------------------------------------ the check

QString valueProblem(const QString &what, const QString &value, const QStringList &values, bool list)
{
    if (values.isEmpty())
        return {};
    const QStringList items = list ? value.split(u',') : QStringList {value};
    for (const QString &v : items)
        if (!values.contains(v))
            return QStringLiteral("%1: \"%2\" is not one of the accepted values").arg(what, v);
    return {};
}

// Checks the option at ARGV[*I] (and its value); moves *I past them.
QString optionProblem(const Program &p, const QStringList &argv, int *i)
{
    const QString w = argv.at(*i);
    const bool isLong = w.startsWith(QLatin1String("--"));
    const int eq = isLong ? int(w.indexOf(u'=')) : -1;
    const QString name = eq >= 0 ? w.left(eq) : w;
    const auto it = p.options.constFind(name);
    if (it == p.options.constEnd())
        return QStringLiteral("%1: no such option").arg(name);
    const Option &o = *it;
    if (o.kind == Option::Flag)
        return eq >= 0 ? QStringLiteral("%1 takes no value").arg(name) : QString();
    if (o.kind == Option::Attached) {
        if (eq < 0)
            return QStringLiteral("%1 takes a value after \"=\"").arg(name);
        return valueProblem(name, w.mid(eq + 1), o.values, o.list);
    }
    if (eq >= 0 || *i + 1 >= argv.size())
        return QStringLiteral("%1 takes a value as the next word").arg(name);
    ++*i;
    return valueProblem(name, argv.at(*i), o.values, o.list);
}

const Token *findKeyword(const QList<Token> &grammar, const QString &word, int scope)
{
    for (const Token &t : grammar)
        if (!t.positional && t.word == word && (t.opener || t.scope == scope))
            return &t;
    return nullptr;
}

// WORDS against GRAMMAR: keywords, their values, the positional words.
QStringList grammarProblems(const QList<Token> &grammar, const QStringList &words)
{
    QStringList found;
    QList<const Token *> positionals;
    for (const Token &t : grammar)
        if (t.positional)
            positionals.append(&t);
    int next = 0, scope = 0;
    bool restSeen = false;
    for (int j = 0; j < words.size(); ++j) {
        const QString &w = words.at(j);
        if (const Token *k = findKeyword(grammar, w, scope)) {
            if (k->opener)
                scope = k->scope;
            if (!k->takesValue)
                continue;
            if (++j >= words.size())
                found.append(QStringLiteral("%1 takes a value").arg(w));
            else if (const QString why = valueProblem(w, words.at(j), k->values, k->list); !why.isEmpty())
                found.append(why);
        } else if (next < positionals.size() && positionals.at(next)->scope == scope) {
            const Token *t = positionals.at(next);
            if (const QString why = valueProblem(t->word, w, t->values, t->list); !why.isEmpty())
                found.append(why);
            restSeen = t->rest;
            if (!t->rest)
                ++next;
        } else {
            found.append(QStringLiteral("\"%1\": not accepted here").arg(w));
        }
    }
    if (restSeen)
        ++next;
    for (; next < positionals.size(); ++next)
        found.append(QStringLiteral("%1 is missing").arg(positionals.at(next)->word));
    return found;
}

QStringList commandProblems(const Program &p, const QStringList &words)
{
    for (const Command &c : p.commands)
        if (words.mid(0, c.words.size()) == c.words)
            return grammarProblems(c.grammar, words.mid(c.words.size()));
    return {QStringLiteral("no such command: %1").arg(words.mid(0, 2).join(u' '))};
}

// What is wrong with ARGV according to TABLE; empty: nothing.
QStringList problems(const QHash<QString, Program> &table, const QStringList &argv)
{
    const auto it = table.constFind(argv.value(0));
    if (it == table.constEnd())
        return {QStringLiteral("%1: not in the table").arg(argv.value(0))};
    const Program &p = *it;
    QStringList found, words;
    for (int i = 1; i < argv.size(); ++i) {
        const QString &w = argv.at(i);
        const bool optionPlace = p.commands.isEmpty() || words.isEmpty();
        if (!optionPlace || !w.startsWith(u'-') || w == QLatin1String("-")) {
            words.append(w);
            continue;
        }
        if (!p.first.isEmpty() && (w == p.first || w.startsWith(p.first + u'=')) && i != 1)
            found.append(QStringLiteral("%1 must be the first option").arg(p.first));
        if (const QString why = optionProblem(p, argv, &i); !why.isEmpty())
            found.append(why);
    }
    found += p.commands.isEmpty() ? grammarProblems(p.operands, words) : commandProblems(p, words);
    return found;
}

// ------------------------------------------------- what the helper builds

const QString kDefaults = QStringLiteral("/var/lib/ns8-migration/nethvoice/my.cnf");

RsyncTarget target(const QString &password)
{
    return {QStringLiteral("10.5.4.1"), 20002, QStringLiteral("nethvoice1"), password, {}};
}

// A profile whose transfers use every optional flag of planTransfers().
AppProfile profile()
{
    AppProfile p;
    p.ownerUid = 990;
    p.ownerGid = 991;
    Transfer owned;
    owned.id = QStringLiteral("owned");
    owned.source = QStringLiteral("/var/lib/owned/");
    owned.destination = QStringLiteral("owned");
    owned.preserveOwner = true;
    owned.usermap = QStringList {QStringLiteral("48:990"), QStringLiteral("*:991")};
    owned.groupmap = QStringList {QStringLiteral("48:991")};
    owned.deleteExtraneous = true;
    owned.exclude = QStringList {QStringLiteral("*.tmp"), QStringLiteral("cache/")};
    Transfer chowned;
    chowned.id = QStringLiteral("chowned");
    chowned.source = QStringLiteral("/var/lib/chowned");
    chowned.destination = QStringLiteral("chowned/");
    p.transfers = QList<Transfer> {owned, chowned};
    return p;
}

// Every command line the helper can build; PASSWORD is the one secret they
// are built with (the rsync receiver's).
QList<QStringList> everyArgv(const QString &password)
{
    QList<QStringList> all = {
        commands::getentAhosts(QStringLiteral("leader.example.org")),
        commands::ipLinkShow(QStringLiteral("ns8")),
        commands::ipLinkAddWireguard(QStringLiteral("ns8")),
        commands::ipLinkDel(QStringLiteral("ns8")),
        commands::ipAddressReplace(QStringLiteral("10.5.4.3/32"), QStringLiteral("ns8")),
        commands::ipLinkSetMtuUp(QStringLiteral("ns8"), 1420),
        commands::ipRouteReplace(QStringLiteral("10.5.4.0/24"), QStringLiteral("ns8"), QStringLiteral("10.5.4.3")),
        commands::wgSetPeer(QStringLiteral("ns8"), QStringLiteral("/var/lib/ns8-migration/wg.key"),
                            QStringLiteral("cGVlcnB1YmxpY2tleWJhc2U2NGJhc2U2NGJhc2U2NDA="),
                            QStringLiteral("leader.example.org:55820"), QStringLiteral("10.5.4.0/24"), 25),
        commands::wgShowLatestHandshakes(QStringLiteral("ns8")),
        commands::wireguardGo(QStringLiteral("ns8")),
        commands::mysqlQuery(kDefaults, QStringLiteral("SELECT table_name FROM information_schema.tables")),
        commands::mysqlScript(kDefaults, QStringLiteral("/var/lib/ns8-migration/apps/nethvoice/verify.sql")),
        commands::mysqldumpSchema(kDefaults, QStringLiteral("asteriskcdrdb")),
        commands::mysqldumpData(kDefaults, QStringLiteral("asteriskcdrdb"), {QStringLiteral("cdr"), QStringLiteral("cel")}),
        commands::mysqldumpData(kDefaults, QStringLiteral("asterisk"), {}),
        commands::mysqldumpTableRows(kDefaults, QStringLiteral("asteriskcdrdb"), QStringLiteral("cdr")),
        commands::mysqldumpTableRows(kDefaults, QStringLiteral("asteriskcdrdb"), QStringLiteral("cdr"),
                                     QStringLiteral("`calldate` > '2024-01-01' AND `id` <= 42")),
        commands::rsyncRead(QStringLiteral("rsync://nethvoice1@10.5.4.1:20002/terminate"), kRsyncTimeoutSeconds,
                            kRsyncConnectTimeoutSeconds),
        commands::esmithSetprop({}, QStringLiteral("configuration"), QStringLiteral("asterisk"),
                                {QStringLiteral("status"), QStringLiteral("disabled")}),
        commands::esmithSet(QStringLiteral("/"), QStringLiteral("configuration"), QStringLiteral("ns8-migration-redirect-nethvoice"),
                            QStringLiteral("ns8-redirect"), {QStringLiteral("Paths"), QStringLiteral("/freepbx,/cti")}),
        commands::signalEvent({}, QStringLiteral("runlevel-adjust")),
        commands::slapcat(QStringLiteral("/etc/openldap/slapd.d"), 2),
        commands::tdbbackup({QStringLiteral("/var/lib/machines/nsdc/var/lib/samba/private/sam.ldb"),
                             QStringLiteral("/var/lib/machines/nsdc/var/lib/samba/private/secrets.tdb")}, false),
        commands::tdbbackup({QStringLiteral("/var/lib/machines/nsdc/var/lib/samba/gencache.tdb")}, true),
        commands::expandTemplate({}, QStringLiteral("/etc/httpd/conf.d/00ns8migration.conf")),
    };
    for (const int bwlimit : {0, 2048})
        for (const RsyncTransfer &t : planTransfers(profile(), QStringLiteral("/"), target(password), bwlimit,
                                                    QStringLiteral("/var/lib/ns8-migration/stage")))
            all.append(t.argv());
    AppProfile noOwner = profile();
    noOwner.ownerUid = noOwner.ownerGid = -1;
    for (const RsyncTransfer &t : planTransfers(noOwner, QStringLiteral("/"), target(password), 0, {}))
        all.append(t.argv());
    for (const int uid : {-1, 990})
        all.append(directoryTransfer(QStringLiteral("dumps"), QStringLiteral("Dumps"), QStringLiteral("/var/lib/dumps"),
                                     target(password), QStringLiteral("restore"), uid, uid + 1)
                       .argv());
    all.append(fileTransfer(QStringLiteral("directory"), QStringLiteral("Users and groups"),
                            QStringLiteral("/var/lib/ns8-migration/generated/app/directory/dump-mdb0.ldif"),
                            target(password), QStringLiteral("volumes/data/"), -1, -1)
                   .argv());
    // Finish's verification: dry runs of the same transfers, the dumps listed.
    for (const RsyncTransfer &t : planTransfers(profile(), QStringLiteral("/"), target(password), 2048, {})) {
        all.append(verifyTransfer(t, false).argv());
        all.append(verifyTransfer(t, true, QStringLiteral("/var/lib/ns8-migration/apps/nethvoice/sample")).argv());
        // Finish's last sync and its verification on a change set.
        const QString list = QStringLiteral("/var/lib/ns8-migration/apps/nethvoice/changeset/0.list");
        all.append(changeSetTransfer(t, list).argv());
        all.append(changeSetVerifyTransfer(t, list).argv());
        RsyncTransfer large = t; // a tree of more than kIncrementalFiles
        large.args = commands::rsyncIncremental(t.args);
        all.append(large.argv());
    }
    all.append(commands::rsyncList(QStringLiteral("rsync://nethvoice1@10.5.4.1:20002/data/state/restore/"),
                                   kRsyncTimeoutSeconds, kRsyncConnectTimeoutSeconds));
    // The run that creates the destination folders (RsyncBatch's skeleton).
    all.append(commands::rsync(commands::rsyncFoldersOptions(kRsyncTimeoutSeconds, kRsyncConnectTimeoutSeconds),
                               {QStringLiteral("/var/lib/ns8-migration/stage/.skeleton/")},
                               QStringLiteral("rsync://nethvoice1@10.5.4.1:20002/data/")));
    return all;
}

QString show(const QStringList &argv)
{
    return argv.join(u' ');
}

} // namespace

class TestCommands : public QObject
{
    Q_OBJECT

    QHash<QString, Program> m_table;

private slots:
    void initTestCase()
    {
        QStringList errors;
        m_table = loadTable(&errors);
        QVERIFY2(errors.isEmpty(), qPrintable(errors.join(u'\n')));
    }

    void everyProgramCitesItsManual()
    {
        const QStringList programs = {QStringLiteral("rsync"), QStringLiteral("mysqldump"), QStringLiteral("mysql"),
                                      QStringLiteral("getent"), QStringLiteral("ip"), QStringLiteral("wg"),
                                      QStringLiteral("wireguard-go"), QStringLiteral("/sbin/e-smith/db"),
                                      QStringLiteral("/sbin/e-smith/signal-event"),
                                      QStringLiteral("/sbin/e-smith/expand-template")};
        for (const QString &program : programs) {
            QVERIFY2(m_table.contains(program), qPrintable(program));
            QVERIFY2(!m_table.value(program).cites.isEmpty(), qPrintable(program + QStringLiteral(": no cite:")));
        }
    }

    void everyArgvIsAcceptedAtItsNs7Version()
    {
        const QList<QStringList> all = everyArgv(QStringLiteral("x"));
        QVERIFY(all.size() > 25);
        QStringList bad;
        for (const QStringList &argv : all)
            for (const QString &why : problems(m_table, argv))
                bad.append(show(argv) + QStringLiteral("\n    ") + why);
        QVERIFY2(bad.isEmpty(), qPrintable(bad.join(u'\n')));
    }

    // The flags planTransfers() adds only for some transfers are among those checked.
    void theOptionalRsyncFlagsAreChecked()
    {
        QString all;
        for (const QStringList &argv : everyArgv(QStringLiteral("x")))
            all += show(argv) + u'\n';
        for (const char *flag : {"--usermap=48:990,*:991", "--groupmap=48:991", "--chown=990:991", "--delete",
                                 "--exclude=*.tmp", "--exclude=cache/", "--bwlimit=2048", "rsync -r "})
            QVERIFY2(all.contains(QLatin1String(flag)), flag);
    }

    void noArgvHoldsTheSecret()
    {
        const QString secret = QStringLiteral("S3cret-pa55word-9d1e");
        for (const QStringList &argv : everyArgv(secret))
            for (const QString &word : argv)
                QVERIFY2(!word.contains(secret), qPrintable(show(argv)));
    }

    // The builders give exactly the command lines the call sites ran before.
    void theBuildersSpellTheCommandsAsBefore()
    {
        QCOMPARE(show(commands::mysqlQuery(QStringLiteral("/f"), QStringLiteral("SELECT 1"))),
                 QStringLiteral("mysql --defaults-file=/f -N -B -e SELECT 1"));
        QCOMPARE(show(commands::mysqlScript(QStringLiteral("/f"), QStringLiteral("/w/verify.sql"))),
                 QStringLiteral("mysql --defaults-file=/f -N -B -e source /w/verify.sql"));
        const QString base = QStringLiteral("mysqldump --defaults-file=/f --single-transaction --hex-blob "
                                            "--default-character-set=utf8mb4 ");
        QCOMPARE(show(commands::mysqldumpSchema(QStringLiteral("/f"), QStringLiteral("db"))),
                 base + QStringLiteral("--no-data --add-drop-database --databases db"));
        QCOMPARE(show(commands::mysqldumpData(QStringLiteral("/f"), QStringLiteral("db"), {QStringLiteral("t")})),
                 base + QStringLiteral("--no-create-info --skip-triggers --no-create-db --ignore-table=db.t --databases db"));
        QCOMPARE(show(commands::mysqldumpTableRows(QStringLiteral("/f"), QStringLiteral("db"), QStringLiteral("t"))),
                 base + QStringLiteral("--no-create-info --skip-triggers db t"));
        QCOMPARE(show(commands::mysqldumpTableRows(QStringLiteral("/f"), QStringLiteral("db"), QStringLiteral("t"),
                                                   QStringLiteral("id > 1"))),
                 base + QStringLiteral("--no-create-info --skip-triggers --where=id > 1 db t"));
        QCOMPARE(show(commands::wgSetPeer(QStringLiteral("ns8"), QStringLiteral("/k"), QStringLiteral("P"),
                                          QStringLiteral("h:1"), QStringLiteral("10.5.4.0/24"), 25)),
                 QStringLiteral("wg set ns8 private-key /k peer P endpoint h:1 allowed-ips 10.5.4.0/24 "
                                "persistent-keepalive 25"));
        QCOMPARE(show(commands::ipLinkSetMtuUp(QStringLiteral("ns8"), 1420)),
                 QStringLiteral("ip link set dev ns8 mtu 1420 up"));
        QCOMPARE(show(commands::ipRouteReplace(QStringLiteral("10.5.4.0/24"), QStringLiteral("ns8"),
                                               QStringLiteral("10.5.4.3"))),
                 QStringLiteral("ip route replace 10.5.4.0/24 dev ns8 src 10.5.4.3"));
        QCOMPARE(show(commands::rsyncRead(QStringLiteral("rsync://u@h:1/terminate"), 120, 20)),
                 QStringLiteral("rsync --contimeout=20 --timeout=120 rsync://u@h:1/terminate"));
    }

    // The check can fail: what NS7's programs would refuse is reported.
    void theCheckReportsWhatNs7Refuses_data()
    {
        QTest::addColumn<QStringList>("argv");
        QTest::addColumn<QString>("problem");
        auto row = [](const char *name, const QString &argv, const QString &problem) {
            QTest::newRow(name) << argv.split(u' ') << problem;
        };
        row("rsync 3.2.3's --mkpath", QStringLiteral("rsync -a --mkpath /a/ rsync://h/data/"),
            QStringLiteral("--mkpath: no such option"));
        row("an --info word rsync 3.1.2 has not", QStringLiteral("rsync --info=progress2,nonsense /a/ rsync://h/data/"),
            QStringLiteral("--info: \"nonsense\" is not one of the accepted values"));
        row("a value not after =", QStringLiteral("rsync --timeout 5 /a/ rsync://h/data/"),
            QStringLiteral("--timeout takes a value after \"=\""));
        row("a value to a flag", QStringLiteral("rsync --delete=yes /a/ rsync://h/data/"),
            QStringLiteral("--delete takes no value"));
        row("--defaults-file not first", QStringLiteral("mysqldump --single-transaction --defaults-file=/f db"),
            QStringLiteral("--defaults-file must be the first option"));
        row("mysql -e without SQL", QStringLiteral("mysql --defaults-file=/f -N -e"),
            QStringLiteral("-e takes a value as the next word"));
        row("a character set 5.5 has not", QStringLiteral("mysqldump --defaults-file=/f --default-character-set=utf8mb3 db"),
            QStringLiteral("--default-character-set: \"utf8mb3\" is not one of the accepted values"));
        row("an ip keyword out of the table", QStringLiteral("ip link add dev ns8 type wireguard bogus"),
            QStringLiteral("\"bogus\": not accepted here"));
        row("an ip link type other than wireguard", QStringLiteral("ip link add dev ns8 type vxlan"),
            QStringLiteral("type: \"vxlan\" is not one of the accepted values"));
        row("an ip command out of the table", QStringLiteral("ip netns add x"), QStringLiteral("no such command: netns add"));
        row("a peer keyword before peer", QStringLiteral("wg set ns8 endpoint h:1 peer P"),
            QStringLiteral("\"endpoint\": not accepted here"));
        row("a device keyword after peer", QStringLiteral("wg set ns8 peer P private-key /k"),
            QStringLiteral("\"private-key\": not accepted here"));
        row("wg show without interface", QStringLiteral("wg show"), QStringLiteral("INTERFACE is missing"));
        row("getent without key", QStringLiteral("getent ahosts"), QStringLiteral("KEY is missing"));
        row("systemctl", QStringLiteral("systemctl restart x"), QStringLiteral("systemctl: not in the table"));
    }

    void theCheckReportsWhatNs7Refuses()
    {
        QFETCH(QStringList, argv);
        QFETCH(QString, problem);
        const QStringList found = problems(m_table, argv);
        QVERIFY2(found.contains(problem), qPrintable(found.join(QStringLiteral("; "))));
    }
};

QTEST_GUILESS_MAIN(TestCommands)
#include "test_commands.moc"
