"""The SPARQL of kg's read side, one .rq file per query (read with importlib.resources, once)."""

from __future__ import annotations

from functools import cache
from importlib import resources


@cache
def text(name: str) -> str:
    """The text of kg/queries/<name>.rq."""
    return resources.files(__name__).joinpath(f"{name}.rq").read_text(encoding="utf-8")


def names() -> list[str]:
    return sorted(p.name[:-3] for p in resources.files(__name__).iterdir() if p.name.endswith(".rq"))
