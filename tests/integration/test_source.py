"""Manager.DescribeSource, the wizard's Source summary: what the sample NS7
holds in its own files (the e-smith configuration and networks databases,
/etc/nethserver-release), the account provider, and the apps with the size
their Scan measured; the subscription's Secret nowhere."""

import json
import os
import unittest

from harness import APP_IFACE, MANAGER_IFACE, ROOT_PATH, app_path
from harness.testing import SandboxTestCase


class SourceTest(SandboxTestCase):
    sandbox_options = dict(files=300, cdr_rows=50)

    def describe(self):
        return self.bus.call(ROOT_PATH, MANAGER_IFACE, "DescribeSource")

    def root_file(self, rel):
        return os.path.join(self.sb.root, rel)

    def keep_file(self, rel):
        """Restore ROOT/REL as it is now after the test."""
        path = self.root_file(rel)
        with open(path, "rb") as f:
            data = f.read()

        def restore():
            with open(path, "wb") as f:
                f.write(data)
        self.addCleanup(restore)

    def test_a_sample_ns7(self):
        s = self.describe()
        config = self.sb.ns7.db()
        self.assertEqual((s["host_name"], s["domain_name"]), (config["SystemName"][0], config["DomainName"][0]))
        with open(self.root_file("etc/nethserver-release")) as f:
            self.assertEqual(s["release"], f.read().strip())
        # Every interface of the networks DB, as NS7 holds it.
        networks = self.sb.ns7.db("networks")
        self.assertEqual([i["name"] for i in s["interfaces"]], sorted(networks))
        for i in s["interfaces"]:
            typ, props = networks[i["name"]]
            self.assertEqual((i["type"], i["role"], i["address"], i["netmask"], i["gateway"], i["bootproto"]),
                             (typ, props.get("role", ""), props.get("ipaddr", ""), props.get("netmask", ""),
                              props.get("gateway", ""), props.get("bootproto", "")))
        self.assertEqual({i["role"] for i in s["interfaces"]}, {"green", "red"})
        # The subscription: its id, never its secret.
        sub = config["subscription"][1]
        self.assertIs(s["subscription"], True)
        self.assertEqual((s["system_id"], s["subscription_provider"]), (sub["SystemId"], sub["Provider"]))
        # The harness's NS7 has a local OpenLDAP.
        sssd = config["sssd"][1]
        self.assertEqual(s["account_provider"], "openldap")
        self.assertIn(sssd["BaseDN"], s["account_provider_detail"])
        self.assert_no_secret(s)

    def test_b_apps_and_their_scan(self):
        app = self.describe()["apps"]
        # The local OpenLDAP account provider is an app too, last (it is migrated last).
        self.assertEqual([(a["id"], a["name"], a["status"], a["source_files"], a["scan_time"]) for a in app],
                         [("nethvoice", "NethVoice", "not_migrated", 0, 0),
                          ("account_provider_ldap", "Account provider (local OpenLDAP)", "not_migrated", 0, 0)])
        rec = self.bus.record_signals()
        job = self.bus.call(app_path("nethvoice"), APP_IFACE, "Scan", "a{sv}", [{}])
        done = self.bus.wait_job(job, rec, 120)
        rec.remove()
        self.assertTrue(done.success, done.message)
        props = self.bus.get_all(app_path("nethvoice"), APP_IFACE)
        a = next(a for a in self.describe()["apps"] if a["id"] == "nethvoice")
        self.assertGreater(a["source_files"], 0)
        self.assertEqual((a["source_files"], a["source_bytes"], a["database_bytes"], a["scan_time"]),
                         (props["SourceFiles"], props["SourceBytes"], props["DatabaseBytes"], props["ScanTime"]))

    def test_c_no_subscription_no_release_dhcp(self):
        """An NS7 without subscription, without a readable release file, with
        its red interface on DHCP: read afresh at every call."""
        self.keep_file("var/lib/nethserver/db/configuration")
        self.keep_file("var/lib/nethserver/db/networks")
        self.keep_file("etc/nethserver-release")
        self.assertEqual(self.sb.ns7.tool("db", "configuration", "delete", "subscription").returncode, 0)
        self.assertEqual(self.sb.ns7.tool("db", "networks", "setprop", "eth1", "bootproto", "dhcp").returncode, 0)
        self.assertEqual(self.sb.ns7.tool("db", "networks", "delprop", "eth1", "ipaddr").returncode, 0)
        os.remove(self.root_file("etc/nethserver-release"))
        s = self.describe()
        self.assertEqual((s["subscription"], s["system_id"], s["subscription_provider"]), (False, "", ""))
        self.assertEqual(s["release"], "")
        red = [i for i in s["interfaces"] if i["role"] == "red"]
        self.assertEqual([(i["bootproto"], i["address"]) for i in red], [("dhcp", "")])
        self.assertEqual(s["host_name"], self.sb.ns7.db()["SystemName"][0])

    def test_d_no_account_provider(self):
        self.keep_file("var/lib/nethserver/db/configuration")
        self.assertEqual(self.sb.ns7.tool("db", "configuration", "delete", "sssd").returncode, 0)
        s = self.describe()
        self.assertEqual((s["account_provider"], s["account_provider_detail"]), ("none", ""))

    def assert_no_secret(self, reply):
        text = json.dumps(reply)
        for name, secret in self.sb.manifest.secrets.items():
            self.assertNotIn(secret, text, f"{name} is in DescribeSource's reply")
        self.assertNotIn("Secret", text)
        self.assertNotIn(self.sb.ns7.subscription_secret, self.sb.helper.log())


if __name__ == "__main__":
    unittest.main()
