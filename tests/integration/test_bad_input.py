"""Bad input for every method: named errors, and the helper lives on."""

import unittest

import dbus

from harness import APP_IFACE, JOB_IFACE, MANAGER_IFACE, ROOT_PATH, app_path
from harness.testing import SandboxTestCase

E = "org.nethserver.Ns8Migration1.Error."
INVALID_ARGUMENT = E + "InvalidArgument"
WRONG_STATE = E + "WrongState"
BUSY = E + "Busy"
INVALID_ARGS = "org.freedesktop.DBus.Error.InvalidArgs"
NO_SUCH_OBJECT = {"org.freedesktop.DBus.Error.UnknownObject", "org.freedesktop.DBus.Error.UnknownMethod",
                  "org.freedesktop.DBus.Error.UnknownInterface"}
PROPS = "org.freedesktop.DBus.Properties"
APP = app_path("nethvoice")
MB = 1024 * 1024


# (case, signature, args, expected error(s)) for a{sv}-taking methods; used for
# App.Scan and Job.Cancel alike.  No option is accepted yet.
OPTION_CASES = [
    ("unknown key", "a{sv}", [{"force": True}], INVALID_ARGUMENT),
    ("empty key", "a{sv}", [{"": "x"}], INVALID_ARGUMENT),
    ("1 MB value", "a{sv}", [{"note": "x" * MB}], INVALID_ARGUMENT),
    ("1 MB key", "a{sv}", [{"k" * MB: 1}], INVALID_ARGUMENT),
    ("path in key", "a{sv}", [{"../../etc/passwd": "x"}], INVALID_ARGUMENT),
    ("many keys", "a{sv}", [{f"k{i}": i for i in range(5000)}], INVALID_ARGUMENT),
    ("nested variants", "a{sv}", [{"a": dbus.Dictionary(
        {"b": dbus.Dictionary({"c": dbus.Array([1, 2, 3], signature="i")}, signature="sv")},
        signature="sv")}], INVALID_ARGUMENT),
    ("string instead of dict", "s", ["x"], INVALID_ARGS),
    ("no argument", "", [], INVALID_ARGS),
    ("two arguments", "a{sv}s", [{}, "x"], INVALID_ARGS),
    ("a{ss} instead of a{sv}", "a{ss}", [{"a": "b"}], INVALID_ARGS),
    ("array of ints", "ai", [[1, 2, 3]], INVALID_ARGS),
]

BAD_PATHS = [
    ROOT_PATH + "/apps/nope",
    ROOT_PATH + "/apps/_2e_2e",
    ROOT_PATH + "/apps/nethvoice/extra",
    ROOT_PATH + "/apps",
    ROOT_PATH + "/jobs/999999",
    ROOT_PATH + "/jobs/0",
    ROOT_PATH + "/jobs/18446744073709551617",
    ROOT_PATH + "/jobs/abc",
    ROOT_PATH + "/jobs",
    ROOT_PATH + "/x" * 200,
]


class BadInputTest(SandboxTestCase):
    sandbox_options = dict(files=500, cdr_rows=100)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        job, rec = cls.sb.bus.scan("nethvoice")
        out = cls.sb.bus.wait_job(job, rec, 60, "the first scan")
        assert out.success, out
        cls.finished_job = job

    def expect(self, expected, path, iface, method, sig, args, what):
        message = self.assertDBusError(expected, self.bus.call_error(path, iface, method, sig, args), what)
        self.assertTrue(message, f"{what}: the error has no message")
        self.assertHelperAnswers(what)

    def test_scan_bad_options(self):
        for case, sig, args, expected in OPTION_CASES:
            with self.subTest(case=case):
                self.expect(expected, APP, APP_IFACE, "Scan", sig, args, f"Scan with {case}")
        self.assertEqual(self.bus.get(APP, APP_IFACE, "Job"), self.finished_job,
                         "a refused Scan started a job")

    def test_cancel_bad_options(self):
        for case, sig, args, expected in OPTION_CASES:
            with self.subTest(case=case):
                # The job has ended, so a well-typed call may be refused for
                # that (WrongState) as well as for the bad option.
                allowed = {expected, WRONG_STATE} if expected == INVALID_ARGUMENT else expected
                self.expect(allowed, self.finished_job, JOB_IFACE, "Cancel", sig, args, f"Cancel with {case}")

    def test_connect_bad_options(self):
        for case, sig, args, expected in OPTION_CASES:
            with self.subTest(case=case):
                self.expect(expected, ROOT_PATH, MANAGER_IFACE, "Connect", sig, args, f"Connect with {case}")
        good = {"leader": "leader.example.org", "username": "admin", "password": "Nethesis,1234"}
        for case, change in (("1 MB leader", {"leader": "l" * MB}),
                             ("path as leader", {"leader": "../../etc/passwd"}),
                             ("empty leader", {"leader": ""}),
                             ("space in leader", {"leader": "lea der.example.org"}),
                             ("leader of wrong type", {"leader": dbus.Int32(5)}),
                             ("tls_verify of wrong type", {"tls_verify": "no"}),
                             ("bad fingerprint", {"tls_verify": False, "tls_fingerprint": "zz:zz"}),
                             ("unknown key", {"bogus": 1})):
            with self.subTest(case=case):
                opts = dict(good, **change)
                self.expect(INVALID_ARGUMENT, ROOT_PATH, MANAGER_IFACE, "Connect", "a{sv}", [opts],
                            f"Connect with {case}")
        self.assertEqual(self.bus.get(ROOT_PATH, MANAGER_IFACE, "State"), "disconnected")

    def test_preflight_bad_options(self):
        for case, sig, args, expected in OPTION_CASES:
            with self.subTest(case=case):
                self.expect(expected, ROOT_PATH, MANAGER_IFACE, "Preflight", sig, args, f"Preflight with {case}")
        for case, opts in (("1 MB leader", {"leader": "l" * MB}),
                           ("URL as leader", {"leader": "https://leader.example.org"}),
                           ("path as leader", {"leader": "../../etc/passwd"}),
                           ("space in leader", {"leader": "lea der.example.org"}),
                           ("node of wrong type", {"node": dbus.Int32(2)}),
                           ("app not installed", {"app": "nosuchapp"}),
                           ("unknown key", {"bogus": 1})):
            with self.subTest(case=case):
                self.expect(INVALID_ARGUMENT, ROOT_PATH, MANAGER_IFACE, "Preflight", "a{sv}", [opts],
                            f"Preflight with {case}")

    def test_disconnect_bad_options(self):
        for case, sig, args, expected in OPTION_CASES:
            with self.subTest(case=case):
                # Not connected: a well-typed call may be refused for that too.
                allowed = {expected, WRONG_STATE} if expected == INVALID_ARGUMENT else expected
                self.expect(allowed, ROOT_PATH, MANAGER_IFACE, "Disconnect", sig, args,
                            f"Disconnect with {case}")

    def test_cancel_finished_job(self):
        self.expect(WRONG_STATE, self.finished_job, JOB_IFACE, "Cancel", "a{sv}", [{}],
                    "Cancel of a finished job")

    def test_unknown_objects(self):
        for path in BAD_PATHS:
            with self.subTest(path=path):
                self.expect(NO_SUCH_OBJECT, path, APP_IFACE, "Scan", "a{sv}", [{}], f"Scan on {path}")
                self.expect(NO_SUCH_OBJECT, path, JOB_IFACE, "Cancel", "a{sv}", [{}], f"Cancel on {path}")
                name, _ = self.bus.call_error(path, PROPS, "GetAll", "s", [APP_IFACE])
                self.assertIsNotNone(name, f"GetAll on {path} succeeded")
                self.assertHelperAnswers(f"GetAll on {path}")

    def test_wrong_interface_for_object(self):
        self.expect(NO_SUCH_OBJECT, ROOT_PATH, APP_IFACE, "Scan", "a{sv}", [{}], "Scan on the root")
        self.expect(NO_SUCH_OBJECT, APP, JOB_IFACE, "Cancel", "a{sv}", [{}], "Cancel on an app")
        self.expect(NO_SUCH_OBJECT, APP, APP_IFACE, "Sacn", "a{sv}", [{}], "an unknown method")

    def test_properties(self):
        for path, iface, prop, sig, value in ((ROOT_PATH, MANAGER_IFACE, "Version", "ssv", "9.9.9"),
                                              (APP, APP_IFACE, "Status", "ssv", "migrated"),
                                              (APP, APP_IFACE, "SourceFiles", "ssv", dbus.UInt64(1)),
                                              (self.finished_job, JOB_IFACE, "Finished", "ssv", False)):
            with self.subTest(prop=prop):
                name, message = self.bus.call_error(path, PROPS, "Set", sig, [iface, prop, value])
                self.assertIsNotNone(name, f"Set {prop} succeeded")
                self.assertTrue(name.startswith("org.freedesktop.DBus.Error."), f"{name}: {message}")
                self.assertHelperAnswers(f"Set {prop}")
        self.assertEqual(self.bus.get(APP, APP_IFACE, "Status"), "not_migrated")
        for path, iface, prop in ((ROOT_PATH, MANAGER_IFACE, "Nope"), (APP, APP_IFACE, "x" * MB),
                                  (APP, "org.nethserver.Ns8Migration1.Nope", "Id")):
            with self.subTest(get=prop[:20]):
                name, message = self.bus.call_error(path, PROPS, "Get", "ss", [iface, prop])
                self.assertIsNotNone(name, f"Get {prop[:20]} succeeded")
                self.assertTrue(name.startswith("org.freedesktop.DBus.Error."), f"{name}: {message}")
                self.assertHelperAnswers(f"Get {prop[:20]}")
        self.assertDBusError(INVALID_ARGS, self.bus.call_error(ROOT_PATH, "org.freedesktop.DBus.ObjectManager",
                                                               "GetManagedObjects", "s", ["x"]),
                             "GetManagedObjects with an argument")
        self.assertHelperAnswers("GetManagedObjects with an argument")


class BusyTest(SandboxTestCase):
    """A second Scan while one runs is refused with Busy."""

    sandbox_options = dict(files=100_000, cdr_rows=100)

    def test_second_scan_busy(self):
        rec = self.bus.record_signals()
        job, _ = self.bus.scan("nethvoice", recorder=rec)
        name, message = self.bus.call_error(APP, APP_IFACE, "Scan", "a{sv}", [{}])
        if name is None:
            self.fail(f"a second Scan while {job} runs was accepted ({message}); "
                      f"Finished={self.bus.get(job, JOB_IFACE, 'Finished')}")
        self.assertEqual(name, BUSY, message)
        self.assertTrue(message)
        self.assertEqual(self.bus.get(APP, APP_IFACE, "Job"), job, "Busy replaced the running job")
        self.assertHelperAnswers("Busy")
        out = self.bus.wait_job(job, rec, 120, "the first scan")
        self.assertTrue(out.success, out)


if __name__ == "__main__":
    unittest.main()
