"""What a Scan should find, computed independently of the helper: the app
profile says which paths and excluded names; `find` and `du` do the counting;
MariaDB's information_schema gives the database sizes."""

import glob
import os
import subprocess

import yaml

from harness import util


def load_profile(app_id="nethvoice"):
    with open(os.path.join(util.source_dir(), "apps", f"{app_id}.yaml")) as f:
        return yaml.safe_load(f)


def _find_files(path, excludes):
    """NUL-separated regular files below `path` (or `path` itself when it is a
    file), pruning every entry whose name matches an exclude (rsync's rule for
    a pattern without a slash: it matches the name at any depth)."""
    argv = ["find", path]
    if excludes:
        argv += ["(", "-mindepth", "1", "("]
        for i, pat in enumerate(excludes):
            if i:
                argv.append("-o")
            argv += ["-name", pat.rstrip("/")]
        argv += [")", "-prune", ")", "-o"]
    argv += ["-type", "f", "-print0"]
    out = subprocess.run(argv, check=True, capture_output=True).stdout
    return out


def _du_bytes(nul_list):
    if not nul_list:
        return 0
    out = subprocess.run(["du", "--apparent-size", "--bytes", "--files0-from=-", "-c"],
                         input=nul_list, check=True, capture_output=True).stdout.decode()
    return int(out.strip().splitlines()[-1].split()[0])


def transfer_figures(root, transfer):
    """(files, bytes) of one transfer of the profile on the NS7 tree `root`."""
    src = transfer["source"].rstrip("/")
    pattern = root + src
    if "*" in src:
        matches = sorted(glob.glob(pattern))
    else:
        matches = [pattern] if os.path.lexists(pattern) else []
    excludes = [str(e) for e in transfer.get("exclude") or []]
    files = 0
    listing = b""
    for m in matches:
        found = _find_files(m, excludes)
        files += found.count(b"\0")
        listing += found
    return files, _du_bytes(listing)


def scan_expectation(root, profile):
    """{transfer id: (files, bytes)} for every transfer of the profile."""
    return {t["id"]: transfer_figures(root, t) for t in profile["transfers"]}


def profile_databases(profile):
    return [d["name"] for d in profile["databases"]["items"]]


def database_sizes(mysql, databases):
    """{db name: SUM(data_length + index_length)} for the databases that exist."""
    names = ", ".join(f"'{d}'" for d in databases)
    rows = mysql.sql("SELECT table_schema, SUM(data_length + index_length) FROM information_schema.TABLES "
                     f"WHERE table_schema IN ({names}) GROUP BY table_schema")
    return {r[0]: int(r[1]) for r in rows}
