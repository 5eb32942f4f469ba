"""A simulated NethServer 8 cluster for the ns8-migration tests and demo.

See README.md in this folder.  Main entry points:
  ns8sim.Topology  - network namespaces for an NS7 host, an NS8 leader and worker
  ns8sim.Cluster   - the simulator (API, VPN, rsync receivers) running in them
  ns8sim.totp      - current OTP of a base32 TOTP secret
"""

from .topology import Topology, cleanup_prefix, leftovers  # noqa: F401
from .cluster import Cluster, ControlClient, ControlError, Account  # noqa: F401
from .cluster import ADMIN, OTP_USER, OTP_SECRET, DEFAULT_VPN_NETWORK  # noqa: F401
from .otp import totp  # noqa: F401
