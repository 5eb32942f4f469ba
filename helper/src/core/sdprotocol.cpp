#include "core/sdprotocol.h"

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace ns8m {

namespace {

// The address of NAME, a path or "@abstract"; its length, 0 when NAME is
// neither or too long.  An abstract name has no trailing NUL.
socklen_t unixAddress(const QByteArray &name, sockaddr_un *addr)
{
    std::memset(addr, 0, sizeof *addr);
    addr->sun_family = AF_UNIX;
    if (name.isEmpty() || size_t(name.size()) >= sizeof addr->sun_path || (name[0] != '/' && name[0] != '@'))
        return 0;
    std::memcpy(addr->sun_path, name.constData(), size_t(name.size()));
    const bool abstract = name[0] == '@';
    if (abstract)
        addr->sun_path[0] = '\0';
    return socklen_t(offsetof(sockaddr_un, sun_path) + size_t(name.size()) + (abstract ? 0 : 1));
}

// One datagram on FD to NAME: 0, or -errno.
int sendDatagram(int fd, const QByteArray &name, const QByteArray &data)
{
    sockaddr_un addr;
    const socklen_t len = unixAddress(name, &addr);
    if (!len)
        return -EINVAL;
    const ssize_t n = ::sendto(fd, data.constData(), size_t(data.size()), MSG_NOSIGNAL,
                               reinterpret_cast<const sockaddr *>(&addr), len);
    return n < 0 ? -errno : 0;
}

// The socket entries go out on, opened once (as libsystemd does), with a send
// buffer large enough for an entry of a few megabytes.
int journalSocketFd()
{
    static const int fd = [] {
        const int s = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        const int size = 8 << 20;
        if (s >= 0 && ::setsockopt(s, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof size) < 0)
            ::setsockopt(s, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
        return s;
    }();
    return fd;
}

} // namespace

int notifyServiceManager(const QByteArray &state)
{
    const char *name = std::getenv("NOTIFY_SOCKET");
    if (!name || !*name)
        return 0;
    const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    const int r = sendDatagram(fd, QByteArray(name), state);
    ::close(fd);
    return r < 0 ? r : 1;
}

QByteArray journalDatagram(const JournalFields &fields)
{
    QByteArray out;
    for (const auto &[name, value] : fields) {
        out += name;
        if (!value.contains('\n')) {
            out += '=';
            out += value;
        } else {
            out += '\n';
            const quint64 n = quint64(value.size());
            for (int i = 0; i < 8; ++i)
                out += char((n >> (8 * i)) & 0xff);
            out += value;
        }
        out += '\n';
    }
    return out;
}

int sendToJournal(const JournalFields &fields, const char *socket)
{
    const int fd = journalSocketFd();
    return fd < 0 ? -EBADF : sendDatagram(fd, QByteArray(socket), journalDatagram(fields));
}

} // namespace ns8m
