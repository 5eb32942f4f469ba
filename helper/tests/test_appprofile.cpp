#include "appprofile.h"

#include <QTest>

using namespace ns8m;

namespace {
const QByteArray kMinimal = "format: 1\nid: demo\nname: Demo\n"
                            "detect: {database: configuration, key: demo}\n"
                            "ns8: {image: demo, volumes: [data]}\n"
                            "owner: {uid: 990, gid: 991}\n"
                            "transfers:\n"
                            "  - {id: files, title: Files, source: /srv/demo/, destination: volumes/data/}\n";
}

class TestAppProfile : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void nethvoiceProfile()
    {
        QString error;
        const auto p = AppProfile::load(QStringLiteral(NS8M_SOURCE_DIR "/apps/nethvoice.yaml"), &error);
        QVERIFY2(p, qPrintable(error));
        QCOMPARE(p->id, QStringLiteral("nethvoice"));
        QCOMPARE(p->image, QStringLiteral("nethvoice"));
        QCOMPARE(p->volumes.size(), 14);
        QCOMPARE(p->ownerUid, 990);
        QCOMPARE(p->ownerGid, 991);
        QCOMPARE(p->detectKey, QStringLiteral("nethvoice"));
        QStringList ids;
        for (const Transfer &t : p->transfers)
            ids.append(t.id);
        QVERIFY(ids.contains(QStringLiteral("recordings")));
        QVERIFY(ids.contains(QStringLiteral("tancredi")));
        for (const Transfer &t : p->transfers) {
            if (t.id == u"tancredi") {
                QVERIFY(t.preserveOwner);
                QCOMPARE(t.usermap, QStringList{QStringLiteral("48:33")});
            }
            if (t.id == u"asterisk-config")
                QVERIFY(t.exclude.contains(QStringLiteral("modules.conf")));
            if (t.id == u"recordings") {
                QVERIFY(t.copiesDirectoryItself());
                QVERIFY(t.deleteExtraneous);
            }
            if (t.id == u"phonebook-sources")
                QCOMPARE(t.rewrite.size(), 1);
        }
        QStringList dbs;
        for (const DatabaseItem &d : p->databases)
            dbs.append(d.name);
        QCOMPARE(dbs.mid(0, 4), (QStringList{QStringLiteral("asterisk"), QStringLiteral("nethcti3"),
                                             QStringLiteral("phonebook"), QStringLiteral("asteriskcdrdb")}));
        QCOMPARE(p->databases.at(3).dataDestination, QStringLiteral("state/restore_background/"));
        QCOMPARE(p->databases.at(3).incremental.size(), 3);
        QCOMPARE(p->quiesceServices, (QStringList{QStringLiteral("httpd-fpbx"), QStringLiteral("fias"),
                                                  QStringLiteral("fias-dispatcher")}));
        QCOMPARE(p->fields.size(), 3);
        QCOMPARE(p->configureSchema, QStringLiteral("nethvoice/configure-module/validate-input.json"));
        QCOMPARE(p->sqlite.size(), 1);
    }

    void minimalProfile()
    {
        QString error;
        const auto p = AppProfile::parse(kMinimal, QStringLiteral("demo.yaml"), &error);
        QVERIFY2(p, qPrintable(error));
        QCOMPARE(p->transfers.size(), 1);
        QVERIFY(!p->transfers.first().copiesDirectoryItself());
    }

    void rejects_data()
    {
        QTest::addColumn<QByteArray>("yaml");
        QTest::addColumn<QString>("expected");
        QTest::newRow("unknown key") << kMinimal + "colour: red\n" << QStringLiteral("unknown key \"colour\"");
        QTest::newRow("bad id") << QByteArray(kMinimal).replace("id: demo", "id: ../x")
                                << QStringLiteral("id must be");
        QTest::newRow("relative source")
            << QByteArray(kMinimal).replace("source: /srv/demo/", "source: srv/demo/")
            << QStringLiteral("absolute path");
        QTest::newRow("dotdot source")
            << QByteArray(kMinimal).replace("source: /srv/demo/", "source: /srv/../etc/")
            << QStringLiteral("absolute path");
        QTest::newRow("unknown volume")
            << QByteArray(kMinimal).replace("destination: volumes/data/", "destination: volumes/nope/")
            << QStringLiteral("volume the module does not have");
        QTest::newRow("escaping destination")
            << QByteArray(kMinimal).replace("destination: volumes/data/", "destination: volumes/data/../../x/")
            << QStringLiteral("relative to the module");
        QTest::newRow("uid range") << QByteArray(kMinimal).replace("uid: 990", "uid: -1")
                                   << QStringLiteral("owner uid must be");
        QTest::newRow("format") << QByteArray(kMinimal).replace("format: 1", "format: 2")
                                << QStringLiteral("format must be");
        QTest::newRow("yaml syntax") << QByteArray("format: [1\n") << QStringLiteral("line");
        QTest::newRow("placeholder without star")
            << QByteArray(kMinimal).replace("destination: volumes/data/", "destination: \"volumes/data/{1}/\"")
            << QStringLiteral("has no '*'");
        QTest::newRow("exclude with slash")
            << QByteArray(kMinimal).replace("destination: volumes/data/}", "destination: volumes/data/, exclude: [a/b]}")
            << QStringLiteral("without '/'");
    }
    void rejects()
    {
        QFETCH(QByteArray, yaml);
        QFETCH(QString, expected);
        QString error;
        const auto p = AppProfile::parse(yaml, QStringLiteral("demo.yaml"), &error);
        QVERIFY(!p);
        QVERIFY2(error.contains(expected), qPrintable(error));
        QVERIFY2(error.startsWith(QStringLiteral("demo.yaml: ")), qPrintable(error));
    }
};

QTEST_GUILESS_MAIN(TestAppProfile)
#include "test_appprofile.moc"
