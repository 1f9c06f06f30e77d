"""Conflict-data loading: ACLED and UCDP GED rows onto the ontology, transactional and idempotent."""

from __future__ import annotations

import csv
import io
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
        ("psk:admin1Name", '"Baluchistan"'),
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


# -- coding as the datasets code it, over synthetic fixtures ---------------------------------------------------

CODING = FIXTURES / "acled_coding.csv"  # every ACLED sub-event type once, with both inter-code forms


def roles(store: LocalStore, entity: str) -> dict[str, set[str]]:
    """The roles the entity page gives an entity, per incident event id (the page's own query)."""
    from kg import queries

    text = queries.text("entity_incidents").replace("WHERE {", f"WHERE {{ VALUES ?entity {{ <{entity}> }}", 1)
    out: dict[str, set[str]] = {}
    for row in store.open_read()[1].query(text, prefixes=PREFIXES):  # type: ignore[union-attr]
        out.setdefault(row["incident"].value.rsplit("-", 1)[-1], set()).add(row["role"].value)
    return out


def test_every_sub_event_type_keeps_its_sides_and_only_coded_directions(store: LocalStore) -> None:
    from kg.loaders import ACLED_TYPES

    report = load_files("acled", [CODING], settings(store))
    assert report.rows == 25 and not report.skipped
    e = BASE.entity
    _v, s = store.open_read()
    subs = {
        r["sub"].value.rsplit("/", 1)[-1]
        for r in s.query(  # type: ignore[union-attr]
            "SELECT ?sub WHERE { ?i psk:eventId ?id ; psk:eventType ?sub . ?sub skos:broader ?t . ?i psk:eventType ?t }",
            prefixes=PREFIXES,
        )
    }
    from kg.namespaces import slugify

    assert subs == {slugify(sub) for subs_ in ACLED_TYPES.values() for sub in subs_}
    directed = {
        r["id"].value
        for r in s.query("SELECT ?id WHERE { ?i psk:eventId ?id ; psk:perpetrator ?p ; psk:target ?t }", prefixes=PREFIXES)  # type: ignore[union-attr]
    }
    assert directed == {"SYN110", "SYN111", "SYN112"}  # the three "Violence against civilians" rows, nothing else
    # associated actors stay on their own side: the armed forces' ally apart from the BLA's ally and community
    battle = e("incident/acled-syn101")
    assert about(store, battle + "/actor-1") == {
        ("rdf:type", "psk:Side"),
        ("rdfs:label", '"Actor 1: Military Forces of Pakistan (2024-)"@en'),
        ("psk:sideRole", "v:side-role/actor-1"),
        ("psk:sideActor", "id:org/pakistan-armed-forces"),
        ("psk:actorName", '"Military Forces of Pakistan (2024-)"'),
        ("psk:actorType", "v:inter/state-forces"),
        ("psk:associatedActor", "id:actor/frontier-corps-pakistan"),
        ("psk:associatedActorNames", '"Frontier Corps (Pakistan)"'),
    }
    assert about(store, battle + "/actor-2") == {
        ("rdf:type", "psk:Side"),
        ("rdfs:label", '"Actor 2: BLA: Baloch Liberation Army"@en'),
        ("psk:sideRole", "v:side-role/actor-2"),
        ("psk:sideActor", "id:group/baloch-liberation-army"),
        ("psk:actorName", '"BLA: Baloch Liberation Army"'),
        ("psk:actorType", "v:inter/rebel-groups"),
        ("psk:associatedActor", "id:actor/bra-baloch-republican-army"),
        ("psk:associatedActor", "id:community/baloch"),
        ("psk:associatedActorNames", '"BRA: Baloch Republican Army; Baloch Ethnic Group (Pakistan)"'),
    }
    # names of actor types ("Rebel group", "State forces") and of interactions ("State forces-Rebel group")
    explosion = about(store, e("incident/acled-syn104"))
    assert ("psk:interaction", "v:interaction/12") in explosion
    assert ("psk:actorType", "v:inter/rebel-groups") in about(store, e("incident/acled-syn104/actor-1"))
    assert ("psk:actorType", "v:inter/state-forces") in about(store, e("incident/acled-syn104/actor-2"))
    # the older codebook's dd-mm-yyyy date and a lower-case event type
    assert {("psk:date", '"2025-04-02"^^xsd:date'), ("psk:eventType", "et:battles")} <= about(store, e("incident/acled-syn102"))
    # the pages show the sources' roles
    bla = roles(store, e("group/baloch-liberation-army"))
    assert bla["syn101"] == {"actor 2"} and not any("perpetrator" in r for k, r in bla.items() if k.startswith("syn"))
    assert roles(store, e("community/baloch")) == {"syn101": {"associated with actor 2"}}
    assert roles(store, e("actor/civilians-pakistan"))["syn110"] == {"actor 2", "target"}
    assert roles(store, e("group/baloch-liberation-army"))["syn101"] == {"actor 2"}
    # curated incidents keep the perpetrator the article states
    assert ask(
        store, f"ASK {{ <{e('incident/jaffar-express-hijacking-2025')}> psk:perpetrator <{e('group/baloch-liberation-army')}> }}"
    )
    report_v = validate(s.quads_for_pattern(None, None, None, ox.DefaultGraph()), with_ontology=False)
    assert report_v.conforms, report_v.text


def names(report: object) -> dict[str, tuple[str, str]]:
    return {m.name: (m.entity, m.rule) for m in report.names if m.category == "actor"}  # type: ignore[attr-defined]


def test_reconciliation_is_explained_and_never_guesses(store: LocalStore, tmp_path: Path) -> None:
    data = rows()
    data[0]["actor1"] = "Baloch Liberation Army (BLA)"
    data[0]["assoc_actor_1"] = "TTP: Baloch Liberation Army; تحریک طالبان; لشکر جھنگوی"
    report = load_files("acled", [write(tmp_path / "forms.csv", data), CODING], settings(store))
    e = BASE.entity
    got = names(report)
    assert got["Baloch Liberation Army (BLA)"] == (e("group/baloch-liberation-army"), "acled-form")
    assert got["BLA: Baloch Liberation Army"] == (e("group/baloch-liberation-army"), "acled-form")
    assert got["Military Forces of Pakistan (2018-)"] == (e("org/pakistan-armed-forces"), "acled-form")
    assert got["Baloch Ethnic Group (Pakistan)"] == (e("community/baloch"), "acled-form")
    # police are not the article's "security forces": a new entity, whichever period ACLED gives them
    assert (
        got["Police Forces of Pakistan (2018-)"]
        == got["Police Forces of Pakistan (2024-)"]
        == (
            e("actor/police-forces-of-pakistan"),
            "minted",
        )
    )
    # two forms naming different entities: ambiguous, so a new entity rather than either
    assert got["TTP: Baloch Liberation Army"] == (e("actor/ttp-baloch-liberation-army"), "ambiguous")
    # names in another script get entities of their own
    assert got["تحریک طالبان"] == (e("actor/تحریک-طالبان"), "minted")
    assert got["لشکر جھنگوی"] == (e("actor/لشکر-جھنگوی"), "minted")
    # each decision is data, linked from the entity (and so on its page)
    assert about(store, e("group/baloch-liberation-army")) >= {
        ("psk:reconciliation", m) for m in _matches(store, "group/baloch-liberation-army")
    }
    [label] = [
        r["l"].value
        for r in store.open_read()[1].query(  # type: ignore[union-attr]
            f"""SELECT ?l WHERE {{ <{e("group/baloch-liberation-army")}> psk:reconciliation ?m .
                 ?m psk:matchedName "Baloch Liberation Army (BLA)" ; rdfs:label ?l ; psk:matchRule ?r }}""",
            prefixes=PREFIXES,
        )
    ]
    assert (
        label
        == "actor 'Baloch Liberation Army (BLA)': acled-form rule, without the abbreviation '(BLA)' ('Baloch Liberation Army') matches the label 'Baloch Liberation Army'"
    )


def _matches(store: LocalStore, local: str) -> set[str]:
    q = f"SELECT ?m WHERE {{ <{BASE.entity(local)}> psk:reconciliation ?m }}"
    return {short(str(r["m"])) for r in store.open_read()[1].query(q, prefixes=PREFIXES)}  # type: ignore[union-attr]


def test_kg_load_explain_reports_every_name(store: LocalStore) -> None:
    from click.testing import CliRunner

    from kg.cli import main

    result = CliRunner().invoke(main, ["--store", str(store.path), "load", "acled", "--explain", "--no-compact", str(ACLED)])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if "\t" in line]
    assert (
        f"actor\tPolice Forces of Pakistan (2018-)\t-> {BASE.entity('actor/police-forces-of-pakistan')}\t[minted] no curated label or alias matches"
        in lines
    )
    assert f"province\tBaluchistan\t-> {BASE.entity('province/balochistan')}\t[alias] matches the alias 'Baluchistan'" in lines
    assert any(line.startswith("location\tSynthville in ") for line in lines)


def export(store: LocalStore) -> list[str]:
    """Every quad of the store but the dataset's modification time, sorted."""
    _v, s = store.open_read()
    modified = ox.NamedNode(PREFIXES["dcterms"] + "modified")
    return sorted(str(q) for q in s if not (q.predicate == modified and q.subject == ox.NamedNode(BASE.dataset)))


def fresh(seed_store: Path, path: Path) -> LocalStore:
    src = LocalStore(seed_store)
    LocalStore(path).write(lambda s: s.extend(src.open_read()[1]), from_current=False)
    return LocalStore(path)


def test_loads_are_exact_whatever_the_order_and_however_often(seed_store: Path, tmp_path: Path) -> None:
    ucdp = FIXTURES / "ucdp_small.csv"
    one, two = fresh(seed_store, tmp_path / "one"), fresh(seed_store, tmp_path / "two")
    load_files("acled", [ACLED], settings(one), compact=False)
    load_files("acled", [CODING], settings(one), compact=False)
    load_files("ucdp", [ucdp], settings(one), compact=False)
    first = export(one)
    load_files("acled", [CODING], settings(one), compact=False)  # reloads change nothing
    load_files("acled", [ACLED], settings(one), compact=False)
    assert export(one) == first
    load_files("ucdp", [ucdp], settings(two), compact=False)  # nor does the order of the loads
    load_files("acled", [CODING], settings(two), compact=False)
    load_files("acled", [ACLED], settings(two), compact=False)
    assert export(two) == first


def test_same_named_towns_in_two_provinces_stay_apart_across_loads(store: LocalStore, tmp_path: Path) -> None:
    data = rows()[:1]
    data[0] |= {"location": "Sameville", "admin2": "Same District", "latitude": "29.1", "longitude": "66.1"}
    kp = [dict(data[0]) | {"event_id_cnty": "SYN0099", "admin1": "Khyber Pakhtunkhwa", "latitude": "34.2", "longitude": "71.2"}]
    load_files("acled", [write(tmp_path / "balochistan.csv", data)], settings(store))
    load_files("acled", [write(tmp_path / "kp.csv", kp)], settings(store))
    e = BASE.entity
    b_place, k_place = e("place/balochistan/same-district/sameville"), e("place/khyber-pakhtunkhwa/same-district/sameville")
    assert ("psk:place", short(f"<{b_place}>")) in about(store, e("incident/acled-syn0001"))
    assert ("psk:place", short(f"<{k_place}>")) in about(store, e("incident/acled-syn0099"))
    assert about(store, k_place) == {
        ("rdf:type", "psk:Location"),
        ("rdfs:label", '"Sameville"@en'),
        ("psk:locatedIn", short(f"<{e('place/khyber-pakhtunkhwa/same-district')}>")),
        ("geo:hasGeometry", short(f"<{k_place}/point/34.2_71.2>")),
        ("schema:latitude", '"34.2"^^xsd:decimal'),
        ("schema:longitude", '"71.2"^^xsd:decimal'),
    }
    assert ("psk:locatedIn", "id:province/khyber-pakhtunkhwa") in about(store, e("place/khyber-pakhtunkhwa/same-district"))
    assert ("rdf:type", "psk:District") in about(store, e("place/khyber-pakhtunkhwa/same-district"))


def acled_row(**changes: str) -> dict[str, str]:
    return rows()[0] | changes


@pytest.mark.parametrize(
    "changes,field,expected",
    [
        ({"event_date": "05-01-2025"}, "date", "2025-01-05"),
        ({"event_date": "05/01/2025"}, "date", "2025-01-05"),
        ({"inter1": "Rebel group", "inter2": "State forces"}, "inters", ("rebel-groups", "state-forces")),
        ({"inter1": "Rebel groups", "inter2": "External/Other forces"}, "inters", ("rebel-groups", "external-other-forces")),
        ({"interaction": "State forces-Rebel group"}, "interaction", 12),
        ({"interaction": "Rebel group-State forces"}, "interaction", 12),
        ({"interaction": "21"}, "interaction", 12),
        ({"interaction": "External/Other forces-Civilians"}, "interaction", 78),
        ({"interaction": "Rebel group only"}, "interaction", 20),
        ({"interaction": "Sole rioters"}, "interaction", 50),
        (
            {"event_type": "Protests", "sub_event_type": "Excessive force against protestors"},
            "sub_event_type",
            "excessive-force-against-protesters",
        ),
        ({"event_type": "Strategic Developments", "sub_event_type": "Arrests"}, "event_type", "strategic-developments"),
        ({"population_1km": "1200", "population_best": "50000"}, "counts", {"population_1km": 1200, "population_best": 50000}),
    ],
)
def test_acled_variants_are_normalised(changes: dict[str, str], field: str, expected: object) -> None:
    from kg.loaders.acled import parse_acled

    ev = parse_acled(acled_row(**changes), 2)
    got = (ev.sides[0].inter, ev.sides[1].inter) if field == "inters" else getattr(ev, field)
    assert (got.isoformat() if field == "date" else got) == expected


def test_acled_population_columns_are_accepted_and_kept(store: LocalStore, tmp_path: Path) -> None:
    data = [
        r | {"population_1km": "100", "population_2km": "", "population_5km": "900", "population_best": "1000"} for r in rows()
    ]
    cols = [*ACLED_COLUMNS, "population_1km", "population_2km", "population_5km", "population_best"]
    load_files("acled", [write(tmp_path / "pop.csv", data, columns=cols)], settings(store))
    got = about(store, BASE.entity("incident/acled-syn0001"))
    assert {("psk:population1km", '"100"^^xsd:integer'), ("psk:populationBest", '"1000"^^xsd:integer')} <= got
    assert not any(p == "psk:population2km" for p, _o in got)


@pytest.mark.parametrize(
    "tov,side_b,directed,concept",
    [("1", "BLA", False, "state-based"), ("2", "BRA", False, "non-state"), ("3", "Civilians", True, "one-sided")],
)
def test_each_ucdp_type_of_violence(
    store: LocalStore, tmp_path: Path, tov: str, side_b: str, directed: bool, concept: str
) -> None:
    with open(FIXTURES / "ucdp_small.csv", newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        cols, first = list(reader.fieldnames or []), next(reader)
    first |= {"type_of_violence": tov, "side_a": "BLA" if tov == "2" else "Government of Pakistan", "side_b": side_b}
    load_files("ucdp", [write(tmp_path / "ged.csv", [first], columns=cols)], settings(store))
    got = about(store, BASE.entity("incident/ucdp-ged900001"))
    assert ("psk:eventType", f"v:ucdp-violence/{concept}") in got
    assert any(p == "psk:perpetrator" for p, _o in got) is directed
    assert any(p == "psk:sideA" for p, _o in got) and any(p == "psk:sideB" for p, _o in got)


def test_incident_downloads_reproduce_the_source_rows(store: LocalStore, tmp_path: Path) -> None:
    import json

    from server import create_app

    source = list(csv.DictReader(open(CODING, newline="", encoding="utf-8")))
    source[0]["notes"] = "=HYPERLINK(1)"  # a formula in a cell must not run in a spreadsheet
    coding = write(tmp_path / "coding.csv", source)
    load_files("acled", [ACLED, coding], settings(store))
    load_files("ucdp", [FIXTURES / "ucdp_small.csv"], settings(store))
    app = create_app(Settings(store=str(store.path)))
    try:
        client = app.test_client()
        resp = client.get("/incidents/id/group/baloch-liberation-army.csv")
        assert resp.status_code == 200 and resp.mimetype == "text/csv"
        assert resp.headers["Content-Disposition"] == "attachment; filename*=UTF-8''group-baloch-liberation-army-incidents.csv"
        table = list(csv.DictReader(io.StringIO(resp.text)))
        got = {r["event_id"]: r for r in table if r["event_id"]}
        assert {r["label"] for r in table if not r["event_id"]} >= {"Jaffar Express hijacking"}  # curated, perpetrator
        inter = {"1": "State forces", "2": "Rebel groups", "State forces": "State forces", "Rebel group": "Rebel groups"}
        checked = 0
        for row in source:
            if "Baloch Liberation Army" not in row["actor1"] + row["actor2"]:
                continue
            out = got[row["event_id_cnty"]]
            assert out["event_type"].lower() == row["event_type"].lower() and out["sub_event_type"] == row["sub_event_type"]
            for col in ("actor1", "assoc_actor_1", "actor2", "assoc_actor_2", "admin1", "admin2", "location", "geo_precision"):
                assert out[col] == row[col], col
            for col in ("source", "source_scale", "fatalities", "time_precision", "latitude", "longitude"):
                assert out[col] == row[col], col
            assert out["notes"] == ("'" + row["notes"] if row["notes"].startswith("=") else row["notes"])
            assert (out["inter1"], out["inter2"]) == (inter[row["inter1"]], inter[row["inter2"]])
            assert out["interaction"] == "12" and out["interaction_label"] == "State forces-Rebel group"
            assert out["record"] == BASE.entity(f"record/acled-{report_sha(coding)}/{source.index(row) + 2}")
            assert out["file_name"] == "coding.csv" and out["perpetrator_iri"] == ""
            checked += 1
        assert checked == 3  # the three battles
        assert got["SYN101"]["assoc_actor_2_iris"].split() == sorted(
            [BASE.entity("actor/bra-baloch-republican-army"), BASE.entity("community/baloch")]
        )
        assert got["SYN0001"]["admin1"] == "Baluchistan"  # as the row spells it; admin1_iri is the curated province
        assert got["SYN0001"]["admin1_iri"] == BASE.entity("province/balochistan")
        # UCDP: sides, GED's precision scales and death counts
        ged = got["GED900001"]
        assert (ged["side_a"], ged["side_b"], ged["actor1"]) == ("Government of Pakistan", "BLA", "")
        assert (ged["ucdp_date_precision"], ged["ucdp_where_precision"], ged["time_precision"]) == ("1", "1", "")
        assert (ged["fatalities"], ged["fatalities_low"], ged["fatalities_high"], ged["deaths_a"], ged["deaths_b"]) == (
            "3", "3", "4", "1", "2",
        )  # fmt: skip
        geo = json.loads(client.get("/incidents/id/group/baloch-liberation-army.geojson").data)
        assert geo["type"] == "FeatureCollection"
        feature = next(f for f in geo["features"] if f["properties"]["event_id"] == "SYN101")
        assert feature["geometry"] == {"type": "Point", "coordinates": [67.0, 29.5]}
        assert feature["properties"]["actor2_iri"] == BASE.entity("group/baloch-liberation-army")
        data = client.get("/incidents/id/group/baloch-liberation-army.json").get_json()
        assert data["incidents"][0].keys() >= {"iri", "label", "actor1", "side_a", "interaction", "ucdp_where_precision"}
        assert {i["iri"] for i in data["incidents"]} == {r["incident"] for r in table}
    finally:
        app.extensions["psk"]["backend"].close()


def test_example_query_lists_sides_and_only_coded_perpetrators(full_store: Path) -> None:
    from kg.sparql import execute
    from server.util import HERE

    _v, s = LocalStore(full_store).open_read()
    text = (HERE / "examples" / "13-acled-sides-and-directions.rq").read_text(encoding="utf-8")
    rows = {(r["eventId"].value, r["roleLabel"].value): r for r in execute(s, text, max_rows=1000).records()}
    assert rows["SYN0001", "Actor 1"]["actor"].value == BASE.entity("group/baloch-liberation-army")
    assert rows["SYN0001", "Actor 1"]["actorType"].value == "Rebel groups"
    assert rows["SYN0001", "Actor 1"]["perpetrator"] is None  # an explosion: no direction coded
    assert rows["SYN0002", "Actor 1"]["perpetrator"].value == BASE.entity("actor/unidentified-armed-group-pakistan")


def test_entity_page_shows_roles_and_how_names_were_reconciled(client: object) -> None:
    page = client.get("/page/id/group/baloch-liberation-army").get_data(as_text=True)  # type: ignore[attr-defined]
    assert "actor 1" in page and "perpetrator" in page  # ACLED's coding; the article's Jaffar Express hijacking
    assert "acled-form rule, the long name after &#39;:&#39;" in page or "acled-form rule, the long name after ':'" in page
