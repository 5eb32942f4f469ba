// What App's migration jobs share between appmigration.cpp and appsync.cpp.
#pragma once

#include "operations/migration.h"
#include "bus/job.h"
#include "ns8/ns8client.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QPointer>
#include <QStringList>
#include <QVariantMap>

#include <memory>

namespace ns8m {

struct Migration::MigrationRun {
    QPointer<Job> job;
    ClientPtr client;
    QVariantMap settings;
    quint32 node = 0;
    QJsonArray modules; // list-modules output
    QStringList notices;
    // Sync: ship the call history too (every Sync; Finish's final pass
    // leaves it to the dumps).
    bool withHistory = true;
    // ...and check the shipped history against the whole tables (Finish's
    // sync before the stop, so that the cutover need not).
    bool verifyHistory = false;
    // Report the sync's progress into this one step instead of a step per
    // transfer (Finish).
    QString step;
    // Finish
    QStringList stopped; // quiesced NS7 units, started again on failure
    QJsonObject configure; // the configure-module input, checked before the stop
    class DbDumper *dumper = nullptr;
    qint64 firstStopMs = 0;
    QPointer<class Operation> op;
    QStringList present; // the retired units that exist on NS7 (to disable)
    QString warning; // for the closing sentence of a run that succeeded
    Texts waited; // NS8 tasks that outlived the task timeout, for the closing sentence
    bool resumedStop = false; // a run resumed at configure: NS7's writers were stopped by an earlier one
    Texts message; // what the sync said (Start's and Sync's closing sentence)
};

} // namespace ns8m
