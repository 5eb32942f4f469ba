"""The helper crashes in the middle of a Finish, after NS7's services were
stopped, and systemd restarts it (the unit's Restart=on-failure, emulated by
Helper.supervise()): with no call on the bus, the restarted helper gives
NS7 its services back (running, their e-smith records enabled), records
the cut-short Finish as failed, and the tunnel never goes down —
wireguard-go runs in a transient unit of its own, so the crash of the
helper's unit does not take it along."""

import os
import re
import signal
import subprocess
import time

from clusterfixture import ROOT
from harness.client import MANAGER_IFACE
from harness.helper import UNIT_NAME
from test_finish import QUIESCE, STEPS, FinishTestCase

# How long the restarted helper may take to give NS7 its services back,
# counted from the crash (RestartSec included).
RECOVERY_TIMEOUT = 60
REPLY = re.compile(r"icmp_seq=(\d+) ")
SUMMARY = re.compile(r"(\d+) packets transmitted, (\d+) received")


class CrashRecoveryTest(FinishTestCase):
    SANDBOX = {"files": 2000, "cdr_rows": 500}

    # -- the tunnel ------------------------------------------------------------------
    def ns8_ifindex(self):
        """The ns8 interface's index in NS7's namespace, None without it."""
        r = self.in_ns7("ip", "-o", "link", "show", "ns8")
        return int(r.stdout.split(":", 1)[0]) if r.returncode == 0 else None

    def wireguard_go(self):
        """PIDs of the wireguard-go processes in NS7's network namespace."""
        out = subprocess.run(["ip", "netns", "pids", self.ns7], capture_output=True, text=True).stdout
        found = []
        for pid in out.split():
            try:
                with open("/proc/%s/comm" % pid) as f:
                    if f.read().strip() == "wireguard-go":
                        found.append(int(pid))
            except OSError:
                continue  # it ended meanwhile
        return sorted(found)

    def tunnel_units(self):
        return {n: u for n, u in self.sb.systemd.transient_units().items()
                if n.startswith("ns8-migration-wireguard-go-")}

    def start_ping(self):
        """A ping every 0.2 s from NS7 to the leader's VPN address, through the tunnel."""
        log = open(os.path.join(self.sb.run_dir, "ping.log"), "w+")
        proc = subprocess.Popen(["ip", "netns", "exec", self.ns7, "ping", "-n", "-i", "0.2", "-W", "2",
                                 self.cluster.leader_vpn_ip], stdout=log, stderr=subprocess.STDOUT)
        self.addCleanup(lambda: proc.poll() is not None or (proc.kill(), proc.wait()))
        self.addCleanup(log.close)
        return proc, log

    def stop_ping(self, proc, log):
        """(packets sent, replies, sequence numbers answered) of the ping."""
        proc.send_signal(signal.SIGINT)
        proc.wait(10)
        log.seek(0)
        text = log.read()
        summary = SUMMARY.search(text)
        self.assertIsNotNone(summary, text[-2000:])
        return int(summary.group(1)), int(summary.group(2)), [int(s) for s in REPLY.findall(text)], text

    # -- NS7 ----------------------------------------------------------------------------
    def helper_enabled(self, calls):
        return [c for c in calls if c["method"] == "EnableUnitFiles" and UNIT_NAME in c["units"]]

    def test_crash_during_finish_is_recovered_by_the_restart(self):
        helper = self.sb.helper
        self.addCleanup(helper.unsupervise)
        policy, restart_sec = helper.supervise()
        self.assertEqual(policy, "on-failure", "the unit file does not restart the helper after a crash")

        # Connected (setUp): the helper enabled its own unit, and wireguard-go
        # runs in a transient unit, in NS7's network namespace.
        self.assertTrue(self.helper_enabled(self.calls()), "Connect did not enable %s" % UNIT_NAME)
        self.assertEqual(self.unit(UNIT_NAME)["UnitFileState"], "enabled")
        units = self.tunnel_units()
        self.assertEqual([u["state"] for u in units.values()], ["active"], units)
        (tunnel_name, tunnel), = units.items()
        self.assertEqual(tunnel["type"], "forking")
        wg_pid = tunnel["main_pid"]
        self.assertEqual(self.wireguard_go(), [wg_pid])
        self.assertEqual(subprocess.run(["ip", "netns", "identify", str(wg_pid)], capture_output=True,
                                        text=True).stdout.strip(), self.ns7)
        ifindex = self.ns8_ifindex()
        self.assertIsNotNone(ifindex)

        self.start()
        mid = self.app()["ModuleId"]
        # A slow configure-module: the cutover cannot end before the crash.
        job, n_calls, step = self.finish_until_stopped(mid)
        self.assertIn(step, STEPS[STEPS.index("stop"):STEPS.index("retire")])
        ping, ping_log = self.start_ping()
        time.sleep(1.5)

        # The crash, as systemd sees it: the helper's unit is killed, the
        # tunnel's unit is not.  No call on the bus until the restart.
        before = len(self.calls())
        first_pid = helper.pid
        t_kill = time.monotonic()
        self.assertEqual(helper.kill_unit(), -signal.SIGKILL)
        self.cluster.control.reset_faults()
        restarts = helper.wait_restarts(1, RECOVERY_TIMEOUT)
        self.assertEqual(restarts[0][1], -signal.SIGKILL)
        self.assertGreaterEqual(restarts[0][0] - t_kill, restart_sec)
        self.assertNotEqual(helper.pid, first_pid)

        # The restarted helper gave NS7 its services back by itself.
        stopped = sorted({c["unit"] for c in self.calls(n_calls)[:before - n_calls] if c["method"] == "StopUnit"})
        self.assertIn("httpd-fpbx.service", stopped)
        self.assertLessEqual(set(stopped), set(QUIESCE), "Finish stopped more than the quiesced units")
        while [n for n in stopped if self.unit(n)["ActiveState"] != "active"]:
            self.assertLess(time.monotonic() - t_kill, RECOVERY_TIMEOUT,
                            "not started again %d s after the crash (during %s): %s"
                            % (RECOVERY_TIMEOUT, step, [n for n in stopped if self.unit(n)["ActiveState"] != "active"]))
            time.sleep(0.2)
        records = self.sb.ns7.db()
        for name in stopped:
            key = name[:-len(".service")]
            if key in records:
                self.assertEqual(records[key][1].get("status"), "enabled", (key, records[key]))
        self.assertEqual(records["httpd-fpbx"][1].get("status"), "enabled")
        rows = self.state_rows_db("SELECT status FROM jobs WHERE id=?", (int(job.rsplit("/", 1)[1]),))
        self.assertEqual(rows, [("failed",)])
        # Still enabled at boot (still connected): the restarted helper
        # checked it and had nothing to write.
        self.assertIn(UNIT_NAME, [c.get("unit") for c in self.calls(before) if c["method"] == "GetUnitFileState"])
        self.assertEqual(self.unit(UNIT_NAME)["UnitFileState"], "enabled")
        self.assertFalse([c for c in self.calls(before) if c["method"] == "DisableUnitFiles"])
        time.sleep(1.5)

        # The tunnel never went down: the same interface, the same
        # wireguard-go, no new transient unit, and no ping lost.
        sent, received, seqs, text = self.stop_ping(ping, ping_log)
        self.assertGreater(received, 10, text[-1000:])
        self.assertEqual(sorted(set(seqs)), list(range(1, max(seqs) + 1)), "pings lost:\n" + text[-3000:])
        self.assertLessEqual(sent - received, 1, text[-1000:])  # at most the one in flight at the SIGINT
        self.assertEqual(self.ns8_ifindex(), ifindex)
        self.assertEqual(self.wireguard_go(), [wg_pid])
        self.assertEqual(list(self.tunnel_units()), [tunnel_name])
        self.assertEqual(self.tunnel_units()[tunnel_name]["main_pid"], wg_pid)
        self.assertEqual([c for c in self.calls(before) if c["method"] == "StartTransientUnit"], [])

        # The helper answers; the migration is still under way.
        self.assertEqual(self.manager()["State"], "connected")
        self.assertEqual(self.app()["Status"], "migrating")

        # Disconnect (after an Abort) takes the tunnel away: no wireguard-go,
        # no ns8 link, the tunnel's unit ended, the helper's unit disabled.
        self.run_ok("Abort", "a{sv}", [{}])
        n_calls = len(self.calls())
        props = self.disconnect()
        self.assertTrue(props["Success"], props["Message"])
        deadline = time.monotonic() + 15
        while self.wireguard_go() or self.ns8_ifindex() is not None:
            self.assertLess(time.monotonic(), deadline, "left after Disconnect: wireguard-go %s, ns8 link %s"
                            % (self.wireguard_go(), self.ns8_ifindex()))
            time.sleep(0.2)
        deadline = time.monotonic() + 5
        while self.tunnel_units()[tunnel_name]["state"] == "active":
            self.assertLess(time.monotonic(), deadline, self.tunnel_units())
            time.sleep(0.1)
        self.assertTrue([c for c in self.calls(n_calls) if c["method"] == "DisableUnitFiles"
                         and UNIT_NAME in c["units"]], "Disconnect did not disable %s" % UNIT_NAME)
        self.assertEqual(self.bus.get_all(ROOT, MANAGER_IFACE)["State"], "disconnected")
