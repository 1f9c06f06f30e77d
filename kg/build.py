"""Build the knowledge graph from the seeds into a store: assemble, validate, publish atomically."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import pyoxigraph as ox

from .cube import write_cube
from .curated import seed_quads
from .namespaces import Base
from .ontology import ontology_quads
from .store import LocalStore
from .tables import Table, ensure_table, export_local, tables_dir
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

    store.versions.mkdir(parents=True, exist_ok=True)
    derived = Path(tempfile.mkdtemp(prefix=f".{store.versions.name}.tables-", dir=store.versions.parent))
    derived.chmod(0o755)  # like the version directories beside it (mkdtemp makes it private)

    def fill(target: ox.Store) -> None:
        say(f"loading {len(quads)} quads into a new store version")
        target.bulk_extend(quads)
        refresh_void(base, target)
        # the derived incident table and search index, and the statistics graph generated from the table
        table = Table(ensure_table(derived, export_local(target)))
        try:
            write_cube(base, target, table)
        finally:
            table.close()

    try:
        version = store.write(fill, from_current=False)
        os.replace(derived, tables_dir(store.version_dir(version)))
    finally:
        shutil.rmtree(derived, ignore_errors=True)
    say(f"published version {version}")
    return version
