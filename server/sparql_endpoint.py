"""/sparql: a read-only SPARQL 1.1 Protocol endpoint, its service description, and the query page."""

from __future__ import annotations

import json
from typing import Any

import pyoxigraph as ox
from flask import Blueprint, Response, render_template, request, url_for

from kg import formats
from kg.dumps import dump_file_name
from kg.errors import KGError, QueryRejected, QuerySyntaxError, QueryTimeout, ServiceBusy, TooManyRequests
from kg.namespaces import PREFIXES
from kg.sparql import analyze

from .negotiation import BadAccept, NotAcceptable, choose
from .protocol import CORS, run_query
from .util import examples, psk, public

bp = Blueprint("sparql", __name__)


def _error(status: int, message: str) -> Response:
    resp = Response(f"{status} {message}\n", status=status, mimetype="text/plain")
    resp.headers.update(CORS)
    return resp


@bp.route("/sparql", methods=["GET", "POST", "HEAD"])
def sparql() -> Response:
    """What the protocol layer (server/protocol.py) hands on: the service description and the HTML result page."""
    if request.mimetype == "application/sparql-query":
        query: str | None = request.get_data(cache=False).decode("utf-8")
    else:
        query = request.values.get("query")
    if query is None:
        return service_description()
    return query_page_response(query)


# -- service description ----------------------------------------------------------------------------

SD_FORMATS = [f.sd_name for f in formats.FORMATS]


def service_description() -> Response:
    """SPARQL 1.1 Service Description, with the VoID description of the dataset."""
    ctx = psk()
    base = ctx["base"]
    endpoint = public("/sparql")
    lines = [
        "@prefix sd: <http://www.w3.org/ns/sparql-service-description#> .",
        "@prefix void: <http://rdfs.org/ns/void#> .",
        "@prefix dcterms: <http://purl.org/dc/terms/> .",
        f"<{endpoint}> a sd:Service ;",
        f"  sd:endpoint <{endpoint}> ;",
        "  sd:supportedLanguage sd:SPARQL11Query ;",
        "  " + " ;\n  ".join(f"sd:resultFormat <http://www.w3.org/ns/formats/{f}>" for f in SD_FORMATS) + " ;",
        "  sd:defaultDataset [ a sd:Dataset ;",
        '    dcterms:description "Named graphs: one per claim, holding the triples the claim asserts (listed in the VoID description)."@en ;',
        '    sd:defaultGraph [ a sd:Graph ; dcterms:description "Facts, reified statements with evidence, claim metadata, ontology and vocabularies."@en ] ] .',
    ]
    data = "\n".join(lines) + "\n"
    void = ctx["reader"].void()
    graph = ox.Store()
    graph.load(data, format=ox.RdfFormat.TURTLE)
    graph.extend(ox.Quad(t.subject, t.predicate, t.object) for t in void)
    graph.add(ox.Quad(ox.NamedNode(base.dataset), ox.NamedNode("http://rdfs.org/ns/void#sparqlEndpoint"), ox.NamedNode(endpoint)))
    for fmt in formats.DUMP_FORMATS:
        graph.add(
            ox.Quad(
                ox.NamedNode(base.dataset),
                ox.NamedNode("http://rdfs.org/ns/void#dataDump"),
                ox.NamedNode(public(url_for("ld.dump_file", name=dump_file_name(fmt)))),
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
    sd_prefixes = {
        "sd": "http://www.w3.org/ns/sparql-service-description#",
        "void": "http://rdfs.org/ns/void#",
        "dcterms": "http://purl.org/dc/terms/",
    }
    sd_format = formats.by_media(media)
    assert sd_format is not None
    body = graph.dump(from_graph=ox.DefaultGraph(), **sd_format.serialize_kwargs(sd_prefixes))
    resp = Response(body, mimetype=media)
    resp.headers.update(CORS)
    resp.headers["Vary"] = "Accept"
    return resp


# -- query page ---------------------------------------------------------------------------------------


def query_page_response(query: str | None) -> Response:
    ctx = psk()
    result: dict[str, Any] | None = None
    error: str | None = None
    status = 200
    retry_after: int | None = None
    if query:
        try:
            limits = ctx["settings"].limits
            info = analyze(query, limits)
            fmt = "json" if info.form in ("SELECT", "ASK") else "turtle"
            item = run_query(
                ctx,
                limits,
                query,
                fmt,
                request.values.getlist("default-graph-uri"),
                request.values.getlist("named-graph-uri"),
                public("/sparql"),  # relative IRIs resolve against the endpoint
                info,
                request.remote_addr or "",
            )
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
        except KGError as exc:
            status = exc.status
            retry_after = getattr(exc, "retry_after", None)
            if isinstance(exc, QuerySyntaxError):
                error = f"malformed query: {exc}"
            elif isinstance(exc, (QueryRejected, QueryTimeout, ServiceBusy, TooManyRequests)):
                error = str(exc)
            else:
                error = f"the query could not be evaluated: {str(exc)[:300]}"
    html = render_template(
        "query.html",
        query=query or examples()[0].query,
        ran=bool(query),
        result=result,
        error=error,
        examples=examples(),
        prefixes=PREFIXES,
        max_rows=ctx["settings"].max_rows,
        timeout=ctx["settings"].query_timeout,
        base=ctx["base"],
    )
    resp = Response(html, status=status, mimetype="text/html")
    if request.path == "/sparql":
        resp.headers["Vary"] = "Accept"  # /sparql answers HTML or results by Accept
    if retry_after is not None:
        resp.headers["Retry-After"] = str(retry_after)
    return resp


@bp.route("/query", methods=["GET", "POST"])
def query_page() -> Response:
    query = request.values.get("query")
    return query_page_response(query)


@bp.get("/query/examples.json")
def examples_json() -> Response:
    return Response(json.dumps([e.__dict__ for e in examples()]), mimetype="application/json")
