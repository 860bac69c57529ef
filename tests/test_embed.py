"""Embeddings: the packaged MiniLM over local weights, its LangChain wrapper and the vector cache."""

from __future__ import annotations

import numpy as np
import pytest

from qa_bot.embed import EmbeddingCache, LangchainEmbeddings, get_embedder, model_key
from qa_bot.heap import settle_heap
from qa_bot.settings import Settings


def test_model_key_is_a_file_name(tmp_path):
    assert model_key("sentence-transformers/all-MiniLM-L6-v2") == "all-MiniLM-L6-v2"
    (tmp_path / "my-model").mkdir()
    assert model_key(str(tmp_path / "my-model")) == "my-model"


@pytest.mark.slow
def test_vectors_are_normalised_and_meaningful():
    emb = get_embedder(Settings().embedding_model)
    v = emb.encode(["How is gout treated?", "Treatment of gout flares", "Cost of a train ticket"])
    assert v.shape == (3, emb.dim) and v.dtype == np.float32
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-4)
    assert v[0] @ v[1] > v[0] @ v[2]
    assert emb.encode([]).shape == (0, 384)
    lc = LangchainEmbeddings(emb, batch_size=2)
    assert np.allclose(lc.embed_query("How is gout treated?"), v[0], atol=1e-5)
    assert np.allclose(lc.embed_documents(["How is gout treated?", "Treatment of gout flares"]), v[:2], atol=1e-5)


def test_the_cache_keeps_what_it_was_given_and_survives_a_damaged_file(tmp_path):
    settings = Settings(data_dir=tmp_path, embedding_cache=[])
    cache = EmbeddingCache(settings)
    vecs = np.eye(3, 384, dtype=np.float32)
    cache.put(["a", "b", "c"], vecs)
    cache.save()
    again = EmbeddingCache(settings)
    assert len(again) == 3 and np.allclose(again.get("b"), vecs[1], atol=1e-3) and again.get("zzz") is None
    cache.local.write_bytes(b"not an npz")
    assert len(EmbeddingCache(settings)) == 0  # a damaged cache is only a cache: re-encoded, not an error


def test_settle_heap_freezes_what_is_alive():
    import gc

    ms = settle_heap()
    assert ms >= 0 and gc.get_freeze_count() > 0
    gc.unfreeze()
