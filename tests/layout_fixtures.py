"""PDF pages of the layouts hospitals' own documents bring, generated for the tests (no copies of real documents):
an all-scanned document (a page image, and a page of text drawn as vector outlines), a check-list form, a rotated
table, a two-panel chart, a slide, and comparison signs set in a symbol font's glyphs.

Written with matplotlib's PDF backend (text as real text, TrueType) and Pillow (page images); both are in the
locked dependencies, so the fixtures are built at test time in a temporary folder.
"""

from __future__ import annotations

from pathlib import Path

A4 = (8.27, 11.69)  # inches
FONT = "DejaVu Sans"


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
