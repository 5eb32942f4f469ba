// core/qtcompat.h: what differs between Qt 5.9 and Qt 6, the same on every
// Qt the helper builds with.
#include "core/qtcompat.h"
#include "qtestcompat.h"

#include <QElapsedTimer>
#include <QHostAddress>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTest>
#include <QTimer>

#include <memory>
#include <type_traits>

using namespace ns8m;

namespace {

// An HTTP server on 127.0.0.1 that answers each request with a 10-byte body
// sent one byte every STEPMS milliseconds, after HEADDELAYMS (-1: never).
class SlowServer : public QObject
{
public:
    SlowServer(int headDelayMs, int stepMs) : m_headDelayMs(headDelayMs), m_stepMs(stepMs)
    {
        QObject::connect(&m_server, &QTcpServer::newConnection, this, [this] { accept(); });
    }
    bool listen() { return m_server.listen(QHostAddress::LocalHost); }
    QUrl url() const { return QUrl(QStringLiteral("http://127.0.0.1:%1/").arg(m_server.serverPort())); }

private:
    void accept()
    {
        QTcpSocket *s = m_server.nextPendingConnection();
        if (m_headDelayMs < 0)
            return; // read nothing, say nothing
        QTimer::singleShot(m_headDelayMs, s, [this, s] {
            s->write("HTTP/1.1 200 OK\r\nContent-Length: 10\r\nConnection: close\r\n\r\n");
            auto *t = new QTimer(s);
            auto sent = std::make_shared<int>(0);
            QObject::connect(t, &QTimer::timeout, s, [s, t, sent] {
                s->write("x");
                if (++*sent == 10)
                    t->stop();
            });
            t->start(m_stepMs);
        });
    }

    QTcpServer m_server;
    int m_headDelayMs;
    int m_stepMs;
};

struct Outcome {
    bool finished = false;
    QNetworkReply::NetworkError error = QNetworkReply::NoError;
    QByteArray body;
    qint64 ms = 0;
};

Outcome fetch(const QUrl &url, int stallMs, int waitMs)
{
    QNetworkAccessManager nam;
    QElapsedTimer clock;
    clock.start();
    QNetworkReply *reply = nam.get(QNetworkRequest(url));
    abortWhenStalled(reply, stallMs);
    Outcome o;
    QObject::connect(reply, &QNetworkReply::finished, reply, [&o, reply, &clock] {
        o.finished = true;
        o.error = reply->error();
        if (reply->isOpen())
            o.body = reply->readAll();
        o.ms = clock.elapsed();
    });
    waitFor([&o] { return o.finished; }, waitMs);
    const Outcome result = o;
    reply->disconnect();
    reply->abort();
    delete reply;
    return result;
}

} // namespace

class TestQtCompat : public QObject
{
    Q_OBJECT

private slots:
    void sizeIsTheContainersOwn()
    {
        static_assert(std::is_same<Size, decltype(QString().size())>::value, "QString");
        static_assert(std::is_same<Size, decltype(QList<int>().size())>::value, "QList");
        static_assert(std::is_same<Size, decltype(QByteArray().size())>::value, "QByteArray");
    }

    void skipEmptyParts()
    {
        QCOMPARE(QStringLiteral(",a,,b,").split(u',', SkipEmptyParts),
                 (QStringList{QStringLiteral("a"), QStringLiteral("b")}));
    }

    void compareWithUtf16Literals()
    {
        const QString s = QStringLiteral("caf\u00e9");
        QVERIFY(s == u"caf\u00e9");
        QVERIFY(u"caf\u00e9" == s);
        QVERIFY(s != u"cafe");
        QVERIFY(u"caf" != s);
        QVERIFY(QString() == u"");
    }

    void removeIfSaysHowMany()
    {
        QList<int> l{1, 2, 3, 4, 5, 6};
        QCOMPARE(removeIf(l, [](int i) { return i % 2 == 0; }), Size(3));
        QCOMPARE(l, (QList<int>{1, 3, 5}));
        QCOMPARE(removeIf(l, [](int) { return false; }), Size(0));
        QCOMPARE(l.size(), 3);
    }

    void toSetOfAList()
    {
        const QStringList l{QStringLiteral("b"), QStringLiteral("a"), QStringLiteral("b")};
        QCOMPARE(toSet(l), (QSet<QString>{QStringLiteral("a"), QStringLiteral("b")}));
    }

    void uuidWithoutBraces()
    {
        const QUuid u = QUuid::createUuid();
        const QString s = withoutBraces(u);
        QCOMPARE(s.size(), 36);
        QVERIFY(!s.contains(u'{') && !s.contains(u'}'));
        QCOMPARE(QUuid(u'{' + s + u'}'), u);
    }

    void processFinishedGivesTheExitCode()
    {
        QProcess p;
        int code = -1;
        QObject::connect(&p, processFinished, &p, [&code](int c, QProcess::ExitStatus st) {
            code = st == QProcess::NormalExit ? c : -2;
        });
        p.start(QStringLiteral("/bin/sh"), {QStringLiteral("-c"), QStringLiteral("exit 3")});
        QVERIFY(waitFor([&code] { return code != -1; }, 10000));
        QCOMPARE(code, 3);
    }

    void aStalledReplyIsAborted()
    {
        SlowServer server(-1, 0);
        QVERIFY(server.listen());
        const Outcome o = fetch(server.url(), 300, 10000);
        QVERIFY(o.finished);
        QCOMPARE(o.error, QNetworkReply::OperationCanceledError);
        QVERIFY2(o.ms >= 250 && o.ms < 5000, qPrintable(QString::number(o.ms)));
    }

    void aSlowButMovingReplyIsNot()
    {
        // 10 bytes 100 ms apart: a second in all, never 400 ms without a byte.
        SlowServer server(100, 100);
        QVERIFY(server.listen());
        const Outcome o = fetch(server.url(), 400, 10000);
        QVERIFY(o.finished);
        QCOMPARE(o.error, QNetworkReply::NoError);
        QCOMPARE(o.body, QByteArray("xxxxxxxxxx"));
        QVERIFY2(o.ms >= 900, qPrintable(QString::number(o.ms)));
    }

    void zeroMeansNever()
    {
        SlowServer server(-1, 0);
        QVERIFY(server.listen());
        const Outcome o = fetch(server.url(), 0, 1000);
        QVERIFY(!o.finished);
    }
};

QTEST_GUILESS_MAIN(TestQtCompat)
#include "test_qtcompat.moc"
