// NethServer 7's own tools, run the way its packages run them: the e-smith
// configuration database written through /sbin/e-smith/db, events signalled
// through signal-event, templates expanded through expand-template
// (docs/ns7.md).  Everything is asynchronous; a failure is said by id.
#pragma once

#include "core/text.h"

#include <QObject>
#include <QString>
#include <QStringList>

#include <functional>

namespace ns8m {

class EsmithTools : public QObject
{
    Q_OBJECT
public:
    // ROOT: the system's root ("" on NethServer 7).
    explicit EsmithTools(const QString &root, QObject *parent = nullptr);

    using Done = std::function<void(const Texts &failure)>; // empty on success

    // Whether VALUE can be stored: the db command splits at "|" and a
    // newline would end the record.
    static bool storable(const QString &value);

    // `config setprop KEY PROP VALUE...` (a missing KEY is left alone, as
    // the db command does).
    void setProps(const QString &key, const QStringList &propValues, Done done);
    // `config set KEY TYPE PROP VALUE...`.
    void setRecord(const QString &key, const QString &type, const QStringList &propValues, Done done);
    // `signal-event EVENT`.
    void signalEvent(const QString &event, Done done);
    // `expand-template PATH`.
    void expandTemplate(const QString &path, Done done);

    // The package's record ns8-migration (Tunnel, Interface) says whether
    // the tunnel INTERFACE is in NS7's green zone; the firewall-adjust event
    // then rebuilds shorewall's interfaces from the package's template.  A
    // failure of the event (any of its handlers) is logged, not returned.
    void setTunnelZone(const QString &interface, bool inZone, Done done);

    // The configuration database as it is now.
    QString configurationPath() const;

private:
    void run(const QStringList &argv, Done done);

    QString m_root;
};

} // namespace ns8m
