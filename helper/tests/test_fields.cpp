#include "profile/fields.h"
#include "operations/dnscheck.h"
#include "store/statedb.h"

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
        QTest::newRow("empty") << QString() << QStringLiteral("Give a host name");
    }
    void fqdn()
    {
        QFETCH(QString, value);
        QFETCH(QString, problem);
        const Text t = checkFqdn(value);
        const QString p = t.english();
        QCOMPARE(t.id.isEmpty(), problem.isEmpty()); // every problem by id, for the page to translate
        if (problem.isEmpty())
            QVERIFY2(p.isEmpty(), qPrintable(p));
        else
            QVERIFY2(p.contains(problem), qPrintable(p));
    }

    void ipv4_data()
    {
        QTest::addColumn<QString>("value");
        QTest::addColumn<QString>("problem"); // a word the sentence must hold, "" = fine
        QTest::newRow("good") << QStringLiteral("203.0.113.7") << QString();
        QTest::newRow("good, spaces around") << QStringLiteral(" 192.0.2.10 ") << QString();
        QTest::newRow("empty") << QString() << QStringLiteral("Give an IPv4 address");
        QTest::newRow("cidr") << QStringLiteral("192.0.2.10/24") << QStringLiteral("give only the address (192.0.2.10)");
        QTest::newRow("host name") << QStringLiteral("dc.example.com") << QStringLiteral("is not an IPv4 address");
        QTest::newRow("out of range") << QStringLiteral("192.0.2.300") << QStringLiteral("is not an IPv4 address");
        QTest::newRow("three parts") << QStringLiteral("192.0.2") << QStringLiteral("is not an IPv4 address");
        QTest::newRow("ipv6") << QStringLiteral("2001:db8::1") << QStringLiteral("IPv6 address");
        QTest::newRow("loopback") << QStringLiteral("127.0.0.1") << QStringLiteral("cannot be a host's address");
        QTest::newRow("unspecified") << QStringLiteral("0.0.0.0") << QStringLiteral("cannot be a host's address");
        QTest::newRow("multicast") << QStringLiteral("224.0.0.1") << QStringLiteral("cannot be a host's address");
        QTest::newRow("broadcast") << QStringLiteral("255.255.255.255") << QStringLiteral("cannot be a host's address");
    }
    void ipv4()
    {
        QFETCH(QString, value);
        QFETCH(QString, problem);
        const Text t = checkIpv4(value);
        const QString p = t.english();
        QCOMPARE(t.id.isEmpty(), problem.isEmpty());
        if (problem.isEmpty())
            QVERIFY2(p.isEmpty(), qPrintable(p));
        else
            QVERIFY2(p.contains(problem), qPrintable(p));
    }

    // The AD provider's optional ipv4 field: empty is fine (NS8 offers the
    // address at Start), a bad one is refused by the field's id.
    void adProviderIpField()
    {
        QString error;
        const auto p = AppProfile::load(QStringLiteral(NS8M_SOURCE_DIR "/apps/account-provider-ad.yaml"), &error);
        QVERIFY2(p, qPrintable(error));
        QVariantMap merged;
        QVERIFY(checkFields(*p, {}, {}, false, &merged).isEmpty());
        const auto problems = checkFields(*p, {{QStringLiteral("dc_ipaddress"), QStringLiteral("192.0.2.1/24")}}, {},
                                          false, nullptr);
        QCOMPARE(problems.value(QStringLiteral("dc_ipaddress")).id, QStringLiteral("field.ipv4.cidr"));
        QCOMPARE(fieldError(problems).name, QString::fromLatin1(Error::InvalidArgument));
        // Once Start chose it among NS8's, Finish keeps it: the same value
        // or none given is fine, another one or an empty one is refused.
        const QVariantMap stored{{QStringLiteral("dc_ipaddress"), QStringLiteral("203.0.113.7")}};
        QVERIFY(checkFields(*p, {}, stored, false, &merged).isEmpty());
        QCOMPARE(merged.value(QStringLiteral("dc_ipaddress")).toString(), QStringLiteral("203.0.113.7"));
        QVERIFY(checkFields(*p, stored, stored, false, nullptr).isEmpty());
        for (const QString &other : {QStringLiteral("203.0.113.8"), QString()}) {
            const auto changed = checkFields(*p, {{QStringLiteral("dc_ipaddress"), other}}, stored, false, nullptr);
            QCOMPARE(changed.value(QStringLiteral("dc_ipaddress")).id, QStringLiteral("field.chosen"));
            QVERIFY(changed.value(QStringLiteral("dc_ipaddress")).english().contains(QStringLiteral("203.0.113.7 was chosen")));
        }
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
        QVERIFY(problems.value(QStringLiteral("nethvoice_host")).english().contains(QStringLiteral("must differ")));
        QCOMPARE(problems.value(QStringLiteral("nethcti_ui_host")).id, QStringLiteral("field.distinct"));
        QCOMPARE(problems.value(QStringLiteral("nethcti_ui_host")).args, QStringList{QStringLiteral("same.example.com")});

        problems = checkFields(*p, {{QStringLiteral("nethvoice_host"), QStringLiteral("voice.example.com")}}, {}, false, nullptr);
        QVERIFY(problems.value(QStringLiteral("nethcti_ui_host")).english().contains(QStringLiteral("required")));
        QCOMPARE(problems.value(QStringLiteral("nethcti_ui_host")).id, QStringLiteral("field.required"));
        // As you type: only what was given is checked...
        problems = checkFields(*p, {{QStringLiteral("nethvoice_host"), QStringLiteral("voice.example.com")}}, {}, true, nullptr);
        QVERIFY(problems.isEmpty());
        // ... against the values already stored.
        problems = checkFields(*p, {{QStringLiteral("nethvoice_host"), QStringLiteral("cti.example.com")}},
                               {{QStringLiteral("nethcti_ui_host"), QStringLiteral("cti.example.com")}}, true, nullptr);
        QVERIFY(problems.value(QStringLiteral("nethvoice_host")).english().contains(QStringLiteral("must differ")));

        // The error: the first problem by id, all of them in the English, each after its field.
        QMap<QString, Text> two;
        two.insert(QStringLiteral("nethvoice_host"), checkFqdn(QStringLiteral("bad.")));
        two.insert(QStringLiteral("nethcti_ui_host"), checkFqdn(QString()));
        const BusError e = fieldError(two);
        QCOMPARE(e.name, QStringLiteral("org.nethserver.Ns8Migration1.Error.InvalidArgument"));
        QCOMPARE(e.texts.size(), 1);
        QCOMPARE(e.texts.first().id, QStringLiteral("field.fqdn.empty"));
        QVERIFY2(e.message.startsWith(QStringLiteral("nethcti_ui_host: Give a host name")), qPrintable(e.message));
        QVERIFY2(e.message.contains(QStringLiteral(" nethvoice_host: \"bad.\" is not a valid host name")), qPrintable(e.message));
    }

    // The guide's three records (administration, CTI, Proxy), one per name:
    // an empty Proxy FQDN is the administration's (default_field), whose
    // record serves both.
    void nethvoiceDnsRecords()
    {
        QString error;
        const auto p = AppProfile::load(QStringLiteral(NS8M_SOURCE_DIR "/apps/nethvoice.yaml"), &error);
        QVERIFY2(p, qPrintable(error));
        const auto names = [](const QList<DnsRecord> &records) {
            QStringList out;
            for (const DnsRecord &r : records)
                out.append(r.name + QLatin1Char(' ') + r.type + QLatin1Char(' ') + r.value);
            return out;
        };
        MigrationRecord m;
        m.settings = {{QStringLiteral("nethvoice_host"), QStringLiteral("voice.example.com")},
                      {QStringLiteral("nethcti_ui_host"), QStringLiteral("cti.example.com")},
                      {QStringLiteral("proxy_fqdn"), QStringLiteral("proxy.example.com")},
                      {QStringLiteral("lets_encrypt"), false}};
        QCOMPARE(names(dnsRecords(*p, m)), QStringList{}); // no node address yet
        m.nodeAddress = QStringLiteral("192.0.2.10");
        QCOMPARE(names(dnsRecords(*p, m)), (QStringList{QStringLiteral("voice.example.com A 192.0.2.10"),
                                                        QStringLiteral("cti.example.com A 192.0.2.10"),
                                                        QStringLiteral("proxy.example.com A 192.0.2.10")}));
        m.settings.insert(QStringLiteral("proxy_fqdn"), QString());
        QCOMPARE(fieldValue(*p, m.settings, p->fields.at(2)), QStringLiteral("voice.example.com"));
        QCOMPARE(names(dnsRecords(*p, m)), (QStringList{QStringLiteral("voice.example.com A 192.0.2.10"),
                                                        QStringLiteral("cti.example.com A 192.0.2.10")}));
        m.settings.insert(QStringLiteral("proxy_fqdn"), QStringLiteral("cti.example.com"));
        m.nodeAddress = QStringLiteral("node1.example.com");
        QCOMPARE(names(dnsRecords(*p, m)), (QStringList{QStringLiteral("voice.example.com CNAME node1.example.com."),
                                                        QStringLiteral("cti.example.com CNAME node1.example.com.")}));
        // Not required: Start and Finish take it empty.
        QVERIFY(checkFields(*p, m.settings, {}, false, nullptr).isEmpty());
        m.settings.insert(QStringLiteral("proxy_fqdn"), QStringLiteral("https://proxy.example.com"));
        QCOMPARE(checkFields(*p, m.settings, {}, false, nullptr).value(QStringLiteral("proxy_fqdn")).id,
                 QStringLiteral("field.fqdn.url"));
    }
};

QTEST_GUILESS_MAIN(TestFields)
#include "test_fields.moc"
