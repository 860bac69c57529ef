"""Calibrate the abstention threshold on the development sets (rerunnable).

    .venv/bin/python benchmarks/calibrate_abstention.py [--max-false-abstain 0.08] [--write]

For every row of unanswerable.jsonl (should abstain) and of the answerable sets (should answer) it computes
the composer's confidence — the best passages' similarity and how much of the question's topic they
cover — exactly as ``answer()`` does, then picks the highest threshold whose false-abstain rate on every
answerable set stays under the bound, and prints abstain precision/recall there. ``--write`` stores the
result in evals/calibration.json; the default in qa_bot/settings.py (``abstain_threshold``) is set from it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa_bot.retrieve import get_retriever  # noqa: E402
from qa_bot.rewrite import standalone_question  # noqa: E402
from qa_bot.settings import Settings  # noqa: E402
from qa_bot.types import Turn  # noqa: E402

ANSWERABLE = ("liveqa2017", "mediqa2019", "mediqa2021", "followup")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--max-false-abstain", type=float, default=0.08)
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()
    settings = Settings()
    retriever = get_retriever(settings)
    scores: dict[str, list[float]] = {}
    for name in (*ANSWERABLE, "unanswerable"):
        for line in open(ROOT / "evals" / "datasets" / f"{name}.jsonl", encoding="utf-8"):
            r = json.loads(line)
            if name != "unanswerable" and not r["answerable"]:
                continue
            q = standalone_question(r["question"], [Turn(**t) for t in r["history"]], settings)
            conf = retriever.retrieve(q, settings).confidence
            scores.setdefault(name, []).append(conf)
    neg = scores["unanswerable"]
    best = None
    for t in sorted({round(x, 3) for v in scores.values() for x in v} | {0.0}):
        fa = {k: sum(x < t for x in scores[k]) / len(scores[k]) for k in ANSWERABLE}
        if max(fa.values()) > args.max_false_abstain:
            break
        recall = sum(x < t for x in neg) / len(neg)
        abstained = sum(x < t for v in scores.values() for x in v)
        precision = sum(x < t for x in neg) / abstained if abstained else 0.0
        best = {"threshold": t, "abstain_recall": recall, "abstain_precision": precision, "false_abstain": fa}
    print(json.dumps(best, indent=2))
    for k, v in scores.items():
        v = sorted(v)
        print(f"{k:14s} n={len(v):3d} confidence p10={v[len(v) // 10]:.3f} median={v[len(v) // 2]:.3f}")
    if args.write and best:
        (ROOT / "evals" / "calibration.json").write_text(json.dumps(best, indent=2) + "\n")
        print("wrote evals/calibration.json; set Settings.abstain_threshold to", best["threshold"])


if __name__ == "__main__":
    main()
