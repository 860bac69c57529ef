"""End to end on the bundled corpus (data/, indexed by `make eval-quick` or `make run`): a clinician's
conversation."""

from __future__ import annotations


# --- end to end on the bundled corpus --------------------------------------------------------------------
def test_crc_conversation_on_the_bundled_corpus(bundled_settings):
    from qa_bot.engine import answer

    s = bundled_settings
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


def test_accutane_and_imodium_on_the_bundled_corpus(bundled_settings):
    """Issue 21's two patient questions: the subject leads (by its brand name, through the generic name the
    documents give it) and the bottom line states what was asked of it, never another drug's or condition's facts."""
    from qa_bot.engine import answer

    s = bundled_settings
    a = answer("Is Accutane like an antibiotic and would it affect a baby if I got pregnant?", [], s)
    assert not a.abstained and a.subject and "isotretinoin" in a.subject.lower()
    bl = " ".join(x.text for x in a.bottom_line()).lower()
    assert "isotretinoin" in bl and ("pregnan" in bl or "birth defect" in bl), bl
    shown = " ".join(x.text for x in a.sentences).lower()
    assert "gonorrh" not in shown and "gastrointestinal upset" not in shown

    b = answer("is it okay to take imodium long term?", [], s)
    assert not b.abstained and b.subject and "loperamide" in b.subject.lower()
    bl = " ".join(x.text for x in b.bottom_line())
    assert "loperamide" in bl.lower() and "more than 2 days" in bl, bl
    shown = " ".join(x.text for x in b.sentences).lower()
    assert "as long as you are benefiting" not in shown and "saxenda" not in shown


def test_a_drug_with_a_second_thing_on_the_bundled_corpus(bundled_settings):
    """A drug asked with a second thing (an effect, a condition it is to work for) on the bundled corpus: the
    sentence stating both leads, wherever retrieval put it; stated nowhere quotable, the answer says so and never
    answers with the drug's other uses."""
    from qa_bot.engine import answer

    s = bundled_settings
    a = answer("Does metformin cause high blood pressure?", [], s)
    bl = " ".join(x.text for x in a.bottom_line()).lower()
    assert not a.abstained and "blood pressure" in bl and "metformin" in bl, bl
    b = answer("Could you tell me about the success rate of Sertraline for Premature Ejaculation", [], s)
    assert b.abstained and "premature ejaculation" in (b.abstain_reason or "").lower(), b.abstain_reason
    # the only sentences naming an antibiotic and a rash are a vaccine's flattened list of contraindications
    c = answer("can amoxicillin cause a rash?", [], s)
    assert c.abstained and "whether amoxicillin causes rash" in (c.abstain_reason or ""), c.abstain_reason
    d = answer("wellbutrin xl 150. how to taper off", [], s)
    assert "stop using tobacco" not in " ".join(x.text for x in d.bottom_line())
