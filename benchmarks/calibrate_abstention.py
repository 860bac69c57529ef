"""Calibrate the abstention threshold on the development sets (rerunnable).

    .venv/bin/python benchmarks/calibrate_abstention.py [--max-false-abstain 0.08] [--write]

For every row of unanswerable.jsonl (should abstain) and of the answerable sets (should answer) it computes
the composer's confidence — the best passages' similarity and how much of the question's topic they
cover, 0 when the question's subject is in no indexed document — exactly as ``answer()`` does, then picks,
among the thresholds whose false-abstain rate stays under the bound on every answerable set, the one with the
best abstain recall minus worst false-abstain rate (ties: the lower threshold, fewer answers withheld), and
prints abstain precision/recall there (``--curve``: the whole trade-off). ``--write`` stores the
result in evals/calibration.json; the default in qa_bot/settings.py (``abstain_threshold``) is set from it.
"""

from __future__ import annotations

import argparse
import hashlib
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


def _fold(row_id: str) -> int:
    return hashlib.sha1(row_id.encode()).digest()[0] % 2


def measure(scores: dict[str, list[float]], t: float) -> dict:
    neg = scores["unanswerable"]
    fa = {k: sum(x < t for x in scores[k]) / len(scores[k]) for k in ANSWERABLE}
    abstained = sum(x < t for v in scores.values() for x in v)
    recall = sum(x < t for x in neg) / len(neg)
    precision = sum(x < t for x in neg) / abstained if abstained else 0.0
    return {"threshold": t, "abstain_recall": recall, "abstain_precision": precision, "false_abstain": fa,
            "recall_minus_false_abstain": recall - max(fa.values())}


def choose(scores: dict[str, list[float]], max_false_abstain: float, settings: Settings) -> dict:
    best = None
    for t in sorted({round(x, 3) for v in scores.values() for x in v} | {0.0}):
        m = measure(scores, t)
        if max(m["false_abstain"].values()) > max_false_abstain:
            break
        if best is None or m["recall_minus_false_abstain"] > best["recall_minus_false_abstain"] + 1e-9:
            best = m | {"unknown_subject_share": settings.answer.unknown_subject_share}
    return best


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--max-false-abstain", type=float, default=0.08)
    ap.add_argument("--write", action="store_true")
    ap.add_argument("--curve", action="store_true", help="print abstain recall / false-abstain per threshold")
    args = ap.parse_args()
    settings = Settings()
    retriever = get_retriever(settings)
    scores: dict[str, list[float]] = {}
    ids: dict[str, list[str]] = {}
    for name in (*ANSWERABLE, "unanswerable"):
        for line in open(ROOT / "evals" / "datasets" / f"{name}.jsonl", encoding="utf-8"):
            r = json.loads(line)
            if name != "unanswerable" and not r["answerable"]:
                continue
            q = standalone_question(r["question"], [Turn(**t) for t in r["history"]], settings)
            conf = retriever.retrieve(q, settings).confidence
            scores.setdefault(name, []).append(conf)
            ids.setdefault(name, []).append(r["id"])
    neg = scores["unanswerable"]
    if args.curve:
        print(f"{'threshold':>9} {'recall':>7} " + " ".join(f"{k[:10]:>10}" for k in ANSWERABLE))
        for t in [x / 100 for x in range(0, 41, 2)]:
            print(f"{t:>9.2f} {sum(x < t for x in neg) / len(neg):>7.3f} "
                  + " ".join(f"{sum(x < t for x in scores[k]) / len(scores[k]):>10.3f}" for k in ANSWERABLE))
    best = choose(scores, args.max_false_abstain, settings)
    best["held_out"] = []
    # held-out check: choose on one half of every set (rows split by id hash), measure on the other half
    for fold in (0, 1):
        fit = {k: [x for x, i in zip(v, ids[k]) if _fold(i) != fold] for k, v in scores.items()}
        held = {k: [x for x, i in zip(v, ids[k]) if _fold(i) == fold] for k, v in scores.items()}
        t = choose(fit, args.max_false_abstain, settings)["threshold"]
        m = measure(held, t)
        best["held_out"].append(m)
        print(f"fold {fold}: threshold {t:.3f} chosen on the other half; held-out abstain recall "
              f"{m['abstain_recall']:.3f}, false-abstain " + ", ".join(f"{k} {v:.3f}" for k, v in m["false_abstain"].items()))
    print(json.dumps(best, indent=2))
    for k, v in scores.items():
        v = sorted(v)
        print(f"{k:14s} n={len(v):3d} confidence p10={v[len(v) // 10]:.3f} median={v[len(v) // 2]:.3f}")
    if args.write and best:
        (ROOT / "evals" / "calibration.json").write_text(json.dumps(best, indent=2) + "\n")
        print("wrote evals/calibration.json; set Settings.answer.abstain_threshold to", best["threshold"])


if __name__ == "__main__":
    main()
