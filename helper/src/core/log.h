// The helper's log: every line goes to the journal (with structured fields)
// and to /var/log/ns8-migration.log under the NS7 root, the file the guide
// tells administrators to follow with tail -f.  Never pass a secret here.
#pragma once

#include <QFile>
#include <QString>

namespace ns8m {

struct LogContext {
    quint64 job = 0;
    QString operation;
    QString object; // app id, or "" for the manager
    QString step;
};

class Log
{
public:
    enum class Level { Error = 3, Warning = 4, Notice = 5, Info = 6, Debug = 7 };

    // Opens (creates 0600) the log file; a failure is reported on stderr and
    // logging goes on to the journal and stderr only.
    static void open(const QString &path);
    static void close();

    static void write(Level level, const QString &message, const LogContext &ctx = {});
    static void info(const QString &m, const LogContext &c = {}) { write(Level::Info, m, c); }
    static void warning(const QString &m, const LogContext &c = {}) { write(Level::Warning, m, c); }
    static void error(const QString &m, const LogContext &c = {}) { write(Level::Error, m, c); }

    static QString path();
    // The journal's socket (kJournalSocket); the tests point it elsewhere.
    static void setJournalSocket(const QByteArray &path);
};

// "1.20 GiB", "345 KiB": binary units, as the page shows sizes.
QString humanBytes(quint64 bytes);
// "1 h 02 min", "3 min 05 s", "4.2 s".
QString humanDuration(qint64 msecs);

} // namespace ns8m
