"""Labels everywhere: statements and evidence titled by what they state; IRIs shown by label, CURIE or local path."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from kg.config import Settings
from server import create_app

BASE = "https://w3id.org/pakistan-security-kg/"


@pytest.fixture(scope="module")
def client(full_store: Path) -> Any:
    return create_app(Settings(store=str(full_store))).test_client()


def first_statement(client: Any) -> str:
    rows = client.get(
        "/sparql",
        query_string={
            "query": (
                "SELECT ?s WHERE { ?s a psk:Statement ; rdf:predicate psk:perpetrator ; "
                "rdf:subject <https://w3id.org/pakistan-security-kg/id/incident/jaffar-express-hijacking-2025> } LIMIT 1"
            )
        },
        headers={"Accept": "application/sparql-results+json"},
    ).get_json()
    return str(rows["results"]["bindings"][0]["s"]["value"])


def test_statement_evidence_and_selector_pages_are_titled_by_what_they_state(client: Any) -> None:
    statement = first_statement(client)
    path = statement[len(BASE) :]
    html = client.get(f"/page/{path}").get_data(as_text=True)
    h1 = re.search(r"<h1>(.*?)</h1>", html).group(1)  # type: ignore[union-attr]
    assert h1 == "Jaffar Express hijacking — perpetrator — Baloch Liberation Army", h1
    assert f"<title>{h1} · " in html
    evidence = client.get(f"/page/{path}/evidence").get_data(as_text=True)
    assert f"<h1>Evidence for: {h1}</h1>" in evidence
    assert re.search(r'<p class="stated"><q>[^<]+</q></p>', evidence)
    quote = client.get(f"/page/{path}/evidence/quote").get_data(as_text=True)
    assert f"<h1>Quote of the evidence for: {h1}</h1>" in quote


def test_no_link_text_is_a_raw_iri(client: Any) -> None:
    statement = first_statement(client)[len(BASE) :]
    for path in [
        "/page/id/province/balochistan",
        f"/page/{statement}",
        f"/page/{statement}/evidence",
        "/page/id/group/baloch-liberation-army",
    ]:
        html = client.get(path).get_data(as_text=True)
        texts = re.findall(r"<a [^>]*>(https?://[^<]*)</a>", html)
        assert texts == [], (path, texts)


def test_ontology_terms_link_to_the_docs_and_external_terms_show_a_curie(client: Any) -> None:
    html = client.get("/page/id/province/balochistan").get_data(as_text=True)
    assert '<a href="/ontology#borders" title="' + BASE + 'ontology#borders">borders</a>' in html
    statement = first_statement(client)[len(BASE) :]
    page = client.get(f"/page/{statement}").get_data(as_text=True)
    assert '<abbr class="curie" title="http://www.w3.org/1999/02/22-rdf-syntax-ns#subject">rdf:subject</abbr>' in page
    assert 'href="http://www.w3.org/1999/02/22-rdf-syntax-ns#subject"' not in page  # property links stay on the site


def test_claim_evidence_and_claim_graph_pages_name_their_claim(client: Any) -> None:
    evidence = client.get("/page/id/claim/withdrawal-driven-by-foreign-pressure/evidence").get_data(as_text=True)
    assert re.search(r"<h1>Evidence for the claim: [A-Z][^<]+</h1>", evidence)


def test_every_page_is_titled_and_links_by_label(client: Any) -> None:
    """Over every third local resource of the test graph (all of them take a minute): no page is titled with an IRI,
    no link text is an IRI or a local path (external vocabulary terms without a label show their CURIE, allowed)."""
    rows = client.get(
        "/sparql",
        query_string={"query": f"SELECT DISTINCT ?s WHERE {{ ?s ?p ?o FILTER(STRSTARTS(STR(?s), '{BASE}id/')) }} ORDER BY ?s"},
        headers={"Accept": "application/sparql-results+json"},
    ).get_json()["results"]["bindings"]
    assert len(rows) > 100
    raw_titles, raw_links = [], []
    for row in rows[::3]:
        path = row["s"]["value"][len(BASE) :]
        resp = client.get(f"/page/{path}")
        if resp.status_code != 200:
            continue
        html = resp.get_data(as_text=True)
        h1 = re.search(r"<h1>(.*?)</h1>", html).group(1)  # type: ignore[union-attr]
        if h1.startswith(("http", "id/")):
            raw_titles.append((path, h1))
        for text in re.findall(r"<a [^>]*>([^<]*)</a>", html):
            if text.startswith(("http://", "https://", "id/", "graph/")):
                raw_links.append((path, text))
    assert raw_titles == []
    assert raw_links == []
