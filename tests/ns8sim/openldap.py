"""What NS8's openldap module does with what a migration sent it.

OTHER-APPS.md, "Account provider migration" (ns8-openldap's import-module):
when the transfer phase ends the module

  1. reads LDAP_SVCUSER, LDAP_SVCPASS, LDAP_DOMAIN, LDAP_SUFFIX from
     state/import.env (50import_environment);
  2. builds a new cn=config with NS8's schemas and loads
     volumes/data/dump-mdb0.ldif with `slapadd -c -b <suffix>`
     (new-domain, `set -e`: an entry the schema refuses fails the import);
  3. starts slapd on the node's VPN address and the module's TCP port
     (70start_server), adds the password policies `default` and
     `neverexpires` (80fix_ppolicy) and advertises the domain: an internal
     rfc2307 domain named LDAP_DOMAIN, base_dn LDAP_SUFFIX, bind_dn
     cn=<LDAP_SVCUSER>,<LDAP_SUFFIX>, tls off (80advertise_service).

The simulator does the same with Debian's slapd (tests/harness/ldap.py) in
the node's network namespace.  One step is the simulator's own, as the
contract of the migration says: the import fails if a user domain named
LDAP_DOMAIN still exists in the cluster (the migration must have removed
its temporary external domain first).
"""

import base64
import os
import re
import shutil
import subprocess
import threading
import time

from harness.ldap import MODULE_DIR, SCHEMA_DIR, Slapd, parse_ldif

ENV_KEYS = ("LDAP_DOMAIN", "LDAP_SUFFIX", "LDAP_SVCUSER", "LDAP_SVCPASS")
DUMP = "volumes/data/dump-mdb0.ldif"
ROOT_PEERCRED = "gidNumber=0+uidNumber=0,cn=peercred,cn=external,cn=auth"
# NS8's config.ldif: these schemas, and the ppolicy overlay's own attributes
# (pwdChangedTime, pwdAccountLockedTime, ...).  No NS6-era Samba schema.
NS8_SCHEMAS = ("core", "cosine", "nis", "inetorgperson", "dyngroup", "namedobject")

_SUFFIX_RE = re.compile(r"^dc=[A-Za-z0-9-]+(,dc=[A-Za-z0-9-]+)*$")
_DOMAIN_RE = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$")


def read_envfile(path):
    """KEY=VALUE lines (agent.read_envfile): '#' and blank lines skipped,
    one level of matching quotes removed."""
    env = {}
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if not line.strip() or line.lstrip().startswith("#") or "=" not in line:
                continue
            key, value = line.split("=", 1)
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
                value = value[1:-1]
            env[key.strip()] = value
    return env


def config_ldif(suffix, data_dir, run_dir):
    """NS8's cn=config (ns8-openldap templates/config.ldif) for this slapd."""
    schemas = "".join("include: file://%s/%s.ldif\n\n" % (SCHEMA_DIR, s) for s in NS8_SCHEMAS)
    return ("dn: cn=config\nobjectClass: olcGlobal\ncn: config\n"
            "olcPidFile: %s/slapd.pid\nolcArgsFile: %s/slapd.args\n\n" % (run_dir, run_dir)
            + "dn: cn=module{0},cn=config\nobjectClass: olcModuleList\ncn: module{0}\n"
            "olcModulePath: %s\nolcModuleLoad: {0}back_mdb\nolcModuleLoad: {1}ppolicy\n\n" % MODULE_DIR
            + "dn: cn=schema,cn=config\nobjectClass: olcSchemaConfig\ncn: schema\n\n" + schemas
            + "dn: olcDatabase={0}config,cn=config\nobjectClass: olcDatabaseConfig\n"
            "olcDatabase: {0}config\nolcAccess: {0}to * by dn.exact=%s manage by * none\n\n"
            % ROOT_PEERCRED
            + "dn: olcDatabase={1}monitor,cn=config\nobjectClass: olcDatabaseConfig\n"
            "olcDatabase: {1}monitor\nolcAccess: {0}to * by * none\n\n"
            + "dn: olcDatabase={2}mdb,cn=config\nobjectClass: olcDatabaseConfig\n"
            "objectClass: olcMdbConfig\nolcDatabase: {2}mdb\nolcSuffix: %s\n"
            "olcDbDirectory: %s\nolcDbMaxSize: 104857600\nolcDbIndex: objectClass eq\n"
            "olcDbIndex: uid pres,eq\nolcDbIndex: cn pres,eq,sub,subinitial\n"
            "olcDbIndex: memberUid pres,eq\n"
            "olcAccess: {0}to attrs=userPassword by dn.exact=%s manage by self write "
            "by * auth\n"
            "olcAccess: {1}to * by dn.exact=%s manage by * read\n\n"
            % (suffix, data_dir, ROOT_PEERCRED, ROOT_PEERCRED)
            + "dn: olcOverlay={0}ppolicy,olcDatabase={2}mdb,cn=config\n"
            "objectClass: olcOverlayConfig\nobjectClass: olcPPolicyConfig\n"
            "olcOverlay: {0}ppolicy\nolcPPolicyDefault: cn=default,ou=PPolicy,%s\n"
            "olcPPolicyHashCleartext: FALSE\nolcPPolicyUseLockout: TRUE\n" % suffix)


def policies_ldif(suffix):
    """80fix_ppolicy: the default and neverexpires password policies."""
    out = ["dn: ou=PPolicy,%s\nobjectClass: top\nobjectClass: organizationalUnit\nou: PPolicy\n"
           % suffix]
    for name in ("default", "neverexpires"):
        out.append("dn: cn=%s,ou=PPolicy,%s\nobjectClass: namedPolicy\nobjectClass: pwdPolicy\n"
                   "cn: %s\npwdAttribute: userPassword\npwdMinAge: 0\npwdMaxAge: 0\n"
                   "pwdMinLength: 0\npwdInHistory: 0\npwdLockout: TRUE\npwdExpireWarning: 0\n"
                   % (name, suffix, name))
    return "\n".join(out)


def refused_entries(stderr, ldif_path):
    """[(dn, reason)] of what `slapadd -c` refused: its lines
    'slapadd: could not parse entry (line=N)' (the reason is the line
    before: an undefined attribute or class) and
    'slapadd: dn="..." (line=N): (65) <reason>' (a schema violation)."""
    dns = {}
    with open(ldif_path, "rb") as f:
        for number, raw in enumerate(f, 1):
            line = raw.decode(errors="replace").rstrip("\n")
            if line.startswith("dn:: "):
                dns[number] = base64.b64decode(line[5:]).decode(errors="replace")
            elif line.startswith("dn: "):
                dns[number] = line[4:]
    out, reason = [], ""
    for line in stderr.splitlines():
        m = re.match(r'slapadd: (?:could not \w+ entry )?(?:dn="([^"]*)" )?\(line=(\d+)\):?\s*(.*)', line)
        if m:
            dn = m.group(1) or dns.get(int(m.group(2)), "line " + m.group(2))
            out.append((dn, m.group(3).strip() or reason or line.strip()))
            reason = ""
        elif line.strip():
            reason = line.strip().lstrip("<= ").strip()
    return out


def domain_search(dom, base=None, filt="(objectClass=*)", attrs=(), scope="sub", timeout=10):
    """ldapsearch against a user domain as NS8's apps reach it: its first
    provider's host and port (ldaps when the domain says tls, the
    certificate checked only with tls_verify), bound as its bind_dn with
    its bind_password, from the simulator's namespace (the leader's: an
    external domain on NS7 is reached through the VPN).  Returns
    {"ok", "exit_code", "error", "url", "entries"}."""
    provider = dom["providers"][0] if dom.get("providers") else None
    if provider is None:
        return {"ok": False, "exit_code": None, "error": "the domain has no provider",
                "url": None, "entries": []}
    url = "%s://%s:%s/" % ("ldaps" if dom.get("tls") else "ldap", provider["host"], provider["port"])
    argv = ["ldapsearch", "-LLL", "-o", "ldif-wrap=no", "-o", "nettimeout=%d" % timeout, "-x",
            "-H", url, "-s", scope, "-b", base or dom["base_dn"], "-D", dom["bind_dn"],
            "-y", "/dev/stdin", filt] + list(attrs)
    env = dict(os.environ, LDAPTLS_REQCERT="demand" if dom.get("tls_verify") else "never")
    try:
        p = subprocess.run(argv, input=dom.get("bind_password") or "", text=True,
                           capture_output=True, env=env, timeout=timeout + 5)
    except subprocess.TimeoutExpired:
        return {"ok": False, "exit_code": None, "error": "ldapsearch timed out", "url": url,
                "entries": []}
    return {"ok": p.returncode == 0, "exit_code": p.returncode, "error": p.stderr.strip(),
            "url": url, "entries": parse_ldif(p.stdout) if p.returncode == 0 else []}


class ImportFailed(Exception):
    pass


class OpenLdapData:
    """The directory of one openldap module: its cn=config, its mdb and its
    slapd (started by the import, stopped by stop()).  bind(sim) gives it
    the cluster (the user domains it checks and creates)."""

    def __init__(self, module_id, module_dir, log_dir, pid_dir):
        self.id = module_id
        self.dir = module_dir
        self.log_path = os.path.join(log_dir, "slapd-%s.log" % module_id)
        self.pid_file = os.path.join(pid_dir, "slapd-" + module_id)
        self.config_dir = os.path.join(module_dir, "openldap", "conf.d")
        self.data_dir = os.path.join(module_dir, "openldap", "openldap-data")
        self.run_dir = os.path.join(module_dir, "openldap", "run")
        self.ldapi_path = os.path.join(self.run_dir, "ldapi")
        self.lock = threading.RLock()
        self.sim = None
        self.slapd = None
        self.suffix = self.domain = None
        self.address = self.port = None
        self.stopped = False

    def bind(self, sim):
        self.sim = sim

    def describe(self):
        running = self.slapd is not None and self.slapd.alive()
        return {"ldap": {"running": running, "pid": self.slapd.pid if running else None,
                         "suffix": self.suffix, "domain": self.domain,
                         "address": self.address, "port": self.port,
                         "config_dir": self.config_dir}}

    # -- import-module -------------------------------------------------------------
    def import_state(self, state_dir, task_id, log):
        """The import: (exit code, output, error)."""
        with self.lock:
            entry = {"phase": "import", "task": task_id, "step": "new-domain", "time": time.time()}
            try:
                out = self._import(state_dir, entry)
            except ImportFailed as e:
                entry.update(status="failed", error=str(e))
                log.append(entry)
                return 1, "", str(e) + "\n"
            entry["status"] = "loaded"
            log.append(entry)
            return 0, out, ""

    def _import(self, state_dir, entry):
        env = self._environment(state_dir)
        domain, suffix = env["LDAP_DOMAIN"], env["LDAP_SUFFIX"]
        entry.update(domain=domain, suffix=suffix)
        sim, mid = self.sim, self.id
        with sim.lock:
            if domain in sim.domains:
                raise ImportFailed("user domain %s already exists in the cluster" % domain)
            m = sim.modules[mid]
            node = sim.nodes[m["node"]]
            address, port, ns = node["vpn"]["ip_address"], m["ports"][0], node["ns"]
        dump = os.path.join(os.path.dirname(state_dir), DUMP)
        if not os.path.isfile(dump):
            raise ImportFailed("%s not found: nothing to import" % DUMP)
        out = self._new_domain(suffix, dump, entry)
        self._start(ns, address, port)
        self.suffix, self.domain, self.address, self.port = suffix, domain, address, port
        p = self.slapd.add(policies_ldif(suffix))
        entry["ppolicy"] = p.returncode
        entry["service_bind"] = self._service_binds(env)
        with sim.lock:
            if domain in sim.domains:
                raise ImportFailed("user domain %s already exists in the cluster" % domain)
            sim.domains[domain] = {
                "name": domain, "location": "internal", "protocol": "ldap", "schema": "rfc2307",
                "base_dn": suffix, "bind_dn": "cn=%s,%s" % (env["LDAP_SVCUSER"], suffix),
                "bind_password": env["LDAP_SVCPASS"], "tls": False, "tls_verify": False,
                "counters": {"users": None, "groups": None},
                "providers": [{"id": mid, "ui_name": "", "node": m["node"], "file_server": False,
                               "host": address, "port": port}]}
            m["user_domain"] = domain
        return out

    def _environment(self, state_dir):
        path = os.path.join(state_dir, "import.env")
        try:
            env = read_envfile(path)
        except OSError as e:
            raise ImportFailed("cannot read state/import.env: %s" % e.strerror)
        missing = [k for k in ENV_KEYS if not env.get(k)]
        if missing:
            raise ImportFailed("state/import.env lacks %s" % ", ".join(missing))
        if not _DOMAIN_RE.match(env["LDAP_DOMAIN"]):
            raise ImportFailed("LDAP_DOMAIN %r is not a domain name" % env["LDAP_DOMAIN"])
        if not _SUFFIX_RE.match(env["LDAP_SUFFIX"]):
            raise ImportFailed("LDAP_SUFFIX %r is not a dc=...,dc=... suffix" % env["LDAP_SUFFIX"])
        return env

    def _new_domain(self, suffix, dump, entry):
        self.stop()
        self.stopped = False
        shutil.rmtree(os.path.join(self.dir, "openldap"), ignore_errors=True)
        for d in (self.data_dir, self.run_dir):
            os.makedirs(d, mode=0o700)
        server = Slapd(self.config_dir, urls=[], log_path=self.log_path)
        server.build_config(config_ldif(suffix, self.data_dir, self.run_dir))
        p = server.load(path=dump, suffix=suffix, keep_going=True)
        entry["slapadd_exit"] = p.returncode
        refused = refused_entries(p.stderr, dump)
        entry["refused"] = refused
        if p.returncode != 0 or refused:
            # NS8 runs `slapadd -c`: it skips an entry its schema refuses and
            # exits 0, losing that user.  The simulator fails the import
            # instead (the migration must have fixed the schema), naming
            # each refused entry and slapadd's reason.
            detail = "; ".join("%s: %s" % (dn, why) for dn, why in refused[:5]) or p.stderr.strip()[-500:]
            raise ImportFailed("slapadd of %s under %s refused %d entr%s (exit %d): %s"
                               % (DUMP, suffix, len(refused), "y" if len(refused) == 1 else "ies",
                                  p.returncode, detail))
        return p.stdout

    def _start(self, ns, address, port):
        ldapi = "ldapi://" + self.ldapi_path.replace("/", "%2F")
        self.slapd = Slapd(self.config_dir, ["ldap://%s:%d/" % (address, port), ldapi], netns=ns,
                           log_path=self.log_path, die_with_parent=False, search_url=ldapi)
        try:
            self.slapd.start()
        except Exception as e:
            raise ImportFailed("slapd did not start: %s" % e)
        with open(self.pid_file, "w") as f:
            f.write("%d\n" % self.slapd.pid)

    def _service_binds(self, env):
        p = self.slapd.search(env["LDAP_SUFFIX"], "(objectClass=*)", ["1.1"], scope="base",
                              bind_dn="cn=%s,%s" % (env["LDAP_SVCUSER"], env["LDAP_SUFFIX"]),
                              password=env["LDAP_SVCPASS"], url=self.tcp_url(), check=False)
        return p.returncode == 0

    def tcp_url(self):
        return self.slapd.urls[0] if self.slapd else None

    # -- queries --------------------------------------------------------------------
    def search(self, base, filt="(objectClass=*)", attrs=(), scope="sub", service=False):
        """[{attr: [values], "dn": dn}] from the module's slapd: as root over
        its ldapi socket, or (service=True) over TCP on the node's address
        with the domain's service account, as NS8's apps bind."""
        with self.lock:
            if self.slapd is None or not self.slapd.alive():
                raise ValueError("module %s has no running slapd" % self.id)
            kw = {}
            if service:
                dom = self.sim.domains.get(self.domain) or {}
                kw = dict(url=self.tcp_url(), bind_dn=dom.get("bind_dn"),
                          password=dom.get("bind_password"))
            p = self.slapd.search(base, filt, list(attrs), scope=scope, check=False, **kw)
            if p.returncode not in (0, 32):  # 32: no such object
                raise ValueError("ldapsearch -b %s %s: exit %d: %s"
                                 % (base, filt, p.returncode, p.stderr.strip()))
            return parse_ldif(p.stdout)

    def stop(self):
        s, self.slapd = self.slapd, None
        if s is not None:
            s.stop()
        self.stopped = True
        try:
            os.unlink(self.pid_file)
        except OSError:
            pass
