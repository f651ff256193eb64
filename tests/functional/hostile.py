"""A hostile peer AZ played by a writer of IC SB rows, and a watch on what an AZ's NB holds.

The peer is what any AZ sharing the IC SB can write: its own Availability_Zone,
a Port_Binding on a transit switch (with any MAC, e.g. the one our automation
gives its own ports) and Route rows carrying ``lr-id`` as 23.09+ write them.
``NbRoutes`` watches every insert of a static route into an AZ's NB with
``ovsdb-client monitor`` for as long as a test runs, so that a route written
for a moment and removed again is seen too.
"""

from __future__ import annotations

import subprocess
import threading
import uuid as uuidlib

from icview import TIMEOUT
from testbed import wait_until


class HostilePeer:
    """An AZ named ``name`` that exists only as rows in the IC SB, written with ovn-ic-sbctl."""

    def __init__(self, tb, name="zz-hostile"):
        self.tb, self.name = tb, name
        self.uuid = tb.ic_sbctl("create", "Availability_Zone", f"name={name}")
        self.router = str(uuidlib.uuid4())  # the lr-id of its routes

    def port(self, ts, address, tunnel_key=4000):
        """A Port_Binding on ``ts`` with ``address`` ("MAC IP/len")."""
        return self.tb.ic_sbctl("create", "Port_Binding", f"logical_port={ts}-{self.name}",
                                f"transit_switch={ts}", f"availability_zone={self.uuid}",
                                f"tunnel_key={tunnel_key}", f'address="{address}"')

    def advertise(self, ts, nexthop, *prefixes):
        """Route rows to ``prefixes`` via ``nexthop`` on ``ts``, in one transaction; UUIDs."""
        args = []
        for prefix in prefixes:
            args += ["--", "create", "Route", f"transit_switch={ts}",
                     f"availability_zone={self.uuid}", f'ip_prefix="{prefix}"',
                     f'nexthop="{nexthop}"', "origin=connected",
                     f'external_ids:lr-id="{self.router}"']
        return self.tb.ic_sbctl(*args).split()

    def withdraw(self, *uuids):
        args = []
        for uuid in uuids:
            args += ["--", "destroy", "Route", uuid]
        self.tb.ic_sbctl(*args)


class NbRoutes:
    """Every ip_prefix inserted into an AZ's Logical_Router_Static_Route while it watches
    (and those there when it starts), in the order they came, even those removed at once.

    ``stdbuf`` makes ovsdb-client write each update as it comes; the marker route proves
    the monitor runs before the test goes on.
    """

    MARKER = "192.0.2.0/24"  # a route of the AZ's own, to know the monitor is running
    MARKER_ROUTER = "watch-marker"  # on a router of its own, on no transit switch

    def __init__(self, tb, az):
        self.az = az
        self.inserted: list[str] = []
        self._process = subprocess.Popen(
            ["stdbuf", "-oL", "ovsdb-client", "monitor", az.nb, "OVN_Northbound",
             "Logical_Router_Static_Route", "ip_prefix", "--format=csv"],
            env=tb.env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        az.nbctl("lr-add", self.MARKER_ROUTER, "--", "lr-route-add", self.MARKER_ROUTER,
                 self.MARKER, "192.0.2.1")
        self.wait_seen(self.MARKER)
        az.nbctl("lr-del", self.MARKER_ROUTER)

    def _read(self):
        for line in self._process.stdout:
            fields = line.rstrip("\n").split(",")
            if len(fields) == 3 and fields[1] in ("initial", "insert"):
                self.inserted.append(fields[2].strip('"'))

    def count(self, prefix):
        return self.inserted.count(prefix)

    def wait_seen(self, prefix, times=1):
        wait_until(lambda: self.count(prefix) >= times, timeout=TIMEOUT, interval=0.02,
                   message=f"{self.az.name} NB gets a route to {prefix} ({times} times)")

    def stop(self):
        self._process.terminate()
        self._process.wait(timeout=5)
        self._reader.join(timeout=5)
