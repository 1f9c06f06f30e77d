"""Build the knowledge graph from the seeds into a store: assemble, validate, publish atomically."""

from __future__ import annotations

import datetime as dt
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


def void_quads(base: Base, store: ox.Store) -> list[ox.Quad]:
    """A VoID description of the dataset, with counts taken from the store (excluding itself)."""
    ds = ox.NamedNode(base.dataset)

    def count(q: str) -> int:
        return int(next(iter(store.query(q)))["n"].value)

    n = ox.NamedNode
    stats = {
        "triples": count("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"),
        "entities": count(
            f'SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ ?s ?p ?o FILTER(STRSTARTS(STR(?s), "{base.entity("")}")) }}'
        ),
        "classes": count("SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE { ?s a ?c }"),
        "properties": count("SELECT (COUNT(DISTINCT ?p) AS ?n) WHERE { ?s ?p ?o }"),
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
    ]
    for key, value in stats.items():
        quads.append(ox.Quad(ds, n(VOID + key), ox.Literal(str(value), datatype=n(XSD + "integer"))))
    return quads


def refresh_void(base: Base, store: ox.Store) -> None:
    ds = ox.NamedNode(base.dataset)
    for q in list(store.quads_for_pattern(ds, None, None, ox.DefaultGraph())):
        store.remove(q)
    store.extend(void_quads(base, store))


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
        target.extend(quads)
        refresh_void(base, target)

    version = store.write(fill, from_current=False)
    say(f"published version {version}")
    return version
