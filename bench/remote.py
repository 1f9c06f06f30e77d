"""Benchmark (not a test): the heavy-query mix and entity pages through our server over Virtuoso 7, beside the
embedded store and Oxigraph server, on the same synthetic ACLED-shaped data; every answer compared row for row.

    python -m bench.remote --size 100000

Needs Debian's virtuoso-opensource-7 (`virtuoso-t`, `isql-vt`). Virtuoso runs headless in a temp directory with
its own ini (ResultSetMaxRows --max-rows, by default 2^20, the most one answer carries: with a stock install's 10 000
every export of the incident table is read in pages of 10 000 rows, each re-evaluating the query, which took over
15 minutes at 100 000 incidents; MaxSortedTopRows 10 000 like a stock install), loaded with
`kg build --into` and `kg load --into` (digest-authenticated Graph Store, staged and switched in). Results are
printed and written to bench/results/remote-<timestamp>.json (not committed).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests

from kg.build import build
from kg.config import Settings
from kg.loaders import load_files
from kg.namespaces import Base
from kg.store import LocalStore
from tests.helpers import OxigraphServer, Server, VirtuosoServer

from .run import HEAVY, PROLOGUE, percentile
from .synthetic import generate


def rows(body: bytes) -> list[tuple[str, ...]]:
    """SPARQL JSON results as value tuples in result order (numbers compared as numbers)."""
    data = json.loads(body)
    out = []
    for b in data["results"]["bindings"]:
        row = []
        for v in data["head"]["vars"]:
            term = b.get(v)
            if term is None:
                row.append("")
            elif term.get("datatype", "").endswith(("#integer", "#decimal", "#double", "#int", "#long")):
                row.append(repr(float(term["value"])))
            else:
                row.append(term["value"])
        out.append(tuple(row))
    return out


class Target:
    def __init__(self, name: str, url: str, params: dict[str, str] | None = None) -> None:
        self.name, self.url, self.params = name, url, params or {}
        self.http = requests.Session()

    def query(self, text: str) -> tuple[float, bytes]:
        data = {"query": PROLOGUE + text, **self.params}
        t = time.perf_counter()
        resp = self.http.post(self.url, data=data, headers={"Accept": "application/sparql-results+json"}, timeout=3600)
        ms = (time.perf_counter() - t) * 1000
        if resp.status_code != 200:
            raise RuntimeError(f"{self.name}: HTTP {resp.status_code}: {resp.text[:300]}")
        if resp.headers.get("X-SPARQL-Truncated") or resp.headers.get("X-SQL-State"):
            raise RuntimeError(f"{self.name}: truncated or partial answer")
        return ms, resp.content


def heavy(targets: list[Target], repeats: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, q in HEAVY.items():
        answers: dict[str, list[tuple[str, ...]]] = {}
        out[name] = {}
        for target in targets:
            times = []
            for i in range(repeats + 1):  # the first run warms caches and is not counted
                ms, body = target.query(f"{q}\n# run {i}")  # distinct texts: no result cache helps
                if i:
                    times.append(ms)
                answers[target.name] = rows(body)
            out[name][target.name] = {"p50_ms": percentile(times, 0.5), "min_ms": min(times), "max_ms": max(times)}
        # row for row, ties in ORDER BY taken in any order (engines break them differently)
        reference = sorted(answers[targets[0].name])
        for who, got in answers.items():
            if sorted(got) != reference:
                raise SystemExit(f"{name}: {who} answers differently from {targets[0].name}: {got[:5]} against {reference[:5]}")
        out[name]["rows"] = len(reference)
        out[name]["answers_identical"] = True
    return out


def _page(html: str) -> str:
    html = re.sub(r"http://127\.0\.0\.1:\d+", "", html)
    return re.sub(r'<p class="meta">Store: .*?</p>', "", html)


def pages(ours: dict[str, str], size: int, count: int) -> dict[str, Any]:
    """Entity pages through our server over each store; the same HTML on each."""
    rng = random.Random(11)
    incidents = [f"/page/id/incident/acled-syn{n}" for n in rng.sample(range(1, size + 1), count)]
    out: dict[str, Any] = {}
    for name, url in ours.items():
        http = requests.Session()
        t = time.perf_counter()
        province = http.get(url + "/page/id/province/balochistan", timeout=3600)
        first = (time.perf_counter() - t) * 1000
        t = time.perf_counter()
        http.get(url + "/page/id/province/balochistan?type=Battles", timeout=3600)
        filtered = (time.perf_counter() - t) * 1000
        times = []
        for path in incidents:
            t = time.perf_counter()
            resp = http.get(url + path, timeout=600)
            times.append((time.perf_counter() - t) * 1000)
            assert resp.status_code == 200, (name, path, resp.status_code)
        out[name] = {
            "province_page_first_view_ms": first,
            "province_page_filtered_ms": filtered,
            "incident_page_p50_ms": percentile(times, 0.5),
            "incident_page_p95_ms": percentile(times, 0.95),
            "province_page_bytes": len(province.content),
        }
    names = list(ours)
    for path in ["/page/id/province/balochistan", "/page/id/province/khyber-pakhtunkhwa", *incidents[:20]]:
        bodies = {n: _page(requests.get(ours[n] + path, timeout=3600).text) for n in names}
        if len(set(bodies.values())) != 1:
            import difflib

            a, b = (bodies[n].splitlines() for n in names)
            diff = "\n".join(line[:300] for line in difflib.unified_diff(a, b, lineterm="", n=0))
            raise SystemExit(f"{path}: the page differs between stores:\n{diff}")
    out["pages_identical"] = True
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", type=int, default=100_000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--pages", type=int, default=200)
    ap.add_argument(
        "--max-rows",
        type=int,
        default=1_048_576,
        help="Virtuoso's ResultSetMaxRows (a stock install: 10 000; 2^20 is the most one HTTP answer carries)",
    )
    args = ap.parse_args()
    result: dict[str, Any] = {"size": args.size, "max_rows": args.max_rows, "load_average_before": os.getloadavg()}
    with tempfile.TemporaryDirectory(prefix="psk-bench-remote-") as tmp:
        work = Path(tmp)
        csv_path = generate(work / "acled.csv", args.size)
        store = LocalStore(work / "store")
        build(store, Base())
        load_files("acled", [csv_path], Settings(store=str(store.path)))
        virtuoso = VirtuosoServer(
            work / "virtuoso",
            max_rows=args.max_rows,
            max_seconds=3600,
            sorted_top=10_000,
            buffers=170_000,
            after_image=2_000_000_000,
        )
        servers: list[Any] = [virtuoso]
        try:
            env = {**os.environ, **virtuoso.env}
            t = time.perf_counter()
            for cmd in (["build", "--into", virtuoso.url], ["load", "acled", "--into", virtuoso.url, str(csv_path)]):
                done = subprocess.run([sys.executable, "-m", "kg", *cmd], env=env, capture_output=True, text=True)
                if done.returncode:
                    raise SystemExit(f"kg {' '.join(cmd[:2])} into Virtuoso failed: {done.stderr[-2000:]}")
            result["virtuoso_load_s"] = time.perf_counter() - t
            print(f"loaded into Virtuoso in {result['virtuoso_load_s']:.0f} s", flush=True)
            oxi = OxigraphServer.read_only(store.version_dir())
            servers.append(oxi)
            timeout = ("--timeout", "3600", "--workers", "2", "--no-access-log")
            ours_local = Server({"PSK_STORE": str(store.path), "PSK_QUERY_TIMEOUT": "3600"}, *timeout)
            servers.append(ours_local)
            ours_virtuoso = Server(virtuoso.env, "--store", virtuoso.url, *timeout)
            servers.append(ours_virtuoso)
            targets = [
                Target("ours (embedded)", ours_local.url + "/sparql"),
                Target("oxigraph server", oxi.url + "/query"),
                Target("virtuoso", virtuoso.url, {"default-graph-uri": "urn:psk:default"}),
                Target("ours over virtuoso", ours_virtuoso.url + "/sparql"),
            ]
            result["heavy"] = heavy(targets, args.repeats)
            print(json.dumps({"heavy": result["heavy"]}, indent=2), flush=True)  # each phase as soon as it is done
            result["pages"] = pages({"embedded": ours_local.url, "virtuoso": ours_virtuoso.url}, args.size, args.pages)
        finally:
            for srv in servers:
                srv.stop()
    result["load_average_after"] = os.getloadavg()
    print(json.dumps(result, indent=2))
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    (out / f"remote-{time.strftime('%Y%m%dT%H%M%S')}.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
