#include "ns7/accountprovider.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QTest>

using namespace ns8m;

namespace {

QJsonObject domains(const char *json)
{
    return QJsonDocument::fromJson(json).object();
}

const char *kDomains = R"({"unconfigured_domains": [], "domains": [
  {"name": "directory.nh", "location": "external", "protocol": "ldap", "schema": "rfc2307",
   "counters": {"users": 3, "groups": 1}, "providers": [{"id": "ldap1", "ui_name": "", "node": null, "file_server": false, "host": "203.0.113.9", "port": 636}]},
  {"name": "ad.example.com", "location": "internal", "protocol": "ldap", "schema": "ad",
   "counters": {"users": 3, "groups": 1}, "providers": [{"id": "samba1", "ui_name": "", "node": 1, "file_server": true, "host": "198.51.100.1", "port": 636}]}
]})";

const char *kTwoNodes = R"({"nodes": [{"id": 1}, {"id": 2}]})";
const char *kOneNode = R"({"nodes": [{"id": 1}]})";

} // namespace

class TestAccountProvider : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void detectsKinds()
    {
        auto p = readAccountProvider(EsmithDb::parse("sssd=service|Provider|ldap|LdapURI|ldap://127.0.0.1|BaseDN|dc=directory,dc=nh\n"));
        QCOMPARE(p.kind, AccountProvider::Kind::LocalLdap);
        p = readAccountProvider(EsmithDb::parse("sssd=service|Provider|ldap|LdapURI|ldaps://ldap.example.com|BaseDN|dc=directory,dc=nh\n"));
        QCOMPARE(p.kind, AccountProvider::Kind::RemoteLdap);
        p = readAccountProvider(EsmithDb::parse("sssd=service|Provider|ad|Realm|AD.EXAMPLE.ORG\nnsdc=service|IpAddress|192.0.2.50\n"));
        QCOMPARE(p.kind, AccountProvider::Kind::LocalAd);
        QCOMPARE(p.dcAddress, QStringLiteral("192.0.2.50"));
        p = readAccountProvider(EsmithDb::parse("sssd=service|Provider|ad|Realm|AD.EXAMPLE.COM|LdapURI|ldaps://dc.example.com\n"));
        QCOMPARE(p.kind, AccountProvider::Kind::RemoteAd);
        p = readAccountProvider(EsmithDb::parse("sssd=service|Provider|none\n"));
        QCOMPARE(p.kind, AccountProvider::Kind::None);
        p = readAccountProvider(EsmithDb::parse("nethvoice=service\n"));
        QCOMPARE(p.kind, AccountProvider::Kind::None);
    }

    void baseDnMapping()
    {
        QCOMPARE(domainFromBaseDn(QStringLiteral("dc=directory,dc=nh")), QStringLiteral("directory.nh"));
        QCOMPARE(domainFromBaseDn(QStringLiteral("ou=People, DC=Example ,dc=COM")), QStringLiteral("example.com"));
        QCOMPARE(domainFromBaseDn(QStringLiteral("o=nothing")), QString());
    }

    void plans_data()
    {
        QTest::addColumn<QByteArray>("config");
        QTest::addColumn<QString>("userDomain");
        QTest::addColumn<QByteArray>("cluster");
        QTest::addColumn<QString>("error");   // "" = fits
        QTest::addColumn<QString>("domain");
        QTest::addColumn<bool>("create");
        const QByteArray localLdap = "sssd=service|Provider|ldap|LdapURI|ldap://127.0.0.1|BaseDN|dc=directory,dc=nh\n";
        QTest::newRow("no provider") << QByteArray() << QString() << QByteArray(kOneNode) << QString() << QString() << false;
        QTest::newRow("local ldap, new name") << localLdap << QStringLiteral("nethvoice.example.local") << QByteArray(kOneNode)
                                              << QString() << QStringLiteral("nethvoice.example.local") << true;
        QTest::newRow("local ldap, no name") << localLdap << QString() << QByteArray(kOneNode)
                                             << QStringLiteral("InvalidArgument") << QString() << false;
        QTest::newRow("local ldap, taken") << localLdap << QStringLiteral("Directory.NH") << QByteArray(kOneNode)
                                           << QStringLiteral("DomainConflict") << QString() << false;
        QTest::newRow("local ldap, bad name") << localLdap << QStringLiteral("bad name!") << QByteArray(kOneNode)
                                              << QStringLiteral("InvalidArgument") << QString() << false;
        QTest::newRow("remote ldap, matching domain")
            << QByteArray("sssd=service|Provider|ldap|LdapURI|ldap://203.0.113.9|BaseDN|dc=directory,dc=nh\n") << QString()
            << QByteArray(kOneNode) << QString() << QStringLiteral("directory.nh") << false;
        QTest::newRow("remote ldap, no matching domain")
            << QByteArray("sssd=service|Provider|ldap|LdapURI|ldap://203.0.113.9|BaseDN|dc=other,dc=org\n") << QString()
            << QByteArray(kOneNode) << QStringLiteral("DomainConflict") << QString() << false;
        QTest::newRow("remote ldap, user domain given")
            << QByteArray("sssd=service|Provider|ldap|LdapURI|ldap://203.0.113.9|BaseDN|dc=directory,dc=nh\n")
            << QStringLiteral("x.example") << QByteArray(kOneNode) << QStringLiteral("InvalidArgument") << QString() << false;
        QTest::newRow("local ad, free realm, free node")
            << QByteArray("sssd=service|Provider|ad|Realm|NS7.EXAMPLE.ORG\nnsdc=service|IpAddress|192.0.2.50\n") << QString()
            << QByteArray(kTwoNodes) << QString() << QStringLiteral("ns7.example.org") << true;
        QTest::newRow("local ad, realm taken")
            << QByteArray("sssd=service|Provider|ad|Realm|AD.EXAMPLE.COM\nnsdc=service|IpAddress|192.0.2.50\n") << QString()
            << QByteArray(kTwoNodes) << QStringLiteral("DomainConflict") << QString() << false;
        QTest::newRow("local ad, no free node")
            << QByteArray("sssd=service|Provider|ad|Realm|NS7.EXAMPLE.ORG\nnsdc=service|IpAddress|192.0.2.50\n") << QString()
            << QByteArray(kOneNode) << QStringLiteral("DomainConflict") << QString() << false;
        QTest::newRow("remote ad, matching realm")
            << QByteArray("sssd=service|Provider|ad|Realm|AD.EXAMPLE.COM|LdapURI|ldaps://dc.example.com\n") << QString()
            << QByteArray(kOneNode) << QString() << QStringLiteral("ad.example.com") << false;
        QTest::newRow("remote ad, missing realm")
            << QByteArray("sssd=service|Provider|ad|Realm|OTHER.EXAMPLE.COM|LdapURI|ldaps://dc.example.com\n") << QString()
            << QByteArray(kOneNode) << QStringLiteral("DomainConflict") << QString() << false;
    }
    void plans()
    {
        QFETCH(QByteArray, config);
        QFETCH(QString, userDomain);
        QFETCH(QByteArray, cluster);
        QFETCH(QString, error);
        QFETCH(QString, domain);
        QFETCH(bool, create);
        const auto plan = planAccountProvider(readAccountProvider(EsmithDb::parse(config)), domains(kDomains),
                                              domains(cluster.constData()), userDomain);
        if (error.isEmpty()) {
            QVERIFY2(plan.error.name.isEmpty(), qPrintable(plan.error.message));
            QCOMPARE(plan.userDomain, domain);
            QCOMPARE(plan.createDomain, create);
        } else {
            QVERIFY2(plan.error.name.endsWith(u'.' + error), qPrintable(plan.error.name));
            QVERIFY(plan.error.message.size() > 20);
        }
    }
};

QTEST_GUILESS_MAIN(TestAccountProvider)
#include "test_accountprovider.moc"
