"""Shared fixtures: built stores (seeds, seeds + synthetic ACLED fixture); the app in-process (`app`, `client`) and the
CLI in-process (`runner`) for everything that needs no socket; real servers on 127.0.0.1 (`server`) for the rest."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from kg.build import build
from kg.config import Settings
from kg.loaders import load_files
from kg.namespaces import Base
from kg.store import LocalStore
from server import create_app

from .helpers import ROOT, Server, VirtuosoServer

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


@pytest.fixture(scope="session")
def app(full_store: Path) -> Iterator[Flask]:
    """The web app in-process over the full store (row cap 50, like the real server fixture)."""
    application = create_app(Settings(store=str(full_store), max_rows=50, query_timeout=3))
    yield application
    application.extensions["psk"]["backend"].close()


@pytest.fixture()
def client(app: Flask) -> FlaskClient:
    """Flask's test client: requests go through the whole WSGI stack (the /sparql protocol layer included), no socket."""
    return app.test_client()


@pytest.fixture()
def runner(full_store: Path) -> Iterator[tuple[CliRunner, dict[str, str]]]:
    """click's CliRunner for `kg` commands, with the environment that points them at the full store."""
    yield CliRunner(), {"PSK_STORE": str(full_store)}


@pytest.fixture(scope="session")
def virtuoso(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VirtuosoServer]:
    """A headless Virtuoso 7 (Debian's virtuoso-opensource-7; .ci/run installs it) with its own database and ini."""
    if shutil.which("virtuoso-t") is None:
        pytest.skip("virtuoso-t not installed (Debian package virtuoso-opensource-7)")
    srv = VirtuosoServer(tmp_path_factory.mktemp("virtuoso"))
    yield srv
    srv.stop()


def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object:
    """pytest-xdist's work units (pyproject's addopts run two workers): each test module runs whole on one worker, so
    its module fixtures are built once, except the remote-store suite, whose Virtuoso half and Oxigraph half (the
    longest module, split by backend) run side by side. Hand-written because xdist's `loadgroup` marks no longer take
    effect under pytest 9.2 (xdist rewrites `item._nodeid`, which pytest no longer reads)."""
    from xdist.scheduler import LoadScopeScheduling

    class ByModule(LoadScopeScheduling):  # type: ignore[misc]
        def _split_scope(self, nodeid: str) -> str:
            return module_unit(nodeid)

    return ByModule(config, log)


# the longest modules start first, so that no long one is left running alone at the end
LONG_FIRST = ("test_remote", "test_acled", "test_faults", "test_linked_data", "test_browser", "test_inference")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: i for i, name in enumerate(LONG_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.stem, len(rank)))  # stable: each module keeps its order


def module_unit(nodeid: str) -> str:
    """The work unit of a test: its module, with the remote-store tests on Virtuoso as a unit of their own."""
    module, _, rest = nodeid.partition("::")
    params = rest[rest.find("[") :] if "[" in rest else ""
    if module.endswith("test_remote.py") and "virtuoso" in params:
        return module + "[virtuoso]"
    return module
