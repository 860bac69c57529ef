"""One settings object: defaults, QA_BOT_ environment variables, an optional TOML config file."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa_bot.settings import DEFAULT_DISCLAIMER, Settings, SettingsError


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


# --- nested groups, flat names, unknown keys -------------------------------------------------------------------

def test_groups_and_flat_names(monkeypatch, tmp_path):
    """The names documented before the groups keep working: flat keyword arguments, flat QA_BOT_ variables, flat
    TOML keys; each lands in its group."""
    s = Settings(top_k=3, llm="openai:x", llm_timeout=5, ui_login="off", unsupported_policy="mark")
    assert (s.retrieval.top_k, s.llm.model, s.llm.timeout, s.ui.login, s.llm.unsupported_policy) == \
        (3, "openai:x", 5.0, "off", "mark")
    for name, value in {"QA_BOT_TOP_K": "4", "QA_BOT_LLM": "ollama:m", "QA_BOT_LLM_BASE_URL": "http://h/v1",
                        "QA_BOT_UI_LOGIN": "keys", "QA_BOT_SERVER_PORT": "9000", "QA_BOT_API_KEYS": "a-key,b-key",
                        "QA_BOT_FEEDBACK_RETENTION_DAYS": "30", "QA_BOT_ABSTAIN_THRESHOLD": "0.5",
                        "QA_BOT_CORPUS": f"{tmp_path / 'a'}:{tmp_path / 'b'}"}.items():
        monkeypatch.setenv(name, value)
    s = Settings()
    assert (s.retrieval.top_k, s.llm.model, s.llm.base_url, s.ui.login, s.ui.server_port) == \
        (4, "ollama:m", "http://h/v1", "keys", 9000)
    assert [k.get_secret_value() for k in s.server.api_keys] == ["a-key", "b-key"]
    assert s.ui.feedback_retention_days == 30 and s.answer.abstain_threshold == 0.5
    assert s.ingest.corpus == [tmp_path / "a", tmp_path / "b"]
    assert s.answer_snapshot()["llm"] == "ollama:m" and s.answer_snapshot()["top_k"] == 4


def test_nested_names(monkeypatch, tmp_path):
    cfg = tmp_path / "qa.toml"
    cfg.write_text('candidates = 30\n[retrieval]\ntop_k = 7\n[llm]\nmodel = "openai:y"\n[composer]\noverlap = 2.0\n')
    monkeypatch.setenv("QA_BOT_CONFIG", str(cfg))
    s = Settings()
    assert (s.retrieval.top_k, s.retrieval.candidates, s.llm.model, s.composer.overlap) == (7, 30, "openai:y", 2.0)
    monkeypatch.setenv("QA_BOT_RETRIEVAL__TOP_K", "5")  # the environment wins over the file, whichever form
    monkeypatch.setenv("QA_BOT_CANDIDATES", "20")
    monkeypatch.setenv("QA_BOT_COMPOSER__OVERLAP", "3")
    s = Settings()
    assert (s.retrieval.top_k, s.retrieval.candidates, s.composer.overlap) == (5, 20, 3.0)
    assert Settings(retrieval={"top_k": 2}).retrieval.top_k == 2 and Settings(top_k=1).retrieval.candidates == 20


@pytest.mark.parametrize("text, bad, nearest", [
    ("topk = 3\n", "topk", "top_k"),
    ("abstain_treshold = 0.3\n", "abstain_treshold", "abstain_threshold"),
    ("[retrieval]\ntop_kk = 3\n", "retrieval.top_kk", "retrieval.top_k"),
    ("[retreival]\ntop_k = 3\n", "retreival", "retrieval"),
])
def test_unknown_key_in_config_file(monkeypatch, tmp_path, text, bad, nearest):
    cfg = tmp_path / "qa_bot.toml"
    cfg.write_text(text)
    monkeypatch.setenv("QA_BOT_CONFIG", str(cfg))
    with pytest.raises(SettingsError, match=f"unknown setting '{bad}' in {cfg}; did you mean '{nearest}'"):
        Settings()


@pytest.mark.parametrize("name, nearest", [("QA_BOT_TOPK", "QA_BOT_TOP_K"),
                                           ("QA_BOT_CHROMA_ULR", "QA_BOT_CHROMA_URL"),
                                           ("QA_BOT_RETRIEVAL__TOPK", "QA_BOT_RETRIEVAL__TOP_K")])
def test_unknown_environment_variable(monkeypatch, name, nearest):
    monkeypatch.setenv(name, "3")
    with pytest.raises(SettingsError, match=f"unknown setting '{name}' in the environment; did you mean '{nearest}'"):
        Settings()


def test_unknown_key_stops_the_cli(monkeypatch, tmp_path):
    from typer.testing import CliRunner

    from qa_bot.cli import app

    monkeypatch.setenv("QA_BOT_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("QA_BOT_ABSTAIN_TRESHOLD", "0.3")
    result = CliRunner().invoke(app, ["ingest", str(tmp_path)])
    assert result.exit_code == 2 and not (tmp_path / "state.sqlite").exists()
    assert "QA_BOT_ABSTAIN_TRESHOLD" in result.output and "QA_BOT_ABSTAIN_THRESHOLD" in result.output


def test_arguments_and_copies_are_checked():
    base = Settings()
    with pytest.raises(SettingsError, match="'topk' in Settings"):
        Settings(topk=3)
    with pytest.raises(SettingsError, match="did you mean 'top_k'"):
        base.model_copy(update={"top_kk": 3})
    copy = base.model_copy(update={"top_k": 3, "audience": "patient", "llm": "openai:z"})
    assert (copy.retrieval.top_k, copy.answer.audience, copy.llm.model) == (3, "patient", "openai:z")
    assert (base.retrieval.top_k, base.answer.audience, base.llm.model) == (10, "clinician", None)  # untouched
    with pytest.raises(ValueError):  # a copy's values are validated like the constructor's
        base.model_copy(update={"audience": "robot"})


def test_every_setting_is_described():
    from qa_bot.settings import GROUPS

    models = [Settings, *GROUPS.values()]
    missing = [f"{m.__name__}.{f}" for m in models for f, info in m.model_fields.items() if not info.description]
    assert not missing


def test_configuration_doc_is_current():
    from qa_bot.settings_doc import DOC, markdown

    assert DOC.read_text(encoding="utf-8") == markdown(), "run: python -m qa_bot.settings_doc --write"


def test_no_flat_settings_access_left():
    """scripts/nest_settings.py finds no flat attribute access (a top_k read off the settings) left: re-run it after a merge."""
    import subprocess
    import sys

    root = Path(__file__).resolve().parent.parent
    out = subprocess.run([sys.executable, str(root / "scripts" / "nest_settings.py"), "--check"],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
