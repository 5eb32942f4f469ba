// Asks polkit whether the caller of a method may use an action.  Root
// callers pass without asking; everybody else goes through
// org.freedesktop.PolicyKit1.Authority.CheckAuthorization with the caller's
// bus name.  The answer comes back later: the method reply waits for it.
#pragma once

#include "bus/bus.h"

#include <QHash>
#include <QPointer>

#include <functional>
#include <utility>

namespace ns8m {

namespace Action {
inline constexpr const char *Read = "org.nethserver.ns8migration.read";
inline constexpr const char *Connect = "org.nethserver.ns8migration.connect";
inline constexpr const char *Sync = "org.nethserver.ns8migration.sync";
inline constexpr const char *Migrate = "org.nethserver.ns8migration.migrate";
} // namespace Action

class Authority
{
public:
    explicit Authority(Bus *bus) : m_bus(bus) {}

    // Calls DONE(call) when the sender of CALL may use ACTION; otherwise
    // replies Error.NotAuthorized itself.  Takes a reference on CALL.
    void check(sd_bus_message *call, const char *action,
               std::function<void(sd_bus_message *call, quint32 uid)> done);
    // The same, passing when polkit allows any of ACTIONS (tried in order).
    void checkAny(sd_bus_message *call, QList<const char *> actions,
                  std::function<void(sd_bus_message *call, quint32 uid)> done);

    // Checks waiting for polkit's answer (an interactive one may wait up
    // to two minutes for an agent) are bounded, per caller uid and in all:
    // beyond the bound a call is refused at once with Error.Busy, so one
    // caller cannot keep polkit's answers from everybody else.
    static constexpr int kMaxChecksPerCaller = 16;
    static constexpr int kMaxChecks = 64;
    int inFlight(quint32 uid) const;
    int inFlightTotal() const { return m_total; }
    // True the first time UID is refused since its checks were last all
    // answered (so the log says it once per burst).
    bool noteRefusal(quint32 uid) { return !std::exchange(m_refused[uid], true); }

    // Internal (authority.cpp): counts a check in flight, or says no.
    bool acquire(quint32 uid);
    void release(quint32 uid);

private:
    Bus *m_bus;
    QHash<quint32, int> m_inFlight;
    QHash<quint32, bool> m_refused;
    int m_total = 0;
};

// The common shape of a method handler: read the a{sv} OPTIONS against
// SPECS (InvalidArgument before anything else), ask polkit for one of
// ACTIONS, then call BODY(object, call, uid, options) if OBJECT still
// exists.  BODY replies.
template<typename Object, typename Body>
int authorizedCall(sd_bus_message *m, Object *object, Authority *authority, const QList<OptionSpec> &specs,
                   QList<const char *> actions, Body body)
{
    QVariantMap options;
    BusError error;
    if (!readOptions(m, specs, &options, &error))
        return replyError(m, error);
    QPointer<Object> guard(object);
    authority->checkAny(m, std::move(actions), [guard, options, body](sd_bus_message *call, quint32 uid) {
        if (guard)
            body(guard.data(), call, uid, options);
    });
    return 1;
}

} // namespace ns8m
