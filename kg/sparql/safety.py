"""Safety checks on query text before any parser sees it: size, nesting depth, SERVICE, updates, the query form.

The checks read the query with a tokenizer for the SPARQL 1.1 terminals exactly as the grammar defines them (section
19.8 of the Query Language; see kg.sparql.prologue), so nothing the engine reads as part of the query can hide from
them in what the scan takes for a comment, a string or an IRI. Where the engine's reading differs from a plain
tokenizer the scan follows the engine:

- pyoxigraph's parser matches keywords without a word boundary (``SERVICESILENT``, ``FILTERregex``, ``SERVICE:`` with
  a default prefix are all read as keywords), so any bare word or prefix name containing SERVICE is refused;
- inside an expression, ``<`` after a value is the less-than operator even where ``<...>`` would be an IRIREF
  (``FILTER(1<2)SERVICE?s#>``); such an ambiguous ``<...>`` is refused when the two readings could differ (when its
  text holds a comment or string start, a bracket or SERVICE);
- unary ``!`` nests in the parser like a bracket, and counts toward the nesting depth.

Text the tokenizer cannot read (a character outside every terminal: a Unicode space, a stray backslash, an
unterminated string) is refused as malformed. The scan does not recurse: pyoxigraph's parser crashes the process on
a few thousand nested groups; we reject far earlier.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, NamedTuple

from ..errors import QueryRejected, QuerySyntaxError
from .prologue import COMMENT, ECHAR, FORMS, IRIREF, PN_CHARS, PN_CHARS_U, PN_LOCAL, PN_PREFIX, UCHAR, VARNAME, WS_CHARS

if TYPE_CHECKING:
    from .lookup import Lookup


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 20_000
    max_depth: int = 64
    max_rows: int = 10_000
    timeout: float = 10.0


UPDATE_KEYWORDS = ("INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY", "WITH")
_ESC = f"{ECHAR}|{UCHAR}"
_TOKEN_PATTERN = "|".join(
    [
        f"(?P<ws>[{WS_CHARS}]+)",
        f"(?P<comment>{COMMENT})",
        "(?P<string>"
        + "|".join(
            [
                f"'''(?:(?:'|'')?(?:[^'\\\\]|{_ESC}))*'''",
                f'"""(?:(?:"|"")?(?:[^"\\\\]|{_ESC}))*"""',
                f"'(?:[^'\\\\\\n\\r]|{_ESC})*'",
                f'"(?:[^"\\\\\\n\\r]|{_ESC})*"',
            ]
        )
        + ")",
        f"(?P<iri>{IRIREF})",
        f"(?P<var>[?$]{VARNAME})",
        f"(?P<blank>_:[{PN_CHARS_U}0-9](?:[{PN_CHARS}.]*[{PN_CHARS}])?)",
        f"(?P<pname>(?:{PN_PREFIX})?:(?:{PN_LOCAL})?)",
        "(?P<word>[A-Za-z][A-Za-z0-9_]*)",
        "(?P<langtag>@[a-zA-Z]+(?:-[a-zA-Z0-9]+)*)",
        "(?P<number>(?:[0-9]+\\.[0-9]*|\\.[0-9]+|[0-9]+)[eE][+-]?[0-9]+|[0-9]*\\.[0-9]+|[0-9]+)",
        "(?P<open>[{(\\[])",
        "(?P<close>[})\\]])",
        "(?P<op>\\^\\^|&&|\\|\\||!=|<=|>=|[.,;*/|^!?=<>+\\-])",
    ]
)


@lru_cache(maxsize=1)
def _token() -> re.Pattern[str]:
    """The tokenizer, compiled at first use (its Unicode classes take tens of milliseconds: not at every start-up)."""
    return re.compile(_TOKEN_PATTERN)


_OPERAND_END = {"var", "string", "iri", "pname", "word", "langtag", "number", "blank", "close"}
_AMBIGUOUS_HAZARD = re.compile(r"[#'()\[\]]|service", re.IGNORECASE)


class Token(NamedTuple):
    kind: str  # ws comment string iri var blank pname word langtag number open close op
    text: str
    start: int


def _where(query: str, pos: int) -> str:
    line = query.count("\n", 0, pos) + query.count("\r", 0, pos) - query.count("\r\n", 0, pos) + 1
    column = pos - max(query.rfind("\n", 0, pos), query.rfind("\r", 0, pos))
    return f"line {line}, column {column}"


def tokens(query: str) -> Iterator[Token]:
    """The query's significant tokens (whitespace and comments skipped), read as the engine reads them.

    Raises QuerySyntaxError where the text is not a sequence of SPARQL terminals, and QueryRejected for an ambiguous
    ``<`` whose two readings could differ (see the module docstring).
    """
    pos, n = 0, len(query)
    stack: list[str] = []  # open brackets: "{" group, "data" a VALUES block, "(" expression or list, "row", "["
    previous: Token | None = None
    values_pending = False
    match = _token().match
    while pos < n:
        m = match(query, pos)
        if m is None:
            char = query[pos]
            raise QuerySyntaxError(f"unexpected character {char!r} (U+{ord(char):04X}) at {_where(query, pos)}")
        kind = m.lastgroup
        assert kind is not None
        end = m.end()
        if kind in ("ws", "comment"):
            pos = end
            continue
        text = m.group()
        if kind == "iri" and stack and stack[-1] == "(" and previous is not None and previous.kind in _OPERAND_END:
            # inside an expression '<' after a value is less-than: read as code, this text must mean the same
            if _AMBIGUOUS_HAZARD.search(text, 1, len(text) - 1):
                raise QueryRejected(
                    f"ambiguous '<' at {_where(query, pos)}: after a value inside parentheses it may be a comparison; "
                    "put a space after '<' for less-than, or write the IRI as a prefixed name"
                )
        if kind == "open":
            if text == "{":
                stack.append("data" if values_pending else "{")
                values_pending = False
            elif text == "(":
                stack.append("row" if stack and stack[-1] == "data" else "(")
            else:
                stack.append("[")
        elif kind == "close":
            if stack:
                stack.pop()
        elif kind == "word" and text.upper() == "VALUES":
            values_pending = True
        token = Token(kind, text, pos)
        yield token
        previous = token
        pos = end


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
    from .lookup import bounded_lookup  # the recognizer builds on these checks' types

    info = bounded_lookup(query, limits)
    return info if info is not None else _analyze(query, limits)


def _service(text: str) -> bool:
    return "SERVICE" in text.upper()


_CODEPOINT = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")


def _expand_codepoints(query: str) -> str:
    """The query with \\u/\\U escapes replaced by their characters, as the SPARQL specification reads them (19.2)."""

    def char(m: re.Match[str]) -> str:
        code = int(m[1] or m[2], 16)
        return chr(code) if code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else "\ufffd"

    return _CODEPOINT.sub(char, query)


@lru_cache(maxsize=4096)
def _analyze(query: str, limits: Limits) -> QueryInfo:
    size = len(query.encode("utf-8"))
    if size > limits.max_bytes:
        raise QueryRejected(f"query is {size} bytes; the limit is {limits.max_bytes} bytes", status=413)
    info = _scan(query, limits)
    if "\\u" in query or "\\U" in query:
        # pyoxigraph reads \\u escapes in strings and IRIs only; the specification reads them everywhere first.
        # Whatever the specification's reading hides or reveals is checked as well (a query refused by either is refused).
        try:
            _scan(_expand_codepoints(query), limits)
        except QuerySyntaxError:
            pass
    return info


def _scan(query: str, limits: Limits) -> QueryInfo:
    depth = max_depth = negations = 0
    form: str | None = None
    for token in tokens(query):
        kind, text = token.kind, token.text
        if kind == "op" and text == "!":
            negations += 1  # !!!x nests like brackets in the parser
        else:
            negations = 0
        if kind == "open":
            depth += 1
        elif kind == "close":
            depth = max(0, depth - 1)
        elif kind in ("word", "pname") and _service(text.partition(":")[0]):
            raise QueryRejected(f"SERVICE (federated query) is not allowed on this endpoint ({_where(query, token.start)})")
        elif kind == "word" and form is None:
            word = text.upper()
            update = next((k for k in UPDATE_KEYWORDS if word.startswith(k)), None)
            if update is not None and not word.startswith(tuple(FORMS)):
                raise QueryRejected(f"this endpoint is read-only: SPARQL Update ({update}) is refused")
            form = next((f for f in FORMS if word.startswith(f)), None)
        if depth + negations > limits.max_depth:
            raise QueryRejected(f"query nests groups deeper than {limits.max_depth} levels ({_where(query, token.start)})")
        max_depth = max(max_depth, depth + negations)
    if form is None:
        raise QuerySyntaxError("no SELECT, ASK, CONSTRUCT or DESCRIBE query form found")
    return QueryInfo(form, max_depth)


def select_star_order(query: str) -> list[str] | None:
    """For SELECT *, the variables in order of first appearance (pyoxigraph sorts them); else None."""
    if "*" not in query:
        return None
    try:
        toks = [(t.kind, t.text) for t in tokens(query)]
    except (QuerySyntaxError, QueryRejected):
        return None
    for i, (kind, text) in enumerate(toks):
        if kind == "word" and text.upper() == "SELECT":
            rest = [t for t in toks[i + 1 : i + 4] if not (t[0] == "word" and t[1].upper() in ("DISTINCT", "REDUCED"))]
            if rest and rest[0][1] == "*":
                order: list[str] = []
                for k, t in toks[i + 1 :]:
                    if k == "var" and t[1:] not in order:
                        order.append(t[1:])
                return order
            return None
    return None
