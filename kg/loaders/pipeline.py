"""A load, end to end: check and convert every row, bulk-load the triples into a new store version, publish it.

A load runs in two passes. Pass 1 reads and checks every row, reconciles actor and place names with the entities
already in the store (labels and aliases: "Baluchistan" -> Balochistan, "KP"/"NWFP" -> Khyber Pakhtunkhwa, ...),
and streams N-Triples; a bad row stops the load with file, line and column before anything is published (or, with
skip_invalid, is reported and skipped). Pass 2 runs at the same time in this process: it bulk-loads that stream
into a new store version (a checkpoint of the current one, from which earlier statements about the events being
reloaded were removed) and publishes the version atomically. IRIs are derived from the dataset's own event IDs and
the file's SHA-256, so loading the same file twice changes nothing.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import pyoxigraph as ox

from ..config import Settings
from ..cube import drop_statistics, publish_statistics
from ..errors import KGError, LoadError, RowError
from ..namespaces import PSK, RDF, RDFS, XSD, Base
from ..store import LocalStore
from ..tables import derive_for_load
from ..void import LoadDelta, refresh_void
from .acled import ACLED_COLUMNS, ACLED_OPTIONAL, parse_acled
from .emit import LOADER_CLASSES, LOADER_PREDICATES, event_triples, side_nodes
from .ntriples import TYPE, entity_lines, iri, nt_lit
from .reconcile import NameMatch, Reconciler, incident_iri
from .rows import EventRow, file_sha, read_rows
from .ucdp import UCDP_REQUIRED, parse_ucdp

Progress = Callable[[str], None]


@dataclass(frozen=True)
class DatasetKind:
    """What differs between the datasets a loader reads: columns, their parser, the event id column."""

    name: str  # acled | ucdp: the IRI prefix of its incidents and records
    title: str
    columns: list[str]
    exact_header: bool  # ACLED exports have a fixed column order; GED files are read by column name
    id_column: str
    parse: Callable[[dict[str, str], int], EventRow]
    event_id: Callable[[str], str]  # the raw id column value as parse() spells the event id
    optional: tuple[str, ...] = ()  # columns an exact header may have after the required ones

    def incident_for(self, base: Base, raw_id: str) -> str:
        return incident_iri(base, self.name, self.event_id(raw_id))


KINDS: dict[str, DatasetKind] = {
    "acled": DatasetKind(
        "acled", "ACLED", ACLED_COLUMNS, True, "event_id_cnty", parse_acled, lambda raw: raw, tuple(ACLED_OPTIONAL)
    ),
    "ucdp": DatasetKind("ucdp", "UCDP GED", UCDP_REQUIRED, False, "id", parse_ucdp, lambda raw: f"GED{raw}"),
}


@dataclass
class LoadReport:
    rows: int = 0
    quads: int = 0
    skipped: list[str] = field(default_factory=list)
    typed: int = 0  # triples typing a subject (each minted subject is typed once)
    version: str | None = None
    published_s: float = 0.0  # from the start until the loaded data was published
    compact_s: float | None = None  # the statistics graph and compaction afterwards
    tables_s: float = 0.0  # writing the derived incident table and search index of the published version, afterwards
    names: list[NameMatch] = field(default_factory=list)  # how each distinct name was reconciled (kg load --explain)


@dataclass
class LoadRun:
    """One load: what is loaded, how, and what it has produced so far."""

    kind: DatasetKind
    paths: list[Path]
    base: Base
    reconciler: Reconciler
    skip_invalid: bool = False
    report: LoadReport = field(default_factory=LoadReport)
    events: set[str] = field(default_factory=set)  # incident IRIs written
    seen_ids: dict[str, tuple[str, int]] = field(default_factory=dict)  # event id -> file and line, across the files

    def convert_all(self, out: IO[str]) -> None:
        for path in self.paths:
            self.convert(path, out)
        self.report.names = sorted(self.reconciler.matches.values(), key=lambda m: (m.category, m.name, m.parent))

    def convert(self, path: Path, out: IO[str]) -> None:
        """Pass 1 for one file: check every row and write its N-Triples to out (an event twice is an error)."""
        kind, base, report = self.kind, self.base, self.report
        sha = file_sha(path)
        dataset = base.entity(f"dataset/{kind.name}-{sha[:16]}")
        ds_lines = entity_lines(dataset, "Dataset", f"{kind.title} export {path.name}")
        ds_lines += [
            f"{iri(dataset)} {iri(PSK + 'fileName')} {nt_lit(path.name)} .",
            f"{iri(dataset)} {iri(PSK + 'sha256')} {nt_lit(sha, XSD + 'hexBinary')} .",
        ]
        out.write("\n".join(ds_lines) + "\n")
        report.quads += len(ds_lines)
        report.typed += 1
        bar = _progress(path)
        try:
            for line, row in read_rows(path, kind.columns, exact=kind.exact_header, optional=kind.optional):
                if bar is not None and not bar.disable:
                    bar.update(sum(len(v) + 1 for v in row.values()))  # approximate bytes read
                try:
                    triples = self._row(path, sha, dataset, line, row)
                except RowError as exc:
                    err = LoadError(str(path), line, exc.column, str(exc))
                    if not self.skip_invalid:
                        raise err from None
                    report.skipped.append(str(err))
                    continue
                out.write("\n".join(triples) + "\n")
                report.rows += 1
                report.quads += len(triples)
                report.typed += sum(1 for t in triples if TYPE in t)
        finally:
            if bar is not None:
                bar.close()

    def _row(self, path: Path, sha: str, dataset: str, line: int, row: dict[str, str]) -> list[str]:
        kind, base = self.kind, self.base
        if "__arity__" in row:
            raise RowError(None, row["__arity__"])
        ev = kind.parse(row, line)
        if ev.event_id in self.seen_ids:
            first_file, first_line = self.seen_ids[ev.event_id]
            where = f"line {first_line}" if first_file == str(path) else f"{first_file}, line {first_line}"
            raise RowError(kind.id_column, f"{ev.event_id} already appears on {where}")
        self.seen_ids[ev.event_id] = (str(path), line)
        record = base.entity(f"record/{kind.name}-{sha[:16]}/{line}")
        inc, triples = event_triples(ev, self.reconciler, base, record, kind.name)
        self.events.add(inc)
        triples += [
            f"{iri(record)} {iri(RDF + 'type')} {iri(PSK + 'DataRecord')} .",
            f"{iri(record)} {iri(PSK + 'dataset')} {iri(dataset)} .",
            f"{iri(record)} {iri(PSK + 'rowNumber')} {nt_lit(str(line), XSD + 'integer')} .",
            f"{iri(record)} {iri(RDFS + 'label')} {nt_lit(f'{path.name}, line {line}', lang='en')} .",
        ]
        return triples

    def event_ids(self) -> set[str]:
        """Incident IRIs of the events in the files (a cheap pre-pass, used only when revising earlier loads)."""
        out: set[str] = set()
        for path in self.paths:  # the same reader as pass 1: a file it cannot read fails here with the same error
            for _line, row in read_rows(path, self.kind.columns, exact=self.kind.exact_header, optional=self.kind.optional):
                raw = (row.get(self.kind.id_column) or "").strip()
                if raw:
                    out.add(self.kind.incident_for(self.base, raw))
        return out

    def pipelined_load(self, store: ox.Store) -> None:
        """Convert in a forked child while this process bulk-loads its N-Triples from a pipe: both cores work.

        The target is a fresh store version, so an error in either process only discards that version.
        """
        import multiprocessing as mp

        ctx = mp.get_context("fork")
        result_recv, result_send = ctx.Pipe(duplex=False)
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:  # child: convert and stream
            code = 0
            try:
                os.close(read_fd)
                result: tuple[str, Any]
                with os.fdopen(write_fd, "w", encoding="utf-8", buffering=1 << 20) as out:
                    self.report = LoadReport()
                    try:
                        self.convert_all(out)
                        result = ("ok", self.report)
                    except LoadError as exc:
                        result = ("error", (exc.file, exc.line, exc.column, exc.message))
                # sent once the triples' pipe is closed: the parent reads the report only after the bulk load ends
                result_send.send(result)
            except BaseException as exc:  # noqa: BLE001 - reported to the parent, which discards the version
                result_send.send(("crash", f"{type(exc).__name__}: {exc}"))
                code = 1
            finally:
                os._exit(code)
        os.close(write_fd)
        result_send.close()  # the child's copy is the only one left: its exit reads as EOF
        load_error: str | None = None
        with os.fdopen(read_fd, "rb", buffering=1 << 20) as pipe:
            try:
                store.bulk_load(input=pipe, format=ox.RdfFormat.N_TRIPLES)
            except (SyntaxError, OSError) as exc:
                load_error = str(exc)
                pipe.read()  # drain, so the child can finish and report
        # read the report before waiting: a large one (the names of --explain) fills the pipe until it is read
        try:
            status, payload = result_recv.recv()
        except EOFError:
            status, payload = "crash", "the converter process died"
        os.waitpid(pid, 0)
        if status == "error":
            raise LoadError(*payload)
        if status != "ok":
            raise KGError(f"loading failed: {payload}")
        if load_error:
            raise KGError(f"loading failed while writing the store: {load_error}")
        assert isinstance(payload, LoadReport)
        report = self.report
        report.rows, report.quads, report.skipped, report.typed = payload.rows, payload.quads, payload.skipped, payload.typed
        report.names = payload.names


def _progress(path: Path) -> Any:
    try:
        from tqdm import tqdm

        return tqdm(
            total=path.stat().st_size, unit="B", unit_scale=True, desc=f"reading {path.name}", file=sys.stderr, disable=None
        )
    except ImportError:  # pragma: no cover
        return None


def _remove_stale(store: ox.Store, events: set[str]) -> None:
    """Remove earlier statements about events being reloaded, so a revised row replaces its old values."""
    for e in events:
        for node in (e, *side_nodes(e)):
            for q in list(store.quads_for_pattern(ox.NamedNode(node), None, None, ox.DefaultGraph())):
                store.remove(q)


def load_files(
    kind: str,
    paths: list[Path],
    settings: Settings,
    *,
    skip_invalid: bool = False,
    into: str | None = None,
    progress: Progress | None = None,
    compact: bool = True,
) -> LoadReport:
    """Load ACLED ("acled") or UCDP GED ("ucdp") files; all-or-nothing across the files.

    The loaded data is published as soon as it is in the store; then (compact=True) a compacted copy of
    that version replaces it, so that reads are fast (see LocalStore.compact).
    """
    say = progress or (lambda _msg: None)
    started = time.monotonic()
    if kind not in KINDS:
        raise KGError(f"unknown dataset kind {kind!r}: use one of {', '.join(KINDS)}")
    base = settings.iris
    if into:
        return _load_remote(KINDS[kind], paths, base, into, skip_invalid, settings)
    local = LocalStore(settings.store)
    if not local.exists():
        raise KGError(f"no store at {settings.store}: run `kg build` first")
    with local.lock(waiting=say):
        # One writer at a time, and everything decided under the lock from the version being written: whether
        # this load revises earlier events, the reconciliation index and the VoID counts carried forward.
        previous, current = local.open_read()
        run = LoadRun(KINDS[kind], paths, base, Reconciler(base, current), skip_invalid)
        revising = any(True for _ in current.quads_for_pattern(None, ox.NamedNode(PSK + "eventId"), None, ox.DefaultGraph()))
        del current
        report = run.report

        def apply(store: ox.Store) -> None:
            if revising:
                say("removing earlier statements about the events being reloaded")
                _remove_stale(store, run.event_ids())
            say("checking rows and bulk-loading them into a new store version")
            run.pipelined_load(store)
            say(
                f"{report.rows} rows, {report.quads} triples loaded after {time.monotonic() - started:.1f} s; updating the VoID description"
            )
            # A first load only adds (new events, records, minted entities): carry the VoID counts forward.
            # Revising earlier loads removes statements too: count again.
            drop_statistics(base, store)  # the previous version's statistics: regenerated from this version's table
            delta = None if revising else LoadDelta(report.quads, report.typed, LOADER_PREDICATES, LOADER_CLASSES)
            refresh_void(base, store, delta)
            say(f"publishing after {time.monotonic() - started:.1f} s")

        report.version = local.write(apply, from_current=True, optimize=False, locked=True)
    report.published_s = time.monotonic() - started
    # Derived outputs, after the data is published (and served): the incident table and search index of the
    # published version; then (compact=True) the compacted copy of it that replaces it also gets the statistics
    # graph generated from that table. Without compaction the version has no statistics graph until `kg compact`.
    t = time.monotonic()
    # incrementally from the previous version's (the events this load wrote or revised), exactly as a full build
    derive_for_load(local.version_dir(report.version), local.version_dir(previous), run.event_ids())
    report.tables_s = time.monotonic() - t
    say(f"wrote the incident table and search index in {report.tables_s:.1f} s")
    if compact:
        say("compacting the new version for fast reads, with the statistics graph (the loaded data is already served)")
        t = time.monotonic()
        report.version = publish_statistics(local, base, optimize=True)
        report.compact_s = time.monotonic() - t
        say(f"compacted in {report.compact_s:.1f} s")
    return report


def _load_remote(
    kind: DatasetKind, paths: list[Path], base: Base, into: str, skip_invalid: bool, settings: Settings
) -> LoadReport:
    """Remote stores: convert everything to a temporary file first, then send it with the Graph Store Protocol."""
    from ..remote import RemoteStore

    remote = RemoteStore.from_settings(settings, into)
    run = LoadRun(kind, paths, base, Reconciler(base, remote.snapshot_for_reconciliation()), skip_invalid)
    fd, tmp_name = tempfile.mkstemp(prefix="psk-load-", suffix=".nt")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            run.convert_all(out)
        owned = [node for e in run.events for node in (e, *side_nodes(e))]
        remote.replace_subjects_and_load(owned, Path(tmp_name))
        return run.report
    finally:
        os.unlink(tmp_name)
