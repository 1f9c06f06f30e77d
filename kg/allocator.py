"""The memory allocator of the serving processes.

Oxigraph's evaluator allocates for every row and term, and with glibc's malloc pyoxigraph runs 10-20 %
slower than with jemalloc or mimalloc (heavy aggregations and lookups alike, bench/). A Python process
cannot change its allocator once running, so `kg serve` preloads one (LD_PRELOAD) by executing itself
again before anything starts; the web workers (forked) and the query processes (spawned, with the
environment) inherit it. Nothing changes when no such library is installed (Debian: libjemalloc2 or
libmimalloc2.0), or with `--allocator system`.
"""

from __future__ import annotations

import ctypes.util
import os
import sys
from pathlib import Path

from .errors import AllocatorMissing

CHOICES = ("auto", "jemalloc", "mimalloc", "system")
PREFERRED = ("jemalloc", "mimalloc")  # jemalloc first: RocksDB's recommended allocator
_EXECUTED = "PSK_ALLOCATOR_EXEC"  # set on the re-executed process, so it never loops


def loaded() -> str:
    """The allocator this process runs with: jemalloc, mimalloc or system (read from /proc/self/maps)."""
    try:
        maps = Path("/proc/self/maps").read_text()
    except OSError:
        return "system"
    for name in PREFERRED:
        if f"lib{name}" in maps:
            return name
    return "system"


def library(name: str) -> str | None:
    """The shared library to preload for an allocator, if installed."""
    return ctypes.util.find_library(name)


def ensure(choice: str) -> str:
    """Make this process run with the chosen allocator, executing it again with LD_PRELOAD if needed.

    Returns the allocator in use (when it returns at all). "auto" takes the first installed of
    jemalloc and mimalloc, else the system's; naming one that is not installed raises AllocatorMissing.
    """
    if choice not in CHOICES:
        raise ValueError(f"unknown allocator {choice!r}: use one of {', '.join(CHOICES)}")
    current = loaded()
    if choice == "system" or current == choice or (choice == "auto" and current != "system"):
        return current
    names = PREFERRED if choice == "auto" else (choice,)
    found = next(((name, lib) for name in names if (lib := library(name))), None)
    if found is None:
        if choice == "auto":
            return current
        raise AllocatorMissing(f"the {choice} library is not installed (Debian: apt install lib{choice}2)")
    if os.environ.get(_EXECUTED):
        return current  # preloading did not take (e.g. a restricted loader): run with what there is
    preload = " ".join(p for p in (found[1], os.environ.get("LD_PRELOAD", "")) if p)
    env = {**os.environ, "LD_PRELOAD": preload, _EXECUTED: "1"}
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, [sys.executable, *sys.orig_argv[1:]], env)
    raise AssertionError("unreachable")  # pragma: no cover - execve does not return
