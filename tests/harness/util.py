"""Small pieces shared by the harness modules: paths, processes, waits."""

import ctypes
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time

DEBIAN_PYTHON = "/usr/bin/python3"

_HERE = os.path.dirname(os.path.abspath(__file__))


def source_dir():
    """The repository root: NS8M_SOURCE_DIR, else two levels above this file."""
    return os.environ.get("NS8M_SOURCE_DIR") or os.path.dirname(os.path.dirname(_HERE))


def shared_dir():
    """The read-only shared folder beside the repository (NS8M_SHARED_DIR)."""
    return os.environ.get("NS8M_SHARED_DIR") or os.path.join(os.path.dirname(source_dir()), "shared")


def artifacts_dir():
    """Where logs of the processes under test are kept (NS8M_ARTIFACTS_DIR), created on demand."""
    path = os.environ.get("NS8M_ARTIFACTS_DIR") or os.path.join(source_dir(), "test-artifacts")
    os.makedirs(path, exist_ok=True)
    return path


def artifact_path(run_dir, name):
    """A log file of one run: <artifacts>/<run dir name>/<name>."""
    d = os.path.join(artifacts_dir(), os.path.basename(run_dir.rstrip("/")))
    os.makedirs(d, exist_ok=True)
    return os.path.join(d, name)


def tests_dir():
    return os.path.dirname(_HERE)


class HarnessError(RuntimeError):
    """A part of the harness could not be set up."""


RUN_PREFIX = "ns8m-"
_OWNER_FILE = ".owner"


def _process_start_time(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def sweep_stale_runs():
    """Remove the run folders of harness processes that died without
    cleaning up (killed by a test timeout, say).  A folder is only removed
    when the process that made it is gone; folders of live runs stay."""
    base = tempfile.gettempdir()
    for name in os.listdir(base):
        if not name.startswith(RUN_PREFIX):
            continue
        path = os.path.join(base, name)
        try:
            with open(os.path.join(path, _OWNER_FILE)) as f:
                pid, start = f.read().split()
        except (OSError, ValueError):
            continue
        if _process_start_time(int(pid)) != start:
            remove_tree(path)


def make_run_dir(prefix=RUN_PREFIX):
    """A fresh temporary directory for one run.

    Mode 0755: the bus socket and the polkit files below it must be reachable
    by unprivileged users (polkitd drops to its own user; the polkit tests call
    as nobody).  Secrets below it live in 0700/0600 entries of their own.
    """
    sweep_stale_runs()
    path = tempfile.mkdtemp(prefix=prefix)
    os.chmod(path, 0o755)
    with open(os.path.join(path, _OWNER_FILE), "w") as f:
        f.write(f"{os.getpid()} {_process_start_time(os.getpid())}\n")
    return path


def remove_tree(path):
    if path and os.path.lexists(path):
        shutil.rmtree(path, ignore_errors=True)


_PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(None, use_errno=True)


def _die_with_parent():
    # If the test process is killed outright, its children follow it instead
    # of lingering (the harness must leave nothing behind).
    _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


def spawn(argv, *, env=None, stdout=None, stderr=None, stdin=subprocess.DEVNULL,
          pass_fds=(), cwd=None):
    """Start a child that dies with us; returns the Popen."""
    return subprocess.Popen(argv, env=env, stdout=stdout, stderr=stderr, stdin=stdin,
                            pass_fds=pass_fds, cwd=cwd, preexec_fn=_die_with_parent)


def stop_process(proc, timeout=10.0, sig=signal.SIGTERM):
    """Stop one process we started, by its PID: sig, then SIGKILL after timeout.

    Returns the exit code (negative signal number when killed)."""
    if proc is None:
        return None
    if proc.poll() is None:
        try:
            proc.send_signal(sig)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode


def wait_for(predicate, timeout, what, interval=0.05):
    """Poll predicate() until it returns a true value; raise with `what` on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise TimeoutError(f"{what} (waited {timeout:g} s)")
        time.sleep(interval)


def tail(path, lines=40):
    """The last lines of a log file, for error messages."""
    try:
        with open(path, "rb") as f:
            data = f.read().decode("utf-8", "replace")
    except OSError:
        return ""
    return "\n".join(data.splitlines()[-lines:])


def user_ids(name):
    """(uid, gid) of a local user."""
    pw = pwd.getpwnam(name)
    return pw.pw_uid, pw.pw_gid


class ManagedProcess:
    """One daemon the harness started (self.proc, a Popen): stopped by its
    PID, usable as a context manager.  Subclasses define start()."""

    proc = None
    stop_timeout = 10

    def stop(self):
        stop_process(self.proc, timeout=self.stop_timeout)
        self.proc = None

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def invocation_of(pid):
    """The INVOCATION_ID in a process's environment (systemd's mark of the
    unit it belongs to), or None."""
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            for item in f.read().split(b"\0"):
                if item.startswith(b"INVOCATION_ID="):
                    return item.split(b"=", 1)[1].decode(errors="replace")
    except OSError:
        pass
    return None
