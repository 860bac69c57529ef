"""PDF reading (qa_bot/pdf.py) on hostile input: character and time budgets, the linear contents-page test,
garbled text layers (read by OCR when tesseract is there), encrypted files."""

from __future__ import annotations

import os

import pytest

from qa_bot.load import load
from qa_bot.settings import Settings

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


S = Settings()


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
