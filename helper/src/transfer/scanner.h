// The work of App.Scan: counts the regular files and bytes each transfer of
// the profile would copy (excludes applied), finds the symbolic links that
// would arrive pointing nowhere on NS8, and reads the databases' sizes.
// The walk runs on the event loop in slices of a few milliseconds so the
// helper keeps answering and Cancel takes effect at once.
#pragma once

#include "profile/appprofile.h"
#include "bus/job.h"
#include "core/errors.h"
#include "core/qtcompat.h"

#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonObject>
#include <QObject>
#include <QPointer>

#include <dirent.h>
#include <functional>
#include <memory>
#include <vector>

namespace ns8m {

// Symbolic links that arrive pointing nowhere on NS8.  NS8's rsync receiver
// runs without chroot and with "munge symlinks = no": an absolute link
// arrives with its leading '/' stripped, and a relative one whose target
// leaves the transfer's tree names something that is not copied there.
enum class LinkKind { Inside, Absolute, Escaping };

// What a link with content TARGET is, when its directory is DEPTH levels
// below the top of the transfer's tree (0: the top directory itself; -1: the
// link is the transfer's source).  Lexical, as NS8 will see it: ".." goes up
// one level, "" and "." stay, any other name goes down; going above the top
// at any point leaves the tree.
LinkKind classifyLink(const QByteArray &target, int depth);

// Per transfer: how many links of each kind, and the first few of each (NS7
// paths, as QFile::decodeName gives them).
struct LinkReport {
    static constexpr int kExamples = 5;
    quint64 absolute = 0;
    quint64 escaping = 0;
    QStringList absolutePaths;
    QStringList escapingPaths;

    void add(LinkKind kind, const QString &path);
    bool isEmpty() const { return absolute == 0 && escaping == 0; }
    // {"absolute": n, "absolute_paths": [...], "escaping": n, "escaping_paths": [...]}
    QJsonObject toJson() const;
    static LinkReport fromJson(const QJsonObject &o);
};

struct ScanResult {
    quint64 files = 0;
    quint64 bytes = 0;
    quint64 databaseBytes = 0;
    // Transfers: [id, title, files, bytes, links (LinkReport::toJson())];
    // databases: ["db:<name>", name, 0, bytes].
    QJsonArray details;
};

// The NS7 paths a transfer reads, with its one "*" expanded: absolute
// paths below ROOT (which is "/" on a real system).  Each entry is
// (path, what "*" matched).
QList<QPair<QString, QString>> expandSource(const QString &root, const Transfer &t);

// The helper reads the sources as root: a symbolic link on the way would take
// it (and rsync, which follows every directory above the last, and the last
// too when the source ends with '/') wherever the link points, /root
// included.  The first component of PATH below ROOT that is a symbolic link,
// the last one only when FOLLOWSLAST; "" when there is none (or PATH does
// not exist: that is reported as missing).
QString symlinkOnPath(const QString &root, const QString &path, bool followsLast);
// The refusal of a source whose path has such a link (LINK, from
// symlinkOnPath()), named as the administrator sees it (below ROOT).
Failure symlinkRefused(const QString &root, const QString &link);

// True when NAME matches one of the rsync-style exclude patterns (names
// without '/': they apply at any depth).
bool isExcluded(const QByteArray &name, const QList<QByteArray> &patterns);

class Scanner : public QObject
{
    Q_OBJECT
public:
    Scanner(const AppProfile &profile, const QString &root, Job *job, QObject *parent = nullptr);
    ~Scanner() override;

    // The job steps of the walk, one per transfer, weighed by the
    // previous scan's DETAILS.
    static QList<JobStep> plan(const AppProfile &profile, const QJsonArray &previousDetails);

    using Done = std::function<void(const Failure &failure)>;
    // Walks every transfer's tree, a slice at a time; DONE once, with
    // Canceled when the job is.
    void walk(Done done);
    // The sizes of the profile's databases (one quick query).
    Failure readDatabases();
    const ScanResult &result() const { return m_result; }
    Texts summary() const; // the job's closing sentences

private:
    struct Frame {
        QByteArray path;
        std::vector<QByteArray> subdirs;
        size_t next = 0;
    };

    void slice();
    bool beginTransfer();
    void finishTransfer();
    void readDirectory(const QByteArray &path, int depth, Frame *frame);
    void noteLink(const QByteArray &path, const QByteArray &target, int depth);
    double transferProgress() const;
    void publishProgress();
    void endWalk(const Failure &failure);

    AppProfile m_profile;
    QString m_root;
    QPointer<Job> m_job;
    Size m_transfer = -1;
    QList<QByteArray> m_excludes;
    std::vector<Frame> m_stack;
    quint64 m_files = 0, m_bytes = 0;       // whole scan
    quint64 m_tFiles = 0, m_tBytes = 0;     // current transfer
    LinkReport m_tLinks;                    // current transfer
    QByteArray m_rootPrefix;                // m_root encoded, without a trailing '/'
    QStringList m_warnings;
    ScanResult m_result;
    QElapsedTimer m_clock;
    QElapsedTimer m_lastPublish;
    Done m_walkDone; // set while walking
    Failure m_refused; // a source beginTransfer() would not walk (symlinkOnPath())
};

} // namespace ns8m
