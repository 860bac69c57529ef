"""Ingest into Chroma + bm25s: incremental, idempotent, resumable after SIGKILL; Chroma server mode. The ingest loop
(qa_bot/store/ingest_loop.py): a bad document never stops the lexical or vector phase, a killed writer is repaired,
one writer at a time, documents follow a moved folder."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from conftest import FIXTURE_CORPUS, ROOT, make_settings

from helpers import ChromaServer, free_port as _free_port, output_of, run_cli, write_good_docs
from qa_bot.errors import IndexBusyError
from qa_bot.store import check_index, get_store, ingest, writer_lock
from qa_bot.store.tables import published_ord
from qa_bot.settings import Settings


def consistent(settings: Settings) -> tuple[int, int]:
    """Chunks in the state DB, vectors in Chroma: same ids, no duplicates, all flagged."""
    store = get_store(settings)
    ids = {r[0] for r in store.db().execute("SELECT chunk_id FROM chunks")}
    col = store.collection
    got = col.get(include=[])
    assert len(got["ids"]) == len(set(got["ids"]))
    assert set(got["ids"]) == ids
    assert store.count_chunks(with_vector=False) == 0
    _, lex_ids = store.lexical()
    assert set(lex_ids) == ids
    return len(ids), col.count()


@pytest.mark.slow
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


@pytest.mark.slow
def test_vectors_being_encoded_are_written_an_encoder_batch_at_a_time(tmp_path):
    """Vectors from the cache are written 256 at a time; vectors that must be encoded are written as each encoder
    batch is made (progress moves, and a killed ingest loses one batch of work)."""
    corpus = tmp_path / "corpus"
    write_good_docs(corpus)
    for i in range(3):  # more chunks than one encoder batch
        (corpus / f"note{i}.md").write_text(f"# Note {i}\n\nNote {i} says that fluids and rest help recovery "
                                            f"from illness number {i}.\n", encoding="utf-8")
    settings = Settings(data_dir=tmp_path / "data", corpus=[corpus], embedding_cache=[tmp_path / "no-cache"],
                        embedding_batch_size=2)
    steps: list[int] = []
    report = ingest(None, settings, progress=lambda phase, done, total: steps.append(done) if phase == "vectors" else None)
    assert report.embedded == report.chunks >= 5 and not report.failed
    assert steps == list(range(2, report.chunks, 2)) + [report.chunks], steps
    shipped = Settings(data_dir=tmp_path / "data2", corpus=[FIXTURE_CORPUS / "seeds"], embedding_batch_size=2)
    steps.clear()
    again = ingest(None, shipped, progress=lambda phase, done, total: steps.append(done) if phase == "vectors" else None)
    assert again.embedded == 0 and steps[0] == min(256, again.chunks)


LIGHT_READER = """
import sys
from qa_bot.settings import Settings
from qa_bot.store import get_store
store = get_store(Settings(data_dir=sys.argv[1]))
hits = store.dense_search([0.05] * 384, 3)
print(store.vector_count(), len(hits), "langchain_chroma" in sys.modules)
"""


def test_the_stores_query_chroma_without_langchain_chroma(indexed_settings: Settings):
    """The stores read and write the chunk collection directly (langchain-chroma's import costs every process about a
    second); LangChain callers get the same collection through ``vectorstore``."""
    import subprocess
    import sys

    from helpers import clean_env

    r = subprocess.run([sys.executable, "-c", LIGHT_READER, str(indexed_settings.data_dir)], capture_output=True,
                       text=True, env=clean_env(), timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    n, hits, imported = r.stdout.split()
    assert int(n) > 300 and hits == "3" and imported == "False"
    store = get_store(indexed_settings)
    assert store.vectorstore._collection.id == store.collection.id
    assert store.collection.metadata["hnsw:space"] == "cosine"


@pytest.mark.slow
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


@pytest.mark.slow
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
    # the resume takes the vectors still missing from the shipped cache, as a resume on a fresh machine does (the
    # vectors written before the kill were encoded by the killed process; encoding the rest again here would only
    # repeat what the kill interrupted, at a minute of CPU)
    settings = fresh_settings
    report = ingest(None, settings)
    assert report.documents == 40 and not report.failed
    n, v = consistent(settings)
    assert n == v == report.chunks


@pytest.mark.slow
def test_published_ord():
    assert published_ord("1996 (revised 2013 Mar 19)") == 20130319
    assert published_ord("2016-02-16") == 20160216
    assert published_ord(None) == 0


@pytest.mark.slow
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


@pytest.mark.slow
def test_unreachable_chroma_server_is_a_clear_error(tmp_path):
    from qa_bot.errors import StoreUnavailableError

    settings = Settings(data_dir=tmp_path / "d", chroma_url=f"http://127.0.0.1:{_free_port()}")
    store = get_store(settings)
    with pytest.raises(StoreUnavailableError, match="cannot reach the Chroma server"):
        store.collection  # noqa: B018
    with pytest.raises(StoreUnavailableError, match="cannot reach the Chroma server"):
        store.vectorstore  # noqa: B018


# --- the ingest loop: bad documents, killed writers, one writer, moved folders ---------------------------------
def counts(settings: Settings) -> tuple[int, int, int]:
    report = get_store(settings).check()
    return report["chunks"], report["vectors"], report["lexical"]


@pytest.mark.slow
def test_row1_a_bad_file_never_stops_the_lexical_and_vector_phases(tmp_path):
    corpus = tmp_path / "docs"
    write_good_docs(corpus)
    (corpus / "dated.md").write_text("---\npublished: 2020-01-15\n---\n# Gout flares\n\nColchicine treats gout flares.\n")
    (corpus / "number.md").write_text("---\ntitle: 2024\n---\n# Gout\n\nAllopurinol lowers uric acid in chronic gout.\n")
    (corpus / "mapping.md").write_text("---\nid: {x: 1}\n---\nText about gout.\n")
    settings = make_settings(tmp_path / "data", corpus)
    report = ingest(None, settings)
    assert report.documents == 5 and [e.path for e in report.failed] == [str(corpus / "mapping.md")]
    chunks, vectors, lexical = counts(settings)
    assert chunks == vectors == lexical > 0
    # the same ingest again: nothing crashes, nothing changes
    again = ingest(None, settings)
    assert again.skipped_unchanged == 5 and len(again.failed) == 1
    from qa_bot.engine import answer

    a = answer("How are gout flares treated?", [], settings)
    assert not a.abstained and any(c.doc_id in {"dated", "gout"} for c in a.citations)


def test_a_failure_while_chunking_is_the_documents(tmp_path, monkeypatch):
    """Any exception at the document boundary (here: from the chunker) is one line naming the file; the other
    documents and the lexical phase go on."""
    import qa_bot.store.ingest_loop as index_mod

    corpus = tmp_path / "docs"
    write_good_docs(corpus)
    real = index_mod.chunk_document

    def chunker(doc, settings):
        if doc.doc_id == "asthma":
            raise RuntimeError("boom\nsecond line")
        return real(doc, settings)

    monkeypatch.setattr(index_mod, "chunk_document", chunker)
    settings = make_settings(tmp_path / "data", corpus)
    report = ingest(None, settings, vectors=False)
    [e] = report.failed
    assert e.path == str((corpus / "asthma.md").resolve()) and "RuntimeError: boom" in e.reason and "\n" not in e.reason
    assert report.documents == 2
    chunks, _, lexical = counts(settings)
    assert chunks == lexical > 0


# --- a killed writer; the index repairs itself ----------------------------------------------------------------------
KILL_IN_LEXICAL = textwrap.dedent("""
    import os, signal, sys
    from qa_bot.store.embedded import EmbeddedStore
    real = EmbeddedStore.rebuild_lexical
    def killed(self):
        tmp = self.settings.lexical_dir.with_name("lexical.tmp")
        tmp.mkdir(parents=True, exist_ok=True)
        (tmp / "chunk_ids.json").write_text("{}")
        os.kill(os.getpid(), signal.SIGKILL)   # dies while lexical.tmp exists
    EmbeddedStore.rebuild_lexical = killed
    from qa_bot.cli import main
    sys.argv = ["qa-bot", "ingest", "--no-vectors", *sys.argv[1:]]
    main()
""")


def killed_ingest(settings: Settings, *paths: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_BOT_")}
    env.update({"QA_BOT_DATA_DIR": str(settings.data_dir), "PYTHONPATH": str(ROOT)})
    r = subprocess.run([sys.executable, "-c", KILL_IN_LEXICAL, *map(str, paths)], env=env, capture_output=True,
                       timeout=300)
    assert r.returncode == -signal.SIGKILL, output_of(r)


@pytest.mark.slow
def test_row4_sigkill_while_lexical_tmp_exists_then_ingest_repairs(fresh_settings: Settings, tmp_path):
    corpus = fresh_settings.ingest.corpus[0]
    first = ingest(None, fresh_settings)
    assert not first.failed
    extra = corpus / "added"
    write_good_docs(extra)
    killed_ingest(fresh_settings, corpus)
    assert (fresh_settings.data_dir / "lexical.tmp").exists()
    store = get_store(fresh_settings)
    assert store.check()["problems"]  # the state has 3 more documents than the lexical index
    r = run_cli(["index", "check"], data_dir=fresh_settings.data_dir, text=False)
    assert r.returncode == 1 and "mismatch" in output_of(r)
    for _ in range(2):
        report = ingest(None, fresh_settings)
        assert not report.failed
        check = store.check()
        assert check["problems"] == [] and check["chunks"] == check["vectors"] == check["lexical"]
        assert not (fresh_settings.data_dir / "lexical.tmp").exists()
    ids = {r[0] for r in store.db().execute("SELECT chunk_id FROM chunks")}
    assert set(store.lexical()[1]) == ids and any(i.startswith("gout") for i in ids)

    # the same with files deleted: no dead ids left in the lexical index
    shutil.rmtree(extra)
    killed_ingest(fresh_settings, corpus)
    ingest(None, fresh_settings)
    ids = {r[0] for r in store.db().execute("SELECT chunk_id FROM chunks")}
    assert set(store.lexical()[1]) == ids and not any(i.startswith("gout") for i in ids)
    assert store.check()["problems"] == []


@pytest.mark.slow
def test_row4_index_check_repairs_orphan_and_missing_vectors(fresh_settings: Settings):
    ingest(None, fresh_settings)
    store = get_store(fresh_settings)
    col = store.vectorstore._collection
    some = sorted(store.lexical()[1])[:5]
    col.delete(ids=some)  # vectors lost (a kill between the vector delete and the state commit)
    col.upsert(ids=["ghost::0"], embeddings=[[0.1] * 384], metadatas=[{"doc_id": "ghost"}], documents=["ghost"])
    report, _ = check_index(fresh_settings)
    assert report["problems"]
    r = run_cli(["index", "check", "--repair"], data_dir=fresh_settings.data_dir, text=False)
    assert r.returncode == 0, output_of(r)
    assert "repaired" in output_of(r) and "consistent" in output_of(r)
    report, _ = check_index(fresh_settings)
    assert report["problems"] == [] and report["chunks"] == report["vectors"] == report["lexical"]
    assert not col.get(ids=["ghost::0"])["ids"] and len(col.get(ids=some)["ids"]) == 5


# --- one writer at a time -------------------------------------------------------------------------------------------
HOLD_LOCK = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from qa_bot.store import writer_lock
    from qa_bot.settings import Settings
    with writer_lock(Settings(data_dir=Path(sys.argv[1])), "ingest"):
        print("locked", flush=True)
        time.sleep(float(sys.argv[2]))
""")


def test_row5_a_second_writer_is_refused_with_the_running_ones_pid(tmp_path):
    settings = make_settings(tmp_path / "data")
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(settings.data_dir), "60"],
                              stdout=subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert holder.stdout.readline().strip() == b"locked"
        with pytest.raises(IndexBusyError, match=rf"PID {holder.pid}\b.*qa-bot ingest"):
            ingest([tmp_path], settings)
        r = run_cli(["ingest", str(tmp_path)], data_dir=settings.data_dir, text=False)
        assert r.returncode == 2 and f"PID {holder.pid}" in output_of(r) and "Traceback" not in output_of(r)
    finally:
        holder.kill()
        holder.wait(30)
    # the holder was killed: its lock is taken over, and the new writer knows the last one died
    with writer_lock(settings) as previous_killed:
        assert previous_killed
    with writer_lock(settings) as previous_killed:
        assert not previous_killed  # a clean exit leaves nothing behind


@pytest.mark.slow
def test_row5_two_ingests_at_once(tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(FIXTURE_CORPUS, corpus)
    data = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_BOT_")}
    env.update({"QA_BOT_DATA_DIR": str(data), "PYTHONPATH": str(ROOT)})
    procs = [subprocess.Popen([sys.executable, "-m", "qa_bot.cli", "ingest", str(corpus)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
    outs = [p.communicate(timeout=300) for p in procs]
    codes = sorted(p.returncode for p in procs)
    text = " ".join((o + e).decode() for o, e in outs)
    assert "Traceback" not in text
    assert codes == [0, 0] or (codes == [0, 2] and "another writer (PID" in text)
    settings = make_settings(data, corpus)
    check = get_store(settings).check()
    assert check["problems"] == [] and check["chunks"] == check["vectors"] == check["lexical"] > 0
    # --wait: a second ingest waits for the first instead of exiting
    waiter = [subprocess.Popen([sys.executable, "-m", "qa_bot.cli", "ingest", "--wait", str(corpus)], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
    assert all(p.wait(300) == 0 for p in waiter)


# --- documents follow a moved folder -------------------------------------------------------------------------------
def test_row6_moved_folder_then_deleted_document(tmp_path):
    a, b = tmp_path / "A", tmp_path / "B"
    write_good_docs(a)
    for f in a.iterdir():  # a collection of their own: moving the folder changes nothing in the documents
        f.write_text(f.read_text().replace("---\ntitle:", "---\ncollection: local\ntitle:", 1))
    settings = make_settings(tmp_path / "data", a)
    ingest([a], settings, vectors=False)
    a.rename(b)
    moved = ingest([b], settings, vectors=False)
    assert moved.skipped_unchanged == 3 and moved.removed == 0
    assert get_store(settings).count_docs() == 3  # no duplicates, no orphans
    (b / "gout.md").unlink()
    after = ingest([b], settings, vectors=False)
    assert after.removed == 1
    store = get_store(settings)
    assert store.count_docs() == 2 and not store.doc_chunks("gout")
    assert not any(i.startswith("gout") for i in store.lexical()[1])
    # a folder moved away and another folder ingested: the documents whose files are gone do not linger
    b.rename(tmp_path / "C")
    other = tmp_path / "D"
    other.mkdir()
    (other / "copd.md").write_text("# COPD\n\nCOPD is a chronic lung disease.\n")
    ingest([other], settings, vectors=False)
    assert {r[0] for r in store.db().execute("SELECT doc_id FROM docs")} == {"copd"}


def test_a_failure_while_embedding_is_the_documents(fresh_settings: Settings, monkeypatch):
    """Embedding is per document too: the poisoned document is reported in one line and left pending, every
    other document gets its vectors, and the lexical index is complete."""
    import numpy as np

    from qa_bot.embed import Embedder

    def encode(self, texts, batch_size=64):
        if any("POISON" in t for t in texts):
            raise RuntimeError("encoder failed on this text")
        return np.tile(np.eye(1, 384, dtype=np.float32), (len(texts), 1))

    monkeypatch.setattr(Embedder, "encode", encode)
    corpus = fresh_settings.ingest.corpus[0]
    (corpus / "poison.md").write_text("# Poison\n\nPOISON text that the encoder cannot take.\n")
    (corpus / "fine.md").write_text("# Fine\n\nA new document about gout flares and colchicine.\n")
    report = ingest(None, fresh_settings)
    [e] = report.failed
    assert e.path == str((corpus / "poison.md").resolve()) and "cannot embed document 'poison'" in e.reason
    assert "RuntimeError: encoder failed" in e.reason and "\n" not in e.reason
    assert report.documents == 42 and report.pending_vectors == 1
    store = get_store(fresh_settings)
    check = store.check()
    assert check["lexical"] == check["chunks"] == check["vectors"] + 1
    assert store.db().execute("SELECT has_vector FROM chunks WHERE doc_id='fine'").fetchone()[0] == 1


@pytest.mark.slow
def test_failed_files_lose_nothing_already_indexed_and_exit_non_zero(fresh_settings: Settings, tmp_path):
    report = ingest(None, fresh_settings)
    store = get_store(fresh_settings)
    before = store.count_chunks()
    assert before > 0 and not report.failed
    corpus = fresh_settings.ingest.corpus[0]
    # an indexed file gets corrupted, a new bad file appears
    victim = corpus / "medquad" / "GARD_0004450.md"
    victim.write_bytes(b"\xff\xfe\x00garbage")
    (corpus / "bad.jsonl").write_text("{oops\n")
    env = {**os.environ, "QA_BOT_DATA_DIR": str(fresh_settings.data_dir), "QA_BOT_CORPUS": str(corpus)}
    r = subprocess.run([sys.executable, "-m", "qa_bot.cli", "ingest"], capture_output=True, text=True, env=env,
                       timeout=300)
    assert r.returncode == 1, r.stdout + r.stderr
    out = r.stdout + r.stderr
    assert "GARD_0004450.md" in out and "bad.jsonl:1" in out and "Traceback" not in out
    assert store.count_chunks() == before  # the corrupted file's earlier chunks are kept
    assert store.db().execute("SELECT COUNT(*) FROM docs WHERE doc_id='GARD_0004450'").fetchone()[0] == 1


def test_side_tables_of_an_older_version_are_rebuilt_by_the_next_ingest(fresh_settings: Settings):
    """What the side tables hold changed (``tables.TABLES_VERSION``): an index whose lexical manifest records an
    older version is not current, and the next ingest rebuilds it, changing nothing else."""
    import json

    ingest(None, fresh_settings)
    store = get_store(fresh_settings)
    f = fresh_settings.lexical_dir / "chunk_ids.json"
    manifest = json.loads(f.read_text())
    assert store.lexical_is_current()
    f.write_text(json.dumps({k: v for k, v in manifest.items() if k != "tables"}))
    assert not store.lexical_is_current()
    assert any("side tables are of an older version" in p for p in store.check()["problems"])
    report = ingest(None, fresh_settings)
    assert report.embedded == 0 and store.lexical_is_current() and store.check()["problems"] == []
    # `make run`'s `qa-bot ingest --if-missing` on an index present: its old side tables are rebuilt too
    f.write_text(json.dumps({k: v for k, v in json.loads(f.read_text()).items() if k != "tables"}))
    r = run_cli(["ingest", "--if-missing"], data_dir=fresh_settings.data_dir, text=False)
    assert r.returncode == 0, output_of(r)
    assert store.lexical_is_current() and store.check()["problems"] == []
