"""Text helpers (qa_bot/text.py): fragments and statements, grade tags, drug and device names, guideline bodies,
answer types and term matching, and property tests of the sentence locator and the with/without check."""

from __future__ import annotations

import pytest
from helpers import chunk
from hypothesis import given, settings as hsettings, strategies as st

from qa_bot.text import grade_of, is_fragment, is_grade_tag, looks_like_name, recommendation_spans


# --- fragments and recommendation language -------------------------------------------------------------
@pytest.mark.parametrize("s", ["See modeling report[12,13] for additional details.", "( Strong For; Reviewed, New-added )",
                               "See the \"Practice Considerations\" section and Table 1 for details about screening strategies.",
                               "Critically ill patients in the intensive care unit (ICU)", "Screening strategy",
                               "Adults 18 years or older with low back pain (LBP)", "a", "Recommendation 4:",
                               "have accelerated progression of CKD (see recommendation 1.3.5).",
                               "C. Single-use devices are discarded after use and not used for Yes No more than one patient.",
                               "❑ Hand hygiene is performed before each patient contact.",
                               # a pointer elsewhere, in parentheses too (it led an answer on obesity's symptoms)
                               "(For more information, go to \"How Are Overweight and Obesity Diagnosed?\")",
                               "Learn more about how rheumatoid arthritis is diagnosed."])
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


def test_drug_and_device_names():
    for w in ["tirzepatide", "donanemab", "finerenone", "lenacapavir", "inclisiran", "tenecteplase"]:
        assert looks_like_name(w, f"starting {w} — dose?")
    assert looks_like_name("mitraclip", "MitraClip candidacy?")
    for w in ["mediterean", "lymphocytice", "screening", "pressure"]:
        assert not looks_like_name(w, f"about {w.capitalize()} please")


def test_a_named_guideline_body_is_recognised():
    from qa_bot.text import issued_by, issuing_bodies

    assert issuing_bodies("VA/DoD BMI cutoffs for bariatric surgery?") == {"VA", "DOD"}
    assert issuing_bodies("52F wants tamoxifen — USPSTF?") == {"USPSTF"}
    assert issuing_bodies("who gets a statin?") == set()  # "who" is not WHO
    va = chunk("t", "d", chunk_id="c", section_id="s", doc_type="guideline", collection="ngc", n_tokens=1,
               content_hash="h", source="Department of Veterans Affairs - Federal Government Agency")
    assert issued_by(va, {"VA"}) and not issued_by(va, {"USPSTF"})


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


def test_abbreviation_lists_are_fragments_and_hyphenated_words_match_on_their_long_words():
    from qa_bot.text import soft_overlap, term_set

    assert is_fragment("Abbreviations: OSA, obstructive sleep apnea; USPSTF, US Preventive Services Task Force.")
    assert soft_overlap({"door-to-analgesia"}, set(term_set("Rapidly initiate analgesic therapy within 30 minutes")))
    assert not soft_overlap({"stop-bang"}, set(term_set("VA guidelines suggest using the STOP questionnaire")))
    assert soft_overlap({"repeat"}, set(term_set("Re-check patients with a negative result every 6 months")))


def test_footnotes_are_fragments_and_options_are_recommendations():
    assert is_fragment("‡ Condition associated with increased risk as a result of pregnancy.")
    from qa_bot.text import is_recommendation

    assert is_recommendation("Weight loss surgery is an option for carefully selected patients with severe obesity.")
    assert is_recommendation("Statin therapy is reasonable in adults aged 40 to 75 years with diabetes.")
    assert not is_recommendation("Obesity is a chronic disease.")


# --- the sentence locator and the with/without check: what their regex forms found, without a regex per call ----
_LOC_WORDS = st.sampled_from(["a", "b", "ab", "c", "é", "with", "without", "aura", "Aura", "type-2"])


_SPACE = st.sampled_from([" ", "  ", "\n", "\t", "\u00a0", ""])


@given(st.lists(st.tuples(_LOC_WORDS, _SPACE), max_size=14), st.lists(_LOC_WORDS, max_size=5),
       st.integers(0, 4))
@hsettings(max_examples=400, deadline=None)
def test_sentence_locator_finds_what_the_whitespace_regex_finds(para, words, cursor):
    import re

    from qa_bot.text import _locate

    text = "".join(w + sp for w, sp in para)
    sent = " ".join(words)
    i = text.find(sent, cursor)
    if i >= 0:
        want = (i, i + len(sent))
    elif not sent.split():
        want = None
    else:
        m = re.compile(r"\s+".join(re.escape(w) for w in sent.split())).search(text, cursor)
        want = (m.start(), m.end()) if m else None
    assert _locate(text, sent, cursor) == want


@given(st.lists(st.tuples(_LOC_WORDS, _SPACE), max_size=10), st.lists(st.tuples(_LOC_WORDS, _SPACE), max_size=10))
@hsettings(max_examples=400, deadline=None)
def test_with_without_check_matches_its_regex_form(q, s):
    import re

    from qa_bot.text import with_without

    question, sentence = "".join(w + sp for w, sp in q), "".join(w + sp for w, sp in s)

    def reference() -> bool:
        for said, asked in (("without", "with"), ("with", "without")):
            for m in re.finditer(rf"\b{said}\s+([a-z][\w-]+)", sentence, re.I):
                w = re.escape(m.group(1))
                if re.search(rf"\b{asked}\s+{w}", question, re.I) and not re.search(rf"\b{said}\s+{w}", question,
                                                                                   re.I):
                    return True
        return False
    assert with_without(question, sentence) == reference()


def test_a_case_the_question_rules_out_is_the_opposite_case():
    from qa_bot.text import contradicts

    q = "sore throat, adult, no allergy — antibiotic, dose?"
    assert contradicts(q, "Medicine: Penicillin allergy: clarithromycin; Doses Adult: 250mg to 500mg BD")
    assert contradicts(q, "In people with a penicillin allergy, offer clarithromycin.")
    assert not contradicts(q, "Medicine: First choice: phenoxymethylpenicillin; Doses Adult: 500mg QDS")
    assert not contradicts(q, "Patients with no allergy should be offered penicillin.")
    q = "62M, no symptoms — screen?"
    assert contradicts(q, "Adults with new respiratory symptoms need spirometry.")
    assert not contradicts(q, "Screen adults with or without symptoms.")
    assert not contradicts("is there no other way?", "Other options: see below.")  # (a function word: no case)


def test_a_list_item_without_its_lead_in_is_recognised():
    from qa_bot.text import is_list_item

    for item in ("hunger - dizziness or shakiness - confusion - being pale - sweating more",
                 "acarbose (Precose) - metformin (Glucophage) - miglitol (Glyset)",
                 "eating several small, low-fat meals throughout the day at a slow pace",
                 "may be used with statins or alone"):
        assert is_list_item(item), item
    for sentence in ("Symptoms of low blood glucose include - hunger - dizziness - confusion",
                     "Metformin is the first-line drug for type 2 diabetes.", "pH of the urine is low.",
                     "mRNA vaccines are given as two doses.", "e.g. a fasting glucose test."):
        assert not is_list_item(sentence), sentence


_HPO = ("Signs and Symptoms Approximate number of patients (when available) Cherry red spot of the macula 50% "
        "Abnormality of the heart valves - Abnormality of the urinary system - Hepatomegaly - The Human Phenotype "
        "Ontology (HPO) has collected information on how often a sign or symptom occurs in a condition.")


def test_a_flattened_list_is_split_into_its_items_even_of_one_item_after_a_header():
    from qa_bot.text import inline_items

    items = [_HPO[a:b] for a, b in inline_items(_HPO)]
    assert items[0].startswith("Signs and Symptoms") and items[-1].startswith("The Human Phenotype Ontology")
    one = ("Signs and Symptoms Approximate number of patients (when available) Autosomal recessive inheritance - The "
           "Human Phenotype Ontology (HPO) has collected information on how often a sign or symptom occurs.")
    assert [one[a:b] for a, b in inline_items(one)][-1].startswith("The Human Phenotype Ontology")
    prose = ("Most people with the condition have mild symptoms that go away within a few weeks without treatment "
             "- but some develop a lasting cough that needs to be checked by a doctor after a month or more.")
    assert inline_items(prose) == [(0, len(prose))]  # a dash in a sentence that states something: one sentence


def test_boilerplate_counts_a_sentence_glued_after_a_list():
    """The HPO note follows the table's items in 2,000 GARD pages, never as a sentence of its own: its template is
    boilerplate once each flattened list's items are read too."""
    from helpers import chunk

    from qa_bot.store.tables import boilerplate_templates, sentence_template

    chunks = [chunk(_HPO.replace("Hepatomegaly", f"Feature {i}"), f"d{i}", title=f"Condition {i}") for i in range(3)]
    note = _HPO[_HPO.index("The Human Phenotype"):]
    assert sentence_template(note, "Condition 0") in boilerplate_templates(chunks, min_docs=3)


def test_a_table_cell_with_one_dash_is_not_split():
    from qa_bot.text import inline_items

    cell = ("Dexamethasone 12mg bd IVI (60kg) - (0,4mg/kg/d): initial stabilization period Followed by: Prednisone "
            "120mg daily po (2mg/kg/day) for 1 week Taper dose over 6-8weeks")
    assert inline_items(cell) == [(0, len(cell))]


def test_a_subheading_glued_before_a_sentence_is_found_and_a_name_is_not_one():
    from qa_bot.text import glued_heading

    for text, sentence in [
            ("Diagnosis Can Take Time Symptoms of rheumatoid arthritis can be similar to other types of arthritis.",
             "Symptoms of rheumatoid arthritis"),
            ("Lipoproteins and Cholesterol Cholesterol circulates in your blood stream.", "Cholesterol circulates"),
            ("What the Kidneys Do You have two kidneys.", "You have two kidneys."),
            ("Shingles Usually Does Not Return People who develop shingles usually have only one episode.",
             "People who develop")]:
        assert text[glued_heading(text):].startswith(sentence), text
    for name in ("The American College of Obstetricians and Gynecologists recommends screening all women.",
                 "Infants with Tay-Sachs disease appear to develop normally at first.",
                 "Ramsay Hunt Syndrome is a rare disorder of the facial nerve.",
                 "The Work Group suggests offering treatment with an SSRI.",
                 "New York Heart Association Class III patients have symptoms on mild exertion.",
                 "Duchenne and Becker muscular dystrophies result from faulty dystrophin."):
        assert glued_heading(name) == 0, name


def test_a_name_that_recurs_in_the_passage_is_no_glued_heading():
    from qa_bot.text import glued_heading

    text = ("Miller Fisher syndrome is a rare, acquired nerve disease. Treatment for Miller Fisher syndrome is "
            "identical to treatment for Guillain-Barre syndrome.")
    sentence = text[text.index("Treatment"):]
    assert glued_heading(sentence, text) == 0
    hpo = "The Human Phenotype Ontology provides the following list of signs and symptoms for Pyomyositis."
    assert glued_heading(hpo, hpo) == 0


def test_a_name_before_its_head_word_or_a_pointer_is_no_glued_heading():
    from qa_bot.text import glued_heading

    assert glued_heading("Treatment for Miller Fisher syndrome is identical to treatment for Guillain-Barre.") == 0
    assert glued_heading("See Acute Myeloid Leukemia for more information on this condition.") == 0


def test_the_last_item_of_a_flattened_list_is_split_from_the_sentence_after_it():
    from qa_bot.text import inline_items

    s = ("Tell your doctor if any of these symptoms are severe or do not go away: - nausea - vomiting - stomach pain "
         "- heartburn or gas - diarrhea - constipation - dry mouth Some side effects can be serious.")
    items = [s[a:b] for a, b in inline_items(s)]
    assert items[-2:] == ["dry mouth", "Some side effects can be serious."]
    s2 = s.replace("dry mouth Some side effects can be serious.", "pain in the Achilles tendon")
    assert [s2[a:b] for a, b in inline_items(s2)][-1] == "pain in the Achilles tendon"


# --- sentences glued at their stop ("symptoms.Older"): scraped pages lose the line break between them ------------
def test_a_sentence_glued_to_the_previous_stop_is_split_off():
    from qa_bot.text import split_sentences

    text = ("Most people with flu are contagious for about 1 day before they show symptoms.Older children and adults "
            "are most contagious during the first 3-4 days. Keep up.Most people recover.")
    got = [text[a:b] for a, b in split_sentences(text)]
    assert got == ["Most people with flu are contagious for about 1 day before they show symptoms.",
                   "Older children and adults are most contagious during the first 3-4 days.", "Keep up.",
                   "Most people recover."]
    # a sentence opening with a short word ("If", "It", "In"): "… taken only occasionally.If a physiologic tremor
    # is worsened …, propranolol (a beta-blocker) may help." was quoted whole, the glued stop inside it
    two = "These drugs should be taken only occasionally.If a tremor is worsened, propranolol may help."
    assert [two[a:b] for a, b in split_sentences(two)] == ["These drugs should be taken only occasionally.",
                                                           "If a tremor is worsened, propranolol may help."]


def test_a_sentence_after_reference_marks_glued_to_the_stop_is_split_off():
    """"… compared with placebo.[42,43] The DPP reported …" was one sentence of 480 characters that nothing quoted:
    the sentence stating metformin's effect on blood pressure could not lead. The marks stay with their sentence."""
    from qa_bot.text import split_sentences

    text = ("Both trials reported no significant difference in blood pressure among persons receiving metformin "
            "compared with placebo.[42,43] The DPP reported a greater increase in lipid levels,[43] whereas one did "
            "not.[42] Rates vary.")
    got = [text[a:b] for a, b in split_sentences(text)]
    assert got == ["Both trials reported no significant difference in blood pressure among persons receiving "
                   "metformin compared with placebo.[42,43]",
                   "The DPP reported a greater increase in lipid levels,[43] whereas one did not.[42]", "Rates vary."]
    # a mark inside a sentence, or before a lower-case word, is no stop
    inner = "Doses vary.[3] and then again (see [4]) they do."
    assert [inner[a:b] for a, b in split_sentences(inner)] == [inner]


@pytest.mark.parametrize("text", ["See Cancer.Net or www.ClinicalTrials.gov for trials near you.",
                                  "Read more at MedlinePlus.gov today.", "Give it i.v. daily, e.g. after meals.",
                                  "Ask Dr.Smith about it.", "Smith et al.The trial vs.Placebo arm."])
def test_web_addresses_and_abbreviations_are_no_glued_stops(text):
    from qa_bot.text import split_sentences

    assert [text[a:b] for a, b in split_sentences(text)] == [text]


def test_the_chunker_keeps_a_glued_sentence_whole():
    """(the chunks, and the vectors shipped for them, stay those of indexes already built: only quoting splits)"""
    from qa_bot.text import split_sentences

    text = "They show symptoms.Older children are contagious."
    assert [text[a:b] for a, b in split_sentences(text, glued=False)] == [text]
