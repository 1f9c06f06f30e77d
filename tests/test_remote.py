"""The same app over a remote SPARQL 1.1 store: a real Oxigraph server (PyPI `oxigraph`) and a real Virtuoso 7
(Debian's virtuoso-opensource-7, headless with its own ini), both on 127.0.0.1."""

from __future__ import annotations

import csv
import gzip
import io
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
import rdflib
import rdflib.compare
import requests

from kg.dialect import Virtuoso, with_prologue
from kg.remote import RemoteStore
from kg.sparql import QueryTimeout

from .conftest import FIXTURES
from .helpers import OxigraphServer, PausingProxy, Server, VirtuosoServer, free_port

BASE = "https://w3id.org/pakistan-security-kg/"


@dataclass
class Remote:
    kind: str
    url: str  # what `kg --into` and `kg serve --store` take
    server: OxigraphServer | VirtuosoServer
    env: dict[str, str] = field(default_factory=dict)

    def raw(self, query: str, **params: str) -> list[list[str]]:
        """A query sent straight to the server (not through our adapter), as CSV rows."""
        url = self.url + "/query" if self.kind == "oxigraph" else self.url
        resp = requests.post(url, data={"query": query, **params}, headers={"Accept": "text/csv"}, timeout=60)
        assert resp.status_code == 200, resp.text
        return list(csv.reader(io.StringIO(resp.text)))[1:]

    def count(self) -> int:
        """Quads of the app's dataset as the server holds them (staging graphs not counted)."""
        if self.kind == "oxigraph":
            q = (
                "SELECT (COUNT(*) AS ?n) WHERE { { ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } "
                "FILTER(!STRSTARTS(STR(?g), 'urn:psk:staging:')) } }"
            )
            return int(self.raw(q)[0][0])
        q = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH ?g {{ ?s ?p ?o }} FILTER(?g = <urn:psk:default> || STRSTARTS(STR(?g), '{BASE}')) }}"
        return int(self.raw(q)[0][0])

    def staging_graphs(self) -> int:
        q = "SELECT (COUNT(DISTINCT ?g) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } FILTER(STRSTARTS(STR(?g), 'urn:psk:staging:')) }"
        return int(self.raw(q)[0][0])

    def kill(self) -> None:
        self.server.kill()

    def restart(self) -> None:
        self.server.start()


def make_remote(kind: str, request: pytest.FixtureRequest, tmp: Path) -> tuple[Remote, bool]:
    """(remote, owned): Oxigraph server fresh in tmp; Virtuoso the session's server, or a fresh one when owned."""
    if kind == "oxigraph":
        ox_srv = OxigraphServer(tmp)
        return Remote(kind, ox_srv.url, ox_srv), True
    request.getfixturevalue("virtuoso")  # skips when Virtuoso is not installed
    v = VirtuosoServer(tmp)
    return Remote(kind, v.url, v, v.env), True


def kg(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from kg.cli import main; main()", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
    )


def kg_popen(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", "from kg.cli import main; main()", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
        start_new_session=True,
    )


@pytest.fixture(scope="module", params=["oxigraph", "virtuoso"])
def remote(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Remote]:
    if request.param == "virtuoso":
        v: VirtuosoServer = request.getfixturevalue("virtuoso")
        yield Remote("virtuoso", v.url, v, v.env)
        return
    srv = OxigraphServer(tmp_path_factory.mktemp("oxigraph"))
    yield Remote("oxigraph", srv.url, srv)
    srv.stop()


@pytest.fixture(scope="module")
def remote_app(remote: Remote) -> Iterator[str]:
    built = kg("build", "--into", remote.url, env=remote.env)
    assert built.returncode == 0, built.stderr
    loaded = kg("load", "acled", "--into", remote.url, str(FIXTURES / "acled_small.csv"), env=remote.env)
    assert loaded.returncode == 0, loaded.stderr
    srv = Server(remote.env, "--store", remote.url, "--workers", "1", "--timeout", "3")
    yield srv.url
    srv.stop()


def results(url: str, query: str) -> list[tuple[str, ...]]:
    resp = requests.get(
        url + "/sparql", params={"query": query}, headers={"Accept": "application/sparql-results+json"}, timeout=60
    )
    assert resp.status_code == 200, resp.text
    assert "X-SPARQL-Truncated" not in resp.headers
    data = resp.json()
    return sorted(tuple(b.get(v, {}).get("value", "") for v in data["head"]["vars"]) for b in data["results"]["bindings"])


@pytest.mark.parametrize(
    "query",
    [
        "SELECT ?g ?l WHERE { ?g a psk:ArmedGroup ; rdfs:label ?l }",
        "SELECT ?i ?d ?p WHERE { ?i a psk:Incident ; psk:date ?d ; psk:province ?p }",
        "SELECT ?c ?q WHERE { ?c psk:citesCause fa:foreign-pressure ; psk:evidence/oa:hasSelector/oa:exact ?q }",
        "SELECT ?s ?o WHERE { GRAPH ?g { ?s psk:locatedIn ?o } }",
        # the dataset: the default graph holds no claim-graph triple, GRAPH ?g ranges over the claim graphs only
        "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g",
        "SELECT (COUNT(*) AS ?n) WHERE { ?s a psk:Incident ; ?p ?o }",
        "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }",
        # aggregates, GROUP BY on an expression, ORDER BY on an alias
        "SELECT ?y (COUNT(?i) AS ?n) (SUM(?f) AS ?dead) WHERE { ?i a psk:Incident ; psk:date ?d ; psk:fatalities ?f }"
        " GROUP BY (YEAR(?d) AS ?y) ORDER BY ?y",
        # a query's own BASE goes before our predeclared prefixes (Virtuoso refuses BASE after PREFIX)
        "BASE <http://example.org/x/> SELECT ?x ?l WHERE { BIND(<rel> AS ?x) ?g a psk:ArmedGroup ; rdfs:label ?l }",
        "# a comment first\nBASE <http://example.org/> PREFIX ex: <ns#> SELECT ?x WHERE { BIND(ex:a AS ?x) }",
    ],
)
def test_endpoint_answers_like_the_embedded_store(server: str, remote_app: str, query: str) -> None:
    assert results(remote_app, query) == results(server, query)


PAGES = (
    "/page/id/province/balochistan",
    "/page/id/province/khyber-pakhtunkhwa",
    "/page/id/incident/jaffar-express-hijacking-2025",
    "/page/id/incident/acled-syn0001",
    "/page/id/incident/acled-syn0002",
    "/page/id/claim/punjab-houses-the-capital",
    "/page/id/group/baloch-liberation-army",
    "/class/",
    "/class/Statement",
    "/class/Claim",
    "/",
    "/search?q=bal",
    "/void",
)


def _body(html: str, server_url: str) -> str:
    """A page without what legitimately differs between two servers: their own address, the backend's name."""
    html = re.sub(r"http://127\.0\.0\.1:\d+", "", html)
    html = re.sub(r'<p class="meta">Store: .*?</p>', "", html)
    return re.sub(r'"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"\^\^xsd:dateTime', "TIME", html)  # when each store was loaded


@pytest.mark.parametrize("path", PAGES)
def test_pages_are_the_same_as_over_the_embedded_store(server: str, remote_app: str, path: str) -> None:
    local, remote = requests.get(server + path, timeout=60), requests.get(remote_app + path, timeout=60)
    assert local.status_code == 200
    assert remote.status_code == 200
    assert _body(remote.text, remote_app) == _body(local.text, server)


def test_entity_data_search_and_conneg_are_the_same(server: str, remote_app: str) -> None:
    resp = requests.get(
        remote_app + "/id/province/balochistan", headers={"Accept": "text/turtle"}, allow_redirects=False, timeout=60
    )
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/data/id/province/balochistan.ttl")
    for path in ("/data/id/province/balochistan.ttl", "/data/id/group/baloch-liberation-army.nt"):
        assert requests.get(remote_app + path, timeout=60).text == requests.get(server + path, timeout=60).text
    for path in ("/data/id/province/balochistan.nt", "/data/id/group/baloch-liberation-army.nt"):
        local = rdflib.Graph().parse(data=requests.get(server + path, timeout=60).text, format="nt")
        remote = rdflib.Graph().parse(data=requests.get(remote_app + path, timeout=60).text, format="nt")
        assert len(remote) > 30
        assert rdflib.compare.isomorphic(local, remote)
    for q in ("liberation", "bal", "kh", "jaffar", "synth"):
        local_hits = requests.get(server + "/api/search", params={"q": q}, timeout=60).json()
        remote_hits = requests.get(remote_app + "/api/search", params={"q": q}, timeout=60).json()
        assert remote_hits == local_hits and local_hits, q
    assert requests.get(remote_app + "/api/search", params={"q": "liberation"}, timeout=60).json()[0]["label"] == (
        "Baloch Liberation Army"
    )
    for path in ("/page/id/province/balochistan.csv", "/page/id/province/khyber-pakhtunkhwa.json"):
        assert requests.get(remote_app + path, timeout=60).text == requests.get(server + path, timeout=60).text


def test_dumps_stream_from_the_remote_store(remote: Remote, remote_app: str, server: str) -> None:
    resp = requests.get(remote_app + "/dumps/pakistan-security-kg.nq.gz", timeout=120)
    assert resp.status_code == 200
    ds = rdflib.Dataset()
    ds.parse(data=gzip.decompress(resp.content), format="nquads")
    assert sum(1 for _ in ds.quads()) == remote.count()
    ttl = requests.get(remote_app + "/dumps/pakistan-security-kg.ttl.gz", timeout=120)
    assert ttl.status_code == 200
    graph = rdflib.Graph().parse(data=gzip.decompress(ttl.content), format="turtle")
    local = requests.get(server + "/dumps/pakistan-security-kg.ttl.gz", timeout=120)
    local_graph = rdflib.Graph().parse(data=gzip.decompress(local.content), format="turtle")

    # the same default graph apart from the dataset's modification time (each store was loaded at its own time)
    modified = rdflib.URIRef("http://purl.org/dc/terms/modified")

    def data(g: rdflib.Graph) -> set[tuple[rdflib.term.Node, ...]]:
        return {t for t in g if t[1] != modified and not _is_wkt(t[2])}

    assert data(graph) == data(local_graph) and len(data(graph)) > 1000
    # WKT literals: Virtuoso keeps coordinates in single precision and rewrites the text (upstream #803/#808)
    wkt, local_wkt = sorted(_points(graph)), sorted(_points(local_graph))
    assert len(wkt) == len(local_wkt) > 0
    for (s, xy), (local_s, local_xy) in zip(wkt, local_wkt, strict=True):
        assert s == local_s and all(abs(a - b) < 1e-4 for a, b in zip(xy, local_xy, strict=True))


def _is_wkt(o: rdflib.term.Node) -> bool:
    return isinstance(o, rdflib.Literal) and str(o.datatype).endswith("#wktLiteral")


def _points(g: rdflib.Graph) -> list[tuple[str, tuple[float, ...]]]:
    out = []
    for s, _p, o in g:
        if _is_wkt(o):
            m = re.match(r"POINT\s*\(([-\d.]+) ([-\d.]+)\)", str(o), re.IGNORECASE)
            assert m, o
            out.append((str(s), (float(m.group(1)), float(m.group(2)))))
    return out


def test_remote_loads_are_idempotent_and_bad_rows_change_nothing(remote: Remote, remote_app: str, tmp_path: Path) -> None:
    before = remote.count()
    again = kg("load", "acled", "--into", remote.url, str(FIXTURES / "acled_small.csv"), env=remote.env)
    assert again.returncode == 0, again.stderr
    assert remote.count() == before
    bad = tmp_path / "bad.csv"
    lines = (FIXTURES / "acled_small.csv").read_text(encoding="utf-8").splitlines()
    bad.write_text("\n".join([lines[0], lines[1], lines[2].replace(",0,,1736200000", ",lots,,1736200000")]) + "\n")
    failed = kg("load", "acled", "--into", remote.url, str(bad), env=remote.env)
    assert failed.returncode == 1
    assert "line 3" in failed.stderr and "'fatalities'" in failed.stderr and "Traceback" not in failed.stderr
    assert remote.count() == before
    assert remote.staging_graphs() == 0


# -- Virtuoso's traps: its row cap and its time limit -------------------------------------------------------


def test_virtuoso_row_cap_is_reported_as_truncation(remote: Remote, remote_app: str) -> None:
    if remote.kind != "virtuoso":
        pytest.skip("Virtuoso's ResultSetMaxRows")
    cap = remote.server.max_rows  # type: ignore[union-attr]
    total = int(remote.raw("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", **{"default-graph-uri": "urn:psk:default"})[0][0])
    assert total > cap
    for query, media in (
        ("SELECT ?s ?p ?o WHERE { ?s ?p ?o }", "application/sparql-results+json"),
        ("SELECT ?s ?p ?o WHERE { ?s ?p ?o }", "text/csv"),
        ("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }", "application/n-triples"),
    ):
        resp = requests.get(remote_app + "/sparql", params={"query": query}, headers={"Accept": media}, timeout=60)
        assert resp.status_code == 200
        assert resp.headers.get("X-SPARQL-Truncated"), (query, media)
        assert int(resp.headers["X-SPARQL-Rows"]) in (cap, cap + 1)  # CONSTRUCT: Virtuoso sends one more
    # under the cap: complete, not flagged
    resp = requests.get(remote_app + "/sparql", params={"query": "SELECT ?s WHERE { ?s a psk:Province }"}, timeout=60)
    assert resp.status_code == 200 and "X-SPARQL-Truncated" not in resp.headers
    # the app's own page queries read past the cap in pages: a class page with more members than the cap
    statements = int(
        remote.raw(
            "SELECT (COUNT(*) AS ?n) WHERE { ?s a <https://w3id.org/pakistan-security-kg/ontology#Statement> }",
            **{"default-graph-uri": "urn:psk:default"},
        )[0][0]
    )
    rows = RemoteStore(remote.url).execute("SELECT ?s WHERE { ?s a psk:Statement } ORDER BY ?s", max_rows=100_000, complete=True)
    assert len(rows.rows) == statements and not rows.truncated
    capped = RemoteStore(remote.url).execute("SELECT ?s WHERE { ?s ?p ?o }", max_rows=100_000)
    assert capped.truncated and len(capped.rows) == cap


CROSS = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?p ?b . ?c ?q ?d . ?e ?r ?f FILTER(STR(?b) < STR(?f)) }"


def test_virtuoso_time_limit_is_our_time_limit_error(remote: Remote, remote_app: str) -> None:
    if remote.kind != "virtuoso":
        pytest.skip("Virtuoso's partial answers on time-out (S1TAT)")
    store = RemoteStore(remote.url)
    # our limit, sent to Virtuoso as its anytime-query timeout: it answers 200 with a partial result and S1TAT
    with pytest.raises(QueryTimeout):
        store.execute(CROSS, max_rows=10, timeout=1)
    # the server's own MaxQueryExecutionTime (5 s in the test ini) under a longer limit of ours
    with pytest.raises(QueryTimeout):
        store.execute(CROSS, max_rows=10, timeout=30)
    resp = requests.get(remote_app + "/sparql", params={"query": CROSS}, timeout=60)
    assert resp.status_code == 503
    assert "time limit" in resp.text
    ordered = "SELECT ?a ?c WHERE { ?a ?p ?b . ?c ?q ?d . ?e ?r ?f } ORDER BY ?a LIMIT 5"
    resp = requests.get(remote_app + "/sparql", params={"query": ordered}, timeout=60)
    assert resp.status_code == 503, resp.text


def test_prologue_puts_base_first() -> None:
    prefixes = "PREFIX a: <http://a/>\n"
    assert (
        with_prologue("SELECT * {}", prefixes, "http://e/sparql") == "BASE <http://e/sparql>\nPREFIX a: <http://a/>\nSELECT * {}"
    )
    assert (
        with_prologue("BASE <http://x/> SELECT * {}", prefixes, "http://e/")
        == "BASE <http://x/>\nPREFIX a: <http://a/>\n SELECT * {}"
    )
    got = with_prologue("# c\nbase <http://x/>\nPREFIX b: <y#> SELECT * {}", prefixes)
    assert got.index("base <http://x/>") < got.index("PREFIX a:") < got.index("PREFIX b:")
    assert with_prologue("SELECT * {}", prefixes) == prefixes + "SELECT * {}"
    v = Virtuoso()
    dataset = v.dataset(None, None, ["https://g/1"])
    assert dataset == [("default-graph-uri", "urn:psk:default"), ("named-graph-uri", "https://g/1")]
    assert v.dataset(["http://d"], None, ["https://g/1"]) == [("default-graph-uri", "http://d")]


# -- a remote that is down ------------------------------------------------------------------------------------


def test_a_remote_store_that_is_down_answers_503_naming_no_address() -> None:
    port = free_port()  # nothing listens there
    srv = Server({}, "--store", f"http://127.0.0.1:{port}/sparql", "--workers", "1")
    try:
        for path, params in (
            ("/sparql", {"query": "SELECT * WHERE { ?s ?p ?o } LIMIT 1"}),
            ("/page/id/province/balochistan", {}),
        ):
            for accept in ("text/html", "application/sparql-results+json"):
                resp = requests.get(srv.url + path, params=params, headers={"Accept": accept}, timeout=30)
                assert resp.status_code == 503, (path, resp.text)
                assert f":{port}" not in resp.text  # (the page names its own address, not the store's)
                assert "unavailable" in resp.text.lower() or "unreachable" in resp.text.lower()
        health = requests.get(srv.url + "/healthz", timeout=30)
        assert health.status_code == 503
        assert health.json()["state"] == "down" and health.json()["backend"] == "remote"
        assert f":{port}" not in health.text and "127.0.0.1" not in health.text
    finally:
        srv.stop()


def test_virtuoso_writes_need_the_credentials(remote: Remote, remote_app: str) -> None:
    if remote.kind != "virtuoso":
        pytest.skip("Virtuoso's digest-authenticated endpoints")
    before = remote.count()
    wrong = kg("build", "--into", remote.url, env={**remote.env, "PSK_REMOTE_PASSWORD": "dba"})
    assert wrong.returncode == 1 and "401" in wrong.stderr and "Traceback" not in wrong.stderr
    assert remote.count() == before


def test_healthz_reports_a_remote_store_that_is_up(remote: Remote, remote_app: str) -> None:
    health = requests.get(remote_app + "/healthz", timeout=30)
    assert health.status_code == 200
    body = health.json()
    assert body["state"] == "up" and body["dialect"] == ("virtuoso" if remote.kind == "virtuoso" else "sparql11")
    assert body["version"] != "empty"


# -- atomic loads: a kill at any point of the upload leaves the remote as before -------------------------------

MARKER = "Marker note of the fault test"


def _second_file(tmp: Path) -> Path:
    """20 new events; the 10th carries MARKER in its notes, which only the data upload contains."""
    lines = (FIXTURES / "acled_small.csv").read_text(encoding="utf-8").splitlines()
    out = [lines[0]]
    for i in range(20):
        row = lines[1].replace("SYN0001", f"SYN1{i:03d}")
        if i == 10:
            row = row.replace("Synthetic test event, not real data.", MARKER)
        out.append(row)
    path = tmp / "second.csv"
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    return path


def _incidents(remote: Remote, app_url: str) -> int:
    resp = requests.get(
        app_url + "/sparql",
        params={"query": "SELECT (COUNT(?i) AS ?n) WHERE { ?i a psk:Incident }"},
        headers={"Accept": "text/csv"},
        timeout=60,
    )
    assert resp.status_code == 200, resp.text
    return int(resp.text.splitlines()[1])


@pytest.mark.parametrize("kind", ["oxigraph", "virtuoso"])
@pytest.mark.parametrize("what", ["build", "load"])
def test_a_write_killed_mid_upload_leaves_the_remote_as_before(
    kind: str, what: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    rem, _owned = make_remote(kind, request, tmp_path / "remote")
    app: Server | None = None
    try:
        assert kg("build", "--into", rem.url, env=rem.env).returncode == 0
        assert kg("load", "acled", "--into", rem.url, str(FIXTURES / "acled_small.csv"), env=rem.env).returncode == 0
        app = Server(rem.env, "--store", rem.url, "--workers", "1")
        before, incidents = rem.count(), _incidents(rem, app.url)
        second = _second_file(tmp_path)
        # build: the seed graph's upload carries the article's quotes; load: the marker row
        marker = b"Jaffar Express" if what == "build" else MARKER.encode()

        def args(url: str) -> list[str]:
            return ["build", "--into", url] if what == "build" else ["load", "acled", "--into", url, str(second)]

        port = rem.server.port if isinstance(rem.server, OxigraphServer) else rem.server.http_port

        # 1. the uploading process killed half way through its upload
        proxy = PausingProxy(port, marker)
        into = proxy.url("/sparql" if kind == "virtuoso" else "")
        writer = kg_popen(*args(into), env=rem.env)
        assert proxy.paused.wait(120), writer.communicate()
        assert rem.count() == before and _incidents(rem, app.url) == incidents  # readers see the old data
        os.killpg(writer.pid, signal.SIGKILL)
        writer.wait()
        proxy.close()
        assert rem.count() == before and _incidents(rem, app.url) == incidents

        # 2. the remote server killed (kill -9) half way through an upload, then restarted
        proxy = PausingProxy(port, marker)
        writer = kg_popen(*args(proxy.url("/sparql" if kind == "virtuoso" else "")), env=rem.env)
        assert proxy.paused.wait(120), writer.communicate()
        rem.kill()
        proxy.close()
        _out, err = writer.communicate(timeout=120)
        assert writer.returncode == 1 and "Traceback" not in err, err
        assert "127.0.0.1" not in err
        rem.restart()
        assert rem.count() == before and _incidents(rem, app.url) == incidents

        # 3. the next write succeeds and drops what the dead ones left
        done = kg(*args(rem.url), env=rem.env)
        assert done.returncode == 0, done.stderr
        assert rem.staging_graphs() == 0
        fresh = RemoteStore(rem.url).execute("SELECT (COUNT(?i) AS ?n) WHERE { ?i a psk:Incident }", max_rows=1)
        # a load adds its 20 events; a build holds the seed incidents only
        assert int(fresh.rows[0][0].value) == (incidents + 20 if what == "load" else incidents - 4)
    finally:
        if app is not None:
            app.stop()
        rem.server.stop()


def test_large_uploads_go_in_chunks(remote: Remote, remote_app: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import kg.remote
    from kg.config import Settings

    monkeypatch.setattr(kg.remote, "CHUNK_BYTES", 4096)
    subjects = [f"{BASE}id/test/chunk-{i}" for i in range(2000)]
    data = tmp_path / "chunks.nt"
    data.write_text(
        "".join(f'<{s}> <http://www.w3.org/2000/01/rdf-schema#label> "chunk {i}" .\n' for i, s in enumerate(subjects))
    )
    assert data.stat().st_size > 20 * 4096
    env = remote.env
    settings = Settings(remote_user=env.get("PSK_REMOTE_USER"), remote_password=env.get("PSK_REMOTE_PASSWORD"))
    store = RemoteStore(remote.url, settings=settings)
    puts: list[str] = []
    real = store._gsp

    def spy(method: str, graph: str | None, body: Any, media: str) -> None:
        puts.append(method)
        real(method, graph, body, media)

    monkeypatch.setattr(store, "_gsp", spy)
    before = remote.count()
    store.replace_subjects_and_load(subjects, data)
    assert puts.count("POST") >= 20  # the data went in chunks (after the PUTs that open each staging graph)
    q = "SELECT (COUNT(*) AS ?n) WHERE { ?s <http://www.w3.org/2000/01/rdf-schema#label> ?l FILTER(STRSTARTS(STR(?s), ?p)) }"
    got = store.execute(q, max_rows=1, bindings={"p": ox.Literal(f"{BASE}id/test/chunk-")})
    assert int(got.rows[0][0].value) == 2000
    empty = tmp_path / "empty.nt"
    empty.write_text("")
    store.replace_subjects_and_load(subjects, empty)  # removes them again
    assert remote.count() == before
    assert remote.staging_graphs() == 0


def test_a_build_with_a_named_graph_no_reader_could_find_is_refused() -> None:
    """Readers over Virtuoso find the app's named graphs from its default graph (claims' psk:assertionGraph, and the
    statistics graph): a build of any other named graph would be invisible to them, so it is refused before anything
    is sent (no server is listening here)."""
    from kg.errors import RemoteError
    from kg.namespaces import Base

    stray = ox.Quad(
        ox.NamedNode("https://example.org/s"), ox.NamedNode("https://example.org/p"), ox.Literal("o"),
        ox.NamedNode(Base().graph("stray")),
    )  # fmt: skip
    with pytest.raises(RemoteError, match="neither a claim's psk:assertionGraph nor the statistics graph"):
        RemoteStore(f"http://127.0.0.1:{free_port()}/sparql").replace_all([stray], Base())
