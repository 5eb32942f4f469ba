// Whether the kernel sends packets for an address through a given interface
// now: the check made before every connection that must stay inside the
// WireGuard tunnel (the cluster API at the leader's VPN address, the rsync
// receivers of the modules).  Without the tunnel those connections would
// follow whatever route is left (the default one, over the internet) with
// the migration account's password or the receiver's in them; the check
// refuses them before a byte leaves.
#pragma once

#include "core/errors.h"

#include <QString>

namespace ns8m {

// Nothing (Failure{}) when the kernel would send packets for ADDRESS (an IP
// address) out of INTERFACE now; otherwise Error::TunnelDown with a sentence
// saying what is wrong: the interface is missing or down, there is no route
// to ADDRESS, or the route leads out of another interface.  Quick (a few
// system calls, no packet sent): made before each connection.
Failure checkTunnelRoute(const QString &interface, const QString &address);

} // namespace ns8m
