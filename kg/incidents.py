"""The incident table of an entity page: filters, facets with counts, the monthly series and a page of rows, answered
by SQL over the derived incident table (kg/tables.py), and the SPARQL that lists the same rows from the graph.

Every filter value reaches SQL as a parameter and SPARQL as a serialized RDF term (pyoxigraph checks IRIs and
escapes literals), never as pasted text; values are validated first, and a bad one is an error naming its parameter.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any

import pyoxigraph as ox

from . import queries
from .errors import InvalidFilter
from .namespaces import PSK, XSD
from .tables import WITHIN, Table, of_entity

PAGE_SIZE = 100
FACET_SIZE = 50  # actors and places offered as filters: the most frequent ones (and the selected one)
SORTS = {
    "date": "i.date ASC NULLS FIRST, i.incident",
    "-date": "i.date DESC NULLS LAST, i.incident",
    "-fatalities": "i.fatalities DESC NULLS LAST, i.date NULLS FIRST, i.incident",
    "fatalities": "i.fatalities ASC NULLS FIRST, i.date NULLS FIRST, i.incident",
}  # unbound first when ascending, last when descending: SPARQL's order, so that "open as SPARQL" lists the same rows
SPARQL_SORTS = {
    "date": "?date ?incident",
    "-date": "DESC(?date) ?incident",
    "-fatalities": "DESC(?fatalities) ?date ?incident",
    "fatalities": "?fatalities ?date ?incident",
}
EXCLUDED_ROLES = ("eventType",)  # links that do not make an incident one of the entity's own
ROLE = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")
IRI = re.compile(r"^https?://[^\s<>\"{}|\\^`]+$")


@dataclass(frozen=True)
class Incident:
    iri: str
    label: str
    date: str
    types: tuple[str, ...]  # labels of its event type and sub-event type
    place: str
    place_label: str
    fatalities: int | None
    roles: tuple[str, ...]  # the entity's roles in it
    event_id: str = ""
    event_type: str = ""
    sub_event_type: str = ""
    actors: str = ""  # "role: label; ..."
    province: str = ""
    province_label: str = ""
    district: str = ""
    district_label: str = ""
    lat: float | None = None
    lon: float | None = None
    dataset: str = ""
    source: str = ""


@dataclass(frozen=True)
class Facet:
    """One filter option: its value (an IRI or a role name), label and the number of incidents it would select."""

    value: str
    label: str
    count: int


# request argument -> field; one letter less than the field names so that URLs stay short and stable
ARGS = {
    "from": "start",
    "to": "end",
    "type": "type",
    "role": "role",
    "actor": "actor",
    "place": "place",
    "fmin": "fmin",
    "fmax": "fmax",
}
FILTER_KEYS = tuple(ARGS)


@dataclass(frozen=True)
class IncidentFilter:
    """The filters of an incident table; empty means no filter. Dates as YYYY-MM-DD; type, actor, place as IRIs."""

    start: str = ""
    end: str = ""
    type: str = ""  # an event type or sub-event type (matching it and any narrower type)
    role: str = ""  # the entity's role (perpetrator, target, province, place, within, ...)
    actor: str = ""  # incidents that also involve this entity (any role)
    place: str = ""  # incidents at this place, at any level (place, district, province)
    fmin: str = ""
    fmax: str = ""

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> IncidentFilter:
        """From request arguments; a value that is not what its parameter takes is an error naming the parameter."""
        values = {field: (args.get(arg) or "").strip() for arg, field in ARGS.items()}
        for arg in ("from", "to"):
            value = values[ARGS[arg]]
            if value:
                try:
                    dt.date.fromisoformat(value)
                except ValueError:
                    raise InvalidFilter(f"{arg}={value!r} is not a date (YYYY-MM-DD)") from None
                if len(value) != 10:
                    raise InvalidFilter(f"{arg}={value!r} is not a date (YYYY-MM-DD)")
        if values["start"] and values["end"] and values["start"] > values["end"]:
            raise InvalidFilter(f"from={values['start']!r} is after to={values['end']!r}")
        for arg in ("fmin", "fmax"):
            value = values[arg]
            if value and not (value.isascii() and value.isdigit() and len(value) <= 9):
                raise InvalidFilter(f"{arg}={value!r} is not a number of fatalities (a whole number, 0 or more)")
        if values["fmin"] and values["fmax"] and int(values["fmin"]) > int(values["fmax"]):
            raise InvalidFilter(f"fmin={values['fmin']} is more than fmax={values['fmax']}")
        if values["role"] and not ROLE.match(values["role"]):
            raise InvalidFilter(f"role={values['role']!r} is not a role name")
        for arg in ("type", "actor", "place"):
            value = values[arg]
            if value and not IRI.match(value):
                raise InvalidFilter(f"{arg}={value!r} is not an IRI")
        return cls(**values)

    def as_args(self) -> dict[str, str]:
        """The non-empty filters as request arguments."""
        return {arg: getattr(self, field) for arg, field in ARGS.items() if getattr(self, field)}

    def __bool__(self) -> bool:
        return any(getattr(self, f.name) for f in fields(self))


@dataclass(frozen=True)
class IncidentTable:
    """What an entity page shows of its incidents: one page of the filtered rows, exact totals, the monthly series
    and the filter options with their counts (each counted under the other filters)."""

    items: tuple[Incident, ...]
    total: int  # after filtering
    all_total: int
    fatalities: int  # sum over the filtered incidents
    series: tuple[tuple[str, int], ...]
    types: tuple[Facet, ...]
    roles: tuple[Facet, ...]
    actors: tuple[Facet, ...]
    places: tuple[Facet, ...]
    filter: IncidentFilter
    page: int
    page_size: int
    sort: str

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def fill_months(counts: dict[str, int]) -> list[tuple[str, int]]:
    """Counts per month (YYYY-MM), gaps filled, for the time-series chart (at most 600 months)."""
    if not counts:
        return []
    first, last = min(counts), max(counts)
    y, m = int(first[:4]), int(first[5:7])
    out: list[tuple[str, int]] = []
    while f"{y:04d}-{m:02d}" <= last and len(out) < 600:
        key = f"{y:04d}-{m:02d}"
        out.append((key, counts.get(key, 0)))
        m += 1
        if m > 12:
            y, m = y + 1, 1
    return out


# -- SQL -------------------------------------------------------------------------------------------------------------


def _involves_sql(name: str) -> str:
    return f"(SELECT id FROM links WHERE {of_entity(name)} AND role NOT IN ('eventType'))"


def _filtered(
    flt: IncidentFilter, exclude: str = "", as_name: str = "f", materialized: bool = False
) -> tuple[str, dict[str, Any]]:
    """The CTEs selecting the entity's incidents under the filters (all but `exclude`) as `as_name` (with their roles),
    and its parameters."""
    conds: list[str] = []
    params: dict[str, Any] = {}
    role = "AND role NOT IN ('eventType')"
    if flt.role and exclude != "role":
        role = "AND role = $role"
        params["role"] = flt.role
    if flt.start and exclude != "date":
        conds.append("i.date >= $start")
        params["start"] = dt.date.fromisoformat(flt.start)
    if flt.end and exclude != "date":
        conds.append("i.date <= $end")
        params["end"] = dt.date.fromisoformat(flt.end)
    if flt.fmin and exclude != "fatalities":
        conds.append("i.fatalities >= $fmin")
        params["fmin"] = int(flt.fmin)
    if flt.fmax and exclude != "fatalities":
        conds.append("i.fatalities <= $fmax")
        params["fmax"] = int(flt.fmax)
    if flt.type and exclude != "type":
        conds.append(
            "i.id IN (SELECT id FROM links WHERE role = 'eventType'"
            " AND entity IN (SELECT concept FROM concept_up WHERE ancestor = $type))"
        )  # the type or any narrower one
        params["type"] = flt.type
    for name in ("actor", "place"):
        value = getattr(flt, name)
        if value and exclude != name:
            conds.append("i.id IN " + _involves_sql(name))
            params[name] = value
    where = (" WHERE " + " AND ".join(conds)) if conds else ""
    how = "MATERIALIZED " if materialized else ""
    cte = (
        f"s_{as_name} AS (SELECT id, string_agg(DISTINCT role, ', ' ORDER BY role) AS roles FROM links"
        f" WHERE {of_entity('entity')} {role} GROUP BY id),"
        f" {as_name} AS {how}(SELECT i.*, s_{as_name}.roles FROM incidents i JOIN s_{as_name} USING (id){where})"
    )
    return cte, params


def _rows(table: Table, flt: IncidentFilter, entity: str, sql: str, exclude: str = "", **extra: Any) -> list[tuple[Any, ...]]:
    cte, params = _filtered(flt, exclude)
    return table.rows(f"WITH {cte} {sql}", {"entity": entity, **params, **extra})


ROW_COLUMNS = (
    "incident, label, date, event_type_label, sub_event_type_label, place, place_label, fatalities, roles, event_id,"
    " event_type, sub_event_type, actors, province, province_label, district, district_label, lat, lon, dataset, source_name"
)


def _incident(row: tuple[Any, ...]) -> Incident:
    (iri, label, date, et, st, place, place_label, fat, roles, event_id, event_type, sub_type, actors, province, province_label,
     district, district_label, lat, lon, dataset, source) = row  # fmt: skip
    return Incident(
        iri=iri,
        label=label or iri,
        date=date.isoformat() if date else "",
        types=tuple(t for t in (et, st) if t),
        place=place or "",
        place_label=place_label or "",
        fatalities=fat,
        roles=tuple(roles.split(", ")) if roles else (),
        event_id=event_id or "",
        event_type=event_type or "",
        sub_event_type=sub_type or "",
        actors=actors or "",
        province=province or "",
        province_label=province_label or "",
        district=district or "",
        district_label=district_label or "",
        lat=lat,
        lon=lon,
        dataset=dataset or "",
        source=source or "",
    )


def rows(
    table: Table, entity: str, flt: IncidentFilter, sort: str = "date", limit: int | None = None, offset: int = 0
) -> list[Incident]:
    """The filtered incidents of an entity in the given order (all of them, or one page)."""
    order = SORTS.get(sort)
    if order is None:
        raise InvalidFilter(f"sort={sort!r} is not one of {', '.join(SORTS)}")
    page = " LIMIT $limit OFFSET $offset" if limit is not None else ""
    extra: dict[str, Any] = {"limit": limit, "offset": offset} if limit is not None else {}
    # the page's IDs first, then their columns: sorting every matching row with all its columns cost 80 ms at 25 000
    picked = f"p AS (SELECT i.id, i.roles, row_number() OVER (ORDER BY {order}) AS n FROM f i ORDER BY {order}{page})"
    columns = ROW_COLUMNS.replace("roles", "p.roles")
    sql = f", {picked} SELECT {columns} FROM p JOIN incidents i USING (id) ORDER BY p.n"
    return [_incident(r) for r in _rows(table, flt, entity, sql, "", **extra)]


def _check_values(table: Table, flt: IncidentFilter) -> None:
    """A type, actor or place filter must name something the table knows (else: 400 naming the parameter)."""
    for arg, kinds in (("type", ("concept",)), ("actor", ("actor", "other")), ("place", ("place",))):
        value = getattr(flt, arg)
        if value and not table.rows("SELECT 1 FROM terms WHERE iri = ? AND kind IN (SELECT unnest(?))", [value, list(kinds)]):
            what = {"type": "an event type", "actor": "an actor", "place": "a place"}[arg]
            raise InvalidFilter(f"{arg}={value!r} is not {what} of any incident")


def _with_selected(facets: tuple[Facet, ...], table: Table, value: str) -> tuple[Facet, ...]:
    if not value or any(f.value == value for f in facets):
        return facets
    label = table.rows("SELECT label FROM terms WHERE iri = ?", [value])
    return (*facets, Facet(value, (label[0][0] if label else None) or value, 0))


# What one statement gives for an incident table besides its rows: each facet counts the incidents matching every
# filter but its own (so that the other values of that facet stay visible), the total and the series all of them.
_SUMMARY = {
    "total": ("", "SELECT NULL, NULL, count(*), coalesce(sum(fatalities), 0) FROM {f}"),
    "month": ("", "SELECT month, NULL, count(*), NULL FROM {f} WHERE month IS NOT NULL GROUP BY month"),
    "type": (
        "type",
        "SELECT x.ancestor, t.label, x.n, NULL FROM (SELECT c.ancestor, count(DISTINCT l.id) AS n FROM {l} l"
        " JOIN concept_up c ON c.concept = l.entity WHERE l.role = 'eventType' GROUP BY c.ancestor) x"
        " LEFT JOIN terms t ON t.iri = x.ancestor",
    ),
    "role": (
        "role",
        "SELECT l.role, NULL, count(DISTINCT l.id), NULL FROM {l} l"
        f" WHERE {of_entity('entity', 'l')} AND l.role NOT IN ('eventType') GROUP BY l.role",
    ),
    "actor": (
        "actor",
        "SELECT x.entity, t.label, x.n, NULL FROM (SELECT l.entity, count(DISTINCT l.id) AS n FROM {l} l"
        " WHERE l.kind = 'actor' AND l.entity <> $entity GROUP BY l.entity ORDER BY n DESC, l.entity"
        f" LIMIT {FACET_SIZE}) x LEFT JOIN terms t ON t.iri = x.entity",
    ),
    "place": (
        "place",
        "SELECT x.entity, t.label, x.n, NULL FROM (SELECT l.entity, count(DISTINCT l.id) AS n FROM {l} l"
        f" WHERE l.kind = 'place' AND l.role IN ('place', 'province', '{WITHIN}') AND l.entity <> $entity"
        f" GROUP BY l.entity ORDER BY n DESC, l.entity LIMIT {FACET_SIZE}) x LEFT JOIN terms t ON t.iri = x.entity",
    ),
}


def _summary(table: Table, entity: str, flt: IncidentFilter) -> dict[str, list[tuple[Any, ...]]]:
    """Total, series and facets in one statement: each distinct filtered set (all filters, or all but one that is
    set) and its incidents' links computed once (materialized CTEs) instead of once per facet."""
    ctes: list[str] = []
    params: dict[str, Any] = {"entity": entity}
    names: dict[str, str] = {}  # the filter left out ("" for none) -> its CTE
    parts = []
    for facet, (exclude, sql) in _SUMMARY.items():
        effective = exclude if exclude and getattr(flt, exclude) else ""  # the filter a facet leaves out, if it is set
        if effective not in names:
            name = names[effective] = f"f{len(names)}"
            cte, p = _filtered(flt, effective, name, materialized=True)
            ctes += [
                cte,
                f"l_{name} AS MATERIALIZED (SELECT l.id, l.ekey, l.entity, l.role, l.kind FROM {name} JOIN links l ON l.id = {name}.id)",
            ]
            params.update(p)
        name = names[effective]
        parts.append(f"SELECT '{facet}' AS facet, * FROM ({sql.format(f=name, l='l_' + name)})")
    out: dict[str, list[tuple[Any, ...]]] = {facet: [] for facet in _SUMMARY}
    for facet, *row in table.rows(f"WITH {', '.join(ctes)} SELECT * FROM (" + " UNION ALL ".join(parts) + ")", params):
        out[facet].append(tuple(row))
    return out


def table_page(
    table: Table, entity: str, flt: IncidentFilter, page: int = 1, sort: str = "date", size: int = PAGE_SIZE
) -> IncidentTable | None:
    """The incident table of an entity page, or None when the entity has no incidents."""
    ((all_total,),) = table.rows(
        f"SELECT count(DISTINCT id) FROM links WHERE {of_entity('entity')} AND role NOT IN ('eventType')", {"entity": entity}
    )
    if not all_total:
        return None
    _check_values(table, flt)
    if page < 1:
        raise InvalidFilter(f"page={page} is not a page number (1 or more)")
    summary = _summary(table, entity, flt)
    ((_v, _l, total, fatalities),) = summary["total"]
    pages = max(1, -(-total // size))
    if page > pages:
        raise InvalidFilter(f"page={page} is past the last page ({pages})")
    items = rows(table, entity, flt, sort, size, (page - 1) * size)
    series = fill_months({month: n for month, _l, n, _m in summary["month"]})

    def facets(name: str, key: Callable[[tuple[Any, ...]], Any]) -> tuple[Facet, ...]:
        return tuple(Facet(v, label or v, n) for v, label, n, _m in sorted(summary[name], key=key))

    by_count = lambda row: (-row[2], row[0])  # noqa: E731 - most first, then by value
    types, actors, places = facets("type", by_count), facets("actor", by_count), facets("place", by_count)
    roles = tuple(Facet(r, r, n) for r, _l, n, _m in sorted(summary["role"], key=by_count))
    return IncidentTable(
        items=tuple(items),
        total=total,
        all_total=all_total,
        fatalities=int(fatalities),
        series=tuple(series),
        types=_with_selected(types, table, flt.type),
        roles=roles,
        actors=_with_selected(actors, table, flt.actor),
        places=_with_selected(places, table, flt.place),
        filter=flt,
        page=page,
        page_size=size,
        sort=sort,
    )


# -- SPARQL ----------------------------------------------------------------------------------------------------------


def _involves(var: str, term: ox.NamedNode) -> str:
    return (
        f"  VALUES ?{var} {{ {term} }}\n"
        f"  {{ ?incident ?{var}Role ?{var} FILTER(?{var}Role NOT IN (rdf:type, psk:source, psk:eventType)) }}\n"
        f"  UNION {{ ?incident psk:place/psk:locatedIn+ ?{var} }}\n"
    )


def sparql(table: Table, entity: str, flt: IncidentFilter, sort: str = "date") -> str:
    """The SPARQL query (kg/queries/incident_view.rq) listing exactly the rows of this view, in its order."""
    parts: list[str] = []
    if not flt.role:
        parts.append(
            "  { ?incident ?role ?entity FILTER(?role NOT IN (rdf:type, psk:source, psk:eventType)) }\n"
            "  UNION { ?incident psk:place/psk:locatedIn+ ?entity }\n"
        )
    elif flt.role == WITHIN:
        parts.append("  ?incident psk:place/psk:locatedIn+ ?entity .\n")
    else:
        predicates = [
            p for (p,) in table.rows("SELECT DISTINCT predicate FROM links WHERE role = ? AND predicate IS NOT NULL", [flt.role])
        ]
        values = " ".join(str(ox.NamedNode(p)) for p in predicates) or str(ox.NamedNode(PSK + flt.role))
        parts.append(f"  VALUES ?role {{ {values} }}\n  ?incident ?role ?entity .\n")
    if flt.type:
        parts.append(f"  VALUES ?type {{ {ox.NamedNode(flt.type)} }}\n  ?incident psk:eventType/skos:broader* ?type .\n")
    if flt.actor:
        parts.append(_involves("actor", ox.NamedNode(flt.actor)))
    if flt.place:
        parts.append(_involves("place", ox.NamedNode(flt.place)))
    tests = []
    if flt.start:
        tests.append(f"?date >= {ox.Literal(flt.start, datatype=ox.NamedNode(XSD + 'date'))}")
    if flt.end:
        tests.append(f"?date <= {ox.Literal(flt.end, datatype=ox.NamedNode(XSD + 'date'))}")
    if flt.fmin:
        tests.append(f"?fatalities >= {ox.Literal(str(int(flt.fmin)), datatype=ox.NamedNode(XSD + 'integer'))}")
    if flt.fmax:
        tests.append(f"?fatalities <= {ox.Literal(str(int(flt.fmax)), datatype=ox.NamedNode(XSD + 'integer'))}")
    if tests:
        parts.append(f"  FILTER({' && '.join(tests)})\n")
    text = queries.text("incident_view")
    return (
        text.replace("ENTITY", str(ox.NamedNode(entity)), 1)
        .replace("  # FILTERS\n", "".join(parts), 1)
        .replace("ORDER_BY", SPARQL_SORTS.get(sort, SPARQL_SORTS["date"]), 1)
    )
