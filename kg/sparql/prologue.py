"""The query prologue (PREFIX/BASE declarations) and the SPARQL terminals shared by the checks and the lookup recognizer."""

from __future__ import annotations

import re
from functools import lru_cache

from ..namespaces import PREFIXES

FORMS = {"SELECT", "ASK", "CONSTRUCT", "DESCRIBE"}

# The SPARQL 1.1 terminals (SPARQL 1.1 Query Language, section 19.8), exactly: whitespace is only #x20 #x9 #xD #xA,
# a comment ends at CR or LF, IRIREF excludes <>"{}|^`\ and #x00-#x20. \u escapes (UCHAR) are read in strings and
# IRIs, as the engine reads them; anywhere else a backslash is not SPARQL (outside PN_LOCAL_ESC).
WS_CHARS = r"\x20\t\r\n"
PN_CHARS_BASE = (
    "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02ff\u0370-\u037d\u037f-\u1fff\u200c-\u200d\u2070-\u218f"
    "\u2c00-\u2fef\u3001-\ud7ff\uf900-\ufdcf\ufdf0-\ufffd\U00010000-\U000effff"
)
PN_CHARS_U = PN_CHARS_BASE + "_"
PN_CHARS = PN_CHARS_U + "\\-0-9\u00b7\u0300-\u036f\u203f-\u2040"
UCHAR = r"\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8}"
ECHAR = r"\\[tbnrf\\\"']"
PLX = r"%[0-9A-Fa-f]{2}|\\[_~.\-!$&'()*+,;=/?#@%]"
VARNAME = f"[{PN_CHARS_U}0-9][{PN_CHARS_U}0-9\u00b7\u0300-\u036f\u203f-\u2040]*"
PN_PREFIX = f"[{PN_CHARS_BASE}](?:[{PN_CHARS}.]*[{PN_CHARS}])?"
PN_LOCAL = f"(?:[{PN_CHARS_U}:0-9]|{PLX})(?:(?:[{PN_CHARS}.:]|{PLX})*(?:[{PN_CHARS}:]|{PLX}))?"
IRIREF = f'<(?:[^<>"{{}}|^`\\\\\x00-\x20]|{UCHAR})*>'
COMMENT = r"\#[^\r\n]*(?![^\r\n])"  # to the end of the line: a pattern may not end it early and read the rest as code

# The bounded-lookup recognizer's narrower terminals (ASCII names, no escapes): whatever they match, the
# engine reads the same way; anything else takes the general path.
_WS = rf"(?:[{WS_CHARS}]|{COMMENT})*"
_IRIREF = r"<[^<>\"{}|^`\\\x00-\x20]*>"
_PN_PREFIX = r"(?:[A-Za-z](?:[A-Za-z0-9_\-.]*[A-Za-z0-9_\-])?)?"
_PN_LOCAL = r"(?:(?:[A-Za-z0-9_:]|%[0-9A-Fa-f]{2})(?:[A-Za-z0-9_\-.:]|%[0-9A-Fa-f]{2})*)?"
# after a name the next character must not continue it (the engine reads names greedily; the regex must not split one)
_NAME_END = r"(?![A-Za-z0-9_\-:%\u00B7-\U0010FFFF\\])"
_PNAME = _PN_PREFIX + ":" + _PN_LOCAL + _NAME_END
_VAR = r"[?$][A-Za-z0-9_]+" + _NAME_END
_CONST = f"(?:{_IRIREF}|{_PNAME})"
_END = r"(?![A-Za-z0-9_:])"
_LITERAL = (
    r"(?:\"[^\"\\\n\r]*\"|'[^'\\\n\r]*')(?:@[A-Za-z]+(?:-[A-Za-z0-9]+)*(?![A-Za-z0-9\-])|\^\^" + _CONST + ")?"
    rf"|[+-]?[0-9]+(?:\.[0-9]+)?(?![A-Za-z0-9_:]|\.[0-9])|true{_END}|false{_END}"
)
# in a prologue every comment ends with a line break (a query form follows), so a prologue cannot end inside one
_WS_NL = rf"(?:[{WS_CHARS}]|\#[^\r\n]*[\r\n])*"
_PROLOGUE = re.compile(
    rf"{_WS_NL}(?:(?:PREFIX{_WS_NL}{_PN_PREFIX}:{_WS_NL}{_IRIREF}|BASE{_WS_NL}{_IRIREF}){_WS_NL})*", re.IGNORECASE
)
_PROLOGUE_TOKEN = re.compile(
    rf"(?P<iri>{_IRIREF})|\#[^\r\n]*|(?P<kw>PREFIX|BASE)|(?P<ns>{_PN_PREFIX}):|[{WS_CHARS}]+", re.IGNORECASE
)
_ABSOLUTE = re.compile(r"[A-Za-z][A-Za-z0-9+\-.]*:")


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
