"""Statistics as linked data: W3C RDF Data Cube observations of incidents and fatalities, in their own named graph.

Two data sets, generated from the incident table (kg/tables.py: DuckDB GROUP BY) whenever a build or a load writes a
version, and written into that version's graph ``{base}graph/statistics``:

* ``{base}id/statistics/area-month-type``: per place (province, and district) x month x event type;
* ``{base}id/statistics/actor-month``: per actor (any role) x month;
* ``{base}id/statistics/province-year``: per province x year (a few dozen observations: the researcher's
  per-province-per-year question is a lookup).

Each observation has the measures psk:incidentCount and psk:fatalityCount and links (rdfs:seeAlso) to the entity
page that lists its incidents, filtered to that month (and event type). The data structure definitions, dimensions
and measures are in the same graph. VoID counts the graph's triples (psk:namedGraphTriples) and names it
(psk:statistics, with its number of observations).
"""

from __future__ import annotations

import calendar
import hashlib
import os
import shutil
import tempfile
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox

from .namespaces import PSK, RDF, RDFS, XSD, Base
from .store import LocalStore
from .tables import Table, ensure_for_version, tables_dir

QB = "http://purl.org/linked-data/cube#"
SDMX_DIMENSION = "http://purl.org/linked-data/sdmx/2009/dimension#"
AREA_MONTH_TYPE = "statistics/area-month-type"
ACTOR_MONTH = "statistics/actor-month"
PROVINCE_YEAR = "statistics/province-year"

_n = ox.NamedNode


def statistics_graph(base: Base) -> ox.NamedNode:
    return _n(base.graph("statistics"))


def _int(value: int) -> ox.Literal:
    return ox.Literal(str(value), datatype=_n(XSD + "integer"))


def _month(value: str) -> ox.Literal:
    return ox.Literal(value, datatype=_n(XSD + "gYearMonth"))


def _page(base: Base, entity: str, month: str, event_type: str | None) -> ox.NamedNode | None:
    """The entity page listing the observation's incidents (None for an entity outside this dataset's IRIs)."""
    if not entity.startswith(base.base):
        return None
    if len(month) == 4:  # a year
        args = {"from": f"{month}-01-01", "to": f"{month}-12-31"}
    else:
        y, m = int(month[:4]), int(month[5:7])
        args = {"from": f"{month}-01", "to": f"{month}-{calendar.monthrange(y, m)[1]:02d}"}
    if event_type:
        args["type"] = event_type
    return _n(f"{base.base}page/{entity[len(base.base) :]}?{urllib.parse.urlencode(args)}")


def _structure(base: Base, g: ox.NamedNode) -> list[ox.Quad]:
    quads: list[ox.Quad] = []

    def add(s: str, p: str, o: ox.NamedNode | ox.Literal) -> None:
        quads.append(ox.Quad(_n(s), _n(p), o, g))

    props = {
        PSK + "refArea": ("DimensionProperty", "reference area", SDMX_DIMENSION + "refArea"),
        PSK + "refPeriod": ("DimensionProperty", "reference month", SDMX_DIMENSION + "refPeriod"),
        PSK + "refYear": ("DimensionProperty", "reference year", SDMX_DIMENSION + "refPeriod"),
        PSK + "eventType": ("DimensionProperty", "event type", None),
        PSK + "refActor": ("DimensionProperty", "actor (any role)", None),
        PSK + "incidentCount": ("MeasureProperty", "number of incidents", None),
        PSK + "fatalityCount": ("MeasureProperty", "number of fatalities", None),
    }
    for prop, (kind, label, sup) in props.items():
        add(prop, RDF + "type", _n(QB + kind))
        add(prop, RDFS + "label", ox.Literal(label, language="en"))
        if sup:
            add(prop, RDFS + "subPropertyOf", _n(sup))
        if kind == "MeasureProperty":
            add(prop, RDFS + "range", _n(XSD + "integer"))
    sets = {
        AREA_MONTH_TYPE: (
            "Incidents and fatalities per province or district, month and event type",
            ("refArea", "refPeriod", "eventType"),
        ),
        ACTOR_MONTH: ("Incidents and fatalities per actor and month", ("refActor", "refPeriod")),
        PROVINCE_YEAR: ("Incidents and fatalities per province and year", ("refArea", "refYear")),
    }
    for local, (title, dims) in sets.items():
        ds, dsd = base.entity(local), base.entity(local + "/structure")
        add(ds, RDF + "type", _n(QB + "DataSet"))
        add(ds, RDFS + "label", ox.Literal(title, language="en"))
        add(ds, QB + "structure", _n(dsd))
        add(dsd, RDF + "type", _n(QB + "DataStructureDefinition"))
        for i, (component, kind) in enumerate(
            [*((d, "dimension") for d in dims), ("incidentCount", "measure"), ("fatalityCount", "measure")]
        ):
            spec = f"{dsd}/{component}"
            add(dsd, QB + "component", _n(spec))
            add(spec, RDF + "type", _n(QB + "ComponentSpecification"))
            add(spec, QB + kind, _n(PSK + component))
            add(spec, QB + "order", _int(i + 1))
    return quads


def _observations(base: Base, g: ox.NamedNode, table: Table) -> Iterator[ox.Quad]:
    area_rows = table.rows(
        "SELECT area, month, event_type, count(*), coalesce(sum(fatalities), 0) FROM ("
        " SELECT province AS area, month, event_type, fatalities FROM incidents WHERE province IS NOT NULL"
        " UNION ALL SELECT district, month, event_type, fatalities FROM incidents WHERE district IS NOT NULL)"
        " WHERE month IS NOT NULL AND event_type IS NOT NULL GROUP BY ALL ORDER BY ALL"
    )
    actor_rows = table.rows(
        "SELECT l.entity, i.month, NULL, count(DISTINCT i.id), coalesce(sum(i.fatalities), 0) FROM links l"
        " JOIN incidents i ON i.id = l.id WHERE l.kind = 'actor' AND i.month IS NOT NULL GROUP BY ALL ORDER BY ALL"
    )
    year_rows = table.rows(
        "SELECT province, CAST(year AS VARCHAR), NULL, count(*), coalesce(sum(fatalities), 0) FROM incidents"
        " WHERE province IS NOT NULL AND month IS NOT NULL AND event_type IS NOT NULL GROUP BY ALL ORDER BY ALL"
    )  # the same incidents as the monthly observations, summed per year
    for local, rows, dim in (
        (AREA_MONTH_TYPE, area_rows, "refArea"),
        (ACTOR_MONTH, actor_rows, "refActor"),
        (PROVINCE_YEAR, year_rows, "refArea"),
    ):
        ds = _n(base.entity(local))
        for entity, month, event_type, n, fatalities in rows:
            key = f"{entity}|{month}|{event_type or ''}"
            obs = _n(f"{base.entity(local)}/{hashlib.sha1(key.encode()).hexdigest()[:16]}")
            yield ox.Quad(obs, _n(RDF + "type"), _n(QB + "Observation"), g)
            yield ox.Quad(obs, _n(QB + "dataSet"), ds, g)
            yield ox.Quad(obs, _n(PSK + dim), _n(entity), g)
            if len(month) == 4:
                yield ox.Quad(obs, _n(PSK + "refYear"), ox.Literal(month, datatype=_n(XSD + "gYear")), g)
            else:
                yield ox.Quad(obs, _n(PSK + "refPeriod"), _month(month), g)
            if event_type:
                yield ox.Quad(obs, _n(PSK + "eventType"), _n(event_type), g)
            yield ox.Quad(obs, _n(PSK + "incidentCount"), _int(int(n)), g)
            yield ox.Quad(obs, _n(PSK + "fatalityCount"), _int(int(fatalities)), g)
            page = _page(base, entity, month, event_type)
            if page is not None:
                yield ox.Quad(obs, _n(RDFS + "seeAlso"), page, g)


def drop_statistics(base: Base, store: ox.Store) -> int:
    """Remove the statistics graph (and what VoID says of it) from a store being written; returns its triples."""
    g = statistics_graph(base)
    old = sum(1 for _ in store.quads_for_pattern(None, None, None, g))
    if old:
        store.remove_graph(g)
    ds = _n(base.dataset)
    for prop in (PSK + "statistics", PSK + "statisticsObservations"):
        for q in list(store.quads_for_pattern(ds, _n(prop), None, ox.DefaultGraph())):
            store.remove(q)
    _add_named_triples(store, ds, -old)
    return old


def _add_named_triples(store: ox.Store, ds: ox.NamedNode, delta: int) -> None:
    for q in list(store.quads_for_pattern(ds, _n(PSK + "namedGraphTriples"), None, ox.DefaultGraph())):
        store.remove(q)
        store.add(ox.Quad(ds, q.predicate, _int(int(str(getattr(q.object, "value", "0"))) + delta)))


def write_cube(base: Base, store: ox.Store, table: Table) -> int:
    """Replace the statistics graph of a store being written with observations from its incident table; update
    VoID's named-graph triple count. Returns the number of observations."""
    drop_statistics(base, store)
    g = statistics_graph(base)
    quads = _structure(base, g) + list(_observations(base, g, table))
    store.bulk_extend(quads)  # a version being written, not yet published: no transaction needed
    observation = _n(QB + "Observation")
    observations = sum(1 for q in quads if q.predicate.value == RDF + "type" and q.object == observation)
    ds = _n(base.dataset)
    _add_named_triples(store, ds, len(quads))
    store.add(ox.Quad(ds, _n(PSK + "statistics"), g))
    store.add(ox.Quad(ds, _n(PSK + "statisticsObservations"), _int(observations)))
    return observations


def publish_statistics(local: LocalStore, base: Base, *, optimize: bool = True) -> str:
    """After a build or load has published a version: write its incident table (and search index), then publish a
    version with the statistics graph generated from that table (optimize: compacted, see LocalStore.compact) that
    stands in for it, and give the new version the same derived files (hard links: same incidents, same names)."""
    source_dir = local.version_dir()
    table_path = ensure_for_version(source_dir)
    # the replaced version (and its derived files) may go as soon as the new one is published: link them first
    links = Path(tempfile.mkdtemp(prefix=f".{local.versions.name}.tables-", dir=local.versions.parent))
    links.chmod(0o755)
    try:
        for f in tables_dir(source_dir).iterdir():
            if f.is_file() and not f.name.startswith("."):
                os.link(f, links / f.name)
        table = Table(table_path)
        try:
            version = local.write(
                lambda store: _cube(base, store, table), from_current=True, optimize=optimize, replace_current=True
            )
        finally:
            table.close()
        target = tables_dir(local.version_dir(version))
        if not target.exists():
            os.replace(links, target)
    finally:
        shutil.rmtree(links, ignore_errors=True)
    return version


def _cube(base: Base, store: ox.Store, table: Table) -> None:
    write_cube(base, store, table)
