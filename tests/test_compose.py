"""The composer's steps, one at a time (qa_bot.compose.Composer): each takes what the step before made and the
index's statistics passed in (CorpusStats), nothing from a global store. The composer on clinicians' questions:
recommendation and grade first, on subject, no fragments, the case asked and its threshold, newer guidance and the
body named lead, follow-ups answered by what they newly ask."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import passage

from qa_bot import shorthand
from qa_bot.compose import Chosen, Composer, CorpusStats, Lead, compose, passing_mention, population_match
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


def test_a_low_confidence_abstention_names_the_drug_the_best_passages_never_speak_of():
    zoloft = Subject(name="zoloft", term="zoloft", alternatives=["sertraline"], alt_terms=["sertralin"], df=14)
    others = [_p("Metoprolol may cause side effects.", doc="m", title="Metoprolol"),
              _p("Ropinirole may cause side effects.", doc="r", title="Ropinirole")]
    gated, _ = _composer().gate("what are the side effects of zoloft", others, _base(), zoloft, (0.2, "weak"))
    assert gated.abstained and gated.abstain_reason.startswith("The best passages found do not speak of zoloft "
                                                               "(sertraline).")
    patient = _composer(audience="patient").gate("side effects of zoloft?", others, _base(), zoloft, (0.2, "weak"))[0]
    assert patient.abstain_reason.startswith("The closest pages we found do not speak of zoloft (sertraline).")
    named = [_p("Sertraline may cause nausea.", doc="s", title="Sertraline"), *others]
    gated, _ = _composer().gate("what are the side effects of zoloft", named, _base(), zoloft, (0.2, "weak"))
    assert gated.abstained and "zoloft" not in gated.abstain_reason  # (named: the standing text alone)
    # (a reason that names it already, shown to the reader as its note, is not said twice)
    gated, _ = _composer().gate("zoloft side effects?", others, _base(), zoloft,
                                (0.0, "no indexed document mentions 'zoloft'"))
    assert gated.abstained and "zoloft" not in gated.abstain_reason


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


def test_a_substances_legal_status_is_stated_of_it_not_of_a_drug_listed_beside_it():
    """"Gabapentin isn't a controlled substance?" was answered with benzodiazepines' habit-forming potential: a
    sentence naming gabapentin in a list, 25 words from "abuse liability", does not state gabapentin's status."""
    from qa_bot.compose import asked_of, unsaid_of_subject

    q = "Gabapentin isnt a controlled substance?"
    subj = Subject(name="Gabapentin", term="gabapentin", words=["gabapentin"], df=40, strong=True,
                   alternatives=["neurontin"], alt_terms=["neurontin"])
    status = _composer().asked(q, q, None).aspects
    assert [a.name for a in status] == ["controlled"] and asked_of(q, subj, status) == status
    # asked of the subject only when the question names it (a follow-up's "it" is not checked here)
    assert asked_of("Is it a controlled substance?", subj, status) == []
    listed = _p("For managing mild to moderate alcohol withdrawal in patients for whom risks of benzodiazepines "
                "outweigh benefits (e.g., inadequate monitoring available, abuse liability, or allergy/adverse "
                "reactions), the Work Group suggests considering carbamazepine, gabapentin, or valproic acid as an "
                "alternative. Chronic use of benzodiazepines is not recommended due to their habit-forming potential.",
                "sud", "Substance use disorders", doc_type="guideline")
    assert unsaid_of_subject(status, subj, [listed]) == status
    a = compose(q, q, [listed], _composer().settings, subject=subj)
    assert a.abstained and "do not say whether Gabapentin is a controlled or habit-forming substance" in \
        a.abstain_reason, a.abstain_reason
    stated = _p("Gabapentin was recently classified as a controlled substance in some states.", "pain",
                "Chronic pain", sid="b")
    assert unsaid_of_subject(status, subj, [listed, stated]) == []
    a = compose(q, q, [listed, stated], _composer().settings, subject=subj)
    assert not a.abstained
    # the statement of its status leads, over a better-scoring sentence that only names it in a list
    assert a.sentences[0].text.startswith("Gabapentin was recently classified"), a.sentences


def test_what_is_asked_of_a_drug_and_said_only_of_other_drugs_is_named_as_missing():
    """"Simvastatin — any harm in taking it in the morning?" was answered with a medicine list's advice and
    Ritalin's schedule: no sentence about simvastatin, its class, or under a heading naming it, says anything of its
    safety, here or anywhere in the index."""
    q = "Simvastatin. Any harm in taking it in the morning?"
    subj = Subject(name="Simvastatin", term="simvastatin", words=["simvastatin"], df=4, strong=True)
    about = _p("Simvastatin lowers LDL cholesterol in adults with heart disease. Keep a list of your medicines: "
               "Ritalin is usually taken 2 to 3 times a day, and its side effects include trouble sleeping.",
               "lipids", "Cholesterol", sid="a")
    other = _p("Methylphenidate side effects include a lower appetite.", "adhd", "ADHD medicines", sid="b")
    a = compose(q, q, [about, other], _composer().settings, subject=subj)
    assert a.abstained and "do not say the side effects or safety of Simvastatin" in a.abstain_reason, a.abstain_reason
    assert not any("Ritalin" in x.text for x in a.sentences)
    # said of a class the passages put it in: not missing
    statins = _p("Statins such as simvastatin lower LDL cholesterol. Statins are safe for most adults; muscle "
                 "aches are the commonest side effect.", "statins", "Statins", sid="c")
    assert not compose(q, q, [about, other, statins], _composer().settings, subject=subj).abstained
    # said of it elsewhere in the index (what retrieval did not bring): not missing either
    elsewhere = _p("Simvastatin can cause muscle pain, a side effect that is rare at low doses.", "statin-safety",
                   "Statin safety", sid="d").chunk
    stats = CorpusStats(chunks_with=lambda terms, limit, query=None: [elsewhere] if "simvastatin" in terms else [])
    assert not compose(q, q, [about, other], _composer().settings, subject=subj, stats=stats).abstained
    # a guideline on the question's topic need not name the drug in its sections; the check can be turned off
    # the sentence after the one naming it, when it points back to it, speaks of it too
    from qa_bot.compose import unsaid_of_subject
    imodium = Subject(name="Imodium", term="imodium", words=["imodium"], df=15, strong=True,
                      alternatives=["loperamide"], alt_terms=["loperamid"])
    how_long = _composer().asked("is it okay to take imodium long term?", "is it okay to take imodium long term?",
                                 None).aspects
    otc = _p("Medicines you can buy over the counter include loperamide (Imodium) and bismuth subsalicylate. Stop "
             "taking these medicines if the diarrhea lasts more than 2 days.", "diarrhea", "Diarrhea", sid="f")
    assert [a.name for a in how_long] == ["duration"]
    assert unsaid_of_subject(how_long, imodium, [otc], window=None) == []
    unrelated = _p("Medicines you can buy over the counter include loperamide (Imodium). Diarrhea that lasts more "
                   "than 2 days needs a doctor.", "diarrhea", "Diarrhea", sid="g")
    assert unsaid_of_subject(how_long, imodium, [unrelated], window=None) == how_long
    off = _composer(composer=ComposerWeights(aspect_of_subject=False))
    assert not compose(q, q, [about, other], off.settings, subject=subj).abstained


def test_aspects_that_are_a_substances_own_are_data_with_their_source():
    import tomllib

    from qa_bot.subject import ASPECTS_FILE, aspects

    data = tomllib.loads(ASPECTS_FILE.read_text(encoding="utf-8"))
    own = {a.name: a.own for a in aspects() if a.own}
    assert own == {"dose": "adjacent", "controlled": "named"}
    assert all(data[name].get("own_source") for name in own)
    pair = [a.name for a in aspects() if a.pair]
    assert pair == ["interaction", "precaution", "site", "effect", "indication", "diet", "alternative"] and all(data[name].get("pair_source") for name in pair)


def test_a_drug_taken_with_a_condition_the_asker_has_is_answered_of_both_or_named_as_missing():
    """"can i take ibuprofen if i have high blood pressure?" (MedQuAD's special precautions) was answered with
    "NSAIDs such as ibuprofen can help reduce inflammation": the drug named, nothing said of the condition."""
    q = "can i take ibuprofen if i have high blood pressure?"
    subj = Subject(name="ibuprofen", term="ibuprofen", words=["ibuprofen"], df=106, strong=True)
    listed = _p("Nonsteroidal anti-inflammatory drugs such as aspirin, ibuprofen (Advil) and naproxen (Aleve) can "
                "help reduce inflammation and relieve pain. Ibuprofen is taken every 6 hours.", "pain", "Pain relief",
                sid="a")
    both = _p("Ibuprofen and naproxen are pain relievers. Nonsteroidal anti-inflammatory drugs (NSAIDs) can harm your "
              "kidneys, especially if you have kidney disease, diabetes, and high blood pressure.", "kidney",
              "Kidney health", sid="b")
    indexed = {"ibuprofen": [listed.chunk], "pressur": [both.chunk], "high": [both.chunk], "blood": [both.chunk]}
    stats = CorpusStats(idf=lambda terms: {t: {"pressur": 3.0, "high": 2.0, "blood": 1.0}.get(t, 1.0) for t in terms},
                        chunks_with=lambda terms, limit, query=None: indexed.get(terms[0], []) if len(terms) == 1
                        else [])
    c = Composer(_composer().settings, stats)
    context = c.context_name(q, subj)
    assert context is not None and context.name == "high blood pressure" and context.term == "pressur"
    a = c.run(q, q, [listed], subject=subj)
    assert a.abstained and "whether it is safe for someone with high blood pressure" in a.abstain_reason, a.abstain_reason
    # said of the drug's class (the passages put ibuprofen among the NSAIDs) and the condition: that leads
    b = c.run(q, q, [listed, both], subject=subj)
    assert not b.abstained and b.bottom_line()[0].text.startswith("Nonsteroidal anti-inflammatory drugs (NSAIDs) can "
                                                                  "harm"), b.bottom_line()
    # no drug (a vaccine, a condition asked of itself): no precaution is read, nor asked
    shot = Subject(name="flu shot", term="shot", words=["flu", "shot"], df=50, strong=True)
    assert c.context_name("can i get the flu shot if i have a cold?", shot) is None
    q2 = "can i get the flu shot if i have a cold?"
    vaccine = _p("Flu vaccines can either be shots or nasal sprays.", "flu", "Flu shot", sid="c")
    assert c.weigh(q2, q2, [vaccine], None, shot).asked.aspects == []


def test_an_effect_asked_of_a_drug_is_stated_of_both_or_named_as_missing():
    """"does metformin cause hair loss?" was answered from the hair-loss page ("If there's a health problem causing
    your hair loss, doctors treat that problem"): the effect named, the drug not."""
    q = "does metformin cause hair loss?"
    subj = Subject(name="metformin", term="metformin", words=["metformin"], df=58, strong=True)
    drug = _p("Metformin lowers the amount of sugar the liver makes. Metformin may cause diarrhea.", "dm", "Diabetes "
              "medicines", sid="a")
    hair = _p("Metformin and hair loss: metformin may cause hair thinning and hair loss in some people.", "hair",
              "Hair loss", sid="b")
    indexed = {"metformin": [drug.chunk], "hair": [hair.chunk], "loss": [hair.chunk]}  # held, not retrieved
    stats = CorpusStats(idf=lambda terms: {t: {"hair": 3.0, "loss": 1.0}.get(t, 1.0) for t in terms},
                        chunks_with=lambda terms, limit, query=None: indexed.get(terms[0], [drug.chunk]) if len(terms) == 1
                        else [])
    c = Composer(_composer().settings, stats)
    a = c.run(q, q, [drug], subject=subj)
    assert a.abstained and "whether metformin causes hair loss" in a.abstain_reason, a.abstain_reason
    b = c.run(q, q, [drug, hair], subject=subj)
    assert not b.abstained and "hair loss" in b.bottom_line()[0].text, b.bottom_line()


def test_an_interaction_asked_of_two_named_drugs_is_stated_of_both_or_named_as_missing():
    """"How long do I need to wait before starting naproxen since I took ibuprofen?" was answered with "NSAIDs such
    as aspirin, ibuprofen and naproxen can help reduce inflammation": both named, nothing said of taking them
    together."""
    q = "How long do I need to wait before starting naproxen since I took ibuprofen this morning?"
    subj = Subject(name="naproxen", term="naproxen", words=["naproxen"], df=5, strong=True)
    listed = _p("Nonsteroidal anti-inflammatory drugs such as aspirin, ibuprofen (Advil) and naproxen (Aleve) can "
                "help reduce inflammation and relieve pain. Naproxen is taken twice a day.", "pain", "Pain relief",
                sid="a")
    indexed = {"naproxen": [listed.chunk], "ibuprofen": [listed.chunk]}
    stats = CorpusStats(chunks_with=lambda terms, limit, query=None: indexed.get(terms[0], []) if len(terms) == 1
                        else ([listed.chunk] if set(terms) <= {"naproxen", "ibuprofen"} else []))
    c = Composer(_composer().settings, stats)
    assert [x.name for x in c.second_names(q, subj)] == ["ibuprofen"]  # "morning" is no name; naproxen is the subject
    # a generic name in lower case is a name too (the drug dictionary's): "take aspirin with warfarin"
    stats_w = CorpusStats(chunks_with=lambda terms, limit, query=None: [listed.chunk])
    warfarin = Subject(name="warfarin", term="warfarin", words=["warfarin"], df=9, strong=True)
    assert [x.name for x in Composer(_composer().settings, stats_w).second_names(
        "is it safe to take aspirin with warfarin?", warfarin)] == ["aspirin"]
    a = c.run(q, q, [listed], subject=subj)
    assert a.abstained and "do not say whether naproxen can be taken with ibuprofen" in a.abstain_reason, a
    together = _p("Do not take naproxen together with ibuprofen: wait at least 8 hours after a dose of ibuprofen.",
                  "nsaids", "NSAIDs", sid="b")
    b = Composer(_composer().settings, stats).run(q, q, [listed, together], subject=subj)
    assert not b.abstained and b.bottom_line()[0].text.startswith("Do not take naproxen together"), b.bottom_line()
    # said of both in a chunk of the index that retrieval did not bring: not missing
    stats2 = CorpusStats(chunks_with=lambda terms, limit, query=None: [together.chunk] if len(terms) == 2 else
                         [listed.chunk])
    c2 = Composer(_composer().settings, stats2).run(q, q, [listed], subject=subj)
    # … and that sentence leads (it was not missing, but the answer led with another aspect)
    assert not c2.abstained and c2.bottom_line()[0].text.startswith("Do not take naproxen together"), c2.bottom_line()


def test_a_drug_asked_to_work_for_a_condition_is_stated_of_both_or_named_as_missing():
    """"Could you tell me about the success rate of Sertraline for Premature Ejaculation" was answered with
    sertraline's trial in perinatal depression: another condition's facts. The condition, capitalised as the asker
    wrote it, is a second name the index holds."""
    q = "Could you tell me about the success rate of Sertraline for Premature Ejaculation"
    subj = Subject(name="Sertraline", term="sertralin", words=["sertralin"], df=12, strong=True)
    trial = _p("The sertraline trial found that women taking sertraline had decreased depression recurrence compared "
               "with those taking placebo.", "pd", "Perinatal depression", sid="a")
    indexed = {"ejacul": [trial.chunk], "prematur": [trial.chunk]}
    stats = CorpusStats(idf=lambda terms: {t: {"ejacul": 4.0, "prematur": 2.0}.get(t, 1.0) for t in terms},
                        chunks_with=lambda terms, limit, query=None: indexed.get(terms[0], []) if len(terms) == 1
                        else [])
    c = Composer(_composer().settings, stats)
    context = c.context_name(q, subj)
    assert context is not None and context.term == "ejacul"
    a = c.run(q, q, [trial], subject=subj)
    assert a.abstained and "on Sertraline do not say whether it works for Premature Ejaculation" in a.abstain_reason, \
        a.abstain_reason
    works = _p("Sertraline taken daily delayed ejaculation and was effective in men with premature ejaculation.", "pe",
               "Premature ejaculation", sid="b")
    b = c.run(q, q, [trial, works], subject=subj)
    assert not b.abstained and b.bottom_line()[0].text.startswith("Sertraline taken daily"), b.bottom_line()


def test_a_pair_stated_in_a_passage_not_weighed_leads():
    """"Does metformin cause high blood pressure?" led with "Other types of diabetes pills, when taken alone, do not
    cause hypoglycemia": the sentence stating both was in a retrieved guideline passage the composer did not weigh
    (not the lead document's), so the pair was not missing, and not said either."""
    from qa_bot.compose import lookup_names

    q = "Does metformin cause high blood pressure?"
    subj = Subject(name="metformin", term="metformin", words=["metformin"], df=58, strong=True,
                   alternatives=["glucovance", "janumet", "metaglip"], alt_terms=["glucov", "janumet", "metaglip"])
    # the subject's own name is looked up first (the pair lookup reads the first few names only: sorted, the brands
    # came first and metformin was never read)
    assert lookup_names(subj, set())[0] == ["metformin"]
    pills = _p("Other types of diabetes pills, when taken alone, do not cause hypoglycemia. Examples of these "
               "medications are metformin (Glucophage) and acarbose (Precose).", "dm", "Hypoglycemia", sid="a",
               score=1.2)
    bp = _p("High blood pressure usually has no symptoms. Lowering blood pressure lowers the risk of stroke.", "bp",
            "High blood pressure", sid="b", score=1.0)
    trial = _p("Both trials reported no significant difference in blood pressure among persons receiving metformin "
               "compared with placebo.[42,43] The DPP reported greater weight loss with lifestyle change.", "pre",
               "Prediabetes: screening", sid="c", score=0.8, doc_type="guideline")
    stats = CorpusStats(idf=lambda terms: {t: {"pressur": 3.0, "high": 1.0, "blood": 2.0}.get(t, 1.0) for t in terms},
                        chunks_with=lambda terms, limit, query=None: [bp.chunk] if len(terms) == 1 else [])
    a = Composer(_composer().settings, stats).run(q, q, [pills, bp, trial], subject=subj)
    assert not a.abstained and a.bottom_line()[0].text.startswith("Both trials reported no significant difference"), \
        a.bottom_line()


def test_an_aspect_asked_of_a_named_subject_and_said_only_of_other_things_is_not_answered():
    from qa_bot.compose import asked_of, unsaid_of_subject

    q = "RR-TB short regimen — bedaquiline loading and maintenance dose (mg)?"
    subj = Subject(name="bedaquiline", term="bedaquilin", words=["bedaquilin"], df=3, strong=True)
    dose = _composer().asked(q, q, None).aspects
    assert [a.name for a in dose] == ["dose"] and asked_of(q, subj, dose) == dose
    assert asked_of("What dose of bedaquiline for adults?", subj, dose) == dose
    how_much = _composer().asked("How much bedaquiline should I take?", "How much bedaquiline should I take?", None)
    assert asked_of("How much bedaquiline should I take?", subj, how_much.aspects) == how_much.aspects != []
    # asked of what is prescribed for the condition, not of the condition named before it
    sore = Subject(name="sore throat", term="throat", words=["sore", "throat"], df=3, strong=True)
    assert asked_of("sore throat, FeverPAIN 4, adult — abx, dose, duration?", sore, dose) == []
    # the dose only: how long, or with what, is often said of a drug's class or under the condition
    q2 = "is it okay to take bedaquiline long term?"
    assert _composer().asked(q2, q2, None).aspects and asked_of(q2, subj, _composer().asked(q2, q2, None).aspects) == []
    # a regimen table names the drug beside other drugs' doses: not its dose
    regimen = _p("Short regimen: bedaquiline, linezolid and clofazimine for 9 months. Linezolid 600 mg once daily, "
                 "reduced to 300 mg if toxicity occurs.", "tb", "DR-TB regimens", heading="Short regimen",
                 doc_type="guideline")
    assert unsaid_of_subject(dose, subj, [regimen]) == dose
    a = compose(q, q, [regimen], _composer().settings, subject=subj)
    assert a.abstained and "do not say the dose or schedule of bedaquiline" in a.abstain_reason, a
    # said of it: in a sentence that names it, or under a heading that does
    named = _p("Bedaquiline 400 mg daily for 2 weeks, then 200 mg three times a week.", "tb", "DR-TB regimens",
               doc_type="guideline", sid="b")
    headed = _p("Give 400 mg daily for 2 weeks, then 200 mg three times a week.", "tb", "DR-TB regimens",
                heading="Bedaquiline", doc_type="guideline", sid="c")
    assert unsaid_of_subject(dose, subj, [regimen, named]) == []
    assert unsaid_of_subject(dose, subj, [regimen, headed]) == []
    assert not compose(q, q, [regimen, named], _composer().settings, subject=subj).abstained


# --- clinicians' questions -------------------------------------------------------------------------------
def test_population_match_by_age_and_sex():
    assert population_match("46-year-old", "adults aged 45 to 49 years") > 0
    assert population_match("46-year-old", "adults aged 50 to 75 years") < 0
    assert population_match("80-year-old", "adults 65 years or older") > 0
    assert population_match("27-year-old woman", "men who have sex with men") < 0


# --- composer --------------------------------------------------------------------------------------------
def _gp(doc: str, title: str, text: str, score: float, published: str, *, kind=None, grade=None, population=None,
        heading="Recommendation Summary", recs=None, sid=None) -> Passage:
    """A passage of a USPSTF guideline (a recommendation with its grade and population when ``kind`` is given)."""
    sid = sid or heading
    return passage(text, doc, score=score, sid=sid, chunk_id=f"{doc}#{sid}::0", heading_path=[title, heading],
                   doc_type="guideline", collection="uspstf", title=title, source="U.S. Preventive Services Task Force",
                   published=published, n_tokens=10, content_hash=doc, kind=kind, grade=grade, population=population,
                   recs=recs if recs is not None else ([(0, len(text), grade or "")] if kind else []))


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(data_dir=tmp_path / "none")


def test_bottom_line_is_the_recommendation_that_applies_with_its_grade(settings):
    q = "average-risk 46-year-old — start colorectal cancer screening now? grade?"
    ps = [_gp("crc", "Colorectal Cancer: Screening", "The USPSTF recommends screening for colorectal cancer in all adults "
             "aged 50 to 75 years.", 1.0, "2021-05-18", kind="recommendation", grade="A", sid="r1",
             heading="Adults aged 50 to 75 years"),
          _gp("crc", "Colorectal Cancer: Screening", "The USPSTF recommends screening for colorectal cancer in adults "
             "aged 45 to 49 years.", 0.95, "2021-05-18", kind="recommendation", grade="B", sid="r2",
             heading="Adults aged 45 to 49 years")]
    a = compose(q, q, ps, settings)
    bl = a.bottom_line()[0]
    assert "45 to 49" in bl.text and bl.note == "USPSTF grade B, 2021" and bl.display.endswith("(USPSTF grade B, 2021)")
    assert all(s.text in next(p.chunk.text for p in a.passages if p.chunk.chunk_id == c.chunk_id)
               for s in a.sentences for c in a.citations if c.n in s.citations)  # verbatim quotes


def test_key_points_stay_on_subject_and_skip_fragments(settings):
    q = "when should colorectal cancer screening start?"
    ps = [_gp("crc", "Colorectal Cancer: Screening", "The USPSTF recommends screening for colorectal cancer in adults "
             "aged 45 to 49 years. See modeling report[12,13] for additional details.", 1.0, "2021-05-18",
             kind="recommendation", grade="B", recs=[(0, 83, "B")]),
          _gp("lung", "Lung Cancer: Screening", "The USPSTF recommends annual screening for lung cancer with low-dose "
             "computed tomography in adults aged 50 to 80 years who have a 20 pack-year smoking history.", 0.8,
             "2021-03-09", kind="recommendation", grade="B"),
          _gp("asa", "Aspirin Use to Prevent Cardiovascular Disease and Colorectal Cancer: Preventive Medication",
             "The USPSTF recommends against initiating low-dose aspirin for the primary prevention of cardiovascular "
             "disease in adults 60 years or older.", 0.85, "2022-04-26", kind="recommendation", grade="D")]
    a = compose(q, q, ps, settings)
    texts = " ".join(s.text for s in a.sentences)
    assert "colorectal cancer in adults aged 45 to 49" in texts
    assert "lung" not in texts and "aspirin" not in texts and "modeling report" not in texts


def test_newer_version_of_the_same_guidance_leads(settings):
    q = "colorectal cancer screening age?"
    old = _gp("ngc", "Screening for colorectal cancer: U.S. Preventive Services Task Force recommendation statement.",
             "Average-risk adults should begin colorectal cancer screening at age 50 years with a stool test or "
             "colonoscopy.", 1.0, "2016 Jun 15", kind="recommendation", grade="A")
    new = _gp("uspstf", "Colorectal Cancer: Screening", "The USPSTF recommends screening for colorectal cancer in all "
             "adults aged 50 to 75 years.", 0.9, "2021-05-18", kind="recommendation", grade="A")
    a = compose(q, q, [old, new], settings)
    first = next(c for c in a.citations if c.n == a.bottom_line()[0].citations[0])
    assert first.doc_id == "uspstf"
    assert any("older guidance, 2016" in s.group for s in a.sentences if "age 50 years" in s.text)


def test_the_body_named_in_the_question_leads(settings):
    q = "VA/DoD BMI cutoffs for bariatric surgery? does BMI 37 with OSA qualify?"
    osa = _gp("osa", "Obstructive Sleep Apnea in Adults: Screening", "The USPSTF concludes that the current evidence is "
             "insufficient to assess screening for obstructive sleep apnea.", 1.0, "2022-11-15", kind="recommendation",
             grade="I")
    bar = _gp("ngc", "VA/DoD clinical practice guideline for screening and management of overweight and obesity.",
             "Offer bariatric surgery to adult patients with BMI 40 kg/m2 or more.", 0.95, "2014 Dec",
             kind="recommendation", grade="Strong For")
    bar.chunk.source = "Department of Veterans Affairs - Federal Government Agency [U.S.]"
    a = compose(q, q, [osa, bar], settings)
    first = next(c for c in a.citations if c.n == a.bottom_line()[0].citations[0])
    assert first.doc_id == "ngc"


# --- answers that state what was asked -----------------------------------------------------------------
def test_a_statement_with_other_numbers_is_not_a_repeat(settings):
    """The ≥35 statement and the >40 / 35.0–39.9 statement share nearly every word, not their thresholds."""
    q = "BMI cutoffs for bariatric surgery?"
    t = "Obesity: Management"
    ps = [_gp("ob", t, "Offer bariatric surgery, as an adjunct to comprehensive lifestyle intervention, to improve some "
             "obesity-associated conditions in adult patients with BMI ≥35.0 kg/m2.", 1.0, "2014", kind="recommendation",
             grade="Weak For", sid="a"),
          _gp("ob", t, "Offer bariatric surgery, as an adjunct to comprehensive lifestyle intervention, for weight loss "
             "in adult patients with a BMI >40 kg/m2 or those with BMI 35.0-39.9 kg/m2 with one or more "
             "obesity-associated conditions.", 0.95, "2014", kind="recommendation", grade="Weak For", sid="b")]
    a = compose(q, q, ps, settings)
    text = " ".join(s.text for s in a.sentences)
    assert ">40 kg/m2" in text and "≥35.0 kg/m2" in text


def test_a_follow_up_is_answered_by_what_it_newly_asks(settings):
    """ "when do we admit?" after a febrile-SCD question: the hospitalize statement, not the doc's best rec."""
    t = "Evidence-based management of sickle cell disease"
    ps = [_gp("scd", t, "All individuals with SCD should receive immunizations according to the ACIP schedule.",
             1.0, "2014", kind="recommendation", grade="Strong", sid="a"),
          _gp("scd", t, "In people with SCD and a temperature of 38.5°C or higher, obtain a CBC and blood culture "
             "promptly.", 0.97, "2014", sid="b", heading="Fever"),
          _gp("scd", t, "Hospitalize people with SCD and a temperature ≥103.1°F (39.5°C) who appear ill for close "
             "observation and IV antibiotic therapy.", 0.9, "2014", sid="c", heading="Fever")]
    sq = "When do we admit (SCD fever workup)?"
    a = compose("when do we admit?", sq, ps, settings)
    assert "Hospitalize" in a.bottom_line()[0].text
    # the same passages asked as a first question about immunization do not lead with it
    b = compose("SCD immunizations?", "SCD immunizations?", ps, settings)
    assert "Hospitalize" not in b.bottom_line()[0].text


def test_two_statements_of_different_grades_are_both_the_bottom_line(settings):
    q = "GDM screen — at what GA and what grade? anything before 24 wk?"
    t = "Gestational Diabetes: Screening"
    ps = [_gp("gdm", t, "The USPSTF concludes that the current evidence is insufficient to assess the balance of benefits "
             "and harms of screening for gestational diabetes in asymptomatic pregnant persons before 24 weeks of "
             "gestation.", 1.0, "2021-08-10", kind="recommendation", grade="I", sid="i"),
          _gp("gdm", t, "The USPSTF recommends screening for gestational diabetes in asymptomatic pregnant persons at 24 "
             "weeks of gestation or after.", 0.97, "2021-08-10", kind="recommendation", grade="B", sid="b")]
    a = compose(q, q, ps, settings)
    notes = [s.note for s in a.bottom_line()]
    assert "USPSTF grade B, 2021" in notes and "USPSTF grade I, 2021" in notes


def test_a_sentence_restating_the_recommendation_does_not_displace_it(settings):
    q = "72M HTN/HLD, no TIA/stroke sx — carotid duplex screen?"
    t = "Carotid Artery Stenosis: Screening"
    ps = [_gp("cas", t, "The USPSTF recommends against screening for asymptomatic carotid artery stenosis in the general "
             "adult population.", 1.0, "2021-02-02", kind="recommendation", grade="D", sid="r"),
          _gp("cas", t, "Although screening for asymptomatic carotid artery stenosis is not recommended for the general "
             "adult population, several factors increase risk for carotid artery stenosis, including older age, male "
             "sex, hypertension, hyperlipidemia and smoking.", 0.98, "2021-02-02", sid="x", heading="Risk assessment")]
    a = compose(q, q, ps, settings, search=shorthand.expand(q).text)
    assert a.bottom_line()[0].text.startswith("The USPSTF recommends against screening")


def test_a_follow_up_is_matched_on_its_own_words(settings):
    """ "still dyspneic on it — next step?" after a first-line inhaler question: the persistent-dyspnea statement
    leads, though the first-line statements match the earlier question's words better."""
    t = "VA/DoD clinical practice guideline for the management of COPD"
    first = "The guideline panel suggests offering the inhaled long-acting antimuscarinic agent (LAMA) tiotropium as " \
            "first-line maintenance therapy in patients with confirmed, stable COPD who have respiratory symptoms."
    combo = "In patients with confirmed, stable COPD who are on inhaled LAMAs or LABAs alone and have persistent " \
            "dyspnea on monotherapy, the guideline panel recommends combination therapy with LAMAs and LABAs."
    ps = [_gp("copd", t, first, 1.0, "2014", kind="recommendation", grade="Weak For", sid="a"),
          _gp("copd", t, combo, 0.9, "2014", kind="recommendation", grade="Strong For", sid="b")]
    sq = "Still dyspneic on it — next step (first-line maintenance inhaler symptomatic stable COPD VA/DoD)?"
    a = compose("still dyspneic on it — next step?", sq, ps, settings)
    assert a.bottom_line()[0].text == combo


def test_two_part_question_gets_both_statements_even_when_one_is_printed_twice(settings):
    t = "WHO guideline for the pharmacological treatment of hypertension in adults"
    monthly = "WHO suggests a monthly follow up after initiation or a change in antihypertensive medications until " \
              "patients reach target."
    later = "WHO suggests a follow up every 3–6 months for patients whose blood pressure is under control."
    ps = [_gp("who", t, monthly, 1.0, "2021", kind="recommendation", grade="Conditional", sid="a", heading="Summary"),
          _gp("who", t, monthly, 0.97, "2021", kind="recommendation", grade="Conditional", sid="b", heading="3.7 Frequency"),
          _gp("who", t, later, 0.93, "2021", kind="recommendation", grade="Conditional", sid="c", heading="3.7 Frequency")]
    q = "How often should patients be followed up after starting antihypertensive medication, and once controlled?"
    only = settings.model_copy(update={"bottom_line_extra": 0})  # the second statement, not an extra sentence
    texts = [s.text for s in compose(q, q, ps, only).bottom_line()]
    assert monthly in texts and later in texts


def test_a_table_row_answers_with_its_caption(settings):
    t = "CDC Clinical Practice Guideline for Prescribing Opioids for Pain"
    cap = "TABLE. Morphine milligram equivalent doses for commonly prescribed opioids"
    ps = [_gp("cdc", t, "Clinicians should use caution when converting one opioid to another and dose the new opioid "
             "lower than the calculated dose.", 1.0, "2022", kind="recommendation", grade="Category A", sid="r"),
          _gp("cdc", t, "Opioid: Oxycodone; Conversion factor: 1.5.", 0.95, "2022", kind="table_row", recs=[], sid="t1",
             heading=cap),
          _gp("cdc", t, "Opioid: Morphine; Conversion factor: 1.0.", 0.9, "2022", kind="table_row", recs=[], sid="t2",
             heading=cap)]
    q = "What conversion factor does the guideline table give for oxycodone doses in morphine milligram equivalents?"
    assert compose(q, q, ps, settings).bottom_line()[0].text == "Opioid: Oxycodone; Conversion factor: 1.5."


def test_the_case_asked_and_its_threshold(settings):
    from qa_bot.text import contradicts, thresholds

    assert thresholds("patients with more than 500 CD4+ cells") == thresholds("CD4 count: > 500 cells") == {(">", "500")}
    assert thresholds("BMI ≥35.0 kg/m2") == thresholds("a BMI of 35 or greater") == {(">", "35")}
    assert thresholds("eGFR <30") == {("<", "30")} and not thresholds("350 to 500 cells")
    assert contradicts("migraine with aura — CHC ok?", "Migraine i. Without aura (includes menstrual migraine)")
    assert not contradicts("migraine with aura — CHC ok?", "Migraine ii. With aura; CHC: 4")
    t = "U.S. Medical Eligibility Criteria for Contraceptive Use"
    ps = [_gp("mec", t, "Condition: Headaches; Sub-Condition: Migraine i. Without aura; CHC: 2.", 1.0, "2016",
             kind="table_row", recs=[], sid="a", heading="Summary chart"),
          _gp("mec", t, "Condition: Headaches; Sub-Condition: Migraine ii. With aura; CHC: 4.", 0.98, "2016",
             kind="table_row", recs=[], sid="b", heading="Summary chart")]
    q = "can a woman who has migraine with aura use a combined hormonal contraceptive?"
    assert "With aura" in compose(q, q, ps, settings).bottom_line()[0].text


def test_a_follow_up_prefers_the_section_named_by_what_it_asks(settings):
    """ "what test do I order?" after an HBV screening question: the sentence of "Screening Tests" that speaks of
    tests outranks a sentence that mentions tests in passing elsewhere."""
    t = "Hepatitis B Virus Infection in Adolescents and Adults: Screening"
    rec = "The USPSTF recommends screening for hepatitis B virus infection in adolescents and adults at increased risk."
    passing = ("Moderate certainty that screening for hepatitis B virus infection in adolescents and adults at increased "
               "risk has a moderate net benefit, given the accuracy of screening tests.")
    order = ("Screening for hepatitis B should be performed with HBsAg tests approved by the US Food and Drug "
             "Administration, followed by a confirmatory test for initially reactive results.")
    ps = [_gp("hbv", t, rec, 1.0, "2020-12-15", kind="recommendation", grade="B", sid="r"),
          _gp("hbv", t, passing, 0.95, "2020-12-15", sid="a", heading="USPSTF Assessment"),
          _gp("hbv", t, order, 0.9, "2020-12-15", sid="s", heading="Screening Tests")]
    sq = "What test do I order (HBV screening nonpregnant adults)?"
    a = compose("what test do I order?", sq, ps, settings)
    assert a.bottom_line()[0].text == order


def test_a_name_named_only_by_a_weak_sentence_is_mentioned_in_passing():
    # a guideline on another topic that names the drug once, in a trial's detail: its best sentence is about
    # something else and the sentence naming the drug scores far below it
    subj = Subject(name="zolmitriptan", term="zolmitriptan", words=["zolmitriptan"], df=9, strong=True)
    p = _p("Clinicians should refer pregnant persons at increased risk to counseling interventions. "
           "One participant taking zolmitriptan reported a headache.", "g", "Perinatal depression", doc_type="guideline")
    c = _composer()
    q = "How well does zolmitriptan work?"
    asked = c.asked(q, q, None)
    cands = c.score(asked, [p], Lead(passage=p, ranked=[p], older={}, about=[p], subject=subj))
    named = next(x for x in cands if "zolmitriptan" in x.text)
    other = next(x for x in cands if x is not named)
    other.score, named.score = 1.0, 0.4
    assert not passing_mention(subj, cands, [p])  # a sentence names it
    assert passing_mention(subj, cands, [p], 0.6)  # … but none nearly as good as the best
    named.score = 0.7
    assert not passing_mention(subj, cands, [p], 0.6)



# --- the bottom line answers the aspect asked ----------------------------------------------------------------------
def test_a_section_on_the_aspect_asked_is_not_about_the_document():
    """A summary's "Potential Harms" section is about the document when harms are not asked, and the answer when
    they are."""
    p = _gp("ngc", "Widget syndrome: screening", "False-positive results and overtreatment are the main harms of "
            "screening for widget syndrome.", 1.0, "2015", heading="Potential Harms")
    lead = Lead(passage=p, ranked=[p], older={}, about=None)
    c = _composer()
    for q, meta in (("widget syndrome screening — what are the harms?", False), ("who to screen for widget syndrome?", True)):
        [cand] = c.score(c.asked(q, q, None), [p], lead)
        assert cand.meta is meta and cand.features["meta"] == -float(meta)


def test_a_recommending_sentence_outside_the_statements_does_not_outrank_a_better_sentence(settings):
    """Only a recommendation statement leads over a sentence that scores higher; a rationale's "avoid …" is weighed
    as any sentence."""
    t = "Caring for travellers with asthma"
    ps = [_gp("tr", t, "Inhalers can be kept at room temperature below 30 °C for up to 12 months when no fridge is "
              "at hand.", 1.0, "2019", heading="Storage", sid="a"),
          _gp("tr", t, "Avoid spare inhalers being kept in a shared fridge where nobody checks them.", 0.7, "2019",
              heading="Practical advice", sid="b", recs=[(0, 72, "")])]
    q = "traveller with asthma, no fridge — how should inhalers be kept?"
    a = compose(q, q, ps, settings)
    assert a.bottom_line()[0].text.startswith("Inhalers can be kept at room temperature")


def test_the_bottom_line_comes_from_the_document_that_states_what_a_follow_up_asks(settings):
    """A follow-up's lead is retrieved with the earlier turn's subject: when another document on it scores far
    better on what the new turn asks, the bottom line is taken from that document."""
    ps = [_gp("maint", "Routine care of people with widget disease", "Give every child with widget disease the "
              "complete vaccine series by age two.", 1.0, "2014", heading="Vaccines", sid="a"),
          _gp("acute", "Acute complications of widget disease", "Admit people with widget disease and a temperature "
              "above 39.5 °C who look unwell, for observation and intravenous antibiotics.", 0.95, "2014",
              heading="Fever", sid="b")]
    sq = "When do we admit (widget disease child fever workup)?"
    a = compose("when do we admit?", sq, ps, settings)
    assert a.bottom_line()[0].text.startswith("Admit people with widget disease")
    # a page's bottom line stays retrieval's pick (its best passage)
    pages = [_p("Rest and fluids help; most recover in a week.", "p1",
                "Widget disease", 1.0, heading="How is widget disease treated?"),
             _p("Widget disease children with fever are treated in hospital: admit them when fever workup shows "
                "widget disease.", "p2", "Widget disease in children", 0.9, heading="Widget disease fever workup")]
    b = compose("how is it treated?", "How is it treated (widget disease children fever workup)?", pages, settings)
    assert b.bottom_line()[0].text.startswith("Rest and fluids help")


def test_a_sentence_pointing_back_is_quoted_after_the_sentence_it_points_to():
    c = _composer()
    p = _p("Mumps is a viral illness. In adults, mumps can inflame the ovaries. This can cause lower belly pain.", "d1",
           "Mumps")
    cands = c.score(c.asked("Does mumps cause belly pain?", "Does mumps cause belly pain?", None), [p],
                    Lead(passage=p, ranked=[p], older={}, about=None))
    pointing = next(x for x in cands if x.text.startswith("This"))
    chosen = Chosen()
    chosen.take("bottom_line", pointing)
    c.antecedents(chosen)
    assert [x.text for _, x in chosen.items] == ["In adults, mumps can inflame the ovaries.",
                                                 "This can cause lower belly pain."]
    assert [g for g, _ in chosen.items] == ["bottom_line", "bottom_line"]
    c.antecedents(chosen)  # quoted already: not twice
    assert len(chosen.items) == 2


def test_a_sentence_pointing_back_by_pronoun_or_these_medicines_gets_its_antecedent_moved_up():
    c = _composer()
    p = _p("Medicines you can buy include loperamide (Imodium). Stop taking these medicines if the diarrhea lasts "
           "more than 2 days. Hereditary X is a rare condition. It is inherited in an autosomal dominant pattern.",
           "d1", "Diarrhea")
    cands = c.score(c.asked("imodium long term?", "imodium long term?", None), [p],
                    Lead(passage=p, ranked=[p], older={}, about=None))
    by = {x.text.split()[0]: x for x in cands}
    chosen = Chosen()
    chosen.take("bottom_line", by["Stop"])
    chosen.take("Treatment", by["Medicines"])  # quoted later: it moves up, before the sentence pointing back to it
    chosen.take("Overview", by["It"])
    c.antecedents(chosen)
    assert [x.text.split()[0] for _, x in chosen.items] == ["Medicines", "Stop", "Hereditary", "It"]
    assert [g for g, _ in chosen.items] == ["bottom_line", "bottom_line", "Overview", "Overview"]


def test_what_was_asked_stated_of_the_subject_leads_the_bottom_line():
    """"Is it okay to take Imodium long term?": the sentence that says how long, of the medicines the sentence before
    it names, leads (with that sentence), over better-scoring sentences that only name loperamide."""
    q = "is it okay to take imodium long term?"
    subj = Subject(name="imodium", term="imodium", words=["imodium"], df=15, strong=True,
                   alternatives=["loperamide"], alt_terms=["loperamid"])
    best = _p("Over-the-counter medications such as loperamide (Imodium) may help stop diarrhea in adults with "
              "diarrhea from imodium loperamide use.", "a", "Diarrhea", sid="a")
    otc = _p("Medicines you can buy over the counter include loperamide (Imodium) and bismuth subsalicylate. Stop "
             "taking these medicines if the diarrhea lasts more than 2 days.", "b", "Diarrhea treatment", 0.8, sid="b")
    a = compose(q, q, [best, otc], _composer().settings, subject=subj)
    assert not a.abstained
    assert [x.text.split()[0] for x in a.bottom_line()][:2] == ["Medicines", "Stop"], a.bottom_line()


def test_a_sentence_pointing_back_past_a_lead_in_or_at_its_passage_start_stays_alone():
    c = _composer()
    lead_in = _p("Mumps can affect several organs in adults, such as:\n\nThese problems are rare in children.", "d1",
                 "Mumps")
    first = _p("These problems are rare in young children under five.", "d2", "Mumps", sid="t")
    for p in (lead_in, first):
        cands = c.score(c.asked("mumps problems?", "mumps problems?", None), [p],
                        Lead(passage=p, ranked=[p], older={}, about=None))
        chosen = Chosen()
        chosen.take("bottom_line", next(x for x in cands if x.text.startswith("These")))
        c.antecedents(chosen)
        assert len(chosen.items) == 1


def test_a_lead_titled_on_another_topic_yields_to_one_retrieved_nearly_as_well_on_the_question_topic():
    c = _composer()
    q = "Can you get shingles more than once?"
    other = _p("Ramsay Hunt syndrome is a complication of a viral infection of the facial nerve.", "a",
               "Ramsay Hunt Syndrome", 1.0)
    on = _p("Most people have only one episode, but it can come back.", "b", "Shingles", 0.95, sid="t")
    far = _p("Most people have only one episode, but it can come back.", "c", "Shingles", 0.5, sid="u")
    asked = c.asked(q, q, None)
    assert c.lead_document(asked, [other, on], None).doc_id == "b"
    assert c.lead_document(asked, [other, far], None).doc_id == "a"  # not retrieved nearly as well
    never = Composer(Settings(data_dir=Path("/nonexistent-qa-bot-test"), composer=ComposerWeights(topic_lead_share=1.01)))
    assert never.lead_document(never.asked(q, q, None), [other, on], None).doc_id == "a"



@pytest.mark.parametrize("q, first, second, leads", [
    # the question's words run together in a title name its topic: the lead stays
    ("What signs could indicate pink eye?", ("Pinkeye makes the white of the eye look red.", "Pinkeye"),
     ("Some eye problems are minor and do not last long.", "Eye Diseases"), "a"),
    # a generic word of the question ("disease") inside a title does not name it: the lead yields
    ("Can a streptococcus infection cause an invasive disease?",
     ("Glomerulonephritis can follow strep throat.", "Kidney Disease in Children"),
     ("Strep is short for Streptococcus, a type of bacteria.", "Streptococcal Infections"), "b"),
])
def test_which_title_names_the_question_topic(q, first, second, leads):
    c = _composer()
    a, b = _p(first[0], "a", first[1], 1.0), _p(second[0], "b", second[1], 0.95, sid="t")
    assert c.lead_document(c.asked(q, q, None), [a, b], None).doc_id == leads


def test_what_is_similar_to_a_drug_is_stated_of_it_or_named_as_missing():
    """"Other medications similar to buspirone?" asks the taxonomy's alternative/comparison: a sentence that names
    buspirone only as "a different type of" medicine states no alternative to it; one saying what is used instead
    of it does."""
    from qa_bot.compose import unsaid_of_subject

    q = "Are there other medications similar to the buspirone?"
    asked = _composer().asked(q, q, None).aspects
    assert [a.name for a in asked] == ["alternative"]
    subj = Subject(name="buspirone", term="buspiron", words=["buspiron"], df=5, strong=True)
    named_only = _p("Benzodiazepines act fast. A different type of anti-anxiety medication is buspirone. It takes "
                    "weeks to work.", "anx", "Anxiety medicines", sid="a")
    assert unsaid_of_subject(asked, subj, [named_only], window=None) == asked
    a = compose(q, q, [named_only], _composer().settings, subject=subj)
    assert a.abstained and "on buspirone do not say what is similar to it or used instead" in a.abstain_reason
    instead = _p("Hydroxyzine may be used instead of buspirone when anxiety needs quick relief. Both are "
                 "prescription medicines.", "anx2", "Anxiety medicines", sid="b")
    assert unsaid_of_subject(asked, subj, [named_only, instead], window=None) == []


def test_a_sentence_stating_both_parts_of_a_two_part_question_covers_more_of_it():
    """"Oral alternative, dose & duration?" asks two aspects (what is used instead, the dose): a sentence giving
    the alternative with its dose answers more of it than one naming alternatives only, though the latter shares
    more of the question's words."""
    from qa_bot.compose import Covers

    c = _composer()
    q = "2° syphilis, nonpregnant, true PCN allergy — oral alternative, dose & duration?"
    asked = c.asked(q, q, None)
    assert {a.name for a in asked.aspects} == {"dose", "alternative"}
    both = "The only acceptable alternatives are doxycycline (100 mg orally twice daily) for 28 days."
    one = "Nonpregnant patients allergic to penicillin should respond to therapies recommended as alternatives."
    assert asked.aspect_share(both) == 1.0 and asked.aspect_share(one) == 0.5
    p = _p(f"{one} {both}", "syph", "Syphilis", doc_type="guideline")
    lead = Lead(passage=p, ranked=[p], older={}, about=None)
    cands = {x.text: x for x in c.score(asked, [p], lead)}
    covers = Covers(asked, lead, c.w)
    assert covers(cands[both]) > covers(cands[one])


def test_a_quoted_sentence_never_opens_with_the_previous_sentences_reference_marks():
    """GARD writes a sentence's reference marks after its full stop ("… of DMD. [2] [5] Testing for DMD …"): they
    are not the next sentence's, and a bottom line opening with "[2] [5]" reads as the answer's own citations."""
    from qa_bot.compose import _sentence_items

    text = ("Finding a change in the DMD gene through genetic testing confirms the diagnosis of DMD. [2] [5] Testing "
            "for DMD may include a blood test which measures creatine phosphokinase. [1]")
    items = [x[2] for x in _sentence_items(text, None)]
    assert items[1].startswith("Testing for DMD may include") and not any(i.startswith("[") for i in items)
    assert all(text[a:b] == item for a, b, item, _ in _sentence_items(text, None))  # still verbatim spans
    q = "How is DMD diagnosed?"
    a = compose(q, q, [_p(text, "dmd", "Duchenne muscular dystrophy")], _composer().settings)
    assert a.sentences and not any(s.text.startswith("[") for s in a.sentences)


def test_a_list_item_without_its_lead_in_is_no_bottom_line():
    """A page's list items are sentences of their own once split: the best-scoring one ("hunger - dizziness …")
    states nothing without the sentence that introduces it, so it does not lead."""
    c = _composer()
    items = _p("hunger - dizziness or shakiness - confusion - being pale - sweating more - low blood glucose - "
               "diabetes", "niddk", "Low Blood Glucose (Hypoglycemia)", 1.0, heading="Symptoms")
    said = _p("Symptoms of type 1 diabetes can start quickly, in a matter of weeks, while type 2 diabetes often "
              "develops slowly.", "niddk", "Low Blood Glucose (Hypoglycemia)", 0.7, sid="t", heading="Onset")
    q = "low blood glucose in diabetes: symptoms?"
    asked = c.asked(q, q, None)
    lead = c.lead_document(asked, [items, said], None)
    cands = c.score(asked, c.candidate_pool(asked, lead, [items, said]), lead)
    assert max(cands, key=lambda x: x.score).text.startswith("hunger")  # the item scores best …
    best = c.bottom_line(asked, cands, lead, None, Chosen())
    assert best.text.startswith("Symptoms of type 1 diabetes")  # … yet the statement leads


def test_a_tables_header_glued_to_its_first_cell_is_never_quoted():
    c = _composer()
    text = ("Signs and Symptoms Approximate number of patients (when available) Cherry red spot of the macula 50% "
            "Abnormality of the heart valves - Coarse facial features and a short neck - Congestive heart failure "
            "in infancy - Classic infantile GM1 gangliosidosis starts within six months of birth.")
    p = _p(text, "gard", "GM1 gangliosidosis", 1.0, heading="Signs and symptoms")
    q = "What are the symptoms of GM1 gangliosidosis?"
    asked = c.asked(q, q, None)
    lead = c.lead_document(asked, [p], None)
    texts = [x.text for x in c.score(asked, c.candidate_pool(asked, lead, [p]), lead)]
    assert not any(t.startswith("Signs and Symptoms") for t in texts)
    assert "Classic infantile GM1 gangliosidosis starts within six months of birth." in texts


def test_a_subheading_glued_before_a_sentence_is_not_quoted():
    c = _composer()
    p = _p("Support Groups Some people with anxiety disorders benefit from joining a self-help group.", "nihsh",
           "Anxiety Disorders", 1.0, heading="Treatment")
    q = "Do support groups help anxiety disorders?"
    asked = c.asked(q, q, None)
    lead = c.lead_document(asked, [p], None)
    texts = [x.text for x in c.score(asked, c.candidate_pool(asked, lead, [p]), lead)]
    assert texts == ["Some people with anxiety disorders benefit from joining a self-help group."]


def test_what_a_page_on_the_subject_says_of_the_aspect_leads_when_retrieval_missed_it():
    """"Can you get shingles more than once?": the passages retrieved speak of shingles but not of its coming back;
    the index's page titled by it does ("However, a person can have a second or even a third episode"): that
    sentence leads, cited, rather than another aspect of what was retrieved. A page on another condition that says
    it ("Herpes simplex recurs …" under "Cold sores") is no answer."""
    q = "can you be diagnosed with shingles more than once?"
    subj = Subject(name="shingles", term="shingl", words=["shingl"], df=40, strong=True)
    retrieved = _p("Shingles is a painful rash caused by the varicella-zoster virus. The NINDS supports research on "
                   "shingles and related conditions.", "ninds", "Shingles Information Page", sid="a")
    page = _p("People who develop shingles usually have only one episode in their lifetime. However, a person can "
              "have a second or even a third episode.", "nihsh", "Shingles", sid="b").chunk
    cold = _p("Shingles and cold sores are both caused by herpes viruses. Cold sores recur when the virus "
              "reactivates.", "cold", "Cold Sores", sid="c").chunk

    def stats(chunks):
        return CorpusStats(chunks_with=lambda terms, limit, query=None: chunks if "shingl" in terms else [])

    a = compose(q, q, [retrieved], _composer().settings, subject=subj, stats=stats([cold, page]))
    lead = a.bottom_line()
    assert any("second or even a third episode" in s.text for s in lead), [s.text for s in lead]
    cited = {c.n: c for c in a.citations}
    assert any(cited[n].chunk_id == page.chunk_id for s in lead for n in s.citations)
    assert not a.notice or "come back" not in a.notice
    # only the other condition's page says it: not an answer of shingles' recurrence
    b = compose(q, q, [retrieved], _composer().settings, subject=subj, stats=stats([cold]))
    assert not any("Cold sores recur" in s.text for s in b.sentences)


def test_a_sentence_opening_with_a_connective_points_back():
    from qa_bot.compose import POINTS_BACK

    assert POINTS_BACK.search("But, it is possible to have it more than once.")
    assert POINTS_BACK.search("However they may come back.")
    assert not POINTS_BACK.search("But shingles rarely comes back.")


def test_a_list_is_quoted_whole_with_its_lead_in():
    """NIDDK's pages give symptoms as a lead-in and a list ("… can include" / "- abdominal bloating - chronic
    diarrhea - …"): the lead-in alone is a fragment and the items are too short to quote, so "What are the symptoms
    of celiac disease?" never listed one; the lead-in with its whole list is one quotable unit. A list longer than
    ``LIST_UNIT_CHARS`` is never quoted in part."""
    from qa_bot.compose import LIST_UNIT_CHARS, _sentence_items

    text = ("A person may experience digestive signs and symptoms. Digestive signs and symptoms are more common in "
            "children and can include\n\n- abdominal bloating - chronic diarrhea - constipation - gas - stomach pain\n\n"
            "Adults are less likely to have digestive symptoms.")
    items = [t for _, _, t, _ in _sentence_items(text, None)]
    assert ("Digestive signs and symptoms are more common in children and can include - abdominal bloating - chronic "
            "diarrhea - constipation - gas - stomach pain") in items
    p = _p(text, "niddk", "Celiac Disease", 1.0, heading="What are the symptoms of Celiac Disease ?")
    q = "What are the symptoms of celiac disease?"
    a = compose(q, q, [p], _composer().settings)
    quoted = next(s for s in a.sentences if "chronic diarrhea" in s.text)
    spans = [text[x:y] for x, y in a.citations[quoted.citations[0] - 1].spans]
    assert any(t.startswith("Digestive signs") and t.endswith("stomach pain") for t in spans), spans
    long = text.replace("stomach pain", " - ".join(f"symptom number {n}" for n in range(40)))
    assert len(long) > LIST_UNIT_CHARS
    assert not any("can include - abdominal" in t for _, _, t, _ in _sentence_items(long, None))


def test_a_list_of_several_lines_is_not_one_unit():
    from qa_bot.compose import _sentence_items

    text = "Acute complications of sickle cell disease include:\n- Vaso-occlusive crisis\n- Fever\n- Priapism"
    assert not any(t.startswith("Acute complications") for _, _, t, _ in _sentence_items(text, None))


def test_the_index_is_read_once_per_subject_and_class_in_an_answer():
    """``index_saying`` is asked of the same subject twice in one answer (all aspects missing, then what is said
    of it): the index's chunks holding its names and classes are read once."""
    from qa_bot.subject import aspects

    duration = [a for a in aspects() if a.name == "duration"]
    weeks = _p("Antidepressants take time, usually 2 to 4 weeks, to work.", "nimh", "Depression", sid="w").chunk
    reads: list[list[str]] = []

    def chunks_with(terms, limit, query=None):
        reads.append(terms)
        return [weeks] if "antidepress" in terms else []

    c = Composer(Settings(data_dir=Path("/nonexistent-qa-bot-test")), CorpusStats(chunks_with=chunks_with))
    q = "How long does it take to notice the effects of Wellbutrin?"
    asked = c.asked(q, q, None)
    subj = Subject(name="Wellbutrin", term="wellbutrin", words=["wellbutrin"], df=3, strong=True)
    classes = {frozenset({"antidepress"})}
    assert c.index_saying(asked, duration, subj, [], classes) == [weeks]
    first = len(reads)
    assert c.index_saying(asked, duration, subj, [], classes) == [weeks] and len(reads) == first


# --- the kind of a subject its letter names ("hepatitis C"): passages on another kind are another condition's -------
def test_the_letter_asked_of_a_subject_keeps_the_passages_on_other_kinds_out():
    from qa_bot.compose import asked_variant, of_another_variant

    subj = Subject(name="hepatitis", term="hepat", words=["hepat"], df=900, strong=False)
    q = "Should pregnant women be screened for hepatitis C?"
    assert asked_variant(q, subj) == ("hepatitis", "C")
    assert asked_variant("Is hepatitis a lot worse in pregnancy?", subj) is None  # (an article, not the letter)
    assert asked_variant("hepatitis B or C in pregnancy?", subj) is None  # two kinds asked: neither is held to
    b = _p("Screen all pregnant women at their first prenatal visit.", doc="hbv", title="Hepatitis B Virus Infection "
           "in Pregnant Women: Screening", score=2.0)
    c = _p("The USPSTF has made recommendations on screening for hepatitis B virus infection in pregnant persons. "
           "All pregnant persons should be screened for HCV during each pregnancy.", doc="hcv",
           title="Hepatitis C Virus Infection in Adolescents and Adults: Screening", score=1.5)
    general = _p("Hepatitis is an inflammation of the liver.", doc="gen", title="Viral Hepatitis", score=1.0)
    in_text = _p("Unlike hepatitis B, hepatitis C has no vaccine.", doc="txt", title="Liver infections", score=1.0)
    assert of_another_variant(b, ("hepatitis", "C")) and not of_another_variant(c, ("hepatitis", "C"))
    assert not of_another_variant(general, ("hepatitis", "C")) and not of_another_variant(in_text, ("hepatitis", "C"))
    a = compose(q, q, [b, c, general], _composer().settings, subject=subj)
    assert not a.abstained and a.sentences[0].text.startswith("All pregnant persons should be screened for HCV")
    assert {p.chunk.doc_id for p in a.passages} == {"hcv", "gen"}
    assert not any("hepatitis B" in x.text for x in a.sentences)  # (nor a sentence on it in a page on hepatitis C)
    a = compose(q, q, [b], _composer().settings, subject=subj)  # only another kind found: it says which one is missing
    assert a.abstained and "hepatitis C" in a.abstain_reason


def test_the_case_the_question_rules_out_never_leads_for_answering_more_of_it():
    """"no allergy" was said: the penicillin-allergy row, though it states the dose and the course length and shares
    more of the question's words, is the other case; the first-choice row leads."""
    q = "acute sore throat, adult, no penicillin allergy — antibiotic, dose and duration?"
    allergy = "Penicillin allergy: clarithromycin for acute sore throat in adults, 250 mg to 500 mg twice daily for 5 days."
    first = "First choice: phenoxymethylpenicillin, 500 mg four times daily."
    p = _p(f"{first} {allergy}", "amr", "Antimicrobial prescribing: acute sore throat", doc_type="guideline")
    a = compose(q, q, [p], _composer().settings)
    assert a.sentences and a.sentences[0].text == first


def test_of_two_documents_retrieved_alike_the_one_whose_title_names_more_of_the_question_leads():
    """"T2DM screen — start at what age?": a management guideline and a screening guideline on type 2 diabetes,
    retrieved alike; the screening one's title names "screening" too."""
    q = "type 2 diabetes screening — start at what age?"
    mgmt = _p("Adults with type 2 diabetes should have their HbA1c checked every 6 months.", "mgmt",
              "Management of type 2 diabetes mellitus", score=1.53, doc_type="guideline")
    screen = _p("Screen adults aged 35 to 70 years who have overweight or obesity for type 2 diabetes.", "scr",
                "Screening for type 2 diabetes", score=1.51, doc_type="guideline")
    a = compose(q, q, [mgmt, screen], _composer().settings)
    assert a.sentences[0].text.startswith("Screen adults aged 35 to 70")
    far = _p(screen.chunk.text, "scr", "Screening for type 2 diabetes", score=1.2, doc_type="guideline")
    assert compose(q, q, [mgmt, far], _composer().settings).sentences[0].text.startswith("Adults with type 2")
