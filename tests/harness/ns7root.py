"""A synthetic NethServer 7 root for `ns8-migration-helper --root=DIR`.

The layout is described in tests/harness/README.md.  Everything is
deterministic for a given seed.  Large files are sparse: their apparent size
is real, their disk usage is one block.
"""

import os
import random
import secrets
import shutil
import sqlite3
import struct
import subprocess
import time

from . import esmith, samba, util
from .ldap import NS7Directory

# The stock AGI scripts of NS7's agi-bin that must not reach NS8, by the two
# lists of NETHVOICE.md ("Exclude lists"): the original migration tool's
# (25) and the NS8 image's own agi-bin (19).  The sample NS7 has every name
# of both, so that a profile missing one of them is caught.
TOOL_AGI = ["app_wakeup.php", "calendar.agi", "checksound.agi", "dialparties.agi", "directory",
            "enumlookup.agi", "fixlocalprefix", "inboundlookup.php", "list-item-remove.php",
            "nethcqr.php", "offhour.php", "outbound-routes-pin.php", "outboundRouteEmail.php",
            "outboundlookup.php", "page.agi", "paging_call_spooler.agi", "parkfetch.agi",
            "parkuser.php", "queue_devstate.agi", "rapidcode.php", "recallonbusy_set.php",
            "recordings.agi", "returnontransfer_setContext.php", "setContext.php",
            "user_login_out.agi"]
IMAGE_AGI = ["alarmsuccess.php", "camere.php", "cdrscript.sample.php", "cdrscript_in.sample.php",
             "checkin.php", "cleanRoom.php", "configAlarm.php", "extra.php", "lookup.php",
             "nethcqr.php", "offhour.php", "outbound-routes-pin.php", "phpagi-asmanager.php",
             "phpagi.php", "recallonbusy_set.php", "set-reception-lang.php", "set-room-lang.php",
             "sql.php", "svegliafallita.php"]
STOCK_AGI = sorted(set(TOOL_AGI) | set(IMAGE_AGI))
# The administrator's own scripts: the only ones that move (one in a folder).
CUSTOM_AGI = ["crm_lookup.php", "custom/notify_ticket.py"]

STOCK_CUSTOMER_CARDS = ["identity.ejs", "lastcalls.ejs", "statistics.ejs", "table.ejs"]
CUSTOM_CUSTOMER_CARDS = ["crm_custom.ejs", "tickets.ejs", "orders.ejs"]

ASTERISK_CONFS = [
    "extensions.conf", "extensions_additional.conf", "extensions_custom.conf",
    "extensions_override_freepbx.conf", "globals_custom.conf", "pjsip.conf",
    "pjsip.endpoint.conf", "pjsip.aor.conf", "pjsip.auth.conf", "pjsip.registration.conf",
    "pjsip.transports.conf", "pjsip_custom.conf", "sip.conf", "sip_additional.conf",
    "sip_custom.conf", "sip_general_additional.conf", "iax.conf", "iax_additional.conf",
    "queues.conf", "queues_additional.conf", "queues_custom.conf", "voicemail.conf",
    "features.conf", "features_general_additional.conf", "musiconhold.conf",
    "musiconhold_additional.conf", "manager.conf", "manager_additional.conf",
    "manager_custom.conf", "cdr.conf", "cdr_adaptive_odbc.conf", "cel.conf", "cel_odbc.conf",
    "res_odbc.conf", "res_odbc_additional.conf", "confbridge.conf", "confbridge_additional.conf",
    "indications.conf", "logger.conf", "rtp.conf", "http.conf", "ari.conf", "ari_additional.conf",
    "chan_dahdi.conf", "meetme.conf", "udptl.conf", "ccss.conf", "dundi.conf", "acl.conf",
    "freepbx_module_admin.conf", "freepbx_menu.conf", "nethcti.conf", "followme.conf",
    "ivr_custom.conf", "parking_additional.conf", "res_parking.conf", "amd.conf", "smdi.conf",
    "phpagi.conf", "extensions_additional_custom.conf",
]
# Present on NS7, excluded by the profile.
ASTERISK_EXCLUDED = ["asterisk.conf", "modules.conf", "sip.conf.rpmnew",
                     "extensions.conf.rpmnew", "samples/extensions.conf.sample",
                     "samples/sip.conf.sample", "samples/voicemail.conf.sample",
                     "samples.txt", "keys/freepbx.pub", "keys/freepbx.key"]

LANGUAGES_WITH_CUSTOM = ["it", "en", "es"]
LANGUAGES_WITHOUT_CUSTOM = ["de", "fr"]

VOLATILE_FAMILIES = ["/SIP/", "/RG/", "/BLKVM/", "/FM/", "/dundi/", "//", "/IAX/",
                     "/CALLTRACE/", "/ccss/last_number"]

_WAV_HEADER_SIZE = 44

# The e-smith stand-ins copied into every root, laid out as on NS7.
STANDIN_TREE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ns7tree")
# The folders of the repository's ns7/ that the RPM installs in /etc/e-smith.
PACKAGE_DIRS = ("templates", "events", "db")
# The package's update event (ns7/events), signalled by NethServer's yum plugin.
PACKAGE_EVENT = "ns8-migration-update"
# The handlers the package's install makes (ns7/CMakeLists.txt): S<NN><action>.
PACKAGE_HANDLERS = ((PACKAGE_EVENT, "S00initialize-default-databases"),)
# The text of /etc/nethserver-release on an up-to-date NethServer 7.
NS7_RELEASE = "NethServer release 7.9.2009 (final)"


def _wav_header(size):
    # 8 kHz, 16 bit, mono PCM, as Asterisk writes its wav recordings.
    data = max(0, size - _WAV_HEADER_SIZE)
    return (b"RIFF" + struct.pack("<I", data + 36) + b"WAVEfmt "
            + struct.pack("<IHHIIHH", 16, 1, 1, 8000, 16000, 2, 16)
            + b"data" + struct.pack("<I", data))


class Manifest:
    """What the generator wrote: counts for a quick look, secrets to hunt in logs."""

    def __init__(self, root):
        self.root = root
        self.files = 0
        self.bytes = 0
        self.recordings = 0
        self.secrets = {}

    def __repr__(self):
        return f"Manifest({self.root}, files={self.files}, bytes={self.bytes})"


class NS7Root:
    """Builds an NS7 tree under `path`.

    files: about how many regular files to write below the NethVoice trees
      (the fixed set is about 250 files; voicemail and call recordings fill the rest).
    total_bytes: about the apparent size of them all (recordings and
      voicemail absorb what the fixed set does not use).
    nethvoice: write the `nethvoice` records in the configuration DB.
    nethvoice_files: write the NethVoice trees (default: same as nethvoice).
    mysql_socket / mysql_password: what /root/.my.cnf says.
    fias: write /etc/fias.conf (hotel add-on).
    directory="ad": the account provider is a local Samba AD DC, provisioned
      for real under var/lib/machines/nsdc (samba.py; the `nsdc` and `sssd`
      records say so; sssd's BindPassword is its service account's).

    The root also has NethServer 7's e-smith tools (stand-ins, see esmith.py
    and ns7tree/) and the package's files; install_package() runs the
    package's install hook against the systemd stand-in.  tool(),
    signal_event(), expand_template(), db() and calls() are for tests.
    """

    def __init__(self, path, *, files=2000, total_bytes=None, nethvoice=True,
                 nethvoice_files=None, mysql_socket="/var/lib/mysql/mysql.sock",
                 mysql_password=None, fias=False, seed=1, directory=None, ldap_log=None):
        if directory not in (None, "ldap", "ad"):
            raise ValueError("directory must be None, 'ldap' or 'ad'")
        self.path = path
        self.directory = directory  # "ad": NS7's local Samba AD DC (samba.py)
        self.ldap_log = ldap_log
        self.ldap = None  # the NS7Directory once built
        self.files = files
        self.total_bytes = total_bytes if total_bytes is not None else files * 120_000
        self.nethvoice = nethvoice
        self.nethvoice_files = nethvoice if nethvoice_files is None else nethvoice_files
        self.mysql_socket = mysql_socket
        self.mysql_password = mysql_password or "Ns7-" + secrets.token_hex(10)
        self.fias = fias
        self.rnd = random.Random(seed)
        self._draw_secrets()
        self.bus_address = None
        self.manifest = Manifest(path)
        self._epoch = 1_700_000_000  # fixed "now" of the synthetic host

    # --- helpers -----------------------------------------------------------
    def p(self, rel):
        return os.path.join(self.path, rel.lstrip("/"))

    def _mkdir(self, rel, mode=0o755):
        d = self.p(rel)
        os.makedirs(d, exist_ok=True)
        os.chmod(d, mode)
        return d

    def write(self, rel, content, mode=0o644, count=True, mtime=None):
        """A small file with real content."""
        path = self.p(rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        data = content.encode() if isinstance(content, str) else content
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)
        os.chmod(path, mode)
        if mtime:
            os.utime(path, (mtime, mtime))
        if count:
            self.manifest.files += 1
            self.manifest.bytes += len(data)
        return path

    def sparse(self, rel, size, header=b"", mode=0o644, mtime=None):
        """A file of apparent size `size`: a header, then a hole."""
        path = self.p(rel)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        try:
            if header:
                os.write(fd, header[:size])
            os.ftruncate(fd, size)
        finally:
            os.close(fd)
        if mtime:
            os.utime(path, (mtime, mtime))
        self.manifest.files += 1
        self.manifest.bytes += size
        return path

    def wav(self, rel, size, mtime=None):
        os.makedirs(os.path.dirname(self.p(rel)), exist_ok=True)
        return self.sparse(rel, size, _wav_header(size), mtime=mtime)

    # --- the tree ------------------------------------------------------------
    def build(self):
        os.makedirs(self.path, exist_ok=True)
        os.chmod(self.path, 0o755)
        self._mkdir("var/log")
        self._mkdir("root", 0o550)
        self._mkdir("etc")
        self._config_db()
        self._my_cnf()
        self._install_standins()
        self._install_package_files()
        if self.directory == "ldap":
            self.ldap = NS7Directory(self.path, self.bind_password, log_path=self.ldap_log).build()
            self.manifest.secrets["ldapservice"] = self.bind_password
            self.manifest.secrets.update({"ldap." + u: pw for u, pw in self.ldap.passwords.items()})
        if self.directory == "ad":
            self.ad_provision_seconds = samba.provision(
                self.path, self.ad_admin_password, self.bind_password, self.ad_user_password)
            self.manifest.secrets["nsdc.Administrator"] = self.ad_admin_password
            self.manifest.secrets["nsdc.users"] = self.ad_user_password
        if self.nethvoice_files:
            budget_files, budget_bytes = self.files, self.total_bytes
            self._asterisk_etc()
            self._agi_bin()
            self._sounds()
            self._moh()
            self._phonebook()
            self._customer_cards()
            self._tancredi()
            self._astdb()
            self._secrets_files()
            if self.fias:
                self.write("etc/fias.conf", "[fias]\naddress=192.0.2.50\nport=5010\n", 0o640)
            fixed_files, fixed_bytes = self.manifest.files, self.manifest.bytes
            rest_files = max(10, budget_files - fixed_files)
            rest_bytes = max(rest_files * 4096, budget_bytes - fixed_bytes)
            vm_files = max(4, rest_files // 30)
            self._voicemail(vm_files, rest_bytes // 30)
            rest_files = max(1, budget_files - self.manifest.files)
            self._recordings(rest_files, max(rest_files * 4096, budget_bytes - self.manifest.bytes))
        return self.manifest

    def _draw_secrets(self):
        rnd = self.rnd
        self.system_id = "".join(rnd.choice("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789") for _ in range(32))
        self.subscription_secret = "".join(rnd.choice("abcdefghijklmnopqrstuvwxyz0123456789")
                                           for _ in range(40))
        self.bind_password = "Bind-" + "".join(rnd.choice("abcdef0123456789") for _ in range(16))
        # (not from rnd: the seeded tree stays the same with or without a DC)
        self.ad_admin_password = "Adm-" + secrets.token_hex(8)
        self.ad_user_password = "Usr-" + secrets.token_hex(8)

    def records(self):
        """The configuration DB's records: {key: (type, props)}.

        Service records are as an administrator leaves them on a running
        NethServer 7 (NS7.md, "NethVoice14 records"): status says what the
        systemd stand-in's units do (NETHVOICE_UNITS: running and enabled,
        the hotel's fias stopped).  No record for tancredi,
        nethvoice-report-api or fias-dispatcher: none exists on NS7."""
        records = {
            "TimeZone": ("Europe/Rome", {}),
            "SystemName": ("ns7", {}),
            "DomainName": ("example.com", {}),
            "sssd": ("service", {"Provider": "ldap", "LdapURI": "ldap://127.0.0.1",
                                 "BaseDN": "dc=directory,dc=nh",
                                 "BindDN": "cn=ldapservice,dc=directory,dc=nh",
                                 "BindPassword": self.bind_password, "UserDN": "ou=People,dc=directory,dc=nh",
                                 "GroupDN": "ou=Groups,dc=directory,dc=nh", "Realm": "",
                                 "AdDns": "", "StartTls": "", "status": "enabled"}),
            "subscription": ("configuration", {"SystemId": self.system_id, "Secret": self.subscription_secret,
                                               "ApiUrl": "https://my.nethesis.it/isa/",
                                               "Provider": "nsent"}),
            "mysqld": ("service", {"TCPPort": "3306", "access": "private", "status": "enabled",
                                   "LocalNetworkingOnly": "yes"}),
            "httpd": ("service", {"TCPPorts": "80,443", "access": "green,red", "status": "enabled"}),
            "sshd": ("service", {"TCPPort": "22", "access": "green,red", "status": "enabled",
                                 "PermitRootLogin": "yes"}),
            "cockpit.socket": ("service", {"TCPPort": "9090", "access": "green,red",
                                           "status": "enabled"}),
            "shorewall": ("service", {"status": "enabled"}),
        }
        if self.directory == "ldap":
            # nethserver-directory's record: NS7's local OpenLDAP
            records["slapd"] = ("service", {"TCPPorts": "389,636", "access": "private",
                                            "LdapTLS": "enabled", "status": "enabled"})
        if self.nethvoice:
            records.update({
                "nethvoice": ("service", {"BrandName": "NethVoice", "status": "enabled",
                                          "AllowExternalSIPS": "disabled", "Proxy": "disabled",
                                          "RecordingDirectory": "/var/spool/asterisk/monitor"}),
                "nethvoice-report": ("configuration", {"international_prefix": "+39",
                                                       "DbUser": "nethvoice_report"}),
                "asterisk": ("service", {"TCPPorts": "5060,5061,5038", "UDPPorts": "5060,10000:20000",
                                         "access": "green", "status": "enabled"}),
                "httpd-fpbx": ("service", {"access": "green", "status": "enabled"}),
                "nethcti-server": ("service", {"TCPPorts": "8182,8183", "access": "green",
                                               "status": "enabled"}),
                "janus-gateway": ("service", {"status": "enabled"}),
                "phonebookjss": ("service", {"TCPPort": "389", "status": "enabled"}),
            })
            if self.fias:
                records["fias"] = ("service", {"status": "disabled"})
        if self.directory == "ad":
            records.update(samba.records(self.bind_password))
        return records

    def service_units(self):
        """{unit: state} of the systemd units the service records imply: an
        enabled service runs and is enabled, a disabled one is stopped."""
        units = {}
        for key, (typ, props) in self.records().items():
            if typ != "service":
                continue
            unit = esmith.unit_name(key)
            if props.get("status") == "enabled":
                units[unit] = {"ActiveState": "active", "UnitFileState": "enabled",
                               "SubState": "listening" if unit.endswith(".socket") else "running"}
            else:
                units[unit] = {"ActiveState": "inactive", "SubState": "dead", "UnitFileState": "disabled"}
        return units

    def _config_db(self):
        self.manifest.secrets["subscription.Secret"] = self.subscription_secret
        self.manifest.secrets["sssd.BindPassword"] = self.bind_password
        records = self.records()
        self._write_db("configuration", records)
        # Every service record's package is installed: it owns the record's type.
        for key, (typ, _) in records.items():
            if typ == "service":
                self.write(f"etc/e-smith/db/configuration/defaults/{key}/type", "service\n", count=False)
        # NethServer 7's release file (nethserver-release): Preflight's
        # ns7-version check and Manager.DescribeSource read it.
        self.write("etc/nethserver-release", NS7_RELEASE + "\n", count=False)
        self._write_db("networks", {
            "eth0": ("ethernet", {"role": "green", "ipaddr": "192.168.1.10", "netmask": "255.255.255.0",
                                  "bootproto": "none"}),
            "eth1": ("ethernet", {"role": "red", "ipaddr": "203.0.113.10", "netmask": "255.255.255.0",
                                  "gateway": "203.0.113.1", "bootproto": "none"}),
        })

    def _write_db(self, name, records):
        self.write(f"var/lib/nethserver/db/{name}",
                   esmith.format_db({k: esmith.join_record(*v) for k, v in records.items()}), count=False)

    # --- NethServer 7's tools and the package --------------------------------
    def _install_standins(self):
        """The e-smith tools, actions, events and stock templates (ns7tree/),
        and the Python module behind them."""
        shutil.copytree(STANDIN_TREE, self.path, symlinks=True, dirs_exist_ok=True)
        lib = self._mkdir("usr/lib/ns7-standin")
        shutil.copy(esmith.__file__, os.path.join(lib, "esmith.py"))
        self._mkdir("etc/e-smith/templates-custom")
        self._mkdir("etc/e-smith/templates.metadata")

    def _install_package_files(self):
        """The package's e-smith files, where its RPM puts them: the
        repository's ns7/{templates,events,db} are /etc/e-smith/{templates,events,db}."""
        source = os.path.join(util.source_dir(), "ns7")
        for name in PACKAGE_DIRS:
            if os.path.isdir(os.path.join(source, name)):
                shutil.copytree(os.path.join(source, name), self.p(f"etc/e-smith/{name}"), symlinks=True,
                                dirs_exist_ok=True)
        # The event's handler, made at install as ns7/CMakeLists.txt (and
        # NethServer's createlinks) makes it.
        for event, handler in PACKAGE_HANDLERS:
            link = self.p(f"etc/e-smith/events/{event}/{handler}")
            os.makedirs(os.path.dirname(link), exist_ok=True)
            if not os.path.lexists(link):
                os.symlink("../actions/" + handler[3:], link)

    def install_package(self, bus_address):
        """What NethServer's yum plugin does after installing the package:
        its update event, then runlevel-adjust, then firewall-adjust.  The
        service actions drive the systemd stand-in on `bus_address`, which
        every later event of this root uses too.  Raises HarnessError when an
        event fails."""
        self.bus_address = bus_address
        for event in (PACKAGE_EVENT, "runlevel-adjust", "firewall-adjust"):
            result = self.signal_event(event)
            if result.returncode != 0:
                raise util.HarnessError(f"signal-event {event} failed ({result.returncode}) in {self.path}:\n"
                                        + result.stdout + result.stderr + util.tail(self.p("var/log/messages")))

    def tool(self, name, *args, check=False, env=None):
        """Runs <root>/sbin/e-smith/<name> args (db, config, signal-event,
        expand-template) as the helper would, with the systemd stand-in's bus;
        returns the CompletedProcess (text)."""
        environ = dict(os.environ, **(env or {}))
        if self.bus_address:
            environ["DBUS_SYSTEM_BUS_ADDRESS"] = self.bus_address
        return subprocess.run([self.p(f"sbin/e-smith/{name}"), *args], capture_output=True, text=True,
                              env=environ, check=check, timeout=120)

    def signal_event(self, event, *args):
        return self.tool("signal-event", event, *args)

    def expand_template(self, path):
        return self.tool("expand-template", path)

    def db(self, name="configuration"):
        """A DB of the root as it is now: {key: (type, {prop: value})}."""
        return esmith.read_db(esmith.db_path(self.path, name))

    def calls(self, tool=None):
        """The calls of the e-smith stand-ins so far, oldest end first:
        {tool, argv, time (start), duration, exit, pid, ppid}."""
        return [c for c in esmith.read_calls(self.path) if tool is None or c["tool"] == tool]

    def clear_calls(self):
        os.makedirs(os.path.dirname(self.p(esmith.CALLS)), exist_ok=True)
        with open(self.p(esmith.CALLS), "w"):
            pass

    def _my_cnf(self):
        self.manifest.secrets["mysql.password"] = self.mysql_password
        self.write("root/.my.cnf",
                   f"[client]\nuser=root\npassword={self.mysql_password}\nsocket={self.mysql_socket}\n",
                   mode=0o600, count=False)

    def _secrets_files(self):
        pw = "Pb-" + secrets.token_hex(8)
        self.manifest.secrets["PhonebookDBPasswd"] = pw
        self._mkdir("var/lib/nethserver/secrets", 0o750)
        self.write("var/lib/nethserver/secrets/PhonebookDBPasswd", pw + "\n", 0o600, count=False)
        self.phonebook_password = pw

    def _asterisk_etc(self):
        rnd = self.rnd
        self._mkdir("etc/asterisk", 0o775)
        for name in ASTERISK_CONFS + ASTERISK_EXCLUDED:
            size = rnd.randint(200, 24_000)
            body = f";--- {name}: generated by the ns8-migration test harness ---\n"
            body += "".join(f"; line {i}\n" for i in range(size // 10))
            self.write(f"etc/asterisk/{name}", body, 0o664)

    def _agi_bin(self):
        for name in STOCK_AGI + CUSTOM_AGI:
            self.write(f"var/lib/asterisk/agi-bin/{name}",
                       "#!/usr/bin/env php\n<?php\n// " + name + "\n" + "//" * self.rnd.randint(10, 3000) + "\n",
                       0o775)

    def _sounds(self):
        rnd = self.rnd
        for lang in LANGUAGES_WITH_CUSTOM + LANGUAGES_WITHOUT_CUSTOM:
            # Stock prompts, not migrated.
            for name in ("hello-world.gsm", "vm-intro.gsm", "vm-goodbye.gsm", "agent-pass.gsm"):
                os.makedirs(self.p(f"var/lib/asterisk/sounds/{lang}"), exist_ok=True)
                self.sparse(f"var/lib/asterisk/sounds/{lang}/{name}", rnd.randint(2_000, 30_000))
        for lang in LANGUAGES_WITH_CUSTOM:
            for i in range(rnd.randint(5, 12)):
                self.wav(f"var/lib/asterisk/sounds/{lang}/custom/announcement-{i:02d}.wav",
                         rnd.randint(40_000, 900_000))
            self.wav(f"var/lib/asterisk/sounds/{lang}/custom/closed-holidays.wav", 320_044)
        for i in range(6):
            self.wav(f"var/lib/asterisk/sounds/nethcti/ringtone-{i}.wav", rnd.randint(20_000, 200_000))

    def _moh(self):
        rnd = self.rnd
        for name in ("macroform-cold_day", "macroform-robot_dity", "macroform-the_simplicity",
                     "manolo_camp-morning_coffee", "reno_project-system"):
            self.wav(f"var/lib/asterisk/moh/{name}.wav", rnd.randint(1_000_000, 5_000_000))
        for cls in ("sales", "support"):
            for i in range(3):
                self.wav(f"var/lib/asterisk/moh/{cls}/track{i}.wav", rnd.randint(500_000, 4_000_000))

    def _phonebook(self):
        uploads = "/var/lib/nethserver/nethvoice/phonebook/uploads/"
        for i, name in enumerate(("crm_mysql", "csv_customers", "csv_suppliers")):
            if name.startswith("csv"):
                body = ('{"%s": {"enabled": true, "type": "csv", "url": "file://%s%s.csv", '
                        '"interval": 1440, "mapping": {"name": "name", "workphone": "phone"}}}\n'
                        % (name, uploads, name))
            else:
                body = ('{"%s": {"enabled": true, "type": "mysql", "host": "localhost", "port": "3306", '
                        '"dbtype": "mysql", "dbname": "crm", "user": "crm", "password": "x", '
                        '"query": "SELECT * FROM contacts", "interval": 1440}}\n' % name)
            self.write(f"etc/phonebook/sources.d/{name}.json", body, 0o640)
        for name in ("csv_customers", "csv_suppliers", "old_import"):
            rows = "".join(f"Contact {j},0721{400000 + j}\n" for j in range(self.rnd.randint(10, 400)))
            self.write(f"var/lib/nethserver/nethvoice/phonebook/uploads/{name}.csv", "name,phone\n" + rows)
        for name in ("normalize_numbers.sh", "dedup.py"):
            self.write(f"usr/share/phonebooks/post_scripts/{name}", "#!/bin/sh\nexit 0\n", 0o755)
        for name in ("pbook-import.php", "ldap-import.py", "nethcti-import.sh"):
            self.write(f"usr/share/phonebooks/scripts/{name}", "#!/bin/sh\n# import\nexit 0\n", 0o755)

    def _customer_cards(self):
        for name in STOCK_CUSTOMER_CARDS + CUSTOM_CUSTOMER_CARDS:
            self.write(f"var/lib/nethserver/nethcti/templates/customer_card/{name}",
                       f"<div class=\"card\"><!-- {name} --><%= results %></div>\n" * self.rnd.randint(1, 40))

    def _tancredi(self):
        rnd = self.rnd
        base = "var/lib/tancredi/data"
        for sub in ("scopes", "templates-custom", "first_access_tokens", "tokens", "backgrounds",
                    "firmware", "ringtones", "screensavers"):
            self._mkdir(f"{base}/{sub}", 0o770)
        written = []
        for i in range(40):
            mac = "".join(f"{rnd.randint(0, 255):02X}" for _ in range(3))
            written.append(self.write(f"{base}/scopes/00-0A-0B-{mac[:2]}-{mac[2:4]}-{mac[4:]}.ini",
                                      f"[metadata]\ninheritFrom = yealink-T4\nscopeType = phone\n"
                                      f"[data]\naccount_display_name_1 = \"Ext {200 + i}\"\n", 0o640))
        for name in ("global.ini", "yealink.ini", "yealink-T4.ini", "snom.ini", "gigaset.ini"):
            written.append(self.write(f"{base}/scopes/{name}", "[metadata]\nscopeType = model\n[data]\n", 0o640))
        for i in range(10):
            written.append(self.write(f"{base}/tokens/{rnd.getrandbits(128):032x}",
                                      "00-0A-0B-00-00-%02d\n" % i, 0o640))
        written.append(self.write(f"{base}/templates-custom/yealink-custom.tmpl", "# custom\n", 0o640))
        written.append(self.sparse(f"{base}/firmware/T46U-108.86.0.70.rom", 41_943_040))
        written.append(self.sparse(f"{base}/backgrounds/company.png", 120_000))
        written.append(self.sparse(f"{base}/ringtones/classic.wav", 300_000))
        for dirpath, dirnames, filenames in os.walk(self.p(base)):
            os.chown(dirpath, 48, 48)
            for f in filenames:
                os.chown(os.path.join(dirpath, f), 48, 48)

    def _astdb(self):
        rnd = self.rnd
        rows = []
        for ext in range(200, 261):
            rows += [(f"/AMPUSER/{ext}/cidname", f"Ext {ext}"), (f"/AMPUSER/{ext}/cidnum", str(ext)),
                     (f"/AMPUSER/{ext}/device", str(ext)), (f"/AMPUSER/{ext}/voicemail", "default"),
                     (f"/AMPUSER/{ext}/recording/in/external", "dontcare"),
                     (f"/DEVICE/{ext}/dial", f"PJSIP/{ext}"), (f"/DEVICE/{ext}/type", "fixed"),
                     (f"/DEVICE/{ext}/user", str(ext)), (f"/CW/{ext}", "ENABLED"),
                     (f"/CALLTRACE/{ext}", str(rnd.randint(200, 260))),
                     (f"/registrar/contact/{ext};@{rnd.getrandbits(32):08x}", '{"via_addr":"192.0.2.1"}')]
            if rnd.random() < 0.2:
                rows.append((f"/CF/{ext}", "0" + str(rnd.randint(300000000, 399999999))))
            if rnd.random() < 0.1:
                rows.append((f"/DND/{ext}", "YES"))
            if rnd.random() < 0.3:
                rows.append((f"/FM/DDial/{ext}", "DIRECT"))
        rows += [("/SIP/Registry/trunk1", "192.0.2.1:5060:3600:trunk1:sip.example.net"),
                 ("/IAX/Registry/iaxtrunk", "192.0.2.2:4569:60"),
                 ("/RG/600/ringing", "1"), ("/BLKVM/PJSIP/201-00000001", "TRUE"),
                 ("/dundi/cache/hint/e164/0721400000", "1700000000"),
                 ("//expiry", "stale"), ("/ccss/last_number", "17"),
                 ("/CustomPresence/200", "available"), ("/QPENALTY/900/agents/201", "0"),
                 ("/DAYNIGHT/C0", "DAY"), ("/TIMECONDITIONS/1", "auto"),
                 ("/pbx/UUID", "a3f8b5d2-0000-4c3a-9a5b-5d2f1c0e7a11")]
        path = self.p("var/lib/asterisk/astdb.sqlite3")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if os.path.exists(path):
            os.unlink(path)
        db = sqlite3.connect(path)
        try:
            db.execute("CREATE TABLE astdb(key VARCHAR(256), value VARCHAR(256), PRIMARY KEY(key))")
            db.executemany("INSERT OR REPLACE INTO astdb VALUES (?, ?)", rows)
            db.commit()
        finally:
            db.close()
        os.chmod(path, 0o640)
        self.astdb_rows = len(rows)

    def _voicemail(self, count, total):
        rnd = self.rnd
        exts = list(range(200, 261))
        per_file = max(4096, total // max(1, count))
        made = 0
        for ext in exts:
            base = f"var/spool/asterisk/voicemail/default/{ext}"
            self._mkdir(f"{base}/INBOX")
            if made >= count:
                break
            self.wav(f"{base}/unavail.wav", rnd.randint(40_000, 160_000))
            made += 1
            n = rnd.randint(0, 6)
            for folder in ("INBOX", "Old"):
                for i in range(n if folder == "INBOX" else n // 2):
                    if made + 2 > count:
                        break
                    when = self._epoch - rnd.randint(0, 90 * 86400)
                    self.wav(f"{base}/{folder}/msg{i:04d}.wav",
                             max(_WAV_HEADER_SIZE, int(per_file * rnd.uniform(0.3, 1.7))), mtime=when)
                    self.write(f"{base}/{folder}/msg{i:04d}.txt",
                               f";\n; Message Information file\n;\n[message]\norigmailbox={ext}\n"
                               f"context=from-internal\nmacrocontext=\nexten={ext}\nrdnis=unknown\n"
                               f"priority=1\ncallerchan=PJSIP/trunk1-000001\ncallerid=\"\" <0721400000>\n"
                               f"origdate={time.strftime('%a %b %d %I:%M:%S %p UTC %Y', time.gmtime(when))}\n"
                               f"origtime={when}\ncategory=\nmsg_id={when}-{i:08d}\nflag=\n"
                               f"duration={rnd.randint(3, 120)}\n", mtime=when)
                    made += 2

    def _recordings(self, count, total):
        """Call recordings, YYYY/MM/DD/<in|out>-<ext>-<num>-YYYYMMDD-HHMMSS-<uniqueid>.wav."""
        rnd = self.rnd
        span_days = 400
        # Sizes: between 0.1 and 1.9 times the average, the last one takes the remainder.
        avg = total / count
        raw = [avg * rnd.uniform(0.1, 1.9) for _ in range(count)]
        scale = total / sum(raw)
        sizes = [max(_WAV_HEADER_SIZE, int(r * scale)) for r in raw]
        # Rounding leaves a few bytes: the largest recording takes them.
        biggest = max(range(count), key=sizes.__getitem__)
        sizes[biggest] = max(_WAV_HEADER_SIZE, sizes[biggest] + total - sum(sizes))
        times = sorted(self._epoch - rnd.randint(0, span_days * 86400) for _ in range(count))
        made_dirs = set()
        for i, (when, size) in enumerate(zip(times, sizes)):
            t = time.gmtime(when)
            day = time.strftime("%Y/%m/%d", t)
            d = f"var/spool/asterisk/monitor/{day}"
            if d not in made_dirs:
                os.makedirs(self.p(d), exist_ok=True)
                made_dirs.add(d)
            kind = "in" if rnd.random() < 0.5 else "out"
            ext = rnd.randint(200, 260)
            num = "0" + str(rnd.randint(200000000, 399999999))
            stamp = time.strftime("%Y%m%d-%H%M%S", t)
            name = f"{kind}-{ext}-{num}-{stamp}-{when}.{i}.wav"
            self.sparse(f"{d}/{name}", size, _wav_header(size), mtime=when)
        self.manifest.recordings = count
