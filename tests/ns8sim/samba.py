"""What NS8's samba module does with an imported NS7 domain controller.

OTHER-APPS.md, "Local Samba AD": NS7 sends state/import.env and the DC's
/var/lib/samba as volumes/data/ (sysvol, and every *.tdb/*.ldb as its
`tdbbackup -s .export` copy).  When /terminate is read, ns8-samba's
import-module reads import.env (50import_configuration: a missing key is
a KeyError), renames every *.export back over its database (55import_data),
renumbers the id mapping, starts the DC and creates the user domain named
after the realm, lower case.

The simulator runs no DC.  Its import task checks what arrived with Samba's
own tools instead, and fails (exit code 1, the reason in the task's error)
when the DC could not start from it:

  1. state/import.env has HOSTNAME, IPADDRESS, PROVISION_TYPE, NBDOMAIN,
     REALM, SVCUSER and SVCPASS (only SVCPASS may be empty);
  2. no user domain named REALM lower case exists (the helper removes the
     temporary external one before /terminate);
  3. volumes/data: *.export renamed back; private/sam.ldb present; every
     *.tdb/*.ldb passes `tdbtool <file> check`; `ldbsearch -H
     private/sam.ldb` opens it with its partitions and its default naming
     context is the realm's (DC=ad,DC=example,DC=com for AD.EXAMPLE.COM);
     sysvol/<realm lower case>/ is there; private/secrets.ldb names the
     DC HOSTNAME of NBDOMAIN and REALM (its primaryDomain entry);
  4. the id mapping (private/idmap.ldb) is renumbered from 1001 as the
     real import does, with ldbmodify;
  5. then the internal `ad` domain is created: list-user-domains shows it,
     provider = the module, host = IPADDRESS, counters = the users and
     groups the transplanted directory holds.

Whether IPADDRESS is inside the cluster network decides nothing here (the
real 50resume_flag marks the module a file server when it is outside;
OTHER-APPS.md).  search() runs ldbsearch on the received sam.ldb: the
control call `module-ad-search` (ControlClient.ad_search).
"""

import json
import os
import subprocess

from . import util

ENV_KEYS = ("HOSTNAME", "IPADDRESS", "PROVISION_TYPE", "NBDOMAIN", "REALM", "SVCUSER", "SVCPASS")
USERS_FILTER = "(&(objectClass=user)(!(objectClass=computer)))"
GROUPS_FILTER = "(objectClass=group)"


class ImportFailed(Exception):
    pass


def read_env(path):
    """agent.read_envfile: KEY=VALUE lines, # comments and blank lines skipped."""
    env = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line.strip() or line.lstrip().startswith("#") or "=" not in line:
                continue
            key, _, value = line.partition("=")
            env[key.strip()] = value
    return env


def base_dn(realm):
    return ",".join("DC=" + label for label in realm.lower().split("."))


def _run(argv, what):
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       errors="replace", timeout=120, env=dict(os.environ, LC_ALL="C.UTF-8"))
    if p.returncode != 0:
        raise ImportFailed("%s: %s" % (what, (p.stderr or p.stdout).strip()[-1500:]
                                       or "exit code %d" % p.returncode))
    return p.stdout


def search(sam, ldb_filter, attrs=(), base=None, scope=None):
    """ldbsearch -H sam: [{attribute: [values]}], "dn" included."""
    argv = ["ldbsearch", "-H", sam]
    if base is not None:
        argv += ["-b", base]
    if scope:
        argv += ["-s", scope]
    from harness.samba import parse_ldif  # (as moduledb.py: the harness's, when needed)
    return parse_ldif(_run(argv + [ldb_filter] + list(attrs), "ldbsearch -H " + sam))


def rename_exports(data):
    """55import_data: every *.export over the database it copies."""
    renamed = []
    for dirpath, _, files in os.walk(data):
        for name in files:
            if name.endswith(".export"):
                path = os.path.join(dirpath, name)
                os.replace(path, path[:-len(".export")])
                renamed.append(os.path.relpath(path[:-len(".export")], data))
    return sorted(renamed)


def check_databases(data):
    """tdbtool's integrity check of every *.tdb/*.ldb under data."""
    checked = []
    for dirpath, _, files in os.walk(data):
        for name in sorted(files):
            if not name.endswith((".tdb", ".ldb")):
                continue
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, data)
            out = _run(["tdbtool", path, "check"], "tdbtool check " + rel)
            if "integrity is OK" not in out:
                raise ImportFailed("volumes/data/%s is damaged: tdbtool check says: %s"
                                   % (rel, " ".join(out.split())[-500:]))
            checked.append(rel)
    return checked


def check_env(env):
    missing = [k for k in ENV_KEYS if k != "SVCPASS" and not env.get(k)]
    missing += ["SVCPASS"] if "SVCPASS" not in env else []
    if missing:
        raise ImportFailed("state/import.env lacks %s" % ", ".join(missing))


def check_directory(data, realm):
    """The transplanted sam.ldb opens with its partitions and is the realm's:
    (users, groups) it holds."""
    sam = os.path.join(data, "private", "sam.ldb")
    if not os.path.isfile(sam):
        raise ImportFailed("volumes/data/private/sam.ldb is missing")
    root = search(sam, "(objectClass=*)", ["defaultNamingContext"], base="", scope="base")
    nc = (root[0].get("defaultNamingContext") or [""])[0] if root else ""
    if nc.lower() != base_dn(realm).lower():
        raise ImportFailed("volumes/data/private/sam.ldb is the directory of %s, not of REALM %s"
                           % (nc or "no domain", realm))
    sysvol = os.path.join(data, "sysvol", realm.lower())
    if not os.path.isdir(sysvol):
        raise ImportFailed("volumes/data/sysvol/%s is missing" % realm.lower())
    users = search(sam, USERS_FILTER, ["sAMAccountName"], base=nc)
    groups = search(sam, GROUPS_FILTER, ["sAMAccountName"], base=nc)
    return len(users), len(groups)


def check_identity(data, env):
    """secrets.ldb holds the DC's own account: its domain must be NBDOMAIN
    and REALM, its machine account HOSTNAME's (a DC started under another
    name or domain would not find its secrets)."""
    secrets_ldb = os.path.join(data, "private", "secrets.ldb")
    if not os.path.isfile(secrets_ldb):
        raise ImportFailed("volumes/data/private/secrets.ldb is missing")
    found = search(secrets_ldb, "(objectClass=primaryDomain)",
                   ["flatname", "realm", "samAccountName"])
    if not found:
        raise ImportFailed("volumes/data/private/secrets.ldb has no primary domain")
    d = found[0]
    have = ((d.get("flatname") or [""])[0], (d.get("realm") or [""])[0],
            (d.get("samAccountName") or [""])[0])
    want = (env["NBDOMAIN"], env["REALM"], env["HOSTNAME"].split(".")[0] + "$")
    if [h.upper() for h in have] != [w.upper() for w in want]:
        raise ImportFailed("volumes/data/private/secrets.ldb is the DC %s of %s (%s), not the DC "
                           "%s of %s (%s) that import.env names"
                           % (have[2].rstrip("$"), have[0], have[1], want[2].rstrip("$"),
                              want[0], want[1]))


def renumber_idmap(data):
    """As ns8-samba's import (OTHER-APPS.md): the id mapping renumbered from
    1001 (NS7's DC hands out 3000000 and up), the range 1001-65530, the
    anonymous SID S-1-5-7 both uid and gid 65534; with ldbmodify on
    private/idmap.ldb.  Returns (SIDs renumbered, next free id)."""
    idmap = os.path.join(data, "private", "idmap.ldb")
    if not os.path.isfile(idmap):
        raise ImportFailed("volumes/data/private/idmap.ldb is missing")
    sids = [e["dn"][0] for e in search(idmap, "(xidNumber>=101)", ["xidNumber"])
            if e["dn"][0].upper().startswith("CN=S-") and e["dn"][0].upper() != "CN=S-1-5-7"]
    ldif = ["dn: CN=S-1-5-7", "changetype: modify", "replace: type", "type: ID_TYPE_BOTH", "-",
            "replace: xidNumber", "xidNumber: 65534", ""]
    xid = 1001
    for dn in sorted(sids):
        ldif += ["dn: " + dn, "changetype: modify", "replace: xidNumber", "xidNumber: %d" % xid, ""]
        xid += 1
    ldif += ["dn: CN=CONFIG", "changetype: modify", "replace: lowerBound", "lowerBound: 1001", "-",
             "replace: upperBound", "upperBound: 65530", "-", "replace: xidNumber",
             "xidNumber: %d" % xid, ""]
    p = subprocess.run(["ldbmodify", "-H", idmap], input="\n".join(ldif), capture_output=True,
                       text=True, errors="replace", timeout=120)
    if p.returncode != 0:
        raise ImportFailed("ldbmodify -H volumes/data/private/idmap.ldb: %s"
                           % (p.stderr or p.stdout).strip()[-1000:])
    return len(sids), xid


def import_module(sim, m):
    """The import task of module m once /terminate was read:
    (exit code, output, error)."""
    srv = m["srv"]
    data = os.path.join(srv, "volumes", "data")
    try:
        try:
            env = read_env(os.path.join(srv, "state", "import.env"))
        except OSError as e:
            raise ImportFailed("state/import.env: %s" % (e.strerror or e))
        check_env(env)
        domain = env["REALM"].lower()
        with sim.lock:
            if domain in sim.domains:
                raise ImportFailed("user domain %s already exists in the cluster (%s): remove it "
                                   "before the import" % (domain, sim.domains[domain]["location"]))
        renamed = rename_exports(data)
        checked = check_databases(data)
        users, groups = check_directory(data, env["REALM"])
        check_identity(data, env)
        renumbered, next_xid = renumber_idmap(data)
    except ImportFailed as e:
        return 1, "", "%s\n" % e
    with sim.lock:
        if domain in sim.domains:
            return 1, "", "user domain %s already exists in the cluster\n" % domain
        sim.domains[domain] = {
            "name": domain, "location": "internal", "protocol": "ldap", "schema": "ad",
            "base_dn": base_dn(env["REALM"]).lower(),
            "bind_dn": "%s@%s" % (env["SVCUSER"], env["REALM"].upper()),
            "bind_password": env["SVCPASS"], "tls": True, "tls_verify": False,
            "counters": {"users": users, "groups": groups},
            "providers": [{"id": m["id"], "ui_name": "", "node": m["node"], "file_server": True,
                           "host": env["IPADDRESS"], "port": 636}]}
        m["user_domain"] = domain
        m["ad"] = {"hostname": env["HOSTNAME"], "nbdomain": env["NBDOMAIN"],
                   "provision_type": env["PROVISION_TYPE"], "renamed": renamed,
                   "checked": checked,
                   "idmap": {"renumbered": renumbered, "next_xid": next_xid}}
    return 0, "imported %s: %d users, %d groups\n" % (domain, users, groups), ""


def module_search(m, ldb_filter, attrs=(), base=None):
    """ldbsearch on module m's received sam.ldb."""
    sam = os.path.join(m["srv"], "volumes", "data", "private", "sam.ldb")
    if not os.path.isfile(sam):
        raise ValueError("module %s has no volumes/data/private/sam.ldb" % m["id"])
    try:
        return search(sam, ldb_filter, attrs, base=base)
    except ImportFailed as e:
        raise ValueError(str(e))


def _fqdn_defaults(fqdn, prefix=""):
    """ns8-samba's get-defaults: host name, realm and NetBIOS domain of an FQDN."""
    if "." not in fqdn:
        return {"hostname": fqdn, "realm": "test", "nbdomain": "TEST"}
    short, domain = fqdn.split(".", 1)
    return {"hostname": short, "realm": prefix + domain, "nbdomain": domain.upper().split(".")[0]}


def node_addresses(ns):
    """[{ipaddress, label}]: the IPv4 addresses of the node's interfaces but
    loopback, as `ip -j -4 address` in its network namespace lists them."""
    p = util.run(util.nsenter(ns, ["ip", "-j", "-4", "address", "show"]))
    out = []
    for link in json.loads(p.stdout or "[]"):
        for a in link.get("addr_info", []):
            if a.get("family") == "inet" and link.get("ifname") != "lo":
                out.append({"ipaddress": a["local"], "label": link["ifname"]})
    return out


def get_defaults(m, node, request):
    """get-defaults of a samba module (OTHER-APPS.md: the DC's IP the
    administrator chooses comes from `ipaddress_list` of new-domain)."""
    short = m["id"].replace("samba", "dc")
    if request.get("realm"):
        res = _fqdn_defaults(short + "." + request["realm"].lower())
    else:
        res = _fqdn_defaults(node["hostname"].lower(), "ad.")
    res.update({"adminuser": "administrator", "can_install_file_server": True,
                "nbalias": node["hostname"].split(".")[0]})
    if request["provision"] == "new-domain":
        res["hostname"] = short
    elif request["provision"] == "join-member":
        res["hostname"] = m["id"].replace("samba", "fs")
    else:  # join-domain
        res.update({"adminuser": "", "nbdomain": ""})
    res["ipaddress_list"] = node_addresses(node["ns"])
    return res
