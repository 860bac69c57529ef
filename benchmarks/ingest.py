"""Ingest benchmark: raw SentenceTransformer.encode chunks/s vs the whole pipeline's chunks/s on the same
chunks, and time to first searchable answer on a fresh data dir.

    .venv/bin/python benchmarks/ingest.py [--docs 300] [--corpus corpus]

The pipeline is measured twice: with the embedding cache disabled (everything encoded: overhead of
load + chunk + Chroma + bm25s + state DB over raw encoding) and with the shipped cache (what a fresh
install does).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa_bot.chunk import chunk_document  # noqa: E402
from qa_bot.embed import get_embedder  # noqa: E402
from qa_bot.store import ingest  # noqa: E402
from qa_bot.load import load  # noqa: E402
from qa_bot.settings import Settings  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=300, help="documents sampled from the corpus")
    ap.add_argument("--corpus", type=Path, default=ROOT / "corpus")
    ap.add_argument("--full", action="store_true", help="also time a fresh ingest of the whole corpus with the cache")
    args = ap.parse_args()
    files = sorted(p for p in args.corpus.rglob("*.md") if not p.name.lower().startswith(("readme", "source_readme")))
    random.Random(0).shuffle(files)
    tmp = Path(tempfile.mkdtemp(prefix="qa-bench-"))
    sample = tmp / "corpus"
    sample.mkdir()
    for f in files[: args.docs]:
        shutil.copy(f, sample / f.name)
    settings = Settings(data_dir=tmp / "data-nocache", corpus=[sample], embedding_cache=[tmp / "none"])
    docs = load([sample], settings).documents
    chunks = [c for d in docs for c in chunk_document(d, settings).chunks]
    texts = [c.embed_text for c in chunks]
    emb = get_embedder(settings.embedding_model)
    emb.encode(texts[:16])  # warm up (model load is not throughput)
    t = time.perf_counter()
    emb.encode(texts, settings.embedding_batch_size)
    raw = len(texts) / (time.perf_counter() - t)
    print(f"sample: {len(docs)} documents, {len(chunks)} chunks")
    print(f"raw SentenceTransformer.encode: {raw:.1f} chunks/s")

    t = time.perf_counter()
    rep = ingest(None, settings)
    dt = time.perf_counter() - t
    pipe = rep.chunks / dt
    print(f"pipeline, no cache (load+chunk+encode+Chroma+bm25s+state): {pipe:.1f} chunks/s "
          f"(overhead {100 * (raw / pipe - 1):.0f}% over raw encoding)")

    cached = Settings(data_dir=tmp / "data-cache", corpus=[sample])
    t = time.perf_counter()
    rep = ingest(None, cached)
    dt = time.perf_counter() - t
    print(f"pipeline, shipped cache: {rep.chunks / dt:.1f} chunks/s ({rep.from_cache} from cache, {rep.embedded} encoded)")

    if args.full:
        full = Settings(data_dir=tmp / "data-full", corpus=[args.corpus])
        first: dict[str, float] = {}
        t0 = time.perf_counter()

        def progress(phase: str, done: int, total: int | None) -> None:
            first.setdefault(phase, time.perf_counter() - t0)

        rep = ingest(None, full, progress=progress, vectors=False)
        lexical_ready = time.perf_counter() - t0
        from qa_bot.engine import answer

        a = answer("What are the symptoms of Noonan syndrome?", [], full)
        print(f"full corpus: text + lexical index ready in {lexical_ready:.1f}s ({rep.documents} documents, "
              f"{rep.chunks} chunks); first answer (lexical only) after {time.perf_counter() - t0:.1f}s, "
              f"{len(a.citations)} citations")
        rep2 = ingest(None, full)
        total = time.perf_counter() - t0
        print(f"full corpus: all vectors in after {total:.1f}s ({rep2.from_cache} from cache, {rep2.embedded} encoded)")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
