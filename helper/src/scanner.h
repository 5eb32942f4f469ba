// The work of App.Scan: counts the regular files and bytes each transfer of
// the profile would copy (excludes applied) and reads the databases' sizes.
// The walk runs on the event loop in slices of a few milliseconds so the
// helper keeps answering and Cancel takes effect at once.
#pragma once

#include "appprofile.h"
#include "job.h"

#include <QElapsedTimer>
#include <QJsonArray>
#include <QObject>
#include <QPointer>

#include <dirent.h>
#include <memory>
#include <vector>

namespace ns8m {

struct ScanResult {
    quint64 files = 0;
    quint64 bytes = 0;
    quint64 databaseBytes = 0;
    QJsonArray details; // [[id, title, files, bytes], ...]
};

// The NS7 paths a transfer reads, with its one "*" expanded: absolute
// paths below ROOT (which is "/" on a real system).  Each entry is
// (path, what "*" matched).
QList<QPair<QString, QString>> expandSource(const QString &root, const Transfer &t);

// True when NAME matches one of the rsync-style exclude patterns (names
// without '/': they apply at any depth).
bool isExcluded(const QByteArray &name, const QList<QByteArray> &patterns);

class Scanner : public QObject
{
    Q_OBJECT
public:
    Scanner(const AppProfile &profile, const QString &root, Job *job, QObject *parent = nullptr);
    ~Scanner() override;

    static QList<JobStep> plan(const AppProfile &profile, const QJsonArray &previousDetails);

    void start();

signals:
    // Emitted once; RESULT is meaningful only when success is true.
    void done(bool success, const QString &message, const ScanResult &result);

private:
    struct Frame {
        QByteArray path;
        std::vector<QByteArray> subdirs;
        size_t next = 0;
    };

    void slice();
    bool beginTransfer();
    void finishTransfer();
    void readDirectory(const QByteArray &path, Frame *frame);
    double transferProgress() const;
    void readDatabases();
    void publishProgress();
    void end(bool success, const QString &message);

    AppProfile m_profile;
    QString m_root;
    QPointer<Job> m_job;
    qsizetype m_transfer = -1;
    QList<QByteArray> m_excludes;
    std::vector<Frame> m_stack;
    quint64 m_files = 0, m_bytes = 0;       // whole scan
    quint64 m_tFiles = 0, m_tBytes = 0;     // current transfer
    QStringList m_warnings;
    ScanResult m_result;
    QElapsedTimer m_clock;
    QElapsedTimer m_lastPublish;
    bool m_ended = false;
};

} // namespace ns8m
