"""Feedback store (SQLite) and its export as eval rows (fast: no index, no model)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from qa_bot.errors import BadInputError
from qa_bot.evaluate.runner import parse_row
from qa_bot.feedback import FeedbackStore, export_eval_rows, feedback_app, to_eval_row
from qa_bot.settings import Settings
from qa_bot.types import Answer, AnswerSentence, Chunk, Citation, Passage


def _cite(n: int, doc: str, sec: str, heading: str = "Treatment") -> Citation:
    return Citation(n=n, chunk_id=f"{sec}::0", doc_id=doc, section_id=sec, doc_type="guideline", title="T",
                    heading=heading, quote="Quote.", spans=[(0, 6)])


def _answer(abstained: bool = False, question: str = "How is it treated?") -> Answer:
    chunk = Chunk(chunk_id="d1_s1::0", doc_id="d1", section_id="d1_s1", text="Quote.", doc_type="guideline",
                  collection="c", start=0, end=6, n_tokens=2, content_hash="h")
    if abstained:
        return Answer(question=question, standalone_question=question, abstained=True, disclaimer="D",
                      abstain_reason="No answer.", related=[_cite(1, "d9", "d9_s1")], passages=[Passage(chunk=chunk)])
    return Answer(question=question, standalone_question="How is Noonan syndrome treated?", disclaimer="D",
                  passages=[Passage(chunk=chunk)],
                  sentences=[AnswerSentence(text="Quote.", citations=[1], group="bottom_line"),
                             AnswerSentence(text="Quote.", citations=[2, 3], group="Treatment")],
                  citations=[_cite(1, "d1", "d1_s1"), _cite(2, "d1", "d1_s1"), _cite(3, "d2", "d2_s4", "Other")])


HISTORY = [{"role": "user", "content": "What is Noonan syndrome?"}, {"role": "assistant", "content": "A disorder."}]


def test_record_then_update_keeps_one_row_and_the_comment(tmp_path):
    store = FeedbackStore(tmp_path / "sub" / "fb.sqlite")
    settings = Settings(data_dir=tmp_path, doc_types=["guideline"], audience="patient")
    rec = store.record("a1", _answer(), "helpful", history=HISTORY, settings=settings)
    assert rec.rating == "helpful" and rec.comment is None and rec.history == HISTORY
    assert rec.standalone_question == "How is Noonan syndrome treated?"
    assert rec.settings["doc_types"] == ["guideline"] and rec.settings["audience"] == "patient"
    assert [c["section_id"] for c in rec.citations] == ["d1_s1", "d1_s1", "d2_s4"]
    assert "passages" not in rec.answer and rec.answer["retrieved"] == ["d1_s1::0"]
    assert "Disclaimer".upper() in rec.answer_text.upper() and rec.created > 0
    store.record("a1", _answer(), "helpful", comment="  great  ")
    store.record("a1", _answer(), "not_helpful")  # a later click without comment keeps the comment
    [rec] = store.records()
    assert rec.rating == "not_helpful" and rec.comment == "great" and rec.updated >= rec.created
    with pytest.raises(BadInputError):
        store.record("a2", _answer(), "meh")


def test_eval_rows_follow_the_eval_set_schema_and_mapping(tmp_path):
    store = FeedbackStore(tmp_path / "fb.sqlite")
    store.record("good", _answer(), "helpful", history=HISTORY)
    store.record("abst", _answer(abstained=True, question="What is zorblax?"), "helpful")
    store.record("bad", _answer(), "not_helpful", comment="missed the dose")
    rows = {r["id"]: r for r in map(to_eval_row, store.records())}
    assert set(rows) == {"feedback-good", "feedback-abst", "feedback-bad"}
    for i, r in enumerate(rows.values(), 1):
        assert set(r) == {"id", "dataset", "question", "history", "answerable", "relevant", "judged",
                          "reference_answers", "note"}
        parse_row(json.dumps(r), "feedback.jsonl", i, "feedback")  # the eval runner accepts it
    good = rows["feedback-good"]
    assert good["answerable"] is True and good["history"] == HISTORY and good["dataset"] == "feedback"
    assert good["relevant"] == [{"doc_id": "d1", "section_id": "d1_s1", "heading": "Treatment", "grade": 3},
                                {"doc_id": "d2", "section_id": "d2_s4", "heading": "Other", "grade": 3}]
    assert "searched for: How is Noonan syndrome treated?" in good["note"]
    assert rows["feedback-abst"]["answerable"] is False and rows["feedback-abst"]["relevant"] == []
    bad = rows["feedback-bad"]
    assert bad["answerable"] is True and bad["relevant"] == [] and bad["judged"] == {}
    assert "not helpful" in bad["note"] and "missed the dose" in bad["note"] and "d2_s4" in bad["note"]


def test_export_command_writes_jsonl_and_filters_by_rating(tmp_path, monkeypatch):
    db = tmp_path / "fb.sqlite"
    FeedbackStore(db).record("a", _answer(), "helpful")
    FeedbackStore(db).record("b", _answer(), "not_helpful")
    runner = CliRunner()
    out = tmp_path / "out" / "rows.jsonl"
    res = runner.invoke(feedback_app, ["export", "--db", str(db), "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert [json.loads(x)["id"] for x in out.read_text().splitlines()] == ["feedback-a", "feedback-b"]
    res = runner.invoke(feedback_app, ["export", "--db", str(db), "--rating", "helpful"])
    assert res.exit_code == 0 and [json.loads(x)["id"] for x in res.stdout.splitlines()] == ["feedback-a"]
    # default location: settings.feedback_path (data_dir/feedback.sqlite)
    monkeypatch.setenv("QA_BOT_DATA_DIR", str(tmp_path / "data"))
    FeedbackStore(Settings().feedback_path).record("c", _answer(), "helpful")
    res = runner.invoke(feedback_app, ["export"])
    assert res.exit_code == 0 and json.loads(res.stdout)["id"] == "feedback-c"
    assert export_eval_rows(tmp_path / "missing.sqlite", tmp_path / "none.jsonl") == 0


def test_export_command_errors_are_one_line(tmp_path):
    runner = CliRunner()
    res = runner.invoke(feedback_app, ["export", "--db", str(tmp_path / "nope.sqlite")])
    assert res.exit_code == 2 and "no such feedback file" in res.output
    res = runner.invoke(feedback_app, ["export", "--rating", "meh"])
    assert res.exit_code == 2 and "--rating" in res.output and "Traceback" not in res.output
