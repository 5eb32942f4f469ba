// The error names are part of the D-Bus API: errors.h and the contract in
// dbus/ list the same ones.
#include "core/errors.h"

#include "core/qtcompat.h"

#include <QFile>
#include <QRegularExpression>
#include <QSet>
#include <QTest>

using namespace ns8m;

class TestErrors : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void sameAsTheContract()
    {
        QFile xml(QStringLiteral(NS8M_SOURCE_DIR "/dbus/org.nethserver.Ns8Migration1.xml"));
        QVERIFY(xml.open(QIODevice::ReadOnly));
        const QString text = QString::fromUtf8(xml.readAll());
        const Size from = text.indexOf(QStringLiteral("Errors (org.nethserver.Ns8Migration1.Error.*)"));
        const Size to = text.indexOf(QStringLiteral("polkit actions:"), from);
        QVERIFY(from > 0 && to > from);
        // "    Name   what it means" lines of the contract's error list.
        static const QRegularExpression line(QStringLiteral("^    ([A-Z][A-Za-z]+)\\s"),
                                             QRegularExpression::MultilineOption);
        QSet<QString> documented;
        auto it = line.globalMatch(text.mid(from, to - from));
        while (it.hasNext())
            documented.insert(QStringLiteral("org.nethserver.Ns8Migration1.Error.") + it.next().captured(1));
        QSet<QString> defined;
        for (const char *name : Error::All)
            defined.insert(QString::fromLatin1(name));
        QCOMPARE(defined.size(), int(std::size(Error::All)));
        QCOMPARE(defined, documented);
    }
};

QTEST_GUILESS_MAIN(TestErrors)
#include "test_errors.moc"
