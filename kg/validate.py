"""SHACL validation of the default graph (facts, statements, claims' metadata) with pyshacl."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pyoxigraph as ox
import rdflib

from .errors import ValidationFailed
from .ontology import SHAPES_FILE, ontology_quads


@dataclass
class Report:
    conforms: bool
    violations: int
    text: str


def _to_rdflib(quads: Iterable[ox.Quad]) -> rdflib.Graph:
    triples = (ox.Triple(q.subject, q.predicate, q.object) for q in quads if isinstance(q.graph_name, ox.DefaultGraph))
    data = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES)
    graph = rdflib.Graph()
    graph.parse(data=data, format="nt")
    return graph


def validate(quads: Iterable[ox.Quad], *, with_ontology: bool = True) -> Report:
    """Validate the default-graph quads (plus the ontology, for class hierarchy) against the shapes."""
    import pyshacl

    all_quads = list(quads)
    if with_ontology:
        all_quads += ontology_quads()
    data = _to_rdflib(all_quads)
    shapes = rdflib.Graph().parse(SHAPES_FILE, format="turtle")
    conforms, results_graph, text = pyshacl.validate(
        data, shacl_graph=shapes, inference="none", abort_on_first=False, allow_warnings=True
    )
    sh = rdflib.Namespace("http://www.w3.org/ns/shacl#")
    violations = sum(1 for _ in results_graph.subjects(sh.resultSeverity, sh.Violation))
    return Report(bool(conforms), violations, str(text))


def check(quads: Iterable[ox.Quad], **kwargs: bool) -> Report:
    """Validate and raise ValidationFailed on violations."""
    report = validate(quads, **kwargs)
    if not report.conforms and report.violations:
        raise ValidationFailed(report.text, report.violations)
    return report
