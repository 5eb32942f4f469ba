#include "transfer/scanner.h"

#include "core/log.h"
#include "ns7/mariadb.h"
#include "core/paths.h"
#include "core/qtcompat.h"

#include <QDir>
#include <QFileInfo>
#include <QJsonObject>
#include <QSqlError>
#include <QSqlQuery>
#include <QTimer>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <fcntl.h>
#include <fnmatch.h>
#include <sys/stat.h>
#include <unistd.h>

namespace ns8m {

namespace {

constexpr int kSliceMs = 15;

// The content of the symbolic link NAME in directory FD (AT_FDCWD: NAME is a
// path); empty when it cannot be read (Linux has no empty links).
QByteArray readLinkAt(int fd, const char *name)
{
    QByteArray buf(PATH_MAX, Qt::Uninitialized);
    for (;;) {
        const ssize_t n = ::readlinkat(fd, name, buf.data(), size_t(buf.size()));
        if (n < 0)
            return {};
        if (n < buf.size()) {
            buf.truncate(static_cast<Size>(n));
            return buf;
        }
        if (buf.size() >= (1 << 20))
            return {};
        buf.resize(buf.size() * 2);
    }
}

QString linkCount(quint64 n, const char *one, const char *many)
{
    return QStringLiteral("%1 %2").arg(n).arg(QLatin1String(n == 1 ? one : many));
}

QString examples(const QStringList &paths, quint64 count)
{
    return paths.join(QStringLiteral(", ")) + (count > quint64(paths.size()) ? QStringLiteral(", ...") : QString());
}

} // namespace

LinkKind classifyLink(const QByteArray &target, int depth)
{
    if (target.startsWith('/'))
        return LinkKind::Absolute;
    if (depth < 0)
        return LinkKind::Escaping;
    for (const QByteArray &part : target.split('/')) {
        if (part.isEmpty() || part == ".")
            continue;
        if (part == "..") {
            if (--depth < 0)
                return LinkKind::Escaping;
        } else {
            ++depth;
        }
    }
    return LinkKind::Inside;
}

void LinkReport::add(LinkKind kind, const QString &path)
{
    if (kind == LinkKind::Absolute) {
        ++absolute;
        if (absolutePaths.size() < kExamples)
            absolutePaths.append(path);
    } else if (kind == LinkKind::Escaping) {
        ++escaping;
        if (escapingPaths.size() < kExamples)
            escapingPaths.append(path);
    }
}

QJsonObject LinkReport::toJson() const
{
    return QJsonObject{{QStringLiteral("absolute"), double(absolute)},
                       {QStringLiteral("absolute_paths"), QJsonArray::fromStringList(absolutePaths)},
                       {QStringLiteral("escaping"), double(escaping)},
                       {QStringLiteral("escaping_paths"), QJsonArray::fromStringList(escapingPaths)}};
}

LinkReport LinkReport::fromJson(const QJsonObject &o)
{
    LinkReport r;
    r.absolute = quint64(o.value(QStringLiteral("absolute")).toDouble());
    r.escaping = quint64(o.value(QStringLiteral("escaping")).toDouble());
    for (const QJsonValue &v : o.value(QStringLiteral("absolute_paths")).toArray())
        r.absolutePaths.append(v.toString());
    for (const QJsonValue &v : o.value(QStringLiteral("escaping_paths")).toArray())
        r.escapingPaths.append(v.toString());
    return r;
}

QList<QPair<QString, QString>> expandSource(const QString &root, const Transfer &t)
{
    QString source = t.source;
    const bool trailing = source.endsWith(u'/') && source.size() > 1;
    if (trailing)
        source.chop(1);
    QList<QPair<QString, QString>> out;
    const Size star = source.indexOf(QStringLiteral("/*"));
    if (star < 0) {
        out.append({underRoot(root, source), QString()});
        return out;
    }
    const QString prefix = underRoot(root, source.left(star));
    const QString rest = source.mid(star + 2); // "" or "/more/path"
    QDir dir(prefix);
    const QStringList names = dir.entryList(QDir::Dirs | QDir::NoDotAndDotDot | QDir::NoSymLinks,
                                            QDir::Name);
    for (const QString &name : names) {
        const QString candidate = prefix + u'/' + name + rest;
        struct stat st {};
        if (::lstat(QFile::encodeName(candidate).constData(), &st) == 0)
            out.append({candidate, name});
    }
    return out;
}

QString symlinkOnPath(const QString &root, const QString &path, bool followsLast)
{
    QString base = root;
    while (base.endsWith(u'/'))
        base.chop(1);
    if (!path.startsWith(base + u'/'))
        return {};
    const QStringList parts = path.mid(base.size() + 1).split(u'/', SkipEmptyParts);
    QString at = base;
    for (Size i = 0; i < parts.size(); ++i) {
        at += u'/' + parts.at(i);
        if (i == parts.size() - 1 && !followsLast)
            break;
        struct stat st {};
        if (::lstat(QFile::encodeName(at).constData(), &st) != 0)
            return {};
        if (S_ISLNK(st.st_mode))
            return at;
    }
    return {};
}

Failure symlinkRefused(const QString &root, const QString &link)
{
    QString shown = link;
    QString base = root;
    while (base.endsWith(u'/'))
        base.chop(1);
    if (!base.isEmpty() && shown.startsWith(base + u'/'))
        shown = shown.mid(base.size());
    const QString target = QFileInfo(link).symLinkTarget();
    return {Error::Failed, Text("transfer.source.symlink", "%1 is a symbolic link (to %2): the helper, which runs as "
                                                           "root, does not follow it. Put the directory itself "
                                                           "there, then try again.")
                               .arg(shown, target.isEmpty() ? QStringLiteral("?") : target)};
}

bool isExcluded(const QByteArray &name, const QList<QByteArray> &patterns)
{
    for (const QByteArray &p : patterns)
        if (fnmatch(p.constData(), name.constData(), FNM_PERIOD) == 0)
            return true;
    return false;
}

QList<JobStep> Scanner::plan(const AppProfile &profile, const QJsonArray &previousDetails)
{
    // Weights from the previous scan make the bar move with the real work
    // (recordings dwarf everything else); the first scan weighs steps alike.
    QHash<QString, double> previous;
    double previousTotal = 0;
    for (const QJsonValue &v : previousDetails) {
        const QJsonArray a = v.toArray();
        const double w = a.at(2).toDouble() + a.at(3).toDouble() / 65536.0;
        previous.insert(a.at(0).toString(), w);
        previousTotal += w;
    }
    QList<JobStep> steps;
    for (const Transfer &t : profile.transfers) {
        JobStep s;
        s.id = t.id;
        s.title = t.title;
        s.weight = previousTotal > 0 ? 0.5 + 100.0 * previous.value(t.id) / previousTotal : 1.0;
        steps.append(s);
    }
    return steps;
}

Scanner::Scanner(const AppProfile &profile, const QString &root, Job *job, QObject *parent)
    : QObject(parent), m_profile(profile), m_root(root), m_job(job)
{
    QString prefix = root;
    while (prefix.endsWith(u'/'))
        prefix.chop(1);
    m_rootPrefix = QFile::encodeName(prefix);
    connect(job, &Job::canceled, this, [this] {
        QTimer::singleShot(0, this, [this] {
            endWalk({QString::fromLatin1(Error::Canceled),
                     Text("scan.canceled", "The scan was canceled; the previous results, if any, are kept.")});
        });
    });
}

Scanner::~Scanner() = default;

void Scanner::walk(Done done)
{
    m_walkDone = std::move(done);
    m_clock.start();
    m_lastPublish.start();
    QTimer::singleShot(0, this, &Scanner::slice);
}

bool Scanner::beginTransfer()
{
    ++m_transfer;
    if (m_transfer >= m_profile.transfers.size())
        return false;
    const Transfer &t = m_profile.transfers.at(m_transfer);
    m_tFiles = m_tBytes = 0;
    m_tLinks = {};
    m_excludes.clear();
    for (const QString &e : t.exclude)
        m_excludes.append(e.toUtf8());
    m_job->beginStep(t.id);

    // The transfer's sources form a virtual first frame.
    Frame top;
    const auto sources = expandSource(m_root, t);
    for (const auto &src : sources) {
        const QString link = symlinkOnPath(m_root, src.first, !t.copiesDirectoryItself());
        if (!link.isEmpty()) {
            m_refused = symlinkRefused(m_root, link);
            Log::warning(QStringLiteral("%1: %2").arg(t.title, m_refused.message), m_job->logContext());
            return false;
        }
        const QByteArray path = QFile::encodeName(src.first);
        struct stat st {};
        if (::lstat(path.constData(), &st) != 0) {
            if (!t.optional) {
                const QString w = QStringLiteral("%1: %2 does not exist").arg(t.title, t.source);
                m_warnings.append(w);
                Log::warning(w, m_job->logContext());
            }
            continue;
        }
        const Size slash = path.lastIndexOf('/');
        if (S_ISDIR(st.st_mode)) {
            top.subdirs.push_back(path);
        } else if (S_ISREG(st.st_mode)) {
            if (!isExcluded(path.mid(slash + 1), m_excludes)) {
                ++m_tFiles;
                m_tBytes += quint64(st.st_size);
            }
        } else if (S_ISLNK(st.st_mode) && !t.source.endsWith(u'/')
                   && !isExcluded(path.mid(slash + 1), m_excludes)) {
            // Without a trailing '/' rsync copies the link itself (with one,
            // what it points to).
            noteLink(path, readLinkAt(AT_FDCWD, path.constData()), -1);
        }
    }
    if (sources.isEmpty() && !t.optional && t.source.contains(u'*')) {
        const QString w = QStringLiteral("%1: %2 does not exist").arg(t.title, t.source);
        m_warnings.append(w);
        Log::warning(w, m_job->logContext());
    }
    m_stack.clear();
    m_stack.push_back(std::move(top));
    return true;
}

void Scanner::noteLink(const QByteArray &path, const QByteArray &target, int depth)
{
    if (target.isEmpty())
        return;
    const LinkKind kind = classifyLink(target, depth);
    if (kind == LinkKind::Inside)
        return;
    m_tLinks.add(kind, QFile::decodeName(path.startsWith(m_rootPrefix) ? path.mid(m_rootPrefix.size()) : path));
}

void Scanner::readDirectory(const QByteArray &path, int depth, Frame *frame)
{
    DIR *dir = ::opendir(path.constData());
    if (!dir) {
        const QString w = QStringLiteral("cannot read %1: %2")
                              .arg(QFile::decodeName(path), QString::fromLocal8Bit(strerror(errno)));
        m_warnings.append(w);
        Log::warning(w, m_job->logContext());
        return;
    }
    const int fd = ::dirfd(dir);
    while (const dirent *e = ::readdir(dir)) {
        const char *name = e->d_name;
        if (name[0] == '.' && (name[1] == 0 || (name[1] == '.' && name[2] == 0)))
            continue;
        const QByteArray n(name);
        if (isExcluded(n, m_excludes))
            continue;
        unsigned char type = e->d_type;
        struct stat st {};
        if (type == DT_UNKNOWN || type == DT_REG) {
            if (::fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
                continue;
            type = S_ISDIR(st.st_mode)   ? DT_DIR
                   : S_ISREG(st.st_mode) ? DT_REG
                   : S_ISLNK(st.st_mode) ? DT_LNK
                                         : DT_UNKNOWN;
        }
        if (type == DT_DIR) {
            frame->subdirs.push_back(path + '/' + n);
        } else if (type == DT_REG) {
            ++m_tFiles;
            m_tBytes += quint64(st.st_size);
        } else if (type == DT_LNK) {
            noteLink(path + '/' + n, readLinkAt(fd, name), depth);
        }
    }
    ::closedir(dir);
    std::sort(frame->subdirs.begin(), frame->subdirs.end());
}

double Scanner::transferProgress() const
{
    double p = 0, scale = 1;
    for (const Frame &f : m_stack) {
        const size_t n = f.subdirs.size();
        if (n == 0)
            break;
        p += scale * double(f.next) / double(n);
        scale /= double(n);
    }
    return p;
}

void Scanner::finishTransfer()
{
    const Transfer &t = m_profile.transfers.at(m_transfer);
    m_files += m_tFiles;
    m_bytes += m_tBytes;
    m_result.details.append(QJsonArray{t.id, t.title, double(m_tFiles), double(m_tBytes), m_tLinks.toJson()});
    m_job->setStepProgress(t.id, 1.0);
    Log::info(QStringLiteral("%1: %2 files, %3").arg(t.title).arg(m_tFiles).arg(humanBytes(m_tBytes)),
              m_job->logContext());
    if (!m_tLinks.isEmpty()) {
        QStringList kinds;
        if (m_tLinks.absolute)
            kinds.append(QStringLiteral("%1 (%2)").arg(linkCount(m_tLinks.absolute, "absolute symbolic link",
                                                                 "absolute symbolic links"),
                                                       examples(m_tLinks.absolutePaths, m_tLinks.absolute)));
        if (m_tLinks.escaping)
            kinds.append(QStringLiteral("%1 (%2)").arg(linkCount(m_tLinks.escaping, "symbolic link leading out of the tree",
                                                                 "symbolic links leading out of the tree"),
                                                       examples(m_tLinks.escapingPaths, m_tLinks.escaping)));
        const QString w = QStringLiteral("%1: %2 will point nowhere on NS8")
                              .arg(t.title, kinds.join(QStringLiteral(" and ")));
        m_warnings.append(w);
        Log::warning(w, m_job->logContext());
    }
}

void Scanner::slice()
{
    if (!m_walkDone || !m_job)
        return;
    if (m_job->cancelRequested())
        return; // the canceled() handler ends it
    QElapsedTimer budget;
    budget.start();
    if (m_transfer < 0 && !beginTransfer())
        return endWalk(m_refused);
    while (budget.elapsed() < kSliceMs) {
        if (m_stack.empty()) {
            finishTransfer();
            if (!beginTransfer()) {
                publishProgress();
                return endWalk(m_refused);
            }
            continue;
        }
        Frame &top = m_stack.back();
        if (top.next < top.subdirs.size()) {
            Frame child;
            child.path = top.subdirs[top.next];
            // The stack holds the sources' frame and the directories above.
            readDirectory(child.path, int(m_stack.size()) - 1, &child);
            m_stack.push_back(std::move(child));
        } else {
            m_stack.pop_back();
            if (!m_stack.empty())
                ++m_stack.back().next;
        }
    }
    publishProgress();
    QTimer::singleShot(0, this, &Scanner::slice);
}

void Scanner::publishProgress()
{
    if (!m_job)
        return;
    if (m_transfer >= 0 && m_transfer < m_profile.transfers.size())
        m_job->setStepProgress(m_profile.transfers.at(m_transfer).id, transferProgress());
    const quint64 bytes = m_bytes + m_tBytes;
    m_job->setBytes(bytes);
    const qint64 ms = m_clock.elapsed();
    if (ms > 500)
        m_job->setRate(quint64(double(bytes) * 1000.0 / double(ms)));
}

namespace {

// The size (data and indexes) of each database of NAMES that exists, with
// the prerequisites page's query; false with *failure when MariaDB failed.
bool queryDatabaseSizes(const MysqlClientOptions &cnf, const QStringList &names, QHash<QString, quint64> *sizes,
                        QString *failure)
{
    MysqlSession session(cnf, QStringLiteral("scan"));
    if (!session.open(failure))
        return false;
    QSqlQuery q(session.db());
    QStringList marks;
    for (Size i = 0; i < names.size(); ++i)
        marks.append(QStringLiteral("?"));
    q.prepare(QStringLiteral("SELECT table_schema, SUM(data_length + index_length)"
                             " FROM information_schema.TABLES WHERE table_schema IN (%1)"
                             " GROUP BY table_schema")
                  .arg(marks.join(u',')));
    for (const QString &n : names)
        q.addBindValue(n);
    const bool ok = q.exec();
    if (!ok)
        *failure = q.lastError().databaseText();
    while (ok && q.next())
        sizes->insert(q.value(0).toString(), q.value(1).toULongLong());
    return ok;
}

} // namespace

Failure Scanner::readDatabases()
{
    if (!m_job)
        return Failure::failed(Text("scan.job-gone", "The scan's job is gone."));
    m_job->setCancelable(false);
    MysqlClientOptions cnf;
    QString error;
    const QString cnfPath = underRoot(m_root, m_profile.dbCredentials);
    if (!loadMyCnf(cnfPath, &cnf, &error)) {
        return Failure::failed(Text("scan.db-credentials", "Cannot read the database sizes: %1.").arg(error));
    }
    QString failure;
    QHash<QString, quint64> sizes;
    QStringList names;
    for (const DatabaseItem &d : std::as_const(m_profile.databases))
        names.append(d.name);
    const bool ok = queryDatabaseSizes(cnf, names, &sizes, &failure);
    if (!ok) {
        return Failure::failed(Text("scan.db-sizes", "Cannot read the database sizes from MariaDB: %1. Check that "
                                              "MariaDB is running and that %2 holds valid credentials.")
                                   .arg(failure, m_profile.dbCredentials));
    }
    for (const DatabaseItem &d : std::as_const(m_profile.databases)) {
        if (!sizes.contains(d.name)) {
            if (!d.optional) {
                const QString w = QStringLiteral("database %1 does not exist").arg(d.name);
                m_warnings.append(w);
                Log::warning(w, m_job->logContext());
            }
            continue;
        }
        const quint64 size = sizes.value(d.name);
        m_result.databaseBytes += size;
        m_result.details.append(QJsonArray{QStringLiteral("db:") + d.name, d.name, 0.0, double(size)});
        Log::info(QStringLiteral("database %1: %2").arg(d.name, humanBytes(size)), m_job->logContext());
    }
    return {};
}

void Scanner::endWalk(const Failure &failure)
{
    if (!m_walkDone)
        return;
    m_stack.clear();
    m_result.files = m_files;
    m_result.bytes = m_bytes;
    Done done = std::move(m_walkDone);
    m_walkDone = nullptr;
    done(failure);
}

Texts Scanner::summary() const
{
    Texts said{Text("scan.done", "%1 files, %2 to copy; databases %3.")
                   .arg(m_result.files)
                   .arg(humanBytes(m_result.bytes))
                   .arg(humanBytes(m_result.databaseBytes))};
    if (!m_warnings.isEmpty())
        said.append(Text("scan.warnings", "Warnings: %1.").arg(m_warnings.join(QStringLiteral("; "))));
    return said;
}

} // namespace ns8m
