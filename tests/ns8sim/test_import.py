"""import-module: the rsync receivers, reached from NS7 through the VPN."""

import os
import unittest

from ns8sim import testing
from ns8sim.ns7vpn import Ns7Tunnel


class ImportTest(testing.ClusterTestCase):
    cluster_kwargs = {"peer_delay": 0.2, "task_delay": 0.2}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        c = cls.cluster
        priv, pub = testing.genkey()
        res = c.run_task("cluster", "add-node", testing.add_node_input(pub),
                         token=cls.admin_token)
        assert res["exit_code"] == 0, res
        cls.joined = res["output"]
        cls.tunnel = Ns7Tunnel(c.topology, priv)
        cls.addClassCleanup(cls.tunnel.down)
        cls.tunnel.up(cls.joined)
        testing.util.wait_for(
            lambda: c.topology.run("ns7", ["ping", "-c1", "-W1", c.leader_vpn_ip],
                                   check=False).returncode == 0, 30, "the VPN to come up")
        cls.src = os.path.join(c.run_dir, "ns7-source")
        os.makedirs(os.path.join(cls.src, "sounds", "it", "custom"))
        with open(os.path.join(cls.src, "sounds", "it", "custom", "hello.wav"), "wb") as f:
            f.write(b"RIFF" + os.urandom(4000))
        os.makedirs(os.path.join(cls.src, "restore"))
        with open(os.path.join(cls.src, "restore", "10_asterisk_structure.sql"), "w") as f:
            f.write("CREATE DATABASE asterisk;\n")

    def rsync(self, args, password, ns="ns7"):
        env = dict(os.environ, RSYNC_PASSWORD=password)
        return self.cluster.topology.run(ns, ["rsync"] + args, check=False, env=env,
                                         timeout=120)

    def import_module(self, node=1, volumes=("sounds", "asterisk")):
        res = self.run_task("cluster", "import-module",
                            {"image": "nethvoice", "node": node, "volumes": list(volumes)})
        self.assertEqual(res["exit_code"], 0, res)
        return res["output"]

    def upload(self, out, password=None):
        user, pw = out["credentials"]
        url = "rsync://%s@%s:%d/data/" % (user, out["address"], out["port"])
        p1 = self.rsync(["-a", "--chown=990:991", "--numeric-ids",
                         self.src + "/sounds/", url + "volumes/sounds/"], password or pw)
        p2 = self.rsync(["-a", self.src + "/restore", url + "state/"], password or pw)
        return p1, p2

    def test_upload_terminate_and_task(self):
        c = self.cluster
        out = self.import_module()
        mid = out["module_id"]
        self.assertRegex(mid, r"^nethvoice\d+$")
        self.assertEqual(out["credentials"][0], mid)
        self.assertEqual(out["address"], c.leader_vpn_ip)
        self.assertTrue(out["task"].startswith("module/%s/task/" % mid))
        agent, tid = out["task"].rsplit("/task/", 1)

        # the module-side task runs until /terminate is read
        code, body = c.curl("GET", "/%s/task/%s/status" % (agent, tid), token=self.admin_token)
        self.assertEqual((code, body), (400, {"code": 400, "message":
                                              "error getting task status from redis",
                                              "data": "redis: nil"}))
        code, body = c.curl("GET", "/%s/task/%s/context" % (agent, tid), token=self.admin_token)
        self.assertEqual(code, 200)
        self.assertEqual(body["data"]["action"], "import-module")

        p1, p2 = self.upload(out)
        self.assertEqual(p1.returncode, 0, p1.stderr)
        self.assertEqual(p2.returncode, 0, p2.stderr)
        m = c.control.module(mid)
        srv = m["srv"]
        wav = os.path.join(srv, "volumes", "sounds", "it", "custom", "hello.wav")
        with open(wav, "rb") as f, open(os.path.join(self.src, "sounds", "it", "custom",
                                                     "hello.wav"), "rb") as g:
            self.assertEqual(f.read(), g.read())
        st = os.stat(wav)
        self.assertEqual((st.st_uid, st.st_gid), (990, 991))
        sql = os.path.join(srv, "state", "restore", "10_asterisk_structure.sql")
        with open(sql) as f:
            self.assertEqual(f.read(), "CREATE DATABASE asterisk;\n")
        files = {f["path"]: f for f in m["files"]}
        self.assertEqual(files["volumes/sounds/it/custom/hello.wav"]["uid"], 990)
        self.assertEqual(files["volumes/sounds/it/custom/hello.wav"]["gid"], 991)
        self.assertEqual(files["volumes/sounds/it/custom/hello.wav"]["size"], 4004)
        self.assertIn("state/restore/10_asterisk_structure.sql", files)
        self.assertTrue(m["receiver"]["running"])

        # still running after the uploads
        self.assertEqual(c.curl("GET", "/%s/task/%s/status" % (agent, tid),
                                token=self.admin_token)[0], 400)
        user, pw = out["credentials"]
        p = self.rsync(["rsync://%s@%s:%d/terminate" % (user, out["address"], out["port"])], pw)
        self.assertEqual(p.returncode, 0, p.stderr)
        res = c.wait_task(agent, tid, self.admin_token, timeout=30)
        self.assertEqual(res["exit_code"], 0, res)
        m = c.control.module(mid)
        self.assertFalse(m["receiver"]["running"])
        self.assertTrue(m["receiver"]["terminated_by_client"])
        # the server is gone
        p = self.rsync(["rsync://%s@%s:%d/data/" % (user, out["address"], out["port"])], pw)
        self.assertNotEqual(p.returncode, 0)

        # module/<id> import-module starts it again, with a task of its own
        code, body = c.submit(agent, "import-module",
                              {"credentials": out["credentials"], "port": out["port"],
                               "volumes": ["sounds", "asterisk"]}, token=self.admin_token)
        self.assertEqual(code, 201, body)
        tid2 = body["data"]["id"]
        self.wait_for(lambda: c.control.module(mid)["receiver"]["running"], 20,
                      "the receiver to restart")
        p = self.rsync(["-a", self.src + "/sounds/", "rsync://%s@%s:%d/data/volumes/asterisk/"
                        % (user, out["address"], out["port"])], pw)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertTrue(os.path.exists(os.path.join(srv, "volumes/asterisk/it/custom/hello.wav")))
        self.assertEqual(c.curl("GET", "/%s/task/%s/status" % (agent, tid2),
                                token=self.admin_token)[0], 400)
        p = self.rsync(["rsync://%s@%s:%d/terminate" % (user, out["address"], out["port"])], pw)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(c.wait_task(agent, tid2, self.admin_token, timeout=30)["exit_code"], 0)

    def test_wrong_password_and_outside_vpn_are_refused(self):
        c = self.cluster
        out = self.import_module()
        user, pw = out["credentials"]
        p1, _ = self.upload(out, password="not-the-password")
        self.assertEqual(p1.returncode, 5, p1.stderr)
        self.assertIn("auth failed", p1.stderr)
        # from the leader's underlay address (192.0.2.1), not in the VPN network
        p = self.rsync(["--address=" + c.topology.leader_ip, "-a", self.src + "/sounds/",
                        "rsync://%s@%s:%d/data/volumes/sounds/" % (user, out["address"],
                                                                   out["port"])],
                       pw, ns="leader")
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("access denied", p.stderr)
        # nothing arrived
        files = [f for f in c.control.module(out["module_id"])["files"] if f["type"] == "file"]
        self.assertEqual(files, [])
        # the listing does not show [terminate]
        p = self.rsync(["rsync://%s@%s:%d/" % (user, out["address"], out["port"])], pw)
        self.assertIn("data", p.stdout)
        self.assertNotIn("terminate", p.stdout)
        self.assertEqual(self.run_task("cluster", "remove-module",
                                       {"module_id": out["module_id"],
                                        "preserve_data": False})["exit_code"], 0)

    def test_worker_receiver_through_the_leader(self):
        c = self.cluster
        out = self.import_module(node=2, volumes=["spool"])
        self.assertEqual(out["address"], c.worker_vpn_ip)
        user, pw = out["credentials"]
        p = self.rsync(["-a", "--chown=990:991", self.src + "/sounds/",
                        "rsync://%s@%s:%d/data/volumes/spool/" % (user, out["address"],
                                                                  out["port"])], pw)
        self.assertEqual(p.returncode, 0, p.stderr)
        m = c.control.module(out["module_id"])
        self.assertEqual(m["node"], 2)
        self.assertIn("/nodes/2/", m["srv"])
        f = {x["path"]: x for x in m["files"]}["volumes/spool/it/custom/hello.wav"]
        self.assertEqual((f["uid"], f["gid"], f["size"]), (990, 991, 4004))
        # the worker's disk status accounts for the received bytes
        before = c.control.state()
        res = self.run_task("node/2", "get-node-status")
        self.assertEqual(res["exit_code"], 0)
        root = [d for d in res["output"]["disks"] if d["mountpoint"] == "/"][0]
        self.assertEqual(root["free"], 80 * 2**30 - sum(
            x["size"] for mm in before["modules"] if mm["node"] == 2
            for x in mm["files"] if x["type"] == "file"))

    def test_configure_and_remove(self):
        c = self.cluster
        out = self.import_module()
        mid = out["module_id"]
        agent = "module/" + mid
        bad = {"nethvoice_host": "192.0.2.50", "nethcti_ui_host": "cti_host.example.org",
               "reports_international_prefix": "39"}
        res = self.run_task(agent, "configure-module", bad)
        self.assertEqual(res["exit_code"], 10)
        errors = {e["field"]: e["error"] for e in res["output"]}
        self.assertEqual(errors, {"nethvoice_host": "nethvoice_host_number_not",
                                  "nethcti_ui_host": "nethcti_ui_host_format",
                                  "reports_international_prefix":
                                  "reports_international_prefix_pattern"})
        self.assertIsNone(c.control.module(mid)["configuration"])
        good = {"nethvoice_host": "voice.example.org", "nethcti_ui_host": "cti.example.org",
                "reports_international_prefix": "+39", "user_domain": "example.org",
                "timezone": "Europe/Rome", "lets_encrypt": False,
                "nethvoice_adm_username": "admin", "nethvoice_adm_password": "s3cr3t"}
        res = self.run_task(agent, "configure-module", good)
        self.assertEqual(res["exit_code"], 0, res)
        m = c.control.module(mid)
        self.assertEqual(m["configuration"], good)
        self.assertEqual(m["configure_history"][-1]["input"]["nethvoice_adm_password"], "XXX")
        log = [e for e in c.control.requests() if e["action"] == "configure-module"]
        self.assertEqual([e["validation"] for e in log[-2:]], ["invalid", "valid"])
        self.assertEqual([e["exit_code"] for e in log[-2:]], [10, 0])
        self.assertNotIn("s3cr3t", str(log))

        # remove-module stops the receiver and deletes the data
        srv = m["srv"]
        agent_t, tid = out["task"].rsplit("/task/", 1)
        res = self.run_task("cluster", "remove-module", {"module_id": mid,
                                                         "preserve_data": False})
        self.assertEqual((res["exit_code"], res["output"]), (0, {}))
        self.assertFalse(os.path.exists(srv))
        self.assertIsNone(c.control.module(mid))
        user, pw = out["credentials"]
        p = self.rsync(["rsync://%s@%s:%d/data/" % (user, out["address"], out["port"])], pw)
        self.assertNotEqual(p.returncode, 0)
        # the module's agent is gone: its tasks are refused
        code, body = c.submit(agent, "configure-module", good, token=self.admin_token)
        self.assertEqual((code, body["message"]), (404, "client idle check failed"))
        res = self.run_task("cluster", "remove-module", {"module_id": mid,
                                                         "preserve_data": False})
        self.assertEqual(res["exit_code"], 2)
        self.assertIn("not found", res["error"])


if __name__ == "__main__":
    unittest.main()
