"""The helper under test, started as systemd would start it (sd_notify READY=1)."""

import os
import signal
import socket
import subprocess
import time

from . import util

DEFAULT_BINARY = os.path.join("build", "helper", "ns8-migration-helper")

_SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                      "SUMMARY: UndefinedBehaviorSanitizer", "SUMMARY: AddressSanitizer")


def helper_binary():
    """NS8M_HELPER, else the usual build location in the source tree."""
    path = os.environ.get("NS8M_HELPER") or os.path.join(util.source_dir(), DEFAULT_BINARY)
    return path


def netns_wrapper(run_dir, netns, binary):
    """A script that runs BINARY inside network namespace NETNS (as the NS7
    host of the simulated topology) with a private /run/wireguard:
    wireguard-go keeps its control socket there under the interface's name
    ("ns8"), which would collide with another run on the same machine.
    Returns its path, to use as Helper.binary."""
    path = os.path.join(run_dir, "helper-in-" + netns)
    with open(path, "w") as f:
        f.write("#!/bin/sh\n"
                "exec ip netns exec %s unshare --mount --propagation private "
                "sh -c 'mkdir -p /run/wireguard && mount -t tmpfs -o mode=0700 ns8m-wg /run/wireguard "
                "&& exec \"$0\" \"$@\"' %s \"$@\"\n" % (netns, binary))
    os.chmod(path, 0o755)
    return path


def descendants(pid):
    """PIDs of every living descendant of `pid` (children first), from /proc."""
    parent = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        parent[int(entry)] = ppid
    out, frontier = [], [pid]
    while frontier:
        p = frontier.pop(0)
        kids = sorted(c for c, pp in parent.items() if pp == p)
        out += kids
        frontier += kids
    return out


def mount_namespace_members(pid):
    """PIDs of the other processes in `pid`'s mount namespace, when it is not
    ours (netns_wrapper gives the helper a private one: whatever it starts,
    even a daemon that detached, stays in it); [] otherwise."""
    try:
        mnt = os.readlink(f"/proc/{pid}/ns/mnt")
        if mnt == os.readlink("/proc/self/ns/mnt"):
            return []
    except OSError:
        return []
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != pid:
            try:
                if os.readlink(f"/proc/{entry}/ns/mnt") == mnt:
                    out.append(int(entry))
            except OSError:
                continue
    return sorted(out)


class Helper:
    """One ns8-migration-helper, restartable with the same state dir.

    Its stderr goes to `log_path` (under the artifacts dir), every start
    appended with a header line."""

    def __init__(self, run_dir, bus_address, root, state_dir, profiles_dir=None, binary=None,
                 extra_args=(), env=None):
        self.run_dir = run_dir
        self.bus_address = bus_address
        self.root = root
        self.state_dir = state_dir
        self.profiles_dir = profiles_dir or os.path.join(util.source_dir(), "apps")
        self.binary = binary or helper_binary()
        self.extra_args = list(extra_args)
        self.env = env
        self.log_path = util.artifact_path(run_dir, "helper.log")
        self.notify_path = os.path.join(run_dir, "helper-notify.sock")
        self.proc = None
        self.starts = 0
        self.last_exit = None

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def argv(self):
        return [self.binary, f"--bus-address={self.bus_address}", f"--state-dir={self.state_dir}",
                f"--root={self.root}", f"--profiles-dir={self.profiles_dir}", *self.extra_args]

    def start(self, timeout=30.0):
        """Start and wait for READY=1 on NOTIFY_SOCKET (bounded)."""
        if self.alive():
            raise util.HarnessError("the helper is already running")
        if not os.access(self.binary, os.X_OK):
            raise util.HarnessError(f"no helper binary at {self.binary} (set NS8M_HELPER)")
        if os.path.exists(self.notify_path):
            os.unlink(self.notify_path)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
        try:
            sock.bind(self.notify_path)
            env = dict(os.environ if self.env is None else self.env)
            env["NOTIFY_SOCKET"] = self.notify_path
            env.pop("LISTEN_FDS", None)
            env.pop("LISTEN_PID", None)
            self.starts += 1
            with open(self.log_path, "ab") as log:
                log.write(f"\n===== start {self.starts}: {' '.join(self.argv())}\n".encode())
                log.flush()
                self.proc = util.spawn(self.argv(), env=env, stdout=log, stderr=subprocess.STDOUT)
            deadline = time.monotonic() + timeout
            messages = []
            while True:
                if self.proc.poll() is not None:
                    self.last_exit = self.proc.returncode
                    raise util.HarnessError(f"the helper exited with {self.proc.returncode} before "
                                            f"READY=1:\n{util.tail(self.log_path)}")
                left = deadline - time.monotonic()
                if left <= 0:
                    self.stop(timeout=5, sig=signal.SIGKILL)
                    raise util.HarnessError(f"the helper sent no READY=1 within {timeout:g} s "
                                            f"(got {messages}):\n{util.tail(self.log_path)}")
                sock.settimeout(min(0.2, left))
                try:
                    data = sock.recv(4096).decode(errors="replace")
                except socket.timeout:
                    continue
                messages.append(data)
                if "READY=1" in data.split("\n"):
                    break
        finally:
            sock.close()
            if os.path.exists(self.notify_path):
                os.unlink(self.notify_path)
        return self

    def stop(self, timeout=30.0, sig=signal.SIGTERM):
        """SIGTERM (or sig) and wait; returns the exit code (negative: killed by that signal)."""
        if self.proc is None:
            return self.last_exit
        self.last_exit = util.stop_process(self.proc, timeout=timeout, sig=sig)
        self.proc = None
        return self.last_exit

    def kill(self):
        """SIGKILL, as a crash would; returns the exit code."""
        return self.stop(timeout=10, sig=signal.SIGKILL)

    def kill_unit(self):
        """SIGKILL the helper and, by PID, every process it had started (its
        descendants, and the detached ones left in its private mount
        namespace, such as wireguard-go), as systemd does to the whole unit
        when the daemon crashes (KillMode=control-group).  The helper is
        frozen first so that it starts nothing new meanwhile.  Returns the
        helper's exit code."""
        if not self.alive():
            return self.stop()
        os.kill(self.proc.pid, signal.SIGSTOP)
        children = sorted(set(descendants(self.proc.pid)) | set(mount_namespace_members(self.proc.pid)))
        code = self.kill()
        for pid in children:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        return code

    def restart(self, timeout=30.0):
        self.stop()
        return self.start(timeout)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def sanitizer_errors(self):
        """Lines of the helper's stderr where a sanitizer reported an error."""
        try:
            text = self.log()
        except OSError:
            return []
        return [line for line in text.splitlines() if any(m in line for m in _SANITIZER_MARKERS)]

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
