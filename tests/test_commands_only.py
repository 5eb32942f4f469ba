"""The helper builds the command lines of external programs in one place,
helper/src/core/commands.{h,cpp}, so that helper/tests/test_commands.cpp
sees every one of them and checks it against what the program accepts at its
NethServer 7 version (docs/platforms.md, "External commands").

A command line is recognised the way the helper writes one: the program's
name as the first element of a braced list, `{QStringLiteral("rsync"), ...}`
(or given to QProcess::setProgram/start).  The same name elsewhere in a list
(an option-file group "mysql", say) is not a command line.
"""

import glob
import os
import re
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.environ.get("NS8M_SOURCE_DIR", os.path.join(HERE, ".."))

PROGRAMS = ("rsync", "mysqldump", "mysql", "wg", "ip", "getent", "wireguard-go", "systemctl")
# Where command lines are built.
BUILDERS = {"helper/src/core/commands.cpp"}
# Files whose command lines are still built in place: each is to switch to
# core/commands.h and leave this list.  A file here without any command line
# fails the test, so the list cannot outlive the work it waits for.
PENDING = {
    "helper/src/transfer/dbdump.cpp",
    "helper/src/vpn/wireguard.cpp",
    "helper/src/operations/cluster.cpp",
    "helper/src/operations/preflight.cpp",
}

SITE = re.compile(
    r'(?:\{|\bsetProgram\(|\bstart\()\s*(?:QStringLiteral|QLatin1String)\("(%s)"\)'
    % "|".join(re.escape(p) for p in PROGRAMS))


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

    def test_command_lines_are_built_in_core_commands_only(self):
        files = sorted(glob.glob(os.path.join(SOURCE, "helper", "src", "**", "*.cpp"), recursive=True)
                       + glob.glob(os.path.join(SOURCE, "helper", "src", "**", "*.h"), recursive=True))
        self.assertTrue(files)
        outside, pending_seen = [], set()
        for path in files:
            rel = os.path.relpath(path, SOURCE).replace(os.sep, "/")
            if rel in BUILDERS:
                continue
            with open(path, encoding="utf-8") as f:
                found = sites(f.read())
            if rel in PENDING:
                if found:
                    pending_seen.add(rel)
                continue
            outside += ["%s:%d: %s" % (rel, line, program) for line, program in found]
        self.assertEqual(outside, [], "command lines built outside core/commands.cpp:\n" + "\n".join(outside))
        stale = sorted(PENDING - pending_seen)
        self.assertEqual(stale, [], "PENDING names files without a command line of their own; remove them: "
                         + ", ".join(stale))


if __name__ == "__main__":
    unittest.main()
