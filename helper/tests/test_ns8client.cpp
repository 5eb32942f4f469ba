// Ns8Client against servers that misbehave on purpose (a small Python
// server on 127.0.0.1): an answer dripped byte by byte, an answer of 100 MB,
// and a server nobody vouches for.  Each must end within the request's
// deadline, with its own error, and nothing secret may go out.
#include "ns8/ns8client.h"

#include "qtestcompat.h"

#include <QElapsedTimer>
#include <QProcess>
#include <QTest>

using namespace ns8m;

namespace {

// MODE: "drip" (the headers, then one byte every half second, forever),
// "big" (100 MB announced and sent), "big-unannounced" (100 MB without a
// length).  Prints its port, then "connection" for each one accepted.
const char *const kServer = R"PY(
import socket, sys, threading, time
mode = sys.argv[1]
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(8)
print(s.getsockname()[1], flush=True)
def read_request(c):
    # The whole request, its body included, before any answer: a server
    # that answers early (or closes with unread bytes, which resets the
    # connection) tests something else.
    data = b""
    while b"\r\n\r\n" not in data:
        more = c.recv(65536)
        if not more:
            return
        data += more
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        more = c.recv(65536)
        if not more:
            return
        body += more
def serve(c):
    try:
        read_request(c)
        if mode == "drip":
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n")
            while True:
                c.sendall(b" ")
                time.sleep(0.5)
        size = 100 * 1024 * 1024
        head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        head += b"Connection: close\r\n\r\n" if mode == "big-unannounced" else b"Content-Length: %d\r\n\r\n" % size
        c.sendall(head)
        chunk = b" " * 65536
        for _ in range(size // len(chunk)):
            c.sendall(chunk)
    except OSError:
        pass
    finally:
        c.close()
while True:
    c, _ = s.accept()
    print("connection", flush=True)
    threading.Thread(target=serve, args=(c,), daemon=True).start()
)PY";

class Server
{
public:
    explicit Server(const QString &mode)
    {
        m_process.start(QStringLiteral("python3"), {QStringLiteral("-c"), QString::fromLatin1(kServer), mode});
        if (m_process.waitForReadyRead(10000))
            m_port = m_process.readLine().trimmed().toInt();
    }
    ~Server()
    {
        m_process.kill();
        m_process.waitForFinished(5000);
    }
    int port() const { return m_port; }
    int connections()
    {
        m_output += m_process.readAllStandardOutput();
        return int(m_output.count("connection"));
    }

private:
    QProcess m_process;
    QByteArray m_output;
    int m_port = 0;
};

struct Outcome {
    bool done = false;
    ApiError error;
    qint64 ms = 0;
};

// A login to URL: how it ended and after how long.
Outcome login(Ns8Client &client, int waitMs)
{
    auto out = std::make_shared<Outcome>();
    QElapsedTimer timer;
    timer.start();
    client.login([out, timer](const ApiError &e) {
        out->done = true;
        out->error = e;
        out->ms = timer.elapsed();
    });
    waitFor([out] { return out->done; }, waitMs);
    return *out;
}

QUrl local(const QString &scheme, int port)
{
    QUrl u;
    u.setScheme(scheme);
    u.setHost(QStringLiteral("127.0.0.1"));
    u.setPort(port);
    u.setPath(QStringLiteral("/api"));
    return u;
}

} // namespace

class TestNs8Client : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void drippedAnswerEndsAtTheDeadline()
    {
        // Every byte arrives well within the deadline, so only a deadline
        // for the whole answer ends this.
        Server server(QStringLiteral("drip"));
        QVERIFY(server.port() > 0);
        Ns8Client client;
        client.setBaseUrl(local(QStringLiteral("http"), server.port()));
        client.setCredentials(QStringLiteral("admin"), QStringLiteral("not-a-secret"));
        client.setRequestTimeout(2000);
        client.setRetryDelays({200, 200});
        const Outcome o = login(client, 15000);
        QVERIFY2(o.done, "the dripped answer held the request past its deadline");
        QCOMPARE(o.error.name, QString::fromLatin1(Error::ClusterUnreachable));
        QCOMPARE(o.error.texts.value(0).id, QStringLiteral("ns8.reply.deadline"));
        QVERIFY2(o.ms >= 1900 && o.ms < 3500, qPrintable(QString::number(o.ms)));
        // An answer that was coming is not asked for again.
        QCOMPARE(server.connections(), 1);
    }

    void hugeAnswerIsDropped_data()
    {
        QTest::addColumn<QString>("mode");
        QTest::newRow("announced") << QStringLiteral("big");
        QTest::newRow("unannounced") << QStringLiteral("big-unannounced");
    }

    void hugeAnswerIsDropped()
    {
        QFETCH(QString, mode);
        Server server(mode);
        QVERIFY(server.port() > 0);
        Ns8Client client;
        client.setBaseUrl(local(QStringLiteral("http"), server.port()));
        client.setRequestTimeout(10000);
        client.setRetryDelays({200, 200});
        const Outcome o = login(client, 20000);
        QVERIFY(o.done);
        QCOMPARE(o.error.name, QString::fromLatin1(Error::Failed));
        QCOMPARE(o.error.texts.value(0).id, QStringLiteral("ns8.reply.too-large"));
        QVERIFY2(o.error.message.contains(QStringLiteral("4 MB")), qPrintable(o.error.message));
        QVERIFY2(o.ms < 10000, qPrintable(QString::number(o.ms)));
        QCOMPARE(server.connections(), 1);
    }

    // Module and task ids come from NS8's answers and end up in the path:
    // one that would walk elsewhere in the API is not sent.
    void pathsNs8CouldNotHaveMadeAreNotSent()
    {
        Server server(QStringLiteral("drip"));
        QVERIFY(server.port() > 0);
        Ns8Client client;
        client.setBaseUrl(local(QStringLiteral("http"), server.port()));
        client.setRetryDelays({});
        QList<TaskResult> results;
        const auto collect = [&results](const TaskResult &r) { results.append(r); };
        client.runTask(QStringLiteral("module/../cluster"), QStringLiteral("remove-node"), {}, collect);
        client.runTask(QStringLiteral("module/x?y"), QStringLiteral("get-status"), {}, collect);
        client.waitTask(QStringLiteral("module/nv1/task/../../cluster/task/x"), collect);
        client.waitTask(QStringLiteral("module/nv1/task/"), collect);
        QString submitted;
        ApiError submitError;
        client.submitTask(QStringLiteral("node/1/../2"), QStringLiteral("x"), {},
                          [&](const QString &path, const ApiError &e) {
                              submitted = path;
                              submitError = e;
                          });
        QVERIFY(waitFor([&] { return results.size() == 4 && submitError.isError(); }, 5000));
        for (const TaskResult &r : results)
            QCOMPARE(r.error.texts.value(0).id, QStringLiteral("ns8.path.invalid"));
        QCOMPARE(submitError.texts.value(0).id, QStringLiteral("ns8.path.invalid"));
        QVERIFY(submitted.isEmpty());
        QTest::qWait(200);
        QCOMPARE(server.connections(), 0);
    }

    void unverifiedUnpinnedSendsNoPassword()
    {
        // Whoever answers would get the password: nothing goes out, not
        // even a connection.
        Server server(QStringLiteral("drip"));
        QVERIFY(server.port() > 0);
        Ns8Client client;
        client.setBaseUrl(local(QStringLiteral("https"), server.port()));
        TlsPolicy tls;
        tls.verify = false;
        client.setTlsPolicy(tls);
        client.setCredentials(QStringLiteral("admin"), QStringLiteral("not-a-secret"));
        const Outcome o = login(client, 5000);
        QVERIFY(o.done);
        QCOMPARE(o.error.name, QString::fromLatin1(Error::TlsNotTrusted));
        QCOMPARE(o.error.texts.value(0).id, QStringLiteral("ns8.tls.unpinned"));
        QTest::qWait(200);
        QCOMPARE(server.connections(), 0);
    }
};

QTEST_GUILESS_MAIN(TestNs8Client)
#include "test_ns8client.moc"
