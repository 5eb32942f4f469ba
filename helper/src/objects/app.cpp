// The bus edge of one app: its properties, one getter each, its methods,
// each checking options and polkit before handing over to the app's
// Migration, and the vtable last, the App interface on one screen.
#include "objects/app.h"

#include "bus/authority.h"
#include "operations/context.h"
#include "operations/dnscheck.h"
#include "operations/estimate.h"
#include "operations/export.h"
#include "operations/migration.h"
#include "profile/fields.h"

#include <QHostAddress>
#include <QJsonArray>
#include <QJsonObject>

namespace ns8m {

// ------------------------------------------------------------ properties
//
// One getter per property, each beside the others in the order of the
// vtable below; the values are the App's, turned into D-Bus types here only.

namespace {

int appendField(sd_bus_message *reply, const Field &f)
{
    static const char *const kinds[] = {"fqdn", "bool", "string", "ipv4"};
    int r = sd_bus_message_open_container(reply, 'a', "{sv}");
    if (r >= 0)
        r = sd_bus_message_append(reply, "{sv}{sv}{sv}{sv}{sv}{sv}{sv}", "id", "s", f.id.toUtf8().constData(),
                                  "kind", "s", kinds[int(f.kind)], "required", "b", int(f.required),
                                  "title", "s", f.title.toUtf8().constData(), "title_it", "s",
                                  f.titleIt.toUtf8().constData(), "help", "s", f.help.toUtf8().constData(),
                                  "help_it", "s", f.helpIt.toUtf8().constData());
    if (r >= 0 && !f.placeholder.isEmpty())
        r = sd_bus_message_append(reply, "{sv}", "placeholder", "s", f.placeholder.toUtf8().constData());
    if (r >= 0 && f.planning)
        r = sd_bus_message_append(reply, "{sv}", "planning", "b", 1);
    if (r >= 0 && !f.defaultField.isEmpty())
        r = sd_bus_message_append(reply, "{sv}", "default_field", "s", f.defaultField.toUtf8().constData());
    if (r >= 0 && f.defaultValue.isValid()) {
        if (f.kind == Field::Kind::Bool)
            r = sd_bus_message_append(reply, "{sv}", "default", "b", int(f.defaultValue.toBool()));
        else
            r = sd_bus_message_append(reply, "{sv}", "default", "s", f.defaultValue.toString().toUtf8().constData());
    }
    return r < 0 ? r : sd_bus_message_close_container(reply);
}

// {key: as} inside an a{sv}.
int appendPathList(sd_bus_message *reply, const char *key, const QJsonValue &list)
{
    int r = sd_bus_message_open_container(reply, 'e', "sv");
    if (r >= 0)
        r = sd_bus_message_append(reply, "s", key);
    if (r >= 0)
        r = sd_bus_message_open_container(reply, 'v', "as");
    if (r >= 0)
        r = sd_bus_message_open_container(reply, 'a', "s");
    for (const QJsonValue &p : list.toArray())
        if (r >= 0)
            r = sd_bus_message_append(reply, "s", p.toString().toUtf8().constData());
    for (int i = 0; i < 3 && r >= 0; ++i)
        r = sd_bus_message_close_container(reply);
    return r;
}

} // namespace

// {key: value} inside an a{sv}, for the schedules.
int appendEntry(sd_bus_message *reply, const char *key, const QString &value)
{
    return sd_bus_message_append(reply, "{sv}", key, "s", value.toUtf8().constData());
}

int appendEntry(sd_bus_message *reply, const char *key, quint64 value)
{
    return sd_bus_message_append(reply, "{sv}", key, "t", value);
}

int appendEntry(sd_bus_message *reply, const char *key, quint32 value)
{
    return sd_bus_message_append(reply, "{sv}", key, "u", value);
}

// {key: a(ssas)}: sentences by id.
int appendEntry(sd_bus_message *reply, const char *key, const Texts &texts)
{
    int r = sd_bus_message_open_container(reply, 'e', "sv");
    if (r >= 0)
        r = sd_bus_message_append(reply, "s", key);
    if (r >= 0)
        r = sd_bus_message_open_container(reply, 'v', "a(ssas)");
    if (r >= 0)
        r = appendTexts(reply, texts);
    if (r >= 0)
        r = sd_bus_message_close_container(reply);
    return r < 0 ? r : sd_bus_message_close_container(reply);
}

QString hhmm(const QTime &t)
{
    return t.isValid() ? t.toString(QStringLiteral("HH:mm")) : QString();
}

// App.Schedule: {} when there is none.
int appendSchedule(sd_bus_message *reply, const Migration &a)
{
    const SyncSchedule &s = a.syncSchedule();
    int r = sd_bus_message_open_container(reply, 'a', "{sv}");
    if (s.isEmpty() || r < 0)
        return r < 0 ? r : sd_bus_message_close_container(reply);
    r = appendEntry(reply, "kind", s.kind);
    if (r >= 0)
        r = sd_bus_message_append(reply, "{sv}{sv}{sv}{sv}{sv}", "interval", "u", s.interval, "at", "s",
                                  hhmm(s.at).toUtf8().constData(), "quiet_from", "s", hhmm(s.quietFrom).toUtf8().constData(),
                                  "quiet_to", "s", hhmm(s.quietTo).toUtf8().constData(), "bwlimit", "u", s.bwlimit);
    if (r >= 0)
        r = appendEntry(reply, "created_by", s.createdBy);
    if (r >= 0)
        r = appendEntry(reply, "next_run", quint64(a.nextScheduledSync()));
    if (r >= 0)
        r = appendEntry(reply, "last_run", quint64(s.lastRun));
    if (r >= 0)
        r = appendEntry(reply, "last_outcome", s.lastOutcome);
    if (r >= 0)
        r = appendEntry(reply, "last_message", english(s.lastMessage));
    if (r >= 0)
        r = appendEntry(reply, "last_message_texts", s.lastMessage);
    if (r >= 0)
        r = appendEntry(reply, "last_job", s.lastJob);
    if (r >= 0)
        r = sd_bus_message_append(reply, "{sv}{sv}{sv}", "runs", "u", s.runs, "failures", "u", s.failures, "skipped", "u",
                                  s.skipped);
    return r < 0 ? r : sd_bus_message_close_container(reply);
}

// App.ScheduledFinish: {} when none was ever scheduled.
// FieldChoices: field id → [(value, label)].
int appendFieldChoices(sd_bus_message *reply, const Migration::FieldChoiceMap &choices)
{
    int r = sd_bus_message_open_container(reply, 'a', "{sa(ss)}");
    for (auto it = choices.constBegin(); r >= 0 && it != choices.constEnd(); ++it) {
        r = sd_bus_message_open_container(reply, 'e', "sa(ss)");
        if (r >= 0)
            r = sd_bus_message_append(reply, "s", it.key().toUtf8().constData());
        if (r >= 0)
            r = sd_bus_message_open_container(reply, 'a', "(ss)");
        for (const auto &c : it.value())
            if (r >= 0)
                r = sd_bus_message_append(reply, "(ss)", c.first.toUtf8().constData(), c.second.toUtf8().constData());
        if (r >= 0)
            r = sd_bus_message_close_container(reply);
        if (r >= 0)
            r = sd_bus_message_close_container(reply);
    }
    return r < 0 ? r : sd_bus_message_close_container(reply);
}

int appendScheduledFinish(sd_bus_message *reply, const FinishSchedule &f)
{
    int r = sd_bus_message_open_container(reply, 'a', "{sv}");
    if (f.isEmpty() || r < 0)
        return r < 0 ? r : sd_bus_message_close_container(reply);
    r = appendEntry(reply, "when", quint64(f.when));
    if (r >= 0)
        r = appendEntry(reply, "state", f.state);
    if (r >= 0)
        r = appendEntry(reply, "presync_at", quint64(f.presyncAt));
    if (r >= 0)
        r = appendEntry(reply, "created_by", f.createdBy);
    if (r >= 0)
        r = appendEntry(reply, "job", f.job);
    if (r >= 0)
        r = appendEntry(reply, "reason", english(f.reason));
    if (r >= 0)
        r = appendEntry(reply, "reason_texts", f.reason);
    if (r >= 0) {
        r = sd_bus_message_open_container(reply, 'e', "sv");
        if (r >= 0)
            r = sd_bus_message_append(reply, "s", "accepted_warnings");
        if (r >= 0)
            r = sd_bus_message_open_container(reply, 'v', "as");
        if (r >= 0)
            r = appendStrings(reply, f.acceptedWarnings);
        if (r >= 0)
            r = sd_bus_message_close_container(reply);
        if (r >= 0)
            r = sd_bus_message_close_container(reply);
    }
    return r < 0 ? r : sd_bus_message_close_container(reply);
}

struct AppObject {
    static const Migration &of(void *userdata) { return *static_cast<const App *>(userdata)->migration(); }
    static SyncRecord lastSync(const Migration &a) { return a.syncs().isEmpty() ? SyncRecord{} : a.syncs().last(); }

    NS8M_BUS_GETTER(id) { return sd_bus_message_append(reply, "s", of(userdata).profile().id.toUtf8().constData()); }
    NS8M_BUS_GETTER(name) { return sd_bus_message_append(reply, "s", of(userdata).profile().name.toUtf8().constData()); }
    NS8M_BUS_GETTER(status)
    {
        return sd_bus_message_append(reply, "s", toString(of(userdata).record().status).toUtf8().constData());
    }
    NS8M_BUS_GETTER(sourceFiles) { return sd_bus_message_append(reply, "t", quint64(of(userdata).record().sourceFiles)); }
    NS8M_BUS_GETTER(sourceBytes) { return sd_bus_message_append(reply, "t", quint64(of(userdata).record().sourceBytes)); }
    NS8M_BUS_GETTER(databaseBytes)
    {
        return sd_bus_message_append(reply, "t", quint64(of(userdata).record().databaseBytes));
    }
    NS8M_BUS_GETTER(scanDetails)
    {
        int r = sd_bus_message_open_container(reply, 'a', "(sstt)");
        for (const QJsonValue &v : of(userdata).record().scanDetails) {
            const QJsonArray a = v.toArray();
            if (r >= 0)
                r = sd_bus_message_append(reply, "(sstt)", a.at(0).toString().toUtf8().constData(),
                                          a.at(1).toString().toUtf8().constData(), quint64(a.at(2).toDouble()),
                                          quint64(a.at(3).toDouble()));
        }
        return r < 0 ? r : sd_bus_message_close_container(reply);
    }
    // Per transfer of the last Scan (older scans did not look: none).
    NS8M_BUS_GETTER(scanSymlinks)
    {
        int r = sd_bus_message_open_container(reply, 'a', "a{sv}");
        for (const QJsonValue &v : of(userdata).record().scanDetails) {
            const QJsonArray a = v.toArray();
            if (r < 0 || !a.at(4).isObject())
                continue;
            const QJsonObject o = a.at(4).toObject();
            r = sd_bus_message_open_container(reply, 'a', "{sv}");
            if (r >= 0)
                r = sd_bus_message_append(reply, "{sv}{sv}{sv}", "id", "s", a.at(0).toString().toUtf8().constData(),
                                          "absolute", "t", quint64(o.value(QStringLiteral("absolute")).toDouble()),
                                          "escaping", "t", quint64(o.value(QStringLiteral("escaping")).toDouble()));
            if (r >= 0)
                r = appendPathList(reply, "absolute_paths", o.value(QStringLiteral("absolute_paths")));
            if (r >= 0)
                r = appendPathList(reply, "escaping_paths", o.value(QStringLiteral("escaping_paths")));
            if (r >= 0)
                r = sd_bus_message_close_container(reply);
        }
        return r < 0 ? r : sd_bus_message_close_container(reply);
    }
    NS8M_BUS_GETTER(scanTime) { return sd_bus_message_append(reply, "t", quint64(of(userdata).record().scanTime)); }
    NS8M_BUS_GETTER(job) { return sd_bus_message_append(reply, "o", of(userdata).jobPath().toUtf8().constData()); }
    NS8M_BUS_GETTER(fields)
    {
        int r = sd_bus_message_open_container(reply, 'a', "a{sv}");
        for (const Field &f : of(userdata).profile().fields)
            if (r >= 0)
                r = appendField(reply, f);
        return r < 0 ? r : sd_bus_message_close_container(reply);
    }
    NS8M_BUS_GETTER(texts) { return appendTextMap(reply, of(userdata).profile().texts); }
    NS8M_BUS_GETTER(node) { return sd_bus_message_append(reply, "u", of(userdata).migration().node); }
    NS8M_BUS_GETTER(moduleId)
    {
        return sd_bus_message_append(reply, "s", of(userdata).migration().moduleId.toUtf8().constData());
    }
    NS8M_BUS_GETTER(settings) { return appendValues(reply, of(userdata).migration().settings); }
    NS8M_BUS_GETTER(notices) { return appendStrings(reply, of(userdata).migration().notices); }
    NS8M_BUS_GETTER(fieldChoices) { return appendFieldChoices(reply, of(userdata).fieldChoices()); }
    NS8M_BUS_GETTER(lastSyncTime) { return sd_bus_message_append(reply, "t", quint64(lastSync(of(userdata)).time)); }
    NS8M_BUS_GETTER(lastSyncBytes) { return sd_bus_message_append(reply, "t", quint64(lastSync(of(userdata)).bytes)); }
    NS8M_BUS_GETTER(lastSyncFiles) { return sd_bus_message_append(reply, "t", quint64(lastSync(of(userdata)).files)); }
    NS8M_BUS_GETTER(lastSyncDuration)
    {
        return sd_bus_message_append(reply, "t", quint64(lastSync(of(userdata)).duration));
    }
    NS8M_BUS_GETTER(syncHistory)
    {
        int r = sd_bus_message_open_container(reply, 'a', "(ttttu)");
        for (const SyncRecord &s : of(userdata).syncs())
            if (r >= 0)
                r = sd_bus_message_append(reply, "(ttttu)", quint64(s.time), quint64(s.bytes), quint64(s.files),
                                          quint64(s.duration), s.warnings);
        return r < 0 ? r : sd_bus_message_close_container(reply);
    }
    // Finish's downtime, part by part as it will run them (operations/estimate.h).
    NS8M_BUS_GETTER(estimatedDowntime)
    {
        const Migration &a = of(userdata);
        return sd_bus_message_append(reply, "t", quint64(downtimeTotal(estimateDowntime(a.profile(), a.record(), a.syncs()))));
    }
    NS8M_BUS_GETTER(estimatedDowntimeParts)
    {
        const Migration &a = of(userdata);
        int r = sd_bus_message_open_container(reply, 'a', "(st)");
        for (const DowntimePart &p : estimateDowntime(a.profile(), a.record(), a.syncs()))
            if (r >= 0)
                r = sd_bus_message_append(reply, "(st)", p.id.toUtf8().constData(), quint64(p.usec));
        return r < 0 ? r : sd_bus_message_close_container(reply);
    }
    // What the administrator points at NS8 once it works there: an A (AAAA)
    // record for an address, a CNAME for a name.
    NS8M_BUS_GETTER(dnsRecords)
    {
        const Migration &a = of(userdata);
        int r = sd_bus_message_open_container(reply, 'a', "(sss)");
        for (const DnsRecord &rec : ns8m::dnsRecords(a.profile(), a.migration()))
            if (r >= 0)
                r = sd_bus_message_append(reply, "(sss)", rec.name.toUtf8().constData(), rec.type.toUtf8().constData(),
                                          rec.value.toUtf8().constData());
        return r < 0 ? r : sd_bus_message_close_container(reply);
    }
    NS8M_BUS_GETTER(verification)
    {
        int r = sd_bus_message_open_container(reply, 'a', "(ssss)");
        for (const QJsonValue &v : of(userdata).record().verification) {
            const QJsonArray a = v.toArray();
            if (r >= 0)
                r = sd_bus_message_append(reply, "(ssss)", a.at(0).toString().toUtf8().constData(),
                                          a.at(1).toString().toUtf8().constData(), a.at(2).toString().toUtf8().constData(),
                                          a.at(3).toString().toUtf8().constData());
        }
        return r < 0 ? r : sd_bus_message_close_container(reply);
    }
    NS8M_BUS_GETTER(verificationTime)
    {
        return sd_bus_message_append(reply, "t", quint64(of(userdata).record().verificationTime));
    }
    NS8M_BUS_GETTER(schedule) { return appendSchedule(reply, of(userdata)); }
    NS8M_BUS_GETTER(scheduledFinish) { return appendScheduledFinish(reply, of(userdata).finishSchedule()); }
};

// --------------------------------------------------------------- methods

namespace {

int methodScan(sd_bus_message *m, void *userdata, sd_bus_error *)
{
    auto *app = static_cast<App *>(userdata);
    QVariantMap options;
    BusError error;
    if (!readOptions(m, {}, &options, &error))
        return replyError(m, error);
    QPointer<App> guard(app);
    app->ctx()->authority->check(m, Action::Read, [guard](sd_bus_message *call, quint32 uid) {
        if (guard)
            guard->migration()->startScan(call, uid);
    });
    return 1;
}

// Every App method: options checked, polkit asked, then the App's own code.
template<typename Body>
int appCall(sd_bus_message *m, App *app, const QList<OptionSpec> &specs, QList<const char *> actions, Body body)
{
    return authorizedCall(m, app, app->ctx()->authority, specs, std::move(actions), body);
}

int methodStart(sd_bus_message *m, void *userdata, sd_bus_error *)
{
    auto *app = static_cast<App *>(userdata);
    return appCall(m, app, app->migration()->startOptions(), {Action::Migrate},
                   [](App *a, sd_bus_message *call, quint32 uid, const QVariantMap &o) { a->migration()->startMigration(call, uid, o); });
}

int methodSync(sd_bus_message *m, void *userdata, sd_bus_error *)
{
    static const QList<OptionSpec> specs = {{"bwlimit", 'u'}};
    return appCall(m, static_cast<App *>(userdata), specs, {Action::Sync, Action::Migrate},
                   [](App *a, sd_bus_message *call, quint32 uid, const QVariantMap &o) { a->migration()->startSync(call, uid, o); });
}

int methodFinish(sd_bus_message *m, void *userdata, sd_bus_error *)
{
    auto *app = static_cast<App *>(userdata);
    return appCall(m, app, app->migration()->finishOptions(), {Action::Migrate},
                   [](App *a, sd_bus_message *call, quint32 uid, const QVariantMap &o) { a->migration()->startFinish(call, uid, o); });
}

int methodAbort(sd_bus_message *m, void *userdata, sd_bus_error *)
{
    return appCall(m, static_cast<App *>(userdata), {}, {Action::Migrate},
                   [](App *a, sd_bus_message *call, quint32 uid, const QVariantMap &o) { a->migration()->startAbort(call, uid, o); });
}

int methodSkip(sd_bus_message *m, void *userdata, sd_bus_error *)
{
    auto *app = static_cast<App *>(userdata);
    int skip = 0;
    if (sd_bus_message_read(m, "b", &skip) < 0)
        return replyError(m, {Error::InvalidArgument, Text("app.skip.signature", "Skip takes a boolean.")});
    QPointer<App> guard(app);
    app->ctx()->authority->check(m, Action::Migrate, [guard, skip](sd_bus_message *call, quint32) {
        if (guard)
            guard->migration()->skip(call, skip != 0);
    });
    return 1;
}

// CheckOptions (English) and CheckOptionTexts (by id): the same check.
int checkOptions(sd_bus_message *m, App *app, bool byId)
{
    const char *method = nullptr;
    if (sd_bus_message_read(m, "s", &method) < 0)
        return replyError(m, {Error::InvalidArgument, Text("app.check-options.signature", "CheckOptions takes (s, a{sv}).")});
    const QString name = QString::fromUtf8(method);
    return appCall(m, app, app->migration()->startOptions(), {Action::Read},
                   [name, byId](App *a, sd_bus_message *call, quint32, const QVariantMap &o) {
                       a->migration()->checkOptions(call, name, o, byId);
                   });
}

// Export: reading is .read; the credentials in clear are for who may
// migrate (an administrator).
int methodExport(sd_bus_message *m, void *userdata, sd_bus_error *)
{
    auto *app = static_cast<App *>(userdata);
    static const QList<OptionSpec> specs = {{"format", 's'}, {"secrets", 'b'}};
    QVariantMap options;
    BusError error;
    if (!readOptions(m, specs, &options, &error))
        return replyError(m, error);
    const QString format = options.value(QStringLiteral("format"), QStringLiteral("json")).toString();
    if (format != u"json" && format != u"csv")
        return replyError(m, {Error::InvalidArgument,
                              Text("export.format", "format: \"%1\" is not an export format; use \"json\" or \"csv\".")
                                  .arg(format)});
    const bool secrets = options.value(QStringLiteral("secrets")).toBool();
    QPointer<App> guard(app);
    app->ctx()->authority->checkAny(m, secrets ? QList<const char *>{Action::Migrate} : QList<const char *>{Action::Read, Action::Migrate},
                                    [guard, options](sd_bus_message *call, quint32) {
        if (guard)
            replyExport(call, guard->ctx(), guard->migration()->profile(), options);
    });
    return 1;
}

// CheckDns: whether the app's names resolve to the NS8 node now.
int methodCheckDns(sd_bus_message *m, void *userdata, sd_bus_error *)
{
    auto *app = static_cast<App *>(userdata);
    QPointer<App> guard(app);
    app->ctx()->authority->check(m, Action::Read, [guard](sd_bus_message *call, quint32) {
        if (guard) {
            const Migration *mig = guard->migration();
            replyDnsCheck(call, mig->profile().name, ns8m::dnsRecords(mig->profile(), mig->migration()));
        }
    });
    return 1;
}

// SetSchedule: the Syncs the helper runs by itself, as Sync is allowed.
int methodSetSchedule(sd_bus_message *m, void *userdata, sd_bus_error *)
{
    return appCall(m, static_cast<App *>(userdata), Migration::scheduleOptions(), {Action::Sync, Action::Migrate},
                   [](App *a, sd_bus_message *call, quint32 uid, const QVariantMap &o) {
                       const Failure refused = a->migration()->setSchedule(uid, o);
                       if (refused.isError())
                           return void(replyError(call, refused));
                       sd_bus_reply_method_return(call, "");
                   });
}

// ScheduleFinish and CancelScheduledFinish: as Finish is allowed.
int methodScheduleFinish(sd_bus_message *m, void *userdata, sd_bus_error *)
{
    auto *app = static_cast<App *>(userdata);
    quint64 when = 0;
    if (sd_bus_message_read(m, "t", &when) < 0)
        return replyError(m, {Error::InvalidArgument, Text("app.schedule-finish.signature", "ScheduleFinish takes (t, a{sv}).")});
    return appCall(m, app, app->migration()->scheduleFinishOptions(), {Action::Migrate},
                   [when](App *a, sd_bus_message *call, quint32 uid, const QVariantMap &o) {
                       a->migration()->scheduleFinish(call, uid, qint64(when), o);
                   });
}

int methodCancelScheduledFinish(sd_bus_message *m, void *userdata, sd_bus_error *)
{
    auto *app = static_cast<App *>(userdata);
    QPointer<App> guard(app);
    app->ctx()->authority->check(m, Action::Migrate, [guard](sd_bus_message *call, quint32 uid) {
        if (!guard)
            return;
        const Failure refused = guard->migration()->cancelScheduledFinish(uid);
        if (refused.isError())
            return void(replyError(call, refused));
        sd_bus_reply_method_return(call, "");
    });
    return 1;
}

int methodCheckOptions(sd_bus_message *m, void *userdata, sd_bus_error *)
{
    return checkOptions(m, static_cast<App *>(userdata), false);
}

int methodCheckOptionTexts(sd_bus_message *m, void *userdata, sd_bus_error *)
{
    return checkOptions(m, static_cast<App *>(userdata), true);
}


// ------------------------------------------------------------ the API
//
// The App interface on one screen (dbus/org.nethserver.Ns8Migration1.xml is
// its reference, and a test holds the two together).
#define NS8M_APP_PROPERTY(name, signature, getter, flags) \
    SD_BUS_PROPERTY(name, signature, AppObject::getter, 0, SD_BUS_VTABLE_PROPERTY_##flags)

const sd_bus_vtable kAppVtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_METHOD_WITH_ARGS("Scan", SD_BUS_ARGS("a{sv}", options), SD_BUS_RESULT("o", job),
                            methodScan, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_ARGS("Start", SD_BUS_ARGS("a{sv}", options), SD_BUS_RESULT("o", job),
                            methodStart, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_ARGS("Sync", SD_BUS_ARGS("a{sv}", options), SD_BUS_RESULT("o", job),
                            methodSync, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_ARGS("Finish", SD_BUS_ARGS("a{sv}", options), SD_BUS_RESULT("o", job),
                            methodFinish, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_ARGS("Abort", SD_BUS_ARGS("a{sv}", options), SD_BUS_RESULT("o", job),
                            methodAbort, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_ARGS("Skip", SD_BUS_ARGS("b", skip), SD_BUS_NO_RESULT, methodSkip,
                            SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_ARGS("CheckOptions", SD_BUS_ARGS("s", method, "a{sv}", options),
                            SD_BUS_RESULT("a{ss}", problems), methodCheckOptions, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_ARGS("CheckOptionTexts", SD_BUS_ARGS("s", method, "a{sv}", options),
                            SD_BUS_RESULT("a{s(ssas)}", problems), methodCheckOptionTexts, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_ARGS("Export", SD_BUS_ARGS("a{sv}", options), SD_BUS_RESULT("a{ss}", files),
                            methodExport, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_NAMES("CheckDns", "", "", "a(ssss)", SD_BUS_PARAM(records), methodCheckDns,
                             SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_ARGS("SetSchedule", SD_BUS_ARGS("a{sv}", schedule), SD_BUS_NO_RESULT, methodSetSchedule,
                            SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_ARGS("ScheduleFinish", SD_BUS_ARGS("t", when, "a{sv}", options), SD_BUS_NO_RESULT,
                            methodScheduleFinish, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_NAMES("CancelScheduledFinish", "", "", "", "", methodCancelScheduledFinish,
                             SD_BUS_VTABLE_UNPRIVILEGED),
    NS8M_APP_PROPERTY("Id", "s", id, CONST),
    NS8M_APP_PROPERTY("Name", "s", name, CONST),
    NS8M_APP_PROPERTY("Status", "s", status, EMITS_CHANGE),
    NS8M_APP_PROPERTY("SourceFiles", "t", sourceFiles, EMITS_CHANGE),
    NS8M_APP_PROPERTY("SourceBytes", "t", sourceBytes, EMITS_CHANGE),
    NS8M_APP_PROPERTY("DatabaseBytes", "t", databaseBytes, EMITS_CHANGE),
    NS8M_APP_PROPERTY("ScanDetails", "a(sstt)", scanDetails, EMITS_CHANGE),
    NS8M_APP_PROPERTY("ScanSymlinks", "aa{sv}", scanSymlinks, EMITS_CHANGE),
    NS8M_APP_PROPERTY("ScanTime", "t", scanTime, EMITS_CHANGE),
    NS8M_APP_PROPERTY("Job", "o", job, EMITS_CHANGE),
    NS8M_APP_PROPERTY("Fields", "aa{sv}", fields, CONST),
    NS8M_APP_PROPERTY("Texts", "a{sa{ss}}", texts, CONST),
    NS8M_APP_PROPERTY("Node", "u", node, EMITS_CHANGE),
    NS8M_APP_PROPERTY("ModuleId", "s", moduleId, EMITS_CHANGE),
    NS8M_APP_PROPERTY("Settings", "a{sv}", settings, EMITS_CHANGE),
    NS8M_APP_PROPERTY("Notices", "as", notices, EMITS_CHANGE),
    NS8M_APP_PROPERTY("FieldChoices", "a{sa(ss)}", fieldChoices, EMITS_CHANGE),
    NS8M_APP_PROPERTY("LastSyncTime", "t", lastSyncTime, EMITS_CHANGE),
    NS8M_APP_PROPERTY("LastSyncBytes", "t", lastSyncBytes, EMITS_CHANGE),
    NS8M_APP_PROPERTY("LastSyncFiles", "t", lastSyncFiles, EMITS_CHANGE),
    NS8M_APP_PROPERTY("LastSyncDuration", "t", lastSyncDuration, EMITS_CHANGE),
    NS8M_APP_PROPERTY("SyncHistory", "a(ttttu)", syncHistory, EMITS_CHANGE),
    NS8M_APP_PROPERTY("EstimatedDowntime", "t", estimatedDowntime, EMITS_CHANGE),
    NS8M_APP_PROPERTY("EstimatedDowntimeParts", "a(st)", estimatedDowntimeParts, EMITS_CHANGE),
    NS8M_APP_PROPERTY("DnsRecords", "a(sss)", dnsRecords, EMITS_CHANGE),
    NS8M_APP_PROPERTY("Verification", "a(ssss)", verification, EMITS_CHANGE),
    NS8M_APP_PROPERTY("VerificationTime", "t", verificationTime, EMITS_CHANGE),
    NS8M_APP_PROPERTY("Schedule", "a{sv}", schedule, EMITS_CHANGE),
    NS8M_APP_PROPERTY("ScheduledFinish", "a{sv}", scheduledFinish, EMITS_CHANGE),
    SD_BUS_VTABLE_END,
};

#undef NS8M_APP_PROPERTY

} // namespace

App::App(Context *ctx, AppProfile profile, QObject *parent)
    : QObject(parent), m_ctx(ctx),
      m_migration(new Migration(ctx, profile, appPath(profile.id), this))
{
    connect(m_migration, &Migration::propertiesChanged, this, [this](const QStringList &names) {
        m_ctx->bus->emitPropertiesChanged(path(), kAppIface, names);
    });
}

App::~App()
{
    if (m_slot) {
        m_ctx->bus->emitObjectRemoved(path());
        sd_bus_slot_unref(m_slot);
    }
}

QString App::path() const
{
    return m_migration->path();
}

bool App::publish(QString *error)
{
    const QByteArray p = path().toUtf8();
    if (sd_bus_add_object_vtable(m_ctx->bus->handle(), &m_slot, p.constData(), kAppIface,
                                 kAppVtable, this)
        < 0) {
        *error = QStringLiteral("cannot put %1 on the bus").arg(path());
        return false;
    }
    return true;
}

} // namespace ns8m
