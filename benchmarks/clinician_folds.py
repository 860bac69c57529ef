"""Clinician answers, by held-out fold and by rule: how much each issue-14 rule contributes, on each half.

    .venv/bin/python benchmarks/clinician_folds.py [--set evals/datasets/clinician.jsonl] [--configs all]

The rules were written by reading failures of the development set, not fitted by a search; this script shows
whether their effect holds on both halves of the set (rows split by the SHA-1 of their id, as make_quick.py
does) and what each rule is worth, by turning it off (one settings override per line). Prints, per config and
fold: fact_recall, bottom_line_fact_recall, abstain recall on unanswerable rows, false-abstain rate, hit@5.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa_bot.engine import answer  # noqa: E402
from qa_bot.settings import Settings  # noqa: E402

CONFIGS = {
    "engine": {},
    "no shorthand": {"expand_shorthand": False},
    "no lead-document sections": {"lead_doc_chunks": 0},
    "no extra bottom-line sentences": {"bottom_line_extra": 0},
    "no follow-up aspect weight": {"followup_weight": 0.0},
}


def fold(row_id: str) -> int:
    return int(hashlib.sha1(row_id.encode()).hexdigest(), 16) % 2


def measure(rows: list[dict], settings: Settings) -> list[dict]:
    out = []
    for r in rows:
        a = answer(r["question"], r.get("history") or [], settings)
        text = " ".join(s.display for s in a.sentences)
        bl = " ".join(s.display for s in a.sentences if s.group == "bottom_line")
        pats = r.get("must_mention") or []
        gold = {g["doc_id"] for g in r.get("relevant") or []}
        ranked = list(dict.fromkeys(p.chunk.doc_id for p in a.passages if not p.features.get("expanded")))[:5]
        out.append({"id": r["id"], "fold": fold(r["id"]), "answerable": r["answerable"], "abstained": a.abstained,
                    "fact": (not a.abstained) and all(re.search(p, text, re.I) for p in pats) if pats else None,
                    "bl": (not a.abstained) and all(re.search(p, bl, re.I) for p in pats) if pats else None,
                    "hit5": bool(gold & set(ranked)) if gold else None})
    return out


def summary(recs: list[dict]) -> dict[str, float | None]:
    def mean(xs):
        xs = [x for x in xs if x is not None]
        return round(sum(xs) / len(xs), 3) if xs else None

    ans = [r for r in recs if r["answerable"]]
    un = [r for r in recs if not r["answerable"]]
    return {"n": len(recs), "fact_recall": mean(r["fact"] for r in ans), "bottom_line": mean(r["bl"] for r in ans),
            "abstain_recall": mean(r["abstained"] for r in un), "false_abstain": mean(r["abstained"] for r in ans),
            "hit@5": mean(r["hit5"] for r in ans)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", type=Path, default=ROOT / "evals" / "datasets" / "clinician.jsonl")
    ap.add_argument("--configs", default="all", help="comma-separated names of CONFIGS, or all")
    args = ap.parse_args()
    rows = [json.loads(line) for line in args.set.open(encoding="utf-8") if line.strip()]
    names = list(CONFIGS) if args.configs == "all" else args.configs.split(",")
    base = Settings()
    print(f"{'config':34} {'fold':>5} {'n':>4} {'facts':>6} {'bottom':>7} {'abst':>6} {'false':>6} {'hit@5':>6}")
    for name in names:
        recs = measure(rows, base.model_copy(update=CONFIGS[name]))
        for f, label in ((0, "A"), (1, "B"), (None, "all")):
            s = summary([r for r in recs if f is None or r["fold"] == f])
            print(f"{name:34} {label:>5} {s['n']:>4} {s['fact_recall']!s:>6} {s['bottom_line']!s:>7} "
                  f"{s['abstain_recall']!s:>6} {s['false_abstain']!s:>6} {s['hit@5']!s:>6}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
