"""The question's subject and aspect (qa_bot/subject.py) and how the composer answers them: the subject leads,
an unknown subject abstains by name, a known subject without what was asked abstains by aspect, a two-part
question says which part is missing."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import passage

from qa_bot.compose import compose
from qa_bot.settings import Settings
from qa_bot.subject import Vocabulary, alternatives, asked_aspects, find_subject, keyness
from qa_bot.text import stem_words, term_set
from qa_bot.types import Passage, Subject


# an index of 10,000 chunks: document frequencies of a few stemmed words
_DF = {"isotretinoin": 17, "accutan": 2, "antibiot": 600, "pregnant": 1500, "babi": 700, "loperamid": 15,
       "imodium": 4, "diarrhea": 629, "mening": 80, "infect": 4000, "respiratori": 800, "contagi": 300,
       "cold": 900, "sore": 330, "long": 3000, "term": 2500, "okay": 3, "meantim": 7, "sweat": 300}


def _vocab(phrases: dict[str, int] | None = None) -> Vocabulary:
    common = sorted(_DF)

    def nearest(t: str) -> str | None:
        from rapidfuzz import process
        from rapidfuzz.distance import Levenshtein

        hit = process.extractOne(t, common, scorer=Levenshtein.distance, score_cutoff=2)
        return hit[0] if hit and hit[0][0] == t[0] else None

    return Vocabulary(df=_DF, n=10_000, nearest=nearest,
                      phrase_count=lambda p: (phrases or {}).get(p.lower(), 0))


# --- subject ---------------------------------------------------------------------------------------------
def test_subject_by_brand_name_is_the_rarest_indexed_word():
    s = find_subject("Is Accutane like an antibiotic and would it affect a baby if I got pregnant?", _vocab())
    assert s is not None and s.name == "Accutane" and s.term == "accutan" and s.df == 2


def test_brand_name_gets_the_generic_name_the_documents_give_it():
    s = find_subject("is it okay to take imodium long term?", _vocab())
    assert s is not None and s.term == "imodium"
    texts = ["Over-the-counter medications such as loperamide (Imodium) may help stop diarrhea.",
             "Loperamide (Imodium, Kaopectate) is taken after each loose stool."]
    s2 = alternatives(s, texts, _vocab())
    assert s2.alternatives == ["loperamide"] and "loperamid" in s2.terms
    assert s2.named_in(frozenset(stem_words(["loperamide", "dose"])))


def test_generic_name_and_the_reverse_parenthesis():
    s = find_subject("What is the dose of isotretinoin for acne?", _vocab())
    assert s is not None and s.term == "isotretinoin"
    s2 = alternatives(s, ["Isotretinoin (Accutane) is a retinoid."], _vocab())
    assert s2.alternatives == ["accutane"]


def test_a_lay_name_of_two_words_is_kept_whole_when_the_index_uses_it():
    s = find_subject("Am I contagious with a cold sore?", _vocab({"cold sore": 12}))
    assert s is not None and s.name == "cold sore"
    assert "contagi" not in s.terms  # the aspect word is never the subject


def test_a_misspelt_subject_is_read_as_the_indexed_word():
    s = find_subject("Whats menigitis?", _vocab())
    assert s is not None and s.term == "mening" and s.df == 80  # "whats" is a contraction, not a subject


def test_an_unindexed_rare_name_is_an_unknown_subject():
    s = find_subject("Doe the buspar cause sleepiness?", _vocab())
    assert s is not None and s.name == "buspar" and s.df == 0


def test_everyday_words_are_not_the_subject():
    assert keyness("meantim", "meantime", _vocab()) < 0  # the documents use it far less than English does
    s = find_subject("Is there any medication you can prescribe in the meantime to reduce my sweating?", _vocab())
    assert s is not None and s.term == "sweat"


# --- aspect ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("q,names", [
    ("Is blepharitis contagious?", {"contagious"}),
    ("is it okay to take imodium long term?", {"duration"}),
    ("Would Accutane affect a baby if I got pregnant?", {"pregnancy"}),
    ("Because I have a fatty liver, can I safely take Imodium?", {"side_effects", "precaution"}),
    ("Can I take the painkiller and the antibiotics at the same time?", {"interaction"}),
    ("How much melatonin should i take at night?", {"dose"}),
    ("Which doctor should i go to for vertigo", {"when_to_seek_care"}),
    ("What is blepharitis?", set()),
    ("Should the iron tablets be taken at a different time than my antacid?", {"interaction"}),
    ("What causes swimmer's ear?", {"cause"}),
    ("How do you get impetigo?", {"cause"}),
    ("How do I get tested for hepatitis C?", set()),  # how one gets it tested (diagnosis), not how one gets it
    ("Is naproxen fine to take with the warfarin?", {"interaction"}),
    ("Can I keep taking it with my other pills?", {"interaction"}),
    ("Is it safe to take aspirin with warfarin?", {"interaction", "side_effects"}),
    ("Should I take it with food?", set()),  # how to take it, not with what else
    # MedQuAD's inheritance question type: the adjective as what is asked, not a name's first word
    ("is eczema hereditary?", {"inheritance"}),
    ("Does diabetes run in families?", {"inheritance"}),
    ("is psoriasis a genetic disease?", {"inheritance"}),
    ("what are the symptoms of hereditary hemochromatosis?", set()),
    ("should I get genetic testing for BRCA?", set()),
    # safe during pregnancy asks the pregnancy aspect, not the drug's side effects
    ("is tylenol safe during pregnancy?", {"pregnancy"}),
    ("Is it safe to take benadryl while breastfeeding?", {"pregnancy"}),
    # alcohol (MedQuAD: interaction with food, herbs and alcohol)
    ("can i drink alcohol while taking metronidazole?", {"interaction", "diet"}),
    ("is it ok to have a glass of wine when on antibiotics", {"interaction"}),
    # a condition the asker has, a drug taken with it (MedQuAD: special precautions)
    ("can i take ibuprofen if i have high blood pressure?", {"precaution"}),
    ("Can I take Imodium since I have been diagnosed with fatty liver?", {"precaution"}),
    ("How would I find out if I have a genetic form of it?", set()),  # whether, not a condition had
    ("can i take tylenol when i have a headache?", set()),  # what a drug is taken for, not a precaution
    # an effect asked of a drug ("does X cause Y": CHQ side effect)
    ("does metformin cause hair loss?", {"effect"}),
    ("Can ertapenem cause seizures?", {"effect"}),
    ("What causes kidney stones?", {"cause"}),
    # where a drug is applied (MedQuAD: special precautions)
    ("can i use hydrocortisone cream on my face?", {"site"}),
    ("can I use it on a daily basis?", set()),
    ("should I take it on an empty stomach?", set()),
    # a food or drink with a drug (MedQuAD: special dietary instructions)
    ("I take levothyroxine in the morning, can I drink coffee right after?", {"diet"}),
    ("should I eat before taking it?", set()),
    # how often (CHQ usage and dosage: frequency; a screening interval)
    ("how often do I need a tetanus shot?", {"interval"}),
    ("how many times a day can I take it?", {"interval"}),
    # stopping a medicine (CHQ tapering), not stopping a habit or a symptom
    ("wellbutrin xl 150. how to taper off", {"stopping"}),
    ("Can I stop using the patch only been on it 4.5 months", {"stopping"}),
    ("how do i come off prednisone?", {"stopping"}),
    ("can i stop taking my blood pressure medicine", {"stopping"}),
    ("how can I stop smoking?", set()),
    ("how do i stop the bleeding?", set()),
    ("when should I start weaning my baby off breast milk?", set()),
    # whether a drug works for a condition (MedQuAD: why is this medication prescribed), not why the asker takes it
    ("Could you tell me about the success rate of Sertraline for Premature Ejaculation", {"indication"}),
    ("does gabapentin work for back pain?", {"indication"}),
    ("is amitriptyline good for migraines", {"indication"}),
    ("I take metformin for diabetes, is that a problem?", set()),
])


def test_aspects_asked(q, names):
    assert {a.name for a in asked_aspects(q)} == names


@pytest.mark.parametrize("q,context", [
    ("can i take ibuprofen if i have high blood pressure?", "high blood pressure"),
    ("Because I have a fatty liver, can I safely take Imodium?", "fatty liver"),
    ("is it ok if my son has been diagnosed with asthma to take singulair", "asthma"),
    ("can I take advil if I have a history of stomach ulcers and kidney disease", "stomach ulcers"),
    ("can i take it if i am pregnant?", None),  # pregnancy: its own aspect
    ("what if I have taken two doses?", None),
    ("Hello, more info about it please as my husband suffers from this.", None),
    ("does metformin cause hair loss?", "hair loss"),
    ("can zoloft make you gain weight?", "gain weight"),
    ("I read online its not safe to to apply on face?", "face"),
    ("I take levothyroxine in the morning, can I drink coffee right after?", "coffee"),
    ("I eat a lot of cheese when on my MAOI", "cheese"),
])
def test_the_condition_the_asker_has(q, context):
    from qa_bot.subject import condition_context

    assert condition_context(q) == context


# --- the composer answers the subject and the aspect ------------------------------------------------------
def _p(text: str, doc: str, title: str, score: float = 1.0, heading: str = "") -> Passage:
    return passage(text, doc, score=score, dense_score=score, chunk_id=f"{doc}#0", title=title,
                   heading_path=[heading] if heading else [], content_hash=doc)


def _settings() -> Settings:
    return Settings(data_dir=Path("/nonexistent-qa-bot-test"))


def test_unknown_subject_abstains_by_name():
    p = _p("Ibuprofen may upset the stomach when taken for a long time.", "d1", "Ibuprofen")
    a = compose("Is Buspar safe long term?", "Is Buspar safe long term?", [p], _settings(),
                subject=Subject(name="Buspar", term="buspar", df=0, strong=True))
    assert a.abstained and "No indexed document mentions Buspar" in a.abstain_reason
    assert "no indexed document mentions 'buspar'" in a.notice
    assert not a.sentences and a.related  # the passages are related reading, labelled as not the answer


def test_unknown_brand_abstains_by_its_brand_and_generic_names():
    p = _p("Ibuprofen may upset the stomach when taken for a long time.", "d1", "Ibuprofen")
    a = compose("What is the dose of Keflex for a UTI?", "What is the dose of Keflex for a UTI?", [p], _settings(),
                subject=Subject(name="Keflex", term="keflex", df=0, strong=True))
    assert a.abstained and "No indexed document mentions Keflex (cephalexin)." in a.abstain_reason


def test_passages_about_another_drug_are_not_the_answer():
    off = _p("You can keep taking these drugs as long as you are benefiting from them.", "d1", "Weight-loss drugs",
             score=2.0)
    on = _p("Loperamide (Imodium) may help stop diarrhea in adults. Stop taking loperamide if the diarrhea lasts "
            "more than 2 days.", "d2", "Diarrhea", score=1.0)
    subj = Subject(name="imodium", term="imodium", df=4, alternatives=["loperamide"], alt_terms=["loperamid"],
                   strong=True)
    a = compose("is it okay to take imodium long term?", "is it okay to take imodium long term?", [off, on],
                _settings(), subject=subj)
    assert not a.abstained
    assert all("benefiting" not in s.text for s in a.sentences)
    assert "loperamide" in " ".join(s.text for s in a.bottom_line()).lower()
    # the same documents, asked what they do not say (whether it is contagious): an abstention naming that
    b = compose("is imodium contagious?", "is imodium contagious?", [off, on], _settings(), subject=subj)
    assert b.abstained and "do not say whether or how long it is contagious" in b.abstain_reason


def test_known_subject_without_the_aspect_abstains_by_aspect():
    p = _p("Blepharitis is inflammation of the eyelids that causes red, itchy eyelids.", "d1", "Blepharitis")
    subj = Subject(name="blepharitis", term="blephar", df=5, strong=True)
    a = compose("Is blepharitis contagious?", "Is blepharitis contagious?", [p], _settings(), subject=subj)
    assert a.abstained
    assert "on blepharitis do not say whether or how long it is contagious" in a.abstain_reason


def test_two_part_question_says_which_part_is_missing():
    p = _p("Isotretinoin can cause birth defects early in pregnancy, before a woman knows she is pregnant. "
           "It is used to treat severe acne.", "d1", "Isotretinoin")
    subj = Subject(name="Accutane", term="accutan", df=2, alternatives=["isotretinoin"], alt_terms=["isotretinoin"],
                   strong=True)
    a = compose("Would Accutane affect a baby if I got pregnant, and can I take it with the antibiotics?",
                "Would Accutane affect a baby if I got pregnant, and can I take it with the antibiotics?", [p],
                _settings(), subject=subj)
    assert not a.abstained and "birth defects" in a.bottom_line()[0].text
    assert a.missing_aspects == ["interaction"]
    assert "do not say whether it can be taken with other medicines" in (a.notice or "")


def test_a_cause_no_passage_on_the_condition_states_is_named_as_missing():
    p = _p("Impetigo is a skin infection that is common in young children. It is treated with an antibiotic cream "
           "for about a week.", "d1", "Impetigo", heading="Impetigo")
    subj = Subject(name="impetigo", term="impetigo", df=5, strong=True)
    q = "How do you get impetigo?"
    a = compose(q, q, [p], _settings(), subject=subj)
    assert a.abstained and "on impetigo do not say the cause" in a.abstain_reason
    assert a.related  # what the documents do say, as related reading
    # a sentence that states its cause answers it
    cause = _p("Impetigo is caused by bacteria that enter the skin through a cut or an insect bite.", "d2", "Impetigo",
               score=2.0)
    b = compose(q, q, [cause, p], _settings(), subject=subj)
    assert not b.abstained and any("bacteria" in x.text for x in b.sentences)


def test_a_mixture_is_no_statement_that_two_medicines_may_be_taken_together():
    from qa_bot.subject import aspects

    interaction = next(a for a in aspects() if a.name == "interaction")
    assert not interaction.said_in("Multivitamin combinations that include zinc may shorten a cold.")
    assert interaction.said_in("Zinc combined with an antibiotic lowers how much of the antibiotic is absorbed.")
    _abstains_naming("Should zinc be taken at a different time from the antibiotic?", Subject(
        name="zinc", term="zinc", df=30, strong=True), "Multivitamin combinations that include zinc may shorten a "
        "cold. Zinc lozenges can leave a bad taste.", "on zinc do not say whether it can be taken with other medicines")


def _abstains_naming(q: str, subj: Subject, text: str, missing: str) -> None:
    """The question on ``subj`` over one page on it holding ``text`` abstains, naming what is ``missing``."""
    a = compose(q, q, [_p(text, "d1", subj.name.title(), heading=subj.name.title())], _settings(), subject=subj)
    assert a.abstained and missing in a.abstain_reason, a.abstain_reason


def test_a_subject_no_passage_speaks_of_and_an_aspect_none_states_abstains_naming_both():
    p = _p("Amoxicillin is usually taken three times a day for one week. Finish the whole course even when you feel "
           "better.", "d1", "Amoxicillin", heading="Amoxicillin")
    subj = Subject(name="cough syrup", term="syrup", df=20, strong=True, words=["cough", "syrup"])
    q = "Can I take the cough syrup and the antibiotic together?"
    a = compose(q, q, [p], _settings(), subject=subj)
    assert a.abstained
    assert "speaks of cough syrup or says whether it can be taken with other medicines" in a.abstain_reason
    # a subject that is not held to (a weak one) leaves the answer to the passages, the aspect named as missing
    weak = subj.model_copy(update={"strong": False})
    b = compose(q, q, [p], _settings(), subject=weak)
    assert not b.abstained and b.missing_aspects == ["interaction"]


# --- end to end on the bundled corpus --------------------------------------------------------------------
def test_accutane_and_imodium_on_the_bundled_corpus(bundled_settings):
    from qa_bot.engine import answer

    s = bundled_settings
    a = answer("Is Accutane like an antibiotic and would it affect a baby if I got pregnant?", [], s)
    shown = " ".join(x.display for x in a.sentences).lower()
    assert not a.abstained and "isotretinoin" in " ".join(x.display for x in a.bottom_line()).lower()
    assert "gonorrh" not in shown and "antibiotics generally" not in shown
    b = answer("Is it okay to take Imodium long term?", [], s)
    shown = " ".join(x.display for x in b.sentences).lower()
    assert b.abstained or "loperamide" in shown or "imodium" in shown
    assert "as long as you are benefiting" not in shown


def test_a_drug_no_top_passage_names_is_answered_from_the_passages_naming_it_on_the_bundled_corpus(bundled_settings):
    from qa_bot.engine import answer

    # pages on pregnancy outrank every passage naming acetaminophen, and none of these says anything of pregnancy:
    # the answer is not hypertension in pregnancy but that the documents on the drug do not say it
    a = answer("is tylenol safe during pregnancy?", [], bundled_settings)
    assert a.abstained, [x.text for x in a.sentences]
    assert "acetaminophen" in (a.abstain_reason or "") and "pregnancy" in (a.abstain_reason or "")
    assert "hypertensi" not in " ".join(x.text for x in a.sentences).lower()


def test_an_unindexed_name_qualified_by_a_common_indexed_word_is_unknown_as_a_whole():
    df = dict(_DF, alfa=22)
    v = Vocabulary(df=df, n=10_000)
    s = find_subject("What important warning should I know about Epoetin Alfa?", v)
    assert s is not None and s.name == "Epoetin Alfa" and s.df == 0
    # a misspelt word beside a known one is no name: only the capitalised name makes the compound unknown
    v2 = Vocabulary(df=dict(_DF, alfa=22, syndrom=900), n=10_000, nearest=lambda t: "syndrom" if t == "sydrom" else None)
    s2 = find_subject("more information about the sydrome conditon", v2)
    assert s2 is not None and s2.name != "sydrome conditon"


# --- compounds, glosses and misspellings, read against the index's own spelling ------------------------------
def _vocab_of(df: dict[str, int], phrases: dict[str, int] | None = None, headed: dict[str, float] | None = None,
              spellings: dict[str, list[str]] | None = None) -> Vocabulary:
    return Vocabulary(df=df, n=10_000, phrase_count=lambda p: (phrases or {}).get(p.lower(), 0),
                      headed=lambda t: (headed or {}).get(t, 0.0),
                      spellings=lambda t: (spellings or {}).get(t, []))


def test_two_words_the_index_spells_closed_are_one_subject_searched_closed():
    v = _vocab_of({"toothach": 90, "tooth": 400, "ach": 700, "night": 900})
    s = find_subject("What can I take at night for a tooth ache?", v)
    assert s is not None and s.term == "toothach" and s.name == "tooth ache"
    assert s.alternatives == ["toothache"]  # retrieval searches the closed word the documents use


def test_a_hyphenated_word_the_index_spells_closed():
    v = _vocab_of({"antivir": 60, "anti": 300, "viral": 500, "cream": 200, "lip": 150})
    s = find_subject("Would an anti-viral cream help my lip?", v)
    assert s is not None and s.term == "antivir" and "antiviral" in s.alternatives


def test_words_written_apart_more_often_than_closed_stay_apart():
    # "blood pressure": the index holds "bloodpressure" in a few chunks, the open phrase in many
    v = _vocab_of({"bloodpressur": 3, "blood": 2000, "pressur": 1500, "measur": 1200, "home": 800},
                  phrases={"blood pressure": 40})
    s = find_subject("How do I check blood pressure at home?", v)
    assert s is None or s.term != "bloodpressur"


def test_a_gloss_in_parentheses_is_another_name_not_a_second_topic():
    # the search spells a brand out ("Paxil (paroxetine)"): the gloss does not dilute the unindexed brand asked about
    df = {"paxil": 6, "paroxetin": 30, "sleepi": 80, "night": 900, "combin": 700}
    s = find_subject("Is Restavil ok to combine with the Paxil (paroxetine) at night?", _vocab_of(df))
    assert s is not None and s.name == "Restavil" and s.df == 0
    # an unindexed brand whose gloss the index knows is found by its gloss
    s2 = find_subject("Does Zyrtec (cetirizine) cause sleepiness?", _vocab_of({"cetirizin": 25, "sleepi": 80}))
    assert s2 is not None and s2.name == "Zyrtec" and s2.term == "cetirizin" and s2.df == 25


def test_a_misspelling_with_two_letters_swapped_is_one_edit():
    from qa_bot.retrieve import _spellings

    common = sorted(["neuriti", "nutriti", "neural", "optic"])
    assert set(_spellings("nueriti", common)) == {"neuriti", "nutriti"}  # both one edit (a swap, a substitution)
    assert _spellings("zzzzzz", common) == []


def test_of_two_corrections_the_one_the_index_writes_beside_the_neighbouring_word():
    df = {"optic": 120, "neuriti": 15, "nutriti": 400}
    v = _vocab_of(df, phrases={"optic neuriti": 4}, spellings={"nueriti": ["nutriti", "neuriti"]})
    s = find_subject("What is optic nueritis?", v)
    assert s is not None and s.term == "neuriti"
    # without a neighbour: the correction that titles and headings name most
    v2 = _vocab_of(df, headed={"neuriti": 0.6, "nutriti": 0.1}, spellings={"nueriti": ["nutriti", "neuriti"]})
    s2 = find_subject("can nueritis come back?", v2)
    assert s2 is not None and s2.term == "neuriti"


def test_a_condition_named_as_a_unit_by_headings_outweighs_a_rarer_unheaded_word():
    df = {"inadvis": 20, "rheumatoid": 150, "arthriti": 900, "exercis": 2000}
    v = _vocab_of(df, phrases={"rheumatoid arthritis": 30}, headed={"rheumatoid": 0.1, "arthriti": 0.15})
    v.phrase_headed = lambda p: 0.6 if p.lower() == "rheumatoid arthritis" else 0.0
    s = find_subject("What exercises are inadvisable with rheumatoid arthritis?", v)
    assert s is not None and s.name == "rheumatoid arthritis" and s.term == "rheumatoid"
    # the same words, not a unit that headings name: the rarer word leads
    v.phrase_headed = lambda p: 0.0
    s2 = find_subject("What exercises are inadvisable with rheumatoid arthritis?", v)
    assert s2 is not None and s2.term == "inadvis"


def test_an_everyday_word_joins_the_name_only_where_the_index_writes_them_together():
    df = {"take": 5000, "naproxen": 40, "dinner": 300, "cold": 900, "sore": 330}
    shares = {"take naproxen": 0.08, "cold sore": 0.3}
    v = _vocab_of(df, phrases={"take naproxen": 3, "cold sore": 12})
    v.phrase_share = lambda p: shares.get(p.lower(), 0.0)
    s = find_subject("Should I take naproxen after dinner?", v)
    assert s is not None and s.name == "naproxen"  # a verb is no part of its object's name
    s2 = find_subject("Will a cold sore scar?", v)
    assert s2 is not None and s2.name == "cold sore"


def test_an_unindexed_name_after_an_everyday_verb_is_unknown_not_a_form_of_the_verb():
    v = _vocab_of({"use": 6000, "medrol": 40})
    s = find_subject("Any side effects from using Zorvane?", v)
    assert s is not None and s.name == "Zorvane" and s.df == 0
    # beside an indexed name it is a form of that thing ("medrol dosepak"), not an unknown subject
    s2 = find_subject("Can I cut the medrol dosepak in half?", v)
    assert s2 is None or s2.df > 0


# --- what names the subject: a phrase's head, a predicate is no subject, topic words only, names as written ------
def test_a_predicative_participle_is_not_the_subject():
    # "contraindicated" is rarer than the condition and headings ("Contraindications") name it: as the predicate
    # of the question ("are contraindicated") it says what is asked, the condition is what it is asked about
    v = _vocab_of({"contraind": 120, "crohn": 150, "drug": 2000, "nurs": 600, "mother": 400},
                  headed={"contraind": 0.6, "crohn": 0.4})
    s = find_subject("Which drugs are contraindicated for a nursing mother with Crohn disease?", v)
    assert s is not None and s.term == "crohn"
    # before its noun a participle may be part of the name
    v2 = _vocab_of({"enlarg": 300, "spleen": 80, "serious": 900}, phrases={"enlarged spleen": 20})
    s2 = find_subject("Is an enlarged spleen serious?", v2)
    assert s2 is not None and s2.name == "enlarged spleen"


def test_an_unknown_name_weighs_against_the_topic_words_only():
    # everyday words that documents seldom use ("took", "ago") have a high idf but name nothing: beside them the
    # unindexed drug name still carries most of the question's topic weight
    v = _vocab_of({"took": 10, "hour": 170, "ago": 5, "take": 700, "aspirin": 100})
    s = find_subject("I took Zyloprim about an hour ago, can I take aspirin?", v)
    assert s is not None and s.name == "Zyloprim" and s.df == 0 and s.strong


def test_a_hyphenated_name_is_read_as_the_index_splits_it():
    v = _vocab_of({"alka": 3, "seltzer": 4, "warfarin": 150}, phrases={"alka-seltzer": 3})  # (as the index counts it, hyphen aside)
    s = find_subject("Is Alka-Seltzer safe with warfarin?", v)
    assert s is not None and s.name == "Alka-Seltzer" and s.words == ["alka", "seltzer"]


def test_a_brand_name_the_index_seldom_uses_is_still_a_name():
    # one chunk in 50,000 holds it: rarer in the index than in English, but a brand is no everyday word
    v = Vocabulary(df={"zoloft": 1, "sertralin": 14}, n=50_000)
    assert keyness("zoloft", "zoloft", v) < -0.35
    s = find_subject("Is Zoloft habit forming?", v)
    assert s is not None and s.term == "zoloft" and s.df == 1


def test_a_multi_word_subject_is_named_with_its_head():
    v = _vocab_of({"respiratori": 800, "infect": 4000, "contagi": 300, "shingl": 120, "outbreak": 400},
                  phrases={"respiratory infection": 20, "shingles outbreak": 5}, headed={"shingl": 0.7})
    s = find_subject("Am I contagious with a respiratory infection?", v)
    assert s is not None and s.term == "respiratori" and s.head == "infect"
    assert not s.named_in(term_set("Respiratory syncytial virus causes mild, cold-like symptoms."))
    assert s.named_in(term_set("Most respiratory infections are caused by viruses."))
    # a focus word that documents are about names the subject alone ("shingles" of "shingles outbreak")
    sh = find_subject("How can I prevent a shingles outbreak?", v)
    assert sh is not None and sh.term == "shingl" and sh.head is None
    assert sh.named_in(term_set("The shingles vaccine lowers the risk."))
    one = Subject(name="antifungal", term="antifung", df=19, words=["antifung"])
    assert one.named_in(term_set("Apply an anti-fungal cream twice a day."))  # the splitter keeps it whole
    alias = Subject(name="Imodium", term="imodium", df=4, alternatives=["loperamide"], alt_terms=["loperamid"])
    assert alias.named_in(term_set("Loperamide may help stop diarrhea."))


def test_other_names_are_names_of_the_same_thing():
    df = {"gabapentin": 40, "anticonvuls": 120, "neurontin": 5, "pharmacotherapi": 300, "fluoxetin": 30}
    both = {("anticonvuls", "gabapentin"): 10, ("gabapentin", "neurontin"): 5}
    v = Vocabulary(df=df, n=10_000, together=lambda a, b: both.get(tuple(sorted((a, b))), 0))
    s = Subject(name="gabapentin", term="gabapentin", df=40, words=["gabapentin"])
    texts = ["Options include anticonvulsants (gabapentin), sodium channel blockers and others.",
             "Gabapentin (Neurontin) may ease nerve pain.",
             "Trials assessed pharmacotherapy (gabapentin and fluoxetine were most commonly studied)."]
    assert alternatives(s, texts, v).alternatives == ["neurontin"]  # not the class, not a list that is no names
    t = Subject(name="Tylenol", term="tylenol", df=9, words=["tylenol"])
    assert alternatives(t, ["codeine (Tylenol with Codeine, Robitussin AC) for mild pain"],
                        Vocabulary(df={"codein": 50, "tylenol": 9}, n=10_000,
                                   together=lambda a, b: 2)).alternatives == []  # 2 of the 9 Tylenol chunks
    # a name of a few words, each rare in English, is another name; an exclusion in parentheses is not
    n = Subject(name="NSAIDs", term="nsaid", df=170, words=["nsaid"])
    vn = Vocabulary(df={"nsaid": 170, "cyclooxygenas": 30, "zoster": 60}, n=10_000)
    assert alternatives(n, ["NSAIDs (except cyclooxygenase inhibitors) upset the stomach."], vn).alternatives == []
    sh = Subject(name="shingles", term="shingl", df=120, words=["shingl"])
    assert alternatives(sh, ["Shingles (herpes zoster) is an outbreak of a rash."], vn).alternatives == ["herpes zoster"]
    # a plural names a class, even one the index writes with the name in most of its chunks
    vm = Vocabulary(df={"nsaid": 170, "medic": 900}, n=10_000, together=lambda a, b: 160)
    assert alternatives(n, ["Over-the-counter medications (NSAIDs) relieve pain."], vm).alternatives == []
    # after the name, only a list of names is another name: the dose of the drug that causes it is not
    i = Subject(name="insomnia", term="insomnia", df=100, words=["insomnia"])
    assert alternatives(i, ["Adverse events were headache and insomnia (lisdexamfetamine 30 mg daily)."],
                        Vocabulary(df={"insomnia": 100, "lisdexamfetamin": 3}, n=10_000)).alternatives == []


def test_a_hyphenated_name_is_held_by_texts_the_splitter_keeps_it_whole_in():
    # the index splits "Dentatorubral-pallidoluysian" (its terms: "dentatorubr", "pallidoluysian"); a text's terms
    # keep it whole: the text still names the subject
    s = Subject(name="Dentatorubral-pallidoluysian atrophy", term="pallidoluysian", df=15,
                words=["dentatorubr", "pallidoluysian", "atrophi"], head="atrophi")
    assert s.named_in(term_set("Dentatorubral-pallidoluysian atrophy > Is it inherited?"))
    assert not s.named_in(term_set("Olivopontocerebellar atrophy > Is it inherited?"))


def test_a_misspelt_everyday_word_is_no_unknown_name():
    # "pregnent" is no word of general English (wordfreq never saw it): it is "pregnant" misspelt, not a brand the
    # index does not know; "singulair" is a name English writes, not "singular" misspelt
    v = _vocab_of({"pregnant": 1500, "hypoglycemia": 90, "singular": 40},
                  spellings={"pregnent": ["pregnant"], "singulair": ["singular"]})
    s = find_subject("I am pregnent, can hypoglycemia hurt the baby?", v)
    assert s is not None and s.df > 0
    u = find_subject("Is singulair safe?", v)
    assert u is not None and u.df == 0


def test_an_unknown_drug_beside_a_known_one_and_a_class_alias_on_the_bundled_corpus(bundled_settings):
    from qa_bot.engine import answer
    from qa_bot.retrieve import get_retriever

    s = bundled_settings
    a = answer("I took Fioricet this morning, is naproxen safe now?", [], s)
    assert a.abstained and "Fioricet" in (a.abstain_reason or "")  # the drug no document mentions, by name
    subj = get_retriever(s).subject_of("What is gabapentin?")
    # "anticonvulsants (gabapentin)" is a class and its member; "gabapentin (Gabarone, Neurontin)" other names
    assert subj is not None and "anticonvulsants" not in subj.alternatives and "neurontin" in subj.alternatives


def test_a_section_word_that_headings_write_before_another_name_is_not_the_subject():
    # "conservative care" is rarer than the condition and headed as a unit ("Conservative care options for tarsal
    # tunnel syndrome"), but titles write it before "for"/"of" another name: what is done about a subject, not one
    df = {"tarsal": 150, "tunnel": 160, "syndrom": 9000, "splint": 300, "conserv": 180, "care": 6000}
    phrases = {"tarsal tunnel": 30, "tarsal tunnel syndrome": 30, "conservative care": 30}
    headed = {"tarsal": 0.3, "tunnel": 0.25, "conserv": 0.45, "syndrom": 0.8}
    unit = {"tarsal tunnel": 0.4, "conservative care": 0.64}

    def vocab(qualifier):
        return Vocabulary(df=df, n=50_000, phrase_count=lambda p: phrases.get(p.lower(), 0),
                          headed=lambda t: headed.get(t, 0.0), phrase_headed=lambda p: unit.get(p.lower(), 0.0),
                          qualifier=qualifier)

    q = "How long are splints used as conservative care for tarsal tunnel syndrome?"
    s = find_subject(q, vocab(lambda p: 0.75 if p.lower() == "conservative care" else 0.0))
    assert s is not None and s.term == "tarsal" and s.name == "tarsal tunnel"
    # headings that name it as a topic of its own ("Conservative care"): it keeps its heading weight
    s2 = find_subject(q, vocab(lambda p: 0.0))
    assert s2 is not None and s2.term == "conserv"


def test_qualifier_share_reads_the_titles_and_headings_that_hold_a_phrase():
    from types import SimpleNamespace

    import numpy as np

    from qa_bot.retrieve import Retriever
    from qa_bot.settings import Settings

    titles = {"a": ("Conservative care options for occupational carpal tunnel syndrome.", []),
              "b": ("Conservative care options for work-related epicondylosis.", []),
              "c": ("Back pain", ["Conservative care"]),
              "d": ("Carpal Tunnel Syndrome", ["What are the treatments for Carpal Tunnel Syndrome?"]),
              "e": ("Work-related carpal tunnel syndrome diagnosis and treatment guideline.", [])}
    ids = list(titles)
    # chunks holding each stemmed term (rows of the lexical index)
    rows = {"conserv": [0, 1, 2], "care": [0, 1, 2], "carpal": [0, 3, 4], "tunnel": [0, 3, 4], "syndrom": [0, 3, 4]}
    vocab = {t: i for i, t in enumerate(rows)}
    indptr = np.cumsum([0, *(len(r) for r in rows.values())])
    lexical = SimpleNamespace(vocab_dict=vocab, scores={"indptr": indptr,
                                                       "indices": np.array([i for r in rows.values() for i in r])})
    chunk = lambda cid: SimpleNamespace(title=titles[cid][0], heading_path=titles[cid][1])  # noqa: E731
    store = SimpleNamespace(lexical=lambda: (lexical, ids), get_chunks=lambda cids: {c: chunk(c) for c in cids})
    r = Retriever(store, Settings())
    assert r.qualifier_share("conservative care") == 2 / 3  # "… options for …" twice, a heading of its own once
    assert r.qualifier_share("carpal tunnel syndrome") == 0.0  # a title, a heading, a guideline's topic


def test_a_drugs_class_is_read_from_the_indexed_text_beside_it():
    from qa_bot.subject import subject_classes

    texts = ["Treatment usually involves medications used to control seizures (anticonvulsants) such as clonazepam "
             "or gabapentin.",
             "There is insufficient evidence to recommend for or against antiepileptics including gabapentin.",
             "Another newer antidepressant bupropion (Wellbutrin) is neither an SSRI nor an SNRI.",
             "Buspirone is a non-benzodiazepine medication indicated for anxiety.",
             "Nonsteroidal anti-inflammatory drugs such as aspirin, ibuprofen (Advil) and naproxen (Aleve) help.",
             "Sertraline is a selective serotonin reuptake inhibitor (SSRI).",
             "He was taking bupropion (Zyban) daily."]

    def subj(name, alts=()):
        return Subject(name=name, term=name.lower(), words=[name.lower()], df=3, strong=True,
                       alternatives=list(alts), alt_terms=list(alts))

    assert subject_classes(subj("gabapentin"), texts) == {frozenset({"anticonvuls"}), frozenset({"antiepilept"})}
    # by another name of it; "taking bupropion (Zyban)" is no class, nor "neither an SSRI"
    assert subject_classes(subj("Wellbutrin", ["bupropion"]), texts) == {frozenset({"antidepress"})}
    # a negation is no class, nor a generic word ("medication", "drugs")
    assert subject_classes(subj("buspirone"), texts) == set()
    assert subject_classes(subj("naproxen"), texts) == {frozenset({"anti-inflammatori"})}
    # an adjective or a verb before the name is no class ("make you sleepy, including diphenhydramine")
    other = ["Others can make you sleepy, including diphenhydramine (Benadryl).",
             "Many cold products contain diphenhydramine (Benadryl) and a decongestant."]
    assert subject_classes(subj("diphenhydramine"), other) == set()
    # a class by its acronym, before "include" ("PPIs may increase the risk of … fractures" is said of omeprazole)
    ppi = ["They are available in both strengths. proton pump inhibitors (PPIs) include omeprazole (Prilosec, Zegerid), "
           "lansoprazole (Prevacid)."]
    assert subject_classes(subj("omeprazole", ["prilosec"]), ppi) == {frozenset({"ppis"})}
    # a class of several words is held whole: "inhibitor" alone would name ACE inhibitors too
    assert subject_classes(subj("sertraline"), texts) == {frozenset({"select", "serotonin", "reuptak", "inhibitor"})}
    assert subject_classes(Subject(name="sore throat", term="throat", words=["sore", "throat"], df=3), texts) == set()


def test_long_term_prognosis_is_not_how_long_something_is_taken():
    from qa_bot.subject import asked_aspects

    assert [a.name for a in asked_aspects("is it okay to take imodium long term?")] == ["duration"]
    assert "duration" not in [a.name for a in asked_aspects("MTHFR A1298C health issues and long term prognosis?")]


def test_recurrence_is_stated_by_a_second_episode_not_by_a_virus_active_again():
    """Whether it comes back: "a second or even a third episode" states it; a virus that "becomes active again" is
    how shingles starts, and "return to work" is no recurrence — neither states it, so a question on recurrence is
    not answered with them."""
    from qa_bot.subject import aspects

    recurrence = next(a for a in aspects() if a.name == "recurrence")
    for said in ("However, a person can have a second or even a third episode.", "Shingles Usually Does Not Return",
                 "You can get shingles again.", "The infection can come back.", "Relapses are common.",
                 "Stress can trigger another attack."):
        assert recurrence.said_in(said), said
    for other in ("When the virus becomes active again, it follows a nerve path.",
                  "Most people return to work within a week.", "The rash clears up in 2 to 4 weeks."):
        assert not recurrence.said_in(other), other
    _abstains_naming("can you be diagnosed with shingles more than once?", Subject(
        name="shingles", term="shingl", df=40, strong=True), "Shingles occurs when the varicella-zoster virus becomes "
        "active again. The rash clears in 2 to 4 weeks.", "whether it can come back")


def test_twice_as_a_schedule_asks_no_recurrence():
    assert "recurrence" not in [a.name for a in asked_aspects("Is there a way to improve kidneys in a person on "
                                                              "twice-weekly dialysis?")]
    assert "recurrence" not in [a.name for a in asked_aspects("Should I take it twice a day?")]
    assert "recurrence" in [a.name for a in asked_aspects("Can you get chickenpox twice?")]


def _titled_vocab(df: dict[str, int], titles: list[str]) -> Vocabulary:
    """A vocabulary whose index holds documents with these ``titles`` (``titled``: the titles holding a phrase's
    stemmed words in order)."""
    from qa_bot.text import _TOKEN

    def stems(text: str) -> list[str]:
        return stem_words(_TOKEN.findall(text.lower()))

    def titled(phrase: str) -> int:
        p = stems(phrase)
        return sum(any(t[i:i + len(p)] == p for i in range(len(t))) for t in map(stems, titles))

    return Vocabulary(df=df, n=10_000, titled=titled)


def test_a_name_of_everyday_words_that_titles_hold_is_the_subject():
    """"heart" and "attack" are everyday English, so neither word alone is a subject, and the rarest word left
    ("happens", "remedies", "accidental") was taken for it; documents titled "Heart Attack", "Enlarged Prostate
    (BPH)", "Elbow Injuries and Disorders" say what the question is about."""
    df = {"happen": 600, "ignor": 40, "heart": 3000, "attack": 900, "natur": 300, "remedi": 30, "enlarg": 200,
          "prostat": 400, "accident": 50, "elbow": 60, "injuri": 900, "aid": 300, "first": 4000, "step": 500}
    titles = ["Heart Attack", "Heart Attack", "Enlarged Prostate (BPH)", "Elbow Injuries and Disorders",
              "First Aid for Burns"]
    v = _titled_vocab(df, titles)
    assert find_subject("What happens if you ignore a heart attack?", v).name == "heart attack"
    assert find_subject("What are the best natural remedies for enlarged prostate?", v).name == "enlarged prostate"
    s = find_subject("What are the first aid steps for an accidental elbow injury?", v)
    assert s.name == "elbow injury" and s.words == ["elbow", "injuri"]  # the rarer of two titled names
    # without the titles, the everyday words are no subject
    assert find_subject("What happens if you ignore a heart attack?", Vocabulary(df=df, n=10_000)).name != "heart attack"


def test_a_titled_name_extends_the_word_found_but_never_displaces_a_name_held_to():
    df = {"stiff": 400, "person": 3000, "syndrom": 2000, "ertapenem": 5, "sleep": 800, "apnea": 300, "safe": 900}
    v = _titled_vocab(df, ["Stiff person syndrome", "Sleep Apnea", "Ertapenem Injection"])
    s = find_subject("What are the latest treatments for the stiff-person syndrome?", v)
    assert s.name == "stiff-person syndrome" and s.term == "stiff" and s.words == ["stiff"]
    s = find_subject("Is Ertapenem safe with sleep apnea?", v)
    assert s.name == "Ertapenem" and s.strong


def test_contagion_is_stated_by_spread_between_people_not_within_the_body():
    """Whether it is contagious: a virus or germ spread from person to person, through contact, by mosquitoes states
    it; a virus's "spread … to facial nerves" or a cancer "spread to the lymph nodes" does not, so "is shingles
    contagious?" is not led by the herpes zoster oticus page's sentence on its spread to the facial nerves."""
    from qa_bot.subject import aspects

    contagious = next(a for a in aspects() if a.name == "contagious")
    for said in ("Shingles is less contagious than chickenpox.", "It can spread from person to person.",
                 "HIV is spread through unprotected sex.", "The hepatitis C virus spreads through contact with blood.",
                 "Zika is a virus that is spread by mosquitoes.", "Pinworms spread easily.",
                 "People with TB disease may spread the bacteria to people with whom they spend many hours."):
        assert contagious.said_in(said), said
    for other in ("Herpes zoster oticus, which is caused by the spread of the varicella-zoster virus to facial nerves, "
                  "is characterized by intense ear pain.", "The cancer has spread to the lymph nodes.",
                  "It spreads through the blood stream and can affect the lungs.",
                  "The lesions are spread over a larger area of the body."):
        assert not contagious.said_in(other), other


def test_a_brand_in_one_chunk_is_read_by_its_indexed_gloss():
    """"synthroid (levothyroxine)": the brand is in a single chunk (no spelling the index uses), the generic in 19:
    the subject is the generic, held to, under the name asked — not "weight loss", which titles name."""
    v = _vocab_of({"synthroid": 1, "levothyroxin": 19, "weight": 1700, "loss": 3100, "caus": 3000},
                  headed={"weight": 0.05})
    s = find_subject("Does synthroid (levothyroxine) cause weight loss?", v)
    assert s is not None and s.term == "levothyroxin" and s.name.lower() == "synthroid" and s.strong


def test_a_brand_the_question_does_not_gloss_is_read_by_its_generic():
    # "imodium" is in no chunk and the question gives no generic: the drug dictionary's is indexed
    v = _vocab_of({"loperamid": 15, "long": 4000, "term": 3000})
    s = find_subject("Is it okay to take imodium long term?", v)
    assert s is not None and s.term == "loperamid" and s.df == 15


def test_every_brand_the_former_hand_list_named_still_resolves():
    from qa_bot.shorthand import generic_name

    former = ("medrol dosepak tylenol advil motrin aleve lasix coumadin eliquis xarelto plavix lipitor zocor crestor "
              "synthroid glucophage zoloft prozac lexapro celexa wellbutrin zyban chantix xanax valium ativan ambien "
              "flexeril neurontin lyrica ultram percocet vicodin norco oxycontin suboxone narcan depo-provera augmentin "
              "bactrim cipro zithromax z-pak zpak keflex tamiflu epipen ventolin proair spiriva advair prilosec nexium "
              "zofran fosamax evista premarin truvada descovy ozempic wegovy mounjaro zepbound jardiance farxiga "
              "januvia humira adderall ritalin paxlovid lovenox toradol benadryl claritin").split()
    assert [b for b in former if not generic_name(b)] == []


def test_an_aspect_asked_leaves_the_next_word_whole():
    """The interaction asked by "take aspirin with warfarin" ends before "warfarin": the subject is read from the
    whole word (an ask pattern that took its first letter left "arfarin", an unknown name)."""
    v = _vocab_of({"warfarin": 40, "aspirin": 300, "take": 5000, "safe": 2000})
    s = find_subject("Is it safe to take aspirin with warfarin?", v)
    assert s is not None and s.name.lower() in ("warfarin", "aspirin") and s.df


def test_a_clipped_word_is_read_as_the_indexed_word_it_starts():
    """"mammo" (a clinician's clipping) is the word most of the indexed words it starts are; "chole" starts
    cholesterol and cholecystectomy alike and is left alone; a short or a non-alphabetic word is no clipping."""
    from qa_bot.retrieve import _clipped, _near_df

    df = {"mammographi": 70, "mammogram": 20, "mammari": 3, "cholesterol": 300, "cholecystectomi": 250, "colon": 400,
          "colonoscopi": 120}
    common = sorted(df)
    assert _clipped("mammo", common, df) == "mammographi"
    assert _clipped("chole", common, df) is None
    assert _clipped("colo", common, df) is None and _clipped("b12", common, df) is None
    assert _near_df("mammo", common, df) == 70
    v = _vocab_of({**df, "screen": 900, "year": 3000},
                  spellings={"mammo": [_clipped("mammo", common, df)]})
    s = find_subject("mammo every 2 years?", v)
    assert s is not None and s.term == "mammographi"


def test_a_heading_that_labels_a_part_of_any_guideline_heads_no_subject():
    """"who qualifies for PrEP?": "qualifies" headed 3 in 4 of its chunks under "Qualifying Statements" and was read
    as the subject; such headings name no subject."""
    from qa_bot.retrieve import headed_by

    q = passage("Clinicians should qualify…", "ngc1", title="Preexposure prophylaxis for HIV",
                heading_path=["Major Recommendations", "Qualifying Statements"]).chunk
    assert not headed_by(q, "qualifi") and headed_by(q, "prophylaxi")
    assert headed_by(passage("…", "d2", title="Who qualifies for disability benefits").chunk, "qualifi")


def test_a_drug_the_question_takes_is_its_subject_over_the_condition_it_is_taken_with():
    # "high blood pressure" heads many documents and outweighs the rarer drug by its heading bonus; but what is asked
    # is whether the drug may be taken: the condition is its context
    df = {"ibuprofen": 106, "high": 4525, "blood": 7688, "pressur": 2128, "take": 3247}
    v = Vocabulary(df=df, n=60_000, phrase_count=lambda p: 40 if p.lower() in {"high blood pressure", "blood pressure"} else 0,
                   headed=lambda t: 0.4 if t == "pressur" else 0.0,
                   phrase_headed=lambda p: 0.7 if p.lower() in {"high blood pressure", "blood pressure"} else 0.0,
                   titled=lambda p: 5 if p.lower() in {"high blood pressure", "blood pressure"} else 0)
    s = find_subject("can i take ibuprofen if i have high blood pressure?", v)
    assert s is not None and s.name == "ibuprofen" and s.strong
    # the drug an effect is asked of, not the effect that headings name ("does lisinopril cause a cough?")
    df2 = {"lisinopril": 60, "cough": 427}
    v2 = Vocabulary(df=df2, n=60_000, headed=lambda t: 1.0 if t == "cough" else 0.0, titled=lambda p: 3 if p == "cough" else 0)
    s3 = find_subject("does lisinopril cause a cough?", v2)
    assert s3 is not None and s3.name == "lisinopril" and s3.strong
    # not taken, the condition stays the subject ("ibuprofen" only one more word of the question)
    s2 = find_subject("does high blood pressure show up in an ibuprofen study?", v)
    assert s2 is not None and "pressure" in s2.name


def test_where_a_drug_is_applied_is_asked_of_the_drug_on_the_bundled_corpus(bundled_settings):
    from qa_bot.engine import answer
    from qa_bot.retrieve import get_retriever

    q = "can i use hydrocortisone cream on my face?"
    subj = get_retriever(bundled_settings).subject_of(q)
    assert subj is not None and "hydrocortisone" in subj.name.lower()  # what is applied is no aspect word
    a = answer(q, [], bundled_settings)  # no indexed sentence names a corticosteroid and the face but "a round face"
    assert a.abstained and "whether hydrocortisone may be applied to the face" in (a.abstain_reason or ""), a.sentences


def test_a_name_given_as_an_example_of_a_class_is_not_an_unknown_subject():
    df = {"antifung": 19, "fungal": 60, "area": 900, "otc": 40, "bad": 800, "idea": 300}
    v = Vocabulary(df=df, n=60_000)
    q = "would it be bad to pick up an OTC anti-fungal like Tinactin to apply to the area?"
    s = find_subject(q, v)
    assert s is not None and s.df > 0, s  # the class asked about, Tinactin only its example
    s2 = find_subject("would it be bad to apply Tinactin to the area?", v)
    assert s2 is not None and s2.name == "Tinactin" and s2.df == 0


def test_a_drink_with_a_drug_is_asked_of_both_on_the_bundled_corpus(bundled_settings):
    from qa_bot.engine import answer

    # the thyroid screening guideline names levothyroxine but says nothing of coffee: not its answer
    a = answer("I take levothyroxine in the morning, can I drink coffee right after?", [], bundled_settings)
    assert a.abstained and "whether levothyroxine may be taken with coffee" in (a.abstain_reason or ""), a.sentences


def test_a_subject_is_read_the_same_whatever_was_asked_before_on_the_bundled_corpus(bundled_settings):
    from qa_bot.retrieve import get_retriever

    r = get_retriever(bundled_settings)
    q = "can i take ibuprofen if i have high blood pressure?"
    r.subject_of("what is the normal dose of ibuprofen for adults?")  # the same word, not held there
    after = r.subject_of(q)
    assert after is not None and after.name == "ibuprofen" and after.strong
