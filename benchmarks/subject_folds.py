"""The subject finder's two choices, made on one source of questions and checked on another.

    .venv/bin/python benchmarks/subject_folds.py

``qa_bot.subject.find_subject`` weighs the rarest words of a question by how often the index's titles and headings
name them (``HEADING_WEIGHT``) and drops words the index uses less than general English (``MIN_KEYNESS``). Both are
chosen here on consumer questions whose answer documents are known (LiveQA 2017, MEDIQA 2019: the subject is right
when its word, or one of its other names, is a word of a gold document's title), and checked on questions of another
source that were not used to choose them (K-QA dev: right when the subject's name or other names match the row's
``subject_regex``). Prints the agreement of every configuration on each source; the chosen one is marked.

Then the titles (``Vocabulary.titled``: a name of several words that documents' titles hold, "heart attack",
"stiff-person syndrome") on and off, with the shipped weights: on the same proxy, on MEDIQA 2021 with its subjects
labelled by hand (``benchmarks/data/subject_labels_mediqa2021.json``), and on K-QA by fold (rows 1–50, the
development rows; 51–101, never read for this work: only their count is printed).
"""

from __future__ import annotations

import json
import os
import re
import sys
from functools import lru_cache
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa_bot import subject as S  # noqa: E402
from qa_bot.retrieve import get_retriever  # noqa: E402
from qa_bot.settings import Settings  # noqa: E402
from qa_bot.text import term_set  # noqa: E402

FIT = ("liveqa2017", "mediqa2019", "mediqa2021", "clinician")
HELD_OUT = "kqa"
GRID = [(hw, mk) for hw in (0.0, 2.0, 4.0, 8.0) for mk in (-1.0, -0.35, 0.0)]


def rows(name: str) -> list[dict]:
    return [json.loads(x) for x in (ROOT / "evals" / "datasets" / f"{name}.jsonl").open(encoding="utf-8") if x.strip()]


LABELS = Path(__file__).resolve().parent / "data" / "subject_labels_mediqa2021.json"


def titles_on_off(r, vocab, fit: list[tuple[str, frozenset[str]]]) -> None:
    """The subject finder with and without the documents' titles, on each source (see the module's doc)."""
    from dataclasses import replace

    untitled = replace(vocab, titled=lambda phrase: 0)
    labels = json.loads(LABELS.read_text(encoding="utf-8"))["labels"]
    labelled = [(row["question"], labels[row["id"]]) for row in rows("mediqa2021") if row["id"] in labels]
    kqa = rows(HELD_OUT)
    sources = {"proxy (gold titles)": None, "mediqa2021 (hand labels)": labelled,
               "kqa rows 1-50": [(x["question"], x["subject_regex"]) for x in kqa[:50]],
               "kqa rows 51-101": [(x["question"], x["subject_regex"]) for x in kqa[50:]]}
    print(f"{'source':<26} {'n':>4} {'no titles':>10} {'titles':>8}")
    for name, items in sources.items():
        counts = []
        for v in (untitled, vocab):
            if items is None:
                ok = sum(bool((s := S.find_subject(q, v)) and set(s.words) & gold) for q, gold in fit)
                n = len(fit)
            else:
                ok = sum(bool((s := S.find_subject(q, v)) and re.search(rx, " ".join([s.name, *s.alternatives]), re.I))
                         for q, rx in items)
                n = len(items)
            counts.append(ok)
        print(f"{name:<26} {n:>4} {counts[0]:>10} {counts[1]:>8}")
    print()


def main() -> int:
    r = get_retriever(Settings())
    store = r.store
    vocab = r.subject_vocabulary()
    if vocab is None:
        print("no index: run `qa-bot ingest` first", file=sys.stderr)
        return 2
    vocab.headed = lru_cache(maxsize=None)(vocab.headed)  # the same terms come back in every configuration
    vocab.phrase_count = lru_cache(maxsize=None)(vocab.phrase_count)

    @lru_cache(maxsize=None)
    def title_terms(doc_id: str) -> frozenset[str]:
        chunks = store.doc_chunks(doc_id)
        title = chunks[0].title if chunks else ""
        return frozenset() if not title or re.search(r"_\d", title) else term_set(title)  # ids are no titles

    fit: list[tuple[str, frozenset[str]]] = []
    for name in FIT:
        for row in rows(name):
            gold = frozenset().union(*(title_terms(g["doc_id"]) for g in row.get("relevant", [])))
            if row.get("answerable") and gold:
                fit.append((r.search_query(row["question"])[0], gold))
    held = [(r.search_query(row["question"])[0], row["subject_regex"]) for row in rows(HELD_OUT)]

    def on_fit(hw: float, mk: float) -> float:
        ok = 0
        for q, gold in fit:
            s = S.find_subject(q, vocab, heading_weight=hw, min_keyness=mk)
            ok += bool(s and s.words and set(s.words) & gold)
        return ok / len(fit)

    def on_held(hw: float, mk: float) -> float:
        ok = 0
        for q, rx in held:
            s = S.find_subject(q, vocab, heading_weight=hw, min_keyness=mk)
            ok += bool(s and re.search(rx, f"{s.name} {' '.join(s.alternatives)}", re.I))
        return ok / len(held)

    titles_on_off(r, vocab, fit)
    results = [(hw, mk, on_fit(hw, mk), on_held(hw, mk)) for hw, mk in GRID]
    best = max(results, key=lambda x: (x[2], -abs(x[0] - S.HEADING_WEIGHT)))
    print(f"fit: {', '.join(FIT)} ({len(fit)} questions with titled gold documents); held out: {HELD_OUT} "
          f"({len(held)} questions)")
    print(f"{'heading_weight':>14} {'min_keyness':>11} {'fit':>6} {'held-out':>8}")
    for hw, mk, f, h in results:
        mark = "  <- chosen on fit" if (hw, mk) == best[:2] else ""
        cur = "  (shipped)" if (hw, mk) == (S.HEADING_WEIGHT, S.MIN_KEYNESS) else ""
        print(f"{hw:>14.1f} {mk:>11.2f} {f:>6.3f} {h:>8.3f}{mark}{cur}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
