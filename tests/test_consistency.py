"""One version per response, even while a load publishes (two loads at once: tests/test_faults.py)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from kg.backend import Bindings, LocalBackend
from kg.config import Settings
from kg.loaders import load_files
from kg.sparql import Result
from kg.store import LocalStore
from server import create_app

from .conftest import FIXTURES

ACLED = FIXTURES / "acled_small.csv"


def copy_store(src: Path, dst: Path) -> Path:
    shutil.copytree(src.with_name(src.name + ".versions"), dst.with_name(dst.name + ".versions"))
    os.symlink(os.readlink(src), dst)
    return dst


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
