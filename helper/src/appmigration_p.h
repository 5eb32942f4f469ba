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

struct App::MigrationRun {
    QPointer<Job> job;
    ClientPtr client;
    QVariantMap settings;
    quint32 node = 0;
    QJsonArray modules; // list-modules output
    QStringList notices;
};

} // namespace ns8m
