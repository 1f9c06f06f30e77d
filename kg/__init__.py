"""pakistan-security-kg: build, validate, load and query the knowledge graph (no web code here)."""

__version__ = "0.1.0"
