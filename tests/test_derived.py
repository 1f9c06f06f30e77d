"""A load derives its incident table, search index and statistics incrementally (kg/tables.py derive_for_load): they
equal, row for row, what a from-scratch build of the same version gives, and the whole-graph incident query is not run."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pyoxigraph as ox
import pytest

from kg import tables
from kg.build import build
from kg.config import Settings
from kg.cube import _observations, _structure, statistics_graph
from kg.loaders import load_files
from kg.namespaces import Base
from kg.search import INCIDENTS_FILE, SEARCH_FILE
from kg.store import LocalStore
from kg.tables import EVENTS_FILE, TABLE_FILE, Table, ensure_table, export_local, tables_dir

from .conftest import FIXTURES

TABLES = {
    "incidents": "SELECT * FROM incidents ORDER BY id",
    "links": "SELECT * FROM links ORDER BY ALL",
    "concept_up": "SELECT * FROM concept_up ORDER BY ALL",
    "classes": "SELECT * FROM classes ORDER BY ALL",
    "terms": "SELECT * FROM terms ORDER BY ALL",
}


def search_rows(path: Path) -> tuple[list[tuple[object, ...]], ...]:
    db = sqlite3.connect(path)
    try:
        entities = db.execute("SELECT iri, label, type, context, incidents, names FROM entities ORDER BY iri").fetchall()
        names = db.execute("SELECT e.iri, n.name FROM names n JOIN entities e ON e.id = n.entity ORDER BY 1, 2").fetchall()
    finally:
        db.close()
    tier = Table(path.with_name(INCIDENTS_FILE))
    try:
        return entities, names, tier.rows("SELECT * FROM incidents ORDER BY rank")
    finally:
        tier.close()


def assert_equal_to_scratch(store_path: Path, scratch: Path) -> int:
    """The current version's derived outputs equal a from-scratch build of it; returns its number of incidents."""
    local = LocalStore(store_path)
    derived = tables_dir(local.version_dir())
    assert (derived / EVENTS_FILE).exists()
    scratch.mkdir()
    store = ox.Store.read_only(str(local.version_dir()))
    ensure_table(scratch, export_local(store))
    got, want = Table(derived / TABLE_FILE), Table(scratch / TABLE_FILE)
    try:
        for name, sql in TABLES.items():
            assert got.rows(sql) == want.rows(sql), f"table {name} differs from a from-scratch build"
        assert search_rows(derived / SEARCH_FILE) == search_rows(scratch / SEARCH_FILE)
        base = Base()
        g = statistics_graph(base)
        cube = set(store.quads_for_pattern(None, None, None, g))
        assert cube, "the version has no statistics graph"
        assert cube == set(_structure(base, g)) | set(_observations(base, g, want))
        return int(want.rows("SELECT count(*) FROM incidents")[0][0])
    finally:
        got.close()
        want.close()
        del store


def test_incremental_outputs_equal_a_full_build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store_path = tmp_path / "store"
    build(LocalStore(store_path), Base())
    settings = Settings(store=str(store_path))
    n_seed = assert_equal_to_scratch(store_path, tmp_path / "scratch0")
    ran: list[str] = []
    real = tables.export_local

    def spy(store: ox.Store) -> tables.Exporter:
        run = real(store)

        def export(name: str, path: Path) -> None:
            ran.append(name)
            run(name, path)

        return export

    monkeypatch.setattr(tables, "export_local", spy)
    lines = (FIXTURES / "acled_small.csv").read_text(encoding="utf-8").splitlines()
    revised = lines[1].replace('",3,,', '",7,,', 1)
    assert revised != lines[1]
    (tmp_path / "revised.csv").write_text("\n".join([lines[0], revised, lines[2].replace("SYN0002", "NEW0002", 1)]) + "\n")
    steps = [
        ("acled", FIXTURES / "acled_small.csv"),  # a first load
        ("acled", FIXTURES / "acled_small.csv"),  # the same file again
        ("acled", tmp_path / "revised.csv"),  # a revised row and a new event
        ("ucdp", FIXTURES / "ucdp_small.csv"),  # a second file, another dataset
    ]
    counts = []
    for i, (kind, path) in enumerate(steps, 1):
        ran.clear()
        load_files(kind, [path], settings)
        if i > 1:  # a first load that outnumbers the seeds' incidents makes one pass over all (cheaper)
            assert tables.QUERY not in ran, "a load ran the whole-graph incident query"
            assert tables.TERMS_QUERY in ran
        monkeypatch.setattr(tables, "export_local", real)
        counts.append(assert_equal_to_scratch(store_path, tmp_path / f"scratch{i}"))
        monkeypatch.setattr(tables, "export_local", spy)
    assert counts[0] > n_seed and counts[1] == counts[0] and counts[2] == counts[0] + 1 and counts[3] > counts[2]


def test_a_version_without_kept_rows_is_derived_from_scratch(tmp_path: Path) -> None:
    store_path = tmp_path / "store"
    local = LocalStore(store_path)
    build(local, Base())
    (tables_dir(local.version_dir()) / EVENTS_FILE).unlink()  # as a version written by an older kg
    load_files("acled", [FIXTURES / "acled_small.csv"], Settings(store=str(store_path)))
    assert_equal_to_scratch(store_path, tmp_path / "scratch")
