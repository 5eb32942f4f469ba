#include "transfer/rsync.h"

#include "transfer/scanner.h"
#include "ns7/accountprovider.h"
#include "core/commands.h"
#include "core/qtcompat.h"
#include "core/tunnelroute.h"

#include <QDir>
#include <QHash>
#include <QHostAddress>
#include <QUrl>
#include <QDirIterator>
#include <QFile>
#include <QFileInfo>
#include <QProcessEnvironment>
#include <QRegularExpression>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <memory>
#include <random>
#include <sys/stat.h>
#include <unistd.h>

namespace ns8m {

namespace {

constexpr qint64 kEmitIntervalMs = 250; // progress signals: at most ~4 a second
constexpr qint64 kRateWindowMs = 3000; // the rate is measured over the last seconds
constexpr int kMaxErrorLines = 20;
constexpr int kMaxNamedFiles = 10;
constexpr double kRunWeightBytes = 1024.0 * 1024.0; // a run's fixed cost in a batch's progress

QLatin1String stagePrefix()
{
    return QLatin1String("rsync-stage-");
}

QString errnoText(int e)
{
    return qt_error_string(e);
}

// A new private (0700: staged files can hold secrets, the phonebook sources
// hold database passwords) directory in STAGEDIR, or the temporary folder,
// named with stagePrefix() so that removeStaleStages() takes one left by a
// crash.  "" and *ERROR when it cannot be made.
QString makeStageDir(const QString &stageDir, QString *error)
{
    const QString parent = stageDir.isEmpty() ? QDir::tempPath() : stageDir;
    if (!QDir().mkpath(parent)) {
        *error = QStringLiteral("cannot create %1").arg(parent);
        return {};
    }
    QByteArray tmpl = QFile::encodeName(parent + u'/' + stagePrefix() + QStringLiteral("XXXXXX"));
    if (!::mkdtemp(tmpl.data())) {
        *error = QStringLiteral("cannot create a directory in %1: %2").arg(parent, errnoText(errno));
        return {};
    }
    return QFile::decodeName(tmpl);
}

// "3,000,000 bytes" → 3000000.  rsync groups digits with ',' (or '.' where
// the locale's decimal point is ','), so both are skipped.
quint64 leadingNumber(const QByteArray &text)
{
    quint64 n = 0;
    bool any = false;
    for (const char c : text.trimmed()) {
        if (c >= '0' && c <= '9') {
            n = n * 10 + quint64(c - '0');
            any = true;
        } else if (any && (c == ',' || c == '.' || c == '\'')) {
            continue;
        } else {
            break;
        }
    }
    return n;
}

// The first "quoted" string of an rsync message: the file it is about.
QString quotedName(const QString &line)
{
    const Size a = line.indexOf(u'"');
    const Size b = a < 0 ? -1 : line.indexOf(u'"', a + 1);
    return b > a + 1 ? line.mid(a + 1, b - a - 1) : QString();
}

// "... failed: Permission denied (13)" → "Permission denied".
QString failureReason(const QString &line)
{
    static const QRegularExpression re(QStringLiteral(R"(:\s*([^:()]+?)\s*\(\d+\)\s*$)"));
    const auto m = re.match(line);
    return m.hasMatch() ? m.captured(1) : QString();
}

bool writeAll(int fd, const QByteArray &data)
{
    const char *p = data.constData();
    size_t left = size_t(data.size());
    while (left > 0) {
        const ssize_t n = ::write(fd, p, left);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return false;
        }
        p += n;
        left -= size_t(n);
    }
    return true;
}

// Only root can give files away; the helper is root, a developer running
// the code as himself gets his own files.
bool ownerCopied(int rc)
{
    return rc == 0 || ::geteuid() != 0;
}

bool copyStaged(const QByteArray &from, const QByteArray &to, const QList<QPair<QByteArray, QByteArray>> &rewrite,
                QString *error);

// The directory FROM (stat ST) copied to TO, entry by entry.
bool copyStagedDir(const QByteArray &from, const QByteArray &to, const struct stat &st,
                   const QList<QPair<QByteArray, QByteArray>> &rewrite, QString *error)
{
    if (::mkdir(to.constData(), 0700) != 0) {
        *error = QStringLiteral("cannot create %1: %2").arg(QFile::decodeName(to), errnoText(errno));
        return false;
    }
    DIR *dir = ::opendir(from.constData());
    if (!dir) {
        *error = QStringLiteral("cannot read %1: %2").arg(QFile::decodeName(from), errnoText(errno));
        return false;
    }
    bool ok = true;
    while (const dirent *e = ::readdir(dir)) { // NOLINT(concurrency-mt-unsafe): one thread
        const char *n = e->d_name;
        if (n[0] == '.' && (n[1] == 0 || (n[1] == '.' && n[2] == 0)))
            continue;
        if (!copyStaged(from + '/' + n, to + '/' + n, rewrite, error)) {
            ok = false;
            break;
        }
    }
    ::closedir(dir);
    if (!ok)
        return false;
    // Owner, then mode (chown clears set-id bits), then times: writing
    // the entries above changed the directory's mtime.
    const struct timespec times[2] = {st.st_atim, st.st_mtim};
    if (!ownerCopied(::lchown(to.constData(), st.st_uid, st.st_gid)) || ::chmod(to.constData(), st.st_mode & 07777) != 0
        || ::utimensat(AT_FDCWD, to.constData(), times, AT_SYMLINK_NOFOLLOW) != 0) {
        *error = QStringLiteral("cannot set the attributes of %1: %2").arg(QFile::decodeName(to), errnoText(errno));
        return false;
    }
    return true;
}

// The symbolic link FROM (stat ST) copied to TO as it is.
bool copyStagedLink(const QByteArray &from, const QByteArray &to, const struct stat &st, QString *error)
{
    QByteArray target(Size(st.st_size) + 1, '\0');
    const ssize_t n = ::readlink(from.constData(), target.data(), size_t(target.size()));
    if (n < 0 || ::symlink(target.left(Size(n)).constData(), to.constData()) != 0) {
        *error = QStringLiteral("cannot copy the link %1: %2").arg(QFile::decodeName(from), errnoText(errno));
        return false;
    }
    const struct timespec times[2] = {st.st_atim, st.st_mtim};
    if (!ownerCopied(::lchown(to.constData(), st.st_uid, st.st_gid))
        || ::utimensat(AT_FDCWD, to.constData(), times, AT_SYMLINK_NOFOLLOW) != 0) {
        *error = QStringLiteral("cannot set the attributes of %1: %2").arg(QFile::decodeName(to), errnoText(errno));
        return false;
    }
    return true;
}

// The regular file FROM (stat ST) copied to TO, rewritten unless it holds a NUL byte.
bool copyStagedFile(const QByteArray &from, const QByteArray &to, const struct stat &st,
                    const QList<QPair<QByteArray, QByteArray>> &rewrite, QString *error)
{
    QFile in(QFile::decodeName(from));
    if (!in.open(QIODevice::ReadOnly)) {
        *error = QStringLiteral("cannot read %1: %2").arg(in.fileName(), in.errorString());
        return false;
    }
    QByteArray data = in.readAll();
    in.close();
    if (!data.contains('\0'))
        for (const auto &r : rewrite)
            data.replace(r.first, r.second);
    const int fd = ::open(to.constData(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        *error = QStringLiteral("cannot create %1: %2").arg(QFile::decodeName(to), errnoText(errno));
        return false;
    }
    const struct timespec times[2] = {st.st_atim, st.st_mtim};
    const bool ok = writeAll(fd, data) && ownerCopied(::fchown(fd, st.st_uid, st.st_gid))
        && ::fchmod(fd, st.st_mode & 07777) == 0 && ::futimens(fd, times) == 0;
    const int saved = errno;
    ::close(fd);
    if (!ok) {
        *error = QStringLiteral("cannot write %1: %2").arg(QFile::decodeName(to), errnoText(saved));
        return false;
    }
    return true;
}

// Copies FROM (a file, symlink or directory tree) to TO, which must not
// exist, replacing the REWRITE strings in regular files that hold no NUL
// byte, keeping modes, owners and times.  Sockets, FIFOs and devices are
// left out: there are none among configuration files.
bool copyStaged(const QByteArray &from, const QByteArray &to, const QList<QPair<QByteArray, QByteArray>> &rewrite,
                QString *error)
{
    struct stat st {
    };
    if (::lstat(from.constData(), &st) != 0) {
        *error = QStringLiteral("cannot read %1: %2").arg(QFile::decodeName(from), errnoText(errno));
        return false;
    }
    if (S_ISDIR(st.st_mode))
        return copyStagedDir(from, to, st, rewrite, error);
    if (S_ISLNK(st.st_mode))
        return copyStagedLink(from, to, st, error);
    if (S_ISREG(st.st_mode))
        return copyStagedFile(from, to, st, rewrite, error);
    return true;
}

bool isSuccessCode(int code)
{
    return code == 0 || code == 24;
}

quint64 estimateTotal(quint64 bytes, int percent, quint64 expected)
{
    // percent is rsync's int(100 * bytes / total): total lies in
    // (100 * bytes / (percent + 1), 100 * bytes / percent].
    if (percent >= 100)
        return bytes;
    if (percent >= 1)
        return quint64(double(bytes) * 100.0 / (double(percent) + 0.5));
    if (bytes > 0)
        return std::max(expected, bytes * 100);
    return expected;
}

} // namespace

// ---------------------------------------------------------------- planning

QStringList RsyncTransfer::argv() const
{
    return commands::rsync(args, sources, destination);
}

QStringList RsyncTransfer::writeRoots() const
{
    QString dest = destinationPath;
    if (!dest.isEmpty() && !dest.endsWith(u'/'))
        dest += u'/';
    QStringList roots;
    const QStringList from = stageFrom.isEmpty() ? sources : QStringList {stageFrom};
    for (const QString &s : from) {
        if (s.endsWith(u'/'))
            roots.append(dest);
        else
            roots.append(dest + QFileInfo(s).fileName() + u'/');
    }
    return roots;
}

QString rsyncUrl(const RsyncTarget &target, const QString &path)
{
    const QString host = target.host.contains(u':') ? u'[' + target.host + u']' : target.host;
    return QStringLiteral("rsync://%1@%2:%3/data/%4").arg(target.user, host).arg(target.port).arg(path);
}

namespace {

QStringList baseArgs()
{
    return commands::rsyncCopyOptions(kRsyncTimeoutSeconds, kRsyncConnectTimeoutSeconds);
}

} // namespace

RsyncTransfer directoryTransfer(const QString &id, const QString &title, const QString &localDir,
                                const RsyncTarget &target, const QString &destinationPath, int uid, int gid)
{
    RsyncTransfer r;
    r.id = id;
    r.profileId = id;
    r.title = title;
    r.sources = QStringList{localDir.endsWith(u'/') ? localDir : localDir + u'/'};
    r.destinationPath = destinationPath.endsWith(u'/') ? destinationPath : destinationPath + u'/';
    r.destination = rsyncUrl(target, r.destinationPath);
    r.password = target.password;
    r.tunnel = target.tunnel;
    r.host = target.host;
    r.args = baseArgs();
    if (uid >= 0 && gid >= 0)
        r.args << QStringLiteral("--chown=%1:%2").arg(uid).arg(gid);
    r.args << QStringLiteral("--delete");
    return r;
}

RsyncTransfer fileTransfer(const QString &id, const QString &title, const QString &localFile,
                           const RsyncTarget &target, const QString &destinationPath, int uid, int gid)
{
    RsyncTransfer r = directoryTransfer(id, title, localFile, target, destinationPath, uid, gid);
    r.sources = QStringList{localFile};
    r.args.removeAll(QStringLiteral("--delete"));
    // Made again at every pass: the same size within the same second must
    // not pass rsync's quick check for unchanged.
    r.args << QStringLiteral("--ignore-times");
    return r;
}

QList<RsyncTransfer> planTransfers(const AppProfile &profile, const QString &root, const RsyncTarget &target,
                                   int bwlimitKiB, const QString &stageDir)
{
    QList<RsyncTransfer> plan;
    for (const Transfer &t : profile.transfers) {
        const auto sources = expandSource(root, t);
        for (const auto &[path, match] : sources) {
            struct stat st {
            };
            if (t.optional && ::lstat(QFile::encodeName(path).constData(), &st) != 0)
                continue;
            RsyncTransfer r;
            r.id = match.isEmpty() ? t.id : t.id + u':' + match;
            r.profileId = t.id;
            r.title = match.isEmpty() ? t.title : QStringLiteral("%1 (%2)").arg(t.title, match);
            QString dest = t.destination;
            dest.replace(QLatin1String("{1}"), match);
            if (!dest.isEmpty() && !dest.endsWith(u'/'))
                dest += u'/';
            r.destinationPath = dest;
            r.destination = rsyncUrl(target, dest);
            r.password = target.password;
            r.tunnel = target.tunnel;
            r.host = target.host;
            r.sourceRoot = root;
            // expandSource() drops the trailing slash: put rsync's meaning back.
            const QString src = t.copiesDirectoryItself() ? path : path + u'/';
            if (t.rewrite.isEmpty()) {
                r.sources = QStringList {src};
            } else {
                r.stageFrom = src;
                r.stageDir = stageDir;
                r.rewrite = t.rewrite;
            }
            QStringList &a = r.args;
            a = baseArgs();
            if (t.preserveOwner) {
                if (!t.usermap.isEmpty())
                    a << QStringLiteral("--usermap=") + t.usermap.join(u',');
                if (!t.groupmap.isEmpty())
                    a << QStringLiteral("--groupmap=") + t.groupmap.join(u',');
            } else if (profile.ownerUid >= 0 && profile.ownerGid >= 0) {
                a << QStringLiteral("--chown=%1:%2").arg(profile.ownerUid).arg(profile.ownerGid);
            }
            if (t.deleteExtraneous)
                a << QStringLiteral("--delete");
            for (const QString &x : t.exclude)
                a << QStringLiteral("--exclude=") + x;
            if (bwlimitKiB > 0)
                a << QStringLiteral("--bwlimit=%1").arg(bwlimitKiB);
            plan.append(r);
        }
    }
    return plan;
}

void boundMemory(QList<RsyncTransfer> *transfers, const QJsonArray &scanned)
{
    QHash<QString, quint64> files;
    for (const QJsonValue &v : scanned)
        files.insert(v.toArray().at(0).toString(), quint64(v.toArray().at(2).toDouble()));
    for (RsyncTransfer &t : *transfers)
        if (files.value(t.profileId) > kIncrementalFiles)
            t.args = commands::rsyncIncremental(t.args);
}

RsyncTransfer verifyTransfer(const RsyncTransfer &transfer, bool checksum, const QString &filesFrom)
{
    RsyncTransfer v = transfer;
    v.args = commands::rsyncDryRunOptions(transfer.args, checksum, filesFrom);
    if (!filesFrom.isEmpty() && transfer.stageFrom.isEmpty())
        v.sources = QStringList{sampleBase(transfer)};
    return v;
}

QString sampleBase(const RsyncTransfer &transfer)
{
    const QString source = transfer.sources.value(0);
    if (source.endsWith(u'/'))
        return source;
    const QString parent = QFileInfo(source).path();
    return parent.endsWith(u'/') ? parent : parent + u'/';
}

QStringList sampleFiles(const RsyncTransfer &transfer, int n)
{
    if (!transfer.stageFrom.isEmpty() || transfer.sources.isEmpty() || n <= 0)
        return {};
    const QString base = sampleBase(transfer);
    const QString top = transfer.sources.first();
    QStringList picked;
    qint64 seen = 0;
    std::mt19937_64 random{std::random_device{}()}; // QRandomGenerator is Qt 5.10
    QDirIterator it(top, QDir::Files | QDir::Hidden | QDir::NoSymLinks | QDir::System, QDirIterator::Subdirectories);
    while (it.hasNext()) {
        const QString path = it.next();
        if (!it.fileInfo().isFile() || it.fileInfo().isSymLink())
            continue;
        // Reservoir sampling: every file has the same chance.
        const QString name = path.mid(base.size());
        ++seen;
        if (picked.size() < n)
            picked.append(name);
        else if (const qint64 j = std::uniform_int_distribution<qint64>(0, seen - 1)(random); j < n)
            picked[int(j)] = name;
    }
    return picked;
}

void removeStaleStages(const QString &stageDir)
{
    QDir dir(stageDir);
    const QStringList names = dir.entryList(
        {QString(stagePrefix()) + u'*'}, QDir::Dirs | QDir::NoDotAndDotDot | QDir::NoSymLinks | QDir::Hidden);
    for (const QString &n : names)
        QDir(dir.filePath(n)).removeRecursively();
}

// ----------------------------------------------------------------- results

bool RsyncResult::ok() const
{
    return !canceled && localError.isEmpty() && isSuccessCode(exitCode);
}

bool RsyncResult::retryable() const
{
    if (canceled || !localError.isEmpty())
        return false;
    const QString all = errorLines.join(u'\n');
    if (all.contains(QLatin1String("No space left on device"))
        || all.contains(QLatin1String("Disk quota exceeded")))
        return false;
    // Authentication (5) too: a receiver restarted by import-module may
    // have been half up when the first attempt knocked.
    return exitCode == 5 || exitCode == 10 || exitCode == 12 || exitCode == 30 || exitCode == 35;
}

namespace {

using Says = std::function<bool(const char *)>; // rsync's error lines contain this

// Exit code 5: the receiver refused the session; why, from its words.
Text refusedSentence(const Says &has, const QString &node)
{
    if (has("auth failed"))
        return Text("rsync.refused.auth", "The receiver on %1 refused the credentials: it was restarted with other ones, "
                              "or it is not this app's receiver. Sync again; if it persists, remove the "
                              "app on NS8 and start over.")
            .arg(node);
    if (has("Unknown module"))
        return Text("rsync.refused.module", "The rsync server on %1 is not the migration receiver of this app.").arg(node);
    if (has("max connections"))
        return Text("rsync.refused.busy", "The receiver on %1 is busy (too many connections); sync again later.").arg(node);
    if (has("access denied") || has("denied"))
        return Text("rsync.refused.denied", "The receiver on %1 does not accept connections from this host: it accepts "
                              "only the cluster's VPN network.")
            .arg(node);
    return Text("rsync.refused", "The receiver on %1 refused the session.").arg(node);
}

// What rsync's exit code means for the administrator.  NAMED: the files
// rsync named, "" when none.
Text exitSentence(int exitCode, const Says &has, const QString &receiver, const QString &named, int more)
{
    const QString node = receiver.isEmpty() ? QStringLiteral("NS8") : receiver; // data in the sentences
    const Text silent = Text("rsync.silent", "The NS8 node stopped answering; check the VPN (the WireGuard "
                                          "interface ns8) and that the node is up, then sync again.");
    switch (exitCode) {
    case -1: return Text("rsync.killed", "rsync was killed before it finished (out of memory?).");
    case 1: return Text("rsync.exit.1", "rsync rejected its command line: rsync 3.1 or later is needed on NS7.");
    case 2: return Text("rsync.exit.2", "rsync on NS7 and the receiver on NS8 have no protocol version in common.");
    case 3: return Text("rsync.exit.3", "rsync could not use a source or destination directory.");
    case 4: return Text("rsync.exit.4", "The receiver on the NS8 node does not support an option the copy needs.");
    case 5: return refusedSentence(has, node);
    case 10:
        if (!has("Connection refused"))
            return silent;
        return Text("rsync.exit.10", "The NS8 node refused the connection to the app's receiver (%1): the receiver is "
                              "not running there (it stops when the transfer phase ends or the node "
                              "restarts). Sync again to restart it.")
            .arg(node);
    case 12:
    case 30:
    case 35: return silent;
    case 11:
        return named.isEmpty() ? Text("rsync.exit.11", "A file could not be read or written.")
               : more > 0      ? Text("rsync.exit.11-more", "Files could not be read or written: %1 and %2 more.").arg(named).arg(more)
                               : Text("rsync.exit.11-named", "A file could not be read or written: %1.").arg(named);
    case 13:
    case 14:
    case 21: return Text("rsync.exit.internal", "rsync failed internally.");
    case 20: return Text("rsync.exit.20", "rsync was stopped by a signal.");
    case 22: return Text("rsync.exit.22", "rsync ran out of memory.");
    case 23:
        return named.isEmpty() ? Text("rsync.exit.23", "Some files or attributes were not copied.")
               : more > 0      ? Text("rsync.exit.23-more", "Some files were not copied: %1 and %2 more.").arg(named).arg(more)
                               : Text("rsync.exit.23-named", "Some files were not copied: %1.").arg(named);
    default: return Text("rsync.failed", "rsync failed.");
    }
}

// What rsync said, without its generic "rsync error: ... (code N)" line
// unless there is nothing else: the last three lines.
Text rsyncSaid(const QStringList &errorLines, int exitCode)
{
    QStringList said;
    for (const QString &l : errorLines)
        if (!l.startsWith(QLatin1String("rsync error:")) && !l.startsWith(QLatin1String("rsync warning:")))
            said.append(l);
    if (said.isEmpty())
        said = errorLines;
    said = said.mid(std::max<Size>(0, said.size() - 3));
    return said.isEmpty() ? Text("rsync.said.code", "(rsync exit code %1)").arg(exitCode)
                          : Text("rsync.said", "(rsync exit code %1: %2)").arg(exitCode).arg(said.join(QStringLiteral(" / ")));
}

} // namespace

Texts RsyncResult::errorTexts() const
{
    if (ok())
        return {};
    if (canceled)
        return {Text("rsync.canceled", "The copy was canceled.")};
    if (!localError.isEmpty())
        return {localError};
    const QString all = errorLines.join(u'\n');
    const Says has = [&all](const char *s) { return all.contains(QLatin1String(s), Qt::CaseInsensitive); };
    const QString named = namedFiles.join(QStringLiteral(", "));
    const int more = namedFileCount - int(namedFiles.size());
    Texts t;
    if (has("No space left on device"))
        t.append(Text("rsync.disk-full", "The NS8 node's disk is full: free space there (or move the app to another "
                                         "node) and sync again."));
    else if (has("Disk quota exceeded"))
        t.append(Text("rsync.quota", "The NS8 node's disk quota for this app is used up: raise it and sync again."));
    else
        t.append(exitSentence(exitCode, has, receiver, named, more));
    if (exitCode >= 0)
        t.append(rsyncSaid(errorLines, exitCode));
    return t;
}

QString RsyncResult::errorText() const
{
    return english(errorTexts());
}

Text RsyncResult::warning() const
{
    if (!vanished)
        return {};
    const int count = std::max(vanishedCount, 1);
    const int more = vanishedCount - int(vanishedFiles.size());
    const QString files = vanishedFiles.join(QStringLiteral(", "));
    if (vanishedFiles.isEmpty())
        return (count == 1 ? Text("rsync.vanished.one", "1 file vanished during the copy (normal while the app runs; "
                                                        "the next sync copies the current state).")
                           : Text("rsync.vanished", "%1 files vanished during the copy (normal while the app runs; the "
                                                    "next sync copies the current state)."))
            .arg(count);
    if (more > 0)
        return Text("rsync.vanished.more", "%1 files vanished during the copy: %2 and %3 more (normal while the app "
                                           "runs; the next sync copies the current state).")
            .arg(count)
            .arg(files)
            .arg(more);
    if (count == 1)
        return Text("rsync.vanished.one-named", "1 file vanished during the copy: %1 (normal while the app runs; the next "
                                                "sync copies the current state).")
            .arg(files);
    return Text("rsync.vanished.named", "%1 files vanished during the copy: %2 (normal while the app runs; the next sync "
                                        "copies the current state).")
        .arg(count)
        .arg(files);
}

QString RsyncResult::warningText() const
{
    return warning().english();
}

// --------------------------------------------------------------- RsyncRun

RsyncRun::RsyncRun(RsyncTransfer transfer, QObject *parent) : QObject(parent), m_t(std::move(transfer))
{
    m_r.id = m_t.id;
    const Size at = m_t.destination.indexOf(u'@');
    const Size slash = m_t.destination.indexOf(u'/', at + 1);
    if (at > 0 && slash > at)
        m_r.receiver = m_t.destination.mid(at + 1, slash - at - 1);
    m_killTimer.setSingleShot(true);
    connect(&m_killTimer, &QTimer::timeout, this, [this] {
        if (m_proc)
            m_proc->kill();
    });
    m_emitTimer.setSingleShot(true);
    connect(&m_emitTimer, &QTimer::timeout, this, [this] {
        if (m_dirty && !m_done)
            emitProgress();
    });
}

RsyncRun::~RsyncRun()
{
    if (m_proc) {
        QObject::disconnect(m_proc, nullptr, this, nullptr);
        if (m_proc->state() != QProcess::NotRunning) {
            m_proc->kill();
            m_proc->waitForFinished(3000);
        }
    }
    removeStage();
}

namespace {

// The receiver's URL is made of what NS8 answered (address, port, user) and
// of profile paths: rsync://USER@HOST:PORT/data/PATH, with nothing that
// rsync would read otherwise (an option, another module, "..").
Failure badDestination(const QString &destination)
{
    const QUrl url(destination);
    static const QRegularExpression userRe(QStringLiteral("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$"));
    const QString path = url.path();
    QHostAddress address;
    const bool ok = url.isValid() && url.scheme() == u"rsync" && userRe.match(url.userName()).hasMatch()
                    && url.password().isEmpty() && (address.setAddress(url.host()) || isValidDomainName(url.host()))
                    && url.port() > 0 && url.port() <= 65535 && path.startsWith(QStringLiteral("/data/"))
                    && !path.split(u'/').contains(QStringLiteral("..")) && !url.hasQuery() && !url.hasFragment();
    if (ok)
        return {};
    return Failure::failed(Text("rsync.destination.invalid", "The receiver's address %1 is not one NS8 could have "
                                                             "given: rsync was not started.")
                               .arg(destination));
}

} // namespace

bool RsyncRun::isRunning() const
{
    return m_proc && m_proc->state() != QProcess::NotRunning;
}

qint64 RsyncRun::processId() const
{
    return m_proc ? m_proc->processId() : 0;
}

void RsyncRun::start()
{
    if (m_started)
        return;
    m_started = true;
    m_clock.start();
    if (m_r.canceled) { // canceled before it started
        QTimer::singleShot(0, this, [this] { finish(); });
        return;
    }
    Failure linked = symlinkedSource();
    if (!linked.isError())
        linked = badDestination(m_t.destination);
    if (linked.isError()) {
        m_r.localError = linked.texts.value(0);
        QTimer::singleShot(0, this, [this] { finish(); });
        return;
    }
    if (!m_t.stageFrom.isEmpty()) {
        QString error;
        if (!stage(&error)) {
            m_r.localError = Text("rsync.stage", "Could not prepare the rewritten copy of %1: %2.").arg(m_t.stageFrom, error);
            QTimer::singleShot(0, this, [this] { finish(); });
            return;
        }
    }

    if (!m_t.tunnel.isEmpty()) {
        // Checked before each run (a retry too): the session carries the
        // receiver's password.
        const Failure outside = checkTunnelRoute(m_t.tunnel, m_t.host);
        if (outside.isError()) {
            m_r.localError = outside.texts.value(0);
            m_r.localErrorName = outside.name;
            QTimer::singleShot(0, this, [this] { finish(); });
            return;
        }
    }
    m_proc = new QProcess(this);
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("RSYNC_PASSWORD"), m_t.password);
    // The receiver is reached directly, over the VPN.
    env.remove(QStringLiteral("RSYNC_PROXY"));
    env.remove(QStringLiteral("RSYNC_CONNECT_PROG"));
    m_proc->setProcessEnvironment(env);
    m_proc->setProcessChannelMode(QProcess::SeparateChannels);
    m_proc->setStandardInputFile(QProcess::nullDevice());
    const QStringList argv = m_t.argv();
    m_proc->setProgram(argv.first());
    m_proc->setArguments(argv.mid(1));
    connect(m_proc, &QProcess::readyReadStandardOutput, this, &RsyncRun::readOut);
    connect(m_proc, &QProcess::readyReadStandardError, this, &RsyncRun::readErr);
    connect(m_proc, processFinished, this, &RsyncRun::onFinished);
    connect(m_proc, &QProcess::errorOccurred, this, [this](QProcess::ProcessError e) {
        if (e != QProcess::FailedToStart || m_done)
            return;
        m_r.localError = Text("rsync.not-started", "rsync could not be started (is it installed?): %1.").arg(m_proc->errorString());
        // Possibly still inside start(): callers get finished() from the loop.
        QTimer::singleShot(0, this, [this] { finish(); });
    });
    m_proc->start();
}

void RsyncRun::cancel()
{
    if (m_done || m_r.canceled)
        return;
    m_r.canceled = true;
    if (!m_started)
        return; // start() will end it at once
    if (isRunning()) {
        // rsync ends on SIGTERM, telling the receiver, which removes its
        // temp file; SIGKILL is for an rsync stuck in a system call.
        m_proc->terminate();
        m_killTimer.start(m_graceMs);
    }
}

void RsyncRun::readOut()
{
    m_outBuf += m_proc->readAllStandardOutput();
    Size from = 0;
    for (Size i = 0; i < m_outBuf.size(); ++i) {
        const char c = m_outBuf.at(i);
        if (c == '\r' || c == '\n') { // progress2 updates end in '\r'
            parseOutLine(m_outBuf.mid(from, i - from));
            from = i + 1;
        }
    }
    m_outBuf.remove(0, from);
    if (m_outBuf.size() > 65536) // not rsync's output: a line never ends
        m_outBuf.clear();
    update();
}

void RsyncRun::readErr()
{
    m_errBuf += m_proc->readAllStandardError();
    for (Size nl = m_errBuf.indexOf('\n'); nl >= 0; nl = m_errBuf.indexOf('\n')) {
        parseErrLine(m_errBuf.left(nl));
        m_errBuf.remove(0, nl + 1);
    }
    // A line without end that grows without bound is not rsync talking.
    if (m_errBuf.size() > 65536) {
        parseErrLine(m_errBuf);
        m_errBuf.clear();
    }
}

void RsyncRun::parseOutLine(const QByteArray &raw)
{
    const QByteArray line = raw.trimmed();
    if (line.isEmpty())
        return;
    static const QRegularExpression progressRe(QStringLiteral(
        R"(^([0-9][0-9,.']*)\s+(\d{1,3})%\s+\S+\s+\S+(?:\s+\(xfr#\d+,\s*(ir|to)-chk=(\d+)/(\d+)\))?$)"));
    const QString text = QString::fromLatin1(line);
    const auto m = progressRe.match(text);
    if (m.hasMatch()) {
        m_bytes = std::max(m_bytes, leadingNumber(m.captured(1).toLatin1()));
        m_percent = std::clamp(m.captured(2).toInt(), 0, 100);
        if (m.capturedLength(3) > 0) {
            m_entriesFinal = m.captured(3) == QLatin1String("to");
            m_toCheck = m.captured(4).toULongLong();
            m_entries = m.captured(5).toULongLong();
        }
        double f = m_percent / 100.0;
        if (m_entriesFinal && m_entries > 0 && m_toCheck <= m_entries)
            f = std::max(f, double(m_entries - m_toCheck) / double(m_entries));
        m_fraction = std::max(m_fraction, std::min(f, 1.0));

        const qint64 now = m_clock.elapsed();
        m_samples.emplace_back(now, m_bytes);
        while (m_samples.size() > 2 && now - m_samples.front().first > kRateWindowMs)
            m_samples.pop_front();
        const qint64 dt = now - m_samples.front().first;
        if (dt >= 200)
            m_rate = quint64(double(m_bytes - m_samples.front().second) * 1000.0 / double(dt));
        m_dirty = true;
        return;
    }
    // --itemize-changes (a dry run): "YXcstpoguax name" or "*deleting   name".
    static const QRegularExpression itemRe(QStringLiteral(R"(^([<>ch.][fdLDS][.+?cstpoguaxn]{7,9}|\*deleting)\s+\S)"));
    if (itemRe.match(text).hasMatch()) {
        if (++m_r.itemizedCount <= kMaxItemized)
            m_r.itemized.append(QString::fromUtf8(raw));
        return;
    }
    const Size colon = line.indexOf(':');
    if (colon < 0)
        return;
    const QByteArray key = line.left(colon);
    const quint64 n = leadingNumber(line.mid(colon + 1));
    RsyncStats &s = m_r.stats;
    if (key == "Number of files") {
        s.files = n;
        s.valid = true;
    } else if (key == "Number of deleted files") {
        s.deletedFiles = n;
    } else if (key == "Number of regular files transferred") {
        s.regularFilesTransferred = n;
    } else if (key == "Total file size") {
        s.totalFileSize = n;
    } else if (key == "Total transferred file size") {
        s.totalTransferredFileSize = n;
    } else if (key == "Literal data") {
        s.literalData = n;
    } else if (key == "Matched data") {
        s.matchedData = n;
    } else if (key == "Total bytes sent") {
        s.bytesSent = n;
    } else if (key == "Total bytes received") {
        s.bytesReceived = n;
    }
}

void RsyncRun::parseErrLine(const QByteArray &raw)
{
    QString line = QString::fromUtf8(raw).trimmed();
    if (line.isEmpty())
        return;
    // rsync never prints the password; if it ever did, it stops here.
    if (m_t.password.size() >= 4)
        line.replace(m_t.password, QStringLiteral("********"));
    if (line.startsWith(QLatin1String("file has vanished:"))) {
        if (++m_r.vanishedCount <= kMaxNamedFiles)
            m_r.vanishedFiles.append(quotedName(line));
    } else if (line.startsWith(QLatin1String("rsync: ")) && line.contains(QLatin1String("failed"))) {
        const QString name = quotedName(line);
        if (!name.isEmpty() && ++m_r.namedFileCount <= kMaxNamedFiles) {
            const QString why = failureReason(line);
            m_r.namedFiles.append(why.isEmpty() ? name : QStringLiteral("%1 (%2)").arg(name, why));
        }
    }
    m_r.errorLines.append(line);
    if (m_r.errorLines.size() > kMaxErrorLines)
        m_r.errorLines.removeFirst();
}

void RsyncRun::update()
{
    if (!m_dirty || m_done)
        return;
    if (!m_lastEmit.isValid() || m_lastEmit.elapsed() >= kEmitIntervalMs)
        emitProgress();
    else if (!m_emitTimer.isActive())
        m_emitTimer.start(int(kEmitIntervalMs - m_lastEmit.elapsed()));
}

void RsyncRun::emitProgress()
{
    m_emitTimer.stop();
    m_dirty = false;
    m_lastEmit.start();
    const quint64 total = std::max(m_bytes, estimateTotal(m_bytes, m_percent, m_t.expectedBytes));
    emit progress(m_bytes, total, m_fraction, m_rate);
}

void RsyncRun::onFinished(int exitCode, QProcess::ExitStatus status)
{
    if (m_done)
        return;
    readOut();
    readErr();
    if (!m_outBuf.isEmpty())
        parseOutLine(m_outBuf);
    if (!m_errBuf.isEmpty())
        parseErrLine(m_errBuf);
    m_outBuf.clear();
    m_errBuf.clear();
    m_r.exitCode = status == QProcess::NormalExit ? exitCode : -1;
    finish();
}

void RsyncRun::finish()
{
    if (m_done)
        return;
    m_done = true;
    m_killTimer.stop();
    m_emitTimer.stop();
    m_r.durationMs = m_clock.isValid() ? m_clock.elapsed() : 0;
    // A cancel that came too late to stop a run that completed is no cancel.
    if (m_r.canceled && m_r.localError.isEmpty() && isSuccessCode(m_r.exitCode))
        m_r.canceled = false;
    m_r.vanished = m_r.exitCode == 24 && !m_r.canceled;
    removeStage();
    if (m_proc) {
        QObject::disconnect(m_proc, nullptr, this, nullptr);
        m_proc->deleteLater();
        m_proc = nullptr;
    }
    if (m_r.ok()) {
        // The last word: the run's real numbers.
        m_bytes = std::max(m_bytes, m_r.stats.totalTransferredFileSize);
        const quint64 total = m_r.stats.valid ? std::max(m_bytes, m_r.stats.totalFileSize) : m_bytes;
        m_fraction = 1.0;
        m_lastEmit.start();
        emit progress(m_bytes, total, m_fraction, m_rate);
    }
    emit finished(m_r);
}

Failure RsyncRun::symlinkedSource() const
{
    if (m_t.sourceRoot.isEmpty())
        return {};
    for (const QString &source : m_t.stageFrom.isEmpty() ? m_t.sources : QStringList{m_t.stageFrom}) {
        // rsync follows the last component too when the source ends with '/'.
        QString path = source;
        const bool followsLast = path.endsWith(u'/');
        while (path.endsWith(u'/') && path.size() > 1)
            path.chop(1);
        const QString link = symlinkOnPath(m_t.sourceRoot, path, followsLast);
        if (!link.isEmpty())
            return symlinkRefused(m_t.sourceRoot, link);
    }
    return {};
}

bool RsyncRun::stage(QString *error)
{
    QString from = m_t.stageFrom;
    const bool byContent = from.endsWith(u'/') && from.size() > 1;
    if (byContent)
        from.chop(1);
    m_stage = makeStageDir(m_t.stageDir, error);
    if (m_stage.isEmpty())
        return false;
    QList<QPair<QByteArray, QByteArray>> rewrite;
    for (const auto &r : m_t.rewrite)
        rewrite.append({r.first.toUtf8(), r.second.toUtf8()});
    // The staged copy keeps the source's name, so rsync's trailing-slash
    // rule and the names on the receiver are those of the source.
    const QString to = m_stage + u'/' + QFileInfo(from).fileName();
    if (!copyStaged(QFile::encodeName(from), QFile::encodeName(to), rewrite, error))
        return false;
    m_t.sources = QStringList {byContent ? to + u'/' : to};
    return true;
}

void RsyncRun::removeStage()
{
    if (m_stage.isEmpty())
        return;
    QDir(m_stage).removeRecursively();
    m_stage.clear();
}

// ------------------------------------------------------------- RsyncBatch

RsyncBatch::RsyncBatch(QList<RsyncTransfer> transfers, QObject *parent) : QObject(parent)
{
    for (RsyncTransfer &t : transfers) {
        Entry e;
        e.t = std::move(t);
        e.weight = double(e.t.expectedBytes) + kRunWeightBytes;
        m_e.push_back(std::move(e));
    }
    m_emitTimer.setSingleShot(true);
    connect(&m_emitTimer, &QTimer::timeout, this, [this] { emitProgress(); });
}

RsyncBatch::~RsyncBatch()
{
    for (Entry &e : m_e)
        if (e.run) {
            QObject::disconnect(e.run, nullptr, this, nullptr);
            delete e.run;
        }
    if (!m_skeleton.isEmpty())
        QDir(m_skeleton).removeRecursively();
}

void RsyncBatch::addFoldersRun()
{
    if (m_max < 2 || m_e.size() < 2)
        return;
    // Only destinations that two runs share (or one below the other's) are
    // raced for; a run alone in its folder creates it as rsync always does.
    QStringList folders;
    for (size_t i = 0; i < m_e.size(); ++i)
        for (size_t j = i + 1; j < m_e.size(); ++j) {
            const QString &a = m_e[i].t.destinationPath, &b = m_e[j].t.destinationPath;
            if (a.isEmpty() || b.isEmpty() || !(a.startsWith(b) || b.startsWith(a)))
                continue;
            for (const QString &f : {a, b})
                if (!folders.contains(f))
                    folders.append(f);
        }
    if (folders.isEmpty())
        return;
    const RsyncTransfer &first = m_e.front().t;
    if (!first.destination.endsWith(first.destinationPath))
        return;
    // Made where rewritten sources are staged, so that removeStaleStages()
    // also takes one left by a crash.
    QString error;
    m_skeleton = makeStageDir(first.stageDir, &error);
    if (m_skeleton.isEmpty())
        return; // not fatal: the runs then create their folders themselves
    for (const QString &f : folders)
        QDir(m_skeleton).mkpath(f);

    Entry e;
    e.folders = true;
    e.weight = kRunWeightBytes / 16;
    e.t.id = QStringLiteral("folders");
    e.t.profileId = e.t.id;
    e.t.title = QStringLiteral("Destination folders");
    e.t.sources = QStringList{m_skeleton + u'/'};
    e.t.destination = first.destination.left(first.destination.size() - first.destinationPath.size());
    e.t.password = first.password;
    e.t.tunnel = first.tunnel;
    e.t.host = first.host;
    // -r only: no --delete, and no -p/-o/-g/-t that would touch the
    // attributes of folders NS8 already has.
    e.t.args = commands::rsyncFoldersOptions(kRsyncTimeoutSeconds, kRsyncConnectTimeoutSeconds);
    m_e.insert(m_e.begin(), std::move(e));
}

void RsyncBatch::setMaxParallel(int n)
{
    m_max = std::max(1, n);
}

void RsyncBatch::retryFailedOnce(bool on)
{
    m_retry = on;
}

bool RsyncBatch::conflicts(const RsyncTransfer &a, const RsyncTransfer &b)
{
    // Roots end with '/', so a prefix is a whole path element: "spool/vm/"
    // does not contain "spool/vm2/".
    for (const QString &ra : a.writeRoots())
        for (const QString &rb : b.writeRoots())
            if (ra.startsWith(rb) || rb.startsWith(ra))
                return true;
    return false;
}

int RsyncBatch::running() const
{
    return int(
        std::count_if(m_e.begin(), m_e.end(), [](const Entry &e) { return e.state == State::Running; }));
}

void RsyncBatch::start()
{
    if (m_started)
        return;
    m_started = true;
    if (m_e.empty()) {
        QTimer::singleShot(0, this, [this] { finish(true); });
        return;
    }
    addFoldersRun();
    schedule();
}

void RsyncBatch::cancel()
{
    if (m_done)
        return;
    m_started = true;
    if (!m_stopping) {
        m_stopping = true;
        m_failed = true;
    }
    for (Entry &e : m_e)
        if (e.state == State::Running && e.run)
            e.run->cancel();
    if (running() == 0)
        QTimer::singleShot(0, this, [this] {
            if (!m_done)
                finish(false);
        });
}

void RsyncBatch::schedule()
{
    if (m_done || m_stopping || m_retryPending)
        return;
    // Nothing starts before the destination folders exist.
    if (!m_e.empty() && m_e.front().folders && m_e.front().state != State::Done) {
        if (m_e.front().state == State::Pending)
            launch(0);
        return;
    }
    for (size_t i = 0; i < m_e.size() && running() < m_max; ++i) {
        if (m_e[i].state != State::Pending)
            continue;
        bool blocked = false;
        for (size_t j = 0; j < m_e.size() && !blocked; ++j) {
            if (j == i)
                continue;
            // Conflicting transfers keep the order of the list: one waits
            // for a running one and for any earlier one still to run.
            const State s = m_e[j].state;
            const bool relevant
                = s == State::Running || (j < i && (s == State::Pending || s == State::RetryWait));
            blocked = relevant && conflicts(m_e[i].t, m_e[j].t);
        }
        if (!blocked)
            launch(i);
    }
}

void RsyncBatch::launch(size_t i)
{
    Entry &e = m_e[i];
    e.state = State::Running;
    // A retry does not resend the files the first attempt completed:
    // count on from what it did.
    const quint64 base = e.bytes;
    auto *run = new RsyncRun(e.t, this);
    e.run = run;
    connect(run, &RsyncRun::progress, this,
            [this, i, base](quint64 done, quint64 total, double f, quint64 rate) {
                Entry &x = m_e[i];
                x.fraction = std::max(x.fraction, f);
                x.bytes = std::max(x.bytes, base + done);
                x.total = base + total;
                x.rate = rate;
                if (!x.folders)
                    emit transferProgress(x.t.id, x.fraction);
                updateProgress(false);
            });
    connect(run, &RsyncRun::finished, this, [this, i](const RsyncResult &r) { onRunFinished(i, r); });
    if (!e.folders)
        emit transferStarted(e.t.id);
    run->start();
}

void RsyncBatch::onRunFinished(size_t i, const RsyncResult &r)
{
    Entry &e = m_e[i];
    if (e.run)
        e.run->deleteLater();
    e.run = nullptr;
    e.rate = 0;
    e.result = r;
    e.result.attempts = e.retried ? 2 : 1;
    e.hasResult = true;
    if (r.ok()) {
        e.state = State::Done;
        e.fraction = 1;
        e.bytes = std::max(e.bytes, r.stats.totalTransferredFileSize);
        if (!e.folders)
            emit transferFinished(e.t.id, e.result);
    } else if (!m_stopping && m_retry && !e.retried && r.retryable()) {
        e.retried = true;
        e.state = State::RetryWait;
        m_retryPending = true;
        emit retrying(e.t.id, r.errorText());
    } else {
        e.state = State::Done;
        if (!e.folders)
            emit transferFinished(e.t.id, e.result);
        if (!m_stopping)
            stopAll();
    }
    updateProgress(false);
    afterRun();
}

void RsyncBatch::stopAll()
{
    m_stopping = true;
    m_failed = true;
    for (Entry &e : m_e)
        if (e.state == State::Running && e.run)
            e.run->cancel();
}

void RsyncBatch::afterRun()
{
    if (m_done)
        return;
    if (running() > 0) {
        schedule();
        return;
    }
    if (m_stopping) {
        finish(false);
        return;
    }
    if (m_retryPending) {
        if (m_inBeforeRetry)
            return;
        m_inBeforeRetry = true;
        QPointer<RsyncBatch> self(this);
        auto fired = std::make_shared<bool>(false);
        auto go = [self, fired] {
            if (*fired || !self || self->m_done)
                return;
            *fired = true;
            self->m_inBeforeRetry = false;
            self->m_retryPending = false;
            for (Entry &x : self->m_e)
                if (x.state == State::RetryWait)
                    x.state = State::Pending;
            self->schedule();
        };
        if (beforeRetry)
            beforeRetry(go);
        else
            go();
        return;
    }
    const bool pending
        = std::any_of(m_e.begin(), m_e.end(), [](const Entry &e) { return e.state == State::Pending; });
    if (pending)
        schedule();
    else
        finish(!m_failed);
}

void RsyncBatch::updateProgress(bool force)
{
    double sumW = 0, sumF = 0;
    quint64 bytes = 0, total = 0, rate = 0;
    for (const Entry &e : m_e) {
        sumW += e.weight;
        sumF += e.weight * (e.state == State::Done && e.result.ok() ? 1.0 : e.fraction);
        bytes += e.bytes;
        total += std::max({e.total, e.t.expectedBytes, e.bytes});
        if (e.state == State::Running)
            rate += e.rate;
    }
    m_fraction = std::max(m_fraction, sumW > 0 ? std::min(1.0, sumF / sumW) : 1.0);
    m_bytes = std::max(m_bytes, bytes);
    m_total = total;
    m_rate = rate;
    if (force || !m_lastEmit.isValid() || m_lastEmit.elapsed() >= kEmitIntervalMs)
        emitProgress();
    else if (!m_emitTimer.isActive())
        m_emitTimer.start(int(kEmitIntervalMs - m_lastEmit.elapsed()));
}

void RsyncBatch::emitProgress()
{
    m_emitTimer.stop();
    m_lastEmit.start();
    emit progress(m_bytes, std::max(m_total, m_bytes), m_fraction, m_rate);
}

void RsyncBatch::finish(bool ok)
{
    if (m_done)
        return;
    m_done = true;
    m_emitTimer.stop();
    if (ok) {
        m_fraction = 1.0;
        m_rate = 0;
        emitProgress();
    }
    QList<RsyncResult> results;
    for (const Entry &e : m_e)
        if (e.hasResult && (!e.folders || !(e.result.ok() || e.result.canceled)))
            results.append(e.result);
    emit finished(ok, results);
}

} // namespace ns8m
