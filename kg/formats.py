"""The one registry of serialization formats: names, aliases, file extensions, media types, pyoxigraph formats.

Every part of the project that picks or names a format (the CLI, the /sparql endpoint, data documents, dumps,
templates, the ontology documents) asks this module, so a format is spelled the same way everywhere and the rule
for which formats get prefix declarations is written once (`Format.prefixes`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyoxigraph as ox


@dataclass(frozen=True)
class Format:
    name: str  # canonical name, as in ?format= and --format
    kind: str  # "results" (SELECT/ASK) or "graph" (CONSTRUCT/DESCRIBE and RDF documents)
    media: tuple[str, ...]  # media types, the canonical one first
    ext: str = ""  # file extension without the dot ("" when never stored as a file)
    aliases: tuple[str, ...] = ()
    rdf: ox.RdfFormat | None = None  # pyoxigraph's RDF format (graph formats)
    dataset: bool = False  # holds named graphs (TriG, N-Quads)
    prefixes: bool = False  # written with prefix declarations (Turtle, TriG, RDF/XML)
    sd_name: str = ""  # its name under http://www.w3.org/ns/formats/ for the service description

    @property
    def media_type(self) -> str:
        return self.media[0]

    def serialize_kwargs(self, prefixes: dict[str, str]) -> dict[str, Any]:
        """Keyword arguments for pyoxigraph's serialize/dump: the format, and the prefixes where it takes them."""
        assert self.rdf is not None, f"{self.name} is not an RDF format"
        return {"format": self.rdf, **({"prefixes": prefixes} if self.prefixes else {})}


FORMATS: tuple[Format, ...] = (
    Format("json", "results", ("application/sparql-results+json", "application/json"), "srj", sd_name="SPARQL_Results_JSON"),
    Format(
        "xml", "results", ("application/sparql-results+xml", "application/xml", "text/xml"), "srx", sd_name="SPARQL_Results_XML"
    ),
    Format("csv", "results", ("text/csv",), "csv", sd_name="SPARQL_Results_CSV"),
    Format("tsv", "results", ("text/tab-separated-values",), "tsv", sd_name="SPARQL_Results_TSV"),
    Format(
        "turtle",
        "graph",
        ("text/turtle", "application/x-turtle"),
        "ttl",
        ("ttl",),
        ox.RdfFormat.TURTLE,
        prefixes=True,
        sd_name="Turtle",
    ),
    Format(
        "ntriples",
        "graph",
        ("application/n-triples", "text/plain"),
        "nt",
        ("nt", "n-triples"),
        ox.RdfFormat.N_TRIPLES,
        sd_name="N-Triples",
    ),
    Format("jsonld", "graph", ("application/ld+json",), "jsonld", ("json-ld",), ox.RdfFormat.JSON_LD, sd_name="JSON-LD"),
    Format(
        "rdfxml",
        "graph",
        ("application/rdf+xml",),
        "rdf",
        ("rdf", "rdf/xml"),
        ox.RdfFormat.RDF_XML,
        prefixes=True,
        sd_name="RDF_XML",
    ),
    Format("trig", "graph", ("application/trig",), "trig", (), ox.RdfFormat.TRIG, dataset=True, prefixes=True, sd_name="TriG"),
    Format("nquads", "graph", ("application/n-quads",), "nq", ("nq",), ox.RdfFormat.N_QUADS, dataset=True, sd_name="N-Quads"),
)

BY_NAME: dict[str, Format] = {f.name: f for f in FORMATS}
_BY_ALIAS: dict[str, Format] = {a: f for f in FORMATS for a in (f.name, *f.aliases)}
_BY_EXT: dict[str, Format] = {f.ext: f for f in FORMATS if f.ext}
_BY_MEDIA: dict[str, Format] = {m: f for f in FORMATS for m in f.media}

RESULT_FORMATS: tuple[Format, ...] = tuple(f for f in FORMATS if f.kind == "results")
GRAPH_FORMATS: tuple[Format, ...] = tuple(f for f in FORMATS if f.kind == "graph")
# RDF documents about one entity or the ontology (no named graphs): /data/<path>.<ext>, /ontology.<ext>
DOCUMENT_FORMATS: tuple[Format, ...] = tuple(BY_NAME[n] for n in ("turtle", "ntriples", "jsonld", "rdfxml"))
# whole-graph dumps: /dumps/pakistan-security-kg.<ext>.gz
DUMP_FORMATS: tuple[Format, ...] = tuple(BY_NAME[n] for n in ("turtle", "ntriples", "jsonld", "trig", "nquads"))


def lookup(name: str) -> Format | None:
    """The format of a name or alias, case-insensitive ('ttl', 'Turtle', 'rdf/xml', ...)."""
    return _BY_ALIAS.get(name.lower())


def by_ext(ext: str) -> Format | None:
    return _BY_EXT.get(ext)


def by_media(media: str) -> Format | None:
    return _BY_MEDIA.get(media.split(";", 1)[0].strip().lower())


def get(name: str) -> Format:
    """The format of a canonical name (a programming error if unknown)."""
    return BY_NAME[name]


def media_type(name: str) -> str:
    """The Content-Type to send for a format (CSV/TSV with their charset)."""
    fmt = BY_NAME[name]
    return fmt.media_type + ("; charset=utf-8" if name in ("csv", "tsv") else "")


def fit(kind: str, name: str) -> str:
    """name if it suits the result kind ('bindings', 'boolean' or 'graph'); else that kind's default (Turtle or SPARQL JSON)."""
    wanted = "graph" if kind == "graph" else "results"
    fmt = BY_NAME.get(name)
    if fmt is not None and fmt.kind == wanted:
        return name
    return "turtle" if wanted == "graph" else "json"
