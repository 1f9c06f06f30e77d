"""Fair use of the query workers: a per-client cap (429), a lane reserved for clients with nothing running, a
bounded wait that ends in 503 "busy" (never "time limit"), and waiting that is not charged to the time limit."""

from __future__ import annotations

import http.client
import json
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from kg.admission import Admission
from kg.errors import QueryTimeout, ServiceBusy, TooManyRequests
from kg.executor import Job, QueryPool
from kg.store import LocalStore

from .helpers import Server

HEAVY = "SELECT (COUNT(*) AS ?n) WHERE {{ ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }} # heavy {}"
CHEAP = "SELECT (COUNT(*) AS ?n) WHERE {{ ?s a psk:Incident }} # cheap {}"


def wait_for(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        time.sleep(0.02)


# -- the admission rules --------------------------------------------------------------------------------


def test_a_client_over_its_share_is_refused_at_once() -> None:
    admission = Admission(slots=4, per_client=2, queue_timeout=5, retry_after=3)
    with admission.enter("a"), admission.enter("a"):
        with pytest.raises(TooManyRequests, match="limit is 2") as refused:
            with admission.enter("a"):
                pass
        assert refused.value.retry_after == 3
        with admission.enter("b"):  # others are not affected
            assert admission.stats()["running"] == 3
    assert admission.stats() == {"slots": 4, "running": 0, "waiting": 0, "clients": 0}


def test_the_last_slot_is_kept_for_a_client_with_nothing_running() -> None:
    admission = Admission(slots=2, per_client=2, queue_timeout=0.2, retry_after=1)
    with admission.enter("heavy"):
        with pytest.raises(ServiceBusy, match="busy: all 2 query workers"):
            with admission.enter("heavy"):  # would take the last free slot
                pass
        with admission.enter("cheap"):  # the reserved lane
            pass


def test_a_waiting_query_starts_when_a_slot_frees() -> None:
    admission = Admission(slots=1, per_client=1, queue_timeout=30, retry_after=1)
    release = threading.Event()

    def hold() -> None:
        with admission.enter("a"):
            release.wait()

    holder = threading.Thread(target=hold)
    holder.start()
    wait_for(lambda: admission.stats()["running"] == 1)
    started = threading.Event()

    def queued() -> None:
        with admission.enter("b"):
            started.set()

    waiter = threading.Thread(target=queued)
    waiter.start()
    wait_for(lambda: admission.stats()["waiting"] == 1)
    assert not started.is_set()
    with pytest.raises(ServiceBusy, match="1 queries are waiting"):  # no more waiting than there are workers
        with admission.enter("c"):
            pass
    release.set()
    waiter.join(10)
    holder.join(10)
    assert started.is_set()


# -- the pool: waiting is not evaluation ----------------------------------------------------------------


@pytest.fixture(scope="module")
def version_dir(full_store: Path) -> str:
    store = LocalStore(full_store)
    return str(store.version_dir(store.version()))


def test_a_query_that_only_waited_is_busy_and_kills_no_worker(version_dir: str) -> None:
    pool = QueryPool(1)
    try:
        with ThreadPoolExecutor(1) as ex:
            heavy = ex.submit(pool.run, Job(version_dir, HEAVY.format(1), "json", 10), 3.0)
            wait_for(lambda: pool._idle.qsize() == 0)
            with pytest.raises(ServiceBusy, match="never ran"):
                pool.run(
                    Job(
                        version_dir,
                        CHEAP.format(1).replace("psk:", "<https://w3id.org/pakistan-security-kg/ontology#>"),
                        "json",
                        10,
                    ),
                    0.3,
                )
            assert pool.killed == 0  # the healthy worker running the heavy query was left alone
            with pytest.raises(QueryTimeout, match="time limit"):
                heavy.result()
            assert pool.killed == 1
    finally:
        pool.close()


def test_time_in_the_queue_is_not_charged_to_the_time_limit(version_dir: str) -> None:
    # one worker, a 2 s limit: the cheap query waits for the heavy one to be stopped and its worker replaced
    # (longer than its own limit), then runs in full
    pool = QueryPool(1)
    admission = Admission(slots=1, per_client=1, queue_timeout=60, retry_after=1)
    limit = 2.0

    def run(client: str, query: str) -> tuple[str, float]:
        start = time.monotonic()
        with admission.enter(client):
            try:
                answer, _ = pool.run(Job(version_dir, query, "json", 10), limit)
            except QueryTimeout:
                return "time limit", time.monotonic() - start
        return json.loads(answer.body)["results"]["bindings"][0]["n"]["value"], time.monotonic() - start

    try:
        with ThreadPoolExecutor(2) as ex:
            heavy: Future[tuple[str, float]] = ex.submit(run, "heavy", HEAVY.format(2))
            wait_for(lambda: admission.stats()["running"] == 1)
            cheap = ex.submit(run, "cheap", "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
            assert heavy.result()[0] == "time limit"
            count, waited = cheap.result()
        assert int(count) > 0
        assert waited > limit  # it spent longer than its limit in the queue, and still ran
        assert pool.killed == 1
    finally:
        pool.close()


# -- over HTTP, with clients on distinct loopback addresses ---------------------------------------------


@pytest.fixture(scope="module")
def busy_server(full_store: Path) -> Iterator[str]:
    env = {"PSK_STORE": str(full_store), "PSK_CLIENT_QUERIES": "2", "PSK_QUEUE_TIMEOUT": "1"}
    srv = Server(env, "--workers", "1", "--threads", "3", "--timeout", "4", "--no-access-log")
    yield srv.url
    srv.stop()


def ask(url: str, source: str, query: str) -> tuple[int, dict[str, str], str]:
    """GET /sparql from a given loopback address."""
    parsed = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=60, source_address=(source, 0))
    try:
        conn.request("GET", "/sparql?" + urllib.parse.urlencode({"query": query}), headers={"Accept": "application/json"})
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read().decode()
    finally:
        conn.close()


def test_heavy_and_cheap_clients_at_once(busy_server: str) -> None:
    def running() -> int:
        return int(requests.get(busy_server + "/healthz", timeout=10).json()["queries"]["running"])

    with ThreadPoolExecutor(4) as ex:
        heavy_a = [ex.submit(ask, busy_server, "127.0.0.2", HEAVY.format(f"a{i}")) for i in range(2)]
        wait_for(lambda: running() == 2)
        # a third from the same client: over its share, refused at once
        status, headers, body = ask(busy_server, "127.0.0.2", HEAVY.format("a3"))
        assert status == 429 and headers["retry-after"] == "2" and "limit is 2" in body
        # a cheap query from another client runs at once in the reserved lane
        status, _, body = ask(busy_server, "127.0.0.3", CHEAP.format("c"))
        assert status == 200 and int(json.loads(body)["results"]["bindings"][0]["n"]["value"]) > 0
        # a heavy client with nothing running may take the last worker; then the service is full
        heavy_b = ex.submit(ask, busy_server, "127.0.0.4", HEAVY.format("b"))
        wait_for(lambda: running() == 3)
        status, headers, body = ask(busy_server, "127.0.0.5", CHEAP.format("d"))
        assert status == 503 and "busy" in body and "time limit" not in body and headers["retry-after"] == "2"
        # bounded lookups never wait for a query worker
        status, _, _ = ask(busy_server, "127.0.0.5", "SELECT ?s WHERE { ?s a psk:Incident } LIMIT 3")
        assert status == 200
        for future in [*heavy_a, heavy_b]:
            status, _, body = future.result()
            assert status == 503 and "time limit" in body
    wait_for(lambda: running() == 0)
    status, _, _ = ask(busy_server, "127.0.0.5", CHEAP.format("e"))
    assert status == 200
