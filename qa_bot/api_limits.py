"""Request limits of the HTTP API: what a client may make the server hold.

- ``BodyLimit`` (ASGI middleware, after the key check): a body over ``QA_BOT_API_MAX_BODY_BYTES`` is a 413 (by its
  Content-Length before anything is read, or as soon as a chunked body passes the limit); a body that is not UTF-8
  or nested too deeply for the JSON parser is a 422, like any malformed body (never the parser's 400).
- ``LimitedH11Protocol`` (uvicorn's h11 protocol): a connection that has not sent a request's headers within
  ``QA_BOT_API_HEADER_TIMEOUT_S`` gets a 408 and is closed; headers over ``MAX_HEADER_BYTES`` get a 431.
Every refusal is the API's JSON error body.
"""

from __future__ import annotations

import json
import logging

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

log = logging.getLogger("qa_bot.api")

MAX_HEADER_BYTES = 32 * 1024  # the request line and headers (uvicorn's h11_max_incomplete_event_size)
JSON_METHODS = frozenset({"POST", "PUT", "PATCH"})


def _error_bytes(message: str) -> bytes:
    return json.dumps({"error": {"message": message, "type": "invalid_request_error", "param": None,
                                 "code": None}}).encode("utf-8")


async def _send_error(send, status: int, message: str) -> None:
    body = _error_bytes(message)
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


def body_problem(body: bytes) -> str | None:
    """Why a JSON body cannot be read at all (not UTF-8, nested too deeply), else None (the app's parser then
    reports any syntax error)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as e:
        return f"the body is not valid UTF-8 (byte {e.start})"
    try:
        json.loads(text)
    except RecursionError:
        return "the body's JSON is nested too deeply"
    except ValueError:
        return None
    return None


class BodyLimit:
    """Reads the body of a JSON request whole, up to ``max_bytes``, before the app sees it."""

    def __init__(self, app, max_bytes: int):
        self.app, self.max_bytes = app, max_bytes

    def _too_large(self) -> str:
        return f"the request body is over the limit of {self.max_bytes:,} bytes (QA_BOT_API_MAX_BODY_BYTES)"

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope.get("method") not in JSON_METHODS:
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers", [])).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_bytes):
            await _send_error(send, 413, self._too_large())
            return
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await _send_error(send, 413, self._too_large())
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        problem = body_problem(body) if body else None
        if problem:
            await _send_error(send, 422, f"invalid request: {problem}")
            return
        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


class LimitedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline for a request's headers (408) and a 431 for oversized headers."""

    header_timeout: float | None = None  # read from the settings at the first connection of the process

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        if LimitedH11Protocol.header_timeout is None:
            from .settings import Settings

            LimitedH11Protocol.header_timeout = Settings().server.api_header_timeout_s
        self._header_timer = None
        self._arm()

    def _arm(self) -> None:
        self._disarm()
        self._header_timer = self.loop.call_later(self.header_timeout, self._header_timeout)

    def _disarm(self) -> None:
        if getattr(self, "_header_timer", None) is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def data_received(self, data: bytes) -> None:
        if self.conn.their_state is h11.IDLE:  # still in a request's head: h11 caps only a head that is incomplete
            head = self.conn.trailing_data[0] + data
            end = head.find(b"\r\n\r\n")
            if (end if end >= 0 else len(head)) > MAX_HEADER_BYTES:
                self._disarm()
                self._raw_response(431, "Request Header Fields Too Large",
                                   f"the request's headers are over {MAX_HEADER_BYTES:,} bytes")
                return
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:  # a request's headers are in (or the connection is done)
            self._disarm()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm()  # the next request on this connection has the same deadline

    def connection_lost(self, exc) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _header_timeout(self) -> None:
        self._header_timer = None
        if self.transport.is_closing() or self.conn.their_state is not h11.IDLE:
            return
        if self.cycle is not None and not self.cycle.response_complete:
            return
        if self.cycle is not None and not self.conn.trailing_data[0]:  # an idle kept-alive connection: closed
            self.transport.close()
            return
        self._raw_response(408, "Request Timeout", f"the request's headers did not arrive within "
                                                   f"{self.header_timeout:g} s (QA_BOT_API_HEADER_TIMEOUT_S)")

    def send_400_response(self, msg: str) -> None:
        self._raw_response(400, "Bad Request", "invalid HTTP request")

    def _raw_response(self, status: int, reason: str, message: str) -> None:
        body = _error_bytes(message)
        self.transport.write(f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\n"
                             f"content-length: {len(body)}\r\nconnection: close\r\n\r\n".encode("ascii") + body)
        self.transport.close()
