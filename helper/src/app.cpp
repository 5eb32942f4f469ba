#include "app.h"

#include "daemon.h"
#include "job.h"
#include "log.h"
#include "scanner.h"

#include <QJsonArray>

namespace ns8m {

namespace {

int getProperty(sd_bus *, const char *, const char *, const char *property,
                sd_bus_message *reply, void *userdata, sd_bus_error *)
{
    return static_cast<App *>(userdata)->appendProperty(property, reply);
}

int methodScan(sd_bus_message *m, void *userdata, sd_bus_error *)
{
    auto *app = static_cast<App *>(userdata);
    QVariantMap options;
    BusError error;
    if (!readOptions(m, {}, &options, &error))
        return replyError(m, error);
    QPointer<App> guard(app);
    app->daemon()->authority()->check(m, Action::Read, [guard](sd_bus_message *call, quint32 uid) {
        if (guard)
            guard->startScan(call, uid);
    });
    return 1;
}

const sd_bus_vtable kAppVtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_METHOD_WITH_ARGS("Scan", SD_BUS_ARGS("a{sv}", options), SD_BUS_RESULT("o", job),
                            methodScan, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_PROPERTY("Id", "s", getProperty, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("Name", "s", getProperty, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("Status", "s", getProperty, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
    SD_BUS_PROPERTY("SourceFiles", "t", getProperty, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
    SD_BUS_PROPERTY("SourceBytes", "t", getProperty, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
    SD_BUS_PROPERTY("DatabaseBytes", "t", getProperty, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
    SD_BUS_PROPERTY("ScanDetails", "a(sstt)", getProperty, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
    SD_BUS_PROPERTY("ScanTime", "t", getProperty, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
    SD_BUS_PROPERTY("Job", "o", getProperty, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
    SD_BUS_VTABLE_END,
};

} // namespace

App::App(Daemon *daemon, AppProfile profile, QObject *parent)
    : QObject(parent), m_daemon(daemon), m_profile(std::move(profile))
{
    m_record = m_daemon->state()->app(m_profile.id);
}

App::~App()
{
    if (m_slot) {
        m_daemon->bus()->emitObjectRemoved(path());
        sd_bus_slot_unref(m_slot);
    }
}

QString App::path() const
{
    return QStringLiteral("%1/apps/%2").arg(QLatin1String(kRootPath), m_profile.id);
}

bool App::publish(QString *error)
{
    const QByteArray p = path().toUtf8();
    if (sd_bus_add_object_vtable(m_daemon->bus()->handle(), &m_slot, p.constData(), kAppIface,
                                 kAppVtable, this)
        < 0) {
        *error = QStringLiteral("cannot put %1 on the bus").arg(path());
        return false;
    }
    return true;
}

void App::changed(const QStringList &names)
{
    m_daemon->bus()->emitPropertiesChanged(path(), kAppIface, names);
}

void App::setJob(Job *job)
{
    m_job = job;
    m_jobPath = job ? job->path() : QStringLiteral("/");
    if (job) {
        // When the job leaves the bus the property stops pointing at it.
        connect(job, &QObject::destroyed, this, [this, p = m_jobPath] {
            if (m_jobPath == p) {
                m_jobPath = QStringLiteral("/");
                changed({QStringLiteral("Job")});
            }
        });
    }
    changed({QStringLiteral("Job")});
}

void App::startScan(sd_bus_message *call, quint32 uid)
{
    if (m_job && !m_job->isFinished()) {
        replyError(call, {QString::fromLatin1(Error::Busy),
                          QStringLiteral("%1 is busy with another job (%2, %3). Wait for it to end "
                                         "or cancel it, then try again.")
                              .arg(m_profile.name, m_job->operation(), m_job->path())});
        return;
    }
    Job::Params params;
    params.operation = QStringLiteral("scan");
    params.objectPath = path();
    params.objectId = m_profile.id;
    params.startedByUid = uid;
    params.cancelAction = Action::Read;
    params.steps = Scanner::plan(m_profile, m_record.scanDetails);
    QString error;
    Job *job = m_daemon->createJob(params, &error);
    if (!job) {
        replyError(call, {QString::fromLatin1(Error::Failed),
                          QStringLiteral("The scan could not start: %1.").arg(error)});
        return;
    }
    auto *scanner = new Scanner(m_profile, m_daemon->settings().root, job, m_record.scanDetails, job);
    connect(scanner, &Scanner::done, this,
            [this, job](bool success, const QString &message, const ScanResult &result) {
                scanDone(job, success, message, result);
            });
    setJob(job);
    sd_bus_reply_method_return(call, "o", job->path().toUtf8().constData());
    scanner->start();
}

void App::scanDone(Job *job, bool success, const QString &message, const ScanResult &result)
{
    if (success) {
        m_record.sourceFiles = result.files;
        m_record.sourceBytes = result.bytes;
        m_record.databaseBytes = result.databaseBytes;
        m_record.scanDetails = result.details;
        m_record.scanTime = nowUsec();
        if (!m_daemon->state()->saveApp(m_record)) {
            job->finish(Job::Outcome::Failed,
                        QStringLiteral("The scan ended but its results could not be saved: %1")
                            .arg(m_daemon->state()->lastError()));
            return;
        }
        changed({QStringLiteral("SourceFiles"), QStringLiteral("SourceBytes"),
                 QStringLiteral("DatabaseBytes"), QStringLiteral("ScanDetails"),
                 QStringLiteral("ScanTime")});
    }
    const Job::Outcome outcome = success ? Job::Outcome::Succeeded
                                 : job->cancelRequested() ? Job::Outcome::Canceled
                                                          : Job::Outcome::Failed;
    job->finish(outcome, message);
}

int App::appendProperty(const char *name, sd_bus_message *reply) const
{
    const QLatin1String n(name);
    if (n == QLatin1String("Id"))
        return sd_bus_message_append(reply, "s", m_profile.id.toUtf8().constData());
    if (n == QLatin1String("Name"))
        return sd_bus_message_append(reply, "s", m_profile.name.toUtf8().constData());
    if (n == QLatin1String("Status"))
        return sd_bus_message_append(reply, "s", m_record.status.toUtf8().constData());
    if (n == QLatin1String("SourceFiles"))
        return sd_bus_message_append(reply, "t", quint64(m_record.sourceFiles));
    if (n == QLatin1String("SourceBytes"))
        return sd_bus_message_append(reply, "t", quint64(m_record.sourceBytes));
    if (n == QLatin1String("DatabaseBytes"))
        return sd_bus_message_append(reply, "t", quint64(m_record.databaseBytes));
    if (n == QLatin1String("ScanTime"))
        return sd_bus_message_append(reply, "t", quint64(m_record.scanTime));
    if (n == QLatin1String("Job"))
        return sd_bus_message_append(reply, "o", m_jobPath.toUtf8().constData());
    if (n == QLatin1String("ScanDetails")) {
        int r = sd_bus_message_open_container(reply, 'a', "(sstt)");
        for (const QJsonValue &v : m_record.scanDetails) {
            if (r < 0)
                return r;
            const QJsonArray a = v.toArray();
            r = sd_bus_message_append(reply, "(sstt)", a.at(0).toString().toUtf8().constData(),
                                      a.at(1).toString().toUtf8().constData(),
                                      quint64(a.at(2).toDouble()), quint64(a.at(3).toDouble()));
        }
        return r < 0 ? r : sd_bus_message_close_container(reply);
    }
    return -ENOENT;
}

} // namespace ns8m
