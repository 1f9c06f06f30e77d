"""Query worker processes: they die with their web worker, and a dead idle one is never handed a query."""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

import pytest
import requests

from kg.errors import ServiceBusy
from kg.executor import Job, QueryPool
from kg.store import LocalStore

from .helpers import Server, wait_http

GROUPED = "SELECT ?type (COUNT(?i) AS ?n) WHERE { ?i a psk:Incident ; psk:eventType ?type } GROUP BY ?type ORDER BY ?type"
LOOKUP = "SELECT ?p ?o WHERE { <https://w3id.org/pakistan-security-kg/id/incident/acled-syn0001> ?p ?o }"
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting: {what}")
        time.sleep(0.05)


def stat(pid: int) -> list[str] | None:
    """Fields of /proc/<pid>/stat after the command name (state first), or None once the process has exited."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2 :].split()
    if fields[0] in ("Z", "X"):  # the main thread has exited; the process has once its other threads have too
        try:
            return None if len(os.listdir(f"/proc/{pid}/task")) <= 1 else fields
        except OSError:
            return None
    return fields


def exiting(pid: int) -> bool:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return raw[raw.rindex(")") + 2 :].split()[0] in ("Z", "X")


def children(pid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (fields := stat(int(entry))) is not None and int(fields[1]) == pid:
            out.append(int(entry))
    return out


def cpu_ticks(pid: int) -> int:
    fields = stat(pid)
    return int(fields[11]) + int(fields[12]) if fields else -1


def test_a_dead_idle_worker_is_replaced_before_it_gets_a_query(seed_store: Path) -> None:
    others = {p.pid for p in mp.active_children()}  # processes other tests' pools started
    pool = QueryPool(2)
    try:
        job = Job(str(LocalStore(seed_store).version_dir()), "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", "json", 10)
        first, _fmt = pool.run(job, timeout=60)
        workers = [p for p in mp.active_children() if p.pid not in others]
        assert 1 <= len(workers) == pool.started <= 2  # the second only if the first was still starting
        for p in workers:
            os.kill(p.pid, signal.SIGKILL)
        # only until their main threads have exited: their other threads (and so their pipes) may still be open
        wait_for(lambda: all(exiting(p.pid) for p in workers), "the killed workers to start exiting")
        for _ in range(3):
            answer, _fmt = pool.run(job, timeout=60)
            assert answer.body == first.body
        assert pool.replaced == len(workers)
    finally:
        pool.close()


def test_query_workers_are_started_as_queries_need_them(seed_store: Path) -> None:
    """One worker at first (each is a process holding the store open); another only when every started one is busy,
    never more than the pool's size."""
    pool = QueryPool(3)
    try:
        wait_for(lambda: pool._idle.qsize() == 1, "the first worker to start")
        job = Job(str(LocalStore(seed_store).version_dir()), "ASK { ?s ?p ?o }", "json", 10)
        for _ in range(3):
            pool.run(job, timeout=60)
        assert pool.started == 1  # an idle worker answered each time
        taken = [pool._take(time.monotonic() + 60, 60) for _ in range(3)]  # three at once: two more started
        assert pool.started == 3 and len({c.proc.pid for c in taken}) == 3
        with pytest.raises(ServiceBusy):
            pool._take(time.monotonic() + 0.5, 0.5)  # a fourth: none is started, none is free
        assert pool.started == 3
        for child in taken:
            pool._idle.put(child)
    finally:
        pool.close()


def test_query_processes_die_with_their_web_worker(full_store: Path) -> None:
    srv = Server({"PSK_STORE": str(full_store), "PSK_POOL_SIZE": "2"}, "--workers", "1", "--timeout", "120")
    try:
        grouped = requests.get(srv.url + "/sparql", params={"query": GROUPED, "format": "csv"}, timeout=60)
        assert grouped.status_code == 200  # the web worker has started its query processes
        [web_worker] = [p for p in children(srv.proc.pid) if len(children(p)) >= 2]
        queries = children(web_worker)
        ticks = {p: cpu_ticks(p) for p in queries}

        def run_away() -> None:
            with contextlib.suppress(requests.RequestException):  # its web worker is killed under it
                requests.get(srv.url + "/sparql", params={"query": RUNAWAY}, timeout=120)

        runaway = threading.Thread(target=run_away, daemon=True)
        runaway.start()
        wait_for(lambda: any(cpu_ticks(p) > ticks[p] + 20 for p in queries), "a query process to evaluate the runaway query")
        os.kill(web_worker, signal.SIGKILL)
        wait_for(lambda: all(stat(p) is None for p in queries), "the query processes to die with their web worker")
        # Granian respawns the web worker, which answers again (and stopping the server before it has started hangs
        # Granian's shutdown until the test helper's kill, 15 s later)
        wait_http(srv.url + "/healthz", srv.proc)
        assert requests.get(srv.url + "/sparql", params={"query": "ASK {}"}, timeout=60).status_code == 200
    finally:
        srv.stop()


def test_a_replacement_worker_outlives_the_request_thread_that_needed_it(seed_store: Path) -> None:
    """Replacements are started by the pool's own thread: the parent-death signal follows the thread that started
    the process, so a worker started by a short-lived request thread would be killed as soon as that thread ends."""
    others = {p.pid for p in mp.active_children()}
    pool = QueryPool(1)
    try:
        job = Job(str(LocalStore(seed_store).version_dir()), "ASK { ?s ?p ?o }", "json", 10)
        pool.run(job, timeout=60)
        [first] = [p for p in mp.active_children() if p.pid not in others]
        done = threading.Event()

        def from_a_request_thread() -> None:
            os.kill(first.pid, signal.SIGKILL)
            wait_for(lambda: stat(first.pid) is None, "the worker to die")
            pool.run(job, timeout=60)  # finds it dead, has it replaced, runs on the replacement
            done.set()

        t = threading.Thread(target=from_a_request_thread)
        t.start()
        t.join()
        assert done.is_set()
        [second] = [p for p in mp.active_children() if p.pid not in others]
        assert second.pid != first.pid
        answer, _fmt = pool.run(job, timeout=60)  # the replacement outlived the thread that asked for it
        assert answer.body and stat(second.pid) is not None
    finally:
        pool.close()


def test_lookups_and_pages_answer_while_slow_queries_flood_the_server(full_store: Path) -> None:
    """More slow queries than request threads, from one client: those beyond its share (PSK_CLIENT_QUERIES, 2) are
    refused at once (429, Retry-After), so request threads stay free for bounded lookups and pages."""
    srv = Server({"PSK_STORE": str(full_store)}, "--workers", "1", "--threads", "3", "--timeout", "120")
    pool = ThreadPoolExecutor(10)

    def slow_query(i: int) -> requests.Response | None:
        try:
            return requests.get(srv.url + "/sparql", params={"query": RUNAWAY + f" # {i}"}, timeout=150)
        except requests.RequestException:  # the admitted ones are cut off when the server stops
            return None

    try:
        slow = [pool.submit(slow_query, i) for i in range(10)]
        refused = []
        for f in as_completed(slow, timeout=60):
            refused.append(f.result())
            if len(refused) == 8:  # 2 are admitted and keep running
                break
        assert all(r is not None and r.status_code == 429 and r.headers["Retry-After"] for r in refused)
        lookup = requests.get(srv.url + "/sparql", params={"query": LOOKUP}, timeout=60)
        page = requests.get(srv.url + "/page/id/province/balochistan", timeout=60)
        assert lookup.status_code == 200 and len(lookup.json()["results"]["bindings"]) > 5
        assert page.status_code == 200 and "Balochistan" in page.text
        assert sum(not f.done() for f in slow) == 2  # answered while the admitted slow queries still ran
    finally:
        srv.stop()
        pool.shutdown()
