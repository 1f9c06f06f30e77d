"""Pages, search and statistics at scale: what a researcher's browser asks for, timed over HTTP, beside DuckDB over the
same CSV where the same work can be done there.

    python -m bench.pages --size 100000 [--work DIR] [--keep]

Generates ACLED-shaped rows (bench/synthetic.py), builds and loads them with `kg load` (load ratio against a raw bulk
load of the same triples, with the derived outputs: incident table, search index, statistics graph), then serves the
store (Granian, 2 workers) and measures: start-up to the first answer; province and armed-group pages, first and
repeat view; filters; search and autocomplete p95; home and class pages; a cube query over /sparql; memory after the
mix beside Oxigraph server on the same store after the same SPARQL. Prints a JSON report (nothing is asserted).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import duckdb
import pyoxigraph as ox

from kg.build import build
from kg.config import Settings
from kg.loaders import load_files
from kg.namespaces import PREFIXES, Base
from kg.store import LocalStore
from server.util import HERE
from tests.helpers import OxigraphServer, Server

from .run import percentile
from .synthetic import generate

ET = PREFIXES["et"]
ID = Base().entity("")


ERRORS: list[str] = []  # requests answered with an error status (reported, so that no figure hides one)


def get(url: str) -> tuple[float, bytes]:
    t = time.perf_counter()
    try:
        with urllib.request.urlopen(url, timeout=600) as resp:
            body = resp.read()
    except urllib.error.HTTPError as exc:
        body = exc.read()
        ERRORS.append(f"{exc.code} {url}: {body[:200]!r}")
    return (time.perf_counter() - t) * 1000, body


def pss_kib(pid: int) -> int:
    """Proportional memory of a process and all its descendants: each shared page counted once across them (RSS
    counts the libraries every worker maps, once per worker)."""
    total = 0
    for p in _tree(pid):
        try:
            with open(f"/proc/{p}/smaps_rollup") as fh:
                total += next((int(line.split()[1]) for line in fh if line.startswith("Pss:")), 0)
        except OSError:
            pass
    return total


def _tree(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-e", "-o", "pid=,ppid="], capture_output=True, text=True, check=True).stdout
    children: dict[int, list[int]] = {}
    for line in out.splitlines():
        if line.strip():
            p, pp = (int(x) for x in line.split())
            children.setdefault(pp, []).append(p)
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        todo += children.get(p, [])
    return found


def rss_kib(pid: int) -> int:
    """Resident memory of a process and all its descendants."""
    out = subprocess.run(["ps", "-e", "-o", "pid=,ppid=,rss="], capture_output=True, text=True, check=True).stdout
    rows = [tuple(int(x) for x in line.split()) for line in out.splitlines() if line.strip()]
    children: dict[int, list[int]] = {}
    rss = {}
    for p, pp, r in rows:
        children.setdefault(pp, []).append(p)
        rss[p] = r
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        total += rss.get(p, 0)
        todo += children.get(p, [])
    return total


def bench_load(csv_path: Path, work: Path) -> dict[str, Any]:
    store = LocalStore(work / "store")
    build(store, Base())
    t = time.perf_counter()
    report = load_files("acled", [csv_path], Settings(store=str(store.path)))
    total_s = time.perf_counter() - t
    _v, s = store.open_read()
    nt = work / "all.nt"
    s.dump(str(nt), ox.RdfFormat.N_TRIPLES, from_graph=ox.DefaultGraph())
    raw = ox.Store(str(work / "raw"))
    t = time.perf_counter()
    raw.bulk_load(path=str(nt), format=ox.RdfFormat.N_TRIPLES)
    raw.flush()
    raw_s = time.perf_counter() - t
    raw_rate = len(raw) / raw_s
    del raw
    shutil.rmtree(work / "raw")
    nt.unlink()
    with_derived = report.published_s + report.tables_s
    return {
        "rows": report.rows,
        "published_s": report.published_s,
        "tables_and_search_s": report.tables_s,
        "statistics_and_compaction_s": report.compact_s,
        "total_s": total_s,
        "raw_bulk_load_s": raw_s,
        "ratio_to_publish": (report.quads / report.published_s) / raw_rate,
        "ratio_with_table_and_search": (report.quads / with_derived) / raw_rate,
        "ratio_with_everything": (report.quads / total_s) / raw_rate,
    }


def timed_many(url: str, paths: list[str]) -> dict[str, float]:
    times = [get(url + p)[0] for p in paths]
    return {"p50_ms": percentile(times, 0.5), "p95_ms": percentile(times, 0.95), "n": len(times)}


def bench_http(store_path: Path) -> dict[str, Any]:
    out: dict[str, Any] = {}
    t = time.perf_counter()
    ours = Server({"PSK_STORE": str(store_path)}, "--workers", "2", "--no-access-log")
    try:
        first, _ = get(ours.url + "/")
        out["startup_to_first_answer_s"] = time.perf_counter() - t
        out["home_first_ms"] = first
        for name, path in (
            ("province page (Balochistan)", "/page/id/province/balochistan"),
            ("armed-group page (BLA)", "/page/id/group/baloch-liberation-army"),
        ):
            # both workers: each has its own caches, so the first view is measured on each
            firsts = [get(ours.url + path)[0] for _ in range(2)]
            repeats = [get(ours.url + path)[0] for _ in range(10)]
            out[name] = {"first_ms": max(firsts), "repeat_p50_ms": percentile(repeats, 0.5)}
        filters = [
            {"type": ET + "battles"},
            {"from": "2021-01-01", "to": "2021-12-31"},
            {"fmin": "3", "sort": "-fatalities"},
            {"actor": ID + "group/baloch-liberation-army", "type": ET + "explosions-remote-violence"},
            {"role": "within"},
            {"page": "2"},
        ]
        out["filters (Balochistan, distinct)"] = timed_many(
            ours.url, [f"/page/id/province/balochistan?{urllib.parse.urlencode(f)}" for f in filters]
        )
        words = ["baloch", "quetta", "jafar", "taliban", "synth", "karachi", "lahore", "police", "army", "district"]
        out["search (distinct)"] = timed_many(ours.url, [f"/search?q={w}" for w in words])
        prefixes = [w[:n] for w in words for n in (3, 4, 5)]
        out["autocomplete (each keystroke)"] = timed_many(ours.url, [f"/api/search?q={p}" for p in prefixes])
        out["home"] = timed_many(ours.url, ["/"] * 10)
        out["class pages"] = timed_many(
            ours.url, ["/class/Incident", "/class/Incident?page=50", "/class/City", "/class/ArmedGroup"] * 3
        )
        cube = (HERE / "examples" / "13-cube-incidents-per-province-and-year.rq").read_text(encoding="utf-8")
        runs = [get(ours.url + "/sparql?" + urllib.parse.urlencode({"query": f"{cube}\n# run {i}"}))[0] for i in range(5)]
        out["cube: per province and year over /sparql (distinct texts)"] = {"p50_ms": percentile(runs, 0.5)}
        direct = (HERE / "examples" / "07-incidents-per-province-and-year.rq").read_text(encoding="utf-8")
        out["same question over every incident (/sparql)"] = {
            "ms": get(ours.url + "/sparql?" + urllib.parse.urlencode({"query": direct}))[0]
        }
        out["rss_after_mix_mib"] = rss_kib(ours.proc.pid) / 1024
        out["pss_after_mix_mib"] = pss_kib(ours.proc.pid) / 1024
        out["processes_after_mix"] = len(_tree(ours.proc.pid))
    finally:
        ours.stop()
    oxi = OxigraphServer.read_only(LocalStore(store_path).version_dir())
    try:
        for q in (cube, direct):
            get(oxi.url + "/query?" + urllib.parse.urlencode({"query": "PREFIX psk: <" + PREFIXES["psk"] + ">\n"
                                                               "PREFIX rdfs: <" + PREFIXES["rdfs"] + ">\n"
                                                               "PREFIX xsd: <" + PREFIXES["xsd"] + ">\n" + q}))  # fmt: skip
        out["oxigraph_rss_after_mix_mib"] = rss_kib(oxi.proc.pid) / 1024
        out["oxigraph_pss_after_mix_mib"] = pss_kib(oxi.proc.pid) / 1024
    finally:
        oxi.stop()
    return out


def bench_duckdb(csv_path: Path) -> dict[str, float]:
    """The same questions asked of DuckDB over the same CSV (read from the file each time, like a researcher would)."""
    con = duckdb.connect()
    src = f"read_csv('{csv_path}', header = true)"
    out = {}
    for name, sql in (
        ("per province and year", f"SELECT admin1, year, count(*), sum(fatalities) FROM {src} GROUP BY ALL"),
        ("a province's incidents per month", f"SELECT strftime(event_date::DATE, '%Y-%m') m, count(*) FROM {src} WHERE admin1 = 'Baluchistan' GROUP BY m"),
        ("a filter (province, type, year)", f"SELECT count(*) FROM {src} WHERE admin1 = 'Baluchistan' AND event_type = 'Battles' AND year = 2021"),
        ("substring search over actor names", f"SELECT DISTINCT actor1 FROM {src} WHERE actor1 ILIKE '%baloch%'"),
    ):  # fmt: skip
        t = time.perf_counter()
        con.execute(sql).fetchall()
        out[name + " (ms)"] = (time.perf_counter() - t) * 1000
    table = con.execute(f"CREATE TABLE t AS SELECT * FROM {src}")
    del table
    t = time.perf_counter()
    con.execute("SELECT admin1, year, count(*), sum(fatalities) FROM t GROUP BY ALL").fetchall()
    out["per province and year, table in memory (ms)"] = (time.perf_counter() - t) * 1000
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, default=100_000)
    ap.add_argument("--work", type=Path)
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    ap.add_argument("--store", type=Path, help="measure this store (no load), with --csv: the CSV it was loaded from")
    ap.add_argument("--csv", type=Path)
    args = ap.parse_args()
    if args.store:
        report = {"size": args.size, "loadavg_before": os.getloadavg(), "http": bench_http(args.store)}
        report["duckdb_over_csv"] = bench_duckdb(args.csv) if args.csv else {}
        report["loadavg_after"] = os.getloadavg()
        report["errors"] = ERRORS
        print(json.dumps(report, indent=2))
        return
    work = args.work or Path(tempfile.mkdtemp(prefix="psk-bench-pages-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        csv_path = generate(work / f"acled-{args.size}.csv", args.size)
        report: dict[str, Any] = {"size": args.size, "loadavg_before": os.getloadavg()}
        report["load"] = bench_load(csv_path, work)
        report["http"] = bench_http(work / "store")
        report["duckdb_over_csv"] = bench_duckdb(csv_path)
        report["loadavg_after"] = os.getloadavg()
        report["errors"] = ERRORS
        print(json.dumps(report, indent=2))
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
