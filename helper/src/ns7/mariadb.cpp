#include "ns7/mariadb.h"

#include "core/qtcompat.h"

#include <QSqlError>
#include <QUuid>

namespace ns8m {

MysqlSession::MysqlSession(const MysqlClientOptions &cnf, const QString &purpose)
    : m_name(purpose + u'-' + withoutBraces(QUuid::createUuid()))
{
    QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QMYSQL"), m_name);
    db.setUserName(cnf.user.isEmpty() ? QStringLiteral("root") : cnf.user);
    db.setPassword(cnf.password);
    const QString timeouts = QStringLiteral("MYSQL_OPT_CONNECT_TIMEOUT=10;MYSQL_OPT_READ_TIMEOUT=30");
    if (!cnf.socket.isEmpty()) {
        db.setHostName(QStringLiteral("localhost"));
        db.setConnectOptions(QStringLiteral("UNIX_SOCKET=") + cnf.socket + u';' + timeouts);
    } else {
        db.setHostName(cnf.host.isEmpty() ? QStringLiteral("localhost") : cnf.host);
        if (cnf.port)
            db.setPort(cnf.port);
        db.setConnectOptions(timeouts);
    }
}

MysqlSession::~MysqlSession()
{
    {
        QSqlDatabase db = QSqlDatabase::database(m_name, false);
        db.close();
    }
    QSqlDatabase::removeDatabase(m_name);
}

bool MysqlSession::open(QString *error)
{
    QSqlDatabase d = db();
    if (d.open())
        return true;
    *error = d.lastError().databaseText();
    if (error->isEmpty())
        *error = d.lastError().text();
    return false;
}

QSqlDatabase MysqlSession::db() const
{
    return QSqlDatabase::database(m_name, false);
}

} // namespace ns8m
