"""Answer-quality metrics, one function each; definitions in ``evals/README.md``.

Retrieval measures (recall@k, hit rate@k, MRR@10, nDCG@10) are computed by ranx, ROUGE-L by rouge-score; this module
only turns the engine's ranked passages and the gold evidence into the inputs those libraries expect:

* **units** — the ranked passages collapsed to distinct sections (the first passage of a section gives the
  section its rank); k counts units, not passages.
* **gold items** — one per ``relevant`` entry: a section id, or a document id where the gold has no section.
  A unit matches a section item by section id, a document item by document id. Each gold item is credited
  once, to the first unit that matches it (so a second section of a gold document is not relevant again).

ranx and numba are slow to import: they are imported inside the functions that need them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from ..errors import BadInputError

RECALL_KS = tuple(range(1, 11))
RETRIEVAL_KEYS = ("recall@5", "recall@10", "hit@5", "hit@10", "doc_recall@5", "mrr@10", "ndcg@10")


# --- units and gold ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Unit:
    """One distinct section of the ranked list."""

    section_id: str
    doc_id: str
    chunk_id: str = ""
    score: float = 0.0


def units_from_passages(passages: Iterable[Any]) -> list[Unit]:
    """Ranked passages (``Passage`` objects, or dicts with ``doc_id``/``section_id``) → distinct sections,
    in order of first occurrence."""
    seen: set[str] = set()
    units: list[Unit] = []
    for p in passages:
        if isinstance(p, Unit):
            u = p
        elif isinstance(p, Mapping):
            u = Unit(str(p.get("section_id") or p.get("chunk_id") or p["doc_id"]), str(p["doc_id"]),
                     str(p.get("chunk_id") or ""), float(p.get("score") or 0.0))
        else:
            c = p.chunk
            u = Unit(c.section_id or c.chunk_id, c.doc_id, c.chunk_id, float(p.score or 0.0))
        if u.section_id not in seen:
            seen.add(u.section_id)
            units.append(u)
    return units


def _gold_sections_docs(relevant: Sequence[Mapping[str, Any]]) -> tuple[dict[str, int], dict[str, int]]:
    sections: dict[str, int] = {}
    docs: dict[str, int] = {}
    for g in relevant:
        grade = int(g.get("grade") or 1)
        if g.get("section_id"):
            sections[g["section_id"]] = max(grade, sections.get(g["section_id"], 0))
        else:
            docs[g["doc_id"]] = max(grade, docs.get(g["doc_id"], 0))
    return sections, docs


def gold_qrels(relevant: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """Gold items as ranx qrels ids → grade: ``s:<section id>`` or ``d:<document id>``."""
    sections, docs = _gold_sections_docs(relevant)
    return {**{f"s:{k}": v for k, v in sections.items()}, **{f"d:{k}": v for k, v in docs.items()}}


def unit_labels(units: Sequence[Unit], relevant: Sequence[Mapping[str, Any]]) -> list[str]:
    """The ranx doc id of each unit: the gold item it is the first to match, else ``u:<section id>``."""
    sections, docs = _gold_sections_docs(relevant)
    claimed: set[str] = set()
    labels: list[str] = []
    for u in units:
        label = f"u:{u.section_id}"
        if u.section_id in sections and f"s:{u.section_id}" not in claimed:
            label = f"s:{u.section_id}"
        elif u.doc_id in docs and f"d:{u.doc_id}" not in claimed:
            label = f"d:{u.doc_id}"
        claimed.add(label)
        labels.append(label)
    return labels


def is_gold(unit: Unit, relevant: Sequence[Mapping[str, Any]]) -> bool:
    sections, docs = _gold_sections_docs(relevant)
    return unit.section_id in sections or unit.doc_id in docs


# --- retrieval (ranx) ----------------------------------------------------------------------------------
def _ranx_eval(qrels: dict[str, dict[str, int]], runs: dict[str, list[str]], metrics: list[str]) -> dict[str, dict[str, float]]:
    """Per-query ranx scores. Ranked ids get strictly decreasing scores (ranx sorts by score; ties would
    reorder them); an empty ranking gets one placeholder id that is never relevant."""
    import warnings

    # (uncompiled: the package sets NUMBA_DISABLE_JIT, see qa_bot/__init__.py)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # numba's type-safety chatter
        from ranx import Qrels, Run, evaluate

        # ranx stores ids as numpy "<U{longest id}" arrays, and numba compiles its functions anew for every
        # width it meets (a fresh install spent ~10 s a row compiling): ids are renamed to fixed-width codes
        code: dict[str, str] = {}

        def c(x: str, prefix: str) -> str:
            return code.setdefault(prefix + x, f"{prefix}{len(code):09d}")

        run_dict: dict[str, dict[str, float]] = {}
        for q, ids in runs.items():
            ids = list(dict.fromkeys(ids)) or ["__empty__"]
            run_dict[c(q, "q")] = {c(d, "d"): float(len(ids) - i) for i, d in enumerate(ids)}
        qrels_dict = {c(q, "q"): {c(d, "d"): g for d, g in items.items()} for q, items in qrels.items()}
        out: dict[str, dict[str, float]] = {q: {} for q in runs}
        if not runs:
            return out
        run = Run(run_dict)
        evaluate(Qrels(qrels_dict), run, metrics, return_mean=True, save_results_in_run=True, threads=1)
        for m in metrics:
            for q in runs:
                out[q][m] = float(run.scores[m][code["q" + q]])
    return out


def retrieval_metrics(rankings: Mapping[str, Sequence[Unit]],
                      relevant: Mapping[str, Sequence[Mapping[str, Any]]]) -> dict[str, dict[str, Any]]:
    """Per query id: recall@5, recall@10, hit@5, hit@10 (1 when any gold item is in the first k — the reading
    in which the issue's reference points were measured), doc_recall@5, mrr@10, ndcg@10 and ``recall_curve``
    (recall@1…10).

    ``rankings`` are distinct-section units (see ``units_from_passages``); ``relevant`` the rows' gold lists.
    Queries without gold are left out (the measures do not apply to them).
    """
    qids = [q for q in rankings if gold_qrels(relevant.get(q) or [])]
    if not qids:
        return {}
    unit_qrels = {q: gold_qrels(relevant[q]) for q in qids}
    unit_runs = {q: unit_labels(rankings[q], relevant[q]) for q in qids}
    curve = [f"recall@{k}" for k in RECALL_KS]
    scores = _ranx_eval(unit_qrels, unit_runs, sorted({*curve, "hit_rate@5", "hit_rate@10", "mrr@10", "ndcg@10"}))

    doc_qrels: dict[str, dict[str, int]] = {}
    for q in qids:
        grades: dict[str, int] = {}
        for g in relevant[q]:
            grades[g["doc_id"]] = max(int(g.get("grade") or 1), grades.get(g["doc_id"], 0))
        doc_qrels[q] = grades
    doc_runs = {q: list(dict.fromkeys(u.doc_id for u in rankings[q])) for q in qids}
    doc_scores = _ranx_eval(doc_qrels, doc_runs, ["recall@5"])

    return {q: {"recall@5": scores[q]["recall@5"], "recall@10": scores[q]["recall@10"],
                "hit@5": scores[q]["hit_rate@5"], "hit@10": scores[q]["hit_rate@10"],
                "doc_recall@5": doc_scores[q]["recall@5"], "mrr@10": scores[q]["mrr@10"],
                "ndcg@10": scores[q]["ndcg@10"], "recall_curve": [scores[q][m] for m in curve]}
            for q in qids}


# --- answer quality ------------------------------------------------------------------------------------
def liveqa_score(cited_ids: Sequence[str | None], judged: Mapping[str, int] | None, abstained: bool) -> float | None:
    """TREC 2017 LiveQA protocol for one row: grade − 1 (0–3) of the passage behind citation [1].

    ``cited_ids`` are the ids of that passage, most specific first (section id, document id); the first one
    that is judged gives the grade. 0 when abstained, when nothing is cited, or when the passage is unjudged
    (unjudged is unknown, not wrong, but the protocol scores it 0). ``None`` when the row has no judgments.
    """
    if not judged:
        return None
    if abstained:
        return 0.0
    for cid in cited_ids:
        if cid and cid in judged:
            return float(max(0, min(3, int(judged[cid]) - 1)))
    return 0.0


@lru_cache(maxsize=1)
def _rouge():
    from rouge_score import rouge_scorer

    return rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)


def rouge_l(answer_text: str, references: Sequence[str] | None) -> float | None:
    """ROUGE-L F1 (rouge-score, Porter stemming) of the answer against the best of the references;
    ``None`` when the row has no references, 0 for an empty answer (an abstention)."""
    refs = [r for r in (references or []) if r and r.strip()]
    if not refs:
        return None
    if not answer_text.strip():
        return 0.0
    return max(_rouge().score(r, answer_text)["rougeL"].fmeasure for r in refs)


# --- key facts (must_mention) ----------------------------------------------------------------------------
FACT_KEYS = ("fact_recall", "bottom_line_fact_recall", "fact_coverage")


def compile_facts(patterns: Sequence[str], where: str = "") -> list[re.Pattern[str]]:
    """The row's ``must_mention`` patterns compiled case-insensitively; BadInputError naming ``where``
    (``file:line``) and the pattern when one is empty or not a valid Python regular expression."""
    prefix = f"{where}: " if where else ""
    out: list[re.Pattern[str]] = []
    for i, p in enumerate(patterns):
        if not p.strip():
            raise BadInputError(f"{prefix}must_mention[{i}] is empty (it would match any answer)")
        try:
            out.append(re.compile(p, re.IGNORECASE))
        except re.error as e:
            raise BadInputError(f"{prefix}must_mention[{i}] {p!r} is not a valid regular expression ({e})") from None
    return out


def missing_facts(text: str, patterns: Sequence[str]) -> list[str]:
    """The patterns that do not match ``text`` (whitespace runs normalised to one space; case-insensitive;
    dashes and other characters left as they are)."""
    norm = re.sub(r"\s+", " ", text).strip()
    return [p for p, rx in zip(patterns, compile_facts(patterns)) if not (norm and rx.search(norm))]


def fact_metrics(sentences: Sequence[Mapping[str, Any]], patterns: Sequence[str], abstained: bool) -> dict[str, Any]:
    """Key-fact measures of one answer against the row's ``must_mention`` patterns (``evals/README.md``).

    ``sentences`` are the answer's sentences (``text``, ``group``); the answer text is all of them joined, the
    bottom line those with ``group == "bottom_line"``. An abstention states nothing: every pattern is missing.

    * ``fact_recall`` — 1.0 when the answer text matches every pattern, else 0.0
    * ``bottom_line_fact_recall`` — the same on the bottom line alone
    * ``fact_coverage`` — share of the patterns the answer text matches
    * ``missing`` / ``bottom_line_missing`` — the patterns not matched, in the row's order
    """
    if not patterns:
        raise ValueError("fact_metrics needs at least one pattern")
    if abstained:
        answer = bottom = ""
    else:
        answer = " ".join(str(s.get("text") or "") for s in sentences)
        bottom = " ".join(str(s.get("text") or "") for s in sentences if s.get("group") == "bottom_line")
    missing = missing_facts(answer, patterns)
    bl_missing = missing_facts(bottom, patterns)
    return {"fact_recall": 0.0 if missing else 1.0,
            "bottom_line_fact_recall": 0.0 if bl_missing else 1.0,
            "fact_coverage": (len(patterns) - len(missing)) / len(patterns),
            "missing": missing, "bottom_line_missing": bl_missing}


def on_subject(text: str, subject_regex: str) -> bool:
    """Whether an answer's text names the question's subject (a case-insensitive regex of its brand, generic and
    lay names): an answer that never does is about something else."""
    return bool(re.search(subject_regex, re.sub(r"\s+", " ", text), re.I))


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().casefold()


_SUPPORT_CHECK: Any = None


def support_checker() -> str:
    """Which support check ``is_supported`` uses: ``qa_bot.verify.check_support`` or the fallback."""
    global _SUPPORT_CHECK
    if _SUPPORT_CHECK is None:
        try:
            from qa_bot.verify import check_support

            _SUPPORT_CHECK = check_support
        except ImportError:
            _SUPPORT_CHECK = False
    return "qa_bot.verify.check_support" if _SUPPORT_CHECK else "fallback: whitespace-normalised substring"


def is_supported(sentence: str, passage: str) -> bool:
    """Whether ``passage`` supports ``sentence``: ``qa_bot.verify.check_support`` when that module exists.

    FALLBACK (until ``qa_bot.verify`` exists): the sentence, whitespace-normalised and case-folded, must
    appear verbatim in the passage — right for extractive answers, far too strict for paraphrases.
    """
    support_checker()
    if _SUPPORT_CHECK:
        return bool(_SUPPORT_CHECK(sentence, passage).supported)
    s = _norm(sentence)
    return bool(s) and s in _norm(passage)


def citation_pairs(sentences: Sequence[Mapping[str, Any]], quotes: Mapping[int, str]) -> tuple[int, int, int]:
    """(supported pairs, pairs, uncited sentences) of one answer; ``quotes`` maps citation number → passage.
    A citation number with no passage counts as an unsupported pair."""
    supported = pairs = uncited = 0
    for s in sentences:
        cites = list(dict.fromkeys(s.get("citations") or []))
        if not cites:
            uncited += 1
        for n in cites:
            pairs += 1
            quote = quotes.get(n)
            if quote is not None and is_supported(s["text"], quote):
                supported += 1
    return supported, pairs, uncited


def abstention_metrics(rows: Iterable[tuple[bool, bool]]) -> dict[str, float | None]:
    """From (answerable, abstained) pairs: precision and recall of abstaining on unanswerable rows, and
    the false-abstain rate on answerable rows. A measure with an empty denominator is ``None``; precision
    is also ``None`` on a set without unanswerable rows (it does not apply there)."""
    rows = list(rows)
    unans = [a for ok, a in rows if not ok]
    ans = [a for ok, a in rows if ok]
    abst = [ok for ok, a in rows if a]
    tp = sum(unans)
    return {
        "abstain_precision": (tp / len(abst)) if unans and abst else None,
        "abstain_recall": (tp / len(unans)) if unans else None,
        "false_abstain_rate": (sum(ans) / len(ans)) if ans else None,
    }


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear-interpolation percentile (numpy's default); ``None`` for no values."""
    if not values:
        return None
    import numpy as np

    return float(np.percentile(np.asarray(values, dtype=float), q))


def mean(values: Iterable[float | None]) -> float | None:
    vals = [v for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
    return sum(vals) / len(vals) if vals else None
