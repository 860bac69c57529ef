"""qa_bot: evidence-grounded answers for clinicians from indexed guidelines and expert answers.

The one engine entry point is :func:`qa_bot.engine.answer` (re-exported here, imported lazily so that
``import qa_bot`` stays cheap). Importing the package makes every hub client offline: nothing is ever
downloaded at run time.
"""

from __future__ import annotations

import os

for _key, _value in {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False",
                     "TOKENIZERS_PARALLELISM": "false", "TRANSFORMERS_VERBOSITY": "error",
                     "HF_HUB_DISABLE_PROGRESS_BARS": "1",
                     # numba (imported by bm25s and ranx) compiles nothing that qa_bot needs compiled: bm25s's numba
                     # paths are opt-in and unused, and ranx's measures, compiled on first use in each fresh
                     # environment, cost ~60 s of CPU to save a fraction of a second (1,000 queries: 0.44 s as
                     # plain Python; 3.8 s with the import vs 9.3 s from numba's warm cache). Same figures.
                     "NUMBA_DISABLE_JIT": "1"}.items():
    os.environ.setdefault(_key, _value)



def _serialize_ast_parse() -> None:
    """CPython 3.11 keeps the AST converter's recursion counter per interpreter, not per thread: two threads in
    ``ast.parse`` at once (Streamlit parsing the page script while the warm-up thread loads the model, whose
    imports parse signatures with ``inspect``, or ``numpy.load`` reads a header with ``ast.literal_eval``) fail
    with "SystemError: AST constructor recursion depth mismatch". One lock around ``ast.parse`` serialises them;
    Python 3.12 keeps the counter per thread, and there nothing changes."""
    import ast
    import sys
    import threading

    if sys.version_info >= (3, 12) or getattr(ast.parse, "_qa_bot_serialized", False):
        return
    lock = threading.RLock()
    parse = ast.parse

    def serialized_parse(*args, **kwargs):
        with lock:
            return parse(*args, **kwargs)

    serialized_parse._qa_bot_serialized = True  # type: ignore[attr-defined]
    serialized_parse.__doc__ = parse.__doc__
    ast.parse = serialized_parse


_serialize_ast_parse()

__all__ = ["answer", "stream_answer", "Settings", "Answer"]


def __getattr__(name: str):
    if name in {"answer", "stream_answer"}:
        from . import engine

        return getattr(engine, name)
    if name == "Settings":
        from .settings import Settings

        return Settings
    if name == "Answer":
        from .types import Answer

        return Answer
    raise AttributeError(name)
