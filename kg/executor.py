"""Query evaluation in killable worker processes: the hard per-query time limit.

pyoxigraph cannot cancel a running query (aggregates and ORDER BY run to completion), so each query
is evaluated in a child process that opens the store read-only. When a query overruns its limit the
child is killed with SIGKILL and replaced in the background; other queries keep running on the other
children. Results are serialized in the child, so only bytes cross the pipe.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import queue
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from . import formats, sandbox
from .errors import KGError, QuerySyntaxError, QueryTimeout, ServiceBusy
from .sparql import Lookup, Result, execute, run_lookup, serialize, solutions


@dataclass
class Job:
    store_dir: str
    query: str
    fmt: str
    max_rows: int
    default_graph: list[str] | None = None
    named_graphs: list[str] | None = None
    substitutions: dict[str, Any] = field(default_factory=dict)
    base_iri: str | None = None


@dataclass
class Answer:
    kind: str  # bindings | boolean | graph
    body: bytes
    truncated: bool
    rows: int

    @classmethod
    def of(cls, result: Result, fmt: str) -> tuple[Answer, str]:
        """Serialize a result in fmt, or in the form's default when fmt does not fit (Turtle for graphs, JSON otherwise)."""
        fmt = formats.fit(result.kind, fmt)
        rows = len(result.triples) if result.kind == "graph" else len(result.rows)
        return cls(result.kind, serialize(result, fmt), result.truncated, rows), fmt


# Results Oxigraph can serialize itself and whose rows can be counted in the bytes: in SPARQL JSON every
# bound cell has exactly one '"type":"' (inside strings a quote is always escaped), in SPARQL XML every
# row one '<result>' (text is escaped).
_NATIVE = {"json": ox.QueryResultsFormat.JSON, "xml": ox.QueryResultsFormat.XML}


def answer_lookup(store: ox.Store, lookup: Lookup, fmt: str, max_rows: int) -> tuple[Answer, str]:
    """Evaluate and serialize a bounded lookup in this process.

    JSON and XML come straight from Oxigraph's serializer (one call into Rust, no Python object per term);
    when the rows reach the cap, or for other formats, the Python path cuts and serializes them.
    """
    fmt = formats.fit("bindings", fmt)
    native = _NATIVE.get(fmt)
    bound = lookup.bound_variables
    if lookup.form == "SELECT" and native is not None and bound:
        body = solutions(store.query(lookup.sparql(lookup.take(max_rows)))).serialize(format=native)
        assert body is not None
        rows = body.count(b'"type":"') // bound if fmt == "json" else body.count(b"<result>")
        if rows <= max_rows:
            return Answer("bindings", body, False, rows), fmt
    return Answer.of(run_lookup(store, lookup, max_rows), fmt)


PR_SET_PDEATHSIG = 1


def _die_with_parent(parent: int) -> None:  # pragma: no cover - runs in the child
    """Make the kernel SIGKILL this process when its parent dies (Linux prctl), so that a killed web worker
    leaves no query running; elsewhere, a thread watches for the parent to go."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl")
    except (OSError, AttributeError):

        def watch() -> None:
            while os.getppid() == parent:
                time.sleep(0.5)
            os._exit(1)

        threading.Thread(target=watch, daemon=True).start()
    if os.getppid() != parent:  # the parent died before the signal was armed
        os._exit(1)


def _worker(conn: Connection, parent: int) -> None:  # pragma: no cover - runs in the child
    import pyoxigraph as ox

    _die_with_parent(parent)
    from .sandbox import deny_network

    refused = deny_network()  # before the first query: this process never opens a network socket
    if refused is not None:
        print(f"warning: query worker {os.getpid()} can open network sockets: {refused}", file=sys.stderr, flush=True)
    opened: tuple[str, ox.Store] | None = None
    while True:
        try:
            job: Job | None = conn.recv()
        except EOFError:
            return
        if job is None:
            return
        try:
            if opened is None or opened[0] != job.store_dir:
                opened = (job.store_dir, ox.Store.read_only(job.store_dir))
            result = execute(
                opened[1],
                job.query,
                max_rows=job.max_rows,
                default_graph=job.default_graph,
                named_graphs=job.named_graphs,
                substitutions=job.substitutions,
                base_iri=job.base_iri,
            )
            answer, fmt = Answer.of(result, job.fmt)
            conn.send(("ok", answer, fmt))
        except QuerySyntaxError as exc:
            conn.send(("syntax", str(exc), None))
        except Exception as exc:  # noqa: BLE001 - reported to the parent as an evaluation error
            conn.send(("error", f"{type(exc).__name__}: {exc}", None))


class _Child:
    def __init__(self, ctx: Any) -> None:
        self.conn, child_conn = ctx.Pipe()
        self.proc = ctx.Process(target=_worker, args=(child_conn, os.getpid()), daemon=True)
        self.proc.start()
        child_conn.close()

    def healthy(self) -> bool:
        """An idle worker is alive and has nothing to say (a dead one's pipe reads as end-of-file). A killed
        worker's main thread is a zombie while its other threads still exit (its pipe is open until they have):
        on Linux that state counts as dead too."""
        try:
            stat = Path(f"/proc/{self.proc.pid}/stat").read_bytes()
            if stat.rsplit(b")", 1)[1].split()[0] in (b"Z", b"X"):
                return False
        except (OSError, IndexError):
            pass
        try:
            return self.proc.is_alive() and not self.conn.poll(0)
        except (OSError, ValueError):
            return False

    def kill(self) -> None:
        self.proc.kill()
        self.proc.join(timeout=5)
        self.conn.close()


class QueryPool:
    """Up to `size` query worker processes, started as queries need them (one at once); thread-safe.

    Workers are started by one long-lived thread (the kernel's parent-death signal fires when the thread
    that forked the child ends, not only the process), and die with this process.
    """

    def __init__(self, size: int = 2) -> None:
        reason = sandbox.unavailable()
        if reason is not None:
            logging.getLogger(__name__).warning(
                "query workers will be able to open network sockets (%s): SERVICE is refused by the query checks only", reason
            )
        self._ctx = mp.get_context("spawn")
        self.size = size
        self._idle: queue.LifoQueue[_Child] = queue.LifoQueue()  # LIFO: the warmest worker (caches) goes first
        self._spawn: queue.SimpleQueue[bool] = queue.SimpleQueue()
        self.killed = 0  # workers killed at the time limit
        self.replaced = 0  # workers found dead and replaced
        self._closed = False
        self.started = 0  # workers started or being started (a replacement takes the place of the one it replaces)
        self._grow_lock = threading.Lock()
        self._spawner = threading.Thread(target=self._spawn_loop, name="query-worker-spawner", daemon=True)
        self._spawner.start()
        self._grow()  # one now; the others when queries find every started worker busy (each is a process: memory)

    def _grow(self) -> None:
        with self._grow_lock:
            if self.started < self.size:
                self.started += 1
                self._spawn.put(True)

    def _spawn_loop(self) -> None:
        while self._spawn.get() and not self._closed:
            try:
                self._idle.put(_Child(self._ctx))
            except Exception:  # noqa: BLE001 - try again on the next request for a worker
                time.sleep(1)
                self._spawn.put(True)

    def _replace(self, child: _Child) -> None:
        try:
            child.kill()
        except Exception:  # noqa: BLE001 - it is dead or dying either way
            pass
        self._spawn.put(True)

    def _wait(self, deadline: float, timeout: float) -> _Child:
        """Wait for an idle worker, starting another (up to size) on every pass: a worker started for this query
        may be taken by another one first, and then this one asks again instead of waiting out its time."""
        while True:
            self._grow()  # every started worker is busy: start another, up to size
            left = deadline - time.monotonic()
            if left <= 0:
                raise ServiceBusy(f"busy: every query worker stayed busy for {timeout:g} s and the query never ran")
            try:
                return self._idle.get(timeout=min(left, 0.25))
            except queue.Empty:
                continue

    def _take(self, deadline: float, timeout: float) -> _Child:
        """An idle, live worker; dead ones are replaced, never handed a query."""
        while True:
            try:
                child = self._idle.get_nowait()
            except queue.Empty:
                child = self._wait(deadline, timeout)
            if child.healthy():
                return child
            self.replaced += 1
            self._replace(child)

    def run(self, job: Job, timeout: float) -> tuple[Answer, str]:
        """Evaluate job within timeout seconds of evaluation; raises QueryTimeout, ServiceBusy, QuerySyntaxError or KGError.

        Waiting for a worker is not evaluation: the time limit starts once the query is handed over."""
        wait_until = time.monotonic() + timeout
        while True:
            child = self._take(wait_until, timeout)
            try:
                child.conn.send(job)
                break
            except (OSError, ValueError):  # died after the check: the query never reached it, try another
                self.replaced += 1
                self._replace(child)
        try:
            if not child.conn.poll(timeout):
                self.killed += 1
                self._replace(child)
                raise QueryTimeout(f"query stopped after the {timeout:g} s time limit")
            status, payload, fmt = child.conn.recv()
        except (EOFError, OSError):
            self.replaced += 1
            self._replace(child)
            raise KGError("the query worker died while evaluating the query") from None
        if self._closed:
            child.kill()
        else:
            self._idle.put(child)
        if status == "ok":
            return payload, fmt
        if status == "syntax":
            raise QuerySyntaxError(payload)
        raise KGError(payload)

    def close(self) -> None:
        """Stop every idle worker; a busy one is stopped when its query ends."""
        self._closed = True
        self._spawn.put(False)
        self._spawner.join(timeout=30)  # a worker being started is in the idle queue when this returns
        while True:
            try:
                child = self._idle.get_nowait()
            except queue.Empty:
                return
            try:
                child.conn.send(None)
            except OSError:
                pass
            child.kill()
