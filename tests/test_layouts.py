"""Layouts of hospitals' own documents: scanned PDFs, check-list forms, rotated tables, charts, slides, web pages.

The PDFs are generated (``layout_fixtures.py``); nothing here copies a real document.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from qa_bot import pdf as pdfmod
from qa_bot.load import load, mend_spaced_hyphens
from qa_bot.settings import Settings

from layout_fixtures import FORM_ITEMS, checklist_pdf, scanned_pdf

HAS_TESSERACT = shutil.which("tesseract") is not None
S = Settings()


def one(path: Path):
    res = load([path], S)
    assert not res.errors, res.errors
    assert len(res.documents) == 1
    return res.documents[0]


def body(doc, sec) -> str:
    return doc.text[sec.start:sec.end]


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


# --- web pages -------------------------------------------------------------------------------------
XHTML = """<?xml version="1.0" encoding="utf-8" standalone="no"?>
<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.1//EN" "http://www.w3.org/TR/xhtml11/DTD/xhtml11.dtd">
<html xmlns="http://www.w3.org/1999/xhtml"><head><title>Gonorrhea</title></head><body>
<h1>Gonorrhea</h1>
<p>Gonococcal infections are a common cause of urethritis and cervicitis in young adults, and they are often
without symptoms in women. Testing is recommended for sexually active women under 25 years of age.</p>
<h2>Uncomplicated Gonococcal Infections</h2>
<h3>Recommended Regimen</h3>
<p>Ceftriaxone 250 mg IM in a single dose is recommended for uncomplicated infections of the cervix and urethra.</p>
<p>Patients who are allergic should be treated with the therapies rec- ommended as alternatives by a specialist.</p>
<h3>Follow-Up</h3>
<p>A test of cure is not needed for persons who receive a recommended regimen and whose symptoms resolve.</p>
<h2>Management of Sex Partners</h2>
<p>Sex partners from the 60 days before the onset of symptoms should be evaluated and treated presumptively.</p>
</body></html>
"""


def test_an_xhtml_chapter_keeps_its_headings_and_mends_reflowed_hyphens(tmp_path):
    (tmp_path / "gonorrhea.html").write_text(XHTML, encoding="utf-8")
    doc = one(tmp_path / "gonorrhea.html")
    sec = next(s for s in doc.sections if "Ceftriaxone 250 mg" in body(doc, s))
    assert sec.heading_path[-1] == "Recommended Regimen"
    assert any(s.heading_path[-1] == "Management of Sex Partners" for s in doc.sections)
    assert "therapies recommended as alternatives" in doc.text and "rec- " not in doc.text
    assert doc.doc_type == "guideline"


def test_spaced_hyphens_are_mended_only_where_the_document_spells_the_word():
    text = "the rec- ommended dose is recommended; HIV- Infected and HIV-Infected persons; short- and long-acting"
    assert mend_spaced_hyphens(text) == ("the recommended dose is recommended; HIV-Infected and HIV-Infected "
                                         "persons; short- and long-acting")
    assert mend_spaced_hyphens("a rec- ommended dose") == "a rec- ommended dose"  # the whole word never occurs
    # a line-end break before a suffix no word starts with is certain; a real hyphenated pair stays
    assert mend_spaced_hyphens("a CSF examina- tion is repeated") == "a CSF examination is repeated"
    assert mend_spaced_hyphens("low- and high-dose; well- being") == "low- and high-dose; well- being"


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
