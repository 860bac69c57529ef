"""Abbreviations defined by the corpus, and their use in the search query."""

from __future__ import annotations

from qa_bot import acronyms


def test_long_form_schwartz_hearst():
    assert acronyms.long_form("DVT", "Blood clots in the legs, called deep vein thrombosis") == "deep vein thrombosis"
    assert acronyms.long_form("EDS", "is a form of Ehlers-Danlos syndrome") == "Ehlers-Danlos syndrome"
    assert (acronyms.long_form("FXTAS", "known as fragile X-associated tremor/ataxia syndrome")
            == "fragile X-associated tremor/ataxia syndrome")
    # the first letter must start a word; letters missing → nothing
    assert acronyms.long_form("ABC", "some unrelated words here") is None
    assert acronyms.long_form("MS", "in ms") is None  # not longer than the short form / single word


def test_build_keeps_the_dominant_long_form_seen_often_enough():
    texts = ["Deep vein thrombosis (DVT) is a clot.", "A deep vein thrombosis (DVT) can travel.",
             "Deep venous thrombosis (DVT) again.", "Rarely defined thing (RDT) once.",
             "Multiple sclerosis (MS) …", "Mitral stenosis (MS) …",
             "fragile X-associated tremor/ataxia syndrome (FXTAS)", "fragile X-associated tremor and ataxia "
             "syndrome (FXTAS)"]
    table = acronyms.build(texts)
    assert table["DVT"] == "deep vein thrombosis"  # 2 of 3 definitions ≥ 60 %
    assert "RDT" not in table  # defined once
    assert "MS" not in table  # two meanings, neither dominant
    assert table["FXTAS"].startswith("fragile x-associated tremor")  # spellings of one long form are merged


def test_expand_only_capitalised_acronyms_in_normal_text():
    table = {"DVT": "deep vein thrombosis", "COLD": "chronic obstructive lung disease"}
    q, found = acronyms.expand("Can a birth control pill cause DVT?", table)
    assert found == {"DVT": "deep vein thrombosis"} and q == "Can a birth control pill cause DVT (deep vein thrombosis)?"
    assert acronyms.expand("can the pill cause dvt?", table) == ("can the pill cause dvt?", {})
    assert acronyms.expand("CAUSE OF A COLD. WHY DO PEOPLE GET DVT", table)[1] == {}  # shouting, not acronyms
    q = "Is deep vein thrombosis (DVT) dangerous?"
    assert acronyms.expand(q, table) == (q, {})  # already spelled out
    assert acronyms.expand("What is DVT?", {}) == ("What is DVT?", {})
