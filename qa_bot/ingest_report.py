"""What ingest read from each file, for the people who add documents: pages, pages read by OCR, headings from an
outline or inferred, tables and their rows, forms, recommendation units, warnings, time (``qa-bot ingest --report``
and the admin's index page)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from .types import DocumentReport, IngestReport, LoadError, SourceDocument

_STOP = frozenset("the of and to in a is for with be or by as on are not that this at from should an it if".split())
_OWN_FILE = {".pdf", ".html", ".htm", ".md", ".markdown", ".txt"}  # one document a file (not a JSONL record)
_VOWEL = re.compile(r"[aeiouyAEIOUY]")
_ODD_CASE = re.compile(r"[a-z][A-Z]{2}|[A-Z][a-z][A-Z]")


def has_own_file(doc: SourceDocument) -> bool:
    return bool(doc.path) and Path(doc.path).suffix.lower() in _OWN_FILE


def warnings_for(doc: SourceDocument) -> list[str]:
    """Garbled text, blank pages, little English, no headings: what to check before clinicians rely on it."""
    out: list[str] = []
    words = re.findall(r"[^\W\d_]{4,}", doc.text)
    odd = [w for w in words if not _VOWEL.search(w) or _ODD_CASE.search(w)]
    if words and len(odd) > 0.25 * len(words):
        out.append(f"text looks garbled ({len(odd) / len(words):.0%} of the words are not words): check the file")
    tokens = re.findall(r"[^\W\d_]+", doc.text.lower())
    if len(tokens) >= 50 and sum(t in _STOP for t in tokens) < 0.05 * len(tokens):
        out.append("little English text: another language, or text without sentences")
    if doc.facts.get("empty_pages"):
        out.append("blank pages: " + ", ".join(str(p) for p in doc.facts["empty_pages"]))
    out += [n for n in doc.notices if "OCR failed" in n or "skipped" in n]
    return out


def document_report(doc: SourceDocument, chunks: int, seconds: float) -> DocumentReport:
    titled = 1 if doc.title else 0
    rows = [s for s in doc.sections if s.kind == "table_row"]
    outline = bool(doc.facts.get("outline_entries"))
    inferred = any(len(s.heading_path) > titled for s in doc.sections if s.kind is None)
    return DocumentReport(
        path=doc.path or doc.doc_id, doc_id=doc.doc_id, pages=doc.facts.get("pages"),
        ocr_pages=list(doc.facts.get("ocr_pages") or []), ocr_seconds=float(doc.facts.get("ocr_seconds") or 0.0),
        headings="outline" if outline else "inferred" if inferred else "none",
        sections=len(doc.sections), tables=len({tuple(s.heading_path) for s in rows}), table_rows=len(rows),
        forms=sum(1 for s in doc.sections if s.kind == "form_item"),
        recommendations=sum(1 for s in doc.sections if s.kind == "recommendation"),
        chunks=chunks, warnings=warnings_for(doc), seconds=round(seconds, 2))


def failed_report(err: LoadError) -> DocumentReport:
    return DocumentReport(path=err.path, failed=err.reason)


def summary(report: IngestReport) -> str:
    """One readable line per file, then the totals."""
    lines = []
    for d in report.per_document:
        name = Path(d.path).name
        if d.failed:
            lines.append(f"{name}: FAILED: {d.failed}")
            continue
        pages = f"{d.pages} page{'s' * (d.pages != 1)}" if d.pages is not None else "web/text page"
        ocr = f", {len(d.ocr_pages)} read by OCR in {d.ocr_seconds:.1f} s (page{'s' * (len(d.ocr_pages) > 1)} " \
              f"{_ranges(d.ocr_pages)})" if d.ocr_pages else ""
        lines.append(f"{name}: {pages}{ocr}; headings: {d.headings}; {d.sections} sections; {d.tables} tables, "
                     f"{d.table_rows} rows; {d.forms} form items; {d.recommendations} recommendations; "
                     f"{d.chunks} chunks; {d.seconds:.1f} s")
        lines += [f"    warning: {w}" for w in d.warnings]
    ocr_pages = sum(len(d.ocr_pages) for d in report.per_document)
    lines.append(f"{report.documents} documents indexed, {len(report.failed)} failed, {report.chunks} chunks, "
                 f"{ocr_pages} pages read by OCR, {report.seconds:.1f} s")
    return "\n".join(lines)


def write_report(report: IngestReport, path: Path) -> None:
    """The report as JSON (``FILE``) and as text (``FILE`` with ``.txt``; ``FILE`` itself when it ends in .txt)."""
    text = summary(report)
    if path.suffix.lower() == ".txt":
        path.write_text(text + "\n", encoding="utf-8")
        return
    path.write_text(json.dumps(report.model_dump(mode="json"), indent=2) + "\n", encoding="utf-8")
    path.with_suffix(".txt").write_text(text + "\n", encoding="utf-8")


def _ranges(pages: list[int]) -> str:
    out: list[str] = []
    for p in sorted(pages):
        if out and re.fullmatch(rf"(?:\d+–)?{p - 1}", out[-1]):
            out[-1] = f"{out[-1].split('–')[0]}–{p}"
        else:
            out.append(str(p))
    return ", ".join(out)


def remember_documents(store, report: IngestReport) -> None:
    """Keeps each file's latest report in the index (``documents_read``) for the admin's index page: the files of
    this ingest replace their earlier entries, the others stay."""
    try:
        known = json.loads(store.meta_get("documents_read") or "{}")
    except ValueError:
        known = {}
    for d in report.per_document:
        known[d.path] = d.model_dump(mode="json")
    store.meta_set("documents_read", json.dumps(known))


def documents_read(store) -> list[DocumentReport]:
    """What ``remember_documents`` kept, by file name."""
    try:
        known = json.loads(store.meta_get("documents_read") or "{}")
    except ValueError:
        return []
    return sorted((DocumentReport(**v) for v in known.values()), key=lambda d: Path(d.path).name.lower())
