#include "transfer/generate.h"

#include "core/commands.h"
#include "core/process.h"
#include "core/secrets.h"
#include "transfer/ldif.h"

#include <QDir>
#include <QDirIterator>
#include <QFileInfo>
#include <QFile>
#include <QSaveFile>

#include <memory>
#include <sys/stat.h>

namespace ns8m {

namespace {

// An export of a directory of a few thousand entries takes seconds; a large
// one is given half an hour.
constexpr int kSlapcatTimeoutMs = 30 * 60 * 1000;

QString underRoot(const QString &root, const QString &path)
{
    return root == u"/" || root.isEmpty() ? path : QDir::cleanPath(root + u'/' + path);
}

QString envValue(const EnvValue &v, const GenerateInput &in, Failure *failure)
{
    QString value;
    if (v.source == u"const")
        value = v.param;
    else if (v.source == u"file")
        value = QString::fromUtf8(readSecretFile(underRoot(in.root, v.param)));
    else if (v.source == u"esmith")
        value = in.esmith ? in.esmith(v.param, v.prop) : QString();
    else if (v.source == u"field")
        value = in.fields.value(v.param).toString();
    if (!v.before.isEmpty())
        value = value.section(v.before, 0, 0);
    else if (v.source == u"cluster" && v.param == u"user_domain")
        value = in.userDomain;
    else if (v.source == u"cluster" && v.param == u"user_domain_suffix")
        value = QString::fromUtf8(ldapSuffixOf(in.userDomain));
    if (value.isEmpty())
        *failure = Failure::failed(Text("generate.env.missing", "%1 cannot be written: %2 has no value (%3).")
                                       .arg(QStringLiteral("import.env"), v.name,
                                            v.source == u"file"     ? v.param
                                            : v.source == u"esmith" ? QStringLiteral("configuration %1 %2").arg(v.param, v.prop)
                                                                    : v.source + u' ' + v.param));
    else if (value.contains(u'\n') || value.contains(u'\r'))
        *failure = Failure::failed(Text("generate.env.newline", "%1 cannot be written: the value of %2 spans more "
                                                                "than one line.")
                                       .arg(QStringLiteral("import.env"), v.name));
    return failure->isError() ? QString() : value;
}

bool makeStage(const QString &dir, QString *error)
{
    QDir(dir).removeRecursively();
    if (!QDir().mkpath(dir) || ::chmod(QFile::encodeName(dir).constData(), 0700) != 0) {
        *error = QStringLiteral("cannot create the folder %1").arg(dir);
        return false;
    }
    return true;
}

GeneratedOutput outputOf(const GeneratedFile &file, const GenerateInput &in)
{
    return {file.id, file.title, in.stageDir + u'/' + file.id + u'/' + file.fileName(), file.destinationDir()};
}

Failure writeEnv(const GeneratedFile &file, const GenerateInput &in)
{
    Failure failure;
    const QByteArray content = envFileContent(file, in, &failure);
    if (failure.isError())
        return failure;
    QString error;
    if (!writeSecretFile(outputOf(file, in).localPath, content, &error))
        return Failure::failed(Text("generate.write", "%1 cannot be written: %2.").arg(file.fileName(), error));
    Log::info(QStringLiteral("%1 written (%2 variables)").arg(file.fileName()).arg(file.values.size()), in.log);
    return {};
}

// The raw export RAW fixed into the file's output.
Failure fixExport(const GeneratedFile &file, const GenerateInput &in, const QString &raw)
{
    QFile source(raw);
    QSaveFile out(outputOf(file, in).localPath);
    if (!source.open(QIODevice::ReadOnly) || !out.open(QIODevice::WriteOnly))
        return Failure::failed(Text("generate.write", "%1 cannot be written: %2.")
                                   .arg(file.fileName(), source.isOpen() ? out.errorString() : source.errorString()));
    LdifFix fix;
    fix.schema = file.schema;
    fix.oldSuffix = file.suffix.toUtf8();
    fix.newSuffix = ldapSuffixOf(in.userDomain);
    LdifFixStats stats;
    QString error;
    if (!fixLdif(&source, &out, fix, &stats, &error) || !out.commit())
        return Failure::failed(Text("generate.ldif.failed", "The export of %1 cannot be converted for NS8: %2")
                                   .arg(file.slapdConfig, error.isEmpty() ? out.errorString() : error));
    QStringList classes, attributes;
    for (const QByteArray &c : std::as_const(stats.droppedClasses))
        classes.append(QString::fromUtf8(c));
    for (const QByteArray &a : std::as_const(stats.droppedAttributes))
        attributes.append(QString::fromUtf8(a));
    classes.sort();
    attributes.sort();
    Log::info(QStringLiteral("%1: %2 entries under %3, %4 left out; object classes dropped: %5; attributes dropped: %6")
                  .arg(file.fileName())
                  .arg(stats.entries)
                  .arg(QString::fromUtf8(fix.newSuffix))
                  .arg(stats.dropped)
                  .arg(classes.isEmpty() ? QStringLiteral("none") : classes.join(QStringLiteral(", ")),
                       attributes.isEmpty() ? QStringLiteral("none") : attributes.join(QStringLiteral(", "))),
              in.log);
    return {};
}

void exportLdif(QObject *context, const GeneratedFile &file, const GenerateInput &in,
                std::function<void(const Failure &)> done)
{
    if (in.userDomain.isEmpty())
        return done(Failure::failed(Text("generate.ldif.no-domain", "The directory cannot be exported: the cluster "
                                                                    "link names no user domain.")));
    const QString raw = in.stageDir + u'/' + file.id + QStringLiteral("/slapcat.ldif");
    const QStringList argv = commands::slapcat(underRoot(in.root, file.slapdConfig), file.database);
    runProcessToFile(context, argv, raw, [file, in, raw, done](const ProcessResult &r) {
        if (!r.ok()) {
            QFile::remove(raw);
            return done(Failure::failed(Text("generate.ldif.slapcat", "Exporting the directory failed: %1")
                                            .arg(r.errorText())));
        }
        const Failure fixed = fixExport(file, in, raw);
        QFile::remove(raw);
        done(fixed);
    }, kSlapcatTimeoutMs);
}

// The samba exporter: tdbbackup writes <db>.export beside each database
// (as NS7's own nsdc backup does), the copies are then moved into the stage
// at their relative places.
struct SambaExport {
    QString dir;
    QString stage;
    QStringList databases; // relative to dir
    QList<QStringList> argvs;
};

Failure collectExports(const SambaExport &e, const LogContext &log)
{
    Failure failure;
    for (const QString &db : e.databases) {
        const QString copy = e.dir + u'/' + db + QStringLiteral(".export");
        const QString target = e.stage + db;
        QDir().mkpath(QFileInfo(target).path());
        QFile::remove(target);
        if (!failure.isError() && !QFile::rename(copy, target))
            failure = Failure::failed(Text("generate.samba.move", "The copy of %1 cannot be moved to %2.").arg(copy, target));
        QFile::remove(copy);
    }
    if (!failure.isError())
        Log::info(QStringLiteral("%1: consistent copies of %2 databases").arg(e.dir).arg(e.databases.size()), log);
    return failure;
}

void exportSamba(QObject *context, const GeneratedFile &file, const GenerateInput &in,
                 std::function<void(const Failure &)> done)
{
    SambaExport e{underRoot(in.root, file.source), in.stageDir + u'/' + file.id + u'/', {}, {}};
    if (!QFileInfo(e.dir).isDir())
        return done(Failure::failed(Text("generate.samba.missing", "The domain controller's databases cannot be "
                                                                   "copied: %1 is not a folder.").arg(e.dir)));
    e.databases = sambaDatabases(file, e.dir);
    QStringList locked, unlocked;
    for (const QString &db : std::as_const(e.databases))
        (file.unlocked.contains(db.section(u'/', -1)) ? unlocked : locked).append(e.dir + u'/' + db);
    if (!locked.isEmpty())
        e.argvs.append(commands::tdbbackup(locked, false));
    if (!unlocked.isEmpty())
        e.argvs.append(commands::tdbbackup(unlocked, true));
    runSequence(context, e.argvs, [e, in, done](const ProcessResult &r) {
        if (!r.ok()) {
            for (const QString &db : e.databases)
                QFile::remove(e.dir + u'/' + db + QStringLiteral(".export"));
            return done(Failure::failed(Text("generate.samba.tdbbackup", "Copying the domain controller's databases "
                                                                         "failed: %1").arg(r.errorText())));
        }
        done(collectExports(e, in.log));
    });
}

void generateFrom(QObject *context, const QList<GeneratedFile> &files, int index, const GenerateInput &in,
                  const GenerateDone &done)
{
    if (index >= files.size()) {
        QList<GeneratedOutput> outputs;
        for (const GeneratedFile &f : files)
            outputs.append(outputOf(f, in));
        return done({}, outputs);
    }
    const GeneratedFile &file = files.at(index);
    QDir().mkpath(in.stageDir + u'/' + file.id);
    auto next = [context, files, index, in, done](const Failure &failure) {
        if (failure.isError())
            return done(failure, {});
        generateFrom(context, files, index + 1, in, done);
    };
    if (file.exporter == u"env")
        return next(writeEnv(file, in));
    if (file.exporter == u"samba")
        return exportSamba(context, file, in, next);
    exportLdif(context, file, in, next);
}

} // namespace

QStringList sambaDatabases(const GeneratedFile &file, const QString &dir)
{
    QStringList found;
    QDirIterator it(dir, {QStringLiteral("*.tdb"), QStringLiteral("*.ldb")}, QDir::Files | QDir::Hidden,
                    QDirIterator::Subdirectories);
    while (it.hasNext()) {
        const QString rel = QDir(dir).relativeFilePath(it.next());
        if (rel.section(u'/', 0, 0) != u"sysvol" && !file.skip.contains(rel.section(u'/', -1)) &&
            !it.fileInfo().isSymLink())
            found.append(rel);
    }
    found.sort();
    return found;
}

QByteArray envFileContent(const GeneratedFile &file, const GenerateInput &in, Failure *failure)
{
    QByteArray content;
    for (const EnvValue &v : file.values) {
        const QString value = envValue(v, in, failure);
        if (failure->isError())
            return {};
        content += v.name.toUtf8() + '=' + value.toUtf8() + '\n';
    }
    return content;
}

void generateFiles(QObject *context, const QList<GeneratedFile> &files, const GenerateInput &in, GenerateDone done)
{
    QString error;
    if (!makeStage(in.stageDir, &error))
        return done(Failure::failed(Text("generate.stage", "The files to send cannot be prepared: %1.").arg(error)), {});
    generateFrom(context, files, 0, in, done);
}

} // namespace ns8m
