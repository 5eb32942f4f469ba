// Manager.Preflight and the checks behind it: the prerequisites page of the
// app's migration guide ticked by the tool.  Every check is read-only and quick:
// facts are gathered concurrently (NS8 read actions, name lookups, systemd
// unit states, files under the NS7 root, the last Scan), then each check is
// judged from them.  Connect, Start and Finish run the same checks and
// refuse on a blocker, or on a warning unless accept_warnings is given.
// docs/preflight.md lists every check.
#pragma once

#include "ns7/accountprovider.h"
#include "bus/bus.h"
#include "core/text.h"
#include "ns8/ns8client.h"
#include "profile/appprofile.h"

#include <QJsonObject>
#include <QList>
#include <QString>
#include <QVariantMap>

#include <functional>
#include <optional>

namespace ns8m {

struct Context;

// One line of the report.
struct Check {
    QString id;       // stable: "leader-tls", "node-disk", ...
    QString group;    // source, destination, network, dns, account, data, backup
    QString severity; // ok, warning, blocker
    QString title;
    QString detail;   // what was found
    QString remedy;   // what to do (empty when nothing)
    // The same three by id (core/text.h): title, detail and remedy are their
    // English (a detail may say more than its text, e.g. every field's problem).
    Text titleText, detailText, remedyText;
    // Further sentences of the detail, each by id: the items of what it lists
    // (every backup, every host name); `detail` ends with their English.
    Texts detailMore;
    QString doc;      // the guide's section anchor, e.g. "network-requirements"
    bool checked = true; // false: could not be judged yet (the detail says why)
    QStringList gates;   // the operations it can stop: connect, start, finish
};

class Preflight
{
public:
    enum class Phase { Report, Connect, Start, Finish };

    // What a run looks at.  Options are those of Manager.Preflight (leader,
    // tls_verify, tls_fingerprint, app, node, user_domain and the fields of
    // the apps' profiles); unknown keys are ignored here.
    struct Input {
        Phase phase = Phase::Report;
        QVariantMap options;
        // Connect only: the administrator's client, already logged in over
        // HTTPS, and what Connect already read with it.  Otherwise the runner
        // uses the migration account through the tunnel when connected.
        Ns8Client *admin = nullptr;
        QJsonObject clusterStatus;
        QJsonObject domains;
    };

    // Manager.Preflight's options: the fixed ones and every field of every
    // profile (a bool field is 'b', the others 's').
    static QList<OptionSpec> options(const QList<AppProfile> &profiles);

    // Runs every check; DONE gets them in the report's order.
    static void run(const Context *ctx, Input input, std::function<void(const QList<Check> &)> done);

    // For Start and Finish (and Connect): runs the checks and answers with
    // nothing when the operation may go on, or with the PreflightFailed
    // error to send back.  OPTIONS are the method's own options (its
    // accept_warnings (b), node, fields); APP the app's id.
    static void gate(const Context *ctx, Phase phase, const QString &app, const QVariantMap &options,
                     std::function<void(std::optional<BusError>)> done);
    // The same once the checks are known (Connect uses it with its own Input).
    static std::optional<BusError> verdict(const QList<Check> &checks, Phase phase, bool acceptWarnings);
    static QString phaseName(Phase phase);

    // Manager.Preflight, once polkit has said yes: replies aa{sv}.
    static void call(const Context *ctx, sd_bus_message *call, const QVariantMap &options);
};

} // namespace ns8m
