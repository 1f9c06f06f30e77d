"""Reconciliation: names in conflict data mapped onto the curated entities, or minted; every decision explained.

Rules, in the order they are tried (README, "Reconciliation"):

* Only curated entities are matched (the seed records, with their labels and sourced aliases); entities that
  loads minted never are, so a load decides the same way whatever was loaded before it, and reloads are exact.
* Actors: the name as given, then its ACLED forms: without a tenure period ("(2018-)"), without a trailing
  country qualifier ("(Pakistan)"), the long name and the abbreviation of "BLA: Baloch Liberation Army" and of
  "Baloch Liberation Army (BLA)", and "<X> Ethnic Group" as the community X. Names are compared after
  normalisation (case, punctuation, spaces). Every form that matches must name the same entity: if two forms, or
  one alias, point to different entities the name is ambiguous and a new entity is minted, as for an unknown name.
* Provinces and states: label or alias (plus a few spellings of provinces in ADMIN1_ALIASES). Districts, admin3
  areas and locations: within their parent only (a location matches a curated city or region only if that place
  lies in the event's province); otherwise minted under the parent's IRI, so same-named towns of two provinces
  (or two districts) stay apart.
* Each distinct name's decision is a psk:NameMatch (the name, the rule, the label or alias that matched) linked
  from the entity by psk:reconciliation, shown on its page; `kg load --explain` prints them all.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import pyoxigraph as ox

from ..namespaces import GEO, PREFIXES, PSK, RDF, RDFS, SCHEMA, SKOS, VOCAB, XSD, Base, vocab
from ..sparql.execute import solutions, value
from .acled import ACTOR_CLASS
from .ntriples import entity_lines, iri, nt_lit

# Name variants in conflict data that differ from the curated labels beyond case and punctuation.
ADMIN1_ALIASES = {
    "baluchistan": "balochistan",
    "balochistan province": "balochistan",
    "khyber pakhtoonkhwa": "khyber pakhtunkhwa",
    "khyber pakhtunkhwa province": "khyber pakhtunkhwa",
    "north west frontier province": "khyber pakhtunkhwa",
    "punjab province": "punjab",
}
MATCH_RULE = VOCAB + "match-rule"
MINTED_RULES = ("minted", "ambiguous")
PERIOD = re.compile(r"\s*\((?:\d{4})?\s*-\s*(?:\d{4})?\)")  # "(2018-)", "(1999-2008)", "(-2008)"
TRAILING_PAREN = re.compile(r"^(?P<name>.*\S)\s*\((?P<inner>[^()]+)\)$")
ABBREVIATION = re.compile(r"[A-Z][A-Z0-9&\-]{1,9}")


@lru_cache(maxsize=1 << 16)
def norm(name: str) -> str:
    """Normalize a name for comparison: case-folded, no punctuation, single spaces (any script)."""
    text = unicodedata.normalize("NFKC", name).casefold().replace("-", " ")
    text = re.sub(r"[^\w\s]", " ", text)
    return " ".join(text.split())


@lru_cache(maxsize=1 << 16)
def name_slug(name: str) -> str:
    """An IRI segment for a name: ASCII for Latin script ('Peshāwar' -> 'peshawar'), else the name's own letters
    ('تحریک طالبان' -> 'تحریک-طالبان'); a name without letters or digits gets a hash of itself."""
    decomposed = "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c))
    if decomposed.isascii():
        slug = re.sub(r"[^a-z0-9]+", "-", decomposed.lower()).strip("-")
    else:
        slug = "-".join(re.findall(r"\w+", unicodedata.normalize("NFKC", name).casefold()))
    return slug or "name-" + hashlib.sha1(name.encode("utf-8")).hexdigest()[:12]


def actor_forms(name: str) -> list[tuple[str, str]]:
    """The forms of an ACLED actor name to look up, each with how it was derived from the name."""
    forms = [(name, "the name as given")]
    base = PERIOD.sub("", name).strip()
    if base != name:
        forms.append((base, f"without the period {PERIOD.search(name).group(0).strip()!r}"))  # type: ignore[union-attr]
    m = TRAILING_PAREN.match(base)
    if m and ABBREVIATION.fullmatch(m["inner"]):
        forms += [(m["name"], f"without the abbreviation '({m['inner']})'"), (m["inner"], "its abbreviation")]
    elif m:
        forms.append((m["name"], f"without the qualifier '({m['inner']})'"))
        base = m["name"]
    if ":" in base:  # "BLA: Baloch Liberation Army"
        abbr, _, full = base.partition(":")
        forms += [(full.strip(), "the long name after ':'"), (abbr.strip(), "the abbreviation before ':'")]
    if base.lower().endswith(" ethnic group"):
        forms.append((base[: -len(" ethnic group")], "the community of '<X> Ethnic Group'"))
    return forms


def minted_label(name: str) -> str:
    """The label of a minted actor: the name without ACLED's tenure period."""
    return PERIOD.sub("", name).strip() or name


@dataclass(frozen=True)
class NameMatch:
    """How one distinct name was reconciled."""

    category: str  # actor | state | province | district | admin3 | location
    name: str  # as the dataset spells it
    entity: str
    rule: str  # label | alias | acled-form | within-parent | minted | ambiguous
    matched: str  # the label or alias that matched, or why nothing did
    parent: str = ""  # places: the entity the name was looked up in

    def explain(self) -> str:
        if self.rule == "minted":
            return f"{self.category} {self.name!r}: new entity ({self.matched})"
        if self.rule == "ambiguous":
            return f"{self.category} {self.name!r}: new entity, ambiguous ({self.matched})"
        return f"{self.category} {self.name!r}: {self.rule} rule, {self.matched}"


@dataclass(frozen=True)
class Known:
    entity: str
    text: str  # the label or alias as curated
    is_label: bool
    classes: frozenset[str]
    province: str = ""  # places: the province it lies in


INDEX_QUERY = """SELECT ?s ?name ?isLabel ?kind (GROUP_CONCAT(DISTINCT STR(?class); separator=" ") AS ?classes)
       (SAMPLE(?prov) AS ?province) WHERE {
  VALUES (?class ?kind) { (psk:State "state") (psk:Province "province") (psk:City "place") (psk:GeographicRegion "place")
    (psk:Actor "actor") (psk:Organization "actor") (psk:ArmedGroup "actor") (psk:StateSecurityForce "actor")
    (psk:Government "actor") (psk:Community "actor") (psk:Person "actor") (psk:Conflict "conflict") }
  ?s a ?class .
  { ?s rdfs:label ?name BIND(true AS ?isLabel) } UNION { ?s skos:altLabel ?name BIND(false AS ?isLabel) }
  FILTER NOT EXISTS { ?s psk:reconciliation/psk:matchRule ?rule VALUES ?rule { <RULE/minted> <RULE/ambiguous> } }
  OPTIONAL { ?s psk:locatedIn+ ?prov . ?prov a psk:Province }
} GROUP BY ?s ?name ?isLabel ?kind""".replace("RULE", MATCH_RULE)


class Reconciler:
    """Maps names in conflict data to curated entities (labels and aliases), minting new ones; see the module doc."""

    def __init__(self, base: Base, store: ox.Store | None) -> None:
        self.base = base
        self.index: dict[str, dict[str, list[Known]]] = {k: {} for k in ("state", "province", "place", "actor", "conflict")}
        self.curated_geometry: set[str] = set()  # curated places with coordinates of their own
        self.with_geometry: set[tuple[str, str]] = set()  # (place, point) written by this run
        self.matches: dict[tuple[str, str, str], NameMatch] = {}  # (category, parent, name) -> decision
        self._typed: set[tuple[str, str | None]] = set()  # (actor, inter) typing written by this run
        self._actors: dict[str, str] = {}
        self._places: dict[tuple[str, str, str], str] = {}
        if store is not None:
            self._index(store)

    def _index(self, store: ox.Store) -> None:
        for row in solutions(store.query(INDEX_QUERY, prefixes=PREFIXES)):
            known = Known(
                value(row["s"]),
                value(row["name"]),
                value(row["isLabel"]) == "true",
                frozenset(value(row["classes"]).split()),
                value(row["province"]),
            )
            entries = self.index[value(row["kind"])].setdefault(norm(known.text), [])
            if all(k.entity != known.entity or (k.is_label, k.text) != (known.is_label, known.text) for k in entries):
                entries.append(known)
        for q in store.quads_for_pattern(None, ox.NamedNode(GEO + "hasGeometry"), None, ox.DefaultGraph()):
            # places minted by loads (under id/place/) get every point their rows give, whatever the load order
            if isinstance(q.subject, ox.NamedNode) and not q.subject.value.startswith(self.base.entity("place/")):
                self.curated_geometry.add(q.subject.value)

    # -- decisions -----------------------------------------------------------------------------------

    def _lookup(
        self, kind: str, forms: list[tuple[str, str]], accept: Callable[[Known], bool] = lambda _k: True
    ) -> tuple[str | None, str, str]:
        """(entity, rule, what matched) for the first form found; (None, 'ambiguous'|'minted', why) otherwise."""
        table = self.index[kind]
        hits: list[tuple[Known, str, str]] = []
        for form, how in forms:
            for k in table.get(norm(form), []):
                if accept(k):
                    hits.append((k, form, how))
        entities = sorted({k.entity for k, _f, _h in hits})
        if not entities:
            return None, "minted", "no curated label or alias matches"
        if len(entities) > 1:
            return None, "ambiguous", "matches " + ", ".join(entities)
        k, form, how = hits[0]
        what = f"{'label' if k.is_label else 'alias'} {k.text!r}"
        if how == "the name as given":
            return k.entity, "label" if k.is_label else "alias", f"matches the {what}"
        return k.entity, "acled-form", f"{how} ({form!r}) matches the {what}"

    def _record(self, match: NameMatch, out: list[str], as_data: bool) -> None:
        key = (match.category, match.parent, match.name)
        if key in self.matches:
            return
        self.matches[key] = match
        if not as_data:
            return
        digest = hashlib.sha1("|".join(key).encode("utf-8")).hexdigest()[:10]
        m = self.base.entity(f"name-match/{match.category}/{name_slug(match.name)}-{digest}")
        out += [
            f"{iri(match.entity)} {iri(PSK + 'reconciliation')} {iri(m)} .",
            f"{iri(m)} {iri(RDF + 'type')} {iri(PSK + 'NameMatch')} .",
            f"{iri(m)} {iri(RDFS + 'label')} {nt_lit(match.explain(), lang='en')} .",
            f"{iri(m)} {iri(PSK + 'matchedName')} {nt_lit(match.name)} .",
            f"{iri(m)} {iri(PSK + 'matchRule')} {iri(f'{MATCH_RULE}/{match.rule}')} .",
        ]

    def respelled(self, category: str, name: str, parent: str = "") -> bool:
        """Whether the name was matched with an entity whose label is spelled differently (the row keeps the name)."""
        m = self.matches.get((category, parent, name))
        return m is not None and m.rule not in MINTED_RULES and m.matched != f"matches the label {name!r}"

    def _mint(self, s: str, cls: str, label: str, out: list[str]) -> None:
        out += entity_lines(s, cls, label)

    def _by_name(self, category: str, local: str, cls: str, name: str, out: list[str]) -> str:
        """An entity matched by its name as given, or minted at `local` + slug (the decision recorded either way)."""
        found, rule, why = self._lookup(category, [(name, "the name as given")])
        if found is None:
            found = self.base.entity(f"{local}{name_slug(name)}")
            self._mint(found, cls, name, out)
        self._record(NameMatch(category, name, found, rule, why), out, as_data=True)
        return found

    def conflict(self, name: str, out: list[str]) -> str:
        """UCDP's conflict names: one psk:Conflict each (matched by label, e.g. a curated conflict of the same name)."""
        return self._by_name("conflict", "conflict/ucdp-", "Conflict", name, out)

    def state(self, name: str, out: list[str]) -> str:
        return self._by_name("state", "state/", "State", name, out)

    def province(self, name: str, state: str, out: list[str]) -> str:
        forms = [(name, "the name as given")]
        if norm(name) in ADMIN1_ALIASES:
            forms.append((ADMIN1_ALIASES[norm(name)], "a known spelling of the province"))
        found, rule, why = self._lookup("province", forms)
        if found is None:
            found = self.base.entity(f"province/{name_slug(name)}")
            self._mint(found, "Province", name, out)
            out.append(f"{iri(found)} {iri(PSK + 'country')} {iri(state)} .")
        self._record(NameMatch("province", name, found, rule, why), out, as_data=True)
        return found

    def place(self, name: str, category: str, parent: str, province: str, out: list[str]) -> str:
        """An admin2 (district), admin3 or location name within its parent; see the module doc."""
        key = (category, parent, name)
        if key in self._places:
            return self._places[key]
        found: str | None = None
        if category == "location" and province:
            hit, _rule, why = self._lookup("place", [(name, "the name as given")], lambda k: k.province == province)
            if hit is not None:
                found = hit
                self._record(NameMatch(category, name, hit, "within-parent", f"{why}, in {province}", parent), out, True)
        if found is None:
            if parent.startswith(self.base.entity("place/")):
                found = f"{parent}/{name_slug(name)}"
            else:  # under a province or state: place/<its local name>/...
                found = self.base.entity(f"place/{parent.rsplit('/', 1)[-1]}/{name_slug(name)}")
            cls = {"district": "District", "admin3": "AdminArea3", "location": "Location"}[category]
            self._mint(found, cls, name, out)
            out.append(f"{iri(found)} {iri(PSK + 'locatedIn')} {iri(parent)} .")
            self._record(NameMatch(category, name, found, "minted", f"new place in {parent}", parent), out, False)
        self._places[key] = found
        return found

    def geometry(self, place: str, lat: float, lon: float, out: list[str]) -> None:
        """Coordinates for a minted place (one point per distinct pair, so the load order never matters)."""
        if place in self.curated_geometry:
            return
        la, lo = decimal(lat), decimal(lon)
        if (place, la + " " + lo) in self.with_geometry:
            return
        self.with_geometry.add((place, la + " " + lo))
        geom = f"{place}/point/{la}_{lo}"
        out += [
            f"{iri(place)} {iri(GEO + 'hasGeometry')} {iri(geom)} .",
            f"{iri(geom)} {iri(RDF + 'type')} {iri(GEO + 'Geometry')} .",
            f"{iri(geom)} {iri(RDFS + 'label')} {nt_lit(f'point {la}, {lo}', lang='en')} .",
            f"{iri(geom)} {iri(GEO + 'asWKT')} {nt_lit(f'POINT({lo} {la})', GEO + 'wktLiteral')} .",
            f"{iri(place)} {iri(SCHEMA + 'latitude')} {nt_lit(la, XSD + 'decimal')} .",
            f"{iri(place)} {iri(SCHEMA + 'longitude')} {nt_lit(lo, XSD + 'decimal')} .",
        ]

    def actor(self, name: str, inter: str | None, out: list[str]) -> str:
        found = self._actors.get(name)
        if found is None:
            found = self._actors[name] = self._actor(name, out)
        if (found, inter) not in self._typed and found.startswith(self.base.entity("actor/")):
            self._typed.add((found, inter))
            out.append(f"{iri(found)} {iri(RDF + 'type')} {iri(PSK + ACTOR_CLASS.get(inter or '', 'Actor'))} .")
            if inter:
                out.append(f"{iri(found)} {iri(PSK + 'interactionType')} {iri(vocab('inter', inter))} .")
        return found

    def _actor(self, name: str, out: list[str]) -> str:
        forms = actor_forms(name)
        community = next((f for f, how in forms if how.startswith("the community")), None)

        def accept(k: Known) -> bool:  # "<X> Ethnic Group" names a community, nothing else
            return not (community and norm(community) == norm(k.text)) or PSK + "Community" in k.classes

        found, rule, why = self._lookup("actor", forms, accept)
        if found is None:
            label = minted_label(name)
            found = self.base.entity(f"actor/{name_slug(label)}")
            out.append(f"{iri(found)} {iri(RDFS + 'label')} {nt_lit(label, lang='en')} .")
            if label != name:
                out.append(f"{iri(found)} {iri(SKOS + 'altLabel')} {nt_lit(name, lang='en')} .")
        self._record(NameMatch("actor", name, found, rule, why), out, as_data=True)
        return found


def decimal(value: float) -> str:
    """A float as an xsd:decimal lexical form (the shortest that reads back the same; never an exponent)."""
    from decimal import Decimal

    text = format(Decimal(repr(value)), "f")
    return text if "." in text else text + ".0"


def incident_iri(base: Base, kind: str, event_id: str) -> str:
    """The incident IRI for a dataset's own event id (UCDP ids carry the GED prefix given by parse_ucdp)."""
    return base.entity(f"incident/{kind}-{event_id.lower()}")
