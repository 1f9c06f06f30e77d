"""The ontology and vocabularies as data: files, property kinds and ranges for the loaders."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pyoxigraph as ox

from .namespaces import OWL, PSK, RDF, RDFS, XSD
from .sparql.execute import solutions, value

ROOT = Path(__file__).resolve().parent.parent
ONTOLOGY_DIR = ROOT / "ontology"
ONTOLOGY_FILES = (ONTOLOGY_DIR / "psk.ttl", ONTOLOGY_DIR / "vocabularies.ttl")
SHAPES_FILE = ONTOLOGY_DIR / "shapes.ttl"


def ontology_quads() -> list[ox.Quad]:
    """Ontology and SKOS vocabularies, as quads in the default graph."""
    quads: list[ox.Quad] = []
    for path in ONTOLOGY_FILES:
        quads.extend(ox.parse(path=str(path), format=ox.RdfFormat.TURTLE))
    return quads


@dataclass(frozen=True)
class PropertyInfo:
    iri: str
    is_object: bool
    datatype: str | None  # for datatype properties: the declared xsd range


@lru_cache(maxsize=1)
def properties() -> dict[str, PropertyInfo]:
    """psk properties by local name, read from the ontology itself."""
    store = ox.Store()
    store.extend(ontology_quads())
    out: dict[str, PropertyInfo] = {}
    rows = store.query(
        """SELECT ?p ?kind ?range WHERE {
             VALUES ?kind { owl:ObjectProperty owl:DatatypeProperty }
             ?p a ?kind . OPTIONAL { ?p rdfs:range ?range }
           }""",
        prefixes={"owl": OWL, "rdfs": RDFS},
    )
    for row in solutions(rows):
        iri = value(row["p"])
        if not iri.startswith(PSK):
            continue
        is_object = value(row["kind"]) == OWL + "ObjectProperty"
        rng = value(row["range"])
        datatype = rng if (rng and not is_object and rng.startswith(XSD)) else None
        out[iri[len(PSK) :]] = PropertyInfo(iri, is_object, datatype)
    return out


@lru_cache(maxsize=1)
def classes() -> frozenset[str]:
    """psk class local names."""
    return frozenset(
        value(q.subject)[len(PSK) :]
        for q in ontology_quads()
        if q.predicate.value == RDF + "type" and value(q.object) == OWL + "Class" and value(q.subject).startswith(PSK)
    )


@lru_cache(maxsize=1)
def about_roles() -> frozenset[str]:
    """Local names of the psk properties declared as roles of psk:about (direct sub-properties)."""
    return frozenset(
        value(q.subject)[len(PSK) :]
        for q in ontology_quads()
        if q.predicate.value == RDFS + "subPropertyOf" and value(q.object) == PSK + "about" and value(q.subject).startswith(PSK)
    )
