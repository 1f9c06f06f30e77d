"""/api/map-points: where an entity's incidents happened, one bubble per located place, for the offline maps."""

from __future__ import annotations

import json
from typing import Any

import pyoxigraph as ox
from flask import Blueprint, Response, abort, jsonify, request

from kg import queries

from .util import Cached, iri_to_path, psk

bp = Blueprint("maps", __name__)

MAX_INCIDENTS = 100_000


def map_points(iri: str) -> list[dict[str, Any]]:
    """Located places of the incidents of a place or actor, with incident counts and summed fatalities."""
    ctx = psk()
    result = ctx["backend"].select(queries.text("map_points"), {"entity": ox.NamedNode(iri)}, max_rows=MAX_INCIDENTS)
    places: dict[str, dict[str, Any]] = {}
    seen: set[tuple[str, str]] = set()
    for row in result.records():
        incident, place = row["incident"].value, row["place"].value
        if (incident, place) in seen:
            continue
        seen.add((incident, place))
        label = row["placeLabel"]
        item = places.setdefault(
            place,
            {
                "iri": place,
                "page": iri_to_path(place, ctx["base"]),
                "label": label.value if label is not None else place.rsplit("/", 1)[-1],
                "lat": float(row["lat"].value),
                "lon": float(row["lon"].value),
                "incidents": 0,
                "fatalities": 0,
            },
        )
        item["incidents"] += 1
        fatalities = row["fatalities"]
        if fatalities is not None:
            item["fatalities"] += int(fatalities.value)
    return sorted(places.values(), key=lambda p: (-p["incidents"], p["label"]))


def province_points() -> list[dict[str, Any]]:
    """One bubble per province with located incidents: its incident and fatality counts, at its places' mean position."""
    ctx = psk()
    backend = ctx["backend"]
    centres = {
        r["province"].value: (float(r["la"].value), float(r["lo"].value))
        for r in backend.select(queries.text("province_centres"), max_rows=10_000).records()
        if r["la"] is not None and r["lo"] is not None
    }
    out = []
    for r in backend.select(queries.text("province_incidents"), max_rows=10_000).records():
        iri = r["province"].value
        if iri not in centres:
            continue
        out.append(
            {
                "iri": iri,
                "page": iri_to_path(iri, ctx["base"]),
                "label": r["label"].value if r["label"] is not None else iri.rsplit("/", 1)[-1],
                "lat": centres[iri][0],
                "lon": centres[iri][1],
                "incidents": int(r["incidents"].value),
                "fatalities": int(float(r["fatalities"].value)) if r["fatalities"] is not None else 0,
            }
        )
    return sorted(out, key=lambda p: (-p["incidents"], p["label"]))


@bp.get("/api/map-points")
def api_map_points() -> Response:
    if request.args.get("by") == "province":
        ctx = psk()
        key = ("province-points", ctx["backend"].version())
        cached = ctx["cache"].get(key)
        if cached is None:
            cached = Cached(json.dumps(province_points(), ensure_ascii=False).encode(), "application/json", {}, "")
            ctx["cache"].put(key, cached)
        return Response(cached.body, mimetype="application/json")
    iri = request.args.get("entity", "")
    if not iri.startswith(("http://", "https://")) or any(c in iri for c in '<>" {}|\\^`'):
        abort(400, description="entity: expected the IRI of a place or actor, e.g. ?entity=<IRI of a province> (or by=province)")
    return jsonify(map_points(iri))
