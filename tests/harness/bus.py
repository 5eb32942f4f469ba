"""A private dbus-daemon configured like a system bus."""

import os
import subprocess
from xml.sax.saxutils import escape

from . import util

PROJECT_POLICY = os.path.join("dbus", "org.nethserver.Ns8Migration1.conf")

# Used only while the project's bus policy does not exist yet; it states the
# same expectation (root owns the name, anybody may call it).
_FALLBACK_PROJECT_POLICY = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <policy user="root">
    <allow own="org.nethserver.Ns8Migration1"/>
  </policy>
  <policy context="default">
    <allow send_destination="org.nethserver.Ns8Migration1"/>
    <allow receive_sender="org.nethserver.Ns8Migration1"/>
  </policy>
</busconfig>
"""

# Modelled on Debian's /usr/share/dbus-1/system.conf: method calls are denied
# unless a policy punches a hole; replies and signals pass (without them
# polkitd's answers are dropped and callers time out).  The holes for the two
# stand-ins we run (polkitd and the systemd stand-in) are those their real
# packages ship.
_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Introspectable"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Properties"/>
    <deny send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"
          send_member="UpdateActivationEnvironment"/>
    <allow send_destination="org.freedesktop.PolicyKit1"/>
    <allow send_destination="org.freedesktop.systemd1"/>
  </policy>
  <policy user="polkitd">
    <allow own="org.freedesktop.PolicyKit1"/>
  </policy>
  <policy user="root">
    <allow own="*"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Monitoring"/>
  </policy>
  <include>{project_policy}</include>
  <includedir>{extra_dir}</includedir>
</busconfig>
"""


class PrivateBus(util.ManagedProcess):
    """A dbus-daemon used as the system bus of one test run.

    `address` is the bus address for clients.  `extra_policy_dir` is an
    includedir a test may drop more bus policy into (before start()).
    """

    def __init__(self, run_dir, name="bus"):
        self.dir = os.path.join(run_dir, name)
        self.socket_path = os.path.join(self.dir, "system_bus_socket")
        self.config_path = os.path.join(self.dir, "system.conf")
        self.extra_policy_dir = os.path.join(self.dir, "system.d")
        self.log_path = util.artifact_path(run_dir, "dbus-daemon.log")
        self.address = None
        self.project_policy = None
        self.proc = None

    def start(self):
        os.makedirs(self.extra_policy_dir, exist_ok=True)
        os.chmod(self.dir, 0o755)
        project = os.path.join(util.source_dir(), PROJECT_POLICY)
        if not os.path.exists(project):
            project = os.path.join(self.dir, "org.nethserver.Ns8Migration1.conf")
            with open(project, "w") as f:
                f.write(_FALLBACK_PROJECT_POLICY)
        self.project_policy = project
        with open(self.config_path, "w") as f:
            f.write(_CONFIG.format(socket=escape(self.socket_path),
                                   project_policy=escape(project),
                                   extra_dir=escape(self.extra_policy_dir)))
        log = open(self.log_path, "ab")
        try:
            self.proc = util.spawn(["dbus-daemon", f"--config-file={self.config_path}",
                                    "--print-address", "--nofork", "--nopidfile"],
                                   stdout=subprocess.PIPE, stderr=log)
        finally:
            log.close()
        line = self.proc.stdout.readline().decode().strip()
        self.proc.stdout.close()
        if not line:
            self.proc.wait(5)
            raise util.HarnessError("dbus-daemon did not start:\n" + util.tail(self.log_path))
        # Keep the plain path form: every client (busctl, sd-bus, dbus-python) takes it.
        self.address = f"unix:path={self.socket_path}"
        return self


    def reload(self):
        """Make dbus-daemon re-read its configuration (after a test changed the policy)."""
        from .client import BusClient
        conn = BusClient(self.address)
        try:
            conn.call("/org/freedesktop/DBus", "org.freedesktop.DBus", "ReloadConfig",
                      dest="org.freedesktop.DBus")
        finally:
            conn.close()

