"""The derived incident table: a columnar copy (DuckDB) of every incident of one dataset version, for pages and facets.

The graph stays the source of truth. The table is derived from it by two SPARQL queries over the version it belongs
to (kg/queries/incident_table.rq: the rows of each incident and record; incident_table_terms.rq: the entities, class
hierarchy and class sizes), and is never edited: a build or a load writes a new store version, and that version
gets its own table in ``<version>.tables/`` (TABLE_FILE) beside it (like the dumps in ``<version>.dumps``). It is
written after the version is published (or on first use), under a file lock, into a temporary file that is renamed
into place: readers see a complete table or none.

A load derives its table incrementally (derive_for_load): the rows of incident_table.rq are kept per version in
``events.parquet``; the new version's rows are the previous version's, less those of the events the load wrote or
revised, plus those events' rows as they now are in the store (read from its indexes, no whole-graph pass), plus a
fresh incident_table_terms.rq (small: entities and classes, not incidents). The same SQL then builds the same table a
from-scratch build would. A version without ``events.parquet`` (a first build, or written by an older kg), a
remote store, or a count that disagrees with the graph's falls back to the full build.

Tables (all IRIs as strings):

* ``incidents``: one row per incident: dataset, event ID, IRI, label, date, year, month, event type and sub-event type
  (IRIs and labels), actors with their roles, province, district, place (IRIs and labels), coordinates, fatalities,
  source name and record.
* ``links``: incident x entity x role, sorted by entity (one range lookup lists an entity's incidents). The role is
  the local name of the predicate (``perpetrator``, ``target``, ``province``, ``place``, ``eventType``, ...; every
  IRI-valued statement of an incident except rdf:type and psk:source), plus ``within`` for every place that the
  incident's place is (transitively) psk:locatedIn.
* ``concept_up``: every concept with itself and each broader concept above it (skos:broader*).
* ``classes``: every psk: class with its label and exact number of instances.
* ``terms``: the linked entities and the places and concepts above them: label, kind (actor, place, concept, other),
  class, parent place, broader concept, coordinates.
"""

from __future__ import annotations

import contextlib
import csv
import fcntl
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import pyoxigraph as ox

from . import queries
from .namespaces import PREFIXES, PSK, RDF, RDFS, SCHEMA, SKOS

# The table file's name carries its format: a release that builds it otherwise bumps it, so that a store (or a remote
# version's cache) written by an earlier release gets a new table instead of one of another shape.
# The DuckDB release is in it too: links are found by md5_number_lower of the entity, computed by the DuckDB that
# built the table and by the one reading it, so a table is rebuilt rather than read by a DuckDB that might differ.
TABLE_FORMAT = 2
TABLE_FILE = f"incidents.v{TABLE_FORMAT}-duckdb{duckdb.__version__}.duckdb"
EVENTS_FILE = "events.parquet"  # incident_table.rq's rows for this version: the base of the next load's table
QUERY = "incident_table"
TERMS_QUERY = "incident_table_terms"
TOUCHED = "x"  # a row kind of a load's delta only: an event the load wrote or revised (its earlier rows are dropped)
WITHIN = "within"  # derived role: a place above the incident's place (psk:place/psk:locatedIn+)

Exporter = Callable[[str, Path], None]  # writes a kg/queries query's result as SPARQL CSV to a path


def tables_dir(version_dir: Path) -> Path:
    return Path(str(version_dir) + ".tables")


def export_local(store: ox.Store) -> Exporter:
    """The query over an embedded store, serialized by Oxigraph itself (SPARQL 1.1 CSV)."""

    def run(name: str, path: Path) -> None:
        result = store.query(queries.text(name), prefixes=PREFIXES)
        assert isinstance(result, ox.QuerySolutions)
        result.serialize(str(path), format=ox.QueryResultsFormat.CSV)

    return run


def export_rows(select: Callable[[str], Any]) -> Exporter:
    """The same query through a backend's select (a remote SPARQL server), written as CSV here."""

    def run(name: str, path: Path) -> None:
        result = select(queries.text(name))
        with open(path, "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(result.variables)
            for row in result.rows:
                writer.writerow(["" if term is None else term.value for term in row])

    return run


LITERALS = ("eventId", "date", "endDate", "fatalities", "sourceName", "label")  # the literal fields of an incident row

_RAW_SQL = """CREATE TEMP TABLE raw AS SELECT * FROM read_csv($csv, header = true, quote = '"', escape = '"',
    columns = {'kind': 'VARCHAR', 's': 'VARCHAR', 'p': 'VARCHAR', 'o': 'VARCHAR'})"""
# a load: the previous version's incident rows, less those of the events it wrote or revised (and records it repeats)
_PREVIOUS_SQL = f"""INSERT INTO raw SELECT * FROM read_parquet($previous) p
    WHERE NOT (p.kind = 'i' AND p.s IN (SELECT s FROM raw WHERE kind = '{TOUCHED}'))
      AND NOT (p.kind = 'r' AND p.s IN (SELECT s FROM raw WHERE kind = 'r'))"""

_BUILD_SQL = """
CREATE TEMP TABLE class_closure AS
    SELECT s AS class, o AS super FROM raw WHERE kind = 'c'
    UNION SELECT DISTINCT o, o FROM raw WHERE kind = 't' AND p = '{type}';
CREATE TABLE terms AS
    SELECT s AS iri,
           coalesce(min(o) FILTER (p = '{label}'), min(o) FILTER (p = '{pref}')) AS label,
           min(o) FILTER (p = '{type}' AND starts_with(o, '{psk}')) AS class,
           min(o) FILTER (p = '{located}') AS parent,
           min(o) FILTER (p = '{broader}') AS broader,
           TRY_CAST(min(o) FILTER (p = '{lat}') AS DOUBLE) AS lat,
           TRY_CAST(min(o) FILTER (p = '{lon}') AS DOUBLE) AS lon,
           CASE WHEN bool_or(p = '{type}' AND o IN (SELECT class FROM class_closure WHERE super = '{psk}Actor')) THEN 'actor'
                WHEN bool_or(p = '{type}' AND o IN (SELECT class FROM class_closure WHERE super = '{psk}Place')) THEN 'place'
                WHEN bool_or(p = '{type}' AND o = '{concept}') THEN 'concept'
                ELSE 'other' END AS kind
    FROM raw WHERE kind = 't' GROUP BY s;
CREATE TEMP TABLE ancestors AS
    WITH RECURSIVE anc(place, ancestor) AS (
        SELECT iri, parent FROM terms WHERE parent IS NOT NULL
        UNION SELECT anc.place, t.parent FROM anc JOIN terms t ON t.iri = anc.ancestor WHERE t.parent IS NOT NULL)
    SELECT DISTINCT place, ancestor FROM anc;
CREATE TEMP TABLE links0 AS
    SELECT DISTINCT s AS incident, o AS entity, regexp_extract(p, '[#/]([^#/]+)$', 1) AS role, p AS predicate
    FROM raw WHERE kind = 'i' AND p NOT IN ({literals}) AND p <> '{source}';
CREATE TEMP TABLE base AS
    SELECT r.s AS incident, min(r.o) FILTER (p = '{label}') AS label, min(r.o) FILTER (p = '{psk}eventId') AS event_id,
           TRY_CAST(min(r.o) FILTER (p = '{psk}date') AS DATE) AS date,
           max(TRY_CAST(r.o AS INTEGER)) FILTER (p = '{psk}fatalities') AS fatalities,
           min(r.o) FILTER (p = '{psk}sourceName') AS source_name, min(r.o) FILTER (p = '{source}') AS record
    FROM raw r WHERE kind = 'i' GROUP BY r.s;
CREATE TABLE concept_up AS
    WITH RECURSIVE up(concept, ancestor) AS (
        SELECT iri, iri FROM terms WHERE kind = 'concept'
        UNION SELECT up.concept, t.broader FROM up JOIN terms t ON t.iri = up.ancestor WHERE t.broader IS NOT NULL)
    SELECT DISTINCT concept, ancestor FROM up;
CREATE TEMP TABLE typed AS
    SELECT l.incident, min(r.ancestor) AS event_type,
           coalesce(min(l.entity) FILTER (t.broader = r.ancestor), min(l.entity) FILTER (t.broader IS NOT NULL)) AS sub_event_type
    FROM links0 l JOIN terms t ON t.iri = l.entity JOIN concept_up r ON r.concept = l.entity
    JOIN terms rt ON rt.iri = r.ancestor AND rt.broader IS NULL
    WHERE l.role = 'eventType' GROUP BY l.incident;
CREATE TEMP TABLE placed AS
    SELECT l.incident, min(l.entity) FILTER (l.role = 'province') AS province, min(l.entity) FILTER (l.role = 'place') AS place
    FROM links0 l WHERE l.role IN ('province', 'place') GROUP BY l.incident;
CREATE TEMP TABLE districts AS
    SELECT an.place, d.parent AS province, min(an.ancestor) AS district FROM ancestors an JOIN terms d ON d.iri = an.ancestor
    WHERE d.class = '{psk}District' GROUP BY an.place, d.parent;
CREATE TEMP TABLE actors AS
    SELECT l.incident, string_agg(l.role || ': ' || coalesce(t.label, l.entity), '; ' ORDER BY l.role, t.label) AS actors
    FROM links0 l JOIN terms t ON t.iri = l.entity WHERE t.kind = 'actor' GROUP BY l.incident;
CREATE TABLE incidents AS
    SELECT row_number() OVER (ORDER BY b.date NULLS FIRST, b.incident)::INTEGER AS id, b.incident, rec.o AS dataset, b.event_id, b.label, b.date, year(b.date) AS year, strftime(b.date, '%Y-%m') AS month,
           ty.event_type, et.label AS event_type_label, ty.sub_event_type, st.label AS sub_event_type_label,
           a.actors, pl.province, pv.label AS province_label, ds.district, dt.label AS district_label,
           pl.place, pt.label AS place_label, pt.lat, pt.lon, b.fatalities, b.source_name, b.record
    FROM base b
    LEFT JOIN (SELECT s, min(o) AS o FROM raw WHERE kind = 'r' GROUP BY s) rec ON rec.s = b.record
    LEFT JOIN typed ty USING (incident) LEFT JOIN terms et ON et.iri = ty.event_type LEFT JOIN terms st ON st.iri = ty.sub_event_type
    LEFT JOIN placed pl USING (incident) LEFT JOIN terms pv ON pv.iri = pl.province LEFT JOIN terms pt ON pt.iri = pl.place
    LEFT JOIN districts ds ON ds.place = pl.place AND ds.province = pl.province LEFT JOIN terms dt ON dt.iri = ds.district
    LEFT JOIN actors a USING (incident)
    ORDER BY b.date NULLS FIRST, b.incident;
CREATE UNIQUE INDEX incidents_iri ON incidents (incident);
CREATE TABLE classes AS SELECT s AS class, min(p) AS label, max(TRY_CAST(o AS BIGINT)) AS n FROM raw WHERE kind = 'n' GROUP BY s;
CREATE TABLE links AS
    SELECT md5_number_lower(x.entity) AS ekey, i.id, x.incident, x.entity, x.role, x.predicate,
           coalesce(t.kind, 'other') AS kind FROM (
        SELECT * FROM links0
        UNION ALL SELECT DISTINCT l.incident, a.ancestor, '{within}', NULL FROM links0 l JOIN ancestors a ON a.place = l.entity
        WHERE l.role = 'place') x
    JOIN incidents i ON i.incident = x.incident LEFT JOIN terms t ON t.iri = x.entity
    ORDER BY ekey, i.id;
""".format(
    type=RDF + "type",
    label=RDFS + "label",
    pref=SKOS + "prefLabel",
    located=PSK + "locatedIn",
    broader=SKOS + "broader",
    lat=SCHEMA + "latitude",
    lon=SCHEMA + "longitude",
    psk=PSK,
    source=PSK + "source",
    concept=SKOS + "Concept",
    within=WITHIN,
    literals=", ".join(f"'{RDFS + n if n == 'label' else PSK + n}'" for n in LITERALS),
)


def of_entity(param: str, alias: str = "") -> str:
    """The condition picking one entity's rows of links (a named parameter holds its IRI): its key, then the IRI.
    links is sorted by the key (an MD5 of the IRI), so DuckDB reads the one row group holding them instead of every
    row group (string statistics keep 8 bytes, and every IRI starts with the same 8)."""
    col = f"{alias}." if alias else ""
    return f"{col}ekey = md5_number_lower(${param}) AND {col}entity = ${param}"


class TableMismatch(Exception):
    """An incrementally derived table disagrees with the graph's class sizes: build it from scratch instead."""


def build_table(csv_paths: list[Path], target: Path, previous: Path | None = None) -> None:
    """Build the DuckDB file at target from the queries' CSVs (into a temporary file renamed into place), and keep
    the incident rows beside it (EVENTS_FILE). previous: the previous version's EVENTS_FILE, for a load whose CSVs
    hold its delta (TOUCHED, i and r rows) and incident_table_terms.rq; the table is then checked against the
    graph's number of incidents (TableMismatch)."""
    tag = f"{os.getpid()}.{threading.get_ident()}.tmp"
    tmp = target.with_name(f".{target.name}.{tag}")
    events, events_tmp = target.with_name(EVENTS_FILE), target.with_name(f".{EVENTS_FILE}.{tag}")
    tmp.unlink(missing_ok=True)
    con = duckdb.connect(str(tmp), config={"threads": 2, "memory_limit": "1GB"})
    try:
        con.execute("SET enable_progress_bar = false")
        con.execute(_RAW_SQL, {"csv": [str(p) for p in csv_paths]})
        if previous is not None:
            con.execute(_PREVIOUS_SQL, {"previous": str(previous)})
        for statement in _BUILD_SQL.split(";\n"):
            if statement.strip():
                con.execute(statement)
        if previous is not None:
            ((rows, instances),) = con.execute(
                "SELECT (SELECT count(*) FROM incidents), (SELECT max(n) FROM classes WHERE class = $c)", {"c": PSK + "Incident"}
            ).fetchall()
            if rows != (instances or 0):
                raise TableMismatch(f"{rows} incidents in the derived table, {instances} in the graph")
        quoted = str(events_tmp).replace("'", "''")
        con.execute(f"COPY (SELECT * FROM raw WHERE kind IN ('i', 'r')) TO '{quoted}' (FORMAT parquet)")
        con.execute("CHECKPOINT")
    finally:
        con.close()
    os.replace(events_tmp, events)
    os.replace(tmp, target)


def event_rows(store: ox.Store, events: Iterable[str]) -> Iterator[tuple[str, str, str, str]]:
    """incident_table.rq's rows for these events, read from the store's indexes, with a TOUCHED row for each (an
    event no longer in the store has only that); and the r rows of its records."""
    default = ox.DefaultGraph()
    is_a, incident, source = ox.NamedNode(RDF + "type"), ox.NamedNode(PSK + "Incident"), PSK + "source"
    dataset, record_class = ox.NamedNode(PSK + "dataset"), ox.NamedNode(PSK + "DataRecord")
    literal_fields = {PSK + n for n in LITERALS if n != "label"}
    label = RDFS + "label"
    for e in events:
        yield TOUCHED, e, "", ""
        quads = list(store.quads_for_pattern(ox.NamedNode(e), None, None, default))
        if not any(q.predicate == is_a and q.object == incident for q in quads):
            continue
        for q in quads:
            p, o = q.predicate.value, q.object
            if not isinstance(o, (ox.NamedNode, ox.Literal)):
                continue  # the query's rows are IRIs and literals
            if (
                (isinstance(o, ox.NamedNode) and p != is_a.value)
                or p in literal_fields
                or (
                    p == label
                    and isinstance(o, ox.Literal)
                    and (not o.language or o.language.lower() == "en" or o.language.lower().startswith("en-"))
                )
            ):
                yield "i", e, p, o.value
            if (
                p == source
                and isinstance(o, ox.NamedNode)
                and any(True for _ in store.quads_for_pattern(o, is_a, record_class, default))
            ):
                for d in store.quads_for_pattern(o, dataset, None, default):
                    if isinstance(d.object, (ox.NamedNode, ox.Literal)):
                        yield "r", o.value, dataset.value, d.object.value


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / ".lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def ensure_table(directory: Path, export: Exporter) -> Path:
    """The table file in directory, built first (with the search index, kg/search.py) if it is not there yet; one
    builder at a time, across processes."""
    target = directory / TABLE_FILE
    if target.exists() and (directory / _search_file()).exists():
        return target
    with _locked(directory):
        if not target.exists():
            csv_paths = [directory / f".{name}.{os.getpid()}.csv" for name in (QUERY, TERMS_QUERY)]
            try:
                for name, csv_path in zip((QUERY, TERMS_QUERY), csv_paths, strict=True):
                    export(name, csv_path)
                build_table(csv_paths, target)
            finally:
                for csv_path in csv_paths:
                    csv_path.unlink(missing_ok=True)
        _ensure_search(directory, export)
        _drop_stale(directory)
    return target


def _drop_stale(directory: Path) -> None:
    """Remove what an earlier release derived here in another format (older file names): never read again."""
    from .search import INCIDENTS_FILE, SEARCH_FILE

    current = {TABLE_FILE, SEARCH_FILE, INCIDENTS_FILE, EVENTS_FILE}
    for pattern in ("incidents*.duckdb", "search*.sqlite", "search*.duckdb"):
        for path in directory.glob(pattern):
            if path.name not in current:
                path.unlink(missing_ok=True)


def _search_file() -> str:
    from .search import SEARCH_FILE

    return SEARCH_FILE


def _ensure_search(directory: Path, export: Exporter) -> None:
    from .search import QUERY as SEARCH_QUERY
    from .search import build_search

    search = directory / _search_file()
    if search.exists():
        return
    csv_path = directory / f".{SEARCH_QUERY}.{os.getpid()}.csv"
    try:
        export(SEARCH_QUERY, csv_path)
        build_search(csv_path, directory / TABLE_FILE, search)
    finally:
        csv_path.unlink(missing_ok=True)


def _incidents_in(events_file: Path) -> int:
    con = duckdb.connect(config={"threads": 1})
    try:
        query = "SELECT count(DISTINCT s) FROM read_parquet($f) WHERE kind = 'i'"
        return int(con.execute(query, {"f": str(events_file)}).fetchall()[0][0])
    except duckdb.Error:
        return 0
    finally:
        con.close()


def derive_for_load(version_dir: Path, previous_dir: Path | None, events: Iterable[str]) -> Path:
    """The table (and search index) of a version a load wrote from previous_dir: incrementally from the previous
    version's EVENTS_FILE and the rows of the events the load wrote or revised; from scratch without one, or when
    the load's events outnumber the previous version's incidents (a first load: one pass over all is cheaper)."""
    directory = tables_dir(version_dir)
    target = directory / TABLE_FILE
    previous = tables_dir(previous_dir) / EVENTS_FILE if previous_dir is not None else None
    if target.exists() or previous is None or not previous.exists():
        return ensure_for_version(version_dir)
    events = list(events)
    if len(events) > _incidents_in(previous):  # reading them one by one costs more than one pass over all
        return ensure_for_version(version_dir)
    store = ox.Store.read_only(str(version_dir))
    try:
        export = export_local(store)
        with _locked(directory):
            if not target.exists():
                delta, terms = (directory / f".{name}.{os.getpid()}.csv" for name in ("delta", TERMS_QUERY))
                try:
                    with open(delta, "w", newline="", encoding="utf-8") as fh:
                        writer = csv.writer(fh)
                        writer.writerow(("kind", "s", "p", "o"))
                        writer.writerows(event_rows(store, events))
                    export(TERMS_QUERY, terms)
                    try:
                        build_table([delta, terms], target, previous)
                    except (TableMismatch, duckdb.IOException):  # the previous rows disagree, or went: from scratch
                        csv_path = directory / f".{QUERY}.{os.getpid()}.csv"
                        try:
                            export(QUERY, csv_path)
                            build_table([csv_path, terms], target)
                        finally:
                            csv_path.unlink(missing_ok=True)
                finally:
                    delta.unlink(missing_ok=True)
                    terms.unlink(missing_ok=True)
            _ensure_search(directory, export)
            _drop_stale(directory)
    finally:
        del store
    return target


class Table:
    """A read-only connection to one version's table; queries are thread-safe (a cursor per call)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._con = duckdb.connect(str(path), read_only=True, config={"threads": 2, "memory_limit": "256MB"})

    def rows(self, sql: str, params: list[Any] | dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
        cur = self._con.cursor()
        try:
            return cur.execute(sql, params).fetchall()
        finally:
            cur.close()

    def close(self) -> None:
        self._con.close()


def ensure_for_version(version_dir: Path) -> Path:
    """The table of an embedded store version (built from that version if it has none yet)."""
    directory = tables_dir(version_dir)
    target = directory / TABLE_FILE
    if target.exists() and (directory / _search_file()).exists():
        return target
    store = ox.Store.read_only(str(version_dir))
    try:
        return ensure_table(directory, export_local(store))
    finally:
        del store
