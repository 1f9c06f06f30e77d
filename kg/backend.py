"""The graph, local or remote: the embedded Oxigraph store, or a remote SPARQL 1.1 server.

Both backends answer the same calls: user queries (time-limited, row-capped, serialized bytes),
structured SELECT/CONSTRUCT for pages with IRIs bound as parameters, dumps, and a dataset version
used as the cache key.

`with backend.pinned():` makes every call in it (in this thread or task) use one version, the one current
at its first use inside (so entering it never fails, and a request that touches no data reads nothing): the server pins one per request, so a page's queries, its cache keys and its ETag all
come from the same version even when a load publishes another one meanwhile.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol

import pyoxigraph as ox

from . import formats
from .config import Settings
from .dumps import dump_format, ensure_dump
from .executor import Answer, Job, QueryPool, answer_lookup
from .sparql import QueryInfo, Result, execute
from .store import LocalStore
from .tables import Table, ensure_for_version, ensure_table, export_rows

Bindings = dict[str, ox.NamedNode | ox.Literal]


class Backend(Protocol):
    kind: str

    def version(self) -> str: ...

    def run_query(
        self,
        query: str,
        fmt: str,
        *,
        max_rows: int,
        timeout: float,
        default_graph: list[str] | None,
        named_graphs: list[str] | None,
        base_iri: str | None = None,
        info: QueryInfo | None = None,
    ) -> tuple[Answer, str]: ...

    def select(self, query: str, bindings: Bindings | None = None, max_rows: int = 10_000) -> Result: ...

    def dump_stream(self, fmt: str) -> Iterator[bytes]: ...

    def pinned(self) -> contextlib.AbstractContextManager[None]: ...

    def table(self) -> Table:
        """The derived incident table (kg/tables.py) of the current version, built first if it has none yet."""
        ...

    def health(self) -> dict[str, Any]: ...

    def close(self) -> None: ...


class _Tables:
    """One open incident table per process, for the current version (reopened when the version changes)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: tuple[str, Table] | None = None

    def get(self, version: str, path: Callable[[], Path]) -> Table:
        opened = self._open
        if opened is None or opened[0] != version:
            with self._lock:
                if self._open is None or self._open[0] != version:
                    # the previous version's table is not closed here: a request may still be reading it
                    self._open = (version, Table(path()))
                opened = self._open
        return opened[1]


class LocalBackend:
    """The embedded store: pages query in-process (read-only), user queries run in the killable pool."""

    kind = "embedded"

    def __init__(self, path: str, pool_size: int = 2) -> None:
        self.store = LocalStore(path)
        self._pool: QueryPool | None = None
        self._pool_size = pool_size
        self._lock = threading.Lock()
        self._opened: tuple[str, ox.Store] | None = None
        self._checked = 0.0
        self._version = ""
        self._tables = _Tables()
        # per request (thread or task): [] until first used, then [(version, its open store)]
        self._pin: contextvars.ContextVar[list[tuple[str, ox.Store]] | None] = contextvars.ContextVar(
            f"pin-{id(self)}", default=None
        )

    @contextlib.contextmanager
    def pinned(self) -> Iterator[None]:
        """Use one version (and one open store of it) for everything inside: the one current at its first use."""
        if self._pin.get() is not None:  # already pinned by an outer caller
            yield
            return
        token = self._pin.set([])
        try:
            yield
        finally:
            self._pin.reset(token)

    def _pinned(self) -> tuple[str, ox.Store]:
        slot = self._pin.get()
        if slot is None:
            return self._current()
        if not slot:
            slot.append(self._current())
        return slot[0]

    def version(self) -> str:
        slot = self._pin.get()
        return self._pinned()[0] if slot is not None else self._latest()

    def _latest(self) -> str:
        # readlink is a cheap syscall; check at most every 50 ms under load.
        now = time.monotonic()
        if now - self._checked > 0.05 or not self._version:
            self._version = self.store.version()
            self._checked = now
        return self._version

    def _store(self) -> ox.Store:
        return self._pinned()[1]

    def _current(self) -> tuple[str, ox.Store]:
        version = self._latest()
        opened = self._opened
        if opened is None or opened[0] != version:
            with self._lock:
                if self._opened is None or self._opened[0] != version:
                    self._opened = (version, ox.Store.read_only(str(self.store.version_dir(version))))
                opened = self._opened
        return opened

    @property
    def pool(self) -> QueryPool:
        if self._pool is None:
            with self._lock:
                if self._pool is None:
                    self._pool = QueryPool(self._pool_size)
        return self._pool

    def run_query(
        self,
        query: str,
        fmt: str,
        *,
        max_rows: int,
        timeout: float,
        default_graph: list[str] | None,
        named_graphs: list[str] | None,
        base_iri: str | None = None,
        info: QueryInfo | None = None,
    ) -> tuple[Answer, str]:
        with self.pinned():
            version = self.version()
            if info is not None and info.lookup is not None and not default_graph and not named_graphs:
                # a bounded lookup (one row-capped index scan) cannot run away: evaluate it right here
                return answer_lookup(self._store(), info.lookup, fmt, max_rows)
            job = Job(
                str(self.store.version_dir(version)),
                query,
                fmt,
                max_rows,
                default_graph=default_graph,
                named_graphs=named_graphs,
                base_iri=base_iri,
            )
        # admission (kg/admission.py) bounds what reaches the pool, and a request thread always stays free for
        # bounded lookups and pages (the server runs 2 request threads per query process, plus 2)
        return self.pool.run(job, timeout)

    def select(self, query: str, bindings: Bindings | None = None, max_rows: int = 10_000) -> Result:
        return execute(self._store(), query, max_rows=max_rows, substitutions=bindings)

    def dump_stream(self, fmt: str) -> Iterator[bytes]:
        """The gzip dump of the current version, written beside it on first request, streamed from disk.

        The file is written (or DumpUnavailable raised) before this returns, so a failure is an error status,
        never a 200 with an empty body."""
        with self.pinned():
            version = self.version()
            dumps_dir = Path(str(self.store.version_dir(version)) + ".dumps")
            path = ensure_dump(self._store(), dumps_dir, _dump_format(fmt))
        fh = open(path, "rb")

        def chunks() -> Iterator[bytes]:
            with fh:
                while chunk := fh.read(1 << 16):
                    yield chunk

        return chunks()

    def table(self) -> Table:
        version = self.version()
        return self._tables.get(version, lambda: ensure_for_version(self.store.version_dir(version)))

    def health(self) -> dict[str, Any]:
        return {"state": "up", "version": self.version()}

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()


class RemoteBackend:
    """A remote SPARQL 1.1 server (Oxigraph server, Fuseki, Virtuoso, QLever) over the standard protocols."""

    kind = "remote"

    def __init__(self, url: str, settings: Settings | None = None) -> None:
        settings = settings or Settings.from_env()
        from .remote import RemoteStore

        self.remote = RemoteStore.from_settings(settings, url)
        self._version = ""
        self._checked = 0.0
        self._tables = _Tables()
        # the remote's incident tables are built here from the remote, by the same query, one per remote version
        self._tables_root = Path(tempfile.gettempdir()) / "psk-tables" / hashlib.sha256(url.encode()).hexdigest()[:16]
        self._pin: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar(f"pin-{id(self)}", default=None)

    @contextlib.contextmanager
    def pinned(self) -> Iterator[None]:
        """One version name for everything inside (cache keys, ETags); the remote answers from what it holds."""
        if self._pin.get() is not None:
            yield
            return
        token = self._pin.set([])
        try:
            yield
        finally:
            self._pin.reset(token)

    def version(self) -> str:
        slot = self._pin.get()
        if slot is None:
            return self._latest()
        if not slot:
            slot.append(self._latest())
        return slot[0]

    def _latest(self) -> str:
        now = time.monotonic()
        if now - self._checked > 5 or not self._version:
            self._version = self.remote.version()
            self._checked = now
        return self._version

    def run_query(
        self,
        query: str,
        fmt: str,
        *,
        max_rows: int,
        timeout: float,
        default_graph: list[str] | None,
        named_graphs: list[str] | None,
        base_iri: str | None = None,
        info: QueryInfo | None = None,
    ) -> tuple[Answer, str]:
        result = self.remote.execute(
            query, max_rows=max_rows, timeout=timeout, default_graph=default_graph, named_graphs=named_graphs, base_iri=base_iri
        )
        return Answer.of(result, fmt)

    def select(self, query: str, bindings: Bindings | None = None, max_rows: int = 10_000) -> Result:
        # pages need whole answers: read past a server's own row cap (Virtuoso's ResultSetMaxRows) in pages
        return self.remote.execute(query, max_rows=max_rows, bindings=bindings, complete=True)

    def dump_stream(self, fmt: str) -> Iterator[bytes]:
        import zlib

        target = _dump_format(fmt)
        assert target.rdf is not None
        compressor = zlib.compressobj(6, zlib.DEFLATED, 31)  # gzip container
        for chunk in self.remote.stream_dump(target.rdf, target.dataset):
            data = compressor.compress(chunk)
            if data:
                yield data
        yield compressor.flush()

    def table(self) -> Table:
        version = self.version()
        directory = self._tables_root / hashlib.sha256(version.encode()).hexdigest()[:16]

        def select(query: str) -> Result:
            return self.remote.execute(query, max_rows=1 << 40, timeout=max(self.remote.timeout, 600.0), complete=True)

        return self._tables.get(version, lambda: ensure_table(directory, export_rows(select)))

    def health(self) -> dict[str, Any]:
        state = self.remote.health()
        if state["state"] == "up":
            self._version, self._checked = state["version"], time.monotonic()
        return state

    def close(self) -> None:
        pass


def _dump_format(ext: str) -> formats.Format:
    fmt = dump_format(ext)
    if fmt is None:
        raise ValueError(f"no dump format .{ext}")
    return fmt


def make_backend(settings: Settings) -> Backend:
    """The backend the settings name: the remote store when PSK_REMOTE is set, else the embedded store."""
    if settings.remote:
        return RemoteBackend(settings.remote, settings)
    return LocalBackend(settings.store, pool_size=settings.pool_size)
