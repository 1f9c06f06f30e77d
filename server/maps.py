"""/api/map-points: where an entity's incidents happened, one bubble per located place, for the offline maps."""

from __future__ import annotations

from typing import Any

import pyoxigraph as ox
from flask import Blueprint, Response, abort, jsonify, request

from kg import queries

from .util import iri_to_path, psk

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


@bp.get("/api/map-points")
def api_map_points() -> Response:
    iri = request.args.get("entity", "")
    if not iri.startswith(("http://", "https://")) or any(c in iri for c in '<>" {}|\\^`'):
        abort(400, description="entity: expected the IRI of a place or actor, e.g. ?entity=<IRI of a province>")
    return jsonify(map_points(iri))
