// An application installed on NS7, at /org/nethserver/Ns8Migration1/apps/<id>.
#pragma once

#include "appprofile.h"
#include "bus.h"
#include "statedb.h"

#include <QObject>
#include <QPointer>

namespace ns8m {

class Daemon;
class Job;
struct ScanResult;

class App : public QObject
{
    Q_OBJECT
public:
    App(Daemon *daemon, AppProfile profile, QObject *parent = nullptr);
    ~App() override;

    bool publish(QString *error);
    QString path() const;
    const AppProfile &profile() const { return m_profile; }
    Daemon *daemon() const { return m_daemon; }
    QString status() const { return m_record.status; }

    void startScan(sd_bus_message *call, quint32 uid);
    int appendProperty(const char *name, sd_bus_message *reply) const;

private:
    void setJob(Job *job);
    void scanDone(Job *job, bool success, const QString &message, const ScanResult &result);
    void changed(const QStringList &names);

    Daemon *m_daemon;
    AppProfile m_profile;
    AppRecord m_record;
    QPointer<Job> m_job;
    QString m_jobPath = QStringLiteral("/");
    sd_bus_slot *m_slot = nullptr;
};

} // namespace ns8m
