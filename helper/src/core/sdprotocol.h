// The two small datagram protocols the helper speaks to systemd, its own
// code rather than libsystemd's: sd-bus may come from a library that has no
// journal (libelogind, basu), and NS7's libsystemd 219 has no public sd-bus.
//   - the service manager's notifications (sd_notify(3)): "READY=1" and the
//     like, one datagram to the AF_UNIX socket $NOTIFY_SOCKET names;
//   - the journal's native protocol (systemd.journal-fields(7), "Native
//     Journal Protocol"): one datagram of FIELD=value lines to journald.
#pragma once

#include <QByteArray>

#include <utility>
#include <vector>

namespace ns8m {

// Sends STATE to $NOTIFY_SOCKET (a path, or an abstract name when it starts
// with '@').  1 when sent, 0 when there is no such variable (not started by
// systemd as a notify service), -errno when it could not be sent.
int notifyServiceManager(const QByteArray &state);

using JournalFields = std::vector<std::pair<QByteArray, QByteArray>>;

inline constexpr const char *kJournalSocket = "/run/systemd/journal/socket";

// One journal entry as a datagram: NAME=value lines, and for a value with a
// newline NAME, '\n', its length (64-bit little-endian), the value, '\n'.
QByteArray journalDatagram(const JournalFields &fields);
// Sends FIELDS to the journal's socket at SOCKET.  0, or -errno (no journal
// there, or the entry does not fit one datagram).
int sendToJournal(const JournalFields &fields, const char *socket = kJournalSocket);

} // namespace ns8m
