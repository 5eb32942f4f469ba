"""The helper's network edge against a leader that is not what it claims:
a certificate the CAs accept but not the pinned one, no pin at all with
validation off, and add-node answers NS8 would never give (a default route
as the cluster network, an endpoint that reads as an option).

Joins the simulated cluster (RESOURCE_LOCK ns8-interface)."""

import os
import unittest

from clusterfixture import ERR, ClusterTestCase

LOCAL_LDAP = ("sssd=service|BaseDN|dc=directory,dc=nh|BindDN|cn=libuser,dc=directory,dc=nh|"
              "BindPassword|LdapBindSecret7|LdapURI|ldap://127.0.0.1|Provider|ldap|status|enabled")


def colon_hex(fp):
    h = fp.replace(":", "").upper()
    return ":".join(h[i:i + 2] for i in range(0, len(h), 2))


class NetEdgeTest(ClusterTestCase):
    CLUSTER = {"nodes": 1, "modules": []}
    SANDBOX = {"files": 20, "cdr_rows": 5}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        lines = [l for l in cls.config_text.splitlines() if not l.startswith(("sssd=", "nsdc="))]
        with open(cls.config_path, "w") as f:
            f.write("\n".join(lines + [LOCAL_LDAP]) + "\n")

    def setUp(self):
        self.cluster.control.reset_faults()
        self.before = self.cluster.control.state()

    def tearDown(self):
        self.cluster.control.reset_faults()
        if self.manager()["State"] == "connected":
            self.disconnect(force=True)
        self.assertEqual(self.sb.helper.sanitizer_errors(), [])

    def requests_since(self, seq):
        return self.cluster.control.requests(since=seq)

    def routes(self):
        return (self.in_ns7("ip", "-4", "route", "show", "table", "all").stdout,
                self.in_ns7("ip", "-6", "route", "show", "table", "all").stdout)

    def assert_nothing_left(self):
        now = self.cluster.control.state()
        self.assertEqual([n["id"] for n in now["nodes"]], [n["id"] for n in self.before["nodes"]])
        self.assertEqual([u["user"] for u in now["users"]], [u["user"] for u in self.before["users"]])
        self.assertNotEqual(self.in_ns7("ip", "link", "show", "ns8").returncode, 0, "the ns8 interface exists")
        m = self.manager()
        self.assertEqual((m["State"], m["NodeId"], m["VpnAddress"]), ("disconnected", 0, ""))

    # -- issue #17, row 3 ------------------------------------------------------
    def test_pin_is_checked_on_a_certificate_the_cas_accept(self):
        """The helper trusts the simulator's CA: the certificate is valid,
        yet a pin that is not its fingerprint ends the connection before the
        password leaves."""
        expected = colon_hex(self.cluster.tls_fingerprint)
        wrong = ":".join(["AB"] * 32)
        seq = self.request_count()
        err, msg = self.connect(tls_verify=False, tls_fingerprint=wrong, accept_warnings=True)
        self.assertEqual(err, ERR + "TlsNotTrusted", msg)
        self.assertIn(expected, msg)
        self.assertIn(wrong, msg)
        # Not a byte of HTTP reached the leader: no login, no password.
        self.assertEqual(self.requests_since(seq), [])
        self.assertEqual(self.manager()["State"], "disconnected")
        self.assert_nothing_left()
        # The certificate's own fingerprint goes through (and is the one saved).
        self.connect_ok(tls_verify=False, tls_fingerprint=self.cluster.tls_fingerprint, accept_warnings=True)
        self.assertEqual(self.manager()["TlsFingerprint"], expected)

    def test_unverified_without_pin_is_refused(self):
        seq = self.request_count()
        err, msg = self.connect(tls_verify=False, accept_warnings=True)
        self.assertEqual(err, ERR + "InvalidArgument", msg)
        self.assertIn("tls_fingerprint", msg)
        self.assertEqual(self.requests_since(seq), [])
        self.assert_nothing_left()

    # -- issue #17, row 4 ------------------------------------------------------
    def test_hostile_add_node_answers(self):
        """add-node answers a default route, a network over NS7's own LAN, an
        endpoint that reads as an option: Connect fails naming it, the node
        NS8 created is removed, and NS7's routes are as they were."""
        before = self.routes()
        cases = [
            ({"network": "0.0.0.0/0"}, "0.0.0.0/0 as the cluster's VPN network: that is a default route"),
            ({"network": "192.0.2.0/25", "ip_address": "192.0.2.3", "leader_ip_address": "192.0.2.1"},
             "it overlaps 192.0.2.7/24"),
            ({"leader_endpoint": "-x"}, "\"-x\" as the leader's VPN endpoint"),
            ({"network": "0.0.0.0/0", "leader_endpoint": "-x"}, "that is a default route"),
        ]
        for override, sentence in cases:
            with self.subTest(override=override):
                seq = self.request_count()
                self.cluster.control.fault("answer_override", action="add-node", set=override)
                err, job = self.connect(accept_warnings=True)
                self.assertIsNone(err, job)
                props = self.wait(job)
                self.assertFalse(props["Success"])
                self.assertEqual(props["ErrorName"], ERR + "Failed")
                self.assertTrue(props["Message"].startswith("Adding the node failed: NS8 gave "), props["Message"])
                self.assertIn(sentence, props["Message"])
                self.assertIn("Nothing was left behind", props["Message"])
                actions = [r["action"] for r in self.requests_since(seq) if r.get("action")]
                self.assertIn("remove-node", actions)
                self.assertNotIn("add-user", actions)
                self.assertEqual(self.routes(), before)
                self.assert_nothing_left()
                # Refused before the endpoint was looked up (getent) or the tunnel made.
                progress = {step[0]: step[2] for step in props["Steps"]}
                self.assertEqual((progress["endpoint"], progress["tunnel"]), (0.0, 0.0))
        # A sound answer still joins.
        self.connect_ok(accept_warnings=True)


if __name__ == "__main__":
    unittest.main()
