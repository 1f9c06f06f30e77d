"""Both production HTTP servers (Granian, the default, and gunicorn) answer the protocol the same way."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from .helpers import Server

LOOKUP = "SELECT ?p ?o WHERE { <https://w3id.org/pakistan-security-kg/id/incident/acled-syn0001> ?p ?o }"
GROUPED = "SELECT ?type (COUNT(?i) AS ?n) WHERE { ?i a psk:Incident ; psk:eventType ?type } GROUP BY ?type ORDER BY ?type"
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"


@pytest.fixture(scope="module")
def gunicorn_server(full_store: Path) -> Iterator[str]:
    srv = Server({"PSK_STORE": str(full_store), "PSK_MAX_ROWS": "50"}, "--workers", "2", "--timeout", "3", "--server", "gunicorn")
    yield srv.url
    srv.stop()


@pytest.fixture(params=["granian", "gunicorn"])
def any_server(request: pytest.FixtureRequest) -> str:
    return str(request.getfixturevalue("server" if request.param == "granian" else "gunicorn_server"))


def test_queries_pages_and_dumps(any_server: str) -> None:
    url = any_server + "/sparql"
    lookup = requests.post(url, data={"query": LOOKUP}, headers={"Accept": "application/sparql-results+json"}, timeout=30)
    assert lookup.status_code == 200 and len(lookup.json()["results"]["bindings"]) > 5
    grouped = requests.get(url, params={"query": GROUPED, "format": "csv"}, timeout=30)
    assert grouped.status_code == 200 and grouped.text.startswith("type,n\r\n")
    again = requests.get(
        url, params={"query": GROUPED, "format": "csv"}, headers={"If-None-Match": grouped.headers["ETag"]}, timeout=30
    )
    assert again.status_code == 304 and not again.content
    head = requests.head(url, params={"query": LOOKUP}, timeout=30)
    assert head.status_code == 200 and not head.content and int(head.headers["Content-Length"]) == len(lookup.content)
    assert requests.put(url, params={"query": LOOKUP}, timeout=30).status_code == 405
    assert "sd:Service" in requests.get(url, headers={"Accept": "text/turtle"}, timeout=30).text
    page = requests.get(any_server + "/page/id/province/balochistan", timeout=30)
    assert page.status_code == 200 and "Balochistan" in page.text
    dump = requests.get(any_server + "/dumps/pakistan-security-kg.nt.gz", timeout=60)
    assert dump.status_code == 200 and b"Balochistan" in gzip.decompress(dump.content)


def test_runaway_query_is_stopped_while_lookups_flow(any_server: str) -> None:
    url = any_server + "/sparql"
    with ThreadPoolExecutor(4) as pool:
        runaway = pool.submit(requests.get, url, params={"query": RUNAWAY}, timeout=60)
        lookups = [pool.submit(requests.post, url, data={"query": LOOKUP + f" # {i}"}, timeout=30) for i in range(40)]
        assert all(f.result().status_code == 200 for f in lookups)
        stopped = runaway.result()
    assert stopped.status_code == 503 and "time limit" in stopped.text
