"""ACLED export CSV: the 31 columns in export order, checked row by row against ACLED's codebook."""

from __future__ import annotations

import re

from ..errors import RowError
from ..namespaces import slugify
from .rows import MAX_FATALITIES, MAX_TIMESTAMP, EventRow, date_of, integer, number, opt, req

ACLED_COLUMNS = [
    "event_id_cnty", "event_date", "year", "time_precision", "disorder_type", "event_type", "sub_event_type",
    "actor1", "assoc_actor_1", "inter1", "actor2", "assoc_actor_2", "inter2", "interaction", "civilian_targeting",
    "iso", "region", "country", "admin1", "admin2", "admin3", "location", "latitude", "longitude", "geo_precision",
    "source", "source_scale", "notes", "fatalities", "tags", "timestamp",
]  # fmt: skip


ACLED_TYPES: dict[str, list[str]] = {
    "Battles": ["Armed clash", "Government regains territory", "Non-state actor overtakes territory"],
    "Explosions/Remote violence": [
        "Chemical weapon", "Air/drone strike", "Suicide bomb", "Shelling/artillery/missile attack",
        "Remote explosive/landmine/IED", "Grenade",
    ],
    "Violence against civilians": ["Sexual violence", "Attack", "Abduction/forced disappearance"],
    "Protests": ["Peaceful protest", "Protest with intervention", "Excessive force against protesters"],
    "Riots": ["Violent demonstration", "Mob violence"],
    "Strategic developments": [
        "Agreement", "Arrests", "Change to group/activity", "Disrupted weapons use", "Headquarters or base established",
        "Looting/property destruction", "Non-violent transfer of territory", "Other",
    ],
}  # fmt: skip

INTER_CODES = {
    "1": "state-forces", "2": "rebel-groups", "3": "political-militias", "4": "identity-militias",
    "5": "rioters", "6": "protesters", "7": "civilians", "8": "external-other-forces",
}  # fmt: skip
INTER_BY_NAME = {v.replace("-", " "): v for v in INTER_CODES.values()} | {"external/other forces": "external-other-forces"}
ACTOR_CLASS = {
    "state-forces": "StateSecurityForce", "rebel-groups": "ArmedGroup", "political-militias": "ArmedGroup",
    "identity-militias": "ArmedGroup", "external-other-forces": "Organization",
}  # fmt: skip


def _inter(row: dict[str, str], col: str) -> str | None:
    raw = opt(row, col)
    if raw is None or raw == "0":
        return None
    if raw in INTER_CODES:
        return INTER_CODES[raw]
    key = raw.lower()
    if key in INTER_BY_NAME:
        return INTER_BY_NAME[key]
    raise RowError(col, f"{raw!r} is not an ACLED inter code (0-8 or a name such as 'State forces')")


def parse_acled(row: dict[str, str], line: int) -> EventRow:
    event_id = req(row, "event_id_cnty")
    if not re.fullmatch(r"[A-Za-z]{2,4}\d+", event_id):
        raise RowError("event_id_cnty", f"{event_id!r} is not an ACLED event id such as PAK12345")
    date = date_of(row, "event_date")
    year = integer(row, "year", required=True)
    if year != date.year:
        raise RowError("year", f"{year} does not match event_date {date.isoformat()}")
    event_type = req(row, "event_type")
    if event_type not in ACLED_TYPES:
        raise RowError("event_type", f"{event_type!r} is not an ACLED event type ({', '.join(ACLED_TYPES)})")
    sub = req(row, "sub_event_type")
    if sub not in ACLED_TYPES[event_type]:
        raise RowError("sub_event_type", f"{sub!r} is not a sub-event type of {event_type!r}")
    ct = opt(row, "civilian_targeting")
    if ct not in (None, "Civilian targeting"):
        raise RowError("civilian_targeting", f"{ct!r} must be empty or 'Civilian targeting'")
    integer(row, "interaction", lo=0, hi=99)
    integer(row, "iso", lo=0, hi=999)
    return EventRow(
        line=line,
        event_id=event_id,
        date=date,
        end_date=None,
        time_precision=integer(row, "time_precision", lo=1, hi=3),
        event_type=slugify(event_type),
        sub_event_type=slugify(sub),
        actor1=req(row, "actor1"),
        inter1=_inter(row, "inter1"),
        actor2=opt(row, "actor2"),
        inter2=_inter(row, "inter2"),
        assoc=[a.strip() for col in ("assoc_actor_1", "assoc_actor_2") for a in (opt(row, col) or "").split(";") if a.strip()],
        country=req(row, "country"),
        admin1=opt(row, "admin1"),
        admin2=opt(row, "admin2"),
        admin3=opt(row, "admin3"),
        location=opt(row, "location"),
        lat=number(row, "latitude", -90, 90),
        lon=number(row, "longitude", -180, 180),
        geo_precision=integer(row, "geo_precision", lo=1, hi=3),
        fatalities=integer(row, "fatalities", lo=0, hi=MAX_FATALITIES, required=True),
        notes=opt(row, "notes"),
        sources=opt(row, "source"),
        civilian_targeting=ct is not None,
        disorder_type=opt(row, "disorder_type"),
        timestamp=integer(row, "timestamp", lo=0, hi=MAX_TIMESTAMP),
        type_label=sub,
    )
