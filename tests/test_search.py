"""Full-text search (kg/search.py): misspellings still match, ranking, exact totals with paging, type facets and
place disambiguation, over /search and /api/search."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from kg.build import build
from kg.config import Settings
from kg.loaders import load_files
from kg.namespaces import Base
from kg.search import INCIDENTS_FILE, SEARCH_FILE
from kg.sparql import execute
from kg.store import LocalStore
from kg.tables import Table
from server import create_app

from .conftest import FIXTURES

ID = Base().entity("")


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FlaskClient]:
    path = tmp_path_factory.mktemp("search") / "store"
    build(LocalStore(path), Base())
    load_files("acled", [FIXTURES / "acled_small.csv"], Settings(store=str(path)))
    app = create_app(Settings(store=str(path)))
    yield app.test_client()
    app.extensions["psk"]["backend"].close()


def api(client: FlaskClient, **args: str) -> tuple[list[dict[str, object]], int]:
    resp = client.get("/api/search", query_string=args)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp.get_json(), int(resp.headers["X-Total-Count"])


def test_misspellings_find_the_entity(client: FlaskClient) -> None:
    hits, _ = api(client, q="Jafar Express")
    assert hits and "Jaffar Express" in str(hits[0]["label"])
    hits, _ = api(client, q="Baluchistan")
    assert hits[0]["iri"] == ID + "province/balochistan"  # an alias, exactly
    hits, _ = api(client, q="Balochistaan")
    assert hits[0]["iri"] == ID + "province/balochistan"  # a misspelling of the label
    assert api(client, q="qqqxxzz")[1] == 0


def test_exact_names_rank_first_then_importance(client: FlaskClient) -> None:
    hits, _ = api(client, q="bla")
    assert hits[0]["iri"] == ID + "group/baloch-liberation-army"  # its alias "BLA" is the exact name
    hits, _ = api(client, q="balochistan")
    assert hits[0]["iri"] == ID + "province/balochistan"
    assert hits[0]["incidents"] == 2  # the fixture's Balochistan incidents and the hijacking


def test_totals_are_exact_with_paging_and_type_facets(client: FlaskClient) -> None:
    store = client.application.extensions["psk"]["backend"]._store()
    query = """SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {
      { ?s rdfs:label ?name } UNION { ?s skos:prefLabel ?name } UNION { ?s skos:altLabel ?name }
      FILTER(isIRI(?s) && CONTAINS(LCASE(STR(?name)), "synth"))
      FILTER NOT EXISTS { ?s a psk:Statement } FILTER NOT EXISTS { ?s a psk:DataRecord }
      FILTER NOT EXISTS { ?s a psk:Side } }"""
    expected = int(execute(store, query, max_rows=1).rows[0][0].value)
    assert expected >= 5
    _, total = api(client, q="synth")
    assert total == expected
    seen: list[object] = []
    page = 1
    while True:
        hits, total = api(client, q="synth", size="2", page=str(page))
        seen += [h["iri"] for h in hits]
        if page * 2 >= total:
            break
        page += 1
    assert len(seen) == len(set(seen)) == expected
    results = client.application.extensions["psk"]["reader"].search_page("synth")
    assert sum(n for _t, n in results.types) == expected
    cities = client.application.extensions["psk"]["reader"].search_page("synth", "Location")
    assert cities.total == dict(results.types)["Location"] and all(h.type == "Location" for h in cities.hits)
    page = client.get("/search", query_string={"q": "synth", "size": "2"}).get_data(as_text=True)
    assert f'<span class="total">{expected}</span>' in page and 'rel="next"' in page


def test_places_show_where_they_are(client: FlaskClient) -> None:
    hits, _ = api(client, q="Synthville")
    place = next(h for h in hits if h["iri"] == ID + "place/balochistan/synthetic-district-a/synthville")
    assert place["context"] == "Synthetic District A, Balochistan"
    assert "in Synthetic District A, Balochistan" in client.get("/search", query_string={"q": "Synthville"}).get_data(
        as_text=True
    )


@pytest.mark.parametrize("args,name", [({"page": "0"}, "page"), ({"size": "1000"}, "size"), ({"type": "a b"}, "type")])
def test_bad_search_parameters_are_400(client: FlaskClient, args: dict[str, str], name: str) -> None:
    for url in ("/search", "/api/search"):
        resp = client.get(url, query_string={"q": "baloch", **args})
        assert resp.status_code == 400 and f"{name}=" in resp.get_data(as_text=True)


def test_index_is_written_with_the_version(client: FlaskClient) -> None:
    backend = client.application.extensions["psk"]["backend"]
    assert (Path(str(backend.store.version_dir())).with_name(backend.version() + ".tables") / SEARCH_FILE).exists()


def test_dataset_incidents_are_their_own_tier_after_the_entities(client: FlaskClient) -> None:
    """Loaded incidents are matched in the incident tier (INCIDENTS_FILE), each exactly once, after every other match;
    curated incidents stay in the full-text tier (misspellings find them); sides are not search hits."""
    store = client.application.extensions["psk"]["backend"]._store()
    loaded = {r[0].value for r in execute(store, "SELECT ?s WHERE { ?s a psk:Incident ; psk:eventId ?id }", max_rows=100).rows}
    assert len(loaded) == 4
    reader = client.application.extensions["psk"]["reader"]
    backend = client.application.extensions["psk"]["backend"]
    tier = Table(backend.table().path.with_name(INCIDENTS_FILE))
    try:
        assert {r[0] for r in tier.rows("SELECT iri FROM incidents")} == loaded
    finally:
        tier.close()
    db = sqlite3.connect(backend.table().path.with_name(SEARCH_FILE))
    try:
        assert not loaded & {r[0] for r in db.execute("SELECT iri FROM entities")}
        assert not db.execute("SELECT count(*) FROM entities WHERE type = 'Side'").fetchone()[0]
    finally:
        db.close()
    results = reader.search_page(", 202", size=100)  # every loaded incident's label ends in a date
    kinds = [h.iri in loaded for h in results.hits]
    assert kinds.count(True) == 4 and kinds == sorted(kinds)  # the entities first, then the loaded incidents
    assert dict(results.types)["Incident"] == results.total - sum(n for t, n in results.types if t != "Incident")
    one = reader.search_page("Testabad", "Incident")
    assert {h.iri for h in one.hits} == {ID + "incident/acled-syn0002", ID + "incident/acled-syn0003"} and one.total == 2
    assert api(client, q="Jafar Express", type="Incident")[0][0]["iri"].startswith(ID + "incident/jaffar-express")
