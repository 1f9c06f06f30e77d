"""Query errors in a researcher's terms: which prefix is unknown, which keyword was probably meant, what a time
limit means. The endpoint (server/protocol.py) and the query page both answer with these messages."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from kg.namespaces import PREFIXES

KEYWORDS = """
SELECT CONSTRUCT DESCRIBE ASK WHERE FROM NAMED PREFIX BASE DISTINCT REDUCED AS GROUP BY HAVING ORDER ASC DESC LIMIT
OFFSET VALUES OPTIONAL UNION MINUS GRAPH SERVICE FILTER BIND EXISTS NOT IN UNDEF SILENT LATERAL A TRUE FALSE
STR LANG LANGMATCHES DATATYPE BOUND IRI URI BNODE RAND ABS CEIL FLOOR ROUND CONCAT STRLEN UCASE LCASE ENCODE_FOR_URI
CONTAINS STRSTARTS STRENDS STRBEFORE STRAFTER YEAR MONTH DAY HOURS MINUTES SECONDS TIMEZONE TZ NOW UUID STRUUID MD5
SHA1 SHA256 SHA384 SHA512 COALESCE IF STRLANG STRDT SAMETERM ISIRI ISURI ISBLANK ISLITERAL ISNUMERIC REGEX SUBSTR
REPLACE COUNT SUM MIN MAX AVG SAMPLE GROUP_CONCAT SEPARATOR TRIPLE SUBJECT PREDICATE OBJECT ISTRIPLE
""".split()
_KEYWORD_SET = set(KEYWORDS)

# One token at a time; the groups name what it is. IRIs are told from the < operator by what they may contain.
_TOKEN = re.compile(
    r"""
    (?P<comment>\#[^\n]*)
  | (?P<string>\"\"\"(?:[^\\]|\\.)*?\"\"\"|'''(?:[^\\]|\\.)*?'''|"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
  | (?P<iri><[^<>"{}|^`\\\s]*>)
  | (?P<var>[?$][A-Za-z0-9_\u00b7\u00c0-\ufffd]+)
  | (?P<lang>@[A-Za-z]+(?:-[A-Za-z0-9]+)*)
  | (?P<pname>(?:[A-Za-z\u00c0-\ufffd][\w.\-\u00b7\u00c0-\ufffd]*)?:(?:[\w\-.:%\u00b7\u00c0-\ufffd]*[\w\-:%\u00b7\u00c0-\ufffd])?)
  | (?P<number>[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?))
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<blank>_:[\w.\-]+)
  | (?P<other>\S)
    """,
    re.VERBOSE,
)
_DECLARED = re.compile(r"PREFIX\s+([A-Za-z][\w.\-]*)?:\s*<", re.IGNORECASE)
_POSITION = re.compile(r"error at (\d+):(\d+)")


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    line: int
    column: int  # 1-based, like the parser's


def tokens(query: str) -> list[Token]:
    out = []
    line_starts = [0] + [m.end() for m in re.finditer("\n", query)]
    line = 0
    for m in _TOKEN.finditer(query):
        kind = m.lastgroup or "other"
        while line + 1 < len(line_starts) and line_starts[line + 1] <= m.start():
            line += 1
        if kind != "comment":
            out.append(Token(kind, m.group(0), line + 1, m.start() - line_starts[line] + 1))
    return out


def _excerpt(query: str, line: int, column: int) -> str:
    lines = query.splitlines() or [""]
    text = lines[min(line, len(lines)) - 1]
    return f"\n  {text}\n  {' ' * max(column - 1, 0)}^"


def unknown_prefixes(query: str) -> list[Token]:
    """Prefixed names whose prefix is neither declared in the query nor predeclared by this endpoint."""
    declared = {m.group(1) or "" for m in _DECLARED.finditer(query)} | set(PREFIXES)
    out = []
    toks = tokens(query)
    for i, tok in enumerate(toks):
        if tok.kind != "pname":
            continue
        if i > 0 and toks[i - 1].kind == "word" and toks[i - 1].text.upper() == "PREFIX":
            continue
        prefix = tok.text.split(":", 1)[0]
        if prefix not in declared:
            out.append(tok)
    return out


def misspelled_keywords(query: str) -> list[tuple[Token, str | None]]:
    """Bare words that are not SPARQL keywords or functions, each with the keyword it most likely was."""
    out = []
    for tok in tokens(query):
        if tok.kind == "word" and tok.text.upper() not in _KEYWORD_SET:
            match = difflib.get_close_matches(tok.text.upper(), KEYWORDS, n=1, cutoff=0.6)
            out.append((tok, match[0] if match else None))
    return out


def explain_syntax_error(query: str, parser_message: str) -> str:
    """A message for a query that does not parse, naming what is wrong and where."""
    unknown = unknown_prefixes(query)
    if unknown:
        tok = unknown[0]
        prefix = tok.text.split(":", 1)[0]
        names = ", ".join(f"{p}:" for p in sorted(PREFIXES))
        return (
            f"unknown prefix '{prefix}:' in {tok.text} (line {tok.line}, column {tok.column}). "
            f"Declare it with PREFIX {prefix}: <namespace IRI>, or use one of the predeclared prefixes: {names}."
            + _excerpt(query, tok.line, tok.column)
        )
    words = misspelled_keywords(query)
    if words:
        tok, likely = words[0]
        hint = f"did you mean {likely}?" if likely else "it is not a SPARQL keyword or function."
        return f"unknown word '{tok.text}' (line {tok.line}, column {tok.column}): {hint}" + _excerpt(query, tok.line, tok.column)
    pos = _POSITION.search(parser_message)
    if pos is None:
        return parser_message
    line, column = int(pos.group(1)), int(pos.group(2))
    listed = parser_message.split("expected", 1)[-1][:300]
    expected = [a or b for a, b in re.findall(r'"([^"]+)"|\b([A-Z][A-Z_]+)\b', listed)]
    toks = tokens(query)
    opened = sum(t.text in "{(" for t in toks if t.kind == "other") - sum(t.text in "})" for t in toks if t.kind == "other")
    lines = query.splitlines() or [""]
    text = lines[min(line, len(lines)) - 1]
    covering = [t for t in toks if t.line == line and t.column <= column < t.column + len(t.text)]
    before = [t for t in toks if (t.line, t.column) < (line, column)]
    here = (covering or before[-1:] or [Token("other", "", line, column)])[0].text[:20]
    if opened > 0 and not text[max(column - 1, 0) :].strip():
        what = "the query ends too early: a '{' or '(' is not closed"
    else:
        what = f"'{here}' cannot come here" if here else "the query cannot go on here"
        if expected and not re.search(r"\\u\{|\[", listed):
            what += " (expected " + " or ".join(f"'{e}'" if not e.isalpha() else e for e in dict.fromkeys(expected)) + ")"
        else:
            what += " (is a term, a '.' or a '}' missing before it?)"
    return f"syntax error at line {line}, column {column}: {what}" + _excerpt(query, line, column)


def explain_timeout(parser_message: str, limit: float) -> str:
    """A message for a query that ran out of time, with the limit and ways to make it cheaper."""
    if "busy" in parser_message:
        return f"every query worker is busy with other queries ({parser_message}); try again in a moment."
    return (
        f"the query was stopped at the time limit of {limit:g} s. It cannot finish in that time as written; "
        "narrow it: match a class or a specific entity first (?i a psk:Incident ; psk:province ?p), filter on a date "
        'range (FILTER(?date >= "2024-01-01"^^xsd:date)), add LIMIT, avoid ORDER BY or GROUP BY over every row, and '
        "avoid patterns with only variables (?s ?p ?o) or unbounded paths (psk:locatedIn*). For whole-graph analyses "
        "download a dump (/dumps) and query it locally."
    )
