"""Every input error names the file, the line and the column, and leaves the store as it was."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kg.config import Settings
from kg.errors import LoadError
from kg.loaders import load_files
from kg.loaders.rows import MAX_FIELD
from kg.store import LocalStore

from .conftest import FIXTURES
from .helpers import ROOT

ACLED = FIXTURES / "acled_small.csv"
UCDP = FIXTURES / "ucdp_small.csv"


@pytest.fixture(params=["empty", "with events"])
def store(request: pytest.FixtureRequest, seed_store: Path, full_store: Path, tmp_path: Path) -> Path:
    """A private copy of the seed store, or of one that already holds events (loads then revise: another code path)."""
    src = seed_store if request.param == "empty" else full_store
    shutil.copytree(src.with_name(src.name + ".versions"), tmp_path / "store.versions")
    os.symlink(os.readlink(src), tmp_path / "store")
    return tmp_path / "store"


def lines() -> list[str]:
    return ACLED.read_text(encoding="utf-8").splitlines()


def fails(store: Path, path: Path, where: str, message: str, kind: str = "acled") -> None:
    local = LocalStore(store)
    version, before = local.version(), {str(q) for q in local.open_read()[1]}
    on_disk = sorted(p.name for p in local.versions.iterdir())
    with pytest.raises(LoadError) as err:
        load_files(kind, [path], Settings(store=str(store)), compact=False)
    text = str(err.value)
    assert text.startswith(f"{path}, {where}: "), text
    assert message in text, text
    assert local.version() == version and {str(q) for q in local.open_read()[1]} == before
    assert sorted(p.name for p in local.versions.iterdir()) == on_disk  # the failed load removed its directory


def with_cell(row: int, column: str, value: str) -> list[str]:
    """The fixture's lines with one cell of data row `row` (1-based) replaced (value written as is, unquoted)."""
    import csv
    import io

    out = lines()
    header = out[0].split(",")
    cells = next(csv.reader([out[row]]))
    cells[header.index(column)] = value
    buf = io.StringIO()
    csv.writer(buf, lineterminator="").writerow(cells)
    out[row] = buf.getvalue()
    return out


def test_a_latin1_byte_names_line_column_and_position(store: Path, tmp_path: Path) -> None:
    text = "\n".join(with_cell(3, "location", "Peshawar")) + "\n"
    raw = text.encode("utf-8").replace(b"Peshawar", "Pésháwar".encode("latin-1"))
    bad = tmp_path / "latin1.csv"
    bad.write_bytes(raw)
    position = len(text.splitlines()[3].split("Peshawar")[0]) + 2  # the é, second character of the name
    fails(store, bad, "line 4, column 'location'", f"byte 0xE9 at character {position} is not UTF-8")


def test_an_oversized_field_names_line_and_column(store: Path, tmp_path: Path) -> None:
    big = tmp_path / "big.csv"
    big.write_text("\n".join(with_cell(2, "notes", "x" * (MAX_FIELD + 10))) + "\n", encoding="utf-8")
    fails(store, big, "line 3, column 'notes'", f"longer than {MAX_FIELD} characters")


def test_header_mismatches_name_the_column(store: Path, tmp_path: Path) -> None:
    extra = tmp_path / "extra.csv"
    extra.write_text("\n".join([lines()[0] + ",bonus"] + [line + ",1" for line in lines()[1:]]) + "\n", encoding="utf-8")
    fails(store, extra, "line 1, column 'bonus'", "unexpected column at position 32: the export has exactly 31 columns")
    twice = tmp_path / "twice.csv"
    header = lines()[0].replace("admin3", "admin2")
    twice.write_text("\n".join([header, *lines()[1:]]) + "\n", encoding="utf-8")
    fails(store, twice, "line 1, column 'admin2'", "appears twice in the header")
    ucdp = UCDP.read_text(encoding="utf-8").splitlines()
    dup = tmp_path / "ucdp_dup.csv"
    dup.write_text("\n".join([ucdp[0] + ",best", *(line + ",1" for line in ucdp[1:])]) + "\n", encoding="utf-8")
    fails(store, dup, "line 1, column 'best'", "appears twice", kind="ucdp")


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("fatalities", "99999999999999999999999", "99999999999999999999999 is out of range (must be 0..1000000)"),
        ("fatalities", "1e3", "'1e3' is not an integer"),
        ("fatalities", "3.5", "'3.5' is not an integer"),
        ("timestamp", "99999999999999999999", "is out of range (must be 0..253402300799)"),
        ("iso", "9223372036854775808", "is out of range (must be 0..999)"),
    ],
)
def test_numbers_out_of_range_are_rejected_with_their_bound(
    store: Path, tmp_path: Path, column: str, value: str, message: str
) -> None:
    bad = tmp_path / "numbers.csv"
    bad.write_text("\n".join(with_cell(1, column, value)) + "\n", encoding="utf-8")
    fails(store, bad, f"line 2, column {column!r}", message)


def test_integers_are_parsed_exactly(seed_store: Path, tmp_path: Path) -> None:
    shutil.copytree(seed_store.with_name(seed_store.name + ".versions"), tmp_path / "store.versions")
    os.symlink(os.readlink(seed_store), tmp_path / "store")
    data = tmp_path / "exact.csv"
    data.write_text("\n".join(with_cell(1, "fatalities", "1000000.0")) + "\n", encoding="utf-8")
    load_files("acled", [data], Settings(store=str(tmp_path / "store")), compact=False)
    _v, s = LocalStore(tmp_path / "store").open_read()
    [row] = list(s.query("SELECT (SUM(?f) AS ?n) WHERE { ?i <https://w3id.org/pakistan-security-kg/ontology#fatalities> ?f }"))
    assert row["n"].value == str(1_000_000 + sum(int(line.split(",")[-3]) for line in lines()[2:]))  # type: ignore[index]


def test_the_command_line_prints_the_error_without_a_traceback(full_store: Path, tmp_path: Path) -> None:
    bad = tmp_path / "latin1.csv"
    bad.write_bytes(("\n".join(lines()) + "\n").encode("utf-8").replace(b"Synthville", "Synthvill\xe9".encode("latin-1")))
    done = subprocess.run(
        [sys.executable, "-m", "kg", "load", "acled", str(bad)],
        capture_output=True,
        text=True,
        env={**os.environ, "PSK_STORE": str(full_store)},
        cwd=ROOT,
        timeout=300,
    )
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert f"{bad}, line 2, column 'location': byte 0xE9 at character" in done.stderr


def test_incident_csv_downloads_neutralise_formulas(seed_store: Path, tmp_path: Path) -> None:
    """OWASP CSV injection: a cell starting with = + - @, a tab or a carriage return is prefixed with an apostrophe."""
    import csv
    import io

    from kg.backend import LocalBackend
    from server import create_app

    shutil.copytree(seed_store.with_name(seed_store.name + ".versions"), tmp_path / "store.versions")
    os.symlink(os.readlink(seed_store), tmp_path / "store")
    hostile = {1: '=HYPERLINK("http://example.org/x","click")', 2: "+SUM(1,2)", 3: "@SUM(A1)"}
    out = lines()
    for row, value in hostile.items():
        out = (
            with_cell(row, "location", value)
            if row == 1
            else [*out[:row], with_cell(row, "location", value)[row], *out[row + 1 :]]
        )
    evil = tmp_path / "evil.csv"
    evil.write_text("\n".join(out) + "\n", encoding="utf-8")
    load_files("acled", [evil], Settings(store=str(tmp_path / "store")), compact=False)
    backend = LocalBackend(str(tmp_path / "store"), pool_size=1)
    try:
        client = create_app(Settings(store=str(tmp_path / "store")), store=backend).test_client()
        cells: list[str] = []
        for province in ("balochistan", "khyber-pakhtunkhwa"):
            resp = client.get(f"/incidents/id/province/{province}.csv")
            assert resp.status_code == 200
            cells += [c for r in csv.reader(io.StringIO(resp.get_data(as_text=True))) for c in r]
    finally:
        backend.close()
    assert not [c for c in cells if c[:1] in ("=", "+", "@", "\t", "\r") or (c.startswith("-") and not c[1:].isdigit())]
    for value in hostile.values():
        assert "'" + value in cells  # kept, but as text


@pytest.mark.parametrize(
    ("cell", "safe"),
    [("-2+3", "'-2+3"), ("\tcmd", "'\tcmd"), ("\r=1", "'\r=1"), ("=1", "'=1"), ("-33.5", "-33.5"), ("+7", "+7"), ("a=b", "a=b")],
)
def test_spreadsheet_safe_cells(cell: str, safe: str) -> None:
    from server.linked_data import spreadsheet_safe

    assert spreadsheet_safe(cell) == safe
