#include "transfer/changeset.h"

#include "core/commands.h"
#include "transfer/changewatch.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <dirent.h>
#include <fnmatch.h>
#include <random>
#include <string>
#include <sys/stat.h>
#include <vector>

namespace ns8m {

namespace {

const char kMagic[8] = {'N', 'S', '8', 'M', 'C', 'S', '2', '\n'};
constexpr quint32 kEnd = 0xffffffffU;
constexpr quint32 kMaxPath = 65536;

// One entry as the manifest keeps it.
struct Stat {
    quint64 mode = 0; // 64 bits: the record has no padding
    quint64 size = 0;
    qint64 mtime = 0, mtimeNs = 0, ctime = 0, ctimeNs = 0;
    quint64 ino = 0;
    quint64 nlink = 0; // a file with more hard links may change through another name
};

Stat fromStat(const struct stat &st)
{
    Stat s;
    s.mode = quint64(st.st_mode);
    s.size = S_ISDIR(st.st_mode) ? 0 : quint64(st.st_size); // a directory's size says nothing rsync keeps
    s.mtime = qint64(st.st_mtim.tv_sec);
    s.mtimeNs = qint64(st.st_mtim.tv_nsec);
    s.ctime = qint64(st.st_ctim.tv_sec);
    s.ctimeNs = qint64(st.st_ctim.tv_nsec);
    s.ino = quint64(st.st_ino);
    s.nlink = quint64(st.st_nlink);
    return s;
}

// What the manifest knows of an entry, as lstat() would give it.
struct stat toStat(const Stat &s)
{
    struct stat st {
    };
    st.st_mode = mode_t(s.mode);
    st.st_size = off_t(s.size);
    st.st_mtim.tv_sec = time_t(s.mtime);
    st.st_mtim.tv_nsec = long(s.mtimeNs);
    st.st_ctim.tv_sec = time_t(s.ctime);
    st.st_ctim.tv_nsec = long(s.ctimeNs);
    st.st_ino = ino_t(s.ino);
    st.st_nlink = nlink_t(s.nlink);
    return st;
}

bool sameStat(const Stat &a, const Stat &b)
{
    return a.mode == b.mode && a.size == b.size && a.mtime == b.mtime && a.mtimeNs == b.mtimeNs && a.ctime == b.ctime
        && a.ctimeNs == b.ctimeNs && a.ino == b.ino;
}

// The walk's order: byte by byte, with '/' before every other byte (depth
// first, siblings sorted).
bool walkLess(const std::string &a, const std::string &b)
{
    const size_t n = std::min(a.size(), b.size());
    for (size_t i = 0; i < n; ++i) {
        const unsigned char x = a[i] == '/' ? 0 : static_cast<unsigned char>(a[i]);
        const unsigned char y = b[i] == '/' ? 0 : static_cast<unsigned char>(b[i]);
        if (x != y)
            return x < y;
    }
    return a.size() < b.size();
}

bool excluded(const char *name, const QList<QByteArray> &patterns)
{
    // rsync's '*' and '?' match any byte but '/', a leading '.' too.
    for (const QByteArray &p : patterns)
        if (::fnmatch(p.constData(), name, 0) == 0)
            return true;
    return false;
}

// A depth-first walk of one tree in walkLess() order; VISIT(path, stat)
// for every entry that is not excluded, "" for the top.
class Walker
{
public:
    Walker(const ChangeSetTree &tree, const std::atomic_bool &stop, ChangeWatch *watch = nullptr)
        : m_tree(tree), m_stop(stop), m_watch(watch)
    {
    }
    template<typename Visit>
    bool walk(Visit visit, QString *error)
    {
        struct stat st {
        };
        if (::lstat(m_tree.top.constData(), &st) != 0 || !S_ISDIR(st.st_mode)) {
            *error = QStringLiteral("%1 is not a directory").arg(QFile::decodeName(m_tree.top));
            return false;
        }
        visit(std::string(), st);
        return dir(std::string(), st.st_ino, visit, error);
    }
    quint64 entries = 0;

private:
    template<typename Visit>
    bool dir(const std::string &rel, ino_t ino, Visit &visit, QString *error)
    {
        const std::string abs = std::string(m_tree.top.constData()) + (rel.empty() ? std::string() : '/' + rel);
        // Watched from before it is read: nothing done to it later is missed.
        if (m_watch)
            m_watch->add(m_tree.watchIndex, rel, abs, ino);
        std::vector<std::string> names;
        if (!readNames(abs, &names, error))
            return false;
        for (const std::string &n : names) {
            if (m_stop.load()) {
                *error = QStringLiteral("stopped");
                return false;
            }
            const std::string path = rel.empty() ? n : rel + '/' + n;
            struct stat st {
            };
            if (::lstat((abs + '/' + n).c_str(), &st) != 0) {
                if (errno == ENOENT)
                    continue; // gone since the listing
                *error = QStringLiteral("cannot read %1: %2").arg(QFile::decodeName(QByteArray::fromStdString(abs + '/' + n)), qt_error_string(errno));
                return false;
            }
            ++entries;
            visit(path, st);
            if (S_ISDIR(st.st_mode) && !dir(path, st.st_ino, visit, error))
                return false;
        }
        return true;
    }

public:
    bool readNames(const std::string &abs, std::vector<std::string> *names, QString *error) const
    {
        DIR *d = ::opendir(abs.c_str());
        if (!d) {
            if (errno == ENOENT || errno == ENOTDIR)
                return true; // gone (or replaced) since its parent's listing
            *error = QStringLiteral("cannot read %1: %2").arg(QFile::decodeName(QByteArray::fromStdString(abs)), qt_error_string(errno));
            return false;
        }
        while (const dirent *e = ::readdir(d)) { // NOLINT(concurrency-mt-unsafe): one thread per DIR
            const char *n = e->d_name;
            if ((n[0] == '.' && (n[1] == 0 || (n[1] == '.' && n[2] == 0))) || excluded(n, m_tree.excludes))
                continue;
            names->emplace_back(n);
        }
        ::closedir(d);
        std::sort(names->begin(), names->end());
        return true;
    }

private:
    const ChangeSetTree &m_tree;
    const std::atomic_bool &m_stop;
    ChangeWatch *m_watch;
};

bool writeRecord(FILE *f, const std::string &path, const Stat &s)
{
    const quint32 len = quint32(path.size());
    return std::fwrite(&len, sizeof len, 1, f) == 1 && (len == 0 || std::fwrite(path.data(), len, 1, f) == 1)
        && std::fwrite(&s, sizeof s, 1, f) == 1;
}

// The manifest, read one record at a time.
class ManifestReader
{
public:
    explicit ManifestReader(const QString &file) : m_f(std::fopen(QFile::encodeName(file).constData(), "rbe"))
    {
        char magic[sizeof kMagic];
        if (!m_f || std::fread(magic, sizeof magic, 1, m_f) != 1 || std::memcmp(magic, kMagic, sizeof magic) != 0
            || std::fread(&start, sizeof start, 1, m_f) != 1)
            bad = true;
        else
            next();
    }
    ~ManifestReader()
    {
        if (m_f)
            std::fclose(m_f);
    }
    ManifestReader(const ManifestReader &) = delete;
    ManifestReader &operator=(const ManifestReader &) = delete;

    // Reads the next record; at the end, checks the count.
    void next()
    {
        quint32 len = 0;
        if (bad || std::fread(&len, sizeof len, 1, m_f) != 1) {
            bad = true;
            return fail();
        }
        if (len == kEnd) {
            quint64 count = 0;
            at = false;
            if (std::fread(&count, sizeof count, 1, m_f) != 1 || count != m_count)
                fail();
            return;
        }
        path.resize(len);
        if (len > kMaxPath || (len > 0 && std::fread(&path[0], len, 1, m_f) != 1) || std::fread(&stat, sizeof stat, 1, m_f) != 1)
            return fail();
        ++m_count;
        at = true;
    }

    bool at = false; // a record is there (path, stat)
    bool bad = false; // not a complete manifest
    qint64 start = 0;
    std::string path;
    Stat stat;

private:
    void fail()
    {
        bad = true;
        at = false;
    }
    FILE *m_f;
    quint64 m_count = 0;
};

// Merges the walk with the manifest; writes the list.
class Comparer
{
public:
    Comparer(const ChangeSetTree &tree, ManifestReader &m, FILE *out, ChangeSetResult &r)
        : m_tree(tree), m_m(m), m_out(out), m_r(r), m_racy(m.start - 1)
    {
    }

    void visit(const std::string &path, const struct stat &st)
    {
        while (m_m.at && walkLess(m_m.path, path)) {
            gone();
            m_m.next();
        }
        const Stat now = fromStat(st);
        if (m_m.at && m_m.path == path) {
            const Stat &was = m_m.stat;
            if (!sameStat(was, now) || was.mtime >= m_racy || was.ctime >= m_racy)
                list(path, &m_r.changed);
            // A directory that became something else: rsync (--force)
            // replaces it, its old content is not listed.
            if (S_ISDIR(was.mode) && !S_ISDIR(now.mode))
                m_goneDir = path + '/';
            m_m.next();
            return;
        }
        list(path, &m_r.changed);
    }

    void end()
    {
        while (m_m.at) {
            gone();
            m_m.next();
        }
    }

    // The manifest's next record is not on the disk any more.
    void skipGone()
    {
        gone();
        m_m.next();
    }

    bool failed = false;

private:
    void gone()
    {
        if (!m_goneDir.empty() && m_m.path.compare(0, m_goneDir.size(), m_goneDir) == 0)
            return; // inside a directory listed as gone already
        if (S_ISDIR(m_m.stat.mode))
            m_goneDir = m_m.path + '/';
        if (m_tree.deletions)
            list(m_m.path, &m_r.deleted);
    }

    void list(const std::string &path, quint64 *count)
    {
        std::string name = std::string(m_tree.prefix.constData()) + path;
        if (path.empty()) // the top: "." or the directory copied as itself
            name = m_tree.prefix.isEmpty() ? std::string(".") : name.substr(0, name.size() - 1);
        if (std::fwrite(name.c_str(), name.size() + 1, 1, m_out) != 1)
            failed = true;
        ++*count;
    }

    const ChangeSetTree &m_tree;
    ManifestReader &m_m;
    FILE *m_out;
    ChangeSetResult &m_r;
    qint64 m_racy;
    std::string m_goneDir;
};

// Reservoir sampling over the regular files of a walk: after N files seen,
// each of them is in the sample with the same chance.
class Sampler
{
public:
    Sampler(const ChangeSetTree &tree) : m_tree(tree), m_random(std::random_device{}()) {}

    void visit(const std::string &path, const struct stat &st)
    {
        if (m_tree.sampleSize <= 0 || !S_ISREG(st.st_mode))
            return;
        ++m_seen;
        if (m_picked.size() < size_t(m_tree.sampleSize)) {
            m_picked.push_back(std::string(m_tree.prefix.constData()) + path);
            return;
        }
        const quint64 j = std::uniform_int_distribution<quint64>(0, m_seen - 1)(m_random);
        if (j < m_picked.size())
            m_picked[size_t(j)] = std::string(m_tree.prefix.constData()) + path;
    }

    // The list, NUL-separated (names may hold any byte but NUL).
    bool write(const QString &file) const
    {
        QFile::remove(file);
        FILE *f = std::fopen(QFile::encodeName(file).constData(), "wbxe");
        if (!f)
            return false;
        bool ok = true;
        for (const std::string &name : m_picked)
            ok = ok && std::fwrite(name.c_str(), name.size() + 1, 1, f) == 1;
        ok = std::ferror(f) == 0 && ok;
        return std::fclose(f) == 0 && ok;
    }

    quint64 size() const { return m_picked.size(); }

private:
    const ChangeSetTree &m_tree;
    std::mt19937_64 m_random;
    std::vector<std::string> m_picked;
    quint64 m_seen = 0;
};

// The walk after the stop with a watch: a directory where nothing
// happened since the manifest's walk watched it is not read; its entries
// come from the manifest, in the same order, so the comparison is the same
// (changewatch.h).  Its subdirectories and files with more than one hard
// link are still stat()ed.
class WatchedWalk
{
public:
    WatchedWalk(const ChangeSetTree &tree, const std::atomic_bool &stop, const ChangeWatch &watch, ManifestReader &m,
                Comparer &comparer, Sampler &sampler)
        : m_tree(tree), m_stop(stop), m_watch(watch), m_m(m), m_comparer(comparer), m_sampler(sampler),
          m_names(tree, stop)
    {
    }

    bool walk(QString *error)
    {
        struct stat st {
        };
        if (::lstat(m_tree.top.constData(), &st) != 0 || !S_ISDIR(st.st_mode)) {
            *error = QStringLiteral("%1 is not a directory").arg(QFile::decodeName(m_tree.top));
            return false;
        }
        visit(std::string(), st);
        return dir(std::string(), st.st_ino, error);
    }

    quint64 entries = 0, dirsRead = 0, dirsSkipped = 0;

private:
    void visit(const std::string &path, const struct stat &st)
    {
        if (!path.empty())
            ++entries;
        m_comparer.visit(path, st);
        m_sampler.visit(path, st);
    }

    std::string abs(const std::string &rel) const
    {
        return std::string(m_tree.top.constData()) + (rel.empty() ? std::string() : '/' + rel);
    }

    bool dir(const std::string &rel, ino_t ino, QString *error)
    {
        if (m_watch.clean(m_tree.watchIndex, rel, ino)) {
            ++dirsSkipped;
            return replay(rel, error);
        }
        ++dirsRead;
        std::vector<std::string> names;
        if (!m_names.readNames(abs(rel), &names, error))
            return false;
        for (const std::string &n : names) {
            const std::string path = rel.empty() ? n : rel + '/' + n;
            if (!child(path, error))
                return false;
        }
        return true;
    }

    // PATH as it is on the disk now (and what is under it).
    bool child(const std::string &path, QString *error)
    {
        if (m_stop.load()) {
            *error = QStringLiteral("stopped");
            return false;
        }
        struct stat st {
        };
        if (::lstat(abs(path).c_str(), &st) != 0) {
            if (errno == ENOENT)
                return true; // gone since the listing
            *error = QStringLiteral("cannot read %1: %2").arg(QFile::decodeName(QByteArray::fromStdString(abs(path))), qt_error_string(errno));
            return false;
        }
        visit(path, st);
        return !S_ISDIR(st.st_mode) || dir(path, st.st_ino, error);
    }

    // REL's entries from the manifest (its record was just compared, so
    // the reader is at its first entry).
    bool replay(const std::string &rel, QString *error)
    {
        const std::string prefix = rel.empty() ? std::string() : rel + '/';
        while (m_m.at && m_m.path.compare(0, prefix.size(), prefix) == 0 && m_m.path.size() > prefix.size()) {
            if (m_stop.load()) {
                *error = QStringLiteral("stopped");
                return false;
            }
            if (m_m.path.find('/', prefix.size()) != std::string::npos) {
                m_comparer.skipGone(); // under a subdirectory already walked, and not there now
                continue;
            }
            if (S_ISDIR(mode_t(m_m.stat.mode)) || m_m.stat.nlink > 1) {
                const std::string path = m_m.path;
                struct stat st {
                };
                if (::lstat(abs(path).c_str(), &st) != 0) {
                    m_comparer.skipGone();
                    continue;
                }
                visit(path, st);
                if (S_ISDIR(st.st_mode) && !dir(path, st.st_ino, error))
                    return false;
                continue;
            }
            const std::string path = m_m.path;
            visit(path, toStat(m_m.stat));
        }
        return true;
    }

    const ChangeSetTree &m_tree;
    const std::atomic_bool &m_stop;
    const ChangeWatch &m_watch;
    ManifestReader &m_m;
    Comparer &m_comparer;
    Sampler &m_sampler;
    Walker m_names; // its readNames(): the same names, the same excludes
};

FILE *openNew(const QString &file)
{
    QFile::remove(file);
    return std::fopen(QFile::encodeName(file).constData(), "wbxe");
}

bool closeChecked(FILE *f)
{
    const bool ok = std::ferror(f) == 0;
    return std::fclose(f) == 0 && ok;
}

} // namespace

bool changeSetTree(const RsyncTransfer &transfer, const QString &dir, int n, ChangeSetTree *tree, QString *why)
{
    if (!transfer.stageFrom.isEmpty()) {
        *why = QStringLiteral("staged (rewrite)");
        return false;
    }
    if (transfer.sources.size() != 1) {
        *why = QStringLiteral("%1 sources").arg(transfer.sources.size());
        return false;
    }
    QString source = transfer.sources.first();
    const bool byContent = source.endsWith(u'/');
    while (source.size() > 1 && source.endsWith(u'/'))
        source.chop(1);
    if (!QFileInfo(source).isDir() || QFileInfo(source).isSymLink()) {
        *why = QStringLiteral("not a directory");
        return false;
    }
    tree->excludes.clear();
    for (const QString &p : commands::rsyncExcludePatterns(transfer.args)) {
        if (p.contains(u'/') || p.contains(QLatin1String("**")) || p.contains(u'\\')) {
            *why = QStringLiteral("exclude pattern %1").arg(p);
            return false;
        }
        tree->excludes.append(QFile::encodeName(p));
    }
    tree->id = transfer.id;
    tree->top = QFile::encodeName(source);
    tree->prefix = byContent ? QByteArray() : QFile::encodeName(QFileInfo(source).fileName()) + '/';
    tree->deletions = commands::rsyncDeletes(transfer.args);
    tree->manifest = dir + QStringLiteral("/%1.manifest").arg(n);
    tree->list = dir + QStringLiteral("/%1.list").arg(n);
    tree->sample = dir + QStringLiteral("/%1.sample").arg(n);
    return true;
}

ChangeSetResult writeManifest(const ChangeSetTree &tree, const std::atomic_bool &stop, ChangeWatch *watch)
{
    ChangeSetResult r;
    r.id = tree.id;
    QElapsedTimer clock;
    clock.start();
    const QString tmp = tree.manifest + QStringLiteral(".new");
    FILE *f = openNew(tmp);
    if (!f) {
        r.error = QStringLiteral("cannot create %1: %2").arg(tmp, qt_error_string(errno));
        return r;
    }
    std::vector<char> buffer(1 << 20);
    std::setvbuf(f, buffer.data(), _IOFBF, buffer.size());
    const qint64 start = qint64(std::time(nullptr));
    bool written = std::fwrite(kMagic, sizeof kMagic, 1, f) == 1 && std::fwrite(&start, sizeof start, 1, f) == 1;
    quint64 count = 0;
    Walker walker(tree, stop, tree.watchIndex >= 0 ? watch : nullptr);
    const bool walked = walker.walk([&](const std::string &path, const struct stat &st) {
        written = written && writeRecord(f, path, fromStat(st));
        ++count;
    }, &r.error);
    written = written && std::fwrite(&kEnd, sizeof kEnd, 1, f) == 1 && std::fwrite(&count, sizeof count, 1, f) == 1;
    written = closeChecked(f) && written;
    r.entries = walker.entries;
    r.durationMs = clock.elapsed();
    if (walked && !written)
        r.error = QStringLiteral("cannot write %1").arg(tmp);
    r.ok = walked && written && std::rename(QFile::encodeName(tmp).constData(), QFile::encodeName(tree.manifest).constData()) == 0;
    if (!r.ok)
        QFile::remove(tmp);
    return r;
}

ChangeSetResult compareManifest(const ChangeSetTree &tree, const std::atomic_bool &stop, const ChangeWatch *watch)
{
    ChangeSetResult r;
    r.id = tree.id;
    QElapsedTimer clock;
    clock.start();
    ManifestReader manifest(tree.manifest);
    if (manifest.bad) {
        r.error = QStringLiteral("the manifest %1 is missing or damaged").arg(tree.manifest);
        return r;
    }
    FILE *out = openNew(tree.list);
    if (!out) {
        r.error = QStringLiteral("cannot create %1: %2").arg(tree.list, qt_error_string(errno));
        return r;
    }
    Comparer comparer(tree, manifest, out, r);
    Sampler sampler(tree);
    bool walked = false;
    if (!watch || tree.watchIndex < 0)
        r.whole = QStringLiteral("no watch");
    else if (watch->trusted(tree.watchIndex, &r.whole)) {
        WatchedWalk watched(tree, stop, *watch, manifest, comparer, sampler);
        walked = watched.walk(&r.error);
        r.entries = watched.entries;
        r.dirsRead = watched.dirsRead;
        r.dirsSkipped = watched.dirsSkipped;
    }
    if (!r.whole.isEmpty()) {
        Walker walker(tree, stop);
        walked = walker.walk([&comparer, &sampler](const std::string &path, const struct stat &st) {
            comparer.visit(path, st);
            sampler.visit(path, st);
        }, &r.error);
        r.entries = walker.entries;
    }
    if (walked)
        comparer.end();
    bool written = closeChecked(out) && !comparer.failed;
    if (walked && written && tree.sampleSize > 0) {
        written = sampler.write(tree.sample);
        r.sampled = sampler.size();
    }
    r.durationMs = clock.elapsed();
    if (walked && manifest.bad)
        r.error = QStringLiteral("the manifest %1 is damaged").arg(tree.manifest);
    else if (walked && !written)
        r.error = QStringLiteral("cannot write %1").arg(tree.list);
    r.ok = walked && !manifest.bad && written;
    if (!r.ok) {
        QFile::remove(tree.list);
        QFile::remove(tree.sample);
    }
    return r;
}

RsyncTransfer changeSetTransfer(const RsyncTransfer &transfer, const QString &list)
{
    RsyncTransfer t = transfer;
    t.args = commands::rsyncChangeSetOptions(transfer.args, list);
    t.sources = QStringList{sampleBase(transfer)};
    return t;
}

RsyncTransfer changeSetVerifyTransfer(const RsyncTransfer &transfer, const QString &list)
{
    RsyncTransfer t = transfer;
    t.args = commands::rsyncChangeSetDryRunOptions(transfer.args, list);
    t.sources = QStringList{sampleBase(transfer)};
    return t;
}

ChangeSetWalk::ChangeSetWalk(Mode mode, QList<ChangeSetTree> trees, std::shared_ptr<ChangeWatch> watch, QObject *parent)
    : QThread(parent), m_mode(mode), m_trees(std::move(trees)), m_watch(std::move(watch))
{
}

ChangeSetWalk::~ChangeSetWalk()
{
    m_stop = true;
    wait();
}

void ChangeSetWalk::run()
{
    // What happened up to now (after the stop, nothing more should).
    if (m_watch && m_mode == Mode::Compare)
        m_watch->drain();
    for (const ChangeSetTree &t : std::as_const(m_trees))
        m_results.append(m_mode == Mode::Record ? writeManifest(t, m_stop, m_watch.get())
                                                : compareManifest(t, m_stop, m_watch.get()));
}

} // namespace ns8m
