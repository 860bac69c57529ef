"""Loaders: one per format, the seeds' structure, chrome stripping, offsets; bad and unusual input: one clear line
naming the file and the reason, the others still loaded; links out of the corpus folder; encodings, ids and front
matter; recommendation blocks; property-based random files, names and front matter (modest example counts: the suite
stays fast on 2 cores)."""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from qa_bot.chunk import MODEL_WINDOW, chunk_document
from qa_bot.load import iter_files, load, recommendation_blocks
from qa_bot.settings import Settings
from qa_bot.types import LoadError, Section, SkippedFile

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


def test_structured_recommendation_blocks_become_units():
    text = ("# Colorectal Cancer: Screening\n\n## Recommendation Summary\n\n"
            "- Population: Colorectal Cancer: Screening -- Adults aged 45 to 49 years\n  Grade: B\n"
            "  Recommendation: The USPSTF recommends screening for colorectal cancer in adults aged 45 to 49 years.\n\n"
            "- Population: Colorectal Cancer: Screening -- Adults aged 76 to 85 years\n  Grade: C\n"
            "  Recommendation: The USPSTF recommends that clinicians selectively offer screening.\n\n## Importance\nText.\n")
    sec = Section(id="d#recommendation-summary", heading_path=["CRC", "Recommendation Summary"],
                  start=text.index("## Recommendation"), end=text.index("## Importance"))
    out = recommendation_blocks("d", text, [sec])
    recs = [s for s in out if s.kind == "recommendation"]
    assert [(s.grade, s.population) for s in recs] == [("B", "Adults aged 45 to 49 years"), ("C", "Adults aged 76 to 85 years")]
    assert text[recs[0].start:recs[0].end].startswith("The USPSTF recommends screening")
    assert recs[0].heading_path[-1] == "Adults aged 45 to 49 years"


SECRET = "root:x:0:0:root:/root:/bin/bash\n"


def _corpus_with_links(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "passwd").write_text(SECRET)
    corpus = tmp_path / "corpus" / "x"
    corpus.mkdir(parents=True)
    (corpus / "a.txt").write_text("Gout is treated with colchicine.\n")
    (corpus / "passwd.txt").symlink_to(outside / "passwd")
    (corpus / "also_a.txt").symlink_to(corpus / "a.txt")  # inside the folder: read once, as a.txt
    return corpus.parent


def test_a_file_link_out_of_the_folder_is_skipped_and_named(tmp_path):
    corpus = _corpus_with_links(tmp_path)
    items = list(iter_files([corpus]))
    skipped = [i for i in items if isinstance(i, SkippedFile)]
    assert [os.path.basename(s.path) for s in skipped] == ["passwd.txt"]
    assert "outside" in skipped[0].reason
    res = load([corpus], Settings())
    assert [d.doc_id for d in res.documents] == ["a"]  # the inside link adds no second copy (no duplicate error)
    assert all(SECRET.strip() not in d.text for d in res.documents)


def test_ingest_does_not_index_a_linked_file_and_drops_what_was(tmp_path):
    from qa_bot.store import get_store, ingest

    corpus = _corpus_with_links(tmp_path)
    settings = Settings(data_dir=tmp_path / "data", corpus=[corpus])
    ingest([corpus / "x" / "passwd.txt"], settings, vectors=False)  # as an earlier version indexed it
    assert "passwd" in get_store(settings).known_documents()
    notes = []
    report = ingest(None, settings, vectors=False, on_notice=notes.append)
    assert not report.failed, report.failed
    assert report.documents == 1
    assert any(n.path.endswith("passwd.txt") for n in notes)
    store = get_store(settings)
    assert set(store.known_documents()) == {"a"}


# --- ordinary front matter (dates, numbers) -------------------------------------------------------------------------
def test_row1_front_matter_dates_and_numbers_become_text(tmp_path):
    (tmp_path / "dated.md").write_text("---\npublished: 2020-01-15\ntitle: 2024\nsource: 42\n---\n# Gout\n\n"
                                       "Gout is a form of arthritis.\n")
    (tmp_path / "listy.md").write_text("---\ntitle: [Gout, Hyperuricemia]\nid: 12345\n---\nGout is a form of arthritis.\n")
    (tmp_path / "mapped.md").write_text("---\ntitle: {a: 1}\n---\nGout is a form of arthritis.\n")
    res = load([tmp_path], S)
    docs = {d.doc_id: d for d in res.documents}
    assert docs["dated"].published == "2020-01-15" and docs["dated"].title == "2024" and docs["dated"].source == "42"
    assert docs["12345"].title == "Gout, Hyperuricemia"
    [e] = res.errors
    assert e.path == str(tmp_path / "mapped.md") and e.reason == "'title' must be text, not a mapping"
    for d in res.documents:
        assert chunk_document(d, S).chunks


# --- clear messages -------------------------------------------------------------------------------------------------
def test_row11_utf16_and_utf32_files_are_decoded(tmp_path):
    text = "# Gout\n\nGout is a form of arthritis caused by uric acid crystals.\n"
    for name, data in {"bom16.md": text.encode("utf-16"), "le16.md": text.encode("utf-16-le"),
                       "be16.md": text.encode("utf-16-be"), "bom32.md": text.encode("utf-32")}.items():
        (tmp_path / name).write_bytes(data)
    (tmp_path / "bad16.txt").write_bytes(b"\xff\xfe\x00garbage")  # a BOM, then an odd number of bytes
    res = load([tmp_path], S)
    assert sorted(d.doc_id for d in res.documents) == ["be16", "bom16", "bom32", "le16"]
    assert all("uric acid crystals" in d.text for d in res.documents)
    [e] = res.errors
    assert e.path == str(tmp_path / "bad16.txt") and "UTF-16" in e.reason and "save it as UTF-8" in e.reason


def test_row11_ids_of_the_wrong_type(tmp_path):
    (tmp_path / "num.md").write_text("---\nid: 12345\n---\nGout is a form of arthritis.\n")
    (tmp_path / "lst.md").write_text("---\nid: [a, b]\n---\nGout is a form of arthritis.\n")
    (tmp_path / "r.jsonl").write_text(json.dumps({"id": 7, "text": "Asthma is a disease of the airways."}) + "\n"
                                      + json.dumps({"id": {"x": 1}, "text": "Asthma."}) + "\n")
    res = load([tmp_path], S)
    assert sorted(d.doc_id for d in res.documents) == ["12345", "7"]
    msgs = sorted(f"{e.path}: {e.reason}" for e in res.errors)
    assert msgs == [f"{tmp_path / 'lst.md'}: 'id' must be text or a whole number, not a list (\"['a', 'b']\")",
                    f"{tmp_path / 'r.jsonl'}:2: 'id' must be text or a whole number, not a mapping (\"{{'x': 1}}\")"]


FAST = hsettings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


WORDS = ["gout", "asthma", "fever", "treatment", "[x](http://a)", "*b*", "$x^2$", "<b>", "#", ":smile:", "é", "中文",
         "\u200b", "---", "?", "a" * 60]


scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**12, 10**12),
                    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=80), st.dates(),
                    st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2100, 1, 1)))


values = st.one_of(scalars, st.lists(scalars, max_size=4), st.dictionaries(st.text(max_size=8), scalars, max_size=3))


front_matter = st.dictionaries(
    st.sampled_from(["id", "title", "published", "collection", "doc_type", "source", "url", "license", "sections",
                     "text", "extra"]), values, max_size=6)


headings = st.one_of(st.text(max_size=200), st.lists(st.sampled_from(WORDS), max_size=400).map(" ".join))


bodies = st.one_of(st.text(min_size=1, max_size=600),
                   st.lists(st.sampled_from(WORDS + ["Gout is arthritis.", "\n\n", "\n- item"]), max_size=200)
                   .map(" ".join))


file_names = st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="/\x00"), min_size=1,
                     max_size=40).filter(lambda n: n not in {".", ".."} and len(n.encode()) < 200)


def check_clean(res, folder: Path) -> None:
    """Every error is one line naming a file under ``folder``; every document chunks within the window."""
    for e in res.errors:
        assert isinstance(e, LoadError) and e.reason and "\n" not in e.reason and "Traceback" not in e.reason
        assert e.path.startswith(str(folder))
    for doc in res.documents:
        for c in chunk_document(doc, S).chunks:
            assert c.n_tokens + 2 <= MODEL_WINDOW and c.text == doc.text[c.start:c.end]


def _front_matter_file(meta: dict, heading: str, body: str) -> str:
    try:
        fm = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False)
    except yaml.YAMLError:
        fm = "{}\n"
    return f"---\n{fm}---\n# {heading}\n\n{body}\n"


@FAST
@given(meta=front_matter, heading=headings, body=bodies)
def test_random_front_matter_and_headings_load_and_chunk_cleanly(meta, heading, body):
    with tempfile.TemporaryDirectory() as d:
        folder = Path(d)
        (folder / "doc.md").write_text(_front_matter_file(meta, heading, body), encoding="utf-8")
        (folder / "doc.jsonl").write_text(yaml.safe_dump({**meta, "text": body}, default_flow_style=True,
                                                         width=10**9).replace("\n", " ") + "\n", encoding="utf-8")
        check_clean(load([folder], S), folder)


@FAST
@given(name=file_names, suffix=st.sampled_from([".md", ".txt", ".html", ".jsonl", ".pdf"]),
       data=st.one_of(st.binary(max_size=400), st.text(max_size=400).map(lambda t: t.encode("utf-8", "surrogatepass")),
                      st.text(max_size=200).map(lambda t: t.encode("utf-16", "surrogatepass"))))
def test_random_file_names_and_bytes_load_cleanly(name, suffix, data):
    with tempfile.TemporaryDirectory() as d:
        folder = Path(d)
        try:
            (folder / (name + suffix)).write_bytes(data)
        except OSError:  # a name the file system refuses is not the loader's concern
            return
        check_clean(load([folder], S), folder)


@hsettings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(docs=st.lists(st.tuples(front_matter, headings, bodies), min_size=1, max_size=3))
def test_random_documents_never_stop_ingest(docs):
    from qa_bot.store import get_store, ingest

    with tempfile.TemporaryDirectory() as d:
        corpus = Path(d) / "corpus"
        corpus.mkdir()
        (corpus / "good.md").write_text("# Gout\n\nGout is a form of arthritis caused by uric acid crystals.\n")
        for i, (meta, heading, body) in enumerate(docs):
            (corpus / f"r{i}.md").write_text(_front_matter_file(meta, heading, body), encoding="utf-8")
        settings = Settings(data_dir=Path(d) / "data", corpus=[corpus])
        report = ingest(None, settings, vectors=False)
        assert all("\n" not in e.reason for e in report.failed)
        store = get_store(settings)
        assert store.db().execute("SELECT 1 FROM docs WHERE doc_id='good'").fetchone()
        assert store.check()["problems"] == [f"{store.count_chunks()} chunks have no vector yet"]


def errors_for(path: Path) -> list[str]:
    res = load([path], S)
    return [f"{e.path}: {e.reason}" for e in res.errors]


def test_empty_file(tmp_path):
    f = tmp_path / "empty.md"
    f.write_text("")
    assert errors_for(f) == [f"{f}: file is empty"]


def test_binary_file(tmp_path):
    f = tmp_path / "image.txt"
    f.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    [msg] = errors_for(f)
    assert str(f) in msg and "binary" in msg


def test_non_utf8_file(tmp_path):
    f = tmp_path / "latin1.txt"
    f.write_bytes("Caf\xe9 au lait spots are flat, light brown patches.".encode("latin-1"))
    [msg] = errors_for(f)
    assert str(f) in msg and "not valid UTF-8" in msg and "0xe9" in msg


def test_truncated_pdf(tmp_path):
    f = tmp_path / "cut.pdf"
    f.write_bytes(minimal_pdf(["Some protocol text that is long enough."])[:120])
    [msg] = errors_for(f)
    assert str(f) in msg and "PDF" in msg


def test_broken_html_still_yields_text_or_clear_error(tmp_path):
    f = tmp_path / "broken.html"
    f.write_text("<html><body><div><p>Metformin is first-line therapy for type 2 diabetes in most adults"
                 ". <p><b>unclosed <i>tags everywhere</div", encoding="utf-8")
    res = load([f], S)
    assert not res.errors and "Metformin is first-line therapy" in res.documents[0].text
    g = tmp_path / "garbage.html"
    g.write_text("<html><script>var a = 1;</script><<<>>></html>", encoding="utf-8")
    [msg] = errors_for(g)
    assert str(g) in msg and "text" in msg


def test_bad_jsonl_line_names_the_line_and_keeps_the_others(tmp_path):
    f = tmp_path / "recs.jsonl"
    good = {"id": "R1", "text": "Asthma is a chronic disease of the airways.", "doc_type": "expert_answer"}
    f.write_text(json.dumps(good) + "\n{not json\n" + json.dumps({"id": "R3"}) + "\n", encoding="utf-8")
    res = load([f], S)
    assert [d.doc_id for d in res.documents] == ["R1"]
    msgs = [f"{e.path}: {e.reason}" for e in res.errors]
    assert msgs[0].startswith(f"{f}:2: malformed JSON")
    assert msgs[1] == f"{f}:3: missing or empty 'text'"


def test_duplicate_ids(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "same.md").write_text("# A\n\nFirst text about gout.\n")
    (tmp_path / "b" / "same.md").write_text("# B\n\nSecond text about gout.\n")
    res = load([tmp_path], S)
    assert len(res.documents) == 1
    [e] = res.errors
    assert "duplicate document id 'same'" in e.reason and e.path.endswith("b/same.md")


def test_huge_file_is_refused_without_reading_it(tmp_path):
    f = tmp_path / "huge.txt"
    with f.open("wb") as fh:  # sparse 100 MB file
        fh.truncate(100 * 1024 * 1024)
    [msg] = errors_for(f)
    assert str(f) in msg and "104.9 MB" in msg and "limit" in msg


def test_unknown_doc_type_and_bad_front_matter(tmp_path):
    f = tmp_path / "t.md"
    f.write_text("---\ndoc_type: rumour\n---\nText here.\n")
    assert "unknown doc_type 'rumour'" in errors_for(f)[0]
    g = tmp_path / "y.md"
    g.write_text("---\ntitle: [unclosed\n---\nText.\n")
    assert "bad YAML front matter" in errors_for(g)[0]
