// ns8-migration-helper: the root daemon behind the NS8 Migration page.
#include "daemon.h"
#include "log.h"
#include "version.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QSocketNotifier>

#include <systemd/sd-daemon.h>

#include <csignal>
#include <cstdio>
#include <sys/signalfd.h>
#include <unistd.h>

using namespace ns8m;

int main(int argc, char *argv[])
{
    // SIGTERM and SIGINT arrive through a signalfd so the event loop can end
    // the running jobs properly; blocked before any thread exists.
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigprocmask(SIG_BLOCK, &mask, nullptr);
    std::signal(SIGPIPE, SIG_IGN);

    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("ns8-migration-helper"));
    QCoreApplication::setApplicationVersion(QLatin1String(kVersion));

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "Moves the applications of this NethServer 7 host to a NethServer 8 cluster.\n"
        "Runs as root on the system bus as org.nethserver.Ns8Migration1."));
    parser.addHelpOption();
    parser.addVersionOption();
    const QCommandLineOption busOpt(QStringLiteral("bus-address"),
                                    QStringLiteral("Use the bus at ADDR instead of the system bus."),
                                    QStringLiteral("ADDR"));
    const QCommandLineOption stateOpt(QStringLiteral("state-dir"),
                                      QStringLiteral("Keep the state in DIR (default /var/lib/ns8-migration)."),
                                      QStringLiteral("DIR"), QStringLiteral("/var/lib/ns8-migration"));
    const QCommandLineOption rootOpt(QStringLiteral("root"),
                                     QStringLiteral("Read the NS7 system under DIR (default /)."),
                                     QStringLiteral("DIR"), QStringLiteral("/"));
    const QCommandLineOption profilesOpt(QStringLiteral("profiles-dir"),
                                         QStringLiteral("Read the app profiles from DIR (default %1).")
                                             .arg(QLatin1String(NS8M_PROFILES_DIR)),
                                         QStringLiteral("DIR"), QLatin1String(NS8M_PROFILES_DIR));
    const QCommandLineOption lingerOpt(QStringLiteral("job-linger"),
                                       QStringLiteral("Keep finished jobs on the bus for SECONDS (default 600)."),
                                       QStringLiteral("SECONDS"), QStringLiteral("600"));
    const QCommandLineOption caOpt(QStringLiteral("ca-file"),
                                   QStringLiteral("Also trust the CA certificates in FILE (PEM) for the NS8 leader."),
                                   QStringLiteral("FILE"));
    const QCommandLineOption vpnTimeoutOpt(QStringLiteral("vpn-timeout"),
                                           QStringLiteral("Wait up to SECONDS for the VPN to come up (default 60)."),
                                           QStringLiteral("SECONDS"), QStringLiteral("60"));
    const QCommandLineOption taskTimeoutOpt(QStringLiteral("task-timeout"),
                                            QStringLiteral("Wait up to SECONDS for an NS8 task (default 300)."),
                                            QStringLiteral("SECONDS"), QStringLiteral("300"));
    parser.addOptions({busOpt, stateOpt, rootOpt, profilesOpt, lingerOpt, caOpt, vpnTimeoutOpt, taskTimeoutOpt});
    parser.process(app);
    if (!parser.positionalArguments().isEmpty()) {
        std::fprintf(stderr, "ns8-migration-helper: unexpected argument: %s\n",
                     qPrintable(parser.positionalArguments().first()));
        return 2;
    }

    Settings settings;
    settings.busAddress = parser.value(busOpt);
    settings.stateDir = parser.value(stateOpt);
    settings.root = parser.value(rootOpt);
    settings.profilesDir = parser.value(profilesOpt);
    bool ok = false;
    settings.jobLingerSeconds = parser.value(lingerOpt).toInt(&ok);
    if (!ok || settings.jobLingerSeconds < 0 || settings.jobLingerSeconds > 86400) {
        std::fprintf(stderr, "ns8-migration-helper: --job-linger takes 0 to 86400 seconds\n");
        return 2;
    }
    settings.caFile = parser.value(caOpt);
    settings.vpnTimeoutSeconds = parser.value(vpnTimeoutOpt).toInt(&ok);
    if (!ok || settings.vpnTimeoutSeconds < 1 || settings.vpnTimeoutSeconds > 3600) {
        std::fprintf(stderr, "ns8-migration-helper: --vpn-timeout takes 1 to 3600 seconds\n");
        return 2;
    }
    settings.taskTimeoutSeconds = parser.value(taskTimeoutOpt).toInt(&ok);
    if (!ok || settings.taskTimeoutSeconds < 1 || settings.taskTimeoutSeconds > 86400) {
        std::fprintf(stderr, "ns8-migration-helper: --task-timeout takes 1 to 86400 seconds\n");
        return 2;
    }
    if (settings.root.isEmpty() || !settings.root.startsWith(u'/')) {
        std::fprintf(stderr, "ns8-migration-helper: --root needs an absolute path\n");
        return 2;
    }

    const int sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
    if (sfd < 0) {
        std::perror("ns8-migration-helper: signalfd");
        return 1;
    }

    int exitCode = 0;
    {
        Daemon daemon(settings);
        QString error;
        if (!daemon.start(&error)) {
            Log::error(QStringLiteral("cannot start: %1").arg(error));
            ::close(sfd);
            return 1;
        }
        QSocketNotifier sigNotifier(sfd, QSocketNotifier::Read);
        QObject::connect(&sigNotifier, &QSocketNotifier::activated, &app, [&] {
            signalfd_siginfo info{};
            if (::read(sfd, &info, sizeof info) != sizeof info)
                return;
            daemon.stop(info.ssi_signo == SIGTERM ? QStringLiteral("SIGTERM") : QStringLiteral("SIGINT"));
            sd_notify(0, "STOPPING=1");
            QCoreApplication::exit(0);
        });
        QObject::connect(&daemon, &Daemon::busLost, &app, [&](const QString &reason) {
            Log::error(QStringLiteral("lost the bus connection: %1").arg(reason));
            daemon.stop(QStringLiteral("bus connection lost"));
            QCoreApplication::exit(1);
        });
        sd_notify(0, "READY=1");
        exitCode = QCoreApplication::exec();
    }
    ::close(sfd);
    Log::close();
    return exitCode;
}
