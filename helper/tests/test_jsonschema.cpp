#include "ns8/jsonschema.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTest>

using namespace ns8m;

// The input configure-module gets at the cutover, checked against the
// NethVoice schema the project installs (a copy of NS8's, compared below
// with the API reference when it is at hand).
class TestJsonSchema : public QObject
{
    Q_OBJECT
    QJsonObject m_schema;

    static QJsonObject good()
    {
        return {{QStringLiteral("nethvoice_host"), QStringLiteral("voice.example.com")},
                {QStringLiteral("nethcti_ui_host"), QStringLiteral("cti.example.com")},
                {QStringLiteral("user_domain"), QStringLiteral("ad.example.com")},
                {QStringLiteral("reports_international_prefix"), QStringLiteral("+39")},
                {QStringLiteral("lets_encrypt"), false},
                {QStringLiteral("timezone"), QStringLiteral("Europe/Rome")}};
    }

private Q_SLOTS:
    void initTestCase()
    {
        QFile f(QStringLiteral(NS8M_SOURCE_DIR "/apps/schemas/nethvoice/configure-module/validate-input.json"));
        QVERIFY(f.open(QIODevice::ReadOnly));
        m_schema = QJsonDocument::fromJson(f.readAll()).object();
        QVERIFY(!m_schema.isEmpty());
    }

    void sameAsTheApiReference()
    {
        const QByteArray shared = qgetenv("NS8M_SHARED_DIR");
        if (shared.isEmpty())
            QSKIP("NS8M_SHARED_DIR is not set");
        QFile ref(QString::fromLocal8Bit(shared) + QStringLiteral("/ns8-api/schemas/nethvoice/configure-module/validate-input.json"));
        if (!ref.open(QIODevice::ReadOnly))
            QSKIP("the API reference is not there");
        QCOMPARE(QJsonDocument::fromJson(ref.readAll()).object(), m_schema);
    }

    void input_data()
    {
        QTest::addColumn<QString>("key");
        QTest::addColumn<QJsonValue>("value"); // undefined: remove the key
        QTest::addColumn<QString>("path");     // "" = valid
        QTest::addColumn<QString>("words");
        QTest::newRow("good") << QString() << QJsonValue() << QString() << QString();
        QTest::newRow("00 prefix") << QStringLiteral("reports_international_prefix") << QJsonValue(QStringLiteral("0039"))
                                   << QString() << QString();
        QTest::newRow("prefix without + or 00") << QStringLiteral("reports_international_prefix") << QJsonValue(QStringLiteral("39"))
                                                << QStringLiteral("reports_international_prefix") << QStringLiteral("expected form");
        QTest::newRow("prefix missing") << QStringLiteral("reports_international_prefix") << QJsonValue(QJsonValue::Undefined)
                                        << QStringLiteral("reports_international_prefix") << QStringLiteral("required");
        QTest::newRow("host without dot") << QStringLiteral("nethvoice_host") << QJsonValue(QStringLiteral("voice"))
                                          << QStringLiteral("nethvoice_host") << QStringLiteral("expected form");
        QTest::newRow("host is an IP") << QStringLiteral("nethcti_ui_host") << QJsonValue(QStringLiteral("192.0.2.7"))
                                       << QStringLiteral("nethcti_ui_host") << QStringLiteral("must not be an IPv4 address");
        QTest::newRow("host is a URL") << QStringLiteral("nethvoice_host") << QJsonValue(QStringLiteral("https://voice.example.com"))
                                       << QStringLiteral("nethvoice_host") << QStringLiteral("not a host name");
        QTest::newRow("bool as string") << QStringLiteral("lets_encrypt") << QJsonValue(QStringLiteral("yes"))
                                        << QStringLiteral("lets_encrypt") << QStringLiteral("type boolean");
        QTest::newRow("extra properties are allowed") << QStringLiteral("nethvoice_hotel") << QJsonValue(true)
                                                      << QString() << QString();
    }
    void input()
    {
        QFETCH(QString, key);
        QFETCH(QJsonValue, value);
        QFETCH(QString, path);
        QFETCH(QString, words);
        QJsonObject in = good();
        if (!key.isEmpty()) {
            if (value.isUndefined())
                in.remove(key);
            else
                in.insert(key, value);
        }
        const QList<SchemaProblem> problems = validateJson(in, m_schema);
        if (path.isEmpty()) {
            QVERIFY2(problems.isEmpty(), qPrintable(problems.value(0).path + QStringLiteral(": ") + problems.value(0).message));
            return;
        }
        QVERIFY(!problems.isEmpty());
        QCOMPARE(problems.first().path, path);
        QVERIFY2(problems.first().message.contains(words), qPrintable(problems.first().message));
    }

    void keywords()
    {
        const QJsonObject schema = QJsonDocument::fromJson(R"({
            "type": "object", "additionalProperties": false,
            "properties": {
                "n": {"type": "integer", "minimum": 1, "maximum": 5},
                "e": {"enum": ["a", "b"]},
                "l": {"type": "array", "items": {"type": "string", "maxLength": 3}},
                "o": {"oneOf": [{"type": "string"}, {"type": "integer"}]}
            }})").object();
        QVERIFY(validateJson(QJsonObject{{QStringLiteral("n"), 3}, {QStringLiteral("e"), QStringLiteral("a")}}, schema).isEmpty());
        QCOMPARE(validateJson(QJsonObject{{QStringLiteral("n"), 9}}, schema).value(0).path, QStringLiteral("n"));
        QCOMPARE(validateJson(QJsonObject{{QStringLiteral("n"), 1.5}}, schema).size(), 1);
        QCOMPARE(validateJson(QJsonObject{{QStringLiteral("e"), QStringLiteral("c")}}, schema).value(0).path, QStringLiteral("e"));
        QCOMPARE(validateJson(QJsonObject{{QStringLiteral("l"), QJsonArray{QStringLiteral("ok"), QStringLiteral("long")}}}, schema).value(0).path,
                 QStringLiteral("l[1]"));
        QCOMPARE(validateJson(QJsonObject{{QStringLiteral("x"), 1}}, schema).value(0).message, QStringLiteral("is not an accepted property."));
        QCOMPARE(validateJson(QJsonObject{{QStringLiteral("o"), true}}, schema).size(), 1);
        QVERIFY(validateJson(QJsonObject{{QStringLiteral("o"), 4}}, schema).isEmpty());
        QCOMPARE(validateJson(QJsonValue(3), schema).value(0).message, QStringLiteral("must be of type object, not integer."));
    }

    // A secret input (a profile's `secret: true`) that breaks a rule: the
    // problem names the field and the rule, never the value (issue #17,
    // row 8): it ends in a job's Message, readable by everybody, and in
    // the log.
    void secretValueNeverQuoted_data()
    {
        QTest::addColumn<QString>("rule");  // the schema of property "password"
        QTest::addColumn<QString>("words"); // what the problem must say
        QTest::newRow("pattern") << QStringLiteral(R"({"type": "string", "pattern": "^[0-9]+$"})") << QStringLiteral("does not have the expected form (^[0-9]+$)");
        QTest::newRow("format") << QStringLiteral(R"({"type": "string", "format": "ipv4"})") << QStringLiteral("is not an IPv4 address");
        QTest::newRow("not format") << QStringLiteral(R"({"not": {"format": "email"}})") << QStringLiteral("must not be email");
        QTest::newRow("not") << QStringLiteral(R"({"not": {"type": "string"}})") << QStringLiteral("is a value that is not accepted here");
        QTest::newRow("anyOf") << QStringLiteral(R"({"anyOf": [{"pattern": "^a"}, {"format": "hostname"}]})") << QStringLiteral("expected form");
        QTest::newRow("oneOf") << QStringLiteral(R"({"oneOf": [{"type": "string"}, {"minLength": 1}]})") << QStringLiteral("more than one");
        QTest::newRow("allOf") << QStringLiteral(R"({"allOf": [{"maxLength": 4}]})") << QStringLiteral("at most 4 characters");
        QTest::newRow("enum") << QStringLiteral(R"({"enum": ["x", "y"]})") << QStringLiteral(R"(one of "x", "y")");
        QTest::newRow("const") << QStringLiteral(R"({"const": "z"})") << QStringLiteral(R"(must be "z")");
        QTest::newRow("type") << QStringLiteral(R"({"type": "integer"})") << QStringLiteral("must be of type integer, not string");
    }
    void secretValueNeverQuoted()
    {
        QFETCH(QString, rule);
        QFETCH(QString, words);
        const QString secret = QStringLiteral("pw-1.2.3.4@example.com");
        const QJsonObject schema = QJsonDocument::fromJson(
            QStringLiteral(R"({"type": "object", "properties": {"password": %1}})").arg(rule).toUtf8()).object();
        QVERIFY(!schema.isEmpty());
        const QList<SchemaProblem> problems = validateJson(QJsonObject{{QStringLiteral("password"), secret}}, schema);
        QVERIFY(!problems.isEmpty());
        QCOMPARE(problems.first().path, QStringLiteral("password"));
        QVERIFY2(problems.first().message.contains(words), qPrintable(problems.first().message));
        for (const SchemaProblem &p : problems) {
            QVERIFY2(!p.message.contains(QStringLiteral("pw-1")), qPrintable(p.message));
            QVERIFY2(!p.path.contains(QStringLiteral("pw-1")), qPrintable(p.path));
        }
    }
};

QTEST_GUILESS_MAIN(TestJsonSchema)
#include "test_jsonschema.moc"
