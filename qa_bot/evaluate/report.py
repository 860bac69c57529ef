"""Writes an eval run as ``report.json``, ``report.md`` (tables) and ``report.html`` (one self-contained
page: inline SVG charts drawn here, inline CSS, no script, nothing fetched)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from html import escape
from pathlib import Path
from typing import Any

from .metrics import RECALL_KS, RETRIEVAL_KEYS

ENGINE, BM25, DENSE = "engine", "bm25", "dense"
COLORS = {ENGINE: "#2563eb", BM25: "#f59e0b", DENSE: "#10b981"}
QUALITY_KEYS = ("avg_score", "rougeL", "fact_recall", "bottom_line_fact_recall", "fact_coverage", "citation_support", "disclaimer_rate", "abstain_precision",
                "abstain_recall", "false_abstain_rate")
LOWER_IS_BETTER = {"false_abstain_rate", "uncited_sentences", "latency_ms_p50", "latency_ms_p95"}
WORST_N = 5


def write_reports(report: dict[str, Any], records: Sequence[dict[str, Any]], out: Path) -> None:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (out / "report.md").write_text(render_markdown(report, records), encoding="utf-8")
    (out / "report.html").write_text(render_html(report, records), encoding="utf-8")


# --- shared helpers ------------------------------------------------------------------------------------
def fmt(v: Any, key: str = "") -> str:
    if v is None:
        return "n/a"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        if key.startswith("latency"):
            return f"{v:,.0f}" if v >= 10 else f"{v:.1f}"
        return f"{v:.3f}"
    return str(v)


def row_score(rec: dict[str, Any]) -> float | None:
    """How well one row went, for picking the worst: nDCG@10 for rows with gold evidence (halved when the
    engine abstained anyway), 1/0 for abstaining/answering on unanswerable rows."""
    if "error" in rec:
        return None
    m = rec.get("metrics", {})
    if "ndcg@10" in m:
        return m["ndcg@10"] * (0.5 if rec.get("abstained") else 1.0)
    if not rec.get("answerable"):
        return 1.0 if rec.get("abstained") else 0.0
    return None


def worst_rows(records: Sequence[dict[str, Any]], dataset: str, n: int = WORST_N) -> list[dict[str, Any]]:
    scored = [(row_score(r), i, r) for i, r in enumerate(records) if r.get("dataset") == dataset]
    scored = [(s, i, r) for s, i, r in scored if s is not None and s < 1.0]
    scored.sort(key=lambda t: (t[0], t[1]))
    return [r for _, _, r in scored[:n]]


def _answer_text(rec: dict[str, Any], limit: int = 2) -> str:
    if rec.get("abstained"):
        return f"(abstained: {rec.get('abstain_reason') or 'no answer in the corpus'})"
    sents = rec.get("sentences") or []
    text = " ".join(f"{s['text']}" + "".join(f"[{c}]" for c in s.get("citations", [])) for s in sents[:limit])
    return text + (" …" if len(sents) > limit else "")


def fact_failures(records: Sequence[dict[str, Any]], dataset: str) -> list[dict[str, Any]]:
    """Rows of ``dataset`` with ``must_mention`` whose answer or bottom line misses a key fact, in file order."""
    return [r for r in records if r.get("dataset") == dataset and r.get("facts")
            and (r["facts"]["missing"] or r["facts"]["bottom_line_missing"])]


def _bottom_line(rec: dict[str, Any]) -> str:
    if rec.get("abstained"):
        return f"(abstained: {rec.get('abstain_reason') or 'no answer in the corpus'})"
    text = " ".join(s["text"] + "".join(f"[{c}]" for c in s.get("citations", []))
                    for s in rec.get("sentences") or [] if s.get("group") == "bottom_line")
    return text or "(no bottom line)"


def _patterns(ps: Sequence[str]) -> str:
    return ", ".join(f"`{p}`" for p in ps) if ps else "none"


def _unit_label(p: dict[str, Any]) -> str:
    where = p.get("heading") or p.get("title") or ""
    return f"{p.get('section_id') or p.get('doc_id')}" + (f" — {where}" if where else "")


def _gold_label(g: dict[str, Any]) -> str:
    ident = g.get("section_id") or f"{g['doc_id']} (whole document)"
    return f"{ident}" + (f" — {g['heading']}" if g.get("heading") else "") + f" (grade {g.get('grade')})"


def _distinct_retrieved(rec: dict[str, Any], k: int = 5) -> list[dict[str, Any]]:
    seen: set[str] = set()
    out: list[dict[str, Any]] = []
    for p in rec.get("retrieved") or []:
        key = p.get("section_id") or p.get("chunk_id")
        if key in seen:
            continue
        seen.add(key)
        out.append(p)
        if len(out) == k:
            break
    return out


def _latencies(records: Sequence[dict[str, Any]], dataset: str) -> list[float]:
    return [r["latency_ms"] for r in records if r.get("dataset") == dataset and "latency_ms" in r]


# --- markdown ------------------------------------------------------------------------------------------
def _md_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in r) + " |" for r in rows]
    return "\n".join(lines)


def render_markdown(report: dict[str, Any], records: Sequence[dict[str, Any]]) -> str:
    ds = report["datasets"]
    names = list(ds)
    meta = report.get("meta", {})
    parts = ["# qa_bot answer-quality evaluation", "",
             f"Run {meta.get('started', '')} · {meta.get('rows', sum(d['n'] for d in ds.values()))} rows · "
             f"{meta.get('seconds', '?')} s · support check: {meta.get('support_check', '?')} · "
             f"k counts {meta.get('k_counts', 'distinct sections')}", ""]
    keys = [k for k in next(iter(ds.values())).keys() if k not in ("recall_curve",)] if ds else []
    parts += ["## Metrics per set", "", _md_table(["metric", *names], [[k, *[fmt(ds[n].get(k), k) for n in names]] for k in keys]), ""]

    if meta.get("baselines_run"):
        parts += ["## Engine vs baselines (retrieval, answerable rows)", ""]
        rows = []
        for n in [n for n in names if ds[n].get("n_retrieval")]:
            for sys_name, src in ((ENGINE, ds[n]), (BM25, report["baselines"][BM25].get(n, {})),
                                  (DENSE, report["baselines"][DENSE].get(n, {}))):
                rows.append([n, sys_name, *[fmt(src.get(k), k) for k in RETRIEVAL_KEYS]])
        parts += [_md_table(["set", "system", *RETRIEVAL_KEYS], rows), ""]

    parts += ["## Recall@k (k = distinct sections)", ""]
    rows = []
    for n in names:
        for sys_name, src in _systems(report, n):
            curve = src.get("recall_curve")
            if curve:
                rows.append([n, sys_name, *[fmt(v) for v in curve]])
    parts += [_md_table(["set", "system", *[f"@{k}" for k in RECALL_KS]], rows) if rows else "_no answerable rows_", ""]

    parts += ["## Latency of answer() (ms)", ""]
    rows = []
    for n in names:
        lat = sorted(_latencies(records, n))
        if lat:
            rows.append([n, str(len(lat)), fmt(ds[n].get("latency_ms_p50"), "latency"), fmt(ds[n].get("latency_ms_p95"), "latency"),
                         fmt(sum(lat) / len(lat), "latency"), fmt(lat[-1], "latency")])
    parts += [_md_table(["set", "rows", "p50", "p95", "mean", "max"], rows), ""]

    parts += ["## Worst-scoring questions", "",
              "Score: nDCG@10 (halved when the engine abstained anyway); on unanswerable rows 1 = abstained, 0 = answered.", ""]
    for n in names:
        worst = worst_rows(records, n)
        if not worst:
            continue
        parts += [f"### {n}", ""]
        for r in worst:
            parts.append(f"- **{r['id']}** (score {fmt(row_score(r))}): {r['question']}")
            if r.get("history"):
                parts.append(f"  - after: {r['history'][0]['content'][:200]}")
            if r.get("standalone_question") and r["standalone_question"] != r["question"]:
                parts.append(f"  - standalone: {r['standalone_question']}")
            parts.append(f"  - answer: {_answer_text(r)}")
            ret = _distinct_retrieved(r)
            parts.append("  - retrieved: " + ("; ".join(("✓ " if p.get("gold") else "") + _unit_label(p) for p in ret) or "nothing"))
            parts.append("  - gold: " + ("; ".join(_gold_label(g) for g in r.get("gold", [])) or "none (unanswerable)"))
        parts.append("")

    fact_sets = [n for n in names if ds[n].get("n_facts")]
    if fact_sets:
        parts += ["## Key facts missed (must_mention)", "",
                  "Answerable rows whose answer (fact_recall) or bottom line (bottom_line_fact_recall) does not match "
                  "every must_mention pattern; an abstention misses them all.", ""]
        for n in fact_sets:
            fails = fact_failures(records, n)
            parts += [f"### {n}: {len(fails)} of {ds[n]['n_facts']} rows", ""]
            for r in fails:
                f = r["facts"]
                parts.append(f"- **{r['id']}**: {r['question']}")
                if r.get("standalone_question") and r["standalone_question"] != r["question"]:
                    parts.append(f"  - standalone: {r['standalone_question']}")
                parts.append(f"  - missing in the answer: {_patterns(f['missing'])}")
                parts.append(f"  - missing in the bottom line: {_patterns(f['bottom_line_missing'])}")
                parts.append(f"  - bottom line: {_bottom_line(r)}")
            parts.append("")

    errors, skipped = meta.get("errors") or [], meta.get("skipped") or []
    if errors or skipped:
        parts += ["## Rows not evaluated", ""]
        parts += [f"- skipped {s['reason']}" for s in skipped]
        parts += [f"- error {e['file']}:{e['line']} ({e['id']}): {e['error']}" for e in errors]
        parts.append("")
    return "\n".join(parts)


def _systems(report: dict[str, Any], name: str) -> list[tuple[str, dict[str, Any]]]:
    out = [(ENGINE, report["datasets"][name])]
    if report.get("meta", {}).get("baselines_run"):
        out += [(b, report["baselines"][b].get(name, {})) for b in (BM25, DENSE)]
    return out


# --- SVG charts ----------------------------------------------------------------------------------------
def _svg(width: int, height: int, body: list[str], title: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
            f'role="img" aria-label="{escape(title)}"><title>{escape(title)}</title>' + "".join(body) + "</svg>")


def _axis(x0: int, y0: int, w: int, h: int, ymax: float, ticks: int = 4, fmt_tick=lambda v: f"{v:g}") -> list[str]:
    out = []
    for i in range(ticks + 1):
        v = ymax * i / ticks
        y = y0 + h - h * i / ticks
        out.append(f'<line x1="{x0}" y1="{y:.1f}" x2="{x0 + w}" y2="{y:.1f}" stroke="#e5e7eb"/>')
        out.append(f'<text x="{x0 - 6}" y="{y + 4:.1f}" text-anchor="end" class="t">{escape(fmt_tick(v))}</text>')
    out.append(f'<line x1="{x0}" y1="{y0 + h}" x2="{x0 + w}" y2="{y0 + h}" stroke="#9ca3af"/>')
    return out


def _legend(series: list[tuple[str, str]], x: int, y: int) -> list[str]:
    out = []
    for name, color in series:
        out.append(f'<rect x="{x}" y="{y - 9}" width="10" height="10" fill="{color}"/>'
                   f'<text x="{x + 14}" y="{y}" class="t">{escape(name)}</text>')
        x += 18 + 7 * len(name) + 12
    return out


def bar_chart(categories: list[str], series: list[tuple[str, str, list[float | None]]], title: str,
              ymax: float = 1.0, width: int = 560, height: int = 250) -> str:
    """Grouped vertical bars, one group per category, one bar per series; n/a where a value is missing."""
    x0, y0, w, h = 44, 30, width - 56, height - 80
    body = _axis(x0, y0, w, h, ymax)
    gw = w / max(1, len(categories))
    bw = min(28.0, (gw - 10) / max(1, len(series)))
    for ci, cat in enumerate(categories):
        gx = x0 + ci * gw + (gw - bw * len(series)) / 2
        for si, (name, color, values) in enumerate(series):
            v = values[ci]
            x = gx + si * bw
            if v is None:
                body.append(f'<text x="{x + bw / 2:.1f}" y="{y0 + h - 4}" text-anchor="middle" class="t na">n/a</text>')
                continue
            bh = h * max(0.0, min(v, ymax)) / ymax
            body.append(f'<rect x="{x:.1f}" y="{y0 + h - bh:.1f}" width="{bw - 2:.1f}" height="{bh:.1f}" fill="{color}">'
                        f'<title>{escape(name)} {escape(cat)}: {v:.3f}</title></rect>')
            body.append(f'<text x="{x + bw / 2 - 1:.1f}" y="{y0 + h - bh - 3:.1f}" text-anchor="middle" class="v">{v:.2f}</text>')
        body.append(f'<text x="{x0 + ci * gw + gw / 2:.1f}" y="{y0 + h + 16}" text-anchor="middle" class="t">{escape(cat)}</text>')
    body += _legend([(n, c) for n, c, _ in series], x0, height - 12)
    body.append(f'<text x="{x0}" y="16" class="h">{escape(title)}</text>')
    return _svg(width, height, body, title)


def line_chart(xs: list[int], series: list[tuple[str, str, list[float] | None]], title: str, xlabel: str = "k",
               ymax: float = 1.0, width: int = 420, height: int = 250) -> str:
    x0, y0, w, h = 44, 30, width - 60, height - 84
    body = _axis(x0, y0, w, h, ymax)
    span = max(1, len(xs) - 1)
    for i, x in enumerate(xs):
        px = x0 + w * i / span
        body.append(f'<text x="{px:.1f}" y="{y0 + h + 16}" text-anchor="middle" class="t">{x}</text>')
    body.append(f'<text x="{x0 + w / 2}" y="{y0 + h + 32}" text-anchor="middle" class="t">{escape(xlabel)}</text>')
    for name, color, ys in reversed(series):  # the first series (the engine) is drawn on top
        if not ys:
            continue
        pts = [(x0 + w * i / span, y0 + h - h * max(0.0, min(y or 0.0, ymax)) / ymax) for i, y in enumerate(ys)]
        dash = "" if name == ENGINE else ' stroke-dasharray="6 3"'
        body.append(f'<polyline fill="none" stroke="{color}" stroke-width="2"{dash} points="'
                    + " ".join(f"{px:.1f},{py:.1f}" for px, py in pts) + '"/>')
        for (px, py), y, x in zip(pts, ys, xs):
            body.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3" fill="{color}"><title>{escape(name)} @{x}: '
                        f'{(y or 0):.3f}</title></circle>')
    body += _legend([(n, c) for n, c, ys in series if ys], x0, height - 10)
    body.append(f'<text x="{x0}" y="16" class="h">{escape(title)}</text>')
    return _svg(width, height, body, title)


def histogram(values: list[float], title: str, markers: dict[str, float | None] | None = None, bins: int = 20,
              width: int = 420, height: int = 220, color: str = COLORS[ENGINE]) -> str:
    x0, y0, w, h = 44, 30, width - 60, height - 74
    if not values:
        return _svg(width, height, [f'<text x="{x0}" y="16" class="h">{escape(title)}</text>',
                                    f'<text x="{x0}" y="60" class="t na">no rows</text>'], title)
    lo, hi = 0.0, max(values) * 1.05 or 1.0
    step = (hi - lo) / bins
    num = (lambda v: f"{v:.2f}") if hi < 10 else (lambda v: f"{v:,.0f}")
    counts = [0] * bins
    for v in values:
        counts[min(bins - 1, int((v - lo) / step))] += 1
    cmax = max(counts)
    body = _axis(x0, y0, w, h, float(cmax), ticks=min(4, cmax), fmt_tick=lambda v: f"{v:.0f}")
    bw = w / bins
    for i, c in enumerate(counts):
        bh = h * c / cmax
        body.append(f'<rect x="{x0 + i * bw:.1f}" y="{y0 + h - bh:.1f}" width="{bw - 1:.1f}" height="{bh:.1f}" fill="{color}">'
                    f'<title>{num(lo + i * step)}–{num(lo + (i + 1) * step)} ms: {c}</title></rect>')
    for i in range(0, bins + 1, 5):
        body.append(f'<text x="{x0 + i * bw:.1f}" y="{y0 + h + 16}" text-anchor="middle" class="t">{num(lo + i * step)}</text>')
    body.append(f'<text x="{x0 + w / 2}" y="{y0 + h + 32}" text-anchor="middle" class="t">ms</text>')
    for mi, (label, v) in enumerate((markers or {}).items()):
        if v is None:
            continue
        px = x0 + w * (v - lo) / (hi - lo)
        right = px > x0 + w * 0.7
        body.append(f'<line x1="{px:.1f}" y1="{y0}" x2="{px:.1f}" y2="{y0 + h}" stroke="#dc2626" stroke-dasharray="4 3"/>'
                    f'<text x="{px + (-3 if right else 3):.1f}" y="{y0 + 10 + 12 * mi}" text-anchor="{"end" if right else "start"}" '
                    f'class="t" fill="#dc2626">{escape(label)} {num(v)}</text>')
    body.append(f'<text x="{x0}" y="16" class="h">{escape(title)}</text>')
    return _svg(width, height, body, title)


def meter_rows(items: list[tuple[str, float | None, float, bool]], title: str, width: int = 420) -> str:
    """Horizontal bars: (label, value, scale max, lower is better)."""
    row_h, x0 = 24, 150
    height = 30 + row_h * len(items) + 6
    w = width - x0 - 60
    body = [f'<text x="4" y="16" class="h">{escape(title)}</text>']
    for i, (label, v, vmax, lower) in enumerate(items):
        y = 30 + i * row_h
        body.append(f'<text x="{x0 - 8}" y="{y + 13}" text-anchor="end" class="t">{escape(label)}{" ↓" if lower else ""}</text>')
        body.append(f'<rect x="{x0}" y="{y + 2}" width="{w}" height="14" fill="#f3f4f6"/>')
        if v is None:
            body.append(f'<text x="{x0 + 4}" y="{y + 13}" class="t na">n/a</text>')
            continue
        frac = max(0.0, min(1.0, v / vmax)) if vmax else 0.0
        good = (1 - frac) if lower else frac
        color = "#16a34a" if good >= 0.75 else "#f59e0b" if good >= 0.5 else "#dc2626"
        body.append(f'<rect x="{x0}" y="{y + 2}" width="{w * frac:.1f}" height="14" fill="{color}"/>'
                    f'<text x="{x0 + w + 6}" y="{y + 13}" class="v">{v:.3f}</text>')
    return _svg(width, height, body, title)


# --- HTML ----------------------------------------------------------------------------------------------
CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;background:#f8fafc;color:#111827}
main{max-width:1280px;margin:0 auto;padding:20px 28px}
h1{font-size:22px;margin:0 0 4px} h2{font-size:18px;margin:28px 0 10px} h3{font-size:15px;margin:18px 0 6px}
.meta{color:#4b5563;font-size:13px}
.card{background:#fff;border:1px solid #e5e7eb;border-radius:8px;padding:14px 16px;margin:14px 0}
.charts{display:flex;flex-wrap:wrap;gap:14px;align-items:flex-start}
table{border-collapse:collapse;font-size:13px;background:#fff} td,th{border:1px solid #e5e7eb;padding:4px 8px;text-align:right;vertical-align:top}
th{background:#f3f4f6} td:first-child,th:first-child{text-align:left}
table.worst td,table.worst th{text-align:left;max-width:420px} .gold{color:#15803d;font-weight:600} .miss{color:#6b7280}
svg .t{font-size:11px;fill:#374151} svg .v{font-size:10px;fill:#111827} svg .h{font-size:13px;font-weight:600;fill:#111827}
svg .na{fill:#9ca3af;font-style:italic} .bad{color:#b91c1c} small{color:#6b7280}
"""


def _summary_table(report: dict[str, Any]) -> str:
    ds = report["datasets"]
    names = list(ds)
    keys = [k for k in next(iter(ds.values())).keys() if k != "recall_curve"] if ds else []
    head = "<tr><th>metric</th>" + "".join(f"<th>{escape(n)}</th>" for n in names) + "</tr>"
    body = "".join("<tr><td>" + escape(k) + (" ↓" if k in LOWER_IS_BETTER else "") + "</td>"
                   + "".join(f"<td>{escape(fmt(ds[n].get(k), k))}</td>" for n in names) + "</tr>" for k in keys)
    return f"<table>{head}{body}</table>"


def _worst_table(records: Sequence[dict[str, Any]], name: str) -> str:
    worst = worst_rows(records, name)
    if not worst:
        return "<p><small>No row scored below 1.</small></p>"
    rows = []
    for r in worst:
        q = escape(r["question"])
        if r.get("history"):
            q = f"<small>after “{escape(r['history'][0]['content'][:160])}”</small><br>{q}"
        if r.get("standalone_question") and r["standalone_question"] != r["question"]:
            q += f"<br><small>standalone: {escape(r['standalone_question'])}</small>"
        ret = "<br>".join(f'<span class="{"gold" if p.get("gold") else "miss"}">{"✓ " if p.get("gold") else ""}'
                          f'{escape(_unit_label(p))}</span>' for p in _distinct_retrieved(r)) or "<i>nothing</i>"
        gold = "<br>".join(escape(_gold_label(g)) for g in r.get("gold", [])) or "<i>none (unanswerable)</i>"
        rows.append(f"<tr><td><b>{escape(r['id'])}</b><br>{q}</td><td>{fmt(row_score(r))}</td>"
                    f"<td>{escape(_answer_text(r))}</td><td>{ret}</td><td>{gold}</td></tr>")
    return ('<table class="worst"><tr><th>question</th><th>score</th><th>answer</th><th>retrieved (top 5 sections)</th>'
            "<th>gold</th></tr>" + "".join(rows) + "</table>")


def _facts_table(records: Sequence[dict[str, Any]], name: str, n_facts: int) -> str:
    fails = fact_failures(records, name)
    head = f"<h3>Key facts missed (must_mention): {len(fails)} of {n_facts} rows</h3>"
    if not fails:
        return head + "<p><small>Every answer and bottom line states every key fact.</small></p>"

    def pats(ps: Sequence[str]) -> str:
        return "<br>".join(f"<code>{escape(p)}</code>" for p in ps) or "<i>none</i>"

    rows = []
    for r in fails:
        q = escape(r["question"])
        if r.get("standalone_question") and r["standalone_question"] != r["question"]:
            q += f"<br><small>standalone: {escape(r['standalone_question'])}</small>"
        rows.append(f"<tr><td><b>{escape(r['id'])}</b><br>{q}</td><td>{pats(r['facts']['missing'])}</td>"
                    f"<td>{pats(r['facts']['bottom_line_missing'])}</td><td>{escape(_bottom_line(r))}</td></tr>")
    return (head + '<table class="worst"><tr><th>question</th><th>missing in the answer</th>'
            "<th>missing in the bottom line</th><th>bottom line</th></tr>" + "".join(rows) + "</table>")


def render_html(report: dict[str, Any], records: Sequence[dict[str, Any]]) -> str:
    ds = report["datasets"]
    meta = report.get("meta", {})
    baselines_run = bool(meta.get("baselines_run"))
    parts = [f"<h1>qa_bot answer-quality evaluation</h1><div class='meta'>Run {escape(str(meta.get('started', '')))} · "
             f"{escape(str(meta.get('rows', '')))} rows from {escape(', '.join(meta.get('files', [])))} · "
             f"{escape(str(meta.get('seconds', '?')))} s · support check: {escape(str(meta.get('support_check', '?')))} · "
             f"k counts {escape(str(meta.get('k_counts', 'distinct sections')))} · settings: "
             f"{escape(json.dumps(meta.get('settings', {})))}</div>"]
    if not baselines_run:
        parts.append("<p class='meta'>Baselines were not run (add <code>--baselines</code>).</p>")

    # overview: one chart per retrieval metric across sets
    names = list(ds)
    overview = []
    for key in ("recall@5", "hit@5", "recall@10", "ndcg@10"):
        series = [(s, COLORS[s], [(ds[n] if s == ENGINE else report["baselines"][s].get(n, {})).get(key) for n in names])
                  for s in ([ENGINE, BM25, DENSE] if baselines_run else [ENGINE])]
        overview.append(bar_chart(names, series, f"{key} per set", width=max(420, 110 * len(names))))
    parts.append("<h2>Overview</h2><div class='card charts'>" + "".join(overview) + "</div>")
    parts.append("<div class='card'>" + _summary_table(report) + "<p><small>↓ lower is better. "
                 "Retrieval measures are over answerable rows; avg_score is the TREC LiveQA 0–3 score.</small></p></div>")

    for name in names:
        d = ds[name]
        systems = _systems(report, name)
        charts = [bar_chart(list(RETRIEVAL_KEYS), [(s, COLORS[s], [src.get(k) for k in RETRIEVAL_KEYS]) for s, src in systems],
                            f"{name}: retrieval ({d.get('n_retrieval', 0)} answerable rows with gold)"),
                  line_chart(list(RECALL_KS), [(s, COLORS[s], src.get("recall_curve")) for s, src in systems],
                             f"{name}: recall@k", xlabel="k (distinct sections)"),
                  meter_rows([(k, d.get(k), 3.0 if k == "avg_score" else 1.0, k in LOWER_IS_BETTER) for k in QUALITY_KEYS],
                             f"{name}: answers ({d['n']} rows, {d.get('abstained', 0)} abstained)"),
                  histogram(_latencies(records, name), f"{name}: latency of answer()",
                            {"p50": d.get("latency_ms_p50"), "p95": d.get("latency_ms_p95")})]
        extra = (f"<p class='meta'>uncited sentences: {fmt(d.get('uncited_sentences'))} of {fmt(d.get('sentences'))} · "
                 f"citation pairs: {fmt(d.get('citation_pairs'))} · errors: {fmt(d.get('errors', 0))}</p>")
        parts.append(f"<h2>{escape(name)}</h2><div class='card'><div class='charts'>{''.join(charts)}</div>{extra}"
                     f"<h3>Worst-scoring questions</h3>{_worst_table(records, name)}"
                     + (_facts_table(records, name, d["n_facts"]) if d.get("n_facts") else "") + "</div>")

    errors, skipped = meta.get("errors") or [], meta.get("skipped") or []
    if errors or skipped:
        items = [f"<li>skipped {escape(s['reason'])}</li>" for s in skipped]
        items += [f"<li>error {escape(str(e['file']))}:{e['line']} ({escape(e['id'])}): {escape(e['error'])}</li>" for e in errors]
        parts.append(f"<h2 class='bad'>Rows not evaluated ({len(items)})</h2><div class='card'><ul>{''.join(items)}</ul></div>")
    parts.append("<p><small>Worst-scoring: nDCG@10 (halved when the engine abstained anyway); on unanswerable rows 1 = "
                 "abstained, 0 = answered. Metric definitions: evals/README.md.</small></p>")
    return ("<!doctype html><html lang='en'><head><meta charset='utf-8'><meta name='viewport' content='width=device-width'>"
            f"<title>qa_bot eval</title><style>{CSS}</style></head><body><main>" + "".join(parts) + "</main></body></html>\n")

