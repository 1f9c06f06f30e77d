"""/sparql: a read-only SPARQL 1.1 Protocol endpoint, its service description, and the query page."""

from __future__ import annotations

import json
from typing import Any

import pyoxigraph as ox
from flask import Blueprint, Response, abort, current_app, render_template, request, url_for

from kg.errors import KGError
from kg.namespaces import PREFIXES
from kg.sparql import GRAPH_FORMATS, RESULT_FORMATS, Limits, QueryRejected, QuerySyntaxError, QueryTimeout, analyze

from .negotiation import BadAccept, NotAcceptable, choose
from .util import Cached, ResultCache, examples, psk

bp = Blueprint("sparql", __name__)

# format= values and media types
RESULT_MEDIA = {v: k for k, v in RESULT_FORMATS.items()} | {
    "application/json": "json",
    "application/xml": "xml",
    "text/xml": "xml",
}
GRAPH_MEDIA = {media: name for name, (media, _f) in GRAPH_FORMATS.items()} | {
    "application/x-turtle": "turtle",
    "text/plain": "ntriples",
}
RESULT_OFFER = [
    "application/sparql-results+json",
    "application/sparql-results+xml",
    "text/csv",
    "text/tab-separated-values",
    "application/json",
    "application/xml",
    "text/html",
]
GRAPH_OFFER = [media for media, _f in GRAPH_FORMATS.values()] + ["application/x-turtle", "text/plain", "text/html"]
FORMAT_ALIASES = {
    "ttl": "turtle",
    "nt": "ntriples",
    "n-triples": "ntriples",
    "json-ld": "jsonld",
    "rdf": "rdfxml",
    "rdf/xml": "rdfxml",
    "nq": "nquads",
}

CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, POST, HEAD, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type, Accept, If-None-Match",
    "Access-Control-Expose-Headers": "ETag, X-SPARQL-Truncated, X-SPARQL-Rows",
    "Access-Control-Max-Age": "86400",
}


def _error(status: int, message: str) -> Response:
    resp = Response(f"{status} {message}\n", status=status, mimetype="text/plain")
    resp.headers.update(CORS)
    return resp


def _limits() -> Limits:
    c = current_app.config
    return Limits(c["PSK_MAX_QUERY_BYTES"], c["PSK_MAX_DEPTH"], c["PSK_MAX_ROWS"], c["PSK_QUERY_TIMEOUT"])


def _params() -> tuple[str | None, list[str], list[str]]:
    """(query, default-graph-uri, named-graph-uri) from GET, POST form or POST application/sparql-query."""
    if request.method in ("GET", "HEAD"):
        if "update" in request.args:
            abort(_error(403, "Forbidden: this endpoint is read-only; SPARQL Update is refused"))
        queries = request.args.getlist("query")
        args = request.args
    else:
        ctype = (request.mimetype or "").lower()
        if ctype == "application/sparql-update":
            abort(_error(403, "Forbidden: this endpoint is read-only; SPARQL Update is refused"))
        if ctype == "application/x-www-form-urlencoded":
            if "update" in request.form:
                abort(_error(403, "Forbidden: this endpoint is read-only; SPARQL Update is refused"))
            queries = request.form.getlist("query")
            args = request.form
            if "query" in request.args:
                abort(_error(400, "Bad Request: the query must be in the body of a form POST, not in the URL"))
        elif ctype == "application/sparql-query":
            charset = request.mimetype_params.get("charset", "utf-8").lower()
            if charset not in ("utf-8", "utf8"):
                abort(_error(400, f"Bad Request: a SPARQL query must be sent as UTF-8, not {charset}"))
            try:
                queries = [request.get_data(cache=False).decode("utf-8")]
            except UnicodeDecodeError as exc:
                abort(_error(400, f"Bad Request: the query body is not valid UTF-8 (byte {exc.start})"))
            args = request.args
        else:
            abort(
                _error(
                    415,
                    f"Unsupported Media Type: POST a form (application/x-www-form-urlencoded) or application/sparql-query, not {ctype or 'no content type'}",
                )
            )
    if len(queries) > 1:
        abort(_error(400, "Bad Request: more than one 'query' parameter"))
    return (queries[0] if queries else None), args.getlist("default-graph-uri"), args.getlist("named-graph-uri")


def _format(form: str) -> str:
    """The serialization for this query form: ?format= first, then the Accept header."""
    graph = form in ("CONSTRUCT", "DESCRIBE")
    requested = (
        request.values.get("format")
        if request.method != "POST" or request.mimetype != "application/sparql-query"
        else request.args.get("format")
    )
    if requested:
        name = FORMAT_ALIASES.get(requested.lower(), requested.lower())
        if name == "html":
            return "html"
        if graph and name in GRAPH_FORMATS:
            return name
        if not graph and name in RESULT_FORMATS:
            return name
        media = GRAPH_MEDIA.get(name) if graph else RESULT_MEDIA.get(name)
        if media:
            return media
        kinds = ", ".join(GRAPH_FORMATS if graph else RESULT_FORMATS)
        abort(_error(406, f"Not Acceptable: format={requested!r} is not available for {form} results (use one of {kinds}, html)"))
    accept = request.headers.get("Accept")
    try:
        media = choose(accept, GRAPH_OFFER if graph else RESULT_OFFER)
    except BadAccept as exc:
        abort(_error(400, f"Bad Request: {exc}"))
    except NotAcceptable:
        offered = ", ".join(m for m in (GRAPH_OFFER if graph else RESULT_OFFER) if m != "text/html")
        abort(_error(406, f"Not Acceptable: {form} results are available as {offered}"))
    if media == "text/html":
        return "html"
    return GRAPH_MEDIA[media] if graph else RESULT_MEDIA[media]


def media_of(fmt: str) -> str:
    if fmt in RESULT_FORMATS:
        return RESULT_FORMATS[fmt] + ("; charset=utf-8" if fmt in ("csv", "tsv") else "")
    return GRAPH_FORMATS[fmt][0]


def run_query(query: str, fmt: str, default_graphs: list[str], named_graphs: list[str]) -> Cached:
    """Check, evaluate (cached on dataset version) and serialize a user query. Raises KGError subclasses."""
    ctx = psk()
    backend = ctx["backend"]
    limits = _limits()
    version = backend.version()
    base_iri = request.base_url  # relative IRIs in queries resolve against the endpoint
    key = ResultCache.key(version, query, fmt, tuple(default_graphs), tuple(named_graphs), limits.max_rows, base_iri)
    cache: ResultCache = ctx["cache"]
    hit = cache.get(key)
    if hit is not None:
        return hit
    analyze(query, limits)  # memoized: free when the caller already checked this query
    answer, used = backend.run_query(
        query,
        fmt,
        max_rows=limits.max_rows,
        timeout=limits.timeout,
        default_graph=default_graphs or None,
        named_graphs=named_graphs or None,
        base_iri=base_iri,
    )
    headers = {"X-SPARQL-Rows": str(answer.rows)}
    if answer.truncated:
        headers["X-SPARQL-Truncated"] = f"results cut at {limits.max_rows} rows; add LIMIT/OFFSET to page through them"
    item = Cached(answer.body, media_of(used), headers, '"' + key[:32] + '"')
    cache.put(key, item)
    return item


@bp.route("/sparql", methods=["GET", "POST", "HEAD", "OPTIONS"])
def sparql() -> Response:
    if request.method == "OPTIONS":
        resp = Response(status=204)
        resp.headers.update(CORS)
        return resp
    query, default_graphs, named_graphs = _params()
    if query is None:
        if request.method == "POST":
            return _error(400, "Bad Request: no 'query' given")
        return service_description()
    limits = _limits()
    try:
        info = analyze(query, limits)
    except QueryRejected as exc:
        return _error(exc.status, ("Payload Too Large: " if exc.status == 413 else "Bad Request: ") + str(exc))
    except QuerySyntaxError as exc:
        return _error(400, f"Bad Request: malformed query: {exc}")
    fmt = _format(info.form)
    if fmt == "html":
        return query_page_response(query)
    try:
        item = run_query(query, fmt, default_graphs, named_graphs)
    except QuerySyntaxError as exc:
        return _error(400, f"Bad Request: malformed query: {exc}")
    except QueryTimeout as exc:
        resp = _error(503, f"Service Unavailable: {exc}")
        resp.headers["Retry-After"] = "60"
        return resp
    except QueryRejected as exc:
        return _error(exc.status, f"Bad Request: {exc}")
    except KGError as exc:
        current_app.logger.warning("query failed: %s", exc)
        return _error(500, f"Internal Server Error: the query could not be evaluated ({str(exc)[:300]})")
    if item.etag in [t.strip() for t in request.headers.get("If-None-Match", "").split(",")]:
        resp = Response(status=304)
    else:
        resp = Response(item.body, mimetype=item.media.split(";")[0], content_type=item.media)
    resp.headers.update(item.headers)
    resp.headers.update(CORS)
    resp.headers["ETag"] = item.etag
    resp.headers["Vary"] = "Accept, Accept-Encoding"
    resp.headers["Cache-Control"] = "public, max-age=0, must-revalidate"
    return resp


# -- service description ----------------------------------------------------------------------------

SD_FORMATS = ["JSON", "XML", "CSV", "TSV", "Turtle", "N-Triples", "JSON-LD", "RDF_XML", "TriG", "N-Quads"]


def service_description() -> Response:
    """SPARQL 1.1 Service Description, with the VoID description of the dataset."""
    ctx = psk()
    base = ctx["base"]
    endpoint = request.base_url
    lines = [
        "@prefix sd: <http://www.w3.org/ns/sparql-service-description#> .",
        "@prefix void: <http://rdfs.org/ns/void#> .",
        "@prefix dcterms: <http://purl.org/dc/terms/> .",
        f"<{endpoint}> a sd:Service ;",
        f"  sd:endpoint <{endpoint}> ;",
        "  sd:supportedLanguage sd:SPARQL11Query ;",
        "  " + " ;\n  ".join(f"sd:resultFormat <http://www.w3.org/ns/formats/{f}>" for f in SD_FORMATS) + " ;",
        "  sd:defaultDataset [ a sd:Dataset ;",
        '    sd:defaultGraph [ a sd:Graph ; dcterms:description "Facts, reified statements with evidence, claim metadata, ontology and vocabularies."@en ] ;',
        '    sd:namedGraph [ a sd:NamedGraph ; dcterms:description "One graph per claim, holding the triples the claim asserts."@en ] ] .',
    ]
    data = "\n".join(lines) + "\n"
    void = ctx["backend"].select(ctx["queries"]["dataset_void"], {"dataset": ox.NamedNode(base.dataset)})
    graph = ox.Store()
    graph.load(data, format=ox.RdfFormat.TURTLE)
    graph.extend(ox.Quad(t.subject, t.predicate, t.object) for t in void.triples)
    graph.add(ox.Quad(ox.NamedNode(base.dataset), ox.NamedNode("http://rdfs.org/ns/void#sparqlEndpoint"), ox.NamedNode(endpoint)))
    for fmt in ("ttl", "nt", "jsonld", "trig"):
        graph.add(
            ox.Quad(
                ox.NamedNode(base.dataset),
                ox.NamedNode("http://rdfs.org/ns/void#dataDump"),
                ox.NamedNode(url_for("ld.dump_file", name=f"pakistan-security-kg.{fmt}.gz", _external=True)),
            )
        )
    try:
        media = choose(
            request.headers.get("Accept"),
            ["text/turtle", "application/rdf+xml", "application/ld+json", "application/n-triples", "text/html"],
        )
    except BadAccept as exc:
        return _error(400, f"Bad Request: {exc}")
    except NotAcceptable:
        return _error(
            406,
            "Not Acceptable: the service description is available as text/turtle, application/rdf+xml, application/ld+json, application/n-triples",
        )
    if media == "text/html":
        return query_page_response(None)
    rdf_format = ox.RdfFormat.from_media_type(media)
    assert rdf_format is not None
    kwargs: dict[str, Any] = {"from_graph": ox.DefaultGraph()}
    if rdf_format in (ox.RdfFormat.TURTLE, ox.RdfFormat.RDF_XML):
        kwargs["prefixes"] = {
            "sd": "http://www.w3.org/ns/sparql-service-description#",
            "void": "http://rdfs.org/ns/void#",
            "dcterms": "http://purl.org/dc/terms/",
        }
    body = graph.dump(format=rdf_format, **kwargs)
    resp = Response(body, mimetype=media)
    resp.headers.update(CORS)
    resp.headers["Vary"] = "Accept"
    return resp


# -- query page ---------------------------------------------------------------------------------------


def query_page_response(query: str | None) -> Response:
    ctx = psk()
    result: dict[str, Any] | None = None
    error: str | None = None
    if query:
        try:
            info = analyze(query, _limits())
            fmt = "json" if info.form in ("SELECT", "ASK") else "turtle"
            item = run_query(query, fmt, request.values.getlist("default-graph-uri"), request.values.getlist("named-graph-uri"))
            if fmt == "json":
                data = json.loads(item.body)
                if "boolean" in data:
                    result = {"kind": "boolean", "boolean": data["boolean"]}
                else:
                    result = {"kind": "bindings", "vars": data["head"]["vars"], "rows": data["results"]["bindings"]}
            else:
                result = {"kind": "graph", "text": item.body.decode("utf-8")}
            result["truncated"] = "X-SPARQL-Truncated" in item.headers
            result["rows_count"] = item.headers.get("X-SPARQL-Rows")
        except QueryRejected as exc:
            error = str(exc)
        except QuerySyntaxError as exc:
            error = f"malformed query: {exc}"
        except QueryTimeout as exc:
            error = str(exc)
        except KGError as exc:
            error = f"the query could not be evaluated: {str(exc)[:300]}"
    status = 200 if error is None else 400
    html = render_template(
        "query.html",
        query=query or examples()[0].query,
        ran=bool(query),
        result=result,
        error=error,
        examples=examples(),
        prefixes=PREFIXES,
        max_rows=current_app.config["PSK_MAX_ROWS"],
        timeout=current_app.config["PSK_QUERY_TIMEOUT"],
        base=ctx["base"],
    )
    return Response(html, status=status, mimetype="text/html")


@bp.route("/query", methods=["GET", "POST"])
def query_page() -> Response:
    query = request.values.get("query")
    return query_page_response(query)


@bp.get("/query/examples.json")
def examples_json() -> Response:
    return Response(json.dumps([e.__dict__ for e in examples()]), mimetype="application/json")
