#include "transfer/changeset.h"

#include "core/commands.h"
#include "core/qtcompat.h"
#include "transfer/changewatch.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include <fcntl.h>
#include <dirent.h>
#include <ftw.h>
#include <sched.h>
#include <sys/mount.h>
#include <set>
#include <vector>
#include <unistd.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace ns8m;

namespace {

// Byte names: QFile would take them as UTF-8.
bool writeFile(const QByteArray &path, const QByteArray &data)
{
    const int fd = ::open(path.constData(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return false;
    const bool ok = ::write(fd, data.constData(), size_t(data.size())) == ssize_t(data.size());
    return ::close(fd) == 0 && ok;
}

// NUL-separated names of a --files-from list.
std::set<QByteArray> readList(const QString &path)
{
    QFile f(path);
    std::set<QByteArray> names;
    if (!f.open(QIODevice::ReadOnly))
        return names;
    const QList<QByteArray> parts = f.readAll().split('\0');
    for (const QByteArray &p : parts)
        if (!p.isEmpty())
            names.insert(p);
    return names;
}

// {relative path: content, or "dir" / "link:<target>"} of a tree (POSIX
// calls: the names are bytes).
void snapshotInto(const QByteArray &top, const QByteArray &rel, std::set<QByteArray> *out)
{
    DIR *d = ::opendir((rel.isEmpty() ? top : top + '/' + rel).constData());
    if (!d)
        return;
    std::vector<QByteArray> names;
    while (const dirent *e = ::readdir(d))
        if (qstrcmp(e->d_name, ".") != 0 && qstrcmp(e->d_name, "..") != 0)
            names.emplace_back(e->d_name);
    ::closedir(d);
    for (const QByteArray &n : names) {
        const QByteArray r = rel.isEmpty() ? n : rel + '/' + n, abs = top + '/' + r;
        struct stat st {
        };
        ::lstat(abs.constData(), &st);
        char buf[4096];
        if (S_ISLNK(st.st_mode)) {
            const ssize_t k = ::readlink(abs.constData(), buf, sizeof buf);
            out->insert(r + " link:" + QByteArray(buf, int(qMax<ssize_t>(k, 0))));
        } else if (S_ISDIR(st.st_mode)) {
            out->insert(r + " dir");
            snapshotInto(top, r, out);
        } else {
            const int fd = ::open(abs.constData(), O_RDONLY | O_CLOEXEC);
            const ssize_t k = fd < 0 ? 0 : ::read(fd, buf, sizeof buf);
            if (fd >= 0)
                ::close(fd);
            out->insert(r + " = " + QByteArray(buf, int(qMax<ssize_t>(k, 0))));
        }
    }
}

std::set<QByteArray> snapshot(const QByteArray &top)
{
    std::set<QByteArray> out;
    snapshotInto(top, {}, &out);
    return out;
}

int removeEntry(const char *path, const struct stat *, int, struct FTW *)
{
    return ::remove(path);
}

// rsync's stdout (the itemized lines of a dry run).
QByteArray rsyncOutput(const QStringList &args)
{
    QProcess p;
    p.start(QStringLiteral("rsync"), args);
    return p.waitForFinished(60000) && p.exitCode() == 0 ? p.readAllStandardOutput() : QByteArray("failed");
}

int rsync(const QStringList &args)
{
    QProcess p;
    p.setProcessChannelMode(QProcess::ForwardedChannels);
    p.start(QStringLiteral("rsync"), args);
    return p.waitForFinished(60000) ? p.exitCode() : -1;
}

// The change-set tree of TOP copied by content with --delete, its files
// under DIR, watched; its entries older than the manifest's clock tick.
bool watchedTree(const QByteArray &top, const QString &dir, ChangeSetTree *tree)
{
    RsyncTransfer t;
    t.id = QStringLiteral("recordings");
    t.sources = QStringList{QFile::decodeName(top) + u'/'};
    t.args = QStringList{QStringLiteral("-a"), QStringLiteral("--delete")};
    QString why;
    if (!changeSetTree(t, dir, 0, tree, &why))
        return false;
    tree->watchIndex = 0;
    QTest::qWait(2100);
    return true;
}

} // namespace

class TestChangeSet : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    // The walk after the stop names exactly what changed since the manifest,
    // and rsync sending that list makes the copy equal the source again.
    // Watched (inotify): the same list, with the directories where nothing
    // happened read from the manifest.
    void onlyChangesAndCopyEqual_data()
    {
        QTest::addColumn<bool>("byContent");
        QTest::addColumn<bool>("watched");
        QTest::newRow("dir/") << true << false;
        QTest::newRow("dir") << false << false;
        QTest::newRow("dir/, watched") << true << true;
        QTest::newRow("dir, watched") << false << true;
    }
    void onlyChangesAndCopyEqual()
    {
        QFETCH(bool, byContent);
        QFETCH(bool, watched);
        QTemporaryDir tmp;
        QVERIFY(tmp.isValid());
        const QByteArray base = QFile::encodeName(tmp.path());
        const QByteArray src = base + "/monitor", dst = base + "/dst";
        QVERIFY(QDir().mkpath(QFile::decodeName(dst)));
        for (int day = 1; day <= 5; ++day) {
            const QByteArray d = src + "/2024/01/0" + QByteArray::number(day);
            QVERIFY(QDir().mkpath(QFile::decodeName(d)));
            for (int i = 0; i < 20; ++i)
                QVERIFY(writeFile(d + "/rec-" + QByteArray::number(i) + ".wav", "sound " + QByteArray::number(day * 100 + i)));
        }
        QVERIFY(writeFile(src + "/2024/skip.tmp", "excluded"));
        QVERIFY(::symlink("01/01/rec-1.wav", (src + "/2024/latest").constData()) == 0);
        const QStringList args{QStringLiteral("-a"), QStringLiteral("--delete"), QStringLiteral("--exclude=*.tmp")};
        const QString from = QFile::decodeName(byContent ? src + '/' : src);
        QCOMPARE(rsync(args + QStringList{from, QFile::decodeName(dst) + u'/'}), 0);

        RsyncTransfer t;
        t.id = QStringLiteral("recordings");
        t.sources = QStringList{from};
        t.args = args;
        ChangeSetTree tree;
        QString why;
        QVERIFY2(changeSetTree(t, tmp.path(), 0, &tree, &why), qPrintable(why));
        // Older than the manifest's clock tick: otherwise every entry is
        // listed, as it may have changed again within it.
        QTest::qWait(2100);
        std::atomic_bool stop{false};
        tree.watchIndex = watched ? 0 : -1;
        ChangeWatch watch({tree.top.toStdString()});
        const ChangeSetResult recorded = writeManifest(tree, stop, &watch);
        QVERIFY2(recorded.ok, qPrintable(recorded.error));
        QCOMPARE(recorded.entries, quint64(5 * 20 + 5 + 1 + 1 + 1)); // files, days, 01, latest, 2024 (not skip.tmp)

        const QByteArray day = src + "/2024/01/0";
        // Same size, same mtime: only ctime differs.
        struct stat st {
        };
        QVERIFY(::stat((day + "1/rec-3.wav").constData(), &st) == 0);
        QVERIFY(writeFile(day + "1/rec-3.wav", "SOUND 103"));
        const struct timespec times[2] = {st.st_atim, st.st_mtim};
        QVERIFY(::utimensat(AT_FDCWD, (day + "1/rec-3.wav").constData(), times, 0) == 0);
        QVERIFY(QFile::remove(QFile::decodeName(day + "2/rec-7.wav")));
        QVERIFY(QDir(QFile::decodeName(day + "3")).removeRecursively());
        QVERIFY(::rename((day + "4").constData(), (day + "4-renamed").constData()) == 0);
        // A directory that becomes a file.
        QVERIFY(QDir(QFile::decodeName(day + "5")).removeRecursively());
        QVERIFY(writeFile(day + "5", "now a file"));
        QVERIFY(QDir().mkpath(QFile::decodeName(src + "/2099/12/31")));
        QVERIFY(writeFile(src + "/2099/12/31/odd \xff\tname\n.wav", "new"));
        QVERIFY(writeFile(src + "/2099/12/31/new.tmp", "excluded"));

        watch.drain();
        const ChangeSetResult compared = compareManifest(tree, stop, &watch);
        QVERIFY2(compared.ok, qPrintable(compared.error));
        if (watched) {
            // Read: the top (2099 is new), 01, 02, 01/.. (its days changed),
            // 04-renamed (moved: its watch stayed with its old name), the
            // three new ones.  From the manifest: 2024, where nothing happened.
            QVERIFY2(compared.whole.isEmpty(), qPrintable(compared.whole));
            QCOMPARE(compared.dirsSkipped, quint64(1));
            QCOMPARE(compared.dirsRead, quint64(8));
        } else {
            QCOMPARE(compared.whole, QStringLiteral("no watch"));
        }
        const QByteArray p = byContent ? QByteArray() : QByteArray("monitor/");
        std::set<QByteArray> expected{p + "2024/01", p + "2024/01/01/rec-3.wav", p + "2024/01/02", p + "2024/01/03",
                                      p + "2024/01/04-renamed", p + "2024/01/05", p + "2099", p + "2099/12",
                                      p + "2099/12/31", p + "2099/12/31/odd \xff\tname\n.wav",
                                      p + "2024/01/02/rec-7.wav", p + "2024/01/04", byContent ? "." : "monitor"};
        for (int i = 0; i < 20; ++i)
            expected.insert(p + "2024/01/04-renamed/rec-" + QByteArray::number(i) + ".wav");
        const std::set<QByteArray> listed = readList(tree.list);
        for (const QByteArray &n : listed)
            if (!expected.count(n))
                qWarning("listed, not expected: %s", n.constData());
        for (const QByteArray &n : expected)
            if (!listed.count(n))
                qWarning("expected, not listed: %s", n.constData());
        QCOMPARE(listed, expected);
        QCOMPARE(compared.deleted, quint64(3)); // 02/rec-7.wav, 03 (once), 04
        QCOMPARE(compared.changed, quint64(expected.size() - 3));

        // Finish's verification of a change set: before the copy it names
        // the rewritten file (contents compared) and the gone one.
        const RsyncTransfer check = changeSetVerifyTransfer(t, tree.list);
        const QStringList checkArgs = check.args + check.sources + QStringList{QFile::decodeName(dst) + u'/'};
        const QByteArray before = rsyncOutput(checkArgs);
        QVERIFY2(before.contains("2024/01/01/rec-3.wav") && before.contains("*deleting   " + p + "2024/01/02/rec-7.wav"),
                 before.constData());
        const RsyncTransfer send = changeSetTransfer(t, tree.list);
        QCOMPARE(rsync(send.args + send.sources + QStringList{QFile::decodeName(dst) + u'/'}), 0);
        const QByteArray copy = byContent ? dst : dst + "/monitor";
        std::set<QByteArray> want = snapshot(src), got = snapshot(copy);
        want.erase("2099/12/31/new.tmp = excluded");
        want.erase("2024/skip.tmp = excluded");
        got.erase("2024/skip.tmp = excluded");
        for (const QByteArray &n : got)
            if (!want.count(n))
                qWarning("copy only: %s", n.constData());
        for (const QByteArray &n : want)
            if (!got.count(n))
                qWarning("source only: %s", n.constData());
        QCOMPARE(got, want);
        // ...and after it, nothing.
        for (const QByteArray &line : rsyncOutput(checkArgs).split('\n'))
            QVERIFY2(line.isEmpty(), line.constData());
        ::nftw(base.constData(), removeEntry, 16, FTW_DEPTH | FTW_PHYS); // QDir would take the names as UTF-8
    }

    // Where the kernel may not tell: a file changed through a hard link
    // outside the tree is stat()ed anyway; a queue overflow or a new mount
    // under the tree reads the whole tree.  Each time the list is right.
    void watchSafetyNet_data()
    {
        QTest::addColumn<QString>("how");
        QTest::newRow("hard link") << QStringLiteral("link");
        QTest::newRow("overflow") << QStringLiteral("overflow");
        QTest::newRow("mount") << QStringLiteral("mount");
    }
    void watchSafetyNet()
    {
        QFETCH(QString, how);
        if (how == u"mount" && (::geteuid() != 0 || ::unshare(CLONE_NEWNS) != 0
                                 || ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0))
            QSKIP("a mount namespace of its own needs root");
        QTemporaryDir tmp;
        QVERIFY(tmp.isValid());
        const QByteArray base = QFile::encodeName(tmp.path());
        const QByteArray top = base + "/rec";
        for (const char *d : {"/a", "/b", "/c"}) {
            QVERIFY(QDir().mkpath(QFile::decodeName(top + d)));
            for (int i = 0; i < 5; ++i)
                QVERIFY(writeFile(top + d + "/f" + QByteArray::number(i), "data " + QByteArray::number(i)));
        }
        QVERIFY(::link((top + "/a/f1").constData(), (base + "/elsewhere").constData()) == 0);
        ChangeSetTree tree;
        QVERIFY(watchedTree(top, tmp.path(), &tree));
        std::atomic_bool stop{false};
        ChangeWatch watch({tree.top.toStdString()});
        QVERIFY(writeManifest(tree, stop, &watch).ok);

        // Through the other name, same size and mtime: no event in a/.
        struct stat st {
        };
        QVERIFY(::stat((base + "/elsewhere").constData(), &st) == 0);
        QVERIFY(writeFile(base + "/elsewhere", "DATA 1"));
        const struct timespec times[2] = {st.st_atim, st.st_mtim};
        QVERIFY(::utimensat(AT_FDCWD, (base + "/elsewhere").constData(), times, 0) == 0);
        std::set<QByteArray> expected{"a/f1"};
        if (how == u"overflow") {
            watch.simulateOverflow();
        } else if (how == u"mount") {
            QVERIFY(::mount("tmpfs", (top + "/c").constData(), "tmpfs", 0, "size=1m") == 0);
            QVERIFY(writeFile(top + "/c/new", "on the new file system"));
            // c's files are gone (the mount hides them), c/new is new, c changed.
            expected = {"a/f1", "c", "c/new", "c/f0", "c/f1", "c/f2", "c/f3", "c/f4"};
        }
        watch.drain();
        const ChangeSetResult r = compareManifest(tree, stop, &watch);
        QVERIFY2(r.ok, qPrintable(r.error));
        if (how == u"link") {
            QVERIFY2(r.whole.isEmpty(), qPrintable(r.whole));
            QCOMPARE(r.dirsRead, quint64(0)); // nothing happened in any directory
        } else {
            QVERIFY(!r.whole.isEmpty());
            QVERIFY2(r.whole.contains(how == u"overflow" ? QStringLiteral("overflowed") : QStringLiteral("mount points")),
                     qPrintable(r.whole));
        }
        QCOMPARE(readList(tree.list), expected);
        if (how == u"mount")
            QVERIFY(::umount((top + "/c").constData()) == 0);
    }

    // A directory moved away and a new one made with its name: the new one
    // (another inode, its watch never added) is read, the moved one too.
    void watchedNewDirectoryWithAnOldName()
    {
        QTemporaryDir tmp;
        QVERIFY(tmp.isValid());
        const QByteArray top = QFile::encodeName(tmp.path()) + "/rec";
        QVERIFY(QDir().mkpath(QFile::decodeName(top + "/a/deep")));
        QVERIFY(writeFile(top + "/a/x", "x"));
        QVERIFY(writeFile(top + "/a/deep/y", "y"));
        ChangeSetTree tree;
        QVERIFY(watchedTree(top, tmp.path(), &tree));
        std::atomic_bool stop{false};
        ChangeWatch watch({tree.top.toStdString()});
        QVERIFY(writeManifest(tree, stop, &watch).ok);
        QVERIFY(::rename((top + "/a").constData(), (top + "/b").constData()) == 0);
        QVERIFY(QDir().mkpath(QFile::decodeName(top + "/a/deep")));
        QVERIFY(writeFile(top + "/a/z", "z"));
        watch.drain();
        const ChangeSetResult r = compareManifest(tree, stop, &watch);
        QVERIFY2(r.ok && r.whole.isEmpty(), qPrintable(r.error + r.whole));
        QCOMPARE(readList(tree.list), (std::set<QByteArray>{".", "a", "a/deep", "a/x", "a/deep/y", "a/z", "b", "b/deep",
                                                            "b/x", "b/deep/y"}));
    }

    // A damaged or missing manifest is no change set: the full pass.
    void damagedManifestRefused()
    {
        QTemporaryDir tmp;
        QVERIFY(QDir().mkpath(tmp.path() + QStringLiteral("/t/a")));
        RsyncTransfer t;
        t.id = QStringLiteral("x");
        t.sources = QStringList{tmp.path() + QStringLiteral("/t/")};
        ChangeSetTree tree;
        QString why;
        QVERIFY(changeSetTree(t, tmp.path(), 0, &tree, &why));
        std::atomic_bool stop{false};
        QVERIFY(!compareManifest(tree, stop).ok); // missing
        QVERIFY(writeManifest(tree, stop).ok);
        QVERIFY(compareManifest(tree, stop).ok);
        QFile f(tree.manifest);
        QVERIFY(f.resize(f.size() - 4)); // cut short
        const ChangeSetResult r = compareManifest(tree, stop);
        QVERIFY(!r.ok);
        QVERIFY(!QFile::exists(tree.list));
    }

    // The walk after the stop also picks verify's sample: regular files
    // only, at most the size asked, every file with its chance, names with
    // any byte; rsync reads the list with --from0 and finds each file.
    void sampleFromTheWalk_data()
    {
        QTest::addColumn<bool>("byContent");
        QTest::newRow("dir/") << true;
        QTest::newRow("dir") << false;
    }
    void sampleFromTheWalk()
    {
        QFETCH(bool, byContent);
        QTemporaryDir tmp;
        QVERIFY(tmp.isValid());
        const QByteArray top = QFile::encodeName(tmp.path()) + "/rec";
        std::set<QByteArray> files;
        for (int d = 0; d < 5; ++d) {
            const QByteArray dir = "2024/0" + QByteArray::number(d + 1);
            QVERIFY(QDir().mkpath(QFile::decodeName(top + '/' + dir)));
            for (int i = 0; i < 40; ++i) {
                // A newline, a tab and a byte that is not UTF-8 in some names.
                const QByteArray name = dir + '/' + (i % 7 == 0 ? QByteArray("odd\n\t\xff-") : QByteArray("call-")) + QByteArray::number(i) + ".wav";
                QVERIFY(writeFile(top + '/' + name, "x"));
                files.insert(name);
            }
            QVERIFY(::symlink("call-1.wav", (top + '/' + dir + "/link").constData()) == 0);
        }
        RsyncTransfer t;
        t.id = QStringLiteral("recordings");
        t.sources = QStringList{QFile::decodeName(top) + (byContent ? QStringLiteral("/") : QString())};
        ChangeSetTree tree;
        QString why;
        QVERIFY2(changeSetTree(t, tmp.path(), 0, &tree, &why), qPrintable(why));
        std::atomic_bool stop{false};
        QVERIFY(writeManifest(tree, stop).ok);
        // Every file has its chance: over 60 walks of 200 files picking 10,
        // far more than half of them are picked at least once.
        std::set<QByteArray> seen;
        tree.sampleSize = 10;
        for (int round = 0; round < 60; ++round) {
            const ChangeSetResult r = compareManifest(tree, stop);
            QVERIFY(r.ok);
            QCOMPARE(r.sampled, quint64(10));
            const std::set<QByteArray> sample = readList(tree.sample);
            QCOMPARE(sample.size(), size_t(10));
            for (const QByteArray &name : sample) {
                const QByteArray rel = byContent ? name : name.mid(4); // "rec/"
                QVERIFY2(byContent || name.startsWith("rec/"), name.constData());
                QVERIFY2(files.count(rel), name.constData());
                seen.insert(rel);
            }
        }
        QVERIFY2(seen.size() > 150, QByteArray::number(qulonglong(seen.size())).constData());
        // Asked for more than there are: every file, once.
        tree.sampleSize = 1000;
        QVERIFY(compareManifest(tree, stop).ok);
        QCOMPARE(readList(tree.sample).size(), files.size());
        // rsync finds every listed name (a dry run against an empty copy
        // itemizes each as new).
        RsyncTransfer copy = t;
        copy.destinationPath = tmp.path() + QStringLiteral("/copy/");
        QVERIFY(QDir().mkpath(copy.destinationPath));
        QStringList args = commands::rsyncDryRunOptions({QStringLiteral("-a")}, true, tree.sample);
        args << sampleBase(t) << copy.destinationPath;
        const QByteArray out = rsyncOutput(args);
        QVERIFY2(out != "failed", out.constData());
        QCOMPARE(out.count(">f+++++++++"), int(files.size()));
        // The compare walk of a tree that cannot be trusted leaves no sample.
        QFile f(tree.manifest);
        QVERIFY(f.resize(f.size() - 4));
        QVERIFY(!compareManifest(tree, stop).ok);
        QVERIFY(!QFile::exists(tree.sample));
        ::nftw(top.constData(), removeEntry, 16, FTW_DEPTH | FTW_PHYS); // names QTemporaryDir cannot decode
    }

    // What the walk cannot do as rsync does gets the full pass.
    void fullPassCases()
    {
        QTemporaryDir tmp;
        QVERIFY(QDir().mkpath(tmp.path() + QStringLiteral("/t")));
        ChangeSetTree tree;
        QString why;
        RsyncTransfer t;
        t.sources = QStringList{tmp.path() + QStringLiteral("/t/")};
        t.args = QStringList{QStringLiteral("--exclude=a/b")};
        QVERIFY(!changeSetTree(t, tmp.path(), 0, &tree, &why));
        t.args = QStringList{QStringLiteral("--exclude=**")};
        QVERIFY(!changeSetTree(t, tmp.path(), 0, &tree, &why));
        t.args = QStringList{};
        t.stageFrom = t.sources.first();
        QVERIFY(!changeSetTree(t, tmp.path(), 0, &tree, &why));
        t.stageFrom.clear();
        t.sources = QStringList{tmp.path() + QStringLiteral("/missing")};
        QVERIFY(!changeSetTree(t, tmp.path(), 0, &tree, &why));
    }

    // A tree larger than kIncrementalFiles goes with incremental recursion.
    void boundedMemoryForLargeTrees()
    {
        RsyncTransfer small, large;
        small.profileId = QStringLiteral("voicemail");
        large.profileId = QStringLiteral("recordings");
        small.args = large.args = commands::rsyncCopyOptions(120, 20);
        QList<RsyncTransfer> plan{small, large};
        const QJsonArray scanned{QJsonArray{QStringLiteral("voicemail"), QStringLiteral("V"), 1000, 1e6},
                                 QJsonArray{QStringLiteral("recordings"), QStringLiteral("R"), double(kIncrementalFiles + 1), 1e9}};
        boundMemory(&plan, scanned);
        QVERIFY(plan.at(0).args.contains(QStringLiteral("--no-inc-recursive")));
        QVERIFY(!plan.at(1).args.contains(QStringLiteral("--no-inc-recursive")));
        QCOMPARE(plan.at(1).args.size(), small.args.size() - 1);
    }

    void options()
    {
        const QStringList a = commands::rsyncChangeSetOptions({QStringLiteral("-a"), QStringLiteral("--delete")}, QStringLiteral("L"));
        QVERIFY(!a.contains(QStringLiteral("--delete")));
        QVERIFY(a.contains(QStringLiteral("--files-from=L")) && a.contains(QStringLiteral("--from0")));
        QVERIFY(a.contains(QStringLiteral("--delete-missing-args")) && a.contains(QStringLiteral("--force")));
        const QStringList b = commands::rsyncChangeSetOptions({QStringLiteral("-a")}, QStringLiteral("L"));
        QVERIFY(b.contains(QStringLiteral("--ignore-missing-args")) && !b.contains(QStringLiteral("--delete-missing-args")));
    }
};

QTEST_GUILESS_MAIN(TestChangeSet)
#include "test_changeset.moc"
