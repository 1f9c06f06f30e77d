"""Unit tables for the hand-written parts: negotiation, format choice, request parsing, IRI <-> path, caches,
incident series and filters, the format registry, settings, and kg's independence from the web layer."""

from __future__ import annotations

import subprocess
import sys

import pytest

from kg import formats
from kg.cache import LRUCache
from kg.config import Settings
from kg.describe import IncidentFilter, InvalidFilter
from kg.errors import BadAccept, KGError, NotAcceptable
from kg.incidents import fill_months
from kg.namespaces import CANONICAL_BASE, Base
from server.negotiation import choose, parse_accept
from server.protocol import ProtocolError, choose_format, parse_request
from server.util import iri_to_path, path_to_iri

from .conftest import module_unit


def test_importing_kg_leaves_flask_out() -> None:
    code = "import sys, kg, kg.cli, kg.describe, kg.backend, kg.loaders, kg.remote; print('flask' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.strip() == "False"


@pytest.mark.parametrize(
    "accept,offered,expected",
    [
        (None, ["text/html", "text/turtle"], "text/html"),
        ("", ["text/html", "text/turtle"], "text/html"),
        ("text/turtle", ["text/html", "text/turtle"], "text/turtle"),
        ("text/*;q=0.5, text/turtle", ["text/html", "text/turtle"], "text/turtle"),
        ("*/*;q=0.1, application/ld+json", ["text/html", "application/ld+json"], "application/ld+json"),
        ("text/html;q=0, */*", ["text/html", "text/turtle"], "text/turtle"),
        ("TEXT/TURTLE", ["text/html", "text/turtle"], "text/turtle"),
        ("text/*", ["application/ld+json", "text/turtle"], "text/turtle"),
    ],
)
def test_choose(accept: str | None, offered: list[str], expected: str) -> None:
    assert choose(accept, offered) == expected


@pytest.mark.parametrize("accept", ["turtle", "text/turtle;q=x", "text/turtle;q=2", "*/turtle"])
def test_bad_accept_names_the_entry(accept: str) -> None:
    with pytest.raises(BadAccept, match="entry 1"):
        parse_accept(accept)
    assert BadAccept.status == 400


def test_not_acceptable() -> None:
    with pytest.raises(NotAcceptable):
        choose("image/png", ["text/html"])
    assert NotAcceptable.status == 406


@pytest.mark.parametrize(
    "form,requested,accept,expected",
    [
        ("SELECT", None, None, "json"),
        ("SELECT", "csv", None, "csv"),
        ("SELECT", "application/sparql-results+xml", None, "xml"),
        ("ASK", None, "text/tab-separated-values", "tsv"),
        ("SELECT", None, "application/json", "json"),
        ("SELECT", None, "text/html", "html"),
        ("SELECT", "HTML", None, "html"),
        ("CONSTRUCT", None, None, "turtle"),
        ("CONSTRUCT", "ttl", None, "turtle"),
        ("DESCRIBE", "nt", None, "ntriples"),
        ("CONSTRUCT", "json-ld", None, "jsonld"),
        ("CONSTRUCT", "rdf/xml", None, "rdfxml"),
        ("CONSTRUCT", None, "application/n-quads", "nquads"),
        ("CONSTRUCT", None, "text/plain", "ntriples"),
        ("CONSTRUCT", None, "application/x-turtle", "turtle"),
    ],
)
def test_choose_format(form: str, requested: str | None, accept: str | None, expected: str) -> None:
    assert choose_format(form, requested, accept) == expected


@pytest.mark.parametrize(
    "form,requested,accept,status",
    [
        ("SELECT", "turtle", None, 406),
        ("CONSTRUCT", "csv", None, 406),
        ("SELECT", None, "image/png", 406),
        ("ASK", None, "x", 400),
    ],
)
def test_choose_format_errors(form: str, requested: str | None, accept: str | None, status: int) -> None:
    with pytest.raises(ProtocolError) as err:
        choose_format(form, requested, accept)
    assert err.value.status == status


def _environ(method: str, query_string: str = "", content_type: str = "") -> dict[str, str]:
    return {"REQUEST_METHOD": method, "QUERY_STRING": query_string, "CONTENT_TYPE": content_type}


@pytest.mark.parametrize(
    "environ,body,query,graphs,fmt",
    [
        (_environ("GET", "query=ASK%7B%7D&format=csv"), b"", "ASK{}", [], "csv"),
        (_environ("GET", "query=ASK+%7B%7D&default-graph-uri=http%3A%2F%2Fa"), b"", "ASK {}", ["http://a"], None),
        (_environ("POST", "", "application/x-www-form-urlencoded"), b"query=SELECT+*+%7B%7D", "SELECT * {}", [], None),
        (
            _environ("POST", "format=xml", "application/sparql-query"),
            "ASK { ?s ?p 'é' }".encode(),
            "ASK { ?s ?p 'é' }",
            [],
            "xml",
        ),
        (_environ("GET"), b"", None, [], None),
    ],
)
def test_parse_request(environ: dict[str, str], body: bytes, query: str | None, graphs: list[str], fmt: str | None) -> None:
    params = parse_request(environ, body)
    assert (params.query, params.default_graphs, params.format) == (query, graphs, fmt)


@pytest.mark.parametrize(
    "environ,body,status",
    [
        (_environ("GET", "update=DROP+ALL"), b"", 403),
        (_environ("POST", "", "application/sparql-update"), b"DROP ALL", 403),
        (_environ("POST", "", "text/plain"), b"ASK {}", 415),
        (_environ("POST", "", "application/sparql-query; charset=latin-1"), b"ASK {}", 400),
        (_environ("POST", "", "application/sparql-query"), b"ASK { '\xff' }", 400),
        (_environ("GET", "query=ASK%7B%7D&query=ASK%7B%7D"), b"", 400),
        (_environ("POST", "query=ASK%7B%7D", "application/x-www-form-urlencoded"), b"x=1", 400),
    ],
)
def test_parse_request_errors(environ: dict[str, str], body: bytes, status: int) -> None:
    with pytest.raises(ProtocolError) as err:
        parse_request(environ, body)
    assert err.value.status == status


@pytest.mark.parametrize(
    "iri,path",
    [
        (CANONICAL_BASE + "id/province/balochistan", "/page/id/province/balochistan"),
        (CANONICAL_BASE + "vocab/event-type/hijacking", "/page/vocab/event-type/hijacking"),
        (CANONICAL_BASE + "graph/claim/x", "/page/graph/claim/x"),
        (CANONICAL_BASE + "dataset", "/page/dataset"),
        (CANONICAL_BASE + "ontology#Incident", "/ontology#Incident"),
        ("https://example.org/id/x", None),
        (CANONICAL_BASE + "elsewhere/x", None),
    ],
)
def test_iri_to_path(iri: str, path: str | None) -> None:
    assert iri_to_path(iri, Base()) == path


def test_iri_path_round_trip_under_another_base() -> None:
    base = Base("http://localhost:8000/kg/")
    assert iri_to_path("http://localhost:8000/kg/id/state/pakistan", base) == "/page/id/state/pakistan"
    assert path_to_iri("id/state/pakistan", base) == "http://localhost:8000/kg/id/state/pakistan"
    assert path_to_iri("vocab/factor/x", base) == CANONICAL_BASE + "vocab/factor/x"  # vocabularies keep their namespace


def test_lru_cache_is_bounded_by_weight() -> None:
    cache: LRUCache[str] = LRUCache(10, len)
    cache.put("a", "aaaa")
    cache.put("b", "bbbb")
    assert cache.get("a") == "aaaa"  # a is now the most recently used
    cache.put("c", "cccc")  # over 10: b, the least recently used, goes
    assert cache.get("b") is None and cache.get("a") == "aaaa" and cache.get("c") == "cccc"
    assert cache.weight == 8 and len(cache) == 2
    cache.put("huge", "x" * 11)  # heavier than the whole cache: not kept
    assert cache.get("huge") is None and cache.hits == 3


def test_fill_months_fills_gaps() -> None:
    assert fill_months({"2024-11": 1, "2025-01": 2}) == [("2024-11", 1), ("2024-12", 0), ("2025-01", 2)]
    assert fill_months({}) == []


@pytest.mark.parametrize(
    "args,expected",
    [
        ({}, {}),
        ({"from": "2025-01-01", "to": "2025-01-10"}, {"from": "2025-01-01", "to": "2025-01-10"}),
        ({"type": "https://example.org/t", "role": "perpetrator", "fmin": "0", "fmax": "12"}, None),
        ({"actor": "https://example.org/a", "place": "https://example.org/p", "type": ""}, None),
    ],
)
def test_incident_filters_round_trip(args: dict[str, str], expected: dict[str, str] | None) -> None:
    flt = IncidentFilter.from_args(args)
    assert flt.as_args() == (expected if expected is not None else {k: v for k, v in args.items() if v})
    assert bool(flt) == bool(flt.as_args())


@pytest.mark.parametrize(
    "args,message",
    [
        ({"from": "11 March"}, "from='11 March'"),
        ({"to": "2025-02-30"}, "to='2025-02-30'"),
        ({"from": "2025-02-01", "to": "2025-01-01"}, "from='2025-02-01' is after"),
        ({"fmin": "1.5"}, "fmin='1.5'"),
        ({"fmin": "9", "fmax": "2"}, "fmin=9 is more than fmax=2"),
        ({"type": "Battles"}, "type='Battles' is not an IRI"),
        ({"actor": "<http://x>"}, "actor="),
        ({"role": "perpetrator;drop"}, "role="),
    ],
)
def test_invalid_filters_are_400s_naming_the_parameter(args: dict[str, str], message: str) -> None:
    with pytest.raises(InvalidFilter, match=message.replace("(", r"\(")):
        IncidentFilter.from_args(args)
    assert InvalidFilter.status == 400


def test_format_registry() -> None:
    assert formats.lookup("TTL") is formats.get("turtle") and formats.by_ext("nq") is formats.get("nquads")
    assert formats.by_media("application/sparql-results+json; charset=utf-8") is formats.get("json")
    assert [f.name for f in formats.FORMATS if f.prefixes] == ["turtle", "rdfxml", "trig"]
    assert all(f.rdf is not None for f in formats.GRAPH_FORMATS) and all(f.rdf is None for f in formats.RESULT_FORMATS)
    assert (
        formats.fit("graph", "csv") == "turtle"
        and formats.fit("boolean", "nquads") == "json"
        and formats.fit("bindings", "tsv") == "tsv"
    )
    assert formats.media_type("csv") == "text/csv; charset=utf-8"
    assert len({f.ext for f in formats.FORMATS}) == len(formats.FORMATS)  # one extension per format


def test_settings_from_the_environment() -> None:
    env = {"PSK_MAX_ROWS": "7", "PSK_QUERY_TIMEOUT": "2.5", "PSK_STORE": "/tmp/s", "PSK_REMOTE": ""}
    s = Settings.from_env(env, base="http://x/")
    assert (s.max_rows, s.query_timeout, s.store, s.remote, s.base) == (7, 2.5, "/tmp/s", None, "http://x/")
    assert s.limits.max_rows == 7 and s.limits.timeout == 2.5
    assert Settings.from_env(s.to_env()) == s  # a worker process sees the same settings
    with pytest.raises(KGError, match="PSK_MAX_ROWS='many' is not an integer"):
        Settings.from_env({"PSK_MAX_ROWS": "many"})
    assert Settings.from_env({}).store == Settings().store  # one default store


@pytest.mark.parametrize(
    ("nodeid", "unit"),
    [
        ("tests/test_units.py::test_choose[None-offered0-text/html]", "tests/test_units.py"),
        ("tests/test_acled.py::test_reloading_changes_nothing", "tests/test_acled.py"),
        ("tests/test_remote.py::test_prologue_puts_base_first", "tests/test_remote.py"),
        ("tests/test_remote.py::test_pages_are_the_same_as_over_the_embedded_store[oxigraph-/]", "tests/test_remote.py"),
        (
            "tests/test_remote.py::test_pages_are_the_same_as_over_the_embedded_store[virtuoso-/]",
            "tests/test_remote.py[virtuoso]",
        ),
        (
            "tests/test_remote.py::test_a_write_killed_mid_upload_leaves_the_remote_as_before[build-virtuoso]",
            "tests/test_remote.py[virtuoso]",
        ),
        ("tests/test_remote.py::test_virtuoso_time_limit_is_our_time_limit_error[oxigraph]", "tests/test_remote.py"),
        ("tests/test_faults.py::test_x[virtuoso]", "tests/test_faults.py"),
    ],
)
def test_xdist_work_units(nodeid: str, unit: str) -> None:
    """The suite's scheduler (tests/conftest.py): a module per unit, the remote suite's Virtuoso tests apart (by the
    backend parameter, not by a test's name)."""
    assert module_unit(nodeid) == unit
