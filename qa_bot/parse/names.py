"""Drug and condition names, recognised by how they end.

``DRUG_STEMS``: International Nonproprietary Name stems; a word ending so names a drug ("tirzepatide",
"donanemab", "finerenone"). ``CONDITION_ENDINGS``: endings of condition, procedure and organism names ("-itis",
"-ectomy", "-coccus"). ``looks_like_name`` (retrieval: does an unknown word of the question name a drug or device?)
reads the drug stems; the support checker's ``key_terms`` reads ``names_by_ending`` (drug stems, condition endings,
the broad ``-ine`` and the ``anti…`` / ``…therapy`` forms).
"""

from __future__ import annotations

import re

DRUG_STEMS: tuple[str, ...] = tuple(dict.fromkeys("""
    mab umab ximab zumab nib tinib anib ciclib parib rafenib lisib tide glutide gliflozin gliptin glinide glitazone
    formin sartan pril olol dipine pine apine statin prazole azole conazole bendazole nidazole trozole tidine idine
    setron triptan oxetine afil azepam zepam azolam zolam barb barbital caine cillin mycin micin cycline floxacin
    oxacin vir navir previr buvir asvir tegravir capavir mivir ciclovir clovir relvir dronate parin arin xaban gatran
    teplase kinase lukast terol olone sone sterone erone renone idone nidazole siran rsen camten netant fungin
    thiazide semide trexate profen coxib tropium peridol lutamide fentanil orphan amine azine insulin cept kinra gene
    leucel ogene""".split()))

CONDITION_ENDINGS: tuple[str, ...] = tuple("""
    itis osis oses emia aemia oma omas pathy algia ectomy otomy plasty scopy graphy iasis uria penia plegia paresis
    trophy cele rrhea rrhoea philia virus bacter coccus cocci syndrome disease cancer carcinoma leukemia lymphoma
    diabetes vaccine""".split())

# everyday words that end like a drug stem: never a drug name by their ending
NOT_DRUGS = frozenset("accept except concept intercept cholesterol orphan".split())


def _ending(parts) -> str:
    return "|".join(sorted(set(parts), key=lambda s: (-len(s), s)))


DRUG_STEM = re.compile(rf"(?:{_ending(DRUG_STEMS)})$", re.I)
NAME_ENDING = re.compile(rf"(?:{_ending(DRUG_STEMS + CONDITION_ENDINGS + ('ine',))})$|^anti[a-z]{{4,}}|"
                         r"^[a-z]{3,}therap(?:y|ies)$", re.I)


def has_drug_stem(word: str) -> bool:
    """A word of six letters or more ending in a drug stem ("tirzepatide"), everyday words aside ("concept")."""
    return len(word) >= 6 and word.lower() not in NOT_DRUGS and DRUG_STEM.search(word) is not None


def looks_like_name(word: str, text: str) -> bool:
    """Whether ``word`` (as found in ``text``) names a drug or a device: an INN drug stem, or a brand-like
    spelling with a capital inside ("MitraClip"). (A capitalised word alone is not enough: consumers capitalise
    misspelt disease names.)"""
    if has_drug_stem(word):
        return True
    for m in re.finditer(rf"(?<![\w-]){re.escape(word)}(?![\w-])", text, re.I):
        if re.search(r"[a-z][A-Z]", m.group(0)):
            return True
    return False


def names_by_ending(word: str) -> bool:
    """A word of five letters or more whose ending names a drug, a condition, a procedure or an organism
    ("clopidogrel" aside: that one needs the tokenizer), or an "anti…" / "…therapy" word."""
    return len(word) >= 5 and word.lower() not in NOT_DRUGS and NAME_ENDING.search(word) is not None
