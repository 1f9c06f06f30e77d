"""N-Triples lines, written as text: the converters emit millions of them, and pyoxigraph's bulk loader reads them."""

from __future__ import annotations

from functools import lru_cache

from ..namespaces import PSK, RDF, RDFS, XSD

TYPE = f" <{RDF}type> "  # how a typing triple reads (to count typed subjects)


def nt_lit(value: str, datatype: str | None = None, lang: str | None = None) -> str:
    esc = value
    if "\\" in esc or '"' in esc or "\n" in esc or "\r" in esc:
        esc = esc.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    if lang:
        return f'"{esc}"@{lang}'
    if datatype and datatype != XSD + "string":
        return f'"{esc}"^^<{datatype}>'
    return f'"{esc}"'


def iri(value: str) -> str:
    return f"<{value}>"


@lru_cache(maxsize=256)
def pred(value: str) -> str:
    """iri() for the few constant predicates and classes of the converters (cached: called per triple)."""
    return f"<{value}>"


def entity_lines(s: str, cls: str, label: str) -> list[str]:
    return [f"{iri(s)} {iri(RDF + 'type')} {iri(PSK + cls)} .", f"{iri(s)} {iri(RDFS + 'label')} {nt_lit(label, lang='en')} ."]
