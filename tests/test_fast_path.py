"""The lookup fast path: which queries count as bounded, that they are evaluated in-process with the same
answers as the killable pool, and the request parsing the WSGI protocol layer does itself."""

from __future__ import annotations

import io
import json
import random
import threading
import time
import urllib.parse
from pathlib import Path

import pyoxigraph as ox
import pytest
import requests
from rdflib.query import Result

from kg.backend import LocalBackend
from kg.config import Settings
from kg.errors import ServiceBusy
from kg.executor import Answer, answer_lookup
from kg.sparql import Limits, QueryTimeout, analyze, bounded_lookup
from server.protocol import parse_form

LIMITS = Limits(max_rows=50)
ACLED1 = "https://w3id.org/pakistan-security-kg/id/incident/acled-syn0001"

BOUNDED = [
    f"SELECT ?p ?o WHERE {{ <{ACLED1}> ?p ?o }}",
    "PREFIX ex: <http://example.org/>\n# a comment\nselect * { ?s a psk:Incident } limit 10 offset 5",
    'ASK { ?s rdfs:label "Baloch Liberation Army"@en }',
    "SELECT ?s WHERE { ?s psk:fatalities 3 . } # trailing comment",
    "SELECT ?s {?s ?p 'x'^^xsd:string}",
    "SELECT?s{?s?p?o}",
    "PREFIX inc: <https://w3id.org/pakistan-security-kg/id/incident/> SELECT ?p ?o WHERE { inc:acled-syn0001 ?p ?o.}",
    "SELECT ?i WHERE { ?i psk:civilianTargeting false } LIMIT 5",
    # the form keyword also appears in the prologue (a prefix name, an IRI, a comment)
    "PREFIX ask: <http://example.org/select/> # select * {\nSELECT ?o { ask:x ?p ?o }",
    "# SELECT ?s { ?s ?p ?o }\nASK { ?s ?p ?o }",
]
NOT_BOUNDED = [
    "SELECT DISTINCT ?p WHERE { ?s ?p ?o }",  # duplicates skipped: unbounded work between rows
    "SELECT ?s WHERE { ?s ?p ?s }",  # a repeated variable is a filter over a scan
    "SELECT ?s WHERE { ?s ?p ?o } OFFSET 100000",  # skipping is work too
    "SELECT ?s WHERE { ?s ?p ?o . ?o ?q ?r }",
    "SELECT ?s WHERE { ?s ?p ?o FILTER(?o > 1) }",
    "SELECT ?s WHERE { ?s ?p ?o } ORDER BY ?s",
    "SELECT ?s WHERE { ?s ?p ?o } GROUP BY ?s",
    "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }",
    "SELECT ?s FROM <http://example.org/g> WHERE { ?s ?p ?o }",
    "SELECT ?s WHERE { ?s ex:p/ex:q ?o }",
    "SELECT ?s WHERE { ?s ex:p ?o ; ex:q ?r }",
    "SELECT ?s WHERE { ?s ex:p ?o , ?r }",
    "SELECT ?s WHERE { GRAPH ?g { ?s ?p ?o } }",
    "SELECT ?s WHERE { [] ?p ?o }",
    'SELECT ?s WHERE { ?s ?p "a\\"} UNION {" }',
    "SELECT ?s WHERE { ?s ?p ?o } VALUES ?s { <a:b> }",
    "SELECT ?s WHERE { ?s ?p ?o #}\n ?o ?q ?r }",
    "SELECT ?s WHERE { SERVICE <http://127.0.0.1:1/> { ?s ?p ?o } }",
    "CONSTRUCT WHERE { ?s ?p ?o }",
    "DESCRIBE <http://example.org/a>",
    "BASE <http://example.org/> SELECT ?o WHERE { <a> ?p ?o }",  # relative IRIs: the engine resolves them
    "SELECT ?o WHERE { <a> ?p ?o }",
    "SELECT ?o WHERE { ex:a ?p ?o }",  # undeclared prefix: the engine reports it
    "SELECT ?o WHERE { ?s ?p psk:o.. }",  # two terminators: a syntax error for the engine
    "SELECT ?o WHERE { ?s A ?o }",  # only lower-case 'a' is rdf:type
    "SELECT ?i WHERE { ?i psk:civilianTargeting FALSE }",  # Oxigraph: a syntax error
    "SELECT ?o WHERE { ?s ?p 1e3 }",
    "SELECT ?o ?o WHERE { ?s ?p ?o }",
    "# ASK { ?s ?p ?o }",  # only a comment: no query at all
    "PREFIX ex: <http://example.org/> # SELECT ?s { ?s ?p ?o }",
    "PREFIX ex: <http://example.org/>\n# SELECT ?s { ?s ?p ?o }\n",
    "PREFIX ex: <http://example.org/> BASE <http://example.org/> SELECT ?o { ex:a ?p ?o }",
    "PREFIX ex: <relative/> SELECT ?o { ex:a ?p ?o }",
]


@pytest.mark.parametrize("query", BOUNDED)
def test_bounded_shapes_are_recognized(query: str) -> None:
    info = bounded_lookup(query, LIMITS)
    assert info is not None and info.lookup is not None and info.form in ("SELECT", "ASK")
    assert analyze(query, LIMITS) == info


@pytest.mark.parametrize("query", NOT_BOUNDED)
def test_everything_else_takes_the_general_path(query: str) -> None:
    assert bounded_lookup(query, LIMITS) is None


def test_service_is_still_refused_and_oversized_lookups_still_reported() -> None:
    from kg.sparql import QueryRejected

    with pytest.raises(QueryRejected, match="SERVICE"):
        analyze("SELECT ?s WHERE { SERVICE <http://127.0.0.1:1/> { ?s ?p ?o } }", LIMITS)
    big = f"SELECT ?p ?o WHERE {{ <{ACLED1}> ?p ?o }} #" + "x" * 30_000
    with pytest.raises(QueryRejected, match="bytes"):
        analyze(big, LIMITS)


def test_checks_still_see_everything_after_a_long_prologue() -> None:
    """The query checks skip a prologue of PREFIX declarations they have seen before, and nothing after it."""
    from kg.sparql import QueryRejected

    prologue = "".join(f"PREFIX p{i}: <http://example.org/{i}/>\n" for i in range(30)) + "# select ask {{{ SERVICE\n"
    for _ in range(2):  # the second time the prologue comes from the cache
        with pytest.raises(QueryRejected, match="SERVICE"):
            analyze(prologue + "SELECT * { SERVICE <http://127.0.0.1:1/> { ?s ?p ?o } }", LIMITS)
        with pytest.raises(QueryRejected, match="read-only"):
            analyze(prologue + "INSERT DATA { <a:b> <a:c> 'select' }", LIMITS)
        with pytest.raises(QueryRejected, match="deeper than 64"):
            analyze(prologue + "SELECT * WHERE " + "{" * 70 + "}" * 70, LIMITS)
        info = analyze(prologue + "CONSTRUCT { ?s ?p ?o } WHERE { { SELECT * { ?s ?p ?o } } }", LIMITS)
        assert info.form == "CONSTRUCT" and info.depth == 3 and info.lookup is None


def test_select_star_keeps_the_order_of_appearance(server: str) -> None:
    resp = requests.get(
        server + "/sparql",
        params={"query": "SELECT * WHERE { ?s ?p psk:Incident } LIMIT 1", "format": "json"},
        timeout=30,
    )
    data = resp.json()
    assert data["head"]["vars"] == ["s", "p"] and set(data["results"]["bindings"][0]) == {"s", "p"}


@pytest.mark.parametrize(
    "query",
    [
        f"SELECT ?p ?o WHERE {{ <{ACLED1}> ?p ?o }}",
        f"SELECT ?o ?x ?p WHERE {{ <{ACLED1}> ?p ?o }}",  # projection order, a variable the pattern does not bind
        "PREFIX inc: <https://w3id.org/pakistan-security-kg/id/incident/> SELECT * { inc:acled-syn0001 ?p ?o.}",
        "PREFIX ask: <https://w3id.org/pakistan-security-kg/id/incident/> # select ?x\nSELECT * { ask:acled-syn0001 ?p ?o }",
        "SELECT * WHERE { ?s a psk:ArmedGroup }",
        "SELECT ?s ?o WHERE { ?s rdfs:label ?o } LIMIT 7 OFFSET 3",
        'ASK { ?g rdfs:label "Baloch Liberation Army"@EN }',
        "ASK { ?s a psk:Incident } LIMIT 0",
        "SELECT ?i WHERE { ?i psk:fatalities 03 }",
        "select ?i where { ?i psk:civilianTargeting false } limit 5",
        'SELECT ?i WHERE { ?i psk:date "2025-01-05"^^xsd:date }',
        "SELECT ?i WHERE { ?i psk:disorderType 'Political violence' } OFFSET 2",
        "SELECT ?s WHERE { ?s a psk:Incident } LIMIT 0",
        "SELECT ?s ?o WHERE { ?s rdfs:label ?o } LIMIT 50",  # exactly the cap: not truncated
        "SELECT * WHERE { ?s ?p ?o }",  # capped at 50 rows, with the truncation header
    ],
)
@pytest.mark.parametrize("fmt", ["json", "xml", "csv", "tsv"])
def test_fast_path_answers_match_the_pool(server: str, query: str, fmt: str) -> None:
    """The same query as a bounded lookup (in-process) and wrapped in a group (the worker pool) gives the same answer."""
    assert bounded_lookup(query, LIMITS) is not None
    where = query.index("{")
    end = query.rindex("}")
    wrapped = query[:where] + "{ {" + query[where + 1 : end] + "} }" + query[end + 1 :]
    assert bounded_lookup(wrapped, LIMITS) is None
    fast = requests.get(server + "/sparql", params={"query": query, "format": fmt}, timeout=30)
    pool = requests.get(server + "/sparql", params={"query": wrapped, "format": fmt}, timeout=30)
    assert fast.status_code == pool.status_code == 200
    if "LIMIT 0" not in query:
        assert b"true" in fast.content if query.startswith("ASK") else int(fast.headers["X-SPARQL-Rows"]) >= 1
    assert fast.headers.get("X-SPARQL-Truncated") == pool.headers.get("X-SPARQL-Truncated")
    assert fast.headers["X-SPARQL-Rows"] == pool.headers["X-SPARQL-Rows"]
    # one engine, one store, one index scan: the same rows in the same order (JSON and XML come from
    # Oxigraph's serializer on the fast path and from ours in the pool, so those are compared parsed)
    if fmt == "json":
        assert json.loads(fast.content) == json.loads(pool.content)
    elif fmt == "xml":
        parsed = [Result.parse(io.BytesIO(r.content), format="xml") for r in (fast, pool)]
        if query.startswith("ASK"):
            assert parsed[0].askAnswer == parsed[1].askAnswer
        else:
            assert parsed[0].vars == parsed[1].vars and list(parsed[0].bindings) == list(parsed[1].bindings)
    else:
        assert fast.content == pool.content


def test_bounded_lookup_answers_while_every_query_worker_is_busy(full_store: Path) -> None:
    backend = LocalBackend(str(full_store), pool_size=1)
    runaway = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
    outcome: list[str] = []

    def run_runaway() -> None:
        try:
            backend.run_query(runaway, "json", max_rows=50, timeout=8, default_graph=None, named_graphs=None)
            outcome.append("finished")
        except QueryTimeout:
            outcome.append("stopped")

    try:
        worker = threading.Thread(target=run_runaway)
        worker.start()
        time.sleep(0.5)  # the only query process is now busy
        lookup = f"SELECT ?p ?o WHERE {{ <{ACLED1}> ?p ?o }}"
        answer, fmt = backend.run_query(
            lookup, "json", max_rows=50, timeout=1, default_graph=None, named_graphs=None, info=analyze(lookup, LIMITS)
        )
        assert isinstance(answer, Answer) and fmt == "json" and answer.rows > 5
        assert not outcome, "the lookup should have been answered while the runaway query still ran"
        other = "SELECT ?p ?o WHERE { { ?s ?p ?o } } LIMIT 1"  # not bounded: needs the busy pool
        with pytest.raises(ServiceBusy, match="busy"):  # it waited and never ran: busy, not a time-out
            backend.run_query(other, "json", max_rows=50, timeout=1, default_graph=None, named_graphs=None)
        worker.join(timeout=30)
        assert outcome == ["stopped"]
    finally:
        backend.close()


def test_form_parsing_matches_urllib() -> None:
    rng = random.Random(11)
    alphabet = "ab%+=&\\x\u00e9\u0634 ?<>#{}\n"
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 24)))
        encoded = text.encode("utf-8")
        # both raw strings (with stray %, + and &) and properly encoded forms
        for data in (encoded, urllib.parse.urlencode({"query": text, "x": text[::-1]}).encode()):
            expected = urllib.parse.parse_qs(data.decode("utf-8"), keep_blank_values=True)
            assert parse_form(data) == expected, data
    assert parse_form(b"query=%E2%9C%93&query=%zz%41") == {"query": ["\u2713", "%zzA"]}


@pytest.mark.parametrize("fmt", ["json", "xml", "csv", "tsv"])
def test_lookup_rows_are_counted_and_capped_whatever_the_values(fmt: str) -> None:
    """Values that look like result syntax do not fool the row count of Oxigraph's serialized output."""
    store = ox.Store()
    s, p = ox.NamedNode("http://example.org/s"), ox.NamedNode("http://example.org/p")
    hostile = ['"type":"uri"', "<result>", '{"type":"literal","value":"x"}', "a\nb", "</results>", "\u0634"]
    for i, text in enumerate(hostile):
        store.add(ox.Quad(s, p, ox.Literal(f"{text} {i}")))
    store.add(ox.Quad(s, p, ox.Literal('"type":"', datatype=ox.NamedNode("http://example.org/type"))))
    total = len(hostile) + 1
    info = analyze("SELECT ?o ?type WHERE { <http://example.org/s> ?type ?o }", LIMITS)
    assert info.lookup is not None
    for cap, expect_rows, expect_truncated in [
        (100, total, False),
        (total, total, False),
        (total - 1, total - 1, True),
        (1, 1, True),
    ]:
        answer, used = answer_lookup(store, info.lookup, fmt, cap)
        assert (answer.rows, answer.truncated, used) == (expect_rows, expect_truncated, fmt)
        if fmt == "json":
            assert len(json.loads(answer.body)["results"]["bindings"]) == expect_rows
        if fmt == "xml":
            assert len(list(Result.parse(io.BytesIO(answer.body), format="xml").bindings)) == expect_rows


def test_a_bug_in_the_protocol_layer_is_a_plain_500(full_store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import server.protocol
    from server import create_app

    def broken(*_args: object, **_kw: object) -> None:
        raise RuntimeError("secret internal detail")

    app = create_app(Settings(store=str(full_store)))
    monkeypatch.setattr(server.protocol, "run_query", broken)
    resp = app.test_client().get("/sparql", query_string={"query": "ASK { ?s ?p ?o . ?o ?q ?r }"})
    assert resp.status_code == 500 and resp.mimetype == "text/plain"
    assert resp.headers["Access-Control-Allow-Origin"] == "*"
    assert b"failed to answer" in resp.data and b"secret" not in resp.data and b"Traceback" not in resp.data
    app.extensions["psk"]["backend"].close()
