// The administrator's documentation export (a profile's export: tables):
// read from NS7's MariaDB before Finish, as JSON or as one CSV file per
// table, the credentials masked unless an administrator asks for them.
#pragma once

#include "core/errors.h"
#include "ns7/mycnf.h"

#include <QByteArray>
#include <QList>
#include <QMap>
#include <QStringList>
#include <QVariant>

namespace ns8m {

// One table of the export, as a profile's export: gives it: a read-only
// query on one of NS7's databases, and the columns that hold credentials.
struct ExportTable {
    QString id;
    QString title;
    QString titleIt;
    QString database;
    QString query;
    QStringList secretColumns;
};

// What a masked credential reads as.
inline constexpr const char *kMaskedSecret = "********";

struct ExportedTable {
    QString id;
    QStringList columns;
    QList<QVariantList> rows; // a null QVariant for SQL NULL
    QString error;            // why the table could not be read; empty when it was
};

// Runs each table's query (one connection, one consistent snapshot); a
// table that cannot be read keeps its error and the others go on.  False
// with *FAILURE when MariaDB cannot be reached at all.
bool readExportTables(const QList<ExportTable> &tables, const MysqlClientOptions &cnf, bool withSecrets,
                      QList<ExportedTable> *out, Failure *failure);

// The files of app APPID's (named APPNAME) export of SPECS, read as TABLES:
// FORMAT "json" → {<app>-configuration.json}, "csv" → {<app>-<table>.csv, ...}.
// TIMEUS: when it was read (µs since the epoch).
QMap<QString, QByteArray> exportFiles(const QString &appId, const QString &appName, const QList<ExportTable> &specs,
                                      const QList<ExportedTable> &tables, const QString &format, bool withSecrets,
                                      qint64 timeUs);

// One CSV file (RFC 4180: a header line, CRLF, fields quoted when needed).
QByteArray exportCsv(const ExportedTable &table);

} // namespace ns8m
