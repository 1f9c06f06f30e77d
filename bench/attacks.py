"""The public endpoint attacked as the README's table reports it (not a test): SSRF spellings, nesting, the fast
path, hostile links, slow clients and heavy clients, against `kg serve` on 127.0.0.1 over a small store.

    python -m bench.attacks            # about two minutes on 2 cores

Every SERVICE target is a local listener that counts connections; "reached the network" is its count.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kg.build import build
from kg.config import Settings
from kg.errors import KGError
from kg.executor import Job, QueryPool
from kg.loaders import load_files
from kg.namespaces import Base
from kg.sparql import Limits, bounded_lookup
from kg.store import LocalStore
from tests.test_query_safety import ATTACKS, Listener, lookup_query, query, rdflib_reading
from tests.test_query_safety import test_bounded_lookups_answer_exactly_what_the_engine_answers as lookup_property

ROOT = Path(__file__).resolve().parent.parent


def collect(strategy: st.SearchStrategy[str], n: int) -> list[str]:
    found: list[str] = []

    @settings(max_examples=n, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(strategy)
    def grab(text: str) -> None:
        found.append(text)

    grab()
    return found


class Served:
    def __init__(self, store: Path, env: dict[str, str], *args: str) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        cmd = [sys.executable, "-m", "kg", "serve", "--port", str(self.port), "--no-access-log", *args]
        self.proc = subprocess.Popen(
            cmd, cwd=ROOT, env={**os.environ, "PSK_STORE": str(store), **env}, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        for _ in range(600):
            try:
                if self.get("/healthz")[0] == 200:
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("server did not start")

    def get(self, path: str, source: str = "127.0.0.1", accept: str = "application/json") -> tuple[int, str]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60, source_address=(source, 0))
        try:
            conn.request("GET", path, headers={"Accept": accept})
            resp = conn.getresponse()
            return resp.status, resp.read().decode("utf-8", "replace")
        finally:
            conn.close()

    def sparql(self, text: str, source: str = "127.0.0.1") -> tuple[int, str]:
        return self.get("/sparql?" + urllib.parse.urlencode({"query": text}), source)

    def stop(self) -> None:
        os.killpg(self.proc.pid, signal.SIGTERM)
        self.proc.wait(30)


def timed(fn: Any) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="psk-attacks-"))
    try:
        attack(work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def attack(work: Path) -> None:
    store = work / "store"
    build(LocalStore(store), Base())
    load_files("acled", [ROOT / "tests" / "fixtures" / "acled_small.csv"], Settings(store=str(store)))
    listener = Listener()
    rows: list[tuple[str, int, int, str]] = []

    srv = Served(
        store, {"PSK_CLIENT_QUERIES": "2", "PSK_QUEUE_TIMEOUT": "1"}, "--workers", "1", "--threads", "3", "--timeout", "4"
    )
    try:
        # SSRF: the known spellings, then generated queries with SERVICE anywhere (code, comments, strings, IRIs)
        known = [t.format(port=listener.port) for t in ATTACKS]
        refused = sum(srv.sparql(q)[0] == 400 for q in known)
        rows.append(
            ("SSRF: known spellings (CR comments, no keyword boundary, `<` as less-than, escapes)", len(known), refused, "")
        )
        generated = [q for q in collect(query(listener.port), 1500) if "service" in q.lower()]
        answers = [srv.sparql(q)[0] for q in generated]
        real = [a for q, a in zip(generated, answers, strict=True) if (r := rdflib_reading(q)) is not None and r[0]]
        rows.append((
            "SSRF: generated queries spelling SERVICE somewhere",
            len(generated), sum(a == 400 for a in answers),
            f"{len(real)} are SERVICE calls by rdflib's reading, {real.count(400)} of them refused; {answers.count(200)} answered "
            "(SERVICE only inside comments, strings or IRIs)",
        ))  # fmt: skip
        # depth: brackets and unary '!' far past the limit
        deep = [("{" * n + "}" * n) for n in (65, 500, 5000)] + ["FILTER(" + "!" * n + "true)" for n in (65, 5000, 15000)]
        answers = [srv.sparql("SELECT * WHERE { " + d + " }")[0] for d in deep]
        alive = srv.get("/healthz")[0] == 200 and srv.sparql("ASK { ?s ?p ?o }")[0] == 200
        rows.append(("Deep nesting (65-15 000 brackets or `!`)", len(deep), answers.count(400), f"server alive after: {alive}"))
        # hostile links on result pages
        schemes = ["javascript:alert(1)", "JAVASCRIPT:alert(1)", "data:text/html;base64,PHNjcmlwdD4=", "vbscript:x"]
        text = "SELECT ?x WHERE { VALUES ?x { " + " ".join(f"<{s}>" for s in schemes) + " } }"
        page = srv.get("/query?" + urllib.parse.urlencode({"query": text}), accept="text/html")[1]
        links = sum(f'href="{s}' in page for s in schemes)
        rows.append(
            (
                "`javascript:`/`data:` IRIs in a result page",
                len(schemes),
                len(schemes) - links,
                "rendered as links: 0" if not links else f"LINKS: {links}",
            )
        )

        # slow clients: 50 slow bodies + 50 slow headers held open
        def cheap_latency() -> tuple[float, float]:
            health = [timed(lambda: srv.get("/healthz")) for _ in range(20)]
            query_ms = [
                timed(lambda: srv.sparql(f"SELECT (COUNT(*) AS ?n) WHERE {{ ?s a ?c }} # {time.time()}")) for _ in range(20)
            ]
            return statistics.median(health), statistics.median(query_ms)

        idle = cheap_latency()
        slow = []
        for i in range(100):
            s = socket.create_connection(("127.0.0.1", srv.port))
            if i % 2:
                s.sendall(
                    b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/sparql-query\r\nContent-Length: 900\r\n\r\nSEL"
                )
            else:
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            slow.append(s)
        loaded = cheap_latency()
        for s in slow:
            s.close()
        print(
            f"slow clients: /healthz {idle[0]:.1f} ms idle, {loaded[0]:.1f} ms with 100 slow; cheap query {idle[1]:.1f} / {loaded[1]:.1f} ms"
        )

        # fair use: one heavy client (two cross joins = its share; a third), cheap queries from another address
        heavy = "SELECT (COUNT(*) AS ?n) WHERE {{ ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }} # {}"
        with ThreadPoolExecutor(2) as ex:
            running = [ex.submit(srv.sparql, heavy.format(i), "127.0.0.2") for i in range(2)]
            while json.loads(srv.get("/healthz")[1])["queries"]["running"] < 2:
                time.sleep(0.02)
            third = srv.sparql(heavy.format(3), "127.0.0.2")[0]
            under = [
                timed(lambda: srv.sparql(f"SELECT (COUNT(*) AS ?n) WHERE {{ ?s a ?c }} # {time.time()}", "127.0.0.3"))
                for _ in range(10)
            ]
            statuses = [f.result()[0] for f in running]
        print(
            f"fair use: heavy client's third query -> {third}; cheap query from another client while two heavy ones run: "
            f"median {statistics.median(under):.1f} ms (idle {idle[1]:.1f} ms); heavy ones -> {statuses}"
        )
    finally:
        srv.stop()

    # past every check: SERVICE handed straight to a query worker
    pool = QueryPool(1)
    version = LocalStore(store).version_dir(LocalStore(store).version())
    refused = 0
    targets = [f"http://127.0.0.1:{listener.port}/", f"http://localhost:{listener.port}/", "http://[::1]:9/"]
    for target in targets * 4:
        try:
            pool.run(Job(str(version), f"SELECT * WHERE {{ SERVICE <{target}> {{ ?s ?p ?o }} }}", "json", 10), 10)
        except KGError:
            refused += 1
    pool.close()
    rows.append(
        ("SERVICE handed straight to a query worker (seccomp)", len(targets) * 4, refused, "socket() refused by the kernel")
    )

    # the fast path against the engine
    lookups = collect(st.one_of(lookup_query(hostile=False), lookup_query(hostile=True)), 2000)
    recognized = [q for q in lookups if bounded_lookup(q, Limits(max_rows=20))]
    wrong = 0
    for q in recognized:
        try:
            lookup_property.hypothesis.inner_test(q)  # type: ignore[attr-defined]
        except (AssertionError, pytest.fail.Exception):
            wrong += 1
    rows.append(
        (
            "Bounded-lookup recognizer vs the engine",
            len(lookups),
            len(lookups) - len(recognized),
            f"{len(recognized)} taken as lookups, {wrong} answered differently",
        )
    )
    reached = listener.reached()
    listener.close()

    print("\n| attack | attempts | refused | reached the network | note |\n| --- | --- | --- | --- | --- |")
    for name, attempts, refused_n, note in rows:
        print(f"| {name} | {attempts} | {refused_n} | {reached if 'SERVICE' in name or 'SSRF' in name else '-'} | {note} |")
    print(f"\nlistener connections in total: {reached}")


if __name__ == "__main__":
    main()
