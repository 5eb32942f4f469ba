// The schedules' records and when their runs come (operations/schedule.h).
#include "operations/schedule.h"

#include "core/qtcompat.h"

#include <QJsonArray>
#include <QTimeZone>

namespace ns8m {

namespace {

QString timeText(const QTime &t)
{
    return t.isValid() ? t.toString(QStringLiteral("HH:mm")) : QString();
}

QJsonArray textsToJson(const Texts &texts)
{
    QJsonArray out;
    for (const Text &t : texts)
        out.append(QJsonArray{t.id, t.tmpl, QJsonArray::fromStringList(t.args)});
    return out;
}

Texts textsFromJson(const QJsonArray &a)
{
    Texts out;
    for (const QJsonValue &v : a) {
        const QJsonArray t = v.toArray();
        Text text;
        text.id = t.at(0).toString();
        text.tmpl = t.at(1).toString();
        for (const QJsonValue &arg : t.at(2).toArray())
            text.args.append(arg.toString());
        out.append(text);
    }
    return out;
}

Failure invalid(const Text &text)
{
    return {Error::InvalidArgument, text};
}

// The minutes since midnight of T's local time.
int minuteOfDay(const QDateTime &t)
{
    const QTime time = t.time();
    return time.hour() * 60 + time.minute();
}

// The first moment at or after T when the quiet window is over.
QDateTime endOfQuiet(const SyncSchedule &s, const QDateTime &t)
{
    QDateTime end(t.date(), s.quietTo, t.timeZone());
    if (end <= t)
        end = QDateTime(t.date().addDays(1), s.quietTo, t.timeZone());
    return end;
}

// TIME on DATE in TZ; a time that the start of DST skips is the hour after.
QDateTime localAt(const QDate &date, const QTime &time, const QTimeZone &tz)
{
    const QDateTime at(date, time, tz);
    return at.isValid() ? at : QDateTime(date, time.addSecs(3600), tz);
}

QDateTime nextSlot(const SyncSchedule &s, const QDateTime &after)
{
    if (s.kind == u"daily") {
        QDateTime at = localAt(after.date(), s.at, after.timeZone());
        for (int day = 1; (!at.isValid() || at <= after) && day < 4; ++day)
            at = localAt(after.date().addDays(day), s.at, after.timeZone());
        return at;
    }
    const qint64 step = qint64(s.interval) * 60 * 1000;
    const qint64 anchor = s.anchor / 1000;
    const qint64 now = after.toMSecsSinceEpoch();
    const qint64 k = now < anchor ? 0 : (now - anchor) / step + 1;
    return QDateTime::fromMSecsSinceEpoch(anchor + k * step, after.timeZone());
}

} // namespace

QJsonObject SyncSchedule::toJson() const
{
    return {{QStringLiteral("kind"), kind},
            {QStringLiteral("interval"), double(interval)},
            {QStringLiteral("at"), timeText(at)},
            {QStringLiteral("quiet_from"), timeText(quietFrom)},
            {QStringLiteral("quiet_to"), timeText(quietTo)},
            {QStringLiteral("bwlimit"), double(bwlimit)},
            {QStringLiteral("created_by"), double(createdBy)},
            {QStringLiteral("anchor"), double(anchor)},
            {QStringLiteral("last_run"), double(lastRun)},
            {QStringLiteral("last_outcome"), lastOutcome},
            {QStringLiteral("last_message"), textsToJson(lastMessage)},
            {QStringLiteral("last_job"), lastJob},
            {QStringLiteral("runs"), double(runs)},
            {QStringLiteral("failures"), double(failures)},
            {QStringLiteral("skipped"), double(skipped)}};
}

SyncSchedule SyncSchedule::fromJson(const QJsonObject &o)
{
    SyncSchedule s;
    s.kind = o.value(QStringLiteral("kind")).toString();
    s.interval = quint32(o.value(QStringLiteral("interval")).toDouble());
    s.at = schedule::parseTime(o.value(QStringLiteral("at")).toString());
    s.quietFrom = schedule::parseTime(o.value(QStringLiteral("quiet_from")).toString());
    s.quietTo = schedule::parseTime(o.value(QStringLiteral("quiet_to")).toString());
    s.bwlimit = quint32(o.value(QStringLiteral("bwlimit")).toDouble());
    s.createdBy = quint32(o.value(QStringLiteral("created_by")).toDouble());
    s.anchor = qint64(o.value(QStringLiteral("anchor")).toDouble());
    s.lastRun = qint64(o.value(QStringLiteral("last_run")).toDouble());
    s.lastOutcome = o.value(QStringLiteral("last_outcome")).toString();
    s.lastMessage = textsFromJson(o.value(QStringLiteral("last_message")).toArray());
    s.lastJob = o.value(QStringLiteral("last_job")).toString();
    s.runs = quint32(o.value(QStringLiteral("runs")).toDouble());
    s.failures = quint32(o.value(QStringLiteral("failures")).toDouble());
    s.skipped = quint32(o.value(QStringLiteral("skipped")).toDouble());
    // A record that makes no sense (written by hand, or by a newer version)
    // is no schedule rather than a timer that fires at once forever.
    if ((s.kind == u"interval" && (s.interval == 0 || s.anchor <= 0)) || (s.kind == u"daily" && !s.at.isValid())
        || (s.kind != u"interval" && s.kind != u"daily"))
        return {};
    return s;
}

QJsonObject FinishSchedule::toJson() const
{
    return {{QStringLiteral("when"), double(when)},
            {QStringLiteral("state"), state},
            {QStringLiteral("options"), QJsonObject::fromVariantMap(options)},
            {QStringLiteral("accepted_warnings"), QJsonArray::fromStringList(acceptedWarnings)},
            {QStringLiteral("created_by"), double(createdBy)},
            {QStringLiteral("presync_at"), double(presyncAt)},
            {QStringLiteral("reason"), textsToJson(reason)},
            {QStringLiteral("job"), job}};
}

FinishSchedule FinishSchedule::fromJson(const QJsonObject &o)
{
    FinishSchedule f;
    f.when = qint64(o.value(QStringLiteral("when")).toDouble());
    f.state = o.value(QStringLiteral("state")).toString();
    f.options = o.value(QStringLiteral("options")).toObject().toVariantMap();
    for (const QJsonValue &v : o.value(QStringLiteral("accepted_warnings")).toArray())
        f.acceptedWarnings.append(v.toString());
    f.createdBy = quint32(o.value(QStringLiteral("created_by")).toDouble());
    f.presyncAt = qint64(o.value(QStringLiteral("presync_at")).toDouble());
    f.reason = textsFromJson(o.value(QStringLiteral("reason")).toArray());
    f.job = o.value(QStringLiteral("job")).toString();
    return f;
}

namespace schedule {

QTime parseTime(const QString &text)
{
    if (text.size() != 5 || text.at(2) != u':')
        return {};
    return QTime::fromString(text, QStringLiteral("HH:mm"));
}

Failure parse(const QVariantMap &options, SyncSchedule *out)
{
    *out = {};
    if (options.isEmpty() || !options.value(QStringLiteral("enabled"), true).toBool())
        return {};
    SyncSchedule s;
    s.kind = options.value(QStringLiteral("kind")).toString();
    if (s.kind != u"interval" && s.kind != u"daily")
        return invalid(Text("schedule.kind", "kind: \"%1\" is not a schedule; use \"interval\" (every so many minutes "
                                             "or hours) or \"daily\" (at a time of day).")
                           .arg(s.kind));
    const QString unit = options.value(QStringLiteral("interval_unit"), QStringLiteral("minutes")).toString();
    if (unit != u"minutes" && unit != u"hours")
        return invalid(Text("schedule.unit", "interval_unit: use \"minutes\" or \"hours\"."));
    const quint64 every = options.value(QStringLiteral("interval")).toULongLong() * (unit == u"hours" ? 60 : 1);
    if (s.kind == u"interval" && (every < 1 || every > 10080))
        return invalid(Text("schedule.interval", "interval: a schedule runs every 1 minute to every 7 days (168 hours)."));
    s.interval = s.kind == u"interval" ? quint32(every) : 0;
    s.at = parseTime(options.value(QStringLiteral("at")).toString());
    if (s.kind == u"daily" && !s.at.isValid())
        return invalid(Text("schedule.at", "at: a daily schedule needs the time of day as HH:MM (00:00 to 23:59)."));
    const QString from = options.value(QStringLiteral("quiet_from")).toString();
    const QString to = options.value(QStringLiteral("quiet_to")).toString();
    s.quietFrom = parseTime(from);
    s.quietTo = parseTime(to);
    if (from.isEmpty() != to.isEmpty() || (!from.isEmpty() && (!s.quietFrom.isValid() || !s.quietTo.isValid()))
        || (s.quietFrom.isValid() && s.quietFrom == s.quietTo))
        return invalid(Text("schedule.quiet", "quiet_from, quiet_to: a quiet window needs both ends as HH:MM, and "
                                              "they must differ."));
    if (s.kind == u"daily" && s.quietFrom.isValid()) {
        SyncSchedule probe = s;
        const QDateTime at(QDate(2000, 1, 3), s.at);
        if (inQuietWindow(probe, at))
            return invalid(Text("schedule.at-quiet", "at: %1 is inside the quiet window (%2 to %3), so it would never "
                                                     "run.")
                               .arg(timeText(s.at), from, to));
    }
    s.bwlimit = quint32(options.value(QStringLiteral("bwlimit"), 0).toUInt());
    *out = s;
    return {};
}

bool inQuietWindow(const SyncSchedule &s, const QDateTime &t)
{
    if (!s.quietFrom.isValid() || !s.quietTo.isValid())
        return false;
    const int m = minuteOfDay(t);
    const int from = s.quietFrom.hour() * 60 + s.quietFrom.minute();
    const int to = s.quietTo.hour() * 60 + s.quietTo.minute();
    if (from < to)
        return m >= from && m < to;
    return m >= from || m < to; // across midnight
}

QDateTime nextRun(const SyncSchedule &s, const QDateTime &after)
{
    if (s.isEmpty())
        return {};
    QDateTime at = nextSlot(s, after);
    // A slot in the quiet window: the first one after it ends.  A few rounds
    // are enough (a window is shorter than a day); the last one stands.
    for (int round = 0; round < 4 && at.isValid() && inQuietWindow(s, at); ++round)
        at = nextSlot(s, endOfQuiet(s, at).addMSecs(-1));
    return at;
}

} // namespace schedule

} // namespace ns8m
