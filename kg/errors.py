"""Errors that name what went wrong and where."""

from __future__ import annotations


class KGError(Exception):
    """Base class for errors reported to users without a traceback."""


class SeedError(KGError):
    """A curated record is invalid: names the file, the record and the field."""

    def __init__(self, file: str, record: str, message: str) -> None:
        super().__init__(f"{file}: record {record!r}: {message}")
        self.file, self.record = file, record


class QuoteMismatch(SeedError):
    """A quote does not equal the article text at its offsets."""


class LoadError(KGError):
    """A data file cannot be loaded: names the file, line and column."""

    def __init__(self, file: str, line: int, column: str | None, message: str) -> None:
        where = f"{file}, line {line}" + (f", column {column!r}" if column else "")
        super().__init__(f"{where}: {message}")
        self.file, self.line, self.column, self.message = file, line, column, message


class ValidationFailed(KGError):
    """SHACL validation found violations."""

    def __init__(self, report: str, count: int) -> None:
        super().__init__(f"SHACL validation failed with {count} violation(s):\n{report}")
        self.report, self.count = report, count
