"""Feedback store (SQLite) and its export as eval rows (fast: no index, no model)."""

from __future__ import annotations

import json

import pytest
import helpers
from typer.testing import CliRunner

from qa_bot.errors import BadInputError
from qa_bot.evaluate.runner import parse_row
from qa_bot.feedback import FeedbackStore, export_eval_rows, feedback_app, to_eval_row
from qa_bot.settings import Settings
from qa_bot.types import Answer, AnswerSentence, Citation, Passage


def _cite(n: int, doc: str, sec: str, heading: str = "Treatment") -> Citation:
    return Citation(n=n, chunk_id=f"{sec}::0", doc_id=doc, section_id=sec, doc_type="guideline", title="T",
                    heading=heading, quote="Quote.", spans=[(0, 6)])


def _answer(abstained: bool = False, question: str = "How is it treated?") -> Answer:
    chunk = helpers.chunk("Quote.", "d1", chunk_id="d1_s1::0", section_id="d1_s1", doc_type="guideline", n_tokens=2,
                          content_hash="h")
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
    settings = Settings(data_dir=tmp_path, doc_types=["guideline"], audience="patient",
                        feedback_keep_conversation=True)
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
    store.record("good", _answer(), "helpful", history=HISTORY,
                 settings=Settings(data_dir=tmp_path, feedback_keep_conversation=True))
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


# --- privacy -----------------------------------------------------------------------------------------------
def test_row12_record_keeps_only_the_rated_turn_and_the_file_is_private(tmp_path):
    import stat

    store = FeedbackStore(tmp_path / "fb.sqlite")
    rec = store.record("a1", _answer(), "helpful", history=HISTORY, settings=Settings(data_dir=tmp_path))
    assert rec.history == [] and rec.question == "How is it treated?"
    raw = (tmp_path / "fb.sqlite").read_bytes()
    assert b"What is Noonan syndrome?" not in raw and b"A disorder." not in raw
    assert stat.S_IMODE((tmp_path / "fb.sqlite").stat().st_mode) == 0o600
    old = tmp_path / "old.sqlite"  # a file from before: tightened when opened
    old.touch(mode=0o644)
    FeedbackStore(old).record("x", _answer(), "helpful")
    assert stat.S_IMODE(old.stat().st_mode) == 0o600


def test_row12_retention_applies_after_each_write_and_purge_erases(tmp_path, monkeypatch):
    import sqlite3

    db = tmp_path / "fb.sqlite"
    store = FeedbackStore(db)
    store.record("old", _answer(question="Is my secret rash contagious?"), "helpful", comment="private note")
    store.record("new", _answer(), "not_helpful")
    with sqlite3.connect(db) as c:  # "old" was given 40 days ago
        c.execute("UPDATE feedback SET created = created - 40 * 86400, updated = updated - 40 * 86400 WHERE id='old'")
    kept = FeedbackStore(db, retention_days=30)
    kept.record("newer", _answer(), "helpful")
    assert [r.id for r in kept.records()] == ["new", "newer"]
    assert b"secret rash" not in db.read_bytes() and b"private note" not in db.read_bytes()
    # start-up expiry (the web chat calls expire() once per process)
    with sqlite3.connect(db) as c:
        c.execute("UPDATE feedback SET updated = updated - 31 * 86400 WHERE id='new'")
    assert kept.expire() == 1 and [r.id for r in kept.records()] == ["newer"]
    runner = CliRunner()
    with sqlite3.connect(db) as c:
        c.execute("UPDATE feedback SET updated = updated - 10 * 86400")
    res = runner.invoke(feedback_app, ["purge", "--older-than", "30d", "--db", str(db)])
    assert res.exit_code == 0 and "0 feedback row(s) deleted" in res.output
    res = runner.invoke(feedback_app, ["purge", "--older-than", "1w", "--db", str(db)])
    assert res.exit_code == 0 and "1 feedback row(s) deleted" in res.output and not kept.records()
    FeedbackStore(db).record("z", _answer(), "helpful")
    res = runner.invoke(feedback_app, ["purge", "--all", "--db", str(db)])
    assert res.exit_code == 0 and "1 feedback row(s) deleted" in res.output and not kept.records()
    for bad in (["purge"], ["purge", "--all", "--older-than", "3d"], ["purge", "--older-than", "soon"]):
        res = runner.invoke(feedback_app, [*bad, "--db", str(db)])
        assert res.exit_code == 2 and "Traceback" not in res.output
    # QA_BOT_FEEDBACK_RETENTION_DAYS is a setting
    monkeypatch.setenv("QA_BOT_FEEDBACK_RETENTION_DAYS", "30")
    monkeypatch.setenv("QA_BOT_DATA_DIR", str(tmp_path / "data"))
    assert FeedbackStore.for_settings(Settings()).retention_days == 30
