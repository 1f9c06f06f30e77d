"""Full-text search over every entity's labels and aliases: an SQLite FTS5 index (trigram tokenizer) per dataset version.

The index is derived like the incident table (kg/tables.py) and lives beside it in ``<version>.tables/search.sqlite``:
built from one SPARQL query (kg/queries/search_index.rq) over the version, plus each entity's number of incidents
from the incident table, into a temporary file renamed into place.

Matching: a query of three characters or more matches names that contain it (the trigram index answers substring
queries), and names that share most of its trigrams, so a misspelling still finds the entity ("Jafar" finds
"Jaffar", "Baluchistan" finds "Balochistan"). Ranking: exact name, then name prefix and word prefix boosts, the share
of the query's trigrams found, the share of the name the query accounts for and FTS5's bm25, then importance (the entity's number of incidents). Totals are exact
(every entity that matches), with type facets and paging.
"""

from __future__ import annotations

import csv
import math
import os
import sqlite3
import threading
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import duckdb

from .namespaces import PSK

SEARCH_FILE = "search.sqlite"
QUERY = "search_index"
COLUMNS = ("s", "name", "kind", "type", "up1", "up2", "up3")
FUZZY_CANDIDATES = 400  # names sharing some trigrams with the query, best bm25 first, checked for a fuzzy match
FUZZY_SHARE = 0.6  # a fuzzy match has at least this share of the query's trigrams
WINDOW = 200  # substring matches ranked here (best first by exact name, prefix and incidents); the rest in that order
MAX_QUERY = 100


@dataclass(frozen=True)
class SearchHit:
    iri: str
    label: str
    type: str  # local name of its most specific psk class, "" if none
    context: str = ""  # for places: the places it lies in ("Synthetic District A, Balochistan")
    match: str = ""  # the name that matched (a label or an alias)
    incidents: int = 0
    score: float = 0.0


@dataclass(frozen=True)
class SearchResults:
    query: str
    hits: tuple[SearchHit, ...]
    total: int
    page: int
    size: int
    types: tuple[tuple[str, int], ...]  # type facet: (type, matches), most first
    type: str = ""  # the type filter

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))


def build_search(csv_path: Path, table_path: Path, target: Path) -> None:
    """Build the index at target from search_index.rq's CSV and the incident table (temporary file, then rename)."""
    con = duckdb.connect(str(table_path), read_only=True)
    try:
        importance = dict(
            con.execute("SELECT entity, count(DISTINCT id) FROM links WHERE role <> 'eventType' GROUP BY entity").fetchall()
        )
        class_size = dict(con.execute("SELECT class, n FROM classes").fetchall())
    finally:
        con.close()
    entities: dict[str, dict[str, object]] = {}
    names: dict[tuple[str, str], str] = {}
    with open(csv_path, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            iri, name = row["s"], row["name"].strip()
            if not name:
                continue
            e = entities.setdefault(iri, {"label": "", "types": set(), "context": ""})
            if row["kind"] == "label" and (not e["label"] or len(name) < len(str(e["label"]))):
                e["label"] = name
            if row["type"]:
                e["types"].add(row["type"])  # type: ignore[attr-defined]
            context = ", ".join(dict.fromkeys(u for u in (row["up1"], row["up2"], row["up3"]) if u))
            if len(context) > len(str(e["context"])):
                e["context"] = context
            key = (iri, name.lower())
            if key not in names or row["kind"] == "label":
                names[key] = name
    tmp = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.unlink(missing_ok=True)
    db = sqlite3.connect(tmp)
    try:
        db.executescript(
            """
            CREATE TABLE entities (id INTEGER PRIMARY KEY, iri TEXT UNIQUE, label TEXT, type TEXT, context TEXT,
                                   incidents INTEGER, names TEXT);
            CREATE VIRTUAL TABLE names USING fts5(name, entity UNINDEXED, tokenize = 'trigram');
            CREATE INDEX entities_type ON entities (type);
            """
        )
        ids: dict[str, int] = {}
        rows = []
        all_names: dict[str, list[str]] = {}
        for iri, lower in names:
            all_names.setdefault(iri, []).append(lower)
        for n, (iri, e) in enumerate(entities.items(), 1):
            ids[iri] = n
            types = sorted(e["types"], key=lambda t: (class_size.get(t, 1 << 62), t))  # type: ignore[call-overload]
            typ = types[0][len(PSK) :] if types and types[0].startswith(PSK) else ""
            label = str(e["label"]) or next((nm for (i, _l), nm in names.items() if i == iri), iri)
            rows.append((n, iri, label, typ, str(e["context"]), int(importance.get(iri, 0)), "\n".join(all_names.get(iri, []))))
        db.executemany("INSERT INTO entities VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
        db.executemany("INSERT INTO names (name, entity) VALUES (?, ?)", ((name, ids[iri]) for (iri, _l), name in names.items()))
        db.execute("INSERT INTO names (names) VALUES ('optimize')")
        db.commit()
    finally:
        db.close()
    os.replace(tmp, target)


def trigrams(text: str) -> set[str]:
    return {text[i : i + 3] for i in range(len(text) - 2)}


def _fts_string(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


class SearchIndex:
    """Read-only queries over one version's index (a connection per thread)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()

    def _db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False)
            self._local.db = db
        return db

    def search(self, text: str, type_filter: str = "", page: int = 1, size: int = 20) -> SearchResults:
        q = " ".join(text.split()).lower()[:MAX_QUERY]
        if len(q) < 2:
            return SearchResults(q, (), 0, page, size, ())
        db = self._db()
        escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        params: dict[str, object] = {"q": q, "prefix": escaped + "%", "type": type_filter}
        if len(q) >= 3:  # the trigram index answers substring queries
            src = "(SELECT entity, name, bm25(names) AS bm FROM names WHERE names MATCH :m LIMIT -1)"  # not flattened
            params["m"] = _fts_string(q)
        else:
            src = "(SELECT entity, name, 0.0 AS bm FROM names WHERE name LIKE :m ESCAPE '\\' LIMIT -1)"
            params["m"] = "%" + escaped + "%"
        typed = " AND e.type = :type" if type_filter else ""
        # substring matches: exact total and type facets in SQL, and the best WINDOW of them to rank here
        types = Counter(
            dict(db.execute(f"SELECT e.type, count(DISTINCT e.id) FROM {src} n JOIN entities e ON e.id = n.entity GROUP BY e.type", params))
        )  # fmt: skip
        total = types.get(type_filter, 0) if type_filter else sum(types.values())
        ordered = (
            "SELECT e.id, e.iri, e.label, e.type, e.context, e.incidents, n.name, min(n.bm),"
            " max((lower(n.name) = :q) * 2 + (lower(n.name) LIKE :prefix ESCAPE '\\') - length(n.name) / 1000.0) AS quality"
            f" FROM {src} n JOIN entities e ON e.id = n.entity WHERE 1 = 1{typed} GROUP BY e.id"
            " ORDER BY quality >= 2 DESC, quality >= 1 DESC, e.incidents DESC, quality DESC, e.id LIMIT :limit OFFSET :offset"
        )
        window = db.execute(ordered, {**params, "limit": WINDOW, "offset": 0}).fetchall()
        hits = [
            SearchHit(iri, label, typ, context, name, incidents, _score(q, name, 1.0, bm, incidents))
            for _id, iri, label, typ, context, incidents, name, bm, _quality in window
        ]
        if len(q) >= 3:  # names sharing most of the query's trigrams: misspellings
            seen = {row[0] for row in window}
            grams = trigrams(q)
            fuzzy: dict[int, tuple[str, float, float]] = {}
            for entity, name, bm in db.execute(
                "SELECT entity, name, bm25(names) FROM names WHERE names MATCH ? ORDER BY bm25(names) LIMIT ?",
                [" OR ".join(_fts_string(g) for g in sorted(grams)), FUZZY_CANDIDATES],
            ):
                share = len(grams & trigrams(name.lower())) / len(grams)
                if entity in seen or q in name.lower() or share < FUZZY_SHARE:
                    continue  # a substring match is counted above
                if entity not in fuzzy or share > fuzzy[entity][1]:
                    fuzzy[entity] = (name, share, bm)
            for entity, (name, share, bm) in fuzzy.items():
                (iri, label, typ, context, incidents, all_names) = db.execute(
                    "SELECT iri, label, type, context, incidents, names FROM entities WHERE id = ?", [entity]
                ).fetchone()
                if q in all_names:
                    continue  # another of its names contains the query: already counted
                types[typ] += 1
                if not type_filter or typ == type_filter:
                    total += 1
                    hits.append(SearchHit(iri, label, typ, context, name, incidents, _score(q, name, share, bm, incidents)))
        hits.sort(key=lambda h: (-h.score, len(h.label), h.label, h.iri))
        offset = (page - 1) * size
        page_hits = hits[offset : offset + size]
        if len(page_hits) < size and len(window) == WINDOW:  # past the ranked window: the rest in SQL order
            skip = max(0, offset - len(hits))
            more = db.execute(ordered, {**params, "limit": size - len(page_hits), "offset": WINDOW + skip}).fetchall()
            page_hits += [
                SearchHit(iri, label, typ, context, name, incidents, _score(q, name, 1.0, bm, incidents))
                for _id, iri, label, typ, context, incidents, name, bm, _quality in more
            ]
        facet = tuple(sorted(((t, n) for t, n in types.items() if n), key=lambda kv: (-kv[1], kv[0])))
        return SearchResults(q, tuple(page_hits), total, page, size, facet, type_filter)


def _better(q: str, name: str, other: str) -> bool:
    a, b = name.lower(), other.lower()
    return (a == q, a.startswith(q), -len(a)) > (b == q, b.startswith(q), -len(b))


def _score(q: str, name: str, share: float, bm25: float, incidents: int) -> float:
    n = name.lower()
    grams = trigrams(n)
    covered = len(trigrams(q) & grams) / len(grams) if grams else 1.0  # how much of the name the query accounts for
    score = 4.0 * share + 2.0 * covered
    if n == q:
        score += 6.0
    elif n.startswith(q):
        score += 3.0
    elif any(w.startswith(q) for w in n.replace("-", " ").replace("/", " ").split()):
        score += 1.5
    score += min(1.0, max(0.0, -bm25) / 10.0)  # FTS5's bm25 is negative, lower is better
    score += 0.5 * math.log10(1 + incidents)
    return score
