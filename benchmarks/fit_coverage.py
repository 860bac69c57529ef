"""Fits the aspect-coverage model (``qa_bot/coverage.py``) on the corpus's own question → answer sections.

    QA_BOT_DATA_DIR=... .venv/bin/python benchmarks/fit_coverage.py [--docs 1500] [--max-false 0.05] [--write]

Supervision: every MedQuAD document of the index (GARD, GHR, MedlinePlus, NINDS, NIDDK, CancerGov, NHLBI, CDC,
NIHSeniorHealth) answers question headings of one subject ("What are the treatments for X?"), one section each. A
heading asked of its document (every section's sentences) is covered; asked of the same document without its own
section (the subject's other aspects) it is not: what a question about a known subject looks like when the corpus
does not say what was asked. The subject words are the title's. No evaluation row is fitted on.
Choices: the regularisation C on 5 folds split by document; the threshold is the highest probability cut that
abstains on at most ``--max-false`` of the covered questions in those folds. Each source's figures are those of
the model fitted without that source (leave one source out). ``--write`` writes ``qa_bot/data/coverage.json``.
"""

from __future__ import annotations

import argparse
import json
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

import numpy as np  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.metrics import roc_auc_score  # noqa: E402
from sklearn.model_selection import GroupKFold  # noqa: E402

from qa_bot.compose import _sentence_items  # noqa: E402
from qa_bot.coverage import COVERAGE_FILE, FEATURES, aspect_weights, coverage_features  # noqa: E402
from qa_bot.retrieve import get_retriever  # noqa: E402
from qa_bot.settings import Settings  # noqa: E402
from qa_bot.text import term_set  # noqa: E402

SOURCES = ("GARD", "GHR", "MPlusHealthTopics", "NINDS", "NIDDK", "CancerGov", "NHLBI", "CDC", "NIHSeniorHealth")
CS = (0.01, 0.1, 1.0, 10.0)


def source_of(doc_id: str) -> str:
    return re.sub(r"[_\d].*", "", doc_id)


def examples(retriever, n_docs: int, seed: int = 0) -> list[dict]:
    """(question heading, sentences of its document with or without its section) pairs, labelled covered or not."""
    docs = [d for d in retriever.store.known_documents() if source_of(d) in SOURCES]
    random.Random(seed).shuffle(docs)
    out: list[dict] = []
    for doc_id in docs[:n_docs]:
        sections: dict[str, list[frozenset[str]]] = defaultdict(list)
        title = ""
        for ch in retriever.store.doc_chunks(doc_id):
            q = ch.heading_path[-1] if ch.heading_path else ""
            if not q.endswith("?"):
                continue
            title = title or ch.title or (ch.heading_path[0] if ch.heading_path else "")
            sections[q] += [terms for _, _, _, terms in _sentence_items(ch.text, ch.kind)]
        if len(sections) < 2:
            continue
        for q, own in sections.items():
            w = aspect_weights(q, term_set(title), lambda ts: retriever.idf(ts))
            if not w or not own:
                continue
            others = [t for k, v in sections.items() if k != q for t in v]
            for label, sents in ((1, own + others), (0, others)):
                f = coverage_features(w, sents)
                out.append({"doc": doc_id, "source": source_of(doc_id), "q": q, "y": label,
                            "x": [f[k] for k in FEATURES]})
    return out


def fit(X: np.ndarray, y: np.ndarray, C: float) -> tuple[LogisticRegression, np.ndarray, np.ndarray]:
    mean, scale = X.mean(0), X.std(0)
    scale[scale == 0] = 1.0
    m = LogisticRegression(C=C, max_iter=2000).fit((X - mean) / scale, y)
    return m, mean, scale


def predict(model, X: np.ndarray) -> np.ndarray:
    m, mean, scale = model
    return m.predict_proba((X - mean) / scale)[:, 1]


def threshold_for(p: np.ndarray, y: np.ndarray, max_false: float) -> float:
    """The highest cut that abstains (p < cut) on at most ``max_false`` of the covered questions."""
    pos = np.sort(p[y == 1])
    k = int(np.floor(max_false * len(pos)))
    return float(pos[k]) if len(pos) else 0.5


def figures(p: np.ndarray, y: np.ndarray, cut: float) -> dict:
    return {"n": int(len(y)), "auc": round(float(roc_auc_score(y, p)), 3) if len(set(y)) == 2 else None,
            "false_abstain": round(float(np.mean(p[y == 1] < cut)), 3),
            "abstain_when_missing": round(float(np.mean(p[y == 0] < cut)), 3)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=1500)
    ap.add_argument("--max-false", type=float, default=0.05)
    ap.add_argument("--write", action="store_true")
    a = ap.parse_args()
    retriever = get_retriever(Settings())
    ex = examples(retriever, a.docs)
    X = np.array([e["x"] for e in ex], float)
    y = np.array([e["y"] for e in ex], int)
    docs = np.array([e["doc"] for e in ex])
    src = np.array([e["source"] for e in ex])
    print(f"{len(ex)} pairs from {len(set(docs))} documents", file=sys.stderr)
    folds = list(GroupKFold(n_splits=5).split(X, y, docs))
    best = None
    for C in CS:
        p = np.zeros(len(y))
        for tr, te in folds:
            p[te] = predict(fit(X[tr], y[tr], C), X[te])
        auc = roc_auc_score(y, p)
        print(f"C={C}: document folds AUC {auc:.3f}", file=sys.stderr)
        if best is None or auc > best[0] + 1e-4:
            best = (auc, C, p)
    _, C, p_doc = best
    cut = threshold_for(p_doc, y, a.max_false)
    by_source = {}
    for s in sorted(set(src)):
        tr, te = src != s, src == s
        if te.sum() < 10:
            continue
        by_source[s] = figures(predict(fit(X[tr], y[tr], C), X[te]), y[te], cut)
    model = fit(X, y, C)
    m, mean, scale = model
    out = {"fitted_by": "benchmarks/fit_coverage.py", "sources": sorted(set(src)), "pairs": len(ex),
           "documents": int(len(set(docs))), "C": C, "max_false": a.max_false,
           "coef": dict(zip(FEATURES, map(float, m.coef_[0]))), "intercept": float(m.intercept_[0]),
           "mean": dict(zip(FEATURES, map(float, mean))), "scale": dict(zip(FEATURES, map(float, scale))),
           "threshold": cut, "document_folds": figures(p_doc, y, cut), "source_held_out": by_source}
    print(json.dumps({k: v for k, v in out.items() if k not in ("mean", "scale")}, indent=1))
    if a.write:
        COVERAGE_FILE.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {COVERAGE_FILE}", file=sys.stderr)


if __name__ == "__main__":
    main()
