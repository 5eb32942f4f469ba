#include "profile/appprofile.h"
#include "profile/catalog.h"

#include "core/qtcompat.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QRegularExpression>
#include <QSet>

#include <yaml-cpp/yaml.h>

#include <stdexcept>

namespace ns8m {

namespace {

struct ProfileError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Where NODE is in the file.  yaml-cpp 0.5.1 (NethServer 7) has no
// Node::Mark(): there no line is known (docs/qt-versions.md).
YAML::Mark markOf(const YAML::Node &node)
{
#ifdef NS8M_YAML_NODE_MARK
    return node.Mark();
#else
    Q_UNUSED(node);
    return YAML::Mark::null_mark();
#endif
}

[[noreturn]] void fail(const YAML::Node &node, const QString &what)
{
    const YAML::Mark m = markOf(node);
    QString where;
    if (m.line >= 0)
        where = QStringLiteral("line %1: ").arg(m.line + 1);
    throw ProfileError((where + what).toStdString());
}

QString str(const YAML::Node &node, const QString &what)
{
    if (!node.IsScalar())
        fail(node, QStringLiteral("%1 must be a string").arg(what));
    return QString::fromStdString(node.Scalar());
}

bool boolean(const YAML::Node &node, const QString &what)
{
    bool value = false;
    if (!node.IsScalar() || !YAML::convert<bool>::decode(node, value))
        fail(node, QStringLiteral("%1 must be true or false").arg(what));
    return value;
}

int integer(const YAML::Node &node, const QString &what, int min, int max)
{
    int value = 0;
    if (!node.IsScalar() || !YAML::convert<int>::decode(node, value) || value < min
        || value > max)
        fail(node, QStringLiteral("%1 must be a whole number from %2 to %3")
                       .arg(what)
                       .arg(min)
                       .arg(max));
    return value;
}

QStringList strList(const YAML::Node &node, const QString &what)
{
    if (!node.IsSequence())
        fail(node, QStringLiteral("%1 must be a list").arg(what));
    QStringList out;
    for (const auto &item : node)
        out.append(str(item, what + QStringLiteral(" item")));
    return out;
}

// Every mapping is checked for keys nobody reads: a typo in a profile must
// not silently drop a setting.
void onlyKeys(const YAML::Node &node, const QString &what, const QStringList &allowed)
{
    if (!node.IsMap())
        fail(node, QStringLiteral("%1 must be a mapping").arg(what));
    for (const auto &kv : node) {
        const QString key = QString::fromStdString(kv.first.as<std::string>());
        if (!allowed.contains(key))
            fail(kv.first, QStringLiteral("unknown key \"%1\" in %2 (allowed: %3)")
                               .arg(key, what, allowed.join(QStringLiteral(", "))));
    }
}

YAML::Node need(const YAML::Node &node, const char *key, const QString &what)
{
    const YAML::Node child = node[key];
    if (!child)
        fail(node, QStringLiteral("%1 needs \"%2\"").arg(what, QString::fromLatin1(key)));
    return child;
}

bool hasDotDot(const QString &path)
{
    const QStringList parts = path.split(u'/');
    return parts.contains(QStringLiteral("..")) || parts.contains(QStringLiteral("."));
}

QString absolutePath(const YAML::Node &node, const QString &what)
{
    const QString p = str(node, what);
    if (!p.startsWith(u'/') || hasDotDot(p) || p.contains(u'\0') || p.contains(QStringLiteral("//")))
        fail(node, QStringLiteral("%1 must be an absolute path without \"..\": %2").arg(what, p));
    return p;
}

QString relativePath(const YAML::Node &node, const QString &what, const QStringList &volumes)
{
    const QString p = str(node, what);
    if (p.startsWith(u'/') || hasDotDot(p) || p.isEmpty())
        fail(node, QStringLiteral("%1 must be a path relative to the module's /srv: %2")
                       .arg(what, p));
    const QStringList parts = p.split(u'/');
    if (parts.first() == u"volumes") {
        if (parts.size() < 2 || !volumes.contains(parts.at(1)))
            fail(node, QStringLiteral("%1 names a volume the module does not have: %2")
                           .arg(what, p));
    } else if (parts.first() != u"state") {
        fail(node, QStringLiteral("%1 must start with volumes/<volume>/ or state/: %2")
                       .arg(what, p));
    }
    return p;
}

QString sqlName(const YAML::Node &node, const QString &what)
{
    static const QRegularExpression re(QStringLiteral("^[A-Za-z0-9_]{1,64}$"));
    const QString s = str(node, what);
    if (!re.match(s).hasMatch())
        fail(node, QStringLiteral("%1 must be a plain SQL name: %2").arg(what, s));
    return s;
}

QString fileName(const YAML::Node &node, const QString &what)
{
    static const QRegularExpression re(QStringLiteral("^[A-Za-z0-9_.-]{1,128}$"));
    const QString s = str(node, what);
    if (!re.match(s).hasMatch() || s.startsWith(u'.'))
        fail(node, QStringLiteral("%1 must be a plain file name: %2").arg(what, s));
    return s;
}

QString ident(const YAML::Node &node, const QString &what)
{
    static const QRegularExpression re(QStringLiteral("^[a-z][a-z0-9_-]{0,63}$"));
    const QString s = str(node, what);
    if (!re.match(s).hasMatch())
        fail(node, QStringLiteral("%1 must be lower-case letters, digits, '-' or '_': %2")
                       .arg(what, s));
    return s;
}

QStringList idMaps(const YAML::Node &node, const QString &what)
{
    static const QRegularExpression re(QStringLiteral("^[0-9]{1,10}:[0-9]{1,10}$"));
    const QStringList maps = strList(node, what);
    for (const QString &m : maps)
        if (!re.match(m).hasMatch())
            fail(node, QStringLiteral("%1 entries must be \"FROM:TO\" numeric ids: %2").arg(what, m));
    return maps;
}

// The size the data usually has, as a person reads it ("10 GB - 500 GB+").
QString typicalSize(const YAML::Node &n, const QString &what)
{
    const QString v = str(n, what + QStringLiteral(" typical_size")).trimmed();
    if (v.isEmpty() || v.size() > 40)
        fail(n, what + QStringLiteral(" typical_size must not be empty, at most 40 characters"));
    return v;
}

Transfer parseTransfer(const YAML::Node &n, const AppProfile &p)
{
    onlyKeys(n, QStringLiteral("a transfer"),
             {QStringLiteral("id"), QStringLiteral("title"), QStringLiteral("title_it"), QStringLiteral("source"),
              QStringLiteral("destination"), QStringLiteral("delete"),
              QStringLiteral("optional"), QStringLiteral("exclude"), QStringLiteral("owner"),
              QStringLiteral("usermap"), QStringLiteral("groupmap"), QStringLiteral("rewrite"),
              QStringLiteral("typical_size")});
    Transfer t;
    t.id = ident(need(n, "id", QStringLiteral("a transfer")), QStringLiteral("transfer id"));
    const QString what = QStringLiteral("transfer \"%1\"").arg(t.id);
    t.title = str(need(n, "title", what), what + QStringLiteral(" title"));
    t.titleIt = str(need(n, "title_it", what), what + QStringLiteral(" title_it"));
    t.source = absolutePath(need(n, "source", what), what + QStringLiteral(" source"));
    t.destination = relativePath(need(n, "destination", what), what + QStringLiteral(" destination"),
                                 p.volumes);
    if (!t.destination.endsWith(u'/'))
        fail(n["destination"], what + QStringLiteral(" destination must end with '/'"));
    const Size stars = t.source.count(u'*');
    if (stars > 1)
        fail(n["source"], what + QStringLiteral(" source may hold one '*' at most"));
    if (t.destination.contains(QStringLiteral("{1}")) && stars == 0)
        fail(n["destination"], what + QStringLiteral(" destination uses {1} but the source has no '*'"));
    if (stars == 1 && !t.source.split(u'/').contains(QStringLiteral("*")))
        fail(n["source"], what + QStringLiteral(" source: '*' must stand for a whole path element"));
    if (n["delete"])
        t.deleteExtraneous = boolean(n["delete"], what + QStringLiteral(" delete"));
    if (n["optional"])
        t.optional = boolean(n["optional"], what + QStringLiteral(" optional"));
    if (n["exclude"]) {
        t.exclude = strList(n["exclude"], what + QStringLiteral(" exclude"));
        for (const QString &e : std::as_const(t.exclude))
            if (e.isEmpty() || e.contains(u'/'))
                fail(n["exclude"], what + QStringLiteral(" exclude patterns match names, without '/': ") + e);
    }
    if (n["owner"]) {
        if (str(n["owner"], what + QStringLiteral(" owner")) != u"preserve")
            fail(n["owner"], what + QStringLiteral(" owner can only be \"preserve\""));
        t.preserveOwner = true;
    }
    if (n["usermap"])
        t.usermap = idMaps(n["usermap"], what + QStringLiteral(" usermap"));
    if (n["groupmap"])
        t.groupmap = idMaps(n["groupmap"], what + QStringLiteral(" groupmap"));
    if (n["typical_size"])
        t.typicalSize = typicalSize(n["typical_size"], what);
    if ((!t.usermap.isEmpty() || !t.groupmap.isEmpty()) && !t.preserveOwner)
        fail(n, what + QStringLiteral(": usermap and groupmap need owner: preserve"));
    if (n["rewrite"]) {
        if (!n["rewrite"].IsSequence())
            fail(n["rewrite"], what + QStringLiteral(" rewrite must be a list"));
        for (const auto &r : n["rewrite"]) {
            onlyKeys(r, what + QStringLiteral(" rewrite"), {QStringLiteral("from"), QStringLiteral("to")});
            t.rewrite.append({str(need(r, "from", what), what + QStringLiteral(" rewrite from")),
                              str(need(r, "to", what), what + QStringLiteral(" rewrite to"))});
            if (t.rewrite.last().first.isEmpty())
                fail(r, what + QStringLiteral(" rewrite from must not be empty"));
        }
    }
    return t;
}

DatabaseItem parseDatabase(const YAML::Node &n, const AppProfile &p)
{
    onlyKeys(n, QStringLiteral("a database"),
             {QStringLiteral("name"), QStringLiteral("structure"), QStringLiteral("data"),
              QStringLiteral("data_destination"), QStringLiteral("optional"),
              QStringLiteral("incremental"), QStringLiteral("typical_size")});
    DatabaseItem d;
    d.name = sqlName(need(n, "name", QStringLiteral("a database")), QStringLiteral("database name"));
    const QString what = QStringLiteral("database \"%1\"").arg(d.name);
    d.structure = fileName(need(n, "structure", what), what + QStringLiteral(" structure"));
    d.data = fileName(need(n, "data", what), what + QStringLiteral(" data"));
    if (n["data_destination"]) {
        d.dataDestination = relativePath(n["data_destination"], what + QStringLiteral(" data_destination"),
                                         p.volumes);
        if (!d.dataDestination.endsWith(u'/'))
            fail(n["data_destination"], what + QStringLiteral(" data_destination must end with '/'"));
    }
    if (n["optional"])
        d.optional = boolean(n["optional"], what + QStringLiteral(" optional"));
    if (n["typical_size"])
        d.typicalSize = typicalSize(n["typical_size"], what);
    if (n["incremental"]) {
        if (!n["incremental"].IsSequence())
            fail(n["incremental"], what + QStringLiteral(" incremental must be a list"));
        for (const auto &t : n["incremental"]) {
            onlyKeys(t, what + QStringLiteral(" incremental table"),
                     {QStringLiteral("table"), QStringLiteral("key"), QStringLiteral("start"),
                      QStringLiteral("duration")});
            IncrementalTable it;
            it.table = sqlName(need(t, "table", what), what + QStringLiteral(" incremental table"));
            if (t["key"])
                it.key = sqlName(t["key"], what + QStringLiteral(" incremental key"));
            if (t["start"])
                it.start = sqlName(t["start"], what + QStringLiteral(" incremental start"));
            if (t["duration"])
                it.duration = sqlName(t["duration"], what + QStringLiteral(" incremental duration"));
            if (it.key.isEmpty() == it.start.isEmpty() || it.start.isEmpty() != it.duration.isEmpty())
                fail(t, what + QStringLiteral(" incremental table \"%1\" needs either key, or start and duration")
                            .arg(it.table));
            d.incremental.append(it);
        }
    }
    return d;
}

// choices: {action, input, list, value, label}: the allowed values of an
// ipv4 field, from an action of the new module (docs/app-profiles.md).
FieldChoices parseFieldChoices(const YAML::Node &n, const QString &what)
{
    const QString w = what + QStringLiteral(" choices");
    if (!n.IsMap())
        fail(n, w + QStringLiteral(" must be a mapping of action, input, list, value and label"));
    onlyKeys(n, w, {QStringLiteral("action"), QStringLiteral("input"), QStringLiteral("list"), QStringLiteral("value"),
                    QStringLiteral("label")});
    FieldChoices c;
    c.action = ident(need(n, "action", w), w + QStringLiteral(" action"));
    if (const YAML::Node input = n["input"]) {
        if (!input.IsMap())
            fail(input, w + QStringLiteral(" input must be a mapping of strings"));
        for (const auto &kv : input)
            c.input.insert(QString::fromStdString(kv.first.as<std::string>()), str(kv.second, w + QStringLiteral(" input")));
    }
    c.list = ident(need(n, "list", w), w + QStringLiteral(" list"));
    c.value = ident(need(n, "value", w), w + QStringLiteral(" value"));
    c.label = ident(need(n, "label", w), w + QStringLiteral(" label"));
    return c;
}

Field parseField(const YAML::Node &n)
{
    onlyKeys(n, QStringLiteral("a field"),
             {QStringLiteral("id"), QStringLiteral("kind"), QStringLiteral("required"),
              QStringLiteral("default"), QStringLiteral("distinct_from"), QStringLiteral("title"),
              QStringLiteral("title_it"), QStringLiteral("help"), QStringLiteral("help_it"),
              QStringLiteral("placeholder"), QStringLiteral("planning"), QStringLiteral("default_field"),
              QStringLiteral("choices")});
    Field f;
    f.id = ident(need(n, "id", QStringLiteral("a field")), QStringLiteral("field id"));
    const QString what = QStringLiteral("field \"%1\"").arg(f.id);
    const QString kind = str(need(n, "kind", what), what + QStringLiteral(" kind"));
    if (kind == u"fqdn")
        f.kind = Field::Kind::Fqdn;
    else if (kind == u"bool")
        f.kind = Field::Kind::Bool;
    else if (kind == u"string")
        f.kind = Field::Kind::String;
    else if (kind == u"ipv4")
        f.kind = Field::Kind::Ipv4;
    else
        fail(n["kind"], what + QStringLiteral(" kind must be fqdn, bool, string or ipv4"));
    if (n["required"])
        f.required = boolean(n["required"], what + QStringLiteral(" required"));
    if (n["default"]) {
        if (f.kind == Field::Kind::Bool)
            f.defaultValue = boolean(n["default"], what + QStringLiteral(" default"));
        else
            f.defaultValue = str(n["default"], what + QStringLiteral(" default"));
    }
    if (n["distinct_from"])
        f.distinctFrom = strList(n["distinct_from"], what + QStringLiteral(" distinct_from"));
    f.title = str(need(n, "title", what), what + QStringLiteral(" title"));
    if (n["title_it"])
        f.titleIt = str(n["title_it"], what + QStringLiteral(" title_it"));
    if (n["help"])
        f.help = str(n["help"], what + QStringLiteral(" help"));
    if (n["help_it"])
        f.helpIt = str(n["help_it"], what + QStringLiteral(" help_it"));
    if (n["placeholder"])
        f.placeholder = str(n["placeholder"], what + QStringLiteral(" placeholder"));
    if (n["planning"])
        f.planning = boolean(n["planning"], what + QStringLiteral(" planning"));
    if (n["default_field"])
        f.defaultField = str(n["default_field"], what + QStringLiteral(" default_field"));
    if (n["choices"]) {
        if (f.kind != Field::Kind::Ipv4)
            fail(n["choices"], what + QStringLiteral(": choices belong to an ipv4 field"));
        f.choices = parseFieldChoices(n["choices"], what);
    }
    return f;
}

// default_field: another field of the same kind, that has no default_field itself.
void checkDefaultField(const YAML::Node &fields, const Field &f, const QList<Field> &all)
{
    if (f.defaultField.isEmpty())
        return;
    for (const Field &g : all)
        if (g.id == f.defaultField && g.id != f.id && g.kind == f.kind && g.defaultField.isEmpty())
            return;
    fail(fields, QStringLiteral("field \"%1\": default_field \"%2\" is not another field of the same kind")
                     .arg(f.id, f.defaultField));
}

// texts: {<id>: {en: ..., it: ...}}: every language of the page, none missing.
QMap<QString, QMap<QString, QString>> parseTexts(const YAML::Node &node)
{
    static const QStringList languages = {QStringLiteral("en"), QStringLiteral("it")};
    if (!node.IsMap())
        fail(node, QStringLiteral("texts must be a map of ids to {en, it}"));
    QMap<QString, QMap<QString, QString>> texts;
    for (const auto &kv : node) {
        const QString id = str(kv.first, QStringLiteral("a text id"));
        static const QRegularExpression idRe(QStringLiteral("^[a-z][a-z0-9_.-]*$"));
        if (!idRe.match(id).hasMatch())
            fail(kv.first, QStringLiteral("text ids are lower-case letters, digits, '_', '-' and '.': ") + id);
        const QString what = QStringLiteral("text \"%1\"").arg(id);
        onlyKeys(kv.second, what, languages);
        for (const QString &lang : languages)
            texts[id][lang] = str(need(kv.second, lang.toLatin1().constData(), what), what + u' ' + lang);
    }
    return texts;
}

} // namespace

bool AppProfile::usesUserDomain() const
{
    for (const ConfigureInput &in : configure)
        if (in.source == u"cluster" && in.params.value(QStringLiteral("cluster")).toString() == u"user_domain")
            return true;
    return false;
}

namespace {

ConfigureInput parseConfigureInput(const QString &key, const YAML::Node &n, const AppProfile &p)
{
    const QString what = QStringLiteral("configure input \"%1\"").arg(key);
    if (!n.IsMap())
        fail(n, what + QStringLiteral(" must be a mapping"));
    static const QStringList sources = {QStringLiteral("field"), QStringLiteral("cluster"),
                                        QStringLiteral("esmith"), QStringLiteral("file"),
                                        QStringLiteral("exists"), QStringLiteral("ini"),
                                        QStringLiteral("const")};
    ConfigureInput in;
    in.key = key;
    for (const QString &s : sources)
        if (n[s.toStdString()]) {
            if (!in.source.isEmpty())
                fail(n, what + QStringLiteral(" has two sources: ") + in.source + u' ' + s);
            in.source = s;
        }
    if (in.source.isEmpty())
        fail(n, what + QStringLiteral(" needs one of: ") + sources.join(QStringLiteral(", ")));
    QStringList allowed = {in.source, QStringLiteral("optional"), QStringLiteral("secret")};
    if (in.source == u"esmith")
        allowed << QStringLiteral("key") << QStringLiteral("prop") << QStringLiteral("type");
    else if (in.source == u"exists")
        allowed << QStringLiteral("name");
    else if (in.source == u"ini")
        allowed << QStringLiteral("key");
    onlyKeys(n, what, allowed);
    for (const auto &kv : n) {
        const QString k = QString::fromStdString(kv.first.as<std::string>());
        if (k == u"optional" || k == u"secret" || k == u"type")
            in.params.insert(k, boolean(kv.second, what + u' ' + k));
        else
            in.params.insert(k, str(kv.second, what + u' ' + k));
    }
    if (in.source == u"field") {
        const QString f = in.params.value(QStringLiteral("field")).toString();
        bool found = false;
        for (const Field &fd : p.fields) {
            found = found || fd.id == f;
            if (fd.id == f && fd.planning)
                fail(n, what + QStringLiteral(" names a planning field, which is never sent to NS8: ") + f);
        }
        if (!found)
            fail(n, what + QStringLiteral(" names an unknown field: ") + f);
    } else if (in.source == u"esmith") {
        if (!in.params.contains(QStringLiteral("key")))
            fail(n, what + QStringLiteral(" needs \"key\""));
        if (in.params.contains(QStringLiteral("prop")) == in.params.value(QStringLiteral("type")).toBool())
            fail(n, what + QStringLiteral(" needs either \"prop\" or \"type: true\""));
    } else if (in.source == u"file" || in.source == u"ini") {
        if (!in.params.value(in.source).toString().startsWith(u'/'))
            fail(n, what + QStringLiteral(" needs an absolute path"));
    } else if (in.source == u"exists") {
        const QString kind = in.params.value(QStringLiteral("exists")).toString();
        if (kind != u"database" && kind != u"file")
            fail(n, what + QStringLiteral(" exists must be database or file"));
        if (!in.params.contains(QStringLiteral("name")))
            fail(n, what + QStringLiteral(" needs \"name\""));
    }
    return in;
}

SqliteDump parseSqlite(const YAML::Node &s, const AppProfile &p)
{
    onlyKeys(s, QStringLiteral("an sqlite dump"),
             {QStringLiteral("id"), QStringLiteral("title"), QStringLiteral("path"),
              QStringLiteral("table"), QStringLiteral("destination"),
              QStringLiteral("exclude_key_prefixes")});
    SqliteDump d;
    d.id = ident(need(s, "id", QStringLiteral("an sqlite dump")), QStringLiteral("sqlite id"));
    d.title = str(need(s, "title", QStringLiteral("an sqlite dump")), QStringLiteral("sqlite title"));
    d.path = absolutePath(need(s, "path", QStringLiteral("an sqlite dump")), QStringLiteral("sqlite path"));
    d.table = sqlName(need(s, "table", QStringLiteral("an sqlite dump")), QStringLiteral("sqlite table"));
    d.destination = relativePath(need(s, "destination", QStringLiteral("an sqlite dump")),
                                 QStringLiteral("sqlite destination"), p.volumes);
    // The dump is written with the database dumps, and NS8 hands that
    // folder to MariaDB's entrypoint, which runs every *.sh and *.sql*
    // in it: an SQLite dump named so would stop the import.
    if (QFileInfo(d.destination).path() + u'/' != p.dbDestination)
        fail(s["destination"], QStringLiteral("sqlite destination must be a file in the databases destination (%1)")
                                   .arg(p.dbDestination));
    static const QRegularExpression runByEntrypoint(QStringLiteral("\\.(sh|sql(\\.(gz|xz|zst))?)$"));
    if (runByEntrypoint.match(d.destination).hasMatch())
        fail(s["destination"], QStringLiteral("sqlite destination must not end in .sh or .sql: NS8 runs those "
                                              "files of the databases destination as MariaDB SQL"));
    if (s["exclude_key_prefixes"])
        d.excludeKeyPrefixes = strList(s["exclude_key_prefixes"], QStringLiteral("exclude_key_prefixes"));
    return d;
}

// An export: table.  The query is run as MariaDB's root: one SELECT, no
// statement separator, and the database one of databases: items.
ExportTable parseExport(const YAML::Node &e, const AppProfile &p)
{
    const QString what = QStringLiteral("an export table");
    onlyKeys(e, what, {QStringLiteral("id"), QStringLiteral("title"), QStringLiteral("title_it"),
                       QStringLiteral("database"), QStringLiteral("query"), QStringLiteral("secret")});
    ExportTable t;
    t.id = ident(need(e, "id", what), QStringLiteral("export id"));
    t.title = str(need(e, "title", what), QStringLiteral("export title"));
    t.titleIt = str(need(e, "title_it", what), QStringLiteral("export title_it"));
    t.database = sqlName(need(e, "database", what), QStringLiteral("export database"));
    bool known = false;
    for (const DatabaseItem &d : p.databases)
        known = known || d.name == t.database;
    if (!known)
        fail(e["database"], QStringLiteral("export database %1 is not one of databases: items").arg(t.database));
    t.query = str(need(e, "query", what), QStringLiteral("export query")).trimmed();
    if (!t.query.startsWith(QStringLiteral("SELECT "), Qt::CaseInsensitive) || t.query.contains(u';'))
        fail(e["query"], QStringLiteral("export query must be one SELECT statement, without ';'"));
    if (e["secret"])
        t.secretColumns = strList(e["secret"], QStringLiteral("export secret"));
    return t;
}

// detect: and ns8: (image, volumes, companions).
void parseNs8(const YAML::Node &root, AppProfile &p);

void parseDetectAndNs8(const YAML::Node &root, AppProfile &p)
{
    const YAML::Node detect = need(root, "detect", QStringLiteral("the profile"));
    onlyKeys(detect, QStringLiteral("detect"),
             {QStringLiteral("database"), QStringLiteral("key"), QStringLiteral("account_provider")});
    if (detect["account_provider"]) {
        p.detectProvider = str(detect["account_provider"], QStringLiteral("detect account_provider"));
        if (p.detectProvider != u"local_ldap" && p.detectProvider != u"local_ad")
            fail(detect, QStringLiteral("detect account_provider must be local_ldap or local_ad"));
        if (detect["database"] || detect["key"])
            fail(detect, QStringLiteral("detect: either account_provider or database and key"));
        return parseNs8(root, p);
    }
    p.detectDatabase = fileName(need(detect, "database", QStringLiteral("detect")), QStringLiteral("detect database"));
    p.detectKey = str(need(detect, "key", QStringLiteral("detect")), QStringLiteral("detect key"));
    parseNs8(root, p);
}

void parseNs8(const YAML::Node &root, AppProfile &p)
{

    const YAML::Node ns8 = need(root, "ns8", QStringLiteral("the profile"));
    onlyKeys(ns8, QStringLiteral("ns8"), {QStringLiteral("image"), QStringLiteral("volumes"),
                                          QStringLiteral("companions")});
    p.image = ident(need(ns8, "image", QStringLiteral("ns8")), QStringLiteral("ns8 image"));
    p.volumes = strList(need(ns8, "volumes", QStringLiteral("ns8")), QStringLiteral("ns8 volumes"));
    for (const QString &v : std::as_const(p.volumes))
        if (v.isEmpty() || v.contains(u'/') || v.startsWith(u'.'))
            fail(ns8["volumes"], QStringLiteral("volume names must be plain names: ") + v);
    if (ns8["companions"]) {
        if (!ns8["companions"].IsSequence())
            fail(ns8["companions"], QStringLiteral("ns8 companions must be a list"));
        for (const auto &c : ns8["companions"]) {
            onlyKeys(c, QStringLiteral("a companion"),
                     {QStringLiteral("image"), QStringLiteral("notice"), QStringLiteral("notice_it")});
            const QString image = ident(need(c, "image", QStringLiteral("a companion")), QStringLiteral("companion image"));
            const QString notice = c["notice"] ? str(c["notice"], QStringLiteral("companion notice")) : QString();
            p.companions.append({image, notice});
            // The notice is shown in App.Notices; clients translate it by notice.<image>.
            if (!notice.isEmpty())
                p.texts.insert(QStringLiteral("notice.") + image,
                               {{QStringLiteral("en"), notice},
                                {QStringLiteral("it"), str(need(c, "notice_it", QStringLiteral("a companion with a notice")),
                                                           QStringLiteral("companion notice_it"))}});
        }
    }
}

// owner: and transfers:.
void parseOwnerAndTransfers(const YAML::Node &root, AppProfile &p)
{
    // Without owner: the files keep the receiver's (no --chown).
    if (const YAML::Node owner = root["owner"]) {
        onlyKeys(owner, QStringLiteral("owner"), {QStringLiteral("uid"), QStringLiteral("gid")});
        p.ownerUid = integer(need(owner, "uid", QStringLiteral("owner")), QStringLiteral("owner uid"), 0, 65534);
        p.ownerGid = integer(need(owner, "gid", QStringLiteral("owner")), QStringLiteral("owner gid"), 0, 65534);
    }
    // An app whose data the helper generates (generate:) may copy nothing else.
    if (!root["transfers"] && root["generate"])
        return;
    const YAML::Node transfers = need(root, "transfers", QStringLiteral("the profile"));
    if (!transfers.IsSequence() || (transfers.size() == 0 && !root["generate"]))
        fail(transfers, QStringLiteral("transfers must be a non-empty list"));
    QSet<QString> ids;
    for (const auto &t : transfers) {
        p.transfers.append(parseTransfer(t, p));
        if (ids.contains(p.transfers.last().id))
            fail(t, QStringLiteral("transfer id used twice: ") + p.transfers.last().id);
        ids.insert(p.transfers.last().id);
    }
}

// services: what Finish stops, what it retires, and how NS7 governs each.
void parseServices(const YAML::Node &svc, AppProfile &p)
{
    onlyKeys(svc, QStringLiteral("services"), {QStringLiteral("quiesce"), QStringLiteral("retire"), QStringLiteral("governed")});
    static const QRegularExpression unit(QStringLiteral("^[A-Za-z0-9@_.-]{1,200}$"));
    if (svc["quiesce"])
        p.quiesceServices = strList(svc["quiesce"], QStringLiteral("services quiesce"));
    if (svc["retire"])
        p.retireServices = strList(svc["retire"], QStringLiteral("services retire"));
    for (const QString &u : p.quiesceServices + p.retireServices)
        if (!unit.match(u).hasMatch())
            fail(svc, QStringLiteral("not a unit name: ") + u);
    const YAML::Node governed = svc["governed"];
    if (governed && !governed.IsMap())
        fail(governed, QStringLiteral("services governed must map each service to \"record\" or \"unit\""));
    QSet<QString> named;
    if (governed) {
        for (const auto &kv : governed) {
            const QString name = QString::fromStdString(kv.first.as<std::string>());
            const QString how = kv.second.IsScalar() ? QString::fromStdString(kv.second.as<std::string>()) : QString();
            if (how != u"record" && how != u"unit")
                fail(kv.second, QStringLiteral("services governed: %1 must be \"record\" or \"unit\"").arg(name));
            named.insert(name);
            if (how == u"record")
                p.recordServices.insert(name);
        }
    }
    for (const QString &u : p.quiesceServices + p.retireServices)
        if (!named.contains(u))
            fail(svc, QStringLiteral("services governed does not say how NS7 governs %1 (record or unit)").arg(u));
}

// databases:, sqlite: and services:.
void parseData(const YAML::Node &root, AppProfile &p)
{
    if (const YAML::Node dbs = root["databases"]) {
        onlyKeys(dbs, QStringLiteral("databases"), {QStringLiteral("credentials"),
                                                    QStringLiteral("destination"), QStringLiteral("items")});
        p.dbCredentials = absolutePath(need(dbs, "credentials", QStringLiteral("databases")),
                                       QStringLiteral("databases credentials"));
        p.dbDestination = relativePath(need(dbs, "destination", QStringLiteral("databases")),
                                       QStringLiteral("databases destination"), p.volumes);
        const YAML::Node items = need(dbs, "items", QStringLiteral("databases"));
        if (!items.IsSequence())
            fail(items, QStringLiteral("databases items must be a list"));
        QSet<QString> names;
        for (const auto &d : items) {
            p.databases.append(parseDatabase(d, p));
            if (names.contains(p.databases.last().name))
                fail(d, QStringLiteral("database listed twice: ") + p.databases.last().name);
            names.insert(p.databases.last().name);
        }
    }

    if (const YAML::Node sq = root["sqlite"]) {
        if (!sq.IsSequence())
            fail(sq, QStringLiteral("sqlite must be a list"));
        for (const auto &s : sq)
            p.sqlite.append(parseSqlite(s, p));
    }

    if (const YAML::Node svc = root["services"])
        parseServices(svc, p);

    if (const YAML::Node ex = root["export"]) {
        if (!ex.IsSequence())
            fail(ex, QStringLiteral("export must be a list"));
        QSet<QString> ids;
        for (const auto &e : ex) {
            p.exports.append(parseExport(e, p));
            if (ids.contains(p.exports.last().id))
                fail(e, QStringLiteral("export id used twice: ") + p.exports.last().id);
            ids.insert(p.exports.last().id);
        }
    }
}

// texts:, the transfers' titles as texts, and fields:.
void parseTextsAndFields(const YAML::Node &root, AppProfile &p)
{
    if (root["texts"]) {
        const auto texts = parseTexts(root["texts"]);
        for (auto it = texts.constBegin(); it != texts.constEnd(); ++it)
            p.texts.insert(it.key(), it.value());
    }
    // A transfer's title is a job step's: clients translate it by step.<id>.
    for (const Transfer &t : std::as_const(p.transfers))
        p.texts.insert(QStringLiteral("step.") + t.id, {{QStringLiteral("en"), t.title}, {QStringLiteral("it"), t.titleIt}});
    // An export table's title is a section's of the export (export.<id>).
    for (const ExportTable &t : std::as_const(p.exports))
        p.texts.insert(QStringLiteral("export.") + t.id, {{QStringLiteral("en"), t.title}, {QStringLiteral("it"), t.titleIt}});
    if (const YAML::Node fields = root["fields"]) {
        if (!fields.IsSequence())
            fail(fields, QStringLiteral("fields must be a list"));
        for (const auto &f : fields)
            p.fields.append(parseField(f));
        for (const Field &f : std::as_const(p.fields))
            for (const QString &other : f.distinctFrom) {
                bool found = false;
                for (const Field &g : std::as_const(p.fields))
                    found = found || (g.id == other && g.id != f.id);
                if (!found)
                    fail(fields, QStringLiteral("field \"%1\" is distinct from an unknown field \"%2\"").arg(f.id, other));
            }
        for (const Field &f : std::as_const(p.fields))
            checkDefaultField(fields, f, p.fields);
    }
}

// configure: and redirect:.
void parseConfigureAndRedirect(const YAML::Node &root, AppProfile &p)
{
    if (const YAML::Node conf = root["configure"]) {
        onlyKeys(conf, QStringLiteral("configure"), {QStringLiteral("action"), QStringLiteral("schema"),
                                                     QStringLiteral("input")});
        p.configureAction = ident(need(conf, "action", QStringLiteral("configure")), QStringLiteral("configure action"));
        p.configureSchema = str(need(conf, "schema", QStringLiteral("configure")), QStringLiteral("configure schema"));
        if (p.configureSchema.startsWith(u'/') || hasDotDot(p.configureSchema))
            fail(conf["schema"], QStringLiteral("configure schema must be a relative path"));
        const YAML::Node input = need(conf, "input", QStringLiteral("configure"));
        if (!input.IsMap())
            fail(input, QStringLiteral("configure input must be a mapping"));
        for (const auto &kv : input)
            p.configure.append(parseConfigureInput(QString::fromStdString(kv.first.as<std::string>()),
                                                   kv.second, p));
    }

    if (const YAML::Node red = root["redirect"]) {
        onlyKeys(red, QStringLiteral("redirect"), {QStringLiteral("page"), QStringLiteral("paths")});
        p.redirectPage = absolutePath(need(red, "page", QStringLiteral("redirect")), QStringLiteral("redirect page"));
        p.redirectPaths = strList(need(red, "paths", QStringLiteral("redirect")), QStringLiteral("redirect paths"));
        // Both go into an e-smith record and a web server directive as they are.
        static const QRegularExpression urlPath(QStringLiteral("^/[A-Za-z0-9._~/-]*$"));
        for (const QString &path : p.redirectPaths + QStringList{p.redirectPage})
            if (!urlPath.match(path).hasMatch())
                fail(red, QStringLiteral("redirect: %1 must be a path of letters, digits and . _ ~ / -").arg(path));
    }
}

QHash<QByteArray, QSet<QByteArray>> parseLdifSchema(const YAML::Node &n, const QString &what)
{
    if (!n.IsMap() || n.size() == 0)
        fail(n, what + QStringLiteral(" must map each object class kept to the attributes it allows"));
    QHash<QByteArray, QSet<QByteArray>> schema;
    for (const auto &kv : n) {
        const QString cls = QString::fromStdString(kv.first.as<std::string>());
        QSet<QByteArray> attributes;
        for (const QString &a : strList(kv.second, what + u' ' + cls))
            attributes.insert(a.toLower().toUtf8());
        schema.insert(cls.toLower().toUtf8(), attributes);
    }
    return schema;
}

// esmith: {key: <record>, prop: <property>, before: <text>}: a property
// of NS7's configuration DB, optionally cut at BEFORE.
void parseEnvEsmith(const YAML::Node &n, const QString &what, EnvValue *v)
{
    if (!n.IsMap())
        fail(n, what + QStringLiteral(" esmith must be a mapping of key, prop and before"));
    onlyKeys(n, what, {QStringLiteral("key"), QStringLiteral("prop"), QStringLiteral("before")});
    v->param = str(need(n, "key", what), what + QStringLiteral(" key"));
    v->prop = str(need(n, "prop", what), what + QStringLiteral(" prop"));
    if (n["before"])
        v->before = str(n["before"], what + QStringLiteral(" before"));
}

QList<EnvValue> parseEnvValues(const YAML::Node &n, const QString &what)
{
    static const QRegularExpression name(QStringLiteral("^[A-Z_][A-Z0-9_]{0,63}$"));
    if (!n.IsMap() || n.size() == 0)
        fail(n, what + QStringLiteral(" values must be a mapping of variables"));
    QList<EnvValue> values;
    for (const auto &kv : n) {
        EnvValue v;
        v.name = QString::fromStdString(kv.first.as<std::string>());
        if (!name.match(v.name).hasMatch())
            fail(kv.first, what + QStringLiteral(": not a variable name: ") + v.name);
        const QString vw = what + u' ' + v.name;
        onlyKeys(kv.second, vw,
                 {QStringLiteral("const"), QStringLiteral("file"), QStringLiteral("cluster"), QStringLiteral("esmith"),
                  QStringLiteral("field")});
        if (kv.second.size() != 1)
            fail(kv.second, vw + QStringLiteral(" needs one of: const, file, cluster, esmith, field"));
        const auto source = kv.second.begin();
        v.source = QString::fromStdString(source->first.as<std::string>());
        if (v.source == u"esmith") {
            parseEnvEsmith(source->second, vw, &v);
            values.append(v);
            continue;
        }
        v.param = v.source == u"file" ? absolutePath(source->second, vw) : str(source->second, vw);
        if (v.source == u"cluster" && v.param != u"user_domain" && v.param != u"user_domain_suffix")
            fail(source->second, vw + QStringLiteral(" cluster must be user_domain or user_domain_suffix"));
        values.append(v);
    }
    return values;
}

GeneratedFile parseGeneratedFile(const YAML::Node &n, const AppProfile &p)
{
    const QString what = QStringLiteral("a generated file");
    onlyKeys(n, what, {QStringLiteral("id"), QStringLiteral("title"), QStringLiteral("title_it"),
                       QStringLiteral("exporter"), QStringLiteral("destination"), QStringLiteral("slapd_config"),
                       QStringLiteral("database"), QStringLiteral("suffix"), QStringLiteral("schema"),
                       QStringLiteral("values"), QStringLiteral("source"), QStringLiteral("skip"),
                       QStringLiteral("unlocked")});
    GeneratedFile g;
    g.id = ident(need(n, "id", what), QStringLiteral("generate id"));
    g.title = str(need(n, "title", what), QStringLiteral("generate title"));
    g.titleIt = str(need(n, "title_it", what), QStringLiteral("generate title_it"));
    g.exporter = str(need(n, "exporter", what), QStringLiteral("generate exporter"));
    g.destination = relativePath(need(n, "destination", what), QStringLiteral("generate destination"), p.volumes);
    const bool folder = g.exporter == u"samba";
    if (folder ? !g.destination.endsWith(u'/') : (g.destination.endsWith(u'/') || !g.destination.contains(u'/')))
        fail(n["destination"], folder ? QStringLiteral("generate destination of the samba exporter must be a folder "
                                                       "(ending with '/'): ") + g.destination
                                      : QStringLiteral("generate destination must name a file in a folder: ") + g.destination);
    const QString w = what + QStringLiteral(" \"") + g.id + u'"';
    for (const char *k : {"source", "skip", "unlocked"})
        if (n[k] && !folder)
            fail(n[k], w + QStringLiteral(": %1 belongs to the samba exporter").arg(QLatin1String(k)));
    if (g.exporter == u"ldif") {
        g.slapdConfig = absolutePath(need(n, "slapd_config", w), w + QStringLiteral(" slapd_config"));
        g.database = integer(need(n, "database", w), w + QStringLiteral(" database"), 0, 99);
        g.suffix = str(need(n, "suffix", w), w + QStringLiteral(" suffix"));
        g.schema = parseLdifSchema(need(n, "schema", w), w + QStringLiteral(" schema"));
        if (n["values"])
            fail(n["values"], w + QStringLiteral(": values belong to the env exporter"));
    } else if (g.exporter == u"env") {
        g.values = parseEnvValues(need(n, "values", w), w);
        for (const char *k : {"slapd_config", "database", "suffix", "schema"})
            if (n[k])
                fail(n[k], w + QStringLiteral(": %1 belongs to the ldif exporter").arg(QLatin1String(k)));
    } else if (folder) {
        g.source = absolutePath(need(n, "source", w), w + QStringLiteral(" source"));
        if (n["skip"])
            g.skip = strList(n["skip"], w + QStringLiteral(" skip"));
        if (n["unlocked"])
            g.unlocked = strList(n["unlocked"], w + QStringLiteral(" unlocked"));
        for (const char *k : {"slapd_config", "database", "suffix", "schema", "values"})
            if (n[k])
                fail(n[k], w + QStringLiteral(": %1 does not belong to the samba exporter").arg(QLatin1String(k)));
    } else {
        fail(n["exporter"], w + QStringLiteral(" exporter must be ldif, env or samba"));
    }
    return g;
}

bool hasField(const AppProfile &p, const QString &id)
{
    for (const Field &f : p.fields)
        if (f.id == id)
            return true;
    return false;
}

// order:, generate: and before_terminate:.
void parseOrderAndGenerated(const YAML::Node &root, AppProfile &p)
{
    if (const YAML::Node order = root["order"]) {
        if (str(order, QStringLiteral("order")) != u"last")
            fail(order, QStringLiteral("order can only be \"last\""));
        p.last = true;
    }
    if (const YAML::Node gen = root["generate"]) {
        if (!gen.IsSequence() || gen.size() == 0)
            fail(gen, QStringLiteral("generate must be a non-empty list"));
        QSet<QString> ids, destinations;
        for (const Transfer &t : std::as_const(p.transfers))
            ids.insert(t.id);
        for (const auto &g : gen) {
            p.generated.append(parseGeneratedFile(g, p));
            const GeneratedFile &f = p.generated.last();
            for (const EnvValue &v : f.values)
                if (v.source == u"field" && !hasField(p, v.param))
                    fail(g, QStringLiteral("generate \"%1\": %2 names an unknown field \"%3\"").arg(f.id, v.name, v.param));
            if (ids.contains(f.id) || destinations.contains(f.destination))
                fail(g, QStringLiteral("generate: id or destination used twice: ") + f.id);
            ids.insert(f.id);
            destinations.insert(f.destination);
            p.texts.insert(QStringLiteral("step.") + f.id, {{QStringLiteral("en"), f.title}, {QStringLiteral("it"), f.titleIt}});
        }
    }
    if (const YAML::Node stays = root["stays_on_ns7"]) {
        p.staysOnNs7 = strList(stays, QStringLiteral("stays_on_ns7"));
        for (const QString &id : std::as_const(p.staysOnNs7))
            if (!isValidAppId(id))
                fail(stays, QStringLiteral("stays_on_ns7 must list catalog app ids: ") + id);
    }
    if (const YAML::Node bt = root["before_terminate"]) {
        p.beforeTerminate = strList(bt, QStringLiteral("before_terminate"));
        for (const QString &b : std::as_const(p.beforeTerminate))
            if (b != u"remove_temporary_domain")
                fail(bt, QStringLiteral("before_terminate can only list remove_temporary_domain: ") + b);
    }
}

AppProfile parseRoot(const YAML::Node &root, const QString &file)
{
    onlyKeys(root, QStringLiteral("the profile"),
             {QStringLiteral("format"), QStringLiteral("id"), QStringLiteral("name"),
              QStringLiteral("description"), QStringLiteral("detect"), QStringLiteral("ns8"),
              QStringLiteral("owner"), QStringLiteral("transfers"), QStringLiteral("databases"),
              QStringLiteral("sqlite"), QStringLiteral("services"), QStringLiteral("export"), QStringLiteral("fields"),
              QStringLiteral("configure"), QStringLiteral("redirect"), QStringLiteral("texts"),
              QStringLiteral("order"), QStringLiteral("generate"), QStringLiteral("before_terminate"),
              QStringLiteral("stays_on_ns7")});
    if (integer(need(root, "format", QStringLiteral("the profile")), QStringLiteral("format"), 1, 1) != 1)
        fail(root, QStringLiteral("unsupported format"));
    AppProfile p;
    p.file = file;
    p.id = str(need(root, "id", QStringLiteral("the profile")), QStringLiteral("id"));
    if (!isValidAppId(p.id))
        fail(root["id"], QStringLiteral("id must be lower-case letters, digits and '_', starting with a letter: ") + p.id);
    p.name = str(need(root, "name", QStringLiteral("the profile")), QStringLiteral("name"));
    if (root["description"])
        p.description = str(root["description"], QStringLiteral("description"));

    parseDetectAndNs8(root, p);
    parseOwnerAndTransfers(root, p);
    parseData(root, p);
    parseTextsAndFields(root, p);
    parseConfigureAndRedirect(root, p);
    parseOrderAndGenerated(root, p);
    return p;
}

} // namespace

bool isValidAppId(const QString &id)
{
    static const QRegularExpression re(QStringLiteral("^[a-z][a-z0-9_]{0,31}$"));
    return re.match(id).hasMatch();
}

std::optional<AppProfile> AppProfile::parse(const QByteArray &yaml, const QString &file,
                                            QString *error)
{
    try {
        const YAML::Node root = YAML::Load(yaml.toStdString());
        return parseRoot(root, file);
    } catch (const ProfileError &e) {
        *error = QStringLiteral("%1: %2").arg(file, QString::fromStdString(e.what()));
    } catch (const YAML::Exception &e) {
        *error = QStringLiteral("%1: line %2: %3")
                     .arg(file)
                     .arg(e.mark.line + 1)
                     .arg(QString::fromStdString(e.msg));
    }
    return std::nullopt;
}

std::optional<AppProfile> AppProfile::load(const QString &path, QString *error)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) {
        *error = QStringLiteral("%1: %2").arg(path, f.errorString());
        return std::nullopt;
    }
    return parse(f.readAll(), path, error);
}

QList<AppProfile> AppProfile::loadDirectory(const QString &dir, QStringList *errors)
{
    QList<AppProfile> out;
    const QDir d(dir);
    const QStringList files = d.entryList({QStringLiteral("*.yaml")}, QDir::Files, QDir::Name);
    QSet<QString> ids;
    for (const QString &name : files) {
        QString error;
        auto p = load(d.filePath(name), &error);
        if (!p) {
            errors->append(error);
            continue;
        }
        if (ids.contains(p->id)) {
            errors->append(QStringLiteral("%1: app id \"%2\" is already used by another profile")
                               .arg(d.filePath(name), p->id));
            continue;
        }
        ids.insert(p->id);
        out.append(*p);
    }
    return out;
}

} // namespace ns8m

// ------------------------------------------------------------ the catalog

namespace ns8m {

namespace {

LangTexts langTexts(const YAML::Node &node, const QString &what)
{
    onlyKeys(node, what, {QStringLiteral("en"), QStringLiteral("it")});
    return {{QStringLiteral("en"), str(need(node, "en", what), what + QStringLiteral(" en"))},
            {QStringLiteral("it"), str(need(node, "it", what), what + QStringLiteral(" it"))}};
}

LangTexts catalogNames(const YAML::Node &n, const QString &name, const QString &what)
{
    return {{QStringLiteral("en"), name},
            {QStringLiteral("it"), n["name_it"] ? str(n["name_it"], what + QStringLiteral(" name_it")) : name}};
}

CatalogApp parseCatalogApp(const YAML::Node &n)
{
    CatalogApp a;
    a.id = str(need(n, "id", QStringLiteral("catalog app")), QStringLiteral("catalog app id"));
    const QString what = QStringLiteral("catalog app \"%1\"").arg(a.id);
    onlyKeys(n, what, {QStringLiteral("id"), QStringLiteral("name"), QStringLiteral("name_it"), QStringLiteral("detect"),
                       QStringLiteral("available"), QStringLiteral("reason")});
    if (!isValidAppId(a.id))
        fail(n, what + QStringLiteral(": the id must be lower-case letters, digits and _"));
    a.name = str(need(n, "name", what), what + QStringLiteral(" name"));
    a.names = catalogNames(n, a.name, what);
    const YAML::Node d = need(n, "detect", what);
    onlyKeys(d, what + QStringLiteral(" detect"), {QStringLiteral("database"), QStringLiteral("key"), QStringLiteral("path")});
    if (d["path"])
        a.detectPath = absolutePath(d["path"], what + QStringLiteral(" detect path"));
    else {
        a.detectDatabase = str(need(d, "database", what + QStringLiteral(" detect")), what + QStringLiteral(" database"));
        a.detectKey = str(need(d, "key", what + QStringLiteral(" detect")), what + QStringLiteral(" key"));
    }
    if (const YAML::Node av = n["available"]) {
        onlyKeys(av, what + QStringLiteral(" available"), {QStringLiteral("status"), QStringLiteral("props")});
        if (a.detectKey.isEmpty())
            fail(av, what + QStringLiteral(": available needs a detect by database record"));
        a.checkAvailable = true;
        if (av["status"])
            a.availableStatus = str(av["status"], what + QStringLiteral(" available status"));
        if (av["props"])
            a.availableProps = strList(av["props"], what + QStringLiteral(" available props"));
    }
    a.reason = langTexts(need(n, "reason", what), what + QStringLiteral(" reason"));
    return a;
}

Catalog parseCatalog(const YAML::Node &root)
{
    onlyKeys(root, QStringLiteral("the catalog"), {QStringLiteral("format"), QStringLiteral("apps"), QStringLiteral("providers")});
    if (integer(need(root, "format", QStringLiteral("the catalog")), QStringLiteral("format"), 1, 1) != 1)
        fail(root, QStringLiteral("unknown format"));
    Catalog c;
    QStringList ids;
    if (const YAML::Node apps = root["apps"]) {
        if (!apps.IsSequence())
            fail(apps, QStringLiteral("apps must be a list"));
        for (const auto &n : apps) {
            c.apps.append(parseCatalogApp(n));
            if (ids.contains(c.apps.last().id))
                fail(n, QStringLiteral("catalog app \"%1\" is listed twice").arg(c.apps.last().id));
            ids.append(c.apps.last().id);
        }
    }
    static const QStringList kinds = {QStringLiteral("local_ldap"), QStringLiteral("local_ad"), QStringLiteral("remote_ldap"),
                                      QStringLiteral("remote_ad")};
    if (const YAML::Node providers = root["providers"]) {
        onlyKeys(providers, QStringLiteral("providers"), kinds);
        for (const auto &kv : providers) {
            const QString kind = QString::fromStdString(kv.first.as<std::string>());
            const QString what = QStringLiteral("provider \"%1\"").arg(kind);
            onlyKeys(kv.second, what, {QStringLiteral("name"), QStringLiteral("name_it"), QStringLiteral("status"),
                                       QStringLiteral("reason")});
            CatalogProvider p;
            p.name = str(need(kv.second, "name", what), what + QStringLiteral(" name"));
            p.names = catalogNames(kv.second, p.name, what);
            p.status = str(need(kv.second, "status", what), what + QStringLiteral(" status"));
            if (p.status != u"unsupported" && p.status != u"kept")
                fail(kv.second, what + QStringLiteral(": status must be unsupported or kept"));
            p.reason = langTexts(need(kv.second, "reason", what), what + QStringLiteral(" reason"));
            c.providers.insert(kind, p);
        }
    }
    return c;
}

} // namespace

std::optional<Catalog> Catalog::parse(const QByteArray &yaml, const QString &file, QString *error)
{
    try {
        return parseCatalog(YAML::Load(yaml.toStdString()));
    } catch (const ProfileError &e) {
        *error = QStringLiteral("%1: %2").arg(file, QString::fromStdString(e.what()));
    } catch (const YAML::Exception &e) {
        *error = QStringLiteral("%1: line %2: %3").arg(file).arg(e.mark.line + 1).arg(QString::fromStdString(e.msg));
    }
    return std::nullopt;
}

std::optional<Catalog> Catalog::load(const QString &path, QString *error)
{
    QFile f(path);
    if (!f.exists())
        return Catalog{};
    if (!f.open(QIODevice::ReadOnly)) {
        *error = QStringLiteral("%1: %2").arg(path, f.errorString());
        return std::nullopt;
    }
    return parse(f.readAll(), path, error);
}

} // namespace ns8m
