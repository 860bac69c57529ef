"""Retrieve-stage helpers that need no index: question segments."""

from __future__ import annotations

from qa_bot.retrieve import question_segments


def test_segments_of_a_long_message_questions_first():
    msg = ("DVT. Can a birth control called Ocella cause DVT? My daughter has pain and swelling in her thigh. "
           "Also these symptoms worsened after she gave birth.")
    segs = question_segments(msg)
    assert segs[0] == "DVT. Can a birth control called Ocella cause DVT?"  # the subject line joins its question
    assert segs[1:] == ["My daughter has pain and swelling in her thigh.",
                        "Also these symptoms worsened after she gave birth."]


def test_no_segments_for_one_sentence_and_at_most_four():
    assert question_segments("What is Noonan syndrome?") == []
    assert question_segments("Noonan syndrome. What is it?") == []  # one segment after joining
    many = " ".join(f"Sentence number {i} has five words." for i in range(8))
    assert len(question_segments(many)) == 4


def test_misspelling_match_keeps_the_first_letter_and_an_edit_budget():
    from qa_bot.retrieve import _near_df

    df = {"diagnos": 40, "pontin": 5, "cofactor": 9, "arrhythmia": 30, "amantadin": 3}
    common = list(df)
    assert _near_df("dianos", common, df) == 40  # one edit
    assert _near_df("arrhthmia", common, df) == 30
    assert _near_df("epoetin", common, df) == 0  # two edits from "pontin", another first letter
    assert _near_df("cefaclor", common, df) == 0  # two edits from "cofactor": over the 1-edit budget of 8 letters
    assert _near_df("rimantadin", common, df) == 0  # two edits from "amantadin", another first letter
    assert _near_df("ab", common, df) == 0  # too short to guess
