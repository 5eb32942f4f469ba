"""A D-Bus client for the tests: calls as root or as another user, properties,
the ObjectManager, and jobs watched to their end."""

import json
import subprocess
import time

import dbus
import dbus.bus
from dbus.mainloop.glib import DBusGMainLoop
from gi.repository import GLib

from . import util

HELPER_NAME = "org.nethserver.Ns8Migration1"
ROOT_PATH = "/org/nethserver/Ns8Migration1"
MANAGER_IFACE = "org.nethserver.Ns8Migration1.Manager"
APP_IFACE = "org.nethserver.Ns8Migration1.App"
JOB_IFACE = "org.nethserver.Ns8Migration1.Job"
ERROR_PREFIX = "org.nethserver.Ns8Migration1.Error."
PROPS_IFACE = "org.freedesktop.DBus.Properties"
OM_IFACE = "org.freedesktop.DBus.ObjectManager"

DEFAULT_TIMEOUT = 25.0


def app_path(app_id):
    return f"{ROOT_PATH}/apps/{app_id}"


def plain(value):
    """dbus-python values -> plain Python values (bool, int, float, str, list, dict, tuple)."""
    if isinstance(value, dbus.Boolean):
        return bool(value)
    if isinstance(value, (dbus.Dictionary, dict)):
        return {plain(k): plain(v) for k, v in value.items()}
    if isinstance(value, dbus.Struct):
        return tuple(plain(v) for v in value)
    if isinstance(value, (dbus.Array, list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, (dbus.ObjectPath, dbus.String, dbus.Signature)):
        return str(value)
    if isinstance(value, (dbus.Double,)):
        return float(value)
    if isinstance(value, (dbus.Byte, dbus.Int16, dbus.Int32, dbus.Int64, dbus.UInt16,
                          dbus.UInt32, dbus.UInt64)):
        return int(value)
    return value


class CallResult:
    """Outcome of a call made as another user: `ok`, `value`, `error_name`, `error_message`."""

    def __init__(self, ok, value=None, error_name=None, error_message=None):
        self.ok, self.value = ok, value
        self.error_name, self.error_message = error_name, error_message

    def __repr__(self):
        if self.ok:
            return f"CallResult(ok, {self.value!r})"
        return f"CallResult({self.error_name}: {self.error_message})"


# Run by `call_as` under setpriv, with the request as JSON on stdin.  Inline
# (-c) so that the unprivileged user needs no access to the source tree.
# CALL_AS_PRELUDE: the request read, plain() for the replies; shared with
# harness.polkit's calls_as.
CALL_AS_PRELUDE = r"""
import json, sys
import dbus, dbus.bus
req = json.load(sys.stdin)
def plain(v):
    if isinstance(v, dbus.Boolean): return bool(v)
    if isinstance(v, dict): return {str(k): plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)): return [plain(x) for x in v]
    if isinstance(v, (str, float, int)): return v
    return str(v)
"""
_CALL_AS_CODE = CALL_AS_PRELUDE + r"""
try:
    conn = dbus.bus.BusConnection(req["address"])
    reply = conn.call_blocking(req["dest"], req["path"], req["iface"], req["method"],
                               req["signature"], req["args"], timeout=req["timeout"])
    out = {"ok": True, "value": plain(reply)}
except dbus.exceptions.DBusException as e:
    out = {"ok": False, "error_name": e.get_dbus_name(), "error_message": e.get_dbus_message()}
json.dump(out, sys.stdout)
"""


class BusClient:
    """A connection to the private bus (as root, the test process's user)."""

    def __init__(self, address, timeout=DEFAULT_TIMEOUT):
        self.address = address
        self.timeout = timeout
        self.conn = dbus.bus.BusConnection(address, mainloop=DBusGMainLoop())
        self._recorders = []

    def close(self):
        for r in self._recorders:
            r.remove()
        self._recorders = []
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    # --- plain calls -----------------------------------------------------
    def call(self, path, iface, method, signature="", args=(), dest=HELPER_NAME, timeout=None):
        """Call as root; returns plain values; raises dbus.exceptions.DBusException."""
        reply = self.conn.call_blocking(dest, path, iface, method, signature, list(args),
                                        timeout=timeout or self.timeout)
        return plain(reply)

    def call_error(self, path, iface, method, signature="", args=(), dest=HELPER_NAME, timeout=None):
        """Call as root and return (error_name, message), or (None, value) when it succeeded."""
        try:
            return None, self.call(path, iface, method, signature, args, dest, timeout)
        except dbus.exceptions.DBusException as e:
            return e.get_dbus_name(), e.get_dbus_message()

    def call_as(self, user, path, iface, method, signature="", args=(), dest=HELPER_NAME,
                timeout=None):
        """Call as another local user (setpriv, with that user's groups); returns a CallResult."""
        uid, gid = util.user_ids(user)
        req = {"address": self.address, "dest": dest, "path": path, "iface": iface,
               "method": method, "signature": signature, "args": list(args),
               "timeout": timeout or self.timeout}
        proc = subprocess.run(["setpriv", f"--reuid={uid}", f"--regid={gid}", "--init-groups",
                               "--", util.DEBIAN_PYTHON, "-c", _CALL_AS_CODE],
                              input=json.dumps(req), capture_output=True, text=True,
                              timeout=(timeout or self.timeout) + 15, cwd="/",
                              env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"})
        if proc.returncode != 0 or not proc.stdout:
            raise util.HarnessError(f"call as {user} did not run (exit {proc.returncode}): {proc.stderr}")
        out = json.loads(proc.stdout)
        return CallResult(out["ok"], out.get("value"), out.get("error_name"), out.get("error_message"))

    # --- bus and objects -------------------------------------------------
    def name_has_owner(self, name):
        return bool(self.call("/org/freedesktop/DBus", "org.freedesktop.DBus", "NameHasOwner",
                              "s", [name], dest="org.freedesktop.DBus"))

    def name_owner_pid(self, name):
        owner = self.call("/org/freedesktop/DBus", "org.freedesktop.DBus", "GetNameOwner",
                          "s", [name], dest="org.freedesktop.DBus")
        return int(self.call("/org/freedesktop/DBus", "org.freedesktop.DBus",
                             "GetConnectionUnixProcessID", "s", [owner], dest="org.freedesktop.DBus"))

    def introspect(self, path, dest=HELPER_NAME):
        return self.call(path, "org.freedesktop.DBus.Introspectable", "Introspect", dest=dest)

    def get(self, path, iface, name, dest=HELPER_NAME):
        return self.call(path, PROPS_IFACE, "Get", "ss", [iface, name], dest=dest)

    def get_all(self, path, iface, dest=HELPER_NAME):
        return self.call(path, PROPS_IFACE, "GetAll", "s", [iface], dest=dest)

    def managed_objects(self):
        return self.call(ROOT_PATH, OM_IFACE, "GetManagedObjects")

    def apps(self):
        """{app id: App properties} from the ObjectManager."""
        result = {}
        for path, ifaces in self.managed_objects().items():
            if APP_IFACE in ifaces:
                result[ifaces[APP_IFACE].get("Id", path.rsplit("/", 1)[-1])] = ifaces[APP_IFACE]
        return result

    def version(self):
        return self.get(ROOT_PATH, MANAGER_IFACE, "Version")

    def ping(self):
        """Whether the helper answers a property read."""
        try:
            self.version()
            return True
        except dbus.exceptions.DBusException:
            return False

    # --- jobs --------------------------------------------------------------
    def record_signals(self):
        """Start recording the helper's PropertiesChanged and Completed signals.

        Call it *before* starting a job so no early signal is missed."""
        rec = SignalRecorder(self.conn)
        self._recorders.append(rec)
        return rec

    def scan(self, app_id, options=None, recorder=None):
        """App.Scan as root; returns (job path, recorder watching it)."""
        rec = recorder or self.record_signals()
        job = self.call(app_path(app_id), APP_IFACE, "Scan", "a{sv}", [options or {}])
        return job, rec

    def cancel(self, job, options=None):
        return self.call(job, JOB_IFACE, "Cancel", "a{sv}", [options or {}])

    def wait_job(self, job, recorder, timeout, what="the job"):
        """Run the main loop until `job` has Finished; returns a JobOutcome.

        Raises AssertionError (a test failure, with a clear message) on timeout."""
        deadline = time.monotonic() + timeout
        ctx = GLib.MainContext.default()
        next_poll = 0.0
        props = {}
        while True:
            while ctx.iteration(False):
                pass
            now = time.monotonic()
            # Poll as well as listen: a lost signal must not turn into a hang.
            if recorder.completed(job) is not None or now >= next_poll:
                try:
                    props = self.get_all(job, JOB_IFACE)
                except dbus.exceptions.DBusException:
                    props = {}
                next_poll = now + 0.5
                if props.get("Finished"):
                    # Let a Completed signal already on its way arrive.
                    recorder.pump_until(lambda: recorder.completed(job) is not None, 1.0)
                    break
            if now >= deadline:
                raise AssertionError(
                    f"{what} ({job}) did not finish within {timeout:g} s; last properties: {props}")
            time.sleep(0.01)
        return JobOutcome(job, props, recorder.progress(job), recorder.completed(job),
                          recorder.changes(job))

    def pump(self, seconds):
        """Dispatch pending signals for a while."""
        ctx = GLib.MainContext.default()
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            while ctx.iteration(False):
                pass
            time.sleep(0.01)


class JobOutcome:
    """What was seen of one job: final `props`, every `progress` value seen,
    the `completed` signal's (success, message) or None, and all `changes`."""

    def __init__(self, path, props, progress, completed, changes):
        self.path, self.props, self.progress = path, props, progress
        self.completed, self.changes = completed, changes

    @property
    def success(self):
        return bool(self.props.get("Success"))

    @property
    def message(self):
        return self.props.get("Message", "")

    def __repr__(self):
        return (f"JobOutcome({self.path}, success={self.props.get('Success')}, "
                f"message={self.message!r}, completed={self.completed}, "
                f"progress={self.progress[:5]}...{self.progress[-3:]})")


class SignalRecorder:
    """Records PropertiesChanged and Completed signals of the helper's job objects."""

    def __init__(self, conn):
        self._changes = {}    # path -> [dict of changed properties]
        self._completed = {}  # path -> (success, message)
        self._matches = [
            conn.add_signal_receiver(self._on_props, signal_name="PropertiesChanged",
                                     dbus_interface=PROPS_IFACE, bus_name=HELPER_NAME,
                                     path_keyword="path"),
            conn.add_signal_receiver(self._on_completed, signal_name="Completed",
                                     dbus_interface=JOB_IFACE, bus_name=HELPER_NAME,
                                     path_keyword="path"),
        ]

    def _on_props(self, iface, changed, invalidated, path=None):
        self._changes.setdefault(str(path), []).append((str(iface), plain(changed)))

    def _on_completed(self, success, message, path=None):
        self._completed[str(path)] = (bool(success), str(message))

    def remove(self):
        for m in self._matches:
            m.remove()
        self._matches = []

    def changes(self, path, iface=JOB_IFACE):
        return [c for i, c in self._changes.get(path, []) if i == iface]

    def progress(self, path):
        return [c["Progress"] for c in self.changes(path) if "Progress" in c]

    def completed(self, path):
        return self._completed.get(path)

    def pump(self, seconds=0.0):
        self.pump_until(lambda: False, seconds)

    def pump_until(self, predicate, seconds):
        """Dispatch signals until predicate() is true or `seconds` passed; returns predicate()."""
        ctx = GLib.MainContext.default()
        end = time.monotonic() + seconds
        while True:
            while ctx.iteration(False):
                pass
            if predicate() or time.monotonic() >= end:
                return predicate()
            time.sleep(0.01)

