"""Changes a later ovs release could make to the private Idl code fastidl overrides,
made to the installed ovs in place, for tests of ovs_compat's self-check.

Also used by tests/functional/renamed_ovs/sitecustomize.py, in a daemon process.
"""

from __future__ import annotations

import inspect
import textwrap

import ovs.db.idl


def process_update2_calling(name: str, new_name: str):
    """``Idl.__process_update2`` as ovs writes it, but calling its private method ``name``
    (e.g. ``_Idl__apply_diff``) by ``new_name``: what a release that renamed it runs."""
    source = textwrap.dedent(inspect.getsource(ovs.db.idl.Idl._Idl__process_update2))
    short, new_short = name.removeprefix("_Idl"), new_name.removeprefix("_Idl")
    changed = source.replace(f"self.{short}(", f"self.{new_short}(")
    assert changed != source, f"__process_update2 does not call {name}"
    namespace: dict = {}
    # Compiled inside a class named Idl, so that its private names mangle as ovs's do.
    exec(compile("class Idl:\n" + textwrap.indent(changed, "    "), ovs.db.idl.__file__, "exec"),
         vars(ovs.db.idl), namespace)
    return namespace["Idl"]._Idl__process_update2

