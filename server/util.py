"""Helpers shared by the blueprints: example queries, the result cache, IRI <-> path mapping."""

from __future__ import annotations

import base64
import functools
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import current_app

from kg.cache import LRUCache
from kg.namespaces import CANONICAL_BASE, Base

HERE = Path(__file__).resolve().parent


@dataclass
class Example:
    slug: str
    title: str
    description: str
    query: str


def examples() -> list[Example]:
    out = []
    for path in sorted((HERE / "examples").glob("*.rq")):
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        title = next((line[len("# title:") :].strip() for line in lines if line.startswith("# title:")), path.stem)
        desc = " ".join(line[1:].strip() for line in lines[1:] if line.startswith("#"))
        out.append(Example(path.stem, title, desc, text))
    return out


@dataclass
class Cached:
    body: bytes
    media: str
    headers: dict[str, str]
    etag: str


class ResultCache(LRUCache[Cached]):
    """Serialized query results keyed on (dataset version, query, dataset, format), bounded in bytes."""

    def __init__(self, max_bytes: int, max_item: int = 1 << 20) -> None:
        super().__init__(max_bytes, lambda item: len(item.body), max_item)

    @staticmethod
    def key(*parts: Any) -> str:
        return hashlib.sha256(repr(parts).encode()).hexdigest()


def psk() -> dict[str, Any]:
    return current_app.extensions["psk"]  # type: ignore[no-any-return]


_LOCAL_ROOTS = ("id/", "vocab/", "graph/", "dataset")


def iri_to_path(iri: str, base: Base) -> str | None:
    """Local page path for an IRI of this dataset (configured base or canonical vocabulary), else None."""
    for prefix in {base.base, CANONICAL_BASE}:
        if iri.startswith(prefix):
            rest = iri[len(prefix) :]
            if rest.startswith(_LOCAL_ROOTS):
                return "/page/" + rest
            if rest.startswith("ontology"):
                return "/ontology" + rest[len("ontology") :]
    return None


_LINKABLE = re.compile(r"https?://", re.IGNORECASE)


def public_base(environ: dict[str, Any], public_url: str | None) -> str:
    """The service's absolute address for URLs in descriptions: the configured public URL, else the address the
    server listens on. Never the Host header, which is the client's to choose."""
    if public_url:
        return public_url.rstrip("/")
    scheme = environ.get("wsgi.url_scheme", "http")
    host = environ.get("SERVER_NAME") or "localhost"
    port = str(environ.get("SERVER_PORT") or "")
    if ":" in host:
        host = f"[{host}]"
    default = (scheme, port) in (("http", "80"), ("https", "443"))
    script = str(environ.get("SCRIPT_NAME", "")).rstrip("/")
    return f"{scheme}://{host}" + ("" if default or not port else f":{port}") + script


def public(path: str) -> str:
    """An absolute URL for a path of this service (see public_base)."""
    from flask import request

    public_url: str | None = psk()["settings"].public_url
    environ: dict[str, Any] = request.environ
    return public_base(environ, public_url) + path


def link_target(iri: str, base: Base) -> str | None:
    """Where a link to an IRI in a result may point: its page on this site, or the IRI itself if it is http(s).

    Anything else (javascript:, data:, vbscript:, urn:, relative text) is shown as text, never as a link: a result
    is data chosen by whoever wrote the query, and a shared result link must not run script when clicked."""
    local = iri_to_path(iri, base)
    if local is not None:
        return local
    return iri if _LINKABLE.match(iri) else None


def path_to_iri(rest: str, base: Base) -> str:
    """IRI for a local resource path like 'id/province/balochistan' (vocabularies use the canonical base)."""
    if rest.startswith("vocab/"):
        return CANONICAL_BASE + rest
    return base.base + rest


SAFE_PATH = re.compile(r"^(id|vocab|graph)/[A-Za-z0-9._~\-/%]+$|^dataset$")


STATIC = HERE / "static"


@functools.lru_cache(maxsize=512)
def _integrity(path: Path, mtime_ns: int, size: int) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(path.read_bytes()).digest()).decode()


def static_integrity(filename: str) -> str:
    """The Subresource Integrity value (SHA-384) of a file under server/static/, recomputed when the file changes."""
    path = (STATIC / filename).resolve()
    if not path.is_relative_to(STATIC) or not path.is_file():
        raise FileNotFoundError(f"server/static/{filename}: no such file")
    st = path.stat()
    return _integrity(path, st.st_mtime_ns, st.st_size)
