"""PDF pages of the layouts hospitals' own documents bring, generated for the tests (no copies of real documents):
an all-scanned document (a page image, and a page of text drawn as vector outlines), a check-list form, a rotated
table, a two-panel chart, a slide, and comparison signs set in a symbol font's glyphs; and an XHTML chapter.

Written with matplotlib's PDF backend (text as real text, TrueType) and Pillow (page images); both are in the
locked dependencies, so the fixtures are built at test time in a temporary folder.
"""

from __future__ import annotations

from pathlib import Path

A4 = (8.27, 11.69)  # inches
FONT = "DejaVu Sans"

# an XHTML guideline chapter (headings, a reflowed hyphen): read alone and beside the PDFs of an ingest
XHTML = """<?xml version="1.0" encoding="utf-8" standalone="no"?>
<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.1//EN" "http://www.w3.org/TR/xhtml11/DTD/xhtml11.dtd">
<html xmlns="http://www.w3.org/1999/xhtml"><head><title>Gonorrhea</title></head><body>
<h1>Gonorrhea</h1>
<p>Gonococcal infections are a common cause of urethritis and cervicitis in young adults, and they are often
without symptoms in women. Testing is recommended for sexually active women under 25 years of age.</p>
<h2>Uncomplicated Gonococcal Infections</h2>
<h3>Recommended Regimen</h3>
<p>Ceftriaxone 250 mg IM in a single dose is recommended for uncomplicated infections of the cervix and urethra.</p>
<p>Patients who are allergic should be treated with the therapies rec- ommended as alternatives by a specialist.</p>
<h3>Follow-Up</h3>
<p>A test of cure is not needed for persons who receive a recommended regimen and whose symptoms resolve.</p>
<h2>Management of Sex Partners</h2>
<p>Sex partners from the 60 days before the onset of symptoms should be evaluated and treated presumptively.</p>
</body></html>
"""


def _figure(size=A4):
    import matplotlib

    matplotlib.use("pdf")
    matplotlib.rcParams["pdf.fonttype"] = 42  # TrueType with a text layer
    import matplotlib.pyplot as plt

    return plt, plt.figure(figsize=size)


def _pt(fig, x: float, y: float) -> tuple[float, float]:
    """Points from the top-left corner → figure fractions."""
    w, h = fig.get_size_inches() * 72
    return x / w, 1 - y / h


def write_pages(path: Path, pages: list[list[tuple]], size=A4) -> Path:
    """Each page: (x pt, y pt from the top, text, options) tuples."""
    from matplotlib.backends.backend_pdf import PdfPages

    plt, _ = _figure(size)
    plt.close("all")
    with PdfPages(path) as pdf:
        for items in pages:
            fig = plt.figure(figsize=size)
            for x, y, text, *opt in items:
                kw = {"fontsize": 10, "family": FONT, "va": "baseline", **(opt[0] if opt else {})}
                fig.text(*_pt(fig, x, y), text, **kw)
            pdf.savefig(fig)
            plt.close(fig)
    return path


SCANNED_LINES = [
    (60, 80, "Enteric Fever: Treatment at the Health Centre", 18),
    (60, 130, "Uncomplicated enteric fever is treated with oral antibiotics.", 13),
    (60, 160, "Give plenty of fluids and paracetamol for fever.", 13),
]
SCANNED_TABLE = [("Drug", "Dose", "Duration"), ("Cefixime", "10 mg/kg twice daily", "14 days"),
                 ("Azithromycin", "10 mg/kg once daily", "7 days"), ("Ciprofloxacin", "7.5 mg/kg twice daily", "7 days")]


def scanned_pdf(path: Path) -> Path:
    """Two pages without a text layer: page 1 an image of text with a three-column table, page 2 its text drawn
    as vector outlines (what some scanners and print drivers write)."""
    from PIL import Image, ImageDraw, ImageFont
    import matplotlib.font_manager as fm

    font_file = fm.findfont(FONT)
    dpi = 200
    img = Image.new("L", (int(8.27 * dpi), int(11.69 * dpi)), 255)
    draw = ImageDraw.Draw(img)
    k = dpi / 72
    for x, y, text, size in SCANNED_LINES:
        draw.text((x * k, y * k), text, font=ImageFont.truetype(font_file, int(size * k)), fill=0)
    f = ImageFont.truetype(font_file, int(12 * k))
    for r, row in enumerate(SCANNED_TABLE):
        for x, cell in zip((60, 220, 420), row):
            draw.text((x * k, (220 + 26 * r) * k), cell, font=f, fill=0)
    image_pdf = path.with_suffix(".img.pdf")
    img.save(image_pdf, "PDF", resolution=dpi)

    from matplotlib.patches import PathPatch
    from matplotlib.textpath import TextPath
    from matplotlib.transforms import Affine2D

    plt, fig = _figure()
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, 8.27 * 72)
    ax.set_ylim(0, 11.69 * 72)
    ax.axis("off")
    for n, text in enumerate(["Severe enteric fever: refer to the district hospital.",
                              "Ceftriaxone 75 mg/kg once daily intravenously for 14 days."]):
        tp = TextPath((0, 0), text, size=13, prop={"family": FONT})
        ax.add_patch(PathPatch(Affine2D().translate(60, 11.69 * 72 - 100 - 30 * n).transform_path(tp), color="black",
                               lw=0))
    vector_pdf = path.with_suffix(".vec.pdf")
    fig.savefig(vector_pdf)
    plt.close(fig)

    import pypdfium2 as pdfium

    out = pdfium.PdfDocument.new()
    for part in (image_pdf, vector_pdf):
        src = pdfium.PdfDocument(str(part))
        out.import_pages(src)
        src.close()
    out.save(str(path))
    out.close()
    image_pdf.unlink()
    vector_pdf.unlink()
    return path


FORM_ITEMS = [
    ("A. Hand hygiene is performed before and after", "every patient contact."),
    ("B. Sharps containers are closed when three", "quarters full."),
    ("C. Single-use devices are discarded after use and not used for", "more than one patient."),
]


def checklist_pdf(path: Path) -> Path:
    """A one-page audit check-list: a "Yes No Not applicable" header over the box columns; each item's text wraps
    to a second line; the labels repeat beside the first line of each item (as an audit form prints them); then a
    second list whose boxes are glyphs ("❑ Yes ❑ No")."""
    items = [(72, 90, "Infection prevention audit: clinical area", {"fontsize": 14, "weight": "bold"}),
             (72, 130, "Standard"), (400, 130, "Yes"), (440, 130, "No"), (480, 130, "Not applicable")]
    y = 155
    for first, second in FORM_ITEMS:
        items += [(72, y, first), (400, y, "Yes"), (440, y, "No"), (480, y, "N/A"), (72, y + 13, second)]
        y += 40
    items.append((72, y + 10, "Environment", {"fontsize": 12, "weight": "bold"}))
    y += 35
    for text in ["Floors are clean and free of dust.", "Clean linen is stored off the floor.",
                 "Waste bins are foot operated and lidded."]:
        items += [(72, y, text), (400, y, "❑ Yes"), (460, y, "❑ No")]
        y += 22
    return write_pages(path, [items])


ROTATED_ROWS = [("Infection", "Antibiotic", "Adult dose", "Duration"),
                ("Cellulitis", "Flucloxacillin", "500 mg to 1 g four times a day", "5 to 7 days"),
                ("Impetigo", "Fusidic acid cream", "Apply three times a day", "5 days"),
                ("Lower UTI", "Nitrofurantoin", "100 mg modified-release twice a day", "3 days")]


def rotated_table_pdf(path: Path) -> Path:
    """A portrait page whose table is set sideways (a landscape table turned 90°, read bottom to top), under an
    upright title."""
    items = [(60, 60, "Annex 2. Antibiotic doses", {"fontsize": 14, "weight": "bold"})]
    for r, row in enumerate(ROTATED_ROWS):
        for x, cell in zip((0, 110, 260, 470), row):
            # the table's rows run left to right across the page; its columns climb the page
            items.append((120 + 26 * r, 780 - x, cell, {"rotation": 90, "rotation_mode": "anchor"}))
    return write_pages(path, [items])


PANELS = {
    "Step 1: Mild persistent asthma": ["Low-dose inhaled corticosteroid daily,", "for example budesonide 200",
                                       "micrograms twice a day.", "Review inhaler technique at every visit."],
    "Step 2: Moderate persistent asthma": ["Formoterol-budesonide 6/200 micrograms,", "one puff twice a day and",
                                           "as needed.", "Refer if symptoms persist after 3 months."],
}


def two_panel_pdf(path: Path, size=A4, title: str = "Asthma treatment workflow") -> Path:
    """Two framed panels side by side, each a heading and bullets whose text wraps; the panels' lines share
    baselines, so a row-by-row reader interleaves them."""
    plt, fig = _figure(size)
    w, h = size[0] * 72, size[1] * 72
    fig.text(*_pt(fig, 40, 50), title, fontsize=16, weight="bold", family=FONT)
    from matplotlib.patches import Rectangle

    for k, (head, bullets) in enumerate(PANELS.items()):
        x = 40 + k * (w - 80) / 2
        fig.add_artist(Rectangle(((x - 6) / w, 1 - (h * 0.55) / h), ((w - 80) / 2 - 12) / w, (h * 0.55 - 72) / h,
                                 fill=k == 1, facecolor="#dbe9f6", lw=1.2, transform=fig.transFigure))
        fig.text(*_pt(fig, x, 95), head, fontsize=11, weight="bold", family=FONT)
        y = 120
        for b in bullets:
            cont = b[:1].islower()
            fig.text(*_pt(fig, x + (12 if cont else 0), y), ("" if cont else "• ") + b, fontsize=9, family=FONT)
            y += 14
    fig.savefig(path)
    plt.close(fig)
    return path


def slide_pdf(path: Path) -> Path:
    """A 16:9 slide: a title and two panels side by side (the two-panel layout on a landscape page)."""
    return two_panel_pdf(path, size=(13.33, 7.5), title="RR-TB: asthma of the slides")


SLIDE_PANELS = [
    ("Short regimen", ["Bedaquiline 6 months", "Linezolid 2 months", "FBC at baseline, 2 weeks", "and monthly"]),
    ("Exclusions", ["Hb below 8 g/dl", "Pregnancy", "Extensive disease", "Prior second-line drugs"]),
    ("Long regimen", ["18 to 20 months", "Linezolid 6 months", "Monthly cultures", "Audiometry monthly"]),
]


def three_panel_slide_pdf(path: Path) -> Path:
    """A 16:9 slide: a title over three framed, shaded panels side by side, close together (a narrow gutter), each
    a heading and four lines on the same baselines as its neighbours'."""
    size = (13.33, 7.5)
    plt, fig = _figure(size)
    w, h = size[0] * 72, size[1] * 72
    fig.text(*_pt(fig, 40, 50), "DR-TB regimens for adults", fontsize=22, weight="bold", family=FONT)
    from matplotlib.patches import Rectangle

    pw = (w - 80) / 3
    for k, (head, lines) in enumerate(SLIDE_PANELS):
        x = 40 + k * pw
        fig.add_artist(Rectangle((x / w, 1 - 420 / h), (pw - 8) / w, 330 / h, fill=True, facecolor="#fde9d9",
                                 edgecolor="black", lw=1, transform=fig.transFigure))
        fig.text(*_pt(fig, x + 6, 120), head, fontsize=16, weight="bold", family=FONT)
        for n, ln in enumerate(lines):
            fig.text(*_pt(fig, x + 6, 160 + 30 * n), ln, fontsize=15, family=FONT)
    fig.savefig(path)
    plt.close(fig)
    return path


def _raw_pdf(content: bytes, cmap: bytes) -> bytes:
    """A one-page PDF in Helvetica (F1) and Symbol (F2, whose ToUnicode map is ``cmap``)."""
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R /F2 5 0 R >> >> "
            b"/Contents 6 0 R >>",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Symbol /ToUnicode 7 0 R >>",
            b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
            b"<< /Length %d >>\nstream\n" % len(cmap) + cmap + b"\nendstream"]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, o in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + o + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return bytes(out)


# a producer's ToUnicode map for the Symbol font that names its glyphs by the Standard encoding's codes: the
# Symbol font's "greaterequal" (code B3) comes out as "daggerdbl" (‡), its "lessequal" (A3) as "sterling" (£)
SYMBOL_AS_STANDARD = b"""/CIDInit /ProcSet findresource begin 12 dict begin begincmap
/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def /CMapName /Adobe-Identity-UCS def
/CMapType 2 def 1 begincodespacerange <00> <FF> endcodespacerange
2 beginbfchar <B3> <2021> <A3> <00A3> endbfchar endcmap CMapName currentdict /CMapResource defineresource pop end end"""

SIGNS_LINES = [  # (text in Helvetica, then a Symbol sign, then Helvetica) per line; None: no Symbol sign
    ("Treat obesity when BMI ", b"\\263", " 30 kg/m2, or BMI 27 to 29.9 with two risk factors."),
    ("Aim for a blood pressure ", b"\\243", " 140/90 mmHg; in diabetes below 130/80 mmHg."),
    ("Doses: 0.5 mg/kg (max 40 mg) daily; 2.5% of patients had HbA1c > 7.0% and eGFR < 60.", None, ""),
    ("The trial\\263 was stopped early.", None, ""),  # a footnote's double dagger in Helvetica: it stays
]


def signs_pdf(path: Path) -> Path:
    """Comparison signs set in the Symbol font by a producer whose text layer maps them to the Standard
    encoding's glyphs (≥ read as ‡, ≤ as £), beside numbers, units and signs in an ordinary font."""
    ops = [b"BT /F1 11 Tf 72 760 Td 14 TL"]
    for a, sign, b in SIGNS_LINES:
        ops.append(b"/F1 11 Tf (" + a.encode("latin-1") + b") Tj")
        if sign is not None:
            ops.append(b"/F2 11 Tf (" + sign + b") Tj /F1 11 Tf (" + b.encode("latin-1") + b") Tj")
        ops.append(b"T*")
    ops.append(b"ET")
    path.write_bytes(_raw_pdf(b"\n".join(ops), SYMBOL_AS_STANDARD))
    return path


GRID_ROWS = [
    ("Acute sore throat", "Use FeverPAIN to assess symptoms;", [("First choice:", "500 mg four", "5 to 10"),
                                                              ("phenoxymethylpenicillin", "times a day", "days")]),
    ("", "", [("Penicillin allergy:", "250 mg to 500 mg", "5 days"), ("clarithromycin", "twice a day", "")]),
    ("Lower UTI", "Advise paracetamol for pain;", [("First choice:", "100 mg modified-", "3 days"),
                                                    ("nitrofurantoin", "release twice a day", "")]),
]


def ruled_table_pdf(path: Path) -> Path:
    """A landscape page with a table ruled as a grid (Word's way: each cell's edges drawn apart): a header row,
    then rows whose cells hold two lines each, the medicine, dose and length columns split by a rule under each
    medicine; the lines of neighbouring cells share baselines, so a line-by-line reader reads across the cells."""
    size = (11.69, 8.27)
    plt, fig = _figure(size)
    w, h = size[0] * 72, size[1] * 72
    xs = [40, 170, 360, 520, 680, 800]
    from matplotlib.lines import Line2D

    def rule(x0, y0, x1, y1):  # points from the top-left
        fig.add_artist(Line2D([x0 / w, x1 / w], [1 - y0 / h, 1 - y1 / h], lw=0.8, color="black",
                              transform=fig.transFigure))

    y = 60
    for x, head in zip(xs, ["Infection", "Key points", "Medicine", "Adult dose", "Length"]):
        fig.text(*_pt(fig, x + 5, y + 15), head, fontsize=10, weight="bold", family=FONT)
    rows_y = [y, y + 22]
    y += 22
    for label, key, subs in GRID_ROWS:
        top = y
        if label:
            fig.text(*_pt(fig, xs[0] + 5, y + 14), label, fontsize=9, family=FONT)
            fig.text(*_pt(fig, xs[1] + 5, y + 14), key, fontsize=9, family=FONT)
        for n, line in enumerate(subs):
            for x, cell in zip(xs[2:], line):
                fig.text(*_pt(fig, x + 5, y + 14 + 13 * n), cell, fontsize=9, family=FONT)
        y += 34
        for x in xs:
            rule(x, top, x, y)
        # a row that goes on under the same infection: its rule leaves the merged label cells open
        rule(xs[0] if label or not rows_y else xs[2], top, xs[-1], top)
        rows_y.append(y)
    rule(xs[0], y, xs[-1], y)
    for ry in rows_y[:2]:
        rule(xs[0], ry, xs[-1], ry)
    for x in xs:
        rule(x, rows_y[0], x, rows_y[1])
    fig.savefig(path)
    plt.close(fig)
    return path


REC_PAGE = [
    ("1.3 Referral to specialist care", {"fontsize": 13, "weight": "bold"}),
    ("1.3.4", "Refer children and young people with CKD to a specialist kidney service if"),
    (None, "they:"),
    ("•", "have an ACR of 70 mg/mmol or more"),
    ("•", "have accelerated progression of CKD (see recommendation 1.3.5)"),
    ("•", "have hypertension that remains poorly controlled despite 4 drugs. [2021]"),
    ("1.3.5", "Define accelerated progression of CKD as:"),
    ("•", "a sustained decrease in eGFR of 25% or more and a change in eGFR category"),
    (None, "within 12 months or"),
    ("•", "a sustained decrease in eGFR of 15 ml/min/1.73 m² per year or more. [2014,"),
    (None, "amended 2021]"),
    ("1.3.6", "Offer an ACE inhibitor to adults with CKD and an ACR over 30 mg/mmol."),
    (None, "Strong recommendation, moderate-certainty evidence"),
    (None, "For the definition of accelerated progression, see recommendation 1.3.5."),
]


def recommendations_pdf(path: Path) -> Path:
    """A guideline page of numbered recommendations as NICE and WHO set them: the number in a column of its own,
    a lead-in ("… if they:") over bulleted conditions, the year after the last bullet ("[2014, amended 2021]",
    broken over two lines), a grade line under the text, a definition as a recommendation, and a sentence that only
    points to another recommendation."""
    items, y = [], 80
    for first, *rest in REC_PAGE:
        if isinstance(rest[0], dict):
            items.append((72, y, first, rest[0]))
            y += 28
            continue
        text = rest[0]
        if first == "•":
            items += [(90, y, "•"), (104, y, text)]
        elif first:
            y += 8
            items += [(72, y, first, {"weight": "bold"}), (104, y, text)]
        else:
            items.append((104 if not text.startswith(("Strong", "For the")) else 72, y, text))
        y += 15
    return write_pages(path, [items])


SCANNED_LEVELS = [  # (x pt, text): lines of a scanned chapter, 14 pt apart within a paragraph, 22 pt between them
    (60, "LEVEL 1: AT THE SOLO PHYSICIAN CLINIC"),
    None,
    (60, "Early antibiotic treatment is essential to decrease mortality and can be started"),
    (60, "empirically when the clinical suspicion is strong."),
    None,
    (60, "Second line antibiotics:"),
    (90, "Amoxicillin 25 mg/kg three times a day for 14 days"),
    (90, "Cefixime 10 mg/kg twice a day for 14 days"),
    None,
    (60, "LEVEL 4: AT THE DISTRICT HOSPITAL"),
    None,
    (60, "Ceftriaxone 30 mg/kg every 12 hours for 10 to 14 days when the patient cannot take oral drugs."),
]


def scanned_levels_pdf(path: Path) -> Path:
    """A scanned page (an image, no text layer) set in one size: capitals that head each level of care, a
    paragraph that wraps, a list whose items have no bullets."""
    from PIL import Image, ImageDraw, ImageFont
    import matplotlib.font_manager as fm

    dpi = 200
    k = dpi / 72
    img = Image.new("L", (int(8.27 * dpi), int(11.69 * dpi)), 255)
    draw = ImageDraw.Draw(img)
    f = ImageFont.truetype(fm.findfont(FONT), int(10 * k))
    y = 80
    for line in SCANNED_LEVELS:
        if line is None:
            y += 8
            continue
        draw.text((line[0] * k, y * k), line[1], font=f, fill=0)
        y += 14
    img.save(path, "PDF", resolution=dpi)
    return path


LIST_ITEMS = {
    "A. Absolute contraindications:": ["Active internal bleeding", "Suspected aortic dissection",
                                       "Known intracranial neoplasm"],
    "B. Relative contraindications:": ["Severe hypertension on presentation (BP > 180/110 mmHg)",
                                       "Recent trauma (< 2 weeks) or major surgery (< 3 weeks)",
                                       "Prolonged or traumatic CPR (> 10 min)"],
}


def bullet_lists_pdf(path: Path) -> Path:
    """Two labelled lists whose bullet glyphs are set apart from their items' text, in a larger size (a column of
    bullets and a column of text: what a layout reader may take for a two-column table)."""
    items = [(72, 80, "Because fibrinolytic agents increase the risk of haemorrhage, several contraindications must"),
             (72, 94, "be considered before treatment can be initiated. These are:")]
    y = 125
    for label, rows in LIST_ITEMS.items():
        items.append((72, y, label))
        y += 22
        for text in rows:
            items += [(90, y, "•", {"fontsize": 11}), (106, y, text)]
            y += 22
        y += 12
    return write_pages(path, [items])
