"""The ontology, vocabularies and shapes: parse, are documented, aligned, and the SHACL pairs behave."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from rdflib.namespace import OWL, RDF, RDFS, SKOS

from kg.namespaces import PSK, VOCAB
from kg.ontology import ONTOLOGY_DIR, ONTOLOGY_FILES, SHAPES_FILE
from kg.validate import validate

EXAMPLES = ONTOLOGY_DIR / "examples"
LOOSELY = rdflib.URIRef(PSK + "looselyMatches")
SH = rdflib.Namespace("http://www.w3.org/ns/shacl#")
SKOS_MAPPINGS = [SKOS.closeMatch, SKOS.exactMatch, SKOS.broadMatch, SKOS.narrowMatch, SKOS.relatedMatch, SKOS.mappingRelation]


@pytest.fixture(scope="module")
def onto() -> rdflib.Graph:
    g = rdflib.Graph()
    for path in ONTOLOGY_FILES:
        g.parse(path, format="turtle")
    return g


def test_files_parse_with_rdflib_and_oxigraph() -> None:
    for path in (*ONTOLOGY_FILES, SHAPES_FILE):
        assert len(rdflib.Graph().parse(path, format="turtle")) > 50
        assert len(list(ox.parse(path=str(path), format=ox.RdfFormat.TURTLE))) > 50


def test_required_classes_exist(onto: rdflib.Graph) -> None:
    required = [
        "State",
        "Province",
        "ArmedGroup",
        "Incident",
        "Grievance",
        "Place",
        "City",
        "Community",
        "Organization",
        "Conflict",
        "Source",
        "Claim",
    ]
    for name in required:
        assert (rdflib.URIRef(PSK + name), RDF.type, OWL.Class) in onto, name


def test_every_term_has_label_and_definition(onto: rdflib.Graph) -> None:
    terms = [
        s
        for kind in (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty)
        for s in onto.subjects(RDF.type, kind)
        if str(s).startswith(PSK)
    ]
    assert len(terms) > 60
    for term in terms:
        assert onto.value(term, RDFS.label) is not None, f"{term} has no rdfs:label"
        assert onto.value(term, SKOS.definition) is not None, f"{term} has no skos:definition"


def test_alignment_to_established_vocabularies(onto: rdflib.Graph) -> None:
    targets = {str(o) for p in (RDFS.subClassOf, RDFS.subPropertyOf, OWL.equivalentClass, LOOSELY) for o in onto.objects(None, p)}
    for ns in ("https://schema.org/", "http://semanticweb.cs.vu.nl/2009/11/sem/", "http://www.w3.org/ns/prov#", "http://www.w3.org/ns/oa#",
               "http://www.opengis.net/ont/geosparql#", "http://www.wikidata.org/prop/direct/", "http://www.w3.org/2006/time#"):  # fmt: skip
        assert any(t.startswith(ns) for t in targets), f"nothing aligned to {ns}"


def test_event_types_cover_acled(onto: rdflib.Graph) -> None:
    scheme = rdflib.URIRef(VOCAB + "event-type")
    top = set(onto.subjects(SKOS.topConceptOf, scheme))
    acled_top = {c for c in top if onto.value(c, SKOS.notation) is not None}
    assert len(acled_top) == 6
    subs = {
        c
        for c in onto.subjects(SKOS.broader, None)
        if onto.value(c, SKOS.broader) in acled_top and onto.value(c, SKOS.notation) is not None
    }
    assert len(subs) == 25
    assert (rdflib.URIRef(VOCAB + "event-type/hijacking"), SKOS.inScheme, scheme) in onto


def test_grievance_categories(onto: rdflib.Graph) -> None:
    scheme = rdflib.URIRef(VOCAB + "grievance-category")
    names = {str(c).rsplit("/", 1)[-1] for c in onto.subjects(SKOS.inScheme, scheme)}
    assert {
        "autonomy",
        "resource-control",
        "underdevelopment",
        "political-repression",
        "alienation",
        "poverty",
        "unemployment",
        "lack-of-education",
    } <= names


def test_every_shape_has_a_message() -> None:
    g = rdflib.Graph().parse(SHAPES_FILE, format="turtle")
    sh = rdflib.Namespace("http://www.w3.org/ns/shacl#")
    shapes = set(g.subjects(RDF.type, sh.NodeShape)) | set(g.objects(None, sh.property))
    assert len(shapes) > 40
    for shape in shapes:
        assert g.value(shape, sh.message) is not None, f"shape {shape} has no sh:message"


def _quads(path: Path) -> list[ox.Quad]:
    return list(ox.parse(path=str(path), format=ox.RdfFormat.TURTLE))


def test_valid_example_conforms() -> None:
    report = validate(_quads(EXAMPLES / "valid.ttl"))
    assert report.conforms, report.text


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("invalid-*.ttl")), ids=lambda p: p.stem)
def test_invalid_example_fails_with_its_message(path: Path) -> None:
    expected = path.read_text(encoding="utf-8").splitlines()[0].removeprefix("# expect: ").strip()
    report = validate(_quads(path))
    assert not report.conforms
    assert report.violations >= 1
    assert expected in report.text, report.text


def _terms(onto: rdflib.Graph, *kinds: rdflib.URIRef) -> list[rdflib.URIRef]:
    return sorted(t for k in kinds for t in onto.subjects(RDF.type, k) if isinstance(t, rdflib.URIRef) and str(t).startswith(PSK))


def test_skos_mappings_only_between_concepts(onto: rdflib.Graph) -> None:
    owl_terms = set(_terms(onto, OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty))
    for p in SKOS_MAPPINGS:
        for s, o in onto.subject_objects(p):
            assert s not in owl_terms and o not in owl_terms, f"{s} {p} {o}: SKOS mappings link concepts, not OWL terms"
    assert onto.value(LOOSELY, RDF.type) == OWL.AnnotationProperty


def test_no_equivalence_to_broader_outside_classes(onto: rdflib.Graph) -> None:
    # psk:Organization is a security actor: every schema:Organization is not, so only subsumption holds
    for name in ("Organization", "Person", "Place"):
        term = rdflib.URIRef(PSK + name)
        assert onto.value(term, OWL.equivalentClass) is None, name
    assert (rdflib.URIRef(PSK + "Organization"), RDFS.subClassOf, rdflib.URIRef("https://schema.org/Organization")) in onto
    assert (rdflib.URIRef(PSK + "partOf"), RDFS.subPropertyOf, rdflib.URIRef("https://schema.org/isPartOf")) not in onto


def test_state_security_force_cites_acled_state_forces(onto: rdflib.Graph) -> None:
    definition = str(onto.value(rdflib.URIRef(PSK + "StateSecurityForce"), SKOS.definition))
    assert "inter code 1" in definition and "3" not in definition
    notation = {
        str(onto.value(c, SKOS.notation)): str(onto.value(c, SKOS.prefLabel))
        for c in onto.subjects(SKOS.inScheme, rdflib.URIRef(VOCAB + "inter"))
    }
    assert notation["1"] == "State forces" and notation["3"] == "Political militias"


def test_top_level_classes_are_disjoint(onto: rdflib.Graph) -> None:
    def disjoint(a: str, b: str) -> bool:
        x, y = rdflib.URIRef(PSK + a), rdflib.URIRef(PSK + b)
        return (x, OWL.disjointWith, y) in onto or (y, OWL.disjointWith, x) in onto

    top = ["Incident", "Actor", "Place", "Claim", "Source", "Statement", "ReportedFigure", "Proposition", "ClaimGraph"]
    for i, a in enumerate(top):
        for b in top[i + 1 :]:
            assert disjoint(a, b), (a, b)
    assert disjoint("Organization", "Person") and disjoint("StateSecurityForce", "ArmedGroup")
    # no blank nodes in the ontology: a rebuild must produce the same quads
    assert not any(isinstance(t, rdflib.BNode) for triple in onto for t in triple)


def test_every_class_has_a_shape(onto: rdflib.Graph) -> None:
    shapes = rdflib.Graph().parse(SHAPES_FILE, format="turtle")
    targeted = set(shapes.objects(None, SH.targetClass))
    for cls in _terms(onto, OWL.Class):
        assert cls in targeted, f"no shape targets {cls}"


def test_every_property_has_a_domain_and_range_shape(onto: rdflib.Graph) -> None:
    shapes = rdflib.Graph().parse(SHAPES_FILE, format="turtle")
    for prop in _terms(onto, OWL.ObjectProperty, OWL.DatatypeProperty):
        shape = rdflib.URIRef(f"https://w3id.org/pakistan-security-kg/shapes#{prop.removeprefix(PSK)}-DomainRange")
        assert (shape, SH.targetSubjectsOf, prop) in shapes, f"no domain and range shape for {prop}"
        domain, rng = onto.value(prop, RDFS.domain), onto.value(prop, RDFS.range)
        assert shapes.value(shape, SH["class"]) == domain, f"{prop}: shape and rdfs:domain differ"
        (ps,) = (p for p in shapes.objects(shape, SH.property) if shapes.value(p, SH.path) == prop)
        declared = shapes.value(ps, SH["class"]) or shapes.value(ps, SH.datatype)
        assert declared == rng, f"{prop}: shape and rdfs:range differ"
        kind = SH.IRI if (prop, RDF.type, OWL.ObjectProperty) in onto else SH.Literal
        assert shapes.value(ps, SH.nodeKind) == kind, prop
