"""What the embedded and the server store share: the settings, the Chroma client and the chunk collection (read and
written directly; the same collection through langchain-chroma for LangChain callers), lexical search over
``lexical()``, dense search of one vector, and the chunks' vectors (the shipped embedding cache first, the encoder
for the rest). Each store adds its own state (see ``protocol``)."""

from __future__ import annotations

import threading

import numpy as np

from ..embed import LangchainEmbeddings, get_embedder
from ..lexical import tokenize, top_rows
from ..settings import Settings
from ..types import Chunk
from .chroma import chroma_client


class BaseStore:
    """The parts of ``StoreReader``/``StoreWriter`` that do not depend on where the state lives."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._lock = threading.RLock()
        self._vs = None
        self._col_chunks = None
        self._client = None

    # --- Chroma ------------------------------------------------------------------------------------
    def _chroma(self):
        if self._client is None:
            with self._lock:
                if self._client is None:
                    self._client = chroma_client(self.settings)
        return self._client

    def heartbeat(self) -> None:
        """Raises when the Chroma client cannot reach its database (a server that is down)."""
        self._chroma().heartbeat()

    def _collection_metadata(self) -> dict:
        return {"hnsw:space": "cosine", "embedding_model": self.settings.embedding_model}

    @property
    def collection(self):
        """The chunk collection (cosine). The stores read and write it directly: importing langchain-chroma costs
        a process about a second, and its wrapper adds nothing to a query by vector."""
        if self._col_chunks is None:
            with self._lock:
                if self._col_chunks is None:
                    self._col_chunks = self._chroma().get_or_create_collection(
                        self.settings.collection_name, embedding_function=None, metadata=self._collection_metadata())
        return self._col_chunks

    @property
    def vectorstore(self):
        """The chunk collection as a langchain-chroma ``Chroma`` vector store, with the configured encoder as its
        embedding function (for LangChain callers and the plain dense baseline)."""
        if self._vs is None:
            with self._lock:
                if self._vs is None:
                    from langchain_chroma import Chroma

                    emb = LangchainEmbeddings(get_embedder(self.settings.embedding_model, self.settings.torch_threads))
                    self._vs = Chroma(collection_name=self.settings.collection_name, embedding_function=emb,
                                      client=self._chroma(), collection_metadata=self._collection_metadata())
        return self._vs

    # --- search -------------------------------------------------------------------------------------
    @staticmethod
    def _stemmer():
        import Stemmer

        return Stemmer.Stemmer("english")

    def lexical_search(self, query: str, k: int) -> list[tuple[str, float]]:
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

    # --- writing ------------------------------------------------------------------------------------
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

    # provided by each store
    def lexical(self):  # pragma: no cover - abstract
        raise NotImplementedError

    def dense_search_many(self, query_vectors: list[list[float]], k: int,
                          where: dict | None = None) -> list[list[tuple[str, float]]]:  # pragma: no cover - abstract
        raise NotImplementedError
