"""What differs between remote SPARQL servers, in one small place.

Every server gets the same query text apart from these points:

* **Prologue.** ``BASE`` always comes first, then our predeclared ``PREFIX`` block, then the query. SPARQL allows
  BASE and PREFIX in any order; Virtuoso 7 rejects a BASE after a PREFIX (``SP030``), so a query's own leading
  BASE declarations are moved in front of our prefixes.
* **Dataset.** Virtuoso's default graph is the union of every graph it holds, including its own system graphs
  (``virtrdf:``…) and our claim graphs, so the author's opinions would read as facts. Over Virtuoso the app keeps
  its default graph in one named graph (``PSK_REMOTE_DEFAULT_GRAPH``, default ``urn:psk:default``) and every query
  without a dataset of its own is sent with ``default-graph-uri`` = that graph and ``named-graph-uri`` = the app's
  named graphs (those under the base IRI), which gives exactly the embedded store's dataset.
* **Truncation and time limits.** Virtuoso cuts results to its ``ResultSetMaxRows`` with HTTP 200 and only an
  ``X-SPARQL-MaxRows`` header (CONSTRUCT and graph-store reads: no header at all), and answers a query that hits
  its time limit with HTTP 200, a partial result and ``X-SQL-State: S1TAT`` (or HTTP 500 ``S1T00``). The first is
  reported as a truncated result (like our own row cap), the second as our time-limit error, never as an answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import requests

from .errors import QueryTimeout

# A query's leading prologue: whitespace, comments, BASE and PREFIX declarations.
_WS = r"(?:\s|\#[^\n]*\n)*"
_IRI = r"<[^<>\"{}|^`\\\x00-\x20]*>"
_DECL = re.compile(rf"{_WS}(BASE{_WS}{_IRI}|PREFIX{_WS}[A-Za-z0-9_.\-]*:{_WS}{_IRI})", re.IGNORECASE)

STAGING = "urn:psk:staging:"  # prefix of the graphs a load uploads into before it switches them in
NO_GRAPH = "urn:psk:no-named-graph"  # a named-graph-uri that names nothing: the dataset has no named graphs


def split_leading_base(query: str) -> tuple[str, str]:
    """(the query's leading BASE declarations, the rest): BASE declarations before its first PREFIX or query form."""
    pos = 0
    while True:
        m = _DECL.match(query, pos)
        if m is None or not m.group(1).upper().startswith("BASE"):
            return query[:pos], query[pos:]
        pos = m.end()


def has_base(query: str) -> bool:
    pos = 0
    while (m := _DECL.match(query, pos)) is not None:
        if m.group(1).upper().startswith("BASE"):
            return True
        pos = m.end()
    return False


def with_prologue(query: str, prefixes: str, base_iri: str | None = None) -> str:
    """BASE first (the caller's base IRI unless the query has its own), then the prefix block, then the query."""
    bases, rest = split_leading_base(query)
    if base_iri and not has_base(query):
        bases = f"BASE <{base_iri}>\n"
    return (bases.strip() + "\n" if bases.strip() else "") + prefixes + rest


@dataclass
class Dialect:
    """A standard SPARQL 1.1 server (Oxigraph server, Fuseki, QLever)."""

    name: str = "sparql11"
    default_graph: str | None = None  # a named graph standing for the app's default graph; None: the server's own
    max_rows: int | None = None  # the server's own result cap when it has one

    def query_params(self, timeout: float) -> list[tuple[str, str]]:
        return []

    def dataset(
        self, default_graph: list[str] | None, named_graphs: list[str] | None, app_graphs: list[str]
    ) -> list[tuple[str, str]]:
        return [("default-graph-uri", g) for g in default_graph or []] + [("named-graph-uri", g) for g in named_graphs or []]

    def restricts_named_graphs(self) -> bool:
        return False

    def check(self, resp: requests.Response, timeout: float) -> None:
        """Raise if a 200 answer is not a complete one."""

    def is_timeout(self, status: int, text: str) -> bool:
        return status in (503, 504) and "timeout" in text.lower()

    def capped(self, resp: requests.Response, count: int, graph: bool) -> bool:
        """Whether the server cut this result (SELECT rows, or CONSTRUCT triples when `graph`) to its own limit."""
        return False


@dataclass
class Virtuoso(Dialect):
    name: str = "virtuoso"
    default_graph: str | None = "urn:psk:default"
    max_rows: int | None = 10_000

    def query_params(self, timeout: float) -> list[tuple[str, str]]:
        # Virtuoso's own time limit in ms: it stops the work (and flags a partial answer with S1TAT)
        return [("timeout", str(max(1, int(timeout * 1000))))]

    def dataset(
        self, default_graph: list[str] | None, named_graphs: list[str] | None, app_graphs: list[str]
    ) -> list[tuple[str, str]]:
        if default_graph or named_graphs:
            return super().dataset(default_graph, named_graphs, app_graphs)
        assert self.default_graph
        named = app_graphs or [NO_GRAPH]
        return [("default-graph-uri", self.default_graph)] + [("named-graph-uri", g) for g in named]

    def restricts_named_graphs(self) -> bool:
        return True

    def check(self, resp: requests.Response, timeout: float) -> None:
        if resp.headers.get("X-SQL-State", "").upper() == "S1TAT":
            raise QueryTimeout(f"query exceeded the time limit of {timeout:g} s (the remote store returned a partial result)")

    def is_timeout(self, status: int, text: str) -> bool:
        head = text[:300]
        return "S1T00" in head or "SR171" in head or "S1TAT" in head or "estimated execution time" in head

    def capped(self, resp: requests.Response, count: int, graph: bool) -> bool:
        header = resp.headers.get("X-SPARQL-MaxRows", "")
        if header.isdigit():
            self.max_rows = int(header)  # the server's actual cap, for the answers that do not announce it
            return count >= int(header)
        # CONSTRUCT/DESCRIBE answers are cut without a header: a full cap's worth is taken as cut
        return graph and self.max_rows is not None and count >= self.max_rows


def detect(
    server_header: str, name: str | None = None, default_graph: str = "urn:psk:default", max_rows: int = 10_000
) -> Dialect:
    """The dialect named (PSK_REMOTE_DIALECT), else the one the server's `Server` header announces."""
    name = (name or "").lower() or ("virtuoso" if "virtuoso" in server_header.lower() else "sparql11")
    if name == "virtuoso":
        return Virtuoso(default_graph=default_graph, max_rows=max_rows)
    if name in ("sparql11", "generic", "oxigraph", "fuseki", "qlever"):
        return Dialect()
    raise ValueError(f"PSK_REMOTE_DIALECT: unknown dialect {name!r} (virtuoso or sparql11)")
