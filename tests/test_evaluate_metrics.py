"""Metric wiring against hand-computed values (ranx for retrieval, rouge-score for ROUGE-L)."""

from __future__ import annotations

import json
import math

import pytest

from qa_bot.errors import BadInputError
from qa_bot.evaluate import metrics as M
from qa_bot.evaluate.runner import check_thresholds, parse_row, summarize

LOG2_3 = math.log2(3)


def U(section: str, doc: str | None = None) -> M.Unit:
    return M.Unit(section, doc or section.split("_")[0])


def one(units, relevant):
    return M.retrieval_metrics({"q": units}, {"q": relevant})["q"]


@pytest.fixture(autouse=True)
def _fallback_support(monkeypatch):
    monkeypatch.setattr(M, "_SUPPORT_CHECK", False)  # the documented fallback; no model in unit tests


# --- units -----------------------------------------------------------------------------------------------
def test_units_collapse_sections_first_occurrence_wins():
    ps = [{"doc_id": "A", "section_id": "A_1", "chunk_id": "c1", "score": 0.9},
          {"doc_id": "A", "section_id": "A_1", "chunk_id": "c2", "score": 0.8},
          {"doc_id": "B", "section_id": "B_1", "chunk_id": "c3", "score": 0.7},
          {"doc_id": "A", "section_id": "A_2", "chunk_id": "c4", "score": 0.6}]
    units = M.units_from_passages(ps)
    assert [u.section_id for u in units] == ["A_1", "B_1", "A_2"]
    assert units[0].chunk_id == "c1"


# --- retrieval -------------------------------------------------------------------------------------------
def test_graded_ndcg_recall_mrr_hand_computed():
    # gold: section A_1 (grade 4) and the whole document B (grade 3)
    gold = [{"doc_id": "A", "section_id": "A_1", "grade": 4}, {"doc_id": "B", "section_id": None, "grade": 3}]
    m = one([U("X_1"), U("B_7"), U("A_1")], gold)
    dcg = 3 / LOG2_3 + 4 / 2.0  # ranks 2 and 3, linear gains
    idcg = 4 / 1.0 + 3 / LOG2_3
    assert m["ndcg@10"] == pytest.approx(dcg / idcg)  # 0.6606
    assert m["ndcg@10"] == pytest.approx(0.66060, abs=1e-5)
    assert m["mrr@10"] == pytest.approx(0.5)
    assert m["recall@5"] == m["recall@10"] == 1.0
    assert m["recall_curve"][:3] == [0.0, 0.5, 1.0]
    assert m["doc_recall@5"] == 1.0


def test_ranx_runs_uncompiled_unless_asked():
    """numba would compile ranx's measures on first use in a fresh environment (~60 s of CPU) to save a fraction
    of a second on these sizes: they run as plain Python, with the same figures, unless NUMBA_DISABLE_JIT=0 —
    also when bm25s (which imports numba) was imported first, as in every qa_bot process."""
    import os
    import subprocess
    import sys

    code = ("import qa_bot, bm25s; from qa_bot.evaluate.metrics import _ranx_eval; "
            "r = _ranx_eval({'q': {'a': 1}}, {'q': ['b', 'a']}, ['mrr@10']); "
            "import numba; print(int(numba.config.DISABLE_JIT), r['q']['mrr@10'])")
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_DISABLE_JIT"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert out.stdout.split() == ["1", "0.5"], out.stderr[-2000:]


def test_gold_item_credited_once():
    # two sections of the gold document B: only the first counts; C never retrieved
    gold = [{"doc_id": "B", "section_id": None, "grade": 3}, {"doc_id": "C", "section_id": None, "grade": 4}]
    m = one([U("B_1"), U("B_2")], gold)
    assert m["recall@10"] == 0.5
    assert m["ndcg@10"] == pytest.approx(3 / (4 + 3 / LOG2_3))
    assert m["mrr@10"] == 1.0


def test_hit_rate_is_any_gold_in_first_k_while_recall_is_the_share():
    # four gold items, one of them at rank 2 and one at rank 7: recall@5 = 1/4, hit@5 = 1; recall@10 = 2/4
    gold = [{"doc_id": d, "section_id": f"{d}_1", "grade": 3} for d in "ABCD"]
    units = [U("X_1", "X"), U("B_1")] + [U(f"Y_{i}", f"Y{i}") for i in range(4)] + [U("D_1")]
    m = one(units, gold)
    assert m["recall@5"] == 0.25 and m["hit@5"] == 1.0
    assert m["recall@10"] == 0.5 and m["hit@10"] == 1.0
    m = one([U(f"Y_{i}", f"Y{i}") for i in range(5)] + [U("A_1")], gold)
    assert m["hit@5"] == 0.0 and m["hit@10"] == 1.0


def test_k_counts_distinct_sections():
    gold = [{"doc_id": "G", "section_id": "G_1", "grade": 4}]
    units = [U(f"X_{i}", f"X{i}") for i in range(5)] + [U("G_1")]
    m = one(units, gold)
    assert m["recall@5"] == 0.0 and m["recall@10"] == 1.0
    assert m["mrr@10"] == pytest.approx(1 / 6)
    assert m["ndcg@10"] == pytest.approx(1 / math.log2(7))
    assert m["doc_recall@5"] == 0.0  # G is the 6th distinct document


def test_section_gold_needs_the_section_doc_gold_any_section():
    gold = [{"doc_id": "A", "section_id": "A_2", "grade": 4}]
    assert one([U("A_1")], gold)["recall@10"] == 0.0
    assert one([U("A_1")], gold)["doc_recall@5"] == 1.0  # document level


def test_empty_ranking_and_no_gold():
    gold = [{"doc_id": "A", "section_id": "A_1", "grade": 4}]
    m = one([], gold)
    assert m["recall@10"] == m["mrr@10"] == m["ndcg@10"] == 0.0
    assert M.retrieval_metrics({"q": [U("A_1")]}, {"q": []}) == {}


def test_batch_matches_single_queries():
    gold1 = [{"doc_id": "A", "section_id": "A_1", "grade": 4}]
    gold2 = [{"doc_id": "B", "section_id": None, "grade": 3}]
    both = M.retrieval_metrics({"q1": [U("X_1"), U("A_1")], "q2": [U("B_3")]}, {"q1": gold1, "q2": gold2})
    assert both["q1"] == one([U("X_1"), U("A_1")], gold1)
    assert both["q2"]["mrr@10"] == 1.0


# --- LiveQA protocol -------------------------------------------------------------------------------------
def test_liveqa_score_with_unjudged_passages():
    judged = {"A_1": 4, "B": 1, "C_2": 3}
    assert M.liveqa_score(["A_1", "A"], judged, abstained=False) == 3.0  # excellent → 3
    assert M.liveqa_score(["B_5", "B"], judged, abstained=False) == 0.0  # judged incorrect → 0 (by document)
    assert M.liveqa_score(["C_2", "C"], judged, abstained=False) == 2.0
    assert M.liveqa_score(["Z_1", "Z"], judged, abstained=False) == 0.0  # unjudged counts 0
    assert M.liveqa_score([], judged, abstained=False) == 0.0  # nothing cited
    assert M.liveqa_score(["A_1", "A"], judged, abstained=True) == 0.0  # abstained
    assert M.liveqa_score(["A_1", "A"], {}, abstained=False) is None  # row not judged


def _rec(answerable=True, abstained=False, latency=10.0, **metrics):
    return {"answerable": answerable, "abstained": abstained, "latency_ms": latency, "disclaimer_ok": True,
            "sentences": [], "metrics": metrics}


def test_avg_score_averages_over_all_rows_of_a_judged_set():
    recs = [_rec(avg_score=3.0), _rec(avg_score=0.0), _rec(abstained=True, avg_score=0.0), _rec(avg_score=None)]
    assert summarize(recs)["avg_score"] == pytest.approx(0.75)
    assert summarize([_rec(avg_score=None)])["avg_score"] is None


# --- ROUGE-L ---------------------------------------------------------------------------------------------
def test_rouge_l_hand_computed():
    # LCS("the cat sat on the mat", "the cat on the mat") = 5 tokens: P = 5/5, R = 5/6, F = 10/11
    assert M.rouge_l("the cat on the mat", ["the cat sat on the mat"]) == pytest.approx(10 / 11)
    assert M.rouge_l("the cat on the mat", ["dogs bark", "the cat sat on the mat"]) == pytest.approx(10 / 11)  # best ref
    assert M.rouge_l("Cats sitting.", ["the cat sits"]) == pytest.approx(0.8)  # stemmed: LCS 2, P 1, R 2/3
    assert M.rouge_l("", ["the cat"]) == 0.0
    assert M.rouge_l("anything", []) is None


# --- abstention ------------------------------------------------------------------------------------------
def test_abstention_precision_recall():
    rows = [(False, True)] * 3 + [(False, False)] + [(True, True)] + [(True, False)] * 3
    m = M.abstention_metrics(rows)
    assert m["abstain_precision"] == pytest.approx(3 / 4)
    assert m["abstain_recall"] == pytest.approx(3 / 4)
    assert m["false_abstain_rate"] == pytest.approx(1 / 4)


def test_abstention_not_applicable_is_none():
    only_answerable = M.abstention_metrics([(True, True), (True, False)])
    assert only_answerable == {"abstain_precision": None, "abstain_recall": None, "false_abstain_rate": 0.5}
    never = M.abstention_metrics([(False, False)] * 2)
    assert never["abstain_precision"] is None and never["abstain_recall"] == 0.0 and never["false_abstain_rate"] is None


# --- key facts (must_mention) ----------------------------------------------------------------------------
CRC = [r"45\s*(?:to|-|–)\s*49", r"grade\s*B\b"]
CRC_ANSWER = [
    {"text": "The USPSTF recommends screening for colorectal cancer in all adults aged 50 to 75 years.",
     "group": "bottom_line"},
    {"text": "The USPSTF recommends screening for colorectal cancer in adults aged 45  to\n49 years (Grade B).",
     "group": "Recommendations"},
]


def test_fact_metrics_all_patterns_present():
    sents = [{"text": "Screen adults aged 45 to 49 years (USPSTF grade B).", "group": "bottom_line"}]
    m = M.fact_metrics(sents, CRC, abstained=False)
    assert (m["fact_recall"], m["bottom_line_fact_recall"], m["fact_coverage"]) == (1.0, 1.0, 1.0)
    assert m["missing"] == [] and m["bottom_line_missing"] == []


def test_fact_metrics_one_missing_gives_recall_0_and_partial_coverage():
    sents = [{"text": "Screen adults aged 45–49 years.", "group": "bottom_line"},  # en dash: the pattern allows it
             {"text": "Colonoscopy every 10 years.", "group": "Tests"}]
    m = M.fact_metrics(sents, CRC, abstained=False)
    assert m["fact_recall"] == 0.0 and m["bottom_line_fact_recall"] == 0.0
    assert m["fact_coverage"] == 0.5  # 1 of 2 patterns
    assert m["missing"] == m["bottom_line_missing"] == [r"grade\s*B\b"]
    three = M.fact_metrics(sents, [*CRC, r"10\s*years"], abstained=False)
    assert three["fact_coverage"] == pytest.approx(2 / 3)


def test_fact_metrics_bottom_line_vs_whole_answer():
    # the facts are in a key point (whitespace across a line break normalised, case-insensitive), not in the bottom line
    m = M.fact_metrics(CRC_ANSWER, CRC, abstained=False)
    assert m["fact_recall"] == 1.0 and m["fact_coverage"] == 1.0 and m["missing"] == []
    assert m["bottom_line_fact_recall"] == 0.0 and m["bottom_line_missing"] == CRC
    no_bottom_line = [dict(s, group="Recommendations") for s in CRC_ANSWER]
    assert M.fact_metrics(no_bottom_line, CRC, abstained=False)["bottom_line_fact_recall"] == 0.0


def test_fact_metrics_abstention_is_a_miss():
    # even when the abstention shows related sentences that would match, nothing is stated as an answer
    m = M.fact_metrics(CRC_ANSWER, CRC, abstained=True)
    assert (m["fact_recall"], m["bottom_line_fact_recall"], m["fact_coverage"]) == (0.0, 0.0, 0.0)
    assert m["missing"] == m["bottom_line_missing"] == CRC
    assert M.fact_metrics([], CRC, abstained=False)["missing"] == CRC  # an empty answer too


def test_bad_fact_pattern_names_file_and_line():
    with pytest.raises(BadInputError, match=r"^set\.jsonl:7: must_mention\[1\] '\(grade' is not a valid regular"):
        M.compile_facts(["ok", "(grade"], "set.jsonl:7")
    with pytest.raises(BadInputError, match=r"must_mention\[0\] is empty"):
        M.compile_facts(["  "], "set.jsonl:8")
    row = {"id": "r", "question": "q?", "must_mention": ["[45"]}
    with pytest.raises(BadInputError, match=r"^c\.jsonl:3: must_mention\[0\] '\[45'"):
        parse_row(json.dumps(row), "c.jsonl", 3, "c")
    assert parse_row(json.dumps({**row, "must_mention": ["45"]}), "c.jsonl", 3, "c").must_mention == ["45"]


def test_fact_aggregate_only_over_answerable_rows_with_must_mention():
    recs = [_rec(fact_recall=1.0, bottom_line_fact_recall=0.0, fact_coverage=1.0),
            _rec(fact_recall=0.0, bottom_line_fact_recall=0.0, fact_coverage=0.5),
            _rec(abstained=True, fact_recall=0.0, bottom_line_fact_recall=0.0, fact_coverage=0.0),
            _rec(),  # answerable, no must_mention: not counted
            _rec(answerable=False, abstained=True)]  # unanswerable: not counted
    s = summarize(recs)
    assert s["fact_recall"] == pytest.approx(1 / 3) and s["bottom_line_fact_recall"] == 0.0
    assert s["fact_coverage"] == pytest.approx(0.5) and s["n_facts"] == 3
    assert summarize([_rec(), _rec()])["fact_recall"] is None  # no row with must_mention: not applicable


# --- citations -------------------------------------------------------------------------------------------
def test_fallback_support_is_whitespace_normalised_substring():
    assert M.support_checker().startswith("fallback")
    passage = "Aspirin  reduces\nthe risk of myocardial infarction. It may cause bleeding."
    assert M.is_supported("Aspirin reduces the risk of myocardial infarction.", passage)
    assert not M.is_supported("Aspirin prevents all strokes.", passage)
    assert not M.is_supported("   ", passage)


def test_citation_pairs():
    quotes = {1: "Aspirin reduces the risk of myocardial infarction.", 2: "It may cause bleeding."}
    sents = [{"text": "Aspirin reduces the risk of myocardial infarction.", "citations": [1, 2]},
             {"text": "It may cause bleeding.", "citations": [2]},
             {"text": "Ask your doctor.", "citations": []},
             {"text": "It may cause bleeding.", "citations": [9]}]  # citation with no passage
    assert M.citation_pairs(sents, quotes) == (2, 4, 1)


def test_summary_pools_citation_pairs_and_latency():
    recs = [_rec(latency=100.0, supported_pairs=3, citation_pairs=4, uncited_sentences=1),
            _rec(latency=300.0, supported_pairs=1, citation_pairs=1, uncited_sentences=0)]
    s = summarize(recs)
    assert s["citation_support"] == pytest.approx(4 / 5)
    assert s["uncited_sentences"] == 1
    assert s["latency_ms_p50"] == pytest.approx(200.0) and s["latency_ms_p95"] == pytest.approx(290.0)
    assert s["recall@5"] is None and s["rougeL"] is None  # not applicable: null


# --- gate ------------------------------------------------------------------------------------------------
def test_check_thresholds(tmp_path):
    report = {"datasets": {"a": {"recall@10": 0.6, "rougeL": None, "false_abstain_rate": 0.2}}}
    t = tmp_path / "t.toml"
    t.write_text('margin = 0.05\n[a]\n"recall@10" = 0.5\n[a.max]\nfalse_abstain_rate = 0.3\n[other]\n"recall@10" = 0.9\n')
    assert check_thresholds(report, t) == []
    t.write_text('[a]\n"recall@10" = 0.7\nrougeL = 0.1\n[a.max]\nfalse_abstain_rate = 0.1\n')
    fails = check_thresholds(report, t)
    assert len(fails) == 3
    assert "a recall@10 = 0.6 is below its floor 0.7" in fails
    assert any("rougeL: not measured" in f for f in fails)
    assert any("false_abstain_rate = 0.2 is above its ceiling 0.1" in f for f in fails)
    t.write_text('[a]\n"recal@10" = 0.7\n')
    with pytest.raises(BadInputError, match="unknown metric 'recal@10'"):
        check_thresholds(report, t)
