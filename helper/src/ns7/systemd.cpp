#include "ns7/systemd.h"

#include "bus/bus.h"
#include "core/log.h"
#include "core/qtcompat.h"

#include <QPointer>
#include <QTimer>

#include <memory>
#include <vector>

namespace ns8m {

namespace {

constexpr const char *kSystemd = "org.freedesktop.systemd1";
constexpr const char *kManagerPath = "/org/freedesktop/systemd1";
constexpr const char *kManager = "org.freedesktop.systemd1.Manager";

// One asynchronous method call: the callback gets the reply (or the error
// text).  The call's slot owns it: freed after the reply, or with the bus
// when the helper stops before one came.
struct Call {
    QPointer<Systemd> owner;
    std::function<void(sd_bus_message *reply, const QString &error)> done;
};

void freeCall(void *userdata)
{
    delete static_cast<Call *>(userdata);
}

int onCallReply(sd_bus_message *reply, void *userdata, sd_bus_error *)
{
    auto *c = static_cast<Call *>(userdata);
    if (!c->owner)
        return 0;
    if (sd_bus_message_is_method_error(reply, nullptr)) {
        const sd_bus_error *e = sd_bus_message_get_error(reply);
        c->done(nullptr, QStringLiteral("%1 (%2)").arg(fromUtf8(e && e->message ? e->message : "no message"),
                                                       fromUtf8(e ? e->name : "")));
        return 0;
    }
    c->done(reply, QString());
    return 0;
}

// Starts the call; BUILD appends the arguments.
void call(Systemd *owner, sd_bus *bus, const char *path, const char *iface, const char *member,
          const std::function<int(sd_bus_message *)> &build,
          std::function<void(sd_bus_message *, const QString &)> done)
{
    sd_bus_message *m = nullptr;
    int r = sd_bus_message_new_method_call(bus, &m, kSystemd, path, iface, member);
    if (r >= 0)
        r = build(m);
    auto *c = new Call{owner, std::move(done)};
    sd_bus_slot *slot = nullptr;
    if (r >= 0)
        r = sd_bus_call_async(bus, &slot, m, onCallReply, c, 30 * 1000 * 1000);
    if (r >= 0) {
        sd_bus_slot_set_destroy_callback(slot, freeCall);
        sd_bus_slot_set_floating(slot, 1);
        sd_bus_slot_unref(slot);
    }
    sd_bus_message_unref(m);
    if (r < 0) {
        std::unique_ptr<Call> owned(c);
        const QString error = QStringLiteral("cannot call systemd's %1: %2").arg(fromUtf8(member), fromUtf8(strerror(-r)));
        // Never call back from inside the caller's own stack frame.
        QTimer::singleShot(0, owner, [d = std::move(owned->done), error] { d(nullptr, error); });
    }
}

} // namespace

struct Systemd::PendingJob {
    QString unit;
    QString method;
    Done done;
    QTimer *timer = nullptr;
};

Systemd::Systemd(sd_bus *bus, QObject *parent) : QObject(parent), m_bus(sd_bus_ref(bus))
{
    // Job ends arrive as JobRemoved signals; systemd sends them to clients
    // that subscribed.
    sd_bus_match_signal_async(m_bus, &m_match, kSystemd, kManagerPath, kManager, "JobRemoved", onJobRemoved,
                              nullptr, this);
    call(this, m_bus, kManagerPath, kManager, "Subscribe", [](sd_bus_message *) { return 0; },
         [](sd_bus_message *, const QString &error) {
        if (!error.isEmpty())
            Log::warning(QStringLiteral("systemd's Subscribe failed: %1").arg(error));
    });
}

Systemd::~Systemd()
{
    for (PendingJob *j : std::as_const(m_jobs))
        delete j;
    sd_bus_slot_unref(m_match);
    sd_bus_unref(m_bus);
}

QString Systemd::unitName(const QString &name)
{
    return name.contains(u'.') ? name : name + QStringLiteral(".service");
}

int Systemd::onJobRemoved(sd_bus_message *m, void *userdata, sd_bus_error *)
{
    uint32_t id = 0;
    const char *job = nullptr, *unit = nullptr, *result = nullptr;
    if (sd_bus_message_read(m, "uoss", &id, &job, &unit, &result) >= 0)
        static_cast<Systemd *>(userdata)->jobRemoved(fromUtf8(job), fromUtf8(result));
    return 0;
}

void Systemd::jobRemoved(const QString &path, const QString &result)
{
    if (endJob(path, result))
        return;
    // The signal can overtake our handling of the method's reply.
    if (m_early.size() > 64)
        m_early.clear();
    m_early.insert(path, result);
}

QString Systemd::jobError(const QString &what, const QString &result) const
{
    if (result == u"done")
        return {};
    if (result.isEmpty())
        return QStringLiteral("%1 did not finish within %2 s").arg(what).arg(m_jobTimeoutMs / 1000);
    return QStringLiteral("%1 ended with \"%2\"").arg(what, result);
}

bool Systemd::endJob(const QString &path, const QString &result)
{
    PendingJob *j = m_jobs.take(path);
    if (!j)
        return false;
    j->timer->stop();
    j->timer->deleteLater();
    const Done done = std::move(j->done);
    const QString error = jobError(QStringLiteral("%1 %2").arg(j->method, j->unit), result);
    delete j;
    done(error);
    return true;
}

void Systemd::unitStates(const QStringList &units, StatesDone done)
{
    struct Acc {
        QHash<QString, UnitState> states;
        QStringList errors;
        int left = 0;
        StatesDone done;
    };
    auto acc = std::make_shared<Acc>();
    acc->left = int(units.size());
    acc->done = std::move(done);
    if (units.isEmpty()) {
        QTimer::singleShot(0, this, [acc] { acc->done(acc->states, QString()); });
        return;
    }
    auto one = [acc](const QString &unit, const UnitState &s, const QString &error) {
        if (error.isEmpty())
            acc->states.insert(unit, s);
        else
            acc->errors.append(QStringLiteral("%1: %2").arg(unit, error));
        if (--acc->left == 0)
            acc->done(acc->states, acc->errors.join(QStringLiteral("; ")));
    };
    for (const QString &u : units) {
        const QString unit = unitName(u);
        const QByteArray name = unit.toUtf8();
        call(this, m_bus, kManagerPath, kManager, "LoadUnit",
             [name](sd_bus_message *m) { return sd_bus_message_append(m, "s", name.constData()); },
             [this, unit, one](sd_bus_message *reply, const QString &error) {
            const char *path = nullptr;
            if (!error.isEmpty() || sd_bus_message_read(reply, "o", &path) < 0)
                return one(unit, {}, error.isEmpty() ? QStringLiteral("no unit path") : error);
            const QByteArray p(path);
            call(this, m_bus, p.constData(), "org.freedesktop.DBus.Properties", "GetAll",
                 [](sd_bus_message *m) { return sd_bus_message_append(m, "s", "org.freedesktop.systemd1.Unit"); },
                 [unit, one](sd_bus_message *props, const QString &err) {
                if (!err.isEmpty())
                    return one(unit, {}, err);
                UnitState s;
                int r = sd_bus_message_enter_container(props, 'a', "{sv}");
                while (r > 0 && (r = sd_bus_message_enter_container(props, 'e', "sv")) > 0) {
                    const char *key = nullptr;
                    r = sd_bus_message_read(props, "s", &key);
                    const QLatin1String k(key ? key : "");
                    const char *value = nullptr;
                    if (r >= 0 && (k == QLatin1String("ActiveState") || k == QLatin1String("LoadState"))
                        && sd_bus_message_read(props, "v", "s", &value) >= 0) {
                        (k == QLatin1String("ActiveState") ? s.activeState : s.loadState) = fromUtf8(value);
                    } else if (r >= 0) {
                        r = sd_bus_message_skip(props, "v");
                    }
                    if (r >= 0)
                        r = sd_bus_message_exit_container(props);
                }
                one(unit, s, r < 0 ? QStringLiteral("unreadable properties") : QString());
            });
        });
    }
}

void Systemd::runJob(const char *method, const QString &u, Done done)
{
    const QString unit = unitName(u);
    const QByteArray name = unit.toUtf8();
    const QString methodName = fromUtf8(method);
    call(this, m_bus, kManagerPath, kManager, method,
         [name](sd_bus_message *m) { return sd_bus_message_append(m, "ss", name.constData(), "replace"); },
         [this, unit, methodName, done](sd_bus_message *reply, const QString &error) {
        waitJob(reply, error, methodName, unit, done);
    });
}

void Systemd::waitJob(sd_bus_message *reply, const QString &error, const QString &methodName, const QString &unit, Done done)
{
    const char *path = nullptr;
    if (!error.isEmpty() || sd_bus_message_read(reply, "o", &path) < 0)
        return done(QStringLiteral("%1 %2: %3").arg(methodName, unit, error.isEmpty() ? QStringLiteral("no job") : error));
    const QString job = fromUtf8(path);
    if (m_early.contains(job))
        return done(jobError(QStringLiteral("%1 %2").arg(methodName, unit), m_early.take(job)));
    auto *p = new PendingJob{unit, methodName, done, new QTimer(this)};
    p->timer->setSingleShot(true);
    connect(p->timer, &QTimer::timeout, this, [this, job] { endJob(job, QString()); });
    p->timer->start(m_jobTimeoutMs);
    m_jobs.insert(job, p);
}

namespace {

// A NULL-terminated char*[] of LIST (sd_bus_message_append_strv), valid as
// long as the object lives.
struct Strv {
    explicit Strv(const QStringList &list)
    {
        for (const QString &s : list)
            bytes.append(s.toUtf8());
        for (QByteArray &b : bytes)
            ptrs.push_back(b.data());
        ptrs.push_back(nullptr);
    }
    char **data() { return ptrs.data(); }
    QList<QByteArray> bytes;
    std::vector<char *> ptrs;
};

// StartTransientUnit's properties (a(sv)) of a service that runs ARGV with
// ENV: Description, Type=forking (the program daemonizes once it is
// ready), Environment and ExecStart (a(sasb): path, argv, ignore failure).
int appendTransientProperties(sd_bus_message *m, const QString &description, const QStringList &argv, const QStringList &env)
{
    int r = sd_bus_message_open_container(m, 'a', "(sv)");
    const QByteArray desc = description.toUtf8();
    if (r >= 0)
        r = sd_bus_message_append(m, "(sv)", "Description", "s", desc.constData());
    if (r >= 0)
        r = sd_bus_message_append(m, "(sv)", "Type", "s", "forking");
    if (r >= 0)
        r = sd_bus_message_open_container(m, 'r', "sv");
    if (r >= 0)
        r = sd_bus_message_append(m, "s", "Environment");
    if (r >= 0)
        r = sd_bus_message_open_container(m, 'v', "as");
    if (r >= 0)
        r = sd_bus_message_append_strv(m, Strv(env).data());
    if (r >= 0)
        r = sd_bus_message_close_container(m);
    if (r >= 0)
        r = sd_bus_message_close_container(m);
    const QByteArray path = argv.value(0).toUtf8();
    if (r >= 0)
        r = sd_bus_message_open_container(m, 'r', "sv");
    if (r >= 0)
        r = sd_bus_message_append(m, "s", "ExecStart");
    if (r >= 0)
        r = sd_bus_message_open_container(m, 'v', "a(sasb)");
    if (r >= 0)
        r = sd_bus_message_open_container(m, 'a', "(sasb)");
    if (r >= 0)
        r = sd_bus_message_open_container(m, 'r', "sasb");
    if (r >= 0)
        r = sd_bus_message_append(m, "s", path.constData());
    if (r >= 0)
        r = sd_bus_message_append_strv(m, Strv(argv).data());
    if (r >= 0)
        r = sd_bus_message_append(m, "b", 0);
    for (int i = 0; i < 4 && r >= 0; ++i)
        r = sd_bus_message_close_container(m);
    if (r >= 0)
        r = sd_bus_message_close_container(m); // a(sv)
    return r >= 0 ? sd_bus_message_append(m, "a(sa(sv))", 0) : r;
}

} // namespace

void Systemd::startTransientService(const QString &unit, const QString &description, const QStringList &argv,
                                    const QStringList &env, Done done)
{
    const QByteArray name = unit.toUtf8();
    call(this, m_bus, kManagerPath, kManager, "StartTransientUnit",
         [name, description, argv, env](sd_bus_message *m) {
        const int r = sd_bus_message_append(m, "ss", name.constData(), "fail");
        return r < 0 ? r : appendTransientProperties(m, description, argv, env);
    },
         [this, unit, done](sd_bus_message *reply, const QString &error) {
        waitJob(reply, error, QStringLiteral("StartTransientUnit"), unit, done);
    });
}

void Systemd::runJobs(const char *method, const QStringList &units, Done done)
{
    if (units.isEmpty()) {
        QTimer::singleShot(0, this, [done] { done(QString()); });
        return;
    }
    const QStringList rest = units.mid(1);
    runJob(method, units.first(), [this, method, rest, done](const QString &error) {
        if (!error.isEmpty())
            return done(error);
        runJobs(method, rest, done);
    });
}

void Systemd::unitFileState(const QString &u, std::function<void(const QString &state, const QString &error)> done)
{
    const QByteArray name = unitName(u).toUtf8();
    call(this, m_bus, kManagerPath, kManager, "GetUnitFileState",
         [name](sd_bus_message *m) { return sd_bus_message_append(m, "s", name.constData()); },
         [done](sd_bus_message *reply, const QString &error) {
        const char *state = nullptr;
        if (!error.isEmpty() || sd_bus_message_read(reply, "s", &state) < 0)
            return done({}, error.isEmpty() ? QStringLiteral("no state") : error);
        done(fromUtf8(state), {});
    });
}

void Systemd::enable(const QStringList &units, Done done)
{
    changeUnitFiles("EnableUnitFiles", units, std::move(done));
}

void Systemd::disable(const QStringList &units, Done done)
{
    changeUnitFiles("DisableUnitFiles", units, std::move(done));
}

// EnableUnitFiles(as, b runtime, b force) or DisableUnitFiles(as, b
// runtime), never at runtime only and never forced, then Reload.
void Systemd::changeUnitFiles(const char *method, const QStringList &units, Done done)
{
    QList<QByteArray> names;
    for (const QString &u : units)
        names.append(unitName(u).toUtf8());
    const bool enable = qstrcmp(method, "EnableUnitFiles") == 0;
    call(this, m_bus, kManagerPath, kManager, method,
         [names, enable](sd_bus_message *m) {
        int r = sd_bus_message_open_container(m, 'a', "s");
        for (const QByteArray &n : names)
            if (r >= 0)
                r = sd_bus_message_append(m, "s", n.constData());
        if (r >= 0)
            r = sd_bus_message_close_container(m);
        if (r >= 0)
            r = sd_bus_message_append(m, "b", 0);
        return r < 0 || !enable ? r : sd_bus_message_append(m, "b", 0);
    },
         [this, method, done](sd_bus_message *, const QString &error) {
        if (!error.isEmpty())
            return done(QStringLiteral("%1: %2").arg(fromUtf8(method), error));
        call(this, m_bus, kManagerPath, kManager, "Reload", [](sd_bus_message *) { return 0; },
             [done](sd_bus_message *, const QString &err) {
            done(err.isEmpty() ? QString() : QStringLiteral("Reload: %1").arg(err));
        });
    });
}

} // namespace ns8m
