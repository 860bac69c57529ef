"""Request limits of the HTTP API (qa_bot/api_limits.py): body size, malformed bodies, message count, and
slow or huge headers on a real `qa-bot serve`."""

from __future__ import annotations

import os

import pytest
from helpers import free_port

from qa_bot.settings import Settings


# --- request limits -------------------------------------------------------------------------------------------
KEY = "boundary-key-0123456789abcdef"


@pytest.fixture
def small_client(tmp_path):
    from fastapi.testclient import TestClient

    from qa_bot.api import create_app

    settings = Settings(data_dir=tmp_path / "empty", api_keys=[KEY], api_max_body_bytes=100_000)
    with TestClient(create_app(settings, warmup=False), headers={"Authorization": f"Bearer {KEY}"}) as c:
        yield c


def _error(r, status):
    assert r.status_code == status, (r.status_code, r.text)
    body = r.json()
    assert set(body) == {"error"} and body["error"]["message"], body
    return body["error"]


def test_a_body_over_the_limit_is_a_413_and_needs_a_key_first(small_client):
    padding = {"model": "qa-bot", "messages": [{"role": "user", "content": "gout"}], "pad": "x" * 200_000}
    err = _error(small_client.post("/v1/chat/completions", json=padding), 413)
    assert "QA_BOT_API_MAX_BODY_BYTES" in err["message"]

    def chunks():  # no Content-Length: counted as it comes
        for _ in range(30):
            yield b" " * 10_000

    _error(small_client.post("/v1/answer", content=chunks(), headers={"Content-Type": "application/json"}), 413)
    _error(small_client.post("/v1/answer", json=padding, headers={"Authorization": "Bearer wrong"}), 401)


@pytest.mark.parametrize("body", [b'{"question": "gout \xff\xfe"}', b"[" * 40_000 + b"]" * 40_000,
                                  b'{"question": "gout",}'])
def test_a_malformed_body_is_a_422_with_no_offset_as_param(small_client, body):
    err = _error(small_client.post("/v1/answer", content=body, headers={"Content-Type": "application/json"}), 422)
    assert err["param"] is None or not err["param"].isdigit()


def test_too_many_messages_and_an_unknown_model_are_refused_without_echo(small_client):
    many = [{"role": "user", "content": "gout"}] * 501
    _error(small_client.post("/v1/chat/completions", json={"messages": many}), 422)
    err = _error(small_client.post("/v1/chat/completions", json={
        "model": "evil-model-name-xyz", "messages": [{"role": "user", "content": "gout"}]}), 404)
    assert "evil-model-name-xyz" not in err["message"]


@pytest.mark.slow
def test_a_real_server_times_out_slow_headers_and_refuses_huge_ones(tmp_path):
    import subprocess
    import sys
    import time

    import httpx

    from helpers import raw_http

    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_BOT_")}
    env.update({"QA_BOT_DATA_DIR": str(tmp_path / "data"), "QA_BOT_API_KEYS": KEY,
                "QA_BOT_API_HEADER_TIMEOUT_S": "1"})
    proc = subprocess.Popen([sys.executable, "-m", "qa_bot.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        for _ in range(300):
            assert proc.poll() is None, proc.stdout.read()
            try:
                httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        slow = raw_http(port, b"GET /v1/models HTTP/1.1\r\nHost: x\r\nX-Slow: 1")  # never ends its headers
        assert slow.startswith(b"HTTP/1.1 408") and b'"error"' in slow
        huge = raw_http(port, b"GET /v1/models HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 40_000 + b"\r\n\r\n")
        assert huge.startswith(b"HTTP/1.1 431") and b'"error"' in huge
        big = raw_http(port, b"POST /v1/answer HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + KEY.encode() +
                   b"\r\nContent-Type: application/json\r\nContent-Length: 50000000\r\n\r\n{")
        assert big.startswith(b"HTTP/1.1 413") and b'"error"' in big
        ok = httpx.get(f"http://127.0.0.1:{port}/v1/models", headers={"Authorization": f"Bearer {KEY}"}, timeout=10)
        assert ok.status_code == 200
    finally:
        proc.terminate()
        proc.communicate(timeout=30)


# --- revocation fails closed ---------------------------------------------------------------------------------
