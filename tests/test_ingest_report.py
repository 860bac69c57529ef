"""What ingest read from each file (qa_bot/ingest_report.py): the readable summary, the warnings, the report files,
and the admin's list of files read, kept across ingests."""

from __future__ import annotations

import json

from qa_bot.ingest_report import (document_report, documents_read, failed_report, remember_documents, summary,
                                  warnings_for, write_report)
from qa_bot.types import DocumentReport, IngestReport, LoadError, Section, SourceDocument

ENGLISH = ("Gout is a form of inflammatory arthritis. It is treated with colchicine or with anti-inflammatory drugs "
           "during a flare, and allopurinol lowers the serum urate in the long term. ") * 4


def _doc(text: str = ENGLISH, **kw) -> SourceDocument:
    return SourceDocument(doc_id="gout", text=text, title="Gout", path="/corpus/gout.pdf", **kw)


def test_a_clean_document_has_no_warning_and_its_counts():
    sections = [Section(id="gout#a", heading_path=["Gout", "Treatment"], start=0, end=10),
                Section(id="gout#r1", heading_path=["Gout", "Table 1"], start=10, end=20, kind="table_row"),
                Section(id="gout#r2", heading_path=["Gout", "Table 1"], start=20, end=30, kind="table_row"),
                Section(id="gout#rec", heading_path=["Gout", "Recs"], start=30, end=40, kind="recommendation")]
    doc = _doc(sections=sections, facts={"pages": 3, "ocr_pages": [2], "ocr_seconds": 1.5})
    assert warnings_for(doc) == []
    rep = document_report(doc, chunks=7, seconds=0.123)
    assert (rep.pages, rep.ocr_pages, rep.headings, rep.sections, rep.tables, rep.table_rows, rep.recommendations,
            rep.chunks, rep.seconds) == (3, [2], "inferred", 4, 1, 2, 1, 7, 0.12)
    assert document_report(_doc(facts={"outline_entries": 5}), 1, 0).headings == "outline"
    assert document_report(_doc(), 1, 0).headings == "none"


def test_garbled_text_little_english_blank_pages_and_ocr_failures_are_warnings():
    garbled = _doc(" ".join(["Qxrt vbnm zxcv kjhg prst wxyz bcdf ghjk lmnp"] * 10))
    assert any(w.startswith("text looks garbled") for w in warnings_for(garbled))
    german = _doc(" ".join(["Die Gicht wird mit Colchicin behandelt, wenn ein Anfall kommt"] * 10))
    assert any(w.startswith("little English text") for w in warnings_for(german))
    blank = _doc(facts={"empty_pages": [4, 9]}, notices=["page 4: OCR failed (tesseract)", "page 9 has no text"])
    assert warnings_for(blank) == ["blank pages: 4, 9", "page 4: OCR failed (tesseract)"]


def test_the_summary_has_one_line_per_file_its_ocr_page_ranges_and_the_totals():
    ok = DocumentReport(path="/c/gout.pdf", doc_id="gout", pages=12, ocr_pages=[2, 3, 4, 7, 9, 10], ocr_seconds=3.14,
                        headings="outline", sections=5, tables=1, table_rows=4, forms=2, recommendations=3, chunks=9,
                        warnings=["blank pages: 11"], seconds=4.0)
    web = DocumentReport(path="/c/asthma.html", pages=None, headings="inferred", chunks=2)
    bad = failed_report(LoadError(path="/c/broken.pdf", reason="not a PDF"))
    report = IngestReport(documents=2, chunks=11, failed=[LoadError(path="/c/broken.pdf", reason="not a PDF")],
                          seconds=5.25, per_document=[ok, web, bad])
    assert summary(report).splitlines() == [
        "gout.pdf: 12 pages, 6 read by OCR in 3.1 s (pages 2–4, 7, 9–10); headings: outline; 5 sections; 1 tables, "
        "4 rows; 2 form items; 3 recommendations; 9 chunks; 4.0 s",
        "    warning: blank pages: 11",
        "asthma.html: web/text page; headings: inferred; 0 sections; 0 tables, 0 rows; 0 form items; "
        "0 recommendations; 2 chunks; 0.0 s",
        "broken.pdf: FAILED: not a PDF",
        "2 documents indexed, 1 failed, 11 chunks, 6 pages read by OCR, 5.2 s"]


def test_the_report_is_written_as_json_and_text(tmp_path):
    report = IngestReport(documents=1, chunks=1, per_document=[DocumentReport(path="/c/a.md", pages=1, chunks=1)])
    write_report(report, tmp_path / "r.json")
    assert IngestReport(**json.loads((tmp_path / "r.json").read_text())) == report
    assert (tmp_path / "r.txt").read_text() == summary(report) + "\n"
    write_report(report, tmp_path / "only.txt")
    assert (tmp_path / "only.txt").read_text() == summary(report) + "\n" and not (tmp_path / "only.json").exists()


class _Meta:
    """The two methods of a store that the list of files read uses."""

    def __init__(self, value: str | None = None):
        self.values = {"documents_read": value} if value is not None else {}

    def meta_get(self, key: str) -> str | None:
        return self.values.get(key)

    def meta_set(self, key: str, value: str) -> None:
        self.values[key] = value


def test_each_files_latest_report_is_kept_and_the_others_stay():
    store = _Meta()
    assert documents_read(store) == []
    remember_documents(store, IngestReport(per_document=[DocumentReport(path="/c/b.md", chunks=1),
                                                         DocumentReport(path="/c/A.md", chunks=2)]))
    remember_documents(store, IngestReport(per_document=[DocumentReport(path="/c/b.md", chunks=5)]))
    assert [(d.path, d.chunks) for d in documents_read(store)] == [("/c/A.md", 2), ("/c/b.md", 5)]
    broken = _Meta("{not json")
    assert documents_read(broken) == []
    remember_documents(broken, IngestReport(per_document=[DocumentReport(path="/c/x.md")]))
    assert [d.path for d in documents_read(broken)] == ["/c/x.md"]
