#include "vpn/wireguard.h"

#include <QHostAddress>
#include <QProcess>
#include <QStandardPaths>
#include <QTest>

using namespace ns8m;

class TestWireGuard : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void freshKeysEveryTime()
    {
        WgKeyPair a, b;
        QVERIFY(generateWgKeyPair(&a));
        QVERIFY(generateWgKeyPair(&b));
        QVERIFY(a.privateKey != b.privateKey);
        QVERIFY(a.publicKey != b.publicKey);
        QCOMPARE(QByteArray::fromBase64(a.privateKey.toLatin1()).size(), 32);
        QCOMPARE(a.privateKey.size(), 44); // base64 of 32 bytes, as wg prints keys
        QCOMPARE(wgPublicKey(a.privateKey), a.publicKey);
        QVERIFY(wgPublicKey(QStringLiteral("not a key")).isEmpty());
    }

    // What add-node answered, as a hostile or broken leader could: each bad
    // field is refused with its own sentence before wg, ip or getent see it.
    void checksTheTunnelFields_data()
    {
        QTest::addColumn<QString>("field");
        QTest::addColumn<QString>("value");
        QTest::addColumn<QString>("textId");
        QTest::newRow("good") << QString() << QString() << QString();
        QTest::newRow("default route") << QStringLiteral("network") << QStringLiteral("0.0.0.0/0") << QStringLiteral("tunnel.network.default");
        QTest::newRow("v6 default route") << QStringLiteral("network") << QStringLiteral("::/0") << QStringLiteral("tunnel.network.default");
        QTest::newRow("prefix too short") << QStringLiteral("network") << QStringLiteral("10.0.0.0/4") << QStringLiteral("tunnel.network.prefix");
        QTest::newRow("prefix too long") << QStringLiteral("network") << QStringLiteral("10.5.4.0/31") << QStringLiteral("tunnel.network.prefix");
        QTest::newRow("no prefix") << QStringLiteral("network") << QStringLiteral("10.5.4.0") << QStringLiteral("tunnel.network.invalid");
        QTest::newRow("host bits") << QStringLiteral("network") << QStringLiteral("10.5.4.1/24") << QStringLiteral("tunnel.network.invalid");
        QTest::newRow("option") << QStringLiteral("network") << QStringLiteral("-1/24") << QStringLiteral("tunnel.network.invalid");
        QTest::newRow("garbage") << QStringLiteral("network") << QStringLiteral("10.5.4.0/24 dev lo") << QStringLiteral("tunnel.network.invalid");
        QTest::newRow("overlaps the LAN") << QStringLiteral("network") << QStringLiteral("192.0.2.0/25") << QStringLiteral("tunnel.network.overlap");
        QTest::newRow("contains the LAN") << QStringLiteral("network") << QStringLiteral("192.0.0.0/16") << QStringLiteral("tunnel.network.overlap");
        QTest::newRow("loopback") << QStringLiteral("network") << QStringLiteral("127.0.0.0/24") << QStringLiteral("tunnel.network.overlap");
        QTest::newRow("address outside") << QStringLiteral("address") << QStringLiteral("10.5.5.3") << QStringLiteral("tunnel.address.outside");
        QTest::newRow("address is the network") << QStringLiteral("address") << QStringLiteral("10.5.4.0") << QStringLiteral("tunnel.address.outside");
        QTest::newRow("address option") << QStringLiteral("address") << QStringLiteral("-v") << QStringLiteral("tunnel.address.outside");
        QTest::newRow("leader outside") << QStringLiteral("leader") << QStringLiteral("198.51.100.1") << QStringLiteral("tunnel.address.outside");
        QTest::newRow("leader's address") << QStringLiteral("address") << QStringLiteral("10.5.4.1") << QStringLiteral("tunnel.address.leader");
        QTest::newRow("key") << QStringLiteral("key") << QStringLiteral("--help") << QStringLiteral("tunnel.key.invalid");
        QTest::newRow("short key") << QStringLiteral("key") << QStringLiteral("AAAA") << QStringLiteral("tunnel.key.invalid");
        QTest::newRow("endpoint option") << QStringLiteral("endpoint") << QStringLiteral("-x") << QStringLiteral("tunnel.endpoint.invalid");
        QTest::newRow("endpoint option port") << QStringLiteral("endpoint") << QStringLiteral("-x:55820") << QStringLiteral("tunnel.endpoint.invalid");
        QTest::newRow("endpoint no port") << QStringLiteral("endpoint") << QStringLiteral("leader.example.com") << QStringLiteral("tunnel.endpoint.invalid");
        QTest::newRow("endpoint port 0") << QStringLiteral("endpoint") << QStringLiteral("leader.example.com:0") << QStringLiteral("tunnel.endpoint.invalid");
        QTest::newRow("endpoint port big") << QStringLiteral("endpoint") << QStringLiteral("leader.example.com:65536") << QStringLiteral("tunnel.endpoint.invalid");
        QTest::newRow("endpoint spaces") << QStringLiteral("endpoint") << QStringLiteral("a b:55820") << QStringLiteral("tunnel.endpoint.invalid");
        QTest::newRow("endpoint bare v6") << QStringLiteral("endpoint") << QStringLiteral("2001:db8::1:55820") << QStringLiteral("tunnel.endpoint.invalid");
        QTest::newRow("endpoint v6") << QStringLiteral("endpoint") << QStringLiteral("[2001:db8::1]:55820") << QString();
        QTest::newRow("endpoint address") << QStringLiteral("endpoint") << QStringLiteral("203.0.113.5:55820") << QString();
    }

    void checksTheTunnelFields()
    {
        QFETCH(QString, field);
        QFETCH(QString, value);
        QFETCH(QString, textId);
        TunnelConfig c;
        c.address = QStringLiteral("10.5.4.3");
        c.network = QStringLiteral("10.5.4.0/24");
        c.peerPublicKey = QStringLiteral("aoBydmHg2WWv5OqYM1ZegcCdC6dev+IHnoNv3ftNY2U=");
        c.peerEndpoint = QStringLiteral("leader.example.com:55820");
        QString leader = QStringLiteral("10.5.4.1");
        if (field == u"network")
            c.network = value;
        else if (field == u"address")
            c.address = value;
        else if (field == u"leader")
            leader = value;
        else if (field == u"key")
            c.peerPublicKey = value;
        else if (field == u"endpoint")
            c.peerEndpoint = value;
        // This server: a LAN, loopback and a route to another network.
        const QList<IpNetwork> local = {{QHostAddress(QStringLiteral("192.0.2.7")), 24},
                                        {QHostAddress(QStringLiteral("127.0.0.1")), 8},
                                        {QHostAddress(QStringLiteral("198.51.100.0")), 24}};
        const Text problem = checkTunnelFields(c, leader, local);
        QCOMPARE(problem.id, textId);
        if (!textId.isEmpty() && field != u"key")
            QVERIFY2(english(Texts{problem}).contains(value), qPrintable(english(Texts{problem})));
    }

    void localNetworksHasLoopback()
    {
        bool loopback = false;
        for (const IpNetwork &n : localNetworks())
            loopback = loopback || QHostAddress(QStringLiteral("127.0.0.1")).isInSubnet(n.address, n.prefix);
        QVERIFY(loopback);
    }

    void agreesWithWg()
    {
        if (QStandardPaths::findExecutable(QStringLiteral("wg")).isEmpty())
            QSKIP("wg (wireguard-tools) is not installed");
        WgKeyPair k;
        QVERIFY(generateWgKeyPair(&k));
        QProcess wg;
        wg.start(QStringLiteral("wg"), {QStringLiteral("pubkey")});
        wg.write(k.privateKey.toLatin1() + '\n');
        wg.closeWriteChannel();
        QVERIFY(wg.waitForFinished(10000));
        QCOMPARE(wg.exitCode(), 0);
        QCOMPARE(QString::fromLatin1(wg.readAllStandardOutput().trimmed()), k.publicKey);
    }
};

QTEST_GUILESS_MAIN(TestWireGuard)
#include "test_wireguard.moc"
