// Every command line the helper runs, as an argument vector (argv[0] is the
// program), built in one place: helper/tests/test_commands.cpp checks each
// option of each of them against what the program accepts at its NethServer 7
// version (helper/tests/ns7-command-options.txt; docs/platforms.md).
//
// No builder takes a secret: passwords reach mysql and mysqldump through an
// option file (--defaults-file) and rsync through RSYNC_PASSWORD, never argv,
// which any user can read in /proc.
#pragma once

#include <QString>
#include <QStringList>

namespace ns8m::commands {

// ------------------------------------------------------------- getent(1)

// `getent ahosts HOST`: HOST's addresses as the resolver (nsswitch) gives them.
QStringList getentAhosts(const QString &host);

// --------------------------------------------------------------- ip(8)

// `ip link show dev DEV`: succeeds when the interface exists.
QStringList ipLinkShow(const QString &dev);
// `ip link add dev DEV type wireguard`: a kernel WireGuard interface.
QStringList ipLinkAddWireguard(const QString &dev);
// `ip link del dev DEV`.
QStringList ipLinkDel(const QString &dev);
// `ip address replace ADDRESS dev DEV` (ADDRESS with its prefix, "10.5.4.3/32").
QStringList ipAddressReplace(const QString &address, const QString &dev);
// `ip link set dev DEV mtu MTU up`.
QStringList ipLinkSetMtuUp(const QString &dev, int mtu);
// `ip route replace PREFIX dev DEV src SOURCE`.
QStringList ipRouteReplace(const QString &prefix, const QString &dev, const QString &source);

// ----------------------------------------------------- WireGuard: wg(8)

// `wg set DEV private-key FILE peer KEY endpoint HOST:PORT allowed-ips IPS
// persistent-keepalive SECONDS`: the private key is read from FILE.
QStringList wgSetPeer(const QString &dev, const QString &privateKeyFile, const QString &peerPublicKey,
                      const QString &endpoint, const QString &allowedIps, int keepaliveSeconds);
// `wg show DEV latest-handshakes`.
QStringList wgShowLatestHandshakes(const QString &dev);
// `wireguard-go DEV`: the userspace implementation (tests, and hosts without
// the kernel module).
QStringList wireguardGo(const QString &dev);

// --------------------------------------------------- MariaDB client tools

// `mysql --defaults-file=FILE -N -B -e SQL`: rows without header, tab-separated.
QStringList mysqlQuery(const QString &defaultsFile, const QString &sql);
// `mysql --defaults-file=FILE -N -B -e "source SCRIPT"`: the statements of
// the file SCRIPT in one session, for SQL too long for one argument (Linux
// caps one at 128 KiB); stops at the first statement that fails.
QStringList mysqlScript(const QString &defaultsFile, const QString &scriptPath);
// What every mysqldump of the helper starts with: the option file (first, as
// the client tools require), one consistent snapshot of InnoDB tables without
// locking out the PBX, binary columns intact, utf8mb4.
QStringList mysqldumpBase(const QString &defaultsFile);
// The structure of DATABASE: CREATE DATABASE (after a DROP) and its tables,
// no rows.
QStringList mysqldumpSchema(const QString &defaultsFile, const QString &database);
// The rows of DATABASE without IGNORETABLES (names in DATABASE): no CREATE
// statements, no triggers.
QStringList mysqldumpData(const QString &defaultsFile, const QString &database, const QStringList &ignoreTables);
// The rows of DATABASE.TABLE matching WHERE (every row when WHERE is empty).
QStringList mysqldumpTableRows(const QString &defaultsFile, const QString &database, const QString &table,
                               const QString &where = {});

// --------------------------------------- NethServer 7's e-smith tools
// ROOT is the system's root: "" on NethServer 7, a test tree in the tests.
// Values go to the database as they are: the caller keeps "|" and newlines
// out of them (the db command would split or corrupt the record).

// `/sbin/e-smith/db DB setprop KEY PROP VALUE...` (PROPVALUES: prop, value,
// ...); writes nothing when KEY is missing.
QStringList esmithSetprop(const QString &root, const QString &db, const QString &key, const QStringList &propValues);
// `/sbin/e-smith/db DB set KEY TYPE PROP VALUE...`: replaces the record.
QStringList esmithSet(const QString &root, const QString &db, const QString &key, const QString &type,
                      const QStringList &propValues);
// `/sbin/e-smith/signal-event EVENT`: runs the event's handlers.
QStringList signalEvent(const QString &root, const QString &event);
// `/sbin/e-smith/expand-template PATH`: writes PATH from its template.
QStringList expandTemplate(const QString &root, const QString &path);

// ----------------------------------------------------------- slapcat(8)

// `slapcat -F CONFIGDIR -n DATABASE -o ldif-wrap=no`: the database numbered
// DATABASE in the cn=config folder CONFIGDIR as LDIF on the standard output,
// one line per value (reading while slapd runs is safe with mdb).
QStringList slapcat(const QString &configDir, int database);

// ---------------------------------------------------------- tdbbackup(8)
// `tdbbackup [-l] -s .export FILE...`: a consistent copy of each TDB/LDB
// database FILE as FILE.export, taken under the database's own lock (fcntl
// locks, so a copy on NS7's host is consistent with the nsdc container's
// Samba); NOLOCK (-l) for a mutex database (gencache.tdb), whose lock the
// host's tdb library may not take.
QStringList tdbbackup(const QStringList &files, bool noLock);

// -------------------------------------------------------------- rsync(1)

// rsync with OPTIONS, then the SOURCES, then the DESTINATION.
QStringList rsync(const QStringList &options, const QStringList &sources, const QString &destination);
// The options every copy of data starts with: archive, numeric ids, one pass
// over the tree (progress of the whole run), the run's statistics, and the
// I/O and connection timeouts.
QStringList rsyncCopyOptions(int timeoutSeconds, int connectTimeoutSeconds);
// The options of the run that only creates destination folders: -r alone (no
// -p/-o/-g/-t that would touch folders NS8 already has, no --delete).
QStringList rsyncFoldersOptions(int timeoutSeconds, int connectTimeoutSeconds);
// A dry run of a copy made with OPTIONS (rsyncCopyOptions() and the
// transfer's own): nothing is written, and every path that differs is
// itemized on the standard output ("%i %n").  CHECKSUM: the contents are
// compared, not only sizes and times.  FILESFROM empty: with --delete, so
// that what only the receiver has is named too; otherwise only the files
// listed there (NUL-separated, relative to the source), without --delete (rsync refuses it
// without recursion, which --files-from turns off).
QStringList rsyncDryRunOptions(const QStringList &options, bool checksum, const QString &filesFrom);
// A copy made with OPTIONS (rsyncCopyOptions() and the transfer's own) of
// only the paths in LIST (NUL-separated, relative to the source), each
// sent even when its size and mtime match (--ignore-times): no recursion; with --delete in OPTIONS, a listed path that is missing is
// deleted on the receiver (--delete-missing-args, rsync 3.1.0), a
// directory with its content (--force); without it, a missing one is
// skipped (--ignore-missing-args).
QStringList rsyncChangeSetOptions(const QStringList &options, const QString &list);
// The dry run of rsyncChangeSetOptions(OPTIONS, LIST) that itemizes what
// differs, contents compared (--checksum), a listed path still on the
// receiver though gone here as "*deleting".
QStringList rsyncChangeSetDryRunOptions(const QStringList &options, const QString &list);
// What a copy made with OPTIONS excludes (its --exclude patterns), and
// whether it deletes on the receiver (--delete).
QStringList rsyncExcludePatterns(const QStringList &options);
// OPTIONS with rsync's incremental recursion (without --no-inc-recursive):
// the file list is sent a folder at a time, so neither side holds the
// whole tree's (~70 bytes a file each).
QStringList rsyncIncremental(const QStringList &options);
bool rsyncDeletes(const QStringList &options);
// `rsync --list-only -r URL`: the receiver's entries under URL, with sizes.
QStringList rsyncList(const QString &url, int timeoutSeconds, int connectTimeoutSeconds);
// Reads the receiver's URL (its /terminate module, which ends the transfer
// phase): no source, no destination.
QStringList rsyncRead(const QString &url, int timeoutSeconds, int connectTimeoutSeconds);

} // namespace ns8m::commands
