"""A small OpenAI-compatible chat server for tests: replays scripted completions on a free loopback port.

    with FakeOpenAI() as srv:
        srv.script = [Reply("Bottom line: … [1].")]        # one reply per request, in order; the last repeats
        settings = Settings(llm="openai:fake", llm_base_url=srv.base_url, llm_timeout=2)

``/v1/chat/completions`` answers ``stream: true`` requests with server-sent events (the content cut into
small deltas, then ``[DONE]``) and others with one JSON completion. A reply may sleep before answering
(``delay``: longer than the client's timeout simulates a hung model), fail with an HTTP status, or be empty.
``srv.requests`` keeps every request body for assertions.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Reply:
    content: str = ""
    delay: float = 0.0  # seconds before the response starts
    status: int = 200
    chunk_chars: int = 12  # size of the streamed deltas
    chunk_delay: float = 0.0  # seconds between streamed deltas
    make: Callable[[dict], str] | None = None  # content computed from the request body (overrides content)


class FakeOpenAI:
    def __init__(self) -> None:
        self.script: list[Reply] = [Reply("")]
        self.requests: list[dict] = []
        self._stop = threading.Event()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # quiet
                pass

            def _send_json(self, status: int, obj: dict) -> None:
                body = json.dumps(obj).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                if self.path.rstrip("/").endswith("/models"):
                    self._send_json(200, {"object": "list", "data": [{"id": "fake", "object": "model"}]})
                else:
                    self._send_json(404, {"error": {"message": "not found"}})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                try:
                    req = json.loads(self.rfile.read(length) or b"{}")
                except ValueError:
                    req = {}
                if not self.path.rstrip("/").endswith("/chat/completions"):
                    self._send_json(404, {"error": {"message": "not found"}})
                    return
                fake.requests.append(req)
                i = len(fake.requests) - 1
                reply = fake.script[min(i, len(fake.script) - 1)] if fake.script else Reply("")
                if reply.delay and fake._stop.wait(reply.delay):
                    return
                if reply.status != 200:
                    self._send_json(reply.status, {"error": {"message": "scripted failure", "type": "server_error"}})
                    return
                if reply.make is not None:
                    reply = Reply(reply.make(req), 0.0, reply.status, reply.chunk_chars, reply.chunk_delay)
                model = req.get("model", "fake")
                created = int(time.time())
                if not req.get("stream"):
                    self._send_json(200, {
                        "id": f"chatcmpl-{i}", "object": "chat.completion", "created": created, "model": model,
                        "choices": [{"index": 0, "message": {"role": "assistant", "content": reply.content},
                                     "finish_reason": "stop"}],
                        "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20}})
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.send_header("Connection", "close")
                self.end_headers()

                def event(delta: dict, finish: str | None = None) -> None:
                    chunk = {"id": f"chatcmpl-{i}", "object": "chat.completion.chunk", "created": created,
                             "model": model, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
                    self.wfile.write(b"data: " + json.dumps(chunk).encode() + b"\n\n")
                    self.wfile.flush()

                try:
                    event({"role": "assistant", "content": ""})
                    text = reply.content
                    for k in range(0, len(text), max(1, reply.chunk_chars)):
                        if reply.chunk_delay and fake._stop.wait(reply.chunk_delay):
                            return
                        event({"content": text[k:k + reply.chunk_chars]})
                    event({}, "stop")
                    self.wfile.write(b"data: [DONE]\n\n")
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout)
                self.close_connection = True

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.block_on_close = False
        self.port = self.server.server_address[1]
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> FakeOpenAI:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
