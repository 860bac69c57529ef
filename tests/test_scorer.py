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
