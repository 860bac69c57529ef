"""The pieces of a captured page's structure (qa_bot.webpage), each alone; a whole XHTML chapter read through the
loader, its reflowed hyphens mended."""

from pathlib import Path

from qa_bot.load import load, mend_spaced_hyphens
from qa_bot.settings import Settings
from qa_bot.webpage import (_comment_start, _comments, _headed_sections, _mark_label_runs, _mark_metadata,
                            _take_keywords, _title_and_question, parse_page)

from layout_fixtures import XHTML


def test_metadata_lines_give_date_and_author():
    keep, published, authors = _mark_metadata(["Title", "By: Jane Roe | Staff", "Updated: March 3, 2021", "Text."])
    assert keep == ["Title", "\x00meta", "\x00meta", "Text."]
    assert (published, authors) == ("2021-03-03", ["Jane Roe"])


def test_a_run_of_short_labels_is_chrome_with_the_label_above_it():
    intro = "The page opens with a sentence of some length, as pages do."
    keep = [intro, "", "Review Status", "Pending", "Reviewed", "Approved", "", "Body text continues, as it does."]
    _mark_label_runs(keep)
    assert keep == [intro, "", *["\x00chrome"] * 4, "", "Body text continues, as it does."]


def test_tag_line_after_the_byline_is_keywords():
    keep = ["\x00meta", "", "Stem Cells Paralysis", "Body."]
    assert _take_keywords(keep) == ["Stem", "Cells", "Paralysis"]
    assert keep[2] == "\x00chrome"
    assert _take_keywords(["\x00meta", "A sentence, with punctuation."]) == []


def test_comments_start_after_the_last_chrome_line_before_the_first_signature():
    lines = ["Body.", "", "", "Nice page", "Bob - 12-Mar-21 @ 3:04 PM"]
    keep = ["Body.", "", "\x00chrome", "Nice page", "Bob - 12-Mar-21 @ 3:04 PM"]
    assert _comment_start(lines, keep) == 3
    assert _comment_start(["Body."], ["Body."]) == 1


def test_comments_keep_author_and_date():
    out = _comments(["Nice page", "Bob - 12-Mar-21 @ 3:04 PM", "", "Me too", "Al - 13-Mar-21 @ 4:04 PM"])
    assert [(s.heading, s.author, s.date, s.role, s.doc_type) for s in out] == [
        ("Comment by Bob", "Bob", "2021-03-12", "comment", "comment"),
        ("Comment by Al", "Al", "2021-03-13", "comment", "comment")]
    assert [b.text for b in out[1].blocks] == ["Me too"]


def test_reader_question_with_attribution_makes_the_rest_an_answer():
    title, question, role, rest = _title_and_question(
        ["Knee Pain", "", "My knee hurts when I climb stairs.", "(Jane Doe, 3 March 2020)", "Rest it."])
    assert title == "Knee Pain" and role == "answer" and rest == ["Rest it."]
    assert (question.author, question.date, [b.text for b in question.blocks]) == (
        "Jane Doe", "2020-03-03", ["My knee hurts when I climb stairs."])


def test_headed_sections_keep_references_apart_and_skip_boilerplate():
    sections = []
    refs = _headed_sections(["Treatment", "", "Rest the knee.", "", "Disclaimer", "", "Not medical advice.", "",
                             "References", "", "Smith J. Knees. 2020."], "body", sections)
    assert refs == ["Smith J. Knees. 2020."]
    assert [(s.heading, [b.text for b in s.blocks]) for s in sections if s.blocks] == [("Treatment", ["Rest the knee."])]


def test_an_attribution_among_the_comments_is_not_the_page_question():
    page = parse_page("Title\n\nBody text here.\n\nSubscribe to our newsletter\nA comment\n(Jane Doe, 3 March 2020)\n"
                      "Bob - 12-Mar-21 @ 3:04 PM")
    assert page.kind == "expert_page" and page.text.startswith("Body text here.")


# --- whole pages through the loader -----------------------------------------------------------------------------
def one(path: Path):
    res = load([path], Settings())
    assert not res.errors, res.errors
    assert len(res.documents) == 1
    return res.documents[0]


def body(doc, sec) -> str:
    return doc.text[sec.start:sec.end]


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
