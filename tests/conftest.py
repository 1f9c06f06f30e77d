"""Shared fixtures: a built store (seeds + synthetic ACLED fixture) and real servers on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kg.build import build
from kg.config import Settings
from kg.loaders import load_files
from kg.namespaces import Base
from kg.store import LocalStore

from .helpers import ROOT, Server

FIXTURES = ROOT / "tests" / "fixtures"


@pytest.fixture(scope="session")
def seed_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seed graph only."""
    path = tmp_path_factory.mktemp("seed") / "store"
    build(LocalStore(path), Base())
    return path


@pytest.fixture(scope="session")
def full_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Seeds plus the synthetic ACLED fixture."""
    path = tmp_path_factory.mktemp("full") / "store"
    build(LocalStore(path), Base())
    load_files("acled", [FIXTURES / "acled_small.csv"], Settings(store=str(path)))
    return path


@pytest.fixture(scope="session")
def server(full_store: Path) -> Iterator[str]:
    srv = Server({"PSK_STORE": str(full_store), "PSK_MAX_ROWS": "50"}, "--workers", "2", "--timeout", "3")
    yield srv.url
    srv.stop()
