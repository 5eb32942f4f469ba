"""The helper under test, started as systemd would start it (sd_notify READY=1)."""

import os
import re
import signal
import socket
import subprocess
import threading
import time
import uuid

from . import util

DEFAULT_BINARY = os.path.join("build", "helper", "ns8-migration-helper")

_SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                      "SUMMARY: UndefinedBehaviorSanitizer", "SUMMARY: AddressSanitizer")


def helper_binary():
    """NS8M_HELPER, else the usual build location in the source tree."""
    path = os.environ.get("NS8M_HELPER") or os.path.join(util.source_dir(), DEFAULT_BINARY)
    return path


UNIT_NAME = "ns8-migration-helper.service"


def netns_wrapper(run_dir, netns, binary):
    """A script that runs BINARY inside network namespace NETNS (as the NS7
    host of the simulated topology) with a /run/wireguard of this run:
    wireguard-go keeps its control socket there under the interface's name
    ("ns8"), which would collide with another run on the same machine.  Every
    start of the helper gets a private mount namespace with <run>/wireguard
    bound on /run/wireguard, so a wireguard-go that outlives one helper (it
    runs in a transient unit of its own) is found by the next, as on a host.
    Returns its path, to use as Helper.binary."""
    path = os.path.join(run_dir, "helper-in-" + netns)
    wg_dir = os.path.join(run_dir, "wireguard")
    os.makedirs(wg_dir, mode=0o700, exist_ok=True)
    with open(path, "w") as f:
        f.write("#!/bin/sh\n"
                "exec ip netns exec %s unshare --mount --propagation private "
                "sh -c 'mkdir -p /run/wireguard && mount --bind %s /run/wireguard "
                "&& exec \"$0\" \"$@\"' %s \"$@\"\n" % (netns, wg_dir, binary))
    os.chmod(path, 0o755)
    return path


def _kill_all(pids):
    """SIGKILL to each of PIDS (processes of the helper's unit) still there."""
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def unit_file_path():
    """The helper's systemd unit as the build made it (NS8M_BUILD_DIR's
    dbus/), else the source template dbus/ns8-migration-helper.service.in."""
    build = os.environ.get("NS8M_BUILD_DIR")
    if build:
        path = os.path.join(build, "dbus", UNIT_NAME)
        if os.path.exists(path):
            return path
    return os.path.join(util.source_dir(), "dbus", UNIT_NAME + ".in")


def _seconds(text):
    """A systemd time span ("5", "5s", "500ms", "1min 30s") in seconds."""
    units = {"": 1, "s": 1, "sec": 1, "second": 1, "seconds": 1, "ms": 0.001, "msec": 0.001, "us": 1e-6,
             "usec": 1e-6, "m": 60, "min": 60, "minute": 60, "minutes": 60, "h": 3600, "hr": 3600, "hour": 3600,
             "hours": 3600}
    total, text = 0.0, text.strip()
    parts = re.findall(r"(\d+(?:\.\d+)?)\s*([a-z]*)", text)
    if not parts or re.sub(r"(\d+(?:\.\d+)?)\s*([a-z]*)", "", text).strip():
        raise ValueError(f"not a time span: {text!r}")
    for number, unit in parts:
        if unit not in units:
            raise ValueError(f"not a time span: {text!r}")
        total += float(number) * units[unit]
    return total


def restart_policy(path=None):
    """(Restart=, RestartSec= in seconds) of the [Service] section of the
    helper's unit file (systemd's defaults: "no", 0.1 s)."""
    restart, restart_sec, section = "no", 0.1, None
    with open(path or unit_file_path()) as f:
        for line in f:
            line = line.strip()
            if not line or line[0] in "#;":
                continue
            if line.startswith("["):
                section = line
                continue
            key, eq, value = line.partition("=")
            if section == "[Service]" and eq:
                if key.strip() == "Restart":
                    restart = value.strip()
                elif key.strip() == "RestartSec":
                    restart_sec = _seconds(value)
    return restart, restart_sec


def restart_wanted(policy, code):
    """Whether systemd restarts a service with Restart=POLICY after its main
    process ended with CODE (Popen's returncode: negative = killed by that
    signal).  SIGHUP, SIGINT, SIGTERM and SIGPIPE are clean ends."""
    clean = code == 0 or (code is not None and code < 0 and -code in (
        signal.SIGHUP, signal.SIGINT, signal.SIGTERM, signal.SIGPIPE))
    by_signal = code is not None and code < 0
    return {"no": False, "always": True, "on-success": clean, "on-failure": not clean,
            "on-abnormal": by_signal and not clean, "on-abort": by_signal and not clean,
            "on-watchdog": False}.get(policy, False)


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
    appended with a header line.  Every start gets an INVOCATION_ID of its
    own, as systemd gives each start of a unit: what carries it is the
    unit's (see kill_unit).

    supervise() restarts it as systemd does under the unit's Restart= and
    RestartSec=; `restarts` lists them: (time.monotonic(), exit code that
    caused it)."""

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
        self.invocation = None
        self._last_proc = None
        self.restarts = []
        self.restart_errors = []
        self._lock = threading.RLock()
        self._supervisor = None
        self._supervise = threading.Event()
        self._restarted = threading.Condition()

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
            self.invocation = uuid.uuid4().hex
            env["INVOCATION_ID"] = self.invocation
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
                    self._end(5, signal.SIGKILL)
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
        """End supervision, then SIGTERM (or sig) and wait; returns the exit
        code (negative: killed by that signal)."""
        self.unsupervise()
        with self._lock:
            return self._end(timeout, sig)

    def _end(self, timeout, sig):
        if self.proc is None:
            return self.last_exit
        self.last_exit = util.stop_process(self.proc, timeout=timeout, sig=sig)
        self._last_proc, self.proc = self.proc, None
        return self.last_exit

    def kill(self):
        """SIGKILL, as a crash would; returns the exit code.  Under
        supervise() the helper is restarted afterwards, as after a crash."""
        with self._lock:
            return self._end(10, signal.SIGKILL)

    def unit_processes(self):
        """The processes of the helper's control group but the helper: its
        descendants, and what detached in its private mount namespace (a
        daemon the helper started itself), except the processes of other
        units (another INVOCATION_ID: wireguard-go in the transient unit
        the systemd stand-in started for the helper)."""
        if not self.alive():
            return []
        found = set(descendants(self.proc.pid)) | set(mount_namespace_members(self.proc.pid))
        return sorted(p for p in found if util.invocation_of(p) in (None, self.invocation))

    def kill_unit(self):
        """SIGKILL the helper and, by PID, every other process of its unit
        (unit_processes()), as systemd does to the unit's control group when
        the daemon crashes.  A transient unit the helper had systemd start
        (wireguard-go) is not in it and lives on.  The helper is frozen first
        so that it starts nothing new meanwhile.  Returns the helper's exit
        code; under supervise() the helper is restarted afterwards."""
        with self._lock:
            if not self.alive():
                return self._end(10, signal.SIGKILL)
            os.kill(self.proc.pid, signal.SIGSTOP)
            children = self.unit_processes()
            code = self._end(10, signal.SIGKILL)
        _kill_all(children)
        return code

    def term_unit(self, timeout=90):
        """SIGTERM to the helper, as systemd stops the unit (KillMode=mixed:
        what is left of the unit once the helper has exited gets SIGKILL).
        Returns the helper's exit code."""
        children = self.unit_processes()
        code = self.stop(timeout=timeout)
        _kill_all(children)
        return code

    # -- supervision (systemd's Restart=) ------------------------------------------
    def supervise(self, policy=None, restart_sec=None, unit_file=None):
        """From now on, restart the helper as systemd would: when it ends
        and Restart= (POLICY, else the unit file's; see restart_policy())
        says so, start it again (same binary, arguments, environment) after
        RestartSec.  A failing start is retried the same way, at most 5
        times in a row.  stop() ends the supervision; so does unsupervise().
        Returns (policy, restart_sec)."""
        file_policy, file_sec = restart_policy(unit_file)
        self.policy = policy or file_policy
        self.restart_sec = file_sec if restart_sec is None else restart_sec
        if self._supervisor is not None and self._supervisor.is_alive():
            self._supervise.set()
            return self.policy, self.restart_sec
        self._supervise.set()
        # The thread lives as long as a helper it started runs: a child's
        # parent-death signal follows the thread that started it.
        self._supervisor = threading.Thread(target=self._supervising, name="helper-supervisor", daemon=True)
        self._supervisor.start()
        return self.policy, self.restart_sec

    def unsupervise(self):
        """No more restarts (the running helper stays)."""
        self._supervise.clear()
        with self._restarted:
            self._restarted.notify_all()

    def supervised(self):
        return self._supervise.is_set()

    def wait_restarts(self, count, timeout):
        """Wait until the supervisor restarted the helper COUNT times in all
        (each restart is counted once the helper said READY=1); returns
        `restarts`, or raises AssertionError with the helper's log tail."""
        deadline = time.monotonic() + timeout
        with self._restarted:
            while len(self.restarts) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"the helper was restarted {len(self.restarts)} times, not {count}, "
                                         f"within {timeout:g} s (errors {self.restart_errors}):\n"
                                         f"{util.tail(self.log_path)}")
                self._restarted.wait(min(left, 0.5))
            return list(self.restarts)

    def _supervising(self):
        ended = self.proc or self._last_proc
        handled = ended if ended is not None and ended.poll() is not None else None
        failures, mine = 0, set()
        while True:
            proc = self.proc or self._last_proc
            if not self._supervise.is_set():
                if not (proc in mine and proc.poll() is None):
                    return
                time.sleep(0.2)
                continue
            if proc is None or proc is handled or proc.poll() is None:
                time.sleep(0.05)
                continue
            handled, code = proc, proc.returncode
            with self._lock:
                if self.proc is proc:
                    self.last_exit, self.proc, self._last_proc = code, None, proc
                if self.proc is not None:
                    continue  # the test started it again meanwhile
                if not restart_wanted(self.policy, code):
                    continue
            if self._wait_unsupervised(self.restart_sec):
                continue
            with self._lock:
                if not self._supervise.is_set() or self.proc is not None:
                    continue
                try:
                    self.start()
                except util.HarnessError as e:
                    failures += 1
                    self.restart_errors.append((time.monotonic(), code, str(e).splitlines()[0]))
                    if failures >= 5:  # systemd's start limit: 5 in a row
                        self._supervise.clear()
                else:
                    failures = 0
                    mine.add(self.proc)
                    self.restarts.append((time.monotonic(), code))
            with self._restarted:
                self._restarted.notify_all()

    def _wait_unsupervised(self, seconds):
        """Sleep SECONDS unless supervision ends meanwhile (then True)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if not self._supervise.is_set():
                return True
            time.sleep(min(0.05, max(0.0, deadline - time.monotonic())))
        return not self._supervise.is_set()

    def restart(self, timeout=30.0):
        """stop() and start(); a supervised helper stays supervised."""
        supervised = self.supervised()
        self.stop()
        self.start(timeout)
        if supervised:
            self.supervise(self.policy, self.restart_sec)
        return self

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
