#include "bus/authority.h"

#include "core/log.h"

#include <memory>

namespace ns8m {

namespace {

struct Pending {
    PendingCall call;
    QString action;
    quint32 uid;
    std::function<void(sd_bus_message *, quint32)> done;
    QList<const char *> alternatives; // asked next when this one is refused
    Authority *authority = nullptr;
};

void deny(const Pending &p, const QString &why)
{
    Log::warning(QStringLiteral("uid %1 was refused %2: %3").arg(p.uid).arg(p.action, why));
    replyError(p.call.msg(),
               {Error::NotAuthorized, Text("bus.not-authorized", "You are not allowed to do this: it needs the polkit "
                                                                  "action %1. Ask an administrator, or run it as root.")
                                          .arg(p.action)});
}

// Too many checks in flight: refused at once, polkit is not asked.  Logged
// once per caller and burst, not once per call.
void refuseBusy(const Pending &p)
{
    if (p.authority->noteRefusal(p.uid))
        Log::warning(QStringLiteral("uid %1 has too many requests waiting for polkit: refusing more").arg(p.uid));
    replyError(p.call.msg(),
               {Error::Busy, Text("bus.polkit-busy", "Too many of your requests are waiting for authentication "
                                                     "(at most %1). Answer or cancel them, then try again.")
                                 .arg(Authority::kMaxChecksPerCaller)});
}

// The pending call's slot owns its Pending: freed after the reply, or with
// the bus when the helper stops before polkit answered.
void freePending(void *userdata)
{
    delete static_cast<Pending *>(userdata);
}

int onReply(sd_bus_message *reply, void *userdata, sd_bus_error *)
{
    auto *p = static_cast<Pending *>(userdata);
    p->authority->release(p->uid);
    if (sd_bus_message_is_method_error(reply, nullptr)) {
        const sd_bus_error *e = sd_bus_message_get_error(reply);
        deny(*p, QStringLiteral("polkit could not be asked (%1)").arg(fromUtf8(e ? e->name : "")));
        return 0;
    }
    int authorized = 0, challenge = 0;
    if (sd_bus_message_enter_container(reply, 'r', "bba{ss}") < 0
        || sd_bus_message_read(reply, "bb", &authorized, &challenge) < 0) {
        deny(*p, QStringLiteral("polkit gave an answer that cannot be read"));
        return 0;
    }
    if (!authorized) {
        if (!p->alternatives.isEmpty()) {
            p->authority->checkAny(p->call.msg(), p->alternatives, p->done);
            return 0;
        }
        deny(*p, challenge ? QStringLiteral("authentication would be needed")
                           : QStringLiteral("not authorized"));
        return 0;
    }
    p->done(p->call.msg(), p->uid);
    return 0;
}

} // namespace

void Authority::check(sd_bus_message *call, const char *action,
                      std::function<void(sd_bus_message *, quint32)> done)
{
    checkAny(call, {action}, std::move(done));
}

void Authority::checkAny(sd_bus_message *call, QList<const char *> actions,
                         std::function<void(sd_bus_message *, quint32)> done)
{
    const char *action = actions.takeFirst();
    const qint64 uid = senderUid(call);
    if (uid == 0) {
        done(call, 0);
        return;
    }
    auto p = std::make_unique<Pending>(Pending{PendingCall(call), QString::fromLatin1(action),
                                               uid < 0 ? quint32(-1) : quint32(uid), std::move(done), actions, this});
    if (uid < 0) {
        deny(*p, QStringLiteral("the bus did not say who the caller is"));
        return;
    }
    if (!acquire(p->uid)) {
        refuseBusy(*p);
        return;
    }
    sd_bus_message *req = nullptr;
    int r = sd_bus_message_new_method_call(m_bus->handle(), &req, "org.freedesktop.PolicyKit1",
                                           "/org/freedesktop/PolicyKit1/Authority",
                                           "org.freedesktop.PolicyKit1.Authority",
                                           "CheckAuthorization");
    // Interactive authentication only when the caller said it can wait for it.
    const uint32_t flags = sd_bus_message_get_allow_interactive_authorization(call) > 0 ? 1u : 0u;
    if (r >= 0)
        r = sd_bus_message_append(req, "(sa{sv})sa{ss}us", "system-bus-name", 1, "name", "s",
                                  sd_bus_message_get_sender(call), action, 0, flags, "");
    sd_bus_slot *slot = nullptr;
    if (r >= 0)
        r = sd_bus_call_async(m_bus->handle(), &slot, req, onReply, p.get(), 120 * 1000000ULL);
    sd_bus_message_unref(req);
    if (r < 0) {
        release(p->uid);
        deny(*p, QStringLiteral("polkit could not be asked"));
        return;
    }
    sd_bus_slot_set_destroy_callback(slot, freePending);
    sd_bus_slot_set_floating(slot, 1);
    sd_bus_slot_unref(slot);
    p.release(); // owned by the pending call's slot now
}

bool Authority::acquire(quint32 uid)
{
    int &mine = m_inFlight[uid];
    if (mine >= kMaxChecksPerCaller || m_total >= kMaxChecks) {
        if (mine == 0)
            m_inFlight.remove(uid);
        return false;
    }
    ++mine;
    ++m_total;
    return true;
}

void Authority::release(quint32 uid)
{
    auto it = m_inFlight.find(uid);
    if (it == m_inFlight.end())
        return;
    --m_total;
    if (--it.value() <= 0) {
        m_inFlight.erase(it);
        m_refused.remove(uid);
    }
    if (m_total == 0)
        m_refused.clear();
}

int Authority::inFlight(quint32 uid) const
{
    return m_inFlight.value(uid);
}

} // namespace ns8m
