// The files a profile's generate: section makes on NS7 at every pass
// (docs/app-profiles.md, "Files made by the helper"): an export fixed for
// NS8 (exporter "ldif": slapcat, then transfer/ldif.h's fixes), an
// environment file (exporter "env": KEY=value lines from constants, NS7
// files, NS7's configuration DB, the cluster's user domain and the
// administrator's fields), or a folder
// of consistent copies of Samba's databases (exporter "samba": tdbbackup).  They are written into a root-only
// stage folder under the state directory; the sync then sends each one to
// its destination.  Nothing they hold (a password in an env file) reaches
// argv, the log or a property.
#pragma once

#include "core/errors.h"
#include "core/log.h"
#include "profile/appprofile.h"

#include <QList>
#include <QObject>
#include <QString>
#include <QVariantMap>

#include <functional>

namespace ns8m {

struct GenerateInput {
    QString root;       // NS7's root ("/", a sample tree in the tests)
    QString stageDir;   // the app's stage folder, made again (0700) at every pass
    QString userDomain; // the cluster's user domain (chosen at Connect)
    LogContext log;
    // A property of NS7's configuration DB (record, property), for the env
    // exporter's esmith values; empty when it has none.
    std::function<QString(const QString &key, const QString &prop)> esmith;
    // The administrator's field values given at Start, for the env
    // exporter's field values.
    QVariantMap fields;
};

struct GeneratedOutput {
    QString id;
    QString title;
    QString localPath;      // <stage>/<id>/<file name>
    QString destinationDir; // under the module's /srv, ending with '/'
};

using GenerateDone = std::function<void(const Failure &failure, const QList<GeneratedOutput> &files)>;

// Makes FILES one after the other; DONE with what was made, or the first
// failure.  CONTEXT owns the child processes.
void generateFiles(QObject *context, const QList<GeneratedFile> &files, const GenerateInput &in, GenerateDone done);

// The samba exporter's databases: every *.tdb/*.ldb file under DIR (the
// profile's source under NS7's root) outside its sysvol folder, but those
// the profile skips; paths relative to DIR, sorted.
QStringList sambaDatabases(const GeneratedFile &file, const QString &dir);

// The content of an env file: its KEY=value lines, or a failure that names
// the missing value (never a value).
QByteArray envFileContent(const GeneratedFile &file, const GenerateInput &in, Failure *failure);

} // namespace ns8m
