"""The openldap module's import (OTHER-APPS.md, "Account provider
migration"): import.env and volumes/data/dump-mdb0.ldif sent through the
receiver from NS7; at /terminate the LDIF goes into a real slapd with NS8's
schemas under the new suffix, the internal user domain appears, and the
directory answers searches, from NS8's side as its apps bind."""

import os

from harness.ldap import NS7_SUFFIX, NS7_SVC_DN, NS7Directory, ldif_entry, ssha
from ns8sim import testing
from ns8sim.ns7vpn import Ns7Tunnel

SUFFIX = "dc=corp,dc=example,dc=test"
DOMAIN = "corp.example.test"
SVCPASS = "Svc-Pass-4711"


def good_dump(suffix=SUFFIX, extra=""):
    """An LDIF as the migration makes it from NS7's directory: the schema
    already fixed for NS8 (pwdChangedTime, pwdAccountLockedTime, no NS6
    classes), the suffix rewritten."""
    people, groups = "ou=People," + suffix, "ou=Groups," + suffix
    entries = [
        ldif_entry(suffix, [("objectClass", "top"), ("objectClass", "dcObject"),
                            ("objectClass", "organization"), ("dc", "corp"), ("o", "NethServer")]),
        ldif_entry("cn=ldapservice," + suffix, [
            ("objectClass", "top"), ("objectClass", "organizationalRole"),
            ("objectClass", "simpleSecurityObject"), ("cn", "ldapservice"),
            ("userPassword", ssha(SVCPASS))]),
        ldif_entry(people, [("objectClass", "top"), ("objectClass", "organizationalUnit"),
                            ("ou", "People")]),
        ldif_entry(groups, [("objectClass", "top"), ("objectClass", "organizationalUnit"),
                            ("ou", "Groups")])]
    for uid, cn, number, extra_attrs in (
            ("alice", "Alice Rossi", 1001, [("pwdChangedTime", "20231124000000Z")]),
            ("carol", "Carol Neri", 1003, [("pwdAccountLockedTime", "000001010000Z")]),
            ("nicolo", "Nicolò Caffè", 1006, [])):
        entries.append(ldif_entry("uid=%s,%s" % (uid, people), [
            ("objectClass", c) for c in ("top", "person", "organizationalPerson", "inetOrgPerson",
                                         "posixAccount", "shadowAccount")] + [
            ("uid", uid), ("cn", cn), ("sn", cn.split()[-1]), ("displayName", cn),
            ("uidNumber", str(number)), ("gidNumber", "100"), ("homeDirectory", "/home/" + uid),
            ("userPassword", ssha("pw-" + uid)), ("shadowLastChange", "19700"),
            ("shadowMax", "180")] + extra_attrs))
    entries.append(ldif_entry("cn=sales," + groups, [
        ("objectClass", "top"), ("objectClass", "posixGroup"), ("cn", "sales"),
        ("gidNumber", "1101"), ("memberUid", "alice"), ("memberUid", "nicolo")]))
    return "\n".join(entries) + ("\n" + extra if extra else "")


# A user still carrying NethServer 6's Samba class: NS8 has no such schema.
NS6_USER = ldif_entry("uid=eve,ou=People," + SUFFIX, [
    ("objectClass", c) for c in ("top", "person", "organizationalPerson", "inetOrgPerson",
                                 "posixAccount", "sambaSamAccount")] + [
    ("uid", "eve"), ("cn", "Eve Gialli"), ("sn", "Gialli"), ("uidNumber", "1005"),
    ("gidNumber", "100"), ("homeDirectory", "/home/eve"),
    ("sambaSID", "S-1-5-21-1111111111-2222222222-3333333333-3010")])


def rewrite_suffix(ldif, suffix=SUFFIX):
    """The migration's suffix rewrite only (no schema fix): NS7's
    dc=directory,dc=nh -> suffix, the top entry's dc -> its first label."""
    return ldif.replace(NS7_SUFFIX, suffix).replace("\ndc: directory\n",
                                                   "\ndc: %s\n" % suffix.split(",")[0][3:])


def drop_ns6_samba(ldif):
    """The schema fix's part for NS6's Samba class: the class and its attributes."""
    return "".join(line for line in ldif.splitlines(True)
                   if line.rstrip("\n") != "objectClass: sambaSamAccount"
                   and not line.lower().startswith("samba"))


def import_env(domain=DOMAIN, suffix=SUFFIX, drop=()):
    env = {"LDAP_SVCUSER": "ldapservice", "LDAP_SVCPASS": SVCPASS, "LDAP_DOMAIN": domain,
           "LDAP_SUFFIX": suffix}
    return "".join("%s=%s\n" % kv for kv in env.items() if kv[0] not in drop)


class OpenLdapImportTest(testing.ClusterTestCase):
    cluster_kwargs = {"nodes": 1, "peer_delay": 0.2, "task_delay": 0.1,
                      "domains": [{"name": "taken.example.test"}]}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        c = cls.cluster
        priv, pub = testing.genkey()
        res = c.run_task("cluster", "add-node", testing.add_node_input(pub), token=cls.admin_token)
        assert res["exit_code"] == 0, res
        cls.tunnel = Ns7Tunnel(c.topology, priv)
        cls.addClassCleanup(cls.tunnel.down)
        cls.tunnel.up(res["output"])
        cls.ns7_vpn_ip = res["output"]["ip_address"]
        testing.util.wait_for(
            lambda: c.topology.run("ns7", ["ping", "-c1", "-W1", c.leader_vpn_ip],
                                   check=False).returncode == 0, 30, "the VPN to come up")
        cls.src = os.path.join(c.run_dir, "ns7-ldap")

    def migrate(self, env_text, dump_text):
        """import-module openldap, the two files sent as the migration does,
        /terminate: (module id, the module task's result)."""
        c = self.cluster
        res = self.run_task("cluster", "import-module", {"image": "openldap", "node": 1,
                                                         "volumes": ["data"]})
        self.assertEqual(res["exit_code"], 0, res)
        out = res["output"]
        src = os.path.join(self.src, out["module_id"])
        os.makedirs(os.path.join(src, "state"))
        os.makedirs(os.path.join(src, "volumes", "data"))
        with open(os.path.join(src, "state", "import.env"), "w") as f:
            f.write(env_text)
        if dump_text is not None:
            with open(os.path.join(src, "volumes", "data", "dump-mdb0.ldif"), "w") as f:
                f.write(dump_text)
        user, pw = out["credentials"]
        url = "rsync://%s@%s:%d/" % (user, out["address"], out["port"])
        env = dict(os.environ, RSYNC_PASSWORD=pw)
        p = c.topology.run("ns7", ["rsync", "-a", src + "/", url + "data/"], check=False, env=env)
        self.assertEqual(p.returncode, 0, p.stderr)
        p = c.topology.run("ns7", ["rsync", url + "terminate"], check=False, env=env)
        self.assertEqual(p.returncode, 0, p.stderr)
        agent, tid = out["task"].rsplit("/task/", 1)
        return out["module_id"], c.wait_task(agent, tid, self.admin_token, timeout=60)

    def domains(self):
        res = self.run_task("cluster", "list-user-domains", {})
        self.assertEqual(res["exit_code"], 0, res)
        return {d["name"]: d for d in res["output"]["domains"]}

    def remove(self, mid):
        res = self.run_task("cluster", "remove-module", {"module_id": mid, "preserve_data": False})
        self.assertEqual(res["exit_code"], 0, res)

    def test_dump_loads_and_the_domain_answers(self):
        c = self.cluster
        mid, res = self.migrate(import_env(), good_dump())
        self.assertEqual(res["exit_code"], 0, res)
        dom = self.domains()[DOMAIN]
        self.assertEqual((dom["location"], dom["schema"], dom["base_dn"], dom["bind_dn"]),
                         ("internal", "rfc2307", SUFFIX, "cn=ldapservice," + SUFFIX))
        self.assertEqual([(p["id"], p["node"], p["host"]) for p in dom["providers"]],
                         [(mid, 1, c.leader_vpn_ip)])
        ldap = c.control.module(mid)["ldap"]
        self.assertTrue(ldap["running"])
        self.assertEqual(ldap["port"], dom["providers"][0]["port"])

        users = c.control.ldap_search(mid, "ou=People," + SUFFIX, "(objectClass=posixAccount)",
                                      ["uid", "cn", "pwdChangedTime", "pwdAccountLockedTime"])
        by_uid = {u["uid"][0]: u for u in users}
        self.assertEqual(set(by_uid), {"alice", "carol", "nicolo"})
        self.assertEqual(by_uid["nicolo"]["cn"], ["Nicolò Caffè"])
        self.assertEqual(by_uid["alice"]["pwdchangedtime"], ["20231124000000Z"])
        self.assertEqual(by_uid["carol"]["pwdaccountlockedtime"], ["000001010000Z"])
        # as NS8's apps read it: over TCP on the node's VPN address, bound
        # with the domain's service account
        groups = c.control.ldap_search(mid, SUFFIX, "(cn=sales)", ["memberUid"], service=True)
        self.assertEqual(groups[0]["memberuid"], ["alice", "nicolo"])
        self.assertEqual(c.control.ldap_search(mid, "ou=People,dc=directory,dc=nh"), [])
        # the same through the domain as list-user-domains describes it
        out = c.control.domain_search(DOMAIN, filter="(uid=nicolo)", attrs=["cn"])
        self.assertTrue(out["ok"], out)
        self.assertEqual(out["entries"][0]["cn"], ["Nicolò Caffè"])
        # 80fix_ppolicy's policies
        self.assertEqual(len(c.control.ldap_search(mid, "ou=PPolicy," + SUFFIX,
                                                   "(objectClass=pwdPolicy)")), 2)

        # remove-module stops its slapd; the domain goes with its last provider
        pid = ldap["pid"]
        self.assertTrue(os.path.exists("/proc/%d" % pid))
        self.remove(mid)
        testing.util.wait_for(lambda: not os.path.exists("/proc/%d" % pid), 10, "slapd to end")
        self.assertNotIn(DOMAIN, self.domains())

    def test_domain_search_reaches_an_external_domain_on_ns7(self):
        """The temporary external domain a migration adds (NS7's slapd on its
        VPN address, ldaps 636, certificate not verified) answers from
        NS8's side through the tunnel."""
        c = self.cluster
        directory = NS7Directory(os.path.join(c.run_dir, "ns7-root"), SVCPASS).build()
        slapd = directory.start(netns=c.topology.ns_of("ns7"))
        self.addCleanup(directory.stop)
        res = self.run_task("cluster", "add-external-domain", {
            "domain": "ns7.example.test", "protocol": "ldap", "host": self.ns7_vpn_ip, "port": 636,
            "schema": "rfc2307", "bind_dn": NS7_SVC_DN, "bind_password": SVCPASS,
            "base_dn": NS7_SUFFIX, "tls": True, "tls_verify": False})
        self.assertEqual(res["exit_code"], 0, res)
        self.addCleanup(self.run_task, "cluster", "remove-external-domain",
                        {"domain": "ns7.example.test"})
        out = c.control.domain_search("ns7.example.test", filter="(objectClass=posixAccount)",
                                      attrs=["uid"])
        self.assertTrue(out["ok"], out)
        self.assertEqual(out["url"], "ldaps://%s:636/" % self.ns7_vpn_ip)
        self.assertEqual({e["uid"][0] for e in out["entries"]}, set(NS7Directory.USERS))
        slapd.stop()
        out = c.control.domain_search("ns7.example.test")
        self.assertFalse(out["ok"], out)
        self.assertEqual(out["exit_code"], 255, out)  # can't contact LDAP server

    def test_ns7_export_loads_once_the_ns6_class_is_dropped(self):
        """NS7's own directory (the harness's), exported as the migration
        does: refused while it holds the NS6 class, loaded once dropped."""
        c = self.cluster
        exported = NS7Directory(os.path.join(c.run_dir, "ns7-export"), SVCPASS).build().slapcat()
        suffix = "dc=exported,dc=example,dc=test"
        mid, res = self.migrate(import_env(domain="exported.example.test", suffix=suffix),
                                rewrite_suffix(exported, suffix))
        self.remove(mid)
        self.assertNotEqual(res["exit_code"], 0, res)
        self.assertIn("uid=eve,ou=People,%s: str2entry: str2ad(sambaSID)" % suffix, res["error"])
        mid, res = self.migrate(import_env(domain="exported.example.test", suffix=suffix),
                                drop_ns6_samba(rewrite_suffix(exported, suffix)))
        try:
            self.assertEqual(res["exit_code"], 0, res)
            uids = {e["uid"][0] for e in c.control.ldap_search(mid, suffix, "(objectClass=posixAccount)",
                                                               ["uid"], service=True)}
            self.assertEqual(uids, set(NS7Directory.USERS))
            top = c.control.ldap_search(mid, suffix, scope="base")
            self.assertEqual(top[0]["dc"], ["exported"])
        finally:
            self.remove(mid)

    def test_ns6_class_fails_with_slapadd_reason(self):
        mid, res = self.migrate(import_env(domain="ns6.example.test", suffix=SUFFIX),
                                good_dump(extra=NS6_USER))
        try:
            self.assertNotEqual(res["exit_code"], 0, res)
            self.assertIn("slapadd", res["error"])
            self.assertIn("uid=eve", res["error"])
            self.assertNotIn("ns6.example.test", self.domains())
            self.assertFalse(self.cluster.control.module(mid)["ldap"]["running"])
        finally:
            self.remove(mid)

    def test_existing_domain_fails(self):
        mid, res = self.migrate(import_env(domain="taken.example.test"), good_dump())
        try:
            self.assertNotEqual(res["exit_code"], 0, res)
            self.assertIn("user domain taken.example.test already exists", res["error"])
            self.assertEqual(self.domains()["taken.example.test"]["location"], "external")
        finally:
            self.remove(mid)

    def test_missing_key_fails(self):
        mid, res = self.migrate(import_env(domain="nokey.example.test", drop=("LDAP_SVCPASS",)),
                                good_dump())
        try:
            self.assertNotEqual(res["exit_code"], 0, res)
            self.assertIn("import.env lacks LDAP_SVCPASS", res["error"])
            self.assertNotIn("nokey.example.test", self.domains())
        finally:
            self.remove(mid)

    def test_missing_dump_fails(self):
        mid, res = self.migrate(import_env(domain="nodump.example.test"), None)
        try:
            self.assertNotEqual(res["exit_code"], 0, res)
            self.assertIn("dump-mdb0.ldif not found", res["error"])
        finally:
            self.remove(mid)


if __name__ == "__main__":
    import unittest
    unittest.main()
