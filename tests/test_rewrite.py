"""Follow-up rewriting (qa_bot/rewrite.py): the subject of a message, and standalone questions."""

from __future__ import annotations

import pytest

from qa_bot.rewrite import standalone_question, subject_of
from qa_bot.settings import Settings
from qa_bot.types import Turn


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(data_dir=tmp_path / "none")


def test_follow_up_keeps_the_topic_and_asks_the_new_aspect(settings):
    first = "avg-risk 46yo, no FH — start CRC screening now or wait till 50? grade?"
    assert subject_of(first) == "CRC screening"
    assert subject_of("62M, 30 pack-yr, quit 10y — LDCT?") == "LDCT"  # smoking history describes the patient
    sq = standalone_question("and when do we stop?", [Turn(role="user", content=first)], settings)
    assert sq == "When do we stop (CRC screening)?"
    assert "46" not in sq and "wait" not in sq
    # a short question with its own subject stands alone
    assert standalone_question("What is gout?", [Turn(role="user", content=first)], settings) == "What is gout?"


S = Settings()


# --- elliptical MedQuAD follow-ups ----------------------------------------------------------------------------------
HIST = [{"role": "user", "content": "What is Batten disease?"}, {"role": "assistant", "content": "A disorder."}]


@pytest.mark.parametrize("follow_up,standalone", [
    ("What is the outlook?", "What is the outlook for Batten disease?"),
    ("prognosis?", "What is the prognosis (outlook) for Batten disease?"),
    ("What is the prognosis?", "What is the prognosis (outlook) for Batten disease?"),
    ("Is it inherited?", "Is Batten disease inherited?"),
    ("And the symptoms?", "What are the symptoms of Batten disease?"),
])
def test_row9_elliptical_followups_resolve_against_the_earlier_subject(follow_up, standalone):
    from qa_bot.rewrite import standalone_question
    from qa_bot.types import Turn

    history = [Turn.model_validate(t) for t in HIST]
    assert standalone_question(follow_up, history, S) == standalone
    # a chain keeps the subject: "What is the outlook?" then "Is it inherited?"
    chain = history + [Turn(role="user", content="What is the outlook?"), Turn(role="assistant", content="Poor.")]
    assert standalone_question("Is it inherited?", chain, S) == "Is Batten disease inherited?"


def test_a_short_question_naming_a_subject_the_documents_are_about_is_no_follow_up(settings):
    """"is shingles contagious?" after a question on hepatitis C: three words, no name the wording alone shows, but a
    subject the index's documents are about (``names_subject``, passed in by the engine) — asked as it is."""
    history = [Turn(role="user", content="Should pregnant women be screened for hep C?"),
               Turn(role="assistant", content="All pregnant persons should be screened for HCV …")]
    def names_subject(q: str) -> bool:
        return "shingles" in q

    assert standalone_question("is shingles contagious?", history, settings, names_subject) == "is shingles contagious?"
    assert standalone_question("is shingles contagious?", history, settings) != "is shingles contagious?"  # (without)
    assert "hep C" in standalone_question("is it contagious?", history, settings, names_subject)  # a pronoun: its


def test_a_pronoun_points_to_the_thing_the_earlier_question_asked_for(settings):
    # "it" is the TB testing asked for, not the HIV diagnosis the question opened with
    hist = [Turn(role="user", content="new HIV dx in a pt living in a shelter — what baseline TB testing?"),
            Turn(role="assistant", content="Test for latent TB with a TST/PPD or an IGRA.")]
    q = standalone_question("if it's neg, when do I repeat it?", hist, settings)
    assert q.startswith("if baseline TB testing is neg") and "(new HIV dx in a pt living in a shelter)" in q, q
    # an earlier "What is X?" keeps its topic as before
    hist2 = [Turn(role="user", content="What is Noonan syndrome?"), Turn(role="assistant", content="…")]
    assert standalone_question("How is it treated?", hist2, settings) == "How is Noonan syndrome treated?"
