"""NS7's local Samba AD DC (tests/harness/samba.py: the test NS7 with
directory="ad") and the simulated NS8 samba module that receives it
(ns8sim/samba.py): a real domain provisioned with samba-tool, copied as the
migration copies it (tdbbackup -s .export), sent through the VPN to the
module's receiver; at /terminate the import task checks it with Samba's
tools and creates the `ad` user domain."""

import os
import shutil
import tempfile
import unittest

from harness import samba as dc
from harness.ns7root import NS7Root
from ns8sim import samba as module
from ns8sim import testing
from ns8sim.ns7vpn import Ns7Tunnel

DOMAIN = dc.REALM.lower()
USER_NAMES = dc.ACCOUNTS


def _records(path):
    """{key: props} of an e-smith DB file (key=type|prop|value|...)."""
    out = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            key, _, rest = line.rstrip("\n").partition("=")
            fields = rest.split("|")
            out[key] = dict(zip(fields[1::2], fields[2::2]), type=fields[0])
    return out


NS7 = None  # the test NS7 with its DC, provisioned once for both classes


def setUpModule():
    global NS7
    tmp = tempfile.mkdtemp(prefix="ns8sim-nsdc-")
    unittest.addModuleCleanup(shutil.rmtree, tmp, True)
    NS7 = NS7Root(os.path.join(tmp, "root"), files=10, nethvoice=False, directory="ad")
    NS7.build()


class NS7DomainControllerTest(unittest.TestCase):
    """The test NS7's nsdc: files where NS7 keeps them, the records that name
    it, and the users samba-tool added, read back with ldbsearch."""

    @classmethod
    def setUpClass(cls):
        cls.ns7 = NS7
        cls.root = NS7.path

    def test_files_are_where_ns7_keeps_them(self):
        lib = os.path.join(self.root, "var/lib/machines/nsdc/var/lib/samba")
        for rel in ("private/sam.ldb", "private/secrets.ldb", "private/idmap.ldb",
                    "private/secrets.tdb", "private/sam.ldb.d/DC=AD,DC=EXAMPLE,DC=COM.ldb",
                    "sysvol/ad.example.com/Policies", "sysvol/ad.example.com/scripts"):
            self.assertTrue(os.path.exists(os.path.join(lib, rel)), rel)
        with open(os.path.join(self.root, "var/lib/machines/nsdc/etc/hostname")) as f:
            self.assertEqual(f.read(), dc.HOSTNAME + "\n")
        # nothing of the host's own Samba was written
        self.assertFalse(os.path.exists("/var/lib/samba/private/sam.ldb"))

    def test_records_name_the_local_dc(self):
        recs = _records(os.path.join(self.root, "var/lib/nethserver/db/configuration"))
        self.assertEqual((recs["nsdc"]["type"], recs["nsdc"]["IpAddress"], recs["nsdc"]["status"]),
                         ("service", dc.IP_ADDRESS, "enabled"))
        sssd = recs["sssd"]
        self.assertEqual((sssd["Provider"], sssd["Realm"], sssd["Workgroup"]),
                         ("ad", dc.REALM, dc.WORKGROUP))
        self.assertEqual(sssd["BindDN"], "ldapservice@" + dc.REALM)
        self.assertEqual(self.ns7.service_units()["nsdc.service"]["UnitFileState"], "enabled")

    def test_users_and_groups_in_sam_ldb(self):
        sam = dc.sam_ldb(self.root)
        users = {e["sAMAccountName"][0]: e for e in dc.search(
            sam, module.USERS_FILTER, ["sAMAccountName", "displayName", "memberOf"])}
        for name in USER_NAMES:
            self.assertIn(name, users)
        self.assertEqual(users["gaël"]["displayName"], ["Gaël Müller"])
        self.assertEqual(sorted(users["gaël"]["memberOf"]),
                         ["CN=sales,CN=Users,DC=ad,DC=example,DC=com",
                          "CN=support,CN=Users,DC=ad,DC=example,DC=com"])
        sales = dc.search(sam, "(&(objectClass=group)(cn=sales))", ["member"])
        self.assertEqual(len(sales[0]["member"]), 2)
        # the service account never expires
        svc = dc.search(sam, "(sAMAccountName=ldapservice)", ["accountExpires"])
        self.assertEqual(svc[0]["accountExpires"], ["0"])


class NS7FileServerTest(unittest.TestCase):
    """harness.samba.add_file_server: NS7's shares and homes beside the DC."""

    def test_shares_and_homes(self):
        made = dc.add_file_server(NS7.path)
        self.assertEqual(NS7.db()["smb"][0], "service")
        self.assertTrue(os.path.exists(os.path.join(
            NS7.path, "etc/e-smith/db/configuration/defaults/smb/type")))
        ibays = {k: v for k, (t, v) in NS7.db("accounts").items() if t == "ibay"}
        self.assertEqual(sorted(ibays), sorted(dc.SHARES))
        self.assertEqual(ibays["projects"]["Description"], "Project documents")
        for rel in made["shares"] + made["homes"]:
            self.assertTrue(os.listdir(os.path.join(NS7.path, rel)), rel)
        self.assertEqual(len(made["homes"]), len(dc.USERS))


class SambaImportTest(testing.ClusterTestCase):
    """import-module of image samba.  The tests run in name order: the
    last one creates the ad.example.com domain, which would make the others
    fail on the domain check."""

    cluster_kwargs = {"peer_delay": 0.2, "task_delay": 0.2}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        c = cls.cluster
        priv, pub = testing.genkey()
        res = c.run_task("cluster", "add-node", testing.add_node_input(pub),
                         token=cls.admin_token)
        assert res["exit_code"] == 0, res
        cls.tunnel = Ns7Tunnel(c.topology, priv)
        cls.addClassCleanup(cls.tunnel.down)
        cls.tunnel.up(res["output"])
        # as the helper sends it: the DC's /var/lib/samba, databases through tdbbackup
        cls.data = os.path.join(c.run_dir, "ns7-samba")
        cls.tdbbackup = dc.export_copy(dc.samba_dir(NS7.path), cls.data)
        cls.env = {"HOSTNAME": dc.HOSTNAME, "IPADDRESS": "203.0.113.60",
                   "PROVISION_TYPE": dc.PROVISION_TYPE, "NBDOMAIN": dc.WORKGROUP,
                   "REALM": dc.REALM, "SVCUSER": dc.SERVICE_USER, "SVCPASS": NS7.bind_password}
        testing.util.wait_for(
            lambda: c.topology.run("ns7", ["ping", "-c1", "-W1", c.leader_vpn_ip],
                                   check=False).returncode == 0, 30, "the VPN to come up")

    def rsync(self, args, password):
        env = dict(os.environ, RSYNC_PASSWORD=password)
        return self.cluster.topology.run("ns7", ["rsync"] + args, check=False, env=env,
                                         timeout=120)

    def transplant(self, data, env, remove_module=True):
        """A samba module receives data as volumes/data/ (None: nothing) and
        env as state/import.env, then /terminate: (module id, import task
        result)."""
        c = self.cluster
        res = self.run_task("cluster", "import-module",
                            {"image": "samba", "node": 1, "volumes": ["data", "shares", "homes"]})
        self.assertEqual(res["exit_code"], 0, res)
        out = res["output"]
        if remove_module:  # one samba module per node
            self.addCleanup(self.run_task, "cluster", "remove-module",
                            {"module_id": out["module_id"], "preserve_data": False})
        user, pw = out["credentials"]
        url = "rsync://%s@%s:%d/" % (user, out["address"], out["port"])
        env_file = os.path.join(tempfile.mkdtemp(dir=c.run_dir), "import.env")
        with open(env_file, "w") as f:
            f.write("".join("%s=%s\n" % kv for kv in env.items()))
        uploads = [[env_file, url + "data/state/import.env"], [url + "terminate"]]
        if data is not None:
            uploads.insert(0, ["-a", data + "/", url + "data/volumes/data/"])
        for args in uploads:
            p = self.rsync(args, pw)
            self.assertEqual(p.returncode, 0, p.stderr)
        agent, tid = out["task"].rsplit("/task/", 1)
        return out["module_id"], c.wait_task(agent, tid, self.admin_token, timeout=120)

    def copy_of_data(self):
        d = tempfile.mkdtemp(dir=self.cluster.run_dir)
        shutil.copytree(self.data, d, dirs_exist_ok=True)
        return d

    def domains(self):
        res = self.run_task("cluster", "list-user-domains")
        self.assertEqual(res["exit_code"], 0, res)
        return {d["name"]: d for d in res["output"]["domains"]}

    def test_0_get_defaults_lists_the_node_addresses(self):
        # the migration offers these as the DC's IP on NS8 (OTHER-APPS.md)
        c = self.cluster
        res = self.run_task("cluster", "import-module",
                            {"image": "samba", "node": 1, "volumes": ["data"]})
        self.assertEqual(res["exit_code"], 0, res)
        mid = res["output"]["module_id"]
        self.addCleanup(self.run_task, "cluster", "remove-module",
                        {"module_id": mid, "preserve_data": False})
        res = self.run_task("module/" + mid, "get-defaults", {"provision": "new-domain"})
        self.assertEqual(res["exit_code"], 0, res)
        out = res["output"]
        self.assertEqual((out["hostname"], out["adminuser"]), (mid.replace("samba", "dc"),
                                                               "administrator"))
        ips = {a["ipaddress"]: a["label"] for a in out["ipaddress_list"]}
        self.assertIn(c.topology.leader_ip, ips)
        self.assertIn(c.leader_vpn_ip, ips)
        self.assertNotIn("127.0.0.1", ips)
        # a join needs a realm (the input schema); other images have no such action
        self.assertEqual(self.run_task("module/" + mid, "get-defaults",
                                       {"provision": "join-domain"})["exit_code"], 10)
        res = self.run_task("cluster", "add-module", {"image": "dokuwiki", "node": 2})
        self.assertEqual(res["exit_code"], 0, res)
        other = res["output"]["module_id"]
        self.addCleanup(self.run_task, "cluster", "remove-module",
                        {"module_id": other, "preserve_data": False})
        self.assertEqual(self.run_task("module/" + other, "get-defaults",
                                       {"provision": "new-domain"})["exit_code"], 8)

    def test_1_missing_env_key_fails(self):
        env = dict(self.env)
        del env["NBDOMAIN"]
        _, res = self.transplant(None, env)  # checked before the data
        self.assertEqual(res["exit_code"], 1, res)
        self.assertIn("state/import.env lacks NBDOMAIN", res["error"])
        self.assertNotIn(DOMAIN, self.domains())

    def test_1_other_netbios_domain_fails(self):
        _, res = self.transplant(self.data, dict(self.env, NBDOMAIN="OTHER"))
        self.assertEqual(res["exit_code"], 1, res)
        self.assertIn("secrets.ldb is the DC NSDC-NS7 of EXAMPLE (AD.EXAMPLE.COM), not the DC "
                      "nsdc-ns7 of OTHER (AD.EXAMPLE.COM)", res["error"])

    def test_2_truncated_sam_ldb_fails(self):
        data = self.copy_of_data()
        part = os.path.join(data, "private", "sam.ldb.d", "DC=AD,DC=EXAMPLE,DC=COM.ldb")
        os.truncate(part, os.path.getsize(part) // 3)
        _, res = self.transplant(data, self.env)
        self.assertEqual(res["exit_code"], 1, res)
        self.assertIn("private/sam.ldb.d/DC=AD,DC=EXAMPLE,DC=COM.ldb is damaged", res["error"])
        self.assertNotIn(DOMAIN, self.domains())

    def test_2_missing_sam_ldb_fails(self):
        data = self.copy_of_data()
        os.unlink(os.path.join(data, "private", "sam.ldb"))
        _, res = self.transplant(data, self.env)
        self.assertEqual(res["exit_code"], 1, res)
        self.assertIn("volumes/data/private/sam.ldb is missing", res["error"])

    def test_3_existing_domain_fails(self):
        res = self.run_task("cluster", "add-external-domain", {
            "domain": DOMAIN, "protocol": "ldap", "host": dc.IP_ADDRESS, "port": 636,
            "schema": "ad", "bind_dn": "ldapservice@" + dc.REALM, "bind_password": "x",
            "base_dn": "dc=ad,dc=example,dc=com", "tls": True, "tls_verify": False})
        self.assertEqual(res["exit_code"], 0, res)
        self.addCleanup(self.run_task, "cluster", "remove-external-domain", {"domain": DOMAIN})
        _, res = self.transplant(None, self.env)  # checked before the data
        self.assertEqual(res["exit_code"], 1, res)
        self.assertIn("user domain ad.example.com already exists", res["error"])
        self.assertEqual(self.domains()[DOMAIN]["location"], "external")

    def test_4_transplanted_domain_is_imported(self):
        # one database still under its .export name: the module renames it
        data = self.copy_of_data()
        idmap = os.path.join(data, "private", "idmap.ldb")
        os.rename(idmap, idmap + ".export")
        mid, res = self.transplant(data, self.env, remove_module=False)
        self.assertEqual(res["exit_code"], 0, res)
        dom = self.domains()[DOMAIN]
        self.assertEqual((dom["location"], dom["schema"], dom["base_dn"]),
                         ("internal", "ad", "dc=ad,dc=example,dc=com"))
        self.assertEqual(dom["bind_dn"], "ldapservice@" + dc.REALM)
        self.assertEqual([(p["id"], p["node"], p["host"]) for p in dom["providers"]],
                         [(mid, 1, "203.0.113.60")])
        users = {e["sAMAccountName"][0]: e for e in self.cluster.control.ad_search(
            mid, module.USERS_FILTER, ["sAMAccountName", "displayName", "memberOf"])}
        for name in USER_NAMES:
            self.assertIn(name, users)
        self.assertEqual(users["gaël"]["displayName"], ["Gaël Müller"])
        self.assertIn("CN=sales,CN=Users,DC=ad,DC=example,DC=com", users["alice"]["memberOf"])
        self.assertEqual(dom["counters"]["users"], len(users))
        m = self.cluster.control.module(mid)
        self.assertEqual(m["user_domain"], DOMAIN)
        self.assertEqual(m["ad"]["renamed"], ["private/idmap.ldb"])
        self.assertIn("private/sam.ldb", m["ad"]["checked"])
        self.assertFalse([f["path"] for f in m["files"] if f["path"].endswith(".export")])
        self.assertIn("volumes/data/sysvol/ad.example.com/Policies",
                      [f["path"] for f in m["files"]])
        # the id mapping starts at 1001 (NS7's DC started at 3000000)
        idmap = os.path.join(m["srv"], "volumes", "data", "private", "idmap.ldb")
        config = dc.search(idmap, "(cn=CONFIG)", ["lowerBound", "upperBound", "xidNumber"])[0]
        renumbered = m["ad"]["idmap"]["renumbered"]
        self.assertGreater(renumbered, 0)
        self.assertEqual((config["lowerBound"], config["upperBound"], config["xidNumber"]),
                         (["1001"], ["65530"], [str(1001 + renumbered)]))
        xids = sorted(int(e["xidNumber"][0]) for e in dc.search(idmap, "(cn=S-*)", ["xidNumber"]))
        # (0 and 100, Administrator and Users, stay as they are)
        self.assertEqual(xids, [0, 100] + list(range(1001, 1001 + renumbered)) + [65534])


if __name__ == "__main__":
    unittest.main()
