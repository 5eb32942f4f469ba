"""Stand-ins of NethServer 7's e-smith tools, for the tests' NS7 root.

NS7Root copies this file into `<root>/usr/lib/ns7-standin/` and installs
small wrappers that run it as `<root>/sbin/e-smith/db`, `config`,
`signal-event` and as the actions `initialize-default-databases`,
`runlevel-adjust`, `adjust-services` and `firewall-adjust` of
`<root>/etc/e-smith/events/actions/`.  Template expansion is Perl, as on
NS7 (`expand-template`, `generic_template_expand` and the esmith::*
modules of ns7tree/).  The harness imports it too, to read the root's
databases and calls.

What they reproduce is NS7.md's (shared reference): the database format
and its quirks, the CLI verbs, signal-event's ordering and exit codes,
NethServer::Service's adjust().  Every absolute NS7 path is taken below
the root: the tool's own location gives the root, so a test never needs
to pass it.  systemd is the stand-in on the bus of DBUS_SYSTEM_BUS_ADDRESS;
without that variable the service actions fail rather than reach the
host's systemd.

Every run appends one JSON line to `<root>/var/log/ns7-standin/calls.jsonl`:
{"tool", "argv", "time" (start), "duration", "exit", "pid", "ppid"}.
Only the standard library (and dbus-python for the service actions).
"""

import contextlib
import fcntl
import json
import os
import re
import subprocess
import sys
import time

CALLS = "var/log/ns7-standin/calls.jsonl"
DB_DIR = "var/lib/nethserver/db"
ESMITH = "etc/e-smith"
# esmith::config's header, written on every write.
HEADER = ("# DO NOT MODIFY THIS FILE.\n"
          "# This file is automatically maintained by NethServer\n"
          "# configuration software.  Manually editing this file may put your \n"
          "# system in an unknown state.\n"
          "#\n"
          "# updated: %s\n")
UNIT_SUFFIXES = (".service", ".socket", ".target", ".timer", ".path", ".mount", ".slice", ".scope")
# A `|` not preceded by a backslash separates fields (esmith::db).
_FIELD = re.compile(r"(?<!\\)\|")
_PERL_SPACE = " \t\n\r\f\v"
USAGE_EXIT = 255  # what Perl's die gives when errno is 0


class Die(Exception):
    """Perl's die: message on stderr, non-zero exit."""

    def __init__(self, message, code=USAGE_EXIT):
        super().__init__(message)
        self.code = code


# --- the database file -----------------------------------------------------------

def db_path(root, name):
    """A DB name as esmith::db resolves it, below the root: a name starting
    with / is a path, anything else lives in /var/lib/nethserver/db."""
    if name.startswith("/"):
        return os.path.join(root, name.lstrip("/"))
    return os.path.join(root, DB_DIR, name)


def read_raw(path):
    """{key: raw value} as esmith::config reads it: blank and # lines
    skipped, split at the first =.  A missing file is an empty DB."""
    config = {}
    try:
        with open(path, encoding="utf-8", errors="surrogateescape") as f:
            lines = f.read().split("\n")
    except FileNotFoundError:
        return config
    for line in lines:
        if not line.strip(_PERL_SPACE) or line.lstrip(_PERL_SPACE).startswith("#"):
            continue
        key, sep, value = line.partition("=")
        config[key] = value if sep else None
    return config


def split_record(raw):
    """(type, {prop: value}) of a raw value; newlines unescaped, `\\|` kept."""
    if raw is None or raw == "":
        return None, {}
    fields = _FIELD.split(raw.replace("\\n", "\n"))
    return fields[0], dict(zip(fields[1::2], fields[2::2]))


def join_record(typ, props):
    """The raw value db_set stores: type, then sorted props; newlines escaped."""
    value = "|".join([typ] + [x for p in sorted(props) for x in (p, "" if props[p] is None else props[p])])
    return value.replace("\n", "\\n")


def format_db(config):
    """A DB file's text: the header, then the {key: raw value} sorted."""
    return (HEADER % time.strftime("%a %b %e %H:%M:%S %Y")
            + "".join(f"{key}={config[key]}\n" for key in sorted(config)))


def read_db(path):
    """{key: (type, props)} of a DB file (the harness' reader)."""
    return {k: split_record(v) for k, v in read_raw(path).items()}


class Database:
    """esmith::config's tied hash: a cache of the file, and writes that
    lock, re-read, write `<db>.<pid>` and rename it over the DB."""

    def __init__(self, path):
        self.path = path
        self.config = read_raw(path)

    @contextlib.contextmanager
    def _locked(self):
        lock = self.path + ".lock"
        with open(lock, "a") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(lock)

    def _write(self):
        tmp = f"{self.path}.{os.getpid()}"
        fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o660)
        with os.fdopen(fd, "w", encoding="utf-8", errors="surrogateescape") as f:
            f.write(format_db(self.config))
        os.rename(tmp, self.path)

    def store(self, key, value):
        """STORE: trims, writes only when the value changes.  True if written."""
        if "\n" in value or "\n" in key:
            key, value = key.split("\n", 1)[0], value.split("\n", 1)[0]
        key, value = key.strip(_PERL_SPACE), value.strip(_PERL_SPACE)
        with self._locked():
            self.config = read_raw(self.path)
            if self.config.get(key) == value:
                return False
            self.config[key] = value
            self._write()
        return True

    def delete(self, key):
        key = key.strip(_PERL_SPACE)
        with self._locked():
            self.config = read_raw(self.path)
            previous = self.config.pop(key, None)
            self._write()
        return previous

    def create(self):
        """An empty DB file (esmith::DB->create)."""
        with self._locked():
            self.config = {}
            self._write()

    # esmith::db's functions over the cache
    def get(self, key):
        if key not in self.config:
            return None
        return (self.config[key] or "").replace("\\n", "\n")

    def record(self, key):
        """(type, props), or None when the key is missing."""
        if key not in self.config:
            return None
        return split_record(self.config[key])

    def set(self, key, typ, props=None):
        if "\n" in key:
            return False
        self.store(key, join_record(typ, props or {}))
        return key.strip(_PERL_SPACE) in self.config

    def set_prop(self, key, prop, value):
        rec = self.record(key)
        if rec is None:
            return False
        props = dict(rec[1])
        props[prop] = value
        return self.set(key, rec[0] or "", props)

    def delete_prop(self, key, prop):
        rec = self.record(key)
        if rec is None:
            return False
        props = {p: v for p, v in rec[1].items() if p != prop}
        return self.set(key, rec[0] or "", props)


# --- the db CLI ------------------------------------------------------------------------

_DB_USAGE = {
    "keys": "dbfile keys", "print": "dbfile print [key]", "show": "dbfile show [key]",
    "get": "dbfile get key", "set": "dbfile set key type [prop1 val1] [prop2 val2] ...",
    "setdefault": "dbfile setdefault key type [prop1 val1] [prop2 val2] ...",
    "delete": "dbfile delete key", "printtype": "dbfile printtype [key]",
    "gettype": "dbfile gettype key", "settype": "dbfile settype key type",
    "printprop": "dbfile printprop key [prop1] [prop2] [prop3] ...",
    "getprop": "dbfile getprop key prop",
    "setprop": "dbfile setprop key prop1 val1 [prop2 val2] [prop3 val3] ...",
    "delprop": "dbfile delprop key prop1 [prop2] [prop3] ...",
    "printjson": "dbfile printjson [key]", "getjson": "dbfile getjson [key]",
}


def _usage(verb=None):
    verbs = [verb] if verb else list(_DB_USAGE)
    return "usage:\n" + "".join(f"    db {_DB_USAGE[v]}\n" for v in verbs)


def _out(text):
    sys.stdout.write(text)


def _listing(db, key):
    keys = [key] if key is not None else sorted(db.config)
    if key is not None and key not in db.config:
        return None
    return keys or None


def db_cli(root, argv):
    if not argv or not argv[0]:
        raise Die(_usage())
    dbfile = argv[0]
    if "DBPATH" in os.environ:
        dbfile = os.environ["DBPATH"] + "/" + dbfile
    if len(argv) < 2 or argv[1] not in _DB_USAGE:
        raise Die(_usage())
    db = Database(db_path(root, dbfile))
    verb, args = argv[1], list(argv[2:])
    if args:
        # esmith::config trims the key of every lookup and write.
        args[0] = args[0].strip(_PERL_SPACE)
    key = args[0] if args else None

    def need(cond):
        if not cond:
            raise Die(_usage(verb))

    if verb == "keys":
        keys = sorted(db.config)
        if not keys:
            return 1
        _out("\n".join(keys) + "\n")
    elif verb in ("print", "show", "printtype"):
        keys = _listing(db, key)
        if not keys:
            return 1
        for k in keys:
            typ, props = db.record(k)
            if verb == "print":
                _out(f"{k}={db.get(k)}\n")
                continue
            _out(f"{k}={'' if typ is None else typ}\n")
            if verb == "show" and typ is not None:
                _out("".join(f"    {p}={props[p]}\n" for p in sorted(props)))
    elif verb in ("get", "gettype"):
        need(key)
        if key not in db.config:
            return 1
        _out((db.get(key) if verb == "get" else db.record(key)[0] or "") + "\n")
    elif verb == "getprop":
        need(key and len(args) > 1 and args[1])
        rec = db.record(key)
        if rec is None or args[1] not in rec[1]:
            return 1
        _out(rec[1][args[1]] + "\n")
    elif verb == "printprop":
        need(key)
        rec = db.record(key)
        if rec is None:
            return 1
        wanted = args[1:] or sorted(rec[1])
        shown = [p for p in wanted if p in rec[1]]
        if not args[1:] and not shown:
            return 1
        _out("".join(f"{p}={rec[1][p]}\n" for p in sorted(set(shown))))
    elif verb in ("set", "setdefault"):
        need(key and len(args) > 1 and len(args) % 2 == 0)
        need(verb == "set" or args[1])
        if verb == "setdefault" and key in db.config:
            return 0
        if not db.set(key, args[1]):
            return 1
        _setprops(db, key, args[2:])
    elif verb == "settype":
        need(key and len(args) > 1 and args[1])
        rec = db.record(key)
        return 0 if rec is not None and db.set(key, args[1], rec[1]) else 1
    elif verb == "setprop":
        need(key and len(args) > 1 and len(args) % 2 == 1)
        _setprops(db, key, args[1:])
    elif verb == "delprop":
        need(key and len(args) > 1)
        for prop in args[1:]:
            db.delete_prop(key, prop)
    elif verb == "delete":
        need(key)
        if key not in db.config:
            return 1
        db.delete(key)
    elif verb in ("printjson", "getjson"):
        _out(_json(db, key))
    return 0


def _setprops(db, key, pairs):
    # A Perl hash of the pairs, written one prop at a time in sorted order:
    # one locked write each; nothing at all when the key is missing.
    props = dict(zip(pairs[0::2], pairs[1::2]))
    for prop in sorted(props):
        db.set_prop(key, prop, props[prop])


def _json(db, key):
    if key is not None and key not in db.config:
        return "1"
    out = []
    for k in ([key] if key is not None else sorted(db.config)):
        typ, props = db.record(k)
        if typ is None:
            continue
        item = {"name": k, "type": typ}
        if props:
            item["props"] = {p: props[p] for p in sorted(props)}
        out.append(item)
    return json.dumps(out[0] if key is not None else out, ensure_ascii=False, separators=(",", ":"))


def config_cli(root, argv):
    return db_cli(root, ["configuration"] + list(argv))


# --- signal-event -------------------------------------------------------------------

def events_dir(root):
    return os.path.join(root, ESMITH, "events")


def handlers(root, event):
    """[(sort name, path)] of an event, as esmith::event orders them."""
    handler_dir = os.path.join(events_dir(root), event)
    actions = os.path.join(events_dir(root), "actions")
    try:
        names = os.listdir(handler_dir)
    except OSError as e:
        raise Die(f"Can't open directory /{ESMITH}/events/{event}", e.errno or USAGE_EXIT)
    found = {}
    for name in names:
        path = os.path.join(handler_dir, name)
        if not os.path.isdir(path) and os.access(path, os.X_OK):
            found[path] = name
    if os.path.isdir(os.path.join(handler_dir, "templates2expand")):
        found[os.path.join(actions, "generic_template_expand")] = "S05generic_template_expand"
    if os.path.isdir(os.path.join(handler_dir, "services2adjust")):
        found[os.path.join(actions, "adjust-services")] = "S90adjust-services"
    return sorted(((n, p) for p, n in found.items()), key=lambda item: item[0].encode())


def signal_event(root, argv):
    if not argv:
        raise Die("usage: signal-event event-name [arguments]")
    event, args = argv[0], list(argv[1:])
    if event == "actions":
        sys.stderr.write("'actions' is not a valid event name.\n")
        return 1
    success = True
    with _syslog(root, "esmith::event") as log:
        log(f"Processing event: {' '.join([event] + args)}")
        for name, path in handlers(root, event):
            log(f"Running event handler {name}")
            start = time.time()
            proc = subprocess.Popen([path, event] + args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL)
            for line in proc.stdout:
                log(line.decode(errors="replace").rstrip("\n"))
            status = proc.wait()
            action = "/" + os.path.relpath(path, root)
            log(f"{action}=action|Event|{event}|Action|{action}|Elapsed|{time.time() - start:.3f}"
                + (f"|ExitCode|{status}" if status else ""))
            if status != 0:
                success = False
    return 0 if success else 1


@contextlib.contextmanager
def _syslog(root, tag):
    """Lines for NS7's syslog: <root>/var/log/messages."""
    path = os.path.join(root, "var/log/messages")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "a") as f:
        def log(line):
            f.write(f"{time.strftime('%b %e %H:%M:%S')} ns7 {tag}[{os.getpid()}]: {line}\n")
            f.flush()
        yield log


# --- actions ----------------------------------------------------------------------

def initialize_default_databases(root, argv):
    """Every /etc/e-smith/db/<db>: the DB created if missing, then
    defaults/ (missing props and records only) and force/ (always)."""
    base = os.path.join(root, ESMITH, "db")
    for name in sorted(os.listdir(base)) if os.path.isdir(base) else []:
        if not os.path.isdir(os.path.join(base, name)):
            continue
        db = Database(db_path(root, name))
        if not os.path.exists(db.path):
            db.create()
        for kind in ("defaults", "force"):
            _load_defaults(db, os.path.join(base, name, kind), force=kind == "force")
    return 0


def _load_defaults(db, folder, force):
    if not os.path.isdir(folder):
        return
    for key in sorted(k for k in os.listdir(folder) if not k.startswith(".")):
        if not os.path.isdir(os.path.join(folder, key)):
            sys.stderr.write(f"Found non-directory {key} in {folder}\n")
            continue
        rec = db.record(key)
        props = {}
        for prop in sorted(p for p in os.listdir(os.path.join(folder, key)) if not p.startswith(".")):
            if not force and rec is not None and (prop == "type" or prop in rec[1]):
                continue
            with open(os.path.join(folder, key, prop), encoding="utf-8", errors="surrogateescape") as f:
                value = f.read()
            props[prop] = value[:-1] if value.endswith("\n") else value
        if not props:
            continue
        typ = props.pop("type", rec[0] if rec is not None else "")
        merged = dict(rec[1]) if rec is not None else {}
        merged.update(props)
        db.set(key, typ, merged)


class Systemd:
    """The systemd stand-in, as systemctl would drive it."""

    NAME = "org.freedesktop.systemd1"
    PATH = "/org/freedesktop/systemd1"
    MANAGER = "org.freedesktop.systemd1.Manager"

    def __init__(self):
        address = os.environ.get("DBUS_SYSTEM_BUS_ADDRESS")
        if not address:
            raise Die("DBUS_SYSTEM_BUS_ADDRESS is not set: the NS7 stand-ins only drive the tests' systemd",
                      1)
        import dbus
        import dbus.bus
        self.dbus = dbus
        self.bus = dbus.bus.BusConnection(address)
        self.manager = dbus.Interface(self.bus.get_object(self.NAME, self.PATH), self.MANAGER)

    def file_state(self, unit):
        """UnitFileState, or None when systemd has no such unit."""
        try:
            return str(self.manager.GetUnitFileState(unit))
        except self.dbus.exceptions.DBusException as e:
            if e.get_dbus_name() == "org.freedesktop.systemd1.NoSuchUnit":
                return None
            raise

    def active(self, unit):
        obj = self.bus.get_object(self.NAME, self.manager.LoadUnit(unit))
        return str(obj.Get("org.freedesktop.systemd1.Unit", "ActiveState",
                           dbus_interface="org.freedesktop.DBus.Properties")) == "active"

    def enable(self, unit, on):
        if on:
            changes = self.manager.EnableUnitFiles([unit], False, False)[1]
        else:
            changes = self.manager.DisableUnitFiles([unit], False)
        if changes:
            self.manager.Reload()

    def job(self, verb, unit):
        getattr(self.manager, verb + "Unit")(unit, "replace")


def unit_name(key):
    return key if key.endswith(UNIT_SUFFIXES) else key + ".service"


def owned(root, key):
    """NethServer::Service::is_owned: the owning package ships the defaults' type."""
    try:
        with open(os.path.join(root, ESMITH, "db/configuration/defaults", key, "type")) as f:
            return f.readline().rstrip("\n") == "service"
    except OSError:
        return False


def adjust(root, systemd, db, key, log):
    """NethServer::Service::adjust: returns 'start', 'stop' or ''."""
    rec = db.record(key)
    if rec is None or rec[0] != "service":
        return ""
    unit = unit_name(key)
    state = systemd.file_state(unit)
    if state is None:
        # A real NS7 has the unit of every owned service record; the stand-in
        # may not model it.
        log(f"[WARNING] {unit}: no such unit on the systemd stand-in, skipped")
        return ""
    if state == "masked":
        log(f"[INFO] {unit} is masked, skipped")
        return ""
    wanted = rec[1].get("status") == "enabled" and owned(root, key)
    systemd.enable(unit, wanted)
    if wanted != systemd.active(unit):
        systemd.job("Start" if wanted else "Stop", unit)
        log(f"[INFO] {unit} {'started' if wanted else 'stopped'}")
        return "start" if wanted else "stop"
    return ""


def runlevel_adjust(root, argv):
    systemd = Systemd()
    db = Database(db_path(root, "configuration"))
    errors = 0
    for key in sorted(db.config):
        typ, props = db.record(key)
        if typ == "service" and props.get("status") in ("enabled", "disabled"):
            try:
                adjust(root, systemd, db, key, _warn)
            except systemd.dbus.exceptions.DBusException as e:
                _warn(f"[ERROR] {key}: {e.get_dbus_message()}")
                errors += 1
    return 0 if errors == 0 else 1


def _warn(line):
    sys.stderr.write(line + "\n")


def adjust_services(root, argv):
    if not argv:
        raise Die("must give event name parameter")
    folder = os.path.join(events_dir(root), argv[0], "services2adjust")
    if not os.path.isdir(folder):
        return 0
    systemd = Systemd()
    db = Database(db_path(root, "configuration"))
    errors = 0
    for service in sorted(s for s in os.listdir(folder) if not s.startswith(".")):
        try:
            action = adjust(root, systemd, db, service, _warn)
            rec = db.record(service)
            if action == "start":
                actions = [a for a in _actions(folder, service) if a not in ("restart", "reload")]
            elif action == "stop":
                actions = []
            elif rec and rec[0] == "service" and rec[1].get("status") == "enabled" and owned(root, service):
                actions = _actions(folder, service)
            else:
                _warn(f"[INFO] {service}: skipped")
                actions = []
            for a in actions:
                if a in ("restart", "reload", "start", "stop"):
                    systemd.job(a.capitalize(), unit_name(service))
                    _warn(f"[INFO] service {service} {a}")
        except systemd.dbus.exceptions.DBusException as e:
            _warn(f"[WARNING] {service}: {e.get_dbus_message()}")
            errors += 1
    return 0 if errors == 0 else 1


def _actions(folder, service):
    path = os.path.join(folder, service)
    if os.path.islink(path):
        return [os.readlink(path)]
    with open(path) as f:
        # Each line's first [a-z]+ word: "try-restart" is "try", which does nothing.
        return [m.group(1) for m in (re.search(r"([a-z]+[12]?)", line) for line in f) if m]


def firewall_adjust(root, argv):
    return subprocess.call([os.path.join(root, "sbin/e-smith/signal-event"), "nethserver-firewall-base-save"])


TOOLS = {
    "db": db_cli, "config": config_cli, "signal-event": signal_event,
    "initialize-default-databases": initialize_default_databases, "runlevel-adjust": runlevel_adjust,
    "adjust-services": adjust_services, "firewall-adjust": firewall_adjust,
}


# --- calls ---------------------------------------------------------------------------

def record_call(root, tool, argv, start, code):
    entry = {"tool": tool, "argv": list(argv), "time": start, "duration": round(time.time() - start, 6),
             "exit": code, "pid": os.getpid(), "ppid": os.getppid()}
    path = os.path.join(root, CALLS)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    # One write of one line in append mode: concurrent tools do not interleave.
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, (json.dumps(entry) + "\n").encode())
    finally:
        os.close(fd)


def read_calls(root):
    try:
        with open(os.path.join(root, CALLS)) as f:
            return [json.loads(line) for line in f if line.strip()]
    except FileNotFoundError:
        return []


def run(tool):
    """Entry point of the wrappers: runs `tool` with sys.argv, records the call, exits."""
    root = os.path.realpath(os.path.join(os.path.dirname(os.path.realpath(__file__)), "../../.."))
    argv = sys.argv[1:]
    start = time.time()
    code = 1
    try:
        code = TOOLS[tool](root, argv)
    except Die as e:
        sys.stderr.write(str(e).rstrip("\n") + "\n")
        code = e.code
    finally:
        sys.stdout.flush()
        record_call(root, tool, argv, start, code)
    sys.exit(code)


if __name__ == "__main__":
    run(os.path.basename(sys.argv[0]))
