"""Seed loader: the source article and the curated YAML records become quads.

Every statement read from the article carries a Web Annotation selector pair (exact quote and
character offsets) that the loader checks against the article text. Reported statements go to the
default graph; the author's opinions and contested assertions go to a named graph per claim.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import yaml

from .errors import QuoteMismatch, SeedError
from .namespaces import (
    DCTERMS,
    OA,
    OWL,
    PROV,
    PSK,
    RDF,
    RDFS,
    SCHEMA,
    SKOS,
    VOCAB_SCHEMES,
    WD,
    XSD,
    Base,
    vocab,
)
from .ontology import ROOT, about_roles, classes, properties

SEEDS_DIR = ROOT / "seeds"
ARTICLE_META = SEEDS_DIR / "article" / "article.yaml"
CURATED_DIR = SEEDS_DIR / "curated"

N = ox.NamedNode

# The keys each kind of record may have; anything else is a typo and stops the build.
ENTITY_KEYS = frozenset(
    {
        "id",
        "type",
        "label",
        "aliases",
        "description",
        "wikidata",
        "url",
        "publisher",
        "date",
        "accessed",
        "note",
        "mention",
        "facts",
    }
)
FACT_KEYS = frozenset({"p", "o", "quote", "start", "end", "source"})
QUOTE_KEYS = frozenset({"quote", "start", "end"})
CLAIM_KEYS = frozenset(
    {"id", "label", "status", "claim_type", "quote", "start", "end", "about", "causes", "assertions", "contested_by", "note",
     "speaker", "stance", "hedge", "proposition", "reported_in", "supported_by"}
)  # fmt: skip
HEDGE_KEYS = frozenset({"term", "certainty"})
ALIAS_KEYS = frozenset({"name", "quote", "start", "end", "source"})
STANCES = ("asserts", "alleges", "denies", "disputes")
CERTAINTY = ("probable", "possible", "hearsay")
FIGURE_KEYS = frozenset(
    {"id", "label", "kind", "value", "min", "qualifier", "as_reported", "stated_by", "relayed_by", "reported_in", "date", "about",
     "note"}
)  # fmt: skip


def check_keys(file: str, record: str, data: dict[str, Any], allowed: frozenset[str], what: str) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise SeedError(
            file, record, f"unknown key(s) {', '.join(map(repr, unknown))} in {what}; allowed: {', '.join(sorted(allowed))}"
        )


def _display(path: Path) -> str:
    """A path for error messages: relative to the repository where possible."""
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


def lit(value: str, lang: str | None = None) -> ox.Literal:
    return ox.Literal(value, language=lang) if lang else ox.Literal(value)


def typed(value: Any, datatype: str) -> ox.Literal:
    return ox.Literal(str(value), datatype=N(datatype))


@dataclass
class Article:
    iri: str
    path: Path
    text: str
    meta: dict[str, Any]

    def check_quote(self, file: str, record: str, ev: dict[str, Any]) -> tuple[str, int, int]:
        """Return (quote, start, end) after verifying the quote equals the text at its offsets."""
        for key in ("quote", "start", "end"):
            if key not in ev:
                raise SeedError(file, record, f"evidence lacks {key!r} (quote, start and end are required)")
        quote, start, end = ev["quote"], ev["start"], ev["end"]
        spans = locate(self.text, quote)
        where = (
            "; the quote occurs at " + ", ".join(f"[{a}, {b})" for a, b in spans)
            if spans
            else "; the quote does not occur in the article"
        )
        if not isinstance(start, int) or not isinstance(end, int) or not 0 <= start < end <= len(self.text):
            raise QuoteMismatch(
                file, record, f"offsets [{start}, {end}) are not a span of the {len(self.text)}-character article{where}"
            )
        found = self.text[start:end]
        if found != quote:
            raise QuoteMismatch(
                file, record, f"quote {quote!r} does not match the article at [{start}, {end}), which reads {found!r}{where}"
            )
        return quote, start, end


def load_article(base: Base) -> Article:
    meta = yaml.safe_load(ARTICLE_META.read_text(encoding="utf-8"))
    path = ARTICLE_META.parent / meta["file"]
    text = path.read_text(encoding="utf-8")
    return Article(base.entity(meta["id"]), path, text, meta)


def locate(text: str, quote: str) -> list[tuple[int, int]]:
    """All [start, end) spans where quote occurs in text (a curator's helper: `kg locate`)."""
    spans, i = [], text.find(quote)
    while i >= 0:
        spans.append((i, i + len(quote)))
        i = text.find(quote, i + 1)
    return spans


@dataclass
class SeedGraph:
    """Quads produced from the seeds."""

    quads: list[ox.Quad] = field(default_factory=list)

    def add(self, s: ox.NamedNode, p: str, o: ox.NamedNode | ox.Literal, g: ox.NamedNode | None = None) -> None:
        self.quads.append(ox.Quad(s, N(p), o, g or ox.DefaultGraph()))


class SeedLoader:
    def __init__(self, base: Base) -> None:
        self.base = base
        self.article = load_article(base)
        self.out = SeedGraph()
        self.props = properties()
        self.classes = classes()
        self.records: dict[str, tuple[str, dict[str, Any]]] = {}

    # -- references --------------------------------------------------------------------------
    def ref(self, file: str, record: str, value: Any) -> ox.NamedNode:
        if not isinstance(value, str) or not value:
            raise SeedError(file, record, f"expected a reference, got {value!r}")
        if value.startswith(("http://", "https://")):
            return N(value)
        scheme, sep, local = value.partition(":")
        if sep:
            if scheme not in VOCAB_SCHEMES:
                raise SeedError(
                    file, record, f"unknown vocabulary {scheme!r} in {value!r}; use one of {', '.join(VOCAB_SCHEMES)}"
                )
            return N(vocab(scheme, local))
        if value not in self.records:
            raise SeedError(file, record, f"reference {value!r} names no curated record")
        return N(self.base.entity(value))

    def value(self, file: str, record: str, prop: str, raw: Any) -> ox.NamedNode | ox.Literal:
        info = self.props.get(prop)
        if info is None:
            raise SeedError(file, record, f"unknown property {prop!r}: not defined in ontology/psk.ttl")
        if info.is_object:
            return self.ref(file, record, raw)
        if isinstance(raw, dt.date):
            return typed(raw.isoformat(), XSD + "date")
        if info.datatype and info.datatype != XSD + "string":
            return typed(raw, info.datatype)
        return lit(str(raw))

    # -- evidence ----------------------------------------------------------------------------
    def evidence(self, node: str, file: str, record: str, ev: dict[str, Any]) -> ox.NamedNode:
        quote, start, end = self.article.check_quote(file, record, ev)
        o = self.out
        evid, qsel, psel = N(node + "/evidence"), N(node + "/evidence/quote"), N(node + "/evidence/position")
        o.add(evid, RDF + "type", N(OA + "SpecificResource"))
        o.add(evid, OA + "hasSource", N(self.article.iri))
        o.add(evid, OA + "hasSelector", qsel)
        o.add(evid, OA + "hasSelector", psel)
        o.add(qsel, RDF + "type", N(OA + "TextQuoteSelector"))
        o.add(qsel, OA + "exact", lit(quote))
        o.add(qsel, OA + "prefix", lit(self.article.text[max(0, start - 32) : start]))
        o.add(qsel, OA + "suffix", lit(self.article.text[end : end + 32]))
        o.add(psel, RDF + "type", N(OA + "TextPositionSelector"))
        o.add(psel, OA + "start", typed(start, XSD + "integer"))
        o.add(psel, OA + "end", typed(end, XSD + "integer"))
        return evid

    def statement(
        self, file: str, record: str, s: ox.NamedNode, p: str, o_: ox.NamedNode | ox.Literal, spec: dict[str, Any]
    ) -> None:
        """The fact in the default graph, plus a reified psk:Statement carrying its provenance."""
        digest = hashlib.sha1(f"{s}|{p}|{o_}|{spec.get('start')}|{spec.get('source')}".encode()).hexdigest()[:16]
        node = self.base.entity(f"statement/{digest}")
        st = N(node)
        self.out.add(s, p, o_)
        self.out.add(st, RDF + "type", N(PSK + "Statement"))
        self.out.add(st, RDF + "subject", s)
        self.out.add(st, RDF + "predicate", N(p))
        self.out.add(st, RDF + "object", o_)
        self.out.add(st, PSK + "assertionStatus", N(vocab("assertion-status", "reported")))
        if "quote" in spec:
            self.out.add(st, PSK + "source", N(self.article.iri))
            self.out.add(st, PSK + "evidence", self.evidence(node, file, record, spec))
        if "source" in spec:
            self.out.add(st, PSK + "source", self.ref(file, record, spec["source"]))
        if "quote" not in spec and "source" not in spec:
            raise SeedError(
                file, record, f"statement {p.rsplit('#', 1)[-1]} has neither a quote from the article nor a cited source"
            )

    # -- records -----------------------------------------------------------------------------
    def read(self) -> list[tuple[str, list[dict[str, Any]]]]:
        files = []
        for path in sorted(CURATED_DIR.glob("*.yaml")):
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or []
            rel = _display(path)
            if not isinstance(data, list):
                raise SeedError(rel, "-", "a curated file must be a YAML list of records")
            for i, rec in enumerate(data):
                if not isinstance(rec, dict) or "id" not in rec:
                    raise SeedError(rel, f"#{i + 1}", "every record needs an 'id'")
                if rec["id"] in self.records:
                    raise SeedError(rel, rec["id"], f"duplicate id (also in {self.records[rec['id']][0]})")
                self.records[rec["id"]] = (rel, rec)
            files.append((rel, data))
        author = self.article.meta["author"]
        self.records.setdefault(self.article.meta["id"], (_display(ARTICLE_META), {"id": self.article.meta["id"]}))
        if author not in self.records:
            raise SeedError(_display(ARTICLE_META), self.article.meta["id"], f"author {author!r} names no curated record")
        return files

    def article_quads(self) -> None:
        m, a, o = self.article.meta, N(self.article.iri), self.out
        o.add(a, RDF + "type", N(PSK + m.get("type", "Article")))
        o.add(a, RDFS + "label", lit(m["title"], "en"))
        o.add(a, DCTERMS + "title", lit(m["title"], "en"))
        o.add(a, SCHEMA + "alternativeHeadline", lit(m["subtitle"], "en"))
        o.add(a, SCHEMA + "genre", lit(m["genre"]))
        o.add(a, DCTERMS + "language", lit(m["language"]))
        o.add(a, PSK + "author", N(self.base.entity(m["author"])))
        o.add(a, PSK + "fileName", lit(self.article.path.name))
        o.add(a, PSK + "sha256", typed(hashlib.sha256(self.article.path.read_bytes()).hexdigest(), XSD + "hexBinary"))
        o.add(a, SCHEMA + "text", lit(self.article.text))
        o.add(a, PSK + "note", lit(m["note"], "en"))

    def entity(self, file: str, rec: dict[str, Any]) -> None:
        rid = rec["id"]
        s, o = N(self.base.entity(rid)), self.out
        check_keys(file, rid, rec, ENTITY_KEYS, "a record")
        if rec.get("type") not in self.classes:
            raise SeedError(file, rid, f"type {rec.get('type')!r} is not a class of the ontology")
        if "label" not in rec:
            raise SeedError(file, rid, "record has no label")
        o.add(s, RDF + "type", N(PSK + rec["type"]))
        o.add(s, RDFS + "label", lit(rec["label"], "en"))
        if "aliases" in rec:
            self.aliases(file, rid, s, rec["aliases"])
        if "description" in rec:
            o.add(s, RDFS + "comment", lit(rec["description"], "en"))
        if "wikidata" in rec:
            o.add(s, OWL + "sameAs", N(WD + rec["wikidata"]))
        for key in ("url",):
            if key in rec:
                o.add(s, SCHEMA + "url", N(rec[key]))
        if "publisher" in rec:
            o.add(s, SCHEMA + "publisher", lit(rec["publisher"]))
        if "accessed" in rec:
            o.add(s, PSK + "accessed", self.date(file, rid, rec["accessed"], "accessed"))
        if "date" in rec:
            o.add(s, DCTERMS + "date", self.date(file, rid, rec["date"], "date"))
        if "note" in rec:
            o.add(s, PSK + "note", lit(rec["note"], "en"))
        if "mention" in rec:
            check_keys(file, rid, rec["mention"], QUOTE_KEYS, "its mention")
            self.statement(file, rid, N(self.article.iri), SCHEMA + "mentions", s, rec["mention"])
        for fact in rec.get("facts", []):
            if not isinstance(fact, dict) or "p" not in fact or "o" not in fact:
                raise SeedError(file, rid, f"fact {fact!r} needs 'p' and 'o'")
            check_keys(file, rid, fact, FACT_KEYS, f"fact {fact['p']}")
            p = self.props.get(fact["p"])
            value = self.value(file, rid, fact["p"], fact["o"])
            assert p is not None
            self.statement(file, rid, s, p.iri, value, fact)

    def date(self, file: str, record: str, raw: Any, key: str) -> ox.Literal:
        if not isinstance(raw, dt.date):
            raise SeedError(file, record, f"{key} must be a date (YYYY-MM-DD), not {raw!r}")
        return typed(raw.isoformat(), XSD + "date")

    def record_type(self, ref: str) -> str | None:
        """The ontology class a curated record id was declared with (None for claims and figures)."""
        entry = self.records.get(ref)
        return entry[1].get("type") if entry else None

    def figure(self, file: str, rec: dict[str, Any]) -> None:
        """A figure one source gives for an incident, with who stated it, where and when."""
        rid = rec["id"]
        check_keys(file, rid, rec, FIGURE_KEYS, "a figure")
        f, o = N(self.base.entity(rid)), self.out
        for key in ("label", "kind", "as_reported", "reported_in", "about"):
            if key not in rec:
                raise SeedError(file, rid, f"figure has no {key!r}")
        if ("value" in rec) == ("min" in rec):
            raise SeedError(file, rid, "a figure gives exactly one of 'value' (exact or approximate) and 'min' (a lower bound)")
        qualifier = rec.get("qualifier", "exact")
        if qualifier not in ("exact", "approximately", "more-than"):
            raise SeedError(file, rid, f"qualifier must be exact, approximately or more-than, not {qualifier!r}")
        if (qualifier == "more-than") != ("min" in rec):
            raise SeedError(file, rid, "a lower bound ('min') goes with qualifier more-than, and only with it")
        number = rec.get("value", rec.get("min"))
        if not isinstance(number, int) or isinstance(number, bool) or number < 0:
            raise SeedError(file, rid, f"the figure's number must be a non-negative integer, not {number!r}")
        if self.record_type(rec["about"]) != "Incident":
            raise SeedError(file, rid, f"'about' must name an Incident record, not {rec['about']!r}")
        o.add(f, RDF + "type", N(PSK + "ReportedFigure"))
        o.add(f, RDFS + "label", lit(rec["label"], "en"))
        o.add(f, PSK + "quantityKind", self.ref(file, rid, "quantity-kind:" + str(rec["kind"])))
        o.add(f, PSK + ("value" if "value" in rec else "minValue"), typed(number, XSD + "integer"))
        o.add(f, PSK + "valueQualifier", N(vocab("value-qualifier", qualifier)))
        o.add(f, PSK + "reportedAs", lit(str(rec["as_reported"])))
        o.add(f, PSK + "about", self.ref(file, rid, rec["about"]))
        for agent in self.refs(file, rid, rec, "stated_by"):
            o.add(f, PSK + "statedBy", agent)
        if "relayed_by" in rec:
            o.add(f, PSK + "relayedBy", self.ref(file, rid, rec["relayed_by"]))
        sources = self.refs(file, rid, rec, "reported_in")
        if not sources:
            raise SeedError(file, rid, "a figure needs at least one source it was reported in ('reported_in')")
        for raw, src in zip(rec["reported_in"], sources, strict=True):
            if self.record_type(raw) not in ("Article", "Source"):
                raise SeedError(file, rid, f"'reported_in' must name source records (Article or Source), not {raw!r}")
            o.add(f, PSK + "reportedIn", src)
        if "date" in rec:
            o.add(f, DCTERMS + "date", self.date(file, rid, rec["date"], "date"))
        if "note" in rec:
            o.add(f, PSK + "note", lit(rec["note"], "en"))

    def refs(self, file: str, record: str, rec: dict[str, Any], key: str) -> list[ox.NamedNode]:
        raw = rec.get(key, [])
        if not isinstance(raw, list):
            raise SeedError(file, record, f"{key!r} must be a list of record ids, not {raw!r}")
        return [self.ref(file, record, value) for value in raw]

    def claim(self, file: str, rec: dict[str, Any]) -> None:
        """A claim: who puts it forward (speaker), with which stance and hedge, where (a quote of the article, or
        the reports that carry a party's statement), and what it asserts (its claim graph)."""
        rid = rec["id"]
        c, o = N(self.base.entity(rid)), self.out
        check_keys(file, rid, rec, CLAIM_KEYS, "a claim")
        for key in ("label", "status", "claim_type"):
            if key not in rec:
                raise SeedError(file, rid, f"claim has no {key!r}")
        external = "reported_in" in rec
        if external == ("quote" in rec):
            raise SeedError(
                file,
                rid,
                "a claim has either a quote of the article (quote, start, end) or the reports that carry it (reported_in)",
            )
        allowed = ("attributed", "contested") if external else ("opinion", "contested")
        if rec["status"] not in allowed:
            raise SeedError(file, rid, f"claim status must be {' or '.join(map(repr, allowed))}, not {rec['status']!r}")
        author = self.article.meta["author"]
        speaker = rec.get("speaker", author)
        if external and "speaker" not in rec:
            raise SeedError(file, rid, "a claim carried by a report names its speaker (speaker)")
        stance = rec.get("stance", "asserts")
        if stance not in STANCES:
            raise SeedError(file, rid, f"stance must be one of {', '.join(STANCES)}, not {stance!r}")
        speaker_node = self.ref(file, rid, speaker)
        o.add(c, RDF + "type", N(PSK + "Claim"))
        o.add(c, RDFS + "label", lit(rec["label"], "en"))
        o.add(c, PSK + "attributedTo", speaker_node)
        o.add(c, PSK + "stance", N(vocab("stance", stance)))
        if external:
            sources = self.refs(file, rid, rec, "reported_in")
            if not sources:
                raise SeedError(file, rid, "'reported_in' names no report")
            for src in sources:
                o.add(c, PSK + "reportedIn", src)
                o.add(c, PSK + "source", src)
        else:
            o.add(c, PSK + "source", N(self.article.iri))
            o.add(c, PSK + "evidence", self.evidence(c.value, file, rid, rec))
        if "hedge" in rec:
            self.hedge(file, rid, c, rec)
        if "proposition" in rec:
            if self.record_type(rec["proposition"]) != "Proposition":
                raise SeedError(file, rid, f"'proposition' must name a Proposition record, not {rec['proposition']!r}")
            o.add(c, PSK + "proposition", self.ref(file, rid, rec["proposition"]))
        o.add(c, PSK + "assertionStatus", N(vocab("assertion-status", rec["status"])))
        o.add(c, PSK + "claimType", self.ref(file, rid, "claim-type:" + rec["claim_type"]))
        self.roles(file, rid, c, rec.get("about"))
        for cause in rec.get("causes", []):
            factor = self.ref(file, rid, "factor:" + cause)
            o.add(c, PSK + "citesCause", factor)
            o.add(c, PSK + "about", factor)
        for src in self.refs(file, rid, rec, "contested_by"):
            o.add(c, PSK + "contestedBy", src)
        for support in self.refs(file, rid, rec, "supported_by"):
            o.add(c, PSK + "supportedBy", support)
        if "note" in rec:
            o.add(c, PSK + "note", lit(rec["note"], "en"))
        if rec["status"] == "contested" and not rec.get("contested_by"):
            raise SeedError(file, rid, "a contested claim must cite the source that contests it (contested_by)")
        assertions = rec.get("assertions", [])
        if assertions:
            g = N(self.base.graph(rid))
            o.add(c, PSK + "assertionGraph", g)
            o.add(g, RDF + "type", N(PSK + "ClaimGraph"))
            o.add(g, PROV + "wasAttributedTo", speaker_node)
            for triple in assertions:
                if not isinstance(triple, list) or len(triple) != 3:
                    raise SeedError(file, rid, f"assertion {triple!r} must be [subject, property, object]")
                s_raw, p_raw, o_raw = triple
                info = self.props.get(p_raw)
                if info is None:
                    raise SeedError(file, rid, f"unknown property {p_raw!r} in assertion")
                o.add(self.ref(file, rid, s_raw), info.iri, self.value(file, rid, p_raw, o_raw), g)

    def roles(self, file: str, rid: str, c: ox.NamedNode, about: Any) -> None:
        """What the claim is about, by role: {describesSituationOf: [...], blames: [...], ...}. Each role is a
        sub-property of psk:about, and psk:about itself is written too, so queries over it keep working."""
        if not isinstance(about, dict) or not about:
            raise SeedError(
                file, rid, f"'about' must map roles ({', '.join(sorted(about_roles() - {'citesCause'}))}) to record ids"
            )
        for role, targets in about.items():
            if role not in about_roles() or role == "citesCause":
                raise SeedError(
                    file, rid, f"unknown role {role!r} in 'about'; use one of {', '.join(sorted(about_roles() - {'citesCause'}))}"
                )
            if not isinstance(targets, list) or not targets:
                raise SeedError(file, rid, f"role {role!r} must list record ids")
            for target in targets:
                node = self.ref(file, rid, target)
                self.out.add(c, PSK + role, node)
                self.out.add(c, PSK + "about", node)

    def aliases(self, file: str, rid: str, s: ox.NamedNode, aliases: Any) -> None:
        """Each alias has its source: a quote of the article that contains it, or a source record."""
        if not isinstance(aliases, list):
            raise SeedError(file, rid, f"'aliases' must be a list, not {aliases!r}")
        for alias in aliases:
            if not isinstance(alias, dict) or "name" not in alias:
                raise SeedError(
                    file, rid, f"alias {alias!r} needs its source: {{name, quote, start, end}} (the article) or {{name, source}}"
                )
            check_keys(file, rid, alias, ALIAS_KEYS, f"alias {alias['name']!r}")
            name = str(alias["name"])
            if "quote" in alias and name not in str(alias["quote"]):
                raise SeedError(file, rid, f"alias {name!r} is not in its quote {alias['quote']!r}")
            spec = {k: v for k, v in alias.items() if k != "name"}
            self.statement(file, rid, s, SKOS + "altLabel", lit(name, "en"), spec)

    def hedge(self, file: str, rid: str, c: ox.NamedNode, rec: dict[str, Any]) -> None:
        """The hedge words must be words of the claim's own quote; the certainty level a concept of its scheme."""
        hedge = rec["hedge"]
        if not isinstance(hedge, dict):
            raise SeedError(file, rid, f"hedge must be a mapping with 'term' and 'certainty', not {hedge!r}")
        check_keys(file, rid, hedge, HEDGE_KEYS, "its hedge")
        if "term" not in hedge or "certainty" not in hedge:
            raise SeedError(file, rid, "hedge needs its 'term' (words of the quote) and a 'certainty' level")
        if "quote" not in rec or str(hedge["term"]) not in rec["quote"]:
            raise SeedError(file, rid, f"hedge term {hedge['term']!r} is not in the claim's quote")
        if hedge["certainty"] not in CERTAINTY:
            raise SeedError(file, rid, f"certainty must be one of {', '.join(CERTAINTY)}, not {hedge['certainty']!r}")
        self.out.add(c, PSK + "hedge", lit(str(hedge["term"])))
        self.out.add(c, PSK + "certainty", N(vocab("certainty", hedge["certainty"])))

    def load(self) -> list[ox.Quad]:
        files = self.read()
        self.article_quads()
        for file, records in files:
            for rec in records:
                if rec["id"].startswith("claim/"):
                    self.claim(file, rec)
                elif rec["id"].startswith("figure/"):
                    self.figure(file, rec)
                else:
                    self.entity(file, rec)
        return self.out.quads


def seed_quads(base: Base) -> list[ox.Quad]:
    """All quads from the article and the curated records."""
    return SeedLoader(base).load()
