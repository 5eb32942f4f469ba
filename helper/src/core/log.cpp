#include "core/log.h"
#include "core/sdprotocol.h"

#include <QDateTime>
#include <QFileInfo>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace ns8m {

namespace {
int g_fd = -1;
QString g_path;
QByteArray g_journal = kJournalSocket;
} // namespace

void Log::open(const QString &path)
{
    close();
    g_path = path;
    const QByteArray p = QFile::encodeName(path);
    g_fd = ::open(p.constData(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (g_fd < 0)
        std::fprintf(stderr, "ns8-migration-helper: cannot open the log file %s: %s\n", p.constData(),
                     std::strerror(errno));
}

void Log::close()
{
    if (g_fd >= 0)
        ::close(g_fd);
    g_fd = -1;
}

QString Log::path()
{
    return g_path;
}

void Log::setJournalSocket(const QByteArray &path)
{
    g_journal = path;
}

void Log::write(Level level, const QString &message, const LogContext &ctx)
{
    QString prefix;
    if (ctx.job) {
        prefix = QStringLiteral("[job %1 %2%3%4] ")
                     .arg(ctx.job)
                     .arg(ctx.operation, ctx.object.isEmpty() ? QString() : u' ' + ctx.object,
                          ctx.step.isEmpty() ? QString() : QStringLiteral(" / ") + ctx.step);
    }
    static const char *const names[] = {"", "", "", "ERROR", "WARNING", "NOTICE", "INFO", "DEBUG"};
    const QByteArray line = QStringLiteral("%1 %2 %3%4\n")
                                .arg(QDateTime::currentDateTime().toString(Qt::ISODate),
                                     QString::fromLatin1(names[int(level)]), prefix, message)
                                .toUtf8();
    if (g_fd >= 0) {
        const ssize_t n = ::write(g_fd, line.constData(), size_t(line.size()));
        (void)n;
    }
    std::fputs(line.constData(), stderr);

    const QByteArray msg = (prefix + message).toUtf8();
    // No journal there (or the entry too large for it): the lines above are
    // the record, as they always are.
    sendToJournal({{"MESSAGE", msg},
                   {"PRIORITY", QByteArray::number(int(level))},
                   {"SYSLOG_IDENTIFIER", "ns8-migration-helper"},
                   {"NS8M_JOB", QByteArray::number(ctx.job)},
                   {"NS8M_OPERATION", ctx.operation.toUtf8()},
                   {"NS8M_OBJECT", ctx.object.toUtf8()},
                   {"NS8M_STEP", ctx.step.toUtf8()}},
                  g_journal.constData());
}

QString humanBytes(quint64 bytes)
{
    // Binary units, as the page shows sizes (its formatBytes): one unit
    // system for the same transfer on both sides.
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    double v = double(bytes);
    int u = 0;
    while (v >= 1024.0 && u < 5) {
        v /= 1024.0;
        ++u;
    }
    if (u == 0)
        return QStringLiteral("%1 B").arg(bytes);
    return QStringLiteral("%1 %2").arg(v, 0, 'f', v >= 100 ? 0 : v >= 10 ? 1 : 2).arg(QLatin1String(units[u]));
}

QString humanDuration(qint64 msecs)
{
    if (msecs < 60000)
        return QStringLiteral("%1 s").arg(double(msecs) / 1000.0, 0, 'f', 1);
    const qint64 s = msecs / 1000;
    if (s < 3600)
        return QStringLiteral("%1 min %2 s").arg(s / 60).arg(s % 60, 2, 10, QLatin1Char('0'));
    return QStringLiteral("%1 h %2 min").arg(s / 3600).arg((s % 3600) / 60, 2, 10, QLatin1Char('0'));
}

} // namespace ns8m
