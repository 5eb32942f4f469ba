"""The simulated NS8 leader: API server, VPN, module receivers, faults.

Started by ns8sim.cluster.Cluster inside the leader's network namespace:

    nsenter --net=/run/netns/<prefix>-leader /usr/bin/python3 -m ns8sim.server CONFIG.json

It stays in the host's mount namespace, so the tmpfs mounts it makes and the
wireguard-go sockets it uses are visible to (and cleaned up by) the test run.
"""

import base64
import copy
import datetime
import fnmatch
import hashlib
import hmac
import http.server
import ipaddress
import json
import os
import re
import secrets
import shutil
import signal
import socketserver
import ssl
import stat
import subprocess
import sys
import threading
import time
import traceback
import uuid

from . import catalog, moduledb, nethvoice, openldap, otp, samba, util
from .validation import SchemaSet

WG_PORT = 55820
CORE_VERSION = "3.9.0"
SENSITIVE_SUFFIXES = ("password", "secret", "token", "otp", "pwh", "password_hash")
PENDING = object()  # an action result meaning "the task goes on running"


def now_iso():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds").replace(
        "+00:00", "Z")


def mask(value):
    """Copy of a request body with secrets replaced by XXX (like NS8 does for
    task contexts, plus the otp, the password hashes and rsync passwords)."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if any(k.lower().endswith(s) for s in SENSITIVE_SUFFIXES):
                out[k] = "XXX"
            elif k == "credentials" and isinstance(v, list):
                out[k] = [v[0] if v else None] + ["XXX"] * (len(v) - 1)
            else:
                out[k] = mask(v)
        return out
    if isinstance(value, list):
        return [mask(v) for v in value]
    return value


class ActionFailed(Exception):
    def __init__(self, exit_code, error, output=""):
        super().__init__(error)
        self.exit_code = exit_code
        self.error = error
        self.output = output


def validation_failed(field, value, error, exit_code=2):
    """A validation step of an action script: NS8 prints the array and exits."""
    return ActionFailed(exit_code, "", [{"field": field, "parameter": field.split(".")[0],
                                         "value": value, "error": error}])


def assert_exp(cond, msg):
    # agent.assert_exp() in NS8 raises an AssertionError: traceback, exit 2
    if not cond:
        raise ActionFailed(2, "Traceback (most recent call last):\nAssertionError: %s\n" % msg)


class Task:
    def __init__(self, agent, action, data, extra, user, parent=""):
        self.id = str(uuid.uuid4())
        self.agent = agent
        self.action = action
        self.data = data
        self.extra = extra
        self.user = user
        self.parent = parent
        self.timestamp = now_iso()
        self.queue = agent + "/tasks"
        self.done = threading.Event()
        self.result = None
        self.log_entry = None
        self.input_errors = None
        self.unknown_keys = None
        self.started = time.time()

    def envelope(self):
        return {"id": self.id, "action": self.action, "data": self.data, "extra": self.extra,
                "queue": self.queue, "user": self.user, "timestamp": self.timestamp,
                "parent": self.parent}

    def brief(self):
        r = self.result or {}
        return {"id": self.id, "agent": self.agent, "action": self.action,
                "status": "completed" if self.done.is_set() else "running",
                "exit_code": r.get("exit_code"), "user": self.user,
                "input": mask(self.data)}


class Sim:
    """All cluster state and behaviour; the HTTP and control front-ends call it."""

    def __init__(self, cfg):
        self.cfg = cfg
        self.lock = threading.RLock()
        self.run_dir = cfg["run_dir"]
        catalog.add_images(cfg.get("images") or {})
        self.schemas = SchemaSet(cfg.get("schema_dir"), image_dirs={
            name: info["schemas"] for name, info in catalog.IMAGES.items() if info.get("schemas")})
        self.network = ipaddress.ip_network(cfg["vpn_network"])
        self.token_secret = secrets.token_bytes(32)
        self.token_epoch = 0.0
        self.token_lifetime = float(cfg.get("token_lifetime", 3600))
        self.task_delay = float(cfg.get("task_delay", 0.3))
        self.peer_delay = float(cfg.get("peer_delay", 1.0))
        rl = cfg.get("login_rate_limit") or [30, 10.0]
        self.login_rate = (int(rl[0]), float(rl[1]))
        self.login_hits = {}
        self.leader_endpoint = cfg.get("leader_endpoint") or "leader.ns8.test:%d" % WG_PORT
        self.requests = []
        self.tasks = {}
        self.faults = {}
        self.fault_seq = 0
        self.children = {}  # name -> Popen
        self.stopping = False
        self.users = {}
        for a in cfg["accounts"]:
            self.users[a["user"]] = {
                "password_hash": hashlib.sha256(a["password"].encode()).hexdigest(),
                "otp_secret": a.get("otp_secret"), "display_name": a.get("display_name", ""),
                "grants": a.get("grants", [{"role": "owner", "on": "*"}]), "builtin": True}
        self.nodes = {}
        self.node_sequence = 0
        self.module_sequence = {}
        self.modules = {}
        self.domains = {}
        self.routes = []
        # module id -> its databases, for the images that restore some
        # (catalog "restore"): moduledb.ModuleDatabases, nethvoice.NethVoiceData
        self.module_data = {}
        os.makedirs(os.path.join(self.run_dir, "pids"), exist_ok=True)
        os.makedirs(os.path.join(self.run_dir, "logs"), exist_ok=True)

    # ------------------------------------------------------------------ setup
    def setup(self):
        with open("/proc/sys/net/ipv4/ip_forward", "w") as f:
            f.write("1")  # we are inside the leader's namespace: it routes the VPN
        for key in ("all", "default"):
            with open("/proc/sys/net/ipv4/conf/%s/send_redirects" % key, "w") as f:
                f.write("0")
        for n in self.cfg["nodes"]:
            self.node_sequence = max(self.node_sequence, n["id"])
            ip = str(self.network.network_address + n["id"])
            self.nodes[n["id"]] = {
                "id": n["id"], "ui_name": n.get("ui_name", "node%d" % n["id"]),
                "hostname": n["hostname"], "role": "leader" if n["id"] == 1 else "worker",
                "ns": n["ns"], "underlay_ip": n["underlay_ip"], "wg_iface": n["wg_iface"],
                "machine_id": secrets.token_hex(16), "flags": [], "agent": True,
                "vpn": {"ip_address": ip, "public_key": None, "endpoint": "%s:%d" % (
                    n["underlay_ip"], WG_PORT), "destinations": []},
                "disk": {"total": int(n.get("disk_total", 100 * 2**30)),
                         "free": int(n.get("disk_free", 80 * 2**30))},
                "tcp_ports_sequence": 20000}
            self._start_wg(self.nodes[n["id"]])
        leader = self.nodes[1]
        for nid, node in self.nodes.items():
            if nid == 1:
                continue
            self._wg(["set", leader["wg_iface"], "peer", node["vpn"]["public_key"],
                      "allowed-ips", node["vpn"]["ip_address"] + "/32",
                      "endpoint", node["vpn"]["endpoint"]])
            self._wg(["set", node["wg_iface"], "peer", leader["vpn"]["public_key"],
                      "allowed-ips", str(self.network), "endpoint", leader["vpn"]["endpoint"],
                      "persistent-keepalive", "25"])
        for d in self.cfg.get("domains", []):
            self._add_initial_domain(d)
        for m in self.cfg.get("modules", []):
            self._create_module(catalog.image_name(m["image"]), int(m["node"]))

    def _wg(self, args):
        return util.run(["wg"] + args)

    def _spawn(self, name, ns, argv, env=None, log=None):
        full = util.nsenter(ns, argv) if ns else list(argv)
        logf = open(log or os.path.join(self.run_dir, "logs", name + ".log"), "ab")
        e = dict(os.environ)
        e.update(env or {})
        p = subprocess.Popen(full, stdin=subprocess.DEVNULL, stdout=logf, stderr=logf, env=e,
                             start_new_session=True)
        logf.close()
        with open(os.path.join(self.run_dir, "pids", name), "w") as f:
            f.write("%d\n" % p.pid)
        self.children[name] = p
        return p

    def _stop_child(self, name):
        p = self.children.pop(name, None)
        if p is None:
            return
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(5)
        try:
            os.unlink(os.path.join(self.run_dir, "pids", name))
        except OSError:
            pass

    def _start_wg(self, node):
        keydir = os.path.join(self.run_dir, "wg")
        os.makedirs(keydir, exist_ok=True)
        priv = util.run(["wg", "genkey"]).stdout.strip()
        pub = util.run(["wg", "pubkey"], input=priv + "\n").stdout.strip()
        keyfile = os.path.join(keydir, "node%d.key" % node["id"])
        fd = os.open(keyfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.write(fd, (priv + "\n").encode())
        os.close(fd)
        iface = node["wg_iface"]
        self._spawn("wireguard-go-node%d" % node["id"], node["ns"], ["wireguard-go", iface],
                    env={"WG_PROCESS_FOREGROUND": "1", "LOG_LEVEL": "error"})
        sock = os.path.join(util.WG_SOCKET_DIR, iface + ".sock")
        util.wait_for(lambda: os.path.exists(sock), 10, "wireguard-go socket " + sock)
        self._wg(["set", iface, "private-key", keyfile, "listen-port", str(WG_PORT)])
        ns = node["ns"]
        util.run(["ip", "-n", ns, "addr", "add", "%s/%d" % (node["vpn"]["ip_address"],
                                                          self.network.prefixlen), "dev", iface])
        util.run(["ip", "-n", ns, "link", "set", iface, "up"])
        node["vpn"]["public_key"] = pub

    def _add_initial_domain(self, d):
        name = d["name"]
        location = d.get("location", "external")
        schema = d.get("schema", "rfc2307")
        base_dn = d.get("base_dn") or ",".join("dc=" + p for p in name.split("."))
        dom = {"name": name, "location": location, "protocol": "ldap", "schema": schema,
               "base_dn": base_dn,
               "bind_dn": d.get("bind_dn") or ("cn=ldapservice," + base_dn if schema == "rfc2307"
                                               else "ldapservice@" + name.upper()),
               "bind_password": d.get("bind_password", secrets.token_urlsafe(12)),
               "tls": bool(d.get("tls", location == "external")),
               "tls_verify": bool(d.get("tls_verify", False)),
               "counters": {"users": d.get("users"), "groups": d.get("groups")},
               "providers": []}
        if location == "internal":
            image = "samba" if schema == "ad" else "openldap"
            node = int(d.get("node", 1))
            mid = self._create_module(image, node)
            m = self.modules[mid]
            m["user_domain"] = name
            dom["providers"].append({"id": mid, "ui_name": "", "node": node,
                                     "file_server": image == "samba",
                                     "host": self.nodes[node]["vpn"]["ip_address"]
                                     if image == "openldap" else self.nodes[node]["underlay_ip"],
                                     "port": m["ports"][0] if image == "openldap" else 636})
        else:
            dom["providers"].append({"id": d.get("host", "ldap." + name), "ui_name": "",
                                     "node": None, "file_server": False,
                                     "host": d.get("host", "ldap." + name),
                                     "port": int(d.get("port", 636))})
        self.domains[name] = dom

    # ------------------------------------------------------------- modules
    def _node_dir(self, nid):
        return os.path.join(self.run_dir, "nodes", str(nid))

    def _create_module(self, image, nid, volumes=()):
        seq = self.module_sequence.get(image, 0) + 1
        self.module_sequence[image] = seq
        mid = "%s%d" % (image, seq)
        node = self.nodes[nid]
        nports = catalog.IMAGES[image]["ports"]
        first = node["tcp_ports_sequence"] + 1
        node["tcp_ports_sequence"] += nports
        mdir = os.path.join(self._node_dir(nid), "modules", mid)
        srv = os.path.join(mdir, "srv")
        os.makedirs(os.path.join(srv, "state"), exist_ok=True)
        for v in volumes:
            os.makedirs(os.path.join(srv, "volumes", v), exist_ok=True)
        self.modules[mid] = {
            "id": mid, "image": image, "image_url": catalog.url(image), "node": nid,
            "uuid": str(uuid.uuid4()), "volumes": list(volumes), "dir": mdir, "srv": srv,
            "ports": list(range(first, first + nports)), "agent": True,
            "receiver": None, "configuration": None, "configure_history": [],
            "import_tasks": [], "user_domain": None, "created": now_iso(),
            "disk_limit": None, "restore_log": []}
        data_class = RESTORES.get(catalog.IMAGES[image].get("restore"))
        if data_class is not None:
            data = data_class(mid, mdir, os.path.join(self.run_dir, "logs"),
                              os.path.join(self.run_dir, "pids"))
            if hasattr(data, "bind"):
                data.bind(self)  # openldap: the user domains it checks and creates
            self.module_data[mid] = data
        return mid

    def _receiver_conf(self, m, port, user, password):
        mdir = m["dir"]
        node = self.nodes[m["node"]]
        os.makedirs(os.path.join(mdir, "terminate"), exist_ok=True)
        secrets_file = os.path.join(mdir, "rsyncd.secrets")
        fd = os.open(secrets_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.write(fd, ("%s:%s\n" % (user, password)).encode())
        os.close(fd)
        pidfile = os.path.join(mdir, "rsyncd.pid")
        flag = os.path.join(mdir, "terminated")
        script = os.path.join(mdir, "terminate.sh")
        with open(script, "w") as f:
            f.write("#!/bin/sh\n# [terminate] was read: end the transfer phase\n"
                    "touch '%s'\nkill \"$(cat '%s')\"\n" % (flag, pidfile))
        # The hold_receiver fault: the first connection to [data] whose
        # request starts with the prefix in `hold` waits until it is cleared.
        hold = os.path.join(mdir, "hold")
        pre_xfer = os.path.join(mdir, "pre-xfer.sh")
        with open(pre_xfer, "w") as f:
            f.write("#!/bin/sh\n# a connection to [data]: held while a hold_receiver fault says so\n"
                    "hold='%s'\n"
                    "[ -f \"$hold\" ] || exit 0\n"
                    "case \"$RSYNC_REQUEST\" in \"$(cat \"$hold\")\"*) ;; *) exit 0 ;; esac\n"
                    "mv \"$hold\" \"$hold.held\" 2>/dev/null || exit 0\n"
                    "i=0\n"
                    "while [ -f \"$hold.held\" ] && [ $i -lt 900 ]; do sleep 0.1; i=$((i + 1)); done\n"
                    "exit 0\n" % hold)
        conf = os.path.join(mdir, "rsyncd.conf")
        with open(conf, "w") as f:
            f.write("\n".join([
                "# receiver of module %s (PROTOCOL.md section 3)" % m["id"],
                "address = %s" % node["vpn"]["ip_address"],
                "port = %d" % port,
                "pid file = %s" % pidfile,
                "log file = %s" % os.path.join(mdir, "rsyncd.log"),
                "use chroot = no",
                # As NS8's receiver: without chroot rsyncd would otherwise
                # store every symlink as /rsyncd-munged/...
                "munge symlinks = no",
                "numeric ids = yes",
                "uid = 0",
                "gid = 0",
                "hosts allow = %s" % self.network,
                "hosts deny = *",
                "auth users = %s" % user,
                "secrets file = %s" % secrets_file,
                "strict modes = yes",
                "",
                "[data]",
                "path = %s" % m["srv"],
                "read only = no",
                "pre-xfer exec = /bin/sh %s" % pre_xfer,
                "",
                "[terminate]",
                "path = %s" % os.path.join(mdir, "terminate"),
                "read only = yes",
                "list = no",
                "post-xfer exec = /bin/sh %s" % script,
                ""]))
        for p in (flag, pidfile):
            if os.path.exists(p):
                os.unlink(p)
        return conf

    def _start_receiver(self, mid, port, user, password, volumes, task):
        m = self.modules[mid]
        self._stop_receiver(mid, reason="rsync server restarted")
        for v in volumes:
            os.makedirs(os.path.join(m["srv"], "volumes", v), exist_ok=True)
            if v not in m["volumes"]:
                m["volumes"].append(v)
        conf = self._receiver_conf(m, port, user, password)
        node = self.nodes[m["node"]]
        name = "rsyncd-" + mid
        p = self._spawn(name, node["ns"], ["rsync", "--daemon", "--no-detach",
                                           "--config=" + conf])
        m["receiver"] = {"running": True, "pid": p.pid, "port": port, "user": user,
                         "address": node["vpn"]["ip_address"], "task": task.id,
                         "password_sha256": hashlib.sha256(password.encode()).hexdigest()}
        m["import_tasks"].append(task.id)
        addr = (node["vpn"]["ip_address"], port)

        def listening():
            if p.poll() is not None:
                return True
            out = util.run(util.nsenter(node["ns"], ["ss", "-Hltn"]), check=False).stdout
            return ("%s:%d" % addr) in out
        util.wait_for(listening, 10, "rsync daemon of %s on %s:%d" % ((mid,) + addr))
        if p.poll() is not None:
            raise ActionFailed(1, "rsync daemon exited at start (code %s)\n" % p.returncode)
        threading.Thread(target=self._watch_receiver, args=(mid, p, task), daemon=True).start()

    def _watch_receiver(self, mid, p, task):
        p.wait()
        with self.lock:
            m = self.modules.get(mid)
            if m is None:
                return
            terminated = os.path.exists(os.path.join(m["dir"], "terminated"))
            rec = m.get("receiver")
            if rec and rec.get("pid") == p.pid:
                rec["running"] = False
                rec["stopped"] = now_iso()
                rec["terminated_by_client"] = terminated
                if self.children.get("rsyncd-" + mid) is p:
                    self.children.pop("rsyncd-" + mid)
                    try:
                        os.unlink(os.path.join(self.run_dir, "pids", "rsyncd-" + mid))
                    except OSError:
                        pass
        if terminated and not task.done.is_set():
            # the module's import-module action now restores the state: a
            # short moment later the task completes
            time.sleep(min(self.task_delay, 0.5))
            failed = self._take_import_fault(mid)
            if failed:
                self.complete(task, "", int(failed.get("exit_code", 1)),
                              failed.get("error", "simulated failure of the import of %s\n" % mid))
                return
            code, out, err = self._restore(mid, task)
            self.complete(task, out, code, err)

    def _take_import_fault(self, mid):
        """A fail_import fault for module MID, used up: the import task ends
        with its exit code before it restores anything."""
        with self.lock:
            for fid, f in list(self.faults.items()):
                if f["kind"] == "fail_import" and f.get("module") in (None, mid):
                    f["count"] = int(f.get("count") or 1) - 1
                    if f["count"] <= 0:
                        del self.faults[fid]
                    return f
        return None

    def _restore(self, mid, task):
        """What the module's import-module does once the transfer phase has
        ended: (exit code, output, error).  A module whose image restores
        databases restores state/ as NS8 does (moduledb.py, nethvoice.py);
        other images have nothing to do."""
        data = self.module_data.get(mid)
        m = self.modules.get(mid)
        if m is not None and m["image"] == "samba" and not self.stopping:
            code, out, err = samba.import_module(self, m)  # samba.py: checks, then the domain
            self.log("import-module of %s: exit code %d%s" % (mid, code, ": " + err.strip()
                                                              if code else ""))
            return code, out, err
        if data is None or m is None or self.stopping:
            return 0, "", ""
        try:
            code, out, err = data.import_state(os.path.join(m["srv"], "state"), task.id,
                                               m["restore_log"])
        except Exception:
            return 1, "", traceback.format_exc()
        self.log("import-module of %s: exit code %d%s" % (mid, code, (": " + err.strip()[-500:])
                                                          if code else ""))
        return code, out, err

    def log(self, text):
        sys.stderr.write("%s %s\n" % (now_iso(), text))
        sys.stderr.flush()

    def _stop_receiver(self, mid, reason):
        m = self.modules[mid]
        rec = m.get("receiver")
        self._stop_child("rsyncd-" + mid)
        if rec:
            rec["running"] = False
            t = self.tasks.get(rec.get("task"))
            if t is not None and not t.done.is_set():
                self.complete(t, "", 143, "%s\n" % reason)

    def files_of(self, m):
        out = []
        srv = m["srv"]
        for root, dirs, files in os.walk(srv):
            dirs.sort()
            for name in sorted(dirs) + sorted(files):
                p = os.path.join(root, name)
                st = os.lstat(p)
                kind = ("dir" if stat.S_ISDIR(st.st_mode) else
                        "symlink" if stat.S_ISLNK(st.st_mode) else "file")
                e = {"path": os.path.relpath(p, srv), "type": kind, "size": st.st_size,
                     "uid": st.st_uid, "gid": st.st_gid,
                     "mode": "%04o" % stat.S_IMODE(st.st_mode), "mtime": int(st.st_mtime)}
                if kind == "symlink":
                    e["target"] = os.readlink(p)
                out.append(e)
        return out

    @staticmethod
    def _regular_bytes(path):
        """The bytes of the regular files under PATH, as files_of() counts
        them, by find(1): a receiver of a million files is read in about a
        second, where a walk in Python takes ten with the lock held."""
        if not os.path.isdir(path):
            return 0
        p = subprocess.run(["find", path, "-type", "f", "-printf", "%s\\n"],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        return sum(int(x) for x in p.stdout.split())

    # ------------------------------------------------------------- auth
    def make_token(self, user):
        now = time.time()
        exp = now + self.token_lifetime
        header = {"alg": "HS256", "typ": "JWT"}
        payload = {"id": user, "exp": int(exp), "orig_iat": now, "role": "",
                   "actions": []}

        def b64(d):
            return base64.urlsafe_b64encode(json.dumps(d, separators=(",", ":")).encode()
                                            ).rstrip(b"=").decode()
        body = b64(header) + "." + b64(payload)
        sig = hmac.new(self.token_secret, body.encode(), hashlib.sha256).digest()
        token = body + "." + base64.urlsafe_b64encode(sig).rstrip(b"=").decode()
        expire = datetime.datetime.fromtimestamp(exp, datetime.timezone.utc).isoformat(
            timespec="seconds").replace("+00:00", "Z")
        return token, expire

    def check_token(self, token):
        """Return (user, None) or (None, message)."""
        try:
            body, sig = token.rsplit(".", 1)
            want = hmac.new(self.token_secret, body.encode(), hashlib.sha256).digest()
            got = base64.urlsafe_b64decode(sig + "=" * (-len(sig) % 4))
            if not hmac.compare_digest(want, got):
                return None, "signature is invalid"
            payload = json.loads(base64.urlsafe_b64decode(
                body.split(".")[1] + "=" * (-len(body.split(".")[1]) % 4)))
        except (ValueError, IndexError):
            return None, "token contains an invalid number of segments"
        if payload["exp"] < time.time() or payload["orig_iat"] <= self.token_epoch:
            return None, "Token is expired"
        if payload["id"] not in self.users:
            return None, "signature is invalid"
        return payload["id"], None

    def login(self, body, client):
        now = time.time()
        limit, window = self.login_rate
        hits = [t for t in self.login_hits.get(client, []) if t > now - window]
        hits.append(now)
        self.login_hits[client] = hits
        if len(hits) > limit:
            return 429, {"code": 429, "message": "too many requests"}
        if not isinstance(body, dict):
            return 400, {"code": 400, "message": "missing Username or Password"}
        user = self.users.get(body.get("username"))
        pw = body.get("password")
        if (user is None or not isinstance(pw, str) or not hmac.compare_digest(
                hashlib.sha256(pw.encode()).hexdigest(), user["password_hash"])):
            return 401, {"code": 401, "message": "incorrect Username or Password"}
        if user.get("otp_secret"):
            code = body.get("otp")
            if not code:
                return 401, {"code": 401, "message": "missing OTP value"}
            if not otp.verify(user["otp_secret"], str(code)):
                return 401, {"code": 401, "message": "OTP check failed"}
        token, expire = self.make_token(body["username"])
        return 200, {"code": 200, "expire": expire, "token": token}

    def authorized(self, user, agent, action):
        for g in self.users[user]["grants"]:
            if fnmatch.fnmatchcase(agent, g.get("on", "")) or g.get("on") == "*":
                if g.get("role") in ("owner", "admin"):
                    return True
                if g.get("role") == "reader" and re.match(r"^(get|list|show|read)-", action):
                    return True
        return False

    # ------------------------------------------------------------- agents
    def agent_alive(self, agent):
        for f in self.faults.values():
            if f["kind"] == "agent_down" and f.get("agent") == agent:
                return False
        if agent == "cluster":
            return True
        kind, _, ident = agent.partition("/")
        if kind == "node":
            try:
                node = self.nodes.get(int(ident))
            except ValueError:
                return False
            return bool(node and node.get("agent"))
        if kind == "module":
            m = self.modules.get(ident)
            return bool(m and m.get("agent"))
        return False

    def schema_kind(self, agent):
        if agent == "cluster":
            return "cluster"
        kind, _, ident = agent.partition("/")
        if kind == "node":
            return "node"
        m = self.modules.get(ident)
        return m["image"] if m else "module"

    def validate(self, agent, action, which, doc):
        """(errors or None without a schema, stderr text)"""
        kind = self.schema_kind(agent)
        errs, text = self.schemas.validate(kind, action, which, doc, with_text=True)
        if errs is None and kind not in ("cluster", "node", "module"):
            errs, text = self.schemas.validate("module", action, which, doc, with_text=True)
        return errs, text

    # ------------------------------------------------------------- tasks
    def submit(self, agent, action, data, extra, user, entry):
        t = Task(agent, action, data, extra, user)
        t.log_entry = entry
        t.input_errors, t.input_error_text = self.validate(agent, action, "input", data)
        t.unknown_keys = self.unknown_keys(agent, action, data)
        if entry is not None:
            entry["task_id"] = t.id
            entry["validation"] = ("no-schema" if t.input_errors is None else
                                   "invalid" if t.input_errors else "valid")
            if t.input_errors:
                entry["validation_errors"] = t.input_errors
            if t.unknown_keys is not None:
                entry["unknown_keys"] = t.unknown_keys
        if t.unknown_keys:
            self.log("%s %s: input keys that neither the schema nor the module knows: %s"
                     % (agent, action, ", ".join(t.unknown_keys)))
        self.tasks[t.id] = t
        threading.Thread(target=self._run_task, args=(t,), daemon=True).start()
        return t

    def unknown_keys(self, agent, action, data):
        """configure-module of a module whose image has a configure-module
        schema: the input keys that neither its schema's properties nor the
        module's actions read (a list), else None."""
        kind = self.schema_kind(agent)
        if action != "configure-module" or kind not in catalog.IMAGES:
            return None
        v = self.schemas.validator(kind, action, "input")
        if v is None:
            return None
        props = v.schema.get("properties") or {}
        if kind == "nethvoice":
            return nethvoice.unknown_keys(data, props)
        if not isinstance(data, dict):
            return []
        known = set(props) | set(catalog.IMAGES[kind].get("reads", ()))
        return sorted(k for k in data if k not in known)

    def _take_fault(self, kind, t):
        with self.lock:
            for fid, f in list(self.faults.items()):
                if f["kind"] != kind:
                    continue
                if f.get("action") and f["action"] != t.action:
                    continue
                if f.get("agent") and f["agent"] != t.agent:
                    continue
                if f.get("count") is not None:
                    f["count"] -= 1
                    f["used"] = f.get("used", 0) + 1
                    if f["count"] <= 0:
                        del self.faults[fid]
                return f
        return None

    def _run_task(self, t):
        try:
            delay = self.task_delay
            slow = self._take_fault("slow", t)
            if slow:
                delay += float(slow.get("delay", 5))
            time.sleep(delay)
            if t.input_errors:
                self.complete(t, t.input_errors, 10, t.input_error_text)
                return
            fail = self._take_fault("fail_action", t)
            if fail:
                self.complete(t, fail.get("output", ""), int(fail.get("exit_code", 1)),
                              fail.get("error", "simulated failure of %s\n" % t.action))
                return
            handler = ACTIONS.get((t.agent.split("/")[0], t.action))
            if handler is None:
                self.complete(t, "", 8, "Action %s is not defined\n" % t.action)
                return
            try:
                if getattr(handler, "takes_lock", False):
                    out = handler(self, t)
                else:
                    with self.lock:
                        out = handler(self, t)
            except ActionFailed as e:
                self.complete(t, e.output, e.exit_code, e.error)
                return
            if out is PENDING:
                return
            errs, text = self.validate(t.agent, t.action, "output", out)
            if t.log_entry is not None:
                t.log_entry["output_validation"] = ("no-schema" if errs is None else
                                                    "invalid" if errs else "valid")
            if errs:
                if t.log_entry is not None:
                    t.log_entry["output_validation_errors"] = errs
                self.complete(t, out, 1, text)
                return
            out = self._answer_override(t, out)
            self.complete(t, out, 0, "")
        except Exception:
            self.complete(t, "", 1, traceback.format_exc())

    def complete(self, t, output, exit_code, error):
        if t.done.is_set():
            return
        text = output if isinstance(output, str) else json.dumps(output)
        t.result = {"output": text, "exit_code": exit_code, "error": error}
        if t.log_entry is not None:
            t.log_entry["exit_code"] = exit_code
        t.done.set()

    def status_of(self, agent, task_id):
        t = self.tasks.get(task_id)
        if t is None or t.agent != agent or not t.done.is_set():
            return 400, {"code": 400, "message": "error getting task status from redis",
                         "data": "redis: nil"}
        out = t.result["output"]
        try:
            parsed = json.loads(out) if out != "" else ""
        except ValueError:
            parsed = out
        return 200, {"code": 200, "message": "success", "data": {
            "error": t.result["error"], "output": parsed, "exit_code": t.result["exit_code"],
            "file": "task/%s/%s" % (agent, task_id)}}

    def context_of(self, agent, task_id):
        t = self.tasks.get(task_id)
        if t is None or t.agent != agent:
            return 400, {"code": 400, "message": "error getting task context from redis",
                         "data": "redis: nil"}
        ctx = t.envelope()
        ctx["data"] = mask(ctx["data"])
        return 200, {"code": 200, "message": "success", "data": ctx}

    # ------------------------------------------------------------- faults
    def set_fault(self, spec):
        kind = spec.get("kind")
        if kind not in FAULT_KINDS:
            raise ValueError("unknown fault kind %r (known: %s)" % (kind, ", ".join(FAULT_KINDS)))
        with self.lock:
            self.fault_seq += 1
            fid = "f%d" % self.fault_seq
            f = dict(spec)
            f["id"] = fid
            if kind in ("fail_action", "http_status", "answer_override") and f.get("count") is None:
                f["count"] = 1
            if kind == "expire_tokens":
                self.token_epoch = time.time()
                return {"id": fid, "applied": True, "persistent": False}
            if kind == "vpn_cut":
                self._vpn_cut(f)
            if kind == "disk_full":
                self._disk_full(f)
            if kind == "hold_receiver":
                self._hold_receiver(f)
            self.faults[fid] = f
            return {"id": fid, "applied": True, "persistent": True}

    def clear_fault(self, fid=None, kind=None):
        with self.lock:
            cleared = []
            for k, f in list(self.faults.items()):
                if (fid and k == fid) or (kind and f["kind"] == kind) or (not fid and not kind):
                    if f["kind"] == "vpn_cut":
                        self._vpn_restore(f)
                    if f["kind"] == "disk_full":
                        self._disk_restore(f)
                    if f["kind"] == "hold_receiver":
                        self._release_receiver(f)
                    del self.faults[k]
                    cleared.append(k)
            if fid and not cleared:
                raise ValueError("no active fault %r" % fid)
            return {"cleared": cleared}

    def _vpn_cut(self, f):
        mode = f.setdefault("mode", "peer")
        if mode == "peer":
            leader = self.nodes[1]
            if f.get("node_id") is not None:
                ids = [int(f["node_id"])]
            else:
                ids = [nid for nid, n in self.nodes.items() if n["role"] == "ns7migration"]
            if not ids:
                raise ValueError("vpn_cut: no peer to cut (no NS7 node has joined)")
            f["peers"] = []
            for nid in ids:
                n = self.nodes[nid]
                self._wg(["set", leader["wg_iface"], "peer", n["vpn"]["public_key"], "remove"])
                f["peers"].append(nid)
                n["vpn_cut"] = True
        elif mode == "link":
            host = f.setdefault("host", "ns7")
            lan, hub = self.cfg["links"]["lan_ns"], self.cfg["links"]["hub"].get(host)
            if not hub:
                raise ValueError("vpn_cut: unknown host %r" % host)
            util.run(["ip", "-n", lan, "link", "set", hub, "down"])
        else:
            raise ValueError("vpn_cut: mode must be 'peer' or 'link'")

    def _vpn_restore(self, f):
        if f["mode"] == "peer":
            for nid in f.get("peers", []):
                n = self.nodes.get(nid)
                if n is None:
                    continue
                n.pop("vpn_cut", None)
                self._add_peer(n)
        else:
            lan, hub = self.cfg["links"]["lan_ns"], self.cfg["links"]["hub"][f["host"]]
            util.run(["ip", "-n", lan, "link", "set", hub, "up"])

    def _hold_receiver(self, f):
        m = self.modules.get(f.get("module"))
        if m is None:
            raise ValueError("hold_receiver: unknown module %r" % f.get("module"))
        with open(os.path.join(m["dir"], "hold"), "w") as out:
            out.write(f.get("request", "data/"))

    def _release_receiver(self, f):
        m = self.modules.get(f.get("module"))
        for name in ("hold", "hold.held"):
            if m is not None and os.path.exists(os.path.join(m["dir"], name)):
                os.unlink(os.path.join(m["dir"], name))

    def _disk_full(self, f):
        m = self.modules.get(f.get("module", ""))
        if m is None:
            raise ValueError("disk_full: unknown module %r" % f.get("module"))
        if m.get("disk_limit"):
            raise ValueError("disk_full: module %s already has a size-limited disk" % m["id"])
        size = int(f.get("bytes", 1024 * 1024))
        f["bytes"] = size
        stage = os.path.join(m["dir"], "disk-stage")
        os.makedirs(stage, exist_ok=True)
        util.run(["mount", "-t", "tmpfs", "-o", "size=%d,mode=0755" % size,
                  "ns8sim-" + m["id"], stage])
        # carry the data received so far (it may not fit: that is the point)
        util.run(["cp", "-a", m["srv"] + "/.", stage + "/"], check=False)
        util.run(["mount", "--move", stage, m["srv"]])
        m["disk_limit"] = size

    def _disk_restore(self, f):
        m = self.modules.get(f.get("module", ""))
        if m is None or not m.get("disk_limit"):
            return
        keep = os.path.join(m["dir"], "disk-keep")
        shutil.rmtree(keep, ignore_errors=True)
        os.makedirs(keep)
        util.run(["cp", "-a", m["srv"] + "/.", keep + "/"], check=False)
        # The receiver's child of a transfer that just failed may still be
        # leaving the disk: "target is busy" until it has gone.
        deadline = time.monotonic() + 20
        while util.run(["umount", m["srv"]], check=False).returncode != 0:
            if time.monotonic() > deadline:
                raise RuntimeError("disk_full: %s stays busy, used by %s"
                                   % (m["srv"], _users_of(m["srv"])))
            time.sleep(0.2)
        util.run(["cp", "-a", keep + "/.", m["srv"] + "/"], check=False)
        shutil.rmtree(keep, ignore_errors=True)
        m["disk_limit"] = None

    def http_fault(self, method, path):
        with self.lock:
            for fid, f in list(self.faults.items()):
                if f["kind"] != "http_status":
                    continue
                if f.get("path") and f["path"] not in path:
                    continue
                if f.get("method") and f["method"].upper() != method:
                    continue
                f["count"] -= 1
                if f["count"] <= 0:
                    del self.faults[fid]
                return f
        return None

    def _add_peer(self, n):
        leader = self.nodes[1]
        allowed = [n["vpn"]["ip_address"] + "/32"] + [d + "/32" for d in n["vpn"]["destinations"]]
        args = ["set", leader["wg_iface"], "peer", n["vpn"]["public_key"],
                "allowed-ips", ",".join(allowed)]
        if n["vpn"].get("endpoint"):
            args += ["endpoint", n["vpn"]["endpoint"]]
        self._wg(args)

    # ------------------------------------------------------------- inspection
    def wg_dump(self, iface):
        p = util.run(["wg", "show", iface, "dump"], check=False)
        lines = p.stdout.splitlines()
        if not lines:
            return None
        head = lines[0].split("\t")
        peers = []
        for line in lines[1:]:
            f = line.split("\t")
            peers.append({"public_key": f[0], "endpoint": None if f[2] == "(none)" else f[2],
                          "allowed_ips": [] if f[3] == "(none)" else f[3].split(","),
                          "latest_handshake": int(f[4]), "rx": int(f[5]), "tx": int(f[6]),
                          "keepalive": None if f[7] == "off" else int(f[7])})
        return {"public_key": head[1], "listen_port": int(head[2]), "peers": peers}

    def state(self):
        with self.lock:
            nodes = []
            for nid, n in sorted(self.nodes.items()):
                d = {k: copy.deepcopy(v) for k, v in n.items() if k not in ("ns",)}
                if n.get("wg_iface"):
                    d["wg"] = self.wg_dump(n["wg_iface"])
                d["disk"] = self._disk_of(nid) if n["role"] != "ns7migration" else None
                d["agent_alive"] = self.agent_alive("node/%d" % nid)
                nodes.append(d)
            modules = []
            for mid, m in sorted(self.modules.items()):
                d = copy.deepcopy({k: v for k, v in m.items()})
                d["files"] = self.files_of(m)
                if mid in self.module_data:
                    d.update(self.module_data[mid].describe())
                d["agent_alive"] = self.agent_alive("module/" + mid)
                d["receiver_held"] = os.path.exists(os.path.join(m["dir"], "hold.held"))
                d["address"] = self.nodes[m["node"]]["vpn"]["ip_address"] if m["node"] in \
                    self.nodes else None
                modules.append(d)
            return {
                "cluster": {"network": str(self.network), "leader_endpoint": self.leader_endpoint,
                            "leader_vpn_ip": self.nodes[1]["vpn"]["ip_address"],
                            "token_lifetime": self.token_lifetime,
                            "token_epoch": self.token_epoch},
                "nodes": nodes,
                "users": [{"user": u, "display_name": v["display_name"], "grants": v["grants"],
                           "2fa": bool(v.get("otp_secret")), "builtin": v.get("builtin", False)}
                          for u, v in sorted(self.users.items())],
                "domains": [copy.deepcopy(d) for _, d in sorted(self.domains.items())],
                "modules": modules,
                "routes": copy.deepcopy(self.routes),
                "tasks": [t.brief() for t in self.tasks.values()],
                "faults": copy.deepcopy(list(self.faults.values())),
            }

    def _disk_of(self, nid):
        """The node's disks as get-node-status shows them.  Like NS8's (a
        statfs), it does not hold up the API: what it needs is copied under
        the lock and the received files are counted without it (a
        caller that holds the lock, state(), still counts under it)."""
        with self.lock:
            n = self.nodes[nid]
            total, base_free = n["disk"]["total"], n["disk"]["free"]
            counted = [m["srv"] for m in self.modules.values()
                       if m["node"] == nid and not m.get("disk_limit")]
            limited = [(m["id"], m["srv"]) for m in self.modules.values()
                       if m["node"] == nid and m.get("disk_limit")]
        free = max(0, base_free - sum(self._regular_bytes(srv) for srv in counted))
        disks = [{"device": "/dev/vda1", "mountpoint": "/", "fstype": "xfs", "total": total,
                  "used": total - free, "free": free}]
        for mid, srv in limited:
            st = os.statvfs(srv)
            t, fr = st.f_blocks * st.f_frsize, st.f_bavail * st.f_frsize
            disks.append({"device": "tmpfs", "mountpoint": "/home/%s/.local/share/containers"
                          % mid, "fstype": "tmpfs", "total": t, "used": t - fr,
                          "free": fr})
        return disks

    # ------------------------------------------------------------- shutdown
    def shutdown(self):
        self.stopping = True
        with self.lock:
            for mid in list(self.modules):
                try:
                    self._stop_receiver(mid, "cluster simulator stopped")
                except Exception:
                    pass
                m = self.modules[mid]
                if m.get("disk_limit"):
                    util.run(["umount", "-l", m["srv"]], check=False)
                    m["disk_limit"] = None
            for data in self.module_data.values():
                try:
                    data.stop()
                except Exception:
                    pass
            for name in list(self.children):
                self._stop_child(name)


# ====================================================================== actions
def _ns7_or_worker_role(flags):
    return "ns7migration" if "nomodules" in (flags or []) else "worker"


def a_get_cluster_status(sim, t):
    nodes = []
    for nid, n in sorted(sim.nodes.items()):
        vpn = {"ip_address": n["vpn"]["ip_address"], "public_key": n["vpn"]["public_key"]}
        if nid == 1:
            vpn["listen_port"] = WG_PORT
        elif n["vpn"].get("endpoint"):
            vpn["endpoint"] = n["vpn"]["endpoint"]
        wg = sim.wg_dump(sim.nodes[1]["wg_iface"]) if nid != 1 else None
        if wg:
            for p in wg["peers"]:
                if p["public_key"] == n["vpn"]["public_key"]:
                    vpn.update({"lastseen": p["latest_handshake"], "rcvd": p["rx"],
                                "sent": p["tx"]})
        nodes.append({"id": nid, "ui_name": n["ui_name"], "local": nid == 1,
                      "online": sim.agent_alive("node/%d" % nid), "hostname": n["hostname"],
                      "machine_id": n["machine_id"], "vpn": vpn})
    return {"initialized": True, "ui_name": "ns8sim", "leader": True,
            "leader_url": "https://leader.ns8.test/cluster-admin/",
            "default_password": False, "nodes": nodes}


def a_list_nodes(sim, t):
    with sim.lock:
        ids = [nid for nid, n in sorted(sim.nodes.items()) if n["role"] != "ns7migration"]
    disks = {nid: sim._disk_of(nid) for nid in ids}
    out = []
    with sim.lock:
        for nid, n in sorted(sim.nodes.items()):
            d = {"node_id": nid, "role": n["role"], "ui_name": n["ui_name"],
                 "vpn_ip_address": n["vpn"]["ip_address"],
                 "vpn_endpoint": sim.leader_endpoint if nid == 1 else (n["vpn"].get("endpoint") or ""),
                 "vpn_listen_port": str(WG_PORT), "fqdn": n["hostname"],
                 "app_count": sum(1 for m in sim.modules.values() if m["node"] == nid)}
            if n["role"] != "ns7migration" and nid in disks:
                d.update({"disks": disks[nid], "additional_disk_count": 0, "main_ip": n["underlay_ip"],
                          "os_release": {"name": "Rocky Linux", "version": "9.6"},
                          "load": {"1min": 0.1, "5min": 0.1, "15min": 0.1},
                          "network_interface_count": 2})
            out.append(d)
    return {"nodes": out}


# The disks are counted without the simulator's lock (Sim._disk_of).
a_list_nodes.takes_lock = True


def a_get_node_status(sim, t):
    nid = int(t.agent.split("/")[1])
    return {"load": {"1min": 0.12, "5min": 0.1, "15min": 0.08},
            "cpu": {"count": 2, "usage": 3.5,
                    "info": [{"vendor": "GenuineIntel", "model": "ns8sim", "clock": "2400.000"}] * 2},
            "memory": {"total": 8 * 2**30, "used": 2 * 2**30, "free": 6 * 2**30},
            "swap": {"total": 0, "used": 0, "free": 0},
            "disks": sim._disk_of(nid)}


a_get_node_status.takes_lock = True


def a_list_user_domains(sim, t):
    return {"domains": [copy.deepcopy(d) for _, d in sorted(sim.domains.items())],
            "unconfigured_domains": []}


def a_list_modules(sim, t):
    out = []
    for image, info in sorted(catalog.IMAGES.items()):
        installed = [m for m in sim.modules.values() if m["image"] == image]
        dests = []
        for nid, n in sorted(sim.nodes.items()):
            if n["role"] == "ns7migration":
                continue  # nodes flagged "nomodules" take no module
            count = sum(1 for m in installed if m["node"] == nid)
            limit = info.get("max_per_node")
            eligible = limit is None or count < limit
            dests.append({"node_id": nid, "instances": count, "eligible": eligible,
                          "reject_reason": None if eligible else
                          {"message": "max_per_node_limit", "parameter": str(limit)}})
        version = info["version"]
        out.append({
            "name": image, "description": {"en": info["name"] + " (simulated)"},
            "logo": None, "categories": info["categories"],
            "authors": [{"name": "NethServer", "email": "info@nethserver.org"}],
            "docs": {"documentation_url": "https://docs.nethserver.org",
                     "bug_url": "https://github.com/NethServer/dev",
                     "code_url": "https://github.com/NethServer/"},
            "source": catalog.source(image), "certification_level": 5,
            "rootfull": info["rootfull"],
            "versions": [{"tag": version, "testing": False,
                          "labels": {"org.nethserver.rootfull": "1" if info["rootfull"] else "0"}}],
            "repository": "default", "repository_updated": "Mon, 01 Jan 2024 00:00:00 GMT",
            "install_destinations": dests,
            "installed": [{"id": m["id"], "node": str(m["node"]), "digest": "sha256:" +
                           hashlib.sha256(m["image_url"].encode()).hexdigest(),
                           "source": catalog.source(image), "version": version}
                          for m in sorted(installed, key=lambda m: m["id"])],
            "updates": [], "disabled_updates_reason": ""})
    return out


_WG_KEY = re.compile(r"^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$")


def a_add_node(sim, t):
    d = t.data
    key = d["public_key"]
    for n in sim.nodes.values():
        if n["vpn"]["public_key"] == key:
            raise validation_failed("public_key", key, "public_key_matches_existing_node")
    assert_exp(_WG_KEY.match(key), "public_key is not a WireGuard key")
    sim.node_sequence += 1
    nid = sim.node_sequence
    ip = sim.network.network_address + nid
    assert_exp(ip in sim.network and ip != sim.network.broadcast_address,
               "the cluster network %s is full" % sim.network)
    flags = list(d.get("flags") or [])
    node = {"id": nid, "ui_name": "", "hostname": "", "role": _ns7_or_worker_role(flags),
            "ns": None, "underlay_ip": None, "wg_iface": None, "machine_id": "",
            "flags": flags, "agent": False, "core_version": d.get("core_version", ""),
            "node_pwh": d["node_pwh"],
            "vpn": {"ip_address": str(ip), "public_key": key, "endpoint": d.get("endpoint", ""),
                    "destinations": []},
            "joined": now_iso(), "tcp_ports_sequence": 20000,
            "disk": {"total": 0, "free": 0}}
    sim.nodes[nid] = node

    def add_peer_later():
        time.sleep(sim.peer_delay)
        while _peer_held(sim, node):  # the hold_peer fault
            time.sleep(0.2)
        with sim.lock:
            if sim.nodes.get(nid) is node and not node.get("vpn_cut"):
                sim._add_peer(node)
                node["peer_added"] = now_iso()
    threading.Thread(target=add_peer_later, daemon=True).start()
    leader = sim.nodes[1]
    return {"node_id": nid, "ip_address": str(ip), "network": str(sim.network),
            "leader_public_key": leader["vpn"]["public_key"],
            "leader_ip_address": leader["vpn"]["ip_address"],
            "leader_endpoint": sim.leader_endpoint, "leader_core_version": CORE_VERSION}


def a_remove_node(sim, t):
    nid = t.data["node_id"]
    n = sim.nodes.get(nid)
    assert_exp(n is not None, "node %d not found" % nid)
    assert_exp(nid != 1, "the leader node cannot be removed")
    assert_exp(not any(m["node"] == nid for m in sim.modules.values()),
               "node %d still has modules" % nid)
    if n["vpn"]["public_key"]:
        sim._wg(["set", sim.nodes[1]["wg_iface"], "peer", n["vpn"]["public_key"], "remove"])
    sim.routes = [r for r in sim.routes if r["node_id"] != nid]
    del sim.nodes[nid]
    return ""


def _set_allowed_ips(sim, n):
    """The leader routes a node's VPN ip and its extra destinations to its peer."""
    sim._wg(["set", sim.nodes[1]["wg_iface"], "peer", n["vpn"]["public_key"],
             "allowed-ips", ",".join([n["vpn"]["ip_address"] + "/32"] +
                                     [x + "/32" for x in n["vpn"]["destinations"]])])


def a_update_routes(sim, t):
    for r in t.data.get("remove", []):
        sim.routes = [x for x in sim.routes if x["ip_address"] != r["ip_address"]]
        n = sim.nodes.get(r["node_id"])
        if n and r["ip_address"] in n["vpn"]["destinations"]:
            n["vpn"]["destinations"].remove(r["ip_address"])
            if n["id"] != 1 and not n.get("vpn_cut"):
                _set_allowed_ips(sim, n)
            util.run(["ip", "route", "del", r["ip_address"] + "/32"], check=False)
    for r in t.data.get("add", []):
        n = sim.nodes.get(r["node_id"])
        assert_exp(n is not None, "node %d not found" % r["node_id"])
        if r["ip_address"] not in n["vpn"]["destinations"]:
            n["vpn"]["destinations"].append(r["ip_address"])
        sim.routes = [x for x in sim.routes if x["ip_address"] != r["ip_address"]]
        sim.routes.append({"ip_address": r["ip_address"], "node_id": r["node_id"]})
        if n["id"] != 1 and not n.get("vpn_cut"):
            _set_allowed_ips(sim, n)
            util.run(["ip", "route", "replace", r["ip_address"] + "/32", "dev",
                      sim.nodes[1]["wg_iface"]], check=False)
        for wid, w in sim.nodes.items():
            if wid != 1 and w.get("wg_iface"):
                sim._wg(["set", w["wg_iface"], "peer", sim.nodes[1]["vpn"]["public_key"],
                         "allowed-ips", ",".join([str(sim.network)] +
                                                 [x["ip_address"] + "/32" for x in sim.routes])])
                util.run(["ip", "-n", w["ns"], "route", "replace", r["ip_address"] + "/32",
                          "dev", w["wg_iface"]], check=False)
    return ""


def a_add_user(sim, t):
    d = t.data
    assert_exp(d["user"] not in sim.users, "user %s already exists" % d["user"])
    sim.users[d["user"]] = {"password_hash": d["password_hash"], "otp_secret": None,
                            "display_name": d["set"].get("display_name", ""),
                            "grants": d["grant"], "builtin": False,
                            "allowed_networks": d["set"].get("allowed_networks", [])}
    return True


def a_remove_user(sim, t):
    sim.users.pop(t.data["user"], None)
    return True


def a_add_external_domain(sim, t):
    d = t.data
    name = d["domain"]
    if name in sim.domains:
        raise validation_failed("domain", name, "domain_exists")
    base_dn = d.get("base_dn") or ",".join("dc=" + p for p in name.split("."))
    sim.domains[name] = {
        "name": name, "location": "external", "protocol": "ldap",
        "schema": d.get("schema") or "rfc2307", "base_dn": base_dn,
        "bind_dn": d["bind_dn"], "bind_password": d["bind_password"], "tls": d["tls"],
        "tls_verify": d["tls_verify"], "counters": {"users": None, "groups": None},
        "providers": [{"id": d["host"], "ui_name": "", "node": None, "file_server": False,
                       "host": d["host"], "port": d["port"]}]}
    return ""


def a_remove_external_domain(sim, t):
    name = t.data["domain"]
    dom = sim.domains.get(name)
    assert_exp(dom is not None and dom["location"] == "external",
               "external domain %s not found" % name)
    del sim.domains[name]
    return ""


def _check_image_and_node(sim, image, nid):
    name = catalog.image_name(image)
    if name not in catalog.IMAGES:
        raise ActionFailed(1, "Cannot find module %s in any repository\n" % image)
    node = sim.nodes.get(nid)
    assert_exp(node is not None, "node %d not found" % nid)
    assert_exp(node["role"] != "ns7migration" and sim.agent_alive("node/%d" % nid),
               "node %d cannot run modules" % nid)
    limit = catalog.IMAGES[name]["max_per_node"]
    if limit is not None:
        count = sum(1 for m in sim.modules.values() if m["image"] == name and m["node"] == nid)
        assert_exp(count < limit, "node %d already has %d instance(s) of %s" % (nid, count, name))
    return name


def a_add_module(sim, t):
    name = _check_image_and_node(sim, t.data["image"], t.data["node"])
    mid = sim._create_module(name, t.data["node"])
    m = sim.modules[mid]
    return {"module_id": mid, "module_uuid": m["uuid"],
            "image_name": catalog.IMAGES[name]["name"], "image_url": m["image_url"]}


def a_import_module(sim, t):
    name = _check_image_and_node(sim, t.data["image"], t.data["node"])
    nid = t.data["node"]
    mid = sim._create_module(name, nid, t.data["volumes"])
    node = sim.nodes[nid]
    port = node["tcp_ports_sequence"] + 1
    node["tcp_ports_sequence"] += 1
    password = str(uuid.uuid4())
    mtask = Task("module/" + mid, "import-module",
                 {"credentials": [mid, password], "port": port, "volumes": t.data["volumes"]},
                 {"title": "import-module"}, t.user, parent=t.id)
    sim.tasks[mtask.id] = mtask
    sim.modules[mid]["rsync_port"] = port
    sim._start_receiver(mid, port, mid, password, t.data["volumes"], mtask)
    return {"module_id": mid, "credentials": [mid, password], "port": port,
            "address": node["vpn"]["ip_address"], "task": "module/%s/task/%s" % (mid, mtask.id)}


def _users_of(path):
    """The processes with their working directory or an open file under path."""
    users = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        base = "/proc/%s" % pid
        try:
            links = [os.readlink(base + "/cwd")] + [
                os.readlink(base + "/fd/" + fd) for fd in os.listdir(base + "/fd")]
        except OSError:
            continue
        if any(link == path or link.startswith(path + "/") for link in links):
            users.append("%s %s" % (pid, b" ".join(util.pid_cmdline(int(pid)) or [b"?"]).decode(errors="replace")))
    return "; ".join(users) or "no process"


def a_remove_module(sim, t):
    mid = t.data["module_id"]
    m = sim.modules.get(mid)
    assert_exp(m is not None, "module %s not found" % mid)
    sim._stop_receiver(mid, "module removed")
    if m.get("disk_limit"):
        for fid, f in list(sim.faults.items()):
            if f["kind"] == "disk_full" and f.get("module") == mid:
                sim.clear_fault(fid)
    del sim.modules[mid]
    data = sim.module_data.pop(mid, None)
    if data is not None:
        data.stop()
    if not t.data["preserve_data"]:
        shutil.rmtree(m["dir"], ignore_errors=True)
    for name, dom in list(sim.domains.items()):
        dom["providers"] = [p for p in dom["providers"] if p["id"] != mid]
        if dom["location"] == "internal" and not dom["providers"]:
            del sim.domains[name]  # its last provider is gone: so is the domain
    return {}


def a_module_import(sim, t):
    mid = t.agent.split("/", 1)[1]
    d = t.data
    sim._start_receiver(mid, d["port"], d["credentials"][0], d["credentials"][1],
                        d["volumes"], t)
    return PENDING


def a_configure_module(sim, t):
    mid = t.agent.split("/", 1)[1]
    m = sim.modules[mid]
    data = sim.module_data.get(mid)
    if m["image"] == "nethvoice":
        # A validation step of the simulator's own: a migrated script named as
        # one of the image's would replace the image's copy.
        clashes = nethvoice.agi_bin_clashes(m["srv"])
        if clashes:
            raise ActionFailed(
                2, "volumes/agi-bin holds scripts the NethVoice image ships itself: %s\n"
                % ", ".join(clashes),
                [{"field": "agi-bin", "parameter": "agi-bin", "value": name,
                  "error": "agi-bin_image_script"} for name in clashes])
    m["configuration"] = copy.deepcopy(t.data)
    record = {"time": now_iso(), "input": mask(t.data), "task": t.id}
    if t.unknown_keys is not None:
        record["unknown_keys"] = t.unknown_keys
    m["configure_history"].append(record)
    if t.data and isinstance(t.data, dict) and t.data.get("user_domain"):
        m["user_domain"] = t.data["user_domain"]
    if data is None or not data.background_files(os.path.join(m["srv"], "state")):
        return ""
    # 85mysql_background_import: outside the simulator's lock (it takes a while)
    threading.Thread(target=_background_import, args=(sim, mid, data, t), daemon=True).start()
    return PENDING


def _background_import(sim, mid, data, t):
    m = sim.modules.get(mid)
    if m is None:
        return sim.complete(t, "", 143, "module removed\n")
    try:
        code, out, err = data.background_import(os.path.join(m["srv"], "state"), t.id,
                                                m["restore_log"])
    except Exception:
        code, out, err = 1, "", traceback.format_exc()
    if code:
        sim.log("configure-module of %s: background import failed: %s" % (mid, err.strip()[-500:]))
    sim.complete(t, out, code, err)


def a_get_defaults(sim, t):
    m = sim.modules[t.agent.split("/", 1)[1]]
    if m["image"] != "samba":
        raise ActionFailed(8, "Action get-defaults is not defined\n")
    return samba.get_defaults(m, sim.nodes[m["node"]], t.data)


def a_get_configuration(sim, t):
    mid = t.agent.split("/", 1)[1]
    return copy.deepcopy(sim.modules[mid]["configuration"] or {})


# What a module's import-module restores, by the catalog's "restore".
RESTORES = {"mariadb": moduledb.ModuleDatabases, "nethvoice": nethvoice.NethVoiceData,
            "openldap": openldap.OpenLdapData}

ACTIONS = {
    ("cluster", "get-cluster-status"): a_get_cluster_status,
    ("cluster", "list-nodes"): a_list_nodes,
    ("cluster", "list-user-domains"): a_list_user_domains,
    ("cluster", "list-modules"): a_list_modules,
    ("cluster", "add-node"): a_add_node,
    ("cluster", "remove-node"): a_remove_node,
    ("cluster", "update-routes"): a_update_routes,
    ("cluster", "add-user"): a_add_user,
    ("cluster", "remove-user"): a_remove_user,
    ("cluster", "add-external-domain"): a_add_external_domain,
    ("cluster", "remove-external-domain"): a_remove_external_domain,
    ("cluster", "add-module"): a_add_module,
    ("cluster", "import-module"): a_import_module,
    ("cluster", "remove-module"): a_remove_module,
    ("node", "get-node-status"): a_get_node_status,
    ("module", "import-module"): a_module_import,
    ("module", "configure-module"): a_configure_module,
    ("module", "get-configuration"): a_get_configuration,
    ("module", "get-defaults"): a_get_defaults,
}

FAULT_KINDS = ("fail_action", "fail_import", "slow", "http_status", "expire_tokens", "agent_down",
               "vpn_cut", "disk_full", "hold_receiver")

# ---- faults of the helper's lifecycle tests (interrupted Connect) ----------
# hold_peer: a node that joins while it is active gets its WireGuard peer on
# the leader only once it is cleared: no handshake, the join waits there.
FAULT_KINDS += ("hold_peer",)


def _peer_held(sim, node):
    with sim.lock:
        return (sim.nodes.get(node["id"]) is node
                and any(f["kind"] == "hold_peer" for f in sim.faults.values()))
# ---- end of the lifecycle faults ---------------------------------------------


# ------------------------------------------- faults: hostile answers (network edge)
# A leader that answers what NS8 never would: the fields of an action's
# output replaced after the action ran for real (what it created exists) and
# after the output schema check (a hostile leader need not respect it).
FAULT_KINDS += ("answer_override",)


def _answer_override(self, t, out):
    """The answer_override fault: {"action", "set": {field: value}, "count"
    (default 1)}: the output of the action's next run(s), with SET's fields
    in place of its own."""
    f = self._take_fault("answer_override", t)
    if not f or not isinstance(out, dict):
        return out
    out = dict(out)
    out.update(f.get("set") or {})
    if t.log_entry is not None:
        t.log_entry["answer_override"] = f["id"]
    return out


Sim._answer_override = _answer_override


# ====================================================================== HTTP
_TASKS_RE = re.compile(r"^/(cluster|node/[^/]+|module/[^/]+)/tasks$")
_TASK_RE = re.compile(r"^/(cluster|node/[^/]+|module/[^/]+)/task/([^/]+)/(status|context)$")


class ApiHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "ns8sim"
    sys_version = ""

    def log_message(self, fmt, *args):
        pass

    def _send(self, code, body):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self._handle("GET")

    def do_POST(self):
        self._handle("POST")

    def do_PUT(self):
        self._handle("PUT")

    def do_DELETE(self):
        self._handle("DELETE")

    def _handle(self, method):
        sim = self.server.sim
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        entry = {"seq": None, "time": now_iso(), "transport": self.server.transport,
                 "client": self.client_address[0], "method": method, "path": self.path,
                 "user": None, "agent": None, "action": None, "input": None,
                 "validation": None, "http_status": None, "exit_code": None}
        try:
            code, body = self._route(sim, method, raw, entry)
        except Exception:
            code, body = 500, {"code": 500, "message": "internal server error",
                               "data": traceback.format_exc()}
        entry["http_status"] = code
        with sim.lock:
            entry["seq"] = len(sim.requests)
            sim.requests.append(entry)
        self._send(code, body)

    def _route(self, sim, method, raw, entry):
        prefix = self.server.api_prefix
        path = self.path.split("?", 1)[0]
        if not path.startswith(prefix + "/"):
            return 404, {"code": 404, "message": "API not found", "data": None}
        sub = path[len(prefix):]
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        entry["input"] = mask(body)
        f = sim.http_fault(method, path)
        if f:
            st = int(f.get("status", 500))
            msg = f.get("message") or {429: "too many requests", 500: "internal server error",
                                       503: "service unavailable"}.get(st, "error")
            entry["fault"] = f["id"]
            return st, {"code": st, "message": msg, "data": None}
        if sub == "/login" and method == "POST":
            if isinstance(body, dict):
                entry["user"] = body.get("username")
            with sim.lock:
                return sim.login(body, self.client_address[0])
        if sub == "/logout" and method == "POST":
            return 200, {"code": 200}
        auth = self.headers.get("Authorization", "")
        if not auth:
            return 401, {"code": 401, "message": "auth header is empty"}
        if not auth.startswith("Bearer "):
            return 401, {"code": 401, "message": "invalid auth header"}
        with sim.lock:
            user, err = sim.check_token(auth[len("Bearer "):].strip())
        if err:
            return 401, {"code": 401, "message": err}
        entry["user"] = user
        m = _TASKS_RE.match(sub)
        if m and method == "POST":
            agent = m.group(1)
            entry["agent"] = agent
            if not isinstance(body, dict) or not isinstance(body.get("action"), str) \
                    or not body.get("action"):
                return 400, {"code": 400, "message": "request fields malformed",
                             "data": "Key: 'Task.Action' Error:Field validation for "
                                     "'Action' failed on the 'required' tag"}
            action = body["action"]
            entry["action"] = action
            with sim.lock:
                if not sim.authorized(user, agent, action):
                    return 403, {"code": 403, "message": "you don't have permission to "
                                                         "access this resource"}
                if not sim.agent_alive(agent):
                    return 404, {"code": 404, "message": "client idle check failed",
                                 "data": None}
                t = sim.submit(agent, action, body.get("data"), body.get("extra") or {},
                               user, entry)
                env = t.envelope()
            return 201, {"code": 201, "message": "task queued successfully", "data": env}
        m = _TASK_RE.match(sub)
        if m and method == "GET":
            agent, tid, what = m.groups()
            entry["agent"] = agent
            entry["task_id"] = tid
            with sim.lock:
                if what == "status":
                    code, out = sim.status_of(agent, tid)
                    if code == 200:
                        entry["exit_code"] = out["data"]["exit_code"]
                    return code, out
                return sim.context_of(agent, tid)
        return 404, {"code": 404, "message": "API not found", "data": None}


class ApiServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, addr, sim, transport, api_prefix, tls=None):
        self.sim = sim
        self.transport = transport
        self.api_prefix = api_prefix
        self.tls = tls
        super().__init__(addr, ApiHandler)

    def finish_request(self, request, client_address):
        request.settimeout(30)
        if self.tls is not None:
            try:
                request = self.tls.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError):
                return
        super().finish_request(request, client_address)

    def handle_error(self, request, client_address):
        pass


# ====================================================================== control
class ControlHandler(socketserver.StreamRequestHandler):
    def handle(self):
        for line in self.rfile:
            if not line.strip():
                continue
            try:
                req = json.loads(line)
                resp = {"ok": True, "result": self.server.dispatch(req)}
            except Exception as e:
                resp = {"ok": False, "error": "%s: %s" % (type(e).__name__, e)}
            self.wfile.write((json.dumps(resp) + "\n").encode())
            self.wfile.flush()


class ControlServer(socketserver.ThreadingUnixStreamServer):
    daemon_threads = True

    def __init__(self, path, sim, stop):
        self.sim = sim
        self.stop = stop
        if os.path.exists(path):
            os.unlink(path)
        super().__init__(path, ControlHandler)
        os.chmod(path, 0o600)

    def dispatch(self, req):
        sim = self.sim
        cmd = req.get("cmd")
        if cmd == "ping":
            return "pong"
        if cmd == "state":
            return sim.state()
        if cmd == "requests":
            with sim.lock:
                return copy.deepcopy(sim.requests[int(req.get("since", 0)):])
        if cmd == "fault":
            op = req.get("op", "set")
            if op == "set":
                return sim.set_fault(req.get("fault") or {})
            if op == "clear":
                return sim.clear_fault(fid=req.get("id"), kind=req.get("kind"))
            raise ValueError("fault op must be set or clear")
        if cmd == "faults":
            with sim.lock:
                return copy.deepcopy(list(sim.faults.values()))
        if cmd == "reset-faults":
            with sim.lock:
                sim.login_hits.clear()
            return sim.clear_fault()
        if cmd == "expire-tokens":
            return sim.set_fault({"kind": "expire_tokens"})
        if cmd == "info":
            with sim.lock:
                return {"leader_public_key": sim.nodes[1]["vpn"]["public_key"],
                        "leader_vpn_ip": sim.nodes[1]["vpn"]["ip_address"],
                        "network": str(sim.network), "leader_endpoint": sim.leader_endpoint,
                        "nodes": {str(k): {"vpn_ip": v["vpn"]["ip_address"],
                                           "public_key": v["vpn"]["public_key"]}
                                  for k, v in sim.nodes.items()}}
        if cmd in ("module-tables", "module-rows", "module-sql", "module-astdb"):
            with sim.lock:
                data = sim.module_data.get(req.get("module"))
            if data is None:
                raise ValueError("no module with databases %r" % req.get("module"))
            if cmd == "module-astdb" and not hasattr(data, "astdb"):
                raise ValueError("module %r has no astdb" % req.get("module"))
            if cmd == "module-astdb":
                return data.astdb()
            if cmd == "module-sql":
                return data.sql(req["sql"], database=req.get("database"))
            dbs = req.get("databases") or []
            return data.tables(dbs) if cmd == "module-tables" else data.table_rows(dbs)
        if cmd == "ldap-search":
            with sim.lock:
                data = sim.module_data.get(req.get("module"))
            if not isinstance(data, openldap.OpenLdapData):
                raise ValueError("no openldap module %r" % req.get("module"))
            return data.search(req["base"], req.get("filter") or "(objectClass=*)",
                               req.get("attrs") or [], scope=req.get("scope") or "sub",
                               service=bool(req.get("service")))
        if cmd == "domain-search":
            with sim.lock:
                dom = copy.deepcopy(sim.domains.get(req.get("domain")))
            if dom is None:
                raise ValueError("no user domain %r" % req.get("domain"))
            return openldap.domain_search(dom, req.get("base"), req.get("filter") or "(objectClass=*)",
                                          req.get("attrs") or [], scope=req.get("scope") or "sub")
        if cmd == "module-ad-search":
            with sim.lock:
                m = sim.modules.get(req.get("module"))
            if m is None or m["image"] != "samba":
                raise ValueError("no samba module %r" % req.get("module"))
            return samba.module_search(m, req["filter"], req.get("attrs") or (), req.get("base"))
        if cmd == "shutdown":
            threading.Thread(target=self.stop, daemon=True).start()
            return "stopping"
        raise ValueError("unknown command %r" % cmd)


# ====================================================================== main
def main(argv):
    if len(argv) != 2 or argv[1] in ("-h", "--help"):
        print("usage: python3 -m ns8sim.server CONFIG.json  (started by ns8sim.Cluster)")
        return 2
    with open(argv[1]) as f:
        cfg = json.load(f)
    sim = Sim(cfg)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: done.set())
    signal.signal(signal.SIGINT, lambda *a: done.set())
    servers = []
    try:
        sim.setup()
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(cfg["cert_file"], cfg["key_file"])
        https = ApiServer(("0.0.0.0", int(cfg.get("https_port", 443))), sim, "https",
                          "/cluster-admin/api", tls)
        vpn = ApiServer((sim.nodes[1]["vpn"]["ip_address"], int(cfg.get("api_port", 9311))),
                        sim, "vpn", "/api")
        control = ControlServer(cfg["control_socket"], sim, done.set)
        servers = [https, vpn, control]
        for s in servers:
            threading.Thread(target=s.serve_forever, kwargs={"poll_interval": 0.2},
                             daemon=True).start()
        with open(os.path.join(cfg["run_dir"], "server.ready"), "w") as f:
            json.dump({"pid": os.getpid()}, f)
        done.wait()
    except Exception:
        traceback.print_exc()
        with open(os.path.join(cfg["run_dir"], "server.failed"), "w") as f:
            f.write(traceback.format_exc())
        return 1
    finally:
        for s in servers:
            try:
                s.shutdown()
                s.server_close()
            except Exception:
                pass
        sim.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
