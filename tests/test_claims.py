"""Who says what: speakers, stances on shared propositions, hedges taken from the quote."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
import yaml

import kg.curated as curated
from kg.curated import seed_quads
from kg.errors import SeedError
from kg.namespaces import Base

from .helpers import rows, seed_graph

BASE = Base()


store = pytest.fixture(scope="module")(seed_graph)  # the seed graph in memory, with the ontology


def test_an_allegation_and_its_denial_are_two_claims_about_one_proposition(store: ox.Store) -> None:
    found = rows(
        store,
        """SELECT ?speaker ?stance ?prop WHERE {
             ?c psk:proposition/rdfs:label ?prop ; psk:attributedTo/rdfs:label ?speaker ; psk:stance/skos:prefLabel ?stance }""",
    )
    assert sorted((r["speaker"], r["stance"], r["prop"]) for r in found) == [
        ("Inter-Services Public Relations (ISPR)", "Alleges", "India sponsored the Jaffar Express attack"),
        ("Ministry of External Affairs of India", "Denies", "India sponsored the Jaffar Express attack"),
    ]
    # the proposition's content is only ever in claim graphs, never a fact
    assert not rows(store, "SELECT ?i WHERE { ?i psk:sponsoredBy ?s }")
    assert len(rows(store, "SELECT ?g WHERE { GRAPH ?g { ?i psk:sponsoredBy ?s } }")) == 2
    # each claim graph is attributed to its own speaker
    assert sorted(
        r["who"]
        for r in rows(
            store, "SELECT ?who WHERE { ?c psk:proposition ?p ; psk:assertionGraph ?g . ?g prov:wasAttributedTo/rdfs:label ?who }"
        )
    ) == ["Inter-Services Public Relations (ISPR)", "Ministry of External Affairs of India"]


def test_other_parties_claims_cite_the_reports_not_the_article(store: ox.Store) -> None:
    found = rows(
        store,
        """SELECT ?c ?pub WHERE { ?c a psk:Claim ; psk:reportedIn ?r . ?r schema:publisher ?pub
                                  FILTER NOT EXISTS { ?c psk:evidence ?e } }""",
    )
    assert {r["c"].rsplit("/", 1)[-1] for r in found} == {
        "ispr-alleges-indian-sponsorship",
        "india-rejects-sponsorship-allegation",
        "bla-claims-responsibility",
    }
    assert not rows(
        store, f"SELECT ?c WHERE {{ ?c psk:reportedIn ?r ; psk:source <{BASE.entity('source/the-unraveling-of-pakistan')}> }}"
    )


def test_hedges_are_words_of_the_quote_with_a_certainty_level(store: ox.Store) -> None:
    found = rows(
        store,
        """SELECT ?hedge ?level ?quote WHERE { ?c psk:hedge ?hedge ; psk:certainty/skos:prefLabel ?level ;
                                               psk:evidence/oa:hasSelector/oa:exact ?quote }""",
    )
    assert sorted((r["hedge"], r["level"]) for r in found) == [
        ("Reports indicate", "Hearsay"),
        ("appears to be", "Probable"),
        ("arguably", "Possible"),
        ("seems", "Probable"),
    ]
    assert all(r["hedge"] in r["quote"] for r in found)


def test_every_article_claim_is_the_authors_and_asserted(store: ox.Store) -> None:
    author = BASE.entity("agent/author-of-the-unraveling-of-pakistan")
    found = rows(
        store, "SELECT ?c ?who ?stance WHERE { ?c a psk:Claim ; psk:evidence ?e ; psk:attributedTo ?who ; psk:stance ?stance }"
    )
    assert len(found) == 31
    assert {(r["who"], r["stance"].rsplit("/", 1)[-1]) for r in found} == {(author, "asserts")}


def _claims(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, list[dict[str, Any]]]:
    target = tmp_path / "curated"
    shutil.copytree(curated.CURATED_DIR, target)
    monkeypatch.setattr(curated, "CURATED_DIR", target)
    path = target / "claims.yaml"
    return path, yaml.safe_load(path.read_text(encoding="utf-8"))


def _find(records: list[dict[str, Any]], rid: str) -> dict[str, Any]:
    return next(r for r in records if r["id"] == rid)


@pytest.mark.parametrize(
    "rid,change,message",
    [
        ("claim/state-chose-to-withdraw-from-periphery", {"hedge": {"term": "perhaps", "certainty": "possible"}},
         "record 'claim/state-chose-to-withdraw-from-periphery': hedge term 'perhaps' is not in the claim's quote"),
        ("claim/state-chose-to-withdraw-from-periphery", {"hedge": {"term": "arguably", "certainty": "maybe"}},
         "certainty must be one of probable, possible, hearsay, not 'maybe'"),
        ("claim/state-chose-to-withdraw-from-periphery", {"hedge": {"term": "arguably", "certainty": "possible", "weight": 1}},
         "unknown key(s) 'weight' in its hedge"),
        ("claim/ispr-alleges-indian-sponsorship", {"stance": "claims"}, "stance must be one of asserts, alleges, denies, disputes"),
        ("claim/ispr-alleges-indian-sponsorship", {"speaker": "org/nobody"}, "reference 'org/nobody' names no curated record"),
        ("claim/ispr-alleges-indian-sponsorship", {"proposition": "state/india"}, "'proposition' must name a Proposition record"),
        ("claim/ispr-alleges-indian-sponsorship", {"status": "opinion"}, "claim status must be 'attributed' or 'contested'"),
        ("claim/ispr-alleges-indian-sponsorship", {"quote": "x", "start": 0, "end": 1}, "either a quote of the article"),
    ],
)  # fmt: skip
def test_bad_claim_records_are_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rid: str, change: dict[str, Any], message: str
) -> None:
    path, records = _claims(tmp_path, monkeypatch)
    _find(records, rid).update(change)
    path.write_text(yaml.safe_dump(records, allow_unicode=True, sort_keys=False), encoding="utf-8")
    with pytest.raises(SeedError) as err:
        seed_quads(BASE)
    assert "claims.yaml" in str(err.value) and message in str(err.value), str(err.value)


def test_a_party_claim_needs_its_speaker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path, records = _claims(tmp_path, monkeypatch)
    del _find(records, "claim/bla-claims-responsibility")["speaker"]
    path.write_text(yaml.safe_dump(records, allow_unicode=True, sort_keys=False), encoding="utf-8")
    with pytest.raises(
        SeedError, match="record 'claim/bla-claims-responsibility': a claim carried by a report names its speaker"
    ):
        seed_quads(BASE)


def test_every_claim_has_machine_readable_content(store: ox.Store) -> None:
    empty = rows(
        store,
        """SELECT ?c WHERE { ?c a psk:Claim
             FILTER NOT EXISTS { ?c psk:assertionGraph ?g . GRAPH ?g { ?s ?p ?o } } }""",
    )
    assert empty == []
    assert len(rows(store, "SELECT ?c WHERE { ?c a psk:Claim }")) == 34


def test_roles_refine_about_so_a_contrast_is_not_a_victim(store: ox.Store) -> None:
    punjab = BASE.entity("province/punjab")
    # Punjab is what the periphery is contrasted with, never a place whose plight a claim describes
    assert not rows(store, f"SELECT ?c WHERE {{ ?c psk:describesSituationOf <{punjab}> }}")
    contrasted = rows(store, f"SELECT ?c WHERE {{ ?c psk:contrastsWith <{punjab}> }}")
    assert {r["c"].rsplit("/", 1)[-1] for r in contrasted} == {
        "provinces-outside-punjab-suffer-deteriorating-security",
        "military-keeps-order-in-punjab-but-falters-in-periphery",
    }
    # psk:about stays the common super-property: every role value is also psk:about (for queries without inference)
    assert not rows(
        store,
        """SELECT ?c ?x WHERE { ?role rdfs:subPropertyOf psk:about . ?c ?role ?x FILTER NOT EXISTS { ?c psk:about ?x } }""",
    )
    # and what the claims say of Punjab's situation is nothing: no claim graph says a trend affects it
    assert not rows(store, f"SELECT ?g WHERE {{ GRAPH ?g {{ ?t psk:affects <{punjab}> }} }}")


def test_the_blas_aim_is_the_articles_contested_claim(store: ox.Store) -> None:
    bla = BASE.entity("group/baloch-liberation-army")
    autonomy = BASE.entity("grievance/baloch-autonomy")
    assert not rows(store, f"SELECT ?x WHERE {{ <{bla}> psk:seeks <{autonomy}> }}")
    assert not rows(store, f"SELECT ?x WHERE {{ <{autonomy}> psk:articulatedBy ?x }}")
    found = rows(
        store,
        f"""SELECT ?c ?src WHERE {{ ?c psk:assertionGraph ?g ; psk:assertionStatus st:contested ; psk:contestedBy/rdfs:label ?src .
                                  GRAPH ?g {{ <{bla}> psk:seeks <{autonomy}> }} }}""",
    )
    assert {r["c"].rsplit("/", 1)[-1] for r in found} == {
        "bla-sought-greater-autonomy",
        "separatists-demand-autonomy-and-resource-control",
    }
    assert any("Balochistan Liberation Army" in r["src"] for r in found)
    # what outside sources report is a sourced statement; the article's "campaign for independence" is a claim
    assert rows(
        store,
        f"""SELECT ?st WHERE {{ ?st rdf:subject <{bla}> ; rdf:predicate psk:seeks ; rdf:object ?g ; psk:source/schema:url ?u .
                               ?g psk:grievanceCategory gc:independence }}""",
    )


def test_statements_say_only_what_their_quote_says(store: ox.Store) -> None:
    basin = BASE.entity("region/indus-river-basin")
    assert not rows(store, f"SELECT ?x WHERE {{ <{basin}> psk:locatedIn ?x }}")
    rescue = BASE.entity("incident/jaffar-express-rescue-operation-2025")
    assert not rows(store, f"SELECT ?x WHERE {{ <{rescue}> psk:perpetrator|psk:target ?x }}")
    # no grievance is said to be held by the whole Baloch community except the alienation "among the Baloch population"
    held = rows(store, f"SELECT ?g WHERE {{ ?g psk:heldBy <{BASE.entity('community/baloch')}> }}")
    assert [r["g"].rsplit("/", 1)[-1] for r in held] == ["baloch-alienation"]
    # a quote that names the relation's object: KP grievances and patterns cite words naming KP
    for r in rows(
        store,
        f"""SELECT ?quote WHERE {{ VALUES ?p {{ psk:concernsPlace psk:province }} ?st rdf:predicate ?p ; rdf:object <{BASE.entity("province/khyber-pakhtunkhwa")}> ;
                                  psk:evidence/oa:hasSelector/oa:exact ?quote }}""",
    ):
        assert "KP" in r["quote"] or "peripheral provinces" in r["quote"], r["quote"]


def test_every_alias_has_a_source(store: ox.Store) -> None:
    unsourced = rows(
        store,
        """SELECT ?s ?alias WHERE { ?s skos:altLabel ?alias FILTER(STRSTARTS(STR(?s), "https://w3id.org/pakistan-security-kg/id/"))
             FILTER NOT EXISTS { ?st rdf:subject ?s ; rdf:predicate skos:altLabel ; rdf:object ?alias ; psk:source ?src } }""",
    )
    assert unsourced == []
    aliases = {r["alias"] for r in rows(store, "SELECT ?alias WHERE { ?s skos:altLabel ?alias }")}
    assert {"BLA", "KP", "NWFP", "Baluchistan", "Military Forces of Pakistan"} <= aliases
    assert not {"Police Forces of Pakistan", "Islamic Emirate of Afghanistan", "Islamabad"} & aliases


@pytest.mark.parametrize(
    "file,rid,change,message",
    [
        ("actors.yaml", "group/tehrik-i-taliban-pakistan", {"aliases": ["Pakistani Taliban"]}, "alias 'Pakistani Taliban' needs its source"),
        ("actors.yaml", "group/tehrik-i-taliban-pakistan", {"aliases": [{"name": "TTP", "quote": "Tehrik-i-Taliban Pakistan", "start": 2718, "end": 2743}]},
         "alias 'TTP' is not in its quote"),
        ("claims.yaml", "claim/failure-will-deepen-divide", {"about": {"mentions": ["state/pakistan"]}}, "unknown role 'mentions' in 'about'"),
        ("claims.yaml", "claim/failure-will-deepen-divide", {"about": ["state/pakistan"]}, "'about' must map roles"),
    ],
)  # fmt: skip
def test_unsourced_alias_and_unknown_role_are_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, file: str, rid: str, change: dict[str, Any], message: str
) -> None:
    target = tmp_path / "curated"
    shutil.copytree(curated.CURATED_DIR, target)
    monkeypatch.setattr(curated, "CURATED_DIR", target)
    path = target / file
    records = yaml.safe_load(path.read_text(encoding="utf-8"))
    _find(records, rid).update(change)
    path.write_text(yaml.safe_dump(records, allow_unicode=True, sort_keys=False), encoding="utf-8")
    with pytest.raises(SeedError) as err:
        seed_quads(BASE)
    assert f"{file}: record '{rid}'" in str(err.value) and message in str(err.value), str(err.value)
