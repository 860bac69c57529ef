"""The composer on clinicians' questions (qa_bot/compose.py): recommendation and grade first, on subject, no
fragments, the case asked and its threshold, newer guidance and the body named lead, follow-ups answered by what
they newly ask."""

from __future__ import annotations

import pytest
from helpers import passage

from qa_bot import shorthand
from qa_bot.compose import compose, population_match
from qa_bot.settings import Settings
from qa_bot.types import Passage


def test_population_match_by_age_and_sex():
    assert population_match("46-year-old", "adults aged 45 to 49 years") > 0
    assert population_match("46-year-old", "adults aged 50 to 75 years") < 0
    assert population_match("80-year-old", "adults 65 years or older") > 0
    assert population_match("27-year-old woman", "men who have sex with men") < 0


# --- composer --------------------------------------------------------------------------------------------
def _p(doc: str, title: str, text: str, score: float, published: str, *, kind=None, grade=None, population=None,
       heading="Recommendation Summary", recs=None, sid=None) -> Passage:
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
    ps = [_p("crc", "Colorectal Cancer: Screening", "The USPSTF recommends screening for colorectal cancer in all adults "
             "aged 50 to 75 years.", 1.0, "2021-05-18", kind="recommendation", grade="A", sid="r1",
             heading="Adults aged 50 to 75 years"),
          _p("crc", "Colorectal Cancer: Screening", "The USPSTF recommends screening for colorectal cancer in adults "
             "aged 45 to 49 years.", 0.95, "2021-05-18", kind="recommendation", grade="B", sid="r2",
             heading="Adults aged 45 to 49 years")]
    a = compose(q, q, ps, settings)
    bl = a.bottom_line()[0]
    assert "45 to 49" in bl.text and bl.note == "USPSTF grade B, 2021" and bl.display.endswith("(USPSTF grade B, 2021)")
    assert all(s.text in next(p.chunk.text for p in a.passages if p.chunk.chunk_id == c.chunk_id)
               for s in a.sentences for c in a.citations if c.n in s.citations)  # verbatim quotes


def test_key_points_stay_on_subject_and_skip_fragments(settings):
    q = "when should colorectal cancer screening start?"
    ps = [_p("crc", "Colorectal Cancer: Screening", "The USPSTF recommends screening for colorectal cancer in adults "
             "aged 45 to 49 years. See modeling report[12,13] for additional details.", 1.0, "2021-05-18",
             kind="recommendation", grade="B", recs=[(0, 83, "B")]),
          _p("lung", "Lung Cancer: Screening", "The USPSTF recommends annual screening for lung cancer with low-dose "
             "computed tomography in adults aged 50 to 80 years who have a 20 pack-year smoking history.", 0.8,
             "2021-03-09", kind="recommendation", grade="B"),
          _p("asa", "Aspirin Use to Prevent Cardiovascular Disease and Colorectal Cancer: Preventive Medication",
             "The USPSTF recommends against initiating low-dose aspirin for the primary prevention of cardiovascular "
             "disease in adults 60 years or older.", 0.85, "2022-04-26", kind="recommendation", grade="D")]
    a = compose(q, q, ps, settings)
    texts = " ".join(s.text for s in a.sentences)
    assert "colorectal cancer in adults aged 45 to 49" in texts
    assert "lung" not in texts and "aspirin" not in texts and "modeling report" not in texts


def test_newer_version_of_the_same_guidance_leads(settings):
    q = "colorectal cancer screening age?"
    old = _p("ngc", "Screening for colorectal cancer: U.S. Preventive Services Task Force recommendation statement.",
             "Average-risk adults should begin colorectal cancer screening at age 50 years with a stool test or "
             "colonoscopy.", 1.0, "2016 Jun 15", kind="recommendation", grade="A")
    new = _p("uspstf", "Colorectal Cancer: Screening", "The USPSTF recommends screening for colorectal cancer in all "
             "adults aged 50 to 75 years.", 0.9, "2021-05-18", kind="recommendation", grade="A")
    a = compose(q, q, [old, new], settings)
    first = next(c for c in a.citations if c.n == a.bottom_line()[0].citations[0])
    assert first.doc_id == "uspstf"
    assert any("older guidance, 2016" in s.group for s in a.sentences if "age 50 years" in s.text)


def test_the_body_named_in_the_question_leads(settings):
    q = "VA/DoD BMI cutoffs for bariatric surgery? does BMI 37 with OSA qualify?"
    osa = _p("osa", "Obstructive Sleep Apnea in Adults: Screening", "The USPSTF concludes that the current evidence is "
             "insufficient to assess screening for obstructive sleep apnea.", 1.0, "2022-11-15", kind="recommendation",
             grade="I")
    bar = _p("ngc", "VA/DoD clinical practice guideline for screening and management of overweight and obesity.",
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
    ps = [_p("ob", t, "Offer bariatric surgery, as an adjunct to comprehensive lifestyle intervention, to improve some "
             "obesity-associated conditions in adult patients with BMI ≥35.0 kg/m2.", 1.0, "2014", kind="recommendation",
             grade="Weak For", sid="a"),
          _p("ob", t, "Offer bariatric surgery, as an adjunct to comprehensive lifestyle intervention, for weight loss "
             "in adult patients with a BMI >40 kg/m2 or those with BMI 35.0-39.9 kg/m2 with one or more "
             "obesity-associated conditions.", 0.95, "2014", kind="recommendation", grade="Weak For", sid="b")]
    a = compose(q, q, ps, settings)
    text = " ".join(s.text for s in a.sentences)
    assert ">40 kg/m2" in text and "≥35.0 kg/m2" in text


def test_a_follow_up_is_answered_by_what_it_newly_asks(settings):
    """ "when do we admit?" after a febrile-SCD question: the hospitalize statement, not the doc's best rec."""
    t = "Evidence-based management of sickle cell disease"
    ps = [_p("scd", t, "All individuals with SCD should receive immunizations according to the ACIP schedule.",
             1.0, "2014", kind="recommendation", grade="Strong", sid="a"),
          _p("scd", t, "In people with SCD and a temperature of 38.5°C or higher, obtain a CBC and blood culture "
             "promptly.", 0.97, "2014", sid="b", heading="Fever"),
          _p("scd", t, "Hospitalize people with SCD and a temperature ≥103.1°F (39.5°C) who appear ill for close "
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
    ps = [_p("gdm", t, "The USPSTF concludes that the current evidence is insufficient to assess the balance of benefits "
             "and harms of screening for gestational diabetes in asymptomatic pregnant persons before 24 weeks of "
             "gestation.", 1.0, "2021-08-10", kind="recommendation", grade="I", sid="i"),
          _p("gdm", t, "The USPSTF recommends screening for gestational diabetes in asymptomatic pregnant persons at 24 "
             "weeks of gestation or after.", 0.97, "2021-08-10", kind="recommendation", grade="B", sid="b")]
    a = compose(q, q, ps, settings)
    notes = [s.note for s in a.bottom_line()]
    assert "USPSTF grade B, 2021" in notes and "USPSTF grade I, 2021" in notes


def test_a_sentence_restating_the_recommendation_does_not_displace_it(settings):
    q = "72M HTN/HLD, no TIA/stroke sx — carotid duplex screen?"
    t = "Carotid Artery Stenosis: Screening"
    ps = [_p("cas", t, "The USPSTF recommends against screening for asymptomatic carotid artery stenosis in the general "
             "adult population.", 1.0, "2021-02-02", kind="recommendation", grade="D", sid="r"),
          _p("cas", t, "Although screening for asymptomatic carotid artery stenosis is not recommended for the general "
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
    ps = [_p("copd", t, first, 1.0, "2014", kind="recommendation", grade="Weak For", sid="a"),
          _p("copd", t, combo, 0.9, "2014", kind="recommendation", grade="Strong For", sid="b")]
    sq = "Still dyspneic on it — next step (first-line maintenance inhaler symptomatic stable COPD VA/DoD)?"
    a = compose("still dyspneic on it — next step?", sq, ps, settings)
    assert a.bottom_line()[0].text == combo


def test_two_part_question_gets_both_statements_even_when_one_is_printed_twice(settings):
    t = "WHO guideline for the pharmacological treatment of hypertension in adults"
    monthly = "WHO suggests a monthly follow up after initiation or a change in antihypertensive medications until " \
              "patients reach target."
    later = "WHO suggests a follow up every 3–6 months for patients whose blood pressure is under control."
    ps = [_p("who", t, monthly, 1.0, "2021", kind="recommendation", grade="Conditional", sid="a", heading="Summary"),
          _p("who", t, monthly, 0.97, "2021", kind="recommendation", grade="Conditional", sid="b", heading="3.7 Frequency"),
          _p("who", t, later, 0.93, "2021", kind="recommendation", grade="Conditional", sid="c", heading="3.7 Frequency")]
    q = "How often should patients be followed up after starting antihypertensive medication, and once controlled?"
    only = settings.model_copy(update={"bottom_line_extra": 0})  # the second statement, not an extra sentence
    texts = [s.text for s in compose(q, q, ps, only).bottom_line()]
    assert monthly in texts and later in texts


def test_a_table_row_answers_with_its_caption(settings):
    t = "CDC Clinical Practice Guideline for Prescribing Opioids for Pain"
    cap = "TABLE. Morphine milligram equivalent doses for commonly prescribed opioids"
    ps = [_p("cdc", t, "Clinicians should use caution when converting one opioid to another and dose the new opioid "
             "lower than the calculated dose.", 1.0, "2022", kind="recommendation", grade="Category A", sid="r"),
          _p("cdc", t, "Opioid: Oxycodone; Conversion factor: 1.5.", 0.95, "2022", kind="table_row", recs=[], sid="t1",
             heading=cap),
          _p("cdc", t, "Opioid: Morphine; Conversion factor: 1.0.", 0.9, "2022", kind="table_row", recs=[], sid="t2",
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
    ps = [_p("mec", t, "Condition: Headaches; Sub-Condition: Migraine i. Without aura; CHC: 2.", 1.0, "2016",
             kind="table_row", recs=[], sid="a", heading="Summary chart"),
          _p("mec", t, "Condition: Headaches; Sub-Condition: Migraine ii. With aura; CHC: 4.", 0.98, "2016",
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
    ps = [_p("hbv", t, rec, 1.0, "2020-12-15", kind="recommendation", grade="B", sid="r"),
          _p("hbv", t, passing, 0.95, "2020-12-15", sid="a", heading="USPSTF Assessment"),
          _p("hbv", t, order, 0.9, "2020-12-15", sid="s", heading="Screening Tests")]
    sq = "What test do I order (HBV screening nonpregnant adults)?"
    a = compose("what test do I order?", sq, ps, settings)
    assert a.bottom_line()[0].text == order
