"""Schedules against the simulator (issue #19): Syncs the helper runs by
itself every minute (one fails, the helper restarts, one is skipped while a
manual Sync runs, and the schedule goes on), and a Finish at a set time (one
refused while Preflight has a blocker, one cancelled, one blocked at its
time by a blocker that came later, and one that runs with a sync before it).

One timeline on one cluster: the Finish cases that need no minute of their
own happen between the scheduled syncs."""

import os
import sqlite3
import time
import unittest

import dbus

from clusterfixture import ERR, GOOD, MigrationTestCase
from harness.client import JOB_IFACE

MINUTE = dbus.UInt32(1)


def now_us():
    return int(time.time() * 1_000_000)


class ScheduleTest(MigrationTestCase):

    def schedule(self):
        return self.app()["Schedule"]

    def finish_schedule(self):
        return self.app()["ScheduledFinish"]

    def wait_schedule(self, pred, what, timeout):
        deadline = time.monotonic() + timeout
        while True:
            s = self.schedule()
            if pred(s):
                return s
            self.assertLess(time.monotonic(), deadline, "%s: %s" % (what, s))
            time.sleep(0.5)

    def wait_finish_state(self, states, timeout):
        deadline = time.monotonic() + timeout
        while True:
            f = self.finish_schedule()
            if f.get("state") in states:
                return f
            self.assertLess(time.monotonic(), deadline, "the scheduled Finish is still %s" % f)
            time.sleep(0.5)

    def run_ended(self, runs, outcome, timeout=100):
        """The RUNS-th scheduled run has ended with OUTCOME: its job, if any."""
        s = self.wait_schedule(lambda s: s.get("runs", 0) + s.get("skipped", 0) >= runs
                               and s.get("last_outcome") not in ("", "running"),
                               "run %d of the schedule" % runs, timeout)
        self.assertEqual(s["last_outcome"], outcome, s)
        self.assertGreater(s["next_run"], now_us(), "the next run is armed")
        return s

    def finish_jobs(self):
        db = sqlite3.connect("file:%s?mode=ro" % os.path.join(self.sb.state_dir, "state.db"), uri=True, timeout=10)
        try:
            return db.execute("SELECT id, status FROM jobs WHERE operation='finish'").fetchall()
        finally:
            db.close()

    def sleep_until(self, usec, before=0.0):
        time.sleep(max(0.0, usec / 1e6 - time.time() - before))

    def test_schedules(self):
        self.start()
        mid = self.app()["ModuleId"]
        syncs = len(self.app()["SyncHistory"])

        # Wrong settings are refused before anything changes.
        err, msg = self.app_call("SetSchedule", "a{sv}", [{"kind": "interval", "interval": dbus.UInt32(0)}])
        self.assertEqual(err, ERR + "InvalidArgument", msg)
        self.assertIn("interval", msg)
        self.assertEqual(self.schedule(), {})

        # Every minute.  The first run meets a full disk on NS8: it fails,
        # visibly, and the schedule goes on.
        self.cluster.control.fault("disk_full", module=mid)
        newdir = os.path.join(self.sb.root, "var/spool/asterisk/monitor/2099/04/04")
        os.makedirs(newdir, exist_ok=True)
        big = os.path.join(newdir, "scheduled.wav")
        with open(big, "wb") as f:
            f.write(os.urandom(8_000_000))
        err, msg = self.app_call("SetSchedule", "a{sv}", [{"kind": "interval", "interval": MINUTE}])
        self.assertIsNone(err, msg)
        s = self.schedule()
        self.assertEqual((s["kind"], s["interval"], s["created_by"]), ("interval", 1, 0), s)
        self.assertAlmostEqual(s["next_run"] / 1e6, time.time() + 60, delta=5)
        s = self.run_ended(1, "failed")
        self.assertIn("disk", s["last_message"])
        self.assertTrue(s["last_message_texts"], "the failure by id, for the page")
        job = self.bus.get_all(s["last_job"], JOB_IFACE)
        self.assertEqual((job["Operation"], job["Success"], job["StartedByUID"]), ("sync", False, 0), job)
        self.assertIn("Scheduled sync", job["Message"])
        self.assertIn("scheduled sync failed", self.read_log())
        self.cluster.control.clear_fault(kind="disk_full")
        second = s["next_run"]

        # A restart: the schedule is read back and armed for the same minute.
        self.assertEqual(self.sb.helper.stop(timeout=30), 0)
        self.sb.helper.extra_args = list(self.with_ca)
        self.sb.helper.start()
        s = self.schedule()
        self.assertEqual((s["kind"], s["runs"], s["failures"], s["next_run"]), ("interval", 1, 1, second), s)

        # Meanwhile, a Finish: refused while Preflight has a blocker (the API
        # refuses the migration account), exactly as Finish is.
        when = now_us() + 25_000_000
        options = dict(GOOD, accept_warnings=True, presync_lead=dbus.UInt32(0))
        self.cluster.control.fault("http_status", status=401, path="login", count=1000)
        err, msg = self.app_call("ScheduleFinish", "ta{sv}", [when, options])
        self.assertEqual(err, ERR + "PreflightFailed", msg)
        self.assertEqual(self.finish_schedule(), {})
        self.cluster.control.reset_faults()
        # One scheduled, then cancelled: it never runs.
        err, msg = self.app_call("ScheduleFinish", "ta{sv}", [now_us() + 10_000_000, options])
        self.assertIsNone(err, msg)
        self.assertEqual(self.finish_schedule()["state"], "scheduled")
        err, msg = self.app_call("CancelScheduledFinish", "", [])
        self.assertIsNone(err, msg)
        self.assertEqual(self.finish_schedule()["state"], "cancelled")
        err, msg = self.app_call("CancelScheduledFinish", "", [])
        self.assertEqual(err, ERR + "WrongState", msg)
        # One whose blocker comes after it was scheduled: at its time
        # Preflight runs again, and it does not start; the reason is kept.
        err, msg = self.app_call("ScheduleFinish", "ta{sv}", [now_us() + 20_000_000, options])
        self.assertIsNone(err, msg)
        self.cluster.control.fault("http_status", status=401, path="login", count=1000)
        f = self.wait_finish_state({"blocked", "started"}, 60)
        self.cluster.control.reset_faults()
        self.assertEqual(f["state"], "blocked", f)
        self.assertIn("refused", f["reason"])
        self.assertIn("preflight.refused", [t[0].rsplit(".", 1)[0] for t in f["reason_texts"]], f)
        self.assertEqual(self.app()["Status"], "migrating")
        self.assertEqual(self.finish_jobs(), [], "neither the cancelled nor the blocked Finish ran")

        # The second run, after the restart and the failure, succeeds.
        s = self.run_ended(2, "succeeded", timeout=120)
        self.assertEqual(len(self.app()["SyncHistory"]), syncs + 1, "recorded in the history like a Sync")

        # The third comes while a manual Sync runs (its first transfer held
        # at the receiver): skipped, said why, and the next one armed.
        self.sleep_until(s["next_run"], before=8)
        self.cluster.control.fault("hold_receiver", module=mid, request="data/")
        err, manual = self.app_call("Sync", "a{sv}", [{}])
        self.assertIsNone(err, manual)
        s = self.run_ended(3, "skipped", timeout=60)
        self.assertIn("busy", s["last_message"])
        self.assertEqual(s["last_job"], "")
        self.cluster.control.clear_fault(kind="hold_receiver")
        self.assertTrue(self.wait(manual, 120)["Success"])
        self.assertIn("skipped", self.read_log())

        # Removed: nothing is armed any more.
        err, msg = self.app_call("SetSchedule", "a{sv}", [{}])
        self.assertIsNone(err, msg)
        self.assertEqual(self.schedule(), {})
        os.unlink(big)

        # A Finish a minute ahead, with a sync 30 s before it: both run on
        # their own, the Finish at its time, as the uid that scheduled it.
        when = now_us() + 60_000_000
        err, msg = self.app_call("ScheduleFinish", "ta{sv}", [when, dict(options, presync_lead=dbus.UInt32(30))])
        self.assertIsNone(err, msg)
        f = self.finish_schedule()
        self.assertEqual((f["when"], f["presync_at"]), (when, when - 30_000_000), f)
        self.assertTrue(f["accepted_warnings"], "the sample NS7's warnings, accepted")
        f = self.wait_finish_state({"presync"}, 45)
        presync = self.bus.get_all(f["job"], JOB_IFACE)
        self.assertEqual(presync["Operation"], "sync")
        f = self.wait_finish_state({"started", "blocked", "failed"}, 75)
        self.assertEqual(f["state"], "started", f)
        self.assertGreaterEqual(now_us(), when)
        job = self.bus.get_all(f["job"], JOB_IFACE)
        self.assertEqual((job["Operation"], job["StartedByUID"]), ("finish", 0))
        self.assertGreaterEqual(job["StartTime"], when)
        self.assertTrue(self.wait(f["job"], 300)["Success"])
        self.assertEqual(self.wait_finish_state({"succeeded", "failed"}, 10)["state"], "succeeded")
        self.assertEqual(self.app()["Status"], "migrated")
        err, msg = self.app_call("CancelScheduledFinish", "", [])
        self.assertEqual(err, ERR + "WrongState", msg)


if __name__ == "__main__":
    unittest.main()
