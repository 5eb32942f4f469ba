// The NS7 host's link to an NS8 cluster: Manager.Connect and
// Manager.Disconnect, what they leave in the state, and the tunnel that is
// put back after a restart or a reboot.
#pragma once

#include "ns7/accountprovider.h"
#include "bus/bus.h"
#include "ns8/ns8client.h"
#include "operations/operation.h"
#include "store/statedb.h"
#include "vpn/wireguard.h"

#include <QObject>
#include <QPointer>
#include <QVariantMap>

#include <memory>

namespace ns8m {

class Job;
struct Context;

class Cluster : public QObject
{
    Q_OBJECT
public:
    Cluster(Context *ctx, QObject *parent);
    ~Cluster() override;

    // Reads the saved link; puts the tunnel back when it is missing.
    void load();
    void restoreTunnel();

    // State: disconnected, connecting, connected, disconnecting.
    QString state() const { return m_link.state; }
    // The link as saved, with the state of now (Context::link points here).
    const ClusterLink &link() const { return m_link; }
    QString leader() const { return m_link.leader; }
    quint32 nodeId() const { return m_link.nodeId; }
    QString vpnAddress() const { return m_link.vpnAddress; }
    QString userDomain() const { return m_link.userDomain; }
    QString tlsFingerprint() const { return m_fingerprint; }
    bool isConnected() const { return m_link.isConnected(); }
    QString leaderEndpoint() const { return m_link.leaderEndpoint; }

    // A client of the cluster API through the tunnel, logged in with the
    // migration account; the caller owns it.  Null when not connected.
    Ns8Client *vpnClient(QObject *parent) const;

    static const QList<OptionSpec> &connectOptions();
    static const QList<OptionSpec> &disconnectOptions();

    // The helper is stopping (SIGTERM): a Connect under way stops after its
    // current step and undoes what it did; DONE (with CONTEXT alive) once
    // its job has ended.  False when no Connect runs.
    bool interruptConnect(QObject *context, std::function<void()> done);

    // Method bodies, once polkit has said yes; they reply to CALL.
    void connectCall(sd_bus_message *call, quint32 uid, const QVariantMap &options);
    void disconnectCall(sd_bus_message *call, quint32 uid, const QVariantMap &options);
    // The end of the migration: leave the cluster (node, account, tunnel,
    // secrets) without anyone asking; the job says NS7 can be switched off.
    void leaveAtEnd();
    // The account provider's Finish: the temporary external user domain
    // Connect created is removed (NS8 imports the users under the same name;
    // nothing to do when Connect created none), or created again when the
    // import failed.  CLIENT is logged in; DONE gets what failed.
    void removeTemporaryDomain(Ns8Client *client, std::function<void(const Failure &)> done);
    void restoreTemporaryDomain(Ns8Client *client, std::function<void(const Failure &)> done);
    // The temporary user domain created again when NS8 has no domain of its
    // name (a Finish stopped after it asked NS8 to remove it); nothing
    // otherwise.
    void ensureTemporaryDomain(Ns8Client *client, std::function<void(const Failure &)> done);
    // Manager.ListNodes: the NS8 nodes an app can go to, with their disks.
    void listNodesCall(sd_bus_message *call);

    // True while restoreTunnel() is bringing the tunnel back (after a
    // restart of the helper); tunnelSettled() when it is done, either way.
    bool isRestoringTunnel() const { return m_restoring; }
    // GO at once, or once the restore under way has settled (either way);
    // never when CONTEXT is destroyed first.
    void whenTunnelSettled(QObject *context, std::function<void()> go);

signals:
    void changed(const QStringList &managerProperties);
    void tunnelSettled();

private:
    struct ConnectRun;
    struct DisconnectRun;

    void setState(const QString &state);
    void setTemporaryDomain(bool created);
    void setFingerprint(const QString &fp);
    // restoreTunnel(): up() when missing, then the handshake; tunnelRestored()
    // ends it either way.
    void restoreTunnelUp(const TunnelConfig &c);
    void restoreTunnelHandshake(const TunnelConfig &c);
    void tunnelRestored();
    void preflightFailed(const std::shared_ptr<ConnectRun> &run, const ApiError &error);
    void connectReadCluster(const std::shared_ptr<ConnectRun> &run);
    void connectPreflight(const std::shared_ptr<ConnectRun> &run);
    void connectStartJob(const std::shared_ptr<ConnectRun> &run);
    // The Connect job: one table of steps (see operation.h).
    QList<Operation::Step> connectSteps(const std::shared_ptr<ConnectRun> &run);
    static Texts connectSummary(const ConnectRun &run);
    int vpnTimeoutMs() const;
    void connectAddNode(const std::shared_ptr<ConnectRun> &run, const Operation::Next &next);
    void connectCheckEndpoint(const std::shared_ptr<ConnectRun> &run, const Operation::Next &next);
    void connectAddUser(const std::shared_ptr<ConnectRun> &run, const Operation::Next &next);
    void connectTunnel(const std::shared_ptr<ConnectRun> &run, const Operation::Next &next);
    void tunnelZone(const QString &interface, bool inZone, const Operation::Next &next);
    void enableAtBoot(bool enable);
    void connectHandshake(const std::shared_ptr<ConnectRun> &run, const Operation::Next &next);
    void connectWaitApi(const std::shared_ptr<ConnectRun> &run, qint64 deadline, const Operation::Next &next);
    void connectRoute(const std::shared_ptr<ConnectRun> &run, const Operation::Next &next);
    void connectDomain(const std::shared_ptr<ConnectRun> &run, const Operation::Next &next);
    void connectSave(const std::shared_ptr<ConnectRun> &run, const Operation::Next &next);
    // Undo functions of the Connect table.
    void connectRemove(const std::shared_ptr<ConnectRun> &run, bool created, const QString &action,
                       const QJsonObject &input, const QString &what, const Operation::Next &next);
    void connectTunnelDown(const std::shared_ptr<ConnectRun> &run, const Operation::Next &next);

    // The Disconnect job: a best-effort table (see disconnectSteps()).
    QList<Operation::Step> disconnectSteps(const std::shared_ptr<DisconnectRun> &run);
    void disconnectLogin(const std::shared_ptr<DisconnectRun> &run, const Operation::Next &next);
    void disconnectTask(const std::shared_ptr<DisconnectRun> &run, const QString &action, const QJsonObject &input,
                        const QString &what, const Operation::Next &next);
    void disconnectNode(const std::shared_ptr<DisconnectRun> &run, const Operation::Next &next);
    void disconnectForget(const std::shared_ptr<DisconnectRun> &run, const Operation::Next &next);
    // Why the cluster is left: Disconnect was called (BROKEN: the apps a
    // forced one takes the user domain from, STRANDED: the ones it leaves
    // half-migrated), an interrupted Connect is undone, or the migration of
    // everything ended.
    enum class LeaveReason { Asked, Recovering, Ended };
    Job *startDisconnect(quint32 uid, LeaveReason reason, const QStringList &broken, QString *error,
                         const QStringList &stranded = {});
    static Texts leaveSummary(const DisconnectRun &run, LeaveReason reason);
    void recoverInterruptedConnect();
    bool saveProgress(const ConnectRun &run);
    Failure progressNotSaved() const;

    QString secretsDir() const;
    bool writeSecret(const QString &name, const QByteArray &data, QString *error) const;
    QByteArray readSecret(const QString &name) const;
    void removeSecrets() const;
    TunnelConfig tunnelConfig() const;

    Context *m_ctx;
    Tunnel m_tunnel;
    ClusterLink m_link; // state: disconnected, connecting, connected, disconnecting
    QString m_fingerprint;
    bool m_restoring = false;
    bool m_interrupted = false; // the saved link is a Connect cut short
    QPointer<Operation> m_connectOp; // the Connect under way
};

} // namespace ns8m
