#include "ns7/esmithdb.h"

#include <QTest>

using namespace ns8m;

class TestEsmithDb : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void typesAndProps()
    {
        const auto db = EsmithDb::parse(
            "# DO NOT MODIFY THIS FILE.\n"
            "#\n"
            "nethvoice=service|status|enabled|BrandName|NethVoice\n"
            "TimeZone=Europe/Rome\n"
            "sssd=service|BaseDN|dc=directory,dc=nh|LdapURI|ldap://127.0.0.1|Provider|ldap\n");
        QCOMPARE(db.size(), 3);
        QCOMPARE(db.type(QStringLiteral("nethvoice")), QStringLiteral("service"));
        QCOMPARE(db.prop(QStringLiteral("nethvoice"), QStringLiteral("BrandName")), QStringLiteral("NethVoice"));
        QCOMPARE(db.type(QStringLiteral("TimeZone")), QStringLiteral("Europe/Rome"));
        QCOMPARE(db.prop(QStringLiteral("sssd"), QStringLiteral("BaseDN")), QStringLiteral("dc=directory,dc=nh"));
        QCOMPARE(db.prop(QStringLiteral("sssd"), QStringLiteral("LdapURI")), QStringLiteral("ldap://127.0.0.1"));
        QVERIFY(!db.contains(QStringLiteral("nethvoice-report")));
    }

    void valuesWithEqualsAndEscapedPipes()
    {
        // The key ends at the first '='; '\|' is not a separator and stays as written.
        const auto db = EsmithDb::parse("k=t|Secret|a=b\\|c|Empty||Last|\n");
        QCOMPARE(db.prop(QStringLiteral("k"), QStringLiteral("Secret")), QStringLiteral("a=b\\|c"));
        QCOMPARE(db.prop(QStringLiteral("k"), QStringLiteral("Empty")), QString());
        QVERIFY(db.record(QStringLiteral("k"))->props.contains(QStringLiteral("Last")));
        QCOMPARE(db.prop(QStringLiteral("k"), QStringLiteral("Last")), QString());
    }

    void blankCommentsDuplicatesAndCrLf()
    {
        const auto db = EsmithDb::parse("\n   \n  # comment\nk=old|p|1\r\nk=new|p|2\r\nbare\n");
        QCOMPARE(db.type(QStringLiteral("k")), QStringLiteral("new"));
        QCOMPARE(db.prop(QStringLiteral("k"), QStringLiteral("p")), QStringLiteral("2"));
        QVERIFY(db.contains(QStringLiteral("bare")));
        QCOMPARE(db.type(QStringLiteral("bare")), QString());
        QCOMPARE(db.keys(), (QStringList{QStringLiteral("k"), QStringLiteral("bare")}));
        // Lookups trim the key, as esmith::config's FETCH does.
        QVERIFY(db.contains(QStringLiteral(" k ")));
    }

    void missingFileIsEmpty()
    {
        QString error;
        const auto db = EsmithDb::load(QStringLiteral("/nonexistent/db/configuration"), &error);
        QCOMPARE(db.size(), 0);
        QVERIFY(error.isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestEsmithDb)
#include "test_esmithdb.moc"
