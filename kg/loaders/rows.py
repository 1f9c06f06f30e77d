"""What every loader shares: the parsed row, the column readers and the CSV reader."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import LoadError, RowError


@dataclass(frozen=True)
class SideRow:
    """One side of an event as the dataset codes it: ACLED actor 1 / actor 2, UCDP side A / side B."""

    role: str  # actor-1 | actor-2 | side-a | side-b (a concept of the side-role scheme)
    actor: str  # the name as the dataset spells it
    inter: str | None  # ACLED actor type (inter code slug); None for UCDP, which codes no actor type
    associates: list[str]  # ACLED assoc_actor_1 / assoc_actor_2 of this side


@dataclass
class EventRow:
    line: int
    event_id: str
    date: dt.date
    end_date: dt.date | None
    time_precision: int | None  # ACLED's 1-3 scale (UCDP's date_prec goes into counts)
    event_type: str  # vocab slug
    sub_event_type: str | None
    sides: list[SideRow]
    directed: bool  # the coding gives a direction: the first side is the perpetrator, the second the target
    interaction: int | None  # ACLED interaction code
    country: str
    admin1: str | None
    admin2: str | None
    admin3: str | None
    location: str | None
    lat: float | None
    lon: float | None
    geo_precision: int | None  # ACLED's 1-3 scale (UCDP's where_prec goes into counts)
    fatalities: int | None
    notes: str | None
    sources: str | None
    civilian_targeting: bool | None  # None: the dataset does not code it (UCDP)
    timestamp: int | None = None
    type_label: str = ""
    type_scheme: str = "event-type"  # the SKOS scheme of event_type and sub_event_type
    extra: dict[str, str] = field(default_factory=dict)
    literals: dict[str, str] = field(default_factory=dict)  # other columns kept verbatim, by column name
    counts: dict[str, int] = field(default_factory=dict)  # other integer columns, by column name


def req(row: dict[str, str], col: str) -> str:
    value = (row.get(col) or "").strip()
    if not value:
        raise RowError(col, "is empty but required")
    return value


def opt(row: dict[str, str], col: str) -> str | None:
    value = (row.get(col) or "").strip()
    return value or None


MAX_FATALITIES = 1_000_000  # more than any single event has had; a larger count is a data error
MAX_TIMESTAMP = 253_402_300_799  # 9999-12-31T23:59:59Z, the last second an xsd:dateTime of four-digit years holds
INT64 = (-(2**63), 2**63 - 1)  # what an xsd:integer may hold in Oxigraph (and SUM over it stays exact)
_INTEGER = re.compile(r"[+-]?\d+(?:\.0+)?")


def integer(row: dict[str, str], col: str, *, lo: int | None = None, hi: int | None = None, required: bool = False) -> int | None:
    """An integer column, parsed exactly (never through a float: 99999999999999999999999 stays that number and is
    rejected by the bound); "3.0" is accepted as 3. Unbounded sides are bounded by the 64-bit range."""
    raw = req(row, col) if required else opt(row, col)
    if raw is None:
        return None
    if not _INTEGER.fullmatch(raw):
        raise RowError(col, f"{raw!r} is not an integer")
    value = int(raw.split(".", 1)[0])
    low = INT64[0] if lo is None else lo
    high = INT64[1] if hi is None else hi
    if not low <= value <= high:
        raise RowError(col, f"{raw} is out of range (must be {low}..{high})")
    return value


def number(row: dict[str, str], col: str, lo: float, hi: float) -> float | None:
    raw = opt(row, col)
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise RowError(col, f"{raw!r} is not a number") from None
    if not lo <= value <= hi:
        raise RowError(col, f"{value} is outside {lo}..{hi}")
    return value


def date_of(row: dict[str, str], col: str) -> dt.date:
    raw = req(row, col)
    if len(raw) == 10 and raw[4] == "-":
        try:
            return dt.date.fromisoformat(raw)
        except ValueError:
            pass
    # ISO dates, ACLED's "11 March 2025", the older codebook's dd-mm-yyyy and dd/mm/yyyy, timestamps
    formats = (
        "%Y-%m-%d",
        "%d %B %Y",
        "%d-%B-%Y",
        "%d-%b-%Y",
        "%d-%m-%Y",
        "%d/%m/%Y",
        "%Y-%m-%d %H:%M:%S.%f",
        "%Y-%m-%d %H:%M:%S",
    )
    for fmt in formats:
        try:
            return dt.datetime.strptime(raw, fmt).date()
        except ValueError:
            continue
    raise RowError(col, f"{raw!r} is not a date (expected YYYY-MM-DD, '11 March 2025' or DD-MM-YYYY)")


MAX_FIELD = 1 << 20  # characters in one CSV field (notes are a few kB; a larger field is a broken file)


def read_rows(
    path: Path, columns: list[str], exact: bool, optional: tuple[str, ...] = ()
) -> Iterator[tuple[int, dict[str, str]]]:
    """The rows of a CSV file as (line, {column: value}); a file that cannot be read raises LoadError naming the
    file, the line and the column: bytes that are not UTF-8, a field over MAX_FIELD characters, broken quoting,
    a header that is not the expected one."""
    csv.field_size_limit(MAX_FIELD)
    header: list[str] = []
    reader = None
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh)
            try:
                header = next(reader)
            except StopIteration:
                raise LoadError(str(path), 1, None, "file is empty (expected a header row)") from None
            header = [h.strip() for h in header]
            check_header(path, header, columns, exact, optional)
            for record in reader:
                line = reader.line_num
                if not any(cell.strip() for cell in record):
                    continue
                if len(record) != len(header):
                    yield line, {"__arity__": f"has {len(record)} fields; the header has {len(header)}"}
                    continue
                yield line, dict(zip(header, record, strict=True))
    except UnicodeDecodeError:
        raise _decode_error(path, header) from None
    except csv.Error as exc:
        raise _csv_error(path, header, reader.line_num if reader is not None else 1, exc) from None


def check_header(path: Path, header: list[str], columns: list[str], exact: bool, optional: tuple[str, ...] = ()) -> None:
    """The header names every column (exact: exactly these, in this order, then any of optional), each once."""
    seen: set[str] = set()
    for name in header:
        if name in seen:
            raise LoadError(str(path), 1, name, f"column {name!r} appears twice in the header")
        seen.add(name)
    missing = [c for c in columns if c not in header]
    if missing:
        raise LoadError(str(path), 1, missing[0], f"header lacks column(s) {', '.join(missing)}")
    if exact and header[: len(columns)] == columns and all(h in optional for h in header[len(columns) :]):
        return
    if exact and header != columns:
        extra = [h for h in header if h not in columns]
        if extra:
            where = header.index(extra[0]) + 1
            raise LoadError(
                str(path), 1, extra[0], f"unexpected column at position {where}: the export has exactly {len(columns)} columns"
            )
        first = next(i for i, (a, b) in enumerate(zip(header, columns, strict=True)) if a != b)
        raise LoadError(
            str(path),
            1,
            header[first],
            f"columns are not in ACLED export order: expected {columns[first]!r} at position {first + 1}",
        )


def _field_at(header: list[str], text: str) -> str | None:
    """The header name of the field in which a line's text (up to a point) ends."""
    if not header:
        return None
    try:
        fields = next(csv.reader([text]), [""])
    except csv.Error:
        return None
    index = max(0, len(fields) - 1)
    return header[index] if index < len(header) else None


def _decode_error(path: Path, header: list[str]) -> LoadError:
    """Where the first byte that is not UTF-8 is: line, column (the field) and position in the line."""
    with open(path, "rb") as fh:
        if not header:  # the decoder reads ahead: the error can come before the header line was parsed
            first = fh.readline().decode("utf-8", errors="replace").lstrip("\ufeff")
            header = [h.strip() for h in next(csv.reader([first]), [])]
            fh.seek(0)
        for number, raw in enumerate(fh, start=1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                before = raw[: exc.start].decode("utf-8").lstrip("\ufeff")
                bad = raw[exc.start : exc.start + 1].hex().upper()
                column = _field_at(header, before) if number > 1 else None
                return LoadError(
                    str(path),
                    number,
                    column,
                    f"byte 0x{bad} at character {len(before) + 1} is not UTF-8 (the file must be UTF-8 encoded;"
                    " re-save it as UTF-8, e.g. iconv -f latin1 -t utf-8)",
                )
    return LoadError(str(path), 1, None, "the file is not UTF-8 encoded")


def _csv_error(path: Path, header: list[str], line: int, exc: csv.Error) -> LoadError:
    message = str(exc)
    if "field larger than field limit" in message:
        column = None
        limit = csv.field_size_limit(2**31 - 1)  # find which field of the record it is
        try:
            with open(path, newline="", encoding="utf-8-sig") as fh:
                rescan = csv.reader(fh)
                for number, record in enumerate(rescan, start=1):
                    big = [i for i, cell in enumerate(record) if len(cell) > MAX_FIELD]
                    if big:
                        column = header[big[0]] if number > 1 and big[0] < len(header) else None
                        line = rescan.line_num
                        break
        finally:
            csv.field_size_limit(limit)
        return LoadError(str(path), line, column, f"a field is longer than {MAX_FIELD} characters (is a quote unclosed?)")
    return LoadError(str(path), line, None, f"the CSV cannot be read: {message}")


def file_sha(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
