#include "core/commands.h"

namespace ns8m::commands {

QStringList getentAhosts(const QString &host)
{
    return {QStringLiteral("getent"), QStringLiteral("ahosts"), host};
}

QStringList ipLinkShow(const QString &dev)
{
    return {QStringLiteral("ip"), QStringLiteral("link"), QStringLiteral("show"), QStringLiteral("dev"), dev};
}

QStringList ipLinkAddWireguard(const QString &dev)
{
    return {QStringLiteral("ip"),  QStringLiteral("link"), QStringLiteral("add"),      QStringLiteral("dev"),
            dev,                   QStringLiteral("type"), QStringLiteral("wireguard")};
}

QStringList ipLinkDel(const QString &dev)
{
    return {QStringLiteral("ip"), QStringLiteral("link"), QStringLiteral("del"), QStringLiteral("dev"), dev};
}

QStringList ipAddressReplace(const QString &address, const QString &dev)
{
    return {QStringLiteral("ip"), QStringLiteral("address"), QStringLiteral("replace"), address,
            QStringLiteral("dev"), dev};
}

QStringList ipLinkSetMtuUp(const QString &dev, int mtu)
{
    return {QStringLiteral("ip"),  QStringLiteral("link"), QStringLiteral("set"), QStringLiteral("dev"),
            dev,                   QStringLiteral("mtu"),  QString::number(mtu),  QStringLiteral("up")};
}

QStringList ipRouteReplace(const QString &prefix, const QString &dev, const QString &source)
{
    return {QStringLiteral("ip"),  QStringLiteral("route"), QStringLiteral("replace"), prefix,
            QStringLiteral("dev"), dev,                     QStringLiteral("src"),     source};
}

QStringList wgSetPeer(const QString &dev, const QString &privateKeyFile, const QString &peerPublicKey,
                      const QString &endpoint, const QString &allowedIps, int keepaliveSeconds)
{
    return {QStringLiteral("wg"),
            QStringLiteral("set"),
            dev,
            QStringLiteral("private-key"),
            privateKeyFile,
            QStringLiteral("peer"),
            peerPublicKey,
            QStringLiteral("endpoint"),
            endpoint,
            QStringLiteral("allowed-ips"),
            allowedIps,
            QStringLiteral("persistent-keepalive"),
            QString::number(keepaliveSeconds)};
}

QStringList wgShowLatestHandshakes(const QString &dev)
{
    return {QStringLiteral("wg"), QStringLiteral("show"), dev, QStringLiteral("latest-handshakes")};
}

QStringList wireguardGo(const QString &dev)
{
    return {QStringLiteral("wireguard-go"), dev};
}

QStringList mysqlQuery(const QString &defaultsFile, const QString &sql)
{
    return {QStringLiteral("mysql"), QStringLiteral("--defaults-file=") + defaultsFile, QStringLiteral("-N"),
            QStringLiteral("-B"), QStringLiteral("-e"), sql};
}

QStringList mysqlScript(const QString &defaultsFile, const QString &scriptPath)
{
    return mysqlQuery(defaultsFile, QStringLiteral("source ") + scriptPath);
}

QStringList mysqldumpBase(const QString &defaultsFile)
{
    return {QStringLiteral("mysqldump"), QStringLiteral("--defaults-file=") + defaultsFile,
            QStringLiteral("--single-transaction"), QStringLiteral("--hex-blob"),
            QStringLiteral("--default-character-set=utf8mb4")};
}

QStringList mysqldumpSchema(const QString &defaultsFile, const QString &database)
{
    return mysqldumpBase(defaultsFile) << QStringLiteral("--no-data") << QStringLiteral("--add-drop-database")
                                       << QStringLiteral("--databases") << database;
}

QStringList mysqldumpData(const QString &defaultsFile, const QString &database, const QStringList &ignoreTables)
{
    QStringList a = mysqldumpBase(defaultsFile);
    a << QStringLiteral("--no-create-info") << QStringLiteral("--skip-triggers") << QStringLiteral("--no-create-db");
    for (const QString &t : ignoreTables)
        a << QStringLiteral("--ignore-table=%1.%2").arg(database, t);
    a << QStringLiteral("--databases") << database;
    return a;
}

QStringList mysqldumpTableRows(const QString &defaultsFile, const QString &database, const QString &table,
                               const QString &where)
{
    QStringList a = mysqldumpBase(defaultsFile);
    a << QStringLiteral("--no-create-info") << QStringLiteral("--skip-triggers");
    if (!where.isEmpty())
        a << QStringLiteral("--where=") + where;
    a << database << table;
    return a;
}

namespace {

QString esmithTool(const QString &root, const char *tool)
{
    QString r = root;
    while (r.endsWith(u'/'))
        r.chop(1);
    return r + QStringLiteral("/sbin/e-smith/") + QLatin1String(tool);
}

} // namespace

QStringList esmithSetprop(const QString &root, const QString &db, const QString &key, const QStringList &propValues)
{
    return QStringList{esmithTool(root, "db"), db, QStringLiteral("setprop"), key} + propValues;
}

QStringList esmithSet(const QString &root, const QString &db, const QString &key, const QString &type,
                      const QStringList &propValues)
{
    return QStringList{esmithTool(root, "db"), db, QStringLiteral("set"), key, type} + propValues;
}

QStringList signalEvent(const QString &root, const QString &event)
{
    return {esmithTool(root, "signal-event"), event};
}

QStringList expandTemplate(const QString &root, const QString &path)
{
    return {esmithTool(root, "expand-template"), path};
}

QStringList rsync(const QStringList &options, const QStringList &sources, const QString &destination)
{
    QStringList a {QStringLiteral("rsync")};
    a += options;
    a += sources;
    a.append(destination);
    return a;
}

QStringList rsyncCopyOptions(int timeoutSeconds, int connectTimeoutSeconds)
{
    return {QStringLiteral("-a"), QStringLiteral("--numeric-ids"), QStringLiteral("--no-inc-recursive"),
            QStringLiteral("--info=progress2,stats2"), QStringLiteral("--timeout=%1").arg(timeoutSeconds),
            QStringLiteral("--contimeout=%1").arg(connectTimeoutSeconds)};
}

QStringList rsyncFoldersOptions(int timeoutSeconds, int connectTimeoutSeconds)
{
    return {QStringLiteral("-r"), QStringLiteral("--info=progress2,stats2"),
            QStringLiteral("--timeout=%1").arg(timeoutSeconds),
            QStringLiteral("--contimeout=%1").arg(connectTimeoutSeconds)};
}

QStringList rsyncDryRunOptions(const QStringList &options, bool checksum, const QString &filesFrom)
{
    QStringList a;
    for (const QString &o : options)
        if (o != QLatin1String("--delete"))
            a.append(o);
    a << QStringLiteral("--dry-run") << QStringLiteral("--itemize-changes");
    if (checksum)
        a << QStringLiteral("--checksum");
    if (filesFrom.isEmpty())
        a << QStringLiteral("--delete");
    else
        a << QStringLiteral("--files-from=") + filesFrom << QStringLiteral("--from0");
    return a;
}

QStringList rsyncChangeSetOptions(const QStringList &options, const QString &list)
{
    QStringList a;
    for (const QString &o : options)
        if (o != QLatin1String("--delete"))
            a.append(o);
    // Every listed file is sent: one rewritten with its size and mtime kept
    // is listed because its ctime changed, which the quick check ignores.
    a << QStringLiteral("--files-from=") + list << QStringLiteral("--from0") << QStringLiteral("--ignore-times");
    if (options.contains(QStringLiteral("--delete")))
        a << QStringLiteral("--delete-missing-args") << QStringLiteral("--force");
    else
        a << QStringLiteral("--ignore-missing-args");
    return a;
}

QStringList rsyncChangeSetDryRunOptions(const QStringList &options, const QString &list)
{
    QStringList a = rsyncChangeSetOptions(options, list);
    a.removeAll(QStringLiteral("--ignore-times"));
    a << QStringLiteral("--dry-run") << QStringLiteral("--itemize-changes") << QStringLiteral("--checksum");
    return a;
}

QStringList rsyncExcludePatterns(const QStringList &options)
{
    QStringList patterns;
    const QLatin1String flag("--exclude=");
    for (const QString &o : options)
        if (o.startsWith(flag))
            patterns.append(o.mid(flag.size()));
    return patterns;
}

QStringList rsyncIncremental(const QStringList &options)
{
    QStringList a = options;
    a.removeAll(QStringLiteral("--no-inc-recursive"));
    return a;
}

bool rsyncDeletes(const QStringList &options)
{
    return options.contains(QStringLiteral("--delete"));
}

QStringList rsyncList(const QString &url, int timeoutSeconds, int connectTimeoutSeconds)
{
    return {QStringLiteral("rsync"), QStringLiteral("--list-only"), QStringLiteral("-r"),
            QStringLiteral("--contimeout=%1").arg(connectTimeoutSeconds),
            QStringLiteral("--timeout=%1").arg(timeoutSeconds), url};
}

QStringList rsyncRead(const QString &url, int timeoutSeconds, int connectTimeoutSeconds)
{
    return {QStringLiteral("rsync"), QStringLiteral("--contimeout=%1").arg(connectTimeoutSeconds),
            QStringLiteral("--timeout=%1").arg(timeoutSeconds), url};
}

QStringList slapcat(const QString &configDir, int database)
{
    return {QStringLiteral("slapcat"), QStringLiteral("-F"), configDir, QStringLiteral("-n"), QString::number(database),
            QStringLiteral("-o"), QStringLiteral("ldif-wrap=no")};
}

QStringList tdbbackup(const QStringList &files, bool noLock)
{
    QStringList argv{QStringLiteral("tdbbackup")};
    if (noLock)
        argv << QStringLiteral("-l");
    return argv << QStringLiteral("-s") << QStringLiteral(".export") << files;
}

} // namespace ns8m::commands
