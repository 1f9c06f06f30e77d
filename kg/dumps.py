"""Whole-graph dumps: gzip files written once per store version, streamed from disk by pyoxigraph."""

from __future__ import annotations

import gzip
import os
import threading
from pathlib import Path

import pyoxigraph as ox

DUMP_FORMATS: dict[str, tuple[str, ox.RdfFormat, bool]] = {
    # name: (media type, format, whole dataset?)
    "ttl": ("text/turtle", ox.RdfFormat.TURTLE, False),
    "nt": ("application/n-triples", ox.RdfFormat.N_TRIPLES, False),
    "jsonld": ("application/ld+json", ox.RdfFormat.JSON_LD, False),
    "trig": ("application/trig", ox.RdfFormat.TRIG, True),
    "nq": ("application/n-quads", ox.RdfFormat.N_QUADS, True),
}

_lock = threading.Lock()


def dump_to(store: ox.Store, fmt: str, output: object) -> None:
    """Write the default graph (or, for TriG/N-Quads, every graph) to a binary file object."""
    from .namespaces import PREFIXES

    _media, rdf_format, dataset = DUMP_FORMATS[fmt]
    kwargs: dict[str, object] = {}
    if rdf_format in (ox.RdfFormat.TURTLE, ox.RdfFormat.TRIG):
        kwargs["prefixes"] = PREFIXES
    if dataset:
        store.dump(output, rdf_format, **kwargs)
    else:
        store.dump(output, rdf_format, from_graph=ox.DefaultGraph(), **kwargs)


def ensure_dump(store: ox.Store, dumps_dir: Path, fmt: str) -> Path:
    """Path of the gzip dump for this store version, writing it first if needed (atomic rename)."""
    target = dumps_dir / f"pakistan-security-kg.{fmt}.gz"
    if target.exists():
        return target
    with _lock:
        if target.exists():
            return target
        dumps_dir.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        with gzip.open(tmp, "wb", compresslevel=6) as fh:
            dump_to(store, fmt, fh)
        os.replace(tmp, target)
    return target
