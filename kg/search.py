"""Full-text search over every entity's labels and aliases, in two tiers built per dataset version.

The index is derived like the incident table (kg/tables.py) and lives beside it in ``<version>.tables/``:

- ``search.sqlite``: an SQLite FTS5 index (trigram tokenizer) of the names of every entity but the incidents of
  loaded datasets (ACLED, UCDP) and their sides: places, actors, sources, claims, curated incidents. Built from one
  SPARQL query (kg/queries/search_index.rq) plus each entity's number of incidents from the incident table.
- ``search.duckdb``: the incidents of loaded datasets, one row per incident with its label, read from the incident
  table (DuckDB scans a million labels for a substring in tens of milliseconds; an FTS index over them cost more to
  build and to count than it saved). An incident the table cannot stand for (another name or another psk: type
  besides psk:Incident) stays in the FTS tier instead, so every name is in exactly one tier.

Both are written to temporary files renamed into place, the SQLite file last (its presence means both are there).

Matching: a query of three characters or more matches names that contain it, and (in the FTS tier) names that share
most of its trigrams, so a misspelling still finds the entity ("Jafar" finds "Jaffar", "Baluchistan" finds
"Balochistan"). Ranking: the FTS tier first (exact name, then name prefix and word prefix boosts, the share of the
query's trigrams found, the share of the name the query accounts for and FTS5's bm25, then importance: the entity's
number of incidents), then the dataset incidents (exact, prefix, word prefix, then most fatalities, latest first).
Totals are exact (every entity that matches, in both tiers), with type facets and paging.
"""

from __future__ import annotations

import math
import os
import sqlite3
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from .namespaces import PSK
from .tables import Table

SEARCH_FILE = "search.sqlite"
INCIDENTS_FILE = "search.duckdb"  # the incident tier
QUERY = "search_index"
COLUMNS = ("s", "name", "kind", "type", "up1", "up2", "up3")
FUZZY_CANDIDATES = 400  # names sharing some trigrams with the query, best bm25 first, checked for a fuzzy match
FUZZY_SHARE = 0.6  # a fuzzy match has at least this share of the query's trigrams
WINDOW = 200  # substring matches ranked here (best first by exact name, prefix and incidents); the rest in that order
MAX_QUERY = 100
INCIDENT = "Incident"  # the type of every hit of the incident tier


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
    """Build both tiers at target (search.sqlite) and beside it (search.duckdb) from search_index.rq's CSV and the
    incident table (temporary files, then renames: the incident tier first, the FTS tier last)."""
    con = duckdb.connect(config={"threads": 2, "memory_limit": "1GB"})
    tier_target = target.with_name(INCIDENTS_FILE)
    tier_tmp = tier_target.with_name(f".{tier_target.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tier_tmp.unlink(missing_ok=True)
    try:
        con.execute("ATTACH ? AS t (READ_ONLY)", [str(table_path)])
        importance = dict(
            con.execute("SELECT entity, count(DISTINCT id) FROM t.links WHERE role <> 'eventType' GROUP BY entity").fetchall()
        )
        class_size = dict(con.execute("SELECT class, n FROM t.classes").fetchall())
        con.execute(
            "CREATE TEMP TABLE names AS SELECT * FROM read_csv(?, header = true, quote = '\"', escape = '\"',"
            " all_varchar = true, columns = {'s': 'VARCHAR', 'name': 'VARCHAR', 'kind': 'VARCHAR', 'type': 'VARCHAR',"
            " 'up1': 'VARCHAR', 'up2': 'VARCHAR', 'up3': 'VARCHAR'})",
            [str(csv_path)],
        )
        # the incidents the table stands for exactly: every name row of theirs is the table's label, typed psk:Incident
        # (or untyped) and placed nowhere; any other incident keeps its names in the FTS tier
        con.execute(
            """CREATE TEMP TABLE tier AS SELECT i.id, i.incident AS iri, i.label, i.date, i.fatalities FROM t.incidents i
               WHERE i.event_id IS NOT NULL AND i.label IS NOT NULL AND EXISTS (SELECT 1 FROM names n WHERE n.s = i.incident)
                 AND NOT EXISTS (SELECT 1 FROM names n WHERE n.s = i.incident AND (n.kind <> 'label'
                     OR trim(n.name) <> i.label OR coalesce(n.type, '') NOT IN ('', $incident)
                     OR coalesce(n.up1, '') <> '' OR coalesce(n.up2, '') <> '' OR coalesce(n.up3, '') <> ''))""",
            {"incident": PSK + "Incident"},
        )
        con.execute("ATTACH ? AS out", [str(tier_tmp)])
        con.execute(
            r"""CREATE TABLE out.incidents AS
               SELECT row_number() OVER (ORDER BY fatalities DESC NULLS LAST, date DESC NULLS LAST, iri)::INTEGER AS rank,
                      iri, label, lower(label) AS lower, ' ' || regexp_replace(lower(label), '[-/\s]+', ' ', 'g') AS words
               FROM tier ORDER BY rank"""
        )
        con.execute("DETACH out")
        fts_rows = con.execute(
            "SELECT s, name, kind, type, up1, up2, up3 FROM names WHERE s NOT IN (SELECT iri FROM tier) ORDER BY ALL"
        ).fetchall()  # ordered: entity IDs (the last tie-break of the ranking) follow IRIs, whatever the store's order
    finally:
        con.close()
    entities: dict[str, dict[str, object]] = {}
    names: dict[tuple[str, str], str] = {}
    for iri, raw, kind, type_, up1, up2, up3 in fts_rows:
        name = (raw or "").strip()
        if not name:
            continue
        e = entities.setdefault(iri, {"label": "", "types": set(), "context": ""})
        if kind == "label" and (not e["label"] or len(name) < len(str(e["label"]))):
            e["label"] = name
        if type_:
            e["types"].add(type_)  # type: ignore[attr-defined]
        context = ", ".join(dict.fromkeys(u for u in (up1, up2, up3) if u))
        if len(context) > len(str(e["context"])):
            e["context"] = context
        key = (iri, name.lower())
        if key not in names or kind == "label":
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
    os.replace(tier_tmp, tier_target)
    os.replace(tmp, target)


def trigrams(text: str) -> set[str]:
    return {text[i : i + 3] for i in range(len(text) - 2)}


def _fts_string(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


class SearchIndex:
    """Read-only queries over one version's two tiers (an SQLite connection per thread, one DuckDB connection)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        self._incidents: Table | None = None
        self._lock = threading.Lock()

    def _db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False)
            self._local.db = db
        return db

    def _tier(self) -> Table:
        with self._lock:
            if self._incidents is None:
                self._incidents = Table(self.path.with_name(INCIDENTS_FILE))
            return self._incidents

    def search(self, text: str, type_filter: str = "", page: int = 1, size: int = 20) -> SearchResults:
        q = " ".join(text.split()).lower()[:MAX_QUERY]
        if len(q) < 2:
            return SearchResults(q, (), 0, page, size, ())
        types, entity_hits = self._entities(q, type_filter)
        incidents = 0
        if not type_filter or type_filter == INCIDENT:
            incidents = int(self._tier().rows("SELECT count(*) FROM incidents WHERE contains(lower, ?)", [q])[0][0])
            types[INCIDENT] += incidents
        total = types.get(type_filter, 0) if type_filter else sum(types.values())
        in_fts = total - incidents  # the FTS tier's matches come first, then the incident tier's
        offset = (page - 1) * size
        page_hits = entity_hits(offset, size) if offset < in_fts else []
        if len(page_hits) < size and incidents and offset + len(page_hits) < total:
            skip = max(0, offset - in_fts)
            rows = self._tier().rows(
                "SELECT iri, label FROM incidents WHERE contains(lower, $q) ORDER BY lower = $q DESC,"
                " starts_with(lower, $q) DESC, contains(words, ' ' || $q) DESC, rank LIMIT $limit OFFSET $offset",
                {"q": q, "limit": size - len(page_hits), "offset": skip},
            )
            page_hits += [SearchHit(iri, label, INCIDENT, "", label, 0, _score(q, label, 1.0, 0.0, 0)) for iri, label in rows]
        facet = tuple(sorted(((t, n) for t, n in types.items() if n), key=lambda kv: (-kv[1], kv[0])))
        return SearchResults(q, tuple(page_hits), total, page, size, facet, type_filter)

    def _entities(self, q: str, type_filter: str) -> tuple[Counter[str], Callable[[int, int], list[SearchHit]]]:
        """The FTS tier: matches per type, and a function giving the ranked hits from an offset."""
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
                    hits.append(SearchHit(iri, label, typ, context, name, incidents, _score(q, name, share, bm, incidents)))
        hits.sort(key=lambda h: (-h.score, len(h.label), h.label, h.iri))

        def page(offset: int, size: int) -> list[SearchHit]:
            page_hits = hits[offset : offset + size]
            if len(page_hits) < size and len(window) == WINDOW:  # past the ranked window: the rest in SQL order
                skip = max(0, offset - len(hits))
                more = db.execute(ordered, {**params, "limit": size - len(page_hits), "offset": WINDOW + skip}).fetchall()
                page_hits += [
                    SearchHit(iri, label, typ, context, name, incidents, _score(q, name, 1.0, bm, incidents))
                    for _id, iri, label, typ, context, incidents, name, bm, _quality in more
                ]
            return page_hits

        return types, page


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
