"""A remote SPARQL 1.1 server as the store: Query, Update and Graph Store protocols over HTTP.

Endpoints are derived from the query URL for the common servers and can be set explicitly:

* Oxigraph server: ``http://host:7878/query`` -> update ``/update``, graph store ``/store``
* Apache Jena Fuseki: ``http://host:3030/ds/sparql`` (or ``/ds/query``) -> ``/ds/update``, ``/ds/data``
* Virtuoso (recognized by its ``Server`` header, or ``PSK_REMOTE_DIALECT=virtuoso``): ``http://host:8890/sparql`` ->
  update ``/sparql-auth``, graph store ``/sparql-graph-crud-auth``, with HTTP digest authentication as
  ``PSK_REMOTE_USER`` / ``PSK_REMOTE_PASSWORD``
* anything else: set ``PSK_REMOTE_UPDATE`` and ``PSK_REMOTE_GSP``.

What differs between servers is in kg.dialect. Writes are atomic as readers see them: everything is uploaded
into staging graphs first and switched in by one SPARQL Update request (one transaction on the server), so a
load or build that dies at any point before the switch leaves the remote as it was; leftover staging graphs
are dropped by the next write.
"""

from __future__ import annotations

import datetime as dt
import re
import tempfile
import time
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

import pyoxigraph as ox
import requests
from requests.auth import HTTPDigestAuth

from .config import Settings
from .cube import statistics_graph, write_cube
from .dialect import NO_GRAPH, STAGING, Dialect, detect, with_prologue
from .errors import KGError, QuerySyntaxError, QueryTimeout, RemoteError, StoreUnavailable
from .namespaces import PREFIXES, PSK, Base
from .sparql import Limits, Result, analyze
from .tables import Exporter, Table, ensure_table, export_local, export_rows

Bindings = dict[str, ox.NamedNode | ox.Literal]
REPLACED = ox.NamedNode("urn:psk:replaced")  # in a staging graph: a subject whose earlier statements the load replaces
CHUNK_BYTES = 16 << 20  # upload requests of at most about this size
_TAIL_LIMIT = re.compile(r"\b(LIMIT|OFFSET)\s+\d+\s*$", re.IGNORECASE)


def _endpoints(
    url: str, dialect: Dialect, authenticated: bool, update: str | None = None, gsp: str | None = None
) -> tuple[str, str | None, str | None]:
    root, _, last = url.rstrip("/").rpartition("/")
    bare = "/" not in url.split("//", 1)[-1].rstrip("/")
    if dialect.name == "virtuoso":
        if bare:
            root, url = url.rstrip("/"), url.rstrip("/") + "/sparql"
        auth = "-auth" if authenticated else ""
        return url, update or f"{root}/sparql{auth}", gsp or f"{root}/sparql-graph-crud{auth}"
    if last == "query" and not update:
        update, gsp = update or f"{root}/update", gsp or f"{root}/store"
    elif last == "sparql" and not update:
        update, gsp = update or f"{root}/update", gsp or f"{root}/data"
    elif bare:
        # a bare server root such as http://127.0.0.1:7878: Oxigraph's layout
        base = url.rstrip("/")
        return f"{base}/query", update or f"{base}/update", gsp or f"{base}/store"
    return url, update, gsp


VIRTRDF_GEOMETRY = "http://www.openlinksw.com/schemas/virtrdf#Geometry"
WKT = ox.NamedNode("http://www.opengis.net/ont/geosparql#wktLiteral")
XSD_BOOLEAN = "http://www.w3.org/2001/XMLSchema#boolean"


def _term(b: dict[str, str]) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    kind = b["type"]
    if kind == "uri":
        return ox.NamedNode(b["value"])
    if kind == "bnode":
        return ox.BlankNode(re.sub(r"[^A-Za-z0-9_]", "_", b["value"]))
    if "xml:lang" in b:
        return ox.Literal(b["value"], language=b["xml:lang"])
    if "datatype" in b:
        return _literal(b["value"], b["datatype"])
    return ox.Literal(b["value"])


def _literal(value: str, datatype: str) -> ox.Literal:
    """A typed literal as the server gave it, in the canonical form the embedded store keeps."""
    if datatype == VIRTRDF_GEOMETRY:
        # Virtuoso turns geo:wktLiteral into its own geometry type (upstream issues #803, #808): give it back
        return ox.Literal(value, datatype=WKT)
    if datatype == XSD_BOOLEAN and value in ("0", "1"):
        # Virtuoso answers xsd:boolean as 0/1
        return ox.Literal("true" if value == "1" else "false", datatype=ox.NamedNode(datatype))
    return ox.Literal(value, datatype=ox.NamedNode(datatype))


def _wkt(t: ox.Triple) -> ox.Triple:
    o = t.object
    if isinstance(o, ox.Literal) and o.datatype.value in (VIRTRDF_GEOMETRY, XSD_BOOLEAN):
        return ox.Triple(t.subject, t.predicate, _literal(o.value, o.datatype.value))
    return t


def _has_blank_nodes(ntriples: Path) -> bool:
    with open(ntriples, "rb") as fh:
        return any(line.startswith(b"_:") or b" _:" in line for line in fh)


def bind_values(query: str, bindings: Bindings) -> str:
    """Bind variables for a server without SEP-0007 substitution: a VALUES block opening the WHERE group.

    Terms are serialized by pyoxigraph (N-Triples syntax), never formatted from raw strings.
    """
    if not bindings:
        return query
    names = list(bindings)
    block = "VALUES (" + " ".join("?" + n for n in names) + ") { (" + " ".join(str(bindings[n]) for n in names) + ") }"
    # in every WHERE group, sub-queries included: a bound variable stands for its value everywhere (as in SEP-0007)
    parts = re.split(r"(\bWHERE\s*\{)", query, flags=re.IGNORECASE)
    if len(parts) == 1:
        raise KGError("a bound query needs an explicit WHERE { ... } group")
    return "".join(p + "\n  " + block + "\n" if i % 2 else p for i, p in enumerate(parts))


def _write_statistics(base: Base, mem: ox.Store, export: Exporter) -> None:
    """The statistics graph and its VoID statements into mem, from the incident table export gives."""
    with tempfile.TemporaryDirectory(prefix="psk-table-") as directory:
        table = Table(ensure_table(Path(directory), export))
        try:
            write_cube(base, mem, table)
        finally:
            table.close()


def _prologue() -> str:
    return "".join(f"PREFIX {p}: <{iri}>\n" for p, iri in PREFIXES.items())


def _message(resp: requests.Response) -> str:
    """The server's error text without the query it echoes back (Virtuoso appends it after 'SPARQL query:')."""
    text = resp.text.strip()
    return text.split("\n\nSPARQL query:", 1)[0].strip()[:500]


class RemoteStore:
    def __init__(
        self,
        url: str,
        base: Base | None = None,
        timeout: float = 60.0,
        update: str | None = None,
        gsp: str | None = None,
        settings: Settings | None = None,
    ) -> None:
        self.url = url
        self.base = base or Base()
        self.timeout = timeout
        self.http = requests.Session()
        self.settings = settings or Settings()
        self._explicit = (update or self.settings.remote_update, gsp or self.settings.remote_gsp)
        user = self.settings.remote_user
        self.auth = HTTPDigestAuth(user, self.settings.remote_password or "") if user else None
        self._dialect: Dialect | None = None
        self.query_url: str = url
        self.update_url: str | None = None
        self.gsp_url: str | None = None
        self._graphs: tuple[str, list[str]] | None = None  # (dataset version, the app's named graphs)
        self._graphs_checked = 0.0  # when the version was last compared (time.monotonic)

    @classmethod
    def from_settings(cls, settings: Settings, url: str | None = None) -> RemoteStore:
        """The remote store of the settings (or at url), with their endpoints, credentials, dialect and base."""
        target = url or settings.remote
        if not target:
            raise KGError("no remote store configured (PSK_REMOTE or --store URL)")
        return cls(target, settings.iris, settings=settings)

    # -- which server ----------------------------------------------------------------------------
    @property
    def dialect(self) -> Dialect:
        if self._dialect is None:
            try:
                server = self.http.get(self.url, timeout=min(self.timeout, 10)).headers.get("Server", "")
            except requests.RequestException:
                raise StoreUnavailable("the remote store is unreachable") from None
            s = self.settings
            dialect = detect(server, s.remote_dialect, s.remote_default_graph, s.remote_max_rows)
            self.query_url, self.update_url, self.gsp_url = _endpoints(self.url, dialect, self.auth is not None, *self._explicit)
            self._dialect = dialect
        return self._dialect

    def _target(self, graph: ox.NamedNode | ox.DefaultGraph) -> str | None:
        """The IRI under which the app's graph is kept on this server (None: the server's default graph)."""
        if isinstance(graph, ox.NamedNode):
            return graph.value
        return self.dialect.default_graph

    def app_graphs(self) -> list[str]:
        """The app's named graphs on a server that holds others too (Virtuoso): the claim graphs its default graph
        names (psk:assertionGraph) and the statistics graph; a build writes no other (replace_all checks). Read from
        the default graph, not by listing the server's graphs, which reads every quad (10-13 s on Virtuoso at
        100 000 incidents); kept for the dataset version they were read at, checked at most once a second."""
        now = time.monotonic()
        if self._graphs is not None and now - self._graphs_checked < 1.0:
            return self._graphs[1]
        version = self.version()
        self._graphs_checked = now
        if self._graphs is None or self._graphs[0] != version:
            default = self.dialect.default_graph
            in_default = [] if default is None else [("default-graph-uri", default), ("named-graph-uri", NO_GRAPH)]
            claims = self.execute(
                "SELECT DISTINCT ?g WHERE { ?claim psk:assertionGraph ?g FILTER(isIRI(?g)) }",
                max_rows=1_000_000,
                dataset=in_default,
                complete=True,
            )
            graphs = {r[0].value for r in claims.rows if r[0] is not None}
            statistics = statistics_graph(self.base)
            if self.execute("ASK WHERE { GRAPH ?g { ?s ?p ?o } }", max_rows=1, bindings={"g": statistics},
                            dataset=[("named-graph-uri", statistics.value)]).boolean:  # fmt: skip
                graphs.add(statistics.value)
            self._graphs = (version, sorted(graphs - {default}))
        return self._graphs[1]

    # -- query ------------------------------------------------------------------------------------
    def _post_query(self, text: str, accept: str, timeout: float, params: list[tuple[str, str]]) -> requests.Response:
        dialect = self.dialect
        data = [("query", text), *dialect.query_params(timeout), *params]
        for attempt in (1, 2):
            try:
                # a little longer than the limit, so a server that stops its own work can say so
                resp = self.http.post(self.query_url, data=data, headers={"Accept": accept}, timeout=timeout + 2, stream=True)
                break
            except requests.Timeout:
                raise QueryTimeout(f"query exceeded the time limit of {timeout:g} s (the remote store did not answer)") from None
            except requests.ConnectionError:
                # once more on a fresh connection (a restarted server closed the pooled one); queries are safe to repeat
                if attempt == 2:
                    raise StoreUnavailable("the remote store is unreachable") from None
            except requests.RequestException:
                raise StoreUnavailable("the remote store is unreachable") from None
        if resp.status_code >= 300:
            message = _message(resp)
            if dialect.is_timeout(resp.status_code, message):
                raise QueryTimeout(f"query exceeded the time limit of {timeout:g} s")
            if resp.status_code == 400:
                raise QuerySyntaxError(message[:2000])
            if resp.status_code in (502, 503, 504):
                raise StoreUnavailable(f"the remote store is unavailable (HTTP {resp.status_code})")
            raise RemoteError(f"remote store answered {resp.status_code}: {message}")
        dialect.check(resp, timeout)
        return resp

    def execute(
        self,
        query: str,
        *,
        max_rows: int,
        timeout: float | None = None,
        default_graph: list[str] | None = None,
        named_graphs: list[str] | None = None,
        bindings: Bindings | None = None,
        base_iri: str | None = None,
        dataset: list[tuple[str, str]] | None = None,
        complete: bool = False,
    ) -> Result:
        """Run a query. `complete`: read past the server's own row cap in pages (the app's page queries)."""
        info = analyze(query, Limits(max_bytes=10_000_000, max_depth=256))
        if bindings:
            query = bind_values(query, bindings)
        dialect = self.dialect
        if dataset is None:
            explicit = bool(default_graph or named_graphs)
            graphs = self.app_graphs() if dialect.restricts_named_graphs() and not explicit else []
            dataset = dialect.dataset(default_graph, named_graphs, graphs)
        t = timeout or self.timeout
        if info.form in ("SELECT", "ASK"):
            text = with_prologue(query, _prologue(), base_iri)
            resp = self._post_query(text, "application/sparql-results+json", t, dataset)
            data = resp.json()
            if "boolean" in data:
                return Result("boolean", boolean=bool(data["boolean"]))
            variables = data["head"]["vars"]
            bindings_ = data["results"]["bindings"]
            capped = dialect.capped(resp, len(bindings_), graph=False)
            rows = [[_term(b[v]) if v in b else None for v in variables] for b in bindings_[: max_rows + 1]]
            page = len(bindings_)
            while capped and complete and len(rows) <= max_rows and page and not _TAIL_LIMIT.search(query.strip()):
                # the query as a sub-query, paged outside it: Virtuoso refuses an ORDER BY whose OFFSET + LIMIT passes
                # its sort limit (SR353) but sorts a sub-query whole; the sub-query keeps its order
                paged = f"SELECT * WHERE {{\n{{\n{query}\n}}\n}}\nLIMIT {page} OFFSET {len(rows)}"
                resp = self._post_query(
                    with_prologue(paged, _prologue(), base_iri), "application/sparql-results+json", t, dataset
                )
                more = resp.json()["results"]["bindings"]
                capped = dialect.capped(resp, len(more), graph=False)
                rows.extend([_term(b[v]) if v in b else None for v in variables] for b in more)
                if not more:
                    break
            truncated = capped or len(rows) > max_rows
            return Result("bindings", variables=variables, rows=rows[:max_rows], truncated=truncated)
        text = with_prologue(query, _prologue(), base_iri)
        resp = self._post_query(text, "application/n-triples", t, dataset)
        triples = [_wkt(t) for t in ox.parse(resp.content, format=ox.RdfFormat.N_TRIPLES)]
        truncated = dialect.capped(resp, len(triples), graph=True) or len(triples) > max_rows
        return Result("graph", triples=triples[:max_rows], truncated=truncated)

    def version(self) -> str:
        default = self.dialect.default_graph
        res = self.execute(
            "SELECT ?m WHERE { ?ds dcterms:modified ?m } ORDER BY DESC(?m) LIMIT 1",
            max_rows=1,
            bindings={"ds": ox.NamedNode(self.base.dataset)},
            dataset=[] if default is None else [("default-graph-uri", default), ("named-graph-uri", NO_GRAPH)],
        )
        return res.rows[0][0].value if res.rows else "empty"

    def health(self) -> dict[str, Any]:
        """The remote store's state for /healthz: reachable or not, its dialect and dataset version."""
        try:
            return {"state": "up", "dialect": self.dialect.name, "version": self.version()}
        except StoreUnavailable as exc:
            return {"state": "down", "error": str(exc)}
        except KGError as exc:
            return {"state": "failing", "error": str(exc)[:300]}

    # -- update -----------------------------------------------------------------------------------
    def update(self, text: str) -> None:
        self.dialect  # noqa: B018 - resolves the endpoints
        if not self.update_url:
            raise RemoteError("no SPARQL Update endpoint known for this store; set PSK_REMOTE_UPDATE")
        try:
            resp = self.http.post(self.update_url, data={"update": _prologue() + text}, timeout=None, auth=self.auth)
        except requests.RequestException:
            raise StoreUnavailable("the remote store is unreachable (update not applied)") from None
        if resp.status_code >= 300:
            message = _message(resp)
            if "SR325" in message:
                message += " (one update switches a load in: raise TransactionAfterImageLimit in virtuoso.ini)"
            raise RemoteError(f"update failed with {resp.status_code}: {message}")

    def _gsp(self, method: str, graph: str | None, body: bytes | IO[bytes], media: str) -> None:
        self.dialect  # noqa: B018 - resolves the endpoints
        if not self.gsp_url:
            raise RemoteError("no Graph Store Protocol endpoint known for this store; set PSK_REMOTE_GSP")
        params = {"graph": graph} if graph else {"default": ""}
        try:
            resp = self.http.request(
                method, self.gsp_url, params=params, data=body, headers={"Content-Type": media}, timeout=None, auth=self.auth
            )
        except requests.RequestException:
            raise StoreUnavailable("the remote store went away during the upload (nothing was switched in)") from None
        if resp.status_code >= 300:
            raise RemoteError(f"graph store {method} failed with {resp.status_code}: {_message(resp)}")

    def _upload(self, graph: str, ntriples: Path) -> None:
        """An N-Triples file into a (fresh) staging graph: in chunks of whole lines, so that no single request is
        huge (Virtuoso stalls on a body of hundreds of MB); one request when the file has blank nodes (their labels
        are scoped to one document)."""
        chunk = CHUNK_BYTES
        if ntriples.stat().st_size == 0:
            # requests sends an empty file object chunked, and Virtuoso then misreads the next request on that
            # connection (501): an empty body instead
            self._gsp("PUT", graph, b"", "application/n-triples")
            return
        if ntriples.stat().st_size <= chunk or _has_blank_nodes(ntriples):
            with open(ntriples, "rb") as fh:
                self._gsp("PUT", graph, fh, "application/n-triples")
            return
        with open(ntriples, "rb") as fh:
            method = "PUT"
            while block := fh.read(chunk):
                block += fh.readline()  # to the end of the line
                self._gsp(method, graph, block, "application/n-triples")
                method = "POST"

    def _graph_list(self, staging: bool) -> list[str]:
        """Named graphs as the server holds them (unrestricted): staging graphs, or the app's others. On a server
        that holds graphs of its own too (Virtuoso), the app's are every graph under the base IRI, also those no
        claim names any more (an orphan is invisible to readers, app_graphs, but would stay on the server). This
        lists every quad: for writes only."""
        if staging:
            cond, prefix = "STRSTARTS(STR(?g), ?prefix)", STAGING
        elif self.dialect.restricts_named_graphs():
            cond, prefix = "STRSTARTS(STR(?g), ?prefix)", self.base.base
        else:
            cond, prefix = "!STRSTARTS(STR(?g), ?prefix)", STAGING
        res = self.execute(
            f"SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ ?s ?p ?o }} FILTER({cond}) }}",
            max_rows=1_000_000,
            bindings={"prefix": ox.Literal(prefix)},
            dataset=[],
            complete=True,
        )
        default = self.dialect.default_graph
        return sorted(r[0].value for r in res.rows if r[0] is not None and r[0].value != default)

    def app_graphs_fresh(self) -> list[str]:
        self._graphs = None
        return self.app_graphs()

    def _begin(self) -> str:
        """Drop staging graphs left by writes that died before their switch (one update, sent even when there are
        none: it checks, before anything is uploaded, that we may write); a fresh staging prefix."""
        leftovers = self._graph_list(staging=True) or [f"{STAGING}none"]
        self.update(" ;\n".join(f"DROP SILENT GRAPH <{g}>" for g in leftovers))
        return f"{STAGING}{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}:"

    def replace_all(self, quads: list[ox.Quad], base: Base, progress: Any = None) -> None:
        """Replace the app's whole dataset with quads (plus a fresh VoID description), atomically for readers."""
        from .void import refresh_void

        mem = ox.Store()
        mem.extend(quads)
        claims = {q.object for q in mem.quads_for_pattern(None, ox.NamedNode(PSK + "assertionGraph"), None, ox.DefaultGraph())}
        for named in mem.named_graphs():
            if named not in claims and named != statistics_graph(base):
                # a reader finds the app's graphs from the default graph (app_graphs): one it could not find would vanish
                raise RemoteError(f"named graph {named} is neither a claim's psk:assertionGraph nor the statistics graph")
        refresh_void(base, mem)
        say = progress or (lambda _m: None)
        say("generating the statistics graph from the incident table")
        _write_statistics(base, mem, export_local(mem))  # as the embedded build does, in the same switch
        staging = self._begin()
        graphs: list[ox.NamedNode | ox.DefaultGraph] = [ox.DefaultGraph(), *sorted(mem.named_graphs(), key=str)]  # type: ignore[list-item]
        say(f"uploading {len(mem)} quads into {len(graphs)} staging graphs")
        switch: list[str] = []
        for i, g in enumerate(graphs):
            data = ox.serialize(
                (ox.Triple(q.subject, q.predicate, q.object) for q in mem.quads_for_pattern(None, None, None, g)),
                format=ox.RdfFormat.N_TRIPLES,
            )
            stage = f"{staging}{i}"
            self._gsp("PUT", stage, data or b"", "application/n-triples")
            target = self._target(g)
            switch.append(f"MOVE SILENT <{stage}> TO {'DEFAULT' if target is None else f'<{target}>'}")
        new = {g.value for g in graphs if isinstance(g, ox.NamedNode)}
        drop = [f"DROP SILENT GRAPH <{g}>" for g in self._graph_list(staging=False) if g not in new]
        say("switching the new graphs in (one update)")
        self.update(" ;\n".join(drop + switch))
        self._graphs = None

    def replace_subjects_and_load(self, subjects: Iterable[str], ntriples: Path) -> None:
        """Replace earlier statements about the subjects with the N-Triples file and touch the dataset's
        modification time, in one update after everything is uploaded into staging graphs."""
        staging = self._begin()
        marks = ox.serialize(
            (ox.Triple(ox.NamedNode(s), REPLACED, REPLACED) for s in sorted(subjects)), format=ox.RdfFormat.N_TRIPLES
        )
        self._gsp("PUT", f"{staging}subjects", marks or b"", "application/n-triples")
        self._upload(f"{staging}data", ntriples)
        target = self.dialect.default_graph
        into = "DEFAULT" if target is None else f"<{target}>"
        where = "?s ?p ?o" if target is None else f"GRAPH <{target}> {{ ?s ?p ?o }}"
        now = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
        ds = f"<{self.base.dataset}>"
        modified = f"{ds} dcterms:modified ?m" if target is None else f"GRAPH <{target}> {{ {ds} dcterms:modified ?m }}"
        stamp = f'{ds} dcterms:modified "{now}"^^xsd:dateTime'
        self.update(
            " ;\n".join(
                [
                    f"DELETE {{ {where} }} WHERE {{ GRAPH <{staging}subjects> {{ ?s <{REPLACED.value}> ?x }} {where} }}",
                    f"ADD SILENT <{staging}data> TO {into}",
                    f"DROP SILENT GRAPH <{staging}data>",
                    f"DROP SILENT GRAPH <{staging}subjects>",
                    f"DELETE WHERE {{ {modified} }}",
                    f"INSERT DATA {{ {stamp if target is None else f'GRAPH <{target}> {{ {stamp} }}'} }}",
                ]
            )
        )
        # the statistics graph and the counts follow (they are computed on the switched-in data)
        self.publish_statistics()

    def publish_statistics(self) -> None:
        """The statistics graph (kg/cube.py) generated from the incident table read from the server, uploaded into
        a staging graph and switched in; then VoID recounted, with the graph named as on the embedded store."""

        def select(query: str) -> Result:
            return self.execute(query, max_rows=1 << 40, timeout=max(self.timeout, 600.0), complete=True)

        mem = ox.Store()
        _write_statistics(self.base, mem, export_rows(select))
        g = statistics_graph(self.base)
        staging = self._begin()
        with tempfile.TemporaryDirectory(prefix="psk-statistics-") as tmp:
            path = Path(tmp) / "statistics.nt"
            ox.serialize(
                (ox.Triple(q.subject, q.predicate, q.object) for q in mem.quads_for_pattern(None, None, None, g)),
                str(path),
                format=ox.RdfFormat.N_TRIPLES,
            )
            self._upload(f"{staging}statistics", path)  # in chunks: at 100 000 incidents one body stalled Virtuoso
        self.update(f"MOVE SILENT <{staging}statistics> TO <{self._target(g)}>")
        self._graphs = None
        self.refresh_void(
            extra=[
                ox.Triple(q.subject, q.predicate, q.object) for q in mem.quads_for_pattern(None, None, None, ox.DefaultGraph())
            ]
        )

    def refresh_void(self, extra: Iterable[ox.Triple] = ()) -> None:
        """Recount the VoID description on the server (after a load) and replace it in one update (with extra
        statements about the dataset: the statistics graph's name and observations).

        The counts are those VoidStats.scan gives on the embedded store: the description itself not counted."""
        from .void import VoidStats, void_quads

        ds: Bindings = {"ds": ox.NamedNode(self.base.dataset)}
        outside = "FILTER(?s != ?ds) FILTER NOT EXISTS { ?ds void:propertyPartition|void:classPartition ?s }"

        def one(query: str) -> int:
            res = self.execute(query, max_rows=1, bindings=ds, timeout=3600)
            return int(res.rows[0][0].value)

        def distinct(query: str) -> set[str]:
            res = self.execute(query, max_rows=10_000_000, bindings=ds, timeout=3600, complete=True)
            return {r[0].value for r in res.rows if r[0] is not None}

        stats = VoidStats(
            triples=one(f"SELECT (COUNT(*) AS ?n) WHERE {{ ?s ?p ?o {outside} }}"),
            entities=one(f"SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ ?s a ?type {outside} }}"),
            named_graph_triples=one("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"),
            properties=distinct(f"SELECT DISTINCT ?p WHERE {{ ?s ?p ?o {outside} }} ORDER BY ?p"),
            classes=distinct(f"SELECT DISTINCT ?c WHERE {{ ?s a ?c {outside} }} ORDER BY ?c"),
        )
        target = self.dialect.default_graph
        ds_term = str(ds["ds"])

        def in_default(pattern: str) -> str:
            return pattern if target is None else f"GRAPH <{target}> {{ {pattern} }}"

        old = (
            f"{{ BIND({ds_term} AS ?s) ?s ?p ?o }} UNION {{ {ds_term} void:propertyPartition|void:classPartition ?s . ?s ?p ?o }}"
        )
        triples = (
            ox.serialize(
                [*(ox.Triple(q.subject, q.predicate, q.object) for q in void_quads(self.base, stats)), *extra],
                format=ox.RdfFormat.N_TRIPLES,
            )
            or b""
        ).decode("utf-8")
        self.update(
            f"DELETE {{ {in_default('?s ?p ?o')} }} WHERE {{ {in_default(old)} }} ;\nINSERT DATA {{ {in_default(triples)} }}"
        )

    def snapshot_for_reconciliation(self) -> ox.Store:
        """Labels, aliases and types of places and actors, for reconciling names in conflict data."""
        res = self.execute(
            """SELECT ?s ?c ?l ?a ?g ?in ?m ?r
               WHERE { ?s a ?c FILTER(STRSTARTS(STR(?c), STR(psk:)))
                       OPTIONAL { ?s rdfs:label ?l } OPTIONAL { ?s skos:altLabel ?a } OPTIONAL { ?s geo:hasGeometry ?g }
                       OPTIONAL { ?s psk:locatedIn ?in } OPTIONAL { ?s psk:reconciliation ?m . ?m psk:matchRule ?r } }
               ORDER BY ?s ?c ?l ?a ?g ?in ?m ?r""",
            max_rows=10_000_000,
            complete=True,
        )
        mem = ox.Store()
        rdfs_label = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
        alt = ox.NamedNode("http://www.w3.org/2004/02/skos/core#altLabel")
        geom = ox.NamedNode("http://www.opengis.net/ont/geosparql#hasGeometry")
        rdf_type = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
        located_in = ox.NamedNode(PSK + "locatedIn")
        reconciliation = ox.NamedNode(PSK + "reconciliation")
        match_rule = ox.NamedNode(PSK + "matchRule")
        for s, c, label, a, g, parent, m, r in res.rows:
            mem.add(ox.Quad(s, rdf_type, c))
            for p, o in ((rdfs_label, label), (alt, a), (geom, g), (located_in, parent), (reconciliation, m)):
                if o is not None:
                    mem.add(ox.Quad(s, p, o))
            if m is not None and r is not None:
                mem.add(ox.Quad(m, match_rule, r))
        return mem

    # -- dumps ------------------------------------------------------------------------------------
    def stream_dump(self, rdf_format: ox.RdfFormat, dataset: bool) -> Iterator[bytes]:
        if self.dialect.default_graph is not None:
            yield from self._paged_dump(rdf_format, dataset)
            return
        if not self.gsp_url:
            raise RemoteError("no Graph Store Protocol endpoint known for this store; set PSK_REMOTE_GSP")
        params = None if dataset else {"default": ""}
        try:
            resp = self.http.get(
                self.gsp_url, params=params, headers={"Accept": rdf_format.media_type}, stream=True, timeout=None
            )
        except requests.RequestException:
            raise StoreUnavailable("the remote store is unreachable") from None
        if resp.status_code >= 300:
            raise RemoteError(f"graph store GET failed with {resp.status_code}")
        yield from resp.iter_content(1 << 16)

    def _paged_dump(self, rdf_format: ox.RdfFormat, dataset: bool) -> Iterator[bytes]:
        """A server whose graph store reads are capped (Virtuoso): every graph read in pages of its row cap.

        Pages follow one ORDER BY, so they neither overlap nor miss a triple; the version is checked before and after.
        """
        before = self.version()
        graphs: list[str | None] = [None, *(self.app_graphs_fresh() if dataset else [])]
        line_based = rdf_format in (ox.RdfFormat.N_TRIPLES, ox.RdfFormat.N_QUADS)
        mem = ox.Store()
        for g in graphs:
            graph_iri = g or self.dialect.default_graph
            res = self.execute(
                "SELECT ?s ?p ?o WHERE { ?s ?p ?o } ORDER BY ?s ?p ?o",
                max_rows=1 << 40,
                dataset=[("default-graph-uri", graph_iri or ""), ("named-graph-uri", NO_GRAPH)],
                complete=True,
                timeout=3600,
            )
            name: ox.NamedNode | ox.DefaultGraph = ox.NamedNode(g) if g else ox.DefaultGraph()
            quads = [ox.Quad(s, p, o, name) for s, p, o in res.rows]
            if line_based:
                out = (
                    ox.serialize(quads, format=rdf_format)
                    if rdf_format is ox.RdfFormat.N_QUADS
                    else ox.serialize((ox.Triple(q.subject, q.predicate, q.object) for q in quads), format=rdf_format)
                )
                if out:
                    yield out
            else:
                mem.extend(quads)
        if self.version() != before:
            raise RemoteError("the remote store changed while its dump was read; request it again")
        if not line_based:
            out = (
                ox.serialize(mem, format=rdf_format)
                if rdf_format.supports_datasets
                else ox.serialize((ox.Triple(q.subject, q.predicate, q.object) for q in mem), format=rdf_format)
            )
            if out:
                yield out
