// The helper's command line: one table of options, from which the parser,
// the defaults shown by --help and the checks of each value all come.  The
// defaults themselves are those of a default-constructed Settings.
#pragma once

#include "core/settings.h"

#include <QString>
#include <QStringList>

namespace ns8m {

struct Option {
    const char *name;      // "state-dir", given as --state-dir=DIR
    const char *valueName; // "DIR"
    const char *help;      // one sentence, no final period, no default
    QString Settings::*text = nullptr; // where the value goes: a string...
    int Settings::*number = nullptr;   // ...or a number from min to max
    int min = 0;
    int max = 0;
    bool absolutePath = false; // the string must start with "/"
};

// Every option but --help and --version, in the order --help lists them.
const QList<Option> &options();

// What --help prints; the defaults shown are those of `defaults`.
QString helpText(const Settings &defaults = Settings());

struct ParsedCommandLine {
    int exitCode = -1; // -1: run with `settings`; else exit with it
    QString out;       // for stdout (--help, --version)
    QString err;       // for stderr: one sentence naming the option
    Settings settings;
};

// Reads args (args[0] is the program) over a default-constructed Settings.
ParsedCommandLine parseCommandLine(const QStringList &args);

} // namespace ns8m
