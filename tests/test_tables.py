"""The derived incident table (kg/tables.py) agrees with the graph it is derived from, after a build and after loads."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pyoxigraph as ox
import pytest

from kg.build import build
from kg.config import Settings
from kg.loaders import load_files
from kg.namespaces import PREFIXES, Base
from kg.search import INCIDENTS_FILE, SEARCH_FILE
from kg.store import LocalStore
from kg.tables import TABLE_FILE, Table, ensure_for_version, tables_dir

from .conftest import FIXTURES

LINKS = """SELECT ?o ?p (COUNT(DISTINCT ?i) AS ?n) WHERE {
  ?i a psk:Incident ; ?p ?o . FILTER(isIRI(?o) && ?p != rdf:type && ?p != psk:source) } GROUP BY ?o ?p"""
WITHIN = "SELECT ?o (COUNT(DISTINCT ?i) AS ?n) WHERE { ?i a psk:Incident ; psk:place/psk:locatedIn+ ?o } GROUP BY ?o"
COUNT = "SELECT (COUNT(?i) AS ?n) WHERE { ?i a psk:Incident }"
FATALITIES = "SELECT (SUM(?f) AS ?n) WHERE { ?i a psk:Incident ; psk:fatalities ?f }"


def graph_counts(store: ox.Store) -> tuple[Counter[tuple[str, str]], int, int]:
    counts: Counter[tuple[str, str]] = Counter()
    for row in store.query(LINKS, prefixes=PREFIXES):  # type: ignore[union-attr]
        counts[(row["o"].value, row["p"].value.rsplit("#", 1)[-1].rsplit("/", 1)[-1])] = int(row["n"].value)
    for row in store.query(WITHIN, prefixes=PREFIXES):  # type: ignore[union-attr]
        counts[(row["o"].value, "within")] = int(row["n"].value)
    n, fatalities = (next(iter(store.query(q, prefixes=PREFIXES)))["n"] for q in (COUNT, FATALITIES))  # type: ignore[call-overload]
    return counts, int(n.value), int(fatalities.value) if fatalities is not None else 0


def table_counts(table: Table) -> tuple[Counter[tuple[str, str]], int, int]:
    counts = Counter(
        {(e, r): n for e, r, n in table.rows("SELECT entity, role, count(DISTINCT incident) FROM links GROUP BY ALL")}
    )
    ((n, fat),) = table.rows("SELECT count(*), coalesce(sum(fatalities), 0) FROM incidents")
    return counts, n, fat


def assert_agree(path: Path) -> Table:
    local = LocalStore(path)
    version_dir = local.version_dir()
    table_file = tables_dir(version_dir) / TABLE_FILE
    assert table_file.exists(), "the build or load wrote no incident table beside its version"
    table = Table(ensure_for_version(version_dir))
    _v, store = local.open_read()
    assert table_counts(table) == graph_counts(store)
    return table


@pytest.fixture()
def store_path(tmp_path: Path) -> Path:
    path = tmp_path / "store"
    build(LocalStore(path), Base())
    return path


def test_table_agrees_with_graph_after_build_and_loads(store_path: Path, tmp_path: Path) -> None:
    seeds = assert_agree(store_path)
    (n_seed,) = seeds.rows("SELECT count(*) FROM incidents")[0]
    assert n_seed >= 4  # the article's incidents
    load_files("acled", [FIXTURES / "acled_small.csv"], Settings(store=str(store_path)))
    table = assert_agree(store_path)
    row = table.rows(
        "SELECT event_id, year, month, event_type_label, sub_event_type_label, actors, province_label, district_label, place_label,"
        " lat, lon, fatalities, source_name FROM incidents WHERE event_id = 'SYN0001'"
    )
    assert row == [
        (
            "SYN0001", 2025, "2025-01", "Explosions/Remote violence", "Remote explosive/landmine/IED",
            "actor1: Baloch Liberation Army; actor2: Pakistan Armed Forces", "Balochistan", "Synthetic District A",
            "Synthville", 29.5, 67.0, 3, "Synthetic Source",
        )
    ]  # fmt: skip
    balochistan = Base().entity("province/balochistan")
    within = table.rows("SELECT count(*) FROM links WHERE entity = ? AND role = 'within'", [balochistan])
    assert within == [(1,)]  # SYN0001's place lies in a district of Balochistan
    # a revised row (fatalities 3 -> 7) and a new event: the new version's table follows the graph
    lines = (FIXTURES / "acled_small.csv").read_text(encoding="utf-8").splitlines()
    revised = lines[1].replace('",3,,', '",7,,', 1)
    assert revised != lines[1]
    new = lines[2].replace("SYN0002", "NEW0002", 1)
    (tmp_path / "more.csv").write_text("\n".join([lines[0], revised, new]) + "\n", encoding="utf-8")
    load_files("acled", [tmp_path / "more.csv"], Settings(store=str(store_path)))
    after = assert_agree(store_path)
    assert after.rows("SELECT count(*) FROM incidents")[0][0] == n_seed + 5


def test_old_version_tables_are_pruned_with_their_versions(store_path: Path) -> None:
    local = LocalStore(store_path)
    first = local.version()
    for _ in range(2):
        build(local, Base(), validate=False)
    assert not tables_dir(local.version_dir(first)).exists()
    assert (tables_dir(local.version_dir()) / TABLE_FILE).exists()
    assert all(
        not d.name.endswith(".tables") or (d.parent / d.name[: -len(".tables")]).exists() for d in local.versions.iterdir()
    )


def test_tables_of_an_earlier_format_are_rebuilt_and_removed(store_path: Path) -> None:
    """A store written by an earlier release (derived files under older names) gets current ones, the old removed."""
    local = LocalStore(store_path)
    build(local, Base(), validate=False)
    directory = tables_dir(local.version_dir())
    for path in list(directory.iterdir()):
        if path.suffix in (".duckdb", ".sqlite"):
            path.unlink()
    stale = [directory / name for name in ("incidents.duckdb", "search.sqlite", "search.duckdb", "search.v1.sqlite")]
    for path in stale:
        path.write_bytes(b"an earlier release's file")
    table = Table(ensure_for_version(local.version_dir()))
    try:
        assert table.rows("SELECT count(*) FROM incidents")[0][0] > 0
    finally:
        table.close()
    assert not [p for p in stale if p.exists()]
    assert (directory / SEARCH_FILE).exists() and (directory / INCIDENTS_FILE).exists()
