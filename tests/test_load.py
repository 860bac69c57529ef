"""Loaders: one per format, the seeds' structure, chrome stripping, offsets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qa_bot.load import load
from qa_bot.settings import Settings

from conftest import FIXTURE_CORPUS, SEED_EXPERT, SEED_GUIDELINE
from helpers import minimal_pdf

S = Settings()
SEEDS = FIXTURE_CORPUS / "seeds"


def one(path: Path):
    res = load([path], S)
    assert not res.errors, res.errors
    assert len(res.documents) == 1
    return res.documents[0]


@pytest.fixture(scope="module")
def guideline():
    return one(SEEDS / f"{SEED_GUIDELINE}.txt")


@pytest.fixture(scope="module")
def expert():
    return one(SEEDS / f"{SEED_EXPERT}.txt")


CHROME = ["Personalize", "Help us tailor your experience", "Which best describes you", "Under Review",
          "Article Review Status", "Medical Advisory Board", "View editorial policy", "Share Your Story",
          "Enter word", "(never shown)", "Latest Comments", "Add a Comment", "Home >", "comments*Discuss",
          "Have a follow-up question", "world-class", "You might also like", "Professional Medical Disclaimer",
          "Dr.Oracle assumes no liability"]


def test_guideline_seed_is_a_guideline_with_clean_text(guideline):
    assert guideline.doc_id == SEED_GUIDELINE
    assert guideline.doc_type == "guideline"
    assert guideline.title == "Stem Cell Therapy for Stroke Recovery"
    assert guideline.published == "2025-11-03"
    for junk in CHROME:
        assert junk not in guideline.text, junk
    assert "Stem cell therapy is not currently recommended as a standard treatment" in guideline.text


def test_guideline_seed_sections_keep_heading_path(guideline):
    paths = [s.heading_path for s in guideline.sections]
    assert ["Stem Cell Therapy for Stroke Recovery", "Evidence-Based Treatment Recommendations",
            "Aerobic Exercise Program"] in paths
    assert any(p[-1] == "Current Evidence on Stem Cell Therapy" for p in paths)
    for s in guideline.sections:  # offsets point into the cleaned text, and start on the heading
        assert 0 <= s.start < s.end <= len(guideline.text)
        if len(s.heading_path) > 1:
            assert guideline.text[s.start:s.end].startswith(s.heading_path[-1])


def test_guideline_seed_citation_markers_become_metadata(guideline):
    # "…in human trials 1." → the sentence ends "human trials." and marker 1 is metadata
    assert "human trials." in guideline.text
    assert "human trials 1" not in guideline.text
    assert "exercise intolerance:" in guideline.text and "intolerance 3, 4" not in guideline.text
    assert "Frequency: 3-7 days per week\n" in guideline.text + "\n"
    markers = {n for s in guideline.sections for nums in s.citation_markers.values() for n in nums}
    assert markers == {1, 2, 3, 4, 5, 6, 7}
    # numbers that are data stay: "3 hours", "42-67%", "RPE 11-14 on 6-20 scale"
    assert "at least 3 hours of therapy daily" in guideline.text and "42-67%" in guideline.text


def test_guideline_seed_references_are_not_body_text(guideline):
    assert len(guideline.references) == 4
    assert any("Optimal Physiotherapy Frequency for Post-Stroke Patients" in r for r in guideline.references)
    assert "Optimal Physiotherapy Frequency" not in guideline.text


def test_expert_seed_splits_question_answer_and_comments(expert):
    assert expert.doc_type == "expert_answer"
    assert expert.title == "Restoration of Paralysis, can Stem Cells Help?"
    assert expert.published == "2019-07-19"
    q = [s for s in expert.sections if s.id.endswith("_question")]
    assert len(q) == 1 and q[0].author == "Mr Travis Henderson" and q[0].date == "2009-01-05"
    assert "atrophic or dead muscles" in expert.text[q[0].start:q[0].end]
    answer = [s for s in expert.sections if "_answer" in s.id]
    assert answer and all(s.doc_type is None for s in answer)
    body = " ".join(expert.text[s.start:s.end] for s in answer)
    assert "In theory, stem cells could restore function to your friend's face." in body
    assert "Importance Of Safety" in body
    comments = [s for s in expert.sections if s.doc_type == "comment"]
    assert len(comments) == 30
    first = comments[0]
    assert first.author == "lane" and first.date == "2019-07-19"
    assert "intellectual disability" in expert.text[first.start:first.end]
    replies = [c for c in comments if c.author == "ExploreStemCells"]
    assert len(replies) == 4  # the site's replies are comments too, never evidence
    for s in answer:  # no comment text inside the expert's answer
        assert "STC 30" not in expert.text[s.start:s.end]
    for junk in CHROME:
        assert junk not in expert.text, junk


def test_markdown_front_matter_and_medquad_sections():
    doc = one(FIXTURE_CORPUS / "medquad" / "GARD_0004450.md")
    assert doc.doc_id == "GARD_0004450" and doc.collection == "medquad" and doc.title == "Noonan syndrome"
    ids = [s.id for s in doc.sections]
    assert ids[:2] == ["GARD_0004450_Sec1", "GARD_0004450_Sec2"]
    s1 = doc.sections[0]
    assert doc.text[s1.start:s1.end].startswith("## What is (are) Noonan syndrome")
    assert s1.heading_path == ["Noonan syndrome", "What is Noonan syndrome?"] and s1.qtype == "information"


def test_markdown_without_sections_uses_headings(tmp_path):
    f = tmp_path / "note.md"
    f.write_text("---\ntitle: Local protocol\ndoc_type: guideline\n---\n# Local protocol\n\nIntro text here.\n\n"
                 "## Dosing\n\nGive 5 mg daily.\n\n### Renal impairment\n\nHalve the dose.\n", encoding="utf-8")
    doc = one(f)
    assert doc.doc_id == "note" and doc.doc_type == "guideline"
    assert [s.heading_path for s in doc.sections] == [["Local protocol"], ["Local protocol", "Dosing"],
                                                      ["Local protocol", "Dosing", "Renal impairment"]]


def test_html_loader_extracts_main_content(tmp_path):
    f = tmp_path / "page.html"
    f.write_text("""<html><head><title>Gout care</title></head><body><nav>Home | Subscribe | Log in</nav>
    <article><h1>Gout care</h1><p>Colchicine is used to treat acute gout flares in adults with normal kidney function.</p>
    <h2>Prevention</h2><p>Allopurinol lowers serum urate and prevents future gout attacks in most patients.</p></article>
    <footer>All rights reserved. Cookie settings.</footer></body></html>""", encoding="utf-8")
    doc = one(f)
    assert "Colchicine is used to treat acute gout flares" in doc.text
    assert "Subscribe" not in doc.text and "Cookie" not in doc.text
    assert doc.title == "Gout care"


def test_html_inline_markup_reads_as_the_page_does(tmp_path):
    f = tmp_path / "art.html"
    f.write_text("""<html><head><title>ART initiation</title></head><body><article><h1>ART initiation</h1>
    <p>Trials of starting ART in persons with &gt;500 CD4<sup>+</sup> cells/&mu;L are ongoing, and the benefit below
    &lt;350 CD4<sup>+</sup> cells/&mu;L is clear in randomized clinical trials of treatment-naive adults.</p>
    <p>Obesity is defined as a body mass index of 30 kg/m<sup>2</sup> or higher in adults of any age.</p></article>
    </body></html>""", encoding="utf-8")
    doc = one(f)
    assert ">500 CD4+ cells/μL" in doc.text and "benefit below <350 CD4+" in doc.text and "30 kg/m2 or higher" in doc.text
    assert "<sup>" not in doc.text and "\\<" not in doc.text


def test_pdf_loader(tmp_path):
    f = tmp_path / "protocol.pdf"
    f.write_bytes(minimal_pdf(["Sepsis bundle: give antibiotics within one hour.", "Measure lactate."]))
    doc = one(f)
    assert "give antibiotics within one hour" in doc.text
    # sections are headed by the document's headings, never "Page 1"; pages are metadata
    assert doc.sections and doc.sections[0].id.startswith("protocol#") and doc.sections[0].page_start == 1
    assert not any(h.startswith("Page ") for s in doc.sections for h in s.heading_path)


def test_jsonl_loader_keeps_ids_and_sections(tmp_path):
    text = "## What is demo?\nDemo is a test.\n## How to treat demo?\nRest helps."
    cut = text.index("## How")
    rec = {"id": "X_1", "collection": "demo", "doc_type": "expert_answer", "title": "Demo", "url": "http://e.org",
           "source": "Demo", "published": None, "license": "CC0", "text": text,
           "sections": [{"id": "X_1_Sec1", "heading": "What is demo?", "qtype": "information", "start": 0, "end": cut},
                        {"id": "X_1_Sec2", "heading": "How to treat demo?", "qtype": "treatment", "start": cut,
                         "end": len(text)}]}
    f = tmp_path / "demo.jsonl"
    f.write_text(json.dumps(rec) + "\n", encoding="utf-8")
    doc = one(f)
    assert doc.doc_id == "X_1" and [s.id for s in doc.sections] == ["X_1_Sec1", "X_1_Sec2"]
    assert doc.text[doc.sections[1].start:doc.sections[1].end].startswith("## How to treat demo?")


def test_directory_walk_is_recursive_and_skips_readmes(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "deep.md").write_text("# Deep\n\nSome deep text about asthma inhalers.\n")
    (tmp_path / "README.md").write_text("# About this folder\n")
    (tmp_path / "x.meta.yaml").write_text("doc_type: guideline\n")
    res = load([tmp_path], S)
    assert [d.doc_id for d in res.documents] == ["deep"] and not res.errors


def test_bundled_corpus_keeps_every_shared_id():
    """Every document id of the shared corpus is a document of the bundled corpus."""
    ids = set()
    for f in (Path(__file__).resolve().parent.parent / "corpus").rglob("*.md"):
        if f.name.lower().startswith(("readme", "source_readme")):
            continue
        ids.add(f.stem)
    assert len(ids) >= 7226
    assert {"GARD_0004450", "QA2019_train_liveqa_1_Answer5", "MAS2021_validation_3_Answer8", "NGC_9568",
            "USPSTF_autism-spectrum-disorder-in-young-children-screening"} <= ids
