// Client of the NS8 cluster API (see ../shared/ns8-api/PROTOCOL.md): login,
// tasks submitted to an agent and polled until they end.  Before the VPN is
// up it talks HTTPS to the leader; afterwards plain HTTP inside the tunnel.
// Tokens expire: a 401 logs in again once; 429 and 5xx back off and retry a
// bounded number of times.  Passwords live in memory only for as long as
// the owner of the client keeps them there; they are never logged.
#pragma once

#include "core/errors.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QJsonValue>
#include <QList>
#include <QNetworkAccessManager>
#include <QObject>
#include <QSslCertificate>
#include <QUrl>

#include <functional>
#include <memory>

class QNetworkReply;

namespace ns8m {

// A failure, already phrased for a person, with the D-Bus error name it
// maps to (ClusterUnreachable, TlsNotTrusted, AuthenticationFailed...).
using ApiError = Failure;

struct TaskResult {
    ApiError error;        // transport, authentication or timeout problems
    int exitCode = -1;     // the action's exit code when it ran
    QJsonValue output;     // its output
    QString stderrText;    // its "error" (stderr)
    bool queued = false;   // NS8 accepted the task (whatever happened next)
    // The wait ended while NS8 still ran the task (error says so): its
    // outcome is not known yet.
    bool stillRunning = false;
    bool ok() const { return !error.isError() && exitCode == 0; }
    // "field: error" lines of an exit-code-10 validation failure.
    QString validationSummary() const;
    // The failure of ACTION as an error: the transport error, else NAME
    // with what the action answered (its validation errors or its stderr).
    ApiError failure(const QString &action, const QString &name = QString::fromLatin1(Error::Failed)) const;
    // Its English, for the log.
    QString failureText(const QString &action) const;
};

// A task's result from NS8's answer to GET <task>/status (HTTP 200): its
// exit code, stderr, and output (parsed when the action printed JSON).
TaskResult taskResultFromStatus(const QJsonObject &answer);

// Where an image stands on a node, from cluster list-modules' output.
struct ModulePlacement {
    QString installedAs;  // the module id on that node, "" when not installed there
    bool installable = false; // list-modules says the node can take one
    QString rejectReason; // why not, when it says
};
ModulePlacement modulePlacement(const QJsonArray &listModules, const QString &image, quint32 node);

// The cluster API over HTTPS: https://<leader>/cluster-admin/api.
QUrl adminApiBase(const QString &leader);
// The cluster API inside the tunnel: http://<leader VPN address>:9311/api.
QUrl vpnApiBase(const QString &leaderIp);

struct TlsPolicy {
    bool verify = true;
    QString pinnedSha256;                // "AA:BB:...", "" = none
    QList<QSslCertificate> extraCas;     // trusted in addition to the system's
};

class Ns8Client : public QObject
{
    Q_OBJECT
public:
    explicit Ns8Client(QObject *parent = nullptr);

    // e.g. https://leader.example.com/cluster-admin/api or http://10.5.4.1:9311/api
    void setBaseUrl(const QUrl &base) { m_base = base; }
    QUrl baseUrl() const { return m_base; }
    void setTlsPolicy(const TlsPolicy &policy) { m_tls = policy; }
    void setCredentials(const QString &user, const QString &password, const QString &otp = {});
    void forgetCredentials();
    // The longest one request may take, its whole answer included: a
    // server that drips its answer does not push it back.  A request that
    // got nothing at all by then is tried again (setRetryDelays); one whose
    // answer was still coming is not.
    void setRequestTimeout(int ms) { m_requestTimeoutMs = ms; }
    void setTaskTimeout(int ms) { m_taskTimeoutMs = ms; }
    void setRetryDelays(QList<int> ms) { m_retryDelaysMs = std::move(ms); }
    // Every request goes out only while the kernel routes the base URL's
    // host through INTERFACE (core/tunnelroute.h); otherwise it fails with
    // Error::TunnelDown before a byte is sent.  "": any route (HTTPS).
    void setTunnel(const QString &interface) { m_tunnel = interface; }

    // SHA-256 fingerprint of the last certificate the server showed.
    QString peerFingerprint() const { return m_peerFingerprint; }
    QString user() const { return m_user; }

    void login(std::function<void(const ApiError &)> done);
    // AGENT: "cluster", "node/<id>" or "module/<id>".
    void runTask(const QString &agent, const QString &action, const QJsonObject &data,
                 std::function<void(const TaskResult &)> done);
    // For actions whose input schema is null (list-modules).
    void runTaskWithoutInput(const QString &agent, const QString &action, std::function<void(const TaskResult &)> done);
    // Queues a task and answers with its path ("module/<id>/task/<uuid>")
    // without waiting for its end: for tasks that run as long as a service.
    void submitTask(const QString &agent, const QString &action, const QJsonObject &data,
                    std::function<void(const QString &taskPath, const ApiError &error)> done);
    // Polls a task already submitted (e.g. the module-side import task
    // "module/<id>/task/<uuid>") until it ends.
    void waitTask(const QString &taskPath, std::function<void(const TaskResult &)> done,
                  int timeoutMs = -1);

    static QString fingerprint(const QSslCertificate &cert);

private:
    struct Request;
    void queueTask(const QString &agent, const QString &action, const QJsonValue &data,
                   std::function<void(const TaskResult &)> done);
    void send(std::shared_ptr<Request> req);
    void finished(std::shared_ptr<Request> req, QNetworkReply *reply);
    void transportFailed(const std::shared_ptr<Request> &req, QNetworkReply *reply);
    // The pinned fingerprint is SEEN (or none is pinned).
    bool pinMatches(const QString &seen) const;
    ApiError pinError() const;
    // Why REQ must not go out at all under the TLS policy ("" when it may).
    ApiError unsafeTls(const Request &req) const;
    // The deadline and the size limit of REPLY; endReply() aborts it, saying
    // why ("pin", "size", "deadline"), and endedError() phrases that.
    void limitReply(QNetworkReply *reply);
    static void endReply(QNetworkReply *reply, const char *why);
    ApiError endedError(QNetworkReply *reply) const;
    void retryLater(std::shared_ptr<Request> req, const ApiError &why);
    void pollStatus(const QString &statusPath, qint64 deadline, int attempt,
                    std::function<void(const TaskResult &)> done);
    ApiError networkError(QNetworkReply *reply) const;
    QUrl url(const QString &path) const;

    QNetworkAccessManager m_nam;
    QUrl m_base;
    QString m_tunnel;
    TlsPolicy m_tls;
    QString m_user;
    QString m_password;
    QString m_otp;
    QByteArray m_token;
    QString m_peerFingerprint;
    int m_requestTimeoutMs = 15000;
    int m_taskTimeoutMs = 300000;
    QList<int> m_retryDelaysMs = {500, 1000, 2000, 4000, 8000};
};

// Runs end inside a client's own callback: a client owned by one is deleted
// from the event loop, after that call has returned.
struct LaterDeleter {
    void operator()(QObject *o) const
    {
        if (o)
            o->deleteLater();
    }
};
using ClientPtr = std::unique_ptr<Ns8Client, LaterDeleter>;

} // namespace ns8m
