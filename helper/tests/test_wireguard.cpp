#include "vpn/wireguard.h"

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
