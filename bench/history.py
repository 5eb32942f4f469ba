"""Call history in bulk: asteriskcdrdb.cdr (the harness's generator), cel and
queue_log rows, loaded with LOAD DATA LOCAL INFILE in chunks so millions of
rows take minutes, not hours."""

import os
import random
import re
import time

from harness.mariadb import CDR_COLUMNS, cdr_row

CHUNK = 500_000
# While the history is loaded (then the harness's own sizes are put back).
LOAD_SETTINGS = {"innodb_buffer_pool_size": 1 << 30, "innodb_log_file_size": 512 << 20}
CALL_SPACING = 37  # seconds between two generated calls (as the harness does)
# The helper's log line of the check before the stop, one per table.
_CHECKSUM_PASS = re.compile(r"call history: (\S+): (\d+) shipped ranges checksummed in one snapshot in (\d+) ms")

CEL_COLUMNS = ("eventtype", "eventtime", "cid_name", "cid_num", "cid_ani", "cid_rdnis", "cid_dnid",
               "exten", "context", "channame", "appname", "appdata", "amaflags", "accountcode",
               "uniqueid", "linkedid", "peer", "userdeftype", "extra")
QUEUE_LOG_COLUMNS = ("time", "callid", "queuename", "agent", "event", "data", "data1", "data2",
                     "data3", "data4", "data5")
_CEL_EVENTS = ("CHAN_START", "ANSWER", "APP_START", "BRIDGE_ENTER", "BRIDGE_EXIT", "HANGUP",
               "CHAN_END", "LINKEDID_END")
_QUEUE_EVENTS = ("ENTERQUEUE", "CONNECT", "COMPLETECALLER", "COMPLETEAGENT", "ABANDON", "RINGNOANSWER")


def _cel_row(rnd, epoch, seq):
    ext = str(rnd.randint(200, 260))
    uid = f"{epoch}.{seq % 100000}"
    return (rnd.choice(_CEL_EVENTS), time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(epoch)),
            "Mario Rossi", ext, ext, "", "", str(rnd.randint(200, 260)), "from-internal",
            f"PJSIP/{ext}-{rnd.randint(0, 0xffffffff):08x}", "Dial", f"PJSIP/{ext},,HhTtr", "3", "",
            uid, uid, "", "", "")


def _queue_row(rnd, epoch, seq):
    return (f"{time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime(epoch))}.{seq % 1000000:06d}",
            f"{epoch}.{seq % 100000}", str(rnd.choice((401, 402, 403))),
            f"PJSIP/{rnd.randint(200, 260)}", rnd.choice(_QUEUE_EVENTS),
            str(rnd.randint(1, 60)), str(rnd.randint(1, 600)), "1", "", "", "")


def _load(mysql, table, columns, rows, path):
    with open(path, "w") as f:
        for row in rows:
            f.write("\t".join(row) + "\n")
    try:
        mysql.sql(f"LOAD DATA LOCAL INFILE '{path}' INTO TABLE asteriskcdrdb.{table} "
                  "CHARACTER SET utf8mb4 FIELDS TERMINATED BY '\\t' LINES TERMINATED BY '\\n' "
                  "(" + ", ".join(columns) + ");")
    finally:
        os.unlink(path)


class History:
    """Appends generated history to a harness MariaDB.  add() writes the past:
    `planned` calls 37 s apart, the last one more than two days ago (so every
    call has ended long before any Sync's watermark).  add_recent() writes
    calls that have just ended, as a PBX does between the last Sync and the
    cutover."""

    def __init__(self, mysql, planned, cel_per_cdr=1.0, queue_log_per_cdr=0.25, seed=11):
        self.mysql = mysql
        self.base = int(time.time()) - 2 * 86400 - planned * CALL_SPACING
        self.cel_per_cdr = cel_per_cdr
        self.queue_log_per_cdr = queue_log_per_cdr
        self.calls = 0      # cdr rows added so far
        self.cel = 0
        self.queue_log = 0
        self.seed = seed

    def add(self, cdr_rows, progress=None):
        """Append cdr_rows calls and the matching cel / queue_log rows.  The
        server gets a larger buffer pool and redo log while it loads, and the
        harness's sizes back before anything is measured."""
        self._server(LOAD_SETTINGS)
        try:
            self._add(cdr_rows, progress)
        finally:
            self._server(self.saved)

    def _server(self, settings):
        if not hasattr(self, "saved"):
            rows = self.mysql.sql("SELECT @@GLOBAL.innodb_buffer_pool_size, @@GLOBAL.innodb_log_file_size")
            self.saved = {"innodb_buffer_pool_size": int(rows[0][0]), "innodb_log_file_size": int(rows[0][1])}
        self.mysql.sql("".join(f"SET GLOBAL {k} = {v};" for k, v in settings.items()))
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            rows = self.mysql.sql("SHOW STATUS LIKE 'Innodb_buffer_pool_resize_status'")
            status = rows[0][1] if rows and len(rows[0]) > 1 else ""
            size = int(self.mysql.sql_value("SELECT @@GLOBAL.innodb_buffer_pool_size"))
            if size == settings["innodb_buffer_pool_size"] and ("Completed" in status or not status):
                return
            time.sleep(0.5)

    def _add(self, cdr_rows, progress):
        done = 0
        while done < cdr_rows:
            n = min(CHUNK, cdr_rows - done)
            first = self.calls
            rnd = random.Random(self.seed * 7 + first)
            rows = (cdr_row(rnd, self.base + (first + i) * CALL_SPACING) for i in range(n))
            _load(self.mysql, "cdr", CDR_COLUMNS, rows, os.path.join(self.mysql.dir, "cdr.tsv"))
            cel_target = int(round((first + n) * self.cel_per_cdr))
            cel_n = cel_target - self.cel
            if cel_n > 0:
                rows = (_cel_row(rnd, self.base + (first + i * n // cel_n) * CALL_SPACING, self.cel + i)
                        for i in range(cel_n))
                _load(self.mysql, "cel", CEL_COLUMNS, rows, os.path.join(self.mysql.dir, "cel.tsv"))
                self.cel = cel_target
            q_target = int(round((first + n) * self.queue_log_per_cdr))
            q_n = q_target - self.queue_log
            if q_n > 0:
                rows = (_queue_row(rnd, self.base + (first + i * n // q_n) * CALL_SPACING, self.queue_log + i)
                        for i in range(q_n))
                _load(self.mysql, "queue_log", QUEUE_LOG_COLUMNS, rows,
                      os.path.join(self.mysql.dir, "queue_log.tsv"))
                self.queue_log = q_target
            self.calls += n
            done += n
            if progress:
                progress(done, cdr_rows)

    def add_recent(self, cdr_rows):
        """cdr_rows calls that end now (calldate = now - duration: Asterisk
        writes the row at hang-up), with their cel and queue_log rows."""
        rnd = random.Random(self.seed * 13 + self.calls)
        now = int(time.time())
        rows = []
        for _ in range(cdr_rows):
            end = now - rnd.randint(0, 2)
            row = cdr_row(rnd, end)
            duration = int(row[9])
            row[0] = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(end - duration))
            rows.append(row)
        _load(self.mysql, "cdr", CDR_COLUMNS, rows, os.path.join(self.mysql.dir, "cdr-recent.tsv"))
        cel_n = int(round(cdr_rows * self.cel_per_cdr))
        _load(self.mysql, "cel", CEL_COLUMNS, (_cel_row(rnd, now - 60, self.cel + i) for i in range(cel_n)),
              os.path.join(self.mysql.dir, "cel.tsv"))
        q_n = int(round(cdr_rows * self.queue_log_per_cdr))
        _load(self.mysql, "queue_log", QUEUE_LOG_COLUMNS,
              (_queue_row(rnd, now - 60, self.queue_log + i) for i in range(q_n)),
              os.path.join(self.mysql.dir, "queue_log.tsv"))
        self.calls += cdr_rows
        self.cel += cel_n
        self.queue_log += q_n

    def counts(self):
        """Rows now in the three history tables (COUNT(*))."""
        out = {}
        for table in ("cdr", "cel", "queue_log"):
            out[table] = int(self.mysql.sql_value(f"SELECT COUNT(*) FROM asteriskcdrdb.{table}"))
        return out


def checksum_pass(helper_log):
    """The check of every shipped range before the stop (Finish's presync),
    from the helper's log: {"seconds", "ranges", "tables": {table: seconds}}
    summed over the tables, and "reshipped", the ranges it shipped again."""
    tables = {}
    ranges = 0
    for m in _CHECKSUM_PASS.finditer(helper_log):
        tables[m.group(1)] = tables.get(m.group(1), 0.0) + int(m.group(3)) / 1000
        ranges += int(m.group(2))
    reshipped = len(re.findall(r"call history: \S+ range .* shipped again as ", helper_log))
    return {"seconds": sum(tables.values()), "ranges": ranges, "tables": tables, "reshipped": reshipped}
