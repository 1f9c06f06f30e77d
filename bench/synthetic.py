"""Deterministic ACLED-shaped synthetic data for benchmarks (not real events; never redistributes ACLED)."""

from __future__ import annotations

import csv
import datetime as dt
import random
from pathlib import Path

from kg.loaders import ACLED_COLUMNS, ACLED_TYPES

ADMIN1 = [
    "Balochistan",
    "Baluchistan",
    "Khyber Pakhtunkhwa",
    "KP",
    "Punjab",
    "Sindh",
    "Islamabad Capital Territory",
    "Gilgit-Baltistan",
]
ACTORS = [
    ("BLA: Baloch Liberation Army", "2"),
    ("TTP: Tehreek-i-Taliban Pakistan", "2"),
    ("Military Forces of Pakistan (2018-)", "1"),
    ("Police Forces of Pakistan (2018-)", "1"),
    ("Unidentified Armed Group (Pakistan)", "3"),
    ("Protesters (Pakistan)", "6"),
    ("Civilians (Pakistan)", "7"),
]


def generate(path: Path, rows: int, seed: int = 1) -> Path:
    rng = random.Random(seed)
    start = dt.date(2018, 1, 1)
    types = [(t, s) for t, subs in ACLED_TYPES.items() for s in subs]
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(ACLED_COLUMNS)
        for i in range(rows):
            date = start + dt.timedelta(days=rng.randrange(2900))
            event_type, sub = rng.choice(types)
            a1, i1 = rng.choice(ACTORS)
            a2, i2 = rng.choice([*ACTORS, ("", "0")])
            admin1 = rng.choice(ADMIN1)
            district = f"Synthetic District {rng.randrange(60)}"
            location = f"Synthetic Town {rng.randrange(2000)}"
            writer.writerow(
                [
                    f"SYN{i + 1}", date.isoformat(), date.year, rng.choice([1, 1, 1, 2, 3]), "Political violence", event_type, sub,
                    a1, "", i1, a2, "", i2, "".join(sorted((i1, i2))).lstrip("0").ljust(2, "0"), rng.choice(["", "", "Civilian targeting"]), 586, "Southern Asia", "Pakistan",
                    admin1, district, "", location, f"{24 + rng.random() * 12:.4f}", f"{61 + rng.random() * 14:.4f}", rng.choice([1, 2, 3]),
                    "Synthetic Source", "National", f"Synthetic event {i + 1}; not real data.", rng.choice([0, 0, 0, 1, 2, 5]), "", 1700000000 + i,
                ]
            )  # fmt: skip
    return path
