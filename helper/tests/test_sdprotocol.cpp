// The notification and journal datagrams, byte for byte, as a socket bound in
// a scratch folder (or in the abstract namespace) receives them.
#include "core/log.h"
#include "core/sdprotocol.h"

#include <QTemporaryDir>
#include <QTest>

#include <cerrno>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

using namespace ns8m;

namespace {

// A datagram socket bound to NAME (a path, or "@name" for an abstract one).
class Receiver
{
public:
    explicit Receiver(const QByteArray &name)
    {
        m_fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_un addr;
        std::memset(&addr, 0, sizeof addr);
        addr.sun_family = AF_UNIX;
        std::memcpy(addr.sun_path, name.constData(), size_t(name.size()));
        if (name.startsWith('@'))
            addr.sun_path[0] = '\0';
        const auto len = socklen_t(offsetof(sockaddr_un, sun_path) + size_t(name.size()));
        m_bound = m_fd >= 0 && ::bind(m_fd, reinterpret_cast<const sockaddr *>(&addr), len) == 0;
    }
    ~Receiver()
    {
        if (m_fd >= 0)
            ::close(m_fd);
    }
    Receiver(const Receiver &) = delete;
    Receiver &operator=(const Receiver &) = delete;

    bool bound() const { return m_bound; }
    // The next datagram, or a null array after a second without one.
    QByteArray next()
    {
        pollfd p {m_fd, POLLIN, 0};
        if (::poll(&p, 1, 1000) != 1)
            return {};
        const ssize_t size = ::recv(m_fd, nullptr, 0, MSG_PEEK | MSG_TRUNC);
        if (size < 0)
            return {};
        QByteArray buf(int(size), '\0');
        const ssize_t n = ::recv(m_fd, buf.data(), size_t(buf.size()), 0);
        return n == size ? buf : QByteArray();
    }

private:
    int m_fd = -1;
    bool m_bound = false;
};

// NAME, '\n', the 64-bit little-endian length written out by hand, VALUE, '\n'.
QByteArray binaryField(const char *name, const QByteArray &value, const char (&le64)[9])
{
    return QByteArray(name) + '\n' + QByteArray(le64, 8) + value + '\n';
}

} // namespace

class TestSdProtocol : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void cleanup()
    {
        qunsetenv("NOTIFY_SOCKET");
        Log::setJournalSocket(kJournalSocket);
    }

    void notifyReachesAPathSocket()
    {
        QTemporaryDir dir;
        const QByteArray path = QFile::encodeName(dir.filePath(QStringLiteral("notify")));
        Receiver r(path);
        QVERIFY(r.bound());
        qputenv("NOTIFY_SOCKET", path);
        QCOMPARE(notifyServiceManager("READY=1"), 1);
        QCOMPARE(r.next(), QByteArray("READY=1"));
        QCOMPARE(notifyServiceManager("STOPPING=1"), 1);
        QCOMPARE(r.next(), QByteArray("STOPPING=1"));
    }

    void notifyReachesAnAbstractSocket()
    {
        const QByteArray name = "@ns8m-test-notify-" + QByteArray::number(qint64(::getpid()));
        Receiver r(name);
        QVERIFY(r.bound());
        qputenv("NOTIFY_SOCKET", name);
        QCOMPARE(notifyServiceManager("READY=1"), 1);
        QCOMPARE(r.next(), QByteArray("READY=1"));
    }

    void notifyWithoutASocket()
    {
        qunsetenv("NOTIFY_SOCKET");
        QCOMPARE(notifyServiceManager("READY=1"), 0);
        QTemporaryDir dir;
        qputenv("NOTIFY_SOCKET", QFile::encodeName(dir.filePath(QStringLiteral("nobody"))));
        QCOMPARE(notifyServiceManager("READY=1"), -ENOENT);
        qputenv("NOTIFY_SOCKET", "relative/path");
        QCOMPARE(notifyServiceManager("READY=1"), -EINVAL);
    }

    void journalDatagramIsFieldLines()
    {
        const QByteArray two = "first line\nsecond = line";
        const JournalFields fields {{"MESSAGE", "a=b c"}, {"EMPTY", ""}, {"TWO_LINES", two}, {"LAST", "x"}};
        QCOMPARE(journalDatagram(fields),
                 QByteArray("MESSAGE=a=b c\nEMPTY=\n") + binaryField("TWO_LINES", two, "\x18\0\0\0\0\0\0\0")
                     + QByteArray("LAST=x\n"));
    }

    void logWritesOneJournalEntry()
    {
        QTemporaryDir dir;
        const QByteArray path = QFile::encodeName(dir.filePath(QStringLiteral("journal")));
        Receiver r(path);
        QVERIFY(r.bound());
        Log::setJournalSocket(path);

        Log::write(Log::Level::Warning, QStringLiteral("rsync said:\nkey=value, twice"),
                   {7, QStringLiteral("Sync"), QStringLiteral("some-app"), QStringLiteral("a=b")});
        const QByteArray message = "[job 7 Sync some-app / a=b] rsync said:\nkey=value, twice";
        QCOMPARE(message.size(), 0x38);
        QCOMPARE(r.next(),
                 binaryField("MESSAGE", message, "\x38\0\0\0\0\0\0\0")
                     + QByteArray("PRIORITY=4\n"
                                  "SYSLOG_IDENTIFIER=ns8-migration-helper\n"
                                  "NS8M_JOB=7\n"
                                  "NS8M_OPERATION=Sync\n"
                                  "NS8M_OBJECT=some-app\n"
                                  "NS8M_STEP=a=b\n"));

        Log::info(QStringLiteral("the manager"));
        QCOMPARE(r.next(),
                 QByteArray("MESSAGE=the manager\n"
                            "PRIORITY=6\n"
                            "SYSLOG_IDENTIFIER=ns8-migration-helper\n"
                            "NS8M_JOB=0\n"
                            "NS8M_OPERATION=\n"
                            "NS8M_OBJECT=\n"
                            "NS8M_STEP=\n"));
    }

    // Larger than a default socket buffer (about 200 kB): the helper's
    // socket has a larger one, as libsystemd's has.
    void aLargeEntryFitsOneDatagram()
    {
        QTemporaryDir dir;
        const QByteArray path = QFile::encodeName(dir.filePath(QStringLiteral("journal")));
        Receiver r(path);
        QVERIFY(r.bound());
        const QByteArray big(1 << 20, 'x');
        QCOMPARE(sendToJournal({{"MESSAGE", big}}, path.constData()), 0);
        QCOMPARE(r.next(), QByteArray("MESSAGE=") + big + '\n');
    }

    void noJournalIsNoError()
    {
        QTemporaryDir dir;
        const QByteArray path = QFile::encodeName(dir.filePath(QStringLiteral("nobody")));
        QCOMPARE(sendToJournal({{"MESSAGE", "lost"}}, path.constData()), -ENOENT);
        Log::setJournalSocket(path);
        Log::info(QStringLiteral("still written to stderr and the log file"));
    }
};

QTEST_GUILESS_MAIN(TestSdProtocol)
#include "test_sdprotocol.moc"
