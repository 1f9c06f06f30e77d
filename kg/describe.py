"""kg's read side: what an entity page, a class listing, a search or an incident table shows, as typed dataclasses.

The web app renders these (server/linked_data.py maps URLs to these calls) and `kg describe` prints them; both get the
same model from the same queries (kg/queries/*.rq, IRIs bound as parameters). A Reader works over any backend
(embedded store or remote SPARQL server) and caches incident lists per dataset version.
"""

from __future__ import annotations

from collections import OrderedDict, defaultdict
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import pyoxigraph as ox

from . import queries
from .backend import Backend
from .cache import LRUCache
from .incidents import FILTER_KEYS, PAGE_SIZE, Facet, Incident, IncidentFilter, IncidentTable, InvalidFilter, table_page
from .incidents import rows as incident_rows
from .incidents import sparql as incident_sparql
from .namespaces import PREFIXES, PSK, RDF, SCHEMA, Base
from .search import SEARCH_FILE, SearchHit, SearchIndex, SearchResults
from .sparql import Result
from .tables import of_entity

CLASS_SORT_LIMIT = 5_000  # class pages sort members by label up to this many instances (else: index order)
INCOMING_SAMPLE = 25  # subjects shown per incoming property (entity_incoming_sample.rq has the same LIMIT)

__all__ = [
    "FILTER_KEYS",
    "Facet",
    "Incident",
    "IncidentFilter",
    "IncidentTable",
    "InvalidFilter",
    "Reader",
    "SearchHit",
    "SearchResults",
]

# Classes whose pages list incidents (as place, province, or actor in a role).
INCIDENT_CLASSES = frozenset(
    {
        "Province",
        "ArmedGroup",
        "City",
        "District",
        "AdminArea3",
        "Location",
        "GeographicRegion",
        "State",
        "StateSecurityForce",
        "Organization",
        "Actor",
        "Community",
        "Government",
    }
)


def curie(iri: str) -> str | None:
    """prefix:local for an IRI in a predeclared namespace, else None."""
    for prefix, ns in PREFIXES.items():
        if iri.startswith(ns):
            return f"{prefix}:{iri[len(ns) :]}"
    return None


def label_or_curie(iri: str, label: Any) -> str:
    """The label if there is one, else the IRI's CURIE, else the IRI."""
    if label is not None:
        return str(label.value)
    return curie(iri) or iri


def _value(term: Any) -> str:
    return term.value if term is not None else ""


def cols(result: Result, *names: str) -> list[tuple[Any, ...]]:
    """SELECT rows as tuples of the named variables (bound parameters are projected too, so go by name)."""
    return [tuple(r[n] for n in names) for r in result.records()]


# -- the model -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ref:
    """An IRI with the label to show for it."""

    iri: str
    label: str


@dataclass(frozen=True)
class Provenance:
    status: str  # reported | opinion | contested (the assertion-status concept's local name)
    source: Ref
    url: str = ""
    quote: str = ""
    start: str = ""
    end: str = ""


@dataclass(frozen=True)
class Value:
    """One object of a statement: an IRI (with label) or a literal (with datatype or language)."""

    iri: str | None = None
    label: str = ""
    literal: str | None = None
    datatype: str = ""  # local name of the datatype, "" for plain strings and language-tagged literals
    lang: str = ""
    provenance: tuple[Provenance, ...] = ()


@dataclass(frozen=True)
class PropertyValues:
    property: Ref
    values: tuple[Value, ...]


@dataclass(frozen=True)
class IncomingLinks:
    """Subjects linking to an entity through one property: the exact count and a sample."""

    property: Ref
    count: int
    subjects: tuple[Ref, ...]


@dataclass(frozen=True)
class ClaimRef:
    iri: str
    label: str
    status: str
    status_label: str
    type_label: str
    quote: str
    start: str
    end: str
    graph: str
    source: Ref
    speaker: str = ""
    stance: str = ""
    disputed: bool = False  # marked contested, contested by a source, or met by a claim of another stance
    about: tuple[Ref, ...] = ()  # what, among the entity and its sub-events, the claim is about


@dataclass(frozen=True)
class SourceLink:
    """A document with its publisher and URL (either may be empty)."""

    iri: str
    label: str
    publisher: str = ""
    url: str = ""


@dataclass(frozen=True)
class FigureRow:
    """One figure a source reports for an incident or a sub-event, with who stated it, where and when."""

    iri: str
    label: str
    kind: str
    value: str  # the number, "" when only a lower bound is given
    min_value: str
    qualifier: str
    reported_as: str
    date: str
    about: Ref
    stated_by: tuple[Ref, ...]
    relayed_by: tuple[Ref, ...]
    reported_in: tuple[SourceLink, ...]

    @property
    def display(self) -> str:
        return self.value if self.value else f"more than {self.min_value}"


@dataclass(frozen=True)
class ContestingClaim:
    iri: str
    label: str
    speaker: str
    stance: str


@dataclass(frozen=True)
class ClaimDetail:
    """What a claim page shows of the claim: its words, who says it, how, and what contests or supports it."""

    speaker: tuple[Ref, ...]
    stance: str
    status: str
    hedge: str
    certainty: str
    proposition: Ref | None
    quote: str
    start: str
    end: str
    reported_in: tuple[SourceLink, ...]
    contested_by: tuple[SourceLink, ...]
    supported_by: tuple[Ref, ...]
    contesting_claims: tuple[ContestingClaim, ...]

    @property
    def disputed(self) -> bool:
        return self.status == "Contested" or bool(self.contested_by or self.contesting_claims)


@dataclass(frozen=True)
class Assertion:
    """A triple a claim asserts, in the claim's own named graph."""

    subject: Ref
    predicate: Ref
    object: Ref | None = None  # an IRI object
    literal: str | None = None  # or a literal one


@dataclass(frozen=True)
class Entity:
    iri: str
    label: str
    labels: tuple[str, ...]
    types: tuple[Ref, ...]
    comments: tuple[str, ...]
    aliases: tuple[str, ...]
    outgoing: tuple[PropertyValues, ...]
    incoming: tuple[IncomingLinks, ...]
    claims: tuple[ClaimRef, ...]
    assertions: tuple[Assertion, ...]
    coords: tuple[float, float] | None
    figures: tuple[FigureRow, ...] = ()
    claim: ClaimDetail | None = None

    @property
    def type_names(self) -> frozenset[str]:
        """Local names of its psk classes."""
        return frozenset(t.iri[len(PSK) :] for t in self.types if t.iri.startswith(PSK))

    @property
    def has_incidents(self) -> bool:
        return bool(self.type_names & INCIDENT_CLASSES)

    def values(self, prop: str) -> tuple[Value, ...]:
        return next((g.values for g in self.outgoing if g.property.iri == prop), ())

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ClassCount:
    iri: str
    name: str
    label: str
    count: int


@dataclass(frozen=True)
class ClassPage:
    name: str
    members: tuple[Ref, ...]
    page: int
    more: bool
    total: int = 0  # exact number of instances
    size: int = 200

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))


@dataclass(frozen=True)
class Statistics:
    """What the statistics cube says of an entity: (year, incidents, fatalities) and (event type, incidents, fatalities)."""

    years: tuple[tuple[str, int, int], ...]
    types: tuple[tuple[str, int, int], ...]


@dataclass(frozen=True)
class OntologyTerm:
    name: str
    label: str
    definition: str
    supers: tuple[str, ...]
    matches: tuple[str, ...]
    domain: str
    range: str


@dataclass(frozen=True)
class IncidentRecord:
    """Every coded field of a conflict-data incident: what reproduces the source row, and the IRIs it became.

    ACLED's actor 1/2 and UCDP's side A/B are kept apart as the datasets code them; perpetrator and target only
    where the coding defines a direction. Curated incidents have the fields the article gives.
    """

    incident: str
    dataset: str
    file_name: str
    row_number: int | None
    record: str
    event_id: str
    date: str
    end_date: str
    time_precision: int | None  # ACLED 1-3
    ucdp_date_precision: int | None  # UCDP 1-5
    event_type: str
    event_type_iri: str
    sub_event_type: str
    sub_event_type_iri: str
    actor1: str
    actor1_iri: str
    inter1: str
    assoc_actor_1: str
    assoc_actor_1_iris: str
    actor2: str
    actor2_iri: str
    inter2: str
    assoc_actor_2: str
    assoc_actor_2_iris: str
    side_a: str
    side_a_iri: str
    side_b: str
    side_b_iri: str
    interaction: int | None
    interaction_label: str
    civilian_targeting: bool | None
    perpetrator_iri: str
    target_iri: str
    country: str
    country_iri: str
    admin1: str
    admin1_iri: str
    admin2: str
    admin2_iri: str
    admin3: str
    admin3_iri: str
    location: str
    location_iri: str
    latitude: float | None
    longitude: float | None
    geo_precision: int | None  # ACLED 1-3
    ucdp_where_precision: int | None  # UCDP 1-7
    fatalities: int | None
    fatalities_low: int | None
    fatalities_high: int | None
    deaths_a: int | None
    deaths_b: int | None
    deaths_civilians: int | None
    deaths_unknown: int | None
    source: str
    source_scale: str
    notes: str
    disorder_type: str
    conflict: str
    conflict_iri: str


RECORD_FIELDS = tuple(f.name for f in fields(IncidentRecord))
SIDE_COLUMNS = {"actor-1": ("actor1", "inter1", "assoc_actor_1"), "actor-2": ("actor2", "inter2", "assoc_actor_2")}
UCDP_SIDES = {"side-a": "side_a", "side-b": "side_b"}
SIDE_FIELDS = (
    "actor1", "actor1_iri", "inter1", "assoc_actor_1", "assoc_actor_1_iris",
    "actor2", "actor2_iri", "inter2", "assoc_actor_2", "assoc_actor_2_iris",
    "side_a", "side_a_iri", "side_b", "side_b_iri",
)  # fmt: skip


def _int(term: Any) -> int | None:
    return int(term.value) if term is not None else None


def _float(term: Any) -> float | None:
    return float(term.value) if term is not None else None


# -- the reader -------------------------------------------------------------------------------------------


@dataclass
class Reader:
    """The read side over one backend. Thread-safe; incident lists are cached per dataset version."""

    backend: Backend
    base: Base = field(default_factory=Base)
    incident_cache_rows: int = 100_000

    def __post_init__(self) -> None:
        # incident tables shown (weighed by their rows), per dataset version
        self._incidents: LRUCache[list[IncidentTable | None]] = LRUCache(
            self.incident_cache_rows, lambda t: 1 + (len(t[0].items) if t[0] else 0)
        )
        # entities described, per dataset version (weighed by their statements and incoming links shown)
        self._entities: LRUCache[list[Entity | None]] = LRUCache(self.incident_cache_rows, _entity_weight)
        self._search_index: SearchIndex | None = None

    def incident_records(self, iri: str) -> dict[str, IncidentRecord]:
        """Every coded field of the incidents of a place or actor, by incident IRI (for the downloads)."""
        entity = ox.NamedNode(iri)
        sides: dict[str, dict[str, str]] = {}
        side_names = ("incident", "role", "name", "actor", "actorType", "assocNames", "assocIris")
        for incident, role, name, actor, actor_type, assoc_names, assoc_iris in cols(
            self._select("incident_sides", max_rows=4_000_000, entity=entity), *side_names
        ):
            row = sides.setdefault(incident.value, {})
            slug = role.value.rsplit("/", 1)[-1]
            if slug in SIDE_COLUMNS:
                a, t, assoc = SIDE_COLUMNS[slug]
                row |= {a: name.value, f"{a}_iri": actor.value, t: _value(actor_type), assoc: _value(assoc_names)}
                row[f"{assoc}_iris"] = _value(assoc_iris)
            elif slug in UCDP_SIDES:
                row |= {UCDP_SIDES[slug]: name.value, f"{UCDP_SIDES[slug]}_iri": actor.value}
        names = (
            "incident", "dataset", "file", "row", "record", "eventId", "date", "endDate", "timePrecision", "ucdpDatePrecision",
            "typeLabel", "type", "subTypeLabel", "subType", "interaction", "interactionLabel", "civilianTargeting",
            "perpetrator", "target", "countryLabel", "country", "admin1Label", "admin1", "admin2Label", "admin2",
            "admin3Label", "admin3", "locationLabel", "location", "latitude", "longitude", "geoPrecision",
            "ucdpWherePrecision", "fatalities", "fatalitiesLow", "fatalitiesHigh", "deathsA", "deathsB", "deathsCivilians",
            "deathsUnknown", "source", "sourceScale", "notes", "disorderType", "conflictLabel", "conflict",
        )  # fmt: skip
        out: dict[str, IncidentRecord] = {}
        for r in cols(self._select("incident_records", max_rows=1_000_000, entity=entity), *names):
            v = dict(zip(names, r, strict=True))
            side = sides.get(v["incident"].value, {})
            ct = v["civilianTargeting"]
            interaction = v["interaction"]
            out[v["incident"].value] = IncidentRecord(
                incident=v["incident"].value,
                dataset=_value(v["dataset"]),
                file_name=_value(v["file"]),
                row_number=_int(v["row"]),
                record=_value(v["record"]),
                event_id=_value(v["eventId"]),
                date=_value(v["date"]),
                end_date=_value(v["endDate"]),
                time_precision=_int(v["timePrecision"]),
                ucdp_date_precision=_int(v["ucdpDatePrecision"]),
                event_type=_value(v["typeLabel"]),
                event_type_iri=_value(v["type"]),
                sub_event_type=_value(v["subTypeLabel"]),
                sub_event_type_iri=_value(v["subType"]),
                **{k: side.get(k, "") for k in SIDE_FIELDS},
                interaction=int(interaction.value.rsplit("/", 1)[-1]) if interaction is not None else None,
                interaction_label=_value(v["interactionLabel"]),
                civilian_targeting=(ct.value == "true") if ct is not None else None,
                perpetrator_iri=_value(v["perpetrator"]),
                target_iri=_value(v["target"]),
                country=_value(v["countryLabel"]),
                country_iri=_value(v["country"]),
                admin1=_value(v["admin1Label"]),
                admin1_iri=_value(v["admin1"]),
                admin2=_value(v["admin2Label"]),
                admin2_iri=_value(v["admin2"]),
                admin3=_value(v["admin3Label"]),
                admin3_iri=_value(v["admin3"]),
                location=_value(v["locationLabel"]),
                location_iri=_value(v["location"]),
                latitude=_float(v["latitude"]),
                longitude=_float(v["longitude"]),
                geo_precision=_int(v["geoPrecision"]),
                ucdp_where_precision=_int(v["ucdpWherePrecision"]),
                fatalities=_int(v["fatalities"]),
                fatalities_low=_int(v["fatalitiesLow"]),
                fatalities_high=_int(v["fatalitiesHigh"]),
                deaths_a=_int(v["deathsA"]),
                deaths_b=_int(v["deathsB"]),
                deaths_civilians=_int(v["deathsCivilians"]),
                deaths_unknown=_int(v["deathsUnknown"]),
                source=_value(v["source"]),
                source_scale=_value(v["sourceScale"]),
                notes=_value(v["notes"]),
                disorder_type=_value(v["disorderType"]),
                conflict=_value(v["conflictLabel"]),
                conflict_iri=_value(v["conflict"]),
            )
        return out

    def _select(self, name: str, max_rows: int = 10_000, **bound: ox.NamedNode | ox.Literal) -> Result:
        return self.backend.select(queries.text(name), bound or None, max_rows=max_rows)

    def exists(self, iri: str) -> bool:
        return self._select("entity_exists", entity=ox.NamedNode(iri)).boolean

    def describe(self, iri: str) -> Entity | None:
        """Everything an entity page shows about iri, or None when nothing is known about it; cached per version."""
        key = (self.backend.version(), iri)
        cached = self._entities.get(key)
        if cached is None:
            cached = [self._describe(iri)]
            self._entities.put(key, cached)
        return cached[0]

    def _describe(self, iri: str) -> Entity | None:
        entity = ox.NamedNode(iri)
        labels: list[str] = []
        types: OrderedDict[str, str] = OrderedDict()
        comments: list[str] = []
        aliases: list[str] = []
        summary = self._select("entity_summary", entity=entity)
        for label, typ, type_label, comment, alias, definition in cols(
            summary, "label", "type", "typeLabel", "comment", "alias", "definition"
        ):
            if label is not None and label.value not in labels:
                labels.append(label.value)
            if typ is not None:
                types[typ.value] = label_or_curie(typ.value, type_label)
            if comment is not None:
                comments.append(comment.value)
            if definition is not None:
                comments.append(definition.value)
            if alias is not None:
                aliases.append(alias.value)
        outgoing = self._outgoing(entity)
        incoming = self._incoming(entity)
        if not types and not outgoing and not incoming:
            return None
        coords = None
        lat, lon = _first_literal(outgoing, SCHEMA + "latitude"), _first_literal(outgoing, SCHEMA + "longitude")
        if lat is not None and lon is not None:
            coords = (float(lat), float(lon))
        abouts = self._subevents(entity)  # what its claims and figures may be about
        return Entity(
            iri=iri,
            label=labels[0] if labels else label_or_curie(iri, None),
            labels=tuple(labels),
            types=tuple(Ref(t, tl) for t, tl in types.items()),
            comments=tuple(comments),
            aliases=tuple(aliases),
            outgoing=outgoing,
            incoming=incoming,
            claims=self._claims(abouts),
            assertions=self._assertions(entity) if PSK + "Claim" in types else (),
            coords=coords,
            figures=self._figures(abouts) if PSK + "Incident" in types else (),
            claim=self._claim_detail(entity) if PSK + "Claim" in types else None,
        )

    def _outgoing(self, entity: ox.NamedNode) -> tuple[PropertyValues, ...]:
        provenance: dict[tuple[str, str], list[Provenance]] = defaultdict(list)
        evidence: dict[str, list[tuple[Any, Any, Any]]] = defaultdict(list)
        for st, quote, start, end in cols(
            self._select("entity_statement_evidence", entity=entity), "st", "quote", "start", "end"
        ):
            evidence[st.value].append((quote, start, end))
        keyed = []
        statements = cols(
            self._select("entity_statements", entity=entity), "st", "p", "o", "status", "source", "sourceLabel", "url"
        )
        for st, p, o, status, source, source_label, url in statements:
            for quote, start, end in evidence.get(st.value) or [(None, None, None)]:
                # the order the single query had: ORDER BY STR(?p) ?start STR(?st) STR(?o) STR(?quote), unbound first
                key = (
                    p.value,
                    start is not None,
                    _number(start.value) if start is not None else (0, 0.0, ""),
                    st.value,
                    o.value,
                    _value(quote),
                )
                keyed.append((key, (p, o, status, source, source_label, url, quote, start, end)))
        keyed.sort(key=lambda kv: kv[0])
        for _key, (p, o, status, source, source_label, url, quote, start, end) in keyed:
            provenance[(p.value, o.value)].append(
                Provenance(
                    status.value.rsplit("/", 1)[-1],
                    Ref(source.value, label_or_curie(source.value, source_label)),
                    _value(url),
                    _value(quote),
                    _value(start),
                    _value(end),
                )
            )
        groups: OrderedDict[str, tuple[Ref, list[Value]]] = OrderedDict()
        for p, p_label, o, o_label in cols(self._select("entity_outgoing", entity=entity), "p", "pLabel", "o", "oLabel"):
            if p.value == RDF + "type":
                continue
            _ref, values = groups.setdefault(p.value, (Ref(p.value, label_or_curie(p.value, p_label)), []))
            prov = tuple(provenance.get((p.value, o.value), ()))
            if isinstance(o, ox.Literal):
                datatype = o.datatype.value.rsplit("#", 1)[-1] if not o.language else ""
                values.append(Value(literal=o.value, datatype=datatype, lang=o.language or "", provenance=prov))
            else:
                values.append(Value(iri=o.value, label=label_or_curie(o.value, o_label), provenance=prov))
        return tuple(PropertyValues(ref, tuple(values)) for ref, values in groups.values())

    def _incoming(self, entity: ox.NamedNode) -> tuple[IncomingLinks, ...]:
        # Exact counts from the graph; the sample of a property whose subjects are (all, or at least a sample's worth)
        # incidents comes from the incident table (one indexed lookup) instead of sorting every subject in SPARQL.
        from_table = self._incident_links(entity.value)
        out = []
        for p, p_label, n in cols(self._select("entity_incoming", entity=entity), "p", "pLabel", "n"):
            table_sample = from_table.get(p.value)
            if table_sample is not None and (table_sample[0] == int(n.value) or len(table_sample[1]) >= INCOMING_SAMPLE):
                subjects = table_sample[1]
            else:
                many = self.backend.kind == "embedded" and int(n.value) > INCOMING_SAMPLE
                first = self._first_subjects(entity, p) if many else None
                if first is None:
                    sample = cols(self._select("entity_incoming_sample", entity=entity, p=p), "s", "sLabel")
                    first = tuple(Ref(s.value, label_or_curie(s.value, sl)) for s, sl in sample)
                subjects = first
            out.append(IncomingLinks(Ref(p.value, label_or_curie(p.value, p_label)), int(n.value), subjects))
        return tuple(out)

    def _first_subjects(self, entity: ox.NamedNode, p: ox.NamedNode) -> tuple[Ref, ...] | None:
        """entity_incoming_sample.rq's rows for many subjects on the embedded store: Oxigraph's ORDER BY decodes every
        IRI at each comparison (2 s for 27 000 subjects), so the distinct subjects are sorted here (0.15 s), and the
        sample's labels read one by one. None when a subject is a blank node (they sort first, in no defined order:
        the query's own sample then)."""
        rows = cols(self._select("entity_incoming_subjects", entity=entity, p=p), "subjects", "blanks")
        if not rows or rows[0][0] is None or int(rows[0][1].value):
            return None
        out = []
        for s in sorted(set(rows[0][0].value.split()))[:INCOMING_SAMPLE]:
            labels = cols(self._select("entity_rdfs_labels", entity=ox.NamedNode(s)), "label")
            out.append(Ref(s, min(label.value for (label,) in labels) if labels else label_or_curie(s, None)))
        return tuple(out)

    def _incident_links(self, iri: str) -> dict[str, tuple[int, tuple[Ref, ...]]]:
        """Per predicate: how many incidents link to iri through it, and the first 25 of them (by IRI) with labels."""
        table = self.backend.table()
        out: dict[str, tuple[int, tuple[Ref, ...]]] = {}
        counts = table.rows(
            f"SELECT predicate, count(DISTINCT incident) FROM links WHERE {of_entity('e')} AND predicate IS NOT NULL"
            " GROUP BY predicate",
            {"e": iri},
        )
        for predicate, n in counts:
            rows = table.rows(
                "SELECT DISTINCT l.incident, i.label FROM links l JOIN incidents i USING (id)"
                f" WHERE {of_entity('e', 'l')} AND l.predicate = $p ORDER BY l.incident LIMIT {INCOMING_SAMPLE}",
                {"e": iri, "p": predicate},
            )
            out[predicate] = (n, tuple(Ref(s, label or label_or_curie(s, None)) for s, label in rows))
        return out

    def _subevents(self, entity: ox.NamedNode) -> list[ox.NamedNode]:
        """The entity and its sub-events at any depth: claims and figures about an incident include theirs."""
        rows = cols(self._select("entity_subevents", entity=entity), "about")
        return sorted((a for (a,) in rows if isinstance(a, ox.NamedNode)), key=lambda a: a.value)

    def _claims(self, abouts: list[ox.NamedNode]) -> tuple[ClaimRef, ...]:
        """Claims about an entity or (for an incident) any of its sub-events (abouts: _subevents); one per claim, with
        what it is about.

        Two queries (the claims, then their speakers, stances and quotes), merged here into what one query with
        OPTIONALs gave: per claim its first quote by offset, its least graph, speaker and stance (by string); claims
        ordered by their first quote's offset (a claim without one first), then IRI.
        """
        names = (
            "claim", "label", "status", "statusLabel", "typeLabel", "graph", "source", "sourceLabel", "about",
            "aboutLabel", "disputed",
        )  # fmt: skip
        speakers: dict[str, set[str]] = defaultdict(set)
        stances: dict[str, set[str]] = defaultdict(set)
        quotes: dict[str, set[tuple[tuple[int, float, str], str, str, str]]] = defaultdict(set)
        details = [
            row
            for about in abouts
            for row in cols(self._select("entity_claim_details", about=about), "claim", "speakerLabel", "stanceLabel", "quote", "start", "end")
        ]  # fmt: skip
        for claim, speaker, stance, quote, start, end in details:
            if speaker is not None:
                speakers[claim.value].add(speaker.value)
            elif stance is not None:
                stances[claim.value].add(stance.value)
            elif quote is not None:
                quotes[claim.value].add((_number(start.value), quote.value, start.value, end.value))
        found: dict[str, dict[str, Any]] = {}
        rows = [row for about in abouts for row in cols(self._select("entity_claims", about=about), *names)]
        for claim, label, status, status_label, type_label, graph, source, source_label, about, about_label, disputed in sorted(
            rows, key=lambda row: tuple("" if t is None else t.value for t in row)
        ):
            item = found.get(claim.value)
            if item is None:
                first = min(quotes.get(claim.value, ()), default=None)
                item = found[claim.value] = {
                    "iri": claim.value,
                    "label": label.value,
                    "status": status.value.rsplit("/", 1)[-1],
                    "status_label": _value(status_label),
                    "type_label": _value(type_label),
                    "quote": first[1] if first else "",
                    "start": first[2] if first else "",
                    "end": first[3] if first else "",
                    "graph": _value(graph),
                    "source": Ref(source.value, label_or_curie(source.value, source_label)),
                    "speaker": min(speakers.get(claim.value, ()), default=""),
                    "stance": min(stances.get(claim.value, ()), default=""),
                    "disputed": disputed is not None and disputed.value in ("true", "1"),  # Virtuoso: 1
                    "about": [],
                    "order": (first is not None, first[0] if first else (0, 0.0, ""), claim.value),
                }
            ref = Ref(about.value, label_or_curie(about.value, about_label))
            if ref not in item["about"]:
                item["about"].append(ref)
        ordered = sorted(found.values(), key=lambda d: d["order"])
        return tuple(
            ClaimRef(**{k: v for k, v in d.items() if k not in ("order", "about")}, about=tuple(d["about"])) for d in ordered
        )

    def _figures(self, abouts: list[ox.NamedNode]) -> tuple[FigureRow, ...]:
        """The figures sources report for an incident or its sub-events (abouts: _subevents), side by side (never
        merged).

        Ordered by kind, date, value, minimum and IRI (an unbound value first), as one query with ORDER BY gave.
        """
        names = (
            "figure", "label", "kind", "value", "minValue", "qualifier", "reportedAs", "date", "aboutLabel",
            "report", "reportLabel", "publisher", "url",
        )  # fmt: skip
        people: dict[tuple[str, str], list[Ref]] = defaultdict(list)
        for about in abouts:
            for figure, role, who, who_label in cols(
                self._select("entity_figure_speakers", about=about), "figure", "role", "who", "whoLabel"
            ):
                if (ref := Ref(who.value, label_or_curie(who.value, who_label))) not in people[(figure.value, role.value)]:
                    people[(figure.value, role.value)].append(ref)
        rows = [(about, row) for about in abouts for row in cols(self._select("entity_figures", about=about), *names)]
        found: dict[str, dict[str, Any]] = {}
        for about, row in sorted(rows, key=lambda ar: (_figure_key(ar[1]), ar[0].value, tuple(_value(t) for t in ar[1]))):
            figure, label, kind, value, min_value, qualifier, reported_as, date, about_label = row[:9]
            report, report_label, publisher, url = row[9:]
            item = found.setdefault(
                figure.value,
                {
                    "iri": figure.value,
                    "label": label.value,
                    "kind": kind.value,
                    "value": _value(value),
                    "min_value": _value(min_value),
                    "qualifier": qualifier.value,
                    "reported_as": reported_as.value,
                    "date": _value(date),
                    "about": Ref(about.value, label_or_curie(about.value, about_label)),
                    "stated_by": people.get((figure.value, "stated_by"), []),
                    "relayed_by": people.get((figure.value, "relayed_by"), []),
                    "reported_in": [],
                },
            )
            link = SourceLink(report.value, label_or_curie(report.value, report_label), _value(publisher), _value(url))
            if link not in item["reported_in"]:
                item["reported_in"].append(link)
        return tuple(
            FigureRow(**{**d, **{k: tuple(sorted(d[k], key=_label_key)) for k in ("stated_by", "relayed_by", "reported_in")}})
            for d in found.values()
        )

    def _claim_detail(self, claim: ox.NamedNode) -> ClaimDetail:
        names = (
            "speaker", "speakerLabel", "stanceLabel", "hedge", "certaintyLabel", "proposition", "propositionLabel",
            "quote", "start", "end", "statusLabel",
        )  # fmt: skip
        rows = cols(self._select("claim_detail", claim=claim), *names)
        speakers: list[Ref] = []
        for row in rows:
            if row[0] is not None and (ref := Ref(row[0].value, label_or_curie(row[0].value, row[1]))) not in speakers:
                speakers.append(ref)
        first = rows[0] if rows else (None,) * len(names)
        _sp, _spl, stance, hedge, certainty, proposition, proposition_label, quote, start, end, status = first
        links: dict[str, list[SourceLink]] = defaultdict(list)
        supported: list[Ref] = []
        contesting: list[ContestingClaim] = []
        for kind, x, x_label, publisher, url, speaker, x_stance in cols(
            self._select("claim_sources", claim=claim), "kind", "x", "xLabel", "publisher", "url", "speakerLabel", "stanceLabel"
        ):
            label = label_or_curie(x.value, x_label)
            if kind.value == "contesting-claim":
                contesting.append(ContestingClaim(x.value, label, _value(speaker), _value(x_stance)))
            elif kind.value == "supported-by":
                supported.append(Ref(x.value, label))
            else:
                links[kind.value].append(SourceLink(x.value, label, _value(publisher), _value(url)))
        return ClaimDetail(
            speaker=tuple(speakers),
            stance=_value(stance),
            status=_value(status),
            hedge=_value(hedge),
            certainty=_value(certainty),
            proposition=Ref(proposition.value, label_or_curie(proposition.value, proposition_label)) if proposition else None,
            quote=_value(quote),
            start=_value(start),
            end=_value(end),
            reported_in=tuple(links["reported-in"]),
            contested_by=tuple(links["contested-by"]),
            supported_by=tuple(supported),
            contesting_claims=tuple(contesting),
        )

    def _assertions(self, claim: ox.NamedNode) -> tuple[Assertion, ...]:
        out = []
        for s, s_label, p, p_label, o, o_label in cols(
            self._select("claim_assertions", claim=claim), "s", "sLabel", "p", "pLabel", "o", "oLabel"
        ):
            subject, predicate = Ref(s.value, label_or_curie(s.value, s_label)), Ref(p.value, label_or_curie(p.value, p_label))
            if isinstance(o, ox.Literal):
                out.append(Assertion(subject, predicate, literal=o.value))
            else:
                out.append(Assertion(subject, predicate, Ref(o.value, label_or_curie(o.value, o_label))))
        return tuple(out)

    # -- incidents (from the derived incident table, kg/tables.py) -----------------------------------------

    def incidents(self, iri: str, flt: IncidentFilter | None = None, sort: str = "date") -> list[Incident]:
        """Every incident of a place or actor under the filters (the csv/json twins), in the page's order."""
        return incident_rows(self.backend.table(), iri, flt or IncidentFilter(), sort)

    def incident_table(
        self, iri: str, flt: IncidentFilter | None = None, page: int = 1, sort: str = "date", size: int = PAGE_SIZE
    ) -> IncidentTable | None:
        """One page of an entity's incident table with exact totals, the monthly series and the filter options with
        counts (None when it has no incidents); cached per dataset version."""
        flt = flt or IncidentFilter()
        key = (self.backend.version(), iri, flt, page, sort, size)
        cached = self._incidents.get(key)
        if cached is None:
            table = table_page(self.backend.table(), iri, flt, page, sort, size)
            cached = [table]
            self._incidents.put(key, cached)
        return cached[0]

    def incident_query(self, iri: str, flt: IncidentFilter | None = None, sort: str = "date") -> str:
        """The SPARQL query listing exactly the rows of this incident view, for a researcher to run and edit."""
        return incident_sparql(self.backend.table(), iri, flt or IncidentFilter(), sort)

    def statistics(self, iri: str) -> Statistics | None:
        """An entity's incidents and fatalities per year (and event type, for places) from the statistics cube;
        cached per dataset version."""
        key = ("statistics", self.backend.version(), iri)
        cached = self._entities.get(key)
        if cached is None:
            cached = [self._statistics(iri)]  # type: ignore[list-item]
            self._entities.put(key, cached)
        return cached[0]  # type: ignore[return-value]

    def _statistics(self, iri: str) -> Statistics | None:
        # The incident table the cube is generated from, grouped the cube's way (its observations for this entity,
        # summed): SPARQL over the statistics graph gives the same numbers (statistics_query) but costs more per view.
        table = self.backend.table()
        base = "FROM incidents i WHERE i.month IS NOT NULL"
        area = table.rows(
            "SELECT CAST(year AS VARCHAR), event_type, any_value(event_type_label), count(*), coalesce(sum(fatalities), 0)"
            f" {base} AND i.event_type IS NOT NULL AND (i.province = $e OR i.district = $e) GROUP BY ALL ORDER BY ALL",
            {"e": iri},
        )
        rows = area or table.rows(
            "SELECT CAST(year AS VARCHAR), NULL, NULL, count(*), coalesce(sum(fatalities), 0)"
            f" {base} AND i.id IN (SELECT id FROM links WHERE {of_entity('e')} AND kind = 'actor') GROUP BY ALL ORDER BY ALL",
            {"e": iri},
        )
        if not rows:
            return None
        years: dict[str, list[int]] = {}
        types: dict[str, list[Any]] = {}
        for year, typ, type_label, n, f in rows:
            y = years.setdefault(year, [0, 0])
            y[0] += int(n)
            y[1] += int(f)
            if typ is not None:
                t = types.setdefault(typ, [type_label or label_or_curie(typ, None), 0, 0])
                t[1] += int(n)
                t[2] += int(f)
        return Statistics(
            tuple((y, v[0], v[1]) for y, v in sorted(years.items())),
            tuple(sorted(((t[0], t[1], t[2]) for t in types.values()), key=lambda t: (-t[1], t[0]))),
        )

    def statistics_query(self, iri: str) -> str:
        """The cube query behind statistics(), for a researcher to run: the entity given as a VALUES row."""
        text = queries.text("entity_statistics")
        return text.replace("WHERE {", f"WHERE {{\n  VALUES ?entity {{ {ox.NamedNode(iri)} }}", 1)

    # -- documents, listings, search -------------------------------------------------------------------

    def data_document(self, iri: str) -> list[ox.Triple]:
        """The entity's outgoing and incoming triples plus labels of linked entities."""
        # sorted: a CONSTRUCT's order is the backend's own, the document is the same on every backend
        return sorted(self._select("entity_data", max_rows=50_000, entity=ox.NamedNode(iri)).triples, key=str)

    def void(self) -> list[ox.Triple]:
        return sorted(self._select("dataset_void", dataset=ox.NamedNode(self.base.dataset)).triples, key=str)

    def class_counts(self) -> list[ClassCount]:
        """Instances per psk: class, exact, from the incident table's class counts (written with the version)."""
        rows = self.backend.table().rows("SELECT class, label, n FROM classes ORDER BY n DESC, class")
        return [ClassCount(c, c[len(PSK) :], label or label_or_curie(c, None), int(n)) for c, label, n in rows]

    def class_page(self, name: str, page: int = 1, size: int = 200) -> ClassPage:
        """One page of a class's members: incidents from the table (by label), small classes sorted by label, large
        ones in index order (exact totals either way)."""
        table = self.backend.table()
        found = table.rows("SELECT n FROM classes WHERE class = ?", [PSK + name])
        total = int(found[0][0]) if found else 0
        offset = (page - 1) * size
        if name == "Incident":
            rows = table.rows("SELECT incident, label FROM incidents ORDER BY label, incident LIMIT ? OFFSET ?", [size, offset])
            members = tuple(Ref(s, label or label_or_curie(s, None)) for s, label in rows)
        elif total <= CLASS_SORT_LIMIT:
            rows = cols(
                self._select("class_members", max_rows=page * size + 1, **{"class": ox.NamedNode(PSK + name)}), "s", "label"
            )
            members = tuple(Ref(s.value, label_or_curie(s.value, label)) for s, label in rows[offset : page * size])
        else:
            subjects = cols(
                self._select("class_members_indexed", max_rows=page * size, **{"class": ox.NamedNode(PSK + name)}), "s"
            )
            members = tuple(Ref(s.value, self._label(s)) for (s,) in subjects[offset:])
        return ClassPage(name, members, page, offset + len(members) < total, total, size)

    def _label(self, entity: ox.NamedNode) -> str:
        rows = cols(self._select("entity_label", entity=entity), "label")
        return label_or_curie(entity.value, rows[0][0] if rows else None)

    def search(self, text: str, limit: int = 20) -> list[SearchHit]:
        """The best matches of a label and alias search (the first page of search_page)."""
        return list(self.search_page(text, size=limit).hits)

    def search_page(self, text: str, type_filter: str = "", page: int = 1, size: int = 20) -> SearchResults:
        """Full-text search (kg/search.py: the version's FTS5 index): ranked hits, exact total, type facets, paging."""
        table = self.backend.table()  # the index is written with the version's incident table, beside it
        path = table.path.parent / SEARCH_FILE
        index = self._search_index
        if index is None or index.path != path:
            index = self._search_index = SearchIndex(path)
        return index.search(text, type_filter, page, size)


def _entity_weight(item: list[Entity | None]) -> int:
    e = item[0]
    if not isinstance(e, Entity):
        return 1
    return 1 + sum(len(g.values) for g in e.outgoing) + sum(len(g.subjects) for g in e.incoming) + len(e.claims)


def _number(text: str) -> tuple[int, float, str]:
    """A sort key for a literal ORDER BY compares as a number: numbers by value, then anything else by its text
    (data that passed the shapes has numbers here; a stray one sorts last instead of failing the page)."""
    try:
        return (0, float(text), "")
    except ValueError:
        return (1, 0.0, text)


def _figure_key(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """SPARQL's ORDER BY ?kind ?date ?value ?minValue ?figure for a row of entity_figures.rq (unbound first)."""
    figure, _label, kind, value, min_value, _q, _r, date = row[:8]

    def term(t: Any, number: bool = False) -> tuple[bool, Any]:
        return (False, 0) if t is None else (True, _number(t.value) if number else t.value)

    return (term(kind), term(date), term(value, True), term(min_value, True), figure.value)


def _label_key(item: Ref | SourceLink) -> tuple[str, str]:
    return (getattr(item, "publisher", "") or item.label, item.iri)


def _first_literal(groups: tuple[PropertyValues, ...], prop: str) -> str | None:
    for g in groups:
        if g.property.iri == prop:
            return next((v.literal for v in g.values if v.literal is not None), None)
    return None


def ontology_terms(store: ox.Store) -> dict[str, list[OntologyTerm]]:
    """The ontology's classes and properties by section, for its documentation page."""
    out: dict[str, list[OntologyTerm]] = {"Classes": [], "Object properties": [], "Datatype properties": []}
    section = {"Class": "Classes", "ObjectProperty": "Object properties", "DatatypeProperty": "Datatype properties"}
    solutions = store.query(queries.text("ontology_terms"), prefixes=PREFIXES)
    assert isinstance(solutions, ox.QuerySolutions)
    for row in solutions:
        out[section[row["kind"].value.rsplit("#", 1)[-1]]].append(
            OntologyTerm(
                name=row["t"].value.rsplit("#", 1)[-1],
                label=row["label"].value,
                definition=_value(row["def"]),
                supers=tuple(s for s in _value(row["sups"]).split() if s),
                matches=tuple(m for m in _value(row["matches"]).split() if m),
                domain=_value(row["domain"]),
                range=_value(row["range"]),
            )
        )
    return out
