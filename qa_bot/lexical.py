"""An updatable BM25 index (server mode): documents dropped and added without re-reading or re-tokenising the rest.

bm25s, the embedded store's lexical index, is built in one pass and has no update: in server mode every app process
rebuilt it from every chunk in Chroma at each published version, ~0.25–0.37 ms a chunk on 2 cores — past the 30 s
pick-up bound above ~70k chunks (6 minutes at 1M). This index keeps what a rebuild needs and nothing else: a
term-major (CSC) matrix of raw term frequencies, the length of every row and the document of every row. An update
drops the rows of the documents an ingest touched and appends their new chunks (tokenised here, a few thousand
rows), in vectorised numpy over the kept entries (seconds at 1M chunks), then recomputes every BM25 weight from the
current rows.

Scores are Lucene BM25 exactly as bm25s computes them (``method="lucene"``, k1 1.5, b 0.75: idf
``log(1 + (N - df + 0.5) / (df + 0.5))``, term part ``tf / (k1 (1 - b + b dl / avgdl) + tf)``), and N, the document
frequencies and the average length are recomputed from the current rows at every update (lengths summed as
integers), so a score depends on the current chunks only: a process that followed ten versions one by one scores
every chunk like a process that built the last version from nothing (rows may sit in another order; callers break
ties by chunk id). The object answers what retrieval reads of a ``bm25s.BM25``: ``vocab_dict``, ``scores``
(``indptr``/``indices``/``data``/``num_docs``) and ``get_scores(tokens)``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

K1, B = 1.5, 0.75  # bm25s's defaults


def tokenize(texts: Sequence[str], stemmer) -> list[list[str]]:
    """The tokens bm25s indexes and queries with (English stopwords out, stemmed)."""
    import bm25s

    if not texts:
        return []
    return bm25s.tokenize(list(texts), stopwords="en", stemmer=stemmer, return_ids=False, show_progress=False)


def top_rows(scores: np.ndarray, ids: list[str], k: int) -> list[int]:
    """Rows of the ``k`` best positive scores, best first, ties in chunk-id order: the same chunks whatever the
    order of the index's rows (a server-mode process that updated its index version by version holds them in
    another order than one that built it at once)."""
    if not len(scores) or k <= 0:
        return []
    rows = np.flatnonzero(scores > 0)  # usually a small part of a large index: partitioned alone
    if len(rows) > k:
        sub = scores[rows]
        kth = np.partition(sub, len(sub) - k)[len(sub) - k]
        rows = rows[sub >= kth]
    return sorted(rows.tolist(), key=lambda i: (-scores[i], ids[i]))[:k]


class UpdatableBM25:
    """One immutable state of the index; ``updated`` returns the next one (the old keeps serving meanwhile)."""

    def __init__(self) -> None:
        self.vocab_dict: dict[str, int] = {}
        self.ids: list[str] = []
        self.doc_names: list[str] = []  # document of row r: doc_names[row_doc[r]]
        self.doc_index: dict[str, int] = {}  # document → its position in doc_names
        self.row_doc = np.zeros(0, np.int32)
        self.dl = np.zeros(0, np.int32)  # tokens per row
        self.indptr = np.zeros(1, np.int64)  # column (term) c: entries indptr[c]:indptr[c + 1]
        self.indices = np.zeros(0, np.int32)  # row of each entry, ascending within a column
        self.tf = np.zeros(0, np.uint16)  # raw term frequency of each entry
        self._weigh()

    # --- building -----------------------------------------------------------------------------------------
    @classmethod
    def build(cls, rows: Iterable[tuple[str, str, list[str]]]) -> UpdatableBM25:
        """From (chunk id, document id, tokens) rows, in the order given."""
        return cls().updated((), rows)

    @classmethod
    def from_token_ids(cls, rows: Sequence[tuple[str, str]], token_ids: Sequence[Sequence[int]],
                       vocab: dict[str, int]) -> UpdatableBM25:
        """From (chunk id, document id) rows and their tokens as ids of ``vocab`` (what ``bm25s.tokenize``
        returns): the full build of a large index without a Python pass over the tokens."""
        from itertools import chain

        lengths = np.fromiter(map(len, token_ids), np.int64, count=len(token_ids))
        cols = np.fromiter(chain.from_iterable(token_ids), np.int64, count=int(lengths.sum()))
        return cls()._apply((), [r[0] for r in rows], [r[1] for r in rows], cols, lengths, dict(vocab))

    def updated(self, drop_docs: Iterable[str], add: Iterable[tuple[str, str, list[str]]]) -> UpdatableBM25:
        """A new index: every row of ``drop_docs`` removed, then ``add``'s rows (chunk id, document id, tokens)
        appended. Kept rows keep their order; entries, lengths and weights are recomputed in numpy."""
        add = list(add)
        vocab = dict(self.vocab_dict)
        cols: list[int] = []
        for _, _, tokens in add:
            for t in tokens:
                c = vocab.get(t)
                if c is None:
                    c = vocab[t] = len(vocab)
                cols.append(c)
        lengths = np.fromiter((len(r[2]) for r in add), np.int64, count=len(add))
        return self._apply(drop_docs, [r[0] for r in add], [r[1] for r in add], np.asarray(cols, np.int64), lengths,
                           vocab)

    def _apply(self, drop_docs: Iterable[str], add_ids: list[str], add_docs: list[str], cols: np.ndarray,
               lengths: np.ndarray, vocab: dict[str, int]) -> UpdatableBM25:
        """The next index: rows of ``drop_docs`` out, then rows ``add_ids`` (documents ``add_docs``) whose tokens
        are the columns ``cols`` of ``vocab`` (``lengths`` of them per row, in row order) appended."""
        new = UpdatableBM25.__new__(UpdatableBM25)
        n_old, v_old, n_add, v_new = len(self.ids), len(self.indptr) - 1, len(add_ids), len(vocab)
        # the rows kept (renumbered in order) and their entries ----------------------------------------------
        dead = self.rows_of(drop_docs)
        if len(dead):
            keep_row = np.ones(n_old, bool)
            keep_row[dead] = False
            renum = (np.cumsum(keep_row) - 1).astype(np.int32)
            keep_entry = keep_row[self.indices]
            run = np.concatenate([[0], np.cumsum(keep_entry, dtype=np.int64)])
            kept_counts = run[self.indptr[1:]] - run[self.indptr[:-1]]
            kept_rows, kept_tf = renum[self.indices[keep_entry]], self.tf[keep_entry]
            del keep_entry, run
        else:
            keep_row = np.ones(n_old, bool)
            kept_counts, kept_rows, kept_tf = np.diff(self.indptr), self.indices, self.tf
        n_keep = int(keep_row.sum())
        # the rows added: (column, row) pairs counted into term frequencies, sorted by column then row --------------
        doc_names = list(self.doc_names)
        doc_index = dict(self.doc_index)
        add_doc = np.empty(n_add, np.int32)
        for j, doc in enumerate(add_docs):
            k = doc_index.get(doc)
            if k is None:
                k = doc_index[doc] = len(doc_names)
                doc_names.append(doc)
            add_doc[j] = k
        width = max(n_add, 1)
        key, tf = np.unique(cols * width + np.repeat(np.arange(n_add, dtype=np.int64), lengths), return_counts=True)
        add_cols = key // width
        add_rows = (key % width).astype(np.int32) + n_keep
        del key
        # merge: each added entry goes after the kept entries of its column (rows stay ascending in a column) ------
        kept_end = np.concatenate([np.cumsum(kept_counts), np.zeros(v_new - v_old, np.int64)])
        kept_end[v_old:] = kept_end[v_old - 1] if v_old else 0
        where = kept_end[add_cols]
        new.indices = np.insert(kept_rows, where, add_rows).astype(np.int32, copy=False)
        new.tf = np.insert(kept_tf, where, np.minimum(tf, np.iinfo(np.uint16).max).astype(np.uint16))
        counts = np.concatenate([kept_counts, np.zeros(v_new - v_old, np.int64)]) \
            + np.bincount(add_cols, minlength=v_new)
        new.indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        new.vocab_dict = vocab
        new.ids = ([cid for cid, k in zip(self.ids, keep_row) if k] if len(dead) else list(self.ids)) + list(add_ids)
        new.doc_names, new.doc_index = doc_names, doc_index
        new.row_doc = np.concatenate([self.row_doc[keep_row], add_doc])
        new.dl = np.concatenate([self.dl[keep_row], lengths.astype(np.int32)])
        new._weigh()
        return new

    def _weigh(self) -> None:
        """BM25 weight of every entry, from the current rows only (N, document frequencies, average length)."""
        n = len(self.ids)
        df = np.diff(self.indptr)
        avgdl = int(self.dl.sum(dtype=np.int64)) / n if n else 1.0
        self.idf = np.log(1 + (n - df + 0.5) / (df + 0.5)).astype(np.float32)
        rownorm = (K1 * ((1 - B) + B * self.dl.astype(np.float64) / avgdl)).astype(np.float32)
        tf = self.tf.astype(np.float32)
        data = tf / (rownorm[self.indices] + tf)
        data *= np.repeat(self.idf, df)
        self.data = data
        self.scores = {"data": self.data, "indices": self.indices, "indptr": self.indptr, "num_docs": n}

    # --- reading ----------------------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.ids)

    def get_scores(self, tokens: Sequence[str]) -> np.ndarray:
        """BM25 score of every row for a tokenised query (a repeated token counts again, as in bm25s)."""
        scores = np.zeros(len(self.ids), np.float32)
        for t in tokens:
            c = self.vocab_dict.get(t)
            if c is None:
                continue
            s, e = self.indptr[c], self.indptr[c + 1]
            scores[self.indices[s:e]] += self.data[s:e]
        return scores

    def rows_of(self, docs: Iterable[str]) -> np.ndarray:
        """The rows of ``docs`` (those in the index), ascending."""
        codes = [self.doc_index[d] for d in set(docs) if d in self.doc_index]
        return np.flatnonzero(np.isin(self.row_doc, np.asarray(codes, np.int32))) if codes else np.zeros(0, np.int64)

    def doc_rows(self) -> np.ndarray:
        """Rows per document (indexed like ``doc_names``)."""
        return np.bincount(self.row_doc, minlength=len(self.doc_names))

    # --- disk ------------------------------------------------------------------------------------------------
    def save(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        np.savez(path / "bm25.npz", row_doc=self.row_doc, dl=self.dl, indptr=self.indptr, indices=self.indices,
                 tf=self.tf)
        (path / "bm25.json").write_text(json.dumps({"vocab": self.vocab_dict, "ids": self.ids,
                                                    "docs": self.doc_names}))

    @classmethod
    def load(cls, path: Path) -> UpdatableBM25:
        info = json.loads((path / "bm25.json").read_text())
        arrays = np.load(path / "bm25.npz")
        new = cls.__new__(cls)
        new.vocab_dict, new.ids, new.doc_names = info["vocab"], info["ids"], info["docs"]
        new.doc_index = {d: i for i, d in enumerate(new.doc_names)}
        for name in ("row_doc", "dl", "indptr", "indices", "tf"):
            setattr(new, name, arrays[name])
        if not (len(new.row_doc) == len(new.dl) == len(new.ids) and len(new.indptr) == len(new.vocab_dict) + 1
                and len(new.indices) == len(new.tf) == new.indptr[-1]):
            raise ValueError(f"inconsistent lexical index in {path}")
        new._weigh()
        return new
