"""Runs eval sets through the same ``answer()`` the chat uses and aggregates the metrics.

``run_eval`` reads JSONL eval sets (schema in ``evals/datasets/README.md``), answers every row with
``qa_bot.engine.answer`` and the project settings, optionally runs the BM25 and dense baselines on the same
rows, and writes ``results.jsonl`` (one line per row, as it goes) and ``report.json/.md/.html``.
``check_thresholds`` is the regression gate over a report.
"""

from __future__ import annotations

import json
import time
import tomllib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError, field_validator

from ..errors import BadInputError, IndexMissingError, StoreUnavailableError
from ..render import internal_leaks
from ..settings import Settings
import qa_bot.evaluate.metrics as M
import qa_bot.evaluate.report as R

ANSWER_KEYS = ("avg_score", "rougeL", *M.FACT_KEYS, "citation_support", "uncited_sentences", "disclaimer_rate",
               "reader_text_leaks",
               "on_subject_rate", "off_subject_answers",
               "abstain_precision", "abstain_recall", "false_abstain_rate", "latency_ms_p50", "latency_ms_p95")
REPORT_KEYS = ("n", "answerable", *M.RETRIEVAL_KEYS, *ANSWER_KEYS)
BASELINES = ("bm25", "dense")
FATAL = (IndexMissingError, StoreUnavailableError)
MAX_LEADING_ERRORS = 5  # this many failed rows before any success: the engine is broken, stop


# --- eval-set rows -------------------------------------------------------------------------------------
class GoldItem(BaseModel):
    doc_id: str
    section_id: str | None = None
    heading: str | None = None
    grade: int = 3


class EvalRow(BaseModel):
    id: str
    dataset: str | None = None
    question: str
    history: list[dict[str, str]] = Field(default_factory=list)
    answerable: bool = True
    relevant: list[GoldItem] = Field(default_factory=list)
    judged: dict[str, int] = Field(default_factory=dict)
    reference_answers: list[str] = Field(default_factory=list)
    must_mention: list[str] = Field(default_factory=list)  # case-insensitive regexes of the key facts
    subject_regex: str | None = None  # what any answer about the question's subject names (K-QA)
    aspect: str | None = None  # what the question asks about its subject (K-QA)
    note: str | None = None
    # where it came from (set by the loader)
    file: str = ""
    line: int = 0

    @field_validator("history")
    @classmethod
    def _turns(cls, v: list[dict[str, str]]) -> list[dict[str, str]]:
        for t in v:
            if t.get("role") not in ("user", "assistant") or not isinstance(t.get("content"), str):
                raise ValueError("history turns must be {role: user|assistant, content: text}")
        return v

    @property
    def gold(self) -> list[dict[str, Any]]:
        return [g.model_dump() for g in self.relevant]


@dataclass
class Skipped:
    file: str
    line: int
    reason: str  # the BadInputError message, which starts with file:line

    def __str__(self) -> str:
        return self.reason


def parse_row(text: str, file: str, line: int, default_dataset: str) -> EvalRow:
    """One JSONL line → EvalRow; BadInputError naming ``file:line`` when it cannot be used."""
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as e:
        raise BadInputError(f"{file}:{line}: not valid JSON ({e.msg} at column {e.colno})") from None
    if not isinstance(obj, dict):
        raise BadInputError(f"{file}:{line}: expected a JSON object, got {type(obj).__name__}")
    try:
        row = EvalRow.model_validate({**obj, "file": file, "line": line})
    except ValidationError as e:
        errs = "; ".join(f"{'.'.join(str(x) for x in err['loc']) or 'row'}: {err['msg']}" for err in e.errors()[:3])
        raise BadInputError(f"{file}:{line}: {errs}") from None
    if not row.question.strip():
        raise BadInputError(f"{file}:{line}: empty question")
    M.compile_facts(row.must_mention, f"{file}:{line}")  # a bad pattern names its file and line
    if row.subject_regex:
        M.compile_facts([row.subject_regex], f"{file}:{line}: subject_regex")
    if not row.dataset:
        row.dataset = default_dataset
    return row


def load_rows(paths: Sequence[Path], limit: int | None = None) -> tuple[list[EvalRow], list[Skipped]]:
    """Rows of every file (the first ``limit`` usable rows of each); bad rows are skipped and reported."""
    rows: list[EvalRow] = []
    skipped: list[Skipped] = []
    for path in paths:
        path = Path(path)
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as e:
            raise BadInputError(f"{path}: cannot read the eval set ({e})") from None
        taken = 0
        for i, text in enumerate(lines, 1):
            if limit is not None and taken >= limit:
                break
            if not text.strip():
                continue
            try:
                rows.append(parse_row(text, str(path), i, path.stem))
                taken += 1
            except BadInputError as e:
                skipped.append(Skipped(str(path), i, str(e)))
    return rows, skipped


# --- one row -------------------------------------------------------------------------------------------
def baseline_query(row: EvalRow) -> str:
    """What the baselines search: the question, with the first user turn prepended for follow-ups."""
    first = next((t["content"] for t in row.history if t.get("role") == "user"), None)
    return f"{first} {row.question}" if first else row.question


def _passage_record(rank: int, p: Any, row: EvalRow) -> dict[str, Any]:
    c = p.chunk
    unit = M.Unit(c.section_id or c.chunk_id, c.doc_id, c.chunk_id, float(p.score or 0.0))
    return {"rank": rank, "chunk_id": c.chunk_id, "doc_id": c.doc_id, "section_id": c.section_id,
            "score": round(float(p.score or 0.0), 6), "title": c.title,
            "heading": " > ".join(c.heading_path) if c.heading_path else None,
            "gold": M.is_gold(unit, row.gold)}


def _row_retrieval(passages: Sequence[Any], row: EvalRow) -> dict[str, Any]:
    if not row.answerable or not row.relevant:
        return {}
    return M.retrieval_metrics({"q": M.units_from_passages(passages)}, {"q": row.gold}).get("q", {})


def evaluate_row(row: EvalRow, answer_fn: Callable[..., Any], settings: Settings,
                 baseline_fns: dict[str, Callable[..., Any]] | None = None) -> dict[str, Any]:
    """Answer one row and measure it; returns its ``results.jsonl`` record."""
    t = time.perf_counter()
    ans = answer_fn(row.question, row.history, settings)
    latency = (time.perf_counter() - t) * 1000

    sentences = [{"text": s.text, "citations": list(s.citations), "group": s.group, "note": s.note} for s in ans.sentences]
    quotes = {c.n: c.quote for c in ans.citations}
    # an abstention is not an answer: its sentences (if any) are not counted as cited/uncited claims
    supported, pairs, uncited = (0, 0, 0) if ans.abstained else M.citation_pairs(sentences, quotes)
    first = next((c for c in ans.citations if c.n == 1), None)
    cited = [first.section_id, first.doc_id, first.chunk_id] if first else []
    answer_text = " ".join(s["text"] for s in sentences)

    metrics: dict[str, Any] = dict(_row_retrieval(ans.passages, row))
    metrics.update({
        "avg_score": M.liveqa_score(cited, row.judged, ans.abstained),
        "rougeL": M.rouge_l("" if ans.abstained else answer_text, row.reference_answers),
        "citation_support": (supported / pairs) if pairs else None,
        "supported_pairs": supported, "citation_pairs": pairs, "uncited_sentences": uncited,
        "reader_text_leaks": internal_leaks(ans),
    })
    if row.subject_regex and not ans.abstained:
        shown_text = " ".join(f"{s['text']} ({s['note']})" if s.get("note") else s["text"] for s in sentences)
        metrics["on_subject"] = 1.0 if M.on_subject(shown_text, row.subject_regex) else 0.0
    facts = None
    if row.answerable and row.must_mention:
        # key facts are read in what the reader sees: the quote with its grade and date
        shown = [{**x, "text": f"{x['text']} ({x['note']})" if x.get("note") else x["text"]} for x in sentences]
        f = M.fact_metrics(shown, row.must_mention, bool(ans.abstained))
        metrics.update({k: f[k] for k in M.FACT_KEYS})
        facts = {"must_mention": list(row.must_mention), "missing": f["missing"],
                 "bottom_line_missing": f["bottom_line_missing"]}
    rec: dict[str, Any] = {
        "id": row.id, "dataset": row.dataset, "file": row.file, "line": row.line,
        "question": row.question, "history": row.history, "standalone_question": ans.standalone_question,
        "answerable": row.answerable, "gold": row.gold,
        "retrieved": [_passage_record(i, p, row) for i, p in enumerate(ans.passages, 1)],
        "sentences": sentences,
        "citations": [{"n": c.n, "chunk_id": c.chunk_id, "doc_id": c.doc_id, "section_id": c.section_id,
                       "title": c.title, "heading": c.heading} for c in ans.citations],
        "abstained": bool(ans.abstained), "abstain_reason": ans.abstain_reason, "notice": ans.notice,
        "disclaimer": ans.disclaimer, "disclaimer_ok": ans.disclaimer == settings.answer.disclaimer,
        "latency_ms": round(latency, 2), "timings_ms": {k: round(v, 2) for k, v in (ans.timings_ms or {}).items()},
        "metrics": metrics,
    }
    if facts is not None:
        rec["facts"] = facts
    if baseline_fns and row.answerable and row.relevant:
        q = baseline_query(row)
        rec["baselines"] = {}
        for name, fn in baseline_fns.items():
            t = time.perf_counter()
            passages = fn(q, max(settings.retrieval.top_k, 1), settings)
            rec["baselines"][name] = {
                "query": q, "latency_ms": round((time.perf_counter() - t) * 1000, 2),
                "retrieved": [_passage_record(i, p, row) for i, p in enumerate(passages, 1)],
                "metrics": _row_retrieval(passages, row)}
    return rec


# --- aggregation ---------------------------------------------------------------------------------------
def _retrieval_summary(metric_rows: list[dict[str, Any]]) -> dict[str, Any]:
    rows = [m for m in metric_rows if "recall@5" in m]
    out: dict[str, Any] = {k: M.mean(m[k] for m in rows) if rows else None for k in M.RETRIEVAL_KEYS}
    out["recall_curve"] = ([M.mean(m["recall_curve"][i] for m in rows) for i in range(len(M.RECALL_KS))]
                           if rows else None)
    out["n_retrieval"] = len(rows)
    return out


def summarize(records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The report's figures for one set (``records`` without error rows)."""
    n = len(records)
    answerable = sum(1 for r in records if r["answerable"])
    ms = [r["metrics"] for r in records]
    out: dict[str, Any] = {"n": n, "answerable": answerable}
    out.update(_retrieval_summary(ms))
    scores = [m.get("avg_score") for m in ms]
    out["avg_score"] = (sum(s or 0.0 for s in scores) / n) if any(s is not None for s in scores) else None
    out["rougeL"] = M.mean(m.get("rougeL") for m in ms)
    fact_rows = [m for m in ms if "fact_recall" in m]  # answerable rows with must_mention
    for k in M.FACT_KEYS:
        out[k] = M.mean(m[k] for m in fact_rows)
    subj = [m["on_subject"] for m in ms if "on_subject" in m]  # answered rows with a subject_regex
    out["on_subject_rate"] = M.mean(subj)
    out["off_subject_answers"] = sum(1 for v in subj if not v) if subj else None
    pairs = sum(m.get("citation_pairs", 0) for m in ms)
    out["citation_support"] = (sum(m.get("supported_pairs", 0) for m in ms) / pairs) if pairs else None
    out["uncited_sentences"] = sum(m.get("uncited_sentences", 0) for m in ms) if n else None
    out["disclaimer_rate"] = (sum(1 for r in records if r["disclaimer_ok"]) / n) if n else None
    out["reader_text_leaks"] = sum(len(m.get("reader_text_leaks", ())) for m in ms) if n else None
    out.update(M.abstention_metrics((r["answerable"], r["abstained"]) for r in records))
    lat = [r["latency_ms"] for r in records]
    out["latency_ms_p50"] = M.percentile(lat, 50)
    out["latency_ms_p95"] = M.percentile(lat, 95)
    out["abstained"] = sum(1 for r in records if r["abstained"])
    out["sentences"] = sum(len(r["sentences"]) for r in records)
    out["citation_pairs"] = pairs
    out["n_facts"] = len(fact_rows)
    return {k: out[k] for k in (*REPORT_KEYS, *[k for k in out if k not in REPORT_KEYS])}


def build_report(records: Sequence[dict[str, Any]], *, baselines_run: bool, meta: dict[str, Any]) -> dict[str, Any]:
    by_set: dict[str, list[dict[str, Any]]] = {}
    errors: list[dict[str, Any]] = []
    for r in records:
        by_set.setdefault(r["dataset"], [])
        if "error" in r:
            errors.append({k: r[k] for k in ("id", "dataset", "file", "line", "error")})
        else:
            by_set[r["dataset"]].append(r)
    datasets: dict[str, Any] = {}
    for name, recs in by_set.items():
        datasets[name] = summarize(recs)
        datasets[name]["errors"] = sum(1 for e in errors if e["dataset"] == name)
    base: dict[str, dict[str, Any]] = {}
    for b in BASELINES:
        base[b] = {}
        for name, recs in by_set.items():
            if baselines_run:
                s = _retrieval_summary([r["baselines"][b]["metrics"] for r in recs if b in r.get("baselines", {})])
                lat = [r["baselines"][b]["latency_ms"] for r in recs if b in r.get("baselines", {})]
                s["latency_ms_p50"] = M.percentile(lat, 50)
            else:
                s = {k: None for k in M.RETRIEVAL_KEYS}
            base[b][name] = s
    return {"datasets": datasets, "baselines": base,
            "meta": {**meta, "baselines_run": baselines_run, "errors": errors}}


# --- the run -------------------------------------------------------------------------------------------
@dataclass
class EvalRun:
    report: dict[str, Any]
    records: list[dict[str, Any]]
    skipped: list[Skipped] = field(default_factory=list)
    out: Path | None = None


def _default_answer() -> Callable[..., Any]:
    from .. import engine

    return lambda q, h, s: engine.answer(q, h, s)  # looked up per call: tests may monkeypatch it


def _default_baselines() -> dict[str, Callable[..., Any]]:
    from .. import retrieve

    return {"bm25": lambda q, k, s: retrieve.baseline_bm25(q, k, s),
            "dense": lambda q, k, s: retrieve.baseline_dense(q, k, s)}


def run_eval(paths: Sequence[Path], out: Path, settings: Settings | None = None, *, limit: int | None = None,
             baselines: bool = False, audience: str | None = None, progress: bool = True,
             answer_fn: Callable[..., Any] | None = None,
             baseline_fns: dict[str, Callable[..., Any]] | None = None) -> EvalRun:
    """Evaluate ``paths`` and write ``out/results.jsonl``, ``report.json``, ``report.md``, ``report.html``.

    Raises BadInputError when no row is usable, and the engine's IndexMissingError/StoreUnavailableError
    (or the error of the first rows when none succeeds) when the engine cannot answer at all.
    """
    settings = settings or Settings()
    if audience:
        settings = settings.model_copy(update={"audience": audience})
    rows, skipped = load_rows(paths, limit)
    if not rows:
        detail = "; ".join(str(s) for s in skipped[:5])
        raise BadInputError(f"no usable eval rows in {', '.join(str(p) for p in paths)}" + (f" ({detail})" if detail else ""))
    answer_fn = answer_fn or _default_answer()
    if baselines and baseline_fns is None:
        baseline_fns = _default_baselines()
    if not baselines:
        baseline_fns = None

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    records: list[dict[str, Any]] = []
    started = datetime.now(timezone.utc)
    ok = 0
    _warm_up(answer_fn, rows[0], settings)
    with (out / "results.jsonl").open("w", encoding="utf-8") as fh, _progress(progress, len(rows)) as advance:
        for row in rows:
            try:
                rec = evaluate_row(row, answer_fn, settings, baseline_fns)
                ok += 1
            except FATAL:
                raise
            except Exception as e:  # one bad row must not lose the run; it is reported
                if ok == 0 and len(records) + 1 >= MAX_LEADING_ERRORS:
                    raise
                rec = {"id": row.id, "dataset": row.dataset, "file": row.file, "line": row.line,
                       "question": row.question, "error": f"{type(e).__name__}: {e}"}
            records.append(rec)
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
            fh.flush()
            advance(row.dataset or "")

    meta = {
        "started": started.isoformat(timespec="seconds"),
        "seconds": round((datetime.now(timezone.utc) - started).total_seconds(), 1),
        "files": [str(p) for p in paths], "limit": limit, "rows": len(rows),
        "skipped": [{"file": s.file, "line": s.line, "reason": s.reason} for s in skipped],
        "support_check": M.support_checker(),
        "k_counts": "distinct sections (first passage of a section gives its rank)",
        "settings": settings.answer_snapshot(),
    }
    report = build_report(records, baselines_run=bool(baseline_fns), meta=meta)
    R.write_reports(report, records, out)
    return EvalRun(report=report, records=records, skipped=skipped, out=out)


def _warm_up(answer_fn: Callable[..., Any], row: EvalRow, settings: Settings) -> None:
    """One untimed ``answer()`` before the run, so that model and index loading is not counted as the latency
    of the first row. A fatal engine error (no index) stops here; any other error is left to the row itself."""
    try:
        answer_fn(row.question, row.history, settings)
    except FATAL:
        raise
    except Exception:
        pass


class _progress:
    """A rich progress bar (or nothing) as a context manager yielding ``advance(label)``."""

    def __init__(self, enabled: bool, total: int):
        self.enabled, self.total, self.bar = enabled, total, None

    def __enter__(self) -> Callable[[str], None]:
        if not self.enabled:
            return lambda label: None
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

        self.bar = Progress(TextColumn("[bold]eval[/] {task.description}"), BarColumn(), MofNCompleteColumn(),
                            TimeElapsedColumn(), TimeRemainingColumn(), transient=False)
        self.bar.__enter__()
        task = self.bar.add_task("", total=self.total)
        return lambda label: self.bar.update(task, advance=1, description=label)

    def __exit__(self, *exc: Any) -> None:
        if self.bar is not None:
            self.bar.__exit__(*exc)


# --- regression gate -----------------------------------------------------------------------------------
def load_thresholds(path: Path) -> dict[str, dict[str, dict[str, float]]]:
    """``{set: {"min": {metric: floor}, "max": {metric: ceiling}}}`` from a thresholds TOML:
    ``[SET]`` holds floors (metric ≥ value), an optional ``[SET.max]`` ceilings (metric ≤ value)."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise BadInputError(f"{path}: cannot read the thresholds ({e})") from None
    known = set(REPORT_KEYS) - {"n", "answerable"}
    out: dict[str, dict[str, dict[str, float]]] = {}
    for name, table in data.items():
        if not isinstance(table, dict):
            continue  # top-level scalars (e.g. margin) are documentation
        floors = {k: v for k, v in table.items() if k != "max"}
        ceilings = table.get("max", {})
        for kind, part in (("min", floors), ("max", ceilings)):
            for metric, value in part.items():
                if metric not in known:
                    raise BadInputError(f"{path}: [{name}] unknown metric {metric!r} (known: {', '.join(sorted(known))})")
                if not isinstance(value, (int, float)) or isinstance(value, bool):
                    raise BadInputError(f"{path}: [{name}] {metric} must be a number")
        out[name] = {"min": {k: float(v) for k, v in floors.items()}, "max": {k: float(v) for k, v in ceilings.items()}}
    return out


def check_thresholds(report: dict[str, Any], path: Path) -> list[str]:
    """Every metric below its floor (or above its ceiling), one readable line each; sets of the thresholds
    file that the run did not evaluate are not checked."""
    failures: list[str] = []
    for name, limits in load_thresholds(path).items():
        got = report["datasets"].get(name)
        if got is None:
            continue
        for metric, floor in limits["min"].items():
            v = got.get(metric)
            if v is None:
                failures.append(f"{name} {metric}: not measured (floor {floor:g})")
            elif v < floor:
                failures.append(f"{name} {metric} = {v:.4g} is below its floor {floor:g}")
        for metric, ceiling in limits["max"].items():
            v = got.get(metric)
            if v is None:
                failures.append(f"{name} {metric}: not measured (ceiling {ceiling:g})")
            elif v > ceiling:
                failures.append(f"{name} {metric} = {v:.4g} is above its ceiling {ceiling:g}")
    return failures


def unevaluated_sets(report: dict[str, Any], path: Path) -> list[str]:
    return [n for n in load_thresholds(path) if n not in report["datasets"]]


def iter_records(path: Path) -> Iterable[dict[str, Any]]:
    with Path(path).open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)
