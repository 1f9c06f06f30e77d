"""Benchmarks (not tests): load rate against pyoxigraph's raw bulk load, and query latency/throughput over
HTTP side by side with Oxigraph server on the same store.

    python -m bench.run --sizes 10000,100000            # add 1000000 for the full run
    python -m bench.run --sizes 10000 --skip-http

Targets (from the project's issues): loads >= 0.8x raw bulk-load rate; heavy queries p50 <= 1.1x Oxigraph
server; entity lookups >= 1500 req/s at one connection on 2 cores; repeated queries faster than Oxigraph.
Results are printed and written to bench/results/<timestamp>.json.

Two clients, both on one keep-alive connection: a Python client (http.client; its own cost, about 0.1 ms
per request, is part of every latency it reports) and, when `wrk` is installed (Debian package wrk), wrk
for the lookup throughput, which measures the servers rather than the client. Request bodies are encoded
before the clock starts. Lookups run in three rounds per client, the two servers taking turns, and the
median round is reported (with every round's throughput): noise on a shared machine comes in bursts.
Both servers read the same store, which is the one `kg load` leaves: loaded, published, then compacted
(the load figures give the time to publish and the compaction separately).
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from kg.allocator import CHOICES
from kg.build import build
from kg.config import Settings
from kg.loaders import load_files
from kg.namespaces import PREFIXES, Base
from kg.store import LocalStore
from tests.helpers import OxigraphServer, Server

from .synthetic import generate

PROLOGUE = "".join(f"PREFIX {p}: <{iri}>\n" for p, iri in PREFIXES.items())
HEAVY = {
    "per-province-year": """SELECT ?province ?year (COUNT(?i) AS ?n) (SUM(?f) AS ?deaths) WHERE {
        ?i a psk:Incident ; psk:province ?province ; psk:date ?d ; psk:fatalities ?f . BIND(YEAR(?d) AS ?year) }
        GROUP BY ?province ?year ORDER BY ?province ?year""",
    "per-event-type": """SELECT ?type (COUNT(?i) AS ?n) WHERE { ?i a psk:Incident ; psk:eventType ?type } GROUP BY ?type ORDER BY DESC(?n)""",
    "top-perpetrators": """SELECT ?actor (COUNT(?i) AS ?n) WHERE { ?i psk:perpetrator ?actor ; psk:civilianTargeting true }
        GROUP BY ?actor ORDER BY DESC(?n) LIMIT 10""",
}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class Client:
    """One keep-alive HTTP connection (reopened if the server closes it)."""

    def __init__(self, url: str) -> None:
        parsed = urllib.parse.urlparse(url)
        self.host, self.port = parsed.hostname, parsed.port
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=600)
        self.reconnects = 0

    def query(self, path: str, body: str, accept: str = "application/sparql-results+json") -> bytes:
        """POST one form body (see form_body)."""
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": accept}
        for attempt in range(3):
            try:
                self.conn.request("POST", path, body=body, headers=headers)
                resp = self.conn.getresponse()
                break
            except (BrokenPipeError, ConnectionResetError, http.client.RemoteDisconnected):
                self.conn.close()
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=600)
                self.reconnects += 1
                if attempt == 2:
                    raise
        data = resp.read()
        if resp.status != 200:
            raise RuntimeError(f"{path} answered {resp.status}: {data[:300]!r}")
        return data


ROUNDS = 3  # lookup rounds per server and client


def alternating_rounds(run: Callable[[str, int], dict[str, float]]) -> dict[str, Any]:
    """ROUNDS rounds of run(server, round), the servers taking turns to go first; each server's median round."""
    runs: dict[str, list[dict[str, float]]] = {"ours": [], "oxigraph": []}
    for r in range(ROUNDS):
        for who in ("ours", "oxigraph") if r % 2 == 0 else ("oxigraph", "ours"):
            runs[who].append(run(who, r))
    return {who: median_round(rs) for who, rs in runs.items()}


def median_round(runs: list[dict[str, float]]) -> dict[str, Any]:
    """The round with the median throughput, with every round's throughput beside it."""
    ordered = sorted(runs, key=lambda run: run["req_per_s"])
    return {**ordered[len(ordered) // 2], "rounds_req_per_s": [run["req_per_s"] for run in runs]}


def form_body(query: str) -> str:
    """The request body for a query: the prologue of common prefixes, as clients send it, form-encoded."""
    return urllib.parse.urlencode({"query": PROLOGUE + query})


def measure(client: Client, path: str, queries: list[str]) -> dict[str, float]:
    bodies = [form_body(q) for q in queries]  # encoded before the clock starts
    latencies = []
    start = time.perf_counter()
    for body in bodies:
        t = time.perf_counter()
        client.query(path, body)
        latencies.append(time.perf_counter() - t)
    total = time.perf_counter() - start
    return {
        "n": len(bodies),
        "p50_ms": percentile(latencies, 0.5) * 1000,
        "p95_ms": percentile(latencies, 0.95) * 1000,
        "req_per_s": len(queries) / total,
    }


# wrk script: POST entity lookups over incidents in the given order, each query text distinct (a counter in a
# trailing comment, so no result cache answers a repeat); prints one JSON line with what wrk measured.
WRK_SCRIPT = """
local ids = {%(ids)s}
local head, tail = %(head)s, %(tail)s
local start, n = %(start)d, 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Accept"] = "application/sparql-results+json"
request = function()
  n = n + 1
  local body = head .. ids[(start + n - 1) %% #ids + 1] .. tail .. "%(label)s-" .. n
  return wrk.format(nil, "%(path)s", nil, body)
end
done = function(summary, latency, requests)
  local bad = summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format('{"n": %%d, "seconds": %%.6f, "p50_ms": %%.4f, "p95_ms": %%.4f, "errors": %%d}\\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(95) / 1000, bad))
end
"""


def lua_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def wrk_lookups(
    exe: str, url: str, path: str, ids: list[int], seconds: float, work: Path, start: int = 0, label: str = "r"
) -> dict[str, float]:
    """Lookup throughput at one connection measured by wrk (exe: its path).

    Requests go through ids from position `start` on; every query text ends with `label` and a counter, so runs
    with different labels never send the same text (no result-cache hit), even when they cycle through ids."""
    marker = "ID_PLACEHOLDER"
    encoded = form_body(f"SELECT ?p ?o WHERE {{ <{Base().entity('incident/acled-syn')}{marker}> ?p ?o }}\n# run ")
    head, tail = encoded.split(marker)
    script = work / f"lookups-{path.strip('/')}.lua"
    script.write_text(
        WRK_SCRIPT
        % {
            "ids": ",".join(map(str, ids)),
            "head": lua_string(head),
            "tail": lua_string(tail),
            "path": path,
            "start": start,
            "label": label,
        }
    )
    out = subprocess.run(
        [exe, "-t1", "-c1", f"-d{seconds}s", "--timeout", "30s", "-s", str(script), url],
        capture_output=True,
        text=True,
        timeout=seconds + 60,
        check=True,
    ).stdout
    data: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    if data["errors"]:
        raise RuntimeError(f"wrk: {data['errors']} failed requests on {url}{path}")
    data["req_per_s"] = data["n"] / data["seconds"]
    return data


def bench_load(size: int, work: Path) -> dict[str, Any]:
    csv_path = generate(work / f"acled-{size}.csv", size)
    store = LocalStore(work / "store")
    build(store, Base())
    t = time.perf_counter()
    report = load_files("acled", [csv_path], Settings(store=str(store.path)))
    total_s = time.perf_counter() - t
    load_s = report.published_s  # loaded and published: the end state of a raw bulk load + flush
    _v, s = store.open_read()
    nt = work / "all.nt"
    s.dump(str(nt), ox.RdfFormat.N_TRIPLES, from_graph=ox.DefaultGraph())
    raw_dir = work / "raw"
    raw = ox.Store(str(raw_dir))
    # the same end state as a load: the triples bulk-loaded and flushed to disk
    t = time.perf_counter()
    raw.bulk_load(path=str(nt), format=ox.RdfFormat.N_TRIPLES)
    raw.flush()
    raw_s = time.perf_counter() - t
    raw_quads = len(raw)
    del raw
    shutil.rmtree(raw_dir)
    nt.unlink()
    return {
        "rows": report.rows,
        "quads_loaded": report.quads,
        "load_s": load_s,
        "compact_s": report.compact_s,
        "load_and_compact_s": total_s,
        "rows_per_s": report.rows / load_s,
        "quads_per_s": report.quads / load_s,
        "raw_bulk_load_s": raw_s,
        "raw_quads": raw_quads,
        "raw_quads_per_s": raw_quads / raw_s,
        "ratio_to_raw": (report.quads / load_s) / (raw_quads / raw_s),
        "ratio_to_raw_with_compaction": (report.quads / total_s) / (raw_quads / raw_s),
    }


def bench_http(
    size: int, work: Path, repeats: int, server: str = "granian", allocator: str = "auto"
) -> tuple[dict[str, Any], str]:
    """Query timings per query kind, and the memory allocator our server runs with (Oxigraph: the system's)."""
    store = LocalStore(work / "store")
    # no access log: Oxigraph server writes none either (like for like; `kg serve` logs by default)
    ours = Server(
        {"PSK_STORE": str(store.path), "PSK_QUERY_TIMEOUT": "600"},
        *("--workers", "2", "--timeout", "600", "--server", server, "--no-access-log", "--allocator", allocator),
    )
    oxi = OxigraphServer.read_only(store.version_dir())
    rng = random.Random(7)
    # distinct incidents, none asked twice (no result-cache hits); the first 1000 warm both servers up, then
    # ROUNDS rounds of 1000 each, the servers taking turns (on a shared machine noise comes in bursts)
    picked = rng.sample(range(1, size + 1), min(size, 1000 * (ROUNDS + 1)))
    lookups = [f"SELECT ?p ?o WHERE {{ <{Base().entity(f'incident/acled-syn{n}')}> ?p ?o }}" for n in picked]
    warm, rounds = lookups[:1000], [lookups[1000 * (r + 1) : 1000 * (r + 2)] for r in range(ROUNDS)]
    order = rng.sample(range(1, size + 1), size)  # wrk: every incident once before any comes again
    out: dict[str, Any] = {}
    try:
        with urllib.request.urlopen(ours.url + "/healthz", timeout=30) as resp:
            allocator = str(json.load(resp)["allocator"])
        a, b = Client(ours.url), Client(oxi.url)
        for name, q in HEAVY.items():
            # first run per server warms caches of the OS and the store; we report p50/p95 of distinct runs,
            # so our result cache is defeated with a varying comment
            variants = [f"{q}\n# run {i}" for i in range(repeats)]
            out[f"heavy:{name}"] = {"ours": measure(a, "/sparql", variants), "oxigraph": measure(b, "/query", variants)}
            repeated = [q] * max(repeats, 20 if size <= 100_000 else 5)  # Oxigraph pays the full cost each time
            out[f"repeated:{name}"] = {"ours": measure(a, "/sparql", repeated), "oxigraph": measure(b, "/query", repeated)}
        measure(a, "/sparql", warm)
        measure(b, "/query", warm)
        clients = {"ours": (a, "/sparql"), "oxigraph": (b, "/query")}
        out["entity-lookup"] = alternating_rounds(lambda who, r: measure(*clients[who], rounds[r]))
        wrk = shutil.which("wrk")
        if wrk:
            urls = {"ours": (ours.url, "/sparql"), "oxigraph": (oxi.url, "/query")}
            out["entity-lookup (wrk)"] = alternating_rounds(
                lambda who, r: wrk_lookups(wrk, *urls[who], order, 5, work, start=r * (size // ROUNDS), label=f"round{r}")
            )
    finally:
        ours.stop()
        oxi.stop()
    return out, allocator


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument("--server", choices=["granian", "gunicorn"], default="granian", help="the HTTP server for our app")
    parser.add_argument(
        "--allocator",
        choices=CHOICES,
        default="auto",
        help="`kg serve --allocator` for our server",
    )
    args = parser.parse_args()
    results: dict[str, Any] = {
        "started": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "python": sys.version.split()[0],
        "server": args.server,
        "sizes": {},
    }
    sizes = [int(s) for s in args.sizes.split(",")]
    if min(sizes) < 1000 * (ROUNDS + 1):
        parser.error(f"sizes start at {1000 * (ROUNDS + 1)} incidents (a warm-up and {ROUNDS} rounds of 1000 distinct lookups)")
    for size in sizes:
        with tempfile.TemporaryDirectory(prefix=f"psk-bench-{size}-") as tmp:
            work = Path(tmp)
            print(f"== {size} incidents", flush=True)
            entry: dict[str, Any] = {"load": bench_load(size, work)}
            ld = entry["load"]
            print(
                f"load: {ld['rows_per_s']:.0f} rows/s, {ld['quads_per_s']:.0f} quads/s; raw bulk load {ld['raw_quads_per_s']:.0f} quads/s;"
                f" ratio {ld['ratio_to_raw']:.2f} (target >= 0.8); then compacted in {ld['compact_s']:.1f} s"
                f" (ratio with the compaction {ld['ratio_to_raw_with_compaction']:.2f})",
                flush=True,
            )
            if not args.skip_http:
                entry["http"], entry["our_allocator"] = bench_http(size, work, args.repeats, args.server, args.allocator)
                print(f"our server's memory allocator: {entry['our_allocator']} (Oxigraph server: the system's)", flush=True)
                for name, pair in entry["http"].items():
                    o, x = pair["ours"], pair["oxigraph"]
                    print(
                        f"{name:32s} ours p50 {o['p50_ms']:8.2f} ms p95 {o['p95_ms']:8.2f} ms {o['req_per_s']:8.0f} req/s | "
                        f"oxigraph p50 {x['p50_ms']:8.2f} ms p95 {x['p95_ms']:8.2f} ms {x['req_per_s']:8.0f} req/s | p50 ratio {o['p50_ms'] / x['p50_ms']:.2f}",
                        flush=True,
                    )
            results["sizes"][size] = entry
    out_dir = Path(__file__).parent / "results"
    out_dir.mkdir(exist_ok=True)
    path = out_dir / f"{time.strftime('%Y%m%dT%H%M%S')}.json"
    path.write_text(json.dumps(results, indent=2))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
