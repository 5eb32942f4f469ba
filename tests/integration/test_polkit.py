"""Who may call what: root, an unprivileged user, a member of the group the
example rules file (polkit/50-ns8migration-sync-group.rules.example) grants
the .sync action to, and an operator a rule grants .migrate only.  Every
method of dbus/org.nethserver.Ns8Migration1.xml has a row in MATRIX: a new
method without one fails test_matrix_covers_every_method."""

import os
import time
import unittest
import xml.etree.ElementTree as ET

from harness import (APP_IFACE, JOB_IFACE, MANAGER_IFACE, ROOT_PATH, SYNC_GROUP_MEMBER,
                     UNPRIVILEGED_USER, app_path)
from harness import util
from harness.testing import SandboxTestCase
from harness.polkit import (MIGRATE_OPERATOR, MIGRATE_OPERATOR_RULES, AgentFlood, calls_as,
                            check_authorization)

ERR = "org.nethserver.Ns8Migration1.Error."
NOT_AUTHORIZED = ERR + "NotAuthorized"
BUSY = ERR + "Busy"
POLKIT_BUSY = "Too many of your requests are waiting for authentication"
ACTION = "org.nethserver.ns8migration."
READ, CONNECT, SYNC, MIGRATE = (ACTION + a for a in ("read", "connect", "sync", "migrate"))
APP = app_path("nethvoice")
JOB = "<scan job>"  # replaced by the path of a scan job made by root

# Every method of the introspection XML: "Interface.Method" -> (object path,
# arguments, the polkit actions any of which lets a caller past polkit).
# Arguments that pass the option checks, so that polkit decides first; past
# polkit nothing changes without a cluster (root and the operators get
# WrongState, InvalidArgument for the missing leader, or a CheckOptions
# answer; Skip(false) of an app that is not skipped leaves it so).
MATRIX = {
    "Manager.Connect": (ROOT_PATH, [{}], {CONNECT}),
    "Manager.Disconnect": (ROOT_PATH, [{}], {CONNECT}),
    "Manager.Preflight": (ROOT_PATH, [{}], {READ}),
    "Manager.ListNodes": (ROOT_PATH, [], {READ}),
    "Manager.DescribeSource": (ROOT_PATH, [], {READ}),
    "App.Scan": (APP, [{}], {READ}),
    "App.Start": (APP, [{}], {MIGRATE}),
    "App.Sync": (APP, [{}], {SYNC, MIGRATE}),
    "App.Finish": (APP, [{}], {MIGRATE}),
    "App.Abort": (APP, [{}], {MIGRATE}),
    "App.Skip": (APP, [False], {MIGRATE}),
    "App.CheckOptions": (APP, ["Start", {}], {READ}),
    "App.CheckOptionTexts": (APP, ["Start", {}], {READ}),
    # Without secrets; with them .migrate only (test_export).
    "App.Export": (APP, [{}], {READ, MIGRATE}),
    "App.CheckDns": (APP, [], {READ}),
    # Without a cluster: {} removes no schedule, the others are WrongState.
    "App.SetSchedule": (APP, [{}], {SYNC, MIGRATE}),
    "App.ScheduleFinish": (APP, [2 ** 62, {}], {MIGRATE}),
    "App.CancelScheduledFinish": (APP, [], {MIGRATE}),
    # The cancel action of each job kind (docs/api.md): only a scan can be
    # made without a cluster; test_migration cancels a Sync as MIGRATE_OPERATOR.
    "Job.Cancel": (JOB, [{}], {READ}),
}
# Authority::kMaxChecksPerCaller: the polkit checks one uid may have waiting.
PER_CALLER = 16
IFACES = {"Manager": MANAGER_IFACE, "App": APP_IFACE, "Job": JOB_IFACE}

# What each caller is granted: root everything; the example rules give the
# group member .sync only; MIGRATE_OPERATOR_RULES give the operator .migrate
# only; the plain user nothing (no agent can answer the auth_admin_keep
# challenge).
GRANTS = {
    "root": {READ, CONNECT, SYNC, MIGRATE},
    SYNC_GROUP_MEMBER: {SYNC},
    MIGRATE_OPERATOR: {MIGRATE},
    UNPRIVILEGED_USER: set(),
}


def introspected_methods():
    """{"Manager.Connect": in-signature, ...} from the project's introspection XML."""
    tree = ET.parse(os.path.join(util.source_dir(), "dbus", "org.nethserver.Ns8Migration1.xml"))
    out = {}
    for iface in tree.getroot().iter("interface"):
        short = iface.get("name").rsplit(".", 1)[1]
        for m in iface.iter("method"):
            out[f"{short}.{m.get('name')}"] = "".join(
                a.get("type") for a in m.iter("arg") if a.get("direction", "in") == "in")
    return out


# Reading is open to everybody.
OPEN_READS = [
    ("Manager properties", ROOT_PATH, "org.freedesktop.DBus.Properties", "GetAll", "s", [MANAGER_IFACE]),
    ("App properties", APP, "org.freedesktop.DBus.Properties", "GetAll", "s", [APP_IFACE]),
    ("Job properties", JOB, "org.freedesktop.DBus.Properties", "GetAll", "s", [JOB_IFACE]),
    ("Version", ROOT_PATH, "org.freedesktop.DBus.Properties", "Get", "ss", [MANAGER_IFACE, "Version"]),
    ("ObjectManager", ROOT_PATH, "org.freedesktop.DBus.ObjectManager", "GetManagedObjects", "", []),
    ("Introspect root", ROOT_PATH, "org.freedesktop.DBus.Introspectable", "Introspect", "", []),
    ("Introspect app", APP, "org.freedesktop.DBus.Introspectable", "Introspect", "", []),
    ("Introspect job", JOB, "org.freedesktop.DBus.Introspectable", "Introspect", "", []),
]


class PolkitTest(SandboxTestCase):
    sandbox_options = dict(files=500, cdr_rows=100, example_rules=True, polkit_rules=MIGRATE_OPERATOR_RULES)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        job, rec = cls.sb.bus.scan("nethvoice")
        cls.job = job
        out = cls.sb.bus.wait_job(job, rec, 60, "the root scan")
        assert out.success, out

    def path(self, p):
        return self.job if p == JOB else p

    def call(self, user, path, iface, method, sig, args, timeout=None):
        if user == "root":
            name, message = self.bus.call_error(self.path(path), iface, method, sig, args, timeout=timeout)
            return name, message
        r = self.bus.call_as(user, self.path(path), iface, method, sig, args, timeout=timeout)
        return (None, r.value) if r.ok else (r.error_name, r.error_message)

    def test_matrix_covers_every_method(self):
        methods = introspected_methods()
        self.assertGreaterEqual(len(methods), 13, methods)
        self.assertEqual(sorted(set(methods) - set(MATRIX)), [], "methods without a polkit matrix row")
        self.assertEqual(sorted(set(MATRIX) - set(methods)), [], "matrix rows of methods that do not exist")

    def calls(self, user, calls):
        """[(error name or None, message or value)] of CALLS (path, iface,
        method, signature, args) made by USER, one process per user."""
        calls = [(self.path(p), i, m, s, a) for p, i, m, s, a in calls]
        if user == "root":
            return [self.bus.call_error(*c) for c in calls]
        return calls_as(self.sb.bus_address, user, calls)

    def test_matrix(self):
        methods = introspected_methods()
        app_before = self.bus.get_all(APP, APP_IFACE)
        # Scan last: the job root's starts makes the app busy for a while.
        rows = sorted(MATRIX.items(), key=lambda kv: (kv[0] == "App.Scan", kv[0]))
        calls = [(path, IFACES[name.split(".")[0]], name.split(".")[1], methods.get(name, ""), args)
                 for name, (path, args, _) in rows]
        for user, granted in GRANTS.items():
            for (name, (_, _, actions)), (err, message) in zip(rows, self.calls(user, calls)):
                with self.subTest(user=user, method=name):
                    if actions & granted:
                        # (Busy "with another job" is past polkit: root's Scan may still run.)
                        self.assertNotEqual(err, NOT_AUTHORIZED, f"{user} was refused {name}: {message}")
                        self.assertFalse(err == BUSY and POLKIT_BUSY in message, f"{user}: {name}: {message}")
                    else:
                        self.assertEqual(err, NOT_AUTHORIZED,
                                         f"{user} calling {name} (needs one of {sorted(actions)}) got {err}: {message}")
                        self.assertTrue(message, "NotAuthorized comes with a sentence")
                    # A scan started here may still run: let it end.
                    if err is None and name == "App.Scan":
                        rec = self.bus.record_signals()
                        self.bus.wait_job(message, rec, 60, "the scan")
            self.assertHelperAnswers(f"the matrix as {user}")
        # Nobody got past polkit to change anything without a cluster.
        self.assertEqual(self.bus.get_all(APP, APP_IFACE).get("Status"), app_before.get("Status"),
                         "the matrix changed the app's status")

    def test_flood_of_waiting_checks_leaves_others_served(self):
        # Issue #17, row 7: an unprivileged user whose own agent never
        # answers sends 500 interactive calls; each would wait two minutes
        # for polkit.  Beyond the bound per caller they are refused at once
        # with Busy, and a sync-group member's Sync is still answered.
        flood = AgentFlood(self.sb.bus_address, UNPRIVILEGED_USER, APP, APP_IFACE, "Scan", "a{sv}", [{}],
                           calls=500, expect_waiting=PER_CALLER)
        self.addCleanup(flood.stop)
        c = flood.counts()
        self.assertEqual(c["sent"], 500, c)
        self.assertGreaterEqual(c["begun"], 1, f"polkitd never asked the flood's agent: nothing waited ({c})")
        started = time.monotonic()
        err, message = self.call(SYNC_GROUP_MEMBER, APP, APP_IFACE, "Sync", "a{sv}", [{}], timeout=20)
        elapsed = time.monotonic() - started
        self.assertNotIn(err, (NOT_AUTHORIZED, None), f"the sync member's Sync: {err}: {message}")
        self.assertFalse(err == BUSY and POLKIT_BUSY in message, f"the sync member's Sync: {message}")
        self.assertLess(elapsed, 5, f"the sync member waited {elapsed:.1f} s")
        # The flood: PER_CALLER calls wait on the agent, the others were
        # refused at once, with a sentence.
        waiting = c["sent"] - c["answered"] - sum(c["errors"].values())
        self.assertLessEqual(waiting, PER_CALLER, c)
        self.assertGreaterEqual(c["errors"].get(BUSY, 0), 500 - PER_CALLER, c)
        self.assertIn(POLKIT_BUSY, c["messages"][BUSY])
        # Once its agent is gone polkit refuses what waited on it, and the
        # user's calls are answered by polkit again.
        flood.stop()

        def refused_by_polkit():
            return self.call(UNPRIVILEGED_USER, APP, APP_IFACE, "Scan", "a{sv}", [{}])[0] == NOT_AUTHORIZED
        util.wait_for(refused_by_polkit, 30, "the flooding user is still refused as Busy after its agent left",
                      interval=0.5)
        self.assertHelperAnswers("the flood")

    def test_reads_open_to_everybody(self):
        for user in GRANTS:
            answers = self.calls(user, [row[1:] for row in OPEN_READS])
            for (name, *_), (err, message) in zip(OPEN_READS, answers):
                with self.subTest(user=user, read=name):
                    self.assertIsNone(err, f"{user} could not read {name}: {err}: {message}")

    def test_unprivileged_scan_starts_no_job(self):
        before = self.bus.get(APP, APP_IFACE, "Job")
        r = self.bus.call_as(UNPRIVILEGED_USER, APP, APP_IFACE, "Scan", "a{sv}", [{}])
        self.assertEqual(r.error_name, NOT_AUTHORIZED)
        self.assertEqual(self.bus.get(APP, APP_IFACE, "Job"), before, "a refused Scan made a job")

    def test_job_records_starter_uid(self):
        self.assertEqual(self.bus.get(self.job, JOB_IFACE, "StartedByUID"), 0)

    def test_rules_grant_what_the_matrix_says(self):
        # Ask polkitd directly so the matrix above is known to rest on
        # working rules and group, not on the helper's reading of them.
        for user in (SYNC_GROUP_MEMBER, MIGRATE_OPERATOR, UNPRIVILEGED_USER):
            for action in (READ, CONNECT, SYNC, MIGRATE):
                with self.subTest(user=user, action=action):
                    result = check_authorization(self.bus, user, action)
                    self.assertEqual(result[0], action in GRANTS[user], f"{user} {action}: {result}")

    def test_only_root_owns_the_name(self):
        r = self.bus.call_as(UNPRIVILEGED_USER, "/org/freedesktop/DBus", "org.freedesktop.DBus",
                             "RequestName", "su", ["org.nethserver.Ns8Migration1", 4],
                             dest="org.freedesktop.DBus")
        self.assertEqual(r.error_name, "org.freedesktop.DBus.Error.AccessDenied", r)


if __name__ == "__main__":
    unittest.main()
