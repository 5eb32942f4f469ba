// checkTunnelRoute() on what every machine has: the loopback interface
// (the integration test integration.tunnel_only checks the real tunnel).
#include "core/tunnelroute.h"

#include <QTest>

using namespace ns8m;

class TestTunnelRoute : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void throughTheInterface()
    {
        // 127.0.0.1 is routed through lo, with lo's own address as source.
        QVERIFY(!checkTunnelRoute(QStringLiteral("lo"), QStringLiteral("127.0.0.1")).isError());
    }

    void missingInterface()
    {
        const Failure f = checkTunnelRoute(QStringLiteral("nosuch-ns8"), QStringLiteral("127.0.0.1"));
        QCOMPARE(f.name, QString::fromLatin1(Error::TunnelDown));
        QCOMPARE(f.texts.value(0).id, QStringLiteral("tunnel.missing"));
        QVERIFY(f.message.contains(QStringLiteral("nosuch-ns8")));
        QVERIFY(f.message.contains(QStringLiteral("127.0.0.1")));
    }

    void routedElsewhere()
    {
        // A documentation address: through a default route if there is one
        // (not lo), or no route at all; either way not through lo.
        const Failure f = checkTunnelRoute(QStringLiteral("lo"), QStringLiteral("192.0.2.1"));
        QCOMPARE(f.name, QString::fromLatin1(Error::TunnelDown));
        const QString id = f.texts.value(0).id;
        QVERIFY2(id == u"tunnel.elsewhere" || id == u"tunnel.no-route", qPrintable(id));
    }

    void notAnAddress()
    {
        const Failure f = checkTunnelRoute(QStringLiteral("lo"), QStringLiteral("leader.example.com"));
        QCOMPARE(f.texts.value(0).id, QStringLiteral("tunnel.no-route"));
    }
};

QTEST_GUILESS_MAIN(TestTunnelRoute)
#include "test_tunnelroute.moc"
