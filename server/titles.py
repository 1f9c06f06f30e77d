"""Page titles for resources that have no label of their own: a statement is titled by what it states, its evidence
and selectors by the statement they support; other IRIs without a label show a CURIE or their local path."""

from __future__ import annotations

import re
import urllib.parse
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


def _statement(iri: str) -> tuple[str, str] | None:
    """What a statement states ("subject — property — object") and the quote of its evidence ("" if none), or None if
    it is not one."""
    rows = psk()["backend"].select(queries.text("statement_title"), {"st": ox.NamedNode(iri)}, max_rows=1).records()
    if not rows:
        return None
    r = rows[0]
    text = " — ".join(
        _term_text(term, label) for term, label in ((r["s"], r["sLabel"]), (r["p"], r["pLabel"]), (r["o"], r["oLabel"]))
    )
    return text, r["quote"].value if r["quote"] is not None else ""


def statement_text(iri: str) -> str | None:
    """What a statement states ("subject — property — object"), or None if it is not one."""
    found = _statement(iri)
    return found[0] if found else None


KINDS = {
    CANONICAL_BASE + "ontology#Statement": "",
    CANONICAL_BASE + "ontology#ClaimGraph": "What the claim asserts: ",
    OA + "SpecificResource": "Evidence for: ",
    OA + "TextQuoteSelector": "Quote of the evidence for: ",
    OA + "TextPositionSelector": "Position of the evidence for: ",
}


def page_title(entity: Entity) -> Title | None:
    """A title for a page whose resource has no label: a statement, evidence, selector or claim graph by what it
    states or belongs to, anything else by its CURIE or local path (None: the entity's own label will do)."""
    if entity.label != entity.iri and not entity.label.startswith(("http://", "https://")):
        return None
    types = {t.iri for t in entity.types}
    kind = next((KINDS[t] for t in KINDS if t in types), None)
    if kind is None:
        return Title(shown(entity.iri, "", psk()["base"]))
    backend = psk()["backend"]
    node = {"node": ox.NamedNode(entity.iri)}
    rows = backend.select(queries.text("statement_of"), node, max_rows=1).records()
    stated = _statement(rows[0]["st"].value) if rows else None
    if stated is not None:
        return Title(kind + stated[0], stated[1])
    rows = backend.select(queries.text("claim_of"), node, max_rows=1).records()
    if rows:
        claim = backend.select(queries.text("claim_title"), {"claim": rows[0]["claim"]}, max_rows=1).records()
        if claim:
            r = claim[0]
            quote = r["quote"].value if r["quote"] is not None else ""
            return Title(kind.replace("for: ", "for the claim: ") + r["label"].value, quote)
    return Title(shown(entity.iri, "", psk()["base"]))


# Local IRIs without a label of their own (evidence and selector nodes, claim graphs): what their last step means.
TAILS = {"evidence": "evidence", "quote": "quote selector", "position": "position selector", "geometry": "geometry"}


def shown(iri: str, label: str, base: Base) -> str:
    """What to show for an IRI: its label, else its CURIE, else its path on this site, else the IRI."""
    if label and label != iri:
        return label
    found = curie(iri)
    if found:
        return found
    path = iri_to_path(iri, base)
    if path and path.startswith("/page/"):
        rest = path[len("/page/") :]
        tail = rest.rsplit("/", 1)[-1]
        if tail in TAILS:
            return TAILS[tail]
        if rest.startswith("id/statement/") and "/" not in rest[len("id/statement/") :]:
            return statement_text(iri) or rest
        if rest.startswith("graph/claim/"):
            return "claim graph " + rest[len("graph/claim/") :]
        return rest
    m = re.match(r"https?://([^/]+)/(?:.*/)?([^/?#]+)/?$", iri)
    if m:  # an external page without a label: its last path step and host, "Quetta (en.wikipedia.org)"
        return f"{urllib.parse.unquote(m.group(2)).replace('_', ' ')} ({m.group(1)})"
    host = re.match(r"https?://([^/?#]+)[/?#]?$", iri)
    return host.group(1) if host else iri


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
