"""Retrieval-only comparison of settings on the development sets (rerunnable; ~40 s per configuration here).

    .venv/bin/python benchmarks/retrieval_sweep.py '{"segment_weight": 0}' '{"segment_weight": 0.5}' …

Each argument is a JSON object of ``Settings`` fields; for each configuration the script prints recall@5,
hit@5 and recall@10 per set (k counts distinct sections, as in ``qa-bot eval``), computed on the ranked
passages of ``Retriever.retrieve`` for the standalone question, without composing answers.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa_bot.evaluate.metrics import retrieval_metrics, units_from_passages  # noqa: E402
from qa_bot.retrieve import get_retriever  # noqa: E402
from qa_bot.rewrite import standalone_question  # noqa: E402
from qa_bot.settings import Settings  # noqa: E402
from qa_bot.types import Turn  # noqa: E402

SETS = ("liveqa2017", "mediqa2019", "mediqa2021", "followup")
KEYS = ("recall@5", "hit@5", "recall@10")


def main() -> None:
    configs = [json.loads(a) for a in sys.argv[1:]] or [{}]
    base = Settings()
    rows = {name: [json.loads(line) for line in open(ROOT / "evals" / "datasets" / f"{name}.jsonl")] for name in SETS}
    print(f"{'configuration':<40}" + "".join(f"{n[:10] + ' ' + k:>22}" for n in SETS for k in KEYS[:2]))
    for cfg in configs:
        settings = base.model_copy(update=cfg)
        retriever = get_retriever(settings)
        cells = []
        for name in SETS:
            rankings, relevant = {}, {}
            for r in rows[name]:
                if not r["answerable"] or not r["relevant"]:
                    continue
                q = standalone_question(r["question"], [Turn(**t) for t in r["history"]], settings)
                passages = [p for p in retriever.retrieve(q, settings).passages if not p.features.get("expanded")]
                rankings[r["id"]] = units_from_passages(passages)
                relevant[r["id"]] = r["relevant"]
            m = retrieval_metrics(rankings, relevant)
            cells += [sum(v[k] for v in m.values()) / len(m) for k in KEYS[:2]]
        print(f"{json.dumps(cfg):<40}" + "".join(f"{c:>22.3f}" for c in cells), flush=True)


if __name__ == "__main__":
    main()
