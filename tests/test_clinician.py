"""Issue 14: answers that answer the clinician (recommendation and grade first, on subject, no fragments,
shorthand, follow-ups that ask the new thing, unknown drugs abstain by name, newer guidance leads)."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa_bot import shorthand
from qa_bot.compose import compose, population_match
from qa_bot.load import recommendation_blocks
from qa_bot.rewrite import standalone_question, subject_of
from qa_bot.settings import Settings
from qa_bot.text import grade_of, is_fragment, is_grade_tag, looks_like_name, recommendation_spans
from qa_bot.types import Chunk, Passage, Section, Turn

ROOT = Path(__file__).resolve().parent.parent


# --- shorthand ---------------------------------------------------------------------------------------
def test_shorthand_ages_sexes_and_abbreviations():
    e = shorthand.expand("avg-risk 46yo, no FH — start CRC screening now or wait till 50? grade?")
    assert "46-year-old" in e.text and "family history" in e.text and "colorectal cancer" in e.text
    assert e.found["FH"] == "family history"
    e = shorthand.expand("62M, 30 pack-yr, quit 10y — LDCT?")
    assert "62-year-old man" in e.text and "30 pack-years" in e.text and "low-dose computed tomography" in e.text
    e = shorthand.expand("27F, new partner, no sx — screen for CT/GC?")
    assert "27-year-old woman" in e.text and "no symptoms" in e.text and "chlamydia" in e.text
    assert "q3y" not in shorthand.expand("FIT q3y?").text and "every 3 years" in shorthand.expand("FIT q3y?").text


def test_ambiguous_abbreviation_needs_context_and_is_never_guessed():
    assert shorthand.expand("FH pt with LDL 250 — statin?").found["FH"] == "familial hypercholesterolemia"
    assert shorthand.expand("no FH of colon cancer").found["FH"] == "family history"
    e = shorthand.expand("FH?")  # nothing points to one meaning: left alone, not shown
    assert "FH" not in e.found and e.text == "FH?"
    assert shorthand.expand("CT of the head after a fall?").found["CT"] == "computed tomography"
    assert "GA" not in shorthand.expand("GA?").found
    assert shorthand.expand("elective surgery under GA").found["GA"] == "general anesthesia"


# --- fragments and recommendation language -------------------------------------------------------------
@pytest.mark.parametrize("s", ["See modeling report[12,13] for additional details.", "( Strong For; Reviewed, New-added )",
                               "See the \"Practice Considerations\" section and Table 1 for details about screening strategies.",
                               "Critically ill patients in the intensive care unit (ICU)", "Screening strategy",
                               "Adults 18 years or older with low back pain (LBP)", "a", "Recommendation 4:",
                               "have accelerated progression of CKD (see recommendation 1.3.5).",
                               "C. Single-use devices are discarded after use and not used for Yes No more than one patient.",
                               "❑ Hand hygiene is performed before each patient contact."])
def test_fragments(s):
    assert is_fragment(s)


@pytest.mark.parametrize("s", ["The USPSTF recommends screening for colorectal cancer in adults aged 45 to 49 years.",
                               "Store patients' insulin at the clinic and dispense one vial at a time."])
def test_statements_are_not_fragments(s):
    assert not is_fragment(s)


def test_grade_tags_attach_to_the_statement_before_them():
    text = ("- The guideline panel recommends a five-day course of the chosen antibiotic.\n"
            "( Strong For; Reviewed, New-added )\n"
            "- The guideline panel suggests using spacers for patients who have difficulty with inhalers. ( Weak For )")
    spans = recommendation_spans(text)
    assert [g for _, _, g in spans] == ["Strong For", "Weak For"]
    assert is_grade_tag("( Strong For )") and grade_of("[B]") == "B"


def test_structured_recommendation_blocks_become_units():
    text = ("# Colorectal Cancer: Screening\n\n## Recommendation Summary\n\n"
            "- Population: Colorectal Cancer: Screening -- Adults aged 45 to 49 years\n  Grade: B\n"
            "  Recommendation: The USPSTF recommends screening for colorectal cancer in adults aged 45 to 49 years.\n\n"
            "- Population: Colorectal Cancer: Screening -- Adults aged 76 to 85 years\n  Grade: C\n"
            "  Recommendation: The USPSTF recommends that clinicians selectively offer screening.\n\n## Importance\nText.\n")
    sec = Section(id="d#recommendation-summary", heading_path=["CRC", "Recommendation Summary"],
                  start=text.index("## Recommendation"), end=text.index("## Importance"))
    out = recommendation_blocks("d", text, [sec])
    recs = [s for s in out if s.kind == "recommendation"]
    assert [(s.grade, s.population) for s in recs] == [("B", "Adults aged 45 to 49 years"), ("C", "Adults aged 76 to 85 years")]
    assert text[recs[0].start:recs[0].end].startswith("The USPSTF recommends screening")
    assert recs[0].heading_path[-1] == "Adults aged 45 to 49 years"


def test_population_match_by_age_and_sex():
    assert population_match("46-year-old", "adults aged 45 to 49 years") > 0
    assert population_match("46-year-old", "adults aged 50 to 75 years") < 0
    assert population_match("80-year-old", "adults 65 years or older") > 0
    assert population_match("27-year-old woman", "men who have sex with men") < 0


# --- composer --------------------------------------------------------------------------------------------
def _p(doc: str, title: str, text: str, score: float, published: str, *, kind=None, grade=None, population=None,
       heading="Recommendation Summary", recs=None, sid=None) -> Passage:
    c = Chunk(chunk_id=f"{doc}#{sid or heading}::0", doc_id=doc, section_id=f"{doc}#{sid or heading}", text=text,
              heading_path=[title, heading], doc_type="guideline", collection="uspstf", title=title,
              source="U.S. Preventive Services Task Force", published=published, start=0, end=len(text), n_tokens=10,
              content_hash=doc, kind=kind, grade=grade, population=population,
              recs=recs if recs is not None else ([(0, len(text), grade or "")] if kind else []))
    return Passage(chunk=c, score=score)


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


# --- follow-ups and unknown drugs ----------------------------------------------------------------------
def test_follow_up_keeps_the_topic_and_asks_the_new_aspect(settings):
    first = "avg-risk 46yo, no FH — start CRC screening now or wait till 50? grade?"
    assert subject_of(first) == "CRC screening"
    assert subject_of("62M, 30 pack-yr, quit 10y — LDCT?") == "LDCT"  # smoking history describes the patient
    sq = standalone_question("and when do we stop?", [Turn(role="user", content=first)], settings)
    assert sq == "When do we stop (CRC screening)?"
    assert "46" not in sq and "wait" not in sq
    # a short question with its own subject stands alone
    assert standalone_question("What is gout?", [Turn(role="user", content=first)], settings) == "What is gout?"


def test_drug_and_device_names():
    for w in ["tirzepatide", "donanemab", "finerenone", "lenacapavir", "inclisiran", "tenecteplase"]:
        assert looks_like_name(w, f"starting {w} — dose?")
    assert looks_like_name("mitraclip", "MitraClip candidacy?")
    for w in ["mediterean", "lymphocytice", "screening", "pressure"]:
        assert not looks_like_name(w, f"about {w.capitalize()} please")


def test_unknown_drug_abstains_by_name(indexed_settings: Settings):
    from qa_bot.engine import answer

    a = answer("T2DM on metformin, starting tirzepatide — starting dose?", [], indexed_settings)
    assert a.abstained and "tirzepatide" in (a.notice or "")
    assert not a.sentences


# --- end to end on the bundled corpus --------------------------------------------------------------------
@pytest.mark.slow
def test_crc_conversation_on_the_bundled_corpus():
    data = ROOT / "data"
    if not (data / "state.sqlite").is_file() and not any(data.glob("*.sqlite")):
        pytest.skip("the bundled corpus is not indexed (make eval-quick / make run index it)")
    from qa_bot.engine import answer

    s = Settings(data_dir=data)
    q1 = "avg-risk 46yo, no FH — start CRC screening now or wait till 50? grade?"
    a1 = answer(q1, [], s)
    assert not a1.abstained
    bl = " ".join(x.display for x in a1.bottom_line())
    assert "45 to 49" in bl and "grade B" in bl
    shown = " ".join(x.display for x in a1.sentences).lower()
    assert "lung cancer" not in shown and "aspirin" not in shown and "see modeling report" not in shown
    assert a1.expansions.get("FH") == "family history"
    a2 = answer("and when do we stop?", [{"role": "user", "content": q1},
                                         {"role": "assistant", "content": bl}], s)
    assert "CRC" in a2.standalone_question and "stop" in a2.standalone_question.lower()
    assert any(x in " ".join(x.display for x in a2.sentences) for x in ("75", "85"))
    a3 = answer("T2DM on metformin, starting tirzepatide — starting dose?", [], s)
    assert a3.abstained and "tirzepatide" in (a3.notice or "")


def test_a_named_guideline_body_is_recognised():
    from qa_bot.text import issued_by, issuing_bodies

    assert issuing_bodies("VA/DoD BMI cutoffs for bariatric surgery?") == {"VA", "DOD"}
    assert issuing_bodies("52F wants tamoxifen — USPSTF?") == {"USPSTF"}
    assert issuing_bodies("who gets a statin?") == set()  # "who" is not WHO
    va = Chunk(chunk_id="c", doc_id="d", section_id="s", text="t", doc_type="guideline", collection="ngc", start=0,
               end=1, n_tokens=1, content_hash="h", source="Department of Veterans Affairs - Federal Government Agency")
    assert issued_by(va, {"VA"}) and not issued_by(va, {"USPSTF"})


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


def test_outside_pregnancy_means_nonpregnant():
    e = shorthand.expand("who should I screen for syphilis outside pregnancy?")
    assert "nonpregnant" in e.text


# --- answers that state what was asked (session 4 rules) --------------------------------------------------
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


def test_answer_types_and_term_matching():
    from qa_bot.text import expects_quantity, soft_overlap, states_quantity, term_set

    assert expects_quantity("obese 10yo — how intensive does the behavioral program need to be?")
    assert not expects_quantity("how do we treat it?") and not expects_quantity("how is it spread?")
    assert states_quantity("interventions with 26 or more contact hours") and states_quantity("≥12 sessions")
    assert not states_quantity("2 of the trials")
    # hyphenated words, and the words guidelines answer with
    assert soft_overlap({"intens"}, set(term_set("higher-intensity (≥26 contact hours) interventions"))) == {"intens"}
    assert soft_overlap({"admit"}, set(term_set("Hospitalize people with SCD and a temperature ≥39.5°C"))) == {"admit"}
    assert soft_overlap({"first"}, set(term_set("an initial nontreponemal test"))) == {"first"}
    assert not soft_overlap({"admit"}, set(term_set("Discharge after observation")))


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


def test_abbreviation_lists_are_fragments_and_hyphenated_words_match_on_their_long_words():
    from qa_bot.text import soft_overlap, term_set

    assert is_fragment("Abbreviations: OSA, obstructive sleep apnea; USPSTF, US Preventive Services Task Force.")
    assert soft_overlap({"door-to-analgesia"}, set(term_set("Rapidly initiate analgesic therapy within 30 minutes")))
    assert not soft_overlap({"stop-bang"}, set(term_set("VA guidelines suggest using the STOP questionnaire")))
    assert soft_overlap({"repeat"}, set(term_set("Re-check patients with a negative result every 6 months")))


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


def test_footnotes_are_fragments_and_options_are_recommendations():
    assert is_fragment("‡ Condition associated with increased risk as a result of pregnancy.")
    from qa_bot.text import is_recommendation

    assert is_recommendation("Weight loss surgery is an option for carefully selected patients with severe obesity.")
    assert is_recommendation("Statin therapy is reasonable in adults aged 40 to 75 years with diabetes.")
    assert not is_recommendation("Obesity is a chronic disease.")


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
