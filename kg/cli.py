"""`kg`: the command line over the kg package. `serve` imports the web app (server/) only when it runs."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click
import pyoxigraph as ox

from . import formats
from .allocator import CHOICES
from .config import Settings
from .cube import publish_statistics
from .errors import KGError, StoreMissing
from .namespaces import PREFIXES
from .store import LocalStore


def settings_of(ctx: click.Context) -> Settings:
    return ctx.obj  # type: ignore[no-any-return]


def port_in_use(host: str, port: int) -> str | None:
    """Why (host, port) cannot be served on, or None. The servers bind with SO_REUSEPORT, which would let a second
    server start beside a running one and share its traffic; a plain bind here sees the one already there."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a closed connection's TIME_WAIT is no conflict
        try:
            probe.bind((host, port))
        except OSError as exc:
            return exc.strerror or str(exc)
    return None


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
    try:
        ctx.obj = Settings.from_env(store=store, base=base)
    except KGError as exc:
        _fail(exc)


@main.command()
@click.option("--into", "into", metavar="URL", help="Write into a remote SPARQL 1.1 store instead of the embedded one.")
@click.option("--no-validate", is_flag=True, help="Skip SHACL validation (not recommended).")
@click.pass_context
def build(ctx: click.Context, into: str | None, no_validate: bool) -> None:
    """Build the graph from seeds/ (idempotent and atomic)."""
    from .build import assemble
    from .build import build as do_build
    from .validate import check

    s = settings_of(ctx)
    try:
        if into:
            from .remote import RemoteStore

            quads = assemble(s.iris)
            if not no_validate:
                check(quads)
            RemoteStore.from_settings(s, into).replace_all(quads, s.iris, progress=lambda m: click.echo(m, err=True))
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

    s = settings_of(ctx)
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
@click.option("--format", "fmt", type=click.Choice(["table", *formats.BY_NAME]), default="table")
@click.option("--limit", "max_rows", default=100_000, show_default=True, help="Maximum rows returned.")
@click.pass_context
def query(ctx: click.Context, query: str | None, file: str | None, fmt: str, max_rows: int) -> None:
    """Run a SPARQL query (argument or --file) on the store; prefixes psk:, rdfs:, skos: ... are predeclared."""
    from .sparql import Limits, analyze, execute, serialize

    text = Path(file).read_text(encoding="utf-8") if file else query
    if not text:
        _fail(click.UsageError("give a query as argument or with --file"))
    assert text is not None
    s = settings_of(ctx)
    try:
        analyze(text, Limits(max_bytes=10_000_000, max_depth=256))
        if s.remote:
            from .remote import RemoteStore

            result = RemoteStore.from_settings(s).execute(text, max_rows=max_rows)
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
    sys.stdout.buffer.write(serialize(result, formats.fit(result.kind, fmt)))


@main.command()
@click.option("--format", "fmt", type=click.Choice([f.name for f in formats.GRAPH_FORMATS]), default="turtle")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Output file (default stdout).")
@click.pass_context
def export(ctx: click.Context, fmt: str, output: str | None) -> None:
    """Export the graph. turtle/ntriples/jsonld/rdfxml: default graph; trig/nquads: with claim graphs."""
    s = settings_of(ctx)
    try:
        _v, store = LocalStore(s.store).open_read()
    except KGError as exc:
        _fail(exc)
    target = formats.get(fmt)
    kwargs = target.serialize_kwargs(PREFIXES)
    if not target.dataset:
        kwargs["from_graph"] = ox.DefaultGraph()
    if output:
        store.dump(output, **kwargs)
        click.echo(f"wrote {output}", err=True)
    else:
        store.dump(sys.stdout.buffer, **kwargs)


@main.command()
@click.pass_context
def stats(ctx: click.Context) -> None:
    """Counts of triples, graphs, entities per class."""
    from .sparql import execute

    s = settings_of(ctx)
    try:
        version, store = LocalStore(s.store).open_read()
    except KGError as exc:
        _fail(exc)
    out: dict[str, object] = {"store": s.store, "version": version, "quads": len(store)}
    out["named_graphs"] = sum(1 for _ in store.named_graphs())
    from . import queries

    res = execute(store, queries.text("class_stats"), max_rows=1000)
    out["classes"] = {row[0].value.split("#")[-1]: int(row[1].value) for row in res.rows}
    click.echo(json.dumps(out, indent=2))


@main.command()
@click.pass_context
def compact(ctx: click.Context) -> None:
    """Publish a compacted copy of the current store version with its statistics graph (after --no-compact loads)."""
    s = settings_of(ctx)
    started = time.monotonic()
    try:
        version = publish_statistics(LocalStore(s.store), s.iris)
    except KGError as exc:
        _fail(exc)
    click.echo(f"compacted in {time.monotonic() - started:.1f} s; current version {version}")


@main.command()
@click.pass_context
def versions(ctx: click.Context) -> None:
    """List the store versions on disk (current, previous, and what the next write removes)."""
    s = settings_of(ctx)
    local = LocalStore(s.store)
    listed = local.list_versions()
    if not listed:
        _fail(StoreMissing(f"no store at {local.path}: run `kg build` first"))
    notes = {
        "current": "current",
        "previous": "previous (kg rollback returns to it)",
        "replaced": "replaced by its compacted copy; removed once nothing reads it, or by the next write",
        "unpublished": "never published; removed by the next write",
        "partial": "incomplete (a write that failed or was killed); removed by the next write",
    }
    rows = [[v.name, v.created or "-", f"{v.size / 1e6:.1f} MB", notes[v.status]] for v in listed]
    click.echo(_table(["version", "created", "size", "status"], rows))  # type: ignore[arg-type]
    click.echo(f"disk use of all versions and dumps: {local.disk_usage() / 1e6:.1f} MB (shared files counted once)")


@main.command()
@click.pass_context
def rollback(ctx: click.Context) -> None:
    """Make the previous store version current again (atomic; a second rollback undoes the first)."""
    s = settings_of(ctx)
    try:
        old, new = LocalStore(s.store).rollback()
    except KGError as exc:
        _fail(exc)
    click.echo(f"rolled back from {old} to {new}")


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


def _load(
    ctx: click.Context,
    kind: str,
    files: tuple[str, ...],
    skip_invalid: bool,
    into: str | None,
    compact: bool,
    explain: bool = False,
) -> None:
    from .loaders import load_files

    s = settings_of(ctx)
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
    if explain:  # each distinct name: the entity it was reconciled with and the rule that decided
        for m in report.names:
            where = f" in {m.parent}" if m.parent else ""
            click.echo(f"{m.category}\t{m.name}{where}\t-> {m.entity}\t[{m.rule}] {m.matched}")
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
    @click.option("--explain", is_flag=True, help="Report each distinct name: the entity it became and the rule that decided.")
    @click.pass_context
    def command(
        ctx: click.Context, files: tuple[str, ...], skip_invalid: bool, into: str | None, compact: bool, explain: bool
    ) -> None:
        _load(ctx, kind, files, skip_invalid, into, compact, explain)


_load_command("acled", "Load ACLED export CSV files (all 31 columns, export order; optional population columns).")
_load_command("ucdp", "Load UCDP GED CSV files.")


@main.command()
@click.argument("iri")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.pass_context
def describe(ctx: click.Context, iri: str, fmt: str) -> None:
    """What the entity page of IRI shows: labels, types, statements with provenance, claims, incoming links."""
    from .backend import make_backend
    from .describe import Reader

    s = settings_of(ctx)
    if not iri.startswith(("http://", "https://")):
        iri = s.iris.entity(iri.removeprefix("id/"))  # a local path such as province/balochistan
    backend = make_backend(s)
    try:
        entity = Reader(backend, s.iris).describe(iri)
    except KGError as exc:
        _fail(exc)
    finally:
        backend.close()
    if entity is None:
        _fail(KGError(f"nothing is known about {iri}"))
    assert entity is not None
    if fmt == "json":
        click.echo(json.dumps(entity.to_json(), indent=2, ensure_ascii=False))
        return
    click.echo(f"{entity.label}  <{entity.iri}>")
    click.echo("types: " + ", ".join(t.label for t in entity.types))
    if entity.aliases:
        click.echo("also known as: " + ", ".join(entity.aliases))
    for c in entity.comments:
        click.echo(c)
    rows: list[list[object]] = []
    for group in entity.outgoing:
        for v in group.values:
            prov = "; ".join(f"{p.status}: {p.quote or p.source.label}" for p in v.provenance) or "curated"
            rows.append([group.property.label, v.label if v.iri else v.literal, prov])
    if rows:
        click.echo("\n" + _table(["property", "value", "provenance"], rows))
    if entity.claim is not None:
        d = entity.claim
        click.echo(
            f"\nspeaker: {', '.join(sp.label for sp in d.speaker)}; stance: {d.stance}" + (" (disputed)" if d.disputed else "")
        )
        if d.hedge:
            click.echo(f"hedge: {d.hedge!r} (certainty: {d.certainty})")
        for r in d.contested_by:
            click.echo(f"contested by: {r.label}" + (f" <{r.url}>" if r.url else ""))
        for other in d.contesting_claims:
            click.echo(f"contested by: {other.speaker} {other.stance.lower()}: {other.label}")
    if entity.figures:
        rows = [
            [
                f.kind,
                f.display,
                ", ".join(w.label for w in f.stated_by),
                "; ".join(r.publisher or r.label for r in f.reported_in),
                f.date,
            ]
            for f in entity.figures
        ]
        click.echo("\n" + _table(["figure", "value", "stated by", "reported in", "date"], rows))
    if entity.claims:
        rows = [[c.label, c.status + (" (disputed)" if c.disputed else ""), c.speaker, c.stance, c.quote] for c in entity.claims]
        click.echo("\n" + _table(["claim", "status", "speaker", "stance", "quote"], rows))
    if entity.incoming:
        click.echo("\n" + _table(["referenced by", "count"], [[g.property.label, g.count] for g in entity.incoming]))


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True)
@click.option("--workers", default=2, show_default=True, help="Web worker processes.")
@click.option("--threads", default=4, show_default=True, help="Request threads per worker (each has as many query processes).")
@click.option(
    "--server",
    "server_name",
    type=click.Choice(["granian", "gunicorn"]),
    default="granian",
    show_default=True,
    help="The multi-process HTTP server.",
)
@click.option("--access-log/--no-access-log", default=True, show_default=True, help="Log every request.")
@click.option("--store", "remote", metavar="URL", help="Serve from a remote SPARQL 1.1 endpoint instead of the embedded store.")
@click.option(
    "--timeout", "query_timeout", type=float, help="Hard per-query time limit in seconds (default 10; PSK_QUERY_TIMEOUT)."
)
@click.option(
    "--allocator",
    type=click.Choice(CHOICES),
    default="auto",
    envvar="PSK_ALLOCATOR",
    show_default=True,
    help="Memory allocator for the server processes (auto: jemalloc or mimalloc when installed; 10-20 % faster queries).",
)
@click.option("--dev", is_flag=True, help="Use Flask's development server (single process).")
@click.pass_context
def serve(
    ctx: click.Context,
    host: str,
    port: int,
    workers: int,
    threads: int,
    server_name: str,
    access_log: bool,
    remote: str | None,
    query_timeout: float | None,
    allocator: str,
    dev: bool,
) -> None:
    """Serve the SPARQL endpoint, entity pages and dumps (Granian or gunicorn, several worker processes)."""
    from .allocator import AllocatorMissing, ensure

    s = settings_of(ctx).replace(remote=remote, query_timeout=query_timeout)
    if not s.remote and not LocalStore(s.store).exists():
        _fail(KGError(f"no store at {s.store}: run `kg build` first"))
    busy = port_in_use(host, port)
    if busy is not None:
        _fail(KGError(f"cannot serve on {host}:{port}: {busy} (is another server running there?); choose another --port"))
    try:
        in_use = ensure(allocator)  # may execute this command again with the allocator preloaded
    except AllocatorMissing as exc:
        _fail(exc)
    click.echo(f"memory allocator: {in_use}", err=True)
    from server.wsgi import run

    run(s, host=host, port=port, workers=workers, server=server_name, dev=dev, threads=threads, access_log=access_log)
