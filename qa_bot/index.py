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
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any
from pathlib import Path
from urllib.parse import urlparse

import numpy as np

from .chunk import chunk_document
from .errors import IndexMissingError, StoreUnavailableError
from .load import estimate_documents, iter_documents
from .settings import Settings
from .types import Chunk, IndexStats, IngestReport, LoadError, SourceDocument

SCHEMA = """
CREATE TABLE IF NOT EXISTS docs (doc_id TEXT PRIMARY KEY, content_hash TEXT, path TEXT, collection TEXT,
    doc_type TEXT, title TEXT, n_chunks INTEGER, references_json TEXT, updated REAL);
CREATE TABLE IF NOT EXISTS chunks (chunk_id TEXT PRIMARY KEY, doc_id TEXT, content_hash TEXT, body TEXT,
    has_vector INTEGER DEFAULT 0);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc_id);
CREATE INDEX IF NOT EXISTS chunks_vec ON chunks(has_vector);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
"""

ProgressFn = Callable[[str, int, int | None], None]  # (phase, done, total)


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
    from .chunk import split_sentences

    docs_of: dict[str, set[str]] = {}
    for c in chunks:
        for a, b in split_sentences(c.text):
            docs_of.setdefault(sentence_template(c.text[a:b], c.title), set()).add(c.doc_id)
    return {t for t, docs in docs_of.items() if len(docs) >= min_docs}


# --- stores -----------------------------------------------------------------------------------------
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

    def count_chunks(self, with_vector: bool | None = None) -> int:
        q = "SELECT COUNT(*) FROM chunks" + ("" if with_vector is None else f" WHERE has_vector={int(with_vector)}")
        return self.db().execute(q).fetchone()[0]

    def count_docs(self) -> int:
        return self.db().execute("SELECT COUNT(*) FROM docs").fetchone()[0]

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

    # --- Chroma (through langchain-chroma) ----------------------------------------------------------
    @property
    def vectorstore(self):
        if self._vs is None:
            with self._lock:
                if self._vs is None:
                    from langchain_chroma import Chroma

                    from .embed import LangchainEmbeddings, get_embedder

                    emb = LangchainEmbeddings(get_embedder(self.settings.embedding_model, self.settings.torch_threads))
                    self._vs = Chroma(collection_name=self.settings.collection_name, embedding_function=emb,
                                      client=chroma_client(self.settings),
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

        rows = self.db().execute("SELECT chunk_id, body FROM chunks ORDER BY chunk_id").fetchall()
        ids = [r[0] for r in rows]
        chunks = [Chunk.model_validate_json(r[1]) for r in rows]
        texts = [c.embed_text for c in chunks]
        out = self.settings.lexical_dir
        tmp = out.with_name(out.name + ".tmp")
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        gen = str(time.time())
        if ids:
            tokens = bm25s.tokenize(texts, stopwords="en", stemmer=self._stemmer(), show_progress=False)
            retriever = bm25s.BM25()
            retriever.index(tokens, show_progress=False)
            retriever.save(str(tmp))
        (tmp / "chunk_ids.json").write_text(json.dumps({"generation": gen, "ids": ids}))
        (tmp / "boilerplate.json").write_text(json.dumps(sorted(boilerplate_templates(chunks))))
        (tmp / "acronyms.json").write_text(json.dumps(acronyms.build(c.text for c in chunks if c.doc_type != "comment"),
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
        import bm25s

        retriever, ids = self.lexical()
        if retriever is None or not ids:
            return []
        tokens = bm25s.tokenize([query], stopwords="en", stemmer=self._stemmer(), show_progress=False)
        if not tokens.vocab or not any(len(t) for t in tokens.ids):
            return []
        k = min(k, len(ids))
        try:
            docs, scores = retriever.retrieve(tokens, k=k, show_progress=False, n_threads=1)
        except ValueError:  # no query token in the vocabulary
            return []
        return [(ids[int(d)], float(s)) for d, s in zip(docs[0], scores[0]) if s > 0]

    def dense_search(self, query_vector: list[float], k: int, where: dict | None = None) -> list[tuple[str, float]]:
        """Top-k (chunk id, cosine); the caller checks ``vector_count()`` first (it also decides whether to embed)."""
        res = self.vectorstore._collection.query(query_embeddings=[query_vector], n_results=k, where=where or None,
                                                 include=["distances"])
        return [(cid, 1.0 - float(d)) for cid, d in zip(res["ids"][0], res["distances"][0])]

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
        db.execute("COMMIT")

    def _delete_vectors(self, ids: list[str]) -> None:
        if self.vector_count() == 0:
            return
        for i in range(0, len(ids), 1000):
            self.vectorstore._collection.delete(ids=ids[i:i + 1000])

    def fill_vectors(self, progress: ProgressFn | None = None, batch: int = 256,
                     stop: threading.Event | None = None) -> tuple[int, int]:
        """Embed every chunk without a vector (cache first). Returns (from_cache, encoded)."""
        from .embed import EmbeddingCache, get_embedder

        total = self.count_chunks(with_vector=False)
        if total == 0:
            return 0, 0
        cache = EmbeddingCache(self.settings)
        embedder = get_embedder(self.settings.embedding_model, None)
        col = self.vectorstore._collection
        done = from_cache = encoded = 0
        # order by chunk_id so a resumed run walks the same way; cached ones are cheap either way
        while True:
            if stop is not None and stop.is_set():
                break
            rows = self.db().execute("SELECT chunk_id, body FROM chunks WHERE has_vector=0 LIMIT ?", (batch,)).fetchall()
            if not rows:
                break
            chunks = [Chunk.model_validate_json(b) for _, b in rows]
            vecs: list[np.ndarray | None] = [cache.get(c.content_hash) for c in chunks]
            missing = [i for i, v in enumerate(vecs) if v is None]
            if missing:
                new = embedder.encode([chunks[i].embed_text for i in missing], self.settings.embedding_batch_size)
                cache.put([chunks[i].content_hash for i in missing], new)
                for j, i in enumerate(missing):
                    vecs[i] = new[j]
            matrix = np.stack(vecs).astype(np.float32)
            col.upsert(ids=[c.chunk_id for c in chunks], embeddings=matrix,
                       metadatas=[chunk_metadata(c) for c in chunks], documents=[c.text for c in chunks])
            self.db().executemany("UPDATE chunks SET has_vector=1 WHERE chunk_id=? AND content_hash=?",
                                  [(c.chunk_id, c.content_hash) for c in chunks])
            from_cache += len(chunks) - len(missing)
            encoded += len(missing)
            done += len(chunks)
            if missing and encoded % 2048 < len(missing):
                cache.save()
            if progress:
                progress("vectors", done, total)
        cache.save()
        return from_cache, encoded

    # --- status -------------------------------------------------------------------------------------
    def stats(self) -> IndexStats:
        def count_by(field: str) -> dict[str, int]:
            return dict(self.db().execute(f"SELECT json_extract(body, '$.{field}'), COUNT(*) FROM chunks GROUP BY 1"))

        by_col, by_type = count_by("collection"), count_by("doc_type")
        store = self.settings.chroma_url or str(self.settings.chroma_dir)
        return IndexStats(documents=self.count_docs(), chunks=self.count_chunks(), vectors=self.count_chunks(True),
                          by_collection=dict(by_col), by_doc_type=dict(by_type), model=self.settings.embedding_model,
                          store=store, lexical_chunks=len(self.lexical()[1]))


_STORES: dict[tuple, Store] = {}
_STORES_LOCK = threading.Lock()


def get_store(settings: Settings) -> Store:
    key = (str(settings.data_dir), settings.chroma_url, settings.collection_name, settings.embedding_model)
    with _STORES_LOCK:
        if key not in _STORES:
            _STORES[key] = Store(settings)
        return _STORES[key]


def require_index(settings: Settings) -> Store:
    if not settings.state_db.is_file():
        raise IndexMissingError(f"no index in {settings.data_dir}: run `qa-bot ingest` (or `make run`) first")
    store = get_store(settings)
    if store.count_chunks() == 0:
        raise IndexMissingError(f"the index in {settings.data_dir} is empty: run `qa-bot ingest` first")
    return store


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


def ingest(paths: Iterable[Path] | None, settings: Settings, progress: ProgressFn | None = None,
           vectors: bool = True, on_error: Callable[[LoadError], None] | None = None,
           on_notice: Callable[[LoadError], None] | None = None) -> IngestReport:
    """Incremental, idempotent ingest of ``paths`` (default: ``settings.corpus``)."""
    t0 = time.time()
    roots = [Path(p) for p in (paths or settings.corpus)]
    store = get_store(settings)
    report = IngestReport()
    known = dict(store.db().execute("SELECT doc_id, content_hash FROM docs").fetchall())
    seen: set[str] = set()
    failed_files: set[str] = set()
    total = estimate_documents(roots) if progress else None
    for item in iter_documents(roots, settings):
        if isinstance(item, LoadError):
            report.failed.append(item)
            failed_files.add(item.path.rsplit(":", 1)[0] if re.search(r":\d+$", item.path) else item.path)
            if on_error:
                on_error(item)
            continue
        doc = item
        for note in doc.notices:  # e.g. a scanned page: "page 4 has no text layer …"
            report.notices.append(LoadError(path=doc.path or doc.doc_id, reason=note))
            if on_notice:
                on_notice(report.notices[-1])
        seen.add(doc.doc_id)
        report.documents += 1
        if known.get(doc.doc_id) == doc.content_hash:
            report.skipped_unchanged += 1
            n = store.db().execute("SELECT n_chunks FROM docs WHERE doc_id=?", (doc.doc_id,)).fetchone()[0]
            report.chunks += n
        else:
            chunks = chunk_document(doc, settings).chunks
            store.replace_document(doc, chunks)
            report.chunks += len(chunks)
        if progress:
            progress("documents", report.documents + len(report.failed), max(total or 0, report.documents))
            progress("chunks", report.chunks, None)
    # documents that were under the ingested roots but are gone now (a file that failed keeps its docs)
    failed = {Path(f).resolve() for f in failed_files}
    for doc_id, path in store.db().execute("SELECT doc_id, path FROM docs").fetchall():
        if doc_id not in seen and _under(path, roots) and Path(path).resolve() not in failed:
            store.remove_document(doc_id)
            report.removed += 1
    stale = not (settings.lexical_dir / "acronyms.json").is_file()  # an index built before acronyms were collected
    if report.removed or report.documents - report.skipped_unchanged or not settings.lexical_dir.exists() or stale:
        n = store.rebuild_lexical()
        if progress:
            progress("lexical", n, n)
    if vectors:
        report.from_cache, report.embedded = store.fill_vectors(progress)
    report.pending_vectors = store.count_chunks(with_vector=False)
    report.seconds = time.time() - t0
    store.meta_set("last_ingest", json.dumps({"time": time.time(), "report": report.model_dump(mode="json")}))
    return report


def index_status(settings: Settings) -> dict:
    """What the UI sidebar shows: counts, model, store, and vector-filling progress."""
    if not settings.state_db.is_file():
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
    t = threading.Thread(target=store.fill_vectors, name="qa-bot-vectors", daemon=True)
    _BG[key] = t
    t.start()
    return t
