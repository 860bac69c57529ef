"""The fitted scorers shipped as data (qa_bot/data/sentence_scorer.json, answerable.json; benchmarks/fit_scorer.py):
they load, rank as fitted, and the composer uses them when its settings say so."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qa_bot.compose import Composer, Lead, answerability_features, compose
from qa_bot.scorer import ANSWERABLE_FILE, SENTENCE_FILE, Linear, answerable_model, sentence_scorer
from qa_bot.settings import ComposerWeights, Settings
from qa_bot.types import Chunk, Passage, Subject


def _p(text: str, doc: str = "d1", title: str = "Gout", score: float = 1.0, sid: str = "s", heading: str = "") -> Passage:
    c = Chunk(chunk_id=f"{doc}#{sid}", doc_id=doc, section_id=f"{doc}#{sid}", text=text, doc_type="expert_answer",
              collection="c", title=title, heading_path=[title, heading] if heading else [], start=0, end=len(text),
              n_tokens=len(text.split()), content_hash=doc + sid)
    return Passage(chunk=c, score=score, dense_score=score)


def _settings(**kw) -> Settings:
    return Settings(data_dir=Path("/nonexistent-qa-bot-test"), composer=ComposerWeights(**kw))


def test_shipped_files_say_how_they_were_fitted_and_hold_kqa_out():
    for path in (SENTENCE_FILE, ANSWERABLE_FILE):
        d = json.loads(path.read_text(encoding="utf-8"))
        assert d["fitted_by"] == "benchmarks/fit_scorer.py" and d["held_out"] == "kqa" and "kqa" not in d["sources"]
        assert d["coef"] and set(d["coef"]) == set(d["mean"]) == set(d["scale"])
        assert d["report"]["folds"]  # the held-out-fold figures travel with the weights


def test_sentence_scorer_ranks_the_on_aspect_sentence_above_the_off_aspect_one():
    scorer = sentence_scorer()
    q = "What dose of colchicine is used for a gout flare?"
    on = _p("For a gout flare, colchicine 1.2 mg is taken at once, then 0.6 mg one hour later.", "d1", score=0.8)
    off = _p("Gout is more common in men than in women and its prevalence rises with age.", "d2", "Gout overview",
             score=0.8)
    c = Composer(_settings(fitted=True))
    asked = c.asked(q, q, None)
    lead = Lead(passage=on, ranked=[on, off], older={}, about=None)
    cands = c.score(asked, [on, off], lead)
    by_doc = {x.passage.chunk.doc_id: x for x in cands}
    assert scorer.score(by_doc["d1"].features) > scorer.score(by_doc["d2"].features)
    assert by_doc["d1"].score > by_doc["d2"].score  # the composer scored them with it
    hand = Composer(_settings(fitted=False)).score(asked, [on, off], lead)
    assert [x.score for x in hand] != [x.score for x in cands]  # and not with the hand-set weights


def test_a_bad_scorer_file_is_a_clear_error(tmp_path):
    bad = tmp_path / "s.json"
    bad.write_text("{}", encoding="utf-8")
    with pytest.raises(ValueError, match="s.json.*fit_scorer"):
        Linear.load(bad)


def test_answerability_decision_abstains_on_a_fixture_the_passages_do_not_answer():
    model = answerable_model()
    q = "Is it safe to take sertraline during pregnancy?"
    subj = Subject(name="sertraline", term="sertralin", df=14, strong=True)
    answering = [_p("Sertraline is considered one of the safer antidepressants during pregnancy, and most women "
                    "who take sertraline in pregnancy have healthy babies.", "a", "Sertraline", 0.9)]
    unrelated = [_p("Washing your hands often is a simple way to prevent the spread of colds in day care.", "b",
                    "Common cold", 0.2)]
    c = Composer(_settings(answerable=True))
    p_yes = model.prob(answerability_features(c.weigh(q, q, answering, None, subj), 0.8, subj, subj))
    p_no = model.prob(answerability_features(c.weigh(q, q, unrelated, None, None), 0.3, None, subj))
    assert p_yes > model.threshold > p_no
    a = compose(q, q, unrelated, _settings(answerable=True), confidence=(0.3, ""))
    assert a.abstained and "unlikely to answer" in a.notice
    # an answer that would never name the question's subject: the abstention names it
    named = compose(q, q, unrelated, _settings(answerable=True), confidence=(0.3, ""), subject=subj)
    assert named.abstained and "None of the passages found speaks of sertraline" in named.abstain_reason
    kept = compose(q, q, answering, _settings(answerable=True), confidence=(0.8, ""), subject=subj)
    assert not kept.abstained and any("ertraline" in s.text for s in kept.sentences)
    off = compose(q, q, unrelated, _settings(answerable=False), confidence=(0.3, ""))
    assert not off.abstained  # without the decision the unrelated passage is quoted


def _fit_scorer_module():
    import importlib.util

    path = Path(__file__).parent.parent / "benchmarks" / "fit_scorer.py"
    spec = importlib.util.spec_from_file_location("fit_scorer", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _ranking_data(seed: int = 0):
    """60 questions of 20 sentences: the hand-set score finds the answer sentence in half of them, ``dense`` in all."""
    import numpy as np

    rng = np.random.default_rng(seed)
    names = ["dense", "hand", "words"]
    X, y, qid, src = [], [], [], []
    for q in range(60):
        ans = rng.integers(20)
        for i in range(20):
            hand = rng.normal() + (2.0 if i == ans and q % 2 == 0 else 0.0)
            dense = rng.normal() + (3.0 if i == ans else 0.0)
            X.append([dense, hand, rng.normal()])
            y.append(int(i == ans))
            qid.append(q)
            src.append("a" if q < 30 else "b")
    return np.array(X), np.array(y), np.array(qid), np.array(src), names


def test_the_correction_learns_what_the_hand_set_score_misses_and_is_pulled_back_to_it():
    F = _fit_scorer_module()
    X, y, qid, src, names = _ranking_data()
    hand_p1 = F.p_at_1(X[:, 1], y, qid)
    loose = F.fit_residual(X, y, qid, src, 0.01, names)
    assert loose["coef"]["dense"] > 0.5 and F.p_at_1(F.apply(loose, X, names), y, qid) > hand_p1 + 0.2
    tight = F.fit_residual(X, y, qid, src, 1e6, names)
    assert abs(tight["coef"]["dense"]) < 1e-3
    # pulled to 0 the correction leaves the hand-set score itself, on the composer's scale
    lin = Linear(coef=tight["coef"], mean=tight["mean"], scale=tight["scale"], gain=tight["gain"],
                 offset=tight["offset"])
    for row in X[:5]:
        assert lin.score(dict(zip(names, row))) == pytest.approx(row[1], abs=1e-3)


def test_the_corpus_questions_label_their_own_section_and_recommendations():
    F = _fit_scorer_module()
    qs = F.corpus_questions()
    sources = {q["source"] for q in qs}
    assert sources == {"medquad", "guidelines"}  # the corpus's own supervision: no evaluation row
    mq = next(q for q in qs if q["source"] == "medquad")
    assert mq["question"].endswith("?") and mq["answer"]
    first = mq["answer"].split(". ")[0]

    class C:
        def __init__(self, text, doc, rec=False):
            self.text, self.is_rec = text, rec
            self.passage = _p(text, doc)

    assert F.corpus_label(mq, C(first, mq["doc_id"])) == 1
    assert F.corpus_label(mq, C(first, "another-doc")) == 0
    assert F.corpus_label(mq, C("An unrelated sentence about something else entirely.", mq["doc_id"])) == 0
    gl = next(q for q in qs if q["source"] == "guidelines")
    assert F.corpus_label(gl, C("Screen adults aged 50 to 75 years.", gl["doc_id"], rec=True)) == 1
    assert F.corpus_label(gl, C("Screen adults aged 50 to 75 years.", gl["doc_id"], rec=False)) == 0


def test_the_shipped_sentence_scorer_corrects_the_hand_set_score_and_loses_no_held_out_source():
    d = json.loads(SENTENCE_FILE.read_text(encoding="utf-8"))
    assert {"medquad", "guidelines"} <= set(d["sources"])
    rep = d["report"]
    hand, chosen = rep["folds"]["hand-set"], rep["folds"][f"residual lam={rep['lam']}"]
    assert ComposerWeights().fitted  # on by default: no source left out of its fit loses to the hand-set weights
    assert {"clinician", "liveqa2017", "mediqa2021", "medquad", "guidelines"} <= set(hand)
    for s in hand:  # each figure from the fit that left its source out
        assert chosen[s] >= hand[s]
    # a correction of the hand-set score: a sentence's composer score is the hand-set sum plus the fitted terms
    c = Composer(_settings(fitted=True))
    q = "What dose of colchicine is used for a gout flare?"
    on = _p("For a gout flare, colchicine 1.2 mg is taken at once, then 0.6 mg one hour later.", "d1", score=0.8)
    lead = Lead(passage=on, ranked=[on], older={}, about=None)
    cand = c.score(c.asked(q, q, None), [on], lead)[0]
    extra = sum(d["coef"][k] * (cand.features[k] - d["mean"][k]) / d["scale"][k] for k in d["coef"] if k != "hand")
    assert cand.score == pytest.approx(cand.features["hand"] + d["gain"] * extra)
