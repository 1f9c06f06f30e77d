"""Bounded lookups: one-triple-pattern SELECT/ASK queries, recognized exactly and evaluated without the worker hop."""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass

import pyoxigraph as ox

from ..namespaces import XSD
from .execute import Result, capped
from .prologue import (
    _CONST,
    _END,
    _LITERAL,
    _VAR,
    _WS,
    _split_prologue,
)
from .safety import Limits, QueryInfo


@dataclass(frozen=True)
class Lookup:
    """A bounded lookup, parsed: one triple pattern (variables as names, constants as terms) and its modifiers."""

    form: str  # SELECT | ASK
    variables: tuple[str, ...]  # the projection
    pattern: tuple[str | ox.NamedNode | ox.Literal, ...]  # subject, predicate, object: a str is a variable name
    limit: int | None
    offset: int

    def sparql(self, limit: int | None) -> str:
        """The lookup as canonical SPARQL (absolute IRIs, no prologue) with the given LIMIT."""
        pattern = " ".join("?" + t if isinstance(t, str) else str(t) for t in self.pattern)
        head = "ASK" if self.form == "ASK" else "SELECT " + (" ".join("?" + v for v in self.variables) or "*")
        tail = (f" LIMIT {limit}" if limit is not None else "") + (f" OFFSET {self.offset}" if self.offset else "")
        return f"{head} WHERE {{ {pattern} }}{tail}"

    def take(self, max_rows: int) -> int:
        """How many rows to read: the query's LIMIT, but at most one past the cap (to tell that it was cut)."""
        return max_rows + 1 if self.limit is None else min(self.limit, max_rows + 1)

    @property
    def bound_variables(self) -> int:
        """How many projected variables every row binds (those in the pattern; the others are never bound)."""
        return sum(1 for v in self.variables if v in self.pattern)


# -- bounded lookups ----------------------------------------------------------------------------------
#
# Most traffic on a linked-data endpoint is entity lookups: `SELECT ?p ?o WHERE { <iri> ?p ?o }`.
# A query that is one triple pattern with distinct variables over the default graph and nothing else
# (no FILTER, DISTINCT, ORDER BY, GROUP BY, paths, sub-queries, dataset clauses; OFFSET at most the row
# cap) is one index range scan yielding a row per matching triple: with the row cap its cost is bounded
# by (cap + offset) index steps, so it cannot run away and needs no killable worker. Such a lookup is
# evaluated in the web worker, in as few calls into Rust as possible: Oxigraph evaluates and serializes
# JSON/XML itself (kg.executor.answer_lookup); other formats and capped results read the quad index
# (Store.quads_for_pattern, run_lookup). Iterating query solutions instead would give up and re-take the
# GIL on every row, which under load can cost a thread switch interval (5 ms) per row.
# The recognizer is deliberately narrow: whatever it accepts has that shape, and anything it does not
# accept (relative IRIs, escapes, doubles, undeclared prefixes, any other query) takes the general path.

_BODY_PATTERN = rf"""(?:SELECT{_WS}(?P<proj>\*|(?:{_VAR}{_WS})+)|(?P<ask>ASK)){_WS}(?:WHERE{_WS})?
    \{{{_WS}(?P<s>{_VAR}|{_CONST}){_WS}(?P<p>{_VAR}|{_CONST}|a{_END}){_WS}(?P<o>{_VAR}|{_CONST}|{_LITERAL}){_WS}(?P<dot>\.)?{_WS}\}}
    {_WS}(?:LIMIT{_WS}(?P<limit>[0-9]+){_END}{_WS}(?:OFFSET{_WS}(?P<offset>[0-9]+){_END}{_WS})?
         |OFFSET{_WS}(?P<offset2>[0-9]+){_END}{_WS}(?:LIMIT{_WS}(?P<limit2>[0-9]+){_END}{_WS})?)?"""


@functools.lru_cache(maxsize=1)
def _body() -> re.Pattern[str]:
    """The recognizer, compiled at first use (its Unicode classes take tens of milliseconds: not at every start-up)."""
    return re.compile(_BODY_PATTERN, re.IGNORECASE | re.VERBOSE)


_ABSOLUTE = re.compile(r"[A-Za-z][A-Za-z0-9+\-.]*:")
_LITERAL_PARTS = re.compile(r"(?:\"([^\"]*)\"|'([^']*)')(?:@(.+)|\^\^(.+))?", re.DOTALL)
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"


class _NotALookup(Exception):
    pass


def _iri(text: str, prefixes: dict[str, str]) -> ox.NamedNode:
    if text.startswith("<"):
        iri = text[1:-1]
        if not _ABSOLUTE.match(iri):
            raise _NotALookup  # relative: resolution against the base is left to the engine
    else:
        prefix, _, local = text.partition(":")
        if prefix not in prefixes:
            raise _NotALookup  # the engine reports the undeclared prefix
        iri = prefixes[prefix] + local
    try:
        return ox.NamedNode(iri)
    except ValueError:
        raise _NotALookup from None


def _term(text: str, prefixes: dict[str, str]) -> str | ox.NamedNode | ox.Literal:
    first = text[0]
    if first in "?$":
        return text[1:]
    if first in "\"'":
        m = _LITERAL_PARTS.fullmatch(text)
        assert m is not None
        value = m[1] if m[1] is not None else m[2]
        try:
            if m[3]:
                return ox.Literal(value, language=m[3].lower())  # the engine compares language tags lower-cased
            if m[4]:
                return ox.Literal(value, datatype=_iri(m[4], prefixes))
        except ValueError:
            raise _NotALookup from None
        return ox.Literal(value)
    if first in "+-0123456789":
        return ox.Literal(text, datatype=ox.NamedNode(XSD + ("decimal" if "." in text else "integer")))
    lowered = text.lower()
    if lowered in ("true", "false"):
        return ox.Literal(lowered, datatype=ox.NamedNode(XSD + "boolean"))
    return _iri(text, prefixes)


def bounded_lookup(query: str, limits: Limits) -> QueryInfo | None:
    """QueryInfo with its Lookup for a one-triple-pattern SELECT/ASK (see above); None for anything else."""
    if len(query) > limits.max_bytes or len(query.encode("utf-8")) > limits.max_bytes:
        return None  # the general path reports the size
    start, prefixes = _split_prologue(query)
    if prefixes is None:
        return None
    m = _body().fullmatch(query, start)
    if m is None:
        return None
    s, p, o = m["s"], m["p"], m["o"]
    # a prefixed name never ends with '.': "ex:o." is ex:o and the triple's terminator, and so is the '.' after a
    # literal's prefixed datatype ("x"^^xsd:string.)
    pname_datatype = o[0] in "\"'" and "^^" in o and not o.rsplit("^^", 1)[1].startswith("<")
    dots = len(o) - len(o.rstrip(".")) if o[0] not in "\"'<" or pname_datatype else 0
    if s.endswith(".") or p.endswith(".") or dots + (1 if m["dot"] else 0) > 1:
        return None
    o = o[: len(o) - dots]
    if (p.lower() == "a" and p != "a") or (o.lower() in ("true", "false") and o not in ("true", "false")):
        return None  # 'a', 'true' and 'false' are lower-case only
    try:
        pattern = (
            _term(s, prefixes),
            ox.NamedNode(RDF_TYPE) if p == "a" else _term(p, prefixes),
            _term(o, prefixes),
        )
    except _NotALookup:
        return None
    names = [t for t in pattern if isinstance(t, str)]
    if len(set(names)) != len(names):
        return None  # ?x ?p ?x is a filter over a scan: not bounded per row
    offset_text, limit_text = m["offset"] or m["offset2"], m["limit"] or m["limit2"]
    offset = int(offset_text) if offset_text is not None else 0
    if offset > limits.max_rows:
        return None
    variables: tuple[str, ...]
    if m["ask"]:
        form, variables = "ASK", ()
    elif m["proj"] == "*":
        form, variables = "SELECT", tuple(names)
    else:
        form, variables = "SELECT", tuple(re.findall(r"[?$]([A-Za-z0-9_]+)", m["proj"]))
        if len(set(variables)) != len(variables):
            return None
    limit = int(limit_text) if limit_text is not None else None
    return QueryInfo(form, 1, Lookup(form, variables, pattern, limit, offset))


def run_lookup(store: ox.Store, lookup: Lookup, max_rows: int) -> Result:
    """Evaluate a bounded lookup on the default graph's quad index: the engine's answer for that pattern."""
    s, p, o = (None if isinstance(t, str) else t for t in lookup.pattern)
    if isinstance(s, ox.Literal) or isinstance(p, ox.Literal):  # a literal subject or predicate matches nothing
        matches: Iterator[ox.Quad] = iter(())
    else:
        matches = store.quads_for_pattern(s, p, o, ox.DefaultGraph())
    start = lookup.offset
    if lookup.form == "ASK":
        if lookup.limit == 0:
            return Result("boolean", boolean=False)
        return Result("boolean", boolean=next(itertools.islice(matches, start, None), None) is not None)
    positions = {name: i for i, name in enumerate(lookup.pattern) if isinstance(name, str)}
    picks = [positions.get(v) for v in lookup.variables]
    window = itertools.islice(matches, start, start + lookup.take(max_rows))
    rows, truncated = capped(
        ([None if i is None else (q.subject, q.predicate, q.object)[i] for i in picks] for q in window), max_rows
    )
    return Result("bindings", variables=list(lookup.variables), rows=rows, truncated=truncated)
