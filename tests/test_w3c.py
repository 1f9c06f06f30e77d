"""W3C SPARQL 1.1 test data: the Protocol manifest against a real server, and result-format tests.

The data stays in ../shared/w3c-sparql-tests (not copied into the repository); these tests skip
when it is absent.
"""

from __future__ import annotations

import csv
import io
import json
import re
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
import rdflib
import requests
from rdflib import RDF, Namespace
from rdflib.query import Result

from kg.sparql import execute, serialize
from kg.store import LocalStore

from .helpers import W3C, Server

pytestmark = pytest.mark.skipif(not W3C.exists(), reason="W3C SPARQL test data not available")

MF = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
HT = Namespace("http://www.w3.org/2011/http#")
CNT = Namespace("http://www.w3.org/2011/content#")
HTS = Namespace("http://www.w3.org/2011/http-statusCodes#")
QT = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-query#")


def _list(g: rdflib.Graph, node: Any) -> list[Any]:
    return list(rdflib.collection.Collection(g, node)) if node is not None else []


def protocol_tests() -> list[tuple[str, dict[str, Any]]]:
    if not W3C.exists():
        return []
    g = rdflib.Graph().parse(W3C / "protocol" / "manifest.ttl", format="turtle")
    manifest = next(g.subjects(RDF.type, MF.Manifest))
    tests = []
    for test in _list(g, g.value(manifest, MF.entries)):
        name = str(test).rsplit("#", 1)[-1]
        action = g.value(test, MF.action)
        requests_ = []
        for req in _list(g, g.value(action, HT.requests)):
            body = g.value(req, HT.body)
            resp = g.value(req, HT.resp)
            requests_.append(
                {
                    "method": str(g.value(req, HT.methodName)),
                    "path": str(g.value(req, HT.absolutePath)),
                    "headers": {
                        str(g.value(h, HT.fieldName)): str(g.value(h, HT.fieldValue)) for h in _list(g, g.value(req, HT.headers))
                    },
                    "body": None
                    if body is None
                    else (str(g.value(body, CNT.chars)), str(g.value(body, CNT.characterEncoding) or "UTF-8")),
                    "status": {str(s).rsplit("#", 1)[-1] for s in g.objects(resp, MF.expectedStatus)},
                    "boolean": g.value(resp, MF.expectedBoolean),
                    "format": str(g.value(resp, MF.expectedFormat) or ""),
                }
            )
        tests.append((name, {"requests": requests_}))
    return tests


@pytest.fixture(scope="module")
def w3c_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server whose store holds the protocol test data in its named graphs (as the manifest expects)."""
    path = tmp_path_factory.mktemp("w3c") / "store"

    def fill(store: ox.Store) -> None:
        for i in (1, 2, 3):
            graph = ox.NamedNode(f"http://kasei.us/2009/09/sparql/data/data{i}.rdf")
            store.load(path=str(W3C / "protocol" / f"data{i}.nt"), format=ox.RdfFormat.N_TRIPLES, to_graph=graph)

    LocalStore(path).write(fill, from_current=False)
    srv = Server({"PSK_STORE": str(path)}, "--workers", "1")
    yield srv.url
    srv.stop()


@pytest.mark.parametrize("name,test", protocol_tests(), ids=[t[0] for t in protocol_tests()])
def test_protocol_manifest(w3c_server: str, name: str, test: dict[str, Any]) -> None:
    for req in test["requests"]:
        path = req["path"].replace("/sparql/", "/sparql", 1)
        body = None
        if req["body"] is not None:
            chars, encoding = req["body"]
            body = chars.encode(encoding)
        resp = requests.request(
            req["method"], w3c_server + path, data=body, headers=req["headers"], timeout=30, allow_redirects=False
        )
        classes = {f"StatusCode{resp.status_code // 100}xx"}
        is_update = req["headers"].get("content-type", "").startswith("application/sparql-update") or (body or b"").startswith(
            b"update="
        )
        if name.startswith(("update_", "bad_update")) and "StatusCode2xx" in req["status"]:
            # This endpoint is read-only by design: the update must be refused with a client error, and
            # the requests that would check its effect do not apply.
            assert is_update, f"{name}: expected an update request"
            assert resp.status_code in (400, 403), f"{name}: update not refused ({resp.status_code})"
            break
        assert classes & req["status"], f"{name}: got {resp.status_code}, expected {req['status']}: {resp.text[:300]}"
        ctype = resp.headers.get("Content-Type", "")
        if req["boolean"] is not None:
            fmt = "json" if "json" in ctype else "xml"
            result = Result.parse(io.BytesIO(resp.content), format=fmt)
            assert result.askAnswer == bool(req["boolean"].toPython()), name
        elif req["format"] == "tabular":
            assert ctype.split(";")[0] in (
                "application/sparql-results+json",
                "application/sparql-results+xml",
                "text/csv",
                "text/tab-separated-values",
            )
            assert Result.parse(io.BytesIO(resp.content), format="json" if "json" in ctype else "xml") is not None
        elif req["format"] == "RDF":
            media = ctype.split(";")[0]
            fmt = {
                "text/turtle": "turtle",
                "application/rdf+xml": "xml",
                "application/n-triples": "nt",
                "application/ld+json": "json-ld",
            }[media]
            rdflib.Graph().parse(data=resp.content, format=fmt)


# -- result serialization against the W3C expected results ---------------------------------------


def eval_tests(folder: str) -> list[tuple[str, Path, Path, Path]]:
    base = W3C / folder
    if not base.exists():
        return []
    g = rdflib.Graph().parse(base / "manifest.ttl", format="turtle", publicID=base.as_uri() + "/")
    out = []
    manifest = next(g.subjects(RDF.type, MF.Manifest))
    for test in _list(g, g.value(manifest, MF.entries)):
        action = g.value(test, MF.action)
        query = g.value(action, QT.query)
        data = g.value(action, QT.data)
        result = g.value(test, MF.result)
        if query is None or data is None or result is None:
            continue
        path = lambda u: Path(urllib.parse.unquote(urllib.parse.urlparse(str(u)).path))  # noqa: E731
        out.append((str(test).rsplit("#", 1)[-1], path(query), path(data), path(result)))
    return out


def _run(query: Path, data: Path) -> Any:
    store = ox.Store()
    store.load(path=str(data), format=ox.RdfFormat.TURTLE, base_iri=data.as_uri())
    return execute(store, query.read_text(encoding="utf-8"), max_rows=10_000, base_iri=query.as_uri())


def _rows_from_json(data: dict[str, Any]) -> list[dict[str, tuple[str, str]]]:
    def key(b: dict[str, str]) -> tuple[str, str]:
        extra = b.get("datatype", "") or b.get("xml:lang", "")
        kind = "literal" if b["type"] in ("literal", "typed-literal") else b["type"]
        return (kind, b["value"] if kind != "bnode" else "_") + ((extra,) if extra else ())  # type: ignore[return-value]

    return sorted(
        ({v: key(b) for v, b in row.items()} for row in data["results"]["bindings"]), key=lambda r: json.dumps(r, sort_keys=True)
    )


@pytest.mark.parametrize("name,query,data,expected", eval_tests("json-res"), ids=lambda x: x if isinstance(x, str) else "")
def test_json_results_match_w3c(name: str, query: Path, data: Path, expected: Path) -> None:
    got = json.loads(serialize(_run(query, data), "json"))
    want = json.loads(expected.read_text(encoding="utf-8"))
    if "boolean" in want:
        assert got["boolean"] == want["boolean"]
        return
    assert got["head"]["vars"] == want["head"]["vars"]
    assert _rows_from_json(got) == _rows_from_json(want)


# Oxigraph stores derived integer types (xsd:negativeInteger, ...) as xsd:integer: compare their values.
_DERIVED = re.compile(r'^"([-+0-9]+)"\^\^<http://www.w3.org/2001/XMLSchema#\w*[iI]nteger>$')


def _cell(c: str) -> str:
    if c.startswith("_:"):
        return "_"
    if re.fullmatch(r"[-+0-9.eE]+", c):
        return c.lower()
    return _DERIVED.sub(r"\1", c)


def _csv_rows(text: str) -> list[tuple[str, ...]]:
    return sorted(tuple(_cell(c) for c in r) for r in csv.reader(io.StringIO(text)))


def _tsv_rows(text: str) -> list[str]:
    return sorted("\t".join(_cell(c) for c in line.split("\t")) for line in text.strip().splitlines())


@pytest.mark.parametrize("name,query,data,expected", eval_tests("csv-tsv-res"), ids=lambda x: x if isinstance(x, str) else "")
def test_csv_tsv_results_match_w3c(name: str, query: Path, data: Path, expected: Path) -> None:
    fmt = expected.suffix.lstrip(".")
    got = serialize(_run(query, data), fmt).decode("utf-8")
    want = expected.read_text(encoding="utf-8")
    if fmt == "csv":
        assert _csv_rows(got) == _csv_rows(want)
    else:
        assert _tsv_rows(got) == _tsv_rows(want)
