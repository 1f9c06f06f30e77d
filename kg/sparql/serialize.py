"""Result serialization: SPARQL JSON/XML/CSV/TSV for bindings, pyoxigraph's serializers for graphs."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterable
from typing import Any
from xml.sax.saxutils import escape as xml_escape
from xml.sax.saxutils import quoteattr

import pyoxigraph as ox

from .. import formats
from ..namespaces import PREFIXES, XSD
from .execute import Result

XSD_STRING = XSD + "string"


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
    return str(term.value)


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
    target = formats.get(fmt)
    items: Iterable[Any] = triples
    if target.dataset:
        items = (ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph()) for t in triples)
    return ox.serialize(items, **target.serialize_kwargs(PREFIXES)) or b""


def serialize(result: Result, fmt: str) -> bytes:
    if result.kind == "graph":
        return serialize_triples(result.triples, fmt)
    return serialize_bindings(result, fmt)
