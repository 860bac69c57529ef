"""The CLI is a thin caller: JSON shape, readable text, clear one-line errors (no tracebacks)."""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from conftest import SEED_QUESTION
from helpers import output_of, run_cli, write_good_docs

from qa_bot.settings import Settings

pytestmark = pytest.mark.slow


def run(args: list[str], settings: Settings, input: str | None = None) -> subprocess.CompletedProcess:
    return run_cli(args, {"QA_BOT_CORPUS": str(settings.ingest.corpus[0])}, data_dir=settings.data_dir, input=input)


def run_here(args: list[str], settings: Settings, input: str | None = None) -> subprocess.CompletedProcess:
    """The same command run by the CLI's own app in this process (``typer.testing.CliRunner``): what the command
    prints, without starting another process and loading the model again. The tests of the real process (bytes in
    argv and stdin, terminal escapes, errors before the engine loads) use ``run``."""
    from typer.testing import CliRunner

    from qa_bot.cli import app

    env = {"QA_BOT_DATA_DIR": str(settings.data_dir), "QA_BOT_CORPUS": str(settings.ingest.corpus[0])}
    r = CliRunner().invoke(app, args, input=input, env=env)
    if r.exception is not None and not isinstance(r.exception, SystemExit):
        raise r.exception
    return subprocess.CompletedProcess(args, r.exit_code, r.stdout, r.stderr)


def test_ask_json_has_the_documented_keys(indexed_settings: Settings, tmp_path):
    r = run(["ask", SEED_QUESTION, "--json"], indexed_settings)  # the real process: its stdout is the JSON
    assert r.returncode == 0, r.stderr
    a = json.loads(r.stdout)
    for key in ("question", "standalone_question", "sentences", "citations", "abstained", "disclaimer", "timings_ms"):
        assert key in a
    assert a["sentences"][0]["citations"] and {"text", "citations"} <= set(a["sentences"][0])
    assert {"n", "doc_id", "section_id", "doc_type", "title", "url", "quote"} <= set(a["citations"][0])
    assert a["disclaimer"] == Settings().answer.disclaimer

    hist = tmp_path / "h.json"
    hist.write_text(json.dumps([{"role": "user", "content": "What is Noonan syndrome?"},
                                {"role": "assistant", "content": "A genetic disorder."}]))
    r = run_here(["ask", "How is it treated?", "--history", str(hist), "--json"], indexed_settings)
    assert r.returncode == 0, r.stderr
    assert "Noonan syndrome" in json.loads(r.stdout)["standalone_question"]


def test_ask_text_output(indexed_settings: Settings):
    r = run_here(["ask", SEED_QUESTION], indexed_settings)
    assert r.returncode == 0
    out = r.stdout
    assert "BOTTOM LINE" in out and "REFERENCES" in out and "[1]" in out
    assert Settings().answer.disclaimer.split(":")[0] in out.replace("\n", " ")


@pytest.mark.parametrize("args,needle", [
    (["ask", ""], "empty"),
    (["ask", "x" * 20_000], "20,000 characters"),
    (["ask", "\x01\x02\x03"], "empty"),
    (["ask", "What is gout?", "--audience", "robot"], "--audience"),
    (["ask", "What is gout?", "--bogus"], "No such option"),
    (["ask", "What is gout?", "--history", "/nonexistent.json"], "no such history file"),
])
def test_bad_cli_input_is_a_clear_message(indexed_settings: Settings, args, needle):
    r = run(args, indexed_settings)
    assert r.returncode != 0
    assert needle in r.stderr + r.stdout
    assert "Traceback" not in r.stderr + r.stdout


def test_missing_index_is_a_clear_message(tmp_path):
    r = run_cli(["ask", "What is gout?"], data_dir=tmp_path / "nothing", timeout=120)
    assert r.returncode == 2 and "qa-bot ingest" in r.stderr and "Traceback" not in r.stderr


def test_chat_follow_up(indexed_settings: Settings):
    r = run_here(["chat"], indexed_settings, input="What is Noonan syndrome?\nHow is it treated?\n\n")
    assert r.returncode == 0, r.stderr
    assert "Searched for: How is Noonan syndrome treated?" in r.stdout


def test_index_stats(indexed_settings: Settings):
    r = run(["index", "stats", "--json"], indexed_settings)
    assert r.returncode == 0, r.stderr
    stats = json.loads(r.stdout)
    assert stats["documents"] == 40 and stats["by_doc_type"]["guideline"] > 0 and stats["model"] == "all-MiniLM-L6-v2"


# --- names and document text printed safely ---------------------------------------------------------------------
FORGED = "x\ndone in 0.1s: 999 documents"


def test_a_file_name_cannot_forge_a_line_of_the_ingest_output(tmp_path):
    import subprocess
    import sys

    corpus = tmp_path / "corpus" / "x"
    corpus.mkdir(parents=True)
    (corpus / "a.txt").write_text("Gout is treated with colchicine.\n")
    (corpus / f"{FORGED}.txt").write_bytes(b"")  # empty: it fails, named
    (corpus / f"[bold]{FORGED}\x1b[2J.txt").symlink_to(tmp_path / "corpus" / "x" / ".." / ".." / "elsewhere.txt")
    (tmp_path / "elsewhere.txt").write_text("secret\n")
    env = {**os.environ, "QA_BOT_DATA_DIR": str(tmp_path / "data"), "QA_BOT_CORPUS": str(corpus.parent)}
    r = subprocess.run([sys.executable, "-m", "qa_bot.cli", "ingest", "--no-vectors"], capture_output=True, text=True,
                       env=env, timeout=240)
    out = r.stdout + r.stderr
    lines = out.splitlines()
    assert not any(ln.lstrip().startswith("done in 0.1s") for ln in lines), out
    assert "x\\ndone in 0.1s: 999 documents" in out and "\x1b" not in out and "\\x1b[2J" in out
    assert "[bold]" in out  # a name is text, never Rich markup


def test_document_text_with_terminal_escapes_is_printed_escaped(tmp_path):
    import subprocess
    import sys

    corpus = tmp_path / "corpus" / "x"
    corpus.mkdir(parents=True)
    (corpus / "gout.md").write_text("---\ntitle: Gout care\n---\n# Treatment of gout\n\nGout is treated "
                                    "with colchicine\x1b[2J\x1b]0;owned\x07 or with allopurinol for the long term.\n")
    env = {**os.environ, "QA_BOT_DATA_DIR": str(tmp_path / "data"), "QA_BOT_CORPUS": str(corpus.parent)}
    assert subprocess.run([sys.executable, "-m", "qa_bot.cli", "ingest", "--no-vectors"], env=env, timeout=240,
                          capture_output=True).returncode == 0
    r = subprocess.run([sys.executable, "-m", "qa_bot.cli", "ask", "How is gout treated?"], capture_output=True,
                       text=True, env=env, timeout=240)
    assert r.returncode == 0, r.stderr
    assert "\x1b" not in r.stdout and "\x07" not in r.stdout


# --- paths and user text printed literally -------------------------------------------------------------------------
@pytest.mark.slow
def test_row3_markup_like_paths_are_printed_literally(tmp_path):
    corpus = tmp_path / "docs"
    write_good_docs(corpus)
    (corpus / "x[").mkdir()
    (corpus / "x[" / "]y.md").write_text("")  # DIR/x[/]y.md: an empty file
    (corpus / "[red]warning.md").write_text("")
    (corpus / "dup[" / "]").mkdir(parents=True)
    (corpus / "dup[" / "]" / "gout.md").write_text("# Gout\n\nA second gout file.\n")  # a duplicate id in dup[/]
    data = tmp_path / "data[/]dir"
    r = run_cli(["ingest", "--no-vectors", str(corpus)], data_dir=data, text=False)
    out = output_of(r)
    assert r.returncode == 1 and "Traceback" not in out and "MarkupError" not in out
    assert f"{corpus / 'x[' / ']y.md'}: file is empty" in out
    assert f"{corpus / '[red]warning.md'}: file is empty" in out
    assert "duplicate document id 'gout'" in out and "dup[/]" in out and "done in" in out
    r = run_cli(["ask", "What is gout?", "--history", str(tmp_path / "x[/]y.json")], data_dir=data, text=False)
    assert r.returncode == 2 and f"{tmp_path / 'x[/]y.json'}: no such history file" in output_of(r)
    r = run_cli(["index", "stats"], data_dir=data, text=False)
    assert r.returncode == 0 and str(data) in output_of(r).replace("\n", "")


@pytest.mark.slow
def test_row7_ask_and_chat_take_any_bytes(indexed_settings: Settings):
    r = run_cli([b"ask", b"What is gout \xff\xfe?"], data_dir=indexed_settings.data_dir, text=False)
    assert r.returncode == 0 and "Traceback" not in output_of(r) and "DISCLAIMER" in output_of(r)
    r = run_cli(["chat"], data_dir=indexed_settings.data_dir, text=False,
                input=b"What is gout \xff\xfe?\nWhat is Noonan syndrome?\xc3\n\n")
    out = output_of(r)
    assert r.returncode == 0 and "Traceback" not in out and out.count("DISCLAIMER") == 2
