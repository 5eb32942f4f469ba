#include "ns7/esmith.h"

#include "core/commands.h"
#include "core/log.h"
#include "core/paths.h"
#include "core/process.h"
#include "ns7/esmithdb.h"

namespace ns8m {

namespace {

const QString kConfiguration = QStringLiteral("configuration");

// signal-event runs every handler of the event; on a busy NS7 it can take a
// few minutes (a firewall restart, a web server reload).
constexpr int kEventTimeoutMs = 10 * 60 * 1000;

} // namespace

EsmithTools::EsmithTools(const QString &root, QObject *parent) : QObject(parent), m_root(root) {}

bool EsmithTools::storable(const QString &value)
{
    return !value.contains(u'|') && !value.contains(u'\n') && !value.contains(u'\r') && value == value.trimmed();
}

QString EsmithTools::configurationPath() const
{
    return underRoot(m_root, QStringLiteral("/var/lib/nethserver/db/") + kConfiguration);
}

void EsmithTools::run(const QStringList &argv, Done done)
{
    runProcess(this, argv, [done](const ProcessResult &r) {
        if (r.ok())
            return done({});
        Log::warning(QStringLiteral("NS7: %1").arg(r.errorText()));
        done({r.failure()});
    }, {}, kEventTimeoutMs);
}

void EsmithTools::setProps(const QString &key, const QStringList &propValues, Done done)
{
    Log::info(QStringLiteral("NS7: config setprop %1 %2").arg(key, propValues.join(u' ')));
    run(commands::esmithSetprop(m_root, kConfiguration, key, propValues), std::move(done));
}

void EsmithTools::setRecord(const QString &key, const QString &type, const QStringList &propValues, Done done)
{
    Log::info(QStringLiteral("NS7: config set %1 %2 %3").arg(key, type, propValues.join(u' ')));
    run(commands::esmithSet(m_root, kConfiguration, key, type, propValues), std::move(done));
}

void EsmithTools::signalEvent(const QString &event, Done done)
{
    Log::info(QStringLiteral("NS7: signal-event %1").arg(event));
    run(commands::signalEvent(m_root, event), std::move(done));
}

void EsmithTools::expandTemplate(const QString &path, Done done)
{
    Log::info(QStringLiteral("NS7: expand-template %1").arg(path));
    run(commands::expandTemplate(m_root, path), std::move(done));
}

void EsmithTools::setTunnelZone(const QString &interface, bool inZone, Done done)
{
    const QString key = QStringLiteral("ns8-migration");
    const QStringList props = {QStringLiteral("Interface"), interface, QStringLiteral("Tunnel"),
                               inZone ? QStringLiteral("enabled") : QStringLiteral("disabled")};
    auto adjust = [this, done](const Texts &failure) {
        if (!failure.isEmpty())
            return done(failure);
        signalEvent(QStringLiteral("firewall-adjust"), [done](const Texts &eventFailure) {
            if (!eventFailure.isEmpty())
                Log::warning(QStringLiteral("NS7: firewall-adjust reported a failure: %1").arg(english(eventFailure)));
            done({});
        });
    };
    // The package's defaults make the record; setprop would skip it if an
    // install left them unapplied.
    if (EsmithDb::load(configurationPath()).contains(key))
        setProps(key, props, adjust);
    else
        setRecord(key, QStringLiteral("configuration"), props, adjust);
}

} // namespace ns8m
