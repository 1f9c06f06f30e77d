"""Seed loading: every curated record, quote and claim becomes triples as specified."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyoxigraph as ox
import pytest
import yaml

import kg.curated as curated
from kg.curated import SeedLoader, load_article, seed_quads
from kg.errors import QuoteMismatch, SeedError
from kg.namespaces import PREFIXES, Base

BASE = Base()


@pytest.fixture(scope="module")
def store() -> ox.Store:
    s = ox.Store()
    s.extend(seed_quads(BASE))
    return s


def ask(store: ox.Store, q: str) -> bool:
    return bool(store.query(q, prefixes=PREFIXES))


def test_article_is_a_verbatim_copy_of_the_shared_seed() -> None:
    shared = Path(__file__).resolve().parents[2] / "shared" / "seeds" / "000_d3806ad3706f1b5e.txt"
    if not shared.exists():
        pytest.skip("shared seed not available")
    assert load_article(BASE).path.read_bytes() == shared.read_bytes()


def test_every_curated_record_is_in_the_graph(store: ox.Store) -> None:
    loader = SeedLoader(BASE)
    loader.read()
    assert len(loader.records) >= 89
    for rid in loader.records:
        iri = ox.NamedNode(BASE.entity(rid))
        assert any(True for _ in store.quads_for_pattern(iri, None, None)), rid


NAMED = {
    "state/pakistan": "Pakistan", "province/balochistan": "Balochistan", "province/khyber-pakhtunkhwa": "Khyber Pakhtunkhwa",
    "province/punjab": "Punjab", "city/islamabad": "Islamabad", "region/indus-river-basin": "Indus River Basin",
    "city/quetta": "Quetta", "city/peshawar": "Peshawar", "state/afghanistan": "Afghanistan", "state/iran": "Iran",
    "state/india": "India", "state/united-states": "United States", "conflict/kashmir-conflict": "Kashmir conflict",
    "group/baloch-liberation-army": "Baloch Liberation Army", "group/tehrik-i-taliban-pakistan": "Tehrik-i-Taliban Pakistan",
    "group/afghan-taliban": "Afghan Taliban", "org/pakistan-armed-forces": "Pakistan Armed Forces",
    "org/government-of-pakistan": "Government of Pakistan", "community/baloch": "Baloch", "community/pashtun": "Pashtun",
    "incident/jaffar-express-hijacking-2025": "Jaffar Express hijacking",
}  # fmt: skip


@pytest.mark.parametrize("rid,label", sorted(NAMED.items()))
def test_named_entities_of_the_article(store: ox.Store, rid: str, label: str) -> None:
    iri = BASE.entity(rid)
    assert ask(store, f'ASK {{ <{iri}> rdfs:label "{label}"@en ; a ?t }}')
    # every named entity is evidenced by a mention in the article
    assert ask(
        store, f"ASK {{ ?st rdf:subject ?a ; rdf:predicate schema:mentions ; rdf:object <{iri}> ; psk:evidence ?e }}"
    ) or rid.startswith("province/islamabad")


def test_jaffar_express_sub_events(store: ox.Store) -> None:
    rows = list(
        store.query(
            "SELECT ?type WHERE { ?e psk:subEventOf ?h ; psk:eventType ?type . ?h rdfs:label 'Jaffar Express hijacking'@en }",
            prefixes=PREFIXES,
        )
    )
    types = {r["type"].value.rsplit("/", 1)[-1] for r in rows}
    assert types == {"derailment-by-explosives", "hostage-taking", "rescue-operation"}


def test_every_quote_equals_the_article_at_its_offsets(store: ox.Store) -> None:
    text = load_article(BASE).text
    rows = list(
        store.query(
            "SELECT ?quote ?start ?end WHERE { ?ev oa:hasSelector ?q , ?p . ?q oa:exact ?quote . ?p oa:start ?start ; oa:end ?end }",
            prefixes=PREFIXES,
        )
    )
    assert len(rows) > 150
    for r in rows:
        start, end = int(r["start"].value), int(r["end"].value)
        assert text[start:end] == r["quote"].value


def test_opinions_are_claims_in_named_graphs_not_facts(store: ox.Store) -> None:
    # the contested "Punjab houses Islamabad" is only in a claim graph
    islamabad, punjab = BASE.entity("city/islamabad"), BASE.entity("province/punjab")
    assert not ask(store, f"ASK {{ <{islamabad}> psk:locatedIn <{punjab}> }}")
    assert ask(
        store,
        f"ASK {{ ?c psk:assertionGraph ?g ; psk:assertionStatus st:contested . GRAPH ?g {{ <{islamabad}> psk:locatedIn <{punjab}> }} }}",
    )
    # causal opinions live in claim graphs
    assert not ask(store, "ASK { ?x psk:drivenBy fa:foreign-pressure }")
    assert ask(store, "ASK { GRAPH ?g { ?x psk:drivenBy fa:foreign-pressure } }")
    # every claim is attributed to its speaker and sourced: the article's with evidence, other parties' to the reports
    assert not ask(store, "ASK { ?c a psk:Claim FILTER NOT EXISTS { ?c psk:attributedTo ?a ; psk:source ?s ; psk:stance ?st } }")
    assert not ask(
        store, "ASK { ?c a psk:Claim FILTER NOT EXISTS { ?c psk:evidence ?e } FILTER NOT EXISTS { ?c psk:reportedIn ?r } }"
    )
    author = BASE.entity("agent/author-of-the-unraveling-of-pakistan")
    assert not ask(store, f"ASK {{ ?c a psk:Claim ; psk:evidence ?e FILTER NOT EXISTS {{ ?c psk:attributedTo <{author}> }} }}")


def test_hostage_composition_is_kept_as_contested_claim_with_cited_source(store: ox.Store) -> None:
    claim = BASE.entity("claim/most-hostages-were-military-personnel")
    assert ask(store, f"ASK {{ <{claim}> psk:assertionStatus st:contested ; psk:contestedBy ?src . ?src schema:url ?url }}")
    assert not ask(store, "ASK { ?i psk:victimsDescription ?d FILTER(CONTAINS(?d, 'majority')) }")


def test_external_facts_cite_a_source(store: ox.Store) -> None:
    # every reported statement cites the article with evidence, or an external source with a URL
    assert not ask(
        store,
        """ASK { ?st a psk:Statement ; psk:source ?src .
                 FILTER NOT EXISTS { ?st psk:evidence ?e }
                 FILTER NOT EXISTS { ?src schema:url ?u } }""",
    )


def _copy_seeds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    target = tmp_path / "curated"
    shutil.copytree(curated.CURATED_DIR, target)
    monkeypatch.setattr(curated, "CURATED_DIR", target)
    return target


def test_wrong_offsets_are_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = _copy_seeds(tmp_path, monkeypatch)
    path = target / "places.yaml"
    records = yaml.safe_load(path.read_text(encoding="utf-8"))
    records[0]["mention"]["start"] += 1
    records[0]["mention"]["end"] += 1
    path.write_text(yaml.safe_dump(records, allow_unicode=True, sort_keys=False), encoding="utf-8")
    with pytest.raises(QuoteMismatch) as err:
        seed_quads(BASE)
    message = str(err.value)
    assert "places.yaml" in message and "state/pakistan" in message and "the quote occurs at [" in message


def test_unknown_property_and_dangling_reference_are_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = _copy_seeds(tmp_path, monkeypatch)
    path = target / "places.yaml"
    records = yaml.safe_load(path.read_text(encoding="utf-8"))
    records[0]["facts"].append({"p": "bordersOn", "o": "state/iran", "source": "source/wikipedia-balochistan"})
    path.write_text(yaml.safe_dump(records, allow_unicode=True, sort_keys=False), encoding="utf-8")
    with pytest.raises(SeedError, match="unknown property 'bordersOn'"):
        seed_quads(BASE)
    records[0]["facts"][-1] = {"p": "borders", "o": "state/atlantis", "source": "source/wikipedia-balochistan"}
    path.write_text(yaml.safe_dump(records, allow_unicode=True, sort_keys=False), encoding="utf-8")
    with pytest.raises(SeedError, match="'state/atlantis' names no curated record"):
        seed_quads(BASE)


def test_base_iri_is_configurable() -> None:
    quads = seed_quads(Base("https://example.org/kg/"))
    subjects = {q.subject.value for q in quads if isinstance(q.subject, ox.NamedNode)}
    assert "https://example.org/kg/id/province/balochistan" in subjects
    assert not any(s.startswith("https://w3id.org/pakistan-security-kg/id/") for s in subjects)


@pytest.mark.parametrize(
    "file,index,change,message",
    [
        ("places.yaml", 0, {"lable": "x"}, "record 'state/pakistan': unknown key(s) 'lable' in a record"),
        ("claims.yaml", 0, {"speeker": "x"}, "unknown key(s) 'speeker' in a claim"),
    ],
)
def test_unknown_keys_are_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, file: str, index: int, change: dict[str, str], message: str
) -> None:
    target = _copy_seeds(tmp_path, monkeypatch)
    path = target / file
    records = yaml.safe_load(path.read_text(encoding="utf-8"))
    records[index].update(change)
    path.write_text(yaml.safe_dump(records, allow_unicode=True, sort_keys=False), encoding="utf-8")
    with pytest.raises(SeedError, match=message.replace("(", r"\(").replace(")", r"\)")):
        seed_quads(BASE)


def test_unknown_key_in_a_fact_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = _copy_seeds(tmp_path, monkeypatch)
    path = target / "places.yaml"
    records = yaml.safe_load(path.read_text(encoding="utf-8"))
    records[0]["facts"][0]["sorce"] = "source/wikipedia-balochistan"
    path.write_text(yaml.safe_dump(records, allow_unicode=True, sort_keys=False), encoding="utf-8")
    with pytest.raises(SeedError, match=r"places.yaml: record 'state/pakistan': unknown key\(s\) 'sorce' in fact capital"):
        seed_quads(BASE)
