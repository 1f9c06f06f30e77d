"""The embedded store: idempotent, atomic builds; exports that re-parse to the same graph."""

from __future__ import annotations

import io
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from rdflib.compare import isomorphic

import kg.build as build_module
from kg import formats
from kg.build import build
from kg.errors import StoreWriteFailed, ValidationFailed
from kg.namespaces import Base
from kg.store import LocalStore


def content(store: LocalStore) -> set[str]:
    """All quads except the VoID modification time."""
    _v, s = store.open_read()
    return {
        str(q)
        for q in s
        if "dcterms/modified" not in str(q.predicate) and "http://purl.org/dc/terms/modified" not in str(q.predicate)
    }


def test_rebuild_is_idempotent(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    v1 = build(store, Base())
    first = content(store)
    v2 = build(store, Base())
    assert v1 != v2
    assert content(store) == first
    assert len(first) > 4000


def test_failed_build_leaves_previous_store_intact(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = LocalStore(tmp_path / "store")
    v1 = build(store, Base())
    before = content(store)
    original = build_module.assemble

    def broken(base: Base) -> list[ox.Quad]:
        quads = original(base)
        bad = ox.NamedNode(base.entity("province/nowhere"))
        return [
            *quads,
            ox.Quad(
                bad,
                ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"),
                ox.NamedNode("https://w3id.org/pakistan-security-kg/ontology#Province"),
            ),
        ]

    monkeypatch.setattr(build_module, "assemble", broken)
    with pytest.raises(ValidationFailed, match="A Province must belong to exactly one State"):
        build(store, Base())
    assert store.version() == v1
    assert content(store) == before

    def crash(target: ox.Store) -> None:
        target.add(
            ox.Quad(ox.NamedNode("http://example.org/x"), ox.NamedNode("http://example.org/p"), ox.Literal("half-written"))
        )
        raise OSError("disk full")

    with pytest.raises(StoreWriteFailed, match="disk full; the store is unchanged"):
        store.write(crash, from_current=True)
    assert store.version() == v1
    assert content(store) == before
    assert [d.name for d in store.versions.iterdir() if d.is_dir() and not d.name.endswith(".tables")] == [v1]


EXPORTS = [
    ("turtle", ox.RdfFormat.TURTLE, "turtle"),
    ("ntriples", ox.RdfFormat.N_TRIPLES, "nt"),
    ("jsonld", ox.RdfFormat.JSON_LD, "json-ld"),
    ("rdfxml", ox.RdfFormat.RDF_XML, "xml"),
]


@pytest.mark.parametrize("name,fmt,rdflib_fmt", EXPORTS, ids=[e[0] for e in EXPORTS])
def test_graph_exports_reparse_isomorphic(seed_store: Path, name: str, fmt: ox.RdfFormat, rdflib_fmt: str) -> None:
    _v, store = LocalStore(seed_store).open_read()
    reference = rdflib.Graph()
    reference.parse(data=store.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=ox.DefaultGraph()), format="nt")
    buf = io.BytesIO()
    store.dump(buf, fmt, from_graph=ox.DefaultGraph())
    exported = rdflib.Graph().parse(data=buf.getvalue(), format=rdflib_fmt)
    assert len(exported) == len(reference) > 4000
    assert isomorphic(exported, reference)


@pytest.mark.parametrize(
    "fmt,rdflib_fmt", [(ox.RdfFormat.TRIG, "trig"), (ox.RdfFormat.N_QUADS, "nquads")], ids=["trig", "nquads"]
)
def test_dataset_exports_keep_claim_graphs(seed_store: Path, fmt: ox.RdfFormat, rdflib_fmt: str) -> None:
    _v, store = LocalStore(seed_store).open_read()
    data = store.dump(format=fmt)
    ds = rdflib.Dataset()
    ds.parse(data=data, format=rdflib_fmt)
    graphs = {str(g.identifier) for g in ds.graphs() if len(g)}
    claim_graphs = {g for g in graphs if "/graph/claim/" in g}
    # every named graph is a claim's, but the statistics graph (kg/cube.py)
    assert len(claim_graphs) == sum(1 for g in store.named_graphs() if not g.value.endswith("/graph/statistics")) >= 10
    for g in claim_graphs:
        triples = (
            ox.Triple(q.subject, q.predicate, q.object) for q in store.quads_for_pattern(None, None, None, ox.NamedNode(g))
        )
        original = rdflib.Graph().parse(data=ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES), format="nt")
        assert len(original) > 0
        assert isomorphic(ds.graph(rdflib.URIRef(g)), original)


def test_old_versions_and_their_dumps_are_pruned(tmp_path: Path) -> None:
    from kg.dumps import ensure_dump

    store = LocalStore(tmp_path / "store")
    v1 = build(store, Base())
    ensure_dump(store.open_read()[1], Path(str(store.version_dir(v1)) + ".dumps"), formats.get("ntriples"))
    v2 = build(store, Base())
    v3 = build(store, Base())
    names = sorted(d.name for d in store.versions.iterdir() if d.is_dir() and not d.name.endswith(".tables"))
    assert names == [v2, v3]
    assert store.version() == v3
