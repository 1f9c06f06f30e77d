"""A remote SPARQL 1.1 server as the store: Query, Update and Graph Store protocols over HTTP.

Endpoints are derived from the query URL for the common servers and can be set explicitly:

* Oxigraph server: ``http://host:7878/query`` -> update ``/update``, graph store ``/store``
* Apache Jena Fuseki: ``http://host:3030/ds/sparql`` (or ``/ds/query``) -> ``/ds/update``, ``/ds/data``
* anything else: set ``PSK_REMOTE_UPDATE`` and ``PSK_REMOTE_GSP``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import requests

from .config import Settings
from .errors import KGError, QuerySyntaxError, QueryTimeout, RemoteError
from .namespaces import PREFIXES, Base
from .sparql import Limits, Result, analyze

Bindings = dict[str, ox.NamedNode | ox.Literal]


def _endpoints(url: str, update: str | None = None, gsp: str | None = None) -> tuple[str, str | None, str | None]:
    root, _, last = url.rstrip("/").rpartition("/")
    if last == "query" and not update:
        update, gsp = update or f"{root}/update", gsp or f"{root}/store"
    elif last == "sparql" and not update:
        update, gsp = update or f"{root}/update", gsp or f"{root}/data"
    elif "/" not in url.split("//", 1)[-1].rstrip("/"):
        # a bare server root such as http://127.0.0.1:7878: Oxigraph's layout
        base = url.rstrip("/")
        return f"{base}/query", update or f"{base}/update", gsp or f"{base}/store"
    return url, update, gsp


def _term(b: dict[str, str]) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    kind = b["type"]
    if kind == "uri":
        return ox.NamedNode(b["value"])
    if kind == "bnode":
        return ox.BlankNode(b["value"])
    if "xml:lang" in b:
        return ox.Literal(b["value"], language=b["xml:lang"])
    if "datatype" in b:
        return ox.Literal(b["value"], datatype=ox.NamedNode(b["datatype"]))
    return ox.Literal(b["value"])


def bind_values(query: str, bindings: Bindings) -> str:
    """Bind variables for a server without SEP-0007 substitution: a VALUES block opening the WHERE group.

    Terms are serialized by pyoxigraph (N-Triples syntax), never formatted from raw strings.
    """
    if not bindings:
        return query
    names = list(bindings)
    block = "VALUES (" + " ".join("?" + n for n in names) + ") { (" + " ".join(str(bindings[n]) for n in names) + ") }"
    m = re.search(r"\bWHERE\s*\{", query, flags=re.IGNORECASE)
    if m is None:
        raise KGError("a bound query needs an explicit WHERE { ... } group")
    return query[: m.end()] + "\n  " + block + "\n" + query[m.end() :]


def _prologue() -> str:
    return "".join(f"PREFIX {p}: <{iri}>\n" for p, iri in PREFIXES.items())


class RemoteStore:
    def __init__(
        self, url: str, base: Base | None = None, timeout: float = 60.0, update: str | None = None, gsp: str | None = None
    ) -> None:
        self.query_url, self.update_url, self.gsp_url = _endpoints(url, update, gsp)
        self.base = base or Base()
        self.timeout = timeout
        self.http = requests.Session()

    @classmethod
    def from_settings(cls, settings: Settings, url: str | None = None) -> RemoteStore:
        """The remote store of the settings (or at url), with their update and graph store endpoints and base."""
        target = url or settings.remote
        if not target:
            raise KGError("no remote store configured (PSK_REMOTE or --store URL)")
        return cls(target, settings.iris, update=settings.remote_update, gsp=settings.remote_gsp)

    # -- query ------------------------------------------------------------------------------------
    def _post_query(
        self, query: str, accept: str, timeout: float, extra: list[tuple[str, str]] | None = None
    ) -> requests.Response:
        data = [("query", _prologue() + query), *(extra or [])]
        try:
            resp = self.http.post(self.query_url, data=data, headers={"Accept": accept}, timeout=timeout, stream=True)
        except requests.Timeout:
            raise QueryTimeout(f"the remote store did not answer within {timeout:g} s") from None
        except requests.RequestException as exc:
            raise RemoteError(f"cannot reach the remote store at {self.query_url}: {exc}") from None
        if resp.status_code == 400:
            raise QuerySyntaxError(resp.text.strip()[:2000])
        if resp.status_code >= 300:
            raise RemoteError(f"remote store answered {resp.status_code}: {resp.text.strip()[:500]}")
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
    ) -> Result:
        info = analyze(query, Limits(max_bytes=10_000_000, max_depth=256))
        if base_iri and not re.search(r"^\s*BASE\b", query, flags=re.IGNORECASE | re.MULTILINE):
            query = f"BASE <{base_iri}>\n{query}"
        if bindings:
            query = bind_values(query, bindings)
        extra = [("default-graph-uri", g) for g in default_graph or []] + [("named-graph-uri", g) for g in named_graphs or []]
        t = timeout or self.timeout
        if info.form in ("SELECT", "ASK"):
            resp = self._post_query(query, "application/sparql-results+json", t, extra)
            data = resp.json()
            if "boolean" in data:
                return Result("boolean", boolean=bool(data["boolean"]))
            variables = data["head"]["vars"]
            rows: list[list[Any]] = []
            truncated = False
            for b in data["results"]["bindings"]:
                if len(rows) >= max_rows:
                    truncated = True
                    break
                rows.append([_term(b[v]) if v in b else None for v in variables])
            return Result("bindings", variables=variables, rows=rows, truncated=truncated)
        resp = self._post_query(query, "application/n-triples", t, extra)
        triples: list[ox.Triple] = []
        truncated = False
        for t_ in ox.parse(resp.content, format=ox.RdfFormat.N_TRIPLES):
            if len(triples) >= max_rows:
                truncated = True
                break
            triples.append(t_)
        return Result("graph", triples=triples, truncated=truncated)

    def version(self) -> str:
        res = self.execute(
            "SELECT ?m WHERE { ?ds dcterms:modified ?m }", max_rows=1, bindings={"ds": ox.NamedNode(self.base.dataset)}
        )
        return res.rows[0][0].value if res.rows else "empty"

    # -- update -----------------------------------------------------------------------------------
    def update(self, text: str) -> None:
        if not self.update_url:
            raise RemoteError("no SPARQL Update endpoint known for this store; set PSK_REMOTE_UPDATE")
        resp = self.http.post(self.update_url, data={"update": _prologue() + text}, timeout=self.timeout)
        if resp.status_code >= 300:
            raise RemoteError(f"update failed with {resp.status_code}: {resp.text.strip()[:500]}")

    def _gsp(self, method: str, graph: str | None, body: bytes | Any, media: str) -> None:
        if not self.gsp_url:
            raise RemoteError("no Graph Store Protocol endpoint known for this store; set PSK_REMOTE_GSP")
        params = {"graph": graph} if graph else {"default": ""}
        resp = self.http.request(method, self.gsp_url, params=params, data=body, headers={"Content-Type": media}, timeout=None)
        if resp.status_code >= 300:
            raise RemoteError(f"graph store {method} failed with {resp.status_code}: {resp.text.strip()[:500]}")

    def replace_all(self, quads: list[ox.Quad], base: Base, progress: Any = None) -> None:
        """Replace the whole remote dataset with quads (plus a fresh VoID description)."""
        from .void import refresh_void

        mem = ox.Store()
        mem.extend(quads)
        refresh_void(base, mem)
        say = progress or (lambda _m: None)
        say(f"dropping all graphs at {self.update_url}")
        self.update("DROP ALL")
        default = ox.serialize(
            (ox.Triple(q.subject, q.predicate, q.object) for q in mem.quads_for_pattern(None, None, None, ox.DefaultGraph())),
            format=ox.RdfFormat.N_TRIPLES,
        )
        say(f"uploading {len(mem)} quads to {self.gsp_url}")
        self._gsp("POST", None, default, "application/n-triples")
        for g in mem.named_graphs():
            assert isinstance(g, ox.NamedNode)
            data = ox.serialize(
                (ox.Triple(q.subject, q.predicate, q.object) for q in mem.quads_for_pattern(None, None, None, g)),
                format=ox.RdfFormat.N_TRIPLES,
            )
            self._gsp("PUT", g.value, data, "application/n-triples")

    def replace_subjects_and_load(self, subjects: Iterable[str], ntriples: Path) -> None:
        """Remove earlier statements about the subjects, add the N-Triples file, refresh VoID."""
        batch: list[str] = []
        for s in subjects:
            batch.append(f"<{s}>")
            if len(batch) >= 500:
                self.update(f"DELETE {{ ?s ?p ?o }} WHERE {{ VALUES ?s {{ {' '.join(batch)} }} ?s ?p ?o }}")
                batch = []
        if batch:
            self.update(f"DELETE {{ ?s ?p ?o }} WHERE {{ VALUES ?s {{ {' '.join(batch)} }} ?s ?p ?o }}")
        with open(ntriples, "rb") as fh:
            self._gsp("POST", None, fh, "application/n-triples")
        self.update(f"DELETE WHERE {{ <{self.base.dataset}> dcterms:modified ?m }}")
        now = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
        self.update(f'INSERT DATA {{ <{self.base.dataset}> dcterms:modified "{now}"^^xsd:dateTime }}')

    def snapshot_for_reconciliation(self) -> ox.Store:
        """Labels, aliases and types of places and actors, for reconciling names in conflict data."""
        res = self.execute(
            """CONSTRUCT { ?s a ?c ; rdfs:label ?l ; skos:altLabel ?a ; geo:hasGeometry ?g ; psk:locatedIn ?in ;
                             psk:reconciliation ?m . ?m psk:matchRule ?r }
               WHERE { ?s a ?c FILTER(STRSTARTS(STR(?c), STR(psk:)))
                       OPTIONAL { ?s rdfs:label ?l } OPTIONAL { ?s skos:altLabel ?a } OPTIONAL { ?s geo:hasGeometry ?g }
                       OPTIONAL { ?s psk:locatedIn ?in } OPTIONAL { ?s psk:reconciliation ?m . ?m psk:matchRule ?r } }""",
            max_rows=10_000_000,
        )
        mem = ox.Store()
        mem.extend(ox.Quad(t.subject, t.predicate, t.object) for t in res.triples)
        return mem

    def stream_dump(self, rdf_format: ox.RdfFormat, dataset: bool) -> Iterator[bytes]:
        if not self.gsp_url:
            raise RemoteError("no Graph Store Protocol endpoint known for this store; set PSK_REMOTE_GSP")
        params = None if dataset else {"default": ""}
        resp = self.http.get(self.gsp_url, params=params, headers={"Accept": rdf_format.media_type}, stream=True, timeout=None)
        if resp.status_code >= 300:
            raise RemoteError(f"graph store GET failed with {resp.status_code}")
        yield from resp.iter_content(1 << 16)
