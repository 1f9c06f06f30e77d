"""ACLED export CSV: the 31 columns in export order (plus the optional population columns), checked row by row
against ACLED's codebook, and normalised where the codebook has changed over the years (see README)."""

from __future__ import annotations

import re

from ..errors import RowError
from ..namespaces import slugify
from .rows import MAX_FATALITIES, MAX_TIMESTAMP, EventRow, SideRow, date_of, integer, number, opt, req

ACLED_COLUMNS = [
    "event_id_cnty", "event_date", "year", "time_precision", "disorder_type", "event_type", "sub_event_type",
    "actor1", "assoc_actor_1", "inter1", "actor2", "assoc_actor_2", "inter2", "interaction", "civilian_targeting",
    "iso", "region", "country", "admin1", "admin2", "admin3", "location", "latitude", "longitude", "geo_precision",
    "source", "source_scale", "notes", "fatalities", "tags", "timestamp",
]  # fmt: skip
# Columns an export may add after the 31 (ACLED's population estimates, requested with the export).
ACLED_OPTIONAL = ["population_1km", "population_2km", "population_5km", "population_best"]


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
# Spellings found in exports and codebooks of other years, mapped to the current ones (compared case-insensitively).
TYPE_SPELLINGS = {t.lower(): t for t in ACLED_TYPES} | {"remote violence": "Explosions/Remote violence"}
SUB_SPELLINGS = {s.lower(): s for subs in ACLED_TYPES.values() for s in subs} | {
    "excessive force against protestors": "Excessive force against protesters",
    "remote explosive/landmine/ied": "Remote explosive/landmine/IED",
}
# The event type whose coding gives a direction: actor 1 is the perpetrator, actor 2 the civilians targeted.
DIRECTED_TYPE = "Violence against civilians"

INTER_CODES = {
    "1": "state-forces", "2": "rebel-groups", "3": "political-militias", "4": "identity-militias",
    "5": "rioters", "6": "protesters", "7": "civilians", "8": "external-other-forces",
}  # fmt: skip
INTER_NUMBER = {slug: int(code) for code, slug in INTER_CODES.items()}
# Names of the actor types: the current codebook's singular names ("Rebel group") and the older plural ones.
INTER_NAMES = {
    "state forces": 1, "rebel group": 2, "rebel groups": 2, "political militia": 3, "political militias": 3,
    "identity militia": 4, "identity militias": 4, "rioters": 5, "protesters": 6, "protestors": 6,
    "civilians": 7, "external/other forces": 8, "external other forces": 8, "other forces": 8, "others": 8,
}  # fmt: skip
# The codebook's names of the eight actor types, as interaction names use them ("State forces-Rebel group").
INTER_LABELS = {
    1: "State forces", 2: "Rebel group", 3: "Political militia", 4: "Identity militia", 5: "Rioters", 6: "Protesters",
    7: "Civilians", 8: "External/Other forces",
}  # fmt: skip
ACTOR_CLASS = {
    "state-forces": "StateSecurityForce", "rebel-groups": "ArmedGroup", "political-militias": "ArmedGroup",
    "identity-militias": "ArmedGroup", "external-other-forces": "Organization",
}  # fmt: skip


def interaction_label(code: int) -> str:
    """ACLED's name of an interaction code: 12 'State forces-Rebel group', 10 'State forces only'."""
    a, b = divmod(code, 10)
    return f"{INTER_LABELS[a]} only" if b == 0 else f"{INTER_LABELS[a]}-{INTER_LABELS[b]}"


INTERACTION_CODES = sorted({a * 10 for a in INTER_LABELS} | {a * 10 + b for a in INTER_LABELS for b in INTER_LABELS if b >= a})
INTERACTION_NAMES = {interaction_label(c).lower(): c for c in INTERACTION_CODES} | {
    f"sole {INTER_LABELS[a].lower()}": a * 10 for a in INTER_LABELS
}


def _inter_code(raw: str) -> int | None:
    """An actor type as a number: '2', 'Rebel group', 'Rebel groups' -> 2 (None if it is none of them)."""
    if raw in INTER_CODES:
        return int(raw)
    return INTER_NAMES.get(" ".join(raw.lower().split()))


def _inter(row: dict[str, str], col: str) -> str | None:
    raw = opt(row, col)
    if raw is None or raw == "0":
        return None
    code = _inter_code(raw)
    if code is None:
        raise RowError(col, f"{raw!r} is not an ACLED inter code (1-8 or a name such as 'State forces', 'Rebel group')")
    return INTER_CODES[str(code)]


def _interaction(row: dict[str, str]) -> int | None:
    """ACLED's interaction: a code (12) or its name ('State forces-Rebel group', 'Rebel group only', 'Sole rioters')."""
    raw = opt(row, "interaction")
    if raw is None:
        return None
    code: int | None = int(raw) if re.fullmatch(r"\d{1,2}", raw) else INTERACTION_NAMES.get(" ".join(raw.lower().split()))
    if code is not None and code % 10 and code // 10 > code % 10:  # "21": the same pair as 12, lower code first
        code = (code % 10) * 10 + code // 10
    if code is None and raw.count("-") == 1:  # no actor type name contains '-'
        a, b = (_inter_code(part.strip()) for part in raw.split("-"))
        if a is not None and b is not None:
            code = min(a, b) * 10 + max(a, b)
    if code not in INTERACTION_CODES:
        raise RowError("interaction", f"{raw!r} is not an ACLED interaction code (such as 12 or 'State forces-Rebel group')")
    return code


def _associates(row: dict[str, str], col: str) -> list[str]:
    return [a.strip() for a in (opt(row, col) or "").split(";") if a.strip()]


def parse_acled(row: dict[str, str], line: int) -> EventRow:
    event_id = req(row, "event_id_cnty")
    if not re.fullmatch(r"[A-Za-z]{2,4}\d+", event_id):
        raise RowError("event_id_cnty", f"{event_id!r} is not an ACLED event id such as PAK12345")
    date = date_of(row, "event_date")
    year = integer(row, "year", required=True)
    if year != date.year:
        raise RowError("year", f"{year} does not match event_date {date.isoformat()}")
    raw_type = req(row, "event_type")
    event_type = TYPE_SPELLINGS.get(raw_type.lower())
    if event_type is None:
        raise RowError("event_type", f"{raw_type!r} is not an ACLED event type ({', '.join(ACLED_TYPES)})")
    raw_sub = req(row, "sub_event_type")
    sub = SUB_SPELLINGS.get(raw_sub.lower())
    if sub not in ACLED_TYPES[event_type]:
        raise RowError("sub_event_type", f"{raw_sub!r} is not a sub-event type of {event_type!r}")
    ct = opt(row, "civilian_targeting")
    if ct is not None and ct.lower() != "civilian targeting":
        raise RowError("civilian_targeting", f"{ct!r} must be empty or 'Civilian targeting'")
    integer(row, "iso", lo=0, hi=999)
    sides = [SideRow("actor-1", req(row, "actor1"), _inter(row, "inter1"), _associates(row, "assoc_actor_1"))]
    actor2 = opt(row, "actor2")
    if actor2:
        sides.append(SideRow("actor-2", actor2, _inter(row, "inter2"), _associates(row, "assoc_actor_2")))
    elif _associates(row, "assoc_actor_2"):
        raise RowError("assoc_actor_2", "names associated actors of an empty actor2")
    literals = {
        col: value for col in ("iso", "region", "source_scale", "tags", "disorder_type") if (value := opt(row, col)) is not None
    }
    counts = {col: v for col in ACLED_OPTIONAL if (v := integer(row, col, lo=0)) is not None}
    return EventRow(
        line=line,
        event_id=event_id,
        date=date,
        end_date=None,
        time_precision=integer(row, "time_precision", lo=1, hi=3),
        event_type=slugify(event_type),
        sub_event_type=slugify(sub),
        sides=sides,
        directed=event_type == DIRECTED_TYPE and len(sides) == 2,
        interaction=_interaction(row),
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
        timestamp=integer(row, "timestamp", lo=0, hi=MAX_TIMESTAMP),
        type_label=sub,
        literals=literals,
        counts=counts,
    )
