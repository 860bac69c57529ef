"""Bad input: one clear line naming the file and the reason; the others are still indexed; nothing stored is lost."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import minimal_pdf

from qa_bot.index import get_store, ingest
from qa_bot.load import load
from qa_bot.settings import Settings

S = Settings()


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


@pytest.mark.slow
def test_failed_files_lose_nothing_already_indexed_and_exit_non_zero(fresh_settings: Settings, tmp_path):
    report = ingest(None, fresh_settings)
    store = get_store(fresh_settings)
    before = store.count_chunks()
    assert before > 0 and not report.failed
    corpus = fresh_settings.ingest.corpus[0]
    # an indexed file gets corrupted, a new bad file appears
    victim = corpus / "medquad" / "GARD_0004450.md"
    victim.write_bytes(b"\xff\xfe\x00garbage")
    (corpus / "bad.jsonl").write_text("{oops\n")
    env = {**os.environ, "QA_BOT_DATA_DIR": str(fresh_settings.data_dir), "QA_BOT_CORPUS": str(corpus)}
    r = subprocess.run([sys.executable, "-m", "qa_bot.cli", "ingest"], capture_output=True, text=True, env=env,
                       timeout=300)
    assert r.returncode == 1, r.stdout + r.stderr
    out = r.stdout + r.stderr
    assert "GARD_0004450.md" in out and "bad.jsonl:1" in out and "Traceback" not in out
    assert store.count_chunks() == before  # the corrupted file's earlier chunks are kept
    assert store.db().execute("SELECT COUNT(*) FROM docs WHERE doc_id='GARD_0004450'").fetchone()[0] == 1
