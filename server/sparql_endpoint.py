"""/sparql: a read-only SPARQL 1.1 Protocol endpoint, its service description, and the query page."""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from flask import Blueprint, Response, abort, jsonify, render_template, request, url_for

from kg import formats, queries
from kg.dumps import dump_file_name
from kg.errors import KGError, QueryRejected, QuerySyntaxError, QueryTimeout, ServiceBusy, TooManyRequests
from kg.namespaces import PREFIXES
from kg.sparql import analyze

from .labels import MAX_IRIS, curie, describe_iris
from .negotiation import BadAccept, NotAcceptable, choose
from .protocol import CORS, run_query
from .query_errors import explain_syntax_error, explain_timeout
from .util import Cached, examples, psk, public

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

FORMATS_SELECT = [("json", "SPARQL JSON"), ("xml", "SPARQL XML"), ("csv", "CSV"), ("tsv", "TSV")]
FORMATS_GRAPH = [
    ("turtle", "Turtle"),
    ("ntriples", "N-Triples"),
    ("jsonld", "JSON-LD"),
    ("rdfxml", "RDF/XML"),
    ("trig", "TriG"),
    ("nquads", "N-Quads"),
]
SAVED_ID = re.compile(r"^[0-9a-f]{16}$")


@dataclass(frozen=True)
class PageError:
    """Why a query shown on a page did not run: a message in the researcher's terms and the status of its kind (the
    same status /sparql answers: 400 refused or malformed, 413 too large, 429 over the client's share, 503 time limit
    or busy)."""

    message: str
    status: int
    retry_after: int | None = None

    def __str__(self) -> str:
        return self.message

    @classmethod
    def of(cls, exc: KGError, query: str, timeout: float) -> PageError:
        retry = getattr(exc, "retry_after", None)
        if isinstance(exc, QuerySyntaxError):
            return cls(f"malformed query: {explain_syntax_error(query, str(exc))}", exc.status)
        if isinstance(exc, QueryTimeout):
            return cls(explain_timeout(str(exc), timeout), exc.status, retry)
        if isinstance(exc, (QueryRejected, ServiceBusy, TooManyRequests)):
            return cls(str(exc), exc.status, retry)
        return cls(f"the query could not be evaluated: {str(exc)[:300]}", exc.status)


def run_for_page(query: str) -> tuple[dict[str, Any] | None, PageError | None]:
    """Run a query for an HTML page: (result, None) or (None, why not, in the researcher's terms)."""
    ctx = psk()
    limits = ctx["settings"].limits
    try:
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
    except KGError as exc:
        return None, PageError.of(exc, query, limits.timeout)
    result: dict[str, Any]
    if fmt == "json":
        data = json.loads(item.body)
        if "boolean" in data:
            result = {"kind": "boolean", "boolean": data["boolean"]}
        else:
            rows = data["results"]["bindings"]
            iris = [b["value"] for row in rows[:500] for b in row.values() if b.get("type") == "uri"]
            result = {"kind": "bindings", "vars": data["head"]["vars"], "rows": rows, "labels": describe_iris(iris)}
    else:
        result = {"kind": "graph", "text": item.body.decode("utf-8")}
    result["truncated"] = "X-SPARQL-Truncated" in item.headers
    result["rows_count"] = item.headers.get("X-SPARQL-Rows")
    result["form"] = info.form
    return result, None


def query_page_response(query: str | None, status: int = 200) -> Response:
    ctx = psk()
    result, error = run_for_page(query) if query else (None, None)
    retry_after: int | None = None
    if error is not None:
        status, retry_after = error.status, error.retry_after
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
        formats=FORMATS_GRAPH if result and result.get("form") in ("CONSTRUCT", "DESCRIBE") else FORMATS_SELECT,
        endpoint=public(url_for("sparql.sparql")),
        version=ctx["backend"].version(),
    )
    resp = Response(html, status=status, mimetype="text/html")
    if request.path == "/sparql":
        resp.headers["Vary"] = "Accept"  # /sparql answers HTML or results by Accept
    if retry_after is not None:
        resp.headers["Retry-After"] = str(retry_after)
    return resp


@bp.route("/query", methods=["GET", "POST"])
def query_page() -> Response:
    saved = request.values.get("q")
    if saved is not None and request.values.get("query") is None:
        text = load_saved(saved)
        if text is None:
            abort(404, description=f"q={saved}: no stored query has this id (ids are 16 hex digits from /query/link)")
        return query_page_response(text)
    return query_page_response(request.values.get("query"))


# -- short links -----------------------------------------------------------------------------------------


def saved_dir() -> Path:
    settings = psk()["settings"]
    if settings.saved_queries:
        return Path(settings.saved_queries)
    store = str(settings.store)
    if settings.remote or "://" in store:
        return Path("data") / "saved-queries"
    return Path(store).parent / "saved-queries"


def save_query(text: str) -> str:
    """Store a query under its content hash (the same text always gets the same id); returns the id."""
    ident = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
    folder = saved_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{ident}.rq"
    if not path.exists():
        tmp = folder / f".{ident}.{os.getpid()}.tmp"
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    return ident


def load_saved(ident: str) -> str | None:
    if not SAVED_ID.match(ident):
        return None
    path = saved_dir() / f"{ident}.rq"
    return path.read_text(encoding="utf-8") if path.exists() else None


@bp.post("/query/link")
def query_link() -> Response:
    body = request.get_json(silent=True) if request.is_json else None
    text = (body or {}).get("query") if isinstance(body, dict) else request.form.get("query")
    if not isinstance(text, str) or not text.strip():
        abort(400, description='query: expected the text of a SPARQL query (form field or JSON {"query": ...})')
    limit = psk()["settings"].max_query_bytes
    if len(text.encode("utf-8")) > limit:
        abort(413, description=f"query: {len(text.encode())} bytes; the limit is {limit}")
    try:
        ident = save_query(text)
    except OSError as exc:
        abort(
            503,
            description=f"short links are unavailable here: cannot write to {saved_dir()} ({exc.strerror}); set PSK_SAVED_QUERIES",
        )
    return jsonify({"id": ident, "url": public(url_for("sparql.query_page", q=ident))})


# -- JSON for the editor ----------------------------------------------------------------------------------


@bp.get("/query/examples.json")
def examples_json() -> Response:
    return Response(json.dumps([e.__dict__ for e in examples()]), mimetype="application/json")


@bp.get("/query/completions.json")
def completions_json() -> Response:
    """Prefixes, and the classes and properties the dataset uses (VoID partitions) with labels, for the editor."""
    ctx = psk()
    key = ("completions", ctx["backend"].version())
    cached = ctx["cache"].get(key)
    if cached is None:
        rows = (
            ctx["backend"]
            .select(queries.text("vocabulary_terms"), {"dataset": ox.NamedNode(ctx["base"].dataset)}, max_rows=5000)
            .records()
        )
        out: dict[str, Any] = {"prefixes": PREFIXES, "classes": [], "properties": []}
        for r in rows:
            term = r["term"].value
            entry = {"iri": term, "curie": curie(term), "label": r["label"].value if r["label"] is not None else None}
            out["classes" if r["kind"].value == "class" else "properties"].append(entry)
        body = json.dumps(out, ensure_ascii=False).encode("utf-8")
        cached = Cached(body, "application/json", {}, "")
        ctx["cache"].put(key, cached)
    return Response(cached.body, mimetype="application/json")


@bp.post("/api/labels")
def api_labels() -> Response:
    """{"iris": [...]} -> {iri: {label, page, curie}}: labels for a result table."""
    body = request.get_json(silent=True)
    iris = body.get("iris") if isinstance(body, dict) else None
    if not isinstance(iris, list) or not all(isinstance(i, str) for i in iris):
        abort(400, description='body: expected JSON {"iris": ["http://...", ...]}')
    return jsonify(describe_iris(iris[:MAX_IRIS]))
