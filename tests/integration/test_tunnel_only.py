"""Only through the tunnel: with the helper's WireGuard interface gone,
Manager.Preflight, Manager.ListNodes, App.Sync and App.Abort fail at once
with TunnelDown, and nothing is sent outside the tunnel: no packet to the
cluster API (the login carries the migration account's password) and no
rsync connection to the module's receiver (the session carries its
password).

The check cannot pass for want of a route: the NS7 namespace gets one to
the cluster's VPN network through its underlay interface, as a real NS7's
default route would be, and a probe shows that a connection to the API and
to the receiver does leave that way and that the capture sees it.  The
helper is not restarted during the check (it would put the tunnel back)."""

import signal
import subprocess
import time

from clusterfixture import ERR, ROOT, MigrationTestCase
from harness.client import MANAGER_IFACE

API_PORT = 9311


class Capture:
    """tcpdump on every interface of a network namespace (-i any: the tunnel
    is gone, so every other one), one line per packet of FILTER."""

    def __init__(self, pid, bpf):
        self.proc = subprocess.Popen(["nsenter", "-t", str(pid), "-n", "tcpdump", "-i", "any", "-nn", "-l", bpf],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        # tcpdump says "listening on any" once the capture runs.
        deadline = time.monotonic() + 15
        while True:
            line = self.proc.stderr.readline()
            if "listening on" in line:
                break
            if not line and self.proc.poll() is not None or time.monotonic() > deadline:
                self.proc.kill()
                raise RuntimeError("tcpdump did not start: " + line + self.proc.stderr.read())

    def stop(self):
        """The packets seen, as tcpdump's lines."""
        time.sleep(0.5)  # what is still on its way
        self.proc.send_signal(signal.SIGINT)
        out, _ = self.proc.communicate(timeout=15)
        return [line for line in out.splitlines() if line.strip()]


class TunnelOnlyTest(MigrationTestCase):
    CLUSTER = {"nodes": 1, "modules": [], "task_delay": 0.1}
    SANDBOX = {"files": 60, "cdr_rows": 20}

    route = None  # the route out of the tunnel a test added

    def tearDown(self):
        # Before the fixture's own, which aborts the migration through the tunnel.
        if self.route:
            self.restore_tunnel(self.route)
            self.route = None
        super().tearDown()

    def probe(self, address, port):
        """A TCP connection from the helper's namespace, as the helper's own
        would be made: True when it was accepted (whichever way it went)."""
        code = "import socket\ntry:\n    socket.create_connection((%r, %d), timeout=3).close()\nexcept OSError:\n" \
               "    raise SystemExit(1)\n" % (address, port)
        return self.in_helper_ns("python3", "-c", code).returncode == 0

    def restore_tunnel(self, route):
        """The route out of the tunnel removed; a restart puts the tunnel
        back (Cluster::restoreTunnel), then the API answers through it."""
        self.in_helper_ns("ip", "route", "del", *route)
        self.sb.helper.stop()
        self.sb.helper.extra_args = list(self.with_ca)
        self.sb.helper.start()
        deadline = time.monotonic() + 60
        while True:
            err, msg = self.bus.call_error(ROOT, MANAGER_IFACE, "ListNodes", timeout=60)
            if err is None:
                return
            self.assertLess(time.monotonic(), deadline, "the tunnel did not come back: %s %s" % (err, msg))
            time.sleep(0.5)

    def test_nothing_leaves_outside_the_tunnel(self):
        self.start()
        rx = self.module()["receiver"]
        api = self.cluster.leader_vpn_ip
        bpf = "tcp and dst net %s and (dst port %d or dst port %d)" % (self.cluster.vpn_network, API_PORT, rx["port"])
        # Through the tunnel, all is well.
        err, _ = self.bus.call_error(ROOT, MANAGER_IFACE, "ListNodes", timeout=60)
        self.assertIsNone(err)

        # The tunnel goes; a route out of the underlay interface stays.
        out = self.in_helper_ns("ip", "link", "del", "ns8")
        self.assertEqual(out.returncode, 0, out.stderr)
        route = [self.cluster.vpn_network, "via", self.cluster.topology.leader_ip, "dev", "eth0"]
        out = self.in_helper_ns("ip", "route", "add", *route)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.route = route

        # Not vacuous: a connection to the API or to the receiver would leave
        # that way (and be answered), and the capture sees it.
        cap = Capture(self.sb.helper.pid, bpf)
        reached = (self.probe(api, API_PORT), self.probe(rx["address"], rx["port"]))
        seen = cap.stop()
        self.assertEqual(reached, (True, True), "the route out of the tunnel does not reach the cluster")
        self.assertTrue(any(".%d:" % API_PORT in line for line in seen), seen)
        self.assertTrue(any(".%d:" % rx["port"] in line for line in seen), seen)

        seq = self.request_count()
        cap = Capture(self.sb.helper.pid, bpf)
        try:
            calls = {
                "Preflight": self.bus.call_error(ROOT, MANAGER_IFACE, "Preflight", "a{sv}",
                                                 [{"app": self.APP}], timeout=60),
                "ListNodes": self.bus.call_error(ROOT, MANAGER_IFACE, "ListNodes", timeout=60),
                "Sync": self.app_call("Sync", "a{sv}", [{}], timeout=60),
                "Abort": self.app_call("Abort", "a{sv}", [{}], timeout=60),
            }
        finally:
            seen = cap.stop()
        for method, (err, msg) in calls.items():
            self.assertEqual(err, ERR + "TunnelDown", "%s: %s" % (method, msg))
            self.assertIn("Nothing was sent to", msg)
            self.assertIn("ns8", msg)
        self.assertEqual(seen, [], "sent outside the tunnel")
        self.assertEqual(self.request_count(), seq, "the cluster API was reached")
        # Refused before any job: the migration is as it was.
        self.assertEqual(self.app()["Status"], "migrating")
        self.assertIn("not sent to http://%s:%d/api/login" % (api, API_PORT), self.read_log())


if __name__ == "__main__":
    import unittest
    unittest.main()
