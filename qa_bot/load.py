"""Load stage: files → ``SourceDocument`` objects with their structure.

Formats: Markdown with YAML front matter, plain text (captured web pages), HTML (trafilatura),
PDF (pypdfium2, with layout: qa_bot/pdf.py) and JSONL records with the shared corpus fields. A directory is walked recursively.
A bad file never stops the others: it becomes a ``LoadError`` naming the file and the reason.
"""

from __future__ import annotations

import codecs
import datetime as _dt
import hashlib
import json
import re
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

import yaml

from .pdf import PDFError, parse_pdf
from .settings import Settings
from .text import slug
from .types import LoadError, LoadResult, Section, SkippedFile, SourceDocument
from .webpage import iso_date_or_none, looks_like_guideline, parse_page

SUPPORTED = {".md", ".markdown", ".txt", ".html", ".htm", ".pdf", ".jsonl"}
IGNORED_NAMES = re.compile(r"^(readme|source_readme|license|changelog)(\..*)?$|\.meta\.ya?ml$|^_meta\.ya?ml$", re.I)
HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$", re.M)
DOC_TYPES = {"guideline", "expert_answer", "comment"}
LABEL = re.compile(r"^\s*([^\n:.!]{3,160}?[?)]?)\s*:\s+(?=\S)")


class InputError(Exception):
    """A file that cannot be loaded; the message says why."""


# --- helpers ---------------------------------------------------------------------------------------
# bumped when loading or chunking changes what an unchanged file becomes, so that the next ingest redoes it
PIPELINE_VERSION = 7  # 3: "is an option", "is reasonable", "may be considered" are recommendation statements
# 4: scanned pages read with their layout; web pages keep their headings; form items; certain glyph repairs
# 5: recommendation units with their list items; sideways tables' titles; OCR'd paragraphs; lists beside bullets
# 6: a grade line printed above a titled recommendation ("Title (2022)") grades that recommendation; a label
#    printed without its colon leads its items; a condition item over a dose item is one item; noun-phrase
#    items under a heading are read as one paragraph led by it
# 7: a recommendation's title may hold an abbreviated genus ("treated P. falciparum infections (2024)")


def doc_hash(doc: SourceDocument) -> str:
    payload = {**doc.model_dump(exclude={"content_hash", "path", "notices", "facts"}), "pipeline": PIPELINE_VERSION}
    if not payload["page_map"]:
        del payload["page_map"]  # documents without pages hash as before
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:32]


def read_text(path: Path, settings: Settings) -> str:
    size = path.stat().st_size
    if size == 0:
        raise InputError("file is empty")
    if size > settings.ingest.max_file_bytes:
        raise InputError(f"file is {size / 1e6:.1f} MB, above the {settings.ingest.max_file_bytes / 1e6:.0f} MB limit "
                         "(QA_BOT_MAX_FILE_BYTES)")
    data = path.read_bytes()
    wide = _decode_wide(data)
    if wide is not None:
        text = wide
    elif b"\x00" in data[:8192]:
        raise InputError("binary content (NUL bytes), not a text file")
    else:
        text = None
    try:
        text = text if text is not None else data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise InputError(f"not valid UTF-8 (byte 0x{data[e.start]:02x} at offset {e.start}); "
                         "convert it to UTF-8 first, e.g. iconv -f cp1252 -t utf-8") from None
    if not text.strip():
        raise InputError("file has no text")
    return text


# --- issue 13: UTF-16/32 files, front matter values of other types, encrypted PDFs --------------------------
_WIDE_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
              (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def _decode_wide(data: bytes) -> str | None:
    """UTF-16/UTF-32 text (with a byte-order mark, or UTF-16 without one: NUL in every other byte), decoded;
    None when the bytes are not such text."""
    for bom, enc in _WIDE_BOMS:
        if data.startswith(bom):
            try:
                text = data.decode(enc)
            except UnicodeDecodeError:
                text = ""
            if not re.search(r"\s", text) or re.search(r"[\x00-\x08\x0e-\x1f\ud800-\udfff]", text):
                raise InputError(f"{enc.upper()} text (it starts with a {enc.upper()} byte-order mark) that does not "
                                 "decode to readable text: save it as UTF-8")
            return text
    head = data[:4096]
    if len(head) >= 8 and len(head) % 2 == 0:
        for enc, zeros in (("utf-16-le", head[1::2]), ("utf-16-be", head[0::2])):
            if zeros.count(0) >= 0.9 * len(zeros):
                try:
                    return data.decode(enc)
                except UnicodeDecodeError:
                    raise InputError("UTF-16 text is not supported in this form: save it as UTF-8") from None
    return None


def _as_text(value: object, field: str) -> str | None:
    """A front matter or record value as the text its field means: YAML dates and numbers become text, lists of
    such values are joined; a mapping cannot be text (InputError naming the field)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, _dt.datetime):
        return value.isoformat()
    if isinstance(value, _dt.date):
        return value.isoformat()
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, (list, tuple)) and all(not isinstance(v, (dict, list, tuple)) for v in value):
        return ", ".join(t for t in (_as_text(v, field) for v in value) if t)
    raise InputError(f"'{field}' must be text, not a {'mapping' if isinstance(value, dict) else type(value).__name__}")


def _doc_id(value: object) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        kind = {dict: "mapping", list: "list", float: "number with a fraction", bool: "true/false"}.get(type(value),
                                                                                                    type(value).__name__)
        raise InputError(f"'id' must be text or a whole number, not a {kind} ({str(value)[:40]!r})")
    return str(value).strip()


def sidecar(path: Path) -> dict:
    for cand in (path.with_suffix(".meta.yaml"), path.with_suffix(".meta.yml")):
        if cand.is_file():
            data = yaml.safe_load(cand.read_text(encoding="utf-8")) or {}
            if not isinstance(data, dict):
                raise InputError(f"sidecar {cand.name} is not a mapping")
            try:
                fixed = {"id": _doc_id(data.get("id")),
                         **{k: _as_text(data.get(k), k) for k in ("title", "doc_type", "collection", "source", "url",
                                                                  "published", "license")}}
                return {**data, **{k: v for k, v in fixed.items() if k in data}}
            except InputError as e:
                raise InputError(f"sidecar {cand.name}: {e}") from None
    return {}


FOLDER_META = ("_meta.yaml", "_meta.yml")


def folder_defaults(path: Path, settings: Settings | None = None) -> dict:
    """Defaults for every file of a folder (doc_type, collection, source, license…): ``_meta.yaml`` in the file's
    folder or any folder above it (the nearest wins, key by key), and over them those given to ``qa-bot ingest``
    (``--doc-type``, ``--collection``: ``Settings.ingest.default_doc_type`` / ``default_collection``). A file's own
    metadata (front matter, ``<file>.meta.yaml``) wins over all of these."""
    out: dict = {}
    for folder in reversed([path.parent, *path.parent.parents]):
        for name in FOLDER_META:
            cand = folder / name
            if cand.is_file():
                try:
                    data = yaml.safe_load(cand.read_text(encoding="utf-8")) or {}
                except yaml.YAMLError as e:
                    raise InputError(f"bad folder defaults {cand}: {str(e).splitlines()[0]}") from None
                if not isinstance(data, dict):
                    raise InputError(f"folder defaults {cand} is not a mapping")
                out.update({k: v for k, v in data.items() if k not in {"id", "title"}})
    if settings is not None:
        out.update({k: v for k, v in {"doc_type": settings.ingest.default_doc_type,
                                      "collection": settings.ingest.default_collection}.items() if v})
    return out


def _check_doc_type(value: str | None, default: str) -> str:
    v = (value or default).strip().lower().replace(" ", "_").replace("-", "_")
    if v not in DOC_TYPES:
        raise InputError(f"unknown doc_type {value!r} (expected one of {sorted(DOC_TYPES)})")
    return v


def markdown_sections(doc_id: str, text: str, title: str | None) -> list[Section]:
    """Sections from '#' headings, each with its heading path; text before the first heading is a section too."""
    heads = list(HEADING.finditer(text))
    sections: list[Section] = []
    stack: list[tuple[int, str]] = []
    used: dict[str, int] = {}

    def add(start: int, end: int, path: list[str]) -> None:
        if not text[start:end].strip():
            return
        base = f"{doc_id}#{slug(path[-1]) if path else 'intro'}"
        used[base] = used.get(base, 0) + 1
        sid = base if used[base] == 1 else f"{base}-{used[base]}"
        sections.append(Section(id=sid, heading_path=path, start=start, end=end))

    first = heads[0].start() if heads else len(text)
    label = LABEL.match(text) if not heads else None
    if label and len(label.group(1).split()) <= 14:
        # a labelled passage ("What are the symptoms of stroke?: …", "Noonan syndrome: …"): the label heads it
        add(0, first, [x for x in [title, label.group(1).strip()] if x])
        return sections
    add(0, first, [title] if title else [])
    for i, m in enumerate(heads):
        level, name = len(m.group(1)), m.group(2).strip()
        while stack and stack[-1][0] >= level:
            stack.pop()
        stack.append((level, name))
        end = heads[i + 1].start() if i + 1 < len(heads) else len(text)
        path = [n for _, n in stack]
        if level == 1 and title and name.strip().rstrip(".") == title.strip().rstrip("."):
            path = [title]
        elif title and path[0] != title:
            path = [title, *path]
        body_start = m.end() + 1
        if text[body_start:end].strip():
            add(m.start(), end, path)
    return sections


# a structured recommendation block: "- Population: … -- adults aged 45 to 49 years / Grade: B / Recommendation: …"
_REC_BLOCK = re.compile(r"^[ \t]*[-*•]?[ \t]*Population:[ \t]*(?P<pop>[^\n]+)\n[ \t]*(?:Grade|Strength):[ \t]*(?P<grade>[^\n]{1,40})\n"
                        r"[ \t]*Recommendation:[ \t]*(?P<rec>\S)", re.M | re.I)


def recommendation_blocks(doc_id: str, text: str, sections: list[Section]) -> list[Section]:
    """Split each structured recommendation block (population, grade, recommendation text) out of its section
    into a section of its own: kind "recommendation", the population as its heading, the grade as metadata,
    the recommendation text (without the labels) as its body, so that one recommendation is one unit."""
    out: list[Section] = []
    for sec in sections:
        blocks = list(_REC_BLOCK.finditer(text, sec.start, sec.end))
        if not blocks:
            out.append(sec)
            continue
        if text[sec.start:blocks[0].start()].strip() and blocks[0].start() > sec.start:
            out.append(sec.model_copy(update={"end": blocks[0].start()}))
        for i, m in enumerate(blocks):
            pop = m.group("pop").strip()
            pop = pop.split(" -- ", 1)[-1].strip() if " -- " in pop else pop
            end = blocks[i + 1].start() if i + 1 < len(blocks) else sec.end
            grade = m.group("grade").strip().rstrip(".")
            out.append(Section(id=f"{sec.id}-rec{i + 1}", heading_path=[*sec.heading_path, pop[:160]],
                               start=m.start("rec"), end=end, kind="recommendation", grade=grade, population=pop))
    return out


def _record_to_doc(rec: dict, where: str, default_collection: str, path: Path) -> SourceDocument:
    if not isinstance(rec, dict):
        raise InputError(f"{where}: a record must be a JSON object")
    text = rec.get("text")
    if not isinstance(text, str) or not text.strip():
        raise InputError(f"{where}: missing or empty 'text'")
    try:
        doc_id = _doc_id(rec.get("id"))
        rec = {**rec, **{k: _as_text(rec.get(k), k) for k in ("title", "doc_type", "collection", "source", "url",
                                                              "published", "license")}}
    except InputError as e:
        raise InputError(f"{where}: {e}") from None
    if not doc_id:
        raise InputError(f"{where}: missing 'id'")
    title = rec.get("title")
    sections: list[Section] = []
    for s in rec.get("sections") or []:
        try:
            start, end = int(s["start"]), int(s["end"])
            heading = s.get("heading")
            if not (0 <= start < end <= len(text) + 1):
                raise ValueError(f"offsets {start}-{end} outside the text")
            sections.append(Section(id=s["id"], heading_path=[x for x in [title, heading] if x], start=start,
                                    end=min(end, len(text)), qtype=s.get("qtype")))
        except (KeyError, TypeError, ValueError) as e:
            raise InputError(f"{where}: bad section {s!r}: {e}") from None
    if not sections:
        sections = markdown_sections(doc_id, text, title)
    sections = recommendation_blocks(doc_id, text, sections)
    return SourceDocument(
        doc_id=doc_id, text=text, title=title, doc_type=_check_doc_type(rec.get("doc_type"), "expert_answer"),
        collection=rec.get("collection") or default_collection, source=rec.get("source"), url=rec.get("url"),
        published=rec.get("published"), license=rec.get("license"), path=str(path), sections=sections)


# --- one loader per format ------------------------------------------------------------------------
def load_markdown(path: Path, settings: Settings) -> list[SourceDocument]:
    import frontmatter

    raw = read_text(path, settings)
    try:
        post = frontmatter.loads(raw)
    except Exception as e:  # yaml errors come in many classes
        raise InputError(f"bad YAML front matter: {str(e).splitlines()[0]}") from None
    meta = {**folder_defaults(path, settings), **dict(post.metadata)}
    if meta.get("id") is None:
        meta["id"] = path.stem
    meta["text"] = post.content
    meta.setdefault("collection", path.parent.name if path.parent.name else "user")
    return [_record_to_doc(meta, str(path), "user", path)]


def load_text_page(path: Path, settings: Settings, raw: str | None = None, meta: dict | None = None) -> list[SourceDocument]:
    raw = raw if raw is not None else read_text(path, settings)
    meta = {**(meta or {}), **folder_defaults(path, settings), **sidecar(path)}
    page = parse_page(raw)
    if not re.search(r"[^\W\d_]{2,}", page.text):
        raise InputError("no readable text after removing the page's navigation")
    doc_id = str(meta.get("id") or path.stem)
    sections = [s.model_copy(update={"id": f"{doc_id}_{s.id}"}) for s in page.sections]
    heads = sorted({h for sec in page.sections for h in sec.heading_path})
    default_type = "guideline" if page.kind == "guideline_page" or (page.kind != "expert_page" and looks_like_guideline(
        meta.get("title") or page.title, heads, page.text, meta.get("source"))) else "expert_answer"
    return [SourceDocument(
        doc_id=doc_id, text=page.text, title=meta.get("title") or page.title, sections=sections,
        doc_type=_check_doc_type(meta.get("doc_type"), default_type),
        collection=meta.get("collection") or path.parent.name or "user", source=meta.get("source"),
        url=meta.get("url"), published=iso_date_or_none(meta.get("published")) or page.published,
        license=meta.get("license"), path=str(path), references=page.references)]


def load_html(path: Path, settings: Settings) -> list[SourceDocument]:
    import trafilatura

    raw = _headings_as_paragraphs(_tables_as_rows(read_text(path, settings)))
    extracted = None
    meta: dict = {}
    try:
        extracted = trafilatura.extract(raw, output_format="markdown", include_comments=True, include_tables=True,
                                        favor_recall=True, with_metadata=False)
        # dates from the page's markup only: no guessing from the URL or from numbers in the text
        md = trafilatura.extract_metadata(raw, date_config={"extensive_search": False, "original_date": True})
        if md is not None:
            meta = {k: v for k, v in {"title": md.title, "url": md.url, "published": md.date}.items() if v}
    except Exception:  # trafilatura raises on some broken documents; fall back to plain text
        extracted = None
    visible = _visible_text(raw)
    if extracted:
        extracted = re.sub(r"(\*\*|__|(?<!\w)[*_](?=\S)|(?<=\S)[*_](?!\w))", "", extracted)  # emphasis marks
        extracted = _plain_inline(extracted)
    # trafilatura drops boilerplate; on broken markup it can drop the content too: fall back to all visible
    # text (the page parser still strips chrome line by line)
    if not extracted or not extracted.strip() or len(extracted) < 0.2 * len(visible):
        extracted = visible
    if not extracted or not extracted.strip():
        raise InputError("HTML page has no readable text")
    # Markdown headings from trafilatura become plain heading lines for the page parser.
    text = mend_spaced_hyphens(HEADING.sub(lambda m: m.group(2), extracted))
    return load_text_page(path, settings, raw=text, meta=meta)


_INLINE_TAG = re.compile(r"</?(?:sup|sub|i|b|em|strong|span|small|u|abbr|font)\b[^>]*>|<br\s*/?>", re.I)
_MD_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!<>|~])")


def _plain_inline(text: str) -> str:
    """Inline markup that the Markdown extraction keeps ("CD4<sup>+</sup>", "kg/m<sup>2</sup>") becomes its text,
    and its escapes ("\\<350") the characters they stand for: a quoted sentence reads as the page does."""
    text = _MD_ESCAPE.sub(r"\1", _INLINE_TAG.sub("", text))
    # a line break of the HTML source inside a paragraph (the next line indented) is a space, not a new paragraph
    return re.sub(r"(?<=\S)[ \t]*\n[ \t]+(?=[^\s\-*#|>•])", " ", text)


def table_row_sentences(headers: list[str], rows: list[list[str]]) -> list[str]:
    """Rows of a table as sentences that keep their column headers: "Opioid: Codeine; Conversion factor: 0.15."."""
    out = []
    for row in rows:
        parts = [f"{h}: {v}" if h else v for h, v in zip([*headers, *[""] * len(row)], row) if v]
        if len(parts) >= 2 or (parts and not headers):
            out.append("; ".join(parts).rstrip(".;") + ".")
    return out


def _tables_as_rows(raw: str) -> str:
    """HTML tables become one paragraph per row, each cell named by its column header."""
    if "<table" not in raw.lower():
        return raw
    try:
        import lxml.html

        tree = lxml.html.fromstring(raw)
    except Exception:  # lxml refuses some byte soups: leave the page as it is
        return raw
    changed = False
    for table in tree.xpath("//table[not(ancestor::table)]"):
        trs = table.xpath(".//tr")
        cells = [[re.sub(r"\s+", " ", c.text_content()).strip() for c in tr.xpath("./th|./td")] for tr in trs]
        cells = [r for r in cells if any(r)]
        if len(cells) < 2 or max(len(r) for r in cells) < 2:
            continue
        first = trs[0].xpath("./th") or table.xpath(".//thead")
        headers, body = (cells[0], cells[1:]) if first else ([], cells)
        div = lxml.html.Element("div")
        caption = table.xpath("./caption")
        if caption:
            p = lxml.html.Element("p")
            p.text = re.sub(r"\s+", " ", caption[0].text_content()).strip()
            div.append(p)
        for sentence in table_row_sentences(headers, body):
            p = lxml.html.Element("p")
            p.text = sentence
            div.append(p)
        div.tail = table.tail
        table.getparent().replace(table, div)
        changed = True
    return lxml.html.tostring(tree, encoding="unicode") if changed else raw


_XML_DECLARATION = re.compile(r"^\ufeff?\s*<\?xml[^>]*\?>")
_HEADING_TAG = re.compile(r"<h([1-6])\b[^>]*>(.*?)</h\1\s*>", re.I | re.S)


def _headings_as_paragraphs(raw: str) -> str:
    """Headings as paragraphs of their own: the extraction drops ``<h2>`` … of some pages (an XHTML e-book
    chapter: every heading lost), and the page parser finds headings among lines by their form. An XML
    declaration goes too (lxml refuses a declared encoding in a decoded string)."""
    raw = _XML_DECLARATION.sub("", raw, count=1)
    return _HEADING_TAG.sub(lambda m: f"<p>{m.group(2)}</p>", raw)


SUFFIX_PART = re.compile(r"(?:[cst]ions?|ments?|ness|it(?:y|ies)|ations?|ically|ances?|ences?|ably|ibly|"
                         r"ous(?:ly)?|tive(?:ly)?|ization)")  # parts no English word starts with


def mend_spaced_hyphens(text: str) -> str:
    """A word broken at a printed line end and re-flowed ("rec- ommended", "HIV- Infected") is joined, but only
    where the document itself spells the whole word elsewhere: "rec- ommended" → "recommended" when "recommended"
    occurs, "HIV- Infected" → "HIV-Infected" when that does; "short- and long-acting" stays."""
    broken = re.compile(r"\b([A-Za-z]+)- ([A-Za-z]+)\b")
    lower = {w.lower() for w in re.findall(r"[A-Za-z]+(?:-[A-Za-z]+)*", broken.sub(" ", text))}

    def fix(m: re.Match) -> str:
        a, b = m.group(1), m.group(2)
        if f"{a}-{b}".lower() in lower:
            return f"{a}-{b}"
        if (a + b).lower() in lower and b.lower() not in lower and b[0].islower():
            return a + b
        if SUFFIX_PART.fullmatch(b) and a[-1].islower():  # "examina- tion": a word never begins so
            return a + b
        return m.group(0)

    return broken.sub(fix, text)


def _visible_text(raw: str) -> str:
    try:
        import lxml.html

        tree = lxml.html.fromstring(raw)
        for bad in tree.xpath("//script|//style|//noscript|//template"):
            bad.drop_tree()
        for block in tree.xpath("//p|//div|//li|//h1|//h2|//h3|//h4|//br|//tr|//section|//article"):
            block.tail = "\n" + (block.tail or "")
        return re.sub(r"\n\s*\n+", "\n\n", tree.text_content()).strip()
    except Exception:  # lxml refuses some byte soups: nothing visible
        return ""


def load_pdf(path: Path, settings: Settings) -> list[SourceDocument]:
    """A PDF with its structure (``qa_bot.pdf``): headings, pages, recommendations, table rows."""
    size = path.stat().st_size
    if size == 0:
        raise InputError("file is empty")
    if size > settings.ingest.max_file_bytes:
        raise InputError(f"file is {size / 1e6:.1f} MB, above the {settings.ingest.max_file_bytes / 1e6:.0f} MB limit")
    t0 = time.perf_counter()
    try:
        parsed = parse_pdf(path, time_budget=settings.ingest.file_time_budget_s)
    except PDFError as e:
        raise InputError(str(e)) from None
    meta = {**folder_defaults(path, settings), **sidecar(path)}
    doc_id = str(meta.get("id") or path.stem)
    if not parsed.text.strip():
        raise InputError(_no_text_reason(parsed))
    prefix = f"{path.stem}#"
    sections = [s.model_copy(update={"id": f"{doc_id}#{s.id.removeprefix(prefix)}"}) for s in parsed.sections]
    title = meta.get("title") or parsed.title
    if meta.get("title") and parsed.title and parsed.title != title:
        sections = [s.model_copy(update={"heading_path": [title, *s.heading_path[1:]]}) if s.heading_path
                    and s.heading_path[0] == parsed.title else s for s in sections]
    return [SourceDocument(
        doc_id=doc_id, text=parsed.text, title=title, sections=sections,
        doc_type=_check_doc_type(meta.get("doc_type"), "guideline"),
        collection=meta.get("collection") or path.parent.name or "user",
        source=meta.get("source"), url=meta.get("url"), published=iso_date_or_none(_str(meta.get("published"))),
        license=meta.get("license"), path=str(path), page_map=parsed.page_map, notices=parsed.notices,
        facts={"pages": parsed.pages, "outline_entries": parsed.outline_entries, "empty_pages": parsed.empty_pages,
               "ocr_pages": [p for p, _ in parsed.ocr], "ocr_seconds": round(sum(t for _, t in parsed.ocr), 2),
               "load_seconds": round(time.perf_counter() - t0, 3)})]


def _no_text_reason(parsed) -> str:
    """Why a PDF gave no text, in one line that says what to do."""
    from .pdf import tesseract_available

    scanned = [n for n in parsed.notices if "has no text layer" in n]
    if scanned and not tesseract_available():
        return (f"PDF has no text layer on {len(scanned)} of its {parsed.pages} pages (scanned images) and OCR is "
                "not available: install tesseract-ocr (Debian/Ubuntu: apt-get install tesseract-ocr; "
                "macOS: brew install tesseract) to read it")
    why = "; ".join(parsed.notices) if parsed.notices else "no text layer"
    return f"PDF has no extractable text ({why})"


def _str(v) -> str | None:
    return None if v is None else str(v)


def iter_jsonl(path: Path, settings: Settings) -> Iterator[SourceDocument | LoadError]:
    """Yields documents, and a LoadError for each bad line (the other lines are still loaded)."""
    text = read_text(path, settings)  # size / encoding / binary checks
    defaults = folder_defaults(path, settings)
    for n, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        where = f"{path}:{n}"
        try:
            rec = json.loads(line)
            if isinstance(rec, dict) and defaults:
                rec = {**defaults, **{k: v for k, v in rec.items() if v is not None}}
            yield _record_to_doc(rec, where, path.stem, path)
        except json.JSONDecodeError as e:
            yield LoadError(path=where, reason=f"malformed JSON ({e.msg} at column {e.colno})")
        except InputError as e:
            yield LoadError(path=where, reason=str(e).removeprefix(where + ": "))
        except Exception as e:  # one record's failure is the record's
            yield LoadError(path=where, reason=_one_line(e))


LOADERS = {".md": load_markdown, ".markdown": load_markdown, ".txt": load_text_page,
           ".html": load_html, ".htm": load_html, ".pdf": load_pdf}


# --- walking ------------------------------------------------------------------------------------
def iter_files(paths: Iterable[Path]) -> Iterator[Path | LoadError]:
    """The supported files under ``paths``. In a folder only files whose real path is inside it are read: a symbolic
    link out of the folder is skipped (a ``SkippedFile`` naming it); a link to a file inside is read once."""
    for p in paths:
        p = Path(p)
        if not p.exists():
            yield LoadError(path=str(p), reason="no such file or directory")
        elif p.is_dir():
            yield from _folder_files(p)
        elif p.suffix.lower() not in SUPPORTED:
            yield LoadError(path=str(p), reason=f"unsupported file type {p.suffix or '(none)'} "
                                                f"(supported: {', '.join(sorted(SUPPORTED))})")
        else:
            yield p


def _folder_files(folder: Path) -> Iterator[Path | LoadError]:
    root = folder.resolve()
    found = [f for f in sorted(folder.rglob("*")) if f.suffix.lower() in SUPPORTED and not IGNORED_NAMES.search(f.name)
             and not any(part.startswith(".") for part in f.relative_to(folder).parts) and f.is_file()]
    read = {f.resolve() for f in found if not f.is_symlink()}  # plain files: a link to one of them adds nothing
    for f in found:
        if not f.is_symlink():
            yield f
            continue
        real = f.resolve()
        if root not in real.parents:
            yield SkippedFile(path=str(f), reason=f"symbolic link to a file outside {folder}: skipped")
        elif real not in read:  # a link to a file that is not otherwise read (a hidden folder, an ignored name)
            read.add(real)
            yield f


def estimate_documents(paths: Iterable[Path]) -> int:
    """How many documents ``paths`` hold (files, plus JSONL lines): the progress bar's total."""
    n = 0
    for item in iter_files(paths):
        if isinstance(item, LoadError):
            continue
        if item.suffix.lower() == ".jsonl":
            try:
                with item.open("rb") as fh:
                    n += sum(1 for line in fh if line.strip())
            except OSError:
                n += 1
        else:
            n += 1
    return n


def iter_documents(paths: Iterable[Path], settings: Settings) -> Iterator[SourceDocument | LoadError]:
    """Every document under ``paths`` (or an error for each bad file/line); duplicate ids are errors."""
    seen: dict[str, str] = {}
    for item in iter_files(paths):
        if isinstance(item, LoadError):
            yield item
            continue
        try:
            if item.suffix.lower() == ".jsonl":
                results: Iterable[SourceDocument | LoadError] = iter_jsonl(item, settings)
            else:
                results = LOADERS[item.suffix.lower()](item, settings)
            for doc in results:
                if isinstance(doc, LoadError):
                    yield doc
                    continue
                if doc.doc_id in seen:
                    yield LoadError(path=doc.path or str(item),
                                    reason=f"duplicate document id {doc.doc_id!r} (already loaded from {seen[doc.doc_id]})")
                    continue
                seen[doc.doc_id] = doc.path or str(item)
                doc.content_hash = doc_hash(doc)
                yield doc
        except InputError as e:
            yield LoadError(path=str(item), reason=str(e).removeprefix(f"{item}: "))
        except OSError as e:
            yield LoadError(path=str(item), reason=f"cannot read file: {e.strerror or e}")
        except Exception as e:  # a file's failure is the file's: one line, the others go on
            yield LoadError(path=str(item), reason=_one_line(e))


def _one_line(e: BaseException) -> str:
    lines = [ln for ln in str(e).strip().splitlines() if ln.strip()]
    return f"{type(e).__name__}: {lines[0].strip()}" if lines else type(e).__name__


def load(paths: Iterable[Path], settings: Settings) -> LoadResult:
    out = LoadResult()
    for item in iter_documents(paths, settings):
        (out.errors if isinstance(item, LoadError) else out.documents).append(item)
    return out
