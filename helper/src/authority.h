// Asks polkit whether the caller of a method may use an action.  Root
// callers pass without asking; everybody else goes through
// org.freedesktop.PolicyKit1.Authority.CheckAuthorization with the caller's
// bus name.  The answer comes back later: the method reply waits for it.
#pragma once

#include "bus.h"

#include <functional>

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

private:
    Bus *m_bus;
};

} // namespace ns8m
