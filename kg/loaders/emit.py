"""From a checked row to its triples: the incident, its sides and places (reconciled), its provenance record.

An event's participants are kept as the dataset codes them: a psk:Side per coded side (ACLED actor 1 and actor 2,
UCDP side A and side B) with the actor, the name as spelled, its actor type (ACLED inter code) and its own
associated actors; the incident points to the actors directly too (psk:actor1, psk:actor2, psk:sideA, psk:sideB).
psk:perpetrator and psk:target are asserted only where the coding defines a direction (ACLED "Violence against
civilians": actor 1 and the civilians of actor 2; UCDP one-sided violence: side A and side B, the civilians).
"""

from __future__ import annotations

import datetime as dt

from ..namespaces import DCTERMS, GEO, PSK, RDF, RDFS, SCHEMA, SKOS, XSD, Base, vocab
from .acled import interaction_label
from .ntriples import iri, nt_lit, pred
from .reconcile import Reconciler, decimal, incident_iri
from .rows import EventRow

SIDE_ROLES = {
    "actor-1": ("actor1", "Actor 1"),
    "actor-2": ("actor2", "Actor 2"),
    "side-a": ("sideA", "Side A"),
    "side-b": ("sideB", "Side B"),
}
# Columns kept verbatim (strings) and as integers, by column name: the property each goes to.
LITERAL_PROPERTIES = {
    "iso": "isoCountryCode", "region": "worldRegion", "source_scale": "sourceScale", "tags": "tags",
    "disorder_type": "disorderType", "relid": "ucdpRelid", "dyad_name": "ucdpDyadName",
    "where_description": "whereDescription", "source_headline": "sourceHeadline", "source_office": "sourceOffice",
    "source_date": "sourceDate", "source_original": "sourceOriginal",
}  # fmt: skip
COUNT_PROPERTIES = {
    "population_1km": "population1km", "population_2km": "population2km", "population_5km": "population5km",
    "population_best": "populationBest", "date_prec": "ucdpDatePrecision", "where_prec": "ucdpWherePrecision",
    "low": "fatalitiesLow", "high": "fatalitiesHigh", "deaths_a": "deathsSideA", "deaths_b": "deathsSideB",
    "deaths_civilians": "deathsCivilians", "deaths_unknown": "deathsUnknown", "number_of_sources": "numberOfSources",
    "event_clarity": "ucdpEventClarity",
}  # fmt: skip

# Every predicate the converters can emit (VoID's property list is updated from these after a load).
LOADER_PREDICATES = [
    RDF + "type",
    RDFS + "label",
    SKOS + "altLabel",
    DCTERMS + "modified",
    SCHEMA + "latitude",
    SCHEMA + "longitude",
    GEO + "hasGeometry",
    GEO + "asWKT",
] + [
    PSK + p
    for p in (
        "eventId", "date", "endDate", "timePrecision", "eventType", "country", "province", "district", "adminArea3",
        "place", "locatedIn", "geoPrecision", "perpetrator", "target", "actor1", "actor2", "sideA", "sideB", "side",
        "sideRole", "sideActor", "actorName", "countryName", "admin1Name", "locationName", "actorType", "associatedActor", "associatedActorNames", "interaction",
        "fatalities", "civilianTargeting", "notes", "sourceName", "source", "dataset", "rowNumber", "fileName",
        "sha256", "interactionType", "partOfConflict", "reconciliation", "matchedName", "matchRule",
        *LITERAL_PROPERTIES.values(), *COUNT_PROPERTIES.values(),
    )
]  # fmt: skip  # psk:source entails prov:wasDerivedFrom, so the loaders do not write both


LOADER_CLASSES = [GEO + "Geometry"] + [PSK + c for c in (
    "Incident", "DataRecord", "Dataset", "State", "Province", "District", "AdminArea3", "Location", "Actor", "ArmedGroup",
    "StateSecurityForce", "Organization", "Conflict", "Side", "NameMatch")]  # fmt: skip


def side_nodes(incident: str) -> list[str]:
    """The nodes an incident owns besides itself (its sides): removed with it when a row is revised."""
    return [f"{incident}/{role}" for role in SIDE_ROLES]


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
    add(PSK + "eventType", iri(vocab(ev.type_scheme, ev.event_type)))
    if ev.sub_event_type:
        add(PSK + "eventType", iri(vocab(ev.type_scheme, ev.sub_event_type)))
    _places(ev, rec, add, out)
    _sides(ev, rec, inc, add, out)
    if ev.interaction is not None:
        add(PSK + "interaction", iri(vocab("interaction", str(ev.interaction))))
    if ev.fatalities is not None:
        add(PSK + "fatalities", nt_lit(str(ev.fatalities), XSD + "integer"))
    if ev.civilian_targeting is not None:
        add(PSK + "civilianTargeting", nt_lit("true" if ev.civilian_targeting else "false", XSD + "boolean"))
    if ev.notes:
        add(PSK + "notes", nt_lit(ev.notes))
    if ev.sources:
        add(PSK + "sourceName", nt_lit(ev.sources))
    for col, value in ev.literals.items():
        add(PSK + LITERAL_PROPERTIES[col], nt_lit(value))
    for col, count in ev.counts.items():
        add(PSK + COUNT_PROPERTIES[col], nt_lit(str(count), XSD + "integer"))
    if ev.timestamp is not None:
        stamp = dt.datetime.fromtimestamp(ev.timestamp, dt.UTC).replace(tzinfo=None).isoformat()
        add(DCTERMS + "modified", nt_lit(stamp, XSD + "dateTime"))
    if ev.extra.get("conflict_name"):
        add(PSK + "partOfConflict", iri(rec.conflict(ev.extra["conflict_name"], out)))
    add(PSK + "source", iri(record))
    return inc, out


def _places(ev: EventRow, rec: Reconciler, add, out: list[str]) -> None:  # type: ignore[no-untyped-def]
    state = rec.state(ev.country, out)
    add(PSK + "country", iri(state))
    if rec.respelled("state", ev.country):  # names the row spells otherwise than the curated label, kept as given
        add(PSK + "countryName", nt_lit(ev.country))
    parent, province = state, ""
    if ev.admin1:
        parent = province = rec.province(ev.admin1, state, out)
        add(PSK + "province", iri(province))
        if rec.respelled("province", ev.admin1):
            add(PSK + "admin1Name", nt_lit(ev.admin1))
    for category, name, prop in (("district", ev.admin2, "district"), ("admin3", ev.admin3, "adminArea3")):
        if name:
            parent = rec.place(name, category, parent, province, out)
            add(PSK + prop, iri(parent))
    if ev.location:
        place = rec.place(ev.location, "location", parent, province, out)
        add(PSK + "place", iri(place))
        if rec.respelled("location", ev.location, parent):
            add(PSK + "locationName", nt_lit(ev.location))
        if ev.lat is not None and ev.lon is not None:
            rec.geometry(place, ev.lat, ev.lon, out)
    if ev.lat is not None and ev.lon is not None:  # the event's own coordinates, as coded
        add(SCHEMA + "latitude", nt_lit(decimal(ev.lat), XSD + "decimal"))
        add(SCHEMA + "longitude", nt_lit(decimal(ev.lon), XSD + "decimal"))
    if ev.geo_precision is not None:
        add(PSK + "geoPrecision", nt_lit(str(ev.geo_precision), XSD + "integer"))


def _sides(ev: EventRow, rec: Reconciler, inc: str, add, out: list[str]) -> None:  # type: ignore[no-untyped-def]
    actors = []
    for side in ev.sides:
        prop, role_label = SIDE_ROLES[side.role]
        actor = rec.actor(side.actor, side.inter, out)
        actors.append(actor)
        node = iri(f"{inc}/{side.role}")
        add(PSK + prop, iri(actor))
        add(PSK + "side", node)
        out += [
            f"{node} {pred(RDF + 'type')} {pred(PSK + 'Side')} .",
            f"{node} {pred(RDFS + 'label')} {nt_lit(f'{role_label}: {side.actor}', lang='en')} .",
            f"{node} {pred(PSK + 'sideRole')} {iri(vocab('side-role', side.role))} .",
            f"{node} {pred(PSK + 'sideActor')} {iri(actor)} .",
            f"{node} {pred(PSK + 'actorName')} {nt_lit(side.actor)} .",
        ]
        if side.inter:
            out.append(f"{node} {pred(PSK + 'actorType')} {iri(vocab('inter', side.inter))} .")
        for name in side.associates:
            out.append(f"{node} {pred(PSK + 'associatedActor')} {iri(rec.actor(name, None, out))} .")
        if side.associates:
            out.append(f"{node} {pred(PSK + 'associatedActorNames')} {nt_lit('; '.join(side.associates))} .")
    if ev.directed:
        add(PSK + "perpetrator", iri(actors[0]))
        add(PSK + "target", iri(actors[1]))


__all__ = ["LOADER_CLASSES", "LOADER_PREDICATES", "event_triples", "interaction_label", "side_nodes"]
