"""Whole-graph dumps: gzip files written once per store version, streamed from disk by pyoxigraph."""

from __future__ import annotations

import gzip
import os
import threading
from pathlib import Path
from typing import IO, cast

import pyoxigraph as ox

from . import formats
from .namespaces import PREFIXES

DUMP_NAME = "pakistan-security-kg"
_lock = threading.Lock()


def dump_format(ext: str) -> formats.Format | None:
    """The dump format of a file extension (ttl, nt, jsonld, trig, nq), or None."""
    fmt = formats.by_ext(ext)
    return fmt if fmt in formats.DUMP_FORMATS else None


def dump_file_name(fmt: formats.Format) -> str:
    return f"{DUMP_NAME}.{fmt.ext}.gz"


def dump_to(store: ox.Store, fmt: formats.Format, output: IO[bytes]) -> None:
    """Write the default graph (or, for TriG/N-Quads, every graph) to a binary file object."""
    kwargs = fmt.serialize_kwargs(PREFIXES)
    if fmt.dataset:
        store.dump(output, **kwargs)
    else:
        store.dump(output, from_graph=ox.DefaultGraph(), **kwargs)


def ensure_dump(store: ox.Store, dumps_dir: Path, fmt: formats.Format) -> Path:
    """Path of the gzip dump for this store version, writing it first if needed (atomic rename)."""
    target = dumps_dir / dump_file_name(fmt)
    if target.exists():
        return target
    with _lock:
        if target.exists():
            return target
        dumps_dir.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        with gzip.open(tmp, "wb", compresslevel=6) as fh:
            dump_to(store, fmt, cast(IO[bytes], fh))  # GzipFile is a binary file object
        os.replace(tmp, target)
    return target
