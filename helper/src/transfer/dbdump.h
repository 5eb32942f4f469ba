// Database dumps of an app (the profile's `databases` and `sqlite`), with
// MariaDB's own mysqldump and mysql (credentials from the NS7 option file,
// never on a command line), written under the app's work directory:
//
//   restore/             → the module's state/restore/ (loaded first)
//   restore_background/  → the module's state/restore_background/ (loaded
//                          once the service is up, in name order)
//
// Call history (the profile's `incremental` tables) is shipped ahead of
// the cutover: every Sync adds a chunk file with the rows that appeared
// since the last one (by key, or by end time for a table without key), so
// that Finish only dumps the tail.  Each chunk records the count and a
// checksum of its range, taken before its dump; Finish recomputes them and
// ships again the ranges that changed (a row updated, deleted or committed
// late), or the table whole when rows lie outside every range.
// docs/history.md tells the whole story.
#pragma once

#include "profile/appprofile.h"
#include "core/errors.h"
#include "core/log.h"
#include "store/statedb.h"

#include <QMap>
#include <QHash>
#include <QObject>
#include <QPair>
#include <QSet>

#include <functional>
#include <memory>
#include <optional>

namespace ns8m {

// "db.table" → (rows, an order-independent checksum of the rows' content).
using TableChecksums = QMap<QString, QPair<quint64, QString>>;
// `SELECT COUNT(*), <checksum> FROM TABLE WHERE WHERE`: the rows' count and
// an order-independent digest of every column (COLUMNS, in table order) of
// every row: the sum of the first 64 bits of each row's MD5, NULL-safe, so
// that duplicate rows add up instead of cancelling out (MariaDB 5.5 SQL).
// TABLE is quoted already; the checksum reads as a decimal number.  LABEL
// (an SQL expression), when given, is the first column of the answer.
QString rangeDigestSql(const QString &table, const QStringList &columns, const QString &where,
                       const QString &label = QString());

class DbDumper : public QObject
{
    Q_OBJECT
public:
    // FAILURE is empty when it went well; SAID then tells what was done.
    using Done = std::function<void(const Failure &failure, const Texts &said)>;

    DbDumper(const AppProfile &profile, const QString &root, const QString &workDir, StateDb *state,
             const LogContext &log, QObject *parent = nullptr);
    ~DbDumper() override;

    QString restoreDir() const;
    QString backgroundDir() const;

    // Before anything is stopped: MariaDB answers, the databases the profile
    // needs exist, the work directory has room for the dumps.
    void check(Done done);
    // Every Sync: new call-history rows as new chunk files.  VERIFY (Finish's
    // sync before the stop): then recompute every chunk's count and checksum
    // in one snapshot and ship again the ranges that changed, or the table
    // whole when it has rows that no range holds.
    void shipHistory(Done done, bool verify = false);
    // The cutover: structure and data files, the history's tail (checked),
    // the SQLite dumps.
    void dumpAll(Done done);

    // Every base table of the profile's databases as it is now, read in one
    // consistent snapshot by one mysql run (Finish's verification: once at
    // the dump, once before the end of the transfer).
    using ChecksumsDone = std::function<void(const TableChecksums &sums, const Text &error)>;
    void tableChecksums(ChecksumsDone done);

    // The databases that exist, as the last check() or dump found them.
    QSet<QString> databases() const { return m_databases; }

    // Removes the work directory (Abort).
    static void forget(const QString &workDir);

signals:
    void progress(double fraction);

private:
    struct Run;
    using Next = std::function<void(const Text &error)>;
    using Step = std::function<void(Next)>;
    void runSteps(const std::shared_ptr<QList<Step>> &steps, int index, Next done);
    // SCRIPT: through a file (mysqlScript), for SQL of any length.
    void query(const QString &sql, std::function<void(const QList<QStringList> &rows, const Text &error)> done,
               bool script = false);
    void dump(const QStringList &args, const QString &path, const QString &header, Next done);
    void readSchema(Next done);
    void checksumTables(const QList<QStringList> &columns, const ChecksumsDone &done);
    // The steps of one call-history table share their start (tableStep():
    // nothing to do when the table does not exist) and go on in named
    // functions, one asynchronous call each.
    struct HistoryTable;
    using TableWork = void (DbDumper::*)(const std::shared_ptr<HistoryTable> &h);
    Step tableStep(const DatabaseItem &db, const IncrementalTable &t, const std::shared_ptr<Run> &run, TableWork work);
    Step shipTableStep(const DatabaseItem &db, const IncrementalTable &t, const std::shared_ptr<Run> &run);
    void shipTable(const std::shared_ptr<HistoryTable> &h);
    void countRange(const std::shared_ptr<HistoryTable> &h, const QString &low, const QString &high);
    QString digestSql(const std::shared_ptr<HistoryTable> &h, const QString &where) const;
    void digestRows(const std::shared_ptr<HistoryTable> &h, const QString &where,
                    std::function<void(quint64 rows, const QString &checksum)> digested);
    void shipChunk(const std::shared_ptr<HistoryTable> &h, ChunkRecord c, const QString &where);
    Step verifyStep(const DatabaseItem &db, const IncrementalTable &t, const std::shared_ptr<Run> &run);
    void verifyTable(const std::shared_ptr<HistoryTable> &h);
    // RANGES (the table's chunks) against ROWS, the answers of verifyTable().
    void compareRanges(const std::shared_ptr<HistoryTable> &h, const QList<ChunkRecord> &ranges,
                       const QList<QStringList> &rows);
    // CHANGED (records with the counts and checksums of now) dumped again
    // under their names, from INDEX on.
    void reshipRanges(const std::shared_ptr<HistoryTable> &h, const QList<ChunkRecord> &changed, int index);
    // Removes the table's chunks (files and records), to ship it whole; NOTE
    // (why, when there is a reason to tell) is logged and goes into the
    // summary.
    Text dropChunks(const DatabaseItem &db, const IncrementalTable &t, const std::shared_ptr<Run> &run, const Text &note);
    Step tailStep(const DatabaseItem &db, const IncrementalTable &t, const std::shared_ptr<Run> &run);
    void dumpTail(const std::shared_ptr<HistoryTable> &h);
    void checkTail(const std::shared_ptr<HistoryTable> &h, const QString &tailFile);
    void dumpWhole(const std::shared_ptr<HistoryTable> &h, const Text &why);
    QString sqliteDump(const SqliteDump &s, QString *error) const;
    std::shared_ptr<Run> newRun(); // the recorded chunks, strays removed
    void removeUnrecorded();
    QString chunkName(const DatabaseItem &db, int seq, const QString &table) const;

    const AppProfile &m_profile;
    QString m_root;
    QString m_workDir;
    QString m_defaults; // the option file with the credentials
    StateDb *m_state;
    LogContext m_log;
    QSet<QString> m_databases;            // that exist
    QSet<QString> m_tables;               // "db.table" that exist
    // "db.table" → the WHERE tableChecksums() digests a call-history table by
    // (its last chunk and the tail), fixed at its first call.
    std::optional<QHash<QString, QString>> m_digestFrom;
    QHash<QString, QStringList> m_columns; // "db.table" of the call history -> its columns, in order
};

} // namespace ns8m
