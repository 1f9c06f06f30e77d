"""Test helpers: real servers on 127.0.0.1 in subprocesses."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
W3C = Path(os.environ.get("PSK_W3C_TESTS") or ROOT.parent / "shared" / "w3c-sparql-tests")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            requests.get(url, timeout=1)
            return
        except requests.RequestException:
            time.sleep(0.1)
    raise RuntimeError(f"server at {url} did not start")


class Server:
    """`kg serve` (Granian unless args say --server gunicorn) on a free 127.0.0.1 port."""

    def __init__(self, env: dict[str, str], *args: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        cmd = [
            sys.executable,
            "-c",
            "from kg.cli import main; main()",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            *args,
        ]
        # Logs go to a file: an unread pipe fills up and blocks the server.
        self.log = tempfile.NamedTemporaryFile(prefix="psk-server-", suffix=".log", delete=False)
        self.proc = subprocess.Popen(
            cmd, env={**os.environ, **env}, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )
        wait_http(self.url + "/healthz", self.proc)

    def stop(self) -> None:
        self.log.close()
        os.unlink(self.log.name)
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)


class OxigraphServer:
    """The real Oxigraph SPARQL server (PyPI `oxigraph`) on a free 127.0.0.1 port."""

    def __init__(self, location: Path, mode: str = "serve") -> None:
        exe = shutil.which("oxigraph") or str(Path(sys.executable).parent / "oxigraph")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [exe, mode, "--location", str(location), "--bind", f"127.0.0.1:{self.port}"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_http(self.url + "/query?query=ASK%7B%7D", self.proc)

    @classmethod
    def read_only(cls, location: Path) -> OxigraphServer:
        """`oxigraph serve-read-only` on an existing store directory (as the benchmarks use it)."""
        return cls(location, mode="serve-read-only")

    def stop(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=15)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass
