"""Precision / recall of the support checker on evals/support_pairs.jsonl and evals/support_adversarial.jsonl.

    python benchmarks/support_checker.py [--pairs FILE ...] [--split all|dev|test]
                                         [--sweep] [--errors N] [--quantulum]

For each file: precision, recall and F1 of "supported", then per category precision and recall (a category of
unsupported claims has no recall; its precision is 0 as soon as one claim is accepted) with the count of false
accepts, and the time per pair. Every accepted claim of a category that must have none (``ZERO_FALSE_ACCEPT``)
is listed. A row's ``context`` (title and heading path) is passed to the checker as context, never as evidence;
a checker without a ``context`` parameter gets it the way the LLM path gave it before (context line + passage).
``--sweep`` prints the same for a range of score thresholds (the rules stay on), to choose THRESHOLD on dev.
``--quantulum`` compares the hand-written number rule with quantulum3 (if installed) on the number pairs.
"""

from __future__ import annotations

import argparse
import inspect
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


ZERO_FALSE_ACCEPT = ["heading_echo", "negation", "grade", "number", "other_drug", "wrong_passage"]
PARAPHRASE_BAR = 0.90


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


def run_checker(checker, rows: list[dict]) -> list:
    """The checker's result per row, the row's context passed as such (or, to an older checker, prefixed)."""
    if "context" in inspect.signature(checker.check).parameters:
        return checker.check_many([(r["sentence"], r["passage"], r.get("context")) for r in rows])
    return checker.check_many([(r["sentence"], f"{r['context']}\n{r['passage']}" if r.get("context") else
                                r["passage"]) for r in rows])


def per_category(rows: list[dict], pred: list[bool]) -> list[str]:
    """Print precision / recall per category; return the ids of accepted claims that must have been rejected."""
    print(f"  {'category':<14} {'n':>4} {'accepted':>8} {'false acc':>9} {'precision':>9} {'recall':>7}")
    cats: dict[str, list[int]] = defaultdict(list)
    for i, r in enumerate(rows):
        cats[r["category"]].append(i)
    bad = []
    for c, idx in cats.items():
        sub = [rows[i] for i in idx]
        sp = [pred[i] for i in idx]
        p, rc, _, fp, _ = prf(sub, sp)
        has_pos = any(r["supported"] for r in sub)
        prec = f"{p:.3f}" if any(sp) else "-"
        print(f"  {c:<14} {len(sub):>4} {sum(sp):>8} {fp:>9} {prec:>9} {f'{rc:.3f}' if has_pos else '-':>7}")
        if c in ZERO_FALSE_ACCEPT:
            bad += [rows[i]["id"] for i in idx if pred[i] and not rows[i]["supported"]]
        if c == "paraphrase" and has_pos and rc < PARAPHRASE_BAR:
            print(f"  ! paraphrases accepted {rc:.3f} < {PARAPHRASE_BAR}")
    return bad


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", nargs="+", default=[str(ROOT / "evals" / "support_pairs.jsonl"),
                                                   str(ROOT / "evals" / "support_adversarial.jsonl")])
    ap.add_argument("--split", default="all", choices=["all", "dev", "test"])
    ap.add_argument("--sweep", action="store_true")
    ap.add_argument("--errors", type=int, default=0, help="print up to N misclassified pairs per file")
    ap.add_argument("--quantulum", action="store_true")
    args = ap.parse_args(argv)
    settings = Settings()
    checker = verify.get_checker(settings)
    checker.prepare([("warm-up sentence.", "Warm-up passage.")])  # model loading is not the checker's time
    for path in args.pairs:
        rows = [json.loads(line) for line in open(path, encoding="utf-8") if line.strip()]
        if args.split != "all":
            rows = [r for r in rows if r["split"] == args.split]
        t = time.perf_counter()
        results = run_checker(checker, rows)
        dt = time.perf_counter() - t
        pred = [x.supported for x in results]
        print(f"\nsupport checker on {path} ({args.split}), threshold {verify.THRESHOLD}")
        report("all", rows, pred)
        for split in ("dev", "test"):
            idx = [i for i, r in enumerate(rows) if r["split"] == split]
            if idx and args.split == "all":
                report(split, [rows[i] for i in idx], [pred[i] for i in idx])
        print(f"time: {dt * 1000 / max(1, len(rows)):.1f} ms per pair ({len(rows)} pairs, batch-encoded)")
        bad = per_category(rows, pred)
        if bad:
            print(f"  false accepts in {', '.join(ZERO_FALSE_ACCEPT)} (must be none): {len(bad)}")
            by_id = {r["id"]: (r, x) for r, x in zip(rows, results)}
            for i in bad:
                r, x = by_id[i]
                print(f"    {i} {r['category']}/{r.get('subtype', '')} score={x.score}: {r['sentence'][:160]}")
        elif any(r["category"] in ZERO_FALSE_ACCEPT for r in rows):
            print(f"  no false accepts in {', '.join(ZERO_FALSE_ACCEPT)}")
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
                    print(f"\n[{r['id']} {r['category']}/{r.get('subtype', '')} gold={r['supported']}] "
                          f"score={x.score} sim={x.similarity} cov={x.coverage} {x.reasons}\n  S: {r['sentence']}\n"
                          f"  O: {r.get('source_sentence')}\n  C: {r.get('context')}")
        if args.quantulum:
            quantulum_compare(rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
