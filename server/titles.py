"""Page titles for resources that have no label of their own: a statement is titled by what it states, its evidence
and selectors by the statement they support; other IRIs without a label show a CURIE or their local path."""

from __future__ import annotations

from dataclasses import dataclass

import pyoxigraph as ox
from markupsafe import Markup

from kg import queries
from kg.describe import Entity, curie
from kg.namespaces import CANONICAL_BASE, Base

from .util import iri_to_path, psk

OA = "http://www.w3.org/ns/oa#"


@dataclass(frozen=True)
class Title:
    text: str
    quote: str = ""


def _term_text(term: ox.NamedNode | ox.Literal | ox.BlankNode, label: ox.Literal | None) -> str:
    if label is not None:
        return label.value
    if isinstance(term, ox.Literal):
        return term.value
    return curie(term.value) or term.value.rsplit("/", 1)[-1]


def page_title(entity: Entity) -> Title | None:
    """A title for a statement, evidence or selector page (None: the entity's own label will do)."""
    types = {t.iri for t in entity.types}
    kinds = {
        CANONICAL_BASE + "ontology#Statement": "",
        OA + "SpecificResource": "Evidence for: ",
        OA + "TextQuoteSelector": "Quote of the evidence for: ",
        OA + "TextPositionSelector": "Position of the evidence for: ",
    }
    kind = next((kinds[t] for t in kinds if t in types), None)
    if kind is None:
        return None
    ctx = psk()
    rows = ctx["backend"].select(queries.text("statement_title"), {"node": ox.NamedNode(entity.iri)}, max_rows=1).records()
    if not rows:
        return None
    r = rows[0]
    stated = " — ".join(
        _term_text(term, label) for term, label in ((r["s"], r["sLabel"]), (r["p"], r["pLabel"]), (r["o"], r["oLabel"]))
    )
    return Title(kind + stated, r["quote"].value if r["quote"] is not None else "")


def shown(iri: str, label: str, base: Base) -> str:
    """What to show for an IRI: its label, else its CURIE, else its path on this site, else the IRI."""
    if label and label != iri:
        return label
    found = curie(iri)
    if found:
        return found
    path = iri_to_path(iri, base)
    return path[len("/page/") :] if path and path.startswith("/page/") else iri


def iri_link(iri: str, label: str = "", link_external: bool = True) -> Markup:
    """An IRI as the page shows it: its label linked to its page here (ontology terms to the ontology documentation);
    an external vocabulary term as its CURIE with the IRI as tooltip (linked only when link_external)."""
    base = psk()["base"]
    text = shown(iri, label, base)
    local = iri_to_path(iri, base)
    if local:
        return Markup('<a href="{}" title="{}">{}</a>').format(local, iri, text)
    if not link_external:
        return Markup('<abbr class="curie" title="{}">{}</abbr>').format(iri, text)
    return Markup('<a class="external" href="{}" title="{}">{}</a>').format(iri, iri, text)
