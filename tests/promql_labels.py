"""Which series and labels a PromQL expression needs, checked against what is exported.

``check`` walks the expression's syntax tree (the ``promql-parser`` package) and
follows the labels each node yields as Prometheus computes them, so that a label
named in a matcher, a ``by``/``on``/``group_left`` clause or, by the caller, in
an alert annotation or a legend is known to exist where it is used.
"""

from __future__ import annotations

import promql_parser as pp

# Labels Prometheus adds to every series it scrapes.
TARGET_LABELS = frozenset({"job", "instance"})

# Functions whose result has no labels of their argument (scalars, or a new vector).
_NO_LABELS = {"time", "scalar", "pi", "vector", "absent", "absent_over_time", "day_of_month",
              "day_of_week", "day_of_year", "days_in_month", "hour", "minute", "month", "year"}


class Checker:
    """Checks expressions against ``exported``: sample name -> its label names."""

    def __init__(self, exported: dict[str, set[str]]) -> None:
        self.exported = exported
        self.problems: list[str] = []

    def check(self, expr: str) -> set[str] | None:
        """The labels of the series ``expr`` yields (None: a scalar); problems are noted."""
        return self._labels(pp.parse(expr))

    def need(self, wanted, have: set[str] | None, where: str) -> None:
        """Notes a problem unless every label in ``wanted`` is in ``have``."""
        missing = set(wanted) - (have or set())
        if missing:
            self.problems.append(f"{where}: no label {sorted(missing)} "
                                 f"(there: {sorted(have or ())})")

    def _labels(self, node) -> set[str] | None:
        if isinstance(node, pp.VectorSelector):
            return self._selector(node)
        if isinstance(node, pp.MatrixSelector):
            return self._labels(node.vector_selector)
        if isinstance(node, pp.ParenExpr | pp.UnaryExpr | pp.SubqueryExpr):
            return self._labels(node.expr)
        if isinstance(node, pp.NumberLiteral | pp.StringLiteral):
            return None
        if isinstance(node, pp.Call):
            return self._call(node)
        if isinstance(node, pp.AggregateExpr):
            return self._aggregate(node)
        if isinstance(node, pp.BinaryExpr):
            return self._binary(node)
        raise TypeError(f"unexpected PromQL node {type(node).__name__}: {node}")

    def _selector(self, node) -> set[str]:
        name = node.name or next((m.value for m in node.matchers.matchers
                                  if m.name == "__name__"), None)
        if name not in self.exported:
            self.problems.append(f"{name}: not exported")
            return set(TARGET_LABELS)
        have = self.exported[name] | TARGET_LABELS
        self.need({m.name for m in node.matchers.matchers} - {"__name__"}, have, str(node))
        return have

    def _call(self, node) -> set[str] | None:
        func = node.func.name
        args = [self._labels(arg) for arg in node.args]
        strings = [arg.val for arg in node.args if isinstance(arg, pp.StringLiteral)]
        if func in _NO_LABELS:
            return set() if func in {"vector", "absent", "absent_over_time"} else None
        if func == "histogram_quantile":
            self.need({"le"}, args[1], str(node))
            return (args[1] or set()) - {"le"}
        vector = next((labels for labels in args if labels is not None), None)
        if func in {"label_replace", "label_join"}:
            sources = [strings[2]] if func == "label_replace" else strings[2:]
            self.need({s for s in sources if s}, vector, str(node))
            return (vector or set()) | {strings[0]}
        return vector

    def _aggregate(self, node) -> set[str]:
        inner = self._labels(node.expr) or set()
        op = str(node.op)
        modifier = node.modifier
        if modifier is not None:
            self.need(modifier.labels, inner, str(node))
        if modifier is None:
            out = set(inner) if op in {"topk", "bottomk"} else set()
        elif modifier.type == pp.AggModifierType.By:
            out = set(modifier.labels)
        else:
            out = inner - set(modifier.labels)
        if op == "count_values":
            out.add(node.param.val)
        return out

    def _binary(self, node) -> set[str] | None:
        lhs, rhs = self._labels(node.lhs), self._labels(node.rhs)
        if lhs is None or rhs is None:
            return rhs if lhs is None else lhs
        modifier = node.modifier
        matching = modifier.matching if modifier is not None else None
        if matching is not None:
            self.need(matching.labels, lhs, f"{node} (left side)")
            self.need(matching.labels, rhs, f"{node} (right side)")
        op = str(node.op)
        if op in {"and", "unless"}:
            return lhs
        if op == "or":
            return lhs | rhs
        card = modifier.card if modifier is not None else None
        group = set(modifier.group_labels or ()) if modifier is not None else set()
        if card == pp.VectorMatchCardinality.ManyToOne:
            self.need(group, rhs, f"{node} (group_left)")
            return lhs | group
        if card == pp.VectorMatchCardinality.OneToMany:
            self.need(group, lhs, f"{node} (group_right)")
            return rhs | group
        if matching is None:
            return lhs
        if matching.type == pp.LabelModifierType.Include:
            return set(matching.labels)
        return lhs - set(matching.labels)
