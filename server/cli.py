"""The `kg` command: kg's click group plus `serve`, which needs the web app (kg never imports Flask)."""

from __future__ import annotations

import sys

import click

from kg.cli import _settings, main
from kg.errors import KGError
from kg.store import LocalStore

from .allocator import CHOICES, AllocatorMissing, ensure


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
@click.option("--timeout", "query_timeout", default=10.0, show_default=True, help="Hard per-query time limit in seconds.")
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
    query_timeout: float,
    allocator: str,
    dev: bool,
) -> None:
    """Serve the SPARQL endpoint, entity pages and dumps (Granian or gunicorn, several worker processes)."""
    s = _settings(ctx)
    remote = remote or s.remote
    if not remote and not LocalStore(s.store).exists():
        click.echo(f"error: {KGError(f'no store at {s.store}: run `kg build` first')}", err=True)
        sys.exit(1)
    try:
        in_use = ensure(allocator)  # may execute this command again with the allocator preloaded
    except AllocatorMissing as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    click.echo(f"memory allocator: {in_use}", err=True)
    from .wsgi import run

    config = {"PSK_STORE": s.store, "PSK_BASE": s.base, "PSK_REMOTE": remote, "PSK_QUERY_TIMEOUT": query_timeout}
    run(config, host=host, port=port, workers=workers, server=server_name, dev=dev, threads=threads, access_log=access_log)


__all__ = ["main"]
