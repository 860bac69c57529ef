"""Tune the re-ranker's weights on the development sets (2-fold cross-validated) and print recall@5.

    .venv/bin/python benchmarks/tune_retrieval.py [--limit N]

Every candidate's features (dense cosine, normalised BM25, heading match, question-type match, topic
match, authority) are computed once per question; the grid search then only re-weights them. The
figures printed for each fold are measured on the half it was *not* tuned on.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa_bot.evaluate.metrics import gold_qrels, unit_labels, units_from_passages  # noqa: E402
from qa_bot.retrieve import Weights, diversify, get_retriever  # noqa: E402
from qa_bot.rewrite import standalone_question  # noqa: E402
from qa_bot.settings import Settings  # noqa: E402
from qa_bot.types import Turn  # noqa: E402

SETS = ("liveqa2017", "mediqa2019", "mediqa2021", "followup")
FEATS = ("dense", "lexical", "heading", "qtype", "topic", "authority")


def recall_at(passages, relevant, k=5) -> float:
    labels = unit_labels(units_from_passages(passages)[:k], relevant)
    gold = gold_qrels(relevant)
    return sum(1 for lab in labels if lab in gold) / len(gold) if gold else 0.0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--try", dest="try_", action="append", default=[],
                    help='JSON weights to measure, e.g. \'{"lexical":0.2,"heading":0.45,"qtype":0.1,"topic":0.3,'
                         '"authority":0.02,"max_per_doc":2}\' (skips the grid search)')
    args = ap.parse_args()
    settings = Settings()
    retriever = get_retriever(settings)
    data = []
    t0 = time.time()
    for name in SETS:
        rows = [json.loads(x) for x in open(ROOT / "evals" / "datasets" / f"{name}.jsonl", encoding="utf-8")]
        rows = [r for r in rows if r["answerable"] and r["relevant"]]
        if args.limit:
            rows = rows[: args.limit]
        for r in rows:
            q = standalone_question(r["question"], [Turn(**t) for t in r["history"]], settings)
            cands = retriever.candidates(retriever.search_query(q, settings)[0], settings, {})
            if not cands:
                continue
            matrix = np.array([[p.features[f] for f in FEATS] for p in cands], dtype=np.float32)
            fold = int(hashlib.sha1(r["id"].encode()).hexdigest(), 16) % 2
            data.append((name, fold, r["relevant"], cands, matrix))
    print(f"features for {len(data)} questions in {time.time() - t0:.0f}s")

    grid = {"lexical": [0.1, 0.2, 0.35], "heading": [0.15, 0.3, 0.45, 0.6], "qtype": [0.0, 0.1, 0.2],
            "topic": [0.15, 0.3, 0.45, 0.6], "authority": [0.0, 0.04], "max_per_doc": [1, 2, 3]}

    def evaluate(w: dict, subset) -> dict[str, float]:
        vec = np.array([1.0, w["lexical"], w["heading"], w["qtype"], w["topic"], w["authority"]], dtype=np.float32)
        per: dict[str, list[float]] = {}
        for name, _, rel, cands, m in subset:
            order = np.argsort(-(m @ vec))
            ranked = diversify([cands[i] for i in order[:40]], settings.retrieval.top_k, w["max_per_doc"])
            per.setdefault(name, []).append(recall_at(ranked, rel))
        return {k: float(np.mean(v)) for k, v in per.items()}

    if args.try_:
        for t in args.try_:
            w = json.loads(t)
            print(w, {k: round(v, 3) for k, v in evaluate(w, data).items()})
        return
    combos = [dict(zip(grid, vals)) for vals in itertools.product(*grid.values())]

    def best_on(subset):
        scored = [(np.mean(list(evaluate(w, subset).values())), w) for w in combos]
        return max(scored, key=lambda x: x[0])

    default = {**{f: getattr(Weights(), f) for f in FEATS if f != "dense"}, "max_per_doc": settings.retrieval.max_per_doc}
    print("current weights", default, {k: round(v, 3) for k, v in evaluate(default, data).items()})
    for fold in (0, 1):
        train = [d for d in data if d[1] != fold]
        test = [d for d in data if d[1] == fold]
        score, w = best_on(train)
        print(f"fold {fold}: tuned {w} (train macro {score:.3f}); held-out recall@5:",
              {k: round(v, 3) for k, v in evaluate(w, test).items()})
    score, w = best_on(data)
    print(f"all: best {w} macro {score:.3f}:", {k: round(v, 3) for k, v in evaluate(w, data).items()})


if __name__ == "__main__":
    main()
