"""rpm/expected-files.txt, and what the RPM check and the install test both
need to compare a tree of files with it."""

import json
import os
import re
import stat
import xml.etree.ElementTree as ET
from collections import namedtuple

from harness import util

MANIFEST = os.path.join("rpm", "expected-files.txt")
COCKPIT_DIR = "/usr/share/cockpit/ns8-migration"
# NethServer 7's Applications list (nethserver-cockpit's system-apps API)
# reads the entries in this folder, one <id>.json each.
NS7_APPLICATIONS = "/usr/share/cockpit/nethserver/applications"
NS7_APP = NS7_APPLICATIONS + "/ns8-migration.json"
# The files of the page's bundle that are not installed below COCKPIT_DIR.
BUNDLE_ELSEWHERE = {"ns7-application.json": NS7_APP}
TAGS = {"config", "doc", "ghost", "rpm", "var", "cockpit"}

# Paths that betray a test, a build or the page's sources: none may be
# installed, whatever the list says.
LEAK_RE = re.compile(
    r"(^|/)(tests?|harness|ns8sim|integration|test-artifacts|__pycache__|node_modules|\.git"
    r"|CMakeFiles|build(-[^/]*)?)(/|$)"
    r"|(^|/)(test_[^/]*|lsan\.supp|CMakeCache\.txt|cmake_install\.cmake|package(-lock)?\.json"
    r"|[^/]*\.(py|pyc|cpp|h|o|a|ts|tsx|jsx|scss|map))$")

Entry = namedtuple("Entry", "kind mode user group path tags")


def source_dir():
    return util.source_dir()


def version(source=None):
    with open(os.path.join(source or source_dir(), "VERSION")) as f:
        return f.readline().strip()


def load(path=None):
    """The entries of the list, in its order."""
    path = path or os.path.join(source_dir(), MANIFEST)
    entries = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            fields = line.split()
            if len(fields) < 5 or fields[0] not in ("f", "d", "l") or not re.fullmatch(r"0[0-7]{3}", fields[1]):
                raise ValueError(f"{path}:{n}: expected 'f|d|l MODE USER GROUP PATH [TAGS]': {line!r}")
            tags = frozenset(fields[5:])
            if tags - TAGS:
                raise ValueError(f"{path}:{n}: unknown tags {sorted(tags - TAGS)}")
            entries.append(Entry(fields[0], int(fields[1], 8), fields[2], fields[3], fields[4], tags))
    return entries


def bundle_path(rel):
    """Where the file `rel` of the page's bundle is installed."""
    return BUNDLE_ELSEWHERE.get(rel, f"{COCKPIT_DIR}/{rel}")


def is_page_path(path):
    """Whether an installed path is the page's (its folder or a file of its bundle)."""
    return path == COCKPIT_DIR or path.startswith(COCKPIT_DIR + "/") or path in BUNDLE_ELSEWHERE.values()


def bundle_entries(bundle_files, manifest_entries):
    """The entries the Cockpit bundle adds: its folder and every file of
    `bundle_files` ({path relative to the bundle: 'f' | 'd'}) where
    bundle_path() puts it, with the mode the list gives, else 0644 / 0755."""
    listed = {e.path: e for e in manifest_entries if "cockpit" in e.tags}
    out = {COCKPIT_DIR: listed.get(COCKPIT_DIR) or Entry("d", 0o755, "root", "root", COCKPIT_DIR,
                                                         frozenset({"cockpit"}))}
    for rel, kind in bundle_files.items():
        path = bundle_path(rel)
        out[path] = listed.get(path) or Entry(kind, 0o644 if kind == "f" else 0o755, "root", "root",
                                              path, frozenset({"cockpit"}))
    return out


def expected(entries, *, bundle_files=None, skip_tags=()):
    """{path: Entry} that must be there.  bundle_files: None without the
    Cockpit bundle, else its files (see bundle_entries)."""
    out = {e.path: e for e in entries
           if "cockpit" not in e.tags and not (e.tags & set(skip_tags))}
    if bundle_files is not None:
        out.update(bundle_entries(bundle_files, entries))
    return out


def required_cockpit(entries):
    return {e.path for e in entries if "cockpit" in e.tags}


def parse_perms(perms):
    """'drwx------' -> ('d', 0o700)."""
    kind = {"-": "f", "d": "d", "l": "l"}.get(perms[0], perms[0])
    mode = 0
    bits = [stat.S_IRUSR, stat.S_IWUSR, stat.S_IXUSR, stat.S_IRGRP, stat.S_IWGRP, stat.S_IXGRP,
            stat.S_IROTH, stat.S_IWOTH, stat.S_IXOTH]
    for ch, bit in zip(perms[1:10], bits):
        if ch in "rwxst":
            mode |= bit
    special = {2: stat.S_ISUID, 5: stat.S_ISGID, 8: stat.S_ISVTX}
    for i, bit in special.items():
        if perms[1 + i] in "sStT":
            mode |= bit
    return kind, mode


def describe(kind, mode, user, group):
    return f"{kind} {mode:04o} {user} {group}"


def tree(root):
    """{'/path': (kind, mode, uid, gid)} of everything below root (not root itself)."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            full = os.path.join(dirpath, name)
            st = os.lstat(full)
            kind = "d" if stat.S_ISDIR(st.st_mode) else "l" if stat.S_ISLNK(st.st_mode) else "f"
            out["/" + os.path.relpath(full, root)] = (kind, stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid)
    return out


def ns7_application_problems(app_json, cockpit_share, version, package="ns8-migration"):
    """What is wrong with the NethServer 7 Applications entry `app_json`
    (an installed <id>.json), `cockpit_share` being the share/cockpit folder
    of the same install: [] when NS7's Cockpit can list it, show its icon
    and open its page.

    The format is nethserver-cockpit's docs/docs/application_manifest.md
    (id, name, summary required); its Applications table also reads `url`
    and `release.version` of every entry without a check, and its
    system-apps API authorizes an entry by its file name and lists it by
    its `id`.  "Settings" opens /cockpit/@localhost/<id>/index.html, the icon
    is <id>/<icon> beside it, and "Uninstall" removes the package named <id>."""
    try:
        with open(app_json, encoding="utf-8") as f:
            app = json.load(f)
    except (OSError, ValueError) as e:
        return [f"{app_json}: not a JSON file: {e}"]
    if not isinstance(app, dict):
        return [f"{app_json}: not a JSON object"]
    problems = []
    for key in ("id", "name", "summary", "description", "url"):
        if not isinstance(app.get(key), str):
            problems.append(f"{key!r} is not a string: {app.get(key)!r}")
    app_id = app.get("id")
    if app_id != package:
        problems.append(f"id {app_id!r} is not the package's name {package!r}")
    if os.path.basename(app_json) != f"{app_id}.json":
        problems.append(f"the file is {os.path.basename(app_json)!r}, not <id>.json")
    if app.get("url") != "":
        problems.append(f"url {app.get('url')!r}: the page has no web interface of its own, it must be empty")
    if app.get("external"):
        problems.append("external: the page is opened by Settings, not as a link")
    if (app.get("release") or {}).get("version") != version:
        problems.append(f"release.version {app.get('release')!r} is not {version!r}")
    if package not in (app.get("provides") or []):
        problems.append(f"provides {app.get('provides')!r} lacks {package!r}")
    page = os.path.join(cockpit_share, str(app_id))
    for name in ("manifest.json", "index.html"):
        if not os.path.isfile(os.path.join(page, name)):
            problems.append(f"no page at share/cockpit/{app_id}/: {name} is missing")
    icon = app.get("icon")
    if not isinstance(icon, str) or not icon or "/" in icon:
        problems.append(f"icon {icon!r} is not a file name")
    else:
        problems += [f"icon share/cockpit/{app_id}/{icon}: {p}" for p in icon_problems(os.path.join(page, icon))]
    return problems


def icon_problems(path):
    """[] when `path` is an SVG (with a viewBox: it scales to the list's
    size) or a PNG."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        return [str(e)]
    if path.endswith(".png"):
        return [] if data.startswith(b"\x89PNG\r\n\x1a\n") else ["not a PNG"]
    if not path.endswith(".svg"):
        return ["neither .svg nor .png"]
    try:
        root = ET.fromstring(data)
    except ET.ParseError as e:
        return [f"not XML: {e}"]
    if root.tag != "{http://www.w3.org/2000/svg}svg":
        return [f"the root is {root.tag}, not an SVG"]
    return [] if root.get("viewBox") else ["the SVG has no viewBox"]

