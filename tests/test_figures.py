"""Reported figures: every number a source gives for the Jaffar Express hijacking, kept apart, dated and sourced."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyoxigraph as ox
import pytest
import yaml

import kg.curated as curated
from kg.curated import seed_quads
from kg.errors import SeedError
from kg.namespaces import Base

from .helpers import rows, seed_graph

BASE = Base()
HIJACKING = BASE.entity("incident/jaffar-express-hijacking-2025")


store = pytest.fixture(scope="module")(seed_graph)  # the seed graph in memory, with the ontology


def test_people_aboard_are_three_figures_from_three_sources_never_one_number(store: ox.Store) -> None:
    found = rows(
        store,
        f"""SELECT ?n ?min ?q ?as ?who ?src WHERE {{
              ?f a psk:ReportedFigure ; psk:quantityKind qk:people-aboard ; psk:about <{HIJACKING}> ;
                 psk:valueQualifier ?q ; psk:reportedAs ?as ; psk:reportedIn/schema:publisher ?src .
              OPTIONAL {{ ?f psk:value ?n }} OPTIONAL {{ ?f psk:minValue ?min }}
              OPTIONAL {{ ?f psk:statedBy/rdfs:label ?who }} }}""",
    )
    got = sorted((r.get("n", ""), r.get("min", ""), r["q"].rsplit("/", 1)[-1], r.get("who", ""), r["src"]) for r in found)
    assert got == [
        ("", "450", "more-than", "Pakistan Railways officials", "WION"),
        ("400", "", "approximately", "Press Trust of India (PTI)", "The Tribune (India)"),
        ("440", "", "exact", "Inter-Services Public Relations (ISPR)", "ARY News"),
        ("440", "", "exact", "Pakistan Railways officials", "ARY News"),
    ]
    # no figure is a plain property of the incident
    assert not rows(store, f"SELECT ?p WHERE {{ <{HIJACKING}> psk:hostages|psk:fatalities|psk:victims ?p }}")


def test_deaths_change_with_the_date_of_the_statement(store: ox.Store) -> None:
    found = rows(
        store,
        """SELECT ?kind ?n ?date WHERE { ?f psk:quantityKind ?k ; psk:value ?n ; dcterms:date ?date ; psk:statedBy ?ispr .
                                        ?k skos:prefLabel ?kind . ?k skos:broader* qk:killed .
                                        ?ispr rdfs:label "Inter-Services Public Relations (ISPR)"@en }""",
    )
    assert sorted((r["date"], r["kind"], int(r["n"])) for r in found) == [
        ("2025-03-12", "Attackers killed", 33),
        ("2025-03-12", "Passengers killed", 21),
        ("2025-03-12", "Security personnel killed", 4),
        ("2025-03-14", "Hostages killed", 26),
        ("2025-03-14", "Security personnel among the hostages killed", 18),
    ]


def test_the_armed_groups_figures_are_its_own(store: ox.Store) -> None:
    found = rows(
        store,
        """SELECT ?label WHERE { ?f a psk:ReportedFigure ; rdfs:label ?label ; psk:statedBy ?bla .
                                ?bla rdfs:label "Baloch Liberation Army"@en }""",
    )
    assert sorted(r["label"] for r in found) == [
        "Hostages taken: 214 (the BLA's claim)",
        "Security personnel among the hostages: more than 200 soldiers (the BLA's claim)",
        "Security personnel killed: 100+ army losses (the BLA's claim)",
    ]


def test_every_figure_is_sourced_and_every_source_is_a_document(store: ox.Store) -> None:
    assert not rows(store, "SELECT ?f WHERE { ?f a psk:ReportedFigure FILTER NOT EXISTS { ?f psk:reportedIn ?s } }")
    assert not rows(
        store,
        "SELECT ?s WHERE { ?f psk:reportedIn ?s FILTER NOT EXISTS { ?s a psk:Article ; schema:publisher ?p ; rdfs:label ?l } }",
    )
    assert len(rows(store, "SELECT ?f WHERE { ?f a psk:ReportedFigure }")) == 17


def _figures(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, list[dict[str, object]]]:
    target = tmp_path / "curated"
    shutil.copytree(curated.CURATED_DIR, target)
    monkeypatch.setattr(curated, "CURATED_DIR", target)
    path = target / "figures.yaml"
    return path, yaml.safe_load(path.read_text(encoding="utf-8"))


def _write(path: Path, records: list[dict[str, object]]) -> None:
    path.write_text(yaml.safe_dump(records, allow_unicode=True, sort_keys=False), encoding="utf-8")


@pytest.mark.parametrize(
    "change,message",
    [
        ({"vaule": 3}, "seeds/curated/figures.yaml: record 'figure/people-aboard-ispr-440': unknown key(s) 'vaule' in a figure"),
        ({"stated_by": ["org/nobody"]}, "record 'figure/people-aboard-ispr-440': reference 'org/nobody' names no curated record"),
        (
            {"reported_in": ["source/nowhere"]},
            "record 'figure/people-aboard-ispr-440': reference 'source/nowhere' names no curated record",
        ),
        ({"reported_in": ["org/ispr"]}, "'reported_in' must name source records (Article or Source), not 'org/ispr'"),
        ({"about": "province/balochistan"}, "'about' must name an Incident record, not 'province/balochistan'"),
        ({"min": 400}, "exactly one of 'value' (exact or approximate) and 'min'"),
        ({"value": -1}, "must be a non-negative integer, not -1"),
        ({"kind": "people-abroad"}, None),
        ({"reported_in": []}, "at least one source it was reported in"),
    ],
)
def test_bad_figure_records_are_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: dict[str, object], message: str | None
) -> None:
    path, records = _figures(tmp_path, monkeypatch)
    records[0].update(change)
    _write(path, records)
    if message is None:  # an unknown concept is only caught by the shapes: the build's validation names it
        from kg.validate import validate

        report = validate(seed_quads(BASE))
        assert not report.conforms and "people-abroad" in report.text
        return
    with pytest.raises(SeedError) as err:
        seed_quads(BASE)
    assert message.replace("seeds/curated/", "") in str(err.value), str(err.value)
