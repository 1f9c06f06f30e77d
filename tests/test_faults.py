"""Fault injection: kill -9 at each phase of a build, load or compaction, a full disk, dumps that cannot be written.

After every fault the store must be exactly as before (same current version, same quads), the leftover never
counts as a version, and the next write removes it and keeps the last published version as the previous one.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kg.config import Settings
from kg.loaders import load_files
from kg.store import LocalStore

from .conftest import FIXTURES
from .fault_helpers import fill, small_tmpfs
from .helpers import ROOT

ACLED = FIXTURES / "acled_small.csv"


def kg(store: Path, *args: str, stop_at: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PSK_STORE": str(store)}
    cmd = [sys.executable, "-m", "tests.stop_at", stop_at, *args] if stop_at else [sys.executable, "-m", "kg", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env, cwd=ROOT)


def kill_at(store: Path, phase: str, *args: str) -> str:
    """Run `kg args` until it reaches phase, then kill -9 it there; returns what it printed."""
    env = {**os.environ, "PSK_STORE": str(store)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.stop_at", phase, *args], stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT
    )
    assert proc.stderr is not None
    printed = []
    for line in proc.stderr:
        printed.append(line)
        if line.startswith("STOPPED AT"):
            break
    else:
        proc.wait()
        raise AssertionError(f"kg {' '.join(args)} ended (exit {proc.returncode}) before {phase}:\n{''.join(printed)}")
    deadline = time.monotonic() + 60
    while Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "T":  # frozen where it said
        assert time.monotonic() < deadline, "the process did not stop"
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.stderr.close()
    return "".join(printed)


def snapshot(store: Path) -> tuple[str, str | None, set[str]]:
    """Current version, previous version and every quad except modification times."""
    local = LocalStore(store)
    version, s = local.open_read()
    quads = {str(q) for q in s if not q.predicate.value.endswith("/modified")}
    return version, local.previous(), quads


def leftovers(store: Path) -> list[str]:
    """Directories under the versions that are neither the current nor the previous version."""
    return [v.name for v in LocalStore(store).list_versions() if v.status not in ("current", "previous")]


def mkdir(path: Path) -> Path:
    path.mkdir(parents=True)
    return path


def copy_store(src: Path, dst: Path) -> Path:
    shutil.copytree(src.with_name(src.name + ".versions"), dst.with_name(dst.name + ".versions"))
    os.symlink(os.readlink(src), dst)
    return dst


@pytest.fixture
def store(seed_store: Path, tmp_path: Path) -> Path:
    """A private copy of the seed store with one load already published (so there is a previous version)."""
    path = copy_store(seed_store, tmp_path / "store")
    done = kg(path, "load", "acled", "--no-compact", str(ACLED))
    assert done.returncode == 0, done.stderr
    return path


KILLS = [
    # (what runs, where it is killed)
    (("build", "--no-validate"), "say:loading"),  # the new version's store open, being filled
    (("build", "--no-validate"), "before-rename"),  # complete and closed, still .partial
    (("build", "--no-validate"), "before-publish"),  # renamed, the link not switched: complete but never published
    (("load", "acled", str(ACLED)), "say:removing earlier statements"),  # a checkpoint of the current version taken
    (("load", "acled", str(ACLED)), "say:updating the VoID description"),  # rows bulk-loaded
    (("load", "acled", str(ACLED)), "before-rename"),
    (("load", "acled", "--no-compact", str(ACLED)), "before-publish"),
    (("compact",), "before-rename"),  # compacted copy written, not published
    (("compact",), "before-publish"),
]


@pytest.mark.parametrize(("args", "phase"), KILLS, ids=[f"{a[0]}-{p}" for a, p in KILLS])
def test_kill_9_leaves_the_store_as_before_and_the_next_write_cleans_up(store: Path, args: tuple[str, ...], phase: str) -> None:
    before = snapshot(store)
    printed = kill_at(store, phase, *args)
    assert "published version" not in printed
    assert snapshot(store) == before
    left = leftovers(store)
    assert left  # the killed write left a directory ...
    assert {v.status for v in LocalStore(store).list_versions() if v.name in left} <= {
        "partial",
        "unpublished",
    }  # ... not a version
    again = kg(store, *args)
    assert again.returncode == 0, again.stderr
    assert not leftovers(store) and not list(store.parent.glob(".*.tmp"))
    # the last published version (a compaction keeps the one before the version it replaces), never the leftover
    assert LocalStore(store).previous() == (before[1] if args[0] == "compact" else before[0])
    rolled_back = kg(store, "rollback")
    assert rolled_back.returncode == 0
    if args[0] != "compact":
        assert snapshot(store)[::2] == before[::2]


def test_a_load_killed_while_compacting_keeps_the_loaded_version(store: Path) -> None:
    original = snapshot(store)
    printed = kill_at(store, "say:compacting the new version", "load", "acled", str(ACLED))
    assert "checking rows" in printed
    loaded = snapshot(store)  # the load itself was published before the compaction started
    assert loaded[1] == original[0] and loaded[2] == original[2]  # same file again: same data (idempotent)
    assert kg(store, "compact").returncode == 0
    assert not leftovers(store) and LocalStore(store).previous() == original[0]


def test_a_load_on_a_full_disk_fails_cleanly(seed_store: Path, tmp_path: Path) -> None:
    from bench.synthetic import generate

    big = generate(tmp_path / "big.csv", 10000)
    with small_tmpfs(tmp_path / "disk", "12m") as disk:  # room for the seed store and its derived tables (kg/tables.py)
        store = copy_store(seed_store, disk / "store")
        before = snapshot(store)
        failed = kg(store, "load", "acled", str(big))
        assert failed.returncode == 1 and "Traceback" not in failed.stderr
        assert "No space left on device" in failed.stderr
        assert snapshot(store) == before and not leftovers(store)
        assert not [p for p in LocalStore(store).versions.iterdir() if p.name.endswith(".partial")]
        small = kg(store, "load", "acled", str(ACLED))  # there is room for a small one
        assert small.returncode == 0, small.stderr
        assert not leftovers(store) and LocalStore(store).previous() == before[0]


@pytest.mark.parametrize("args", [("compact",), ("build", "--no-validate"), ("load", "acled", str(ACLED))])
def test_a_write_on_a_full_disk_fails_cleanly_and_succeeds_once_there_is_room(
    store: Path, tmp_path: Path, args: tuple[str, ...]
) -> None:
    with small_tmpfs(tmp_path / "disk", "16m") as disk:
        moved = copy_store(store, disk / "store")
        before = snapshot(moved)
        filler = fill(disk, 64 << 10)
        failed = kg(moved, *args)
        assert failed.returncode == 1 and "Traceback" not in failed.stderr
        assert "No space left on device" in failed.stderr
        assert snapshot(moved) == before and not leftovers(moved)
        filler.unlink()
        done = kg(moved, *args)
        assert done.returncode == 0, done.stderr
        assert not leftovers(moved)


def export(store: Path) -> list[str]:
    """Every quad (all graphs) but modification times, sorted."""
    _v, s = LocalStore(store).open_read()
    return sorted(str(q) for q in s if not q.predicate.value.endswith("/modified"))


def revised(tmp_path: Path) -> Path:
    """The fixture's events again, with other fatalities and notes (a revised export)."""
    text = ACLED.read_text(encoding="utf-8")
    text = text.replace("Synthetic test event, not real data.", "Revised synthetic event, not real data.")
    text = re.sub(r",(\d+),,(\d+)\n", lambda m: f",{int(m.group(1)) + 7},,{m.group(2)}\n", text)
    path = tmp_path / "acled_revised.csv"
    path.write_text(text, encoding="utf-8")
    assert text != ACLED.read_text(encoding="utf-8")
    return path


def waiting_on_lock(pid: int) -> bool:
    """Whether pid is blocked waiting for a file lock (/proc/locks lists waiters with '->')."""
    return any("->" in line and f" {pid} " in f" {line} " for line in Path("/proc/locks").read_text().splitlines())


def kg_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "kg", *args]


def test_two_loads_at_once_equal_the_same_loads_one_after_the_other(seed_store: Path, tmp_path: Path) -> None:
    second = revised(tmp_path)
    sequential = copy_store(seed_store, mkdir(tmp_path / "sequential") / "store")
    load_files("acled", [ACLED], Settings(store=str(sequential)), compact=False)
    load_files("acled", [second], Settings(store=str(sequential)), compact=False)

    concurrent = copy_store(seed_store, mkdir(tmp_path / "concurrent") / "store")
    env = {**os.environ, "PSK_STORE": str(concurrent)}
    # the first load takes the writer lock and is frozen while it holds it
    first = subprocess.Popen(
        [sys.executable, "-m", "tests.stop_at", "say:checking rows", "load", "acled", "--no-compact", str(ACLED)],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )
    assert first.stderr is not None
    for line in first.stderr:
        if line.startswith("STOPPED AT"):
            break
    deadline = time.monotonic() + 60
    while Path(f"/proc/{first.pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "T":
        assert time.monotonic() < deadline
        time.sleep(0.01)
    # the second starts meanwhile and must wait for the lock before it decides anything
    other = subprocess.Popen(
        kg_cmd("load", "acled", "--no-compact", str(second)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )
    try:
        deadline = time.monotonic() + 120
        while not waiting_on_lock(other.pid):
            assert other.poll() is None, other.communicate()
            assert time.monotonic() < deadline, "the second load never reached the lock"
            time.sleep(0.02)
        os.kill(first.pid, signal.SIGCONT)
        rest = first.stderr.read()
        assert first.wait(timeout=300) == 0, rest
        _out, err = other.communicate(timeout=300)
        assert other.returncode == 0, err
        assert "waiting for another write" in err
    finally:
        for p in (first, other):
            if p.poll() is None:
                p.kill()
        first.stderr.close()
    assert export(concurrent) == export(sequential)


def test_a_dump_that_cannot_be_written_answers_503_and_leaves_no_file(full_store: Path, tmp_path: Path) -> None:
    from kg.config import Settings
    from server import create_app

    store = copy_store(full_store, tmp_path / "store")
    dumps = Path(str(LocalStore(store).version_dir()) + ".dumps")
    shutil.rmtree(dumps, ignore_errors=True)
    app = create_app(Settings(store=str(store)))
    try:
        with small_tmpfs(dumps, "16k"):
            (dumps / ".pakistan-security-kg.nt.gz.999999999.tmp").write_bytes(b"left by a writer killed -9")
            resp = app.test_client().get("/dumps/pakistan-security-kg.nt.gz")
            assert resp.status_code == 503 and resp.headers["Retry-After"] == "300"
            assert "no space left" in resp.get_data(as_text=True)
            assert not list(dumps.iterdir())  # no partial file, hidden or not
        resp = app.test_client().get("/dumps/pakistan-security-kg.nt.gz")  # with room again
        assert resp.status_code == 200 and len(resp.data) > 1000
    finally:
        app.extensions["psk"]["backend"].close()
