// A profile's generated files: the env file from constants, an NS7 file and
// the cluster's user domain, and the directory export (slapcat, a stand-in
// here that prints what NS7's prints) fixed for NS8, in a root-only stage.
#include "transfer/generate.h"

#include "profile/appprofile.h"

#include <QDir>
#include <QDirIterator>
#include <QEventLoop>
#include <QFile>
#include <QFileInfo>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>

using namespace ns8m;

namespace {

bool writeFile(const QString &path, const QByteArray &data, QFile::Permissions perms = {})
{
    QDir().mkpath(QFileInfo(path).path());
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly) || f.write(data) != data.size())
        return false;
    f.close();
    return perms == QFile::Permissions() || f.setPermissions(perms);
}

QByteArray readFile(const QString &path)
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

struct Outcome {
    Failure failure;
    QList<GeneratedOutput> files;
};

Outcome generate(const QList<GeneratedFile> &files, const GenerateInput &in)
{
    Outcome o;
    QEventLoop loop;
    QObject owner;
    generateFiles(&owner, files, in, [&](const Failure &f, const QList<GeneratedOutput> &out) {
        o.failure = f;
        o.files = out;
        loop.quit();
    });
    QTimer::singleShot(20000, &loop, &QEventLoop::quit);
    if (o.failure.name.isEmpty() && o.files.isEmpty())
        loop.exec();
    return o;
}

} // namespace

class TestGenerate : public QObject
{
    Q_OBJECT
private:
    QTemporaryDir m_dir;
    AppProfile m_profile;
    GenerateInput input() const
    {
        return {m_dir.path() + QStringLiteral("/root"), m_dir.path() + QStringLiteral("/state/generated/p"),
                QStringLiteral("ad.example.org"), {}, {}, {}};
    }
    AppProfile m_ad;
    QString sambaDir() const { return m_dir.path() + QStringLiteral("/root/var/lib/machines/nsdc/var/lib/samba"); }
    // NS7's configuration DB as the AD profile's env values read it.
    GenerateInput adInput() const
    {
        GenerateInput in = input();
        in.stageDir = m_dir.path() + QStringLiteral("/state/generated/ad");
        in.esmith = [](const QString &key, const QString &prop) {
            const QHash<QString, QString> db = {{QStringLiteral("nsdc IpAddress"), QStringLiteral("192.0.2.50")},
                                                {QStringLiteral("nsdc ProvisionType"), QStringLiteral("newdomain")},
                                                {QStringLiteral("sssd Workgroup"), QStringLiteral("EXAMPLE")},
                                                {QStringLiteral("sssd Realm"), QStringLiteral("AD.EXAMPLE.COM")},
                                                {QStringLiteral("sssd BindDN"), QStringLiteral("ldapservice@AD.EXAMPLE.COM")},
                                                {QStringLiteral("sssd BindPassword"), QStringLiteral("Pa=ss@1")}};
            return db.value(key + u' ' + prop);
        };
        // The DC's address chosen at Start (a field), not NS7's nsdc one.
        in.fields = {{QStringLiteral("dc_ipaddress"), QStringLiteral("203.0.113.7")}};
        return in;
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        QString error;
        const auto p = AppProfile::load(QStringLiteral(NS8M_SOURCE_DIR "/apps/account-provider-ldap.yaml"), &error);
        QVERIFY2(p, qPrintable(error));
        m_profile = *p;
        QVERIFY(writeFile(m_dir.path() + QStringLiteral("/root/var/lib/nethserver/secrets/ldapservice"), "s3cr=t\n"));
        // slapcat as NS7 runs it prints the directory; it records its arguments.
        const QString bin = m_dir.path() + QStringLiteral("/bin");
        const QByteArray script = "#!/bin/sh\necho \"$@\" > " + QFile::encodeName(m_dir.path()) + "/slapcat.args\n"
                                  "[ -e " + QFile::encodeName(m_dir.path()) + "/slapcat.fail ] && { echo 'slapcat: bad "
                                  "config' >&2; exit 1; }\ncat <<'END'\n"
                                  "dn: dc=directory,dc=nh\nobjectClass: top\nobjectClass: dcObject\nobjectClass: organization\n"
                                  "dc: directory\no: directory\n\n"
                                  "dn: uid=alice,ou=People,dc=directory,dc=nh\nobjectClass: posixAccount\n"
                                  "objectClass: shadowAccount\nobjectClass: inetOrgPerson\nobjectClass: sambaSamAccount\n"
                                  "uid: alice\ncn: Alice\nsn: A\nuidNumber: 1001\ngidNumber: 100\nhomeDirectory: /home/alice\n"
                                  "shadowLastChange: 19000\nshadowMax: 99999\nsambaSID: S-1-5-21-1\n\nEND\n";
        QVERIFY(writeFile(bin + QStringLiteral("/slapcat"), script,
                          QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner));
        // tdbbackup as NS7 runs it: it records its arguments and writes each
        // FILE.export (the file's content, marked) beside FILE.
        const QByteArray tdb = "#!/bin/sh\necho \"$@\" >> " + QFile::encodeName(m_dir.path()) + "/tdbbackup.args\n"
                               "[ -e " + QFile::encodeName(m_dir.path()) + "/tdbbackup.fail ] && { echo 'tdbbackup: "
                               "failed to open' >&2; exit 1; }\n"
                               "suffix=.bak; while getopts ls: o; do [ $o = s ] && suffix=$OPTARG; done\n"
                               "shift $((OPTIND-1)); for f; do { echo copy; cat \"$f\"; } > \"$f$suffix\"; done\n";
        QVERIFY(writeFile(bin + QStringLiteral("/tdbbackup"), tdb, QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner));
        qputenv("PATH", QFile::encodeName(bin) + ':' + qgetenv("PATH"));
        const auto ad = AppProfile::load(QStringLiteral(NS8M_SOURCE_DIR "/apps/account-provider-ad.yaml"), &error);
        QVERIFY2(ad, qPrintable(error));
        m_ad = *ad;
        // The nsdc container's /var/lib/samba (the DC's files) and host name.
        for (const char *f : {"private/sam.ldb", "private/sam.ldb.d/DC=AD,DC=EXAMPLE,DC=COM.ldb", "private/secrets.tdb",
                              "private/secrets.ldb", "private/idmap.ldb", "gencache.tdb", "netlogon_creds_cli.tdb",
                              "private/krb5.keytab", "private/tls/key.pem", "old.ldb.bak", "sysvol/ad.example.com/x.ldb"})
            QVERIFY(writeFile(sambaDir() + u'/' + QLatin1String(f), QByteArray(f) + '\n'));
        QVERIFY(writeFile(m_dir.path() + QStringLiteral("/root/var/lib/machines/nsdc/etc/hostname"), "nsdc-ns7\n"));
    }

    void envFile()
    {
        Failure failure;
        const QByteArray env = envFileContent(m_profile.generated.at(0), input(), &failure);
        QVERIFY2(!failure.isError(), qPrintable(failure.message));
        QCOMPARE(env, QByteArray("LDAP_SVCUSER=ldapservice\nLDAP_SVCPASS=s3cr=t\nLDAP_DOMAIN=ad.example.org\n"
                                 "LDAP_SUFFIX=dc=ad,dc=example,dc=org\n"));
    }

    void missingSecretIsNamedNotShown()
    {
        GenerateInput in = input();
        in.root = m_dir.path() + QStringLiteral("/elsewhere");
        Failure failure;
        QVERIFY(envFileContent(m_profile.generated.at(0), in, &failure).isEmpty());
        QVERIFY(failure.isError());
        QVERIFY2(failure.message.contains(QStringLiteral("LDAP_SVCPASS")), qPrintable(failure.message));
        QVERIFY(failure.message.contains(QStringLiteral("/var/lib/nethserver/secrets/ldapservice")));
    }

    void everyFileInAPrivateStage()
    {
        const Outcome o = generate(m_profile.generated, input());
        QVERIFY2(!o.failure.isError(), qPrintable(o.failure.message));
        QCOMPARE(o.files.size(), 2);
        QCOMPARE(o.files.at(0).destinationDir, QStringLiteral("state/"));
        QCOMPARE(QFileInfo(o.files.at(0).localPath).fileName(), QStringLiteral("import.env"));
        QCOMPARE(o.files.at(1).destinationDir, QStringLiteral("volumes/data/"));
        QCOMPARE(QFileInfo(o.files.at(1).localPath).fileName(), QStringLiteral("dump-mdb0.ldif"));
        QCOMPARE(QFileInfo(input().stageDir).permissions() & (QFile::ReadOther | QFile::ReadGroup), QFile::Permissions());
        QCOMPARE(QFileInfo(o.files.at(0).localPath).permissions() & (QFile::ReadOther | QFile::ReadGroup), QFile::Permissions());
        QCOMPARE(readFile(m_dir.path() + QStringLiteral("/slapcat.args")).trimmed(),
                 "-F " + QFile::encodeName(m_dir.path()) + "/root/etc/openldap/slapd.d -n 2 -o ldif-wrap=no");
        const QByteArray ldif = readFile(o.files.at(1).localPath);
        QVERIFY2(ldif.startsWith("dn: dc=ad,dc=example,dc=org\n"), ldif.constData());
        QVERIFY(ldif.contains("dc: ad\n"));
        QVERIFY(ldif.contains("dn: uid=alice,ou=People,dc=ad,dc=example,dc=org\n"));
        QVERIFY(ldif.contains("displayName: Alice\n"));
        QVERIFY(!ldif.contains("pwdChangedTime")); // shadowMax 99999: never expires
        QVERIFY(!ldif.contains("samba"));
        QVERIFY(!ldif.contains("shadow"));
        // Only the outputs stay: slapcat's raw export is gone.
        QStringList left = QDir(input().stageDir + QStringLiteral("/directory")).entryList(QDir::Files);
        QCOMPARE(left, QStringList{QStringLiteral("dump-mdb0.ldif")});
    }

    void slapcatFailureIsSaid()
    {
        QVERIFY(writeFile(m_dir.path() + QStringLiteral("/slapcat.fail"), "x"));
        const Outcome o = generate(m_profile.generated, input());
        QFile::remove(m_dir.path() + QStringLiteral("/slapcat.fail"));
        QVERIFY(o.failure.isError());
        QVERIFY2(o.failure.message.contains(QStringLiteral("Exporting the directory failed")), qPrintable(o.failure.message));
        QVERIFY2(o.failure.message.contains(QStringLiteral("bad config")), qPrintable(o.failure.message));
    }

    // The AD provider: every database of the DC's /var/lib/samba but the
    // netlogon credentials cache, none of sysvol's, no other file.
    void sambaDatabaseList()
    {
        QCOMPARE(m_ad.generated.size(), 2);
        QCOMPARE(sambaDatabases(m_ad.generated.at(1), sambaDir()),
                 (QStringList{QStringLiteral("gencache.tdb"), QStringLiteral("private/idmap.ldb"),
                              QStringLiteral("private/sam.ldb"), QStringLiteral("private/sam.ldb.d/DC=AD,DC=EXAMPLE,DC=COM.ldb"),
                              QStringLiteral("private/secrets.ldb"), QStringLiteral("private/secrets.tdb")}));
    }

    void adEnvFile()
    {
        Failure failure;
        const QByteArray env = envFileContent(m_ad.generated.at(0), adInput(), &failure);
        QVERIFY2(!failure.isError(), qPrintable(failure.message));
        QCOMPARE(env, QByteArray("HOSTNAME=nsdc-ns7\nIPADDRESS=203.0.113.7\nPROVISION_TYPE=newdomain\nNBDOMAIN=EXAMPLE\n"
                                 "REALM=AD.EXAMPLE.COM\nSVCUSER=ldapservice\nSVCPASS=Pa=ss@1\n"));
    }

    void adMissingPropertyIsNamedNotShown()
    {
        GenerateInput in = adInput();
        const auto full = in.esmith;
        in.esmith = [full](const QString &key, const QString &prop) {
            return prop == u"Realm" ? QString() : full(key, prop);
        };
        Failure failure;
        QVERIFY(envFileContent(m_ad.generated.at(0), in, &failure).isEmpty());
        QVERIFY(failure.isError());
        QVERIFY2(failure.message.contains(QStringLiteral("REALM")), qPrintable(failure.message));
        QVERIFY2(failure.message.contains(QStringLiteral("configuration sssd Realm")), qPrintable(failure.message));
        QVERIFY(!failure.message.contains(QStringLiteral("Pa=ss")));
    }

    void adMissingFieldIsNamed()
    {
        GenerateInput in = adInput();
        in.fields.clear();
        Failure failure;
        QVERIFY(envFileContent(m_ad.generated.at(0), in, &failure).isEmpty());
        QVERIFY2(failure.message.contains(QStringLiteral("IPADDRESS has no value (field dc_ipaddress)")),
                 qPrintable(failure.message));
    }

    // The copies land in the stage at their places, sent as a folder into
    // volumes/data/; NS7's folder is left as it was (no .export behind).
    void sambaCopiesInTheStage()
    {
        QFile::remove(m_dir.path() + QStringLiteral("/tdbbackup.args"));
        const GenerateInput in = adInput();
        const Outcome o = generate(m_ad.generated, in);
        QVERIFY2(!o.failure.isError(), qPrintable(o.failure.message));
        QCOMPARE(o.files.size(), 2);
        QCOMPARE(o.files.at(1).destinationDir, QStringLiteral("volumes/data/"));
        QCOMPARE(o.files.at(1).localPath, in.stageDir + QStringLiteral("/databases/"));
        const QStringList copies = sambaDatabases(m_ad.generated.at(1), o.files.at(1).localPath);
        QCOMPARE(copies, sambaDatabases(m_ad.generated.at(1), sambaDir()));
        QCOMPARE(readFile(o.files.at(1).localPath + QStringLiteral("private/sam.ldb")), QByteArray("copy\nprivate/sam.ldb\n"));
        QVERIFY(!QFileInfo::exists(o.files.at(1).localPath + QStringLiteral("netlogon_creds_cli.tdb")));
        QVERIFY(!QFileInfo::exists(o.files.at(1).localPath + QStringLiteral("private/krb5.keytab")));
        QDirIterator it(sambaDir(), {QStringLiteral("*.export")}, QDir::Files, QDirIterator::Subdirectories);
        QVERIFY2(!it.hasNext(), qPrintable(it.hasNext() ? it.next() : QString()));
        QCOMPARE(readFile(sambaDir() + QStringLiteral("/private/sam.ldb")), QByteArray("private/sam.ldb\n"));
        // One run with the locks, the mutex database without (-l).
        const QList<QByteArray> runs = readFile(m_dir.path() + QStringLiteral("/tdbbackup.args")).trimmed().split('\n');
        QCOMPARE(runs.size(), 2);
        QVERIFY2(runs.at(0).startsWith("-s .export " + QFile::encodeName(sambaDir()) + "/private/idmap.ldb "), runs.at(0).constData());
        QCOMPARE(runs.at(1), "-l -s .export " + QFile::encodeName(sambaDir()) + "/gencache.tdb");
    }

    void tdbbackupFailureIsSaid()
    {
        QVERIFY(writeFile(m_dir.path() + QStringLiteral("/tdbbackup.fail"), "x"));
        const Outcome o = generate(m_ad.generated, adInput());
        QFile::remove(m_dir.path() + QStringLiteral("/tdbbackup.fail"));
        QVERIFY(o.failure.isError());
        QVERIFY2(o.failure.message.contains(QStringLiteral("Copying the domain controller's databases failed")),
                 qPrintable(o.failure.message));
        QVERIFY2(o.failure.message.contains(QStringLiteral("failed to open")), qPrintable(o.failure.message));
    }

    void sambaFolderMissingIsSaid()
    {
        GenerateInput in = adInput();
        in.root = m_dir.path() + QStringLiteral("/elsewhere");
        GeneratedFile dbs = m_ad.generated.at(1);
        const Outcome o = generate({dbs}, in);
        QVERIFY(o.failure.isError());
        QVERIFY2(o.failure.message.contains(QStringLiteral("is not a folder")), qPrintable(o.failure.message));
    }
};

QTEST_GUILESS_MAIN(TestGenerate)
#include "test_generate.moc"
