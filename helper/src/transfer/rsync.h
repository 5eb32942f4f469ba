// The rsync transfer engine: copies an app's files to the receiving rsync
// daemon of its NS8 module (PROTOCOL.md §3), as often as the administrator
// wants, then once more at the cutover.
//
// One profile transfer becomes one rsync run per expanded source
// (planTransfers).  Every run is a push to
//     rsync://<module user>@<node VPN ip>:<port>/data/<destination>/
// with these flags, chosen for a live PBX and for rsync 3.1.2 (NS7's):
//
//   -a                 recursion, symlinks as symlinks, modes, owners, devices
//                      and specials, and above all mtimes: they make the
//                      quick check (size + mtime) skip unchanged files, which
//                      is what makes the second and later syncs short.
//   --numeric-ids      ids, never names: NS7 and the NS8 container do not
//                      share a user database (the daemon has "numeric ids =
//                      yes" too).
//   --chown=UID:GID    the profile's owner (e.g. 990:991) on every
//                      file, directory and symlink; or, with "owner:
//                      preserve", the ids are kept and --usermap/--groupmap
//                      (e.g. 48:33) translate the few that differ.
//   --delete           when the profile says so: files removed on NS7 since the
//                      last sync go away on NS8.  Excluded names are never
//                      deleted on the receiver (no --delete-excluded): NS8's
//                      own copies of the stock AGI scripts stay.
//   --exclude=PATTERN  one per profile pattern (names at any depth).
//   --bwlimit=KiB/s    when the caller asks for a limit.
//   no --partial       rsync writes each file to a hidden temp file
//                      (".name.XXXXXX") and renames it when complete, and
//                      removes the temp file when the run is cut short: a
//                      file under its final name on NS8 is always whole.
//   --timeout=120      a dead VPN ends the run instead of hanging forever (the
//                      peers exchange keep-alives while the receiver checks a
//                      large tree, so a slow check does not trip it);
//   --contimeout=20    same for the connection to the daemon.
//   --info=progress2,stats2
//                      one progress line for the whole run (not per file) and
//                      the final statistics, both parsed here.
//   --no-inc-recursive the whole file list is built before the copy starts,
//                      so the totals in the progress lines are final (with
//                      incremental recursion they grow as directories are
//                      read and the bar would go back).  Measured on 200 000
//                      files in 1 000 directories (local daemon): first copy
//                      22.8 s instead of 33.3 s, re-sync 2.0 s instead of 4.6 s,
//                      sender memory 21.7 MB instead of 7.6 MB (~70 bytes a
//                      file: ~70 MB for a million recordings, on each side).
//                      The cost is that nothing moves while the list is built.
//
// The password reaches rsync only through RSYNC_PASSWORD in the child's
// environment (readable by root alone in /proc): never in argv, never in a
// file, never in a message.  rsync's stderr is scrubbed of it anyway.
//
// Transfers with "rewrite" (the phonebook sources name an NS7 path inside
// their JSON) are staged: the source is copied into a private 0700 directory
// under the caller's stage dir with the strings replaced in text files (files
// with a NUL byte are copied as they are), names, modes, owners and mtimes
// kept, rsync sends the stage, and the stage is removed at the end.  Keeping
// the mtimes keeps the quick check working across syncs.  The copy is
// synchronous: it is meant for a few small configuration files.
//
// Progress: rsync writes progress2 lines ending in '\r', e.g.
//     "  1,048,576  33%  1.02MB/s  0:00:01 (xfr#1, to-chk=3/5)"
// The first number is the bytes of the files sent so far (all of each file,
// even the parts the delta algorithm matched), the percentage is that against
// the size of the whole tree, and to-chk=R/T counts the entries left to
// check.  The fraction reported is the larger of the bytes share and the
// entries share: on a first copy the bytes lead, on a re-sync (nothing or
// little to send) the entries do.  It never goes back.  A re-sync with
// nothing to send prints no line until the end: its fraction jumps to 1.
//
// Exit codes: 0 success; 24 (files vanished between the listing and the
// copy: normal on a live PBX) is a success with a warning; anything else is a
// failure, explained by RsyncResult::errorText().
#pragma once

#include "core/errors.h"
#include "core/text.h"
#include "profile/appprofile.h"

#include <QElapsedTimer>
#include <QJsonArray>
#include <QList>
#include <QMetaType>
#include <QObject>
#include <QPair>
#include <QPointer>
#include <QProcess>
#include <QStringList>
#include <QTimer>

#include <deque>
#include <functional>
#include <vector>

namespace ns8m {

inline constexpr int kRsyncTimeoutSeconds = 120;
inline constexpr int kRsyncConnectTimeoutSeconds = 20;
inline constexpr int kMaxItemized = 200;
// A tree with more files than this (as Scan counted them) is sent with
// incremental recursion (boundMemory()): the memory of both rsync
// processes stays that of the largest folder, not of the tree.
inline constexpr quint64 kIncrementalFiles = 200000;

// The receiving rsync daemon of an NS8 module (cluster import-module's
// output: address, port, credentials).
struct RsyncTarget {
    QString host;
    int port = 0;
    QString user;
    QString password;
    QString tunnel; // the interface HOST must be reached through ("": any route)
};

// One rsync run.
struct RsyncTransfer {
    QString id; // unique in a plan: the profile transfer's id, plus ":<match>" for a "*"
    QString profileId; // the profile transfer it comes from (a job step)
    QString title;
    QStringList sources; // local paths, rsync's trailing-slash rule; empty when staged
    QString destination; // rsync://user@host:port/data/<destinationPath>
    QString destinationPath; // relative to the module's /srv, ends with '/'
    QStringList args; // the flags (no source, no destination, no password)
    QString password; // given to the child as RSYNC_PASSWORD only
    // rsync starts only while the kernel routes HOST (the receiver's
    // address) through TUNNEL (core/tunnelroute.h); "" : any route.
    QString tunnel;
    QString host;
    // The sources (or stageFrom) lie below it: just before rsync starts, no
    // component of theirs below it may be a symbolic link (symlinkOnPath()
    // in scanner.h); "" : not checked (the helper's own directories).
    QString sourceRoot;
    QString stageFrom; // "rewrite": the source to stage first, "" otherwise
    QString stageDir; // where the private stage directory is made
    QList<QPair<QString, QString>> rewrite;
    quint64 expectedBytes = 0; // optional (e.g. from Scan): weight in a batch's progress

    // The command: "rsync", the flags, the sources, the destination.
    QStringList argv() const;
    // The directories under /srv this run writes in, each ending with '/':
    // the destination for a source copied by content ("dir/"), the
    // destination plus the source's name for one copied as itself ("dir").
    QStringList writeRoots() const;
};

// Builds the runs of the profile's transfers: one per source after "*"
// expansion (expandSource() in scanner.h), below ROOT ("/" on a real NS7).  A
// missing source of an optional transfer yields no run; a missing mandatory
// one yields a run that fails naming it.  BWLIMITKIB <= 0: no limit.
QList<RsyncTransfer> planTransfers(const AppProfile &profile, const QString &root, const RsyncTarget &target,
                                   int bwlimitKiB, const QString &stageDir);

// The content of the local directory LOCALDIR into DESTINATIONPATH under the
// module's /srv (the database dumps), with the same flags as the profile's
// transfers, owned by UID:GID (when >= 0), and --delete: the receiving
// directory ends up as the local one.
RsyncTransfer directoryTransfer(const QString &id, const QString &title, const QString &localDir,
                                const RsyncTarget &target, const QString &destinationPath, int uid, int gid);

// The local file LOCALFILE into DESTINATIONPATH (a folder under the
// module's /srv) under its own name, with the profile transfers' flags,
// owned by UID:GID (when >= 0), always sent (--ignore-times: it is made
// again at every pass); nothing else in that folder is touched.
RsyncTransfer fileTransfer(const QString &id, const QString &title, const QString &localFile,
                           const RsyncTarget &target, const QString &destinationPath, int uid, int gid);

// Finish's verification of TRANSFER (docs/api.md, Finish's verification): the same run with
// the same options as a dry run that writes nothing and itemizes every path
// that differs (commands::rsyncDryRunOptions).  CHECKSUM: the contents are
// compared too.  FILESFROM: only the files listed there, relative to
// sampleBase(TRANSFER), which becomes the source.
RsyncTransfer verifyTransfer(const RsyncTransfer &transfer, bool checksum, const QString &filesFrom = {});
// Where the names of a --files-from list of TRANSFER start: its source when
// copied by content ("dir/"), its parent when copied as itself ("dir").
QString sampleBase(const RsyncTransfer &transfer);
// Up to N regular files under TRANSFER's source, chosen at random, as names
// relative to sampleBase().  The walk is synchronous (one directory listing
// per folder).  Empty for a staged transfer.
QStringList sampleFiles(const RsyncTransfer &transfer, int n);

// TRANSFERS with rsync's incremental recursion for those whose profile
// transfer has more than kIncrementalFiles files in SCANNED (Scan's
// details: [id, title, files, bytes, ...]).
void boundMemory(QList<RsyncTransfer> *transfers, const QJsonArray &scanned);

// rsync://user@host:port/data/PATH
QString rsyncUrl(const RsyncTarget &target, const QString &path);

// Removes stage directories left by a run that was killed with the helper
// (a crash, a power cut): call it at start, before any run.
void removeStaleStages(const QString &stageDir);

struct RsyncStats {
    bool valid = false; // the statistics were printed (rsync got to the end)
    quint64 files = 0; // entries in the file list (files, directories, links)
    quint64 regularFilesTransferred = 0;
    quint64 deletedFiles = 0;
    quint64 totalFileSize = 0;
    quint64 totalTransferredFileSize = 0;
    quint64 literalData = 0;
    quint64 matchedData = 0;
    quint64 bytesSent = 0;
    quint64 bytesReceived = 0;
};

struct RsyncResult {
    QString id;
    int exitCode = -1; // rsync's; -1: did not get to run, or killed by a signal
    bool canceled = false;
    bool vanished = false; // exit 24: a warning, not a failure
    Text localError; // what failed before rsync ran (stage, start, tunnel), empty otherwise
    QString localErrorName; // its D-Bus error name, when not Error::Failed (TunnelDown)
    QStringList errorLines; // the last lines rsync wrote on stderr (at most 20)
    QStringList namedFiles; // the first files rsync named in its complaints
    int namedFileCount = 0; // how many it named in all
    QStringList vanishedFiles; // likewise for "file has vanished"
    int vanishedCount = 0;
    RsyncStats stats;
    // A dry run's --itemize-changes: the paths it named as differing, as
    // rsync printed them ("%i %n": ">f.st...... dir/file", "*deleting   x"),
    // the first kMaxItemized; and how many in all.
    QStringList itemized;
    int itemizedCount = 0;
    qint64 durationMs = 0;
    int attempts = 1; // 2 when a batch retried it
    QString receiver; // host:port, for messages

    // The copy is complete: exit 0, or 24 (see vanished).
    bool ok() const;
    // A failure that a new attempt may not repeat (network, receiver down or
    // restarted): what RsyncBatch retries.
    bool retryable() const;
    // None when ok(); otherwise a sentence saying what went wrong and what
    // to do, then what rsync said.
    Texts errorTexts() const;
    QString errorText() const; // their English, for the log
    // Empty unless files vanished during the copy: which ones.
    Text warning() const;
    QString warningText() const; // its English

};

// Runs one transfer.  finished() is emitted once, always (also after cancel()
// and when rsync cannot start), from the event loop.
class RsyncRun : public QObject
{
    Q_OBJECT
public:
    explicit RsyncRun(RsyncTransfer transfer, QObject *parent = nullptr);
    ~RsyncRun() override; // kills a running rsync and removes the stage

    void start();
    // SIGTERM, then SIGKILL after the grace period; the result is canceled.
    void cancel();
    void setKillGraceMs(int ms) { m_graceMs = ms; }

    const RsyncTransfer &transfer() const { return m_t; }
    bool isRunning() const;
    qint64 processId() const; // 0 when rsync is not running
    QString stagePath() const { return m_stage; }

    // What rsync printed, one line at a time (a stdout line ends in '\r' or
    // '\n', which is not passed), and what the run made of it so far: the
    // running rsync feeds them; the fuzz target (tests/fuzz) does too.
    void parseOutLine(const QByteArray &line);
    void parseErrLine(const QByteArray &line);
    const RsyncResult &parsed() const { return m_r; }

signals:
    // At most about 4 a second.  FRACTION never decreases; see the top of
    // this file for what the numbers mean.
    void progress(quint64 bytesDone, quint64 bytesTotalEstimate, double fraction, quint64 bytesPerSecond);
    void finished(const ns8m::RsyncResult &result);

private:
    void readOut();
    void readErr();
    void update();
    void emitProgress();
    void onFinished(int exitCode, QProcess::ExitStatus status);
    void finish();
    // The refusal of a source with a symbolic link on its path (sourceRoot).
    Failure symlinkedSource() const;
    bool stage(QString *error);
    void removeStage();

    RsyncTransfer m_t;
    QProcess *m_proc = nullptr;
    QByteArray m_outBuf, m_errBuf;
    RsyncResult m_r;
    bool m_started = false, m_done = false;
    int m_graceMs = 5000;
    QTimer m_killTimer;
    QTimer m_emitTimer;
    QElapsedTimer m_clock;
    QElapsedTimer m_lastEmit;
    QString m_stage;
    // progress
    quint64 m_bytes = 0;
    int m_percent = 0;
    quint64 m_toCheck = 0, m_entries = 0;
    bool m_entriesFinal = false;
    double m_fraction = 0;
    quint64 m_rate = 0;
    std::deque<QPair<qint64, quint64>> m_samples; // (ms, bytes) of the last seconds
    bool m_dirty = false;
};

// Runs a list of transfers, at most maxParallel at a time, and never two whose
// writeRoots() overlap (one is the other or lies inside it): those run one
// after the other in the order of the list.  Voicemail ("spool/voicemail/")
// and recordings ("spool/monitor/") both go into volumes/spool/ but may run
// together; the Asterisk configuration ("asterisk/", by content) and
// fias.conf ("asterisk/fias.conf") may not.
//
// The first hard failure cancels the other runs and ends the batch.  With
// retryFailedOnce(true), a retryable failure instead stops new starts; once
// no run is left, beforeRetry (if set) is called with a function that starts
// the failed ones again (the caller restarts the NS8 receiver first: doing
// it while other runs write into it would break them).  A transfer is retried
// once.
//
// rsync 3.1 creates only the last element of a destination path, and two
// receivers that find it missing at once race to mkdir it ("File exists",
// exit 11).  So when runs may overlap, one small run first creates every
// destination folder that two runs share (or one below the other's): a local
// skeleton of empty directories, copied with -r only, so that folders that
// exist keep their owner, mode and time.  The others start once it has
// ended.  It is part of the batch (retried, canceled, its failure ends the
// batch) but announces nothing: no transferStarted or transferFinished, and
// its result is among finished()'s only if it failed.
class RsyncBatch : public QObject
{
    Q_OBJECT
public:
    explicit RsyncBatch(QList<RsyncTransfer> transfers, QObject *parent = nullptr);
    ~RsyncBatch() override;

    void setMaxParallel(int n); // default 2
    void retryFailedOnce(bool on);
    std::function<void(std::function<void()> go)> beforeRetry;

    void start();
    void cancel();
    bool isRunning() const { return m_started && !m_done; }

    static bool conflicts(const RsyncTransfer &a, const RsyncTransfer &b);

signals:
    void transferStarted(const QString &id);
    void transferProgress(const QString &id, double fraction);
    // The attempt of ID failed (REASON: its errorText()); it runs again later.
    void retrying(const QString &id, const QString &reason);
    void transferFinished(const QString &id, const ns8m::RsyncResult &result);
    // Over the whole batch, at most about 4 a second; fraction and bytesDone
    // never decrease.
    void progress(quint64 bytesDone, quint64 bytesTotalEstimate, double fraction, quint64 bytesPerSecond);
    // Once.  RESULTS: the last attempt of each transfer that ran, in list order.
    void finished(bool ok, const QList<ns8m::RsyncResult> &results);

private:
    enum class State { Pending, Running, RetryWait, Done };
    struct Entry {
        RsyncTransfer t;
        State state = State::Pending;
        QPointer<RsyncRun> run;
        bool retried = false;
        bool hasResult = false;
        RsyncResult result;
        double weight = 1;
        double fraction = 0;
        quint64 bytes = 0, total = 0, rate = 0;
        bool folders = false; // the run that creates the destination folders
    };

    void addFoldersRun();
    void schedule();
    void launch(size_t i);
    void onRunFinished(size_t i, const RsyncResult &r);
    void afterRun();
    void stopAll();
    void updateProgress(bool force);
    void emitProgress();
    void finish(bool ok);
    int running() const;

    std::vector<Entry> m_e;
    QString m_skeleton; // the local tree of empty destination folders
    int m_max = 2;
    bool m_retry = false;
    bool m_started = false, m_done = false;
    bool m_stopping = false; // a hard failure or cancel(): no more starts
    bool m_retryPending = false; // waiting for the runs to end, then beforeRetry
    bool m_inBeforeRetry = false;
    bool m_failed = false;
    double m_fraction = 0;
    quint64 m_bytes = 0, m_total = 0, m_rate = 0;
    QTimer m_emitTimer;
    QElapsedTimer m_lastEmit;
};

} // namespace ns8m

Q_DECLARE_METATYPE(ns8m::RsyncResult)
