"""The updatable BM25 index of server mode (qa_bot.lexical): bm25s's scores, updates equal to a rebuild."""

from __future__ import annotations

import random

import bm25s
import numpy as np
import pytest
import Stemmer

from qa_bot.lexical import UpdatableBM25, tokenize, top_rows

WORDS = ("screening adults aged years lung cancer annual low dose computed tomography smoking history pack "
         "quit within past recommendation grade hepatitis pregnant women first prenatal visit metformin renal "
         "dose egfr contraindicated insulin gestational diabetes weeks gestation aspirin prevention bleeding "
         "risk statin cholesterol ldl hypertension blood pressure mmhg").split()


def corpus(n_docs: int, seed: int = 0) -> list[tuple[str, str, str]]:
    """(chunk id, document, text) rows: documents of 1–4 chunks of random clinical words."""
    rng = random.Random(seed)
    rows = []
    for d in range(n_docs):
        for c in range(rng.randint(1, 4)):
            text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 40)))
            rows.append((f"doc{d:03d}::{c}", f"doc{d:03d}", text))
    return rows


@pytest.fixture(scope="module")
def stemmer():
    return Stemmer.Stemmer("english")


def build(rows, stemmer) -> UpdatableBM25:
    tokens = tokenize([r[2] for r in rows], stemmer)
    return UpdatableBM25.build((cid, doc, tk) for (cid, doc, _), tk in zip(rows, tokens))


def by_id(index: UpdatableBM25, scores: np.ndarray) -> dict[str, float]:
    return {cid: float(s) for cid, s in zip(index.ids, scores)}


QUERIES = ["lung cancer screening low dose ct", "metformin renal dose", "hepatitis pregnant first visit",
           "aspirin aspirin bleeding", "zebra"]


def test_scores_are_bm25s_lucene_scores(stemmer):
    rows = corpus(60)
    ours = build(rows, stemmer)
    theirs = bm25s.BM25()
    theirs.index(bm25s.tokenize([r[2] for r in rows], stopwords="en", stemmer=stemmer, show_progress=False),
                 show_progress=False)
    for q in QUERIES:
        tokens = tokenize([q], stemmer)[0]
        expected = theirs.get_scores(tokens) if any(t in theirs.vocab_dict for t in tokens) else np.zeros(len(rows))
        assert np.allclose(ours.get_scores(tokens), expected, atol=1e-5), q
    # what retrieval reads of a bm25s index: document frequencies from indptr, rows from indices
    term = tokenize(["screening"], stemmer)[0][0]
    c = ours.vocab_dict[term]
    rows_with = set(ours.indices[ours.indptr[c]:ours.indptr[c + 1]].tolist())
    assert rows_with == {i for i, tk in enumerate(tokenize([r[2] for r in rows], stemmer)) if term in tk}


def test_an_updated_index_scores_every_chunk_like_one_built_from_scratch(stemmer):
    """Versions followed one by one (documents changed, removed, added) end where a fresh build of the last
    version's chunks starts: the same rows and exactly the same scores (N, df and the average length are
    recomputed from the current rows, not carried over)."""
    v1 = corpus(50, seed=1)
    changed = corpus(50, seed=2)  # the same ids, other texts
    index = build(v1, stemmer)
    current = {r[0]: r for r in v1}
    rng = random.Random(3)
    docs = sorted({r[1] for r in v1})
    for step in range(4):
        touched = set(rng.sample(docs, 8))
        for cid in [c for c, r in current.items() if r[1] in touched]:
            del current[cid]
        new_rows = [r for r in changed if r[1] in touched and rng.random() < 0.7]  # some documents removed
        new_rows += [(f"new{step}-{i}::0", f"new{step}-{i}", f"statin ldl cholesterol step {step}") for i in range(3)]
        touched |= {r[1] for r in new_rows}
        current.update({r[0]: r for r in new_rows})
        tokens = tokenize([r[2] for r in new_rows], stemmer)
        index = index.updated(touched, [(cid, doc, tk) for (cid, doc, _), tk in zip(new_rows, tokens)])
    fresh = build(sorted(current.values()), stemmer)
    assert sorted(index.ids) == fresh.ids and len(set(index.ids)) == len(index.ids)
    assert index.ids != fresh.ids  # rows in another order ...
    for q in QUERIES + ["statin ldl step 3"]:
        tokens = tokenize([q], stemmer)[0]
        a, b = index.get_scores(tokens), fresh.get_scores(tokens)
        assert by_id(index, a) == by_id(fresh, b), q  # ... exactly the same score for every chunk
        assert [index.ids[i] for i in top_rows(a, index.ids, 10)] == [fresh.ids[i] for i in top_rows(b, fresh.ids, 10)]
    # the document frequencies retrieval reads agree too (terms only in removed chunks have none left)
    df = {t: int(index.indptr[c + 1] - index.indptr[c]) for t, c in index.vocab_dict.items()}
    df_fresh = {t: int(fresh.indptr[c + 1] - fresh.indptr[c]) for t, c in fresh.vocab_dict.items()}
    assert {t: d for t, d in df.items() if d} == df_fresh


def test_a_build_from_bm25s_token_ids_equals_one_from_tokens(stemmer):
    rows = corpus(40, seed=5)
    by_tokens = build(rows, stemmer)
    ids = bm25s.tokenize([r[2] for r in rows], stopwords="en", stemmer=stemmer, return_ids=True, show_progress=False)
    by_ids = UpdatableBM25.from_token_ids([(r[0], r[1]) for r in rows], ids.ids, ids.vocab)
    assert by_ids.ids == by_tokens.ids and set(by_ids.vocab_dict) == set(by_tokens.vocab_dict)
    for q in QUERIES:
        tokens = tokenize([q], stemmer)[0]
        assert np.array_equal(by_ids.get_scores(tokens), by_tokens.get_scores(tokens)), q
    # and it updates like any other
    more = by_ids.updated({rows[0][1]}, [("x::0", "x", ["lung", "cancer"])])
    assert rows[0][0] not in more.ids and more.ids[-1] == "x::0"


def test_removing_every_document_and_an_empty_index(stemmer):
    rows = corpus(5)
    index = build(rows, stemmer)
    empty = index.updated({r[1] for r in rows}, [])
    assert len(empty) == 0 and empty.get_scores(["lung"]).shape == (0,)
    assert top_rows(empty.get_scores(["lung"]), empty.ids, 5) == []
    assert len(UpdatableBM25()) == 0 and UpdatableBM25().get_scores(["x"]).shape == (0,)
    again = empty.updated((), [("a::0", "a", ["lung"])])
    assert again.ids == ["a::0"] and again.get_scores(["lung"])[0] > 0


def test_save_and_load_round_trip(tmp_path, stemmer):
    index = build(corpus(20), stemmer)
    index.save(tmp_path / "ix")
    back = UpdatableBM25.load(tmp_path / "ix")
    assert back.ids == index.ids and back.vocab_dict == index.vocab_dict
    tokens = tokenize([QUERIES[0]], stemmer)[0]
    assert np.array_equal(back.get_scores(tokens), index.get_scores(tokens))
    (tmp_path / "ix" / "bm25.json").write_text('{"vocab": {}, "ids": ["x"], "docs": []}')
    with pytest.raises(ValueError, match="inconsistent"):
        UpdatableBM25.load(tmp_path / "ix")


def test_top_rows_breaks_ties_by_chunk_id_whatever_the_row_order():
    scores = np.array([1.0, 3.0, 2.0, 3.0, 0.0, 2.0], np.float32)
    ids = ["f", "e", "d", "c", "b", "a"]
    assert [ids[i] for i in top_rows(scores, ids, 3)] == ["c", "e", "a"]
    perm = [5, 4, 3, 2, 1, 0]
    assert [ids[perm[i]] for i in top_rows(scores[perm], [ids[p] for p in perm], 3)] == ["c", "e", "a"]
    assert [ids[i] for i in top_rows(scores, ids, 10)] == ["c", "e", "a", "d", "f"]  # zero scores never
