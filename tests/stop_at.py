"""Run the `kg` command line, freezing this process (SIGSTOP) when it reaches a phase, so a test can kill -9 it there.

    python -m tests.stop_at PHASE kg-args...

PHASE is `say:<words>` (a progress message containing the words has been printed), `before-rename` (the new version
is complete and its store closed, not yet renamed from .partial) or `before-publish` (renamed, the link not yet
switched). The line "STOPPED AT <phase>" on stderr tells the test that the process is about to stop.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any

import click

from kg.store import LocalStore


def main() -> None:
    phase, args = sys.argv[1], sys.argv[2:]

    def stop() -> None:
        sys.stderr.write(f"STOPPED AT {phase}\n")
        sys.stderr.flush()
        os.kill(os.getpid(), signal.SIGSTOP)

    if phase.startswith("say:"):
        words = phase[4:]
        echo = click.echo

        def echo_and_stop(message: Any = None, *a: Any, **kw: Any) -> None:
            echo(message, *a, **kw)
            if isinstance(message, str) and words in message:
                stop()

        click.echo = echo_and_stop  # type: ignore[assignment]
    elif phase in ("before-rename", "before-publish"):
        name = "_write_meta" if phase == "before-rename" else "_point_to"
        original = getattr(LocalStore, name)

        def stop_then(self: LocalStore, version: str, *a: Any, **kw: Any) -> Any:
            stop()
            return original(self, version, *a, **kw)

        setattr(LocalStore, name, stop_then)
    else:
        raise SystemExit(f"unknown phase {phase!r}")
    from kg.cli import main as cli

    sys.argv = ["kg", *args]
    cli()


if __name__ == "__main__":
    main()
