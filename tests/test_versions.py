"""Store versions: crashed writes are never versions, "previous" is the last published one, rollback, disk use."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pyoxigraph as ox
import pytest

from kg.errors import KGError, StoreWriteFailed
from kg.store import PARTIAL, LocalStore

EX = "http://example.org/"


def add(value: str) -> Callable[[ox.Store], None]:
    def fn(store: ox.Store) -> None:
        store.add(ox.Quad(ox.NamedNode(EX + "s"), ox.NamedNode(EX + "p"), ox.Literal(value)))

    return fn


def values(store: LocalStore) -> set[str]:
    return {q.object.value for q in store.open_read()[1]}


def dirs(store: LocalStore) -> list[str]:
    return sorted(d.name for d in store.versions.iterdir() if d.is_dir())


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    s = LocalStore(tmp_path / "store")
    s.write(add("one"), from_current=False)
    return s


def test_previous_is_the_last_published_version_and_rollback_returns_to_it(store: LocalStore) -> None:
    v1 = store.version()
    v2 = store.write(add("two"), from_current=True)
    assert store.previous() == v1 and values(store) == {"one", "two"}
    v3 = store.write(add("three"), from_current=True)
    assert store.previous() == v2 and dirs(store) == [v2, v3]
    assert store.rollback() == (v3, v2)
    assert store.version() == v2 and values(store) == {"one", "two"} and store.previous() == v3
    assert store.rollback() == (v2, v3)  # a second rollback undoes the first
    assert store.version() == v3 and store.previous() == v2
    compacted = store.compact()
    assert store.previous() == v2  # a compacted copy keeps the previous version of the one it replaces
    assert store.rollback() == (compacted, v2) and values(store) == {"one", "two"}
    listed = {v.name: v.status for v in store.list_versions()}
    assert listed == {v2: "current", compacted: "previous"}


def test_rollback_without_a_previous_version_is_an_error(store: LocalStore, tmp_path: Path) -> None:
    with pytest.raises(KGError, match="no previous version"):
        store.rollback()
    with pytest.raises(KGError, match="run `kg build` first"):
        LocalStore(tmp_path / "none").rollback()


def test_a_crashed_write_is_never_a_version_and_the_next_write_removes_it(store: LocalStore) -> None:
    v1 = store.version()
    v2 = store.write(add("two"), from_current=True)
    # what a write killed half-way leaves: a partial directory (a RocksDB checkpoint, then some writes)
    crashed = store.versions / ("29991231T000000.000000-dead00" + PARTIAL)
    ox.Store.read_only(str(store.version_dir())).backup(str(crashed))
    # and a complete one killed between the rename and the switch of the link
    unpublished = store.versions / "29991231T000000.000001-dead01"
    ox.Store.read_only(str(store.version_dir())).backup(str(unpublished))
    listed = {v.name: v.status for v in store.list_versions()}
    assert listed == {v1: "previous", v2: "current", crashed.name: "partial", unpublished.name: "unpublished"}
    assert store.previous() == v1 and store.version() == v2
    v3 = store.write(add("three"), from_current=True)
    assert dirs(store) == [v2, v3] and store.previous() == v2
    assert not [f for f in store.versions.iterdir() if f.name.startswith("29991231")]


def test_a_failed_write_removes_its_directory_only_once_the_store_is_closed(store: LocalStore) -> None:
    v1 = store.version()
    held: list[ox.Store] = []

    def fail(target: ox.Store) -> None:
        target.add(ox.Quad(ox.NamedNode(EX + "x"), ox.NamedNode(EX + "p"), ox.Literal("half-written")))
        raise OSError("disk full")

    with pytest.raises(StoreWriteFailed, match="disk full"):
        store.write(fail, from_current=True)
    assert dirs(store) == [v1]  # closed (the traceback's reference dropped), then removed

    def fail_holding(target: ox.Store) -> None:
        held.append(target)  # something else still has the store open
        fail(target)

    with pytest.raises(StoreWriteFailed, match="disk full"):
        store.write(fail_holding, from_current=True)
    [partial] = [d for d in store.versions.iterdir() if d.name.endswith(PARTIAL)]
    assert (partial / "CURRENT").exists()  # not removed under RocksDB's feet
    assert store.version() == v1 and values(store) == {"one"}
    held.clear()
    v2 = store.write(add("two"), from_current=True)
    assert dirs(store) == [v1, v2]


def test_disk_use_stays_within_twice_the_current_version(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    quads = [ox.Quad(ox.NamedNode(f"{EX}s{i}"), ox.NamedNode(EX + "p"), ox.Literal(f"value {i} " * 20)) for i in range(20_000)]
    store.write(lambda s: s.bulk_extend(quads), from_current=False)
    for round_ in range(3):
        more = [ox.Quad(ox.NamedNode(f"{EX}r{round_}-{i}"), ox.NamedNode(EX + "p"), ox.Literal("x")) for i in range(1000)]
        store.write(lambda s, more=more: s.bulk_extend(more), from_current=True, optimize=False)
        store.compact()
    [current] = [v for v in store.list_versions() if v.status == "current"]
    assert len(dirs(store)) == 2
    assert store.disk_usage() <= 2 * current.size


def test_kg_versions_and_kg_rollback(store: LocalStore) -> None:
    from click.testing import CliRunner

    from kg.cli import main

    v1 = store.version()
    v2 = store.write(add("two"), from_current=True)
    (store.versions / ("29991231T000000.000000-dead00" + PARTIAL)).mkdir()  # what a killed write leaves
    env = {"PSK_STORE": str(store.path)}
    listed = CliRunner().invoke(main, ["versions"], env=env)
    assert listed.exit_code == 0, listed.output
    rows = {line.split(" | ")[0].strip(): line.split(" | ")[-1].strip() for line in listed.output.splitlines() if " | " in line}
    assert rows[v1].startswith("previous") and rows[v2] == "current"
    assert rows["29991231T000000.000000-dead00.partial"].startswith("incomplete")
    assert "disk use of all versions" in listed.output
    rolled = CliRunner().invoke(main, ["rollback"], env=env)
    assert rolled.exit_code == 0 and f"rolled back from {v2} to {v1}" in rolled.output
    assert store.version() == v1 and values(store) == {"one"}
    missing = CliRunner().invoke(main, ["versions"], env={"PSK_STORE": str(store.path.with_name("none"))})
    assert missing.exit_code == 1 and "run `kg build` first" in missing.output
