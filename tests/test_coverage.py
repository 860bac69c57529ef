"""The aspect-coverage check (qa_bot/coverage.py): what a question asks beyond its subject, whether the passages on
the subject state it, and an abstention that names what they leave out."""

from __future__ import annotations

import json
import math

import pytest

from qa_bot.coverage import (COVERAGE_FILE, FEATURES, aspect_weights, coverage_features, coverage_model, salience,
                             unsaid_words)
from qa_bot.text import term_set


def _idf(terms: set[str]) -> dict[str, float]:
    # a medical word in 1 chunk in 50; "alright" in almost none (general English says it far more often)
    return {t: 10.0 if t == "alright" else 4.0 for t in terms}


def test_aspect_words_leave_out_the_subject_and_conversation():
    w = aspect_weights("Alright, because I have a fatty liver, can I safely take Imodium?", {"imodium", "loperamid"},
                       _idf)
    assert {"fatti", "liver"} <= set(w)
    assert "imodium" not in w  # the subject is not what is asked of it
    assert "alright" not in w  # general English far more often than the corpus: conversation, not an aspect


def test_salience_reads_the_chunk_share_back_from_the_idf():
    common_in_corpus = math.log1p(1 / 0.05)  # idf of a word in 1 chunk in 20
    rare_in_corpus = math.log1p(1 / 1e-5)
    assert salience("dose", common_in_corpus) > 0
    assert salience("alright", rare_in_corpus) < 0
    assert salience("xyzzyvir", rare_in_corpus) > 0  # a name general English does not know


def test_coverage_features_best_sentence_and_unsaid_words():
    w = {"fatti": 5.0, "liver": 3.0}
    sents = [term_set("Loperamide may cause constipation."), term_set("Do not take it for more than 2 days.")]
    f = coverage_features(w, sents)
    assert f["cov_best"] == 0.0 and f["cov_any"] == 0.0 and f["miss_share"] == 1.0 and f["miss_idf"] == 5.0
    f2 = coverage_features(w, sents + [term_set("People with liver disease should ask a doctor first.")])
    assert f2["cov_best"] == pytest.approx(3 / 8) and f2["miss_idf"] == 5.0
    f3 = coverage_features(w, [term_set("In fatty liver disease loperamide is safe.")])
    assert f3["cov_best"] == 1.0 and f3["miss_share"] == 0.0
    assert set(f) == set(FEATURES)
    assert unsaid_words("Because I have a fatty liver, can I take Imodium?", w, sents[:1]) == ["fatty liver"]
    # nothing asked beyond the subject: nothing missing
    assert coverage_features({}, sents)["cov_best"] == 1.0


def test_the_shipped_model_is_fitted_and_prefers_stated_aspects():
    d = json.loads(COVERAGE_FILE.read_text(encoding="utf-8"))
    assert d["fitted_by"] == "benchmarks/fit_coverage.py" and "document_folds" in d and "source_held_out" in d
    m = coverage_model()
    w = {"fatti": 5.0, "liver": 3.0}
    said = coverage_features(w, [term_set("In fatty liver disease loperamide is safe.")])
    unsaid = coverage_features(w, [term_set("Loperamide may cause constipation.")])
    assert m.prob(said) > m.prob(unsaid)


# --- in the composer ------------------------------------------------------------------------------------
from pathlib import Path  # noqa: E402

from qa_bot import compose as C  # noqa: E402
from qa_bot.scorer import Linear  # noqa: E402
from qa_bot.settings import ComposerWeights, Settings  # noqa: E402
from qa_bot.types import Subject  # noqa: E402
from tests.helpers import passage  # noqa: E402

Q = "Because I have a fatty liver, can I safely take Imodium?"
SUBJ = Subject(name="Imodium", term="imodium", df=4, alternatives=["loperamide"], alt_terms=["loperamid"], strong=True)


def _p(text: str, doc: str = "d1") -> object:
    return passage(text, doc, score=1.0, dense_score=1.0, chunk_id=f"{doc}#0", title="Diarrhea", content_hash=doc)


def _stats() -> C.CorpusStats:
    # an index's rarity: "because" and "safely" in about 1 chunk in 12 (English says them more often), the rest rarer
    return C.CorpusStats(idf=lambda terms: {t: 2.5 if t in {"becaus", "safe"} else 5.0 for t in terms})


def _settings(answerable: bool = False) -> Settings:
    return Settings(data_dir=Path("/nonexistent-qa-bot-test"), composer=ComposerWeights(answerable=answerable))


def test_weighed_coverage_names_the_aspect_words_no_passage_states():
    off = [_p("Loperamide (Imodium) may help stop diarrhea in adults. Do not take loperamide for more than 2 days.")]
    comp = C.Composer(_settings(), _stats())
    wd = comp.coverage(Q, comp.weigh(Q, Q, off, None, SUBJ), SUBJ)
    assert wd.unsaid[0] == "fatty liver" and "because" not in wd.unsaid
    assert wd.coverage["cov_any"] < 1 and 0 < wd.coverage["covered"] < 1
    on = off + [_p("People with fatty liver disease can safely take loperamide (Imodium) at the usual dose.", "d2")]
    wd2 = comp.coverage(Q, comp.weigh(Q, Q, on, None, SUBJ), SUBJ)
    assert "fatty liver" not in wd2.unsaid and wd2.coverage["cov_any"] > wd.coverage["cov_any"]


def test_answerability_abstention_says_what_is_missing(monkeypatch):
    # a model that finds nothing answerable: the abstention must name what the documents on the subject leave out
    monkeypatch.setattr(C, "answerable_model", lambda: Linear(coef={}, mean={}, scale={}, intercept=-5.0))
    # ("safely" asks about safety: a passage on Imodium that says nothing of it is named as missing before any model)
    unsafe = _p("Loperamide (Imodium) may help stop diarrhea in adults. Do not take loperamide for more than 2 days.")
    a = C.compose(Q, Q, [unsafe], _settings(), subject=SUBJ, stats=_stats())
    assert a.abstained and "do not say its side effects or safety" in a.abstain_reason
    p = _p("Loperamide (Imodium) is safe for most adults and may help stop diarrhea. Do not take loperamide for more "
           "than 2 days.")
    a = C.compose(Q, Q, [p], _settings(answerable=True), subject=SUBJ, stats=_stats())
    assert a.abstained and not a.sentences and a.related
    assert "on Imodium (loperamide) do not mention \u201cfatty liver\u201d" in a.abstain_reason
    assert "answerability" in a.notice
    # the same question answered when the model is off (the default)
    assert not C.compose(Q, Q, [p], _settings(), subject=SUBJ, stats=_stats()).abstained
