// What App's migration jobs share between appmigration.cpp and appsync.cpp.
#pragma once

#include "operations/migration.h"
#include "bus/job.h"
#include "ns8/ns8client.h"
#include "core/log.h"
#include "transfer/changeset.h"
#include "transfer/changewatch.h"
#include "transfer/dbdump.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QPointer>
#include <QStringList>
#include <QVariantMap>

#include <memory>

namespace ns8m {

// Finish's verification as it goes (verify.cpp): the outcomes, App.Verification's
// rows, each one that is not "matched" logged as a warning when added.
struct Verification {
    QJsonArray items; // [what, name, outcome, detail]
    quint64 files = 0; // entries the dry runs found the same on both sides
    int tables = 0; // tables unchanged since the dump
    int dumps = 0; // dump files on NS8 with their size
    QStringList differences; // the names of the others
    TableChecksums atDump; // at the start of the dump, the services stopped
    Text atDumpError; // why they could not be read then
    QStringList lists; // the --files-from lists to remove at the end

    void add(const QString &what, const QString &name, const QString &outcome, const QString &detail,
             const LogContext &log);
};

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
    bool configureChecked = false; // ...once it was
    class DbDumper *dumper = nullptr;
    qint64 firstStopMs = 0;
    QPointer<class Operation> op;
    QStringList present; // the retired units that exist on NS7 (to disable)
    QString warning; // for the closing sentence of a run that succeeded
    Texts waited; // NS8 tasks that outlived the task timeout, for the closing sentence
    bool resumedStop = false; // a run resumed at configure: NS7's writers were stopped by an earlier one
    Verification verify; // Finish's verify step (and the tables at the dump)
    bool verified = false;
    Texts message; // what the sync said (Start's and Sync's closing sentence)
    // Finish: the trees whose manifest presync recorded, and for the last
    // sync the change set of each (transfer id → its --files-from list).
    QList<ChangeSetTree> changeTrees;
    QHash<QString, QString> changeLists;
    // What the kernel saw change in those trees since presync's manifest
    // (transfer/changewatch.h): the walk after the stop reads only that.
    std::shared_ptr<ChangeWatch> changeWatch;
    // The files the last sync's walk picked at random (transfer id → the
    // NUL-separated list), that verify compares by content.
    QHash<QString, QString> sampleLists;
    bool domainRemoved = false; // before_terminate removed the temporary user domain
    bool domainRestored = false; // ...and its undo created it again
};

// How many files verify compares by content beyond a large tree's change set.
constexpr int kVerifySampleFiles = 200;

} // namespace ns8m
