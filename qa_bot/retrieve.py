"""Retrieve stage: hybrid search (Chroma dense + bm25s lexical) and a re-ranker built from offline signals.

Candidates: the union of the dense and lexical top-N. Every candidate then gets *both* scores (its
cosine from its stored vector, its BM25 score from the full score vector), so fusion is a weighted
sum of calibrated scores rather than rank fusion (naive RRF loses to dense alone on MEDIQA).
Re-ranking adds: how well the question matches the section heading (MedQuAD sections are headed by
the question they answer), question type against section type, the topic's presence in title/heading,
source authority for the audience, and a per-document diversity cap. Reader comments are not
retrieved as evidence.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np

import qa_bot.acronyms as acronyms
import qa_bot.shorthand as shorthand
from .lexical import tokenize, top_rows
from .settings import Settings
from .store import StoreReader, require_index
from .store.tables import published_ord
from .subject import RANK_HEADED, Vocabulary, alternatives, find_subject, spelled_out
from .parse.names import looks_like_name
from .text import (GENERIC, META_HEADING, STOP, _TOKEN, content_terms, question_types, split_sentences, stem_words,
                   term_set, topic_terms)
from .types import Chunk, Passage, RetrievalResult, Subject, holds_term

def _idf(n_chunks: int, df: int) -> float:
    """Inverse document frequency over ``n_chunks`` chunks (a term in none gets the highest)."""
    return float(np.log(1 + max(n_chunks, 1) / (df + 1)))


def _scope(collections: Sequence[str] | None) -> tuple[str, ...] | None:
    """The collections a question may see (a key's scope or a filter), as a cache key; None: all of them."""
    return tuple(sorted(set(collections))) if collections else None


def _near_term(term: str, common: list[str]) -> str | None:
    """The indexed term (in ≥ 2 chunks) closest to ``term`` within the edit budget, else None."""
    limit = 2 if len(term) >= 9 else 1 if len(term) >= 4 else 0
    if not limit:
        return None
    from rapidfuzz import process
    from rapidfuzz.distance import Levenshtein

    # same first letter: misspellings keep it ("dianosed", "arrhthmia"); unrelated names rarely do
    # ("epoetin" is two edits from "pontin", "cefaclor" two from "cofactor")
    hits = process.extract(term, common, scorer=Levenshtein.distance, score_cutoff=limit, limit=5)
    return next((h[0] for h in hits if h[0][0] == term[0]), None)


def _phrase_pattern(words: list[str]) -> re.Pattern[str]:
    """A phrase's words as written, case, hyphens and spaces aside."""
    return re.compile(r"\b" + r"[\s-]+".join(re.escape(w) for w in words), re.I)


def _spellings(term: str, common: list[str]) -> list[str]:
    """Every indexed term (in ≥ 2 chunks) as near to a misspelt ``term`` as the nearest, within the edit budget of
    ``_near_term``, with a swap of two adjacent letters counted as one edit (optimal string alignment: "nueritis"
    is one edit from "neuritis", as from "nutritis") and the first letter kept."""
    limit = 2 if len(term) >= 9 else 1 if len(term) >= 4 else 0
    if not limit:
        return []
    from rapidfuzz import process
    from rapidfuzz.distance import OSA

    hits = [h for h in process.extract(term, common, scorer=OSA.distance, score_cutoff=limit, limit=10)
            if h[0][0] == term[0]]
    return [h[0] for h in hits if h[1] == hits[0][1]] if hits else []


def headed_by(chunk: Chunk, term: str) -> bool:
    """Whether the chunk's title or headings hold the stemmed ``term`` — not a heading that labels a part of any
    guideline ("Qualifying Statements", "Methods", "Implementation"): that names no subject."""
    return holds_term(term_set(Chunk.context_of(chunk.title, [h for h in chunk.heading_path
                                                               if not META_HEADING.search(h)])), term)


CLIPPED_MIN = 5  # a clipped word ("mammo") has at least this many letters…
CLIPPED_SHARE = 0.6  # …and the indexed word it starts carries this share of the chunks of all the words it starts


def _clipped(term: str, common: list[str], df: dict[str, int]) -> str | None:
    """The indexed term a clipped word stands for ("mammo": mammographi; "colonosc": colonoscopi): the word it
    starts, at least 3 letters longer, in ``CLIPPED_SHARE`` of the chunks holding any indexed word it starts
    ("chole" starts cholesterol and cholecystectomy and is left alone unless one dominates). ``common`` is sorted."""
    import bisect

    if len(term) < CLIPPED_MIN or not term.isalpha():
        return None
    lo = bisect.bisect_left(common, term)
    hi = bisect.bisect_left(common, term + "\uffff")
    longer = [t for t in common[lo:hi] if len(t) >= len(term) + 3]
    if not longer:
        return None
    best = max(longer, key=lambda t: df.get(t, 0))
    total = sum(df.get(t, 0) for t in common[lo:hi])
    return best if total and df.get(best, 0) >= CLIPPED_SHARE * total else None


def _near_df(term: str, common: list[str], df: dict[str, int]) -> int:
    """Document frequency of the indexed term closest to ``term`` within the edit budget (else of the word a
    clipped ``term`` starts), else 0."""
    near = _near_term(term, common) or _clipped(term, common, df)
    return df[near] if near else 0


def question_segments(query: str, min_words: int = 4, max_segments: int = 4) -> list[str]:
    """The sub-questions of a long, several-sentence message ("DVT. Can the pill cause DVT? My daughter…"):
    its sentences, a sentence shorter than ``min_words`` words (a subject line) joined to the next one; nothing
    for a message of one sentence. Questions (ending in "?") first, at most ``max_segments``."""
    parts = [query[a:b].strip() for a, b in split_sentences(query)]
    segs: list[str] = []
    carry = ""
    for p in parts:
        p = f"{carry} {p}".strip() if carry else p
        if len(p.split()) < min_words:
            carry = p
            continue
        segs.append(p)
        carry = ""
    if carry and segs:
        segs[-1] = f"{segs[-1]} {carry}"
    if len(segs) < 2:
        return []
    segs.sort(key=lambda x: not x.rstrip().endswith("?"))
    return segs[:max_segments]


# consumer health questions sent to NLM arrive as a SUBJECT line and a MESSAGE (the CHQ corpus, Kilicoglu et al.
# 2018; TREC LiveQA 2017's medical task): the line names the question's focus more often than the message's
# rarest word does. A subject line is a noun phrase: no pronoun of the asker or the reader, no auxiliary verb
_NOT_A_LINE = re.compile(r"\b(?:i|me|my|we|our|you|your|he|she|his|her|they|their|it|is|are|was|were|am|have|has|had|"
                         r"can|could|do|does|did|will|would|should|may|might|must)\b", re.I)
SUBJECT_LINE_WORDS = 6
# a line naming a web site ("ClinicalTrials.gov - Question - specific study") is the form the message came through
_WEB_ADDRESS = re.compile(r"\b[\w-]+\.(?:gov|com|org|net|edu|int)\b", re.I)


def subject_line(query: str) -> str | None:
    """The subject line a consumer's message opens with ("Prednisone. My husband has been on …", "Jock Itch. I
    have …"): a first sentence of at most ``SUBJECT_LINE_WORDS`` words, not a question, naming no one and asking
    nothing (a noun phrase) nor a web site, followed by the message; None when the message has none."""
    spans = split_sentences(query)
    if len(spans) < 2:
        return None
    first = query[spans[0][0]:spans[0][1]].strip().rstrip(".:;")
    if not first or first.endswith("?") or len(first.split()) > SUBJECT_LINE_WORDS or _NOT_A_LINE.search(first) \
            or _WEB_ADDRESS.search(first):
        return None
    return first


@dataclass
class Weights:
    # tuned on the development sets by benchmarks/tune_retrieval.py (2-fold cross-validated)
    dense: float = 1.0
    lexical: float = 0.35
    heading: float = 0.60
    qtype: float = 0.10
    topic: float = 0.15
    authority: float = 0.03
    subject: float = 0.3  # Settings.subject_weight (a passage naming the question's subject)

    def score(self, f: dict[str, float]) -> float:
        return (self.dense * f["dense"] + self.lexical * f["lexical"] + self.heading * f["heading"]
                + self.qtype * f["qtype"] + self.topic * f["topic"] + self.authority * f["authority"]
                + self.subject * f.get("subject", 0.0))


def diversify(ranked: list[Passage], k: int, max_per_doc: int) -> list[Passage]:
    """The first ``k`` passages of ``ranked``: the best chunk of each section, at most ``max_per_doc`` per document."""
    out: list[Passage] = []
    per_doc: dict[str, int] = {}
    sections: set[str] = set()
    for p in ranked:
        n = per_doc.get(p.chunk.doc_id, 0)
        if n >= max_per_doc or p.chunk.section_id in sections:
            continue
        sections.add(p.chunk.section_id)
        per_doc[p.chunk.doc_id] = n + 1
        out.append(p)
        if len(out) >= k:
            break
    return out


@cache
def _pool():
    """Threads that score the lexical side while the calling thread embeds the question and searches."""
    from concurrent.futures import ThreadPoolExecutor

    return ThreadPoolExecutor(4, thread_name_prefix="qa-bot-lexical")


TITLE_GRAM = 5  # the longest run of a title's words counted as a name it holds


def title_grams(store, scope: tuple[str, ...] | None) -> dict[tuple[str, ...], int]:
    """Of every run of up to ``TITLE_GRAM`` stemmed words of the indexed documents' titles (of the collections of
    ``scope``), the number of documents whose title holds it (a store that lists no titles: none)."""
    from collections import Counter

    titles = getattr(store, "titles", None)
    if titles is None:
        return {}
    grams: Counter[tuple[str, ...]] = Counter()
    for title in titles(list(scope) if scope is not None else None):
        stems = stem_words(_TOKEN.findall(title.lower()))
        grams.update({tuple(stems[i:j]) for i in range(len(stems))
                      for j in range(i + 1, min(i + TITLE_GRAM, len(stems)) + 1)})
    return dict(grams)


UNKNOWN_NAMES = "no indexed document mentions"  # how a confidence reason names the question's unknown words


def _with_subject(out: list[Passage], ranked: list[Passage], subject: Subject | None,
                  settings: Settings) -> list[Passage]:
    """``out`` and, when none of it names the question's subject, the best-ranked candidates naming it after it:
    the subject is searched first ("is tylenol safe during pregnancy?": pages on pregnancy outrank every passage
    naming acetaminophen; what the documents say of acetaminophen, or that they do not say it, is the answer).
    ``ranked`` is best first. Held to a drug (``shorthand.is_drug``): a subject word that is no name of a thing
    ("workup") may be what no passage is about. A subject that only some titles or headings name is not re-ranked by
    (``RANK_HEADED``): the ranking stays, and the composer holds the answer to these passages."""
    if subject is None or not subject.df or not subject.strong or not out or \
            not any(shorthand.is_drug(w) for w in subject.name.split()[-1:] + subject.alternatives[:1]):
        return out
    if any(subject.named_in(term_set(p.chunk.embed_text)) for p in out):
        return out
    have = {p.chunk.chunk_id for p in out}
    naming = [p for p in ranked if p.chunk.chunk_id not in have and subject.named_in(term_set(p.chunk.embed_text))]
    naming = diversify(naming, settings.retrieval.subject_passages, settings.retrieval.max_per_doc)
    if not naming:
        return out
    for p in naming:
        p.features["subject_added"] = 1.0
    return out + naming


def best_passages(passages: list[Passage], n: int = 3) -> list[Passage]:
    """The best ``n`` passages retrieved for the question itself (not those added around them): what the confidence
    reads, and what an abstention for low confidence says does not speak of the subject."""
    return [p for p in passages if not p.features.get("expanded")][:n]


class Retriever:
    def __init__(self, store: StoreReader, settings: Settings, weights: Weights | None = None):
        self.store = store
        self.settings = settings
        self.weights = weights or Weights(subject=settings.retrieval.subject_weight)
        self._lock = threading.Lock()
        self._vocab: tuple | None = None
        self._acronyms: dict[tuple | None, tuple] = {}
        self._scoped: dict[tuple, tuple] = {}  # scope → (lexical retriever, rows mask, vocabulary) of that scope
        self._pos: tuple[list[str], dict[str, int]] | None = None
        self._term_memo: dict = {}
        self._titles: dict = {}  # scope → (the lexical index read, ``title_grams``)

    def _positions(self, ids: list[str]) -> dict[str, int]:
        """Row of each chunk id in the lexical index, built once per index (not per question: at 250k chunks
        the dict cost tens of milliseconds)."""
        cached = self._pos
        if cached is not None and cached[0] is ids:
            return cached[1]
        pos = {cid: i for i, cid in enumerate(ids)}
        self._pos = (ids, pos)
        return pos

    def _embed_many(self, texts: list[str]) -> np.ndarray:
        """The question and its sub-questions: the question in a batch of its own (one batch pads every
        sub-question to the question's length; apart: 35 % less encoding time, the same vectors)."""
        from .embed import get_embedder

        embedder = get_embedder(self.settings.embedding_model, self.settings.torch_threads)
        if len(texts) < 2:
            return embedder.encode(texts)
        return np.vstack([embedder.encode(texts[:1]), embedder.encode(texts[1:])])

    def _where(self, settings: Settings) -> dict | None:
        """Chroma filter for the user's filters only: a metadata filter makes Chroma's search ~10x slower
        (119 ms vs 10 ms p50 here), so reader comments and page questions are dropped after the search."""
        conds: list[dict] = []
        if settings.retrieval.doc_types:
            conds.append({"doc_type": {"$in": list(settings.retrieval.doc_types)}})
        if settings.retrieval.collections:
            conds.append({"collection": {"$in": list(settings.retrieval.collections)}})
        if settings.retrieval.published_after:
            conds.append({"published_ord": {"$gte": published_ord(settings.retrieval.published_after)}})
        if not conds:
            return None
        return conds[0] if len(conds) == 1 else {"$and": conds}

    @staticmethod
    def _allowed(c: Chunk, settings: Settings) -> bool:
        if c.doc_type == "comment" or c.qtype == "question":
            return False
        if settings.retrieval.doc_types and c.doc_type not in settings.retrieval.doc_types:
            return False
        if settings.retrieval.collections and c.collection not in settings.retrieval.collections:
            return False
        if settings.retrieval.published_after and published_ord(c.published) < published_ord(settings.retrieval.published_after):
            return False
        return True

    def idf(self, terms: set[str], collections: Sequence[str] | None = None) -> dict[str, float]:
        """Inverse document frequency of stemmed terms over the lexical index, or over the chunks of
        ``collections`` (unknown terms: the highest)."""
        voc = self._vocabulary(_scope(collections))
        if voc is None:
            return {t: 1.0 for t in sorted(terms)}
        _, df, _, n = voc
        # in the terms' sorted order, not the set's: a set's order is its process's string hashing, and what is
        # read of this dict (a sum's rounding, a tie between equally rare words) must not vary between processes
        return {t: _idf(n, df.get(t, 0)) for t in sorted(terms)}

    def _in_scope(self, scope: tuple[str, ...]) -> tuple:
        """(lexical retriever, mask of its rows in ``scope``, the scope's vocabulary as ``_vocabulary``), rebuilt
        when the index is: what a question limited to some collections may learn of the index."""
        retriever, _ = self.store.lexical()
        cached = self._scoped.get(scope)
        if cached is None or cached[0] is not retriever:
            mask = self.store.lexical_rows_in(scope)
            indptr, indices = retriever.scores["indptr"], retriever.scores["indices"]
            run = np.concatenate([[0], np.cumsum(mask[indices], dtype=np.int64)])
            counts = run[indptr[1:]] - run[indptr[:-1]]
            df = {t: int(counts[i]) for t, i in retriever.vocab_dict.items()
                  if t and i + 1 < len(indptr) and counts[i]}
            cached = (retriever, mask, (retriever, df, sorted(t for t, d in df.items() if d >= 2), int(mask.sum())))
            if len(self._scoped) >= 32:
                self._scoped.clear()
            self._scoped[scope] = cached
        return cached

    def _vocabulary(self, scope: tuple[str, ...] | None = None) -> tuple | None:
        """(retriever, document frequency per stemmed term, terms in ≥ 2 chunks, number of chunks) of the
        lexical index (or of its chunks in the collections of ``scope``), rebuilt when the index is."""
        retriever, ids = self.store.lexical()
        if retriever is None:
            return None
        if scope is not None:
            return self._in_scope(scope)[2]
        cached = self._vocab
        if cached is None or cached[0] is not retriever:
            indptr = retriever.scores["indptr"]
            df = {t: int(indptr[i + 1] - indptr[i]) for t, i in retriever.vocab_dict.items()
                  if t and i + 1 < len(indptr)}
            cached = self._vocab = (retriever, df, sorted(t for t, d in df.items() if d >= 2), len(ids))
        return cached

    def chunk_frequency(self, phrase: str, scope: tuple[str, ...] | None = None) -> int:
        """Number of indexed chunks (in the collections of ``scope``) that contain every (stemmed) word of
        ``phrase``."""
        rows = self.rows_with(stem_words(_TOKEN.findall(phrase.lower())), every=True, scope=scope)
        return 0 if rows is None else len(rows)

    def rows_with(self, terms: list[str], every: bool = False,
                  scope: tuple[str, ...] | None = None) -> np.ndarray | None:
        """Rows of the lexical index holding any (``every``: all) of the stemmed ``terms``, in the collections of
        ``scope`` (None: all); None without an index or terms."""
        retriever, _ = self.store.lexical()
        if retriever is None or not terms:
            return None
        vocab, indptr, indices = retriever.vocab_dict, retriever.scores["indptr"], retriever.scores["indices"]
        found = None
        for term in terms:
            i = vocab.get(term)
            rows = indices[indptr[i]:indptr[i + 1]] if i is not None and i + 1 < len(indptr) else indices[:0]
            if found is None:
                found = rows
            elif every:
                found = np.intersect1d(found, rows, assume_unique=True)
            else:
                found = np.union1d(found, rows)
        if found is not None and scope is not None:
            found = found[self._in_scope(scope)[1][found]]
        return found

    def chunks_with(self, terms: list[str], collections: Sequence[str] | None = None, limit: int = 100,
                    query: str | None = None) -> list[Chunk]:
        """Up to ``limit`` indexed chunks holding every one of the stemmed ``terms`` (in the collections a question
        may see), those ``query`` scores best first (BM25): what the whole index says of a subject, beyond what was
        retrieved."""
        rows = self.rows_with(terms, every=True, scope=_scope(collections))
        if rows is None or not len(rows):
            return []
        if query and len(rows) > limit:
            scores, _ = self.lexical_scores(query)
            if scores is not None:
                rows = rows[np.argsort(-scores[rows], kind="stable")]
        _, ids = self.store.lexical()
        got = self.store.get_chunks([ids[i] for i in rows[:limit]])
        return [got[ids[i]] for i in rows[:limit] if ids[i] in got]

    def subject_vocabulary(self, scope: tuple[str, ...] | None = None) -> Vocabulary | None:
        """The index's vocabulary (of the collections of ``scope``) as the subject finder reads it
        (``qa_bot.subject``): what a question limited to some collections may learn of the index."""
        voc = self._vocabulary(scope)
        if voc is None:
            return None
        _, df, common, n = voc
        return Vocabulary(df=df, n=n, nearest=lambda t: _near_term(t, common),
                          spellings=lambda t: _spellings(t, common) or [c for c in [_clipped(t, common, df)] if c],
                          phrase_count=lambda phrase: self.phrase_count(phrase, scope=scope),
                          phrase_share=lambda phrase: self.phrase_share(phrase, scope=scope),
                          headed=lambda term: self.headed(term, scope=scope),
                          phrase_headed=lambda phrase: self.phrase_headed(phrase, scope=scope),
                          qualifier=lambda phrase: self.qualifier_share(phrase, scope=scope),
                          titled=lambda phrase: self.titled(phrase, scope=scope),
                          together=lambda a, b: self._memo("together", (*sorted((a, b)), scope), lambda: len(
                              self.rows_with([a, b], every=True, scope=scope))))

    def titled(self, phrase: str, scope: tuple[str, ...] | None = None) -> int:
        """The indexed documents (in the collections of ``scope``) whose title holds ``phrase``'s words in its
        order, stemmed ("Heart Attack", "Elbow Injuries and Disorders" for "elbow injury"): a name documents are
        about."""
        # (read once per index version, apart from the term memo: that one is emptied when it grows)
        retriever, _ = self.store.lexical()
        cached = self._titles.get(scope)
        if cached is None or cached[0] is not retriever:
            cached = self._titles[scope] = (retriever, title_grams(self.store, scope))
        return cached[1].get(tuple(stem_words(_TOKEN.findall(phrase.lower()))), 0)

    def _memo(self, kind: str, key, compute):
        """``compute()`` once per index version (the lexical index object) and key: the subject finder asks the same
        few terms again and again."""
        retriever, _ = self.store.lexical()
        memo = self._term_memo
        if memo.get("__index__") is not retriever:
            memo.clear()
            memo["__index__"] = retriever
        k = (kind, key)
        if k not in memo:
            if len(memo) > 50_000:
                memo.clear()
                memo["__index__"] = retriever
            memo[k] = compute()
        return memo[k]

    def headed(self, term: str, sample: int = 40, scope: tuple[str, ...] | None = None) -> float:
        """Share of (a sample of) the chunks holding the stemmed ``term`` (in ``scope``) whose title or headings
        hold it."""
        return self._memo("headed", (term, scope), lambda: self._headed(term, sample, scope))

    def _headed(self, term: str, sample: int, scope: tuple[str, ...] | None) -> float:
        rows = self.rows_with([term], scope=scope)
        if rows is None or not len(rows):
            return 0.0
        _, ids = self.store.lexical()
        step = max(1, len(rows) // sample)  # spread over the index, not its first documents
        chunks = self.store.get_chunks([ids[i] for i in rows[::step][:sample]])
        if not chunks:
            return 0.0
        return sum(1 for c in chunks.values() if headed_by(c, term)) / len(chunks)

    def phrase_headed(self, phrase: str, sample: int = 40, scope: tuple[str, ...] | None = None) -> float:
        """Share of the chunks of ``phrase_count`` that hold ``phrase`` as written whose title or headings hold it
        too: how much documents are about the phrase as one name."""
        count, _, headed = self._phrase_stats(phrase, sample, scope)
        return headed / count if count else 0.0

    def qualifier_share(self, phrase: str, sample: int = 40, scope: tuple[str, ...] | None = None) -> float:
        """Of the distinct titles and headings (of ``sample`` chunks spread over those holding every word of
        ``phrase``) that hold it as written, the share that write it before "for"/"of" and another name, within two
        words ("Conservative care options for …", "Management of …"): a section word, not a subject. 0 with fewer
        than two such titles and headings."""
        return self._memo("qualifier", (phrase.lower(), sample, scope),
                          lambda: self._read_qualifier(phrase, sample, scope))

    def _read_qualifier(self, phrase: str, sample: int, scope: tuple[str, ...] | None) -> float:
        pat, chunks = self._phrase_sample(phrase, sample, scope, spread=True)  # over the index, not its first documents
        qualifies = re.compile(pat.pattern + r"(?:[\s-]+[A-Za-z]+){0,2}\s+(?:for|of)\s+\w", re.I)
        lines = {h for c in chunks for h in (c.title or "", *c.heading_path) if pat.search(h)}
        return sum(1 for h in lines if qualifies.search(h)) / len(lines) if len(lines) >= 2 else 0.0

    def _phrase_sample(self, phrase: str, sample: int, scope: tuple[str, ...] | None,
                       spread: bool = False) -> tuple[re.Pattern[str], list[Chunk]]:
        """The phrase as written (a pattern) and ``sample`` chunks (in ``scope``) holding its every word: the first
        ones, or (``spread``) picked evenly over all of them."""
        words = _TOKEN.findall(phrase.lower())
        pat = _phrase_pattern(words)
        rows = self.rows_with(stem_words(words), every=True, scope=scope)
        if rows is None or not len(rows):
            return pat, []
        _, ids = self.store.lexical()
        picked = rows[::max(1, len(rows) // sample)][:sample] if spread else rows[:sample]
        return pat, list(self.store.get_chunks([ids[i] for i in picked]).values())

    def phrase_count(self, phrase: str, sample: int = 40, scope: tuple[str, ...] | None = None) -> int:
        """Chunks (in ``scope``), among ``sample`` of those holding every word of ``phrase``, whose text holds the
        phrase as written (case, hyphens and spaces aside)."""
        return self._phrase_stats(phrase, sample, scope)[0]

    def phrase_share(self, phrase: str, sample: int = 40, scope: tuple[str, ...] | None = None) -> float:
        """Share of the ``sample`` chunks of ``phrase_count`` (those holding every word) that hold it as written:
        how much the index uses the words as one phrase rather than apart."""
        count, seen, _ = self._phrase_stats(phrase, sample, scope)
        return count / seen if seen else 0.0

    def _phrase_stats(self, phrase: str, sample: int, scope: tuple[str, ...] | None) -> tuple[int, int, int]:
        """(chunks holding the phrase, chunks read, of those holding it the ones whose title or headings do), of
        ``sample`` chunks holding its every word; read once per index version."""
        return self._memo("phrase", (phrase.lower(), sample, scope), lambda: self._read_phrase(phrase, sample, scope))

    def _read_phrase(self, phrase: str, sample: int, scope: tuple[str, ...] | None) -> tuple[int, int, int]:
        pat, chunks = self._phrase_sample(phrase, sample, scope)
        holding = [c for c in chunks if pat.search(c.embed_text)]
        return len(holding), len(chunks), sum(1 for c in holding if pat.search(c.context or ""))

    def subject_of(self, question: str, scope: tuple[str, ...] | None = None, light: bool = False) -> Subject | None:
        """The question's subject, with the other names the indexed text gives it (``qa_bot.subject``), learnt from
        the collections of ``scope`` only. ``light``: from the vocabulary alone (no chunk is read)."""
        vocab = self.subject_vocabulary(scope)
        if vocab is None:
            return None
        if light:
            vocab = Vocabulary(df=vocab.df, n=vocab.n, nearest=vocab.nearest, spellings=vocab.spellings)
        subj = find_subject(question, vocab)
        if subj is None:
            return None
        subj = spelled_out(subj, question, vocab)
        if light or not subj.df or subj.df > self.settings.retrieval.subject_alias_max_df:
            return subj
        _, ids = self.store.lexical()
        rows = self.rows_with([subj.term], scope=scope)
        if rows is None or not len(rows):
            return subj
        # (keyed by what the question made of the subject too: whether it is held differs between questions naming
        # the same word, "the dose of ibuprofen" and "take ibuprofen if …")
        found = self._memo("alternatives", (subj.term, subj.name.lower(), subj.strong, scope), lambda: alternatives(
            subj, (c.text for c in self.store.get_chunks([ids[i] for i in rows[: self.settings.retrieval.subject_alias_max_df]])
                   .values()), vocab))
        return subj.model_copy(update={"alternatives": [*subj.alternatives, *(a for a in found.alternatives
                                                                              if a not in subj.alternatives)],
                                       "alt_terms": [*subj.alt_terms, *(t for t in found.alt_terms
                                                                        if t not in subj.alt_terms)],
                                       "strong": found.strong})

    def names_subject(self, question: str, settings: Settings | None = None) -> bool:
        """Whether ``question`` names a subject the indexed documents (of the collections it may see) are about and
        the answer would be held to (``Subject.strong``): a question of its own, not a follow-up."""
        settings = settings or self.settings
        subj = self.subject_of(question, _scope(settings.retrieval.collections))
        return subj is not None and bool(subj.df) and subj.strong

    def search_query(self, query: str, settings: Settings | None = None) -> tuple[str, dict[str, str]]:
        """What is searched for ``query``: its acronyms' long forms added (``qa_bot.acronyms``), and those."""
        settings = settings or self.settings
        scope = _scope(settings.retrieval.collections)
        found: dict[str, str] = {}
        if settings.retrieval.expand_shorthand:
            exp = shorthand.expand(query, acronyms=settings.retrieval.expand_acronyms,
                                   skip=lambda short, long: self.mostly_short(short, long, scope))
            query, found = exp.text, dict(exp.found)
        if settings.retrieval.expand_acronyms:  # the corpus's own definitions, for what the clinical lexicon does not know
            table = {k: v for k, v in self.usable_acronyms(scope).items() if k not in shorthand.ACRONYMS}
            query, more = acronyms.expand(query, table)
            found.update(more)
        return query, found

    def mostly_short(self, short: str, long: str, scope: tuple[str, ...] | None = None) -> bool:
        """Whether the indexed documents use ``short`` in more chunks than 1.5x its long form (COPD, HIV, TIA):
        then its long form is not searched (it would pull the ranking toward the few pages that spell it out)."""
        return self._memo("short", (short, long, scope), lambda: self.chunk_frequency(short, scope) >
                          1.5 * max(self.chunk_frequency(long, scope), 1))

    def usable_acronyms(self, scope: tuple[str, ...] | None = None) -> dict[str, str]:
        """The corpus's acronym table without the acronyms that are the corpus's usual name for the thing
        (used in more chunks than 1.5× its long form: COPD, DNA, HIV, MRI): expanding those only pulls the
        ranking toward the few documents that spell the name out. With a ``scope``, only the acronyms that a
        chunk of those collections holds with their long form (what another collection defines stays unseen)."""
        table = self.store.acronyms()
        index, _ = self.store.lexical()  # (a new version may carry the table over: the counts are the index's)
        cached = self._acronyms.get(scope)
        if cached is None or cached[0] is not table or cached[2] is not index:
            keep = {}
            for short, long in table.items():
                if scope is not None and not self.chunk_frequency(f"{short} {long}", scope):
                    continue
                if not self.mostly_short(short, long, scope):
                    keep[short] = long
            cached = self._acronyms[scope] = (table, keep, index)
        return cached[1]

    def unknown_subject(self, question: str, scope: tuple[str, ...] | None = None) -> tuple[float, list[str]]:
        """The share of the question's topic weight (idf) carried by words that no indexed chunk contains, and
        those words. A word within one edit (two for words of 9+ letters) of a word in at least two chunks that
        starts with the same letter is taken as a misspelling of it ('diabetis', 'arrhthmia') and counts as known; doses ('20mg') are not topic."""
        from bm25s.stopwords import STOPWORDS_EN

        voc = self._vocabulary(scope)
        if voc is None:
            return 0.0, []
        _, df, common, n = voc
        words = [w for w in _TOKEN.findall((question or "").lower())
                 if len(w) > 2 and not w[0].isdigit() and w not in STOP and w not in GENERIC and w not in STOPWORDS_EN]
        weight: dict[str, float] = {}
        unknown: dict[str, str] = {}
        for word, term in zip(words, stem_words(words)):
            if term in weight:
                continue
            d = df.get(term, 0)
            if d == 0:
                d = _near_df(term, common, df) or self._generic_df(word, df)
                if d == 0:
                    unknown[term] = word
            weight[term] = _idf(n, d)
        total = math.fsum(weight.values())
        share = math.fsum(weight[t] for t in unknown) / total if total else 0.0
        return share, list(unknown.values())

    @staticmethod
    def _generic_df(word: str, df: dict[str, int]) -> int:
        """How many chunks hold the generic name of the drug whose brand ``word`` is ("valtrex": valacyclovir's);
        0 when it is none or the documents do not name it."""
        generic = shorthand.generic_name(word)
        if not generic:
            return 0
        return min((df.get(t, 0) for t in stem_words(generic.split())), default=0)

    def confidence(self, question: str, passages: list[Passage], settings: Settings | None = None,
                   subject: Subject | None = None) -> tuple[float, str]:
        """How well the best passages cover the question (0..1) and why: their similarity, and how much of
        the question's topic — weighted by rarity, so the drug or disease name counts most — they contain (the
        ``subject`` by any of its names: a passage on fluoxetine covers "Prozac").
        0 when the question's subject is not in the index at all (``unknown_subject``)."""
        settings = settings or self.settings
        if not passages:
            return 0.0, "nothing was retrieved"
        scope = _scope(settings.retrieval.collections)  # "no indexed document" means none the question may see
        share, unknown = self.unknown_subject(question, scope)
        named = [w for w in unknown if looks_like_name(w, question)] if settings.answer.unknown_subject_share < 1 else []
        if named:  # a drug or device no document mentions: passages about other drugs are not its answer
            return 0.0, f"{UNKNOWN_NAMES} {', '.join(repr(w) for w in named[:3])}"
        if unknown and share >= settings.answer.unknown_subject_share:
            return 0.0, (f"{UNKNOWN_NAMES} {', '.join(repr(w) for w in unknown[:3])} "
                         f"({share:.0%} of the question's topic weight)")
        top = best_passages(passages)
        q_topic = topic_terms(question)
        covered: set[str] = set()
        for p in top:
            covered |= term_set(p.chunk.embed_text)
        if subject is not None and subject.df and subject.named_in(covered):
            covered |= {subject.term, *subject.alt_terms, *subject.words}
        weights = self.idf(q_topic, settings.retrieval.collections)
        total = math.fsum(weights.values())
        coverage = math.fsum(w for t, w in weights.items() if t in covered) / total if total else 1.0
        dense = max((p.dense_score or 0.0) for p in top)
        focus = max(weights, key=weights.get) if weights else None  # the rarest topic word: usually the entity
        focus_ok = 1.0 if focus is None or focus in covered else 0.0
        score = 0.4 * dense + 0.3 * coverage + 0.3 * focus_ok
        missing = sorted(q_topic - covered, key=lambda t: (-weights[t], t))
        reason = (f"the best passages do not mention {', '.join(missing[:3])}" if missing
                  else f"best passage similarity {dense:.2f}")
        return score, reason

    def _lexical_pinned(self, query: str, snap) -> tuple[np.ndarray | None, list[str]]:
        with self.store.pinned(snap):
            return self.lexical_scores(query)

    def lexical_scores(self, query: str) -> tuple[np.ndarray | None, list[str]]:
        retriever, ids = self.store.lexical()
        if retriever is None:
            return None, ids
        tokens = tokenize([query], self.store._stemmer())[0]
        if not tokens:
            return np.zeros(len(ids), dtype=np.float32), ids
        return retriever.get_scores(tokens), ids

    def retrieve(self, query: str, settings: Settings | None = None) -> RetrievalResult:
        settings = settings or self.settings
        timings: dict[str, float] = {}
        search, expansions = self.search_query(query, settings)
        ctx: dict = {}
        t = time.perf_counter()
        # a message of several sentences (a consumer's story, several questions): its rarest word is often a detail
        # or a typo; the subject is not held (an unindexed name still is), ranking is left alone and the index is
        # not read for it (no headings, phrases or other names: in server mode each is a round trip)
        several = bool(question_segments(search))
        subject = self.subject_of(search, _scope(settings.retrieval.collections), light=several) \
            if settings.retrieval.subject_first else None
        if subject is not None and subject.df and several:
            subject = subject.model_copy(update={"strong": False})
        line = subject_line(search) if several and settings.retrieval.subject_first else None
        if line:  # a message under a subject line ("Prednisone. My husband has been on …"): what the line names
            titled = self.subject_of(line, _scope(settings.retrieval.collections))
            if titled is not None and titled.df and titled.strong:
                subject = titled
        # its other names in the documents are searched too (not for a message of several sentences, as above: a
        # closed spelling of a detail's compound, "C-pap" -> "cpap", would outweigh what the message is about)
        added = [a for a in (subject.alternatives if subject is not None and not several else [])
                 if a not in search.lower()]
        if added:
            search = f"{search} ({', '.join(added)})"
            expansions[subject.name] = ", ".join(subject.alternatives)
        timings["subject"] = (time.perf_counter() - t) * 1000
        ctx["subject"] = subject
        passages = self.candidates(search, settings, timings, ctx)
        t = time.perf_counter()
        passages.sort(key=lambda p: -p.score)
        out = diversify(passages, settings.retrieval.top_k, settings.retrieval.max_per_doc)
        out = _with_subject(out, passages, subject, settings)

        # the answer may draw on more sections of the best documents: appended after the ranked top-k
        chosen = {p.chunk.chunk_id for p in out}
        top_docs = [p.chunk.doc_id for p in out[:2]]
        extra = diversify([p for p in passages if p.chunk.doc_id in top_docs and p.chunk.chunk_id not in chosen
                           and p.chunk.section_id not in {q.chunk.section_id for q in out}],
                          settings.retrieval.expand_sections, settings.retrieval.expand_sections)
        for p in extra:
            p.features["expanded"] = 1.0
        out += extra
        # the answer may quote any section of the best guideline: its other chunks, scored like candidates
        # (the two best guidelines: the composer leads with the newer of two versions of one guidance)
        leads = list(dict.fromkeys(p.chunk.doc_id for p in out[:5] if p.chunk.doc_type == "guideline"))[:2]
        by_doc, vectors = self.store.docs_chunks_and_vectors(leads) if leads and settings.retrieval.lead_doc_chunks \
            else ({}, {})
        for doc_id in leads if settings.retrieval.lead_doc_chunks else []:
            have = {p.chunk.chunk_id for p in out}
            pooled = {p.chunk.chunk_id: p for p in passages if p.chunk.doc_id == doc_id}
            rest = [c for c in by_doc.get(doc_id, []) if c.chunk_id not in have
                    and c.chunk_id not in pooled and self._allowed(c, settings)]
            more = [p for cid, p in pooled.items() if cid not in have] + self.score_chunks(rest, ctx, settings,
                                                                                            vectors)
            more.sort(key=lambda p: -p.score)
            for p in more[:settings.retrieval.lead_doc_chunks]:
                p.features["expanded"] = 1.0
                p.features["lead_doc"] = 1.0
                out.append(p)
        conf, reason = self.confidence(search, out, settings, subject)
        timings["rerank"] += (time.perf_counter() - t) * 1000
        return RetrievalResult(query=query, passages=out, timings_ms=timings, confidence=conf,
                               confidence_reason=reason, search_query=search, expansions=expansions,
                               subject=subject)

    def candidates(self, query: str, settings: Settings, timings: dict[str, float],
                   ctx: dict | None = None) -> list[Passage]:
        """Every candidate of the dense and lexical pools, with its features and weighted score (unsorted).
        ``ctx`` (a dict) receives what scoring more chunks of the same query needs (``score_chunks``)."""
        t = time.perf_counter()
        n = settings.retrieval.candidates
        # the lexical scores are computed on another thread meanwhile (numpy and torch release the GIL: the
        # ~10-60 ms of scoring overlap the embedding and the dense search), on this answer's version
        lexical_job = _pool().submit(self._lexical_pinned, query, self.store.snapshot())
        # dense ---------------------------------------------------------------------------------------
        have_vectors = self.store.vector_count() > 0
        segs = question_segments(query) if settings.retrieval.segment_weight > 0 else []
        qvec = seg_vecs = None
        if have_vectors:
            vecs = self._embed_many([query, *segs])
            qvec, seg_vecs = vecs[0], vecs[1:]
        timings["embed"] = (time.perf_counter() - t) * 1000
        t = time.perf_counter()
        dense: list[tuple[str, float]] = []
        seg_pool: list[str] = []
        if qvec is not None:  # the question and each sub-question (its n/2 nearest chunks) in one search
            found = self.store.dense_search_many([qvec.tolist(), *(sv.tolist() for sv in seg_vecs)], n,
                                                 self._where(settings))
            dense = found[0]
            for hits in found[1:]:
                seg_pool += [cid for cid, _ in hits[: n // 2]]
        timings["dense"] = (time.perf_counter() - t) * 1000
        # lexical -------------------------------------------------------------------------------------
        t = time.perf_counter()
        scores, ids = lexical_job.result()  # (its time here: the wait beyond the dense side)
        lexical: list[tuple[str, float]] = []
        lex_of: dict[str, float] = {}
        max_lex = 1.0
        subject = (ctx or {}).get("subject")
        subject_ids: list[str] = []
        if scores is not None and len(ids):
            top = top_rows(scores, ids, n * 3)
            lexical = [(ids[i], float(scores[i])) for i in top]
            max_lex = float(scores[top[0]]) if len(top) else 1.0
            pos = self._positions(ids)
            if subject is not None and subject.df and subject.strong:  # searched first: its best chunks are candidates
                rows = self.rows_with(sorted(subject.terms), scope=_scope(settings.retrieval.collections))
                if rows is not None and len(rows):
                    best = rows[np.argsort(-scores[rows], kind="stable")[: settings.retrieval.subject_pool]]
                    subject_ids = [ids[i] for i in best]
        timings["lexical"] = (time.perf_counter() - t) * 1000
        # candidates with both scores -------------------------------------------------------------------
        t = time.perf_counter()
        if settings.retrieval.lead_doc_chunks and lexical:  # the likely lead guidelines, read meanwhile (server mode)
            top = [cid for pair in zip(dense[:10], lexical[:10]) for cid, _ in pair]
            self.store.prefetch_lead_documents([pos[cid] for cid in dict.fromkeys(top) if cid in pos])
        dense_of = dict(dense)
        lex_ids = [cid for cid, _ in lexical]
        chunks: dict[str, Chunk] = {}
        vectors: dict[str, np.ndarray] = {}
        lex_pool: list[str] = []
        # the lexical pool's first n (its next ones only when filters or hidden chunks leave fewer than n)
        for want in (list(dict.fromkeys([cid for cid, _ in dense] + seg_pool + lex_ids[:n] + subject_ids)),
                     lex_ids[n:]):
            want = [cid for cid in want if cid not in chunks]
            if not want or (chunks and len(lex_pool) >= n):
                continue
            got, vecs = self.store.chunks_and_vectors(
                want, [cid for cid in want if cid not in dense_of or segs] if qvec is not None else [])
            chunks.update((k, v) for k, v in got.items() if self._allowed(v, settings))
            vectors.update(vecs)
            lex_pool = [cid for cid in lex_ids if cid in chunks][:n]
        cand_ids = list(dict.fromkeys([cid for cid, _ in dense if cid in chunks]
                                      + [cid for cid in seg_pool if cid in chunks] + lex_pool
                                      + [cid for cid in subject_ids if cid in chunks]))
        missing = [cid for cid in cand_ids if cid not in dense_of or segs]
        dense_of.update(self._cosines({cid: vectors[cid] for cid in missing if cid in vectors}, qvec, seg_vecs,
                                      settings))
        if scores is not None and len(ids):
            for cid in cand_ids:
                i = pos.get(cid)
                lex_of[cid] = float(scores[i]) / max_lex if i is not None else 0.0
        dense_rank = {cid: r for r, (cid, _) in enumerate(dense)}
        lex_rank = {cid: r for r, (cid, _) in enumerate(lexical)}
        timings["fetch"] = (time.perf_counter() - t) * 1000
        if ctx is not None:
            ctx.update(query=query, qvec=qvec, seg_vecs=seg_vecs, scores=scores, max_lex=max_lex,
                       pos=pos if scores is not None and len(ids) else {})
        # re-rank -------------------------------------------------------------------------------------
        t = time.perf_counter()
        passages = self._featured([chunks[cid] for cid in cand_ids], query, dense_of, lex_of, dense_rank, lex_rank,
                                  settings, subject)
        timings["rerank"] = (time.perf_counter() - t) * 1000
        return passages

    @staticmethod
    def _cosines(vectors: dict[str, np.ndarray], qvec, seg_vecs, settings: Settings) -> dict[str, float]:
        out: dict[str, float] = {}
        if qvec is None:
            return out
        a = settings.retrieval.segment_weight
        for cid, vec in vectors.items():
            full = float(np.dot(vec, qvec))
            if seg_vecs is not None and len(seg_vecs):  # the best-matching sub-question counts too
                full = (1 - a) * full + a * max(full, float(np.max(seg_vecs @ vec)))
            out[cid] = full
        return out

    def score_chunks(self, chunks: list[Chunk], ctx: dict, settings: Settings,
                     vectors: dict[str, np.ndarray] | None = None) -> list[Passage]:
        """Chunks outside the candidate pools (the lead document's other sections) scored like candidates
        (``vectors``: theirs when the caller has them already)."""
        if not chunks or not ctx:
            return []
        ids = [c.chunk_id for c in chunks]
        vectors = dict(vectors or {})
        need = [cid for cid in ids if cid not in vectors] if ctx["qvec"] is not None else []
        if need:
            vectors.update(self.store.chunks_and_vectors([], need)[1])
        dense_of = self._cosines({cid: vectors[cid] for cid in ids if cid in vectors}, ctx["qvec"], ctx["seg_vecs"],
                                 settings)
        lex_of = {}
        if ctx["scores"] is not None:
            for cid in ids:
                i = ctx["pos"].get(cid)
                lex_of[cid] = float(ctx["scores"][i]) / ctx["max_lex"] if i is not None else 0.0
        return self._featured(chunks, ctx["query"], dense_of, lex_of, {}, {}, settings, ctx.get("subject"))

    def _featured(self, chunks: list[Chunk], query: str, dense_of: dict[str, float], lex_of: dict[str, float],
                  dense_rank: dict[str, int], lex_rank: dict[str, int], settings: Settings,
                  subject: Subject | None = None) -> list[Passage]:
        w = self.weights
        q_types = question_types(query)
        q_terms = set(content_terms(query))
        q_topic = topic_terms(query)
        passages: list[Passage] = []
        for c in chunks:
            cid = c.chunk_id
            # what the passage says it is about: its heading, or (unheaded passages) its first sentence
            heading = c.heading_path[-1] if c.heading_path and c.heading_path[-1] != c.title else ""
            if not heading:
                heading = re.split(r"(?<=[.?!])\s", c.text.strip(), maxsplit=1)[0][:200]
            h_terms = term_set(heading + " " + (c.title or ""))
            heading_match = len(q_terms & h_terms) / len(q_terms) if q_terms else 0.0
            topic_match = len(q_topic & term_set(c.embed_text)) / len(q_topic) if q_topic else 0.0
            c_types = {c.qtype} if c.qtype and c.qtype != "question" else question_types(heading)
            qtype_match = 1.0 if q_types and c_types & q_types else 0.0
            authority = {"guideline": 1.0, "expert_answer": 0.5}.get(c.doc_type, 0.0)
            if settings.answer.audience == "patient":
                authority = 1.0 - authority
            feats = {"dense": dense_of.get(cid, 0.0), "lexical": lex_of.get(cid, 0.0), "heading": heading_match,
                     "qtype": qtype_match, "topic": topic_match, "authority": authority}
            if subject is not None and subject.df and subject.strong and subject.headed >= RANK_HEADED:
                # documents are about it (a name that lists mention in passing pulls those lists up)
                feats["subject"] = 1.0 if subject.named_in(term_set(c.embed_text)) else 0.0
            passages.append(Passage(chunk=c, score=w.score(feats), dense_score=feats["dense"],
                                    lexical_score=feats["lexical"], dense_rank=dense_rank.get(cid),
                                    lexical_rank=lex_rank.get(cid), heading_match=heading_match, features=feats))
        return passages


_RETRIEVERS: dict[tuple, Retriever] = {}
_LOCK = threading.Lock()


def get_retriever(settings: Settings) -> Retriever:
    key = (str(settings.data_dir), settings.chroma_url, settings.collection_name, settings.embedding_model)
    with _LOCK:
        r = _RETRIEVERS.get(key)
        if r is None:
            r = _RETRIEVERS[key] = Retriever(require_index(settings), settings)
        return r


# --- baselines (for the evals) ----------------------------------------------------------------------
def baseline_bm25(query: str, k: int, settings: Settings) -> list[Passage]:
    """BM25 alone over the same chunks."""
    store = require_index(settings)
    hits = store.lexical_search(query, k)
    chunks = store.get_chunks([cid for cid, _ in hits])
    return [Passage(chunk=chunks[cid], score=s, lexical_score=s, lexical_rank=i)
            for i, (cid, s) in enumerate(hits) if cid in chunks]


def baseline_dense(query: str, k: int, settings: Settings) -> list[Passage]:
    """A plain dense top-k through langchain-chroma (similarity_search_with_score)."""
    store = require_index(settings)
    docs = store.vectorstore.similarity_search_with_score(query, k=k)
    ids = [d.id for d, _ in docs]
    chunks = store.get_chunks([i for i in ids if i])
    return [Passage(chunk=chunks[d.id], score=1.0 - float(dist), dense_score=1.0 - float(dist), dense_rank=i)
            for i, (d, dist) in enumerate(docs) if d.id in chunks]
