"""The helper stopped in the middle of a Scan, by SIGKILL or SIGTERM: the state
stays consistent and a new Scan works."""

import unittest

from harness import APP_IFACE, app_path
from harness.testing import SandboxTestCase, job_id

APP = app_path("nethvoice")
STATUSES = {"running", "succeeded", "failed", "canceled"}


class RestartTest(SandboxTestCase):
    # Large enough that the Scan still runs when the signal arrives.
    sandbox_options = dict(files=100_000, cdr_rows=200)

    def start_scan(self):
        job, _ = self.bus.scan("nethvoice")
        return job

    def job_row(self, job):
        rows = self.state_rows("SELECT status, message, end_time FROM jobs WHERE id = ?", (job_id(job),))
        self.assertEqual(len(rows), 1, f"state.db has no row for {job}: "
                         f"{self.state_rows('SELECT id, status FROM jobs')}")
        return rows[0]

    def assert_consistent(self):
        rows = self.state_rows("SELECT id, status FROM jobs")
        for jid, status in rows:
            self.assertIn(status, STATUSES, f"job {jid}")
        self.assertEqual([r for r in rows if r[1] == "running"], [],
                         "jobs left 'running' while none runs")

    def assert_new_scan_works(self, after):
        job, rec = self.bus.scan("nethvoice")
        out = self.bus.wait_job(job, rec, 120, f"the scan after {after}")
        self.assertTrue(out.success, f"a scan after {after} failed: {out}")
        self.assertEqual(self.job_row(job)[0], "succeeded")
        self.assertGreater(self.bus.get(APP, APP_IFACE, "SourceFiles"), 0)

    def test_sigkill_during_scan(self):
        job = self.start_scan()
        self.sb.helper.kill()
        self.sb.helper.start()
        status, message, _ = self.job_row(job)
        self.assertEqual(status, "failed", f"job killed mid-scan: {status} ({message})")
        self.assertTrue(message, "the failure is explained")
        self.assert_consistent()
        self.assertHelperAnswers("a restart after SIGKILL")
        self.assert_new_scan_works("SIGKILL and restart")
        self.assert_consistent()

    def test_sigterm_during_scan(self):
        job = self.start_scan()
        code = self.sb.helper.stop(timeout=30)
        self.assertEqual(code, 0, "the helper did not exit cleanly on SIGTERM during a scan")
        status, message, end = self.job_row(job)
        self.assertEqual(status, "failed", f"job stopped by SIGTERM: {status} ({message})")
        self.assertTrue(end, "the end time is recorded")
        self.assert_consistent()
        self.sb.helper.start()
        self.assertHelperAnswers("a restart after SIGTERM")
        self.assert_consistent()
        self.assert_new_scan_works("SIGTERM and restart")


if __name__ == "__main__":
    unittest.main()
