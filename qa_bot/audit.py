"""The audit trail of a team deployment: one row per answered API request.

A row holds the time, the id of the API key (the first 8 hex digits of its hash, never the key), the collections
the question was searched in (null: all), the SHA-256 of the question (its text only with ``QA_BOT_AUDIT_TEXT``),
the cited document and section ids, whether the answer abstained, and the latency. It is stored where the
deployment keeps its state: a SQLite file (``data_dir/audit.sqlite`` or ``QA_BOT_AUDIT_DB``, mode 0600) in embedded
mode, a collection ``<collection_name>__audit`` on the Chroma server in server mode. ``QA_BOT_AUDIT_RETENTION_DAYS``
deletes older rows after each write. Reading it needs an admin key: ``qa-bot audit export --since`` (JSONL or CSV)
or ``GET /v1/audit``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import sqlite3
import time
import uuid
from contextlib import closing
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from .errors import BadInputError
from .feedback import ServerCollection, private_sqlite
from .settings import Settings
from .types import Answer

FIELDS = ("time", "key_id", "collections", "question_sha256", "question", "cited", "abstained", "latency_ms")

SCHEMA = """
CREATE TABLE IF NOT EXISTS audit (
    id TEXT PRIMARY KEY,
    time REAL NOT NULL,
    key_id TEXT,
    collections_json TEXT,
    question_sha256 TEXT NOT NULL,
    question TEXT,
    cited_json TEXT NOT NULL DEFAULT '[]',
    abstained INTEGER NOT NULL,
    latency_ms REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_time ON audit(time);
"""


def audit_row(key_id: str | None, collections: list[str] | None, answer: Answer, seconds: float,
              keep_text: bool) -> dict[str, Any]:
    cited = list(dict.fromkeys((c.doc_id, c.section_id) for c in answer.citations))
    return {"time": time.time(), "key_id": key_id, "collections": sorted(collections) if collections else None,
            "question_sha256": hashlib.sha256(answer.question.encode("utf-8")).hexdigest(),
            "question": answer.question if keep_text else None,
            "cited": [{"doc_id": d, "section_id": s} for d, s in cited], "abstained": bool(answer.abstained),
            "latency_ms": round(seconds * 1000, 1)}


def parse_since(text: str | None) -> float | None:
    """'2026-12-01', '2026-12-01T08:00', or an age '7d' / '12h' → a UNIX time; None/'' → None."""
    from .feedback import parse_age

    if not text:
        return None
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        try:
            return time.time() - parse_age(text) * 86400
        except BadInputError:
            raise BadInputError(f"--since must be a date (2026-12-01), a time (2026-12-01T08:00) or an age "
                                f"(7d, 12h), not {text!r}") from None
    return (when if when.tzinfo else when.replace(tzinfo=timezone.utc)).timestamp()


class AuditStore:
    """The SQLite audit file; every call opens and closes its own connection."""

    def __init__(self, path: Path | str, retention_days: float | None = None):
        self.path = Path(path)
        self.retention_days = retention_days

    @classmethod
    def for_settings(cls, settings: Settings) -> "AuditStore":
        if settings.chroma_url and settings.server.audit_db is None:
            return ServerAuditStore(settings)
        return cls(settings.audit_path, settings.server.audit_retention_days)

    @property
    def where(self) -> str:
        return str(self.path)

    def _connect(self) -> sqlite3.Connection:
        return private_sqlite(self.path, SCHEMA)

    def record(self, key_id: str | None, collections: list[str] | None, answer: Answer, seconds: float,
               keep_text: bool = False) -> dict[str, Any]:
        row = audit_row(key_id, collections, answer, seconds, keep_text)
        self._insert(row)
        self.expire()
        return row

    def _insert(self, row: dict[str, Any]) -> None:
        with closing(self._connect()) as conn, conn:
            conn.execute("INSERT INTO audit VALUES (?,?,?,?,?,?,?,?,?)",
                         (uuid.uuid4().hex, row["time"], row["key_id"],
                          None if row["collections"] is None else json.dumps(row["collections"]),
                          row["question_sha256"], row["question"], json.dumps(row["cited"]), int(row["abstained"]),
                          row["latency_ms"]))

    def expire(self) -> int:
        if not self.retention_days or not self.path.is_file():
            return 0
        with closing(self._connect()) as conn, conn:
            return conn.execute("DELETE FROM audit WHERE time < ?",
                                (time.time() - self.retention_days * 86400,)).rowcount

    def rows(self, since: float | None = None) -> list[dict[str, Any]]:
        if not self.path.is_file():
            return []
        with closing(self._connect()) as conn:
            got = conn.execute("SELECT time, key_id, collections_json, question_sha256, question, cited_json, "
                               "abstained, latency_ms FROM audit WHERE time >= ? ORDER BY time",
                               (since or 0.0,)).fetchall()
        return [{"time": t, "key_id": k, "collections": json.loads(c) if c else None, "question_sha256": h,
                 "question": q, "cited": json.loads(cj), "abstained": bool(a), "latency_ms": ms}
                for t, k, c, h, q, cj, a, ms in got]


class ServerAuditStore(ServerCollection, AuditStore):
    """Server mode: the rows of every process in the collection ``<collection_name>__audit`` of the Chroma
    server (the row as JSON in each record's document, its time as metadata for the since and retention filters)."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.retention_days = settings.server.audit_retention_days
        self.path = Path(f"{settings.chroma_url}#{settings.collection_name}__audit")
        self._col = None

    kind = "audit"

    def _insert(self, row: dict[str, Any]) -> None:
        self.col().add(ids=[uuid.uuid4().hex], embeddings=[[1.0]], documents=[json.dumps(row)],
                       metadatas=[{"time": row["time"]}])

    def expire(self) -> int:
        if not self.retention_days:
            return 0
        return self.delete_where({"time": {"$lt": time.time() - self.retention_days * 86400}})

    def rows(self, since: float | None = None) -> list[dict[str, Any]]:
        got = self.col().get(where={"time": {"$gte": since or 0.0}}, include=["documents"])
        return sorted((json.loads(d) for d in got["documents"]), key=lambda r: r["time"])


def to_text(rows: list[dict[str, Any]], fmt: str = "jsonl") -> str:
    """The rows as JSONL (one object a line) or CSV (lists as JSON in their cell; time as ISO 8601 UTC too)."""
    if fmt == "jsonl":
        return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    if fmt != "csv":
        raise BadInputError(f"--format must be jsonl or csv, not {fmt!r}")
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(("utc", *FIELDS))
    for r in rows:
        utc = datetime.fromtimestamp(r["time"], tz=timezone.utc).isoformat(timespec="seconds")
        w.writerow((utc, *(json.dumps(r[f]) if isinstance(r[f], (list, dict)) else
                           ("" if r[f] is None else r[f]) for f in FIELDS)))
    return buf.getvalue()


# --- CLI: `qa-bot audit export` --------------------------------------------------------------------------------
audit_app = typer.Typer(help="The audit trail of the HTTP API (admin keys only).", no_args_is_help=True)


@audit_app.callback()
def _group() -> None:
    """The audit trail of the HTTP API: who asked, in which collections, with which sources (admin keys only)."""


def admin_key_ok(settings: Settings, presented: str) -> bool:
    """Whether ``presented`` is a key of the keys file marked ``admin``."""
    from .keys import KeyRing

    if settings.server.api_keys_file is None or not presented:
        return False
    key = KeyRing(settings.model_copy(update={"api_keys": None})).find(presented)
    return bool(key and key.admin)


@audit_app.command("export")
def export_cmd(
    since: Annotated[Optional[str], typer.Option("--since", help="Rows from this date, time or age on "
                                                                "(2026-12-01, 2026-12-01T08:00, 7d).")] = None,
    fmt: Annotated[str, typer.Option("--format", help="jsonl or csv.")] = "jsonl",
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="File to write (default: stdout).")] = None,
) -> None:
    """Write the audit rows. The admin key is read from QA_BOT_ADMIN_KEY or, when unset, from stdin."""
    err = typer.echo
    try:
        settings = Settings()
        presented = os.environ.get("QA_BOT_ADMIN_KEY") or (typer.get_text_stream("stdin").readline().strip())
        if not admin_key_ok(settings, presented):
            err("error: the audit trail is readable only with an admin key of QA_BOT_API_KEYS_FILE (a line marked "
                "`admin`), given in QA_BOT_ADMIN_KEY or on stdin", err=True)
            raise typer.Exit(2)
        text = to_text(AuditStore.for_settings(settings).rows(parse_since(since)), fmt)
    except BadInputError as e:
        err(f"error: {e}", err=True)
        raise typer.Exit(2) from None
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        err(f"{text.count(chr(10)) - (fmt == 'csv')} audit row(s) written to {out}", err=True)
