"""Which store a process uses: one per (data dir, Chroma server, collection, model), shared by its threads."""

from __future__ import annotations

import threading

from ..errors import IndexMissingError
from ..settings import Settings
from .embedded import EmbeddedStore
from .protocol import StoreWriter
from .server import ServerStore

_STORES: dict[tuple, StoreWriter] = {}
_STORES_LOCK = threading.Lock()


def get_store(settings: Settings) -> StoreWriter:
    key = (str(settings.data_dir), settings.chroma_url, settings.collection_name, settings.embedding_model)
    with _STORES_LOCK:
        if key not in _STORES:
            if settings.chroma_url:  # server mode: everything lives in the Chroma server (qa_bot/store/server.py)
                _STORES[key] = ServerStore(settings)
            else:
                _STORES[key] = EmbeddedStore(settings)
        return _STORES[key]


def require_index(settings: Settings) -> StoreWriter:
    where = f"on the Chroma server {settings.chroma_url}" if settings.chroma_url else f"in {settings.data_dir}"
    if not settings.chroma_url and not settings.state_db.is_file():
        raise IndexMissingError(f"no index {where}: run `qa-bot ingest` (or `make run`) first")
    store = get_store(settings)
    if not store.exists():
        raise IndexMissingError(f"no index {where}: run `qa-bot ingest` first")
    if store.count_chunks() == 0:
        raise IndexMissingError(f"the index {where} is empty: run `qa-bot ingest` first")
    return store
