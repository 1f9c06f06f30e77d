"""Run the app: Granian (default) or gunicorn, multi-process; or Flask's development server.

Both production servers run several worker processes. Each worker builds its own app from the
environment (no preload): it opens the store read-only and starts its own query worker processes, so
a killed runaway query never takes a web worker with it.

Why Granian by default: its HTTP/1.1 handling is native code, so a request costs about 0.1 ms of
server time against about 0.3 ms for gunicorn's gthread worker (Python HTTP parsing plus hand-offs
between the poller and the thread pool). On a lookup-heavy endpoint that difference is most of the
budget (bench/). gunicorn stays available (`kg serve --server gunicorn`) for deployments built on it.
"""

from __future__ import annotations

import os
from typing import Any

from flask import Flask

from kg.config import ENV_NAMES, Settings

from . import create_app
from .rsgi import RSGIAdapter

SERVERS = ("granian", "gunicorn")


def app_from_env() -> Flask:
    """The app factory a worker process calls (the settings come through the environment)."""
    return create_app(Settings.from_env())


def rsgi_app_from_env() -> RSGIAdapter:
    """The app factory a Granian worker calls: the app behind the RSGI adapter (bodies read on the event loop)."""
    settings = Settings.from_env()
    app = create_app(settings)
    return RSGIAdapter(
        app,
        # request threads: one per query worker, one per query that may wait for a worker, and two more, so
        # pages, lookups and /healthz answer while every query worker is busy and queries queue
        threads=2 * settings.pool_size + 2,
        max_body=settings.max_body_bytes,
        body_timeout=settings.body_timeout,
        max_header_bytes=settings.max_header_bytes,
    )


def _export(settings: Settings) -> None:
    """Hand the settings to the worker processes, which read them from the environment."""
    env = settings.to_env()
    for key in ENV_NAMES:
        if key in env:
            os.environ[key] = env[key]
        else:
            os.environ.pop(key, None)


def run(
    settings: Settings,
    *,
    host: str,
    port: int,
    workers: int,
    server: str = "granian",
    dev: bool = False,
    threads: int = 4,
    access_log: bool = True,
) -> None:
    """Serve until interrupted. threads: request threads per worker (also its number of query processes)."""
    settings = settings.replace(pool_size=threads)
    if dev:
        create_app(settings).run(host=host, port=port, threaded=True)
        return
    _export(settings)
    if server == "granian":
        _run_granian(settings, host, port, workers, threads, access_log)
    elif server == "gunicorn":
        _run_gunicorn(settings, host, port, workers, threads, access_log)
    else:
        raise ValueError(f"unknown server {server!r}: use one of {', '.join(SERVERS)}")


def _run_granian(settings: Settings, host: str, port: int, workers: int, threads: int, access_log: bool) -> None:
    from granian import Granian
    from granian.constants import HTTPModes, Interfaces
    from granian.http import HTTP1Settings

    Granian(
        "server.wsgi:rsgi_app_from_env",
        factory=True,
        interface=Interfaces.RSGI,
        address=host,
        port=port,
        workers=workers,
        backlog=2048,
        http=HTTPModes.http1,
        # headers are read on the event loop: a deadline for all of them, and a buffer that holds no more than the
        # header limit (a larger header block is refused by Granian before the app sees it)
        http1_settings=HTTP1Settings(
            header_read_timeout=int(settings.header_timeout * 1000),
            max_buffer_size=max(8192, settings.max_header_bytes),
        ),
        websockets=False,
        respawn_failed_workers=True,
        log_access=access_log,
    ).serve()


def _run_gunicorn(settings: Settings, host: str, port: int, workers: int, threads: int, access_log: bool) -> None:
    from gunicorn.app.base import BaseApplication

    class App(BaseApplication):
        def load_config(self) -> None:
            timeout = int(settings.query_timeout) + 30
            options = {
                "bind": f"{host}:{port}",
                "workers": workers,
                "worker_class": "gthread",
                "threads": threads,
                "timeout": timeout,
                "graceful_timeout": 10,
                "backlog": 2048,
                "keepalive": 30,
                "accesslog": "-" if access_log else None,
                "errorlog": "-",
            }
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            return app_from_env()

    App().run()
