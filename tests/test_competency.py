"""The competency questions, answered by the example queries shipped with the query page."""

from __future__ import annotations

from pathlib import Path

import pytest

from kg.sparql import execute
from kg.store import LocalStore
from server.util import HERE

EXAMPLES = HERE / "examples"


def run(store_path: Path, name: str) -> list[dict[str, str]]:
    _v, store = LocalStore(store_path).open_read()
    res = execute(store, (EXAMPLES / name).read_text(encoding="utf-8"), max_rows=1000)
    return [{k: (v.value if v is not None else "") for k, v in r.items()} for r in res.records()]


@pytest.fixture(scope="module")
def path(full_store: Path) -> Path:
    return full_store


def test_armed_groups_operating_in_balochistan(path: Path) -> None:
    labels = {r["label"] for r in run(path, "01-armed-groups-in-balochistan.rq")}
    assert labels == {"Baloch Liberation Army", "Baloch separatist groups"}


def test_incidents_outside_punjab_in_2025(path: Path) -> None:
    rows = run(path, "02-incidents-outside-punjab-2025.rq")
    labels = {r["label"] for r in rows}
    assert "Jaffar Express hijacking" in labels
    assert all(r["provinceLabel"] != "Punjab" and r["date"].startswith("2025") for r in rows)
    # the synthetic fixture has one 2025 Punjab protest and one 2024 KP clash: neither may appear
    assert not any("Mocktown" in label or "2024-" in label for label in labels)
    assert any("Synthville" in label for label in labels)


def test_grievances_of_the_baloch_insurgency(path: Path) -> None:
    rows = run(path, "03-grievances-of-the-baloch-insurgency.rq")
    categories = {r["categoryLabel"] for r in rows}
    assert {"Autonomy", "Resource control", "Alienation"} <= categories
    assert not any("Khyber" in r["label"] for r in rows)
    assert any(r["basis"].startswith("author's claim") for r in rows)


def test_claims_attributing_causes_to_foreign_pressure(path: Path) -> None:
    rows = run(path, "04-claims-blaming-foreign-pressure.rq")
    assert len(rows) == 3
    assert all("foreign pressure" in r["quote"] for r in rows)
    assert any("driven by foreign pressure, internal priorities" in r["quote"] for r in rows)


def test_jaffar_express_route(path: Path) -> None:
    (row,) = run(path, "05-jaffar-express-route.rq")
    assert row == {
        "originLabel": "Quetta",
        "originProvince": "Balochistan",
        "destinationLabel": "Peshawar",
        "destinationProvince": "Khyber Pakhtunkhwa",
    }


def test_contested_claims(path: Path) -> None:
    labels = {r["label"] for r in run(path, "06-contested-claims.rq")}
    assert labels == {
        "Punjab houses the capital, Islamabad",
        "Most of the Jaffar Express hostages were military personnel",
        "The BLA has long sought greater autonomy for Balochistan",
        "The BLA and other separatist groups demand greater autonomy and control over Balochistan's natural resources",
    }


def test_every_example_query_runs(path: Path) -> None:
    for rq in sorted(EXAMPLES.glob("*.rq")):
        assert run(path, rq.name), f"{rq.name} returned nothing"


def _split(value: str, sep: str) -> frozenset[str]:
    return frozenset(v for v in value.split(sep) if v)  # GROUP_CONCAT has no defined order


def test_figures_per_source_for_an_incident(path: Path) -> None:
    rows = run(path, "09-figures-per-source.rq")
    got = {
        (
            r["kind"],
            r["value"] or ">" + r["minValue"],
            r["qualifier"],
            _split(r["statedBy"], " / "),
            _split(r["reportedIn"], " / "),
            r["date"],
        )
        for r in rows
    }
    ispr, bla, officials = (
        "Inter-Services Public Relations (ISPR)",
        "Baloch Liberation Army",
        "Pakistani officials (not named in the report)",
    )
    ary_po = frozenset({"ARY News", "Pakistan Observer"})
    opinion_dev = frozenset({"The Opinion", "Devdiscourse"})
    f = frozenset
    assert len(rows) == 17
    assert got == {
        ("Attackers killed", "33", "Exact", f({ispr}), ary_po, "2025-03-12"),
        ("Duration in hours", "30", "Approximately", f(), f({"ARY News", "Devdiscourse"}), ""),
        ("Hostages killed", "26", "Exact", f({ispr}), f({"Devdiscourse"}), "2025-03-14"),
        ("Hostages rescued", "354", "Exact", f({officials}), opinion_dev, ""),
        ("Hostages taken", ">400", "More than", f({officials}), opinion_dev, ""),
        ("Hostages taken", "214", "Exact", f({bla}), f({"Republic Bharat"}), ""),
        ("Passengers killed", "21", "Exact", f({ispr}), ary_po, "2025-03-12"),
        ("People aboard", ">450", "More than", f({"Pakistan Railways officials"}), f({"WION"}), ""),
        ("People aboard", "400", "Approximately", f({"Press Trust of India (PTI)"}), f({"The Tribune (India)"}), ""),
        ("People aboard", "440", "Exact", f({ispr, "Pakistan Railways officials"}), f({"ARY News"}), ""),
        ("People injured", "17", "Exact", f(), f({"Headline.pk"}), "2025-03-11"),
        ("People injured", "37", "Exact", f({"Radio Pakistan"}), f({"d5thcolumn.com"}), "2025-03-12"),
        ("Security personnel among the hostages", ">100", "More than", f(), f({"The Opinion"}), ""),
        ("Security personnel among the hostages", ">200", "More than", f({bla}), f({"Republic Bharat"}), ""),
        ("Security personnel among the hostages killed", "18", "Exact", f({ispr}), f({"Devdiscourse"}), "2025-03-14"),
        ("Security personnel killed", ">100", "More than", f({bla}), f({"Patrika"}), ""),
        ("Security personnel killed", "4", "Exact", f({ispr}), ary_po, "2025-03-12"),
    }


def test_claims_by_speaker_and_stance(path: Path) -> None:
    rows = run(path, "10-claims-by-speaker-and-stance.rq")
    author = 'Author of "The Unraveling of Pakistan"'
    assert len(rows) == 34
    assert {(r["speaker"], r["stance"]) for r in rows if r["speaker"] == author} == {(author, "Asserts")}
    assert [r for r in rows if r["speaker"] != author] == [
        {"speaker": "Baloch Liberation Army", "stance": "Asserts", "label": "The BLA claims responsibility for the Jaffar Express hijacking", "proposition": ""},
        {"speaker": "Inter-Services Public Relations (ISPR)", "stance": "Alleges",
         "label": "The DG ISPR alleges that India sponsored the Jaffar Express attack", "proposition": "India sponsored the Jaffar Express attack"},
        {"speaker": "Ministry of External Affairs of India", "stance": "Denies",
         "label": "India's Ministry of External Affairs rejects the allegation that India sponsored the Jaffar Express attack",
         "proposition": "India sponsored the Jaffar Express attack"},
    ]  # fmt: skip


def test_claims_that_attribute_causes_with_their_hedges(path: Path) -> None:
    rows = run(path, "11-causal-claims-with-hedges.rq")
    assert all(r["quote"] for r in rows)
    hedged = {(r["label"][:40], r["cause"], r["hedge"], r["certainty"]) for r in rows if r["hedge"]}
    withdrawal = "The withdrawal from the periphery is dri"
    assert hedged == {
        (withdrawal, "Foreign pressure", "appears to be", "Probable"),
        (withdrawal, "Internal priorities", "appears to be", "Probable"),
        (withdrawal, "Centralization of power", "appears to be", "Probable"),
    }
    assert all(r["hedge"] in r["quote"] for r in rows)
    causes: dict[str, int] = {}
    for r in rows:
        causes[r["cause"]] = causes.get(r["cause"], 0) + 1
    assert causes == {
        "Foreign pressure": 3, "Internal priorities": 2, "Centralization of power": 2, "Failure of the political elite": 3,
        "Taliban resurgence in Afghanistan": 1, "External strategic priorities": 1, "Military dominance of politics": 1,
        "Failed negotiations": 1,
    }  # fmt: skip


def test_statements_whose_quote_an_outside_source_contradicts(path: Path) -> None:
    rows = run(path, "12-statements-contradicted-by-outside-sources.rq")
    got = {(r["label"], r["start"], r["end"], r["publisher"], _split(r["figures"], " | ")) for r in rows}
    autonomy = "The BLA has long sought greater autonomy for Balochistan"
    resources = "The BLA and other separatist groups demand greater autonomy and control over Balochistan's natural resources"
    hostages = "Most of the Jaffar Express hostages were military personnel"
    enc, reuters, f = "Wikipedia (read in mirrors of its article)", "Reuters (as relayed)", frozenset
    assert got == {
        (autonomy, "647", "750", enc, f()),
        (autonomy, "647", "750", reuters, f()),
        ("Punjab houses the capital, Islamabad", "1740", "1793", "Wikipedia", f()),
        (resources, "2052", "2229", enc, f()),
        (resources, "2052", "2229", reuters, f()),
        (hostages, "3599", "3673", "The Current", f()),
        (hostages, "3599", "3673", "The Opinion", f({"Hostages taken: 400+ passengers held (officials)",
            "Security personnel among the hostages: over 100 of 400+ (The Opinion)", "Hostages rescued: 354 in total (officials)"})),
        (hostages, "3599", "3673", "Devdiscourse", f({"Hostages taken: 400+ passengers held (officials)", "Hostages rescued: 354 in total (officials)",
            "Hostages killed: 26 (ISPR press conference, 14 March)", "Security personnel among the hostages killed: 18 of 26 (ISPR press conference, 14 March)"})),
    }  # fmt: skip
    assert all(r["quote"] for r in rows)
