#include "ns7/mycnf.h"

#include "core/qtcompat.h"

#include <QFile>
#include <QStringList>

namespace ns8m {

namespace {

QString unquote(QString v)
{
    v = v.trimmed();
    if (v.size() >= 2 && (v.at(0) == u'"' || v.at(0) == u'\'') && v.at(v.size() - 1) == v.at(0)) {
        const QChar q = v.at(0);
        v = v.mid(1, v.size() - 2);
        if (q == u'"') {
            v.replace(QStringLiteral("\\\""), QStringLiteral("\""));
            v.replace(QStringLiteral("\\\\"), QStringLiteral("\\"));
        }
    }
    return v;
}

} // namespace

MysqlClientOptions parseMyCnf(const QByteArray &text)
{
    static const QStringList groups = {QStringLiteral("client"), QStringLiteral("mysql"),
                                       QStringLiteral("mariadb-client"),
                                       QStringLiteral("client-mariadb")};
    MysqlClientOptions o;
    bool inGroup = false;
    for (const QByteArray &raw : text.split('\n')) {
        const QString line = QString::fromUtf8(raw).trimmed();
        if (line.isEmpty() || line.startsWith(u'#') || line.startsWith(u';'))
            continue;
        if (line.startsWith(u'[') && line.endsWith(u']')) {
            inGroup = groups.contains(line.mid(1, line.size() - 2).trimmed());
            continue;
        }
        if (!inGroup)
            continue;
        const Size eq = line.indexOf(u'=');
        QString key = (eq < 0 ? line : line.left(eq)).trimmed();
        key.replace(u'_', u'-');
        const QString value = eq < 0 ? QString() : unquote(line.mid(eq + 1));
        if (key == u"user")
            o.user = value;
        else if (key == u"password")
            o.password = value;
        else if (key == u"host")
            o.host = value;
        else if (key == u"socket")
            o.socket = value;
        else if (key == u"port")
            o.port = value.toInt();
    }
    return o;
}

bool loadMyCnf(const QString &path, MysqlClientOptions *out, QString *error)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) {
        *error = QStringLiteral("cannot read the MariaDB credentials in %1: %2")
                     .arg(path, f.errorString());
        return false;
    }
    *out = parseMyCnf(f.readAll());
    return true;
}

} // namespace ns8m
