"""The NS7 end of the VPN, for tests that run without the project's helper.

It does what the helper will do after add-node: a wireguard-go interface in
the NS7 namespace with the address add-node returned and one peer, the
leader, whose allowed IPs are the whole cluster network.
"""

import ipaddress
import os
import subprocess

from . import util


def genkey():
    priv = util.run(["wg", "genkey"]).stdout.strip()
    pub = util.run(["wg", "pubkey"], input=priv + "\n").stdout.strip()
    return priv, pub


class Ns7Tunnel:
    """Ns7Tunnel(topology, private_key).up(add_node_output) ... down()."""

    def __init__(self, topology, private_key, iface=None, keepalive=25):
        self.topology = topology
        self.ns = topology.ns7_ns
        self.iface = iface or topology.prefix + "-wg7"
        self.private_key = private_key
        self.keepalive = keepalive
        self.proc = None
        self.run_dir = util.run_dir_for(topology.prefix)

    def up(self, joined):
        """joined: the output of add-node."""
        os.makedirs(self.run_dir, exist_ok=True)
        keyfile = os.path.join(self.run_dir, "ns7-wg.key")
        fd = os.open(keyfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.write(fd, (self.private_key + "\n").encode())
        os.close(fd)
        env = dict(os.environ, WG_PROCESS_FOREGROUND="1", LOG_LEVEL="error")
        log = open(os.path.join(self.run_dir, "ns7-wireguard-go.log"), "ab")
        self.proc = subprocess.Popen(self.topology.exec_argv(self.ns, ["wireguard-go", self.iface]),
                                     stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env,
                                     start_new_session=True)
        log.close()
        sock = os.path.join(util.WG_SOCKET_DIR, self.iface + ".sock")
        util.wait_for(lambda: os.path.exists(sock) or self.proc.poll() is not None, 10,
                      "wireguard-go socket " + sock)
        net = ipaddress.ip_network(joined["network"])
        run = self.topology.run
        # `ip netns exec` so that the endpoint name resolves via /etc/netns/<ns>/hosts
        run(self.ns, ["wg", "set", self.iface, "private-key", keyfile])
        run(self.ns, ["wg", "set", self.iface, "peer", joined["leader_public_key"],
                      "allowed-ips", str(net), "endpoint", joined["leader_endpoint"],
                      "persistent-keepalive", str(self.keepalive)])
        run(self.ns, ["ip", "addr", "add", "%s/%d" % (joined["ip_address"], net.prefixlen),
                      "dev", self.iface])
        run(self.ns, ["ip", "link", "set", self.iface, "up"])
        return self

    def latest_handshake(self, peer_public_key):
        p = self.topology.run(self.ns, ["wg", "show", self.iface, "latest-handshakes"],
                              check=False)
        for line in p.stdout.splitlines():
            key, _, ts = line.partition("\t")
            if key == peer_public_key:
                return int(ts)
        return 0

    def down(self):
        if self.proc is not None:
            util.kill_pid(self.proc.pid)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                pass
            self.proc = None
        self.topology.run(self.ns, ["ip", "link", "del", self.iface], check=False)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.down()
