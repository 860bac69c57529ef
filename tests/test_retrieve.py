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
