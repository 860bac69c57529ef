"""A guideline's numbered units in the answer: a cross-reference resolves to the unit it names (quoted after the
sentence, cited, with a note naming it) or the sentence that points to a missing unit is not the bottom line; a
question asking how strong the recommendation is gets the section's graded statement; a numbered label asked
("category 3") is answered by its legend line. Fixtures are generated here (a PDF written by hand, chunks built in
memory); no real document is copied."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import chunk, minimal_pdf
from qa_bot.chunk import chunk_document
from qa_bot.compose import Composer, CorpusStats, finalize
from qa_bot.load import load
from qa_bot.settings import Settings
from qa_bot.shorthand import expand
from qa_bot.types import Passage
from qa_bot.units import (STRENGTH_ASKED, asked_labels, cross_refs, defines_label, named_unit,
                          section_recommendation)

MONITOR = ["1.3.4 Monitor eGFR at least annually in adults with CKD who take drugs that are",
           "excreted by the kidney, and more often in people who have accelerated progression",
           "of CKD (see recommendation 1.3.5).", ""]
DEFINE = ["1.3.5 Define accelerated progression of CKD as a sustained decrease in eGFR of",
          "25% or more and a change in eGFR category within 12 months.", ""]
REFER = ["1.4.1 Refer adults with CKD to a kidney specialist if they have an ACR of",
         "70 mg/mmol or more, unless known to be caused by diabetes."]
Q = "adults with CKD on renally excreted drugs: how often to monitor eGFR, and what is accelerated progression?"


def _read(tmp_path: Path, lines: list[str]):
    """The chunks of a generated one-page guideline PDF, as the reader and chunker make them."""
    (tmp_path / "ckd-guideline.pdf").write_bytes(minimal_pdf(["Chronic kidney disease: assessment and management",
                                                              "", *lines]))
    s = Settings(data_dir=tmp_path / "idx", corpus=[tmp_path])
    res = load([tmp_path], s)
    assert not res.errors, res.errors
    return chunk_document(res.documents[0], s).chunks


def _answer(chunks, lead_text: str, tmp_path: Path, question: str = Q, doc=None):
    """The composed answer when retrieval brings the chunk holding ``lead_text`` first and the other
    ``chunks`` after it, the document holding ``doc`` (default: ``chunks``)."""
    first = next(c for c in chunks if lead_text in c.text)
    ps = [Passage(chunk=first, score=1.0, dense_score=1.0)] + \
         [Passage(chunk=c, score=0.4, dense_score=0.4) for c in chunks if c is not first and c.kind]
    for p in ps:  # retrieval read the lead guideline already (no further statements of it are added)
        p.features["lead_doc"] = 1.0
    s = Settings(data_dir=tmp_path / "none")
    a = Composer(s, CorpusStats(doc_chunks=lambda d: doc or chunks)).run(question, question, ps)
    return finalize(a, s, {})


def test_a_cross_reference_resolves_to_the_recommendation_it_names(tmp_path):
    chunks = _read(tmp_path, MONITOR + DEFINE + REFER)
    assert {c.rec_number for c in chunks if c.kind == "recommendation"} >= {"1.3.4", "1.3.5"}
    # retrieval brings the pointing recommendation and not the one it names
    a = _answer([c for c in chunks if "Define" not in c.text], "Monitor eGFR", tmp_path, doc=chunks)
    texts = [s.text for s in a.sentences]
    i = next(i for i, t in enumerate(texts) if "(see recommendation 1.3.5)" in t)
    named = a.sentences[i + 1]
    assert named.text.startswith("Define accelerated progression of CKD as a sustained decrease in eGFR")
    assert named.note == "recommendation 1.3.5" and named.group == a.sentences[i].group
    cited = next(c for c in a.citations if c.n in named.citations)
    assert named.text in next(p.chunk.text for p in a.passages if p.chunk.chunk_id == cited.chunk_id)  # verbatim, cited
    # retrieval brings both: the named one is quoted once, its note naming it
    both = _answer(chunks, "Monitor eGFR", tmp_path)
    assert [s.note for s in both.sentences if s.text == named.text] == ["recommendation 1.3.5"]


def test_a_sentence_pointing_to_a_unit_the_document_lacks_is_not_the_bottom_line(tmp_path):
    chunks = _read(tmp_path, MONITOR + REFER)  # recommendation 1.3.5 is not in this document
    assert named_unit("recommendation", "1.3.5", chunks) is None
    a = _answer(chunks, "Monitor eGFR", tmp_path)
    assert a.sentences and not any("see recommendation" in s.text for s in a.bottom_line())
    assert not any(s.note and "recommendation 1.3.5" in s.note for s in a.sentences)


def test_cross_refs_and_the_units_they_name():
    assert cross_refs("accelerated progression of CKD (see recommendation 1.3.5).") == [("recommendation", "1.3.5")]
    assert cross_refs("(See Recommendations 4 and 5)") == [("recommendation", "4")]
    assert cross_refs("(see section 5.2.1.6 on G6PD testing)") == [("section", "5.2.1.6")]
    assert cross_refs("(see table 2)") == cross_refs("see Annex 4") == cross_refs("see recommendation under 4") == []
    g = "guideline"
    chunks = [chunk("Intro text.", "g", sid="a", doc_type=g, heading_path=["G", "5.2 Treatment"]),
              chunk("Test before primaquine.", "g", sid="b", doc_type=g,
                    heading_path=["G", "5.2.1.6 Testing for G6PD"]),
              chunk("Offer naloxone.", "g", sid="c", doc_type=g, heading_path=["G", "Recommendation 8"]),
              chunk("Use the lowest dose.", "g", sid="d", doc_type=g, kind="recommendation", rec_number="4")]
    assert named_unit("section", "5.2.1.6", chunks).text == "Test before primaquine."
    assert named_unit("section", "5.2.1", chunks) is None  # "5.2.1.6" is not section 5.2.1's heading
    assert named_unit("recommendation", "8", chunks).text == "Offer naloxone."
    assert named_unit("recommendation", "4", chunks).text == "Use the lowest dose."


def _at(text: str, start: int, path: list[str], **kw):
    c = chunk(text, "w", sid=f"s{start}", doc_type="guideline", heading_path=path, **kw)
    return c.model_copy(update={"start": start, "end": start + len(text)})


def test_the_graded_recommendation_of_a_quoted_section():
    sec = ["W", "4.2.1 Preventive treatment in pregnancy"]
    rec = _at("Pregnant women should be given preventive treatment at set intervals.", 10,
              sec + ["Preventive treatment"], kind="recommendation",
              grade="Strong recommendation, moderate certainty evidence")
    remark = _at("Doses should be given at least one month apart.", 100, sec)
    practical = _at("Treatment should not start before week 13.", 200, sec)
    other = _at("Other section text.", 300, ["W", "4.2.2 Children"])
    later = _at("A child section sentence.", 400, ["W", "4.2.2 Children"])
    chunks = [rec, remark, practical, other, later]
    assert section_recommendation(practical, chunks) is rec and section_recommendation(remark, chunks) is rec
    assert section_recommendation(later, chunks) is None  # another section: not this recommendation's
    assert STRENGTH_ASKED.search("IPTp — earliest GA, spacing between doses, rec strength?")
    assert STRENGTH_ASKED.search("What is the strength of the recommendation for aspirin?")
    assert not STRENGTH_ASKED.search("amoxicillin tablet strength for a child?")

    # composed: a question asking how strong the recommendation is gets the statement with its grade
    q = "preventive treatment in pregnancy: earliest week to start, spacing between doses, rec strength?"
    ps = [Passage(chunk=practical, score=1.0, dense_score=1.0, features={"lead_doc": 1.0}),
          Passage(chunk=remark, score=0.9, dense_score=0.9, features={"lead_doc": 1.0})]
    s = Settings(data_dir=Path("/nonexistent-qa-bot-test"))
    a = finalize(Composer(s, CorpusStats(doc_chunks=lambda d: chunks)).run(q, q, ps), s, {})
    graded = [x for x in a.bottom_line() if x.note and "Strong recommendation" in x.note]
    assert [x.text for x in graded] == [rec.text]
    plain = "preventive treatment in pregnancy: earliest week to start, spacing between doses?"
    a2 = finalize(Composer(s, CorpusStats(doc_chunks=lambda d: chunks)).run(plain, plain, ps), s, {})
    assert rec.text not in [x.text for x in a2.sentences]  # not asked: not added


@pytest.mark.parametrize("line,label,ok", [
    ("KEY: 3 = Theoretical or proven risks usually outweigh the advantages.", ("category", "3"), True),
    ("3 = Theoretical or proven risks usually outweigh the advantages.", ("category", "3"), True),
    ("Category 3: risks usually outweigh the advantages.", ("category", "3"), True),
    ("Class II – moderate evidence of benefit.", ("class", "II"), True),
    ("KEY: 1 = No restriction (method can be used).", ("category", "3"), False),
    ("Give 3 doses at least one month apart.", ("category", "3"), False),
])
def test_the_legend_line_of_a_numbered_label(line, label, ok):
    assert defines_label(line, {label}) is ok


def test_a_numbered_label_asked_leads_with_its_legend_line(tmp_path):
    assert asked_labels("What does a U.S. MEC category 3 classification mean?") == {("category", "3")}
    assert asked_labels("stage 1 hypertension, grade B?") == {("stage", "1"), ("grade", "B")}
    assert asked_labels("type a personality and class a drugs") == set()
    legend = "\n\n".join(f"KEY: {n} = {t}" for n, t in [
        ("1", "No restriction (method can be used)."),
        ("2", "Advantages generally outweigh theoretical or proven risks."),
        ("3", "Theoretical or proven risks usually outweigh the advantages."),
        ("4", "Unacceptable health risk (method not to be used).")])
    t = "Summary chart of medical eligibility criteria for contraceptive use"
    ps = [Passage(chunk=chunk(legend, "mec", sid="key", doc_type="guideline", title=t, heading_path=[t]), score=1.0,
                  dense_score=1.0),
          Passage(chunk=chunk("Condition: Postabortion; Sub-Condition: b. Second trimester abortion.", "mec", sid="row",
                              doc_type="guideline", title=t, heading_path=[t], kind="table_row"), score=0.7,
                  dense_score=0.7)]
    q = "What does a medical eligibility criteria category 3 classification mean?"
    a = Composer(Settings(data_dir=tmp_path / "none")).run(q, q, ps)
    assert a.bottom_line()[0].text == "KEY: 3 = Theoretical or proven risks usually outweigh the advantages."


def test_clinician_shorthand_for_thrombolysis_and_its_contraindications():
    e = expand("STEMI, BP 190/115 on arrival — absolute or relative CI to lysis?")
    assert e.found["STEMI"] == "ST-elevation myocardial infarction"
    assert e.found["CI"] == "contraindication" and e.found["lysis"] == "thrombolysis"
    assert not expand("tumor lysis syndrome prevention?").found  # lysis of cells is not thrombolysis
    assert "CI" not in expand("hazard ratio and its 95% CI?").found  # a confidence interval


def test_a_titled_recommendation_whose_title_abbreviates_a_genus_is_one_graded_unit(tmp_path):
    from layout_fixtures import write_pages

    # WHO's order (grade line, "Title (year)", statement); "P. falciparum" in the title is no sentence end
    lines = [(72, 80, "5.2 Reducing transmission", {"fontsize": 14, "weight": "bold"}),
             (72, 110, "Strong recommendation for , Low certainty evidence"),
             (72, 140, "Reducing the transmissibility of treated P. falciparum infections (2024)"),
             (72, 170, "In low-transmission areas, a single low dose of primaquine should be given with an ACT."),
             (72, 200, "G6PD testing is not required.")]
    (tmp_path / "in").mkdir()
    res = load([write_pages(tmp_path / "in" / "who.pdf", [lines])], Settings(data_dir=tmp_path / "idx"))
    assert not res.errors, res.errors
    doc = res.documents[0]
    recs = [s for s in doc.sections if s.kind == "recommendation"]
    assert len(recs) == 1 and recs[0].grade == "Strong recommendation for , Low certainty evidence", doc.sections
    assert recs[0].date == "2024" and "(2024)" not in doc.text
    assert doc.text[recs[0].start:recs[0].end].startswith("In low-transmission areas, a single low dose of primaquine")


def test_a_short_recommendation_statement_quoted_in_part_is_quoted_whole():
    from qa_bot.compose import Chosen, _sentences

    text = ("In low-transmission areas, a single low dose of primaquine should be given with an ACT to reduce "
            "transmission. G6PD testing is not required.")
    p = Passage(chunk=chunk(text, "w", sid="rec", doc_type="guideline", kind="recommendation",
                            grade="Strong recommendation for , Low certainty evidence"), score=1.0)
    first, rest = _sentences(p, 0)
    other = _sentences(Passage(chunk=chunk("Primaquine is a gametocytocide used in many settings.", "w", sid="x",
                                           doc_type="guideline"), score=0.5), 1)[0]
    chosen = Chosen()
    chosen.items = [("bottom_line", first), ("Key points", other)]
    Composer.whole_statements(chosen)
    assert [(g, c.text) for g, c in chosen.items] == [("bottom_line", first.text), ("bottom_line", rest.text),
                                                      ("Key points", other.text)]
    # how the statement was made, or where to read on, is not what to do
    p = Passage(chunk=chunk("Screening for celiac disease is not recommended in adults without symptoms. Literature "
                            "scans conducted in 2022 showed a lack of new evidence. Go to the Clinical Considerations "
                            "section for suggestions.", "u", sid="i", doc_type="guideline", kind="recommendation"),
                score=1.0)
    chosen.items = [("bottom_line", _sentences(p, 0)[0])]
    Composer.whole_statements(chosen)
    assert len(chosen.items) == 1
    # a long statement is not quoted whole: its best sentence stands for it
    long = Passage(chunk=chunk(" ".join(f"Sentence number {n} of a long recommendation text here." for n in range(6)),
                               "w", sid="long", doc_type="guideline", kind="recommendation"), score=1.0)
    chosen.items = [("bottom_line", _sentences(long, 0)[0])]
    Composer.whole_statements(chosen)
    assert len(chosen.items) == 1
