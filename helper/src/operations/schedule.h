// An app's schedules: the Syncs the helper runs by itself (App.SetSchedule,
// App.Schedule) and a Finish at a set time (App.ScheduleFinish,
// App.ScheduledFinish).  The records as the state database keeps them
// (JSON, table `schedules`) and the pure functions that say when a run
// comes (unit-tested in helper/tests/test_schedule.cpp); the timers and
// the runs are Migration's (schedule.cpp).
#pragma once

#include "core/errors.h"
#include "core/text.h"

#include <QDateTime>
#include <QJsonObject>
#include <QStringList>
#include <QTime>
#include <QVariantMap>

namespace ns8m {

// App.Schedule: the settings, and what the runs did.
struct SyncSchedule {
    QString kind;                 // "interval" (every `interval` minutes) or "daily" (at `at`, local time); "" none
    quint32 interval = 0;         // minutes, 1 to 10080 (a week)
    QTime at;                     // daily
    QTime quietFrom, quietTo;     // no run starts in [from, to) local time (spans midnight when from > to); invalid: none
    quint32 bwlimit = 0;          // KiB/s, 0: none
    quint32 createdBy = 0;        // the uid that set it: the runs' StartedByUID
    qint64 anchor = 0;            // µs: when it was set; interval runs fall on anchor + k × interval
    qint64 lastRun = 0;           // µs: when the last run started (or was skipped)
    QString lastOutcome;          // "", succeeded, failed, canceled, skipped
    Texts lastMessage;            // the run's closing sentence, or why it was skipped
    QString lastJob;              // its job's path, "" when skipped
    quint32 runs = 0, failures = 0, skipped = 0;

    bool isEmpty() const { return kind.isEmpty(); }
    QJsonObject toJson() const;
    static SyncSchedule fromJson(const QJsonObject &o);
};

// App.ScheduledFinish.
struct FinishSchedule {
    qint64 when = 0;              // µs since the epoch; 0: none
    QString state;                // scheduled, presync, started, blocked, cancelled, failed, succeeded
    QVariantMap options;          // Finish's options as given (fields, accept_warnings)
    QStringList acceptedWarnings; // the ids of the Preflight warnings accepted when it was scheduled
    quint32 createdBy = 0;
    qint64 presyncAt = 0;         // µs: when the sync before it starts (0: none)
    Texts reason;                 // why it did not start, or how it ended
    QString job;                  // the Finish job, or the pre-sync's, when there is one

    bool isEmpty() const { return when == 0; }
    bool isPending() const { return state == u"scheduled" || state == u"presync"; }
    QJsonObject toJson() const;
    static FinishSchedule fromJson(const QJsonObject &o);
};

// How long before a scheduled Finish its sync starts: the cutover's own
// pass before the stop then finds little to copy.
constexpr qint64 kPresyncLeadSeconds = 600;

namespace schedule {

// SetSchedule's options read into *OUT (kind, interval, interval_unit, at,
// bwlimit, quiet_from, quiet_to); InvalidArgument naming the option when one
// is wrong.  An empty map or enabled=false: *OUT empty (the schedule removed).
Failure parse(const QVariantMap &options, SyncSchedule *out);

// Whether T (in its own time zone) falls in S's quiet window.
bool inQuietWindow(const SyncSchedule &s, const QDateTime &t);

// The first run of S strictly after AFTER that is not in the quiet window
// (AFTER's time zone is the one "daily" and the window are read in);
// invalid when S is empty.
QDateTime nextRun(const SyncSchedule &s, const QDateTime &after);

// HH:MM, or an invalid time.
QTime parseTime(const QString &text);

} // namespace schedule

} // namespace ns8m
