"""NethServer 7's local Samba AD domain controller (the `nsdc` container),
provisioned for real with `samba-tool` in the test NS7's root.

On NethServer 7 the DC runs in a systemd-nspawn container whose root is
/var/lib/machines/nsdc; Samba's state, lock, cache and private folders are
its /var/lib/samba.  provision() makes the same tree under the sandbox root:

    <root>/var/lib/machines/nsdc/etc/hostname            the DC's host name
    <root>/var/lib/machines/nsdc/etc/samba/smb.conf      written by the provision
    <root>/var/lib/machines/nsdc/var/lib/samba/
        private/sam.ldb, private/sam.ldb.d/*.ldb, metadata.tdb
        private/{secrets,idmap,privilege,share,hklm}.ldb, secrets.tdb, ...
        sysvol/<realm lower case>/{Policies,scripts}
        gencache.tdb, share_info.tdb

No DC daemon runs: the databases are files, read with ldbsearch (-H
path), the way the migration reads them (tdbbackup copies).  Users and
groups are added with `samba-tool user add` / `group add` /
`group addmembers` against the sam.ldb.  The configuration DB records of
records() (`nsdc`, `sssd` Provider=ad) say the provider is this local DC.

Provisioning with the users costs about 6 s (2 cores), so only the
sandboxes that ask for it pay (Sandbox(directory="ad")); export_copy()
copies the DC's folder the way the migration does.
"""

import base64
import os
import shutil
import subprocess
import time

from . import esmith

REALM = "AD.EXAMPLE.COM"
WORKGROUP = "EXAMPLE"
HOSTNAME = "nsdc-ns7"
# The DC's address (the one tests/integration/test_connect.py gives its nsdc).
IP_ADDRESS = "203.0.113.50"
PROVISION_TYPE = "newdomain"
SERVICE_USER = "ldapservice"

NSDC_ROOT = "var/lib/machines/nsdc"
SAMBA_DIR = NSDC_ROOT + "/var/lib/samba"

# (account, given name, surname, groups): one name with non-ASCII letters.
USERS = (
    ("alice", "Alice", "Rossi", ("sales",)),
    ("bob", "Bob", "Bianchi", ("support",)),
    ("gaël", "Gaël", "Müller", ("sales", "support")),
)
GROUPS = ("sales", "support")
# Every account the provision adds (sAMAccountName), for tests that look
# them up after a migration.
ACCOUNTS = tuple(sorted(u[0] for u in USERS)) + (SERVICE_USER,)


class SambaError(RuntimeError):
    pass


def samba_dir(root):
    return os.path.join(root, SAMBA_DIR)


def sam_ldb(root):
    return os.path.join(samba_dir(root), "private", "sam.ldb")


def smb_conf(root):
    return os.path.join(root, NSDC_ROOT, "etc", "samba", "smb.conf")


def base_dn(realm=REALM):
    return ",".join("DC=" + label for label in realm.lower().split("."))


def records(service_password, realm=REALM, workgroup=WORKGROUP,
            ip_address=IP_ADDRESS):
    """The configuration DB records of an NS7 whose provider is the local DC:
    {key: (type, props)}, to update NS7Root.records() with."""
    return {
        "nsdc": ("service", {"IpAddress": ip_address, "ProvisionType": PROVISION_TYPE,
                             "bridge": "br0", "status": "enabled"}),
        "sssd": ("service", {"Provider": "ad", "Realm": realm, "Workgroup": workgroup,
                             "AdDns": ip_address, "LdapURI": "ldaps://%s.%s" % (HOSTNAME, realm.lower()),
                             "BaseDN": base_dn(realm), "UserDN": base_dn(realm),
                             "GroupDN": base_dn(realm),
                             "BindDN": "%s@%s" % (SERVICE_USER, realm),
                             "BindPassword": service_password, "StartTls": "",
                             "status": "enabled"}),
    }


def _run(argv, what, timeout=120):
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       timeout=timeout, env=dict(os.environ, LC_ALL="C.UTF-8"))
    if p.returncode != 0:
        raise SambaError("%s failed (exit code %d): %s" % (what, p.returncode,
                                                            (p.stderr or p.stdout).strip()[-2000:]))
    return p.stdout


def samba_tool(root, *args):
    """samba-tool against the DC's sam.ldb and smb.conf (no daemon)."""
    return _run(["samba-tool"] + list(args) + ["-s", smb_conf(root), "-H", sam_ldb(root)],
                "samba-tool " + " ".join(args[:2]))


def provision(root, admin_password, service_password, user_password, realm=REALM,
              workgroup=WORKGROUP, hostname=HOSTNAME, ip_address=IP_ADDRESS):
    """Provisions the domain under <root>/var/lib/machines/nsdc, then its
    users, groups and service account.  Returns the seconds it took."""
    started = time.monotonic()
    state = samba_dir(root)
    conf = smb_conf(root)
    for d in (os.path.dirname(conf), state):
        os.makedirs(d, exist_ok=True)
    with open(os.path.join(root, NSDC_ROOT, "etc", "hostname"), "w") as f:
        f.write(hostname + "\n")
    # An empty smb.conf: the provision writes its own there (never Debian's
    # /etc/samba/smb.conf), with the folders of NS7's container.
    open(conf, "w").close()
    _run(["samba-tool", "domain", "provision", "-s", conf, "--use-rfc2307",
          "--server-role=dc", "--dns-backend=NONE", "--realm=" + realm, "--domain=" + workgroup,
          "--host-name=" + hostname, "--host-ip=" + ip_address, "--adminpass=" + admin_password,
          "--option=private dir=%s/private" % state, "--option=lock dir=" + state,
          "--option=state directory=" + state, "--option=cache directory=" + state,
          "--option=binddns dir=%s/bind-dns" % state],
         "samba-tool domain provision", timeout=300)
    for group in GROUPS:
        samba_tool(root, "group", "add", group)
    members = {g: [] for g in GROUPS}
    for account, given, surname, groups in USERS:
        samba_tool(root, "user", "add", account, user_password, "--given-name=" + given,
                   "--surname=" + surname, "--mail-address=%s@example.com" % account)
        for g in groups:
            members[g].append(account)
    for g, accounts in members.items():
        samba_tool(root, "group", "addmembers", g, ",".join(accounts))
    samba_tool(root, "user", "add", SERVICE_USER, service_password,
               "--description=NethServer service account")
    samba_tool(root, "user", "setexpiry", SERVICE_USER, "--noexpiry")
    return time.monotonic() - started


def search(sam, ldb_filter, attrs=(), base=None):
    """ldbsearch on a sam.ldb: [{attribute: [values]}] ("dn" included).
    Values are text (ldbsearch's base64 ones decoded).  Raises SambaError
    with ldbsearch's message when the database cannot be read."""
    argv = ["ldbsearch", "-H", sam]
    if base:
        argv += ["-b", base]
    out = _run(argv + [ldb_filter] + list(attrs), "ldbsearch")
    return parse_ldif(out)


def parse_ldif(text):
    """ldbsearch's LDIF output: [{attribute: [values]}], referrals left out."""
    entries, cur = [], None
    lines = []
    for line in text.splitlines():
        if line.startswith(" ") and lines:
            lines[-1] += line[1:]
        else:
            lines.append(line)
    for line in lines:
        if not line or line.startswith("#"):
            if cur is not None:
                entries.append(cur)
                cur = None
            continue
        if line.startswith("ref:") and cur is None:
            continue
        name, sep, value = line.partition(":")
        if not sep:
            continue
        if value.startswith(":"):
            value = base64.b64decode(value[1:].strip()).decode("utf-8", "replace")
        else:
            value = value.strip()
        if cur is None:
            cur = {}
        cur.setdefault(name, []).append(value)
    if cur is not None:
        entries.append(cur)
    return entries


def export_copy(source, dest):
    """Copies the DC's /var/lib/samba (source) to dest as the migration does
    (OTHER-APPS.md, "Local Samba AD"): sysvol as is; every *.tdb/*.ldb but
    netlogon_creds_cli.tdb through `tdbbackup -s .export` (gencache.tdb, a
    mutex database, with -l), the copies renamed back to their names; the
    rest as is except *.bak.  Returns the tdbbackup command lines run."""
    dbs, runs = [], []
    for dirpath, dirnames, files in os.walk(source):
        rel = os.path.relpath(dirpath, source)
        if rel.split(os.sep)[0] == "sysvol":
            continue
        os.makedirs(os.path.join(dest, rel), exist_ok=True)
        for name in files:
            path = os.path.join(dirpath, name)
            if name.endswith((".tdb", ".ldb")):
                if name != "netlogon_creds_cli.tdb":
                    dbs.append(path)
            elif not name.endswith((".bak", ".export")):
                shutil.copy2(path, os.path.join(dest, rel, name))
    shutil.copytree(os.path.join(source, "sysvol"), os.path.join(dest, "sysvol"), symlinks=True,
                    dirs_exist_ok=True)
    mutex = [p for p in dbs if os.path.basename(p) == "gencache.tdb"]
    plain = [p for p in dbs if p not in mutex]
    for flags, paths in ((["-s", ".export"], plain), (["-l", "-s", ".export"], mutex)):
        if paths:
            runs.append(["tdbbackup"] + flags + paths)
            _run(runs[-1], "tdbbackup")
    for path in dbs:
        rel = os.path.relpath(path, source)
        shutil.move(path + ".export", os.path.join(dest, rel))
    return runs


# NethServer 7's file server (nethserver-samba) beside the DC: shared
# folders ("ibays") and home directories, which migrate with the local AD
# provider in the original tool (OTHER-APPS.md) and in a later issue here.
SHARES = {"projects": "Project documents", "public": "Public files"}


def add_file_server(root):
    """Adds nethserver-samba to a built NS7 root: its `smb` record and
    defaults type (what the inventory detects), an `accounts` DB with one
    `ibay` record a share, /var/lib/nethserver/ibay/<share>/ with a file,
    and /var/lib/nethserver/home/<user>/ for every user.  Returns
    {"shares": [...], "homes": [...]} (paths relative to the root)."""
    config = esmith.Database(esmith.db_path(root, "configuration"))
    config.set("smb", "service", {"ServerRole": "ADS", "Workgroup": WORKGROUP,
                                  "status": "enabled"})
    defaults = os.path.join(root, "etc/e-smith/db/configuration/defaults/smb")
    os.makedirs(defaults, exist_ok=True)
    with open(os.path.join(defaults, "type"), "w") as f:
        f.write("service\n")
    path = esmith.db_path(root, "accounts")
    accounts = esmith.Database(path)
    if not os.path.exists(path):
        accounts.create()
    made = {"shares": [], "homes": []}
    for name, description in sorted(SHARES.items()):
        accounts.set(name, "ibay", {"Description": description, "GroupAccess": "rw",
                                    "OwningGroup": "sales@" + REALM.lower(),
                                    "SmbShareBrowseable": "enabled"})
        rel = "var/lib/nethserver/ibay/" + name
        os.makedirs(os.path.join(root, rel), exist_ok=True)
        with open(os.path.join(root, rel, "readme.txt"), "w") as f:
            f.write("%s\n" % description)
        made["shares"].append(rel)
    for account, _, _, _ in USERS:
        rel = "var/lib/nethserver/home/" + account
        os.makedirs(os.path.join(root, rel), exist_ok=True)
        with open(os.path.join(root, rel, "notes.txt"), "w") as f:
            f.write("notes of %s\n" % account)
        made["homes"].append(rel)
    return made
