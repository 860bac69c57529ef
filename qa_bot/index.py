"""Index stage: chunks → Chroma (dense, cosine) + bm25s (lexical), kept in step through a SQLite state DB.

Design (why it is fast and safe):

* The state DB (``data_dir/state.sqlite``) is the source of truth: documents with their content hash,
  chunks (full JSON) with a ``has_vector`` flag. Every step commits in small transactions, so a killed
  ingest (Ctrl-C, SIGKILL) leaves a consistent state and the next run carries on.
* Phase 1 (text): load + chunk changed documents, replace their chunks, remove deleted documents,
  rebuild the bm25s index → lexical search works at once.
* Phase 2 (vectors): chunks without a vector are embedded — from the shipped embedding cache keyed by
  (model, chunk hash) when possible, by the encoder otherwise — and upserted into Chroma by chunk id
  (idempotent: no duplicates after a resume). Retrieval uses whatever vectors exist meanwhile.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import threading
import time
from functools import lru_cache
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from pathlib import Path
from urllib.parse import urlparse

import numpy as np

from .chunk import chunk_document
from .errors import IndexBusyError, IndexMissingError, StoreUnavailableError
from .ingest_report import document_report, failed_report, has_own_file, remember_documents
from .load import estimate_documents, iter_documents
from .settings import Settings
from .types import Chunk, IndexStats, IngestReport, LoadError, SkippedFile, SourceDocument

SCHEMA = """
CREATE TABLE IF NOT EXISTS docs (doc_id TEXT PRIMARY KEY, content_hash TEXT, path TEXT, collection TEXT,
    doc_type TEXT, title TEXT, n_chunks INTEGER, references_json TEXT, updated REAL);
CREATE TABLE IF NOT EXISTS chunks (chunk_id TEXT PRIMARY KEY, doc_id TEXT, content_hash TEXT, body TEXT,
    has_vector INTEGER DEFAULT 0);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc_id);
CREATE INDEX IF NOT EXISTS chunks_vec ON chunks(has_vector);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
INSERT OR IGNORE INTO meta(key, value) VALUES ('state_generation', '0');
"""
# ``state_generation`` is bumped in the same transaction as every change to the chunks; the lexical index records
# the generation it was built from, so a lexical index that is behind the state (a killed ingest, a crash between
# the text and lexical phases) is detected and rebuilt.
_BUMP = "UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'state_generation'"
LOCK_FILE = "ingest.lock"

ProgressFn = Callable[[str, int, int | None], None]  # (phase, done, total)


@lru_cache(maxsize=10_000)
def published_ord(value: str | None) -> int:
    """YYYYMMDD of the latest date mentioned ("1996 (revised 2013 Mar 19)" → 20130319); 0 when unknown."""
    if not value:
        return 0
    from .webpage import parse_date

    best = 0
    for m in re.finditer(r"\d{4}-\d{2}-\d{2}|\d{4}(?:\s+[A-Z][a-z]{2,8}\.?(?:\s+\d{1,2})?)?", value):
        iso = parse_date(m.group(0)) if not re.fullmatch(r"\d{4}", m.group(0)) else f"{m.group(0)}-01-01"
        if iso:
            best = max(best, int(iso.replace("-", "")))
    return best


def chunk_metadata(c: Chunk) -> dict:
    meta = {"doc_id": c.doc_id, "section_id": c.section_id, "doc_type": c.doc_type, "collection": c.collection,
            "title": c.title, "source": c.source, "url": c.url, "published": c.published,
            "published_ord": published_ord(c.published), "heading": " > ".join(c.heading_path),
            "content_hash": c.content_hash}
    return {k: v for k, v in meta.items() if v is not None}


@lru_cache(maxsize=50_000)
def sentence_template(sentence: str, title: str | None) -> str:
    """A sentence with its document's topic masked and digits folded: equal templates = boilerplate."""
    s = sentence.lower()
    if title:
        s = s.replace(title.lower(), "<t>")
    s = re.sub(r"\d+", "0", s)
    s = re.sub(r"\W+", " ", s).strip()
    import hashlib

    return hashlib.sha1(s.encode()).hexdigest()[:16]


def boilerplate_templates(chunks: Iterable[Chunk], min_docs: int = 25) -> set[str]:
    from .text import split_sentences

    docs_of: dict[str, set[str]] = {}
    for c in chunks:
        for a, b in split_sentences(c.text):
            docs_of.setdefault(sentence_template(c.text[a:b], c.title), set()).add(c.doc_id)
    return {t for t, docs in docs_of.items() if len(docs) >= min_docs}


# --- stores -----------------------------------------------------------------------------------------
def settle_heap() -> float:
    """Called after a long-lived index structure was loaded or swapped: one full collection, then every object
    alive is moved out of the cyclic garbage collector's reach (``gc.freeze``). Without it the collector's
    periodic full pass walks the whole index while a question is being answered: at 1M chunks a pass took
    ~450 ms and landed in 1 question of ~20 (it was the p95). Frozen objects are still freed by reference
    counting; the next call unfreezes first, so a cycle left by an older version is collected then.
    Returns the milliseconds it took (one pause per loaded version, not per question)."""
    import gc

    t = time.perf_counter()
    gc.unfreeze()
    gc.collect()
    gc.freeze()
    return (time.perf_counter() - t) * 1000


def chroma_client(settings: Settings):
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    cs = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.chroma_url:
        u = urlparse(settings.chroma_url if "://" in settings.chroma_url else f"http://{settings.chroma_url}")
        try:
            client = chromadb.HttpClient(host=u.hostname or "localhost", port=u.port or 8000,
                                         ssl=u.scheme == "https", settings=cs)
            client.heartbeat()
        except Exception as e:
            raise StoreUnavailableError(f"cannot reach the Chroma server at {settings.chroma_url} "
                                        f"({type(e).__name__}); is `chroma run` up?") from None
        return client
    settings.chroma_dir.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(settings.chroma_dir), settings=cs)


class Store:
    """The index of one data directory: state DB + Chroma collection + bm25s index."""

    def __init__(self, settings: Settings):
        self.settings = settings
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        with self.db() as db:
            db.executescript(SCHEMA)
        self._vs = None
        self._lexical = None
        self._lexical_gen = None
        self._lexical_files: dict[str, tuple] = {}  # file name → (lexical generation, content)
        self._lock = threading.RLock()

    # --- state DB ---------------------------------------------------------------------------------
    def db(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.settings.state_db, timeout=60, isolation_level=None,
                                   check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            self._local.conn = conn
        return conn

    def meta_get(self, key: str) -> str | None:
        row = self.db().execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else None

    def meta_set(self, key: str, value: str) -> None:
        self.db().execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))

    def state_generation(self) -> str:
        return self.meta_get("state_generation") or "0"

    def count_chunks(self, with_vector: bool | None = None) -> int:
        q = "SELECT COUNT(*) FROM chunks" + ("" if with_vector is None else f" WHERE has_vector={int(with_vector)}")
        return self.db().execute(q).fetchone()[0]

    def count_docs(self) -> int:
        return self.db().execute("SELECT COUNT(*) FROM docs").fetchone()[0]

    def chunks_and_vectors(self, ids: Sequence[str],
                           vectors_of: Sequence[str]) -> tuple[dict[str, Chunk], dict[str, np.ndarray]]:
        """``get_chunks(ids)`` and the stored vectors of ``vectors_of`` (float32)."""
        vecs: dict[str, np.ndarray] = {}
        if vectors_of:
            got = self.vectorstore._collection.get(ids=list(vectors_of), include=["embeddings"])
            vecs = {cid: np.asarray(v, dtype=np.float32) for cid, v in zip(got["ids"], got["embeddings"])}
        return (self.get_chunks(ids) if ids else {}), vecs

    def get_chunks(self, ids: Sequence[str]) -> dict[str, Chunk]:
        out: dict[str, Chunk] = {}
        ids = list(ids)
        for i in range(0, len(ids), 500):
            part = ids[i:i + 500]
            rows = self.db().execute(f"SELECT chunk_id, body FROM chunks WHERE chunk_id IN ({','.join('?' * len(part))})",
                                     part).fetchall()
            out.update({cid: Chunk.model_validate_json(body) for cid, body in rows})
        return out

    def doc_chunks(self, doc_id: str) -> list[Chunk]:
        rows = self.db().execute("SELECT body FROM chunks WHERE doc_id=?", (doc_id,)).fetchall()
        return sorted((Chunk.model_validate_json(b) for (b,) in rows), key=lambda c: c.start)

    def prefetch_lead_documents(self, rows: Sequence[int], limit: int = 2) -> None:
        """A hint: the guidelines of these lexical-index rows (the best hits, best first) are likely to lead the
        answer, whose retrieval then reads them whole (``docs_chunks_and_vectors``). Local reads are cheap here:
        nothing to do (the server store starts reading them meanwhile)."""

    def docs_chunks_and_vectors(self, doc_ids: Sequence[str]) -> tuple[dict[str, list[Chunk]], dict[str, np.ndarray]]:
        """``doc_chunks`` of several documents, and the vectors of their chunks."""
        by_doc = {d: self.doc_chunks(d) for d in dict.fromkeys(doc_ids)}
        return by_doc, self.chunks_and_vectors([], [c.chunk_id for cs in by_doc.values() for c in cs])[1]

    # --- Chroma (through langchain-chroma) ----------------------------------------------------------
    def _chroma(self):
        return chroma_client(self.settings)

    @property
    def vectorstore(self):
        if self._vs is None:
            with self._lock:
                if self._vs is None:
                    from langchain_chroma import Chroma

                    from .embed import LangchainEmbeddings, get_embedder

                    emb = LangchainEmbeddings(get_embedder(self.settings.embedding_model, self.settings.torch_threads))
                    self._vs = Chroma(collection_name=self.settings.collection_name, embedding_function=emb,
                                      client=self._chroma(),
                                      collection_metadata={"hnsw:space": "cosine",
                                                           "embedding_model": self.settings.embedding_model})
        return self._vs

    def vector_count(self) -> int:
        try:
            return self.vectorstore._collection.count()
        except StoreUnavailableError:
            raise
        except Exception:
            return 0

    # --- lexical (bm25s) ----------------------------------------------------------------------------
    @staticmethod
    def _stemmer():
        import Stemmer

        return Stemmer.Stemmer("english")

    def rebuild_lexical(self) -> int:
        import bm25s

        from . import acronyms

        db = self.db()
        db.execute("BEGIN")  # one snapshot: the rows and the generation they belong to
        try:
            state_gen = self.state_generation()
            rows = db.execute("SELECT chunk_id, body FROM chunks ORDER BY chunk_id").fetchall()
        finally:
            db.execute("COMMIT")
        ids = [r[0] for r in rows]
        chunks = [Chunk.model_validate_json(r[1]) for r in rows]
        texts = [c.embed_text for c in chunks]
        out = self.settings.lexical_dir
        tmp = out.with_name(out.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        gen = str(time.time())
        if ids:
            tokens = bm25s.tokenize(texts, stopwords="en", stemmer=self._stemmer(), show_progress=False)
            retriever = bm25s.BM25()
            retriever.index(tokens, show_progress=False)
            retriever.save(str(tmp))
        (tmp / "chunk_ids.json").write_text(json.dumps({"generation": gen, "state_generation": state_gen,
                                                      "ids": ids}))
        (tmp / "boilerplate.json").write_text(json.dumps(sorted(boilerplate_templates(chunks))))
        (tmp / "acronyms.json").write_text(json.dumps(acronyms.build([c.text for c in chunks if c.doc_type != "comment"]
                                                           + sorted({c.population for c in chunks if c.population})),
                                                      sort_keys=True))
        old = out.with_name(out.name + ".old")
        shutil.rmtree(old, ignore_errors=True)
        if out.exists():
            out.rename(old)
        tmp.rename(out)
        shutil.rmtree(old, ignore_errors=True)
        self.meta_set("lexical_generation", gen)
        with self._lock:
            self._lexical = None
        return len(ids)

    def lexical(self):
        """(bm25s retriever or None, chunk ids); reloaded when another process rebuilt it."""
        import bm25s

        gen = self.meta_get("lexical_generation")
        with self._lock:
            if self._lexical is None or gen != self._lexical_gen:
                path = self.settings.lexical_dir
                if not (path / "chunk_ids.json").is_file():
                    return None, []
                info = json.loads((path / "chunk_ids.json").read_text())
                retriever = bm25s.BM25.load(str(path), mmap=False) if info["ids"] else None
                self._lexical = (retriever, info["ids"])
                self._lexical_gen = info["generation"]
                settle_heap()
            return self._lexical

    def _lexical_json(self, name: str, convert: Callable[[Any], Any], empty: Any) -> Any:
        """``convert`` of a JSON file that ``rebuild_lexical`` writes beside the lexical index (``empty`` when
        absent), read once per lexical generation."""
        gen = self.meta_get("lexical_generation")
        cached = self._lexical_files.get(name)
        if cached is None or cached[0] != gen:
            f = self.settings.lexical_dir / name
            cached = self._lexical_files[name] = (gen, convert(json.loads(f.read_text())) if f.is_file() else empty)
        return cached[1]

    def boilerplate(self) -> frozenset[str]:
        """Hashes of sentence templates repeated across many documents (site boilerplate, not answers)."""
        return self._lexical_json("boilerplate.json", frozenset, frozenset())

    def acronyms(self) -> dict[str, str]:
        """Abbreviations the indexed documents define (short form → long form), see ``qa_bot.acronyms``."""
        return self._lexical_json("acronyms.json", dict, {})

    def lexical_search(self, query: str, k: int) -> list[tuple[str, float]]:
        from .lexical import tokenize, top_rows

        retriever, ids = self.lexical()
        if retriever is None or not ids:
            return []
        tokens = tokenize([query], self._stemmer())[0]
        if not tokens:
            return []
        scores = retriever.get_scores(tokens)
        return [(ids[i], float(scores[i])) for i in top_rows(scores, ids, k)]

    def dense_search(self, query_vector: list[float], k: int, where: dict | None = None) -> list[tuple[str, float]]:
        """Top-k (chunk id, cosine); the caller checks ``vector_count()`` first (it also decides whether to embed)."""
        return self.dense_search_many([query_vector], k, where)[0]

    def dense_search_many(self, query_vectors: list[list[float]], k: int,
                          where: dict | None = None) -> list[list[tuple[str, float]]]:
        """``dense_search`` of several vectors in one query (one round trip to a Chroma server)."""
        res = self.vectorstore._collection.query(query_embeddings=query_vectors, n_results=k, where=where or None,
                                                 include=["distances"])
        return [[(cid, 1.0 - float(d)) for cid, d in zip(ids, dist)] for ids, dist in zip(res["ids"], res["distances"])]

    # --- writing ------------------------------------------------------------------------------------
    def replace_document(self, doc: SourceDocument, chunks: list[Chunk]) -> None:
        old = [r[0] for r in self.db().execute("SELECT chunk_id FROM chunks WHERE doc_id=?", (doc.doc_id,))]
        new_ids = {c.chunk_id for c in chunks}
        stale = [cid for cid in old if cid not in new_ids]
        if stale:
            self._delete_vectors(stale)
        db = self.db()
        db.execute("BEGIN")
        try:
            db.execute("DELETE FROM chunks WHERE doc_id=?", (doc.doc_id,))
            db.executemany("INSERT OR REPLACE INTO chunks(chunk_id, doc_id, content_hash, body, has_vector) VALUES (?,?,?,?,0)",
                           [(c.chunk_id, c.doc_id, c.content_hash, c.model_dump_json()) for c in chunks])
            db.execute("INSERT OR REPLACE INTO docs VALUES (?,?,?,?,?,?,?,?,?)",
                       (doc.doc_id, doc.content_hash, doc.path, doc.collection, doc.doc_type, doc.title, len(chunks),
                        json.dumps(doc.references), time.time()))
            db.execute(_BUMP)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def remove_document(self, doc_id: str) -> None:
        ids = [r[0] for r in self.db().execute("SELECT chunk_id FROM chunks WHERE doc_id=?", (doc_id,))]
        if ids:
            self._delete_vectors(ids)
        db = self.db()
        db.execute("BEGIN")
        db.execute("DELETE FROM chunks WHERE doc_id=?", (doc_id,))
        db.execute("DELETE FROM docs WHERE doc_id=?", (doc_id,))
        db.execute(_BUMP)
        db.execute("COMMIT")

    def _delete_vectors(self, ids: list[str]) -> None:
        if self.vector_count() == 0:
            return
        for i in range(0, len(ids), 1000):
            self.vectorstore._collection.delete(ids=ids[i:i + 1000])

    def fill_vectors(self, progress: ProgressFn | None = None, batch: int = 256,
                     stop: threading.Event | None = None,
                     on_error: Callable[[str, BaseException], None] | None = None) -> tuple[int, int]:
        """Embed every chunk without a vector (cache first). Returns (from_cache, encoded).

        A batch that fails is retried document by document: a document whose chunks cannot be embedded is
        reported through ``on_error(doc_id, exception)`` and left pending (the next ingest retries it); the other
        documents get their vectors. When every document of a batch fails the cause is not a document (the store,
        the encoder): the exception propagates."""
        from .embed import EmbeddingCache, get_embedder

        # order by chunk_id so a resumed run walks the same way; cached ones are cheap either way
        pending = [r[0] for r in self.db().execute("SELECT chunk_id FROM chunks WHERE has_vector=0 ORDER BY chunk_id")]
        total = len(pending)
        if total == 0:
            return 0, 0
        cache = EmbeddingCache(self.settings)
        embedder = get_embedder(self.settings.embedding_model, None)
        col = self.vectorstore._collection
        done = from_cache = encoded = 0

        def embed(chunks: list[Chunk]) -> tuple[int, int]:
            matrix, n_missing = self._vectors(chunks, cache, embedder)
            col.upsert(ids=[c.chunk_id for c in chunks], embeddings=matrix,
                       metadatas=[chunk_metadata(c) for c in chunks], documents=[c.text for c in chunks])
            self.db().executemany("UPDATE chunks SET has_vector=1 WHERE chunk_id=? AND content_hash=?",
                                  [(c.chunk_id, c.content_hash) for c in chunks])
            return len(chunks) - n_missing, n_missing

        for i in range(0, total, batch):
            if stop is not None and stop.is_set():
                break
            chunks = list(self.get_chunks(pending[i:i + batch]).values())  # ids removed meanwhile drop out
            if not chunks:
                continue
            try:
                got = embed(chunks)
            except StoreUnavailableError:
                raise
            except Exception as first:
                by_doc: dict[str, list[Chunk]] = {}
                for c in chunks:
                    by_doc.setdefault(c.doc_id, []).append(c)
                got, failures = (0, 0), []
                for doc_id, part in by_doc.items():
                    try:
                        a, b = embed(part)
                        got = (got[0] + a, got[1] + b)
                    except StoreUnavailableError:
                        raise
                    except Exception as e:
                        failures.append((doc_id, e))
                if len(failures) == len(by_doc) and len(by_doc) > 1:
                    raise first
                for doc_id, e in failures:
                    if on_error:
                        on_error(doc_id, e)
            from_cache += got[0]
            encoded += got[1]
            done += len(chunks)
            if got[1] and encoded % 2048 < got[1]:
                cache.save()
            if progress:
                progress("vectors", done, total)
        cache.save()
        return from_cache, encoded

    def _vectors(self, chunks: list[Chunk], cache, embedder) -> tuple[np.ndarray, int]:
        """The chunks' vectors (the embedding cache first, the encoder for the rest) and how many were encoded."""
        vecs: list[np.ndarray | None] = [cache.get(c.content_hash) for c in chunks]
        missing = [i for i, v in enumerate(vecs) if v is None]
        if missing:
            new = embedder.encode([chunks[i].embed_text for i in missing], self.settings.embedding_batch_size)
            cache.put([chunks[i].content_hash for i in missing], new)
            for j, i in enumerate(missing):
                vecs[i] = new[j]
        return np.stack(vecs).astype(np.float32), len(missing)

    # --- what ingest needs of the store (the server store keeps these in Chroma) -------------------------
    def exists(self) -> bool:
        """An index has been built here (it may be empty)."""
        return self.settings.state_db.is_file()

    def known_documents(self) -> dict[str, tuple[str, str | None, int]]:
        """doc_id → (content hash, path, number of chunks) of every indexed document."""
        return {d: (h, p, n) for d, h, p, n in
                self.db().execute("SELECT doc_id, content_hash, path, n_chunks FROM docs").fetchall()}

    def set_document_path(self, doc_id: str, path: str | None) -> None:
        self.db().execute("UPDATE docs SET path=? WHERE doc_id=?", (path, doc_id))

    def lexical_rows_in(self, collections: Sequence[str]) -> np.ndarray:
        """Which rows of the lexical index (``lexical()``'s ids) hold chunks of ``collections``: a bool mask."""
        _, ids = self.lexical()
        marks = ",".join("?" * len(collections))
        inside = {r[0] for r in self.db().execute(  # a chunk's collection is its document's
            f"SELECT chunk_id FROM chunks JOIN docs USING (doc_id) WHERE docs.collection IN ({marks})", list(collections))}
        return np.fromiter((cid in inside for cid in ids), dtype=bool, count=len(ids))

    def collections(self) -> list[str]:
        """Names of the collections that hold documents, sorted."""
        rows = self.db().execute("SELECT DISTINCT collection FROM docs ORDER BY collection").fetchall()
        return [r[0] for r in rows if r[0]]

    def document_path(self, doc_id: str) -> str | None:
        row = self.db().execute("SELECT path FROM docs WHERE doc_id=?", (doc_id,)).fetchone()
        return row[0] if row else None

    def publish(self, progress: ProgressFn | None = None) -> None:
        """After an ingest's changes: bring the lexical side tables up to date with the chunks."""
        if not self.lexical_is_current() or not self.settings.lexical_dir.exists() or self.lexical_leftovers():
            n = self.rebuild_lexical()
            if progress:
                progress("lexical", n, n)

    def snapshot(self) -> Any:
        """The lexical version answers are read from (None here: the embedded store reloads the files when
        another process rebuilt them; the server store switches whole versions, see ``pinned``)."""
        return None

    def current_snapshot(self) -> Any:
        """``snapshot()``, loaded first if need be: what an answer pins."""
        return None

    @contextmanager
    def pinned(self, snap: Any) -> Iterator[None]:
        """Within the block, this thread reads ``snap`` (from ``snapshot()``) even if a newer version is
        loaded meanwhile: one answer never mixes two versions of the index."""
        yield

    # --- consistency: check and repair -----------------------------------------------------------------
    def lexical_manifest(self) -> dict | None:
        """``chunk_ids.json`` of the lexical index on disk (ids, generations), or None when there is none."""
        f = self.settings.lexical_dir / "chunk_ids.json"
        try:
            return json.loads(f.read_text())
        except (OSError, ValueError):
            return None

    def lexical_leftovers(self) -> list[Path]:
        out = self.settings.lexical_dir
        return [p for p in (out.with_name(out.name + ".tmp"), out.with_name(out.name + ".old")) if p.exists()]

    def lexical_is_current(self) -> bool:
        m = self.lexical_manifest()
        return (m is not None and str(m.get("state_generation")) == self.state_generation()
                and (self.settings.lexical_dir / "acronyms.json").is_file())

    def check(self, vectors_exact: bool = True) -> dict[str, Any]:
        """The three counts (chunks in the state, vectors in the store, chunks in the lexical index) and every
        mismatch found, as readable lines in ``problems`` (empty: consistent)."""
        chunks = self.count_chunks()
        flagged = self.count_chunks(with_vector=True)
        stored = self.vector_count()
        manifest = self.lexical_manifest()
        lexical = len(manifest["ids"]) if manifest else 0
        problems: list[str] = []
        if stored != flagged:
            problems.append(f"the vector store holds {stored} vectors but the state records {flagged}")
        elif vectors_exact and flagged:
            db_ids = {r[0] for r in self.db().execute("SELECT chunk_id FROM chunks WHERE has_vector=1")}
            if set(self._vector_ids()) != db_ids:
                problems.append("the vector store's ids differ from the state's")
        if flagged < chunks:
            problems.append(f"{chunks - flagged} chunks have no vector yet")
        if manifest is None:
            problems.append("there is no lexical index")
        elif not self.lexical_is_current():
            problems.append(f"the lexical index ({lexical} chunks) was built from an older state")
        elif lexical != chunks:
            problems.append(f"the lexical index holds {lexical} chunks, the state {chunks}")
        for p in self.lexical_leftovers():
            problems.append(f"leftover temporary directory {p}")
        return {"documents": self.count_docs(), "chunks": chunks, "vectors": stored, "lexical": lexical,
                "problems": problems}

    def _vector_ids(self) -> list[str]:
        if self.vector_count() == 0:
            return []
        col = self.vectorstore._collection
        ids: list[str] = []
        offset = 0
        while True:
            got = col.get(include=[], limit=5000, offset=offset)["ids"]
            ids += got
            if len(got) < 5000:
                return ids
            offset += len(got)

    def repair(self, full: bool = True, vectors: bool = True, progress: ProgressFn | None = None) -> list[str]:
        """Bring the vector store and the lexical index back in step with the state (the source of truth); the
        caller holds the writer lock. ``full`` compares the vector ids one by one (after a killed writer), else
        only the counts, going one by one when they differ. Returns what was done, as readable lines."""
        done: list[str] = []
        for p in self.lexical_leftovers():
            shutil.rmtree(p, ignore_errors=True)
            done.append(f"removed leftover {p.name}")
        flagged = self.count_chunks(with_vector=True)
        if full or self.vector_count() != flagged:
            db_ids = {r[0] for r in self.db().execute("SELECT chunk_id FROM chunks")}
            have = set(self._vector_ids())
            orphans = sorted(have - db_ids)
            if orphans:
                self._delete_vectors(orphans)
                done.append(f"deleted {len(orphans)} vectors of chunks no longer in the state")
            lost = [r[0] for r in self.db().execute("SELECT chunk_id FROM chunks WHERE has_vector=1")
                    if r[0] not in have]
            if lost:
                self.db().executemany("UPDATE chunks SET has_vector=0 WHERE chunk_id=?", [(c,) for c in lost])
                done.append(f"{len(lost)} chunks marked to be embedded again (their vectors were missing)")
        if not self.lexical_is_current() or len((self.lexical_manifest() or {}).get("ids", [])) != self.count_chunks():
            n = self.rebuild_lexical()
            done.append(f"rebuilt the lexical index ({n} chunks)")
            if progress:
                progress("lexical", n, n)
        if vectors and self.count_chunks(with_vector=False):
            from_cache, encoded = self.fill_vectors(progress)
            done.append(f"added {from_cache + encoded} missing vectors")
        return done

    # --- status -------------------------------------------------------------------------------------
    def stats(self, collections: Sequence[str] | None = None) -> IndexStats:
        """The counts of the index, or of its chunks in ``collections`` only (what a scoped key may see)."""
        where, args = "", list(collections or [])
        if collections:
            where = f" WHERE json_extract(body, '$.collection') IN ({','.join('?' * len(args))})"

        def count_by(field: str) -> dict[str, int]:
            return dict(self.db().execute(f"SELECT json_extract(body, '$.{field}'), COUNT(*) FROM chunks{where} "
                                          "GROUP BY 1", args))

        by_col, by_type = count_by("collection"), count_by("doc_type")
        store = self.settings.chroma_url or str(self.settings.chroma_dir)
        if not collections:
            return IndexStats(documents=self.count_docs(), chunks=self.count_chunks(), vectors=self.count_chunks(True),
                              by_collection=dict(by_col), by_doc_type=dict(by_type),
                              model=self.settings.embedding_model, store=store, lexical_chunks=len(self.lexical()[1]))
        docs, chunks, vectors = self.db().execute(f"SELECT COUNT(DISTINCT doc_id), COUNT(*), COALESCE(SUM(has_vector), "
                                                  f"0) FROM chunks{where}", args).fetchone()
        return IndexStats(documents=docs, chunks=chunks, vectors=vectors, by_collection=dict(by_col),
                          by_doc_type=dict(by_type), model=self.settings.embedding_model, store=store,
                          lexical_chunks=int(self.lexical_rows_in(collections).sum()))


_STORES: dict[tuple, Store] = {}
_STORES_LOCK = threading.Lock()


def get_store(settings: Settings) -> Store:
    key = (str(settings.data_dir), settings.chroma_url, settings.collection_name, settings.embedding_model)
    with _STORES_LOCK:
        if key not in _STORES:
            if settings.chroma_url:  # server mode: everything lives in the Chroma server (qa_bot/server_store.py)
                from .server_store import ServerStore

                _STORES[key] = ServerStore(settings)
            else:
                _STORES[key] = Store(settings)
        return _STORES[key]


def require_index(settings: Settings) -> Store:
    where = f"on the Chroma server {settings.chroma_url}" if settings.chroma_url else f"in {settings.data_dir}"
    if not settings.chroma_url and not settings.state_db.is_file():
        raise IndexMissingError(f"no index {where}: run `qa-bot ingest` (or `make run`) first")
    store = get_store(settings)
    if not store.exists():
        raise IndexMissingError(f"no index {where}: run `qa-bot ingest` first")
    if store.count_chunks() == 0:
        raise IndexMissingError(f"the index {where} is empty: run `qa-bot ingest` first")
    return store


# --- one writer at a time --------------------------------------------------------------------------
def _lock_holder(text: str) -> str:
    parts = text.split(None, 1)
    if not parts:
        return "another process"
    return f"PID {parts[0]}" + (f" ({parts[1].strip()})" if len(parts) > 1 and parts[1].strip() else "")


def writer_running(settings: Settings) -> bool:
    """Whether another live process holds the embedded index's writer lock now (read from the PID the lock file
    holds while a writer writes; the lock itself is not touched, so a starting ingest is never refused for it)."""
    try:
        pid = int((settings.data_dir / LOCK_FILE).read_text(encoding="utf-8", errors="replace").split()[0])
    except (OSError, ValueError, IndexError):
        return False
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False  # a killed writer's PID: the next ingest repairs
    except PermissionError:
        return True
    return True


@contextmanager
def writer_lock(settings: Settings, what: str = "ingest", wait: bool = False) -> Iterator[bool]:
    """Hold the index's single-writer lock (``data_dir/ingest.lock``, an flock the kernel releases when its process
    dies, so a killed writer's lock is never stale). The file holds the writer's PID while it writes and is emptied
    on a clean exit: yields True when the previous writer was killed (its PID is still there), so the caller
    repairs the index. Raises ``IndexBusyError`` naming the running writer, unless ``wait``."""
    if settings.chroma_url:  # a lock record in the server's metadata (holder, expiry), not a local file
        from .server_store import server_writer_lock

        with server_writer_lock(settings, what, wait=wait) as previous_killed:
            yield previous_killed
        return
    import fcntl

    path = settings.data_dir / LOCK_FILE
    try:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as e:
        raise IndexMissingError(f"cannot write to the index in {settings.data_dir}: {e.strerror or e}") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _lock_holder(os.pread(fd, 200, 0).decode("utf-8", "replace"))
            if not wait:
                raise IndexBusyError(f"another writer ({holder}) is updating the index in {settings.data_dir}; "
                                     "wait until it finishes (or use --wait)") from None
            fcntl.flock(fd, fcntl.LOCK_EX)
        previous = os.pread(fd, 200, 0).decode("utf-8", "replace").strip()
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()} qa-bot {what}\n".encode(), 0)
        os.fsync(fd)
        clean = False
        try:
            yield bool(previous)
            clean = True
        finally:
            if clean:
                os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


# --- ingest -------------------------------------------------------------------------------------------
def _under(path: str | None, roots: list[Path]) -> bool:
    if not path:
        return False
    p = Path(path).resolve()
    for r in roots:
        r = r.resolve()
        if p == r or r in p.parents:
            return True
    return False


def _gone(path: str | None) -> bool:
    """The document's recorded file no longer exists (only absolute paths are judged: old relative ones are not)."""
    return bool(path) and os.path.isabs(path) and not os.path.exists(path)


def _one_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[0]}" if text else type(e).__name__


def ingest(paths: Iterable[Path] | None, settings: Settings, progress: ProgressFn | None = None,
           vectors: bool = True, on_error: Callable[[LoadError], None] | None = None,
           on_notice: Callable[[LoadError], None] | None = None, wait: bool = False) -> IngestReport:
    """Incremental, idempotent ingest of ``paths`` (default: ``settings.ingest.corpus``), under the writer lock."""
    with writer_lock(settings, "ingest", wait=wait) as previous_killed:
        return _ingest(paths, settings, progress, vectors, on_error, on_notice, previous_killed)


def _ingest(paths: Iterable[Path] | None, settings: Settings, progress: ProgressFn | None, vectors: bool,
            on_error: Callable[[LoadError], None] | None, on_notice: Callable[[LoadError], None] | None,
            previous_killed: bool) -> IngestReport:
    t0 = time.time()
    roots = [Path(p) for p in (paths or settings.ingest.corpus)]
    store = get_store(settings)
    report = IngestReport()
    if previous_killed:  # the last writer died mid-way: compare the stores id by id before going on
        store.repair(full=True, vectors=False)
    known_docs = store.known_documents()
    seen: set[str] = set()
    failed_files: set[str] = set()
    total = estimate_documents(roots) if progress else None

    def failed(item: LoadError) -> None:
        report.failed.append(item)
        report.per_document.append(failed_report(item))
        failed_files.add(item.path.rsplit(":", 1)[0] if re.search(r":\d+$", item.path) else item.path)
        if on_error:
            on_error(item)

    t_doc = time.perf_counter()  # each document's time: loading (with OCR), chunking, storing
    skipped: set[Path] = set()  # real files behind links out of a folder: what was indexed through one goes
    for item in iter_documents(roots, settings):
        if isinstance(item, SkippedFile):
            skipped.add(Path(item.path).resolve())
            report.notices.append(item)
            if on_notice:
                on_notice(item)
            continue
        if isinstance(item, LoadError):
            failed(item)
            t_doc = time.perf_counter()
            continue
        doc = item
        for note in doc.notices:  # e.g. a scanned page: "page 4 has no text layer …"
            report.notices.append(LoadError(path=doc.path or doc.doc_id, reason=note))
            if on_notice:
                on_notice(report.notices[-1])
        seen.add(doc.doc_id)
        if doc.path:
            doc.path = str(Path(doc.path).resolve())  # where the document is now (moved folders follow)
        try:
            known = known_docs.get(doc.doc_id)
            if known is not None and known[0] == doc.content_hash:
                if known[1] != doc.path:
                    store.set_document_path(doc.doc_id, doc.path)
                n = known[2]
                report.skipped_unchanged += 1
            else:
                chunks = chunk_document(doc, settings).chunks
                store.replace_document(doc, chunks)
                n = len(chunks)
        except Exception as e:  # a document's failure is the document's: one line, the others go on
            failed(LoadError(path=doc.path or doc.doc_id, reason=f"cannot index document {doc.doc_id!r}: {_one_line(e)}"))
            continue
        report.documents += 1
        report.chunks += n
        if has_own_file(doc):
            report.per_document.append(document_report(doc, n, time.perf_counter() - t_doc))
        t_doc = time.perf_counter()
        if progress:
            progress("documents", report.documents + len(report.failed), max(total or 0, report.documents))
            progress("chunks", report.chunks, None)
    # documents that were under the ingested roots but are gone now, and documents whose file no longer exists
    # anywhere (a moved or deleted folder); a file that failed keeps its documents
    bad = {Path(f).resolve() for f in failed_files}
    for doc_id, (_, path, _) in known_docs.items():
        if doc_id in seen or (path and Path(path).resolve() in bad):
            continue
        if _under(path, roots) or _gone(path) or (path and Path(path).resolve() in skipped):
            store.remove_document(doc_id)
            report.removed += 1
    store.publish(progress)
    # chunks == vectors == lexical: anything that disagrees (a killed writer, a crash) is repaired before filling
    store.repair(full=False, vectors=False)
    if vectors:
        def vector_error(doc_id: str, e: BaseException) -> None:
            path = store.document_path(doc_id)
            failed(LoadError(path=(path or doc_id),
                             reason=f"cannot embed document {doc_id!r} (left for the next ingest): {_one_line(e)}"))

        try:
            report.from_cache, report.embedded = store.fill_vectors(progress, on_error=vector_error)
        except StoreUnavailableError:
            raise
        except Exception as e:  # the text and lexical index stay usable; the next ingest retries the vectors
            failed(LoadError(path=str(settings.chroma_url or settings.chroma_dir),
                             reason=f"vectors not built: {_one_line(e)}"))
    report.pending_vectors = store.count_chunks(with_vector=False)
    report.seconds = time.time() - t0
    store.meta_set("last_ingest", json.dumps({"time": time.time(),
                                              "report": report.model_dump(mode="json", exclude={"per_document"})}))
    remember_documents(store, report)
    return report


def check_index(settings: Settings, repair: bool = False, wait: bool = False) -> tuple[dict[str, Any], list[str]]:
    """``qa-bot index check``: the counts and problems; with ``repair`` (under the writer lock) fix them first."""
    store = get_store(settings)
    done: list[str] = []
    if repair:
        with writer_lock(settings, "index check --repair", wait=wait):
            done = store.repair(full=True, vectors=True)
    return store.check(), done


def index_status(settings: Settings) -> dict:
    """What the UI sidebar shows: counts, model, store, and vector-filling progress."""
    if not (get_store(settings).exists() if settings.chroma_url else settings.state_db.is_file()):
        return {"ready": False, "documents": 0, "chunks": 0, "vectors": 0, "pending_vectors": 0,
                "model": settings.embedding_model, "store": settings.chroma_url or str(settings.chroma_dir)}
    store = get_store(settings)
    chunks = store.count_chunks()
    vectors = store.count_chunks(True)
    return {"ready": chunks > 0, "documents": store.count_docs(), "chunks": chunks, "vectors": vectors,
            "pending_vectors": chunks - vectors, "model": settings.embedding_model,
            "store": settings.chroma_url or str(settings.chroma_dir),
            "progress": (vectors / chunks) if chunks else None}


_BG: dict[str, threading.Thread] = {}


def start_background_vectors(settings: Settings) -> threading.Thread | None:
    """Fill missing vectors in a daemon thread of this process (the index stays usable meanwhile)."""
    store = get_store(settings)
    if store.count_chunks(with_vector=False) == 0:
        return None
    key = str(settings.data_dir)
    t = _BG.get(key)
    if t is not None and t.is_alive():
        return t
    def fill() -> None:
        try:
            with writer_lock(settings, "background vectors"):
                store.fill_vectors()
        except IndexBusyError:  # an ingest is running: it fills the vectors itself
            pass
        except Exception as e:  # a read-only data dir, a store gone: the chat still works on what is there
            import logging

            logging.getLogger("qa_bot.index").warning("background vectors stopped: %s", _one_line(e))

    t = threading.Thread(target=fill, name="qa-bot-vectors", daemon=True)
    _BG[key] = t
    t.start()
    return t
