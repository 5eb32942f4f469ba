"""The helper builds the command lines of external programs in one place,
helper/src/core/commands.{h,cpp}, so that helper/tests/test_commands.cpp
sees every one of them and checks it against what the program accepts at its
NethServer 7 version (docs/platforms.md, "External commands").

A command line is recognised the way the helper writes one: the program's
name as the first element of a braced list, `{QStringLiteral("rsync"), ...}`
(or given to QProcess::setProgram/start).  The same name elsewhere in a list
(an option-file group "mysql", say) is not a command line.  A long option
literal (`"--where="`) outside the builders is one being appended in place.
"""

import re
import unittest

from helper_sources import helper_sources

PROGRAMS = ("rsync", "mysqldump", "mysql", "wg", "ip", "getent", "wireguard-go", "systemctl")
# Where command lines are built.
BUILDERS = {"helper/src/core/commands.cpp"}
# Where long options may be written besides: the per-transfer rsync options
# of the transfer plan (test_commands reaches them through planTransfers and
# directoryTransfer) and the helper's own command-line options.
OPTIONS_TOO = {"helper/src/transfer/rsync.cpp", "helper/src/options.cpp"}

SITE = re.compile(
    r'(?:\{|\bsetProgram\(|\bstart\()\s*(?:QStringLiteral|QLatin1String)\("(%s)"\)'
    % "|".join(re.escape(p) for p in PROGRAMS))


OPTION = re.compile(r'(?:QStringLiteral|QLatin1String)\("(--[a-z][a-z0-9-]*)')


def options(text):
    """[(line, option)] of the long option literals in TEXT."""
    return [(text.count("\n", 0, m.start(1)) + 1, m.group(1)) for m in OPTION.finditer(text)]


def sites(text):
    """[(line, program)] of the command lines built in TEXT."""
    return [(text.count("\n", 0, m.start(1)) + 1, m.group(1)) for m in SITE.finditer(text)]


class CommandsOnly(unittest.TestCase):
    def test_the_check_sees_a_command_line(self):
        self.assertEqual(sites('run({QStringLiteral("ip"), QStringLiteral("link")});'), [(1, "ip")])
        self.assertEqual(sites('QStringList a {\n    QStringLiteral("rsync")};'), [(2, "rsync")])
        self.assertEqual(sites('p.setProgram(QStringLiteral("wg"));'), [(1, "wg")])
        # A group name of an option file, and a program name that is longer.
        self.assertEqual(sites('g = {QStringLiteral("client"), QStringLiteral("mysql")};'), [])
        self.assertEqual(sites('{QStringLiteral("ipset")}'), [])
        # An option appended in place; a SQL comment is not one.
        self.assertEqual(options('args << QStringLiteral("--where=") + w;'), [(1, "--where")])
        self.assertEqual(options('QStringLiteral("-- %1.%2, every row")'), [])

    def test_command_lines_are_built_in_core_commands_only(self):
        files = helper_sources()
        self.assertTrue(files)
        outside = []
        for rel, text in files:
            if rel in BUILDERS:
                continue
            found = sites(text) + ([] if rel in OPTIONS_TOO else options(text))
            outside += ["%s:%d: %s" % (rel, line, what) for line, what in sorted(found)]
        self.assertEqual(outside, [], "command lines built outside core/commands.cpp:\n" + "\n".join(outside))


if __name__ == "__main__":
    unittest.main()
