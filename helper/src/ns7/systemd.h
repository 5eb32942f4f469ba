// A client of systemd's manager (org.freedesktop.systemd1) on the helper's
// bus: unit states, start/stop/reload jobs waited for until systemd says
// they are done, and unit files disabled.  Everything is asynchronous.
#pragma once

#include "core/qtcompat.h"
#include "bus/sdbus.h"

#include <QHash>
#include <QObject>
#include <QString>
#include <QStringList>

#include <functional>

namespace ns8m {

struct UnitState {
    QString loadState;   // loaded, not-found, ...
    QString activeState; // active, inactive, failed, activating, ...
    bool isActive() const { return activeState == u"active" || activeState == u"activating" || activeState == u"reloading"; }
};

class Systemd : public QObject
{
    Q_OBJECT
public:
    explicit Systemd(sd_bus *bus, QObject *parent = nullptr);
    ~Systemd() override;

    using StatesDone = std::function<void(const QHash<QString, UnitState> &states, const QString &error)>;
    using Done = std::function<void(const QString &error)>; // "" on success

    // The state of each unit (a name without a suffix gets ".service").
    void unitStates(const QStringList &units, StatesDone done);
    // StartUnit, StopUnit, RestartUnit or ReloadUnit in "replace" mode; DONE
    // runs when systemd reports the job's end (JobRemoved) or on failure.
    void runJob(const char *method, const QString &unit, Done done);
    // Runs runJob for each unit in turn; stops at the first failure.
    void runJobs(const char *method, const QStringList &units, Done done);
    // DisableUnitFiles, then Reload (systemctl disable).
    void disable(const QStringList &units, Done done);
    // GetUnitFileState: "enabled", "disabled", "static", "masked"...
    void unitFileState(const QString &unit, std::function<void(const QString &state, const QString &error)> done);
    // EnableUnitFiles, then Reload (systemctl enable).
    void enable(const QStringList &units, Done done);
    // StartTransientUnit (systemd-run): UNIT runs ARGV (which daemonizes
    // once ready) with ENV, in its own control group, so that it outlives
    // whoever started it; DONE when systemd's job ends.
    void startTransientService(const QString &unit, const QString &description, const QStringList &argv,
                               const QStringList &env, Done done);

    static QString unitName(const QString &name);

private:
    struct PendingJob;
    static int onJobRemoved(sd_bus_message *m, void *userdata, sd_bus_error *);
    void jobRemoved(const QString &path, const QString &result);
    // Ends the wait for the job at PATH with systemd's RESULT ("" for a
    // timeout); false when nobody waits for it.
    bool endJob(const QString &path, const QString &result);
    void changeUnitFiles(const char *method, const QStringList &units, Done done);
    // Waits for the job a job-starting method's REPLY names.
    void waitJob(sd_bus_message *reply, const QString &error, const QString &methodName, const QString &unit, Done done);
    QString jobError(const QString &what, const QString &result) const; // "" when done

    sd_bus *m_bus;
    sd_bus_slot *m_match = nullptr;
    QHash<QString, PendingJob *> m_jobs; // job path → waiter
    QHash<QString, QString> m_early;     // job path → result seen before the reply
    int m_jobTimeoutMs = 120000;
};

} // namespace ns8m
