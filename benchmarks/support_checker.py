"""Precision / recall of the support checker on evals/support_pairs.jsonl.

    python benchmarks/support_checker.py [--pairs evals/support_pairs.jsonl] [--split all|dev|test]
                                         [--sweep] [--errors N] [--quantulum]

Prints precision, recall and F1 of "supported", accuracy per category, and the time per pair.
``--sweep`` prints the same for a range of score thresholds (the rules stay on), to choose THRESHOLD on dev.
``--quantulum`` compares the hand-written number rule with quantulum3 (if installed) on the number pairs.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa_bot import verify  # noqa: E402
from qa_bot.settings import Settings  # noqa: E402


def prf(rows: list[dict], pred: list[bool]) -> tuple[float, float, float, int, int]:
    tp = sum(1 for r, p in zip(rows, pred) if p and r["supported"])
    fp = sum(1 for r, p in zip(rows, pred) if p and not r["supported"])
    fn = sum(1 for r, p in zip(rows, pred) if not p and r["supported"])
    prec = tp / (tp + fp) if tp + fp else 1.0
    rec = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    return prec, rec, f1, fp, fn


def report(title: str, rows: list[dict], pred: list[bool]) -> None:
    p, r, f, fp, fn = prf(rows, pred)
    print(f"{title:<10} n={len(rows):<4} precision={p:.3f} recall={r:.3f} F1={f:.3f}  (false supported {fp}, "
          f"missed {fn})")


def quantulum_compare(rows: list[dict]) -> None:
    try:
        from quantulum3 import parser
    except ImportError:
        print("quantulum3 is not installed: pip install quantulum3")
        return

    def q_problems(sentence: str, passage: str) -> bool:
        try:
            sq = parser.parse(verify.strip_citations(sentence))
            pq = parser.parse(verify.strip_citations(passage))
        except Exception:  # noqa: BLE001 - a parser crash counts as "no problem found"
            return False
        have = {(round(q.value, 6), q.unit.name) for q in pq} | {(round(q.value, 6), "dimensionless") for q in pq}
        return any((round(q.value, 6), q.unit.name) not in have for q in sq)

    for name, fn in [("hand rules", lambda s, p: bool(verify._number_problems(s, p))), ("quantulum3", q_problems)]:
        t = time.perf_counter()
        flagged = {"number_swap": 0, "number_swap_n": 0, "supported_flagged": 0, "supported_n": 0}
        for r in rows:
            if r["category"] == "number_swap":
                flagged["number_swap_n"] += 1
                flagged["number_swap"] += fn(r["sentence"], r["passage"])
            elif r["supported"] and any(c.isdigit() for c in r["sentence"]):
                flagged["supported_n"] += 1
                flagged["supported_flagged"] += fn(r["sentence"], r["passage"])
        dt = (time.perf_counter() - t) * 1000
        print(f"{name:<11} number swaps caught {flagged['number_swap']}/{flagged['number_swap_n']}, supported "
              f"sentences with numbers wrongly flagged {flagged['supported_flagged']}/{flagged['supported_n']}, "
              f"{dt:.0f} ms")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", default=str(ROOT / "evals" / "support_pairs.jsonl"))
    ap.add_argument("--split", default="all", choices=["all", "dev", "test"])
    ap.add_argument("--sweep", action="store_true")
    ap.add_argument("--errors", type=int, default=0, help="print up to N misclassified pairs")
    ap.add_argument("--quantulum", action="store_true")
    args = ap.parse_args(argv)
    rows = [json.loads(line) for line in open(args.pairs, encoding="utf-8") if line.strip()]
    if args.split != "all":
        rows = [r for r in rows if r["split"] == args.split]
    settings = Settings()
    checker = verify.get_checker(settings)
    checker.prepare([("warm-up sentence.", "Warm-up passage.")])  # model loading is not the checker's time
    t = time.perf_counter()
    results = checker.check_many([(r["sentence"], r["passage"]) for r in rows])
    dt = time.perf_counter() - t
    pred = [x.supported for x in results]
    print(f"support checker on {args.pairs} ({args.split}), threshold {verify.THRESHOLD}")
    report("all", rows, pred)
    for split in ("dev", "test"):
        idx = [i for i, r in enumerate(rows) if r["split"] == split]
        if idx and args.split == "all":
            report(split, [rows[i] for i in idx], [pred[i] for i in idx])
    print(f"time: {dt * 1000 / max(1, len(rows)):.1f} ms per pair ({len(rows)} pairs, batch-encoded)")
    print("accuracy per category:")
    cats: dict[str, list[bool]] = defaultdict(list)
    for r, p in zip(rows, pred):
        cats[r["category"]].append(p == r["supported"])
    for c, v in cats.items():
        print(f"  {c:<12} {sum(v) / len(v):.3f}  ({sum(v)}/{len(v)})")
    if args.sweep:
        print("threshold sweep (rules on):")
        for th in [x / 100 for x in range(40, 86, 3)]:
            p2 = [not x.reasons or (x.reasons[0].startswith("score") and x.score >= th) for x in results]
            p2 = [ok and x.score >= th for ok, x in zip(p2, results)]
            pr, rc, f, _, _ = prf(rows, p2)
            print(f"  {th:.2f}: precision={pr:.3f} recall={rc:.3f} F1={f:.3f}")
    if args.errors:
        shown = 0
        for r, x in zip(rows, results):
            if x.supported != r["supported"] and shown < args.errors:
                shown += 1
                print(f"\n[{r['id']} {r['category']} gold={r['supported']}] score={x.score} sim={x.similarity} "
                      f"cov={x.coverage} {x.reasons}\n  S: {r['sentence']}\n  O: {r.get('source_sentence')}")
    if args.quantulum:
        quantulum_compare(rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
