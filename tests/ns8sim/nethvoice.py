"""What NS8's NethVoice module does with what a migration sent it.

NETHVOICE.md, "What NS8 does with state/": when the transfer phase ends the
module's import-module

  1. loads state/restore/astdb.sqlite3.dump with sqlite3 into a fresh
     astdb.sqlite3 and deletes the dump (a `set -e` script: a missing dump
     fails the import);
  2. writes restore/99permissions.sh and restore/zz_restore.sh and starts
     MariaDB's image on an empty data volume with restore/ as
     /docker-entrypoint-initdb.d: every *.sh, *.sql, *.sql.gz|xz|zst there,
     in name order, stops at the first error;

and configure-module loads each restore_background/*.sql (in `ls` order)
into that MariaDB, deleting each one that loaded.

The simulator does the same with the real programs: `sqlite3` here, and
for MariaDB the generic module of moduledb.py (what is NethVoice's own is
the astdb step and the service accounts of 99permissions.sh).
"""

import os
import secrets
import sqlite3
import subprocess
import time

from .moduledb import ModuleDatabases, _file_info

# The scripts the NS8 image ships in its own agi-bin
# (freepbx/var/lib/asterisk/agi-bin/ of nethesis/ns8-nethvoice, NETHVOICE.md
# "Exclude lists"): a migrated file of the same name would replace them.
IMAGE_AGI = ("alarmsuccess.php", "camere.php", "cdrscript.sample.php", "cdrscript_in.sample.php",
             "checkin.php", "cleanRoom.php", "configAlarm.php", "extra.php", "lookup.php",
             "nethcqr.php", "offhour.php", "outbound-routes-pin.php", "phpagi-asmanager.php",
             "phpagi.php", "recallonbusy_set.php", "set-reception-lang.php", "set-room-lang.php",
             "sql.php", "svegliafallita.php")

# The configure-module input keys today's module reads (its configure-module
# steps); the schema's properties are known too.
READ_KEYS = ("nethvoice_host", "nethcti_ui_host", "lets_encrypt", "user_domain",
             "reports_international_prefix", "timezone", "app_brand_id", "nethvoice_adm_password")

ASTDB_DUMP = "restore/astdb.sqlite3.dump"

# import-module/40astdb (`set -e`): a fresh astdb from the dump.  $1 is the
# database, the working directory the module's state/.
_ASTDB_STEP = 'rm -f "$1" && sqlite3 "$1" < restore/astdb.sqlite3.dump'

# What import-module/40mysql writes into restore/ before the entrypoint runs
# (mode 0644, so the entrypoint sources them).  NS8's 99permissions.sh also
# rewrites a few FreePBX settings rows for NS8's ports; the stand-in only
# creates the service accounts, so the databases keep NS7's rows.
_PERMISSIONS = '''#!/bin/bash
# Written by the simulated import-module (NS8's 40mysql writes its own):
# the database accounts of the module's services.
docker_process_sql -e "
CREATE USER IF NOT EXISTS 'freepbxuser'@'127.0.0.1' IDENTIFIED BY '{ampdb}';
GRANT ALL ON asterisk.* TO 'freepbxuser'@'127.0.0.1';
GRANT ALL ON asteriskcdrdb.* TO 'freepbxuser'@'127.0.0.1';
CREATE USER IF NOT EXISTS 'nethcti'@'127.0.0.1' IDENTIFIED BY '{cti}';
GRANT ALL ON nethcti3.* TO 'nethcti'@'127.0.0.1';
GRANT SELECT ON phonebook.* TO 'nethcti'@'127.0.0.1';
CREATE USER IF NOT EXISTS 'pbookuser'@'127.0.0.1' IDENTIFIED BY '{pbook}';
GRANT ALL ON phonebook.* TO 'pbookuser'@'127.0.0.1';
"
'''

_ZZ_RESTORE = '''#!/bin/bash
# Written by the simulated import-module (as NS8's 40mysql does): ends the
# temporary server's init run.
set -e
mariadb --version
set -- true
docker_temp_server_stop
exit 0
'''


def unknown_keys(data, schema_properties):
    """The top-level input keys that neither the schema nor the module reads."""
    if not isinstance(data, dict):
        return []
    known = set(READ_KEYS) | set(schema_properties or ())
    return sorted(k for k in data if k not in known)


def agi_bin_clashes(srv):
    """The files of volumes/agi-bin/ whose names the image's agi-bin has."""
    d = os.path.join(srv, "volumes", "agi-bin")
    try:
        names = os.listdir(d)
    except OSError:
        return []
    return sorted(n for n in names if n in IMAGE_AGI and not os.path.isdir(os.path.join(d, n)))


class NethVoiceData(ModuleDatabases):
    """The databases of one nethvoice module: its astdb and its MariaDB."""

    def __init__(self, module_id, module_dir, log_dir, pid_dir):
        super().__init__(module_id, module_dir, log_dir, pid_dir)
        self.astdb_path = os.path.join(module_dir, "astdb", "astdb.sqlite3")

    def describe(self):
        d = super().describe()
        d["astdb"] = self.astdb_path if os.path.exists(self.astdb_path) else None
        return d

    # -- import-module ----------------------------------------------------------------
    def image_steps(self, state_dir, task_id, log):
        return self._astdb(state_dir, task_id, log)

    def restore_scripts(self):
        pw = {k: secrets.token_urlsafe(12) for k in ("ampdb", "cti", "pbook")}
        return {"99permissions.sh": _PERMISSIONS.format(**pw), "zz_restore.sh": _ZZ_RESTORE}

    def _astdb(self, state_dir, task_id, log):
        dump = os.path.join(state_dir, ASTDB_DUMP)
        entry = dict({"phase": "import", "task": task_id, "step": "astdb", "file": ASTDB_DUMP,
                      "time": time.time()}, **_file_info(dump))
        os.makedirs(os.path.dirname(self.astdb_path), exist_ok=True)
        p = subprocess.run(["bash", "-c", _ASTDB_STEP, "40astdb", self.astdb_path], cwd=state_dir,
                           stdin=subprocess.DEVNULL, capture_output=True, text=True, errors="replace")
        entry["exit_code"] = p.returncode
        entry["status"] = "loaded" if p.returncode == 0 else "failed"
        if p.returncode != 0:
            entry["error"] = p.stderr
            log.append(entry)
            return p.returncode, p.stdout, p.stderr
        os.unlink(dump)  # 40astdb: rm -f restore/astdb.sqlite3.dump
        log.append(entry)
        return 0, p.stdout, ""

    # -- inspection ------------------------------------------------------------------------
    def astdb(self):
        """{key: value} of the module's astdb.sqlite3 (None without one)."""
        with self.lock:
            if not os.path.exists(self.astdb_path):
                return None
            db = sqlite3.connect("file:%s?mode=ro" % self.astdb_path, uri=True)
            try:
                return dict(db.execute("SELECT key, value FROM astdb").fetchall())
            finally:
                db.close()
