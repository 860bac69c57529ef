"""Ages and populations (qa_bot.parse.population)."""

import pytest

from qa_bot.parse.population import AGE_SEX, PACK_YEARS, PATIENT_DESCRIPTOR, age_ranges, population_match, question_ages


@pytest.mark.parametrize("text, expected", [
    ("46yo with chest pain", [46]), ("46 y/o", [46]), ("46 y.o. woman", [46]), ("a 50-year-old man", [50]),
    ("50 year old", [50]), ("50 years old", [50]), ("50 yrs old", [50]), ("aged 50", [50]), ("age 7", [7]),
    ("62M", []), ("BP 140/90", []), ("", []),
])
def test_question_ages(text, expected):
    assert question_ages(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("adults aged 50 to 80 years", ((50, 80),)),
    ("aged 45-49 years", ((45, 49),)),
    ("adults 65 years or older", ((65, 120),)),
    ("older than 65", ((66, 120),)),
    ("children 5 years or younger", ((0, 5),)),
    ("children under than 5", ((0, 4),)),
    ("80 to 50 years", ()),  # not a range
    ("no ages here", ()),
])
def test_age_ranges(text, expected):
    assert age_ranges(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("62M with cough", "62-year-old man with cough"),
    ("62 F", "62-year-old woman"),
    ("46yo M", "46-year-old man"),
    ("46yo, no FH", "46-year-old, no FH"),
    ("46 y.o. smoker", "46-year-old smoker"),
    ("5 m", "5 m"),  # case-sensitive: a metre
])
def test_age_sex_shorthand(text, expected):
    def long(m):
        n, sex, n2 = m.group(1), m.group(2), m.group(3)
        return f"{n2}-year-old" if n2 else f"{n}-year-old {'man' if sex == 'M' else 'woman'}"

    assert AGE_SEX.sub(long, text) == expected


@pytest.mark.parametrize("text, expected", [
    ("46yo, no FH — start CRC screening?", "_, _ — start CRC screening?"),
    ("62M 30 pk-yr smoker", "_ _ smoker"),
    ("avg-risk 46 year-old woman", "_ _"),
    ("quit 10 years ago", "_"),
])
def test_patient_descriptor(text, expected):
    assert PATIENT_DESCRIPTOR.sub("_", text) == expected


@pytest.mark.parametrize("question, text, expected", [
    ("46-year-old", "adults aged 45 to 49 years", 1.0),
    ("46-year-old", "adults aged 50 to 75 years", -1.0),
    ("80-year-old", "adults 65 years or older", 1.0),
    ("27-year-old woman", "men who have sex with men", -1.0),
    ("27-year-old woman", "pregnant women", 0.5),
    ("what is gout?", "adults aged 50 to 75 years", 0.0),
])
def test_population_match(question, text, expected):
    assert population_match(question, text) == expected


@pytest.mark.parametrize("text, expected", [
    ("30 pk-yr smoker", ["30"]), ("20 pack years", ["20"]), ("20 pack-years", ["20"]), ("15pk y", ["15"]),
    ("a pack a day", []),
])
def test_pack_years(text, expected):
    assert [m.group(1) for m in PACK_YEARS.finditer(text)] == expected
