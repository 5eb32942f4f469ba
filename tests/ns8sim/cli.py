"""Start, inspect and clean up a simulated NS8 cluster by hand.

    tests/ns8sim/ns8sim up            # JSON on stdout, Ctrl-C stops
    tests/ns8sim/ns8sim state --prefix ns8s1a2b
    tests/ns8sim/ns8sim fault --prefix ns8s1a2b vpn_cut mode=peer
    tests/ns8sim/ns8sim cleanup --prefix ns8s1a2b

Also `PYTHONPATH=tests /usr/bin/python3 -m ns8sim ...`.  Needs root.
(The launcher has no .py suffix on purpose: a tests/ns8sim/ns8sim.py would
shadow the package for anything run from this folder.)
"""

import argparse
import json
import os
import signal
import sys
import threading
import time

from . import util
from .cluster import Cluster, ControlClient, DEFAULT_VPN_NETWORK
from .topology import cleanup_prefix, leftovers


def _value(text):
    try:
        return json.loads(text)
    except ValueError:
        return text


def _disk(spec):
    node, _, sizes = spec.partition("=")
    total, _, free = sizes.partition(":")
    return int(node), {"total": int(total), "free": int(free or total)}


def _module(spec):
    image, _, node = spec.partition("@")
    return {"image": image, "node": int(node or 1)}


def cmd_up(args):
    disk = dict(_disk(d) for d in args.disk)
    modules = [] if args.no_modules else ([_module(m) for m in args.module] or None)
    rl = args.login_rate_limit.split("/")
    cluster = Cluster(prefix=args.prefix, vpn_network=args.vpn_network, nodes=args.nodes,
                      token_lifetime=args.token_lifetime,
                      login_rate_limit=(int(rl[0]), float(rl[1])),
                      domains=[json.loads(d) for d in args.domain], modules=modules,
                      disk=disk, leader_endpoint=args.leader_endpoint,
                      task_delay=args.task_delay, peer_delay=args.peer_delay)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    signal.signal(signal.SIGINT, lambda *a: stop.set())
    try:
        cluster.start()
        desc = cluster.describe()
        desc["cli_pid"] = os.getpid()
        with open(os.path.join(cluster.run_dir, "up.pid"), "w") as f:
            f.write("%d\n" % os.getpid())
        text = json.dumps(desc, indent=2)
        if args.json_file:
            with open(args.json_file, "w") as f:
                f.write(text + "\n")
        print(text, flush=True)
        while not stop.is_set():
            if cluster.proc is None or cluster.proc.poll() is not None:
                print("ns8sim: the simulator exited; see %s/server.log" % cluster.run_dir,
                      file=sys.stderr)
                return 1
            stop.wait(0.5)
        return 0
    finally:
        cluster.close()


def cmd_down(args):
    pidfile = os.path.join(util.run_dir_for(args.prefix), "up.pid")
    try:
        with open(pidfile) as f:
            pid = int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        pid = None
    if pid:
        cmd = util.pid_cmdline(pid) or []
        if any(b"ns8sim" in c for c in cmd):
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + 30
            while os.path.exists("/proc/%d" % pid) and time.monotonic() < deadline:
                time.sleep(0.1)
    cleanup_prefix(args.prefix)
    return cmd_leftovers(args)


def cmd_cleanup(args):
    prefixes = [args.prefix]
    if args.all:
        names = set()
        for d in os.listdir(util.NETNS_DIR) if os.path.isdir(util.NETNS_DIR) else []:
            if d.startswith(util.PREFIX_HEAD) and "-" in d:
                names.add(d.split("-", 1)[0])
        for d in os.listdir(util.RUN_BASE):
            if d.startswith("ns8sim-" + util.PREFIX_HEAD):
                names.add(d[len("ns8sim-"):])
        prefixes = sorted(names)
    for p in prefixes:
        if p:
            cleanup_prefix(p)
            print(json.dumps({"prefix": p, "left": leftovers(p)}))
    return 0


def cmd_leftovers(args):
    left = leftovers(args.prefix)
    print(json.dumps(left, indent=2))
    return 0 if not any(left.values()) else 1


def _control(args):
    return ControlClient(os.path.join(util.run_dir_for(args.prefix), "control.sock"))


def cmd_state(args):
    print(json.dumps(_control(args).state(), indent=2))


def cmd_requests(args):
    print(json.dumps(_control(args).requests(args.since), indent=2))


def cmd_fault(args):
    params = {}
    for kv in args.params:
        k, _, v = kv.partition("=")
        params[k] = _value(v)
    print(json.dumps({"id": _control(args).fault(args.kind, **params)}))


def cmd_clear_fault(args):
    c = _control(args)
    print(json.dumps({"cleared": c.clear_fault(args.id) if args.id else c.reset_faults()}))


def main(argv=None):
    ap = argparse.ArgumentParser(
        prog="ns8sim", description="A simulated NethServer 8 cluster (leader, worker, "
        "WireGuard, HTTPS API, rsync receivers) in network namespaces, for tests and demos.")
    sub = ap.add_subparsers(dest="cmd", required=True)

    up = sub.add_parser("up", help="create the topology, start the cluster, print a JSON "
                        "description, run until SIGINT/SIGTERM, then tear everything down")
    up.add_argument("--prefix", help="run prefix (default: random ns8sXXXX)")
    up.add_argument("--vpn-network", default=DEFAULT_VPN_NETWORK,
                    help="cluster VPN network (default %(default)s)")
    up.add_argument("--nodes", type=int, choices=(1, 2), default=2,
                    help="1 = leader only, 2 = leader + worker (default)")
    up.add_argument("--token-lifetime", type=float, default=3600, help="seconds")
    up.add_argument("--login-rate-limit", default="30/10",
                    help="COUNT/SECONDS logins per client address before 429")
    up.add_argument("--leader-endpoint", help="add-node's leader_endpoint "
                    "(default leader.ns8.test:55820)")
    up.add_argument("--task-delay", type=float, default=0.3)
    up.add_argument("--peer-delay", type=float, default=1.0)
    up.add_argument("--domain", action="append", default=[], metavar="JSON",
                    help='initial user domain, e.g. \'{"name": "example.org", "location": '
                    '"external", "schema": "ad"}\' (repeatable)')
    up.add_argument("--module", action="append", default=[], metavar="IMAGE@NODE",
                    help="initial module (repeatable; default nethvoice-proxy@2)")
    up.add_argument("--no-modules", action="store_true", help="start with no module")
    up.add_argument("--disk", action="append", default=[], metavar="NODE=TOTAL:FREE",
                    help="disk bytes of a node, e.g. 2=10737418240:5368709120")
    up.add_argument("--json-file", help="also write the description to this file")
    up.set_defaults(func=cmd_up)

    for name, func, hlp in (("down", cmd_down, "stop an `up` run and remove what it left"),
                            ("cleanup", cmd_cleanup, "remove everything a run with this "
                             "prefix left (namespaces, processes, mounts, files)"),
                            ("leftovers", cmd_leftovers, "list what a run left; exit 1 if "
                             "anything"),
                            ("state", cmd_state, "dump the cluster state (JSON)"),
                            ("requests", cmd_requests, "dump the request log (JSON)"),
                            ("fault", cmd_fault, "switch a fault on: KIND key=value ..."),
                            ("clear-fault", cmd_clear_fault, "switch a fault off (all "
                             "without ID)")):
        p = sub.add_parser(name, help=hlp)
        p.add_argument("--prefix", required=(name != "cleanup"))
        if name == "cleanup":
            p.add_argument("--all", action="store_true",
                           help="every ns8sim run on this machine (careful: also other "
                           "people's running tests)")
        if name == "requests":
            p.add_argument("--since", type=int, default=0)
        if name == "fault":
            p.add_argument("kind")
            p.add_argument("params", nargs="*", metavar="key=value")
        if name == "clear-fault":
            p.add_argument("id", nargs="?")
        p.set_defaults(func=func)
    args = ap.parse_args(argv)
    if args.cmd == "cleanup" and not (args.prefix or args.all):
        ap.error("cleanup needs --prefix or --all")
    return args.func(args) or 0


