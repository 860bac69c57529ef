"""Server mode (QA_BOT_CHROMA_URL): one `chroma run` server is the only source of truth.

Unit tests of the version switch and the ingest lock over a real `chroma run`, and an end-to-end test with two
`qa-bot serve` processes and ingests run by a third process (the test)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from conftest import FIXTURE_CORPUS, ROOT, SEED_GUIDELINE, SEED_QUESTION
from helpers import CHROMA, ChromaServer, free_port, wait_port
from qa_bot.store import ingest, server as server_store
from qa_bot.errors import IndexBusyError, StoreUnavailableError
from qa_bot.settings import Settings
from qa_bot.types import SourceDocument

ADDED = ROOT / "tests" / "fixtures" / "server_mode" / "vitamin-d-deficiency-screening.md"
ADDED_ID = "TEST_vitamin-d-deficiency-screening"
ADDED_QUESTION = "Should asymptomatic adults be screened for vitamin D deficiency with serum 25-hydroxyvitamin D?"


@pytest.fixture(scope="module")
def chroma(tmp_path_factory):
    server = ChromaServer(tmp_path_factory.mktemp("chroma_server")).start()
    yield server
    server.stop()


def small_corpus(dest: Path) -> Path:
    """The two seed answers and the two guidelines of the fixture corpus (their vectors are in the shipped cache)."""
    for sub in ("seeds", "guidelines"):
        shutil.copytree(FIXTURE_CORPUS / sub, dest / sub)
    return dest


def server_settings(chroma: ChromaServer, tmp_path: Path, name: str, **kw) -> Settings:
    return Settings(data_dir=tmp_path / "data", corpus=[small_corpus(tmp_path / "corpus")], chroma_url=chroma.url,
                    collection_name=name, poll_interval=0, **kw)


# --- unit tests over a real server -----------------------------------------------------------------------
def test_server_mode_keeps_nothing_local_and_a_fresh_store_reads_the_same(chroma, tmp_path):
    from qa_bot.store import ingest
    from qa_bot.store.server import ServerStore

    s = server_settings(chroma, tmp_path, "unit_local")
    report = ingest(None, s)
    assert not report.failed and report.documents == 4 and report.pending_vectors == 0
    assert not (s.data_dir / "state.sqlite").exists() and not (s.data_dir / "lexical").exists()
    assert not (s.data_dir / "chroma").exists()
    fresh = ServerStore(s)  # another process: nothing but the settings
    assert fresh.check()["problems"] == []
    snap = fresh.current()
    assert snap.version == 1 and len(snap.ids) == report.chunks == fresh.count_chunks()
    assert set(snap.ids) == set(fresh._vector_ids())
    assert snap.acronyms == json.loads(fresh.meta_get("acronyms:1"))
    # incremental state lives in the server: a second ingest skips everything and publishes nothing new
    again = ingest(None, s)
    assert again.skipped_unchanged == 4 and again.removed == 0
    assert ServerStore(s).version_record()["version"] == 1
    # a chunk read back from the server is the chunk that was written
    doc = fresh.doc_chunks(SEED_GUIDELINE)
    assert doc and doc[0].doc_id == SEED_GUIDELINE and doc == sorted(doc, key=lambda c: c.start)
    assert fresh.get_chunks([doc[0].chunk_id])[doc[0].chunk_id] == doc[0]


def test_version_switch_is_whole_and_answers_stay_on_their_version(chroma, tmp_path):
    from qa_bot.store import ingest
    from qa_bot.store.server import ServerStore

    s = server_settings(chroma, tmp_path, "unit_switch")
    ingest(None, s)
    app = ServerStore(s)  # an app process
    v1 = app.current()
    shutil.copy(ADDED, s.ingest.corpus[0] / "guidelines")
    ingest(None, s)  # the ingest job (another store object: another process)
    new_ids = [c for c in ServerStore(s)._vector_ids() if c not in v1.hashes]
    assert new_ids and all(c.startswith(ADDED_ID) for c in new_ids)
    # until it switches, the app answers from version 1: the new chunks are not shown, not even by dense search
    assert app.get_chunks(new_ids) == {} and app.doc_chunks(ADDED_ID) == []
    vec = app.vectorstore._collection.get(ids=new_ids[:1], include=["embeddings"])["embeddings"][0]
    assert all(cid not in new_ids for cid, _ in app.dense_search(list(vec), 5))
    assert app.refresh() is True
    v2 = app.current()
    assert v2.version == v1.version + 1 and set(new_ids) <= set(v2.ids) and v2 is not v1
    assert set(app.get_chunks(new_ids)) == set(new_ids)
    assert dict(app.dense_search(list(vec), 5)).get(new_ids[0], 0) > 0.99
    # an answer that started on version 1 keeps reading version 1 while the process moves on
    with app.pinned(v1):
        assert app.lexical()[1] == v1.ids and app.get_chunks(new_ids) == {}
    assert app.lexical()[1] == v2.ids
    assert app.refresh() is False  # nothing new
    # removing the document: gone after the switch, and a changed document is not half shown
    (s.ingest.corpus[0] / "guidelines" / ADDED.name).unlink()
    report = ingest(None, s)
    assert report.removed == 1
    assert app.refresh() and not set(new_ids) & set(app.current().ids) and app.doc_chunks(ADDED_ID) == []
    assert ServerStore(s).current().ids == app.current().ids


def test_a_new_version_reads_only_the_documents_it_changed_and_equals_a_fresh_build(chroma, tmp_path, monkeypatch):
    """The ingest lists the documents each version changed; a running process reads only their chunks and
    updates its lexical index (the pick-up no longer grows with the corpus), and what it then holds is what a
    process started from nothing builds: same chunks, hashes, counts and lexical scores."""
    from qa_bot.store import ingest
    from qa_bot.store.server import ServerStore

    s = server_settings(chroma, tmp_path, "unit_update", server_cache=False)
    ingest(None, s)
    app = ServerStore(s)
    assert app.current().how == "full"
    reads: list = []
    rows = ServerStore._rows
    monkeypatch.setattr(ServerStore, "_rows", lambda self, where=None, version=0: reads.append(where) or rows(self, where, version))

    def same_as_fresh(snap) -> None:
        fresh = ServerStore(s).current()
        assert fresh.how == "full" and reads[-1] is None
        assert sorted(snap.ids) == fresh.ids and snap.hashes == fresh.hashes
        assert snap.by_collection == fresh.by_collection and snap.by_doc_type == fresh.by_doc_type
        for q in (ADDED_QUESTION, SEED_QUESTION, "hepatitis B pregnant women first prenatal visit"):
            assert first_search(snap, q) == first_search(fresh, q)

    shutil.copy(ADDED, s.ingest.corpus[0] / "guidelines")
    ingest(None, s)
    reads.clear()
    assert app.refresh()
    v2 = app.current()
    assert v2.how == "update" and reads == [{"doc_id": {"$in": [ADDED_ID]}}]
    assert first_search(v2, ADDED_QUESTION)[0][0].startswith(ADDED_ID)
    same_as_fresh(v2)
    # a changed document: its old chunks out, the new ones in
    path = s.ingest.corpus[0] / "guidelines" / ADDED.name
    path.write_text(path.read_text().replace("25-hydroxyvitamin D", "25-hydroxyvitamin D (calcidiol)"))
    ingest(None, s)
    reads.clear()
    assert app.refresh() and app.current().how == "update" and reads == [{"doc_id": {"$in": [ADDED_ID]}}]
    same_as_fresh(app.current())
    # removed: gone
    path.unlink()
    ingest(None, s)
    assert app.refresh() and app.current().how == "update"
    assert not any(c.startswith(ADDED_ID) for c in app.current().ids)
    same_as_fresh(app.current())
    # a version the server does not list (published by an earlier qa-bot, or too far behind): built in full
    shutil.copy(ADDED, s.ingest.corpus[0] / "guidelines")
    ingest(None, s)
    version = app.version_record()["version"]
    app.meta_col.delete(ids=[f"changes:{version}"])
    reads.clear()
    assert app.refresh() and app.current().how == "full" and reads == [None]


def test_an_answer_costs_one_search_and_few_fetches_on_the_server(chroma, tmp_path):
    """Round trips to the Chroma server dominate server-mode latency: the question and its sub-questions are
    searched in one query (distances only), the candidates' chunks come with their vectors in one get (a second
    only when filters leave the lexical pool short), the lead guidelines whole in one more (by id), and the
    composer reads the lead guideline from the process's cache of that version."""
    from qa_bot.engine import answer
    from qa_bot.store import get_store, ingest
    from qa_bot.retrieve import question_segments

    s = server_settings(chroma, tmp_path, "unit_trips", server_cache=False)
    ingest(None, s)
    store = get_store(s)
    store.current()
    question = ("My mother is 62 and has high blood pressure readings at home. Should she be screened for "
                "hypertension in the office? Should she also take aspirin to prevent a heart attack?")
    assert len(question_segments(question)) >= 2
    calls: list[tuple[str, list, dict | None]] = []
    rounds: list[int] = []  # fetches one after the other (each may be a few concurrent requests)
    col = store.chunks_col
    for name in ("query", "get"):
        real = getattr(col, name)
        setattr(col, name, lambda *a, _real=real, _name=name, **kw: calls.append(
            (_name, kw.get("include"), kw.get("where"))) or _real(*a, **kw))
    real_fetch = store._get_by_ids
    store._get_by_ids = lambda groups: rounds.append([len(ids) for ids, _ in groups if ids]) or real_fetch(groups)
    try:
        result = answer(question, [], s)
    finally:
        for name in ("query", "get"):
            delattr(col, name)
        del store._get_by_ids
    assert not result.abstained and result.citations
    assert [c for c in calls if c[0] == "query"] == [("query", ["distances"], None)]
    gets = [c for c in calls if c[0] == "get"]
    # candidates (1, or 2 when filters left the lexical pool short) + the lead guidelines whole, all by id (the
    # snapshot knows each document's chunks: no metadata filter, 220 ms at 1M chunks)
    assert 2 <= len(rounds) <= 3 and all("embeddings" in c[1] and c[2] is None for c in gets)
    assert len(gets) <= sum(min(server_store.FETCH_THREADS, -(-n // server_store.FETCH_PART)) for r in rounds for n in r)
    assert len(calls) == 1 + len(gets)


def test_a_large_fetch_is_split_into_concurrent_requests(monkeypatch):
    """The ~150 candidates of a question by id: ~88 ms in one request at 1M chunks, ~40 ms as three concurrent
    ones. The parts run at once (the fake server lets none finish until all three arrived), every id comes back."""
    from qa_bot.store.server import ServerStore

    gate = [threading.Barrier(server_store.FETCH_THREADS, timeout=10)]
    asked: list[list[str]] = []

    class Col:
        def get(self, ids, include):
            asked.append(list(ids))
            if gate[0] is not None:  # a part fetched after another had finished: BrokenBarrierError
                gate[0].wait()
            return {"ids": list(ids), "documents": [f"text of {i}" for i in ids]}

    monkeypatch.setattr(ServerStore, "chunks_col", property(lambda self: Col()))
    store = ServerStore(Settings(chroma_url="http://127.0.0.1:9", collection_name="unit_split"))
    ids = [f"c{i}" for i in range(150)]
    [got] = store._get_by_ids([(ids, ["documents"])])
    assert len(asked) == server_store.FETCH_THREADS and all(len(a) <= server_store.FETCH_PART for a in asked)
    assert [i for g in got for i in g["ids"]] == ids  # in order, none lost
    asked.clear()
    gate[0] = None
    assert [i for g in store._get_by_ids([(ids[:20], ["documents"])])[0] for i in g["ids"]] == ids[:20]
    assert asked == [ids[:20]]  # a small fetch: one request
    asked.clear()
    gate[0] = threading.Barrier(3, timeout=10)  # two groups (texts + vectors, vectors only): one round, at once
    texts, vectors = store._get_by_ids([(ids[:20], ["documents"]), (ids[20:120], ["embeddings"])])
    assert [i for g in texts for i in g["ids"]] == ids[:20] and [i for g in vectors for i in g["ids"]] == ids[20:120]
    assert sorted(map(len, asked)) == [20, 50, 50]


def test_the_likely_lead_guidelines_are_read_while_the_candidates_are_fetched(chroma, tmp_path):
    """Retrieval reads the answer's lead guidelines whole once it has ranked its candidates (~35 ms cold at 1M
    chunks): the best hits' guidelines are started in the background meanwhile, and a document being read is
    waited for, not read twice. Only guidelines are read ahead."""
    from qa_bot.engine import answer
    from qa_bot.store import get_store, ingest

    s = server_settings(chroma, tmp_path, "unit_prefetch", server_cache=False)
    ingest(None, s)
    store = get_store(s)
    snap = store.current()
    asked: list[tuple[tuple[str, ...], bool]] = []
    real_docs = store.docs_chunks_and_vectors
    store.docs_chunks_and_vectors = lambda ids, _prefetch=False: asked.append((tuple(ids), _prefetch)) or \
        real_docs(ids, _prefetch=_prefetch)
    try:
        result = answer("Should adults with no symptoms be screened for high blood pressure in the office?", [], s)
    finally:
        del store.docs_chunks_and_vectors
    assert not result.abstained
    read_ahead = [d for ids, pre in asked if pre for d in ids]
    read_by_retrieval = [ids for ids, pre in asked if not pre][0]
    assert read_ahead and all(snap.doc_meta[d][1] == "guideline" for d in read_ahead)
    assert read_by_retrieval[0] in read_ahead  # the answer's lead guideline was being read before it was ranked

    # a document being read is waited for, not read twice; a hit's document that is no guideline is not read
    lex = snap.retriever
    guideline = "USPSTF_aspirin-to-prevent-cardiovascular-disease-preventive-medication"
    other = next(d for d, meta in snap.doc_meta.items() if meta[1] != "guideline")
    deadline = time.time() + 30
    while store._docs_reading and time.time() < deadline:  # the answer's guesses that it did not need
        time.sleep(0.05)
    store._docs_cache.clear()
    rounds: list[list[str]] = []
    real_fetch = store._get_by_ids
    store._get_by_ids = lambda groups: rounds.append([i for ids, _ in groups for i in ids]) or real_fetch(groups)
    try:
        store.prefetch_lead_documents(lex.rows_of([other]).tolist()[:3] + lex.rows_of([guideline]).tolist()[:3])
        by_doc, vectors = store.docs_chunks_and_vectors([guideline])
    finally:
        del store._get_by_ids
    assert len(rounds) == 1 and {c.chunk_id for c in by_doc[guideline]} == set(rounds[0]) == set(vectors)
    assert not store._docs_reading and all(d != other for _, d in store._docs_cache)


def test_the_hosts_text_cache_leaves_only_vectors_to_read_from_the_server(chroma, tmp_path):
    """A get of a question's ~150 candidates cost 25-90 ms at 1M chunks with their texts and metadata, ~20 ms for
    the vectors alone: a host keeps the chunk texts it read from the server (every full build, every update) and
    asks the server only for vectors. The answer is the one a process without the cache gives."""
    from qa_bot.engine import answer
    from qa_bot.store import get_store, ingest

    s = server_settings(chroma, tmp_path, "unit_texts")
    ingest(None, s)
    store = get_store(s)
    snap = store.current()  # a full build: every chunk's text into this host's cache
    cached = store._texts.get(snap.ids)
    assert store._texts.path.is_file() and set(cached) == set(snap.ids)
    assert all(cached[cid][0] == snap.hashes[cid] for cid in snap.ids)
    includes: list[list[str]] = []
    col = store.chunks_col
    real = col.get
    col.get = lambda *a, **kw: includes.append(kw.get("include")) or real(*a, **kw)
    try:
        got = answer(SEED_QUESTION, [], s)
    finally:
        del col.get
    assert not got.abstained and got.citations
    assert includes and all(inc == ["embeddings"] for inc in includes)  # no text or metadata read from the server
    plain = answer(SEED_QUESTION, [], s.model_copy(update={"data_dir": tmp_path / "other-host",
                                                           "server_text_cache": False}))
    assert [(x.group, x.display) for x in got.sentences] == [(x.group, x.display) for x in plain.sentences]
    assert [p.chunk for p in got.passages] == [p.chunk for p in plain.passages]


def test_the_text_cache_is_used_only_for_the_hash_the_version_holds_and_fills_from_updates(chroma, tmp_path):
    from qa_bot.store import ingest
    from qa_bot.store.server import ServerStore

    s = server_settings(chroma, tmp_path, "unit_texts_hash", server_cache=False)
    ingest(None, s)
    app = ServerStore(s)
    v1 = app.current()
    cid = v1.ids[0]
    text = app.get_chunks([cid])[cid].text
    body = app.chunks_col.get(ids=[cid], include=["metadatas"])["metadatas"][0]["chunk"]
    # a row of this chunk's hash is what the process reads (the proof that it reads the cache)...
    app._texts.put([(cid, v1.hashes[cid], "MARKED " + text, body)], v1.version)
    assert app.get_chunks([cid])[cid].text == "MARKED " + text
    # ...a row of another hash is not: the server is read, and its row written back
    app._texts.put([(cid, "another-hash", "STALE " + text, body)], v1.version)
    assert app.get_chunks([cid])[cid].text == text
    app._texts_pool.submit(lambda: None).result()  # (the write-back runs on its own thread)
    assert app._texts.get([cid])[cid][:2] == (v1.hashes[cid], text)
    # a new version: the changed document's chunks come in with the update, labelled with its version
    shutil.copy(ADDED, s.ingest.corpus[0] / "guidelines")
    ingest(None, s)
    assert app.refresh() and app.current().how == "update"
    new = [c for c in app.current().ids if c.startswith(ADDED_ID)]
    rows = app._texts.get(new)
    assert set(rows) == set(new) and all(rows[c][0] == app.current().hashes[c] for c in new)
    assert app._texts._db().execute("SELECT MIN(version) FROM chunks WHERE chunk_id LIKE ?",
                                    (ADDED_ID + "%",)).fetchone()[0] == app.current().version
    # a removed document's rows go with the version that removed it
    (s.ingest.corpus[0] / "guidelines" / ADDED.name).unlink()
    ingest(None, s)
    assert app.refresh() and app.current().how == "update" and app._texts.get(new) == {}
    shutil.copy(ADDED, s.ingest.corpus[0] / "guidelines")
    ingest(None, s)
    assert app.refresh() and set(app._texts.get(new)) == set(new)
    # a process that no longer finds the file answers from the server, as before
    for suffix in ("", "-wal", "-shm"):
        Path(f"{app._texts.path}{suffix}").unlink(missing_ok=True)
    fresh = ServerStore(s)
    fresh._snap = app.current()
    assert fresh.get_chunks(new) == app.get_chunks(new) and len(new) == len(fresh.get_chunks(new))


def test_text_cache_rows_of_an_older_version_never_replace_newer_ones_and_a_broken_file_is_made_again(tmp_path):
    from qa_bot.store.text_cache import TextCache

    cache = TextCache(tmp_path / "server-cache" / "col-texts.sqlite")
    cache.put([("a", "h2", "text of version 2", "{}"), ("b", "h1", "b", "{}")], 2)
    cache.put([("a", "h1", "text of version 1", "{}")], 1)  # a process still on version 1 read it before
    assert cache.get(["a", "b", "zz"]) == {"a": ("h2", "text of version 2", "{}"), "b": ("h1", "b", "{}")}
    cache.put([("a", "h3", "text of version 3", "{}")], 3)
    assert cache.get(["a"])["a"][1] == "text of version 3"
    cache.drop(["a"], 2)  # version 2 removed it, but version 3 wrote it again: it stays
    assert cache.get(["a"])["a"][1] == "text of version 3"
    cache.prune(3)  # after a full build of version 3: what it did not write is gone from the server
    assert cache.get(["a", "b"]) == {"a": ("h3", "text of version 3", "{}")}
    cache.drop(["a"], 4)
    assert cache.get(["a"]) == {}
    # a broken file is dropped and made again; a data dir that cannot hold it leaves the cache off
    broken = tmp_path / "server-cache" / "broken-texts.sqlite"
    broken.write_bytes(b"not a database at all" * 100)
    again = TextCache(broken)
    assert again.get(["a"]) == {}
    again.put([("a", "h", "t", "{}")], 1)
    assert again.get(["a"]) == {"a": ("h", "t", "{}")}
    (tmp_path / "file").write_text("")
    off = TextCache(tmp_path / "file" / "texts.sqlite")
    off.put([("a", "h", "t", "{}")], 1)
    assert off.get(["a"]) == {}


def test_a_loaded_version_is_out_of_the_collectors_way_and_freed_when_replaced(chroma, tmp_path):
    """Python's cyclic garbage collector walked the whole loaded index in its periodic full pass: ~450 ms at 1M
    chunks, inside 1 question of ~20 (it was the p95 of answer()). A loaded version is frozen out of its reach;
    the version it replaces is still freed (nothing of it leaks)."""
    import gc
    import weakref

    from qa_bot.store import ingest
    from qa_bot.store.server import ServerStore

    s = server_settings(chroma, tmp_path, "unit_heap")
    ingest(None, s)
    app = ServerStore(s)
    v1 = app.current()
    assert not any(o is v1.retriever for o in gc.get_objects())  # frozen: not in any generation the collector walks
    gone = weakref.ref(v1)
    del v1
    shutil.copy(ADDED, s.ingest.corpus[0] / "guidelines")
    ingest(None, s)
    assert app.refresh() is True
    assert gone() is None  # the replaced version was freed
    assert not any(o is app.current().retriever for o in gc.get_objects())


def test_large_indexes_carry_the_side_tables_over_until_enough_documents_changed(chroma, tmp_path, monkeypatch):
    """Recomputing the acronym and boilerplate tables reads every chunk (minutes at 1M): above a size, a version
    carries the previous tables over until the documents changed since they were computed reach a share."""
    import qa_bot.store.server as ss
    import qa_bot.store.tables as tables
    from qa_bot.store import ingest

    monkeypatch.setattr(ss, "TABLES_ALWAYS_BELOW", 0)
    monkeypatch.setattr(ss, "TABLES_STALE_SHARE", 0.3)  # of 5 documents: a second changed document recomputes
    computed: list[int] = []
    real = tables.boilerplate_templates
    monkeypatch.setattr(tables, "boilerplate_templates", lambda chunks: computed.append(1) or real(chunks))
    s = server_settings(chroma, tmp_path, "unit_tables", server_cache=False)
    ingest(None, s)
    store = ss.ServerStore(s)
    assert computed == [1] and store.version_record()["tables_from"] == 1
    shutil.copy(ADDED, s.ingest.corpus[0] / "guidelines")
    ingest(None, s)
    rec = store.version_record()
    assert computed == [1] and rec["version"] == 2 and rec["tables_from"] == 1 and rec["tables_stale"] == 1
    assert store.meta_get("acronyms:2") == store.meta_get("acronyms:1") and store.meta_get("boilerplate:2")
    assert rec["chunks"] == store.count_chunks()
    path = s.ingest.corpus[0] / "guidelines" / ADDED.name
    path.write_text(path.read_text() + "\n\nA sentence added.\n")
    ingest(None, s)
    rec = store.version_record()
    assert computed == [1, 1] and rec["tables_from"] == 3 and rec["tables_stale"] == 0
    store.rebuild_lexical()  # an explicit rebuild recomputes them whatever changed
    assert computed == [1, 1, 1]


def test_a_killed_ingest_leaves_its_documents_listed_for_the_next_version(chroma, tmp_path):
    """Documents are noted in the server before their chunks change: an ingest killed before it published leaves
    the notes, and the next ingest's version lists those documents too (no process keeps their old rows)."""
    from qa_bot.store import ingest
    from qa_bot.store.server import ServerStore

    s = server_settings(chroma, tmp_path, "unit_killed_list", server_cache=False)
    ingest(None, s)
    app = ServerStore(s)
    app.current()
    writer = ServerStore(s)  # an ingest that wrote a document and died before publishing
    record = writer.docs_col.get(ids=[SEED_GUIDELINE], include=["metadatas"])["metadatas"][0]
    doc = SourceDocument(doc_id=SEED_GUIDELINE, text="", content_hash=record["content_hash"],
                         collection=record["collection"], doc_type=record["doc_type"], path=record["path"])
    writer.replace_document(doc, [c.model_copy(update={"text": c.text + " Killed."})
                                  for c in writer.doc_chunks(SEED_GUIDELINE)])
    writer.flush()
    assert writer.meta_col.get(ids=[f"touched:{SEED_GUIDELINE}"])["ids"]
    report = ingest(None, s)  # the next ingest: the guideline's file did not change, but its chunks did
    change = json.loads(app.meta_get(f"changes:{app.version_record()['version']}"))
    assert SEED_GUIDELINE in change["docs"] and not app.meta_col.get(where={"kind": "touched"})["ids"]
    assert report.documents == 4
    assert app.refresh() and app.current().how == "update"
    assert app.current().hashes == ServerStore(s).current().hashes


def test_ingest_lock_refuses_a_second_writer_and_waits_with_wait(chroma, tmp_path):
    from qa_bot.store import ingest, writer_lock

    s = server_settings(chroma, tmp_path, "unit_lock")
    with writer_lock(s, "test") as killed:
        assert killed is False
        with pytest.raises(IndexBusyError, match=r"another writer \(PID \d+ on .* \(qa-bot test\)\) is updating the "
                                                 r"index on the Chroma server"):
            ingest(None, s)
        got: list = []
        waiter = threading.Thread(target=lambda: got.append(ingest(None, s, wait=True)))
        waiter.start()
        time.sleep(1.0)
        assert waiter.is_alive() and not got  # waits for the holder
    waiter.join(120)
    assert got and got[0].documents == 4 and not got[0].failed


def test_an_expired_lock_of_a_killed_writer_is_taken_over(chroma, tmp_path):
    from qa_bot.store import writer_lock
    from qa_bot.store.server import ServerStore

    s = server_settings(chroma, tmp_path, "unit_expired", lock_ttl=2)
    meta = ServerStore(s).meta_col
    meta.add(ids=["lock"], embeddings=[[1.0]], documents=["dead"],
             metadatas=[{"kind": "lock", "token": "dead", "holder": "PID 1 on nowhere (qa-bot ingest)",
                         "expires": time.time() - 1, "since": time.time() - 10}])
    with writer_lock(s, "test") as killed:
        assert killed is True
        held = meta.get(ids=["lock"], include=["metadatas"])["metadatas"][0]
        assert held["token"] != "dead" and "qa-bot test" in held["holder"]
        time.sleep(1.5)  # renewed by the holder meanwhile: not expired, so still refused
        with pytest.raises(IndexBusyError):
            with writer_lock(s, "second"):
                pass
    assert meta.get(ids=["lock"])["ids"] == []  # released


def test_a_writer_whose_lock_was_taken_over_stops_before_writing_more(chroma, tmp_path):
    """A writer that stalled past its lock's expiry (its lock taken over by another ingest) stops at its next
    write with a clear error instead of writing beside the new holder."""
    from qa_bot.store import get_store, ingest, writer_lock

    s = server_settings(chroma, tmp_path, "unit_lost", lock_ttl=2)
    ingest(None, s)
    store = get_store(s)
    before = store.count_chunks()
    doc_chunks = store.doc_chunks(SEED_GUIDELINE)
    record = store.docs_col.get(ids=[SEED_GUIDELINE], include=["metadatas"])["metadatas"][0]
    doc = SourceDocument(doc_id=SEED_GUIDELINE, text="", content_hash="changed", collection=record["collection"],
                         doc_type=record["doc_type"])
    with writer_lock(s, "stalled"):
        meta = store.meta_col
        meta.delete(ids=["lock"])  # what a second ingest does with an expired lock ...
        meta.add(ids=["lock"], embeddings=[[1.0]], documents=["other"],
                 metadatas=[{"kind": "lock", "token": "other", "holder": "PID 2 on elsewhere (qa-bot ingest)",
                             "expires": time.time() + 60, "since": time.time()}])  # ... before taking it
        time.sleep(1.5)  # the holder's renewal notices
        store.replace_document(doc, doc_chunks[:1])
        with pytest.raises(IndexBusyError, match="taken over by another writer"):
            store.flush()
    assert store.count_chunks() == before and store.doc_chunks(SEED_GUIDELINE) == doc_chunks
    assert meta.get(ids=["lock"], include=["metadatas"])["metadatas"][0]["token"] == "other"  # not released
    meta.delete(ids=["lock"])


def test_a_vector_deleted_a_moment_before_its_record_is_asked_again():
    """Chroma answers "Error finding id" when an ingest deletes chunks during a search (reproduced: ~4 % of the
    searches and fetches of 3 readers during a mass delete, the 5 errors of a load run): asked again, it passes;
    any other error, or one that persists, is raised."""
    from chromadb.errors import InternalError

    from qa_bot.store import ingest, server as server_store

    calls = []

    def flaky(fails: int, message: str = "Error executing plan: Internal error: Error finding id"):
        def call():
            calls.append(1)
            if len(calls) <= fails:
                raise InternalError(message)
            return "ok"
        return call

    assert server_store._again_if_deleting(flaky(2)) == "ok" and len(calls) == 3
    calls.clear()
    with pytest.raises(InternalError, match="finding id"):
        server_store._again_if_deleting(flaky(10))
    assert len(calls) == server_store.QUERY_TRIES
    calls.clear()
    with pytest.raises(InternalError, match="something else"):
        server_store._again_if_deleting(flaky(1, "something else"))
    assert len(calls) == 1


def test_a_down_server_is_a_clear_error(tmp_path):
    from qa_bot.store import require_index

    s = Settings(data_dir=tmp_path / "d", chroma_url=f"http://127.0.0.1:{free_port()}", collection_name="down")
    with pytest.raises(StoreUnavailableError, match="cannot reach the Chroma server"):
        require_index(s)


# --- end to end: chroma run + two `qa-bot serve` + ingests as separate processes --------------------------
class Serve:
    def __init__(self, env: dict, tmp: Path, name: str):
        self.port = free_port()
        # each process its own string hashing (a set's order), fixed so that a difference shows every run: 0 and 1
        # swapped two equally good sentences of the seed answer before the composer's sums were made exact
        self.env = {**env, "QA_BOT_DATA_DIR": str(tmp / f"data-{name}"),
                    "PYTHONHASHSEED": {"a": "0", "b": "1", "c": "2"}.get(name, "3")}
        self.log = open(tmp / f"serve-{name}.log", "w+")
        self.proc = subprocess.Popen([sys.executable, "-m", "qa_bot.cli", "serve", "--host", "127.0.0.1", "--port",
                                      str(self.port)], env=self.env, stdout=self.log, stderr=subprocess.STDOUT,
                                     cwd=ROOT, start_new_session=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def wait_ready(self, timeout: float = 300) -> None:
        import httpx

        deadline = time.time() + timeout
        while time.time() < deadline:
            assert self.proc.poll() is None, self.output()
            try:
                if httpx.get(self.url("/readyz"), timeout=5).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.3)
        raise AssertionError(f"not ready in {timeout}s: {self.output()[-2000:]}")

    def ask(self, question: str, timeout: float = 120):
        import httpx

        return httpx.post(self.url("/v1/answer"), json={"question": question}, timeout=timeout,
                          headers={"Authorization": "Bearer e2e-key-0123456789abcdef"})

    def output(self) -> str:
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def kill(self, sig=signal.SIGKILL) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
            self.proc.wait(30)


def cited(resp) -> set[str]:
    assert resp.status_code == 200, resp.text
    return {c["doc_id"] for c in resp.json()["citations"]}


def comparable(resp) -> dict:
    """The answer without its timings: sentences, citations, passages (ids and scores), abstention."""
    assert resp.status_code == 200, resp.text
    body = resp.json()
    out = {k: body[k] for k in ("sentences", "citations", "related", "abstained", "abstain_reason", "expansions")}
    out["passages"] = [(p["chunk"]["chunk_id"], round(p["score"], 6)) for p in body.get("passages", [])]
    assert out["sentences"] or out["abstained"]
    return out


def wait_until(check, timeout: float, what: str):
    """Poll ``check`` until it returns a true value; returns (value, seconds waited)."""
    t0 = time.time()
    last = None
    while time.time() - t0 < timeout:
        last = check()
        if last:
            return last, time.time() - t0
        time.sleep(0.5)
    raise AssertionError(f"{what}: not within {timeout}s (last: {last!r})")


@pytest.mark.slow
def test_two_serve_processes_over_one_chroma_server(tmp_path):
    chroma = ChromaServer(tmp_path / "chroma").start()
    corpus = small_corpus(tmp_path / "corpus")
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_BOT_")}
    env.update({"PYTHONPATH": str(ROOT), "QA_BOT_CHROMA_URL": chroma.url, "QA_BOT_COLLECTION_NAME": "e2e",
                "QA_BOT_CORPUS": str(corpus), "QA_BOT_POLL_INTERVAL": "1",
                "QA_BOT_API_KEYS": "e2e-key-0123456789abcdef"})

    writer = Settings(data_dir=tmp_path / "data-ingest", chroma_url=chroma.url, collection_name="e2e", corpus=[corpus])

    def run_ingest() -> None:  # this (test) process is the third one: it writes, the two serving processes read
        report = ingest(None, writer)
        assert not report.failed, report.failed

    serves: list[Serve] = []
    try:
        run_ingest()
        serves = [Serve(env, tmp_path, "a"), Serve(env, tmp_path, "b")]
        for s in serves:
            s.wait_ready()
        a, b = serves
        assert SEED_GUIDELINE in cited(a.ask(SEED_QUESTION)) and SEED_GUIDELINE in cited(b.ask(SEED_QUESTION))
        assert ADDED_ID not in cited(a.ask(ADDED_QUESTION)) | cited(b.ask(ADDED_QUESTION))

        # a new document, ingested by a third process: both serving processes answer with it, no restart
        shutil.copy(ADDED, corpus / "guidelines")
        run_ingest()
        _, delay_a = wait_until(lambda: ADDED_ID in cited(a.ask(ADDED_QUESTION)), 60, "process a sees the new doc")
        _, delay_b = wait_until(lambda: ADDED_ID in cited(b.ask(ADDED_QUESTION)), 60, "process b sees the new doc")
        print(f"\nnew document answered by both processes {max(delay_a, delay_b):.1f}s after the ingest finished")
        assert comparable(a.ask(ADDED_QUESTION)) == comparable(b.ask(ADDED_QUESTION))

        # a process started from nothing (empty data dir, only its settings) answers identically
        c = Serve(env, tmp_path, "c")
        serves.append(c)
        c.wait_ready()
        for q in (ADDED_QUESTION, SEED_QUESTION):
            assert comparable(c.ask(q)) == comparable(a.ask(q))

        # the document removed: gone from both
        (corpus / "guidelines" / ADDED.name).unlink()
        run_ingest()
        wait_until(lambda: ADDED_ID not in cited(a.ask(ADDED_QUESTION)), 60, "process a forgets the removed doc")
        wait_until(lambda: ADDED_ID not in cited(b.ask(ADDED_QUESTION)), 60, "process b forgets the removed doc")
        c.kill(signal.SIGTERM)

        # one process killed in the middle of a request: the other keeps answering
        results: list = []

        def doomed() -> None:
            try:
                results.append(a.ask(SEED_QUESTION))
            except Exception as e:  # noqa: BLE001 - the connection is cut: expected
                results.append(e)

        t = threading.Thread(target=doomed)
        t.start()
        time.sleep(0.05)
        a.kill()
        t.join(60)
        assert results
        assert SEED_GUIDELINE in cited(b.ask(SEED_QUESTION))

        # Chroma restarted: clear 503s while it is down, then answers again without restarting the app
        chroma.stop()
        down = b.ask(SEED_QUESTION)
        assert down.status_code == 503, down.text
        assert down.json()["error"]["message"] and "Traceback" not in down.text
        import httpx

        assert httpx.get(b.url("/readyz"), timeout=30).status_code == 503
        chroma.proc = subprocess.Popen([str(CHROMA), "run", "--path", str(chroma.path), "--host", "127.0.0.1",
                                        "--port", str(chroma.port)], stdout=subprocess.DEVNULL,
                                       stderr=subprocess.DEVNULL, start_new_session=True)
        wait_port(chroma.port)
        wait_until(lambda: b.ask(SEED_QUESTION).status_code == 200, 60, "answers after the Chroma restart")
        assert SEED_GUIDELINE in cited(b.ask(SEED_QUESTION))
        assert httpx.get(b.url("/readyz"), timeout=30).status_code == 200
        for s in serves:
            log = s.output()
            assert "Traceback" not in log, log[-3000:]
    finally:
        for s in serves:
            s.kill()
        chroma.stop()


def test_feedback_is_shared_by_all_processes_with_retention_and_purge(chroma, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from qa_bot.feedback import FeedbackStore, ServerFeedbackStore, export_eval_rows, feedback_app
    from test_feedback import _answer

    s = Settings(data_dir=tmp_path / "d1", chroma_url=chroma.url, collection_name="unit_feedback")
    other = s.model_copy(update={"data_dir": tmp_path / "d2"})  # another process, another data dir
    one, two = FeedbackStore.for_settings(s), FeedbackStore.for_settings(other)
    assert isinstance(one, ServerFeedbackStore) and isinstance(two, ServerFeedbackStore)
    one.record("a1", _answer(), "not_helpful", "too short", settings=s)
    two.record("a1", _answer(), "helpful", settings=s)  # the same answer rated again from the other process
    two.record("a2", _answer(abstained=True), "helpful", settings=s)
    recs = one.records()
    assert [r.id for r in recs] == ["a1", "a2"] and recs[0].rating == "helpful" and recs[0].comment == "too short"
    assert [r.id for r in two.records("helpful")] == ["a1", "a2"]
    assert not (tmp_path / "d1" / "feedback.sqlite").exists() and not (tmp_path / "d2").exists()
    out = tmp_path / "rows.jsonl"
    assert export_eval_rows(one, out) == 2
    # retention: records older than the retention are deleted by any process
    col = one.col()
    col.update(ids=["a2"], metadatas=[{"updated": time.time() - 40 * 86400}])
    assert ServerFeedbackStore(other, retention_days=30).expire() == 1
    assert [r.id for r in one.records()] == ["a1"]
    # the CLI purges the shared store when QA_BOT_CHROMA_URL is set
    monkeypatch.setenv("QA_BOT_CHROMA_URL", chroma.url)
    monkeypatch.setenv("QA_BOT_COLLECTION_NAME", "unit_feedback")
    monkeypatch.setenv("QA_BOT_DATA_DIR", str(tmp_path / "d3"))
    res = CliRunner().invoke(feedback_app, ["purge", "--all"])
    assert res.exit_code == 0 and "1 feedback row(s) deleted from the collection unit_feedback__feedback" in res.output
    assert one.records() == []
    # a file named explicitly (QA_BOT_FEEDBACK_DB) is used as before
    local = FeedbackStore.for_settings(s.model_copy(update={"feedback_db": tmp_path / "fb.sqlite"}))
    assert type(local) is FeedbackStore


def test_a_restart_loads_its_disk_cache_of_the_version_and_a_new_version_replaces_it(chroma, tmp_path):
    from qa_bot.store import ingest
    from qa_bot.store.server import ServerStore

    s = server_settings(chroma, tmp_path, "unit_cache")
    ingest(None, s)
    first = ServerStore(s).current()
    assert not first.from_cache
    cache = s.data_dir / "server-cache"
    assert [p.name.rsplit("-v", 1)[1] for p in cache.iterdir()] == ["1"]
    again = ServerStore(s).current()  # a restarted process with the same data dir
    assert again.from_cache and again.ids == first.ids and again.hashes == first.hashes
    assert again.acronyms == first.acronyms and again.boilerplate == first.boilerplate
    q = "blood pressure screening in adults"
    assert ServerStore(s).lexical_search(q, 5) == first_search(first, q) != []
    # another data dir (another machine): built from the server, the same
    other = ServerStore(s.model_copy(update={"data_dir": tmp_path / "other"})).current()
    assert not other.from_cache and other.ids == first.ids
    # a corrupt cache is rebuilt from the server, never trusted
    (next(cache.iterdir()) / "snapshot.json").write_text("{")
    assert not ServerStore(s).current().from_cache
    assert ServerStore(s).current().from_cache  # and cached again
    # new versions: a restarted process loads the newest cached version and reads only what changed since
    for _ in range(2):
        shutil.copy(ADDED, s.ingest.corpus[0] / "guidelines")
        ingest(None, s)
        (s.ingest.corpus[0] / "guidelines" / ADDED.name).unlink()
        ingest(None, s)
    v = ServerStore(s).current()
    assert v.version == 5 and v.how == "update" and not v.from_cache
    assert sorted(v.ids) == sorted(ServerStore(s.model_copy(update={"data_dir": tmp_path / "other2"})).current().ids)
    assert sorted(int(p.name.rsplit("-v", 1)[1]) for p in cache.iterdir()) == [1]  # only full builds are cached
    # a base the server no longer lists the changes since: a full build, cached; older versions dropped
    ServerStore(s).meta_col.delete(ids=["changes:3"])
    v = ServerStore(s).current()
    assert v.version == 5 and v.how == "full"
    assert sorted(int(p.name.rsplit("-v", 1)[1]) for p in cache.iterdir()) == [5]
    assert ServerStore(s).current().how == "cache"
    # off: nothing written
    off = s.model_copy(update={"data_dir": tmp_path / "nocache", "server_cache": False})
    assert not ServerStore(off).current().from_cache and not (tmp_path / "nocache" / "server-cache").exists()


def first_search(snap, query: str):
    import Stemmer

    from qa_bot.lexical import tokenize, top_rows

    scores = snap.retriever.get_scores(tokenize([query], Stemmer.Stemmer("english"))[0])
    return [(snap.ids[i], float(scores[i])) for i in top_rows(scores, snap.ids, 5)]


def test_workers_of_one_host_build_a_version_once(chroma, tmp_path):
    """Two workers starting together: one builds the lexical index from the server, the other waits for its build
    lock and loads the cache it wrote (on 2 cores two builds at once took 3x as long as one)."""
    import threading

    from qa_bot.store import ingest
    from qa_bot.store.server import ServerStore

    s = server_settings(chroma, tmp_path, "unit_build_once")
    ingest(None, s)
    shutil.rmtree(s.data_dir / "server-cache", ignore_errors=True)  # as on a host where no worker ran yet
    got: list = []
    threads = [threading.Thread(target=lambda: got.append(ServerStore(s).current())) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert len(got) == 2 and got[0].ids == got[1].ids
    assert sorted(g.from_cache for g in got) == [False, True]
