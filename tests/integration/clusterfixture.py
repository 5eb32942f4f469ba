"""A simulated NS8 cluster, the harness's sandbox, and the helper running in
the simulator's NS7 network namespace: what every test of Connect and of the
migration itself starts from.  One per test class (setUpClass)."""

import os
import subprocess
import time
import unittest

from harness.client import APP_IFACE, JOB_IFACE, MANAGER_IFACE
from harness.helper import netns_wrapper
from harness.sandbox import Sandbox
from ns8sim import Cluster

ROOT = "/org/nethserver/Ns8Migration1"
ERR = "org.nethserver.Ns8Migration1.Error."
USER_DOMAIN = "nethvoice.example.test"


class ClusterTestCase(unittest.TestCase):
    """Subclasses set CLUSTER (ns8sim.Cluster keyword arguments) and SANDBOX
    (harness.Sandbox keyword arguments; directory="ldap" runs NS7's slapd
    in the NS7 host's namespace); for another app than NethVoice,
    APP (its id), PROFILES_DIR (the helper's --profiles-dir) and
    prepare_ns7() (adds what NS7 holds for the app, before the helper
    starts)."""

    CLUSTER = {"nodes": 1, "modules": []}
    SANDBOX = {"files": 300, "cdr_rows": 50}
    APP = "nethvoice"
    PROFILES_DIR = None  # the project's apps/

    @classmethod
    def prepare_ns7(cls):
        pass

    @classmethod
    def setUpClass(cls):
        cls.cluster = Cluster(**cls.CLUSTER)
        cls.cluster.start()
        cls.ns7 = cls.cluster.topology.ns_of("ns7")
        try:
            # netns: where NS7's slapd listens with SANDBOX directory="ldap"
            cls.sb = Sandbox(name=cls.__name__.lower()[:20], helper=False,
                             **dict({"netns": cls.ns7}, **cls.SANDBOX))
            cls.sb.start()
        except BaseException:
            cls.cluster.close()
            raise
        if cls.PROFILES_DIR:
            cls.sb.helper.profiles_dir = cls.PROFILES_DIR
        wrapper = netns_wrapper(cls.sb.run_dir, cls.ns7, cls.sb.helper.binary)
        cls.sb.helper.binary = wrapper
        cls.with_ca = ["--ca-file=" + cls.cluster.ca_file, "--vpn-timeout=30", "--task-timeout=60"]
        cls.sb.helper.extra_args = list(cls.with_ca)
        try:
            cls.prepare_ns7()
            cls.sb.helper.start()
        except BaseException:
            cls.tearDownClass()
            raise
        cls.config_path = os.path.join(cls.sb.root, "var/lib/nethserver/db/configuration")
        with open(cls.config_path) as f:
            cls.config_text = f.read()

    @classmethod
    def tearDownClass(cls):
        try:
            cls.sb.stop()
        finally:
            subprocess.run(["ip", "netns", "exec", cls.ns7, "ip", "link", "del", "ns8"], capture_output=True)
            cls.cluster.close()

    # -- the bus ---------------------------------------------------------------
    @property
    def bus(self):
        return self.sb.bus

    def manager(self):
        return self.bus.get_all(ROOT, MANAGER_IFACE)

    def app(self, app_id=None):
        return self.bus.get_all(ROOT + "/apps/" + (app_id or self.APP), APP_IFACE)

    def app_call(self, method, signature, args, app_id=None, timeout=90):
        return self.bus.call_error(ROOT + "/apps/" + (app_id or self.APP), APP_IFACE, method, signature, args,
                                   timeout=timeout)

    def wait(self, job, timeout=180):
        deadline = time.monotonic() + timeout
        while True:
            props = self.bus.get_all(job, JOB_IFACE)
            if props["Finished"]:
                return props
            if time.monotonic() > deadline:
                self.fail("job %s did not finish within %d s: %s" % (job, timeout, props))
            time.sleep(0.3)

    def run_ok(self, method, signature, args, app_id=None, timeout=300):
        err, job = self.app_call(method, signature, args, app_id)
        self.assertIsNone(err, job)
        props = self.wait(job, timeout)
        self.assertTrue(props["Success"], props["Message"])
        return props

    def connect(self, **options):
        opts = {"leader": self.cluster.leader_host, "username": self.cluster.admin.user,
                "password": self.cluster.admin.password, "user_domain": USER_DOMAIN}
        opts.update(options)
        opts = {k: v for k, v in opts.items() if v is not None}
        return self.bus.call_error(ROOT, MANAGER_IFACE, "Connect", "a{sv}", [opts], timeout=90)

    def connect_ok(self, **options):
        err, job = self.connect(**options)
        self.assertIsNone(err, job)
        props = self.wait(job)
        self.assertTrue(props["Success"], props["Message"])
        return props

    def disconnect(self, force=False):
        return self.wait(self.bus.call(ROOT, MANAGER_IFACE, "Disconnect", "a{sv}", [{"force": force}]))

    # -- NS7, NS8 ----------------------------------------------------------------
    def in_ns7(self, *argv, check=False):
        return subprocess.run(["ip", "netns", "exec", self.ns7] + list(argv),
                              capture_output=True, text=True, timeout=60, check=check)

    def senders(self, module):
        """PIDs of the rsync senders to MODULE that this test's helper runs:
        only processes in this test's NS7 namespace, so that another test's
        syncs on the same machine are neither seen nor stopped."""
        out = subprocess.run(["ip", "netns", "pids", self.ns7], capture_output=True, text=True).stdout
        found = []
        for pid in out.split():
            try:
                with open("/proc/%s/cmdline" % pid, "rb") as f:
                    argv = f.read().split(b"\0")
            except OSError:
                continue  # it ended meanwhile
            if any(a.startswith(("rsync://%s@" % module).encode()) for a in argv):
                found.append(int(pid))
        return found

    def in_helper_ns(self, *argv):
        """Run in the helper's own network and mount namespaces (its private
        /run/wireguard: where `wg` finds the ns8 interface's control socket)."""
        return subprocess.run(["nsenter", "-t", str(self.sb.helper.pid), "-m", "-n"] + list(argv),
                              capture_output=True, text=True, timeout=60)

    def read_log(self):
        with open(os.path.join(self.sb.root, "var/log/ns8-migration.log")) as f:
            return f.read()

    def request_count(self):
        return len(self.cluster.control.requests())


class ConnectTestCase(ClusterTestCase):
    """Tests of Connect itself: each starts from a disconnected helper with
    no fault and the cluster's state noted in self.before; a helper a test
    stopped is started again, and a connection it left is removed."""

    def setUp(self):
        self.cluster.control.reset_faults()
        self.before = self.cluster.control.state()

    def tearDown(self):
        self.cluster.control.reset_faults()
        if not self.sb.helper.alive():
            self.sb.helper.extra_args = list(self.with_ca)
            self.sb.helper.start()
        if self.manager()["State"] == "connected":
            self.disconnect(force=True)
        self.assertEqual(self.sb.helper.sanitizer_errors(), [])


# The administrator's host names of the tests' migrations.
GOOD = {"nethvoice_host": "voice.example.test", "nethcti_ui_host": "cti.example.test"}


class MigrationTestCase(ClusterTestCase):
    """A connected, scanned helper for each test; whatever a test left
    running is canceled and a migration it left is aborted afterwards."""

    # The Connect options of setUp (user_domain only for a local OpenLDAP).
    CONNECT = {}

    def setUp(self):
        self.cluster.control.reset_faults()
        if not self.sb.helper.alive():
            self.sb.helper.extra_args = list(self.with_ca)
            self.sb.helper.start()
        if self.manager()["State"] != "connected":
            self.connect_ok(**self.CONNECT)
        if not self.app()["ScanTime"]:
            self.run_ok("Scan", "a{sv}", [{}])

    def tearDown(self):
        self.cluster.control.reset_faults()
        if not self.sb.helper.alive():
            self.sb.helper.extra_args = list(self.with_ca)
            self.sb.helper.start()
        job = self.app()["Job"]
        if job != "/" and not self.bus.get(job, JOB_IFACE, "Finished"):
            self.bus.call(job, JOB_IFACE, "Cancel", "a{sv}", [{}])
            self.wait(job)
        if self.app()["Status"] in ("migrating", "failed"):
            self.run_ok("Abort", "a{sv}", [{}])
        self.assertEqual(self.sb.helper.sanitizer_errors(), [])

    def module(self):
        """The simulator's nethvoice module (there must be exactly one)."""
        mods = [m for m in self.cluster.control.state()["modules"] if m["image"] == "nethvoice"]
        self.assertEqual(len(mods), 1, [m["id"] for m in mods])
        return mods[0]

    def start(self, timeout=300, **fields):
        """Start with GOOD and FIELDS.  The sample NS7 has no backup and NS8
        no proxy yet: Preflight's warnings, read and accepted."""
        values = dict(GOOD, accept_warnings=True)
        values.update(fields)
        return self.run_ok("Start", "a{sv}", [values], timeout=timeout)

