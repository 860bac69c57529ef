"""PDFs and web pages with their structure: headings, pages, recommendations, tables, scanned pages, types; PDF
reading on hostile input (character and time budgets, the linear contents-page test, garbled text layers read by OCR
when tesseract is there, encrypted files); fuzzing the line and table heuristics with long and repetitive lines; the
layouts of hospitals' own documents (scanned PDFs, check-list forms, rotated tables, charts, slides).

Fixtures: ``tests/fixtures/pdf`` (written for these tests by ``make_fixtures.py``) and ``layout_fixtures.py``
(generated at test time; nothing copies a real document); the real guidelines of ``../shared/data/guidelines`` are
used by the slow tests when present.
"""

from __future__ import annotations

import os
import re
import shutil
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from qa_bot import pdf as pdfmod
from qa_bot.chunk import chunk_document
from qa_bot.compose import _sentences, citation_for
from qa_bot.load import load
from qa_bot.pdf import LINE_CHARS, Line
from qa_bot.render import reference_line
from qa_bot.settings import Settings
from qa_bot.types import Passage

from layout_fixtures import FORM_ITEMS, XHTML, checklist_pdf, scanned_pdf

FIX = Path(__file__).resolve().parent / "fixtures" / "pdf"
SAMPLE = FIX / "guideline_sample.pdf"
NO_OUTLINE = FIX / "guideline_no_outline.pdf"
LAYOUTS = FIX / "page_layouts.pdf"
REAL = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "guidelines"
S = Settings()
TITLE = "Sample Guideline on Hypertension in Pregnancy"
HAS_TESSERACT = shutil.which("tesseract") is not None


def one(path: Path, settings: Settings = S, tmp: Path | None = None):
    res = load([path], settings)
    assert not res.errors, res.errors
    assert len(res.documents) == 1
    return res.documents[0]


@pytest.fixture(scope="module")
def sample():
    return one(SAMPLE)


def body(doc, sec) -> str:
    return doc.text[sec.start:sec.end]


def section_with(doc, needle: str):
    return next(s for s in doc.sections if needle in body(doc, s))


# --- headings ------------------------------------------------------------------------------------
def test_outline_headings_make_the_heading_paths(sample):
    paths = [s.heading_path for s in sample.sections]
    assert [TITLE, "1 Introduction", "1.3 Treatment of chronic hypertension"] in paths
    assert [TITLE, "3 Postnatal care"] in paths
    assert not any(re.fullmatch(r"Page \d+", h) for p in paths for h in p)
    assert section_with(sample, "labetalol").heading_path[-1] == "1.3 Treatment of chronic hypertension"


def test_layout_headings_without_an_outline():
    doc = one(NO_OUTLINE)
    paths = [s.heading_path for s in doc.sections]
    assert doc.title == TITLE
    # bold, larger lines with numbering; "1.3" sits under "1"
    assert [TITLE, "1 Introduction", "1.3 Treatment of chronic hypertension"] in paths
    assert [TITLE, "2 Timing of birth"] in paths
    assert not any(re.fullmatch(r"Page \d+", h) for p in paths for h in p)


# --- pages ---------------------------------------------------------------------------------------
def test_sections_and_chunks_keep_their_page_ranges(sample):
    assert section_with(sample, "labetalol").page_start == 1
    assert section_with(sample, "37 weeks onwards").page_start == 2
    post = section_with(sample, "Left column opens here")
    # the scanned page 4 (read by OCR when tesseract is installed) continues chapter 3
    assert (post.page_start, post.page_end) == (3, 4 if HAS_TESSERACT else 3)
    chunks = chunk_document(sample, S).chunks
    c = next(c for c in chunks if "Left column opens here" in c.text)
    assert c.page_start == 3
    if HAS_TESSERACT:  # page 4's OCR text is in the same section: the chunk knows where page 4 starts
        c4 = next(c for c in chunks if re.search(r"magnesium", c.text, re.I))
        assert c4.page_at(c4.text.lower().index("magnesium")) == 4
        assert c4.page_end == 4


def test_citation_names_the_page_of_the_quoted_sentence(sample):
    chunk = next(c for c in chunk_document(sample, S).chunks if "37 weeks onwards" in c.text)
    p = Passage(chunk=chunk)
    cands = _sentences(p, 0)
    row = next(x for x in cands if "37 weeks onwards" in x.text)  # a table row is quotable as a sentence
    cit = citation_for(p, 1, [(row.start, row.end)])
    assert cit.page == 2
    line = reference_line(cit)
    assert "p. 2" in line and "section: Table 1. Timing of birth in pre-eclampsia" in line
    # an unpaged source has no page
    md = Passage(chunk=chunk.model_copy(update={"page_start": None, "page_end": None, "page_breaks": []}))
    assert citation_for(md, 1, []).page is None


# --- clean text ----------------------------------------------------------------------------------
def test_running_headers_footers_and_page_numbers_are_removed(sample):
    assert "Example Health Body" not in sample.text and "(SG1)" not in sample.text
    assert not re.search(r"Page \d of 4", sample.text)


def test_hyphenated_line_ends_are_mended(sample):
    assert "raised blood pressure in pregnancy and the management" in sample.text
    assert "preg-" not in sample.text


def test_two_column_page_is_read_column_by_column(sample):
    t = sample.text
    assert ("Women who took methyldopa should switch to another medicine within two days of the birth. "
            "Left column closes here with this sentence.") in t
    assert "Offer enalapril to treat hypertension in women who are breastfeeding" in t
    assert t.index("Left column closes here") < t.index("Right column opens here")


def test_columns_in_part_of_a_page_are_read_column_by_column():
    """Columns between full-width text, a table and footnotes; columns on unaligned baselines; a box beside a
    column: every line of one column stays with its neighbours, and the table under the columns stays a table."""
    doc = one(LAYOUTS)
    t = doc.text
    left = ("Compelling indications are conditions for which a particular treatment is supported by clinical "
            "trial data showing benefits of that therapy on the natural history of the condition.")
    right = ("In patients with hypertension and diabetes or chronic kidney disease the blood pressure goal is below "
             "130/80 mmHg, and most of them need two or more medicines to reach it.")
    assert left in t and right in t
    assert t.index("Such conditions include heart failure") < t.index("In patients with hypertension and diabetes")
    assert t.index("among the medicines of first choice there.") < t.index("Table 12. Basis")
    row = section_with(doc, "Chronic kidney disease; Recommended")
    assert body(doc, row) == ("Compelling indication: Chronic kidney disease; Recommended drugs: ACE inhibitor; "
                              "Clinical trial basis: RENAAL, AASK.")
    assert row.kind == "table_row" and row.heading_path[-1].startswith("Table 12. Basis")
    # page 2: a table across the page above columns whose lines do not share baselines; a hyphen mended
    assert ("Fat-modified foods may provide a helpful strategy for lowering total fat intake but will only be "
            "effective if they are also low in calories and if there is no compensation of calories from other "
            "foods.") in t
    assert "Some authorities recommend 20 to 30 grams of fiber daily, with an upper limit of 35 grams." in t
    assert "Nutrient: Fiber; Recommended intake: 20 to 30 grams a day, with an upper limit of 35 grams." in t
    assert "Dietary therapy Nutrient" not in t  # the heading above the table is not a header of it
    # page 3: a box of notes beside a column of text
    assert ("Serum potassium and creatinine are measured at least once or twice a year.\n\nNote: a home blood "
            "pressure monitor helps patients to follow their own blood pressure and to take their medicines.") in t
    assert "adjustment of medicines at monthly intervals until the blood pressure goal is reached." in t


def test_flowchart_boxes_are_read_box_by_box_and_a_ruled_grid_stays_a_table():
    doc = one(LAYOUTS)
    t = doc.text
    for step in ("Start a calcium channel blocker at half the maximal dose.",
                 "Recheck blood pressure in four to six weeks and follow up if at goal.",
                 "If not at goal, double the dose of the calcium channel blocker.",
                 "If still not at goal, add a thiazide diuretic at half the maximal dose."):
        assert f"\n\n{step}\n\n" in t  # each box a paragraph of its own
    assert t.index("Start a calcium channel") < t.index("If not at goal, double") < t.index("If still not at goal")
    row = section_with(doc, "Drug class: Chlorthalidone")
    assert body(doc, row) == "Drug class: Chlorthalidone; Starting dose: 12.5 mg daily; Maximal dose: 25 mg daily."
    assert row.kind == "table_row" and row.page_start == 4


def test_table_of_contents_pages_and_dot_leaders_are_dropped():
    lines = [pdfmod.Line(f"{i} Chapter number {i} ........ {i * 3}", 72, 500, 700 - 14 * i, 690 - 14 * i, 10, False, 2)
             for i in range(1, 8)]
    assert pdfmod._is_toc_page(lines)
    assert pdfmod.DOT_LEADER.sub(" ", "Contents ........ 8 Figure").split() == ["Contents", "8", "Figure"]


# --- recommendations and tables ------------------------------------------------------------------
def test_recommendations_are_units_with_number_grade_and_year(sample):
    recs = {s.rec_number: s for s in sample.sections if s.kind == "recommendation"}
    assert set(recs) >= {"1.3.9", "1.3.10", "12"}
    r = recs["1.3.9"]
    assert body(sample, r) == ("Offer labetalol to treat chronic hypertension in pregnant women. Consider nifedipine "
                               "for women in whom labetalol is not suitable.")
    assert r.date == "2019" and r.page_start == 1
    assert recs["1.3.10"].date == "2019" and "[2019" not in body(sample, recs["1.3.10"])
    assert recs["12"].grade == "strong, moderate certainty"
    assert body(sample, recs["12"]).startswith("Measure urine protein")
    # never glued into a neighbouring sentence, never split across chunks
    chunks = chunk_document(sample, S).chunks
    for s in recs.values():
        inside = [c for c in chunks if c.section_id == s.id]
        assert len(inside) == 1 and inside[0].text == body(sample, s) and inside[0].rec_number == s.rec_number
    assert not re.search(r"\b1\.3\.10\b|\[2019", sample.text)


def test_table_rows_keep_their_column_headers(sample):
    rows = [s for s in sample.sections if s.kind == "table_row"]
    texts = [body(sample, s) for s in rows]
    assert "Gestational age: 37 weeks onwards; Management: Initiate birth within 24 to 48 hours." in texts
    assert len(rows) == 3  # the header row is not a row of its own
    assert all(s.heading_path[-1] == "Table 1. Timing of birth in pre-eclampsia" and s.page_start == 2 for s in rows)


# --- scanned pages -------------------------------------------------------------------------------
def test_page_without_text_is_reported_by_file_and_page(monkeypatch, tmp_path):
    monkeypatch.setattr(pdfmod, "tesseract_available", lambda: False)
    doc = one(SAMPLE)
    assert any(re.search(r"page 4 has no text layer.*skipped.*tesseract", n) for n in doc.notices), doc.notices
    assert "magnesium" not in doc.text.lower()
    # ingest reports it, naming the file
    from qa_bot.store import ingest

    folder = tmp_path / "docs"
    folder.mkdir()
    shutil.copy(SAMPLE, folder / "sample.pdf")
    report = ingest([folder], Settings(data_dir=tmp_path / "data", corpus=[folder]), vectors=False)
    assert not report.failed
    assert [(Path(n.path).name, n.reason.split(" has")[0]) for n in report.notices] == [("sample.pdf", "page 4")]


@pytest.mark.skipif(not HAS_TESSERACT, reason="tesseract-ocr is not installed (make test installs it)")
def test_page_without_text_is_read_by_ocr_when_tesseract_is_installed():
    doc = one(SAMPLE)
    assert any("page 4 has no text layer: read by OCR" in n for n in doc.notices), doc.notices
    assert re.search(r"magnesium\s+sulfate", doc.text, re.I)


def test_broken_and_encrypted_pdfs_get_one_line_each_and_the_rest_is_indexed(tmp_path):
    from pypdf import PdfReader, PdfWriter

    (tmp_path / "broken.pdf").write_bytes(SAMPLE.read_bytes()[:900])
    w = PdfWriter()
    for page in PdfReader(str(SAMPLE)).pages:
        w.add_page(page)
    w.encrypt(user_password="secret", owner_password="owner")
    with open(tmp_path / "locked.pdf", "wb") as fh:
        w.write(fh)
    shutil.copy(SAMPLE, tmp_path / "good.pdf")
    res = load([tmp_path], S)
    assert [d.doc_id for d in res.documents] == ["good"]
    errors = {Path(e.path).name: e.reason for e in res.errors}
    assert set(errors) == {"broken.pdf", "locked.pdf"}
    assert "encrypted" in errors["locked.pdf"] and "password" in errors["locked.pdf"]
    assert "unreadable" in errors["broken.pdf"] or "damaged" in errors["broken.pdf"]
    assert all("\n" not in r for r in errors.values())


# --- web pages, types, folder defaults, dates ----------------------------------------------------
GUIDELINE_PAGE = """<html><head><title>Management of gout: guideline summary</title></head><body>
<nav>Home | About | Contact</nav><article><h1>Management of gout: guideline summary</h1>
<h2>Recommendations</h2>
<p>1.2.1 Offer colchicine or a non-steroidal anti-inflammatory drug to treat a gout flare in adults.</p>
<p>1.2.2 Offer allopurinol as first-line urate-lowering therapy to people with gout who have frequent flares.</p>
<table><thead><tr><th>Drug</th><th>Starting dose</th></tr></thead>
<tbody><tr><td>Allopurinol</td><td>100 mg daily</td></tr><tr><td>Febuxostat</td><td>80 mg daily</td></tr></tbody></table>
</article></body></html>"""


def test_guideline_web_page_is_typed_guideline_with_table_rows_and_no_invented_date(tmp_path):
    f = tmp_path / "gout.html"
    f.write_text(GUIDELINE_PAGE, encoding="utf-8")
    doc = one(f)
    assert doc.doc_type == "guideline"
    assert doc.published is None  # the page gives no date: none is made up
    assert "Drug: Allopurinol; Starting dose: 100 mg daily." in doc.text


def test_plain_page_without_guideline_signs_stays_an_expert_answer(tmp_path):
    f = tmp_path / "note.html"
    f.write_text("<html><head><title>Living with gout</title></head><body><article><h1>Living with gout</h1>"
                 "<p>Many people with gout find that drinking water and resting the joint helps during a flare.</p>"
                 "<p>Talk to your doctor about medicines that lower uric acid in the long term.</p></article>"
                 "</body></html>", encoding="utf-8")
    assert one(f).doc_type == "expert_answer"


@pytest.mark.skipif(not (REAL / "ahrq-ngc-commentary-art-initiation.html").is_file(), reason="shared guidelines absent")
def test_real_guideline_web_page_is_a_guideline_with_its_own_date_and_table_rows():
    doc = one(REAL / "ahrq-ngc-commentary-art-initiation.html")
    assert doc.doc_type == "guideline"
    assert doc.published == "2012-07-30"  # the page's own date (its markup), nothing else
    assert re.search(r"CD4 count: 350 to 500 CD4\+? ?cells/μL; March 2012 Recommendation Ratings: AII;", doc.text)


def test_folder_meta_yaml_sets_defaults_and_a_file_overrides_them(tmp_path):
    (tmp_path / "nice").mkdir()
    (tmp_path / "nice" / "_meta.yaml").write_text("doc_type: guideline\ncollection: nice\nsource: NICE\n")
    (tmp_path / "nice" / "a.txt").write_text("Living with gout\n\nDrinking water and resting the joint helps a lot "
                                             "during a flare of gout in most people.\n")
    (tmp_path / "nice" / "b.txt").write_text("Gout and diet\n\nCherries are sometimes said to help with gout but "
                                             "the evidence for this is weak and mixed.\n")
    (tmp_path / "nice" / "b.meta.yaml").write_text("doc_type: expert_answer\n")
    shutil.copy(NO_OUTLINE, tmp_path / "nice" / "c.pdf")
    res = load([tmp_path], S)
    assert not res.errors, res.errors
    by = {d.doc_id: d for d in res.documents}
    assert set(by) == {"a", "b", "c"}  # _meta.yaml is not a document
    assert (by["a"].doc_type, by["a"].collection, by["a"].source) == ("guideline", "nice", "NICE")
    assert (by["b"].doc_type, by["b"].collection) == ("expert_answer", "nice")
    assert (by["c"].collection, by["c"].source) == ("nice", "NICE")
    assert by["c"].published is None  # no date in the PDF: none is made up


def test_ingest_defaults_from_settings(tmp_path):
    (tmp_path / "a.txt").write_text("Living with gout\n\nDrinking water and resting the joint helps a lot during a "
                                    "flare of gout in most people.\n")
    s = Settings(default_doc_type="guideline", default_collection="nice")
    doc = one(tmp_path / "a.txt", s)
    assert (doc.doc_type, doc.collection) == ("guideline", "nice")


@pytest.mark.slow
def test_cli_ingest_doc_type_and_collection(tmp_path):
    import json
    import os
    import subprocess
    import sys

    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.txt").write_text("Living with gout\n\nDrinking water and resting the joint helps a lot during a "
                                  "flare of gout in most people.\n")
    shutil.copy(SAMPLE, folder / "sample.pdf")
    env = {**os.environ, "QA_BOT_DATA_DIR": str(tmp_path / "data")}
    r = subprocess.run([sys.executable, "-m", "qa_bot.cli", "ingest", str(folder), "--doc-type", "guideline",
                        "--collection", "nice", "--no-vectors"], capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr + r.stdout
    assert "sample.pdf" in r.stdout and "page 4 has no text layer" in r.stdout
    r = subprocess.run([sys.executable, "-m", "qa_bot.cli", "index", "stats", "--json"], capture_output=True,
                       text=True, env=env, timeout=300)
    stats = json.loads(r.stdout)
    assert stats["documents"] == 2 and set(stats["by_collection"]) == {"nice"} and set(stats["by_doc_type"]) == {"guideline"}
    r = subprocess.run([sys.executable, "-m", "qa_bot.cli", "ingest", str(folder), "--doc-type", "leaflet"],
                       capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode != 0 and "--doc-type" in r.stderr


# --- the real guidelines -------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.skipif(not REAL.is_dir(), reason="../shared/data/guidelines is absent")
def test_real_guideline_pdfs_keep_headings_pages_recommendations_and_tables():
    who = one(REAL / "who-hypertension-pharmacological-treatment-2021.pdf")
    assert not any(re.fullmatch(r"Page \d+", h) for s in who.sections for h in s.heading_path)
    recs = [s for s in who.sections if s.kind == "recommendation" and "≥140 mmHg" in body(who, s)]
    assert [s.page_start for s in recs] == [9, 19]  # the executive summary, then chapter 3
    rec = recs[1]
    assert rec.grade.startswith("Strong recommendation") and rec.page_end == 19
    assert rec.heading_path[-1].startswith("3.1 Blood pressure threshold")
    cdc = one(REAL / "cdc-opioid-prescribing-guideline-2022.pdf")
    recs = {s.rec_number for s in cdc.sections if s.kind == "recommendation"}
    assert {"1", "3", "7", "12"} <= recs
    row = next(s for s in cdc.sections if s.kind == "table_row" and "Oxycodone" in body(cdc, s))
    assert body(cdc, row) == "Opioid: Oxycodone; Conversion factor: 1.5." and row.page_start == 33
    assert "MMWR / November 4, 2022" not in cdc.text


def test_ui_references_and_exports_show_the_page():
    import sys

    from qa_bot.render import answer_to_text, conversation_to_markdown
    from qa_bot.types import Answer, AnswerSentence, Citation

    root = str(Path(__file__).resolve().parents[1])
    if root not in sys.path:
        sys.path.insert(0, root)
    from ui import components as C

    cit = Citation(n=1, chunk_id="ng133#s::0", doc_id="ng133", section_id="ng133#s", doc_type="guideline",
                   title="NICE NG133", heading="1.3 Treatment of chronic hypertension", page=12,
                   quote="Offer labetalol.", spans=[(0, 16)])
    a = Answer(question="q", standalone_question="q", disclaimer="Not medical advice.",
               sentences=[AnswerSentence(text="Offer labetalol.", citations=[1], group="bottom_line")], citations=[cit])
    assert "[1] Guideline — NICE NG133; section: 1.3 Treatment of chronic hypertension; p. 12" in answer_to_text(a)
    assert "p. 12" in conversation_to_markdown([("q", a)])
    assert "Section: 1.3 Treatment of chronic hypertension, p. 12" in C.citation_meta_html(cit)
    assert C.citation_label(cit).endswith(", p. 12")
    assert "p. " not in C.citation_label(cit.model_copy(update={"page": None}))


def test_ingest_options_override_meta_yaml_and_a_file_overrides_both(tmp_path):
    (tmp_path / "_meta.yaml").write_text("doc_type: expert_answer\ncollection: local\n")
    (tmp_path / "a.txt").write_text("Living with gout\n\nDrinking water and resting the joint helps a lot during a "
                                    "flare of gout in most people.\n")
    (tmp_path / "b.md").write_text("---\ncollection: own\n---\n# Gout and diet\n\nCherries are sometimes said to help "
                                   "with gout but the evidence for this is weak.\n")
    res = load([tmp_path], Settings(default_doc_type="guideline", default_collection="nice"))
    by = {d.doc_id: d for d in res.documents}
    assert (by["a"].doc_type, by["a"].collection) == ("guideline", "nice")
    assert (by["b"].doc_type, by["b"].collection) == ("guideline", "own")


def test_a_table_row_is_one_sentence_even_with_item_marks():
    from qa_bot.types import SourceDocument, Section

    row = "Condition: Headaches; Sub-Condition: b. Migraine ii. With aura; Cu-IUD: 1; CHC: 4*."
    doc = SourceDocument(doc_id="mec", text=row, title="MEC", doc_type="guideline",
                         sections=[Section(id="mec#row", heading_path=["MEC"], start=0, end=len(row), kind="table_row",
                                           page_start=1, page_end=1)], page_map=[(0, 1)])
    (chunk,) = chunk_document(doc, S).chunks
    assert chunk.text == row and chunk.kind == "table_row"
    assert [c.text for c in _sentences(Passage(chunk=chunk), 0)] == [row]


# --- hostile input: budgets, garbled text layers, encryption ----------------------------------------------
# --- parsers: bounded on any input, a per-file time budget ---------------------------------------------------
HOSTILE_LINE = "Recommendation text about gout 12 " * 13 + "end"  # no page number at the end: the slow case


def _hostile_pdf(path):
    """1,200 overlapping 1-pt lines on one page: one row of ~550,000 characters once joined."""
    from helpers import minimal_pdf

    path.write_bytes(minimal_pdf([f"{HOSTILE_LINE} {i}x" for i in range(1200)], size=1, leading=0.01))
    return path


def test_a_pdf_of_overlapping_lines_is_read_within_its_budgets_and_the_others_are_indexed(tmp_path):
    import subprocess
    import sys

    corpus = tmp_path / "corpus" / "x"
    corpus.mkdir(parents=True)
    (corpus / "a.txt").write_text("Gout is treated with colchicine.\n")
    _hostile_pdf(corpus / "hostile.pdf")
    env = {**os.environ, "QA_BOT_DATA_DIR": str(tmp_path / "data"), "QA_BOT_CORPUS": str(corpus.parent)}
    # a guard against a hang (the quadratic contents-page test took over 400 s here), not a timing
    r = subprocess.run([sys.executable, "-m", "qa_bot.cli", "ingest", "--no-vectors"], capture_output=True, text=True,
                       env=env, timeout=240)
    assert r.returncode == 0, r.stdout + r.stderr
    out = " ".join(r.stdout.split())
    assert "2 documents" in out and "hostile.pdf" in out and "budget" in out


def test_a_pdf_over_its_time_budget_fails_naming_it_and_nothing_else_is_lost(tmp_path):
    import shutil

    from qa_bot.store import get_store, ingest

    from conftest import ROOT

    corpus = tmp_path / "corpus" / "x"
    corpus.mkdir(parents=True)
    (corpus / "a.txt").write_text("Gout is treated with colchicine.\n")
    shutil.copy(ROOT / "tests" / "fixtures" / "pdf" / "guideline_sample.pdf", corpus / "g.pdf")
    settings = Settings(data_dir=tmp_path / "data", corpus=[corpus.parent])
    assert not ingest(None, settings, vectors=False).failed
    before = get_store(settings).known_documents()
    (corpus / "g.pdf").touch()
    (corpus / "b.txt").write_text("Colchicine is taken by mouth.\n")
    report = ingest(None, settings.model_copy(update={"file_time_budget_s": 1e-9}), vectors=False)
    assert [f.path.endswith("g.pdf") for f in report.failed] == [True]
    assert "budget" in report.failed[0].reason and "QA_BOT_FILE_TIME_BUDGET_S" in report.failed[0].reason
    after = get_store(settings).known_documents()
    assert after["g"] == before["g"] and {"a", "b", "g"} <= set(after)


def test_the_contents_page_test_is_linear_on_a_long_line():
    import signal

    from qa_bot.pdf import Line, _is_toc_page

    def hang(*_):
        raise TimeoutError("the contents-page test did not finish (quadratic)")

    line = Line(HOSTILE_LINE * 3000, 72, 500, 700, 699, 1, False, 1)  # ~1.3 M characters
    old = signal.signal(signal.SIGALRM, hang)
    signal.alarm(60)  # a hang guard: linear takes well under a second
    try:
        assert _is_toc_page([line] * 3) is False
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


# --- garbage text layers ------------------------------------------------------------------------------------------
VISIBLE = ["Gout is treated with colchicine or with", "nonsteroidal anti-inflammatory drugs during a flare.",
           "Allopurinol lowers serum urate over the long term", "and prevents further attacks of gout in adults."]


LAYER = ["Qx#r vbnm& zxcv kjhg$ prst% wxyz@ bcdf* ghjk lmnp^ qrst~ vwxz| " * 3] * 6  # a broken font encoding


def _garbled_pdf(tmp_path):
    from helpers import scanned_pdf_with_text_layer

    path = tmp_path / "garbled.pdf"
    path.write_bytes(scanned_pdf_with_text_layer(VISIBLE, LAYER))
    return path


def test_a_garbled_text_layer_is_reported_for_its_file(tmp_path):
    from qa_bot.pdf import parse_pdf

    parsed = parse_pdf(_garbled_pdf(tmp_path), ocr=False)
    assert any("page 1" in n and "garbled" in n and "tesseract" in n for n in parsed.notices), parsed.notices


@pytest.mark.skipif(not __import__("shutil").which("tesseract"), reason="tesseract-ocr is not installed")
def test_a_garbled_text_layer_is_read_by_ocr_when_tesseract_is_there(tmp_path):
    from qa_bot.pdf import parse_pdf

    parsed = parse_pdf(_garbled_pdf(tmp_path), ocr=True)
    assert any("garbled" in n and "OCR" in n for n in parsed.notices), parsed.notices
    assert "colchicine" in parsed.text.lower() and "zxcv" not in parsed.text


def test_row11_encrypted_pdf_says_it_needs_a_password(tmp_path):
    from helpers import minimal_pdf
    from pypdf import PdfReader, PdfWriter

    plain = tmp_path / "plain.pdf"
    plain.write_bytes(minimal_pdf(["Colchicine treats acute gout flares in adults."]))
    for name, user_pw, algorithm in (("rc4.pdf", "secret", "RC4-128"), ("open.pdf", "", "RC4-128")):
        w = PdfWriter(clone_from=PdfReader(str(plain)))
        w.encrypt(user_password=user_pw, owner_password="owner", algorithm=algorithm)
        with open(tmp_path / name, "wb") as fh:
            w.write(fh)
    plain.unlink()
    res = load([tmp_path], S)
    assert [d.doc_id for d in res.documents] == ["open"]  # only an owner password: readable
    [e] = res.errors
    assert e.path == str(tmp_path / "rc4.pdf") and e.reason.startswith("encrypted PDF: needs a password")


# --- fuzzing the line and table heuristics ---------------------------------------------------------------------
ALPHABET = "aAbZ09 .-…•:;()\x1f\u00a0xyz"
units = st.text(alphabet=ALPHABET, min_size=1, max_size=12)


@st.composite
def texts(draw, most: int = LINE_CHARS):
    """A short text repeated up to the line budget, with a free head and tail."""
    unit = draw(units)
    n = draw(st.integers(1, max(1, most // len(unit))))
    return (draw(st.text(ALPHABET, max_size=8)) + unit * n + draw(st.text(ALPHABET, max_size=8)))[:most].strip() or "x"


@st.composite
def segments(draw):
    n = draw(st.integers(1, 40))
    rows = draw(st.integers(1, 12))
    out = []
    for i in range(n):
        size = draw(st.sampled_from([1.0, 8.0, 10.0, 12.0]))
        x0 = draw(st.floats(0, 560, allow_nan=False))
        top = 760 - 14 * draw(st.integers(0, rows)) + draw(st.sampled_from([0.0, 0.01, 0.3]))
        text = draw(texts())
        out.append(Line(text, x0, x0 + draw(st.floats(2, 600, allow_nan=False)), top, top - size, size,
                        draw(st.booleans()), 1))
    return out


FUZZ = hsettings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))


@FUZZ
@given(segments())
def test_line_and_table_heuristics_end_keep_every_segment_and_respect_the_budget(segs):
    rows = pdfmod._rows(segs)
    assert Counter(map(id, (s for r in rows for s in r))) == Counter(map(id, segs))
    joined = [pdfmod._join(r, 1) for r in rows]
    assert all(len(j.text) <= LINE_CHARS for j in joined)
    blocks = pdfmod._reading_order(segs, 612)
    assert Counter(map(id, (s for b in blocks for r in b for s in r))) == Counter(map(id, segs))
    for block in blocks:
        last = 0
        for h, i, j in pdfmod._table_runs(block):
            assert last <= h <= i < j <= len(block)
            last = j
            for para in pdfmod._table_paras(block[h:j], i - h + 1, 1):
                assert para.kind == "table_row"
    assert pdfmod._is_toc_page(joined, segs) in (True, False)


@FUZZ
@given(st.text(ALPHABET + "\n", max_size=60) | texts(200))
def test_the_linear_rewrites_agree_with_the_regexes_they_replace(text):
    assert pdfmod._numbered_end(text) == bool(re.search(r"[A-Za-z].*\s\d{1,3}$", text))
    assert pdfmod._numbered_end(text + " 12") == bool(re.search(r"[A-Za-z].*\s\d{1,3}$", text + " 12"))
    assert pdfmod._ends_sentence(text) == bool(re.search(r"[.!?:;)\]]\s*$", text))


@FUZZ
@given(texts(), st.text("abcz", min_size=1, max_size=10))
def test_mending_a_long_paragraph_looks_at_its_tail_only(prev, word):
    vocab = {"ab", "a-b"}
    mended = pdfmod._mend(prev + " ab-", word, vocab)
    assert mended.startswith(prev) and mended.endswith(word)


# --- scanned documents -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def scanned(tmp_path_factory):
    return scanned_pdf(tmp_path_factory.mktemp("scan") / "scanned_chapter.pdf")


@pytest.mark.skipif(not HAS_TESSERACT, reason="tesseract-ocr is not installed (make test installs it)")
def test_a_pdf_without_any_text_layer_is_read_by_ocr_with_its_table_rows(scanned):
    doc = one(scanned)
    # page 1 is an image; page 2 is text drawn as vector outlines (no image at all): both are read
    assert [n.split(":")[0] for n in doc.notices] == ["page 1 has no text layer", "page 2 has no text layer"]
    assert all(re.search(r"read by OCR \(tesseract, \d+\.\d s\)", n) for n in doc.notices), doc.notices
    assert doc.facts["ocr_pages"] == [1, 2] and doc.facts["ocr_seconds"] > 0
    assert re.search(r"Ceftriaxone 75 mg/kg once daily", doc.text)
    rows = [body(doc, s) for s in doc.sections if s.kind == "table_row"]
    assert "Drug: Cefixime; Dose: 10 mg/kg twice daily; Duration: 14 days." in rows, rows
    assert any(s.page_start == 2 and "Ceftriaxone" in body(doc, s) for s in doc.sections)


@pytest.mark.skipif(not HAS_TESSERACT, reason="tesseract-ocr is not installed (make test installs it)")
def test_a_scanned_page_in_one_type_size_keeps_its_paragraphs_list_items_and_headings(tmp_path):
    from layout_fixtures import scanned_levels_pdf

    doc = one(scanned_levels_pdf(tmp_path / "levels.pdf"))
    # a wrapped paragraph is one sentence (OCR's box of a line without ascenders is smaller; its size is the body's)
    assert ("Early antibiotic treatment is essential to decrease mortality and can be started empirically when the "
            "clinical suspicion is strong.") in doc.text, doc.text
    # list items whose bullets the scan lost stay apart
    assert re.search(r"for 14 days\n\nCefixime 10 mg/kg", doc.text), doc.text
    # the capitals that head each level of care head their sections
    heads = {s.heading_path[-1] for s in doc.sections if "Ceftriaxone" in body(doc, s)}
    assert heads == {"LEVEL 4: AT THE DISTRICT HOSPITAL"}, [(s.heading_path, body(doc, s)) for s in doc.sections]


def test_a_scanned_pdf_without_tesseract_says_per_file_what_to_install(scanned, monkeypatch):
    monkeypatch.setattr(pdfmod, "tesseract_available", lambda: False)
    res = load([scanned], S)
    assert not res.documents
    [err] = res.errors
    assert err.path.endswith("scanned_chapter.pdf")
    assert "no text layer on 2 of its 2 pages" in err.reason and "apt-get install tesseract-ocr" in err.reason


# --- forms and check-lists -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def checklist(tmp_path_factory):
    return one(checklist_pdf(tmp_path_factory.mktemp("form") / "audit.pdf"))


def test_checklist_items_are_sentences_of_their_own_without_box_labels(checklist):
    items = [body(checklist, s) for s in checklist.sections if s.kind == "form_item"]
    assert items[:3] == [f"{a} {b}" for a, b in FORM_ITEMS]
    assert items[3:] == ["Floors are clean and free of dust.", "Clean linen is stored off the floor.",
                         "Waste bins are foot operated and lidded."]
    assert not re.search(r"\b(?:Yes|No|N/A|Not applicable)\b|❑", checklist.text)
    assert [s.heading_path[-1] for s in checklist.sections if s.kind == "form_item"][-1] == "Environment"


def test_a_table_of_yes_no_answers_stays_a_table(tmp_path):
    from layout_fixtures import write_pages

    items = [(72, 90, "Drug"), (250, 90, "Safe in pregnancy"), (400, 90, "Dose")]
    for n, (drug, safe, dose) in enumerate([("Methyldopa", "Yes", "250 mg"), ("Enalapril", "No", "5 mg"),
                                            ("Labetalol", "Yes", "100 mg")]):
        items += [(72, 110 + 18 * n, drug), (250, 110 + 18 * n, safe), (400, 110 + 18 * n, dose)]
    doc = one(write_pages(tmp_path / "table.pdf", [items]))
    rows = [body(doc, s) for s in doc.sections if s.kind == "table_row"]
    assert "Drug: Enalapril; Safe in pregnancy: No; Dose: 5 mg." in rows, rows
    assert not any(s.kind == "form_item" for s in doc.sections)


# --- the ingest report -----------------------------------------------------------------------------
@pytest.mark.slow
def test_ingest_report_lists_what_was_read_from_each_file(tmp_path):
    import json
    import os
    import subprocess
    import sys

    docs = tmp_path / "docs"
    docs.mkdir()
    checklist_pdf(docs / "audit.pdf")
    (docs / "broken.pdf").write_bytes(b"%PDF-1.4 truncated")
    (docs / "gonorrhea.html").write_text(XHTML, encoding="utf-8")
    env = {**os.environ, "QA_BOT_DATA_DIR": str(tmp_path / "data")}
    out = subprocess.run([sys.executable, "-m", "qa_bot.cli", "ingest", str(docs), "--no-vectors", "--report",
                          str(tmp_path / "report.json")], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 1, out.stderr  # one file failed
    report = json.loads((tmp_path / "report.json").read_text())
    by_name = {Path(d["path"]).name: d for d in report["per_document"]}
    assert set(by_name) == {"audit.pdf", "broken.pdf", "gonorrhea.html"}
    assert by_name["broken.pdf"]["failed"].startswith("unreadable PDF")
    audit = by_name["audit.pdf"]
    assert (audit["pages"], audit["forms"], audit["ocr_pages"], audit["headings"]) == (1, 6, [], "inferred")
    assert by_name["gonorrhea.html"]["headings"] == "inferred" and by_name["gonorrhea.html"]["chunks"] > 0
    text = (tmp_path / "report.txt").read_text()
    assert "audit.pdf: 1 page; headings: inferred;" in text and "6 form items" in text
    assert "broken.pdf: FAILED: unreadable PDF" in text and "audit.pdf" in out.stdout
    # the index keeps each file's latest report for the admin's index page
    from qa_bot.store import get_store
    from qa_bot.ingest_report import documents_read

    kept = documents_read(get_store(Settings(data_dir=tmp_path / "data")))
    assert [Path(d.path).name for d in kept] == ["audit.pdf", "broken.pdf", "gonorrhea.html"]


# --- charts and slides -----------------------------------------------------------------------------
def test_slide_panels_side_by_side_are_read_panel_by_panel(tmp_path):
    from layout_fixtures import SLIDE_PANELS, three_panel_slide_pdf

    doc = one(three_panel_slide_pdf(tmp_path / "slides.pdf"))
    # each panel's lines in order, never a line of one panel next to its neighbour's ("Short regimen: Linezolid
    # 2 months; Exclusions: Pregnancy")
    flat = re.sub(r"\s+", " ", doc.text)
    for head, lines in SLIDE_PANELS:
        at = [flat.index(x) for x in [head, *lines[:2]]]
        assert at == sorted(at), (head, flat)
    assert "Exclusions: Pregnancy" not in flat and not any(s.kind == "table_row" for s in doc.sections)
    assert flat.index("Prior second-line drugs") < flat.index("Long regimen")


# --- glyphs, numbers and signs ---------------------------------------------------------------------
def test_symbol_font_signs_are_repaired_and_every_number_and_sign_reaches_the_chunks(tmp_path):
    from collections import Counter

    from qa_bot.chunk import chunk_document

    from layout_fixtures import signs_pdf

    doc = one(signs_pdf(tmp_path / "signs.pdf"))
    # the broken form (Symbol's ≥ and ≤ read as ‡ and £) is repaired; a double dagger in a text font stays
    assert "BMI ≥ 30 kg/m2" in doc.text and "blood pressure ≤ 140/90 mmHg" in doc.text
    assert "The trial‡ was stopped early." in doc.text and "£" not in doc.text
    page = ("Treat obesity when BMI ≥ 30 kg/m2, or BMI 27 to 29.9 with two risk factors. Aim for a blood pressure "
            "≤ 140/90 mmHg; in diabetes below 130/80 mmHg. Doses: 0.5 mg/kg (max 40 mg) daily; 2.5% of patients "
            "had HbA1c > 7.0% and eGFR < 60.")
    token = re.compile(r"\d+(?:\.\d+)?|[<>≤≥=±%/]")
    chunks = " ".join(c.text for c in chunk_document(doc, S).chunks)
    missing = Counter(token.findall(page)) - Counter(token.findall(chunks))
    assert not missing, missing


def test_the_web_chat_shows_an_admin_what_was_read_from_each_file(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from qa_bot import store as index

    docs = tmp_path / "docs"
    docs.mkdir()
    checklist_pdf(docs / "audit.pdf")
    (docs / "broken.pdf").write_bytes(b"%PDF-1.4 truncated")
    settings = Settings(data_dir=tmp_path / "data", corpus=[docs])
    index.ingest(None, settings, vectors=False)
    monkeypatch.setattr(index, "start_background_vectors", lambda s: None)
    monkeypatch.setenv("QA_BOT_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("QA_BOT_UI_WARMUP", "0")
    monkeypatch.setenv("QA_BOT_UI_LOGIN", "off")
    at = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "ui" / "app.py"), default_timeout=60)
    at.run()
    assert not at.exception
    assert [e.label for e in at.sidebar.expander] == ["Documents read (2)"]
    table = at.sidebar.dataframe[0].value
    assert list(table["file"]) == ["audit.pdf", "broken.pdf"] and list(table["form items"]) == [6, 0]
    assert any("broken.pdf: unreadable PDF" in c.value.replace("\\", "") for c in at.sidebar.caption)


# --- ruled tables ----------------------------------------------------------------------------------
def test_a_ruled_table_keeps_each_cells_lines_together(tmp_path):
    from layout_fixtures import ruled_table_pdf

    doc = one(ruled_table_pdf(tmp_path / "doses.pdf"))
    rows = [body(doc, s) for s in doc.sections if s.kind == "table_row"]
    assert rows[0] == ("Infection: Acute sore throat; Key points: Use FeverPAIN to assess symptoms;; Medicine: First "
                       "choice: phenoxymethylpenicillin; Adult dose: 500 mg four times a day; Length: 5 to 10 days.")
    # a row under the same infection (its label cell merged) keeps the label
    assert rows[1] == ("Infection: Acute sore throat; Medicine: Penicillin allergy: clarithromycin; Adult dose: 250 mg "
                       "to 500 mg twice a day; Length: 5 days.")
    assert rows[2].startswith("Infection: Lower UTI;") and rows[2].endswith("Length: 3 days.") and len(rows) == 3


# --- recommendations and definitions ---------------------------------------------------------------
def test_a_recommendation_is_one_unit_with_its_number_items_grade_and_year(tmp_path):
    from qa_bot.chunk import chunk_document

    from layout_fixtures import recommendations_pdf

    doc = one(recommendations_pdf(tmp_path / "ckd.pdf"))
    recs = {s.rec_number: s for s in doc.sections if s.kind == "recommendation"}
    assert sorted(recs) == ["1.3.4", "1.3.5", "1.3.6"], [(s.kind, s.rec_number, body(doc, s)) for s in doc.sections]
    # the lead-in and its bulleted conditions, the year printed after the last one: one unit, not a heading over
    # loose items
    assert body(doc, recs["1.3.4"]) == (
        "Refer children and young people with CKD to a specialist kidney service if they: have an ACR of 70 "
        "mg/mmol or more; have accelerated progression of CKD (see recommendation 1.3.5); have hypertension that "
        "remains poorly controlled despite 4 drugs.")
    assert recs["1.3.4"].date == "2021" and recs["1.3.5"].date == "2014"
    # a definition is a unit too: what it defines and both of its criteria
    assert body(doc, recs["1.3.5"]).startswith("Define accelerated progression of CKD as: a sustained decrease")
    assert body(doc, recs["1.3.5"]).endswith("15 ml/min/1.73 m² per year or more.")
    # a grade line under the text is the recommendation's grade, not a sentence of its own
    assert recs["1.3.6"].grade == "Strong recommendation, moderate-certainty evidence"
    assert doc.text.count("Strong recommendation") == 0, doc.text
    chunks = chunk_document(doc, S).chunks
    # every item is in the chunk that carries its recommendation's number; no item stands without its lead
    for c in chunks:
        if "have accelerated progression" in c.text or "sustained decrease" in c.text:
            assert c.rec_number in {"1.3.4", "1.3.5"} and c.kind == "recommendation", c
    # a sentence that only points to another recommendation is not quoted: what it names is a unit of its own
    assert not any("see recommendation 1.3.5." in c.text for c in chunks)
    assert not any(s.heading_path[-1].startswith("1.3.4") for s in doc.sections)


def test_a_grade_line_above_a_titled_recommendation_grades_that_recommendation(tmp_path):
    from layout_fixtures import write_pages

    # WHO's order: the grade line, the recommendation's title with its year, then the statement; the paragraph
    # before the grade line recommends too and must not take the grade that is printed under it
    lines = [(72, 80, "4.2 Preventive treatment in pregnancy", {"fontsize": 14, "weight": "bold"}),
             (72, 110, "Programmes should review their antenatal coverage before each season."),
             (72, 140, "Strong recommendation for , Moderate certainty evidence"),
             (72, 170, "Preventive treatment of malaria in pregnancy (2022)"),
             (72, 200, "In endemic areas, pregnant women should be given a preventive medicine at set intervals."),
             (72, 230, "Remark:"),
             (72, 260, "Doses should be given at least one month apart.")]
    doc = one(write_pages(tmp_path / "who.pdf", [lines]))
    recs = [s for s in doc.sections if s.kind == "recommendation"]
    assert [body(doc, s) for s in recs] == [
        "In endemic areas, pregnant women should be given a preventive medicine at set intervals."], doc.sections
    rec = recs[0]
    assert rec.grade == "Strong recommendation for , Moderate certainty evidence" and rec.date == "2022"
    assert rec.heading_path[-1] == "Preventive treatment of malaria in pregnancy"
    # the grade and title lines are the unit's, not text of their own
    assert "Strong recommendation" not in doc.text and "(2022)" not in doc.text, doc.text


HEAD = {"fontsize": 14, "weight": "bold"}


def _bullets(y: float, *items: str) -> list[tuple]:
    """Bulleted items, one under another from ``y`` (points from the top), 18 pt apart."""
    return [t for n, text in enumerate(items) for t in ((90, y + 18 * n, "•"), (104, y + 18 * n, text))]


@pytest.mark.parametrize("name, lines, joined, alone", [
    # a short label printed without its colon leads its items (the colon is the reader's; no item stands alone); a
    # label over one item only is left as printed
    ("carrier", [(72, 80, "Enteric fever: district hospital", HEAD),
                 (72, 110, "Give fluids and paracetamol to every patient admitted with fever."),
                 (72, 140, "Treatment of chronic carrier"),
                 *_bullets(158, "Amoxicillin 3 g daily for 3 months", "Ciprofloxacin 750 mg twice daily for 4 weeks"),
                 (72, 206, "Referral criteria"), *_bullets(224, "Perforation or peritonitis needs a surgeon.")],
     "Treatment of chronic carrier: Amoxicillin 3 g daily for 3 months; Ciprofloxacin 750 mg twice daily for 4 weeks",
     ("Referral criteria", "Perforation or peritonitis needs a surgeon.")),
    # items that are no sentence are read under the heading they are listed under; items that are sentences are
    # quotable as they are
    ("mi", [(72, 80, "Eligibility for thrombolytic therapy", HEAD),
            *_bullets(110, "Chest pain of more than 30 min and less than 12 hours", "New LBBB on the ECG"),
            (72, 160, "Initial management", HEAD),
            *_bullets(190, "Give aspirin 300 mg to chew at once.", "Give oxygen when the saturation is below 90%.")],
     "Eligibility for thrombolytic therapy: Chest pain of more than 30 min and less than 12 hours; New LBBB on the ECG",
     ("Initial management", "Give aspirin 300 mg to chew at once.")),
])
def test_items_are_read_under_the_label_or_heading_they_are_listed_under(tmp_path, name, lines, joined, alone):
    from layout_fixtures import write_pages

    doc = one(write_pages(tmp_path / f"{name}.pdf", [lines]))
    assert joined in doc.text, doc.text
    assert f"{alone[0]}:" not in doc.text and alone[1] in doc.text


def test_a_dose_is_one_item_with_the_condition_printed_over_it(tmp_path):
    from layout_fixtures import write_pages

    lines = [(72, 80, "District hospital", HEAD),
             (72, 110, "Give fluids and paracetamol to every patient admitted with fever."),
             *_bullets(140, "In case of multidrug resistance in a patient unable to take oral drugs",
                       "Ceftriaxone IV 30 mg/kg every 12 hours for 10-14 days",
                       "Ringer lactate as described for the health centre"),
             (72, 206, "Referral"),
             *_bullets(224, "If the fever does not settle within 48 hours", "If the patient is pregnant")]
    doc = one(write_pages(tmp_path / "typhoid.pdf", [lines]))
    assert ("In case of multidrug resistance in a patient unable to take oral drugs: Ceftriaxone IV 30 mg/kg every 12 "
            "hours for 10-14 days") in doc.text, doc.text
    # an item without a dose stays an item of its own; conditions listed one under another are not joined
    assert "10-14 days: " not in doc.text and "10-14 days; Ringer" not in doc.text
    assert "48 hours: If" not in doc.text, doc.text


# --- rotated tables --------------------------------------------------------------------------------
def test_a_table_set_sideways_is_read_upright_row_by_row_under_its_upright_title(tmp_path):
    from layout_fixtures import ROTATED_ROWS, rotated_table_pdf

    doc = one(rotated_table_pdf(tmp_path / "annex.pdf"))
    rows = [body(doc, s) for s in doc.sections if s.kind == "table_row"]
    head = ROTATED_ROWS[0]
    # each row's cells together, under their column headers; a word that pdfium breaks at a ligature's shared box
    # ("modi" / "fied-release") stays one word in one cell
    assert rows == ["; ".join(f"{h}: {c}" for h, c in zip(head, r)) + "." for r in ROTATED_ROWS[1:]], rows
    # the upright title above the sideways table is read too (only watermarks at an angle are left out)
    assert doc.text.startswith("Annex 2. Antibiotic doses")
    assert all(s.heading_path[-1] == "Annex 2. Antibiotic doses" for s in doc.sections if s.kind == "table_row")


def test_a_labelled_list_with_its_bullets_set_apart_is_read_whole_under_its_label(tmp_path):
    from layout_fixtures import LIST_ITEMS, bullet_lists_pdf

    doc = one(bullet_lists_pdf(tmp_path / "lysis.pdf"))
    # no item is lost (a column of bullets beside a column of text is no table), and each is read with the label
    # it is an item of ("relative" is what the 180/110 criterion is)
    for label, items in LIST_ITEMS.items():
        assert f"{label} {'; '.join(items)}" in doc.text, doc.text
    assert not any(s.kind == "table_row" for s in doc.sections)
