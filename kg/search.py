"""Search over every entity's labels and aliases: exact substring matches and misspellings, ranked, with exact
totals, type facets and paging; derived per dataset version like the incident table (kg/tables.py), beside it in
``<version>.tables/``:

- ``search.vN.duckdb`` (DuckDB): every name lowercased, with its entity's type and number of incidents, and the
  incidents of loaded datasets (ACLED, UCDP) as their own tier, one row per incident with its label. A substring is
  found by scanning them: DuckDB scans a hundred thousand names in about a millisecond, where FTS5 took 0.1-1 s to
  count and rank a query that many names contain.
- ``search.vN.sqlite`` (SQLite FTS5, trigram tokenizer): the names of everything but the incident tier, for
  misspellings: names sharing most of the query's trigrams ("Jafar" finds "Jaffar", "Baluchistan" finds
  "Balochistan"), tried when fewer than WINDOW names contain the query.

Built from one SPARQL query (kg/queries/search_index.rq) and the incident table, in DuckDB, into temporary files
renamed into place (the SQLite file last: its presence means both are there). An incident the table cannot stand for
(another name or another psk: type than psk:Incident) is searched with the entities instead, so every name is in one
tier. Incidents' sides, statements, data records and geometries are not search hits (they are found through what
they belong to).

Ranking: entities first (exact name, then name prefix, then the entity's number of incidents; within the best WINDOW
by the score below), then the incident tier (exact, prefix, word prefix, then most fatalities, latest first).
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

# The files' names carry the index's format: a release that builds it otherwise bumps it, so that the tables of a
# store (or of a remote version, cached across runs) written by an earlier release get a new index, not a misread one.
INDEX_FORMAT = 2
SEARCH_FILE = f"search.v{INDEX_FORMAT}.sqlite"
INCIDENTS_FILE = f"search.v{INDEX_FORMAT}.duckdb"  # the incident tier, and every name for substring scans
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
    """Build the index at target (SEARCH_FILE) and beside it (INCIDENTS_FILE) from search_index.rq's CSV and the
    incident table, in DuckDB (temporary files, then renames: the DuckDB file first, the SQLite file last)."""
    con = duckdb.connect(config={"threads": 2, "memory_limit": "1GB"})
    duck_target = target.with_name(INCIDENTS_FILE)
    duck_tmp = duck_target.with_name(f".{duck_target.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    duck_tmp.unlink(missing_ok=True)
    try:
        con.execute("ATTACH ? AS t (READ_ONLY)", [str(table_path)])
        columns = ", ".join(f"'{c}': 'VARCHAR'" for c in COLUMNS)  # search_index.rq's variables
        con.execute(
            "CREATE TEMP TABLE csv AS SELECT * FROM read_csv(?, header = true, quote = '\"', escape = '\"',"
            f" columns = {{{columns}}})",
            [str(csv_path)],
        )
        for statement in _BUILD_SQL.split(";\n"):
            if statement.strip():
                params = {k: v for k, v in (("incident", PSK + "Incident"), ("psk", PSK)) if f"${k}" in statement}
                con.execute(statement, params or None)
        con.execute("SET force_compression = 'uncompressed'")  # scanned for substrings: twice as fast as compressed
        con.execute("ATTACH ? AS out", [str(duck_tmp)])
        con.execute(
            "CREATE TABLE out.entities AS SELECT * FROM entities ORDER BY id;"
            " CREATE TABLE out.names AS SELECT n.*, e.type, e.incidents FROM names n JOIN entities e USING (id)"
            " ORDER BY n.id, n.lower;"
            " CREATE TABLE out.incidents AS SELECT * FROM tier_out ORDER BY rank"
        )
        con.execute("DETACH out")
        entity_rows = con.execute("SELECT * FROM entities ORDER BY id").fetchall()
        name_rows = con.execute("SELECT name, id FROM names ORDER BY id, lower").fetchall()
    finally:
        con.close()
    tmp = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.unlink(missing_ok=True)
    db = sqlite3.connect(tmp)
    try:
        db.executescript(
            """
            CREATE TABLE entities (id INTEGER PRIMARY KEY, iri TEXT UNIQUE, label TEXT, type TEXT, context TEXT,
                                   incidents INTEGER, names TEXT);
            CREATE VIRTUAL TABLE names USING fts5(name, entity UNINDEXED, tokenize = 'trigram');
            """
        )
        db.executemany("INSERT INTO entities VALUES (?, ?, ?, ?, ?, ?, ?)", entity_rows)
        db.executemany("INSERT INTO names (name, entity) VALUES (?, ?)", name_rows)
        db.execute("INSERT INTO names (names) VALUES ('optimize')")
        db.commit()
    finally:
        db.close()
    os.replace(duck_tmp, duck_target)
    os.replace(tmp, target)


# The index in SQL, from the CSV rows (table csv) and the incident table (schema t):
#   tier      the loaded incidents the incident table stands for exactly: every name row of theirs is the table's
#             label, typed psk:Incident (or untyped) and placed nowhere (any other incident stays with the entities)
#   entities  everything else with a name: its shortest label, most specific psk: class (the smallest), the longest
#             list of places it lies in, its number of incidents and all its names lowercased; IDs in IRI order
#   names     one row per entity and lowercased name, shown as spelled (a label's spelling first)
_BUILD_SQL = r"""
CREATE TEMP TABLE tier AS SELECT i.id, i.incident AS iri, i.label, i.date, i.fatalities FROM t.incidents i
    WHERE i.event_id IS NOT NULL AND i.label IS NOT NULL AND EXISTS (SELECT 1 FROM csv n WHERE n.s = i.incident)
      AND NOT EXISTS (SELECT 1 FROM csv n WHERE n.s = i.incident AND (n.kind <> 'label' OR trim(n.name) <> i.label
          OR coalesce(n.type, '') NOT IN ('', $incident)
          OR coalesce(n.up1, '') <> '' OR coalesce(n.up2, '') <> '' OR coalesce(n.up3, '') <> ''));
CREATE TEMP TABLE tier_out AS
    SELECT row_number() OVER (ORDER BY fatalities DESC NULLS LAST, date DESC NULLS LAST, iri)::INTEGER AS rank,
           iri, label, lower(label) AS lower, ' ' || regexp_replace(lower(label), '[-/\s]+', ' ', 'g') AS words
    FROM tier;
CREATE TEMP TABLE rows AS
    SELECT s AS iri, trim(name) AS name, lower(trim(name)) AS lower, kind, nullif(type, '') AS type,
           concat_ws(', ', nullif(up1, ''), CASE WHEN up2 <> coalesce(up1, '') THEN nullif(up2, '') END,
                     CASE WHEN up3 NOT IN (coalesce(up1, ''), coalesce(up2, '')) THEN nullif(up3, '') END) AS context
    FROM csv WHERE trim(coalesce(name, '')) <> '' AND s NOT IN (SELECT iri FROM tier);
CREATE TEMP TABLE ids AS SELECT row_number() OVER (ORDER BY iri)::INTEGER AS id, iri FROM (SELECT DISTINCT iri FROM rows);
CREATE TEMP TABLE names AS
    SELECT ids.id, r.lower, r.name
    FROM (SELECT iri, lower, first(name ORDER BY (kind = 'label') DESC, name) AS name FROM rows GROUP BY iri, lower) r
    JOIN ids USING (iri);
CREATE TEMP TABLE typed AS
    SELECT r.iri, first(r.type ORDER BY coalesce(c.n, 4611686018427387904), r.type) AS type
    FROM rows r LEFT JOIN t.classes c ON c.class = r.type WHERE r.type IS NOT NULL GROUP BY r.iri;
CREATE TEMP TABLE entities AS
    SELECT ids.id, ids.iri,
           coalesce(first(r.name ORDER BY length(r.name), r.name) FILTER (r.kind = 'label'), first(r.name ORDER BY r.name)) AS label,
           coalesce(CASE WHEN starts_with(any_value(ty.type), $psk) THEN substr(any_value(ty.type), length($psk) + 1) END, '') AS type,
           coalesce(first(r.context ORDER BY length(r.context) DESC, r.context), '') AS context,
           coalesce(any_value(imp.n), 0)::INTEGER AS incidents,
           any_value(nm.all_names) AS names
    FROM ids JOIN rows r USING (iri) LEFT JOIN typed ty USING (iri)
    LEFT JOIN (SELECT entity, count(DISTINCT id) AS n FROM t.links WHERE role <> 'eventType' GROUP BY entity) imp
        ON imp.entity = ids.iri
    LEFT JOIN (SELECT id, string_agg(lower, chr(10) ORDER BY lower) AS all_names FROM names GROUP BY id) nm ON nm.id = ids.id
    GROUP BY ids.id, ids.iri;
"""


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
        types, tier, entity_hits = self._entities(q, type_filter)
        incidents = tier if not type_filter or type_filter == INCIDENT else 0
        types[INCIDENT] += tier
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
            page_hits += [SearchHit(iri, label, INCIDENT, "", label, 0, _score(q, label, 1.0, 0)) for iri, label in rows]
        facet = tuple(sorted(((t, n) for t, n in types.items() if n), key=lambda kv: (-kv[1], kv[0])))
        return SearchResults(q, tuple(page_hits), total, page, size, facet, type_filter)

    def _entities(self, q: str, type_filter: str) -> tuple[Counter[str], int, Callable[[int, int], list[SearchHit]]]:
        """Everything but the incident tier: matches per type, the incident tier's matches, and a function giving the
        ranked hits from an offset."""
        duck = self._tier()
        # substring matches (a scan of the lowercased names, each with its entity's type and number of incidents):
        # exact totals per type, with the incident tier's (one query), and the best WINDOW of them to rank here
        counts = duck.rows(
            "SELECT type, count(DISTINCT id) FROM names WHERE contains(lower, $q) GROUP BY type"
            " UNION ALL SELECT NULL, count(*) FROM incidents WHERE contains(lower, $q)",
            {"q": q},
        )
        types: Counter[str] = Counter({t: n for t, n in counts if t is not None})
        tier = int(next(n for t, n in counts if t is None))
        typed = " AND type = $type" if type_filter else ""
        ordered = (
            "SELECT e.id, e.iri, e.label, e.type, e.context, e.incidents, m.name, m.best FROM ("
            " SELECT id, first(name ORDER BY quality DESC, name) AS name, max(quality) AS best, any_value(incidents) AS incidents"
            " FROM (SELECT id, name, incidents, (lower = $q)::INTEGER * 2 + starts_with(lower, $q)::INTEGER"
            f" - length(name) / 1000.0 AS quality FROM names WHERE contains(lower, $q){typed}) GROUP BY id"
            " ORDER BY best >= 2 DESC, best >= 1 DESC, incidents DESC, best DESC, id LIMIT $limit OFFSET $offset"
            ") m JOIN entities e ON e.id = m.id ORDER BY m.best >= 2 DESC, m.best >= 1 DESC, m.incidents DESC, m.best DESC, m.id"
        )
        params: dict[str, object] = {"q": q, **({"type": type_filter} if type_filter else {})}
        window = duck.rows(ordered, {**params, "limit": WINDOW, "offset": 0})
        hits = [
            SearchHit(iri, label, typ, context, name, incidents, _score(q, name, 1.0, incidents))
            for _id, iri, label, typ, context, incidents, name, _quality in window
        ]
        if len(q) >= 3 and sum(types.values()) < WINDOW:  # few names contain the query: try misspellings too
            db = self._db()
            seen = {row[0] for row in window}
            grams = trigrams(q)
            fuzzy: dict[int, tuple[str, float]] = {}
            for entity, name in db.execute(
                "SELECT entity, name FROM names WHERE names MATCH ? ORDER BY bm25(names), entity, name LIMIT ?",
                [" OR ".join(_fts_string(g) for g in sorted(grams)), FUZZY_CANDIDATES],
            ):
                share = len(grams & trigrams(name.lower())) / len(grams)
                if entity in seen or q in name.lower() or share < FUZZY_SHARE:
                    continue  # a substring match is counted above
                if entity not in fuzzy or share > fuzzy[entity][1]:
                    fuzzy[entity] = (name, share)
            for entity, (name, share) in fuzzy.items():
                (iri, label, typ, context, incidents, all_names) = db.execute(
                    "SELECT iri, label, type, context, incidents, names FROM entities WHERE id = ?", [entity]
                ).fetchone()
                if q in all_names:
                    continue  # another of its names contains the query: already counted
                types[typ] += 1
                if not type_filter or typ == type_filter:
                    hits.append(SearchHit(iri, label, typ, context, name, incidents, _score(q, name, share, incidents)))
        hits.sort(key=lambda h: (-h.score, len(h.label), h.label, h.iri))

        def page(offset: int, size: int) -> list[SearchHit]:
            page_hits = hits[offset : offset + size]
            if len(page_hits) < size and len(window) == WINDOW:  # past the ranked window: the rest in SQL order
                skip = max(0, offset - len(hits))
                more = duck.rows(ordered, {**params, "limit": size - len(page_hits), "offset": WINDOW + skip})
                page_hits += [
                    SearchHit(iri, label, typ, context, name, incidents, _score(q, name, 1.0, incidents))
                    for _id, iri, label, typ, context, incidents, name, _quality in more
                ]
            return page_hits

        return types, tier, page


def _better(q: str, name: str, other: str) -> bool:
    a, b = name.lower(), other.lower()
    return (a == q, a.startswith(q), -len(a)) > (b == q, b.startswith(q), -len(b))


def _score(q: str, name: str, share: float, incidents: int) -> float:
    """How well name matches q (share: of q's trigrams found in it), and the entity's importance. Not FTS5's bm25:
    it depends on the whole index, so one index's scores would differ from another's over the same entities."""
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
    score += 0.5 * math.log10(1 + incidents)
    return score
