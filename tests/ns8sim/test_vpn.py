"""add-node, a real WireGuard handshake from the NS7 namespace, the API over
the VPN, the leader forwarding to the worker, reused keys, remove-node."""

import unittest

from ns8sim import testing
from ns8sim.ns7vpn import Ns7Tunnel


class VpnTest(testing.ClusterTestCase):
    cluster_kwargs = {"peer_delay": 0.5}

    def test_join_handshake_and_api_over_vpn(self):
        c = self.cluster
        priv, pub, out = self.join_ns7()
        # the documented fields, with values from the cluster network
        self.assertEqual(set(out), {"node_id", "ip_address", "network", "leader_public_key",
                                    "leader_ip_address", "leader_endpoint",
                                    "leader_core_version"})
        self.assertEqual(out["network"], c.vpn_network)
        self.assertEqual(out["leader_ip_address"], c.leader_vpn_ip)
        self.assertEqual(out["leader_endpoint"], "leader.ns8.test:55820")
        self.assertGreaterEqual(out["node_id"], 3)  # leader 1, worker 2
        self.assertTrue(out["ip_address"].startswith("198.51.100."))
        info = c.control.info()
        self.assertEqual(out["leader_public_key"], info["leader_public_key"])

        with Ns7Tunnel(c.topology, priv) as tun:
            tun.up(out)
            # the leader adds the peer asynchronously: wait for a real handshake
            self.wait_for(lambda: tun.latest_handshake(out["leader_public_key"]) > 0, 30,
                          "a WireGuard handshake between NS7 and the leader")
            # the leader sees it too, on the peer add-node configured
            st = c.control.state()
            leader = [n for n in st["nodes"] if n["id"] == 1][0]
            peer = [p for p in leader["wg"]["peers"] if p["public_key"] == pub][0]
            self.assertEqual(peer["allowed_ips"], [out["ip_address"] + "/32"])
            self.assertGreater(peer["latest_handshake"], 0)
            self.assertEqual(peer["endpoint"].split(":")[0], c.topology.ns7_ip)

            # plain HTTP API through the tunnel on <leader-vpn-ip>:9311
            code, body = c.curl("POST", "/login", {"username": c.admin.user,
                                                   "password": c.admin.password}, via="vpn")
            self.assertEqual(code, 200, body)
            res = c.run_task("cluster", "get-cluster-status", token=body["token"], via="vpn")
            ids = [n["id"] for n in res["output"]["nodes"]]
            self.assertIn(out["node_id"], ids)
            log = c.control.requests()
            vpn_entries = [e for e in log if e["transport"] == "vpn"]
            self.assertTrue(vpn_entries)
            self.assertTrue(all(e["client"] == out["ip_address"] for e in vpn_entries))

            # the worker's VPN address is reached through the leader
            p = c.topology.run("ns7", ["ping", "-c", "1", "-W", "3", c.worker_vpn_ip],
                               check=False)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)

            # 9311 is not served on the underlay address
            p = c.topology.run("ns7", ["curl", "-sS", "--max-time", "3", "-X", "POST",
                                       "http://leader.ns8.test:9311/api/login"], check=False)
            self.assertNotEqual(p.returncode, 0)

            # remove-node drops the peer: no more traffic through the tunnel
            res = self.run_task("cluster", "remove-node", {"node_id": out["node_id"]})
            self.assertEqual(res["exit_code"], 0, res)
            st = c.control.state()
            leader = [n for n in st["nodes"] if n["id"] == 1][0]
            self.assertNotIn(pub, [p["public_key"] for p in leader["wg"]["peers"]])
            self.assertNotIn(out["node_id"], [n["id"] for n in st["nodes"]])
            p = c.topology.run("ns7", ["curl", "-sS", "--max-time", "3", "-X", "POST",
                                       c.vpn_api + "/login"], check=False)
            self.assertNotEqual(p.returncode, 0)

    def test_reused_key_is_rejected(self):
        c = self.cluster
        priv, pub, out = self.join_ns7()
        res = self.run_task("cluster", "add-node", testing.add_node_input(pub))
        self.assertEqual(res["exit_code"], 2, res)
        self.assertEqual(res["output"], [{"field": "public_key", "parameter": "public_key",
                                          "value": pub,
                                          "error": "public_key_matches_existing_node"}])
        # the key of a cluster node is taken as well
        leader_key = c.control.info()["leader_public_key"]
        res = self.run_task("cluster", "add-node", testing.add_node_input(leader_key))
        self.assertEqual(res["output"][0]["error"], "public_key_matches_existing_node")
        # no node was added by the failed calls
        nodes = [n for n in c.control.state()["nodes"] if n["vpn"]["public_key"] == pub]
        self.assertEqual(len(nodes), 1)
        self.run_task("cluster", "remove-node", {"node_id": out["node_id"]})

    def test_consecutive_joins_get_new_ids_and_ips(self):
        _, _, a = self.join_ns7()
        _, _, b = self.join_ns7()
        self.assertEqual(b["node_id"], a["node_id"] + 1)
        self.assertNotEqual(a["ip_address"], b["ip_address"])
        for o in (a, b):
            self.assertEqual(self.run_task("cluster", "remove-node",
                                           {"node_id": o["node_id"]})["exit_code"], 0)


class VpnNetworkOptionTest(testing.ClusterTestCase):
    """--vpn-network: another documentation range, leader .1, joined nodes after."""
    cluster_kwargs = {"vpn_network": "203.0.113.0/24", "nodes": 1, "peer_delay": 0.2,
                      "leader_endpoint": "nowhere.invalid:55820"}

    def test_network_and_endpoint_are_configurable(self):
        c = self.cluster
        self.assertEqual(c.leader_vpn_ip, "203.0.113.1")
        _, _, out = self.join_ns7()
        self.assertEqual(out["network"], "203.0.113.0/24")
        self.assertEqual(out["ip_address"], "203.0.113.2")
        self.assertEqual(out["leader_endpoint"], "nowhere.invalid:55820")

    def test_underlay_overlap_is_refused(self):
        from ns8sim import Cluster
        with self.assertRaises(ValueError):
            Cluster(vpn_network="192.0.2.128/25")


if __name__ == "__main__":
    unittest.main()
