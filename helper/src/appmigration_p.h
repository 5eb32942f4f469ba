// What App's migration jobs share between appmigration.cpp and appsync.cpp.
#pragma once

#include "app.h"
#include "job.h"
#include "ns8client.h"

#include <QJsonArray>
#include <QPointer>
#include <QStringList>
#include <QVariantMap>

#include <memory>

namespace ns8m {

// A client ends inside its own callback: it is deleted from the event loop.
struct LaterDeleter {
    void operator()(QObject *o) const
    {
        if (o)
            o->deleteLater();
    }
};


struct App::MigrationRun {
    QPointer<Job> job;
    std::unique_ptr<Ns8Client, LaterDeleter> client;
    QVariantMap settings;
    quint32 node = 0;
    QJsonArray modules; // list-modules output
    QStringList notices;
    bool firstSync = false;
};

} // namespace ns8m
