"""OVSDB plumbing: connections, schemas, plans and transactions; no IC semantics."""
