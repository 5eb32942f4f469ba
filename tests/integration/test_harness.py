"""The harness itself, without the helper: the bus policy, polkitd's answers,
the systemd stand-in, MariaDB's databases and the NS7 tree."""

import glob
import json
import os
import re
import sqlite3
import subprocess
import time
import unittest

import dbus

from harness import SYNC_GROUP, SYNC_GROUP_MEMBER, UNPRIVILEGED_USER, NS7Root, util
from harness.bus import PrivateBus
from harness.client import BusClient
from harness.polkit import Polkitd, check_authorization
from harness.systemd_standin import MANAGER_IFACE as SD_MANAGER, MANAGER_PATH as SD_PATH, unit_path
from harness.testing import SandboxTestCase

SD = "org.freedesktop.systemd1"
READ = "org.nethserver.ns8migration.read"
SYNC = "org.nethserver.ns8migration.sync"
RECORDING = re.compile(r"^(in|out)-\d+-\d+-\d{8}-\d{6}-[\d.]+\.wav$")


class HarnessTest(SandboxTestCase):
    sandbox_options = dict(files=1500, cdr_rows=777, example_rules=True, helper=False)

    def test_bus_policy(self):
        r = self.bus.call_as(UNPRIVILEGED_USER, "/org/freedesktop/DBus", "org.freedesktop.DBus",
                             "RequestName", "su", ["org.example.Harness", 4], dest="org.freedesktop.DBus")
        self.assertEqual(r.error_name, "org.freedesktop.DBus.Error.AccessDenied", r)
        self.assertEqual(self.bus.call("/org/freedesktop/DBus", "org.freedesktop.DBus", "RequestName", "su",
                                       ["org.example.Harness", 4], dest="org.freedesktop.DBus"), 1)
        self.assertEqual(os.stat(os.path.dirname(self.sb.private_bus.socket_path)).st_mode & 0o755, 0o755)

    def test_polkit_answers(self):
        self.assertEqual(check_authorization(self.bus, "root", READ)[0], True)
        self.assertEqual(check_authorization(self.bus, UNPRIVILEGED_USER, READ)[:2], (False, True))
        self.assertEqual(check_authorization(self.bus, SYNC_GROUP_MEMBER, SYNC)[0], True)
        self.assertEqual(check_authorization(self.bus, SYNC_GROUP_MEMBER, READ)[0], False)

    def test_host_untouched(self):
        with open("/etc/group") as f:
            self.assertNotIn(SYNC_GROUP, f.read())
        self.assertFalse(glob.glob("/etc/polkit-1/rules.d/*ns8migration*"))
        self.assertFalse(os.path.exists("/usr/share/polkit-1/actions/org.nethserver.ns8migration.policy"))

    def test_polkit_without_rules(self):
        run = util.make_run_dir("ns8m-polkit-")
        try:
            with PrivateBus(run) as bus, Polkitd(run, bus):
                client = BusClient(bus.address)
                try:
                    self.assertFalse(check_authorization(client, SYNC_GROUP_MEMBER, SYNC)[0])
                finally:
                    client.close()
        finally:
            util.remove_tree(run)

    def test_systemd_standin(self):
        self.sb.systemd.clear_calls()
        rec = []
        match = self.bus.conn.add_signal_receiver(lambda *a: rec.append(a), signal_name="JobRemoved",
                                                  dbus_interface=SD_MANAGER, bus_name=SD)
        try:
            job = self.bus.call(SD_PATH, SD_MANAGER, "StopUnit", "ss", ["httpd-fpbx.service", "replace"], dest=SD)
            self.assertTrue(job.startswith(SD_PATH + "/job/"))
            changes = self.bus.call(SD_PATH, SD_MANAGER, "DisableUnitFiles", "asb",
                                    [["httpd-fpbx.service"], False], dest=SD)
            self.assertEqual(changes[0][0], "unlink")
            self.bus.pump(0.3)
        finally:
            match.remove()
        self.assertEqual([a[1] for a in rec], [job])
        state = self.sb.systemd.unit_state(self.bus, "httpd-fpbx.service")
        self.assertEqual((state["ActiveState"], state["SubState"], state["UnitFileState"]),
                         ("inactive", "dead", "disabled"))
        self.assertEqual(self.bus.call(SD_PATH, SD_MANAGER, "GetUnit", "s", ["asterisk.service"], dest=SD),
                         unit_path("asterisk.service"))
        self.assertEqual(self.bus.call_error(SD_PATH, SD_MANAGER, "GetUnit", "s", ["nope.service"], dest=SD)[0],
                         "org.freedesktop.systemd1.NoSuchUnit")
        calls = self.sb.systemd.calls()
        self.assertEqual([(c["method"], c.get("unit"), c.get("units"), c.get("mode"), c["uid"]) for c in calls[:2]],
                         [("StopUnit", "httpd-fpbx.service", None, "replace", 0),
                          ("DisableUnitFiles", None, ["httpd-fpbx.service"], None, 0)])

    def transient(self, name, argv, type_="forking", env=(), mode="fail"):
        props = [("Description", dbus.String("a test service")), ("Type", dbus.String(type_)),
                 ("Environment", dbus.Array(list(env), signature="s")),
                 ("ExecStart", dbus.Array([dbus.Struct((argv[0], dbus.Array(argv, signature="s"), False),
                                                       signature="sasb")], signature="(sasb)"))]
        return self.bus.call_error(SD_PATH, SD_MANAGER, "StartTransientUnit", "ssa(sv)a(sa(sv))",
                                   [name, mode, props, dbus.Array([], signature="(sa(sv))")], dest=SD)

    def pump_until(self, predicate, seconds):
        deadline = time.monotonic() + seconds
        while not predicate():
            self.assertLess(time.monotonic(), deadline, "no JobRemoved within %g s" % seconds)
            self.bus.pump(0.05)

    def test_systemd_standin_transient_unit(self):
        # A daemon as wireguard-go is one: the start process leaves a child
        # behind and exits 0 (Type=forking).
        script = os.path.join(self.sb.run_dir, "daemon.sh")
        pidfile = os.path.join(self.sb.run_dir, "daemon.pid")
        with open(script, "w") as f:
            f.write("#!/bin/sh\n[ \"$1\" = ok ] || exit 3\n"
                    "sleep 300 </dev/null >/dev/null 2>&1 &\necho $! >\"$2\"\n")
        os.chmod(script, 0o755)
        self.sb.systemd.clear_calls()
        rec = []
        match = self.bus.conn.add_signal_receiver(lambda *a: rec.append(tuple(str(x) for x in a)),
                                                  signal_name="JobRemoved", dbus_interface=SD_MANAGER, bus_name=SD)
        try:
            err, job = self.transient("ns8m-daemon-1.service", [script, "ok", pidfile], env=["SECRET_KEY=s3cr3t"])
            self.assertIsNone(err, job)
            self.pump_until(lambda: any(r[1] == job for r in rec), 15)
            self.assertEqual([r[1:] for r in rec], [(job, "ns8m-daemon-1.service", "done")])
            with open(pidfile) as f:
                daemon = int(f.read())
            self.addCleanup(lambda: os.path.exists("/proc/%d" % daemon) and os.kill(daemon, 9))
            state = self.sb.systemd.unit_state(self.bus, "ns8m-daemon-1.service")
            self.assertEqual((state["ActiveState"], state["SubState"]), ("active", "running"))
            unit = self.sb.systemd.transient_units()["ns8m-daemon-1.service"]
            self.assertEqual((unit["state"], unit["main_pid"], unit["type"]), ("active", daemon, "forking"))
            with open("/proc/%d/environ" % daemon, "rb") as f:
                environ = f.read().split(b"\0")
            self.assertIn(b"SECRET_KEY=s3cr3t", environ)
            self.assertIn(("INVOCATION_ID=" + unit["invocation"]).encode(), environ)
            # Run in the caller's namespaces (here the test's own).
            self.assertEqual(unit["netns"], os.readlink("/proc/self/ns/net"))
            self.assertEqual(os.readlink("/proc/%d/ns/net" % daemon), os.readlink("/proc/self/ns/net"))

            # The name is taken while the unit lives; names, modes, paths checked.
            self.assertEqual(self.transient("ns8m-daemon-1.service", [script, "ok", pidfile])[0],
                             "org.freedesktop.systemd1.UnitExists")
            self.assertEqual(self.transient("httpd.service", [script, "ok", pidfile])[0],
                             "org.freedesktop.systemd1.UnitExists")
            for name, argv, mode in (("ns8m-x", [script], "fail"), ("ns8m-x.service", [script], "now"),
                                     ("ns8m-x.service", ["daemon.sh"], "fail")):
                self.assertEqual(self.transient(name, argv, mode=mode)[0], "org.freedesktop.DBus.Error.InvalidArgs",
                                 (name, argv, mode))

            # A start that exits non-zero fails its job; the unit stays failed.
            err, failing = self.transient("ns8m-daemon-2.service", [script, "no"])
            self.assertIsNone(err, failing)
            self.pump_until(lambda: any(r[1] == failing for r in rec), 15)
            self.assertEqual(rec[-1][1:], (failing, "ns8m-daemon-2.service", "failed"))
            self.assertEqual(self.sb.systemd.unit_state(self.bus, "ns8m-daemon-2.service")["ActiveState"], "failed")

            # StopUnit ends the daemon; the ended unit is gone.
            err, stop = self.bus.call_error(SD_PATH, SD_MANAGER, "StopUnit", "ss", ["ns8m-daemon-1.service", "replace"],
                                            dest=SD)
            self.assertIsNone(err, stop)
            self.pump_until(lambda: any(r[1] == stop for r in rec), 15)
        finally:
            match.remove()
        self.assertFalse(os.path.exists("/proc/%d" % daemon))
        self.assertEqual(self.bus.call_error(SD_PATH, SD_MANAGER, "GetUnit", "s", ["ns8m-daemon-1.service"], dest=SD)[0],
                         "org.freedesktop.systemd1.NoSuchUnit")
        self.assertEqual(self.sb.systemd.transient_units()["ns8m-daemon-1.service"]["state"], "inactive")
        starts = [c for c in self.sb.systemd.calls() if c["method"] == "StartTransientUnit"]
        self.assertEqual((starts[0]["unit"], starts[0]["mode"], starts[0]["argv"], starts[0]["environment"],
                          starts[0]["pid"]), ("ns8m-daemon-1.service", "fail", [script, "ok", pidfile],
                                              ["SECRET_KEY"], os.getpid()))
        with open(self.sb.systemd.calls_path) as f:
            self.assertNotIn("s3cr3t", f.read())

    def test_mariadb(self):
        m = self.sb.mysql
        dbs = {r[0] for r in m.sql("SHOW DATABASES")}
        self.assertTrue({"asterisk", "nethcti3", "phonebook", "asteriskcdrdb"} <= dbs)
        self.assertEqual(int(m.sql_value("SELECT COUNT(*) FROM asteriskcdrdb.cdr")), 777)
        schema_files = glob.glob(os.path.join(util.shared_dir(), "ns8-api/sql/asteriskcdrdb/*-schema.sql"))
        tables = int(m.sql_value("SELECT COUNT(*) FROM information_schema.TABLES "
                                 "WHERE table_schema = 'asteriskcdrdb'"))
        self.assertEqual(tables, len(schema_files))
        for db in ("asterisk", "nethcti3", "phonebook"):
            self.assertGreater(int(m.sql_value(f"SELECT SUM(table_rows) FROM information_schema.TABLES "
                                               f"WHERE table_schema = '{db}'") or 0), 0, db)
        cnf = os.path.join(self.sb.root, "root/.my.cnf")
        self.assertEqual(os.stat(cnf).st_mode & 0o777, 0o600)
        out = subprocess.run(["mariadb", f"--defaults-file={cnf}", "-N", "-e", "SELECT CURRENT_USER()"],
                             capture_output=True, text=True, check=True).stdout.strip()
        self.assertEqual(out, "root@localhost")
        self.assertGreater(m.cdr_bytes(), 0)

    def test_ns7_tree(self):
        root = self.sb.root
        with open(os.path.join(root, "var/lib/nethserver/db/configuration")) as f:
            lines = f.read().splitlines()
        self.assertEqual(lines[0], "# DO NOT MODIFY THIS FILE.")
        records = dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))
        self.assertEqual(records["TimeZone"], "Europe/Rome")
        nv = records["nethvoice"].split("|")
        self.assertEqual(nv[0], "service")
        self.assertEqual(dict(zip(nv[1::2], nv[2::2]))["BrandName"], "NethVoice")
        self.assertIn("|international_prefix|+39", records["nethvoice-report"])
        self.assertTrue(os.path.isdir(os.path.join(root, "var/log")))
        recordings = [os.path.basename(p) for p in
                      glob.glob(os.path.join(root, "var/spool/asterisk/monitor/*/*/*/*"))]
        self.assertGreater(len(recordings), 1000)
        for name in recordings:
            self.assertRegex(name, RECORDING)
        self.assertEqual(os.stat(os.path.join(root, "var/lib/tancredi/data/scopes")).st_uid, 48)
        db = sqlite3.connect(os.path.join(root, "var/lib/asterisk/astdb.sqlite3"))
        keys = [k for (k,) in db.execute("SELECT key FROM astdb")]
        db.close()
        for family in ("/SIP/", "/RG/", "/BLKVM/", "/FM/", "/dundi/", "//", "/IAX/", "/CALLTRACE/",
                       "/ccss/last_number", "/AMPUSER/", "/DEVICE/"):
            self.assertTrue(any(k.startswith(family) for k in keys), family)
        with open(os.path.join(root, "etc/phonebook/sources.d/csv_customers.json")) as f:
            self.assertIn("/var/lib/nethserver/nethvoice/phonebook/uploads/", json.dumps(json.load(f)))

    def test_generator_deterministic_and_sized(self):
        run = util.make_run_dir("ns8m-gen-")
        try:
            listings = []
            for name in ("a", "b"):
                m = NS7Root(os.path.join(run, name), files=3000, total_bytes=500_000_000, seed=5).build()
                self.assertEqual((m.files, m.bytes), (3000, 500_000_000))
                out = subprocess.run(["find", ".", "-type", "f", "-printf", "%P %s\\n"], cwd=os.path.join(run, name),
                                     capture_output=True, text=True, check=True).stdout
                listings.append(sorted(line for line in out.splitlines()
                                       if ".my.cnf" not in line and "secrets/" not in line
                                       and "astdb" not in line))
            self.assertEqual(listings[0], listings[1])
        finally:
            util.remove_tree(run)


if __name__ == "__main__":
    unittest.main()


class SupervisorTest(SandboxTestCase):
    """Helper.supervise(): systemd's Restart= and RestartSec= around the helper."""

    sandbox_options = dict(files=300, cdr_rows=50, mariadb=False)

    def test_unit_file_policy(self):
        from harness.helper import restart_policy, restart_wanted, unit_file_path
        policy, sec = restart_policy()
        with open(unit_file_path()) as f:
            text = f.read()
        self.assertEqual(policy, re.search(r"^Restart=(\S+)", text, re.M).group(1)
                         if re.search(r"^Restart=", text, re.M) else "no")
        self.assertGreater(sec, 0)
        self.assertTrue(restart_wanted("on-failure", -9))
        self.assertTrue(restart_wanted("on-failure", 1))
        self.assertFalse(restart_wanted("on-failure", 0))
        self.assertFalse(restart_wanted("on-failure", -15))
        self.assertFalse(restart_wanted("no", -9))

    def test_restarts_after_a_crash_only(self):
        helper = self.sb.helper
        self.addCleanup(helper.unsupervise)
        self.assertEqual(helper.supervise("on-failure", 0.5), ("on-failure", 0.5))
        first = helper.pid
        t0 = time.monotonic()
        self.assertEqual(helper.kill_unit(), -9)
        restarts = helper.wait_restarts(1, 30)
        self.assertGreaterEqual(restarts[0][0] - t0, 0.5)
        self.assertEqual(restarts[0][1], -9)
        self.assertTrue(helper.alive())
        self.assertNotEqual(helper.pid, first)
        self.assertHelperAnswers("after the restart")
        # A clean end (SIGTERM, as `systemctl stop`) is not restarted.
        pid = helper.pid
        os.kill(pid, 15)
        deadline = time.monotonic() + 30
        while helper.proc is not None and helper.proc.poll() is None:
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.1)
        time.sleep(1.5)
        self.assertEqual(len(helper.restarts), 1)
        self.assertFalse(helper.alive())
        helper.start()
        # stop() ends the supervision.
        helper.supervise("on-failure", 0.2)
        helper.stop()
        self.assertFalse(helper.supervised())
        time.sleep(1)
        self.assertFalse(helper.alive())
        helper.start()
