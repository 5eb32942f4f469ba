"""The actions of PROTOCOL.md section 2 through the HTTPS API: validation
(exit 10), results, cluster state behind them and NS8's own error cases."""

import hashlib
import unittest

from ns8sim import testing
from ns8sim.catalog import NETHVOICE_VOLUMES
from test_validation import CASES

DOMAINS = [
    {"name": "company.example", "location": "external", "schema": "rfc2307",
     "host": "ldap.company.example", "port": 636, "users": 15, "groups": 3},
    {"name": "ad.company.example", "location": "external", "schema": "ad",
     "host": "dc1.ad.company.example", "port": 636},
    {"name": "ns8.example", "location": "internal", "schema": "rfc2307", "node": 1},
]


class ActionsTest(testing.ClusterTestCase):
    cluster_kwargs = {"domains": DOMAINS,
                      "disk": {1: {"total": 50 * 2**30, "free": 20 * 2**30},
                               2: {"total": 10 * 2**30, "free": 123456789}}}

    def test_every_migration_action_validates_its_input(self):
        for kind, action, _, bad, expected in CASES:
            if kind != "cluster":
                continue
            with self.subTest(action=action):
                res = self.run_task("cluster", action, bad)
                self.assertEqual(res["exit_code"], 10, res)
                self.assertEqual(sorted((e["field"], e["error"]) for e in res["output"]),
                                 sorted(expected))
                self.assertTrue(res["error"].startswith("Validation errors:"))
        # the module agents validate theirs
        out = self.run_task("cluster", "import-module",
                            {"image": "nethvoice", "node": 1, "volumes": NETHVOICE_VOLUMES})
        mid = out["output"]["module_id"]
        for kind, action, _, bad, expected in CASES:
            if kind in ("module", "nethvoice"):
                with self.subTest(action=action):
                    res = self.run_task("module/" + mid, action, bad)
                    self.assertEqual(res["exit_code"], 10, res)
                    self.assertEqual(sorted((e["field"], e["error"]) for e in res["output"]),
                                     sorted(expected))
        self.run_task("cluster", "remove-module", {"module_id": mid, "preserve_data": False})
        # every verdict is in the request log, and every output produced passed its schema
        log = [e for e in self.cluster.control.requests() if e.get("task_id")
               and e["method"] == "POST"]
        self.assertTrue(all(e["validation"] in ("valid", "invalid", "no-schema") for e in log))
        invalid = [e for e in log if e["validation"] == "invalid"]
        self.assertTrue(all(e["validation_errors"] for e in invalid))
        self.assertTrue(all(e.get("output_validation") in ("valid", "no-schema")
                            for e in log if e["exit_code"] == 0))

    def test_status_400_while_running_then_result(self):
        c = self.cluster
        fid = c.control.fault("slow", action="get-cluster-status", delay=3, count=1)
        code, body = c.submit("cluster", "get-cluster-status", token=self.admin_token)
        tid = body["data"]["id"]
        polls = []
        res = c.wait_task("cluster", tid, self.admin_token, polls=polls)
        self.assertEqual(polls[0], (400, {"code": 400, "message":
                                          "error getting task status from redis",
                                          "data": "redis: nil"}))
        self.assertEqual(polls[-1][0], 200)
        self.assertEqual(polls[-1][1]["message"], "success")
        self.assertEqual(res["file"], "task/cluster/" + tid)
        self.assertEqual((res["exit_code"], res["error"]), (0, ""))
        self.assertNotIn(fid, [f["id"] for f in c.control.faults()])  # count used up
        # context exists for a known task, not for an unknown one
        self.assertEqual(c.curl("GET", "/cluster/task/%s/context" % tid,
                                token=self.admin_token)[0], 200)
        code, body = c.curl("GET", "/cluster/task/%s/context" % ("0" * 8 + "-0000-0000-0000-"
                                                                  + "0" * 12),
                            token=self.admin_token)
        self.assertEqual(code, 400)
        # a task id asked under another agent is unknown there
        self.assertEqual(c.curl("GET", "/node/1/task/%s/status" % tid,
                                token=self.admin_token)[0], 400)

    def test_cluster_status_nodes_and_disks(self):
        res = self.run_task("cluster", "get-cluster-status")
        nodes = {n["id"]: n for n in res["output"]["nodes"]}
        self.assertEqual(nodes[1]["vpn"]["ip_address"], "198.51.100.1")
        self.assertEqual(nodes[2]["vpn"]["ip_address"], "198.51.100.2")
        self.assertTrue(nodes[1]["local"] and not nodes[2]["local"])
        res = self.run_task("node/2", "get-node-status")
        root = [d for d in res["output"]["disks"] if d["mountpoint"] == "/"][0]
        self.assertEqual((root["total"], root["free"]), (10 * 2**30, 123456789))
        self.assertEqual(self.run_task("node/1", "get-node-status")["output"]["disks"][0]["free"],
                         20 * 2**30)
        res = self.run_task("cluster", "list-nodes")
        self.assertEqual([n["role"] for n in res["output"]["nodes"]], ["leader", "worker"])

    def test_unknown_agents_and_actions(self):
        c = self.cluster
        for agent in ("node/9", "module/nethvoice99"):
            code, body = c.submit(agent, "get-node-status", token=self.admin_token)
            self.assertEqual((code, body["message"]), (404, "client idle check failed"))
        res = self.run_task("cluster", "make-coffee", {})
        self.assertEqual((res["exit_code"], res["error"]), (8, "Action make-coffee is not "
                                                               "defined\n"))
        code, body = c.curl("POST", "/cluster/tasks", {"data": {}}, token=self.admin_token)
        self.assertEqual((code, body["message"]), (400, "request fields malformed"))

    def test_users_and_grants(self):
        c = self.cluster
        pw = "Migr4tion-pass"
        res = self.run_task("cluster", "add-user", {
            "user": "ns7admin7", "password_hash": hashlib.sha256(pw.encode()).hexdigest(),
            "set": {"display_name": "NS7 migration"}, "grant": [{"role": "owner", "on": "*"}]})
        self.assertEqual((res["exit_code"], res["output"]), (0, True))
        # the new account logs in with the password whose hash was given
        token = c.login(testing.Account("ns7admin7", pw))
        self.assertEqual(self.run_task("cluster", "list-user-domains",
                                       token=token)["exit_code"], 0)
        users = {u["user"]: u for u in c.control.state()["users"]}
        self.assertEqual(users["ns7admin7"]["grants"], [{"role": "owner", "on": "*"}])
        res = self.run_task("cluster", "add-user", {
            "user": "ns7admin7", "password_hash": "0" * 64, "set": {}, "grant": []})
        self.assertEqual(res["exit_code"], 2)
        # a reader may read and not change
        self.run_task("cluster", "add-user", {
            "user": "reader1", "password_hash": hashlib.sha256(b"r").hexdigest(),
            "set": {}, "grant": [{"role": "reader", "on": "*"}]})
        rt = c.login(testing.Account("reader1", "r"))
        self.assertEqual(c.submit("cluster", "list-modules", token=rt)[0], 201)
        self.assertEqual(c.submit("cluster", "remove-user", {"user": "x"}, token=rt)[0], 403)
        # remove-user: the account and its tokens stop working
        for u in ("ns7admin7", "reader1"):
            self.assertEqual(self.run_task("cluster", "remove-user", {"user": u})["output"],
                             True)
        self.assertEqual(c.submit("cluster", "list-modules", token=token)[0], 401)
        code, body = c.curl("POST", "/login", {"username": "ns7admin7", "password": pw})
        self.assertEqual(code, 401)

    def test_user_domains(self):
        res = self.run_task("cluster", "list-user-domains")
        doms = {d["name"]: d for d in res["output"]["domains"]}
        self.assertEqual(set(doms), {"company.example", "ad.company.example", "ns8.example"})
        self.assertEqual(doms["ad.company.example"]["schema"], "ad")
        self.assertEqual(doms["company.example"]["base_dn"], "dc=company,dc=example")
        self.assertEqual(doms["company.example"]["counters"], {"users": 15, "groups": 3})
        self.assertEqual(doms["ns8.example"]["location"], "internal")
        self.assertRegex(doms["ns8.example"]["providers"][0]["id"], r"^openldap\d+$")
        new = {"domain": "ns7.example", "protocol": "ldap", "host": "198.51.100.3",
               "port": 636, "schema": "rfc2307", "bind_dn": "cn=libuser,dc=directory,dc=nh",
               "bind_password": "pw", "base_dn": "dc=directory,dc=nh", "tls": True,
               "tls_verify": False}
        self.assertEqual(self.run_task("cluster", "add-external-domain", new)["exit_code"], 0)
        for name in ("ns7.example", "company.example", "ns8.example"):
            res = self.run_task("cluster", "add-external-domain", dict(new, domain=name))
            self.assertEqual(res["exit_code"], 2)
            self.assertEqual(res["output"], [{"field": "domain", "parameter": "domain",
                                              "value": name, "error": "domain_exists"}])
        doms = {d["name"]: d for d in self.cluster.control.state()["domains"]}
        self.assertEqual(doms["ns7.example"]["providers"][0]["host"], "198.51.100.3")
        self.assertEqual(self.run_task("cluster", "remove-external-domain",
                                       {"domain": "ns7.example"})["exit_code"], 0)
        self.assertEqual(self.run_task("cluster", "remove-external-domain",
                                       {"domain": "ns7.example"})["exit_code"], 2)
        self.assertEqual(self.run_task("cluster", "remove-external-domain",
                                       {"domain": "ns8.example"})["exit_code"], 2)

    def test_modules_destinations_and_errors(self):
        def proxy_destinations():
            out = self.run_task("cluster", "list-modules")["output"]
            proxy = [m for m in out if m["name"] == "nethvoice-proxy"][0]
            return {d["node_id"]: d for d in proxy["install_destinations"]}, proxy
        dest, proxy = proxy_destinations()
        # the default cluster has a proxy on the worker
        self.assertFalse(dest[2]["eligible"])
        self.assertEqual(dest[2]["reject_reason"]["message"], "max_per_node_limit")
        self.assertTrue(dest[1]["eligible"])
        self.assertEqual([i["node"] for i in proxy["installed"]], ["2"])
        res = self.run_task("cluster", "add-module", {"image": "nethvoice-proxy", "node": 2})
        self.assertEqual(res["exit_code"], 2)
        res = self.run_task("cluster", "add-module", {"image": "nethvoice-proxy", "node": 1})
        self.assertEqual(res["exit_code"], 0, res)
        self.assertRegex(res["output"]["module_id"], r"^nethvoice-proxy\d+$")
        mid = res["output"]["module_id"]
        dest, _ = proxy_destinations()
        self.assertFalse(dest[1]["eligible"])
        # unknown image, unknown node, unknown module
        res = self.run_task("cluster", "import-module", {"image": "nosuchapp", "node": 1,
                                                         "volumes": []})
        self.assertEqual(res["exit_code"], 1)
        self.assertIn("nosuchapp", res["error"])
        res = self.run_task("cluster", "import-module", {"image": "nethvoice", "node": 9,
                                                         "volumes": []})
        self.assertEqual(res["exit_code"], 2)
        res = self.run_task("cluster", "remove-module", {"module_id": "nosuchapp1",
                                                         "preserve_data": False})
        self.assertEqual(res["exit_code"], 2)
        self.assertEqual(self.run_task("cluster", "remove-module",
                                       {"module_id": mid, "preserve_data": False})["exit_code"],
                         0)

    def test_import_allocates_ids_and_ports(self):
        outs = []
        for node in (1, 1, 2):
            res = self.run_task("cluster", "import-module",
                                {"image": "ghcr.io/nethserver/nethvoice:1.4.2", "node": node,
                                 "volumes": ["sounds"]})
            self.assertEqual(res["exit_code"], 0, res)
            outs.append(res["output"])
        ids = [int(o["module_id"][len("nethvoice"):]) for o in outs]
        self.assertEqual(ids, sorted(set(ids)))
        self.assertGreater(outs[1]["port"], outs[0]["port"])
        self.assertEqual([o["address"] for o in outs],
                         ["198.51.100.1", "198.51.100.1", "198.51.100.2"])
        st = {m["id"]: m for m in self.cluster.control.state()["modules"]}
        for o in outs:
            m = st[o["module_id"]]
            self.assertEqual(m["receiver"]["port"], o["port"])
            self.assertTrue(m["receiver"]["running"])
            self.assertIn({"path": "volumes/sounds", "type": "dir"},
                          [{"path": f["path"], "type": f["type"]} for f in m["files"]])
            self.run_task("cluster", "remove-module", {"module_id": o["module_id"],
                                                       "preserve_data": False})

    def test_update_routes(self):
        _, pub, joined = self.join_ns7()
        nid = joined["node_id"]
        res = self.run_task("cluster", "update-routes",
                            {"add": [{"ip_address": "203.0.113.10", "node_id": nid}]})
        self.assertEqual(res["exit_code"], 0, res)
        st = self.cluster.control.state()
        self.assertIn({"ip_address": "203.0.113.10", "node_id": nid}, st["routes"])
        def peer_ips():
            leader = [n for n in self.cluster.control.state()["nodes"] if n["id"] == 1][0]
            return [ip for p in leader["wg"]["peers"] if p["public_key"] == pub
                    for ip in p["allowed_ips"]]
        self.wait_for(lambda: "203.0.113.10/32" in peer_ips(), 10,
                      "the route on the leader's WireGuard peer")
        self.assertIn(joined["ip_address"] + "/32", peer_ips())
        res = self.run_task("cluster", "update-routes",
                            {"remove": [{"ip_address": "203.0.113.10", "node_id": nid}]})
        self.assertEqual(res["exit_code"], 0)
        self.assertEqual(self.cluster.control.state()["routes"], [])
        self.run_task("cluster", "remove-node", {"node_id": nid})


if __name__ == "__main__":
    unittest.main()
