"""From a checked row to its triples: the incident, its places and actors (reconciled), its provenance record."""

from __future__ import annotations

import datetime as dt

from ..namespaces import DCTERMS, GEO, PSK, RDF, RDFS, SCHEMA, SKOS, XSD, Base, slugify, vocab
from .ntriples import iri, nt_lit, pred
from .reconcile import Reconciler, incident_iri
from .rows import EventRow

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


def event_triples(ev: EventRow, rec: Reconciler, base: Base, record: str, prefix: str) -> tuple[str, list[str]]:
    out: list[str] = []
    inc = incident_iri(base, prefix, ev.event_id)
    s = iri(inc)

    def add(p: str, o: str) -> None:
        out.append(f"{s} {pred(p)} {o} .")

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
