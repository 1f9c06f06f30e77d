"""SPARQL query safety checks, execution on pyoxigraph's native engine, and result serialization.

The safety checks run on the raw query text before any parser sees it: a lexical scan that skips
strings, IRIs and comments, so it cannot be fooled by keywords inside literals and does not recurse
(pyoxigraph's parser crashes the process on a few thousand nested groups; we reject far earlier).
"""

from __future__ import annotations

import io
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
class QueryInfo:
    form: str
    depth: int


def analyze(query: str, limits: Limits) -> QueryInfo:
    """Check a query against the public-endpoint rules; return its form (SELECT/ASK/...).

    Results are memoized (queries repeat: page loads, dashboards, benchmarks); rejections are not.
    """
    return _analyze(query, limits)


@lru_cache(maxsize=4096)
def _analyze(query: str, limits: Limits) -> QueryInfo:
    size = len(query.encode("utf-8"))
    if size > limits.max_bytes:
        raise QueryRejected(f"query is {size} bytes; the limit is {limits.max_bytes} bytes", status=413)
    depth = max_depth = 0
    form: str | None = None
    for m in _TOKEN.finditer(query):
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
        (m.lastgroup, m.group()) for m in _TOKEN.finditer(query) if m.lastgroup not in ("comment",) and not m.group().isspace()
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
        for sol in res:
            if len(rows) >= max_rows:
                truncated = True
                break
            rows.append([sol[i] for i in order])
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
        bindings = [{v: term_json(t) for v, t in zip(result.variables, row, strict=True) if t is not None} for row in result.rows]
        return json.dumps({"head": {"vars": result.variables}, "results": {"bindings": bindings}}, ensure_ascii=False).encode()
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
