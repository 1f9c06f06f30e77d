"""Run the app under gunicorn (multi-process) or Flask's development server.

Each gunicorn worker builds its own app (no preload): it opens the store read-only and starts its own
query worker processes, so a killed runaway query never takes a web worker with it.
"""

from __future__ import annotations

from typing import Any

from . import create_app


def run(config: dict[str, Any], *, host: str, port: int, workers: int, dev: bool = False, threads: int = 4) -> None:
    if dev:
        create_app(config).run(host=host, port=port, threaded=True)
        return
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
                "accesslog": "-",
                "errorlog": "-",
            }
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            return create_app({**config, "PSK_POOL_SIZE": threads})

    App().run()
