"""Debian's polkitd on the private bus, in a mount namespace of its own.

The host's polkit configuration is never touched: polkitd runs in a private
mount namespace where the actions dir, both rules dirs and /etc/group are
bind mounts of directories and files under the run directory.
"""

import grp
import json
import os
import pwd
import shutil
import subprocess

from . import util
from .client import CALL_AS_PRELUDE

POLKITD = "/usr/lib/polkit-1/polkitd"
PROJECT_ACTIONS = os.path.join("polkit", "org.nethserver.ns8migration.policy")
EXAMPLE_RULES = os.path.join("polkit", "50-ns8migration-sync-group.rules.example")

SYNC_GROUP = "ns8migration-sync"
# The member of SYNC_GROUP in the test's /etc/group.  `daemon` is a system
# user present on every Debian host whose only group is its own `daemon`
# group (not sudo/adm/wheel, which polkit or the rules could treat as admin).
SYNC_GROUP_MEMBER = "daemon"
# A user with no group at all that matters to polkit.
UNPRIVILEGED_USER = "nobody"
# An operator that MIGRATE_OPERATOR_RULES grant .migrate and nothing else:
# `bin`, a system user on every Debian host whose only group is `bin`.
MIGRATE_OPERATOR = "bin"
MIGRATE_OPERATOR_RULES = {"60-ns8migration-migrate-operator.rules": """\
polkit.addRule(function(action, subject) {
    if (action.id == "org.nethserver.ns8migration.migrate" && subject.user == "%s") {
        return polkit.Result.YES;
    }
    return polkit.Result.NOT_HANDLED;
});
""" % MIGRATE_OPERATOR}

# What Debian's polkit bus policy adds for agents: polkitd may call an
# authentication agent (BeginAuthentication, CancelAuthentication), which the
# private bus's default policy (method calls denied) would otherwise drop.
_AGENT_POLICY = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <policy user="polkitd">
    <allow send_interface="org.freedesktop.PolicyKit1.AuthenticationAgent"/>
  </policy>
</busconfig>
"""

_MOUNTS = [
    ("actions", "/usr/share/polkit-1/actions"),
    ("rules-usr", "/usr/share/polkit-1/rules.d"),
    ("rules-etc", "/etc/polkit-1/rules.d"),
]

# $1.. are the sources, in the order of _MOUNTS, then the group file.
_NAMESPACE_SCRIPT = """set -e
mount --bind "$1" /usr/share/polkit-1/actions
mount --bind "$2" /usr/share/polkit-1/rules.d
mount --bind "$3" /etc/polkit-1/rules.d
mount --bind "$4" /etc/group
exec "$5" --no-debug
"""


def example_rules_path():
    return os.path.join(util.source_dir(), EXAMPLE_RULES)


def project_actions_path():
    return os.path.join(util.source_dir(), PROJECT_ACTIONS)


class Polkitd(util.ManagedProcess):
    """polkitd serving org.freedesktop.PolicyKit1 on `bus`.

    rules: mapping file name -> JavaScript text, installed in
      /etc/polkit-1/rules.d (e.g. {"50-sync.rules": open(example).read()}).
    extra_actions: mapping file name -> policy XML, besides the project's.
    groups: mapping group name -> list of member user names, added to the
      copy of /etc/group (default: SYNC_GROUP with SYNC_GROUP_MEMBER).
    """

    def __init__(self, run_dir, bus, rules=None, extra_actions=None, groups=None,
                 with_project_actions=True):
        self.dir = os.path.join(run_dir, "polkit")
        self.bus = bus
        self.rules = dict(rules or {})
        self.extra_actions = dict(extra_actions or {})
        self.groups = {SYNC_GROUP: [SYNC_GROUP_MEMBER]} if groups is None else dict(groups)
        self.with_project_actions = with_project_actions
        self.log_path = util.artifact_path(run_dir, "polkitd.log")
        self.proc = None

    def _prepare(self):
        os.makedirs(self.dir, exist_ok=True)
        os.chmod(self.dir, 0o755)
        dirs = {}
        for name, _ in _MOUNTS:
            d = os.path.join(self.dir, name)
            os.makedirs(d, exist_ok=True)
            os.chmod(d, 0o755)
            dirs[name] = d
        if self.with_project_actions:
            src = project_actions_path()
            if not os.path.exists(src):
                raise util.HarnessError(f"the project's polkit actions are missing: {src}")
            shutil.copy(src, os.path.join(dirs["actions"], os.path.basename(src)))
        for name, text in self.extra_actions.items():
            with open(os.path.join(dirs["actions"], name), "w") as f:
                f.write(text)
        for name, text in self.rules.items():
            with open(os.path.join(dirs["rules-etc"], name), "w") as f:
                f.write(text)
        for d in dirs.values():
            for entry in os.listdir(d):
                os.chmod(os.path.join(d, entry), 0o644)
        group_path = os.path.join(self.dir, "group")
        with open("/etc/group") as f:
            lines = f.read().splitlines()
        used = {g.gr_gid for g in grp.getgrall()}
        gid = 990
        for group, members in self.groups.items():
            for m in members:
                pwd.getpwnam(m)  # fail early on a user that does not exist
            while gid in used:
                gid -= 1
            used.add(gid)
            lines.append(f"{group}:x:{gid}:{','.join(members)}")
        with open(group_path, "w") as f:
            f.write("\n".join(lines) + "\n")
        os.chmod(group_path, 0o644)
        return [dirs[name] for name, _ in _MOUNTS] + [group_path]

    def start(self):
        sources = self._prepare()
        os.makedirs(self.bus.extra_policy_dir, exist_ok=True)
        with open(os.path.join(self.bus.extra_policy_dir, "polkit-agents.conf"), "w") as f:
            f.write(_AGENT_POLICY)
        self.bus.reload()
        env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=self.bus.address)
        log = open(self.log_path, "ab")
        try:
            self.proc = util.spawn(["unshare", "--mount", "--propagation", "private", "--",
                                    "/bin/sh", "-c", _NAMESPACE_SCRIPT, "sh", *sources, POLKITD],
                                   env=env, stdout=log, stderr=subprocess.STDOUT)
        finally:
            log.close()
        from . import client
        conn = client.BusClient(self.bus.address)
        try:
            def owned():
                if self.proc.poll() is not None:
                    raise util.HarnessError(
                        f"polkitd exited with {self.proc.returncode}:\n" + util.tail(self.log_path))
                return conn.name_has_owner("org.freedesktop.PolicyKit1")
            util.wait_for(owned, 20, "polkitd did not take org.freedesktop.PolicyKit1")
        finally:
            conn.close()
        return self




def check_authorization(bus_client, user, action):
    """Ask polkitd whether a process of `user` is authorized for `action`
    (no interaction).  Returns polkit's (is_authorized, is_challenge, details)."""
    import dbus
    uid, gid = util.user_ids(user)
    proc = util.spawn(["setpriv", f"--reuid={uid}", f"--regid={gid}", "--init-groups",
                       "--", "sleep", "60"])
    try:
        def started():
            try:
                with open(f"/proc/{proc.pid}/status") as f:
                    status = f.read()
                with open(f"/proc/{proc.pid}/stat") as f:
                    stat = f.read()
            except OSError:
                return None
            if f"Uid:\t{uid}\t" not in status or "(sleep)" not in stat:
                return None  # not yet exec'd as the user
            return int(stat.rsplit(")", 1)[1].split()[19])
        start_time = util.wait_for(started, 10, f"a process of {user} did not start")
        subject = ("unix-process", {"pid": dbus.UInt32(proc.pid), "start-time": dbus.UInt64(start_time),
                                    "uid": dbus.Int32(uid)})
        result = bus_client.call("/org/freedesktop/PolicyKit1/Authority",
                                 "org.freedesktop.PolicyKit1.Authority", "CheckAuthorization",
                                 "(sa{sv})sa{ss}us", [subject, action, {}, 0, ""],
                                 dest="org.freedesktop.PolicyKit1")
        return bool(result[0]), bool(result[1]), dict(result[2])
    finally:
        util.stop_process(proc, timeout=5)


# The child of AgentFlood, run as the user: registers itself as that
# process's polkit authentication agent, one that never answers, then sends
# the calls (interactive authorization allowed) over several connections
# (dbus-daemon lets one connection wait for at most 128 replies).  It prints
# one JSON line of counts once the calls are answered but EXPECT_WAITING (or
# after 15 s), then again on each line read from stdin; it exits at EOF.
_FLOOD_CODE = r"""
import json, os, sys
from gi.repository import Gio, GLib
req = json.loads(sys.stdin.readline())
flags = Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT | Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION
conns = [Gio.DBusConnection.new_for_address_sync(req["address"], flags, None, None) for _ in range(req["connections"])]
agent_xml = ('<node><interface name="org.freedesktop.PolicyKit1.AuthenticationAgent">'
             '<method name="BeginAuthentication"><arg type="s" direction="in"/><arg type="s" direction="in"/>'
             '<arg type="s" direction="in"/><arg type="a{ss}" direction="in"/><arg type="s" direction="in"/>'
             '<arg type="a(sa{sv})" direction="in"/></method>'
             '<method name="CancelAuthentication"><arg type="s" direction="in"/></method></interface></node>')
counts = {"begun": 0, "canceled": 0, "answered": 0, "errors": {}, "messages": {}, "sent": 0}
held = []  # the invocations never answered
def on_agent(conn, sender, path, iface, method, params, invocation):
    if method == "BeginAuthentication":
        counts["begun"] += 1
        held.append(invocation)
    else:
        counts["canceled"] += 1
        invocation.return_value(None)
info = Gio.DBusNodeInfo.new_for_xml(agent_xml).interfaces[0]
conns[0].register_object("/org/ns8m/test/agent", info, on_agent, None, None)
with open("/proc/self/stat") as f:
    start_time = int(f.read().rsplit(")", 1)[1].split()[19])
subject = ("unix-process", {"pid": GLib.Variant("u", os.getpid()), "start-time": GLib.Variant("t", start_time),
                            "uid": GLib.Variant("i", os.getuid())})
conns[0].call_sync("org.freedesktop.PolicyKit1", "/org/freedesktop/PolicyKit1/Authority",
                   "org.freedesktop.PolicyKit1.Authority", "RegisterAuthenticationAgent",
                   GLib.Variant("((sa{sv})ss)", (subject, "C", "/org/ns8m/test/agent")),
                   None, Gio.DBusCallFlags.NONE, 10000, None)
def done(conn, res, _):
    try:
        conn.call_finish(res)
        counts["answered"] += 1
    except GLib.Error as e:
        name = Gio.DBusError.get_remote_error(e) or e.message
        counts["errors"][name] = counts["errors"].get(name, 0) + 1
        counts["messages"].setdefault(name, e.message)
args = GLib.Variant("(" + req["signature"] + ")", tuple(req["args"])) if req["signature"] else None
for i in range(req["calls"]):
    conns[i % len(conns)].call(req["dest"], req["path"], req["iface"], req["method"], args, None,
                              Gio.DBusCallFlags.ALLOW_INTERACTIVE_AUTHORIZATION, 180000, None, done, None)
    counts["sent"] += 1
loop = GLib.MainLoop()
def report():
    print(json.dumps(counts), flush=True)
def on_stdin(channel, cond):
    line = sys.stdin.readline()
    if not line:
        loop.quit()
        return False
    report()
    return True
ticks = [0]
def settled():
    replies = counts["answered"] + sum(counts["errors"].values())
    ticks[0] += 1
    if (counts["begun"] >= 1 and replies + req["expect_waiting"] >= counts["sent"]) or ticks[0] > 300:
        report()
        GLib.io_add_watch(GLib.IOChannel.unix_new(0), GLib.IO_IN | GLib.IO_HUP, on_stdin)
        return False
    return True
GLib.timeout_add(50, settled)
loop.run()
"""


class AgentFlood:
    """A process of USER with its own polkit authentication agent that never
    answers, which sends CALLS calls of METHOD to the helper, interactive
    authorization allowed (so each may wait for the agent).

    counts() -> {"sent", "answered", "errors": {name: n}, "messages": {name:
    the first message}, "begun" (the
    BeginAuthentication calls polkitd made to the agent), "canceled"}: the
    first time once all but EXPECT_WAITING calls are answered (or after
    15 s), then as they are now.  stop() ends the process: polkitd drops its
    agent and refuses what waited on it."""

    def __init__(self, address, user, path, iface, method, signature="", args=(), calls=500,
                 connections=5, expect_waiting=0, dest="org.nethserver.Ns8Migration1"):
        uid, gid = util.user_ids(user)
        self.proc = util.spawn(["setpriv", f"--reuid={uid}", f"--regid={gid}", "--init-groups", "--",
                                util.DEBIAN_PYTHON, "-c", _FLOOD_CODE],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               cwd="/", env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"})
        req = {"address": address, "dest": dest, "path": path, "iface": iface, "method": method,
               "signature": signature, "args": list(args), "calls": calls, "connections": connections,
               "expect_waiting": expect_waiting}
        self.proc.stdin.write((json.dumps(req) + "\n").encode())
        self.proc.stdin.flush()
        self._first = None

    def _read(self):
        line = self.proc.stdout.readline()
        if not line:
            err = self.proc.stderr.read().decode(errors="replace")
            raise util.HarnessError(f"the agent flood ended early (exit {self.proc.wait()}): {err}")
        return json.loads(line)

    def counts(self):
        if self._first is None:
            self._first = self._read()
            return self._first
        self.proc.stdin.write(b"\n")
        self.proc.stdin.flush()
        return self._read()

    def stop(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                util.stop_process(self.proc, timeout=5)
        for f in (self.proc.stdout, self.proc.stderr):
            f.close()


_CALLS_AS_CODE = CALL_AS_PRELUDE + r"""
conn = dbus.bus.BusConnection(req["address"])
out = []
for c in req["calls"]:
    try:
        reply = conn.call_blocking(c["dest"], c["path"], c["iface"], c["method"], c["signature"], c["args"],
                                   timeout=req["timeout"])
        out.append([None, plain(reply)])
    except dbus.exceptions.DBusException as e:
        out.append([e.get_dbus_name(), e.get_dbus_message()])
json.dump(out, sys.stdout)
"""


def calls_as(address, user, calls, timeout=30, dest="org.nethserver.Ns8Migration1"):
    """Make CALLS, (path, iface, method, signature, args) each, one after the
    other as USER from one process and one bus connection (quicker than a
    BusClient.call_as each).  Returns [(error name or None, message or
    value), ...] in the same order."""
    uid, gid = util.user_ids(user)
    req = {"address": address, "timeout": timeout,
           "calls": [{"dest": dest, "path": p, "iface": i, "method": m, "signature": s, "args": list(a)}
                     for p, i, m, s, a in calls]}
    proc = subprocess.run(["setpriv", f"--reuid={uid}", f"--regid={gid}", "--init-groups", "--",
                           util.DEBIAN_PYTHON, "-c", _CALLS_AS_CODE],
                          input=json.dumps(req), capture_output=True, text=True,
                          timeout=timeout * max(1, len(calls)) + 15, cwd="/",
                          env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"})
    if proc.returncode != 0 or not proc.stdout:
        raise util.HarnessError(f"calls as {user} did not run (exit {proc.returncode}): {proc.stderr}")
    return [tuple(r) for r in json.loads(proc.stdout)]
