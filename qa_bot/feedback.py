"""Feedback on answers: a small SQLite store (``settings.feedback_path``) and its export as eval rows.

The web chat records one row per answer (helpful / not helpful, an optional comment); giving feedback
again on the same answer updates that row. Each row keeps what is needed to replay and judge it later:
the question, the standalone question that was searched (the earlier turns only when
``QA_BOT_FEEDBACK_KEEP_CONVERSATION`` asks for them), the answer (text and JSON,
without the retrieved passages' bodies), its citations, the settings that shaped it, and the time.

``qa-bot feedback export`` writes the rows as JSONL in the eval-set schema of ``evals/datasets/README.md``
(``{id, dataset, question, history, answerable, relevant, judged, reference_answers, note}``), so they can
be run with ``qa-bot eval``. The mapping:

* ``id`` = ``feedback-<answer id>``, ``dataset`` = ``"feedback"``; ``question`` and ``history`` as asked.
* **helpful, answered** → ``answerable: true``; ``relevant`` = every distinct section the answer cited,
  ``{doc_id, section_id, heading, grade: 3}`` (grade 3 = "correct but incomplete": a user's thumbs-up
  vouches for the evidence, not for its completeness).
* **helpful, abstained** → ``answerable: false`` (the user agreed the corpus has no answer); ``relevant: []``.
* **not helpful** → ``answerable: true`` (the user expected an answer; unverified), ``relevant: []`` — a
  thumbs-down does not say which passage would have been right, so the row only feeds the answer-level
  and abstention measures until someone adds gold evidence; the ``note`` says so and carries the comment
  and the sections that were cited.
* Privacy: the file is mode 0600; ``QA_BOT_FEEDBACK_RETENTION_DAYS`` deletes rows older than that (at the web
  chat's start-up and after each write); ``qa-bot feedback purge --older-than 30d`` / ``--all`` erases them.
* ``judged`` stays ``{}`` and ``reference_answers`` ``[]``: user feedback is not an expert's per-passage
  grade nor an expert-written answer.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated, Any, Literal, Optional

import typer

from .errors import BadInputError, QABotError
from .settings import Settings
from .types import Answer, Turn

Rating = Literal["helpful", "not_helpful"]
RATINGS: tuple[str, ...] = ("helpful", "not_helpful")

SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id TEXT PRIMARY KEY,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    rating TEXT NOT NULL CHECK (rating IN ('helpful', 'not_helpful')),
    comment TEXT,
    question TEXT NOT NULL,
    standalone_question TEXT,
    history_json TEXT NOT NULL DEFAULT '[]',
    answer_text TEXT,
    abstained INTEGER NOT NULL DEFAULT 0,
    answer_json TEXT,
    citations_json TEXT NOT NULL DEFAULT '[]',
    settings_json TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS feedback_updated ON feedback(updated);
"""

def private_sqlite(path: Path, schema: str) -> sqlite3.Connection:
    """A connection to a SQLite file readable by its owner only (mode 0600, tightened if it was not), deleted rows
    overwritten (``secure_delete``), ``schema`` applied."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    if path.stat().st_mode & 0o077:
        os.chmod(path, 0o600)  # a file from before this rule is tightened too
    conn = sqlite3.connect(path, timeout=30)
    conn.execute("PRAGMA secure_delete=ON")
    conn.executescript(schema)
    return conn


@dataclass
class FeedbackRecord:
    id: str
    created: float
    updated: float
    rating: str
    comment: str | None
    question: str
    standalone_question: str | None
    history: list[dict[str, str]]
    answer_text: str | None
    abstained: bool
    answer: dict[str, Any] | None
    citations: list[dict[str, Any]]
    settings: dict[str, Any]


def _history(history: Sequence[Turn | dict] | None) -> list[dict[str, str]]:
    out = []
    for t in history or ():
        t = t if isinstance(t, Turn) else Turn.model_validate(t)
        out.append({"role": t.role, "content": t.content})
    return out


class FeedbackStore:
    """One SQLite file; every call opens and closes its own connection (safe across Streamlit threads).

    Privacy: the file is created readable by its owner only (mode 0600); deleted rows are overwritten
    (``secure_delete``); with ``retention_days`` rows older than that are deleted after each write (and by
    ``expire()``, which the web chat calls at start-up)."""

    def __init__(self, path: Path | str, retention_days: float | None = None):
        self.path = Path(path)
        self.retention_days = retention_days

    @classmethod
    def for_settings(cls, settings: Settings) -> "FeedbackStore":
        """The feedback store of these settings: with a Chroma server (QA_BOT_CHROMA_URL) one collection on that
        server, shared by every process, unless QA_BOT_FEEDBACK_DB names a file; else the local SQLite file."""
        if settings.chroma_url and settings.ui.feedback_db is None:
            return ServerFeedbackStore(settings)
        return cls(settings.feedback_path, settings.ui.feedback_retention_days)

    @property
    def where(self) -> str:
        return str(self.path)

    def _connect(self) -> sqlite3.Connection:
        return private_sqlite(self.path, SCHEMA)

    def expire(self) -> int:
        """Delete the rows older than the retention period; returns how many."""
        if not self.retention_days or not self.path.is_file():
            return 0
        return self.purge(older_than_days=self.retention_days)

    def purge(self, older_than_days: float | None = None) -> int:
        """Delete every row (``older_than_days`` None) or those last updated before that many days ago."""
        if not self.path.is_file():
            return 0
        with closing(self._connect()) as conn:
            with conn:
                if older_than_days is None:
                    n = conn.execute("DELETE FROM feedback").rowcount
                else:
                    n = conn.execute("DELETE FROM feedback WHERE updated < ?",
                                     (time.time() - older_than_days * 86400,)).rowcount
            if n:
                conn.execute("VACUUM")  # no deleted text left in free pages
        return n

    def record(self, answer_id: str, answer: Answer, rating: str, comment: str | None = None,
               history: Sequence[Turn | dict] | None = None, settings: Settings | None = None) -> FeedbackRecord:
        """Insert or update the feedback on one answer (``answer_id`` is the caller's id for that answer). The
        earlier conversation (``history``) is stored only when ``settings.ui.feedback_keep_conversation`` asks for
        it: by default the record holds the rated turn alone."""
        from .render import answer_to_text

        rating, comment, now, settings_json, answer_json, citations_json = _prepare(answer, rating, comment, settings)
        with closing(self._connect()) as conn, conn:
            conn.execute(
                """INSERT INTO feedback (id, created, updated, rating, comment, question, standalone_question,
                       history_json, answer_text, abstained, answer_json, citations_json, settings_json)
                   VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)
                   ON CONFLICT(id) DO UPDATE SET updated=excluded.updated, rating=excluded.rating,
                       comment=COALESCE(excluded.comment, feedback.comment)""",
                (answer_id, now, now, rating, comment, answer.question, answer.standalone_question,
                 json.dumps(_history(history) if settings and settings.ui.feedback_keep_conversation else []),
                 answer_to_text(answer), int(answer.abstained), answer_json, citations_json, settings_json))
        rec = self.get(answer_id)
        assert rec is not None
        self.expire()
        return rec

    def get(self, answer_id: str) -> FeedbackRecord | None:
        if not self.path.is_file():
            return None
        with closing(self._connect()) as conn:
            row = conn.execute("SELECT * FROM feedback WHERE id=?", (answer_id,)).fetchone()
        return _to_record(row) if row else None

    def records(self, rating: str | None = None) -> list[FeedbackRecord]:
        if not self.path.is_file():
            return []
        with closing(self._connect()) as conn:
            q = "SELECT * FROM feedback" + (" WHERE rating=?" if rating else "") + " ORDER BY created, id"
            rows = conn.execute(q, (rating,) if rating else ()).fetchall()
        return [_to_record(r) for r in rows]


def _prepare(answer: Answer, rating: str, comment: str | None, settings: Settings | None) -> tuple:
    """(rating, comment, now, settings JSON, answer JSON, citations JSON) of one rating, checked."""
    if rating not in RATINGS:
        raise BadInputError(f"feedback rating must be one of {', '.join(RATINGS)}, not {rating!r}")
    comment = (comment or "").strip() or None
    settings_json = json.dumps(settings.answer_snapshot() if settings else {"audience": answer.audience})
    answer_obj = answer.model_dump(mode="json", exclude={"passages"})
    answer_obj["retrieved"] = [p.chunk.chunk_id for p in answer.passages]  # ids only, not the bodies
    return (rating, comment, time.time(), settings_json, json.dumps(answer_obj),
            json.dumps([c.model_dump(mode="json") for c in answer.citations]))


class ServerCollection:
    """One side collection of the Chroma server, ``<collection_name>__<kind>`` (the feedback, the audit trail): one
    record per row, the row as JSON in its document; deletion by a metadata filter, in batches."""

    kind = ""
    settings: Settings
    _col: Any = None

    @property
    def where(self) -> str:
        return f"the collection {self.settings.collection_name}__{self.kind} on the Chroma server {self.settings.chroma_url}"

    def col(self):
        if self._col is None:
            from .store.chroma import chroma_client

            self._col = chroma_client(self.settings).get_or_create_collection(
                f"{self.settings.collection_name}__{self.kind}", embedding_function=None, metadata={"qa_bot": self.kind})
        return self._col

    def delete_where(self, where: dict | None) -> int:
        col = self.col()
        ids = col.get(where=where, include=[])["ids"]
        for i in range(0, len(ids), 500):
            col.delete(ids=ids[i:i + 500])
        return len(ids)


class ServerFeedbackStore(ServerCollection, FeedbackStore):
    """Server mode: the feedback of every process in one collection of the Chroma server
    (``<collection_name>__feedback``: one record per rated answer, the row as JSON in its document, ``created``,
    ``updated`` and ``rating`` as metadata for the retention and purge filters). Same API and retention as the
    SQLite file; deleted records are removed by the server (its own storage decides when the bytes are reused, so
    the disk of the Chroma server holds personal data: protect it like the feedback file)."""

    def __init__(self, settings: Settings, retention_days: float | None = None):
        self.settings = settings
        self.retention_days = retention_days if retention_days is not None else settings.ui.feedback_retention_days
        self.path = Path(f"{settings.chroma_url}#{settings.collection_name}__feedback")
        self._col = None

    kind = "feedback"

    def expire(self) -> int:
        if not self.retention_days:
            return 0
        return self.purge(older_than_days=self.retention_days)

    def purge(self, older_than_days: float | None = None) -> int:
        return self.delete_where(None if older_than_days is None else
                                 {"updated": {"$lt": time.time() - older_than_days * 86400}})

    def record(self, answer_id: str, answer: Answer, rating: str, comment: str | None = None,
               history: Sequence[Turn | dict] | None = None, settings: Settings | None = None) -> FeedbackRecord:
        from .render import answer_to_text

        rating, comment, now, settings_json, answer_json, citations_json = _prepare(answer, rating, comment, settings)
        old = self.get(answer_id)
        if old is not None:  # a second rating of the same answer: rating, time and (a new) comment change
            row = {**old.__dict__, "updated": now, "rating": rating, "comment": comment or old.comment}
        else:
            row = {"id": answer_id, "created": now, "updated": now, "rating": rating, "comment": comment,
                   "question": answer.question, "standalone_question": answer.standalone_question,
                   "history": _history(history) if settings and settings.ui.feedback_keep_conversation else [],
                   "answer_text": answer_to_text(answer), "abstained": bool(answer.abstained),
                   "answer": json.loads(answer_json), "citations": json.loads(citations_json),
                   "settings": json.loads(settings_json)}
        self.col().upsert(ids=[answer_id], embeddings=[[1.0]], documents=[json.dumps(row)],
                          metadatas=[{"created": row["created"], "updated": row["updated"], "rating": rating}])
        rec = self.get(answer_id)
        assert rec is not None
        self.expire()
        return rec

    def get(self, answer_id: str) -> FeedbackRecord | None:
        got = self.col().get(ids=[answer_id], include=["documents"])
        return FeedbackRecord(**json.loads(got["documents"][0])) if got["ids"] else None

    def records(self, rating: str | None = None) -> list[FeedbackRecord]:
        got = self.col().get(where={"rating": rating} if rating else None, include=["documents"])
        recs = [FeedbackRecord(**json.loads(d)) for d in got["documents"]]
        return sorted(recs, key=lambda r: (r.created, r.id))


def _to_record(row: tuple) -> FeedbackRecord:
    (id_, created, updated, rating, comment, question, standalone, history_json, answer_text, abstained,
     answer_json, citations_json, settings_json) = row
    return FeedbackRecord(id=id_, created=created, updated=updated, rating=rating, comment=comment,
                          question=question, standalone_question=standalone, history=json.loads(history_json or "[]"),
                          answer_text=answer_text, abstained=bool(abstained),
                          answer=json.loads(answer_json) if answer_json else None,
                          citations=json.loads(citations_json or "[]"), settings=json.loads(settings_json or "{}"))


def to_eval_row(rec: FeedbackRecord) -> dict[str, Any]:
    """One feedback record → one eval-set row (mapping in the module docstring)."""
    when = datetime.fromtimestamp(rec.updated, tz=timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    sections: list[dict[str, Any]] = []
    seen: set[str] = set()
    for c in rec.citations:
        key = c.get("section_id") or c.get("doc_id")
        if key and key not in seen:
            seen.add(key)
            sections.append({"doc_id": c["doc_id"], "section_id": c.get("section_id"), "heading": c.get("heading"),
                             "grade": 3})
    helpful = rec.rating == "helpful"
    cited = ", ".join(s["section_id"] or s["doc_id"] for s in sections) or "none"
    if helpful and not rec.abstained:
        answerable, relevant = True, sections
        note = f"user feedback {when}: helpful; gold = the {len(sections)} cited section(s), grade 3"
    elif helpful:
        answerable, relevant = False, []
        note = f"user feedback {when}: helpful abstention (the user agreed the corpus has no answer)"
    else:
        answerable, relevant = True, []
        note = (f"user feedback {when}: not helpful{' (abstained)' if rec.abstained else ''}; cited: {cited}; "
                f"answerable unverified and no gold evidence: review before use")
    if rec.comment:
        note += f"; comment: {rec.comment}"
    if rec.standalone_question and rec.standalone_question != rec.question:
        note += f"; searched for: {rec.standalone_question}"
    return {"id": f"feedback-{rec.id}", "dataset": "feedback", "question": rec.question, "history": rec.history,
            "answerable": answerable, "relevant": relevant, "judged": {}, "reference_answers": [], "note": note}


def iter_eval_rows(path: "Path | str | FeedbackStore", rating: str | None = None) -> Iterator[dict[str, Any]]:
    store = path if isinstance(path, FeedbackStore) else FeedbackStore(path)
    for rec in store.records(rating):
        yield to_eval_row(rec)


def export_eval_rows(db: "Path | str | FeedbackStore", out: Path | None = None, rating: str | None = None) -> int:
    """Write the feedback as JSONL eval rows to ``out`` (stdout when None); returns the number of rows."""
    rows = list(iter_eval_rows(db, rating))
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    if out is None:
        sys.stdout.write(text)
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
    return len(rows)


# --- CLI: `qa-bot feedback export` -------------------------------------------------------------------------
feedback_app = typer.Typer(help="Feedback given in the web chat.", no_args_is_help=True)


@feedback_app.callback()
def _group() -> None:
    """Feedback given in the web chat (helpful / not helpful, comments)."""


@feedback_app.command("export")
def export_cmd(
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="JSONL file to write (default: stdout).")] = None,
    db: Annotated[Optional[Path], typer.Option("--db", help="Feedback SQLite file (default: data_dir/feedback.sqlite, "
                                                           "or QA_BOT_FEEDBACK_DB).")] = None,
    rating: Annotated[str, typer.Option("--rating", help="all, helpful or not_helpful.")] = "all",
) -> None:
    """Write the feedback as eval rows (evals/datasets/README.md schema), one JSON object per line."""
    err = typer.echo
    if rating not in ("all", *RATINGS):
        err(f"error: --rating must be all, helpful or not_helpful, not {rating!r}", err=True)
        raise typer.Exit(2)
    try:
        store = FeedbackStore(db) if db is not None else FeedbackStore.for_settings(Settings())
    except Exception as e:  # bad configuration: one line, no traceback
        err(f"error: bad configuration: {str(e).splitlines()[0]}", err=True)
        raise typer.Exit(2) from None
    if db is not None and not db.is_file():
        err(f"error: {db}: no such feedback file", err=True)
        raise typer.Exit(2)
    try:
        if db is None:
            store.expire()
        n = export_eval_rows(store, out, None if rating == "all" else rating)
    except QABotError as e:  # the Chroma server away
        err(f"error: {e}", err=True)
        raise typer.Exit(1) from None
    if out is not None or n == 0:
        err(f"{n} feedback row(s) exported" + (f" to {out}" if out else f" (none in {store.where})"), err=True)


def parse_age(text: str) -> float:
    """'30d', '12h', '2w', '90' (days) → days."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([dhw]?)\s*", text or "")
    if not m:
        raise BadInputError(f"--older-than must look like 30d, 12h or 2w, not {text!r}")
    return float(m.group(1)) * {"": 1, "d": 1, "h": 1 / 24, "w": 7}[m.group(2)]


@feedback_app.command("purge")
def purge_cmd(
    older_than: Annotated[Optional[str], typer.Option("--older-than", help="Delete feedback older than this "
                                                                          "(30d, 12h, 2w).")] = None,
    all_rows: Annotated[bool, typer.Option("--all", help="Delete all feedback.")] = False,
    db: Annotated[Optional[Path], typer.Option("--db", help="Feedback SQLite file (default: data_dir/feedback.sqlite, "
                                                           "or QA_BOT_FEEDBACK_DB).")] = None,
) -> None:
    """Erase stored feedback (questions, answers, comments): all of it, or what is older than an age."""
    err = typer.echo
    if all_rows == (older_than is not None):
        err("error: give exactly one of --older-than AGE or --all", err=True)
        raise typer.Exit(2)
    try:
        days = None if all_rows else parse_age(older_than or "")
        store = FeedbackStore(db) if db is not None else FeedbackStore.for_settings(Settings())
    except BadInputError as e:
        err(f"error: {e}", err=True)
        raise typer.Exit(2) from None
    except Exception as e:  # bad configuration: one line, no traceback
        err(f"error: bad configuration: {str(e).splitlines()[0]}", err=True)
        raise typer.Exit(2) from None
    try:
        n = store.purge(older_than_days=days)
    except QABotError as e:  # the Chroma server away
        err(f"error: {e}", err=True)
        raise typer.Exit(1) from None
    err(f"{n} feedback row(s) deleted from {store.where}", err=True)
