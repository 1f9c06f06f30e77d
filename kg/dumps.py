"""Whole-graph dumps: gzip files written once per store version, streamed from disk by pyoxigraph."""

from __future__ import annotations

import errno
import gzip
import os
import threading
from pathlib import Path
from typing import IO, cast

import pyoxigraph as ox

from . import formats
from .errors import DumpUnavailable
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
    """Path of the gzip dump for this store version, writing it first if needed (atomic rename).

    A write that fails (disk full, ...) removes its temporary file and raises DumpUnavailable; temporary files
    of processes that died while writing are removed by the next writer.
    """
    target = dumps_dir / dump_file_name(fmt)
    if target.exists():
        return target
    with _lock:
        if target.exists():
            return target
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        try:
            dumps_dir.mkdir(parents=True, exist_ok=True)
            _remove_stale(dumps_dir)
            with open(tmp, "wb") as raw:
                with gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=6) as fh:
                    dump_to(store, fmt, cast(IO[bytes], fh))  # GzipFile is a binary file object
                raw.flush()
                os.fsync(raw.fileno())
            os.replace(tmp, target)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            reason = "no space left on the server's disk" if exc.errno in (errno.ENOSPC, errno.EDQUOT) else exc.strerror
            raise DumpUnavailable(f"the {fmt.ext} dump cannot be written now ({reason}); try again later") from None
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
    return target


def _remove_stale(dumps_dir: Path) -> None:
    """Remove temporary dump files whose writer process is gone (killed while writing)."""
    for tmp in dumps_dir.glob(".*.tmp"):
        try:
            pid = int(tmp.name.rsplit(".", 2)[-2])
            os.kill(pid, 0)
        except ProcessLookupError:
            tmp.unlink(missing_ok=True)
        except (ValueError, PermissionError, IndexError):
            continue
