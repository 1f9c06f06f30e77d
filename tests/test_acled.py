"""Conflict-data loading: ACLED and UCDP GED rows onto the ontology, transactional and idempotent."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pyoxigraph as ox
import pytest

from kg.config import Settings
from kg.errors import LoadError
from kg.loaders import ACLED_COLUMNS, load_files
from kg.namespaces import PREFIXES, PSK, Base
from kg.store import LocalStore
from kg.validate import validate

from .conftest import FIXTURES

BASE = Base()
ACLED = FIXTURES / "acled_small.csv"


@pytest.fixture
def store(seed_store: Path, tmp_path: Path) -> LocalStore:
    """A private copy of the seed store."""
    target = tmp_path / "store"
    src = LocalStore(seed_store)
    LocalStore(target).write(lambda s: s.extend(src.open_read()[1]), from_current=False)
    return LocalStore(target)


def settings(store: LocalStore) -> Settings:
    return Settings(store=str(store.path))


def quads(store: LocalStore) -> set[str]:
    return {str(q) for q in store.open_read()[1] if "terms/modified" not in q.predicate.value}


def ask(store: LocalStore, q: str) -> bool:
    return bool(store.open_read()[1].query(q, prefixes=PREFIXES))


def rows() -> list[dict[str, str]]:
    with open(ACLED, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def write(path: Path, data: list[dict[str, str]], columns: list[str] = ACLED_COLUMNS) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        writer.writerows(data)
    return path


def about(store: LocalStore, subject: str) -> set[tuple[str, str]]:
    """Every (predicate, object) of a subject in the default graph, as N-Triples terms with prefixes shortened."""
    _v, s = store.open_read()
    out = set()
    for q in s.quads_for_pattern(ox.NamedNode(subject), None, None, ox.DefaultGraph()):
        out.add((short(str(q.predicate)), short(str(q.object))))
    return out


def short(term: str) -> str:
    vocab = PREFIXES["psk"][: -len("ontology#")] + "vocab/"
    for prefix, ns in (("id:", BASE.entity("")), *((f"{k}:", v) for k, v in PREFIXES.items()), ("v:", vocab)):
        if term.startswith(f"<{ns}") and term.endswith(">"):
            return prefix + term[len(ns) + 1 : -1]
    return term.replace(f"^^<{PREFIXES['xsd']}", "^^xsd:").replace(">", "") if "^^<" in term else term


def test_rows_become_incidents_reconciled_with_seed_entities(store: LocalStore) -> None:
    report = load_files("acled", [ACLED], settings(store))
    assert report.rows == 4 and not report.skipped
    e = BASE.entity
    # an explosion: two sides as ACLED codes them, no direction ("BLA: ..." and "Military Forces of Pakistan (2018-)"
    # reconcile with the curated BLA and armed forces; "Baluchistan" with Balochistan)
    inc = e("incident/acled-syn0001")
    assert about(store, inc) == {
        ("rdf:type", "psk:Incident"),
        ("rdfs:label", '"Remote explosive/landmine/IED in Synthville, 2025-01-05"@en'),
        ("psk:eventId", '"SYN0001"'),
        ("psk:date", '"2025-01-05"^^xsd:date'),
        ("psk:timePrecision", '"1"^^xsd:integer'),
        ("psk:eventType", "et:explosions-remote-violence"),
        ("psk:eventType", "et:remote-explosive-landmine-ied"),
        ("psk:country", "id:state/pakistan"),
        ("psk:province", "id:province/balochistan"),
        ("psk:district", "id:place/balochistan/synthetic-district-a"),
        ("psk:place", "id:place/balochistan/synthetic-district-a/synthville"),
        ("schema:latitude", '"29.5"^^xsd:decimal'),
        ("schema:longitude", '"67"^^xsd:decimal'),
        ("psk:geoPrecision", '"1"^^xsd:integer'),
        ("psk:actor1", "id:group/baloch-liberation-army"),
        ("psk:actor2", "id:org/pakistan-armed-forces"),
        ("psk:side", "id:incident/acled-syn0001/actor-1"),
        ("psk:side", "id:incident/acled-syn0001/actor-2"),
        ("psk:interaction", "v:interaction/12"),
        ("psk:fatalities", '"3"^^xsd:integer'),
        ("psk:civilianTargeting", '"false"^^xsd:boolean'),
        ("psk:notes", '"Synthetic test event, not real data."'),
        ("psk:sourceName", '"Synthetic Source"'),
        ("psk:sourceScale", '"National"'),
        ("psk:isoCountryCode", '"586"'),
        ("psk:worldRegion", '"Southern Asia"'),
        ("psk:disorderType", '"Political violence"'),
        ("dcterms:modified", '"2025-01-05T18:00:00"^^xsd:dateTime'),
        ("psk:source", f"id:record/acled-{report_sha(ACLED)}/2"),
    }
    assert about(store, inc + "/actor-1") == {
        ("rdf:type", "psk:Side"),
        ("rdfs:label", '"Actor 1: BLA: Baloch Liberation Army"@en'),
        ("psk:sideRole", "v:side-role/actor-1"),
        ("psk:sideActor", "id:group/baloch-liberation-army"),
        ("psk:actorName", '"BLA: Baloch Liberation Army"'),
        ("psk:actorType", "v:inter/rebel-groups"),
    }
    # "Police Forces of Pakistan (2018-)" is not the article's generic "security forces": a new entity
    assert ask(
        store,
        f"ASK {{ <{e('incident/acled-syn0003')}> psk:province <{e('province/khyber-pakhtunkhwa')}> ; psk:actor1 <{e('group/tehrik-i-taliban-pakistan')}> ; psk:actor2 <{e('actor/police-forces-of-pakistan')}> }}",
    )
    # violence against civilians: the coding gives a direction
    assert {
        ("psk:perpetrator", "id:actor/unidentified-armed-group-pakistan"),
        ("psk:target", "id:actor/civilians-pakistan"),
    } <= about(store, e("incident/acled-syn0002"))
    # provenance names the file and the row
    assert ask(
        store,
        f"""ASK {{ <{e("incident/acled-syn0002")}> psk:source ?r . ?r psk:rowNumber "3"^^xsd:integer ;
                                psk:dataset/psk:fileName "acled_small.csv" }}""",
    )
    # new actors are minted with their ACLED actor type, and say why
    assert about(store, e("actor/unidentified-armed-group-pakistan")) >= {
        ("rdfs:label", '"Unidentified Armed Group (Pakistan)"@en'),
        ("rdf:type", "psk:ArmedGroup"),
        ("psk:interactionType", "v:inter/political-militias"),
    }
    assert not ask(store, "ASK { ?i psk:perpetrator ?a ; psk:eventType et:battles }")
    assert not ask(store, "ASK { ?i psk:perpetrator ?a ; psk:eventType et:protests }")


def report_sha(path: Path) -> str:
    from kg.loaders.rows import file_sha

    return file_sha(path)[:16]


def versions(store: LocalStore) -> list[str]:
    return sorted(d.name for d in store.versions.iterdir() if d.is_dir() and not d.name.endswith((".dumps", ".tables")))


def _statistics(quad: str) -> bool:
    """A quad (as text) of the statistics graph, or what VoID says of it."""
    props = [f"<{PSK}{p}>" for p in ("statistics", "statisticsObservations", "namedGraphTriples")]
    return f"<{BASE.graph('statistics')}>" in quad or any(p in quad for p in props)


def test_a_load_is_served_at_once_then_replaced_by_a_compacted_copy(store: LocalStore) -> None:
    before = store.version()
    served: list[tuple[str, bool, set[str], int]] = []

    def progress(message: str) -> None:
        if message.startswith("compacting"):
            version, reader = store.open_read()
            visible = ask(store, f"ASK {{ <{BASE.entity('incident/acled-syn0001')}> ?p ?o }}")
            served.append((version, visible, {str(q) for q in reader}, len(list(store.version_dir(version).glob("*.sst")))))
            del reader

    report = load_files("acled", [ACLED], settings(store), progress=progress)
    [(loaded, visible, loaded_content, loaded_files)] = served
    assert visible  # readers see the loaded rows before the compaction starts
    assert report.compact_s is not None and report.version == store.version() != loaded
    # the same data, plus the statistics graph generated from it (and what VoID says of that graph)
    current = {str(q) for q in store.open_read()[1]}
    assert {q for q in loaded_content if not _statistics(q)} == {q for q in current if not _statistics(q)}
    assert any(f"<{BASE.graph('statistics')}>" in q for q in current)
    assert len(list(store.version_dir().glob("*.sst"))) < loaded_files  # the overlapping files of the bulk load are merged
    # the version before the load stays the previous one; the uncompacted copy is deleted as soon as no process
    # has it open (here at once)
    assert versions(store) == sorted([before, report.version])
    assert store.previous() == before
    again = load_files("acled", [ACLED], settings(store))
    assert versions(store) == sorted([report.version, again.version]) and again.version == store.version()
    assert store.previous() == report.version


def test_an_uncompacted_copy_still_read_waits_for_the_next_write(store: LocalStore) -> None:
    load_files("acled", [ACLED], settings(store), compact=False)
    before, loaded = store.previous(), store.version()
    _v, reader = store.open_read()  # a server still reading the uncompacted version
    compacted = store.compact()
    assert versions(store) == sorted([before, loaded, compacted]) and store.previous() == before
    del reader
    again = load_files("acled", [ACLED], settings(store), compact=False)
    assert versions(store) == sorted([compacted, again.version]) and store.previous() == compacted


def test_a_load_without_compaction_publishes_one_version(store: LocalStore) -> None:
    before = store.version()
    report = load_files("acled", [ACLED], settings(store), compact=False)
    assert report.compact_s is None and report.version == store.version() != before
    assert versions(store) == sorted([before, report.version])


def test_loaded_store_still_conforms_to_shapes(store: LocalStore) -> None:
    load_files("acled", [ACLED], settings(store))
    _v, s = store.open_read()
    report = validate(s.quads_for_pattern(None, None, None, ox.DefaultGraph()), with_ontology=False)
    assert report.conforms, report.text


def test_reloading_changes_nothing(store: LocalStore) -> None:
    load_files("acled", [ACLED], settings(store))
    first = quads(store)
    load_files("acled", [ACLED], settings(store))
    assert quads(store) == first


def test_revised_row_replaces_the_earlier_values(store: LocalStore, tmp_path: Path) -> None:
    load_files("acled", [ACLED], settings(store))
    data = rows()
    data[0]["fatalities"] = "5"
    load_files("acled", [write(tmp_path / "revised.csv", data)], settings(store))
    values = [
        r["f"].value
        for r in store.open_read()[1].query(
            f"SELECT ?f WHERE {{ <{BASE.entity('incident/acled-syn0001')}> psk:fatalities ?f }}", prefixes=PREFIXES
        )
    ]
    assert values == ["5"]


@pytest.mark.parametrize(
    "column,value,message",
    [
        ("fatalities", "many", "'many' is not an integer"),
        ("event_date", "2025-13-45", "is not a date"),
        ("sub_event_type", "Armed clash", "is not a sub-event type of 'Violence against civilians'"),
        ("latitude", "123.4", "outside -90..90"),
        ("year", "2024", "does not match event_date"),
        ("inter1", "9", "is not an ACLED inter code"),
        ("actor1", "", "is empty but required"),
    ],
)
def test_bad_row_names_file_line_column_and_changes_nothing(
    store: LocalStore, tmp_path: Path, column: str, value: str, message: str
) -> None:
    version, before = store.version(), quads(store)
    data = rows()
    data[1][column] = value
    path = write(tmp_path / "bad.csv", data)
    with pytest.raises(LoadError) as err:
        load_files("acled", [path], settings(store))
    text = str(err.value)
    assert str(path) in text and "line 3" in text and f"column {column!r}" in text and message in text
    assert store.version() == version and quads(store) == before


def test_skip_invalid_reports_every_skipped_row(store: LocalStore, tmp_path: Path) -> None:
    data = rows()
    data[0]["fatalities"] = "-1"
    data[2]["event_type"] = "Earthquake"
    report = load_files("acled", [write(tmp_path / "mixed.csv", data)], settings(store), skip_invalid=True)
    assert report.rows == 2
    assert len(report.skipped) == 2
    assert "line 2" in report.skipped[0] and "'fatalities'" in report.skipped[0]
    assert "line 4" in report.skipped[1] and "'event_type'" in report.skipped[1]
    assert ask(store, f"ASK {{ <{BASE.entity('incident/acled-syn0002')}> a psk:Incident }}")
    assert not ask(store, f"ASK {{ <{BASE.entity('incident/acled-syn0001')}> a psk:Incident }}")


def test_header_must_be_acled_export_order(store: LocalStore, tmp_path: Path) -> None:
    cols = list(ACLED_COLUMNS)
    cols[1], cols[2] = cols[2], cols[1]
    path = write(tmp_path / "order.csv", rows(), columns=cols)
    with pytest.raises(LoadError, match=r"line 1, column 'year': columns are not in ACLED export order"):
        load_files("acled", [path], settings(store))
    short = tmp_path / "short.csv"
    short.write_text(",".join(ACLED_COLUMNS[:-1]) + "\n", encoding="utf-8")
    with pytest.raises(LoadError, match="header lacks column"):
        load_files("acled", [short], settings(store))


def test_duplicate_event_id_and_ragged_row(store: LocalStore, tmp_path: Path) -> None:
    data = rows()
    data[1]["event_id_cnty"] = data[0]["event_id_cnty"]
    with pytest.raises(LoadError, match=r"line 3.*SYN0001 already appears on line 2"):
        load_files("acled", [write(tmp_path / "dup.csv", data)], settings(store))
    ragged = tmp_path / "ragged.csv"
    shutil.copy(ACLED, ragged)
    with open(ragged, "a", encoding="utf-8") as fh:
        fh.write("SYN0009,2025-01-01,2025\n")
    with pytest.raises(LoadError, match="line 6: has 3 fields; the header has 31"):
        load_files("acled", [ragged], settings(store))


def test_ucdp_ged_rows(store: LocalStore) -> None:
    report = load_files("ucdp", [FIXTURES / "ucdp_small.csv"], settings(store))
    assert report.rows == 2
    e = BASE.entity
    inc = e("incident/ucdp-ged900001")
    assert about(store, inc) == {
        ("rdf:type", "psk:Incident"),
        ("rdfs:label", '"State-based violence in Synthville town, 2025-01-05"@en'),
        ("psk:eventId", '"GED900001"'),
        ("psk:date", '"2025-01-05"^^xsd:date'),
        ("psk:endDate", '"2025-01-06"^^xsd:date'),
        ("psk:eventType", "v:ucdp-violence/state-based"),
        ("psk:country", "id:state/pakistan"),
        ("psk:province", "id:province/balochistan"),
        ("psk:district", "id:place/balochistan/synthetic-district-a"),
        ("psk:place", "id:place/balochistan/synthetic-district-a/synthville-town"),
        ("schema:latitude", '"29.5"^^xsd:decimal'),
        ("schema:longitude", '"67"^^xsd:decimal'),
        ("psk:sideA", "id:org/government-of-pakistan"),
        ("psk:sideB", "id:group/baloch-liberation-army"),
        ("psk:side", "id:incident/ucdp-ged900001/side-a"),
        ("psk:side", "id:incident/ucdp-ged900001/side-b"),
        ("psk:fatalities", '"3"^^xsd:integer'),
        ("psk:fatalitiesLow", '"3"^^xsd:integer'),
        ("psk:fatalitiesHigh", '"4"^^xsd:integer'),
        ("psk:deathsSideA", '"1"^^xsd:integer'),
        ("psk:deathsSideB", '"2"^^xsd:integer'),
        ("psk:deathsCivilians", '"0"^^xsd:integer'),
        ("psk:deathsUnknown", '"0"^^xsd:integer'),
        ("psk:ucdpDatePrecision", '"1"^^xsd:integer'),
        ("psk:ucdpWherePrecision", '"1"^^xsd:integer'),
        ("psk:numberOfSources", '"1"^^xsd:integer'),
        ("psk:ucdpEventClarity", '"1"^^xsd:integer'),
        ("psk:ucdpRelid", '"SYN-1"'),
        ("psk:ucdpDyadName", '"Government of Pakistan - BLA (synthetic)"'),
        ("psk:whereDescription", '"Synthetic"'),
        ("psk:sourceHeadline", '"Synthetic headline"'),
        ("psk:sourceDate", '"2025-01-05"'),
        ("psk:sourceName", '"Synthetic article"'),
        ("psk:partOfConflict", "id:conflict/ucdp-pakistan-balochistan-synthetic"),
        ("psk:source", f"id:record/ucdp-{report_sha(FIXTURES / 'ucdp_small.csv')}/2"),
    }
    # state-based violence has no perpetrator; one-sided violence does: side A against side B, the civilians
    one_sided = about(store, e("incident/ucdp-ged900002"))
    assert ("psk:perpetrator", "id:group/tehrik-i-taliban-pakistan") in one_sided
    assert ("psk:target", "id:actor/civilians") in one_sided
    assert ("psk:eventType", "v:ucdp-violence/one-sided") in one_sided
    assert not any(p == "psk:civilianTargeting" for p, _o in one_sided)  # GED does not code it


def test_void_counts_carried_forward_by_a_load_equal_a_full_count(store: LocalStore) -> None:
    from kg.void import VoidStats, _description

    load_files("acled", [ACLED], settings(store))
    _v, s = store.open_read()
    carried = VoidStats.read(BASE, s)
    assert carried is not None
    copy = ox.Store()
    copy.extend(s)
    for q in _description(BASE, copy):
        copy.remove(q)
    counted = VoidStats.scan(copy)
    assert (carried.triples, carried.entities, carried.properties, carried.classes) == (
        counted.triples,
        counted.entities,
        counted.properties,
        counted.classes,
    )
    assert carried.triples > 4000 and PREFIXES["psk"] + "Incident" in carried.classes


def test_an_event_in_two_files_of_one_load_is_an_error(store: LocalStore, tmp_path: Path) -> None:
    copy = tmp_path / "copy.csv"
    shutil.copy(ACLED, copy)
    with pytest.raises(
        LoadError, match=r"copy\.csv, line 2, column 'event_id_cnty': SYN0001 already appears on .*acled_small\.csv, line 2"
    ):
        load_files("acled", [ACLED, copy], settings(store))
