"""python3 -m harness up: bring the whole sandbox up and keep it until SIGINT."""

import argparse
import os
import signal
import sys
import threading

from .sandbox import Sandbox


def _up(args):
    if args.helper:
        os.environ["NS8M_HELPER"] = args.helper
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *a: stop.set())
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    with Sandbox(name="up", files=args.files, cdr_rows=args.cdr_rows,
                 nethvoice=not args.no_nethvoice, example_rules=args.example_rules,
                 helper=not args.no_helper) as sb:
        print(f"bus address:  {sb.bus_address}")
        print(f"NS7 root:     {sb.root}")
        print(f"state dir:    {sb.state_dir}")
        print(f"MariaDB:      socket {sb.mysql.socket}")
        print(f"logs:         {sb.artifacts()}")
        if sb.helper.alive():
            apps = sb.bus.apps()
            print(f"helper:       pid {sb.helper.pid}, version {sb.bus.version()}")
            print("apps:         " + (", ".join(f"{k} ({v.get('Name')}, {v.get('Status')})"
                                                for k, v in sorted(apps.items())) or "none"))
        print(f"try:          busctl --address={sb.bus_address} tree org.nethserver.Ns8Migration1")
        print("Ctrl-C stops everything.", flush=True)
        while not stop.is_set():
            if sb.helper.pid is not None and not sb.helper.alive():
                print("the helper exited; see " + sb.helper.log_path, file=sys.stderr)
                break
            stop.wait(1.0)
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python3 -m harness")
    sub = ap.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="start bus, polkitd, systemd stand-in, MariaDB, NS7 root and helper")
    up.add_argument("--files", type=int, default=2000, help="files in the NethVoice trees")
    up.add_argument("--cdr-rows", type=int, default=1000)
    up.add_argument("--no-nethvoice", action="store_true", help="an NS7 without NethVoice")
    up.add_argument("--example-rules", action="store_true", help="install the example polkit rules")
    up.add_argument("--no-helper", action="store_true", help="do not start the helper")
    up.add_argument("--helper", help="helper binary (default: $NS8M_HELPER or build/helper/...)")
    args = ap.parse_args(argv)
    if args.command == "up":
        return _up(args)
    return 2


if __name__ == "__main__":
    sys.exit(main())
