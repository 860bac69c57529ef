"""The audit trail (qa_bot/audit.py): retention, and one trail on the Chroma server in server mode."""

from __future__ import annotations


def test_audit_retention_deletes_old_rows(tmp_path):
    import time

    from qa_bot.audit import AuditStore
    from qa_bot.types import Answer

    store = AuditStore(tmp_path / "a.sqlite", retention_days=1)
    a = Answer(question="q", standalone_question="q", disclaimer="d")
    store.record("k1", None, a, 0.1)
    with __import__("sqlite3").connect(store.path) as conn:
        conn.execute("UPDATE audit SET time = ?", (time.time() - 3 * 86400,))
    store.record("k2", ["c"], a, 0.2)
    assert [r["key_id"] for r in store.rows()] == ["k2"] and store.rows()[0]["collections"] == ["c"]


def test_server_mode_keeps_the_audit_trail_on_the_chroma_server(chroma, tmp_path):
    from qa_bot.audit import AuditStore, ServerAuditStore
    from qa_bot.settings import Settings
    from qa_bot.types import Answer

    a = Answer(question="q", standalone_question="q", disclaimer="d")
    s1 = Settings(data_dir=tmp_path / "d1", chroma_url=chroma.url, collection_name="unit_audit", audit_retention_days=1)
    s2 = s1.model_copy(update={"data_dir": tmp_path / "d2"})
    store = AuditStore.for_settings(s1)
    assert isinstance(store, ServerAuditStore)
    store.record("k1", None, a, 0.1)
    AuditStore.for_settings(s2).record("k2", ["c"], a, 0.2)  # another process, another host: one trail
    rows = AuditStore.for_settings(s2).rows()
    assert [r["key_id"] for r in rows] == ["k1", "k2"] and not (tmp_path / "d1" / "audit.sqlite").exists()
    assert AuditStore.for_settings(s1).rows(since=rows[1]["time"]) == [rows[1]]
