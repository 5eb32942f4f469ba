// NethServer 7's services turned off and on the way NS7 governs them
// (docs/ns7.md).  A service with an e-smith record (type=service) is kept
// off by its record: `status` is set to disabled, then NS7's own service
// adjustment (the runlevel-adjust event) disables and stops the unit, so
// that no later adjustment (after a software update, a host name change...)
// starts it again.  A service without a record is a plain systemd unit.
// Either way systemd's jobs are what the caller waits for: they end when
// the unit really is stopped or running.
#pragma once

#include <QObject>
#include <QSet>
#include <QString>
#include <QStringList>

#include <functional>

namespace ns8m {

class EsmithTools;
class Systemd;

class Ns7Services : public QObject
{
    Q_OBJECT
public:
    Ns7Services(Systemd *systemd, EsmithTools *esmith, QObject *parent = nullptr);

    using Done = std::function<void(const QString &error)>; // "" on success

    // What to do: RECORDS are the services the app's profile says NS7
    // governs by a record (services without one in the database are handled
    // as units); the record of each of STATUSOF gets STATUS, then EVENTS are
    // signalled in turn, then METHOD (a systemd job) runs on each of UNITS.
    struct Change {
        QStringList statusOf;
        QString status;
        QStringList events;
        const char *method = "StopUnit";
        QStringList units;
        QSet<QString> records;
    };

    // Stops UNITS for a while (Finish's stop): records disabled, the service
    // adjustment, then StopUnit.
    void stop(const QStringList &units, const QSet<QString> &records, Done done);
    // Starts UNITS again (a failed Finish): records enabled, the service
    // and firewall adjustments, then StartUnit.
    void start(const QStringList &units, const QSet<QString> &records, Done done);
    // Retires an app's services for good: every record of PRESENT disabled,
    // the service and firewall adjustments (ports close), then StopUnit on
    // RUNNING.
    void retire(const QStringList &present, const QStringList &running, const QSet<QString> &records, Done done);

    void apply(const Change &change, Done done);

    // The e-smith keys among SERVICES: governed by a record, and the record
    // is in the configuration database with type "service".
    QStringList recordKeys(const QStringList &services, const QSet<QString> &records) const;

private:
    void setStatus(QStringList keys, const QString &status, std::function<void(const QString &)> done);
    void signalEvents(QStringList events, std::function<void()> done);

    Systemd *m_systemd;
    EsmithTools *m_esmith;
};

} // namespace ns8m
