"""Sequence numbers (24.03's update_sequence_numbers()), on plain data."""

from fakes import Replica

from ovn_ic_controller.sync.sequence import INT64_MAX, SequenceNumbers

SCHEMA = {"tables": {"Availability_Zone": {"columns": {"nb_ic_cfg": {"type": "integer"}}}}}


class World(Replica):
    def __init__(self, inb=0, isb=0, own=0, peer=0, schema=SCHEMA):
        super().__init__({"ic_nb": {"IC_NB_Global": []}, "ic_sb": {"IC_SB_Global": []}})
        self.inb = self.add("ic_nb", "IC_NB_Global", nb_ic_cfg=inb, sb_ic_cfg=isb)
        self.isb = self.add("ic_sb", "IC_SB_Global", nb_ic_cfg=isb)
        self.az = self.add("ic_sb", "Availability_Zone", name="az1", nb_ic_cfg=own)
        self.peer = self.add("ic_sb", "Availability_Zone", name="az2", nb_ic_cfg=peer)
        self.schema = schema

    def ctx(self):
        ctx = super().ctx()
        ctx.schemas = {"ic_sb": self.schema} if self.schema else {}
        return ctx

    def numbers(self):
        return (self.inb.nb_ic_cfg, self.inb.sb_ic_cfg, self.isb.nb_ic_cfg, self.az.nb_ic_cfg,
                self.peer.nb_ic_cfg)


def test_the_az_counts_up_one_step_per_transaction_then_waits_for_the_others():
    world, concern = World(inb=3), SequenceNumbers()
    for own in (1, 2, 3):
        world.run(concern)
        assert world.numbers() == (3, 0, 0, own, 0)
    assert not world.run(concern)  # az2 has not caught up
    world.peer.nb_ic_cfg = 3
    world.run(concern)
    assert world.numbers() == (3, 3, 3, 3, 3)
    assert not world.run(concern)


def test_a_step_that_did_not_commit_is_taken_again():
    world, concern = World(inb=1), SequenceNumbers()
    assert concern.plan(world.ctx())  # never applied: the transaction failed
    world.run(concern)
    assert world.az.nb_ic_cfg == 1
    world.peer.nb_ic_cfg = 1
    world.settle(concern)
    assert world.numbers() == (1, 1, 1, 1, 1)


def test_a_restarted_controller_sets_its_az_back_to_zero_until_the_next_change():
    """As ovn-ic: its committed number starts at 0 in a new process."""
    world = World(inb=5, isb=5, own=5, peer=5)
    world.run(SequenceNumbers())
    assert world.az.nb_ic_cfg == 0
    world.inb.nb_ic_cfg = 6
    world.settle(SequenceNumbers(), passes=8)
    assert world.az.nb_ic_cfg == 6


def test_overflow_starts_again_at_one():
    world = World(inb=1, own=INT64_MAX)
    world.run(SequenceNumbers())
    assert world.az.nb_ic_cfg == 1


def test_missing_global_rows_are_created():
    world = World(inb=0)
    world.tables["ic_nb"]["IC_NB_Global"].clear()
    world.tables["ic_sb"]["IC_SB_Global"].clear()
    plan = SequenceNumbers().plan(world.ctx())
    assert [(op.kind, op.db, op.table) for op in plan.ops] == [
        ("insert", "ic_nb", "IC_NB_Global"), ("insert", "ic_sb", "IC_SB_Global")]


def test_nothing_without_the_columns():
    world = World(inb=3, schema=None)
    assert not SequenceNumbers().plan(world.ctx())
