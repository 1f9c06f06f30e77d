"""Query evaluation on pyoxigraph's own engine (never rdflib's), with the one row-cap rule."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pyoxigraph as ox

from ..errors import QuerySyntaxError
from ..namespaces import PREFIXES
from .safety import select_star_order

T = TypeVar("T")


def solutions(result: ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples) -> ox.QuerySolutions:
    """The result of a SELECT query as solutions (for code that runs its own SELECT; a wrong form is a bug)."""
    if not isinstance(result, ox.QuerySolutions):
        raise TypeError(f"expected SELECT solutions, got {type(result).__name__}")
    return result


def value(term: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple | ox.DefaultGraph | None) -> str:
    """The lexical value of a term ('' for none; N-Triples syntax for a quoted triple)."""
    if term is None or isinstance(term, ox.DefaultGraph):
        return ""
    if isinstance(term, ox.Triple):
        return str(term)
    return term.value


def capped(items: Iterable[T], max_rows: int) -> tuple[list[T], bool]:
    """At most max_rows items, and whether there were more (reads one item past the cap, never further)."""
    out: list[T] = []
    iterator: Iterator[T] = iter(items)
    for item in iterator:
        if len(out) >= max_rows:
            return out, True
        out.append(item)
    return out, False


@dataclass
class Result:
    kind: str  # "bindings" | "boolean" | "graph"
    variables: list[str] = field(default_factory=list)
    rows: list[list[Any]] = field(default_factory=list)
    boolean: bool = False
    triples: list[ox.Triple] = field(default_factory=list)
    truncated: bool = False

    def records(self) -> list[dict[str, Any]]:
        """SELECT rows as dicts keyed by variable name (unbound variables map to None)."""
        return [dict(zip(self.variables, row, strict=True)) for row in self.rows]


def execute(
    store: ox.Store,
    query: str,
    *,
    max_rows: int,
    default_graph: list[str] | None = None,
    named_graphs: list[str] | None = None,
    substitutions: dict[str, ox.NamedNode | ox.Literal] | None = None,
    base_iri: str | None = None,
) -> Result:
    """Evaluate with pyoxigraph's own engine (never rdflib's) and cap the result at max_rows."""
    kwargs: dict[str, Any] = {"prefixes": PREFIXES}
    if base_iri:
        kwargs["base_iri"] = base_iri
    if default_graph:
        kwargs["default_graph"] = [ox.NamedNode(g) for g in default_graph]
    elif named_graphs:
        kwargs["default_graph"] = []  # SPARQL 1.1 Protocol: named graphs without a default graph leave it empty
    if named_graphs:
        kwargs["named_graphs"] = [ox.NamedNode(g) for g in named_graphs]
    if substitutions:
        kwargs["substitutions"] = {ox.Variable(k): v for k, v in substitutions.items()}
    try:
        res = store.query(query, **kwargs)
    except SyntaxError as exc:
        raise QuerySyntaxError(str(exc)) from None
    if isinstance(res, ox.QueryBoolean):
        return Result("boolean", boolean=bool(res))
    if isinstance(res, ox.QuerySolutions):
        variables = [v.value for v in res.variables]
        star = select_star_order(query)
        order = [variables.index(v) for v in star if v in variables] if star else []
        if star and len(order) == len(variables):
            variables = [variables[i] for i in order]
        else:
            order = list(range(len(variables)))
        identity = order == list(range(len(order)))
        rows, truncated = capped((list(sol) if identity else [sol[i] for i in order] for sol in res), max_rows)
        return Result("bindings", variables=variables, rows=rows, truncated=truncated)
    triples, truncated = capped(res, max_rows)
    return Result("graph", triples=triples, truncated=truncated)
