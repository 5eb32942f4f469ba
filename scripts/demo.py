#!/usr/bin/python3
"""The main job: a sample NethServer 7 (NethVoice trees, MariaDB with the
NethVoice databases, its local OpenLDAP directory) is connected to a simulated NS8 cluster (network
namespaces, real WireGuard, real rsync receivers) and NethVoice is moved:
Connect → Scan → Start → (NS7 keeps working) → Sync → Sync → Finish, with
every job's progress printed.  The NS8 Migration page is served by cockpit-ws on
localhost; everything stays up until Ctrl-C (or ends with --exit).
"""

import argparse
import os
import signal
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(SRC, "tests"))
sys.path.insert(0, os.path.join(SRC, "tests", "browser"))

import dbus  # noqa: E402

from harness.client import APP_IFACE, JOB_IFACE, MANAGER_IFACE, app_path  # noqa: E402
from harness.helper import netns_wrapper  # noqa: E402
from harness.sandbox import Sandbox  # noqa: E402
from ns8sim import Cluster  # noqa: E402

ROOT = "/org/nethserver/Ns8Migration1"


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
    """Print the job's steps as they progress; return its final properties."""
    shown = {}
    while True:
        props = bus.get_all(job, JOB_IFACE)
        for step_id, title, progress in props["Steps"]:
            key = round(progress, 2)
            if shown.get(step_id) != key and (progress > 0 or step_id == props["CurrentStep"]):
                shown[step_id] = key
                rate = f"  {human(props['Rate'])}/s" if props["Rate"] and step_id == props["CurrentStep"] else ""
                print(f"     {title:<36} {bar(progress)}{rate}", flush=True)
        if props["Finished"]:
            print(f"   {'done' if props['Success'] else 'FAILED'}: {props['Message']}", flush=True)
            return props
        time.sleep(0.5)


def run(bus, path, iface, method, signature, args, what):
    print(f"== {what}", flush=True)
    job = bus.call(path, iface, method, signature, args, timeout=120)
    props = follow(bus, job)
    if not props["Success"]:
        raise SystemExit(f"{what} failed: {props['Message']}")
    return props


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--files", type=int, default=5000, help="files in the sample NethVoice trees")
    ap.add_argument("--cdr-rows", type=int, default=20000, help="call records in the sample CDR")
    ap.add_argument("--exit", action="store_true", help="stop everything at the end instead of waiting")
    ap.add_argument("--page", default=os.path.join(SRC, "build", "cockpit-plugin", "dist"),
                    help="the built Cockpit page (default: build/cockpit-plugin/dist)")
    args = ap.parse_args()
    os.environ.setdefault("NS8M_SHARED_DIR", os.path.join(SRC, "..", "shared"))

    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *a: stop.set())
    signal.signal(signal.SIGTERM, lambda *a: stop.set())

    print("== bringing up the simulated NS8 cluster: leader and worker in their own network namespaces")
    with Cluster(nodes=2) as cluster:
        print(f"   leader {cluster.leader_host}, cluster VPN {cluster.vpn_network}, CA {cluster.ca_file}")
        print("== bringing up the sample NS7: private system bus, polkitd, MariaDB, NethVoice trees, "
              "its OpenLDAP directory, helper")
        ns7 = cluster.topology.ns_of("ns7")
        with Sandbox(name="demo", files=args.files, cdr_rows=args.cdr_rows, helper=False,
                     directory="ldap", netns=ns7) as sb:
            sb.helper.binary = netns_wrapper(sb.run_dir, ns7, sb.helper.binary)
            sb.helper.extra_args = ["--ca-file=" + cluster.ca_file]
            sb.helper.start()
            bus = sb.bus
            print(f"   bus address: {sb.bus_address}")
            print(f"   NS7 root:    {sb.root}")
            print(f"   helper:      version {bus.version()}, log {sb.root}/var/log/ns8-migration.log")
            apps = bus.apps()
            print("== applications found on NS7: " + ", ".join(f"{p['Name']} ({p['Status']})" for p in apps.values()))

            cockpit = None
            if os.path.exists(os.path.join(args.page, "index.js")):
                from cockpitws import CockpitWs
                cockpit = CockpitWs(args.page, sb.bus_address,
                                    log_file=os.path.join(sb.root, "var/log/ns8-migration.log"))
                cockpit.start()
                print(f"== the NS8 Migration page: {cockpit.page_url}")
            else:
                print(f"   (no built page in {args.page}: build the project to have it served)")
            try:
                run(bus, ROOT, MANAGER_IFACE, "Connect", "a{sv}",
                    [{"leader": cluster.leader_host, "username": cluster.admin.user,
                      "password": cluster.admin.password, "user_domain": "nethvoice.demo.test"}],
                    f"Connect to {cluster.leader_host} (Passaggio 2)")
                m = bus.get_all(ROOT, MANAGER_IFACE)
                print(f"   node {m['NodeId']}, VPN address {m['VpnAddress']}, user domain {m['UserDomain']}")
                for n in bus.call(ROOT, MANAGER_IFACE, "ListNodes"):
                    print(f"   NS8 node {n['id']} {n['ui_name']}: {human(n['free_bytes'])} free"
                          + (" (leader)" if n["local"] else ""))
                nv = app_path("nethvoice")
                run(bus, nv, APP_IFACE, "Scan", "a{sv}", [{}], "Scan NethVoice")
                a = bus.get_all(nv, APP_IFACE)
                print(f"   {a['SourceFiles']} files, {human(a['SourceBytes'])}; databases {human(a['DatabaseBytes'])}")
                print("== Preflight: the guide's prerequisites, checked by the helper")
                for c in bus.call(ROOT, MANAGER_IFACE, "Preflight", "a{sv}",
                                  [{"app": "nethvoice", "nethvoice_host": "voice.demo.test",
                                    "nethcti_ui_host": "cti.demo.test"}]):
                    mark = {"ok": "ok  ", "warning": "WARN", "blocker": "STOP"}.get(c["severity"], c["severity"])
                    print(f"   {mark} {c['title']}: {c['detail']}")
                print("   (the warnings are read and accepted: accept_warnings)")
                run(bus, nv, APP_IFACE, "Start", "a{sv}",
                    [{"nethvoice_host": "voice.demo.test", "nethcti_ui_host": "cti.demo.test",
                      "accept_warnings": True}],
                    "Start the migration of NethVoice (phase 1: create it on NS8, first sync)")
                for notice in bus.get(nv, APP_IFACE, "Notices"):
                    print(f"   NOTE: {notice}")
                print("== NS7 keeps working: a new call recording")
                rec = os.path.join(sb.root, "var/spool/asterisk/monitor/2099/12/31")
                os.makedirs(rec, exist_ok=True)
                with open(os.path.join(rec, "in-201-0612345678-20991231-120000-1.1.wav"), "wb") as f:
                    f.write(os.urandom(2_000_000))
                sb.mysql.insert_call_history(cdr=40, cel=160, queue_log=60)
                run(bus, nv, APP_IFACE, "Sync", "a{sv}", [{"bwlimit": dbus.UInt32(50_000)}],
                    "Sync data (phase 2: only what changed, new calls included)")
                print("== NS7 keeps working: more calls")
                sb.mysql.insert_call_history(cdr=25, cel=90, queue_log=30)
                run(bus, nv, APP_IFACE, "Sync", "a{sv}", [{}], "Sync again (phase 2)")
                a = bus.get_all(nv, APP_IFACE)
                print("== sync history")
                for t, b, files, dur, warn in a["SyncHistory"]:
                    print(f"   {time.strftime('%H:%M:%S', time.localtime(t / 1e6))}  {human(b):>9}  "
                          f"{files:6d} files  {dur / 1e6:6.1f} s" + (f"  {warn} warning(s)" if warn else ""))
                print(f"   the cutover is expected to take about {a['EstimatedDowntime'] / 1e6:.0f} s")
                sb.mysql.insert_call_history(cdr=5, cel=20, queue_log=8)
                run(bus, nv, APP_IFACE, "Finish", "a{sv}", [{"accept_warnings": True}],
                    "Finish the migration (phase 3: stop, last sync, dumps, configure NS8, retire NS7)")
                a = bus.get_all(nv, APP_IFACE)
                print(f"   status: {a['Status']}, module {a['ModuleId']} on node {a['Node']}")
                for call in sb.systemd.calls():
                    if call["method"] in ("StopUnit", "StartUnit", "DisableUnitFiles", "ReloadUnit"):
                        print(f"   systemd: {call['method']} {call.get('unit') or ' '.join(call.get('units', []))}")
                print("   DNS records to create once NethVoice works on NS8:")
                for name, rtype, value in a["DnsRecords"]:
                    print(f"     {name}. IN {rtype} {value}")
                print(f"   redirect page: {sb.root}/var/www/html/ns8-migration/nethvoice.html")
                if args.exit:
                    return 0
                print(f"== all up. Try: busctl --address={sb.bus_address} tree org.nethserver.Ns8Migration1")
                if cockpit:
                    print(f"   or open {cockpit.page_url}")
                print("   Ctrl-C stops and removes everything.", flush=True)
                while not stop.is_set():
                    if not sb.helper.alive():
                        print("the helper exited; see " + sb.helper.log_path, file=sys.stderr)
                        return 1
                    stop.wait(1.0)
            finally:
                if cockpit:
                    cockpit.stop()
                if sb.helper.alive() and bus.get(ROOT, MANAGER_IFACE, "State") == "connected":
                    job = bus.call(ROOT, MANAGER_IFACE, "Disconnect", "a{sv}", [{"force": True}])
                    follow(bus, job)
    return 0


if __name__ == "__main__":
    sys.exit(main())
