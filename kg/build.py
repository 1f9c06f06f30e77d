"""Build the knowledge graph from the seeds into a store: assemble, validate, publish atomically."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable

import pyoxigraph as ox

from . import __version__
from .curated import seed_quads
from .namespaces import DCTERMS, PSK, RDF, VOID, XSD, Base
from .ontology import ontology_quads
from .store import LocalStore
from .validate import check

Progress = Callable[[str], None]


def assemble(base: Base) -> list[ox.Quad]:
    """Ontology, vocabularies, article and curated records, as quads."""
    return ontology_quads() + seed_quads(base)


def _count(store: ox.Store, query: str) -> int:
    return int(next(iter(store.query(query)))["n"].value)  # type: ignore[index]


def void_quads(base: Base, store: ox.Store, properties: set[str] | None = None) -> list[ox.Quad]:
    """A VoID description of the dataset, with counts taken from the store (excluding the description itself).

    properties: the predicates in use, when known (loads pass the previous list plus what they added);
    otherwise they are found by a full scan.
    """
    ds = ox.NamedNode(base.dataset)
    n = ox.NamedNode
    named = sum(1 for g in store.named_graphs() for _ in store.quads_for_pattern(None, None, None, g))
    if properties is None:
        properties = {r["p"].value for r in store.query("SELECT DISTINCT ?p WHERE { ?s ?p ?o }")}  # type: ignore[union-attr]
    stats = {
        "triples": len(store) - named,
        "entities": _count(store, "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a ?type }"),
        "classes": _count(store, "SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE { ?s a ?c }"),
        "properties": len(properties),
    }
    quads = [
        ox.Quad(ds, n(RDF + "type"), n(VOID + "Dataset")),
        ox.Quad(ds, n(DCTERMS + "title"), ox.Literal("Pakistan Security Knowledge Graph", language="en")),
        ox.Quad(ds, n(DCTERMS + "license"), n("https://creativecommons.org/licenses/by/4.0/")),
        ox.Quad(
            ds,
            n(DCTERMS + "modified"),
            ox.Literal(dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(), datatype=n(XSD + "dateTime")),
        ),
        ox.Quad(ds, n(VOID + "uriSpace"), ox.Literal(base.entity(""))),
        ox.Quad(ds, n(VOID + "vocabulary"), n(PSK.rstrip("#"))),
        ox.Quad(ds, n(PSK + "softwareVersion"), ox.Literal(__version__)),
        ox.Quad(ds, n(PSK + "namedGraphTriples"), ox.Literal(str(named), datatype=n(XSD + "integer"))),
    ]
    for key, value in stats.items():
        quads.append(ox.Quad(ds, n(VOID + key), ox.Literal(str(value), datatype=n(XSD + "integer"))))
    for prop in sorted(properties):
        part = n(base.dataset + "/property/" + hashlib.sha1(prop.encode()).hexdigest()[:12])
        quads.append(ox.Quad(ds, n(VOID + "propertyPartition"), part))
        quads.append(ox.Quad(part, n(VOID + "property"), n(prop)))
    return quads


def _description(base: Base, store: ox.Store) -> list[ox.Quad]:
    """The current VoID description: the dataset node and its property partitions."""
    ds = ox.NamedNode(base.dataset)
    parts = [q.object for q in store.quads_for_pattern(ds, ox.NamedNode(VOID + "propertyPartition"), None, ox.DefaultGraph())]
    out = list(store.quads_for_pattern(ds, None, None, ox.DefaultGraph()))
    for part in parts:
        out.extend(store.quads_for_pattern(part, None, None, ox.DefaultGraph()))  # type: ignore[arg-type]
    return out


def refresh_void(base: Base, store: ox.Store, new_predicates: list[str] | None = None) -> None:
    """Recompute the VoID description. With new_predicates (after a load), the property list is the
    previous one plus those of new_predicates now present, instead of a full scan."""
    old = _description(base, store)
    properties: set[str] | None = None
    if new_predicates is not None:
        previous = {q.object.value for q in old if q.predicate.value == VOID + "property"}
        if previous:
            properties = previous | {
                p for p in new_predicates if next(store.quads_for_pattern(None, ox.NamedNode(p), None), None) is not None
            }
    for q in old:
        store.remove(q)
    store.extend(void_quads(base, store, properties))


def build(store: LocalStore, base: Base, *, validate: bool = True, progress: Progress | None = None) -> str:
    """Rebuild the store from the seeds. Idempotent; atomic: a failure leaves the old store intact."""
    say = progress or (lambda _msg: None)
    say("assembling ontology, article and curated records")
    quads = assemble(base)
    if validate:
        say(f"validating {len(quads)} quads against ontology/shapes.ttl")
        check(quads)

    def fill(target: ox.Store) -> None:
        say(f"loading {len(quads)} quads into a new store version")
        target.bulk_extend(quads)
        refresh_void(base, target)

    version = store.write(fill, from_current=False)
    say(f"published version {version}")
    return version
