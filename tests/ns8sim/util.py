"""Small helpers shared by the topology, the cluster and the server."""

import os
import secrets
import signal
import subprocess
import time

PYTHON = "/usr/bin/python3"
NETNS_DIR = "/run/netns"
WG_SOCKET_DIR = "/var/run/wireguard"
RUN_BASE = os.environ.get("NS8SIM_RUN_BASE", "/tmp")
PREFIX_HEAD = "ns8s"


def new_prefix():
    """A short random run prefix: 'ns8s' + 4 hex digits (8 chars), so that
    '<prefix>-wg7' and friends stay within the 15-char interface name limit."""
    return PREFIX_HEAD + secrets.token_hex(2)


def run_dir_for(prefix):
    return os.path.join(RUN_BASE, "ns8sim-" + prefix)


def nsenter(ns, argv):
    """argv run in the network namespace ns only (same mount namespace, so
    mounts and /var/run/wireguard sockets are shared with the host)."""
    return ["nsenter", "--net=" + os.path.join(NETNS_DIR, ns), "--"] + list(argv)


def run(argv, check=True, timeout=60, **kw):
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=timeout, **kw)
    if check and p.returncode != 0:
        raise RuntimeError("command failed (%d): %s\n%s%s" % (
            p.returncode, " ".join(argv), p.stdout, p.stderr))
    return p


def wait_for(predicate, timeout, what, interval=0.05):
    """Poll predicate() until it returns a true value; raise with a clear
    message after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError("timed out after %.0f s waiting for %s" % (timeout, what))
        time.sleep(interval)


def pid_cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read().split(b"\0")
    except OSError:
        return None


def kill_pid(pid, sig=signal.SIGTERM, wait=5.0):
    """Signal one process we started, escalate to SIGKILL if it lingers."""
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
            if done:
                return
        except ChildProcessError:
            if not os.path.exists("/proc/%d" % pid):
                return
            # not our child: check it is gone or a zombie
            try:
                with open("/proc/%d/stat" % pid) as f:
                    if f.read().split(") ", 1)[1].startswith("Z"):
                        return
            except OSError:
                return
        time.sleep(0.05)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
