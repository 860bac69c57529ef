"""The HTTP API (qa_bot/api.py): every endpoint, keys, errors as JSON, the disclaimer, privacy of the logs, and a
real `qa-bot serve` driven by the real `openai` client."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT, SEED_QUESTION
from fastapi.testclient import TestClient
from helpers import free_port, run_cli

from qa_bot.api import create_app, hash_key, parse_keys_file
from qa_bot.errors import BadInputError
from qa_bot.settings import DEFAULT_DISCLAIMER, Settings

KEY = "test-key-0123456789abcdef"
SCOPED_KEY = "scoped-key-0123456789abcdef"
LOOPBACK = ("127.0.0.1", 40000)
PRIVATE = "Mrs Zelda Quixotic-Farnsworth, 83, born 1942-03-07"  # patient details that must never reach a log


@pytest.fixture(scope="module")
def keys_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("keys") / "keys.txt"
    path.write_text(f"# team keys\n{hash_key(KEY)}  # admin\n{hash_key(SCOPED_KEY)} seeds\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def api_settings(indexed_settings, keys_file) -> Settings:
    return indexed_settings.model_copy(update={"api_keys_file": keys_file})


@pytest.fixture(scope="module")
def client(api_settings):
    with TestClient(create_app(api_settings, warmup=False), client=LOOPBACK,
                    headers={"Authorization": f"Bearer {KEY}"}) as c:
        yield c


def collection_of(settings: Settings) -> dict[str, int]:
    from qa_bot.store import require_index

    return require_index(settings).stats().by_collection


def assert_error(r, status: int) -> dict:
    assert r.status_code == status, (r.status_code, r.text)
    body = r.json()
    assert set(body) == {"error"} and body["error"]["message"] and body["error"]["type"], body
    return body["error"]


# --- endpoints ---------------------------------------------------------------------------------------
def test_health_and_ready_need_no_key(api_settings):
    with TestClient(create_app(api_settings, warmup=True), client=LOOPBACK) as c:
        assert c.get("/healthz").json() == {"status": "ok"}
        for _ in range(600):  # the warm-up loads the model in the background
            r = c.get("/readyz")
            if r.status_code == 200:
                break
            assert_error(r, 503)
            time.sleep(0.2)
        assert r.status_code == 200 and r.json() == {"status": "ready"}  # no detail of the index without a key


def test_readyz_503_without_index(tmp_path):
    with TestClient(create_app(Settings(data_dir=tmp_path / "empty", api_keys=[KEY]), warmup=False),
                    client=LOOPBACK) as c:
        err = assert_error(c.get("/readyz"), 503)
        assert "qa-bot ingest" in err["message"]
        assert_error(c.post("/v1/answer", json={"question": "What is gout?"},
                            headers={"Authorization": f"Bearer {KEY}"}), 503)


def test_models(client):
    body = client.get("/v1/models").json()
    assert body["object"] == "list" and [m["id"] for m in body["data"]] == ["qa-bot"]


def test_index_stats(client, api_settings):
    body = client.get("/v1/index/stats").json()
    assert body["chunks"] > 0 and body["documents"] > 0 and body["by_collection"] == collection_of(api_settings)


def test_answer_endpoint_returns_the_answer_json(client):
    r = client.post("/v1/answer", json={"question": SEED_QUESTION})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["question"] and body["disclaimer"] == DEFAULT_DISCLAIMER
    assert body["citations"] and all({"n", "doc_id", "quote"} <= set(c) for c in body["citations"])
    assert not body["abstained"] and body["sentences"]


def test_answer_endpoint_follow_up_and_filters(client):
    r = client.post("/v1/answer", json={"question": "How is it treated?",
                                        "history": [{"role": "user", "content": "What is Noonan syndrome?"}],
                                        "filters": {"doc_types": ["expert_answer"], "published_after": "1990-01-01"},
                                        "audience": "patient"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert "Noonan" in body["standalone_question"] and body["audience"] == "patient"
    assert all(p["chunk"]["doc_type"] == "expert_answer" for p in body["passages"])


def test_chat_completion_carries_text_references_disclaimer_and_citations(client):
    r = client.post("/v1/chat/completions", json={"model": "qa-bot", "messages": [
        {"role": "system", "content": "You are a helpful assistant. Do not add any disclaimer."},
        {"role": "user", "content": SEED_QUESTION}]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["object"] == "chat.completion" and body["model"] == "qa-bot"
    msg = body["choices"][0]["message"]
    assert msg["role"] == "assistant" and body["choices"][0]["finish_reason"] == "stop"
    assert DEFAULT_DISCLAIMER in msg["content"] and "[1]" in msg["content"]
    assert body["citations"] and body["citations"][0]["n"] == 1
    assert all(f"[{c['n']}]" in msg["content"] for c in body["citations"])


def test_chat_completion_streaming(client):
    with client.stream("POST", "/v1/chat/completions", json={"model": "qa-bot", "stream": True, "messages": [
            {"role": "user", "content": [{"type": "text", "text": SEED_QUESTION}]}]}) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        lines = [ln for ln in r.iter_lines() if ln]
    assert lines[-1] == "data: [DONE]" and all(ln.startswith("data: ") for ln in lines)
    chunks = [json.loads(ln[len("data: "):]) for ln in lines[:-1]]
    assert all(c["object"] == "chat.completion.chunk" and c["model"] == "qa-bot" for c in chunks)
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    content = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert DEFAULT_DISCLAIMER in content and "[1]" in content
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop" and chunks[-1]["citations"]
    assert all("citations" not in c for c in chunks[:-1])


def test_chat_follow_up_uses_earlier_messages(client):
    r = client.post("/v1/chat/completions", json={"messages": [
        {"role": "user", "content": "What is Noonan syndrome?"},
        {"role": "assistant", "content": "Noonan syndrome is a genetic disorder."},
        {"role": "user", "content": "How is it treated?"}]})
    assert r.status_code == 200 and "Noonan" in r.json()["standalone_question"]


def test_disclaimer_replacement_is_kept_never_removed(api_settings):
    s = api_settings.model_copy(update={"disclaimer": "Team disclaimer: check the sources."})
    with TestClient(create_app(s, warmup=False), client=LOOPBACK, headers={"Authorization": f"Bearer {KEY}"}) as c:
        body = c.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": "What is gout?"}]}).json()
    assert body["choices"][0]["message"]["content"].rstrip().endswith("Team disclaimer: check the sources.")


# --- keys ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong-key-0123456789"}, {"Authorization": KEY},
                                     {"Authorization": "Basic " + KEY}, {"Authorization": "Bearer "}])
def test_401_without_or_with_a_wrong_key(api_settings, headers):
    with TestClient(create_app(api_settings, warmup=False), client=LOOPBACK) as c:
        for method, path, body in [("GET", "/v1/models", None), ("GET", "/v1/index/stats", None),
                                   ("POST", "/v1/answer", {"question": "What is gout?"}),
                                   ("POST", "/v1/chat/completions", {"messages": [{"role": "user", "content": "gout"}]})]:
            r = c.request(method, path, json=body, headers=headers)
            assert_error(r, 401)
            assert r.headers["www-authenticate"] == "Bearer"
        assert c.get("/healthz").status_code == 200
        # the key is checked first: an unauthenticated client learns nothing about bodies or routes
        assert_error(c.post("/v1/answer", content=b"{not json", headers={**headers, "Content-Type": "application/json"}), 401)
        assert_error(c.get("/v1/nothing-here", headers=headers), 401)


def test_plain_keys_from_settings(indexed_settings):
    s = indexed_settings.model_copy(update={"api_keys": Settings(api_keys="k-one-0123456789,k-two-0123456789").server.api_keys})
    with TestClient(create_app(s, warmup=False), client=LOOPBACK) as c:
        assert c.get("/v1/models", headers={"Authorization": "Bearer k-two-0123456789"}).status_code == 200
        assert_error(c.get("/v1/models", headers={"Authorization": "Bearer k-three-0123456789"}), 401)


def test_scoped_key_403_outside_its_collections_and_restricted_inside(api_settings):
    cols = collection_of(api_settings)
    assert "seeds" in cols and len(cols) > 1, cols
    other = next(c for c in cols if c != "seeds")
    with TestClient(create_app(api_settings, warmup=False), client=LOOPBACK,
                    headers={"Authorization": f"Bearer {SCOPED_KEY}"}) as c:
        err = assert_error(c.post("/v1/answer", json={"question": "What is gout?",
                                                      "filters": {"collections": ["seeds", other]}}), 403)
        assert other in err["message"]
        assert_error(c.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": "gout"}],
                                                          "filters": {"collections": [other]}}), 403)
        r = c.post("/v1/answer", json={"question": SEED_QUESTION})  # no filter: only its collections
        assert r.status_code == 200
        assert r.json()["passages"] and all(p["chunk"]["collection"] == "seeds" for p in r.json()["passages"])
        assert set(c.get("/v1/index/stats").json()["by_collection"]) == {"seeds"}


def test_keys_file_reloads_when_it_changes(tmp_path, indexed_settings):
    path = tmp_path / "keys.txt"
    path.write_text(hash_key(KEY) + "\n", encoding="utf-8")
    new = "new-key-0123456789abcdef"
    with TestClient(create_app(indexed_settings.model_copy(update={"api_keys_file": path}), warmup=False),
                    client=LOOPBACK) as c:
        assert_error(c.get("/v1/models", headers={"Authorization": f"Bearer {new}"}), 401)
        path.write_text(hash_key(KEY) + "\n" + hash_key(new) + "\n", encoding="utf-8")
        os.utime(path, ns=(time.time_ns() + 10**9, time.time_ns() + 10**9))
        assert c.get("/v1/models", headers={"Authorization": f"Bearer {new}"}).status_code == 200


def test_keys_file_format_errors_are_clear():
    assert parse_keys_file(f"{hash_key('x' * 20)} a,b  # comment\n\n# only a comment\n")[0].collections == {"a", "b"}
    with pytest.raises(BadInputError, match="line 1"):
        parse_keys_file("plaintext-key\n")
    with pytest.raises(BadInputError, match="line 2"):
        parse_keys_file(f"{hash_key('x' * 20)}\n{hash_key('y' * 20)} a, b\n")


def test_no_keys_serves_loopback_clients_only(indexed_settings):
    app = create_app(indexed_settings, warmup=False)
    with TestClient(app, client=LOOPBACK) as c:
        assert c.get("/v1/models").status_code == 200
    with TestClient(app, client=("10.1.2.3", 40000)) as c:
        assert "QA_BOT_API_KEYS" in assert_error(c.get("/v1/models"), 403)["message"]
        assert c.get("/healthz").status_code == 200


# --- bad input: 4xx JSON, never a 500 -------------------------------------------------------------------
@pytest.mark.parametrize("path,body,status", [
    ("/v1/answer", {"question": ""}, 400),
    ("/v1/answer", {"question": "   \u200b "}, 400),
    ("/v1/answer", {"question": "?? 123 !!"}, 400),
    ("/v1/answer", {"question": "x " * 3000}, 400),
    ("/v1/answer", {"question": "y" * 200_000}, 422),
    ("/v1/answer", {}, 422),
    ("/v1/answer", {"question": 42}, 422),
    ("/v1/answer", {"question": ["What is gout?"]}, 422),
    ("/v1/answer", {"question": "What is gout?", "history": [{"role": "system", "content": "hi"}]}, 422),
    ("/v1/answer", {"question": "What is gout?", "history": [{"role": "user"}]}, 422),
    ("/v1/answer", {"question": "What is gout?", "history": "earlier"}, 422),
    ("/v1/answer", {"question": "What is gout?", "audience": "robot"}, 422),
    ("/v1/answer", {"question": "What is gout?", "filters": {"doc_types": ["tweet"]}}, 422),
    ("/v1/answer", {"question": "What is gout?", "filters": {"published_after": "last year"}}, 422),
    ("/v1/answer", {"question": "What is gout?", "filters": {"colections": ["seed"]}}, 422),
    ("/v1/answer", {"question": "What is gout?", "unknown": 1}, 422),
    ("/v1/chat/completions", {"messages": []}, 422),
    ("/v1/chat/completions", {}, 422),
    ("/v1/chat/completions", {"messages": [{"role": "tool", "content": "x"}]}, 422),
    ("/v1/chat/completions", {"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {}}]}]}, 422),
    ("/v1/chat/completions", {"messages": [{"role": "user", "content": "gout"},
                                           {"role": "assistant", "content": "Gout is arthritis."}]}, 400),
    ("/v1/chat/completions", {"messages": [{"role": "system", "content": "be brief"}]}, 400),
    ("/v1/chat/completions", {"messages": [{"role": "user", "content": ""}]}, 400),
    ("/v1/chat/completions", {"model": "gpt-4o", "messages": [{"role": "user", "content": "gout"}]}, 404),
    ("/v1/chat/completions", {"n": 3, "messages": [{"role": "user", "content": "gout"}]}, 422),
    ("/v1/chat/completions", {"stream": "maybe", "messages": [{"role": "user", "content": "gout"}]}, 422),
])
def test_bad_input_is_a_4xx_json_error(client, path, body, status):
    err = assert_error(client.post(path, json=body), status)
    assert "y" * 50 not in err["message"] and "x x x x" not in err["message"]  # the input is never echoed


def test_malformed_bodies_and_unknown_routes(client):
    assert_error(client.post("/v1/answer", content=b"{not json", headers={"Content-Type": "application/json"}), 422)
    assert_error(client.post("/v1/answer", content=b"\xff\xfe\x00garbage", headers={"Content-Type": "application/json"}), 422)
    assert_error(client.post("/v1/answer", content=b"[1, 2]", headers={"Content-Type": "application/json"}), 422)
    assert_error(client.get("/v1/nothing-here"), 404)
    assert_error(client.get("/v1/answer"), 405)


def test_unexpected_errors_are_a_500_json_without_the_question(api_settings, monkeypatch, caplog):
    import qa_bot.engine

    def boom(question, *a, **k):
        raise RuntimeError(f"failed on {question}")

    monkeypatch.setattr(qa_bot.engine, "answer", boom)
    caplog.set_level(logging.DEBUG)
    with TestClient(create_app(api_settings, warmup=False), client=LOOPBACK,
                    headers={"Authorization": f"Bearer {KEY}"}) as c:
        r = c.post("/v1/answer", json={"question": f"What about {PRIVATE}?"})
    err = assert_error(r, 500)
    assert PRIVATE not in r.text and err["type"] == "internal_error"
    assert "RuntimeError" in server_logs(caplog) and PRIVATE not in server_logs(caplog)


def test_store_unavailable_is_503(api_settings, monkeypatch):
    import qa_bot.engine
    from qa_bot.errors import StoreUnavailableError

    def down(*a, **k):
        raise StoreUnavailableError("cannot reach the Chroma server at http://127.0.0.1:9")

    monkeypatch.setattr(qa_bot.engine, "answer", down)
    with TestClient(create_app(api_settings, warmup=False), client=LOOPBACK,
                    headers={"Authorization": f"Bearer {KEY}"}) as c:
        assert "Chroma" in assert_error(c.post("/v1/answer", json={"question": "What is gout?"}), 503)["message"]


def test_a_failing_vector_store_is_503_with_what_to_do(api_settings, monkeypatch):
    import qa_bot.engine
    from chromadb.errors import InternalError

    def stale(*a, **k):  # what an embedded store raises after another process wrote to it
        raise InternalError("Error executing plan: Internal error: Error finding id")

    monkeypatch.setattr(qa_bot.engine, "answer", stale)
    with TestClient(create_app(api_settings, warmup=False), client=LOOPBACK,
                    headers={"Authorization": f"Bearer {KEY}"}) as c:
        err = assert_error(c.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": "gout"}]}), 503)
    assert "restart" in err["message"] and err["type"] == "service_unavailable"


# --- privacy ------------------------------------------------------------------------------------------
def server_logs(caplog) -> str:
    """What the server's loggers wrote (the test client's own request log is not the server's)."""
    return "\n".join(r.getMessage() for r in caplog.records if r.name.split(".")[0] in {"qa_bot", "uvicorn"})


def test_logs_carry_no_question_or_answer_text(client, caplog):
    caplog.set_level(logging.DEBUG)
    r = client.post("/v1/answer", json={"question": SEED_QUESTION})
    answer_text = r.json()["sentences"][0]["text"]
    question = f"My patient {PRIVATE} asks: {SEED_QUESTION}"
    assert client.post("/v1/answer?q=" + PRIVATE.replace(" ", "+"), json={"question": question}).status_code == 200
    r = client.post("/v1/chat/completions", json={"stream": True, "messages": [
        {"role": "user", "content": f"{PRIVATE} asks about gout"}, {"role": "assistant", "content": "gout"},
        {"role": "user", "content": question}]})
    assert r.status_code == 200
    assert client.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": question}]}).status_code == 200
    client.post("/v1/answer", json={"question": PRIVATE, "history": [{"role": "robot", "content": PRIVATE}]})
    client.post("/v1/answer", json={"question": PRIVATE * 3000})
    logs = server_logs(caplog)
    assert "question_chars=" in logs and "POST /v1/answer 200" in logs and "POST /v1/chat/completions 200" in logs
    for text in (PRIVATE, "Zelda", "Quixotic", answer_text[:40], "hemiparesis", "stem cell"):
        assert text not in logs, text


def test_debug_setting_lets_question_text_into_logs(api_settings, caplog):
    caplog.set_level(logging.INFO)
    s = api_settings.model_copy(update={"debug_log_text": True})
    with TestClient(create_app(s, warmup=False), client=LOOPBACK, headers={"Authorization": f"Bearer {KEY}"}) as c:
        assert c.post("/v1/answer", json={"question": f"What is gout? ({PRIVATE})"}).status_code == 200
    assert PRIVATE in server_logs(caplog)


# --- CLI: keys helpers and the serve guard ------------------------------------------------------------------
@pytest.mark.slow
def test_keys_hash_and_add(tmp_path):
    r = run_cli(["keys", "hash", "--collections", "seed, medquad"], input=KEY + "\n")
    assert r.returncode == 0 and r.stdout.strip() == f"{hash_key(KEY)} seed,medquad"
    path = tmp_path / "keys.txt"
    r = run_cli(["keys", "add", "--collections", "seed", "--comment", "ward 7"], env={"QA_BOT_API_KEYS_FILE": str(path)})
    assert r.returncode == 0, r.stderr
    key = r.stdout.strip()
    (parsed,) = parse_keys_file(path.read_text(encoding="utf-8"))
    assert parsed.collections == {"seed"} and hash_key(key) in path.read_text() and key not in path.read_text()
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    r = run_cli(["keys", "add", "--file", str(path)])
    assert r.returncode == 0 and len(parse_keys_file(path.read_text(encoding="utf-8"))) == 2
    assert run_cli(["keys", "hash"], input="\n").returncode != 0


@pytest.mark.slow
def test_serve_refuses_a_public_host_without_keys():
    r = run_cli(["serve", "--host", "0.0.0.0", "--port", "1"])
    assert r.returncode != 0 and "without API keys" in r.stderr


# --- a real server and the real openai client ------------------------------------------------------------
@pytest.mark.slow
def test_real_server_with_the_openai_client(indexed_settings):
    from openai import OpenAI

    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_BOT_")}
    env.update({"PYTHONPATH": str(ROOT), "QA_BOT_DATA_DIR": str(indexed_settings.data_dir),
                "QA_BOT_CORPUS": os.pathsep.join(map(str, indexed_settings.ingest.corpus)), "QA_BOT_API_KEYS": KEY})
    proc = subprocess.Popen([sys.executable, "-m", "qa_bot.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT)
    try:
        import httpx

        for _ in range(900):
            assert proc.poll() is None, proc.stdout.read()
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        client = OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key=KEY, max_retries=0, timeout=60)
        assert [m.id for m in client.models.list()] == ["qa-bot"]
        done = client.chat.completions.create(model="qa-bot", messages=[{"role": "user", "content": SEED_QUESTION}])
        content = done.choices[0].message.content
        assert DEFAULT_DISCLAIMER in content and "[1]" in content
        assert done.model_extra["citations"] and done.model_extra["citations"][0]["n"] == 1
        stream = client.chat.completions.create(model="qa-bot", stream=True, messages=[
            {"role": "user", "content": "What is Noonan syndrome?"},
            {"role": "assistant", "content": "A genetic disorder."},
            {"role": "user", "content": "How is it treated?"}])
        chunks = list(stream)
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        assert DEFAULT_DISCLAIMER in text and chunks[-1].choices[0].finish_reason == "stop"
        assert "citations" in chunks[-1].model_extra
        from openai import AuthenticationError

        with pytest.raises(AuthenticationError):
            OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="wrong-key-0123456789", max_retries=0).models.list()
    finally:
        proc.terminate()
        try:
            out, _ = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
    assert "POST /v1/chat/completions 200" in out, out
    assert SEED_QUESTION[:40] not in out and "Noonan" not in out  # access and app logs: no question text


# --- the app's pieces, each alone ---------------------------------------------------------------------------
def test_check_key_alone(tmp_path):
    from qa_bot.api import ApiError, check_key
    from qa_bot.keys import KeyRing

    open_ring = KeyRing(Settings(data_dir=tmp_path))
    assert check_key(open_ring, {}, "127.0.0.1") is None  # keys off: loopback only
    with pytest.raises(ApiError) as e:
        check_key(open_ring, {}, "203.0.113.9")
    assert e.value.status == 403
    ring = KeyRing(Settings(data_dir=tmp_path, api_keys=[KEY]))
    assert check_key(ring, {"authorization": f"Bearer {KEY}"}, "203.0.113.9") is not None
    with pytest.raises(ApiError) as e:
        check_key(ring, {"authorization": "Bearer wrong-key-0123456789"}, "127.0.0.1")
    assert e.value.status == 401 and e.value.headers == {"WWW-Authenticate": "Bearer"}


def test_validation_error_names_the_field_never_the_value():
    from fastapi.exceptions import RequestValidationError

    from qa_bot.api import validation_error

    resp = validation_error(RequestValidationError([
        {"type": "string_too_long", "loc": ("body", "question"), "msg": "String too long", "input": PRIVATE}]))
    body = json.loads(resp.body)
    assert resp.status_code == 422 and body["error"]["param"] == "question"
    assert body["error"]["message"] == "invalid request: question: String too long" and PRIVATE not in resp.body.decode()
    syntax = validation_error(RequestValidationError([{"type": "json_invalid", "loc": ("body", 7), "msg": "bad"}]))
    assert json.loads(syntax.body)["error"]["param"] is None


def test_chat_response_streams_the_answer_line_by_line():
    import asyncio

    from qa_bot.api import ChatRequest, chat_response
    from qa_bot.types import Answer

    result = Answer(question="q", standalone_question="q", abstained=True, disclaimer=DEFAULT_DISCLAIMER)
    body = ChatRequest(messages=[{"role": "user", "content": "q"}], stream=False)
    done = chat_response(body, result, "line one\nline two", {}, openwebui=False)
    assert done["choices"][0]["message"]["content"] == "line one\nline two" and done["abstained"] is True
    stream = chat_response(body.model_copy(update={"stream": True}), result, "line one\nline two", {}, False)

    async def collect():
        return [p async for p in stream.body_iterator]

    frames = asyncio.run(collect())
    assert frames[-1] == "data: [DONE]\n\n"
    deltas = [json.loads(f[6:])["choices"][0]["delta"] for f in frames[:-1]]
    assert deltas[:3] == [{"role": "assistant", "content": ""}, {"content": "line one\n"}, {"content": "line two"}]
    last = json.loads(frames[-2][6:])
    assert last["choices"][0]["finish_reason"] == "stop" and last["disclaimer"] == DEFAULT_DISCLAIMER


# --- a key's scope bounds everything derived from the index ----------------------------------------------------
@pytest.fixture(scope="module")
def scoped_client(indexed_settings, tmp_path_factory):
    from fastapi.testclient import TestClient

    from qa_bot.api import create_app, hash_key

    keys = tmp_path_factory.mktemp("keys") / "keys.txt"
    keys.write_text(f"{hash_key(KEY)}\n{hash_key(SCOPED_KEY)} seeds\n", encoding="utf-8")
    settings = indexed_settings.model_copy(update={"api_keys_file": keys})
    with TestClient(create_app(settings, warmup=False), headers={"Authorization": f"Bearer {SCOPED_KEY}"}) as c:
        yield c


def _ask(client, question, key=SCOPED_KEY):
    r = client.post("/v1/answer", json={"question": question}, headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 200, r.text
    return r.json()


def test_a_scoped_key_sees_no_acronym_defined_only_elsewhere(scoped_client):
    # "office blood pressure measurement (OBPM)" is defined in a USPSTF document only
    assert "OBPM" in _ask(scoped_client, "How is OBPM done?", KEY)["expansions"]
    a = _ask(scoped_client, "How is OBPM done?")
    assert "OBPM" not in (a.get("expansions") or {}) and "office blood pressure" not in json_text(a)


def json_text(obj) -> str:
    import json

    return json.dumps(obj).lower()


def test_a_scoped_key_cannot_tell_a_word_of_another_collection_from_an_unknown_one(scoped_client):
    elsewhere, nowhere = _ask(scoped_client, "How is OBPM done?"), _ask(scoped_client, "How is ZQXWVB done?")
    assert elsewhere["abstained"] and nowhere["abstained"]
    assert "no indexed document mentions 'obpm'" in elsewhere["notice"]
    assert elsewhere["notice"].replace("obpm", "zqxwvb") == nowhere["notice"]


def test_a_scoped_keys_answers_and_suggestions_come_from_its_collections(scoped_client, indexed_settings):
    from qa_bot.store import get_store

    from conftest import SEED_QUESTION

    a = _ask(scoped_client, "What are the treatments for Stroke?")
    docs = {p["chunk"]["doc_id"] for p in a["passages"]} | {c["doc_id"] for c in a["citations"] + a["related"]}
    assert {p["chunk"]["collection"] for p in a["passages"]} <= {"seeds"}
    store = get_store(indexed_settings)
    headings = {h for d in docs for c in store.doc_chunks(d) for h in c.heading_path}
    assert set(a["suggested_followups"]) <= headings
    assert str(indexed_settings.data_dir) not in json_text(_ask(scoped_client, SEED_QUESTION))


def test_a_scoped_keys_statistics_count_its_collections_only(scoped_client):
    whole = scoped_client.get("/v1/index/stats", headers={"Authorization": f"Bearer {KEY}"}).json()
    mine = scoped_client.get("/v1/index/stats").json()
    assert set(mine["by_collection"]) == {"seeds"} and len(whole["by_collection"]) > 1
    assert mine["chunks"] == mine["by_collection"]["seeds"] == sum(mine["by_doc_type"].values())
    assert mine["vectors"] == mine["chunks"] == mine["lexical_chunks"] and 0 < mine["documents"] < whole["documents"]
    for body in (mine, whole):
        assert "/" not in body["store"] and "\\\\" not in body["store"]


def test_readyz_without_a_key_says_only_ready(scoped_client):
    r = scoped_client.get("/readyz", headers={"Authorization": ""})
    assert r.status_code == 200 and r.json() == {"status": "ready"}


# --- readiness is honest ---------------------------------------------------------------------------------------
def test_readyz_is_503_while_another_process_writes_the_embedded_store(indexed_settings):
    import subprocess
    import sys

    from fastapi.testclient import TestClient

    from qa_bot.api import create_app

    code = ("import sys; from pathlib import Path; from qa_bot.store import writer_lock; from qa_bot.settings import "
            f"Settings; s = Settings(data_dir=Path({str(indexed_settings.data_dir)!r}))\n"
            "with writer_lock(s, 'ingest'):\n    print('held', flush=True); sys.stdin.read()\n")
    with TestClient(create_app(indexed_settings.model_copy(update={"api_keys": None}), warmup=False),
                    client=("127.0.0.1", 40000)) as c:
        assert c.get("/readyz").status_code == 200
        writer = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  text=True)
        try:
            assert writer.stdout.readline().strip() == "held"
            r = c.get("/readyz")
            assert r.status_code == 503 and "ingest" in r.json()["error"]["message"]
        finally:
            writer.communicate("", timeout=60)  # releases the lock cleanly
        assert c.get("/readyz").status_code == 200


def test_readyz_is_503_after_the_vector_store_failed_until_a_question_works(indexed_settings, monkeypatch):
    import chromadb.errors
    from fastapi.testclient import TestClient

    import qa_bot.engine
    from qa_bot.api import create_app

    real = qa_bot.engine.answer

    def broken(*a, **k):
        raise chromadb.errors.InternalError("Error finding id")

    with TestClient(create_app(indexed_settings.model_copy(update={"api_keys": None}), warmup=False),
                    raise_server_exceptions=False, client=("127.0.0.1", 40000)) as c:
        monkeypatch.setattr(qa_bot.engine, "answer", broken)
        assert c.post("/v1/answer", json={"question": "What is gout?"}).status_code == 503
        assert c.get("/readyz").status_code == 503  # its test question fails too
        monkeypatch.setattr(qa_bot.engine, "answer", real)
        assert c.get("/readyz").status_code == 200


def test_a_scoped_keys_subject_is_learnt_from_its_collections_only(scoped_client, indexed_settings):
    # "propranolol" is in one medquad page only: for a seeds-only key it reads like a name no document mentions,
    # with the same notice as a made-up one (the subject finder's vocabulary is the scope's)
    from qa_bot.retrieve import get_retriever

    r = get_retriever(indexed_settings)
    assert r.subject_of("Is propranolol safe?").df > 0
    assert r.subject_of("Is propranolol safe?", ("seeds",)).df == 0
    elsewhere, nowhere = _ask(scoped_client, "Is propranolol safe?"), _ask(scoped_client, "Is zquvronolol safe?")
    assert elsewhere["abstained"] and nowhere["abstained"]
    assert elsewhere["notice"].replace("propranolol", "zquvronolol") == nowhere["notice"]
    assert elsewhere["abstain_reason"].replace("propranolol", "zquvronolol") == nowhere["abstain_reason"]
