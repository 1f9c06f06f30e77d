"""Query errors in the researcher's terms (server/query_errors.py), checked against pyoxigraph's real parser messages."""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from kg.namespaces import PREFIXES
from server.query_errors import explain_syntax_error, explain_timeout, misspelled_keywords, unknown_prefixes


def parser_message(query: str) -> str:
    try:
        ox.Store().query(query, prefixes=PREFIXES)
    except SyntaxError as exc:
        return str(exc)
    raise AssertionError(f"expected a syntax error from {query!r}")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("SELECT * WHERE { ?s foo:bar ?o }", "unknown prefix 'foo:' in foo:bar (line 1, column 21)"),
        (
            "PREFIX ex: <http://e/>\nSELECT * WHERE { ?s ex:p ?o ; dbo:x ?y }",
            "unknown prefix 'dbo:' in dbo:x (line 2, column 31)",
        ),
        ("SELECT * WHERE { ?s ?p ?o } ORDR BY ?s", "unknown word 'ORDR' (line 1, column 29): did you mean ORDER?"),
        ("SELET * WHERE { ?s ?p ?o }", "unknown word 'SELET' (line 1, column 1): did you mean SELECT?"),
        ("SELECT * WHERE { ?s ?p ?o OPTINAL { ?s ?p ?x } }", "did you mean OPTIONAL?"),
        ("SELECT * WHERE { ?s ?p ?o } LIMT 10", "did you mean LIMIT?"),
        ("SELECT * WHERE { ?s ?p ?o FILTR(?o) }", "did you mean FILTER?"),
        (
            "select * where { ?s ?p ?o . filter(contians(str(?o), 'x')) }",
            "unknown word 'contians' (line 1, column 36): did you mean CONTAINS?",
        ),
        ("SELECT * WHERE { ?s ?p ?o ", "the query ends too early: a '{' or '(' is not closed"),
        ("SELECT * WHERE { ?s ?p }", "syntax error at line 1, column 25: '}' cannot come here"),
        ("SELECT (COUNT(?s) AS ?n WHERE { ?s ?p ?o }", "'WHERE' cannot come here (expected ')')"),
    ],
)
def test_syntax_errors_say_what_is_wrong(query: str, expected: str) -> None:
    message = explain_syntax_error(query, parser_message(query))
    assert expected in message
    assert "\\u{" not in message and "'\\u" not in message  # no lists of Unicode ranges


def test_unknown_prefix_lists_the_prefixes_that_exist() -> None:
    query = "SELECT * WHERE { ?s dbo:x ?o }"
    message = explain_syntax_error(query, parser_message(query))
    assert "PREFIX dbo: <namespace IRI>" in message
    for prefix in PREFIXES:
        assert f"{prefix}:" in message


def test_words_inside_strings_iris_and_comments_are_not_keywords() -> None:
    query = 'SELECT * WHERE { # ORDR in a comment\n ?s rdfs:label "LIMT"@en-GB ; psk:x <http://e/FILTR> . FILTER(?s < 3) }'
    assert misspelled_keywords(query) == []
    assert unknown_prefixes(query) == []
    declared = "PREFIX foo: <http://e/> SELECT * WHERE { ?s foo:p ?o }"
    assert unknown_prefixes(declared) == []


def test_the_error_points_at_the_place() -> None:
    query = "SELECT *\nWHERE {\n  ?s ?p ?o\n} ORDR BY ?s"
    message = explain_syntax_error(query, parser_message(query))
    assert message.endswith("\n  } ORDR BY ?s\n    ^")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("query stopped after the 10 s time limit", ["time limit of 10 s", "LIMIT", "FILTER", "/dumps"]),
        ("the remote store did not answer within 10 s", ["time limit of 10 s", "narrow it"]),
        ("all query workers stayed busy for 10 s", ["busy", "try again"]),
    ],
)
def test_time_limit_messages(raw: str, expected: list[str]) -> None:
    message = explain_timeout(raw, 10.0)
    for part in expected:
        assert part in message
    if "busy" not in raw:
        assert "retry" not in message.lower() and "try again" not in message
