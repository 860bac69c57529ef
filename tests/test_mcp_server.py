"""`qa-bot mcp` driven by the official `mcp` client, over stdio (a subprocess) and streamable HTTP (a server on a
loopback port): `answer` gives the same text and citations as the HTTP API, a scoped key sees its own collections
only, a bad key is refused, a revoked key stops working."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import httpx
import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from qa_bot.keys import hash_key
from qa_bot.render import answer_to_text
from qa_bot.settings import DEFAULT_DISCLAIMER, Settings
from qa_bot.types import Answer

from conftest import ROOT, SEED_EXPERT, SEED_GUIDELINE, SEED_QUESTION
# the HTTP API's keys file (KEY: every collection, SCOPED_KEY: seeds), settings and client (KEY), to compare with
from test_api import KEY, SCOPED_KEY, api_settings, client, free_port, keys_file  # noqa: F401 (fixtures)

pytestmark = pytest.mark.slow

FOLLOW_UP = [{"role": "user", "content": "What is Noonan syndrome?"}, {"role": "assistant", "content": "…"}]


def server_env(settings: Settings, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_BOT_")}
    env.update({"PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "QA_BOT_DATA_DIR": str(settings.data_dir),
                "QA_BOT_CORPUS": os.pathsep.join(map(str, settings.ingest.corpus))}, **extra)
    if settings.server.api_keys_file:
        env["QA_BOT_API_KEYS_FILE"] = str(settings.server.api_keys_file)
    return env


@asynccontextmanager
async def stdio_session(settings: Settings, key: str | None, errlog=sys.stderr):
    params = StdioServerParameters(command=sys.executable, args=["-m", "qa_bot.cli", "mcp"], cwd=str(ROOT),
                                   env=server_env(settings, **({"QA_BOT_MCP_KEY": key} if key else {})))
    async with stdio_client(params, errlog=errlog) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        yield session


@asynccontextmanager
async def http_session(url: str, key: str):
    async with create_mcp_http_client(headers={"Authorization": f"Bearer {key}"}) as http, \
            streamable_http_client(url, http_client=http) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        yield session


def api_answer(api, question: str, history: list | None = None, **body) -> Answer:
    r = api.post("/v1/answer", json={"question": question, "history": history or [], **body})
    assert r.status_code == 200, r.text
    return Answer.model_validate(r.json())


async def assert_same_as_the_api(session: ClientSession, api) -> None:
    """`answer` gives the text and citations the HTTP API (``api``: its test client) gives; `search` passages."""
    tools = {t.name: t for t in (await session.list_tools()).tools}
    assert {"answer", "search"} <= set(tools)
    assert tools["answer"].output_schema and "citations" in tools["answer"].output_schema["properties"]
    for question, history in ((SEED_QUESTION, []), ("How is it treated?", FOLLOW_UP)):
        r = await session.call_tool("answer", {"question": question, "history": history})
        assert not r.is_error, r.content
        expected = api_answer(api, question, history)
        assert r.content[0].text == answer_to_text(expected)  # the chat-completions content, word for word
        assert DEFAULT_DISCLAIMER in r.content[0].text
        s = r.structured_content
        assert s["citations"] == [c.model_dump(mode="json") for c in expected.citations] and s["citations"]
        assert (s["abstained"], s["standalone_question"], s["disclaimer"]) == \
               (expected.abstained, expected.standalone_question, expected.disclaimer)
    chat = api.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": SEED_QUESTION}]})
    r = await session.call_tool("answer", {"question": SEED_QUESTION})
    assert r.content[0].text == chat.json()["choices"][0]["message"]["content"]
    found = await session.call_tool("search", {"query": SEED_QUESTION, "k": 3})
    passages = found.structured_content["passages"]
    assert len(passages) == 3 and [p["rank"] for p in passages] == [1, 2, 3]
    assert {SEED_GUIDELINE, SEED_EXPERT} & {p["doc_id"] for p in passages}
    assert all(p["text"] and p["text"] in found.content[0].text for p in passages)


async def assert_scoped_to_seeds(session: ClientSession) -> None:
    r = await session.call_tool("answer", {"question": SEED_QUESTION})
    assert not r.is_error and r.structured_content["citations"]
    assert {c["doc_id"] for c in r.structured_content["citations"]} <= {SEED_GUIDELINE, SEED_EXPERT}
    found = await session.call_tool("search", {"query": "How is high blood pressure screened?", "k": 5})
    assert {p["collection"] for p in found.structured_content["passages"]} == {"seeds"}
    for tool, args in (("answer", {"question": "What is gout?"}), ("search", {"query": "gout"})):
        r = await session.call_tool(tool, {**args, "filters": {"collections": ["medquad"]}})
        assert r.is_error and "no access to collection(s): medquad" in r.content[0].text


@pytest.fixture(params=["stdio", "http"])
def connect(request, api_settings):
    """key -> an MCP client session over the transport (stdio: a `qa-bot mcp` subprocess under that key; http: a
    session with that bearer key to the `qa-bot mcp --transport http` server)."""
    if request.param == "stdio":
        return lambda key: stdio_session(api_settings, key)
    url = request.getfixturevalue("http_server")
    return lambda key: http_session(url, key)


def test_answer_is_the_http_api_answer(connect, client):
    async def run():
        async with connect(KEY) as session:
            await assert_same_as_the_api(session, client)

    anyio.run(run)


@pytest.mark.parametrize("transport", ["stdio key, in this process", "http"])
def test_scoped_key_sees_its_collections_only(transport, api_settings, request):
    """Over http with the scoped bearer key; and as the stdio server runs under a scoped `QA_BOT_MCP_KEY`
    (``create_server(stdio_key=…)``, served here in memory: the stdio transport itself is the other tests' real
    `qa-bot mcp` process)."""
    from mcp import Client

    from qa_bot.mcp_server import create_server

    async def run():
        if transport == "http":
            async with http_session(request.getfixturevalue("http_server"), SCOPED_KEY) as session:
                await assert_scoped_to_seeds(session)
        else:
            async with Client(create_server(api_settings, stdio_key=SCOPED_KEY)) as session:
                await assert_scoped_to_seeds(session)

    anyio.run(run)


@pytest.mark.parametrize("key", ["not-a-key-0123456789", None])
def test_stdio_bad_or_missing_key_is_refused(api_settings, tmp_path, key):
    log = tmp_path / "stderr.txt"

    async def run():
        with log.open("w") as errlog:
            async with stdio_session(api_settings, key, errlog=errlog):
                pass

    with pytest.raises(Exception):  # noqa: B017 - the server exits before the handshake: the client's error
        anyio.run(run)
    assert "QA_BOT_MCP_KEY" in log.read_text() and ("invalid API key" if key else "missing") in log.read_text()


def test_a_revoked_key_stops_working_mid_session(indexed_settings, tmp_path):
    from mcp import Client

    from qa_bot.mcp_server import create_server

    keys = tmp_path / "keys.txt"
    keys.write_text(f"{hash_key(KEY)}\n", encoding="utf-8")
    server = create_server(indexed_settings.model_copy(update={"api_keys_file": keys}), stdio_key=KEY)

    async def run():
        async with Client(server) as mcp_client:
            assert not (await mcp_client.call_tool("search", {"query": "gout", "k": 1})).is_error
            keys.write_text(f"{hash_key(SCOPED_KEY)}\n", encoding="utf-8")
            r = await mcp_client.call_tool("search", {"query": "gout", "k": 1})
            assert r.is_error and "invalid API key" in r.content[0].text

    anyio.run(run)


@pytest.fixture(scope="module")
def http_server(api_settings):
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "qa_bot.cli", "mcp", "--transport", "http", "--port", str(port)],
                            env=server_env(api_settings), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, cwd=ROOT)
    url = f"http://127.0.0.1:{port}/mcp"
    try:
        for _ in range(600):
            assert proc.poll() is None, proc.stdout.read()
            try:
                httpx.get(url, timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_http_bad_key_is_refused(http_server):
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    headers = {"Accept": "application/json, text/event-stream"}
    for auth in ({}, {"Authorization": "Bearer not-a-key-0123456789"}, {"Authorization": f"Basic {KEY}"}):
        r = httpx.post(http_server, json=body, headers={**headers, **auth}, timeout=10)
        assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer", r.text
        assert r.json()["error"]["type"] == "authentication_error"

    async def run():
        async with http_session(http_server, "not-a-key-0123456789"):
            pass

    with pytest.raises(Exception):  # noqa: B017 - the client's error for the 401
        anyio.run(run)


def test_http_refuses_a_public_host_without_keys(indexed_settings):
    r = subprocess.run([sys.executable, "-m", "qa_bot.cli", "mcp", "--transport", "http", "--host", "0.0.0.0",
                        "--port", "1"], env=server_env(indexed_settings), capture_output=True, text=True, timeout=120,
                       cwd=ROOT)
    assert r.returncode != 0 and "without API keys" in r.stderr


def test_no_question_text_in_the_logs(api_settings, caplog):
    import logging

    from mcp import Client

    from qa_bot.mcp_server import create_server
    from test_api import PRIVATE

    caplog.set_level(logging.DEBUG)
    server = create_server(api_settings, stdio_key=KEY)

    async def run():
        async with Client(server) as mcp_client:
            assert not (await mcp_client.call_tool("answer", {"question": f"What is gout? ({PRIVATE})"})).is_error
            assert not (await mcp_client.call_tool("search", {"query": f"gout {PRIVATE}"})).is_error
            r = await mcp_client.call_tool("answer", {"question": f"{PRIVATE} " * 500})  # too long: refused
            assert r.is_error and "characters long" in r.content[0].text

    anyio.run(run)
    assert "answer: question_chars=" in caplog.text and PRIVATE not in caplog.text
