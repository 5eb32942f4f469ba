#include "transfer/changewatch.h"

#include <QFile>
#include <QSocketNotifier>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <sys/inotify.h>
#include <sys/statfs.h>
#include <unistd.h>

namespace ns8m {

namespace {

// Everything that changes a directory's entries or what rsync copies of them.
constexpr uint32_t kEvents = IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO | IN_CREATE
                             | IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF | IN_DONT_FOLLOW | IN_ONLYDIR;

// The helper's memory for the folders' names stays bounded (about 100 bytes
// a folder); a tree with more is walked whole.
constexpr size_t kMaxWatches = 65536;

// Local file systems, where every change goes through this kernel.
bool reportsEveryChange(const std::string &abs)
{
    struct statfs fs {
    };
    if (::statfs(abs.c_str(), &fs) != 0)
        return false;
    switch (static_cast<unsigned long>(fs.f_type)) {
    case 0xEF53UL: // ext2, ext3, ext4
    case 0x58465342UL: // xfs (NS7's default)
    case 0x9123683EUL: // btrfs
    case 0x01021994UL: // tmpfs
        return true;
    default:
        return false;
    }
}

bool octal(char c)
{
    return c >= '0' && c <= '7';
}

// A mount point as /proc/self/mountinfo writes it: space, tab, newline
// and backslash as \ooo.
std::string unescape(const std::string &s)
{
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\\' && i + 3 < s.size() && octal(s[i + 1]) && octal(s[i + 2]) && octal(s[i + 3])) {
            out += char(std::stoi(s.substr(i + 1, 3), nullptr, 8));
            i += 3;
        } else {
            out += s[i];
        }
    }
    return out;
}

bool under(const std::string &path, const std::string &top)
{
    return path == top || (path.size() > top.size() && path.compare(0, top.size(), top) == 0 && path[top.size()] == '/');
}

} // namespace

ChangeWatch::ChangeWatch(std::vector<std::string> tops, QObject *parent)
    : QObject(parent), m_tops(std::move(tops)), m_fd(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC)),
      m_dirs(m_tops.size()), m_untrusted(m_tops.size()), m_mounts(m_tops.size())
{
    if (m_fd < 0) {
        m_lost = QStringLiteral("inotify is not available: %1").arg(QString::fromLocal8Bit(std::strerror(errno)));
        return;
    }
    for (size_t i = 0; i < m_tops.size(); ++i)
        m_mounts[i] = mountsUnder(int(i));
    m_notifier = std::make_unique<QSocketNotifier>(m_fd, QSocketNotifier::Read);
    connect(m_notifier.get(), &QSocketNotifier::activated, this, [this] { drain(); });
}

ChangeWatch::~ChangeWatch()
{
    m_notifier.reset();
    if (m_fd >= 0)
        ::close(m_fd);
}

std::vector<std::string> ChangeWatch::mountsUnder(int tree) const
{
    std::vector<std::string> out;
    std::ifstream in("/proc/self/mountinfo");
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream fields(line);
        std::string field, point;
        for (int i = 0; i < 5 && fields >> field; ++i)
            point = field;
        point = unescape(point);
        if (under(point, m_tops.at(size_t(tree))))
            out.push_back(point);
    }
    std::sort(out.begin(), out.end());
    return out;
}

void ChangeWatch::add(int tree, const std::string &rel, const std::string &abs, unsigned long long ino)
{
    const std::lock_guard<std::mutex> hold(m_lock);
    QString &why = m_untrusted.at(size_t(tree));
    if (m_fd < 0 || !why.isEmpty())
        return;
    if (!reportsEveryChange(abs)) {
        why = QStringLiteral("%1 is on a file system that may change without telling this host")
                  .arg(QFile::decodeName(QByteArray::fromStdString(abs)));
        return;
    }
    if (m_watches >= kMaxWatches) {
        why = QStringLiteral("more than %1 folders to watch").arg(kMaxWatches);
        return;
    }
    const int wd = ::inotify_add_watch(m_fd, abs.c_str(), kEvents);
    if (wd < 0) {
        why = errno == ENOSPC ? QStringLiteral("no more inotify watches (fs.inotify.max_user_watches)")
                              : QStringLiteral("cannot watch %1: %2")
                                    .arg(QFile::decodeName(QByteArray::fromStdString(abs)),
                                         QString::fromLocal8Bit(std::strerror(errno)));
        return;
    }
    m_dirs.at(size_t(tree))[rel] = Dir{wd, ino};
    ++m_watches;
}

void ChangeWatch::stopNotifier()
{
    m_notifier.reset();
}

void ChangeWatch::drain()
{
    alignas(struct inotify_event) char buffer[64 * 1024];
    for (;;) {
        const ssize_t n = ::read(m_fd, buffer, sizeof buffer);
        if (n <= 0)
            return; // EAGAIN: nothing queued
        const std::lock_guard<std::mutex> hold(m_lock);
        for (ssize_t at = 0; at < n;) {
            const auto *e = reinterpret_cast<const struct inotify_event *>(buffer + at);
            if (e->mask & IN_Q_OVERFLOW)
                m_lost = QStringLiteral("the kernel's queue of changes overflowed");
            else if (e->mask & IN_UNMOUNT)
                m_lost = QStringLiteral("a file system under the trees was unmounted");
            else
                m_dirty.insert(e->wd); // IN_IGNORED too: the directory is gone
            at += ssize_t(sizeof(struct inotify_event) + e->len);
        }
    }
}

bool ChangeWatch::trusted(int tree, QString *why) const
{
    const std::lock_guard<std::mutex> hold(m_lock);
    if (!m_lost.isEmpty())
        *why = m_lost;
    else if (!m_untrusted.at(size_t(tree)).isEmpty())
        *why = m_untrusted.at(size_t(tree));
    else if (mountsUnder(tree) != m_mounts.at(size_t(tree)))
        *why = QStringLiteral("the mount points under it changed");
    else
        return true;
    return false;
}

bool ChangeWatch::clean(int tree, const std::string &rel, unsigned long long ino) const
{
    const std::lock_guard<std::mutex> hold(m_lock);
    const auto &dirs = m_dirs.at(size_t(tree));
    const auto it = dirs.find(rel);
    return it != dirs.end() && it->second.ino == ino && m_dirty.count(it->second.wd) == 0;
}

void ChangeWatch::simulateOverflow()
{
    const std::lock_guard<std::mutex> hold(m_lock);
    m_lost = QStringLiteral("the kernel's queue of changes overflowed");
}

} // namespace ns8m
