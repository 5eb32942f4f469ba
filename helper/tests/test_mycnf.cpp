#include "ns7/mycnf.h"

#include <QTest>

using namespace ns8m;

class TestMyCnf : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void clientGroup()
    {
        const auto o = parseMyCnf("[mysqld]\nsocket=/wrong\npassword=nope\n"
                                  "[client]\n# comment\nuser = root\npassword=\"p#ss w\\\"d\"\n"
                                  "socket=/run/mysqld.sock\nport=3307\n");
        QCOMPARE(o.user, QStringLiteral("root"));
        QCOMPARE(o.password, QStringLiteral("p#ss w\"d"));
        QCOMPARE(o.socket, QStringLiteral("/run/mysqld.sock"));
        QCOMPARE(o.port, 3307);
    }
    void singleQuotesAndOtherGroups()
    {
        const auto o = parseMyCnf("[mysql]\nhost='db.local'\n[mysqldump]\nuser=x\n");
        QCOMPARE(o.host, QStringLiteral("db.local"));
        QVERIFY(o.user.isEmpty());
    }
    void missingFile()
    {
        MysqlClientOptions o;
        QString error;
        QVERIFY(!loadMyCnf(QStringLiteral("/nonexistent/.my.cnf"), &o, &error));
        QVERIFY(error.contains(QStringLiteral("/nonexistent/.my.cnf")));
    }
};

QTEST_GUILESS_MAIN(TestMyCnf)
#include "test_mycnf.moc"
