"""Comparison signs and thresholds (qa_bot.parse.comparison)."""

import pytest

from qa_bot.parse.comparison import comparator_before, thresholds


@pytest.mark.parametrize("before, expected", [
    ("more than ", "gt"), ("greater than", "gt"), ("at least ", "gt"), ("aged ≥", "gt"), ("⩾ ", "gt"),
    (">= ", "gt"), ("=> ", "gt"), ("> ", "gt"), ("over ", "gt"), ("above ", "gt"), ("exceeding ", "gt"),
    ("exceed ", "gt"), ("older than ", "gt"), ("higher than ", "gt"), ("a minimum of ", "gt"),
    ("no less than ", "gt"), ("not less than ", "gt"),
    ("less than ", "lt"), ("fewer than ", "lt"), ("at most ", "lt"), ("≤", "lt"), ("⩽ ", "lt"), ("<= ", "lt"),
    ("=< ", "lt"), ("< ", "lt"), ("under ", "lt"), ("below ", "lt"), ("up to ", "lt"), ("within ", "lt"),
    ("younger than ", "lt"), ("lower than ", "lt"), ("a maximum of ", "lt"),
    ("no more than ", "lt"), ("not more than ", "lt"),  # the negated comparator, read whole
    ("take ", None), ("more than a ", None), ("", None),
])
def test_comparator_before(before, expected):
    assert comparator_before(before) == expected


@pytest.mark.parametrize("text, expected", [
    ("CD4 more than 500", {(">", "500")}),
    ("CD4 > 500 cells", {(">", "500")}),
    ("BMI ≥40", {(">", "40")}),
    ("BMI of 35 or greater", {(">", "35")}),
    ("65 years or older", {(">", "65")}),
    ("less than 30", {("<", "30")}),
    ("eGFR <30 or >90", {("<", "30"), (">", "90")}),
    ("no more than 2 drinks", {("<", "2")}),
    ("at least 2.50 mg", {(">", "2.5")}),
    ("children 5 years or younger", {("<", "5")}),
    ("within 24 hours", {("<", "24")}),
    ("no threshold here", set()),
    ("", set()),
])
def test_thresholds(text, expected):
    assert thresholds(text) == expected
