"""Names shared by the whole package: database keys, the lock, OVN's own keys.

One home so that a key is spelled once.  The database keys name the four
connections everywhere (config, metrics, plans); the OVN names are the tables'
options and external_ids keys that ovn-ic and ovn-northd read and write.
"""

from __future__ import annotations

NB, SB, IC_NB, IC_SB = "nb", "sb", "ic_nb", "ic_sb"
#: The order in which databases are opened, reported and committed.
DATABASE_ORDER = (NB, SB, IC_NB, IC_SB)
#: The OVSDB database name each key connects to.
DB_NAMES = {
    NB: "OVN_Northbound",
    SB: "OVN_Southbound",
    IC_NB: "OVN_IC_Northbound",
    IC_SB: "OVN_IC_Southbound",
}

#: The lock on the local SB that ovn-ic takes: one writer per AZ, C or ours.
LOCK_NAME = "ovn_ic"
