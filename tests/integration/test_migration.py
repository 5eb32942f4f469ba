"""App.Start, App.Sync, App.Abort, App.Skip and App.CheckOptions of NethVoice,
against the simulated NS8 cluster: real rsync receivers over a real
WireGuard tunnel.  What lands in the module is compared with NETHVOICE.md's
table, written out in ns7expect.py independently of the helper's profile."""

import os
import signal
import sqlite3
import subprocess
import time

import dbus

from clusterfixture import ERR, GOOD, ROOT, USER_DOMAIN, MigrationTestCase
from ns7expect import expected as ns7_expected, tree
from harness.client import JOB_IFACE, MANAGER_IFACE
from harness.ldap import NS7Directory
from harness.polkit import MIGRATE_OPERATOR, MIGRATE_OPERATOR_RULES, UNPRIVILEGED_USER


class MigrationTest(MigrationTestCase):
    CLUSTER = {"nodes": 1, "modules": [], "task_delay": 0.1}
    # directory: NS7's local OpenLDAP is a real slapd (harness.ldap)
    SANDBOX = {"files": 3000, "cdr_rows": 200, "polkit_rules": MIGRATE_OPERATOR_RULES,
               "directory": "ldap"}

    def test_temporary_domain_answers_from_ns8(self):
        """Connect's temporary external domain (NS7's VPN address, ldaps 636)
        reaches NS7's slapd through the tunnel, as NethVoice on NS8 reads it."""
        out = self.cluster.control.domain_search(USER_DOMAIN, filter="(objectClass=posixAccount)",
                                                 attrs=["uid"])
        self.assertTrue(out["ok"], out)
        self.assertEqual(out["url"], "ldaps://%s:636/" % self.manager()["VpnAddress"])
        self.assertEqual({e["uid"][0] for e in out["entries"]}, set(NS7Directory.USERS))

    # -- helpers -------------------------------------------------------------
    def sync_moving(self, bwlimit, timeout):
        """A Sync limited to BWLIMIT KiB/s, returned once it moves data."""
        err, job = self.app_call("Sync", "a{sv}", [{"bwlimit": dbus.UInt32(bwlimit)}])
        self.assertIsNone(err, job)
        deadline = time.monotonic() + timeout
        while self.bus.get(job, JOB_IFACE, "Bytes") == 0:
            self.assertLess(time.monotonic(), deadline, "the sync did not start moving data")
            time.sleep(0.1)
        return job

    def expected(self):
        """What NETHVOICE.md says the module's /srv holds: {path: (sha, uid, gid)}."""
        return ns7_expected(self.sb.root)

    def received(self):
        srv = self.module()["srv"]
        return {rel: v for rel, v in tree(srv).items() if rel.startswith("volumes/")}

    def assert_module_matches_ns7(self):
        expected, got = self.expected(), self.received()
        missing = sorted(set(expected) - set(got))
        extra = sorted(set(got) - set(expected))
        wrong = sorted(p for p in set(expected) & set(got) if expected[p] != got[p])
        self.assertEqual((missing[:5], extra[:5], wrong[:5]), ([], [], []),
                         "%d missing, %d extra, %d different" % (len(missing), len(extra), len(wrong)))

    def ns7_snapshot(self):
        # Everything but the migration's own log, which the helper appends to.
        return {p: v for p, v in tree(self.sb.root).items() if p != "var/log/ns8-migration.log"}

    # -- tests ---------------------------------------------------------------
    def test_bad_fqdns_are_refused_before_any_change(self):
        seq = self.request_count()
        cases = [
            ({"nethvoice_host": "https://voice.example.test"}, "nethvoice_host: ", "https://"),
            ({"nethvoice_host": "voice"}, "nethvoice_host: ", "no domain"),
            ({"nethvoice_host": "192.0.2.80"}, "nethvoice_host: ", "IP address"),
            ({"nethcti_ui_host": GOOD["nethvoice_host"]}, "nethcti_ui_host", "must differ"),
            ({"nethvoice_host": "v" * 300 + ".example.test"}, "", "too long"),
            ({"nethcti_ui_host": ""}, "nethcti_ui_host: ", "required"),
        ]
        for fields, prefix, words in cases:
            values = dict(GOOD)
            values.update(fields)
            err, msg = self.app_call("Start", "a{sv}", [values])
            self.assertEqual(err, ERR + "InvalidArgument", (fields, msg))
            self.assertTrue(msg.startswith(prefix) or prefix in msg, msg)
            self.assertIn(words, msg)
        err, msg = self.app_call("Start", "a{sv}", [dict(GOOD, colour="red")])
        self.assertEqual(err, ERR + "InvalidArgument")
        # As you type: field → problem, nothing else.
        err, problems = self.app_call("CheckOptions", "sa{sv}", ["Start", {"nethvoice_host": "https://x.example"}])
        self.assertIsNone(err, problems)
        self.assertEqual(list(problems), ["nethvoice_host"])
        self.assertIn("is a URL", problems["nethvoice_host"])
        # The same by id, for a page in another language: (id, template, args).
        err, texts = self.app_call("CheckOptionTexts", "sa{sv}", ["Start", {"nethvoice_host": "https://x.example"}])
        self.assertIsNone(err, texts)
        text_id, template, args = texts["nethvoice_host"]
        self.assertEqual((text_id, list(args)), ("field.fqdn.url", ["https://x.example", "https", "x.example"]))
        filled = template.replace("%1", args[0]).replace("%2", args[1]).replace("%3", args[2])
        self.assertEqual(filled, problems["nethvoice_host"])
        err, problems = self.app_call("CheckOptions", "sa{sv}", ["Start", dict(GOOD)])
        self.assertEqual(problems, {})
        self.assertEqual(self.app()["Status"], "not_migrated")
        actions = [r.get("action") for r in self.cluster.control.requests(since=seq)]
        self.assertNotIn("import-module", actions)
        self.assertNotIn("add-module", actions)

    def test_preflight_gates_start(self):
        # Warnings not accepted: Start is refused with the list, nothing is
        # created on NS8 and the app is as before.
        seq = self.request_count()
        err, msg = self.app_call("Start", "a{sv}", [dict(GOOD)])
        self.assertEqual(err, ERR + "PreflightFailed", msg)
        self.assertIn("accept_warnings", msg)
        self.assertIn("[backup]", msg)
        self.assertEqual(self.app()["Status"], "not_migrated")
        actions = [r.get("action") for r in self.cluster.control.requests(since=seq)]
        for mutating in ("import-module", "add-module", "configure-module", "remove-module"):
            self.assertNotIn(mutating, actions)

    def test_skip(self):
        self.assertIsNone(self.app_call("Skip", "b", [True])[0])
        self.assertEqual(self.app()["Status"], "skipped")
        err, msg = self.app_call("Start", "a{sv}", [dict(GOOD)])
        self.assertEqual(err, ERR + "WrongState")
        self.assertIsNone(self.app_call("Skip", "b", [False])[0])
        self.assertEqual(self.app()["Status"], "not_migrated")

    def remove_proxies(self):
        token = self.cluster.login()
        for m in self.cluster.control.state()["modules"]:
            if m["image"] == "nethvoice-proxy":
                self.cluster.run_task("cluster", "remove-module",
                                      {"module_id": m["id"], "preserve_data": False}, token=token)

    def test_start_sync_abort(self):
        self.remove_proxies()  # a Start of an earlier test installed it
        ns7_before = self.ns7_snapshot()
        props = self.start()
        self.assertEqual(props["Operation"], "start")
        app = self.app()
        self.assertEqual(app["Status"], "migrating")
        module = self.module()
        self.assertEqual(app["ModuleId"], module["id"])
        self.assertEqual(app["Node"], 1)
        self.assertEqual(app["Settings"]["nethvoice_host"], GOOD["nethvoice_host"])
        # The proxy was missing on the node: installed, and the administrator told.
        proxies = [m for m in self.cluster.control.state()["modules"] if m["image"] == "nethvoice-proxy"]
        self.assertEqual(len(proxies), 1)
        self.assertTrue(any("Proxy" in n for n in app["Notices"]), app["Notices"])
        self.assert_module_matches_ns7()
        self.assertEqual(len(app["SyncHistory"]), 1)
        first_bytes = app["LastSyncBytes"]
        self.assertGreater(first_bytes, 100_000)
        self.assertGreater(app["LastSyncDuration"], 0)

        # While a migration is under way, leaving the cluster is refused.
        err, msg = self.bus.call_error(ROOT, MANAGER_IFACE, "Disconnect", "a{sv}", [{}])
        self.assertEqual(err, ERR + "MigrationInProgress", msg)

        # NS7 keeps working: a new recording, a deleted voicemail, a changed config.
        root = self.sb.root
        rec = os.path.join(root, "var/spool/asterisk/monitor/2099/01/01")
        os.makedirs(rec, exist_ok=True)
        with open(os.path.join(rec, "in-201-3331234567-20990101-101010-1.1.wav"), "wb") as f:
            f.write(os.urandom(200_000))
        vm = [os.path.join(d, n) for d, _, fs in os.walk(os.path.join(root, "var/spool/asterisk/voicemail"))
              for n in fs][0]
        os.unlink(vm)
        with open(os.path.join(root, "etc/asterisk/extensions_custom.conf"), "a") as f:
            f.write("\n; changed on NS7\n")
        props = self.run_ok("Sync", "a{sv}", [{}])
        self.assertEqual(props["Operation"], "sync")
        self.assert_module_matches_ns7()
        app = self.app()
        self.assertEqual(app["Status"], "migrating")
        self.assertEqual(len(app["SyncHistory"]), 2)
        self.assertLess(app["LastSyncBytes"], first_bytes / 2, "the second sync copied far more than what changed")
        self.assertGreater(app["EstimatedDowntime"], 0)
        log = self.read_log()
        self.assertIn("sync of NethVoice done", log)

        # Abort: NS8 loses the module, NS7 keeps every byte.
        ns7_before_abort = self.ns7_snapshot()
        props = self.run_ok("Abort", "a{sv}", [{}])
        self.assertEqual([m for m in self.cluster.control.state()["modules"] if m["image"] == "nethvoice"], [])
        self.assertEqual(self.ns7_snapshot(), ns7_before_abort)
        app = self.app()
        self.assertEqual((app["Status"], app["ModuleId"], app["SyncHistory"]), ("not_migrated", "", []))
        self.assertNotEqual(ns7_before, ns7_before_abort)  # the test did change NS7 itself
        err, msg = self.app_call("Abort", "a{sv}", [{}])
        self.assertEqual(err, ERR + "WrongState")

    def test_cancel_and_kill_during_sync(self):
        self.start()
        # A slow sync (bandwidth limit) canceled half way.
        big = os.path.join(self.sb.root, "var/spool/asterisk/monitor/2099/02/02")
        os.makedirs(big, exist_ok=True)
        for i in range(4):
            with open(os.path.join(big, "out-202-%d.wav" % i), "wb") as f:
                f.write(os.urandom(3_000_000))
        job = self.sync_moving(500, 30)
        self.assertEqual(self.app()["Status"], "syncing")
        # Cancel needs what starting a Sync needs (issue #17, row 10): a
        # user without it is refused, an operator with .migrate only cancels.
        r = self.bus.call_as(UNPRIVILEGED_USER, job, JOB_IFACE, "Cancel", "a{sv}", [{}])
        self.assertEqual(r.error_name, ERR + "NotAuthorized", r)
        self.assertFalse(self.bus.get(job, JOB_IFACE, "Finished"), "a refused Cancel ended the sync")
        r = self.bus.call_as(MIGRATE_OPERATOR, job, JOB_IFACE, "Cancel", "a{sv}", [{}])
        self.assertTrue(r.ok, f"the .migrate operator could not cancel the Sync: {r}")
        props = self.wait(job, 30)
        self.assertFalse(props["Success"])
        self.assertEqual(props["ErrorName"], ERR + "Canceled")
        self.assertEqual(self.app()["Status"], "migrating")
        module = self.app()["ModuleId"]
        self.assertEqual(self.senders(module), [], "an rsync is still running")
        # Killed in the middle of a sync: restarted, the app can sync again.
        err, job = self.app_call("Sync", "a{sv}", [{"bwlimit": dbus.UInt32(500)}])
        self.assertIsNone(err, job)
        time.sleep(2)
        self.sb.helper.kill()
        # The helper's rsync children die with it on a real system (systemd
        # stops the whole unit); here they are the test's to stop.
        for pid in self.senders(module):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        self.sb.helper.start()
        self.assertEqual(self.app()["Status"], "migrating")
        db = sqlite3.connect(os.path.join(self.sb.state_dir, "state.db"))
        status = db.execute("SELECT status FROM jobs WHERE id=?", (int(job.rsplit("/", 1)[1]),)).fetchone()[0]
        db.close()
        self.assertEqual(status, "failed")
        self.run_ok("Sync", "a{sv}", [{}])
        self.assert_module_matches_ns7()

    def test_vanished_file_is_a_warning(self):
        # A live PBX removes files while they are being copied (a voicemail
        # listened to and deleted): rsync's exit 24 is a warning, the sync
        # succeeds and says which file.
        self.start()
        spool = os.path.join(self.sb.root, "var/spool/asterisk/voicemail/default/201/INBOX")
        os.makedirs(spool, exist_ok=True)
        for i in range(12):
            with open(os.path.join(spool, "msg%04d.wav" % i), "wb") as f:
                f.write(os.urandom(100_000))
        victim = os.path.join(spool, "msg0011.wav")
        job = self.sync_moving(200, 60)
        os.unlink(victim)
        props = self.wait(job, 240)
        self.assertTrue(props["Success"], props["Message"])
        self.assertIn("vanished", props["Message"])
        self.assertIn("msg0011.wav", props["Message"])
        history = self.app()["SyncHistory"]
        self.assertEqual(history[-1][4], 1, "the sync is recorded with one warning")
        self.assertIn("vanished", self.read_log())
        # The next sync is clean and NS8 matches NS7 (the file is gone on both).
        props = self.run_ok("Sync", "a{sv}", [{}])
        self.assertNotIn("vanished", props["Message"])
        self.assert_module_matches_ns7()

    def test_failures_then_successful_retry(self):
        self.start()
        # The VPN cut during a sync.
        self.cluster.control.fault("vpn_cut")
        err, job = self.app_call("Sync", "a{sv}", [{}])
        self.assertIsNone(err, job)
        props = self.wait(job, 240)
        self.assertFalse(props["Success"])
        self.assertIn("VPN", props["Message"])
        self.cluster.control.clear_fault(kind="vpn_cut")
        deadline = time.monotonic() + 60
        while self.in_ns7("ping", "-c", "1", "-W", "1", self.cluster.leader_vpn_ip).returncode != 0:
            self.assertLess(time.monotonic(), deadline, "the VPN did not come back")
        self.run_ok("Sync", "a{sv}", [{}])
        # The receiver's disk fills up.
        mid = self.app()["ModuleId"]
        self.cluster.control.fault("disk_full", module=mid)
        newdir = os.path.join(self.sb.root, "var/spool/asterisk/monitor/2099/03/03")
        os.makedirs(newdir, exist_ok=True)
        with open(os.path.join(newdir, "big.wav"), "wb") as f:
            f.write(os.urandom(8_000_000))
        err, job = self.app_call("Sync", "a{sv}", [{}])
        props = self.wait(job, 120)
        self.assertFalse(props["Success"])
        self.assertIn("disk", props["Message"])
        self.cluster.control.clear_fault(kind="disk_full")
        self.run_ok("Sync", "a{sv}", [{}])
        # The receiver was stopped (reading /terminate does that): Sync starts it again.
        db = sqlite3.connect(os.path.join(self.sb.state_dir, "state.db"))
        address, port, user = db.execute(
            "SELECT address, port, rsync_user FROM migrations WHERE app='nethvoice'").fetchone()
        db.close()
        with open(os.path.join(self.sb.state_dir, "secrets", "nethvoice.rsync")) as f:
            password = f.read().strip()
        p = subprocess.run(["ip", "netns", "exec", self.ns7, "rsync", "rsync://%s@%s:%d/terminate" % (user, address, port)],
                           env={"RSYNC_PASSWORD": password, "PATH": "/usr/bin:/bin"}, capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        deadline = time.monotonic() + 20
        while self.in_ns7("rsync", "--contimeout=2", "rsync://%s:%d/" % (address, port)).returncode == 0:
            self.assertLess(time.monotonic(), deadline, "the receiver did not stop")
            time.sleep(0.5)
        self.run_ok("Sync", "a{sv}", [{}])
        self.assert_module_matches_ns7()
        self.assertIn("restarting it", self.read_log())
