"""Clinician shorthand → words the documents use, for search ("62M, 30 pack-yr, quit 10y — LDCT?").

Clinicians type ages and sexes ("46yo", "62M", "27F"), abbreviations ("hx", "FH", "sx", "tx", "w/", "q3y"),
acronyms ("HTN", "T2DM", "LDCT", "ASA") and brand names ("Medrol"). Guidelines spell these out, so the search
text gets the long form: lower-case shorthand is replaced ("no sx" → "no symptoms"), acronyms and brand names
keep their short form with the long form after it ("CRC (colorectal cancer)").

An abbreviation with several meanings (FH: family history or familial hypercholesterolemia; CT: computed
tomography or Chlamydia trachomatis; GA: gestational age or general anesthesia; ED: emergency department or
erectile dysfunction) is expanded only when a word of the question points to one meaning; otherwise it is left
alone, so a wrong long form is never searched nor shown. The lexicon is general clinical usage, not the corpus:
the corpus's own definitions (``qa_bot.acronyms``) cover what is specific to the indexed documents.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from .parse.population import AGE_SEX as _AGE_SEX, PACK_YEARS as _PACK

# sense: (long form, cue regex that must match elsewhere in the question, or None for "always")
Sense = tuple[str, str | None]

# --- acronyms (matched case-sensitively, as whole tokens) ---------------------------------------------
ACRONYMS: dict[str, list[Sense]] = {
    "AAA": [("abdominal aortic aneurysm", None)], "ACEi": [("ACE inhibitor", None)],
    "ACEI": [("ACE inhibitor", None)], "ADHD": [("attention deficit hyperactivity disorder", None)],
    "AECOPD": [("acute exacerbation of chronic obstructive pulmonary disease", None)],
    "AF": [("atrial fibrillation", None)], "AKI": [("acute kidney injury", None)],
    "APAP": [("acetaminophen", None)], "ARB": [("angiotensin receptor blocker", None)],
    "ASA": [("aspirin", None)], "ASCVD": [("atherosclerotic cardiovascular disease", None)],
    "AUD": [("alcohol use disorder", None)], "BB": [("beta blocker", None)],
    "BMD": [("bone mineral density", None)], "BMI": [("body mass index", None)],
    "BP": [("blood pressure", None)], "BPH": [("benign prostatic hyperplasia", None)],
    "BV": [("bacterial vaginosis", None)], "CABG": [("coronary artery bypass graft", None)],
    "CAD": [("coronary artery disease", None)], "CBT": [("cognitive behavioral therapy", None)],
    "CCB": [("calcium channel blocker", None)], "CHF": [("congestive heart failure", None)],
    "CKD": [("chronic kidney disease", None)], "CRC": [("colorectal cancer", None)],
    "CRPS": [("complex regional pain syndrome", None)], "CTS": [("carpal tunnel syndrome", None)],
    "CVA": [("stroke", None)], "CVD": [("cardiovascular disease", None)], "CXR": [("chest radiograph", None)],
    "DM": [("diabetes mellitus", None)], "DMPA": [("depot medroxyprogesterone acetate", None)],
    "DOAC": [("direct oral anticoagulant", None)], "DVT": [("deep vein thrombosis", None)],
    "DXA": [("dual-energy x-ray absorptiometry", None)], "ECG": [("electrocardiogram", None)],
    "EKG": [("electrocardiogram", None)], "ESRD": [("end-stage renal disease", None)],
    "FIT": [("fecal immunochemical test", None)], "FOBT": [("fecal occult blood test", None)],
    "GAD": [("generalized anxiety disorder", None)], "GDM": [("gestational diabetes mellitus", None)],
    "GERD": [("gastroesophageal reflux disease", None)], "HbA1c": [("hemoglobin A1c", None)],
    "HBV": [("hepatitis B virus", None)], "HCV": [("hepatitis C virus", None)],
    "HDP": [("hypertensive disorders of pregnancy", None)], "HF": [("heart failure", None)],
    "HLD": [("hyperlipidemia", None)], "HPV": [("human papillomavirus", None)],
    "HRT": [("hormone therapy", None)], "HTN": [("hypertension", None)],
    "IBD": [("inflammatory bowel disease", None)], "IBS": [("irritable bowel syndrome", None)],
    "IDA": [("iron deficiency anemia", None)], "IM": [("intramuscular", r"\b(?:dose|inject\w*|SC|subQ|SQ|IV|route|vs)\b")],
    "IPV": [("intimate partner violence", None)], "IUD": [("intrauterine device", None)],
    "IV": [("intravenous", r"\b(?:dose|infusion|fluids?|IM|PO|route|vs|antibiotics?|abx)\b")],
    "LABA": [("long-acting beta-agonist", None)], "LAMA": [("long-acting muscarinic antagonist", None)],
    "LBP": [("low back pain", None)], "LDCT": [("low-dose computed tomography", None)],
    "LMWH": [("low-molecular-weight heparin", None)], "LTBI": [("latent tuberculosis infection", None)],
    "MDD": [("major depressive disorder", None)], "MEDD": [("morphine equivalent daily dose", None)],
    "MHT": [("menopausal hormone therapy", None)], "MI": [("myocardial infarction", None)],
    "MME": [("morphine milligram equivalents", None)], "MSM": [("men who have sex with men", None)],
    "NSAID": [("nonsteroidal anti-inflammatory drug", None)], "NSAIDs": [("nonsteroidal anti-inflammatory drugs", None)],
    "OA": [("osteoarthritis", None)], "OCP": [("oral contraceptive pill", None)],
    "OSA": [("obstructive sleep apnea", None)], "OUD": [("opioid use disorder", None)],
    "PAD": [("peripheral artery disease", None)], "PCP": [("primary care clinician", None)],
    "PE": [("pulmonary embolism", r"\b(?:DVT|VTE|clot|anticoag\w*|embol\w*|dyspnea|CTPA|D-dimer|heparin)\b")],
    "PID": [("pelvic inflammatory disease", None)], "PNC": [("prenatal care", None)],
    "PPI": [("proton pump inhibitor", None)], "PrEP": [("preexposure prophylaxis", None)],
    "PSA": [("prostate-specific antigen", None)], "PTSD": [("posttraumatic stress disorder", None)],
    "RA": [("rheumatoid arthritis", None)], "SCD": [("sickle cell disease", None)],
    "SLE": [("systemic lupus erythematosus", None)], "SNRI": [("serotonin-norepinephrine reuptake inhibitor", None)],
    "STEMI": [("ST-elevation myocardial infarction", None)],
    "SSRI": [("selective serotonin reuptake inhibitor", None)], "STD": [("sexually transmitted disease", None)],
    "STI": [("sexually transmitted infection", None)], "SUD": [("substance use disorder", None)],
    "T1DM": [("type 1 diabetes mellitus", None)], "T2DM": [("type 2 diabetes mellitus", None)],
    "T2D": [("type 2 diabetes", None)], "TB": [("tuberculosis", None)], "TCA": [("tricyclic antidepressant", None)],
    "TIA": [("transient ischemic attack", None)], "TKA": [("total knee arthroplasty", None)],
    "UACR": [("urine albumin-to-creatinine ratio", None)], "UDS": [("urine drug screen", None)],
    "UTI": [("urinary tract infection", None)], "VOC": [("vaso-occlusive crisis", None)],
    "VTE": [("venous thromboembolism", None)],
    # several meanings: expanded only when the question points to one
    "FH": [("familial hypercholesterolemia", r"\b(?:LDL|cholesterol|lipids?|statins?|hypercholesterol\w*|xanthom\w*)\b"),
           ("family history", r"(?:\b(?:no|neg\w*|positive|strong|mom|dad|mother|father|sister|brother|relatives?|"
                              r"first-degree|parents?|sibling)\b|\+\s*FH|FH\s+of)")],
    "CT": [("chlamydia", r"\b(?:GC|gonorrh\w*|STIs?|STDs?|chlamydia|partners?|sexual\w*|NAAT|swab|MSM)\b|CT/GC|GC/CT"),
           ("computed tomography", r"\b(?:scan|head|chest|abdom\w*|pelvis|contrast|imaging|radiation|angiograph\w*)\b")],
    "GC": [("gonorrhea", r"\b(?:CT|chlamydia|STIs?|STDs?|partners?|sexual\w*|NAAT|swab|eye|ophthalmia|MSM)\b")],
    "GA": [("general anesthesia", r"\b(?:under|surgery|surgical|op|preop\w*|elective|anesth\w*|intubat\w*)\b"),
           ("gestational age", r"\b(?:pregnan\w*|weeks?|wks?|wk|GDM|trimester|gestation\w*|prenatal|fetal)\b")],
    "ED": [("emergency department", r"\b(?:in|to|at|visit|presents?|triage|door|admit\w*|discharg\w*|VOC|pain|"
                                    r"overdose|trauma)\b"),
           ("erectile dysfunction", r"\b(?:sildenafil|tadalafil|PDE5|sexual|erection|impotence)\b")],
    "MS": [("multiple sclerosis", r"\b(?:relapse|demyelinat\w*|optic|MRI|lesions?|interferon)\b")],
    "CI": [("contraindication", r"\b(?:absolute|lysis|thromboly\w*|fibrinoly\w*|contraindicat\w*)\b")],
    # lower-case clinician shorthand with several meanings (tumour lysis): spelled out only when a cue points to one
    "lysis": [("thrombolysis", r"\b(?:STEMI|N?STEMI|MI|stroke|CVA|tPA|alteplase|tenecteplase|streptokinase|"
                               r"fibrinoly\w*|thromboly\w*|PCI|CI)\b")],
    "US": [("ultrasonography", r"\b(?:thyroid|abdominal|pelvic|renal|carotid|aorta|AAA|breast|liver|screen\w*|"
                               r"scan|imaging|transvaginal|doppler|duplex)\b")],
}

# --- lower-case shorthand (case-insensitive, whole tokens): replaced by the long form -------------------
WORDS: dict[str, str] = {
    "abx": "antibiotics", "asx": "asymptomatic", "avg": "average", "bx": "biopsy", "c/o": "complains of",
    "ca": "cancer", "cx": "culture", "d/c": "discontinue", "dx": "diagnosis", "dx'd": "diagnosed", "f/u": "follow-up",
    "fhx": "family history", "fx": "fracture", "h/o": "history of", "hx": "history", "htn": "hypertension",
    "inpt": "inpatient", "meds": "medications", "med": "medication", "mo": "months", "mos": "months",
    "neg": "negative", "outpt": "outpatient", "pmh": "past medical history", "pos": "positive",
    "postop": "postoperative", "ppx": "prophylaxis", "pred": "prednisone", "preop": "preoperative",
    "pt": "patient", "pts": "patients", "px": "prognosis", "r/o": "rule out", "rx": "prescribe",
    "s/p": "status post", "sx": "symptoms", "sxs": "symptoms", "tx": "treatment", "tx'd": "treated",
    "vax": "vaccination", "vit": "vitamin", "w/": "with", "w/o": "without", "wk": "week", "wks": "weeks",
    "yr": "year", "yrs": "years", "y/o": "year-old", "yo": "year-old", "subq": "subcutaneous", "sq": "subcutaneous",
    "sc": "subcutaneous", "po": "oral", "bid": "twice daily", "tid": "three times daily", "qid": "four times daily",
    "qd": "daily", "qhs": "at bedtime", "prn": "as needed", "hgb": "hemoglobin", "hb": "hemoglobin",
    "plt": "platelets", "cr": "creatinine", "imm": "immunization", "dip": "dipstick", "gent": "gentamicin",
    "chole": "cholecystectomy", "lap": "laparoscopic", "appy": "appendectomy", "afib": "atrial fibrillation",
    "hbss": "sickle cell anemia", "tox": "toxicology", "eval": "evaluation", "mgmt": "management",
    "sz": "seizure", "szs": "seizures", "ppd": "tuberculin skin test", "ivdu": "injection drug use",
    "pwid": "people who inject drugs", "etoh": "alcohol",
}
# brand names → generic names (the documents name drugs generically): the drug dictionary of the
# drug-named-entity-recognition package (DrugBank open data, MedlinePlus, MeSH, NHS), held to the drugs that have a
# MedlinePlus monograph, and ``data/brands.toml`` for the brands it lacks (each with its source)
BRANDS_FILE = Path(__file__).parent / "data" / "brands.toml"
BRAND_MAX_ZIPF = 3.3  # a word at least this frequent in general English ("armour", "generics") is not read as a brand
BRAND_MIN_SIMILARITY = 0.8  # a misspelt name ("valtrx", "imodiam") is read as the dictionary's name this close to it
_BRAND_WORD = re.compile(r"[a-z][a-z-]{3,}")


@cache
def _listed_brands() -> dict[str, str]:
    with BRANDS_FILE.open("rb") as f:
        return {k.lower(): v["generic"] for k, v in tomllib.load(f).items()}


@cache
def _monograph_names(word: str, misspelt: bool = False) -> frozenset[str]:
    """The generic names of the drugs with a MedlinePlus monograph that the drug dictionary gives ``word`` as written
    (``misspelt``: else its trigram match, held to a name of the same first letter and at least
    BRAND_MIN_SIMILARITY in edit similarity, for a word general English does not know)."""
    from drug_named_entity_recognition import find_drugs  # a 100,000-name dictionary, loaded on first use (~2 s)

    found = [d for d, _, _ in find_drugs([word], is_ignore_case=True)]
    if not found and misspelt and len(word) >= 5:
        from rapidfuzz.distance import Levenshtein
        from wordfreq import zipf_frequency

        if not zipf_frequency(word, "en"):
            found = [d for d, _, _ in find_drugs([word], is_ignore_case=True, is_fuzzy_match=True)
                     if (v := d.get("match_variant") or "")[:1] == word[:1]
                     and Levenshtein.normalized_similarity(word, v) >= BRAND_MIN_SIMILARITY]
    return frozenset(d["name"].lower() for d in found if d.get("medline_plus_id") and d.get("name"))


def _dictionary_generic(word: str) -> str | None:
    """The one generic name the dictionary gives ``word``, written as it lists it or misspelt; None for none or
    several. A name the documents themselves use more is not searched by its generic (``expand``'s skip)."""
    names = _monograph_names(word, misspelt=True)
    return next(iter(names)) if len(names) == 1 else None


@cache
def is_drug(word: str) -> bool:
    """Whether the drug dictionary names ``word`` (as written) a drug with a MedlinePlus monograph, generic or brand
    ("aspirin", "warfarin", "Valtrex"), or ``data/brands.toml`` lists it."""
    low = word.lower()
    if low in _listed_brands():
        return True
    return len(low) >= 4 and low not in WORDS and word not in ACRONYMS and bool(_monograph_names(low))


def load_drug_dictionary() -> None:
    """Load the drug dictionary now (a server's warm-up), not on the first question naming a brand."""
    _dictionary_generic("valtrex")


@cache
def generic_name(word: str) -> str | None:
    """The generic name of the drug whose brand (or other) name ``word`` is ("valtrex" → "valacyclovir"), else
    None: an everyday English word, a generic name itself and a name of several drugs are not resolved."""
    low = word.lower()
    if low in _listed_brands():
        return _listed_brands()[low]
    if not _BRAND_WORD.fullmatch(low) or low in WORDS or word in ACRONYMS:
        return None
    from wordfreq import zipf_frequency

    if zipf_frequency(low, "en") >= BRAND_MAX_ZIPF or (low.endswith("s") and zipf_frequency(low[:-1], "en")
                                                          >= BRAND_MAX_ZIPF):  # an English plural: "generics"
        return None
    generic = _dictionary_generic(low)
    if not generic or generic == low or low in generic.split():
        return None
    return re.sub(r",? and |, |/", " ", generic)


_NONPREGNANT = re.compile(r"\b(?:outside(?: of)? pregnancy|not pregnant|non-pregnant)\b", re.I)
_EVERY = re.compile(r"\bq\s?(\d+)\s?(h|hr|hrs|d|wk|w|mo|m|y|yr|yrs)\b", re.I)
_DURATION = re.compile(r"\b(\d+)\s?(y|yr|yrs|mo|wk|wks|d)\b(?!\S*/)", re.I)
_UNIT = {"h": "hours", "hr": "hours", "hrs": "hours", "d": "days", "wk": "weeks", "wks": "weeks", "w": "weeks",
         "mo": "months", "m": "months", "y": "years", "yr": "years", "yrs": "years"}
_ORGANS = r"(?:breast|ovarian|ovary|pancreatic|prostate|lung|colon|colorectal|rectal|cervical|cervix|skin|thyroid|bladder|" \
          r"gastric|stomach|liver|kidney|renal|oral|testicular|endometrial|uterine|esophageal|head and neck)"
_HEP = re.compile(r"\bhep\.?[\s-]?([A-E])\b", re.I)
_TOKEN = re.compile(r"(?<![\w/])([A-Za-z][A-Za-z0-9'&-]*(?:/[A-Za-z]*)?)(?![\w])")


@dataclass
class Expansion:
    text: str  # the search text
    found: dict[str, str]  # short form → long form, in the order met (what is shown to the user)


def _sense(short: str, senses: list[Sense], question: str) -> str | None:
    rest = question
    hits = [lf for lf, cue in senses if cue is None or re.search(cue, rest, re.I)]
    if len(senses) > 1:  # an ambiguous abbreviation: exactly one meaning must be pointed to
        cued = [lf for lf, cue in senses if cue is not None and re.search(cue, rest, re.I)]
        return cued[0] if len(cued) == 1 else None
    return hits[0] if hits else None


def expand(question: str, acronyms: bool = True, skip: Callable[[str, str], bool] | None = None) -> Expansion:
    """The search text for a clinician's question, and the abbreviations it spelled out (``acronyms=False``:
    upper-case acronyms are left as they are, the rest is still spelled out). ``skip(short, long)``: an acronym
    the documents themselves mostly use as it is, so spelling it out would only pull the search aside."""
    found: dict[str, str] = {}
    q = question

    def age(m: re.Match) -> str:
        n, sex, n2 = m.group(1), m.group(2), m.group(3)
        if n2:
            found.setdefault(m.group(0).strip(), f"{n2}-year-old")
            return f"{n2}-year-old"
        long = f"{n}-year-old {'man' if sex == 'M' else 'woman'}"
        found.setdefault(m.group(0).strip(), long)
        return long

    q = _AGE_SEX.sub(age, q)
    q = _NONPREGNANT.sub(lambda m: found.setdefault(m.group(0), "nonpregnant"), q)
    q = _PACK.sub(lambda m: f"{m.group(1)} pack-years", q)
    q = _EVERY.sub(lambda m: found.setdefault(m.group(0), f"every {m.group(1)} {_UNIT[m.group(2).lower()]}"), q)
    q = _DURATION.sub(lambda m: f"{m.group(1)} {_UNIT.get(m.group(2).lower(), m.group(2))}", q)
    q = re.sub(rf"\b({_ORGANS})\s+ca\b", lambda m: found.setdefault(m.group(0), f"{m.group(1)} cancer"), q, flags=re.I)
    # "hep C", "hep B": hepatitis by its letter (a bare "hep" may be heparin: left alone)
    q = _HEP.sub(lambda m: found.setdefault(m.group(0), f"hepatitis {m.group(1).upper()}"), q)

    out: list[str] = []
    pos = 0
    for m in _TOKEN.finditer(q):
        tok = m.group(1)
        rep = None
        low = tok.lower()
        if not acronyms and tok in ACRONYMS:
            rep = None
        elif "/" in tok and tok.upper() == tok and all(p in ACRONYMS for p in tok.split("/") if p):
            parts = [_sense(p, ACRONYMS[p], q) for p in tok.split("/") if p]
            if all(parts):
                rep = f"{tok} ({' and '.join(parts)})"
                for p, lf in zip(tok.split("/"), parts):
                    found.setdefault(p, lf)
        elif tok in ACRONYMS:
            lf = _sense(tok, ACRONYMS[tok], q)
            if lf and lf.lower() not in q.lower() and not (skip and skip(tok, lf)):
                rep = f"{tok} ({lf})"
                found.setdefault(tok, lf)
        elif (generic := generic_name(tok)) and generic not in q[m.end():m.end() + len(generic) + 3].lower() \
                and generic not in found.values() and not (skip and skip(tok, generic)):
            # (not when the question glosses it itself, nor twice: "medrol dosepak")
            rep = f"{tok} ({generic})"
            found.setdefault(tok, generic)
        elif "-" in tok and tok.split("-")[0].lower() in WORDS:  # "avg-risk"
            head = tok.split("-")[0]
            rep = WORDS[head.lower()] + tok[len(head):]
            found.setdefault(head, WORDS[head.lower()])
        elif low in WORDS and not (tok.isupper() and len(tok) > 1 and low in ("ca", "cr", "po", "sc")):
            if low == "ca" and not re.search(rf"{_ORGANS}\s+ca\b", q[max(0, m.start() - 30):m.end()], re.I):
                rep = None
            else:
                rep = WORDS[low]
                if rep != tok:
                    found.setdefault(tok, rep)
        if rep is not None:
            out.append(q[pos:m.start()] + rep)
            pos = m.end()
    out.append(q[pos:])
    text = "".join(out)
    return Expansion(re.sub(r"\s+", " ", text).strip(), found)
