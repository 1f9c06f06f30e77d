"""Research recipes: parameterised example queries described as data (server/recipes/<slug>.rq + <slug>.yaml),
shown as forms with typed fields. Each parameter's value is checked against its type and made an RDF term with
pyoxigraph (IRIs through NamedNode, dates and numbers as typed literals), then bound by a VALUES row at the start of
the query's WHERE clause, so the bound query is a complete query that the endpoint, downloads and links re-run."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import yaml
from flask import Blueprint, Response, abort, render_template, request, url_for

from kg.errors import ParameterError, RecipeError
from kg.namespaces import PSK, XSD

from .util import HERE, iri_to_path, psk, public

bp = Blueprint("recipes", __name__)

RECIPES = HERE / "recipes"
TYPES = ("iri", "date", "integer", "string")
_WHERE = re.compile(r"\bWHERE\s*\{", re.IGNORECASE)


@dataclass(frozen=True)
class Parameter:
    name: str
    label: str
    type: str
    required: bool = False
    default: str = ""
    help: str = ""
    classes: tuple[str, ...] = ()  # for IRIs: the ontology classes (local names) that the autocomplete offers
    minimum: int | None = None
    maximum: int | None = None


@dataclass(frozen=True)
class Recipe:
    slug: str
    title: str
    description: str
    query: str
    parameters: tuple[Parameter, ...] = field(default_factory=tuple)
    views: tuple[str, ...] = ()  # the result views it is meant for (table, map, timeline, chart)


def _parameter(path: Path, raw: Any, names: set[str]) -> Parameter:
    name = raw.get("name", "?") if isinstance(raw, dict) else repr(raw)
    where = f"{path.name}: parameter {name}"
    if not isinstance(raw, dict) or not isinstance(raw.get("name"), str) or not re.fullmatch(r"[A-Za-z_]\w*", raw["name"]):
        raise RecipeError(f"{where}: expected a mapping with a 'name' that is a SPARQL variable name")
    if raw.get("type") not in TYPES:
        raise RecipeError(f"{where}: 'type' must be one of {', '.join(TYPES)}, not {raw.get('type')!r}")
    if raw["name"] not in names:
        raise RecipeError(f"{where}: the query never uses ?{raw['name']}")
    classes = raw.get("class", ())
    return Parameter(
        name=raw["name"],
        label=str(raw.get("label", raw["name"])),
        type=raw["type"],
        required=bool(raw.get("required", False)),
        default=str(raw.get("default", "")),
        help=str(raw.get("help", "")),
        classes=(classes,) if isinstance(classes, str) else tuple(classes),
        minimum=raw.get("min"),
        maximum=raw.get("max"),
    )


def load_recipe(rq: Path) -> Recipe:
    meta_path = rq.with_suffix(".yaml")
    if not meta_path.exists():
        raise RecipeError(f"{rq.name}: no {meta_path.name} beside it")
    meta = yaml.safe_load(meta_path.read_text(encoding="utf-8"))
    if not isinstance(meta, dict) or not isinstance(meta.get("title"), str):
        raise RecipeError(f"{meta_path.name}: expected a mapping with a 'title'")
    text = rq.read_text(encoding="utf-8")
    if not _WHERE.search(text):
        raise RecipeError(f"{rq.name}: no 'WHERE {{' to bind the parameters at")
    names = set(re.findall(r"[?$](\w+)", text))
    params = tuple(_parameter(meta_path, p, names) for p in meta.get("parameters") or [])
    return Recipe(rq.stem, meta["title"], str(meta.get("description", "")), text, params, tuple(meta.get("views") or ()))


@cache
def recipes() -> dict[str, Recipe]:
    return {r.slug: r for r in (load_recipe(p) for p in sorted(RECIPES.glob("*.rq")))}


# -- values -> terms ---------------------------------------------------------------------------------------


def term(param: Parameter, value: str, resolve: Any = None) -> ox.NamedNode | ox.Literal | None:
    """The RDF term for a submitted value, or None for an empty optional one. resolve(label, classes) -> IRI | None
    turns a typed label (the no-JavaScript form) into an IRI."""
    value = value.strip()
    if not value:
        if param.required:
            raise ParameterError(f"{param.label} ({param.name}): a value is required")
        return None
    if param.type == "date":
        try:
            datetime.date.fromisoformat(value)
        except ValueError:
            raise ParameterError(f"{param.label} ({param.name}): {value!r} is not a date (expected YYYY-MM-DD)") from None
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise ParameterError(f"{param.label} ({param.name}): {value!r} is not a date (expected YYYY-MM-DD)")
        return ox.Literal(value, datatype=ox.NamedNode(XSD + "date"))
    if param.type == "integer":
        if not re.fullmatch(r"[+-]?\d{1,12}", value):
            raise ParameterError(f"{param.label} ({param.name}): {value!r} is not a whole number")
        n = int(value)
        if (param.minimum is not None and n < param.minimum) or (param.maximum is not None and n > param.maximum):
            raise ParameterError(f"{param.label} ({param.name}): {n} is outside {param.minimum}–{param.maximum}")
        return ox.Literal(str(n), datatype=ox.NamedNode(XSD + "integer"))
    if param.type == "string":
        if len(value) > 200:
            raise ParameterError(f"{param.label} ({param.name}): at most 200 characters")
        return ox.Literal(value)
    # an IRI: a full http(s) IRI, or a label the autocomplete did not turn into one
    if re.match(r"^https?://", value):
        try:
            return ox.NamedNode(value)
        except ValueError:
            raise ParameterError(f"{param.label} ({param.name}): {value!r} is not a valid IRI") from None
    found = resolve(value, param.classes) if resolve else None
    if found is None:
        kinds = " or ".join(param.classes) or "entity"
        raise ParameterError(f"{param.label} ({param.name}): no {kinds} is called {value!r}; pick one from the suggestions")
    return ox.NamedNode(found)


def bind(recipe: Recipe, terms: dict[str, ox.NamedNode | ox.Literal | None]) -> str:
    """The recipe's query with one VALUES row binding its parameters (UNDEF for empty optional ones)."""
    if not recipe.parameters:
        return recipe.query
    names = " ".join(f"?{p.name}" for p in recipe.parameters)
    row = " ".join(str(terms[p.name]) if terms.get(p.name) is not None else "UNDEF" for p in recipe.parameters)
    m = _WHERE.search(recipe.query)
    assert m is not None  # checked when loaded
    return f"{recipe.query[: m.end()]}\n  VALUES ({names}) {{ ({row}) }}{recipe.query[m.end() :]}"


def resolve_label(label: str, classes: tuple[str, ...]) -> str | None:
    """An entity whose label is exactly this (case-insensitive), of one of the classes; None if none or several."""
    hits = psk()["reader"].search(label, limit=20)
    exact = [h for h in hits if h.label.lower() == label.lower() and (not classes or h.type in classes)]
    return exact[0].iri if len(exact) == 1 else None


def submitted(param: Parameter) -> str:
    """The submitted value: for an entity, the IRI chosen from the suggestions (hidden <name>_iri field) while the
    visible field still shows that choice; a name typed over it (or sent without JavaScript) wins."""
    text = request.args.get(param.name, "")
    iri = request.args.get(f"{param.name}_iri", "")
    if param.type == "iri" and iri and text.strip() in ("", iri, label_of(iri)):
        return iri
    return text


def default_value(param: Parameter) -> str:
    """Defaults of IRI parameters are written relative to the base (id/province/balochistan)."""
    if param.type == "iri" and param.default and not param.default.startswith(("http://", "https://")):
        return str(psk()["base"].base + param.default)
    return param.default


def label_of(iri: str) -> str:
    from .labels import describe_iris

    return describe_iris([iri]).get(iri, {}).get("label") or iri


# -- pages -------------------------------------------------------------------------------------------------


@bp.get("/recipes")
def index() -> str:
    return render_template("recipes.html", recipes=list(recipes().values()))


@bp.get("/recipes/<slug>")
def recipe_page(slug: str) -> Response:
    from .sparql_endpoint import run_for_page, save_query

    recipe = recipes().get(slug)
    if recipe is None:
        abort(404, description=f"no recipe is called {slug!r}; see /recipes")
    ran = request.args.get("run") == "1"
    values: dict[str, str] = {}
    shown: dict[str, str] = {}  # what the visible field shows (labels for IRIs)
    errors: list[str] = []
    terms: dict[str, ox.NamedNode | ox.Literal | None] = {}
    chosen: dict[str, str] = {}  # the IRI picked from the suggestions (the hidden <name>_iri field)
    for p in recipe.parameters:
        raw = submitted(p) if ran else default_value(p)
        try:
            terms[p.name] = term(p, raw, resolve_label)
        except ParameterError as exc:
            errors.append(str(exc))
            terms[p.name] = None
        t = terms[p.name]
        values[p.name] = t.value if isinstance(t, ox.NamedNode) else raw
        shown[p.name] = label_of(t.value) if isinstance(t, ox.NamedNode) else raw
        chosen[p.name] = t.value if isinstance(t, ox.NamedNode) else ""
    bound = bind(recipe, terms) if not errors else recipe.query
    result, error, link = None, None, None
    if ran and not errors:
        result, error = run_for_page(bound)
        try:
            link = public(url_for("sparql.query_page", q=save_query(bound)))
        except OSError:  # no writable folder for short links: cite the query by its full URL
            link = public(url_for("sparql.query_page", query=bound))
    ctx = psk()
    html = render_template(
        "recipe.html",
        recipe=recipe,
        values=values,
        shown=shown,
        chosen=chosen,
        errors=errors,
        ran=ran and not errors,
        bound=bound,
        result=result,
        error=error,
        link=link,
        version=ctx["backend"].version(),
        today=datetime.date.today().isoformat(),
        endpoint=public(url_for("sparql.sparql")),
        psk_ns=PSK,
        page_of=lambda iri: iri_to_path(iri, ctx["base"]),
    )
    return Response(html, status=400 if errors or error else 200, mimetype="text/html")
