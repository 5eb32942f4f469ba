// ns8-migration-helper: the root daemon behind the NS8 Migration page.
#include "objects/daemon.h"
#include "operations/cluster.h"
#include "core/log.h"
#include "core/sdprotocol.h"
#include "options.h"
#include "version.h"

#include <QCoreApplication>
#include <QSocketNotifier>
#include <QTimer>

#include <csignal>
#include <cstdio>
#include <memory>
#include <sys/signalfd.h>
#include <unistd.h>

using namespace ns8m;

namespace {

// SIGTERM and SIGINT arrive through a signalfd so the event loop can end the
// running jobs properly; blocked before any thread exists.  -1 on failure.
int blockTermSignals()
{
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigprocmask(SIG_BLOCK, &mask, nullptr);
    std::signal(SIGPIPE, SIG_IGN);
    return signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
}

// How long a Connect under way may take to undo itself after SIGTERM
// (systemd's TimeoutStopSec is 90 s by default).
constexpr int kUndoLimitMs = 75 * 1000;

void stopNow(Daemon *daemon, const QString &why)
{
    daemon->stop(why);
    QCoreApplication::exit(0);
}

// A signal stops the daemon and ends the loop with 0; losing the bus, with 1.
// A Connect under way first undoes what it created on NS8 (within
// kUndoLimitMs; a second signal does not wait).
void connectStops(Daemon *daemon, QSocketNotifier *notifier, int sfd)
{
    auto stopping = std::make_shared<bool>(false);
    QObject::connect(notifier, &QSocketNotifier::activated, daemon, [daemon, sfd, stopping] {
        signalfd_siginfo info{};
        if (::read(sfd, &info, sizeof info) != sizeof info)
            return;
        const QString why = info.ssi_signo == SIGTERM ? QStringLiteral("SIGTERM") : QStringLiteral("SIGINT");
        notifyServiceManager("STOPPING=1");
        if (!*stopping && daemon->cluster()->interruptConnect(daemon, [daemon, why] { stopNow(daemon, why); })) {
            *stopping = true;
            QTimer::singleShot(kUndoLimitMs, daemon, [daemon, why] { stopNow(daemon, why); });
            return;
        }
        stopNow(daemon, why);
    });
    QObject::connect(daemon, &Daemon::busLost, daemon, [daemon](const QString &reason) {
        Log::error(QStringLiteral("lost the bus connection: %1").arg(reason));
        daemon->stop(QStringLiteral("bus connection lost"));
        QCoreApplication::exit(1);
    });
}

int run(int sfd)
{
    const ParsedCommandLine cmd = parseCommandLine(QCoreApplication::arguments());
    std::fputs(qPrintable(cmd.out), stdout);
    std::fputs(qPrintable(cmd.err), stderr);
    if (cmd.exitCode >= 0)
        return cmd.exitCode;

    Daemon daemon(cmd.settings);
    QString error;
    if (!daemon.start(&error)) {
        Log::error(QStringLiteral("cannot start: %1").arg(error));
        return 1;
    }
    QSocketNotifier notifier(sfd, QSocketNotifier::Read);
    connectStops(&daemon, &notifier, sfd);
    notifyServiceManager("READY=1");
    return QCoreApplication::exec();
}

} // namespace

int main(int argc, char *argv[])
{
    const int sfd = blockTermSignals();
    if (sfd < 0) {
        std::perror("ns8-migration-helper: signalfd");
        return 1;
    }
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("ns8-migration-helper"));
    QCoreApplication::setApplicationVersion(QLatin1String(kVersion));
    const int exitCode = run(sfd);
    ::close(sfd);
    Log::close();
    return exitCode;
}
