// What the command line sets (options.cpp); the defaults here are the only
// ones, --help shows them.
#pragma once

#include <QString>

namespace ns8m {

struct Settings {
    static QString defaultProfilesDir(); // the installed profiles, set at build time

    QString busAddress;     // "" → the system bus
    QString stateDir = QStringLiteral("/var/lib/ns8-migration");
    QString root = QStringLiteral("/");
    QString profilesDir = defaultProfilesDir();
    int jobLingerSeconds = 600;
    QString caFile;             // CAs trusted for the leader besides the system's
    int vpnTimeoutSeconds = 60; // first handshake and API through the tunnel
    int taskTimeoutSeconds = 300;
};

} // namespace ns8m
