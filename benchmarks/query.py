"""Query latency: warm p50/p95 of answer() over the indexed corpus, per stage, against a plain
langchain-chroma top-k similarity search as the reference.

    .venv/bin/python benchmarks/query.py [--n 60]

Questions come from the development sets (mixed lengths, follow-ups included). Run after `make ingest`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa_bot.engine import answer  # noqa: E402
from qa_bot.store import require_index  # noqa: E402
from qa_bot.settings import Settings  # noqa: E402


def pct(values: list[float], q: float) -> float:
    v = sorted(values)
    return v[min(len(v) - 1, int(round(q * (len(v) - 1))))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=60)
    args = ap.parse_args()
    settings = Settings()
    store = require_index(settings)
    rows = []
    for name in ("liveqa2017", "mediqa2019", "mediqa2021", "followup", "unanswerable"):
        with open(ROOT / "evals" / "datasets" / f"{name}.jsonl", encoding="utf-8") as fh:
            rows += [json.loads(line) for line in fh][: max(1, args.n // 5)]
    answer("What is Noonan syndrome?", [], settings)  # warm: model load, index load
    answer("Is Valtrex safe?", [], settings)  # warm: the drug dictionary (a server loads it at its warm-up)
    store.vectorstore.similarity_search("warm up", k=10)
    stages: dict[str, list[float]] = {}
    totals: list[float] = []
    plain: list[float] = []
    for r in rows:
        t = time.perf_counter()
        a = answer(r["question"], r.get("history") or [], settings)
        totals.append((time.perf_counter() - t) * 1000)
        for k, v in a.timings_ms.items():
            stages.setdefault(k, []).append(v)
        t = time.perf_counter()
        store.vectorstore.similarity_search_with_score(r["question"], k=10)
        plain.append((time.perf_counter() - t) * 1000)
    print(f"{len(rows)} questions, {store.count_chunks()} chunks, {store.count_chunks(True)} vectors")
    print(f"answer() total         p50 {statistics.median(totals):7.1f} ms   p95 {pct(totals, .95):7.1f} ms")
    for k in sorted(stages):
        if k != "total":
            print(f"  {k:<20} p50 {statistics.median(stages[k]):7.1f} ms   p95 {pct(stages[k], .95):7.1f} ms")
    print(f"plain langchain-chroma similarity_search_with_score k=10: p50 {statistics.median(plain):.1f} ms   "
          f"p95 {pct(plain, .95):.1f} ms")


if __name__ == "__main__":
    main()
