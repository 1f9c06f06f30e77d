"""UCDP GED CSV: the standard GED columns (any order; extra columns are ignored), kept on GED's own scales."""

from __future__ import annotations

import re

from ..errors import RowError
from .rows import MAX_FATALITIES, EventRow, SideRow, date_of, integer, number, opt, req

UCDP_REQUIRED = [
    "id", "year", "type_of_violence", "conflict_name", "side_a", "side_b", "country", "adm_1", "adm_2",
    "where_coordinates", "latitude", "longitude", "where_prec", "date_prec", "date_start", "date_end",
    "best", "source_article",
]  # fmt: skip

# type_of_violence: concepts of the ucdp-violence scheme (GED's own categories, not ACLED event types)
UCDP_VIOLENCE = {"1": "state-based", "2": "non-state", "3": "one-sided"}
UCDP_LABELS = {"1": "State-based violence", "2": "Non-state violence", "3": "One-sided violence"}
# GED columns kept as integers (with their codebook ranges) and verbatim, besides those EventRow has fields for.
UCDP_COUNTS = {
    "date_prec": (1, 5), "where_prec": (1, 7), "low": (0, None), "high": (0, None), "deaths_a": (0, None),
    "deaths_b": (0, None), "deaths_civilians": (0, None), "deaths_unknown": (0, None),
    "number_of_sources": (0, None), "event_clarity": (1, 2),
}  # fmt: skip
UCDP_LITERALS = ("relid", "dyad_name", "where_description", "source_headline", "source_office", "source_date", "source_original")


def parse_ucdp(row: dict[str, str], line: int) -> EventRow:
    event_id = req(row, "id")
    if not re.fullmatch(r"\d+", event_id):
        raise RowError("id", f"{event_id!r} is not a UCDP GED event id (an integer)")
    tov = req(row, "type_of_violence")
    if tov not in UCDP_VIOLENCE:
        raise RowError("type_of_violence", f"{tov!r} must be 1 (state-based), 2 (non-state) or 3 (one-sided)")
    start, end = date_of(row, "date_start"), date_of(row, "date_end")
    if end < start:
        raise RowError("date_end", f"{end} is before date_start {start}")
    adm1 = opt(row, "adm_1")
    if adm1:
        adm1 = re.sub(r"\s+(province|territory|region)$", "", adm1, flags=re.I)
    counts = {
        col: v
        for col, (lo, hi) in UCDP_COUNTS.items()
        if (v := integer(row, col, lo=lo, hi=MAX_FATALITIES if hi is None else hi)) is not None
    }
    best = integer(row, "best", lo=0, hi=MAX_FATALITIES, required=True)
    assert best is not None
    if "low" in counts and counts["low"] > best:
        raise RowError("low", f"{counts['low']} is above best ({best})")
    if "high" in counts and counts["high"] < best:
        raise RowError("high", f"{counts['high']} is below best ({best})")
    sides = [SideRow("side-a", req(row, "side_a"), None, [])]
    side_b = opt(row, "side_b")
    if side_b:
        sides.append(SideRow("side-b", side_b, None, []))
    return EventRow(
        line=line,
        event_id=f"GED{event_id}",
        date=start,
        end_date=end if end != start else None,
        time_precision=None,
        event_type=UCDP_VIOLENCE[tov],
        sub_event_type=None,
        type_scheme="ucdp-violence",
        sides=sides,
        directed=tov == "3" and len(sides) == 2,  # one-sided violence: side A's violence against side B, civilians
        interaction=None,
        country=re.sub(r"\s*\(.*\)$", "", req(row, "country")),
        admin1=adm1,
        admin2=opt(row, "adm_2"),
        admin3=None,
        location=opt(row, "where_coordinates"),
        lat=number(row, "latitude", -90, 90),
        lon=number(row, "longitude", -180, 180),
        geo_precision=None,
        fatalities=best,
        notes=None,
        sources=opt(row, "source_article"),
        civilian_targeting=None,
        type_label=UCDP_LABELS[tov],
        extra={"conflict_name": opt(row, "conflict_name") or ""},
        literals={col: text for col in UCDP_LITERALS if (text := opt(row, col)) is not None},
        counts=counts,
    )
