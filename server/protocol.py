"""The SPARQL 1.1 Protocol at /sparql, as plain WSGI in front of the Flask app.

/sparql is the hot path of the service (dashboards and crawlers send thousands of lookups), so query
requests are answered here without Flask's request machinery: parse the request, check the query,
negotiate the format, answer from the result cache or the backend, write the response. Two kinds of
/sparql request go on to Flask: a GET without a query (the service description) and a query whose
best format is HTML (the rendered result page); everything else is answered here, errors included.
"""

from __future__ import annotations

import codecs
import io
import urllib.parse
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from http import HTTPStatus
from typing import Any

from werkzeug.wsgi import get_current_url

from kg import formats
from kg.errors import BadAccept, KGError, NotAcceptable, QueryRejected, QuerySyntaxError, QueryTimeout, ServiceBusy
from kg.sparql import Limits, QueryInfo, analyze

from .negotiation import choose
from .util import Cached, ResultCache

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def _offer(kind: tuple[formats.Format, ...]) -> tuple[str, ...]:
    """What /sparql offers by Accept, in order of preference: each format's canonical media type, then the others."""
    return (*(f.media[0] for f in kind), *(m for f in kind for m in f.media[1:]), "text/html")


RESULT_OFFER = _offer(formats.RESULT_FORMATS)
GRAPH_OFFER = _offer(formats.GRAPH_FORMATS)

# CORS: every response says who may read it and which headers scripts may see; the preflight (OPTIONS)
# answer adds the methods and request headers allowed.
CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": "ETag, X-SPARQL-Truncated, X-SPARQL-Rows",
}
CORS_PREFLIGHT = CORS | {
    "Access-Control-Allow-Methods": "GET, POST, HEAD, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type, Accept, If-None-Match",
    "Access-Control-Max-Age": "86400",
}
ALLOWED = "GET, POST, HEAD, OPTIONS"
READ_ONLY = "Forbidden: this endpoint is read-only; SPARQL Update is refused"


class ProtocolError(Exception):
    """An error answer: status and a one-line message (sent as text/plain, never a stack trace)."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}


def protocol_error(exc: KGError) -> ProtocolError:
    """The protocol answer to a kg error: its own status and a one-line message (never a stack trace)."""
    status = exc.status
    if isinstance(exc, QuerySyntaxError):
        return ProtocolError(400, f"Bad Request: malformed query: {exc}")
    if isinstance(exc, QueryRejected):
        return ProtocolError(status, ("Payload Too Large: " if status == 413 else "Bad Request: ") + str(exc))
    if isinstance(exc, ServiceBusy):
        return ProtocolError(503, f"Service Unavailable: {exc}", {"Retry-After": "1"})
    if isinstance(exc, QueryTimeout):
        return ProtocolError(503, f"Service Unavailable: {exc}", {"Retry-After": "60"})
    if status == 503:
        return ProtocolError(503, f"Service Unavailable: {exc}")
    return ProtocolError(status, f"{HTTPStatus(status).phrase}: the query could not be evaluated ({str(exc)[:300]})")


def check(query: str, limits: Limits) -> QueryInfo:
    """analyze() with its exceptions turned into protocol errors."""
    try:
        return analyze(query, limits)
    except KGError as exc:
        raise protocol_error(exc) from None


@lru_cache(maxsize=512)
def _negotiate(accept: str | None, graph: bool) -> str:
    offer = list(GRAPH_OFFER if graph else RESULT_OFFER)
    return choose(accept, offer)


def choose_format(form: str, requested: str | None, accept: str | None) -> str:
    """The serialization for this query form: ?format= first, then the Accept header; 'html' for the result page."""
    graph = form in ("CONSTRUCT", "DESCRIBE")
    kind = "graph" if graph else "results"
    if requested:
        if requested.lower() == "html":
            return "html"
        fmt = formats.lookup(requested) or formats.by_media(requested)
        if fmt is not None and fmt.kind == kind:
            return fmt.name
        names = ", ".join(f.name for f in (formats.GRAPH_FORMATS if graph else formats.RESULT_FORMATS))
        raise ProtocolError(
            406, f"Not Acceptable: format={requested!r} is not available for {form} results (use one of {names}, html)"
        )
    try:
        media = _negotiate(accept, graph)
    except BadAccept as exc:
        raise ProtocolError(400, f"Bad Request: {exc}") from None
    except NotAcceptable:
        offered = ", ".join(m for m in (GRAPH_OFFER if graph else RESULT_OFFER) if m != "text/html")
        raise ProtocolError(406, f"Not Acceptable: {form} results are available as {offered}") from None
    if media == "text/html":
        return "html"
    fmt = formats.by_media(media)
    assert fmt is not None
    return fmt.name


def run_query(
    ctx: dict[str, Any],
    limits: Limits,
    query: str,
    fmt: str,
    default_graphs: list[str],
    named_graphs: list[str],
    base_iri: str,
    info: QueryInfo | None = None,
) -> Cached:
    """Check, evaluate (cached on dataset version) and serialize a user query. Raises KGError subclasses."""
    backend = ctx["backend"]
    version = backend.version()
    key = ResultCache.key(version, query, fmt, tuple(default_graphs), tuple(named_graphs), limits.max_rows, base_iri)
    cache: ResultCache = ctx["cache"]
    hit = cache.get(key)
    if hit is not None:
        return hit
    if info is None:
        info = analyze(query, limits)  # memoized: free when the caller already checked this query
    answer, used = backend.run_query(
        query,
        fmt,
        max_rows=limits.max_rows,
        timeout=limits.timeout,
        default_graph=default_graphs or None,
        named_graphs=named_graphs or None,
        base_iri=base_iri,
        info=info,
    )
    headers = {"X-SPARQL-Rows": str(answer.rows)}
    if answer.truncated:
        headers["X-SPARQL-Truncated"] = f"results cut at {limits.max_rows} rows; add LIMIT/OFFSET to page through them"
    item = Cached(answer.body, formats.media_type(used), headers, '"' + key[:32] + '"')
    cache.put(key, item)
    return item


_STATUS_LINES = {int(s): f"{int(s)} {s.phrase}" for s in HTTPStatus}


@dataclass(frozen=True, slots=True)
class Params:
    """The protocol parameters of one request: query, dataset, format."""

    query: str | None
    default_graphs: list[str]
    named_graphs: list[str]
    format: str | None


def _read_body(environ: dict[str, Any], limit: int) -> bytes:
    stream = environ["wsgi.input"]
    length = environ.get("CONTENT_LENGTH")
    if length:
        try:
            n = int(length)
        except ValueError:
            raise ProtocolError(400, f"Bad Request: Content-Length {length!r} is not a number") from None
        if n > limit:
            raise ProtocolError(413, f"Payload Too Large: the request body is {n} bytes; the limit is {limit} bytes")
        return stream.read(n) if n > 0 else b""
    if environ.get("wsgi.input_terminated"):
        data: bytes = stream.read(limit + 1)
        if len(data) > limit:
            raise ProtocolError(413, f"Payload Too Large: the request body is over the {limit} byte limit")
        return data
    return b""


def _unquote(data: bytes) -> bytes:
    """Percent-decoding (application/x-www-form-urlencoded, '+' as space) at C speed.

    The escapes become \\xHH escapes for codecs.escape_decode once existing backslashes are doubled;
    a malformed escape (%zz) falls back to urllib, which keeps it as it is.
    """
    data = data.replace(b"+", b" ")
    if b"%" not in data:
        return data
    try:
        decoded: bytes = codecs.escape_decode(data.replace(b"\\", b"\\\\").replace(b"%", b"\\x"))[0]
    except ValueError:
        return urllib.parse.unquote_to_bytes(data)
    return decoded


def parse_form(data: bytes) -> dict[str, list[str]]:
    """name=value&... into lists of values, UTF-8 with replacement characters, blank values kept."""
    out: dict[str, list[str]] = {}
    for pair in data.split(b"&"):
        if not pair:
            continue
        name, _, value = pair.partition(b"=")
        key = _unquote(name).decode("utf-8", "replace")
        out.setdefault(key, []).append(_unquote(value).decode("utf-8", "replace"))
    return out


@lru_cache(maxsize=64)
def _endpoint_url(scheme: str, host: str, server: str, port: str, script: str) -> str:
    environ = {
        "wsgi.url_scheme": scheme,
        "SERVER_NAME": server,
        "SERVER_PORT": port,
        "SCRIPT_NAME": script,
        "PATH_INFO": "/sparql",
    }
    if host:
        environ["HTTP_HOST"] = host
    return get_current_url(environ, strip_querystring=True)


def endpoint_url(environ: dict[str, Any]) -> str:
    """The endpoint's own URL as the client addressed it (the base IRI of relative IRIs in queries)."""
    return _endpoint_url(
        environ.get("wsgi.url_scheme", "http"),
        environ.get("HTTP_HOST", ""),
        environ.get("SERVER_NAME", ""),
        environ.get("SERVER_PORT", ""),
        environ.get("SCRIPT_NAME", ""),
    )


def _single(values: dict[str, list[str]], name: str) -> str | None:
    got = values.get(name)
    return got[0] if got else None


def _raw(text: str) -> bytes:
    """The bytes behind a WSGI environ string (PEP 3333: latin-1); UTF-8 for a server that decoded them itself."""
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return text.encode("utf-8")


def parse_request(environ: dict[str, Any], body: bytes) -> Params:
    """Query, dataset and format from GET, POST form or POST application/sparql-query; errors per the protocol."""
    method = environ["REQUEST_METHOD"]
    args = parse_form(_raw(environ.get("QUERY_STRING", "")))
    if method in ("GET", "HEAD"):
        if "update" in args:
            raise ProtocolError(403, READ_ONLY)
        values = args
        fmt = _single(args, "format")
    else:
        content_type = environ.get("CONTENT_TYPE", "")
        mimetype, _, type_params = content_type.partition(";")
        mimetype = mimetype.strip().lower()
        if mimetype == "application/sparql-update":
            raise ProtocolError(403, READ_ONLY)
        if mimetype == "application/x-www-form-urlencoded":
            form = parse_form(body)
            if "update" in form:
                raise ProtocolError(403, READ_ONLY)
            if "query" in args:
                raise ProtocolError(400, "Bad Request: the query must be in the body of a form POST, not in the URL")
            values = form
            fmt = _single(args, "format") or _single(form, "format")
        elif mimetype == "application/sparql-query":
            charset = "utf-8"
            for param in type_params.split(";"):
                key, _, value = param.partition("=")
                if key.strip().lower() == "charset":
                    charset = value.strip().strip('"').lower()
            if charset not in ("utf-8", "utf8"):
                raise ProtocolError(400, f"Bad Request: a SPARQL query must be sent as UTF-8, not {charset}")
            try:
                text = body.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise ProtocolError(400, f"Bad Request: the query body is not valid UTF-8 (byte {exc.start})") from None
            values = {**args, "query": [text]}
            fmt = _single(args, "format")
        else:
            raise ProtocolError(
                415,
                "Unsupported Media Type: POST a form (application/x-www-form-urlencoded) or application/sparql-query, "
                f"not {mimetype or 'no content type'}",
            )
    queries = values.get("query", [])
    if len(queries) > 1:
        raise ProtocolError(400, "Bad Request: more than one 'query' parameter")
    return Params(queries[0] if queries else None, values.get("default-graph-uri", []), values.get("named-graph-uri", []), fmt)


class SparqlProtocol:
    """WSGI middleware: answers /sparql query requests itself and passes everything else to the Flask app."""

    def __init__(self, flask_app: Any, wsgi_app: WSGIApp) -> None:
        self.flask_app = flask_app
        self.wsgi_app = wsgi_app
        self.config = flask_app.config
        self.ctx: dict[str, Any] = flask_app.extensions["psk"]
        self.limits = self.ctx["settings"].limits
        self.max_body = int(self.config["MAX_CONTENT_LENGTH"])

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != "/sparql":
            return self.wsgi_app(environ, start_response)
        method = environ["REQUEST_METHOD"]
        try:
            if method == "OPTIONS":
                return self._respond(start_response, method, 204, CORS_PREFLIGHT, b"")
            if method not in ("GET", "HEAD", "POST"):
                raise ProtocolError(405, f"Method Not Allowed: use {ALLOWED}", {"Allow": ALLOWED})
            body = _read_body(environ, self.max_body) if method == "POST" else b""
            params = parse_request(environ, body)
            if params.query is None:
                if method == "POST":
                    raise ProtocolError(400, "Bad Request: no 'query' given")
                return self._to_flask(environ, start_response, body)  # the service description
            limits = self.limits
            info = check(params.query, limits)
            fmt = choose_format(info.form, params.format, environ.get("HTTP_ACCEPT"))
            if fmt == "html":
                return self._to_flask(environ, start_response, body)  # the rendered result page
            item = self._evaluate(environ, params, fmt, limits, info)
        except ProtocolError as exc:
            return self._respond(
                start_response, method, exc.status, {**exc.headers, **CORS}, f"{exc.status} {exc.message}\n".encode()
            )
        except Exception:  # a bug must not reach the client as a stack trace
            self.flask_app.logger.exception("unhandled error in the SPARQL protocol layer")
            return self._respond(start_response, method, 500, CORS, b"500 Internal Server Error: the server failed to answer.\n")
        headers = {
            **item.headers,
            **CORS,
            "ETag": item.etag,
            "Vary": "Accept, Accept-Encoding",
            "Cache-Control": "public, max-age=0, must-revalidate",
        }
        if item.etag in [t.strip() for t in environ.get("HTTP_IF_NONE_MATCH", "").split(",")]:
            return self._respond(start_response, method, 304, headers, b"")
        headers["Content-Type"] = item.media
        return self._respond(start_response, method, 200, headers, item.body)

    def _evaluate(self, environ: dict[str, Any], params: Params, fmt: str, limits: Limits, info: QueryInfo) -> Cached:
        assert params.query is not None
        base_iri = endpoint_url(environ)  # relative IRIs resolve against the endpoint
        try:
            return run_query(self.ctx, limits, params.query, fmt, params.default_graphs, params.named_graphs, base_iri, info)
        except KGError as exc:
            if exc.status >= 500:
                self.flask_app.logger.warning("query failed: %s", exc)
            raise protocol_error(exc) from None

    @staticmethod
    def _respond(start_response: StartResponse, method: str, status: int, headers: dict[str, str], body: bytes) -> list[bytes]:
        if status >= 400 and "Content-Type" not in headers:
            headers = {**headers, "Content-Type": "text/plain; charset=utf-8"}
        items = list(headers.items())
        if status not in (204, 304):
            items.append(("Content-Length", str(len(body))))
        start_response(_STATUS_LINES[status], items)
        return [b""] if method == "HEAD" or status in (204, 304) else [body]

    def _to_flask(self, environ: dict[str, Any], start_response: StartResponse, body: bytes) -> Iterable[bytes]:
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        return self.wsgi_app(environ, start_response)
