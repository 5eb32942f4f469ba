"""Manager.Preflight and the checks Connect runs before joining, against the
simulated NS8 cluster.  Every check is driven to each severity it has by a
fixture a person would recognise: a stopped service, a full disk, a name
that does not resolve, a missing backup...  One cluster and one helper serve
the whole file; every test puts back what it changed."""

import os
import re
import sqlite3
import subprocess
import time

import dbus

import expect
from clusterfixture import ERR, ROOT, USER_DOMAIN, ClusterTestCase
from harness.client import MANAGER_IFACE

GiB = 1 << 30
MiB = 1 << 20
LOCAL_LDAP = ("sssd=service|BaseDN|dc=directory,dc=nh|BindDN|cn=libuser,dc=directory,dc=nh|"
              "BindPassword|LdapBindSecret7|LdapURI|ldap://127.0.0.1|Provider|ldap|status|enabled")
# The actions Preflight may ask NS8 for; anything else changes the cluster.
READ_ACTIONS = {"get-cluster-status", "list-user-domains", "list-modules", "list-nodes",
                "get-node-status", "get-configuration"}
SYSTEMD_WRITES = {"StartUnit", "StopUnit", "RestartUnit", "ReloadUnit", "EnableUnitFiles",
                  "DisableUnitFiles", "Reload"}
GOOD = {"nethvoice_host": "voice.example.test", "nethcti_ui_host": "cti.example.test"}


def fill(tmpl, args):
    """A text by id in English (core/text.h): %1..%9 are the ARGS, any other % is itself."""
    return re.sub(r"%([1-9])", lambda m: str(args[int(m.group(1)) - 1]) if int(m.group(1)) <= len(args) else m.group(0),
                  str(tmpl))


class PreflightTest(ClusterTestCase):
    # Two nodes, no NethVoice Proxy, a local OpenLDAP already on NS8, and a
    # leader with 10 GiB free.
    CLUSTER = {"nodes": 2, "modules": [], "task_delay": 0.1,
               "domains": [{"name": "ns8.example", "location": "internal", "node": 1}],
               "disk": {1: {"total": 100 * GiB, "free": 10 * GiB}}}
    SANDBOX = {"files": 300, "cdr_rows": 50}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.db_path = os.path.join(cls.sb.state_dir, "state.db")

    def setUp(self):
        self.cluster.control.reset_faults()
        if not self.sb.helper.alive():
            self.sb.helper.extra_args = list(self.with_ca)
            self.sb.helper.start()
        self.set_provider(None)
        self.seq = self.request_count()
        self.systemd_seen = len(self.sb.systemd.calls())

    def tearDown(self):
        self.set_provider(None)
        self.assertEqual(self.sb.helper.sanitizer_errors(), [])

    # -- helpers -----------------------------------------------------------
    def set_provider(self, sssd_line):
        lines = [l for l in self.config_text.splitlines() if not l.startswith(("sssd=", "nsdc="))]
        with open(self.config_path, "w") as f:
            f.write("\n".join(lines + ([sssd_line] if sssd_line else [])) + "\n")

    def preflight(self, **options):
        if "node" in options:
            options["node"] = dbus.UInt32(options["node"])
        checks = self.bus.call(ROOT, MANAGER_IFACE, "Preflight", "a{sv}", [options], timeout=60)
        self.assert_read_only()
        return {c["id"]: c for c in checks}

    def assert_read_only(self):
        for r in self.cluster.control.requests(since=self.seq):
            if r.get("method") == "POST" and not r.get("path", "").endswith("/login"):
                self.assertIn(r.get("action"), READ_ACTIONS, r)
        writes = [c for c in self.sb.systemd.calls()[self.systemd_seen:] if c["method"] in SYSTEMD_WRITES]
        self.assertEqual(writes, [])

    def assertSeverity(self, checks, check_id, severity, *words):
        c = checks[check_id]
        self.assertEqual(c["severity"], severity, c)
        self.assertTrue(c["checked"], c)
        for w in words:
            self.assertIn(w, c["detail"] + " " + c["remedy"], c)
        return c

    def sql(self, statement, *args):
        con = sqlite3.connect(self.db_path, timeout=10)
        try:
            with con:
                con.execute(statement, args)
        finally:
            con.close()

    def app_row(self):
        con = sqlite3.connect(self.db_path, timeout=10)
        try:
            return con.execute("SELECT source_bytes, database_bytes, scan_time FROM apps WHERE id='nethvoice'").fetchone()
        finally:
            con.close()

    def ensure_scanned(self):
        if self.app()["ScanTime"] == 0:
            self.run_ok("Scan", "a{sv}", [{}])

    def ensure_connected(self):
        if self.manager()["State"] != "connected":
            self.connect_ok(user_domain=None, accept_warnings=True)
            self.seq = self.request_count()
            # Connect's own writes (the helper's unit enabled at boot) are done.
            self.systemd_seen = len(self.sb.systemd.calls())

    @staticmethod
    def write_file(path, text):
        with open(path, "w") as f:
            f.write(text)

    def write_root(self, rel, text, age=0):
        path = os.path.join(self.sb.root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
        t = time.time() - age
        os.utime(path, (t, t))
        self.addCleanup(lambda: os.path.exists(path) and os.remove(path))

    def hosts_without_leader(self):
        """Make leader.ns8.test unresolvable in the NS7 namespace until cleanup; returns its IP."""
        hosts = "/etc/netns/%s/hosts" % self.ns7
        with open(hosts) as f:
            original = f.read()
        ip = [l.split()[0] for l in original.splitlines() if self.cluster.leader_host in l.split()[1:]][0]

        def write(text):
            with open(hosts, "r+") as f:  # in place: the helper's bind mount sees it
                f.seek(0)
                f.write(text)
                f.truncate()
        write("\n".join(l for l in original.splitlines() if self.cluster.leader_host not in l.split()[1:]) + "\n")
        self.addCleanup(write, original)
        return ip

    # -- before connecting -------------------------------------------------
    def test_a_before_connecting(self):
        self.assertEqual(self.manager()["State"], "disconnected")
        checks = self.preflight()
        # Without a leader nothing about NS8 can be judged yet: not checked, not a problem.
        for cid in ("leader-reach", "leader-tls", "cluster-nodes", "vpn-endpoint", "vpn-handshake"):
            self.assertEqual((checks[cid]["severity"], checks[cid]["checked"]), ("ok", False), checks[cid])
        self.assertEqual({c["group"] for c in checks.values()},
                         {"source", "destination", "network", "dns", "account", "data", "backup"})
        for c in checks.values():
            self.assertTrue(c["title"] and c["detail"] and c["doc"], c)

        checks = self.preflight(leader=self.cluster.leader_host)
        self.assertSeverity(checks, "leader-reach", "ok", "192.0.2.1")
        self.assertSeverity(checks, "leader-tls", "ok", "valid")
        self.assertSeverity(checks, "vpn-endpoint", "ok", "leader.ns8.test:55820")
        self.assertEqual(checks["leader-tls"]["doc"], "destination-system-nethserver-8")
        # Each sentence by id as well: the template with its arguments is the English.
        for cid in ("leader-tls", "vpn-endpoint"):
            c = checks[cid]
            for key in ("title", "detail"):
                ident, tmpl, args = c[key + "_text"]
                self.assertTrue(str(ident).startswith("check."), c)
                self.assertEqual(fill(tmpl, args), c[key], c)
            self.assertEqual(tuple(c["remedy_text"])[0] == "", c["remedy"] == "", c)
        self.assertEqual(tuple(checks["leader-tls"]["detail_text"])[0], "check.leader-tls.valid")
        self.assertEqual(checks["vpn-endpoint"]["doc"], "vpn-connectivity")
        # Not validated: the fingerprint the administrator must confirm.
        checks = self.preflight(leader=self.cluster.leader_host, tls_verify=False)
        fp = self.assertSeverity(checks, "leader-tls", "warning")["detail"]
        self.assertIn(self.cluster.tls_fingerprint.upper()[:2], fp.replace(":", ""))
        checks = self.preflight(leader=self.cluster.leader_host, tls_verify=False,
                                tls_fingerprint=self.cluster.tls_fingerprint)
        self.assertSeverity(checks, "leader-tls", "ok", "confirmed")
        # A name that resolves nowhere.
        checks = self.preflight(leader="nowhere.invalid")
        self.assertSeverity(checks, "leader-reach", "blocker", "does not resolve")
        self.assertSeverity(checks, "vpn-endpoint", "blocker", "nowhere.invalid", "55820")
        # By address, with the leader's name (the VPN endpoint) unresolvable.
        ip = self.hosts_without_leader()
        checks = self.preflight(leader=ip, tls_verify=False, tls_fingerprint=self.cluster.tls_fingerprint)
        self.assertSeverity(checks, "leader-reach", "ok")
        # Unknown app, unknown option.
        err, msg = self.bus.call_error(ROOT, MANAGER_IFACE, "Preflight", "a{sv}", [{"app": "nosuch"}])
        self.assertEqual(err, ERR + "InvalidArgument")
        self.assertIn("nethvoice", msg)
        err, msg = self.bus.call_error(ROOT, MANAGER_IFACE, "Preflight", "a{sv}", [{"colour": "red"}])
        self.assertEqual(err, ERR + "InvalidArgument")
        self.assertIn("colour", msg)

    def test_a_tls_not_trusted(self):
        self.sb.helper.stop()
        self.sb.helper.extra_args = ["--vpn-timeout=30", "--task-timeout=60"]
        self.sb.helper.start()
        self.addCleanup(self.sb.helper.stop)
        checks = self.preflight(leader=self.cluster.leader_host)
        c = self.assertSeverity(checks, "leader-tls", "blocker")
        self.assertIn(self.cluster.tls_fingerprint.upper()[:8], c["detail"].replace(":", "").upper())

    # -- Connect refuses on what the checks find ---------------------------
    def test_b_connect_gate(self):
        self.assertEqual(self.manager()["State"], "disconnected")
        # Blocker: the VPN endpoint (the leader's name) does not resolve.
        ip = self.hosts_without_leader()
        err, msg = self.connect(leader=ip, tls_verify=False, tls_fingerprint=self.cluster.tls_fingerprint,
                                user_domain=None, accept_warnings=True)
        self.assertEqual(err, ERR + "PreflightFailed", msg)
        self.assertIn("The cluster's VPN endpoint resolves from NS7 [vpn-endpoint]", msg)
        self.assertIn("leader.ns8.test:55820 does not resolve", msg)
        self.doCleanups()
        self.assertEqual(self.manager()["State"], "disconnected")
        self.assert_read_only()
        # A certificate nobody confirmed is no warning at Connect: the
        # password would go to it, so Connect refuses before anything.
        self.set_provider(LOCAL_LDAP)
        err, msg = self.connect(tls_verify=False)
        self.assertEqual(err, ERR + "InvalidArgument", msg)
        self.assertIn("tls_fingerprint", msg)
        self.assert_read_only()
        # Warnings: a local OpenLDAP on NS7 while NS8 has its own local domain.
        pinned = {"tls_verify": False, "tls_fingerprint": self.cluster.tls_fingerprint}
        err, msg = self.connect(**pinned)
        self.assertEqual(err, ERR + "PreflightFailed", msg)
        self.assertIn("accept_warnings", msg)
        self.assertIn("[cluster-fresh]", msg)
        self.assertIn("ns8.example", msg)
        self.assertNotIn("[leader-tls]", msg)
        self.assert_read_only()
        self.assertEqual(self.manager()["State"], "disconnected")
        # accept_warnings lets them through.
        self.connect_ok(accept_warnings=True, **pinned)
        self.assertEqual(self.manager()["UserDomain"], USER_DOMAIN)
        self.disconnect(force=True)
        self.assertEqual(self.manager()["State"], "disconnected")

    # -- connected -----------------------------------------------------------
    def test_c_connected_ok(self):
        self.ensure_connected()
        self.seq = self.request_count()
        checks = self.preflight()
        for cid in ("scan", "data-sizes", "ns7-disk", "node-disk"):
            self.assertIn(cid, checks)
        self.ensure_scanned()
        self.seq = self.request_count()
        checks = self.preflight(**GOOD)
        self.assertSeverity(checks, "app-services", "ok", "asterisk")
        self.assertSeverity(checks, "ns7-disk", "ok")
        self.assertSeverity(checks, "node-disk", "ok", "Node 1")
        self.assertSeverity(checks, "cluster-nodes", "ok", "2 nodes", "node option")
        self.assertSeverity(checks, "vpn-endpoint", "ok", "leader.ns8.test:55820")
        self.assertSeverity(checks, "vpn-handshake", "ok")
        self.assertSeverity(checks, "vpn-api", "ok")
        self.assertSeverity(checks, "vpn-firewall", "ok", "green zone (loc)")
        self.assertSeverity(checks, "account-provider", "ok")
        self.assertSeverity(checks, "cluster-fresh", "ok")
        self.assertSeverity(checks, "scan", "ok")
        self.assertSeverity(checks, "fqdns", "ok", "voice.example.test", "cti.example.test")
        self.assertSeverity(checks, "dns-records", "ok", "does not resolve yet", "TTL")
        self.assertSeverity(checks, "data-sizes", "ok", "Call recordings", "typically")
        self.assertIn("connect", checks["vpn-endpoint"]["gates"])
        self.assertIn("start", checks["node-disk"]["gates"])
        self.assertIn("finish", checks["backup"]["gates"])
        # A name that resolves: where to.
        checks = self.preflight(nethvoice_host=self.cluster.leader_host, nethcti_ui_host="cti.example.test")
        self.assertSeverity(checks, "dns-records", "ok", "leader.ns8.test resolves to 192.0.2.1")
        # Bad names block.
        checks = self.preflight(nethvoice_host="voice.example.test", nethcti_ui_host="voice.example.test")
        self.assertSeverity(checks, "fqdns", "blocker")
        checks = self.preflight(nethvoice_host="https://voice.example.test", nethcti_ui_host="cti.example.test")
        self.assertSeverity(checks, "fqdns", "blocker", "URL")

    def test_d_services(self):
        self.ensure_connected()
        sysd = ("org.freedesktop.systemd1", "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager")
        self.bus.call(sysd[1], sysd[2], "StopUnit", "ss", ["asterisk.service", "replace"], dest=sysd[0])
        try:
            self.systemd_seen = len(self.sb.systemd.calls())
            checks = self.preflight()
            self.assertSeverity(checks, "app-services", "warning", "asterisk (inactive)")
        finally:
            self.bus.call(sysd[1], sysd[2], "StartUnit", "ss", ["asterisk.service", "replace"], dest=sysd[0])
        self.systemd_seen = len(self.sb.systemd.calls())
        self.assertSeverity(self.preflight(), "app-services", "ok")

    def set_tunnel_zone(self, tunnel):
        """The package's record changed by hand, then NS7's firewall event;
        what the event restarts is not Preflight's doing."""
        ns7 = self.sb.ns7
        self.assertEqual(ns7.tool("config", "setprop", "ns8-migration", "Tunnel", tunnel).returncode, 0)
        self.assertEqual(ns7.signal_event("firewall-adjust").returncode, 0)
        self.systemd_seen = len(self.sb.systemd.calls())

    def test_d_firewall(self):
        """The tunnel out of NS7's green zone with no temporary user domain
        (NS8 has its own): a warning that says how to put it back."""
        self.ensure_connected()
        self.addCleanup(self.set_tunnel_zone, "enabled")
        self.set_tunnel_zone("disabled")
        c = self.assertSeverity(self.preflight(), "vpn-firewall", "warning", "ns8 in no zone",
                                "signal-event firewall-adjust")
        self.assertEqual(c["gates"], ["start", "finish"])
        self.set_tunnel_zone("enabled")
        self.assertSeverity(self.preflight(), "vpn-firewall", "ok", "green zone (loc)")

    def test_d_release(self):
        # The sample NS7 has the file: without it, the release is unreadable.
        path = os.path.join(self.sb.root, "etc/nethserver-release")
        with open(path) as f:
            original = f.read()
        self.addCleanup(self.write_file, path, original)
        os.remove(path)
        checks = self.preflight()
        self.assertSeverity(checks, "ns7-version", "warning", "could not be read")
        self.write_root("etc/nethserver-release", "NethServer release 7.6.1810 (final)\n")
        self.assertSeverity(self.preflight(), "ns7-version", "warning", "7.6.1810", "Update NS7")
        self.write_root("etc/nethserver-release", "NethServer release 7.9.2009 (final)\n")
        self.assertSeverity(self.preflight(), "ns7-version", "ok", "7.9.2009")

    def test_e_disks(self):
        self.ensure_connected()
        self.ensure_scanned()
        source, database, _ = self.app_row()
        self.addCleanup(self.sql, "UPDATE apps SET source_bytes=?, database_bytes=? WHERE id='nethvoice'",
                        source, database)
        # The node: 10 GiB free; need = data * 1.2 + 512 MiB.
        self.sql("UPDATE apps SET source_bytes=? WHERE id='nethvoice'", 9 * GiB)
        self.assertSeverity(self.preflight(), "node-disk", "blocker", "Node 1 has 10")
        self.sql("UPDATE apps SET source_bytes=? WHERE id='nethvoice'", int(7.4 * GiB) - database)
        self.assertSeverity(self.preflight(), "node-disk", "warning", "20 %")
        # Another node: the worker has the simulator's default 80 GiB.
        self.assertSeverity(self.preflight(node=2), "node-disk", "ok", "Node 2")
        self.assertSeverity(self.preflight(node=9), "cluster-nodes", "blocker", "no node 9")
        self.cluster.control.fault("agent_down", agent="node/2")
        self.assertSeverity(self.preflight(node=2), "cluster-nodes", "warning", "offline")
        self.cluster.control.reset_faults()
        # NS7: the dumps need the databases' size plus half, plus 256 MiB.
        free = os.statvfs(self.sb.state_dir)
        free = free.f_bavail * free.f_frsize
        self.sql("UPDATE apps SET source_bytes=?, database_bytes=? WHERE id='nethvoice'", source, free)
        self.assertSeverity(self.preflight(), "ns7-disk", "blocker")
        self.sql("UPDATE apps SET database_bytes=? WHERE id='nethvoice'", int((free * 0.92 - 256 * MiB) / 1.5))
        self.assertSeverity(self.preflight(), "ns7-disk", "warning", "20 %")

    def test_f_fresh_proxy_account(self):
        # NS7 with a local OpenLDAP, NS8 with its own local domain.
        if self.manager()["State"] == "connected":
            self.disconnect(force=True)
        self.set_provider(LOCAL_LDAP)
        self.connect_ok(accept_warnings=True)
        self.seq = self.request_count()
        self.systemd_seen = len(self.sb.systemd.calls())
        checks = self.preflight()
        self.assertSeverity(checks, "cluster-fresh", "warning", "ns8.example")
        self.assertSeverity(checks, "account-provider", "ok", USER_DOMAIN)
        # The temporary user domain reads NS7's LDAP through the tunnel: out
        # of the green zone, shorewall drops it, and Start and Finish stop.
        self.assertSeverity(checks, "vpn-firewall", "ok", "green zone (loc)")
        self.addCleanup(self.set_tunnel_zone, "enabled")
        self.set_tunnel_zone("disabled")
        self.assertSeverity(self.preflight(), "vpn-firewall", "blocker", "ns8 in no zone", "TCP 636",
                            "signal-event firewall-adjust")
        self.set_tunnel_zone("enabled")
        self.set_provider(None)
        self.assertSeverity(self.preflight(), "cluster-fresh", "ok")
        # NethVoice Proxy: installable but missing, then installed by the administrator.
        self.assertSeverity(self.preflight(), "nethvoice-proxy", "warning", "Start will install it")
        token = self.cluster.login()
        out = self.cluster.run_task("cluster", "add-module", {"image": "nethvoice-proxy", "node": 1}, token)
        self.assertEqual(out["exit_code"], 0, out)
        self.seq = self.request_count()
        self.assertSeverity(self.preflight(), "nethvoice-proxy", "ok", "installed on node 1")
        # A module of the same app on NS8 collides.
        out = self.cluster.run_task("cluster", "add-module", {"image": "nethvoice", "node": 2}, token)
        self.assertEqual(out["exit_code"], 0, out)
        mod = out["output"]["module_id"]
        self.seq = self.request_count()
        self.assertSeverity(self.preflight(), "cluster-fresh", "warning", "module " + mod)
        self.cluster.run_task("cluster", "remove-module", {"module_id": mod, "preserve_data": False}, token)
        # The user domain NS7's accounts appear under disappears from NS8.
        out = self.cluster.run_task("cluster", "remove-external-domain", {"domain": USER_DOMAIN}, token)
        self.assertEqual(out["exit_code"], 0, out)
        self.seq = self.request_count()
        self.assertSeverity(self.preflight(), "account-provider", "blocker", USER_DOMAIN, "missing")
        self.disconnect(force=True)

    def test_g_scan_syncs_backup(self):
        self.ensure_scanned()
        _, _, scan_time = self.app_row()
        self.sql("UPDATE apps SET scan_time=? WHERE id='nethvoice'", scan_time - 3 * 86400 * 10**6)
        self.addCleanup(self.sql, "UPDATE apps SET scan_time=? WHERE id='nethvoice'", scan_time)
        self.assertSeverity(self.preflight(), "scan", "warning", "3 d old")
        self.sql("UPDATE apps SET scan_time=? WHERE id='nethvoice'", scan_time)
        # Syncs: a first one that measured the rate, then the last one.
        checks = self.preflight()
        self.assertFalse(checks["downtime"]["checked"])
        now = int(time.time() * 10**6)
        self.addCleanup(self.sql, "DELETE FROM syncs WHERE app='nethvoice'")
        self.sql("INSERT INTO syncs (app, time, bytes, files, duration) VALUES ('nethvoice', ?, ?, 1000, ?)",
                 now - 3600 * 10**6, 100 * MiB, 10 * 10**6)
        self.sql("INSERT INTO syncs (app, time, bytes, files, duration) VALUES ('nethvoice', ?, ?, 20, ?)",
                 now - 600 * 10**6, 5 * MiB, 30 * 10**6)
        checks = self.preflight()
        self.assertSeverity(checks, "sync-estimate", "ok", "10.0 MiB/s", "full copy")
        # Finish's parts (operations/estimate.h): a session per transfer,
        # the dumps, NS8's import...: seconds, not the last sync plus a minute.
        down = self.assertSeverity(checks, "downtime", "ok")
        need = int(re.search(r"about (\d+) s of downtime", down["detail"]).group(1))
        self.assertTrue(5 <= need < 40, down)
        # A last sync that moved 20 GiB in 3 hours: that much changes while
        # Finish's presync runs, and the last sync carries it.
        self.sql("UPDATE syncs SET duration=?, bytes=? WHERE duration=?", 3 * 3600 * 10**6, 20 * 1024 * MiB, 30 * 10**6)
        self.assertSeverity(self.preflight(), "downtime", "warning", "2 hours")
        self.sql("UPDATE syncs SET duration=?, bytes=?, time=? WHERE duration=?", 30 * 10**6, 5 * MiB,
                 now - 2 * 86400 * 10**6, 3 * 3600 * 10**6)
        self.assertSeverity(self.preflight(), "downtime", "warning", "Sync again")
        # Backup: none, never ran, failed, old, recent.
        self.assertSeverity(self.preflight(), "backup", "warning", "No backup is configured")
        self.write_root("var/lib/nethserver/db/backups",
                        "nightly=restic|BackupTime|15 1 * * *|SftpHost|192.0.2.200|VFSType|sftp|status|enabled\n")
        self.assertSeverity(self.preflight(), "backup", "warning", "never run")
        self.write_root("var/spool/backup/status-nightly", "1\n", age=3600)
        self.assertSeverity(self.preflight(), "backup", "warning", "failed", "exit code 1")
        self.write_root("var/spool/backup/status-nightly", "0\n", age=2 * 86400)
        self.assertSeverity(self.preflight(), "backup", "warning", "older than a day")
        self.write_root("var/spool/backup/status-nightly", "0\n", age=3600)
        self.assertSeverity(self.preflight(), "backup", "ok", "nightly", "sftp 192.0.2.200", "succeeded")

    def test_g_symlinks(self):
        # Links NS8's receiver (no chroot, "munge symlinks = no") stores as
        # they are: an absolute one loses its leading /, one leading out of
        # its transfer's tree names what is not copied.  Both point nowhere.
        profile = expect.load_profile()
        transfer = next(t for t in profile["transfers"]
                        if not t.get("optional") and t["source"].endswith("/") and "*" not in t["source"]
                        and os.path.isdir(os.path.join(self.sb.root, t["source"].strip("/"))))
        top = os.path.join(self.sb.root, transfer["source"].strip("/"))
        src = "/" + transfer["source"].strip("/")
        absolute = os.path.join(top, "ns8m-absolute-link")
        subdir = os.path.join(top, "ns8m-links")
        escaping = os.path.join(subdir, "escaping-link")
        inside = os.path.join(subdir, "inside-link")

        def remove():
            for p in (absolute, escaping, inside):
                if os.path.lexists(p):
                    os.remove(p)
            if os.path.isdir(subdir):
                os.rmdir(subdir)
        self.addCleanup(remove)
        os.makedirs(subdir)
        os.symlink("/etc/hosts", absolute)
        os.symlink("../../x", escaping)
        os.symlink("../ns8m-absolute-link", inside)  # within the tree: fine
        self.run_ok("Scan", "a{sv}", [{}])
        links = {d["id"]: d for d in self.app()["ScanSymlinks"]}
        self.assertLessEqual(set(links), {t["id"] for t in profile["transfers"]})
        mine = links[transfer["id"]]
        self.assertEqual((mine["absolute"], mine["escaping"]), (1, 1), mine)
        self.assertEqual(list(mine["absolute_paths"]), [src + "/ns8m-absolute-link"])
        self.assertEqual(list(mine["escaping_paths"]), [src + "/ns8m-links/escaping-link"])
        for tid, d in links.items():
            if tid != transfer["id"]:
                self.assertEqual((d["absolute"], d["escaping"]), (0, 0), d)
        c = self.assertSeverity(self.preflight(), "symlinks", "warning",
                                "1 absolute symbolic link(s)", "and 1 whose target is outside",
                                src + "/ns8m-absolute-link", src + "/ns8m-links/escaping-link",
                                "pointing nowhere on NS8", "relative", "copy of its target")
        self.assertEqual(c["group"], "data")
        self.assertEqual(sorted(c["gates"]), ["finish", "start"])
        self.assertNotIn("inside-link", c["detail"])
        # The same tree without them: nothing to say.
        remove()
        self.run_ok("Scan", "a{sv}", [{}])
        mine = {d["id"]: d for d in self.app()["ScanSymlinks"]}[transfer["id"]]
        self.assertEqual((mine["absolute"], mine["escaping"], list(mine["absolute_paths"])), (0, 0, []))
        self.assertSeverity(self.preflight(), "symlinks", "ok", "no absolute symbolic link")

    def test_h_tunnel_down(self):
        self.ensure_connected()
        self.assertSeverity(self.preflight(), "vpn-handshake", "ok")
        self.in_ns7("ip", "link", "del", "ns8", check=True)
        try:
            # Joined, the checks ask NS8 through the tunnel only: without it
            # the report is refused, saying why (integration.tunnel_only
            # checks that nothing leaves).
            err, msg = self.bus.call_error(ROOT, MANAGER_IFACE, "Preflight", "a{sv}", [{}], timeout=60)
            self.assertEqual(err, ERR + "TunnelDown", msg)
            self.assertIn("VPN interface ns8", msg)
        finally:
            self.sb.helper.restart()  # puts the tunnel back
        deadline = time.monotonic() + 40
        while self.in_ns7("ping", "-c", "1", "-W", "1", self.cluster.leader_vpn_ip).returncode != 0:
            self.assertLess(time.monotonic(), deadline, "the tunnel did not come back")
            time.sleep(0.5)
        self.seq = self.request_count()
        self.assertSeverity(self.preflight(), "vpn-api", "ok")

    def test_i_helper_killed(self):
        # A crash of the helper leaves the tunnel up: once it is back, the
        # API through the tunnel proves the handshakes, nothing blocks.
        self.ensure_connected()
        self.sb.helper.kill()
        self.sb.helper.start()
        self.seq = self.request_count()
        checks = self.preflight()
        self.assertSeverity(checks, "vpn-api", "ok")
        self.assertSeverity(checks, "vpn-handshake", "ok")


if __name__ == "__main__":
    import unittest
    unittest.main()
