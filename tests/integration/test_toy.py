"""A second app, known only to the tests (tests/profiles/toy.yaml), migrated
end to end against the simulated NS8 cluster: Start, Sync, Abort, and
Start, Sync, Finish.  The helper knows nothing of it but its profile: the
proof that what the helper knows about an app lives in the app's profile.

Checked as an administrator would: the toy's files arrived on NS8 with the
profile's owner, its database's rows are in the module's MariaDB, the two
fields of its own reached configure-module, its two companion modules
were installed (and Preflight checks each), its service was stopped and
disabled on NS7 by Finish (and nothing else was), Abort removed the module
and left NS7 as it was, a Sync carried what changed on NS7.  Leaving the
cluster during Finish is refused, and forced it says what it stranded.
NS7's accounts are on a remote LDAP server: once the toy is migrated nothing
is left, and the helper leaves the cluster by itself."""

import os
import time

import toyfixture
from clusterfixture import ERR, ROOT, USER_DOMAIN, MigrationTestCase
from harness.client import JOB_IFACE, MANAGER_IFACE
from ns7expect import tree

FIELDS = {"toy_host": "toy.example.test", "toy_motto": "Play fair"}
# The systemd calls that change something (reads such as LoadUnit do not).
CHANGES_UNITS = {"StartUnit", "StopUnit", "RestartUnit", "ReloadUnit", "EnableUnitFiles", "DisableUnitFiles"}


# NS7's accounts are on a remote LDAP server that NS8 already uses as the
# external domain of the same name: nothing to move for them, so once the
# toy is migrated nothing is left and the helper leaves the cluster.
REMOTE_LDAP = ("sssd=service|BaseDN|dc=nethvoice,dc=example,dc=test|BindDN|cn=reader,dc=nethvoice,dc=example,dc=test|"
               "BindPassword|RemoteBind9|LdapURI|ldaps://203.0.113.10|Provider|ldap|status|enabled")
DOMAINS = [{"name": USER_DOMAIN, "location": "external", "schema": "rfc2307", "host": "203.0.113.10", "port": 636}]


class ToyMigrationTest(MigrationTestCase):
    CLUSTER = {"nodes": 1, "modules": [], "task_delay": 0.1, "images": toyfixture.IMAGES, "domains": DOMAINS}
    # An NS7 without NethVoice: only the toy is installed.
    SANDBOX = {"files": 20, "cdr_rows": 10, "nethvoice": False, "units": toyfixture.UNITS}
    APP = "toy"
    CONNECT = {"user_domain": None}
    PROFILES_DIR = toyfixture.PROFILES_DIR

    @classmethod
    def prepare_ns7(cls):
        toyfixture.install(cls.sb)
        config = os.path.join(cls.sb.root, "var/lib/nethserver/db/configuration")
        with open(config) as f:
            lines = [line for line in f.read().splitlines() if not line.startswith("sssd=")]
        with open(config, "w") as f:
            f.write("\n".join(lines + [REMOTE_LDAP]) + "\n")

    # -- helpers -------------------------------------------------------------
    def start(self, timeout=300, **fields):
        values = dict(FIELDS, accept_warnings=True)
        values.update(fields)
        return self.run_ok("Start", "a{sv}", [values], timeout=timeout)

    def modules(self):
        return [m for m in self.cluster.control.state()["modules"] if m["image"] == "toy"]

    def module(self):
        mods = self.modules()
        self.assertEqual(len(mods), 1, [m["id"] for m in mods])
        return mods[0]

    def assert_files_on_ns8(self):
        """volumes/toydata holds NS7's /var/lib/toy, every file owned by the
        profile's owner."""
        want = {rel: (sha, ) + toyfixture.OWNER
                for rel, (sha, _, _) in tree(os.path.join(self.sb.root, "var/lib/toy")).items()}
        got = tree(os.path.join(self.module()["srv"], "volumes", "toydata"))
        self.assertEqual(got, want)
        return got

    def ns7_snapshot(self):
        # Everything but the migration's own log, which the helper appends to.
        return {p: v for p, v in tree(self.sb.root).items() if p != "var/log/ns8-migration.log"}

    def unit(self, name):
        return self.sb.systemd.unit_state(self.bus, name)

    def unit_changes(self, since=0):
        return [c for c in self.sb.systemd.calls()[since:] if c["method"] in CHANGES_UNITS]

    # -- tests ---------------------------------------------------------------
    def test_detected_from_its_profile(self):
        apps = self.bus.apps()
        self.assertEqual(sorted(apps), ["toy"])
        app = apps["toy"]
        self.assertEqual((app["Name"], app["Status"]), ("Toy", "not_migrated"))
        self.assertEqual([f["id"] for f in app["Fields"]], ["toy_host", "toy_motto"])
        # The fields are checked by the profile's rules.
        err, problems = self.app_call("CheckOptions", "sa{sv}",
                                      ["Start", {"toy_host": "https://toy.example.test", "toy_motto": ""}])
        self.assertIsNone(err, problems)
        self.assertEqual(sorted(problems), ["toy_host", "toy_motto"])
        err, msg = self.app_call("Start", "a{sv}", [dict(FIELDS, toy_host="toy")])
        self.assertEqual(err, ERR + "InvalidArgument", msg)
        self.assertIn("toy_host", msg)
        self.assertEqual(self.modules(), [])

    def test_start_sync_disconnect_during_finish(self):
        """Leaving the cluster while Finish runs is refused; forced, it
        proceeds, Finish fails before NS7 stopped anything, and the job says
        what it broke."""
        self.start()
        # Finish's first step asks NS8 for the cluster's status: slowed down,
        # so that the Disconnect comes while the cutover is under way.
        self.cluster.control.fault("slow", action="get-cluster-status", agent="cluster", delay=8, count=5)
        calls_before = len(self.sb.systemd.calls())
        err, finish = self.app_call("Finish", "a{sv}", [{"accept_warnings": True}], timeout=120)
        self.assertIsNone(err, finish)
        self.assertEqual(self.app()["Status"], "finishing")
        err, msg = self.bus.call_error(ROOT, MANAGER_IFACE, "Disconnect", "a{sv}", [{}])
        self.assertEqual(err, ERR + "MigrationInProgress", msg)
        self.assertIn("Toy is being migrated", msg)
        props = self.disconnect(force=True)
        self.assertTrue(props["Success"], props["Message"])
        self.assertIn("Forced: Toy was being migrated; what NS8 received stays there as it is", props["Message"])
        outcome = self.wait(finish, 180)
        # Joined again, the stranded migration can be aborted (tearDown).
        self.cluster.control.reset_faults()
        self.connect_ok(**self.CONNECT)
        self.assertFalse(outcome["Success"], outcome["Message"])
        self.assertEqual(self.app()["Status"], "migrating")
        # NS7 was never stopped: the toy still runs, no unit of its changed
        # (leaving the cluster only disabled the helper's own start at boot).
        changes = [c for c in self.unit_changes(calls_before)
                   if c.get("unit") != "ns8-migration-helper.service"
                   and c.get("units") != ["ns8-migration-helper.service"]]
        self.assertEqual(changes, [])
        self.assertEqual(self.unit(toyfixture.SERVICE)["ActiveState"], "active")
        self.assertEqual(len(self.modules()), 1, "the module stays on NS8 as it was")

    def test_preflight_knows_the_toy_from_its_profile(self):
        # Manager.Preflight's options are the profiles' fields: the toy's, and
        # no other app's.
        err, checks = self.bus.call_error(ROOT, MANAGER_IFACE, "Preflight", "a{sv}",
                                          [{"app": "toy", "toy_host": "https://toy.example.test", "toy_motto": "x"}])
        self.assertIsNone(err, checks)
        checks = {c["id"]: c for c in checks}
        self.assertEqual(checks["fqdns"]["severity"], "blocker", checks["fqdns"])
        self.assertIn("toy_host", checks["fqdns"]["detail"])
        self.assertIn("toy.example.com", checks["fqdns"]["remedy"])
        self.assertEqual(checks["fqdns"]["doc"], "fqdns-required-for-toy")
        # The profile's typical size, beside the scanned one.
        self.assertIn("Toy data", checks["data-sizes"]["detail"])
        self.assertIn("typically 1 KiB - 10 MiB", checks["data-sizes"]["detail"])
        # One check per companion module, its image as the id.
        self.assertEqual({cid for cid, c in checks.items() if c["group"] == "destination"},
                         {"leader-reach", "leader-tls", "cluster-nodes", "node-disk", "cluster-fresh"}
                         | set(toyfixture.COMPANIONS))
        for image in toyfixture.COMPANIONS:
            self.assertEqual((checks[image]["severity"], checks[image]["gates"]), ("warning", ["start"]))
            self.assertIn("Start will install it", checks[image]["detail"])
        self.assertNotIn("nethvoice-proxy", checks)
        err, checks = self.bus.call_error(ROOT, MANAGER_IFACE, "Preflight", "a{sv}",
                                          [{"app": "toy", "toy_host": FIELDS["toy_host"]}])
        self.assertIsNone(err, checks)
        self.assertEqual({c["id"]: c for c in checks}["fqdns"]["severity"], "ok")
        err, msg = self.bus.call_error(ROOT, MANAGER_IFACE, "Preflight", "a{sv}",
                                       [{"app": "toy", "nethvoice_host": FIELDS["toy_host"]}])
        self.assertEqual(err, ERR + "InvalidArgument", msg)

    def test_start_sync_abort(self):
        ns7_before = self.ns7_snapshot()
        calls_before = len(self.sb.systemd.calls())
        props = self.start()
        self.assertEqual(props["Operation"], "start")
        app = self.app()
        self.assertEqual(app["Status"], "migrating")
        self.assertEqual(app["ModuleId"], self.module()["id"])
        self.assertEqual(dict(app["Settings"])["toy_motto"], FIELDS["toy_motto"])
        # Both companions were installed on the node, each with its notice.
        modules = self.cluster.control.state()["modules"]
        for image in toyfixture.COMPANIONS:
            self.assertEqual([m["node"] for m in modules if m["image"] == image], [1], image)
        self.assertTrue(any("toy shelf was installed" in n for n in app["Notices"]), app["Notices"])
        self.assertTrue(any("toy-lamp" in n for n in app["Notices"]), app["Notices"])
        self.assert_files_on_ns8()
        # Start leaves NS7's toy running.
        self.assertEqual(self.unit_changes(calls_before), [])

        # NS7 keeps working: a file added, one changed, one deleted.
        toyfixture.write(self.sb, "boxes/green.txt", "a green box\n", 1000, 1000)
        toyfixture.write(self.sb, "settings.ini", "[toy]\nsize = large\n")
        os.unlink(os.path.join(self.sb.root, "var/lib/toy/boxes/red.txt"))
        props = self.run_ok("Sync", "a{sv}", [{}])
        self.assertEqual(props["Operation"], "sync")
        got = self.assert_files_on_ns8()
        self.assertIn("boxes/green.txt", got)
        self.assertNotIn("boxes/red.txt", got)
        self.assertEqual(len(self.app()["SyncHistory"]), 2)

        # Abort: NS8 loses the module, NS7 keeps every byte and its service.
        ns7_before_abort = self.ns7_snapshot()
        self.assertNotEqual(ns7_before, ns7_before_abort)  # the test did change NS7 itself
        self.run_ok("Abort", "a{sv}", [{}])
        self.assertEqual(self.modules(), [])
        self.assertEqual(self.ns7_snapshot(), ns7_before_abort)
        app = self.app()
        self.assertEqual((app["Status"], app["ModuleId"], app["SyncHistory"]), ("not_migrated", "", []))
        self.assertEqual(self.unit_changes(calls_before), [])
        state = self.unit(toyfixture.SERVICE)
        self.assertEqual((state["ActiveState"], state["UnitFileState"]), ("active", "enabled"))
        err, msg = self.app_call("Abort", "a{sv}", [{}])
        self.assertEqual(err, ERR + "WrongState", msg)

    def test_start_sync_finish(self):
        self.start()
        # NS7 keeps working until the cutover: a new row, a new file.
        self.sb.mysql.sql("INSERT INTO toydb.toys (name, colour) VALUES ('rocking horse', 'white');")
        toyfixture.write(self.sb, "boxes/late.txt", "came late\n", 0, 0, 0o600)
        self.run_ok("Sync", "a{sv}", [{}])
        calls_before = len(self.sb.systemd.calls())
        props = self.run_ok("Finish", "a{sv}", [{"accept_warnings": True}], timeout=600)
        self.assertEqual(props["Operation"], "finish")
        self.assertEqual(self.app()["Status"], "migrated")
        module = self.module()

        # The files, with the profile's owner.
        self.assertIn("boxes/late.txt", self.assert_files_on_ns8())

        # The database: NS8's import loaded the dumps into the module's MariaDB.
        control = self.cluster.control
        want = self.sb.mysql.table_rows([toyfixture.DATABASE])
        self.assertEqual(control.module_tables(module["id"], [toyfixture.DATABASE]), ["toydb.toys"])
        self.assertEqual(control.module_table_rows(module["id"], [toyfixture.DATABASE]), want)
        self.assertEqual(sum(want["toydb.toys"].values()), 5)

        # configure-module got the two fields, the cluster's user domain and
        # the NS7 setting, and nothing else.
        conf = module["configuration"]
        self.assertEqual(conf, {"host": FIELDS["toy_host"], "motto": FIELDS["toy_motto"],
                                "user_domain": USER_DOMAIN, "colour": toyfixture.COLOUR})
        self.assertEqual(module["configure_history"][-1]["unknown_keys"], [])

        # NS7: the toy's service quiesced, then stopped and disabled; only the
        # web server reloaded (the redirect), nothing else touched.
        state = self.unit(toyfixture.SERVICE)
        self.assertEqual((state["ActiveState"], state["UnitFileState"]), ("inactive", "disabled"))
        changes = self.unit_changes(calls_before)
        touched = {u for c in changes for u in [c.get("unit")] + list(c.get("units") or []) if u}
        self.assertEqual(touched, {toyfixture.SERVICE, "httpd.service"}, changes)
        self.assertEqual([c["method"] for c in changes if c.get("unit") == "httpd.service"], ["ReloadUnit"])
        for name in toyfixture.NOT_TOY:
            self.assertEqual(self.unit(name)["ActiveState"], "active", name)
        with open(os.path.join(self.sb.root, "var/www/html/ns8-migration/toy.html")) as f:
            self.assertIn("https://%s/" % FIELDS["toy_host"], f.read())

        # Migrated: no more Sync, Abort or Finish.
        for method in ("Sync", "Abort", "Finish"):
            err, msg = self.app_call(method, "a{sv}", [{}])
            self.assertEqual(err, ERR + "WrongState", (method, msg))
        self.assert_left_by_itself(props["StartTime"])

    def assert_left_by_itself(self, since):
        """Nothing is left on NS7 to migrate (the provider is remote): the
        helper left the cluster without being asked (a disconnect job after
        SINCE, Finish's start), as the original tool does after the last
        app, and said NS7 can be switched off."""
        deadline = time.monotonic() + 120
        while True:
            jobs = sorted((j for j in self.bus.managed_objects() if "/jobs/" in j), key=lambda j: int(j.rsplit("/", 1)[1]))
            leave = [self.bus.get_all(j, JOB_IFACE) for j in jobs]
            leave = [p for p in leave if p["Operation"] == "disconnect" and p["StartTime"] > since]
            if leave and leave[-1]["Finished"]:
                break
            self.assertLess(time.monotonic(), deadline, "the helper did not leave the cluster: %s" % leave)
            time.sleep(0.3)
        self.assertTrue(leave[-1]["Success"], leave[-1]["Message"])
        self.assertEqual(leave[-1]["StartedByUID"], 0)
        self.assertIn("The migration is complete", leave[-1]["Message"])
        self.assertIn("NS7 can be switched off", leave[-1]["Message"])
        manager = self.manager()
        self.assertEqual(manager["State"], "disconnected")
        inventory = {i["id"]: i for i in manager["Inventory"]}
        self.assertEqual(inventory["toy"]["app_status"], "migrated")
        self.assertEqual(inventory["account-provider"]["status"], "kept")
        state = self.cluster.control.state()
        # The node and the migration account are gone, the real domain stays.
        self.assertEqual([n["id"] for n in state["nodes"]], [1])
        self.assertEqual([u["user"] for u in state["users"] if u["user"].startswith("ns7admin")], [])
        self.assertEqual([d["name"] for d in state["domains"]], [USER_DOMAIN])
        self.assertNotEqual(self.in_ns7("ip", "link", "show", "ns8").returncode, 0, "the tunnel is still up")
        # The redirect page stays on NS7.
        self.assertTrue(os.path.exists(os.path.join(self.sb.root, "var/www/html/ns8-migration/toy.html")))
