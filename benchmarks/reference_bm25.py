"""Re-measure the issue's BM25 reference points with this project's evaluator (rerunnable, ~3 min here).

    .venv/bin/python benchmarks/reference_bm25.py

The issue quotes reference recall@5 figures "measured with 800-character chunks and MiniLM, section-level
matching": BM25 LiveQA 0.56, MEDIQA 2019 0.42, MEDIQA 2021 0.57, follow-ups 0.92 (first user turn prepended).
This script rebuilds that BM25 baseline independently of the engine's index — every section of the bundled corpus
split by langchain's RecursiveCharacterTextSplitter into 800-character chunks, bm25s with English stopwords,
top 5 *chunks* — and prints two readings of "recall@5" for it:

* ``fraction``: share of the row's gold items among the top 5 (ranx ``recall@5``, what ``report.json`` reports);
* ``hit``: 1 when at least one gold item is in the top 5 (ranx ``hit_rate@5``, "top-k accuracy").

Whichever reading reproduces the quoted figures is the one the reference points were measured in.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa_bot.load import iter_documents  # noqa: E402
from qa_bot.settings import Settings  # noqa: E402

SETS = ("liveqa2017", "mediqa2019", "mediqa2021", "followup")
QUOTED = {"liveqa2017": 0.56, "mediqa2019": 0.42, "mediqa2021": 0.57, "followup": 0.92}


def build_chunks(settings: Settings, size: int, plain: bool) -> list[tuple[str, str, str]]:
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    splitter = RecursiveCharacterTextSplitter(chunk_size=size, chunk_overlap=0)
    out = []
    for doc in iter_documents([ROOT / "corpus"], settings):
        if not hasattr(doc, "sections"):
            continue
        for sec in doc.sections:
            if sec.doc_type == "comment":
                continue
            text = doc.text[sec.start:sec.end]
            heading = " > ".join(sec.heading_path)
            for piece in splitter.split_text(text):
                out.append((doc.doc_id, sec.id, piece if plain else f"{doc.title or ''}\n{heading}\n{piece}"))
    return out


def main() -> None:
    import bm25s
    import numpy as np

    import argparse

    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=800, help="chunk size in characters")
    ap.add_argument("--plain", action="store_true", help="index the chunk text alone (no title / heading)")
    ap.add_argument("--stem", action="store_true", help="Snowball-stem the tokens")
    args = ap.parse_args()
    stemmer = None
    if args.stem:
        import Stemmer

        stemmer = Stemmer.Stemmer("english")
    t = time.perf_counter()
    chunks = build_chunks(Settings(), args.size, args.plain)
    print(f"{len(chunks)} chunks of ≤{args.size} characters in {time.perf_counter() - t:.0f} s "
          f"({'text only' if args.plain else 'title + heading + text'}, {'stemmed' if stemmer else 'unstemmed'})")
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize([c[2] for c in chunks], stopwords="en", stemmer=stemmer, show_progress=False),
                    show_progress=False)
    print(f"{'set':<12}{'n':>5}{'fraction':>10}{'hit':>8}{'quoted':>8}")
    for name in SETS:
        rows = [json.loads(line) for line in open(ROOT / "evals" / "datasets" / f"{name}.jsonl")]
        rows = [r for r in rows if r["answerable"] and r["relevant"]]
        frac = hit = 0.0
        for r in rows:
            users = [h["content"] for h in r.get("history") or [] if h["role"] == "user"]
            query = (users[0] + " " if users else "") + r["question"]
            tokens = bm25s.tokenize([query], stopwords="en", stemmer=stemmer, return_ids=False,
                                    show_progress=False)[0]
            scores = retriever.get_scores([t for t in tokens if t in retriever.vocab_dict])
            top = np.argsort(-scores)[:5]
            got = [chunks[i] for i in top if scores[i] > 0]
            matched = sum(1 for g in r["relevant"] if any(
                (c[1] == g["section_id"]) if g.get("section_id") else (c[0] == g["doc_id"]) for c in got))
            frac += matched / len(r["relevant"])
            hit += matched > 0
        print(f"{name:<12}{len(rows):>5}{frac / len(rows):>10.3f}{hit / len(rows):>8.3f}{QUOTED[name]:>8.2f}")


if __name__ == "__main__":
    main()
