"""The web app: SPARQL 1.1 Protocol endpoint, linked-data pages and dumps. App factory: create_app."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from kg import allocator as _allocator
from kg.backend import Backend, make_backend
from kg.config import Settings
from kg.describe import Reader

from .protocol import SparqlProtocol
from .util import ResultCache, iri_to_path


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
    }

    from .linked_data import bp as ld_bp
    from .sparql_endpoint import bp as sparql_bp

    app.register_blueprint(sparql_bp)
    app.register_blueprint(ld_bp)
    app.wsgi_app = SparqlProtocol(app, app.wsgi_app)  # type: ignore[method-assign]
    app.wsgi_app = PinVersion(backend, app.wsgi_app)  # type: ignore[method-assign]

    @app.context_processor
    def helpers() -> dict[str, Any]:
        return {"local": lambda iri: iri_to_path(iri, base), "base_iri": base.base}

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
        return jsonify({"status": "ok", "backend": backend.kind, "version": backend.version(), "allocator": allocator})

    return app


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
