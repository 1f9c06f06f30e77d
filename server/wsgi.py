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

from . import create_app

SERVERS = ("granian", "gunicorn")
# create_app() reads these from the environment in each worker process
ENV_KEYS = ("PSK_STORE", "PSK_BASE", "PSK_REMOTE", "PSK_QUERY_TIMEOUT", "PSK_POOL_SIZE")


def app_from_env() -> Flask:
    """The app factory a worker process calls (configuration comes through the environment)."""
    pool = os.environ.get("PSK_POOL_SIZE")
    return create_app({"PSK_POOL_SIZE": int(pool)} if pool else None)


def _export(config: dict[str, Any]) -> None:
    for key in ENV_KEYS:
        value = config.get(key)
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = str(value)


def run(
    config: dict[str, Any],
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
    if dev:
        create_app(config).run(host=host, port=port, threaded=True)
        return
    _export({**config, "PSK_POOL_SIZE": threads})
    if server == "granian":
        _run_granian(host, port, workers, threads, access_log)
    elif server == "gunicorn":
        _run_gunicorn(config, host, port, workers, threads, access_log)
    else:
        raise ValueError(f"unknown server {server!r}: use one of {', '.join(SERVERS)}")


def _run_granian(host: str, port: int, workers: int, threads: int, access_log: bool) -> None:
    from granian import Granian
    from granian.constants import HTTPModes, Interfaces

    Granian(
        "server.wsgi:app_from_env",
        factory=True,
        interface=Interfaces.WSGI,
        address=host,
        port=port,
        workers=workers,
        blocking_threads=threads,
        backlog=2048,
        http=HTTPModes.http1,
        websockets=False,
        respawn_failed_workers=True,
        log_access=access_log,
    ).serve()


def _run_gunicorn(config: dict[str, Any], host: str, port: int, workers: int, threads: int, access_log: bool) -> None:
    from gunicorn.app.base import BaseApplication

    class App(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            timeout = int(float(config.get("PSK_QUERY_TIMEOUT") or 10)) + 30
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
