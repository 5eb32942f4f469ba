"""App.Scan on a generated NS7: figures, progress, job outcome, log, Cancel."""

import os
import re
import time
import unittest

from harness import APP_IFACE, JOB_IFACE, app_path
from harness.testing import SandboxTestCase, job_id

import expect

APP = app_path("nethvoice")
LOG = os.path.join("var", "log", "ns8-migration.log")
# Big enough that a Scan is still running when a Cancel sent right after it
# arrives (real hosts hold 10^5 - 10^6 recordings).
BIG_TREE_FILES = 100_000


def assert_non_decreasing(test, values, what):
    for a, b in zip(values, values[1:]):
        test.assertLessEqual(a, b, f"{what} decreased: {values}")


class ScanTest(SandboxTestCase):
    """One Scan of a 25 000-file NS7 with a few thousand CDRs, checked from every side."""

    sandbox_options = dict(files=25_000, cdr_rows=5_000, fias=True)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.profile = expect.load_profile()
        cls.databases = expect.profile_databases(cls.profile)
        cls.sb.mysql.analyze(cls.databases)
        cls.expected = expect.scan_expectation(cls.sb.root, cls.profile)
        cls.db_sizes = expect.database_sizes(cls.sb.mysql, cls.databases)
        cls.before = cls.sb.bus.get_all(APP, APP_IFACE)
        cls.links = cls.make_links()
        cls.t0 = time.time()
        cls.job, rec = cls.sb.bus.scan("nethvoice")
        cls.outcome = cls.sb.bus.wait_job(cls.job, rec, 120, "the scan of 25 000 files")
        cls.t1 = time.time()
        cls.after = cls.sb.bus.get_all(APP, APP_IFACE)

    @classmethod
    def make_links(cls):
        """Symbolic links that would point nowhere on NS8, in the first transfer
        that copies a directory: (transfer id, absolute link, escaping link),
        as NS7 paths.  The escaping one sits in a directory whose name is not
        UTF-8."""
        t = next(t for t in cls.profile["transfers"]
                 if not t.get("optional") and "*" not in t["source"]
                 and os.path.isdir(cls.sb.root + t["source"].rstrip("/")))
        src = t["source"].rstrip("/")
        top = os.fsencode(cls.sb.root + src)
        os.symlink(b"/etc/hosts", top + b"/ns8m-absolute")
        os.mkdir(top + b"/caf\xe9-\xff")
        os.symlink(b"../../elsewhere", top + b"/caf\xe9-\xff/escaping")
        return t["id"], src + "/ns8m-absolute", src

    def test_tree_is_big_enough(self):
        total = sum(f for f, _ in self.expected.values())
        self.assertGreaterEqual(total, 20_000, "the generated tree is smaller than the test needs")

    def test_before_any_scan(self):
        self.assertEqual(self.before["ScanTime"], 0)
        self.assertEqual(self.before["Job"], "/")
        self.assertEqual(self.before["Id"], "nethvoice")
        self.assertEqual(self.before["Name"], "NethVoice")
        self.assertEqual(self.before["Status"], "not_migrated")

    def test_job_succeeded(self):
        p = self.outcome.props
        self.assertTrue(p["Finished"], self.outcome)
        self.assertTrue(p["Success"], f"the scan failed: {self.outcome.message!r}")
        self.assertIsNotNone(self.outcome.completed, "no Completed signal was seen")
        self.assertEqual(self.outcome.completed, (True, p["Message"]))
        self.assertTrue(p["Message"], "a finished job says what happened")
        self.assertEqual(p["Operation"], "scan")
        self.assertEqual(p["Object"], APP)
        self.assertEqual(p["StartedByUID"], 0)
        self.assertFalse(p["Cancelable"], "a finished job is not cancelable")
        self.assertEqual(p["CurrentStep"], "", "CurrentStep is empty after the last step")
        self.assertEqual(p["ErrorName"], "", "ErrorName is empty after a success")
        self.assertLessEqual(self.t0 * 1e6 - 2e6, p["StartTime"])
        self.assertLessEqual(p["StartTime"], self.t1 * 1e6 + 2e6)

    def test_progress_monotonic_to_one(self):
        progress = self.outcome.progress
        self.assertTrue(progress, "no PropertiesChanged carried Progress")
        for v in progress:
            self.assertTrue(0.0 <= v <= 1.0, f"Progress out of 0..1: {progress}")
        assert_non_decreasing(self, progress, "Progress")
        self.assertEqual(progress[-1], 1.0, f"the last Progress signalled is not 1: {progress[-5:]}")
        self.assertEqual(self.outcome.props["Progress"], 1.0)
        for step_id, title, value in self.outcome.props["Steps"]:
            self.assertEqual(value, 1.0, f"step {step_id} ({title}) ended at {value}")

    def test_step_times(self):
        p = self.outcome.props
        times = p["StepTimes"]
        self.assertEqual([t[0] for t in times], [s[0] for s in p["Steps"]], "StepTimes not in the order of Steps")
        begun = [(sid, began, ended) for sid, began, ended in times if began]
        self.assertTrue(begun, times)
        last = p["StartTime"]
        for sid, began, ended in begun:
            self.assertGreaterEqual(began, last, f"step {sid} began before the one before it ended: {times}")
            self.assertGreaterEqual(ended, began, f"step {sid} ended before it began: {times}")
            self.assertLessEqual(ended, self.t1 * 1e6 + 2e6)
            last = ended

    def test_source_files_and_bytes(self):
        files = sum(f for f, _ in self.expected.values())
        size = sum(b for _, b in self.expected.values())
        self.assertEqual(self.after["SourceFiles"], files,
                         f"SourceFiles != find's count; per transfer: {self.expected}")
        self.assertEqual(self.after["SourceBytes"], size,
                         f"SourceBytes != du --apparent-size --bytes; per transfer: {self.expected}")

    def test_scan_details_per_transfer(self):
        details = {d[0]: d for d in self.after["ScanDetails"]}
        titles = {t["id"]: t["title"] for t in self.profile["transfers"]}
        optional = {t["id"] for t in self.profile["transfers"] if t.get("optional")}
        for tid, (files, size) in self.expected.items():
            if tid not in details:
                self.assertTrue(tid in optional and files == 0,
                                f"ScanDetails has no entry for transfer {tid} ({files} files)")
                continue
            _, title, got_files, got_bytes = details[tid]
            self.assertEqual(title, titles[tid])
            self.assertEqual((got_files, got_bytes), (files, size), f"transfer {tid}")

    def test_scan_symlinks(self):
        self.assertEqual(self.before["ScanSymlinks"], [])
        links = {d["id"]: d for d in self.after["ScanSymlinks"]}
        transfers = {d[0] for d in self.after["ScanDetails"] if not d[0].startswith("db:")}
        self.assertEqual(set(links), transfers, "one entry per transfer scanned")
        tid, absolute, top = self.links
        for other, d in links.items():
            if other != tid:
                self.assertEqual((d["absolute"], d["escaping"]), (0, 0), d)
        d = links[tid]
        self.assertEqual((d["absolute"], d["escaping"]), (1, 1), d)
        self.assertEqual(list(d["absolute_paths"]), [absolute])
        # The name that is not UTF-8 arrives as valid text with replacement characters.
        [escaping] = d["escaping_paths"]
        self.assertTrue(escaping.startswith(top + "/caf") and escaping.endswith("/escaping"), escaping)
        self.assertIn("\ufffd", escaping)
        self.assertIn("point nowhere on NS8", self.outcome.message)

    def test_database_bytes(self):
        self.assertEqual(self.after["DatabaseBytes"], self.sb.mysql.database_bytes(self.databases))
        self.assertEqual(self.after["DatabaseBytes"], sum(self.db_sizes.values()))

    def test_scan_details_per_database(self):
        details = {d[0]: d for d in self.after["ScanDetails"]}
        for name, size in self.db_sizes.items():
            self.assertIn(f"db:{name}", details, f"ScanDetails has no entry for database {name}")
            self.assertEqual(details[f"db:{name}"][2], 0, "databases have files 0")
            self.assertEqual(details[f"db:{name}"][3], size, f"size of database {name}")
        # The prerequisites page's query for the CDR.
        self.assertEqual(details["db:asteriskcdrdb"][3], self.sb.mysql.cdr_bytes())
        for key in details:
            if key.startswith("db:"):
                self.assertIn(key[3:], self.db_sizes, f"ScanDetails has {key}, which does not exist")

    def test_app_after_scan(self):
        self.assertEqual(self.after["Job"], self.job)
        self.assertLessEqual(self.t0 * 1e6 - 2e6, self.after["ScanTime"])
        self.assertLessEqual(self.after["ScanTime"], self.t1 * 1e6 + 2e6)
        self.assertEqual(self.after["Status"], "not_migrated", "a scan does not change the status")

    def test_job_in_state_db(self):
        rows = self.state_rows("SELECT id, operation, object, status, message, started_by_uid, "
                               "start_time, end_time FROM jobs WHERE id = ?", (job_id(self.job),))
        self.assertEqual(len(rows), 1, f"state.db has no job {job_id(self.job)}")
        _, operation, obj, status, message, uid, start, end = rows[0]
        self.assertEqual((operation, obj, status, uid), ("scan", APP, "succeeded", 0))
        self.assertTrue(message)
        self.assertTrue(start and end, "start_time and end_time are recorded")

    def test_state_dir_mode(self):
        self.assertEqual(os.stat(self.sb.state_dir).st_mode & 0o777, 0o700)
        self.assertTrue(os.path.exists(os.path.join(self.sb.state_dir, "state.db")))

    def test_log_mentions_scan_without_secrets(self):
        path = os.path.join(self.sb.root, LOG)
        self.assertTrue(os.path.exists(path), f"no {LOG} under the NS7 root")
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
        self.assertRegex(text, re.compile("scan", re.I))
        files = self.after["SourceFiles"]
        variants = {str(files), f"{files:,}", f"{files:,}".replace(",", "."), f"{files:,}".replace(",", " ")}
        self.assertTrue(any(v in text for v in variants),
                        f"the log does not give the scan's file count {files}:\n{text[-2000:]}")
        for name, secret in self.sb.manifest.secrets.items():
            self.assertNotIn(secret, text, f"the log holds a secret ({name})")
        self.assertNotIn(self.sb.mysql.password, self.sb.helper.log(), "the helper's stderr holds the DB password")

    def test_second_scan_same_figures(self):
        job, rec = self.bus.scan("nethvoice")
        self.assertNotEqual(job, self.job, "every job gets a new object")
        out = self.bus.wait_job(job, rec, 120, "the second scan")
        self.assertTrue(out.success, out)
        again = self.bus.get_all(APP, APP_IFACE)
        for prop in ("SourceFiles", "SourceBytes", "DatabaseBytes"):
            self.assertEqual(again[prop], self.after[prop], prop)
        # The first job stays readable for a while after it ended.
        self.assertTrue(self.bus.get(self.job, JOB_IFACE, "Finished"))


class ScanCancelTest(SandboxTestCase):
    """Cancel on a Scan of a large tree."""

    sandbox_options = dict(files=BIG_TREE_FILES, total_bytes=BIG_TREE_FILES * 200_000, cdr_rows=500)

    def test_cancel_stops_scan(self):
        rec = self.bus.record_signals()
        job, _ = self.bus.scan("nethvoice", recorder=rec)
        name, message = self.bus.call_error(job, JOB_IFACE, "Cancel", "a{sv}", [{}])
        if name is not None:
            state = self.bus.get_all(job, JOB_IFACE)
            self.fail(f"Cancel right after Scan failed with {name}: {message} "
                      f"(job: Finished={state.get('Finished')}, Success={state.get('Success')}); "
                      f"if the scan of {BIG_TREE_FILES} files had already ended, the tree is too small")
        out = self.bus.wait_job(job, rec, 10, "Cancel did not stop the scan: it")
        self.assertTrue(out.props["Finished"])
        self.assertFalse(out.props["Success"], "a canceled scan is not a success")
        self.assertRegex(out.message, re.compile("cancel", re.I))
        self.assertEqual(out.completed, (False, out.message))
        self.assertEqual(out.props["ErrorName"], "org.nethserver.Ns8Migration1.Error.Canceled")
        self.assertFalse(out.props["Cancelable"])
        assert_non_decreasing(self, out.progress, "Progress")
        self.assertHelperAnswers("Cancel")
        app = self.bus.get_all(APP, APP_IFACE)
        self.assertEqual(app["ScanTime"], 0, "a canceled scan is not a successful scan")
        self.assertEqual(app["Job"], job)
        rows = self.state_rows("SELECT status FROM jobs WHERE id = ?", (job_id(job),))
        self.assertEqual(rows, [("canceled",)])
        # Nothing is left busy: a new Scan runs to its end.
        job2, rec2 = self.bus.scan("nethvoice")
        out2 = self.bus.wait_job(job2, rec2, 120, "the scan after a Cancel")
        self.assertTrue(out2.success, out2)
        # A longer scan: Progress is signalled on the way, never decreasing, up to 1.
        self.assertTrue(out2.progress, "no PropertiesChanged carried Progress")
        assert_non_decreasing(self, out2.progress, "Progress")
        self.assertEqual(out2.progress[-1], 1.0)
        self.assertGreaterEqual(self.bus.get(APP, APP_IFACE, "SourceFiles"), BIG_TREE_FILES - 1000)


if __name__ == "__main__":
    unittest.main()
