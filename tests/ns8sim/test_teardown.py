"""Teardown leaves nothing behind: namespaces, links, processes, mounts,
/etc/netns files, wireguard sockets - also after a crash, and for the CLI."""

import json
import os
import signal
import subprocess
import time
import unittest

from ns8sim import Cluster, Topology, leftovers, testing, util
from ns8sim.ns7vpn import Ns7Tunnel

HERE = os.path.dirname(os.path.abspath(__file__))


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return False


def pids_of_run(cluster):
    """Every process the run started: the server and what it spawned."""
    pids = []
    piddir = os.path.join(cluster.run_dir, "pids")
    for name in os.listdir(piddir):
        with open(os.path.join(piddir, name)) as f:
            pids.append(int(f.read()))
    for ns in cluster.topology.namespaces():
        p = util.run(["ip", "netns", "pids", ns], check=False)
        pids += [int(x) for x in p.stdout.split()]
    return sorted(set(pids))


class TeardownTest(unittest.TestCase):
    def assertNothingLeft(self, prefix, pids=()):
        left = leftovers(prefix)
        self.assertEqual(left, {"namespaces": [], "pids": [], "etc_netns": [],
                                "wg_sockets": [], "mounts": [], "run_dirs": []})
        netns = util.run(["ip", "netns", "list"]).stdout
        self.assertNotIn(prefix, netns)
        self.assertNotIn(prefix, util.run(["ip", "link"]).stdout)
        with open("/proc/self/mounts") as f:
            self.assertNotIn(prefix, f.read())
        self.assertEqual([p for p in pids if alive(p)], [])

    def busy_cluster(self, **kw):
        """A cluster with a joined NS7 tunnel, a running receiver, a tmpfs and
        a module that imported its state (its MariaDB runs)."""
        c = Cluster(peer_delay=0.2, task_delay=0.1, **kw).start()
        token = c.login()
        priv, pub = testing.genkey()
        joined = c.run_task("cluster", "add-node", testing.add_node_input(pub),
                            token=token)["output"]
        tun = Ns7Tunnel(c.topology, priv).up(joined)
        out = c.run_task("cluster", "import-module", {"image": "nethvoice", "node": 2,
                                                      "volumes": ["spool"]},
                         token=token)["output"]
        c.control.fault("disk_full", module=out["module_id"], bytes=65536)
        st = c.control.state()
        m = [m for m in st["modules"] if m["id"] == out["module_id"]][0]
        self.assertTrue(m["receiver"]["running"])
        with open("/proc/self/mounts") as f:
            self.assertTrue(any(line.split()[1] == m["srv"] for line in f))
        # a second one receives an (empty) astdb dump and ends the transfer:
        # its import starts the module's MariaDB
        out = c.run_task("cluster", "import-module", {"image": "nethvoice", "node": 1,
                                                      "volumes": ["sounds"]},
                         token=token)["output"]
        restore = os.path.join(c.run_dir, "restore")
        os.makedirs(restore)
        open(os.path.join(restore, "astdb.sqlite3.dump"), "w").close()
        user, pw = out["credentials"]
        url = "rsync://%s@%s:%d/" % (user, out["address"], out["port"])
        for args in (["-a", restore, url + "data/state/"], [url + "terminate"]):
            p = c.topology.run("leader", ["rsync", "--address=" + c.leader_vpn_ip] + args,
                               env=dict(os.environ, RSYNC_PASSWORD=pw))
        agent, tid = out["task"].rsplit("/task/", 1)
        self.assertEqual(c.wait_task(agent, tid, token, timeout=120)["exit_code"], 0)
        self.assertTrue(c.control.module(out["module_id"])["mariadb"]["running"])
        return c, tun

    def test_close_removes_everything(self):
        c, tun = self.busy_cluster()
        pids = pids_of_run(c) + [tun.proc.pid]
        self.assertGreaterEqual(len(pids), 6)  # server, 2 wireguard-go, rsyncd, mariadbd, ns7 wg
        self.assertTrue(all(alive(p) for p in pids))
        prefix = c.prefix
        c.close()
        tun.proc.wait(10)  # reaped by us; it was stopped by the teardown
        self.assertNothingLeft(prefix, pids)

    def test_cleanup_after_the_server_was_killed(self):
        c, tun = self.busy_cluster()
        pids = pids_of_run(c) + [tun.proc.pid]
        os.kill(c.proc.pid, signal.SIGKILL)  # a crash: its children stay behind
        c.proc.wait()
        time.sleep(0.2)
        self.assertTrue([p for p in pids if alive(p)])
        self.assertTrue(leftovers(c.prefix)["mounts"])
        prefix = c.prefix
        c.close()
        tun.proc.wait(10)
        self.assertNothingLeft(prefix, pids)

    def test_two_runs_side_by_side(self):
        a = Topology().create()
        b = Topology().create()
        try:
            self.assertNotEqual(a.prefix, b.prefix)
            for t in (a, b):
                p = t.run("ns7", ["ping", "-c1", "-W2", "leader.ns8.test"], check=False)
                self.assertEqual(p.returncode, 0)
        finally:
            a.destroy()
            b.destroy()
        self.assertNothingLeft(a.prefix)
        self.assertNothingLeft(b.prefix)

    def run_cli_up(self, prefix):
        jf = os.path.join("/tmp", "ns8sim-test-%s.json" % prefix)
        errf = open(jf + ".err", "w+")
        self.addCleanup(errf.close)
        self.addCleanup(lambda: os.path.exists(jf + ".err") and os.unlink(jf + ".err"))
        proc = subprocess.Popen([os.path.join(HERE, "ns8sim"), "up", "--prefix", prefix,
                                 "--nodes", "1", "--json-file", jf, "--task-delay", "0.1"],
                                stdout=subprocess.DEVNULL, stderr=errf, start_new_session=True)
        proc.errf = errf
        self.addCleanup(lambda: os.path.exists(jf) and os.unlink(jf))
        util.wait_for(lambda: os.path.exists(jf) or proc.poll() is not None, 60,
                      "`ns8sim up` to print its description")
        self.assertIsNone(proc.poll(), "`ns8sim up` failed")
        with open(jf) as f:
            desc = json.load(f)
        return proc, desc

    def test_cli_up_then_sigterm(self):
        prefix = util.new_prefix()
        proc, desc = self.run_cli_up(prefix)
        try:
            self.assertEqual(desc["prefix"], prefix)
            self.assertEqual(desc["vpn_network"], "198.51.100.0/24")
            self.assertTrue(os.path.exists(desc["ca_file"]))
            self.assertEqual(desc["admin"]["user"], "admin")
            st = json.loads(util.run([os.path.join(HERE, "ns8sim"), "state", "--prefix",
                                      prefix]).stdout)
            self.assertEqual([n["id"] for n in st["nodes"]], [1])
            out = util.run([os.path.join(HERE, "ns8sim"), "fault", "--prefix", prefix,
                            "http_status", "status=500", "count=1"]).stdout
            self.assertRegex(json.loads(out)["id"], r"^f\d+$")
            # the API answers from the NS7 namespace with the printed CA
            p = util.run(["ip", "netns", "exec", desc["topology"]["namespaces"]["ns7"], "curl",
                          "-sS", "--cacert", desc["ca_file"], "-X", "POST",
                          desc["https_api"] + "/login"], check=False)
            self.assertIn('"code": 500', p.stdout)
            pids = [desc["server_pid"]]
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(60)
        proc.errf.seek(0)
        self.assertEqual(proc.returncode, 0, proc.errf.read())
        self.assertNothingLeft(prefix, pids)

    def test_cli_down_after_the_cli_was_killed(self):
        prefix = util.new_prefix()
        proc, desc = self.run_cli_up(prefix)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        self.assertTrue(alive(desc["server_pid"]))
        p = subprocess.run([os.path.join(HERE, "ns8sim"), "down", "--prefix", prefix],
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertNothingLeft(prefix, [desc["server_pid"]])

    def test_cleanup_refuses_foreign_prefixes(self):
        from ns8sim.topology import cleanup_prefix
        for bad in ("", "eth", "lo", "docker"):
            with self.assertRaises(ValueError):
                cleanup_prefix(bad)


if __name__ == "__main__":
    unittest.main()
