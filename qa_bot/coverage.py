"""Aspect coverage: does any passage about the question's subject state what the question asks of it?

The question's aspect words are its content words less its subject's (the subject's names, else the lead document's
title words), each weighed by its rarity in the index (idf). A small logistic model (``qa_bot/data/coverage.json``)
reads how much of them the best sentence and all the sentences of the passages on the subject hold, and the rarest
aspect word that none holds. It is fitted by ``benchmarks/fit_coverage.py`` on the corpus's own supervision, never
on evaluation rows: a MedQuAD question heading ("What are the treatments for X?") asked of its own document is
covered; asked of the same document without its answer section, it is not.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from pathlib import Path

from .scorer import DATA, Linear, _load
from .text import _WORD, STOP, soft_overlap, stem_words

COVERAGE_FILE = DATA / "coverage.json"
FEATURES = ("cov_best", "cov_any", "miss_share", "miss_idf", "n_aspect")
WORDS_PER_CHUNK = 120.0  # a chunk's words, about (the chunker's target size): English frequency → chunk share


def coverage_model(path: Path = COVERAGE_FILE) -> Linear:
    return _load(str(path))


def salience(word: str, idf: float, words_per_chunk: float = WORDS_PER_CHUNK) -> float:
    """How much more often the index's chunks hold ``word`` than general English would (log10): above 0 a word of
    the corpus's subject matter ("dose", "contagious", "liver"), below 0 conversation ("alright", "dont", "much").
    The chunk share is read back from the idf (``retrieve._idf``: idf = ln(1 + n / (df + 1))); English from
    wordfreq (a word it does not know, a drug's name or a misspelling, is salient)."""
    from .subject import english_zipf

    zipf = english_zipf(word)
    if zipf <= 0:
        return 9.0
    share = 1.0 / max(math.expm1(idf), 1e-9)
    return math.log10(share / (words_per_chunk * 10 ** (zipf - 9)))


def aspect_weights(question: str, subject_terms: Iterable[str], idf: Callable[[set[str]], dict[str, float]],
                   words_per_chunk: float = WORDS_PER_CHUNK) -> dict[str, float]:
    """The question's aspect words: its stemmed content words that do not name the subject and that the corpus
    holds more often than general English does (``salience``), each with its idf."""
    subject = set(subject_terms)
    words = [w for w in _WORD.findall((question or "").lower()) if w not in STOP and len(w) > 1]
    stems = dict(zip(words, stem_words(words)))
    terms = set(stems.values())
    if subject:
        terms -= set(soft_overlap(terms, subject))
    weights = idf(terms)
    return {t: weights[t] for w, t in stems.items()
            if t in terms and weights.get(t, 0) > 0 and salience(w, weights[t], words_per_chunk) > 0}


def coverage_features(weights: dict[str, float], sentences: Iterable[frozenset[str]]) -> dict[str, float]:
    """How much of the aspect words (``weights``: term → idf) the sentences state: the best sentence's idf share
    (``cov_best``), the share said anywhere (``cov_any``), the share and the highest idf of those never said."""
    total = math.fsum(weights.values())
    if not total:
        return {"cov_best": 1.0, "cov_any": 1.0, "miss_share": 0.0, "miss_idf": 0.0, "n_aspect": 0.0}
    asked = set(weights)
    best, said = 0.0, set()
    for terms in sentences:
        hit = soft_overlap(asked, terms)
        if hit:
            said |= hit
            best = max(best, math.fsum(weights[t] for t in hit) / total)
    unsaid = [weights[t] for t in asked - said]
    return {"cov_best": best, "cov_any": 1.0 - math.fsum(unsaid) / total, "miss_share": len(unsaid) / len(asked),
            "miss_idf": max(unsaid, default=0.0), "n_aspect": math.log1p(len(asked))}


def covered(model: Linear, features: dict[str, float]) -> float:
    """The probability that the sentences state the aspect asked (``model.threshold``: the decision's cut)."""
    return model.prob(features)


def unsaid_words(question: str, weights: dict[str, float], sentences: Iterable[frozenset[str]]) -> list[str]:
    """The question's aspect words that none of the sentences states, as the question spells them, in its order;
    words next to each other in the question are one phrase ("fatty liver")."""
    sentences = list(sentences)
    said = set().union(*(soft_overlap(set(weights), s) for s in sentences)) if sentences else set()
    words = _WORD.findall((question or "").lower())
    stems = stem_words(words)
    out: list[str] = []
    run: list[str] = []
    for w, t in zip(words + [""], stems + [""]):
        if t in weights and t not in said and w not in STOP:
            run.append(w)
            continue
        phrase = " ".join(run)
        if phrase and phrase not in out:
            out.append(phrase)
        run = []
    return out
