"""Drug and condition names by their endings (qa_bot.parse.names): one table per reader."""

import pytest

from qa_bot.parse.names import CONDITION_ENDINGS, DRUG_STEMS, has_drug_stem, looks_like_name, names_by_ending


@pytest.mark.parametrize("word, expected", [
    ("tirzepatide", True), ("donanemab", True), ("finerenone", True), ("semaglutide", True),
    ("empagliflozin", True), ("lisinopril", True), ("metoprolol", True), ("atorvastatin", True),
    ("omeprazole", True), ("fluconazole", True), ("apixaban", True), ("dabigatran", True),
    ("ibuprofen", True), ("celecoxib", True), ("metformin", True), ("pioglitazone", True),  # stems verify named
    ("methotrexate", True), ("clonidine", True), ("testosterone", True), ("acyclovir", True),
    ("etanercept", True), ("dextromethorphan", True), ("montelukast", True), ("salmeterol", True),
    ("concept", False), ("except", False), ("accept", False), ("cholesterol", False), ("orphan", False),
    ("pril", False),  # under six letters
    ("headache", False), ("screening", False), ("medicine", False),
])
def test_drug_stem(word, expected):
    assert has_drug_stem(word) is expected


@pytest.mark.parametrize("word, text, expected", [
    ("tirzepatide", "is tirzepatide safe?", True),
    ("MitraClip", "is a MitraClip worth it?", True),  # a capital inside: a brand
    ("Migrane", "Migrane cure?", False),  # a capitalised word alone is not a name
    ("except", "all except one", False),
])
def test_looks_like_name(word, text, expected):
    assert looks_like_name(word, text) is expected


@pytest.mark.parametrize("word, expected", [
    ("arthritis", True), ("osteoporosis", True), ("anemia", True), ("melanoma", True), ("neuropathy", True),
    ("colectomy", True), ("colonoscopy", True), ("streptococcus", True), ("gastroenteritis", True),
    ("antibiotics", True), ("chemotherapy", True), ("immunotherapies", True),
    ("warfarin", True), ("caffeine", True),  # "-arin", the broad "-ine"
    ("peptide", True), ("sildenafil", True), ("rivaroxaban", True),  # drug stems retrieval knew
    ("vitamin", False), ("concept", False), ("cholesterol", False), ("screening", False), ("pain", False),
])
def test_names_by_ending(word, expected):
    assert names_by_ending(word) is expected


def test_one_list_of_drug_stems():
    """The stems each reader had are in the one list (retrieval's INN stems and the support checker's)."""
    for stem in ("tinib", "gliflozin", "xaban", "cept", "orphan", "nib", "azole", "profen", "formin", "sterone"):
        assert stem in DRUG_STEMS
    assert not set(DRUG_STEMS) & set(CONDITION_ENDINGS)
