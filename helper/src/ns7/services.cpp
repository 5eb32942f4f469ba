#include "ns7/services.h"

#include "core/log.h"
#include "ns7/esmith.h"
#include "ns7/esmithdb.h"
#include "ns7/systemd.h"

namespace ns8m {

namespace {

// NS7's service adjustment: every service record applied to its unit.
const QString kServices = QStringLiteral("runlevel-adjust");
// The firewall rebuilt: the ports of disabled services close.
const QString kFirewall = QStringLiteral("firewall-adjust");

// "asterisk.service" → "asterisk": the e-smith key of a service.
QString keyOf(const QString &unit)
{
    return unit.endsWith(QLatin1String(".service")) ? unit.left(unit.size() - 8) : unit;
}

} // namespace

Ns7Services::Ns7Services(Systemd *systemd, EsmithTools *esmith, QObject *parent)
    : QObject(parent), m_systemd(systemd), m_esmith(esmith)
{
}

QStringList Ns7Services::recordKeys(const QStringList &services, const QSet<QString> &records) const
{
    const EsmithDb config = EsmithDb::load(m_esmith->configurationPath());
    QStringList keys;
    for (const QString &s : services) {
        const QString key = keyOf(s);
        if (!records.contains(key) || keys.contains(key))
            continue;
        if (config.type(key) == u"service")
            keys.append(key);
        else
            Log::info(QStringLiteral("NS7: %1 has no service record: handled as a systemd unit").arg(key));
    }
    return keys;
}

void Ns7Services::stop(const QStringList &units, const QSet<QString> &records, Done done)
{
    apply({units, QStringLiteral("disabled"), {kServices}, "StopUnit", units, records}, std::move(done));
}

void Ns7Services::start(const QStringList &units, const QSet<QString> &records, Done done)
{
    apply({units, QStringLiteral("enabled"), {kServices, kFirewall}, "StartUnit", units, records}, std::move(done));
}

void Ns7Services::retire(const QStringList &present, const QStringList &running, const QSet<QString> &records,
                         Done done)
{
    apply({present, QStringLiteral("disabled"), {kServices, kFirewall}, "StopUnit", running, records},
          std::move(done));
}

void Ns7Services::apply(const Change &change, Done done)
{
    const QStringList keys = recordKeys(change.statusOf, change.records);
    if (keys.isEmpty())
        return m_systemd->runJobs(change.method, change.units, done);
    setStatus(keys, change.status, [this, change, done](const QString &error) {
        if (!error.isEmpty())
            return done(error);
        signalEvents(change.events, [this, change, done] { m_systemd->runJobs(change.method, change.units, done); });
    });
}

void Ns7Services::setStatus(QStringList keys, const QString &status, std::function<void(const QString &)> done)
{
    if (keys.isEmpty())
        return done({});
    const QString key = keys.takeFirst();
    m_esmith->setProps(key, {QStringLiteral("status"), status}, [this, keys, key, status, done](const Texts &failure) {
        if (!failure.isEmpty())
            return done(QStringLiteral("config setprop %1 status %2: %3").arg(key, status, english(failure)));
        setStatus(keys, status, done);
    });
}

void Ns7Services::signalEvents(QStringList events, std::function<void()> done)
{
    if (events.isEmpty())
        return done();
    const QString event = events.takeFirst();
    m_esmith->signalEvent(event, [this, events, event, done](const Texts &failure) {
        // An event fails when any of its handlers does, most of them about
        // other services: systemd's jobs after it say whether ours are right.
        if (!failure.isEmpty())
            Log::warning(QStringLiteral("NS7: the event %1 reported a failure (%2); the services are checked through "
                                        "systemd")
                             .arg(event, english(failure)));
        signalEvents(events, done);
    });
}

} // namespace ns8m
