#include "profile/appprofile.h"
#include "profile/catalog.h"
#include "core/qtcompat.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QMap>
#include <QSet>
#include <QTest>

using namespace ns8m;

namespace {
const QByteArray kMinimal = "format: 1\nid: demo\nname: Demo\n"
                            "detect: {database: configuration, key: demo}\n"
                            "ns8: {image: demo, volumes: [data]}\n"
                            "owner: {uid: 990, gid: 991}\n"
                            "transfers:\n"
                            "  - {id: files, title: Files, title_it: File, source: /srv/demo/, destination: volumes/data/}\n";

// The configure input keys of P that neither its schema's properties nor
// the module's read list beside the schema (module-reads.json) know.  The
// schemas allow extra keys, so NS8's validation would not catch an
// invented one: the module would silently ignore it.
QStringList unknownConfigureKeys(const AppProfile &p, QString *error)
{
    const QString schemaPath = QStringLiteral(NS8M_SOURCE_DIR "/apps/schemas/") + p.configureSchema;
    QFile schema(schemaPath);
    if (!schema.open(QIODevice::ReadOnly)) {
        *error = schemaPath + QStringLiteral(": cannot read");
        return {};
    }
    QSet<QString> known;
    const QJsonObject props = QJsonDocument::fromJson(schema.readAll()).object().value(QStringLiteral("properties")).toObject();
    for (auto it = props.begin(); it != props.end(); ++it)
        known.insert(it.key());
    QFile reads(QFileInfo(schemaPath).dir().filePath(QStringLiteral("module-reads.json")));
    if (reads.open(QIODevice::ReadOnly)) {
        const QJsonArray list = QJsonDocument::fromJson(reads.readAll()).object().value(QStringLiteral("reads")).toArray();
        for (const QJsonValue &v : list)
            known.insert(v.toString());
    }
    QStringList unknown;
    for (const ConfigureInput &in : p.configure)
        if (!known.contains(in.key))
            unknown.append(in.key);
    return unknown;
}
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
        QCOMPARE(p->quiesceServices,
                 (QStringList{QStringLiteral("asterisk"), QStringLiteral("nethcti-server"), QStringLiteral("httpd-fpbx"),
                              QStringLiteral("tancredi"), QStringLiteral("phonebookjss"),
                              QStringLiteral("nethvoice-report-api"), QStringLiteral("fias"),
                              QStringLiteral("fias-dispatcher")}));
        QCOMPARE(p->fields.size(), 4); // administration, CTI, Proxy (planning), Let's Encrypt
        QCOMPARE(p->configureSchema, QStringLiteral("nethvoice/configure-module/validate-input.json"));
        QCOMPARE(p->sqlite.size(), 1);
    }

    // Every profile sends only configure keys that NS8 reads.
    void configureKeysAreKnown()
    {
        const QStringList names = QDir(QStringLiteral(NS8M_SOURCE_DIR "/apps")).entryList({QStringLiteral("*.yaml")});
        QVERIFY(!names.isEmpty());
        for (const QString &name : names) {
            QString error;
            const auto p = AppProfile::load(QStringLiteral(NS8M_SOURCE_DIR "/apps/") + name, &error);
            QVERIFY2(p, qPrintable(error));
            if (p->configure.isEmpty())
                continue;
            const QStringList unknown = unknownConfigureKeys(*p, &error);
            QVERIFY2(error.isEmpty(), qPrintable(error));
            QVERIFY2(unknown.isEmpty(), qPrintable(name + QStringLiteral(" sends configure keys that neither the schema "
                                                                         "nor the module reads: ")
                                                   + unknown.join(QStringLiteral(", "))));
        }
    }

    // The check above does fail: an invented key (the one an earlier
    // profile sent) is found.
    void configureKeyCheckFindsAnInventedKey()
    {
        QFile f(QStringLiteral(NS8M_SOURCE_DIR "/apps/nethvoice.yaml"));
        QVERIFY(f.open(QIODevice::ReadOnly));
        QByteArray yaml = f.readAll();
        const QByteArray anchor = "    timezone: {esmith: configuration, key: TimeZone, type: true}\n";
        QVERIFY(yaml.contains(anchor));
        yaml.replace(anchor, anchor + "    nethvoice_brand: {esmith: configuration, key: nethvoice, prop: BrandName, "
                                      "optional: true}\n");
        QString error;
        const auto p = AppProfile::parse(yaml, QStringLiteral("nethvoice.yaml"), &error);
        QVERIFY2(p, qPrintable(error));
        QCOMPARE(unknownConfigureKeys(*p, &error), QStringList{QStringLiteral("nethvoice_brand")});
        QVERIFY2(error.isEmpty(), qPrintable(error));
    }

    // A planning field is never sent to NS8: the profile names it in no
    // configure input (NethVoice's Proxy FQDN), and a profile that does is refused.
    void planningFieldIsNeverSent()
    {
        QFile f(QStringLiteral(NS8M_SOURCE_DIR "/apps/nethvoice.yaml"));
        QVERIFY(f.open(QIODevice::ReadOnly));
        QByteArray yaml = f.readAll();
        QString error;
        const auto p = AppProfile::parse(yaml, QStringLiteral("nethvoice.yaml"), &error);
        QVERIFY2(p, qPrintable(error));
        QStringList planning;
        for (const Field &fd : p->fields)
            if (fd.planning)
                planning.append(fd.id);
        QCOMPARE(planning, QStringList{QStringLiteral("proxy_fqdn")});
        QCOMPARE(p->fields.at(2).defaultField, QStringLiteral("nethvoice_host"));
        for (const ConfigureInput &in : p->configure)
            QVERIFY2(in.key != QStringLiteral("proxy_fqdn")
                         && in.params.value(QStringLiteral("field")).toString() != QStringLiteral("proxy_fqdn"),
                     qPrintable(in.key));
        const QByteArray anchor = "    timezone: {esmith: configuration, key: TimeZone, type: true}\n";
        QVERIFY(yaml.contains(anchor));
        QByteArray sent = yaml;
        sent.replace(anchor, anchor + "    proxy_fqdn: {field: proxy_fqdn}\n");
        QVERIFY(!AppProfile::parse(sent, QStringLiteral("nethvoice.yaml"), &error));
        QVERIFY2(error.contains(QStringLiteral("planning field")), qPrintable(error));
        QByteArray badDefault = yaml;
        badDefault.replace("default_field: nethvoice_host", "default_field: lets_encrypt");
        QVERIFY(!AppProfile::parse(badDefault, QStringLiteral("nethvoice.yaml"), &error));
        QVERIFY2(error.contains(QStringLiteral("default_field")), qPrintable(error));
    }

    // The exclude lists are NETHVOICE.md's, exactly: the agi-bin one is the
    // union of the original tool's 25 names and the NS8 image's 19.
    // NS7 governs NethVoice's services as its packages ship them (docs/ns7.md):
    // a record for the PBX, the CTI, janus, the phonebook and FIAS, plain
    // units for the rest.
    void nethvoiceServicesGovernance()
    {
        QString error;
        const auto p = AppProfile::load(QStringLiteral(NS8M_SOURCE_DIR "/apps/nethvoice.yaml"), &error);
        QVERIFY2(p, qPrintable(error));
        for (const char *record : {"asterisk", "httpd-fpbx", "nethcti-server", "janus-gateway", "phonebookjss", "fias"})
            QVERIFY2(p->recordServices.contains(QLatin1String(record)), record);
        for (const char *unit : {"tancredi", "fias-dispatcher", "nethvoice-report-api"}) {
            QVERIFY2(!p->recordServices.contains(QLatin1String(unit)), unit);
            QVERIFY2(p->retireServices.contains(QLatin1String(unit)), unit);
        }
    }

    void nethvoiceExcludeLists()
    {
        QString error;
        const auto p = AppProfile::load(QStringLiteral(NS8M_SOURCE_DIR "/apps/nethvoice.yaml"), &error);
        QVERIFY2(p, qPrintable(error));
        const QStringList tool = QStringLiteral(
            "app_wakeup.php calendar.agi checksound.agi dialparties.agi directory enumlookup.agi fixlocalprefix "
            "inboundlookup.php list-item-remove.php nethcqr.php offhour.php outbound-routes-pin.php "
            "outboundRouteEmail.php outboundlookup.php page.agi paging_call_spooler.agi parkfetch.agi parkuser.php "
            "queue_devstate.agi rapidcode.php recallonbusy_set.php recordings.agi returnontransfer_setContext.php "
            "setContext.php user_login_out.agi").split(u' ');
        const QStringList image = QStringLiteral(
            "alarmsuccess.php camere.php cdrscript.sample.php cdrscript_in.sample.php checkin.php cleanRoom.php "
            "configAlarm.php extra.php lookup.php nethcqr.php offhour.php outbound-routes-pin.php "
            "phpagi-asmanager.php phpagi.php recallonbusy_set.php set-reception-lang.php set-room-lang.php sql.php "
            "svegliafallita.php").split(u' ');
        QCOMPARE(tool.size(), 25);
        QCOMPARE(image.size(), 19);
        QSet<QString> want = toSet(tool);
        want.unite(toSet(image));
        QHash<QString, QSet<QString>> excludes;
        for (const Transfer &t : p->transfers)
            excludes.insert(t.id, toSet(t.exclude));
        QCOMPARE(excludes.value(QStringLiteral("agi-bin")), want);
        QCOMPARE(excludes.value(QStringLiteral("asterisk-config")),
                 (QSet<QString>{QStringLiteral("samples*"), QStringLiteral("keys"), QStringLiteral("asterisk.conf"),
                                QStringLiteral("modules.conf"), QStringLiteral("*.rpmnew")}));
        QCOMPARE(excludes.value(QStringLiteral("customer-cards")),
                 (QSet<QString>{QStringLiteral("identity.ejs"), QStringLiteral("lastcalls.ejs"),
                                QStringLiteral("statistics.ejs"), QStringLiteral("table.ejs")}));
        // The astdb dump under the name NS8's import reads, not *.sql.
        QCOMPARE(p->sqlite.first().destination, QStringLiteral("state/restore/astdb.sqlite3.dump"));
    }

    void minimalProfile()
    {
        QString error;
        const auto p = AppProfile::parse(kMinimal, QStringLiteral("demo.yaml"), &error);
        QVERIFY2(p, qPrintable(error));
        QCOMPARE(p->transfers.size(), 1);
        QVERIFY(!p->transfers.first().copiesDirectoryItself());
    }

    // The guide's typical sizes, Preflight's data-sizes check shows them.
    void nethvoiceTypicalSizes()
    {
        QString error;
        const auto p = AppProfile::load(QStringLiteral(NS8M_SOURCE_DIR "/apps/nethvoice.yaml"), &error);
        QVERIFY2(p, qPrintable(error));
        QMap<QString, QString> sizes;
        for (const Transfer &t : p->transfers)
            if (!t.typicalSize.isEmpty())
                sizes.insert(t.id, t.typicalSize);
        for (const DatabaseItem &d : p->databases)
            if (!d.typicalSize.isEmpty())
                sizes.insert(QStringLiteral("db:") + d.name, d.typicalSize);
        const QMap<QString, QString> expected = {
            {QStringLiteral("recordings"), QStringLiteral("10 GiB - 500 GiB+")},
            {QStringLiteral("voicemail"), QStringLiteral("1 GiB - 20 GiB+")},
            {QStringLiteral("sounds-custom"), QStringLiteral("100 MiB - 1 GiB")},
            {QStringLiteral("db:asteriskcdrdb"), QStringLiteral("500 MiB - 10 GiB+")},
        };
        QCOMPARE(sizes, expected);
    }

    void typicalSize()
    {
        QString error;
        const auto p = AppProfile::parse(QByteArray(kMinimal).replace("destination: volumes/data/}",
                                                                      "destination: volumes/data/, typical_size: 1 GB - 2 GB}")
                                             + "databases:\n  credentials: /root/.my.cnf\n  destination: state/restore/\n"
                                               "  items:\n    - {name: db, structure: 10_db_structure.sql, data: 60_db_data.sql, "
                                               "typical_size: \"100 MB+\"}\n",
                                         QStringLiteral("demo.yaml"), &error);
        QVERIFY2(p, qPrintable(error));
        QCOMPARE(p->transfers.first().typicalSize, QStringLiteral("1 GB - 2 GB"));
        QCOMPARE(p->databases.first().typicalSize, QStringLiteral("100 MB+"));
    }

    // The tests' toy app (tests/profiles/toy.yaml, integration.toy) stays a
    // valid profile.
    void toyProfile()
    {
        QString error;
        const auto p = AppProfile::load(QStringLiteral(NS8M_SOURCE_DIR "/tests/profiles/toy.yaml"), &error);
        QVERIFY2(p, qPrintable(error));
        QCOMPARE(p->id, QStringLiteral("toy"));
        QCOMPARE(p->transfers.size(), 1);
        QCOMPARE(p->databases.size(), 1);
        QCOMPARE(p->quiesceServices, QStringList{QStringLiteral("toyd")});
        QCOMPARE(p->retireServices, QStringList{QStringLiteral("toyd")});
        QVERIFY(p->recordServices.isEmpty());
        QCOMPARE(p->fields.size(), 2);
        QCOMPARE(p->companions.size(), 2);
    }

    void texts()
    {
        QString error;
        const auto p = AppProfile::parse(kMinimal + "texts:\n  start.intro: {en: Demo starts., it: Demo parte.}\n",
                                         QStringLiteral("demo.yaml"), &error);
        QVERIFY2(p, qPrintable(error));
        QCOMPARE(p->texts.value(QStringLiteral("start.intro")).value(QStringLiteral("en")), QStringLiteral("Demo starts."));
        QCOMPARE(p->texts.value(QStringLiteral("start.intro")).value(QStringLiteral("it")), QStringLiteral("Demo parte."));
        // A companion's notice, translated by notice.<image>.
        const auto q = AppProfile::parse(QByteArray(kMinimal).replace(
                                             "volumes: [data]}", "volumes: [data], companions: [{image: x, notice: Hi, notice_it: Ciao}]}"),
                                         QStringLiteral("demo.yaml"), &error);
        QVERIFY2(q, qPrintable(error));
        QCOMPARE(q->texts.value(QStringLiteral("notice.x")).value(QStringLiteral("it")), QStringLiteral("Ciao"));
        // A transfer's title is a job step's, translated by step.<id>.
        QCOMPARE(p->texts.value(QStringLiteral("step.files")).value(QStringLiteral("it")), QStringLiteral("File"));
    }

    void nethvoiceExport()
    {
        QString error;
        const auto p = AppProfile::load(QStringLiteral(NS8M_SOURCE_DIR "/apps/nethvoice.yaml"), &error);
        QVERIFY2(p, qPrintable(error));
        QStringList ids;
        for (const ExportTable &t : p->exports) {
            ids.append(t.id);
            QCOMPARE(t.database, QStringLiteral("asterisk"));
            QVERIFY2(p->texts.contains(QStringLiteral("export.") + t.id), qPrintable(t.id));
        }
        QCOMPARE(ids, (QStringList{QStringLiteral("extensions"), QStringLiteral("trunks"), QStringLiteral("inbound_routes"),
                                   QStringLiteral("outbound_routes")}));
        QCOMPARE(p->exports.at(1).secretColumns, QStringList{QStringLiteral("secret")});
        QCOMPARE(p->exports.at(3).secretColumns, QStringList{QStringLiteral("pin")});
        QCOMPARE(p->texts.value(QStringLiteral("export.trunks")).value(QStringLiteral("it")), QStringLiteral("Fasci"));
    }
    // The local OpenLDAP account provider: detected by the provider's kind,
    // last, its files generated, the temporary domain removed at Finish.
    void ldapProviderProfile()
    {
        QString error;
        const auto p = AppProfile::load(QStringLiteral(NS8M_SOURCE_DIR "/apps/account-provider-ldap.yaml"), &error);
        QVERIFY2(p, qPrintable(error));
        QCOMPARE(p->detectProvider, QStringLiteral("local_ldap"));
        QVERIFY(p->detectDatabase.isEmpty());
        QVERIFY(p->last);
        QCOMPARE(p->image, QStringLiteral("openldap"));
        QCOMPARE(p->volumes, QStringList{QStringLiteral("data")});
        QVERIFY(p->transfers.isEmpty());
        QVERIFY(!p->hasDumps());
        QVERIFY(p->configureAction.isEmpty());
        QCOMPARE(p->ownerUid, -1);
        QCOMPARE(p->beforeTerminate, QStringList{QStringLiteral("remove_temporary_domain")});
        QCOMPARE(p->retireServices, QStringList{QStringLiteral("slapd")});
        QVERIFY(p->recordServices.contains(QStringLiteral("slapd")));
        QCOMPARE(p->generated.size(), 2);
        const GeneratedFile &env = p->generated.at(0);
        QCOMPARE(env.exporter, QStringLiteral("env"));
        QCOMPARE(env.destinationDir(), QStringLiteral("state/"));
        QCOMPARE(env.fileName(), QStringLiteral("import.env"));
        QStringList names;
        for (const EnvValue &v : env.values)
            names.append(v.name);
        QCOMPARE(names, (QStringList{QStringLiteral("LDAP_SVCUSER"), QStringLiteral("LDAP_SVCPASS"),
                                     QStringLiteral("LDAP_DOMAIN"), QStringLiteral("LDAP_SUFFIX")}));
        QCOMPARE(env.values.at(1).source, QStringLiteral("file"));
        QCOMPARE(env.values.at(1).param, QStringLiteral("/var/lib/nethserver/secrets/ldapservice"));
        const GeneratedFile &ldif = p->generated.at(1);
        QCOMPARE(ldif.exporter, QStringLiteral("ldif"));
        QCOMPARE(ldif.destination, QStringLiteral("volumes/data/dump-mdb0.ldif"));
        QCOMPARE(ldif.database, 2);
        QCOMPARE(ldif.suffix, QStringLiteral("dc=directory,dc=nh"));
        // NS8's schema: the NS7 classes it keeps, not shadowAccount nor Samba's.
        QVERIFY(ldif.schema.value("posixaccount").contains("uidnumber"));
        QVERIFY(ldif.schema.value("inetorgperson").contains("displayname"));
        QVERIFY(ldif.schema.contains("groupofnames"));
        QVERIFY(!ldif.schema.contains("shadowaccount"));
        QVERIFY(!ldif.schema.contains("sambasamaccount"));
        QVERIFY(!ldif.schema.value("posixaccount").contains("shadowlastchange"));
        QCOMPARE(p->texts.value(QStringLiteral("step.directory")).value(QStringLiteral("it")), QStringLiteral("Utenti e gruppi"));
    }

    void adProviderProfile()
    {
        QString error;
        const auto p = AppProfile::load(QStringLiteral(NS8M_SOURCE_DIR "/apps/account-provider-ad.yaml"), &error);
        QVERIFY2(p, qPrintable(error));
        QCOMPARE(p->detectProvider, QStringLiteral("local_ad"));
        QVERIFY(p->last);
        QCOMPARE(p->image, QStringLiteral("samba"));
        QCOMPARE(p->beforeTerminate, QStringList{QStringLiteral("remove_temporary_domain")});
        QCOMPARE(p->retireServices, QStringList{QStringLiteral("nsdc")});
        QVERIFY(p->recordServices.contains(QStringLiteral("nsdc")));
        // The DC's files but its raw databases, then sysvol, as they are.
        QCOMPARE(p->transfers.size(), 2);
        QCOMPARE(p->transfers.at(0).destination, QStringLiteral("volumes/data/"));
        for (const char *x : {"sysvol", "*.tdb", "*.ldb", "*.bak"})
            QVERIFY2(p->transfers.at(0).exclude.contains(QLatin1String(x)), x);
        QCOMPARE(p->transfers.at(1).destination, QStringLiteral("volumes/data/sysvol/"));
        QCOMPARE(p->generated.size(), 2);
        QStringList names;
        for (const EnvValue &v : p->generated.at(0).values)
            names.append(v.name);
        QCOMPARE(names, (QStringList{QStringLiteral("HOSTNAME"), QStringLiteral("IPADDRESS"), QStringLiteral("PROVISION_TYPE"),
                                     QStringLiteral("NBDOMAIN"), QStringLiteral("REALM"), QStringLiteral("SVCUSER"),
                                     QStringLiteral("SVCPASS")}));
        const GeneratedFile &dbs = p->generated.at(1);
        QCOMPARE(dbs.exporter, QStringLiteral("samba"));
        QCOMPARE(dbs.destinationDir(), QStringLiteral("volumes/data/"));
        QVERIFY(dbs.fileName().isEmpty());
        QCOMPARE(dbs.skip, QStringList{QStringLiteral("netlogon_creds_cli.tdb")});
        QCOMPARE(dbs.unlocked, QStringList{QStringLiteral("gencache.tdb")});
        QCOMPARE(p->staysOnNs7, QStringList{QStringLiteral("fileserver")});
        // The DC's address: an ipv4 field whose choices come from the new
        // module's get-defaults, and IPADDRESS takes it.
        QCOMPARE(p->fields.size(), 1);
        const Field &ip = p->fields.at(0);
        QCOMPARE(ip.id, QStringLiteral("dc_ipaddress"));
        QVERIFY(ip.kind == Field::Kind::Ipv4);
        QVERIFY(!ip.required);
        QVERIFY(!ip.titleIt.isEmpty() && !ip.helpIt.isEmpty());
        QCOMPARE(ip.choices.action, QStringLiteral("get-defaults"));
        QCOMPARE(ip.choices.input, (QVariantMap{{QStringLiteral("provision"), QStringLiteral("new-domain")}}));
        QCOMPARE(ip.choices.list, QStringLiteral("ipaddress_list"));
        QCOMPARE(ip.choices.value, QStringLiteral("ipaddress"));
        QCOMPARE(ip.choices.label, QStringLiteral("label"));
        const EnvValue &address = p->generated.at(0).values.at(1);
        QCOMPARE(address.source, QStringLiteral("field"));
        QCOMPARE(address.param, QStringLiteral("dc_ipaddress"));
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
        const QByteArray withDatabases = kMinimal + "databases:\n  credentials: /root/.my.cnf\n  destination: state/restore/\n"
                                     "  items: [{name: db, structure: 10_db_structure.sql, data: 60_db_data.sql}]\n"
                                     "sqlite:\n  - {id: kv, title: KV, path: /var/lib/kv.sqlite3, table: kv, destination: ";
        QTest::newRow("sqlite dump run as SQL by NS8")
            << withDatabases + "state/restore/kv.sql}\n" << QStringLiteral("must not end in .sh or .sql");
        QTest::newRow("sqlite dump run as a script by NS8")
            << withDatabases + "state/restore/kv.sql.gz}\n" << QStringLiteral("must not end in .sh or .sql");
        QTest::newRow("sqlite dump outside the dumps")
            << withDatabases + "state/kv.sqlite3.dump}\n" << QStringLiteral("a file in the databases destination");
        QTest::newRow("exclude with slash")
            << QByteArray(kMinimal).replace("destination: volumes/data/}", "destination: volumes/data/, exclude: [a/b]}")
            << QStringLiteral("without '/'");
        QTest::newRow("empty typical size")
            << QByteArray(kMinimal).replace("destination: volumes/data/}", "destination: volumes/data/, typical_size: \"\"}")
            << QStringLiteral("typical_size must not be empty");
        QTest::newRow("typical size not text")
            << QByteArray(kMinimal).replace("destination: volumes/data/}", "destination: volumes/data/, typical_size: [1, 2]}")
            << QStringLiteral("typical_size");
        QTest::newRow("transfer title without Italian")
            << QByteArray(kMinimal).replace("title_it: File, ", "") << QStringLiteral("needs \"title_it\"");
        QTest::newRow("companion notice without Italian")
            << QByteArray(kMinimal).replace("volumes: [data]}", "volumes: [data], companions: [{image: x, notice: Hi}]}")
            << QStringLiteral("needs \"notice_it\"");
        QTest::newRow("text without Italian")
            << kMinimal + "texts:\n  start.intro: {en: Demo starts.}\n" << QStringLiteral("needs \"it\"");
        QTest::newRow("text in an unknown language")
            << kMinimal + "texts:\n  start.intro: {en: a, it: b, de: c}\n" << QStringLiteral("unknown key \"de\"");
        QTest::newRow("service governed by nobody")
            << kMinimal + "services:\n  quiesce: [demod]\n" << QStringLiteral("does not say how NS7 governs demod");
        QTest::newRow("service governed oddly")
            << kMinimal + "services:\n  retire: [demod]\n  governed: {demod: yum}\n"
            << QStringLiteral("demod must be \"record\" or \"unit\"");
        const QByteArray withExport = kMinimal + "databases:\n  credentials: /root/.my.cnf\n  destination: state/restore/\n"
                                  "  items: [{name: db, structure: 10_db_structure.sql, data: 60_db_data.sql}]\n"
                                  "export:\n  - {id: users, title: Users, title_it: Utenti, ";
        QTest::newRow("export that writes")
            << withExport + "database: db, query: \"DELETE FROM users\"}\n" << QStringLiteral("one SELECT statement");
        QTest::newRow("export of two statements")
            << withExport + "database: db, query: \"SELECT 1; DROP TABLE users\"}\n" << QStringLiteral("without ';'");
        QTest::newRow("export of another database")
            << withExport + "database: mysql, query: \"SELECT user FROM user\"}\n"
            << QStringLiteral("not one of databases: items");
        QTest::newRow("export without Italian")
            << QByteArray(withExport).replace("title_it: Utenti, ", "") + "database: db, query: \"SELECT 1\"}\n"
            << QStringLiteral("needs \"title_it\"");
        const QByteArray provider = "format: 1\nid: prov\nname: Prov\ndetect: {account_provider: local_ldap}\n"
                                    "ns8: {image: dir, volumes: [data]}\ngenerate:\n  - {id: env, title: E, title_it: E, ";
        QTest::newRow("generated file in a folder")
            << provider + "exporter: env, destination: state/, values: {A: {const: b}}}\n" << QStringLiteral("must name a file");
        QTest::newRow("env value from two places")
            << provider + "exporter: env, destination: state/x.env, values: {A: {const: b, file: /c}}}\n"
            << QStringLiteral("needs one of");
        QTest::newRow("env value from an unknown cluster field")
            << provider + "exporter: env, destination: state/x.env, values: {A: {cluster: leader}}}\n"
            << QStringLiteral("user_domain or user_domain_suffix");
        QTest::newRow("env variable name")
            << provider + "exporter: env, destination: state/x.env, values: {a-b: {const: b}}}\n"
            << QStringLiteral("not a variable name");
        QTest::newRow("ldif without schema")
            << provider + "exporter: ldif, destination: volumes/data/x.ldif, slapd_config: /etc/s, database: 2, "
                          "suffix: dc=x}\n"
            << QStringLiteral("needs \"schema\"");
        QTest::newRow("unknown exporter")
            << provider + "exporter: tar, destination: volumes/data/x}\n" << QStringLiteral("ldif, env or samba");
        QTest::newRow("samba exporter into a file")
            << provider + "exporter: samba, destination: volumes/data/x.tdb, source: /var/lib/samba}\n"
            << QStringLiteral("must be a folder");
        QTest::newRow("samba exporter without source")
            << provider + "exporter: samba, destination: volumes/data/}\n" << QStringLiteral("needs \"source\"");
        QTest::newRow("skip on the env exporter")
            << provider + "exporter: env, destination: state/x.env, values: {A: {const: b}}, skip: [a.tdb]}\n"
            << QStringLiteral("skip belongs to the samba exporter");
        QTest::newRow("stays_on_ns7 not an id") << kMinimal + "stays_on_ns7: [../x]\n"
                                                << QStringLiteral("stays_on_ns7 must list catalog app ids");
        QTest::newRow("esmith value without prop")
            << provider + "exporter: env, destination: state/x.env, values: {A: {esmith: {key: sssd}}}}\n"
            << QStringLiteral("needs \"prop\"");
        QTest::newRow("unknown provider kind")
            << QByteArray(provider).replace("local_ldap", "remote_ldap") + "exporter: env, destination: state/x.env, "
                                                                          "values: {A: {const: b}}}\n"
            << QStringLiteral("local_ldap or local_ad");
        QTest::newRow("env value of an unknown field")
            << provider + "exporter: env, destination: state/x.env, values: {A: {field: nope}}}\n"
            << QStringLiteral("names an unknown field \"nope\"");
        const QByteArray ipField = kMinimal + "fields:\n  - {id: ip, kind: ipv4, title: IP, ";
        QTest::newRow("unknown field kind") << QByteArray(ipField).replace("ipv4", "ipv6") + "}\n"
                                            << QStringLiteral("kind must be fqdn, bool, string or ipv4");
        QTest::newRow("choices on a string field")
            << QByteArray(ipField).replace("ipv4", "string") + "choices: {action: a, list: l, value: v, label: x}}\n"
            << QStringLiteral("choices belong to an ipv4 field");
        QTest::newRow("choices without list")
            << ipField + "choices: {action: get-defaults, value: v, label: x}}\n" << QStringLiteral("needs \"list\"");
        QTest::newRow("choices with an unknown key")
            << ipField + "choices: {action: a, list: l, value: v, label: x, sort: y}}\n"
            << QStringLiteral("unknown key \"sort\"");
        QTest::newRow("choices input not a mapping")
            << ipField + "choices: {action: a, input: [x], list: l, value: v, label: x}}\n"
            << QStringLiteral("input must be a mapping");
        QTest::newRow("order other than last") << kMinimal + "order: first\n" << QStringLiteral("only be \"last\"");
        QTest::newRow("unknown before_terminate")
            << kMinimal + "before_terminate: [reboot]\n" << QStringLiteral("remove_temporary_domain");
        QTest::newRow("no transfers and nothing generated")
            << QByteArray(kMinimal).left(kMinimal.indexOf("transfers:")) + "transfers: []\n"
            << QStringLiteral("non-empty list");
        QTest::newRow("text id with a space")
            << kMinimal + "texts:\n  \"start intro\": {en: a, it: b}\n" << QStringLiteral("text ids are");
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

    // The catalog of NS7 apps that Manager.Inventory lists.
    void catalog()
    {
        QString error;
        const auto c = Catalog::load(QStringLiteral(NS8M_SOURCE_DIR "/apps/catalog/ns7-apps.yaml"), &error);
        QVERIFY2(c, qPrintable(error));
        QStringList ids;
        for (const CatalogApp &a : c->apps) {
            ids.append(a.id);
            QVERIFY2(!a.reason.value(QStringLiteral("en")).isEmpty() && !a.reason.value(QStringLiteral("it")).isEmpty(),
                     qPrintable(a.id));
            QCOMPARE(a.names.value(QStringLiteral("en")), a.name);
        }
        QCOMPARE(ids.join(u' '), QStringLiteral("mail webtop roundcubemail sogo getmail nextcloud mattermost ejabberd "
                                                "fileserver"));
        QCOMPARE(c->apps.at(4).detectPath, QStringLiteral("/etc/e-smith/db/getmail"));
        QCOMPARE(c->apps.at(6).availableProps, QStringList{QStringLiteral("VirtualHost")});
        QCOMPARE(c->apps.at(7).availableStatus, QStringLiteral("enabled"));
        QCOMPARE(c->providers.keys().join(u' '), QStringLiteral("local_ad local_ldap remote_ad remote_ldap"));
        QCOMPARE(c->providers.value(QStringLiteral("remote_ldap")).status, QStringLiteral("kept"));
        QCOMPARE(c->providers.value(QStringLiteral("local_ldap")).status, QStringLiteral("unsupported"));
        // No catalog at all: an empty one.
        QVERIFY(Catalog::load(QStringLiteral("/nonexistent/ns7-apps.yaml"), &error)->apps.isEmpty());
    }
    void catalogRejects_data()
    {
        QTest::addColumn<QByteArray>("yaml");
        QTest::addColumn<QString>("expected");
        const QByteArray app = "format: 1\napps:\n  - {id: x, name: X, detect: {database: configuration, key: x}, "
                               "reason: {en: a, it: b}";
        QTest::newRow("ok") << app + "}\n" << QString();
        QTest::newRow("unknown key") << app + ", colour: red}\n" << QStringLiteral("unknown key \"colour\"");
        QTest::newRow("no Italian reason") << QByteArray(app).replace(", it: b", "") + "}\n" << QStringLiteral("needs \"it\"");
        QTest::newRow("relative path") << QByteArray(app).replace("database: configuration, key: x", "path: etc/x") + "}\n"
                                       << QStringLiteral("absolute");
        QTest::newRow("twice") << app + "}\n" + QByteArray(app).mid(16) + "}\n" << QStringLiteral("listed twice");
        QTest::newRow("provider status") << QByteArray("format: 1\nproviders:\n  local_ldap: {name: L, status: gone, "
                                                       "reason: {en: a, it: b}}\n")
                                         << QStringLiteral("status must be unsupported or kept");
        QTest::newRow("provider kind") << QByteArray("format: 1\nproviders:\n  nis: {name: N, status: kept, "
                                                     "reason: {en: a, it: b}}\n")
                                       << QStringLiteral("unknown key \"nis\"");
    }
    void catalogRejects()
    {
        QFETCH(QByteArray, yaml);
        QFETCH(QString, expected);
        QString error;
        const auto c = Catalog::parse(yaml, QStringLiteral("ns7-apps.yaml"), &error);
        if (expected.isEmpty()) {
            QVERIFY2(c, qPrintable(error));
            QCOMPARE(c->apps.size(), 1);
            return;
        }
        QVERIFY(!c);
        QVERIFY2(error.contains(expected), qPrintable(error));
    }
};

QTEST_GUILESS_MAIN(TestAppProfile)
#include "test_appprofile.moc"
