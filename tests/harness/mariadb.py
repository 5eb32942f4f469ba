"""A private MariaDB server holding the NethVoice databases of NS7."""

import collections
import glob
import os
import random
import secrets
import subprocess
import threading
import time

from . import util

NETHVOICE_DATABASES = ("asterisk", "nethcti3", "phonebook", "asteriskcdrdb")

_SERVER_OPTIONS = [
    "--skip-networking",
    "--skip-name-resolve",
    "--innodb-buffer-pool-size=64M",
    "--innodb-log-file-size=16M",
    "--innodb-flush-log-at-trx-commit=0",
    "--performance-schema=OFF",
    "--skip-log-bin",
    "--local-infile=1",
    "--character-set-server=utf8mb4",
    "--collation-server=utf8mb4_unicode_ci",
]


def cdr_schema_files():
    """The real asteriskcdrdb schema files, in name (load) order."""
    files = sorted(glob.glob(os.path.join(util.shared_dir(), "ns8-api", "sql", "asteriskcdrdb", "*.sql")))
    if not files:
        raise util.HarnessError("no asteriskcdrdb schema under "
                                + os.path.join(util.shared_dir(), "ns8-api", "sql", "asteriskcdrdb"))
    return files


class MariaDB(util.ManagedProcess):
    """mariadbd on a unix socket of its own, root with a password.

    `socket`, `password` and `sql()` are what tests use; `defaults_file` is a
    client option file for the mariadb command line tools."""

    stop_timeout = 30

    def __init__(self, run_dir, password=None, name="mariadb", log_path=None, die_with_parent=True):
        # name: the folder below run_dir (and the log's name), so that a run
        # can have a second server, e.g. an empty one to load dumps into.
        # log_path: the server's log (default: in the run's artifacts).
        # die_with_parent=False: the server gets a new process session (setsid) and no
        # parent-death signal (that signal follows the starting *thread*, so
        # a server started from a short-lived thread, as the cluster
        # simulator does, would die with it); whoever starts it stops it.
        self.dir = os.path.join(run_dir, name)
        self.datadir = os.path.join(self.dir, "data")
        self.socket = os.path.join(self.dir, "mysqld.sock")
        self.pid_file = os.path.join(self.dir, "mysqld.pid")
        self.defaults_file = os.path.join(self.dir, "client.cnf")
        # A tmpdir of its own: concurrent servers must not share temp tables in /tmp.
        self.tmpdir = os.path.join(self.dir, "tmp")
        self.password = password or "Ns8mDb-" + secrets.token_hex(12)
        self.log_path = log_path or util.artifact_path(run_dir, "mariadbd.log" if name == "mariadb" else f"{name}.log")
        self.die_with_parent = die_with_parent
        self.proc = None

    # --- life --------------------------------------------------------------
    def start(self):
        os.makedirs(self.dir, exist_ok=True)
        os.chmod(self.dir, 0o755)
        os.makedirs(self.tmpdir, exist_ok=True)
        with open(self.log_path, "ab") as log:
            r = subprocess.run(["mariadb-install-db", "--no-defaults", f"--datadir={self.datadir}",
                                f"--tmpdir={self.tmpdir}",
                                "--auth-root-authentication-method=normal", "--skip-test-db",
                                "--user=root", "--innodb-buffer-pool-size=64M",
                                "--innodb-log-file-size=16M"],
                               stdout=log, stderr=subprocess.STDOUT)
        if r.returncode != 0:
            raise util.HarnessError("mariadb-install-db failed:\n" + util.tail(self.log_path))
        argv = ["mariadbd", "--no-defaults", f"--datadir={self.datadir}", f"--socket={self.socket}",
                f"--pid-file={self.pid_file}", f"--tmpdir={self.tmpdir}", "--user=root", *_SERVER_OPTIONS]
        with open(self.log_path, "ab") as log:
            if self.die_with_parent:
                self.proc = util.spawn(argv, stdout=log, stderr=subprocess.STDOUT)
            else:
                self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                                             stderr=subprocess.STDOUT, start_new_session=True)

        def ready():
            if self.proc.poll() is not None:
                raise util.HarnessError(f"mariadbd exited with {self.proc.returncode}:\n"
                                        + util.tail(self.log_path))
            return os.path.exists(self.socket) and subprocess.run(
                ["mariadb-admin", "--no-defaults", f"--socket={self.socket}", "-uroot", "ping"],
                capture_output=True).returncode == 0
        util.wait_for(ready, 60, "mariadbd did not answer on its socket")
        self._client(["-e", f"ALTER USER 'root'@'localhost' IDENTIFIED BY '{self.password}'; "
                            "FLUSH PRIVILEGES;"], with_password=False)
        with open(os.open(self.defaults_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
            f.write(f"[client]\nuser=root\npassword={self.password}\nsocket={self.socket}\n")
        return self



    # --- SQL -----------------------------------------------------------------
    def _client(self, args, input=None, with_password=True, database=None):
        argv = ["mariadb"]
        if with_password:
            argv += [f"--defaults-file={self.defaults_file}"]
        else:
            argv += ["--no-defaults", f"--socket={self.socket}", "-uroot"]
        argv += ["--batch", "--skip-column-names", "--local-infile=1"]
        if database:
            argv.append(f"--database={database}")
        r = subprocess.run(argv + list(args), input=input, capture_output=True,
                           text=isinstance(input, str) or input is None)
        if r.returncode != 0:
            raise util.HarnessError(f"mariadb failed ({' '.join(args)[:200]}): {r.stderr}")
        return r.stdout

    def sql(self, statements, database=None):
        """Run SQL; returns the rows of every result, as lists of strings (NULL -> None)."""
        out = self._client([], input=statements, database=database)
        rows = []
        for line in out.splitlines():
            rows.append([None if c == "NULL" else c for c in line.split("\t")])
        return rows

    def sql_value(self, statement, database=None):
        rows = self.sql(statement, database)
        return rows[0][0] if rows else None

    def source(self, path, database=None):
        with open(path, "rb") as f:
            self._client_bytes(f.read(), database)

    def _client_bytes(self, data, database=None):
        argv = ["mariadb", f"--defaults-file={self.defaults_file}", "--batch", "--local-infile=1"]
        if database:
            argv.append(f"--database={database}")
        r = subprocess.run(argv, input=data, capture_output=True)
        if r.returncode != 0:
            raise util.HarnessError(f"mariadb failed: {r.stderr.decode(errors='replace')}")

    def analyze(self, databases):
        """ANALYZE every table of `databases` so information_schema sizes are current."""
        for db in databases:
            tables = [r[0] for r in self.sql(
                f"SELECT table_name FROM information_schema.TABLES WHERE table_schema='{db}'")]
            if tables:
                self.sql("ANALYZE TABLE " + ", ".join(f"`{db}`.`{t}`" for t in tables) + ";")

    def database_bytes(self, databases):
        """SUM(data_length + index_length) over the tables of `databases` (0 when none)."""
        names = ", ".join(f"'{d}'" for d in databases)
        value = self.sql_value("SELECT COALESCE(SUM(data_length + index_length), 0) "
                               f"FROM information_schema.TABLES WHERE table_schema IN ({names})")
        return int(value)

    def cdr_bytes(self):
        """The prerequisites page's CDR size query (asteriskcdrdb only)."""
        value = self.sql_value("SELECT SUM(data_length + index_length) FROM information_schema.TABLES "
                               "WHERE table_schema = 'asteriskcdrdb' GROUP BY table_schema")
        return int(value or 0)

    # --- NethVoice data ----------------------------------------------------------
    def load_nethvoice(self, cdr_rows=1000, seed=7, phonebook_password=None):
        """Create asterisk, nethcti3, phonebook (a few plausible tables with rows)
        and asteriskcdrdb (the real schema) with `cdr_rows` generated CDRs."""
        data = b""
        for path in cdr_schema_files():
            with open(path, "rb") as f:
                data += f.read() + b"\n"
        self._client_bytes(data)
        rnd = random.Random(seed)
        self._client_bytes(_other_databases_sql(rnd, phonebook_password).encode())
        if cdr_rows:
            self.insert_cdr(cdr_rows, seed=seed)

    def insert_cdr(self, count, seed=7, start=None):
        """Append `count` generated rows to asteriskcdrdb.cdr (LOAD DATA LOCAL INFILE)."""
        rnd = random.Random(seed)
        path = os.path.join(self.dir, f"cdr-{seed}-{count}.tsv")
        base = start or 1_650_000_000
        with open(path, "w") as f:
            for i in range(count):
                f.write("\t".join(cdr_row(rnd, base + i * 37)) + "\n")
        try:
            self.sql(f"LOAD DATA LOCAL INFILE '{path}' INTO TABLE asteriskcdrdb.cdr "
                     "CHARACTER SET utf8mb4 FIELDS TERMINATED BY '\\t' LINES TERMINATED BY '\\n' "
                     "(" + ", ".join(CDR_COLUMNS) + ");")
        finally:
            os.unlink(path)

    # --- comparing and loading -----------------------------------------------------
    def tables(self, databases):
        """The base tables of `databases` that exist, as sorted "db.table" names."""
        names = ", ".join(_sql_str(d) for d in databases)
        rows = self.sql("SELECT table_schema, table_name FROM information_schema.TABLES "
                        f"WHERE table_schema IN ({names}) AND table_type = 'BASE TABLE'")
        return sorted(f"{r[0]}.{r[1]}" for r in rows)

    def _raw_rows(self, statement):
        argv = ["mariadb", f"--defaults-file={self.defaults_file}", "--batch", "--skip-column-names"]
        r = subprocess.run(argv, input=statement.encode(), capture_output=True)
        if r.returncode != 0:
            raise util.HarnessError(f"mariadb failed ({statement[:200]}): "
                                    f"{r.stderr.decode(errors='replace')}")
        return [tuple(line.split(b"\t")) for line in r.stdout.split(b"\n") if line]

    def table_rows(self, databases):
        """Every row of every base table of `databases`: {"db.table": Counter of
        row tuples} (a multiset: order-free, duplicates counted).  NULL and the
        string 'NULL' stay distinct; values are the server's text form."""
        out = {}
        for name in self.tables(databases):
            db, table = name.split(".", 1)
            cols = [r[0] for r in self.sql(
                "SELECT column_name FROM information_schema.COLUMNS "
                f"WHERE table_schema = {_sql_str(db)} AND table_name = {_sql_str(table)} "
                "ORDER BY ordinal_position")]
            exprs = ", ".join(f"IF(`{c}` IS NULL, 'N', CONCAT('v', `{c}`))" for c in cols)
            out[name] = collections.Counter(self._raw_rows(f"SELECT {exprs} FROM `{db}`.`{table}`;"))
        return out

    def load_files(self, paths):
        """Feed SQL files to the server in the given order, with no database
        selected (each file must say which one it writes to)."""
        for path in paths:
            with open(path, "rb") as f:
                data = f.read()
            argv = ["mariadb", f"--defaults-file={self.defaults_file}", "--batch"]
            r = subprocess.run(argv, input=data, capture_output=True)
            if r.returncode != 0:
                raise util.HarnessError(f"loading {os.path.basename(path)} failed: "
                                        f"{r.stderr.decode(errors='replace')}")

    # --- a live PBX ------------------------------------------------------------------
    def insert_call_history(self, cdr=0, cel=0, queue_log=0, late_cdr=0, late_seconds=3 * 3600,
                            rnd=None, now=None):
        """What a running NethVoice appends to asteriskcdrdb: `cdr` call records
        of calls that just ended (calldate = now - duration), `cel` channel
        events and `queue_log` entries stamped now, and `late_cdr` records of
        long calls that ended now but started `late_seconds` ago.  Times are
        the server's local time, as Asterisk writes them.  Returns the counts."""
        rnd = rnd or random.Random()
        now = time.time() if now is None else now
        statements = []
        if cdr or late_cdr:
            rows = []
            for i in range(cdr + late_cdr):
                late = i >= cdr
                duration = late_seconds + rnd.randint(0, 60) if late else rnd.randint(1, 600)
                start = int(now) - duration
                row = cdr_row(rnd, start)
                row[0] = _local_time(start)
                row[9], row[10] = str(duration), str(max(0, duration - 5))
                rows.append("(" + ", ".join(_sql_str(v) for v in row) + ")")
            statements.append("INSERT INTO asteriskcdrdb.cdr (" + ", ".join(CDR_COLUMNS) + ") VALUES "
                              + ",\n".join(rows) + ";")
        if cel:
            rows = []
            for _ in range(cel):
                rows.append("(" + ", ".join(_sql_str(v) for v in cel_row(rnd, now)) + ")")
            statements.append("INSERT INTO asteriskcdrdb.cel (" + ", ".join(CEL_COLUMNS) + ") VALUES "
                              + ",\n".join(rows) + ";")
        if queue_log:
            rows = []
            for _ in range(queue_log):
                rows.append("(" + ", ".join(_sql_str(v) for v in queue_log_row(rnd, now)) + ")")
            statements.append("INSERT INTO asteriskcdrdb.queue_log (" + ", ".join(QUEUE_LOG_COLUMNS)
                              + ") VALUES " + ",\n".join(rows) + ";")
        if statements:
            self.sql("START TRANSACTION;\n" + "\n".join(statements) + "\nCOMMIT;")
        return {"cdr": cdr + late_cdr, "cel": cel, "queue_log": queue_log}

    # --- call history changed behind the shipped ranges -------------------------------
    def update_oldest_cdr(self, **values):
        """Rewrite columns of the oldest call record in place (as a tool that
        moves recordings does with `recordingfile`).  Returns its uniqueid."""
        uid = self.sql_value("SELECT uniqueid FROM asteriskcdrdb.cdr ORDER BY calldate, uniqueid LIMIT 1")
        sets = ", ".join(f"`{k}` = {_sql_str(v)}" for k, v in sorted(values.items()))
        self.sql(f"UPDATE asteriskcdrdb.cdr SET {sets} WHERE uniqueid = {_sql_str(uid)};")
        return uid

    def insert_cel_ids(self, ids, rnd=None, now=None):
        """`cel` events with explicit ids (a late commit of an id handed out
        long ago), in one transaction."""
        rnd = rnd or random.Random()
        now = time.time() if now is None else now
        rows = ["(" + ", ".join([str(int(i))] + [_sql_str(v) for v in cel_row(rnd, now)]) + ")" for i in ids]
        self.sql("INSERT INTO asteriskcdrdb.cel (id, " + ", ".join(CEL_COLUMNS) + ") VALUES "
                 + ",\n".join(rows) + ";")

    def replace_cel_ids(self, ids, rnd=None, now=None):
        """Delete the `cel` events `ids` and write other events under the same
        ids, in one transaction: the table keeps its row count."""
        rnd = rnd or random.Random()
        now = time.time() if now is None else now
        listed = ", ".join(str(int(i)) for i in ids)
        rows = ["(" + ", ".join([str(int(i))] + [_sql_str(v) for v in cel_row(rnd, now)]) + ")" for i in ids]
        self.sql(f"START TRANSACTION;\nDELETE FROM asteriskcdrdb.cel WHERE id IN ({listed});\n"
                 "INSERT INTO asteriskcdrdb.cel (id, " + ", ".join(CEL_COLUMNS) + ") VALUES "
                 + ",\n".join(rows) + ";\nCOMMIT;")


class LivePbx:
    """A thread that keeps appending call history to a MariaDB as a busy PBX
    does (`insert_call_history` every `interval` seconds) until stop().
    `batches`: (time.monotonic() at the end of the batch, counts) per batch."""

    def __init__(self, mysql, interval=0.2, cdr=3, cel=8, queue_log=4, late_cdr=0, seed=None):
        self.mysql = mysql
        self.interval = interval
        self.sizes = dict(cdr=cdr, cel=cel, queue_log=queue_log, late_cdr=late_cdr)
        self.rnd = random.Random(seed)
        self.batches = []
        self.error = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="live-pbx", daemon=True)

    def _run(self):
        try:
            while not self._stop.is_set():
                counts = self.mysql.insert_call_history(rnd=self.rnd, **self.sizes)
                self.batches.append((time.monotonic(), counts))
                self._stop.wait(self.interval)
        except BaseException as e:  # reported by stop()
            self.error = e

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        """Stop and return the batches; raises what the thread ran into."""
        self._stop.set()
        self._thread.join(30)
        if self.error is not None:
            raise self.error
        return self.batches

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(30)


def _local_time(epoch):
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(epoch))


CEL_COLUMNS = ("eventtype", "eventtime", "cid_name", "cid_num", "cid_ani", "cid_rdnis", "cid_dnid",
               "exten", "context", "channame", "appname", "appdata", "amaflags", "accountcode",
               "uniqueid", "linkedid", "peer", "userdeftype", "extra")

QUEUE_LOG_COLUMNS = ("time", "callid", "queuename", "agent", "event", "data", "data1", "data2",
                     "data3", "data4", "data5")


def cel_row(rnd, epoch):
    """One Asterisk channel event (the real `cel` columns but the id), as strings."""
    ext = str(rnd.randint(200, 260))
    uid = f"{int(epoch)}.{rnd.randint(1, 99999)}"
    event = rnd.choice(("CHAN_START", "ANSWER", "BRIDGE_ENTER", "BRIDGE_EXIT", "HANGUP", "CHAN_END",
                        "LINKEDID_END"))
    extra = ""
    if event == "HANGUP":
        extra = '{"hangupcause":16,"hangupsource":"PJSIP/%s","dialstatus":"ANSWER"}' % ext
    return [event, _local_time(epoch), rnd.choice(_NAMES), ext, ext, "", "",
            str(rnd.randint(200, 260)), "from-internal", f"PJSIP/{ext}-{rnd.randint(0, 0xffffffff):08x}",
            rnd.choice(("Dial", "Queue", "AppDial", "")), "", "3", "", uid, uid, "", "", extra]


def queue_log_row(rnd, epoch):
    """One queue_log line (the real columns but the id), as strings."""
    micro = int((epoch % 1) * 1_000_000)
    stamp = _local_time(epoch) + f".{micro:06d}"
    event = rnd.choice(("ENTERQUEUE", "CONNECT", "COMPLETECALLER", "COMPLETEAGENT", "ABANDON",
                        "RINGNOANSWER", "ADDMEMBER"))
    agent = f"Local/{rnd.randint(200, 260)}@from-queue/n"
    return [stamp, f"{int(epoch)}.{rnd.randint(1, 99999)}", str(rnd.choice((900, 901, 902))),
            agent if event != "ENTERQUEUE" else "NONE", event, str(rnd.randint(1, 60)),
            str(rnd.randint(1, 300)), "1", "", "", ""]


CDR_COLUMNS = ("calldate", "clid", "src", "dst", "dcontext", "channel", "dstchannel", "lastapp",
               "lastdata", "duration", "billsec", "disposition", "amaflags", "accountcode",
               "uniqueid", "userfield", "did", "recordingfile", "cnum", "cnam", "outbound_cnum",
               "outbound_cnam", "dst_cnam", "linkedid", "peeraccount", "sequence", "ccompany",
               "dst_ccompany")

_NAMES = ["Mario Rossi", "Giulia Bianchi", "Luca Verdi", "Anna Ferrari", "Marco Esposito",
          "Sara Romano", "Paolo Colombo", "Elena Ricci", "Davide Marino", "Chiara Greco"]
_COMPANIES = ["Nethesis srl", "Acme spa", "Rossi Impianti", "Studio Bianchi", ""]


def cdr_row(rnd, epoch):
    """One plausible Asterisk CDR (the real `cdr` columns), as strings."""
    t = time.gmtime(epoch)
    calldate = time.strftime("%Y-%m-%d %H:%M:%S", t)
    ext = str(rnd.randint(200, 260))
    ext_name = rnd.choice(_NAMES)
    outside = "0" + str(rnd.randint(200000000, 399999999))
    direction = rnd.choice(("in", "out", "internal"))
    uid = f"{epoch}.{rnd.randint(1, 99999)}"
    disposition = rnd.choices(("ANSWERED", "NO ANSWER", "BUSY", "FAILED"), (70, 20, 7, 3))[0]
    duration = rnd.randint(1, 900)
    billsec = max(0, duration - rnd.randint(1, 25)) if disposition == "ANSWERED" else 0
    if direction == "in":
        src, dst, ctx, did = outside, ext, "from-trunk", "0721" + str(rnd.randint(400000, 499999))
        channel = f"PJSIP/trunk1-{rnd.randint(0, 0xffffffff):08x}"
        dstchannel = f"PJSIP/{ext}-{rnd.randint(0, 0xffffffff):08x}"
        cnum, cnam = outside, ""
    elif direction == "out":
        src, dst, ctx, did = ext, outside, "from-internal", ""
        channel = f"PJSIP/{ext}-{rnd.randint(0, 0xffffffff):08x}"
        dstchannel = f"PJSIP/trunk1-{rnd.randint(0, 0xffffffff):08x}"
        cnum, cnam = ext, ext_name
    else:
        other = str(rnd.randint(200, 260))
        src, dst, ctx, did = ext, other, "from-internal", ""
        channel = f"PJSIP/{ext}-{rnd.randint(0, 0xffffffff):08x}"
        dstchannel = f"PJSIP/{other}-{rnd.randint(0, 0xffffffff):08x}"
        cnum, cnam = ext, ext_name
    recording = ""
    if disposition == "ANSWERED" and rnd.random() < 0.3:
        kind = "in" if direction == "in" else "out"
        recording = f"{kind}-{dst}-{src}-{time.strftime('%Y%m%d-%H%M%S', t)}-{uid}.wav"
    return [calldate, f'"{cnam}" <{cnum}>', src, dst, ctx, channel,
            dstchannel if disposition == "ANSWERED" else "",
            "Dial", f"PJSIP/{dst},,HhTtrb(func-apply-sipheaders^s^1)", str(duration), str(billsec),
            disposition, "3", "", uid, "", did, recording, cnum, cnam,
            "" if direction != "out" else "0721400000", "", "", uid, "", str(rnd.randint(1, 9999)),
            rnd.choice(_COMPANIES), rnd.choice(_COMPANIES)]


def _sql_str(s):
    return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _trunks_and_routes_sql(rnd):
    """FreePBX's trunks (two PJSIP, one chan_sip) and outbound routes, as
    NethVoice 14 keeps them: what the documentation export reads."""
    out = ["""
CREATE TABLE trunks (trunkid int(11) NOT NULL DEFAULT 0, tech varchar(20) NOT NULL,
  channelid varchar(255) NOT NULL DEFAULT '', name varchar(50) NOT NULL DEFAULT '',
  outcid varchar(255) NOT NULL DEFAULT '', keepcid varchar(4) DEFAULT 'off', maxchans varchar(6) DEFAULT '',
  failscript varchar(255) NOT NULL DEFAULT '', dialoutprefix varchar(255) NOT NULL DEFAULT '',
  usercontext varchar(255) DEFAULT NULL, provider varchar(40) DEFAULT NULL, disabled varchar(4) DEFAULT 'off',
  `continue` varchar(4) DEFAULT 'off', PRIMARY KEY (trunkid, tech, channelid)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE pjsip (id varchar(20) NOT NULL DEFAULT '-1', keyword varchar(30) NOT NULL DEFAULT '',
  data varchar(255) NOT NULL, flags int(1) NOT NULL DEFAULT 0,
  PRIMARY KEY (id, keyword)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE outbound_routes (route_id int(11) NOT NULL AUTO_INCREMENT, name varchar(40) DEFAULT NULL,
  outcid varchar(40) DEFAULT NULL, outcid_mode varchar(20) DEFAULT NULL, password varchar(30) DEFAULT NULL,
  emergency_route varchar(4) DEFAULT NULL, intracompany_route varchar(4) DEFAULT NULL,
  mohclass varchar(80) DEFAULT NULL, time_group_id int(11) DEFAULT NULL, dest varchar(255) DEFAULT NULL,
  PRIMARY KEY (route_id)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE outbound_route_patterns (route_id int(11) NOT NULL, match_pattern_prefix varchar(60) NOT NULL DEFAULT '',
  match_pattern_pass varchar(60) NOT NULL DEFAULT '', match_cid varchar(60) NOT NULL DEFAULT '',
  prepend_digits varchar(100) NOT NULL DEFAULT '',
  PRIMARY KEY (route_id, match_pattern_prefix, match_pattern_pass, match_cid, prepend_digits))
  ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE outbound_route_trunks (route_id int(11) NOT NULL, trunk_id int(11) NOT NULL, seq int(11) NOT NULL,
  PRIMARY KEY (route_id, trunk_id, seq)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE outbound_route_sequence (route_id int(11) NOT NULL, seq int(11) NOT NULL,
  PRIMARY KEY (route_id, seq)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
"""]
    out.append("INSERT INTO trunks (trunkid, tech, channelid, name, outcid, maxchans, disabled) VALUES "
               "(1, 'pjsip', 'Provider_A', 'Provider_A', '\"Example Srl\" <0721400000>', '30', 'off'), "
               "(2, 'pjsip', 'Backup, line \"B\"', 'Backup, line \"B\"', '', '', 'off'), "
               "(3, 'sip', 'legacy-gw', 'legacy-gw', '', '4', 'on');")
    pj = []
    for tid, server, user in ((1, "sip.provider-a.example.net", "0721400000"),
                              (2, "203.0.113.20", "backup-line")):
        for kw, val in (("sip_server", server), ("sip_server_port", "5060"), ("username", user),
                        ("secret", secrets.token_hex(10)), ("context", "from-pstn"), ("transport", "0.0.0.0-udp")):
            pj.append(f"('{tid}', '{kw}', {_sql_str(val)}, 0)")
    out.append("INSERT INTO pjsip VALUES " + ",\n".join(pj) + ";")
    out.append("INSERT INTO sip VALUES ('tr-peer-3', 'host', '198.51.100.7', 0), ('tr-peer-3', 'port', '5060', 0), "
               f"('tr-peer-3', 'username', 'gw', 0), ('tr-peer-3', 'secret', '{secrets.token_hex(8)}', 0), "
               "('tr-peer-3', 'type', 'peer', 0);")
    out.append("INSERT INTO outbound_routes (route_id, name, outcid, password, emergency_route) VALUES "
               "(1, 'national', '', '', ''), (2, 'mobile', '0721400000', '', ''), "
               f"(3, 'international', '', '{rnd.randint(1000, 9999)}', ''), (4, 'emergency', '', '', 'YES');")
    out.append("INSERT INTO outbound_route_patterns VALUES (1, '0', '0XXXXXXXX.', '', ''), (2, '', '3XXXXXXXXX', '', ''), "
               "(3, '00', 'X.', '', '00'), (3, '', '+X.', '2XX', ''), (4, '', '112', '', ''), (4, '', '113', '', '');")
    out.append("INSERT INTO outbound_route_trunks VALUES (1, 1, 0), (1, 2, 1), (2, 2, 0), (3, 1, 0), (4, 1, 0), (4, 3, 1);")
    out.append("INSERT INTO outbound_route_sequence VALUES (4, 0), (1, 1), (2, 2), (3, 3);")
    return "\n".join(out)


def _other_databases_sql(rnd, phonebook_password):
    """asterisk, nethcti3 and phonebook: a few FreePBX / NethCTI-like tables."""
    out = []
    out.append("""
CREATE DATABASE IF NOT EXISTS asterisk;
USE asterisk;
CREATE TABLE users (extension varchar(20) NOT NULL DEFAULT '', password varchar(20) DEFAULT NULL,
  name varchar(50) DEFAULT NULL, voicemail varchar(50) DEFAULT NULL, ringtimer int(3) DEFAULT NULL,
  noanswer varchar(100) DEFAULT NULL, recording varchar(50) DEFAULT NULL, outboundcid varchar(50) DEFAULT NULL,
  sipname varchar(50) DEFAULT NULL, mohclass varchar(80) DEFAULT 'default',
  PRIMARY KEY (extension)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE devices (id varchar(20) NOT NULL DEFAULT '', tech varchar(10) NOT NULL DEFAULT '',
  dial varchar(50) NOT NULL DEFAULT '', devicetype varchar(5) NOT NULL DEFAULT '',
  user varchar(50) DEFAULT NULL, description varchar(50) DEFAULT NULL, emergency_cid varchar(100) DEFAULT NULL,
  PRIMARY KEY (id), KEY tech (tech)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE sip (id varchar(20) NOT NULL DEFAULT '-1', keyword varchar(30) NOT NULL DEFAULT '',
  data varchar(255) NOT NULL, flags int(1) NOT NULL DEFAULT 0,
  PRIMARY KEY (id, keyword)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE incoming (cidnum varchar(20) DEFAULT NULL, extension varchar(50) NOT NULL,
  destination varchar(50) DEFAULT NULL, description varchar(80) DEFAULT NULL,
  PRIMARY KEY (extension)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE kvstore_Sipsettings (`key` char(255) NOT NULL, val varchar(4096) DEFAULT NULL,
  type char(16) DEFAULT NULL, id char(255) DEFAULT NULL,
  UNIQUE KEY uniqueindex (`key`(190), id(190))) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
""")
    users, devices, sip = [], [], []
    for ext in range(200, 261):
        name = rnd.choice(_NAMES)
        users.append(f"('{ext}', '', {_sql_str(name)}, 'default', 0, '', '', '', '', 'default')")
        devices.append(f"('{ext}', 'pjsip', 'PJSIP/{ext}', 'fixed', '{ext}', {_sql_str(name)}, '')")
        for kw, val in (("secret", secrets.token_hex(8)), ("context", "from-internal"),
                        ("dtmfmode", "rfc4733"), ("callerid", f"{name} <{ext}>"), ("transport", "0.0.0.0-udp")):
            sip.append(f"('{ext}', '{kw}', {_sql_str(val)}, 0)")
    out.append("INSERT INTO users VALUES " + ",\n".join(users) + ";")
    out.append("INSERT INTO devices VALUES " + ",\n".join(devices) + ";")
    out.append("INSERT INTO sip VALUES " + ",\n".join(sip) + ";")
    out.append("INSERT INTO incoming VALUES " + ",\n".join(
        f"('', '0721{400000 + i}', 'from-did-direct,{200 + i},1', 'DID {i}')" for i in range(20)) + ";")
    out.append("INSERT INTO kvstore_Sipsettings VALUES ('rtpstart', '10000', '', 'noid'), "
               "('rtpend', '20000', '', 'noid'), ('externip', '192.0.2.10', '', 'noid');")
    out.append(_trunks_and_routes_sql(rnd))
    out.append("""
CREATE DATABASE IF NOT EXISTS nethcti3;
USE nethcti3;
CREATE TABLE user_settings (id int(11) NOT NULL AUTO_INCREMENT, username varchar(255) NOT NULL,
  key_name varchar(255) NOT NULL, value text, PRIMARY KEY (id),
  UNIQUE KEY username_key (username(100), key_name(100))) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE cti_phonebook (id int(11) NOT NULL AUTO_INCREMENT, owner_id varchar(255) NOT NULL DEFAULT '',
  type varchar(255) NOT NULL DEFAULT '', name varchar(255) DEFAULT NULL, company varchar(255) DEFAULT NULL,
  workphone varchar(255) DEFAULT NULL, cellphone varchar(255) DEFAULT NULL, workemail varchar(255) DEFAULT NULL,
  PRIMARY KEY (id), KEY owner_idx (owner_id(100))) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE customer_card (id int(11) NOT NULL AUTO_INCREMENT, name varchar(50) NOT NULL,
  `query` text NOT NULL, template varchar(50) NOT NULL, PRIMARY KEY (id)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
""")
    settings, contacts = [], []
    for ext in range(200, 261):
        user = f"user{ext}"
        for k, v in (("desktop_notifications", "true"), ("open_ccard", "enabled"),
                     ("default_extension", str(ext)), ("queue_auto_login", "false")):
            settings.append(f"('{user}', '{k}', '{v}')")
    for i in range(300):
        name = rnd.choice(_NAMES)
        contacts.append(f"('user{rnd.randint(200, 260)}', 'private', {_sql_str(name)}, "
                        f"{_sql_str(rnd.choice(_COMPANIES))}, '0721{rnd.randint(100000, 999999)}', "
                        f"'3{rnd.randint(100000000, 999999999)}', 'contact{i}@example.com')")
    out.append("INSERT INTO user_settings (username, key_name, value) VALUES " + ",\n".join(settings) + ";")
    out.append("INSERT INTO cti_phonebook (owner_id, type, name, company, workphone, cellphone, workemail) "
               "VALUES " + ",\n".join(contacts) + ";")
    out.append("INSERT INTO customer_card (name, `query`, template) VALUES "
               "('lastcalls', 'SELECT * FROM asteriskcdrdb.cdr WHERE src = $EXTEN ORDER BY calldate DESC LIMIT 10', 'lastcalls'),"
               "('crm', 'SELECT name FROM phonebook.phonebook WHERE workphone = $CALLER', 'crm_custom');")
    out.append("""
CREATE DATABASE IF NOT EXISTS phonebook;
USE phonebook;
CREATE TABLE phonebook (id int(11) NOT NULL AUTO_INCREMENT, owner_id varchar(255) NOT NULL DEFAULT '',
  type varchar(255) NOT NULL DEFAULT '', homeemail varchar(255) DEFAULT NULL, workemail varchar(255) DEFAULT NULL,
  homephone varchar(25) DEFAULT NULL, workphone varchar(25) DEFAULT NULL, cellphone varchar(25) DEFAULT NULL,
  fax varchar(25) DEFAULT NULL, title varchar(255) DEFAULT NULL, company varchar(255) DEFAULT NULL,
  notes text, name varchar(255) DEFAULT NULL, homestreet varchar(255) DEFAULT NULL,
  homecity varchar(255) DEFAULT NULL, workstreet varchar(255) DEFAULT NULL, workcity varchar(255) DEFAULT NULL,
  url varchar(255) DEFAULT NULL, sid_imported varchar(255) DEFAULT NULL,
  PRIMARY KEY (id), KEY owner_idx (owner_id(100)), KEY wphone_idx (workphone), KEY cphone_idx (cellphone),
  KEY name_idx (name(100))) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
""")
    rows = []
    for i in range(500):
        rows.append(f"('admin', 'public', 'info{i}@example.com', '0721{rnd.randint(100000, 999999)}', "
                    f"'3{rnd.randint(100000000, 999999999)}', {_sql_str(rnd.choice(_COMPANIES))}, "
                    f"{_sql_str(rnd.choice(_NAMES))}, 'Pesaro', 'csv_import')")
    out.append("INSERT INTO phonebook (owner_id, type, workemail, workphone, cellphone, company, name, "
               "workcity, sid_imported) VALUES " + ",\n".join(rows) + ";")
    if phonebook_password:
        out.append(f"CREATE USER IF NOT EXISTS 'pbookuser'@'localhost' IDENTIFIED BY {_sql_str(phonebook_password)};"
                   "GRANT SELECT ON phonebook.* TO 'pbookuser'@'localhost';")
    return "\n".join(out) + "\n"
