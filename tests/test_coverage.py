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
