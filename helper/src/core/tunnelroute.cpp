#include "core/tunnelroute.h"

#include <QByteArray>

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

// How the check works, and why this way.
//
// The connections to protect are not the helper's to bind: HTTP goes through
// QNetworkAccessManager (no hook between socket() and connect()) and rsync
// is a child process.  Binding them would not help anyway: SO_BINDTODEVICE
// is not reachable for either, and a source address bound to the VPN address
// (rsync --address) still leaves by the default route when the tunnel is
// gone.  So the helper asks the kernel, just before each connection, where
// a connection to the destination would go:
//
//  1. the interface exists (if_nametoindex) and is up (SIOCGIFFLAGS): the
//     usual failures (deleted, e.g. after a crash of wireguard-go, or set
//     down) get their own sentence;
//  2. a UDP socket is connect()ed to the destination: that runs the same
//     route lookup (routing rules included) a TCP connect() from this
//     process would, and sends nothing.  getsockname() then gives the source
//     address the route chose, and getifaddrs() the interface that holds it:
//     it must be the tunnel.  A route leads out of an interface and takes
//     its source from that interface's addresses, and the VPN address exists
//     only on the tunnel, so a route that leaves through eth0 (the default
//     one once the tunnel is gone, or a more specific one added by hand)
//     shows eth0's address.  (Only a route through another interface that
//     names the tunnel's address as its preferred source, "src", would pass:
//     nobody writes one.)
//
// No route at all (connect() fails with ENETUNREACH) is refused too.  All of
// it is a handful of system calls on the event loop's thread, in-process,
// with no packet on any wire.

namespace ns8m {

namespace {

union SocketAddress {
    sockaddr sa;
    sockaddr_in in4;
    sockaddr_in6 in6;
    sockaddr_storage storage;
};

// ADDRESS as a socket address (any port: a UDP connect() sends nothing);
// false when it is not an IP address.
bool parseAddress(const QString &address, SocketAddress *out, socklen_t *len)
{
    std::memset(out, 0, sizeof *out);
    QString bare = address;
    if (bare.startsWith(u'[') && bare.endsWith(u']'))
        bare = bare.mid(1, bare.size() - 2);
    const QByteArray a = bare.toLatin1();
    if (::inet_pton(AF_INET, a.constData(), &out->in4.sin_addr) == 1) {
        out->in4.sin_family = AF_INET;
        out->in4.sin_port = htons(9);
        *len = sizeof out->in4;
        return true;
    }
    if (::inet_pton(AF_INET6, a.constData(), &out->in6.sin6_addr) == 1) {
        out->in6.sin6_family = AF_INET6;
        out->in6.sin6_port = htons(9);
        *len = sizeof out->in6;
        return true;
    }
    return false;
}

// Whether INTERFACE is administratively up.
bool isUp(const QByteArray &interface)
{
    const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    ifreq req {};
    std::strncpy(req.ifr_name, interface.constData(), IFNAMSIZ - 1);
    const bool up = ::ioctl(fd, SIOCGIFFLAGS, &req) == 0 && (req.ifr_flags & IFF_UP);
    ::close(fd);
    return up;
}

// The source address of the route the kernel picks towards DEST; false when
// there is no route.
bool sourceTowards(const SocketAddress &dest, socklen_t len, SocketAddress *source)
{
    const int fd = ::socket(dest.sa.sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    socklen_t sourceLen = sizeof *source;
    const bool ok = ::connect(fd, &dest.sa, len) == 0 && ::getsockname(fd, &source->sa, &sourceLen) == 0;
    ::close(fd);
    return ok;
}

bool sameAddress(const sockaddr *a, const SocketAddress &b)
{
    if (!a || a->sa_family != b.sa.sa_family)
        return false;
    if (a->sa_family == AF_INET)
        return reinterpret_cast<const sockaddr_in *>(a)->sin_addr.s_addr == b.in4.sin_addr.s_addr;
    return std::memcmp(&reinterpret_cast<const sockaddr_in6 *>(a)->sin6_addr, &b.in6.sin6_addr, sizeof(in6_addr)) == 0;
}

// The interface that holds ADDRESS ("" when none does).
QString holderOf(const SocketAddress &address)
{
    ifaddrs *list = nullptr;
    if (::getifaddrs(&list) != 0)
        return {};
    QString name;
    for (const ifaddrs *i = list; i && name.isEmpty(); i = i->ifa_next)
        if (sameAddress(i->ifa_addr, address))
            name = QString::fromLocal8Bit(i->ifa_name);
    ::freeifaddrs(list);
    return name;
}

Failure refused(const Text &why)
{
    return {Error::TunnelDown, why};
}

} // namespace

Failure checkTunnelRoute(const QString &interface, const QString &address)
{
    const QByteArray name = interface.toLocal8Bit();
    if (name.isEmpty() || name.size() >= IFNAMSIZ || ::if_nametoindex(name.constData()) == 0)
        return refused(Text("tunnel.missing", "Nothing was sent to %2: the VPN interface %1 to the NS8 cluster is "
                                              "missing, and without it the connection would leave outside the "
                                              "tunnel. Restart the ns8-migration-helper service (it puts the "
                                              "tunnel back), then try again.")
                           .arg(interface, address));
    if (!isUp(name))
        return refused(Text("tunnel.down", "Nothing was sent to %2: the VPN interface %1 to the NS8 cluster is "
                                           "down. Restart the ns8-migration-helper service (it sets the tunnel up "
                                           "again), then try again.")
                           .arg(interface, address));
    SocketAddress dest, source;
    socklen_t len = 0;
    if (!parseAddress(address, &dest, &len) || !sourceTowards(dest, len, &source))
        return refused(Text("tunnel.no-route", "Nothing was sent to %2: this server has no route to it through "
                                               "the VPN interface %1. Restart the ns8-migration-helper service (it "
                                               "sets the tunnel up again), then try again.")
                           .arg(interface, address));
    const QString holder = holderOf(source);
    if (holder != interface)
        return refused(Text("tunnel.elsewhere", "Nothing was sent to %2: this server routes it through %3, not "
                                                "through the VPN interface %1 to the NS8 cluster. Remove the route "
                                                "that takes it there (ip route get %2 shows it), then try again.")
                           .arg(interface, address, holder.isEmpty() ? QStringLiteral("?") : holder));
    return {};
}

} // namespace ns8m
