"""The one settings object: every PSK_* setting, its default and its type, read from the environment in one place.

The CLI, the server (each of its worker processes), the loaders and the backends all take a Settings; nothing else
reads PSK_* variables. `Settings.from_env()` reads the environment; keyword overrides (command-line options, a test's
configuration) win over it. `to_env()` is the inverse, for handing the settings to worker processes.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .namespaces import CANONICAL_BASE, Base
from .ontology import ROOT

if TYPE_CHECKING:
    from .sparql import Limits

DEFAULT_STORE = str(ROOT / "data" / "store")  # the one default: data/store in the checkout, wherever kg runs from


def _cpus() -> int:
    return os.cpu_count() or 2


@dataclass(frozen=True)
class Settings:
    base: str = field(default=CANONICAL_BASE, metadata={"env": "PSK_BASE"})
    # the service's public address (https://example.org); unset: the address the server listens on, never the Host header
    public_url: str | None = field(default=None, metadata={"env": "PSK_PUBLIC_URL"})
    store: str = field(default=DEFAULT_STORE, metadata={"env": "PSK_STORE"})
    remote: str | None = field(default=None, metadata={"env": "PSK_REMOTE"})  # a remote SPARQL endpoint instead of the store
    remote_update: str | None = field(default=None, metadata={"env": "PSK_REMOTE_UPDATE"})
    remote_gsp: str | None = field(default=None, metadata={"env": "PSK_REMOTE_GSP"})
    # writes into a remote store that needs HTTP digest authentication (Virtuoso's /sparql-auth, /sparql-graph-crud-auth)
    remote_user: str | None = field(default=None, metadata={"env": "PSK_REMOTE_USER"})
    remote_password: str | None = field(default=None, metadata={"env": "PSK_REMOTE_PASSWORD"})
    # kg.dialect: virtuoso or sparql11; unset: recognized by the server's Server header
    remote_dialect: str | None = field(default=None, metadata={"env": "PSK_REMOTE_DIALECT"})
    # over Virtuoso: the named graph that holds the app's default graph
    remote_default_graph: str = field(default="urn:psk:default", metadata={"env": "PSK_REMOTE_DEFAULT_GRAPH"})
    # over Virtuoso: its ResultSetMaxRows, until an X-SPARQL-MaxRows header tells
    remote_max_rows: int = field(default=10_000, metadata={"env": "PSK_REMOTE_MAX_ROWS"})
    query_timeout: float = field(default=10.0, metadata={"env": "PSK_QUERY_TIMEOUT"})  # hard per-query limit, seconds
    max_rows: int = field(default=10_000, metadata={"env": "PSK_MAX_ROWS"})
    max_query_bytes: int = field(default=20_000, metadata={"env": "PSK_MAX_QUERY_BYTES"})
    max_depth: int = field(default=64, metadata={"env": "PSK_MAX_DEPTH"})
    cache_bytes: int = field(default=64 << 20, metadata={"env": "PSK_CACHE_BYTES"})  # query results, per web worker
    incident_cache_rows: int = field(default=100_000, metadata={"env": "PSK_INCIDENT_CACHE_ROWS"})
    max_body_bytes: int = field(default=1 << 20, metadata={"env": "PSK_MAX_BODY_BYTES"})
    pool_size: int = field(default_factory=_cpus, metadata={"env": "PSK_POOL_SIZE"})  # query worker processes per web worker
    # Online map tiles, e.g. "https://tiles.example.org/{z}/{x}/{y}.png"; empty (the default): maps draw the bundled
    # Natural Earth outlines and need no network. The attribution is shown with the tiles.
    map_tiles: str = field(default="", metadata={"env": "PSK_MAP_TILES"})
    map_tiles_attribution: str = field(default="", metadata={"env": "PSK_MAP_TILES_ATTRIBUTION"})
    # Where short links (/query?q=<id>) keep their queries; default: saved-queries/ beside the store.
    saved_queries: str | None = field(default=None, metadata={"env": "PSK_SAVED_QUERIES"})
    client_queries: int = field(default=2, metadata={"env": "PSK_CLIENT_QUERIES"})  # general queries at a time per client
    queue_timeout: float = field(default=10.0, metadata={"env": "PSK_QUEUE_TIMEOUT"})  # seconds a query may wait for a worker
    header_timeout: float = field(default=10.0, metadata={"env": "PSK_HEADER_TIMEOUT"})  # seconds to send the request headers
    body_timeout: float = field(default=10.0, metadata={"env": "PSK_BODY_TIMEOUT"})  # seconds to send the request body
    max_header_bytes: int = field(default=64 << 10, metadata={"env": "PSK_MAX_HEADER_BYTES"})  # all request headers together

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Settings from the environment (or env), then overrides (None values are ignored)."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            raw = env.get(f.metadata["env"])
            if raw is not None and raw != "":
                values[f.name] = _parse(f, raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})

    def to_env(self) -> dict[str, str]:
        """The settings as PSK_* variables (unset optional ones are left out)."""
        return {f.metadata["env"]: str(v) for f in dataclasses.fields(self) if (v := getattr(self, f.name)) is not None}

    @property
    def limits(self) -> Limits:
        """The public endpoint's limits on queries."""
        from .sparql import Limits

        return Limits(self.max_query_bytes, self.max_depth, self.max_rows, self.query_timeout)

    @property
    def iris(self) -> Base:
        return Base(self.base)

    @property
    def store_path(self) -> Path:
        return Path(self.store)


def _parse(f: dataclasses.Field[Any], raw: str) -> Any:
    kind = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", str(f.type))
    try:
        if kind.startswith("int"):
            return int(raw)
        if kind.startswith("float"):
            return float(raw)
    except ValueError:
        from .errors import KGError

        noun = "an integer" if kind.startswith("int") else "a number"
        raise KGError(f"{f.metadata['env']}={raw!r} is not {noun}") from None
    return raw


ENV_NAMES = tuple(f.metadata["env"] for f in dataclasses.fields(Settings))
