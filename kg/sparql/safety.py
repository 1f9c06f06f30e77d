"""Safety checks on query text before any parser sees it: size, nesting depth, SERVICE, updates, the query form.

The scan is lexical (it skips strings, IRIs and comments, so keywords inside literals do not count) and does not
recurse: pyoxigraph's parser crashes the process on a few thousand nested groups; we reject far earlier.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from ..errors import QueryRejected, QuerySyntaxError
from .prologue import FORMS, prologue_end

if TYPE_CHECKING:
    from .lookup import Lookup


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 20_000
    max_depth: int = 64
    max_rows: int = 10_000
    timeout: float = 10.0


UPDATE_KEYWORDS = {"INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY", "WITH"}
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
    lookup: Lookup | None = None  # set for bounded lookups: see bounded_lookup()


def analyze(query: str, limits: Limits) -> QueryInfo:
    """Check a query against the public-endpoint rules; return its form (SELECT/ASK/...).

    Results are memoized (queries repeat: page loads, dashboards, benchmarks); rejections are not.
    A bounded lookup is recognized by one regular expression and skips the scan.
    """
    from .lookup import bounded_lookup  # the recognizer builds on these checks' types

    info = bounded_lookup(query, limits)
    return info if info is not None else _analyze(query, limits)


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
