"""The query page's server side: labelled results, errors in the researcher's terms, short links, completion data."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from kg.config import Settings
from server import create_app

BASE = "https://w3id.org/pakistan-security-kg/"


@pytest.fixture(scope="module")
def app(full_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    return create_app(Settings(store=str(full_store), saved_queries=str(tmp_path_factory.mktemp("saved"))))


@pytest.fixture
def client(app: Any) -> Any:
    return app.test_client()


def test_plain_form_shows_labels_linked_to_entity_pages(client: Any) -> None:
    query = "SELECT ?g WHERE { ?g a psk:ArmedGroup } ORDER BY ?g"
    html = client.get("/query", query_string={"query": query}).get_data(as_text=True)
    assert (
        '<a href="/page/id/group/baloch-liberation-army" title="'
        + BASE
        + 'id/group/baloch-liberation-army">Baloch Liberation Army</a>'
        in html
    )
    # downloads in every result format, each re-running this query
    for fmt in ("json", "xml", "csv", "tsv"):
        assert f"format={fmt}" in html


def test_external_vocabulary_terms_show_a_curie(client: Any) -> None:
    html = client.get(
        "/query",
        query_string={"query": "SELECT ?c WHERE { psk:Province ?p ?c FILTER(isIRI(?c) && !STRSTARTS(STR(?c), STR(psk:))) }"},
    ).get_data(as_text=True)
    cells = re.findall(r'<a href="([^"]+)" title="([^"]+)"( class="external")?>([^<]+)</a>', html)
    external = [c for c in cells if c[2]]
    assert external, cells
    assert any(text.startswith(("schema:", "wd:", "geo:", "owl:")) for _h, _t, _c, text in external), external


def test_graph_results_offer_every_rdf_format(client: Any) -> None:
    html = client.get("/query", query_string={"query": "CONSTRUCT { ?s a psk:Province } WHERE { ?s a psk:Province }"}).get_data(
        as_text=True
    )
    for fmt in ("turtle", "ntriples", "jsonld", "rdfxml", "trig", "nquads"):
        assert f"format={fmt}" in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("SELECT * WHERE { ?s foo:bar ?o }", "unknown prefix &#39;foo:&#39;"),
        ("SELECT * WHERE { ?s ?p ?o } ORDR BY ?s", "did you mean ORDER?"),
    ],
)
def test_errors_on_the_page_say_what_is_wrong(client: Any, query: str, expected: str) -> None:
    resp = client.get("/query", query_string={"query": query})
    assert resp.status_code == 400
    assert expected in resp.get_data(as_text=True)


def test_short_links_are_stable_and_resolve(client: Any) -> None:
    query = "SELECT ?p WHERE { ?p a psk:Province }"
    first = client.post("/query/link", json={"query": query}).get_json()
    again = client.post("/query/link", data={"query": query}).get_json()
    assert first["id"] == again["id"] and re.fullmatch(r"[0-9a-f]{16}", first["id"])
    assert first["url"].endswith(f"/query?q={first['id']}")
    page = client.get(f"/query?q={first['id']}").get_data(as_text=True)
    assert "Balochistan" in page and "?p a psk:Province" in page
    missing = client.get("/query?q=0000000000000000")
    assert missing.status_code == 404 and "no stored query has this id" in missing.get_data(as_text=True)
    assert client.get("/query?q=../../etc/passwd").status_code == 404
    assert client.post("/query/link", json={"query": "  "}).status_code == 400


def test_completions_come_from_void_partitions(client: Any) -> None:
    data = client.get("/query/completions.json").get_json()
    classes = {c["curie"]: c for c in data["classes"]}
    properties = {p["curie"]: p for p in data["properties"]}
    assert classes["psk:Province"]["label"] == "Province"
    assert "psk:perpetrator" in properties and "rdfs:label" in properties
    assert data["prefixes"]["psk"] == BASE + "ontology#"


def test_labels_api(client: Any) -> None:
    iris = [BASE + "id/province/balochistan", "https://schema.org/Place", "http://example.org/unknown"]
    data = client.post("/api/labels", json={"iris": iris}).get_json()
    assert data[iris[0]] == {"label": "Balochistan", "page": "/page/id/province/balochistan", "curie": None}
    assert data[iris[1]]["curie"] == "schema:Place" and data[iris[1]]["page"] is None
    assert data[iris[2]]["label"] is None
    bad = client.post("/api/labels", json={"iris": "x"})
    assert bad.status_code == 400 and "expected JSON" in bad.get_data(as_text=True)


def test_short_links_say_when_they_cannot_be_stored(full_store: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    client = create_app(Settings(store=str(full_store), saved_queries=str(blocker / "saved"))).test_client()
    resp = client.post("/query/link", json={"query": "ASK {}"})
    assert resp.status_code == 503 and "short links are unavailable here" in resp.get_data(as_text=True)
