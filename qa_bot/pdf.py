"""PDF structure with pypdfium2: reading order, headings, recommendations, tables, page ranges.

Why pypdfium2 (measured on the five guideline PDFs of ``../shared/data/guidelines``, ``benchmarks/pdf_libraries.py``):
plain text 180–505 pages/s against pypdf's 21–88 and pdfplumber's 3–4 (words with font sizes); per-character
boxes and sizes (what layout needs) still 28–85 pages/s; the same outlines as the other two. pdfplumber finds
ruled tables but at 3–6 pages/s a 262-page PDF would take over a minute before any chunking, and it found no
table in the CDC guideline (unruled); tables here are found from the text layout instead (aligned cells).

What comes out (``parse_pdf``): the document text, sections with heading paths (outline, else layout: font
size, bold, numbering), page ranges, a page map (text offset → page), recommendation units (number, grade, year
as metadata), one section per table row ("Header: cell; Header: cell."), notices for pages without text
(OCR'd with ``tesseract`` when it is installed, else skipped). Running headers and footers, page numbers,
tables of contents and dot leaders are dropped; hyphenation at line ends is mended; two-column pages are read
column by column.
"""

from __future__ import annotations

import functools
import math
import re
import shutil
import statistics
import subprocess
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from .text import slug
from .types import Section

MARGIN = 0.085  # share of the page height at the top and bottom where running headers/footers live
# character budgets that keep every stage linear on hostile input (overlapping text joined into one line): about 5x
# the densest page (7,462 characters) and the longest line (362) of the guideline PDFs; the rest is left out, noticed
PAGE_CHARS = 40_000
LINE_CHARS = 2_000
GARBLED = 0.5  # share of non-words above which a page's text layer is taken as garbage (qa_bot.pdf.garbled_share)
BULLET = re.compile(r"^\s*(?:[•▪■●◦○‣∙·\uf0b7\uf0a7\uf076\uf0d8\[]|[-–*](?=\s))\s*")
NUMBERED_HEAD = re.compile(r"^(\d{1,2}(?:\.\d{1,2}){0,3})\.?\s+(?=[A-Z])")
PAGE_NUMBER = re.compile(r"^(?:page\s*)?[-–]?\s*(?:\d{1,4}|[ivxlc]{1,6})\s*[-–]?(?:\s*(?:of|/)\s*\d{1,4})?$", re.I)
FOLIO = re.compile(r"^(?:(\d{1,4})\s+(?:[^\W\d_][^\d]{1,80})|(?:[^\W\d_][^\d]{1,80}?)\s+(\d{1,4}))$")  # "Treatment 29"
TITLE_LINK = re.compile(r"^(?:(?:on|of|the|for|and|in|to|a|an|with|from|by)\s*){1,3}$", re.I)
DOT_LEADER = re.compile(r"(?:\s?\.){4,}\s*|(?:\s?…){2,}\s*|(?:\s?·){4,}\s*")
REC_NICE = re.compile(r"^(\d{1,2}\.\d{1,2}\.\d{1,3})\s+(?=[A-Z])")
REC_YEAR = re.compile(r"\s*\[((?:19|20)\d\d)(?:[^\]]{0,60})?\]\s*$")
REC_WORD = re.compile(r"^Recommendation\s+(\d{1,3}[a-z]?)\b\.?\s*(?:\(([^)]{3,80})\))?[.:]?\s*", re.I)
REC_CATEGORY = re.compile(r"\(recommendation category:\s*([A-Z]);\s*evidence type:\s*(\d)\)", re.I)
GRADE_LINE = re.compile(r"^\(?((?:strong|conditional|weak|good practice)\b[^.]{0,30}?\brecommendation\b[^.]{0,80}?"
                        r"|(?:strong|conditional|weak) recommendation)\)?\.?$", re.I)
CONTINUED = re.compile(r"^\(?(?:continued|cont'?d\.?)(?: (?:on|from) (?:the )?(?:next|previous|following|preceding) "
                       r"page)?\.?\)?$", re.I)
LEGEND = re.compile(r"^\d{1,2}\s*=\s*[A-Za-z]")
ARTIFACT = re.compile(r"^this cell is ?empty\.?$", re.I)  # accessibility text of empty table cells
ITEM = re.compile(r"^(?:[a-h]|i{1,3}|iv|vi{0,3})\.\s")  # "a. …", "ii. …": an item of a row label
GROUPED = re.compile(r"^((?:[a-h])\.\s.*?)\s+(?:i|ii|iii|iv|v|vi)\.\s")  # "d. Breast cancer i. Current"
CAPTION = re.compile(r"^(table|box|exhibit)\s*[\w.-]{0,8}[.:]?\s", re.I)
LIST_REC = re.compile(r"^(\d{1,2})\.\s+(?=[A-Z])")
# a sentence that only points to another recommendation ("For the definition of X, see recommendation 1.3.5.")
_REC_NO = r"\d{1,2}(?:\.\d{1,3}){0,2}[a-z]?"
XREF_ONLY = re.compile(r"^\(?(?:for\b[^.;:]{0,120}?,?\s*)?(?:see|refer to)\s+(?:also\s+)?recommendations?\s+" + _REC_NO
                       + r"(?:\s*(?:,|and|or|to|–|-)\s*" + _REC_NO + r")*(?:\s+(?:for|on|about)\b[^.]{0,120})?\)?\.?$",
                       re.I)


@dataclass
class Line:
    text: str
    x0: float
    x1: float
    top: float  # PDF coordinates: y grows upwards
    bottom: float
    size: float
    bold: bool
    page: int
    table: list["Para"] | None = None  # a placeholder for a table's rows, where the table stands
    starts: bool = False  # starts a paragraph of its own (the first line of a flowchart's box)

    @property
    def height(self) -> float:
        return self.top - self.bottom


@dataclass
class Para:
    text: str
    page: int
    page_end: int
    size: float
    bold: bool
    lines: int = 1
    heading_level: int | None = None
    kind: str | None = None  # "table_row" | "recommendation" | "caption"
    rec_number: str | None = None
    grade: str | None = None
    year: str | None = None
    caption: str | None = None  # a table row's table caption ("Table 3. Classification of blood pressure")
    breaks: list[tuple[int, int]] | None = None  # (offset in text, page) where a later page's text starts


@dataclass
class ParsedPDF:
    text: str
    sections: list[Section]
    title: str | None
    page_map: list[tuple[int, int]]  # (text offset, page) where each page's text starts
    pages: int
    notices: list[str]
    outline_entries: int = 0
    ocr: list[tuple[int, float]] = field(default_factory=list)  # (page, seconds) of each page read by OCR
    empty_pages: list[int] = field(default_factory=list)


class PDFError(Exception):
    """A PDF that cannot be read at all (damaged, encrypted); the message says why."""


# --- characters → segments → lines --------------------------------------------------------------
def _page_segments(page, tp, pno: int) -> tuple[list[Line], bool, list[Line]]:
    """The page's text segments at its main angle; whether that angle turns the page (a landscape table set
    sideways: the segments are turned upright); and, on a turned page, its upright segments (a title above the
    table), in the page's own coordinates."""
    import pypdfium2.raw as raw

    n = min(tp.count_chars(), PAGE_CHARS)
    if n <= 0:
        return [], False, []
    text = tp.get_text_range(0, n)
    direct = len(text) == n
    # watermarks and side labels are set at an angle: only text at the page's main angle is read
    angles = [round(raw.FPDFText_GetCharAngle(tp, i), 2) for i in range(n)]
    common = Counter(a for a, c in zip(angles, text) if not c.isspace()).most_common(1) if direct else []
    main = common[0][0] if common else 0.0
    if min(abs(main - a) for a in (0.0, 1.57, 3.14, 4.71, 6.28)) > 0.05:
        main = 0.0  # a page with nothing but a diagonal watermark has no text
    turn = "up" if abs(main - 4.71) < 0.05 else "down" if abs(main - 1.57) < 0.05 else None
    chars = (text, direct, angles)
    segs = _char_runs(page, tp, pno, n, chars, main, turn)
    return segs, turn is not None, _char_runs(page, tp, pno, n, chars, 0.0, None) if turn else []


def _char_runs(page, tp, pno: int, n: int, chars: tuple, main: float, turn: str | None) -> list[Line]:
    """Runs of characters at the angle ``main`` on one baseline, split at wide gaps (``turn``: turned upright)."""
    import pypdfium2.raw as raw

    text, direct, angles = chars
    segs: list[Line] = []
    cur: list = []  # [chars, x0, x1, top, bottom, size, first index]
    space: bool | str = False
    last_h = 0.0  # the height of the last character read

    def close():
        nonlocal cur
        if cur:
            s = "".join(cur[0]).strip()[:LINE_CHARS]
            if s and not ARTIFACT.match(s):
                segs.append(Line(s, cur[1], cur[2], cur[3], cur[4], cur[5], _bold(tp, cur[6]), pno))
        cur = []

    width, height = page.get_size()
    for i in range(n):
        ch = text[i] if direct else chr(raw.FPDFText_GetUnicode(tp, i))
        if ch in "\r\n":
            space = "line" if cur else False  # a line end, unless the next character goes on where this one stopped
            continue
        if ch in " \xa0\t":
            if space != "line":
                space = "generated" if raw.FPDFText_IsGenerated(tp, i) == 1 else True
            continue
        if abs(angles[i] - main) > 0.03 and abs(abs(angles[i] - main) - 6.28) > 0.03:
            continue
        left, bottom, right, top = tp.get_charbox(i, loose=True)
        if turn == "up":  # a landscape table set sideways, read bottom to top: turn it upright
            left, right, bottom, top = bottom, top, width - right, width - left
        elif turn == "down":
            left, right, bottom, top = height - top, height - bottom, left, right
        h = top - bottom
        if h <= 0:
            continue
        if ch == "\ufffe" or ch == "\x02":
            ch = "-"  # pdfium's mark for a hyphen at a line end
        elif ch in SYMBOL_AS_STANDARD:
            ch = _symbol_sign(tp, i, ch)
        if cur and space == "line":
            # pdfium breaks a line inside a word at a ligature's shared box ("modi" / "fied"): the word goes on
            gap = left - cur[2]
            if abs((top + bottom) / 2 - (cur[3] + cur[4]) / 2) < 0.2 * cur[5] and -0.2 * cur[5] < gap < 0.1 * cur[5] \
                    and cur[0][-1].isalpha() and ch.isalpha():
                space = False
            else:
                close()
                space = False
        if cur:
            mid, cmid, ch_h = (top + bottom) / 2, (cur[3] + cur[4]) / 2, cur[5]
            gap = left - cur[2]
            # a ligature's letters share one box (a negative gap as wide as the glyph)
            if abs(mid - cmid) < 0.45 * max(h, ch_h) and -1.2 * ch_h < gap < 0.7 * ch_h:
                # small capitals ("I DENTIFICATION ,"): pdfium guesses a space where the size changes
                small_caps = space == "generated" and abs(h - last_h) > 0.15 * max(h, last_h) \
                    and gap < 0.15 * max(h, last_h) and cur[0][-1].isupper() and (ch.isupper() or ch in ",.;:")
                if (space and not small_caps) or gap > 0.5 * ch_h:  # pdfium marks word gaps with spaces
                    cur[0].append(" ")
                cur[0].append(ch)
                cur[2] = max(cur[2], right)
                cur[3], cur[4] = max(cur[3], top), min(cur[4], bottom)
                space, last_h = False, h
                continue
            close()
        cur = [[ch], left, right, top, bottom, h, i]
        space, last_h = False, h
    close()
    return segs


# a Symbol-font sign that a producer's text layer names by the Standard/Latin-1 glyph at the same code: certain
# only when the character's font is the Symbol font (a "‡" footnote mark in a text font stays)
SYMBOL_AS_STANDARD = {"‡": "≥", "£": "≤", "¹": "≠"}


def _symbol_sign(tp, i: int, ch: str) -> str:
    import ctypes

    import pypdfium2.raw as raw

    buf = ctypes.create_string_buffer(128)
    flags = ctypes.c_int(0)
    n = raw.FPDFText_GetFontInfo(tp, i, buf, 128, ctypes.byref(flags))
    name = buf.value.decode("latin-1", "replace") if n else ""
    return SYMBOL_AS_STANDARD[ch] if re.search(r"(?:^|\+)Symbol(?:MT|PS)?(?:,|-|$)", name) else ch


def _bold(tp, i: int) -> bool:
    """Bold by the font's weight, or by its name where the font does not state a weight (Helvetica-Bold)."""
    import ctypes

    import pypdfium2.raw as raw

    if raw.FPDFText_GetFontWeight(tp, i) >= 600:
        return True
    buf = ctypes.create_string_buffer(128)
    flags = ctypes.c_int(0)
    n = raw.FPDFText_GetFontInfo(tp, i, buf, 128, ctypes.byref(flags))
    name = buf.raw[:max(n - 1, 0)].decode("latin-1", "replace") if n else ""
    return bool(re.search(r"bold|black|heavy|semibold|demi", name, re.I)) or bool(flags.value & 0x40000)


def _rows(segs: list[Line]) -> list[list[Line]]:
    """Segments on the same baseline, left to right; rows top to bottom."""
    rows: list[list[Line]] = []
    for s in sorted(segs, key=lambda s: (-s.bottom, s.x0)):
        if rows:
            r = rows[-1]
            ref = r[0]
            if abs(s.bottom - ref.bottom) < 0.35 * min(s.height, ref.height) + 0.5:
                r.append(s)
                continue
        rows.append([s])
    return [sorted(r, key=lambda s: s.x0) for r in rows]


def _join(segs: list[Line], page: int) -> Line:
    text = " ".join(s.text for s in segs)[:LINE_CHARS]
    size = max(s.size for s in segs)
    return Line(text, min(s.x0 for s in segs), max(s.x1 for s in segs), max(s.top for s in segs),
                min(s.bottom for s in segs), size, all(s.bold for s in segs), page, starts=segs[0].starts)


def _twin_tables(segs: list[Line], width: float) -> float | None:
    """Two tables side by side: a header row that repeats ("A B C A B C"); the x between them, else None."""
    for r in _rows(segs):
        if len(r) > 40:  # no header has 20 columns a side; the search below is cubic in the cells of a row
            continue
        t = [c.text.lower() for c in r]
        for m in range(4, len(t) // 2 + 1):  # four or more header cells, repeated
            k = next((k for k in range(len(t) - 2 * m + 1) if t[k:k + m] == t[k + m:k + 2 * m]
                      and all(re.search(r"[a-z]{2}", x) for x in t[k:k + m])), None)
            if k is not None and width * 0.4 < r[k + m].x0 < width * 0.6:
                # row labels of the right table may start left of its header: cut nearer the left table
                end, start = r[k + m - 1].x1, r[k + m].x0
                return end + 0.3 * max(start - end, 0)
    return None


def _prose(s: Line) -> bool:
    """A line of running text (not a table cell, a label or a number)."""
    return len(s.text) >= 25 and s.text.count(" ") >= 3


def _texty(s: Line) -> bool:
    """Running text: a long line, or a line that goes on from the one above (it starts in lower case)."""
    return _prose(s) or (s.text[:1].islower() and " " in s.text)


def _cell(s: Line) -> bool:
    """A cell of a table row: words, not a bullet or a label ("Q10:", "1.") that hangs before a line."""
    return " " in s.text.strip() or len(re.findall(r"[^\W\d_]", s.text)) >= 5


def _column_regions(rows: list[list[Line]]) -> list[tuple[int, int, float]]:
    """Runs of rows set in two columns: (first row, end row, gutter x), in row order.

    A gutter is an x that no line of those rows covers (a line's ends padded by half its font size, so that
    cells or words a space apart are not split), with at least three lines of running text on either side
    beside each other. Found per run of rows, not per page: a page may have a table or a full-width
    paragraph above or below its columns, and each run may have its own gutter (a side box). A run ends at a
    blank band across the page (a line or more) beyond which one side has no running text: a caption or a
    table under the columns is not read as the end of the left column."""
    segs = [s for r in rows for s in r]
    if len(segs) < 6:
        return []
    lo, hi = min(s.x0 for s in segs), max(s.x1 for s in segs)
    span = hi - lo
    # per row: (x0, x1, running text, long line, a cell with letters or digits, top, bottom) of each line
    info = [[(s.x0, s.x1, _texty(s), _prose(s), _cell(s), s.top, s.bottom) for s in r] for r in rows]
    texty = [t for r in info for t in r if t[2]]
    # a quick exit: running text on both sides of the middle band of the text block is needed
    if sum(1 for t in texty if t[1] <= lo + 0.77 * span) < 3 or sum(1 for t in texty if t[0] >= lo + 0.23 * span) < 3:
        return []
    h = statistics.median(s.height for s in segs)
    gap_before = [False] + [min(s.bottom for s in rows[i - 1]) - max(s.top for s in rows[i]) > 1.2 * h
                            for i in range(1, len(rows))]
    # the candidate gutters: x = lo + span * k / 100; crossed[row][k] when a line of the row covers that x
    crossed = [bytearray(101) for _ in rows]
    for n, r in enumerate(rows):
        for s in r:
            a = math.floor((s.x0 - 0.5 * s.size - lo) * 100 / span) + 1
            b = math.ceil((s.x1 + 0.5 * s.size - lo) * 100 / span) - 1
            for k in range(max(a, 25), min(b, 75) + 1):
                crossed[n][k] = 1
    found: dict[tuple[int, int], tuple[int, list[float]]] = {}
    judged: dict[tuple[int, int, int], tuple[int, int, int] | None] = {}

    def judge(i: int, j: int, x: float) -> tuple[int, int, int] | None:
        """(first row, end row, score) of the two-column part of the run [i, j) split at x, or None."""
        def sides(a: int, b: int) -> tuple[list[tuple], list[tuple]]:
            return ([t for r in info[a:b] for t in r if t[1] <= x and t[2]],
                    [t for r in info[a:b] for t in r if t[0] >= x and t[2]])

        # parts of the run between blank bands; the parts at either end with text on one side only are left out
        cuts = [i] + [m for m in range(i + 1, j) if gap_before[m]] + [j]
        parts = [(a, b) for a, b in zip(cuts, cuts[1:]) if all(sides(a, b))]
        if not parts:
            return None
        i, j = parts[0][0], parts[-1][1]
        left, right = sides(i, j)
        if len(left) < 3 or len(right) < 3 or not any(t[3] for t in left + right):
            return None
        # rows of cells (two or more on one side: a table), bullets not counted
        multi = sum(1 for r in info[i:j] if sum(t[1] <= x and t[4] for t in r) >= 2
                    or sum(t[0] >= x and t[4] for t in r) >= 2)
        overlap = min(max(t[5] for t in left), max(t[5] for t in right)) - \
            max(min(t[6] for t in left), min(t[6] for t in right))
        if multi > (j - i) / 3 or overlap < 2 * h:
            return None
        return i, j, len(left) + len(right)

    for k in range(25, 76):
        x = lo + span * k / 100
        i = 0
        while i < len(rows):
            if crossed[i][k]:
                i += 1
                continue
            j = i
            while j < len(rows) and not crossed[j][k]:
                j += 1
            # the split of the run's lines is the same for every x between the same line ends
            key = (i, j, sum(1 for r in info[i:j] for t in r if t[1] <= x))
            if key not in judged:
                judged[key] = judge(i, j, x)
            if judged[key]:
                a, b, score = judged[key]
                best, xs = found.get((a, b), (0, []))
                found[(a, b)] = (max(best, score), xs + [x])
            i = j
    regions: list[tuple[int, int, float]] = []
    for (i, j), (score, xs) in sorted(found.items(), key=lambda kv: (-kv[1][0], -len(kv[1][1]))):
        if all(j <= a or i >= b for a, b, _ in regions):
            regions.append((i, j, xs[len(xs) // 2]))  # the middle of the gutter
    return sorted(regions)


def _reading_order(segs: list[Line], width: float, depth: int = 0) -> list[list[list[Line]]]:
    """Runs of rows in reading order: rows across the page as they come, a two-column run left column
    first (each column read the same way again, for a box or a third column inside it)."""
    rows = _rows(segs)
    twin = _twin_tables(segs, width) if depth == 0 else None
    if twin is not None:
        regions, i = [], 0
        while i < len(rows):  # every run of rows that no line crosses at the gutter
            j = i
            while j < len(rows) and not any(s.x0 < twin - 2 and s.x1 > twin + 2 for s in rows[j]):
                j += 1
            if j > i:
                regions.append((i, j, twin))
            i = j + 1
    else:
        regions = _column_regions(rows)
    blocks: list[list[list[Line]]] = []
    k = 0
    for i, j, x in regions:
        if k < i:
            blocks.append(rows[k:i])
        run = [s for r in rows[i:j] for s in r]
        for side in ([s for s in run if s.x1 <= x + 2], [s for s in run if s.x1 > x + 2]):
            if side:
                # a column may hold a box or a third column of its own; the halves of twin tables are tables
                blocks += _reading_order(side, width, depth + 1) if depth < 1 and twin is None else [_rows(side)]
        k = j
    if k < len(rows):
        blocks.append(rows[k:])
    return blocks


def _diagram_boxes(page, segs: list[Line], width: float, height: float) -> list[tuple[tuple, list[Line]]]:
    """The boxes of a flowchart (an algorithm figure) with the lines in each: ((x0, y0, x1, y1), lines), or []
    for a page without one.

    A box is a drawn shape (a path's bounds) with text inside; a line belongs to the smallest box around its
    middle. A flowchart has four or more such boxes apart from one another: boxes that share an edge, overlap
    or hold one another are the cells or shaded bands of a table, whose lines are read as a table. Two or three
    framed panels side by side, each of three lines or more (a chart's or a slide's panels, up to the page's
    height), are read the same way: each panel on its own, never line by line across the panels."""
    bounds = [obj.get_bounds() for obj in page.get_objects(filter=(2,), max_depth=2)]  # FPDF_PAGEOBJ_PATH
    small = [b for b in bounds if 20 <= b[2] - b[0] <= 0.45 * width and 12 <= b[3] - b[1] <= 0.4 * height]
    found = _boxes_with_text(small, segs, 4)
    if found or len(segs) < 6:
        return found
    panels = [b for b in bounds if 0.2 * width <= b[2] - b[0] <= 0.55 * width and 0.1 * height <= b[3] - b[1]
              <= 0.9 * height]
    found = _boxes_with_text(panels, segs, 2)
    side_by_side = len(found) in (2, 3) and all(len(_rows(g)) >= 3 for _, g in found) \
        and max(b[1] for b, _ in found) < min(b[3] for b, _ in found)  # they share a band of the page
    return found if side_by_side else []


def _boxes_with_text(shapes: list[tuple], segs: list[Line], least: int) -> list[tuple[tuple, list[Line]]]:
    """Shapes holding text, apart from one another (not a table's cells), when there are ``least`` or more."""
    if len(shapes) < least:
        return []
    groups: dict[tuple, list[Line]] = {}
    for s in segs:
        mx, my = (s.x0 + s.x1) / 2, (s.top + s.bottom) / 2
        around = [b for b in shapes if b[0] <= mx <= b[2] and b[1] <= my <= b[3] and s.x0 >= b[0] - 2
                  and s.x1 <= b[2] + 2]
        if around:
            groups.setdefault(min(around, key=lambda b: (b[2] - b[0]) * (b[3] - b[1])), []).append(s)
    boxes = [b for b, g in groups.items() if any(re.search(r"[A-Za-z]{2}", s.text) for s in g)]
    if len(boxes) < least:
        return []
    cells = set()
    for n, a in enumerate(boxes):
        for b in boxes[n + 1:]:
            dx, dy = min(a[2], b[2]) - max(a[0], b[0]), min(a[3], b[3]) - max(a[1], b[1])
            # boxes that overlap or hold one another (shaded bands), or that share a whole edge (cells side by
            # side or one above the other): a table
            if dx > 0 and dy > 0 or dx > -6 and dy > 0.9 * max(a[3] - a[1], b[3] - b[1]) \
                    or dy > -6 and dx > 0.9 * max(a[2] - a[0], b[2] - b[0]):
                cells |= {a, b}
    boxes = [b for b in boxes if b not in cells]
    if len(boxes) < least:
        return []
    return [(b, groups[b]) for b in boxes]


def _table_runs(rows: list[list[Line]]) -> list[tuple[int, int, int]]:
    """Rows that form a table: ≥3 consecutive rows [i, j) of ≥2 short cells sharing columns, under header lines
    [h, i) (h == i when the first row is the header): (h, i, j)."""

    def aligned(c: Line, anchors: list[tuple[float, float]]) -> bool:
        """Starts where a column starts, or is centred within a column's header (centred cells, sub-columns)."""
        mid = (c.x0 + c.x1) / 2
        return any(abs(c.x0 - a) < 6 or (b - a < 80 and a - 4 <= mid <= b + 4) for a, b in anchors)

    def prose(r: list[Line]) -> bool:  # two columns of running text side by side are not a table
        return sum(1 for c in r if len(c.text) >= 30 and len(c.text.split()) >= 5) >= 2

    runs: list[tuple[int, int, int]] = []
    i = 0
    while i < len(rows):
        if len(rows[i]) < 2 or max(len(c.text) for c in rows[i]) > 60 or prose(rows[i]):
            i += 1
            continue
        anchors = [(c.x0, c.x1) for c in rows[i]]
        j = i + 1
        while j < len(rows):
            r = rows[j]
            gap = rows[j - 1][0].bottom - r[0].top
            if gap > 2.5 * r[0].height or any(len(c.text) > 80 for c in r) or prose(r):
                break
            if len(r) >= 2 and sum(aligned(c, anchors) for c in r) >= max(1, len(r) - 2):
                anchors += [(c.x0, c.x0) for c in r if not aligned(c, anchors)]
                j += 1
            elif len(r) == 1 and r[0].x0 > min(anchors)[0] + 4 and aligned(r[0], anchors) and j + 1 < len(rows) \
                    and len(rows[j + 1]) >= 2:
                j += 1  # a wrapped cell
            else:
                break
        full = sum(1 for r in rows[i:j] if len(r) >= 2)
        if full >= 3:
            # header lines above the first row (a header of several lines, or cells that span columns)
            h = i
            while h > 0 and i - h < 3 and all(len(c.text) <= 60 and not c.text.endswith(".") for c in rows[h - 1]) \
                    and not re.match(r"^(table|box|figure|exhibit)\b", rows[h - 1][0].text, re.I) \
                    and not (len(rows[h - 1]) == 1 and len(rows[h - 1][0].text) >= 30) \
                    and not (len(rows[h - 1]) == 1 and rows[h - 1][0].size >= 1.15 * max(c.size for c in rows[h])) \
                    and rows[h - 1][0].bottom - rows[h][0].top < 1.5 * rows[h][0].height \
                    and any(aligned(c, anchors) or c.x0 <= min(anchors)[0] + 6 for c in rows[h - 1]) \
                    and (not runs or h - 1 >= runs[-1][2]):
                h -= 1
            runs.append((h, i, j))
            i = j
        else:
            i += 1
    return runs


WRAP = "\x1f"  # where a cell's word was hyphenated at a line end; mended once the document's words are known


def _cell_join(a: str, b: str) -> str:
    """The lines of one table cell: a word hyphenated at the line end is marked for mending."""
    if not a or not b:
        return (a + " " + b).strip()
    if re.search(r"[A-Za-z]-$", a) and re.match(r"[a-z]", b):
        return a + WRAP + b
    return a + " " + b


def _table_paras(rows: list[list[Line]], n_header: int, page: int) -> list[Para]:
    """A table's rows as sentences that keep their column headers: "Opioid: Codeine; Conversion factor: 0.15.".

    Columns are where the data cells start (left edges closer than 8 pt are one column); a header cell names
    the column it overlaps most (headers are often centred over their column), a column without one takes the
    header of the column to its left (a header spanning two columns). A row label that spans several rows
    (an empty first cell) is carried down."""
    while n_header < len(rows) - 2 and len(rows[n_header]) >= 2 and all(len(c.text) <= 3 and not c.text.isdigit()
                                                                        for c in rows[n_header]):
        n_header += 1  # a row of sub-column labels under the header ("I C I C", "n %")
    data = rows[n_header:]
    lefts: list[float] = []
    for x in sorted(c.x0 for r in data for c in r):
        if not lefts or x - lefts[-1][1] > 8:
            lefts.append([x, x])
        else:
            lefts[-1][1] = x
    cols = [a for a, _ in lefts]

    def col(x: float) -> int:
        return max([k for k, a in enumerate(cols) if a <= x + 4] or [0])

    right = [max([c.x1 for r in data for c in r if col(c.x0) == k] or [cols[k]]) for k in range(len(cols))]

    def head_col(c: Line) -> int:  # the column a header cell covers most (headers are often centred)
        over = [min(c.x1, right[k]) - max(c.x0, cols[k]) for k in range(len(cols))]
        best = max(range(len(cols)), key=lambda k: over[k])
        return best if over[best] > 0 else col(c.x0)

    heads = [""] * len(cols)
    for r in rows[:n_header]:
        for c in r:
            k = head_col(c)
            heads[k] = (heads[k] + " " + c.text).strip()
    heads = [h.rstrip(":*†‡§").strip() if re.search(r"\w", h) else "" for h in heads]
    for k in range(1, len(heads)):
        heads[k] = heads[k] or heads[k - 1]
    records: list[list[str]] = []
    for r in data:
        cells = [""] * len(cols)
        for c in r:
            k = col(c.x0)
            cells[k] = _cell_join(cells[k], c.text)
        filled = sum(1 for c in cells if c)
        # "… within 2" / "months" continues a row; "35.0 – 39.9" or "d. Breast cancer" starts one
        wrapped = all(re.match(r"[a-z(]", c) and not ITEM.match(c) for c in cells if c)
        if records and not cells[0] and 0 < filled <= len(cells) / 2 and wrapped:  # a wrapped row
            records[-1] = [_cell_join(a, b) for a, b in zip(records[-1], cells)]
            continue
        if records and not cells[0] and len(cells) > 2:
            cells[0] = records[-1][0]  # a label spanning rows
            # a sub-item ("i. Current") under a label-only row ("d. Breast cancer") keeps that label
            prev = records[-1]
            if len(cells) > 2 and re.match(r"^(?:i|ii|iii|iv|v|vi)\.\s", cells[1]) and not any(prev[2:]) and prev[1]:
                cells[1] = f"{prev[1]} {cells[1]}"
            elif len(cells) > 2 and re.match(r"^(?:i|ii|iii|iv|v|vi)\.\s", cells[1]) and re.match(
                    r"^(?:i|ii|iii|iv|v|vi)\.\s", prev[1].split(" ", 1)[-1] if " " in prev[1] else "") is None \
                    and records[-1][1] and GROUPED.match(records[-1][1]):
                cells[1] = f"{GROUPED.match(records[-1][1]).group(1)} {cells[1]}"
        records.append(cells)
    out = []
    size = statistics.median(c.size for r in rows for c in r)
    for rec in records:
        rec = ["" if not re.search(r"\w", v) else v for v in rec]  # bullets and rules drawn as glyphs
        parts = [f"{h}: {v}" if h and h != v else v for h, v in zip(heads, rec) if v]
        if len(parts) < 2:
            continue
        text = "; ".join(parts)
        out.append(Para(text.rstrip(".;") + ".", page, page, size, False, kind="table_row"))
    return out


# --- page cleanup -------------------------------------------------------------------------------
def _norm_margin(text: str) -> str:
    return re.sub(r"\d+", "#", re.sub(r"\s+", " ", text.lower())).strip()


def _is_toc_page(lines: list[Line], segs: list[Line] | None = None) -> bool:
    if not lines:
        return False
    if segs:  # a contents page set as a table: entries and their page numbers apart, no dot leaders
        numbers = sum(1 for s in segs if PAGE_NUMBER.match(s.text.strip()))
        if any(re.fullmatch(r"(table of )?contents", s.text.strip().lower()) for s in segs) \
                and numbers >= 5 and numbers >= 0.25 * (len(segs) - numbers):
            return True
    leaders = sum(1 for ln in lines if DOT_LEADER.search(ln.text) and re.search(r"\d\s*$", ln.text))
    numbered_end = sum(1 for ln in lines if _numbered_end(ln.text))
    has_title = any(re.fullmatch(r"(table of )?contents", ln.text.strip().lower()) for ln in lines)
    return leaders >= 4 or (has_title and numbered_end >= 0.4 * len(lines))


# --- ruled tables -----------------------------------------------------------------------------------
def _rules(page) -> tuple[list[tuple[float, float, float]], list[tuple[float, float, float]]]:
    """The thin drawn lines of a page: horizontal (y, x0, x1) and vertical (x, y0, y1)."""
    hs, vs = [], []
    for obj in page.get_objects(filter=(2,), max_depth=2):  # FPDF_PAGEOBJ_PATH
        x0, y0, x1, y1 = obj.get_bounds()
        if y1 - y0 <= 2 and x1 - x0 >= 15:
            hs.append(((y0 + y1) / 2, x0, x1))
        elif x1 - x0 <= 2 and y1 - y0 >= 6:
            vs.append(((x0 + x1) / 2, y0, y1))
    return hs, vs


def _cluster(values: list[float], tol: float = 2.5) -> list[float]:
    out: list[list[float]] = []
    for v in sorted(values):
        if out and v - out[-1][-1] <= tol:
            out[-1].append(v)
        else:
            out.append([v])
    return [statistics.mean(c) for c in out]


def _ruled_table(page, segs: list[Line], pno: int, last: list[list[str]]) -> tuple[list[Line], list[Line]] | None:
    """A table drawn as a grid of rules whose cells hold several lines (a cell list, bullets, a dose over two
    lines): each cell's lines stay together, in the order they are written, and each row is a sentence that
    names its cells by the header row ("Infection: Acute sore throat; Medicine: First choice: …; Length: 5 to 10
    days."). Where rules split some columns of a row (one medicine a line, with its dose and length), each split
    line is a row of its own under the row's label; a cell of running text (over 25 words) is a paragraph of its
    own. A table going on from the page before (no header row of its own, as many columns) keeps that page's
    header (``last``). Returns the table's lines and the page's other segments, or None (no grid, or no cell of
    several lines: the aligned-cells reader reads such a table as well)."""
    hs, vs = _rules(page)
    if len(hs) < 3 or len(vs) < 4 or not segs or _twin_tables(segs, page.get_size()[0]) is not None:
        return None  # (twin tables side by side, a chart of numbers: the aligned-cells reader's)
    cols = _cluster([v[0] for v in vs])
    mids = [(s.x0 + s.x1) / 2 for s in segs]
    while len(cols) > 3 and not any(cols[0] < m < cols[1] for m in mids):  # a rule in the margin frames no cell
        cols.pop(0)
    while len(cols) > 3 and not any(cols[-2] < m < cols[-1] for m in mids):
        cols.pop()
    vs = [v for v in vs if cols[0] - 3 <= v[0] <= cols[-1] + 3]
    if len(vs) < 4:
        return None
    x0, x1 = min(v[0] for v in vs), max(v[0] for v in vs)
    hs = [h for h in hs if h[2] > x0 and h[1] < x1]
    levels = _cluster([h[0] for h in hs])

    def cover(y: float) -> float:
        return sum(min(h[2], x1) - max(h[1], x0) for h in hs if abs(h[0] - y) <= 2.5)

    ys = sorted((y for y in levels if cover(y) >= 0.5 * (x1 - x0)), reverse=True)  # row rules, top to bottom
    if len(ys) < 3:
        return None
    inside: set[int] = set()
    grid: list[tuple[list[float], list[list[Line]], list[float], float]] = []  # columns, cells, inner rules, top
    for top, bottom in zip(ys, ys[1:]):
        xs = _cluster([v[0] for v in vs if min(v[2], top) - max(v[1], bottom) >= min(8.0, 0.3 * (top - bottom))])
        if len(xs) < 3:
            continue
        cells: list[list[Line]] = [[] for _ in xs[1:]]
        for s in segs:
            my, mx = (s.top + s.bottom) / 2, (s.x0 + s.x1) / 2
            if bottom < my < top and xs[0] - 2 < mx < xs[-1] + 2:
                k = max([i for i, x in enumerate(xs[:-1]) if x <= mx + 2] or [0])
                cells[k].append(s)
                inside.add(id(s))
        grid.append((xs, cells, [y for y in levels if bottom + 3 < y < top - 3], top))
    # cells of several lines of words beside the row labels (a chart of numbers under long labels is read well by
    # the aligned-cells reader)
    if sum(1 for g in grid for c in g[1][1:] if len(_rows(c)) >= 2 and sum(len(x.text.split()) for x in c) >= 3) < 2 \
            or len(grid) < 2:
        return None

    def text(c: list[Line]) -> str:
        return functools.reduce(_cell_join, (_join(r, pno).text for r in _rows(c)), "")

    def header(cells: list[list[Line]]) -> list[str] | None:  # a row of three short labels or more, no numbers
        names = [text(c).strip(" :") for c in cells]
        ok = sum(1 for h in names if h) >= 3 and all(len(h.split()) <= 5 and not re.search(r"\d", h) for h in names)
        return names if ok else None

    heads = last[0] if last else []
    size = statistics.median(s.size for s in segs if id(s) in inside)
    paras: list[Para] = []
    label, prev = "", None
    for xs, cells, inner, top in grid:
        names = header(cells)
        if names is not None:  # a header row (two stacked: "Doses" over "Adult", "Child")
            heads = [f"{a} {b}".strip() for a, b in zip(heads, names)] if prev == "head" and len(heads) == len(
                names) else names
            last[:] = [heads]
            prev = "head"
            continue
        named = len(heads) == len(cells)
        # a label cell spanning rows (no rule under it) is carried down
        open_label = not any(abs(h[0] - top) <= 2.5 and h[1] <= xs[0] + 2 and h[2] >= xs[1] - 2 for h in hs)
        label = text(cells[0]) or (label if prev == "row" and open_label else "")
        prev = "row"
        split = [k for k in range(len(cells)) if any(
            abs(h[0] - y) <= 2.5 and min(h[2], xs[k + 1]) - max(h[1], xs[k]) > 0.5 * (xs[k + 1] - xs[k])
            for y in inner for h in hs)]
        prose = [k for k in range(1, len(cells)) if k not in split and len(text(cells[k]).split()) > 25]
        whole = [k for k in range(len(cells)) if k not in split and k not in prose]
        bands = list(zip([cells[0][0].top + 99 if cells[0] else 1e9, *sorted(inner, reverse=True)],
                         [*sorted(inner, reverse=True), -1e9])) if split else [(1e9, -1e9)]
        for btop, bbot in bands:
            parts = [f"{heads[0]}: {label}" if named and heads[0] and heads[0] != label else label] if label else []
            for k in range(1, len(cells)):
                if k in prose or (k in whole and split and bands.index((btop, bbot)) > 0):
                    continue
                part = [s for s in cells[k] if k not in split or bbot < (s.top + s.bottom) / 2 < btop]
                cell = text(part)
                if cell:
                    parts.append(f"{heads[k]}: {cell}" if named and heads[k] and heads[k] != cell else cell)
            if len(parts) >= 2:
                paras.append(Para("; ".join(parts).rstrip(".;") + ".", pno, pno, size, False, kind="table_row"))
        for k in prose:
            t = text(cells[k])
            paras.append(Para(f"{label}: {t}" if label and len(label.split()) <= 8 else t, pno, pno, size, False))
    first = [s for s in segs if id(s) in inside]
    table = Line("", min(s.x0 for s in first), max(s.x1 for s in first), max(s.top for s in first),
                 min(s.bottom for s in first), size, False, pno, table=paras)
    return [table], [s for s in segs if id(s) not in inside]


# --- forms and check-lists ------------------------------------------------------------------------
# empty tick boxes (and their Wingdings code points); not "■"/"○", which are bullets, nor ticks, which are data
BOX_GLYPHS = "☐□❑❒◻▢\uf071\uf06f\uf0a8"
BOX_LABEL = re.compile(r"^(?:(?:yes|no|n/?a|not applicable|not app\.?|partial(?:ly)?|unknown|done|not done|met|"
                       r"not met|[" + BOX_GLYPHS + r"])[\s/]*)+$", re.I)
FORM_ITEM = re.compile(r"^(?:[A-Z]|\d{1,2}(?:\.\d{1,2})?|[a-z]|[ivx]{1,4})[.)]\s+\S|^[•▪■●\-–]\s")


def _form_items(rows: list[list[Line]], pno: int) -> tuple[int, list[Line]] | None:
    """A check-list ("Yes No Not applicable" columns, or rows of tick boxes) as items: each item's text is a
    paragraph of its own (kind ``form_item``); the box labels and glyphs are dropped, so they never enter a
    sentence ("… not used for Yes No more than one patient"). Returns the row where the form starts and its lines;
    None where the rows are not a form: a table whose cells answer Yes or No (one answer a row, or numbers under
    the labels) is data and stays a table."""
    def is_box(seg: Line) -> bool:
        return bool(BOX_LABEL.match(seg.text.strip()))

    def offered(text: str) -> bool:  # a choice of boxes: two or more, each label once ("Yes No N/A", "❑ ❑")
        tokens = [t.lower() for t in re.findall(r"\b(?:yes|no|n/a|not applicable)\b|[" + BOX_GLYPHS + "]", text,
                                                 re.I)]
        words = [t for t in tokens if t not in BOX_GLYPHS]
        return len(tokens) >= 2 and len(words) == len(set(words))  # "No No Yes" across a matrix is data

    def choices(r: list[Line]) -> bool:  # a row whose text ends in boxes to tick
        k = len(r)
        while k > 1 and is_box(r[k - 1]):
            k -= 1
        return offered(" ".join(c.text for c in r[k:]))

    # the header over the box columns: "Yes", "No", "Not applicable" alone, or after a short column label
    heads = [n for n, r in enumerate(rows) if sum(is_box(c) for c in r) >= 2 and all(is_box(c) for c in r[1:])
             and (is_box(r[0]) or len(r[0].text.split()) <= 3 and not FORM_ITEM.match(r[0].text))
             and offered(" ".join(c.text for c in r if is_box(c)))]
    after = rows[heads[0] + 1:] if heads else []
    data = any(re.search(r"\d", c.text) for r in after for c in r[1:] if not is_box(c))
    blank = sum(1 for r in after if all(is_box(c) for c in r[1:]))
    boxed = {n for n, r in enumerate(rows) if not is_box(r[0]) and choices(r)}
    if not (heads and blank >= 2 and not data or len(boxed) >= 3):
        return None
    start = min([*heads, *boxed])
    body = statistics.median(r[0].size for r in rows[start:])
    out: list[Line] = []
    items: list[list[str]] = []
    cur_boxed = False

    def flush() -> None:
        for it in items:
            joined = re.sub(r"(\w)-\s(?=[a-z])", r"\1" + WRAP, " ".join(it))
            para = Para(joined if re.search(r"[.!?:;]$", joined) else joined + ".", pno, pno, body, False,
                        kind="form_item")
            out.append(Line("", r0.x0, r0.x1, r0.top, r0.bottom, body, False, pno, table=[para]))
        items.clear()

    for n, r in enumerate(rows[start:], start):
        r0 = r[0]
        cells = [c for c in r if not is_box(c)]
        text = re.sub(r"\s*[" + BOX_GLYPHS + r"]\s*", " ", " ".join(c.text for c in cells)).strip()
        if not text:
            continue
        if n in heads or n not in boxed and (r0.bold or r0.size > 1.1 * body):
            flush()  # the label over the items' column ("Standard"), or a heading between lists
            out.append(Line(text, cells[0].x0, cells[-1].x1, r0.top, r0.bottom, r0.size, r0.bold, pno, starts=True))
            cur_boxed = False
            continue
        if not items or FORM_ITEM.match(text) or n in boxed and cur_boxed:
            flush()
            items.append([])
            cur_boxed = False
        items[-1].append(text)
        cur_boxed = cur_boxed or n in boxed
    flush()
    return start, out


def _numbered_end(text: str) -> bool:
    """A letter, then a page number after a space at the end ("Treatment 29"); linear (the one regex
    ``[A-Za-z].*\\s\\d{1,3}$`` backtracks quadratically on a long line that does not end so)."""
    m = re.search(r"\s\d{1,3}$", text)
    return bool(m and re.search(r"[A-Za-z]", text[text.rfind("\n", 0, m.start()) + 1:m.start()]))


_EDGE_PUNCT = ".,;:!?()[]{}\"'“”‘’«»-–—/%*•·…"
_VOWELS = set("aeiouyAEIOUY")


def garbled_share(text: str) -> float | None:
    """The share of non-words among the words of a page's text layer, or None when there are too few to judge.
    A word is letters only (any script; inner hyphens and apostrophes allowed), with a vowel when it is Latin and
    longer than two letters; numbers, doses and lone marks ("±", "❏") are left out. A text layer made with a
    broken font encoding reads as symbols and consonant runs: well over half non-words, where no page of the
    twelve guideline PDFs passes 16 % (1,200+ pages measured)."""
    judged = bad = 0
    for tok in text.replace("/", " ").split():
        tok = tok.strip(_EDGE_PUNCT)
        if not tok or any(c.isdigit() for c in tok):
            continue
        if not any(c.isalpha() for c in tok) and len(set(tok)) < 3:  # "±", "❏", "____": table marks, not words
            continue
        judged += 1
        core = tok.replace("-", "").replace("'", "").replace("’", "")
        latin = core.isascii()
        if not core.isalpha() or (latin and len(core) > 2 and not (_VOWELS & set(core))):
            bad += 1
    return bad / judged if judged >= 30 else None


# --- OCR ----------------------------------------------------------------------------------------
def tesseract_available() -> bool:
    return shutil.which("tesseract") is not None


def _ocr_lines(page, pno: int, width: float, height: float, clock: "_Clock") -> list[Line]:
    """The page read by OCR, as lines top to bottom (a blank line between paragraphs)."""
    text = ocr_page(page, timeout=clock.left(120))
    lines = []
    y = height
    for block in re.split(r"\n\s*\n", text):
        for ln in block.splitlines():
            if ln.strip():
                lines.append(Line(ln.strip(), 0, width, y, y - 12, 10, False, pno))
                y -= 12
        y -= 12  # a paragraph break
    return lines


def _garbled_notice(garbled: list[tuple], ocr: bool) -> str:
    """One notice for the file's pages whose text layer is mostly non-words."""
    pages = ", ".join(str(g[0]) for g in garbled[:20]) + (f" and {len(garbled) - 20} more" if len(garbled) > 20 else "")
    worst = max(g[1] for g in garbled)
    failed = [g for g in garbled if len(g) > 2]
    what = f"page{'s' * (len(garbled) > 1)} {pages}: the text layer is garbled (up to {worst:.0%} non-words)"
    if not ocr:
        return f"{what}; indexed as it is: install tesseract-ocr to read such pages by OCR"
    if failed:
        return f"{what}; read by OCR (tesseract) except page {failed[0][0]} ({failed[0][2]}), indexed as it is"
    return f"{what}; read by OCR (tesseract) instead"


def ocr_page(page, timeout: float = 120) -> str:
    """Text of a page image by the tesseract command (Debian's tesseract-ocr)."""
    image = page.render(scale=300 / 72, grayscale=True).to_pil()
    with tempfile.TemporaryDirectory() as tmp:
        img = Path(tmp) / "page.png"
        image.save(img)
        out = subprocess.run(["tesseract", str(img), "stdout"], capture_output=True, text=True, timeout=timeout)
    if out.returncode != 0:
        raise RuntimeError(out.stderr.strip().splitlines()[-1] if out.stderr.strip() else "tesseract failed")
    return out.stdout


OCR_DPI = 300
OCR_MAX_PIXELS = 40_000_000  # a poster-sized page is read at a lower resolution (tesseract's time grows with it)


def ocr_segments(page, pno: int, timeout: float = 300) -> list[Line]:
    """A page image read by tesseract as positioned segments (PDF coordinates), so that the layout rules read it
    as a text page: words of one tesseract line far apart (a table's cells, a column gap) are segments apart."""
    width, height = page.get_size()
    scale = min(OCR_DPI / 72, math.sqrt(OCR_MAX_PIXELS / max(width * height, 1)))
    image = page.render(scale=scale, grayscale=True).to_pil()
    with tempfile.TemporaryDirectory() as tmp:
        img = Path(tmp) / "page.png"
        image.save(img)
        out = subprocess.run(["tesseract", str(img), "stdout", "--psm", "3", "tsv"], capture_output=True, text=True,
                             timeout=timeout)
    if out.returncode != 0:
        raise RuntimeError(out.stderr.strip().splitlines()[-1] if out.stderr.strip() else "tesseract failed")
    lines: dict[tuple[str, str, str], list[tuple[float, float, float, float, str]]] = {}
    for row in out.stdout.splitlines()[1:]:
        f = row.split("\t")
        if len(f) < 12 or f[0] != "5" or not f[11].strip() or float(f[10]) < 0:
            continue
        left, top, w, h = (int(v) / scale for v in f[6:10])
        lines.setdefault((f[2], f[3], f[4]), []).append((left, left + w, height - top, height - top - h, f[11]))
    segs: list[Line] = []
    for words in lines.values():
        top = max(w[2] for w in words)
        bottom = statistics.median(w[3] for w in words)  # the baseline, less the odd descender
        size = max(top - bottom, 1.0)
        cur: list[tuple[float, float, float, float, str]] = []
        for w in sorted(words):
            if cur and w[0] - cur[-1][1] > 1.2 * size:  # a column gap
                segs.append(Line(" ".join(x[4] for x in cur), cur[0][0], cur[-1][1], top, bottom, size, False, pno))
                cur = []
            cur.append(w)
        segs.append(Line(" ".join(x[4] for x in cur), cur[0][0], cur[-1][1], top, bottom, size, False, pno))
    return _ocr_bullets(_ocr_type(segs))


def _ocr_type(segs: list[Line]) -> list[Line]:
    """What a text layer says of its type and OCR cannot: tesseract's box runs from a line's tallest letter to its
    baseline (its descenders move it), so sizes within a band of the page's median are the body size, and a line's
    box gets the descender room a text layer's has (line gaps then read as line gaps, not paragraph breaks); no
    weight is seen, so a line of capitals set apart ("LEVEL 2: AT 6-10 BEDDED PRIMARY HEALTH CENTRE") is the
    emphasis it is set for."""
    if not segs:
        return segs
    body = statistics.median(s.size for s in segs)
    right = max(s.x1 for s in segs)
    prev = None
    for s in segs:
        if 0.75 * body <= s.size <= 1.5 * body:
            s.size = body
        s.bottom -= 0.3 * s.size
        letters = re.sub(r"[^A-Za-z]", "", s.text)
        s.bold = len(letters) >= 12 and letters.isupper() and len(s.text.split()) >= 2
        # a line that stops well short of the column's right edge ended its paragraph or list item when the next
        # one, under it, starts with a capital or a digit (a list whose bullets the scan lost)
        if prev is not None and 0 < prev.bottom - s.top < 2 * body and abs(s.x0 - prev.x0) < 2 * body \
                and right - prev.x1 > 0.25 * (right - prev.x0) and re.match(r"[A-Z0-9]", s.text):
            s.starts = True
        prev = s
    return segs


OCR_BULLET = re.compile(r"^(?:[eo°«©®*¢]|[-—]?[«»]|\+)$")  # how tesseract reads a bullet glyph: never a word here


def _ocr_bullets(segs: list[Line]) -> list[Line]:
    """A bullet read as a letter ("e Globally 17 million …") becomes a bullet; a bullet standing apart from its
    text joins it (it is not a table column)."""
    out: list[Line] = []
    for s in segs:
        words = s.text.split(" ", 1)
        if OCR_BULLET.match(words[0]) and len(words) == 2 and words[1][:1].isupper():
            s.text = "• " + words[1]
        elif OCR_BULLET.match(s.text) or s.text == "•":
            s.text = "•"
        if out and out[-1].text == "•" and out[-1].page == s.page and abs(out[-1].bottom - s.bottom) < s.height \
                and 0 <= s.x0 - out[-1].x1 < 4 * s.height and s.text[:1].isalnum():
            s.text, s.x0 = "• " + s.text, out[-1].x0
            out[-1] = s
            continue
        out.append(s)
    return [s for s in out if s.text != "•"]


def _has_marks(page) -> bool:
    """A page without a text layer that still shows something: an image, or text drawn as vector outlines (paths
    of hundreds of segments; a blank page's frame or rule has a handful)."""
    import pypdfium2.raw as raw

    segments = 0
    for obj in page.get_objects(filter=(2, 3), max_depth=3):  # FPDF_PAGEOBJ_PATH, _IMAGE
        if obj.type == 3:
            return True
        segments += max(raw.FPDFPath_CountSegments(obj.raw), 0)
        if segments >= 300:
            return True
    return False


# --- whole document -----------------------------------------------------------------------------
def _mend(prev: str, nxt: str, vocab: set[str]) -> str:
    """Join two lines of one paragraph, mending a hyphenated word break."""
    m = re.search(r"([A-Za-z]+)-$", prev[-64:])  # the tail only: a paragraph grows line by line
    n = re.match(r"([a-z]+)", nxt)
    if m and n:
        whole = (m.group(1) + n.group(1)).lower()
        hyph = f"{m.group(1)}-{n.group(1)}".lower()
        if hyph in vocab and whole not in vocab:
            return prev + nxt
        return prev[:-1] + nxt
    return prev + " " + nxt


def _ends_sentence(text: str) -> bool:
    return text.rstrip()[-1:] in (".", "!", "?", ":", ";", ")", "]")  # as [.!?:;)\]]\s*$, without a scan


def parse_pdf(path: Path, ocr: bool | None = None, time_budget: float | None = None) -> ParsedPDF:
    """The PDF's text and structure; a ``PDFError`` when it cannot be read, or takes over ``time_budget`` seconds."""
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as e:
        msg = str(e)
        if "password" in msg.lower():
            raise PDFError("encrypted PDF: needs a password (save an unprotected copy to index it)") from None
        raise PDFError(f"unreadable PDF (truncated or damaged): {msg}") from None
    except Exception as e:  # pragma: no cover - pdfium raises few kinds
        raise PDFError(f"unreadable PDF: {type(e).__name__}: {e}") from None
    try:
        return _parse(pdf, path, tesseract_available() if ocr is None else ocr, _Clock(time_budget))
    finally:
        pdf.close()


class _Clock:
    """The per-file time budget: ``check`` raises a ``PDFError`` once it is spent."""

    def __init__(self, budget: float | None):
        self.budget = budget
        self.end = None if budget is None else time.monotonic() + budget

    def left(self, most: float) -> float:
        return most if self.end is None else max(1.0, min(most, self.end - time.monotonic()))

    def check(self, where: str) -> None:
        if self.end is not None and time.monotonic() > self.end:
            raise PDFError(f"not read within the {self.budget:g} s budget for one file (QA_BOT_FILE_TIME_BUDGET_S; "
                           f"stopped at {where})")


def _parse(pdf, path: Path, ocr: bool, clock: _Clock) -> ParsedPDF:
    read = _read_pages(pdf, ocr, clock)
    page_lines = _drop_running_lines(read, clock)
    sizes = Counter()
    for lines in page_lines:
        for ln in lines:
            sizes[round(ln.size, 1)] += len(ln.text)  # table placeholders have no text
    body = sizes.most_common(1)[0][0] if sizes else 10.0
    vocab = {w.lower() for lines in page_lines for ln in lines for w in re.findall(r"[A-Za-z]+(?:-[A-Za-z]+)*", ln.text)}
    paras = _run_on(_paragraphs(page_lines, vocab, clock), vocab)
    outline = _outline(pdf)
    _mark_headings(paras, outline, body)
    paras = _headed_lists(_condition_items(_gather_units(paras)))
    _mark_recommendations(paras)
    title = _title(pdf, paras, path, body)
    text, sections, page_map = _assemble(paras, title, path.stem)
    return ParsedPDF(text, sections, title, page_map, len(pdf), read.notices, len(outline), read.ocr, read.empty)


@dataclass
class _Pages:
    """What the page-by-page reading gives: each page's lines in reading order, and what was noticed on the way."""

    lines: list[list[Line]] = field(default_factory=list)
    heights: list[float] = field(default_factory=list)
    segs: dict[int, list[Line]] = field(default_factory=dict)  # each page's text segments (for the contents test)
    notices: list[str] = field(default_factory=list)
    ocr: list[tuple[int, float]] = field(default_factory=list)  # (page, seconds) of every page read by OCR
    empty: list[int] = field(default_factory=list)  # blank pages


def _read_pages(pdf, ocr: bool, clock: _Clock) -> _Pages:
    """Every page's lines in reading order: text layer, else OCR; forms, ruled tables, flowcharts, aligned tables."""
    n_pages = len(pdf)
    read = _Pages()
    table_head: list[list[str]] = []  # the header of the last ruled table, for its pages that follow
    garbled: list[tuple] = []  # (page, share of non-words[, why OCR did not replace it])
    for pno in range(1, n_pages + 1):
        clock.check(f"page {pno} of {n_pages}")
        page = pdf[pno - 1]
        width, height = page.get_size()
        read.heights.append(height)
        tp = page.get_textpage()
        segs, turned, upright = _page_segments(page, tp, pno)
        if turned:
            width, height = height, width
        read_by_ocr = False
        if sum(len(s.text) for s in segs) < 3:
            segs = _scanned_page(page, pno, ocr, clock, read)
            if not segs:
                read.lines.append([])
                continue
            turned, read_by_ocr = False, True
            width, height = page.get_size()
        share = None if read_by_ocr else garbled_share(" ".join(s.text for s in segs))
        if share is not None and share >= GARBLED:  # a broken font encoding: the page's image is what it says
            garbled.append((pno, share))
            if ocr:
                try:
                    read.lines.append(_ocr_lines(page, pno, width, height, clock))
                    continue
                except Exception as e:
                    garbled[-1] = (pno, share, f"OCR failed: {e}")
        ordered, segs = _lay_out(page, segs, pno, width, height, turned, table_head)
        if upright and not read_by_ocr:  # a sideways table's page: its upright title above the table
            ordered[:0] = [_join(r, pno) for r in _rows(upright)]
        if tp.count_chars() > PAGE_CHARS or any(len(ln.text) >= LINE_CHARS for ln in ordered):
            read.notices.append(f"page {pno}: text over the budget of {PAGE_CHARS:,} characters a page or "
                                f"{LINE_CHARS:,} a line (overlapping or repeated text?) was left out")
        for ln in ordered:
            ln.text = ln.text.replace("\ufffe", "-").replace("\x02", "-")
        read.lines.append(ordered)
        read.segs[pno] = segs
    if garbled:
        read.notices.append(_garbled_notice(garbled, ocr))
    return read


def _scanned_page(page, pno: int, ocr: bool, clock: _Clock, read: _Pages) -> list[Line]:
    """The segments of a page without a text layer, read by OCR; none for a blank page or when OCR is off or fails
    (noticed in ``read``)."""
    if not _has_marks(page):
        read.empty.append(pno)
        return []
    if not ocr:
        read.notices.append(f"page {pno} has no text layer (a scanned image): skipped; install tesseract-ocr "
                            "to read it by OCR")
        return []
    t0 = time.perf_counter()
    try:
        segs = ocr_segments(page, pno, timeout=clock.left(120))
    except Exception as e:
        read.notices.append(f"page {pno} has no text layer and OCR failed ({e}): skipped")
        return []
    read.ocr.append((pno, time.perf_counter() - t0))
    read.notices.append(f"page {pno} has no text layer: read by OCR (tesseract, {read.ocr[-1][1]:.1f} s)")
    return segs


def _lay_out(page, segs: list[Line], pno: int, width: float, height: float, turned: bool,
             table_head: list[list[str]]) -> tuple[list[Line], list[Line]]:
    """One page's lines in reading order (tables as placeholders of their rows) and the segments they came from."""
    form: list[Line] = []
    page_rows = _rows(segs)
    found = _form_items(page_rows, pno)
    if found is not None:  # a check-list: its items as items, the tick-box columns dropped; the rest as usual
        form = found[1]
        segs = [c for r in page_rows[:found[0]] for c in r]
    ruled = None if turned or form else _ruled_table(page, segs, pno, table_head)
    if ruled is not None:  # a grid of rules with cells of several lines: cells kept together
        segs = ruled[1]
    boxes = [] if turned else _diagram_boxes(page, segs, width, height)
    if boxes:  # a flowchart: each box's text on its own, boxes top to bottom, left to right; the rest as usual
        blocks = _flowchart_blocks(segs, boxes, width)
    else:
        blocks = [(b, False) for b in _reading_order(segs, width)]  # runs of rows in reading order
    ordered: list[Line] = []
    for rows, box in blocks:
        if box:
            lines = [_join(r, pno) for r in rows]
            lines[0].starts = True
            ordered += lines
        else:
            ordered += _block_lines(rows, pno)
    if ruled is not None:  # the table where it stands: after the lines above it
        at = next((n for n, ln in enumerate(ordered) if ln.top < ruled[0][0].top), len(ordered))
        ordered[at:at] = ruled[0]
    return ordered + form, segs


def _flowchart_blocks(segs: list[Line], boxes: list[tuple[tuple, list[Line]]],
                      width: float) -> list[tuple[list[list[Line]], bool]]:
    """A flowchart page's runs of rows (and whether each is a box), boxes top to bottom, left to right; the text
    above and below the boxes stays above and below them."""
    inside = {id(s) for _, g in boxes for s in g}
    placed: list[tuple[float, float, list[list[Line]], bool]] = []
    for rows in _reading_order([s for s in segs if id(s) not in inside], width):
        run: list[list[Line]] = []
        for r in rows:
            if run and any(min(s.bottom for s in run[-1]) > b[3] > max(s.top for s in r) for b, _ in boxes):
                placed.append((max(s.top for s in run[0]), min(s.x0 for s in run[0]), run, False))
                run = []
            run.append(r)
        if run:
            placed.append((max(s.top for s in run[0]), min(s.x0 for s in run[0]), run, False))
    placed += [(b[3], b[0], [r for rows in _reading_order(g, width) for r in rows], True) for b, g in boxes]
    placed.sort(key=lambda p: (-round(p[0] / 8), p[1]))
    return [(rows, box) for _, _, rows, box in placed]


def _block_lines(rows: list[list[Line]], pno: int) -> list[Line]:
    """A run of rows as lines: legend rows one entry a sentence, aligned tables as placeholders of their rows."""
    ordered: list[Line] = []
    # a legend row ("KEY: 1 = No restriction … 3 = Theoretical or proven risks …"): one sentence per entry
    for n, r in enumerate(rows):
        items = [c for c in r if LEGEND.match(c.text)]
        if len(items) >= 2 and len(items) >= len(r) - 1:
            label = r[0].text.rstrip(": ") + ": " if r[0] not in items else ""
            rows[n] = []
            ordered.append(Line("", r[0].x0, r[-1].x1, r[0].top, r[0].bottom, r[0].size, False, pno, table=[
                Para(label + c.text.rstrip(".") + ".", pno, pno, c.size, False) for c in items]))
    rows = [r for r in rows if r]
    k = 0
    header: list[list[Line]] = []  # the last table's header in this block
    for h, i, j in _table_runs(rows):
        for r in rows[k:h]:
            ordered.append(_join(r, pno))
        top = rows[h][0]
        data_first = any(re.search(r"\d", c.text) for c in rows[i][1:])
        if data_first and header:
            # the table goes on after a break (a long cell, a wide gap): under the same header
            table = _table_paras(header + rows[h:j], len(header), pno)
        else:
            # the first aligned row is the header unless header lines stand above it and it holds data
            n_header = i - h if h < i and data_first else i - h + 1
            header = rows[h:h + n_header]
            table = _table_paras(rows[h:j], n_header, pno)
        if table:
            ordered.append(Line("", top.x0, top.x1, top.top, rows[j - 1][0].bottom, top.size, False, pno,
                                table=table))
        else:  # no row came out as a sentence: the lines as they are (nothing is lost)
            ordered += [_join(r, pno) for r in rows[h:j]]
        k = j
    for r in rows[k:]:
        ordered.append(_join(r, pno))
    return ordered


def _drop_running_lines(read: _Pages, clock: _Clock) -> list[list[Line]]:
    """Each page's lines without running headers/footers (margin lines repeated on many pages, digits ignored),
    page numbers and folios; pages of a table of contents emptied."""
    page_lines, heights, n_pages = read.lines, read.heights, len(read.lines)
    counts: Counter[str] = Counter()
    for pno, lines in enumerate(page_lines, 1):
        h = heights[pno - 1]
        seen = {_norm_margin(ln.text) for ln in lines if ln.table is None and (ln.top > h * (1 - MARGIN) or ln.bottom < h * MARGIN)}
        counts.update(seen)
    repeat = max(3, int(0.2 * n_pages))
    # a running footer that names its chapter ("Treatment 29"): the number is the printed page number, which
    # runs with the page index at an offset common to the document; its text recurs on a few pages only
    offsets: Counter[int] = Counter()
    for pno, lines in enumerate(page_lines, 1):
        h = heights[pno - 1]
        for ln in lines:
            m = FOLIO.match(ln.text.strip())
            if ln.table is None and (ln.top > h * (1 - MARGIN) or ln.bottom < h * MARGIN) and m:
                offsets[pno - int(m.group(1) or m.group(2))] += 1
    offset = offsets.most_common(1)[0] if offsets else None
    offset = offset[0] if offset and offset[1] >= 3 else None

    def folio(ln: Line, pno: int) -> bool:
        m = FOLIO.match(ln.text.strip())
        return bool(m and offset is not None and pno - int(m.group(1) or m.group(2)) == offset
                    and counts[_norm_margin(ln.text)] >= 2)

    toc_pages: set[int] = set()
    for pno, lines in enumerate(page_lines, 1):
        clock.check("running headers")
        h = heights[pno - 1]
        keep = []
        for ln in lines:
            in_margin = ln.table is None and (ln.top > h * (1 - MARGIN) or ln.bottom < h * MARGIN)
            if in_margin and (counts[_norm_margin(ln.text)] >= repeat or PAGE_NUMBER.match(ln.text.strip())
                              or folio(ln, pno)):
                continue
            keep.append(ln)
        page_lines[pno - 1] = keep
        if _is_toc_page(keep, read.segs.get(pno)):
            toc_pages.add(pno)
    for pno in toc_pages:
        page_lines[pno - 1] = []
    return page_lines


def _paragraphs(page_lines: list[list[Line]], vocab: set[str], clock: _Clock) -> list[Para]:
    """Lines → paragraphs: a new one at a bullet, a change of size or weight, a gap, a jump of column, a
    recommendation's number or grade line; table placeholders give their rows (with the caption above them)."""
    paras: list[Para] = []
    for pno, lines in enumerate(page_lines, 1):
        clock.check("paragraphs")
        prev: Line | None = None
        for ln in lines:
            if ln.table is not None:
                cap = paras[-1].text if paras and CAPTION.match(paras[-1].text) and paras[-1].page == pno else None
                for t in ln.table:
                    t.caption = cap
                    if WRAP in t.text:  # the search is quadratic in a long run of non-spaces without one
                        t.text = re.sub(r"(\S*)" + WRAP + r"(\S*)", lambda m: _mend(m.group(1), m.group(2), vocab),
                                        t.text)
                paras.extend(ln.table)
                prev = None
                continue
            if CONTINUED.match(ln.text):
                continue
            text = DOT_LEADER.sub(" ", ln.text).strip()
            text = re.sub(r"\s+\d{1,3}$", "", text) if DOT_LEADER.search(ln.text) else text
            if not text:
                continue
            bullet = BULLET.match(text)
            if bullet and len(text) > bullet.end():
                text = "- " + text[bullet.end():]
            cur = paras[-1] if paras and prev is not None else None
            new = (cur is None or cur.kind == "table_row" or bullet is not None or ln.starts
                   or abs(ln.size - prev.size) > 0.12 * prev.size or ln.bold != prev.bold and len(text) < 120
                   or prev.bottom - ln.top > 0.55 * ln.height or ln.top > prev.top + 2 and ln.x0 > prev.x1
                   or GRADE_LINE.match(text) or GRADE_LINE.match(cur.text if cur else "")
                   or (REC_NICE.match(text) or LIST_REC.match(text) or REC_WORD.match(text)) and _ends_sentence(cur.text))
            # a line that runs on from the one above ("… that is indi-" / "vidually planned …"), whatever its
            # font: a run-in bold lead ("RECOMMENDATION: A diet that is") or a box's larger first line
            if new and cur is not None and cur.kind != "table_row" and bullet is None and not ln.starts \
                    and not _ends_sentence(cur.text) and re.match(r"[a-z]", text) \
                    and prev.bottom - ln.top <= 0.55 * ln.height and abs(ln.x0 - prev.x0) < 1.5 * ln.size:
                new = False
            if new:
                paras.append(Para(text, pno, pno, ln.size, ln.bold))
            else:
                cur.text = _mend(cur.text, text, vocab)
                cur.lines += 1
                cur.page_end = pno
            prev = ln
    return paras


def _run_on(paras: list[Para], vocab: set[str]) -> list[Para]:
    """A paragraph broken by a page or column end continues: "… among" / "patients with …"."""
    merged: list[Para] = []
    for p in paras:
        q = merged[-1] if merged else None
        if (q and p.page >= q.page_end and q.kind is None and p.kind is None and not _ends_sentence(q.text)
                and re.match(r"^[a-z(]", p.text) and abs(p.size - q.size) < 0.12 * q.size):
            q.text = _mend(q.text, p.text, vocab)
            at = len(q.text) - len(p.text)
            if p.page > q.page_end:
                q.breaks = [*(q.breaks or []), (at, p.page)]
            q.breaks = [*(q.breaks or []), *((at + o, pg) for o, pg in (p.breaks or []))] or None
            q.page_end = p.page_end
            q.lines += p.lines
            continue
        merged.append(p)
    return merged


def _outline(pdf) -> list[tuple[int, str, int | None]]:
    """(level, title, 1-based page) of every bookmark, depth first."""
    import ctypes

    import pypdfium2.raw as raw

    out: list[tuple[int, str, int | None]] = []

    def walk(parent, level: int) -> None:
        b = raw.FPDFBookmark_GetFirstChild(pdf.raw, parent)
        while b and len(out) < 5000 and level < 12:
            n = raw.FPDFBookmark_GetTitle(b, None, 0)
            buf = ctypes.create_string_buffer(n)
            raw.FPDFBookmark_GetTitle(b, buf, n)
            title = re.sub(r"\s+", " ", buf.raw[:max(n - 2, 0)].decode("utf-16-le", "replace")).strip()
            dest = raw.FPDFBookmark_GetDest(pdf.raw, b)
            idx = raw.FPDFDest_GetDestPageIndex(pdf.raw, dest) if dest else -1
            if title:
                out.append((level, title, idx + 1 if idx >= 0 else None))
            walk(b, level + 1)
            b = raw.FPDFBookmark_GetNextSibling(pdf.raw, b)

    try:
        walk(None, 0)
    except Exception:  # a damaged outline is ignored: layout headings instead
        return []
    return out


def _key(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", text.lower())


def _mark_headings(paras: list[Para], outline: list[tuple[int, str, int | None]], body: float) -> None:
    if outline:
        cursor = 0
        pattern_level: dict[str, int] = {}
        for level, title, page in outline:
            k = _key(title)
            if len(k) < 3:
                continue
            # levels: numbering ("2.3 …" is level 2) wins over the outline's nesting, which some PDFs get wrong
            # (siblings nested in each other); "Recommendation 4" sits where "Recommendation 3" sat
            num = NUMBERED_HEAD.match(title)
            pat = re.match(r"^([A-Za-z]+)\s+\d+[a-z]?\b", title)
            if num:
                lvl = num.group(1).count(".") + 1
            elif pat:
                lvl = pattern_level.setdefault(pat.group(1).lower(), level + 1)
            else:
                lvl = level + 1
            found = None
            for i in range(cursor, len(paras)):
                p = paras[i]
                if page is not None and p.page < page:
                    continue
                if page is not None and p.page > page + 1:
                    break
                pk = _key(p.text)
                if p.kind is None and pk and (pk == k or (len(pk) <= len(k) + 3 and k.startswith(pk) and len(pk) >= 0.6 * len(k))
                                              or (pk.startswith(k) and len(p.text) < len(title) + 60 and p.lines <= 3)):
                    found = i
                    break
            if found is not None:
                paras[found].heading_level = lvl
                paras[found].text = title if _key(paras[found].text) == k else paras[found].text
                cursor = found + 1
            elif page is not None:
                # heading not found on its page: a heading of its own at the page's first paragraph
                i = next((i for i in range(cursor, len(paras)) if paras[i].page >= page), None)
                if i is not None:
                    paras.insert(i, Para(title, paras[i].page, paras[i].page, body * 1.3, True, heading_level=lvl))
                    cursor = i + 1
        return
    # layout headings: larger or bold short lines; numbering gives the level
    head_sizes = sorted({round(p.size, 1) for p in paras if p.size >= body * 1.15 and _heading_like(p)}, reverse=True)
    for p in paras:
        if not _heading_like(p):
            continue
        num = NUMBERED_HEAD.match(p.text)
        bigger = p.size >= body * 1.15
        if bigger or p.bold and (num or p.text.isupper() or len(p.text.split()) <= 8):
            if num:
                p.heading_level = num.group(1).count(".") + 1
            elif bigger:
                p.heading_level = head_sizes.index(round(p.size, 1)) + 1 if round(p.size, 1) in head_sizes else 1
            else:
                p.heading_level = len(head_sizes) + 1


def _heading_like(p: Para) -> bool:
    t = p.text
    if REC_NICE.match(t) and (t.endswith(":") or len(t.split()) > 10):  # "1.3.4 Refer … if they:" recommends
        return False
    return (p.kind is None and p.lines <= 3 and 1 <= len(t.split()) <= 16 and re.search(r"[A-Za-z]{3}", t) is not None
            and not re.search(r"[.,;]$", t) and not t.startswith("- ") and not re.match(r"^[a-z(]", t))


LABEL = re.compile(r"^[A-Z][A-Za-z][\w'/&() -]*[A-Za-z)]$")  # words only: no number, no sentence end


CONDITION = re.compile(r"^- (?:in ?case of|if|when|for patients?)\b[^\d.;:]*$", re.I)
DOSE = re.compile(r"\d\s*(?:mg|mcg|µg|g|ml|iu|units?)\b", re.I)


BROKEN_OFF = re.compile(r"\b(?:of|to|the|in|with|and|or|for|a|an|by)$", re.I)
# a verb that makes an item a statement or an instruction ("- Give aspirin 300 mg"), not a noun phrase
ITEM_VERB = re.compile(r"\b(?:is|are|was|were|be|been|has|have|had|does|did|can|could|may|might|must|shall|should|"
                       r"will|would|give|take|use|start|stop|avoid|consider|refer|offer|check|repeat|continue)\b", re.I)


def _headed_lists(paras: list[Para]) -> list[Para]:
    """Items that are no sentence ("- Chest pain of >30 min and < 12 hrs", "- New LBBB on ECG") listed right under
    a heading ("Eligibility for thrombolytic therapy"): one paragraph led by the heading, "Eligibility for
    thrombolytic therapy: Chest pain of >30 min and < 12 hrs; …", so that no item is read without what it is an
    item of. An item's line broken off after "of" ("… indicative of" / "AMI") is read back onto it first."""
    out: list[Para] = []
    resume = 0
    for i, p in enumerate(paras):
        if i < resume:
            continue
        out.append(p)
        if not p.heading_level:
            continue
        items, j = _items_from(paras, i + 1)
        if len(items) < 2 or any(len(q.text.split()) > 21 or _ends_sentence(q.text) or ITEM_VERB.search(q.text)
                                 for q in items):
            continue
        out.append(Para(f"{p.text.rstrip(' :')}: " + "; ".join(q.text[2:].strip() for q in items), items[0].page,
                        items[-1].page_end, items[0].size, False, sum(q.lines for q in items)))
        resume = j
    return out


def _items_from(paras: list[Para], j: int) -> tuple[list[Para], int]:
    """The "- " items from ``paras[j]`` on (copies, each with a line broken off after "of" read back onto it), and
    the index after them."""
    items: list[Para] = []
    while j < len(paras) and paras[j].text.startswith("- ") and not paras[j].kind and not paras[j].heading_level:
        q = Para(paras[j].text, paras[j].page, paras[j].page_end, paras[j].size, paras[j].bold, paras[j].lines)
        j += 1
        nxt = paras[j] if j < len(paras) else None
        if (nxt is not None and BROKEN_OFF.search(q.text) and not nxt.kind and not nxt.heading_level
                and not nxt.text.startswith("- ") and len(nxt.text.split()) <= 4):
            q.text, q.page_end = f"{q.text} {nxt.text}", nxt.page_end
            j += 1
        items.append(q)
    return items, j


def _condition_items(paras: list[Para]) -> list[Para]:
    """A list item that is only a condition, with no number ("- In case of multidrug resistance in a patient who
    cannot take oral drugs"), over an item that gives a dose ("- Ceftriaxone IV 30 mg/kg q 12 hrs …"): one item,
    "condition: dose", so that the dose is never quoted without the case it is for."""
    out: list[Para] = []
    for q in paras:
        p = out[-1] if out else None
        if (p is not None and not p.kind and not p.heading_level and not q.kind and not q.heading_level
                and CONDITION.match(p.text.rstrip()) and q.text.startswith("- ") and DOSE.search(q.text)
                and not CONDITION.match(q.text)):
            p.text = p.text.rstrip() + ": " + q.text[2:].strip()
            p.page_end, p.lines = q.page_end, p.lines + q.lines
            continue
        out.append(q)
    return out


def _gather_units(paras: list[Para]) -> list[Para]:
    """A numbered recommendation or definition (or a short label) that leads into a list ("1.3.4 Refer … if they:" / "- have an ACR
    of 70 mg/mmol or more" / …) is one paragraph with its items, so that its number, grade and year (printed after
    the last item) belong to all of it: "…if they: have an ACR of 70 mg/mmol or more; have …"."""
    out: list[Para] = []
    i = 0
    while i < len(paras):
        p = paras[i]
        out.append(p)
        i += 1
        lead = p.text.rstrip()
        if p.kind or p.heading_level:
            continue
        labelled = not lead.endswith(":")
        if labelled:
            # a short label over its items, printed without the colon ("Treatment of chronic carrier" / "- …"):
            # read as "Treatment of chronic carrier: …" when two items or more follow it
            if not (LABEL.match(lead) and len(lead.split()) <= 6 and i + 1 < len(paras)
                    and all(q.kind is None and not q.heading_level and q.text.startswith("- ")
                            and len(q.text.split()) <= 20 for q in paras[i:i + 2])):
                continue
            lead += ":"
        numbered = len(lead) >= 30 and (REC_NICE.match(lead) or REC_WORD.match(lead) or LIST_REC.match(lead))
        # or a list's label and its short items ("B. Relative contraindications:" / "- Severe hypertension on
        # presentation (BP > 180/110 mm.Hg.)" / …): each item is read under what it is an item of
        j = i
        while j < len(paras) and j - i < 12 and paras[j].kind is None and not paras[j].heading_level \
                and paras[j].text.startswith("- ") and len(paras[j].text.split()) <= 20:
            j += 1
        if not numbered and (len(lead.split()) > 10 or j == i or j < len(paras) and paras[j].text.startswith("- ")):
            continue
        if labelled:
            p.text = lead
        while i < len(paras) and paras[i].kind is None and not paras[i].heading_level \
                and paras[i].text.startswith("- "):
            q, item = paras[i], paras[i].text[2:].strip()
            glue = " " if re.search(r"(?:[:.,;]|\b(?:or|and))$", p.text) else "; "
            p.text = p.text.rstrip() + glue + item
            at = len(p.text) - len(item)
            if q.page > p.page_end:
                p.breaks = [*(p.breaks or []), (at, q.page)]
            p.breaks = [*(p.breaks or []), *((at - 2 + o, pg) for o, pg in (q.breaks or []))] or None
            p.page_end, p.lines = q.page_end, p.lines + q.lines
            i += 1
    return out


# a recommendation's title with its year, as WHO prints it between the grade line and the text
# ("Intermittent preventive treatment of malaria in pregnancy (2022)"); an abbreviated genus is no sentence end
# ("Reducing the transmissibility of treated P. falciparum infections (2024)")
TITLE_YEAR = re.compile(r"^(?P<title>[A-Z](?:[^.:;]|(?<=\b[A-Z])\.(?=\s[a-z])){2,150}?)\s*\((?P<year>(?:19|20)\d\d)\)$")
RECOMMENDS = re.compile(r"\b(?:recommends?|recommended|suggests?|should|must)\b", re.I)


def _grade_above(paras: list[Para]) -> None:
    """A grade line printed above a titled recommendation (grade line, "Title (2022)", the statement): the
    statement is one unit with its title, strength and year; the grade and title lines are not text of their own
    (nor the grade of the paragraph before them)."""
    for i in range(len(paras) - 2):
        g, t, r = paras[i:i + 3]
        m = TITLE_YEAR.match(t.text.strip())
        if (g.kind or t.kind or r.kind or g.heading_level or r.heading_level or not m
                or not GRADE_LINE.match(g.text) or not RECOMMENDS.search(r.text) or not _ends_sentence(r.text)):
            continue
        r.kind, r.grade, r.year, r.caption = "recommendation", g.text.strip("(). ").rstrip(" ,"), m["year"], m["title"]
        g.kind = t.kind = "drop"


def _mark_recommendations(paras: list[Para]) -> None:
    _grade_above(paras)
    for i, p in enumerate(paras):
        if p.kind or p.heading_level:
            continue
        if XREF_ONLY.match(p.text):  # only a pointer: the recommendation it names is a unit of its own
            p.kind = "drop"
            continue
        m = REC_NICE.match(p.text)
        if m and len(p.text) > 40:
            p.kind, p.rec_number = "recommendation", m.group(1)
            p.text = p.text[m.end():]
        m = REC_WORD.match(p.text)
        if not p.kind and m and len(p.text) > m.end() + 30:
            p.kind, p.rec_number, p.grade = "recommendation", m.group(1), m.group(2)
            p.text = p.text[m.end():]
        c = REC_CATEGORY.search(p.text)
        m = LIST_REC.match(p.text)
        if c and (m or p.kind):
            p.kind = "recommendation"
            p.grade = f"recommendation category {c.group(1)}, evidence type {c.group(2)}"
            if m and not p.rec_number:
                p.rec_number = m.group(1)
                p.text = p.text[m.end():]
        y = REC_YEAR.search(p.text)
        if y and (p.kind or len(p.text) > 40):
            p.kind = p.kind or "recommendation"
            p.year = y.group(1)
            p.text = p.text[:y.start()].rstrip()
        # a grade line under the text grades it: a numbered recommendation's, or a sentence that recommends
        # (WHO prints the grade above its next recommendation, under a numbered heading that is no sentence)
        if not p.grade and i + 1 < len(paras) and paras[i + 1].kind != "drop" and GRADE_LINE.match(paras[i + 1].text) and (
                p.rec_number and p.text.rstrip().endswith(".") or not p.kind and re.search(r"\b(recommends?|suggests?|should)\b", p.text, re.I)):
            p.kind, p.grade = "recommendation", paras[i + 1].text.strip("(). ")
            paras[i + 1].kind = "drop"


def _title(pdf, paras: list[Para], path: Path, body: float) -> str:
    try:
        t = (pdf.get_metadata_dict().get("Title") or "").strip()
    except Exception:
        t = ""
    if len(t.split()) >= 2 and not re.search(r"\.(docx?|pdf|indd|qxd)$|^microsoft word", t, re.I):
        return t
    first = [p for p in paras if p.page <= 2 and p.kind is None and len(p.text.split()) <= 25
             and p.size >= body * 1.15 and re.search(r"[A-Za-z]{3}", p.text)]
    if first:
        big = max(p.size for p in first)
        run: list[str] = []
        for n, p in enumerate(paras):
            if p in first and p.size >= big * 0.85 and (not run or p.text.isupper() == run[0].isupper()):
                run.append(p.text)
            elif run and TITLE_LINK.match(p.text) and n + 1 < len(paras) and paras[n + 1] in first:
                run.append(p.text)  # "CLINICAL GUIDELINES / ON THE / IDENTIFICATION …": a link word set smaller
            elif run:
                break
        title = re.sub(r"\s+", " ", " ".join(run)).strip()
        if 2 <= len(title.split()) <= 30:
            return title
    return path.stem


def _assemble(paras: list[Para], title: str, doc_id: str) -> tuple[str, list[Section], list[tuple[int, int]]]:
    parts: list[str] = []
    sections: list[Section] = []
    page_map: list[tuple[int, int]] = []
    stack: list[tuple[int, str]] = []
    used: dict[str, int] = {}
    pos = 0
    open_sec: dict | None = None

    def sid(name: str) -> str:
        base = f"{doc_id}#{slug(name)}"
        used[base] = used.get(base, 0) + 1
        return base if used[base] == 1 else f"{base}-{used[base]}"

    def close() -> None:
        nonlocal open_sec
        if open_sec and open_sec["end"] > open_sec["start"]:
            sections.append(Section(**{k: v for k, v in open_sec.items() if k != "name"}))
        open_sec = None

    def path() -> list[str]:
        return [title, *[h for _, h in stack]] if title else [h for _, h in stack]

    def emit(p: Para) -> tuple[int, int]:
        nonlocal pos
        if not page_map or page_map[-1][1] != p.page:
            page_map.append((pos, p.page))
        for off, pg in p.breaks or []:  # a paragraph that runs on to the next page
            page_map.append((pos + off, pg))
        start = pos
        parts.append(p.text)
        pos += len(p.text) + 2
        return start, start + len(p.text)

    for p in paras:
        if p.kind == "drop" or not p.text.strip():
            continue
        if p.heading_level:
            close()
            while stack and stack[-1][0] >= p.heading_level:
                stack.pop()
            stack.append((p.heading_level, p.text))
            a, b = emit(p)
            open_sec = {"id": sid(p.text), "heading_path": path(), "start": a, "end": b, "page_start": p.page,
                        "page_end": p.page_end, "name": p.text}
            continue
        if p.kind in ("recommendation", "table_row", "form_item"):
            close()
            a, b = emit(p)
            name = f"rec-{p.rec_number}" if p.rec_number else {"table_row": "row", "form_item": "item"}.get(p.kind, "rec")
            hp = path() + ([re.sub(r"\s+", " ", p.caption)[:160]] if p.caption else [])
            sections.append(Section(id=sid(f"{stack[-1][1] if stack else 'doc'}-{name}"), heading_path=hp,
                                    start=a, end=b, kind=p.kind, rec_number=p.rec_number, grade=p.grade,
                                    date=p.year, page_start=p.page, page_end=p.page_end))
            continue
        if open_sec is None:
            a, b = emit(p)
            open_sec = {"id": sid(stack[-1][1] if stack else "intro"), "heading_path": path(), "start": a, "end": b,
                        "page_start": p.page, "page_end": p.page_end, "name": ""}
        else:
            _, b = emit(p)
            open_sec["end"] = b
            open_sec["page_end"] = p.page_end
    close()
    return "\n\n".join(parts), sections, page_map
