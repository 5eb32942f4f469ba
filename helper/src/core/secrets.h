// Secret files under the state directory (the WireGuard key, passwords):
// written atomically, root-only, in a root-only directory.
#pragma once

#include <QByteArray>
#include <QString>

namespace ns8m {

// Writes DATA to PATH (mode 0600), creating its directory (mode 0700).
bool writeSecretFile(const QString &path, const QByteArray &data, QString *error);
// The file's content without surrounding white space; empty when unreadable.
QByteArray readSecretFile(const QString &path);

} // namespace ns8m
