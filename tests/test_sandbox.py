"""Defence in depth: the processes that evaluate queries cannot open network sockets, so a SERVICE query that got
past every check on query text still reaches nothing; bounded lookups never hand user text to the engine."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest

from kg import sandbox
from kg.errors import KGError
from kg.executor import Job, QueryPool, answer_lookup
from kg.sparql import Limits, bounded_lookup
from kg.sparql.safety import tokens

from .test_query_safety import Listener

pytestmark = pytest.mark.skipif(sandbox.unavailable() is not None, reason=str(sandbox.unavailable()))


@pytest.fixture()
def listener() -> Iterator[Listener]:
    srv = Listener()
    yield srv
    srv.close()


@pytest.fixture()
def store_dir(tmp_path: Path) -> str:
    path = tmp_path / "store"
    store = ox.Store(str(path))
    store.add(ox.Quad(ox.NamedNode("http://example.org/a"), ox.NamedNode("http://example.org/p"), ox.Literal("x")))
    store.flush()
    del store
    return str(path)


def _wait_for(condition: object, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.02)
    return False


def test_a_smuggled_service_query_reaches_no_listener(listener: Listener, store_dir: str) -> None:
    query = f"SELECT * WHERE {{ SERVICE <http://127.0.0.1:{listener.port}/sparql> {{ ?s ?p ?o }} }}"
    # the control: evaluated in this process (no filter), the query does call the listener
    with pytest.raises(OSError):
        list(ox.Store().query(query))  # type: ignore[call-overload]
    assert _wait_for(lambda: listener.reached() == 1)
    # handed straight to a query worker, past every check on query text: the kernel refuses the socket
    pool = QueryPool(1)
    try:
        with pytest.raises(KGError, match="Operation not permitted"):
            pool.run(Job(store_dir, query, "json", 10), timeout=10)
        with pytest.raises(KGError):  # by name: resolving may need a socket too (DNS); either way nothing is sent
            pool.run(Job(store_dir, query.replace("127.0.0.1", "localhost"), "json", 10), timeout=10)
        answer, _ = pool.run(Job(store_dir, "SELECT * WHERE { ?s ?p ?o }", "json", 10), timeout=10)
        assert answer.rows == 1  # the worker survived and still answers
    finally:
        pool.close()
    assert listener.reached() == 1


def test_the_filter_refuses_inet_sockets_and_keeps_unix_ones() -> None:
    script = (
        "import socket\n"
        "from kg.sandbox import deny_network\n"
        "print(deny_network())\n"
        "for family in (socket.AF_INET, socket.AF_INET6):\n"
        "    try:\n"
        "        socket.socket(family, socket.SOCK_STREAM)\n"
        "        print('allowed')\n"
        "    except PermissionError:\n"
        "        print('refused')\n"
        "a, b = socket.socketpair()\n"
        "a.send(b'ok')\n"
        "print(b.recv(2).decode())\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["None", "refused", "refused", "ok"]


def test_bounded_lookups_never_hand_user_text_to_the_engine(listener: Listener, store_dir: str) -> None:
    # a literal that spells a SERVICE clause: the recognizer takes it as one literal
    hostile = f'SELECT ?s WHERE {{ ?s ?p "x }} SERVICE <http://127.0.0.1:{listener.port}/> {{ ?a ?b ?c }} {{" }}'
    info = bounded_lookup(hostile, Limits())
    assert info is not None and info.lookup is not None
    canonical = info.lookup.sparql(10)
    words = [t.text.upper() for t in tokens(canonical) if t.kind == "word"]
    assert "SERVICE" not in words and words == ["SELECT", "WHERE", "LIMIT"]  # the literal stays a string
    store = ox.Store.read_only(store_dir)
    for fmt in ("json", "xml", "csv"):
        answer, _ = answer_lookup(store, info.lookup, fmt, 10)
        assert answer.rows == 0
    assert listener.reached() == 0
