"""Reconciliation: names in conflict data mapped onto the entities already in the store, or minted."""

from __future__ import annotations

import re
from functools import lru_cache

import pyoxigraph as ox

from ..namespaces import GEO, PREFIXES, PSK, SKOS, Base, slugify, vocab
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


@lru_cache(maxsize=1 << 16)
def norm(name: str) -> str:
    """Normalize a name for reconciliation: lower case, no punctuation, single spaces."""
    text = re.sub(r"\(\d{4}-\d{0,4}\)", "", name)  # ACLED's "(2018-)" tenure suffixes
    text = re.sub(r"[^\w\s]", " ", text.lower().replace("-", " "))
    return " ".join(text.split())


class Reconciler:
    """Maps names in conflict data to existing entities (labels and aliases), minting new ones."""

    def __init__(self, base: Base, store: ox.Store | None) -> None:
        self.base = base
        self.places: dict[str, str] = {}
        self.provinces: dict[str, str] = {}
        self.states: dict[str, str] = {}
        self.actors: dict[str, str] = {}
        self.with_geometry: set[str] = set()
        self._seen_actors: dict[str, str] = {}
        self.conflicts: dict[str, str] = {}
        if store is not None:
            self._index(store)

    def _index(self, store: ox.Store) -> None:
        q = """SELECT ?s ?name ?kind WHERE {
                 VALUES (?class ?kind) { (psk:State "state") (psk:Province "province") (psk:Place "place")
                   (psk:City "place") (psk:GeographicRegion "place") (psk:District "place")
                   (psk:Actor "actor") (psk:Organization "actor") (psk:ArmedGroup "actor")
                   (psk:StateSecurityForce "actor") (psk:Government "actor") (psk:Community "actor") (psk:Conflict "conflict") }
                 ?s a ?class . { ?s rdfs:label ?name } UNION { ?s skos:altLabel ?name } }"""
        table = {
            "state": self.states,
            "province": self.provinces,
            "place": self.places,
            "actor": self.actors,
            "conflict": self.conflicts,
        }
        for row in solutions(store.query(q, prefixes=PREFIXES)):
            table[value(row["kind"])].setdefault(norm(value(row["name"])), value(row["s"]))
        for q2 in store.quads_for_pattern(None, ox.NamedNode(GEO + "hasGeometry"), None, ox.DefaultGraph()):
            self.with_geometry.add(value(q2.subject))

    def _known_or_minted(
        self, table: dict[str, str], key: str, local: str, cls: str, label: str, out: list[str]
    ) -> tuple[str, bool]:
        """The entity already known under key, or a new one (typed and labelled into out); and whether it is new."""
        if key in table:
            return table[key], False
        s = table[key] = self.base.entity(local)
        out += entity_lines(s, cls, label)
        return s, True

    def conflict(self, name: str, out: list[str]) -> str:
        """UCDP's conflict names: one psk:Conflict each (matched by label, e.g. a curated conflict of the same name)."""
        return self._known_or_minted(self.conflicts, norm(name), f"conflict/ucdp-{slugify(name)}", "Conflict", name, out)[0]

    def state(self, name: str, out: list[str]) -> str:
        return self._known_or_minted(self.states, norm(name), f"state/{slugify(name)}", "State", name, out)[0]

    def province(self, name: str, state: str, out: list[str]) -> str:
        key = ADMIN1_ALIASES.get(norm(name), norm(name))
        s, new = self._known_or_minted(self.provinces, key, f"province/{slugify(name)}", "Province", name, out)
        if new:
            out.append(f"{iri(s)} {iri(PSK + 'country')} {iri(state)} .")
        return s

    def place(self, name: str, kind: str, parent: str, scope: str, out: list[str]) -> str:
        key = norm(name)
        scoped = f"{key}|{parent}"
        if scoped in self.places:
            return self.places[scoped]
        if key in self.places and kind == "City":
            return self.places[key]
        s = self.base.entity(f"place/{scope}/{slugify(name)}")
        self.places[scoped] = s
        out += entity_lines(s, kind, name)
        out.append(f"{iri(s)} {iri(PSK + 'locatedIn')} {iri(parent)} .")
        return s

    def actor(self, name: str, inter: str | None, out: list[str]) -> str:
        cached = self._seen_actors.get(name)
        if cached is not None:
            return cached
        self._seen_actors[name] = found = self._actor(name, inter, out)
        return found

    def _actor(self, name: str, inter: str | None, out: list[str]) -> str:
        candidates = [norm(name)]
        if ":" in name:  # ACLED's "BLA: Baloch Liberation Army"
            abbr, _, full = name.partition(":")
            candidates += [norm(full), norm(abbr)]
        for key in candidates:
            if key in self.actors:
                return self.actors[key]
        label = re.sub(r"\s*\(\d{4}-\d{0,4}\)", "", name).strip()
        s = self.base.entity(f"actor/{slugify(label)}")
        for key in candidates:
            self.actors[key] = s
        out += entity_lines(s, ACTOR_CLASS.get(inter or "", "Actor"), label)
        if label != name:
            out.append(f"{iri(s)} {iri(SKOS + 'altLabel')} {nt_lit(name, lang='en')} .")
        if inter:
            out.append(f"{iri(s)} {iri(PSK + 'interactionType')} {iri(vocab('inter', inter))} .")
        return s


def incident_iri(base: Base, kind: str, event_id: str) -> str:
    """The incident IRI for a dataset's own event id (UCDP ids carry the GED prefix given by parse_ucdp)."""
    return base.entity(f"incident/{kind}-{event_id.lower()}")
