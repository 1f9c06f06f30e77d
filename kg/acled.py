"""Conflict-data loaders: ACLED export CSV and UCDP GED CSV onto the ontology.

A load runs in two passes. Pass 1 reads and checks every row, reconciles actor and place names with
the entities already in the store (labels and aliases: "Baluchistan" -> Balochistan, "KP"/"NWFP" ->
Khyber Pakhtunkhwa, ...), and streams N-Triples to a temporary file; a bad row stops the load with
file, line and column before the store is touched (or, with skip_invalid, is reported and skipped).
Pass 2 checkpoints the current store into a new version, removes earlier statements about the
events being (re)loaded, bulk-loads the file and publishes the version atomically. IRIs are derived
from the dataset's own event IDs and the file's SHA-256, so loading the same file twice changes
nothing.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import os
import re
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import IO, Any

import pyoxigraph as ox

from .build import LoadDelta, refresh_void
from .config import Settings
from .errors import KGError, LoadError
from .namespaces import DCTERMS, GEO, PSK, RDF, RDFS, SCHEMA, SKOS, XSD, Base, slugify, vocab
from .store import LocalStore

ACLED_COLUMNS = [
    "event_id_cnty", "event_date", "year", "time_precision", "disorder_type", "event_type", "sub_event_type",
    "actor1", "assoc_actor_1", "inter1", "actor2", "assoc_actor_2", "inter2", "interaction", "civilian_targeting",
    "iso", "region", "country", "admin1", "admin2", "admin3", "location", "latitude", "longitude", "geo_precision",
    "source", "source_scale", "notes", "fatalities", "tags", "timestamp",
]  # fmt: skip

UCDP_REQUIRED = [
    "id", "year", "type_of_violence", "conflict_name", "side_a", "side_b", "country", "adm_1", "adm_2",
    "where_coordinates", "latitude", "longitude", "where_prec", "date_prec", "date_start", "date_end",
    "best", "source_article",
]  # fmt: skip

ACLED_TYPES: dict[str, list[str]] = {
    "Battles": ["Armed clash", "Government regains territory", "Non-state actor overtakes territory"],
    "Explosions/Remote violence": [
        "Chemical weapon", "Air/drone strike", "Suicide bomb", "Shelling/artillery/missile attack",
        "Remote explosive/landmine/IED", "Grenade",
    ],
    "Violence against civilians": ["Sexual violence", "Attack", "Abduction/forced disappearance"],
    "Protests": ["Peaceful protest", "Protest with intervention", "Excessive force against protesters"],
    "Riots": ["Violent demonstration", "Mob violence"],
    "Strategic developments": [
        "Agreement", "Arrests", "Change to group/activity", "Disrupted weapons use", "Headquarters or base established",
        "Looting/property destruction", "Non-violent transfer of territory", "Other",
    ],
}  # fmt: skip

INTER_CODES = {
    "1": "state-forces", "2": "rebel-groups", "3": "political-militias", "4": "identity-militias",
    "5": "rioters", "6": "protesters", "7": "civilians", "8": "external-other-forces",
}  # fmt: skip
INTER_BY_NAME = {v.replace("-", " "): v for v in INTER_CODES.values()} | {"external/other forces": "external-other-forces"}
ACTOR_CLASS = {
    "state-forces": "StateSecurityForce", "rebel-groups": "ArmedGroup", "political-militias": "ArmedGroup",
    "identity-militias": "ArmedGroup", "external-other-forces": "Organization",
}  # fmt: skip
UCDP_VIOLENCE = {"1": "battles", "2": "battles", "3": "violence-against-civilians"}
UCDP_LABELS = {"1": "State-based violence", "2": "Non-state violence", "3": "One-sided violence"}

# Name variants in conflict data that differ from the curated labels beyond case and punctuation.
ADMIN1_ALIASES = {
    "baluchistan": "balochistan",
    "balochistan province": "balochistan",
    "khyber pakhtoonkhwa": "khyber pakhtunkhwa",
    "khyber pakhtunkhwa province": "khyber pakhtunkhwa",
    "north west frontier province": "khyber pakhtunkhwa",
    "punjab province": "punjab",
}


@lru_cache(maxsize=1 << 16)
def norm(name: str) -> str:
    """Normalize a name for reconciliation: lower case, no punctuation, single spaces."""
    text = re.sub(r"\(\d{4}-\d{0,4}\)", "", name)  # ACLED's "(2018-)" tenure suffixes
    text = re.sub(r"[^\w\s]", " ", text.lower().replace("-", " "))
    return " ".join(text.split())


# Every predicate the converters can emit (VoID's property list is updated from these after a load).
LOADER_PREDICATES = [
    RDF + "type",
    RDFS + "label",
    SKOS + "altLabel",
    DCTERMS + "modified",
    SCHEMA + "latitude",
    SCHEMA + "longitude",
    SCHEMA + "keywords",
    GEO + "hasGeometry",
    GEO + "asWKT",
] + [
    PSK + p
    for p in (
        "eventId",
        "date",
        "endDate",
        "timePrecision",
        "eventType",
        "country",
        "province",
        "place",
        "locatedIn",
        "geoPrecision",
        "perpetrator",
        "target",
        "associatedActor",
        "fatalities",
        "civilianTargeting",
        "notes",
        "sourceName",
        "source",
        "dataset",
        "rowNumber",
        "fileName",
        "sha256",
        "interactionType",
        "partOfConflict",
    )
]  # psk:source entails prov:wasDerivedFrom, so the loaders do not write both


LOADER_CLASSES = [GEO + "Geometry"] + [PSK + c for c in (
    "Incident", "DataRecord", "Dataset", "State", "Province", "District", "City", "Actor", "ArmedGroup",
    "StateSecurityForce", "Organization", "Conflict")]  # fmt: skip
_TYPE = f" <{RDF}type> "


def nt_lit(value: str, datatype: str | None = None, lang: str | None = None) -> str:
    esc = value
    if "\\" in esc or '"' in esc or "\n" in esc or "\r" in esc:
        esc = esc.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    if lang:
        return f'"{esc}"@{lang}'
    if datatype and datatype != XSD + "string":
        return f'"{esc}"^^<{datatype}>'
    return f'"{esc}"'


def iri(value: str) -> str:
    return f"<{value}>"


@lru_cache(maxsize=256)
def _pred(value: str) -> str:
    """iri() for the few constant predicates and classes of the converters (cached: called per triple)."""
    return f"<{value}>"


@dataclass
class EventRow:
    line: int
    event_id: str
    date: dt.date
    end_date: dt.date | None
    time_precision: int | None
    event_type: str  # vocab slug
    sub_event_type: str | None
    actor1: str
    inter1: str | None
    actor2: str | None
    inter2: str | None
    assoc: list[str]
    country: str
    admin1: str | None
    admin2: str | None
    admin3: str | None
    location: str | None
    lat: float | None
    lon: float | None
    geo_precision: int | None
    fatalities: int | None
    notes: str | None
    sources: str | None
    civilian_targeting: bool
    disorder_type: str | None = None
    timestamp: int | None = None
    type_label: str = ""
    extra: dict[str, str] = field(default_factory=dict)


@dataclass
class LoadReport:
    rows: int = 0
    quads: int = 0
    skipped: list[str] = field(default_factory=list)
    typed: int = 0  # triples typing a subject (each minted subject is typed once)
    version: str | None = None
    published_s: float = 0.0  # from the start until the loaded data was published
    compact_s: float | None = None  # the compaction afterwards (None: not compacted)


# -- row parsing --------------------------------------------------------------------------------


class RowError(Exception):
    def __init__(self, column: str | None, message: str) -> None:
        super().__init__(message)
        self.column = column


def _req(row: dict[str, str], col: str) -> str:
    value = (row.get(col) or "").strip()
    if not value:
        raise RowError(col, "is empty but required")
    return value


def _opt(row: dict[str, str], col: str) -> str | None:
    value = (row.get(col) or "").strip()
    return value or None


def _int(row: dict[str, str], col: str, *, lo: int | None = None, hi: int | None = None, required: bool = False) -> int | None:
    raw = _req(row, col) if required else _opt(row, col)
    if raw is None:
        return None
    try:
        value = int(float(raw)) if re.fullmatch(r"-?\d+(\.0+)?", raw) else int(raw)
    except ValueError:
        raise RowError(col, f"{raw!r} is not an integer") from None
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise RowError(col, f"{value} is outside {lo}..{hi}")
    return value


def _float(row: dict[str, str], col: str, lo: float, hi: float) -> float | None:
    raw = _opt(row, col)
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise RowError(col, f"{raw!r} is not a number") from None
    if not lo <= value <= hi:
        raise RowError(col, f"{value} is outside {lo}..{hi}")
    return value


def _date(row: dict[str, str], col: str) -> dt.date:
    raw = _req(row, col)
    if len(raw) == 10 and raw[4] == "-":
        try:
            return dt.date.fromisoformat(raw)
        except ValueError:
            pass
    for fmt in ("%Y-%m-%d", "%d %B %Y", "%d-%B-%Y", "%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S"):
        try:
            return dt.datetime.strptime(raw, fmt).date()
        except ValueError:
            continue
    raise RowError(col, f"{raw!r} is not a date (expected YYYY-MM-DD or '11 March 2025')")


def _inter(row: dict[str, str], col: str) -> str | None:
    raw = _opt(row, col)
    if raw is None or raw == "0":
        return None
    if raw in INTER_CODES:
        return INTER_CODES[raw]
    key = raw.lower()
    if key in INTER_BY_NAME:
        return INTER_BY_NAME[key]
    raise RowError(col, f"{raw!r} is not an ACLED inter code (0-8 or a name such as 'State forces')")


def parse_acled(row: dict[str, str], line: int) -> EventRow:
    event_id = _req(row, "event_id_cnty")
    if not re.fullmatch(r"[A-Za-z]{2,4}\d+", event_id):
        raise RowError("event_id_cnty", f"{event_id!r} is not an ACLED event id such as PAK12345")
    date = _date(row, "event_date")
    year = _int(row, "year", required=True)
    if year != date.year:
        raise RowError("year", f"{year} does not match event_date {date.isoformat()}")
    event_type = _req(row, "event_type")
    if event_type not in ACLED_TYPES:
        raise RowError("event_type", f"{event_type!r} is not an ACLED event type ({', '.join(ACLED_TYPES)})")
    sub = _req(row, "sub_event_type")
    if sub not in ACLED_TYPES[event_type]:
        raise RowError("sub_event_type", f"{sub!r} is not a sub-event type of {event_type!r}")
    ct = _opt(row, "civilian_targeting")
    if ct not in (None, "Civilian targeting"):
        raise RowError("civilian_targeting", f"{ct!r} must be empty or 'Civilian targeting'")
    _int(row, "interaction", lo=0, hi=99)
    _int(row, "iso", lo=0, hi=999)
    return EventRow(
        line=line,
        event_id=event_id,
        date=date,
        end_date=None,
        time_precision=_int(row, "time_precision", lo=1, hi=3),
        event_type=slugify(event_type),
        sub_event_type=slugify(sub),
        actor1=_req(row, "actor1"),
        inter1=_inter(row, "inter1"),
        actor2=_opt(row, "actor2"),
        inter2=_inter(row, "inter2"),
        assoc=[a.strip() for col in ("assoc_actor_1", "assoc_actor_2") for a in (_opt(row, col) or "").split(";") if a.strip()],
        country=_req(row, "country"),
        admin1=_opt(row, "admin1"),
        admin2=_opt(row, "admin2"),
        admin3=_opt(row, "admin3"),
        location=_opt(row, "location"),
        lat=_float(row, "latitude", -90, 90),
        lon=_float(row, "longitude", -180, 180),
        geo_precision=_int(row, "geo_precision", lo=1, hi=3),
        fatalities=_int(row, "fatalities", lo=0, required=True),
        notes=_opt(row, "notes"),
        sources=_opt(row, "source"),
        civilian_targeting=ct is not None,
        disorder_type=_opt(row, "disorder_type"),
        timestamp=_int(row, "timestamp", lo=0),
        type_label=sub,
    )


def parse_ucdp(row: dict[str, str], line: int) -> EventRow:
    event_id = _req(row, "id")
    if not re.fullmatch(r"\d+", event_id):
        raise RowError("id", f"{event_id!r} is not a UCDP GED event id (an integer)")
    tov = _req(row, "type_of_violence")
    if tov not in UCDP_VIOLENCE:
        raise RowError("type_of_violence", f"{tov!r} must be 1 (state-based), 2 (non-state) or 3 (one-sided)")
    start, end = _date(row, "date_start"), _date(row, "date_end")
    if end < start:
        raise RowError("date_end", f"{end} is before date_start {start}")
    adm1 = _opt(row, "adm_1")
    if adm1:
        adm1 = re.sub(r"\s+(province|territory|region)$", "", adm1, flags=re.I)
    return EventRow(
        line=line,
        event_id=f"GED{event_id}",
        date=start,
        end_date=end if end != start else None,
        time_precision=_int(row, "date_prec", lo=1, hi=5),
        event_type=UCDP_VIOLENCE[tov],
        sub_event_type=None,
        actor1=_req(row, "side_a"),
        inter1="state-forces" if tov == "1" else None,
        actor2=_opt(row, "side_b"),
        inter2=None,
        assoc=[],
        country=re.sub(r"\s*\(.*\)$", "", _req(row, "country")),
        admin1=adm1,
        admin2=_opt(row, "adm_2"),
        admin3=None,
        location=_opt(row, "where_coordinates"),
        lat=_float(row, "latitude", -90, 90),
        lon=_float(row, "longitude", -180, 180),
        geo_precision=_int(row, "where_prec", lo=1, hi=7),
        fatalities=_int(row, "best", lo=0, required=True),
        notes=_opt(row, "source_headline"),
        sources=_opt(row, "source_article"),
        civilian_targeting=tov == "3",
        type_label=UCDP_LABELS[tov],
        extra={"conflict_name": _opt(row, "conflict_name") or ""},
    )


# -- reconciliation -----------------------------------------------------------------------------


class Reconciler:
    """Maps names in conflict data to existing entities (labels and aliases), minting new ones."""

    def __init__(self, base: Base, store: ox.Store | None) -> None:
        self.base = base
        self.places: dict[str, str] = {}
        self.provinces: dict[str, str] = {}
        self.states: dict[str, str] = {}
        self.actors: dict[str, str] = {}
        self.with_geometry: set[str] = set()
        self._seen_actors: dict[str, str] = {}
        self.conflicts: dict[str, str] = {}
        if store is not None:
            self._index(store)

    def _index(self, store: ox.Store) -> None:
        q = """SELECT ?s ?name ?kind WHERE {
                 VALUES (?class ?kind) { (psk:State "state") (psk:Province "province") (psk:Place "place")
                   (psk:City "place") (psk:GeographicRegion "place") (psk:District "place")
                   (psk:Actor "actor") (psk:Organization "actor") (psk:ArmedGroup "actor")
                   (psk:StateSecurityForce "actor") (psk:Government "actor") (psk:Community "actor") (psk:Conflict "conflict") }
                 ?s a ?class . { ?s rdfs:label ?name } UNION { ?s skos:altLabel ?name } }"""
        from .namespaces import PREFIXES

        table = {
            "state": self.states,
            "province": self.provinces,
            "place": self.places,
            "actor": self.actors,
            "conflict": self.conflicts,
        }
        for row in store.query(q, prefixes=PREFIXES):
            table[row["kind"].value].setdefault(norm(row["name"].value), row["s"].value)
        for q2 in store.quads_for_pattern(None, ox.NamedNode(GEO + "hasGeometry"), None, ox.DefaultGraph()):
            self.with_geometry.add(q2.subject.value)

    def _known_or_minted(
        self, table: dict[str, str], key: str, local: str, cls: str, label: str, out: list[str]
    ) -> tuple[str, bool]:
        """The entity already known under key, or a new one (typed and labelled into out); and whether it is new."""
        if key in table:
            return table[key], False
        s = table[key] = self.base.entity(local)
        out += _entity(s, cls, label)
        return s, True

    def conflict(self, name: str, out: list[str]) -> str:
        """UCDP's conflict names: one psk:Conflict each (matched by label, e.g. a curated conflict of the same name)."""
        return self._known_or_minted(self.conflicts, norm(name), f"conflict/ucdp-{slugify(name)}", "Conflict", name, out)[0]

    def state(self, name: str, out: list[str]) -> str:
        return self._known_or_minted(self.states, norm(name), f"state/{slugify(name)}", "State", name, out)[0]

    def province(self, name: str, state: str, out: list[str]) -> str:
        key = ADMIN1_ALIASES.get(norm(name), norm(name))
        s, new = self._known_or_minted(self.provinces, key, f"province/{slugify(name)}", "Province", name, out)
        if new:
            out.append(f"{iri(s)} {iri(PSK + 'country')} {iri(state)} .")
        return s

    def place(self, name: str, kind: str, parent: str, scope: str, out: list[str]) -> str:
        key = norm(name)
        scoped = f"{key}|{parent}"
        if scoped in self.places:
            return self.places[scoped]
        if key in self.places and kind == "City":
            return self.places[key]
        s = self.base.entity(f"place/{scope}/{slugify(name)}")
        self.places[scoped] = s
        out += _entity(s, kind, name)
        out.append(f"{iri(s)} {iri(PSK + 'locatedIn')} {iri(parent)} .")
        return s

    def actor(self, name: str, inter: str | None, out: list[str]) -> str:
        cached = self._seen_actors.get(name)
        if cached is not None:
            return cached
        self._seen_actors[name] = found = self._actor(name, inter, out)
        return found

    def _actor(self, name: str, inter: str | None, out: list[str]) -> str:
        candidates = [norm(name)]
        if ":" in name:  # ACLED's "BLA: Baloch Liberation Army"
            abbr, _, full = name.partition(":")
            candidates += [norm(full), norm(abbr)]
        for key in candidates:
            if key in self.actors:
                return self.actors[key]
        label = re.sub(r"\s*\(\d{4}-\d{0,4}\)", "", name).strip()
        s = self.base.entity(f"actor/{slugify(label)}")
        for key in candidates:
            self.actors[key] = s
        out += _entity(s, ACTOR_CLASS.get(inter or "", "Actor"), label)
        if label != name:
            out.append(f"{iri(s)} {iri(SKOS + 'altLabel')} {nt_lit(name, lang='en')} .")
        if inter:
            out.append(f"{iri(s)} {iri(PSK + 'interactionType')} {iri(vocab('inter', inter))} .")
        return s


def incident_iri(base: Base, kind: str, event_id: str) -> str:
    """The incident IRI for a dataset's own event id (UCDP ids carry the GED prefix given by parse_ucdp)."""
    return base.entity(f"incident/{kind}-{event_id.lower()}")


def _entity(s: str, cls: str, label: str) -> list[str]:
    return [f"{iri(s)} {iri(RDF + 'type')} {iri(PSK + cls)} .", f"{iri(s)} {iri(RDFS + 'label')} {nt_lit(label, lang='en')} ."]


# -- emitting -------------------------------------------------------------------------------------


def event_triples(ev: EventRow, rec: Reconciler, base: Base, record: str, prefix: str) -> tuple[str, list[str]]:
    out: list[str] = []
    inc = incident_iri(base, prefix, ev.event_id)
    s = iri(inc)

    def add(p: str, o: str) -> None:
        out.append(f"{s} {_pred(p)} {o} .")

    add(RDF + "type", iri(PSK + "Incident"))
    where = ev.location or ev.admin1 or ev.country
    add(RDFS + "label", nt_lit(f"{ev.type_label} in {where}, {ev.date.isoformat()}", lang="en"))
    add(PSK + "eventId", nt_lit(ev.event_id))
    add(PSK + "date", nt_lit(ev.date.isoformat(), XSD + "date"))
    if ev.end_date:
        add(PSK + "endDate", nt_lit(ev.end_date.isoformat(), XSD + "date"))
    if ev.time_precision is not None:
        add(PSK + "timePrecision", nt_lit(str(ev.time_precision), XSD + "integer"))
    add(PSK + "eventType", iri(vocab("event-type", ev.event_type)))
    if ev.sub_event_type:
        add(PSK + "eventType", iri(vocab("event-type", ev.sub_event_type)))
    state = rec.state(ev.country, out)
    add(PSK + "country", iri(state))
    parent = state
    if ev.admin1:
        parent = rec.province(ev.admin1, state, out)
        add(PSK + "province", iri(parent))
    # place IRIs hang off the reconciled province, so "Baluchistan" and "Balochistan" rows share them
    scope = parent.rsplit("/", 1)[-1]
    for level in (ev.admin2, ev.admin3):
        if level:
            parent = rec.place(level, "District", parent, scope, out)
            scope = f"{scope}/{slugify(level)}"
    if ev.location:
        place = rec.place(ev.location, "City", parent, scope, out)
        add(PSK + "place", iri(place))
        if ev.lat is not None and ev.lon is not None and place not in rec.with_geometry:
            rec.with_geometry.add(place)
            geom = place + "/geometry"
            out.append(f"{iri(place)} {iri(GEO + 'hasGeometry')} {iri(geom)} .")
            out.append(f"{iri(geom)} {iri(RDF + 'type')} {iri(GEO + 'Geometry')} .")
            out.append(f"{iri(geom)} {iri(GEO + 'asWKT')} {nt_lit(f'POINT({ev.lon} {ev.lat})', GEO + 'wktLiteral')} .")
            out.append(f"{iri(place)} {iri(SCHEMA + 'latitude')} {nt_lit(repr(ev.lat), XSD + 'decimal')} .")
            out.append(f"{iri(place)} {iri(SCHEMA + 'longitude')} {nt_lit(repr(ev.lon), XSD + 'decimal')} .")
    if ev.geo_precision is not None:
        add(PSK + "geoPrecision", nt_lit(str(ev.geo_precision), XSD + "integer"))
    add(PSK + "perpetrator", iri(rec.actor(ev.actor1, ev.inter1, out)))
    if ev.actor2:
        add(PSK + "target", iri(rec.actor(ev.actor2, ev.inter2, out)))
    for assoc in ev.assoc:
        add(PSK + "associatedActor", iri(rec.actor(assoc, None, out)))
    if ev.fatalities is not None:
        add(PSK + "fatalities", nt_lit(str(ev.fatalities), XSD + "integer"))
    add(PSK + "civilianTargeting", nt_lit("true" if ev.civilian_targeting else "false", XSD + "boolean"))
    if ev.notes:
        add(PSK + "notes", nt_lit(ev.notes))
    if ev.sources:
        add(PSK + "sourceName", nt_lit(ev.sources))
    if ev.disorder_type:
        add(SCHEMA + "keywords", nt_lit(ev.disorder_type))
    if ev.timestamp is not None:
        stamp = dt.datetime.fromtimestamp(ev.timestamp, dt.UTC).replace(tzinfo=None).isoformat()
        add(DCTERMS + "modified", nt_lit(stamp, XSD + "dateTime"))
    if ev.extra.get("conflict_name"):
        add(PSK + "partOfConflict", iri(rec.conflict(ev.extra["conflict_name"], out)))
    add(PSK + "source", iri(record))
    return inc, out


def _rows(path: Path, columns: list[str], exact: bool) -> Iterator[tuple[int, dict[str, str]]]:
    with open(path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh)
        try:
            header = next(reader)
        except StopIteration:
            raise LoadError(str(path), 1, None, "file is empty (expected a header row)") from None
        header = [h.strip() for h in header]
        if exact and header != columns:
            missing = [c for c in columns if c not in header]
            if missing:
                raise LoadError(str(path), 1, missing[0], f"header lacks column(s) {', '.join(missing)}")
            first = next(i for i, (a, b) in enumerate(zip(header, columns, strict=False)) if a != b)
            raise LoadError(
                str(path),
                1,
                header[first],
                f"columns are not in ACLED export order: expected {columns[first]!r} at position {first + 1}",
            )
        if not exact:
            missing = [c for c in columns if c not in header]
            if missing:
                raise LoadError(str(path), 1, missing[0], f"header lacks column(s) {', '.join(missing)}")
        for record in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in record):
                continue
            if len(record) != len(header):
                yield line, {"__arity__": f"has {len(record)} fields; the header has {len(header)}"}
                continue
            yield line, dict(zip(header, record, strict=True))


def _file_sha(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _progress(path: Path) -> Any:
    try:
        from tqdm import tqdm

        return tqdm(
            total=path.stat().st_size, unit="B", unit_scale=True, desc=f"reading {path.name}", file=sys.stderr, disable=None
        )
    except ImportError:  # pragma: no cover
        return None


def convert(
    kind: str,
    path: Path,
    base: Base,
    rec: Reconciler,
    out: IO[str],
    *,
    skip_invalid: bool,
    report: LoadReport,
    events: set[str],
    seen_ids: dict[str, tuple[str, int]] | None = None,
) -> None:
    """Pass 1: check every row of one file and write its N-Triples to out.

    seen_ids (event id -> file and line) is shared across the files of one load, so an event twice is an error.
    """
    parse: Callable[[dict[str, str], int], EventRow] = parse_acled if kind == "acled" else parse_ucdp
    columns = ACLED_COLUMNS if kind == "acled" else UCDP_REQUIRED
    sha = _file_sha(path)
    dataset = base.entity(f"dataset/{kind}-{sha[:16]}")
    ds_lines = _entity(dataset, "Dataset", f"{'ACLED' if kind == 'acled' else 'UCDP GED'} export {path.name}")
    ds_lines += [
        f"{iri(dataset)} {iri(PSK + 'fileName')} {nt_lit(path.name)} .",
        f"{iri(dataset)} {iri(PSK + 'sha256')} {nt_lit(sha, XSD + 'hexBinary')} .",
    ]
    out.write("\n".join(ds_lines) + "\n")
    report.quads += len(ds_lines)
    report.typed += 1
    bar = _progress(path)
    if seen_ids is None:
        seen_ids = {}
    for line, row in _rows(path, columns, exact=(kind == "acled")):
        if bar is not None and not bar.disable:
            bar.update(sum(len(v) + 1 for v in row.values()))  # approximate bytes read
        try:
            if "__arity__" in row:
                raise RowError(None, row["__arity__"])
            ev = parse(row, line)
            if ev.event_id in seen_ids:
                first_file, first_line = seen_ids[ev.event_id]
                where = f"line {first_line}" if first_file == str(path) else f"{first_file}, line {first_line}"
                raise RowError("event_id_cnty" if kind == "acled" else "id", f"{ev.event_id} already appears on {where}")
            seen_ids[ev.event_id] = (str(path), line)
            record = base.entity(f"record/{kind}-{sha[:16]}/{line}")
            inc, triples = event_triples(ev, rec, base, record, kind)
        except RowError as exc:
            err = LoadError(str(path), line, exc.column, str(exc))
            if not skip_invalid:
                if bar is not None:
                    bar.close()
                raise err from None
            report.skipped.append(str(err))
            continue
        events.add(inc)
        triples += [
            f"{iri(record)} {iri(RDF + 'type')} {iri(PSK + 'DataRecord')} .",
            f"{iri(record)} {iri(PSK + 'dataset')} {iri(dataset)} .",
            f"{iri(record)} {iri(PSK + 'rowNumber')} {nt_lit(str(line), XSD + 'integer')} .",
            f"{iri(record)} {iri(RDFS + 'label')} {nt_lit(f'{path.name}, line {line}', lang='en')} .",
        ]
        out.write("\n".join(triples) + "\n")
        report.rows += 1
        report.quads += len(triples)
        report.typed += sum(1 for t in triples if _TYPE in t)
    if bar is not None:
        bar.close()


def _event_ids(kind: str, paths: list[Path], base: Base) -> set[str]:
    """Incident IRIs of the events in the files (a cheap pre-pass, used only when revising earlier loads)."""
    column = "event_id_cnty" if kind == "acled" else "id"
    out: set[str] = set()
    for path in paths:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            for row in csv.DictReader(fh):
                raw = (row.get(column) or "").strip()
                if raw:
                    out.add(incident_iri(base, kind, raw if kind == "acled" else f"GED{raw}"))
    return out


def _remove_stale(store: ox.Store, events: set[str]) -> None:
    """Remove earlier statements about events being reloaded, so a revised row replaces its old values."""
    for e in events:
        for q in list(store.quads_for_pattern(ox.NamedNode(e), None, None, ox.DefaultGraph())):
            store.remove(q)


def _convert_all(
    kind: str,
    paths: list[Path],
    base: Base,
    rec: Reconciler,
    out: IO[str],
    skip_invalid: bool,
    report: LoadReport,
    events: set[str],
) -> None:
    seen_ids: dict[str, tuple[str, int]] = {}
    for path in paths:
        convert(kind, path, base, rec, out, skip_invalid=skip_invalid, report=report, events=events, seen_ids=seen_ids)


def _pipelined_load(
    kind: str, paths: list[Path], base: Base, rec: Reconciler, store: ox.Store, skip_invalid: bool, report: LoadReport
) -> None:
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
            with os.fdopen(write_fd, "w", encoding="utf-8", buffering=1 << 20) as out:
                child_report = LoadReport()
                try:
                    _convert_all(kind, paths, base, rec, out, skip_invalid, child_report, set())
                    result_send.send(("ok", child_report))
                except LoadError as exc:
                    result_send.send(("error", (exc.file, exc.line, exc.column, exc.message)))
        except BaseException as exc:  # noqa: BLE001 - reported to the parent, which discards the version
            result_send.send(("crash", f"{type(exc).__name__}: {exc}"))
            code = 1
        finally:
            os._exit(code)
    os.close(write_fd)
    load_error: str | None = None
    with os.fdopen(read_fd, "rb", buffering=1 << 20) as pipe:
        try:
            store.bulk_load(input=pipe, format=ox.RdfFormat.N_TRIPLES)
        except (SyntaxError, OSError) as exc:
            load_error = str(exc)
            pipe.read()  # drain, so the child can finish and report
    os.waitpid(pid, 0)
    status, payload = result_recv.recv() if result_recv.poll(5) else ("crash", "the converter process died")
    if status == "error":
        raise LoadError(*payload)
    if status != "ok":
        raise KGError(f"loading failed: {payload}")
    if load_error:
        raise KGError(f"loading failed while writing the store: {load_error}")
    report.rows, report.quads, report.skipped, report.typed = payload.rows, payload.quads, payload.skipped, payload.typed


def load_files(
    kind: str,
    paths: list[Path],
    settings: Settings,
    *,
    skip_invalid: bool = False,
    into: str | None = None,
    progress: Callable[[str], None] | None = None,
    compact: bool = True,
) -> LoadReport:
    """Load ACLED ("acled") or UCDP GED ("ucdp") files; all-or-nothing across the files.

    The loaded data is published as soon as it is in the store; then (compact=True) a compacted copy of
    that version replaces it, so that reads are fast (see LocalStore.compact).
    """
    say = progress or (lambda _msg: None)
    started = time.monotonic()
    if kind not in ("acled", "ucdp"):
        raise KGError(f"unknown dataset kind {kind!r}")
    base = settings.iris
    report = LoadReport()
    if into:
        return _load_remote(kind, paths, base, into, skip_invalid, report)
    local = LocalStore(settings.store)
    if not local.exists():
        raise KGError(f"no store at {settings.store}: run `kg build` first")
    _v, current = local.open_read()
    rec = Reconciler(base, current)
    revising = any(True for _ in current.quads_for_pattern(None, ox.NamedNode(PSK + "eventId"), None, ox.DefaultGraph()))
    del current

    def apply(store: ox.Store) -> None:
        if revising:
            say("removing earlier statements about the events being reloaded")
            _remove_stale(store, _event_ids(kind, paths, base))
        say("checking rows and bulk-loading them into a new store version")
        _pipelined_load(kind, paths, base, rec, store, skip_invalid, report)
        say(
            f"{report.rows} rows, {report.quads} triples loaded after {time.monotonic() - started:.1f} s; updating the VoID description"
        )
        # A first load only adds (new events, records, minted entities): carry the VoID counts forward.
        # Revising earlier loads removes statements too: count again.
        delta = None if revising else LoadDelta(report.quads, report.typed, LOADER_PREDICATES, LOADER_CLASSES)
        refresh_void(base, store, delta)
        say(f"publishing after {time.monotonic() - started:.1f} s")

    report.version = local.write(apply, from_current=True, optimize=False)
    report.published_s = time.monotonic() - started
    if compact:
        say("compacting the new version for fast reads (the loaded data is already served)")
        t = time.monotonic()
        report.version = local.compact()
        report.compact_s = time.monotonic() - t
        say(f"compacted in {report.compact_s:.1f} s")
    return report


def _load_remote(kind: str, paths: list[Path], base: Base, into: str, skip_invalid: bool, report: LoadReport) -> LoadReport:
    """Remote stores: convert everything to a temporary file first, then send it with the Graph Store Protocol."""
    from .remote import RemoteStore

    remote = RemoteStore(into, base)
    rec = Reconciler(base, remote.snapshot_for_reconciliation())
    events: set[str] = set()
    fd, tmp_name = tempfile.mkstemp(prefix="psk-load-", suffix=".nt")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            _convert_all(kind, paths, base, rec, out, skip_invalid, report, events)
        remote.replace_subjects_and_load(events, Path(tmp_name))
        return report
    finally:
        os.unlink(tmp_name)
