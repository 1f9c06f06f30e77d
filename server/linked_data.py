"""Linked data: cool URIs with 303 content negotiation, HTML entity pages, data documents, class indexes, label
search, dumps, VoID and the ontology documentation. Each route maps its URL to a kg read-side call and renders it."""

from __future__ import annotations

import csv
import io
import json
import re
import urllib.parse
from dataclasses import asdict
from typing import Any

import pyoxigraph as ox
from flask import Blueprint, Response, abort, redirect, render_template, request, stream_with_context, url_for
from werkzeug.exceptions import ServiceUnavailable
from werkzeug.wrappers import Response as WerkzeugResponse

from kg import formats
from kg.describe import RECORD_FIELDS, IncidentFilter, InvalidFilter, Reader, curie, ontology_terms
from kg.dumps import DUMP_NAME, dump_file_name, dump_format
from kg.errors import DumpUnavailable
from kg.incidents import SORTS
from kg.namespaces import CANONICAL_BASE, ONTOLOGY_IRI, PREFIXES, PSK
from kg.ontology import ONTOLOGY_FILES
from kg.search import SearchResults
from kg.sparql import serialize_triples

from .negotiation import BadAccept, NotAcceptable, choose
from .titles import page_title
from .util import SAFE_PATH, iri_to_path, path_to_iri, psk

bp = Blueprint("ld", __name__)

DOCUMENTS = {f.ext: f for f in formats.DOCUMENT_FORMATS}  # /data/<path>.<ext>
LD_OFFER = [
    "text/html",
    "text/turtle",
    "application/ld+json",
    "application/n-triples",
    "application/rdf+xml",
    "application/xhtml+xml",
]


def reader() -> Reader:
    return psk()["reader"]  # type: ignore[no-any-return]


def _negotiate(offer: list[str]) -> str:
    try:
        return choose(request.headers.get("Accept"), offer)
    except BadAccept as exc:
        abort(400, description=str(exc))
    except NotAcceptable:
        abort(406, description="available as " + ", ".join(offer))


def _check_path(rest: str) -> str:
    if not SAFE_PATH.match(rest) or ".." in rest:
        abort(404, description=f"no resource at /{rest}")
    return rest


def _alternates(path: str, skip: str | None = None) -> list[str]:
    return [
        f'<{url_for("ld.data", rest=f"{path}.{ext}")}>; rel="alternate"; type="{f.media_type}"'
        for ext, f in DOCUMENTS.items()
        if ext != skip
    ]


# -- cool URIs -------------------------------------------------------------------------------------


@bp.route("/id/<path:rest>", methods=["GET", "HEAD"])
@bp.route("/vocab/<path:rest>", methods=["GET", "HEAD"])
@bp.route("/graph/<path:rest>", methods=["GET", "HEAD"])
@bp.route("/dataset", methods=["GET", "HEAD"], defaults={"rest": ""})
def resource(rest: str) -> WerkzeugResponse:
    root = request.path.strip("/").split("/", 1)[0]
    path = _check_path(f"{root}/{rest}" if rest else root)
    media = _negotiate(LD_OFFER)
    iri = path_to_iri(path, psk()["base"])
    if not reader().exists(iri):
        abort(404, description=f"nothing is known about {iri}")
    if media in ("text/html", "application/xhtml+xml"):
        target = url_for("ld.page", rest=path)
    else:
        fmt = formats.by_media(media)
        assert fmt is not None
        target = url_for("ld.data", rest=f"{path}.{fmt.ext}")
    resp = redirect(target, code=303)
    resp.headers["Vary"] = "Accept"
    return resp


@bp.route("/data/<path:rest>", methods=["GET", "HEAD"])
def data(rest: str) -> Response:
    stem, _, ext = rest.rpartition(".")
    if ext not in DOCUMENTS:
        abort(404, description=f"unknown data format .{ext}; use one of " + ", ".join("." + e for e in DOCUMENTS))
    path = _check_path(stem)
    iri = path_to_iri(path, psk()["base"])
    triples = reader().data_document(iri)
    if not triples:
        abort(404, description=f"nothing is known about {iri}")
    fmt = DOCUMENTS[ext]
    resp = Response(serialize_triples(triples, fmt.name), mimetype=fmt.media_type)
    resp.headers["Link"] = ", ".join(
        [f'<{url_for("ld.page", rest=path)}>; rel="alternate"; type="text/html"', *_alternates(path, ext)]
    )
    resp.headers["Access-Control-Allow-Origin"] = "*"
    return resp


# -- entity pages ------------------------------------------------------------------------------------


def _filter() -> IncidentFilter:
    try:
        return IncidentFilter.from_args(request.args)
    except InvalidFilter as exc:
        abort(400, description=str(exc))


def _paging() -> tuple[int, str]:
    raw, sort = request.args.get("page", "1").strip() or "1", request.args.get("sort", "date").strip() or "date"
    if not (raw.isascii() and raw.isdigit()) or int(raw) < 1 or len(raw) > 9:
        abort(400, description=f"page={raw!r} is not a page number (1 or more)")
    if sort not in SORTS:
        abort(400, description=f"sort={sort!r} is not one of {', '.join(SORTS)}")
    return int(raw), sort


@bp.route("/page/<path:rest>", methods=["GET", "HEAD"])
def page(rest: str) -> Response:
    path = _check_path(rest)
    iri = path_to_iri(path, psk()["base"])
    entity = reader().describe(iri)
    if entity is None:
        abort(404, description=f"nothing is known about {iri}")
    incidents = None
    state: dict[str, str] = {}
    query_link = ""
    if entity.has_incidents:
        flt = _filter()
        page_no, sort = _paging()
        try:
            incidents = reader().incident_table(iri, flt, page_no, sort)
        except InvalidFilter as exc:
            abort(400, description=str(exc))
        state = {**flt.as_args(), **({"sort": sort} if sort != "date" else {})}
        if incidents:
            query_link = url_for("sparql.query_page", query=reader().incident_query(iri, flt, sort))
    html = render_template(
        "entity.html",
        e=entity,
        title=page_title(entity),
        path=path,
        incidents=incidents,
        incidents_qs=urllib.parse.urlencode(state),
        page_link=lambda n: (
            url_for("ld.page", rest=path) + "?" + urllib.parse.urlencode({**state, **({"page": n} if n > 1 else {})})
        ),
        incident_query_link=query_link,
        statistics=reader().statistics(iri) if incidents else None,
        cube_query=reader().statistics_query(iri) if incidents else "",
        data_links={f.ext: (url_for("ld.data", rest=f"{path}.{f.ext}"), f.media_type) for f in DOCUMENTS.values()},
    )
    resp = Response(html, mimetype="text/html")
    resp.headers["Link"] = ", ".join(_alternates(path))
    return resp


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")


def spreadsheet_safe(cell: str) -> str:
    """A CSV cell a spreadsheet will not run as a formula (OWASP CSV injection): text starting with = + - @, a tab or
    a carriage return gets a leading apostrophe. Plain numbers (-33.5) are left as they are."""
    if cell.startswith(_FORMULA_START) and not _PLAIN_NUMBER.fullmatch(cell):
        return "'" + cell
    return cell


INCIDENT_COLUMNS = (
    "incident", "event_id", "label", "date", "event_type", "sub_event_type", "types", "actors", "province", "district",
    "place", "place_label", "lat", "lon", "fatalities", "roles", "dataset", "source",
)  # fmt: skip


# Every coded field of the source row (kg.describe.IncidentRecord), after the table's columns.
RECORD_COLUMNS = tuple(f for f in RECORD_FIELDS if f not in ("incident", "event_id", "date", "fatalities", "dataset", "source"))
INCIDENT_EXPORTS = {"csv": "text/csv", "json": "application/json", "geojson": "application/geo+json"}


@bp.route("/incidents/<path:rest>", methods=["GET", "HEAD"])
def incidents_export(rest: str) -> Response:
    """The incidents of an entity as a download: the table's columns, then every coded field of the source row."""
    stem, _, ext = rest.rpartition(".")
    if ext not in INCIDENT_EXPORTS:
        abort(404, description="incident tables are available as .csv, .json and .geojson")
    path = _check_path(stem)
    iri = path_to_iri(path, psk()["base"])
    flt = _filter()
    _page, sort = _paging()
    try:
        reader().incident_table(iri, flt, 1, sort)  # checks the filter values against the table
        items = reader().incidents(iri, flt, sort)
    except InvalidFilter as exc:
        abort(400, description=str(exc))
    records = reader().incident_records(iri) if items else {}

    def extra(it: Any) -> dict[str, Any]:
        rec = records.get(it.iri)
        return {c: (getattr(rec, c) if rec is not None else None) for c in RECORD_COLUMNS}

    if ext == "json":
        rows = [{**asdict(it), **extra(it)} for it in items]
        body = json.dumps({"entity": iri, "total": len(items), "incidents": rows}, ensure_ascii=False)
    elif ext == "geojson":
        features = []
        for it in items:
            props = {**asdict(it), **extra(it)}
            lat, lon = props.get("latitude"), props.get("longitude")
            point = {"type": "Point", "coordinates": [lon, lat]} if lat is not None and lon is not None else None
            features.append({"type": "Feature", "id": it.iri, "geometry": point, "properties": props})
        body = json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False)
    else:
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(INCIDENT_COLUMNS + RECORD_COLUMNS)
        for it in items:
            cells = [
                it.iri, it.event_id, it.label, it.date, it.event_type, it.sub_event_type, "; ".join(it.types), it.actors,
                it.province_label, it.district_label, it.place, it.place_label, "" if it.lat is None else str(it.lat),
                "" if it.lon is None else str(it.lon), "" if it.fatalities is None else str(it.fatalities), "; ".join(it.roles),
                it.dataset, it.source,
            ]  # fmt: skip
            writer.writerow([spreadsheet_safe(c) for c in cells] + [_csv_cell(v) for v in extra(it).values()])
        body = buf.getvalue()
    resp = Response(body, mimetype=INCIDENT_EXPORTS[ext])
    parts = [p for p in path.split("/") if p]
    name = "-".join(parts[1:] if parts[:1] == ["id"] else parts) or "entity"
    resp.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{urllib.parse.quote(name)}-incidents.{ext}"
    return resp


def _csv_cell(value: Any) -> str:
    """A CSV cell of a record field (None empty, booleans as true/false, text spreadsheet-safe)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return spreadsheet_safe(value) if isinstance(value, str) else str(value)


# -- browse ------------------------------------------------------------------------------------------


@bp.get("/")
def home() -> str:
    backend = psk()["backend"]
    return render_template("home.html", classes=reader().class_counts(), backend=backend.kind, version=backend.version())


@bp.get("/class/")
def classes() -> str:
    return render_template("classes.html", classes=reader().class_counts())


@bp.get("/class/<name>")
def class_page(name: str) -> str:
    if not name.isidentifier():
        abort(404)
    page_no = max(1, request.args.get("page", 1, type=int) or 1)
    listing = reader().class_page(name, page_no)
    if not listing.members and page_no == 1:
        abort(404, description=f"no instances of psk:{name}")
    return render_template("class.html", name=name, members=listing.members, page=page_no, more=listing.more, listing=listing)


def _search() -> SearchResults:
    args = request.args
    raw_page, raw_size = (args.get("page") or "1").strip(), (args.get("size") or "20").strip()
    for name, raw, top in (("page", raw_page, 10**6), ("size", raw_size, 100)):
        if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= top:
            abort(400, description=f"{name}={raw!r} is not a number from 1 to {top}")
    type_filter = (args.get("type") or "").strip()
    if type_filter and not type_filter.isidentifier():
        abort(400, description=f"type={type_filter!r} is not a class name")
    return reader().search_page(args.get("q", ""), type_filter, int(raw_page), int(raw_size))


def _hits(results: SearchResults) -> list[dict[str, Any]]:
    base = psk()["base"]
    return [{**asdict(hit), "page": iri_to_path(hit.iri, base) or hit.iri} for hit in results.hits]


@bp.get("/api/search")
def api_search() -> Response:
    """The hits as a JSON list (for the autocomplete); the exact total in X-Total-Count, the next page in Link."""
    results = _search()
    resp = Response(json.dumps(_hits(results), ensure_ascii=False), mimetype="application/json")
    resp.headers["X-Total-Count"] = str(results.total)
    if results.page < results.pages:
        args = {**request.args.to_dict(), "page": str(results.page + 1)}
        resp.headers["Link"] = f'<{url_for("ld.api_search")}?{urllib.parse.urlencode(args)}>; rel="next"'
    return resp


@bp.get("/search")
def search() -> str:
    results = _search()
    args = {k: v for k, v in request.args.to_dict().items() if k in ("q", "type", "size")}

    def link(**changes: str) -> str:
        return url_for("ld.search") + "?" + urllib.parse.urlencode({k: v for k, v in {**args, **changes}.items() if v})

    return render_template("search.html", q=request.args.get("q", ""), results=_hits(results), found=results, link=link)


# -- dumps, VoID, ontology -----------------------------------------------------------------------


@bp.get("/dumps")
def dumps() -> str:
    files = [{"name": dump_file_name(f), "media": f.media_type, "dataset": f.dataset} for f in formats.DUMP_FORMATS]
    return render_template("dumps.html", files=files, version=psk()["backend"].version())


@bp.get("/dumps/<name>")
def dump_file(name: str) -> Response:
    prefix, suffix = f"{DUMP_NAME}.", ".gz"
    ext = name[len(prefix) : -len(suffix)] if name.startswith(prefix) and name.endswith(suffix) else ""
    fmt = dump_format(ext)
    if fmt is None:
        abort(404, description=f"no dump named {name}")
    backend = psk()["backend"]
    try:
        chunks = backend.dump_stream(ext)
    except DumpUnavailable as exc:
        unavailable = ServiceUnavailable(description=str(exc), retry_after=300)
        raise unavailable from None
    resp = Response(stream_with_context(chunks), mimetype="application/gzip")
    resp.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    resp.headers["X-Content-Media-Type"] = fmt.media_type
    resp.headers["ETag"] = f'"{backend.version()}-{ext}"'
    resp.headers["X-License"] = "https://creativecommons.org/licenses/by/4.0/"
    return resp


@bp.get("/void")
@bp.get("/.well-known/void")
def void() -> Response:
    media = _negotiate([f.media_type for f in formats.DOCUMENT_FORMATS])
    fmt = formats.by_media(media)
    assert fmt is not None
    return Response(serialize_triples(reader().void(), fmt.name), mimetype=media)


def _ontology_turtle() -> bytes:
    return ONTOLOGY_FILES[0].read_bytes()


_TERMS: dict[str, Any] = {}


def _ontology_terms() -> dict[str, Any]:
    if not _TERMS:
        store = ox.Store()
        store.load(path=str(ONTOLOGY_FILES[0]), format=ox.RdfFormat.TURTLE)
        _TERMS.update(ontology_terms(store))
    return _TERMS


@bp.get("/ontology")
@bp.get("/ontology.<ext>")
def ontology(ext: str | None = None) -> Response:
    if ext is None:
        media = _negotiate(["text/html", *(f.media_type for f in formats.DOCUMENT_FORMATS)])
    elif ext == "html":
        media = "text/html"
    else:
        fmt = DOCUMENTS.get(ext)
        if fmt is None:
            abort(404)
        media = fmt.media_type
    if media == "text/html":
        html = render_template("ontology.html", terms=_ontology_terms(), iri=ONTOLOGY_IRI, ns=PSK, prefixes=PREFIXES)
        resp = Response(html, mimetype="text/html")
    elif media == "text/turtle":
        resp = Response(_ontology_turtle(), mimetype=media)
    else:
        fmt = formats.by_media(media)
        assert fmt is not None
        triples = ox.parse(_ontology_turtle(), format=ox.RdfFormat.TURTLE)
        resp = Response(ox.serialize(triples, **fmt.serialize_kwargs(PREFIXES)), mimetype=media)
    resp.headers["Vary"] = "Accept"
    resp.headers["Access-Control-Allow-Origin"] = "*"
    return resp


@bp.app_template_filter("short")
def short(iri: str) -> str:
    found = curie(iri)
    if found:
        return found
    if iri.startswith(CANONICAL_BASE):
        return iri[len(CANONICAL_BASE) :]
    return iri
