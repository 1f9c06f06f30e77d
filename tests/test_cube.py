"""The statistics graph (kg/cube.py): RDF Data Cube observations whose counts equal the graph's, counted in VoID,
each linking to the page that lists its incidents; the example queries that read it."""

from __future__ import annotations

import urllib.parse
from pathlib import Path

import pyoxigraph as ox
import pytest
from flask.testing import FlaskClient

from kg.config import Settings
from kg.cube import QB, statistics_graph
from kg.namespaces import PSK, Base
from kg.sparql import execute
from kg.store import LocalStore
from server import create_app
from server.util import HERE

EXAMPLES = HERE / "examples"


def run(store: ox.Store, text: str) -> list[dict[str, str]]:
    return [
        {k: (v.value if v is not None else "") for k, v in r.items()} for r in execute(store, text, max_rows=100_000).records()
    ]


@pytest.fixture(scope="module")
def store(full_store: Path) -> ox.Store:
    return LocalStore(full_store).open_read()[1]


def test_cube_counts_equal_the_graphs(store: ox.Store) -> None:
    cube = run(store, (EXAMPLES / "13-cube-incidents-per-province-and-year.rq").read_text(encoding="utf-8"))
    direct = run(
        store,
        """SELECT ?provinceLabel ?year (COUNT(DISTINCT ?i) AS ?incidents) WHERE {
          ?i a psk:Incident ; psk:date ?date ; psk:province ?p . ?p a psk:Province ; rdfs:label ?provinceLabel .
          FILTER EXISTS { ?i psk:eventType ?t } BIND(YEAR(?date) AS ?year) } GROUP BY ?provinceLabel ?year""",
    )
    fatalities = run(
        store,
        """SELECT ?provinceLabel ?year (SUM(?f) AS ?fatalities) WHERE {
          ?i a psk:Incident ; psk:date ?date ; psk:province ?p ; psk:fatalities ?f . ?p a psk:Province ; rdfs:label ?provinceLabel .
          FILTER EXISTS { ?i psk:eventType ?t } BIND(YEAR(?date) AS ?year) } GROUP BY ?provinceLabel ?year""",
    )
    assert len(cube) >= 3
    assert {(r["provinceLabel"], r["year"], r["incidents"]) for r in cube} == {
        (r["provinceLabel"], r["year"], r["incidents"]) for r in direct
    }
    sums = {(r["provinceLabel"], r["year"]): r["fatalities"] for r in fatalities}
    assert all(r["fatalities"] == sums.get((r["provinceLabel"], r["year"]), "0") for r in cube)
    actors = run(store, (EXAMPLES / "14-cube-actors-per-year.rq").read_text(encoding="utf-8"))
    bla = sum(int(r["incidents"]) for r in actors if r["actorLabel"] == "Baloch Liberation Army")
    direct_bla = run(
        store,
        """SELECT (COUNT(DISTINCT ?i) AS ?n) WHERE { ?i a psk:Incident ; ?p ?bla ; psk:date ?d .
          ?bla rdfs:label "Baloch Liberation Army"@en FILTER(?p != rdf:type) }""",
    )
    assert bla == int(direct_bla[0]["n"]) >= 2


def test_cube_structure_and_void(store: ox.Store) -> None:
    g = statistics_graph(Base())
    assert {
        r["ds"] for r in run(store, f"SELECT ?ds WHERE {{ GRAPH <{g.value}> {{ ?ds a <{QB}DataSet> ; <{QB}structure> ?dsd }} }}")
    } == {
        Base().entity("statistics/area-month-type"),
        Base().entity("statistics/province-year"),
        Base().entity("statistics/actor-month"),
    }
    obs = run(store, f"SELECT (COUNT(?o) AS ?n) WHERE {{ GRAPH <{g.value}> {{ ?o a <{QB}Observation> }} }}")[0]["n"]
    named = sum(1 for _ in store.quads_for_pattern(None, None, None, None)) - sum(
        1 for _ in store.quads_for_pattern(None, None, None, ox.DefaultGraph())
    )
    ds = ox.NamedNode(Base().dataset)
    (stated,) = [q.object.value for q in store.quads_for_pattern(ds, ox.NamedNode(PSK + "namedGraphTriples"), None, None)]
    (observations,) = [
        q.object.value for q in store.quads_for_pattern(ds, ox.NamedNode(PSK + "statisticsObservations"), None, None)
    ]
    assert int(stated) == named and observations == obs and int(obs) > 10


def test_each_observation_links_to_its_incidents(full_store: Path, store: ox.Store) -> None:
    g = statistics_graph(Base()).value
    rows = run(
        store,
        f"""SELECT ?n ?page WHERE {{ GRAPH <{g}> {{ ?o <{QB}dataSet> ?ds ; psk:incidentCount ?n ; rdfs:seeAlso ?page }} }}""",
    )
    assert rows
    app = create_app(Settings(store=str(full_store)))
    client: FlaskClient = app.test_client()
    try:
        for row in rows[:40]:
            url = urllib.parse.urlsplit(row["page"])
            data = client.get("/incidents/" + url.path.split("/page/", 1)[1] + ".json?" + url.query).get_json()
            assert data["total"] == int(row["n"]), row
    finally:
        app.extensions["psk"]["backend"].close()


def test_province_and_actor_pages_draw_the_cube(client: FlaskClient) -> None:
    for path in ("/page/id/province/balochistan", "/page/id/group/baloch-liberation-army"):
        page = client.get(path).get_data(as_text=True)
        assert 'aria-label="Incidents per year, as in the statistics cube"' in page, path
        assert "2025: " in page and "statistics cube</a>" in page
        # the drawn counts are the cube's: its observations for the entity, summed per year
        reader = client.application.extensions["psk"]["reader"]
        iri = Base().entity(path.split("/page/id/", 1)[1])
        cube = execute(reader.backend._store(), reader.statistics_query(iri), max_rows=10_000)
        per_year: dict[str, int] = {}
        for rec in cube.records():
            per_year[rec["year"].value] = per_year.get(rec["year"].value, 0) + int(rec["incidents"].value)
        assert {y: n for y, n, _f in reader.statistics(iri).years} == per_year, path
