"""Every fault of the control API can be switched on and off."""

import os
import unittest

from ns8sim import testing
from ns8sim.cluster import ControlError
from ns8sim.ns7vpn import Ns7Tunnel


def mounted(path):
    with open("/proc/self/mounts") as f:
        return any(line.split()[1] == path for line in f)


class FaultsTest(testing.ClusterTestCase):
    cluster_kwargs = {"peer_delay": 0.2, "task_delay": 0.1}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        c = cls.cluster
        priv, cls.ns7_pub = testing.genkey()
        res = c.run_task("cluster", "add-node", testing.add_node_input(cls.ns7_pub),
                         token=cls.admin_token)
        cls.joined = res["output"]
        cls.tunnel = Ns7Tunnel(c.topology, priv)
        cls.addClassCleanup(cls.tunnel.down)
        cls.tunnel.up(cls.joined)
        testing.util.wait_for(cls.vpn_ok, 30, "the VPN to come up")

    @classmethod
    def vpn_ok(cls):
        c = cls.cluster
        return c.topology.run("ns7", ["ping", "-c1", "-W1", c.leader_vpn_ip],
                              check=False).returncode == 0

    def setUp(self):
        self.cluster.control.reset_faults()
        self.assertEqual(self.cluster.control.faults(), [])

    def test_fail_action_next_n_runs(self):
        c = self.cluster
        c.control.fault("fail_action", action="list-user-domains", count=2, exit_code=3,
                        error="simulated: redis is down\n")
        for _ in range(2):
            res = self.run_task("cluster", "list-user-domains")
            self.assertEqual((res["exit_code"], res["error"]),
                             (3, "simulated: redis is down\n"))
        self.assertEqual(self.run_task("cluster", "list-user-domains")["exit_code"], 0)
        # other actions are not touched; and a cleared fault does nothing
        fid = c.control.fault("fail_action", action="list-modules", count=5)
        self.assertEqual(self.run_task("cluster", "list-user-domains")["exit_code"], 0)
        self.assertEqual(c.control.clear_fault(fid), [fid])
        self.assertEqual(self.run_task("cluster", "list-modules")["exit_code"], 0)
        # invalid input still wins over an injected failure, as in NS8
        c.control.fault("fail_action", action="remove-node", exit_code=1)
        self.assertEqual(self.run_task("cluster", "remove-node", {})["exit_code"], 10)

    def test_slow_tasks(self):
        c = self.cluster
        fid = c.control.fault("slow", action="list-modules", delay=3)
        polls = []
        code, body = c.submit("cluster", "list-modules", token=self.admin_token)
        c.wait_task("cluster", body["data"]["id"], self.admin_token, polls=polls)
        self.assertGreaterEqual(sum(1 for p in polls if p[0] == 400), 2)
        self.assertIn(fid, [f["id"] for f in c.control.faults()])  # no count: stays
        c.control.clear_fault(fid)
        self.assertEqual(c.control.faults(), [])

    def test_http_500_and_429(self):
        c = self.cluster
        c.control.fault("http_status", status=500, count=2, path="/cluster/tasks")
        for _ in range(2):
            code, body = c.submit("cluster", "list-modules", token=self.admin_token)
            self.assertEqual((code, body["code"]), (500, 500))
        self.assertEqual(c.submit("cluster", "list-modules", token=self.admin_token)[0], 201)
        fid = c.control.fault("http_status", status=429, count=100)
        code, body = c.curl("POST", "/login", {"username": "admin", "password": "x"})
        self.assertEqual((code, body["message"]), (429, "too many requests"))
        code, body = c.curl("GET", "/cluster/task/x/status", token=self.admin_token)
        self.assertEqual(code, 429)
        c.control.clear_fault(fid)
        self.assertEqual(c.curl("GET", "/cluster/task/x/status", token=self.admin_token)[0], 400)

    def test_expire_all_tokens(self):
        c = self.cluster
        token = c.login()
        self.assertEqual(c.submit("cluster", "list-modules", token=token)[0], 201)
        c.control.expire_tokens()
        code, body = c.submit("cluster", "list-modules", token=token)
        self.assertEqual((code, body["message"]), (401, "Token is expired"))
        fresh = c.login()
        self.assertEqual(c.submit("cluster", "list-modules", token=fresh)[0], 201)
        type(self).admin_token = fresh

    def test_agent_not_alive(self):
        c = self.cluster
        c.control.fault("agent_down", agent="node/2")
        code, body = c.submit("node/2", "get-node-status", token=self.admin_token)
        self.assertEqual((code, body), (404, {"code": 404, "message": "client idle check failed",
                                              "data": None}))
        st = c.control.state()
        self.assertFalse([n for n in st["nodes"] if n["id"] == 2][0]["agent_alive"])
        online = {n["id"]: n["online"] for n in
                  self.run_task("cluster", "get-cluster-status")["output"]["nodes"]}
        self.assertFalse(online[2])
        c.control.clear_fault(kind="agent_down")
        self.assertEqual(c.submit("node/2", "get-node-status", token=self.admin_token)[0], 201)
        c.control.fault("agent_down", agent="cluster")
        self.assertEqual(c.submit("cluster", "list-modules", token=self.admin_token)[0], 404)
        c.control.reset_faults()
        self.assertEqual(c.submit("cluster", "list-modules", token=self.admin_token)[0], 201)

    def test_vpn_cut_peer_and_restore(self):
        c = self.cluster
        c.control.fault("vpn_cut", mode="peer")
        leader = [n for n in c.control.state()["nodes"] if n["id"] == 1][0]
        self.assertNotIn(self.ns7_pub, [p["public_key"] for p in leader["wg"]["peers"]])
        self.assertFalse(self.vpn_ok())
        # HTTPS on the underlay still works: only the tunnel is cut
        self.assertEqual(c.curl("POST", "/login", {"username": "admin", "password": "x"})[0],
                         401)
        c.control.clear_fault(kind="vpn_cut")
        self.wait_for(self.vpn_ok, 60, "the tunnel to work again after the restore")
        code, body = c.curl("POST", "/login", {"username": c.admin.user,
                                               "password": c.admin.password}, via="vpn")
        self.assertEqual(code, 200)

    def test_vpn_cut_link_and_restore(self):
        c = self.cluster
        c.control.fault("vpn_cut", mode="link", host="ns7")
        with self.assertRaises(RuntimeError):
            c.curl("POST", "/login", {"username": "admin", "password": "x"}, timeout=3)
        self.assertFalse(self.vpn_ok())
        c.control.reset_faults()
        self.assertEqual(c.curl("POST", "/login", {"username": "admin", "password": "x"})[0],
                         401)
        self.wait_for(self.vpn_ok, 60, "the tunnel to work again after the link is back")

    def test_disk_full(self):
        c = self.cluster
        res = self.run_task("cluster", "import-module", {"image": "nethvoice", "node": 1,
                                                         "volumes": ["spool"]})
        out = res["output"]
        mid = out["module_id"]
        srv = c.control.module(mid)["srv"]
        src = os.path.join(c.run_dir, "big")
        os.makedirs(src, exist_ok=True)
        with open(os.path.join(src, "recording.wav"), "wb") as f:
            f.write(os.urandom(1024 * 1024))
        user, pw = out["credentials"]
        url = "rsync://%s@%s:%d/data/volumes/spool/" % (user, out["address"], out["port"])

        def upload():
            return c.topology.run("ns7", ["rsync", "-a", src + "/", url], check=False,
                                  env=dict(os.environ, RSYNC_PASSWORD=pw), timeout=120)
        fid = c.control.fault("disk_full", module=mid, bytes=256 * 1024)
        self.assertTrue(mounted(srv))
        p = upload()
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("No space left on device", p.stderr)
        disks = self.run_task("node/1", "get-node-status")["output"]["disks"]
        small = [d for d in disks if d["fstype"] == "tmpfs"]
        self.assertEqual(len(small), 1)
        self.assertEqual(small[0]["total"], 256 * 1024)
        with self.assertRaises(ControlError):
            c.control.fault("disk_full", module="nosuchmodule1")
        c.control.clear_fault(fid)
        self.assertFalse(mounted(srv))
        p = upload()
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(os.path.getsize(os.path.join(srv, "volumes/spool/recording.wav")),
                         1024 * 1024)
        self.run_task("cluster", "remove-module", {"module_id": mid, "preserve_data": False})

    def test_unknown_fault_is_refused(self):
        with self.assertRaises(ControlError):
            self.cluster.control.fault("meteor_strike")
        with self.assertRaises(ControlError):
            self.cluster.control.clear_fault("f999")


if __name__ == "__main__":
    unittest.main()
