"""Open WebUI's integration (qa_bot/openwebui.py): task prompts, follow-ups and native sources, the cited
passage endpoint, and the audit of answered requests."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging

import pytest
from fastapi.testclient import TestClient

from qa_bot.api import create_app, hash_key
from qa_bot.openwebui import FollowupMemory, history_turns, recognise, reply

LOOPBACK = ("127.0.0.1", 40000)
ADMIN = "admin-key-0123456789abcdef"
USER = "user-key-0123456789abcdef"
SCOPED = "scoped-key-0123456789abcdef"
QUESTION = "What is Noonan syndrome?"

# the shapes of Open WebUI's task prompts (0.12.x and earlier wordings), with a conversation inside
HISTORY = ("<chat_history>\nUSER: What is Noonan syndrome?\nASSISTANT: BOTTOM LINE\nNoonan syndrome is a genetic "
           "disorder. [1]\n</chat_history>")
TASKS = {
    "title": "### Task:\nGenerate a concise title summarizing the chat history.\n### Guidelines:\n- Keep it short.\n"
             "### Output:\nJSON format: { \"title\": \"your concise title here\" }\n### Chat History:\n" + HISTORY,
    "tags": "### Task:\nGenerate 1-3 broad tags.\n\n### Output:\nJSON format: { \"tags\": [\"tag1\", \"tag2\"] }\n\n"
            "### Chat History:\n" + HISTORY,
    "follow_ups": "### Task:\nSuggest 3-5 follow-up questions.\n### Output:\nJSON format: { \"follow_ups\": "
                  "[\"Question 1?\", \"Question 2?\"] }\n### Chat History:\n" + HISTORY,
    "queries": "### Task:\nAnalyze the chat history to determine the necessity of generating search queries.\n\n"
               "### Output:\nStrictly return in JSON format: \n{\n  \"queries\": [\"query1\", \"query2\"]\n}\n\n"
               "### Chat History:\n" + HISTORY,
    "text": "### Task:\nYou are an autocompletion system.\n### **Output Rules**:\n- Respond only in JSON format: "
            "`{ \"text\": \"<your_completion>\" }`.\n### Context:\n" + HISTORY + "\n<type>General</type>\n"
            "<text>What are the sympt</text>\n#### Output:\n",
}


# --- recognising the task prompts ------------------------------------------------------------------------------
def test_task_prompts_are_recognised_by_their_shape_and_questions_are_not():
    for key, prompt in TASKS.items():
        task = recognise(prompt)
        assert task is not None and task.key == key, key
    older = "### Task:\nCreate a title.\n\nRespond in JSON format:\n{\"title\": \"…\"}\n<chat_history>x</chat_history>"
    assert recognise(older).key == "title"
    for question in (QUESTION, "Task: summarise the JSON format of FHIR for me", "### Task: what is gout?"):
        assert recognise(question) is None
    assert history_turns(TASKS["title"])[0] == ("user", QUESTION)


def test_task_replies_are_the_json_asked_for():
    from qa_bot.settings import Settings

    s = Settings()
    assert json.loads(reply(recognise(TASKS["title"]), TASKS["title"], s)) == {"title": "Noonan syndrome"}
    assert json.loads(reply(recognise(TASKS["tags"]), TASKS["tags"], s)) == {"tags": ["Health", "Noonan syndrome"]}
    assert json.loads(reply(recognise(TASKS["queries"]), TASKS["queries"], s)) == {"queries": []}
    assert json.loads(reply(recognise(TASKS["text"]), TASKS["text"], s)) == {"text": ""}
    memory = FollowupMemory()
    memory.remember("BOTTOM LINE\nNoonan syndrome is a genetic disorder. [1]\n", ["How is Noonan syndrome treated?"])
    got = json.loads(reply(recognise(TASKS["follow_ups"]), TASKS["follow_ups"], s, memory))
    assert got == {"follow_ups": ["How is Noonan syndrome treated?"]}
    fallback = json.loads(reply(recognise(TASKS["follow_ups"]), TASKS["follow_ups"], s, FollowupMemory()))["follow_ups"]
    assert fallback and all("noonan syndrome" in q.lower() for q in fallback)


# --- through the API ------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def keys_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("keys") / "keys.txt"
    path.write_text(f"{hash_key(ADMIN)} admin\n{hash_key(USER)}\n{hash_key(SCOPED)} no-such-collection\n")
    return path


@pytest.fixture
def settings(indexed_settings, keys_file, tmp_path):
    return indexed_settings.model_copy(update={"api_keys_file": keys_file, "audit_db": tmp_path / "audit.sqlite"})


def client_for(settings, key=USER):
    return TestClient(create_app(settings, warmup=False), client=LOOPBACK, headers={"Authorization": f"Bearer {key}"})


def test_task_prompts_never_run_the_engine_nor_reach_the_logs(settings, monkeypatch, caplog):
    import qa_bot.engine as engine

    calls = []
    real = engine.answer
    monkeypatch.setattr(engine, "answer", lambda *a, **k: calls.append(1) or real(*a, **k))
    caplog.set_level(logging.DEBUG)
    with client_for(settings) as c:
        for key, prompt in TASKS.items():
            for stream in (False, True):
                r = c.post("/v1/chat/completions", json={"stream": stream, "messages": [
                    {"role": "user", "content": prompt}]})
                assert r.status_code == 200, r.text
                if stream:
                    frames = [json.loads(ln[6:]) for ln in r.text.splitlines() if ln.startswith("data: {")]
                    content = "".join(f["choices"][0]["delta"].get("content", "") for f in frames)
                else:
                    content = r.json()["choices"][0]["message"]["content"]
                assert list(json.loads(content)) == [key]
        long = TASKS["follow_ups"].replace("ASSISTANT: ", "ASSISTANT: " + "Noonan syndrome is a disorder. " * 200)
        assert len(long) > 5000  # past the question's length limit: still answered, not refused
        r = c.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": long}]})
        assert r.status_code == 200 and list(json.loads(r.json()["choices"][0]["message"]["content"])) == ["follow_ups"]
        assert calls == []  # no engine run, no retrieval
        assert "Noonan" not in caplog.text and "### Task" not in caplog.text
        assert not settings.audit_path.exists()  # task prompts are not audited either
    off = settings.model_copy(update={"openwebui": False})
    with client_for(off) as c:
        r = c.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": TASKS["title"]}]})
        assert r.status_code == 200 and calls  # the setting off: asked as a question
        assert not r.json()["choices"][0]["message"]["content"].lstrip().startswith("{")


def test_followups_are_the_engines_suggestions_and_sources_are_open_webui_events(settings):
    with client_for(settings) as c:
        ans = c.post("/v1/answer", json={"question": QUESTION}).json()
        with c.stream("POST", "/v1/chat/completions", json={"stream": True, "messages": [
                {"role": "user", "content": QUESTION}]}) as r:
            frames = [json.loads(ln[6:]) for ln in r.iter_lines() if ln.startswith("data: {")]
        content = "".join(f["choices"][0]["delta"].get("content", "") for f in frames)
        events = [f["event"] for f in frames if "event" in f]
        assert [e["type"] for e in events] == ["source"] * len(ans["citations"]) and events
        for e, cit in zip(events, ans["citations"]):
            assert e["data"]["document"] == [cit["quote"]]
            assert e["data"]["metadata"][0]["name"].startswith(f"[{cit['n']}] ")
        assert len({e["data"]["metadata"][0]["source"] for e in events}) == len(events)  # [n] opens the n-th
        prompt = TASKS["follow_ups"].replace(HISTORY, f"<chat_history>\nUSER: {QUESTION}\nASSISTANT: {content}\n"
                                                      "</chat_history>")
        got = c.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": prompt}]}).json()
        assert ans["suggested_followups"] and json.loads(got["choices"][0]["message"]["content"])["follow_ups"] == ans["suggested_followups"]
    with client_for(settings, ADMIN) as c:  # another key: the general suggestions, not the first key's
        got = c.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": prompt}]}).json()
        other = json.loads(got["choices"][0]["message"]["content"])["follow_ups"]
        assert other != ans["suggested_followups"] and all("noonan syndrome" in q.lower() for q in other)


# --- passages ------------------------------------------------------------------------------------------------------
def test_a_cited_passage_opens_by_its_citation_id(settings):
    with client_for(settings) as c:
        ans = c.post("/v1/answer", json={"question": QUESTION}).json()
        cit = ans["citations"][0]
        view = c.get(f"/v1/passages/{cit['id']}").json()
        assert view["quote"] == cit["quote"] and view["spans"] == cit["spans"] and view["doc_id"] == cit["doc_id"]
        assert view["quoted"] == [cit["quote"][s:e] for s, e in cit["spans"]]
        html = c.get(f"/v1/passages/{cit['id']}", headers={"Accept": "text/html"})
        assert html.headers["content-type"].startswith("text/html")
        s, e = cit["spans"][0]
        assert f"<mark>{cit['quote'][s:e][:20]}" in html.text.replace("&#x27;", "'")
        assert c.get(f"/v1/passages/{cit['id'][:-1]}0").status_code in (404, 410)
        assert c.get("/v1/passages/not-an-id").status_code == 404
    with client_for(settings, SCOPED) as c:  # a key without that collection learns nothing of it
        assert c.get(f"/v1/passages/{cit['id']}").status_code == 404
    with TestClient(create_app(settings, warmup=False), client=LOOPBACK) as c:
        assert c.get(f"/v1/passages/{cit['id']}").status_code == 401
    linked = settings.model_copy(update={"public_base_url": "https://qa.example.org/"})
    with client_for(linked) as c:
        body = c.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": QUESTION}]}).json()
        assert f"https://qa.example.org/v1/passages/{body['citations'][0]['id']}" in \
            body["choices"][0]["message"]["content"]


# --- audit ---------------------------------------------------------------------------------------------------------
def test_every_answered_request_is_audited_without_its_text(settings, keys_file, monkeypatch, tmp_path):
    from typer.testing import CliRunner

    from qa_bot.cli import app

    questions = [QUESTION, "How is Noonan syndrome treated?", "What is tirzepatide's dose?"]
    with client_for(settings) as c:
        for q in questions[:2]:
            assert c.post("/v1/answer", json={"question": q}).status_code == 200
        assert c.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": questions[2]}]}).status_code == 200
        c.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": TASKS["title"]}]})
        assert c.get("/v1/audit").status_code == 403  # not an admin key
    with client_for(settings, ADMIN) as c:
        text = c.get("/v1/audit").text
    rows = [json.loads(x) for x in text.splitlines()]
    assert len(rows) == 3  # N answered requests, N rows (the task prompt is not one)
    assert [r["question_sha256"] for r in rows] == [hashlib.sha256(q.encode()).hexdigest() for q in questions]
    assert all(r["question"] is None for r in rows) and "Noonan" not in text
    assert {r["key_id"] for r in rows} == {hashlib.sha256(USER.encode()).hexdigest()[:8]} and USER not in text
    assert rows[0]["cited"] and all({"doc_id", "section_id"} <= set(x) for x in rows[0]["cited"])
    assert rows[2]["abstained"] and all(r["latency_ms"] > 0 for r in rows)

    with client_for(settings.model_copy(update={"audit_text": True})) as c:
        c.post("/v1/answer", json={"question": QUESTION})
    # the CLI: admin key only; JSONL and CSV; --since
    monkeypatch.setenv("QA_BOT_API_KEYS_FILE", str(keys_file))
    monkeypatch.setenv("QA_BOT_AUDIT_DB", str(settings.audit_path))
    runner = CliRunner()
    monkeypatch.setenv("QA_BOT_ADMIN_KEY", USER)
    assert runner.invoke(app, ["audit", "export"]).exit_code == 2
    monkeypatch.setenv("QA_BOT_ADMIN_KEY", ADMIN)
    res = runner.invoke(app, ["audit", "export", "--since", "1d"])
    assert res.exit_code == 0, res.output
    exported = [json.loads(x) for x in res.stdout.splitlines()]
    assert len(exported) == 4 and exported[-1]["question"] == QUESTION and exported[0]["question"] is None
    out = tmp_path / "audit.csv"
    assert runner.invoke(app, ["audit", "export", "--format", "csv", "--out", str(out)]).exit_code == 0
    table = list(csv.DictReader(io.StringIO(out.read_text())))
    assert len(table) == 4 and table[0]["key_id"] == rows[0]["key_id"]
    res = runner.invoke(app, ["audit", "export", "--since", "2999-01-01"])
    assert res.exit_code == 0 and res.stdout == ""
