"""The `kg` command line, in-process through click's CliRunner (one test runs the installed entry points for real)."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import rdflib
from click.testing import CliRunner

from kg.cli import main

from .conftest import FIXTURES


@dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str


def kg(store: Path, *args: str) -> Ran:
    """Run `kg ARGS` in this process with PSK_STORE pointing at store."""
    result = CliRunner().invoke(main, list(args), env={"PSK_STORE": str(store)}, catch_exceptions=False)
    return Ran(result.exit_code, result.stdout, result.stderr)


@pytest.mark.parametrize("command", [["-m", "kg"], ["-c", "import sys; from kg.cli import main; sys.argv[0] = 'kg'; main()"]])
def test_entry_points_run(command: list[str]) -> None:
    """`python -m kg` and the console script's target both start the same command line."""
    result = subprocess.run([sys.executable, *command, "--help"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and "describe" in result.stdout and "serve" in result.stdout


def test_describe_prints_the_page_model(store: Path) -> None:
    table = kg(store, "describe", "province/balochistan")
    assert table.returncode == 0 and "Balochistan" in table.stdout and "referenced by" in table.stdout
    data = json.loads(kg(store, "describe", "--format", "json", "province/balochistan").stdout)
    assert data["label"] == "Balochistan" and any(t["label"] == "Province" for t in data["types"])
    assert all(group["count"] >= len(group["subjects"]) for group in data["incoming"])
    assert kg(store, "describe", "province/atlantis").returncode == 1


def test_describe_shows_figures_and_who_says_what(store: Path) -> None:
    incident = kg(store, "describe", "incident/jaffar-express-hijacking-2025").stdout
    aboard = [line.split("|") for line in incident.splitlines() if line.startswith("People aboard")]
    assert sorted(cells[1].strip() for cells in aboard) == ["400", "440", "more than 450"]
    assert any("Most of the Jaffar Express hostages" in line and "(disputed)" in line for line in incident.splitlines())
    denial = kg(store, "describe", "claim/india-rejects-sponsorship-allegation").stdout
    assert "speaker: Ministry of External Affairs of India; stance: Denies (disputed)" in denial
    assert "contested by: Inter-Services Public Relations (ISPR) alleges: The DG ISPR alleges" in denial
    hedged = kg(store, "describe", "claim/state-chose-to-withdraw-from-periphery").stdout
    assert "hedge: 'arguably' (certainty: Possible)" in hedged


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "store"
    result = kg(path, "build")
    assert result.returncode == 0, result.stderr
    assert "validating" in result.stderr and "published version" in result.stderr
    return path


def test_missing_store_is_a_clear_error(tmp_path: Path) -> None:
    result = kg(tmp_path / "nothing", "query", "ASK {}")
    assert result.returncode == 1
    assert "run `kg build` first" in result.stderr and "Traceback" not in result.stderr


def test_query_output_formats(store: Path) -> None:
    q = "SELECT ?label WHERE { ?g a psk:ArmedGroup ; rdfs:label ?label } ORDER BY ?label"
    table = kg(store, "query", q)
    assert table.returncode == 0 and "Baloch Liberation Army" in table.stdout and "(4 rows)" in table.stderr
    data = json.loads(kg(store, "query", "--format", "json", q).stdout)
    assert data["results"]["bindings"][0]["label"]["value"] == "Afghan Taliban"
    rows = list(csv.reader(io.StringIO(kg(store, "query", "--format", "csv", q).stdout)))
    assert rows[0] == ["label"] and len(rows) == 5
    ttl = kg(store, "query", "--format", "turtle", "CONSTRUCT { ?s a psk:Province } WHERE { ?s a psk:Province }").stdout
    assert len(rdflib.Graph().parse(data=ttl, format="turtle")) == 4
    from_file = kg(store, "query", "-f", str(Path(__file__).parent.parent / "server" / "examples" / "05-jaffar-express-route.rq"))
    assert "Quetta" in from_file.stdout


def test_bad_query_reports_position(store: Path) -> None:
    result = kg(store, "query", "SELECT * WHERE { ?s ?p }")
    assert result.returncode == 1 and "error at 1:" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "fmt,rdflib_fmt",
    [("turtle", "turtle"), ("ntriples", "nt"), ("jsonld", "json-ld"), ("rdfxml", "xml"), ("trig", "trig"), ("nquads", "nquads")],
)
def test_export(store: Path, tmp_path: Path, fmt: str, rdflib_fmt: str) -> None:
    out = tmp_path / f"export.{fmt}"
    assert kg(store, "export", "--format", fmt, "-o", str(out)).returncode == 0
    if fmt in ("trig", "nquads"):
        ds = rdflib.Dataset()
        ds.parse(out, format=rdflib_fmt)
        assert len({str(g.identifier) for g in ds.graphs() if "/graph/claim/" in str(g.identifier)}) >= 10
    else:
        assert len(rdflib.Graph().parse(out, format=rdflib_fmt)) > 4000


def test_stats_validate_locate(store: Path) -> None:
    stats = json.loads(kg(store, "stats").stdout)
    assert stats["classes"]["Claim"] == 34 and stats["classes"]["ReportedFigure"] == 17 and stats["named_graphs"] >= 10
    assert "conforms" in kg(store, "validate").stdout
    assert "conforms" in kg(store, "validate", "--from-store").stdout
    located = kg(store, "locate", "traveling from Quetta to Peshawar")
    assert located.returncode == 0 and "start: " in located.stdout
    assert kg(store, "locate", "not in the article at all").returncode == 1


def test_load_reports_bad_rows(store: Path, tmp_path: Path) -> None:
    lines = (FIXTURES / "acled_small.csv").read_text(encoding="utf-8").splitlines()
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join([lines[0], lines[1].replace("2025-01-05", "5 Janvier 2025")]) + "\n", encoding="utf-8")
    result = kg(store, "load", "acled", str(bad))
    assert result.returncode == 1
    assert f"{bad}, line 2, column 'event_date'" in result.stderr
    skipped = kg(store, "load", "acled", "--skip-invalid", str(bad), str(FIXTURES / "acled_small.csv"))
    assert skipped.returncode == 0
    assert "skipped: " in skipped.stderr and "loaded 4 rows" in skipped.stdout and "1 skipped" in skipped.stdout
    assert "compacting the new version" in skipped.stderr and "compacted in" in skipped.stderr


def test_compact_publishes_the_same_data(store: Path, tmp_path: Path) -> None:
    before = kg(store, "stats").stdout
    result = kg(store, "compact")
    assert result.returncode == 0 and "compacted in" in result.stdout, result.stderr
    after = json.loads(kg(store, "stats").stdout)
    assert after["version"] != json.loads(before)["version"]
    assert {k: v for k, v in after.items() if k != "version"} == {k: v for k, v in json.loads(before).items() if k != "version"}
    missing = kg(tmp_path / "nothing", "compact")
    assert missing.returncode == 1 and "run `kg build` first" in missing.stderr and "Traceback" not in missing.stderr
