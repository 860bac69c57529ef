"""Server mode: one published version of the index as a process sees it (``Snapshot``), and the disk cache of
versions (``data_dir/server-cache``) that a restarted process loads instead of reading every chunk again."""

from __future__ import annotations

import fcntl
import json
import logging
import os
import shutil
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from ..lexical import UpdatableBM25

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Snapshot:
    """One published version of the index as this process sees it: immutable, swapped whole."""

    version: int
    retriever: UpdatableBM25 | None
    hashes: dict[str, str]  # chunk id → content hash (a chunk rewritten since has another hash: not shown)
    acronyms: dict[str, str]
    boilerplate: frozenset[str]
    doc_meta: dict[str, tuple]  # document → (collection, type, {chunk type: chunks}), for the counts
    documents: int
    built: float = field(default_factory=time.time)
    build_seconds: float = 0.0
    from_cache: bool = False  # loaded from this process's disk cache of the version
    how: str = "full"  # "full" (every chunk read), "update" (the previous version + the documents changed), "cache"

    def counts(self, collections: Sequence[str] | None = None) -> tuple[int, dict[str, int], dict[str, int]]:
        """(documents, chunks by collection, chunks by their own type), of ``collections`` only when given. A
        chunk counts under its own type (a document's reader comments are comments), as in embedded mode."""
        docs, by_col, by_type = 0, {}, {}
        if self.retriever is not None:
            for doc, n in zip(self.retriever.doc_names, self.retriever.doc_rows().tolist()):
                meta = self.doc_meta.get(doc, ("", ""))
                if not n or (collections and meta[0] not in collections):
                    continue
                docs += 1
                by_col[meta[0]] = by_col.get(meta[0], 0) + n
                # a cache written before chunk types were kept: the document's type
                for kind, k in (meta[2] if len(meta) > 2 else {meta[1]: n}).items():
                    by_type[kind] = by_type.get(kind, 0) + k
        return docs, by_col, by_type

    @property
    def ids(self) -> list[str]:
        """The chunk ids of the lexical index's rows (in its row order)."""
        return self.retriever.ids if self.retriever is not None else []

    @cached_property
    def by_collection(self) -> dict[str, int]:
        return self.counts()[1]

    @cached_property
    def by_doc_type(self) -> dict[str, int]:
        return self.counts()[2]


def newest_cached(cache: Path | None, below: int) -> int | None:
    """The newest version before ``below`` this host has a cache of (the base a restart updates); ``cache`` is the
    cache directory of version ``below``."""
    if cache is None or not cache.parent.is_dir():
        return None
    prefix = cache.name.rsplit("-v", 1)[0] + "-v"
    found = [int(p.name[len(prefix):]) for p in cache.parent.iterdir()
             if p.name.startswith(prefix) and p.name[len(prefix):].isdigit()]
    return max((v for v in found if v < below), default=None)

@contextmanager
def build_lock(cache: Path | None) -> Iterator[None]:
    """The workers of one host build a version once: the first takes this lock (a file beside the cache), the
    others wait for it and load its cache."""
    if cache is None:
        yield
        return
    locks = cache.parent.with_name("server-cache.locks")  # beside the cache: one empty file per version
    try:
        locks.mkdir(parents=True, exist_ok=True)
        for old in locks.glob(f"{cache.name.rsplit('-v', 1)[0]}-v*.lock"):  # versions before the previous one
            v = old.name.rsplit("-v", 1)[1].split(".", 1)[0]
            if v.isdigit() and int(v) < int(cache.name.rsplit("-v", 1)[1]) - 1:
                old.unlink(missing_ok=True)
        fh = open(locks / f"{cache.name}.lock", "a")
    except OSError:  # a read-only data dir: every worker builds its own
        yield
        return
    try:
        fcntl.flock(fh, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fh, fcntl.LOCK_UN)
        fh.close()

def load_cached(path: Path) -> tuple[UpdatableBM25 | None, dict] | None:
    """(lexical index, snapshot.json) of the cached version in ``path``; None (and the broken cache removed) when
    it cannot be read."""
    try:
        info = json.loads((path / "snapshot.json").read_text())
        retriever = UpdatableBM25.load(path) if info["hashes"] else None
        if retriever is not None and len(retriever) != len(info["hashes"]):
            raise ValueError("chunk count")
        return retriever, info
    except (OSError, ValueError, KeyError) as e:
        if path.exists():
            log.warning("index cache %s unreadable (%s): rebuilt from the server", path.name, type(e).__name__)
            shutil.rmtree(path, ignore_errors=True)
        return None

def save_cached(path: Path, snap: Snapshot) -> None:
    """Write ``snap`` to ``path`` (atomically: a rename), and remove the caches of versions before the previous."""
    tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}-{threading.get_ident()}")
    try:
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        if snap.retriever is not None:
            snap.retriever.save(tmp)
        (tmp / "snapshot.json").write_text(json.dumps({
            "hashes": [snap.hashes[i] for i in snap.ids], "doc_meta": snap.doc_meta}))
        try:
            tmp.rename(path)
        except OSError:  # another worker cached the same version first
            shutil.rmtree(tmp, ignore_errors=True)
        prefix = path.name.rsplit("-v", 1)[0] + "-v"
        for old in path.parent.iterdir():  # versions before the previous one, leftovers of killed processes
            if not old.name.startswith(prefix) or old.name == path.name:
                continue
            v = old.name[len(prefix):].split(".", 1)[0]
            stale = time.time() - old.stat().st_mtime > 3600 if ".tmp-" in old.name else \
                (not v.isdigit() or int(v) < snap.version - 1)
            if stale:
                shutil.rmtree(old, ignore_errors=True)
    except OSError as e:  # a read-only data dir: no cache, nothing else changes
        shutil.rmtree(tmp, ignore_errors=True)
        log.info("index cache not written (%s)", e.strerror or type(e).__name__)
