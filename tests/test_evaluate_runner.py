"""End to end: eval sets → results.jsonl + report.json/.md/.html → regression gate.

Most tests use a fake ``answer()`` and fake baselines over a small in-memory fixture corpus (fast, no model);
the ``slow`` test runs the real engine and baselines on the indexed fixture corpus of ``conftest.py``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from qa_bot.errors import BadInputError, IndexMissingError
from qa_bot.evaluate import metrics as M
from qa_bot.evaluate import runner as R
from qa_bot.evaluate.cli import eval_command
from qa_bot.settings import Settings
from qa_bot.types import Answer, AnswerSentence, Chunk, Citation, Passage

ROOT = Path(__file__).resolve().parent.parent
REQUIRED = ("n", "answerable", "recall@5", "recall@10", "doc_recall@5", "mrr@10", "ndcg@10", "avg_score", "rougeL",
            "fact_recall", "bottom_line_fact_recall", "fact_coverage", "citation_support", "uncited_sentences", "disclaimer_rate", "abstain_precision", "abstain_recall",
            "false_abstain_rate", "latency_ms_p50", "latency_ms_p95")
RETRIEVAL = ("recall@5", "recall@10", "doc_recall@5", "mrr@10", "ndcg@10")

# --- a tiny corpus and a fake engine ---------------------------------------------------------------------
DOCS = {
    ("ASP", "ASP_Sec1"): ["Aspirin lowers the risk of a first heart attack in some adults.",
                          "Aspirin can cause stomach bleeding."],
    ("ASP", "ASP_Sec2"): ["Adults aged 40 to 59 years may start low-dose aspirin after shared decision making."],
    ("HTN", "HTN_Sec1"): ["Screen adults for high blood pressure with office measurement.",
                          "Confirm high blood pressure outside the clinic before starting treatment."],
    ("HTN", "HTN_Sec2"): ["Treatment of high blood pressure starts with lifestyle changes and medicines."],
    ("GOUT", "GOUT_Sec1"): ["Gout is a painful arthritis caused by uric acid crystals in a joint."],
    ("GOUT", "GOUT_Sec2"): ["Gout attacks are treated with colchicine or anti-inflammatory medicines."],
}
for i in range(12):  # distractors
    DOCS[(f"D{i}", f"D{i}_Sec1")] = [f"Distractor passage number {i} about unrelated topics like weather and travel."]

CHUNKS = [Chunk(chunk_id=f"{sec}:{j}", doc_id=doc, section_id=sec, text=text, heading_path=[sec], doc_type="guideline",
                collection="test", title=doc, start=0, end=len(text), n_tokens=10, content_hash=f"{sec}{j}")
          for (doc, sec), texts in DOCS.items() for j, text in enumerate(texts)]
STOP = {"the", "a", "of", "is", "in", "for", "with", "and", "to", "what", "how", "are", "it", "its", "can", "who",
        "does", "do", "i", "about", "should"}


def words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in STOP}


def search(query: str, k: int) -> list[Passage]:
    q = words(query)
    scored = sorted(((len(q & words(c.embed_text)) / (len(q) or 1), i, c) for i, c in enumerate(CHUNKS)),
                    key=lambda t: (-t[0], t[1]))
    return [Passage(chunk=c, score=s) for s, _, c in scored[:k]]


def fake_answer(question, history, settings, **overrides):
    first_user = next((t["content"] for t in history or [] if t["role"] == "user"), "")
    standalone = f"{first_user} {question}".strip()
    if "explode" in question:
        raise RuntimeError("boom")
    passages = search(standalone, settings.retrieval.top_k)
    if not passages or passages[0].score < 0.34:
        return Answer(question=question, standalone_question=standalone, passages=passages, abstained=True,
                      abstain_reason="no passage answers the question", disclaimer=settings.answer.disclaimer)
    top = passages[0].chunk
    cites = [Citation(n=1, chunk_id=top.chunk_id, doc_id=top.doc_id, section_id=top.section_id, doc_type="guideline",
                      quote=top.text)]
    sents = [AnswerSentence(text=top.text, citations=[1], group="bottom_line"),
             AnswerSentence(text="Discuss the options with the patient.", citations=[])]
    return Answer(question=question, standalone_question=standalone, passages=passages, sentences=sents,
                  citations=cites, disclaimer=settings.answer.disclaimer, timings_ms={"total": 1.0})


FAKE_BASELINES = {"bm25": lambda q, k, s: search(q, k), "dense": lambda q, k, s: list(reversed(search(q, k)))}


def row(id_, dataset, question, relevant=(), answerable=True, history=(), judged=None, refs=(), must=None):
    r = {"id": id_, "dataset": dataset, "question": question, "history": list(history), "answerable": answerable,
         "relevant": [{"doc_id": d, "section_id": s, "heading": None, "grade": g} for d, s, g in relevant],
         "judged": judged or {}, "reference_answers": list(refs), "note": "test"}
    if must is not None:
        r["must_mention"] = list(must)
    return r


def write_fact_set(tmp: Path) -> Path:
    """Rows with must_mention against ``fake_answer`` (bottom line = the top passage's text, then one uncited
    key point "Discuss the options with the patient.")."""
    c = tmp / "clin.jsonl"
    c.write_text("\n".join(json.dumps(r) for r in [
        # both facts in the bottom line
        row("c1", "clin", "Does aspirin lower heart attack risk?", [("ASP", "ASP_Sec1", 4)],
            must=["aspirin", r"first\s+heart\s+attack"]),
        # both in the answer, one only in a key point: answer 1, bottom line 0
        row("c2", "clin", "How is high blood pressure treated?", [("HTN", "HTN_Sec1", 4)],
            must=["SCREEN", r"discuss\s+the\s+options"]),
        # one of two facts stated: answer 0, coverage 0.5
        row("c3", "clin", "Are gout attacks treated with colchicine?", [("GOUT", "GOUT_Sec2", 4)],
            must=["colchicine", "allopurinol"]),
        # the engine abstains on an answerable row (a follow-up): a miss
        row("c4", "clin", "Is it safe in pregnancy?", [("ASP", None, 3)], must=["zyxolam"],
            history=[{"role": "user", "content": "What about Zyxolam?"}, {"role": "assistant", "content": "..."}]),
        # not counted: no must_mention; unanswerable
        row("c5", "clin", "Does aspirin cause stomach bleeding?", [("ASP", "ASP_Sec1", 4)]),
        row("c6", "clin", "Is Qwertazine safe?", answerable=False, must=["qwertazine"]),
    ]) + "\n")
    return c


def write_sets(tmp: Path) -> list[Path]:
    a = tmp / "setA.jsonl"
    rows = [
        row("a1", "setA", "Does aspirin lower heart attack risk?", [("ASP", "ASP_Sec1", 4)], judged={"ASP_Sec1": 4},
            refs=["Aspirin lowers the risk of a first heart attack."]),
        row("a2", "setA", "How is high blood pressure treated?", [("HTN", "HTN_Sec2", 4), ("HTN", None, 3)],
            judged={"HTN_Sec1": 2}, refs=["Lifestyle changes and medicines."]),
        row("a3", "setA", "Who should get Zyxolam and why is it prescribed?", answerable=False,
            judged={"ASP_Sec1": 1}),
    ]
    lines = [json.dumps(r) for r in rows]
    lines.insert(1, '{"id": "broken", "question": ')  # line 2: bad JSON
    lines.append(json.dumps({"id": "noq", "dataset": "setA"}))  # line 5: no question
    a.write_text("\n".join(lines) + "\n")
    f = tmp / "follow.jsonl"
    f.write_text("\n".join(json.dumps(r) for r in [
        row("f1", "follow", "How is it treated?", [("GOUT", "GOUT_Sec2", 3)],
            history=[{"role": "user", "content": "What is gout?"}, {"role": "assistant", "content": "Gout is ..."}]),
        row("f2", "follow", "What are its symptoms? explode", [("GOUT", "GOUT_Sec1", 3)]),
    ]) + "\n")
    u = tmp / "unans.jsonl"
    u.write_text("\n".join(json.dumps(row(f"u{i}", "unans", q, answerable=False)) for i, q in
                           enumerate(["What important warning should I know about Qwertazine?",
                                      "Aspirin heart attack gout pills?"])) + "\n")
    return [a, f, u]


@pytest.fixture(autouse=True)
def _fallback_support(monkeypatch):
    monkeypatch.setattr(M, "_SUPPORT_CHECK", False)


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(data_dir=tmp_path / "data", top_k=5)


def test_rows_skip_bad_json_naming_file_and_line(tmp_path):
    paths = write_sets(tmp_path)
    rows, skipped = R.load_rows(paths)
    assert [r.id for r in rows] == ["a1", "a2", "a3", "f1", "f2", "u0", "u1"]
    assert [(Path(s.file).name, s.line) for s in skipped] == [("setA.jsonl", 2), ("setA.jsonl", 5)]
    assert str(skipped[0]).startswith(f"{paths[0]}:2: not valid JSON")
    assert "question" in str(skipped[1]) and str(skipped[1]).startswith(f"{paths[0]}:5:")
    with pytest.raises(BadInputError, match=r"x\.jsonl:3: not valid JSON"):
        R.parse_row("{", "x.jsonl", 3, "x")
    rows, _ = R.load_rows(paths, limit=1)
    assert [r.id for r in rows] == ["a1", "f1", "u0"]


def test_end_to_end_report_files_and_shape(tmp_path, settings):
    out = tmp_path / "out"
    run = R.run_eval(write_sets(tmp_path), out, settings, baselines=True, progress=False,
                     answer_fn=fake_answer, baseline_fns=FAKE_BASELINES)
    for name in ("results.jsonl", "report.json", "report.md", "report.html"):
        assert (out / name).is_file() and (out / name).stat().st_size > 0

    report = json.loads((out / "report.json").read_text())
    assert set(report["datasets"]) == {"setA", "follow", "unans"}
    for name, d in report["datasets"].items():
        assert all(k in d for k in REQUIRED), name
    for b in ("bm25", "dense"):
        assert set(report["baselines"][b]) == {"setA", "follow", "unans"}
        for d in report["baselines"][b].values():
            assert all(k in d for k in RETRIEVAL)

    a, f, u = report["datasets"]["setA"], report["datasets"]["follow"], report["datasets"]["unans"]
    assert (a["n"], a["answerable"]) == (3, 2)
    assert a["recall@5"] == 1.0 and a["mrr@10"] == 1.0  # both answerable rows find their gold first
    # a1 cites ASP_Sec1 (judged 4 → 3), a2 cites HTN_Sec1 (judged 2 → 1), a3 abstains (0)
    assert a["avg_score"] == pytest.approx((3 + 1 + 0) / 3)
    assert a["abstain_precision"] == 1.0 and a["abstain_recall"] == 1.0 and a["false_abstain_rate"] == 0.0
    assert a["citation_support"] == 1.0 and a["uncited_sentences"] == 2 and a["disclaimer_rate"] == 1.0
    assert 0 < a["rougeL"] <= 1
    # not applicable → null
    assert f["avg_score"] is None and f["rougeL"] is None and f["abstain_precision"] is None
    assert all(u[k] is None for k in RETRIEVAL) and u["false_abstain_rate"] is None
    assert all(report["baselines"]["bm25"]["unans"][k] is None for k in RETRIEVAL)
    assert u["abstain_recall"] == 0.5  # "Aspirin heart attack gout pills" is answered
    assert f["n"] == 1 and f["errors"] == 1  # f2 raised: reported, not fatal
    assert report["meta"]["errors"][0]["id"] == "f2" and "boom" in report["meta"]["errors"][0]["error"]
    assert [s["line"] for s in report["meta"]["skipped"]] == [2, 5]
    assert a["latency_ms_p50"] is not None and a["latency_ms_p95"] >= a["latency_ms_p50"]

    results = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert len(results) == len(run.records) == 7
    r1 = next(r for r in results if r["id"] == "a1")
    for k in ("id", "dataset", "question", "standalone_question", "retrieved", "sentences", "citations", "abstained",
              "disclaimer", "latency_ms", "metrics"):
        assert k in r1
    assert r1["retrieved"][0]["section_id"] == "ASP_Sec1" and r1["retrieved"][0]["gold"] is True
    assert "score" in r1["retrieved"][0] and r1["sentences"][0]["citations"] == [1]
    assert r1["metrics"]["ndcg@10"] == 1.0 and r1["metrics"]["avg_score"] == 3.0
    assert set(r1["baselines"]) == {"bm25", "dense"}
    fol = next(r for r in results if r["id"] == "f1")
    assert fol["baselines"]["bm25"]["query"] == "What is gout? How is it treated?"  # first user turn prepended
    assert fol["standalone_question"] == "What is gout? How is it treated?"

    html = (out / "report.html").read_text()
    assert html.count("<svg") >= 3 * 4 and "recall@k" in html and "latency" in html and "Worst-scoring" in html
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html) and "<script" not in html  # self-contained
    assert "Qwertazine" in html or "Aspirin heart attack gout pills" in html  # a worst question is shown
    md = (out / "report.md").read_text()
    assert "| metric | setA | follow | unans |" in md and "## Engine vs baselines" in md and "| bm25 |" in md


def test_no_baselines_gives_null_baselines(tmp_path, settings):
    run = R.run_eval(write_sets(tmp_path)[:1], tmp_path / "o", settings, progress=False, answer_fn=fake_answer)
    assert run.report["meta"]["baselines_run"] is False
    assert all(v is None for v in run.report["baselines"]["dense"]["setA"].values())
    assert "baselines" not in run.records[0]


def test_fatal_engine_errors_stop_the_run(tmp_path, settings):
    def missing(*a, **k):
        raise IndexMissingError("no index: run `qa-bot ingest`")

    with pytest.raises(IndexMissingError):
        R.run_eval(write_sets(tmp_path)[:1], tmp_path / "o", settings, progress=False, answer_fn=missing)

    def broken(*a, **k):
        raise ImportError("engine not there")

    rows = tmp_path / "many.jsonl"
    rows.write_text("\n".join(json.dumps(row(f"m{i}", "m", f"question {i}")) for i in range(8)) + "\n")
    with pytest.raises(ImportError):  # every leading row fails: stop instead of failing 8 rows
        R.run_eval([rows], tmp_path / "o2", settings, progress=False, answer_fn=broken)


def test_key_facts_per_row_aggregate_and_reports(tmp_path, settings):
    out = tmp_path / "out"
    run = R.run_eval([write_fact_set(tmp_path)], out, settings, progress=False, answer_fn=fake_answer)
    by_id = {r["id"]: r for r in run.records}
    assert [by_id[i]["metrics"]["fact_recall"] for i in ("c1", "c2", "c3", "c4")] == [1.0, 1.0, 0.0, 0.0]
    assert [by_id[i]["metrics"]["bottom_line_fact_recall"] for i in ("c1", "c2", "c3", "c4")] == [1.0, 0.0, 0.0, 0.0]
    assert [by_id[i]["metrics"]["fact_coverage"] for i in ("c1", "c2", "c3", "c4")] == [1.0, 1.0, 0.5, 0.0]
    assert by_id["c2"]["facts"] == {"must_mention": ["SCREEN", r"discuss\s+the\s+options"], "missing": [],
                                    "bottom_line_missing": [r"discuss\s+the\s+options"]}
    assert by_id["c3"]["facts"]["missing"] == by_id["c3"]["facts"]["bottom_line_missing"] == ["allopurinol"]
    assert by_id["c4"]["abstained"] and by_id["c4"]["facts"]["missing"] == ["zyxolam"]
    for i in ("c5", "c6"):  # excluded from the key-fact measures
        assert "facts" not in by_id[i] and "fact_recall" not in by_id[i]["metrics"]

    d = json.loads((out / "report.json").read_text())["datasets"]["clin"]
    assert d["n_facts"] == 4
    assert d["fact_recall"] == pytest.approx(2 / 4) and d["bottom_line_fact_recall"] == pytest.approx(1 / 4)
    assert d["fact_coverage"] == pytest.approx((1 + 1 + 0.5 + 0) / 4)
    results = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert next(r for r in results if r["id"] == "c3")["facts"]["missing"] == ["allopurinol"]

    md = (out / "report.md").read_text()
    assert "| fact_recall | 0.500 |" in md and "| bottom_line_fact_recall | 0.250 |" in md
    assert "| fact_coverage | 0.625 |" in md
    section = md[md.index("## Key facts missed"):]
    assert "### clin: 3 of 4 rows" in section and "**c1**" not in section  # c1 states everything
    c3 = section[section.index("**c3**"):section.index("**c4**")]
    assert "missing in the answer: `allopurinol`" in c3 and "missing in the bottom line: `allopurinol`" in c3
    assert "bottom line: Gout attacks are treated with colchicine or anti-inflammatory medicines.[1]" in c3
    assert "standalone:" not in c3  # shown only when it differs from the question
    c4 = section[section.index("**c4**"):]
    assert "**c4**: Is it safe in pregnancy?" in c4 and "standalone: What about Zyxolam? Is it safe in pregnancy?" in c4
    assert "missing in the answer: `zyxolam`" in c4 and "bottom line: (abstained: no passage answers the question)" in c4
    c2 = section[section.index("**c2**"):section.index("**c3**")]
    assert "missing in the answer: none" in c2 and r"missing in the bottom line: `discuss\s+the\s+options`" in c2

    html = (out / "report.html").read_text()
    assert "fact_recall" in html and "bottom_line_fact_recall" in html and "fact_coverage" in html
    assert "Key facts missed (must_mention): 3 of 4 rows" in html
    assert "standalone: What about Zyxolam? Is it safe in pregnancy?" in html
    assert "<code>allopurinol</code>" in html and r"<code>discuss\s+the\s+options</code>" in html
    assert "<b>c1</b>" not in html.split("Key facts missed")[1]


def test_key_facts_not_in_reports_of_sets_without_must_mention(tmp_path, settings):
    out = tmp_path / "out"
    run = R.run_eval(write_sets(tmp_path)[:1], out, settings, progress=False, answer_fn=fake_answer)
    d = run.report["datasets"]["setA"]
    assert d["fact_recall"] is None and d["bottom_line_fact_recall"] is None and d["n_facts"] == 0
    assert "Key facts missed" not in (out / "report.md").read_text()
    assert "Key facts missed" not in (out / "report.html").read_text()


def test_reader_text_leaks_are_listed_per_row_counted_per_set_and_gated(tmp_path, settings):
    """An answer whose reader's text shows a passage id or a confidence figure is counted (reader_text_leaks), and
    the shipped thresholds hold every set to 0."""
    def leaky(question, history, s):
        a = fake_answer(question, history, s)
        if a.abstained or "aspirin" not in question.lower():
            return a
        return a.model_copy(update={"sentences": [AnswerSentence(
            text=f"As {a.citations[0].section_id} says (confidence 0.41 > 0.27).", citations=[1], group="bottom_line")]})
    run = R.run_eval(write_sets(tmp_path)[:1], tmp_path / "o", settings, progress=False, answer_fn=leaky)
    rec = next(r for r in R.iter_records(tmp_path / "o" / "results.jsonl") if r["id"] == "a1")
    assert "ASP_Sec1" in rec["metrics"]["reader_text_leaks"]
    assert run.report["datasets"]["setA"]["reader_text_leaks"] >= 2
    limits = tmp_path / "t.toml"
    limits.write_text("[setA.max]\nreader_text_leaks = 0\n")
    assert any("reader_text_leaks" in f for f in R.check_thresholds(run.report, limits))
    shipped = R.load_thresholds(ROOT / "evals" / "thresholds.toml")
    assert all(v["max"].get("reader_text_leaks") == 0 for v in shipped.values())


def test_bad_fact_pattern_skips_the_row_naming_file_and_line(tmp_path):
    p = tmp_path / "c.jsonl"
    p.write_text(json.dumps(row("ok", "c", "q?", must=["fine"])) + "\n" + json.dumps(row("bad", "c", "q?", must=["(grade"])) + "\n")
    rows, skipped = R.load_rows([p])
    assert [r.id for r in rows] == ["ok"] and rows[0].must_mention == ["fine"]
    assert len(skipped) == 1 and str(skipped[0]).startswith(f"{p}:2: must_mention[0] '(grade' is not a valid regular")


# --- the command and the gate ----------------------------------------------------------------------------
def _app() -> typer.Typer:
    app = typer.Typer()
    app.command("eval")(eval_command)

    @app.callback()
    def main() -> None:  # keeps "eval" a subcommand, as in qa_bot.cli
        pass

    return app


@pytest.fixture
def cli_env(monkeypatch, tmp_path):
    import qa_bot.engine

    monkeypatch.setattr(qa_bot.engine, "answer", fake_answer)
    monkeypatch.setattr(R, "_default_baselines", lambda: FAKE_BASELINES)
    monkeypatch.setenv("QA_BOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("QA_BOT_TOP_K", "5")
    return write_sets(tmp_path)


def test_command_writes_reports_and_passes_gate(cli_env, tmp_path):
    thresholds = tmp_path / "t.toml"
    thresholds.write_text('[setA]\n"recall@10" = 0.9\ndisclaimer_rate = 1.0\n[setA.max]\nfalse_abstain_rate = 0.1\n'
                          '[notrun]\n"recall@10" = 0.9\n')
    out = tmp_path / "cli-out"
    res = CliRunner().invoke(_app(), ["eval", *map(str, cli_env), "--out", str(out), "--baselines", "--quiet",
                                      "--check", str(thresholds)])
    assert res.exit_code == 0, res.output
    assert "regression gate passed" in res.output and "not checked (not in this run): notrun" in res.output
    assert "setA.jsonl:2" in res.output  # the skipped row is named
    report = json.loads((out / "report.json").read_text())
    assert report["meta"]["baselines_run"] and report["datasets"]["setA"]["n"] == 3


def test_gate_fails_on_a_raised_floor(cli_env, tmp_path):
    thresholds = tmp_path / "t.toml"
    thresholds.write_text('[setA]\n"recall@10" = 0.9\nrougeL = 0.99\n[follow]\n"ndcg@10" = 1.01\n')
    res = CliRunner().invoke(_app(), ["eval", *map(str, cli_env), "--out", str(tmp_path / "o"), "--quiet",
                                      "--check", str(thresholds)])
    assert res.exit_code == 1, res.output
    assert "regression gate failed" in res.output
    assert re.search(r"setA rougeL = [0-9.]+ is below its floor 0.99", res.output)
    assert "follow ndcg@10 = 1 is below its floor 1.01" in res.output
    assert "setA recall@10" not in res.output


def test_gate_on_fact_recall(cli_env, tmp_path):
    clin = write_fact_set(tmp_path)
    thresholds = tmp_path / "t.toml"
    thresholds.write_text('[clin]\nfact_recall = 0.5\nbottom_line_fact_recall = 0.25\ncitation_support = 1.0\n')
    args = ["eval", str(clin), "--out", str(tmp_path / "o"), "--quiet", "--check", str(thresholds)]
    res = CliRunner().invoke(_app(), args)
    assert res.exit_code == 0, res.output
    assert "regression gate passed" in res.output
    assert re.search(r"fact_recall\s.*0\.500", res.output) and "bottom_line_fact_recall" in res.output  # the summary
    thresholds.write_text('[clin]\nfact_recall = 0.6\nbottom_line_fact_recall = 0.25\n[clin.max]\nfact_coverage = 0.5\n')
    res = CliRunner().invoke(_app(), args)
    assert res.exit_code == 1, res.output
    assert "clin fact_recall = 0.5 is below its floor 0.6" in res.output
    assert "clin fact_coverage = 0.625 is above its ceiling 0.5" in res.output
    assert "bottom_line_fact_recall =" not in res.output
    thresholds.write_text('[setA]\nfact_recall = 0.5\n')  # a set without must_mention: not measured
    res = CliRunner().invoke(_app(), ["eval", str(cli_env[0]), "--out", str(tmp_path / "o2"), "--quiet", "--check",
                                      str(thresholds)])
    assert res.exit_code == 1 and "setA fact_recall: not measured (floor 0.5)" in res.output


def test_command_input_errors(cli_env, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text("not json\n")
    res = CliRunner().invoke(_app(), ["eval", str(bad), "--out", str(tmp_path / "o"), "--quiet"])
    assert res.exit_code == 2 and "bad.jsonl:1: not valid JSON" in res.output
    t = tmp_path / "t.toml"
    t.write_text('[setA]\nrecal = 0.5\n')
    res = CliRunner().invoke(_app(), ["eval", str(cli_env[0]), "--out", str(tmp_path / "o"), "--check", str(t)])
    assert res.exit_code == 2 and "unknown metric 'recal'" in res.output


def test_shipped_thresholds_and_quick_sample_are_consistent():
    limits = R.load_thresholds(ROOT / "evals" / "thresholds.toml")
    rows, skipped = R.load_rows([ROOT / "evals" / "datasets" / "quick.jsonl"])
    assert not skipped and len(rows) == 56
    assert set(limits) <= {r.dataset for r in rows}
    sets = ("liveqa2017", "mediqa2019", "mediqa2021", "followup", "unanswerable", "clinician", "kqa")
    assert {r.dataset for r in rows} == set(sets)
    assert all(sum(1 for r in rows if r.dataset == n) == 8 for n in sets)
    clin = [r for r in rows if r.dataset == "clinician"]
    assert all(r.must_mention for r in clin if r.answerable) and any(not r.answerable for r in clin)
    kqa = [r for r in rows if r.dataset == "kqa"]
    assert all(r.subject_regex and r.aspect for r in kqa) and any(not r.answerable for r in kqa)


# --- the real engine on the indexed fixture corpus -------------------------------------------------------
@pytest.mark.slow
def test_real_engine_on_fixture_corpus(indexed_settings, tmp_path):
    M._SUPPORT_CHECK = None  # the real support check (qa_bot.verify) when it is there
    fixture_docs = {p.stem for p in (ROOT / "tests" / "fixtures" / "corpus").rglob("*.md")}
    picked = []
    for name in ("liveqa2017", "mediqa2019", "followup"):
        for line in (ROOT / "evals" / "datasets" / f"{name}.jsonl").read_text().splitlines():
            r = json.loads(line)
            if r["relevant"] and all(g["doc_id"] in fixture_docs for g in r["relevant"]):
                picked.append(line)
                break
    picked.append((ROOT / "evals" / "datasets" / "unanswerable.jsonl").read_text().splitlines()[0])
    evalset = tmp_path / "fixture.jsonl"
    evalset.write_text("\n".join(picked) + "\n")
    run = R.run_eval([evalset], tmp_path / "out", indexed_settings, baselines=True, progress=False)
    report = run.report
    assert not report["meta"]["errors"], report["meta"]["errors"]
    assert "unanswerable" in report["datasets"] and len(report["datasets"]) >= 2
    for name, d in report["datasets"].items():
        assert all(k in d for k in REQUIRED)
        assert d["disclaimer_rate"] == 1.0
    answerable = [d for d in report["datasets"].values() if d["answerable"]]
    assert any(d["recall@10"] and d["recall@10"] > 0 for d in answerable)
    assert any(report["baselines"]["bm25"][n]["recall@10"] is not None for n in report["datasets"])
    M._SUPPORT_CHECK = None
