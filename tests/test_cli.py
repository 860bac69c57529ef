"""The CLI is a thin caller: JSON shape, readable text, clear one-line errors (no tracebacks)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from conftest import SEED_QUESTION

from qa_bot.settings import Settings

pytestmark = pytest.mark.slow


def run(args: list[str], settings: Settings, input: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "QA_BOT_DATA_DIR": str(settings.data_dir), "QA_BOT_CORPUS": str(settings.ingest.corpus[0])}
    return subprocess.run([sys.executable, "-m", "qa_bot.cli", *args], capture_output=True, text=True, env=env,
                          input=input, timeout=300)


def test_ask_json_has_the_documented_keys(indexed_settings: Settings, tmp_path):
    r = run(["ask", SEED_QUESTION, "--json"], indexed_settings)
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
    r = run(["ask", "How is it treated?", "--history", str(hist), "--json"], indexed_settings)
    assert r.returncode == 0, r.stderr
    assert "Noonan syndrome" in json.loads(r.stdout)["standalone_question"]


def test_ask_text_output(indexed_settings: Settings):
    r = run(["ask", SEED_QUESTION], indexed_settings)
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
    env = {**os.environ, "QA_BOT_DATA_DIR": str(tmp_path / "nothing")}
    r = subprocess.run([sys.executable, "-m", "qa_bot.cli", "ask", "What is gout?"], capture_output=True, text=True,
                       env=env, timeout=120)
    assert r.returncode == 2 and "qa-bot ingest" in r.stderr and "Traceback" not in r.stderr


def test_chat_follow_up(indexed_settings: Settings):
    r = run(["chat"], indexed_settings, input="What is Noonan syndrome?\nHow is it treated?\n\n")
    assert r.returncode == 0, r.stderr
    assert "Searched for: How is Noonan syndrome treated?" in r.stdout


def test_index_stats(indexed_settings: Settings):
    r = run(["index", "stats", "--json"], indexed_settings)
    assert r.returncode == 0, r.stderr
    stats = json.loads(r.stdout)
    assert stats["documents"] == 40 and stats["by_doc_type"]["guideline"] > 0 and stats["model"] == "all-MiniLM-L6-v2"
