"""Labels for IRIs shown in results: the resource's label, its local page, or a CURIE for external vocabularies."""

from __future__ import annotations

from typing import Any

import pyoxigraph as ox

from kg import queries
from kg.describe import curie

from .util import iri_to_path, psk

MAX_IRIS = 2000


def _pick(labels: list[ox.Literal]) -> str | None:
    for lit in labels:
        if lit.language in (None, "en") or (lit.language or "").startswith("en-"):
            return lit.value
    return labels[0].value if labels else None


def describe_iris(iris: list[str]) -> dict[str, dict[str, Any]]:
    """{iri: {label, page, curie}} for up to MAX_IRIS distinct IRIs (one bound lookup each)."""
    ctx = psk()
    out: dict[str, dict[str, Any]] = {}
    for iri in dict.fromkeys(iris):
        if len(out) >= MAX_IRIS:
            break
        if not iri.startswith(("http://", "https://", "urn:")):
            continue
        try:
            node = ox.NamedNode(iri)
        except ValueError:
            continue
        result = ctx["backend"].select(queries.text("labels"), {"s": node}, max_rows=8)
        label = _pick([r["label"] for r in result.records() if isinstance(r["label"], ox.Literal)])
        out[iri] = {"label": label, "page": iri_to_path(iri, ctx["base"]), "curie": curie(iri)}
    return out
