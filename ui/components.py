"""HTML fragments for the web chat, built from an Answer.

Safety rule: every string that comes from a document or a user (titles, headings, passages, questions,
URLs) goes through ``esc`` (``html.escape``) before it is put in markup, and links are only made from
http(s) URLs. The fragments are shown with ``st.html`` (no Markdown processing, sanitised again by
Streamlit), so ``<script>``, ``onerror=`` or ``*bold*`` in a document render as literal characters.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from urllib.parse import urlparse

from qa_bot.render import (cite_marks, conversation_to_markdown, display_title, grouped, headings, md_escape, reader_notice,
                           reference_entry, reference_groups, searched_line, sentence_text)
from qa_bot.types import Answer, AnswerSentence, Citation

DOC_TYPES = {"guideline": ("Guideline", "green"), "expert_answer": ("Expert answer", "blue"),
             "comment": ("Reader comment", "gray")}

STAGE_LABELS = {"rewrite": "Reading the question…", "retrieve": "Searching the indexed documents…",
                "compose": "Composing the answer from the passages found…", "llm": "Writing the answer…"}

CSS = """<style>
.qa-answer { line-height: 1.55; }
.qa-answer h4 { font-size: 1rem; margin: 0.9rem 0 0.3rem 0; padding: 0; }
.qa-answer ul { margin: 0 0 0.4rem 0; }
.qa-answer p { margin: 0 0 0.4rem 0; }
.qa-cite { font-size: 0.75em; color: #1c6fc1; font-weight: 600; white-space: nowrap; }
.qa-unsupported { font-size: 0.75em; color: #b35c00; }
.qa-searched { font-size: 0.8rem; color: #6b6b6b; margin: 0; }
.qa-notice { font-size: 0.85rem; color: #8a5300; }
.qa-passage { white-space: pre-wrap; font-size: 0.9rem; line-height: 1.5; max-height: 22rem; overflow-y: auto;
  border-left: 3px solid #d0d7de; padding: 0.2rem 0 0.2rem 0.7rem; margin-top: 0.4rem; }
.qa-passage mark { background: #fff0a6; color: inherit; padding: 0 0.1rem; }
.qa-meta { font-size: 0.85rem; line-height: 1.45; }
.qa-meta .qa-title { font-weight: 600; font-size: 0.95rem; }
.qa-refs { font-size: 0.85rem; padding-left: 1.2rem; }
.qa-refs li { margin-bottom: 0.2rem; }
.qa-disclaimer { font-size: 0.78rem; color: #6b6b6b; border-top: 1px solid #e6e6e6; padding-top: 0.35rem;
  margin-top: 0.5rem; }
.qa-badge { display: inline-block; font-size: 0.72rem; font-weight: 600; border-radius: 0.5rem;
  padding: 0.05rem 0.45rem; margin-right: 0.3rem; }
.qa-badge-guideline { background: #dff5e3; color: #1b6b2c; }
.qa-badge-expert_answer { background: #e0ecfb; color: #1a4f8b; }
.qa-badge-comment { background: #ececec; color: #444; }
</style>"""


def esc(value: object) -> str:
    """HTML-escape any value (None → empty), quotes included."""
    return html.escape("" if value is None else str(value), quote=True)


def safe_url(url: str | None) -> str | None:
    """The URL if it is a plain http(s) link, else None (no javascript:, data:, relative or odd URLs)."""
    if not url:
        return None
    try:
        u = urlparse(url.strip())
    except ValueError:
        return None
    if u.scheme.lower() not in ("http", "https") or not u.netloc or any(ch in url for ch in "\"'<> \n\r\t"):
        return None
    return url.strip()


def doc_type_label(doc_type: str) -> str:
    return DOC_TYPES.get(doc_type, (doc_type.replace("_", " ").capitalize(), "gray"))[0]


def doc_type_color(doc_type: str) -> str:
    return DOC_TYPES.get(doc_type, ("", "gray"))[1]


def badge_html(doc_type: str) -> str:
    return f'<span class="qa-badge qa-badge-{esc(doc_type)}">{esc(doc_type_label(doc_type))}</span>'


def merge_spans(spans: Sequence[Sequence[int]], length: int) -> list[tuple[int, int]]:
    """Clip spans to [0, length], drop empty ones, merge overlaps; sorted."""
    out: list[tuple[int, int]] = []
    for s, e in sorted((max(0, int(a)), min(length, int(b))) for a, b in spans):
        if e <= s:
            continue
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def highlight_html(quote: str, spans: Sequence[Sequence[int]]) -> str:
    """The passage, escaped, with the cited sentences wrapped in <mark>."""
    parts: list[str] = []
    pos = 0
    for s, e in merge_spans(spans, len(quote)):
        parts.append(esc(quote[pos:s]))
        parts.append(f'<mark class="qa-hl">{esc(quote[s:e])}</mark>')
        pos = e
    parts.append(esc(quote[pos:]))
    return "".join(parts)


def passage_html(c: Citation) -> str:
    return f'<div class="qa-passage" data-testid="qa-passage">{highlight_html(c.quote, c.spans)}</div>'


def citation_meta_html(c: Citation) -> str:
    """Badge, title, section, source, date and a link to the source URL."""
    rows = [f'{badge_html(c.doc_type)}<span class="qa-title">{esc(display_title(c))}</span>']
    if c.heading and c.heading != display_title(c):
        rows.append(f"Section: {esc(c.heading)}" + (f", p. {c.page}" if c.page is not None else ""))
    elif c.page is not None:
        rows.append(f"Page {c.page}")
    facts = [esc(x) for x in (c.source, c.published) if x]
    if facts:
        rows.append(" · ".join(facts))
    url = safe_url(c.url)
    if url:
        rows.append(f'<a href="{esc(url)}" target="_blank" rel="noopener noreferrer">{esc(url)}</a>')
    return '<div class="qa-meta">' + "<br>".join(rows) + "</div>"


def citation_card_html(c: Citation) -> str:
    return citation_meta_html(c) + passage_html(c)


def _sentence(s: AnswerSentence) -> str:
    mark = f' <span class="qa-cite">{esc(cite_marks(s.citations))}</span>' if s.citations else ""
    flag = ' <span class="qa-unsupported">(not verified against the sources)</span>' if s.supported is False else ""
    return esc(sentence_text(s)) + mark + flag


def answer_html(answer: Answer) -> str:
    """Bottom line, key points under their headings, conflicting evidence (or the abstention text)."""
    h = headings(answer.audience)
    out = ['<div class="qa-answer" data-testid="qa-answer">']
    notice = reader_notice(answer)
    if notice:
        out.append(f'<p class="qa-notice">Note: {esc(notice)}</p>')
    if answer.abstained:
        out.append(f"<p>{esc(answer.abstain_reason or 'The indexed documents do not answer this question.')}</p>")
    for group, sents in grouped(answer):
        if group == "bottom_line":
            out.append(f"<h4>{esc(h['bottom_line'])}</h4><p>" + " ".join(_sentence(s) for s in sents) + "</p>")
        else:
            title = h["conflict"] if group == "conflicting_evidence" else group
            out.append(f"<h4>{esc(title)}</h4><ul>" + "".join(f"<li>{_sentence(s)}</li>" for s in sents) + "</ul>")
    out.append("</div>")
    return "".join(out)


def references_html(citations: Sequence[Citation], title: str) -> str:
    """The numbered reference list, one entry per document (text from ``render.reference_entry``, escaped; URL as
    a link)."""
    if not citations:
        return ""
    items = []
    for group in reference_groups(citations):
        line = esc(reference_entry([c.model_copy(update={"url": None}) for c in group]))
        url = safe_url(next((c.url for c in group if c.url), None))
        if url:
            line += f' — <a href="{esc(url)}" target="_blank" rel="noopener noreferrer">{esc(url)}</a>'
        items.append(f"<li>{line}</li>")
    return (f'<div class="qa-answer"><h4>{esc(title)}</h4>'
            f'<ul class="qa-refs" data-testid="qa-references" style="list-style: none; padding-left: 0">'
            + "".join(items) + "</ul></div>")


def searched_html(answer: Answer) -> str | None:
    """What was searched, when it differs from what was typed (follow-ups, acronyms spelled out)."""
    searched = searched_line(answer)
    if not searched:
        return None
    return (f'<p class="qa-searched" data-testid="qa-searched">{esc(headings(answer.audience)["searched"])}: '
            f"{esc(searched)}</p>")


_SHORTCODE = re.compile(r":(?=[\w+\-/]+:)")
_AUTOLINK = re.compile(r"(?i)\b(https?:|ftp:|mailto:)(//)?")


def md_text(value: object) -> str:
    """Any text for a place Streamlit renders as Markdown (button labels, captions, alerts, status labels): every
    Markdown, KaTeX ($) and HTML character escaped, and emoji/icon shortcodes (":smile:", ":material/x:") broken with
    an invisible word joiner, so the text shows exactly as written and nothing is fetched or formatted."""
    text = md_escape("" if value is None else str(value)).replace("$", "\\$")
    text = _AUTOLINK.sub("\\1\u2060\\2", text)  # "http://…" would become a link, its escapes shown raw
    return _SHORTCODE.sub(":\u2060", text)


def disclaimer_html(text: str) -> str:
    return f'<div class="qa-disclaimer" data-testid="qa-disclaimer">{esc(text)}</div>'


def citation_label(c: Citation) -> str:
    """Label of the button that opens a citation (constant text only: no document string in Markdown)."""
    return f"\\[{c.n}\\] {doc_type_label(c.doc_type)}" + (f", p. {c.page}" if c.page is not None else "")


def history_content(answer: Answer) -> str:
    """What an answer contributes to the conversation history sent with a follow-up."""
    if answer.abstained:
        return answer.abstain_reason or ""
    return " ".join(s.display for s in answer.sentences)


def export_markdown(turns: Sequence[dict], disclaimer: str) -> str:
    """The conversation as Markdown (``render.conversation_to_markdown``): questions, answers with their
    citations, references and disclaimer; a conversation without any answer still ends with the disclaimer."""
    md = conversation_to_markdown([(t["question"], t.get("answer")) for t in turns])
    if not any(t.get("answer") is not None for t in turns):
        md += f"\n**Disclaimer**\n{md_escape(disclaimer)}\n"
    return md
