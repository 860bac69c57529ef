"""Compare PDF libraries on the shared guideline PDFs: pages/s for plain text, for words with font size
(layout), outline entries, tables found. Prints one row per library and file.

    python benchmarks/pdf_libraries.py [FOLDER]   # default ../shared/data/guidelines

pdfplumber is not a dependency of qa_bot: install it into a scratch environment to include it (a library
that is not installed is reported and skipped).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

FOLDER = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parents[1] / "../shared/data/guidelines")


def pypdf_run(path: Path) -> dict:
    from pypdf import PdfReader

    t = time.perf_counter()
    r = PdfReader(str(path))
    text = [p.extract_text() or "" for p in r.pages]
    dt = time.perf_counter() - t

    def count(o):
        return sum(count(x) if isinstance(x, list) else 1 for x in o)

    return {"pages": len(text), "text_s": dt, "outline": count(r.outline), "chars": sum(map(len, text))}


def pdfium_run(path: Path) -> dict:
    import pypdfium2 as pdfium

    t = time.perf_counter()
    pdf = pdfium.PdfDocument(str(path))
    chars = 0
    for i in range(len(pdf)):
        tp = pdf[i].get_textpage()
        chars += len(tp.get_text_range())
    dt = time.perf_counter() - t
    # layout: per-character font size and box (raw API)
    import pypdfium2.raw as raw

    t = time.perf_counter()
    for i in range(len(pdf)):
        tp = pdf[i].get_textpage()
        for c in range(tp.count_chars()):
            raw.FPDFText_GetFontSize(tp, c)
            tp.get_charbox(c)
    lt = time.perf_counter() - t
    return {"pages": len(pdf), "text_s": dt, "layout_s": lt, "outline": len(list(pdf.get_toc())), "chars": chars}


def plumber_run(path: Path, tables: bool = True) -> dict:
    import pdfplumber

    t = time.perf_counter()
    n_tables = 0
    chars = 0
    with pdfplumber.open(str(path)) as pdf:
        n = len(pdf.pages)
        for p in pdf.pages:
            words = p.extract_words(extra_attrs=["size", "fontname"])
            chars += sum(len(w["text"]) for w in words)
            p.flush_cache()
        lt = time.perf_counter() - t
        t = time.perf_counter()
        if tables:
            for p in pdf.pages:
                n_tables += len(p.find_tables())
                p.flush_cache()
        tt = time.perf_counter() - t
        try:
            outline = len(list(pdf.doc.get_outlines()))
        except Exception:
            outline = 0
    return {"pages": n, "layout_s": lt, "tables_s": tt, "tables": n_tables, "outline": outline, "chars": chars}


if __name__ == "__main__":
    for f in sorted(FOLDER.glob("*.pdf")):
        for name, fn in [("pypdf", pypdf_run), ("pypdfium2", pdfium_run), ("pdfplumber", plumber_run)]:
            try:
                r = fn(f)
            except ImportError:
                print(f"{f.name[:40]:40} {name:10} not installed")
                continue
            n = r["pages"]
            rate = " ".join(f"{k[:-2]}={n / v:.1f}p/s" for k, v in r.items() if k.endswith("_s") and v)
            extra = f" tables={r['tables']}" if "tables" in r else ""
            print(f"{f.name[:40]:40} {name:10} pages={n:3} outline={r['outline']:3} chars={r['chars']:7} {rate}{extra}",
                  flush=True)
