"""Linked data through the in-process test client (no socket needed): 303 negotiation, data documents, entity pages,
browse, dumps, ontology, escaping."""

from __future__ import annotations

import gzip
import html
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from kg.build import build
from kg.config import Settings
from kg.describe import cols, label_or_curie
from kg.loaders import ACLED_COLUMNS, load_files
from kg.namespaces import CANONICAL_BASE, PREFIXES, PSK, Base
from kg.store import LocalStore
from kg.validate import validate
from server import create_app

from .conftest import FIXTURES

ID = CANONICAL_BASE + "id/"


def get(client: FlaskClient, path: str, accept: str | None = None, params: dict[str, str] | None = None) -> TestResponse:
    return client.get(path, headers={"Accept": accept} if accept else {}, query_string=params)


ACCEPTS = [
    ("text/html", "/page/{p}"),
    ("application/xhtml+xml", "/page/{p}"),
    ("text/turtle", "/data/{p}.ttl"),
    ("application/ld+json", "/data/{p}.jsonld"),
    ("application/n-triples", "/data/{p}.nt"),
    ("application/rdf+xml", "/data/{p}.rdf"),
    ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "/page/{p}"),
    ("*/*", "/page/{p}"),
]


@pytest.mark.parametrize(
    "path",
    [
        "id/province/balochistan",
        "id/claim/punjab-houses-the-capital",
        "vocab/event-type/hijacking",
        "id/incident/acled-syn0001",
        "dataset",
    ],
)
@pytest.mark.parametrize("accept,target", ACCEPTS)
def test_cool_uris_303_by_accept(client: FlaskClient, path: str, accept: str, target: str) -> None:
    resp = get(client, "/" + path, accept)
    assert resp.status_code == 303
    assert resp.headers["Location"].endswith(target.format(p=path))
    assert "Accept" in resp.headers["Vary"]
    follow = get(client, resp.headers["Location"])
    assert follow.status_code == 200


def test_conneg_errors(client: FlaskClient) -> None:
    assert get(client, "/id/province/balochistan", "image/png").status_code == 406
    bad = get(client, "/id/province/balochistan", "text/turtle;q=x")
    assert bad.status_code == 400 and "q-value" in bad.text
    assert get(client, "/id/province/atlantis", "text/turtle").status_code == 404
    assert get(client, "/data/id/province/balochistan.xyz").status_code == 404
    assert get(client, "/page/id/../../etc/passwd").status_code == 404


@pytest.mark.parametrize("ext,fmt", [("ttl", "turtle"), ("nt", "nt"), ("jsonld", "json-ld"), ("rdf", "xml")])
def test_data_documents(client: FlaskClient, ext: str, fmt: str) -> None:
    resp = get(client, f"/data/id/province/balochistan.{ext}")
    assert resp.status_code == 200
    g = rdflib.Graph().parse(data=resp.data, format=fmt)
    bal = rdflib.URIRef(ID + "province/balochistan")
    psk = rdflib.Namespace(PREFIXES["psk"])
    assert (bal, rdflib.RDFS.label, rdflib.Literal("Balochistan", lang="en")) in g  # its own triples
    assert (bal, psk.country, rdflib.URIRef(ID + "state/pakistan")) in g
    assert (rdflib.URIRef(ID + "group/baloch-liberation-army"), psk.operatesIn, bal) in g  # incoming
    assert (
        rdflib.URIRef(ID + "state/pakistan"),
        rdflib.RDFS.label,
        rdflib.Literal("Pakistan", lang="en"),
    ) in g  # labels of linked
    links = resp.headers["Link"]
    assert '</page/id/province/balochistan>; rel="alternate"; type="text/html"' in links


class Anchors(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.anchors: list[tuple[str, str]] = []
        self._href: str | None = None
        self._text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._href, self._text = dict(attrs).get("href") or "", ""

    def handle_data(self, data: str) -> None:
        if self._href is not None:
            self._text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._href is not None:
            self.anchors.append((self._href, self._text.strip()))
            self._href = None


def seed_entities(store_path: Path) -> tuple[list[str], set[str]]:
    _v, store = LocalStore(store_path).open_read()
    entities = sorted(
        {
            q.subject.value
            for q in store.quads_for_pattern(None, ox.NamedNode(PREFIXES["rdf"] + "type"), None, ox.DefaultGraph())
            if q.subject.value.startswith(ID)
        }
    )
    labelled = {q.subject.value for q in store.quads_for_pattern(None, ox.NamedNode(PREFIXES["rdfs"] + "label"), None)}
    return entities, labelled


def test_every_seed_entity_page_renders_with_labels(client: FlaskClient, full_store: Path) -> None:
    entities, labelled = seed_entities(full_store)
    assert len(entities) > 300
    for iri in entities:
        path = iri[len(CANONICAL_BASE) :]
        resp = get(client, "/page/" + path)
        assert resp.status_code == 200, iri
        assert "Traceback" not in resp.text
        parser = Anchors()
        parser.feed(resp.text)
        raw = [text for _href, text in parser.anchors if text.startswith("http") and text in labelled]
        assert not raw, f"{iri}: IRIs shown raw although they have labels: {raw[:3]}"


def test_entity_page_shows_provenance_and_claims(client: FlaskClient) -> None:
    page = get(client, "/page/id/incident/jaffar-express-hijacking-2025").text
    assert "Jaffar Express hijacking" in page
    assert "reported as fact" in page
    assert html.escape("The train, which was traveling from Quetta to Peshawar", quote=False) in page
    assert re.search(r"\[\d+–\d+\]", page)
    assert "author&#39;s opinion" in page or "author's opinion" in page
    assert "thecurrent.pk" in page  # the external source cited for the province
    claim = get(client, "/page/id/claim/punjab-houses-the-capital").text
    assert "What this claim asserts" in claim and "Contested" in claim


def test_province_incidents_series_filters_and_twins(client: FlaskClient) -> None:
    page = get(client, "/page/id/province/khyber-pakhtunkhwa").text
    assert "<svg" in page and "Incidents per month" in page
    assert "acled-syn0002" in page and "acled-syn0003" in page
    filtered = get(client, "/page/id/province/khyber-pakhtunkhwa", params={"from": "2025-01-01"}).text
    table = filtered[filtered.index('<table class="incidents">') :]
    table = table[: table.index("</table>")]
    assert "acled-syn0002" in table and "acled-syn0003" not in table
    csv_text = get(client, "/incidents/id/province/khyber-pakhtunkhwa.csv", params={"type": PREFIXES["et"] + "battles"}).text
    assert "acled-syn0003" in csv_text and "acled-syn0002" not in csv_text
    data = get(client, "/incidents/id/province/khyber-pakhtunkhwa.json").get_json()
    assert {i["iri"].rsplit("/", 1)[-1] for i in data["incidents"]} >= {"acled-syn0002", "acled-syn0003"}
    link = re.search(r'href="(/query\?query=[^"]+)">open this as a SPARQL query', page)
    assert link is not None
    ran = get(client, html.unescape(link.group(1))).text
    assert "acled-syn0002" in ran


def test_place_with_coordinates_has_map_and_fallback(client: FlaskClient) -> None:
    page = get(client, "/page/id/place/balochistan/synthetic-district-a/synthville").text
    assert 'id="map"' in page and 'data-lat="29.5"' in page
    assert "Location: 29.5, 67" in page  # also readable without JavaScript
    assert 'src="/static/vendor/leaflet/leaflet.js" integrity="sha384-' in page


def test_browse_and_search(client: FlaskClient) -> None:
    home = get(client, "/").text
    assert "Armed group" in home and "/class/ArmedGroup" in home
    members = get(client, "/class/ArmedGroup").text
    assert "Baloch Liberation Army" in members
    assert get(client, "/class/NoSuchClass").status_code == 404
    results = get(client, "/api/search", params={"q": "Baluchistan"}).get_json()
    assert results[0]["iri"] == ID + "province/balochistan"
    assert results[0]["page"] == "/page/id/province/balochistan"
    assert any(r["label"] == "Tehrik-i-Taliban Pakistan" for r in get(client, "/api/search", params={"q": "ttp"}).get_json())
    assert "Baloch Liberation Army" in get(client, "/search", params={"q": "liberation"}).text


@pytest.mark.parametrize("ext,fmt", [("ttl", "turtle"), ("nt", "nt"), ("jsonld", "json-ld"), ("trig", "trig"), ("nq", "nquads")])
def test_dumps_reparse_and_validate(client: FlaskClient, full_store: Path, ext: str, fmt: str) -> None:
    resp = get(client, f"/dumps/pakistan-security-kg.{ext}.gz")
    assert resp.status_code == 200 and resp.headers["Content-Type"] == "application/gzip"
    data = gzip.decompress(resp.data)
    _v, store = LocalStore(full_store).open_read()
    if fmt in ("trig", "nquads"):
        ds = rdflib.Dataset()
        ds.parse(data=data, format=fmt)
        assert sum(1 for _ in ds.quads()) == len(store)
        return
    g = rdflib.Graph().parse(data=data, format=fmt)
    assert len(g) == sum(1 for _ in store.quads_for_pattern(None, None, None, ox.DefaultGraph()))
    if ext == "ttl":
        report = validate(ox.parse(data, format=ox.RdfFormat.TURTLE), with_ontology=False)
        assert report.conforms, report.text


def test_ontology_documentation(client: FlaskClient) -> None:
    page = get(client, "/ontology", "text/html")
    assert page.status_code == 200 and 'id="ArmedGroup"' in page.text and "aligned to" in page.text
    ttl = get(client, "/ontology", "text/turtle")
    g = rdflib.Graph().parse(data=ttl.text, format="turtle")
    assert (rdflib.URIRef(PREFIXES["psk"] + "Grievance"), rdflib.RDF.type, rdflib.OWL.Class) in g
    assert rdflib.Graph().parse(data=get(client, "/ontology.jsonld").text, format="json-ld")


def test_void(client: FlaskClient) -> None:
    g = rdflib.Graph().parse(data=get(client, "/.well-known/void", "text/turtle").text, format="turtle")
    assert int(next(g.objects(None, rdflib.URIRef("http://rdfs.org/ns/void#triples")))) > 4000


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FlaskClient]:
    """A store whose data contains markup, to check that pages escape it."""
    tmp = tmp_path_factory.mktemp("hostile")
    path = tmp / "store"
    build(LocalStore(path), Base())
    rows = (FIXTURES / "acled_small.csv").read_text(encoding="utf-8").splitlines()
    evil = (
        rows[1]
        .replace("BLA: Baloch Liberation Army", '"<script>alert(1)</script> & <b>Co</b>"', 1)
        .replace("SYN0001", "SYN0666", 1)
    )
    (tmp / "evil.csv").write_text(rows[0] + "\n" + evil + "\n", encoding="utf-8")
    assert rows[0].split(",") == ACLED_COLUMNS
    load_files("acled", [tmp / "evil.csv"], Settings(store=str(path)))
    app = create_app(Settings(store=str(path)))
    yield app.test_client()
    app.extensions["psk"]["backend"].close()


def test_html_is_escaped(hostile: FlaskClient) -> None:
    page = get(hostile, "/page/id/incident/acled-syn0666").text
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;Co&lt;/b&gt;" in page
    search = get(hostile, "/search", params={"q": "<script>"}).text
    assert "<script>alert" not in search
    query = get(hostile, "/query", params={"query": "SELECT ?l WHERE { ?s rdfs:label ?l FILTER(CONTAINS(?l, 'script')) }"}).text
    assert "<script>alert" not in query and "&lt;script&gt;" in query


def test_incident_tables_are_cached_per_dataset_version(tmp_path: Path) -> None:
    """A repeated view re-uses the page's incident table; a new dataset version (a load) is seen at once."""
    from server import create_app

    path = tmp_path / "store"
    build(LocalStore(path), Base())
    load_files("acled", [FIXTURES / "acled_small.csv"], Settings(store=str(path)))
    app = create_app(Settings(store=str(path)))
    client = app.test_client()
    cache = app.extensions["psk"]["reader"]._incidents
    url = "/incidents/id/province/balochistan.json"
    before = client.get(url).get_json()["incidents"]
    assert before and cache.hits == 0
    assert client.get("/page/id/province/balochistan").status_code == 200
    hits = cache.hits
    assert client.get("/page/id/province/balochistan").status_code == 200 and cache.hits == hits + 1
    filtered = client.get(url, query_string={"from": before[-1]["date"]}).get_json()["incidents"]
    assert filtered and all(it["date"] >= before[-1]["date"] for it in filtered)
    # a second export adds one more Balochistan event: the next request reads the new version's table
    lines = (FIXTURES / "acled_small.csv").read_text(encoding="utf-8").splitlines()
    balochistan = next(line for line in lines[1:] if ",Baluchistan," in line)  # the ACLED spelling
    event_id = balochistan.split(",", 1)[0]
    (tmp_path / "more.csv").write_text(lines[0] + "\n" + balochistan.replace(event_id, "NEW0001", 1) + "\n", encoding="utf-8")
    load_files("acled", [tmp_path / "more.csv"], Settings(store=str(path)))
    app.extensions["psk"]["backend"]._checked = 0.0  # the version is re-read at most every 50 ms
    after = client.get(url).get_json()["incidents"]
    assert len(after) == len(before) + 1 and any(it["iri"].endswith("/incident/acled-new0001") for it in after)
    app.extensions["psk"]["backend"].close()


def test_many_incoming_subjects_are_the_same_sample_as_the_sparql_query(app: Flask) -> None:
    """On the embedded store an incoming property with many subjects is sampled in Python (Oxigraph's ORDER BY is
    slow over many IRIs); the sample is the one entity_incoming_sample.rq gives: the first 25 by IRI, with labels."""
    reader = app.extensions["psk"]["reader"]
    article = ox.NamedNode(Base().entity("source/the-unraveling-of-pakistan"))
    checked = 0
    for prop in (PSK + "source", "http://www.w3.org/ns/oa#hasSource"):
        p = ox.NamedNode(prop)
        want = tuple(
            (s.value, label_or_curie(s.value, sl))
            for s, sl in cols(reader._select("entity_incoming_sample", entity=article, p=p), "s", "sLabel")
        )
        got = tuple((r.iri, r.label) for r in reader._first_subjects(article, p))
        assert len(want) == 25 and got == want
        checked += 1
    assert checked == 2
