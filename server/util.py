"""Helpers shared by the blueprints: .rq files, the result cache, IRI <-> path mapping."""

from __future__ import annotations

import hashlib
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from flask import current_app

from kg.namespaces import CANONICAL_BASE, Base

HERE = Path(__file__).resolve().parent
T = TypeVar("T")


class Queries:
    """SPARQL text used by pages, read once from server/queries/*.rq."""

    def __init__(self) -> None:
        self._text = {p.stem: p.read_text(encoding="utf-8") for p in (HERE / "queries").glob("*.rq")}

    def __getitem__(self, name: str) -> str:
        return self._text[name]


@dataclass
class Example:
    slug: str
    title: str
    description: str
    query: str


def examples() -> list[Example]:
    out = []
    for path in sorted((HERE / "examples").glob("*.rq")):
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        title = next((line[len("# title:") :].strip() for line in lines if line.startswith("# title:")), path.stem)
        desc = " ".join(line[1:].strip() for line in lines[1:] if line.startswith("#"))
        out.append(Example(path.stem, title, desc, text))
    return out


@dataclass
class Cached:
    body: bytes
    media: str
    headers: dict[str, str]
    etag: str


class LRUCache(Generic[T]):
    """A thread-safe LRU cache bounded by the total weight of its items (bytes, rows, ...)."""

    def __init__(self, max_weight: int, weigh: Callable[[T], int], max_item: int | None = None) -> None:
        self.max_weight, self.weigh = max_weight, weigh
        self.max_item = max_weight if max_item is None else max_item
        self._items: OrderedDict[Hashable, tuple[T, int]] = OrderedDict()
        self._weight = 0
        self._lock = threading.Lock()
        self.hits = 0

    def get(self, key: Hashable) -> T | None:
        with self._lock:
            entry = self._items.get(key)
            if entry is None:
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return entry[0]

    def put(self, key: Hashable, item: T) -> None:
        weight = self.weigh(item)
        if weight > self.max_item:
            return
        with self._lock:
            if key in self._items:
                return
            self._items[key] = (item, weight)
            self._weight += weight
            while self._weight > self.max_weight and self._items:
                _k, (_old, w) = self._items.popitem(last=False)
                self._weight -= w


class ResultCache(LRUCache[Cached]):
    """Serialized query results keyed on (dataset version, query, dataset, format), bounded in bytes."""

    def __init__(self, max_bytes: int, max_item: int = 1 << 20) -> None:
        super().__init__(max_bytes, lambda item: len(item.body), max_item)

    @staticmethod
    def key(*parts: Any) -> str:
        return hashlib.sha256(repr(parts).encode()).hexdigest()


def psk() -> dict[str, Any]:
    return current_app.extensions["psk"]  # type: ignore[no-any-return]


_LOCAL_ROOTS = ("id/", "vocab/", "graph/", "dataset")


def iri_to_path(iri: str, base: Base) -> str | None:
    """Local page path for an IRI of this dataset (configured base or canonical vocabulary), else None."""
    for prefix in {base.base, CANONICAL_BASE}:
        if iri.startswith(prefix):
            rest = iri[len(prefix) :]
            if rest.startswith(_LOCAL_ROOTS):
                return "/page/" + rest
            if rest.startswith("ontology"):
                return "/ontology" + rest[len("ontology") :]
    return None


def path_to_iri(rest: str, base: Base) -> str:
    """IRI for a local resource path like 'id/province/balochistan' (vocabularies use the canonical base)."""
    if rest.startswith("vocab/"):
        return CANONICAL_BASE + rest
    return base.base + rest


SAFE_PATH = re.compile(r"^(id|vocab|graph)/[A-Za-z0-9._~\-/%]+$|^dataset$")
