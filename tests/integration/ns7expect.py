"""What NETHVOICE.md says a NethVoice module's /srv holds after a migration,
computed from the NS7 tree independently of the helper's profile, and what
the NS8 side actually holds."""

import fnmatch
import hashlib
import os

from harness.ns7root import IMAGE_AGI, TOOL_AGI

# The stock AGI scripts that stay on NS7: the union of NETHVOICE.md's two
# lists (the original tool's and the NS8 image's own agi-bin).
AGI_STOCK = set(TOOL_AGI) | set(IMAGE_AGI)
assert len(TOOL_AGI) == 25 and len(IMAGE_AGI) == 19 and len(AGI_STOCK) == 40

# NS7 path → NS8 destination under the module's /srv, from NETHVOICE.md.
TABLE = [
    # (source, destination, copies the directory itself, excluded name patterns, delete)
    ("/var/lib/asterisk/sounds/nethcti", "volumes/sounds", True, [], True),
    ("/etc/asterisk", "volumes/asterisk", False,
     ["samples*", "keys", "asterisk.conf", "modules.conf", "*.rpmnew"], False),
    ("/var/lib/asterisk/agi-bin", "volumes/agi-bin", False, sorted(AGI_STOCK), False),
    ("/var/lib/asterisk/moh", "volumes/moh", False, [], True),
    ("/var/lib/nethserver/nethcti/templates/customer_card", "volumes/customer_card", False,
     ["identity.ejs", "lastcalls.ejs", "statistics.ejs", "table.ejs"], False),
    ("/var/lib/nethserver/nethvoice/phonebook/uploads", "volumes/phonebookcsv", False, [], True),
    ("/usr/share/phonebooks/post_scripts", "volumes/post_scripts", False, [], True),
    ("/usr/share/phonebooks/scripts", "volumes/scripts", False, [], True),
    ("/var/spool/asterisk/voicemail", "volumes/spool", True, [], True),
    ("/var/spool/asterisk/monitor", "volumes/spool", True, [], True),
    ("/var/lib/tancredi/data", "volumes/tancredi", True, [], True),
]
OLD_UPLOADS = "/var/lib/nethserver/nethvoice/phonebook/uploads/"
NEW_UPLOADS = "/var/lib/nethvoice/phonebook/uploads/"

# The Asterisk DB families that must not be carried over (NETHVOICE.md).
ASTDB_VOLATILE = ("/SIP/", "/RG/", "/BLKVM/", "/FM/", "/dundi/", "//", "/IAX/", "/CALLTRACE/",
                  "/ccss/last_number")


def digest(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def tree(root):
    """{relative path: (sha256, uid, gid)} of the regular files below root."""
    out = {}
    for d, dirs, files in os.walk(root):
        for name in files:
            p = os.path.join(d, name)
            if os.path.islink(p) or not os.path.isfile(p):
                continue
            st = os.lstat(p)
            out[os.path.relpath(p, root)] = (digest(p), st.st_uid, st.st_gid)
    return out


def excluded(rel, patterns):
    return any(fnmatch.fnmatch(part, pat) for part in rel.split("/") for pat in patterns)


def _subtree(root, rel_dir, ns7):
    """tree() of root/rel_dir, or its part of `ns7` (a tree() of the whole root)."""
    rel_dir = rel_dir.strip("/")
    if ns7 is None:
        return tree(os.path.join(root, rel_dir))
    prefix = rel_dir + "/"
    return {p[len(prefix):]: v for p, v in ns7.items() if p.startswith(prefix)}


def expected(root, ns7=None):
    """What NETHVOICE.md says the module's /srv holds for the NS7 tree `root`:
    {path below /srv: (sha256, uid, gid)}, `volumes/` only.  `ns7`: tree(root)
    when the caller has it already (it saves reading every file again)."""
    out = {}
    sounds = os.path.join(root, "var/lib/asterisk/sounds")
    for lang in sorted(os.listdir(sounds)):
        custom = os.path.join(sounds, lang, "custom")
        if os.path.isdir(custom):
            for rel, (sha, _, _) in _subtree(root, "var/lib/asterisk/sounds/%s/custom" % lang, ns7).items():
                out["volumes/sounds/%s/custom/%s" % (lang, rel)] = (sha, 990, 991)
    for src, dest, itself, patterns, _ in TABLE:
        full = root + src
        if not os.path.isdir(full):
            continue
        for rel, (sha, uid, gid) in _subtree(root, src, ns7).items():
            if excluded(rel, patterns):
                continue
            target = dest + "/" + (os.path.basename(src) + "/" if itself else "") + rel
            if src == "/var/lib/tancredi/data":
                out[target] = (sha, 33 if uid == 48 else uid, 33 if gid == 48 else gid)
            else:
                out[target] = (sha, 990, 991)
    sources = os.path.join(root, "etc/phonebook/sources.d")
    for name in sorted(os.listdir(sources)):
        with open(os.path.join(sources, name), "rb") as f:
            data = f.read().replace(OLD_UPLOADS.encode(), NEW_UPLOADS.encode())
        out["volumes/pbooksources/" + name] = (hashlib.sha256(data).hexdigest(), 990, 991)
    return out


def destination(rel):
    """Where the NS7 file `rel` (relative to the root) lands below the
    module's /srv by TABLE, or None when no row of TABLE copies it."""
    path = "/" + rel
    for src, dest, itself, patterns, _ in TABLE:
        if path.startswith(src + "/"):
            inner = path[len(src) + 1:]
            if excluded(inner, patterns):
                return None
            return dest + "/" + (os.path.basename(src) + "/" if itself else "") + inner
    return None


def received(srv):
    """What the module's /srv holds below volumes/: {path: (sha256, uid, gid)}."""
    return {rel: v for rel, v in tree(srv).items() if rel.startswith("volumes/")}


def differences(expected_tree, got_tree):
    """(missing, extra, different) sorted path lists."""
    missing = sorted(set(expected_tree) - set(got_tree))
    extra = sorted(set(got_tree) - set(expected_tree))
    wrong = sorted(p for p in set(expected_tree) & set(got_tree) if expected_tree[p] != got_tree[p])
    return missing, extra, wrong


def astdb_expected(path):
    """The rows of NS7's astdb.sqlite3 that must reach NS8: {key: value}."""
    import sqlite3
    db = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
    try:
        rows = db.execute("SELECT key, value FROM astdb").fetchall()
    finally:
        db.close()
    return {k: v for k, v in rows if not k.startswith(ASTDB_VOLATILE)}
