"""Reading what a server's schema has, by which behaviour that differs between OVN releases
is chosen."""

from fakes import context

from ovn_ic_controller.db.schema import enum_values, has_column

IC_SB = {"tables": {
    "Encap": {"columns": {"type": {"type": {"key": {"type": "string",
                                                    "enum": ["set", ["geneve", "vxlan"]]}}},
                          "ip": {"type": "string"}}},
    "Route": {"columns": {"origin": {"type": {"key": {"type": "string", "enum": "static"}}}}},
}}


def test_columns_and_enums_of_a_schema():
    assert has_column(IC_SB, "Encap", "ip")
    assert not has_column(IC_SB, "Encap", "options")
    assert not has_column(IC_SB, "Gateway", "name")
    assert not has_column(None, "Encap", "ip")
    assert enum_values(IC_SB, "Encap", "type") == {"geneve", "vxlan"}
    assert enum_values(IC_SB, "Route", "origin") == {"static"}
    assert enum_values(IC_SB, "Encap", "ip") is None
    assert enum_values(IC_SB, "Encap", "options") is None


def test_a_context_without_schemas_has_nothing_newer():
    ctx = context()
    assert not ctx.has_column("ic_sb", "Encap", "ip")
    ctx.schemas = {"ic_sb": IC_SB}
    assert ctx.has_column("ic_sb", "Encap", "ip")
    assert ctx.enum("ic_sb", "Encap", "type") == {"geneve", "vxlan"}
