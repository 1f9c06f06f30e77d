"""The web app: SPARQL 1.1 Protocol endpoint, linked-data pages and dumps. App factory: create_app."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, jsonify, render_template, request, url_for
from markupsafe import Markup
from werkzeug.exceptions import HTTPException

from kg import allocator as _allocator
from kg.admission import Admission
from kg.backend import Backend, make_backend
from kg.config import Settings
from kg.describe import Reader
from kg.errors import RemoteError

from .protocol import SparqlProtocol
from .titles import iri_link
from .util import ResultCache, iri_to_path, link_target, public, static_integrity

# Every page: scripts, styles, images and fetches only from this site (no inline script: every script is a static
# file, so a javascript: URL or injected markup cannot run), never framed, never sniffed, referrers kept on the site.
# Styles may be inline (the query editor sets them); images may come from https (map tiles).
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: https:; "
    "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}


def create_app(settings: Settings | None = None, store: Backend | None = None) -> Flask:
    """Build the Flask app over the settings (default: from the environment) and a backend (default: the one they name)."""
    settings = settings or Settings.from_env()
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    backend = store if store is not None else make_backend(settings)
    base = settings.iris
    app.extensions["psk"] = {
        "settings": settings,
        "backend": backend,
        "base": base,
        "reader": Reader(backend, base, settings.incident_cache_rows),
        "cache": ResultCache(settings.cache_bytes),
        # the query workers shared out by client; Retry-After: half the time limit (when running queries end at the latest)
        "admission": Admission(settings.pool_size, settings.client_queries, settings.queue_timeout, settings.query_timeout / 2),
    }

    from .linked_data import bp as ld_bp
    from .maps import bp as maps_bp
    from .recipes import bp as recipes_bp
    from .sparql_endpoint import bp as sparql_bp

    app.register_blueprint(sparql_bp)
    app.register_blueprint(ld_bp)
    app.register_blueprint(maps_bp)
    app.register_blueprint(recipes_bp)
    app.wsgi_app = SparqlProtocol(app, app.wsgi_app)  # type: ignore[method-assign]
    app.wsgi_app = PinVersion(backend, app.wsgi_app)  # type: ignore[method-assign]

    @app.context_processor
    def helpers() -> dict[str, Any]:
        return {
            "local": lambda iri: iri_to_path(iri, base),
            "link": lambda iri: link_target(iri, base),
            "base_iri": base.base,
            "public": public,
            "script": _script_tag,
            "stylesheet": _stylesheet_tag,
            "sri": static_integrity,
            "iri_link": iri_link,
            "map_tiles": {"url": settings.map_tiles, "attribution": settings.map_tiles_attribution},
        }

    @app.after_request
    def security_headers(resp: Response) -> Response:
        for name, value in SECURITY_HEADERS.items():
            resp.headers.setdefault(name, value)
        return resp

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> tuple[Response | str, int]:
        status = exc.code or 500
        message = exc.description or exc.name
        if _wants_html():
            return render_template("error.html", status=status, title=exc.name, message=message), status
        resp = Response(f"{status} {exc.name}: {message}\n", status=status, mimetype="text/plain")
        retry_after = getattr(exc, "retry_after", None)
        if retry_after is not None:
            resp.headers["Retry-After"] = str(retry_after)
        if status == 405 and hasattr(exc, "valid_methods") and exc.valid_methods:
            resp.headers["Allow"] = ", ".join(exc.valid_methods)
        return resp, status

    @app.errorhandler(RemoteError)
    def unavailable(exc: RemoteError) -> tuple[Response | str, int]:
        # a remote store that is down or failing; the message names no internal address (kg.remote never puts one in it)
        app.logger.warning("store unavailable: %s", exc)
        message = f"The data store is unavailable right now ({str(exc)[:300]}); try again shortly."
        if _wants_html():
            return render_template("error.html", status=503, title="Service Unavailable", message=message), 503
        resp = Response(f"503 Service Unavailable: {message}\n", status=503, mimetype="text/plain")
        resp.headers["Retry-After"] = "30"
        return resp, 503

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> tuple[Response | str, int]:
        app.logger.exception("unhandled error")
        if _wants_html():
            return render_template("error.html", status=500, title="Internal error", message="The server failed to answer."), 500
        return Response("500 Internal Server Error: the server failed to answer.\n", status=500, mimetype="text/plain"), 500

    allocator = _allocator.loaded()

    @app.get("/healthz")
    def health() -> Response:
        backend: Backend = app.extensions["psk"]["backend"]
        state = backend.health()
        body = {"status": "ok" if state["state"] == "up" else "unavailable", "backend": backend.kind, **state}
        body["allocator"] = allocator
        body["queries"] = app.extensions["psk"]["admission"].stats()
        resp = jsonify(body)
        resp.status_code = 200 if state["state"] == "up" else 503
        return resp

    return app


def _script_tag(filename: str) -> Markup:
    """A deferred <script> for a file under server/static/, with its integrity (pages load only local files)."""
    return Markup('<script src="{}" integrity="{}" defer></script>').format(
        url_for("static", filename=filename), static_integrity(filename)
    )


def _stylesheet_tag(filename: str) -> Markup:
    return Markup('<link rel="stylesheet" href="{}" integrity="{}">').format(
        url_for("static", filename=filename), static_integrity(filename)
    )


class PinVersion:
    """WSGI middleware: each request is answered from one store version (its queries, cache keys and ETag)."""

    def __init__(self, backend: Backend, wsgi_app: Any) -> None:
        self.backend, self.wsgi_app = backend, wsgi_app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        with self.backend.pinned():
            return self.wsgi_app(environ, start_response)


def _wants_html() -> bool:
    accept = request.headers.get("Accept", "")
    return "text/html" in accept and request.path != "/sparql"
