"""The composer's steps, one at a time (qa_bot.compose.Composer): each takes what the step before made and the
index's statistics passed in (CorpusStats), nothing from a global store."""

from __future__ import annotations

from pathlib import Path

from helpers import passage

from qa_bot.compose import Chosen, Composer, CorpusStats, Lead, compose, passing_mention
from qa_bot.settings import ComposerWeights, Settings
from qa_bot.types import Answer, Chunk, Passage, Subject


def _p(text: str, doc: str = "d1", title: str = "Gout", score: float = 1.0, heading: str = "", doc_type="expert_answer",
       kind: str | None = None, recs=None, sid: str = "s", published: str | None = None) -> Passage:
    return passage(text, doc, score=score, dense_score=score, sid=sid, title=title, doc_type=doc_type,
                   heading_path=[heading] if heading else [], kind=kind, recs=recs or [], published=published)


def _composer(**kw) -> Composer:
    return Composer(Settings(data_dir=Path("/nonexistent-qa-bot-test"), **kw))


def _base(q: str = "q") -> Answer:
    return Answer(question=q, standalone_question=q, disclaimer="d")


def test_gate_abstains_below_the_confidence_threshold():
    c = _composer()
    gated, _ = c.gate("q", [_p("Gout is treated with colchicine in most adults.")], _base(), None, (0.01, "weak"))
    assert gated is not None and gated.abstained and "weak" in gated.notice
    assert c.gate("q", [_p("Gout is treated with colchicine in most adults.")], _base(), None, (0.9, ""))[0] is None


def test_asked_weighs_terms_by_the_statistics_passed_in():
    stats = CorpusStats(idf=lambda terms: {t: (5.0 if t == "colchicin" else 1.0) for t in terms})
    a = Composer(Settings(data_dir=Path("/nonexistent-qa-bot-test")), stats).asked(
        "What dose of colchicine for gout?", "What dose of colchicine for gout?", None)
    assert a.weights["colchicin"] == 5.0 and a.total == sum(a.weights.values())
    assert [x.name for x in a.aspects] == ["dose"] and a.wants_quantity and not a.followup
    f = _composer().asked("how long?", "gout colchicine how long?", None)
    assert f.followup  # a follow-up's own words are weighed apart


def test_lead_document_prefers_the_named_body_and_the_newer_guidance():
    c = _composer()
    old = _p("Screen adults aged 50 to 75 years.", "old", "Colorectal cancer: screening", 1.0, doc_type="guideline",
             published="2016-06-15", sid="a")
    new = _p("Screen adults aged 45 to 75 years.", "new", "Colorectal cancer: screening", 0.95, doc_type="guideline",
             published="2021-05-18", sid="b")
    lead = c.lead_document(c.asked("CRC screening age?", "CRC screening age?", None), [old, new], None)
    assert lead.doc_id == "new" and lead.older == {"old": "2016"}


def test_lead_extras_come_from_the_statistics_not_a_store():
    lead = _p("Screen adults aged 45 to 75 years.", "g", "Colorectal cancer", doc_type="guideline")
    other = Chunk(chunk_id="g#2", doc_id="g", section_id="g#2", text="Adults 76 to 85: selectively.", doc_type="guideline",
                  collection="c", start=0, end=10, n_tokens=5, content_hash="x", kind="recommendation")
    c = Composer(Settings(data_dir=Path("/nonexistent-qa-bot-test")), CorpusStats(doc_chunks=lambda d: [other]))
    extras = c.lead_extras(lead, [lead])
    assert [p.chunk.chunk_id for p in extras] == ["g#2"] and extras[0].features["lead_doc"] == 1.0
    assert _composer().lead_extras(lead, [lead]) == []  # no statistics: no extras


def test_candidate_pool_keeps_passages_on_the_subject():
    c = _composer()
    on = _p("Colchicine treats gout flares.", "d1", "Gout", 1.0)
    off = _p("Statins lower cholesterol in adults.", "d2", "Cholesterol", 0.5)
    asked = c.asked("How is gout treated?", "How is gout treated?", None)
    lead = c.lead_document(asked, [on, off], None)
    assert [p.chunk.doc_id for p in c.candidate_pool(asked, lead, [on, off])] == ["d1"]


def test_score_sentence_is_the_weighted_sum_of_its_features():
    p = _p("Colchicine treats gout flares in adults.", "d1", "Gout")
    q = "How is gout treated with colchicine?"
    c = _composer()
    asked = c.asked(q, q, None)
    lead = Lead(passage=p, ranked=[p], older={}, about=None)
    [cand] = c.score(asked, [p], lead)
    heavier = _composer(composer=ComposerWeights(overlap=3.0))
    [cand2] = heavier.score(heavier.asked(q, q, None), [p], lead)
    assert cand2.score > cand.score  # the weights come from settings.composer


def test_bottom_line_chooses_the_recommendation_and_key_points_follow():
    c = _composer()
    rec = _p("The USPSTF recommends screening for colorectal cancer in adults aged 45 to 49 years.", "g",
             "Colorectal cancer: screening", 1.0, doc_type="guideline", kind="recommendation", recs=[(0, 85, "B")])
    rationale = _p("Colorectal cancer is the third leading cause of cancer death in adults in the United States.", "g",
                   "Colorectal cancer: screening", 0.9, doc_type="guideline", sid="r", heading="Rationale")
    q = "colorectal cancer screening age for adults 45 to 49?"
    asked = c.asked(q, q, None)
    lead = c.lead_document(asked, [rec, rationale], None)
    cands = c.score(asked, c.candidate_pool(asked, lead, [rec, rationale]), lead)
    chosen = Chosen()
    best = c.bottom_line(asked, cands, lead, None, chosen)
    assert best.is_rec and best.grade == "B" and chosen.items[0][0] == "bottom_line"
    c.key_points(cands, best, lead, chosen)
    out = c.numbered(chosen, [rec, rationale], q)
    assert out["sentences"][0].note.startswith("grade B")
    assert [x.n for x in out["citations"]] == list(range(1, len(out["citations"]) + 1))


def test_conflicts_note_cites_both_sides():
    c = _composer()
    q = "stem cell therapy for stroke?"
    neg = _p("Stem cell therapy is not currently recommended for stroke outside clinical trials.", "g", "Stroke",
             1.0, doc_type="guideline")
    pos = _p("Stem cell therapy may improve recovery after stroke in early studies.", "e", "Stroke research", 0.9,
             sid="x")
    asked = c.asked(q, q, None)
    lead = c.lead_document(asked, [neg, pos], None)
    cands = c.score(asked, [neg, pos], lead)
    chosen = Chosen()
    c.conflicts(q, cands, chosen)
    assert [g for g, _ in chosen.items] == ["conflicting_evidence", "conflicting_evidence"]


def test_a_name_mentioned_in_passing_is_not_answered():
    subj = Subject(name="blepharitis", term="blephar", df=12, strong=True)
    p = _p("Signs include: red eyes, blepharitis, dry skin and hair loss.", "d1", "Sea-blue histiocytosis")
    c = _composer()
    asked = c.asked("What is blepharitis?", "What is blepharitis?", None)
    cands = c.score(asked, [p], Lead(passage=p, ranked=[p], older={}, about=[p], subject=subj))
    assert not passing_mention(subj, cands, [p])  # a sentence that names it can be quoted
    # the document names it (in a sentence that is no quotable statement); nothing weighed is about it
    p2 = _p("Red, itchy eyelids are common in adults. See also: blepharitis", "d2", "Sea-blue histiocytosis",
            heading="Symptoms")
    cands2 = c.score(asked, [p2], Lead(passage=p2, ranked=[p2], older={}, about=[p2], subject=subj))
    assert cands2 and passing_mention(subj, cands2, [p2])
    a = compose("What is blepharitis?", "What is blepharitis?", [p2], _composer().settings, subject=subj)
    assert a.abstained and "only in passing" in a.abstain_reason
    headed = _p("Red, itchy eyelids are common in adults.", "d3", "Blepharitis")
    assert not passing_mention(subj, c.score(asked, [headed], Lead(passage=headed, ranked=[headed], older={},
                                                                     about=[headed], subject=subj)), [headed])
