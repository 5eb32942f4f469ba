"""Real OpenLDAP servers for the tests: NethServer 7's local directory
(`NS7Directory`: the layout of nethserver-directory under the NS7 root) and
the generic `Slapd` the cluster simulator's openldap module uses too.

Every server is Debian's `slapd`: its cn=config is built offline with
`slapadd -n 0` from a configuration LDIF (the schemas are included from
Debian's /etc/ldap/schema), its data loaded with `slapadd -n <db>`, then
`slapd -d 0` runs in the foreground (its PID is the Popen's) until stopped
by that PID.
"""

import base64
import hashlib
import os
import secrets
import subprocess
import unicodedata

from . import util

SCHEMA_DIR = "/etc/ldap/schema"
MODULE_DIR = "/usr/lib/ldap"

NS7_SUFFIX = "dc=directory,dc=nh"
NS7_SVC_DN = "cn=ldapservice," + NS7_SUFFIX
ROOT_PEERCRED = "gidNumber=0+uidNumber=0,cn=peercred,cn=external,cn=auth"

# An NS6-era schema NS8's OpenLDAP lacks: a few attributes and the
# sambaSamAccount class with the OIDs and names of Samba 3's samba.schema
# (NethServer 6 directories carry them; NS7 kept them).
NS6_SAMBA_SCHEMA = """dn: cn=samba,cn=schema,cn=config
objectClass: olcSchemaConfig
cn: samba
olcAttributeTypes: ( 1.3.6.1.4.1.7165.2.1.20 NAME 'sambaSID' DESC 'Security ID' EQUALITY
  caseIgnoreIA5Match SUBSTR caseExactIA5SubstringsMatch SYNTAX
  1.3.6.1.4.1.1466.115.121.1.26{64} SINGLE-VALUE )
olcAttributeTypes: ( 1.3.6.1.4.1.7165.2.1.25 NAME 'sambaNTPassword' DESC 'MD4 hash of the
  unicode password' EQUALITY caseIgnoreIA5Match SYNTAX 1.3.6.1.4.1.1466.115.121.1.26{32}
  SINGLE-VALUE )
olcAttributeTypes: ( 1.3.6.1.4.1.7165.2.1.26 NAME 'sambaAcctFlags' DESC 'Account Flags'
  EQUALITY caseIgnoreIA5Match SYNTAX 1.3.6.1.4.1.1466.115.121.1.26{16} SINGLE-VALUE )
olcAttributeTypes: ( 1.3.6.1.4.1.7165.2.1.27 NAME 'sambaPwdLastSet' DESC 'Timestamp of the last
  password update' EQUALITY integerMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE )
olcObjectClasses: ( 1.3.6.1.4.1.7165.2.2.6 NAME 'sambaSamAccount' DESC 'Samba 3.0 Auxilary SAM
  Account' SUP top AUXILIARY MUST ( uid $ sambaSID ) MAY ( sambaNTPassword $ sambaAcctFlags $
  sambaPwdLastSet ) )
"""


def ascii_fold(text):
    """'Nicolò' -> 'Nicolo' (gecos is IA5, NS7 writes it so)."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def ssha(password):
    """{SSHA} of password, as slappasswd makes it."""
    salt = secrets.token_bytes(8)
    digest = hashlib.sha1(password.encode() + salt).digest()
    return "{SSHA}" + base64.b64encode(digest + salt).decode()


def ldif_value(attr, value):
    """One LDIF line; base64 (attr:: ...) when the value is not safe ASCII."""
    safe = value.isascii() and value == value.strip() and not value.startswith((":", "<")) \
        and "\n" not in value and "\r" not in value
    if safe:
        return "%s: %s" % (attr, value)
    return "%s:: %s" % (attr, base64.b64encode(value.encode()).decode())


def ldif_entry(dn, attrs):
    """An LDIF entry: attrs is a list of (attribute, value)."""
    lines = [ldif_value("dn", dn)] + [ldif_value(a, v) for a, v in attrs]
    return "\n".join(lines) + "\n"


def parse_ldif(text):
    """[{attr (lower case): [values]}] with "dn" as an attribute; folded
    lines joined, base64 values decoded (ldapsearch's / slapcat's output)."""
    entries, cur, last = [], None, None
    for raw in text.splitlines():
        if raw.startswith("#"):
            continue
        if not raw.strip():
            if cur:
                entries.append(cur)
            cur, last = None, None
            continue
        if raw.startswith(" ") and cur is not None and last is not None:
            cur[last[0]][last[1]] += raw[1:]
            continue
        attr, _, rest = raw.partition(":")
        attr = attr.lower()
        cur = cur if cur is not None else {}
        if rest.startswith(":"):
            value = ("b64", rest[1:].strip())
        else:
            value = rest[1:] if rest.startswith(" ") else rest
        cur.setdefault(attr, []).append(value)
        last = (attr, len(cur[attr]) - 1)
    if cur:
        entries.append(cur)
    for e in entries:
        for attr, values in e.items():
            e[attr] = [base64.b64decode(v[1]).decode(errors="replace") if isinstance(v, tuple) else v
                       for v in values]
    for e in entries:
        e["dn"] = e["dn"][0]
    return entries


def self_signed(directory, name, hostname):
    """A self-signed certificate and key (PEM): (cert path, key path)."""
    os.makedirs(directory, exist_ok=True)
    cert = os.path.join(directory, name + ".crt")
    key = os.path.join(directory, name + ".key")
    subprocess.run(["openssl", "req", "-x509", "-nodes", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-days", "30", "-subj", "/CN=" + hostname,
                    "-addext", "subjectAltName=DNS:" + hostname, "-keyout", key, "-out", cert],
                   check=True, capture_output=True)
    os.chmod(key, 0o600)
    return cert, key


def netns_argv(netns, argv):
    """argv run in network namespace netns (a name of `ip netns`), or as it is."""
    return (["ip", "netns", "exec", netns] if netns else []) + list(argv)


class Slapd(util.ManagedProcess):
    """One slapd: config folder (cn=config), URLs, optional network namespace.

        s = Slapd(config_dir, urls=["ldap://127.0.0.1:3389/"], log_path=...)
        s.build_config(ldif_text)            # slapadd -n 0
        s.load(ldif_text, db=2)              # slapadd -n 2 (CompletedProcess)
        s.start(); s.search(base, filter, attrs); s.stop()

    die_with_parent=False starts it with setsid(), without the
    parent-death signal (the cluster simulator stops its modules itself)."""

    def __init__(self, config_dir, urls, *, netns=None, log_path=None, die_with_parent=True,
                 search_url=None):
        self.config_dir = config_dir
        self.urls = list(urls)
        self.netns = netns
        self.log_path = log_path or os.path.join(os.path.dirname(config_dir), "slapd.log")
        self.die_with_parent = die_with_parent
        self.search_url = search_url or (self.urls[0] if self.urls else None)

    @property
    def pid(self):
        return self.proc.pid if self.proc is not None else None

    def build_config(self, ldif):
        """cn=config from LDIF text (slapadd -n 0 into an empty folder)."""
        util.remove_tree(self.config_dir)
        os.makedirs(self.config_dir, mode=0o750)
        p = subprocess.run(["slapadd", "-n", "0", "-F", self.config_dir], input=ldif, text=True,
                           capture_output=True)
        if p.returncode != 0:
            raise util.HarnessError("slapadd -n 0 failed (%d): %s" % (p.returncode, p.stderr.strip()))

    def load(self, ldif=None, *, db=None, suffix=None, path=None, keep_going=False):
        """slapadd of LDIF text (or a file) into database db (or the one of
        suffix); the CompletedProcess (text), not raised on failure."""
        argv = ["slapadd", "-F", self.config_dir] + (["-c"] if keep_going else [])
        argv += ["-n", str(db)] if db is not None else ["-b", suffix]
        if path:
            argv += ["-l", path]
        return subprocess.run(argv, input=ldif if path is None else None, text=True,
                              stdin=subprocess.DEVNULL if path else None, capture_output=True)

    def slapcat(self, db):
        p = subprocess.run(["slapcat", "-F", self.config_dir, "-n", str(db), "-o", "ldif-wrap=no"],
                           capture_output=True, text=True, check=True)
        return p.stdout

    def start(self, timeout=15):
        argv = netns_argv(self.netns, ["slapd", "-d", "0", "-F", self.config_dir,
                                       "-h", " ".join(self.urls)])
        os.makedirs(os.path.dirname(self.log_path), exist_ok=True)
        log = open(self.log_path, "ab")
        try:
            if self.die_with_parent:
                self.proc = util.spawn(argv, stdout=log, stderr=log)
            else:
                self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                             start_new_session=True)
        finally:
            log.close()

        def answers():
            if self.proc.poll() is not None:
                raise util.HarnessError("slapd exited (%s) at start: %s"
                                        % (self.proc.returncode, util.tail(self.log_path)))
            return self.search("", "(objectClass=*)", ["namingContexts"], scope="base",
                               check=False).returncode == 0
        try:
            util.wait_for(answers, timeout, "slapd on " + " ".join(self.urls))
        except BaseException:
            self.stop()
            raise
        return self

    def search(self, base, filt="(objectClass=*)", attrs=(), *, scope="sub", bind_dn=None,
               password=None, url=None, check=True):
        """ldapsearch (LDIF, unwrapped) against this server, in its
        namespace: anonymous, or simple bind with bind_dn/password (given on
        stdin through a password file descriptor, never on argv)."""
        argv = ["ldapsearch", "-LLL", "-o", "ldif-wrap=no", "-o", "nettimeout=5",
                "-H", url or self.search_url, "-s", scope, "-b", base]
        env = dict(os.environ, LDAPTLS_REQCERT="never")
        if bind_dn:
            argv += ["-x", "-D", bind_dn, "-y", "/dev/stdin"]
        elif (url or self.search_url).startswith("ldapi:"):
            argv += ["-Y", "EXTERNAL", "-Q"]
        else:
            argv += ["-x"]
        argv += [filt] + list(attrs)
        p = subprocess.run(netns_argv(self.netns, argv), input=password or "", text=True,
                           capture_output=True, env=env, timeout=30)
        if check and p.returncode != 0:
            raise util.HarnessError("ldapsearch -b %s %s: exit %d: %s" % (base, filt, p.returncode,
                                                                          p.stderr.strip()))
        return p

    def add(self, ldif):
        """ldapadd -c of LDIF text over the ldapi socket as root (SASL
        EXTERNAL); the CompletedProcess."""
        ldapi = next((u for u in self.urls if u.startswith("ldapi:")), None)
        if ldapi is None:
            raise util.HarnessError("slapd has no ldapi socket to add through")
        return subprocess.run(netns_argv(self.netns, ["ldapadd", "-c", "-Q", "-Y", "EXTERNAL",
                                                      "-H", ldapi]),
                              input=ldif, text=True, capture_output=True, timeout=30)

    def entries(self, base, filt="(objectClass=*)", attrs=(), **kw):
        """search() parsed: [{attr: [values], "dn": dn}]."""
        return parse_ldif(self.search(base, filt, attrs, **kw).stdout)


# --------------------------------------------------------------------------- NS7
class NS7Directory:
    """NethServer 7's local OpenLDAP (nethserver-directory) under an NS7 root:

    | path under the root | content |
    | `etc/openldap/slapd.d` | cn=config: `{0}config`, `{1}monitor`, `{2}mdb` (`dc=directory,dc=nh`) |
    | `var/lib/ldap` | the mdb data |
    | `etc/pki/tls/slapd/slapd.{crt,key}` | a self-signed certificate for ldaps |
    | `var/run/openldap/` | slapd.pid, slapd.args, the ldapi socket |
    | `var/lib/nethserver/secrets/ldapservice` | the service account's password |

    Schemas: core, cosine, nis, inetorgperson (Debian's) and NS6_SAMBA_SCHEMA.
    USERS and GROUPS below are what the data holds.  start(netns) runs it:
    in a network namespace on ldap:/// (389) and ldaps:/// (636) of every
    address, else (the host's namespace, shared by other test runs) on
    ldapi://<root>/var/run/openldap/ldapi only."""

    # uid: (cn, given name, sn, uidNumber, extra attributes)
    USERS = {
        "admin": ("Administrator", "Administrator", "Administrator", 1000,
                  {"shadowLastChange": "19500", "shadowMax": "99999"}),
        "alice": ("Alice Rossi", "Alice", "Rossi", 1001,
                  {"shadowLastChange": "19700", "shadowMax": "180", "mail": "alice@example.com"}),
        "bob": ("Bob Verdi", "Bob", "Verdi", 1002,
                {"shadowLastChange": "19650", "shadowMax": "99999"}),
        "carol": ("Carol Neri", "Carol", "Neri", 1003,
                  {"shadowLastChange": "19600", "shadowMax": "180", "locked": True}),
        "dave": ("Dave Bianchi", "Dave", "Bianchi", 1004,
                 {"shadowLastChange": "19710", "shadowMax": "180", "no_display_name": True}),
        "eve": ("Eve Gialli", "Eve", "Gialli", 1005,
                {"shadowLastChange": "19720", "shadowMax": "99999", "samba": True}),
        "nicolo": ("Nicolò Caffè", "Nicolò", "Caffè", 1006,
                   {"shadowLastChange": "19730", "shadowMax": "180"}),
    }
    GROUPS = {
        "domain admins": (1100, ["admin"]),
        "sales": (1101, ["alice", "bob", "nicolo"]),
        "support": (1102, ["carol", "dave", "eve"]),
    }
    SAMBA_DOMAIN_SID = "S-1-5-21-1111111111-2222222222-3333333333"

    def __init__(self, root, service_password, hostname="ns7.example.com", log_path=None):
        self.root = root
        self.run_dir = os.path.join(root, "var/run/openldap")
        self.service_password = service_password
        self.hostname = hostname
        self.log_path = log_path or os.path.join(root, "var/log/slapd.log")
        self.config_dir = os.path.join(root, "etc/openldap/slapd.d")
        self.data_dir = os.path.join(root, "var/lib/ldap")
        self.ldapi_path = os.path.join(self.run_dir, "ldapi")
        self.passwords = {uid: "Pw-%s-%s" % (uid, secrets.token_hex(4)) for uid in self.USERS}
        self.slapd = None

    # -- layout -----------------------------------------------------------------
    def config_ldif(self, cert, key):
        run = self.run_dir
        schemas = "".join("include: file://%s/%s.ldif\n\n" % (SCHEMA_DIR, s)
                          for s in ("core", "cosine", "nis", "inetorgperson"))
        return ("dn: cn=config\nobjectClass: olcGlobal\ncn: config\n"
                "olcPidFile: %s/slapd.pid\nolcArgsFile: %s/slapd.args\n"
                "olcTLSCertificateFile: %s\nolcTLSCertificateKeyFile: %s\n\n" % (run, run, cert, key)
                + "dn: cn=module{0},cn=config\nobjectClass: olcModuleList\ncn: module{0}\n"
                "olcModulePath: %s\nolcModuleLoad: {0}back_mdb\n\n" % MODULE_DIR
                + "dn: cn=schema,cn=config\nobjectClass: olcSchemaConfig\ncn: schema\n\n"
                + schemas + NS6_SAMBA_SCHEMA + "\n"
                + "dn: olcDatabase={0}config,cn=config\nobjectClass: olcDatabaseConfig\n"
                "olcDatabase: {0}config\nolcAccess: {0}to * by dn.exact=%s manage by * none\n\n"
                % ROOT_PEERCRED
                + "dn: olcDatabase={1}monitor,cn=config\nobjectClass: olcDatabaseConfig\n"
                "olcDatabase: {1}monitor\nolcAccess: {0}to * by dn.exact=%s read by * none\n\n"
                % ROOT_PEERCRED
                + "dn: olcDatabase={2}mdb,cn=config\nobjectClass: olcDatabaseConfig\n"
                "objectClass: olcMdbConfig\nolcDatabase: {2}mdb\nolcSuffix: %s\n"
                "olcRootDN: cn=Manager,%s\nolcDbDirectory: %s\nolcDbMaxSize: 104857600\n"
                "olcDbIndex: objectClass eq\nolcDbIndex: uid eq\nolcDbIndex: memberUid eq\n"
                "olcAccess: {0}to attrs=userPassword,shadowLastChange by dn.exact=%s manage "
                "by self write by anonymous auth by * none\n"
                "olcAccess: {1}to * by dn.exact=%s manage by * read\n"
                % (NS7_SUFFIX, NS7_SUFFIX, self.data_dir, ROOT_PEERCRED, ROOT_PEERCRED))

    def data_ldif(self):
        out = [ldif_entry(NS7_SUFFIX, [("objectClass", "top"), ("objectClass", "dcObject"),
                                       ("objectClass", "organization"), ("dc", "directory"),
                                       ("o", "NethServer")]),
               ldif_entry(NS7_SVC_DN, [("objectClass", "top"), ("objectClass", "organizationalRole"),
                                       ("objectClass", "simpleSecurityObject"), ("cn", "ldapservice"),
                                       ("description", "NethServer LDAP service account"),
                                       ("userPassword", ssha(self.service_password))]),
               ldif_entry("ou=People," + NS7_SUFFIX, [("objectClass", "top"),
                                                      ("objectClass", "organizationalUnit"),
                                                      ("ou", "People")]),
               ldif_entry("ou=Groups," + NS7_SUFFIX, [("objectClass", "top"),
                                                      ("objectClass", "organizationalUnit"),
                                                      ("ou", "Groups")])]
        for uid, (cn, given, sn, number, extra) in self.USERS.items():
            out.append(self._user(uid, cn, given, sn, number, extra))
        for cn, (number, members) in self.GROUPS.items():
            out.append(ldif_entry("cn=%s,ou=Groups,%s" % (cn, NS7_SUFFIX),
                                  [("objectClass", "top"), ("objectClass", "posixGroup"), ("cn", cn),
                                   ("gidNumber", str(number))] + [("memberUid", m) for m in members]))
        return "\n".join(out)

    def _user(self, uid, cn, given, sn, number, extra):
        classes = ["top", "person", "organizationalPerson", "inetOrgPerson", "posixAccount",
                   "shadowAccount"] + (["sambaSamAccount"] if extra.get("samba") else [])
        if extra.get("locked"):
            password = "{CRYPT}!$6$%s$%s" % (secrets.token_hex(4), secrets.token_hex(20))
        else:
            password = ssha(self.passwords[uid])
        attrs = [("objectClass", c) for c in classes] + [
            ("uid", uid), ("cn", cn), ("givenName", given), ("sn", sn),
            ("uidNumber", str(number)), ("gidNumber", "100"), ("homeDirectory", "/home/" + uid),
            ("loginShell", "/usr/libexec/openssh/sftp-server"), ("gecos", ascii_fold(cn)),
            ("userPassword", password)]
        if not extra.get("no_display_name"):
            attrs.append(("displayName", cn))
        attrs += [(a, extra[a]) for a in ("mail", "shadowLastChange", "shadowMax") if a in extra]
        attrs += [("shadowMin", "0"), ("shadowWarning", "7"), ("shadowInactive", "-1"),
                  ("shadowExpire", "-1"), ("shadowFlag", "0")]
        if extra.get("samba"):
            attrs += [("sambaSID", "%s-%d" % (self.SAMBA_DOMAIN_SID, 2 * number + 1000)),
                      ("sambaAcctFlags", "[UX         ]"), ("sambaPwdLastSet", "1700000000"),
                      ("sambaNTPassword", hashlib.sha256(uid.encode()).hexdigest()[:32].upper())]
        return ldif_entry("uid=%s,ou=People,%s" % (uid, NS7_SUFFIX), attrs)

    def build(self):
        """Writes cn=config, the data and the service account's secret."""
        cert, key = self_signed(os.path.join(self.root, "etc/pki/tls/slapd"), "slapd", self.hostname)
        os.makedirs(self.run_dir, exist_ok=True)
        util.remove_tree(self.data_dir)
        os.makedirs(self.data_dir, mode=0o700)
        server = Slapd(self.config_dir, urls=[])
        server.build_config(self.config_ldif(cert, key))
        p = server.load(self.data_ldif(), db=2)
        if p.returncode != 0:
            raise util.HarnessError("slapadd of the NS7 directory failed: " + p.stderr.strip())
        secrets_dir = os.path.join(self.root, "var/lib/nethserver/secrets")
        os.makedirs(secrets_dir, mode=0o750, exist_ok=True)
        path = os.path.join(secrets_dir, "ldapservice")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.write(fd, self.service_password.encode())
        os.close(fd)
        return self

    # -- the server -----------------------------------------------------------------
    def start(self, netns=None):
        """slapd on ldap:/// and ldaps:/// in netns (else ldapi only); returns the Slapd."""
        ldapi = "ldapi://" + self.ldapi_path.replace("/", "%2F")
        urls = [ldapi] + (["ldap:///", "ldaps:///"] if netns else [])
        self.slapd = Slapd(self.config_dir, urls, netns=netns,
                           log_path=self.log_path,
                           search_url="ldap://127.0.0.1/" if netns else ldapi)
        return self.slapd.start()

    def stop(self):
        if self.slapd is not None:
            self.slapd.stop()

    def alive(self):
        return self.slapd is not None and self.slapd.alive()

    def slapcat(self):
        """`slapcat -F <root>/etc/openldap/slapd.d -n 2`, as the helper exports it."""
        return Slapd(self.config_dir, urls=[]).slapcat(2)
