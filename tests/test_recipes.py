"""Research recipes: recipe files are well formed, values are checked and bound as RDF terms, every recipe runs."""

from __future__ import annotations

import html as html_module
import re
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest

from kg.config import Settings
from kg.namespaces import PREFIXES
from server import create_app
from server.recipes import Parameter, ParameterError, RecipeError, bind, load_recipe, recipes, term

BASE = "https://w3id.org/pakistan-security-kg/"
XSD = "http://www.w3.org/2001/XMLSchema#"


@pytest.fixture(scope="module")
def client(full_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    return create_app(Settings(store=str(full_store), saved_queries=str(tmp_path_factory.mktemp("saved")))).test_client()


DATE = Parameter("from", "From", "date")
NUMBER = Parameter("n", "Fatalities", "integer", minimum=0, maximum=1000)
TEXT = Parameter("q", "Words", "string")
ENTITY = Parameter("actor", "Actor", "iri", required=True, classes=("ArmedGroup",))


@pytest.mark.parametrize(
    ("param", "value", "expected"),
    [
        (DATE, "2025-03-11", ox.Literal("2025-03-11", datatype=ox.NamedNode(XSD + "date"))),
        (DATE, "", None),
        (NUMBER, "12", ox.Literal("12", datatype=ox.NamedNode(XSD + "integer"))),
        (TEXT, 'say "hi" }\nLIMIT 1', ox.Literal('say "hi" }\nLIMIT 1')),
        (ENTITY, BASE + "id/group/baloch-liberation-army", ox.NamedNode(BASE + "id/group/baloch-liberation-army")),
    ],
)
def test_values_become_typed_terms(param: Parameter, value: str, expected: Any) -> None:
    assert term(param, value) == expected


@pytest.mark.parametrize(
    ("param", "value", "message"),
    [
        (DATE, "2025-02-30", "From (from): '2025-02-30' is not a date (expected YYYY-MM-DD)"),
        (DATE, "11 March 2025", "is not a date"),
        (DATE, "20250311", "is not a date"),
        (NUMBER, "1.5", "Fatalities (n): '1.5' is not a whole number"),
        (NUMBER, "5000", "5000 is outside 0–1000"),
        (TEXT, "x" * 201, "at most 200 characters"),
        (ENTITY, "", "Actor (actor): a value is required"),
        (ENTITY, "http://example.org/a b", "is not a valid IRI"),
        (ENTITY, "Nobody at all", "no ArmedGroup is called 'Nobody at all'"),
    ],
)
def test_bad_values_are_refused_with_the_parameter_named(param: Parameter, value: str, message: str) -> None:
    with pytest.raises(ParameterError) as err:
        term(param, value, resolve=lambda label, classes: None)
    assert message in str(err.value)


def test_binding_is_a_values_row_of_serialized_terms() -> None:
    recipe = recipes()["incidents-in-a-province"]
    terms = {
        "province": ox.NamedNode(BASE + "id/province/balochistan"),
        "from": ox.Literal("2025-01-01", datatype=ox.NamedNode(XSD + "date")),
        "to": None,
        "actor": None,
    }
    bound = bind(recipe, terms)
    assert (
        f'VALUES (?province ?from ?to ?actor) {{ (<{BASE}id/province/balochistan> "2025-01-01"^^<{XSD}date> UNDEF UNDEF) }}'
        in bound
    )
    # a string value cannot leave its literal
    text_recipe = recipe.__class__("t", "t", "", "SELECT ?s WHERE { ?s rdfs:label ?q }", (TEXT,))
    hostile = bind(text_recipe, {"q": ox.Literal('x" } } INSERT DATA { <a> <b> <c> } #')})
    parsed = ox.Store().query(hostile, prefixes=PREFIXES)
    assert isinstance(parsed, ox.QuerySolutions)


def test_every_recipe_file_is_well_formed_and_runs(client: Any) -> None:
    assert len(recipes()) >= 4
    for slug, recipe in recipes().items():
        assert recipe.title and recipe.description, slug
        resp = client.get(f"/recipes/{slug}")
        assert resp.status_code == 200, slug
        fields = re.findall(r'name="(\w+)"[^>]*value="([^"]*)"', resp.get_data(as_text=True))
        defaults = {name: html_module.unescape(value) for name, value in fields}
        ran = client.get(f"/recipes/{slug}", query_string={**defaults, "run": "1"})
        html = ran.get_data(as_text=True)
        assert ran.status_code == 200, (slug, html[-2000:])
        assert "Cite this query: Pakistan Security KG, dataset version" in html, slug
        assert 'class="results"' in html and "<tbody>\n<tr>" in html, f"{slug}: no rows with the defaults"


def test_a_broken_recipe_file_is_named(tmp_path: Path) -> None:
    (tmp_path / "r.rq").write_text("SELECT ?x WHERE { ?x ?p ?o }")
    (tmp_path / "r.yaml").write_text("title: T\nparameters:\n  - name: y\n    type: iri\n")
    with pytest.raises(RecipeError, match=r"r.yaml: parameter y: the query never uses \?y"):
        load_recipe(tmp_path / "r.rq")
    (tmp_path / "r.yaml").write_text("title: T\nparameters:\n  - name: x\n    type: uri\n")
    with pytest.raises(RecipeError, match="'type' must be one of iri, date, integer, string"):
        load_recipe(tmp_path / "r.rq")


def test_recipe_form_run_cite_and_errors(client: Any) -> None:
    page = client.get(
        "/recipes/incidents-in-a-province",
        query_string={"run": "1", "province": "Balochistan", "from": "2025-01-01", "to": "2025-12-31", "actor": ""},
    )
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Jaffar Express hijacking" in html  # the typed label was resolved to the province's IRI
    link = re.search(r'<a href="(http://[^"]+/query\?q=([0-9a-f]{16}))">', html)
    assert link, "no short link in the citation"
    assert client.get(f"/query?q={link.group(2)}").status_code == 200
    bad = client.get(
        "/recipes/incidents-in-a-province", query_string={"run": "1", "province": "Balochistan", "from": "2025-13-01"}
    )
    assert bad.status_code == 400 and "From (from): &#39;2025-13-01&#39; is not a date" in bad.get_data(as_text=True)
    assert client.get("/recipes/nope").status_code == 404
    # a name typed over an earlier choice wins over the hidden IRI of that choice (the form without JavaScript)
    typed = client.get(
        "/recipes/incidents-in-a-province",
        query_string={"run": "1", "province": "Punjab", "province_iri": BASE + "id/province/balochistan", "from": ""},
    ).get_data(as_text=True)
    assert f'name="province_iri" value="{BASE}id/province/punjab"' in typed and "Jaffar Express hijacking" not in typed
    assert "Claims by a speaker" in client.get("/recipes").get_data(as_text=True)
