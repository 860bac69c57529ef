"""PDFs and web pages with their structure: headings, pages, recommendations, tables, scanned pages, types.

Fixtures: ``tests/fixtures/pdf`` (written for these tests by ``make_fixtures.py``); the real guidelines of
``../shared/data/guidelines`` are used by the slow tests when present.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from qa_bot import pdf as pdfmod
from qa_bot.chunk import chunk_document
from qa_bot.compose import _sentences, citation_for
from qa_bot.load import load
from qa_bot.render import reference_line
from qa_bot.settings import Settings
from qa_bot.types import Passage

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
