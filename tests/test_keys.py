"""API keys (qa_bot/keys.py): admin and collection marks of the keys file, the `qa-bot keys` helpers, and
a broken or deleted keys file that accepts no key."""

from __future__ import annotations

from helpers import bump_mtime

from qa_bot.api import hash_key
from qa_bot.settings import Settings

ADMIN = "admin-key-0123456789abcdef"
USER = "user-key-0123456789abcdef"
SCOPED = "scoped-key-0123456789abcdef"


def test_admin_keys_are_marked_in_the_keys_file(tmp_path):
    from typer.testing import CliRunner

    from qa_bot.api import parse_keys_file
    from qa_bot.cli import app

    keys = parse_keys_file(f"{hash_key(ADMIN)} admin\n{hash_key(USER)} seeds,nice admin  # ward\n"
                           f"{hash_key(SCOPED)} seeds\n")
    assert [(k.admin, k.collections) for k in keys] == [(True, None), (True, frozenset({"seeds", "nice"})),
                                                         (False, frozenset({"seeds"}))]
    res = CliRunner().invoke(app, ["keys", "hash", "--collections", "seeds"], input=ADMIN + "\n")
    assert res.stdout.strip() == f"{hash_key(ADMIN)} seeds"
    path = tmp_path / "keys.txt"
    res = CliRunner().invoke(app, ["keys", "add", "--file", str(path), "--admin"])
    assert res.exit_code == 0 and parse_keys_file(path.read_text())[0].admin


# --- request limits -------------------------------------------------------------------------------------------
KEY = "boundary-key-0123456789abcdef"


def test_a_broken_or_deleted_keys_file_accepts_no_key_and_says_so(tmp_path, caplog):
    import logging

    from fastapi.testclient import TestClient

    from qa_bot.api import create_app, hash_key

    path = tmp_path / "keys.txt"
    other = "other-key-0123456789abcdef"
    path.write_text(f"{hash_key(KEY)}\n{hash_key(other)}\n", encoding="utf-8")
    with TestClient(create_app(Settings(data_dir=tmp_path / "d", api_keys_file=path), warmup=False)) as c:
        def status(key):
            return c.get("/v1/models", headers={"Authorization": f"Bearer {key}"}).status_code

        assert status(KEY) == 200 and status(other) == 200
        # the other key is revoked while a malformed line is in the file: neither key works
        path.write_text(f"{hash_key(KEY)}\nnot a key line\n", encoding="utf-8")
        bump_mtime(path)
        with caplog.at_level(logging.ERROR, logger="qa_bot.api"):
            assert status(other) == 401 and status(KEY) == 401
        assert "NO API KEY IS ACCEPTED" in caplog.text
        path.write_text(f"{hash_key(KEY)}\n", encoding="utf-8")
        bump_mtime(path)
        assert status(KEY) == 200 and status(other) == 401
        path.unlink()
        assert status(KEY) == 401
