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


@dataclass
class EventRow:
    line: int
    event_id: str
    date: dt.date
    end_date: dt.date | None
    time_precision: int | None
    event_type: str  # vocab slug
    sub_event_type: str | None
    actor1: str
    inter1: str | None
    actor2: str | None
    inter2: str | None
    assoc: list[str]
    country: str
    admin1: str | None
    admin2: str | None
    admin3: str | None
    location: str | None
    lat: float | None
    lon: float | None
    geo_precision: int | None
    fatalities: int | None
    notes: str | None
    sources: str | None
    civilian_targeting: bool
    disorder_type: str | None = None
    timestamp: int | None = None
    type_label: str = ""
    extra: dict[str, str] = field(default_factory=dict)


def req(row: dict[str, str], col: str) -> str:
    value = (row.get(col) or "").strip()
    if not value:
        raise RowError(col, "is empty but required")
    return value


def opt(row: dict[str, str], col: str) -> str | None:
    value = (row.get(col) or "").strip()
    return value or None


def integer(row: dict[str, str], col: str, *, lo: int | None = None, hi: int | None = None, required: bool = False) -> int | None:
    raw = req(row, col) if required else opt(row, col)
    if raw is None:
        return None
    try:
        value = int(float(raw)) if re.fullmatch(r"-?\d+(\.0+)?", raw) else int(raw)
    except ValueError:
        raise RowError(col, f"{raw!r} is not an integer") from None
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise RowError(col, f"{value} is outside {lo}..{hi}")
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
    for fmt in ("%Y-%m-%d", "%d %B %Y", "%d-%B-%Y", "%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S"):
        try:
            return dt.datetime.strptime(raw, fmt).date()
        except ValueError:
            continue
    raise RowError(col, f"{raw!r} is not a date (expected YYYY-MM-DD or '11 March 2025')")


def read_rows(path: Path, columns: list[str], exact: bool) -> Iterator[tuple[int, dict[str, str]]]:
    with open(path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh)
        try:
            header = next(reader)
        except StopIteration:
            raise LoadError(str(path), 1, None, "file is empty (expected a header row)") from None
        header = [h.strip() for h in header]
        if exact and header != columns:
            missing = [c for c in columns if c not in header]
            if missing:
                raise LoadError(str(path), 1, missing[0], f"header lacks column(s) {', '.join(missing)}")
            first = next(i for i, (a, b) in enumerate(zip(header, columns, strict=False)) if a != b)
            raise LoadError(
                str(path),
                1,
                header[first],
                f"columns are not in ACLED export order: expected {columns[first]!r} at position {first + 1}",
            )
        if not exact:
            missing = [c for c in columns if c not in header]
            if missing:
                raise LoadError(str(path), 1, missing[0], f"header lacks column(s) {', '.join(missing)}")
        for record in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in record):
                continue
            if len(record) != len(header):
                yield line, {"__arity__": f"has {len(record)} fields; the header has {len(header)}"}
                continue
            yield line, dict(zip(header, record, strict=True))


def file_sha(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
