"""The local OpenLDAP account provider migrated as an app, last, against
the simulator's openldap module and NS7's real slapd (harness directory
"ldap"): refused while NethVoice is still on NS7, then Start, Sync and
Finish after NethVoice's cutover.  Every NS7 user and group is then in
NS8's directory under the user domain's suffix, with NS8's password policy
attributes and display names and without the NS6-era Samba class; the
temporary external domain is gone and NS8's own domain has its name, the
one NethVoice's configuration names; slapd is retired on NS7 and the
helper has left the cluster by itself."""

import time

from clusterfixture import ERR, JOB_IFACE, MANAGER_IFACE, ROOT, USER_DOMAIN
from harness.ldap import NS7Directory
from test_finish import FinishTestCase

PROVIDER = "account_provider_ldap"
LATE_USER = """dn: uid=frank,ou=People,dc=directory,dc=nh
objectClass: top
objectClass: inetOrgPerson
objectClass: posixAccount
uid: frank
cn: Frank Blu
sn: Blu
uidNumber: 1007
gidNumber: 100
homeDirectory: /var/lib/nethserver/home/frank
"""
SUFFIX = "dc=" + USER_DOMAIN.replace(".", ",dc=")


class LdapProviderTest(FinishTestCase):
    SANDBOX = {"files": 300, "cdr_rows": 50, "directory": "ldap"}

    def provider_ok(self, method, options=None, timeout=600):
        return self.run_ok(method, "a{sv}", [options or {}], app_id=PROVIDER, timeout=timeout)

    def openldap(self):
        mods = [m for m in self.cluster.control.state()["modules"] if m["image"] == "openldap"]
        self.assertEqual(len(mods), 1, [m["id"] for m in mods])
        return mods[0]

    def domains(self):
        return {d["name"]: d for d in self.cluster.control.state()["domains"]}

    def test_provider_last(self):
        # NethVoice is not migrated yet: the provider cannot start.
        self.provider_ok("Scan")
        err, msg = self.app_call("Start", "a{sv}", [{"accept_warnings": True}], app_id=PROVIDER)
        self.assertEqual(err, ERR + "ProviderNotLast", msg)
        self.assertIn("migrate or skip NethVoice first", msg)
        self.assertEqual(self.app(PROVIDER)["Status"], "not_migrated")
        self.assertNotIn("openldap", [m["image"] for m in self.cluster.control.state()["modules"]])

        self.start()
        self.finish_ok({"accept_warnings": True})
        self.assertEqual(self.module()["configuration"]["user_domain"], USER_DOMAIN)
        self.assertEqual(self.domains()[USER_DOMAIN]["location"], "external")
        err, msg = self.bus.call_error(ROOT, MANAGER_IFACE, "Disconnect", "a{sv}", [{}])
        self.assertEqual(err, ERR + "DomainInUse", msg)

        # Start and Sync: the export and import.env reach the module; the
        # temporary domain still serves NethVoice.
        self.provider_ok("Start", {"accept_warnings": True})
        self.provider_ok("Sync")
        files = {f["path"]: f for f in self.openldap()["files"]}
        self.assertIn("state/import.env", files)
        self.assertIn("volumes/data/dump-mdb0.ldif", files)
        self.assertEqual(files["state/import.env"]["mode"], "0600")
        self.assertEqual(self.domains()[USER_DOMAIN]["location"], "external")
        self.assertEqual(self.manager()["DomainDependents"], ["NethVoice"])

        # NS8's import fails once the temporary domain is gone: Finish puts
        # it back, so NethVoice on NS8 signs NS7's users in as before, and
        # NS7's slapd was never touched.  Then Finish again.
        mid = self.openldap()["id"]
        self.cluster.control.fault("fail_import", module=mid, error="simulated: the new domain could not be created\n")
        err, job = self.app_call("Finish", "a{sv}", [{"accept_warnings": True}], app_id=PROVIDER)
        self.assertIsNone(err, job)
        props = self.wait(job, 600)
        self.assertFalse(props["Success"], props["Message"])
        self.assertIn("The temporary user domain %s was created again" % USER_DOMAIN, props["Message"])
        domain = self.domains()[USER_DOMAIN]
        self.assertEqual((domain["location"], domain["schema"]), ("external", "rfc2307"))
        self.assertEqual(self.manager()["DomainDependents"], ["NethVoice"])
        found = self.cluster.control.domain_search(USER_DOMAIN, filter="(uid=alice)", attrs=["uid"])
        self.assertTrue(found["ok"], found)
        self.assertTrue(self.sb.ldap.alive(), "NS7's slapd was stopped by a Finish that failed")
        self.assertNotEqual(self.app(PROVIDER)["Status"], "migrated")

        # The helper killed while NS8 removes the temporary domain (Finish
        # stopped where nothing records the removal): an Abort finds the
        # domain missing and creates it again, and the provider starts over.
        self.cluster.control.fault("slow", action="remove-external-domain", delay=3)
        err, job = self.app_call("Finish", "a{sv}", [{"accept_warnings": True}], app_id=PROVIDER)
        self.assertIsNone(err, job)
        deadline = time.monotonic() + 120
        while self.bus.get_all(job, JOB_IFACE)["CurrentStep"] != "user-domain":
            self.assertLess(time.monotonic(), deadline, "Finish did not reach the user domain's removal")
            time.sleep(0.2)
        self.sb.helper.kill()
        deadline = time.monotonic() + 60
        while USER_DOMAIN in self.domains():
            self.assertLess(time.monotonic(), deadline, "NS8 did not remove the temporary domain")
            time.sleep(0.3)
        self.sb.helper.start()
        props = self.provider_ok("Abort")
        self.assertIn("user-domain", [s[0] for s in props["Steps"]])
        domain = self.domains()[USER_DOMAIN]
        self.assertEqual((domain["location"], domain["schema"]), ("external", "rfc2307"))
        self.assertEqual(self.manager()["DomainDependents"], ["NethVoice"])
        self.assertTrue(self.cluster.control.domain_search(USER_DOMAIN, filter="(uid=alice)", attrs=["uid"])["ok"])
        self.assertIn("the temporary user domain %s is missing from NS8: creating it again" % USER_DOMAIN,
                      self.read_log())
        self.provider_ok("Start", {"accept_warnings": True})

        # A user added on NS7 after the last Sync: Finish's pass carries it.
        added = self.sb.ldap.add(LATE_USER)
        self.assertEqual(added.returncode, 0, added.stderr)
        props = self.provider_ok("Finish", {"accept_warnings": True})
        self.assertIn("now runs on NS8", props["Message"])
        self.assertNotIn("Verified", props["Message"])  # nothing of it is a copied file
        steps = [s[0] for s in props["Steps"]]
        self.assertLess(steps.index("user-domain"), steps.index("terminate"))
        self.assertEqual(self.app(PROVIDER)["Status"], "migrated")
        self.assert_directory_on_ns8()
        self.assert_domain_replaced()
        self.assert_slapd_retired()
        self.assert_left_by_itself()

    def assert_directory_on_ns8(self):
        mid = self.openldap()["id"]
        users = {e["uid"][0]: e for e in self.cluster.control.ldap_search(
            mid, "ou=People," + SUFFIX, "(objectClass=posixAccount)",
            ["uid", "cn", "displayName", "pwdChangedTime", "pwdAccountLockedTime", "objectClass"])}
        self.assertEqual(sorted(users), sorted(list(NS7Directory.USERS) + ["frank"]))
        self.assertEqual(users["frank"]["displayname"], ["Frank Blu"])
        for uid, (cn, _given, _sn, _number, extra) in NS7Directory.USERS.items():
            u = users[uid]
            self.assertEqual(u["dn"].lower(), ("uid=%s,ou=People,%s" % (uid, SUFFIX)).lower())
            classes = {c.lower() for c in u["objectclass"]}
            self.assertNotIn("sambasamaccount", classes, uid)
            self.assertNotIn("shadowaccount", classes, uid)
            # displayName everywhere, from cn where NS7 had none.
            if extra.get("no_display_name"):
                self.assertEqual(u["displayname"], [cn])
            self.assertTrue(u.get("displayname"), uid)
            # pwdChangedTime from shadowLastChange unless it never expires.
            if extra["shadowMax"] == "99999":
                self.assertNotIn("pwdchangedtime", u, uid)
            else:
                day = time.strftime("%Y%m%d", time.gmtime(int(extra["shadowLastChange"]) * 86400))
                self.assertEqual(u["pwdchangedtime"], [day + "000000Z"], uid)
            if extra.get("locked"):
                self.assertEqual(u["pwdaccountlockedtime"], ["000001010000Z"])
            else:
                self.assertNotIn("pwdaccountlockedtime", u, uid)
        groups = {e["cn"][0]: e for e in self.cluster.control.ldap_search(
            mid, "ou=Groups," + SUFFIX, "(objectClass=posixGroup)", ["cn", "memberUid", "gidNumber"])}
        self.assertEqual(sorted(groups), sorted(NS7Directory.GROUPS))
        for cn, (number, members) in NS7Directory.GROUPS.items():
            self.assertEqual(groups[cn]["gidnumber"], [str(number)])
            self.assertEqual(sorted(groups[cn]["memberuid"]), sorted(members))
        self.assertEqual(self.cluster.control.ldap_search(mid, "dc=directory,dc=nh"), [])

    def assert_domain_replaced(self):
        """NS8's own domain has the temporary one's name: NethVoice's
        configuration names a domain that exists, and its apps find the
        users there as the service account (the password import.env gave)."""
        domain = self.domains()[USER_DOMAIN]
        self.assertEqual((domain["location"], domain["schema"], domain["base_dn"]), ("internal", "rfc2307", SUFFIX))
        self.assertEqual([p["id"] for p in domain["providers"]], [self.openldap()["id"]])
        self.assertEqual(self.module()["configuration"]["user_domain"], USER_DOMAIN)
        found = self.cluster.control.domain_search(USER_DOMAIN, filter="(uid=alice)", attrs=["uid"])
        self.assertTrue(found["ok"], found)
        self.assertEqual([e["uid"] for e in found["entries"]], [["alice"]])

    def assert_slapd_retired(self):
        with open(self.config_path) as f:
            cfg = f.read()
        slapd = [line for line in cfg.splitlines() if line.startswith("slapd=")]
        self.assertEqual(len(slapd), 1, slapd)
        self.assertIn("|status|disabled", slapd[0])
        self.assertFalse(self.sb.ldap.alive(), "NS7's slapd still runs")

    def assert_left_by_itself(self):
        deadline = time.monotonic() + 120
        while self.manager()["State"] != "disconnected":
            self.assertLess(time.monotonic(), deadline, "the helper did not leave the cluster")
            time.sleep(0.5)
        self.assertEqual(self.manager()["DomainDependents"], [])
        log = self.read_log()
        self.assertIn("nothing is left to migrate: leaving the cluster", log)
        self.assertNotIn("remove-external-domain", log.split("nothing is left to migrate")[-1])
