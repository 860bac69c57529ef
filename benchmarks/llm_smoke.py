"""End-to-end smoke run of the optional LLM composer against whatever QA_BOT_LLM / QA_BOT_LLM_BASE_URL name
(benchmarks/llm_smoke.sh starts llama.cpp's server with SmolLM2-135M-Instruct for it).

    QA_BOT_LLM=openai:smollm2 QA_BOT_LLM_BASE_URL=http://127.0.0.1:PORT/v1 python benchmarks/llm_smoke.py [--direct]

Asks the seed question (first line of corpus/seeds/000_*.txt) through ``qa_bot.engine.stream_answer``, or, with
``--direct`` or when no index has been built, through ``qa_bot.llm.generate`` over the seed document's own
passages. Prints what the model wrote and what the verifier kept, dropped and found unsupported.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa_bot.settings import DEFAULT_DISCLAIMER, Settings  # noqa: E402
from qa_bot.types import Answer, Passage  # noqa: E402

SEED = ROOT / "corpus" / "seeds" / "000_ae22a4cf9e8dc6bc.txt"


def seed_question() -> str:
    return SEED.read_text(encoding="utf-8").strip().splitlines()[0].strip()


def direct_passages(question: str, settings: Settings, k: int = 5) -> list[Passage]:
    """The seed document's chunks that share most words with the question (no index needed)."""
    from qa_bot.chunk import chunk_document
    from qa_bot.load import load
    from qa_bot.verify import content_stems

    docs = load([SEED], settings).documents
    q = set(content_stems(question))
    chunks = [c for d in docs for c in chunk_document(d, settings).chunks]
    scored = sorted(chunks, key=lambda c: -len(q & set(content_stems(c.text))))
    return [Passage(chunk=c, score=1.0 - i / 10) for i, c in enumerate(scored[:k])]


def run_direct(question: str, settings: Settings):
    from qa_bot.llm import generate

    passages = direct_passages(question, settings)
    fallback = Answer(question=question, standalone_question=question, passages=passages,
                      disclaimer=settings.answer.disclaimer or DEFAULT_DISCLAIMER)
    yield from generate(question, question, [], passages, settings, fallback=fallback)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--direct", action="store_true", help="skip retrieval: the seed document's passages")
    ap.add_argument("--question", default=None)
    args = ap.parse_args(argv)
    settings = Settings()
    if not settings.llm.model:
        print("QA_BOT_LLM is not set: nothing to smoke-test", file=sys.stderr)
        return 2
    question = args.question or seed_question()
    print(f"model: {settings.llm.model} at {settings.llm.base_url or '(provider default)'}")
    print(f"question: {question}\n")
    t = time.perf_counter()
    tokens: list[str] = []
    final = None
    mode = "direct"
    events = None
    if not args.direct:
        from qa_bot.errors import IndexMissingError
        from qa_bot.engine import stream_answer

        try:
            events = stream_answer(question, [], settings)
            first = next(events)
            events = iter([first, *events])
            mode = "engine"
        except IndexMissingError as e:
            print(f"({e}; using the seed document's passages instead)\n")
            events = None
    if events is None:
        events = run_direct(question, settings)
    for ev in events:
        if ev.kind == "token":
            tokens.append(ev.text)
        elif ev.kind == "answer":
            final = ev.answer
    dt = time.perf_counter() - t
    raw = "".join(tokens)
    print(f"--- model output ({len(tokens)} streamed pieces) ---\n{raw.strip() or '(nothing)'}\n")
    assert final is not None
    n_raw = len([s for s in re.split(r"(?<=[.!?])\s+", raw.strip()) if re.search(r"[A-Za-z]", s)])
    kept = [s for s in final.sentences if s.supported is not False]
    print(f"--- verified answer ({mode} mode, composer={final.composer}) ---")
    if final.notice:
        print(f"notice: {final.notice}")
    for s in final.sentences:
        mark = "" if s.supported is not False else "  (unverified)"
        print(f"[{s.group}] {s.text} {''.join(f'[{n}]' for n in s.citations)}{mark}")
    for c in final.citations:
        print(f"  [{c.n}] {c.title or c.doc_id} — {c.heading or ''}")
    print(f"\nsentences written by the model (approx.): {n_raw}; kept by the verifier: "
          f"{len(kept) if final.composer == 'llm' else 0}; dropped: {final.dropped_sentences}; unsupported: "
          f"{final.unsupported_sentences}; {dt:.1f} s")
    print(f"disclaimer (added by code): {final.disclaimer[:80]}…")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
