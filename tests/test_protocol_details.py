"""Protocol details: SPARQLWrapper's graph formats, dataset parameters, the service description, the Host header."""

from __future__ import annotations

import html
from collections.abc import Iterator
from pathlib import Path

import pytest
import rdflib
from flask import Flask
from flask.testing import FlaskClient

from kg.config import Settings
from server import create_app

CONSTRUCT = "CONSTRUCT { ?g a psk:ArmedGroup } WHERE { ?g a psk:ArmedGroup }"
DESCRIBE = "DESCRIBE <https://w3id.org/pakistan-security-kg/id/group/baloch-liberation-army>"
SD = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")


@pytest.mark.parametrize("query", [CONSTRUCT, DESCRIBE])
@pytest.mark.parametrize("name", ["XML", "N3", "TURTLE", "JSONLD"])
def test_sparqlwrapper_graph_formats(server: str, query: str, name: str) -> None:
    import SPARQLWrapper as sw

    client = sw.SPARQLWrapper(server + "/sparql")
    client.setQuery(query)
    client.setReturnFormat(getattr(sw, name))
    result = client.query()
    assert result.response.status == 200
    media = result.response.headers["Content-Type"].split(";")[0]
    expected = {"XML": "application/rdf+xml", "N3": "text/turtle", "TURTLE": "text/turtle", "JSONLD": "application/ld+json"}
    assert media == expected[name]
    graph = rdflib.Graph().parse(data=result.response.read(), format={"application/rdf+xml": "xml"}.get(media, media))
    assert len(graph) > 0


@pytest.mark.parametrize("param", ["default-graph-uri", "named-graph-uri"])
@pytest.mark.parametrize("path", ["/sparql", "/query"])
def test_an_invalid_graph_iri_is_400_naming_it(client: FlaskClient, param: str, path: str) -> None:
    resp = client.get(path, query_string={"query": "SELECT * { ?s ?p ?o } LIMIT 1", param: "not an iri"})
    assert resp.status_code == 400
    text = html.unescape(resp.get_data(as_text=True))
    assert f"{param} 'not an iri' is not an absolute IRI" in text and "Error:" not in text


def test_named_graphs_without_a_default_graph_leave_it_empty(client: FlaskClient) -> None:
    def rows(query: str, **params: str) -> list[dict[str, object]]:
        resp = client.get("/sparql", query_string={"query": query, **params}, headers={"Accept": "application/json"})
        assert resp.status_code == 200, resp.get_data(as_text=True)
        return resp.get_json()["results"]["bindings"]  # type: ignore[no-any-return]

    graph = rows("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } } LIMIT 1")[0]["g"]["value"]  # type: ignore[index]
    assert rows("SELECT * WHERE { ?s ?p ?o } LIMIT 1")  # the service's default graph is not empty
    assert rows("SELECT * WHERE { ?s ?p ?o } LIMIT 1", **{"named-graph-uri": graph}) == []
    assert rows("SELECT * WHERE { GRAPH ?g { ?s ?p ?o } } LIMIT 1", **{"named-graph-uri": graph})
    assert rows("SELECT * WHERE { ?s ?p ?o } LIMIT 1", **{"named-graph-uri": graph, "default-graph-uri": graph})


def test_the_service_description_names_every_named_graph_and_lists_the_dumps(client: FlaskClient) -> None:
    resp = client.get("/sparql", headers={"Accept": "text/turtle"})
    graph = rdflib.Graph().parse(data=resp.get_data(as_text=True), format="turtle")
    for node in graph.subjects(rdflib.RDF.type, SD.NamedGraph):
        assert graph.value(node, SD.name) is not None
    dumps = {str(o) for o in graph.objects(None, rdflib.URIRef("http://rdfs.org/ns/void#dataDump"))}
    assert any(d.endswith(".nq.gz") for d in dumps) and any(d.endswith(".ttl.gz") for d in dumps)


def test_the_host_header_is_never_echoed(client: FlaskClient) -> None:
    evil = {"Host": "attacker.example"}
    for accept in ("text/turtle", "text/html"):
        body = client.get("/sparql", headers={**evil, "Accept": accept}).get_data(as_text=True)
        assert "attacker.example" not in body
    body = client.get("/void", headers=evil).get_data(as_text=True)
    assert "attacker.example" not in body
    redirect = client.get("/id/group/baloch-liberation-army", headers={**evil, "Accept": "text/html"})
    assert redirect.status_code == 303 and redirect.headers["Location"] == "/page/id/group/baloch-liberation-army"
    # relative IRIs in queries resolve against the endpoint's own address
    resp = client.get(
        "/sparql", query_string={"query": "SELECT ?x WHERE { BIND(<rel> AS ?x) }"}, headers={**evil, "Accept": "application/json"}
    )
    assert resp.get_json()["results"]["bindings"][0]["x"]["value"] == "http://localhost/rel"


@pytest.fixture(scope="module")
def public_app(full_store: Path) -> Iterator[Flask]:
    application = create_app(Settings(store=str(full_store), public_url="https://kg.example.org/"))
    yield application
    application.extensions["psk"]["backend"].close()


def test_a_configured_public_url_is_used_for_absolute_urls(public_app: Flask) -> None:
    client = public_app.test_client()
    body = client.get("/sparql", headers={"Accept": "text/turtle", "Host": "attacker.example"}).get_data(as_text=True)
    assert "<https://kg.example.org/sparql>" in body and "https://kg.example.org/dumps/" in body
    assert "attacker.example" not in body and "localhost" not in body


def test_a_large_accept_header_is_answered(client: FlaskClient) -> None:
    accept = ", ".join(f"text/x-{i};q=0.{i % 9 + 1}" for i in range(3000)) + ", application/json;q=0.1"
    assert len(accept) > 50_000
    resp = client.get("/sparql", query_string={"query": "ASK {}"}, headers={"Accept": accept})
    assert resp.status_code == 200 and resp.get_json() == {"head": {}, "boolean": True}
