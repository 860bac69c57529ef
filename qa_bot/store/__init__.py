"""Index stage: chunks → a store that keeps them with their vectors (Chroma, dense, cosine) and a lexical index
(bm25s), and the ingest loop that fills it.

* ``protocol``: the interface, ``StoreReader`` (what the stages read) and ``StoreWriter`` (what an ingest writes).
* ``base``: what both stores share (Chroma collection, lexical and dense search, the chunks' vectors).
* ``embedded``: ``EmbeddedStore``, a SQLite state DB (the source of truth) beside embedded Chroma and bm25s files.
* ``server``: ``ServerStore``, everything in a Chroma server (``QA_BOT_CHROMA_URL``); ``snapshot`` and
  ``text_cache``: what a process of server mode keeps of it.
* ``tables``: what both derive from chunks (metadata, publication dates, boilerplate and acronym tables).
* ``locks``: one writer at a time; ``registry``: which store a process uses; ``ingest_loop``: the ingest loop.
"""

from __future__ import annotations

from .ingest_loop import check_index, index_status, ingest, start_background_vectors
from .locks import writer_lock, writer_running
from .protocol import ProgressFn, StoreReader, StoreWriter
from .registry import get_store, require_index

__all__ = ["ProgressFn", "StoreReader", "StoreWriter", "check_index", "get_store", "index_status", "ingest",
           "require_index", "start_background_vectors", "writer_lock", "writer_running"]
