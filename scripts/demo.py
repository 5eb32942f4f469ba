#!/usr/bin/python3
"""The main job, as far as the project goes today: a sample NethServer 7
(NethVoice trees, MariaDB with the NethVoice databases), a private system
bus with polkitd, the helper on it, the app inventory and a Scan with its
progress, printed step by step.  Stays up until Ctrl-C so the helper can be
explored with busctl (the address is printed), unless --exit is given.
"""

import argparse
import os
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))

from harness.client import APP_IFACE, JOB_IFACE, app_path  # noqa: E402
from harness.sandbox import Sandbox  # noqa: E402


def human(n):
    n = float(n)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000


def bar(fraction, width=24):
    done = int(round(fraction * width))
    return "[" + "#" * done + "." * (width - done) + f"] {fraction * 100:5.1f}%"


def follow(bus, job):
    """Print the job's steps as they progress until it ends."""
    shown = {}
    while True:
        props = bus.get_all(job, JOB_IFACE)
        for step_id, title, progress in props["Steps"]:
            key = (step_id, round(progress, 2))
            if shown.get(step_id) != key and (progress > 0 or step_id == props["CurrentStep"]):
                shown[step_id] = key
                print(f"  {title:<32} {bar(progress)}", flush=True)
        if props["Finished"]:
            return props
        time.sleep(0.5)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--files", type=int, default=5000, help="files in the sample NethVoice trees")
    ap.add_argument("--cdr-rows", type=int, default=20000, help="call records in the sample CDR")
    ap.add_argument("--exit", action="store_true", help="stop everything at the end instead of waiting")
    args = ap.parse_args()

    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *a: stop.set())
    signal.signal(signal.SIGTERM, lambda *a: stop.set())

    print("== bringing up the sandbox: private system bus, polkitd, MariaDB, sample NS7, helper")
    with Sandbox(name="demo", files=args.files, cdr_rows=args.cdr_rows) as sb:
        bus = sb.bus
        print(f"   bus address: {sb.bus_address}")
        print(f"   NS7 root:    {sb.root}")
        print(f"   helper:      version {bus.version()}, log {sb.root}/var/log/ns8-migration.log")
        apps = bus.apps()
        print("== applications found on NS7")
        for app_id, props in sorted(apps.items()):
            print(f"   {props['Name']:<12} ({app_id}): {props['Status']}")
        for app_id in sorted(apps):
            print(f"== scanning {apps[app_id]['Name']}")
            job = bus.call(app_path(app_id), APP_IFACE, "Scan", "a{sv}", [{}])
            print(f"   job {job}")
            outcome = follow(bus, job)
            print(f"   {'done' if outcome['Success'] else 'FAILED'}: {outcome['Message']}")
            props = bus.get_all(app_path(app_id), APP_IFACE)
            for item_id, title, files, size in props["ScanDetails"]:
                what = f"{files} files, {human(size)}" if not item_id.startswith("db:") else human(size)
                print(f"     {title:<32} {what}")
            print(f"   total: {props['SourceFiles']} files, {human(props['SourceBytes'])}; "
                  f"databases {human(props['DatabaseBytes'])}")
        if args.exit:
            return 0
        print(f"== all up. Try: busctl --address={sb.bus_address} tree org.nethserver.Ns8Migration1")
        print("   Ctrl-C stops and removes everything.", flush=True)
        while not stop.is_set():
            if not sb.helper.alive():
                print("the helper exited; see " + sb.helper.log_path, file=sys.stderr)
                return 1
            stop.wait(1.0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
