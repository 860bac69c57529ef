"""Ingest into Chroma + bm25s: incremental, idempotent, resumable after SIGKILL; Chroma server mode."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers import ChromaServer, free_port as _free_port
from qa_bot.store import get_store, ingest
from qa_bot.store.tables import published_ord
from qa_bot.settings import Settings

pytestmark = pytest.mark.slow


def consistent(settings: Settings) -> tuple[int, int]:
    """Chunks in the state DB, vectors in Chroma: same ids, no duplicates, all flagged."""
    store = get_store(settings)
    ids = {r[0] for r in store.db().execute("SELECT chunk_id FROM chunks")}
    col = store.vectorstore._collection
    got = col.get(include=[])
    assert len(got["ids"]) == len(set(got["ids"]))
    assert set(got["ids"]) == ids
    assert store.count_chunks(with_vector=False) == 0
    _, lex_ids = store.lexical()
    assert set(lex_ids) == ids
    return len(ids), col.count()


def test_ingest_is_incremental_and_idempotent(fresh_settings: Settings):
    first = ingest(None, fresh_settings)
    assert first.documents == 40 and first.chunks > 300 and not first.failed
    n, v = consistent(fresh_settings)
    assert n == v == first.chunks
    assert first.from_cache > 0  # the shipped embedding cache is used

    again = ingest(None, fresh_settings)
    assert again.skipped_unchanged == 40 and again.embedded == 0 and again.from_cache == 0 and again.removed == 0

    # an index from before acronyms were collected gets them at the next ingest, with nothing else to do
    acr = fresh_settings.lexical_dir / "acronyms.json"
    table = acr.read_text()
    acr.unlink()
    ingest(None, fresh_settings)
    assert acr.read_text() == table and "CVD" in get_store(fresh_settings).acronyms()

    corpus = fresh_settings.ingest.corpus[0]
    f = corpus / "medquad" / "GARD_0004450.md"
    f.write_text(f.read_text().replace("Noonan syndrome is a genetic disorder",
                                       "Noonan syndrome is an inherited genetic disorder"))
    (corpus / "medquad" / "GHR_0000804.md").unlink()
    changed = ingest(None, fresh_settings)
    assert changed.skipped_unchanged == 38 and changed.removed == 1
    n2, v2 = consistent(fresh_settings)
    store = get_store(fresh_settings)
    assert not store.db().execute("SELECT 1 FROM chunks WHERE doc_id='GHR_0000804'").fetchall()
    body = " ".join(c.text for c in store.doc_chunks("GARD_0004450"))
    assert "inherited genetic disorder" in body
    assert n2 == v2 < n


def test_ingesting_one_file_does_not_remove_the_rest(fresh_settings: Settings, tmp_path):
    ingest(None, fresh_settings)
    before = get_store(fresh_settings).count_docs()
    extra = tmp_path / "local.md"
    extra.write_text("---\ntitle: Local sepsis protocol\ndoc_type: guideline\n---\n# Sepsis\n\n"
                     "Give broad-spectrum antibiotics within one hour of recognising sepsis.\n")
    rep = ingest([extra], fresh_settings)
    assert rep.documents == 1 and rep.removed == 0
    assert get_store(fresh_settings).count_docs() == before + 1


def _counts(data: Path) -> tuple[int, int, int]:
    db = data / "state.sqlite"
    if not db.exists():
        return 0, 0, 0
    try:
        with sqlite3.connect(db, timeout=1) as c:
            docs = c.execute("SELECT COUNT(*) FROM docs").fetchone()[0]
            chunks = c.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]
            vec = c.execute("SELECT COUNT(*) FROM chunks WHERE has_vector=1").fetchone()[0]
        return docs, chunks, vec
    except sqlite3.Error:
        return 0, 0, 0


@pytest.mark.parametrize("phase", ["text", "vectors"])
def test_sigkill_then_resume_leaves_a_consistent_index(fresh_settings: Settings, tmp_path, phase):
    data = fresh_settings.data_dir
    env = {**os.environ, "QA_BOT_DATA_DIR": str(data), "QA_BOT_CORPUS": str(fresh_settings.ingest.corpus[0]),
           # no shipped cache: every vector is encoded, so the vector phase lasts long enough to be killed in
           "QA_BOT_EMBEDDING_CACHE": str(tmp_path / "no-cache"), "QA_BOT_EMBEDDING_BATCH_SIZE": "8"}
    proc = subprocess.Popen([sys.executable, "-m", "qa_bot.cli", "ingest"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 240
    try:
        while time.time() < deadline and proc.poll() is None:
            docs, chunks, vec = _counts(data)
            if (phase == "text" and docs >= 5) or (phase == "vectors" and vec > 0):
                break
            time.sleep(0.02)
        assert proc.poll() is None, "ingest finished before it could be killed"
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    docs, chunks, vec = _counts(data)
    assert docs < 40 or vec < chunks  # it really was interrupted
    # killed in the text phase, no vector was written: the resume may take vectors from the shipped cache
    settings = fresh_settings if phase == "text" else fresh_settings.model_copy(
        update={"embedding_cache": [tmp_path / "no-cache"]})
    report = ingest(None, settings)
    assert report.documents == 40 and not report.failed
    n, v = consistent(settings)
    assert n == v == report.chunks


def test_published_ord():
    assert published_ord("1996 (revised 2013 Mar 19)") == 20130319
    assert published_ord("2016-02-16") == 20160216
    assert published_ord(None) == 0


def test_against_a_real_chroma_server(tmp_path):
    server = ChromaServer(tmp_path / "server").start()
    port = server.port
    try:
        from conftest import FIXTURE_CORPUS, SEED_QUESTION

        settings = Settings(data_dir=tmp_path / "data", corpus=[FIXTURE_CORPUS],
                            chroma_url=f"http://127.0.0.1:{port}")
        report = ingest(None, settings)
        assert not report.failed and report.pending_vectors == 0
        store = get_store(settings)
        check = store.check()
        assert check["problems"] == [] and check["chunks"] == check["vectors"] == check["lexical"] == report.chunks
        _, lex_ids = store.lexical()
        assert sorted(lex_ids) == sorted(store._vector_ids())
        n = report.chunks
        # server mode: chunks, document state and the index version live on the server, nothing in the data dir
        assert not (settings.data_dir / "chroma").exists() and not settings.state_db.exists()

        import chromadb

        remote = chromadb.HttpClient(host="127.0.0.1", port=port)
        assert remote.get_collection(settings.collection_name).count() == n

        from qa_bot.engine import answer

        a = answer(SEED_QUESTION, [], settings)
        assert not a.abstained and a.citations
    finally:
        server.stop()


def test_unreachable_chroma_server_is_a_clear_error(tmp_path):
    from qa_bot.errors import StoreUnavailableError

    settings = Settings(data_dir=tmp_path / "d", chroma_url=f"http://127.0.0.1:{_free_port()}")
    store = get_store(settings)
    with pytest.raises(StoreUnavailableError, match="cannot reach the Chroma server"):
        store.vectorstore  # noqa: B018
