"""Offline answer-quality evaluation (``qa-bot eval``): metrics, runner, reports, regression gate.

Kept import-light: ranx/numba, rouge-score and the engine are imported only when used.
"""

from __future__ import annotations

__all__ = ["run_eval", "check_thresholds", "load_rows"]


def __getattr__(name: str):
    if name in __all__:
        from . import runner

        return getattr(runner, name)
    raise AttributeError(name)
