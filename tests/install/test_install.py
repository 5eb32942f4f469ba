"""`cmake --install` of this build into a scratch DESTDIR, compared with
rpm/expected-files.txt; then the harness runs the installed helper with the
installed bus policy, polkit actions, example rules and app profiles (not
the source tree's) and a Scan works: the installed layout is complete.

The harness finds the bus policy and the polkit files below
NS8M_SOURCE_DIR (dbus/..., polkit/...).  This test points NS8M_SOURCE_DIR
at a folder of symlinks into DESTDIR holding only those, NS8M_HELPER at the
installed helper, and gives the helper --profiles-dir=<DESTDIR>/.../apps;
it then checks that the harness really took the installed copies.

Environment (set by tests/install/CMakeLists.txt): NS8M_BUILD_DIR, the
build's install folders NS8M_INSTALL_{PREFIX,LIBEXECDIR,DATADIR,DOCDIR,
SYSCONFDIR,LOCALSTATEDIR,UNITDIR}, and NS8M_BUILD_PAGE / NS8M_PAGE_DIST
(whether the build makes the Cockpit page, and where).
"""

import os
import re
import shutil
import subprocess
import tempfile
import unittest
import xml.etree.ElementTree as ET

import manifest
from harness import APP_IFACE, SYNC_GROUP_MEMBER, UNPRIVILEGED_USER, app_path, util
from harness import polkit as harness_polkit
from harness.testing import SandboxTestCase

APP = app_path("nethvoice")
NOT_AUTHORIZED = "org.nethserver.Ns8Migration1.Error.NotAuthorized"
POLICY = "org.nethserver.ns8migration.policy"
RULES = "50-ns8migration-sync-group.rules.example"
BUS_POLICY = "org.nethserver.Ns8Migration1.conf"

DIRS = {}       # install folder name -> absolute path (without DESTDIR)
DESTDIR = None
VIEW = None     # the folder NS8M_SOURCE_DIR points at during the sandbox tests
SOURCE = None   # the real source tree
_saved_env = {}


def installed(path):
    """A path of the install, inside DESTDIR."""
    return os.path.join(DESTDIR, path.lstrip("/"))


def helper_path():
    return os.path.join(DIRS["LIBEXECDIR"], "ns8-migration-helper")


def profiles_dir():
    return os.path.join(DIRS["DATADIR"], "ns8-migration", "apps")


def bundle_files():
    """The Cockpit page this build made (NS8M_PAGE_DIST), if it makes one."""
    if os.environ.get("NS8M_BUILD_PAGE", "").upper() not in ("ON", "1", "TRUE", "YES"):
        return None
    dist = os.environ.get("NS8M_PAGE_DIST", "")
    if not os.path.isdir(dist) or not os.listdir(dist):
        raise AssertionError(f"the build makes the page, but NS8M_PAGE_DIST={dist!r} holds none")
    return {p.lstrip("/"): kind for p, (kind, *_) in manifest.tree(dist).items()}


def to_build_layout(path):
    """A path of rpm/expected-files.txt moved to this build's folders."""
    roots = [("/usr/share/doc/ns8-migration", DIRS["DOCDIR"]),
             ("/usr/lib/systemd/system", DIRS["UNITDIR"]),
             ("/usr/libexec", DIRS["LIBEXECDIR"]),
             ("/usr/share", DIRS["DATADIR"]),
             ("/etc", DIRS["SYSCONFDIR"]),
             ("/var", DIRS["LOCALSTATEDIR"])]
    for rpm_root, root in roots:
        if path == rpm_root or path.startswith(rpm_root + "/"):
            return root + path[len(rpm_root):]
    raise AssertionError(f"{path}: no install folder maps to it; extend to_build_layout()")


def setUpModule():
    global DESTDIR, VIEW, SOURCE
    SOURCE = os.path.realpath(util.source_dir())
    for name in ("PREFIX", "LIBEXECDIR", "DATADIR", "DOCDIR", "SYSCONFDIR", "LOCALSTATEDIR", "UNITDIR"):
        value = os.environ.get(f"NS8M_INSTALL_{name}")
        if not value or not os.path.isabs(value):
            raise unittest.SkipTest(f"NS8M_INSTALL_{name} is not set: run me through CTest")
        DIRS[name] = value
    build_dir = os.environ.get("NS8M_BUILD_DIR") or os.path.join(SOURCE, "build")
    DESTDIR = tempfile.mkdtemp(prefix="ns8m-install-")
    try:
        log = os.path.join(util.artifacts_dir(), "install", "cmake-install.log")
        os.makedirs(os.path.dirname(log), exist_ok=True)
        with open(log, "w") as f:
            r = subprocess.run(["cmake", "--install", build_dir], env=dict(os.environ, DESTDIR=DESTDIR),
                               stdout=f, stderr=subprocess.STDOUT)
        if r.returncode != 0:
            raise AssertionError(f"cmake --install failed:\n{util.tail(log)}")

        # What the harness reads from NS8M_SOURCE_DIR, taken from the install.
        VIEW = tempfile.mkdtemp(prefix="ns8m-install-view-")
        os.chmod(VIEW, 0o755)
        for rel, target in ((f"dbus/{BUS_POLICY}", f"{DIRS['DATADIR']}/dbus-1/system.d/{BUS_POLICY}"),
                            (f"polkit/{POLICY}", f"{DIRS['DATADIR']}/polkit-1/actions/{POLICY}"),
                            (f"polkit/{RULES}", f"{DIRS['DOCDIR']}/examples/{RULES}")):
            os.makedirs(os.path.join(VIEW, os.path.dirname(rel)), exist_ok=True)
            os.symlink(installed(target), os.path.join(VIEW, rel))
        # The rest of the harness's environment stays on the real tree.
        for key, value in (("NS8M_SHARED_DIR", util.shared_dir()),
                           ("NS8M_ARTIFACTS_DIR", util.artifacts_dir()),
                           ("NS8M_SOURCE_DIR", VIEW),
                           ("NS8M_HELPER", installed(helper_path()))):
            _saved_env[key] = os.environ.get(key)
            os.environ[key] = value
    except BaseException:
        tearDownModule()
        raise


def tearDownModule():
    for key, value in _saved_env.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    _saved_env.clear()
    for d in (DESTDIR, VIEW):
        if d:
            shutil.rmtree(d, ignore_errors=True)


class LayoutTest(unittest.TestCase):
    """What `cmake --install` wrote is rpm/expected-files.txt, moved to this
    build's GNUInstallDirs folders."""

    def expected(self):
        skip = {"rpm"}
        if DIRS["LOCALSTATEDIR"] != "/var":
            skip.add("var")
        entries = manifest.load(os.path.join(SOURCE, manifest.MANIFEST))
        exp = manifest.expected(entries, bundle_files=bundle_files(), skip_tags=skip)
        return {to_build_layout(p): e for p, e in exp.items()}

    def test_same_files_as_the_list(self):
        got = manifest.tree(DESTDIR)
        exp = self.expected()
        files = {p for p, (kind, *_) in got.items() if kind != "d"}
        self.assertEqual(sorted(files - set(exp)), [], "installed, not in rpm/expected-files.txt")
        self.assertEqual(sorted(set(exp) - set(got)), [], "in rpm/expected-files.txt, not installed")
        for path, e in exp.items():
            if path not in got:
                continue
            with self.subTest(path=path):
                kind, mode, uid, gid = got[path]
                self.assertEqual(manifest.describe(kind, mode, uid, gid),
                                 manifest.describe(e.kind, e.mode, 0, 0))

    def test_no_test_or_build_file(self):
        for path in manifest.tree(DESTDIR):
            with self.subTest(path=path):
                self.assertNotRegex(path, manifest.LEAK_RE)

    def test_unit_and_activation_start_the_installed_helper(self):
        helper = helper_path()
        self.assertTrue(os.access(installed(helper), os.X_OK))
        with open(installed(f"{DIRS['UNITDIR']}/ns8-migration-helper.service")) as f:
            self.assertRegex(f.read(), rf"(?m)^ExecStart={re.escape(helper)}$")
        with open(installed(f"{DIRS['DATADIR']}/dbus-1/system-services/org.nethserver.Ns8Migration1.service")) as f:
            self.assertRegex(f.read(), rf"(?m)^Exec={re.escape(helper)}$")

    def test_ns7_application_entry(self):
        """NethServer 7's Applications list can list the page, show its icon
        and open it (manifest.ns7_application_problems)."""
        if bundle_files() is None:
            self.skipTest("this build makes no page (NS8M_BUILD_PAGE is OFF)")
        app = installed(to_build_layout(manifest.NS7_APP))
        share = installed(to_build_layout(os.path.dirname(manifest.COCKPIT_DIR)))
        self.assertEqual(manifest.ns7_application_problems(app, share, manifest.version(SOURCE)), [])

    def test_helper_defaults_to_the_installed_profiles(self):
        usage = subprocess.run([installed(helper_path()), "--help"], check=True, capture_output=True,
                               text=True).stdout
        self.assertIn(f"(default {profiles_dir()})", re.sub(r"\s+", " ", usage))


class InstalledScanTest(SandboxTestCase):
    """The harness on the installed files; root scans, polkit answers."""

    @classmethod
    def setUpClass(cls):
        cls.sandbox_options = dict(files=500, cdr_rows=100, example_rules=True,
                                   helper_args=(f"--profiles-dir={installed(profiles_dir())}",))
        super().setUpClass()

    def test_harness_took_the_installed_files(self):
        real = os.path.realpath
        self.assertEqual(real(self.sb.private_bus.project_policy),
                         real(installed(f"{DIRS['DATADIR']}/dbus-1/system.d/{BUS_POLICY}")))
        self.assertEqual(real(harness_polkit.project_actions_path()),
                         real(installed(f"{DIRS['DATADIR']}/polkit-1/actions/{POLICY}")))
        self.assertEqual(real(harness_polkit.example_rules_path()),
                         real(installed(f"{DIRS['DOCDIR']}/examples/{RULES}")))
        self.assertEqual(self.sb.helper.binary, installed(helper_path()))
        args = [a for a in self.sb.helper.argv() if a.startswith("--profiles-dir=")]
        self.assertEqual(args[-1], f"--profiles-dir={installed(profiles_dir())}",
                         "the last --profiles-dir is the one the helper uses")
        for path in (self.sb.private_bus.project_policy, harness_polkit.project_actions_path()):
            self.assertFalse(real(path).startswith(SOURCE + "/"), f"{path} is the source tree's")

    def test_app_from_the_installed_profile(self):
        apps = self.bus.apps()
        self.assertIn("nethvoice", apps)
        self.assertEqual(apps["nethvoice"]["Name"], "NethVoice")

    def test_scan(self):
        job, rec = self.bus.scan("nethvoice")
        out = self.bus.wait_job(job, rec, 120, "the scan")
        self.assertTrue(out.success, f"the scan failed: {out.message!r}")
        props = self.bus.get_all(APP, APP_IFACE)
        self.assertGreater(props["SourceFiles"], 0)
        self.assertGreater(props["SourceBytes"], 0)
        self.assertGreater(props["DatabaseBytes"], 0)
        self.assertHelperAnswers("a scan")

    def test_polkit_has_the_installed_actions(self):
        with open(installed(f"{DIRS['DATADIR']}/polkit-1/actions/{POLICY}")) as f:
            actions = [a.get("id") for a in ET.fromstring(f.read()).iter("action")]
        self.assertTrue(actions)
        for action in actions:
            with self.subTest(action=action):
                # An action polkitd does not know is an error, not a "no".
                authorized, _, _ = harness_polkit.check_authorization(self.bus, UNPRIVILEGED_USER, action)
                self.assertFalse(authorized)
        sync = "org.nethserver.ns8migration.sync"
        self.assertIn(sync, actions)
        self.assertTrue(harness_polkit.check_authorization(self.bus, SYNC_GROUP_MEMBER, sync)[0],
                        "the installed example rules grant .sync to the group")

    def test_unprivileged_scan_refused(self):
        r = self.bus.call_as(UNPRIVILEGED_USER, APP, APP_IFACE, "Scan", "a{sv}", [{}])
        self.assertEqual(r.error_name, NOT_AUTHORIZED, r)


if __name__ == "__main__":
    unittest.main()
