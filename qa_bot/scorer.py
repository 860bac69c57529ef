"""Fitted scorers shipped as data: the composer's sentence scorer and its answerability decision.

Both are logistic regressions fitted by ``benchmarks/fit_scorer.py`` on questions whose answers are known (consumer
questions with their gold MedQuAD sections, clinician questions with their key facts, questions no indexed document
answers, and those questions asked again without their gold documents); the K-QA questions are never fitted on.
The files hold the feature names, coefficients, the fitting sources and the held-out-fold figures.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

DATA = Path(__file__).parent / "data"
SENTENCE_FILE = DATA / "sentence_scorer.json"
ANSWERABLE_FILE = DATA / "answerable.json"


@dataclass(frozen=True)
class Linear:
    """A fitted linear model over named features (missing features count 0): ``logit`` = intercept + Σ coef·x over
    the features standardised by the fitting means and scales."""

    coef: dict[str, float]
    mean: dict[str, float]
    scale: dict[str, float]
    intercept: float = 0.0
    threshold: float = 0.5  # the decision's probability cut (the answerability model)
    gain: float = 0.0  # a sentence score on the composer's scale: offset + gain·logit (0: the probability)
    offset: float = 0.0

    @classmethod
    def load(cls, path: Path) -> Linear:
        try:
            d = json.loads(path.read_text(encoding="utf-8"))
            return cls(coef=d["coef"], mean=d.get("mean", {}), scale=d.get("scale", {}),
                       intercept=float(d.get("intercept", 0.0)), threshold=float(d.get("threshold", 0.5)),
                       gain=float(d.get("gain", 0.0)), offset=float(d.get("offset", 0.0)))
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise ValueError(f"{path}: not a fitted scorer file ({e}); refit it with benchmarks/fit_scorer.py") from e

    def logit(self, x: dict[str, float]) -> float:
        return self.intercept + sum(c * (float(x.get(k, 0.0)) - self.mean.get(k, 0.0)) / (self.scale.get(k, 1.0) or 1.0)
                                    for k, c in self.coef.items())

    def prob(self, x: dict[str, float]) -> float:
        z = max(-30.0, min(30.0, self.logit(x)))
        return 1.0 / (1.0 + math.exp(-z))

    def score(self, x: dict[str, float]) -> float:
        """A sentence's score: its logit on the composer's scale (the hand-set scores' mean and spread over the
        fitting sentences, so that the composer's shares of the best score keep their meaning), else its probability."""
        return self.offset + self.gain * self.logit(x) if self.gain else self.prob(x)


@lru_cache(maxsize=4)
def _load(path: str) -> Linear:
    return Linear.load(Path(path))


def sentence_scorer(path: Path = SENTENCE_FILE) -> Linear:
    return _load(str(path))


def answerable_model(path: Path = ANSWERABLE_FILE) -> Linear:
    return _load(str(path))
