"""Shared pieces of the simulator's own tests (and handy for other suites)."""

import hashlib
import os
import secrets
import shutil
import unittest

from .cluster import Account, Cluster  # noqa: F401 (Account re-exported)
from .ns7vpn import genkey  # noqa: F401  (re-exported for tests)
from . import util


def node_pwh():
    return hashlib.sha256(secrets.token_bytes(16)).hexdigest()


def add_node_input(public_key):
    return {"node_pwh": node_pwh(), "public_key": public_key, "endpoint": "",
            "core_version": "0.0.0-ns7", "flags": ["nomodules"]}


def save_artifacts(cluster, name):
    """Copy the server log and state of a run to $NS8M_ARTIFACTS_DIR/<name>/."""
    base = os.environ.get("NS8M_ARTIFACTS_DIR")
    if not base or cluster is None:
        return
    dest = os.path.join(base, "ns8sim", name)
    os.makedirs(dest, exist_ok=True)
    for f in ("server.log", "config.json"):
        src = os.path.join(cluster.run_dir, f)
        if os.path.exists(src):
            shutil.copy(src, dest)
    logs = os.path.join(cluster.run_dir, "logs")
    if os.path.isdir(logs):
        shutil.copytree(logs, os.path.join(dest, "logs"), dirs_exist_ok=True)


class ClusterTestCase(unittest.TestCase):
    """One simulated cluster per test class (cluster_kwargs configures it)."""

    cluster_kwargs = {}
    cluster = None

    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            raise RuntimeError("the ns8sim tests need root (network namespaces)")
        cls.cluster = Cluster(**cls.cluster_kwargs)
        cls.addClassCleanup(cls._close_cluster)
        cls.cluster.start()
        cls.admin_token = cls.cluster.login()

    @classmethod
    def _close_cluster(cls):
        save_artifacts(cls.cluster, cls.__name__)
        cls.cluster.close()

    def run_task(self, agent, action, data=None, **kw):
        kw.setdefault("token", self.admin_token)
        return self.cluster.run_task(agent, action, data, **kw)

    def join_ns7(self):
        """add-node with a fresh key; returns (private_key, public_key, output)."""
        priv, pub = genkey()
        res = self.run_task("cluster", "add-node", add_node_input(pub))
        self.assertEqual(res["exit_code"], 0, res)
        return priv, pub, res["output"]

    def wait_for(self, predicate, timeout, what):
        return util.wait_for(predicate, timeout, what, interval=0.2)
