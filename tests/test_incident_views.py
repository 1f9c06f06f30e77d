"""Entity pages' incident tables read from the derived table: filters for every coded field, facets with exact
counts, paging, errors naming the bad parameter, and "open as SPARQL" listing exactly the same rows from the graph."""

from __future__ import annotations

import html
import re
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from kg.build import build
from kg.config import Settings
from kg.describe import IncidentFilter
from kg.loaders import load_files
from kg.namespaces import PREFIXES, Base
from kg.store import LocalStore
from kg.tables import Table, ensure_for_version
from server import create_app

from .conftest import FIXTURES

ID = Base().entity("")
ET = PREFIXES["et"]
N = 240  # synthetic rows: more than one page of Balochistan incidents


def synthetic_rows(n: int) -> list[str]:
    """ACLED rows derived from the fixture: dates, fatalities, types and actors vary with the row number."""
    lines = (FIXTURES / "acled_small.csv").read_text(encoding="utf-8").splitlines()
    header, template, battle = lines[0], lines[1], lines[4 - 1]  # SYN0001: BLA in Balochistan; SYN0003: a battle
    out = [header]
    for k in range(n):
        src = battle.replace(",KP,", ",Baluchistan,") if k % 3 == 0 else template
        fields = src.split(",")
        fields[0] = f"GEN{k:05d}"
        fields[1] = f"20{20 + k % 5}-{1 + k % 12:02d}-{1 + k % 28:02d}"
        fields[2] = fields[1][:4]
        out.append(
            ",".join(fields).replace('real data.",3,', f'real data.",{k % 7},').replace('real data.",2,', f'real data.",{k % 4},')
        )
    return out


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("views")
    path = tmp / "store"
    build(LocalStore(path), Base())
    load_files("acled", [FIXTURES / "acled_small.csv"], Settings(store=str(path)))
    (tmp / "gen.csv").write_text("\n".join(synthetic_rows(N)) + "\n", encoding="utf-8")
    load_files("acled", [tmp / "gen.csv"], Settings(store=str(path)))
    return path


@pytest.fixture(scope="module")
def client(store_path: Path) -> Iterator[FlaskClient]:
    app = create_app(Settings(store=str(store_path)))
    yield app.test_client()
    app.extensions["psk"]["backend"].close()


@pytest.fixture(scope="module")
def table(store_path: Path) -> Table:
    return Table(ensure_for_version(LocalStore(store_path).version_dir()))


def table_rows(table: Table, entity: str, where: str = "TRUE", params: list[object] | None = None) -> list[str]:
    sql = (
        "SELECT DISTINCT i.incident, i.date FROM incidents i JOIN links l ON l.incident = i.incident"
        f" WHERE l.entity = ? AND l.role <> 'eventType' AND {where} ORDER BY i.date NULLS FIRST, i.incident"
    )
    return [r[0] for r in table.rows(sql, [entity, *(params or [])])]


def total(page: str) -> int:
    found = re.search(r'<span class="total">(\d+)</span>', page)
    assert found, "no total on the page"
    return int(found.group(1))


def test_page_totals_are_exact_and_pages_cover_every_row(client: FlaskClient, table: Table) -> None:
    balochistan = ID + "province/balochistan"
    expected = table_rows(table, balochistan)
    assert len(expected) > 100
    page = client.get("/page/id/province/balochistan").get_data(as_text=True)
    assert total(page) == len(expected) and f"of {len(expected)} incidents" in page
    seen: list[str] = []
    n = 1
    while True:
        resp = client.get("/page/id/province/balochistan", query_string={"page": n} if n > 1 else {})
        body = resp.get_data(as_text=True)
        rows = body[body.index('<table class="incidents">') :]
        rows = rows[: rows.index("</table>")]
        seen += [ID + m for m in re.findall(r'href="/page/id/(incident/[^"]+)"', rows)]
        if 'rel="next"' not in body:
            break
        n += 1
    assert n == -(-len(expected) // 100) and seen == expected
    data = client.get("/incidents/id/province/balochistan.json").get_json()
    assert data["total"] == len(expected) and [it["iri"] for it in data["incidents"]] == expected


def test_filters_for_every_coded_field(client: FlaskClient, table: Table) -> None:
    balochistan, bla = ID + "province/balochistan", ID + "group/baloch-liberation-army"
    cases = [
        ({"from": "2022-01-01", "to": "2022-12-31"}, "i.date BETWEEN DATE '2022-01-01' AND DATE '2022-12-31'", []),
        ({"type": ET + "battles"}, "i.event_type = ?", [ET + "battles"]),
        ({"type": ET + "armed-clash"}, "i.sub_event_type = ?", [ET + "armed-clash"]),
        ({"fmin": "3", "fmax": "5"}, "i.fatalities BETWEEN 3 AND 5", []),
        ({"actor": bla}, "i.incident IN (SELECT incident FROM links WHERE entity = ?)", [bla]),
        ({"role": "within"}, "i.incident IN (SELECT incident FROM links WHERE entity = l.entity AND role = 'within')", []),
        (
            {"place": ID + "place/balochistan/synthetic-district-a"},
            "i.district = ?",
            [ID + "place/balochistan/synthetic-district-a"],
        ),
    ]
    for args, where, params in cases:
        expected = table_rows(table, balochistan, where, params)
        assert expected, args
        data = client.get("/incidents/id/province/balochistan.json", query_string=args).get_json()
        assert [it["iri"] for it in data["incidents"]] == expected, args
        page = client.get("/page/id/province/balochistan", query_string=args).get_data(as_text=True)
        assert total(page) == len(expected), args
        csv_rows = client.get("/incidents/id/province/balochistan.csv", query_string=args).get_data(as_text=True).splitlines()
        assert len(csv_rows) == len(expected) + 1, args
    # the filter state is in the URL: the pager keeps it
    page = client.get("/page/id/province/balochistan", query_string={"from": "2020-01-02", "sort": "-date"}).get_data(
        as_text=True
    )
    links = [html.unescape(h) for h in re.findall(r'href="(/page/id/province/balochistan\?[^"]+)"', page)]
    assert any("page=2" in h and "sort=-date" in h and "from=2020-01-02" in h for h in links)


def test_facets_count_under_the_other_filters(client: FlaskClient, table: Table) -> None:
    bla = ID + "group/baloch-liberation-army"
    reader = client.application.extensions["psk"]["reader"]
    view = reader.incident_table(bla, IncidentFilter(start="2021-01-01"))
    assert view is not None
    types = {f.value: f.count for f in view.types}
    for iri, n in types.items():
        only = reader.incident_table(bla, IncidentFilter(start="2021-01-01", type=iri))
        assert only.total == n
    roles = {f.value: f.count for f in view.roles}
    assert roles["actor1"] + roles["perpetrator"] == view.total  # ACLED actor 1 rows, the curated incident
    series_total = sum(n for _m, n in view.series)
    assert series_total == view.total


@pytest.mark.parametrize(
    "args,name",
    [
        ({"from": "2025-13-01"}, "from"),
        ({"to": "yesterday"}, "to"),
        ({"from": "2025-02-01", "to": "2025-01-01"}, "from"),
        ({"fmin": "-1"}, "fmin"),
        ({"fmax": "many"}, "fmax"),
        ({"type": "Battles"}, "type"),
        ({"type": ID + "group/baloch-liberation-army"}, "type"),
        ({"actor": "javascript:alert(1)"}, "actor"),
        ({"place": ET + "battles"}, "place"),
        ({"role": "x y"}, "role"),
        ({"page": "0"}, "page"),
        ({"page": "99"}, "page"),
        ({"sort": "random"}, "sort"),
    ],
)
def test_bad_parameters_are_400_naming_them(client: FlaskClient, args: dict[str, str], name: str) -> None:
    for url in ("/page/id/province/balochistan", "/incidents/id/province/balochistan.csv"):
        if url.endswith(".csv") and name == "page":
            continue
        resp = client.get(url, query_string=args)
        assert resp.status_code == 400, (url, args)
        assert f"{name}=" in resp.get_data(as_text=True), (url, args)


def test_open_as_sparql_lists_the_same_rows(client: FlaskClient, table: Table) -> None:
    from kg.sparql import execute

    backend = client.application.extensions["psk"]["backend"]
    store = backend._store()
    views = [
        ("province/balochistan", {}),
        ("province/balochistan", {"from": "2021-03-01", "to": "2023-06-30", "type": ET + "explosions-remote-violence"}),
        ("province/balochistan", {"role": "within", "fmin": "2", "sort": "-fatalities"}),
        ("group/baloch-liberation-army", {"place": ID + "place/balochistan/synthetic-district-a", "fmax": "4", "sort": "-date"}),
        ("group/baloch-liberation-army", {"actor": ID + "org/pakistan-armed-forces", "role": "actor1"}),
    ]
    for path, args in views:
        page = client.get(f"/page/id/{path}", query_string=args).get_data(as_text=True)
        link = re.search(r'href="(/query\?query=[^"]+)">open this as a SPARQL query', page)
        assert link is not None
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(html.unescape(link.group(1))).query)["query"][0]
        for key in ("from", "to", "type", "actor", "place", "fmin", "fmax"):
            assert key not in args or args[key] in query, (key, query)
        result = execute(store, query, max_rows=1_000_000)
        from_graph = [row[0].value for row in result.rows]
        data = client.get(f"/incidents/id/{path}.json", query_string=args).get_json()
        assert from_graph == [it["iri"] for it in data["incidents"]], (path, args)
        assert from_graph, (path, args)


@pytest.mark.parametrize("sort_limit", [5_000, 0])  # 0: every class is listed in index order, as large ones are
def test_class_counts_are_exact_and_class_pages_page_through_every_member(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch, sort_limit: int
) -> None:
    from kg.sparql import execute

    store = client.application.extensions["psk"]["backend"]._store()
    counts = execute(
        store,
        "SELECT ?c (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a ?c FILTER(STRSTARTS(STR(?c), STR(psk:))) } GROUP BY ?c",
        max_rows=1000,
    )
    expected = {c.value[len(PREFIXES["psk"]) :]: int(n.value) for c, n in counts.rows}
    monkeypatch.setattr("kg.describe.CLASS_SORT_LIMIT", sort_limit)
    reader = client.application.extensions["psk"]["reader"]
    assert {c.name: c.count for c in reader.class_counts()} == expected
    home = client.get("/").get_data(as_text=True)
    assert f'<td class="num">{expected["Incident"]}</td>' in home
    for name, size in (("Incident", 100), ("City", 7), ("ArmedGroup", 5)):
        members: list[str] = []
        page = 1
        while True:
            listing = reader.class_page(name, page, size)
            assert listing.total == expected[name]
            members += [m.iri for m in listing.members]
            if not listing.more:
                break
            page += 1
        assert len(members) == len(set(members)) == expected[name], name
    body = client.get("/class/Incident").get_data(as_text=True)
    assert f'<span class="total">{expected["Incident"]}</span> instances' in body
