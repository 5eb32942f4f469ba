"""A stand-in for systemd's manager on the private bus.

systemd cannot run here, so the helper's calls to it are answered by this
small service, which records every call (method, unit, mode, caller) as one
JSON line in a file the test reads.

Run as a process:  python3 -m harness.systemd_standin --address=ADDR
                   --units=UNITS.json --calls=CALLS.jsonl
"""

import argparse
import ctypes
import json
import os
import signal
import subprocess
import sys
import time
import uuid

from . import util

BUS_NAME = "org.freedesktop.systemd1"
MANAGER_PATH = "/org/freedesktop/systemd1"
MANAGER_IFACE = "org.freedesktop.systemd1.Manager"
UNIT_IFACE = "org.freedesktop.systemd1.Unit"

# NethVoice's services on NS7, running and enabled.
NETHVOICE_UNITS = {
    name: {"ActiveState": "active", "SubState": "running", "UnitFileState": "enabled"}
    for name in ("httpd-fpbx.service", "asterisk.service", "nethcti-server.service",
                 "janus-gateway.service", "tancredi.service", "nethvoice-report-api.service",
                 "phonebookjss.service", "mariadb.service", "httpd.service")
}
NETHVOICE_UNITS.update({
    name: {"ActiveState": "inactive", "SubState": "dead", "UnitFileState": "disabled"}
    for name in ("fias.service", "fias-dispatcher.service")
})


# What systemd gives a service's processes besides its Environment= (and
# INVOCATION_ID, below).
SERVICE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# How long a transient service may take to start (systemd's TimeoutStartSec
# is 90 s; the helper's callers wait less) and to stop.
TRANSIENT_START_TIMEOUT = 15.0
TRANSIENT_STOP_TIMEOUT = 10.0
# The properties StartTransientUnit understands here.
TRANSIENT_PROPERTIES = ("Description", "Type", "Environment", "ExecStart")
TRANSIENT_TYPES = ("simple", "exec", "forking", "oneshot")
# Exits after which systemd calls a service's end clean (besides code 0).
CLEAN_SIGNALS = (signal.SIGHUP, signal.SIGINT, signal.SIGTERM, signal.SIGPIPE)
_PR_SET_CHILD_SUBREAPER = 36


def unit_path(name):
    """systemd's object path of a unit (bus_label_escape)."""
    out = []
    for ch in name:
        if ch.isascii() and ch.isalnum():
            out.append(ch)
        else:
            out.append("_%02x" % ord(ch))
    return MANAGER_PATH + "/unit/" + "".join(out)


class SystemdStandin(util.ManagedProcess):
    """Controls the stand-in process: start(), stop(), calls(), unit_state(),
    transient_units()."""

    # Its own stop ends the transient services first (SIGTERM, then SIGKILL).
    stop_timeout = 25

    def __init__(self, run_dir, bus, units=None):
        self.dir = os.path.join(run_dir, "systemd")
        self.bus = bus
        self.units = dict(NETHVOICE_UNITS if units is None else units)
        self.units_path = os.path.join(self.dir, "units.json")
        self.calls_path = os.path.join(self.dir, "calls.jsonl")
        self.transient_path = os.path.join(self.dir, "transient.json")
        self.log_path = util.artifact_path(run_dir, "systemd-standin.log")
        self.proc = None

    def start(self):
        os.makedirs(self.dir, exist_ok=True)
        with open(self.units_path, "w") as f:
            json.dump(self.units, f)
        open(self.calls_path, "w").close()
        env = dict(os.environ, PYTHONPATH=util.tests_dir(), PYTHONDONTWRITEBYTECODE="1")
        with open(self.log_path, "ab") as log:
            self.proc = util.spawn([util.DEBIAN_PYTHON, "-m", "harness.systemd_standin",
                                    f"--address={self.bus.address}", f"--units={self.units_path}",
                                    f"--calls={self.calls_path}", f"--transient={self.transient_path}"],
                                   env=env, stdout=log, stderr=subprocess.STDOUT)
        from . import client
        conn = client.BusClient(self.bus.address)
        try:
            def owned():
                if self.proc.poll() is not None:
                    raise util.HarnessError("the systemd stand-in exited:\n" + util.tail(self.log_path))
                return conn.name_has_owner(BUS_NAME)
            util.wait_for(owned, 15, "the systemd stand-in did not take org.freedesktop.systemd1")
        finally:
            conn.close()
        return self


    def calls(self):
        """Every call so far: dicts with method, unit (or units), mode, sender, uid, time."""
        with open(self.calls_path) as f:
            return [json.loads(line) for line in f if line.strip()]

    def clear_calls(self):
        open(self.calls_path, "w").close()

    def unit_state(self, client, name):
        """The unit's properties as the stand-in reports them now (through `client`)."""
        return client.get_all(unit_path(name), UNIT_IFACE, dest=BUS_NAME)

    def attach(self, unit, pid):
        """Makes process `pid` (started by the test) the main process of the
        loaded unit `unit`: the stand-in's StopUnit then ends it as systemd
        does (SIGTERM, the job ends once it has exited; SIGKILL after 10 s)."""
        os.makedirs(os.path.join(self.dir, "mainpid"), exist_ok=True)
        with open(os.path.join(self.dir, "mainpid", unit), "w") as f:
            f.write(str(pid))

    def fail_start(self, unit, fail=True):
        """While `fail` holds, StartUnit of `unit` ends its job with the
        result "failed" and leaves the unit failed, as when its process
        cannot start."""
        path = os.path.join(self.dir, "start-fails", unit)
        if fail:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            open(path, "w").close()
        elif os.path.exists(path):
            os.unlink(path)

    def transient_units(self):
        """The transient units started so far, as the stand-in last wrote
        them: {name: {"state", "argv", "type", "invocation", "control_pid",
        "main_pid", "result", "netns", "mntns"}} (a unit that ended stays, with
        state "inactive" or "failed")."""
        try:
            with open(self.transient_path) as f:
                return json.load(f)
        except (OSError, ValueError):
            return {}



# --- the service itself (runs in its own process) ------------------------------

def _children(pid):
    """PIDs whose parent is `pid`, from /proc."""
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        out.append(int(entry))
            except (OSError, IndexError, ValueError):
                continue
    return sorted(out)


def _serve(address, units_path, calls_path, transient_path=None):
    import dbus
    import dbus.bus
    import dbus.service
    from dbus.mainloop.glib import DBusGMainLoop
    from gi.repository import GLib

    conn = dbus.bus.BusConnection(address, mainloop=DBusGMainLoop())
    with open(units_path) as f:
        initial = json.load(f)

    def record(method, sender, **fields):
        try:
            uid = int(conn.get_unix_user(sender))
        except dbus.exceptions.DBusException:
            uid = -1
        entry = {"method": method, "sender": str(sender), "uid": uid, "time": time.time()}
        entry.update(fields)
        with open(calls_path, "a") as f:
            f.write(json.dumps(entry) + "\n")
            f.flush()

    mainpid_dir = os.path.join(os.path.dirname(units_path), "mainpid")
    start_fails_dir = os.path.join(os.path.dirname(units_path), "start-fails")

    def gone(pid):
        try:
            with open(f"/proc/{pid}/stat") as f:
                return f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
        except (OSError, IndexError):
            return True

    def end_processes(pids):
        """SIGTERM to every one of PIDS, wait until each has exited (a child
        is reaped, a zombie counts as exited), SIGKILL to the rest after
        TRANSIENT_STOP_TIMEOUT, as systemd ends a unit's processes."""
        pids = set(pids)
        for sig, wait in ((signal.SIGTERM, TRANSIENT_STOP_TIMEOUT), (signal.SIGKILL, 5.0)):
            for pid in pids:
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline:
                try:
                    while os.waitpid(-1, os.WNOHANG)[0]:
                        pass
                except ChildProcessError:
                    pass
                pids = {p for p in pids if not gone(p)}
                if not pids:
                    return
                time.sleep(0.02)

    def end_main_process(name):
        """A unit's main process that a test attached (SystemdStandin.attach)."""
        path = os.path.join(mainpid_dir, name)
        try:
            with open(path) as f:
                pid = int(f.read().strip())
            os.unlink(path)
        except (OSError, ValueError):
            return
        end_processes({pid})

    def check_name(name):
        if "." not in name or "/" in name or not name.split(".")[-1] in (
                "service", "socket", "target", "timer", "path", "mount", "slice", "scope"):
            raise dbus.exceptions.DBusException(f"Unit name {name} is not valid.",
                                                name="org.freedesktop.DBus.Error.InvalidArgs")

    class Unit(dbus.service.Object):
        def __init__(self, name, props):
            self.name = name
            self.props = {"Id": name, "Description": name, "LoadState": "loaded",
                          "ActiveState": "inactive", "SubState": "dead", "UnitFileState": "disabled"}
            self.props.update(props)
            super().__init__(conn, unit_path(name))

        def set(self, **changes):
            self.props.update(changes)
            self.PropertiesChanged(UNIT_IFACE, {k: dbus.String(v) for k, v in changes.items()}, [])

        @dbus.service.method("org.freedesktop.DBus.Properties", in_signature="ss", out_signature="v")
        def Get(self, iface, prop):
            if iface != UNIT_IFACE or prop not in self.props:
                raise dbus.exceptions.DBusException(f"Unknown property {iface}.{prop}",
                                                    name="org.freedesktop.DBus.Error.UnknownProperty")
            return dbus.String(self.props[prop])

        @dbus.service.method("org.freedesktop.DBus.Properties", in_signature="s", out_signature="a{sv}")
        def GetAll(self, iface):
            if iface not in (UNIT_IFACE, ""):
                return dbus.Dictionary({}, signature="sv")
            return dbus.Dictionary({k: dbus.String(v) for k, v in self.props.items()}, signature="sv")

        @dbus.service.signal("org.freedesktop.DBus.Properties", signature="sa{sv}as")
        def PropertiesChanged(self, iface, changed, invalidated):
            pass

    # Transient services (StartTransientUnit).  The stand-in is a child
    # subreaper, as systemd is for its services: what a Type=forking
    # service leaves running when its start process exits becomes its
    # child, so it knows the main PID and sees it end.
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    nsenter = next((p for p in ("/usr/bin/nsenter", "/bin/nsenter") if os.access(p, os.X_OK)), "nsenter")
    transient = {}  # name -> Transient, in the order started
    exited = {}     # pid -> wait status, reaped this tick

    def bad_args(message):
        return dbus.exceptions.DBusException(message, name="org.freedesktop.DBus.Error.InvalidArgs")

    class Transient:
        """One transient service: what StartTransientUnit asked for and what
        became of it (its job, its processes, its end)."""

        def __init__(self, name, description, type_, env, path, argv):
            self.name, self.description, self.type = name, description, type_
            self.env, self.path, self.argv = env, path, argv
            self.invocation = uuid.uuid4().hex
            self.state = "activating"
            self.control_pid = self.main_pid = None
            self.job = None          # (id, path) of the start or stop job under way
            self.deadline = None
            self.result = None       # "success", "exit-code", "signal", "timeout", "start-failed"
            self.caller = None
            self.netns = self.mntns = None
            self.unit = None

        def describe(self):
            return {"state": self.state, "argv": self.argv, "path": self.path, "type": self.type,
                    "description": self.description, "invocation": self.invocation,
                    "control_pid": self.control_pid, "main_pid": self.main_pid, "result": self.result,
                    "caller_pid": self.caller, "netns": self.netns, "mntns": self.mntns}

    def save_transient():
        if not transient_path:
            return
        tmp = transient_path + ".tmp"
        with open(tmp, "w") as f:
            json.dump({n: t.describe() for n, t in transient.items()}, f)
        os.replace(tmp, transient_path)

    def parse_transient(properties, aux):
        """(description, type, env {key: value}, path, argv) of StartTransientUnit's
        properties, checked as systemd checks them."""
        if len(aux):
            raise bad_args("Auxiliary units are not supported by the stand-in.")
        description, type_, env, execs = None, "simple", {}, []
        for prop in properties:
            key, value = str(prop[0]), prop[1]
            if key not in TRANSIENT_PROPERTIES:
                raise bad_args(f"Cannot set property {key}, or unknown property.")
            if key in ("Description", "Type") and not isinstance(value, str):
                raise bad_args(f"Bad type for property {key}.")
            if key == "Description":
                description = str(value)
            elif key == "Type":
                if value not in TRANSIENT_TYPES:
                    raise bad_args(f"Invalid service type {value} (the stand-in runs {TRANSIENT_TYPES}).")
                type_ = str(value)
            elif key == "Environment":
                if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                    raise bad_args("Bad type for property Environment.")
                for item in value:
                    k, eq, v = str(item).partition("=")
                    if not eq or not k or not (k[0].isalpha() or k[0] == "_") or not all(
                            c.isalnum() or c == "_" for c in k):
                        raise bad_args("Invalid environment block.")
                    env[k] = v
            elif key == "ExecStart":
                if not isinstance(value, list):
                    raise bad_args("Bad type for property ExecStart.")
                for entry in value:
                    if len(entry) != 3 or not isinstance(entry[0], str) or not isinstance(entry[1], list):
                        raise bad_args("Bad type for property ExecStart.")
                    path, argv = str(entry[0]), [str(a) for a in entry[1]]
                    if not os.path.isabs(path):
                        raise bad_args(f"Path {path} is not absolute.")
                    if not argv:
                        raise bad_args("Invalid argv.")
                    execs.append((path, argv))
        if not execs:
            raise bad_args("Service has no ExecStart= setting, which is only allowed for "
                           "RemainAfterExit=yes services.")
        if len(execs) > 1 and type_ != "oneshot":
            raise bad_args("Service has more than one ExecStart= setting, which is only allowed "
                           "for Type=oneshot services.")
        if len(execs) > 1:
            raise bad_args("The stand-in runs one ExecStart= only.")
        return description, type_, env, execs[0][0], execs[0][1]

    def caller_pid(sender):
        return int(conn.call_blocking("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                                      "GetConnectionUnixProcessID", "s", (sender,)))

    def spawn_transient(t):
        """Run the service's command in the caller's network and mount
        namespaces: the helper runs in namespaces of its own while real
        systemd and the helper share the host's.  nsenter execs the command
        (no fork), so the PID is the command's."""
        env = {"PATH": SERVICE_PATH, "LANG": "C.UTF-8", "INVOCATION_ID": t.invocation}
        env.update(t.env)
        argv = [nsenter, f"--target={t.caller}", "--net", "--mount", "--", t.path] + t.argv[1:]
        actions = [(os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0)]
        return os.posix_spawn(nsenter, argv, env, file_actions=actions)

    def processes_of(t):
        """Living processes of the unit (its INVOCATION_ID), children of the
        stand-in (the subreaper) first."""
        return [p for p in _children(os.getpid()) if util.invocation_of(p) == t.invocation]

    def end_job(t, result):
        if t.job is None:
            return
        jid, job = t.job
        t.job = None
        manager.JobRemoved(dbus.UInt32(jid), job, t.name, result)

    def settle(t, state, result):
        """The unit is down: inactive (garbage-collected, as systemd does
        with a transient unit that ended well) or failed (kept)."""
        for pid in processes_of(t):
            try:
                os.kill(pid, signal.SIGKILL)  # KillMode=control-group: the rest goes with it
            except ProcessLookupError:
                pass
        t.state, t.result, t.main_pid, t.control_pid = state, result, None, None
        if t.unit is not None:
            t.unit.set(ActiveState=state, SubState="dead" if state == "inactive" else "failed")
            if state == "inactive":
                t.unit.remove_from_connection()
                manager.units.pop(t.name, None)
                t.unit = None

    def exit_result(status):
        if os.WIFEXITED(status):
            return "success" if os.WEXITSTATUS(status) == 0 else "exit-code"
        return "success" if os.WTERMSIG(status) in CLEAN_SIGNALS else "signal"

    def tick():
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            exited[pid] = status
        now = time.monotonic()
        changed = False
        for t in list(transient.values()):
            if t.state == "activating":
                changed |= tick_start(t, now)
            elif t.state in ("active", "deactivating"):
                changed |= tick_running(t, now)
        exited.clear()
        if changed:
            save_transient()
        return True

    def tick_start(t, now):
        if t.control_pid in exited:
            status = exited.pop(t.control_pid)
            result = exit_result(status)
            ok = os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
            if t.type in ("simple", "exec"):
                settle(t, "inactive" if result == "success" else "failed", result)
                end_job(t, "done" if t.type == "simple" or ok else "failed")
            elif not ok:
                settle(t, "failed", result)
                end_job(t, "failed")
            elif t.type == "oneshot":
                settle(t, "inactive", "success")
                end_job(t, "done")
            else:  # forking: the main process is what the start process left
                left = processes_of(t)
                t.control_pid = None
                if not left:
                    settle(t, "inactive", "success")
                else:
                    t.main_pid = left[0]
                    t.state, t.result = "active", None
                    t.unit.set(ActiveState="active", SubState="running")
                end_job(t, "done")
            return True
        if t.type in ("simple", "exec") and t.control_pid is not None:
            t.main_pid, t.control_pid, t.state = t.control_pid, None, "active"
            t.unit.set(ActiveState="active", SubState="running")
            end_job(t, "done")
            return True
        if now > t.deadline:
            try:
                os.kill(t.control_pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            settle(t, "failed", "timeout")
            end_job(t, "timeout")
            return True
        return False

    def tick_running(t, now):
        gone = t.main_pid in exited or not os.path.exists(f"/proc/{t.main_pid}")
        if gone:
            status = exited.pop(t.main_pid, 0)
            result = exit_result(status)
            if t.state == "deactivating":
                result = "success"
            settle(t, "inactive" if result == "success" else "failed", result)
            end_job(t, "done")
            return True
        if t.state == "deactivating" and now > t.deadline:
            for pid in processes_of(t):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        return False

    def stop_transient(t):
        t.state, t.deadline = "deactivating", time.monotonic() + TRANSIENT_STOP_TIMEOUT
        t.unit.set(ActiveState="deactivating", SubState="stop-sigterm")
        for pid in processes_of(t):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    def stop_all_transient():
        """On the stand-in's own stop: every transient service's processes get
        SIGTERM, then SIGKILL (nothing a test started outlives it)."""
        live = [t for t in transient.values() if t.state in ("activating", "active", "deactivating")]
        end_processes({p for t in live for p in processes_of(t) + [t.control_pid, t.main_pid] if p})

    class Manager(dbus.service.Object):
        def __init__(self):
            super().__init__(conn, MANAGER_PATH)
            self.units = {n: Unit(n, p) for n, p in initial.items()}
            self.job_id = 0

        def _unit(self, name, load=False):
            check_name(name)
            if name not in self.units:
                if not load:
                    raise dbus.exceptions.DBusException(f"Unit {name} not loaded.",
                                                        name="org.freedesktop.systemd1.NoSuchUnit")
                self.units[name] = Unit(name, {"LoadState": "not-found"})
            return self.units[name]

        def _job(self, unit, method, sender, mode, result="done", **state):
            if unit.props.get("LoadState") == "not-found":
                raise dbus.exceptions.DBusException(f"Unit {unit.name} not found.",
                                                    name="org.freedesktop.systemd1.NoSuchUnit")
            if mode not in ("replace", "fail", "isolate", "ignore-dependencies", "ignore-requirements"):
                raise dbus.exceptions.DBusException(f"Job mode {mode} invalid.",
                                                    name="org.freedesktop.DBus.Error.InvalidArgs")
            record(method, sender, unit=unit.name, mode=mode)
            self.job_id += 1
            job = dbus.ObjectPath(f"{MANAGER_PATH}/job/{self.job_id}")
            unit.set(**state)
            jid = self.job_id
            GLib.idle_add(lambda: (self.JobRemoved(dbus.UInt32(jid), job, unit.name, result), False)[1])
            return job

        @dbus.service.method(MANAGER_IFACE, in_signature="ss", out_signature="o", sender_keyword="sender")
        def StartUnit(self, name, mode, sender=None):
            if os.path.exists(os.path.join(start_fails_dir, str(name))):  # fail_start()
                return self._job(self._unit(name, True), "StartUnit", sender, mode, result="failed",
                                 ActiveState="failed", SubState="failed")
            return self._job(self._unit(name, True), "StartUnit", sender, mode,
                             ActiveState="active", SubState="running")

        @dbus.service.method(MANAGER_IFACE, in_signature="ssa(sv)a(sa(sv))", out_signature="o",
                             sender_keyword="sender")
        def StartTransientUnit(self, name, mode, properties, aux, sender=None):
            name, mode = str(name), str(mode)
            check_name(name)
            if not name.endswith(".service"):
                raise bad_args(f"The stand-in starts transient services only, not {name}.")
            if mode not in ("replace", "fail", "isolate", "ignore-dependencies", "ignore-requirements"):
                raise bad_args(f"Job mode {mode} invalid.")
            description, type_, env, path, argv = parse_transient(properties, aux)
            unit = self.units.get(name)
            if unit is not None and unit.props.get("LoadState") != "not-found":
                raise dbus.exceptions.DBusException(f"Unit {name} was already loaded or has a fragment file.",
                                                    name="org.freedesktop.systemd1.UnitExists")
            t = Transient(name, description, type_, env, path, argv)
            t.caller = caller_pid(sender)
            for ns in ("net", "mnt"):
                try:
                    setattr(t, ns + "ns", os.readlink(f"/proc/{t.caller}/ns/{ns}"))
                except OSError:
                    pass
            # Environment: names only in the record (values may be secrets).
            record("StartTransientUnit", sender, unit=name, mode=mode, type=type_, description=description,
                   path=path, argv=argv, environment=sorted(env), pid=t.caller)
            if unit is not None:
                unit.remove_from_connection()
            t.unit = self.units[name] = Unit(name, {"Description": description or name, "ActiveState": "activating",
                                                    "SubState": "start", "UnitFileState": "transient"})
            self.job_id += 1
            job = dbus.ObjectPath(f"{MANAGER_PATH}/job/{self.job_id}")
            t.job = (self.job_id, job)
            t.deadline = time.monotonic() + TRANSIENT_START_TIMEOUT
            transient[name] = t
            try:
                t.control_pid = spawn_transient(t)
            except OSError as e:
                t.result = "start-failed"
                print(f"{name}: {e}", file=sys.stderr, flush=True)

                def failed():
                    settle(t, "failed", "resources")
                    end_job(t, "failed")
                    save_transient()
                    return False
                GLib.idle_add(failed)
            save_transient()
            return job

        @dbus.service.method(MANAGER_IFACE, in_signature="ss", out_signature="o", sender_keyword="sender")
        def StopUnit(self, name, mode, sender=None):
            t = transient.get(str(name))
            if t is not None and t.state == "active":
                record("StopUnit", sender, unit=t.name, mode=str(mode))
                self.job_id += 1
                job = dbus.ObjectPath(f"{MANAGER_PATH}/job/{self.job_id}")
                t.job = (self.job_id, job)
                stop_transient(t)
                save_transient()
                return job
            unit = self._unit(name, True)
            if unit.props.get("LoadState") != "not-found":
                end_main_process(str(name))
            return self._job(unit, "StopUnit", sender, mode, ActiveState="inactive", SubState="dead")

        @dbus.service.method(MANAGER_IFACE, in_signature="ss", out_signature="o", sender_keyword="sender")
        def RestartUnit(self, name, mode, sender=None):
            return self._job(self._unit(name, True), "RestartUnit", sender, mode,
                             ActiveState="active", SubState="running")

        @dbus.service.method(MANAGER_IFACE, in_signature="ss", out_signature="o", sender_keyword="sender")
        def ReloadUnit(self, name, mode, sender=None):
            unit = self._unit(name, True)
            if unit.props.get("ActiveState") != "active":
                raise dbus.exceptions.DBusException(f"Unit {name} is not active.",
                                                    name="org.freedesktop.systemd1.UnitInactive")
            return self._job(unit, "ReloadUnit", sender, mode)

        @dbus.service.method(MANAGER_IFACE, in_signature="s", out_signature="o", sender_keyword="sender")
        def GetUnit(self, name, sender=None):
            record("GetUnit", sender, unit=name)
            return dbus.ObjectPath(unit_path(self._unit(name).name))

        @dbus.service.method(MANAGER_IFACE, in_signature="s", out_signature="o", sender_keyword="sender")
        def LoadUnit(self, name, sender=None):
            record("LoadUnit", sender, unit=name)
            return dbus.ObjectPath(unit_path(self._unit(name, True).name))

        @dbus.service.method(MANAGER_IFACE, in_signature="s", out_signature="s", sender_keyword="sender")
        def GetUnitFileState(self, name, sender=None):
            record("GetUnitFileState", sender, unit=name)
            unit = self._unit(name)
            return unit.props["UnitFileState"]

        @dbus.service.method(MANAGER_IFACE, in_signature="asbb", out_signature="ba(sss)",
                             sender_keyword="sender")
        def EnableUnitFiles(self, names, runtime, force, sender=None):
            changes = []
            for n in names:
                unit = self._unit(n, True)
                if unit.props.get("LoadState") == "not-found":
                    raise dbus.exceptions.DBusException(f"Unit file {n} does not exist.",
                                                        name="org.freedesktop.systemd1.NoSuchUnit")
            record("EnableUnitFiles", sender, units=[str(n) for n in names], runtime=bool(runtime),
                   force=bool(force))
            for n in names:
                unit = self.units[n]
                if unit.props["UnitFileState"] != "enabled":
                    unit.set(UnitFileState="enabled")
                    changes.append(("symlink", f"/etc/systemd/system/multi-user.target.wants/{n}",
                                    f"/usr/lib/systemd/system/{n}"))
            return (True, dbus.Array(changes, signature="(sss)"))

        @dbus.service.method(MANAGER_IFACE, in_signature="asb", out_signature="a(sss)",
                             sender_keyword="sender")
        def DisableUnitFiles(self, names, runtime, sender=None):
            for n in names:
                self._unit(n, True)
            record("DisableUnitFiles", sender, units=[str(n) for n in names], runtime=bool(runtime))
            changes = []
            for n in names:
                unit = self.units[n]
                if unit.props["UnitFileState"] == "enabled":
                    unit.set(UnitFileState="disabled")
                    changes.append(("unlink", f"/etc/systemd/system/multi-user.target.wants/{n}", ""))
            return dbus.Array(changes, signature="(sss)")

        @dbus.service.method(MANAGER_IFACE, in_signature="", out_signature="", sender_keyword="sender")
        def Reload(self, sender=None):
            record("Reload", sender)

        @dbus.service.method(MANAGER_IFACE, in_signature="", out_signature="")
        def Subscribe(self):
            pass

        @dbus.service.method(MANAGER_IFACE, in_signature="", out_signature="")
        def Unsubscribe(self):
            pass

        @dbus.service.signal(MANAGER_IFACE, signature="uoss")
        def JobRemoved(self, job_id, job, unit, result):
            pass

    manager = Manager()
    conn.request_name(BUS_NAME, dbus.bus.NAME_FLAG_DO_NOT_QUEUE)
    loop = GLib.MainLoop()
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGTERM, loop.quit)
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGINT, loop.quit)
    GLib.timeout_add(100, tick)
    loop.run()
    stop_all_transient()
    del manager
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(description="systemd manager stand-in for the tests")
    ap.add_argument("--address", required=True)
    ap.add_argument("--units", required=True)
    ap.add_argument("--calls", required=True)
    ap.add_argument("--transient")
    args = ap.parse_args(argv)
    return _serve(args.address, args.units, args.calls, args.transient)


if __name__ == "__main__":
    sys.exit(main())
