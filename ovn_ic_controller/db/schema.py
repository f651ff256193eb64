"""Schemas come from the server, so any OVN version's schema works.

Only the tables and columns the sync concerns read or write are registered, and
those a given schema lacks are left out instead of failing: a concern reads an
absent column as its default.
"""

from __future__ import annotations

import errno
import math
import os
import time

import ovs.db.idl
import ovs.jsonrpc
import ovs.poller
import ovs.stream


class SchemaUnavailable(Exception):
    """No remote of a database answered get_schema (yet)."""


def fetch_schema(remote: str, db_name: str, timeout_ms: int = 2000) -> dict:
    """Ask the first answering server of ``remote`` for ``db_name``'s schema (RFC 7047)."""
    problems = []
    for endpoint in split_remotes(remote):
        error, stream = ovs.stream.Stream.open_block(ovs.stream.Stream.open(endpoint),
                                                     timeout_ms)
        if error:
            problems.append(f"{endpoint}: {os.strerror(error)}")
            continue
        rpc = ovs.jsonrpc.Connection(stream)
        try:
            error, reply = _transact(rpc, ovs.jsonrpc.Message.create_request(
                "get_schema", [db_name]), time.monotonic() + timeout_ms / 1000)
        finally:
            rpc.close()
        if error:
            problems.append(f"{endpoint}: {os.strerror(error)}")
        elif reply.error:
            problems.append(f"{endpoint}: {reply.error}")
        else:
            return reply.result
    raise SchemaUnavailable("; ".join(problems) or os.strerror(errno.ENOTCONN))


def _transact(rpc: ovs.jsonrpc.Connection, request: ovs.jsonrpc.Message,
              deadline: float) -> tuple[int, ovs.jsonrpc.Message | None]:
    """``rpc.transact_block`` with a deadline: a server that accepts the connection and
    never answers must not hang the loop that asked (ETIMEDOUT then)."""
    error = rpc.send(request)
    while not error:
        rpc.run()
        error, reply = rpc.recv()
        if error == errno.EAGAIN:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return errno.ETIMEDOUT, None
            poller = ovs.poller.Poller()
            rpc.wait(poller)
            rpc.recv_wait(poller)
            poller.timer_wait(math.ceil(remaining * 1000))
            poller.block()
            error = 0
        elif not error and reply.id == request.id:
            return 0, reply
    return error, None


def split_remotes(remote: str) -> list[str]:
    """Split a comma-separated remote list; 'unix:' paths never contain ':' pieces."""
    parts: list[str] = []
    for piece in remote.split(","):
        if parts and ":" not in piece:
            parts[-1] += "," + piece
        else:
            parts.append(piece)
    return parts


def has_column(schema_json: dict | None, table: str, column: str) -> bool:
    """Whether ``schema_json`` (a server's schema; None while unknown) has ``table.column``."""
    tables = (schema_json or {}).get("tables", {})
    return column in tables.get(table, {}).get("columns", {})


def enum_values(schema_json: dict | None, table: str, column: str) -> frozenset | None:
    """The values ``table.column``'s key may take, or None when not an enum (or unknown)."""
    if not has_column(schema_json, table, column):
        return None
    key = schema_json["tables"][table]["columns"][column]["type"]
    key = key.get("key") if isinstance(key, dict) else None
    enum = key.get("enum") if isinstance(key, dict) else None
    if enum is None:
        return None
    if isinstance(enum, list) and enum[:1] == ["set"]:
        return frozenset(enum[1])
    return frozenset([enum])


def build_helper(schema_json: dict, wanted: dict[str, set[str]]) -> ovs.db.idl.SchemaHelper:
    """A SchemaHelper registering ``wanted`` columns that the schema actually has."""
    helper = ovs.db.idl.SchemaHelper(schema_json=schema_json)
    tables = schema_json.get("tables", {})
    for table, columns in sorted(wanted.items()):
        if table not in tables:
            continue
        present = sorted(column for column in columns if column in tables[table]["columns"])
        helper.register_columns(table, present)
    return helper
