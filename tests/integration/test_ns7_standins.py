"""The NS7 stand-ins of the harness (NS7.md: "What a test stand-in must
reproduce"): the e-smith databases and their CLI, signal-event,
expand-template, runlevel-adjust and adjust-services on the systemd
stand-in, the firewall and web server events, and the package's install
hook.  No helper: a private bus, the systemd stand-in and one NS7 root."""

import fcntl
import json
import os
import subprocess
import time
import unittest
from unittest import mock

from harness import esmith, ldap, util
from harness.bus import PrivateBus
from harness.client import BusClient
from harness.ns7root import NS7Root
from harness.systemd_standin import NETHVOICE_UNITS, SystemdStandin
from harness.testing import SandboxTestCase

STOPPED = {"ActiveState": "inactive", "SubState": "dead", "UnitFileState": "disabled"}
RUNNING = {"ActiveState": "active", "SubState": "running", "UnitFileState": "enabled"}
# Services that exist only in these tests: {key: (record status, owned, unit state)},
# for runlevel-adjust, adjust-services and signal-event's S90.
RUNLEVEL = {
    "svc-on": ("enabled", True, STOPPED),
    "svc-off": ("disabled", True, RUNNING),
    "svc-masked": ("enabled", True, dict(STOPPED, UnitFileState="masked")),
    "svc-unowned": ("enabled", False, RUNNING),
    "svc-sock.socket": ("enabled", True, STOPPED),
}
ADJUST = {
    "adj-reload": ("enabled", True, RUNNING),
    "adj-fresh": ("enabled", True, STOPPED),
    "adj-gone": ("disabled", True, RUNNING),
    "adj-unowned": ("enabled", False, RUNNING),
}
SIGNAL = {"sig-reload": ("enabled", True, RUNNING)}
SERVICES = {**RUNLEVEL, **ADJUST, **SIGNAL}
REDIRECT_PAGE = "/var/lib/nethserver/nethserver-ns8-migration/webtop/webroot/"


class NS7StandinsTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.run_dir = util.make_run_dir("ns8m-standins-")
        cls.addClassCleanup(util.remove_tree, cls.run_dir)
        cls.ns7 = NS7Root(os.path.join(cls.run_dir, "ns7root"), files=10, nethvoice_files=False)
        units = dict(NETHVOICE_UNITS)
        for name, state in cls.ns7.service_units().items():
            units.setdefault(name, state)
        for key, (_, _, state) in SERVICES.items():
            units[esmith.unit_name(key)] = state
        cls.bus = PrivateBus(cls.run_dir).start()
        cls.addClassCleanup(cls.bus.stop)
        cls.systemd = SystemdStandin(cls.run_dir, cls.bus, units=units).start()
        cls.addClassCleanup(cls.systemd.stop)
        cls.client = BusClient(cls.bus.address)
        cls.addClassCleanup(cls.client.close)
        cls.ns7.build()
        started = time.monotonic()
        cls.ns7.install_package(cls.bus.address)
        cls.install_seconds = time.monotonic() - started
        cls.install_calls = cls.ns7.calls()
        cls.install_records = cls.ns7.db()
        cls.install_systemd_calls = cls.systemd.calls()

    # --- helpers ----------------------------------------------------------------
    def path(self, rel):
        return self.ns7.p(rel)

    def read(self, rel):
        with open(self.path(rel)) as f:
            return f.read()

    def write(self, rel, text, mode=0o644):
        path = self.path(rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, mode)

    def tool(self, *argv, env=None):
        return self.ns7.tool(*argv, env=env)

    def ok(self, *argv, env=None):
        r = self.tool(*argv, env=env)
        self.assertEqual(r.returncode, 0, f"{argv}: {r.stdout}{r.stderr}")
        return r.stdout

    def db_lines(self, name):
        with open(esmith.db_path(self.ns7.path, name)) as f:
            return f.read().splitlines()

    def unit(self, name):
        return self.systemd.unit_state(self.client, name)

    def systemd_calls_since(self, n):
        return [(c["method"], c.get("unit") or tuple(c.get("units") or ())) for c in self.systemd.calls()[n:]]

    def add_services(self, services):
        for key, (status, owned, _) in services.items():
            self.ok("config", "set", key, "service", "status", status)
            if owned:
                self.write(f"etc/e-smith/db/configuration/defaults/{key}/type", "service\n")

    # --- the database --------------------------------------------------------------
    def test_db_file_format(self):
        self.ok("db", "fmt", "set", "zeta", "service", "b", "2", "a", "1")
        self.ok("db", "fmt", "set", "alpha", "configuration")
        lines = self.db_lines("fmt")
        self.assertEqual(lines[0], "# DO NOT MODIFY THIS FILE.")
        self.assertTrue(lines[5].startswith("# updated: "), lines)
        self.assertEqual(lines[6:], ["alpha=configuration", "zeta=service|a|1|b|2"])
        # set replaces the record: the props are gone.
        self.ok("db", "fmt", "set", "zeta", "service")
        self.assertEqual(self.db_lines("fmt")[6:], ["alpha=configuration", "zeta=service"])
        # Reads skip comments and blank lines; the next write adds the header again.
        self.write("var/lib/nethserver/db/hand", "# mine\n\nk=t|p|v\n   \n  # indented\n")
        self.assertEqual(self.ok("db", "hand", "keys"), "k\n")
        self.ok("db", "hand", "setprop", "k", "q", "w")
        lines = self.db_lines("hand")
        self.assertEqual(lines[0], "# DO NOT MODIFY THIS FILE.")
        self.assertEqual([line for line in lines if not line.startswith("#")], ["k=t|p|v|q|w"])

    def test_db_escapes_and_trimming(self):
        # The CLI neither escapes nor strips |: a | in a value corrupts the record.
        self.ok("db", "esc", "set", "k", "t", "p", "a|b")
        self.assertIn("k=t|p|a|b", self.db_lines("esc"))
        self.assertEqual(self.ok("db", "esc", "getprop", "k", "p"), "a\n")
        self.assertEqual(self.tool("db", "esc", "getprop", "k", "b").returncode, 1)
        # An escaped \| is no separator, and the CLI shows it as stored.
        self.ok("db", "esc", "set", "e", "t", "p", "a\\|b")
        self.assertIn("e=t|p|a\\|b", self.db_lines("esc"))
        self.assertEqual(self.ok("db", "esc", "getprop", "e", "p"), "a\\|b\n")
        # A newline is stored as the two characters \n and read back as one.
        self.ok("db", "esc", "set", "n", "t", "p", "line1\nline2")
        self.assertIn("n=t|p|line1\\nline2", self.db_lines("esc"))
        self.assertEqual(self.ok("db", "esc", "getprop", "n", "p"), "line1\nline2\n")
        # Keys and (whole) values are trimmed.
        self.ok("db", "esc", "set", "  spaced  ", "  t", "p", " v ")
        self.assertIn("spaced=t|p| v", self.db_lines("esc"))
        self.assertEqual(self.ok("db", "esc", "getprop", "spaced", "p"), " v\n")

    def test_db_verbs(self):
        self.ok("db", "verbs", "set", "k", "service", "status", "enabled", "TCPPort", "22")
        self.ok("db", "verbs", "set", "bare", "configuration")
        self.assertEqual(self.ok("db", "verbs", "get", "k"), "service|TCPPort|22|status|enabled\n")
        self.assertEqual(self.ok("db", "verbs", "gettype", "k"), "service\n")
        self.assertEqual(self.ok("db", "verbs", "getprop", "k", "status"), "enabled\n")
        self.assertEqual(self.ok("db", "verbs", "show", "k"), "k=service\n    TCPPort=22\n    status=enabled\n")
        self.assertEqual(self.ok("db", "verbs", "keys"), "bare\nk\n")
        for argv in (("get", "nope"), ("gettype", "nope"), ("getprop", "k", "nope"), ("getprop", "nope", "p"),
                     ("show", "nope")):
            self.assertEqual(self.tool("db", "verbs", *argv).returncode, 1, argv)
        self.assertEqual(self.tool("db", "empty", "keys").returncode, 1)
        self.assertEqual(self.tool("db", "empty", "show").returncode, 1)
        # printjson/getjson: one line, no newline; props left out when empty.
        self.assertEqual(self.ok("db", "verbs", "printjson", "k"),
                         '{"name":"k","type":"service","props":{"TCPPort":"22","status":"enabled"}}')
        self.assertEqual(json.loads(self.ok("db", "verbs", "getjson")),
                         [{"name": "bare", "type": "configuration"},
                          {"name": "k", "type": "service", "props": {"TCPPort": "22", "status": "enabled"}}])
        r = self.tool("db", "verbs", "printjson", "nope")
        self.assertEqual((r.returncode, r.stdout), (0, "1"))
        # setdefault: only when the key is missing.
        self.ok("db", "verbs", "setdefault", "k", "other", "status", "disabled")
        self.ok("db", "verbs", "setdefault", "new", "service", "status", "disabled")
        self.assertEqual(self.ok("db", "verbs", "get", "k"), "service|TCPPort|22|status|enabled\n")
        self.assertEqual(self.ok("db", "verbs", "get", "new"), "service|status|disabled\n")
        # setprop of a missing key: exit 0, nothing written.
        before = os.stat(esmith.db_path(self.ns7.path, "verbs"))
        self.assertEqual(self.tool("db", "verbs", "setprop", "nope", "p", "v").returncode, 0)
        self.assertEqual(os.stat(esmith.db_path(self.ns7.path, "verbs")).st_ino, before.st_ino)
        self.assertEqual(self.tool("db", "verbs", "getprop", "nope", "p").returncode, 1)
        # delprop: always 0.  delete: 1 when missing.
        for argv in (("delprop", "nope", "p"), ("delprop", "k", "nope"), ("delprop", "k", "TCPPort")):
            self.assertEqual(self.tool("db", "verbs", *argv).returncode, 0, argv)
        self.assertEqual(self.ok("db", "verbs", "get", "k"), "service|status|enabled\n")
        self.assertEqual(self.tool("db", "verbs", "delete", "nope").returncode, 1)
        self.ok("db", "verbs", "delete", "bare")
        self.assertEqual(self.tool("db", "verbs", "get", "bare").returncode, 1)
        # Usage errors die.
        for argv in ((), ("verbs",), ("verbs", "bogus"), ("verbs", "setprop", "k", "p"), ("verbs", "getprop", "k"),
                     ("verbs", "set", "k"), ("verbs", "set", "k", "t", "odd")):
            r = self.tool("db", *argv)
            self.assertNotIn(r.returncode, (0, 1), argv)
            self.assertIn("usage", r.stderr, argv)
        # config is db configuration; $DBPATH is prepended to the name.
        self.assertEqual(self.ok("config", "get", "SystemName"), "ns7\n")
        self.ok("db", "dbpath", "set", "x", "t")
        self.assertEqual(self.tool("db", "dbpath", "get", "x", env={"DBPATH": "/etc"}).returncode, 1)
        self.ok("db", "/etc/dbpath-abs", "set", "x", "t")
        self.assertEqual(self.ok("db", "dbpath-abs", "get", "x", env={"DBPATH": "/etc"}), "t\n")

    def test_db_writes(self):
        path = esmith.db_path(self.ns7.path, "writes")
        self.ok("db", "writes", "set", "k", "t", "a", "1")
        inode = os.stat(path).st_ino
        # An unchanged value is not written.
        self.ok("db", "writes", "setprop", "k", "a", "1")
        self.assertEqual(os.stat(path).st_ino, inode)
        # A change is written to <db>.<pid> and renamed over the DB; no lock left.
        self.ok("db", "writes", "setprop", "k", "a", "2")
        self.assertNotEqual(os.stat(path).st_ino, inode)
        self.assertEqual([n for n in os.listdir(os.path.dirname(path)) if n.startswith("writes.")], [])
        # setprop: one locked write per prop, in sorted order.
        writes = []
        real = esmith.Database._write
        with mock.patch.object(esmith.Database, "_write", lambda db: (writes.append(dict(db.config)), real(db))):
            self.assertEqual(esmith.db_cli(self.ns7.path, ["writes", "setprop", "k", "b", "x", "a", "3"]), 0)
        self.assertEqual([w["k"] for w in writes], ["t|a|3", "t|a|3|b|x"])
        # A writer waits for flock(EX) on <db>.lock, then re-reads the DB.
        with open(path + ".lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            proc = subprocess.Popen([self.path("sbin/e-smith/db"), "writes", "setprop", "k", "c", "late"])
            time.sleep(0.5)
            self.assertIsNone(proc.poll(), "db wrote without the lock")
            self.write("var/lib/nethserver/db/writes", "k=t|a|3|b|x\nother=t\n")
            fcntl.flock(lock, fcntl.LOCK_UN)
        self.assertEqual(proc.wait(timeout=30), 0)
        self.assertEqual(self.ok("db", "writes", "get", "k"), "t|a|3|b|x|c|late\n")
        self.assertEqual(self.ok("db", "writes", "gettype", "other"), "t\n")
        self.assertFalse(os.path.exists(path + ".lock"))

    # --- signal-event --------------------------------------------------------------
    def handler(self, event, name, body="", target=None):
        log = self.path(f"tmp/{event}.log")
        script = (f"#!/bin/sh\necho \"{name} $*\" >> {log}\n"
                  f"echo \"{name} last call: $(tail -n1 {self.path(esmith.CALLS)})\" >> {log}\n" + body)
        self.write(target or f"etc/e-smith/events/{event}/{name}", script, 0o755)

    def test_signal_event_order_and_exit(self):
        os.makedirs(self.path("tmp"), exist_ok=True)
        ev = "test-order"
        self.handler(ev, "S10second")
        self.handler(ev, "S02first")
        self.handler(ev, "S50fails", "exit 3\n")
        self.handler(ev, "S90last")
        self.handler(ev, "S01skipped")
        os.chmod(self.path(f"etc/e-smith/events/{ev}/S01skipped"), 0o644)
        os.makedirs(self.path(f"etc/e-smith/events/{ev}/S03folder"))
        # S<NN>name -> ../actions/name
        self.handler(ev, "test-action", target="etc/e-smith/events/actions/test-action")
        os.symlink("../actions/test-action", self.path(f"etc/e-smith/events/{ev}/S20test-action"))
        r = self.tool("signal-event", ev, "arg1", "arg 2")
        self.assertEqual(r.returncode, 1, "a failed handler fails the event")
        ran = [line for line in self.read(f"tmp/{ev}.log").splitlines() if "last call" not in line]
        self.assertEqual(ran, [f"S02first {ev} arg1 arg 2", f"S10second {ev} arg1 arg 2",
                               f"test-action {ev} arg1 arg 2", f"S50fails {ev} arg1 arg 2",
                               f"S90last {ev} arg1 arg 2"])
        os.unlink(self.path(f"etc/e-smith/events/{ev}/S50fails"))
        self.assertEqual(self.tool("signal-event", ev).returncode, 0)
        r = self.tool("signal-event", "no-such-event")
        self.assertNotIn(r.returncode, (0, 1))
        self.assertNotEqual(self.tool("signal-event").returncode, 0)
        self.assertIn("Running event handler S90last", self.read("var/log/messages"))

    def test_signal_event_templates_and_services(self):
        os.makedirs(self.path("tmp"), exist_ok=True)
        ev = "test-generic"
        self.write("etc/e-smith/templates/etc/test/generic.conf/10only", "generated for { $EVENT }\n")
        self.write(f"etc/e-smith/events/{ev}/templates2expand/etc/test/generic.conf", "")
        self.write(f"etc/e-smith/events/{ev}/services2adjust/sig-reload", "reload\n")
        self.add_services(SIGNAL)
        for name in ("S04before", "S06after", "S89before", "S91after"):
            self.handler(ev, name)
        self.ns7.clear_calls()
        n = len(self.systemd.calls())
        self.assertEqual(self.tool("signal-event", ev).returncode, 0)
        lines = self.read(f"tmp/{ev}.log").splitlines()
        last = {line.split()[0]: line for line in lines if "last call" in line}
        self.assertNotIn("generic_template_expand", last["S04before"])
        self.assertIn('"generic_template_expand"', last["S06after"])
        self.assertNotIn("adjust-services", last["S89before"])
        self.assertIn('"tool": "adjust-services"', last["S91after"])
        self.assertIn("generated for test-generic", self.read("etc/test/generic.conf"))
        self.assertIn(("ReloadUnit", "sig-reload.service"), self.systemd_calls_since(n))

    # --- expand-template ---------------------------------------------------------------
    def test_expand_template_fragments(self):
        stock, custom = "etc/e-smith/templates/etc/test/order.conf", "etc/e-smith/templates-custom/etc/test/order.conf"
        for name in ("template-end", "20b", "a1", "Z9", "10a", "template-begin", "empty", "30x~", "40y.rpmnew"):
            self.write(f"{stock}/{name}", f"stock {name}\n" if name != "empty" else "")
        self.write(f"{custom}/20b", "custom 20b\n")
        self.write(f"{custom}/15c", "custom 15c\n")
        self.assertEqual(self.tool("expand-template", "/etc/test/order.conf").returncode, 0)
        self.assertEqual(self.read("etc/test/order.conf"),
                         "stock template-begin\nstock 10a\ncustom 15c\ncustom 20b\nstock Z9\nstock a1\n"
                         "stock template-end\n")
        # No template: exit 1, no file.
        self.assertEqual(self.tool("expand-template", "/etc/test/none.conf").returncode, 1)
        self.assertFalse(os.path.exists(self.path("etc/test/none.conf")))
        # A directory template without template-begin gets the default one.
        self.write("etc/e-smith/templates/etc/test/plain.conf/10a", "a\n")
        self.ok("expand-template", "/etc/test/plain.conf")
        self.assertTrue(self.read("etc/test/plain.conf").startswith("# ================= DO NOT MODIFY"))

    def test_expand_template_writes(self):
        tmpl = "etc/e-smith/templates/etc/test/writes.conf"
        self.write(f"{tmpl}/template-begin", "# begin\n")
        self.write(f"{tmpl}/10value", "value={ $DB->get_prop('test-writes', 'v') }\n")
        self.ok("config", "set", "test-writes", "configuration", "v", "1")
        self.ok("expand-template", "/etc/test/writes.conf")
        target = self.path("etc/test/writes.conf")
        st = os.stat(target)
        self.assertEqual((st.st_mode & 0o7777, st.st_uid, st.st_gid), (0o644, 0, 0))
        # Unchanged content: the file is left alone.
        self.ok("expand-template", "/etc/test/writes.conf")
        self.assertEqual(os.stat(target).st_ino, st.st_ino)
        # Changed: replaced by rename; an existing target keeps owner and mode.
        os.chown(target, 48, 48)
        os.chmod(target, 0o600)
        self.ok("config", "setprop", "test-writes", "v", "2")
        self.ok("expand-template", "/etc/test/writes.conf")
        st2 = os.stat(target)
        self.assertNotEqual(st2.st_ino, st.st_ino)
        self.assertEqual((st2.st_mode & 0o7777, st2.st_uid, st2.st_gid), (0o600, 48, 48))
        self.assertEqual(self.read("etc/test/writes.conf"), "# begin\nvalue=2\n")
        # A fragment error leaves the target untouched (and no temporary file).
        self.write(f"{tmpl}/20broken", "{ die 'boom' }\n")
        self.ok("config", "setprop", "test-writes", "v", "3")
        r = self.tool("expand-template", "/etc/test/writes.conf")
        self.assertEqual(r.returncode, 1)
        self.assertIn("boom", r.stderr)
        self.assertEqual(self.read("etc/test/writes.conf"), "# begin\nvalue=2\n")
        self.assertEqual(os.listdir(os.path.dirname(target)).count("writes.conf"), 1)
        self.assertFalse([n for n in os.listdir(os.path.dirname(target)) if n.startswith("writes.conf.")])
        # templates.metadata sets mode and owner of a new target.
        self.write("etc/e-smith/templates/etc/test/meta.conf/10a", "a\n")
        self.write("etc/e-smith/templates.metadata/etc/test/meta.conf", "PERMS=0640\nUID=48\nGID=\"root\"\n")
        self.ok("expand-template", "/etc/test/meta.conf")
        st = os.stat(self.path("etc/test/meta.conf"))
        self.assertEqual((st.st_mode & 0o7777, st.st_uid, st.st_gid), (0o640, 48, 0))

    def test_expand_template_variables(self):
        self.ok("config", "set", "test-vars", "configuration", "Pipe", "a\\|b", "Text", "x\ny")
        self.write("etc/e-smith/templates/etc/test/vars.conf/10vars",
                   "name={ $SystemName }.{ $DomainName }\n"
                   "status={ $httpd{status} }\n"
                   "raw={ $sshd }\n"
                   "{ use esmith::ConfigDB;\n"
                   "  my $db = esmith::ConfigDB->open_ro();\n"
                   "  my $net = esmith::ConfigDB->open_ro('networks');\n"
                   "  $OUT = 'pipe=' . $db->get('test-vars')->prop('Pipe') . \"\\n\";\n"
                   "  $OUT .= 'text=' . $db->get_prop('test-vars', 'Text') . \"\\n\";\n"
                   "  $OUT .= 'green=' . join(',', map { $_->key } $net->get_all_by_prop(role => 'green')) . \"\\n\";\n"
                   "  my @services = $db->get_all_by_prop('type' => 'service');\n"
                   "  $OUT .= 'services=' . scalar(@services) . \"\\n\";\n"
                   "  $OUT .= 'missing=' . (defined esmith::ConfigDB->open_ro('nope') ? 'yes' : 'no');\n"
                   "}\n")
        self.ok("expand-template", "/etc/test/vars.conf")
        services = sum(1 for typ, _ in self.ns7.db().values() if typ == "service")
        self.assertEqual(self.read("etc/test/vars.conf").split("\n", 8)[8],
                         "name=ns7.example.com\nstatus=enabled\n"
                         "raw=service|PermitRootLogin|yes|TCPPort|22|access|green,red|status|enabled\n"
                         f"pipe=a|b\ntext=x\ny\ngreen=eth0\nservices={services}\nmissing=no\n")

    # --- services ------------------------------------------------------------------------
    def test_runlevel_adjust(self):
        self.add_services(RUNLEVEL)
        self.ok("config", "set", "svc-nostatus", "service")
        n = len(self.systemd.calls())
        self.ok("signal-event", "runlevel-adjust")
        calls = self.systemd_calls_since(n)
        self.assertEqual(self.unit("svc-on.service")["ActiveState"], "active")
        self.assertEqual(self.unit("svc-on.service")["UnitFileState"], "enabled")
        self.assertIn(("StartUnit", "svc-on.service"), calls)
        self.assertEqual(self.unit("svc-sock.socket")["ActiveState"], "active")
        for key in ("svc-off", "svc-unowned"):
            state = self.unit(esmith.unit_name(key))
            self.assertEqual((state["ActiveState"], state["UnitFileState"]), ("inactive", "disabled"), key)
            self.assertIn(("StopUnit", esmith.unit_name(key)), calls)
        self.assertEqual(self.unit("svc-masked.service")["ActiveState"], "inactive")
        self.assertEqual(self.unit("svc-masked.service")["UnitFileState"], "masked")
        self.assertEqual([c for c in calls if c[1] in ("svc-masked.service", ("svc-masked.service",))],
                         [("GetUnitFileState", "svc-masked.service")])
        self.assertNotIn("svc-nostatus.service", str(calls))
        self.assertNethVoiceUnitsAsExpected()

    def test_adjust_services(self):
        ev = "test-adjust"
        self.add_services(ADJUST)
        for key in ("adj-fresh", "adj-gone", "adj-unowned"):
            self.write(f"etc/e-smith/events/{ev}/services2adjust/{key}", "restart\n")
        self.write(f"etc/e-smith/events/{ev}/services2adjust/httpd", "try-restart\n")
        # createlinks' form: a symlink naming the action.
        os.symlink("reload", self.path(f"etc/e-smith/events/{ev}/services2adjust/adj-reload"))
        n = len(self.systemd.calls())
        self.ok("signal-event", ev)
        jobs = [c for c in self.systemd_calls_since(n) if c[0].endswith("Unit") and c[0] != "LoadUnit"]
        # Started now: no restart on top.  Stopped, or not owned: no restart
        # either.  try-restart is "try", which does nothing.  A running, owned
        # service gets its action.
        self.assertEqual(sorted(jobs), [("ReloadUnit", "adj-reload.service"), ("StartUnit", "adj-fresh.service"),
                                        ("StopUnit", "adj-gone.service"), ("StopUnit", "adj-unowned.service")])

    def assertNethVoiceUnitsAsExpected(self):
        for name, state in NETHVOICE_UNITS.items():
            now = self.unit(name)
            self.assertEqual({k: now[k] for k in state}, state, name)

    # --- the package and the events that use its templates ---------------------------------------
    def test_install_hook(self):
        ran = [(c["tool"], c["argv"]) for c in self.install_calls if c["tool"] == "signal-event"]
        self.assertEqual(ran, [("signal-event", ["ns8-migration-update"]), ("signal-event", ["runlevel-adjust"]),
                               ("signal-event", ["nethserver-firewall-base-save"]),
                               ("signal-event", ["firewall-adjust"])])
        self.assertTrue(all(c["exit"] == 0 for c in self.install_calls), self.install_calls)
        self.assertTrue(os.path.islink(self.path(
            "etc/e-smith/events/ns8-migration-update/S00initialize-default-databases")))
        self.assertTrue(os.path.isfile(self.path("etc/e-smith/templates/etc/shorewall/interfaces/50ns8migration")))
        self.assertTrue(os.path.exists(self.path("etc/httpd/conf.d/00ns8migration.conf")))
        self.assertTrue(os.path.exists(self.path("etc/shorewall/interfaces")))
        self.assertIn(("RestartUnit", "shorewall.service"),
                      [(c["method"], c.get("unit")) for c in self.install_systemd_calls])
        # The hook changed no unit the tests expect as they are.
        self.assertFalse([c for c in self.install_systemd_calls
                          if c["method"] in ("StartUnit", "StopUnit") or
                          (c["method"] == "DisableUnitFiles")], self.install_systemd_calls)
        self.assertNethVoiceUnitsAsExpected()
        # Faithful records: owned services, no record for what NS7 has none of.
        records = self.install_records
        for key, (typ, _) in records.items():
            if typ == "service":
                self.assertTrue(esmith.owned(self.ns7.path, key), key)
        for key in ("tancredi", "nethvoice-report-api", "fias-dispatcher"):
            self.assertNotIn(key, records)
        # Defaults fill only what is missing, so an admin's value survives an update.
        self.assertEqual(records["ns8-migration"], ("configuration", {"Interface": "ns8", "Tunnel": "disabled"}))
        self.ok("config", "setprop", "ns8-migration", "Interface", "wg0")
        self.ok("config", "delprop", "ns8-migration", "Tunnel")
        self.write("etc/e-smith/db/configuration/force/ns8-migration/Forced", "yes\n")
        try:
            self.ok("signal-event", "ns8-migration-update")
        finally:
            os.unlink(self.path("etc/e-smith/db/configuration/force/ns8-migration/Forced"))
        self.assertEqual(self.ns7.db()["ns8-migration"],
                         ("configuration", {"Interface": "wg0", "Tunnel": "disabled", "Forced": "yes"}))
        self.ok("config", "set", "ns8-migration", "configuration", "Interface", "ns8", "Tunnel", "disabled")
        self.assertLess(self.install_seconds, 20)

    def test_firewall_adjust_tunnel_interface(self):
        try:
            self.ok("config", "setprop", "ns8-migration", "Tunnel", "enabled")
            n = len(self.systemd.calls())
            self.ok("signal-event", "firewall-adjust")
            lines = self.read("etc/shorewall/interfaces").splitlines()
            self.assertIn("loc\tns8\toptional", lines)
            self.assertIn("loc\teth0\tdhcp,nosmurfs,routeback", lines)
            self.assertIn("net\teth1\tdhcp,nosmurfs,routefilter,tcpflags,optional", lines)
            self.assertEqual([line.split()[0] for line in self.read("etc/shorewall/zones").splitlines()
                              if not line.startswith("#")], ["fw", "loc", "net"])
            self.assertEqual(self.read("etc/shorewall/policy").splitlines()[-1], "all\tall\tREJECT\tinfo")
            self.assertIn(("RestartUnit", "shorewall.service"), self.systemd_calls_since(n))
            self.ok("config", "setprop", "ns8-migration", "Tunnel", "disabled")
            self.ok("signal-event", "firewall-adjust")
            self.assertNotIn("ns8", self.read("etc/shorewall/interfaces"))
        finally:
            self.ok("config", "setprop", "ns8-migration", "Tunnel", "disabled")

    def test_redirects_survive_httpd_save(self):
        conf = "etc/httpd/conf.d/00ns8migration.conf"
        self.ok("config", "set", "ns8-migration-redirect-webtop", "ns8-redirect", "Page", REDIRECT_PAGE,
                "Url", "/webtop-moved", "Paths", "/webtop,/webtop5")
        try:
            self.ok("signal-event", "ns8-migration-update")
            text = self.read(conf)
            self.assertIn("# webtop moved to NethServer 8\n", text)
            self.assertIn(f"Alias /webtop-moved {REDIRECT_PAGE}\n", text)
            self.assertIn("RedirectMatch 302 ^/webtop(/.*)?$ /webtop-moved\n", text)
            self.assertIn("RedirectMatch 302 ^/webtop5(/.*)?$ /webtop-moved\n", text)
            inode = os.stat(self.path(conf)).st_ino
            n = len(self.systemd.calls())
            self.ok("signal-event", "nethserver-httpd-save")
            self.assertEqual(self.read(conf), text)
            self.assertEqual(os.stat(self.path(conf)).st_ino, inode)
            self.assertIn("ServerName ns7.example.com", self.read("etc/httpd/conf.d/nethserver.conf"))
            self.assertIn('DocumentRoot "/var/www/html"', self.read("etc/httpd/conf.d/default-virtualhost.inc"))
            self.assertIn(("ReloadUnit", "httpd.service"), self.systemd_calls_since(n))
        finally:
            self.ok("config", "delete", "ns8-migration-redirect-webtop")
            self.ok("signal-event", "ns8-migration-update")
        self.assertNotIn("webtop", self.read(conf))

    def test_calls_file(self):
        self.ok("config", "get", "SystemName")
        call = self.ns7.calls("config")[-1]
        self.assertEqual((call["argv"], call["exit"]), (["get", "SystemName"], 0))
        self.assertEqual(set(call), {"tool", "argv", "time", "duration", "exit", "pid", "ppid"})
        self.tool("expand-template", "/etc/test/never.conf")
        call = self.ns7.calls("expand-template")[-1]
        self.assertEqual((call["argv"], call["exit"]), (["/etc/test/never.conf"], 1))



class NS7DirectoryTest(SandboxTestCase):
    """NS7's local OpenLDAP (Sandbox(directory="ldap")): a real slapd with
    nethserver-directory's layout, listening in the NS7 host's network
    namespace, stopped by the systemd stand-in the NS7 way."""

    @classmethod
    def setUpClass(cls):
        cls.netns = "ns8m-ldap-%d" % os.getpid()
        subprocess.run(["ip", "netns", "add", cls.netns], check=True)
        cls.addClassCleanup(subprocess.run, ["ip", "netns", "del", cls.netns])
        subprocess.run(["ip", "-n", cls.netns, "link", "set", "lo", "up"], check=True)
        cls.sandbox_options = dict(files=10, nethvoice=False, mariadb=False, polkit=False,
                                   helper=False, directory="ldap", netns=cls.netns)
        super().setUpClass()

    def search(self, url, base, filt, *attrs, bind_dn=None, password=None):
        return self.sb.ldap.search(base, filt, attrs, url=url, bind_dn=bind_dn, password=password,
                                   check=False)

    def test_records_and_secret(self):
        db = self.sb.ns7.db()
        self.assertEqual(db["slapd"][0], "service")
        self.assertEqual(db["slapd"][1]["status"], "enabled")
        sssd = db["sssd"][1]
        self.assertEqual((sssd["Provider"], sssd["LdapURI"], sssd["BindDN"]),
                         ("ldap", "ldap://127.0.0.1", ldap.NS7_SVC_DN))
        with open(os.path.join(self.sb.root, "var/lib/nethserver/secrets/ldapservice")) as f:
            self.assertEqual(f.read(), sssd["BindPassword"])
        self.assertEqual(self.sb.systemd.unit_state(self.sb.bus, "slapd.service")["ActiveState"], "active")

    def test_service_account_binds_over_ldap_and_ldaps(self):
        password = self.sb.ns7.db()["sssd"][1]["BindPassword"]
        for url in ("ldap://127.0.0.1:389/", "ldaps://127.0.0.1:636/"):
            p = self.search(url, ldap.NS7_SUFFIX, "(objectClass=posixAccount)", "uid",
                            bind_dn=ldap.NS7_SVC_DN, password=password)
            self.assertEqual(p.returncode, 0, p.stderr)
            uids = {e["uid"][0] for e in ldap.parse_ldif(p.stdout)}
            self.assertEqual(uids, set(ldap.NS7Directory.USERS), url)
            p = self.search(url, ldap.NS7_SUFFIX, "(uid=alice)", "uid", bind_dn=ldap.NS7_SVC_DN,
                            password="wrong")
            self.assertEqual(p.returncode, 49, p.stderr)  # invalidCredentials
        # It listens in NS7's namespace only, not in the host's.
        host = subprocess.run(["ss", "-Hltnp"], capture_output=True, text=True).stdout
        inside = subprocess.run(["ip", "netns", "exec", self.netns, "ss", "-Hltnp"],
                                capture_output=True, text=True).stdout
        mark = "pid=%d," % self.sb.ldap.pid
        self.assertNotIn(mark, host)
        self.assertEqual(sum(1 for line in inside.splitlines() if mark in line), 4, inside)  # 389, 636; v4, v6

    def test_slapcat_gives_the_ns7_data(self):
        p = subprocess.run(["slapcat", "-F", os.path.join(self.sb.root, "etc/openldap/slapd.d"),
                            "-n", "2", "-o", "ldif-wrap=no"], capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        entries = {e["dn"]: e for e in ldap.parse_ldif(p.stdout)}
        people = {e["uid"][0]: e for e in entries.values() if "posixAccount" in e["objectclass"]}
        self.assertEqual(set(people), set(ldap.NS7Directory.USERS))
        self.assertEqual(people["bob"]["shadowmax"], ["99999"])
        self.assertEqual(people["alice"]["shadowmax"], ["180"])
        self.assertTrue(people["carol"]["userpassword"][0].startswith("{CRYPT}!"))
        self.assertNotIn("displayname", people["dave"])
        self.assertIn("sambaSamAccount", people["eve"]["objectclass"])
        self.assertTrue(people["eve"]["sambasid"][0].startswith("S-1-5-21-"))
        self.assertEqual(people["nicolo"]["cn"], ["Nicolò Caffè"])
        self.assertIn("cn:: ", p.stdout)  # non-ASCII values are base64 in the LDIF
        groups = {e["cn"][0]: e for e in entries.values() if "posixGroup" in e["objectclass"]}
        self.assertEqual(groups["sales"]["memberuid"], ["alice", "bob", "nicolo"])
        self.assertIn(ldap.NS7_SVC_DN, entries)
        self.assertIn("ou=People," + ldap.NS7_SUFFIX, entries)
        config = os.listdir(os.path.join(self.sb.root, "etc/openldap/slapd.d/cn=config"))
        for db in ("olcDatabase={0}config.ldif", "olcDatabase={1}monitor.ldif", "olcDatabase={2}mdb.ldif"):
            self.assertIn(db, config)

    def test_unit_disabled_the_ns7_way_stops_slapd(self):
        slapd = self.sb.ldap.proc
        self.assertIsNone(slapd.poll())
        self.assertEqual(self.sb.ns7.tool("config", "setprop", "slapd", "status", "disabled").returncode, 0)
        p = self.sb.ns7.signal_event("runlevel-adjust")
        self.assertEqual(p.returncode, 0, p.stderr)
        util.wait_for(lambda: slapd.poll() is not None, 15, "slapd to exit")
        self.assertEqual(slapd.returncode, 0)  # SIGTERM: slapd shuts down cleanly
        state = self.sb.systemd.unit_state(self.sb.bus, "slapd.service")
        self.assertEqual((state["ActiveState"], state["UnitFileState"]), ("inactive", "disabled"))
        p = self.search("ldap://127.0.0.1:389/", ldap.NS7_SUFFIX, "(uid=alice)", "uid")
        self.assertNotEqual(p.returncode, 0)


if __name__ == "__main__":
    unittest.main()
