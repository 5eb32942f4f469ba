// The rsync engine against a real rsync daemon on 127.0.0.1, configured like
// the receiver of an NS8 module (PROTOCOL.md §3).  Needs root: the receiver
// gives files to 990:991 and the tests make files owned by 48 and 1234.
#include "profile/appprofile.h"
#include "transfer/rsync.h"
#include "core/errors.h"
#include "core/qtcompat.h"
#include "qtestcompat.h"

#include <QCryptographicHash>
#include <QDateTime>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>
#include <QUrl>

#include <csignal>
#include <fcntl.h>
#include <memory>
#include <optional>
#include <random>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

using namespace ns8m;

namespace {

const QString kPassword = QStringLiteral("Pa55-word-for-rsync-7f3a");

int freePort()
{
    QTcpServer s;
    if (!s.listen(QHostAddress::LocalHost, 0))
        return 0;
    return s.serverPort();
}

struct stat lst(const QString &path)
{
    struct stat st {
    };
    if (::lstat(QFile::encodeName(path).constData(), &st) != 0)
        st.st_mode = 0;
    return st;
}

bool exists(const QString &path)
{
    return lst(path).st_mode != 0;
}

// The link's own text (QFile::symLinkTarget() resolves it).
QString linkText(const QString &path)
{
    char buf[4096];
    const ssize_t n = ::readlink(QFile::encodeName(path).constData(), buf, sizeof buf);
    return n < 0 ? QString() : QFile::decodeName(QByteArray(buf, static_cast<Size>(n)));
}

QByteArray readAll(const QString &path)
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray("<unreadable>");
}

void writeFile(const QString &path, const QByteArray &data, int mode = 0644)
{
    QDir().mkpath(QFileInfo(path).path());
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate))
        qFatal("cannot write %s", qPrintable(path));
    f.write(data);
    f.close();
    ::chmod(QFile::encodeName(path).constData(), mode_t(mode));
}

// Incompressible, and the same on every run.
QByteArray randomBytes(Size size, quint32 seed)
{
    std::seed_seq seq{seed};
    std::mt19937 gen(seq);
    std::vector<quint32> words(static_cast<size_t>((size + 3) / 4));
    for (quint32 &w : words)
        w = static_cast<quint32>(gen());
    return QByteArray(reinterpret_cast<const char *>(words.data()), size);
}

void setMtime(const QString &path, qint64 secs)
{
    const struct timespec t[2] = {{secs, 0}, {secs, 0}};
    ::utimensat(AT_FDCWD, QFile::encodeName(path).constData(), t, AT_SYMLINK_NOFOLLOW);
}

// Every entry below ROOT: kind, mode, and the bytes, link target and mtime.
void describeInto(const QString &root, const QString &rel, const QStringList &skip,
                  QMap<QString, QString> *out)
{
    const QDir d(rel.isEmpty() ? root : root + u'/' + rel);
    const QStringList names
        = d.entryList(QDir::AllEntries | QDir::NoDotAndDotDot | QDir::Hidden | QDir::System, QDir::Name);
    for (const QString &n : names) {
        if (skip.contains(n))
            continue;
        const QString r = rel.isEmpty() ? n : rel + u'/' + n;
        const QString full = root + u'/' + r;
        const struct stat st = lst(full);
        const QString mode = QString::number(st.st_mode & 07777, 8);
        if (S_ISDIR(st.st_mode)) {
            out->insert(r, QStringLiteral("dir ") + mode);
            describeInto(root, r, skip, out);
        } else if (S_ISLNK(st.st_mode)) {
            out->insert(r, QStringLiteral("link -> ") + linkText(full));
        } else {
            const QByteArray sum
                = QCryptographicHash::hash(readAll(full), QCryptographicHash::Sha256).toHex();
            out->insert(
                r, QStringLiteral("file %1 %2 %3").arg(mode).arg(st.st_mtim.tv_sec).arg(QLatin1String(sum)));
        }
    }
}

QMap<QString, QString> describe(const QString &root, const QStringList &skip = {})
{
    QMap<QString, QString> out;
    describeInto(root, QString(), skip, &out);
    return out;
}

// The rsync processes this test started directly (not the daemons).
QList<int> rsyncChildren(const QList<qint64> &daemons)
{
    QList<int> pids;
    const QStringList entries = QDir(QStringLiteral("/proc")).entryList(QDir::Dirs);
    for (const QString &e : entries) {
        bool isPid = false;
        const int pid = e.toInt(&isPid);
        if (!isPid || daemons.contains(pid))
            continue;
        const QByteArray stat = readAll(QStringLiteral("/proc/%1/stat").arg(pid));
        const Size close = stat.lastIndexOf(')');
        if (!stat.startsWith(QByteArray::number(pid) + " (rsync)") || close < 0)
            continue;
        const QList<QByteArray> rest = stat.mid(close + 2).split(' ');
        if (rest.size() > 1 && rest.at(1).toInt() == ::getpid())
            pids.append(pid);
    }
    return pids;
}

// An rsync daemon like the receiver of an NS8 module.
class Receiver
{
public:
    explicit Receiver(const QString &dir) : m_dir(dir) { }
    ~Receiver() { stop(); }
    Receiver(const Receiver &) = delete;
    Receiver &operator=(const Receiver &) = delete;

    QString srv() const { return m_dir + QStringLiteral("/srv"); }
    int port() const { return m_port; }
    qint64 pid() const { return m_proc.processId(); }
    RsyncTarget target(const QString &password = kPassword) const
    {
        return {QStringLiteral("127.0.0.1"), m_port, QStringLiteral("nethvoice1"), password, {}}; // any route
    }

    bool start(int port, QString *error)
    {
        m_port = port;
        QDir().mkpath(srv() + QStringLiteral("/volumes"));
        QDir().mkpath(srv() + QStringLiteral("/state"));
        QDir().mkpath(m_dir + QStringLiteral("/terminate"));
        const QByteArray secrets = QFile::encodeName(m_dir + QStringLiteral("/rsyncd.secrets"));
        const int fd = ::open(secrets.constData(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        const QByteArray line = "nethvoice1:" + kPassword.toUtf8() + '\n';
        if (fd < 0 || ::write(fd, line.constData(), size_t(line.size())) != line.size()) {
            *error = QStringLiteral("cannot write the secrets file");
            return false;
        }
        ::close(fd);
        m_conf = m_dir + QStringLiteral("/rsyncd.conf");
        // "munge symlinks = no" is not in PROTOCOL.md but is in NS8's real
        // receiver (ns8-core, core/rsync/entrypoint.sh): without chroot
        // rsync would otherwise store every link as "/rsyncd-munged/...".
        const QString conf = QStringLiteral("# receiver of a module, as in PROTOCOL.md section 3\n"
                                            "address = 127.0.0.1\n"
                                            "reverse lookup = no\n"
                                            "munge symlinks = no\n"
                                            "pid file = %1/rsyncd.pid\n"
                                            "log file = %1/rsyncd.log\n"
                                            "use chroot = no\n"
                                            "numeric ids = yes\n"
                                            "uid = root\n"
                                            "gid = root\n"
                                            "hosts allow = 127.0.0.1\n"
                                            "hosts deny = *\n"
                                            "auth users = nethvoice1\n"
                                            "secrets file = %2\n"
                                            "\n"
                                            "[data]\n"
                                            "path = %3\n"
                                            "read only = no\n"
                                            "\n"
                                            "[terminate]\n"
                                            "path = %1/terminate\n"
                                            "read only = yes\n"
                                            "list = no\n")
                                 .arg(m_dir, QFile::decodeName(secrets), srv());
        writeFile(m_conf, conf.toUtf8(), 0600);
        m_proc.setProgram(QStringLiteral("rsync"));
        m_proc.setArguments({QStringLiteral("--daemon"), QStringLiteral("--no-detach"),
                             QStringLiteral("--config=") + m_conf, QStringLiteral("--port=%1").arg(m_port)});
        m_proc.setProcessChannelMode(QProcess::ForwardedChannels);
        m_proc.start();
        if (!m_proc.waitForStarted(5000)) {
            *error = QStringLiteral("rsync --daemon did not start: ") + m_proc.errorString();
            return false;
        }
        const bool listening = waitFor(
            [this] {
                if (m_proc.state() != QProcess::Running)
                    return true;
                QTcpSocket s;
                s.connectToHost(QHostAddress::LocalHost, quint16(m_port));
                return s.waitForConnected(100);
            },
            5000);
        if (!listening || m_proc.state() != QProcess::Running) {
            *error = QStringLiteral("rsync --daemon is not listening on 127.0.0.1:%1 (see %2/rsyncd.log)")
                         .arg(m_port)
                         .arg(m_dir);
            return false;
        }
        return true;
    }

    void stop()
    {
        if (m_proc.state() != QProcess::NotRunning) {
            m_proc.terminate();
            if (!m_proc.waitForFinished(5000)) {
                m_proc.kill();
                m_proc.waitForFinished(2000);
            }
        }
        // The daemon's per-connection children outlive it until their
        // client goes: end those of this daemon (same command line).
        if (m_conf.isEmpty())
            return;
        const QByteArray mark = "--config=" + QFile::encodeName(m_conf);
        auto children = [&mark] {
            QList<int> pids;
            const QStringList entries = QDir(QStringLiteral("/proc")).entryList(QDir::Dirs);
            for (const QString &e : entries) {
                bool isPid = false;
                const int pid = e.toInt(&isPid);
                if (isPid && readAll(QStringLiteral("/proc/%1/cmdline").arg(pid)).contains(mark))
                    pids.append(pid);
            }
            return pids;
        };
        for (const int pid : children())
            ::kill(pid, SIGKILL);
        if (!waitFor([&children] { return children().isEmpty(); }, 3000))
            qWarning("rsync daemon children still running after SIGKILL");
    }

private:
    QString m_dir;
    QString m_conf;
    int m_port = 0;
    QProcess m_proc;
};

struct Sample {
    qint64 ms;
    quint64 done, total;
    double fraction;
    quint64 rate;
};

} // namespace

class TestRsync : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_tmp;
    QString m_root; // the NS7 root
    QString m_state; // the helper's state dir (stage parent)
    std::unique_ptr<Receiver> m_rx;

    QString src(const QString &rel) const { return m_root + QStringLiteral("/src/") + rel; }
    QString rx(const QString &rel) const { return m_rx->srv() + u'/' + rel; }

    static Transfer transfer(const QString &id, const QString &source, const QString &destination)
    {
        Transfer t;
        t.id = id;
        t.title = id;
        t.source = source;
        t.destination = destination;
        return t;
    }

    QList<RsyncTransfer> plan(const QList<Transfer> &transfers, int bwlimit = 0,
                              const RsyncTarget *target = nullptr) const
    {
        AppProfile p;
        p.id = QStringLiteral("nethvoice");
        p.ownerUid = 990;
        p.ownerGid = 991;
        p.transfers = transfers;
        return planTransfers(p, m_root, target ? *target : m_rx->target(), bwlimit, m_state);
    }

    RsyncTransfer one(const Transfer &t, int bwlimit = 0, const RsyncTarget *target = nullptr) const
    {
        const QList<RsyncTransfer> l = plan({t}, bwlimit, target);
        if (l.size() != 1)
            qFatal("expected one run for %s", qPrintable(t.id));
        return l.first();
    }

    // Runs T to its end (bounded wait); ON_PROGRESS may act on the run.
    static std::optional<RsyncResult>
    run(const RsyncTransfer &t, QList<Sample> *samples = nullptr,
        const std::function<void(RsyncRun &, const Sample &)> &onProgress = {}, int timeoutMs = 30000)
    {
        RsyncRun r(t);
        std::optional<RsyncResult> result;
        QElapsedTimer clock;
        clock.start();
        QObject::connect(&r, &RsyncRun::progress, [&](quint64 d, quint64 tot, double f, quint64 rate) {
            const Sample s {clock.elapsed(), d, tot, f, rate};
            if (samples)
                samples->append(s);
            if (onProgress)
                onProgress(r, s);
        });
        QObject::connect(&r, &RsyncRun::finished, [&](const RsyncResult &res) { result = res; });
        r.start();
        if (!waitFor([&result] { return result.has_value(); }, timeoutMs))
            qWarning("rsync did not finish within %d ms", timeoutMs);
        return result;
    }

private Q_SLOTS:
    void initTestCase()
    {
        if (::geteuid() != 0)
            QSKIP("needs root: the receiver gives files to 990:991 like NS8's");
        QVERIFY(m_tmp.isValid());
        m_root = m_tmp.path() + QStringLiteral("/ns7");
        m_state = m_tmp.path() + QStringLiteral("/state");
        QVERIFY(QDir().mkpath(m_root + QStringLiteral("/src")));
        QVERIFY(QDir().mkpath(m_state));
        m_rx = std::make_unique<Receiver>(m_tmp.path() + QStringLiteral("/rx"));
        QString error;
        QVERIFY2(m_rx->start(freePort(), &error), qPrintable(error));
    }

    void cleanup()
    {
        // No rsync left behind by any test.
        const QList<qint64> daemons {m_rx ? m_rx->pid() : 0};
        QVERIFY2(waitFor([&daemons] { return rsyncChildren(daemons).isEmpty(); }, 5000),
                 "an rsync child is still running after the test");
    }

    void cleanupTestCase() { m_rx.reset(); }

    void plansTheNethVoiceProfile()
    {
        QString error;
        const auto profile = AppProfile::load(QStringLiteral(NS8M_SOURCE_DIR "/apps/nethvoice.yaml"), &error);
        QVERIFY2(profile, qPrintable(error));
        const QString root = m_tmp.path() + QStringLiteral("/plan-root");
        for (const char *d :
             {"/var/lib/asterisk/sounds/en/custom", "/var/lib/asterisk/sounds/it/custom",
              "/var/lib/asterisk/sounds/fr", "/var/lib/asterisk/sounds/nethcti", "/etc/asterisk",
              "/var/lib/asterisk/agi-bin", "/var/lib/asterisk/moh", "/etc/phonebook/sources.d",
              "/var/spool/asterisk/voicemail", "/var/spool/asterisk/monitor", "/var/lib/tancredi/data"})
            QVERIFY(QDir().mkpath(root + QLatin1String(d)));
        writeFile(root + QStringLiteral("/etc/fias.conf"), "address=1.2.3.4\n");
        const RsyncTarget target {QStringLiteral("198.51.100.2"), 20001, QStringLiteral("nethvoice1"), kPassword, {}};
        const QList<RsyncTransfer> p = planTransfers(*profile, root, target, 0, m_state);

        QStringList ids;
        QHash<QString, RsyncTransfer> byId;
        for (const RsyncTransfer &t : p) {
            ids.append(t.id);
            byId.insert(t.id, t);
        }
        // Optional transfers whose source is missing (customer cards,
        // phonebook uploads and scripts) have no run.
        QCOMPARE(ids.join(u' '),
                 QStringLiteral("sounds-custom:en sounds-custom:it sounds-nethcti asterisk-config "
                                "fias-config agi-bin moh phonebook-sources voicemail recordings "
                                "tancredi"));
        for (const RsyncTransfer &t : p) {
            const QString cmd = t.argv().join(u' ');
            QVERIFY2(!cmd.contains(kPassword), qPrintable(t.id));
            QVERIFY(!t.destination.contains(kPassword));
            QCOMPARE(t.password, kPassword);
            QCOMPARE(t.argv().first(), QStringLiteral("rsync"));
            QCOMPARE(t.argv().last(), t.destination);
            for (const char *flag : {"-a", "--numeric-ids", "--no-inc-recursive", "--info=progress2,stats2"})
                QVERIFY2(t.args.contains(QLatin1String(flag)), flag);
            QVERIFY(t.args.contains(QStringLiteral("--timeout=%1").arg(kRsyncTimeoutSeconds)));
            QVERIFY(t.args.contains(QStringLiteral("--contimeout=%1").arg(kRsyncConnectTimeoutSeconds)));
            QVERIFY(!cmd.contains(QLatin1String("--partial")));
            QVERIFY(!cmd.contains(QLatin1String("--bwlimit")));
            QVERIFY(
                t.destination.startsWith(QLatin1String("rsync://nethvoice1@198.51.100.2:20001/data/volumes/")));
        }
        const RsyncTransfer en = byId.value(QStringLiteral("sounds-custom:en"));
        QCOMPARE(en.profileId, QStringLiteral("sounds-custom"));
        QCOMPARE(en.destination, QStringLiteral("rsync://nethvoice1@198.51.100.2:20001/data/volumes/sounds/en/"));
        QCOMPARE(en.sources, QStringList {root + QStringLiteral("/var/lib/asterisk/sounds/en/custom")});
        QCOMPARE(en.writeRoots(), QStringList {QStringLiteral("volumes/sounds/en/custom/")});
        QVERIFY(en.args.contains(QStringLiteral("--delete")));
        QVERIFY(en.args.contains(QStringLiteral("--chown=990:991")));

        const RsyncTransfer ast = byId.value(QStringLiteral("asterisk-config"));
        QCOMPARE(ast.sources, QStringList {root + QStringLiteral("/etc/asterisk/")});
        QCOMPARE(ast.writeRoots(), QStringList {QStringLiteral("volumes/asterisk/")});
        QVERIFY(!ast.args.contains(QStringLiteral("--delete")));
        for (const char *x : {"--exclude=samples*", "--exclude=keys", "--exclude=asterisk.conf",
                              "--exclude=modules.conf", "--exclude=*.rpmnew"})
            QVERIFY2(ast.args.contains(QLatin1String(x)), x);
        const RsyncTransfer fias = byId.value(QStringLiteral("fias-config"));
        QCOMPARE(fias.writeRoots(), QStringList {QStringLiteral("volumes/asterisk/fias.conf/")});
        QVERIFY(RsyncBatch::conflicts(ast, fias));

        const RsyncTransfer vm = byId.value(QStringLiteral("voicemail"));
        const RsyncTransfer mon = byId.value(QStringLiteral("recordings"));
        QCOMPARE(vm.writeRoots(), QStringList {QStringLiteral("volumes/spool/voicemail/")});
        QCOMPARE(mon.writeRoots(), QStringList {QStringLiteral("volumes/spool/monitor/")});
        QVERIFY(!RsyncBatch::conflicts(vm, mon));

        const RsyncTransfer tan = byId.value(QStringLiteral("tancredi"));
        QVERIFY(tan.args.contains(QStringLiteral("--usermap=48:33")));
        QVERIFY(tan.args.contains(QStringLiteral("--groupmap=48:33")));
        for (const QString &a : tan.args)
            QVERIFY(!a.startsWith(QLatin1String("--chown")));

        const RsyncTransfer pb = byId.value(QStringLiteral("phonebook-sources"));
        QVERIFY(pb.sources.isEmpty());
        QCOMPARE(pb.stageFrom, root + QStringLiteral("/etc/phonebook/sources.d/"));
        QCOMPARE(pb.stageDir, m_state);
        QCOMPARE(pb.rewrite.size(), 1);
        QCOMPARE(pb.writeRoots(), QStringList {QStringLiteral("volumes/pbooksources/")});

        for (const RsyncTransfer &t : planTransfers(*profile, root, target, 500, m_state))
            QVERIFY(t.args.contains(QStringLiteral("--bwlimit=500")));
    }

    void conflictRule()
    {
        auto t = [](const QString &source, const QString &dest) {
            RsyncTransfer r;
            r.sources = QStringList {source};
            r.destinationPath = dest;
            return r;
        };
        // Both by content into the same directory.
        QVERIFY(RsyncBatch::conflicts(t(QStringLiteral("/a/"), QStringLiteral("volumes/spool/")),
                                      t(QStringLiteral("/b/"), QStringLiteral("volumes/spool/"))));
        // Two directories copied as themselves into the same one: disjoint.
        QVERIFY(!RsyncBatch::conflicts(t(QStringLiteral("/x/voicemail"), QStringLiteral("volumes/spool/")),
                                       t(QStringLiteral("/x/monitor"), QStringLiteral("volumes/spool/"))));
        // A prefix must be a whole path element.
        QVERIFY(!RsyncBatch::conflicts(t(QStringLiteral("/x/vm"), QStringLiteral("volumes/spool/")),
                                       t(QStringLiteral("/y/vm2"), QStringLiteral("volumes/spool/"))));
        QVERIFY(RsyncBatch::conflicts(t(QStringLiteral("/x/vm"), QStringLiteral("volumes/spool/")),
                                      t(QStringLiteral("/y/vm"), QStringLiteral("volumes/spool/"))));
        // One by content contains what the other writes.
        QVERIFY(
            RsyncBatch::conflicts(t(QStringLiteral("/etc/asterisk/"), QStringLiteral("volumes/asterisk/")),
                                  t(QStringLiteral("/etc/fias.conf"), QStringLiteral("volumes/asterisk/"))));
        QVERIFY(
            RsyncBatch::conflicts(t(QStringLiteral("/s/"), QStringLiteral("volumes/sounds/")),
                                  t(QStringLiteral("/s/en/custom"), QStringLiteral("volumes/sounds/en/"))));
        QVERIFY(
            !RsyncBatch::conflicts(t(QStringLiteral("/s/nethcti"), QStringLiteral("volumes/sounds/")),
                                   t(QStringLiteral("/s/en/custom"), QStringLiteral("volumes/sounds/en/"))));
    }

    void copiesATreeWithOwnersExcludesAndDelete()
    {
        const QString tree = src(QStringLiteral("tree"));
        writeFile(tree + QStringLiteral("/a/b/c/deep.txt"), "deep\n");
        writeFile(tree + QStringLiteral("/file with spaces.txt"), randomBytes(70000, 1), 0640);
        writeFile(tree + QStringLiteral("/è non-ASCII ñ 名前.wav"), randomBytes(1234, 2));
        writeFile(tree + QStringLiteral("/run.sh"), "#!/bin/sh\n", 0755);
        writeFile(tree + QStringLiteral("/gone.txt"), "soon deleted\n");
        writeFile(tree + QStringLiteral("/samples.conf"), "excluded\n");
        writeFile(tree + QStringLiteral("/sip.conf.rpmnew"), "excluded\n");
        writeFile(tree + QStringLiteral("/keys/private.pem"), "excluded\n");
        QVERIFY(QFile::link(QStringLiteral("a/b/c/deep.txt"), tree + QStringLiteral("/link")));
        QVERIFY(QDir().mkpath(tree + QStringLiteral("/empty")));
        setMtime(tree + QStringLiteral("/gone.txt"), 1600000000);
        writeFile(src(QStringLiteral("keep/keep.txt")), "kept\n");
        writeFile(src(QStringLiteral("keep/gone.txt")), "kept too\n");
        // What NS8 has of its own under an excluded name must survive --delete.
        writeFile(rx(QStringLiteral("volumes/tree/keys/ns8.pem")), "NS8's own\n");

        Transfer tt
            = transfer(QStringLiteral("tree"), QStringLiteral("/src/tree/"), QStringLiteral("volumes/tree/"));
        tt.deleteExtraneous = true;
        tt.exclude
            = QStringList {QStringLiteral("samples*"), QStringLiteral("keys"), QStringLiteral("*.rpmnew")};
        const Transfer tk
            = transfer(QStringLiteral("keep"), QStringLiteral("/src/keep/"), QStringLiteral("volumes/keep/"));

        for (const Transfer &t : {tt, tk}) {
            const auto r = run(one(t));
            QVERIFY2(r, "rsync did not finish within 30 s");
            QVERIFY2(r->ok(), qPrintable(r->errorText()));
            QCOMPARE(r->exitCode, 0);
            QVERIFY(r->errorText().isEmpty());
            QVERIFY(r->stats.valid);
        }
        const QStringList excluded {QStringLiteral("samples.conf"), QStringLiteral("sip.conf.rpmnew"),
                                    QStringLiteral("keys")};
        const auto want = describe(tree, excluded);
        QCOMPARE(want.size(), 10); // a, a/b, a/b/c, empty, 5 files, the link
        QCOMPARE(describe(rx(QStringLiteral("volumes/tree")), {QStringLiteral("keys")}), want);
        QVERIFY(!exists(rx(QStringLiteral("volumes/tree/samples.conf"))));
        QVERIFY(!exists(rx(QStringLiteral("volumes/tree/sip.conf.rpmnew"))));
        QVERIFY(!exists(rx(QStringLiteral("volumes/tree/keys/private.pem"))));
        QVERIFY(exists(rx(QStringLiteral("volumes/tree/keys/ns8.pem"))));
        QCOMPARE(linkText(rx(QStringLiteral("volumes/tree/link"))), QStringLiteral("a/b/c/deep.txt"));
        // Owner 990:991 everywhere: the top directory, files, dirs, the link.
        QStringList owned {QString()};
        for (auto it = want.cbegin(); it != want.cend(); ++it)
            owned.append(it.key());
        for (const QString &rel : owned) {
            const struct stat st = lst(rx(QStringLiteral("volumes/tree/") + rel));
            QVERIFY2(st.st_uid == 990 && st.st_gid == 991,
                     qPrintable(QStringLiteral("%1 is %2:%3").arg(rel).arg(st.st_uid).arg(st.st_gid)));
        }

        // Second sync: a file deleted on NS7 goes away only where the
        // profile says "delete"; nothing else is sent again.
        QVERIFY(QFile::remove(tree + QStringLiteral("/gone.txt")));
        QVERIFY(QFile::remove(src(QStringLiteral("keep/gone.txt"))));
        const auto again = run(one(tt));
        QVERIFY(again && again->ok());
        QCOMPARE(again->stats.deletedFiles, quint64(1));
        QCOMPARE(again->stats.regularFilesTransferred, quint64(0));
        QVERIFY(!exists(rx(QStringLiteral("volumes/tree/gone.txt"))));
        QVERIFY(exists(rx(QStringLiteral("volumes/tree/keys/ns8.pem"))));
        QCOMPARE(describe(rx(QStringLiteral("volumes/tree")), {QStringLiteral("keys")}),
                 describe(tree, excluded));
        const auto kept = run(one(tk));
        QVERIFY(kept && kept->ok());
        QCOMPARE(readAll(rx(QStringLiteral("volumes/keep/gone.txt"))), QByteArray("kept too\n"));
    }

    void preservesOwnersThroughTheMaps()
    {
        const QString dir = src(QStringLiteral("tancredi"));
        writeFile(dir + QStringLiteral("/web.ini"), "by the web server\n", 0640);
        writeFile(dir + QStringLiteral("/other.ini"), "by someone else\n", 0600);
        writeFile(dir + QStringLiteral("/sub/t.ini"), "x\n", 0644);
        QCOMPARE(::chown(QFile::encodeName(dir + QStringLiteral("/web.ini")).constData(), 48, 48), 0);
        QCOMPARE(::chown(QFile::encodeName(dir + QStringLiteral("/other.ini")).constData(), 1234, 1234), 0);
        QCOMPARE(::chown(QFile::encodeName(dir + QStringLiteral("/sub")).constData(), 48, 48), 0);
        Transfer t = transfer(QStringLiteral("tancredi"), QStringLiteral("/src/tancredi/"),
                              QStringLiteral("volumes/tancredi/"));
        t.preserveOwner = true;
        t.usermap = QStringList {QStringLiteral("48:33")};
        t.groupmap = QStringList {QStringLiteral("48:33")};
        const auto r = run(one(t));
        QVERIFY(r);
        QVERIFY2(r->ok(), qPrintable(r->errorText()));
        const struct stat web = lst(rx(QStringLiteral("volumes/tancredi/web.ini")));
        QCOMPARE(web.st_uid, uid_t(33));
        QCOMPARE(web.st_gid, gid_t(33));
        QCOMPARE(web.st_mode & 07777, mode_t(0640));
        const struct stat other = lst(rx(QStringLiteral("volumes/tancredi/other.ini")));
        QCOMPARE(other.st_uid, uid_t(1234));
        QCOMPARE(other.st_gid, gid_t(1234));
        QCOMPARE(other.st_mode & 07777, mode_t(0600));
        const struct stat sub = lst(rx(QStringLiteral("volumes/tancredi/sub")));
        QCOMPARE(sub.st_uid, uid_t(33));
        const struct stat top = lst(rx(QStringLiteral("volumes/tancredi")));
        QCOMPARE(top.st_uid, uid_t(0)); // the source's top directory is root's: kept
    }

    void rewritesThroughAPrivateStage()
    {
        const QString from = QStringLiteral("/var/lib/nethserver/nethvoice/phonebook/uploads/");
        const QString to = QStringLiteral("/var/lib/nethvoice/phonebook/uploads/");
        const QString dir = src(QStringLiteral("sources.d"));
        const QByteArray json = "{\"type\": \"csv\", \"url\": \"file://" + from.toUtf8()
            + "contacts.csv\", \"dbpass\": \"s3cret\"}\n";
        const QByteArray nested = "a " + from.toUtf8() + " b " + from.toUtf8() + "\n";
        const QByteArray blob = QByteArray("\0binary ", 8) + from.toUtf8();
        writeFile(dir + QStringLiteral("/csv.json"), json, 0640);
        writeFile(dir + QStringLiteral("/more/two.json"), nested);
        writeFile(dir + QStringLiteral("/blob.bin"), blob);
        setMtime(dir + QStringLiteral("/csv.json"), 1577836800);

        Transfer t = transfer(QStringLiteral("phonebook-sources"), QStringLiteral("/src/sources.d/"),
                              QStringLiteral("volumes/pbooksources/"));
        t.rewrite = {{from, to}};
        const RsyncTransfer rt = one(t);
        QVERIFY(rt.sources.isEmpty());

        RsyncRun r(rt);
        std::optional<RsyncResult> result;
        connect(&r, &RsyncRun::finished, this, [&result](const RsyncResult &res) { result = res; });
        r.start();
        // The stage exists while rsync runs, private to root.
        const QString stage = r.stagePath();
        QVERIFY(stage.startsWith(m_state + QStringLiteral("/rsync-stage-")));
        QCOMPARE(lst(stage).st_mode & 07777, mode_t(0700));
        QVERIFY(waitFor([&result] { return result.has_value(); }, 30000));
        QVERIFY2(result->ok(), qPrintable(result->errorText()));

        QByteArray expected = json;
        expected.replace(from.toUtf8(), to.toUtf8());
        QCOMPARE(readAll(rx(QStringLiteral("volumes/pbooksources/csv.json"))), expected);
        QCOMPARE(readAll(rx(QStringLiteral("volumes/pbooksources/more/two.json"))),
                 "a " + to.toUtf8() + " b " + to.toUtf8() + "\n");
        QCOMPARE(readAll(rx(QStringLiteral("volumes/pbooksources/blob.bin"))), blob); // not text: as is
        const struct stat st = lst(rx(QStringLiteral("volumes/pbooksources/csv.json")));
        QCOMPARE(st.st_mtim.tv_sec, time_t(1577836800));
        QCOMPARE(st.st_mode & 07777, mode_t(0640));
        QCOMPARE(st.st_uid, uid_t(990));
        // The source is untouched, the stage is gone.
        QCOMPARE(readAll(dir + QStringLiteral("/csv.json")), json);
        QCOMPARE(readAll(dir + QStringLiteral("/more/two.json")), nested);
        QVERIFY(!exists(stage));
        QCOMPARE(QDir(m_state).entryList(QDir::AllEntries | QDir::NoDotAndDotDot | QDir::Hidden),
                 QStringList());

        // Mtimes kept in the stage: the next sync sends nothing.
        const auto again = run(rt);
        QVERIFY(again && again->ok());
        QCOMPARE(again->stats.regularFilesTransferred, quint64(0));
        QCOMPARE(QDir(m_state).entryList(QDir::AllEntries | QDir::NoDotAndDotDot | QDir::Hidden),
                 QStringList());

        // What a killed helper left is removed at start, and only that.
        writeFile(m_state + QStringLiteral("/rsync-stage-Ab12Cd/x.json"), "{}");
        writeFile(m_state + QStringLiteral("/state.db"), "db");
        removeStaleStages(m_state);
        QCOMPARE(QDir(m_state).entryList(QDir::AllEntries | QDir::NoDotAndDotDot | QDir::Hidden),
                 QStringList {QStringLiteral("state.db")});
        QFile::remove(m_state + QStringLiteral("/state.db"));
    }

    void reportsProgress()
    {
        quint64 size = 0;
        for (int i = 0; i < 3; ++i) {
            const QByteArray data = randomBytes(1024 * 1024 + i * 1000, quint32(10 + i));
            writeFile(src(QStringLiteral("prog/rec%1.wav").arg(i)), data);
            size += quint64(data.size());
        }
        for (int i = 0; i < 5; ++i) {
            writeFile(src(QStringLiteral("prog/small/s%1").arg(i)), QByteArray(100, 'x'));
            size += 100;
        }
        QList<Sample> samples;
        qint64 pid = 0;
        QByteArray cmdline, env;
        const auto r = run(one(transfer(QStringLiteral("prog"), QStringLiteral("/src/prog/"),
                                        QStringLiteral("volumes/prog/")),
                               2048),
                           &samples, [&](RsyncRun &rr, const Sample &) {
                               if (pid)
                                   return;
                               pid = rr.processId();
                               cmdline = readAll(QStringLiteral("/proc/%1/cmdline").arg(pid));
                               env = readAll(QStringLiteral("/proc/%1/environ").arg(pid));
                           });
        QVERIFY(r);
        QVERIFY2(r->ok(), qPrintable(r->errorText()));
        QCOMPARE(r->stats.totalFileSize, size);
        QCOMPARE(r->stats.totalTransferredFileSize, size);
        QCOMPARE(r->stats.regularFilesTransferred, quint64(8));

        // The password went through the environment, not the command line.
        QVERIFY(pid > 0);
        QVERIFY(cmdline.contains("rsync://nethvoice1@127.0.0.1:"));
        QVERIFY(!cmdline.contains(kPassword.toUtf8()));
        QVERIFY(env.split('\0').contains("RSYNC_PASSWORD=" + kPassword.toUtf8()));

        QVERIFY2(samples.size() >= 2, "no progress while rsync ran");
        bool during = false, rate = false;
        for (Size i = 0; i < samples.size(); ++i) {
            const Sample &s = samples.at(i);
            QVERIFY(s.fraction >= 0 && s.fraction <= 1);
            QVERIFY(s.done <= s.total);
            during = during || (s.fraction > 0 && s.fraction < 1);
            rate = rate || s.rate > 0;
            if (i > 0) {
                QVERIFY2(s.fraction >= samples.at(i - 1).fraction, "the fraction went back");
                QVERIFY2(s.done >= samples.at(i - 1).done, "the bytes went back");
                if (i + 1 < samples.size()) // the last one closes the run at once
                    QVERIFY2(s.ms - samples.at(i - 1).ms >= 200, "more than ~4 progress signals a second");
            }
        }
        QVERIFY(during);
        QVERIFY(rate);
        QCOMPARE(samples.last().fraction, 1.0);
        QCOMPARE(samples.last().done, size);
        QCOMPARE(samples.last().total, size);
        QCOMPARE(describe(rx(QStringLiteral("volumes/prog"))), describe(src(QStringLiteral("prog"))));
    }

    void refusedCredentials()
    {
        const QString wrong = QStringLiteral("not-the-password-4711");
        const RsyncTarget target = m_rx->target(wrong);
        writeFile(src(QStringLiteral("auth/f")), "x");
        const RsyncTransfer t = one(
            transfer(QStringLiteral("auth"), QStringLiteral("/src/auth/"), QStringLiteral("volumes/auth/")),
            0, &target);
        QVERIFY(!t.argv().join(u' ').contains(wrong));
        const auto r = run(t);
        QVERIFY(r);
        QCOMPARE(r->exitCode, 5);
        QVERIFY(!r->ok());
        QVERIFY2(r->errorText().contains(QLatin1String("refused the credentials")),
                 qPrintable(r->errorText()));
        QVERIFY(r->errorText().contains(QLatin1String("auth failed")));
        QVERIFY(!r->errorText().contains(wrong));
        QVERIFY(!r->errorLines.join(u'\n').contains(wrong));
        QVERIFY(!exists(rx(QStringLiteral("volumes/auth"))));
    }

    void receiverNotRunning()
    {
        RsyncTarget target = m_rx->target();
        target.port = freePort(); // nothing listens there
        writeFile(src(QStringLiteral("down/f")), "x");
        const auto r = run(one(
            transfer(QStringLiteral("down"), QStringLiteral("/src/down/"), QStringLiteral("volumes/down/")),
            0, &target));
        QVERIFY(r);
        QCOMPARE(r->exitCode, 10);
        QVERIFY(r->retryable());
        QVERIFY2(r->errorText().startsWith(QLatin1String("The NS8 node refused the connection to the app's "
                                                         "receiver (127.0.0.1:")),
                 qPrintable(r->errorText()));
        QVERIFY(r->errorText().contains(QLatin1String("not running")));
        QVERIFY(r->errorText().contains(QLatin1String("Connection refused")));
    }

    void nothingLeavesOutsideTheTunnel()
    {
        // The receiver is up, but not routed through the (missing) tunnel
        // interface: rsync does not even start.
        RsyncTarget target = m_rx->target();
        target.tunnel = QStringLiteral("nosuch-ns8");
        writeFile(src(QStringLiteral("tun/f")), "x");
        const auto r = run(one(
            transfer(QStringLiteral("tun"), QStringLiteral("/src/tun/"), QStringLiteral("volumes/tun/")),
            0, &target));
        QVERIFY(r);
        QCOMPARE(r->exitCode, -1);
        QCOMPARE(r->localErrorName, QString::fromLatin1(Error::TunnelDown));
        QVERIFY(!r->retryable());
        QVERIFY2(r->errorText().contains(QLatin1String("nosuch-ns8")), qPrintable(r->errorText()));
        QVERIFY(!exists(rx(QStringLiteral("volumes/tun"))));
    }

    void errorSentences()
    {
        RsyncResult r;
        r.exitCode = 11;
        r.errorLines = QStringList {
            QStringLiteral(
                "rsync: [receiver] write failed on \"/srv/volumes/spool/monitor/a.wav\" (in data): No "
                "space left on device (28)"),
            QStringLiteral("rsync error: error in file IO (code 11) at receiver.c(381) [receiver=3.1.2]")};
        QVERIFY(r.errorText().startsWith(QLatin1String("The NS8 node's disk is full")));
        QVERIFY(r.errorText().contains(QLatin1String("No space left on device")));
        QVERIFY(!r.retryable());
        r.exitCode = 23; // what a sender reports when the receiver's disk fills
        QVERIFY(r.errorText().startsWith(QLatin1String("The NS8 node's disk is full")));

        for (const int code : {12, 30, 35}) {
            RsyncResult n;
            n.exitCode = code;
            n.errorLines
                = QStringList {QStringLiteral("rsync error: timeout in data send/receive (code 30)")};
            QVERIFY2(n.errorText().startsWith(QLatin1String("The NS8 node stopped answering; check the VPN")),
                     qPrintable(n.errorText()));
            QVERIFY(n.retryable());
        }

        RsyncResult p;
        p.exitCode = 23;
        p.namedFiles = QStringList {QStringLiteral("/var/spool/asterisk/monitor/a.wav (Permission denied)"),
                                    QStringLiteral("/var/spool/asterisk/monitor/b.wav (Permission denied)")};
        p.namedFileCount = 5;
        QVERIFY2(p.errorText().startsWith(QLatin1String(
                     "Some files were not copied: /var/spool/asterisk/monitor/a.wav (Permission denied), "
                     "/var/spool/asterisk/monitor/b.wav (Permission denied) and 3 more.")),
                 qPrintable(p.errorText()));
        QVERIFY(!p.retryable());

        RsyncResult v;
        v.exitCode = 24;
        v.vanished = true;
        v.vanishedCount = 1;
        v.vanishedFiles = QStringList {QStringLiteral("/var/spool/asterisk/monitor/x.wav")};
        QVERIFY(v.ok());
        QVERIFY(v.errorText().isEmpty());
        QVERIFY(v.warningText().startsWith(QLatin1String("1 file vanished during the copy: "
                                                         "/var/spool/asterisk/monitor/x.wav")));
        RsyncResult c;
        c.exitCode = 20;
        c.canceled = true;
        QVERIFY(!c.ok());
        QCOMPARE(c.errorText(), QStringLiteral("The copy was canceled."));
        QVERIFY(!c.retryable());
    }

    void vanishedFileIsAWarning()
    {
        for (int i = 0; i < 12; ++i)
            writeFile(src(QStringLiteral("van/f%1.wav").arg(i, 2, 10, QLatin1Char('0'))),
                      randomBytes(64 * 1024, quint32(100 + i)));
        const QString victim = src(QStringLiteral("van/f11.wav"));
        // The list is built first (no incremental recursion), files go in
        // name order at 512 KiB/s: the last one is removed long before its turn.
        const auto r = run(
            one(transfer(QStringLiteral("van"), QStringLiteral("/src/van/"), QStringLiteral("volumes/van/")),
                512),
            nullptr, [&victim](RsyncRun &, const Sample &) {
                if (QFileInfo::exists(victim))
                    QFile::remove(victim);
            });
        QVERIFY(r);
        QCOMPARE(r->exitCode, 24);
        QVERIFY(r->vanished);
        QVERIFY(r->ok());
        QVERIFY(r->errorText().isEmpty());
        QCOMPARE(r->vanishedCount, 1);
        QVERIFY2(r->warningText().contains(victim), qPrintable(r->warningText()));
        QVERIFY(!exists(rx(QStringLiteral("volumes/van/f11.wav"))));
        QCOMPARE(readAll(rx(QStringLiteral("volumes/van/f10.wav"))),
                 readAll(src(QStringLiteral("van/f10.wav"))));
    }

    void cancelLeavesNoPartialFile()
    {
        writeFile(src(QStringLiteral("big/big.wav")), randomBytes(4 * 1024 * 1024, 42));
        qint64 pid = 0;
        const auto r = run(
            one(transfer(QStringLiteral("big"), QStringLiteral("/src/big/"), QStringLiteral("volumes/big/")),
                1024),
            nullptr, [&pid](RsyncRun &rr, const Sample &) {
                if (pid)
                    return;
                pid = rr.processId();
                rr.cancel();
            });
        QVERIFY(r);
        QVERIFY(pid > 0);
        QVERIFY(r->canceled);
        QVERIFY(!r->ok());
        QCOMPARE(r->errorText(), QStringLiteral("The copy was canceled."));
        QVERIFY(!r->retryable());
        // rsync is gone (and reaped)...
        QCOMPARE(::kill(pid_t(pid), 0), -1);
        QCOMPARE(errno, ESRCH);
        // ...the receiver drops its temp file as its session ends, and no
        // partial file ever shows under the final name.
        const QString dir = rx(QStringLiteral("volumes/big"));
        QVERIFY2(waitFor([&dir] { return QDir(dir).entryList(QDir::Files | QDir::Hidden).isEmpty(); },
                                 10000),
                 qPrintable(QStringLiteral("left in the receiver: ")
                            + QDir(dir).entryList(QDir::Files | QDir::Hidden).join(u' ')));
        QVERIFY(!exists(dir + QStringLiteral("/big.wav")));
    }

    void cancelEscalatesToSigkill()
    {
        // An rsync that ignores SIGTERM (stuck in a system call, say).
        const QString bin = m_tmp.path() + QStringLiteral("/stubborn-bin");
        writeFile(
            bin + QStringLiteral("/rsync"),
            "#!/bin/sh\ntrap '' TERM\nprintf '      32,768   1%%    0.00kB/s    0:00:00\\r'\nexec sleep 30\n",
            0755);
        writeFile(src(QStringLiteral("stubborn/f")), "x");
        const RsyncTransfer t = one(transfer(QStringLiteral("stubborn"), QStringLiteral("/src/stubborn/"),
                                             QStringLiteral("volumes/stubborn/")));
        const QByteArray path = qgetenv("PATH");
        qputenv("PATH", bin.toUtf8() + ':' + path);
        RsyncRun r(t);
        r.setKillGraceMs(300);
        std::optional<RsyncResult> result;
        qint64 pid = 0;
        QElapsedTimer clock;
        connect(&r, &RsyncRun::progress, this, [&](quint64 done, quint64, double f, quint64) {
            QCOMPARE(done, quint64(32768));
            QCOMPARE(f, 0.01);
            pid = r.processId();
            clock.start();
            r.cancel();
        });
        connect(&r, &RsyncRun::finished, this, [&result](const RsyncResult &res) { result = res; });
        r.start();
        qputenv("PATH", path);
        QVERIFY2(waitFor([&result] { return result.has_value(); }, 10000),
                 "the run did not end after SIGTERM and SIGKILL");
        QVERIFY(pid > 0);
        QVERIFY(clock.elapsed() >= 250); // SIGTERM alone did nothing
        QVERIFY(result->canceled);
        QCOMPARE(result->exitCode, -1);
        QCOMPARE(::kill(pid_t(pid), 0), -1);
    }

    void localFailuresAreReported()
    {
        // No rsync on the PATH.
        writeFile(src(QStringLiteral("norsync/f")), "x");
        const RsyncTransfer nr = one(transfer(QStringLiteral("norsync"), QStringLiteral("/src/norsync/"),
                                              QStringLiteral("volumes/norsync/")));
        const QByteArray path = qgetenv("PATH");
        qputenv("PATH", m_tmp.path().toUtf8() + "/empty-bin");
        const auto missing = run(nr);
        qputenv("PATH", path);
        QVERIFY(missing);
        QCOMPARE(missing->exitCode, -1);
        QVERIFY(!missing->ok());
        QVERIFY(!missing->retryable());
        QVERIFY2(
            missing->errorText().startsWith(QLatin1String("rsync could not be started (is it installed?)")),
            qPrintable(missing->errorText()));

        // A stage that cannot be made ends the run with a sentence, and the
        // run still reports its end.
        Transfer t = transfer(QStringLiteral("pb"), QStringLiteral("/src/does-not-exist/"),
                              QStringLiteral("volumes/pb/"));
        t.rewrite = {{QStringLiteral("a"), QStringLiteral("b")}};
        const auto r = run(one(t));
        QVERIFY(r);
        QVERIFY(!r->ok());
        QVERIFY(!r->retryable());
        QVERIFY2(r->errorText().startsWith(QLatin1String("Could not prepare the rewritten copy of ")),
                 qPrintable(r->errorText()));
        QVERIFY(r->errorText().contains(QLatin1String("No such file or directory")));
        QCOMPARE(QDir(m_state).entryList(QDir::AllEntries | QDir::NoDotAndDotDot | QDir::Hidden),
                 QStringList());
    }

    // agi-bin replaced by a link to /root (a directory outside the
    // profile's paths here): rsync, run as root, would copy what it points
    // to.  The run refuses before rsync starts, naming the path; a link
    // above the source is refused as well.
    void refusesASymlinkedSource()
    {
        writeFile(m_tmp.path() + QStringLiteral("/root/secret"), "not for NS8");
        QVERIFY(QDir().mkpath(src(QStringLiteral("asterisk"))));
        QVERIFY(QFile::link(m_tmp.path() + QStringLiteral("/root"), src(QStringLiteral("asterisk/agi-bin"))));
        QVERIFY(QFile::link(src(QStringLiteral("asterisk")), src(QStringLiteral("alias"))));
        const struct {
            const char *source, *refused;
        } cases[] = {{"/src/asterisk/agi-bin/", "/src/asterisk/agi-bin is a symbolic link"},
                     {"/src/alias/agi-bin/", "/src/alias is a symbolic link"}};
        for (const auto &c : cases) {
            const auto r = run(one(transfer(QStringLiteral("agi-bin"), QString::fromLatin1(c.source),
                                            QStringLiteral("volumes/agi-bin/"))));
            QVERIFY(r);
            QVERIFY(!r->ok());
            QVERIFY(!r->retryable());
            QVERIFY2(r->errorText().startsWith(QLatin1String(c.refused)), qPrintable(r->errorText()));
            QVERIFY(!QFile::exists(rx(QStringLiteral("volumes/agi-bin/secret"))));
        }
        // Staged (rewritten) sources are checked before the stage is made.
        Transfer t = transfer(QStringLiteral("agi-bin"), QStringLiteral("/src/asterisk/agi-bin/"),
                              QStringLiteral("volumes/agi-bin/"));
        t.rewrite = {{QStringLiteral("a"), QStringLiteral("b")}};
        const auto staged = run(one(t));
        QVERIFY(staged);
        QVERIFY2(staged->errorText().startsWith(QLatin1String("/src/asterisk/agi-bin is a symbolic link")),
                 qPrintable(staged->errorText()));
        QVERIFY(!QFile::exists(rx(QStringLiteral("volumes/agi-bin/secret"))));
    }

    // The receiver's URL is made of NS8's answer: one that rsync would read
    // as something else (an option, another module) is not run.
    void refusesADestinationNs8CouldNotHaveGiven()
    {
        writeFile(src(QStringLiteral("dest/f")), "x");
        const RsyncTransfer good = one(transfer(QStringLiteral("dest"), QStringLiteral("/src/dest/"),
                                                QStringLiteral("volumes/dest/")));
        const QString port = QString::number(QUrl(good.destination).port());
        for (const QString &bad : {QStringLiteral("rsync://-x@127.0.0.1:%1/data/volumes/dest/"),
                                   QStringLiteral("rsync://u@-x:%1/data/volumes/dest/"),
                                   QStringLiteral("rsync://u@127.0.0.1:%1/other/volumes/dest/"),
                                   QStringLiteral("rsync://u@127.0.0.1:%1/data/../etc/")}) {
            RsyncTransfer t = good;
            t.destination = bad.arg(port);
            const auto r = run(t);
            QVERIFY(r);
            QVERIFY(!r->ok());
            QVERIFY2(r->errorText().startsWith(QLatin1String("The receiver's address ")), qPrintable(r->errorText()));
        }
    }

    void batchKeepsToTheParallelLimit()
    {
        QList<Transfer> ts;
        for (int i = 0; i < 5; ++i) {
            writeFile(src(QStringLiteral("par%1/f.wav").arg(i)), randomBytes(200 * 1024, quint32(200 + i)));
            ts.append(transfer(QStringLiteral("par%1").arg(i), QStringLiteral("/src/par%1/").arg(i),
                               QStringLiteral("volumes/par%1/").arg(i)));
        }
        QList<RsyncTransfer> runs = plan(ts, 512);
        for (RsyncTransfer &t : runs)
            t.expectedBytes = 200 * 1024;
        RsyncBatch batch(runs);
        QCOMPARE(batch.isRunning(), false);
        int running = 0, most = 0, mostChildren = 0;
        QStringList order;
        QList<Sample> samples;
        std::optional<QPair<bool, QList<RsyncResult>>> end;
        const QList<qint64> daemons {m_rx->pid()};
        connect(&batch, &RsyncBatch::transferStarted, this, [&](const QString &id) {
            most = std::max(most, ++running);
            order.append(QStringLiteral("+") + id);
        });
        connect(&batch, &RsyncBatch::transferFinished, this, [&](const QString &id, const RsyncResult &r) {
            --running;
            order.append(QStringLiteral("-") + id);
            QVERIFY(r.ok());
        });
        connect(&batch, &RsyncBatch::progress, this, [&](quint64 d, quint64 t, double f, quint64 rate) {
            samples.append({0, d, t, f, rate});
            mostChildren = std::max(mostChildren, int(rsyncChildren(daemons).size()));
        });
        connect(&batch, &RsyncBatch::finished, this,
                [&](bool ok, const QList<RsyncResult> &results) { end = qMakePair(ok, results); });
        batch.setMaxParallel(2);
        batch.start();
        QVERIFY(batch.isRunning());
        QVERIFY2(waitFor([&end] { return end.has_value(); }, 30000), "the batch did not end in 30 s");
        QVERIFY(end->first);
        QCOMPARE(end->second.size(), 5);
        QCOMPARE(most, 2);
        QVERIFY(mostChildren <= 2);
        QCOMPARE(order.size(), 10);
        for (int i = 0; i < 5; ++i)
            QCOMPARE(end->second.at(i).id, QStringLiteral("par%1").arg(i));
        QVERIFY(!samples.isEmpty());
        for (Size i = 1; i < samples.size(); ++i) {
            QVERIFY2(samples.at(i).fraction >= samples.at(i - 1).fraction, "the batch's fraction went back");
            QVERIFY2(samples.at(i).done >= samples.at(i - 1).done, "the batch's bytes went back");
        }
        QCOMPARE(samples.last().fraction, 1.0);
        QCOMPARE(samples.last().done, quint64(5 * 200 * 1024));
        QCOMPARE(samples.last().total, quint64(5 * 200 * 1024));
    }

    void batchSerializesOverlappingDestinations()
    {
        writeFile(src(QStringLiteral("spool/voicemail/default/201/INBOX/msg0000.wav")),
                  randomBytes(300 * 1024, 300));
        writeFile(src(QStringLiteral("spool/monitor/2024/01/01/call.wav")), randomBytes(300 * 1024, 301));
        writeFile(src(QStringLiteral("c1/sip.conf")), randomBytes(300 * 1024, 302));
        writeFile(src(QStringLiteral("c2/extensions.conf")), randomBytes(300 * 1024, 303));
        const QList<RsyncTransfer> runs = plan(
            {transfer(QStringLiteral("voicemail"), QStringLiteral("/src/spool/voicemail"),
                      QStringLiteral("volumes/spool/")),
             transfer(QStringLiteral("recordings"), QStringLiteral("/src/spool/monitor"),
                      QStringLiteral("volumes/spool/")),
             transfer(QStringLiteral("c1"), QStringLiteral("/src/c1/"), QStringLiteral("volumes/conf/")),
             transfer(QStringLiteral("c2"), QStringLiteral("/src/c2/"), QStringLiteral("volumes/conf/"))},
            600);
        RsyncBatch batch(runs);
        batch.setMaxParallel(4);
        QStringList order;
        std::optional<bool> end;
        connect(&batch, &RsyncBatch::transferStarted, this,
                [&order](const QString &id) { order << u'+' + id; });
        connect(&batch, &RsyncBatch::transferFinished, this,
                [&order](const QString &id, const RsyncResult &) { order << u'-' + id; });
        connect(&batch, &RsyncBatch::finished, this,
                [&end](bool ok, const QList<RsyncResult> &) { end = ok; });
        batch.start();
        QVERIFY2(waitFor([&end] { return end.has_value(); }, 30000), "the batch did not end in 30 s");
        QVERIFY(*end);
        const QString o = order.join(u' ');
        // Voicemail and recordings overlap: both start before either ends.
        QVERIFY2(order.indexOf(QStringLiteral("+recordings")) < order.indexOf(QStringLiteral("-voicemail")),
                 qPrintable(o));
        QVERIFY2(order.indexOf(QStringLiteral("+voicemail")) < order.indexOf(QStringLiteral("-recordings")),
                 qPrintable(o));
        // c1 and c2 both write volumes/conf/ itself: one after the other, in order.
        QVERIFY2(order.indexOf(QStringLiteral("-c1")) < order.indexOf(QStringLiteral("+c2")), qPrintable(o));
        QVERIFY(exists(rx(QStringLiteral("volumes/spool/voicemail/default/201/INBOX/msg0000.wav"))));
        QVERIFY(exists(rx(QStringLiteral("volumes/spool/monitor/2024/01/01/call.wav"))));
        QVERIFY(exists(rx(QStringLiteral("volumes/conf/sip.conf"))));
        QVERIFY(exists(rx(QStringLiteral("volumes/conf/extensions.conf"))));
    }

    // rsync creates only the last element of a destination path, and two
    // receivers that find it missing at once both mkdir it: one fails with
    // "File exists" (exit 11), about one pair in two with plain rsync.  The
    // batch creates the destination folders first, so a receiver that has
    // none of them yet takes 200 batches of parallel runs without a failure.
    void parallelRunsIntoMissingFolders()
    {
        writeFile(src(QStringLiteral("race/voicemail/default/201/INBOX/msg0000.txt")), "vm");
        writeFile(src(QStringLiteral("race/monitor/2024/01/01/call.wav")), "rec");
        writeFile(src(QStringLiteral("race/en/custom/welcome.wav")), "snd");
        writeFile(src(QStringLiteral("race/nethcti/ring.wav")), "cti");
        const QList<RsyncTransfer> runs = plan(
            {transfer(QStringLiteral("voicemail"), QStringLiteral("/src/race/voicemail"), QStringLiteral("volumes/spool/")),
             transfer(QStringLiteral("recordings"), QStringLiteral("/src/race/monitor"), QStringLiteral("volumes/spool/")),
             // a destination two levels below a folder that does not exist yet
             transfer(QStringLiteral("custom"), QStringLiteral("/src/race/en/custom/"),
                      QStringLiteral("volumes/sounds/en/")),
             transfer(QStringLiteral("cti"), QStringLiteral("/src/race/nethcti"), QStringLiteral("volumes/sounds/"))});
        const QString volumes = rx(QStringLiteral("volumes"));
        for (int round = 0; round < 200; ++round) {
            QVERIFY(QDir(volumes).removeRecursively());
            QVERIFY(QDir().mkpath(volumes));
            RsyncBatch batch(runs);
            batch.setMaxParallel(4);
            QStringList started;
            connect(&batch, &RsyncBatch::transferStarted, this, [&started](const QString &id) { started << id; });
            std::optional<QPair<bool, QList<RsyncResult>>> end;
            connect(&batch, &RsyncBatch::finished, this,
                    [&end](bool ok, const QList<RsyncResult> &results) { end = qMakePair(ok, results); });
            batch.start();
            QVERIFY2(waitFor([&end] { return end.has_value(); }, 30000), "the batch did not end in 30 s");
            QString why;
            for (const RsyncResult &r : end->second)
                if (!r.ok())
                    why += r.errorText();
            QVERIFY2(end->first, qPrintable(QStringLiteral("round %1: %2").arg(round).arg(why)));
            // The folders run is the batch's own business: callers see theirs only.
            QCOMPARE(end->second.size(), 4);
            started.sort();
            QCOMPARE(started, (QStringList{QStringLiteral("cti"), QStringLiteral("custom"),
                                           QStringLiteral("recordings"), QStringLiteral("voicemail")}));
            QCOMPARE(readAll(rx(QStringLiteral("volumes/spool/voicemail/default/201/INBOX/msg0000.txt"))),
                     QByteArray("vm"));
            QCOMPARE(readAll(rx(QStringLiteral("volumes/spool/monitor/2024/01/01/call.wav"))), QByteArray("rec"));
            QCOMPARE(readAll(rx(QStringLiteral("volumes/sounds/en/welcome.wav"))), QByteArray("snd"));
            QCOMPARE(readAll(rx(QStringLiteral("volumes/sounds/nethcti/ring.wav"))), QByteArray("cti"));
        }
        // No skeleton is left in the stage folder.
        QCOMPARE(QDir(m_state).entryList({QStringLiteral("rsync-stage-*")}, QDir::Dirs | QDir::Hidden), QStringList());
    }

    // The folders run creates what is missing and leaves what NS8 has alone.
    void foldersRunKeepsExistingFolders()
    {
        writeFile(src(QStringLiteral("keep/voicemail/v.txt")), "v");
        writeFile(src(QStringLiteral("keep/monitor/m.txt")), "m");
        const QString spool = rx(QStringLiteral("volumes/spool"));
        QDir(spool).removeRecursively();
        QVERIFY(QDir().mkpath(spool));
        QVERIFY(::chmod(QFile::encodeName(spool).constData(), 0710) == 0);
        QVERIFY(::chown(QFile::encodeName(spool).constData(), 1234, 1234) == 0);
        RsyncBatch batch(
            plan({transfer(QStringLiteral("voicemail"), QStringLiteral("/src/keep/voicemail"), QStringLiteral("volumes/spool/")),
                  transfer(QStringLiteral("recordings"), QStringLiteral("/src/keep/monitor"), QStringLiteral("volumes/spool/"))}));
        std::optional<bool> end;
        connect(&batch, &RsyncBatch::finished, this, [&end](bool ok, const QList<RsyncResult> &) { end = ok; });
        batch.start();
        QVERIFY2(waitFor([&end] { return end.has_value(); }, 30000), "the batch did not end in 30 s");
        QVERIFY(*end);
        const struct stat st = lst(spool);
        QCOMPARE(int(st.st_mode & 07777), 0710);
        QCOMPARE(int(st.st_uid), 1234);
        QCOMPARE(int(st.st_gid), 1234);
        QCOMPARE(readAll(rx(QStringLiteral("volumes/spool/voicemail/v.txt"))), QByteArray("v"));
    }

    void batchStopsAtTheFirstFailure()
    {
        writeFile(src(QStringLiteral("slow/slow.wav")), randomBytes(2 * 1024 * 1024, 400));
        writeFile(src(QStringLiteral("later/l.wav")), "later");
        const QList<RsyncTransfer> runs = plan(
            {transfer(QStringLiteral("slow"), QStringLiteral("/src/slow/"), QStringLiteral("volumes/slow/")),
             transfer(QStringLiteral("bad"), QStringLiteral("/src/missing/"), QStringLiteral("volumes/bad/")),
             transfer(QStringLiteral("later"), QStringLiteral("/src/later/"),
                      QStringLiteral("volumes/later/"))},
            512);
        RsyncBatch batch(runs);
        batch.retryFailedOnce(true); // 23 is not worth a retry
        int retries = 0;
        QStringList started;
        std::optional<QPair<bool, QList<RsyncResult>>> end;
        connect(&batch, &RsyncBatch::transferStarted, this, [&started](const QString &id) { started << id; });
        connect(&batch, &RsyncBatch::retrying, this, [&retries] { ++retries; });
        connect(&batch, &RsyncBatch::finished, this,
                [&end](bool ok, const QList<RsyncResult> &results) { end = qMakePair(ok, results); });
        batch.start();
        QVERIFY2(waitFor([&end] { return end.has_value(); }, 30000), "the batch did not end in 30 s");
        QVERIFY(!end->first);
        QCOMPARE(started, QStringList({QStringLiteral("slow"), QStringLiteral("bad")}));
        QCOMPARE(retries, 0);
        QCOMPARE(end->second.size(), 2);
        const RsyncResult &slow = end->second.at(0);
        const RsyncResult &bad = end->second.at(1);
        QCOMPARE(slow.id, QStringLiteral("slow"));
        QVERIFY(slow.canceled);
        QCOMPARE(bad.id, QStringLiteral("bad"));
        QCOMPARE(bad.exitCode, 23);
        QVERIFY2(bad.errorText().startsWith(
                     QStringLiteral("Some files were not copied: %1").arg(src(QStringLiteral("missing")))),
                 qPrintable(bad.errorText()));
        QVERIFY(bad.errorText().contains(QLatin1String("(No such file or directory)")));
        QVERIFY(!exists(rx(QStringLiteral("volumes/later"))));
        QVERIFY(!exists(rx(QStringLiteral("volumes/slow/slow.wav"))));
    }

    void batchRetriesOnceAfterTheCallerFixedTheReceiver()
    {
        Receiver rx2(m_tmp.path() + QStringLiteral("/rx2"));
        const int port = freePort();
        RsyncTarget target = m_rx->target();
        target.port = port; // rx2 is not running yet
        writeFile(src(QStringLiteral("r1/a")), "a");
        writeFile(src(QStringLiteral("r2/b")), "b");
        const QList<RsyncTransfer> runs = plan(
            {transfer(QStringLiteral("r1"), QStringLiteral("/src/r1/"), QStringLiteral("volumes/r1/")),
             transfer(QStringLiteral("r2"), QStringLiteral("/src/r2/"), QStringLiteral("volumes/r2/"))},
            0, &target);
        int calls = 0;
        bool restarted = false;
        QString error;
        QStringList retrying, started;
        std::optional<QPair<bool, QList<RsyncResult>>> end;
        auto watch = [&](RsyncBatch &b) {
            end.reset();
            connect(&b, &RsyncBatch::transferStarted, this, [&started](const QString &id) { started << id; });
            connect(&b, &RsyncBatch::retrying, this, [&](const QString &id, const QString &reason) {
                retrying << id;
                QVERIFY2(reason.contains(QLatin1String("refused the connection")), qPrintable(reason));
            });
            connect(&b, &RsyncBatch::finished, this,
                    [&end](bool ok, const QList<RsyncResult> &results) { end = qMakePair(ok, results); });
        };
        {
            RsyncBatch batch(runs);
            watch(batch);
            batch.retryFailedOnce(true);
            batch.beforeRetry = [&](std::function<void()> go) {
                ++calls;
                QCOMPARE(started.size(), 2); // both failed before the receiver is touched
                restarted = rx2.start(port, &error);
                QTimer::singleShot(50, go); // the caller's work is asynchronous
            };
            batch.start();
            QVERIFY2(waitFor([&end] { return end.has_value(); }, 30000),
                     "the batch did not end in 30 s");
            QVERIFY2(restarted, qPrintable(error));
            QCOMPARE(calls, 1);
            retrying.sort(); // both fail at once, in either order
            QCOMPARE(retrying, QStringList({QStringLiteral("r1"), QStringLiteral("r2")}));
            QCOMPARE(started,
                     QStringList({QStringLiteral("r1"), QStringLiteral("r2"), QStringLiteral("r1"),
                                  QStringLiteral("r2")}));
            QVERIFY(end->first);
            QCOMPARE(end->second.size(), 2);
            for (const RsyncResult &r : end->second) {
                QVERIFY2(r.ok(), qPrintable(r.errorText()));
                QCOMPARE(r.attempts, 2);
            }
            QCOMPARE(readAll(rx2.srv() + QStringLiteral("/volumes/r1/a")), QByteArray("a"));
            QCOMPARE(readAll(rx2.srv() + QStringLiteral("/volumes/r2/b")), QByteArray("b"));
        }
        // When the retry fails too, that is the end.
        rx2.stop();
        calls = 0;
        retrying.clear();
        started.clear();
        {
            RsyncBatch batch(runs);
            watch(batch);
            batch.retryFailedOnce(true);
            batch.beforeRetry = [&calls](std::function<void()> go) {
                ++calls;
                go();
            };
            batch.start();
            QVERIFY2(waitFor([&end] { return end.has_value(); }, 30000),
                     "the batch did not end in 30 s");
            QVERIFY(!end->first);
            QCOMPARE(calls, 1);
            QCOMPARE(retrying.size(), 2);
            // The first to fail again ends the batch; the other, if still
            // running, is canceled.
            QCOMPARE(end->second.size(), 2);
            int refused = 0;
            for (const RsyncResult &r : end->second) {
                QCOMPARE(r.attempts, 2);
                QVERIFY(!r.ok());
                if (r.exitCode == 10)
                    ++refused;
                else
                    QVERIFY2(r.canceled, qPrintable(r.errorText()));
            }
            QVERIFY(refused >= 1);
        }
    }

    void batchCancel()
    {
        writeFile(src(QStringLiteral("c/x.wav")), randomBytes(2 * 1024 * 1024, 500));
        writeFile(src(QStringLiteral("d/y.wav")), randomBytes(2 * 1024 * 1024, 501));
        RsyncBatch batch(
            plan({transfer(QStringLiteral("c"), QStringLiteral("/src/c/"), QStringLiteral("volumes/c/")),
                  transfer(QStringLiteral("d"), QStringLiteral("/src/d/"), QStringLiteral("volumes/d/"))},
                 512));
        std::optional<QPair<bool, QList<RsyncResult>>> end;
        connect(&batch, &RsyncBatch::progress, &batch, &RsyncBatch::cancel);
        connect(&batch, &RsyncBatch::finished, this,
                [&end](bool ok, const QList<RsyncResult> &results) { end = qMakePair(ok, results); });
        batch.start();
        QVERIFY2(waitFor([&end] { return end.has_value(); }, 30000), "the batch did not end in 30 s");
        QVERIFY(!end->first);
        QCOMPARE(end->second.size(), 2);
        for (const RsyncResult &r : end->second)
            QVERIFY(r.canceled);

        // An empty batch ends at once, successfully.
        RsyncBatch empty({});
        std::optional<bool> ok;
        connect(&empty, &RsyncBatch::finished, this, [&ok](bool o, const QList<RsyncResult> &) { ok = o; });
        empty.start();
        QVERIFY(waitFor([&ok] { return ok.has_value(); }, 1000));
        QVERIFY(*ok);
    }
};

QTEST_GUILESS_MAIN(TestRsync)
#include "test_rsync.moc"
