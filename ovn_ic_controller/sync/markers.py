"""How rows created by the automation are recognised later (leave, reset, reconcile).

Only rows carrying these marks are ever changed or removed as "ours", so
objects an operator made by hand are never touched.
"""

# external_ids key on the NB rows the automation creates (LRP, LSP,
# Gateway_Chassis) and on IC NB Transit_Switch rows it creates; value: the AZ name.
OWNER_KEY = "ovn-ic-controller"

# NB_Global external_ids key listing, comma-separated, the NB_Global options
# the automation wrote (auto-route), so they can be removed again.
MANAGED_OPTIONS_KEY = "ovn-ic-controller-options"
