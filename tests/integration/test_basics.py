"""The helper's first contact: version, state dir, initial properties, and no
app object when NethVoice is not installed."""

import os
import stat
import subprocess
import unittest

from harness import APP_IFACE, MANAGER_IFACE, ROOT_PATH, app_path
from harness.testing import SandboxTestCase
from harness import util

UNKNOWN = {"org.freedesktop.DBus.Error.UnknownObject", "org.freedesktop.DBus.Error.UnknownMethod",
           "org.freedesktop.DBus.Error.UnknownInterface", "org.freedesktop.DBus.Error.UnknownProperty"}


class BasicsTest(SandboxTestCase):
    sandbox_options = dict(files=300, cdr_rows=50)

    def test_version_is_version_file(self):
        with open(os.path.join(util.source_dir(), "VERSION")) as f:
            expected = f.read().strip()
        self.assertEqual(self.bus.version(), expected)

    def test_state_dir_created_0700(self):
        st = os.stat(self.sb.state_dir)
        self.assertTrue(stat.S_ISDIR(st.st_mode))
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o700)
        self.assertEqual(st.st_uid, 0)
        self.assertTrue(os.path.isfile(os.path.join(self.sb.state_dir, "state.db")))

    def test_manager_initially_disconnected(self):
        props = self.bus.get_all(ROOT_PATH, MANAGER_IFACE)
        self.assertEqual(props["State"], "disconnected")
        self.assertEqual((props["Leader"], props["NodeId"], props["VpnAddress"], props["TlsFingerprint"]),
                         ("", 0, "", ""))

    def test_nethvoice_app_listed(self):
        apps = self.bus.apps()
        # The harness's NS7 has a local OpenLDAP account provider: an app too.
        self.assertEqual(sorted(apps), ["account_provider_ldap", "nethvoice"])
        props = apps["nethvoice"]
        self.assertEqual((props["Id"], props["Name"], props["Status"]), ("nethvoice", "NethVoice", "not_migrated"))
        self.assertEqual((props["SourceFiles"], props["SourceBytes"], props["DatabaseBytes"], props["ScanTime"]),
                         (0, 0, 0, 0))
        self.assertEqual(props["ScanDetails"], [])
        self.assertEqual(props["Job"], "/")

    def test_help_and_version_flags(self):
        out = subprocess.run([self.sb.helper.binary, "--version"], capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 0)
        self.assertIn(self.bus.version(), out.stdout + out.stderr)
        out = subprocess.run([self.sb.helper.binary, "--help"], capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 0)
        for flag in ("--bus-address", "--state-dir", "--root", "--profiles-dir"):
            self.assertIn(flag, out.stdout + out.stderr)


class WithoutNethVoiceTest(SandboxTestCase):
    """The NethVoice files are there, but the configuration DB has no
    `nethvoice` record: NethVoice is not installed, so no app object."""

    sandbox_options = dict(files=300, cdr_rows=50, nethvoice=False, nethvoice_files=True)

    def test_no_app_object(self):
        # Only the account provider's app (the harness's NS7 has a local OpenLDAP).
        self.assertEqual(sorted(self.bus.apps()), ["account_provider_ldap"])
        for path in self.bus.managed_objects():
            self.assertFalse(path.startswith(app_path("nethvoice")), f"{path} is exported")
        name, message = self.bus.call_error(app_path("nethvoice"), "org.freedesktop.DBus.Properties",
                                            "GetAll", "s", [APP_IFACE])
        self.assertIn(name, UNKNOWN, f"GetAll on the NethVoice app gave {name}: {message}")
        name, message = self.bus.call_error(app_path("nethvoice"), APP_IFACE, "Scan", "a{sv}", [{}])
        self.assertIn(name, UNKNOWN, f"Scan on the NethVoice app gave {name}: {message}")
        self.assertHelperAnswers()

    def test_manager_still_there(self):
        self.assertEqual(self.bus.get(ROOT_PATH, MANAGER_IFACE, "State"), "disconnected")


if __name__ == "__main__":
    unittest.main()
