"""Build ``evals/datasets/quick.jsonl``: a deterministic sample of every eval set for ``make eval-quick``.

    python evals/make_quick.py [--per-set 8]

Rows are taken in order of the SHA-1 of their id (stable across runs and machines, independent of file
order), ``--per-set`` from each set; rows keep their ``dataset`` so the report shows each set separately.
Checks that every sampled row's gold document is in the bundled corpus (``corpus/``), which the quick eval
searches in full.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SETS = ("liveqa2017", "mediqa2019", "mediqa2021", "followup", "unanswerable", "clinician", "kqa")


def sample(rows: list[dict], n: int) -> list[dict]:
    return sorted(rows, key=lambda r: hashlib.sha1(r["id"].encode("utf-8")).hexdigest())[:n]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--per-set", type=int, default=8)
    ap.add_argument("--corpus", type=Path, default=HERE.parent / "corpus")
    ap.add_argument("--out", type=Path, default=HERE / "datasets" / "quick.jsonl")
    args = ap.parse_args()

    corpus_ids = {p.stem for p in args.corpus.rglob("*.md")}
    out: list[dict] = []
    for name in SETS:
        rows = [json.loads(line) for line in (HERE / "datasets" / f"{name}.jsonl").open(encoding="utf-8") if line.strip()]
        out += sample(rows, args.per_set)
    missing = sorted({g["doc_id"] for r in out for g in r["relevant"]} - corpus_ids)
    if missing:
        print(f"gold documents missing from {args.corpus}: {', '.join(missing)}", file=sys.stderr)
        return 1
    with args.out.open("w", encoding="utf-8") as fh:
        for r in out:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    by = {n: sum(1 for r in out if r["dataset"] == n) for n in SETS}
    print(f"wrote {len(out)} rows to {args.out} ({by}); every gold document is in {args.corpus} "
          f"({len(corpus_ids):,} documents)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
