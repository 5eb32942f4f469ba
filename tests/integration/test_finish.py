"""App.Finish of NethVoice, end to end, against the simulated NS8 cluster:
the cutover of a generated NS7 (20 000+ files, a few hundred MB, MariaDB
with the NethVoice databases and a live call history, an astdb) into the
module, checked the way an administrator would check it — the module's
volumes hold what NETHVOICE.md prescribes, NS8's import (the simulator does
what the module's import-module and configure-module do with state/: the
astdb dump through sqlite3, restore/ through MariaDB's entrypoint into the
module's own MariaDB, restore_background/ at configure-module) succeeded and
the module's databases hold every row of NS7's, configure-module got the
right values and nothing else, NS7's services were stopped and disabled, the
old address links to the new ones — and its failures: bad FQDNs refused
before any change, a failing configure-module, the helper killed in the
middle, an import that NS8 fails (no astdb dump; an SQLite dump named
*.sql); each retried to success."""

import collections
import os
import random
import re
import shutil
import sqlite3
import subprocess
import tempfile
import threading
import time

import dbus

import ns7expect
import secretsweep
from clusterfixture import ERR, GOOD, ROOT, USER_DOMAIN, MigrationTestCase
from harness.client import APP_IFACE, JOB_IFACE, MANAGER_IFACE
from harness.mariadb import NETHVOICE_DATABASES, LivePbx
from harness.ns7root import CUSTOM_AGI, STOCK_AGI
from harness.pbx import RunningPbx
from harness.systemd_standin import NETHVOICE_UNITS

APP = ROOT + "/apps/nethvoice"
STEPS = ["check", "presync", "stop", "sync", "dump", "upload", "verify", "terminate", "import", "configure",
         "retire", "redirect"]
# The astdb dump, named as NS8's import-module reads it (NETHVOICE.md).
ASTDB_DUMP = "astdb.sqlite3.dump"
# state/restore/ as the helper sends it when NS7 has no hotel databases (roomsdb, fias).
RESTORE_FILES = {"10_asterisk_structure.sql", "20_nethcti3_structure.sql", "20_phonebook_structure.sql",
                 "30_asteriskcdrdb_structure.sql", "60_asterisk_data.sql", "70_nethcti3_data.sql",
                 "70_phonebook_data.sql", ASTDB_DUMP}
# What NS8's import-module writes into restore/ itself before MariaDB's
# entrypoint runs the folder.
NS8_RESTORE_SCRIPTS = ["99permissions.sh", "zz_restore.sh"]
CHUNK = re.compile(r"^80_asteriskcdrdb_data_(\d{6})_(cdr|cel|queue_log)\.sql$")
INCREMENTAL = ("cdr", "cel", "queue_log")
# NS7's units: quiesced before the final pass, and the ones NethVoice's
# retirement must leave alone (the web server serves the redirect page; the
# database server may serve other apps).
# Every NethVoice service that writes what is migrated (apps/nethvoice.yaml):
# stopped before the last sync and the dumps.
QUIESCE = ["asterisk.service", "nethcti-server.service", "httpd-fpbx.service", "tancredi.service",
           "phonebookjss.service", "nethvoice-report-api.service", "fias.service", "fias-dispatcher.service"]
NOT_NETHVOICE = {"httpd.service", "mariadb.service"}
NETHVOICE_SERVICES = sorted(set(NETHVOICE_UNITS) - NOT_NETHVOICE)
# The systemd calls that change something (reads such as LoadUnit do not).
CHANGES_UNITS = {"StartUnit", "StopUnit", "RestartUnit", "ReloadUnit", "EnableUnitFiles", "DisableUnitFiles"}
PAGE = "var/www/html/ns8-migration/nethvoice.html"
# NS7's web server configuration is templated: the redirect is the package's
# 00ns8migration.conf, expanded from the app's ns8-redirect record.
REDIRECT_CONF = "etc/httpd/conf.d/00ns8migration.conf"
REDIRECT_KEY = "ns8-migration-redirect-nethvoice"
REDIRECT_PATHS = ["/freepbx", "/nethvoice", "/cti", "/nethcti", "/tancredi"]
# The NethVoice services NS7 governs by an e-smith record (the profile's
# services: governed:) and that the test NS7 has a record for.
RECORD_SERVICES = ["asterisk", "httpd-fpbx", "janus-gateway", "nethcti-server", "phonebookjss"]
# What NS7's own tools rewrite as Finish goes through them: the
# configuration database (service status, the redirect record) and the
# redirect's expanded template; and the stand-ins' record of their calls.
ESMITH_CHANGED = {"var/lib/nethserver/db/configuration", REDIRECT_CONF}
STANDIN_LOG = "var/log/ns7-standin/"
# NS7's system log, where its tools (the stand-ins) log what they do.
SYSLOG = "var/log/messages"


def esmith_set(path, key, value=None, **props):
    """Change one record of an e-smith DB file (type when `value`, else props)."""
    with open(path) as f:
        lines = f.read().splitlines()
    for i, line in enumerate(lines):
        k, _, rest = line.partition("=")
        if k != key:
            continue
        parts = rest.split("|")
        typ, pairs = parts[0], dict(zip(parts[1::2], parts[2::2]))
        pairs.update(props)
        lines[i] = k + "=" + "|".join([value or typ] + [x for p in sorted(pairs) for x in (p, pairs[p])])
        break
    else:
        raise AssertionError("no record %s in %s" % (key, path))
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def esmith_get(path, key, prop=None):
    with open(path) as f:
        for line in f:
            k, _, rest = line.rstrip("\n").partition("=")
            if k == key:
                parts = rest.split("|")
                return parts[0] if prop is None else dict(zip(parts[1::2], parts[2::2])).get(prop)
    return None


class FinishTestCase(MigrationTestCase):
    """What every Finish test needs: a connected, scanned helper, a Start,
    and the checks of a completed cutover."""

    CLUSTER = {"nodes": 1, "modules": [], "task_delay": 0.1}
    SANDBOX = {"files": 400, "cdr_rows": 300}

    # -- calls -------------------------------------------------------------------
    def start(self, **fields):
        props = super().start(timeout=900, **fields)
        self.assertEqual(self.app()["Status"], "migrating")
        return props

    def finish_call(self, options):
        return self.app_call("Finish", "a{sv}", [options])

    def state_rows_db(self, sql, params=()):
        """Rows of the helper's state database, read-only."""
        db = sqlite3.connect("file:%s?mode=ro" % os.path.join(self.sb.state_dir, "state.db"), uri=True, timeout=10)
        try:
            return db.execute(sql, params).fetchall()
        finally:
            db.close()

    def finish_until_stopped(self, mid):
        """A Finish held at configure-module (the simulator makes it slow)
        and watched until it stopped httpd-fpbx: (job, the systemd calls
        before it, the step it is in)."""
        self.cluster.control.fault("slow", action="configure-module", agent="module/" + mid, delay=60, count=1)
        n_calls = len(self.calls())
        err, job = self.finish_call({"accept_warnings": True})
        self.assertIsNone(err, job)
        deadline = time.monotonic() + 300
        while ("StopUnit", "httpd-fpbx.service") not in [(c["method"], c.get("unit")) for c in self.calls(n_calls)]:
            self.assertLess(time.monotonic(), deadline, "Finish did not stop httpd-fpbx")
            self.assertFalse(self.bus.get(job, JOB_IFACE, "Finished"), self.bus.get_all(job, JOB_IFACE))
            time.sleep(0.02)
        return job, n_calls, self.bus.get(job, JOB_IFACE, "CurrentStep")

    def finish_ok(self, options, timeout=600, probe=None):
        """Finish to its end, watching it: (final job properties, every App
        Status value seen while it ran).  The steps it went through, polled
        and signalled, must follow the planned order.  PROBE, when given, is
        called once while the job runs."""
        rec = self.bus.record_signals()
        try:
            err, job = self.finish_call(options)
            self.assertIsNone(err, job)
            statuses, polled = self.watch(job, timeout, probe)
            outcome = self.bus.wait_job(job, rec, 30, "Finish")
            statuses += [c["Status"] for c in rec.changes(APP, APP_IFACE) if "Status" in c]
            signalled = [c["CurrentStep"] for c in rec.changes(job) if "CurrentStep" in c]
        finally:
            rec.remove()
        props = outcome.props
        self.assertTrue(props["Success"], props["Message"])
        for steps in (polled, signalled):
            seen = [s for i, s in enumerate(steps) if s and (i == 0 or steps[i - 1] != s)]
            self.assertEqual(seen, sorted(set(seen), key=lambda s: STEPS.index(s) if s in STEPS else -1),
                             "steps out of the planned order %s: %s" % (STEPS, seen))
        return props, statuses

    def retry_finish_ok(self):
        """A Finish run again after a failed one succeeds completely: NS8 holds
        what NS7 holds and NS7's app is retired."""
        n_calls = len(self.calls())
        running = [n for n in NETHVOICE_SERVICES if self.unit(n)["ActiveState"] == "active"]
        enabled = [n for n in NETHVOICE_SERVICES if self.unit(n)["UnitFileState"] == "enabled"]
        self.finish_ok({"accept_warnings": True})
        self.assertEqual(self.app()["Status"], "migrated")
        srv = self.srv()
        self.assert_module_matches_ns7(srv)
        self.assert_agi_bin(srv)
        module = self.module()
        self.assert_restored(module)
        self.assert_module_databases(module)
        self.assert_astdb(module)
        self.assert_configuration(module, GOOD, False)
        self.assert_retired(self.calls(n_calls), running, enabled)
        self.assert_retired_for_good()
        self.assert_dumps_removed()

    def assert_dumps_removed(self):
        """After a successful Finish the dumps of the whole databases (and
        the call history's chunks) are gone from the helper's state."""
        work = os.path.join(self.sb.state_dir, "apps", "nethvoice")
        self.assertEqual(sorted(os.listdir(work)) if os.path.isdir(work) else [], [])
        self.assertEqual(self.state_rows_db("SELECT COUNT(*) FROM chunks"), [(0,)])

    def watch(self, job, timeout, probe=None):
        """Poll a job and the app until the job ends: (statuses, steps) seen."""
        statuses, steps = [], []
        deadline = time.monotonic() + timeout
        while True:
            props = self.bus.get_all(job, JOB_IFACE)
            steps.append(props["CurrentStep"])
            statuses.append(self.app()["Status"])
            if props["Finished"]:
                return statuses, steps
            if probe:
                probe()
                probe = None
            self.assertLess(time.monotonic(), deadline, "Finish did not end within %d s: %s" % (timeout, props))
            time.sleep(0.1)

    # -- NS8 -----------------------------------------------------------------------
    def srv(self):
        return self.module()["srv"]

    def state_files(self, srv, folder):
        d = os.path.join(srv, "state", folder)
        return sorted(os.listdir(d)) if os.path.isdir(d) else []

    def configure_requests(self, since=0):
        return [r for r in self.cluster.control.requests(since=since) if r.get("action") == "configure-module"]

    # -- NS7 -----------------------------------------------------------------------
    def calls(self, since=0):
        return self.sb.systemd.calls()[since:]

    def unit(self, name):
        return self.sb.systemd.unit_state(self.bus, name)

    def ns7_snapshot(self):
        # Everything but the migration's own log, which the helper appends
        # to, and the stand-ins' record of NS7's tools.
        return {p: v for p, v in ns7expect.tree(self.sb.root).items()
                if p not in ("var/log/ns8-migration.log", SYSLOG) and not p.startswith(STANDIN_LOG)}

    def record_status(self):
        """{service: status} of the NethVoice records in NS7's configuration database."""
        db = self.sb.ns7.db()
        return {k: db[k][1].get("status") for k in RECORD_SERVICES if k in db}

    def adjust_services(self):
        """NS7's service adjustment, as a software update runs it."""
        r = self.sb.ns7.signal_event("runlevel-adjust")
        self.assertEqual(r.returncode, 0, r.stderr)

    def assert_retired_for_good(self):
        """The records say disabled, and NS7's own service adjustment (run by
        every software update) leaves every NethVoice service stopped and
        disabled: no second PBX on NS7."""
        self.assertEqual(self.record_status(), {k: "disabled" for k in RECORD_SERVICES})
        self.adjust_services()
        for name in NETHVOICE_SERVICES:
            props = self.unit(name)
            self.assertEqual((name, props["ActiveState"], props["UnitFileState"]), (name, "inactive", "disabled"))

    def assert_back_the_ns7_way(self):
        """After a failed Finish that started them again: the records are
        enabled again, so NS7's service adjustment keeps them running."""
        self.assertEqual(self.record_status(), {k: "enabled" for k in RECORD_SERVICES})
        self.adjust_services()
        for name in QUIESCE:
            if NETHVOICE_UNITS[name]["ActiveState"] == "active":
                props = self.unit(name)
                self.assertEqual((name, props["ActiveState"], props["UnitFileState"]), (name, "active", "enabled"))

    def nethvoice_running(self):
        """The NethVoice units of NS7 that run now."""
        return sorted(n for n in NETHVOICE_SERVICES if self.unit(n)["ActiveState"] == "active")

    # -- checks ----------------------------------------------------------------------
    def assert_module_matches_ns7(self, srv, ns7=None):
        """The module's volumes/ hold what NETHVOICE.md says for NS7 as it is
        (`ns7`: its tree() when the caller has it); returns what they hold."""
        got = ns7expect.received(srv)
        missing, extra, wrong = ns7expect.differences(ns7expect.expected(self.sb.root, ns7), got)
        self.assertEqual((missing[:5], extra[:5], wrong[:5]), ([], [], []),
                         "%d missing, %d extra, %d different" % (len(missing), len(extra), len(wrong)))
        return got

    def restore_log(self, module, phase, task=None):
        """The module's restore log (the simulator's record of what its
        import-module and configure-module loaded) for one phase: the
        entries of `task`, else of the last task of that phase."""
        entries = [e for e in module["restore_log"] if e["phase"] == phase]
        if task is None and entries:
            task = entries[-1]["task"]
        return [e for e in entries if e["task"] == task]

    def task_exit_code(self, module_id, task_id):
        for t in self.cluster.control.state()["tasks"]:
            if t["id"] == task_id and t["agent"] == "module/" + module_id:
                return t["exit_code"]
        self.fail("no task %s of module %s" % (task_id, module_id))

    def assert_restored(self, module):
        """NS8's import-module took the helper's state/restore/ as the module
        does and succeeded: the astdb dump (exactly the name it reads) loaded
        and deleted, then every dump file through MariaDB's entrypoint in name
        order, none failing and nothing else; configure-module then loaded
        every state/restore_background/ file (the base data and the call
        history's chunks) and deleted it.  Returns the import's log."""
        srv = module["srv"]
        imported = self.restore_log(module, "import")
        self.assertTrue(imported, "NS8's import-module did not run")
        self.assertEqual(self.task_exit_code(module["id"], imported[0]["task"]), 0,
                         [(e["file"], e["status"], e.get("error")) for e in imported])
        sql = sorted(RESTORE_FILES - {ASTDB_DUMP})
        self.assertEqual([(e["file"], e["status"]) for e in imported],
                         [("restore/" + ASTDB_DUMP, "loaded")]
                         + [("restore/" + n, "loaded") for n in sql]
                         + [("restore/99permissions.sh", "ran"), ("restore/zz_restore.sh", "ended the run")])
        self.assertEqual(self.state_files(srv, "restore"), sorted(sql + NS8_RESTORE_SCRIPTS))
        background = self.restore_log(module, "configure")
        self.assertEqual([e["status"] for e in background], ["loaded"] * len(background),
                         [(e["file"], e.get("error")) for e in background])
        names = [e["file"].split("/", 1)[1] for e in background]
        self.assertEqual(names, sorted(names))
        self.assertIn("80_asteriskcdrdb_data.sql", names)
        chunks = [CHUNK.match(n) for n in names if n != "80_asteriskcdrdb_data.sql"]
        self.assertNotIn(None, chunks, names)
        for table in INCREMENTAL:
            self.assertTrue([m for m in chunks if m.group(2) == table], "no chunk of %s: %s" % (table, names))
        seqs = [m.group(1) for m in chunks]
        self.assertEqual(len(seqs), len(set(seqs)), "chunk sequence numbers repeat: %s" % names)
        self.assertEqual([n for n in self.state_files(srv, "restore_background") if n.endswith(".sql")], [])
        return imported

    def assert_module_databases(self, module):
        """The module's MariaDB, as NS8's import and configure-module left it,
        holds every table of NS7's NethVoice databases with the same rows."""
        control = self.cluster.control
        got_tables = control.module_tables(module["id"], NETHVOICE_DATABASES)
        got = control.module_table_rows(module["id"], NETHVOICE_DATABASES)
        want = self.sb.mysql.table_rows(NETHVOICE_DATABASES)
        self.assertEqual(got_tables, sorted(want))
        problems = []
        for name in sorted(want):
            missing, extra = want[name] - got[name], got[name] - want[name]
            if missing or extra:
                problems.append("%s: %d rows missing (e.g. %s), %d extra (e.g. %s)" % (
                    name, sum(missing.values()), list(missing)[:1], sum(extra.values()), list(extra)[:1]))
        self.assertEqual(problems, [])
        return want

    def assert_astdb(self, module):
        """The module's astdb holds NS7's keys but the volatile families."""
        got = self.cluster.control.module_astdb(module["id"])
        want = ns7expect.astdb_expected(os.path.join(self.sb.root, "var/lib/asterisk/astdb.sqlite3"))
        self.assertEqual(got, want)

    def assert_agi_bin(self, srv):
        """Only the administrator's own scripts moved: none of the stock ones
        (of either list of NETHVOICE.md), so none of the image's is replaced."""
        folder = os.path.join(srv, "volumes", "agi-bin")
        got = sorted(os.path.relpath(os.path.join(d, n), folder) for d, _, files in os.walk(folder) for n in files)
        self.assertEqual(got, sorted(CUSTOM_AGI))
        self.assertLessEqual(set(STOCK_AGI), set(os.listdir(os.path.join(self.sb.root, "var/lib/asterisk/agi-bin"))),
                             "the sample NS7 lacks stock scripts")

    def assert_configuration(self, module, hosts, lets_encrypt):
        conf = module["configuration"]
        self.assertIsNotNone(conf, "configure-module was not run")
        # Only keys NethVoice's schema or its configure-module reads (the
        # simulator logs the others).
        self.assertEqual(module["configure_history"][-1]["unknown_keys"], [], conf)
        cfg = os.path.join(self.sb.root, "var/lib/nethserver/db/configuration")
        self.assertEqual(conf["nethvoice_host"], hosts["nethvoice_host"])
        self.assertEqual(conf["nethcti_ui_host"], hosts["nethcti_ui_host"])
        self.assertIs(conf.get("lets_encrypt"), lets_encrypt)
        self.assertEqual(conf["user_domain"], USER_DOMAIN)
        self.assertEqual(conf["reports_international_prefix"],
                         esmith_get(cfg, "nethvoice-report", "international_prefix"))
        self.assertEqual(conf["timezone"], esmith_get(cfg, "TimeZone"))

    def assert_retired(self, calls, running_before, enabled_before):
        """The calls of a successful Finish: the quiesced units stopped first
        (asterisk, the one callers notice, before the others), then the other
        running NethVoice units stopped and the enabled ones disabled, then
        httpd reloaded; nothing else touched."""
        methods = [(c["method"], c.get("unit")) for c in calls]
        stop_fpbx = methods.index(("StopUnit", "asterisk.service"))
        stops = [u for m, u in methods if m == "StopUnit"]
        quiesced = [n for n in QUIESCE if n in running_before]
        self.assertEqual(stops[:len(quiesced)], quiesced, calls)
        for name in running_before:
            if name != "asterisk.service":
                self.assertIn(("StopUnit", name), methods[stop_fpbx + 1:], calls)
        disabled = [u for c in calls if c["method"] == "DisableUnitFiles" for u in c["units"]]
        for name in enabled_before:
            self.assertIn(name, disabled)
        first_disable = min(i for i, c in enumerate(calls) if c["method"] == "DisableUnitFiles")
        self.assertGreater(first_disable, stop_fpbx)
        reloads = [i for i, c in enumerate(calls) if c["method"] == "ReloadUnit" and c.get("unit") == "httpd.service"]
        self.assertTrue(reloads, "httpd.service was not reloaded: %s" % methods)
        self.assertGreater(reloads[-1], first_disable)
        for c in calls:
            touched = [c.get("unit")] + list(c.get("units") or [])
            if c["method"] in ("StopUnit", "DisableUnitFiles", "RestartUnit"):
                self.assertFalse(NOT_NETHVOICE & set(touched), c)
        for name in NETHVOICE_SERVICES:
            props = self.unit(name)
            self.assertEqual((name, props["ActiveState"], props["UnitFileState"]), (name, "inactive", "disabled"))
        for name in NOT_NETHVOICE:
            self.assertEqual(self.unit(name)["ActiveState"], "active", name)

    def assert_redirect_page(self, hosts):
        with open(os.path.join(self.sb.root, PAGE)) as f:
            page = f.read()
        for key in ("nethvoice_host", "nethcti_ui_host"):
            self.assertIn("https://%s/" % hosts[key], page)
        record = self.sb.ns7.db().get(REDIRECT_KEY)
        self.assertIsNotNone(record, "no redirect record")
        self.assertEqual(record[0], "ns8-redirect")
        self.assertEqual(record[1]["Paths"].split(","), REDIRECT_PATHS)
        self.assert_redirect_conf()
        # Any later expansion of the web server's templates keeps it.
        r = self.sb.ns7.signal_event("nethserver-httpd-save")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assert_redirect_conf()
        r = self.sb.ns7.expand_template("/" + REDIRECT_CONF)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assert_redirect_conf()

    def assert_redirect_conf(self):
        with open(os.path.join(self.sb.root, REDIRECT_CONF)) as f:
            conf = f.read()
        self.assertIn("Alias /ns8-migration/nethvoice.html /" + PAGE, conf)
        for path in REDIRECT_PATHS:
            self.assertIn("\nRedirectMatch 302 ^%s(/.*)?$ /ns8-migration/nethvoice.html\n" % path, conf)

    def assert_not_finished(self, since_calls):
        """Nothing of the cutover's end happened on NS7: NethVoice runs and
        stays enabled, no page, no unit disabled."""
        self.assertEqual(self.nethvoice_running(), sorted(n for n in NETHVOICE_SERVICES
                                                          if NETHVOICE_UNITS[n]["ActiveState"] == "active"))
        for name in NETHVOICE_SERVICES:
            self.assertEqual(self.unit(name)["UnitFileState"], NETHVOICE_UNITS[name]["UnitFileState"], name)
        self.assertEqual([c for c in self.calls(since_calls) if c["method"] == "DisableUnitFiles"], [])
        self.assertFalse(os.path.exists(os.path.join(self.sb.root, PAGE)))
        self.assertNotIn(REDIRECT_KEY, self.sb.ns7.db())

    def assert_quiesced_units_back(self, calls):
        """Every quiesced unit that Finish stopped was started again afterwards."""
        stopped = [(i, c["unit"]) for i, c in enumerate(calls) if c["method"] == "StopUnit"]
        self.assertIn("httpd-fpbx.service", [u for _, u in stopped], calls)
        for i, name in stopped:
            self.assertIn(name, QUIESCE, "Finish stopped %s before failing" % name)
            started = [j for j, c in enumerate(calls) if j > i and c["method"] in ("StartUnit", "RestartUnit")
                       and c.get("unit") == name]
            self.assertTrue(started, "%s was stopped and not started again: %s" % (name, calls))
            self.assertEqual(self.unit(name)["ActiveState"], "active", name)


class ChangesDuringPresync:
    """Changes the recordings once Finish's presync has recorded its
    manifest (the helper's log says so), before the stop: a new folder with
    a file with odd bytes in its name, a recording rewritten with its size
    and mtime kept, a recording and a whole day deleted, a day renamed.
    `touched`: the paths (relative to the NS7 root) it changed or removed."""

    def __init__(self, helper, root, log_offset):
        self.helper, self.root, self.offset = helper, root, log_offset
        self.touched, self.error, self.done = [], None, False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        try:
            deadline = time.monotonic() + 600
            while "manifest of recordings:" not in self.helper.log()[self.offset:]:
                if time.monotonic() > deadline:
                    raise AssertionError("no manifest of the recordings in the helper's log")
                time.sleep(0.02)
            self._change()
            self.done = True
        except Exception as e:  # reported by the test
            self.error = e

    def _change(self):
        mon = os.path.join(self.root, "var/spool/asterisk/monitor")
        days = sorted(os.path.join(dp) for dp, ds, fs in os.walk(mon) if fs and not ds and "2099" not in dp)
        rel = lambda p: os.path.relpath(p, self.root)
        files = lambda d: sorted(os.path.join(d, n) for n in os.listdir(d))
        # The same size and mtime: only ctime tells (rsync's quick check would not).
        same = files(days[0])[0]
        st = os.stat(same)
        with open(same, "r+b") as f:
            head = f.read(64)
            f.seek(0)
            f.write(bytes(b ^ 0x5A for b in head))
        os.utime(same, ns=(st.st_atime_ns, st.st_mtime_ns))
        gone = files(days[1])[0]
        os.unlink(gone)
        self.touched += [rel(same), rel(gone)]
        self.touched += [rel(p) for p in files(days[2])]
        shutil.rmtree(days[2])
        self.touched += [rel(p) for p in files(days[3])]
        os.rename(days[3], days[3] + "-renamed")
        odd = os.path.join(mon.encode(), b"2099/12/30")
        os.makedirs(odd)
        with open(os.path.join(odd, b"odd \xff\tname\n.wav"), "wb") as f:
            f.write(os.urandom(5000))


class FullMigrationTest(FinishTestCase):
    """Connect, Scan, Start, Syncs with a live PBX, Finish: everything lands."""

    # The recordings over 256 MiB: Finish verifies them on a sample.
    SANDBOX = {"files": 20_500, "total_bytes": 400_000_000, "cdr_rows": 20_000}

    def setUp(self):
        # Sampled from Connect (in the setUp below) to the end of Finish.
        self.sweep = secretsweep.Sweep(self).start()
        self.addCleanup(self.sweep.stop)
        super().setUp()

    def assert_last_sync_changes_only(self, log, touched):
        """The last sync of the recordings walked the whole tree locally but
        gave rsync only what changed since presync's manifest: rsync's own
        count of the entries it examined says so."""
        walked = re.search(r"last sync of recordings: the change set, (\d+) new or changed and (\d+) gone of (\d+) "
                           r"entries \(walk [^;]*; (\d+) of (\d+) directories read", log)
        self.assertIsNotNone(walked, log[-3000:])
        changed, gone, entries, read, dirs = map(int, walked.groups())
        # The kernel's watch since the manifest: only the folders where
        # something happened were read after the stop (the test's days, the
        # PBX's last recordings, their parents), not the tree's.
        self.assertGreater(dirs, 100)
        self.assertLess(read, 40)
        runs = [int(n) for n in re.findall(r"transfer recordings: \d+ files sent, .*?, (\d+) files in the tree", log)]
        self.assertEqual(len(runs), 2, runs)  # presync, then the last sync
        presync, last = runs
        self.assertGreater(entries, 15_000)
        self.assertGreater(presync, 15_000)
        # What the test changed, the PBX's recordings of the last seconds and
        # their folders: a few dozen paths, not the tree.
        self.assertGreaterEqual(changed + gone, 6)
        self.assertLess(changed + gone, touched + 300)
        self.assertLess(last, touched + 300)
        print("last sync of the recordings: %d of %d entries examined (presync: %d), %d of %d folders read"
              % (last, entries, presync, read, dirs))

    def test_full_migration(self):
        mysql = self.sb.mysql
        root = self.sb.root
        rnd = random.Random(5)
        history = collections.Counter(cdr=self.SANDBOX["cdr_rows"])

        def calls_end(**counts):
            history.update(mysql.insert_call_history(rnd=rnd, **counts))

        # The call history is not only cdr: channel events and queue log lines too.
        calls_end(cel=400, queue_log=200, now=time.time() - 86400)
        self.start()
        srv = self.srv()

        # Calls keep ending on NS7 between the syncs; some started hours ago.
        calls_end(cdr=40, cel=120, queue_log=60, late_cdr=3)
        before = set(self.state_files(srv, "restore_background"))
        self.run_ok("Sync", "a{sv}", [{}], timeout=600)
        # The Sync shipped the new events and queue lines.  (A cdr row is
        # shipped once its call ended a while ago: the helper leaves the last
        # minute to a later pass, as Asterisk may still be writing it.)
        new = [CHUNK.match(n) for n in set(self.state_files(srv, "restore_background")) - before]
        self.assertLessEqual({"cel", "queue_log"}, {m.group(2) for m in new if m},
                             "a Sync after new calls did not ship the new call history")

        # ... and while a sync runs.
        with LivePbx(mysql, interval=0.15, late_cdr=1, seed=6) as pbx:
            t0 = time.monotonic()
            err, job = self.app_call("Sync", "a{sv}", [{}])
            self.assertIsNone(err, job)
            props = self.wait(job, 600)
            t1 = time.monotonic()
            batches = pbx.stop()
        self.assertTrue(props["Success"], props["Message"])
        self.assertTrue([b for b in batches if t0 < b[0] < t1], "no call history written during the sync")
        for _, counts in batches:
            history.update(counts)

        # NS7 keeps working: recordings, voicemail, music, phone tokens and
        # phonebook uploads come and go; the configuration changes.
        removed = []
        for d, suffix in (("var/spool/asterisk/monitor", ".wav"), ("var/spool/asterisk/voicemail", ".wav"),
                          ("var/lib/asterisk/moh", ".wav"), ("var/lib/tancredi/data/tokens", ""),
                          ("var/lib/nethserver/nethvoice/phonebook/uploads", ".csv")):
            found = sorted(os.path.join(dp, n) for dp, _, fs in os.walk(os.path.join(root, d)) for n in fs
                           if n.endswith(suffix))
            for p in found[:3]:
                removed.append(os.path.relpath(p, root))
                os.unlink(p)
        self.assertEqual(len(removed), 15)
        fresh = os.path.join(root, "var/spool/asterisk/monitor/2099/12/31")
        os.makedirs(fresh, exist_ok=True)
        with open(os.path.join(fresh, "in-201-0721400000-20991231-235959-1.2.wav"), "wb") as f:
            f.write(os.urandom(300_000))
        with open(os.path.join(root, "etc/asterisk/extensions_custom.conf"), "a") as f:
            f.write("\n; changed on NS7 before the cutover\n")
        # Records that reach the database late (Asterisk's CDR batch mode
        # writes them minutes after the call), and a call that lasted two days.
        calls_end(cdr=25, cel=50, queue_log=20, late_cdr=2, now=time.time() - 600)
        calls_end(late_cdr=1, late_seconds=2 * 86400)
        self.run_ok("Sync", "a{sv}", [{}], timeout=600)
        # The last calls before the cutover, and settings changed since Start:
        # Finish reads NS7's configuration when it runs.
        calls_end(cdr=10, cel=30, queue_log=10, late_cdr=1)
        cfg = os.path.join(root, "var/lib/nethserver/db/configuration")
        esmith_set(cfg, "nethvoice-report", international_prefix="0041")
        esmith_set(cfg, "TimeZone", "Europe/Zurich")
        # The call history changes behind the ranges already shipped (same
        # counts where it can): an old call's recording renamed in place, cel
        # events of the second range replaced under their ids, and a late
        # commit of a low cel id (in the first range, open below).
        ranges = {t: [(lo or "-∞", hi) for lo, hi in self.state_rows_db(
            "SELECT low, high FROM chunks WHERE tbl = ? ORDER BY seq", (t,))] for t in INCREMENTAL}
        self.assertGreaterEqual(len(ranges["cel"]), 3, ranges)
        mysql.update_oldest_cdr(recordingfile="moved/in-201-0721400000-20220415-052000-1.wav")
        low = int(ranges["cel"][1][0])
        mysql.replace_cel_ids([low + 5, low + 6], rnd=rnd)
        mysql.insert_cel_ids([-1], rnd=rnd)
        history.update(cel=1)

        ns7_before = self.ns7_snapshot()
        n_calls = len(self.calls())
        running_before = [n for n in NETHVOICE_SERVICES if self.unit(n)["ActiveState"] == "active"]
        enabled_before = [n for n in NETHVOICE_SERVICES if self.unit(n)["UnitFileState"] == "enabled"]
        # Calls go on while Finish runs: a PBX process writes call history
        # and a recording every 0.3 s until Finish stops asterisk, its unit.
        # The recordings change between presync and the stop too.
        log_offset = len(self.sb.helper.log())
        with RunningPbx(self.sb, interval=0.3) as pbx:
            finish_began = time.time()
            changes = ChangesDuringPresync(self.sb.helper, root, log_offset)
            # Host names omitted: the ones given at Start stay.  Leaving the
            # cluster while it runs is refused.
            refused = []
            props, statuses = self.finish_ok(
                {"lets_encrypt": True, "accept_warnings": True},
                probe=lambda: refused.append(self.bus.call_error(ROOT, MANAGER_IFACE, "Disconnect", "a{sv}", [{}])))
            pbx_exit = pbx.stop()
        changes.thread.join(30)
        self.assertIsNone(changes.error)
        self.assertTrue(changes.done)
        live = pbx.batches()
        stop_time = [c["time"] for c in self.calls(n_calls)
                     if (c["method"], c.get("unit")) == ("StopUnit", "asterisk.service")][0]
        # It was asterisk's stop that ended it, and it wrote during Finish.
        self.assertEqual(pbx_exit, 0)
        self.assertIsNotNone(pbx.stopped(), "the PBX was not stopped by Finish")
        self.assertLessEqual(pbx.stopped(), stop_time + 5)
        self.assertGreaterEqual(len([b for b in live if b["time"] > finish_began]), 3, live[-3:])
        for b in live:
            history.update(b["counts"])

        # The job and the app.
        self.assertEqual(props["Operation"], "finish")
        self.assertEqual([s[0] for s in props["Steps"]], STEPS)
        self.assertEqual(props["Progress"], 1.0)
        self.assertIn("finishing", statuses)
        self.assertEqual(self.app()["Status"], "migrated")
        self.assert_dumps_removed()
        # The check before the stop shipped again only the cel ranges that
        # changed, not the table; it saw cdr's first range change too (its
        # recording, and the late records; the table may still go whole for
        # the two-day call when that lands in no range).
        log = self.sb.helper.log()
        again = re.findall(r"call history: asteriskcdrdb\.(\w+) range \(([^,]+), ([^\]]+)\] shipped again as ", log)
        self.assertEqual(sorted(r[1:] for r in again if r[0] == "cel"), sorted(ranges["cel"][:2]), log)
        self.assertNotIn("queue_log", [r[0] for r in again])
        self.assertRegex(log, r"2 of the \d+ shipped ranges of asteriskcdrdb\.cel had changed on NS7")
        self.assertNotRegex(log, r"asteriskcdrdb\.(cel|queue_log) was (shipped again|dumped) whole")
        self.assertRegex(log, r"asteriskcdrdb\.cdr range \(-∞, [^\]]+\] changed since it was shipped")

        # The files, deletions included; NS7 lost nothing, gained the page.
        ns7_after = self.ns7_snapshot()
        self.assertEqual([p for p in ns7_before if ns7_after.get(p) != ns7_before[p] and p not in ESMITH_CHANGED
                          and p not in changes.touched], [], "Finish changed or removed files on NS7")
        self.assertIn(PAGE, set(ns7_after) - set(ns7_before))
        got = self.assert_module_matches_ns7(srv, ns7_after)
        for rel in removed:
            self.assertNotIn(ns7expect.destination(rel), got, rel + " was deleted on NS7, not on NS8")
        self.assert_last_sync_changes_only(self.sb.helper.log()[log_offset:], len(changes.touched))
        self.assertFalse(os.path.exists(os.path.join(self.sb.state_dir, "apps", "nethvoice", "changeset")),
                         "the change sets' manifests outlived Finish")
        # Every recording the PBX wrote before asterisk stopped is on NS8.
        missing = [b["recording"] for b in live if ns7expect.destination(b["recording"]) not in got]
        self.assertEqual(missing, [], "recordings written before asterisk stopped are not on NS8")

        self.assert_agi_bin(srv)

        # The databases: the source holds what the test wrote; NS8's import
        # of the dumps succeeded and the module's databases give it back.
        module = self.module()
        imported = self.assert_restored(module)
        rows = self.assert_module_databases(module)
        self.assertEqual({t: sum(rows["asteriskcdrdb." + t].values()) for t in INCREMENTAL},
                         {t: history[t] for t in INCREMENTAL})
        self.assert_astdb(module)
        for e in imported:
            if os.path.basename(e["file"]) not in NS8_RESTORE_SCRIPTS:
                self.assertGreaterEqual(e["mtime"], stop_time, "%s was dumped before asterisk was stopped" % e["file"])

        # NS8's configuration, NS7's services, the old address.
        self.assert_configuration(module, GOOD, True)
        self.assertEqual(module["configuration"]["reports_international_prefix"], "0041")
        self.assert_retired(self.calls(n_calls), running_before, enabled_before)
        self.assert_retired_for_good()
        self.assert_redirect_page(GOOD)

        # What the administrator must create in DNS: each new name pointing
        # at the node, by its address (A) or by its name (CNAME).
        records = [tuple(r) for r in self.app()["DnsRecords"]]
        self.assertEqual(sorted(r[0] for r in records), sorted(GOOD.values()), records)
        for name, kind, value in records:
            self.assertIn((kind, value), [("A", self.cluster.topology.leader_ip),
                                          ("CNAME", self.cluster.leader_host + ".")], records)

        # Done is done.
        err, msg = self.finish_call({"accept_warnings": True})
        self.assertEqual(err, ERR + "WrongState", msg)

        # Before it ended the transfer, Finish compared every transfer, every
        # table of the app's databases and every dump file with NS8's: all
        # the same, and said so.
        app = self.app()
        verification = [tuple(r) for r in app["Verification"]]
        self.assertGreater(app["VerificationTime"], stop_time * 1e6)
        self.assertEqual([r for r in verification if r[2] != "matched"], [], verification)
        files = {r[1] for r in verification if r[0] == "files"}
        for transfer, _, n_files, _ in app["ScanDetails"]:
            if n_files:
                self.assertIn(transfer, {f.split(":")[0] for f in files}, verification)
        # A tree of 256 MiB or more is compared on its change set and on
        # files the last sync's walk picked at random (odd names included).
        large = [t for t, _, n_files, size in app["ScanDetails"] if n_files and size >= 256 * 1024 * 1024]
        self.assertEqual(large, ["recordings"], app["ScanDetails"])
        self.assertIn(("files", "recordings (sample)", "matched", "The content of files chosen at random is the same."),
                      verification)
        self.assertIn("verify: the sample of recordings from the last sync's walk", self.sb.helper.log())
        self.assertEqual({r[1] for r in verification if r[0] == "table"}, set(mysql.tables(NETHVOICE_DATABASES)))
        dumps = {r[1] for r in verification if r[0] == "dumps"}
        self.assertLessEqual({"restore/" + n for n in RESTORE_FILES}, dumps)
        self.assertTrue([d for d in dumps if d.startswith("restore_background/")], dumps)
        self.assertRegex(props["Message"], r"Verified: [1-9]\d* files, %d tables and %d dump files matched"
                         % (len(mysql.tables(NETHVOICE_DATABASES)), len(dumps)))

        err, msg = refused[0]
        self.assertEqual(err, ERR + "MigrationInProgress", msg)
        self.assertIn("NethVoice is being migrated", msg)
        self.assert_leaving_takes_the_users_away()

        # No secret anywhere the helper writes or shows something, nor in
        # its children's argv (tests/integration/secretsweep.py).
        swept = self.sweep.finish()
        print("secrets sweep:", swept)


    def assert_leaving_takes_the_users_away(self):
        """NethVoice on NS8 reads NS7's users through the temporary domain:
        the helper does not leave by itself (the local provider is still on
        NS7), Disconnect is refused, and a forced one says what it broke."""
        manager = self.manager()
        self.assertEqual(manager["State"], "connected")
        self.assertEqual(manager["DomainDependents"], ["NethVoice"])
        inventory = {i["id"]: i for i in manager["Inventory"]}
        self.assertEqual((inventory["nethvoice"]["status"], inventory["nethvoice"]["app_status"]),
                         ("migratable", "migrated"))
        self.assertEqual((inventory["account-provider"]["status"], inventory["account-provider"]["app_status"]),
                         ("migratable", "not_migrated"))
        err, msg = self.bus.call_error(ROOT, MANAGER_IFACE, "Disconnect", "a{sv}", [{}])
        self.assertEqual(err, ERR + "DomainInUse", msg)
        self.assertIn("NethVoice on NS8 signs its users in through the temporary user domain %s" % USER_DOMAIN, msg)
        self.assertIn(USER_DOMAIN, [d["name"] for d in self.cluster.control.state()["domains"]])

        props = self.wait(self.bus.call(ROOT, MANAGER_IFACE, "Disconnect", "a{sv}", [{"force": True}]))
        self.assertTrue(props["Success"], props["Message"])
        self.assertIn("Forced: NethVoice on NS8 used the temporary user domain %s, now removed" % USER_DOMAIN,
                      props["Message"])
        self.assertNotIn(USER_DOMAIN, [d["name"] for d in self.cluster.control.state()["domains"]])
        self.assertEqual(self.manager()["State"], "disconnected")


class FinishFailuresTest(FinishTestCase):
    """Bad values refused before any change; then a cutover that fails in
    configure-module, is retried, dies with the helper, and is retried to
    success.  (The tests run in name order: the first ends with an Abort,
    the second with NethVoice migrated for good.)"""

    BAD = [
        ({"nethvoice_host": "https://voice.example.com"}, "nethvoice_host", "https://"),
        ({"nethvoice_host": "voice"}, "nethvoice_host", "no domain"),
        ({"nethvoice_host": "192.0.2.80"}, "nethvoice_host", "IP address"),
        ({"nethcti_ui_host": "v" * 290 + ".example.test"}, "nethcti_ui_host", "253"),
    ]

    def assert_refused(self, method, values, field, words):
        err, msg = self.app_call(method, "a{sv}", [values])
        self.assertEqual(err, ERR + "InvalidArgument", (method, values, msg))
        if len(values.get(field, "")) > 253:
            # Refused with the other over-long options: the message names it.
            self.assertIn('"%s"' % field, msg)
        else:
            self.assertTrue(msg.startswith(field + ": "), msg)
        self.assertIn(words, msg)

    def test_bad_values_refused_before_any_change(self):
        # Finish needs a migration under way.
        err, msg = self.finish_call(dict(GOOD, accept_warnings=True))
        self.assertEqual(err, ERR + "WrongState", msg)
        for fields, field, words in self.BAD:
            self.assert_refused("Start", dict(GOOD, accept_warnings=True, **fields), field, words)
        self.assert_refused("Start", dict(GOOD, accept_warnings=True, nethcti_ui_host=GOOD["nethvoice_host"]),
                            "nethcti_ui_host", "must differ")
        self.assertEqual(self.app()["Status"], "not_migrated")
        self.start()

        app = self.app()
        seq = self.request_count()
        n_calls = len(self.calls())
        ns7 = self.ns7_snapshot()
        for fields, field, words in self.BAD:
            self.assert_refused("Finish", dict(fields, accept_warnings=True), field, words)
        # Omitted host names keep their Start values: one equal to the other is refused.
        err, msg = self.finish_call({"nethcti_ui_host": GOOD["nethvoice_host"], "accept_warnings": True})
        self.assertEqual(err, ERR + "InvalidArgument", msg)
        self.assertTrue(msg.startswith(("nethcti_ui_host: ", "nethvoice_host: ")), msg)
        self.assertIn("must differ", msg)
        for options in ({"colour": "red"}, {"lets_encrypt": "yes"}, {"nethvoice_host": dbus.UInt32(1)}):
            err, msg = self.finish_call(options)
            self.assertEqual(err, ERR + "InvalidArgument", (options, msg))
        # The final configure-module input is checked against NethVoice's
        # schema before the cutover begins: a bad prefix on NS7 is found now.
        cfg = os.path.join(self.sb.root, "var/lib/nethserver/db/configuration")
        with open(cfg) as f:
            saved = f.read()
        try:
            esmith_set(cfg, "nethvoice-report", international_prefix="39")
            err, msg = self.finish_call({"accept_warnings": True})
            self.assertEqual(err, ERR + "InvalidArgument", msg)
            self.assertTrue(msg.startswith("reports_international_prefix: "), msg)
        finally:
            with open(cfg, "w") as f:
                f.write(saved)
        # As you type: field -> problem.
        err, problems = self.app_call("CheckOptions", "sa{sv}", ["Finish", {"nethvoice_host": "https://x.example"}])
        self.assertIsNone(err, problems)
        self.assertEqual(list(problems), ["nethvoice_host"])
        err, problems = self.app_call("CheckOptions", "sa{sv}", ["Finish", {"nethvoice_host": "voice2.example.test"}])
        self.assertEqual((err, problems), (None, {}))
        # Only who may migrate may finish.
        r = self.bus.call_as("nobody", APP, APP_IFACE, "Finish", "a{sv}", [{"accept_warnings": True}])
        self.assertEqual(r.error_name, ERR + "NotAuthorized", r)

        # Nothing happened: no request to NS8, no service touched, no job, no file.
        self.assertEqual(self.cluster.control.requests(since=seq), [])
        self.assertEqual(self.calls(n_calls), [])
        after = self.app()
        for prop in ("Status", "Settings", "Job", "SyncHistory"):
            self.assertEqual(after[prop], app[prop], prop)
        self.assertEqual(self.ns7_snapshot(), ns7)

        # Good values, but Preflight's warnings (no backup on NS7) not
        # accepted: refused too, with nothing stopped or sent.
        seq = self.request_count()
        err, msg = self.finish_call({})
        self.assertEqual(err, ERR + "PreflightFailed", msg)
        self.assertIn("accept_warnings", msg)
        actions = [r.get("action") for r in self.cluster.control.requests(since=seq)]
        for mutating in ("import-module", "configure-module", "remove-module"):
            self.assertNotIn(mutating, actions)
        self.assertEqual([c for c in self.calls(n_calls) if c["method"] in CHANGES_UNITS], [])
        self.assertEqual(self.app()["Status"], "migrating")

    def test_configure_failure_then_crash_then_retry(self):
        self.start()
        mid = self.app()["ModuleId"]
        error = "nethvoice_host: the certificate could not be requested\n"
        self.cluster.control.fault("fail_action", action="configure-module", agent="module/" + mid,
                                   count=1, exit_code=1, error=error)
        seq = self.request_count()
        n_calls = len(self.calls())
        err, job = self.finish_call({"accept_warnings": True})
        self.assertIsNone(err, job)
        props = self.wait(job, 600)
        self.assertFalse(props["Success"])
        self.assertEqual(props["Operation"], "finish")
        self.assertIn("configure", props["Message"].lower())
        self.assertIn("certificate could not be requested", props["Message"])
        self.assertTrue(props["ErrorName"].startswith(ERR), props["ErrorName"])
        configured = self.configure_requests(seq)
        self.assertEqual([r.get("exit_code") for r in configured], [1])
        self.assertEqual(self.app()["Status"], "migrating")
        self.assert_quiesced_units_back(self.calls(n_calls))
        self.assert_not_finished(n_calls)
        self.assert_back_the_ns7_way()

        # NS7 worked again meanwhile.  The retry is cut short by a crash
        # of the helper once the services are stopped.
        self.sb.mysql.insert_call_history(cdr=20, cel=40, queue_log=10, late_cdr=2)
        with open(os.path.join(self.sb.root, "etc/asterisk/extensions_custom.conf"), "a") as f:
            f.write("\n; changed on NS7 after the failed cutover\n")
        # A slow configure-module: the cutover cannot end before the kill.
        job, n_calls, step = self.finish_until_stopped(mid)
        self.sb.helper.kill_unit()
        self.cluster.control.reset_faults()
        self.assertIn(step, STEPS[STEPS.index("stop"):STEPS.index("retire")])

        self.sb.helper.extra_args = list(self.with_ca)
        self.sb.helper.start()
        self.assertEqual(self.app()["Status"], "migrating", "killed during %s" % step)
        deadline = time.monotonic() + 60
        while self.unit("httpd-fpbx.service")["ActiveState"] != "active":
            self.assertLess(time.monotonic(), deadline, "httpd-fpbx was not started again (killed during %s)" % step)
            time.sleep(0.2)
        rows = self.state_rows_db("SELECT status FROM jobs WHERE id=?", (int(job.rsplit("/", 1)[1]),))
        self.assertEqual(rows, [("failed",)])
        self.assert_quiesced_units_back(self.calls(n_calls))
        self.assert_not_finished(n_calls)

        # The tunnel outlived the crash (wireguard-go runs in a unit of its
        # own); Preflight passes once the restarted helper has settled.
        deadline = time.monotonic() + 60
        while True:
            checks = self.bus.call(ROOT, MANAGER_IFACE, "Preflight", "a{sv}", [{"app": "nethvoice"}], timeout=90)
            blockers = [(c["id"], c["detail"]) for c in checks if c["severity"] == "blocker"]
            if not blockers:
                break
            self.assertLess(time.monotonic(), deadline, "still blocked after the restart: %s" % blockers)
            time.sleep(0.5)
        self.slow_configure_then_crash_then_retry(mid)
        self.assert_redirect_page(GOOD)

    def slow_configure_then_crash_then_retry(self, mid):
        """The retry: NS8's configure-module outlives the helper's task
        timeout (3 s here), and the helper is killed while NS8 runs it.  NS8
        may still come up with the app, so NS7's services are not started
        again, after the restart either; Finish run again waits for that same
        task and completes the migration."""
        self.sb.helper.stop()
        self.addCleanup(self.sb.helper.stop)  # tearDown starts it again with the usual options
        self.sb.helper.extra_args = self.with_ca[:-1] + ["--task-timeout=3"]
        self.sb.helper.start()
        self.cluster.control.fault("slow", action="configure-module", agent="module/" + mid, delay=25, count=1)
        seq = self.request_count()
        n_calls = len(self.calls())
        running = [n for n in NETHVOICE_SERVICES if self.unit(n)["ActiveState"] == "active"]
        enabled = [n for n in NETHVOICE_SERVICES if self.unit(n)["UnitFileState"] == "enabled"]
        err, job = self.finish_call({"accept_warnings": True})
        self.assertIsNone(err, job)
        deadline = time.monotonic() + 300
        while not self.configure_requests(seq):
            self.assertLess(time.monotonic(), deadline, "Finish did not submit configure-module")
            self.assertFalse(self.bus.get(job, JOB_IFACE, "Finished"), self.bus.get_all(job, JOB_IFACE))
            time.sleep(0.1)
        time.sleep(6)  # twice the task timeout: the helper waits on
        props = self.bus.get_all(job, JOB_IFACE)
        self.assertFalse(props["Finished"], props)
        self.assertEqual(props["CurrentStep"], "configure")
        self.assertIn("still runs after the task timeout", self.read_log())
        self.sb.helper.kill_unit()
        self.sb.helper.start()

        # Restarted: NS7's writers stay stopped while NS8 may come up; Sync
        # and Abort are refused with what to do.
        time.sleep(2)
        self.assertEqual([n for n in QUIESCE if self.unit(n)["ActiveState"] == "active"], [])
        self.assertEqual([c for c in self.calls(n_calls) if c["method"] == "StartUnit"], [])
        self.assertEqual(self.app()["Status"], "migrating")
        for method in ("Sync", "Abort"):
            err, msg = self.app_call(method, "a{sv}", [{}])
            self.assertEqual(err, ERR + "WrongState", msg)
            self.assertIn("Finish again", msg)

        # Finish again: the same task, waited for; the migration completes.
        props, _ = self.finish_ok({"accept_warnings": True})
        self.assertEqual(len(self.configure_requests(seq)), 1, "configure-module was submitted twice")
        self.assertIn("still runs after the task timeout", props["Message"])
        self.assertEqual([c for c in self.calls(n_calls) if c["method"] == "StartUnit"], [],
                         "NS7's services were started again while NS8 configured the app")
        self.assertEqual(self.app()["Status"], "migrated")
        self.assert_dumps_removed()
        srv = self.srv()
        self.assert_module_matches_ns7(srv)
        module = self.module()
        self.assert_restored(module)
        self.assert_module_databases(module)
        self.assert_configuration(module, GOOD, False)
        disabled = [u for c in self.calls(n_calls) if c["method"] == "DisableUnitFiles" for u in c["units"]]
        self.assertLessEqual(set(enabled), set(disabled))
        self.assertLessEqual(set(running) - set(QUIESCE), {c.get("unit") for c in self.calls(n_calls)
                                                           if c["method"] == "StopUnit"})
        self.assert_retired_for_good()


class ImportFailuresTest(FinishTestCase):
    """NS8's import-module fails on what reached state/restore/ (as NS8's
    module does): Finish reports NS8's error and gives NS7 back; with the
    right dumps the retry succeeds."""

    def restart_helper(self, profiles_dir):
        if self.sb.helper.alive():
            self.sb.helper.stop()
        self.sb.helper.profiles_dir = profiles_dir
        self.sb.helper.extra_args = list(self.with_ca)
        self.sb.helper.start()

    def profiles_without_astdb(self):
        """A copy of the app profiles where NethVoice's dumps no astdb (its
        profile without the `sqlite` section)."""
        dest = os.path.join(tempfile.mkdtemp(dir=self.sb.run_dir), "apps")
        shutil.copytree(self.sb.helper.profiles_dir, dest)
        path = os.path.join(dest, "nethvoice.yaml")
        with open(path) as f:
            lines = f.read().splitlines(keepends=True)
        kept, skip = [], False
        for line in lines:
            if line[:1].isalpha():  # a top-level key
                skip = line.startswith("sqlite:")
            if not skip:
                kept.append(line)
        self.assertNotEqual(len(kept), len(lines), "no sqlite section in %s" % path)
        with open(path, "w") as f:
            f.write("".join(kept))
        return dest

    def test_missing_astdb_dump_fails_the_import_then_retry(self):
        # Driven through the helper: with a profile that dumps no astdb,
        # restore/ reaches NS8 without astdb.sqlite3.dump.
        original = self.sb.helper.profiles_dir
        self.addCleanup(lambda: self.sb.helper.profiles_dir == original or self.restart_helper(original))
        self.restart_helper(self.profiles_without_astdb())
        self.run_ok("Scan", "a{sv}", [{}])
        self.start()
        mid = self.app()["ModuleId"]
        seq = self.request_count()
        n_calls = len(self.calls())
        err, job = self.finish_call({"accept_warnings": True})
        self.assertIsNone(err, job)
        props = self.wait(job, 600)
        self.assertFalse(props["Success"])
        self.assertEqual(props["Operation"], "finish")
        self.assertIn("NS8 could not restore the data", props["Message"])
        # NS8's own words: its `set -e` step cannot open the dump.
        self.assertIn("restore/astdb.sqlite3.dump: No such file or directory", props["Message"])
        module = self.module()
        imported = self.restore_log(module, "import")
        self.assertEqual([(e["file"], e["status"]) for e in imported], [("restore/" + ASTDB_DUMP, "failed")])
        self.assertEqual(self.task_exit_code(mid, imported[0]["task"]), 1)
        self.assertIsNone(module["mariadb"], "MariaDB ran after the astdb step failed")
        self.assertEqual(self.configure_requests(seq), [])
        self.assertEqual(self.app()["Status"], "migrating")
        self.assert_quiesced_units_back(self.calls(n_calls))
        self.assert_not_finished(n_calls)

        # The helper with the real profile: the retry sends the dump and succeeds.
        self.restart_helper(original)
        self.retry_finish_ok()

    def test_sqlite_dump_named_sql_fails_the_import(self):
        # Driven at the simulator's level: the helper refuses a profile whose
        # SQLite dump would be named *.sh or *.sql (its profile check), so it
        # cannot be made to send one.  The files are made as the helper makes
        # them (NS7's astdb through `sqlite3 .dump`, a mariadb-dump of NS7's
        # asterisk structure) and sent to a module of their own, from the
        # leader's VPN address (in the network the receiver accepts).
        c = self.cluster
        token = c.login()
        res = c.run_task("cluster", "import-module", {"image": "nethvoice", "node": 1, "volumes": ["agi-bin"]},
                         token=token)
        self.assertEqual(res["exit_code"], 0, res)
        out = res["output"]
        mid = out["module_id"]
        self.addCleanup(c.run_task, "cluster", "remove-module", {"module_id": mid, "preserve_data": False},
                        token=token)
        restore = os.path.join(tempfile.mkdtemp(dir=self.sb.run_dir), "restore")
        os.makedirs(restore)
        astdb = subprocess.run(["sqlite3", os.path.join(self.sb.root, "var/lib/asterisk/astdb.sqlite3"), ".dump"],
                               check=True, capture_output=True).stdout
        self.assertTrue(astdb.startswith(b"PRAGMA foreign_keys=OFF;"), astdb[:100])
        structure = subprocess.run(["mariadb-dump", "--defaults-file=" + self.sb.mysql.defaults_file, "--no-data",
                                    "--add-drop-database", "--databases", "asterisk"],
                                   check=True, capture_output=True).stdout
        for name, data in ((ASTDB_DUMP, astdb), ("astdb.sql", astdb), ("10_asterisk_structure.sql", structure)):
            with open(os.path.join(restore, name), "wb") as f:
                f.write(data)
        user, password = out["credentials"]
        url = "rsync://%s@%s:%d/" % (user, out["address"], out["port"])
        for args in (["-a", restore, url + "data/state/"], [url + "terminate"]):
            p = c.topology.run("leader", ["rsync", "--address=" + c.leader_vpn_ip] + args, check=False,
                               env=dict(os.environ, RSYNC_PASSWORD=password), timeout=120)
            self.assertEqual(p.returncode, 0, p.stderr)
        agent, tid = out["task"].rsplit("/task/", 1)
        result = c.wait_task(agent, tid, token, timeout=120)
        # MariaDB's entrypoint runs it as SQL and stops at its first statement.
        self.assertEqual(result["exit_code"], 1, result)
        self.assertIn("ERROR 1064 (42000) at line 1", result["error"])
        self.assertIn("near 'PRAGMA foreign_keys=OFF'", result["error"])
        module = c.control.module(mid)
        self.assertEqual([(e["file"], e["status"]) for e in self.restore_log(module, "import")], [
            ("restore/" + ASTDB_DUMP, "loaded"), ("restore/10_asterisk_structure.sql", "loaded"),
            ("restore/99permissions.sh", "ran"), ("restore/astdb.sql", "failed"),
            ("restore/zz_restore.sh", "not reached")])
        # The astdb step before it had loaded the real dump.
        db = sqlite3.connect("file:%s?mode=ro" % os.path.join(self.sb.root, "var/lib/asterisk/astdb.sqlite3"), uri=True)
        try:
            self.assertEqual(c.control.module_astdb(mid), dict(db.execute("SELECT key, value FROM astdb").fetchall()))
        finally:
            db.close()


class VerificationDifferencesTest(FinishTestCase):
    """What differs when Finish verifies is named, as a warning: a file of
    the module changed and one removed after the last sync, a row written
    into an NS7 table after the dump.  Finish still succeeds."""

    def test_differences_named_as_warnings(self):
        self.start()
        mid = self.app()["ModuleId"]
        srv = self.srv()
        # Two recordings NS8 received.
        received = []
        for dp, _, fs in sorted(os.walk(os.path.join(self.sb.root, "var/spool/asterisk/monitor"))):
            for n in sorted(fs):
                dest = ns7expect.destination(os.path.relpath(os.path.join(dp, n), self.sb.root))
                if dest and os.path.isfile(os.path.join(srv, dest)):
                    received.append(dest)
        self.assertGreaterEqual(len(received), 2)
        changed, removed = received[:2]

        # The upload of state/restore/ (the dumps are written) waits while
        # NS7's call history gets a row and NS8's copy of two files changes.
        self.cluster.control.fault("hold_receiver", module=mid, request="data/state/restore/")
        err, job = self.finish_call({"accept_warnings": True})
        self.assertIsNone(err, job)
        deadline = time.monotonic() + 300
        while not self.cluster.control.module(mid)["receiver_held"]:
            self.assertLess(time.monotonic(), deadline, "the upload never reached the receiver")
            self.assertFalse(self.bus.get(job, JOB_IFACE, "Finished"), self.bus.get_all(job, JOB_IFACE))
            time.sleep(0.05)
        self.assertEqual(self.bus.get(job, JOB_IFACE, "CurrentStep"), "upload")
        self.sb.mysql.insert_call_history(cdr=1)
        with open(os.path.join(srv, changed), "ab") as f:
            f.write(b"changed on NS8 after the last sync")
        os.unlink(os.path.join(srv, removed))
        self.cluster.control.clear_fault(kind="hold_receiver")
        props = self.wait(job, 600)

        # A warning, not a failure: NS8 runs the app, NS7's is retired.
        self.assertTrue(props["Success"], props["Message"])
        self.assertEqual(self.app()["Status"], "migrated")
        verification = [tuple(r) for r in self.app()["Verification"]]
        differences = {(r[0], r[1]): r[2] for r in verification if r[2] != "matched"}
        expected = {("files", changed): "differs", ("files", removed): "missing", ("table", "asteriskcdrdb.cdr"): "differs"}
        self.assertEqual({k: differences.get(k) for k in expected}, expected, verification)
        # The removal changed its folder's modification time on NS8: named too.
        self.assertLessEqual(set(differences) - set(expected), {("files", os.path.dirname(removed) + "/")}, verification)
        self.assertIn(("table", "asterisk.users"), {(r[0], r[1]) for r in verification if r[2] == "matched"})
        self.assertTrue([r for r in verification if r[0] == "dumps"])
        self.assertTrue(all(r[2] == "matched" for r in verification if r[0] == "dumps"), verification)
        message = props["Message"]
        self.assertIn("differences:", message)
        for name in (changed, removed, "asteriskcdrdb.cdr"):
            self.assertIn(name, message)
        texts = {t[0]: t[2] for t in props["MessageTexts"]}
        self.assertIn("finish.verified-differences", texts)
        # Each one named in the log.
        log = self.read_log()
        for name in (changed, removed, "asteriskcdrdb.cdr"):
            self.assertRegex(log, r"verify: \w+ %s (differs|missing)" % re.escape(name))

        # The guide's last step, on demand: do the new names resolve, from
        # NS7, to the NS8 node?  Not yet; then one does and one points
        # elsewhere (the NS7 namespace's hosts file is its /etc/hosts).
        records = self.app()["DnsRecords"]
        self.assertEqual(len(records), 2, records)
        first, second = records[0][0], records[1][0]
        checks = {r[0]: tuple(r) for r in self.bus.call(APP, APP_IFACE, "CheckDns", "", [])}
        self.assertEqual({n: c[3] for n, c in checks.items()}, {first: "unresolved", second: "unresolved"})
        # The node's address: itself, or what its name resolves to (CNAME).
        node = checks[first][1]
        self.assertTrue(node, checks)
        if records[0][1] == "CNAME":
            self.assertEqual(node, self.cluster.topology.leader_ip)
        with open(self.cluster.topology.hosts_file, "a") as f:
            f.write(f"{node} {first}\n203.0.113.99 {second}\n")
        checks = {r[0]: tuple(r) for r in self.bus.call(APP, APP_IFACE, "CheckDns", "", [])}
        self.assertEqual(checks[first], (first, node, node, "ok"))
        self.assertEqual(checks[second], (second, node, "203.0.113.99", "elsewhere"))
