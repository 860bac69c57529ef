"""The embedded store: a SQLite state DB beside an embedded Chroma collection and a bm25s index, in one data dir.

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
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from ..embed import EmbeddingCache, get_embedder
from ..errors import StoreUnavailableError
from ..heap import settle_heap
from ..settings import Settings
from ..types import Chunk, IndexStats, SourceDocument
from .base import BaseStore
from .protocol import ProgressFn
from .tables import TABLES_VERSION, chunk_metadata, side_tables

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


class EmbeddedStore(BaseStore):
    """The index of one data directory: state DB + Chroma collection + bm25s index."""

    def __init__(self, settings: Settings):
        super().__init__(settings)
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        with self.db() as db:
            db.executescript(SCHEMA)
        self._lexical = None
        self._lexical_gen = None
        self._lexical_files: dict[str, tuple] = {}  # file name → (lexical generation, content)

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
            got = self.collection.get(ids=list(vectors_of), include=["embeddings"])
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

    # --- Chroma ------------------------------------------------------------------------------------
    def vector_count(self) -> int:
        try:
            return self.collection.count()
        except StoreUnavailableError:
            raise
        except Exception:
            return 0

    # --- lexical (bm25s) ----------------------------------------------------------------------------
    def rebuild_lexical(self) -> int:
        import bm25s

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
                                                      "tables": TABLES_VERSION, "ids": ids}))
        boiler_json, acr_json = side_tables(chunks)
        (tmp / "boilerplate.json").write_text(boiler_json)
        (tmp / "acronyms.json").write_text(acr_json)
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

    def titles(self, collections: Sequence[str] | None = None) -> list[str]:
        if collections is None:
            rows = self.db().execute("SELECT title FROM docs").fetchall()
        else:
            marks = ",".join("?" * len(collections))
            rows = self.db().execute(f"SELECT title FROM docs WHERE collection IN ({marks})",
                                     list(collections)).fetchall()
        return [t for (t,) in rows if t]

    def acronyms(self) -> dict[str, str]:
        """Abbreviations the indexed documents define (short form → long form), see ``qa_bot.acronyms``."""
        return self._lexical_json("acronyms.json", dict, {})

    def dense_search_many(self, query_vectors: list[list[float]], k: int,
                          where: dict | None = None) -> list[list[tuple[str, float]]]:
        """``dense_search`` of several vectors in one query (one round trip to a Chroma server)."""
        res = self.collection.query(query_embeddings=query_vectors, n_results=k, where=where or None,
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
            self.collection.delete(ids=ids[i:i + 1000])

    def fill_vectors(self, progress: ProgressFn | None = None, batch: int = 256,
                     stop: threading.Event | None = None,
                     on_error: Callable[[str, BaseException], None] | None = None) -> tuple[int, int]:
        """Embed every chunk without a vector (cache first). Returns (from_cache, encoded).

        A batch that fails is retried document by document: a document whose chunks cannot be embedded is
        reported through ``on_error(doc_id, exception)`` and left pending (the next ingest retries it); the other
        documents get their vectors. When every document of a batch fails the cause is not a document (the store,
        the encoder): the exception propagates."""
        # order by chunk_id so a resumed run walks the same way; cached ones are cheap either way
        pending = [r[0] for r in self.db().execute("SELECT chunk_id FROM chunks WHERE has_vector=0 ORDER BY chunk_id")]
        total = len(pending)
        if total == 0:
            return 0, 0
        cache = EmbeddingCache(self.settings)
        embedder = get_embedder(self.settings.embedding_model, None)
        col = self.collection
        done = from_cache = encoded = 0

        def embed(chunks: list[Chunk]) -> tuple[int, int]:
            matrix, n_missing = self._vectors(chunks, cache, embedder)
            col.upsert(ids=[c.chunk_id for c in chunks], embeddings=matrix,
                       metadatas=[chunk_metadata(c) for c in chunks], documents=[c.text for c in chunks])
            self.db().executemany("UPDATE chunks SET has_vector=1 WHERE chunk_id=? AND content_hash=?",
                                  [(c.chunk_id, c.content_hash) for c in chunks])
            return len(chunks) - n_missing, n_missing

        i = 0
        while i < total:
            if stop is not None and stop.is_set():
                break
            ids = pending[i:i + batch]
            found = self.get_chunks(ids)  # ids removed meanwhile drop out
            if not all(cache.has(c.content_hash) for c in found.values()):
                # encoding is the slow part (minutes per thousand chunks on 2 cores): write each encoder batch as it
                # is made, so that progress moves and an interrupted ingest loses one batch of work, not ``batch``
                ids = ids[:max(1, self.settings.embedding_batch_size)]
                found = {x: found[x] for x in ids if x in found}
            i += len(ids)
            chunks = list(found.values())
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
        # (side tables of an older version are rebuilt: what they hold changed)
        return (m is not None and str(m.get("state_generation")) == self.state_generation()
                and m.get("tables", 1) == TABLES_VERSION and (self.settings.lexical_dir / "acronyms.json").is_file())

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
        elif manifest.get("tables", 1) != TABLES_VERSION:
            problems.append(f"the lexical index's side tables are of an older version ({manifest.get('tables', 1)}, "
                            f"now {TABLES_VERSION}): `qa-bot ingest` rebuilds them")
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
        col = self.collection
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
