"""Manager.Connect and Manager.Disconnect against the simulated NS8 cluster.

The helper runs inside the NS7 network namespace of the simulator's
topology, on the harness's private system bus, and builds a real WireGuard
tunnel (wireguard-go) to the simulated leader.  Every test leaves the helper
disconnected, so they can run in any order.
"""

import os
import re
import stat
import subprocess
import time
import unittest

from clusterfixture import ERR, ROOT, USER_DOMAIN, ConnectTestCase
from harness.client import MANAGER_IFACE
# An NS8 cluster that already has a remote LDAP domain and an AD domain.
DOMAINS = [
    {"name": "directory.nh", "location": "external", "schema": "rfc2307",
     "host": "203.0.113.10", "port": 636},
    {"name": "ad.example.org", "location": "external", "schema": "ad",
     "host": "203.0.113.11", "port": 636},
]
LOCAL_LDAP = ("sssd=service|BaseDN|dc=directory,dc=nh|BindDN|cn=libuser,dc=directory,dc=nh|"
              "BindPassword|LdapBindSecret7|LdapURI|ldap://127.0.0.1|Provider|ldap|status|enabled")
REMOTE_LDAP = ("sssd=service|BaseDN|dc=directory,dc=nh|BindDN|cn=reader,dc=directory,dc=nh|"
               "BindPassword|RemoteBind9|LdapURI|ldaps://203.0.113.10|Provider|ldap|status|enabled")
REMOTE_LDAP_NO_MATCH = REMOTE_LDAP.replace("dc=directory,dc=nh", "dc=elsewhere,dc=org")
LOCAL_AD = ("sssd=service|BaseDN|dc=ns7ad,dc=example,dc=com|BindDN|ldapservice@NS7AD.EXAMPLE.COM|"
            "BindPassword|AdBindSecret3|LdapURI|ldaps://nsdc-ns7.ns7ad.example.com|Provider|ad|"
            "Realm|NS7AD.EXAMPLE.COM|status|enabled\n"
            "nsdc=service|IpAddress|203.0.113.50|bridge|br0|status|enabled")
MUTATING = {"add-node", "add-user", "add-external-domain", "update-routes", "remove-node",
            "remove-user", "remove-external-domain", "import-module", "add-module", "remove-module"}


def colon_hex(fp):
    h = fp.replace(":", "").upper()
    return ":".join(h[i:i + 2] for i in range(0, len(h), 2))


class ConnectTest(ConnectTestCase):
    CLUSTER = {"nodes": 1, "domains": DOMAINS, "modules": []}

    def setUp(self):
        self.set_provider(LOCAL_LDAP)
        super().setUp()

    # -- helpers -----------------------------------------------------------
    def set_provider(self, sssd_line):
        lines = [l for l in self.config_text.splitlines() if not l.startswith(("sssd=", "nsdc="))]
        with open(self.config_path, "w") as f:
            f.write("\n".join(lines + [sssd_line]) + "\n")

    def link_exists(self):
        return self.in_ns7("ip", "link", "show", "ns8").returncode == 0

    def secrets(self):
        d = os.path.join(self.sb.state_dir, "secrets")
        return sorted(os.listdir(d)) if os.path.isdir(d) else []

    def mutations_since(self, seq):
        return [r for r in self.cluster.control.requests(since=seq)
                if r.get("action") in MUTATING]

    def assert_cluster_as_before(self):
        now = self.cluster.control.state()
        self.assertEqual([n["id"] for n in now["nodes"]], [n["id"] for n in self.before["nodes"]])
        self.assertEqual([u["user"] for u in now["users"]], [u["user"] for u in self.before["users"]])
        self.assertEqual([d["name"] for d in now["domains"]], [d["name"] for d in self.before["domains"]])

    def shorewall_zones(self):
        """{interface: zone} of NS7's shorewall interfaces file as the last
        expansion wrote it."""
        path = os.path.join(self.sb.root, "etc/shorewall/interfaces")
        zones = {}
        with open(path) as f:
            for line in f:
                fields = line.split("#", 1)[0].split()
                if len(fields) >= 2:
                    zones[fields[1]] = (fields[0], fields[2:])
        return zones

    def assert_tunnel_in_green_zone(self):
        """NS7's way: the package's record says so, firewall-adjust ran after
        it, and the expanded shorewall interfaces put ns8 in zone loc."""
        self.assertEqual(self.sb.ns7.db()["ns8-migration"][1].get("Tunnel"), "enabled")
        self.assertEqual(self.shorewall_zones().get("ns8"), ("loc", ["optional"]))
        events = [c["argv"] for c in self.sb.ns7.calls("signal-event")]
        self.assertIn(["firewall-adjust"], events)

    def assert_ns7_clean(self):
        self.assertFalse(self.link_exists(), "the ns8 interface is still there")
        self.assertEqual(self.sb.ns7.db()["ns8-migration"][1].get("Tunnel"), "disabled")
        self.assertNotIn("ns8", self.shorewall_zones(), "the ns8 interface is still in a shorewall zone")
        self.assertEqual(self.secrets(), [])
        m = self.manager()
        self.assertEqual((m["State"], m["NodeId"], m["VpnAddress"], m["Leader"]), ("disconnected", 0, "", ""))

    def restart_with_ca(self):
        if self.manager()["State"] == "connected":
            self.wait(self.bus.call(ROOT, MANAGER_IFACE, "Disconnect", "a{sv}", [{"force": True}]))
        self.sb.helper.stop()
        self.sb.helper.extra_args = list(self.with_ca)
        self.sb.helper.start()

    # -- tests ---------------------------------------------------------------
    def test_connect_and_disconnect_with_verified_tls(self):
        self.assertNotIn("ns8", self.shorewall_zones())
        props = self.connect_ok()
        self.assertEqual(props["Operation"], "connect")
        self.assert_tunnel_in_green_zone()
        # Any later firewall event (a software update runs one) keeps it.
        self.sb.ns7.clear_calls()
        self.assertEqual(self.sb.ns7.signal_event("firewall-adjust").returncode, 0)
        self.assertEqual(self.shorewall_zones().get("ns8"), ("loc", ["optional"]))
        self.assertEqual([s[2] for s in props["Steps"]], [1.0] * len(props["Steps"]))
        m = self.manager()
        self.assertEqual(m["State"], "connected")
        self.assertEqual(m["Leader"], self.cluster.leader_host)
        self.assertEqual(m["UserDomain"], USER_DOMAIN)
        self.assertEqual(m["TlsFingerprint"], colon_hex(self.cluster.tls_fingerprint))
        node_id = m["NodeId"]
        state = self.cluster.control.state()
        node = [n for n in state["nodes"] if n["id"] == node_id][0]
        self.assertEqual(node["vpn"]["ip_address"], m["VpnAddress"])
        # The key NS8 knows is the key of the interface, and it is fresh.
        pub = self.in_helper_ns("wg", "show", "ns8", "public-key").stdout.strip()
        self.assertEqual(node["vpn"]["public_key"], pub)
        users = {u["user"]: u for u in state["users"]}
        self.assertIn("ns7admin%d" % node_id, users)
        self.assertIn({"role": "owner", "on": "*"}, users["ns7admin%d" % node_id]["grants"])
        domain = [d for d in state["domains"] if d["name"] == USER_DOMAIN][0]
        self.assertEqual((domain["location"], domain["schema"]), ("external", "rfc2307"))
        self.assertEqual(domain["providers"][0]["host"], m["VpnAddress"])
        self.assertEqual(domain["base_dn"], "dc=directory,dc=nh")
        # Through the tunnel: ping and the API.
        self.assertEqual(self.in_ns7("ping", "-c", "1", "-W", "3", self.cluster.leader_vpn_ip).returncode, 0)
        status, body = self.cluster.curl("POST", "/login", {"username": self.cluster.admin.user,
                                                            "password": self.cluster.admin.password},
                                         via="vpn")[:2]
        self.assertEqual(status, 200, body)
        # Secrets are root-only and never in the log.
        self.assertEqual(self.secrets(), ["account", "wireguard.key"])
        for name in self.secrets():
            path = os.path.join(self.sb.state_dir, "secrets", name)
            self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)
        with open(os.path.join(self.sb.state_dir, "secrets", "wireguard.key")) as f:
            private = f.read().strip()
        log = self.read_log()
        for secret in (private, self.cluster.admin.password, "LdapBindSecret7"):
            self.assertNotIn(secret, log)
            self.assertNotIn(secret, self.sb.helper.log())
        self.assertIn("Join cluster", log)
        # The process list does not show the key or passwords either.
        ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
        self.assertNotIn(private, ps)

        seq = self.request_count()
        err, _ = self.connect()
        self.assertEqual(err, ERR + "WrongState")
        self.assertEqual(self.mutations_since(seq), [])

        done = self.wait(self.bus.call(ROOT, MANAGER_IFACE, "Disconnect", "a{sv}", [{}]))
        self.assertTrue(done["Success"], done["Message"])
        self.assert_cluster_as_before()
        self.assert_ns7_clean()
        self.assertIn("Leave cluster", self.read_log())

    def test_wrong_password_changes_nothing(self):
        seq = self.request_count()
        err, msg = self.connect(password="not-the-password")
        self.assertEqual(err, ERR + "AuthenticationFailed")
        self.assertIn("password", msg)
        self.assertEqual(self.mutations_since(seq), [])
        self.assert_cluster_as_before()
        self.assert_ns7_clean()
        self.connect_ok()

    def test_tls_fingerprint_pin(self):
        expected = colon_hex(self.cluster.tls_fingerprint)
        # Without the CA the certificate is not trusted; the fingerprint is shown.
        self.sb.helper.stop()
        self.sb.helper.extra_args = ["--vpn-timeout=30"]
        self.sb.helper.start()
        self.addCleanup(self.restart_with_ca)
        err, msg = self.connect()
        self.assertEqual(err, ERR + "TlsNotTrusted")
        self.assertIn(expected, msg)
        self.assertEqual(self.manager()["TlsFingerprint"], expected)
        # A pin that does not match is refused...
        wrong = ":".join(["AB"] * 32)
        err, msg = self.connect(tls_verify=False, tls_fingerprint=wrong)
        self.assertEqual(err, ERR + "TlsNotTrusted")
        self.assertIn(expected, msg)
        self.assert_cluster_as_before()
        # ... the fingerprint the administrator saw is accepted, in either spelling.
        self.connect_ok(tls_verify=False, tls_fingerprint=self.cluster.tls_fingerprint)
        self.assertEqual(self.manager()["State"], "connected")

    def test_two_factor_account(self):
        acc = self.cluster.otp_account
        err, msg = self.connect(username=acc.user, password=acc.password)
        self.assertEqual(err, ERR + "OtpRequired")
        err, msg = self.connect(username=acc.user, password=acc.password, otp="12")
        self.assertEqual(err, ERR + "InvalidArgument")
        self.assert_cluster_as_before()
        otp = self.cluster.otp()
        job = self.connect_ok(username=acc.user, password=acc.password, otp=otp)
        # The code is a secret for its 30 s: not in the log, the job, the
        # Manager's properties or the state (as a number of its own).
        alone = re.compile(r"(?<![0-9])%s(?![0-9])" % otp)
        self.assertIsNone(alone.search(self.read_log()), "the OTP is in the log")
        self.assertIsNone(alone.search(repr(job) + repr(self.manager())), "the OTP is in a property")
        for name in ("state.db", "state.db-wal"):
            path = os.path.join(self.sb.state_dir, name)
            if os.path.exists(path):
                with open(path, "rb") as f:
                    self.assertIsNone(re.search(alone.pattern.encode(), f.read()), "the OTP is in " + name)

    def test_failing_add_user_is_undone(self):
        self.cluster.control.fault("fail_action", action="add-user", count=1, exit_code=1,
                                   error="simulated: redis is read-only\n")
        err, job = self.connect()
        self.assertIsNone(err, job)
        props = self.wait(job)
        self.assertFalse(props["Success"])
        self.assertIn("migration account", props["Message"])
        self.assertIn("Nothing was left behind", props["Message"])
        self.assertEqual(props["ErrorName"], ERR + "Failed")
        self.assert_cluster_as_before()
        self.assert_ns7_clean()
        self.connect_ok()

    def remove_by_hand(self, action, data):
        result = self.cluster.run_task("cluster", action, data, token=self.cluster.login())
        self.assertEqual(result["exit_code"], 0, result)

    def test_failing_domain_is_undone_newest_first(self):
        seq = self.request_count()
        self.cluster.control.fault("fail_action", action="add-external-domain", count=1, exit_code=1,
                                   error="simulated: the domain cannot be added\n")
        err, job = self.connect()
        self.assertIsNone(err, job)
        props = self.wait(job)
        self.assertFalse(props["Success"])
        self.assertTrue(props["Message"].startswith("Creating the temporary user domain failed: "), props["Message"])
        self.assertIn("Nothing was left behind", props["Message"])
        self.assertEqual(props["ErrorName"], ERR + "DomainConflict")
        self.assertEqual([(s[0], s[1]) for s in props["Steps"]], [
            ("reach", "Reach the NS8 leader"), ("login", "Log in"), ("read-cluster", "Read the cluster"),
            ("account-provider", "Check the account provider"), ("add-node", "Add this server as a node"),
            ("endpoint", "Resolve the VPN endpoint"), ("account", "Create the migration account"),
            ("tunnel", "Bring up the VPN"), ("firewall", "Let the VPN through NS7's firewall"),
            ("user-domain", "Create the temporary user domain"),
            ("save", "Save the connection")])
        self.assertEqual([r["action"] for r in self.mutations_since(seq)],
                         ["add-node", "add-user", "add-external-domain", "remove-user", "remove-node"])
        self.assert_cluster_as_before()
        self.assert_ns7_clean()

    def test_local_ad_route_is_undone(self):
        self.set_provider(LOCAL_AD)
        seq = self.request_count()
        self.cluster.control.fault("fail_action", action="add-external-domain", count=1, exit_code=1)
        err, job = self.connect(user_domain=None)
        self.assertIsNone(err, job)
        props = self.wait(job)
        self.assertFalse(props["Success"])
        self.assertIn("Nothing was left behind", props["Message"])
        mutations = self.mutations_since(seq)
        self.assertEqual([r["action"] for r in mutations],
                         ["add-node", "add-user", "update-routes", "add-external-domain", "update-routes",
                          "remove-user", "remove-node"])
        self.assertEqual(mutations[4]["input"]["data"]["remove"][0]["ip_address"], "203.0.113.50")
        self.assertEqual(self.cluster.control.state()["routes"], [])
        self.assert_cluster_as_before()
        self.assert_ns7_clean()
        # A route NS8 refuses: nothing after it runs, the rest is undone.
        seq = self.request_count()
        self.cluster.control.fault("fail_action", action="update-routes", count=1, exit_code=1)
        err, job = self.connect(user_domain=None)
        self.assertIsNone(err, job)
        props = self.wait(job)
        self.assertFalse(props["Success"])
        self.assertTrue(props["Message"].startswith("Routing to the domain controller failed: "), props["Message"])
        self.assertIn("Nothing was left behind", props["Message"])
        self.assertEqual([r["action"] for r in self.mutations_since(seq)],
                         ["add-node", "add-user", "update-routes", "remove-user", "remove-node"])
        self.assert_cluster_as_before()
        self.assert_ns7_clean()

    def test_undo_that_fails_is_named(self):
        seq = self.request_count()
        self.cluster.control.fault("fail_action", action="add-external-domain", count=1, exit_code=1)
        self.cluster.control.fault("fail_action", action="remove-node", count=1, exit_code=1,
                                   error="simulated: the node cannot be removed\n")
        err, job = self.connect()
        self.assertIsNone(err, job)
        props = self.wait(job)
        added = [r for r in self.mutations_since(seq) if r["action"] == "add-node"]
        node_id = [n["id"] for n in self.cluster.control.state()["nodes"]
                   if n["id"] not in [b["id"] for b in self.before["nodes"]]]
        self.assertEqual(len(added), 1)
        self.assertEqual(len(node_id), 1, "the node whose removal failed is still there")
        self.remove_by_hand("remove-node", {"node_id": node_id[0]})
        self.assertFalse(props["Success"])
        self.assertEqual(props["ErrorName"], ERR + "DomainConflict")
        self.assertTrue(props["Message"].endswith(
            " These could not be removed from NS8 and must be removed by hand: node_id=%d." % node_id[0]),
            props["Message"])
        self.assertNotIn("Nothing was left behind", props["Message"])
        # The other undo functions still ran.
        self.assert_cluster_as_before()
        self.assert_ns7_clean()
        self.assertIn("node_id=%d could not be removed" % node_id[0], self.read_log())

    def test_disconnect_goes_on_past_a_failure(self):
        self.connect_ok()
        node_id = self.manager()["NodeId"]
        seq = self.request_count()
        self.cluster.control.fault("fail_action", action="remove-user", count=1, exit_code=1)
        props = self.disconnect()
        self.assertFalse(props["Success"])
        self.assertEqual(props["ErrorName"], ERR + "ClusterUnreachable")
        self.assertIn("could not remove: user=ns7admin%d. Remove them by hand" % node_id, props["Message"])
        self.assertEqual([s[0] for s in props["Steps"]],
                         ["login", "user-domain", "node", "account", "tunnel", "firewall", "forget"])
        self.assertEqual([r["action"] for r in self.mutations_since(seq)],
                         ["remove-external-domain", "remove-node", "remove-user"])
        users = [u["user"] for u in self.cluster.control.state()["users"]]
        self.assertIn("ns7admin%d" % node_id, users)
        self.remove_by_hand("remove-user", {"user": "ns7admin%d" % node_id})
        self.assert_cluster_as_before()
        self.assert_ns7_clean()

    def test_unresolvable_vpn_endpoint_is_refused(self):
        # The leader is reached by address; its VPN endpoint name does not
        # resolve: the preflight checks refuse before anything is created.
        hosts = "/etc/netns/%s/hosts" % self.ns7
        with open(hosts) as f:
            original = f.read()
        leader_ip = [l.split()[0] for l in original.splitlines()
                     if self.cluster.leader_host in l.split()[1:]][0]
        seq = self.request_count()
        try:
            with open(hosts, "r+") as f:  # in place: the helper's bind mount sees it
                f.seek(0)
                f.write("\n".join(l for l in original.splitlines()
                                  if self.cluster.leader_host not in l.split()[1:]) + "\n")
                f.truncate()
            err, msg = self.connect(leader=leader_ip, tls_verify=False,
                                    tls_fingerprint=self.cluster.tls_fingerprint)
        finally:
            with open(hosts, "r+") as f:
                f.seek(0)
                f.write(original)
                f.truncate()
        self.assertEqual(err, ERR + "PreflightFailed", msg)
        self.assertIn("vpn-endpoint", msg)
        self.assertIn("55820", msg)
        self.assertIn("DNS", msg)
        self.assertEqual(self.mutations_since(seq), [])
        self.assert_cluster_as_before()
        self.assert_ns7_clean()

    def test_domain_conflict_and_remote_providers(self):
        seq = self.request_count()
        err, msg = self.connect(user_domain="directory.nh")
        self.assertEqual(err, ERR + "DomainConflict")
        self.assertIn("directory.nh", msg)
        err, msg = self.connect(user_domain=None)
        self.assertEqual(err, ERR + "InvalidArgument")
        self.set_provider(REMOTE_LDAP_NO_MATCH)
        err, msg = self.connect(user_domain=None)
        self.assertEqual(err, ERR + "DomainConflict")
        self.assertIn("elsewhere.org", msg)
        self.assertEqual(self.mutations_since(seq), [])
        self.assert_cluster_as_before()
        # A remote LDAP whose base DN matches an NS8 external domain: no new domain.
        self.set_provider(REMOTE_LDAP)
        self.connect_ok(user_domain=None)
        self.assertEqual(self.manager()["UserDomain"], "directory.nh")
        added = [r["action"] for r in self.mutations_since(seq)]
        self.assertNotIn("add-external-domain", added)
        done = self.wait(self.bus.call(ROOT, MANAGER_IFACE, "Disconnect", "a{sv}", [{}]))
        self.assertTrue(done["Success"], done["Message"])
        # The administrator's domain is not ours to remove.
        self.assertIn("directory.nh", [d["name"] for d in self.cluster.control.state()["domains"]])

    def test_local_samba_ad(self):
        self.set_provider(LOCAL_AD)
        seq = self.request_count()
        self.connect_ok(user_domain=None)
        m = self.manager()
        self.assertEqual(m["UserDomain"], "ns7ad.example.com")
        actions = [r["action"] for r in self.mutations_since(seq)]
        # The route to NS7's domain controller comes before the domain.
        self.assertLess(actions.index("update-routes"), actions.index("add-external-domain"))
        state = self.cluster.control.state()
        domain = [d for d in state["domains"] if d["name"] == "ns7ad.example.com"][0]
        self.assertEqual(domain["schema"], "ad")
        self.assertEqual(domain["providers"][0]["host"], "203.0.113.50")
        routes = [r for r in self.cluster.control.requests(since=seq) if r.get("action") == "update-routes"]
        self.assertEqual(routes[0]["input"]["data"]["add"], [{"ip_address": "203.0.113.50", "node_id": m["NodeId"]}])
        self.assertNotIn("AdBindSecret3", self.read_log())
        done = self.wait(self.bus.call(ROOT, MANAGER_IFACE, "Disconnect", "a{sv}", [{}]))
        self.assertTrue(done["Success"], done["Message"])
        self.assert_cluster_as_before()

    def test_task_that_never_ends_times_out(self):
        self.sb.helper.stop()
        self.sb.helper.extra_args = self.with_ca[:-1] + ["--task-timeout=3"]
        self.sb.helper.start()
        self.addCleanup(self.restart_with_ca)
        self.cluster.control.fault("slow", action="list-user-domains", delay=20)
        seq = self.request_count()
        err, msg = self.connect()
        self.assertEqual(err, ERR + "Failed")
        self.assertIn("did not end in time", msg)
        self.assertEqual(self.mutations_since(seq), [])
        self.assert_ns7_clean()

    def test_tunnel_restored_after_restart(self):
        self.connect_ok()
        vpn_ip = self.manager()["VpnAddress"]
        self.sb.helper.kill()
        self.in_ns7("ip", "link", "del", "ns8", check=True)  # as after a reboot
        self.sb.helper.start()
        m = self.manager()
        self.assertEqual((m["State"], m["VpnAddress"]), ("connected", vpn_ip))
        deadline = time.monotonic() + 40
        while self.in_ns7("ping", "-c", "1", "-W", "1", self.cluster.leader_vpn_ip).returncode != 0:
            if time.monotonic() > deadline:
                self.fail("the tunnel did not come back within 40 s:\n" + self.sb.helper.log()[-2000:])
            time.sleep(0.5)
        status = self.cluster.curl("POST", "/login", {"username": self.cluster.admin.user,
                                                      "password": self.cluster.admin.password},
                                   via="vpn")[0]
        self.assertEqual(status, 200)

    def test_token_expiry_and_429_are_survived(self):
        # add-node runs for a while; the tokens expire meanwhile; then a
        # burst of 429 answers on the task status.
        self.cluster.control.fault("slow", action="add-node", delay=2)
        self.cluster.control.fault("http_status", status=429, count=3, path="/status")
        err, job = self.connect()
        self.assertIsNone(err, job)
        time.sleep(1)
        self.cluster.control.expire_tokens()
        props = self.wait(job)
        self.assertTrue(props["Success"], props["Message"])
        reqs = self.cluster.control.requests()
        self.assertTrue(any(r.get("http_status") == 429 for r in reqs))
        self.assertTrue(any(r.get("http_status") == 401 for r in reqs))

    def test_bad_input(self):
        seq = self.request_count()
        cases = [
            ({"leader": "https://leader.ns8.test"}, "without"),
            ({"leader": "leader ns8 test"}, "spaces"),
            ({"leader": ""}, "host name"),
            ({"leader": "x" * 300}, "too long"),
            ({"username": ""}, "user name"),
            ({"password": ""}, "password"),
            ({"tls_fingerprint": "12:34"}, "SHA-256"),
            ({"tls_verify": True, "tls_fingerprint": self.cluster.tls_fingerprint}, "validation is off"),
        ]
        for opts, words in cases:
            err, msg = self.connect(**opts)
            self.assertEqual(err, ERR + "InvalidArgument", (opts, msg))
            self.assertIn(words, msg, opts)
        err, msg = self.bus.call_error(ROOT, MANAGER_IFACE, "Connect", "a{sv}",
                                       [{"leader": "x", "colour": "red"}])
        self.assertEqual(err, ERR + "InvalidArgument")
        self.assertIn("colour", msg)
        import dbus
        err, msg = self.bus.call_error(ROOT, MANAGER_IFACE, "Connect", "a{sv}",
                                       [{"tls_verify": dbus.String("yes")}])
        self.assertEqual(err, ERR + "InvalidArgument")
        self.assertIn("boolean", msg)
        err, msg = self.bus.call_error(ROOT, MANAGER_IFACE, "Disconnect", "a{sv}", [{}])
        self.assertEqual(err, ERR + "WrongState")
        self.assertEqual(self.mutations_since(seq), [])
        self.assertEqual(self.request_count(), seq, "bad input reached the cluster")
        self.assertTrue(self.bus.ping())


if __name__ == "__main__":
    unittest.main()
