"""One measured setup: a simulated NS8 cluster (real WireGuard, real rsync
receivers), a sample NS7 (the harness's Sandbox: private bus, polkitd,
systemd stand-in, MariaDB, NethVoice trees) and the helper in the NS7
network namespace; jobs driven over D-Bus and timed; plain rsync runs of the
same trees from the helper's network namespace."""

import glob
import os
import re
import sqlite3
import shutil
import subprocess
import sys
import time

import dbus
import yaml

from harness.client import APP_IFACE, JOB_IFACE, MANAGER_IFACE, app_path
from harness.helper import netns_wrapper
from harness.sandbox import Sandbox
from ns8sim import Cluster

from sampler import Sampler

ROOT = "/org/nethserver/Ns8Migration1"
APP = app_path("nethvoice")
USER_DOMAIN = "nethvoice.bench.test"
# The sample NS7 draws preflight warnings (no backup, ...): accepted, as an
# administrator who read them would.
FIELDS = {"nethvoice_host": "voice.bench.test", "nethcti_ui_host": "cti.bench.test"}
START = dict(FIELDS, accept_warnings=True)
PLAIN_PREFIX = "bench-plain"


def log(msg):
    print(time.strftime("%H:%M:%S ") + msg, file=sys.stderr, flush=True)


class JobFailed(RuntimeError):
    pass


class Rig:
    def __init__(self, name, profiles_dir, files, total_bytes, cdr_rows, task_delay=0.3):
        self.name = name
        self.profiles_dir = profiles_dir
        self.files = files
        self.total_bytes = total_bytes
        self.cdr_rows = cdr_rows
        self.task_delay = task_delay
        self.cluster = self.sb = self.sampler = None
        self.ns7 = None
        self.shaped = None
        with open(os.path.join(profiles_dir, "nethvoice.yaml")) as f:
            self.profile = yaml.safe_load(f)

    # -- life ------------------------------------------------------------------
    def up(self):
        log(f"[{self.name}] simulated NS8 cluster")
        self.cluster = Cluster(nodes=1, modules=[], task_delay=self.task_delay)
        self.cluster.start()
        size = f"{self.total_bytes / 1e9:.2f} GB" if self.total_bytes else "default sizes"
        log(f"[{self.name}] sample NS7: {self.files} files, {size}, {self.cdr_rows} CDR rows")
        self.sb = Sandbox(name="bench-" + self.name, files=self.files, total_bytes=self.total_bytes,
                          cdr_rows=self.cdr_rows, helper=False)
        self.sb.start()
        self.ns7 = self.cluster.topology.ns_of("ns7")
        self.sb.helper.profiles_dir = self.profiles_dir
        self.sb.helper.binary = netns_wrapper(self.sb.run_dir, self.ns7, self.sb.helper.binary)
        self.sb.helper.extra_args = ["--ca-file=" + self.cluster.ca_file, "--vpn-timeout=30",
                                     "--task-timeout=600"]
        self.sb.helper.start()
        self.helper_pid = self._helper_pid()
        self.sampler = Sampler(self.helper_pid, self.cluster.run_dir)
        self.sampler.start()
        return self

    def _helper_pid(self):
        """The helper's own pid (the wrapper execs through ip netns exec, unshare, sh)."""
        pid = self.sb.helper.pid
        for _ in range(50):
            try:
                if os.path.basename(os.readlink(f"/proc/{pid}/exe")).startswith("ns8-migration-helper"):
                    return pid
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError("cannot find the helper's process")

    def down(self):
        if self.sampler is not None:
            self.sampler.stop()
        try:
            if self.sb is not None:
                self.sb.stop()
        finally:
            if self.ns7:
                subprocess.run(["ip", "netns", "exec", self.ns7, "ip", "link", "del", "ns8"],
                               capture_output=True)
            if self.cluster is not None:
                self.cluster.close()

    def shape(self, rate):
        """Limit the NS7 host's link (egress, so the VPN traffic to NS8) to `rate` (tc syntax)."""
        subprocess.run(["ip", "netns", "exec", self.ns7, "tc", "qdisc", "replace", "dev", "eth0", "root",
                        "tbf", "rate", rate, "burst", "256kb", "latency", "50ms"], check=True,
                       capture_output=True)
        self.shaped = rate

    # -- jobs ------------------------------------------------------------------
    @property
    def bus(self):
        return self.sb.bus

    def app(self):
        return self.bus.get_all(APP, APP_IFACE)

    def run_job(self, path, iface, method, signature, args, timeout=3600, watch=None, interval=0.2,
                until=None):
        """Call a job-returning method, poll the job to its end.  Returns a dict:
        props (final), t_call, t_end (wall clock), steps [(step id, start, end)].
        watch(): called on every poll (for extra sampling).  until(): when it
        returns true the polling stops with the job still running (`running`
        is then true in the result and the step in progress ends there)."""
        t_call = time.time()
        try:
            job = self.bus.call(path, iface, method, signature, args, timeout=120)
        except dbus.exceptions.DBusException as e:
            # A helper from before the preflight checks knows no accept_warnings.
            opts = args[-1] if args and isinstance(args[-1], dict) else None
            if not (opts and "accept_warnings" in opts and e.get_dbus_name().endswith(".InvalidArgument")
                    and "accept_warnings" in e.get_dbus_message()):
                raise
            args = list(args[:-1]) + [{k: v for k, v in opts.items() if k != "accept_warnings"}]
            t_call = time.time()
            job = self.bus.call(path, iface, method, signature, args, timeout=120)
        steps, current, began = [], None, None
        deadline = time.monotonic() + timeout
        while True:
            props = self.bus.get_all(job, JOB_IFACE)
            now = time.time()
            if props["CurrentStep"] != current:
                if current is not None:
                    steps.append((current, began, now))
                current, began = props["CurrentStep"], now
            if watch:
                watch()
            if until is not None and not props["Finished"] and until():
                steps.append((current, began, now))
                return {"job": job, "props": props, "t_call": t_call, "t_end": now, "steps": steps,
                        "running": True}
            if props["Finished"]:
                if current is not None:
                    steps.append((current, began, now))
                break
            if time.monotonic() > deadline:
                raise JobFailed(f"{method} did not finish within {timeout} s: {props['Message']}")
            time.sleep(interval)
        out = {"job": job, "props": props, "t_call": t_call, "t_end": now, "steps": steps}
        if not props["Success"]:
            raise JobFailed(f"{method} failed: {props['Message']}")
        return out

    def connect(self):
        c = self.cluster
        return self.run_job(ROOT, MANAGER_IFACE, "Connect", "a{sv}",
                            [{"leader": c.leader_host, "username": c.admin.user,
                              "password": c.admin.password, "user_domain": USER_DOMAIN,
                              "accept_warnings": True}], timeout=180)

    def app_job(self, method, options=None, **kw):
        return self.run_job(APP, APP_IFACE, method, "a{sv}", [options or {}], **kw)

    def has_method(self, name):
        return f'<method name="{name}">' in self.bus.introspect(APP)

    # -- NS8 side ----------------------------------------------------------------
    def receiver(self):
        """(address, port, user, password) of the module's receiver, as the helper keeps them."""
        db = sqlite3.connect(f"file:{os.path.join(self.sb.state_dir, 'state.db')}?mode=ro", uri=True)
        try:
            address, port, user = db.execute(
                "SELECT address, port, rsync_user FROM migrations WHERE app='nethvoice'").fetchone()
        finally:
            db.close()
        with open(os.path.join(self.sb.state_dir, "secrets", "nethvoice.rsync")) as f:
            password = f.read().strip()
        return address, int(port), user, password

    def srv(self):
        """The module's /srv on the simulated node (host path)."""
        a = self.app()
        path = os.path.join(self.cluster.run_dir, "nodes", str(a["Node"]), "modules", a["ModuleId"], "srv")
        if not os.path.isdir(path):
            for m in self.cluster.control.state()["modules"]:
                if m["id"] == a["ModuleId"]:
                    path = m["srv"]
        return path

    # -- plain rsync ---------------------------------------------------------------
    def plan(self):
        """The profile's transfers as (id, source path on NS7, destination under /srv),
        globs expanded as the helper does; missing optional sources left out."""
        root = self.sb.root
        out = []
        for t in self.profile["transfers"]:
            src, dest = t["source"], t["destination"]
            if "*" in src:
                parts = src.rstrip("/").split("/")
                star = [i for i, p in enumerate(parts) if "*" in p][0]
                for match in sorted(glob.glob(root + src.rstrip("/"))):
                    rel = match[len(root):].split("/")
                    out.append((t["id"], match + ("/" if src.endswith("/") else ""),
                                dest.replace("{1}", rel[star])))
            elif os.path.exists(root + src.rstrip("/")):
                out.append((t["id"], root + src, dest))
            elif not t.get("optional"):
                raise RuntimeError(f"the sample NS7 lacks {src}")
        return out

    def send_folder(self, folder, dest):
        """`rsync -a` of a local folder to rsync://user@receiver/data/DEST, as
        plain_rsync does (helper's namespace, its receiver credentials), timed;
        the copy is then removed from the module's /srv.  Returns seconds and
        bytes sent."""
        address, port, user, password = self.receiver()
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C", "RSYNC_PASSWORD": password}
        os.makedirs(os.path.join(self.srv(), dest), exist_ok=True)
        argv = ["nsenter", "-t", str(self.helper_pid), "-n", "rsync", "-a", "--stats", folder.rstrip("/") + "/",
                f"rsync://{user}@{address}:{port}/data/{dest}/"]
        os.sync()
        t0 = time.monotonic()
        p = subprocess.run(argv, env=env, capture_output=True, text=True)
        seconds = time.monotonic() - t0
        shutil.rmtree(os.path.join(self.srv(), dest), ignore_errors=True)
        if p.returncode != 0:
            raise RuntimeError(f"sending {folder} failed ({p.returncode}): {(p.stdout + p.stderr)[-2000:]}")
        return {"seconds": seconds, "bytes_sent": _stat_value(p.stdout, "Total bytes sent")}

    def empty_trees(self, plain):
        """Remove what was copied into the module's /srv: the plain copies
        (PLAIN), or the helper's trees (each destination of the plan, made
        again empty), so that the next copy is a first one again."""
        srv = self.srv()
        dests = [PLAIN_PREFIX] if plain else sorted({dest for _, _, dest in self.plan()})
        for dest in dests:
            path = os.path.join(srv, dest)
            st = os.lstat(path) if os.path.isdir(path) else None
            shutil.rmtree(path, ignore_errors=True)
            if st and not plain:
                os.makedirs(path, exist_ok=True)
                os.chown(path, st.st_uid, st.st_gid)
        os.sync()

    def plain_rsync(self, label):
        """`rsync -a --delete SRC rsync://user@receiver/data/bench-plain/DEST` for every
        source tree of the profile, one after the other, from the helper's network
        namespace, with RSYNC_PASSWORD from the helper's secret file.  --stats only
        prints the counts.  Returns seconds, files and bytes (the sampler
        watches the rsyncs' memory)."""
        address, port, user, password = self.receiver()
        srv = self.srv()
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C", "RSYNC_PASSWORD": password}
        plan = self.plan()
        for _, _, dest in plan:
            os.makedirs(os.path.join(srv, PLAIN_PREFIX, dest), exist_ok=True)
        logdir = os.path.join(self.sb.artifacts(), "plain-rsync")
        os.makedirs(logdir, exist_ok=True)
        total = {"seconds": 0.0, "files": 0, "bytes_sent": 0, "size": 0, "runs": len(plan)}
        os.sync()
        t0 = time.monotonic()
        for i, (tid, src, dest) in enumerate(plan):
            url = f"rsync://{user}@{address}:{port}/data/{PLAIN_PREFIX}/{dest}"
            argv = ["nsenter", "-t", str(self.helper_pid), "-n", "rsync", "-a", "--delete", "--stats", src, url]
            out_path = os.path.join(logdir, f"{label}-{i:02d}-{tid}.log")
            with open(out_path, "w") as out:
                p = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT)
                self.sampler.plain_started(p.pid)
                p.wait()
            with open(out_path) as f:
                text = f.read()
            if p.returncode not in (0, 24):
                raise RuntimeError(f"plain rsync {tid} failed ({p.returncode}): {text[-2000:]}")
            total["files"] += _stat_value(text, "Number of regular files transferred")
            total["bytes_sent"] += _stat_value(text, "Total bytes sent")
            total["size"] += _stat_value(text, "Total transferred file size")
        total["seconds"] = time.monotonic() - t0
        return total


def _stat_value(text, label):
    m = re.search(re.escape(label) + r":\s*([\d,]+)", text)
    return int(m.group(1).replace(",", "")) if m else 0
