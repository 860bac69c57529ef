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
