"""The chunk texts a host has read from the Chroma server, kept on disk (server mode; see ``TextCache``)."""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


class TextCache:
    """The chunk texts (and the rest of each chunk) this host has read from the Chroma server, kept on disk so that
    a question reads only vectors from the server: ``data_dir/server-texts/<chunk collection id>.sqlite``,
    shared by the processes of the host (SQLite in WAL mode: readers never wait for a writer).

    Filled by every full build of a version (every chunk) and every update (the chunks of the changed documents), and
    with what a question had to read from the server. A row is used only when its content hash is the one the
    version in use holds for that chunk; anything else (no file, no row, another hash, a read-only data dir, a broken
    file) reads the server as without a cache. Each row carries the version whose read wrote it and is never
    overwritten by the read of an older version (a process still on version N cannot put back what version N+1
    changed); a full build drops the rows that no version since it wrote (chunks gone from the server)."""

    def __init__(self, path: Path):
        self.path = path
        self._local = threading.local()
        self._off = False
        self._told = False

    def _db(self) -> sqlite3.Connection | None:
        db = getattr(self._local, "db", None)
        if db is not None or self._off:
            return db
        for attempt in (1, 2):
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                db = sqlite3.connect(self.path, timeout=5)
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=NORMAL")
                db.execute("CREATE TABLE IF NOT EXISTS chunks (chunk_id TEXT PRIMARY KEY, content_hash TEXT, "
                           "version INTEGER, text TEXT, chunk TEXT)")
                self._local.db = db
                return db
            except sqlite3.OperationalError as e:  # locked for a moment, or not writable here: the server this time
                self._failed("opening it", e)
                return None
            except sqlite3.DatabaseError as e:  # not a database (a broken file): dropped and made again, once
                if attempt == 2:
                    self._give_up(e)
                    return None
                log.warning("chunk text cache %s unreadable (%s): made again", self.path.name, e)
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{self.path}{suffix}").unlink(missing_ok=True)
            except OSError as e:  # a read-only data dir
                self._give_up(e)
                return None
        return None

    def _give_up(self, e: BaseException) -> None:
        self._off = True
        log.info("chunk text cache %s not used (%s)", self.path, e)

    def _failed(self, what: str, e: BaseException) -> None:
        if not self._told:
            self._told = True
            log.warning("chunk text cache %s: %s failed (%s); the server is read instead", self.path.name, what, e)

    def get(self, ids: Sequence[str]) -> dict[str, tuple[str, str, str]]:
        """chunk id → (content hash, text, chunk JSON without its text) of the ``ids`` this host holds."""
        db = self._db()
        out: dict[str, tuple[str, str, str]] = {}
        if db is None:
            return out
        try:
            for part, marks in _id_parts(ids):
                for cid, h, text, chunk in db.execute(
                        f"SELECT chunk_id, content_hash, text, chunk FROM chunks WHERE chunk_id IN ({marks})", part):
                    out[cid] = (h, text, chunk)
        except sqlite3.Error as e:
            self._failed("a read", e)
            return {}
        return out

    def _change(self, what: str, apply: Callable[[sqlite3.Connection], Any]) -> None:
        """``apply(db)`` in one transaction; a failure leaves the cache as it was (the server is read instead)."""
        db = self._db()
        if db is None:
            return
        try:
            with db:
                apply(db)
        except sqlite3.Error as e:
            self._failed(what, e)

    def put(self, rows: Sequence[tuple[str, str, str, str]], version: int) -> None:
        """(chunk id, content hash, text, chunk JSON) read from the server for ``version``."""
        if rows:
            self._change("a write", lambda db: db.executemany(
                "INSERT INTO chunks (chunk_id, content_hash, version, text, chunk) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT(chunk_id) DO UPDATE SET content_hash = excluded.content_hash, "
                "version = excluded.version, text = excluded.text, chunk = excluded.chunk "
                "WHERE excluded.version >= chunks.version",
                [(cid, h, version, text, chunk) for cid, h, text, chunk in rows]))

    def drop(self, ids: Sequence[str], version: int) -> None:
        """Chunks that ``version`` removed (rows a later version wrote again stay)."""
        def apply(db: sqlite3.Connection) -> None:
            for part, marks in _id_parts(ids):
                db.execute(f"DELETE FROM chunks WHERE version <= ? AND chunk_id IN ({marks})", [version, *part])
        if ids:
            self._change("a delete", apply)

    def prune(self, version: int) -> None:
        """After a full build of ``version``: the rows it did not write (chunks no longer in the server) go."""
        self._change("a prune", lambda db: db.execute("DELETE FROM chunks WHERE version < ?", (version,)))


def _id_parts(ids: Sequence[str], size: int = 500) -> Iterator[tuple[list[str], str]]:
    """``ids`` in parts of at most ``size``, each with its SQL placeholders ("?,?,…")."""
    for i in range(0, len(ids), size):
        part = list(ids[i:i + size])
        yield part, ",".join("?" * len(part))
