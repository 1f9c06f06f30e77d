"""Slow and oversized clients against `kg serve` on 127.0.0.1 (real sockets): they cost the server no request thread.

Request bodies are read on Granian's event loop under a deadline (server/rsgi.py), headers under Granian's own
header timeout and buffer limit; only complete requests reach a request thread.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from .helpers import Server

SLOW = 50


@pytest.fixture(scope="module")
def small_server(full_store: Path) -> Iterator[str]:
    # one web worker with two request threads: the easiest server to starve
    srv = Server(
        {"PSK_STORE": str(full_store), "PSK_BODY_TIMEOUT": "2", "PSK_HEADER_TIMEOUT": "2"},
        "--workers",
        "1",
        "--threads",
        "2",
        "--no-access-log",
    )
    yield srv.url
    srv.stop()


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def _read_all(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    sock.settimeout(30)
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def test_fifty_slow_bodies_and_fifty_slow_headers_leave_the_service_answering(small_server: str) -> None:
    port = _port(small_server)
    slow: list[socket.socket] = []
    try:
        for _ in range(SLOW):
            s = socket.create_connection(("127.0.0.1", port))
            s.sendall(
                b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/sparql-query\r\nContent-Length: 1000\r\n\r\nSELE"
            )
            slow.append(s)
        for _ in range(SLOW):
            s = socket.create_connection(("127.0.0.1", port))
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            slow.append(s)
        assert requests.get(small_server + "/healthz", timeout=10).json()["status"] == "ok"
        r = requests.get(small_server + "/sparql", params={"query": "ASK { ?s ?p ?o }"}, timeout=10)
        assert r.status_code == 200 and r.json()["boolean"] is True
        r = requests.get(small_server + "/sparql", params={"query": "SELECT (COUNT(*) AS ?n) { ?s a ?c }"}, timeout=10)
        assert r.status_code == 200
        assert requests.get(small_server + "/", timeout=10).status_code == 200
        # the slow body is cut at its deadline: 408, and the connection is closed
        answer = _read_all(slow[0])
        assert answer.startswith(b"HTTP/1.1 408 ") and b"did not arrive within 2 s" in answer
    finally:
        for s in slow:
            s.close()


def test_an_early_413_closes_the_connection(small_server: str) -> None:
    with socket.create_connection(("127.0.0.1", _port(small_server))) as s:
        s.sendall(
            b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/sparql-query\r\nContent-Length: 100000000\r\n\r\nSELECT"
        )
        answer = _read_all(s)  # returns only once the server closes
    head = answer.split(b"\r\n\r\n", 1)[0].lower()
    assert head.startswith(b"http/1.1 413 ") and b"connection: close" in head
    assert b"the limit is 1048576 bytes" in answer


@pytest.mark.parametrize("size", [70_000, 400_000])
def test_request_headers_over_64_kib_are_refused(small_server: str, size: int) -> None:
    with socket.create_connection(("127.0.0.1", _port(small_server))) as s:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * size + b"\r\n\r\n")
        answer = _read_all(s)
    assert answer.startswith(b"HTTP/1.1 431 ")
    assert requests.get(small_server + "/healthz", headers={"X-Big": "a" * 60_000}, timeout=10).status_code == 200


def test_responses_keep_their_shape_behind_the_adapter(small_server: str) -> None:
    # a streamed response (a dump), a POST form, a percent-encoded path, repeated headers
    dump = requests.get(small_server + "/dumps/pakistan-security-kg.nt.gz", timeout=30)
    assert dump.status_code == 200 and dump.content[:2] == b"\x1f\x8b"
    r = requests.post(small_server + "/sparql", data={"query": "ASK {}"}, headers={"Accept": "application/json"}, timeout=10)
    assert r.json() == {"head": {}, "boolean": True}
    r = requests.get(small_server + "/id/incident/acled%2Dsyn0001", allow_redirects=False, timeout=10)
    assert r.status_code in (303, 200)
