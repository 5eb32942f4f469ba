"""import-module: the rsync receivers, reached from NS7 through the VPN, and
what a nethvoice module then does with state/ (NETHVOICE.md, "What NS8 does
with state/"): the astdb dump into sqlite3, restore/ through MariaDB's
entrypoint, restore_background/ at configure-module; and configure-module's
own checks (the image's agi-bin scripts, keys nobody reads); and an image a test
adds to the catalog, which restores its MariaDB the same way."""

import collections
import gzip
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
import unittest

from ns8sim import testing
from ns8sim.ns7vpn import Ns7Tunnel

ASTDB_ROWS = {"/AMPUSER/201/cidname": "Mario Rossi", "/DEVICE/201/dial": "PJSIP/201",
              "/CF/201": "0721400000", "/DAYNIGHT/C0": "DAY"}
GOOD_CONFIG = {"nethvoice_host": "voice.example.org", "nethcti_ui_host": "cti.example.org",
               "reports_international_prefix": "+39", "user_domain": "example.org",
               "timezone": "Europe/Rome", "lets_encrypt": False}


def sqlite_dump(rows):
    """What `sqlite3 astdb.sqlite3 .dump` prints for an astdb with these rows."""
    d = tempfile.mkdtemp()
    try:
        path = os.path.join(d, "astdb.sqlite3")
        db = sqlite3.connect(path)
        db.execute("CREATE TABLE astdb(key VARCHAR(256), value VARCHAR(256), PRIMARY KEY(key))")
        db.executemany("INSERT INTO astdb VALUES (?, ?)", sorted(rows.items()))
        db.commit()
        db.close()
        return subprocess.run(["sqlite3", path, ".dump"], check=True, capture_output=True,
                              text=True).stdout
    finally:
        shutil.rmtree(d)


def rows_of(*rows):
    """Rows in the form of ControlClient.module_table_rows (None = NULL)."""
    return collections.Counter(tuple(b"N" if v is None else b"v" + v.encode() for v in r)
                               for r in rows)


# configure-module of "gadget", an image a test adds to the catalog.
GADGET_SCHEMA = {"$schema": "http://json-schema.org/draft-07/schema#", "type": "object",
                 "required": ["name"], "properties": {"name": {"type": "string", "minLength": 1}}}


class ImportTest(testing.ClusterTestCase):
    cluster_kwargs = {"peer_delay": 0.2, "task_delay": 0.2}

    @classmethod
    def setUpClass(cls):
        # An image of the test's own: restores a MariaDB, brings its schema.
        cls.gadget_schemas = tempfile.mkdtemp(prefix="ns8sim-gadget-")
        cls.addClassCleanup(shutil.rmtree, cls.gadget_schemas, True)
        os.makedirs(os.path.join(cls.gadget_schemas, "configure-module"))
        with open(os.path.join(cls.gadget_schemas, "configure-module", "validate-input.json"), "w") as f:
            json.dump(GADGET_SCHEMA, f)
        cls.cluster_kwargs = dict(cls.cluster_kwargs, images={"gadget": {
            "restore": "mariadb", "schemas": cls.gadget_schemas, "reads": ["colour"]}})
        super().setUpClass()
        c = cls.cluster
        priv, pub = testing.genkey()
        res = c.run_task("cluster", "add-node", testing.add_node_input(pub),
                         token=cls.admin_token)
        assert res["exit_code"] == 0, res
        cls.joined = res["output"]
        cls.tunnel = Ns7Tunnel(c.topology, priv)
        cls.addClassCleanup(cls.tunnel.down)
        cls.tunnel.up(cls.joined)
        testing.util.wait_for(
            lambda: c.topology.run("ns7", ["ping", "-c1", "-W1", c.leader_vpn_ip],
                                   check=False).returncode == 0, 30, "the VPN to come up")
        cls.src = os.path.join(c.run_dir, "ns7-source")
        os.makedirs(os.path.join(cls.src, "sounds", "it", "custom"))
        with open(os.path.join(cls.src, "sounds", "it", "custom", "hello.wav"), "wb") as f:
            f.write(b"RIFF" + os.urandom(4000))
        os.makedirs(os.path.join(cls.src, "restore"))
        with open(os.path.join(cls.src, "restore", "10_asterisk_structure.sql"), "w") as f:
            f.write("CREATE DATABASE asterisk;\n")
        with open(os.path.join(cls.src, "restore", "astdb.sqlite3.dump"), "w") as f:
            f.write(sqlite_dump(ASTDB_ROWS))

    def rsync(self, args, password, ns="ns7"):
        env = dict(os.environ, RSYNC_PASSWORD=password)
        return self.cluster.topology.run(ns, ["rsync"] + args, check=False, env=env,
                                         timeout=120)

    def import_module(self, node=1, volumes=("sounds", "asterisk")):
        res = self.run_task("cluster", "import-module",
                            {"image": "nethvoice", "node": node, "volumes": list(volumes)})
        self.assertEqual(res["exit_code"], 0, res)
        return res["output"]

    def upload(self, out, password=None):
        user, pw = out["credentials"]
        url = "rsync://%s@%s:%d/data/" % (user, out["address"], out["port"])
        p1 = self.rsync(["-a", "--chown=990:991", "--numeric-ids",
                         self.src + "/sounds/", url + "volumes/sounds/"], password or pw)
        p2 = self.rsync(["-a", self.src + "/restore", url + "state/"], password or pw)
        return p1, p2

    def test_upload_terminate_and_task(self):
        c = self.cluster
        out = self.import_module()
        mid = out["module_id"]
        self.assertRegex(mid, r"^nethvoice\d+$")
        self.assertEqual(out["credentials"][0], mid)
        self.assertEqual(out["address"], c.leader_vpn_ip)
        self.assertTrue(out["task"].startswith("module/%s/task/" % mid))
        agent, tid = out["task"].rsplit("/task/", 1)

        # the module-side task runs until /terminate is read
        code, body = c.curl("GET", "/%s/task/%s/status" % (agent, tid), token=self.admin_token)
        self.assertEqual((code, body), (400, {"code": 400, "message":
                                              "error getting task status from redis",
                                              "data": "redis: nil"}))
        code, body = c.curl("GET", "/%s/task/%s/context" % (agent, tid), token=self.admin_token)
        self.assertEqual(code, 200)
        self.assertEqual(body["data"]["action"], "import-module")

        p1, p2 = self.upload(out)
        self.assertEqual(p1.returncode, 0, p1.stderr)
        self.assertEqual(p2.returncode, 0, p2.stderr)
        m = c.control.module(mid)
        srv = m["srv"]
        wav = os.path.join(srv, "volumes", "sounds", "it", "custom", "hello.wav")
        with open(wav, "rb") as f, open(os.path.join(self.src, "sounds", "it", "custom",
                                                     "hello.wav"), "rb") as g:
            self.assertEqual(f.read(), g.read())
        st = os.stat(wav)
        self.assertEqual((st.st_uid, st.st_gid), (990, 991))
        sql = os.path.join(srv, "state", "restore", "10_asterisk_structure.sql")
        with open(sql) as f:
            self.assertEqual(f.read(), "CREATE DATABASE asterisk;\n")
        files = {f["path"]: f for f in m["files"]}
        self.assertEqual(files["volumes/sounds/it/custom/hello.wav"]["uid"], 990)
        self.assertEqual(files["volumes/sounds/it/custom/hello.wav"]["gid"], 991)
        self.assertEqual(files["volumes/sounds/it/custom/hello.wav"]["size"], 4004)
        self.assertIn("state/restore/10_asterisk_structure.sql", files)
        self.assertTrue(m["receiver"]["running"])

        # still running after the uploads
        self.assertEqual(c.curl("GET", "/%s/task/%s/status" % (agent, tid),
                                token=self.admin_token)[0], 400)
        user, pw = out["credentials"]
        p = self.rsync(["rsync://%s@%s:%d/terminate" % (user, out["address"], out["port"])], pw)
        self.assertEqual(p.returncode, 0, p.stderr)
        res = c.wait_task(agent, tid, self.admin_token, timeout=60)
        self.assertEqual(res["exit_code"], 0, res)
        m = c.control.module(mid)
        self.assertFalse(m["receiver"]["running"])
        # the nethvoice module restored state/: the astdb, then MariaDB
        self.assertEqual(c.control.module_astdb(mid), ASTDB_ROWS)
        self.assertFalse(os.path.exists(os.path.join(srv, "state/restore/astdb.sqlite3.dump")))
        self.assertEqual(c.control.module_sql(mid, "SHOW DATABASES LIKE 'asterisk'"), [["asterisk"]])
        self.assertTrue(m["receiver"]["terminated_by_client"])
        # the server is gone
        p = self.rsync(["rsync://%s@%s:%d/data/" % (user, out["address"], out["port"])], pw)
        self.assertNotEqual(p.returncode, 0)

        # module/<id> import-module starts it again, with a task of its own
        code, body = c.submit(agent, "import-module",
                              {"credentials": out["credentials"], "port": out["port"],
                               "volumes": ["sounds", "asterisk"]}, token=self.admin_token)
        self.assertEqual(code, 201, body)
        tid2 = body["data"]["id"]
        self.wait_for(lambda: c.control.module(mid)["receiver"]["running"], 20,
                      "the receiver to restart")
        p = self.rsync(["-a", self.src + "/sounds/", "rsync://%s@%s:%d/data/volumes/asterisk/"
                        % (user, out["address"], out["port"])], pw)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertTrue(os.path.exists(os.path.join(srv, "volumes/asterisk/it/custom/hello.wav")))
        # the first import consumed the astdb dump: this one needs it again
        p = self.rsync(["-a", self.src + "/restore", "rsync://%s@%s:%d/data/state/"
                        % (user, out["address"], out["port"])], pw)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(c.curl("GET", "/%s/task/%s/status" % (agent, tid2),
                                token=self.admin_token)[0], 400)
        p = self.rsync(["rsync://%s@%s:%d/terminate" % (user, out["address"], out["port"])], pw)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(c.wait_task(agent, tid2, self.admin_token, timeout=60)["exit_code"], 0)

    def test_wrong_password_and_outside_vpn_are_refused(self):
        c = self.cluster
        out = self.import_module()
        user, pw = out["credentials"]
        p1, _ = self.upload(out, password="not-the-password")
        self.assertEqual(p1.returncode, 5, p1.stderr)
        self.assertIn("auth failed", p1.stderr)
        # from the leader's underlay address (192.0.2.1), not in the VPN network
        p = self.rsync(["--address=" + c.topology.leader_ip, "-a", self.src + "/sounds/",
                        "rsync://%s@%s:%d/data/volumes/sounds/" % (user, out["address"],
                                                                   out["port"])],
                       pw, ns="leader")
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("access denied", p.stderr)
        # nothing arrived
        files = [f for f in c.control.module(out["module_id"])["files"] if f["type"] == "file"]
        self.assertEqual(files, [])
        # the listing does not show [terminate]
        p = self.rsync(["rsync://%s@%s:%d/" % (user, out["address"], out["port"])], pw)
        self.assertIn("data", p.stdout)
        self.assertNotIn("terminate", p.stdout)
        self.assertEqual(self.run_task("cluster", "remove-module",
                                       {"module_id": out["module_id"],
                                        "preserve_data": False})["exit_code"], 0)

    def test_worker_receiver_through_the_leader(self):
        c = self.cluster
        out = self.import_module(node=2, volumes=["spool"])
        self.assertEqual(out["address"], c.worker_vpn_ip)
        user, pw = out["credentials"]
        p = self.rsync(["-a", "--chown=990:991", self.src + "/sounds/",
                        "rsync://%s@%s:%d/data/volumes/spool/" % (user, out["address"],
                                                                  out["port"])], pw)
        self.assertEqual(p.returncode, 0, p.stderr)
        m = c.control.module(out["module_id"])
        self.assertEqual(m["node"], 2)
        self.assertIn("/nodes/2/", m["srv"])
        f = {x["path"]: x for x in m["files"]}["volumes/spool/it/custom/hello.wav"]
        self.assertEqual((f["uid"], f["gid"], f["size"]), (990, 991, 4004))
        # the worker's disk status accounts for the received bytes
        before = c.control.state()
        res = self.run_task("node/2", "get-node-status")
        self.assertEqual(res["exit_code"], 0)
        root = [d for d in res["output"]["disks"] if d["mountpoint"] == "/"][0]
        self.assertEqual(root["free"], 80 * 2**30 - sum(
            x["size"] for mm in before["modules"] if mm["node"] == 2
            for x in mm["files"] if x["type"] == "file"))

    def test_configure_and_remove(self):
        c = self.cluster
        out = self.import_module()
        mid = out["module_id"]
        agent = "module/" + mid
        bad = {"nethvoice_host": "192.0.2.50", "nethcti_ui_host": "cti_host.example.org",
               "reports_international_prefix": "39"}
        res = self.run_task(agent, "configure-module", bad)
        self.assertEqual(res["exit_code"], 10)
        errors = {e["field"]: e["error"] for e in res["output"]}
        self.assertEqual(errors, {"nethvoice_host": "nethvoice_host_number_not",
                                  "nethcti_ui_host": "nethcti_ui_host_format",
                                  "reports_international_prefix":
                                  "reports_international_prefix_pattern"})
        self.assertIsNone(c.control.module(mid)["configuration"])
        good = {"nethvoice_host": "voice.example.org", "nethcti_ui_host": "cti.example.org",
                "reports_international_prefix": "+39", "user_domain": "example.org",
                "timezone": "Europe/Rome", "lets_encrypt": False,
                "nethvoice_adm_username": "admin", "nethvoice_adm_password": "s3cr3t"}
        res = self.run_task(agent, "configure-module", good)
        self.assertEqual(res["exit_code"], 0, res)
        m = c.control.module(mid)
        self.assertEqual(m["configuration"], good)
        self.assertEqual(m["configure_history"][-1]["input"]["nethvoice_adm_password"], "XXX")
        log = [e for e in c.control.requests() if e["action"] == "configure-module"]
        self.assertEqual([e["validation"] for e in log[-2:]], ["invalid", "valid"])
        self.assertEqual([e["exit_code"] for e in log[-2:]], [10, 0])
        self.assertNotIn("s3cr3t", str(log))

        # remove-module stops the receiver and deletes the data
        srv = m["srv"]
        agent_t, tid = out["task"].rsplit("/task/", 1)
        res = self.run_task("cluster", "remove-module", {"module_id": mid,
                                                         "preserve_data": False})
        self.assertEqual((res["exit_code"], res["output"]), (0, {}))
        self.assertFalse(os.path.exists(srv))
        self.assertIsNone(c.control.module(mid))
        user, pw = out["credentials"]
        p = self.rsync(["rsync://%s@%s:%d/data/" % (user, out["address"], out["port"])], pw)
        self.assertNotEqual(p.returncode, 0)
        # the module's agent is gone: its tasks are refused
        code, body = c.submit(agent, "configure-module", good, token=self.admin_token)
        self.assertEqual((code, body["message"]), (404, "client idle check failed"))
        res = self.run_task("cluster", "remove-module", {"module_id": mid,
                                                         "preserve_data": False})
        self.assertEqual(res["exit_code"], 2)
        self.assertIn("not found", res["error"])

    # -- what a nethvoice module does with state/ ----------------------------------------
    def restore(self, restore, background=None, volumes=("sounds",), node=1):
        """A nethvoice module that receives restore/ (and restore_background/)
        with these {name: text or bytes} files, then the transfer ends: (the
        cluster import-module's output, the module import task's result)."""
        c = self.cluster
        out = self.import_module(node=node, volumes=volumes)
        self.addCleanup(self.run_task, "cluster", "remove-module",
                        {"module_id": out["module_id"], "preserve_data": False})
        user, pw = out["credentials"]
        url = "rsync://%s@%s:%d/" % (user, out["address"], out["port"])
        src = tempfile.mkdtemp(dir=c.run_dir)
        for folder, files in (("restore", restore), ("restore_background", background)):
            if files is None:
                continue
            os.makedirs(os.path.join(src, folder))
            for name, content in files.items():
                with open(os.path.join(src, folder, name), "wb" if isinstance(content, bytes)
                          else "w") as f:
                    f.write(content)
            p = self.rsync(["-a", os.path.join(src, folder), url + "data/state/"], pw)
            self.assertEqual(p.returncode, 0, p.stderr)
        p = self.rsync([url + "terminate"], pw)
        self.assertEqual(p.returncode, 0, p.stderr)
        agent, tid = out["task"].rsplit("/task/", 1)
        return out, c.wait_task(agent, tid, self.admin_token, timeout=120)

    def restore_log(self, mid, phase="import"):
        return [(e["file"], e["status"]) for e in self.cluster.control.module(mid)["restore_log"]
                if e["phase"] == phase]

    def test_restore_loads_the_astdb_and_every_sql_file_in_name_order(self):
        c = self.cluster
        data = ("SET NAMES utf8mb4;\n"  # as mysqldump writes it
                "INSERT INTO asterisk.users VALUES ('201', 'Mario Rossi', NULL), "
                "('202', 'NULL', 'Caff\u00e8'), ('202', 'NULL', 'Caff\u00e8');\n")
        out, res = self.restore({
            "astdb.sqlite3.dump": sqlite_dump(ASTDB_ROWS),
            "10_asterisk_structure.sql": "DROP DATABASE IF EXISTS asterisk;\nCREATE DATABASE asterisk;\n"
                                         "CREATE TABLE asterisk.users (extension varchar(20), "
                                         "name varchar(50), note varchar(50));\n",
            "20_phonebook_structure.sql.gz": gzip.compress(
                b"CREATE DATABASE phonebook;\nCREATE TABLE phonebook.phonebook (id int PRIMARY KEY);\n"),
            "60_asterisk_data.sql": data,
            "README": "not SQL: the entrypoint ignores it\n",
            # after zz_restore.sh, which ends the entrypoint's run: never loaded
            "zzz_late.sql": "THIS IS NOT SQL;\n"})
        self.assertEqual(res["exit_code"], 0, res)
        mid = out["module_id"]
        self.assertEqual(c.control.module_astdb(mid), ASTDB_ROWS)
        self.assertEqual(c.control.module_tables(mid, ["asterisk", "phonebook"]),
                         ["asterisk.users", "phonebook.phonebook"])
        rows = c.control.module_table_rows(mid, ["asterisk", "phonebook"])
        self.assertEqual(rows, {"asterisk.users": rows_of(("201", "Mario Rossi", None),
                                                          ("202", "NULL", "Caff\u00e8"),
                                                          ("202", "NULL", "Caff\u00e8")),
                                "phonebook.phonebook": collections.Counter()})
        self.assertEqual(self.restore_log(mid), [
            ("restore/astdb.sqlite3.dump", "loaded"),
            ("restore/10_asterisk_structure.sql", "loaded"),
            ("restore/20_phonebook_structure.sql.gz", "loaded"),
            ("restore/60_asterisk_data.sql", "loaded"),
            ("restore/99permissions.sh", "ran"),
            ("restore/README", "ignored"),
            ("restore/zz_restore.sh", "ended the run"),
            ("restore/zzz_late.sql", "not reached")])
        m = c.control.module(mid)
        files = {f["path"] for f in m["files"]}
        self.assertNotIn("state/restore/astdb.sqlite3.dump", files)
        self.assertLessEqual({"state/restore/99permissions.sh", "state/restore/zz_restore.sh"}, files)
        # the module's own server, on a unix socket in the module's folder only
        self.assertTrue(m["mariadb"]["running"])
        self.assertTrue(m["mariadb"]["socket"].startswith(m["dir"] + "/"))
        self.assertEqual(c.control.module_sql(mid, "SELECT @@skip_networking"), [["1"]])
        self.assertEqual(c.control.module_sql(mid, "SELECT COUNT(*) FROM mysql.user "
                                                   "WHERE user = 'freepbxuser'"), [["1"]])
        # remove-module stops it
        pid = m["mariadb"]["pid"]
        self.assertEqual(self.run_task("cluster", "remove-module",
                                       {"module_id": mid, "preserve_data": False})["exit_code"], 0)
        self.assertFalse(os.path.exists("/proc/%d" % pid) and
                         open("/proc/%d/stat" % pid).read().split(") ", 1)[1][0] != "Z")

    def test_missing_astdb_dump_fails_the_import(self):
        c = self.cluster
        out, res = self.restore({"10_asterisk_structure.sql": "CREATE DATABASE asterisk;\n"})
        self.assertEqual(res["exit_code"], 1, res)
        # as NS8's `set -e` step: the shell cannot open the dump
        self.assertIn("restore/astdb.sqlite3.dump: No such file or directory", res["error"])
        mid = out["module_id"]
        self.assertEqual(self.restore_log(mid), [("restore/astdb.sqlite3.dump", "failed")])
        m = c.control.module(mid)
        self.assertIsNone(m["mariadb"])  # the import stopped before MariaDB
        self.assertIsNone(c.control.module_astdb(mid))

    def test_an_sqlite_dump_named_sql_fails_at_its_first_statement(self):
        c = self.cluster
        dump = sqlite_dump(ASTDB_ROWS)
        self.assertTrue(dump.startswith("PRAGMA foreign_keys=OFF;"), dump[:100])
        out, res = self.restore({"astdb.sqlite3.dump": dump, "astdb.sql": dump,
                                 "10_asterisk_structure.sql": "CREATE DATABASE asterisk;\n"})
        self.assertEqual(res["exit_code"], 1, res)
        self.assertIn("ERROR 1064 (42000) at line 1", res["error"])
        self.assertIn("near 'PRAGMA foreign_keys=OFF'", res["error"])
        mid = out["module_id"]
        self.assertEqual(self.restore_log(mid), [
            ("restore/astdb.sqlite3.dump", "loaded"),
            ("restore/10_asterisk_structure.sql", "loaded"),
            ("restore/99permissions.sh", "ran"),
            ("restore/astdb.sql", "failed"),
            ("restore/zz_restore.sh", "not reached")])
        self.assertEqual(c.control.module_astdb(mid), ASTDB_ROWS)

    def test_restore_background_loads_at_configure_module(self):
        c = self.cluster
        cdr = ("CREATE DATABASE asteriskcdrdb;\n"
               "CREATE TABLE asteriskcdrdb.cdr (id int PRIMARY KEY, src varchar(20));\n")
        out, res = self.restore(
            {"astdb.sqlite3.dump": sqlite_dump(ASTDB_ROWS), "30_asteriskcdrdb_structure.sql": cdr},
            background={"80_asteriskcdrdb_data.sql": "INSERT INTO asteriskcdrdb.cdr VALUES "
                                                     "(1, '201'), (2, '202');\n",
                        "80_asteriskcdrdb_data_000001_cdr.sql":
                            "INSERT INTO asteriskcdrdb.cdr VALUES (3, '203');\n",
                        "notes.txt": "not *.sql: left alone\n"})
        self.assertEqual(res["exit_code"], 0, res)
        mid = out["module_id"]
        # the import leaves restore_background/ alone
        self.assertEqual(c.control.module_table_rows(mid, ["asteriskcdrdb"]),
                         {"asteriskcdrdb.cdr": collections.Counter()})
        res = self.run_task("module/" + mid, "configure-module", GOOD_CONFIG)
        self.assertEqual(res["exit_code"], 0, res)
        self.assertEqual(c.control.module_table_rows(mid, ["asteriskcdrdb"]),
                         {"asteriskcdrdb.cdr": rows_of(("1", "201"), ("2", "202"), ("3", "203"))})
        m = c.control.module(mid)
        bg = os.path.join(m["srv"], "state", "restore_background")
        self.assertEqual(os.listdir(bg), ["notes.txt"])
        self.assertEqual(self.restore_log(mid, "configure"), [
            ("restore_background/80_asteriskcdrdb_data.sql", "loaded"),
            ("restore_background/80_asteriskcdrdb_data_000001_cdr.sql", "loaded")])
        # nothing left to load: a second configure-module loads nothing
        res = self.run_task("module/" + mid, "configure-module", GOOD_CONFIG)
        self.assertEqual(res["exit_code"], 0, res)
        self.assertEqual(len(self.restore_log(mid, "configure")), 2)
        # a file that fails fails configure-module and stays; the others load
        # (written straight into the module, as if uploaded)
        for name, sql in (("80_a_bad.sql", "INSERT INTO asteriskcdrdb.cdr VALUES (1, 'dup');\n"),
                          ("80_b_good.sql", "INSERT INTO asteriskcdrdb.cdr VALUES (4, '204');\n")):
            with open(os.path.join(bg, name), "w") as f:
                f.write(sql)
        res = self.run_task("module/" + mid, "configure-module", GOOD_CONFIG)
        self.assertEqual(res["exit_code"], 1, res)
        self.assertIn("80_a_bad.sql", res["error"])
        self.assertIn("ERROR 1062 (23000)", res["error"])
        self.assertEqual(sorted(os.listdir(bg)), ["80_a_bad.sql", "notes.txt"])
        self.assertEqual(self.restore_log(mid, "configure")[2:], [
            ("restore_background/80_a_bad.sql", "failed"),
            ("restore_background/80_b_good.sql", "loaded")])

    def test_agi_bin_script_of_the_image_refuses_configure_module(self):
        c = self.cluster
        out = self.import_module(volumes=["agi-bin"])
        mid = out["module_id"]
        self.addCleanup(self.run_task, "cluster", "remove-module",
                        {"module_id": mid, "preserve_data": False})
        user, pw = out["credentials"]
        src = tempfile.mkdtemp(dir=c.run_dir)
        for name in ("phpagi.php", "my_crm.php", "dialparties.agi"):
            with open(os.path.join(src, name), "w") as f:
                f.write("<?php\n")
        url = "rsync://%s@%s:%d/data/volumes/agi-bin/" % (user, out["address"], out["port"])
        p = self.rsync(["-a", src + "/", url], pw)
        self.assertEqual(p.returncode, 0, p.stderr)
        res = self.run_task("module/" + mid, "configure-module", GOOD_CONFIG)
        self.assertEqual(res["exit_code"], 2, res)
        # phpagi.php is the image's; dialparties.agi is not (only the
        # original tool excluded it)
        self.assertEqual(res["output"], [{"field": "agi-bin", "parameter": "agi-bin",
                                          "value": "phpagi.php", "error": "agi-bin_image_script"}])
        self.assertIn("phpagi.php", res["error"])
        self.assertIsNone(c.control.module(mid)["configuration"])
        os.unlink(os.path.join(src, "phpagi.php"))
        p = self.rsync(["-a", "--delete", src + "/", url], pw)
        self.assertEqual(p.returncode, 0, p.stderr)
        res = self.run_task("module/" + mid, "configure-module", GOOD_CONFIG)
        self.assertEqual(res["exit_code"], 0, res)

    def test_configure_module_logs_keys_nobody_reads(self):
        c = self.cluster
        out = self.import_module()
        mid = out["module_id"]
        self.addCleanup(self.run_task, "cluster", "remove-module",
                        {"module_id": mid, "preserve_data": False})
        seq = len(c.control.requests())
        extra = dict(GOOD_CONFIG, brand_name="NethVoice", http2https=True,
                     subscription_secret="s3cr3t", nethvoice_adm_username="admin",
                     app_brand_id="acme")
        for data in (GOOD_CONFIG, extra, dict(extra, reports_international_prefix="39")):
            self.run_task("module/" + mid, "configure-module", data)
        log = [e for e in c.control.requests(since=seq) if e["action"] == "configure-module"]
        unknown = ["brand_name", "http2https", "subscription_secret"]
        self.assertEqual([e["unknown_keys"] for e in log], [[], unknown, unknown])
        self.assertEqual([e["exit_code"] for e in log], [0, 0, 10])
        history = c.control.module(mid)["configure_history"]
        self.assertEqual([h["unknown_keys"] for h in history], [[], unknown])
        self.assertNotIn("s3cr3t", str(log) + str(history))
        self.assertIn("brand_name, http2https, subscription_secret", c.server_log())

    def test_other_images_restore_nothing(self):
        c = self.cluster
        res = self.run_task("cluster", "import-module", {"image": "dokuwiki", "node": 1,
                                                         "volumes": ["dokuwiki-data"]})
        self.assertEqual(res["exit_code"], 0, res)
        out = res["output"]
        self.addCleanup(self.run_task, "cluster", "remove-module",
                        {"module_id": out["module_id"], "preserve_data": False})
        user, pw = out["credentials"]
        p = self.rsync(["rsync://%s@%s:%d/terminate" % (user, out["address"], out["port"])], pw)
        self.assertEqual(p.returncode, 0, p.stderr)
        agent, tid = out["task"].rsplit("/task/", 1)
        self.assertEqual(c.wait_task(agent, tid, self.admin_token, timeout=30)["exit_code"], 0)
        m = c.control.module(out["module_id"])
        self.assertEqual(m["restore_log"], [])
        self.assertNotIn("mariadb", m)
        res = self.run_task(agent, "configure-module", {"anything": 1})
        log = [e for e in c.control.requests() if e.get("task_id") == res["file"].rsplit("/", 1)[1]]
        self.assertNotIn("unknown_keys", log[0])


    def test_an_image_added_by_a_test_restores_its_mariadb(self):
        c = self.cluster
        res = self.run_task("cluster", "import-module", {"image": "gadget", "node": 1,
                                                         "volumes": ["gadgetdata"]})
        self.assertEqual(res["exit_code"], 0, res)
        out = res["output"]
        mid = out["module_id"]
        self.assertRegex(mid, r"^gadget\d+$")
        self.addCleanup(self.run_task, "cluster", "remove-module",
                        {"module_id": mid, "preserve_data": False})
        src = os.path.join(c.run_dir, "gadget-source")
        os.makedirs(os.path.join(src, "restore"))
        os.makedirs(os.path.join(src, "restore_background"))
        with open(os.path.join(src, "restore", "10_gadget.sql"), "w") as f:
            f.write("CREATE DATABASE gadget;\nCREATE TABLE gadget.parts (name VARCHAR(20));\n"
                    "INSERT INTO gadget.parts VALUES ('cog'), ('spring');\n")
        with open(os.path.join(src, "restore_background", "80_gadget_more.sql"), "w") as f:
            f.write("INSERT INTO gadget.parts VALUES ('lever');\n")
        user, pw = out["credentials"]
        url = "rsync://%s@%s:%d/" % (user, out["address"], out["port"])
        p = self.rsync(["-a", src + "/restore", src + "/restore_background", url + "data/state/"], pw)
        self.assertEqual(p.returncode, 0, p.stderr)
        p = self.rsync([url + "terminate"], pw)
        self.assertEqual(p.returncode, 0, p.stderr)
        agent, tid = out["task"].rsplit("/task/", 1)
        self.assertEqual(c.wait_task(agent, tid, self.admin_token, timeout=60)["exit_code"], 0)
        # Only what was sent: no astdb, no NethVoice service accounts.
        m = c.control.module(mid)
        self.assertEqual([(e["step"], e["file"], e["status"]) for e in m["restore_log"]],
                         [("initdb", "restore/10_gadget.sql", "loaded")])
        self.assertEqual(c.control.module_table_rows(mid, ["gadget"]),
                         {"gadget.parts": rows_of(("cog",), ("spring",))})
        # configure-module: the image's own schema, its keys, the background load.
        res = self.run_task(agent, "configure-module", {"colour": "red"})
        self.assertEqual(res["exit_code"], 10, res)
        seq = len(c.control.requests())
        res = self.run_task(agent, "configure-module", {"name": "g", "colour": "red", "junk": 1})
        self.assertEqual(res["exit_code"], 0, res)
        log = [e for e in c.control.requests(since=seq) if e["action"] == "configure-module"]
        self.assertEqual(log[0]["unknown_keys"], ["junk"])
        self.assertEqual(c.control.module_table_rows(mid, ["gadget"]),
                         {"gadget.parts": rows_of(("cog",), ("spring",), ("lever",))})


if __name__ == "__main__":
    unittest.main()
