// A QtSql connection to NS7's MariaDB with the credentials of an option file
// (root's /root/.my.cnf on NS7), for short read-only queries: the database
// sizes of a Scan, the administrator's documentation export.
#pragma once

#include "ns7/mycnf.h"

#include <QSqlDatabase>
#include <QString>

namespace ns8m {

class MysqlSession
{
public:
    // PURPOSE names the connection (several may be open at once).
    MysqlSession(const MysqlClientOptions &cnf, const QString &purpose);
    ~MysqlSession(); // closes the connection and forgets it
    MysqlSession(const MysqlSession &) = delete;
    MysqlSession &operator=(const MysqlSession &) = delete;

    // Connects (10 s at most; a query that reads nothing for 30 s fails);
    // false with MariaDB's reason in *ERROR.
    bool open(QString *error);
    QSqlDatabase db() const;

private:
    QString m_name;
};

} // namespace ns8m
