"""Manager.Inventory: every NS7 application the migration knows of, as the
administrator retiring NS7 reads it: what this version migrates (with the
App's status), what is not installed, installed but not in use, not
supported yet (with the reason, in English and Italian), and the account
provider, last.  The sample NS7's configuration database is changed the way
installing or configuring those packages changes it; the helper reads it on
every request."""

import os

from harness import MANAGER_IFACE, ROOT_PATH, app_path
from harness.testing import SandboxTestCase

LOCAL_LDAP = ("sssd=service|BaseDN|dc=directory,dc=nh|BindDN|cn=ldapservice,dc=directory,dc=nh|"
              "BindPassword|LdapBindSecret7|LdapURI|ldap://127.0.0.1|Provider|ldap|status|enabled")
REMOTE_AD = ("sssd=service|BaseDN|dc=ad,dc=example,dc=com|BindDN|ldapservice@AD.EXAMPLE.COM|"
             "BindPassword|AdBindSecret3|LdapURI|ldaps://dc1.ad.example.com|Provider|ad|"
             "Realm|AD.EXAMPLE.COM|Workgroup|EXAMPLE|status|enabled")
CATALOG = ["mail", "webtop", "roundcubemail", "sogo", "getmail", "nextcloud", "mattermost", "ejabberd",
           "fileserver"]


class InventoryTest(SandboxTestCase):
    sandbox_options = dict(files=20, cdr_rows=5)

    def setUp(self):
        self.config_path = os.path.join(self.sb.root, "var/lib/nethserver/db/configuration")
        with open(self.config_path) as f:
            self.config_text = f.read()
        self.addCleanup(self.restore)

    def restore(self):
        with open(self.config_path, "w") as f:
            f.write(self.config_text)

    def configure(self, add=(), drop=("sssd=",)):
        lines = [l for l in self.config_text.splitlines() if not l.startswith(tuple(drop))]
        with open(self.config_path, "w") as f:
            f.write("\n".join(lines + list(add)) + "\n")

    def inventory(self):
        items = self.sb.bus.get(ROOT_PATH, MANAGER_IFACE, "Inventory")
        return {i["id"]: i for i in items}, [i["id"] for i in items]

    def test_nothing_else_installed(self):
        self.configure(add=[LOCAL_LDAP])
        items, order = self.inventory()
        # NethVoice (its profile) first, every catalog app, the provider last.
        self.assertEqual(order, ["nethvoice"] + CATALOG + ["account-provider"])
        nv = items["nethvoice"]
        self.assertEqual((nv["status"], nv["app"], nv["app_status"]),
                         ("migratable", app_path("nethvoice"), "not_migrated"))
        for app in CATALOG:
            self.assertEqual(items[app]["status"], "not_installed", app)
            self.assertEqual(items[app]["reason"], {}, app)
            self.assertEqual(items[app]["app"], "/", app)
        # The local OpenLDAP is an app of its own (its profile), still the
        # provider's row, last, with the catalog's names.
        provider = items["account-provider"]
        self.assertTrue(provider["provider"])
        self.assertEqual((provider["status"], provider["app"], provider["app_status"]),
                         ("migratable", app_path("account_provider_ldap"), "not_migrated"))
        self.assertIn("local OpenLDAP", provider["name"])
        self.assertEqual(provider["names"], {"en": "Account provider (local OpenLDAP)",
                                             "it": "Provider degli account (OpenLDAP locale)"})
        self.assertEqual(provider["reason"], {})
        self.assertEqual(items["nextcloud"]["names"], {"en": "Nextcloud", "it": "Nextcloud"})
        self.assertEqual(items["mail"]["names"]["it"], "Posta")

    def test_installed_in_use_or_not(self):
        getmail = os.path.join(self.sb.root, "etc/e-smith/db/getmail")
        os.makedirs(getmail)
        self.addCleanup(os.rmdir, getmail)
        self.configure(add=[
            LOCAL_LDAP,
            "dovecot=service|status|enabled|TCPPorts|143,993",
            "webtop=configuration|status|enabled",
            # Mattermost enabled but without its virtual host never served
            # anyone; ejabberd disabled: both installed, not in use.
            "mattermost=service|VirtualHost||status|enabled",
            "ejabberd=service|status|disabled",
            "nextcloud=configuration|VirtualHost|cloud.example.com|status|enabled",
        ])
        items, _ = self.inventory()
        status = {k: v["status"] for k, v in items.items()}
        self.assertEqual(status, {
            "nethvoice": "migratable", "mail": "unsupported", "webtop": "unsupported",
            "roundcubemail": "not_installed", "sogo": "not_installed", "getmail": "unsupported",
            "nextcloud": "unsupported", "mattermost": "not_available", "ejabberd": "not_available",
            "fileserver": "not_installed", "account-provider": "migratable"})
        self.assertIn("Not supported by this version yet", items["mail"]["reason"]["en"])
        self.assertIn("Non ancora supportata", items["mail"]["reason"]["it"])
        self.assertEqual(items["mattermost"]["reason"], {})

        # Give Mattermost its virtual host, enable ejabberd: now in use.
        self.configure(add=[LOCAL_LDAP, "mattermost=service|VirtualHost|chat.example.com|status|enabled",
                            "ejabberd=service|status|enabled"])
        items, _ = self.inventory()
        self.assertEqual((items["mattermost"]["status"], items["ejabberd"]["status"]), ("unsupported", "unsupported"))

    def test_providers(self):
        self.configure(add=[REMOTE_AD])
        items, order = self.inventory()
        provider = items["account-provider"]
        self.assertEqual(order[-1], "account-provider")
        self.assertEqual(provider["status"], "kept")
        self.assertIn("remote Active Directory", provider["name"])
        self.assertIn("Kept: already on NS8", provider["reason"]["en"])
        # No provider at all: nothing to list.
        self.configure(add=[])
        items, _ = self.inventory()
        self.assertNotIn("account-provider", items)

    def test_no_domain_dependents_while_disconnected(self):
        self.assertEqual(self.sb.bus.get(ROOT_PATH, MANAGER_IFACE, "DomainDependents"), [])
