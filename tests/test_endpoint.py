"""The SPARQL 1.1 Protocol endpoint over a real server (`kg serve`: Granian, several workers) on 127.0.0.1."""

from __future__ import annotations

import io
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
import requests
from rdflib.compare import isomorphic
from rdflib.query import Result

from kg.namespaces import PREFIXES
from kg.store import LocalStore

SELECT = "SELECT ?s ?label WHERE { ?s a psk:ArmedGroup ; rdfs:label ?label } ORDER BY ?s"
CONSTRUCT = "CONSTRUCT { ?s ?p ?o } WHERE { ?s a psk:Province ; ?p ?o }"
ASK = "ASK { ?s a psk:Incident }"


def sparql(server: str, query: str, accept: str | None = None, method: str = "GET", **kw: object) -> requests.Response:
    headers = {"Accept": accept} if accept else {}
    if method == "GET":
        return requests.get(server + "/sparql", params={"query": query}, headers=headers, timeout=30, **kw)  # type: ignore[arg-type]
    if method == "FORM":
        return requests.post(server + "/sparql", data={"query": query}, headers=headers, timeout=30, **kw)  # type: ignore[arg-type]
    return requests.post(
        server + "/sparql", data=query.encode(), headers={**headers, "Content-Type": "application/sparql-query"}, timeout=30
    )


def expected_rows(store_path: Path, query: str) -> list[tuple[str, ...]]:
    _v, store = LocalStore(store_path).open_read()
    return [tuple(t.value for t in sol) for sol in store.query(query, prefixes=PREFIXES)]


def expected_graph(store_path: Path, query: str) -> rdflib.Graph:
    _v, store = LocalStore(store_path).open_read()
    data = ox.serialize(store.query(query, prefixes=PREFIXES), format=ox.RdfFormat.N_TRIPLES)
    return rdflib.Graph().parse(data=data, format="nt")


@pytest.mark.parametrize(
    "accept,fmt",
    [
        ("application/sparql-results+json", "json"),
        ("application/sparql-results+xml", "xml"),
        ("text/csv", "csv"),
        ("text/tab-separated-values", "tsv"),
    ],
)
@pytest.mark.parametrize("method", ["GET", "FORM", "DIRECT"])
def test_select_every_format_parses_back(server: str, full_store: Path, accept: str, fmt: str, method: str) -> None:
    resp = sparql(server, SELECT, accept, method)
    assert resp.status_code == 200, resp.text
    assert resp.headers["Content-Type"].startswith(accept)
    result = Result.parse(io.BytesIO(resp.content), format=fmt)
    got = [tuple(str(row[v]) for v in ("s", "label")) for row in result]
    assert got == expected_rows(full_store, SELECT)
    assert len(got) == 5


@pytest.mark.parametrize(
    "accept,fmt",
    [
        (None, "turtle"),
        ("text/turtle", "turtle"),
        ("application/n-triples", "nt"),
        ("application/ld+json", "json-ld"),
        ("application/rdf+xml", "xml"),
        ("application/trig", "trig"),
        ("application/n-quads", "nquads"),
    ],
)
def test_construct_every_format_parses_back(server: str, full_store: Path, accept: str | None, fmt: str) -> None:
    resp = sparql(server, CONSTRUCT, accept)
    assert resp.status_code == 200, resp.text
    assert resp.headers["Content-Type"].startswith(accept or "text/turtle")
    if fmt in ("trig", "nquads"):
        ds = rdflib.Dataset()
        ds.parse(data=resp.content, format=fmt)
        graph = rdflib.Graph()
        for s, p, o, _g in ds.quads():
            graph.add((s, p, o))
    else:
        graph = rdflib.Graph().parse(data=resp.content, format=fmt)
    expected = expected_graph(full_store, CONSTRUCT)
    assert len(expected) > 20
    assert isomorphic(graph, expected)


@pytest.mark.parametrize("accept,fmt", [("application/sparql-results+json", "json"), ("application/sparql-results+xml", "xml")])
def test_ask(server: str, accept: str, fmt: str) -> None:
    resp = sparql(server, ASK, accept)
    assert resp.status_code == 200
    assert Result.parse(io.BytesIO(resp.content), format=fmt).askAnswer is True


def test_format_parameter_for_browsers(server: str) -> None:
    resp = requests.get(
        server + "/sparql", params={"query": SELECT, "format": "csv"}, headers={"Accept": "text/html"}, timeout=30
    )
    assert resp.headers["Content-Type"].startswith("text/csv")
    resp = requests.get(server + "/sparql", params={"query": CONSTRUCT, "format": "jsonld"}, timeout=30)
    assert resp.headers["Content-Type"].startswith("application/ld+json")
    resp = requests.get(server + "/sparql", params={"query": SELECT, "format": "turtle"}, timeout=30)
    assert resp.status_code == 406 and "format='turtle' is not available for SELECT" in resp.text
    # a browser asking for HTML gets a rendered results table
    resp = requests.get(server + "/sparql", params={"query": SELECT}, headers={"Accept": "text/html,*/*;q=0.8"}, timeout=30)
    assert resp.headers["Content-Type"].startswith("text/html") and "Baloch Liberation Army" in resp.text


def test_malformed_query_is_400_with_position(server: str) -> None:
    resp = sparql(server, "SELECT * WHERE { ?s ?p }")
    assert resp.status_code == 400
    assert "malformed query" in resp.text and "line 1, column 25" in resp.text
    assert "'}' cannot come here" in resp.text and "Traceback" not in resp.text


def test_status_codes(server: str) -> None:
    url = server + "/sparql"
    put = requests.put(url, params={"query": ASK}, timeout=30)
    assert put.status_code == 405 and "GET" in put.headers.get("Allow", "")
    assert requests.get(url, params={"query": SELECT}, headers={"Accept": "image/png"}, timeout=30).status_code == 406
    bad_accept = requests.get(url, params={"query": SELECT}, headers={"Accept": "text/csv;q=high"}, timeout=30)
    assert bad_accept.status_code == 400 and "q-value" in bad_accept.text
    big = "SELECT * WHERE { ?s ?p ?o } #" + "x" * 30_000
    assert requests.post(url, data={"query": big}, timeout=30).status_code == 413
    assert requests.post(url, data=ASK, headers={"Content-Type": "text/plain"}, timeout=30).status_code == 415
    assert requests.post(url, data={"update": "INSERT DATA { <a:a> <a:b> <a:c> }"}, timeout=30).status_code == 403
    assert (
        requests.post(url, data="DROP ALL", headers={"Content-Type": "application/sparql-update"}, timeout=30).status_code == 403
    )
    refused = requests.get(url, params={"query": "INSERT DATA { <a:a> <a:b> <a:c> }"}, timeout=30)
    assert refused.status_code == 400 and "read-only" in refused.text
    assert requests.post(url, data={"query": [ASK, ASK]}, timeout=30).status_code == 400
    assert requests.post(url, data={"default-graph-uri": "http://example.org/g"}, timeout=30).status_code == 400
    assert requests.post(url, data=b"", timeout=30).status_code == 415
    load = requests.get(url, params={"query": "LOAD <http://127.0.0.1:1/x.ttl>"}, timeout=30)
    assert load.status_code == 400


def test_service_description_and_void(server: str) -> None:
    resp = requests.get(server + "/sparql", headers={"Accept": "text/turtle"}, timeout=30)
    assert resp.status_code == 200
    g = rdflib.Graph().parse(data=resp.text, format="turtle")
    sd = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")
    void = rdflib.Namespace("http://rdfs.org/ns/void#")
    assert (rdflib.URIRef(server + "/sparql"), rdflib.RDF.type, sd.Service) in g
    triples = next(g.objects(None, void.triples))
    assert int(triples) > 4000
    assert len(list(g.objects(None, void.dataDump))) == 5  # every dump, N-Quads included
    assert next(g.objects(None, rdflib.URIRef("http://purl.org/dc/terms/license")))


def test_cors_head_and_etag(server: str) -> None:
    url = server + "/sparql"
    pre = requests.options(url, headers={"Origin": "http://example.org", "Access-Control-Request-Method": "POST"}, timeout=30)
    assert (
        pre.status_code == 204
        and pre.headers["Access-Control-Allow-Origin"] == "*"
        and "POST" in pre.headers["Access-Control-Allow-Methods"]
    )
    resp = sparql(server, SELECT, "application/sparql-results+json")
    assert resp.headers["Access-Control-Allow-Origin"] == "*"
    etag = resp.headers["ETag"]
    again = requests.get(
        url, params={"query": SELECT}, headers={"Accept": "application/sparql-results+json", "If-None-Match": etag}, timeout=30
    )
    assert again.status_code == 304 and not again.content
    head = requests.head(url, params={"query": SELECT}, headers={"Accept": "application/sparql-results+json"}, timeout=30)
    assert (
        head.status_code == 200
        and not head.content
        and head.headers["Content-Type"].startswith("application/sparql-results+json")
    )


def test_row_cap_is_indicated(server: str) -> None:
    resp = sparql(server, "SELECT * WHERE { ?s ?p ?o }", "application/sparql-results+json")
    assert resp.status_code == 200
    assert len(resp.json()["results"]["bindings"]) == 50
    assert "50 rows" in resp.headers["X-SPARQL-Truncated"]
    small = sparql(server, "SELECT * WHERE { ?s ?p ?o } LIMIT 3", "application/sparql-results+json")
    assert "X-SPARQL-Truncated" not in small.headers


def test_protocol_dataset_selects_claim_graphs(server: str) -> None:
    g = "https://w3id.org/pakistan-security-kg/graph/claim/punjab-houses-the-capital"
    q = "SELECT ?s ?o WHERE { ?s psk:locatedIn ?o }"
    default = requests.get(
        server + "/sparql", params={"query": q}, headers={"Accept": "application/sparql-results+json"}, timeout=30
    ).json()
    claim = requests.get(
        server + "/sparql",
        params={"query": q, "default-graph-uri": g},
        headers={"Accept": "application/sparql-results+json"},
        timeout=30,
    ).json()
    pairs = {(b["s"]["value"].rsplit("/", 1)[-1], b["o"]["value"].rsplit("/", 1)[-1]) for b in claim["results"]["bindings"]}
    assert pairs == {("islamabad", "punjab")}
    assert ("islamabad", "punjab") not in {
        (b["s"]["value"].rsplit("/", 1)[-1], b["o"]["value"].rsplit("/", 1)[-1]) for b in default["results"]["bindings"]
    }


def test_sparqlwrapper_client(server: str) -> None:
    from SPARQLWrapper import JSON, TURTLE, SPARQLWrapper

    client = SPARQLWrapper(server + "/sparql")
    client.setQuery(SELECT)
    client.setReturnFormat(JSON)
    rows = client.queryAndConvert()["results"]["bindings"]  # type: ignore[index]
    assert {r["label"]["value"] for r in rows} >= {"Baloch Liberation Army", "Tehrik-i-Taliban Pakistan"}
    client.setMethod("POST")
    client.setQuery(CONSTRUCT)
    client.setReturnFormat(TURTLE)
    data = client.queryAndConvert()
    assert len(rdflib.Graph().parse(data=data, format="turtle")) > 20
    client.setQuery(ASK)
    client.setReturnFormat(JSON)
    assert client.queryAndConvert()["boolean"] is True  # type: ignore[index]


def test_rdflib_sparqlstore_client(server: str) -> None:
    from rdflib.plugins.stores.sparqlstore import SPARQLStore

    graph = rdflib.Graph(store=SPARQLStore(server + "/sparql", returnFormat="json"))
    rows = list(
        graph.query(
            "SELECT ?label WHERE { ?g a <https://w3id.org/pakistan-security-kg/ontology#ArmedGroup> ; <http://www.w3.org/2000/01/rdf-schema#label> ?label }"
        )
    )
    assert "Baloch Liberation Army" in {str(r[0]) for r in rows}
    assert (None, None, None) in graph


class Listener:
    """A TCP listener that records every connection (an SSRF canary)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._stop = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self._stop = True
        self.thread.join(timeout=2)
        self.sock.close()


@pytest.mark.parametrize(
    "template",
    [
        "SELECT * WHERE {{ SERVICE <http://127.0.0.1:{port}/sparql> {{ ?s ?p ?o }} }}",
        "select * where {{ service silent <http://127.0.0.1:{port}/> {{ ?s ?p ?o }} }}",
        "SELECT * WHERE {{ ?x ?y ?z . {{ SeRvIcE <http://127.0.0.1:{port}/q> {{ ?s ?p ?o }} }} }}",
        "SELECT * WHERE {{ BIND(<http://127.0.0.1:{port}/> AS ?ep) SERVICE ?ep {{ ?s ?p ?o }} }}",
        "LOAD <http://127.0.0.1:{port}/data.ttl>",
    ],
)
def test_ssrf_attempts_reach_nothing(server: str, template: str) -> None:
    canary = Listener()
    try:
        resp = sparql(server, template.format(port=canary.port), method="FORM")
        assert resp.status_code == 400
        time.sleep(0.5)
        assert canary.connections == 0
    finally:
        canary.close()


def test_keyword_inside_a_literal_is_not_refused(server: str) -> None:
    resp = sparql(server, 'SELECT ?x WHERE { BIND("SERVICE and LOAD and INSERT" AS ?x) }', "application/sparql-results+json")
    assert resp.status_code == 200
    assert resp.json()["results"]["bindings"][0]["x"]["value"] == "SERVICE and LOAD and INSERT"


def test_deep_nesting_is_rejected_and_server_survives(server: str) -> None:
    deep = "SELECT * WHERE " + "{ " * 5000 + "?s ?p ?o" + " }" * 5000
    resp = requests.post(server + "/sparql", data={"query": deep}, timeout=30)
    assert resp.status_code in (400, 413)
    deep_small = "SELECT * WHERE " + "{" * 200 + "?s ?p ?o" + "}" * 200
    resp = requests.post(server + "/sparql", data={"query": deep_small}, timeout=30)
    assert resp.status_code == 400 and "nests groups deeper than" in resp.text
    assert requests.get(server + "/healthz", timeout=10).status_code == 200


def test_runaway_query_is_stopped_while_cheap_queries_run(server: str) -> None:
    heavy = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
    results: dict[str, object] = {}

    def run_heavy() -> None:
        start = time.monotonic()
        resp = sparql(server, heavy, "application/sparql-results+json")
        results["heavy"] = (resp.status_code, time.monotonic() - start, resp.text, time.monotonic())

    thread = threading.Thread(target=run_heavy)
    thread.start()
    time.sleep(0.5)
    cheap = sparql(server, "SELECT ?l WHERE { ?s rdfs:label ?l } LIMIT 1", "application/sparql-results+json")
    cheap_done = time.monotonic()
    thread.join(timeout=60)
    status, elapsed, text, heavy_done = results["heavy"]  # type: ignore[misc]
    assert cheap.status_code == 200 and len(cheap.json()["results"]["bindings"]) == 1
    assert cheap_done < heavy_done, "the cheap query waited for the runaway one"
    assert status == 503 and "time limit of 3 s" in str(text) and "narrow it" in str(text)
    assert float(elapsed) < 30  # the limit is 3 s; the work was really stopped, not left to finish
    assert requests.get(server + "/healthz", timeout=10).status_code == 200
    # the pool recovers: the next heavy query is stopped again and cheap ones keep working
    assert sparql(server, "ASK { ?s ?p ?o }", "application/sparql-results+json").json()["boolean"] is True


def test_200_concurrent_requests_all_answered(server: str) -> None:
    def one(i: int) -> tuple[int, int]:
        q = f"SELECT ?s WHERE {{ ?s a psk:Province }} LIMIT {i % 7 + 1}"
        resp = requests.get(
            server + "/sparql", params={"query": q}, headers={"Accept": "application/sparql-results+json"}, timeout=120
        )
        return resp.status_code, len(resp.json()["results"]["bindings"])

    total = len(
        sparql(server, "SELECT ?s WHERE { ?s a psk:Province }", "application/sparql-results+json").json()["results"]["bindings"]
    )
    with ThreadPoolExecutor(max_workers=200) as pool:
        answers = list(pool.map(one, range(200)))
    assert all(status == 200 for status, _n in answers)
    assert [n for _s, n in answers] == [min(i % 7 + 1, total) for i in range(200)]
