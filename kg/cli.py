"""`kg`: a thin command-line layer over the kg package (and the server's app factory for `serve`)."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click
import pyoxigraph as ox

from .config import Settings
from .errors import KGError
from .namespaces import PREFIXES
from .store import LocalStore


def _settings(ctx: click.Context) -> Settings:
    return ctx.obj  # type: ignore[no-any-return]


def _fail(exc: Exception) -> None:
    click.echo(f"error: {exc}", err=True)
    sys.exit(1)


@click.group()
@click.option("--store", "store", envvar="PSK_STORE", help="Path of the embedded store (default data/store).")
@click.option("--base", envvar="PSK_BASE", help="Base IRI for entities (default https://w3id.org/pakistan-security-kg/).")
@click.version_option(package_name="pakistan-security-kg")
@click.pass_context
def main(ctx: click.Context, store: str | None, base: str | None) -> None:
    """Build, validate, query, export and serve the Pakistan security knowledge graph."""
    settings = Settings()
    if store:
        settings.store = store
    if base:
        settings.base = base
    ctx.obj = settings


@main.command()
@click.option("--into", "into", metavar="URL", help="Write into a remote SPARQL 1.1 store instead of the embedded one.")
@click.option("--no-validate", is_flag=True, help="Skip SHACL validation (not recommended).")
@click.pass_context
def build(ctx: click.Context, into: str | None, no_validate: bool) -> None:
    """Build the graph from seeds/ (idempotent and atomic)."""
    from .build import assemble
    from .build import build as do_build
    from .validate import check

    s = _settings(ctx)
    try:
        if into:
            from .remote import RemoteStore

            quads = assemble(s.iris)
            if not no_validate:
                check(quads)
            RemoteStore(into).replace_all(quads, s.iris, progress=lambda m: click.echo(m, err=True))
            click.echo(f"built into {into}")
            return
        version = do_build(LocalStore(s.store), s.iris, validate=not no_validate, progress=lambda m: click.echo(m, err=True))
        click.echo(f"built {s.store} (version {version})")
    except KGError as exc:
        _fail(exc)


@main.command()
@click.option("--from-store", is_flag=True, help="Validate the built store instead of the seeds.")
@click.pass_context
def validate(ctx: click.Context, from_store: bool) -> None:
    """Validate the seeds (or the store) against ontology/shapes.ttl."""
    from .build import assemble
    from .validate import validate as run

    s = _settings(ctx)
    try:
        if from_store:
            _v, store = LocalStore(s.store).open_read()
            report = run(store.quads_for_pattern(None, None, None, ox.DefaultGraph()), with_ontology=False)
        else:
            report = run(assemble(s.iris))
    except KGError as exc:
        _fail(exc)
    if report.conforms:
        click.echo("conforms: no SHACL violations")
    else:
        click.echo(report.text)
        sys.exit(1)


def _table(variables: list[str], rows: list[list[object]]) -> str:
    cells = [[("" if t is None else (t.value if hasattr(t, "value") else str(t))) for t in row] for row in rows]
    widths = [max([len(v)] + [len(r[i]) for r in cells]) for i, v in enumerate(variables)]
    line = " | ".join(v.ljust(w) for v, w in zip(variables, widths, strict=True))
    out = [line, "-+-".join("-" * w for w in widths)]
    out += [" | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in cells]
    return "\n".join(out)


@main.command()
@click.argument("query", required=False)
@click.option("-f", "--file", "file", type=click.Path(exists=True, dir_okay=False), help="Read the query from a .rq file.")
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json", "csv", "tsv", "xml", "turtle", "ntriples", "jsonld"]), default="table"
)
@click.option("--limit", "max_rows", default=100_000, show_default=True, help="Maximum rows returned.")
@click.pass_context
def query(ctx: click.Context, query: str | None, file: str | None, fmt: str, max_rows: int) -> None:
    """Run a SPARQL query (argument or --file) on the store; prefixes psk:, rdfs:, skos: ... are predeclared."""
    from .sparql import Limits, analyze, execute, serialize

    text = Path(file).read_text(encoding="utf-8") if file else query
    if not text:
        _fail(click.UsageError("give a query as argument or with --file"))
    assert text is not None
    s = _settings(ctx)
    try:
        analyze(text, Limits(max_bytes=10_000_000, max_depth=256))
        if s.remote:
            from .remote import RemoteStore

            result = RemoteStore(s.remote).execute(text, max_rows=max_rows)
        else:
            _v, store = LocalStore(s.store).open_read()
            result = execute(store, text, max_rows=max_rows)
    except KGError as exc:
        _fail(exc)
    if fmt == "table":
        if result.kind == "bindings":
            click.echo(_table(result.variables, result.rows))
            click.echo(
                f"({len(result.rows)} row{'s' if len(result.rows) != 1 else ''}{', truncated' if result.truncated else ''})",
                err=True,
            )
        elif result.kind == "boolean":
            click.echo("true" if result.boolean else "false")
        else:
            click.echo(serialize(result, "turtle").decode())
        return
    if result.kind == "graph" and fmt in ("json", "csv", "tsv", "xml"):
        fmt = "turtle"
    sys.stdout.buffer.write(serialize(result, fmt))


@main.command()
@click.option(
    "--format", "fmt", type=click.Choice(["turtle", "ntriples", "jsonld", "rdfxml", "trig", "nquads"]), default="turtle"
)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Output file (default stdout).")
@click.pass_context
def export(ctx: click.Context, fmt: str, output: str | None) -> None:
    """Export the graph. turtle/ntriples/jsonld/rdfxml: default graph; trig/nquads: with claim graphs."""
    formats = {
        "turtle": ox.RdfFormat.TURTLE,
        "ntriples": ox.RdfFormat.N_TRIPLES,
        "jsonld": ox.RdfFormat.JSON_LD,
        "rdfxml": ox.RdfFormat.RDF_XML,
        "trig": ox.RdfFormat.TRIG,
        "nquads": ox.RdfFormat.N_QUADS,
    }
    s = _settings(ctx)
    try:
        _v, store = LocalStore(s.store).open_read()
    except KGError as exc:
        _fail(exc)
    rdf_format = formats[fmt]
    kwargs: dict[str, object] = {}
    if rdf_format in (ox.RdfFormat.TURTLE, ox.RdfFormat.TRIG, ox.RdfFormat.RDF_XML):
        kwargs["prefixes"] = PREFIXES
    if not rdf_format.supports_datasets:
        kwargs["from_graph"] = ox.DefaultGraph()
    if output:
        store.dump(output, rdf_format, **kwargs)
        click.echo(f"wrote {output}", err=True)
    else:
        store.dump(sys.stdout.buffer, rdf_format, **kwargs)


@main.command()
@click.pass_context
def stats(ctx: click.Context) -> None:
    """Counts of triples, graphs, entities per class."""
    from .sparql import execute

    s = _settings(ctx)
    try:
        version, store = LocalStore(s.store).open_read()
    except KGError as exc:
        _fail(exc)
    out: dict[str, object] = {"store": s.store, "version": version, "quads": len(store)}
    out["named_graphs"] = sum(1 for _ in store.named_graphs())
    res = execute(
        store,
        "SELECT ?class (COUNT(?s) AS ?n) WHERE { ?s a ?class FILTER(STRSTARTS(STR(?class), STR(psk:))) } GROUP BY ?class ORDER BY DESC(?n)",
        max_rows=1000,
    )
    out["classes"] = {row[0].value.split("#")[-1]: int(row[1].value) for row in res.rows}
    click.echo(json.dumps(out, indent=2))


@main.command()
@click.pass_context
def compact(ctx: click.Context) -> None:
    """Publish a compacted copy of the current store version (after loads run with --no-compact)."""
    s = _settings(ctx)
    started = time.monotonic()
    try:
        version = LocalStore(s.store).compact()
    except KGError as exc:
        _fail(exc)
    click.echo(f"compacted in {time.monotonic() - started:.1f} s; current version {version}")


@main.command()
@click.argument("quote")
def locate(quote: str) -> None:
    """Print the character offsets of QUOTE in the seed article (a curator's helper)."""
    from .curated import load_article
    from .curated import locate as find
    from .namespaces import Base

    article = load_article(Base())
    spans = find(article.text, quote)
    if not spans:
        _fail(KGError(f"{quote!r} does not occur in {article.path.name}"))
    for start, end in spans:
        click.echo(f"start: {start}, end: {end}")


@main.group()
def load() -> None:
    """Load conflict-data exports (ACLED, UCDP GED) into the store, transactionally."""


def _load(ctx: click.Context, kind: str, files: tuple[str, ...], skip_invalid: bool, into: str | None, compact: bool) -> None:
    from .acled import load_files

    s = _settings(ctx)
    try:
        report = load_files(
            kind,
            [Path(f) for f in files],
            s,
            skip_invalid=skip_invalid,
            into=into or s.remote,
            progress=lambda m: click.echo(m, err=True),
            compact=compact,
        )
    except KGError as exc:
        _fail(exc)
    for skipped in report.skipped:
        click.echo(f"skipped: {skipped}", err=True)
    click.echo(f"loaded {report.rows} rows ({report.quads} quads) from {len(files)} file(s); {len(report.skipped)} skipped")


def _load_command(kind: str, help_text: str) -> None:
    """Register `kg load <kind>`: both formats take the same arguments and options."""

    @load.command(kind, help=help_text)
    @click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
    @click.option("--skip-invalid", is_flag=True, help="Skip bad rows (each reported) instead of stopping the load.")
    @click.option("--into", metavar="URL", help="Load into a remote SPARQL 1.1 store.")
    @click.option(
        "--compact/--no-compact",
        default=True,
        show_default=True,
        help="After publishing, replace the new version with a compacted copy (faster reads; embedded store only).",
    )
    @click.pass_context
    def command(ctx: click.Context, files: tuple[str, ...], skip_invalid: bool, into: str | None, compact: bool) -> None:
        _load(ctx, kind, files, skip_invalid, into, compact)


_load_command("acled", "Load ACLED export CSV files (all 31 columns, export order).")
_load_command("ucdp", "Load UCDP GED CSV files.")
