"""Build the shipped embedding cache of the bundled corpus (maintainers; resumable).

    python corpus/build_embedding_cache.py [--model all-MiniLM-L6-v2]

Loads and chunks ``corpus/`` exactly as ingest does, encodes every chunk whose content hash is not yet
in ``corpus/embeddings/<model>.npz`` (longest first, so batches pad little) and checkpoints as it goes.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa_bot.chunk import chunk_document  # noqa: E402
from qa_bot.embed import get_embedder, model_key, write_cache_file  # noqa: E402
from qa_bot.load import load  # noqa: E402
from qa_bot.settings import Settings  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="all-MiniLM-L6-v2")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--checkpoint", type=int, default=2048)
    args = ap.parse_args()
    settings = Settings(embedding_model=args.model)
    out = ROOT / "corpus" / "embeddings" / f"{model_key(args.model)}.npz"
    have_h: list[str] = []
    have_v: list[np.ndarray] = []
    if out.is_file():
        with np.load(out) as z:
            have_h, have_v = z["hashes"].tolist(), [z["vectors"]]
    known = set(have_h)
    res = load([ROOT / "corpus"], settings)
    todo: dict[str, str] = {}
    for doc in res.documents:
        for c in chunk_document(doc, settings).chunks:
            if c.content_hash not in known:
                todo[c.content_hash] = c.embed_text
    print(f"{len(known)} cached, {len(todo)} to encode", flush=True)
    items = sorted(todo.items(), key=lambda kv: -len(kv[1]))
    emb = get_embedder(args.model, args.threads)
    t0 = time.time()
    done = 0
    for i in range(0, len(items), args.checkpoint):
        part = items[i:i + args.checkpoint]
        vecs = emb.encode([t for _, t in part], batch_size=32)
        have_h += [h for h, _ in part]
        have_v.append(vecs.astype(np.float16))
        write_cache_file(out, have_h, np.concatenate(have_v))
        done += len(part)
        rate = done / (time.time() - t0)
        print(f"{done}/{len(items)} encoded, {rate:.1f} chunks/s, ETA {(len(items) - done) / rate / 60:.1f} min",
              flush=True)
    print(f"cache: {out} ({len(have_h)} vectors)")


if __name__ == "__main__":
    main()
