#include "ns7/dbexport.h"

#include "ns7/mariadb.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSqlError>
#include <QSqlQuery>
#include <QSqlRecord>

namespace ns8m {

namespace {

void readTable(QSqlDatabase db, const ExportTable &t, bool withSecrets, ExportedTable *out)
{
    out->id = t.id;
    QSqlQuery q(db);
    q.setForwardOnly(true);
    if (!q.exec(QStringLiteral("USE `%1`").arg(t.database)) || !q.exec(t.query)) {
        out->error = q.lastError().databaseText();
        return;
    }
    const QSqlRecord rec = q.record();
    QList<bool> masked;
    for (int i = 0; i < rec.count(); ++i) {
        out->columns.append(rec.fieldName(i));
        masked.append(!withSecrets && t.secretColumns.contains(rec.fieldName(i)));
    }
    while (q.next()) {
        QVariantList row;
        for (int i = 0; i < rec.count(); ++i) {
            const QVariant v = q.value(i);
            const bool empty = v.isNull() || v.toString().isEmpty();
            row.append(masked.at(i) && !empty ? QVariant(QString::fromLatin1(kMaskedSecret)) : v);
        }
        out->rows.append(row);
    }
}

QByteArray csvField(const QVariant &v)
{
    if (v.isNull())
        return {};
    QByteArray s = v.toString().toUtf8();
    if (s.contains(',') || s.contains('"') || s.contains('\n') || s.contains('\r') || s.startsWith(' ')
        || s.endsWith(' ')) {
        s.replace("\"", "\"\"");
        s = '"' + s + '"';
    }
    return s;
}

QJsonValue jsonValue(const QVariant &v)
{
    if (v.isNull())
        return QJsonValue::Null;
    return QJsonValue(v.toString());
}

} // namespace

bool readExportTables(const QList<ExportTable> &tables, const MysqlClientOptions &cnf, bool withSecrets,
                      QList<ExportedTable> *out, Failure *failure)
{
    MysqlSession session(cnf, QStringLiteral("export"));
    QString error;
    if (!session.open(&error)) {
        *failure = Failure::failed(Text("export.db", "Cannot read NS7's databases: %1. Check that MariaDB is running.")
                                       .arg(error));
        return false;
    }
    QSqlDatabase db = session.db();
    // Every table as of one moment.
    QSqlQuery(db).exec(QStringLiteral("START TRANSACTION WITH CONSISTENT SNAPSHOT"));
    for (const ExportTable &t : tables) {
        ExportedTable e;
        readTable(db, t, withSecrets, &e);
        out->append(e);
    }
    QSqlQuery(db).exec(QStringLiteral("ROLLBACK"));
    return true;
}

QByteArray exportCsv(const ExportedTable &table)
{
    QByteArray out;
    QList<QByteArray> line;
    for (const QString &c : table.columns)
        line.append(csvField(c));
    out += line.join(',') + "\r\n";
    for (const QVariantList &row : table.rows) {
        line.clear();
        for (const QVariant &v : row)
            line.append(csvField(v));
        out += line.join(',') + "\r\n";
    }
    return out;
}

QMap<QString, QByteArray> exportFiles(const QString &appId, const QString &appName, const QList<ExportTable> &specs,
                                      const QList<ExportedTable> &tables, const QString &format, bool withSecrets,
                                      qint64 timeUs)
{
    QMap<QString, QByteArray> files;
    if (format == u"csv") {
        for (const ExportedTable &t : tables)
            if (t.error.isEmpty())
                files.insert(QStringLiteral("%1-%2.csv").arg(appId, t.id), exportCsv(t));
        return files;
    }
    QJsonArray sections;
    for (int i = 0; i < tables.size() && i < specs.size(); ++i) {
        const ExportedTable &t = tables.at(i);
        QJsonObject s{{QStringLiteral("id"), t.id}, {QStringLiteral("title"), specs.at(i).title}};
        if (!t.error.isEmpty()) {
            s.insert(QStringLiteral("error"), t.error);
        } else {
            QJsonArray rows;
            for (const QVariantList &row : t.rows) {
                QJsonObject o;
                for (int c = 0; c < t.columns.size() && c < row.size(); ++c)
                    o.insert(t.columns.at(c), jsonValue(row.at(c)));
                rows.append(o);
            }
            s.insert(QStringLiteral("columns"), QJsonArray::fromStringList(t.columns));
            s.insert(QStringLiteral("rows"), rows);
        }
        sections.append(s);
    }
    const QJsonObject doc{
        {QStringLiteral("app"), appId},
        {QStringLiteral("name"), appName},
        {QStringLiteral("read_at"), QDateTime::fromMSecsSinceEpoch(timeUs / 1000).toUTC().toString(Qt::ISODate)},
        {QStringLiteral("credentials"), withSecrets ? QStringLiteral("included") : QStringLiteral("masked")},
        {QStringLiteral("tables"), sections}};
    files.insert(appId + QStringLiteral("-configuration.json"), QJsonDocument(doc).toJson(QJsonDocument::Indented));
    return files;
}

} // namespace ns8m
