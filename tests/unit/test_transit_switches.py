"""The transit-switch concern's decisions, on plain data."""

from fakes import context, replay, row

from ovn_ic_controller.db.plan import NewRow
from ovn_ic_controller.sync.transit_switches import DUPLICATE_GRACE_S, TransitSwitches

AZ = row(name="az1")


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def ctx(switches=(), bindings=(), logical_switches=()):
    return context({"az-name": "az1"}, az_name="az1", az=AZ,
                   nb={"Logical_Switch": list(logical_switches)},
                   ic_nb={"Transit_Switch": [row(name=name) for name in switches]},
                   ic_sb={"Datapath_Binding": list(bindings)})


def dp(ts, key):
    return row(transit_switch=ts, tunnel_key=key)


def ls(name, ts=None, key=None, **other):
    other_config = dict(other)
    if ts is not None:
        other_config["interconn-ts"] = ts
    if key is not None:
        other_config["requested-tnl-key"] = str(key)
    return row(name=name, other_config=other_config)


def ops(plan, kind=None, db=None):
    return [op for op in plan.ops
            if (kind is None or op.kind == kind) and (db is None or op.db == db)]


def apply(plan, switches, bindings, logical_switches):
    """The tables after ``plan``, as the next recompute would read them."""
    after = replay(plan, nb={"Logical_Switch": logical_switches},
                   ic_sb={"Datapath_Binding": bindings})
    return switches, after["ic_sb"]["Datapath_Binding"], after["nb"]["Logical_Switch"]


def test_new_transit_switch_gets_a_binding_and_a_keyless_switch():
    plan = TransitSwitches().plan(ctx(["ts1"]))
    assert [(op.kind, op.db, op.table, op.value) for op in plan.ops] == [
        ("insert", "nb", "Logical_Switch",
         {"name": "ts1", "other_config": {"interconn-ts": "ts1"}}),
        ("insert", "ic_sb", "Datapath_Binding", {"transit_switch": "ts1", "tunnel_key": 16711682}),
    ]


def test_committed_key_is_copied_to_the_switch_then_nothing_changes():
    concern = TransitSwitches()
    state = (["ts1"], [], [])
    for _ in range(2):
        state = apply(concern.plan(ctx(*state)), *state)
    _, bindings, switches = state
    assert switches[0].other_config == {"interconn-ts": "ts1", "requested-tnl-key": "16711682"}
    assert not concern.plan(ctx(*state))


def test_keys_follow_name_order_and_skip_used_ones():
    plan = TransitSwitches().plan(ctx(["tsb", "tsa", "tsc"], [dp("tsb", 16711683)]))
    inserted = {op.value["transit_switch"]: op.value["tunnel_key"]
                for op in ops(plan, "insert", "ic_sb")}
    assert inserted == {"tsa": 16711682, "tsc": 16711684}


def test_a_transit_routers_binding_is_left_alone_and_its_key_avoided():
    """26.03: a binding typed transit-router has no transit switch, yet is not stale."""
    router = row(transit_switch="", tunnel_key=16711682, type=["transit-router"])
    plan = TransitSwitches().plan(ctx(["ts1"], [router, dp("gone", 16711690)]))
    assert [(op.kind, op.value) for op in ops(plan, db="ic_sb")] == [
        ("insert", {"transit_switch": "ts1", "tunnel_key": 16711683}), ("delete", None)]
    assert ops(plan, "delete")[0].target != router.uuid


def test_existing_switch_gets_the_key_only_when_it_differs():
    binding = dp("ts1", 16711690)
    wrong = ls("ts1", "ts1", key="junk")
    plan = TransitSwitches().plan(ctx(["ts1"], [binding], [wrong]))
    assert [(op.kind, op.target, op.key, op.value) for op in plan.ops] == [
        ("setkey", wrong.uuid, "requested-tnl-key", "16711690")]
    right = ls("ts1", "ts1", key=16711690)
    assert not TransitSwitches().plan(ctx(["ts1"], [binding], [right]))


def test_switches_and_bindings_without_transit_switch_are_deleted():
    keep, orphan = ls("ts2", "ts2", key=16711683), ls("ts1", "ts1", key=16711682)
    user_switch = ls("ts1")  # same name, no interconn-ts: not ours
    bindings = [dp("ts1", 16711682), dp("ts2", 16711683)]
    plan = TransitSwitches().plan(ctx(["ts2"], bindings, [keep, orphan, user_switch]))
    assert {(op.db, op.target) for op in ops(plan, "delete")} == {
        ("nb", orphan.uuid), ("ic_sb", bindings[0].uuid)}
    assert len(plan.ops) == 2


def test_duplicate_switch_keeps_the_one_named_like_the_transit_switch():
    renamed, named = ls("other", "ts1", key=16711682), ls("ts1", "ts1", key=16711682)
    plan = TransitSwitches().plan(ctx(["ts1"], [dp("ts1", 16711682)], [renamed, named]))
    assert [(op.kind, op.target) for op in plan.ops] == [("delete", renamed.uuid)]


def test_duplicate_bindings_are_left_to_peers_for_a_while_then_lowest_key_wins():
    clock = Clock()
    concern = TransitSwitches(clock=clock)
    high, low = dp("ts1", 16711700), dp("ts1", 16711690)
    switch = ls("ts1", "ts1", key=16711700)
    state = (["ts1"], [high, low], [switch])
    assert not concern.plan(ctx(*state))
    assert concern.recheck_at == clock.now + DUPLICATE_GRACE_S
    clock.now += DUPLICATE_GRACE_S / 2
    assert not concern.plan(ctx(*state))
    clock.now += DUPLICATE_GRACE_S / 2
    plan = concern.plan(ctx(*state))
    assert concern.recheck_at is None
    assert [(op.kind, op.db, op.target) for op in plan.ops] == [
        ("setkey", "nb", switch.uuid), ("delete", "ic_sb", high.uuid)]
    assert plan.ops[0].value == "16711690"
    state = apply(plan, *state)
    assert not concern.plan(ctx(*state))


def test_duplicates_settled_by_a_peer_need_nothing():
    clock = Clock()
    concern = TransitSwitches(clock=clock)
    first, second = dp("ts1", 16711690), dp("ts1", 16711691)
    concern.plan(ctx(["ts1"], [first, second]))
    clock.now += DUPLICATE_GRACE_S * 2
    switch = ls("ts1", "ts1", key=16711691)
    assert not concern.plan(ctx(["ts1"], [second], [switch]))
    assert concern.recheck_at is None and not concern.duplicates_since


def test_changed_duplicate_set_restarts_the_grace_period():
    clock = Clock()
    concern = TransitSwitches(clock=clock)
    a, b, c = dp("ts1", 16711690), dp("ts1", 16711691), dp("ts1", 16711692)
    switch = ls("ts1", "ts1")
    concern.plan(ctx(["ts1"], [a, b], [switch]))
    clock.now += DUPLICATE_GRACE_S
    assert not concern.plan(ctx(["ts1"], [a, b, c], [switch]))
    assert concern.recheck_at == clock.now + DUPLICATE_GRACE_S


def test_bindings_of_deleted_transit_switch_go_at_once_even_when_duplicated():
    bindings = [dp("gone", 16711690), dp("gone", 16711691)]
    plan = TransitSwitches().plan(ctx([], bindings))
    assert {op.target for op in ops(plan, "delete")} == {b.uuid for b in bindings}


def test_exhausted_keys_skip_the_switch():
    concern = TransitSwitches()
    concern.keys.minimum = concern.keys.maximum = concern.keys.hint = 16777215
    plan = concern.plan(ctx(["ts1"]))
    assert not ops(plan, db="ic_sb")
    assert [op.table for op in plan.ops] == ["Logical_Switch"]


def test_new_row_handles_are_distinct():
    plan = TransitSwitches().plan(ctx(["ts1", "ts2"]))
    targets = [op.target for op in ops(plan, "insert")]
    assert all(isinstance(t, NewRow) for t in targets) and len(set(targets)) == 4


# -------------------------------------------------- newer IC databases (25.03, 26.03)
def schema(**tables):
    """A server schema with these ``table="columns"``."""
    return {"tables": {table: {"columns": dict.fromkeys(names.split(), {"type": "string"})}
                       for table, names in tables.items()}}


IC_SB_25_03 = schema(SSL="ssl_ciphersuites")
IC_SB_26_03 = schema(SSL="ssl_ciphersuites", Datapath_Binding="type nb_ic_uuid")
IC_NB_26_03 = schema(Transit_Router="name")


def newer_ctx(switches=(), bindings=(), logical_switches=(), *, ic_sb=IC_SB_26_03,
              routers=(), options=None, encaps=(), writer="ic_sb_locked", locked=None):
    """``locked``: the bindings the locked connection's replica holds (default: the same
    as the IC SB connection's, as once both have the server's last update)."""
    ctx = context({"az-name": "az1"}, az_name="az1", az=AZ,
                  nb={"Logical_Switch": list(logical_switches)},
                  ic_nb={"Transit_Switch": list(switches), "Transit_Router": list(routers),
                         "IC_NB_Global": [row(options=options or {})]},
                  ic_sb={"Datapath_Binding": list(bindings),
                         "Encap": [row(type=kind) for kind in encaps]},
                  ic_sb_locked={"Datapath_Binding": list(
                      bindings if locked is None else locked)})
    ctx.schemas = {"ic_sb": ic_sb, "ic_nb": IC_NB_26_03}
    ctx.global_writer = writer
    return ctx


def test_a_binding_just_written_through_the_lock_is_not_written_again():
    """The locked connection has our binding before its transaction is done; the IC SB
    connection may not yet: the lock holder goes by the former, or it would create the
    binding twice (a CI run saw it: ts2's binding created twice)."""
    ts1 = row(name="ts1")
    ours = row(transit_switch="ts1", tunnel_key=16711682, type=["transit-switch"],
               nb_ic_uuid=[ts1.uuid])
    switch = ls("ts1", "ts1", key=16711682, **{"ic-vxlan_mode": "false"})
    assert not TransitSwitches().plan(newer_ctx([ts1], [], [switch], locked=[ours]))


def test_26_03_bindings_are_typed_and_written_by_the_lock_holder():
    ts1 = row(name="ts1")
    plan = TransitSwitches().plan(newer_ctx([ts1]))
    assert [(op.db, op.value) for op in ops(plan, "insert", "ic_sb_locked")] == [
        ("ic_sb_locked", {"transit_switch": "ts1", "tunnel_key": 16711682,
                          "type": "transit-switch", "nb_ic_uuid": ts1.uuid})]


def test_without_the_lock_no_global_row_is_written():
    ts1 = row(name="ts1")
    untyped, stale = dp("ts1", 16711682), dp("gone", 16711683)
    plan = TransitSwitches().plan(newer_ctx([ts1], [untyped, stale], writer=None))
    assert [op.db for op in plan.ops] == ["nb"]


def test_bindings_without_type_or_nb_ic_uuid_are_stamped():
    ts1 = row(name="ts1")
    untyped = row(transit_switch="ts1", tunnel_key=16711682, type=[], nb_ic_uuid=[])
    switch = ls("ts1", "ts1", key=16711682, **{"ic-vxlan_mode": "false"})
    plan = TransitSwitches().plan(newer_ctx([ts1], [untyped], [switch]))
    assert [(op.kind, op.column, op.value) for op in plan.ops] == [
        ("set", "type", "transit-switch"), ("set", "nb_ic_uuid", ts1.uuid)]


def test_keys_are_the_lowest_free_on_every_pass_from_25_03():
    """No hint kept between passes: a freed key is used again at once, as ovn-ic 25.03+."""
    concern = TransitSwitches()
    first = concern.plan(newer_ctx([row(name="ts1")], ic_sb=IC_SB_25_03, writer="ic_sb"))
    again = concern.plan(newer_ctx([row(name="ts2")], ic_sb=IC_SB_25_03, writer="ic_sb"))
    assert [op.value["tunnel_key"] for op in ops(first, "insert", "ic_sb")
            + ops(again, "insert", "ic_sb")] == [16711682, 16711682]


def test_transit_routers_get_one_binding_each_and_lose_it_with_the_router():
    tr1, tr2 = row(name="tr1"), row(name="tr2")
    kept = row(transit_switch="", tunnel_key=16711682, type=["transit-router"],
               nb_ic_uuid=[tr1.uuid])
    twin = row(transit_switch="", tunnel_key=16711690, type=["transit-router"],
               nb_ic_uuid=[tr1.uuid])
    gone = row(transit_switch="", tunnel_key=16711683, type=["transit-router"],
               nb_ic_uuid=[row().uuid])
    plan = TransitSwitches().plan(newer_ctx(routers=[tr1, tr2], bindings=[kept, twin, gone]))
    assert {op.target for op in ops(plan, "delete")} == {twin.uuid, gone.uuid}
    assert [op.value for op in ops(plan, "insert")] == [
        {"tunnel_key": 16711684, "type": "transit-router", "nb_ic_uuid": tr2.uuid}]


def test_vxlan_mode_keys_and_the_mirrors_mode():
    """With vxlan_mode and a vxlan gateway, keys come from 1024-4095 (first 1025); mirrors
    say ic-vxlan_mode, false as well as true."""
    ts1 = row(name="ts1")
    on = TransitSwitches().plan(newer_ctx([ts1], options={"vxlan_mode": "true"},
                                          encaps=["geneve", "vxlan"]))
    off = TransitSwitches().plan(newer_ctx([ts1], options={"vxlan_mode": "true"},
                                           encaps=["geneve"]))
    for plan, key, mode in ((on, 1025, "true"), (off, 16711682, "false")):
        [mirror] = ops(plan, "insert", "nb")
        assert mirror.value["other_config"]["ic-vxlan_mode"] == mode
        assert ops(plan, "insert", "ic_sb_locked")[0].value["tunnel_key"] == key


def test_a_change_of_vxlan_mode_re_keys_the_bindings_not_yet_in_range():
    """Those a peer re-keyed first keep their key (ovn-ic would move them once more)."""
    ts1, ts2, ts3 = row(name="ts1"), row(name="ts2"), row(name="ts3")
    keys = {"ts1": 16711682, "ts2": 16711683, "ts3": 1025}
    bindings = [row(transit_switch=ts.name, tunnel_key=keys[ts.name], type=["transit-switch"],
                    nb_ic_uuid=[ts.uuid]) for ts in (ts1, ts2, ts3)]
    mirrors = [ls(name, name, key=key, **{"ic-vxlan_mode": "false"})
               for name, key in keys.items()]
    plan = TransitSwitches().plan(newer_ctx([ts1, ts2, ts3], bindings, mirrors,
                                            options={"vxlan_mode": "true"}, encaps=["vxlan"]))
    assert [(op.target, op.column, op.value) for op in ops(plan, "set")] == [
        (bindings[0].uuid, "tunnel_key", 1026), (bindings[1].uuid, "tunnel_key", 1027)]
    assert [(op.key, op.value) for op in ops(plan, "setkey")] == [("ic-vxlan_mode", "true")] * 3
