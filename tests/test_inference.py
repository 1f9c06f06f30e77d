"""The ontology stays consistent under inference: OWL-RL over ontology + vocabularies + SKOS's axioms + the seed
data entails no contradiction, and the entailed graph still conforms to the project's own shapes."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import owlrl
import pyoxigraph as ox
import pytest
import rdflib
from rdflib.namespace import OWL, RDF

from kg.build import assemble
from kg.curated import seed_quads
from kg.namespaces import PSK, Base
from kg.ontology import SHAPES_FILE, ontology_quads

SKOS_AXIOMS = Path(__file__).parent / "fixtures" / "skos-axioms.ttl"
ERR = rdflib.Namespace("http://www.daml.org/2002/03/agents/agent-ont#")  # where owlrl records inconsistencies
BASE = Base()


def _graph(quads: list[ox.Quad]) -> rdflib.Graph:
    triples = (ox.Triple(q.subject, q.predicate, q.object) for q in quads)
    g = rdflib.Graph()
    g.parse(data=ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES), format="nt")
    g.parse(SKOS_AXIOMS, format="turtle")
    return g


def _default(quads: list[ox.Quad]) -> list[ox.Quad]:
    return [q for q in quads if isinstance(q.graph_name, ox.DefaultGraph)]


def closure(quads: list[ox.Quad]) -> tuple[rdflib.Graph, list[str]]:
    """The OWL 2 RL closure of the quads (with ontology, vocabularies and SKOS axioms) and its inconsistencies."""
    g = _graph(ontology_quads() + quads)
    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics).expand(g)
    errors = sorted(str(m) for m in g.objects(None, ERR.error))
    errors += [f"{s} is a member of owl:Nothing" for s in g.subjects(RDF.type, OWL.Nothing)]
    return g, errors


def smushed(g: rdflib.Graph) -> rdflib.Graph:
    """The graph with every owl:sameAs clique replaced by one node (the graph's own IRI where there is one).

    SHACL counts nodes, not individuals: under owl:sameAs (province/balochistan psk:country state/pakistan, and
    state/pakistan owl:sameAs wd:Q843) the province has two psk:country values that denote one state, so
    sh:maxCount 1 must be checked on the quotient graph."""
    parent: dict[rdflib.term.Node, rdflib.term.Node] = {}

    def find(x: rdflib.term.Node) -> rdflib.term.Node:
        while parent.get(x, x) != x:
            x = parent[x]
        return x

    def rank(x: rdflib.term.Node) -> tuple[bool, str]:
        return (not str(x).startswith(BASE.base) and not str(x).startswith(PSK), str(x))

    for a, b in g.subject_objects(OWL.sameAs):
        ra, rb = find(a), find(b)
        if ra != rb:
            keep, drop = sorted((ra, rb), key=rank)
            parent[drop] = keep
    out = rdflib.Graph()
    for s, p, o in g:
        if p == OWL.sameAs:
            continue
        out.add((find(s), p, find(o) if not isinstance(o, rdflib.Literal) else o))
    return out


@lru_cache(maxsize=1)
def seed_closure() -> tuple[rdflib.Graph, list[str]]:
    """The closure of the default graph exactly as `kg build` assembles it (ontology, vocabularies, seeds)."""
    return closure(_default(assemble(BASE)))


def test_owl_rl_closure_of_the_seed_graph_is_consistent() -> None:
    g, errors = seed_closure()
    assert errors == []
    # inference did run: subclass, domain and range entailments are there
    assert (rdflib.URIRef(BASE.entity("group/baloch-liberation-army")), RDF.type, rdflib.URIRef(PSK + "Actor")) in g
    assert (rdflib.URIRef(BASE.entity("province/balochistan")), RDF.type, rdflib.URIRef("https://schema.org/Place")) in g


def test_closure_conforms_to_the_shapes() -> None:
    import pyshacl

    g, _ = seed_closure()
    shapes = rdflib.Graph().parse(SHAPES_FILE, format="turtle")
    conforms, _results, text = pyshacl.validate(smushed(g), shacl_graph=shapes, inference="none", allow_warnings=True)
    assert conforms, text


def test_no_ontology_term_is_entailed_to_be_a_skos_concept() -> None:
    g, _ = seed_closure()
    concept = rdflib.URIRef("http://www.w3.org/2004/02/skos/core#Concept")
    terms = {s for kind in (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty) for s in g.subjects(RDF.type, kind)}
    assert not {t for t in terms if (t, RDF.type, concept) in g and str(t).startswith(PSK)}


def test_schema_org_organizations_are_not_entailed_to_be_security_actors() -> None:
    org = ox.NamedNode("https://example.org/some-company")
    quads = [ox.Quad(org, ox.NamedNode(str(RDF.type)), ox.NamedNode("https://schema.org/Organization"))]
    g, errors = closure(quads)
    assert errors == []
    assert (rdflib.URIRef(org.value), RDF.type, rdflib.URIRef(PSK + "Actor")) not in g


def test_claim_graphs_are_consistent_with_the_facts() -> None:
    """What the claims assert, added to the facts, contradicts no axiom either (a claim may be false, not ill-typed)."""
    _g, errors = closure([ox.Quad(q.subject, q.predicate, q.object) for q in seed_quads(BASE)])
    assert errors == []


CLASHES = [
    # an incident used as a place: psk:operatesIn's range is psk:Place, disjoint with psk:Incident
    ("group/baloch-liberation-army", "operatesIn", "incident/jaffar-express-hijacking-2025"),
    # a province used as an actor: psk:participant's range is psk:Actor
    ("conflict/insurgency-in-balochistan", "participant", "province/balochistan"),
    # a claim used as a grievance
    ("group/baloch-liberation-army", "seeks", "claim/punjab-houses-the-capital"),
]


@lru_cache(maxsize=1)
def clash_errors() -> tuple[str, ...]:
    """The inconsistencies of the seed graph with every clash of CLASHES added: one closure for all of them (each
    names the individual it is about, so each test below still checks its own)."""
    bad = [ox.Quad(ox.NamedNode(BASE.entity(s)), ox.NamedNode(PSK + p), ox.NamedNode(BASE.entity(o))) for s, p, o in CLASHES]
    _g, errors = closure([*_default(seed_quads(BASE)), *bad])
    return tuple(errors)


@pytest.mark.parametrize("triple", CLASHES)
def test_a_disjointness_clash_is_found(triple: tuple[str, str, str]) -> None:
    individual = BASE.entity(triple[2])
    errors = clash_errors()
    assert any("disjoint" in e.lower() and e.endswith(f"common individual {individual}") for e in errors), errors
