"""Namespaces and IRI helpers shared by the loaders, the store and the server."""

from __future__ import annotations

import re
from functools import lru_cache

CANONICAL_BASE = "https://w3id.org/pakistan-security-kg/"
ONTOLOGY_IRI = CANONICAL_BASE + "ontology"
PSK = CANONICAL_BASE + "ontology#"
VOCAB = CANONICAL_BASE + "vocab/"

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
OWL = "http://www.w3.org/2002/07/owl#"
XSD = "http://www.w3.org/2001/XMLSchema#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
DCTERMS = "http://purl.org/dc/terms/"
SCHEMA = "https://schema.org/"
SEM = "http://semanticweb.cs.vu.nl/2009/11/sem/"
PROV = "http://www.w3.org/ns/prov#"
OA = "http://www.w3.org/ns/oa#"
TIME = "http://www.w3.org/2006/time#"
GEO = "http://www.opengis.net/ont/geosparql#"
WD = "http://www.wikidata.org/entity/"
WDT = "http://www.wikidata.org/prop/direct/"
VOID = "http://rdfs.org/ns/void#"
SH = "http://www.w3.org/ns/shacl#"

# Prefixes predeclared for every SPARQL query and used when serializing Turtle.
PREFIXES: dict[str, str] = {
    "psk": PSK,
    "rdf": RDF,
    "rdfs": RDFS,
    "owl": OWL,
    "xsd": XSD,
    "skos": SKOS,
    "dcterms": DCTERMS,
    "schema": SCHEMA,
    "sem": SEM,
    "prov": PROV,
    "oa": OA,
    "time": TIME,
    "geo": GEO,
    "wd": WD,
    "wdt": WDT,
    "void": VOID,
    "et": VOCAB + "event-type/",
    "gc": VOCAB + "grievance-category/",
    "fa": VOCAB + "factor/",
    "st": VOCAB + "assertion-status/",
    "ct": VOCAB + "claim-type/",
    "qk": VOCAB + "quantity-kind/",
    "vq": VOCAB + "value-qualifier/",
    "sn": VOCAB + "stance/",
    "ce": VOCAB + "certainty/",
}

# Vocabulary prefixes usable in curated records ("event-type:hijacking").
VOCAB_SCHEMES = (
    "event-type",
    "grievance-category",
    "factor",
    "assertion-status",
    "claim-type",
    "inter",
    "quantity-kind",
    "value-qualifier",
    "stance",
    "certainty",
)

_SLUG_RE = re.compile(r"[^a-z0-9]+")


@lru_cache(maxsize=1 << 16)
def slugify(text: str) -> str:
    """Lower-case ASCII slug: 'Khyber Pakhtunkhwa' -> 'khyber-pakhtunkhwa'."""
    import unicodedata

    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return _SLUG_RE.sub("-", ascii_text.lower()).strip("-") or "unnamed"


class Base:
    """The configurable base under which entity, statement and graph IRIs are minted."""

    def __init__(self, base: str = CANONICAL_BASE) -> None:
        if not base.endswith("/"):
            base += "/"
        self.base = base

    def entity(self, local: str) -> str:
        return f"{self.base}id/{local}"

    def graph(self, local: str) -> str:
        return f"{self.base}graph/{local}"

    @property
    def dataset(self) -> str:
        return f"{self.base}dataset"


@lru_cache(maxsize=1 << 10)
def vocab(scheme: str, slug: str) -> str:
    return f"{VOCAB}{scheme}/{slug}"
