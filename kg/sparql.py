"""SPARQL query safety checks, execution on pyoxigraph's native engine, and result serialization.

The safety checks run on the raw query text before any parser sees it: a lexical scan that skips
strings, IRIs and comments, so it cannot be fooled by keywords inside literals and does not recurse
(pyoxigraph's parser crashes the process on a few thousand nested groups; we reject far earlier).
"""

from __future__ import annotations

import io
import itertools
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from xml.sax.saxutils import escape as xml_escape
from xml.sax.saxutils import quoteattr

import pyoxigraph as ox

from .errors import KGError
from .namespaces import PREFIXES, XSD

XSD_STRING = XSD + "string"


class QueryRejected(KGError):
    """The query is refused before evaluation (status 400, or 413 for size)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class QuerySyntaxError(KGError):
    """The query does not parse; the message carries the parser's position."""


class QueryTimeout(KGError):
    """The query ran past the time limit and was stopped."""


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 20_000
    max_depth: int = 64
    max_rows: int = 10_000
    timeout: float = 10.0


UPDATE_KEYWORDS = {"INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY", "WITH"}
FORMS = {"SELECT", "ASK", "CONSTRUCT", "DESCRIBE"}

_TOKEN = re.compile(
    r"""
    (?P<comment>\#[^\n]*)
  | (?P<string>'''(?:[^'\\]|\\.|'(?!''))*'''|\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"|'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*")
  | (?P<iri><[^<>"{}|^`\\\s]*>)
  | (?P<var>[?$][A-Za-z0-9_\u00B7-\uFFFF]+)
  | (?P<word>[A-Za-z_][A-Za-z0-9_\-.:\u00B7-\uFFFF]*)
  | (?P<open>[{(\[])
  | (?P<close>[})\]])
  | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)


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


@dataclass(frozen=True)
class QueryInfo:
    form: str
    depth: int
    lookup: Lookup | None = None  # set for bounded lookups: see bounded_lookup()


def analyze(query: str, limits: Limits) -> QueryInfo:
    """Check a query against the public-endpoint rules; return its form (SELECT/ASK/...).

    Results are memoized (queries repeat: page loads, dashboards, benchmarks); rejections are not.
    A bounded lookup is recognized by one regular expression and skips the scan.
    """
    info = bounded_lookup(query, limits)
    return info if info is not None else _analyze(query, limits)


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

_WS = r"(?:\s|\#[^\n]*(?:\n|\Z))*"
_IRIREF = r"<[^<>\"{}|^`\\\x00-\x20]*>"
_PN_PREFIX = r"(?:[A-Za-z](?:[A-Za-z0-9_\-.]*[A-Za-z0-9_\-])?)?"
_PN_LOCAL = r"(?:(?:[A-Za-z0-9_:]|%[0-9A-Fa-f]{2})(?:[A-Za-z0-9_\-.:]|%[0-9A-Fa-f]{2})*)?"
_PNAME = _PN_PREFIX + ":" + _PN_LOCAL
_VAR = r"[?$][A-Za-z0-9_]+"
_CONST = f"(?:{_IRIREF}|{_PNAME})"
_END = r"(?![A-Za-z0-9_:])"
_LITERAL = (
    r"(?:\"[^\"\\\n\r]*\"|'[^'\\\n\r]*')(?:@[A-Za-z]+(?:-[A-Za-z0-9]+)*|\^\^" + _CONST + ")?"
    rf"|[+-]?[0-9]+(?:\.[0-9]+)?{_END}|true{_END}|false{_END}"
)
# in a prologue every comment ends with a newline (a query form follows), so a prologue cannot end inside one
_WS_NL = r"(?:\s|\#[^\n]*\n)*"
_PROLOGUE = re.compile(
    rf"{_WS_NL}(?:(?:PREFIX{_WS_NL}{_PN_PREFIX}:{_WS_NL}{_IRIREF}|BASE{_WS_NL}{_IRIREF}){_WS_NL})*", re.IGNORECASE
)
_BODY = re.compile(
    rf"""(?:SELECT{_WS}(?P<proj>\*|(?:{_VAR}{_WS})+)|(?P<ask>ASK)){_WS}(?:WHERE{_WS})?
    \{{{_WS}(?P<s>{_VAR}|{_CONST}){_WS}(?P<p>{_VAR}|{_CONST}|a{_END}){_WS}(?P<o>{_VAR}|{_CONST}|{_LITERAL}){_WS}(?P<dot>\.)?{_WS}\}}
    {_WS}(?:(?:LIMIT{_WS}(?P<limit>[0-9]+)|OFFSET{_WS}(?P<offset>[0-9]+)){_WS})*""",
    re.IGNORECASE | re.VERBOSE,
)
_PROLOGUE_TOKEN = re.compile(rf"(?P<iri>{_IRIREF})|\#[^\n]*|(?P<kw>PREFIX|BASE)|(?P<ns>{_PN_PREFIX}):|\s+", re.IGNORECASE)
_ABSOLUTE = re.compile(r"[A-Za-z][A-Za-z0-9+\-.]*:")
_LITERAL_PARTS = re.compile(r"(?:\"([^\"]*)\"|'([^']*)')(?:@(.+)|\^\^(.+))?", re.DOTALL)
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"


class _NotALookup(Exception):
    pass


@lru_cache(maxsize=256)  # clients send the same prologue again and again
def _prologue_prefixes(prologue: str) -> dict[str, str] | None:
    """The prefixes in scope after a prologue (predeclared ones, then its PREFIX declarations); None if the
    text is not a prologue of PREFIX declarations with absolute IRIs (BASE is refused: no relative IRIs)."""
    if _PROLOGUE.fullmatch(prologue) is None:
        return None
    declared = dict(PREFIXES)
    keyword = ns = None
    for m in _PROLOGUE_TOKEN.finditer(prologue):
        if m["kw"]:
            keyword = m["kw"].upper()
            if keyword == "BASE":
                return None
        elif m["ns"] is not None and keyword == "PREFIX":
            ns = m["ns"]
        elif m["iri"] and ns is not None:
            iri = m["iri"][1:-1]
            if not _ABSOLUTE.match(iri):
                return None
            declared[ns] = iri
            keyword = ns = None
    return declared


_FORM_KEYWORDS = tuple(k for form in sorted(FORMS) for k in (form, form.lower()))


def _split_prologue(query: str) -> tuple[int, dict[str, str] | None]:
    """Where the query form starts, and the prefixes in scope there (None: not a prologue we accept).

    Clients send the same prologue with every query, so the split is first guessed with a plain search for
    a form keyword (the earliest first) and the text before it looked up in the cache; scanning a long
    prologue with a regular expression on every request costs more than the rest of the recognizer. A guess
    is only used when the text before it is a whole prologue (which cannot end inside a comment or an IRI),
    so it is the split the scan would find.
    """
    guesses = sorted(i for k in _FORM_KEYWORDS if (i := query.find(k)) >= 0)
    for i in guesses[:2]:
        prefixes = _prologue_prefixes(query[:i])
        if prefixes is not None:
            return i, prefixes
    end = _PROLOGUE.match(query)
    assert end is not None  # the pattern matches the empty string
    return end.end(), _prologue_prefixes(query[: end.end()])


def prologue_end(query: str) -> int:
    """Where the text after a prologue of PREFIX declarations begins (0 when there is none, or a BASE)."""
    start, prefixes = _split_prologue(query)
    return start if prefixes is not None else 0


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
                return ox.Literal(value, language=m[3])
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
    m = _BODY.fullmatch(query, start)
    if m is None:
        return None
    s, p, o = m["s"], m["p"], m["o"]
    # a prefixed name never ends with '.': "ex:o." is ex:o and the triple's terminator
    dots = len(o) - len(o.rstrip(".")) if o[0] not in "\"'<" else 0
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
    offset = int(m["offset"]) if m["offset"] is not None else 0
    if offset > limits.max_rows:
        return None
    if m["ask"]:
        form, variables = "ASK", ()
    elif m["proj"] == "*":
        form, variables = "SELECT", tuple(names)
    else:
        form, variables = "SELECT", tuple(v[1:] for v in m["proj"].split())
        if len(set(variables)) != len(variables):
            return None
    limit = int(m["limit"]) if m["limit"] is not None else None
    return QueryInfo(form, 1, Lookup(form, variables, pattern, limit, offset))


def run_lookup(store: ox.Store, lookup: Lookup, max_rows: int) -> Result:
    """Evaluate a bounded lookup on the default graph's quad index: the engine's answer for that pattern."""
    s, p, o = (None if isinstance(t, str) else t for t in lookup.pattern)
    matches = store.quads_for_pattern(s, p, o, ox.DefaultGraph())
    start = lookup.offset
    if lookup.form == "ASK":
        if lookup.limit == 0:
            return Result("boolean", boolean=False)
        return Result("boolean", boolean=next(itertools.islice(matches, start, None), None) is not None)
    positions = {name: i for i, name in enumerate(lookup.pattern) if isinstance(name, str)}
    picks = [positions.get(v) for v in lookup.variables]
    rows = []
    for quad in itertools.islice(matches, start, start + lookup.take(max_rows)):
        triple = (quad.subject, quad.predicate, quad.object)
        rows.append([None if i is None else triple[i] for i in picks])
    truncated = len(rows) > max_rows
    return Result("bindings", variables=list(lookup.variables), rows=rows[:max_rows], truncated=truncated)


@lru_cache(maxsize=4096)
def _analyze(query: str, limits: Limits) -> QueryInfo:
    size = len(query.encode("utf-8"))
    if size > limits.max_bytes:
        raise QueryRejected(f"query is {size} bytes; the limit is {limits.max_bytes} bytes", status=413)
    depth = max_depth = 0
    form: str | None = None
    # a prologue of PREFIX declarations (checked, and cached, by the pattern) holds no keyword and no group
    for m in _TOKEN.finditer(query, prologue_end(query)):
        kind = m.lastgroup
        if kind == "open":
            depth += 1
            if depth > limits.max_depth:
                line = query.count("\n", 0, m.start()) + 1
                raise QueryRejected(f"query nests groups deeper than {limits.max_depth} levels (line {line})")
            max_depth = max(max_depth, depth)
        elif kind == "close":
            depth = max(0, depth - 1)
        elif kind == "word":
            word = m.group().upper()
            if word == "SERVICE":
                raise QueryRejected("SERVICE (federated query) is not allowed on this endpoint")
            if word in UPDATE_KEYWORDS and form is None:
                raise QueryRejected(f"this endpoint is read-only: SPARQL Update ({word}) is refused")
            if form is None and word in FORMS:
                form = word
    if form is None:
        raise QuerySyntaxError("no SELECT, ASK, CONSTRUCT or DESCRIBE query form found")
    return QueryInfo(form, max_depth)


def select_star_order(query: str) -> list[str] | None:
    """For SELECT *, the variables in order of first appearance (pyoxigraph sorts them); else None."""
    if "*" not in query:
        return None
    tokens = [
        (m.lastgroup, m.group())
        for m in _TOKEN.finditer(query, prologue_end(query))
        if m.lastgroup not in ("comment",) and not m.group().isspace()
    ]
    for i, (kind, text) in enumerate(tokens):
        if kind == "word" and text.upper() == "SELECT":
            rest = [t for t in tokens[i + 1 : i + 4] if not (t[0] == "word" and t[1].upper() in ("DISTINCT", "REDUCED"))]
            if rest and rest[0][1] == "*":
                order: list[str] = []
                for k, t in tokens[i + 1 :]:
                    if k == "var" and t[1:] not in order:
                        order.append(t[1:])
                return order
            return None
    return None


# -- results ------------------------------------------------------------------------------------


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
        rows: list[list[Any]] = []
        truncated = False
        identity = order == list(range(len(order)))
        for sol in res:
            if len(rows) >= max_rows:
                truncated = True
                break
            rows.append(list(sol) if identity else [sol[i] for i in order])
        return Result("bindings", variables=variables, rows=rows, truncated=truncated)
    triples: list[ox.Triple] = []
    truncated = False
    for t in res:
        if len(triples) >= max_rows:
            truncated = True
            break
        triples.append(t)
    return Result("graph", triples=triples, truncated=truncated)


# -- serialization --------------------------------------------------------------------------------

RESULT_FORMATS = {
    "json": "application/sparql-results+json",
    "xml": "application/sparql-results+xml",
    "csv": "text/csv",
    "tsv": "text/tab-separated-values",
}
GRAPH_FORMATS = {
    "turtle": ("text/turtle", ox.RdfFormat.TURTLE),
    "ntriples": ("application/n-triples", ox.RdfFormat.N_TRIPLES),
    "jsonld": ("application/ld+json", ox.RdfFormat.JSON_LD),
    "rdfxml": ("application/rdf+xml", ox.RdfFormat.RDF_XML),
    "trig": ("application/trig", ox.RdfFormat.TRIG),
    "nquads": ("application/n-quads", ox.RdfFormat.N_QUADS),
}


def term_json(term: Any) -> dict[str, str]:
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, ox.Literal):
        out = {"type": "literal", "value": term.value}
        if term.language:
            out["xml:lang"] = term.language
        elif term.datatype.value != XSD_STRING:
            out["datatype"] = term.datatype.value
        return out
    return {"type": "literal", "value": str(term)}


_quote = json.encoder.encode_basestring  # the C encoder's string quoting (ensure_ascii=False)
_NamedNode, _Literal = ox.NamedNode, ox.Literal


def _json_bindings(result: Result) -> bytes:
    """SPARQL 1.1 Query Results JSON, built from string pieces (the hot path of every SELECT)."""
    keys = [_quote(v) + ':{"type":' for v in result.variables]
    parts = []
    for row in result.rows:
        items = []
        for key, term in zip(keys, row):  # noqa: B905 - rows have one cell per variable
            if term is None:
                continue
            kind = type(term)
            if kind is _NamedNode:
                items.append(key + '"uri","value":' + _quote(term.value) + "}")
            elif kind is _Literal:
                language = term.language
                if language:
                    items.append(key + '"literal","value":' + _quote(term.value) + ',"xml:lang":' + _quote(language) + "}")
                else:
                    datatype = term.datatype.value
                    if datatype == XSD_STRING:
                        items.append(key + '"literal","value":' + _quote(term.value) + "}")
                    else:
                        items.append(key + '"literal","value":' + _quote(term.value) + ',"datatype":' + _quote(datatype) + "}")
            else:
                items.append(key.removesuffix('{"type":') + json.dumps(term_json(term), ensure_ascii=False))
        parts.append("{" + ",".join(items) + "}")
    head = json.dumps({"vars": result.variables}, ensure_ascii=False)
    return ('{"head":' + head + ',"results":{"bindings":[' + ",".join(parts) + "]}}").encode()


_NUMERIC = {XSD + "integer": re.compile(r"[+-]?\d+$"), XSD + "decimal": re.compile(r"[+-]?\d*\.\d+$")}


def _lexical(term: Any) -> str:
    """The lexical form for CSV/TSV; doubles in XSD canonical form (Oxigraph prints 1.0E6 as 1000000)."""
    if isinstance(term, ox.Literal) and term.datatype.value in (XSD + "double", XSD + "float"):
        try:
            number = float(term.value)
        except ValueError:
            return term.value
        if number != number or number in (float("inf"), float("-inf")):
            return {"nan": "NaN", "inf": "INF", "-inf": "-INF"}[str(number)]
        mantissa, _, exponent = f"{number:.15E}".partition("E")
        mantissa = mantissa.rstrip("0")
        mantissa = mantissa + "0" if mantissa.endswith(".") else mantissa
        return f"{mantissa}E{int(exponent)}"
    return term.value


def _csv_field(value: str) -> str:
    if any(c in value for c in ',"\r\n'):
        return '"' + value.replace('"', '""') + '"'
    return value


def _csv_cell(term: Any) -> str:
    if term is None:
        return ""
    if isinstance(term, ox.BlankNode):
        return "_:" + term.value
    return _csv_field(_lexical(term))


def _tsv_term(term: Any) -> str:
    """Turtle syntax, with the short forms for numbers and booleans where they round-trip."""
    if term is None:
        return ""
    if isinstance(term, ox.Literal) and not term.language:
        dt = term.datatype.value
        pattern = _NUMERIC.get(dt)
        if pattern is not None and pattern.match(term.value):
            return term.value
        if dt in (XSD + "double",):
            return _lexical(term)
        if dt == XSD + "boolean" and term.value in ("true", "false"):
            return term.value
    return str(term).replace("\t", "\\t")


def serialize_bindings(result: Result, fmt: str) -> bytes:
    if result.kind == "boolean":
        if fmt == "json":
            return json.dumps({"head": {}, "boolean": result.boolean}).encode()
        if fmt == "xml":
            return (
                '<?xml version="1.0"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#">'
                f"<head/><boolean>{'true' if result.boolean else 'false'}</boolean></sparql>\n"
            ).encode()
        return ("_askResult\r\n" + ("true" if result.boolean else "false") + "\r\n").encode()
    if fmt == "json":
        return _json_bindings(result)
    if fmt == "csv":
        buf = io.StringIO()
        buf.write(",".join(result.variables) + "\r\n")
        for row in result.rows:
            buf.write(",".join(_csv_cell(t) for t in row) + "\r\n")
        return buf.getvalue().encode()
    if fmt == "tsv":
        buf = io.StringIO()
        buf.write("\t".join("?" + v for v in result.variables) + "\n")
        for row in result.rows:
            buf.write("\t".join(_tsv_term(t) for t in row) + "\n")
        return buf.getvalue().encode()
    if fmt == "xml":
        buf = io.StringIO()
        buf.write('<?xml version="1.0"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#"><head>')
        for v in result.variables:
            buf.write(f"<variable name={quoteattr(v)}/>")
        buf.write("</head><results>")
        for row in result.rows:
            buf.write("<result>")
            for v, t in zip(result.variables, row, strict=True):
                if t is None:
                    continue
                buf.write(f"<binding name={quoteattr(v)}>")
                if isinstance(t, ox.NamedNode):
                    buf.write(f"<uri>{xml_escape(t.value)}</uri>")
                elif isinstance(t, ox.BlankNode):
                    buf.write(f"<bnode>{xml_escape(t.value)}</bnode>")
                else:
                    attr = ""
                    if t.language:
                        attr = f" xml:lang={quoteattr(t.language)}"
                    elif t.datatype.value != XSD_STRING:
                        attr = f" datatype={quoteattr(t.datatype.value)}"
                    buf.write(f"<literal{attr}>{xml_escape(t.value)}</literal>")
                buf.write("</binding>")
            buf.write("</result>")
        buf.write("</results></sparql>\n")
        return buf.getvalue().encode()
    raise ValueError(f"unknown result format {fmt!r}")


def serialize_triples(triples: Iterable[ox.Triple], fmt: str) -> bytes:
    _media, rdf_format = GRAPH_FORMATS[fmt]
    items: Iterable[Any] = triples
    if rdf_format.supports_datasets:
        items = (ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph()) for t in triples)
    kwargs: dict[str, Any] = {"format": rdf_format}
    if rdf_format in (ox.RdfFormat.TURTLE, ox.RdfFormat.TRIG, ox.RdfFormat.RDF_XML):
        kwargs["prefixes"] = PREFIXES
    return ox.serialize(items, **kwargs) or b""


def fit_format(kind: str, fmt: str) -> str:
    """fmt if it suits the result kind; else the default (Turtle for graphs, SPARQL JSON for bindings/boolean)."""
    if kind == "graph":
        return fmt if fmt in GRAPH_FORMATS else "turtle"
    return fmt if fmt in RESULT_FORMATS else "json"


def serialize(result: Result, fmt: str) -> bytes:
    if result.kind == "graph":
        return serialize_triples(result.triples, fmt)
    return serialize_bindings(result, fmt)
