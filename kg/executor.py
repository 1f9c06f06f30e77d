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
import sys
import threading
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
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


def _worker(conn: Connection) -> None:  # pragma: no cover - runs in the child
    import pyoxigraph as ox

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
        self.proc = ctx.Process(target=_worker, args=(child_conn,), daemon=True)
        self.proc.start()
        child_conn.close()

    def kill(self) -> None:
        self.proc.kill()
        self.proc.join(timeout=5)
        self.conn.close()


class QueryPool:
    """A fixed number of query worker processes; thread-safe."""

    def __init__(self, size: int = 2) -> None:
        reason = sandbox.unavailable()
        if reason is not None:
            logging.getLogger(__name__).warning(
                "query workers will be able to open network sockets (%s): SERVICE is refused by the query checks only", reason
            )
        self._ctx = mp.get_context("spawn")
        self.size = size
        self._idle: queue.LifoQueue[_Child] = queue.LifoQueue()  # LIFO: the warmest worker (caches) goes first
        for _ in range(size):
            self._idle.put(_Child(self._ctx))
        self.killed = 0

    def _replace(self) -> None:
        self._idle.put(_Child(self._ctx))

    def run(self, job: Job, timeout: float) -> tuple[Answer, str]:
        """Evaluate job within timeout seconds of evaluation; raises QueryTimeout, ServiceBusy, QuerySyntaxError or KGError."""
        try:
            # waiting for a worker is not evaluation: the time limit starts once the query is handed over
            child = self._idle.get(timeout=timeout)
        except queue.Empty:
            raise ServiceBusy(f"busy: every query worker stayed busy for {timeout:g} s and the query never ran") from None
        try:
            child.conn.send(job)
            if not child.conn.poll(timeout):
                child.kill()
                self.killed += 1
                threading.Thread(target=self._replace, daemon=True).start()
                raise QueryTimeout(f"query stopped after the {timeout:g} s time limit")
            status, payload, fmt = child.conn.recv()
        except (EOFError, OSError, BrokenPipeError):
            child.kill()
            threading.Thread(target=self._replace, daemon=True).start()
            raise KGError("the query worker died while evaluating the query") from None
        self._idle.put(child)
        if status == "ok":
            return payload, fmt
        if status == "syntax":
            raise QuerySyntaxError(payload)
        raise KGError(payload)

    def close(self) -> None:
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
