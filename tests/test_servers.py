"""Both production HTTP servers (Granian, the default, and gunicorn) answer the protocol the same way."""

from __future__ import annotations

import ctypes.util
import gzip
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from kg import allocator
from kg.allocator import PREFERRED

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


def expected_allocator() -> str:
    """What `--allocator auto` must give on this machine: the first of jemalloc, mimalloc installed, else glibc's."""
    return next((name for name in PREFERRED if ctypes.util.find_library(name)), "system")


@pytest.mark.parametrize("server_name", ["granian", "gunicorn"])
def test_serve_preloads_the_best_installed_allocator(full_store: Path, server_name: str) -> None:
    srv = Server({"PSK_STORE": str(full_store)}, "--server", server_name, "--workers", "1")
    try:
        assert requests.get(srv.url + "/healthz", timeout=30).json()["allocator"] == expected_allocator()
        # the query processes (spawned) inherit it: a query that takes the worker pool answers as before
        grouped = requests.get(srv.url + "/sparql", params={"query": GROUPED, "format": "csv"}, timeout=30)
        assert grouped.status_code == 200 and grouped.text.startswith("type,n\r\n")
    finally:
        srv.stop()


def test_serve_with_the_system_allocator(full_store: Path) -> None:
    srv = Server({"PSK_STORE": str(full_store)}, "--allocator", "system", "--workers", "1")
    try:
        assert requests.get(srv.url + "/healthz", timeout=30).json()["allocator"] == "system"
    finally:
        srv.stop()


def test_ensure_executes_itself_once_with_the_library_preloaded(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, list[str], dict[str, str]]] = []
    monkeypatch.setattr(allocator, "loaded", lambda: "system")
    monkeypatch.setattr(allocator, "library", lambda name: f"lib{name}.so.2" if name == "mimalloc" else None)
    monkeypatch.setattr(allocator.os, "execve", lambda exe, argv, env: calls.append((exe, argv, env)))
    monkeypatch.delenv("PSK_ALLOCATOR_EXEC", raising=False)
    monkeypatch.setenv("LD_PRELOAD", "libother.so")
    with pytest.raises(AssertionError, match="unreachable"):  # the patched execve returns
        allocator.ensure("auto")
    [(exe, argv, env)] = calls
    assert exe == sys.executable and argv[1:] == sys.orig_argv[1:]
    assert env["LD_PRELOAD"] == "libmimalloc.so.2 libother.so" and env["PSK_ALLOCATOR_EXEC"] == "1"
    # the executed process does not try again, and a named allocator that is missing is a clear error
    monkeypatch.setenv("PSK_ALLOCATOR_EXEC", "1")
    assert allocator.ensure("auto") == "system" and len(calls) == 1
    with pytest.raises(allocator.AllocatorMissing, match="apt install libjemalloc2"):
        allocator.ensure("jemalloc")
    assert allocator.ensure("system") == "system"
