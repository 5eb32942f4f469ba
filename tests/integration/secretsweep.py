"""A sweep for the migration's secrets in every place the helper writes or
shows something, for a test that runs a whole migration (test_finish's
FullMigrationTest): start a Sweep before Connect, finish() it after the
migration.

The secrets: the NS8 administrator's password (the cluster fixture), the
NS7 MariaDB password and the phonebook database password (the sandbox),
and whatever the helper keeps in its secrets directory while it runs (the
WireGuard private key, the migration account's password, the rsync module
password NS8 gave), read there as the run goes.

The places:
- the helper's log file and its standard error;
- the journal: the helper sends MESSAGE (the log line without its time and
  level) and the NS8M_* context fields (a job number, an operation, an
  object path, a step id) (core/log.cpp): the log-file check covers
  MESSAGE, and the other fields hold no free text.  (The sandbox has no
  journal to capture.)
- every property of every object on the bus, Job Messages included
  (walked by introspection from the root), at the end;
- the state database (its bytes, the WAL file's too);
- /proc/<pid>/cmdline and /proc/<pid>/environ of every descendant of the
  helper, sampled every 50 ms during the run.

What is asserted for a child's environment: argv is readable by every user
and must never hold a secret.  /proc/<pid>/environ is readable only by the
process's owner (and root); a secret there is accepted only when the
process runs as root (so only root reads it): rsync gets RSYNC_PASSWORD
that way, the MariaDB tools get their password through an option file.  A
child running as another user with a secret in its environment fails.
"""

import os
import re
import threading
import time
import xml.etree.ElementTree as ET

from harness.client import plain

ROOT = "/org/nethserver/Ns8Migration1"
STANDARD = ("org.freedesktop.DBus.",)


def _read(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return None


def _uid(pid):
    status = _read("/proc/%d/status" % pid) or b""
    m = re.search(rb"^Uid:\s+(\d+)\s+(\d+)", status, re.M)
    return int(m.group(2)) if m else None


class Sweep:
    def __init__(self, test):
        self.test = test
        self.secrets_dir = os.path.join(test.sb.state_dir, "secrets")
        self.secrets = {}  # value (bytes) -> what it is
        self.add(test.cluster.admin.password, "the NS8 administrator's password")
        if test.sb.mysql is not None:
            self.add(test.sb.mysql.password, "the NS7 MariaDB password")
        self.add(getattr(test.sb.ns7, "phonebook_password", None), "the phonebook database password")
        self.seen = {}  # (pid, uid, cmdline, environ) samples, by (pid, cmdline)
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def add(self, value, what):
        if value:
            value = value.encode() if isinstance(value, str) else value
            value = value.strip()
            if len(value) >= 8:  # shorter would match unrelated bytes
                self.secrets.setdefault(value, what)

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._stop.set()
        self._thread.join(10)

    # -- sampling ----------------------------------------------------------------
    def _descendants(self, top):
        children = {}
        for name in os.listdir("/proc"):
            if not name.isdigit():
                continue
            stat = _read("/proc/%s/stat" % name)
            if not stat:
                continue
            fields = stat[stat.rfind(b")") + 2:].split()
            children.setdefault(int(fields[1]), []).append(int(name))
        out, todo = [], [top]
        while todo:
            for c in children.get(todo.pop(), []):
                out.append(c)
                todo.append(c)
        return out

    def _read_secrets_dir(self):
        try:
            names = os.listdir(self.secrets_dir)
        except OSError:
            return
        for n in names:
            self.add(_read(os.path.join(self.secrets_dir, n)), "the helper's secret file " + n)

    def _run(self):
        while not self._stop.is_set():
            self._read_secrets_dir()
            pid = self.test.sb.helper.pid
            if pid:
                for child in self._descendants(pid):
                    cmdline = _read("/proc/%d/cmdline" % child)
                    environ = _read("/proc/%d/environ" % child)
                    if cmdline is None:
                        continue
                    key = (child, cmdline)
                    if key not in self.seen or (environ and not self.seen[key][3]):
                        self.seen[key] = (child, _uid(child), cmdline, environ or b"")
            self.samples += 1
            time.sleep(0.05)

    # -- the sweep ---------------------------------------------------------------
    def _bus_properties(self):
        """{(path, interface): properties} of every object under ROOT."""
        bus = self.test.bus
        out, todo = {}, [ROOT]
        while todo:
            path = todo.pop()
            xml = ET.fromstring(bus.introspect(path))
            for iface in xml.findall("interface"):
                name = iface.get("name")
                if not name.startswith(STANDARD) and iface.findall("property"):
                    out[(path, name)] = plain(bus.get_all(path, name))
            for node in xml.findall("node"):
                todo.append(path.rstrip("/") + "/" + node.get("name"))
        return out

    def _places(self):
        """(where, bytes) of every place that must not hold a secret."""
        sb = self.test.sb
        log = _read(os.path.join(sb.root, "var/log/ns8-migration.log")) or b""
        yield "the log file", log
        yield "the helper's standard error", sb.helper.log().encode()
        for (path, iface), props in self._bus_properties().items():
            for name, value in props.items():
                yield "the property %s.%s of %s" % (iface, name, path), str(value).encode()
        for suffix in ("", "-wal", "-journal"):
            data = _read(os.path.join(sb.state_dir, "state.db" + suffix))
            if data:
                yield "the state database" + suffix, data

    def finish(self):
        """Stop sampling and assert that no secret is anywhere it must not be."""
        self.stop()
        self._read_secrets_dir()
        t = self.test
        t.assertGreaterEqual(len(self.secrets), 5, "too few secrets to look for: %s" % sorted(self.secrets.values()))
        t.assertGreater(len(self.seen), 0, "no child of the helper was sampled")
        found = []
        for where, data in self._places():
            for value, what in self.secrets.items():
                if value in data:
                    found.append("%s in %s" % (what, where))
        children_with_env_secret = 0
        for pid, uid, cmdline, environ in self.seen.values():
            argv = cmdline.replace(b"\0", b" ").decode(errors="replace")[:120]
            for value, what in self.secrets.items():
                if value in cmdline:
                    found.append("%s in the argv of %d (%s)" % (what, pid, argv))
                if value in environ:
                    children_with_env_secret += 1
                    if uid != 0:
                        found.append("%s in the environment of %d, running as uid %s (%s)" % (what, pid, uid, argv))
        t.assertEqual(found, [])
        return {"secrets": len(self.secrets), "children": len(self.seen), "samples": self.samples,
                "root children with a secret in their environment": children_with_env_secret}
