#include "profile/fields.h"

#include <QTest>

using namespace ns8m;

class TestFields : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void fqdn_data()
    {
        QTest::addColumn<QString>("value");
        QTest::addColumn<QString>("problem"); // a word the sentence must hold, "" = fine
        QTest::newRow("good") << QStringLiteral("voice.example.com") << QString();
        QTest::newRow("good, digits and dash") << QStringLiteral("pbx-2.ns8.example.org") << QString();
        QTest::newRow("url") << QStringLiteral("https://voice.example.com") << QStringLiteral("without \"https://\"");
        QTest::newRow("url with path") << QStringLiteral("http://voice.example.com/x") << QStringLiteral("voice.example.com)");
        QTest::newRow("no dot") << QStringLiteral("voice") << QStringLiteral("no domain");
        QTest::newRow("ipv4") << QStringLiteral("192.0.2.10") << QStringLiteral("IP address");
        QTest::newRow("ipv6") << QStringLiteral("2001:db8::1") << QStringLiteral("IP address");
        QTest::newRow("port") << QStringLiteral("voice.example.com:443") << QStringLiteral("without path, port");
        QTest::newRow("space") << QStringLiteral("voice example.com") << QStringLiteral("without path, port or spaces");
        QTest::newRow("too long") << QString(300, u'a') + QStringLiteral(".com") << QStringLiteral("253");
        QTest::newRow("long label") << QString(64, u'a') + QStringLiteral(".example.com") << QStringLiteral("63");
        QTest::newRow("underscore") << QStringLiteral("voice_1.example.com") << QStringLiteral("not a valid host name");
        QTest::newRow("leading dash") << QStringLiteral("-voice.example.com") << QStringLiteral("not a valid host name");
        QTest::newRow("empty") << QString() << QStringLiteral("give a host name");
    }
    void fqdn()
    {
        QFETCH(QString, value);
        QFETCH(QString, problem);
        const QString p = checkFqdn(value);
        if (problem.isEmpty())
            QVERIFY2(p.isEmpty(), qPrintable(p));
        else
            QVERIFY2(p.contains(problem), qPrintable(p));
    }

    void nethvoiceFields()
    {
        QString error;
        const auto p = AppProfile::load(QStringLiteral(NS8M_SOURCE_DIR "/apps/nethvoice.yaml"), &error);
        QVERIFY2(p, qPrintable(error));
        QVariantMap merged;
        auto problems = checkFields(*p, {{QStringLiteral("nethvoice_host"), QStringLiteral("Voice.Example.com")},
                                         {QStringLiteral("nethcti_ui_host"), QStringLiteral("cti.example.com")}},
                                    {}, false, &merged);
        QVERIFY(problems.isEmpty());
        QCOMPARE(merged.value(QStringLiteral("nethvoice_host")).toString(), QStringLiteral("voice.example.com"));
        QCOMPARE(merged.value(QStringLiteral("lets_encrypt")).toBool(), false);

        problems = checkFields(*p, {{QStringLiteral("nethvoice_host"), QStringLiteral("same.example.com")},
                                    {QStringLiteral("nethcti_ui_host"), QStringLiteral("same.example.com")}},
                               {}, false, nullptr);
        QVERIFY(problems.value(QStringLiteral("nethvoice_host")).contains(QStringLiteral("must differ")));
        QVERIFY(problems.value(QStringLiteral("nethcti_ui_host")).contains(QStringLiteral("must differ")));

        problems = checkFields(*p, {{QStringLiteral("nethvoice_host"), QStringLiteral("voice.example.com")}}, {}, false, nullptr);
        QVERIFY(problems.value(QStringLiteral("nethcti_ui_host")).contains(QStringLiteral("required")));
        // As you type: only what was given is checked...
        problems = checkFields(*p, {{QStringLiteral("nethvoice_host"), QStringLiteral("voice.example.com")}}, {}, true, nullptr);
        QVERIFY(problems.isEmpty());
        // ... against the values already stored.
        problems = checkFields(*p, {{QStringLiteral("nethvoice_host"), QStringLiteral("cti.example.com")}},
                               {{QStringLiteral("nethcti_ui_host"), QStringLiteral("cti.example.com")}}, true, nullptr);
        QVERIFY(problems.value(QStringLiteral("nethvoice_host")).contains(QStringLiteral("must differ")));

        const BusError e = fieldError({{QStringLiteral("nethvoice_host"), QStringLiteral("bad.")}});
        QCOMPARE(e.name, QStringLiteral("org.nethserver.Ns8Migration1.Error.InvalidArgument"));
        QVERIFY(e.message.startsWith(QStringLiteral("nethvoice_host: ")));
    }
};

QTEST_GUILESS_MAIN(TestFields)
#include "test_fields.moc"
