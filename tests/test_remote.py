"""The same app over a remote SPARQL 1.1 store: a real Oxigraph server (PyPI `oxigraph`) on 127.0.0.1."""

from __future__ import annotations

import csv
import gzip
import io
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import rdflib
import requests

from .conftest import FIXTURES
from .helpers import OxigraphServer, Server

COUNT = "SELECT (COUNT(*) AS ?n) WHERE { { ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } } }"


def kg(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from kg.cli import main; main()", *args], capture_output=True, text=True, timeout=300, env=env
    )


def count(url: str) -> int:
    resp = requests.post(url + "/query", data={"query": COUNT}, headers={"Accept": "text/csv"}, timeout=60)
    return int(list(csv.reader(io.StringIO(resp.text)))[1][0])


@pytest.fixture(scope="module")
def oxigraph(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    srv = OxigraphServer(tmp_path_factory.mktemp("oxigraph"))
    yield srv.url
    srv.stop()


@pytest.fixture(scope="module")
def remote_app(oxigraph: str) -> Iterator[str]:
    built = kg("build", "--into", oxigraph)
    assert built.returncode == 0, built.stderr
    loaded = kg("load", "acled", "--into", oxigraph, str(FIXTURES / "acled_small.csv"))
    assert loaded.returncode == 0, loaded.stderr
    srv = Server({}, "--store", oxigraph, "--workers", "1")
    yield srv.url
    srv.stop()


def results(url: str, query: str) -> list[tuple[str, ...]]:
    resp = requests.get(
        url + "/sparql", params={"query": query}, headers={"Accept": "application/sparql-results+json"}, timeout=60
    )
    assert resp.status_code == 200, resp.text
    data = resp.json()
    return sorted(tuple(b.get(v, {}).get("value", "") for v in data["head"]["vars"]) for b in data["results"]["bindings"])


@pytest.mark.parametrize(
    "query",
    [
        "SELECT ?g ?l WHERE { ?g a psk:ArmedGroup ; rdfs:label ?l }",
        "SELECT ?i ?d ?p WHERE { ?i a psk:Incident ; psk:date ?d ; psk:province ?p }",
        "SELECT ?c ?q WHERE { ?c psk:citesCause fa:foreign-pressure ; psk:evidence/oa:hasSelector/oa:exact ?q }",
        "SELECT ?s ?o WHERE { GRAPH ?g { ?s psk:locatedIn ?o } }",
    ],
)
def test_endpoint_answers_like_the_embedded_store(server: str, remote_app: str, query: str) -> None:
    assert results(remote_app, query) == results(server, query)


def test_pages_and_conneg_behave_the_same(server: str, remote_app: str) -> None:
    for path in (
        "/page/id/province/balochistan",
        "/page/id/incident/jaffar-express-hijacking-2025",
        "/page/id/claim/punjab-houses-the-capital",
    ):
        local, remote = requests.get(server + path, timeout=60), requests.get(remote_app + path, timeout=60)
        assert remote.status_code == 200
        assert remote.text.count("<tr>") == local.text.count("<tr>")
        assert remote.text.count("reported as fact") == local.text.count("reported as fact")
    resp = requests.get(
        remote_app + "/id/province/balochistan", headers={"Accept": "text/turtle"}, allow_redirects=False, timeout=60
    )
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/data/id/province/balochistan.ttl")
    data = rdflib.Graph().parse(data=requests.get(remote_app + resp.headers["Location"], timeout=60).text, format="turtle")
    assert len(data) > 30
    assert (
        requests.get(remote_app + "/api/search", params={"q": "liberation"}, timeout=60).json()[0]["label"]
        == "Baloch Liberation Army"
    )


def test_dumps_stream_from_the_remote_store(oxigraph: str, remote_app: str) -> None:
    resp = requests.get(remote_app + "/dumps/pakistan-security-kg.nq.gz", timeout=120)
    assert resp.status_code == 200
    ds = rdflib.Dataset()
    ds.parse(data=gzip.decompress(resp.content), format="nquads")
    assert sum(1 for _ in ds.quads()) == count(oxigraph)


def test_remote_loads_are_idempotent_and_bad_rows_change_nothing(oxigraph: str, remote_app: str, tmp_path: Path) -> None:
    before = count(oxigraph)
    again = kg("load", "acled", "--into", oxigraph, str(FIXTURES / "acled_small.csv"))
    assert again.returncode == 0, again.stderr
    after = count(oxigraph)
    assert after == before
    bad = tmp_path / "bad.csv"
    lines = (FIXTURES / "acled_small.csv").read_text(encoding="utf-8").splitlines()
    bad.write_text(
        "\n".join(
            [
                lines[0],
                lines[1],
                lines[2].replace("Khyber Pakhtunkhwa", "Khyber Pakhtunkhwa", 1).replace(",0,,1736200000", ",lots,,1736200000"),
            ]
        )
        + "\n"
    )
    failed = kg("load", "acled", "--into", oxigraph, str(bad))
    assert failed.returncode == 1
    assert "line 3" in failed.stderr and "'fatalities'" in failed.stderr and "Traceback" not in failed.stderr
    assert count(oxigraph) == before
