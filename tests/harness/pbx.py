"""A PBX that keeps working: a process that, as Asterisk does while calls go
on, appends call history (cdr and cel rows) to NS7's MariaDB and writes a
new call recording every `interval` seconds, until it gets SIGTERM.  Then
it ends the batch it is in (a committed row and a whole recording, as
Asterisk's own shutdown leaves them) and exits.

Tests start it with `RunningPbx`, attach it to the systemd stand-in as the
main process of `asterisk.service` (so the helper's StopUnit ends it, and
the stop job ends once it has exited), and read what it wrote from its
journal: one JSON line per batch, written after the batch is on disk.

    python3 -m harness.pbx --run-dir DIR --root ROOT --journal FILE [--interval S]
"""

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import time

from . import util

RECORDINGS = "var/spool/asterisk/monitor"


def _serve(run_dir, root, journal, interval, seed):
    from .mariadb import MariaDB
    mysql = MariaDB(run_dir)  # only its client option file: the server runs already
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    rnd = random.Random(seed)
    n = 0
    with open(journal, "a") as j:
        while not stopping:
            n += 1
            counts = mysql.insert_call_history(cdr=2, cel=5, rnd=rnd)
            day = time.strftime("%Y/%m/%d")
            rel = os.path.join(RECORDINGS, day, "out-%d-live-%d-%06d.wav" % (os.getpid(), int(time.time()), n))
            os.makedirs(os.path.join(root, os.path.dirname(rel)), exist_ok=True)
            with open(os.path.join(root, rel), "wb") as f:
                f.write(os.urandom(rnd.randint(2_000, 40_000)))
            j.write(json.dumps({"batch": n, "time": time.time(), "counts": counts, "recording": rel}) + "\n")
            j.flush()
            deadline = time.monotonic() + interval
            while not stopping and time.monotonic() < deadline:
                time.sleep(0.01)
        j.write(json.dumps({"stopped": time.time(), "batches": n}) + "\n")
    return 0


class RunningPbx:
    """The writer process: start(), attach it to a unit of the systemd
    stand-in, batches() and stopped() from its journal, stop()."""

    def __init__(self, sandbox, interval=0.3, seed=11):
        self.sb = sandbox
        self.interval = interval
        self.seed = seed
        self.journal = os.path.join(sandbox.run_dir, "pbx-journal.jsonl")
        self.log_path = util.artifact_path(sandbox.run_dir, "pbx.log")
        self.proc = None

    def start(self, unit="asterisk.service"):
        open(self.journal, "w").close()
        env = dict(os.environ, PYTHONPATH=util.tests_dir(), PYTHONDONTWRITEBYTECODE="1")
        with open(self.log_path, "ab") as log:
            self.proc = util.spawn([util.DEBIAN_PYTHON, "-m", "harness.pbx", f"--run-dir={self.sb.run_dir}",
                                    f"--root={self.sb.root}", f"--journal={self.journal}",
                                    f"--interval={self.interval}", f"--seed={self.seed}"],
                                   env=env, stdout=log, stderr=subprocess.STDOUT)
        self.sb.systemd.attach(unit, self.proc.pid)
        util.wait_for(lambda: self.batches(), 30, "the PBX wrote nothing")
        return self

    def _entries(self):
        with open(self.journal) as f:
            return [json.loads(line) for line in f if line.strip()]

    def batches(self):
        """The batches on disk: {"batch", "time", "counts", "recording"}."""
        return [e for e in self._entries() if "batch" in e]

    def stopped(self):
        """When it ended after SIGTERM (time.time()), or None."""
        return next((e["stopped"] for e in self._entries() if "stopped" in e), None)

    def stop(self):
        """Ends it if it still runs; returns its exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            return self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def main(argv=None):
    ap = argparse.ArgumentParser(description="a PBX writing call history and recordings")
    ap.add_argument("--run-dir", required=True)
    ap.add_argument("--root", required=True)
    ap.add_argument("--journal", required=True)
    ap.add_argument("--interval", type=float, default=0.3)
    ap.add_argument("--seed", type=int, default=11)
    args = ap.parse_args(argv)
    return _serve(args.run_dir, args.root, args.journal, args.interval, args.seed)


if __name__ == "__main__":
    sys.exit(main())
