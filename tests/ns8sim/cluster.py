"""Start and drive a simulated NS8 cluster from tests, the demo or a shell.

    from ns8sim import Cluster
    with Cluster() as c:              # creates its own Topology
        c.curl("POST", "/login", {...})
        c.control.state()
"""

import atexit
import collections
import hashlib
import json
import os
import shutil
import socket
import subprocess
import time

from . import otp, util
from .topology import Topology
from .validation import default_schema_dir

DEFAULT_VPN_NETWORK = "198.51.100.0/24"
ADMIN = ("admin", "Nethesis,1234")
OTP_USER = ("admin2fa", "S3cret-2fa!")
# Known TOTP secret of the 2FA account (base32): tests compute codes with
# ns8sim.otp.totp(OTP_SECRET) or Cluster.otp().
OTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


class Account:
    def __init__(self, user, password, otp_secret=None):
        self.user = user
        self.password = password
        self.otp_secret = otp_secret

    def otp(self, at=None):
        return otp.totp(self.otp_secret, at) if self.otp_secret else None

    def as_dict(self):
        return {"user": self.user, "password": self.password, "otp_secret": self.otp_secret}


class ControlError(RuntimeError):
    pass


class ControlClient:
    """JSON lines over the unix socket <run_dir>/control.sock."""

    def __init__(self, path):
        self.path = path

    def call(self, cmd, timeout=30, **kw):
        req = dict(kw)
        req["cmd"] = cmd
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        try:
            s.connect(self.path)
            s.sendall((json.dumps(req) + "\n").encode())
            chunks = []
            while not chunks or not chunks[-1].endswith(b"\n"):
                chunk = s.recv(1 << 20)
                if not chunk:
                    break
                chunks.append(chunk)
        finally:
            s.close()
        resp = json.loads(b"".join(chunks))
        if not resp.get("ok"):
            raise ControlError(resp.get("error"))
        return resp["result"]

    def ping(self):
        return self.call("ping") == "pong"

    def state(self):
        """The whole cluster state: nodes (with wg peers, disks), users,
        domains, modules (configuration, receiver, received files), routes,
        tasks and active faults."""
        return self.call("state")

    def requests(self, since=0):
        """The request log: one dict per API request."""
        return self.call("requests", since=since)

    def info(self):
        return self.call("info")

    def fault(self, kind, **params):
        """Switch a fault on; returns its id.  See README for the kinds."""
        spec = dict(params)
        spec["kind"] = kind
        return self.call("fault", op="set", fault=spec)["id"]

    def clear_fault(self, fault_id=None, kind=None):
        return self.call("fault", op="clear", id=fault_id, kind=kind)["cleared"]

    def faults(self):
        return self.call("faults")

    def reset_faults(self):
        return self.call("reset-faults")["cleared"]

    def expire_tokens(self):
        return self.call("expire-tokens")

    def module(self, module_id):
        for m in self.state()["modules"]:
            if m["id"] == module_id:
                return m
        return None

    # -- a module's databases (nethvoice, or an image with restore: mariadb;
    #    what its import-module and configure-module loaded) ---------------------
    def module_astdb(self, module_id):
        """{key: value} of the module's astdb.sqlite3, None before an import made one."""
        return self.call("module-astdb", module=module_id)

    def module_tables(self, module_id, databases):
        """The base tables of `databases` in the module's MariaDB, sorted "db.table"."""
        return self.call("module-tables", module=module_id, databases=list(databases))

    def module_table_rows(self, module_id, databases, timeout=300):
        """Every row of every base table of `databases` in the module's MariaDB:
        {"db.table": Counter of row tuples}, in the form of
        harness.mariadb.MariaDB.table_rows() (values as bytes, b"N" for NULL,
        b"v" + text otherwise), so the two compare directly."""
        out = self.call("module-rows", timeout=timeout, module=module_id,
                        databases=list(databases))
        return {name: collections.Counter({tuple(v.encode("utf-8", "surrogateescape")
                                                 for v in row): n for row, n in rows})
                for name, rows in out.items()}

    def ad_search(self, module_id, ldb_filter, attrs=(), base=None):
        """ldbsearch on a samba module's received volumes/data/private/sam.ldb:
        [{attribute: [values]}] with "dn" (ns8sim/samba.py)."""
        return self.call("module-ad-search", module=module_id, filter=ldb_filter,
                         attrs=list(attrs), base=base)

    def module_sql(self, module_id, sql, database=None):
        """Run SQL on the module's MariaDB: the rows of every result (NULL -> None)."""
        return self.call("module-sql", module=module_id, sql=sql, database=database)

    # -- an openldap module's directory (what its import-module loaded) ------------
    def ldap_search(self, module_id, base, filter="(objectClass=*)", attrs=(), scope="sub",
                    service=False):
        """ldapsearch on the module's slapd: [{attribute in lower case:
        [values], "dn": dn}] (harness.ldap.parse_ldif; [] when base does not
        exist).  As root over its ldapi socket, or with service=True over
        TCP on the node's VPN address, bound as the domain's bind_dn with
        its bind_password (as NS8's apps read it)."""
        return self.call("ldap-search", module=module_id, base=base, filter=filter,
                         attrs=list(attrs), scope=scope, service=service)

    def domain_search(self, domain, base=None, filter="(objectClass=*)", attrs=(), scope="sub"):
        """ldapsearch against user domain `domain` as NS8's apps reach it
        (its provider's host and port, ldaps if tls, its bind_dn and
        bind_password; from the leader, so an external domain on NS7 is
        reached through the VPN): {"ok", "exit_code", "error", "url",
        "entries"} (entries as ldap_search's).  base defaults to its base_dn."""
        return self.call("domain-search", timeout=40, domain=domain, base=base, filter=filter,
                         attrs=list(attrs), scope=scope)


def _openssl(args, cwd):
    util.run(["openssl"] + args, cwd=cwd)


def make_tls(tls_dir, hostnames, ips):
    """A throw-away CA and a server certificate signed by it."""
    os.makedirs(tls_dir, exist_ok=True)
    _openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
              "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "3",
              "-subj", "/CN=ns8sim test CA", "-addext", "basicConstraints=critical,CA:TRUE",
              "-addext", "keyUsage=critical,keyCertSign,cRLSign"], tls_dir)
    _openssl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
              "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=" + hostnames[0]],
             tls_dir)
    san = ",".join(["DNS:" + h for h in hostnames] + ["IP:" + i for i in ips])
    with open(os.path.join(tls_dir, "server.ext"), "w") as f:
        f.write("subjectAltName=%s\nbasicConstraints=CA:FALSE\n"
                "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n" % san)
    _openssl(["x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
              "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "server.ext"],
             tls_dir)
    for k in ("ca.key", "server.key"):
        os.chmod(os.path.join(tls_dir, k), 0o600)
    p = subprocess.run(["openssl", "x509", "-in", os.path.join(tls_dir, "server.pem"),
                        "-outform", "DER"], stdout=subprocess.PIPE, check=True)
    der = p.stdout
    return {"ca_file": os.path.join(tls_dir, "ca.pem"),
            "cert_file": os.path.join(tls_dir, "server.pem"),
            "key_file": os.path.join(tls_dir, "server.key"),
            "fingerprint": hashlib.sha256(der).hexdigest()}


class Cluster:
    """A simulated NS8 cluster (leader + optional worker) in its topology.

    Keyword arguments (all optional):
      topology        an existing Topology (else one is created and owned)
      prefix          run prefix for a created topology
      vpn_network     cluster VPN network (default 198.51.100.0/24)
      nodes           1 (leader only) or 2 (leader + worker, default)
      token_lifetime  seconds a login token lives (default 3600)
      login_rate_limit (count, window_seconds): more logins than count from
                      one address within window answer 429 (default (30, 10))
      domains         initial user domains, list of dicts: name, location
                      ('external'|'internal'), schema ('rfc2307'|'ad'),
                      host, port, base_dn, bind_dn, bind_password, tls, ...
      modules         initial modules, list of {"image": ..., "node": N}
                      (default: a nethvoice-proxy on the worker, or none
                      with nodes=1); pass [] for none
      disk            {node_id: {"total": bytes, "free": bytes}}
      leader_endpoint value of add-node's leader_endpoint
                      (default "leader.ns8.test:55820")
      task_delay      seconds every task runs before its result (default 0.3)
      peer_delay      seconds before the leader adds a joined node's peer
                      (default 1.0; NS8 does it asynchronously)
      schema_dir      the shared schemas (default from NS8M_SHARED_DIR)
      images          images beyond the built-in catalog, {name: {...}} (see
                      catalog.py: e.g. {"toy": {"restore": "mariadb",
                      "schemas": "<folder of its actions' schemas>"}})
    """

    def __init__(self, topology=None, prefix=None, vpn_network=DEFAULT_VPN_NETWORK, nodes=2,
                 token_lifetime=3600, login_rate_limit=(30, 10.0), domains=(), modules=None,
                 disk=None, leader_endpoint=None, task_delay=0.3, peer_delay=1.0,
                 schema_dir=None, https_port=443, api_port=9311, images=None):
        import ipaddress
        self.vpn_network = str(ipaddress.ip_network(vpn_network))
        net = ipaddress.ip_network(self.vpn_network)
        for r in ("192.0.2.0/24",):
            if net.overlaps(ipaddress.ip_network(r)):
                raise ValueError("the VPN network %s overlaps the underlay %s" % (net, r))
        if nodes not in (1, 2):
            raise ValueError("nodes must be 1 or 2")
        self.own_topology = topology is None
        self.topology = topology or Topology(prefix=prefix, worker=(nodes == 2))
        self.nodes = nodes
        self.prefix = self.topology.prefix
        self.run_dir = util.run_dir_for(self.prefix)
        self.leader_host = self.topology.leader_host
        self.leader_vpn_ip = str(net.network_address + 1)
        self.worker_vpn_ip = str(net.network_address + 2) if nodes == 2 else None
        self.https_port = https_port
        self.api_port = api_port
        port = "" if https_port == 443 else ":%d" % https_port
        self.https_url = "https://%s%s/cluster-admin" % (self.leader_host, port)
        self.https_api = self.https_url + "/api"
        self.vpn_api = "http://%s:%d/api" % (self.leader_vpn_ip, api_port)
        self.leader_endpoint = leader_endpoint or "%s:55820" % self.leader_host
        self.admin = Account(*ADMIN)
        self.otp_account = Account(OTP_USER[0], OTP_USER[1], OTP_SECRET)
        self.token_lifetime = token_lifetime
        self.login_rate_limit = list(login_rate_limit)
        self.domains = list(domains)
        if modules is None:
            modules = [{"image": "nethvoice-proxy", "node": 2}] if nodes == 2 else []
        self.modules = list(modules)
        self.disk = disk or {}
        self.task_delay = task_delay
        self.peer_delay = peer_delay
        self.schema_dir = schema_dir or default_schema_dir()
        self.images = dict(images or {})
        self.control_socket = os.path.join(self.run_dir, "control.sock")
        self.control = ControlClient(self.control_socket)
        self.ca_file = None
        self.tls_fingerprint = None
        self.proc = None
        self.started = False

    # ------------------------------------------------------------------
    def otp(self, at=None):
        """The currently valid OTP of the 2FA account."""
        return self.otp_account.otp(at)

    def start(self, timeout=60):
        # a test process that ends without close() still tears the run down
        atexit.register(self.close)
        try:
            if self.own_topology and not self.topology.created:
                self.topology.create()
            os.makedirs(self.run_dir, exist_ok=True)
            t = self.topology
            tls = make_tls(os.path.join(self.run_dir, "tls"), [self.leader_host, "leader"],
                           [t.leader_ip, self.leader_vpn_ip])
            self.ca_file = tls["ca_file"]
            self.tls_fingerprint = tls["fingerprint"]
            node_cfg = [{"id": 1, "ns": t.leader_ns, "underlay_ip": t.leader_ip,
                         "hostname": t.leader_host, "ui_name": "leader",
                         "wg_iface": self.prefix + "-wg1"}]
            if self.nodes == 2:
                node_cfg.append({"id": 2, "ns": t.worker_ns, "underlay_ip": t.worker_ip,
                                 "hostname": t.worker_host, "ui_name": "worker",
                                 "wg_iface": self.prefix + "-wg2"})
            for n in node_cfg:
                d = self.disk.get(n["id"]) or self.disk.get(str(n["id"])) or {}
                n["disk_total"] = int(d.get("total", 100 * 2**30))
                n["disk_free"] = int(d.get("free", 80 * 2**30))
            cfg = {
                "prefix": self.prefix, "run_dir": self.run_dir, "schema_dir": self.schema_dir,
                "vpn_network": self.vpn_network, "token_lifetime": self.token_lifetime,
                "login_rate_limit": self.login_rate_limit,
                "leader_endpoint": self.leader_endpoint, "task_delay": self.task_delay,
                "peer_delay": self.peer_delay, "https_port": self.https_port,
                "api_port": self.api_port,
                "accounts": [{"user": self.admin.user, "password": self.admin.password,
                              "display_name": "Administrator"},
                             {"user": self.otp_account.user,
                              "password": self.otp_account.password,
                              "otp_secret": self.otp_account.otp_secret,
                              "display_name": "Administrator with 2FA"}],
                "nodes": node_cfg, "domains": self.domains, "modules": self.modules,
                "images": self.images,
                "cert_file": tls["cert_file"], "key_file": tls["key_file"],
                "control_socket": self.control_socket,
                "links": {"lan_ns": t.lan_ns,
                          "hub": {role: v[2] for role, v in t.hosts.items()}},
            }
            cfg_path = os.path.join(self.run_dir, "config.json")
            with open(cfg_path, "w") as f:
                json.dump(cfg, f, indent=1)
            env = dict(os.environ)
            env["PYTHONPATH"] = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
            env["PYTHONDONTWRITEBYTECODE"] = "1"
            log = open(os.path.join(self.run_dir, "server.log"), "ab")
            self.proc = subprocess.Popen(
                util.nsenter(t.leader_ns, [util.PYTHON, "-m", "ns8sim.server", cfg_path]),
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env,
                start_new_session=True)
            log.close()
            os.makedirs(os.path.join(self.run_dir, "pids"), exist_ok=True)
            with open(os.path.join(self.run_dir, "pids", "server"), "w") as f:
                f.write("%d\n" % self.proc.pid)
            ready = os.path.join(self.run_dir, "server.ready")

            def is_ready():
                if self.proc.poll() is not None:
                    raise RuntimeError("the simulator exited (%s) at start:\n%s" % (
                        self.proc.returncode, self.server_log()[-4000:]))
                return os.path.exists(ready)
            util.wait_for(is_ready, timeout, "the simulator to start (log: %s)"
                          % os.path.join(self.run_dir, "server.log"))
            self.started = True
        except BaseException:
            self.close()
            raise
        return self

    def server_log(self):
        try:
            with open(os.path.join(self.run_dir, "server.log"), errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def close(self):
        """Stop the simulator and, if it owns it, remove the whole topology.
        Idempotent; safe after a failed start."""
        atexit.unregister(self.close)
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.terminate()
                try:
                    self.proc.wait(15)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(5)
            self.proc = None
        self.started = False
        if self.own_topology:
            self.topology.destroy()
        else:
            # leave the topology, remove what the cluster added
            from .topology import _mounts_under
            for mp in _mounts_under(self.run_dir):
                util.run(["umount", "-l", mp], check=False)
            shutil.rmtree(self.run_dir, ignore_errors=True)

    def __enter__(self):
        if not self.started:
            self.start()
        return self

    def __exit__(self, *exc):
        self.close()

    # ------------------------------------------------------------------
    def describe(self):
        """What the demo and other tools need to reach this cluster (JSON-able)."""
        return {
            "prefix": self.prefix, "run_dir": self.run_dir,
            "topology": self.topology.describe(),
            "leader_host": self.leader_host, "https_url": self.https_url,
            "https_api": self.https_api, "vpn_api": self.vpn_api,
            "ca_file": self.ca_file, "tls_fingerprint_sha256": self.tls_fingerprint,
            "vpn_network": self.vpn_network, "leader_vpn_ip": self.leader_vpn_ip,
            "worker_vpn_ip": self.worker_vpn_ip, "leader_endpoint": self.leader_endpoint,
            "control_socket": self.control_socket,
            "admin": self.admin.as_dict(), "otp_account": self.otp_account.as_dict(),
            "server_pid": self.proc.pid if self.proc else None,
        }

    # -- convenience for tests: curl inside the NS7 namespace ------------
    def curl(self, method, path, body=None, token=None, via="https", ns="ns7", timeout=20,
             extra=()):
        """One API call with curl from the NS7 host.  path is relative to the
        API root ('/login', '/cluster/tasks').  via='https' uses
        https://leader.ns8.test/cluster-admin/api with the generated CA,
        via='vpn' uses http://<leader-vpn-ip>:9311/api.  Returns
        (http_status, parsed JSON body or raw text)."""
        base = self.https_api if via == "https" else self.vpn_api
        argv = ["curl", "-sS", "-o", "-", "-w", "\n%{http_code}", "-X", method,
                "--max-time", str(timeout), "-H", "Content-Type: application/json"]
        if via == "https":
            argv += ["--cacert", self.ca_file]
        if token:
            argv += ["-H", "Authorization: Bearer " + token]
        if body is not None:
            argv += ["--data-binary", json.dumps(body)]
        argv += list(extra) + [base + path]
        p = self.topology.run(ns, argv, check=False, timeout=timeout + 10)
        if p.returncode != 0:
            raise RuntimeError("curl failed (%d): %s" % (p.returncode, p.stderr.strip()))
        text, _, code = p.stdout.rpartition("\n")
        try:
            return int(code), json.loads(text)
        except ValueError:
            return int(code), text

    def login(self, account=None, via="https", otp_code=None):
        a = account or self.admin
        body = {"username": a.user, "password": a.password}
        if a.otp_secret:
            body["otp"] = otp_code or a.otp()
        code, out = self.curl("POST", "/login", body, via=via)
        if code != 200:
            raise RuntimeError("login failed: %s %s" % (code, out))
        return out["token"]

    def submit(self, agent, action, data=None, token=None, via="https"):
        """POST /<agent>/tasks; returns (http_status, body)."""
        return self.curl("POST", "/%s/tasks" % agent,
                         {"action": action, "data": data,
                          "extra": {"title": action, "isNotificationHidden": True}},
                         token=token, via=via)

    def wait_task(self, agent, task_id, token, via="https", timeout=60, polls=None):
        """Poll the status until it is not 400; returns the 200 body's data.
        If polls is a list, every (http_status, body) seen is appended."""
        deadline = time.monotonic() + timeout
        while True:
            code, out = self.curl("GET", "/%s/task/%s/status" % (agent, task_id), token=token,
                                  via=via)
            if polls is not None:
                polls.append((code, out))
            if code == 200:
                return out["data"]
            if code != 400:
                raise RuntimeError("task status answered %s: %s" % (code, out))
            if time.monotonic() > deadline:
                raise TimeoutError("task %s/%s still running after %d s" % (agent, task_id,
                                                                            timeout))
            time.sleep(0.2)

    def run_task(self, agent, action, data=None, token=None, via="https", timeout=60):
        """Submit and wait; returns the task result (error, output, exit_code, file)."""
        code, out = self.submit(agent, action, data, token=token, via=via)
        if code != 201:
            raise RuntimeError("submitting %s to %s answered %s: %s" % (action, agent, code,
                                                                        out))
        return self.wait_task(agent, out["data"]["id"], token, via=via, timeout=timeout)


