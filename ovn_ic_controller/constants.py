"""Names shared by the whole package: database keys, the lock, OVN's own keys.

One home so that a key is spelled once.  The database keys name the four
connections everywhere (config, metrics, plans); the OVN names are the tables'
options and external_ids keys that ovn-ic and ovn-northd read and write; the
marks are the external_ids keys by which this controller knows its own rows.
A key used by one module only stays in that module.
"""

from __future__ import annotations

NB, SB, IC_NB, IC_SB = "nb", "sb", "ic_nb", "ic_sb"
#: The order in which databases are opened, reported and committed.
DATABASE_ORDER = (NB, SB, IC_NB, IC_SB)
#: A second connection to the IC SB, holding IC_SB_LOCK, through which the global rows
#: are written on IC schemas of 26.03 and later (db/ic_sb_lock.py); not one of the four.
IC_SB_LOCKED = "ic_sb_locked"
#: The OVSDB database name each key connects to.
DB_NAMES = {
    NB: "OVN_Northbound",
    SB: "OVN_Southbound",
    IC_NB: "OVN_IC_Northbound",
    IC_SB: "OVN_IC_Southbound",
    IC_SB_LOCKED: "OVN_IC_Southbound",
}

#: The lock on the local SB that ovn-ic takes: one writer per AZ, C or ours.
LOCK_NAME = "ovn_ic"
#: The lock on the IC SB that ovn-ic 26.09 takes: one writer of the global rows (the
#: datapath bindings of transit switches and routers) for all AZs.
IC_SB_LOCK = "ovn_ic_sb"

# ------------------------------------------------------------ OVN's own keys
#: NB Logical_Switch other_config: the transit switch this switch mirrors.
INTERCONN_TS = "interconn-ts"
#: NB Logical_Switch other_config and Logical_Switch_Port options: the tunnel key
#: northd is asked to use (the one allocated in the IC SB).
REQUESTED_KEY = "requested-tnl-key"
#: NB Logical_Switch_Port options: the router port a ``type=router`` port peers with.
ROUTER_PORT = "router-port"
#: NB Logical_Switch_Port options: the chassis that is to claim the port.
REQUESTED_CHASSIS = "requested-chassis"
#: NB Logical_Switch_Port options (26.09): the IC NB Transit_Switch_Port this port is.
INTERCONN_TSP = "interconn-tsp"
#: IC SB Port_Binding external_ids: the NB UUID of the router behind the port.
ROUTER_ID = "router-id"
#: IC SB Datapath_Binding.type and Port_Binding.type (26.03): the bindings of transit
#: switches and their ports; the other types (transit routers and their ports) are
#: another feature's, never changed by transit-switch sync.
TS_DATAPATH, TS_PORT = "transit-switch", "transit-switch-port"
#: The same of transit routers and their ports (sync/transit_routers.py).
TR_DATAPATH, TR_PORT = "transit-router", "transit-router-port"
#: SB Chassis other_config: a chassis standing for another AZ's gateway (written
#: by IC controllers), and a gateway of this AZ (written by ovn-controller).
IS_REMOTE = "is-remote"
IS_INTERCONN = "is-interconn"

#: NB_Global options of route sync.
ROUTE_ADV = "ic-route-adv"
ROUTE_ADV_DEFAULT = "ic-route-adv-default"
ROUTE_LEARN = "ic-route-learn"
ROUTE_LEARN_DEFAULT = "ic-route-learn-default"
ROUTE_LEARN_LB = "ic-route-learn-lb"  # 25.09: also learn load-balancer VIP routes
ROUTE_ADV_LB = "ic-route-adv-lb"  # 25.09: advertise the routers' load-balancer VIPs
ROUTE_BLACKLIST = "ic-route-blacklist"
ROUTE_DENYLIST = "ic-route-denylist"  # 24.09's name; wins over the blacklist when set
#: NB Logical_Router_Static_Route external_ids of a learned route: the IC SB Route
#: it was learned from; and its options key carrying that route's origin.
LEARNED_ROUTE_KEY = "ic-learned-route"
ORIGIN = "origin"
ORIGIN_LOADBALANCER = "loadbalancer"  # IC SB Route.origin of a VIP route (25.09)
#: IC SB Route external_ids: the NB row (static route or router port) and the
#: router an AZ advertises the route for.
NB_ID = "nb-id"
LR_ID = "lr-id"
#: IC SB Route options and NB static route options (26.09): a route that takes precedence
#: over connected ones, for east-west routing through a transit switch's route table.
OVERRIDE_CONNECTED = "override-connected"

# ------------------------------------------------------------ this controller's marks
# Only rows carrying these are ever changed or removed as "ours", so objects an
# operator made by hand are never touched.
#: external_ids of the NB rows the automation creates (LRP, LSP, Gateway_Chassis) and
#: of the IC NB Transit_Switch rows it creates; value: the AZ name.
OWNER_KEY = "ovn-ic-controller"
#: external_ids of the automation's LRP and LSP: the transit switch they serve.
TS_KEY = "ovn-ic-controller-ts"
#: NB_Global external_ids: the NB_Global options auto-route wrote, comma-separated,
#: so that they can be removed again.
MANAGED_OPTIONS_KEY = "ovn-ic-controller-options"

# ------------------------------------------------------------ NB table names
# Short forms, for the modules that spell them on every other line.
LR, LRP, LRSR = "Logical_Router", "Logical_Router_Port", "Logical_Router_Static_Route"
LS, LSP = "Logical_Switch", "Logical_Switch_Port"
GC = "Gateway_Chassis"
