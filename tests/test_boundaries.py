"""Boundaries: no file outside the corpus folder, no data outside a key's collections, no request that exhausts
the server, no output forged by a file name."""

from __future__ import annotations

import os

import pytest

from qa_bot.load import iter_files, load
from qa_bot.settings import Settings
from qa_bot.types import SkippedFile

SECRET = "root:x:0:0:root:/root:/bin/bash\n"


def _corpus_with_links(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "passwd").write_text(SECRET)
    corpus = tmp_path / "corpus" / "x"
    corpus.mkdir(parents=True)
    (corpus / "a.txt").write_text("Gout is treated with colchicine.\n")
    (corpus / "passwd.txt").symlink_to(outside / "passwd")
    (corpus / "also_a.txt").symlink_to(corpus / "a.txt")  # inside the folder: read once, as a.txt
    return corpus.parent


def test_a_file_link_out_of_the_folder_is_skipped_and_named(tmp_path):
    corpus = _corpus_with_links(tmp_path)
    items = list(iter_files([corpus]))
    skipped = [i for i in items if isinstance(i, SkippedFile)]
    assert [os.path.basename(s.path) for s in skipped] == ["passwd.txt"]
    assert "outside" in skipped[0].reason
    res = load([corpus], Settings())
    assert [d.doc_id for d in res.documents] == ["a"]  # the inside link adds no second copy (no duplicate error)
    assert all(SECRET.strip() not in d.text for d in res.documents)


def test_ingest_does_not_index_a_linked_file_and_drops_what_was(tmp_path):
    from qa_bot.index import get_store, ingest

    corpus = _corpus_with_links(tmp_path)
    settings = Settings(data_dir=tmp_path / "data", corpus=[corpus])
    ingest([corpus / "x" / "passwd.txt"], settings, vectors=False)  # as an earlier version indexed it
    assert "passwd" in get_store(settings).known_documents()
    notes = []
    report = ingest(None, settings, vectors=False, on_notice=notes.append)
    assert not report.failed, report.failed
    assert report.documents == 1
    assert any(n.path.endswith("passwd.txt") for n in notes)
    store = get_store(settings)
    assert set(store.known_documents()) == {"a"}


# --- parsers: bounded on any input, a per-file time budget ---------------------------------------------------
HOSTILE_LINE = "Recommendation text about gout 12 " * 13 + "end"  # no page number at the end: the slow case


def _hostile_pdf(path):
    """1,200 overlapping 1-pt lines on one page: one row of ~550,000 characters once joined."""
    from helpers import minimal_pdf

    path.write_bytes(minimal_pdf([f"{HOSTILE_LINE} {i}x" for i in range(1200)], size=1, leading=0.01))
    return path


def test_a_pdf_of_overlapping_lines_is_read_within_its_budgets_and_the_others_are_indexed(tmp_path):
    import subprocess
    import sys

    corpus = tmp_path / "corpus" / "x"
    corpus.mkdir(parents=True)
    (corpus / "a.txt").write_text("Gout is treated with colchicine.\n")
    _hostile_pdf(corpus / "hostile.pdf")
    env = {**os.environ, "QA_BOT_DATA_DIR": str(tmp_path / "data"), "QA_BOT_CORPUS": str(corpus.parent)}
    # a guard against a hang (the quadratic contents-page test took over 400 s here), not a timing
    r = subprocess.run([sys.executable, "-m", "qa_bot.cli", "ingest", "--no-vectors"], capture_output=True, text=True,
                       env=env, timeout=240)
    assert r.returncode == 0, r.stdout + r.stderr
    out = " ".join(r.stdout.split())
    assert "2 documents" in out and "hostile.pdf" in out and "budget" in out


def test_a_pdf_over_its_time_budget_fails_naming_it_and_nothing_else_is_lost(tmp_path):
    import shutil

    from qa_bot.index import get_store, ingest

    from conftest import ROOT

    corpus = tmp_path / "corpus" / "x"
    corpus.mkdir(parents=True)
    (corpus / "a.txt").write_text("Gout is treated with colchicine.\n")
    shutil.copy(ROOT / "tests" / "fixtures" / "pdf" / "guideline_sample.pdf", corpus / "g.pdf")
    settings = Settings(data_dir=tmp_path / "data", corpus=[corpus.parent])
    assert not ingest(None, settings, vectors=False).failed
    before = get_store(settings).known_documents()
    (corpus / "g.pdf").touch()
    (corpus / "b.txt").write_text("Colchicine is taken by mouth.\n")
    report = ingest(None, settings.model_copy(update={"file_time_budget_s": 1e-9}), vectors=False)
    assert [f.path.endswith("g.pdf") for f in report.failed] == [True]
    assert "budget" in report.failed[0].reason and "QA_BOT_FILE_TIME_BUDGET_S" in report.failed[0].reason
    after = get_store(settings).known_documents()
    assert after["g"] == before["g"] and {"a", "b", "g"} <= set(after)


def test_the_contents_page_test_is_linear_on_a_long_line():
    import signal

    from qa_bot.pdf import Line, _is_toc_page

    def hang(*_):
        raise TimeoutError("the contents-page test did not finish (quadratic)")

    line = Line(HOSTILE_LINE * 3000, 72, 500, 700, 699, 1, False, 1)  # ~1.3 M characters
    old = signal.signal(signal.SIGALRM, hang)
    signal.alarm(60)  # a hang guard: linear takes well under a second
    try:
        assert _is_toc_page([line] * 3) is False
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


# --- request limits -------------------------------------------------------------------------------------------
KEY = "boundary-key-0123456789abcdef"
SCOPED_KEY = "boundary-scoped-0123456789abcdef"


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


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_a_real_server_times_out_slow_headers_and_refuses_huge_ones(tmp_path):
    import subprocess
    import sys
    import time

    import httpx

    from helpers import raw_http

    port = _free_port()
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
    from qa_bot.index import get_store

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


# --- revocation fails closed ---------------------------------------------------------------------------------
def _bump(path):
    import time

    os.utime(path, ns=(time.time_ns() + 10**9, time.time_ns() + 10**9))


def test_a_broken_or_deleted_keys_file_accepts_no_key_and_says_so(tmp_path, caplog):
    import logging

    from fastapi.testclient import TestClient

    from qa_bot.api import create_app, hash_key

    path = tmp_path / "keys.txt"
    other = "other-key-0123456789abcdef"
    path.write_text(f"{hash_key(KEY)}\n{hash_key(other)}\n", encoding="utf-8")
    with TestClient(create_app(Settings(data_dir=tmp_path / "d", api_keys_file=path), warmup=False)) as c:
        def status(key):
            return c.get("/v1/models", headers={"Authorization": f"Bearer {key}"}).status_code

        assert status(KEY) == 200 and status(other) == 200
        # the other key is revoked while a malformed line is in the file: neither key works
        path.write_text(f"{hash_key(KEY)}\nnot a key line\n", encoding="utf-8")
        _bump(path)
        with caplog.at_level(logging.ERROR, logger="qa_bot.api"):
            assert status(other) == 401 and status(KEY) == 401
        assert "NO API KEY IS ACCEPTED" in caplog.text
        path.write_text(f"{hash_key(KEY)}\n", encoding="utf-8")
        _bump(path)
        assert status(KEY) == 200 and status(other) == 401
        path.unlink()
        assert status(KEY) == 401


def test_a_web_session_ends_when_its_key_is_revoked(indexed_settings, tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from qa_bot.api import hash_key

    from conftest import ROOT

    keys = tmp_path / "keys.txt"
    keys.write_text(f"{hash_key(KEY)}\n", encoding="utf-8")
    monkeypatch.setenv("QA_BOT_DATA_DIR", str(indexed_settings.data_dir))
    monkeypatch.setenv("QA_BOT_CORPUS", str(indexed_settings.ingest.corpus[0]))
    monkeypatch.setenv("QA_BOT_FEEDBACK_DB", str(tmp_path / "feedback.sqlite"))
    monkeypatch.setenv("QA_BOT_API_KEYS_FILE", str(keys))
    at = AppTest.from_file(str(ROOT / "ui" / "app.py"), default_timeout=240)
    at.run()
    at.text_input(key="login_key_input").input(KEY)
    at.button[0].click().run()
    assert at.chat_input and not at.exception
    keys.write_text("# every key revoked\n", encoding="utf-8")
    _bump(keys)
    at.chat_input(key="question").set_value("What is gout?").run()
    assert not at.exception and not at.chat_input and at.text_input(key="login_key_input") is not None
    assert not at.session_state["turns"] if "turns" in at.session_state else True


# --- readiness is honest ---------------------------------------------------------------------------------------
def test_readyz_is_503_while_another_process_writes_the_embedded_store(indexed_settings):
    import subprocess
    import sys

    from fastapi.testclient import TestClient

    from qa_bot.api import create_app

    code = ("import sys; from pathlib import Path; from qa_bot.index import writer_lock; from qa_bot.settings import "
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


# --- names and document text printed safely ---------------------------------------------------------------------
FORGED = "x\ndone in 0.1s: 999 documents"


def test_a_file_name_cannot_forge_a_line_of_the_ingest_output(tmp_path):
    import subprocess
    import sys

    corpus = tmp_path / "corpus" / "x"
    corpus.mkdir(parents=True)
    (corpus / "a.txt").write_text("Gout is treated with colchicine.\n")
    (corpus / f"{FORGED}.txt").write_bytes(b"")  # empty: it fails, named
    (corpus / f"[bold]{FORGED}\x1b[2J.txt").symlink_to(tmp_path / "corpus" / "x" / ".." / ".." / "elsewhere.txt")
    (tmp_path / "elsewhere.txt").write_text("secret\n")
    env = {**os.environ, "QA_BOT_DATA_DIR": str(tmp_path / "data"), "QA_BOT_CORPUS": str(corpus.parent)}
    r = subprocess.run([sys.executable, "-m", "qa_bot.cli", "ingest", "--no-vectors"], capture_output=True, text=True,
                       env=env, timeout=240)
    out = r.stdout + r.stderr
    lines = out.splitlines()
    assert not any(ln.lstrip().startswith("done in 0.1s") for ln in lines), out
    assert "x\\ndone in 0.1s: 999 documents" in out and "\x1b" not in out and "\\x1b[2J" in out
    assert "[bold]" in out  # a name is text, never Rich markup


def test_document_text_with_terminal_escapes_is_printed_escaped(tmp_path):
    import subprocess
    import sys

    corpus = tmp_path / "corpus" / "x"
    corpus.mkdir(parents=True)
    (corpus / "gout.md").write_text("---\ntitle: Gout care\n---\n# Treatment of gout\n\nGout is treated "
                                    "with colchicine\x1b[2J\x1b]0;owned\x07 or with allopurinol for the long term.\n")
    env = {**os.environ, "QA_BOT_DATA_DIR": str(tmp_path / "data"), "QA_BOT_CORPUS": str(corpus.parent)}
    assert subprocess.run([sys.executable, "-m", "qa_bot.cli", "ingest", "--no-vectors"], env=env, timeout=240,
                          capture_output=True).returncode == 0
    r = subprocess.run([sys.executable, "-m", "qa_bot.cli", "ask", "How is gout treated?"], capture_output=True,
                       text=True, env=env, timeout=240)
    assert r.returncode == 0, r.stderr
    assert "\x1b" not in r.stdout and "\x07" not in r.stdout


# --- server mode: the same statistics as embedded mode ----------------------------------------------------------
@pytest.mark.slow
def test_server_mode_statistics_count_chunks_by_their_own_type_like_embedded_mode(tmp_path):
    from qa_bot.index import get_store, ingest
    from qa_bot.server_store import ServerStore

    from test_server_mode import ChromaServer, small_corpus

    corpus = small_corpus(tmp_path / "corpus")
    embedded = Settings(data_dir=tmp_path / "embedded", corpus=[corpus])
    assert not ingest(None, embedded).failed
    server = ChromaServer(tmp_path / "chroma").start()
    try:
        s = Settings(data_dir=tmp_path / "data", corpus=[corpus], chroma_url=server.url, collection_name="stats",
                     poll_interval=0)
        assert not ingest(None, s).failed
        want, got = get_store(embedded).stats(), ServerStore(s).stats()
        assert want.by_doc_type.get("comment") and got.by_doc_type == want.by_doc_type
        assert got.by_collection == want.by_collection and got.chunks == want.chunks
        mine, theirs = ServerStore(s).stats(["seeds"]), get_store(embedded).stats(["seeds"])
        assert (mine.documents, mine.chunks, mine.by_collection, mine.by_doc_type) == \
            (theirs.documents, theirs.chunks, theirs.by_collection, theirs.by_doc_type)
        assert set(mine.by_collection) == {"seeds"}
    finally:
        server.stop()


# --- garbage text layers ------------------------------------------------------------------------------------------
VISIBLE = ["Gout is treated with colchicine or with", "nonsteroidal anti-inflammatory drugs during a flare.",
           "Allopurinol lowers serum urate over the long term", "and prevents further attacks of gout in adults."]
LAYER = ["Qx#r vbnm& zxcv kjhg$ prst% wxyz@ bcdf* ghjk lmnp^ qrst~ vwxz| " * 3] * 6  # a broken font encoding


def _garbled_pdf(tmp_path):
    from helpers import scanned_pdf_with_text_layer

    path = tmp_path / "garbled.pdf"
    path.write_bytes(scanned_pdf_with_text_layer(VISIBLE, LAYER))
    return path


def test_a_garbled_text_layer_is_reported_for_its_file(tmp_path):
    from qa_bot.pdf import parse_pdf

    parsed = parse_pdf(_garbled_pdf(tmp_path), ocr=False)
    assert any("page 1" in n and "garbled" in n and "tesseract" in n for n in parsed.notices), parsed.notices


@pytest.mark.skipif(not __import__("shutil").which("tesseract"), reason="tesseract-ocr is not installed")
def test_a_garbled_text_layer_is_read_by_ocr_when_tesseract_is_there(tmp_path):
    from qa_bot.pdf import parse_pdf

    parsed = parse_pdf(_garbled_pdf(tmp_path), ocr=True)
    assert any("garbled" in n and "OCR" in n for n in parsed.notices), parsed.notices
    assert "colchicine" in parsed.text.lower() and "zxcv" not in parsed.text


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
