"""Build the knowledge graph from the seeds into a store: assemble, validate, publish atomically."""

from __future__ import annotations

from collections.abc import Callable

import pyoxigraph as ox

from .curated import seed_quads
from .namespaces import Base
from .ontology import ontology_quads
from .store import LocalStore
from .validate import check
from .void import refresh_void

Progress = Callable[[str], None]


def assemble(base: Base) -> list[ox.Quad]:
    """Ontology, vocabularies, article and curated records, as quads."""
    return ontology_quads() + seed_quads(base)


def build(store: LocalStore, base: Base, *, validate: bool = True, progress: Progress | None = None) -> str:
    """Rebuild the store from the seeds. Idempotent; atomic: a failure leaves the old store intact."""
    say = progress or (lambda _msg: None)
    say("assembling ontology, article and curated records")
    quads = assemble(base)
    if validate:
        say(f"validating {len(quads)} quads against ontology/shapes.ttl")
        check(quads)

    def fill(target: ox.Store) -> None:
        say(f"loading {len(quads)} quads into a new store version")
        target.bulk_extend(quads)
        refresh_void(base, target)

    version = store.write(fill, from_current=False)
    say(f"published version {version}")
    return version
