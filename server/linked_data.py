"""Linked data: cool URIs with 303 content negotiation, HTML entity pages, data documents,
class indexes, label search, dumps, VoID and the ontology documentation."""

from __future__ import annotations

import csv
import io
import json
import urllib.parse
from collections import Counter, OrderedDict, defaultdict
from typing import Any

import pyoxigraph as ox
from flask import Blueprint, Response, abort, redirect, render_template, request, stream_with_context, url_for

from kg.dumps import DUMP_FORMATS
from kg.namespaces import CANONICAL_BASE, ONTOLOGY_IRI, PREFIXES, PSK, RDF, SCHEMA
from kg.ontology import ONTOLOGY_FILES
from kg.sparql import serialize_triples

from .negotiation import BadAccept, NotAcceptable, choose
from .util import SAFE_PATH, iri_to_path, path_to_iri, psk

bp = Blueprint("ld", __name__)

DATA_EXT = {
    "ttl": ("text/turtle", "turtle"),
    "nt": ("application/n-triples", "ntriples"),
    "jsonld": ("application/ld+json", "jsonld"),
    "rdf": ("application/rdf+xml", "rdfxml"),
}
MEDIA_EXT = {media: ext for ext, (media, _f) in DATA_EXT.items()}
LD_OFFER = [
    "text/html",
    "text/turtle",
    "application/ld+json",
    "application/n-triples",
    "application/rdf+xml",
    "application/xhtml+xml",
]
INCIDENT_CLASSES = {
    "Province",
    "ArmedGroup",
    "City",
    "District",
    "GeographicRegion",
    "State",
    "StateSecurityForce",
    "Organization",
    "Actor",
    "Community",
    "Government",
}

LEAFLET = {
    "css": "https://cdn.jsdelivr.net/npm/leaflet@1.9.4/dist/leaflet.css",
    "css_sri": "sha384-sHL9NAb7lN7rfvG5lfHpm643Xkcjzp4jFvuavGOndn6pjVqS6ny56CAt3nsEVT4H",
    "js": "https://cdn.jsdelivr.net/npm/leaflet@1.9.4/dist/leaflet.js",
    "js_sri": "sha384-cxOPjt7s7Iz04uaHJceBmS+qpjv2JkIHNVcuOrM+YHwZOmJGBXI00mdUXEq65HTH",
}


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


def _bind(iri: str) -> dict[str, ox.NamedNode]:
    return {"entity": ox.NamedNode(iri)}


def cols(result: Any, *names: str) -> list[tuple[Any, ...]]:
    """SELECT rows as tuples of the named variables (bound parameters are projected too, so go by name)."""
    return [tuple(r[n] for n in names) for r in result.records()]


def _value(term: Any) -> str:
    return term.value if term is not None else ""


def _exists(iri: str) -> bool:
    q = psk()["queries"]
    return bool(psk()["backend"].select(q["entity_summary"], _bind(iri), max_rows=1).rows) or bool(
        psk()["backend"].select(q["entity_incoming"], _bind(iri), max_rows=1).rows
    )


# -- cool URIs -------------------------------------------------------------------------------------


@bp.route("/id/<path:rest>", methods=["GET", "HEAD"])
@bp.route("/vocab/<path:rest>", methods=["GET", "HEAD"])
@bp.route("/graph/<path:rest>", methods=["GET", "HEAD"])
@bp.route("/dataset", methods=["GET", "HEAD"], defaults={"rest": ""})
def resource(rest: str) -> Response:
    root = request.path.strip("/").split("/", 1)[0]
    path = _check_path(f"{root}/{rest}" if rest else root)
    media = _negotiate(LD_OFFER)
    if not _exists(path_to_iri(path, psk()["base"])):
        abort(404, description=f"nothing is known about {path_to_iri(path, psk()['base'])}")
    if media in ("text/html", "application/xhtml+xml"):
        target = url_for("ld.page", rest=path)
    else:
        target = url_for("ld.data", rest=f"{path}.{MEDIA_EXT[media]}")
    resp = redirect(target, code=303)
    resp.headers["Vary"] = "Accept"
    return resp


@bp.route("/data/<path:rest>", methods=["GET", "HEAD"])
def data(rest: str) -> Response:
    stem, _, ext = rest.rpartition(".")
    if ext not in DATA_EXT:
        abort(404, description=f"unknown data format .{ext}; use one of " + ", ".join("." + e for e in DATA_EXT))
    path = _check_path(stem)
    base = psk()["base"]
    iri = path_to_iri(path, base)
    res = psk()["backend"].select(psk()["queries"]["entity_data"], _bind(iri), max_rows=50_000)
    if not res.triples:
        abort(404, description=f"nothing is known about {iri}")
    media, fmt = DATA_EXT[ext]
    resp = Response(serialize_triples(res.triples, fmt), mimetype=media)
    page = url_for("ld.page", rest=path)
    links = [f'<{page}>; rel="alternate"; type="text/html"'] + [
        f'<{url_for("ld.data", rest=f"{path}.{e}")}>; rel="alternate"; type="{m}"' for e, (m, _f) in DATA_EXT.items() if e != ext
    ]
    resp.headers["Link"] = ", ".join(links)
    resp.headers["Access-Control-Allow-Origin"] = "*"
    return resp


# -- entity pages ------------------------------------------------------------------------------------


def _label_of(iri: str, label: Any) -> str:
    if label is not None:
        return str(label.value)
    for prefix, ns in PREFIXES.items():
        if iri.startswith(ns):
            return f"{prefix}:{iri[len(ns) :]}"
    return iri


def entity_context(iri: str) -> dict[str, Any]:
    backend, q = psk()["backend"], psk()["queries"]
    summary = backend.select(q["entity_summary"], _bind(iri))
    labels: list[str] = []
    types: OrderedDict[str, str] = OrderedDict()
    comments: list[str] = []
    aliases: list[str] = []
    for label, typ, type_label, comment, alias, definition in cols(
        summary, "label", "type", "typeLabel", "comment", "alias", "definition"
    ):
        if label is not None and label.value not in labels:
            labels.append(label.value)
        if typ is not None:
            types[typ.value] = _label_of(typ.value, type_label)
        if comment is not None:
            comments.append(comment.value)
        if definition is not None:
            comments.append(definition.value)
        if alias is not None:
            aliases.append(alias.value)
    # provenance of statements, keyed on (predicate, object)
    provenance: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for _st, p, o, status, source, source_label, url, quote, start, end in cols(
        backend.select(q["entity_statements"], _bind(iri)),
        "st",
        "p",
        "o",
        "status",
        "source",
        "sourceLabel",
        "url",
        "quote",
        "start",
        "end",
    ):
        provenance[(p.value, o.value)].append(
            {
                "status": status.value.rsplit("/", 1)[-1],
                "source": source.value,
                "source_label": _label_of(source.value, source_label),
                "url": _value(url),
                "quote": _value(quote),
                "start": _value(start),
                "end": _value(end),
            }
        )
    outgoing: OrderedDict[str, dict[str, Any]] = OrderedDict()
    for p, p_label, o, o_label in cols(backend.select(q["entity_outgoing"], _bind(iri)), "p", "pLabel", "o", "oLabel"):
        if p.value == RDF + "type":
            continue
        group = outgoing.setdefault(p.value, {"label": _label_of(p.value, p_label), "values": []})
        if isinstance(o, ox.Literal):
            value = {
                "literal": o.value,
                "datatype": o.datatype.value.rsplit("#", 1)[-1] if not o.language else "",
                "lang": o.language or "",
            }
        else:
            value = {"iri": o.value, "label": _label_of(o.value, o_label)}
        value["provenance"] = provenance.get((p.value, o.value), [])
        group["values"].append(value)
    incoming: OrderedDict[str, dict[str, Any]] = OrderedDict()
    for p, p_label, s, s_label in cols(backend.select(q["entity_incoming"], _bind(iri)), "p", "pLabel", "s", "sLabel"):
        group = incoming.setdefault(p.value, {"label": _label_of(p.value, p_label), "count": 0, "subjects": []})
        group["count"] += 1
        if len(group["subjects"]) < 25:
            group["subjects"].append({"iri": s.value, "label": _label_of(s.value, s_label)})
    claims = []
    for claim, label, status, status_label, _t, type_label, quote, start, end, graph, source, source_label in cols(
        backend.select(q["entity_claims"], _bind(iri)),
        *(
            "claim",
            "label",
            "status",
            "statusLabel",
            "type",
            "typeLabel",
            "quote",
            "start",
            "end",
            "graph",
            "source",
            "sourceLabel",
        ),
    ):
        claims.append(
            {
                "iri": claim.value,
                "label": label.value,
                "status": status.value.rsplit("/", 1)[-1],
                "status_label": _value(status_label),
                "type_label": _value(type_label),
                "quote": _value(quote),
                "start": _value(start),
                "end": _value(end),
                "graph": _value(graph),
                "source": source.value,
                "source_label": _label_of(source.value, source_label),
            }
        )
    assertions = []
    if PSK + "Claim" in types:
        for s, s_label, p, p_label, o, o_label in cols(
            backend.select(q["claim_assertions"], {"claim": ox.NamedNode(iri)}), "s", "sLabel", "p", "pLabel", "o", "oLabel"
        ):
            assertions.append(
                {
                    "s": s.value,
                    "s_label": _label_of(s.value, s_label),
                    "p": p.value,
                    "p_label": _label_of(p.value, p_label),
                    "o": o.value,
                    "o_label": _label_of(o.value, o_label) if not isinstance(o, ox.Literal) else o.value,
                    "o_literal": isinstance(o, ox.Literal),
                }
            )
    coords = None
    lat = outgoing.get(SCHEMA + "latitude")
    lon = outgoing.get(SCHEMA + "longitude")
    if lat and lon:
        coords = (float(lat["values"][0]["literal"]), float(lon["values"][0]["literal"]))
    return {
        "iri": iri,
        "label": labels[0] if labels else _label_of(iri, None),
        "labels": labels,
        "types": types,
        "comments": comments,
        "aliases": aliases,
        "outgoing": outgoing,
        "incoming": incoming,
        "claims": claims,
        "assertions": assertions,
        "coords": coords,
    }


def incidents_for(iri: str) -> list[dict[str, Any]]:
    """The incidents of a place or actor, one dict each, by date; cached per dataset version (filters re-use it)."""
    ctx = psk()
    key = (ctx["backend"].version(), iri)
    cached: list[dict[str, Any]] | None = ctx["incidents"].get(key)
    if cached is None:
        cached = _incidents(iri)
        ctx["incidents"].put(key, cached)
    return cached


def _incidents(iri: str) -> list[dict[str, Any]]:
    rows = cols(
        psk()["backend"].select(psk()["queries"]["entity_incidents"], _bind(iri), max_rows=100_000),
        *("incident", "label", "date", "type", "typeLabel", "place", "placeLabel", "fatalities", "role"),
    )
    seen: dict[str, dict[str, Any]] = {}
    for incident, label, date, _t, type_label, place, place_label, fatalities, role in rows:
        item = seen.setdefault(
            incident.value,
            {
                "iri": incident.value,
                "label": label.value,
                "date": _value(date),
                "types": [],
                "place": _value(place),
                "place_label": _value(place_label),
                "fatalities": int(fatalities.value) if fatalities is not None else None,
                "roles": [],
            },
        )
        if type_label is not None and type_label.value not in item["types"]:
            item["types"].append(type_label.value)
        if role.value not in item["roles"]:
            item["roles"].append(role.value)
    return sorted(seen.values(), key=lambda r: (r["date"], r["iri"]))


def filter_incidents(items: list[dict[str, Any]], args: Any) -> list[dict[str, Any]]:
    start, end = args.get("from", ""), args.get("to", "")
    typ, place = args.get("type", ""), args.get("place", "")
    out = []
    for it in items:
        if start and (not it["date"] or it["date"] < start):
            continue
        if end and (not it["date"] or it["date"] > end):
            continue
        if typ and typ not in it["types"]:
            continue
        if place and place != it["place_label"]:
            continue
        out.append(it)
    return out


def series(items: list[dict[str, Any]]) -> list[tuple[str, int]]:
    """Incidents per month (YYYY-MM), gaps filled, for the time-series chart."""
    counts = Counter(it["date"][:7] for it in items if it["date"])
    if not counts:
        return []
    first, last = min(counts), max(counts)
    y, m = int(first[:4]), int(first[5:7])
    out = []
    while f"{y:04d}-{m:02d}" <= last and len(out) < 600:
        key = f"{y:04d}-{m:02d}"
        out.append((key, counts.get(key, 0)))
        m += 1
        if m > 12:
            y, m = y + 1, 1
    return out


def _incident_query(iri: str) -> str:
    text = psk()["queries"]["entity_incidents"]
    # For the researcher's copy only: the IRI is shown as a VALUES row they can edit.
    return text.replace("WHERE {", f"WHERE {{\n  VALUES ?entity {{ <{iri}> }}", 1)


@bp.route("/page/<path:rest>", methods=["GET", "HEAD"])
def page(rest: str) -> Response:
    path = _check_path(rest)
    base = psk()["base"]
    iri = path_to_iri(path, base)
    ctx = entity_context(iri)
    if not ctx["types"] and not ctx["outgoing"] and not ctx["incoming"]:
        abort(404, description=f"nothing is known about {iri}")
    type_names = {t[len(PSK) :] for t in ctx["types"] if t.startswith(PSK)}
    incidents = None
    if type_names & INCIDENT_CLASSES:
        all_items = incidents_for(iri)
        if all_items:
            items = filter_incidents(all_items, request.args)
            incidents = {
                "items": items[:500],
                "total": len(items),
                "all_total": len(all_items),
                "series": series(items),
                "types": sorted({t for it in all_items for t in it["types"]}),
                "places": sorted({it["place_label"] for it in all_items if it["place_label"]}),
                "filters": {k: request.args.get(k, "") for k in ("from", "to", "type", "place")},
                "query_link": url_for("sparql.query_page", query=_incident_query(iri)),
                "qs": urllib.parse.urlencode(
                    {k: v for k, v in request.args.items() if k in ("from", "to", "type", "place") and v}
                ),
            }
    html = render_template(
        "entity.html",
        e=ctx,
        path=path,
        incidents=incidents,
        data_links={ext: url_for("ld.data", rest=f"{path}.{ext}") for ext in DATA_EXT},
        leaflet=LEAFLET,
    )
    resp = Response(html, mimetype="text/html")
    resp.headers["Link"] = ", ".join(
        f'<{url_for("ld.data", rest=f"{path}.{e}")}>; rel="alternate"; type="{m}"' for e, (m, _f) in DATA_EXT.items()
    )
    return resp


@bp.route("/incidents/<path:rest>", methods=["GET", "HEAD"])
def incidents_export(rest: str) -> Response:
    stem, _, ext = rest.rpartition(".")
    if ext not in ("csv", "json"):
        abort(404, description="incident tables are available as .csv and .json")
    iri = path_to_iri(_check_path(stem), psk()["base"])
    items = filter_incidents(incidents_for(iri), request.args)
    if ext == "json":
        return Response(json.dumps({"entity": iri, "incidents": items}, ensure_ascii=False), mimetype="application/json")
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["incident", "label", "date", "types", "place", "place_label", "fatalities", "roles"])
    for it in items:
        writer.writerow(
            [
                it["iri"],
                it["label"],
                it["date"],
                "; ".join(it["types"]),
                it["place"],
                it["place_label"],
                "" if it["fatalities"] is None else it["fatalities"],
                "; ".join(it["roles"]),
            ]
        )
    return Response(buf.getvalue(), mimetype="text/csv")


# -- browse ------------------------------------------------------------------------------------------


def class_counts() -> list[dict[str, Any]]:
    rows = cols(psk()["backend"].select(psk()["queries"]["class_counts"]), "class", "label", "n")
    return [
        {"iri": c.value, "name": c.value[len(PSK) :], "label": _label_of(c.value, label), "count": int(n.value)}
        for c, label, n in rows
    ]


@bp.get("/")
def home() -> str:
    backend = psk()["backend"]
    return render_template("home.html", classes=class_counts(), backend=backend.kind, version=backend.version())


@bp.get("/class/")
def classes() -> str:
    return render_template("classes.html", classes=class_counts())


@bp.get("/class/<name>")
def class_page(name: str) -> str:
    if not name.isidentifier():
        abort(404)
    page_no = max(1, request.args.get("page", 1, type=int) or 1)
    size = 200
    result = psk()["backend"].select(
        psk()["queries"]["class_members"], {"class": ox.NamedNode(PSK + name)}, max_rows=page_no * size + 1
    )
    rows = cols(result, "s", "label")
    members = [{"iri": s.value, "label": _label_of(s.value, label)} for s, label in rows[(page_no - 1) * size : page_no * size]]
    if not members and page_no == 1:
        abort(404, description=f"no instances of psk:{name}")
    return render_template("class.html", name=name, members=members, page=page_no, more=len(rows) > page_no * size)


def search_results(text: str) -> list[dict[str, Any]]:
    text = text.strip().lower()
    if len(text) < 2:
        return []
    rows = cols(
        psk()["backend"].select(psk()["queries"]["search"], {"q": ox.Literal(text[:100])}, max_rows=20), "s", "label", "type", "r"
    )
    out = []
    for s, label, typ, _rank in rows:
        out.append(
            {
                "iri": s.value,
                "label": _label_of(s.value, label),
                "type": typ.value[len(PSK) :] if typ is not None else "",
                "page": iri_to_path(s.value, psk()["base"]) or s.value,
            }
        )
    return out


@bp.get("/api/search")
def api_search() -> Response:
    return Response(json.dumps(search_results(request.args.get("q", "")), ensure_ascii=False), mimetype="application/json")


@bp.get("/search")
def search() -> str:
    q = request.args.get("q", "")
    return render_template("search.html", q=q, results=search_results(q))


# -- dumps, VoID, ontology -----------------------------------------------------------------------


@bp.get("/dumps")
def dumps() -> str:
    files = [
        {"name": f"pakistan-security-kg.{ext}.gz", "media": media, "dataset": dataset}
        for ext, (media, _f, dataset) in DUMP_FORMATS.items()
    ]
    return render_template("dumps.html", files=files, version=psk()["backend"].version())


@bp.get("/dumps/<name>")
def dump_file(name: str) -> Response:
    prefix, suffix = "pakistan-security-kg.", ".gz"
    fmt = name[len(prefix) : -len(suffix)] if name.startswith(prefix) and name.endswith(suffix) else ""
    if fmt not in DUMP_FORMATS:
        abort(404, description=f"no dump named {name}")
    backend = psk()["backend"]
    media = DUMP_FORMATS[fmt][0]
    resp = Response(stream_with_context(backend.dump_stream(fmt)), mimetype="application/gzip")
    resp.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    resp.headers["X-Content-Media-Type"] = media
    resp.headers["ETag"] = f'"{backend.version()}-{fmt}"'
    resp.headers["X-License"] = "https://creativecommons.org/licenses/by/4.0/"
    return resp


@bp.get("/void")
@bp.get("/.well-known/void")
def void() -> Response:
    base = psk()["base"]
    res = psk()["backend"].select(psk()["queries"]["dataset_void"], {"dataset": ox.NamedNode(base.dataset)})
    media = _negotiate(["text/turtle", "application/ld+json", "application/n-triples", "application/rdf+xml"])
    fmt = {
        "text/turtle": "turtle",
        "application/ld+json": "jsonld",
        "application/n-triples": "ntriples",
        "application/rdf+xml": "rdfxml",
    }[media]
    return Response(serialize_triples(res.triples, fmt), mimetype=media)


def _ontology_turtle() -> bytes:
    return b"\n".join(p.read_bytes() for p in ONTOLOGY_FILES[:1])


def ontology_terms() -> dict[str, list[dict[str, Any]]]:
    store = ox.Store()
    store.load(path=str(ONTOLOGY_FILES[0]), format=ox.RdfFormat.TURTLE)
    q = """SELECT ?t ?kind ?label ?def (GROUP_CONCAT(DISTINCT STR(?sup); separator=" ") AS ?sups)
                  (GROUP_CONCAT(DISTINCT STR(?m); separator=" ") AS ?matches) ?domain ?range WHERE {
             VALUES ?kind { owl:Class owl:ObjectProperty owl:DatatypeProperty }
             ?t a ?kind ; rdfs:label ?label . OPTIONAL { ?t skos:definition ?def }
             OPTIONAL { ?t rdfs:subClassOf|rdfs:subPropertyOf ?sup }
             OPTIONAL { ?t owl:equivalentClass|skos:closeMatch ?m }
             OPTIONAL { ?t rdfs:domain ?domain } OPTIONAL { ?t rdfs:range ?range }
           } GROUP BY ?t ?kind ?label ?def ?domain ?range ORDER BY ?kind ?t"""
    out: dict[str, list[dict[str, Any]]] = {"Classes": [], "Object properties": [], "Datatype properties": []}
    section = {"Class": "Classes", "ObjectProperty": "Object properties", "DatatypeProperty": "Datatype properties"}
    for row in store.query(q, prefixes=PREFIXES):
        out[section[row["kind"].value.rsplit("#", 1)[-1]]].append(
            {
                "name": row["t"].value.rsplit("#", 1)[-1],
                "label": row["label"].value,
                "definition": _value(row["def"]),
                "supers": [s for s in _value(row["sups"]).split() if s],
                "matches": [m for m in _value(row["matches"]).split() if m],
                "domain": _value(row["domain"]),
                "range": _value(row["range"]),
            }
        )
    return out


@bp.get("/ontology")
@bp.get("/ontology.<ext>")
def ontology(ext: str | None = None) -> Response:
    if ext is None:
        media = _negotiate(["text/html", "text/turtle", "application/rdf+xml", "application/ld+json", "application/n-triples"])
    else:
        media = {
            "html": "text/html",
            "ttl": "text/turtle",
            "rdf": "application/rdf+xml",
            "jsonld": "application/ld+json",
            "nt": "application/n-triples",
        }.get(ext, "")
        if not media:
            abort(404)
    if media == "text/html":
        resp = Response(
            render_template("ontology.html", terms=ontology_terms(), iri=ONTOLOGY_IRI, ns=PSK, prefixes=PREFIXES),
            mimetype="text/html",
        )
    elif media == "text/turtle":
        resp = Response(_ontology_turtle(), mimetype=media)
    else:
        rdf_format = ox.RdfFormat.from_media_type(media)
        assert rdf_format is not None
        triples = ox.parse(_ontology_turtle(), format=ox.RdfFormat.TURTLE)
        resp = Response(
            ox.serialize(triples, format=rdf_format, **({"prefixes": PREFIXES} if rdf_format == ox.RdfFormat.RDF_XML else {})),
            mimetype=media,
        )
    resp.headers["Vary"] = "Accept"
    resp.headers["Access-Control-Allow-Origin"] = "*"
    return resp


@bp.app_template_filter("short")
def short(iri: str) -> str:
    for prefix, ns in PREFIXES.items():
        if iri.startswith(ns):
            return f"{prefix}:{iri[len(ns) :]}"
    if iri.startswith(CANONICAL_BASE):
        return iri[len(CANONICAL_BASE) :]
    return iri
