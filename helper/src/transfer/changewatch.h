// What the kernel saw change in the migrated trees between the manifest
// and the stop (inotify), so that the walk after the stop reads only the
// directories where something happened (docs/transfers.md, "The last sync:
// only what changed").
//
// The manifest's walk puts a watch on every directory just before it reads
// it; from then on, whatever is created, written, closed after writing,
// changed in its attributes, moved or deleted in that directory marks it.
// A directory with no mark, the same inode, and on a local file system is
// read from the manifest instead of the disk after the stop.  The safety
// net, where the kernel may not say everything:
//   - the queue overflowed, or a file system under a tree was unmounted:
//     no tree is trusted (the whole walk, as without a watch);
//   - a watch could not be added (fs.inotify.max_user_watches, or more
//     than 65 536 folders in all: the helper's memory), or a
//     directory is on a file system not known to report every change
//     (network file systems report only their own client's): that tree is
//     walked whole;
//   - the mount points under the trees changed: the whole walk;
//   - a file with more than one hard link may be written through a name
//     outside the watched directories: such files are always stat()ed;
//   - a directory moved away takes its watch with it: its new place is
//     read whole, its old one is gone.
// Writes through a shared mapping reach the watch when the writer closes
// the file or exits (IN_CLOSE_WRITE): the stop ends the writers first.
#pragma once

#include <QObject>
#include <QString>

#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

class QSocketNotifier;

namespace ns8m {

class ChangeWatch : public QObject
{
    Q_OBJECT
public:
    // TOPS: each tree's top directory, by the index the walks use.
    explicit ChangeWatch(std::vector<std::string> tops, QObject *parent = nullptr);
    ~ChangeWatch() override;
    ChangeWatch(const ChangeWatch &) = delete;
    ChangeWatch &operator=(const ChangeWatch &) = delete;

    // The manifest's walk (any thread): a watch on REL of tree TREE (path
    // ABS, inode INO) before it is read.  Once one fails, the tree is walked
    // whole; the reason is kept for the log.
    void add(int tree, const std::string &rel, const std::string &abs, unsigned long long ino);

    // The walk after the stop: stop reading the queue on the event loop,
    // read what is left (from the walk's thread), then ask.
    void stopNotifier();
    void drain();
    // Whether TREE's directories may be read from the manifest; *WHY when not.
    bool trusted(int tree, QString *why) const;
    // REL of TREE, found with inode INO, had no event since its watch.
    bool clean(int tree, const std::string &rel, unsigned long long ino) const;

    // For the tests: what an overflow of the queue does.
    void simulateOverflow();

private:
    struct Dir {
        int wd = -1;
        unsigned long long ino = 0;
    };
    std::vector<std::string> mountsUnder(int tree) const;

    const std::vector<std::string> m_tops;
    int m_fd = -1;
    std::unique_ptr<QSocketNotifier> m_notifier;
    mutable std::mutex m_lock;
    std::vector<std::unordered_map<std::string, Dir>> m_dirs; // by tree, by path
    std::vector<QString> m_untrusted; // by tree: why it is walked whole ("" trusted)
    std::vector<std::vector<std::string>> m_mounts; // by tree: mount points under it at the start
    std::unordered_set<int> m_dirty; // watches with an event
    size_t m_watches = 0;
    QString m_lost; // why no tree is trusted ("" none)
};

} // namespace ns8m
