"""cockpit-ws serving the built page, on a loopback port, with its bridge on
the harness's private system bus.

The page is made visible to the bridge without touching /usr/share: a
scratch XDG data dir holds share/cockpit/ns8-migration/ (a copy of the built
bundle) and XDG_CONFIG_DIRS an override manifest that points the Logs screen
at the sandbox's log file.  `--local-session` runs the bridge as the current
user, root, whose channels already are privileged: `superuser: "require"`
is satisfied without a separate superuser bridge.
"""

import json
import os
import shutil
import socket
import subprocess
import tempfile
import time

COCKPIT_WS = "/usr/lib/cockpit/cockpit-ws"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class CockpitWs:
    def __init__(self, page_dist, bus_address, log_file=None, artifacts=None):
        self.page_dist = page_dist
        self.bus_address = bus_address
        self.log_file = log_file
        self.artifacts = artifacts
        self.proc = None
        self.dir = None
        self.port = None

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    @property
    def page_url(self):
        return self.url + "/cockpit/@localhost/ns8-migration/index.html"

    def start(self, timeout=20):
        if not os.path.exists(os.path.join(self.page_dist, "index.js")):
            raise RuntimeError("no built page in %s" % self.page_dist)
        self.dir = tempfile.mkdtemp(prefix="ns8m-cockpit-")
        shutil.copytree(self.page_dist, os.path.join(self.dir, "share/cockpit/ns8-migration"))
        os.makedirs(os.path.join(self.dir, "etc/cockpit"))
        if self.log_file:
            with open(os.path.join(self.dir, "etc/cockpit/ns8-migration.override.json"), "w") as f:
                json.dump({"config": {"log_file": self.log_file}}, f)
        env = dict(os.environ,
                   DBUS_SYSTEM_BUS_ADDRESS=self.bus_address,
                   XDG_DATA_DIRS=os.path.join(self.dir, "share") + ":/usr/share",
                   XDG_CONFIG_DIRS=os.path.join(self.dir, "etc"))
        env.pop("DBUS_SESSION_BUS_ADDRESS", None)
        self.port = free_port()
        self.log_path = os.path.join(self.artifacts or self.dir, "cockpit-ws.log")
        log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [COCKPIT_WS, "--no-tls", "--local-session=cockpit-bridge", "--port", str(self.port),
             "--address", "127.0.0.1"],
            env=env, stdout=log, stderr=subprocess.STDOUT, cwd=self.dir, start_new_session=True)
        log.close()
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError("cockpit-ws exited with %s; see %s" % (self.proc.returncode, self.log_path))
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return self
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError("cockpit-ws did not listen on port %d within %d s" % (self.port, timeout))
                time.sleep(0.1)

    def stop(self):
        if self.proc is not None:
            # The bridge runs in cockpit-ws's session: end the whole group.
            try:
                os.killpg(self.proc.pid, 15)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, 9)
                self.proc.wait(10)
            self.proc = None
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
