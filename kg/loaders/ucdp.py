"""UCDP GED CSV: the standard GED columns (any order; extra columns are ignored)."""

from __future__ import annotations

import re

from ..errors import RowError
from .rows import MAX_FATALITIES, EventRow, date_of, integer, number, opt, req

UCDP_REQUIRED = [
    "id", "year", "type_of_violence", "conflict_name", "side_a", "side_b", "country", "adm_1", "adm_2",
    "where_coordinates", "latitude", "longitude", "where_prec", "date_prec", "date_start", "date_end",
    "best", "source_article",
]  # fmt: skip


UCDP_VIOLENCE = {"1": "battles", "2": "battles", "3": "violence-against-civilians"}
UCDP_LABELS = {"1": "State-based violence", "2": "Non-state violence", "3": "One-sided violence"}


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
    return EventRow(
        line=line,
        event_id=f"GED{event_id}",
        date=start,
        end_date=end if end != start else None,
        time_precision=integer(row, "date_prec", lo=1, hi=5),
        event_type=UCDP_VIOLENCE[tov],
        sub_event_type=None,
        actor1=req(row, "side_a"),
        inter1="state-forces" if tov == "1" else None,
        actor2=opt(row, "side_b"),
        inter2=None,
        assoc=[],
        country=re.sub(r"\s*\(.*\)$", "", req(row, "country")),
        admin1=adm1,
        admin2=opt(row, "adm_2"),
        admin3=None,
        location=opt(row, "where_coordinates"),
        lat=number(row, "latitude", -90, 90),
        lon=number(row, "longitude", -180, 180),
        geo_precision=integer(row, "where_prec", lo=1, hi=7),
        fatalities=integer(row, "best", lo=0, hi=MAX_FATALITIES, required=True),
        notes=opt(row, "source_headline"),
        sources=opt(row, "source_article"),
        civilian_targeting=tov == "3",
        type_label=UCDP_LABELS[tov],
        extra={"conflict_name": opt(row, "conflict_name") or ""},
    )
