"""The query prologue (PREFIX/BASE declarations) and the SPARQL terminals shared by the checks and the lookup recognizer."""

from __future__ import annotations

import re
from functools import lru_cache

from ..namespaces import PREFIXES

FORMS = {"SELECT", "ASK", "CONSTRUCT", "DESCRIBE"}

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
