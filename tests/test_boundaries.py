"""Boundaries: no file outside the corpus folder, no data outside a key's collections, no request that exhausts
the server, no output forged by a file name."""

from __future__ import annotations

import os

import pytest

from qa_bot.load import iter_files, load
from qa_bot.settings import Settings
from qa_bot.types import SkippedFile

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
    from qa_bot.index import get_store, ingest

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

    from qa_bot.index import get_store, ingest

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
