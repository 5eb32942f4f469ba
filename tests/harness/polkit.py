"""Debian's polkitd on the private bus, in a mount namespace of its own.

The host's polkit configuration is never touched: polkitd runs in a private
mount namespace where the actions dir, both rules dirs and /etc/group are
bind mounts of directories and files under the run directory.
"""

import grp
import os
import pwd
import shutil
import subprocess

from . import util

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
