"""One writer at a time, everything decided under the lock; one version per response."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from kg.backend import Bindings, LocalBackend
from kg.config import Settings
from kg.loaders import load_files
from kg.sparql import Result
from kg.store import LocalStore
from server import create_app

from .conftest import FIXTURES
from .helpers import ROOT

ACLED = FIXTURES / "acled_small.csv"


def copy_store(src: Path, dst: Path) -> Path:
    shutil.copytree(src.with_name(src.name + ".versions"), dst.with_name(dst.name + ".versions"))
    os.symlink(os.readlink(src), dst)
    return dst


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
    sequential = copy_store(seed_store, tmp_path / "sequential" / "store")
    load_files("acled", [ACLED], Settings(store=str(sequential)), compact=False)
    load_files("acled", [second], Settings(store=str(sequential)), compact=False)

    concurrent = copy_store(seed_store, tmp_path / "concurrent" / "store")
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
    finally:
        for p in (first, other):
            if p.poll() is None:
                p.kill()
        first.stderr.close()
    assert export(concurrent) == export(sequential)


class PublishingMidRequest(LocalBackend):
    """A backend under which a load publishes a new version right after the request's first query."""

    def __init__(self, path: str) -> None:
        super().__init__(path, pool_size=1)
        self.armed = False
        self.queries = 0

    def select(self, query: str, bindings: Bindings | None = None, max_rows: int = 10_000) -> Result:
        result = super().select(query, bindings, max_rows)
        self.queries += 1
        if self.armed:
            self.armed = False
            load_files("acled", [ACLED], Settings(store=str(self.store.path)), compact=False)
            self._checked = 0.0  # as if the 50 ms re-check of the current version had passed
        return result


def test_a_page_is_computed_from_one_version_while_a_load_publishes(seed_store: Path, tmp_path: Path) -> None:
    path = "/page/id/province/balochistan"  # its incident table, counts and incoming links are separate queries
    store = copy_store(seed_store, tmp_path / "store")
    reference = create_app(Settings(store=str(store)), store=LocalBackend(str(store), pool_size=1)).test_client().get(path)
    assert reference.status_code == 200
    backend = PublishingMidRequest(str(store))
    client = create_app(Settings(store=str(store)), store=backend).test_client()
    backend.armed = True
    during = client.get(path)
    assert backend.queries > 1 and LocalStore(store).version() != LocalStore(seed_store).version()  # it did publish
    assert during.get_data(as_text=True) == reference.get_data(as_text=True)
    after = client.get(path)  # the next request sees the new version
    assert after.get_data(as_text=True) != reference.get_data(as_text=True)
    backend.close()
