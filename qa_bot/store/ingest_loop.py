"""The ingest loop: load → chunk → store, incremental and idempotent, under the writer lock; and what the front
ends ask of it (``qa-bot index check``, the sidebar's status, vectors filled in the background)."""

from __future__ import annotations

import json
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from ..chunk import chunk_document
from ..errors import IndexBusyError, StoreUnavailableError
from ..ingest_report import document_report, failed_report, has_own_file, remember_documents
from ..load import estimate_documents, iter_documents
from ..settings import Settings
from ..types import IngestReport, LoadError, SkippedFile
from .locks import writer_lock
from .protocol import ProgressFn
from .registry import get_store


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
            logging.getLogger(__name__).warning("background vectors stopped: %s", _one_line(e))

    t = threading.Thread(target=fill, name="qa-bot-vectors", daemon=True)
    _BG[key] = t
    t.start()
    return t
