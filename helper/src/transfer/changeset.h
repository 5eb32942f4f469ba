// Finish's last sync without the whole file list (docs/transfers.md, "The
// last sync: only what changed").
//
// Just before the sync that runs with the services up (presync), a local
// walk writes a manifest of each transfer's tree: one record per entry
// (path, type and mode, size, mtime and ctime with nanoseconds, inode), in
// the walk's order (depth first, names sorted byte by byte), to a file under
// the helper's state directory.  After the stop, a second walk compares the
// tree with that file, both in the same order, as two sorted streams: the
// helper holds one directory's names at a time, never the tree.  What differs
// (new, changed, type changed) and, for transfers with --delete, what is gone
// (a gone directory once, not its content) is written NUL-separated to a
// list that rsync reads with --files-from --from0 (changeSetTransfer()).
//
// ctime catches what the quick check cannot (a file rewritten with its size
// and mtime kept: `touch -d` sets mtime, never ctime).  An entry whose mtime
// or ctime is not older than the manifest's start (less one second: the
// kernel's clock for ctime is coarse) counts as changed anyway: it may have
// been written again within the same clock tick.
//
// The manifest is taken before presync's rsync reads the tree: whatever
// changes while rsync copies shows up as a difference after the stop.
//
// A transfer gets no change set, and so the full pass, when it is staged
// ("rewrite"), has more than one source or a source that is not a
// directory, or has an exclude pattern the walk cannot apply as rsync would
// (one with '/', "**" or a '\').  The walk applies the others itself (names
// at any depth) and rsync applies them again to the list.
#pragma once

#include "transfer/rsync.h"

#include <QList>
#include <QString>
#include <QThread>

#include <atomic>
#include <memory>

namespace ns8m {

class ChangeWatch;

// Where the change set of one transfer is taken.
struct ChangeSetTree {
    QString id; // the transfer's id
    QByteArray top; // the directory walked (the transfer's source, no trailing '/')
    // What the list's names start with, relative to sampleBase(): "" when
    // the source is copied by content, "<name>/" when copied as itself.
    QByteArray prefix;
    QList<QByteArray> excludes;
    bool deletions = false; // the transfer has --delete: list what is gone
    QString manifest; // the manifest file
    QString list; // the --files-from list (compare only)
    // Compare only: SAMPLESIZE regular files picked at random by the same
    // walk (each file with the same chance), named like the list's entries,
    // NUL-separated in SAMPLE: what Finish's verify compares by content
    // beyond the change set, without walking the tree a third time.
    QString sample;
    int sampleSize = 0;
    int watchIndex = -1; // the tree's index in the ChangeWatch, -1 not watched
};

struct ChangeSetResult {
    QString id;
    bool ok = false;
    QString error; // why not, for the log (the full pass is used then)
    quint64 entries = 0; // entries walked
    quint64 changed = 0; // new or changed paths listed
    quint64 deleted = 0; // gone paths listed
    quint64 sampled = 0; // files in the sample
    qint64 durationMs = 0;
    // Compare with a watch: directories read from the disk, and read from
    // the manifest as nothing happened in them; or why the whole tree was
    // walked ("" it was not).
    quint64 dirsRead = 0, dirsSkipped = 0;
    QString whole;
};

// The tree of TRANSFER, with its files under DIR (manifest "<n>.manifest",
// list "<n>.list", sample "<n>.sample", N its position in the plan); false and *WHY when the
// transfer must have the full pass.
bool changeSetTree(const RsyncTransfer &transfer, const QString &dir, int n, ChangeSetTree *tree, QString *why);

// The walks themselves (synchronous; ChangeSetWalk runs them on a thread).
// STOP: give up when it becomes true.  WATCH (changewatch.h), for trees
// with a watchIndex: the manifest's walk watches every directory before it
// reads it; the compare reads only those where something happened, when
// the watch can be trusted, and walks the whole tree otherwise.
ChangeSetResult writeManifest(const ChangeSetTree &tree, const std::atomic_bool &stop, ChangeWatch *watch = nullptr);
ChangeSetResult compareManifest(const ChangeSetTree &tree, const std::atomic_bool &stop,
                                const ChangeWatch *watch = nullptr);

// TRANSFER's run that sends only the paths in LIST (compareManifest()'s),
// relative to sampleBase(TRANSFER) (commands::rsyncChangeSetOptions).
RsyncTransfer changeSetTransfer(const RsyncTransfer &transfer, const QString &list);

// Finish's verification of TRANSFER after a change-set run: a dry run of the
// paths in LIST only, contents compared (commands::rsyncChangeSetDryRunOptions).
RsyncTransfer changeSetVerifyTransfer(const RsyncTransfer &transfer, const QString &list);

// The walks of several trees one after the other on a thread of their own,
// so the helper keeps answering on the bus; finished() (QThread's) when
// done, then results().  Deleting it stops the walk and waits for it.
class ChangeSetWalk : public QThread
{
    Q_OBJECT
public:
    enum class Mode { Record, Compare };
    ChangeSetWalk(Mode mode, QList<ChangeSetTree> trees, std::shared_ptr<ChangeWatch> watch = {},
                  QObject *parent = nullptr);
    ~ChangeSetWalk() override;

    const QList<ChangeSetTree> &trees() const { return m_trees; }
    const QList<ChangeSetResult> &results() const { return m_results; }

protected:
    void run() override;

private:
    Mode m_mode;
    QList<ChangeSetTree> m_trees;
    QList<ChangeSetResult> m_results;
    std::shared_ptr<ChangeWatch> m_watch;
    std::atomic_bool m_stop{false};
};

} // namespace ns8m
