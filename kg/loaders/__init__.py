"""Conflict-data loaders: ACLED export CSV and UCDP GED CSV onto the ontology.

Layers, bottom up: rows (the parsed row, column readers, the CSV reader), acled / ucdp (each dataset's columns and
codebook checks), ntriples (N-Triples text), reconcile (names onto existing entities), emit (a row's triples),
pipeline (a whole load: convert, bulk-load, publish).
"""

from .acled import ACLED_COLUMNS, ACLED_TYPES
from .pipeline import KINDS, LoadReport, LoadRun, load_files
from .ucdp import UCDP_REQUIRED

__all__ = ["ACLED_COLUMNS", "ACLED_TYPES", "KINDS", "UCDP_REQUIRED", "LoadReport", "LoadRun", "load_files"]
