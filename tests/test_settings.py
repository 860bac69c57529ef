"""One settings object: defaults, QA_BOT_ environment variables, an optional TOML config file."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa_bot.settings import DEFAULT_DISCLAIMER, Settings


def test_defaults():
    s = Settings()
    assert s.embedding_model == "all-MiniLM-L6-v2" and s.chroma_url is None and s.answer.disclaimer == DEFAULT_DISCLAIMER
    assert s.data_dir.name == "data" and s.ingest.corpus[0].name == "corpus"


def test_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("QA_BOT_DATA_DIR", str(tmp_path / "d"))
    monkeypatch.setenv("QA_BOT_CORPUS", f"{tmp_path / 'a'}:{tmp_path / 'b'}")
    monkeypatch.setenv("QA_BOT_CHROMA_URL", "http://127.0.0.1:8000")
    monkeypatch.setenv("QA_BOT_EMBEDDING_MODEL", str(tmp_path))
    monkeypatch.setenv("QA_BOT_DOC_TYPES", "guideline, expert_answer")
    s = Settings()
    assert s.data_dir == tmp_path / "d" and s.ingest.corpus == [tmp_path / "a", tmp_path / "b"]
    assert s.chroma_url == "http://127.0.0.1:8000" and s.embedding_model == str(tmp_path)
    assert s.retrieval.doc_types == ["guideline", "expert_answer"]
    assert s.state_db == tmp_path / "d" / "state.sqlite"


def test_config_file(monkeypatch, tmp_path):
    cfg = tmp_path / "qa.toml"
    cfg.write_text('audience = "patient"\ntop_k = 7\ndisclaimer = "Example Hospital: verify before use."\n')
    monkeypatch.setenv("QA_BOT_CONFIG", str(cfg))
    s = Settings()
    assert s.answer.audience == "patient" and s.retrieval.top_k == 7 and s.answer.disclaimer.startswith("Example Hospital")
    monkeypatch.setenv("QA_BOT_TOP_K", "5")  # the environment wins over the file
    assert Settings().retrieval.top_k == 5


def test_bad_values_are_refused(monkeypatch):
    monkeypatch.setenv("QA_BOT_AUDIENCE", "robot")
    with pytest.raises(ValueError):
        Settings()


def test_embedding_model_must_be_local(tmp_path):
    from qa_bot.chunk import resolve_model_path

    assert (resolve_model_path("all-MiniLM-L6-v2") / "model.safetensors").is_file()
    with pytest.raises(FileNotFoundError, match="nothing is downloaded"):
        resolve_model_path("sentence-transformers/some-hub-model")
    assert resolve_model_path(str(tmp_path)) == Path(tmp_path)
