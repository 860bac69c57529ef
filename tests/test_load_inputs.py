"""The loader (qa_bot/load.py) on bad and unusual input: one clear line naming the file and the reason,
the others still loaded; links out of the corpus folder; encodings, ids and front matter; recommendation blocks;
property-based random files, names and front matter (modest example counts: the suite stays fast on 2 cores)."""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from pathlib import Path

import yaml
from helpers import minimal_pdf
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from qa_bot.chunk import MODEL_WINDOW, chunk_document
from qa_bot.load import iter_files, load, recommendation_blocks
from qa_bot.settings import Settings
from qa_bot.types import LoadError, Section, SkippedFile


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


S = Settings()


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
