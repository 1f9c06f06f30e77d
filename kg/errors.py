"""Every error kg reports: each names what went wrong and where, and carries the HTTP status it maps to.

One status per error kind, on every path (the /sparql protocol layer, the HTML result page, entity pages, the CLI):
a refused or malformed query is 400 (413 when too large), a time-out or a busy service 503, a store that cannot be
reached 503, anything else 500.
"""

from __future__ import annotations


class KGError(Exception):
    """Base class for errors reported to users without a traceback."""

    status = 500


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


class RowError(KGError):
    """A row of a data file is invalid (the loader adds the file and line and raises a LoadError)."""

    def __init__(self, column: str | None, message: str) -> None:
        super().__init__(message)
        self.column = column


class ValidationFailed(KGError):
    """SHACL validation found violations."""

    def __init__(self, report: str, count: int) -> None:
        super().__init__(f"SHACL validation failed with {count} violation(s):\n{report}")
        self.report, self.count = report, count


class StoreMissing(KGError):
    """There is no store at the configured place (run `kg build`)."""

    status = 503


class StoreWriteFailed(KGError):
    """A new store version could not be written (e.g. the disk is full); the published store is unchanged."""


class DumpUnavailable(KGError):
    """A dump cannot be written now (e.g. the disk is full); nothing of it is left on disk."""

    status = 503


class QueryRejected(KGError):
    """The query is refused before evaluation (status 400, or 413 for size)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class QuerySyntaxError(KGError):
    """The query does not parse; the message carries the parser's position."""

    status = 400


class QueryTimeout(KGError):
    """The query ran past the time limit and was stopped."""

    status = 503


class RetryLater(KGError):
    """An error the client may retry after retry_after seconds (sent as Retry-After)."""

    def __init__(self, message: str, retry_after: int = 1) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ServiceBusy(RetryLater):
    """Every query worker this web worker may use is busy and the query never ran: try again shortly."""

    status = 503


class TooManyRequests(RetryLater):
    """This client already has its share of queries running (status 429)."""

    status = 429


class RemoteError(KGError):
    """The remote SPARQL store failed or cannot be reached."""

    status = 503


class BadAccept(KGError):
    """The Accept header cannot be parsed."""

    status = 400


class NotAcceptable(KGError):
    """No offered media type is acceptable."""

    status = 406


class StoreUnavailable(RemoteError):
    """The remote store cannot be reached (down, refusing connections, or answering 502-504). Names no internal
    address: the message goes to web clients."""

    status = 503


class InvalidFilter(KGError):
    """A filter or paging parameter of an incident table that is not valid (names the parameter)."""

    status = 400


class AllocatorMissing(KGError):
    """The memory allocator asked for (kg serve --allocator) is not installed."""


class RecipeError(KGError):
    """A recipe file that is not well formed (names the file and the field)."""


class ParameterError(KGError):
    """A recipe parameter value that does not fit its type (names the parameter)."""

    status = 400
