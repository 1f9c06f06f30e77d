"""`kg serve` refuses a port that is already in use, with a clear message (the servers bind with SO_REUSEPORT and
would otherwise start silently beside the running one and share its traffic)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from .helpers import ROOT


def serve(port: int, store: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kg", "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
        cwd=ROOT,
        env={**os.environ, "PSK_STORE": str(store)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_second_kg_serve_on_the_same_port_is_refused(server: str, full_store: Path) -> None:
    port = int(server.rsplit(":", 1)[1])
    done = serve(port, full_store)
    assert done.returncode == 1
    assert f"cannot serve on 127.0.0.1:{port}: Address already in use" in done.stderr
    assert "choose another --port" in done.stderr


def test_a_port_held_with_so_reuseport_is_refused(full_store: Path) -> None:
    with socket.socket() as holder:
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        done = serve(holder.getsockname()[1], full_store)
    assert done.returncode == 1 and "Address already in use" in done.stderr
