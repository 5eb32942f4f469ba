// The LDIF reader and writer, and the fixes an NS7 directory gets before
// NS8's openldap module loads it.
#include "transfer/ldif.h"

#include <QBuffer>
#include <QTest>

using namespace ns8m;

namespace {

// A part of NS8's schema, as a profile gives it.
LdifFix ns8Fix()
{
    LdifFix fix;
    fix.schema.insert("top", {"objectclass"});
    fix.schema.insert("dcobject", {"objectclass", "dc"});
    fix.schema.insert("organization", {"objectclass", "o", "description"});
    fix.schema.insert("organizationalunit", {"objectclass", "ou", "description"});
    fix.schema.insert("posixaccount", {"objectclass", "cn", "uid", "uidnumber", "gidnumber",
                                       "homedirectory", "userpassword", "loginshell", "gecos"});
    fix.schema.insert("posixgroup", {"objectclass", "cn", "gidnumber", "memberuid", "description"});
    fix.schema.insert("inetorgperson", {"objectclass", "sn", "cn", "displayname", "givenname",
                                        "mail", "manager", "uid", "userpassword"});
    fix.schema.insert("groupofnames", {"objectclass", "cn", "member", "owner"});
    fix.oldSuffix = "dc=directory,dc=nh";
    fix.newSuffix = "dc=example,dc=org";
    return fix;
}

// What slapcat -o ldif-wrap=no -n 2 prints on NS7 (shortened), plus a
// wrapped line and an NS6-era Samba class.
const char ns7Ldif[] =
    "dn: dc=directory,dc=nh\n"
    "objectClass: top\n"
    "objectClass: dcObject\n"
    "objectClass: organization\n"
    "o: directory\n"
    "dc: directory\n"
    "structuralObjectClass: organization\n"
    "entryUUID: 2a1d6f2c-41b5-103c-8a0e-43f5b1f3b0a1\n"
    "creatorsName: cn=Manager,DC=directory,DC=nh\n"
    "\n"
    "dn: ou=People,dc=directory,dc=nh\n"
    "objectClass: top\n"
    "objectClass: organizationalUnit\n"
    "ou: People\n"
    "\n"
    "# a comment slapcat never writes\n"
    "dn: uid=alice,ou=People,dc=directory,dc=nh\n"
    "objectClass: top\n"
    "objectClass: posixAccount\n"
    "objectClass: shadowAccount\n"
    "objectClass: inetOrgPerson\n"
    "objectClass: sambaSamAccount\n"
    "uid: alice\n"
    "cn: Alice Rossi\n"
    "sn: Rossi\n"
    "uidNumber: 1001\n"
    "gidNumber: 100\n"
    "homeDirectory: /var/lib/nethserver/home/alice\n"
    "userPassword:: e1NTSEF9YWJjZGVm\n"
    "shadowLastChange: 19000\n"
    "shadowMax: 180\n"
    "sambaSID: S-1-5-21-1-2-3-1001\n"
    "manager: uid=bob,ou=People,dc=directory,dc=nh\n"
    "gecos: Alice\n"
    "  Rossi\n"
    "\n"
    "dn: uid=bob,ou=People,dc=directory,dc=nh\n"
    "objectClass: posixAccount\n"
    "objectClass: shadowAccount\n"
    "objectClass: inetOrgPerson\n"
    "uid: bob\n"
    "cn:: QsO2YiBXZWnDnw==\n"
    "sn: Weiss\n"
    "uidNumber: 1002\n"
    "gidNumber: 100\n"
    "homeDirectory: /var/lib/nethserver/home/bob\n"
    "userPassword:: e0NSWVBUfSEkNiRzYWx0JGhhc2g=\n"
    "shadowLastChange: 19500\n"
    "shadowMax: 99999\n"
    "displayName: Bob\n"
    "\n"
    "dn: cn=domain admins,ou=Groups,dc=directory,dc=nh\n"
    "objectClass: posixGroup\n"
    "objectClass: groupOfNames\n"
    "objectClass: sambaGroupMapping\n"
    "cn: domain admins\n"
    "gidNumber: 1003\n"
    "member: uid=alice,ou=People,DC=Directory,DC=NH\n"
    "memberUid: alice\n"
    "sambaSID: S-1-5-21-1-2-3-512\n"
    "\n"
    "dn: sambaDomainName=NS7,dc=directory,dc=nh\n"
    "objectClass: sambaDomain\n"
    "sambaDomainName: NS7\n"
    "\n";

QList<LdifEntry> readAll(const QByteArray &text, QString *error = nullptr)
{
    QByteArray data = text;
    QBuffer buffer(&data);
    buffer.open(QIODevice::ReadOnly);
    LdifReader reader(&buffer);
    QList<LdifEntry> entries;
    LdifEntry e;
    while (reader.next(&e))
        entries.append(e);
    if (error)
        *error = reader.error();
    return entries;
}

QByteArray fixed(const QByteArray &text, LdifFixStats *stats, QString *error)
{
    QByteArray in = text;
    QByteArray out;
    QBuffer ib(&in), ob(&out);
    ib.open(QIODevice::ReadOnly);
    ob.open(QIODevice::WriteOnly);
    const bool ok = fixLdif(&ib, &ob, ns8Fix(), stats, error);
    return ok ? out : QByteArray();
}

QList<QByteArray> values(const LdifEntry &e, const QByteArray &name)
{
    QList<QByteArray> v;
    for (const LdifAttribute &a : e.attributes)
        if (a.name.toLower() == name.toLower())
            v.append(a.value);
    return v;
}

} // namespace

class TestLdif : public QObject
{
    Q_OBJECT
private slots:
    void readsWrappedBase64AndComments()
    {
        QString error;
        const QList<LdifEntry> entries = readAll(ns7Ldif, &error);
        QVERIFY2(error.isEmpty(), qPrintable(error));
        QCOMPARE(entries.size(), 6);
        QCOMPARE(entries[2].value("gecos"), QByteArray("Alice Rossi"));
        QCOMPARE(entries[3].value("cn"), QByteArray("B\xc3\xb6" "b Wei\xc3\x9f"));
        QCOMPARE(entries[3].value("userPassword"), QByteArray("{CRYPT}!$6$salt$hash"));
    }

    void crlfAndVersionLine()
    {
        const QList<LdifEntry> entries = readAll("version: 1\r\ndn: ou=x,dc=directory,dc=nh\r\nou: x\r\n");
        QCOMPARE(entries.size(), 1);
        QCOMPARE(entries[0].dn, QByteArray("ou=x,dc=directory,dc=nh"));
        QCOMPARE(entries[0].value("ou"), QByteArray("x"));
    }

    void refusesUrlsAndChanges()
    {
        QString error;
        readAll("dn: ou=x,dc=nh\njpegPhoto:< file:///etc/shadow\n\n", &error);
        QVERIFY(error.contains(QStringLiteral("line 2")));
        readAll("dn: ou=x,dc=nh\nchangetype: delete\n\n", &error);
        QVERIFY(error.contains(QStringLiteral("change records")));
        readAll("ou: x\n\n", &error);
        QVERIFY(error.contains(QStringLiteral("dn:")));
    }

    void writesUnsafeValuesInBase64()
    {
        QVERIFY(ldifSafeValue("Alice Rossi"));
        QVERIFY(!ldifSafeValue(" leading"));
        QVERIFY(!ldifSafeValue(":colon"));
        QVERIFY(!ldifSafeValue("<less"));
        QVERIFY(!ldifSafeValue("trailing "));
        QVERIFY(!ldifSafeValue("line\nbreak"));
        // Not UTF-8 at all: the bytes survive a round trip.
        LdifEntry e;
        e.dn = "uid=x,dc=example,dc=org";
        e.attributes.append(LdifAttribute{"description", QByteArray("\xff\xfe\x00z", 4)});
        const QByteArray text = ldifText(e);
        QVERIFY(text.contains("description:: "));
        const QList<LdifEntry> back = readAll(text);
        QCOMPARE(back.size(), 1);
        QCOMPARE(back[0].value("description"), QByteArray("\xff\xfe\x00z", 4));
    }

    void suffixOfDomain()
    {
        QCOMPARE(ldapSuffixOf(QStringLiteral("ad.example.org")), QByteArray("dc=ad,dc=example,dc=org"));
    }

    void fixesAnNs7Directory()
    {
        LdifFixStats stats;
        QString error;
        const QByteArray out = fixed(ns7Ldif, &stats, &error);
        QVERIFY2(error.isEmpty(), qPrintable(error));
        QVERIFY(!out.toLower().contains("dc=directory"));
        QVERIFY(!out.contains("samba"));
        QVERIFY(!out.contains("shadow"));
        const QList<LdifEntry> entries = readAll(out);
        QCOMPARE(entries.size(), 5);
        QCOMPARE(stats.entries, qint64(5));
        QCOMPARE(stats.dropped, qint64(1));
        QVERIFY(stats.droppedClasses.contains("sambaSamAccount"));
        QVERIFY(stats.droppedAttributes.contains("shadowLastChange"));

        // The top entry: the new suffix and its first label.
        QCOMPARE(entries[0].dn, QByteArray("dc=example,dc=org"));
        QCOMPARE(entries[0].value("dc"), QByteArray("example"));
        QCOMPARE(entries[0].value("creatorsName"), QByteArray("cn=Manager,dc=example,dc=org"));

        const LdifEntry &alice = entries[2];
        QCOMPARE(alice.dn, QByteArray("uid=alice,ou=People,dc=example,dc=org"));
        QCOMPARE(values(alice, "objectClass"),
                 (QList<QByteArray>{"top", "posixAccount", "inetOrgPerson"}));
        // 19000 days after 1970-01-01: 2022-01-08.
        QCOMPARE(alice.value("pwdChangedTime"), QByteArray("20220108000000Z"));
        QVERIFY(!alice.has("pwdAccountLockedTime"));
        QCOMPARE(alice.value("displayName"), QByteArray("Alice Rossi"));
        QCOMPARE(alice.value("manager"), QByteArray("uid=bob,ou=People,dc=example,dc=org"));
        QVERIFY(!alice.has("sambaSID"));

        // Never expires: no pwdChangedTime; locked; its own displayName kept.
        const LdifEntry &bob = entries[3];
        QVERIFY(!bob.has("pwdChangedTime"));
        QCOMPARE(bob.value("pwdAccountLockedTime"), QByteArray("000001010000Z"));
        QCOMPARE(values(bob, "displayName"), QList<QByteArray>{"Bob"});

        const LdifEntry &group = entries[4];
        QCOMPARE(group.value("member"), QByteArray("uid=alice,ou=People,dc=example,dc=org"));
        QCOMPARE(group.value("memberUid"), QByteArray("alice"));
    }

    void displayNameFromGecosOrUid()
    {
        LdifFixStats stats;
        QString error;
        const QByteArray out = fixed("dn: uid=c,dc=directory,dc=nh\nobjectClass: inetOrgPerson\n"
                                     "objectClass: posixAccount\nuid: c\ngecos: Carla\nsn: c\n\n"
                                     "dn: uid=d,dc=directory,dc=nh\nobjectClass: inetOrgPerson\nuid: d\nsn: d\n\n",
                                     &stats, &error);
        const QList<LdifEntry> entries = readAll(out);
        QCOMPARE(entries.size(), 2);
        QCOMPARE(entries[0].value("displayName"), QByteArray("Carla"));
        QCOMPARE(entries[1].value("displayName"), QByteArray("d"));
    }

    void aBrokenInputIsAnError()
    {
        LdifFixStats stats;
        QString error;
        QVERIFY(fixed("dn: uid=c,dc=directory,dc=nh\nobjectClass: top\nphoto:< http://x/\n\n", &stats, &error)
                    .isNull());
        QVERIFY(!error.isEmpty());
    }

    void manyEntriesStream()
    {
        QByteArray big;
        for (int i = 0; i < 20000; ++i)
            big += "dn: uid=u" + QByteArray::number(i) + ",ou=People,dc=directory,dc=nh\n"
                   "objectClass: inetOrgPerson\nuid: u" + QByteArray::number(i) + "\nsn: s\ncn: c\n\n";
        LdifFixStats stats;
        QString error;
        const QByteArray out = fixed(big, &stats, &error);
        QCOMPARE(stats.entries, qint64(20000));
        QVERIFY(out.contains("dn: uid=u19999,ou=People,dc=example,dc=org\n"));
    }
};

QTEST_GUILESS_MAIN(TestLdif)
#include "test_ldif.moc"
