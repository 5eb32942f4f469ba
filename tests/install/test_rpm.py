"""The RPM, built as a build host builds it, then checked.

scripts/dist.sh makes the source tarball (with the Cockpit page built),
once; `rpmbuild -ta` builds it (rpm/build-rpm.sh -t) in a network namespace
with no network, in a scratch folder with no shared/ beside it, with the
tests off: the tarball builds from its own contents and the build
dependencies.  Then the package is compared with rpm/expected-files.txt and
taken apart.  Twice, from the same tarball:

  RpmTest      the spec's default branch (Qt 6, sd-bus from libsystemd)
  RpmEl7Test   its NethServer 7 branch (rpm/build-rpm.sh -7: --define
               "rhel 7"), here with Debian's Qt 5 and the libelogind of the
               private prefix of scripts/elogind-prefix.sh:
               $NS8M_ELOGIND_PREFIX (CMake passes it when the build itself
               uses libelogind), else that script is run for build-deps/elogind
               of the checkout (needs apt's network once)

Needs root (unshare) and Debian's rpm, rpm2cpio, cpio, logrotate
(scripts/packages.d/rpm.txt).  The packages and the build logs are kept in
$NS8M_ARTIFACTS_DIR/rpm/ (the NethServer 7 build's in rpm/el7/).
"""

import glob
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
import unittest
import xml.etree.ElementTree as ET

import manifest
from harness import util

NAME = "ns8-migration"
HELPER = "/usr/libexec/ns8-migration-helper"
UNIT = "ns8-migration-helper.service"
BUILD_TIMEOUT = 900

# Runtime needs the package must declare (rpm -qp --requires).
REQUIRES = {"rsync", "wireguard-tools", "iproute", "mariadb", "qt6-qtbase-mysql", "cockpit-bridge",
            "dbus", "polkit", "logrotate"}
# On NethServer 7: Qt 5's MySQL driver, and ELRepo's WireGuard module (kernel 3.10).
REQUIRES_EL7 = REQUIRES - {"qt6-qtbase-mysql"} | {"qt5-qtbase-mysql", "kmod-wireguard"}
# The original NS7 tool owns the same WireGuard interface and log.
CONFLICTS = {"nethserver-ns8-migration"}
# The Fedora/EL build dependency of each thing the CMake files look for.
# A new find_package(), pkg_check_modules() module or language needs its
# BuildRequires in rpm/ns8-migration.spec.in and a row here.  A tuple: any
# one of them (Qt: the CMake files take Qt 6 or Qt 5, NS8M_QT_MAJOR, through
# find_package(QT NAMES Qt6 Qt5) and find_package(Qt${QT_VERSION_MAJOR})).
QT_BASE_DEVEL = ("qt6-qtbase-devel", "qt5-qtbase-devel")
BUILD_REQUIRES = {
    ("language", "C"): "gcc",
    ("language", "CXX"): "gcc-c++",
    ("package", "PkgConfig"): "pkgconfig",
    ("package", "OpenSSL"): "openssl-devel",
    ("package", "Threads"): "gcc-c++",
    ("package", "Qt6"): "qt6-qtbase-devel",
    ("package", "Qt5"): "qt5-qtbase-devel",
    ("package", "QT"): QT_BASE_DEVEL,
    ("package", "Qt"): QT_BASE_DEVEL,
    ("module", "libsystemd"): "systemd-devel",
    ("module", "yaml-cpp"): "yaml-cpp-devel",
}
# A module named by a cache variable: the one the spec builds with (its default).
MODULE_VARIABLES = {"${NS8M_SDBUS}": "libsystemd"}
# The spec's NethServer 7 branch: SCL's gcc 11, EPEL's cmake3 and OpenSSL
# 1.1.1, elogind's sd-bus.
BUILD_REQUIRES_EL7 = {**BUILD_REQUIRES,
                      ("language", "CXX"): "devtoolset-11-gcc-c++",
                      ("package", "Threads"): "devtoolset-11-gcc-c++",
                      ("package", "OpenSSL"): "openssl11-devel",
                      ("module", "libelogind"): "pkgconfig(libelogind)"}
MODULE_VARIABLES_EL7 = {"${NS8M_SDBUS}": "libelogind"}
QT6_BASE_COMPONENTS = {"Core", "Network", "Sql", "Test", "DBus", "Concurrent", "Xml"}
PKG_KEYWORDS = {"REQUIRED", "QUIET", "IMPORTED_TARGET", "GLOBAL", "NO_CMAKE_PATH",
                "NO_CMAKE_ENVIRONMENT_PATH"}

# What the tarball may hold at its top, and never below.
TARBALL_TOP = {"CMakeLists.txt", "VERSION", "README.md", "ns8-migration.spec", "docs", "cmake",
               "helper", "dbus", "polkit", "apps", "logrotate", "ns7", "rpm", "cockpit-plugin"}
# Folders end with "/" when matched.
TARBALL_NEVER = re.compile(
    r"(^|/)(\.git|build[^/]*|_build[^/]*|node_modules|test-artifacts|tests?|__pycache__|bench|scripts"
    r"|CMakeFiles)/|(^|/)(CMakeCache\.txt|[^/]*\.pyc|[^/]*\.o|\.git[^/]*)$")


def run(argv, **kw):
    kw.setdefault("check", True)
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    return subprocess.run(argv, **kw)


_dist = {}


def source_tarball():
    """(tarball, its scratch folder): made by scripts/dist.sh once for the
    whole module, as a developer makes it (building the page may need npm's
    registry)."""
    if "error" in _dist:
        raise AssertionError(_dist["error"])
    if "tarball" not in _dist:
        tmp = tempfile.mkdtemp(prefix="ns8m-dist-")
        unittest.addModuleCleanup(shutil.rmtree, tmp, True)
        artifacts = os.path.join(util.artifacts_dir(), "rpm")
        os.makedirs(artifacts, exist_ok=True)
        log_path = os.path.join(artifacts, "dist.log")
        src = os.path.realpath(manifest.source_dir())
        with open(log_path, "w") as log:
            proc = subprocess.run([os.path.join(src, "scripts", "dist.sh"), "-o", tmp], stdout=log,
                                  stderr=subprocess.STDOUT, env=dict(os.environ, TMPDIR=tmp),
                                  timeout=BUILD_TIMEOUT)
        tarball = os.path.join(tmp, f"{NAME}-{manifest.version()}.tar.gz")
        if proc.returncode != 0 or not os.path.isfile(tarball):
            _dist["error"] = f"scripts/dist.sh failed ({proc.returncode}):\n{util.tail(log_path, 60)}"
            raise AssertionError(_dist["error"])
        shutil.copy(tarball, artifacts)
        _dist.update(tarball=tarball, tmp=tmp)
    return _dist["tarball"], _dist["tmp"]


def elogind_prefix():
    """The private libelogind prefix (scripts/elogind-prefix.sh's DIR/usr),
    made before the offline build when CMake gave none."""
    prefix = os.environ.get("NS8M_ELOGIND_PREFIX")
    if not prefix:
        src = os.path.realpath(manifest.source_dir())
        r = run([os.path.join(src, "scripts", "elogind-prefix.sh"), os.path.join(src, "build-deps", "elogind")],
                check=False, timeout=300)
        if r.returncode != 0:
            raise AssertionError(f"scripts/elogind-prefix.sh failed ({r.returncode}):\n{r.stderr}")
        prefix = r.stdout.strip()
    pcs = glob.glob(os.path.join(prefix, "lib", "*", "pkgconfig", "libelogind.pc")) + \
        glob.glob(os.path.join(prefix, "lib*", "pkgconfig", "libelogind.pc"))
    if not pcs:
        raise AssertionError(f"no libelogind.pc in {prefix} (scripts/elogind-prefix.sh)")
    libdir = run(["pkg-config", "--variable=libdir", "libelogind"],
                 env=dict(os.environ, PKG_CONFIG_PATH=os.path.dirname(pcs[0]))).stdout.strip()
    return os.path.realpath(prefix), libdir


class TarballTest(unittest.TestCase):
    """The source tarball both package builds take."""

    @classmethod
    def setUpClass(cls):
        cls.version = manifest.version()
        cls.src = os.path.realpath(manifest.source_dir())
        cls.tarball, _ = source_tarball()
        with tarfile.open(cls.tarball) as t:
            cls.members = {m.name: m for m in t.getmembers()}

    def test_tarball_layout(self):
        top = f"{NAME}-{self.version}"
        for name, m in self.members.items():
            with self.subTest(member=name):
                self.assertTrue(name == top or name.startswith(top + "/"), "outside the top folder")
                rel = name[len(top) + 1:]
                if not rel:
                    continue
                self.assertIn(rel.split("/")[0], TARBALL_TOP, "not something the build needs")
                self.assertNotRegex(rel + "/" if m.isdir() else rel, TARBALL_NEVER,
                                    "a test, build or VCS file in the tarball")
                self.assertTrue(m.isfile() or m.isdir(), "only files and folders")
                self.assertEqual((m.uid, m.gid), (0, 0))
                if rel.startswith("cockpit-plugin/"):
                    self.assertTrue(rel.startswith("cockpit-plugin/dist"), "the page goes in as its built bundle only")
        for rel in ("CMakeLists.txt", "VERSION", "ns8-migration.spec", "helper/CMakeLists.txt",
                    "helper/src/main.cpp", "dbus/CMakeLists.txt", "polkit/CMakeLists.txt",
                    "apps/CMakeLists.txt", "logrotate/CMakeLists.txt", "rpm/ns8-migration.spec.in"):
            self.assertIn(f"{top}/{rel}", self.members)

    def test_tarball_carries_every_tracked_source(self):
        """What git tracks under the built folders is in the tarball (a new
        source file not added to dist.sh's paths would break the package)."""
        r = run(["git", "-C", self.src, "ls-files", "--", "helper/src", "dbus", "polkit", "apps",
                 "logrotate", "ns7", "CMakeLists.txt", "VERSION"], check=False)
        if r.returncode != 0:
            self.skipTest(f"not a git checkout git can read: {r.stderr.strip()}")
        tracked = r.stdout.split()
        top = f"{NAME}-{self.version}"
        missing = [f for f in tracked
                   if os.path.exists(os.path.join(self.src, f)) and f"{top}/{f}" not in self.members]
        self.assertEqual(missing, [])


class RpmTest(unittest.TestCase):
    """The package of the spec's default branch (Qt 6, libsystemd)."""
    ARTIFACTS = "rpm"
    BUILD_ARGS = []
    REQUIRES = REQUIRES
    BUILD_REQUIRES = BUILD_REQUIRES
    MODULE_VARIABLES = MODULE_VARIABLES
    CMAKE = "cmake"
    SDBUS = "libsystemd.so.0"
    NOT_SDBUS = "libelogind.so.0"

    @classmethod
    def prepare(cls, env):
        """Whatever the build needs before it goes offline."""

    @classmethod
    def setUpClass(cls):
        cls.version = manifest.version()
        cls.src = os.path.realpath(manifest.source_dir())
        cls.tarball, dist_tmp = source_tarball()
        cls.tmp = tempfile.mkdtemp(prefix="ns8m-rpm-")
        cls.addClassCleanup(shutil.rmtree, cls.tmp, True)
        cls.out = os.path.join(cls.tmp, "out")
        cls.artifacts = os.path.join(util.artifacts_dir(), cls.ARTIFACTS)
        os.makedirs(cls.artifacts, exist_ok=True)
        log_path = os.path.join(cls.artifacts, "rpmbuild.log")
        env = dict(os.environ, TMPDIR=cls.tmp)
        cls.helper_env = dict(os.environ)
        cls.build_paths = {dist_tmp}
        cls.prepare(env)
        with open(log_path, "w") as log:
            # The package, from the tarball alone, with no network at all.
            proc = subprocess.run(["unshare", "--net", "--", os.path.join(cls.src, "rpm", "build-rpm.sh"),
                                   "-t", cls.tarball, "-o", cls.out, *cls.BUILD_ARGS,
                                   "--", "--define", "_smp_mflags -j2", "--define", f"_tmppath {cls.tmp}"],
                                  stdout=log, stderr=subprocess.STDOUT, env=env, timeout=BUILD_TIMEOUT)
        if proc.returncode != 0:
            raise AssertionError(f"the RPM build failed ({proc.returncode}):\n{util.tail(log_path, 60)}")
        top = os.path.join(cls.out, "rpmbuild")
        rpms = glob.glob(os.path.join(top, "RPMS", "*", f"{NAME}-{cls.version}-*.rpm"))
        srpms = glob.glob(os.path.join(top, "SRPMS", f"{NAME}-{cls.version}-*.src.rpm"))
        if len(rpms) != 1 or len(srpms) != 1:
            raise AssertionError(f"expected one RPM and one SRPM, got {rpms} {srpms}")
        cls.rpm, cls.srpm = rpms[0], srpms[0]
        for f in (cls.rpm, cls.srpm):
            shutil.copy(f, cls.artifacts)
        # Paths a leak would show: the rpmbuild tree, the checkout, its build dir.
        cls.build_paths |= {cls.tmp, top, cls.src}
        if os.environ.get("NS8M_BUILD_DIR"):
            cls.build_paths.add(os.path.realpath(os.environ["NS8M_BUILD_DIR"]))
        cls.payload = os.path.join(cls.tmp, "payload")
        os.makedirs(cls.payload)
        run(["sh", "-c", 'rpm2cpio "$1" | cpio -idm --quiet --no-absolute-filenames', "sh", cls.rpm],
            cwd=cls.payload)
        with tarfile.open(cls.tarball) as t:
            cls.members = {m.name: m for m in t.getmembers()}
        prefix = f"{NAME}-{cls.version}/cockpit-plugin/dist/"
        cls.bundle = {m[len(prefix):]: "d" if cls.members[m].isdir() else "f"
                      for m in cls.members if m.startswith(prefix) and len(m) > len(prefix)}
        cls.has_bundle = bool(cls.bundle)
        cls.entries = manifest.load()
        cls.expected = manifest.expected(cls.entries, bundle_files=cls.bundle if cls.has_bundle else None)
        cls._listing_cache = cls._listing()

    def qp(self, *args, package=None):
        return run(["rpm", "-qp", *args, package or self.rpm]).stdout

    @classmethod
    def _listing(cls):
        """{path: (kind, mode, user, group, link target)} from rpm -qlvp."""
        out = {}
        for line in run(["rpm", "-qlvp", cls.rpm]).stdout.splitlines():
            fields = line.split(None, 8)
            if len(fields) != 9:
                raise AssertionError(f"unexpected rpm -qlvp line: {line!r}")
            kind, mode = manifest.parse_perms(fields[0])
            path, _, target = fields[8].partition(" -> ")
            out[path] = (kind, mode, fields[2], fields[3], target or None)
        return out

    def listing(self):
        return self._listing_cache

    def build_id_links(self, listing):
        return {p: v for p, v in listing.items() if p == "/usr/lib/.build-id" or p.startswith("/usr/lib/.build-id/")}

    # --- the tarball and the spec -----------------------------------------------
    def test_versions_come_from_VERSION(self):
        with open(os.path.join(self.src, "rpm", "ns8-migration.spec.in")) as f:
            template = f.read()
        self.assertRegex(template, r"(?m)^Version:\s+@VERSION@$", "the template hard-codes no version")
        with tarfile.open(self.tarball) as t:
            spec = t.extractfile(f"{NAME}-{self.version}/ns8-migration.spec").read().decode()
            tar_version = t.extractfile(f"{NAME}-{self.version}/VERSION").read().decode().strip()
        self.assertEqual(tar_version, self.version)
        self.assertNotIn("@", "".join(l for l in spec.splitlines() if not l.startswith("#")),
                         "a placeholder was left in the spec")
        self.assertRegex(spec, rf"(?m)^Version:\s+{re.escape(self.version)}$")
        self.assertEqual(self.qp("--qf", "%{NAME} %{VERSION}"), f"{NAME} {self.version}")
        self.assertEqual(self.qp("--qf", "%{VERSION}", package=self.srpm), self.version)

    def test_changelog_names_this_version(self):
        first = self.qp("--changelog").splitlines()[0]
        self.assertRegex(first, rf" - {re.escape(self.version)}-\d+$",
                         "add a %changelog entry to rpm/ns8-migration.spec.in for the new VERSION")

    def test_build_requires_cover_what_cmake_looks_for(self):
        """The tarball builds from its contents plus the declared build
        dependencies: every package, pkg-config module and language the CMake
        files of the tarball ask for has its BuildRequires."""
        declared = {line.split()[0] for line in self.qp("--requires", package=self.srpm).splitlines()
                    if line.strip()}
        self.assertIn(self.CMAKE, declared)
        needs = set()
        with tarfile.open(self.tarball) as t:
            for name in self.members:
                if not (name.endswith("/CMakeLists.txt") or name.endswith(".cmake")):
                    continue
                text = re.sub(r"#[^\n]*", "", t.extractfile(name).read().decode())
                for m in re.finditer(r"\bproject\(([^)]*)\)", text, re.I):
                    langs = re.search(r"LANGUAGES\s+([\w\s]+)", m.group(1))
                    needs |= {("language", lang) for lang in (langs.group(1).split() if langs else ["C", "CXX"])
                              if lang != "NONE"}
                for m in re.finditer(r"\bfind_package\(\s*(\w+)([^)]*)\)", text, re.I):
                    needs.add(("package", m.group(1)))
                    if m.group(1) in ("Qt6", "Qt5", "QT", "Qt"):
                        comps = re.search(r"COMPONENTS\s+([\w\s]+)", m.group(2))
                        for c in comps.group(1).split() if comps else []:
                            if c not in ("REQUIRED", "OPTIONAL_COMPONENTS"):
                                self.assertIn(c, QT6_BASE_COMPONENTS, f"Qt {c} is not in qtbase")
                for m in re.finditer(r"\bpkg_check_modules\(\s*\w+([^)]*)\)", text, re.I):
                    for word in m.group(1).split():
                        if word not in PKG_KEYWORDS:
                            word = self.MODULE_VARIABLES.get(word, word)
                            needs.add(("module", re.split(r"[<>=]", word)[0]))
        self.assertTrue(needs)
        for need in sorted(needs):
            with self.subTest(need=need):
                self.assertIn(need, self.BUILD_REQUIRES, "a build dependency with no BuildRequires known")
                want = self.BUILD_REQUIRES[need]
                self.assertTrue(set(want if isinstance(want, tuple) else (want,)) & declared,
                                f"none of {want} is a BuildRequires")

    def test_srpm_holds_the_tarball_and_spec(self):
        self.assertEqual(set(self.qp("-l", package=self.srpm).split()),
                         {os.path.basename(self.tarball), "ns8-migration.spec"})

    # --- the file list ----------------------------------------------------------
    def test_exactly_the_expected_files(self):
        listing = self.listing()
        got = set(listing) - set(self.build_id_links(listing))
        self.assertEqual(sorted(got - set(self.expected)), [], "in the package, not in rpm/expected-files.txt")
        self.assertEqual(sorted(set(self.expected) - got), [], "in rpm/expected-files.txt, not in the package")
        self.assertEqual(set(self.qp("-l").split()), set(listing), "rpm -qlp and rpm -qlvp disagree")

    def test_modes_and_owners(self):
        listing = self.listing()
        for path, e in self.expected.items():
            if path not in listing:
                continue  # reported by test_exactly_the_expected_files
            with self.subTest(path=path):
                kind, mode, user, group, _ = listing[path]
                self.assertEqual(manifest.describe(kind, mode, user, group),
                                 manifest.describe(e.kind, e.mode, e.user, e.group))

    def test_state_dir_and_log_are_root_only(self):
        listing = self.listing()
        self.assertEqual(listing["/var/lib/ns8-migration"][:4], ("d", 0o700, "root", "root"))
        self.assertEqual(listing["/var/log/ns8-migration.log"][:4], ("f", 0o600, "root", "root"))

    def test_file_flags(self):
        flags = {}
        for line in self.qp("--qf", "[%{FILEFLAGS:fflags} %{FILENAMES}\n]").splitlines():
            f, _, path = line.rpartition(" ")
            flags[path] = set(f.strip())
        for path, e in self.expected.items():
            with self.subTest(path=path):
                want = set()
                if "config" in e.tags:
                    want |= {"c", "n"}
                if "doc" in e.tags:
                    want.add("d")
                if "ghost" in e.tags:
                    want.add("g")
                self.assertEqual(flags.get(path), want)

    def test_build_id_links_point_into_the_package(self):
        listing = self.listing()
        links = {p: v for p, v in self.build_id_links(listing).items() if v[0] == "l"}
        self.assertTrue(links, "no build-id link for the helper")
        for path, (kind, mode, user, group, target) in self.build_id_links(listing).items():
            with self.subTest(path=path):
                self.assertEqual((user, group), ("root", "root"))
                if kind == "d":
                    continue
                self.assertEqual(kind, "l")
                resolved = os.path.normpath(os.path.join(os.path.dirname(path), target))
                self.assertIn(resolved, self.expected, "a build-id link to a file not in the list")
                self.assertEqual(self.expected[resolved].kind, "f")

    def test_cockpit_page_when_built(self):
        if os.environ.get("NS8M_BUILD_PAGE", "").upper() in ("ON", "1", "TRUE", "YES"):
            self.assertTrue(self.has_bundle, "this build has the page: the tarball must carry it")
        listing = self.listing()
        page = {p for p in listing if manifest.is_page_path(p)}
        if not self.has_bundle:
            self.assertEqual(page, set(), "Cockpit files without a bundle in the tarball")
            return
        self.assertLessEqual(manifest.required_cockpit(self.entries), page, "the page lacks a file it needs")
        app = os.path.join(self.payload, manifest.NS7_APP.lstrip("/"))
        share = os.path.join(self.payload, os.path.dirname(manifest.COCKPIT_DIR).lstrip("/"))
        self.assertEqual(manifest.ns7_application_problems(app, share, self.version), [],
                         "NethServer 7's Applications entry")

    # --- nothing that should not be there -----------------------------------------
    def test_no_test_or_build_file(self):
        for path in self.listing():
            with self.subTest(path=path):
                self.assertNotRegex(path, manifest.LEAK_RE)

    def test_no_build_path_inside(self):
        for dirpath, _, files in os.walk(self.payload):
            for name in files:
                full = os.path.join(dirpath, name)
                if os.path.islink(full):
                    continue
                with open(full, "rb") as f:
                    data = f.read()
                for p in self.build_paths:
                    with self.subTest(file=os.path.relpath(full, self.payload), path=p):
                        self.assertNotIn(p.encode(), data)
                with self.subTest(file=os.path.relpath(full, self.payload)):
                    self.assertNotIn(b"BUILDROOT", data)
                    self.assertNotIn(b"/rpmbuild/", data)
        scripts = self.qp("--scripts")
        for p in self.build_paths | {"BUILDROOT", "/rpmbuild/"}:
            self.assertNotIn(p, scripts)

    # --- what is inside works together ---------------------------------------------
    def test_helper_runs(self):
        helper = os.path.join(self.payload, HELPER.lstrip("/"))
        out = run([helper, "--version"], env=self.helper_env).stdout.strip()
        self.assertEqual(out, f"ns8-migration-helper {self.version}")
        usage = re.sub(r"\s+", " ", run([helper, "--help"], env=self.helper_env).stdout)
        self.assertIn("(default /usr/share/ns8-migration/apps)", usage,
                      "the compiled-in profiles dir is the packaged one")

    def test_unit_and_activation_start_the_packaged_helper(self):
        unit = self.read("/usr/lib/systemd/system/" + UNIT)
        self.assertRegex(unit, rf"(?m)^ExecStart={re.escape(HELPER)}$")
        self.assertRegex(unit, r"(?m)^BusName=org\.nethserver\.Ns8Migration1$")
        self.assertRegex(unit, r"(?m)^StateDirectoryMode=0700$")
        act = self.read("/usr/share/dbus-1/system-services/org.nethserver.Ns8Migration1.service")
        self.assertRegex(act, rf"(?m)^Exec={re.escape(HELPER)}$")
        self.assertRegex(act, rf"(?m)^SystemdService={re.escape(UNIT)}$")
        self.assertRegex(act, r"(?m)^User=root$")

    def test_xml_files_parse(self):
        for path in ("/usr/share/dbus-1/system.d/org.nethserver.Ns8Migration1.conf",
                     "/usr/share/dbus-1/interfaces/org.nethserver.Ns8Migration1.xml",
                     "/usr/share/polkit-1/actions/org.nethserver.ns8migration.policy"):
            with self.subTest(path=path):
                ET.fromstring(self.read(path))

    def test_logrotate_snippet(self):
        snippet = self.read("/etc/logrotate.d/ns8-migration")
        self.assertRegex(snippet, r"(?m)^/var/log/ns8-migration\.log \{$", "rotates the packaged log")
        self.assertIn("copytruncate", snippet, "the helper keeps the log open")
        state = os.path.join(self.tmp, "logrotate.state")
        r = run(["logrotate", "--debug", "--state", state,
                 os.path.join(self.payload, "etc/logrotate.d/ns8-migration")], check=False)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn("error", r.stderr.lower(), r.stderr)

    def test_requires(self):
        requires = {line.split()[0] for line in self.qp("--requires").splitlines() if line.strip()}
        self.assertLessEqual(self.REQUIRES, requires)

    def test_conflicts(self):
        conflicts = {line.split()[0] for line in self.qp("--conflicts").splitlines() if line.strip()}
        self.assertEqual(conflicts, CONFLICTS)

    def test_helper_links_its_sd_bus(self):
        """The helper takes sd-bus from the library this branch names, never
        from both, and carries no RPATH (its libraries are the system's)."""
        dynamic = run(["readelf", "-d", os.path.join(self.payload, HELPER.lstrip("/"))]).stdout
        needed = set(re.findall(r"\(NEEDED\)\s+Shared library: \[([^]]+)\]", dynamic))
        self.assertIn(self.SDBUS, needed)
        self.assertNotIn(self.NOT_SDBUS, needed)
        self.assertNotRegex(dynamic, r"\((RPATH|RUNPATH)\)")
        # rpm's automatic Requires, where this rpm makes them (Debian's does).
        requires = self.qp("--requires")
        if "()(64bit)" in requires:
            self.assertIn(f"{self.SDBUS}()(64bit)", requires)
            self.assertNotIn(f"{self.NOT_SDBUS}()", requires)

    def scriptlets(self):
        """{'postinstall': body, ...} from rpm -qp --scripts."""
        out, current = {}, None
        for line in self.qp("--scripts").splitlines():
            m = re.match(r"(\w+) scriptlet \(using [^)]*\):$", line)
            if m:
                current = m.group(1)
                out[current] = ""
            elif current:
                out[current] += line + "\n"
        return out

    def test_scriptlets_handle_the_unit(self):
        scripts = self.scriptlets()
        self.assertEqual(set(scripts), {"postinstall", "preuninstall", "postuninstall"})
        # On first install the unit's preset applies; on removal it is stopped
        # and disabled; after any change systemd reloads its units.
        self.assertRegex(scripts["postinstall"], rf"systemctl .*preset .*{re.escape(UNIT)}")
        self.assertRegex(scripts["preuninstall"], rf"systemctl .*(disable --now|stop) .*{re.escape(UNIT)}")
        self.assertIn("daemon-reload", scripts["postuninstall"])
        self.assertNotRegex("".join(scripts.values()), r"try-restart|restart ",
                            "an upgrade must not restart a running migration")

    def test_installs_into_a_root(self):
        """rpm -i into a scratch root (no scriptlets: no systemd there): the
        files land with their modes and rpm -V finds nothing to say."""
        root = os.path.join(self.tmp, "root")
        os.makedirs(root)
        rpm = ["rpm", "--root", root, "--dbpath", "/var/lib/rpm"]
        run([*rpm, "--initdb"])
        run([*rpm, "-i", "--nodeps", "--noscripts", self.rpm])
        verify = run([*rpm, "-V", "--nodeps", NAME], check=False)
        self.assertEqual((verify.returncode, verify.stdout), (0, ""), verify.stderr)
        st = os.stat(os.path.join(root, "var/lib/ns8-migration"))
        self.assertEqual(oct(st.st_mode & 0o7777), oct(0o700))
        self.assertFalse(os.path.exists(os.path.join(root, "var/log/ns8-migration.log")),
                         "the log is a ghost: the helper makes it")
        run([*rpm, "-e", "--nodeps", "--noscripts", NAME])
        left = [p for p, (kind, *_) in manifest.tree(root).items()
                if kind != "d" and not p.startswith("/var/lib/rpm/")]
        self.assertEqual(left, [], "files left after rpm -e")

    def read(self, path):
        with open(os.path.join(self.payload, path.lstrip("/"))) as f:
            return f.read()


class RpmEl7Test(RpmTest):
    """The package of the spec's NethServer 7 branch, built on Debian with
    --nodeps: Qt 5, and sd-bus from libelogind (private prefix) as EL7's
    build host takes it from its libelogind package."""
    ARTIFACTS = os.path.join("rpm", "el7")
    BUILD_ARGS = ["-7"]
    REQUIRES = REQUIRES_EL7
    BUILD_REQUIRES = BUILD_REQUIRES_EL7
    MODULE_VARIABLES = MODULE_VARIABLES_EL7
    CMAKE = "cmake3"
    SDBUS = "libelogind.so.0"
    NOT_SDBUS = "libsystemd.so.0"

    @classmethod
    def prepare(cls, env):
        prefix, libdir = elogind_prefix()
        env["NS8M_ELOGIND_PREFIX"] = prefix
        cls.helper_env["LD_LIBRARY_PATH"] = libdir
        cls.build_paths.add(prefix)

    def test_built_with_qt5(self):
        dynamic = run(["readelf", "-d", os.path.join(self.payload, HELPER.lstrip("/"))]).stdout
        self.assertIn("libQt5Core.so.5", dynamic)
        self.assertNotIn("libQt6", dynamic)


if __name__ == "__main__":
    unittest.main()
