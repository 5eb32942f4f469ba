"""Integration test harness of ns8-migration: a private system bus with
polkitd, a systemd stand-in, MariaDB, a synthetic NS7 root and the helper.

See README.md in this folder.  Use Debian's /usr/bin/python3 with
PYTHONPATH=<repo>/tests.
"""

from .bus import PrivateBus
from .client import (APP_IFACE, HELPER_NAME, JOB_IFACE, MANAGER_IFACE, ROOT_PATH, BusClient,
                     CallResult, JobOutcome, app_path)
from .helper import Helper, helper_binary
from .mariadb import NETHVOICE_DATABASES, MariaDB
from .ns7root import NS7Root
from .polkit import SYNC_GROUP, SYNC_GROUP_MEMBER, UNPRIVILEGED_USER, Polkitd
from .sandbox import Sandbox
from .systemd_standin import SystemdStandin
from .util import HarnessError

__all__ = [
    "APP_IFACE", "HELPER_NAME", "JOB_IFACE", "MANAGER_IFACE", "ROOT_PATH", "BusClient",
    "CallResult", "JobOutcome", "app_path", "Helper", "helper_binary", "NETHVOICE_DATABASES",
    "MariaDB", "NS7Root", "SYNC_GROUP", "SYNC_GROUP_MEMBER", "UNPRIVILEGED_USER", "Polkitd",
    "PrivateBus", "Sandbox", "SystemdStandin", "HarnessError",
]
