"""The store interface: what the stages read (``StoreReader``) and what an ingest writes (``StoreWriter``).

Two implementations: ``EmbeddedStore`` (``qa_bot.store.embedded``: a SQLite state DB, the source of truth, beside an
embedded Chroma collection and a bm25s index on disk) and ``ServerStore`` (``qa_bot.store.server``: everything in a
Chroma server, each process holding an immutable ``Snapshot`` of the published version). Both derive from
``BaseStore`` (``qa_bot.store.base``) for what they share. ``get_store(settings)`` picks one.

A reader never sees half an ingest: the embedded store rereads the lexical files when another process rebuilt
them; the server store switches whole versions, and ``pinned(snapshot())`` keeps one answer on one version.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol, runtime_checkable

import numpy as np

from ..settings import Settings
from ..types import Chunk, IndexStats, SourceDocument

ProgressFn = Callable[[str, int, int | None], None]  # (phase, done, total)


@runtime_checkable
class StoreReader(Protocol):
    """What retrieval, composition and the front ends read of an index."""

    settings: Settings

    def exists(self) -> bool:
        """An index has been built here (it may be empty)."""

    def count_chunks(self, with_vector: bool | None = None) -> int:
        """Chunks stored (only those with, or without, a vector when ``with_vector`` is given)."""

    def count_docs(self) -> int:
        """Documents stored."""

    def vector_count(self) -> int:
        """Chunks that dense search can find (0: answer from the lexical index alone)."""

    def state_generation(self) -> str:
        """A label that changes with every change of the chunks (the embedded state generation, the server version)."""

    def meta_get(self, key: str) -> str | None:
        """A small record kept with the index (``last_ingest``, the ingest's per-document report)."""

    def get_chunks(self, ids: Sequence[str]) -> dict[str, Chunk]:
        """The chunks of ``ids`` that exist (in the version read)."""

    def chunks_and_vectors(self, ids: Sequence[str],
                           vectors_of: Sequence[str]) -> tuple[dict[str, Chunk], dict[str, np.ndarray]]:
        """``get_chunks(ids)`` and the stored vectors of ``vectors_of`` (float32)."""

    def doc_chunks(self, doc_id: str) -> list[Chunk]:
        """A document's chunks in text order."""

    def docs_chunks_and_vectors(self, doc_ids: Sequence[str]
                                ) -> tuple[dict[str, list[Chunk]], dict[str, np.ndarray]]:
        """``doc_chunks`` of several documents, and the vectors of their chunks."""

    def prefetch_lead_documents(self, rows: Sequence[int], limit: int = 2) -> None:
        """A hint: the guidelines of these lexical rows are likely to be read whole next."""

    def lexical(self) -> tuple[Any, list[str]]:
        """(bm25s retriever or None, the chunk id of each of its rows)."""

    def lexical_rows_in(self, collections: Sequence[str]) -> np.ndarray:
        """Which rows of ``lexical()`` hold chunks of ``collections``: a bool mask."""

    def lexical_search(self, query: str, k: int) -> list[tuple[str, float]]:
        """Top-k (chunk id, BM25 score)."""

    def dense_search(self, query_vector: list[float], k: int, where: dict | None = None) -> list[tuple[str, float]]:
        """Top-k (chunk id, cosine)."""

    def dense_search_many(self, query_vectors: list[list[float]], k: int,
                          where: dict | None = None) -> list[list[tuple[str, float]]]:
        """``dense_search`` of several vectors in one query."""

    def boilerplate(self) -> frozenset[str]:
        """Hashes of sentence templates repeated across many documents (``tables.sentence_template``)."""

    def acronyms(self) -> dict[str, str]:
        """Abbreviations the indexed documents define (short form → long form)."""

    def titles(self, collections: Sequence[str] | None = None) -> list[str]:
        """The title of every indexed document (of ``collections``; None: all)."""

    def collections(self) -> list[str]:
        """Names of the collections that hold documents, sorted."""

    def document_path(self, doc_id: str) -> str | None:
        """The file a document was read from."""

    def snapshot(self) -> Any:
        """The version answers are read from now (None when the store has no versions)."""

    def current_snapshot(self) -> Any:
        """``snapshot()``, loaded first if need be: what an answer pins."""

    def pinned(self, snap: Any) -> AbstractContextManager[None]:
        """Within the block, this thread reads ``snap`` even if a newer version is loaded meanwhile."""

    def stats(self, collections: Sequence[str] | None = None) -> IndexStats:
        """The counts of the index, or of its chunks in ``collections`` only."""


@runtime_checkable
class StoreWriter(StoreReader, Protocol):
    """What the ingest loop (``qa_bot.store.ingest``) and ``qa-bot index check`` need, under the writer lock
    (``qa_bot.store.locks``)."""

    def meta_set(self, key: str, value: str) -> None:
        """Keep a small record with the index."""

    def known_documents(self) -> dict[str, tuple[str, str | None, int]]:
        """doc_id → (content hash, path, number of chunks) of every indexed document."""

    def set_document_path(self, doc_id: str, path: str | None) -> None:
        """A document's file moved (same content)."""

    def replace_document(self, doc: SourceDocument, chunks: list[Chunk]) -> None:
        """Store a new or changed document with its chunks (the old chunks go)."""

    def remove_document(self, doc_id: str) -> None:
        """Forget a document and its chunks."""

    def fill_vectors(self, progress: ProgressFn | None = None, batch: int = 256, stop: Any = None,
                     on_error: Callable[[str, BaseException], None] | None = None) -> tuple[int, int]:
        """Vectors of the chunks that have none: (from the embedding cache, encoded)."""

    def publish(self, progress: ProgressFn | None = None) -> None:
        """Make the changes of this ingest what readers see (lexical index and side tables included)."""

    def rebuild_lexical(self) -> int:
        """Rebuild the lexical index and side tables from every chunk; returns the number of chunks."""

    def check(self, vectors_exact: bool = True) -> dict[str, Any]:
        """The counts and every inconsistency found, as readable lines in ``problems``."""

    def repair(self, full: bool = True, vectors: bool = True, progress: ProgressFn | None = None) -> list[str]:
        """Bring the stores back in step after a killed writer; returns what was done."""


__all__ = ["ProgressFn", "StoreReader", "StoreWriter"]
