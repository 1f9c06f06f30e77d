"""kg's read side: what an entity page, a class listing, a search or an incident table shows, as typed dataclasses.

The web app renders these (server/linked_data.py maps URLs to these calls) and `kg describe` prints them; both get the
same model from the same queries (kg/queries/*.rq, IRIs bound as parameters). A Reader works over any backend
(embedded store or remote SPARQL server) and caches incident lists per dataset version.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, OrderedDict, defaultdict
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import pyoxigraph as ox

from . import queries
from .backend import Backend
from .cache import LRUCache
from .errors import KGError
from .namespaces import PREFIXES, PSK, RDF, SCHEMA, Base
from .sparql import Result

# Classes whose pages list incidents (as place, province, or actor in a role).
INCIDENT_CLASSES = frozenset(
    {
        "Province",
        "ArmedGroup",
        "City",
        "District",
        "GeographicRegion",
        "State",
        "StateSecurityForce",
        "Organization",
        "Actor",
        "Community",
        "Government",
    }
)
INCIDENT_PAGE_ROWS = 500  # incidents shown on an entity page (the csv/json twins have them all)


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
class Incident:
    iri: str
    label: str
    date: str
    types: tuple[str, ...]
    place: str
    place_label: str
    fatalities: int | None
    roles: tuple[str, ...]


FILTER_KEYS = ("from", "to", "type", "place")


@dataclass(frozen=True)
class IncidentFilter:
    """The filters of an incident table (dates as YYYY-MM-DD; empty means no filter)."""

    start: str = ""
    end: str = ""
    type: str = ""
    place: str = ""

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> IncidentFilter:
        """From request arguments (from, to, type, place); a date that is not YYYY-MM-DD is an error naming it."""
        start, end = args.get("from", "").strip(), args.get("to", "").strip()
        for name, value in (("from", start), ("to", end)):
            if value:
                try:
                    dt.date.fromisoformat(value)
                except ValueError:
                    raise InvalidFilter(f"{name}={value!r} is not a date (YYYY-MM-DD)") from None
        return cls(start, end, args.get("type", "").strip(), args.get("place", "").strip())

    def as_args(self) -> dict[str, str]:
        """The non-empty filters as request arguments."""
        pairs = zip(FILTER_KEYS, (self.start, self.end, self.type, self.place), strict=True)
        return {k: v for k, v in pairs if v}

    def apply(self, items: list[Incident]) -> list[Incident]:
        out = []
        for it in items:
            if self.start and (not it.date or it.date < self.start):
                continue
            if self.end and (not it.date or it.date > self.end):
                continue
            if self.type and self.type not in it.types:
                continue
            if self.place and self.place != it.place_label:
                continue
            out.append(it)
        return out


class InvalidFilter(KGError):
    status = 400


@dataclass(frozen=True)
class IncidentTable:
    """What an entity page shows of its incidents: a page of the filtered rows, totals, the series and filter options."""

    items: tuple[Incident, ...]
    total: int  # after filtering
    all_total: int
    series: tuple[tuple[str, int], ...]
    types: tuple[str, ...]
    places: tuple[str, ...]
    filter: IncidentFilter


def monthly_series(items: list[Incident]) -> list[tuple[str, int]]:
    """Incidents per month (YYYY-MM), gaps filled, for the time-series chart (at most 600 months)."""
    counts = Counter(it.date[:7] for it in items if it.date)
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


@dataclass(frozen=True)
class SearchHit:
    iri: str
    label: str
    type: str  # local name of its psk class, "" if none


@dataclass(frozen=True)
class OntologyTerm:
    name: str
    label: str
    definition: str
    supers: tuple[str, ...]
    matches: tuple[str, ...]
    domain: str
    range: str


# -- the reader -------------------------------------------------------------------------------------------


@dataclass
class Reader:
    """The read side over one backend. Thread-safe; incident lists are cached per dataset version."""

    backend: Backend
    base: Base = field(default_factory=Base)
    incident_cache_rows: int = 100_000

    def __post_init__(self) -> None:
        self._incidents: LRUCache[list[Incident]] = LRUCache(self.incident_cache_rows, len)

    def _select(self, name: str, max_rows: int = 10_000, **bound: ox.NamedNode | ox.Literal) -> Result:
        return self.backend.select(queries.text(name), bound or None, max_rows=max_rows)

    def exists(self, iri: str) -> bool:
        return self._select("entity_exists", entity=ox.NamedNode(iri)).boolean

    def describe(self, iri: str) -> Entity | None:
        """Everything an entity page shows about iri, or None when nothing is known about it."""
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
        return Entity(
            iri=iri,
            label=labels[0] if labels else label_or_curie(iri, None),
            labels=tuple(labels),
            types=tuple(Ref(t, tl) for t, tl in types.items()),
            comments=tuple(comments),
            aliases=tuple(aliases),
            outgoing=outgoing,
            incoming=incoming,
            claims=self._claims(entity),
            assertions=self._assertions(entity) if PSK + "Claim" in types else (),
            coords=coords,
            figures=self._figures(entity) if PSK + "Incident" in types else (),
            claim=self._claim_detail(entity) if PSK + "Claim" in types else None,
        )

    def _outgoing(self, entity: ox.NamedNode) -> tuple[PropertyValues, ...]:
        provenance: dict[tuple[str, str], list[Provenance]] = defaultdict(list)
        rows = cols(
            self._select("entity_statements", entity=entity),
            *("p", "o", "status", "source", "sourceLabel", "url", "quote", "start", "end"),
        )
        for p, o, status, source, source_label, url, quote, start, end in rows:
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
        out = []
        for p, p_label, n in cols(self._select("entity_incoming", entity=entity), "p", "pLabel", "n"):
            sample = cols(self._select("entity_incoming_sample", entity=entity, p=p), "s", "sLabel")
            subjects = tuple(Ref(s.value, label_or_curie(s.value, sl)) for s, sl in sample)
            out.append(IncomingLinks(Ref(p.value, label_or_curie(p.value, p_label)), int(n.value), subjects))
        return tuple(out)

    def _claims(self, entity: ox.NamedNode) -> tuple[ClaimRef, ...]:
        """Claims about the entity or (for an incident) any of its sub-events; one per claim, with what it is about."""
        names = (
            "claim", "label", "status", "statusLabel", "typeLabel", "quote", "start", "end", "graph", "source",
            "sourceLabel", "about", "aboutLabel", "speakerLabel", "stanceLabel", "disputed",
        )  # fmt: skip
        found: OrderedDict[str, dict[str, Any]] = OrderedDict()
        for row in cols(self._select("entity_claims", entity=entity), *names):
            claim, label, status, status_label, type_label, quote, start, end, graph, source, source_label = row[:11]
            about, about_label, speaker, stance, disputed = row[11:]
            item = found.setdefault(
                claim.value,
                {
                    "iri": claim.value,
                    "label": label.value,
                    "status": status.value.rsplit("/", 1)[-1],
                    "status_label": _value(status_label),
                    "type_label": _value(type_label),
                    "quote": _value(quote),
                    "start": _value(start),
                    "end": _value(end),
                    "graph": _value(graph),
                    "source": Ref(source.value, label_or_curie(source.value, source_label)),
                    "speaker": _value(speaker),
                    "stance": _value(stance),
                    "disputed": disputed is not None and disputed.value in ("true", "1"),  # Virtuoso: 1
                    "about": [],
                },
            )
            ref = Ref(about.value, label_or_curie(about.value, about_label))
            if ref not in item["about"]:
                item["about"].append(ref)
        return tuple(ClaimRef(**{**d, "about": tuple(d["about"])}) for d in found.values())

    def _figures(self, incident: ox.NamedNode) -> tuple[FigureRow, ...]:
        """The figures sources report for the incident or its sub-events, side by side (never merged)."""
        names = (
            "figure", "label", "kind", "value", "minValue", "qualifier", "reportedAs", "date", "about", "aboutLabel",
            "who", "whoLabel", "relay", "relayLabel", "report", "reportLabel", "publisher", "url",
        )  # fmt: skip
        found: OrderedDict[str, dict[str, Any]] = OrderedDict()
        for row in cols(self._select("entity_figures", entity=incident), *names):
            figure, label, kind, value, min_value, qualifier, reported_as, date, about, about_label = row[:10]
            who, who_label, relay, relay_label, report, report_label, publisher, url = row[10:]
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
                    "stated_by": [],
                    "relayed_by": [],
                    "reported_in": [],
                },
            )
            for key, term, term_label in (("stated_by", who, who_label), ("relayed_by", relay, relay_label)):
                if term is not None and (ref := Ref(term.value, label_or_curie(term.value, term_label))) not in item[key]:
                    item[key].append(ref)
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

    # -- incidents -------------------------------------------------------------------------------------

    def incidents(self, iri: str) -> list[Incident]:
        """The incidents of a place or actor, by date; cached per dataset version (filters and twins re-use it)."""
        key = (self.backend.version(), iri)
        cached = self._incidents.get(key)
        if cached is None:
            cached = self._load_incidents(iri)
            self._incidents.put(key, cached)
        return cached

    def _load_incidents(self, iri: str) -> list[Incident]:
        names = ("incident", "label", "date", "typeLabel", "place", "placeLabel", "fatalities", "role")
        rows = cols(self._select("entity_incidents", max_rows=1_000_000, entity=ox.NamedNode(iri)), *names)
        seen: dict[str, dict[str, Any]] = {}
        for incident, label, date, type_label, place, place_label, fatalities, role in rows:
            item = seen.setdefault(
                incident.value,
                {
                    "iri": incident.value,
                    "label": label.value,
                    "date": _value(date),
                    "types": [],
                    "place": _value(place),
                    "place_label": _value(place_label),
                    "fatalities": int(fatalities.value) if fatalities is not None else None,
                    "roles": [],
                },
            )
            if type_label is not None and type_label.value not in item["types"]:
                item["types"].append(type_label.value)
            if role.value not in item["roles"]:
                item["roles"].append(role.value)
        items = [Incident(**{**d, "types": tuple(d["types"]), "roles": tuple(d["roles"])}) for d in seen.values()]
        return sorted(items, key=lambda r: (r.date, r.iri))

    def incident_table(self, iri: str, flt: IncidentFilter, page_rows: int = INCIDENT_PAGE_ROWS) -> IncidentTable | None:
        """The incident table of an entity page (None when it has no incidents)."""
        all_items = self.incidents(iri)
        if not all_items:
            return None
        items = flt.apply(all_items)
        return IncidentTable(
            items=tuple(items[:page_rows]),
            total=len(items),
            all_total=len(all_items),
            series=tuple(monthly_series(items)),
            types=tuple(sorted({t for it in all_items for t in it.types})),
            places=tuple(sorted({it.place_label for it in all_items if it.place_label})),
            filter=flt,
        )

    def incident_query(self, iri: str) -> str:
        """The incident query for a researcher to run and edit: the entity given as a VALUES row."""
        text = queries.text("entity_incidents")
        return text.replace("WHERE {", f"WHERE {{\n  VALUES ?entity {{ {ox.NamedNode(iri)} }}", 1)

    # -- documents, listings, search -------------------------------------------------------------------

    def data_document(self, iri: str) -> list[ox.Triple]:
        """The entity's outgoing and incoming triples plus labels of linked entities."""
        # sorted: a CONSTRUCT's order is the backend's own, the document is the same on every backend
        return sorted(self._select("entity_data", max_rows=50_000, entity=ox.NamedNode(iri)).triples, key=str)

    def void(self) -> list[ox.Triple]:
        return sorted(self._select("dataset_void", dataset=ox.NamedNode(self.base.dataset)).triples, key=str)

    def class_counts(self) -> list[ClassCount]:
        rows = cols(self._select("class_counts"), "class", "label", "n")
        return [ClassCount(c.value, c.value[len(PSK) :], label_or_curie(c.value, label), int(n.value)) for c, label, n in rows]

    def class_page(self, name: str, page: int = 1, size: int = 200) -> ClassPage:
        rows = cols(self._select("class_members", max_rows=page * size + 1, **{"class": ox.NamedNode(PSK + name)}), "s", "label")
        members = tuple(Ref(s.value, label_or_curie(s.value, label)) for s, label in rows[(page - 1) * size : page * size])
        return ClassPage(name, members, page, len(rows) > page * size)

    def search(self, text: str, limit: int = 20) -> list[SearchHit]:
        text = text.strip().lower()
        if len(text) < 2:
            return []
        rows = cols(self._select("search", max_rows=limit, q=ox.Literal(text[:100])), "s", "label", "type")
        return [
            SearchHit(s.value, label_or_curie(s.value, label), typ.value[len(PSK) :] if typ is not None else "")
            for s, label, typ in rows
        ]


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
