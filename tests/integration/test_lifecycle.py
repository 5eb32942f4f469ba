"""The helper's jobs when something comes in between (issue #17): a
Disconnect or a Skip while Start's checks run, and a Connect cut short by
SIGKILL or SIGTERM once NS8 holds its node and its account.

A join is not left half done: killed, the helper removes at its next start
what the Connect had created (it records its progress before each call to
NS8); stopped with SIGTERM, it undoes the Connect before it exits."""

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import tempfile
import threading
import time

from clusterfixture import ERR, GOOD, ROOT, ConnectTestCase, MigrationTestCase
from harness.client import JOB_IFACE, MANAGER_IFACE, BusClient
from harness.systemd_standin import NETHVOICE_UNITS
from test_finish import CHANGES_UNITS, QUIESCE, FinishTestCase

APP = ROOT + "/apps/nethvoice"


class InterruptedConnectTest(ConnectTestCase):
    """SIGKILL and SIGTERM while Connect waits for the WireGuard handshake:
    NS8 holds this server's node and migration account, NS7 the tunnel,
    its firewall zone and the secrets."""

    CLUSTER = {"nodes": 1, "modules": []}


    def secrets(self):
        d = os.path.join(self.sb.state_dir, "secrets")
        return sorted(os.listdir(d)) if os.path.isdir(d) else []

    def link_exists(self):
        return self.in_ns7("ip", "link", "show", "ns8").returncode == 0

    def ours(self):
        """This server's node and account on NS8: ([node ids], [users])."""
        state = self.cluster.control.state()
        nodes = [n["id"] for n in state["nodes"] if n["role"] == "ns7migration"]
        users = [u["user"] for u in state["users"] if u["user"].startswith("ns7admin")]
        return nodes, users

    def connect_until_the_tunnel(self):
        """A Connect held where it waits for the leader's handshake: (job, node id)."""
        self.cluster.control.fault("hold_peer")
        err, job = self.connect()
        self.assertIsNone(err, job)
        deadline = time.monotonic() + 60
        while True:
            props = self.bus.get_all(job, JOB_IFACE)
            self.assertFalse(props["Finished"], props)
            nodes, users = self.ours()
            if props["CurrentStep"] == "firewall" and self.link_exists() and nodes and users:
                break
            self.assertLess(time.monotonic(), deadline, "Connect did not reach the tunnel: %s" % props)
            time.sleep(0.1)
        self.assertEqual(users, ["ns7admin%d" % nodes[0]])
        self.assertEqual(self.secrets(), ["account", "wireguard.key"])
        time.sleep(0.5)  # the firewall event has run; the handshake is awaited
        return job, nodes[0]

    def assert_nothing_left(self):
        self.assertEqual(self.ours(), ([], []))
        now = self.cluster.control.state()
        self.assertEqual([d["name"] for d in now["domains"]], [d["name"] for d in self.before["domains"]])
        self.assertEqual(self.secrets(), [])
        self.assertFalse(self.link_exists(), "the ns8 interface is still there")
        self.assertEqual(self.sb.ns7.db()["ns8-migration"][1].get("Tunnel"), "disabled")

    def test_sigkill_during_the_tunnel_is_undone_at_the_next_start(self):
        job, node = self.connect_until_the_tunnel()
        self.sb.helper.kill()
        self.cluster.control.clear_fault(kind="hold_peer")
        self.assertEqual(self.ours(), ([node], ["ns7admin%d" % node]), "the kill removed something by itself")

        # Started again (systemd's Restart=, or the next call on the bus):
        # with no call, it removes what the Connect had created.
        self.sb.helper.extra_args = list(self.with_ca)
        self.sb.helper.start()
        deadline = time.monotonic() + 60
        while self.manager()["State"] != "disconnected" or self.ours() != ([], []):
            self.assertLess(time.monotonic(), deadline, "not undone after the restart: %s %s"
                            % (self.manager()["State"], self.ours()))
            time.sleep(0.3)
        self.assert_nothing_left()
        m = self.manager()
        self.assertEqual((m["NodeId"], m["Leader"], m["VpnAddress"]), (0, "", ""))
        log = self.read_log()
        self.assertIn("was cut short (node %d, account ns7admin%d)" % (node, node), log)
        self.assertIn("Leave cluster: done", log)

        # And the server can join again.
        self.connect_ok()
        self.assertEqual(self.manager()["State"], "connected")

    def test_sigterm_during_the_tunnel_undoes_it_before_the_exit(self):
        since = len(self.read_log())
        job, node = self.connect_until_the_tunnel()
        # The handshake comes a moment after the SIGTERM: the step under way
        # ends, then the Connect is undone, then the helper exits.
        threading.Timer(1.5, lambda: self.cluster.control.clear_fault(kind="hold_peer")).start()
        t0 = time.monotonic()
        code = self.sb.helper.stop(timeout=90)
        self.assertEqual(code, 0)
        self.assertLess(time.monotonic() - t0, 80)
        # Undone before the exit, nothing waits for the next start.
        self.assert_nothing_left()
        log = self.read_log()[since:]
        self.assertIn("the helper is stopping: undoing the connection", log)
        self.assertIn("undoing: node_id=%d" % node, log)
        self.assertIn("Nothing was left behind on NS8 or on this server", log)

        self.sb.helper.extra_args = list(self.with_ca)
        self.sb.helper.start()
        self.assertEqual(self.manager()["State"], "disconnected")
        self.assertNotIn("was cut short", self.read_log()[since:])


class ChangedWhileCheckingTest(MigrationTestCase):
    """Start's checks (Preflight) ask NS8: a Skip or a Disconnect that comes
    in meanwhile is not ignored, and the helper survives the link's end."""

    def start_in_background(self):
        """Start with slow checks, answered in a thread: (thread, result)."""
        seq = self.request_count()
        self.cluster.control.fault("slow", action="list-modules", agent="cluster", delay=5, count=1)
        result = {}

        def call():
            bus = BusClient(self.bus.address)
            try:
                result["reply"] = bus.call_error(APP, "org.nethserver.Ns8Migration1.App", "Start", "a{sv}",
                                                 [dict(GOOD, accept_warnings=True)], timeout=120)
            finally:
                bus.close()
        t = threading.Thread(target=call)
        t.start()
        self.addCleanup(t.join, 120)
        deadline = time.monotonic() + 30
        while "list-modules" not in [r.get("action") for r in self.cluster.control.requests(since=seq)]:
            self.assertLess(time.monotonic(), deadline, "Start's checks did not ask NS8 for the modules")
            time.sleep(0.1)
        return t, result, seq

    def assert_nothing_created(self, seq):
        actions = [r.get("action") for r in self.cluster.control.requests(since=seq)]
        for mutating in ("import-module", "add-module"):
            self.assertNotIn(mutating, actions)
        self.assertEqual([m for m in self.cluster.control.state()["modules"] if m["image"] == "nethvoice"], [])

    def test_skip_then_disconnect_while_start_checks(self):
        t, result, seq = self.start_in_background()
        self.assertIsNone(self.app_call("Skip", "b", [True])[0])
        t.join(60)
        err, msg = result["reply"]
        self.assertEqual(err, ERR + "WrongState", msg)
        self.assertIn("skipped", msg)
        self.assertEqual(self.app()["Status"], "skipped")
        self.assert_nothing_created(seq)
        self.assertIsNone(self.app_call("Skip", "b", [False])[0])

        t, result, seq = self.start_in_background()
        props = self.disconnect()
        self.assertTrue(props["Success"], props["Message"])
        t.join(60)
        err, msg = result["reply"]
        self.assertEqual(err, ERR + "WrongState", msg)
        self.assertIn("connection to the NS8 cluster changed", msg)
        self.assertTrue(self.sb.helper.alive(), "the helper died when the checks ended")
        self.assertEqual(self.app()["Status"], "not_migrated")
        self.assertEqual(self.bus.get_all(ROOT, MANAGER_IFACE)["State"], "disconnected")
        self.assert_nothing_created(seq)


class FinishLifecycleTest(FinishTestCase):
    """Finish when the state cannot be written, when NS7's services cannot
    be started again, and when the helper is killed (SIGKILL) or stopped
    (SIGTERM) in each of its steps.  (The tests run in name order: the
    first ends with an Abort, the second with NethVoice migrated.)"""

    # -- the helper ------------------------------------------------------------------
    def restart(self):
        self.sb.helper.extra_args = list(self.with_ca)
        self.sb.helper.start()

    def end_helper(self, how):
        if how == "SIGKILL":
            self.assertEqual(self.sb.helper.kill_unit(), -signal.SIGKILL)
        else:
            self.assertEqual(self.sb.helper.term_unit(), 0)

    def phase(self):
        """(phase, stopped units, configure task) of the saved Finish."""
        (finish,), = self.state_rows_db("SELECT finish FROM migrations WHERE app='nethvoice'")
        f = json.loads(finish)
        return f.get("phase", 0), f.get("stopped", []), f.get("configure_task", "")

    def wait_quiesced_back(self, why):
        deadline = time.monotonic() + 60
        while [n for n in QUIESCE if NETHVOICE_UNITS[n]["ActiveState"] == "active"
               and self.unit(n)["ActiveState"] != "active"]:
            self.assertLess(time.monotonic(), deadline, "NS7's services not back after %s" % why)
            time.sleep(0.2)

    # -- a full state database ---------------------------------------------------------
    def state_on_a_small_disk(self):
        """The state directory on a 320 MiB file system of its own (the room
        Preflight asks for the dumps; the dumps' apps/ stays on the big one):
        the helper is restarted onto it."""
        state = self.sb.state_dir
        self.sb.helper.stop()
        keep = tempfile.mkdtemp(prefix="state-", dir=self.sb.run_dir)
        apps = tempfile.mkdtemp(prefix="apps-", dir=self.sb.run_dir)
        subprocess.run(["cp", "-a", state + "/.", keep], check=True)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=320m,mode=0700", "tmpfs", state], check=True)

        def back():
            if self.sb.helper.alive():
                self.sb.helper.stop()
            subprocess.run(["umount", os.path.join(state, "apps")], check=True)
            subprocess.run(["cp", "-a", state + "/.", keep], check=True)
            subprocess.run(["umount", state], check=True)
            subprocess.run(["cp", "-a", keep + "/.", state], check=True)
            shutil.rmtree(keep)
            shutil.rmtree(apps)
        self.addCleanup(lambda: os.path.ismount(state) and back())
        subprocess.run(["cp", "-a", keep + "/.", state], check=True)
        subprocess.run(["cp", "-a", os.path.join(state, "apps") + "/.", apps], check=True)
        subprocess.run(["mount", "--bind", apps, os.path.join(state, "apps")], check=True)
        self.restart()
        return back

    def test_a_full_state_disk_and_services_that_do_not_start(self):
        self.start()
        mid = self.app()["ModuleId"]

        # Row 6: the record of the stop cannot be written (the disk of the
        # state database is full when Finish records what it stops): nothing
        # is stopped.  The disk fills up exactly then: a trigger makes that
        # write need 400 MiB more on a 320 MiB file system.
        back = self.state_on_a_small_disk()
        db = sqlite3.connect(os.path.join(self.sb.state_dir, "state.db"), timeout=10)
        db.executescript("""
            CREATE TABLE ballast (b BLOB);
            CREATE TRIGGER fill_the_disk BEFORE INSERT ON migrations
              WHEN instr(NEW.finish, '"phase":1,') > 0
              BEGIN INSERT INTO ballast VALUES (zeroblob(400 * 1024 * 1024)); END;""")
        db.close()
        n_calls = len(self.calls())
        seq = self.request_count()
        err, job = self.finish_call({"accept_warnings": True})
        self.assertIsNone(err, job)
        props = self.wait(job, 600)
        self.assertFalse(props["Success"], props["Message"])
        self.assertIn("Nothing was stopped", props["Message"])
        self.assertIn("full", props["Message"])
        self.assertEqual([c for c in self.calls(n_calls) if c["method"] in CHANGES_UNITS], [])
        self.assertEqual(self.configure_requests(seq), [])
        self.assertEqual(self.app()["Status"], "migrating")
        self.assert_not_finished(n_calls)
        db = sqlite3.connect(os.path.join(self.sb.state_dir, "state.db"), timeout=10)
        db.executescript("DROP TRIGGER fill_the_disk; DROP TABLE ballast;")
        db.close()
        back()
        self.restart()
        self.assertEqual(self.phase()[0], 0)

        # Row 5: Finish fails after the stop and asterisk does not start
        # again: the record keeps it; Abort starts it first, or fails saying
        # what to do, with nothing removed from NS8.
        self.cluster.control.fault("fail_action", action="configure-module", agent="module/" + mid, count=1,
                                   exit_code=1, error="refused by the test\n")
        self.sb.systemd.fail_start("asterisk.service")
        self.addCleanup(self.sb.systemd.fail_start, "asterisk.service", False)
        err, job = self.finish_call({"accept_warnings": True})
        self.assertIsNone(err, job)
        props = self.wait(job, 600)
        self.assertFalse(props["Success"])
        self.assertIn("could NOT be started again", props["Message"])
        phase, stopped, _ = self.phase()
        self.assertEqual(phase, 1)
        self.assertIn("asterisk.service", stopped)
        self.assertEqual(self.app()["Status"], "migrating")

        err, job = self.app_call("Abort", "a{sv}", [{}])
        self.assertIsNone(err, job)
        props = self.wait(job, 120)
        self.assertFalse(props["Success"], props["Message"])
        self.assertIn("could not be started again", props["Message"])
        self.assertIn("Abort again", props["Message"])
        self.assertEqual(self.app()["ModuleId"], mid)
        self.assertEqual([m["id"] for m in self.cluster.control.state()["modules"] if m["image"] == "nethvoice"],
                         [mid])
        self.assertIn("asterisk.service", self.phase()[1])

        self.sb.systemd.fail_start("asterisk.service", False)
        n_calls = len(self.calls())
        props = self.run_ok("Abort", "a{sv}", [{}])
        self.assertIn("run again on NS7", props["Message"])
        started = [c["unit"] for c in self.calls(n_calls) if c["method"] == "StartUnit"]
        self.assertIn("asterisk.service", started)
        self.assertEqual(self.unit("asterisk.service")["ActiveState"], "active")
        self.assertEqual(self.app()["Status"], "not_migrated")
        self.assertEqual([m for m in self.cluster.control.state()["modules"] if m["image"] == "nethvoice"], [])

    # -- killed in every step -------------------------------------------------------
    def finish_until(self, mid, step, hold=None):
        """A Finish watched until its current step is STEP (HOLD: a fault that
        keeps it there, cleared by the caller): the job."""
        if hold:
            self.cluster.control.fault(*hold[0], **hold[1])
        err, job = self.finish_call({"accept_warnings": True})
        self.assertIsNone(err, job)
        deadline = time.monotonic() + 300
        while self.bus.get(job, JOB_IFACE, "CurrentStep") != step:
            props = self.bus.get_all(job, JOB_IFACE)
            self.assertFalse(props["Finished"], (step, props))
            self.assertLess(time.monotonic(), deadline, "Finish did not reach %s" % step)
            time.sleep(0.02)
        return job

    def killed_before_configure(self, mid, step, how, hold=None):
        """Killed in STEP, before configure-module: restarted, NS7 runs again
        and the migration is where it was."""
        self.finish_until(mid, step, hold)
        self.end_helper(how)
        self.cluster.control.reset_faults()
        self.restart()
        self.wait_quiesced_back("%s in %s" % (how, step))
        self.assertEqual(self.app()["Status"], "migrating", (how, step))
        self.assertEqual(self.phase()[0], 0, (how, step))
        self.assert_back_the_ns7_way()

    def test_b_killed_in_every_step_then_retried(self):
        self.start()
        mid = self.app()["ModuleId"]
        for how in ("SIGKILL", "SIGTERM"):
            self.killed_before_configure(mid, "dump", how)
            self.killed_before_configure(mid, "upload", how, (("hold_receiver",), {
                "module": mid, "request": "data/state/restore/"}))
            # After /terminate: NS8 restores the dumps (the receiver is gone).
            self.killed_before_configure(mid, "import", how)

        # During configure-module: NS8 may come up, NS7's writers stay
        # stopped; the next Finish waits for that same task.
        seq = self.request_count()
        self.finish_until(mid, "configure", (("slow",), {"action": "configure-module", "agent": "module/" + mid,
                                                        "delay": 20, "count": 1}))
        # Submitted, and its task recorded (a kill before that record: the
        # retry submits it again).
        deadline = time.monotonic() + 60
        while not (self.configure_requests(seq) and self.phase()[2]):
            self.assertLess(time.monotonic(), deadline, "configure-module not submitted and recorded")
            time.sleep(0.1)
        self.assertEqual(self.phase()[0], 3)
        for how in ("SIGKILL", "SIGTERM"):
            self.end_helper(how)
            self.restart()
            time.sleep(1)
            self.assertEqual(self.phase()[0], 3, how)
            self.assertEqual([n for n in QUIESCE if self.unit(n)["ActiveState"] == "active"], [], how)
            if how == "SIGKILL":
                self.finish_until(mid, "configure")
        # Between configure-module's success and the record of it: the
        # state database is locked (by the test) when NS8 answers.
        self.finish_until(mid, "configure")
        lock = sqlite3.connect(os.path.join(self.sb.state_dir, "state.db"), timeout=10, isolation_level=None)
        lock.execute("BEGIN IMMEDIATE")
        (task,) = [t for t in self.cluster.control.state()["tasks"]
                   if t["agent"] == "module/" + mid and t["action"] == "configure-module"][-1:]
        deadline = time.monotonic() + 60
        while self.task_exit_code(mid, task["id"]) is None:
            self.assertLess(time.monotonic(), deadline, "configure-module did not end")
            time.sleep(0.1)
        self.assertEqual(self.task_exit_code(mid, task["id"]), 0)
        time.sleep(0.5)
        self.assertEqual(json.loads(lock.execute("SELECT finish FROM migrations").fetchone()[0])["phase"], 3)
        self.end_helper("SIGKILL")
        lock.execute("ROLLBACK")
        lock.close()
        self.restart()
        self.assertEqual(self.phase()[0], 3)
        self.assertEqual([n for n in QUIESCE if self.unit(n)["ActiveState"] == "active"], [])
        self.assertEqual(len(self.configure_requests(seq)), 1)

        # During the retire: NS8 is in charge, NS7's side is completed.
        for how in ("SIGKILL", "SIGTERM"):
            self.finish_until(mid, "retire")
            self.end_helper(how)
            self.restart()
            self.assertEqual(self.phase()[0], 2, how)
            self.assertEqual(self.app()["Status"], "migrating", how)
            self.assertEqual([n for n in QUIESCE if self.unit(n)["ActiveState"] == "active"], [], how)
        props, _ = self.finish_ok({"accept_warnings": True})
        self.assertEqual(len(self.configure_requests(seq)), 1, "configure-module was submitted twice")
        self.assertEqual(self.app()["Status"], "migrated")
        self.assert_retired_for_good()
        self.assert_dumps_removed()
        module = self.module()
        self.assert_restored(module)
        self.assert_module_databases(module)
        self.assert_configuration(module, GOOD, False)
