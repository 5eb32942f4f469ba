#include "scanner.h"

#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QTest>

using namespace ns8m;

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
};

QTEST_GUILESS_MAIN(TestScanner)
#include "test_scanner.moc"
