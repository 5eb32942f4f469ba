#include "transfer/scanner.h"

#include "core/qtcompat.h"

#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QTest>

#include <cerrno>
#include <sys/stat.h>
#include <unistd.h>

using namespace ns8m;

namespace {

// mkdir -p and ln -s with byte names (any byte but '/' and NUL may be in one).
bool mkdirs(const QByteArray &path)
{
    for (Size i = 1; i <= path.size(); ++i)
        if (i == path.size() || path.at(i) == '/')
            if (::mkdir(path.left(i).constData(), 0755) != 0 && errno != EEXIST)
                return false;
    return true;
}

bool symlinkAt(const QByteArray &target, const QByteArray &link)
{
    return ::symlink(target.constData(), link.constData()) == 0;
}

} // namespace

class TestScanner : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void excludes()
    {
        const QList<QByteArray> p = {"samples*", "keys", "*.rpmnew", "modules.conf"};
        QVERIFY(isExcluded("samples", p));
        QVERIFY(isExcluded("samples.conf", p));
        QVERIFY(isExcluded("keys", p));
        QVERIFY(isExcluded("sip.conf.rpmnew", p));
        QVERIFY(isExcluded("modules.conf", p));
        QVERIFY(!isExcluded("sip.conf", p));
        QVERIFY(!isExcluded("mykeys", p));
        QVERIFY(!isExcluded(".rpmnew", p)); // FNM_PERIOD: a leading dot is not matched by '*'
    }

    void expandsOneStar()
    {
        QTemporaryDir root;
        QVERIFY(root.isValid());
        for (const char *d : {"/var/lib/asterisk/sounds/en/custom", "/var/lib/asterisk/sounds/it/custom",
                              "/var/lib/asterisk/sounds/fr"})
            QVERIFY(QDir().mkpath(root.path() + QLatin1String(d)));
        Transfer t;
        t.source = QStringLiteral("/var/lib/asterisk/sounds/*/custom");
        const auto found = expandSource(root.path(), t);
        QCOMPARE(found.size(), 2);
        QCOMPARE(found.at(0).first, root.path() + QStringLiteral("/var/lib/asterisk/sounds/en/custom"));
        QCOMPARE(found.at(0).second, QStringLiteral("en"));
        QCOMPARE(found.at(1).second, QStringLiteral("it"));

        t.source = QStringLiteral("/etc/asterisk/");
        const auto plain = expandSource(QStringLiteral("/"), t);
        QCOMPARE(plain.size(), 1);
        QCOMPARE(plain.first().first, QStringLiteral("/etc/asterisk"));
    }

    void classifiesLinks()
    {
        QCOMPARE(classifyLink("/etc/passwd", 0), LinkKind::Absolute);
        QCOMPARE(classifyLink("//x", 3), LinkKind::Absolute);
        QCOMPARE(classifyLink("a.txt", 0), LinkKind::Inside);
        QCOMPARE(classifyLink("./sub/../a.txt", 0), LinkKind::Inside);
        QCOMPARE(classifyLink("../a.txt", 1), LinkKind::Inside);
        QCOMPARE(classifyLink("../../a.txt", 2), LinkKind::Inside);
        QCOMPARE(classifyLink("..", 1), LinkKind::Inside); // the tree's top directory
        QCOMPARE(classifyLink("..", 0), LinkKind::Escaping);
        QCOMPARE(classifyLink("../../x", 1), LinkKind::Escaping);
        // Up and down again through a name NS8 does not have.
        QCOMPARE(classifyLink("../data/a.txt", 0), LinkKind::Escaping);
        QCOMPARE(classifyLink("sub/../../x", 0), LinkKind::Escaping);
        QCOMPARE(classifyLink("x//y/./z", 0), LinkKind::Inside);
        // The transfer's source itself: whatever it points to is not copied with it.
        QCOMPARE(classifyLink("data", -1), LinkKind::Escaping);
    }

    void linkReportKeepsTheFirstFew()
    {
        LinkReport r;
        for (int i = 0; i < 7; ++i)
            r.add(LinkKind::Absolute, QStringLiteral("/a%1").arg(i));
        r.add(LinkKind::Inside, QStringLiteral("/in"));
        r.add(LinkKind::Escaping, QStringLiteral("/e"));
        QCOMPARE(r.absolute, quint64(7));
        QCOMPARE(r.absolutePaths.size(), LinkReport::kExamples);
        QCOMPARE(r.absolutePaths.first(), QStringLiteral("/a0"));
        QCOMPARE(r.escaping, quint64(1));
        QCOMPARE(r.escapingPaths, QStringList{QStringLiteral("/e")});
        const LinkReport back = LinkReport::fromJson(r.toJson());
        QCOMPARE(back.absolute, r.absolute);
        QCOMPARE(back.absolutePaths, r.absolutePaths);
        QCOMPARE(back.escaping, r.escaping);
        QCOMPARE(back.escapingPaths, r.escapingPaths);
        QVERIFY(LinkReport().isEmpty());
    }

    // A source's directory, or one above it, that is a symbolic link: the
    // walk (as root) would go wherever it points.
    void symlinkOnPathFindsTheLink()
    {
        QTemporaryDir tmp;
        QVERIFY(tmp.isValid());
        const QByteArray root = QFile::encodeName(tmp.path());
        QVERIFY(mkdirs(root + "/secret"));
        QVERIFY(mkdirs(root + "/var/lib/asterisk"));
        QVERIFY(symlinkAt(root + "/secret", root + "/var/lib/asterisk/agi-bin"));
        QVERIFY(symlinkAt(root + "/var/lib/asterisk", root + "/var/lib/alias"));
        const QString r = tmp.path();
        QCOMPARE(symlinkOnPath(r, r + QStringLiteral("/var/lib/asterisk/agi-bin"), true),
                 r + QStringLiteral("/var/lib/asterisk/agi-bin"));
        // rsync copies a last component without '/' as the link it is.
        QCOMPARE(symlinkOnPath(r, r + QStringLiteral("/var/lib/asterisk/agi-bin"), false), QString());
        // A link above the source is followed either way.
        QCOMPARE(symlinkOnPath(r, r + QStringLiteral("/var/lib/alias/agi-bin"), false),
                 r + QStringLiteral("/var/lib/alias"));
        // Nothing to refuse: a real directory, a missing path, the root's own links.
        QCOMPARE(symlinkOnPath(r, r + QStringLiteral("/var/lib/asterisk"), true), QString());
        QCOMPARE(symlinkOnPath(r, r + QStringLiteral("/var/nothing/here"), true), QString());
        QVERIFY(symlinkAt(root, root + "/secret/root-alias"));
        QCOMPARE(symlinkOnPath(r + QStringLiteral("/secret/root-alias/"),
                               r + QStringLiteral("/secret/root-alias/var/lib/asterisk"), true),
                 QString());
        const Failure f = symlinkRefused(r + u'/', r + QStringLiteral("/var/lib/asterisk/agi-bin"));
        QCOMPARE(f.name, QString::fromLatin1(Error::Failed));
        QCOMPARE(f.texts.value(0).id, QStringLiteral("transfer.source.symlink"));
        QVERIFY2(f.message.startsWith(QStringLiteral("/var/lib/asterisk/agi-bin is a symbolic link (to ")),
                 qPrintable(f.message));
    }

    // agi-bin replaced by a link to /root (here: a directory outside the
    // profile's paths): the Scan refuses, naming it, and reads nothing.
    void scanRefusesASymlinkedSource()
    {
        QTemporaryDir tmp;
        QVERIFY(tmp.isValid());
        const QByteArray root = QFile::encodeName(tmp.path());
        QVERIFY(mkdirs(root + "/root"));
        QFile secret(QFile::decodeName(root + "/root/secret"));
        QVERIFY(secret.open(QIODevice::WriteOnly));
        secret.write("x");
        secret.close();
        QVERIFY(mkdirs(root + "/var/lib/asterisk"));
        QVERIFY(symlinkAt(root + "/root", root + "/var/lib/asterisk/agi-bin"));
        AppProfile profile;
        profile.id = QStringLiteral("test");
        Transfer t;
        t.id = QStringLiteral("agi-bin");
        t.title = QStringLiteral("AGI scripts");
        t.source = QStringLiteral("/var/lib/asterisk/agi-bin/");
        profile.transfers.append(t);
        Job::Params params;
        params.operation = QStringLiteral("scan");
        params.steps = Scanner::plan(profile, {});
        Job job(nullptr, nullptr, nullptr, params);
        Scanner scanner(profile, tmp.path() + u'/', &job);
        int calls = 0;
        Failure failure;
        scanner.walk([&](const Failure &outcome) {
            ++calls;
            failure = outcome;
        });
        QTRY_VERIFY_WITH_TIMEOUT(calls > 0, 10000);
        QCOMPARE(failure.name, QString::fromLatin1(Error::Failed));
        QCOMPARE(failure.texts.value(0).id, QStringLiteral("transfer.source.symlink"));
        QVERIFY2(failure.message.contains(QStringLiteral("/var/lib/asterisk/agi-bin")), qPrintable(failure.message));
        QCOMPARE(scanner.result().files, quint64(0));
    }

    // A whole Scan of a tree: the links that point nowhere on NS8, per
    // transfer, as NS7 paths; names with bytes that are not UTF-8 included.
    void scanFindsLinksThatPointNowhere()
    {
        QTemporaryDir tmp;
        QVERIFY(tmp.isValid());
        const QByteArray root = QFile::encodeName(tmp.path());
        const QByteArray data = root + "/srv/data";
        const QByteArray odd = "caf\xe9 \xff\xfe"; // Latin-1, and bytes no UTF-8 text has
        QVERIFY(mkdirs(data + "/sub/deep"));
        QVERIFY(mkdirs(data + "/" + odd));
        // QTemporaryDir goes by QString names: those bytes are removed here.
        struct RemoveOdd {
            QByteArray dir;
            ~RemoveOdd()
            {
                ::unlink(QByteArray(dir + "/l\xe8\xff").constData());
                ::rmdir(dir.constData());
            }
        } const removeOdd{data + "/" + odd};
        QVERIFY(mkdirs(root + "/srv/other/empty"));
        QFile f(QFile::decodeName(data + "/a.txt"));
        QVERIFY(f.open(QIODevice::WriteOnly));
        QCOMPARE(f.write("hello"), qint64(5));
        f.close();
        // Inside the tree: not reported (dangling or not).
        QVERIFY(symlinkAt("a.txt", data + "/same-dir"));
        QVERIFY(symlinkAt("../a.txt", data + "/sub/rel"));
        QVERIFY(symlinkAt("../../a.txt", data + "/sub/deep/up-to-top"));
        QVERIFY(symlinkAt("deep/missing", data + "/sub/dangling"));
        // Absolute.
        QVERIFY(symlinkAt("/etc/passwd", data + "/abs"));
        QVERIFY(symlinkAt("/srv/data/a.txt", data + "/" + odd + "/l\xe8\xff"));
        // Out of the tree.
        QVERIFY(symlinkAt("../../x", data + "/sub/esc"));
        QVERIFY(symlinkAt("../other", data + "/sibling"));
        // Excluded: rsync does not copy it, nothing to report.
        QVERIFY(symlinkAt("/etc/hosts", data + "/skip.lnk"));
        // The source of a transfer without a trailing slash is itself a link.
        QVERIFY(symlinkAt("/srv/data", root + "/srv/alias"));

        AppProfile profile;
        profile.id = QStringLiteral("test");
        Transfer t;
        t.id = QStringLiteral("data");
        t.title = QStringLiteral("Data");
        t.source = QStringLiteral("/srv/data/");
        t.exclude = QStringList{QStringLiteral("*.lnk")};
        profile.transfers.append(t);
        Transfer alias;
        alias.id = QStringLiteral("alias");
        alias.title = QStringLiteral("Alias");
        alias.source = QStringLiteral("/srv/alias");
        profile.transfers.append(alias);
        Transfer deep;
        deep.id = QStringLiteral("deep");
        deep.title = QStringLiteral("Deep");
        deep.source = QStringLiteral("/srv/data/sub/deep/");
        profile.transfers.append(deep);
        Transfer clean;
        clean.id = QStringLiteral("clean");
        clean.title = QStringLiteral("Clean");
        clean.source = QStringLiteral("/srv/other");
        profile.transfers.append(clean);

        Job::Params params;
        params.operation = QStringLiteral("scan");
        params.steps = Scanner::plan(profile, {});
        Job job(nullptr, nullptr, nullptr, params);
        Scanner scanner(profile, tmp.path() + u'/', &job);
        int calls = 0;
        Failure failure;
        scanner.walk([&](const Failure &outcome) {
            ++calls;
            failure = outcome;
        });
        QTRY_VERIFY_WITH_TIMEOUT(calls > 0, 10000);
        QCOMPARE(calls, 1);
        QVERIFY2(!failure.isError(), qPrintable(failure.message));
        const ScanResult result = scanner.result();

        QCOMPARE(result.details.size(), 4);
        const QJsonArray d = result.details.at(0).toArray();
        QCOMPARE(d.at(0).toString(), QStringLiteral("data"));
        QCOMPARE(d.at(2).toDouble(), 1.0); // a.txt: links are not files
        QCOMPARE(d.at(3).toDouble(), 5.0);
        QVERIFY(d.at(4).isObject());
        const LinkReport links = LinkReport::fromJson(d.at(4).toObject());
        QCOMPARE(links.absolute, quint64(2));
        QStringList absolute = links.absolutePaths;
        absolute.sort();
        // NS7 paths, without the root; the odd bytes as the rest of the scanner shows them.
        const QString oddLink = QFile::decodeName("/srv/data/" + odd + "/l\xe8\xff");
        QVERIFY(QFile::decodeName(odd).size() > 0);
        QStringList expected{QStringLiteral("/srv/data/abs"), oddLink};
        expected.sort();
        QCOMPARE(absolute, expected);
        QCOMPARE(links.escaping, quint64(2));
        QStringList escaping = links.escapingPaths;
        escaping.sort();
        QCOMPARE(escaping, (QStringList{QStringLiteral("/srv/data/sibling"), QStringLiteral("/srv/data/sub/esc")}));
        // What goes on the bus is valid UTF-8 and comes back the same.
        QCOMPARE(QString::fromUtf8(oddLink.toUtf8()), oddLink);

        const QJsonArray a = result.details.at(1).toArray();
        QCOMPARE(a.at(0).toString(), QStringLiteral("alias"));
        const LinkReport aliasLinks = LinkReport::fromJson(a.at(4).toObject());
        QCOMPARE(aliasLinks.absolute, quint64(1));
        QCOMPARE(aliasLinks.absolutePaths, QStringList{QStringLiteral("/srv/alias")});

        // The same link is inside one tree and outside another.
        const LinkReport deepLinks = LinkReport::fromJson(result.details.at(2).toArray().at(4).toObject());
        QCOMPARE(deepLinks.absolute, quint64(0));
        QCOMPARE(deepLinks.escaping, quint64(1));
        QCOMPARE(deepLinks.escapingPaths, QStringList{QStringLiteral("/srv/data/sub/deep/up-to-top")});

        const QJsonArray c = result.details.at(3).toArray();
        QCOMPARE(c.at(0).toString(), QStringLiteral("clean"));
        QVERIFY(c.at(4).isObject());
        QVERIFY(LinkReport::fromJson(c.at(4).toObject()).isEmpty());

        // The closing sentence tells the administrator too.
        const QString message = english(scanner.summary());
        QVERIFY2(message.contains(QStringLiteral("2 absolute symbolic links")), qPrintable(message));
        QVERIFY2(message.contains(QStringLiteral("/srv/data/sub/esc")), qPrintable(message));
        QVERIFY2(message.contains(QStringLiteral("point nowhere on NS8")), qPrintable(message));
        QVERIFY(!message.contains(QStringLiteral("skip.lnk")));
    }
};

QTEST_GUILESS_MAIN(TestScanner)
#include "test_scanner.moc"
