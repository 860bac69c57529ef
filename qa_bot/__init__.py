"""qa_bot: evidence-grounded answers for clinicians from indexed guidelines and expert answers.

The one engine entry point is :func:`qa_bot.engine.answer` (re-exported here, imported lazily so that
``import qa_bot`` stays cheap). Importing the package makes every hub client offline: nothing is ever
downloaded at run time.
"""

from __future__ import annotations

import os

for _key, _value in {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False",
                     "TOKENIZERS_PARALLELISM": "false", "TRANSFORMERS_VERBOSITY": "error",
                     "HF_HUB_DISABLE_PROGRESS_BARS": "1"}.items():
    os.environ.setdefault(_key, _value)

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
