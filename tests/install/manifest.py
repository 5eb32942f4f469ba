"""rpm/expected-files.txt, and what the RPM check and the install test both
need to compare a tree of files with it."""

import os
import re
import stat
from collections import namedtuple

from harness import util

MANIFEST = os.path.join("rpm", "expected-files.txt")
COCKPIT_DIR = "/usr/share/cockpit/ns8-migration"
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


def version():
    with open(os.path.join(source_dir(), "VERSION")) as f:
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
            if len(fields) < 5 or fields[0] not in ("f", "d") or not re.fullmatch(r"0[0-7]{3}", fields[1]):
                raise ValueError(f"{path}:{n}: expected 'f|d MODE USER GROUP PATH [TAGS]': {line!r}")
            tags = frozenset(fields[5:])
            if tags - TAGS:
                raise ValueError(f"{path}:{n}: unknown tags {sorted(tags - TAGS)}")
            entries.append(Entry(fields[0], int(fields[1], 8), fields[2], fields[3], fields[4], tags))
    return entries


def bundle_entries(bundle_files, manifest_entries):
    """The entries the Cockpit bundle adds: its folder and every file of
    `bundle_files` ({path relative to the bundle: 'f' | 'd'}), with the mode
    the list gives, else 0644 / 0755."""
    listed = {e.path: e for e in manifest_entries if "cockpit" in e.tags}
    out = {COCKPIT_DIR: listed.get(COCKPIT_DIR) or Entry("d", 0o755, "root", "root", COCKPIT_DIR,
                                                         frozenset({"cockpit"}))}
    for rel, kind in bundle_files.items():
        path = f"{COCKPIT_DIR}/{rel}"
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
