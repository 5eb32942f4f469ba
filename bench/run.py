#!/usr/bin/python3
"""Benchmark of the NethVoice migration against plain commands on the same
data, in the same run, over the same simulated NS8 cluster (real WireGuard,
real rsync receivers), as root:

  (a) first sync (App.Start's copy) vs one plain `rsync -a --delete` of the
      same trees into a fresh destination of the same receiver;
  (b) a sync with nothing changed vs the same plain rsync again;
  (c) App.Finish's downtime (first NS7 service stopped -> configure-module
      submitted) with N and M call-history rows already synced, vs the usual
      method: full mysqldump of every NethVoice database after the stop plus
      the same final file sync;
  (d) App.Finish's downtime with N and M files in the trees (small files in
      date folders, as recordings are laid out; default 10 000 and
      1 000 000), its last sync a change set (docs/transfers.md), beside a
      no-change Sync (the full pass the last sync used to be), with
      EstimatedDowntime read before Finish and its error.

The helper's peak RSS (VmHWM) is read throughout, per phase.  Everything the
bench creates lives under the temp directory and is removed at the end, also
on Ctrl-C.  Results: a summary on stdout, and results.json / results.md in
--out when given.

Targets (issue #5): (a), (b) within 10 % of plain rsync; (c) 4 M rows within
20 % of 1 M rows and at least 5x shorter than full dumps at 4 M rows; helper
peak RSS under 64 MB.
"""

import argparse
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(SRC, "tests"))
sys.path.insert(0, HERE)

from rig import APP, START, JobFailed, Rig, log  # noqa: E402

MB = 1024 * 1024
TARGET_SYNC_RATIO = 1.10
TARGET_HISTORY_RATIO = 1.20
TARGET_DUMP_FACTOR = 10.0
TARGET_RSS_KB = 64 * 1024
TARGET_FILES_RATIO = 1.3
TARGET_FULL_PASS_FACTOR = 10.0
TARGET_ESTIMATE_ERROR = 0.30


def tear_down(rig, out, tag):
    """The end of a measure: its memory figures kept in OUT, the rig down."""
    if rig.sampler is not None:
        rig.sampler.stop()
        out["memory"] = rig.sampler.results()
        rig.sampler = None
    log(f"{tag} tearing down")
    rig.down()


def size(text):
    """'2G', '2GiB', '1.5GB', '500M', '123456' -> bytes (K/M/G/T are powers of 1024)."""
    t = text.strip().upper().rstrip("B").rstrip("I")
    mult = 1
    for suffix, m in (("K", 1 << 10), ("M", 1 << 20), ("G", 1 << 30), ("T", 1 << 40)):
        if t.endswith(suffix):
            t, mult = t[:-1], m
            break
    return int(float(t) * mult)


def rows_list(text):
    return [int(float(x)) for x in text.split(",") if x.strip()]


# ---------------------------------------------------------------------------- (a), (b)
def bench_sync(args, results):
    """First sync and no-change syncs: the helper vs plain rsync."""
    # The generator's `files`/`total_bytes` cover every NethVoice tree, a few
    # of which the migration leaves out (stock prompts, excluded names):
    # a small margin makes the migrated set reach the requested size.
    rig = Rig("sync", args.profiles_dir, files=int(args.files * 1.01) + 300, total_bytes=int(args.bytes * 1.01),
              cdr_rows=1000)
    out = {"requested": {"files": args.files, "bytes": args.bytes}}
    results["sync"] = out
    try:
        rig.up()
        rig.sampler.phase("connect")
        rig.connect()
        rig.sampler.phase("scan")
        rig.app_job("Scan", timeout=1800)
        a = rig.app()
        out["source"] = {"files": a["SourceFiles"], "bytes": a["SourceBytes"]}
        log(f"[sync] scanned: {a['SourceFiles']} files, {a['SourceBytes'] / 1e9:.2f} GB")

        # (a) first sync: App.Start (module creation + first sync); the sync's
        # own duration is the app's LastSyncDuration.
        if "a" in args.only:
            rig.sampler.phase("a: helper first sync (Start)")
            os.sync()
            job = rig.app_job("Start", dict(START), timeout=7200)
            a = rig.app()
            helper = {"seconds": a["LastSyncDuration"] / 1e6, "files": a["LastSyncFiles"],
                      "bytes_sent": a["LastSyncBytes"], "start_job_seconds": job["t_end"] - job["t_call"]}
            log(f"[a] helper: {helper['seconds']:.1f} s ({helper['files']} files, "
                f"{helper['bytes_sent'] / 1e9:.2f} GB sent); Start job {helper['start_job_seconds']:.1f} s")
            rig.sampler.phase("a: plain rsync first copy")
            plain = rig.plain_rsync("first")
            log(f"[a] plain rsync: {plain['seconds']:.1f} s ({plain['files']} files, "
                f"{plain['bytes_sent'] / 1e9:.2f} GB sent)")
            # The same pair the other way round, so that neither pays alone
            # for what the disk still writes back of the copy before it: plain
            # into an empty folder, then a Sync into the helper's emptied trees.
            rig.sampler.phase("a: plain rsync first copy, again")
            rig.empty_trees(plain=True)
            plain_again = rig.plain_rsync("first-again")
            rig.sampler.phase("a: helper first sync, again (Sync into empty trees)")
            rig.empty_trees(plain=False)
            rig.app_job("Sync", timeout=7200)
            a = rig.app()
            helper_again = {"seconds": a["LastSyncDuration"] / 1e6, "files": a["LastSyncFiles"],
                            "bytes_sent": a["LastSyncBytes"]}
            log(f"[a] again, the other way round: plain rsync {plain_again['seconds']:.1f} s, "
                f"helper {helper_again['seconds']:.1f} s ({helper_again['files']} files)")
            h = (helper["seconds"] + helper_again["seconds"]) / 2
            p = (plain["seconds"] + plain_again["seconds"]) / 2
            out["a"] = {"helper": helper, "plain": plain, "helper_again": helper_again, "plain_again": plain_again,
                        "helper_mean": h, "plain_mean": p, "ratio": h / p,
                        "ratios": [helper["seconds"] / plain["seconds"],
                                   helper_again["seconds"] / plain_again["seconds"]]}
        else:
            rig.sampler.phase("start")
            rig.app_job("Start", dict(START), timeout=7200)
            rig.sampler.phase("plain rsync first copy (not measured)")
            rig.plain_rsync("first")

        # (b) no-change syncs, alternating helper and plain, median of each.
        if "b" in args.only:
            runs = []
            for i in range(args.repeat):
                pair = {}
                order = ("helper", "plain") if i % 2 == 0 else ("plain", "helper")
                for who in order:
                    os.sync()
                    if who == "helper":
                        rig.sampler.phase("b: helper no-change Sync")
                        job = rig.app_job("Sync", timeout=3600)
                        a = rig.app()
                        pair["helper"] = {"seconds": a["LastSyncDuration"] / 1e6, "files": a["LastSyncFiles"],
                                          "bytes_sent": a["LastSyncBytes"],
                                          "sync_job_seconds": job["t_end"] - job["t_call"]}
                    else:
                        rig.sampler.phase("b: plain rsync no-change")
                        pair["plain"] = rig.plain_rsync(f"nochange{i}")
                log(f"[b] run {i + 1}: helper {pair['helper']['seconds']:.2f} s "
                    f"(job {pair['helper']['sync_job_seconds']:.2f} s), plain {pair['plain']['seconds']:.2f} s")
                runs.append(pair)
            h = statistics.median(r["helper"]["seconds"] for r in runs)
            p = statistics.median(r["plain"]["seconds"] for r in runs)
            out["b"] = {"runs": runs, "helper_median": h, "plain_median": p, "ratio": h / p,
                        "helper_job_median": statistics.median(r["helper"]["sync_job_seconds"] for r in runs)}
        rig.sampler.phase("teardown")
    finally:
        tear_down(rig, out, "[sync]")


# ---------------------------------------------------------------------------- (c)
def full_dumps(rig, dest):
    """The usual method: mysqldump of every NethVoice database, structure and
    data files as NETHVOICE.md names them, one after the other."""
    os.makedirs(dest, exist_ok=True)
    cnf = os.path.join(rig.sb.root, "root", ".my.cnf")
    present = {r[0] for r in rig.sb.mysql.sql("SHOW DATABASES")}
    files, t0 = [], time.monotonic()
    for item in rig.profile["databases"]["items"]:
        db = item["name"]
        if db not in present:
            continue
        for kind, options in (("structure", ["--no-data", "--add-drop-database"]),
                              ("data", ["--no-create-info", "--no-create-db", "--skip-triggers"])):
            path = os.path.join(dest, item[kind])
            with open(path, "wb") as f:
                p = subprocess.run(["mysqldump", f"--defaults-file={cnf}", "--single-transaction",
                                    *options, "--databases", db], stdout=f, stderr=subprocess.PIPE)
            if p.returncode != 0:
                raise RuntimeError(f"mysqldump {db} failed: {p.stderr.decode(errors='replace')}")
            files.append((item[kind], os.path.getsize(path)))
    seconds = time.monotonic() - t0
    return {"seconds": seconds, "files": files, "bytes": sum(s for _, s in files)}


def finish_watch(rig, state):
    """Called on every poll of the Finish job: when does the configure-module
    request appear in the simulator's request log?  Appended between the
    start of the previous poll and the end of this one."""
    def watch():
        if state.get("configure_seen"):
            return
        t_before = time.time()
        entries = rig.cluster.control.requests(since=state["seq"])
        t_after = time.time()
        for e in entries:
            if e.get("action") == "configure-module" and e.get("method") == "POST":
                state["configure_seen"] = (state["prev_poll"], t_after, e.get("time"))
                return
        if entries:
            state["seq"] = entries[-1]["seq"] + 1
        state["prev_poll"] = t_before
    return watch


def finish_figures(rig, rows, job, state, out):
    """The downtime and the steps of a Finish run by run_job with finish_watch."""
    from history import checksum_pass
    stops = [c for c in rig.sb.systemd.calls() if c["method"] == "StopUnit"]
    if not stops or not state.get("configure_seen"):
        raise RuntimeError(f"Finish ended without a StopUnit ({len(stops)}) or a configure-module "
                           f"request ({state.get('configure_seen')})")
    t_stop = stops[0]["time"]
    lo, hi, iso = state["configure_seen"]
    t_conf = (lo + hi) / 2
    steps = {s: e - b for s, b, e in job["steps"] if s}
    helper_log = rig.sb.helper.log()
    whole = [line.split("] ", 1)[-1] for line in helper_log.splitlines()
             if "dumped whole" in line and "WARNING" in line]
    # Part of presync: NS7 still runs, outside the downtime.
    checksums = checksum_pass(helper_log)
    out["finish"] = {
        "downtime_seconds": t_conf - t_stop,
        "downtime_uncertainty_seconds": (hi - lo) / 2,
        "first_stop_unit": stops[0]["unit"],
        "configure_request_time": iso,
        "job_seconds": None if job.get("running") else job["t_end"] - job["t_call"],
        "configure_awaited": not job.get("running"),
        "steps": steps,
        "message": job["props"]["Message"],
        "tables_dumped_whole": whole,
        "checksum_pass": checksums,
    }
    final_sync = steps.get("sync")
    if final_sync is None:
        final_sync = rig.app()["LastSyncDuration"] / 1e6
    out["final_sync_seconds"] = final_sync
    for w in whole:
        log(f"[c {rows}] NOTE: {w}")
    log(f"[c {rows}] checksum pass before the stop (outside the downtime): "
        f"{checksums['seconds']:.2f} s for {checksums['ranges']} ranges "
        f"({', '.join(f'{t} {v:.2f} s' for t, v in checksums['tables'].items())}); "
        f"{checksums['reshipped']} shipped again")
    log(f"[c {rows}] Finish: downtime {out['finish']['downtime_seconds']:.2f} s "
        f"(± {out['finish']['downtime_uncertainty_seconds']:.2f}); steps "
        + ", ".join(f"{k} {v:.2f}" for k, v in steps.items()))


def bench_finish_one(args, rows, out):
    from history import History
    rig = Rig(f"c{rows // 1000}k", args.profiles_dir, files=args.c_files, total_bytes=None, cdr_rows=0)
    out.update({"cdr_rows": rows, "link_rate": args.link_rate})
    try:
        rig.up()
        hist = History(rig.sb.mysql, rows, args.cel_per_cdr, args.queue_log_per_cdr)
        rig.sampler.phase("c: history load")
        t0 = time.monotonic()
        hist.add(rows, progress=lambda d, n: log(f"[c {rows}] history {d}/{n} calls"))
        out["history_load_seconds"] = time.monotonic() - t0
        out["history"] = hist.counts()
        rig.sb.mysql.analyze(["asteriskcdrdb"])
        out["asteriskcdrdb_bytes"] = rig.sb.mysql.cdr_bytes()
        log(f"[c {rows}] history: {out['history']}, asteriskcdrdb {out['asteriskcdrdb_bytes'] / 1e9:.2f} GB")
        if args.link_rate:
            rig.shape(args.link_rate)
        rig.sampler.phase("c: connect, scan")
        rig.connect()
        rig.app_job("Scan", timeout=1800)
        rig.sampler.phase("c: Start (first sync, history shipped)")
        job = rig.app_job("Start", dict(START), timeout=7200)
        out["start_seconds"] = job["t_end"] - job["t_call"]
        rig.sampler.phase("c: Sync")
        job = rig.app_job("Sync", timeout=7200)
        out["sync_seconds"] = job["t_end"] - job["t_call"]
        log(f"[c {rows}] Start (first sync with the history) {out['start_seconds']:.1f} s, "
            f"then Sync {out['sync_seconds']:.1f} s")
        hist.add_recent(args.new_rows)
        out["history_at_finish"] = hist.counts()
        # The usual method, on the same MariaDB and link, in the same run:
        # full dumps, then sent through the tunnel to the same receiver
        # (before Finish, while it still takes files).
        rig.sampler.phase("c: baseline full dumps and their sending")
        os.sync()
        folder = os.path.join(rig.sb.run_dir, "bench-full-dumps")
        dumps = full_dumps(rig, folder)
        sent = rig.send_folder(folder, "bench-full-dumps")
        shutil.rmtree(folder, ignore_errors=True)
        log(f"[c {rows}] baseline: full dumps {dumps['seconds']:.1f} s ({dumps['bytes'] / 1e9:.2f} GB), "
            f"sent in {sent['seconds']:.1f} s")
        if not rig.has_method("Finish"):
            raise RuntimeError("App.Finish is not in this helper")
        rig.sampler.phase("c: Finish")
        rig.sb.systemd.clear_calls()
        state = {"seq": len(rig.cluster.control.requests()), "prev_poll": time.time()}
        job = rig.run_job(APP, "org.nethserver.Ns8Migration1.App", "Finish", "a{sv}",
                          [{"accept_warnings": True}], timeout=7200, watch=finish_watch(rig, state),
                          interval=0.05, until=None if args.c_wait_configure else lambda: "configure_seen" in state)
        finish_figures(rig, rows, job, state, out)
        f = out["finish"]
        # What the usual method's downtime has that ours has too: the last
        # file sync, /terminate and NS8's import of what was sent.
        shared = out["final_sync_seconds"] + sum(f["steps"].get(s, 0.0) for s in ("terminate", "import"))
        out["baseline"] = {"dump_seconds": dumps["seconds"], "dump_bytes": dumps["bytes"],
                           "dump_files": dumps["files"], "send_seconds": sent["seconds"],
                           "send_bytes": sent["bytes_sent"], "final_sync_seconds": out["final_sync_seconds"],
                           "shared_seconds": shared,
                           "dumps_only_seconds": dumps["seconds"] + out["final_sync_seconds"],
                           "seconds": dumps["seconds"] + sent["seconds"] + shared}
        log(f"[c {rows}] baseline downtime: last sync + full dumps + sending + terminate and import = "
            f"{out['baseline']['seconds']:.1f} s; Finish {f['downtime_seconds']:.1f} s")
        rig.sampler.phase("teardown")
    finally:
        tear_down(rig, out, f"[c {rows}]")


def bench_finish(args, results):
    out = results["finish"] = {"runs": []}
    for rows in args.cdr_rows:
        run = {}
        out["runs"].append(run)
        bench_finish_one(args, rows, run)
    runs = [r for r in out["runs"] if "finish" in r and "baseline" in r]
    if len(runs) >= 2:
        small, large = runs[0], runs[-1]
        out["history_ratio"] = large["finish"]["downtime_seconds"] / small["finish"]["downtime_seconds"]
        out["dump_factor"] = large["baseline"]["seconds"] / large["finish"]["downtime_seconds"]
    elif runs:
        out["dump_factor"] = runs[-1]["baseline"]["seconds"] / runs[-1]["finish"]["downtime_seconds"]


# ---------------------------------------------------------------------------- (d)
def change_set_lines(helper_log):
    """{transfer: (changed, gone, entries, walk seconds)} of the last sync's change sets."""
    import re
    out = {}
    for m in re.finditer(r"last sync of (\S+): the change set, (\d+) new or changed and (\d+) gone of (\d+) "
                         r"entries \(walk ([\d.]+) s[;)]", helper_log):
        out[m.group(1)] = (int(m.group(2)), int(m.group(3)), int(m.group(4)), float(m.group(5)))
    return out


def new_recordings(root, n):
    """N recordings that end while the PBX still runs, in today's folder."""
    day = os.path.join(root, "var/spool/asterisk/monitor", time.strftime("%Y/%m/%d"))
    os.makedirs(day, exist_ok=True)
    for i in range(n):
        with open(os.path.join(day, f"in-201-0721400000-bench-{time.time():.0f}-{i}.wav"), "wb") as f:
            f.write(os.urandom(8000))


def bench_files_one(args, files, out):
    """Finish with FILES files in the trees: downtime, steps, the change set,
    the estimate before it, memory."""
    rig = Rig(f"d{files // 1000}k", args.profiles_dir, files=files, total_bytes=files * args.d_bytes_per_file,
              cdr_rows=1000)
    out.update({"files": files, "link_rate": args.link_rate})
    try:
        rig.up()
        if args.link_rate:
            rig.shape(args.link_rate)
        rig.sampler.phase("d: connect, scan")
        rig.connect()
        rig.app_job("Scan", timeout=3600)
        out["source_files"] = rig.app()["SourceFiles"]
        rig.sampler.phase("d: Start")
        job = rig.app_job("Start", dict(START), timeout=4 * 3600)
        out["start_seconds"] = job["t_end"] - job["t_call"]
        out["first_sync_seconds"] = rig.app()["LastSyncDuration"] / 1e6
        rig.sampler.phase("d: no-change Sync (a full pass)")
        new_recordings(rig.sb.root, 20)
        rig.app_job("Sync", timeout=3600)
        job = rig.app_job("Sync", timeout=3600)
        out["full_pass_seconds"] = rig.app()["LastSyncDuration"] / 1e6
        app = rig.app()
        out["estimate_seconds"] = app["EstimatedDowntime"] / 1e6
        out["estimate_parts"] = {k: v / 1e6 for k, v in app.get("EstimatedDowntimeParts", [])}
        log(f"[d {files}] Start {out['start_seconds']:.1f} s (first sync {out['first_sync_seconds']:.1f} s), "
            f"no-change Sync {out['full_pass_seconds']:.2f} s, estimate {out['estimate_seconds']:.1f} s "
            f"{out['estimate_parts']}")
        new_recordings(rig.sb.root, 20)
        # NS7 and the simulated NS8 share this disk: the first sync's gigabytes
        # are still being written back, and NS8's import (a MariaDB that
        # fsyncs) would pay for it.  On two hosts, days after Start, it would
        # not: flush first (the Finish then writes only its own).
        os.sync()
        rig.sampler.phase("d: Finish")
        rig.sb.systemd.clear_calls()
        state = {"seq": len(rig.cluster.control.requests()), "prev_poll": time.time()}
        job = rig.run_job(APP, "org.nethserver.Ns8Migration1.App", "Finish", "a{sv}",
                          [{"accept_warnings": True}], timeout=4 * 3600, watch=finish_watch(rig, state),
                          interval=0.05, until=lambda: "configure_seen" in state)
        finish_figures(rig, f"{files} files", job, state, out)
        f = out["finish"]
        sets = change_set_lines(rig.sb.helper.log())
        out["change_sets"] = sets
        walk = sum(v[3] for v in sets.values())
        # The same Finish with a full last pass: its sync step replaced by
        # the no-change Sync measured just before (the pass it used to be).
        out["full_pass_downtime_seconds"] = f["downtime_seconds"] - f["steps"].get("sync", 0.0) + \
            out["full_pass_seconds"]
        out["estimate_error"] = out["estimate_seconds"] / f["downtime_seconds"] - 1
        log(f"[d {files}] downtime {f['downtime_seconds']:.2f} s (walk {walk:.2f} s), with a full last pass "
            f"{out['full_pass_downtime_seconds']:.1f} s; estimate {out['estimate_seconds']:.1f} s "
            f"({out['estimate_error'] * 100:+.0f} %)")
        rig.sampler.phase("teardown")
    finally:
        tear_down(rig, out, f"[d {files}]")


def bench_files(args, results):
    out = results["files"] = {"runs": []}
    for files in args.d_files:
        run = {}
        out["runs"].append(run)
        bench_files_one(args, files, run)
    runs = [r for r in out["runs"] if "finish" in r]
    if len(runs) >= 2:
        out["files_ratio"] = runs[-1]["finish"]["downtime_seconds"] / runs[0]["finish"]["downtime_seconds"]


def report_files(fin, lines):
    lines.append("| files | Finish downtime | change-set walk | last sync step | with a full last pass (no-change "
                 "Sync instead) | full / change set | EstimatedDowntime before Finish | error | helper peak RSS "
                 "| its rsync's peak RSS |")
    lines.append("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in fin["runs"]:
        if not r.get("finish"):
            continue
        f = r["finish"]
        walk = sum(v[3] for v in r["change_sets"].values())
        full = r["full_pass_downtime_seconds"]
        lines.append(f"| {r.get('source_files', r['files']):,} | {f['downtime_seconds']:.2f} s ± "
                     f"{f['downtime_uncertainty_seconds']:.2f} | {walk:.2f} s | {f['steps'].get('sync', 0):.2f} s | "
                     f"{full:.1f} s | {full / f['downtime_seconds']:.1f}× | {r['estimate_seconds']:.1f} s | "
                     f"{r['estimate_error'] * 100:+.0f} % ({verdict(abs(r['estimate_error']) <= TARGET_ESTIMATE_ERROR)})"
                     f" | {mb(r['memory']['helper_peak_kb'])} | {mb(r['memory']['helper_rsync_peak_kb'])} |")
    if "files_ratio" in fin:
        lines.append("")
        lines.append(f"Downtime at the most files / the fewest: {fin['files_ratio']:.2f} "
                     f"(≤ {TARGET_FILES_RATIO:.1f}: {verdict(fin['files_ratio'] <= TARGET_FILES_RATIO)}).")
    for r in fin["runs"]:
        if r.get("finish"):
            lines.append("")
            lines.append(f"At {r['files']:,} files: steps " + ", ".join(
                f"{k} {v:.2f} s" for k, v in r["finish"]["steps"].items()) + "; estimate " + ", ".join(
                f"{k} {v:.2f} s" for k, v in r["estimate_parts"].items()))
    lines.append("")


# ---------------------------------------------------------------------------- report
def environment(args):
    def cmd(argv):
        try:
            return subprocess.run(argv, capture_output=True, text=True, timeout=20).stdout.strip()
        except OSError:
            return ""
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "")
    except OSError:
        pass
    helper = os.environ.get("NS8M_HELPER", "")
    return {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "cpu": cpu, "cores": os.cpu_count(), "memory_gb": round(os.sysconf("SC_PAGE_SIZE")
                                                                 * os.sysconf("SC_PHYS_PAGES") / 1e9, 1),
        "kernel": platform.release(),
        "loadavg_at_start": os.getloadavg(),
        "rsync": cmd(["rsync", "--version"]).splitlines()[0] if cmd(["rsync", "--version"]) else "",
        "mariadb": cmd(["mariadbd", "--version"]),
        "helper_version": cmd([helper, "--version"]) if helper else "",
        "commit": cmd(["git", "-C", SRC, "rev-parse", "--short", "HEAD"]),
        "options": {k: v for k, v in vars(args).items() if k not in ("out",)},
    }


def mb(kb):
    return f"{kb / 1024:.1f} MB"


def verdict(ok):
    return "met" if ok else "NOT met"


def report(results):
    lines = []
    env = results["environment"]
    lines.append(f"Machine: {env['cpu']}, {env['cores']} cores, {env['memory_gb']} GB RAM, "
                 f"Linux {env['kernel']}; {env['rsync']}; {env['mariadb']}; commit {env['commit']}; "
                 f"{env['date']}.")
    lines.append("")
    sync = results.get("sync")
    if sync:
        src = sync.get("source", {})
        lines.append(f"Data: {src.get('files', 0)} files, {src.get('bytes', 0) / 1e9:.2f} GB migrated "
                     f"(requested {sync['requested']['files']} files, {sync['requested']['bytes'] / 1e9:.2f} GB).")
        lines.append("")
        lines.append("| measure | helper | plain rsync | ratio | target |")
        lines.append("| --- | --- | --- | --- | --- |")
        if "a" in sync:
            a = sync["a"]
            again = (f"; again, plain first: {a['helper_again']['seconds']:.1f} s" if "helper_again" in a else "")
            plain_again = (f"; again: {a['plain_again']['seconds']:.1f} s" if "plain_again" in a else "")
            lines.append(f"| (a) first sync, mean of {2 if again else 1} | {a['helper']['seconds']:.1f} s "
                         f"({a['helper']['files']} files, {a['helper']['bytes_sent'] / 1e9:.2f} GB sent){again} | "
                         f"{a['plain']['seconds']:.1f} s ({a['plain']['files']} files, "
                         f"{a['plain']['bytes_sent'] / 1e9:.2f} GB sent){plain_again} | "
                         f"{a['ratio']:.2f} | ≤ {TARGET_SYNC_RATIO:.2f}: {verdict(a['ratio'] <= TARGET_SYNC_RATIO)} |")
        if "b" in sync:
            b = sync["b"]
            lines.append(f"| (b) no-change sync, median of {len(b['runs'])} | {b['helper_median']:.2f} s "
                         f"(whole Sync job {b['helper_job_median']:.2f} s) | {b['plain_median']:.2f} s | "
                         f"{b['ratio']:.2f} | ≤ {TARGET_SYNC_RATIO:.2f}: {verdict(b['ratio'] <= TARGET_SYNC_RATIO)} |")
        if "memory" in sync:
            m = sync["memory"]
            lines.append("")
            lines.append(f"Peak RSS: helper {mb(m['helper_peak_kb'])} "
                         f"({verdict(m['helper_peak_kb'] < TARGET_RSS_KB)}: < 64 MB); the helper's rsync "
                         f"{mb(m['helper_rsync_peak_kb'])}, plain rsync {mb(m['plain_rsync_peak_kb'])}, "
                         f"receiver rsync {mb(m['receiver_rsync_peak_kb'])}.")
            lines.append("")
            lines.append("| phase | s | helper VmHWM | helper's rsync | plain rsync | receiver rsync |")
            lines.append("| --- | --- | --- | --- | --- | --- |")
            for p in m["phases"]:
                lines.append(f"| {p['name']} | {p['seconds']:.0f} | {mb(p['helper_hwm_kb'])} | "
                             f"{mb(p['helper_rsync_kb'])} | {mb(p['plain_rsync_kb'])} | {mb(p['receiver_rsync_kb'])} |")
        lines.append("")
    fin = results.get("finish")
    if fin and any("baseline" in r for r in fin["runs"]):
        lines.append("| CDR rows (cel, queue_log) | asteriskcdrdb | Finish downtime | checksum pass before the stop "
                     "(not downtime) | final file sync | full dumps | their sending | baseline downtime "
                     "(final sync + dumps + sending + terminate + import) | baseline / Finish | "
                     "dumps + final sync only / Finish | helper peak RSS |")
        lines.append("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
        for r in fin["runs"]:
            if "baseline" not in r or not r.get("finish"):
                continue
            h = r.get("history_at_finish", r.get("history", {}))
            f, b = r["finish"], r["baseline"]
            down = f"{f['downtime_seconds']:.2f} s ± {f['downtime_uncertainty_seconds']:.2f}"
            cs = f.get("checksum_pass")
            checks = f"{cs['seconds']:.2f} s ({cs['ranges']} ranges)" if cs else "–"
            lines.append(f"| {h.get('cdr', 0):,} ({h.get('cel', 0):,}, {h.get('queue_log', 0):,}) | "
                         f"{r.get('asteriskcdrdb_bytes', 0) / 1e9:.2f} GB | {down} | {checks} | "
                         f"{r['final_sync_seconds']:.2f} s | {b['dump_seconds']:.1f} s "
                         f"({b['dump_bytes'] / 1e9:.2f} GB) | {b['send_seconds']:.1f} s | {b['seconds']:.1f} s | "
                         f"{b['seconds'] / f['downtime_seconds']:.1f}× | "
                         f"{b['dumps_only_seconds'] / f['downtime_seconds']:.1f}× | "
                         f"{mb(r['memory']['helper_peak_kb'])} |")
        if "history_ratio" in fin:
            lines.append("")
            lines.append(f"Downtime at the largest history / the smallest: {fin['history_ratio']:.2f} "
                         f"(≤ {TARGET_HISTORY_RATIO:.2f}: {verdict(fin['history_ratio'] <= TARGET_HISTORY_RATIO)}).")
        if "dump_factor" in fin:
            lines.append(f"Baseline / Finish downtime at the largest history: {fin['dump_factor']:.1f}× "
                         f"(≥ {TARGET_DUMP_FACTOR:.0f}×: {verdict(fin['dump_factor'] >= TARGET_DUMP_FACTOR)}).")
        for r in fin["runs"]:
            if r.get("finish"):
                lines.append("")
                lines.append(f"Finish steps at {r['cdr_rows']:,} rows: " + ", ".join(
                    f"{k} {v:.2f} s" for k, v in r["finish"]["steps"].items()))
        lines.append("")
    if results.get("files"):
        report_files(results["files"], lines)
    return "\n".join(lines)


# ---------------------------------------------------------------------------- main
def check_space(args):
    need = 0
    if {"a", "b"} & set(args.only):
        need += int(2.2 * args.bytes) + (1 << 30)          # two non-sparse copies on the receiver
    if "c" in args.only:
        calls = max(args.cdr_rows)
        need += int(calls * (1 + args.cel_per_cdr + args.queue_log_per_cdr) * 2500) + (1 << 30)
    if "d" in args.only:
        need += max(args.d_files) * (args.d_bytes_per_file + 8192) + (1 << 30)  # a block and an inode a file on the receiver
    free = shutil.disk_usage(tempfile.gettempdir()).free
    return need, free


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--files", type=int, default=100_000, help="files migrated in (a)/(b) (default 100000)")
    ap.add_argument("--bytes", type=size, default=size("2G"),
                    help="their total size, e.g. 2G, 500M (default 2G = 2 GiB)")
    ap.add_argument("--cdr-rows", type=rows_list, default=[1_000_000, 4_000_000],
                    help="call-history sizes for (c), comma separated (default 1000000,4000000)")
    ap.add_argument("--only", type=lambda s: [x.strip() for x in s.split(",") if x.strip()],
                    default=["a", "b", "c"], help="which measures: a,b,c (default all)")
    ap.add_argument("--repeat", type=int, default=3, help="no-change syncs of each kind in (b) (default 3)")
    ap.add_argument("--c-files", type=int, default=3000, help="files in the NS7 trees of (c) (default 3000)")
    ap.add_argument("--cel-per-cdr", type=float, default=1.0, help="cel rows per CDR row in (c) (default 1)")
    ap.add_argument("--queue-log-per-cdr", type=float, default=0.25,
                    help="queue_log rows per CDR row in (c) (default 0.25)")
    ap.add_argument("--new-rows", type=int, default=300,
                    help="CDR rows added after the last Sync, before Finish (default 300)")
    ap.add_argument("--d-files", type=rows_list, default=None,
                    help="files in the NS7 trees for (d), comma separated (default: 10000 and --files)")
    ap.add_argument("--d-bytes-per-file", type=int, default=2000,
                    help="average file size in (d), bytes (default 2000: small files)")
    ap.add_argument("--link-rate", default="100mbit",
                    help="tc rate of the NS7 host's link during (c) and (d), 'none' for no limit (default 100mbit)")
    ap.add_argument("--c-wait-configure", action="store_true",
                    help="in (c), wait for configure-module to end (the simulator loads the whole history "
                         "there: minutes per million rows, after the downtime) instead of stopping at its request")
    ap.add_argument("--helper", help="the helper binary (default: $NS8M_HELPER, else build/helper/...)")
    ap.add_argument("--profiles-dir", default=os.path.join(SRC, "apps"),
                    help="the app profiles matching that helper (default: apps/ of this checkout)")
    ap.add_argument("--out", help="folder for results.json and results.md")
    ap.add_argument("--force", action="store_true", help="run even if the free disk space looks too small")
    args = ap.parse_args()
    if args.link_rate.lower() in ("", "none", "0"):
        args.link_rate = None
    if args.d_files is None:
        args.d_files = [10_000, args.files]
    if not set(args.only) <= {"a", "b", "c", "d"}:
        ap.error("--only takes a, b, c, d")
    if os.geteuid() != 0:
        ap.error("run as root (network namespaces, private daemons)")
    if args.helper:
        os.environ["NS8M_HELPER"] = os.path.abspath(args.helper)
    os.environ.setdefault("NS8M_HELPER", os.path.join(SRC, "build", "helper", "ns8-migration-helper"))
    os.environ.setdefault("NS8M_SOURCE_DIR", SRC)
    os.environ.setdefault("NS8M_SHARED_DIR", os.path.join(os.path.dirname(SRC), "shared"))
    if not os.access(os.environ["NS8M_HELPER"], os.X_OK):
        ap.error(f"no helper binary at {os.environ['NS8M_HELPER']} (build it, or give --helper)")
    need, free = check_space(args)
    log(f"disk: {free / 1e9:.1f} GB free in {tempfile.gettempdir()}, about {need / 1e9:.1f} GB needed")
    if need > free and not args.force:
        sys.exit(f"not enough free space in {tempfile.gettempdir()} ({free / 1e9:.1f} GB free, "
                 f"about {need / 1e9:.1f} GB needed); --force to try anyway")

    def on_term(signum, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, on_term)

    results = {"environment": environment(args)}
    t0 = time.monotonic()
    status = 0
    try:
        if {"a", "b"} & set(args.only):
            bench_sync(args, results)
        if "c" in args.only:
            bench_finish(args, results)
        if "d" in args.only:
            bench_files(args, results)
    except KeyboardInterrupt:
        log("interrupted: everything was removed")
        status = 130
    except JobFailed as e:
        log(f"failed: {e}")
        status = 1
    except Exception:
        traceback.print_exc()
        status = 1
    results["seconds"] = time.monotonic() - t0
    results["environment"]["loadavg_at_end"] = os.getloadavg()
    text = report(results)
    print(text)
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        with open(os.path.join(args.out, "results.json"), "w") as f:
            json.dump(results, f, indent=1, default=str)
        with open(os.path.join(args.out, "results.md"), "w") as f:
            f.write(text + "\n")
    log(f"done in {results['seconds'] / 60:.1f} min")
    return status


if __name__ == "__main__":
    sys.exit(main())
