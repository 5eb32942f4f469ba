"""What an NS8 module that keeps its data in its own MariaDB does with what a
migration sent it (the generic part of NETHVOICE.md, "What NS8 does with
state/"): when the transfer phase ends its import-module starts MariaDB's
image on an empty data volume with state/restore/ as
/docker-entrypoint-initdb.d (every *.sh, *.sql, *.sql.gz|xz|zst there, in
name order, stops at the first error), and configure-module loads each
state/restore_background/*.sql (in `ls` order), deleting each one that
loaded.

The simulator does the same with the real programs: a real MariaDB server
per module (tests/harness/mariadb.py, unix socket only) fed by a bash loop
that treats each file as the image's entrypoint does.  An image's own steps
(NethVoice's astdb, its service accounts) live in a subclass
(nethvoice.py); an image with nothing of its own uses ModuleDatabases as
it is (catalog: "restore": "mariadb").
"""

import os
import shutil
import subprocess
import threading
import time

# The MariaDB image's entrypoint on its first start, as far as
# /docker-entrypoint-initdb.d goes (run by bash with $1 = state/restore).
# NS8SIM_PROGRESS gets "start|done|ignored <name>" lines for the state log.
_ENTRYPOINT = r'''#!/bin/bash
# The first start of MariaDB's image on an empty data volume, as far as the
# init folder goes: every file in name order, by its suffix; the first error
# ends it (set -e).  A sourced script that exits ends it too.
set -eo pipefail
note() { printf '%s [Note] [Entrypoint]: %s\n' "$(date --rfc-3339=seconds)" "$*"; }
warn() { printf '%s [Warn] [Entrypoint]: %s\n' "$(date --rfc-3339=seconds)" "$*" >&2; }
progress() { printf '%s %s\n' "$1" "${2##*/}" >> "$NS8SIM_PROGRESS"; }
docker_process_sql() { mariadb --defaults-file="$NS8SIM_CLIENT_CNF" --protocol=socket "$@"; }
docker_temp_server_stop() { note "Stopping temporary server"; }
for f in "$1"/*; do
    progress start "$f"
    case "$f" in
        *.sh)
            if [ -x "$f" ]; then
                note "$0: running $f"
                "$f"
            else
                note "$0: sourcing $f"
                . "$f"
            fi
            ;;
        *.sql)     note "$0: running $f"; docker_process_sql < "$f"; echo ;;
        *.sql.gz)  note "$0: running $f"; gunzip -c "$f" | docker_process_sql; echo ;;
        *.sql.xz)  note "$0: running $f"; xzcat "$f" | docker_process_sql; echo ;;
        *.sql.zst) note "$0: running $f"; zstd -dc "$f" | docker_process_sql; echo ;;
        *)         progress ignored "$f"; warn "$0: ignoring $f"; continue ;;
    esac
    progress done "$f"
    echo
done
'''


def _c_sorted(names):
    # the entrypoint's glob and `ls` in the image: byte order
    return sorted(names, key=lambda n: n.encode("utf-8", "surrogateescape"))


def _file_info(path):
    try:
        st = os.stat(path)
    except OSError:
        return {"size": None, "mtime": None}
    return {"size": st.st_size, "mtime": st.st_mtime}



class ModuleDatabases:
    """The databases of one module: its MariaDB (and, in a subclass, the
    image's own stores).

    `lock` serializes what runs on them (an import, a background load, a
    query from the control socket)."""

    def __init__(self, module_id, module_dir, log_dir, pid_dir):
        self.id = module_id
        self.dir = module_dir
        self.log_dir = log_dir
        self.pid_file = os.path.join(pid_dir, "mariadb-" + module_id)
        self.lock = threading.RLock()
        self.mariadb = None
        self.stopped = False

    # -- MariaDB -----------------------------------------------------------------
    def _new_mariadb(self):
        from harness.mariadb import MariaDB  # the harness's managed server
        return MariaDB(self.dir, name="mariadb", die_with_parent=False,
                       log_path=os.path.join(self.log_dir, "mariadb-%s.log" % self.id))

    def fresh_mariadb(self):
        """A MariaDB on an empty data folder (40mysql removes the volume first)."""
        self.stop_mariadb()
        db = self._new_mariadb()
        shutil.rmtree(db.dir, ignore_errors=True)
        try:
            db.start()
        except BaseException:
            db.stop()
            raise
        self.mariadb = db
        with open(self.pid_file, "w") as f:
            f.write("%d\n" % db.proc.pid)
        return db

    def running_mariadb(self):
        """The module's MariaDB, started (on an empty data folder) if it is not running."""
        if self.mariadb is not None and self.mariadb.alive():
            return self.mariadb
        return self.fresh_mariadb()

    def stop_mariadb(self):
        db, self.mariadb = self.mariadb, None
        if db is not None:
            db.stop()
            try:
                os.unlink(self.pid_file)
            except OSError:
                pass

    def stop(self):
        self.stopped = True
        self.stop_mariadb()

    def describe(self):
        db = self.mariadb
        return {"mariadb": None if db is None else {
            "running": db.alive(), "pid": db.proc.pid if db.proc else None,
            "socket": db.socket, "defaults_file": db.defaults_file, "dir": db.dir}}

    # -- import-module ----------------------------------------------------------------
    def import_state(self, state_dir, task_id, log):
        """import-module's restore steps; returns (exit_code, output, error).
        `log` (a list) gets one entry per file handled."""
        with self.lock:
            if self.stopped:
                return 143, "", "module removed\n"
            code, out, err = self.image_steps(state_dir, task_id, log)
            if code != 0:
                return code, out, err
            return self._initdb(state_dir, task_id, log)

    def image_steps(self, state_dir, task_id, log):
        """What the image's import-module does before MariaDB's entrypoint
        (none here): (exit_code, output, error)."""
        return 0, "", ""

    def restore_scripts(self):
        """{file name: text} the image's import-module writes into restore/
        (mode 0644, so the entrypoint sources them) before MariaDB starts."""
        return {}

    def _initdb(self, state_dir, task_id, log):
        restore = os.path.join(state_dir, "restore")
        os.makedirs(restore, exist_ok=True)
        for name, text in sorted(self.restore_scripts().items()):
            path = os.path.join(restore, name)
            with open(path, "w") as f:
                f.write(text)
            os.chmod(path, 0o644)
        names = _c_sorted(os.listdir(restore))
        infos = {n: _file_info(os.path.join(restore, n)) for n in names}
        try:
            db = self.fresh_mariadb()
        except Exception as e:
            log.append({"phase": "import", "task": task_id, "step": "mariadb", "file": None,
                        "status": "failed", "error": str(e), "time": time.time()})
            return 1, "", "the module's MariaDB did not start: %s\n" % e
        entrypoint = os.path.join(self.dir, "docker-entrypoint.sh")
        with open(entrypoint, "w") as f:
            f.write(_ENTRYPOINT)
        progress = os.path.join(self.dir, "initdb.progress")
        with open(progress, "w"):
            pass
        env = dict(os.environ, LC_ALL="C", NS8SIM_PROGRESS=progress,
                   NS8SIM_CLIENT_CNF=db.defaults_file)
        p = subprocess.run(["bash", entrypoint, restore], cwd=state_dir, env=env,
                           stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           errors="replace")
        started, status = [], {}
        with open(progress) as f:
            for line in f:
                what, _, name = line.rstrip("\n").partition(" ")
                if what == "start":
                    started.append(name)
                    status[name] = "started"
                elif what == "done":
                    status[name] = "loaded" if name.endswith((".sql", ".sql.gz", ".sql.xz",
                                                              ".sql.zst")) else "ran"
                elif what == "ignored":
                    status[name] = "ignored"
        for name in started:
            st = status[name]
            if st == "started":
                # the last one began and did not end: it failed, or (a
                # sourced script's exit 0) ended the run
                st = "failed" if p.returncode != 0 else "ended the run"
            entry = dict({"phase": "import", "task": task_id, "step": "initdb",
                          "file": "restore/" + name, "status": st, "time": time.time()},
                         **infos.get(name, {}))
            if st == "failed":
                entry["exit_code"] = p.returncode
                entry["error"] = p.stderr
            log.append(entry)
        for name in names:
            if name not in status:
                log.append(dict({"phase": "import", "task": task_id, "step": "initdb",
                                 "file": "restore/" + name, "status": "not reached",
                                 "time": time.time()}, **infos[name]))
        if p.returncode != 0:
            return p.returncode, p.stdout, p.stderr
        return 0, p.stdout, ""

    # -- configure-module/85mysql_background_import --------------------------------------
    def background_files(self, state_dir):
        d = os.path.join(state_dir, "restore_background")
        try:
            return _c_sorted(n for n in os.listdir(d) if n.endswith(".sql")
                             and os.path.isfile(os.path.join(d, n)))
        except OSError:
            return []

    def background_import(self, state_dir, task_id, log):
        """Each restore_background/*.sql into MariaDB, deleted once loaded.
        NS8's loop goes on after a file that fails (and keeps it); here
        any failure fails the task.  Returns (exit_code, output, error)."""
        with self.lock:
            if self.stopped:
                return 143, "", "module removed\n"
            files = self.background_files(state_dir)
            if not files:
                return 0, "no background dump found\n", ""
            try:
                db = self.running_mariadb()
            except Exception as e:
                return 1, "", "the module's MariaDB did not start: %s\n" % e
            errors = []
            for name in files:
                path = os.path.join(state_dir, "restore_background", name)
                entry = dict({"phase": "configure", "task": task_id, "step": "background",
                              "file": "restore_background/" + name, "time": time.time()},
                             **_file_info(path))
                with open(path, "rb") as f:
                    p = subprocess.run(["mariadb", "--defaults-file=" + db.defaults_file,
                                        "--protocol=socket"], stdin=f, capture_output=True)
                entry["exit_code"] = p.returncode
                if p.returncode == 0:
                    os.unlink(path)
                    entry["status"] = "loaded"
                else:
                    entry["status"] = "failed"
                    entry["error"] = p.stderr.decode("utf-8", "replace")
                    errors.append("%s: %s" % (name, entry["error"].strip()))
                log.append(entry)
            if errors:
                return 1, "", "\n".join(errors) + "\n"
            return 0, "", ""

    # -- inspection ------------------------------------------------------------------------
    def _db(self):
        if self.mariadb is None or not self.mariadb.alive():
            raise ValueError("module %s has no running MariaDB (no import ran)" % self.id)
        return self.mariadb

    def tables(self, databases):
        with self.lock:
            return self._db().tables(databases)

    def table_rows(self, databases):
        """{"db.table": [[values], count]...}: the harness's row multisets made
        JSON-able (each value a str with undecodable bytes escaped; see
        ControlClient.module_table_rows)."""
        with self.lock:
            rows = self._db().table_rows(databases)
        return {name: [[[v.decode("utf-8", "surrogateescape") for v in row], n]
                       for row, n in counter.items()]
                for name, counter in rows.items()}

    def sql(self, statements, database=None):
        with self.lock:
            return self._db().sql(statements, database=database)
