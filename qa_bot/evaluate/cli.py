"""``qa-bot eval``: registered in ``qa_bot/cli.py`` with ``app.command("eval")(eval_command)``."""

from __future__ import annotations

import os
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


class Audience(str, Enum):
    clinician = "clinician"
    patient = "patient"


SUMMARY_KEYS = ("n", "recall@5", "hit@5", "recall@10", "ndcg@10", "avg_score", "rougeL", "fact_recall",
                "bottom_line_fact_recall", "fact_coverage", "citation_support", "disclaimer_rate",
                "abstain_recall", "false_abstain_rate", "latency_ms_p95")


def eval_command(
    datasets: Annotated[list[Path], typer.Argument(help="Eval sets (JSONL, schema in evals/datasets/README.md).",
                                                   exists=True, dir_okay=False, readable=True)],
    out: Annotated[Path, typer.Option("--out", help="Folder for results.jsonl and report.json/.md/.html.")],
    limit: Annotated[Optional[int], typer.Option("--limit", min=1, help="Only the first N rows of each file.")] = None,
    baselines: Annotated[bool, typer.Option("--baselines", help="Also measure BM25 alone and plain dense top-k.")] = False,
    audience: Annotated[Optional[Audience], typer.Option("--audience", help="Answer for clinician or patient.")] = None,
    check: Annotated[Optional[Path], typer.Option("--check", help="Thresholds TOML: exit 1 when a metric is below its floor.",
                                                  exists=True, dir_okay=False)] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Measure answer quality offline on eval sets, and optionally gate on floors (exit 1 when below)."""
    from rich.console import Console
    from rich.table import Table

    from ..errors import QABotError
    from ..render import escape_controls
    from ..settings import Settings
    from .report import fmt
    from .runner import check_thresholds, load_thresholds, run_eval, unevaluated_sets

    console, err = Console(), Console(stderr=True, soft_wrap=True)  # error lines stay whole (greppable in CI logs)

    def fail(message: str, code: int = 2) -> None:
        from rich.markup import escape

        err.print(f"[bold red]error:[/] {escape(message)}", highlight=False)
        raise typer.Exit(code)

    try:
        settings = Settings()
    except Exception as e:  # pydantic validation of env/config
        fail(f"bad configuration: {str(e).splitlines()[0]}")
        return
    if check is not None:
        try:
            load_thresholds(check)  # a broken thresholds file should fail before an hour of answering
        except QABotError as e:
            fail(str(e))
    try:
        run = run_eval(datasets, out, settings, limit=limit, baselines=baselines,
                       audience=audience.value if audience else None, progress=not quiet)
    except QABotError as e:
        fail(str(e))
        return
    except KeyboardInterrupt:
        err.print(f"interrupted: rows answered so far are in {out / 'results.jsonl'}", markup=False)
        raise typer.Exit(130) from None

    report = run.report
    for s in run.skipped:
        err.print(escape_controls(f"skipped {s}"), highlight=False, markup=False)
    for e in report["meta"]["errors"]:
        err.print(escape_controls(f"row failed {e['file']}:{e['line']} ({e['id']}): {e['error']}"), highlight=False,
                  markup=False)

    names = list(report["datasets"])
    table = Table(title="qa-bot eval")
    table.add_column("metric")
    for name in names:
        table.add_column(name, justify="right")
    for k in SUMMARY_KEYS:
        table.add_row(k, *[fmt(report["datasets"][n].get(k), k) for n in names])
    if report["meta"].get("baselines_run"):
        for b, sets in report["baselines"].items():
            for k in ("recall@5", "hit@5", "recall@10"):
                table.add_row(f"{k} ({b})", *[fmt(sets.get(n, {}).get(k), k) for n in names])
    console.print(table)
    console.print(f"reports: {out / 'report.html'}, {out / 'report.md'}, {out / 'report.json'}; rows: {out / 'results.jsonl'}",
                  highlight=False, soft_wrap=True, markup=False)
    if run.skipped or report["meta"]["errors"]:
        err.print(f"{len(run.skipped)} row(s) skipped as unreadable, {len(report['meta']['errors'])} failed to answer "
                  "(listed above and in the report)", highlight=False)

    if check is not None:
        failures = check_thresholds(report, check)
        missing = unevaluated_sets(report, check)
        if missing:
            err.print(f"not checked (not in this run): {', '.join(missing)}", highlight=False, markup=False)
        if failures:
            from rich.markup import escape

            err.print(f"[bold red]regression gate failed[/] ({escape(str(check))}):", highlight=False)
            for f in failures:
                err.print(f"  {f}", highlight=False, markup=False)
            raise typer.Exit(1)
        console.print(f"regression gate passed ({check})", highlight=False, soft_wrap=True, markup=False)
