"""The WSGI app behind Granian's RSGI interface: request bodies are read on the event loop, with a deadline.

Under Granian's WSGI interface a request thread is handed the request as soon as its headers are in, and reading
the body blocks that thread: a dozen clients that send headers and then a byte now and then hold every request
thread, and `/healthz` stops answering. Here the body is read asynchronously on Granian's event loop, under a size
limit (an over-long Content-Length is refused before a byte is read, and the connection closed) and a deadline
(408 and close), and only a complete request is handed to a request thread. Slow headers never reach the app:
Granian reads them on the event loop too, with its own header read timeout and buffer limit (server/wsgi.py).
"""

from __future__ import annotations

import asyncio
import io
import sys
import urllib.parse
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

_CLOSE = [("content-type", "text/plain; charset=utf-8"), ("connection", "close")]
_BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
_DONE = object()


class _TooLarge(Exception):
    pass


class RSGIAdapter:
    """An RSGI application (Granian) running a WSGI app in a pool of request threads once the request is complete."""

    def __init__(self, app: WSGIApp, *, threads: int, max_body: int, body_timeout: float, max_header_bytes: int) -> None:
        self.app = app
        self.max_body = max_body
        self.body_timeout = body_timeout
        self.max_header_bytes = max_header_bytes
        self.executor = ThreadPoolExecutor(max(1, threads), thread_name_prefix="request")
        self.base_environ: dict[str, Any] = {
            "SCRIPT_NAME": "",
            "wsgi.errors": sys.stderr,
            "wsgi.input_terminated": True,
            "wsgi.multiprocess": True,
            "wsgi.multithread": True,
            "wsgi.run_once": False,
            "wsgi.version": (1, 0),
        }

    def __rsgi_init__(self, loop: asyncio.AbstractEventLoop) -> None:
        pass

    def __rsgi_del__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)

    async def __rsgi__(self, scope: Any, protocol: Any) -> None:
        if scope.proto != "http":
            return
        headers = scope.headers
        items = list(headers.items())
        if sum(len(k) + len(v) + 4 for k, v in items) > self.max_header_bytes:
            message = f"431 Request Header Fields Too Large: the limit is {self.max_header_bytes} bytes\n"
            protocol.response_bytes(431, _CLOSE, message.encode())
            return
        try:
            body = await self._body(scope, headers, protocol)
        except _TooLarge as exc:
            protocol.response_bytes(413, _CLOSE, f"413 Payload Too Large: {exc}\n".encode())
            return
        except TimeoutError:
            message = f"408 Request Timeout: the request body did not arrive within {self.body_timeout:g} s\n"
            protocol.response_bytes(408, _CLOSE, message.encode())
            return
        except ValueError as exc:
            protocol.response_bytes(400, _CLOSE, f"400 Bad Request: {exc}\n".encode())
            return
        environ = self._environ(scope, items, body)
        loop = asyncio.get_running_loop()
        status, response_headers, first, rest = await loop.run_in_executor(self.executor, self._call, environ)
        if rest is None:
            protocol.response_bytes(status, response_headers, first)
            return
        transport = protocol.response_stream(status, response_headers)
        try:
            if first:
                await transport.send_bytes(first)
            while True:
                chunk = await loop.run_in_executor(self.executor, next, rest, _DONE)
                if chunk is _DONE:
                    break
                await transport.send_bytes(chunk)
        finally:
            close = getattr(rest, "close", None)
            if close is not None:
                await loop.run_in_executor(self.executor, close)

    async def _body(self, scope: Any, headers: Any, protocol: Any) -> bytes:
        length = headers.get("content-length")
        if length is not None:
            if not length.strip().isdigit():
                raise ValueError(f"Content-Length {length!r} is not a number")
            if int(length) > self.max_body:
                raise _TooLarge(f"the request body is {int(length)} bytes; the limit is {self.max_body} bytes")
            if int(length) == 0:
                return b""
        elif scope.method not in _BODY_METHODS and "transfer-encoding" not in headers:
            return b""
        return await asyncio.wait_for(self._read(protocol), self.body_timeout)

    async def _read(self, protocol: Any) -> bytes:
        chunks: list[bytes] = []
        size = 0
        async for chunk in protocol:
            size += len(chunk)
            if size > self.max_body:
                raise _TooLarge(f"the request body is over the {self.max_body} byte limit")
            chunks.append(chunk)
        return b"".join(chunks)

    def _environ(self, scope: Any, items: list[tuple[str, str]], body: bytes) -> dict[str, Any]:
        server, _, port = scope.server.rpartition(":")
        environ = dict(self.base_environ)
        environ.update(
            {
                "REQUEST_METHOD": scope.method,
                "PATH_INFO": urllib.parse.unquote_to_bytes(scope.path).decode("latin-1"),
                "QUERY_STRING": scope.query_string,
                "SERVER_NAME": server,
                "SERVER_PORT": port,
                "SERVER_PROTOCOL": "HTTP/" + scope.http_version,
                "REMOTE_ADDR": scope.client.rpartition(":")[0].strip("[]"),
                "wsgi.url_scheme": scope.scheme,
                "wsgi.input": io.BytesIO(body),
                "CONTENT_LENGTH": str(len(body)) if body else "",
            }
        )
        for key, value in items:
            name = key.upper().replace("-", "_")
            if name == "CONTENT_TYPE":
                environ["CONTENT_TYPE"] = value
                continue
            if name == "CONTENT_LENGTH":
                continue
            name = "HTTP_" + name
            environ[name] = environ[name] + "," + value if name in environ else value
        return environ

    def _call(self, environ: dict[str, Any]) -> tuple[int, list[tuple[str, str]], bytes, Iterator[bytes] | None]:
        """Run the WSGI app (in a request thread): the whole body, or the first chunk and an iterator over the rest."""
        started: list[Any] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
            started[:] = [int(status.split(" ", 1)[0]), headers]
            return lambda data: None

        result = self.app(environ, start_response)
        if isinstance(result, list | tuple):
            body = b"".join(result)
            close = getattr(result, "close", None)
            if close is not None:
                close()
            return started[0], started[1], body, None
        iterator = iter(result)
        first = next(iterator, b"")  # a lazy app calls start_response on the first chunk
        if not started:
            raise RuntimeError("the WSGI app returned without calling start_response")
        second = next(iterator, None)
        if second is None:  # one chunk (most responses): sent whole, with its Content-Length
            close = getattr(result, "close", None)
            if close is not None:
                close()
            return started[0], started[1], first, None
        return started[0], started[1], first + second, _Closing(iterator, result)


class _Closing(Iterator[bytes]):
    """The rest of a WSGI response, closed as PEP 3333 asks."""

    def __init__(self, iterator: Iterator[bytes], result: Iterable[bytes]) -> None:
        self.iterator, self.result = iterator, result

    def __next__(self) -> bytes:
        return next(self.iterator)

    def close(self) -> None:
        close = getattr(self.result, "close", None)
        if close is not None:
            close()
