"""unittest glue: one Sandbox per test class, shared by its tests."""

import os
import sqlite3
import unittest

from . import client, util
from .sandbox import Sandbox


class SandboxTestCase(unittest.TestCase):
    """Starts `Sandbox(**sandbox_options)` in setUpClass as `cls.sb` and stops it
    (whatever happened) after the class.  After the class, the helper's
    stderr must hold no sanitizer report."""

    sandbox_options = {}
    sb = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sb = Sandbox(name=cls.__name__, **cls.sandbox_options)
        cls.sb.start()
        cls.addClassCleanup(cls._stop_sandbox)

    @classmethod
    def _stop_sandbox(cls):
        sb = cls.sb
        errors = []
        if sb.helper is not None and sb.helper.alive():
            code = sb.helper.stop()
            if code not in (0, None):
                errors.append(f"the helper exited with {code} on SIGTERM at the end of {cls.__name__}")
        if sb.helper is not None:
            errors += sb.helper.sanitizer_errors()
        sb.stop()
        if errors:
            raise AssertionError("\n".join(errors) + f"\n(see {sb.helper.log_path})")

    # --- helpers for tests ---------------------------------------------------
    @property
    def bus(self):
        return self.sb.bus

    def assertHelperAnswers(self, context=""):
        """The helper process is alive and answers a property read."""
        where = f" after {context}" if context else ""
        self.assertTrue(self.sb.helper.alive(),
                        f"the helper died{where} (exit {self.sb.helper.proc and self.sb.helper.proc.poll()});"
                        f" log:\n{util.tail(self.sb.helper.log_path)}")
        self.assertTrue(self.bus.ping(), f"the helper does not answer{where}")

    def assertDBusError(self, expected, call, msg=None):
        """call() -> (error name, message) must fail with `expected` (a name or a set of names)."""
        name, message = call
        allowed = {expected} if isinstance(expected, str) else set(expected)
        self.assertIsNotNone(name, (msg or "") + f": expected {sorted(allowed)}, the call succeeded ({message!r})")
        self.assertIn(name, allowed, (msg or "") + f": got {name}: {message}")
        return message

    def state_rows(self, sql, params=()):
        """Query the helper's state DB read-only (it may be running)."""
        path = os.path.join(self.sb.state_dir, "state.db")
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
        try:
            return db.execute(sql, params).fetchall()
        finally:
            db.close()


def job_id(job_path):
    return job_path.rstrip("/").rsplit("/", 1)[-1]


APP_IFACE = client.APP_IFACE
JOB_IFACE = client.JOB_IFACE
