"""Server mode (``QA_BOT_CHROMA_URL``): the Chroma server is the one source of truth; app processes hold a cache.

Everything an app process needs to answer lives in the server, in three collections:

* ``<collection_name>``: one record per chunk: its vector, its text (``documents``), the filterable metadata of the
  embedded mode and the rest of the chunk as JSON (metadata ``chunk``), so a chunk is read back whole from Chroma.
* ``<collection_name>__docs``: one record per document: content hash, path, collection, type, title, number of
  chunks: the incremental-ingest state (what `qa-bot ingest` compares to decide what changed).
* ``<collection_name>__meta``: small records: ``version`` (the published version of the index: a number bumped by
  each ingest that changed something, with its chunk count), the side tables of that version (``acronyms:N`` and
  ``boilerplate:N``, computed once by the ingest job), ``changes:N`` (the documents version N changed: new, rewritten
  or removed; the last 50 versions), ``touched:<doc>`` (a document an unfinished ingest is changing), ``lock`` (the
  single-writer lock: holder, expiry) and ``last_ingest``.

An app process keeps only what it derives from the server: the lexical index (``qa_bot.lexical``, built from the
chunk texts in Chroma) and the side tables, held in one immutable ``Snapshot`` per version (``qa_bot.store.snapshot``); on disk, caches that
any process may delete: the lexical index of each fully built version (``data_dir/server-cache``) and the chunk
texts the host has read (``TextCache``, ``qa_bot.store.text_cache``, ``data_dir/server-texts``: a question then asks the server for vectors
only; a row is used only for the content hash the version in use holds). A poller thread reads the
``version`` record every ``QA_BOT_POLL_INTERVAL`` seconds; when it changed, the new snapshot is made — the one in use
updated with the chunks of the documents the versions since list as changed (a few thousand rows read, whatever the
size of the index), or, when the server no longer lists them, built from every chunk — and then swapped in by one
reference assignment, so no answer ever reads a half-built index; an answer in flight keeps the snapshot it started
with (``pinned``). Between versions (an ingest is writing) chunks that the snapshot does not know (new, or rewritten
in place) are not shown and removed chunks drop out, so every process answers from the published version.

The ingest job (``qa-bot ingest`` with the same settings) notes each document (``touched``) before it writes its
chunks with their vectors, the document record last (a killed ingest redoes that document), then builds the side
tables from the chunks now in the server and publishes version N+1 with the list of the documents noted since the
last version (those of a killed ingest included). Two ingests never write at once: ``server_writer_lock`` (a
``lock`` record: Chroma's ``add`` is insert-if-absent, so the first writer wins; an expired lock of a killed writer
is removed with a conditional delete on its token; ``qa_bot.store.locks``).
"""

from __future__ import annotations

import functools
import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from ..embed import EmbeddingCache, get_embedder
from ..errors import IndexBusyError, StoreUnavailableError
from ..heap import settle_heap
from ..lexical import UpdatableBM25, tokenize
from ..settings import Settings
from ..types import Chunk, IndexStats, SourceDocument
from .base import BaseStore
from .chroma import is_connection_error
from .protocol import ProgressFn
from .snapshot import Snapshot, build_lock, load_cached, newest_cached, save_cached
from .tables import chunk_metadata, side_tables
from .text_cache import TextCache

log = logging.getLogger(__name__)

PAGE = 2000  # ids per `get` by id
# A get by id of the ~150 candidates of a question cost ~88 ms at 1M chunks in one request and ~40 ms as three
# concurrent ones (the server reads records on several threads): gets of more than FETCH_PART ids are split into
# up to FETCH_THREADS concurrent requests.
FETCH_PART = 50
FETCH_THREADS = 3
SCAN_PAGE = 20000  # records per `get` page when reading a whole collection (Chroma pages by offset: at 1M chunks
# a page cost ~1 s of offset scan whatever its size, so 2,000-record pages read at 820 µs a chunk, 20,000 at 220)
DOCS_CACHED = 64  # whole documents (chunks + vectors) kept per process, per version (docs_chunks_and_vectors)
CHANGES_KEPT = 50  # versions whose list of changed documents stays in the server (a process further behind rebuilds)
CHANGES_LISTED = 20000  # an ingest that touched more documents publishes "rebuild" instead of the list
# The side tables (acronyms, boilerplate) are computed from every chunk: ~0.4 ms a chunk (7 minutes at 1M). Below
# TABLES_ALWAYS_BELOW chunks every publish recomputes them; above, a version carries the previous tables over until
# the documents changed since they were computed reach TABLES_STALE_SHARE of all documents (or `full_tables`).
TABLES_ALWAYS_BELOW = 100_000
TABLES_STALE_SHARE = 0.05
WRITE_BATCH = 500
QUERY_TRIES = 4  # a dense search that meets the transient "Error finding id" of a concurrent delete is asked again
_ONE = [1.0]  # records of the docs and meta collections carry a 1-d placeholder vector (Chroma requires one)


def _store_errors(fn: Callable) -> Callable:
    """Connection failures to the server become a StoreUnavailableError (a clear 503 in the API)."""
    @functools.wraps(fn)
    def wrapper(self, *a, **kw):
        try:
            return fn(self, *a, **kw)
        except StoreUnavailableError:
            raise
        except Exception as e:
            if is_connection_error(e):
                raise StoreUnavailableError(f"cannot reach the Chroma server at {self.settings.chroma_url} "
                                            f"({type(e).__name__}); is `chroma run` up?") from None
            raise
    return wrapper


def _again_if_deleting(call: Callable[[], Any]) -> Any:
    """``call()``, asked again (up to QUERY_TRIES times, 50-150 ms apart) when the Chroma server answers "Error
    finding id": while an ingest deletes chunks, a vector can be gone a moment before its record (reproduced: ~4 %
    of searches and fetches during a mass delete); the next ask finds both gone or both there."""
    for attempt in range(QUERY_TRIES):
        try:
            return call()
        except Exception as e:  # noqa: BLE001 - only that transient error is retried
            if "finding id" not in str(e) or attempt == QUERY_TRIES - 1:
                raise
            time.sleep(0.05 * (attempt + 1))


class ServerStore(BaseStore):
    """The store interface (``StoreWriter``) over a Chroma server: no local state but a cache (the current
    ``Snapshot``)."""

    def __init__(self, settings: Settings):
        super().__init__(settings)
        self._cols: dict[str, Any] = {}
        self._snap: Snapshot | None = None
        self._pin = threading.local()
        self._poller: threading.Thread | None = None
        self._stop = threading.Event()
        self._dirty = False  # this process changed chunks or documents since the last publish
        self._counts = [0, 0]  # vectors from the cache, encoded (since the last fill_vectors call)
        self._cache = None
        self._pending: list[tuple[SourceDocument, list[Chunk]]] = []
        self._removals: list[str] = []  # documents buffered for one batched write
        self._known: set[str] | None = None  # documents with a record (from known_documents)
        self._failed: list[tuple[str, BaseException]] = []  # documents whose write failed (reported by fill_vectors)
        self._lock_lost: threading.Event | None = None  # set by server_writer_lock when another writer took it
        self.last_switch: dict[str, Any] = {}
        self._docs_cache: OrderedDict[tuple[int | None, str], tuple[list[Chunk], dict[str, np.ndarray]]] = \
            OrderedDict()
        self._docs_reading: dict[tuple[int, str], threading.Event] = {}  # documents a prefetch is reading

    # --- connections ----------------------------------------------------------------------------
    def _col(self, suffix: str):
        col = self._cols.get(suffix)
        if col is None:
            with self._lock:
                col = self._cols.get(suffix)
                if col is None:
                    col = self._cols[suffix] = self._chroma().get_or_create_collection(
                        f"{self.settings.collection_name}__{suffix}", embedding_function=None,
                        metadata={"qa_bot": suffix})
        return col

    @property
    def chunks_col(self):
        return self.collection

    @property
    def docs_col(self):
        return self._col("docs")

    @property
    def meta_col(self):
        return self._col("meta")

    # --- meta records -------------------------------------------------------------------------------
    @_store_errors
    def meta_get(self, key: str) -> str | None:
        got = self.meta_col.get(ids=[key], include=["documents"])
        return got["documents"][0] if got["ids"] else None

    @_store_errors
    def meta_set(self, key: str, value: str, metadata: dict | None = None) -> None:
        self.meta_col.upsert(ids=[key], embeddings=[_ONE], documents=[value],
                             metadatas=[metadata or {"kind": key.split(":", 1)[0]}])

    def version_record(self) -> dict | None:
        raw = self.meta_get("version")
        return json.loads(raw) if raw else None

    def state_generation(self) -> str:
        rec = self.version_record()
        return str(rec["version"]) if rec else "0"

    def exists(self) -> bool:
        return self.version_record() is not None

    # --- counts and reads ------------------------------------------------------------------------------
    @_store_errors
    def count_chunks(self, with_vector: bool | None = None) -> int:
        if with_vector is False:  # a chunk is written with its vector: none is ever pending
            return 0
        return self.chunks_col.count()

    @_store_errors
    def count_docs(self) -> int:
        return self.docs_col.count()

    def vector_count(self) -> int:
        """Chunks with a vector (all of them: a chunk is written with its vector) in the version in use; asked
        before every question, so answered from the snapshot (Chroma's count took 110 ms at 1M chunks)."""
        snap = self.snapshot()
        return len(snap.ids) if snap is not None else self.count_chunks()

    def _visible(self, chunk_id: str, content_hash: str | None) -> bool:
        snap = self.snapshot()
        return snap is None or snap.hashes.get(chunk_id) == content_hash

    @staticmethod
    def _to_chunk(text: str, meta: dict) -> Chunk:
        return Chunk.model_validate({**json.loads(meta["chunk"]), "text": text})

    def get_chunks(self, ids: Sequence[str]) -> dict[str, Chunk]:
        return self.chunks_and_vectors(ids, [])[0]

    @_store_errors
    def chunks_and_vectors(self, ids: Sequence[str],
                           vectors_of: Sequence[str]) -> tuple[dict[str, Chunk], dict[str, np.ndarray]]:
        """The visible chunks of ``ids`` and the vectors of ``vectors_of``: the chunks this host's text cache holds
        for the version in use are read there, so the server is asked only for their vectors (150 candidates at
        1M chunks: ~20 ms for the vectors alone, 25-90 ms with texts and metadata); the others are read whole, with
        their vectors, in the same round of concurrent requests (a second request for the vectors cost more than
        their share of one)."""
        ids = list(dict.fromkeys(ids))
        snap = self.snapshot()
        cached = self._cached_chunks(ids, snap)
        rest = [cid for cid in ids if cid not in cached]
        with_vec = set(vectors_of)
        vec_only = [cid for cid in dict.fromkeys(vectors_of) if cid in cached or cid not in rest]
        include = ["documents", "metadatas", "embeddings"] if with_vec & set(rest) else ["documents", "metadatas"]
        got_rest, got_vecs = self._get_by_ids([(rest, include), (vec_only, ["embeddings"])])
        chunks: dict[str, Chunk] = {}
        vecs: dict[str, np.ndarray] = {}
        for got in got_vecs:
            for cid, v in zip(got["ids"], got["embeddings"]):
                vecs[cid] = np.asarray(v, dtype=np.float32)
        fill: list[tuple[str, str, str, str]] = []
        for got in got_rest:
            self._collect(got, chunks, vecs, fill if snap is not None else None)
        for cid, c in cached.items():
            if cid in vecs or cid not in with_vec:  # (a vector asked for and not found: gone from the server)
                chunks[cid] = c
        if fill and self._texts is not None:
            self._texts_pool.submit(self._texts.put, fill, snap.version)
        return {cid: chunks[cid] for cid in ids if cid in chunks}, vecs  # (the chunks in the order asked)

    def _cached_chunks(self, ids: list[str], snap: Snapshot | None) -> dict[str, Chunk]:
        """The chunks of ``ids`` in this host's text cache with the content hash ``snap`` holds for them."""
        if snap is None or not ids or self._texts is None:
            return {}
        hashes = snap.hashes
        return {cid: self._to_chunk(text, {"chunk": body}) for cid, (h, text, body) in self._texts.get(ids).items()
                if h is not None and hashes.get(cid) == h}

    @cached_property
    def _texts(self) -> TextCache | None:
        if not self.settings.server.server_text_cache:
            return None
        return TextCache(self.settings.data_dir / "server-texts" / f"{self.chunks_col.id}.sqlite")

    @cached_property
    def _texts_pool(self):
        from concurrent.futures import ThreadPoolExecutor

        return ThreadPoolExecutor(1, thread_name_prefix="qa-bot-texts")

    def _collect(self, got: dict, chunks: dict[str, Chunk], vecs: dict[str, np.ndarray],
                 rows: list[tuple[str, str, str, str]] | None = None) -> None:
        """The visible chunks of a Chroma ``get`` result into ``chunks`` (their vectors into ``vecs`` when the get
        included them; their rows for the text cache into ``rows``)."""
        embs = got.get("embeddings")
        for j, (cid, text, meta) in enumerate(zip(got["ids"], got["documents"], got["metadatas"])):
            if self._visible(cid, meta.get("content_hash")):
                chunks[cid] = self._to_chunk(text, meta)
                if embs is not None:
                    vecs[cid] = np.asarray(embs[j], dtype=np.float32)
                if rows is not None and meta.get("content_hash"):
                    rows.append((cid, meta["content_hash"], text, meta["chunk"]))

    def _get_by_ids(self, groups: list[tuple[list[str], list[str]]]) -> list[list[dict]]:
        """For each (ids, include) of ``groups``, the records of its ids (Chroma ``get`` results, in order): all
        fetched in one round of up to FETCH_THREADS concurrent requests of at most PAGE ids each (a group of more
        than FETCH_PART ids is split)."""
        jobs: list[tuple[int, list[str], list[str]]] = []
        for g, (ids, include) in enumerate(groups):
            if not ids:
                continue
            parts = max(1, min(FETCH_THREADS, -(-len(ids) // FETCH_PART)), -(-len(ids) // PAGE))
            size = -(-len(ids) // parts)
            jobs += [(g, ids[i:i + size], include) for i in range(0, len(ids), size)]

        def one(job: tuple[int, list[str], list[str]]) -> dict:
            _, part, include = job
            return _again_if_deleting(lambda: self.chunks_col.get(ids=part, include=include))
        out: list[list[dict]] = [[] for _ in groups]
        if not jobs:
            return out
        done = [one(jobs[0])] if len(jobs) == 1 else list(self._fetch_pool.map(one, jobs))
        for (g, _, _), got in zip(jobs, done):
            out[g].append(got)
        return out

    @cached_property
    def _fetch_pool(self):
        from concurrent.futures import ThreadPoolExecutor

        return ThreadPoolExecutor(FETCH_THREADS, thread_name_prefix="qa-bot-fetch")

    def doc_chunks(self, doc_id: str) -> list[Chunk]:
        return self.docs_chunks_and_vectors([doc_id])[0][doc_id]

    def prefetch_lead_documents(self, rows: Sequence[int], limit: int = 2) -> None:
        """Starts reading (in the background, on this answer's version) the first ``limit`` guidelines among the
        documents of ``rows`` that are not cached: retrieval reads the answer's lead guidelines whole once it
        has ranked its candidates, and the best hits' guidelines are usually those. Reading them while the
        candidates are fetched takes their ~35 ms (cold, 1M chunks) off the answer; a wrong guess costs the
        server one read and leaves a document in the cache."""
        snap = self.snapshot()
        if snap is None or snap.retriever is None:
            return
        lex = snap.retriever
        docs: list[str] = []
        for r in rows:
            if 0 <= r < len(lex.row_doc):
                d = lex.doc_names[int(lex.row_doc[r])]
                if d not in docs and snap.doc_meta.get(d, ("", ""))[1] == "guideline":
                    docs.append(d)
                    if len(docs) == limit:
                        break
        with self._lock:
            want = [d for d in docs if (snap.version, d) not in self._docs_cache
                    and (snap.version, d) not in self._docs_reading]
            if not want:
                return
            done = threading.Event()
            for d in want:
                self._docs_reading[(snap.version, d)] = done

        def read() -> None:
            try:
                with self.pinned(snap):
                    self.docs_chunks_and_vectors(want, _prefetch=True)
            except Exception as e:  # noqa: BLE001 - a hint: the answer reads them itself
                log.debug("prefetch of %s failed: %s", want, type(e).__name__)
            finally:
                with self._lock:
                    for d in want:
                        self._docs_reading.pop((snap.version, d), None)
                done.set()
        self._prefetch_pool.submit(read)

    @cached_property
    def _prefetch_pool(self):
        from concurrent.futures import ThreadPoolExecutor

        # (apart from the fetch pool: a prefetch waits on its own parts there)
        return ThreadPoolExecutor(2, thread_name_prefix="qa-bot-prefetch")

    @_store_errors
    def docs_chunks_and_vectors(self, doc_ids: Sequence[str], _prefetch: bool = False
                                ) -> tuple[dict[str, list[Chunk]], dict[str, np.ndarray]]:
        """Whole documents (chunks in text order) with their vectors, in one request for those not cached: the
        lead guideline of an answer is read by retrieval and by the composer, and the same few guidelines lead
        many answers. The cache is per published version (a document's chunks do not change within one).
        A document being read by a prefetch is waited for, not read twice."""
        snap = self.snapshot()
        version = snap.version if snap is not None else None
        by_doc: dict[str, list[Chunk]] = {}
        vecs: dict[str, np.ndarray] = {}
        want: list[str] = []
        if not _prefetch:
            with self._lock:
                reading = {self._docs_reading.get((version, d)) for d in doc_ids} - {None}
            for done in reading:
                done.wait(30)
        with self._lock:
            for d in dict.fromkeys(doc_ids):
                hit = self._docs_cache.get((version, d))
                if hit is None:
                    want.append(d)
                else:
                    self._docs_cache.move_to_end((version, d))
                    by_doc[d], more = hit
                    vecs.update(more)
        if want:
            if snap is not None and snap.retriever is not None:  # by id: the snapshot knows each document's rows
                # (a metadata filter on doc_id took 220 ms at 1M chunks, the same chunks by id a few ms)
                ids = [snap.retriever.ids[r] for r in snap.retriever.rows_of(want).tolist()]
                chunks_of, vec_of = self.chunks_and_vectors(ids, ids)
            else:
                chunks_of, vec_of = {}, {}
                self._collect(self.chunks_col.get(where={"doc_id": {"$in": want}} if len(want) > 1
                                                  else {"doc_id": want[0]},
                                                  include=["documents", "metadatas", "embeddings"]), chunks_of, vec_of)
            fetched: dict[str, tuple[list[Chunk], dict[str, np.ndarray]]] = {d: ([], {}) for d in want}
            for cid, c in chunks_of.items():
                fetched[c.doc_id][0].append(c)
                fetched[c.doc_id][1][cid] = vec_of[cid]
            with self._lock:
                for d, (chunks, more) in fetched.items():
                    chunks.sort(key=lambda c: c.start)
                    by_doc[d] = chunks
                    vecs.update(more)
                    if version is not None:  # an app process (a writer reads what it is changing)
                        self._docs_cache[(version, d)] = (chunks, more)
                while len(self._docs_cache) > DOCS_CACHED:
                    self._docs_cache.popitem(last=False)
        return by_doc, vecs

    @_store_errors
    def dense_search_many(self, query_vectors: list[list[float]], k: int,
                          where: dict | None = None) -> list[list[tuple[str, float]]]:
        """Nearest chunks of the version in use: a chunk the snapshot does not know (written by an ingest since) is
        left out here; one rewritten in place since is left out by ``get_chunks`` (its hash differs). Distances
        only: the metadata of every hit would cost a third of the query."""
        snap = self.snapshot()
        res = _again_if_deleting(lambda: self.chunks_col.query(query_embeddings=query_vectors, n_results=k,
                                                               where=where or None, include=["distances"]))
        return [[(cid, 1.0 - float(d)) for cid, d in zip(ids, dist) if snap is None or cid in snap.hashes]
                for ids, dist in zip(res["ids"], res["distances"])]

    def _all(self, col, include: list[str], where: dict | None = None) -> Iterator[tuple[str, Any, Any]]:
        """Every record of ``col`` as (id, document, metadata), page by page."""
        offset = 0
        while True:
            got = col.get(include=include, limit=SCAN_PAGE, offset=offset, where=where)
            docs = got.get("documents") or [None] * len(got["ids"])
            metas = got.get("metadatas") or [None] * len(got["ids"])
            yield from zip(got["ids"], docs, metas)
            if len(got["ids"]) < SCAN_PAGE:
                return
            offset += len(got["ids"])

    def _vector_ids(self) -> list[str]:
        return [cid for cid, _, _ in self._all(self.chunks_col, [])]

    # --- the snapshot (the local cache of one version) --------------------------------------------------
    @_store_errors
    def build_snapshot(self, record: dict | None = None, previous: Snapshot | None = None) -> Snapshot:
        """The lexical index and tables of the published version: from this process's disk cache of that version
        when there is one; else the version in use (``previous``), or the newest cached one, updated with the
        documents the versions since changed, when the server still lists them (no lock: seconds even at 1M
        chunks); else built from every chunk in the server, once per host (the build lock) and cached. Only full
        builds are cached: a restarted process loads the newest and updates it."""
        t0 = time.perf_counter()
        record = record if record is not None else (self.version_record() or {"version": 0})
        version = int(record["version"])
        tables = self.meta_col.get(ids=[f"acronyms:{version}", f"boilerplate:{version}"], include=["documents"])
        t = dict(zip(tables["ids"], tables["documents"]))
        acr = json.loads(t.get(f"acronyms:{version}") or "{}")
        boiler = frozenset(json.loads(t.get(f"boilerplate:{version}") or "[]"))
        snap = self._from_cache(version, record, acr, boiler, t0)
        if snap is not None:
            return snap
        base = previous if previous is not None and previous.version < version else None
        if base is None and version:
            older = newest_cached(self._cache_dir(version), below=version)
            base = self._from_cache(older, {}, {}, frozenset(), t0) if older else None
        changed = self._changed_since(base.version, version) if base is not None else None
        if base is not None and changed is not None:
            snap = self._update_snapshot(base, changed, record, version, acr, boiler, t0)
            if snap is not None:
                return snap
        # the workers of one host build a version once: the first takes the build lock, the others wait for it
        # and load its cache (two workers rebuilding at once on 2 cores took 3x as long as one)
        cache = self._cache_dir(version)
        with build_lock(cache):
            snap = self._from_cache(version, record, acr, boiler, t0)
            if snap is not None:
                return snap
            snap = self._build_snapshot(record, version, acr, boiler, t0)
            # cached only when it is the published version whole (not read in the middle of an ingest)
            if cache is not None and version and len(snap.ids) == record.get("chunks") and not self._ingest_running():
                save_cached(cache, snap)
            return snap

    def _from_cache(self, version: int, record: dict, acr: dict, boiler: frozenset, t0: float) -> Snapshot | None:
        cache = self._cache_dir(version)
        cached = load_cached(cache) if cache is not None else None
        if cached is None:
            return None
        retriever, info = cached
        ids = retriever.ids if retriever is not None else []
        return Snapshot(version=version, retriever=retriever, hashes=dict(zip(ids, info["hashes"])),
                        acronyms=acr, boilerplate=boiler, doc_meta={d: tuple(m) for d, m in info["doc_meta"].items()},
                        documents=int(record.get("documents", 0)), build_seconds=time.perf_counter() - t0,
                        from_cache=True, how="cache")

    def _rows(self, where: dict | None = None, version: int = 0) -> tuple[list[tuple[str, str, str]], dict[str, str],
                                                                           dict[str, tuple]]:
        """(chunk id, document, text to index) of the chunks in the server (``where``: some documents), with
        their content hashes and their documents' (collection, type). What is read goes to the text cache too
        (labelled ``version``: the version being built)."""
        rows: list[tuple[str, str, str]] = []
        hashes: dict[str, str] = {}
        doc_meta: dict[str, tuple[str, str]] = {}
        texts = self._texts if version else None
        fill: list[tuple[str, str, str, str]] = []
        for cid, text, meta in self._all(self.chunks_col, ["documents", "metadatas"], where=where):
            body = json.loads(meta["chunk"])
            # only what embed_text reads: no Chunk built (a million of them at scale)
            rows.append((cid, meta.get("doc_id") or body.get("doc_id") or "",
                         Chunk.embed_text_of(body.get("title"), body.get("heading_path") or [], text)))
            hashes[cid] = meta.get("content_hash")
            kinds = doc_meta.setdefault(rows[-1][1], (meta.get("collection") or "", meta.get("doc_type") or "", {}))[2]
            kind = body.get("doc_type") or meta.get("doc_type") or ""  # the chunk's own type
            kinds[kind] = kinds.get(kind, 0) + 1
            if texts is not None and hashes[cid]:
                fill.append((cid, hashes[cid], text, meta["chunk"]))
                if len(fill) >= SCAN_PAGE:
                    texts.put(fill, version)
                    fill = []
        if texts is not None:
            texts.put(fill, version)
        rows.sort(key=lambda r: r[0])  # one order for a given set of chunks, in every process
        return rows, hashes, doc_meta

    def _build_snapshot(self, record: dict, version: int, acr: dict, boiler: frozenset, t0: float) -> Snapshot:
        import bm25s

        rows, hashes, doc_meta = self._rows(version=version)
        if version and self._texts is not None:
            self._texts.prune(version)
        retriever = None
        if rows:
            tokens = bm25s.tokenize([r[2] for r in rows], stopwords="en", stemmer=self._stemmer(), return_ids=True,
                                    show_progress=False)
            retriever = UpdatableBM25.from_token_ids([(r[0], r[1]) for r in rows], tokens.ids, tokens.vocab)
        return Snapshot(version=version, retriever=retriever, hashes=hashes,
                        acronyms=acr, boilerplate=boiler, doc_meta=doc_meta,
                        documents=int(record.get("documents", 0)), build_seconds=time.perf_counter() - t0)

    def _ingest_running(self) -> bool:
        """An ingest holds the lock: the server's chunks may be between two versions."""
        return bool(self.meta_col.get(ids=["lock"], include=[])["ids"])

    def _changed_since(self, version: int, target: int) -> set[str] | None:
        """The documents that the versions after ``version`` up to ``target`` changed, or None when the server
        does not list them all (too far behind, a version published as "rebuild", or going back)."""
        if target <= version or target - version > CHANGES_KEPT:
            return None
        want = [f"changes:{v}" for v in range(version + 1, target + 1)]
        got = self.meta_col.get(ids=want, include=["documents"])
        found = dict(zip(got["ids"], got["documents"]))
        docs: set[str] = set()
        for key in want:
            if key not in found:
                return None
            change = json.loads(found[key])
            if change.get("rebuild") or "docs" not in change:
                return None
            docs.update(change["docs"])
        return docs

    def _update_snapshot(self, prev: Snapshot, changed: set[str], record: dict, version: int, acr: dict,
                         boiler: frozenset, t0: float) -> Snapshot | None:
        """``prev`` with the chunks of the ``changed`` documents read again (new, rewritten or gone); None when
        the result does not hold the published number of chunks while no ingest runs (a list was incomplete)."""
        rows: list[tuple[str, str, str]] = []
        hashes = dict(prev.hashes)
        doc_meta = dict(prev.doc_meta)
        docs = sorted(changed)
        base = prev.retriever or UpdatableBM25()
        old_ids = [base.ids[r] for r in base.rows_of(changed).tolist()]  # the changed documents' chunks before
        for cid in old_ids:
            hashes.pop(cid, None)
        for i in range(0, len(docs), 100):
            part_rows, part_hashes, part_meta = self._rows({"doc_id": {"$in": docs[i:i + 100]}}, version)
            rows += part_rows
            hashes.update(part_hashes)
            doc_meta.update(part_meta)
        if self._texts is not None:  # the changed documents' chunks that this version no longer has
            now = {r[0] for r in rows}
            self._texts.drop([cid for cid in old_ids if cid not in now], version)
        tokens = tokenize([r[2] for r in rows], self._stemmer())
        retriever = base.updated(changed, [(r[0], r[1], tk) for r, tk in zip(rows, tokens)])
        if len(retriever) != record.get("chunks") and not self._ingest_running():
            log.warning("version %d: %d chunks after updating version %d, %s published: rebuilt in full", version,
                        len(retriever), prev.version, record.get("chunks"))
            return None
        return Snapshot(version=version, retriever=retriever if len(retriever) else None, hashes=hashes,
                        acronyms=acr, boilerplate=boiler, doc_meta=doc_meta,
                        documents=int(record.get("documents", 0)), build_seconds=time.perf_counter() - t0,
                        how="update")

    # --- the disk cache of a version (optional: a process without it rebuilds from the server) ------------
    def _cache_dir(self, version: int) -> Path | None:
        """``data_dir/server-cache/<chunk collection id>-v<version>``: the collection's id changes when the server
        is wiped or the collection recreated, so a cache never outlives the index it was built from."""
        if not version or not self.settings.server.server_cache:
            return None
        return self.settings.data_dir / "server-cache" / f"{self.chunks_col.id}-v{version}"

    def snapshot(self) -> Snapshot | None:
        pinned = getattr(self._pin, "snap", None)
        return pinned if pinned is not None else self._snap

    @contextmanager
    def pinned(self, snap: Snapshot | None) -> Iterator[None]:
        before = getattr(self._pin, "snap", None)
        self._pin.snap = snap
        try:
            yield
        finally:
            self._pin.snap = before

    def current_snapshot(self) -> Snapshot:
        return self.current()

    def current(self) -> Snapshot:
        """The loaded snapshot (built on first use, which also starts the poller)."""
        snap = self.snapshot()
        if snap is None:
            with self._lock:
                if self._snap is None:
                    self._snap = self.build_snapshot()
                    self.last_switch = {"version": self._snap.version, "time": time.time(),
                                        "build_seconds": self._snap.build_seconds,
                                        "gc_ms": round(settle_heap())}
                    log.info("index version %d loaded: %d chunks in %.1fs", self._snap.version, len(self._snap.ids),
                             self._snap.build_seconds)
                self._start_poller()
                snap = self._snap
        return snap

    def refresh(self) -> bool:
        """Load the published version if it is not the one in use; True when it switched."""
        rec = self.version_record()
        if rec is None or (self._snap is not None and int(rec["version"]) == self._snap.version):
            return False
        new = self.build_snapshot(rec, previous=self._snap)
        with self._lock:
            old = self._snap
            self._snap = new  # one assignment: every later read sees the whole new version
        old_version = old.version if old else None
        del old  # (before settle_heap: the previous version is garbage once no question holds it)
        self.last_switch = {"version": new.version, "time": time.time(), "build_seconds": new.build_seconds,
                            "published": rec.get("time"), "how": new.how, "gc_ms": round(settle_heap())}
        log.info("index version %s → %d: %d chunks, %s in %.1fs", old_version, new.version,
                 len(new.ids), {"full": "built", "update": "updated", "cache": "loaded"}[new.how], new.build_seconds)
        return True

    def _start_poller(self) -> None:
        if self._poller is not None or self.settings.server.poll_interval <= 0:
            return

        def poll() -> None:
            failing = False
            while not self._stop.wait(self.settings.server.poll_interval):
                try:
                    self.refresh()
                    if failing:
                        log.info("the Chroma server answers again")
                    failing = False
                except Exception as e:  # noqa: BLE001 - the server down: keep the version in use, retry
                    if not failing:
                        log.warning("cannot check the index version: %s", type(e).__name__)
                    failing = True

        self._poller = threading.Thread(target=poll, name="qa-bot-index-poller", daemon=True)
        self._poller.start()

    def close(self) -> None:
        self._stop.set()

    # --- what retrieval reads ------------------------------------------------------------------------
    def lexical(self):
        snap = self.current()
        return snap.retriever, snap.ids

    def boilerplate(self) -> frozenset[str]:
        return self.current().boilerplate

    @_store_errors
    def titles(self, collections: Sequence[str] | None = None) -> list[str]:
        wanted = None if collections is None else set(collections)
        return [m["title"] for _, _, m in self._all(self.docs_col, ["metadatas"])
                if m and m.get("title") and (wanted is None or m.get("collection") in wanted)]

    def acronyms(self) -> dict[str, str]:
        return self.current().acronyms

    def collections(self) -> list[str]:
        return sorted(c for c, n in self.current().by_collection.items() if c and n)

    def lexical_rows_in(self, collections: Sequence[str]) -> np.ndarray:
        """Which rows of the lexical index hold chunks of ``collections`` (by their document's collection)."""
        snap = self.current()
        if snap.retriever is None:
            return np.zeros(0, dtype=bool)
        wanted = set(collections)
        mask = np.zeros(len(snap.ids), dtype=bool)
        mask[snap.retriever.rows_of(d for d, meta in snap.doc_meta.items() if meta[0] in wanted)] = True
        return mask

    def rebuild_lexical(self) -> int:
        """The lexical index is each app process's cache: publish a new version, and load it here."""
        self._dirty = True
        self.publish(full_tables=True)
        self.refresh()
        return len(self.current().ids)

    # --- writing (the ingest job, under server_writer_lock) ---------------------------------------------
    @_store_errors
    def known_documents(self) -> dict[str, tuple[str, str | None, int]]:
        self.flush()
        docs = {d: (m.get("content_hash"), m.get("path") or None, int(m.get("n_chunks", 0)))
                for d, _, m in self._all(self.docs_col, ["metadatas"])}
        self._known = set(docs)
        return docs

    @_store_errors
    def set_document_path(self, doc_id: str, path: str | None) -> None:
        self.flush()
        self.docs_col.update(ids=[doc_id], metadatas=[{"path": path or ""}])

    @_store_errors
    def document_path(self, doc_id: str) -> str | None:
        got = self.docs_col.get(ids=[doc_id], include=["metadatas"])
        return (got["metadatas"][0].get("path") or None) if got["ids"] else None

    def _embedding(self):
        if self._cache is None:
            self._cache = EmbeddingCache(self.settings)
        return self._cache, get_embedder(self.settings.embedding_model, None)

    def replace_document(self, doc: SourceDocument, chunks: list[Chunk]) -> None:
        """Buffer the document; written with others in one batch (``flush``) once WRITE_BATCH chunks wait."""
        self._pending.append((doc, chunks))
        self._dirty = True
        if sum(len(c) for _, c in self._pending) >= WRITE_BATCH:
            self.flush()

    @_store_errors
    def flush(self) -> None:
        """Write the buffered documents: stale chunks deleted, chunks upserted with their vectors, then the
        document records (last: a killed ingest redoes a document whose record is missing or older). A batch that
        fails is retried document by document; a document that still fails keeps its old record (the next ingest
        retries it) and is reported by ``fill_vectors``."""
        removals, self._removals = self._removals, []
        if removals:
            self._touch(removals)
        for i in range(0, len(removals), 100):
            part = removals[i:i + 100]
            self.chunks_col.delete(where={"doc_id": {"$in": part}})
            self.docs_col.delete(ids=part)
        pending, self._pending = self._pending, []
        if not pending:
            return
        try:
            self._write(pending)
        except (StoreUnavailableError, IndexBusyError):
            raise
        except Exception as first:
            if is_connection_error(first):
                raise
            for item in pending:
                try:
                    self._write([item])
                except Exception as e:
                    if is_connection_error(e) or isinstance(e, IndexBusyError):
                        raise
                    self._failed.append((item[0].doc_id, e))

    def _check_lock(self) -> None:
        """A writer whose lock was taken over (it stalled past the expiry and another ingest took the lock) stops
        before its next write instead of writing beside the other."""
        if self._lock_lost is not None and self._lock_lost.is_set():
            raise IndexBusyError(f"the ingest lock on the Chroma server {self.settings.chroma_url} was taken over by "
                                 "another writer (this one stalled past its expiry): stopped before writing more; "
                                 "the other ingest finishes the work")

    def _touch(self, doc_ids: Sequence[str]) -> None:
        """Note in the server, before their chunks change, the documents the next version changes (``publish``
        lists them for the app processes, which then read only those; a killed ingest leaves its notes for the
        next one)."""
        self._check_lock()
        doc_ids = list(dict.fromkeys(doc_ids))
        for i in range(0, len(doc_ids), WRITE_BATCH):
            part = doc_ids[i:i + WRITE_BATCH]
            self.meta_col.upsert(ids=[f"touched:{d}" for d in part], embeddings=[_ONE] * len(part), documents=part,
                                 metadatas=[{"kind": "touched"}] * len(part))

    def _write(self, docs: list[tuple[SourceDocument, list[Chunk]]]) -> None:
        self._touch([d.doc_id for d, _ in docs])
        maybe_old = [d.doc_id for d, _ in docs if self._known is None or d.doc_id in self._known]
        new_ids = {c.chunk_id for _, chunks in docs for c in chunks}
        stale: list[str] = []
        for i in range(0, len(maybe_old), 100):
            old = self.chunks_col.get(where={"doc_id": {"$in": maybe_old[i:i + 100]}}, include=[])["ids"]
            stale += [cid for cid in old if cid not in new_ids]
        for i in range(0, len(stale), WRITE_BATCH):
            self.chunks_col.delete(ids=stale[i:i + WRITE_BATCH])
        chunks = [c for _, cs in docs for c in cs]
        if chunks:
            cache, embedder = self._embedding()
            for i in range(0, len(chunks), WRITE_BATCH):
                part = chunks[i:i + WRITE_BATCH]
                matrix, encoded = self._vectors(part, cache, embedder)
                self.chunks_col.upsert(ids=[c.chunk_id for c in part], embeddings=matrix,
                                       documents=[c.text for c in part],
                                       metadatas=[{**chunk_metadata(c), "chunk": c.model_dump_json(exclude={"text"})}
                                                  for c in part])
                self._counts[0] += len(part) - encoded
                self._counts[1] += encoded
        now = time.time()
        self.docs_col.upsert(ids=[d.doc_id for d, _ in docs], embeddings=[_ONE] * len(docs),
                             documents=[d.title or d.doc_id for d, _ in docs],
                             metadatas=[{"content_hash": d.content_hash, "path": d.path or "",
                                         "collection": d.collection, "doc_type": d.doc_type,
                                         "title": d.title or "", "n_chunks": len(cs),
                                         "references_json": json.dumps(d.references), "updated": now}
                                        for d, cs in docs])
        if self._known is not None:
            self._known.update(d.doc_id for d, _ in docs)

    def remove_document(self, doc_id: str) -> None:
        """Buffered like writes: removed in batches by ``flush`` (chunks first, then the record)."""
        self._removals.append(doc_id)
        self._dirty = True
        if len(self._removals) >= 100:
            self.flush()

    def fill_vectors(self, progress: ProgressFn | None = None, batch: int = 256, stop=None,
                     on_error=None) -> tuple[int, int]:
        """Vectors are written with their chunks: returns (from cache, encoded) since the last call; documents
        whose write failed are reported through ``on_error`` (they keep their old state for the next ingest)."""
        self.flush()
        failed, self._failed = self._failed, []
        for doc_id, e in failed:
            if on_error:
                on_error(doc_id, e)
            else:
                log.warning("document %r not written: %s", doc_id, type(e).__name__)
        if self._cache is not None:
            self._cache.save()
        got = tuple(self._counts)
        self._counts = [0, 0]
        return got  # type: ignore[return-value]

    @_store_errors
    def publish(self, progress: ProgressFn | None = None, full_tables: bool = False) -> None:
        """Publish the chunks now in the server as the next version (only when something changed, or the published
        version does not match the server's chunks), with the list of the documents it changed and the side tables
        (recomputed from every chunk, or carried over: see ``TABLES_ALWAYS_BELOW``)."""
        self.flush()
        self._check_lock()
        rec = self.version_record()
        n_chunks = self.chunks_col.count()
        touched = [d for _, d, _ in self._all(self.meta_col, ["documents"], where={"kind": "touched"})]
        if not self._dirty and not touched and rec is not None and rec.get("chunks") == n_chunks:
            return
        version = int(rec["version"]) + 1 if rec else 1
        n_docs = self.count_docs()
        stale = (rec or {}).get("tables_stale", 0) + len(set(touched))
        old = None if rec is None or full_tables or n_chunks < TABLES_ALWAYS_BELOW \
            or stale > TABLES_STALE_SHARE * max(n_docs, 1) else \
            self.meta_col.get(ids=[f"acronyms:{version - 1}", f"boilerplate:{version - 1}"], include=["documents"])
        if old is not None and len(old["ids"]) == 2:
            tables = dict(zip(old["ids"], old["documents"]))
            acr_json, boiler_json = tables[f"acronyms:{version - 1}"], tables[f"boilerplate:{version - 1}"]
            tables_from = int(rec.get("tables_from", version - 1))
        else:
            chunks = [self._to_chunk(t, m) for _, t, m in self._all(self.chunks_col, ["documents", "metadatas"])]
            n_chunks, stale, tables_from = len(chunks), 0, version
            boiler_json, acr_json = side_tables(chunks)
            del chunks
        self._check_lock()
        self.meta_set(f"acronyms:{version}", acr_json, {"kind": "acronyms", "version": version})
        self.meta_set(f"boilerplate:{version}", boiler_json, {"kind": "boilerplate", "version": version})
        # what changed since the previous version: app processes read those documents only (or all: "rebuild")
        changes = {"from": version - 1, "docs": sorted(set(touched))} if len(touched) <= CHANGES_LISTED \
            else {"from": version - 1, "rebuild": True}
        self.meta_set(f"changes:{version}", json.dumps(changes), {"kind": "changes", "version": version})
        self.meta_set("version", json.dumps({"version": version, "chunks": n_chunks, "documents": n_docs,
                                             "time": time.time(), "tables_from": tables_from,
                                             "tables_stale": stale}), {"kind": "version", "version": version})
        # the tables of versions before the previous one are no longer read by anyone
        self.meta_col.delete(where={"$and": [{"kind": {"$in": ["acronyms", "boilerplate"]}},
                                             {"version": {"$lt": version - 1}}]})
        self.meta_col.delete(where={"$and": [{"kind": "changes"}, {"version": {"$lte": version - CHANGES_KEPT}}]})
        for i in range(0, len(touched), WRITE_BATCH):
            self.meta_col.delete(ids=[f"touched:{d}" for d in touched[i:i + WRITE_BATCH]])
        self._dirty = False
        if progress:
            progress("lexical", n_chunks, n_chunks)

    # --- consistency -------------------------------------------------------------------------------------
    def check(self, vectors_exact: bool = True) -> dict[str, Any]:
        rec = self.version_record()
        chunks = self.count_chunks()
        docs = self.known_documents()
        problems: list[str] = []
        if rec is None:
            problems.append("no version has been published: run `qa-bot ingest`")
        elif rec.get("chunks") != chunks:
            problems.append(f"the published version {rec['version']} has {rec.get('chunks')} chunks, the server "
                            f"{chunks} (an ingest is running or was killed: the next ingest publishes)")
        in_docs = sum(n for _, _, n in docs.values())
        if in_docs != chunks:
            problems.append(f"the document records count {in_docs} chunks, the server holds {chunks}")
        lock = self.meta_col.get(ids=["lock"], include=["metadatas"])
        if lock["ids"]:
            m = lock["metadatas"][0]
            problems.append(f"an ingest holds the lock ({m.get('holder')}, expires in "
                            f"{m.get('expires', 0) - time.time():.0f}s)")
        return {"documents": len(docs), "chunks": chunks, "vectors": chunks,
                "lexical": rec.get("chunks", 0) if rec else 0, "version": rec["version"] if rec else None,
                "problems": problems}

    def repair(self, full: bool = True, vectors: bool = True, progress: ProgressFn | None = None) -> list[str]:
        """After a killed ingest: chunks of documents without a record are deleted, documents whose chunks are
        incomplete are forgotten (the next ingest redoes them); then a version is published."""
        done: list[str] = []
        docs = self.known_documents()
        rec = self.version_record()
        n_chunks = self.count_chunks()
        if not full and sum(n for _, _, n in docs.values()) == n_chunks and not self._dirty \
                and rec is not None and rec.get("chunks") == n_chunks:
            return done
        have: dict[str, int] = {}
        orphans: list[str] = []
        orphan_docs: set[str] = set()
        for cid, _, m in self._all(self.chunks_col, ["metadatas"]):
            d = m.get("doc_id")
            if d in docs:
                have[d] = have.get(d, 0) + 1
            else:
                orphans.append(cid)
                orphan_docs.add(d)
        self._touch(sorted(orphan_docs))
        for i in range(0, len(orphans), WRITE_BATCH):
            self.chunks_col.delete(ids=orphans[i:i + WRITE_BATCH])
        if orphans:
            done.append(f"deleted {len(orphans)} chunks of documents without a record")
            self._dirty = True
        partial = [d for d, (_, _, n) in docs.items() if have.get(d, 0) != n]
        if partial:
            self.docs_col.delete(ids=partial)
            done.append(f"{len(partial)} documents with missing chunks marked to be ingested again")
            self._dirty = True
        if self._dirty or rec is None or rec.get("chunks") != self.count_chunks():
            self._dirty = True
            self.publish(progress)
            done.append(f"published version {self.state_generation()}")
        return done

    def stats(self, collections: Sequence[str] | None = None) -> IndexStats:
        """The counts of the version in use, or of its chunks in ``collections`` only (what a scoped key may see)."""
        snap = self.current()
        docs, by_col, by_type = snap.counts(collections) if collections else \
            (snap.documents, snap.by_collection, snap.by_doc_type)
        chunks = sum(by_col.values()) if collections else len(snap.ids)
        return IndexStats(documents=docs, chunks=chunks, vectors=chunks,
                          by_collection={k: v for k, v in by_col.items() if k},
                          by_doc_type={k: v for k, v in by_type.items() if k},
                          model=self.settings.embedding_model, store=str(self.settings.chroma_url),
                          lexical_chunks=chunks, version=snap.version)


def wait_for_version(store: ServerStore, version: int, timeout: float = 60.0) -> bool:
    """Poll until ``store`` uses ``version`` or later (tests, benchmarks)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        snap = store._snap
        if snap is not None and snap.version >= version:
            return True
        time.sleep(0.1)
    return False
