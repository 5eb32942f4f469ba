#include "ns8/ns8client.h"

#include "bus/bus.h"
#include "core/log.h"
#include "core/qtcompat.h"
#include "core/tunnelroute.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QNetworkReply>
#include <QRegularExpression>
#include <QSslConfiguration>
#include <QTimer>

namespace ns8m {

QUrl adminApiBase(const QString &leader)
{
    QUrl u;
    u.setScheme(QStringLiteral("https"));
    u.setHost(leader);
    u.setPath(QStringLiteral("/cluster-admin/api"));
    return u;
}

QUrl vpnApiBase(const QString &leaderIp)
{
    QUrl base;
    base.setScheme(QStringLiteral("http"));
    base.setHost(leaderIp);
    base.setPort(9311);
    base.setPath(QStringLiteral("/api"));
    return base;
}

// The most an NS8 answer may weigh.  The largest the helper reads are
// list-modules and a task's output: tens of kilobytes on a big cluster.  A
// reply past this is not an NS8 answer; it is dropped before it fills the
// memory of a root daemon.
constexpr qint64 kMaxReplyBytes = 4 * 1024 * 1024;

// Why the helper itself ended a reply (a property of the reply).
constexpr const char *kEndedBy = "ns8mEndedBy";

struct Ns8Client::Request {
    QByteArray verb; // GET or POST
    QString path;
    QJsonObject body;
    bool isLogin = false;
    bool reloggedIn = false;
    int retries = 0;
    std::function<void(int status, const QJsonObject &answer, const ApiError &error)> done;
};

namespace {

// Module ids and task ids come from NS8's answers and go into the request's
// path: only what NS8 makes ("cluster", "node/3", "module/<image><n>", a
// UUID), nothing that walks elsewhere in the API ("..", "/", "?").
bool isAgent(const QString &agent)
{
    static const QRegularExpression re(QStringLiteral("^(cluster|node/[0-9]{1,9}|module/[a-z][a-z0-9_-]{0,63})$"));
    return re.match(agent).hasMatch();
}

bool isTaskId(const QString &id)
{
    static const QRegularExpression re(QStringLiteral("^[A-Za-z0-9][A-Za-z0-9-]{0,63}$"));
    return re.match(id).hasMatch();
}

ApiError badPath(const QString &what)
{
    return {Error::Failed, Text("ns8.path.invalid", "\"%1\" is not a task NS8 could have made: nothing was sent.")
                               .arg(what)};
}

} // namespace

QString TaskResult::validationSummary() const
{
    QStringList lines;
    for (const QJsonValue &v : output.toArray()) {
        const QJsonObject o = v.toObject();
        lines.append(QStringLiteral("%1: %2").arg(o.value(QStringLiteral("field")).toString(),
                                                  o.value(QStringLiteral("error")).toString()));
    }
    return lines.join(QStringLiteral("; "));
}

QString TaskResult::failureText(const QString &action) const
{
    return failure(action).message;
}

ApiError TaskResult::failure(const QString &action, const QString &name) const
{
    if (error.isError())
        return error;
    return {name, Text("ns8.task.failed", "NS8 %1 failed (exit code %2): %3")
                      .arg(action)
                      .arg(exitCode)
                      .arg(exitCode == 10 ? validationSummary() : stderrText.trimmed())};
}

Ns8Client::Ns8Client(QObject *parent) : QObject(parent)
{
    m_nam.setRedirectPolicy(QNetworkRequest::ManualRedirectPolicy);
}

void Ns8Client::setCredentials(const QString &user, const QString &password, const QString &otp)
{
    m_user = user;
    m_password = password;
    m_otp = otp;
    m_token.clear();
}

void Ns8Client::forgetCredentials()
{
    m_password.fill(u'\0');
    m_password.clear();
    m_otp.clear();
}

QString Ns8Client::fingerprint(const QSslCertificate &cert)
{
    const QByteArray hex = cert.digest(QCryptographicHash::Sha256).toHex().toUpper();
    QStringList pairs;
    for (Size i = 0; i < hex.size(); i += 2)
        pairs.append(QString::fromLatin1(hex.mid(i, 2)));
    return pairs.join(u':');
}

QUrl Ns8Client::url(const QString &path) const
{
    QUrl u = m_base;
    QString p = u.path();
    while (p.endsWith(u'/'))
        p.chop(1);
    u.setPath(p + path);
    return u;
}

ApiError Ns8Client::networkError(QNetworkReply *reply) const
{
    const QString host = m_base.host();
    switch (reply->error()) {
    case QNetworkReply::HostNotFoundError:
        return {Error::ClusterUnreachable,
                Text("ns8.unresolved", "The name %1 does not resolve from this server. Check the leader's "
                               "address and the DNS configuration of NS7.")
                    .arg(host)};
    case QNetworkReply::ConnectionRefusedError:
        return {Error::ClusterUnreachable,
                Text("ns8.refused", "%1 refused the connection on port %2. Check that the address is "
                               "the NS8 leader's and that a firewall does not block the port.")
                    .arg(host)
                    .arg(m_base.port(m_base.scheme() == u"https" ? 443 : 80))};
    case QNetworkReply::OperationCanceledError:
    case QNetworkReply::TimeoutError:
        return {Error::ClusterUnreachable,
                Text("ns8.timeout", "%1 did not answer in time. Check that the NS8 leader is running and "
                               "reachable from this server (firewalls, routes).")
                    .arg(host)};
    case QNetworkReply::SslHandshakeFailedError:
        return {Error::TlsNotTrusted,
                Text("ns8.tls-failed", "The TLS connection to %1 failed: %2").arg(host, reply->errorString())};
    default:
        return {Error::ClusterUnreachable,
                Text("ns8.network", "Cannot talk to %1: %2").arg(host, reply->errorString())};
    }
}

void Ns8Client::login(std::function<void(const ApiError &)> done)
{
    auto req = std::make_shared<Request>();
    req->verb = "POST";
    req->path = QStringLiteral("/login");
    req->isLogin = true;
    req->body = {{QStringLiteral("username"), m_user}, {QStringLiteral("password"), m_password}};
    if (!m_otp.isEmpty())
        req->body.insert(QStringLiteral("otp"), m_otp);
    req->done = [this, done](int status, const QJsonObject &answer, const ApiError &error) {
        if (error.isError())
            return done(error);
        if (status == 200 && answer.value(QStringLiteral("token")).isString()) {
            m_token = answer.value(QStringLiteral("token")).toString().toUtf8();
            return done({});
        }
        const QString msg = answer.value(QStringLiteral("message")).toString();
        if (status == 401 && msg == u"missing OTP value")
            return done({Error::OtpRequired,
                         Text("ns8.login.otp-required", "The account %1 has two-factor authentication: give the "
                                        "current OTP code too.")
                             .arg(m_user)});
        if (status == 401 && msg == u"OTP check failed")
            return done({Error::AuthenticationFailed,
                         Text("ns8.login.otp-refused", "The OTP code was not accepted: check the clock of the "
                                        "device that makes it and type the current code.")});
        if (status == 401)
            return done({Error::AuthenticationFailed,
                         Text("ns8.login.refused", "NS8 refused the user name or the password of %1. Check "
                                        "them and that the account is active on NS8.")
                             .arg(m_user)});
        done({Error::Failed,
              Text("ns8.login.failed", "The NS8 login answered %1: %2").arg(status).arg(msg)});
    };
    send(req);
}

void Ns8Client::send(std::shared_ptr<Request> req)
{
    if (!m_tunnel.isEmpty()) {
        // Before each request (a retry, a new login, a poll as well): the
        // login carries the password, and every request the token.
        const ApiError refused = checkTunnelRoute(m_tunnel, m_base.host());
        if (refused.isError()) {
            Log::warning(QStringLiteral("not sent to %1: %2").arg(url(req->path).toString(), refused.message));
            // Answered from the loop, as a reply would be.
            QTimer::singleShot(0, this, [req, refused] { req->done(0, {}, refused); });
            return;
        }
    }
    const ApiError unsafe = unsafeTls(*req);
    if (unsafe.isError()) {
        Log::warning(QStringLiteral("not sent to %1: %2").arg(url(req->path).toString(), unsafe.message));
        QTimer::singleShot(0, this, [req, unsafe] { req->done(0, {}, unsafe); });
        return;
    }
    QNetworkRequest nr(url(req->path));
    nr.setHeader(QNetworkRequest::ContentTypeHeader, QStringLiteral("application/json"));
    nr.setRawHeader("Accept", "application/json");
    if (!req->isLogin && !m_token.isEmpty())
        nr.setRawHeader("Authorization", "Bearer " + m_token);
    if (m_base.scheme() == u"https") {
        QSslConfiguration ssl = QSslConfiguration::defaultConfiguration();
        if (!m_tls.extraCas.isEmpty())
            ssl.setCaCertificates(ssl.caCertificates() + m_tls.extraCas);
        nr.setSslConfiguration(ssl);
    }
    QNetworkReply *reply = req->verb == "POST"
                               ? m_nam.post(nr, QJsonDocument(req->body).toJson(QJsonDocument::Compact))
                               : m_nam.get(nr);
    limitReply(reply);
    connect(reply, &QNetworkReply::encrypted, this, [this, reply] {
        // Before a byte of the request leaves (Qt waits for this slot): a
        // certificate the CAs accept must still be the pinned one.
        m_peerFingerprint = fingerprint(reply->sslConfiguration().peerCertificate());
        if (!pinMatches(m_peerFingerprint))
            endReply(reply, "pin");
    });
    connect(reply, &QNetworkReply::sslErrors, this, [this, reply](const QList<QSslError> &errors) {
        const QSslCertificate cert = reply->sslConfiguration().peerCertificate().isNull()
                                         ? errors.value(0).certificate()
                                         : reply->sslConfiguration().peerCertificate();
        m_peerFingerprint = fingerprint(cert);
        // Without validation only the pinned certificate goes through (or,
        // with no pin, a request that carries no credential: unsafeTls()).
        if (!m_tls.verify && pinMatches(m_peerFingerprint))
            reply->ignoreSslErrors(errors);
    });
    connect(reply, &QNetworkReply::finished, this, [this, req, reply] { finished(req, reply); });
}

bool Ns8Client::pinMatches(const QString &seen) const
{
    return m_tls.pinnedSha256.isEmpty() || m_tls.pinnedSha256.compare(seen, Qt::CaseInsensitive) == 0;
}

ApiError Ns8Client::unsafeTls(const Request &req) const
{
    if (m_base.scheme() != u"https" || m_tls.verify || !m_tls.pinnedSha256.isEmpty())
        return {};
    // Any server would do: the password or the token would go to whoever
    // answers.  A login without a password (the preflight's probe) may.
    if (req.isLogin ? m_password.isEmpty() && m_otp.isEmpty() : m_token.isEmpty())
        return {};
    return {Error::TlsNotTrusted,
            Text("ns8.tls.unpinned", "TLS validation is off and no certificate fingerprint was confirmed: "
                                     "nothing was sent to %1. Confirm the fingerprint of its certificate, or "
                                     "turn TLS validation on.")
                .arg(m_base.host())};
}

void Ns8Client::limitReply(QNetworkReply *reply)
{
    // One deadline for the whole exchange, which bytes trickling in do not
    // push back: a server that drips its answer ends here too.
    auto *deadline = new QTimer(reply);
    deadline->setSingleShot(true);
    connect(deadline, &QTimer::timeout, reply, [reply] { endReply(reply, "deadline"); });
    connect(reply, &QNetworkReply::finished, deadline, &QTimer::stop);
    deadline->start(m_requestTimeoutMs > 0 ? m_requestTimeoutMs : 15000);
    connect(reply, &QNetworkReply::metaDataChanged, this, [reply] {
        if (reply->header(QNetworkRequest::ContentLengthHeader).toLongLong() > kMaxReplyBytes)
            endReply(reply, "size");
    });
    connect(reply, &QNetworkReply::downloadProgress, this, [reply](qint64 received, qint64) {
        if (received > kMaxReplyBytes)
            endReply(reply, "size");
    });
}

void Ns8Client::endReply(QNetworkReply *reply, const char *why)
{
    if (reply->property(kEndedBy).isValid())
        return;
    // Marked even when the reply is no longer running: under load the last
    // bytes and the end arrive together, and the final downloadProgress
    // comes after the reply finished. A too large answer is refused however
    // it ended.
    reply->setProperty(kEndedBy, QByteArray(why));
    if (reply->isRunning())
        reply->abort();
}

ApiError Ns8Client::pinError() const
{
    return {Error::TlsNotTrusted,
            Text("ns8.tls.pin-mismatch", "The certificate of %1 has the fingerprint %2, not the "
                                         "one given (%3). Check that you are connecting to the "
                                         "right server.")
                .arg(m_base.host(), m_peerFingerprint, m_tls.pinnedSha256)};
}

ApiError Ns8Client::endedError(QNetworkReply *reply) const
{
    const QByteArray why = reply->property(kEndedBy).toByteArray();
    const QString host = m_base.host();
    if (why == "pin")
        return pinError();
    if (why == "size")
        return {Error::Failed, Text("ns8.reply.too-large", "%1 sent an answer larger than %2 MB: that is not "
                                                           "an answer of the NS8 API. Check that the address is "
                                                           "the NS8 leader's.")
                                   .arg(host)
                                   .arg(kMaxReplyBytes / (1024 * 1024))};
    if (why == "deadline")
        return {Error::ClusterUnreachable, Text("ns8.reply.deadline", "%1 did not finish its answer within %2 s. "
                                                                      "Check that the NS8 leader is running and "
                                                                      "that the network towards it is sound.")
                                               .arg(host)
                                               .arg(QString::number(m_requestTimeoutMs / 1000.0))};
    return {};
}

void Ns8Client::finished(std::shared_ptr<Request> req, QNetworkReply *reply)
{
    reply->deleteLater();
    const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    const ApiError ended = endedError(reply);
    if (ended.isError()) {
        // The deadline before any answer came: a stall, tried again as one.
        if (status == 0 && ended.name == QLatin1String(Error::ClusterUnreachable))
            return retryLater(req, networkError(reply));
        return req->done(0, {}, ended);
    }
    const QByteArray body = reply->readAll();
    if (status == 0)
        return transportFailed(req, reply);
    // A request that went out on a connection opened before (no handshake,
    // no encrypted()) is checked on its answer.
    const QSslCertificate cert = reply->sslConfiguration().peerCertificate();
    if (m_base.scheme() == u"https" && !cert.isNull() && !pinMatches(fingerprint(cert))) {
        m_peerFingerprint = fingerprint(cert);
        return req->done(0, {}, pinError());
    }
    const QJsonObject answer = QJsonDocument::fromJson(body).object();
    if (status == 429 || status >= 500) {
        return retryLater(req, {Error::ClusterUnreachable,
                                Text("ns8.busy", "The NS8 API kept answering %1 (%2); try again later.")
                                    .arg(status)
                                    .arg(answer.value(QStringLiteral("message")).toString())});
    }
    if (status == 401 && !req->isLogin && !req->reloggedIn && !m_password.isEmpty()) {
        // The token expired: log in again, once, then repeat the request.
        req->reloggedIn = true;
        login([this, req](const ApiError &e) {
            if (e.isError())
                return req->done(401, {}, e);
            send(req);
        });
        return;
    }
    req->done(status, answer, {});
}

// No HTTP answer: a TLS or transport problem.
void Ns8Client::transportFailed(const std::shared_ptr<Request> &req, QNetworkReply *reply)
{
    if (!m_peerFingerprint.isEmpty() && !pinMatches(m_peerFingerprint))
        return req->done(0, {}, pinError());
    if (reply->error() == QNetworkReply::SslHandshakeFailedError
        || (reply->error() == QNetworkReply::UnknownNetworkError && !m_peerFingerprint.isEmpty()))
        return req->done(0, {},
                         {Error::TlsNotTrusted,
                          Text("ns8.tls.untrusted", "The certificate of %1 is not trusted (fingerprint %2). "
                                         "If it is self-signed, turn TLS validation off and "
                                         "confirm this fingerprint.")
                              .arg(m_base.host(), m_peerFingerprint)});
    const ApiError err = networkError(reply);
    if (reply->error() == QNetworkReply::OperationCanceledError
        || reply->error() == QNetworkReply::TimeoutError
        || reply->error() == QNetworkReply::RemoteHostClosedError)
        return retryLater(req, err);
    req->done(0, {}, err);
}

void Ns8Client::retryLater(std::shared_ptr<Request> req, const ApiError &why)
{
    if (req->retries >= m_retryDelaysMs.size())
        return req->done(0, {}, why);
    const int delay = m_retryDelaysMs.at(req->retries++);
    QTimer::singleShot(delay, this, [this, req] { send(req); });
}

void Ns8Client::submitTask(const QString &agent, const QString &action, const QJsonObject &data,
                           std::function<void(const QString &, const ApiError &)> done)
{
    auto req = std::make_shared<Request>();
    req->verb = "POST";
    req->path = QStringLiteral("/%1/tasks").arg(agent);
    req->body = {{QStringLiteral("action"), action}, {QStringLiteral("data"), data},
                 {QStringLiteral("extra"), QJsonObject{{QStringLiteral("title"), QStringLiteral("ns8-migration: %1").arg(action)},
                                                       {QStringLiteral("isNotificationHidden"), true}}}};
    if (!isAgent(agent)) {
        QTimer::singleShot(0, this, [agent, done] { done({}, badPath(agent)); });
        return;
    }
    req->done = [agent, action, done](int status, const QJsonObject &answer, const ApiError &error) {
        if (error.isError())
            return done({}, error);
        const QString id = answer.value(QStringLiteral("data")).toObject().value(QStringLiteral("id")).toString();
        if (status == 201 && !id.isEmpty() && !isTaskId(id))
            return done({}, badPath(id));
        if (status != 201 || id.isEmpty())
            return done({}, {Error::Failed, Text("ns8.task.not-queued-on", "NS8 did not queue %1 on %2: HTTP %3 %4")
                                                    .arg(action, agent)
                                                    .arg(status)
                                                    .arg(answer.value(QStringLiteral("message")).toString())});
        done(QStringLiteral("%1/task/%2").arg(agent, id), {});
    };
    send(req);
}

void Ns8Client::runTask(const QString &agent, const QString &action, const QJsonObject &data,
                        std::function<void(const TaskResult &)> done)
{
    queueTask(agent, action, data, std::move(done));
}

void Ns8Client::runTaskWithoutInput(const QString &agent, const QString &action,
                                    std::function<void(const TaskResult &)> done)
{
    queueTask(agent, action, QJsonValue(QJsonValue::Null), std::move(done));
}

void Ns8Client::queueTask(const QString &agent, const QString &action, const QJsonValue &data,
                          std::function<void(const TaskResult &)> done)
{
    auto req = std::make_shared<Request>();
    req->verb = "POST";
    req->path = QStringLiteral("/%1/tasks").arg(agent);
    req->body = {{QStringLiteral("action"), action},
                 {QStringLiteral("data"), data},
                 {QStringLiteral("extra"),
                  QJsonObject{{QStringLiteral("title"), QStringLiteral("ns8-migration: %1").arg(action)},
                              {QStringLiteral("description"), QStringLiteral("NS7 migration tool")},
                              {QStringLiteral("isNotificationHidden"), true}}}};
    if (!isAgent(agent)) {
        TaskResult r;
        r.error = badPath(agent);
        QTimer::singleShot(0, this, [r, done] { done(r); });
        return;
    }
    req->done = [this, agent, action, done](int status, const QJsonObject &answer, const ApiError &error) {
        TaskResult r;
        if (error.isError()) {
            r.error = error;
            return done(r);
        }
        if (status == 404) {
            r.error = {Error::ClusterUnreachable,
                       Text("ns8.agent.down", "The NS8 agent %1 is not running (\"%2\"); %3 could not start. "
                                      "Check the node in the NS8 cluster status page.")
                           .arg(agent, answer.value(QStringLiteral("message")).toString(), action)};
            return done(r);
        }
        if (status == 401) {
            r.error = {Error::AuthenticationFailed, Text("ns8.credentials.refused", "NS8 no longer accepts the migration's "
                                                             "credentials (401).")};
            return done(r);
        }
        const QString id = answer.value(QStringLiteral("data")).toObject().value(QStringLiteral("id")).toString();
        if (status == 201 && !id.isEmpty() && !isTaskId(id)) {
            r.error = badPath(id);
            return done(r);
        }
        if (status != 201 || id.isEmpty()) {
            r.error = {Error::Failed, Text("ns8.task.not-queued", "NS8 did not queue %1: HTTP %2 %3")
                                              .arg(action)
                                              .arg(status)
                                              .arg(answer.value(QStringLiteral("message")).toString())};
            return done(r);
        }
        waitTask(QStringLiteral("%1/task/%2").arg(agent, id), [done](TaskResult result) {
            result.queued = true;
            done(result);
        });
    };
    send(req);
}

void Ns8Client::waitTask(const QString &taskPath, std::function<void(const TaskResult &)> done, int timeoutMs)
{
    const Size at = taskPath.lastIndexOf(QStringLiteral("/task/"));
    if (at < 0 || !isAgent(taskPath.left(at)) || !isTaskId(taskPath.mid(at + 6))) {
        TaskResult r;
        r.error = badPath(taskPath);
        QTimer::singleShot(0, this, [r, done] { done(r); });
        return;
    }
    const qint64 deadline = QDateTime::currentMSecsSinceEpoch() + (timeoutMs < 0 ? m_taskTimeoutMs : timeoutMs);
    pollStatus(QStringLiteral("/") + taskPath + QStringLiteral("/status"), deadline, 0, std::move(done));
}

TaskResult taskResultFromStatus(const QJsonObject &answer)
{
    TaskResult r;
    const QJsonObject d = answer.value(QStringLiteral("data")).toObject();
    r.exitCode = d.value(QStringLiteral("exit_code")).toInt(-1);
    r.stderrText = d.value(QStringLiteral("error")).toString();
    r.output = d.value(QStringLiteral("output"));
    if (r.output.isString()) {
        // Outputs are JSON documents when the action printed one.
        const QJsonDocument doc = QJsonDocument::fromJson(r.output.toString().toUtf8());
        if (!doc.isNull())
            r.output = doc.isObject() ? QJsonValue(doc.object()) : QJsonValue(doc.array());
    }
    return r;
}

void Ns8Client::pollStatus(const QString &statusPath, qint64 deadline, int attempt,
                           std::function<void(const TaskResult &)> done)
{
    auto req = std::make_shared<Request>();
    req->verb = "GET";
    req->path = statusPath;
    req->done = [this, statusPath, deadline, attempt, done](int status, const QJsonObject &answer,
                                                             const ApiError &error) {
        TaskResult r;
        if (error.isError()) {
            r.error = error;
            return done(r);
        }
        if (status == 200)
            return done(taskResultFromStatus(answer));
        if (status == 400 && QDateTime::currentMSecsSinceEpoch() < deadline) {
            // Still running: NS8 answers 400 until the result exists.
            const int delay = attempt < 10 ? 100 : attempt < 40 ? 250 : 1000;
            QTimer::singleShot(delay, this, [this, statusPath, deadline, attempt, done] {
                pollStatus(statusPath, deadline, attempt + 1, done);
            });
            return;
        }
        if (status == 400) {
            r.stillRunning = true;
            r.error = {Error::Failed,
                       Text("ns8.task.timeout", "The NS8 task %1 did not end in time; it may still be running on "
                                      "the cluster. Check the task list in the NS8 interface.")
                           .arg(statusPath)};
            return done(r);
        }
        r.error = {Error::Failed, Text("ns8.task.status", "Cannot read the NS8 task status %1: HTTP %2")
                                          .arg(statusPath)
                                          .arg(status)};
        done(r);
    };
    send(req);
}

ModulePlacement modulePlacement(const QJsonArray &listModules, const QString &image, quint32 node)
{
    ModulePlacement p;
    const QString nodeText = QString::number(node);
    for (const QJsonValue &v : listModules) {
        const QJsonObject m = v.toObject();
        if (m.value(QStringLiteral("name")).toString() != image)
            continue;
        // "installed" lists instances, grouped by version in some releases.
        for (const QJsonValue &inst : m.value(QStringLiteral("installed")).toArray())
            for (const QJsonValue &i : inst.isArray() ? inst.toArray() : QJsonArray{inst})
                if (i.toObject().value(QStringLiteral("node")).toVariant().toString() == nodeText)
                    p.installedAs = i.toObject().value(QStringLiteral("id")).toString();
        for (const QJsonValue &d : m.value(QStringLiteral("install_destinations")).toArray()) {
            const QJsonObject dest = d.toObject();
            if (quint32(dest.value(QStringLiteral("node_id")).toInt()) == node) {
                p.installable = dest.value(QStringLiteral("eligible")).toBool();
                p.rejectReason = dest.value(QStringLiteral("reject_reason")).toVariant().toString();
            }
        }
    }
    return p;
}

} // namespace ns8m
