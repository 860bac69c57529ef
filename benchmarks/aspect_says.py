"""How well each aspect's ``say`` patterns (``qa_bot/data/aspects.toml``) tell whether a document states the aspect.

    QA_BOT_DATA_DIR=... .venv/bin/python benchmarks/aspect_says.py [--docs 4000]

The composer abstains, naming the aspect, when no passage on the question's subject states what was asked
(``compose.missing_aspects``). Supervision, from the corpus itself (never an evaluation row): a MedQuAD document
answers question headings of one subject, one section each. A heading that asks an aspect (its ``ask`` patterns:
"What causes X?", "How is X spread?", "When to contact a medical professional about X?") is stated by the
document; the same document without that section is what a question on a known subject looks like when the corpus
does not say it. Per aspect and per source (the folds: GARD, GHR, NIDDK, …): ``stated`` — the share of the answer
sections whose sentences the ``say`` patterns find (1 − the gate's false abstentions), ``absent_said`` — the share
of the documents without the section where they find it anyway (the gate's missed abstentions).
``--answer N`` asks ``answer()`` N of those headings (one per document; each is answered by its own indexed
section) and prints the abstentions: the gate's false abstentions on the corpus's own answerable questions.

Measured on the bundled index (2026-12-07): cause — 665 "What causes X?" sections, stated 0.99 (0.94–1.00 per
source), yet 0.96 of their documents state a cause outside that section too (a page on a condition says what causes
it), so the gate abstains on a cause only where the passages on the subject say none at all; ``--answer 200``: 0
abstentions. Held to sentences that name the subject (as a dose is), the cause abstained on 13 of 150 headings.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import sys
from collections import defaultdict
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa_bot.retrieve import get_retriever  # noqa: E402
from qa_bot.settings import Settings  # noqa: E402
from qa_bot.subject import aspects  # noqa: E402

SOURCES = ("GARD", "GHR", "MPlusHealthTopics", "NINDS", "NIDDK", "CancerGov", "NHLBI", "CDC", "NIHSeniorHealth")


def source_of(doc_id: str) -> str:
    return re.sub(r"[_\d].*", "", doc_id)


def sections_of(retriever, doc_id: str) -> dict[str, str]:
    """A MedQuAD document's question headings with their sections' text."""
    out: dict[str, str] = defaultdict(str)
    for ch in retriever.store.doc_chunks(doc_id):
        q = ch.heading_path[-1] if ch.heading_path else ""
        if q.endswith("?"):
            out[q] += " " + ch.text
    return out


def answered(retriever, docs: list[str], n: int) -> None:
    """Answer ``n`` aspect headings, one per document, and print those abstained on."""
    from qa_bot.engine import answer

    asked: list[tuple[str, str]] = []
    for doc_id in docs:
        heading = next((q for q in sorted(sections_of(retriever, doc_id)) if any(a.asked_in(q) for a in aspects())),
                       None)
        if heading:
            asked.append((doc_id, heading))
        if len(asked) >= n:
            break
    out = [(d, q, answer(q, [], Settings())) for d, q in asked]
    for d, q, a in out:
        if a.abstained:
            print(f"abstained  {d:<16} {q}  | {a.notice}")
    print(f"abstained on {sum(a.abstained for *_, a in out)} of {len(out)} aspect headings asked of the index")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=4000)
    ap.add_argument("--answer", type=int, default=0, help="answer this many aspect headings (false abstentions)")
    args = ap.parse_args()
    retriever = get_retriever(Settings())
    docs = [d for d in retriever.store.known_documents() if source_of(d) in SOURCES]
    random.Random(0).shuffle(docs)
    if args.answer:
        answered(retriever, docs, args.answer)
        return
    # (aspect, source) → [sections asking it, of them stated, documents without it, of them "said" anyway]
    counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for doc_id in docs[:args.docs]:
        sections = sections_of(retriever, doc_id)
        if len(sections) < 2:
            continue
        for a in aspects():
            asking = [q for q in sections if a.asked_in(q)]
            if not asking:
                continue
            c = counts[(a.name, source_of(doc_id))]
            c[0] += 1
            c[1] += any(a.said_in(sections[q]) for q in asking)
            rest = [t for q, t in sections.items() if q not in asking]
            if rest:
                c[2] += 1
                c[3] += any(a.said_in(t) for t in rest)
    print(f"{'aspect':<18}{'source':<20}{'n':>6}{'stated':>8}{'absent':>8}{'absent_said':>12}")
    for name in sorted({k[0] for k in counts}):
        tot = [0, 0, 0, 0]
        for (n, src), c in sorted(counts.items()):
            if n != name:
                continue
            tot = [x + y for x, y in zip(tot, c)]
            print(f"{name:<18}{src:<20}{c[0]:>6}{c[1] / c[0]:>8.2f}{c[2]:>8}{(c[3] / c[2] if c[2] else 0):>12.2f}")
        print(f"{name:<18}{'ALL':<20}{tot[0]:>6}{tot[1] / tot[0]:>8.2f}{tot[2]:>8}"
              f"{(tot[3] / tot[2] if tot[2] else 0):>12.2f}\n")


if __name__ == "__main__":
    main()
