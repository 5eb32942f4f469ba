"""A stand-in for systemd's manager on the private bus.

systemd cannot run here, so the helper's calls to it are answered by this
small service, which records every call (method, unit, mode, caller) as one
JSON line in a file the test reads.

Run as a process:  python3 -m harness.systemd_standin --address=ADDR
                   --units=UNITS.json --calls=CALLS.jsonl
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import time

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
    """Controls the stand-in process: start(), stop(), calls(), unit_state()."""

    def __init__(self, run_dir, bus, units=None):
        self.dir = os.path.join(run_dir, "systemd")
        self.bus = bus
        self.units = dict(NETHVOICE_UNITS if units is None else units)
        self.units_path = os.path.join(self.dir, "units.json")
        self.calls_path = os.path.join(self.dir, "calls.jsonl")
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
                                    f"--calls={self.calls_path}"],
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



# --- the service itself (runs in its own process) ------------------------------

def _serve(address, units_path, calls_path):
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

        def _job(self, unit, method, sender, mode, **state):
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
            GLib.idle_add(lambda: (self.JobRemoved(dbus.UInt32(jid), job, unit.name, "done"), False)[1])
            return job

        @dbus.service.method(MANAGER_IFACE, in_signature="ss", out_signature="o", sender_keyword="sender")
        def StartUnit(self, name, mode, sender=None):
            return self._job(self._unit(name, True), "StartUnit", sender, mode,
                             ActiveState="active", SubState="running")

        @dbus.service.method(MANAGER_IFACE, in_signature="ss", out_signature="o", sender_keyword="sender")
        def StopUnit(self, name, mode, sender=None):
            return self._job(self._unit(name, True), "StopUnit", sender, mode,
                             ActiveState="inactive", SubState="dead")

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
    loop.run()
    del manager
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(description="systemd manager stand-in for the tests")
    ap.add_argument("--address", required=True)
    ap.add_argument("--units", required=True)
    ap.add_argument("--calls", required=True)
    args = ap.parse_args(argv)
    return _serve(args.address, args.units, args.calls)


if __name__ == "__main__":
    sys.exit(main())
