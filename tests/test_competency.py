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
