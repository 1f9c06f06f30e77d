"""Test helpers: real servers on 127.0.0.1 in subprocesses."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pyoxigraph as ox
import requests
import requests.auth

ROOT = Path(__file__).resolve().parent.parent
W3C = Path(os.environ.get("PSK_W3C_TESTS") or ROOT.parent / "shared" / "w3c-sparql-tests")


def kill_group(proc: subprocess.Popen[bytes]) -> None:
    """kill -9 a server's whole process group (it was started in a session of its own) and reap it."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(timeout=30)


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
        self.location, self.mode = location, mode
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.start()

    def start(self) -> None:
        exe = shutil.which("oxigraph") or str(Path(sys.executable).parent / "oxigraph")
        self.proc = subprocess.Popen(
            [exe, self.mode, "--location", str(self.location), "--bind", f"127.0.0.1:{self.port}"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_http(self.url + "/query?query=ASK%7B%7D", self.proc)

    def kill(self) -> None:
        """kill -9 (start() brings it back on the same port and store)."""
        kill_group(self.proc)

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


VIRTUOSO_INI = """\
[Database]
DatabaseFile = {dir}/virtuoso.db
ErrorLogFile = {dir}/virtuoso.log
LockFile = {dir}/virtuoso.lck
TransactionFile = {dir}/virtuoso.trx
xa_persistent_file = {dir}/virtuoso.pxa
ErrorLogLevel = 7
FileExtend = 200
Striping = 0
TempStorage = TempDatabase

[TempDatabase]
DatabaseFile = {dir}/virtuoso-temp.db
TransactionFile = {dir}/virtuoso-temp.trx
Striping = 0

[Parameters]
ServerPort = 127.0.0.1:{sql_port}
DisableUnixSocket = 1
MaxClientConnections = 8
CheckpointInterval = 60
CaseMode = 2
DirsAllowed = {dir}
NumberOfBuffers = {buffers}
MaxDirtyBuffers = {dirty}
ThreadsPerQuery = 2
; an ORDER BY with OFFSET + LIMIT past this many rows is refused (SR353): small in the tests, so they meet it
MaxSortedTopRows = {sorted_top}
; one transaction's log image: a load's switch holds all it adds (Virtuoso's default is 50 MB)
TransactionAfterImageLimit = {after_image}

[HTTPServer]
ServerPort = 127.0.0.1:{http_port}
ServerRoot = {dir}
MaxClientConnections = 8
ServerThreads = 8
EnabledDavVSP = 0
Charset = UTF-8

[SPARQL]
ResultSetMaxRows = {max_rows}
MaxQueryExecutionTime = {max_seconds}
MaxQueryCostEstimationTime = 0
"""


class VirtuosoServer:
    """Debian's virtuoso-opensource-7 (`virtuoso-t`), headless, with its own virtuoso.ini and database in a temp
    directory, on free 127.0.0.1 ports. A fresh database's `dba` account has the password `dba`; it is changed to a
    random one with `isql-vt` (as the README's set-up says), and the tests write through the digest-authenticated
    endpoints as that user.

    The ini sets a small ResultSetMaxRows, MaxSortedTopRows and MaxQueryExecutionTime, so the tests meet Virtuoso's
    row cap, sort limit and time limit on small data.
    """

    USER = "dba"

    def __init__(
        self,
        directory: Path,
        max_rows: int = 200,
        max_seconds: int = 5,
        sorted_top: int = 500,
        buffers: int = 10_000,
        after_image: int = 50_000_000,
    ) -> None:
        exe = shutil.which("virtuoso-t")
        if exe is None:
            raise RuntimeError("virtuoso-t not installed (Debian package virtuoso-opensource-7)")
        self.dir = directory
        self.dir.mkdir(parents=True, exist_ok=True)
        self.max_rows, self.max_seconds = max_rows, max_seconds
        self.http_port, self.sql_port = free_port(), free_port()
        self.ini = self.dir / "virtuoso.ini"
        self.ini.write_text(
            VIRTUOSO_INI.format(
                dir=self.dir,
                sql_port=self.sql_port,
                http_port=self.http_port,
                max_rows=max_rows,
                max_seconds=max_seconds,
                sorted_top=sorted_top,
                buffers=buffers,
                dirty=buffers * 3 // 4,
                after_image=after_image,
            )
        )
        self.root = f"http://127.0.0.1:{self.http_port}"
        self.url = self.root + "/sparql"
        self.exe = exe
        self.password = "dba"
        self.start()
        try:
            self._change_password("psk" + secrets.token_hex(8))  # a leading digit would parse as a number
        except BaseException:
            self.stop()
            raise

    def _change_password(self, new: str) -> None:
        """`set password` through isql-vt, until the new password is the one the HTTP endpoints take (on a fresh
        database, Virtuoso's own start-up scripts may still be resetting the account right after it is online)."""
        isql = shutil.which("isql-vt") or "isql-vt"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            subprocess.run(
                [isql, f"127.0.0.1:{self.sql_port}", self.USER, "dba", f"exec=set password dba {new};"],
                capture_output=True,
                timeout=60,
            )
            probe = requests.post(
                self.root + "/sparql-auth",
                data={"update": "DROP SILENT GRAPH <urn:psk:staging:none>"},
                auth=requests.auth.HTTPDigestAuth(self.USER, new),
                timeout=30,
            )
            if probe.status_code == 200:
                self.password = new
                # a checkpoint makes it durable: a kill -9 would otherwise bring the old password back
                subprocess.run(
                    [isql, f"127.0.0.1:{self.sql_port}", self.USER, new, "exec=checkpoint;"],
                    check=True,
                    capture_output=True,
                    timeout=120,
                )
                return
            time.sleep(0.5)
        raise RuntimeError("could not change Virtuoso's dba password")

    @property
    def env(self) -> dict[str, str]:
        """What `kg` needs to write into this server."""
        return {"PSK_REMOTE_USER": self.USER, "PSK_REMOTE_PASSWORD": self.password}

    def start(self) -> None:
        server_log = self.dir / "virtuoso.log"
        online = server_log.read_text(errors="replace").count("Server online at") if server_log.exists() else 0
        self.log = open(self.dir / "stdout.log", "ab")  # closed in stop()
        self.proc = subprocess.Popen(
            [self.exe, "+foreground", "+configfile", str(self.ini)],
            cwd=self.dir,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_sparql(self.url, self.proc)
        # the HTTP port answers before the server has finished starting up: wait for its log to say it is online
        deadline = time.monotonic() + 120
        while server_log.read_text(errors="replace").count("Server online at") <= online:
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError("Virtuoso did not come online")
            time.sleep(0.2)

    def kill(self) -> None:
        """kill -9: as if the machine died (the next start recovers from the transaction log)."""
        kill_group(self.proc)
        self.log.close()

    def stop(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=60)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)
        self.log.close()


def wait_sparql(url: str, proc: subprocess.Popen[bytes], timeout: float = 120) -> None:
    """Wait until the endpoint answers ASK {} with 200 (Virtuoso's HTTP port opens before SPARQL is ready)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            if requests.get(url, params={"query": "ASK {}"}, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"SPARQL endpoint at {url} did not start")


class PausingProxy:
    """A TCP proxy on 127.0.0.1 in front of a server. It forwards everything until the client's bytes contain
    `marker`; it forwards them up to the marker and then holds the rest (an upload stuck half way) and sets
    `paused`. Then `release()` lets the rest through, or `cut()` closes the connection (the server saw half).
    """

    def __init__(self, target_port: int, marker: bytes) -> None:
        self.target, self.marker = target_port, marker
        self.paused, self._go = threading.Event(), threading.Event()
        self._cut = False
        self._sock = socket.socket()
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self.port = int(self._sock.getsockname()[1])
        self._conns: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, path: str = "") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._sock.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target))
            self._conns += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, False), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, watch: bool) -> None:
        tail = b""
        try:
            while chunk := src.recv(1 << 16):
                if watch and not self.paused.is_set():
                    seen = tail + chunk
                    at = seen.find(self.marker)
                    if at >= 0:
                        cut_at = max(0, at - len(tail))
                        dst.sendall(chunk[:cut_at])
                        self.paused.set()
                        self._go.wait()
                        if self._cut:
                            raise OSError("cut")
                        chunk = chunk[cut_at:]
                    tail = seen[-len(self.marker) :]
                dst.sendall(chunk)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def release(self) -> None:
        self._go.set()

    def cut(self) -> None:
        self._cut = True
        self._go.set()

    def close(self) -> None:
        self.cut()
        self._sock.close()
        for c in self._conns:
            c.close()


def seed_graph() -> ox.Store:
    """The ontology and the seed graph, in memory (no store on disk)."""
    from kg.curated import seed_quads
    from kg.namespaces import Base
    from kg.ontology import ontology_quads

    graph = ox.Store()
    graph.extend(ontology_quads() + seed_quads(Base()))
    return graph


def rows(store: ox.Store, query: str) -> list[dict[str, str]]:
    """A SELECT's rows as {variable: lexical value} (unbound variables left out)."""
    from kg.namespaces import PREFIXES
    from kg.sparql import solutions

    res = solutions(store.query(query, prefixes=PREFIXES))
    names = [v.value for v in res.variables]
    return [{n: r[n].value for n in names if r[n] is not None} for r in res]  # type: ignore[union-attr]
