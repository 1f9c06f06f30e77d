"""The VoID description of the dataset: counts, class and property partitions; recounted or carried forward."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

import pyoxigraph as ox

from . import __version__
from .namespaces import DCTERMS, PSK, RDF, VOID, XSD, Base
from .sparql.execute import solutions, value


def _count(store: ox.Store, query: str) -> int:
    return int(value(next(iter(solutions(store.query(query))))["n"]))


@dataclass
class VoidStats:
    """What the VoID description states; computed by a full scan, or carried forward by a load."""

    triples: int
    entities: int
    named_graph_triples: int
    properties: set[str]
    classes: set[str]

    @classmethod
    def scan(cls, store: ox.Store) -> VoidStats:
        named = sum(1 for g in store.named_graphs() for _ in store.quads_for_pattern(None, None, None, g))
        return cls(
            triples=len(store) - named,
            entities=_count(store, "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a ?type }"),
            named_graph_triples=named,
            properties={value(r["p"]) for r in solutions(store.query("SELECT DISTINCT ?p WHERE { ?s ?p ?o }"))},
            classes={value(r["c"]) for r in solutions(store.query("SELECT DISTINCT ?c WHERE { ?s a ?c }"))},
        )

    @classmethod
    def read(cls, base: Base, store: ox.Store) -> VoidStats | None:
        """The stats of the current description, or None if there is none (or it predates partitions)."""
        desc = _description(base, store)
        values = {q.predicate.value: value(q.object) for q in desc if value(q.subject) == base.dataset}
        props = {value(q.object) for q in desc if q.predicate.value == VOID + "property"}
        classes = {value(q.object) for q in desc if q.predicate.value == VOID + "class"}
        if not props or not classes or VOID + "triples" not in values:
            return None
        return cls(
            int(values[VOID + "triples"]),
            int(values[VOID + "entities"]),
            int(values.get(PSK + "namedGraphTriples", 0)),
            props,
            classes,
        )


def void_quads(base: Base, stats: VoidStats) -> list[ox.Quad]:
    """The VoID description of the dataset (its counts exclude the description itself)."""
    ds = ox.NamedNode(base.dataset)
    n = ox.NamedNode

    def integer(value: int) -> ox.Literal:
        return ox.Literal(str(value), datatype=n(XSD + "integer"))

    now = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    quads = [
        ox.Quad(ds, n(RDF + "type"), n(VOID + "Dataset")),
        ox.Quad(ds, n(DCTERMS + "title"), ox.Literal("Pakistan Security Knowledge Graph", language="en")),
        ox.Quad(ds, n(DCTERMS + "license"), n("https://creativecommons.org/licenses/by/4.0/")),
        ox.Quad(ds, n(DCTERMS + "modified"), ox.Literal(now, datatype=n(XSD + "dateTime"))),
        ox.Quad(ds, n(VOID + "uriSpace"), ox.Literal(base.entity(""))),
        ox.Quad(ds, n(VOID + "vocabulary"), n(PSK.rstrip("#"))),
        ox.Quad(ds, n(PSK + "softwareVersion"), ox.Literal(__version__)),
        ox.Quad(ds, n(PSK + "namedGraphTriples"), integer(stats.named_graph_triples)),
        ox.Quad(ds, n(VOID + "triples"), integer(stats.triples)),
        ox.Quad(ds, n(VOID + "entities"), integer(stats.entities)),
        ox.Quad(ds, n(VOID + "classes"), integer(len(stats.classes))),
        ox.Quad(ds, n(VOID + "properties"), integer(len(stats.properties))),
    ]
    for kind, predicate, terms in (
        ("property", "propertyPartition", stats.properties),
        ("class", "classPartition", stats.classes),
    ):
        for term in sorted(terms):
            part = n(f"{base.dataset}/{kind}/{hashlib.sha1(term.encode()).hexdigest()[:12]}")
            quads.append(ox.Quad(ds, n(VOID + predicate), part))
            quads.append(ox.Quad(part, n(VOID + kind), n(term)))
    return quads


def _description(base: Base, store: ox.Store) -> list[ox.Quad]:
    """The current VoID description: the dataset node and its property and class partitions."""
    ds = ox.NamedNode(base.dataset)
    out = list(store.quads_for_pattern(ds, None, None, ox.DefaultGraph()))
    for q in list(out):
        if q.predicate.value in (VOID + "propertyPartition", VOID + "classPartition"):
            if isinstance(q.object, ox.NamedNode | ox.BlankNode):
                out.extend(store.quads_for_pattern(q.object, None, None, ox.DefaultGraph()))
    return out


@dataclass
class LoadDelta:
    """What a load into a store without earlier loaded events added: every triple and typed subject is new."""

    triples: int
    entities: int
    predicates: list[str]
    classes: list[str]


def refresh_void(base: Base, store: ox.Store, delta: LoadDelta | None = None) -> None:
    """Rewrite the VoID description: by a full scan, or (after a load that only added) from the previous
    description plus the load's delta, which costs index lookups instead of scans."""
    previous = VoidStats.read(base, store) if delta is not None else None
    for q in _description(base, store):
        store.remove(q)
    if delta is None or previous is None:
        stats = VoidStats.scan(store)
    else:

        def present(pred: str | None, obj: str | None) -> bool:
            p = ox.NamedNode(pred) if pred else None
            o = ox.NamedNode(obj) if obj else None
            return next(store.quads_for_pattern(None, p, o, ox.DefaultGraph()), None) is not None

        stats = VoidStats(
            triples=previous.triples + delta.triples,
            entities=previous.entities + delta.entities,
            named_graph_triples=previous.named_graph_triples,
            properties=previous.properties | {p for p in delta.predicates if present(p, None)},
            classes=previous.classes | {c for c in delta.classes if present(RDF + "type", c)},
        )
    store.extend(void_quads(base, stats))
