"""Embeddings: sentence-transformers over local weights only, plus an embedding cache keyed by
(model, chunk content hash).

The cache is how a fresh machine answers over the whole corpus within minutes: encoding the ~47k
bundled chunks takes ~40 minutes on 2 CPU cores, so the vectors of the bundled corpus ship in
``corpus/embeddings/<model>.npz`` and ingest only encodes chunks whose hash is not there.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

from .chunk import resolve_model_path
from .heap import settle_heap
from .settings import Settings


def model_key(name: str) -> str:
    """A file-name-safe key for a model setting: the packaged model's name or a local dir's name."""
    return Path(name).name if Path(name).expanduser().is_dir() else name.split("/")[-1]


class Embedder:
    """Lazy SentenceTransformer over a local path; importing it costs 7–12 s, so it happens on first use."""

    def __init__(self, model: str, threads: int | None = None):
        self.model_name = model
        self.path = resolve_model_path(model)
        self.threads = threads
        self._model = None
        self._lock = threading.Lock()

    @property
    def model(self):
        if self._model is None:
            with self._lock:
                if self._model is None:
                    import torch
                    from sentence_transformers import SentenceTransformer

                    if self.threads:
                        torch.set_num_threads(self.threads)
                    self._model = SentenceTransformer(str(self.path), device="cpu", local_files_only=True)
                    settle_heap()  # torch and transformers leave ~400k objects: out of the collector's way
        return self._model

    @property
    def dim(self) -> int:
        return int(self.model.get_embedding_dimension() if hasattr(self.model, "get_embedding_dimension")
                   else self.model.get_sentence_embedding_dimension())

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        return self.model.encode(list(texts), batch_size=batch_size, normalize_embeddings=True,
                                 convert_to_numpy=True, show_progress_bar=False).astype(np.float32)

    def embed_query(self, text: str) -> list[float]:
        return self.encode([text])[0].tolist()


@lru_cache(maxsize=4)
def get_embedder(model: str, threads: int | None = None) -> Embedder:
    return Embedder(model, threads)


class LangchainEmbeddings:
    """langchain-core ``Embeddings`` interface over our Embedder (used by langchain-chroma)."""

    def __init__(self, embedder: Embedder, batch_size: int = 64):
        self.embedder = embedder
        self.batch_size = batch_size

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embedder.encode(texts, self.batch_size).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embedder.embed_query(text)


class EmbeddingCache:
    """hash → vector, read from shipped ``.npz`` files and the data dir's own cache."""

    def __init__(self, settings: Settings):
        self.key = model_key(settings.embedding_model)
        self.dirs = [*settings.embedding_cache, settings.data_dir / "embeddings"]
        self.local = settings.data_dir / "embeddings" / f"{self.key}.npz"
        self._index: dict[str, tuple[int, int]] = {}
        self._arrays: list[np.ndarray] = []
        self._new: dict[str, np.ndarray] = {}
        for d in self.dirs:
            f = Path(d) / f"{self.key}.npz"
            if f.is_file():
                self._add_file(f)

    def _add_file(self, f: Path) -> None:
        try:
            with np.load(f, allow_pickle=False) as z:
                hashes, vecs = z["hashes"], z["vectors"]
        except (OSError, ValueError, KeyError):
            return  # a damaged cache is only a cache: everything missing is re-encoded
        k = len(self._arrays)
        self._arrays.append(vecs)
        for i, h in enumerate(hashes.tolist()):
            self._index.setdefault(h, (k, i))

    def __len__(self) -> int:
        return len(self._index) + len(self._new)

    def has(self, h: str) -> bool:
        return h in self._new or h in self._index

    def get(self, h: str) -> np.ndarray | None:
        if h in self._new:
            return self._new[h]
        loc = self._index.get(h)
        if loc is None:
            return None
        return self._arrays[loc[0]][loc[1]].astype(np.float32)

    def put(self, hashes: Sequence[str], vectors: np.ndarray) -> None:
        for h, v in zip(hashes, vectors):
            self._new[h] = v.astype(np.float16)

    def save(self) -> None:
        """Persist newly encoded vectors to the data dir's cache (atomic replace)."""
        if not self._new:
            return
        self.local.parent.mkdir(parents=True, exist_ok=True)
        old_h: list[str] = []
        old_v: list[np.ndarray] = []
        if self.local.is_file():
            try:
                with np.load(self.local, allow_pickle=False) as z:
                    old_h, old_v = z["hashes"].tolist(), [z["vectors"]]
            except (OSError, ValueError, KeyError):
                pass
        hashes = np.array(old_h + list(self._new), dtype="U32")
        vecs = np.concatenate(old_v + [np.stack(list(self._new.values())).astype(np.float16)])
        write_cache_file(self.local, hashes.tolist(), vecs, compress=False)
        self._add_file(self.local)
        self._new.clear()


def write_cache_file(path: Path, hashes: list[str], vectors: np.ndarray, compress: bool = True) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.stem + ".tmp.npz")
    save = np.savez_compressed if compress else np.savez
    save(tmp, hashes=np.array(hashes, dtype="U32"), vectors=vectors.astype(np.float16))
    os.replace(tmp, path)
