"""SPARQL for kg: safety checks on query text, bounded lookups, evaluation on pyoxigraph, result serialization."""

from ..errors import QueryRejected, QuerySyntaxError, QueryTimeout
from .execute import Result, capped, execute, solutions, value
from .lookup import Lookup, bounded_lookup, run_lookup
from .prologue import prologue_end
from .safety import Limits, QueryInfo, analyze, select_star_order
from .serialize import serialize, serialize_bindings, serialize_triples, term_json

__all__ = [
    "Limits",
    "Lookup",
    "QueryInfo",
    "QueryRejected",
    "QuerySyntaxError",
    "QueryTimeout",
    "Result",
    "analyze",
    "bounded_lookup",
    "capped",
    "execute",
    "prologue_end",
    "run_lookup",
    "select_star_order",
    "serialize",
    "serialize_bindings",
    "serialize_triples",
    "solutions",
    "term_json",
    "value",
]
