"""Clinical shorthand (qa_bot/shorthand.py): ages, sexes and abbreviations; an ambiguous one is never guessed."""

from __future__ import annotations

from qa_bot import shorthand
from qa_bot.shorthand import expand, generic_name


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


def test_outside_pregnancy_means_nonpregnant():
    e = shorthand.expand("who should I screen for syphilis outside pregnancy?")
    assert "nonpregnant" in e.text


def test_hepatitis_by_its_letter_and_a_bare_hep_left_alone():
    for q, short, long in [("who should get screened for hep C?", "hep C", "hepatitis C"),
                           ("hep B vax in adults?", "hep B", "hepatitis B"), ("Hep-C in pregnancy?", "Hep-C", "hepatitis C"),
                           ("hepC screening", "hepC", "hepatitis C")]:
        e = shorthand.expand(q)
        assert e.found[short] == long and long in e.text
    e = shorthand.expand("hep lock flush after the line?")  # (heparin, as often as hepatitis)
    assert e.text == "hep lock flush after the line?" and not e.found


def test_brand_names_resolve_through_the_drug_dictionary():
    # brands no hand list of this project names: the drug dictionary's (MedlinePlus drugs)
    assert generic_name("Valtrex") == "valacyclovir"
    assert generic_name("buspar") == "buspirone"
    assert generic_name("Robaxin") == "methocarbamol"
    assert generic_name("Accutane") == "isotretinoin"
    assert generic_name("imodium") == "loperamide"
    # the brands it lacks come from data/brands.toml, each with its source
    assert generic_name("Augmentin") == "amoxicillin clavulanate"
    assert generic_name("z-pak") == "azithromycin"
    # misspelt: the dictionary's name of the same first letter, close in spelling; a misspelt disease is no drug
    assert generic_name("valtrx") == "valacyclovir" and generic_name("imodiam") == "loperamide"
    assert generic_name("diabetis") is None and generic_name("migrane") is None and generic_name("hepatits") is None
    # a generic name, an everyday English word and an English plural are not brands
    assert generic_name("loperamide") is None
    assert generic_name("armour") is None and generic_name("generics") is None
    assert generic_name("today") is None


def test_brand_listed_file_gives_every_entry_a_source():
    import tomllib

    from qa_bot.shorthand import BRANDS_FILE

    entries = tomllib.loads(BRANDS_FILE.read_text(encoding="utf-8"))
    assert entries and all(set(e) == {"generic", "source"} and e["source"].strip() for e in entries.values())


def test_brand_expanded_unless_glossed_or_the_documents_use_it_more():
    e = expand("Is it ok to take Imodium long term?")
    assert e.text == "Is it ok to take Imodium (loperamide) long term?" and e.found == {"Imodium": "loperamide"}
    assert expand("Is Tylenol (acetaminophen) safe?").text == "Is Tylenol (acetaminophen) safe?"
    kept = expand("Is Imodium safe?", skip=lambda short, long: short == "Imodium")
    assert kept.text == "Is Imodium safe?" and not kept.found


def test_a_drug_is_what_the_dictionary_or_the_brand_list_names():
    from qa_bot.shorthand import is_drug

    assert is_drug("aspirin") and is_drug("warfarin") and is_drug("Valtrex") and is_drug("Augmentin")
    assert not is_drug("food") and not is_drug("pain") and not is_drug("antibiotics")
