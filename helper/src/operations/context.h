// What an operation may use, handed to it explicitly: the settings, the
// bus, the state, polkit, systemd, the link to the cluster, the installed
// apps' profiles and a way to make a job.  The Manager (objects/daemon.*)
// owns the services and fills one Context; the operations and the objects
// that run them get a pointer to it, never the Manager itself.
#pragma once

#include "bus/job.h"
#include "core/settings.h"
#include "ns8/ns8client.h"
#include "profile/appprofile.h"
#include "profile/catalog.h"
#include "store/statedb.h"

#include <QList>
#include <QSslCertificate>

#include <functional>

class QObject;

namespace ns8m {

class Authority;
class Bus;
class Cluster;
class EsmithTools;
class Ns7Services;
class Systemd;

struct Context {
    Settings settings;
    Bus *bus = nullptr;
    StateDb *state = nullptr;
    Authority *authority = nullptr;
    Systemd *systemd = nullptr;           // set once the bus is open
    EsmithTools *esmith = nullptr;        // NS7's db, signal-event, expand-template
    Ns7Services *services = nullptr;      // NS7's services off and on, the NS7 way
    Cluster *cluster = nullptr;           // Connect, Disconnect and the tunnel
    const ClusterLink *link = nullptr;    // the cluster's link as Cluster keeps it
    QObject *owner = nullptr;             // parent of short-lived helpers (clients, processes)
    QList<QSslCertificate> extraCas;      // --ca-file
    QList<AppProfile> profiles;           // the apps installed on NS7, in bus order
    Catalog catalog;                      // every NS7 app the migration knows of (Manager.Inventory)
    // A new job with the next free id, on the bus and in the state DB.
    std::function<Job *(Job::Params, QString *)> createJob;
    // Names of the apps whose migration is under way: a job runs on them,
    // or they are migrating, syncing or finishing.
    std::function<QStringList()> appsInMigration;
    // Names of the migrated apps whose NS8 configuration names the user
    // domain, while that domain is the temporary one reading NS7's accounts.
    std::function<QStringList()> appsOnTemporaryDomain;
    // Names of the apps other than ID still to be migrated or skipped (an
    // app with order: last, the account provider, waits for them).
    std::function<QStringList(const QString &id)> appsBefore;

    QString pathUnderRoot(const QString &path) const;
    QString secretsDir() const; // the migration account's password, the WireGuard key
    const AppProfile *profile(const QString &id) const; // null: not installed
    bool isJoined() const { return link && link->isConnected(); }
    // The saved TLS policy towards the leader: validation, or the pinned certificate.
    TlsPolicy savedTlsPolicy() const;
    // A client of the cluster API through the tunnel, with the migration
    // account; the caller owns it.  Null when not joined.  Each of its
    // requests is refused (TunnelDown) unless it goes through the tunnel.
    Ns8Client *vpnClient(QObject *parent) const;
    // Nothing when the kernel sends packets for each of ADDRESSES (the
    // leader's VPN address, a receiver's) through the tunnel interface now;
    // otherwise the TunnelDown failure to answer with, before anything is sent.
    Failure throughTunnel(const QStringList &addresses) const;
};

} // namespace ns8m
