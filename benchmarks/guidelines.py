"""Real guideline documents, end to end: ingest ``../shared/data/guidelines`` (PDFs and a web page) into a
temporary index and answer its clinician questions (``questions.jsonl``: ``must_mention`` regexes).

    .venv/bin/python benchmarks/guidelines.py [FOLDER] [--keep DIR | --index-dir DIR] [--verbose]

``--index-dir DIR`` keeps the index in DIR and reuses it on the next run when the documents, ``PIPELINE_VERSION``,
OCR's availability and the reading code (load, PDF, web page, chunk, text modules) are unchanged: only the questions
are answered (seconds instead of minutes); the ingest figures printed are those of the run that built the index.

Prints:
* key facts: questions whose every ``must_mention`` regex is in the answer / in its bottom line;
* debris: answer sentences carrying PDF debris (the detectors below), with examples;
* page labels: answer sentences grouped under "Page N", and indexed sections of PDFs labelled "Page N" in
  documents that have headings (an outline);
* pages: PDF citations that carry a page;
* ingest: load + chunk time per page (pages/s) of text pages, OCR pages/s apart, and the whole ingest (with
  encoding) in seconds;
* per document and per publisher: key facts, bottom line, debris, false abstentions (answerable questions
  abstained), abstentions on the unanswerable questions (``"answerable": false``), pages, OCR pages, seconds;
* leave one publisher out: no parameter is fitted to these documents (the reading rules are fixed), so holding a
  publisher out changes nothing; what the figure checks is whether rules hold beyond the publisher they were
  written for: each publisher's key-fact rate (publisher = the file name's first word), averaged so that each
  publisher counts once, with the worst publisher beside it.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa_bot.settings import Settings  # noqa: E402

DEBRIS = {
    "dot leader": re.compile(r"(?:\.\s?){4,}|(?:…\s?){2,}|(?:·\s?){4,}"),
    "page footer/header": re.compile(r"©|\bpage \d+ of \d+\b|\bVol\.? \d+\s*/\s*No\.? \d+|\(NG\d+\)|"
                                     r"\b(?:Morbidity and Mortality Weekly Report|MMWR)\s*/|"
                                     r"Department of Health and Human Services/Centers", re.I),
    "glued rec number/year": re.compile(r"^\d{1,2}\.\d{1,2}\.\d{1,3}\s|\[(?:19|20)\d\d(?:,[^\]]*)?\]|"
                                        r"[a-z)]\.\s+\d{1,2}\.\d{1,2}(?:\.\d{1,3})?\s+[A-Z]"),
    "checklist cells": re.compile(r"\b(?:Yes|No)\s+(?:Yes|No)\b|[☐□❑✓✔]"),
    "hyphen break": re.compile(r"\b[a-z]{2,}- (?!and\b|or\b|to\b|through\b)[a-z]{2,}\b|\ufffe|\xad"),
    "stray glyph/bullet": re.compile(r"^\[ |\uf0b7|\uf0a7|\ufffd"),
}
PAGE_LABEL = re.compile(r"^Page \d+$")


def debris_kinds(text: str) -> list[str]:
    return [k for k, rx in DEBRIS.items() if rx.search(text)]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("folder", nargs="?", default=str(ROOT / ".." / "shared" / "data" / "guidelines"))
    ap.add_argument("--keep", help="index into this folder (kept) instead of a temporary one")
    ap.add_argument("--index-dir", help="keep the index in this folder and reuse it while the documents, "
                    "PIPELINE_VERSION and the reading code are unchanged (the ingest figures are the build's)")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    folder = Path(args.folder).resolve()
    questions = [json.loads(x) for x in (folder / "questions.jsonl").read_text().splitlines() if x.strip()]

    from qa_bot.engine import answer

    keep = args.index_dir or args.keep
    data = Path(keep) if keep else Path(tempfile.mkdtemp(prefix="qa-guidelines-"))
    # the documents only (questions.jsonl and the README are not documents), copied into a folder of their own (the
    # loader skips links to files outside the folder it reads)
    docs = data / "guidelines"
    docs.mkdir(parents=True, exist_ok=True)
    for f in sorted(folder.iterdir()):
        if f.suffix.lower() in {".pdf", ".html", ".htm"} and not (docs / f.name).exists():
            shutil.copyfile(f, docs / f.name)
    folder_docs = folder
    folder = docs
    settings = Settings(data_dir=data / "index", corpus=[folder])

    pdfs = sorted(folder_docs.glob("*.pdf"))
    n_pages, outlined = pdf_pages(pdfs)
    key = index_key(folder)
    state_file = data / "benchmark-state.json"
    state = json.loads(state_file.read_text()) if args.index_dir and state_file.exists() else {}
    if state.get("key") == key:
        print(f"reusing the index in {data} (documents, PIPELINE_VERSION and reading code unchanged)")
    else:
        state = build(folder, settings, outlined)
        state["key"] = key
        if args.index_dir:
            state_file.write_text(json.dumps(state))
    for path, reason in state["errors"]:
        print(f"load error: {path}: {reason}")
    for name, n in state["notices"]:
        print(f"notice: {name}: {n}")
    facts_of, chunk_s, pdf_docs = state["facts_of"], state["chunk_s"], set(state["pdf_docs"])
    ocr_pages = sum(len(f.get("ocr_pages") or []) for f in facts_of.values())
    t_ocr = sum(float(f.get("ocr_seconds") or 0) for f in facts_of.values())
    t_load, t_chunk, n_chunks, t_ingest = state["t_load"], sum(chunk_s.values()), state["n_chunks"], state["t_ingest"]

    facts = bottom = debris = page_grouped = sentences = 0
    pdf_cites = pdf_cites_paged = 0
    examples: list[str] = []
    per_doc: dict[str, Counter] = defaultdict(Counter)
    for q in questions:
        a = answer(q["question"], settings=settings)
        # each sentence as the answer shows it: with its note (a recommendation's strength and year)
        text = " ".join(shown(s) for s in a.sentences)
        bl = " ".join(shown(s) for s in a.bottom_line())
        answerable = q.get("answerable", True)
        ok = answerable and all(re.search(rx, text, re.I) for rx in q["must_mention"])
        ok_bl = answerable and all(re.search(rx, bl, re.I) for rx in q["must_mention"])
        facts += ok
        bottom += ok_bl
        row = per_doc[q["file"]]
        row.update({"questions": answerable, "unanswerable": not answerable, "facts": ok, "bottom": ok_bl,
                    "false_abstain": answerable and a.abstained, "abstain_unanswerable": not answerable and a.abstained})
        for s in a.sentences:
            sentences += 1
            kinds = debris_kinds(s.text)
            if kinds:
                debris += 1
                row["debris"] += 1
                examples.append(f"{q['id']} [{', '.join(kinds)}] {s.text[:160]}")
            if PAGE_LABEL.match(s.group or ""):
                page_grouped += 1
        for c in a.citations:
            if c.doc_id in pdf_docs:
                pdf_cites += 1
                pdf_cites_paged += getattr(c, "page", None) is not None
        if args.verbose:
            print(f"\n{q['id']} facts={'yes' if ok else 'NO'} bottom={'yes' if ok_bl else 'NO'} {q['question']}")
            for s in a.sentences:
                print(f"  [{s.group}] {s.text[:200]} {s.citations}")
            for c in a.citations:
                print(f"  ({c.n}) {c.doc_id} p.{getattr(c, 'page', None)} {c.heading}")
    n = sum(1 for q in questions if q.get("answerable", True))
    n_u = len(questions) - n
    false_abstain = sum(r["false_abstain"] for r in per_doc.values())
    abstain_u = sum(r["abstain_unanswerable"] for r in per_doc.values())
    failed = {Path(p).name: reason for p, reason in state["errors"]}
    print_per_document(per_doc, facts_of, chunk_s, failed)
    print(f"\nguideline set: {state['documents']} documents ({len(pdfs)} PDFs, {n_pages} pages), {n_chunks} chunks, "
          f"{len(questions)} questions ({n} answerable); {len(failed)} files failed to load")
    print(f"key facts in the answer      {facts}/{n} = {facts / n:.2f}   (bar 0.90)")
    print(f"key facts in the bottom line {bottom}/{n} = {bottom / n:.2f}   (bar 0.75)")
    print(f"answerable questions abstained {false_abstain}/{n} = {false_abstain / n:.2f}   (bar 0.05)")
    print(f"unanswerable questions abstained {abstain_u}/{n_u}   (bar all)")
    print(f"answer sentences with debris {debris} of {sentences}   (bar 0)")
    print(f"answer sentences under 'Page N' {page_grouped}; PDF sections labelled 'Page N' in outlined PDFs "
          f"{state['page_sections']}   (bar 0)")
    print(f"PDF citations with a page    {pdf_cites_paged}/{pdf_cites}   (bar all)")
    text_pages = n_pages - ocr_pages
    print(f"load {t_load:.1f}s + chunk {t_chunk:.1f}s for {n_pages} PDF pages (+ the web pages): "
          f"{n_pages / (t_load + t_chunk):.1f} pages/s; text pages {text_pages} in {t_load + t_chunk - t_ocr:.1f}s = "
          f"{text_pages / max(t_load + t_chunk - t_ocr, 1e-9):.1f} pages/s (bar 20); OCR {ocr_pages} pages in "
          f"{t_ocr:.1f}s = {ocr_pages / max(t_ocr, 1e-9):.2f} pages/s; whole ingest with encoding {t_ingest:.1f}s "
          f"({state['chunks']} chunks, {state['embedded']} encoded)")
    for e in examples[:20]:
        print("  debris:", e)


def shown(s) -> str:
    """A sentence as the answer shows it: its text, and its note in brackets after it."""
    return f"{s.text} ({s.note})" if s.note else s.text


def index_key(folder: Path) -> str:
    """What the index depends on: the documents' bytes, PIPELINE_VERSION, the source of the reading code and whether
    OCR is available (an index built without it lacks the scanned pages)."""
    import hashlib

    from qa_bot.load import PIPELINE_VERSION
    from qa_bot.pdf import tesseract_available

    h = hashlib.sha256(f"pipeline {PIPELINE_VERSION} ocr {tesseract_available()}".encode())
    code = ROOT / "qa_bot"
    for f in [*sorted(folder.iterdir()), *(code / m for m in ("load.py", "pdf.py", "webpage.py", "chunk.py", "text.py")),
              *sorted((code / "parse").glob("*.py"))]:
        if f.is_file():
            h.update(f.name.encode() + b"\0" + hashlib.sha256(f.read_bytes()).digest())
    return h.hexdigest()


def build(folder: Path, settings: Settings, outlined: set[str]) -> dict:
    """Load + chunk (timed), then ingest into ``settings``' index: what the report needs of both, as JSON."""
    from qa_bot.store import ingest

    loaded, t_load, chunk_s, n_chunks = load_and_chunk(folder, settings)
    t = time.perf_counter()
    report = ingest([folder], settings)
    t_ingest = time.perf_counter() - t
    pdf_docs = {d.doc_id for d in loaded.documents if (d.path or "").lower().endswith(".pdf")}
    page_sections = 0
    for d in loaded.documents:
        if d.doc_id in pdf_docs and Path(d.path).stem in outlined:
            page_sections += sum(1 for s in d.sections if s.heading_path and PAGE_LABEL.match(s.heading_path[-1]))
    return {"facts_of": {Path(d.path).name: d.facts for d in loaded.documents}, "t_load": t_load, "chunk_s": chunk_s,
            "n_chunks": n_chunks, "t_ingest": t_ingest, "pdf_docs": sorted(pdf_docs), "page_sections": page_sections,
            "errors": [(e.path, e.reason) for e in loaded.errors], "documents": len(loaded.documents),
            "notices": [(Path(d.path).name, n) for d in loaded.documents for n in getattr(d, "notices", []) or []],
            "chunks": report.chunks, "embedded": report.embedded}


def load_and_chunk(folder: Path, settings: Settings):
    """Load + chunk (what ingest costs before encoding): the documents, load seconds, chunk seconds per file,
    and the number of chunks."""
    from qa_bot.chunk import chunk_document
    from qa_bot.load import load

    t = time.perf_counter()
    loaded = load([folder], settings)
    t_load = time.perf_counter() - t
    chunk_document(loaded.documents[0], settings)  # tokenizer warm-up, not timed
    chunk_s: dict[str, float] = {}
    n_chunks = 0
    for d in loaded.documents:
        t1 = time.perf_counter()
        n_chunks += len(chunk_document(d, settings).chunks)
        chunk_s[Path(d.path).name] = time.perf_counter() - t1
    return loaded, t_load, chunk_s, n_chunks


def pdf_pages(pdfs: list[Path]) -> tuple[int, set[str]]:
    """Pages of all the PDFs, and the names of those with an outline (pypdf)."""
    import pypdf

    n_pages, outlined = 0, set()
    for p in pdfs:
        r = pypdf.PdfReader(str(p))
        n_pages += len(r.pages)
        if r.outline:
            outlined.add(p.stem)
    return n_pages, outlined


def publisher(file: str) -> str:
    """The issuing body from the file name's first word ("who_malaria…", "nhlbi-jnc7…" → who, nhlbi)."""
    return re.split(r"[-_]", file, maxsplit=1)[0].lower()


def print_per_document(per_doc: dict[str, Counter], facts_of: dict[str, dict], chunk_s: dict[str, float],
                       failed: dict[str, str]) -> None:
    print("\nper document: facts, bottom line, false abstentions (answerable), abstained on unanswerable, debris "
          "sentences, pages, OCR pages, load+chunk seconds")
    print(f"{'document':58} {'facts':>6} {'bottom':>6} {'abst':>5} {'unans':>5} {'debris':>6} {'pages':>5} "
          f"{'ocr':>4} {'secs':>6}")
    for file in sorted(set(per_doc) | set(failed)):
        r, f = per_doc[file], facts_of.get(file, {})
        secs = float(f.get("load_seconds") or 0) + chunk_s.get(file, 0.0)
        fail = "  FAILED TO LOAD" if file in failed else ""
        print(f"{file[:58]:58} {r['facts']:>2}/{r['questions']:<3} {r['bottom']:>2}/{r['questions']:<3} "
              f"{r['false_abstain']:>5} {r['abstain_unanswerable']:>2}/{r['unanswerable']:<2} {r['debris']:>6} "
              f"{f.get('pages', '-')!s:>5} {len(f.get('ocr_pages') or []):>4} {secs:>6.1f}{fail}")
    by_pub: dict[str, Counter] = defaultdict(Counter)
    for file, r in per_doc.items():
        by_pub[publisher(file)].update(r)
    rates = {p: r["facts"] / r["questions"] for p, r in by_pub.items() if r["questions"]}
    bl = {p: r["bottom"] / r["questions"] for p, r in by_pub.items() if r["questions"]}
    worst = min(rates, key=rates.get)
    print("per publisher (facts/bottom line): " + ", ".join(
        f"{p} {by_pub[p]['facts']}/{by_pub[p]['questions']}" for p in sorted(rates)))
    print(f"leave-one-publisher-out key facts: mean over {len(rates)} publishers {statistics.mean(rates.values()):.2f} "
          f"(bottom line {statistics.mean(bl.values()):.2f}); worst {worst} {rates[worst]:.2f}")


if __name__ == "__main__":
    main()
