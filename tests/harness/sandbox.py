"""Everything one integration test needs, brought up and torn down together."""

import contextlib
import os

from . import util
from .bus import PrivateBus
from .client import BusClient
from .helper import UNIT_NAME as HELPER_UNIT, Helper
from .mariadb import MariaDB
from .ns7root import NS7Root
from .polkit import Polkitd, example_rules_path
from .systemd_standin import NETHVOICE_UNITS, SystemdStandin


class Sandbox:
    """A private system bus with polkitd and a systemd stand-in on it, a
    MariaDB with the NethVoice databases, a synthetic NS7 root and the helper.

        with Sandbox(files=25000, cdr_rows=2000) as sb:
            sb.bus.apps()            # BusClient on sb.bus_address
            sb.mysql.sql("...")      # MariaDB
            sb.helper.kill(); sb.helper.start()
            sb.systemd.calls()

    files, total_bytes, nethvoice, nethvoice_files, fias, seed: see NS7Root.
    cdr_rows: generated rows of asteriskcdrdb.cdr.
    polkit_rules: {file name: JavaScript} for /etc/polkit-1/rules.d;
      example_rules=True installs the project's example rules file.
    units: initial systemd units (default: NethVoice's, see systemd_standin);
      the NS7 root's service records add the units they lack, and the
      package adds ns8-migration-helper.service (running, disabled).
    helper=False: do not start the helper (start it with sb.helper.start()).
    mariadb / polkit / systemd = False: leave that part out.
    directory="ldap": NS7's local OpenLDAP (harness.ldap.NS7Directory): the
      `slapd` record, its cn=config and data under the root, and a real
      slapd (sb.ldap, a harness.ldap.Slapd), the main process of the
      stand-in's slapd.service; netns: the network namespace it listens
      in (ldap:/// and ldaps:///; without one: its ldapi socket only).
    directory="ad": NS7's provider is a local Samba AD DC (samba.py), its
      nsdc.service unit running and enabled.

    The NS7 root has the package installed: once the systemd stand-in is up,
    NS7Root.install_package() signals the package's update event, then
    runlevel-adjust and firewall-adjust, as NethServer's yum plugin does
    (without the systemd stand-in only the package's files are there).
    """

    def __init__(self, *, name="sandbox", files=2000, total_bytes=None, cdr_rows=1000,
                 nethvoice=True, nethvoice_files=None, fias=False, seed=1,
                 polkit_rules=None, example_rules=False, units=None, helper=True,
                 mariadb=True, polkit=True, systemd=True, helper_args=(), directory=None,
                 netns=None):
        self.name = name
        self.options = dict(files=files, total_bytes=total_bytes, nethvoice=nethvoice,
                            nethvoice_files=nethvoice_files, fias=fias, seed=seed,
                            directory=directory)
        self.netns = netns
        self.ldap = None
        self.cdr_rows = cdr_rows
        self.polkit_rules = dict(polkit_rules or {})
        if example_rules:
            with open(example_rules_path()) as f:
                self.polkit_rules["50-ns8migration-sync-group.rules"] = f.read()
        self.units = units
        self.want = dict(helper=helper, mariadb=mariadb, polkit=polkit, systemd=systemd)
        self.helper_args = helper_args
        self.run_dir = None
        self.bus_address = None
        self.root = self.state_dir = None
        self.private_bus = self.polkit = self.systemd = self.mysql = self.helper = None
        self.bus = None
        self.manifest = None
        self._stack = None

    def artifacts(self):
        """The folder holding this run's logs."""
        return os.path.dirname(util.artifact_path(self.run_dir, "x"))

    def start(self):
        stack = contextlib.ExitStack()
        try:
            self.run_dir = util.make_run_dir(f"ns8m-{self.name}-")
            stack.callback(util.remove_tree, self.run_dir)
            self.root = os.path.join(self.run_dir, "ns7root")
            self.state_dir = os.path.join(self.run_dir, "state")

            self.private_bus = stack.enter_context(PrivateBus(self.run_dir))
            self.bus_address = self.private_bus.address
            if self.want["polkit"]:
                self.polkit = stack.enter_context(Polkitd(self.run_dir, self.private_bus,
                                                          rules=self.polkit_rules))
            if self.want["systemd"]:
                self.systemd = stack.enter_context(SystemdStandin(self.run_dir, self.private_bus,
                                                                  units=self._units()))
            socket = "/var/lib/mysql/mysql.sock"
            password = None
            if self.want["mariadb"]:
                self.mysql = stack.enter_context(MariaDB(self.run_dir))
                socket, password = self.mysql.socket, self.mysql.password
            gen = NS7Root(self.root, mysql_socket=socket, mysql_password=password,
                          ldap_log=util.artifact_path(self.run_dir, "slapd.log"), **self.options)
            self.manifest = gen.build()
            self.ns7 = gen
            if gen.ldap is not None:
                self.ldap = gen.ldap.start(self.netns)
                stack.callback(gen.ldap.stop)
                if self.systemd is not None:
                    self.systemd.attach("slapd.service", self.ldap.pid)
            if self.systemd is not None:
                gen.install_package(self.bus_address)
            if self.mysql is not None:
                self.mysql.load_nethvoice(self.cdr_rows,
                                          phonebook_password=getattr(gen, "phonebook_password", None))
            self.helper = Helper(self.run_dir, self.bus_address, self.root, self.state_dir,
                                 extra_args=self.helper_args)
            stack.callback(self.helper.stop)
            self.bus = BusClient(self.bus_address)
            stack.callback(self._close_client)
            if self.want["helper"]:
                self.helper.start()
        except BaseException:
            stack.close()
            raise
        self._stack = stack
        return self

    def _units(self):
        """The systemd stand-in's units: the test's (default NethVoice's),
        plus a unit for every service record of the NS7 root that has none,
        in the state its record says."""
        units = dict(NETHVOICE_UNITS if self.units is None else self.units)
        for name, state in NS7Root(self.root, **self.options).service_units().items():
            units.setdefault(name, state)
        # The package's own unit: the helper under test runs as it; the
        # package's %post presets it (disabled on NS7) and the helper
        # enables it while connected.
        units.setdefault(HELPER_UNIT, {"ActiveState": "active", "SubState": "running",
                                       "UnitFileState": "disabled"})
        return units

    def _close_client(self):
        if self.bus is not None:
            self.bus.close()

    def stop(self):
        if self._stack is not None:
            stack, self._stack = self._stack, None
            stack.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
