"""Network namespaces and veths for an NS7 host, an NS8 leader and a worker.

Layout (one run, prefix P):

    P-ns7 (eth0 192.0.2.7) ─┐
    P-leader (eth0 192.0.2.1)├─ P-lan: bridge br0 (the "internet" between hosts)
    P-worker (eth0 192.0.2.2)┘

Every link lives inside the run's own namespaces (nothing is created in the
root namespace), so two runs never collide.  /etc/netns/P-ns7/hosts makes
leader.ns8.test and worker.ns8.test resolvable from the NS7 host.
"""

import ipaddress
import os
import shutil
import subprocess

from . import util

UNDERLAY_NETWORK = "192.0.2.0/24"
LEADER_HOST = "leader.ns8.test"
WORKER_HOST = "worker.ns8.test"
NS7_HOST = "ns7.example.test"


class Topology:
    """Create with Topology(prefix=None, worker=True).create(); tear down with
    destroy() (idempotent, also runs on context-manager exit).

    Attributes: prefix, ns7_ns, leader_ns, worker_ns (None without worker),
    lan_ns, ns7_ip, leader_ip, worker_ip, underlay_network, leader_host,
    worker_host, hosts_file (the NS7 namespace's /etc/netns hosts file).
    """

    def __init__(self, prefix=None, worker=True):
        self.prefix = prefix or util.new_prefix()
        if len(self.prefix) > 9:
            raise ValueError("prefix too long for interface names: %r" % self.prefix)
        p = self.prefix
        self.ns7_ns = p + "-ns7"
        self.leader_ns = p + "-leader"
        self.worker_ns = p + "-worker" if worker else None
        self.lan_ns = p + "-lan"
        net = ipaddress.ip_network(UNDERLAY_NETWORK)
        self.underlay_network = str(net)
        self.leader_ip = str(net.network_address + 1)
        self.worker_ip = str(net.network_address + 2) if worker else None
        self.ns7_ip = str(net.network_address + 7)
        self.leader_host = LEADER_HOST
        self.worker_host = WORKER_HOST if worker else None
        self.hosts_file = os.path.join("/etc/netns", self.ns7_ns, "hosts")
        # host role -> (namespace, underlay ip, hub-side veth name)
        self.hosts = {"ns7": (self.ns7_ns, self.ns7_ip, "h-ns7"),
                      "leader": (self.leader_ns, self.leader_ip, "h-leader")}
        if worker:
            self.hosts["worker"] = (self.worker_ns, self.worker_ip, "h-worker")
        self.created = False

    # -- life cycle -------------------------------------------------------
    def namespaces(self):
        return [ns for ns in (self.lan_ns, self.ns7_ns, self.leader_ns, self.worker_ns) if ns]

    def create(self):
        self.created = True
        try:
            for ns in self.namespaces():
                util.run(["ip", "netns", "add", ns])
                util.run(["ip", "-n", ns, "link", "set", "lo", "up"])
            lan = self.lan_ns
            util.run(["ip", "-n", lan, "link", "add", "br0", "type", "bridge"])
            util.run(["ip", "-n", lan, "link", "set", "br0", "up"])
            for role, (ns, ip, hub) in self.hosts.items():
                util.run(["ip", "-n", lan, "link", "add", hub, "type", "veth",
                          "peer", "name", "eth0", "netns", ns])
                util.run(["ip", "-n", lan, "link", "set", hub, "master", "br0", "up"])
                util.run(["ip", "-n", ns, "addr", "add", ip + "/24", "dev", "eth0"])
                util.run(["ip", "-n", ns, "link", "set", "eth0", "up"])
            self._write_hosts()
        except BaseException:
            self.destroy()
            raise
        return self

    def _write_hosts(self):
        lines = ["127.0.0.1 localhost",
                 "%s %s leader" % (self.leader_ip, self.leader_host)]
        if self.worker_ip:
            lines.append("%s %s worker" % (self.worker_ip, self.worker_host))
        lines.append("%s %s ns7" % (self.ns7_ip, NS7_HOST))
        for ns in (self.ns7_ns, self.leader_ns, self.worker_ns):
            if not ns:
                continue
            d = os.path.join("/etc/netns", ns)
            os.makedirs(d, exist_ok=True)
            with open(os.path.join(d, "hosts"), "w") as f:
                f.write("\n".join(lines) + "\n")

    def destroy(self):
        """Remove every namespace, link, process and /etc/netns file of this run."""
        cleanup_prefix(self.prefix)
        self.created = False

    def __enter__(self):
        if not self.created:
            self.create()
        return self

    def __exit__(self, *exc):
        self.destroy()

    # -- use ----------------------------------------------------------------
    def ns_of(self, role):
        return self.hosts[role][0]

    def exec_argv(self, ns, argv):
        """argv prefixed to run inside namespace ns (with its /etc/netns files)."""
        return ["ip", "netns", "exec", ns] + list(argv)

    def run(self, ns, argv, check=True, timeout=60, **kw):
        """Run argv inside namespace ns; returns subprocess.CompletedProcess
        (text stdout/stderr).  ns may be a role: 'ns7', 'leader', 'worker'."""
        if ns in self.hosts:
            ns = self.hosts[ns][0]
        return util.run(self.exec_argv(ns, argv), check=check, timeout=timeout, **kw)

    def popen(self, ns, argv, **kw):
        if ns in self.hosts:
            ns = self.hosts[ns][0]
        return subprocess.Popen(self.exec_argv(ns, argv), **kw)

    def set_link(self, role, up):
        """Bring the host's cable to the LAN up or down (hub side of its veth)."""
        hub = self.hosts[role][2]
        util.run(["ip", "-n", self.lan_ns, "link", "set", hub, "up" if up else "down"])

    def describe(self):
        return {"prefix": self.prefix, "underlay_network": self.underlay_network,
                "namespaces": {"ns7": self.ns7_ns, "leader": self.leader_ns,
                               "worker": self.worker_ns, "lan": self.lan_ns},
                "underlay": {"ns7": self.ns7_ip, "leader": self.leader_ip,
                             "worker": self.worker_ip},
                "hosts": {"leader": self.leader_host, "worker": self.worker_host},
                "hosts_file": self.hosts_file}


def _list_netns():
    try:
        return sorted(os.listdir(util.NETNS_DIR))
    except FileNotFoundError:
        return []


def _mounts_under(path):
    out = []
    with open("/proc/self/mounts") as f:
        for line in f:
            mp = line.split()[1].replace("\\040", " ")
            if mp == path or mp.startswith(path + "/"):
                out.append(mp)
    return sorted(out, key=len, reverse=True)


def leftovers(prefix):
    """What of a run with this prefix is still on the machine (for tests and
    for `cleanup`): namespaces, pids in them, /etc/netns dirs, wg sockets,
    mounts and the run dir."""
    pre = prefix + "-"
    nss = [ns for ns in _list_netns() if ns.startswith(pre)]
    pids = []
    for ns in nss:
        p = util.run(["ip", "netns", "pids", ns], check=False)
        pids += [int(x) for x in p.stdout.split()]
    etc = [os.path.join("/etc/netns", d) for d in _safe_listdir("/etc/netns") if d.startswith(pre)]
    socks = [os.path.join(util.WG_SOCKET_DIR, s) for s in _safe_listdir(util.WG_SOCKET_DIR)
             if s.startswith(pre)]
    rundirs = [os.path.join(util.RUN_BASE, d) for d in _safe_listdir(util.RUN_BASE)
               if d.startswith("ns8sim-" + prefix)]
    mounts = []
    for d in rundirs:
        mounts += _mounts_under(d)
    return {"namespaces": nss, "pids": sorted(set(pids)), "etc_netns": etc,
            "wg_sockets": socks, "mounts": mounts, "run_dirs": rundirs}


def _safe_listdir(d):
    try:
        return os.listdir(d)
    except FileNotFoundError:
        return []


def cleanup_prefix(prefix):
    """Remove everything a run with this prefix left: processes inside its
    namespaces (only those: they can only be ours), mounts under its run dir,
    the namespaces (their veths go with them), /etc/netns/<ns>, wireguard-go
    sockets and the run directory.  Safe to call many times."""
    if not prefix or not prefix.startswith(util.PREFIX_HEAD):
        raise ValueError("refusing to clean up prefix %r (must start with %r)"
                         % (prefix, util.PREFIX_HEAD))
    left = leftovers(prefix)
    # 1. processes recorded by the server (they all run in our namespaces,
    #    but a pid file catches one that was started and not yet placed)
    for d in left["run_dirs"]:
        piddir = os.path.join(d, "pids")
        for name in _safe_listdir(piddir):
            try:
                with open(os.path.join(piddir, name)) as f:
                    pid = int(f.read().split()[0])
            except (OSError, ValueError, IndexError):
                continue
            if pid in left["pids"]:
                continue
            cmd = util.pid_cmdline(pid)
            if cmd and any(d.encode() in part for part in cmd):
                util.kill_pid(pid)
    for pid in left["pids"]:
        util.kill_pid(pid, wait=3.0)
    # anything still there after SIGTERM/SIGKILL
    left = leftovers(prefix)
    for pid in left["pids"]:
        util.kill_pid(pid, sig=9, wait=2.0)
    for mp in left["mounts"]:
        util.run(["umount", "-l", mp], check=False)
    for ns in left["namespaces"]:
        util.run(["ip", "netns", "del", ns], check=False)
    for d in left["etc_netns"]:
        shutil.rmtree(d, ignore_errors=True)
    for s in left["wg_sockets"]:
        try:
            os.unlink(s)
        except OSError:
            pass
    for d in left["run_dirs"]:
        if not _mounts_under(d):
            shutil.rmtree(d, ignore_errors=True)
