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
    ap.add_argument("--checkpoint", type=int, default=1024)
    ap.add_argument("--also-from", type=Path, nargs="*", default=[],
                    help="other caches (e.g. a data dir's embeddings/*.npz being filled by an ingest) to merge as they grow")
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
    emb = get_embedder(args.model, args.threads)
    t0 = time.time()
    done = 0

    def merge_others() -> int:
        got = 0
        for f in args.also_from:
            try:
                with np.load(f) as z:
                    hs, vs = z["hashes"].tolist(), z["vectors"]
            except (OSError, ValueError, KeyError):
                continue
            keep = [i for i, h in enumerate(hs) if h in todo]
            if keep:
                have_h.extend(hs[i] for i in keep)
                have_v.append(vs[keep].astype(np.float16))
                for i in keep:
                    del todo[hs[i]]
                got += len(keep)
        return got

    while todo:
        merged = merge_others()
        items = sorted(todo.items(), key=lambda kv: -len(kv[1]))[: args.checkpoint]
        if not items:
            break
        vecs = emb.encode([t for _, t in items], batch_size=32)
        have_h += [h for h, _ in items]
        have_v.append(vecs.astype(np.float16))
        for h, _ in items:
            del todo[h]
        write_cache_file(out, have_h, np.concatenate(have_v))
        done += len(items)
        rate = done / (time.time() - t0)
        print(f"{done} encoded here, {merged} merged, {len(todo)} left, {rate:.1f} chunks/s", flush=True)
    merge_others()
    # keep only the vectors of the current chunks (a changed chunker leaves stale hashes behind)
    current = {c.content_hash for doc in res.documents for c in chunk_document(doc, settings).chunks}
    vecs = np.concatenate(have_v)
    keep = [i for i, h in enumerate(have_h) if h in current]
    have_h, have_v = [have_h[i] for i in keep], [vecs[keep]]
    write_cache_file(out, have_h, have_v[0])
    print(f"cache: {out} ({len(have_h)} vectors)")


if __name__ == "__main__":
    main()
