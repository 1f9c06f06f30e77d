"""The web app: SPARQL 1.1 Protocol endpoint, linked-data pages and dumps. App factory: create_app."""

from __future__ import annotations

import os
from typing import Any

from flask import Flask, Response, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from kg.namespaces import CANONICAL_BASE, Base

from . import allocator as _allocator
from .backend import Backend, make_backend
from .protocol import SparqlProtocol
from .util import LRUCache, Queries, ResultCache, iri_to_path


def create_app(config: dict[str, Any] | None = None, store: Backend | None = None) -> Flask:
    """Build the Flask app. config keys: PSK_STORE, PSK_BASE, PSK_REMOTE, PSK_QUERY_TIMEOUT, PSK_MAX_ROWS, ..."""
    app = Flask(__name__)
    app.config.update(
        PSK_STORE=os.environ.get("PSK_STORE", "data/store"),
        PSK_BASE=os.environ.get("PSK_BASE", CANONICAL_BASE),
        PSK_REMOTE=os.environ.get("PSK_REMOTE") or None,
        PSK_QUERY_TIMEOUT=float(os.environ.get("PSK_QUERY_TIMEOUT", "10")),
        PSK_MAX_ROWS=int(os.environ.get("PSK_MAX_ROWS", "10000")),
        PSK_MAX_QUERY_BYTES=int(os.environ.get("PSK_MAX_QUERY_BYTES", "20000")),
        PSK_MAX_DEPTH=int(os.environ.get("PSK_MAX_DEPTH", "64")),
        PSK_CACHE_BYTES=int(os.environ.get("PSK_CACHE_BYTES", str(64 << 20))),
        PSK_INCIDENT_CACHE_ROWS=int(os.environ.get("PSK_INCIDENT_CACHE_ROWS", "100000")),
        MAX_CONTENT_LENGTH=int(os.environ.get("PSK_MAX_BODY_BYTES", str(1 << 20))),
    )
    if config:
        app.config.update({k: v for k, v in config.items() if v is not None})
    base = Base(app.config["PSK_BASE"])
    app.extensions["psk"] = {
        "backend": store if store is not None else make_backend(app.config),
        "base": base,
        "queries": Queries(),
        "cache": ResultCache(app.config["PSK_CACHE_BYTES"]),
        # an entity's incident list (page, filters, csv/json twins), per dataset version; bounded in rows
        "incidents": LRUCache(app.config["PSK_INCIDENT_CACHE_ROWS"], len),
    }

    from .linked_data import bp as ld_bp
    from .sparql_endpoint import bp as sparql_bp

    app.register_blueprint(sparql_bp)
    app.register_blueprint(ld_bp)
    app.wsgi_app = SparqlProtocol(app, app.wsgi_app)  # type: ignore[method-assign]

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
        if status == 405 and hasattr(exc, "valid_methods") and exc.valid_methods:  # type: ignore[attr-defined]
            resp.headers["Allow"] = ", ".join(exc.valid_methods)  # type: ignore[attr-defined]
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


def _wants_html() -> bool:
    accept = request.headers.get("Accept", "")
    return "text/html" in accept and request.path != "/sparql"
