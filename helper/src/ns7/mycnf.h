// Reader for MySQL/MariaDB option files such as /root/.my.cnf.
#pragma once

#include <QString>

namespace ns8m {

struct MysqlClientOptions {
    QString user;
    QString password; // secret: never log it
    QString host;
    QString socket;
    int port = 0;
};

// Reads the [client] group (and [mysql], [mariadb-client], [client-mariadb],
// which the client programs also read) of an option file.  Values may be
// quoted with ' or "; "#" and ";" start comments at the start of a line.
MysqlClientOptions parseMyCnf(const QByteArray &text);
bool loadMyCnf(const QString &path, MysqlClientOptions *out, QString *error);

} // namespace ns8m
