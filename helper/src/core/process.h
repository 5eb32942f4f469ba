// Runs a program with an argument vector (never a shell) and hands its exit
// code and output to a callback, without blocking the event loop.
#pragma once

#include <QByteArray>
#include <QObject>
#include <QStringList>

#include "core/text.h"

#include <functional>

namespace ns8m {

struct ProcessResult {
    int exitCode = -1;  // -1: could not start or crashed
    QByteArray out;
    QByteArray err;
    QString what;       // the program and its arguments, for messages
    bool ok() const { return exitCode == 0; }
    // Why it failed, by id: the command, its exit code, the last of what it said.
    Text failure() const;
    QString errorText() const; // its English, for the log
};

// Starts ARGV[0] with the other elements as arguments; ENV adds variables.
void runProcess(QObject *context, const QStringList &argv, std::function<void(const ProcessResult &)> done,
                const QStringList &env = {}, int timeoutMs = 60000);

// Same, with the standard output appended to the file OUTPATH instead of
// read into memory (for dumps of any size); ProcessResult::out stays empty.
void runProcessToFile(QObject *context, const QStringList &argv, const QString &outPath,
                      std::function<void(const ProcessResult &)> done, int timeoutMs);

// Runs the commands one after the other; stops at the first that fails.
void runSequence(QObject *context, QList<QStringList> argvs, std::function<void(const ProcessResult &)> done);

} // namespace ns8m
