// App profiles: one YAML file per application (apps/*.yaml) that says what
// a migration of that app moves and how.  See docs/app-profiles.md.
#pragma once

#include "ns7/dbexport.h" // ExportTable

#include <QHash>
#include <QList>
#include <QMap>
#include <QPair>
#include <QSet>
#include <QString>
#include <QStringList>
#include <QVariant>

#include <optional>

namespace ns8m {

struct Transfer {
    QString id;
    QString title;
    QString titleIt; // title_it: the title in Italian (App.Texts step.<id>)
    QString source;      // absolute NS7 path, rsync trailing-slash semantics, may hold "*"
    QString destination; // relative to the module's /srv, may hold {1}
    bool deleteExtraneous = false;
    bool optional = false;
    QStringList exclude;
    bool preserveOwner = false; // owner: preserve
    QStringList usermap;
    QStringList groupmap;
    QList<QPair<QString, QString>> rewrite;
    QString typicalSize; // what this data usually weighs, for Preflight ("10 GB - 500 GB+")

    bool copiesDirectoryItself() const { return !source.endsWith(u'/'); }
};

struct IncrementalTable {
    QString table;
    QString key; // auto-increment column, "" for a table without key (cdr)
    // Without a key: a row is written when its call ends, at start + duration
    // (seconds); that end time is the watermark.
    QString start;
    QString duration;
};

struct DatabaseItem {
    QString name;
    QString structure;
    QString data;
    QString dataDestination; // "" → the databases' destination
    bool optional = false;
    QString typicalSize; // as Transfer::typicalSize
    QList<IncrementalTable> incremental;
};

struct SqliteDump {
    QString id;
    QString title;
    QString path;
    QString table;
    QString destination;
    QStringList excludeKeyPrefixes;
};

// choices: the field's allowed values come from NS8 once the module exists:
// ACTION of the new module with INPUT, its output's LIST array of objects,
// each one's VALUE (the value) and LABEL (shown beside it).
struct FieldChoices {
    QString action;
    QVariantMap input;
    QString list, value, label;
    bool isEmpty() const { return action.isEmpty(); }
};

struct Field {
    enum class Kind { Fqdn, Bool, String, Ipv4 };
    QString id;
    Kind kind = Kind::String;
    bool required = false;
    QVariant defaultValue;
    QStringList distinctFrom;
    QString title, titleIt, help, helpIt;
    QString placeholder; // an example value shown in the empty input
    // planning: the administrator's plan, for the DNS records and the Result
    // screen only; never sent to NS8 (no configure input may name it).
    bool planning = false;
    // default_field: an empty value stands for that field's value.
    QString defaultField;
    FieldChoices choices;
};

struct ConfigureInput {
    QString key;    // the configure-module input property
    QString source; // field | cluster | esmith | file | exists | ini | const
    QVariantMap params;
};

// A file the helper makes on NS7 at every pass and sends to its
// destination (generate:, docs/app-profiles.md): the "ldif" exporter (a
// directory export fixed for NS8's openldap) or "env" (KEY=value lines).
struct EnvValue {
    QString name;   // the variable
    QString source; // const | file | cluster | esmith | field
    QString param;  // the constant, the NS7 file (its content, trimmed), or
                    // the cluster's user_domain / user_domain_suffix;
                    // field: the profile field's id (its value at Start);
                    // esmith: the configuration DB's record
    QString prop;   // esmith: the record's property
    QString before; // esmith: the value cut at the first BEFORE ("@")
};

struct GeneratedFile {
    QString id;
    QString title;
    QString titleIt;
    QString exporter;    // ldif | env | samba
    QString destination; // a file under the module's /srv (volumes/<v>/… or state/…);
                         // samba: a folder (ending with '/')
    // ldif: slapcat of DATABASE (its number in cn=config) with the NS7
    // cn=config folder SLAPDCONFIG, entries outside SCHEMA dropped, SUFFIX
    // replaced by the one of the cluster's user domain.
    QString slapdConfig;
    int database = 0;
    QString suffix;
    QHash<QByteArray, QSet<QByteArray>> schema; // class → attributes, lower case
    // env
    QList<EnvValue> values;
    // samba: `tdbbackup -s .export` copies of every *.tdb/*.ldb under the
    // NS7 folder SOURCE but those named in SKIP, at their relative places
    // (UNLOCKED ones copied with -l: mutex databases).
    QString source;
    QStringList skip;
    QStringList unlocked;

    // The file's name; empty for a folder destination (samba).
    QString fileName() const { return destination.section(u'/', -1); }
    QString destinationDir() const { return destination.section(u'/', 0, -2) + u'/'; }
};

struct AppProfile {
    QString file;
    QString id;
    QString name;
    QString description;
    QString detectDatabase;
    QString detectKey;
    // detect: {account_provider: <kind>}: the app is NS7's account provider
    // of that kind (local_ldap, local_ad); it replaces the provider's row of
    // the inventory.
    QString detectProvider;
    // order: last: Start is refused while another app is still to be
    // migrated or skipped (the account provider goes last).
    bool last = false;
    QList<GeneratedFile> generated;
    // before_terminate: what Finish does just before /terminate, each undone
    // when the import fails: remove_temporary_domain (the external user
    // domain Connect created, which the import replaces).
    QStringList beforeTerminate;
    // stays_on_ns7: catalog apps (ids of apps/catalog/ns7-apps.yaml) this
    // app's Finish leaves on NS7; its closing message names those NS7 has.
    QStringList staysOnNs7;
    QString image;
    QStringList volumes;
    QList<QPair<QString, QString>> companions; // image, notice
    int ownerUid = -1;
    int ownerGid = -1;
    QList<Transfer> transfers;
    QString dbCredentials;
    QString dbDestination;
    QList<DatabaseItem> databases;
    QList<SqliteDump> sqlite;
    QList<ExportTable> exports;
    QStringList quiesceServices;
    QStringList retireServices;
    // The services NS7 governs by an e-smith record (services: governed:
    // record); the others are plain systemd units.
    QSet<QString> recordServices;
    QList<Field> fields;
    QString configureAction;
    QString configureSchema;
    QList<ConfigureInput> configure;
    QString redirectPage;
    QStringList redirectPaths;
    // Sentences the page shows about this app, by id, in every language of
    // the page ("en", "it"): texts: {<id>: {en: ..., it: ...}}.
    QMap<QString, QMap<QString, QString>> texts;

    // True when the app's NS8 configuration names the cluster's user domain
    // (a configure input from cluster: user_domain): its users come from it.
    bool usesUserDomain() const;
    // True when Finish dumps databases (databases: or sqlite:).
    bool hasDumps() const { return !databases.isEmpty() || !sqlite.isEmpty(); }

    // Loads and checks one profile; on failure returns nothing and says
    // why in *error, with the file and line.
    static std::optional<AppProfile> load(const QString &path, QString *error);
    static std::optional<AppProfile> parse(const QByteArray &yaml, const QString &file,
                                           QString *error);
    // Loads every *.yaml of a directory, sorted by name; broken files are
    // reported in *errors and skipped.
    static QList<AppProfile> loadDirectory(const QString &dir, QStringList *errors);
};

// True for an app id usable as an object path element and a file name.
bool isValidAppId(const QString &id);

} // namespace ns8m
