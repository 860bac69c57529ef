"""Open WebUI's background tasks, answered without the engine, and its native sources.

Open WebUI sends its chat title, tags, follow-up suggestions, search-query generation and autocomplete to the chat
model as one user message shaped "### Task: … JSON format: { "<key>": … } … <chat_history> … </chat_history>".
``recognise`` finds them by that shape (not by the exact wording, which changes between versions); ``reply``
answers in the JSON asked for, from the conversation itself: no retrieval, nothing stored, nothing logged.

* title: the subject of the standalone question ("What is Noonan syndrome?" → "Noonan syndrome");
* tags: "Health" and that subject;
* follow_ups: the follow-up questions the engine suggested with the answer in the chat history (kept in memory by
  ``FollowupMemory``, keyed by a fingerprint of the answer text; a process that did not give the answer suggests
  the usual aspects of the subject instead);
* queries: none (qa_bot searches its own index); text (autocomplete): no completion;
* any other task with a JSON key: the key with an empty value.

``source_events``: the cited passages as Open WebUI "source" events (stream frames ``{"event": {...}}``, which it
stores with the message): the answer's ``[n]`` markers open the n-th passage, with its quoted text.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

from .settings import Settings
from .types import Citation

_TASK_HEAD = re.compile(r"^\s*#{1,4}\s*\**\s*task\s*\**\s*:", re.I)
# the output example: { "title": … }, {"follow_ups": [ … ]}, { "text": "<your_completion>" }
_OUTPUT = re.compile(r"\bjson\b[^{}]{0,400}?\{\s*\"(?P<key>[A-Za-z_][\w-]{0,40})\"\s*:\s*(?P<open>[\[\"{]?)",
                     re.I | re.S)
_HISTORY = re.compile(r"<chat_history>(?P<h>.*?)(?:</chat_history>|$)", re.S | re.I)
_ROLE_LINE = re.compile(r"^(USER|ASSISTANT|SYSTEM):\s?", re.M)
_ASPECTS = ("treatments", "symptoms", "causes", "outlook")


@dataclass(frozen=True)
class Task:
    key: str  # the JSON key asked for: title, tags, follow_ups, queries, text, …
    is_list: bool


def recognise(text: str) -> Task | None:
    """An Open WebUI task prompt ("### Task:" … a JSON output example …), or None for anything else."""
    if not text or not _TASK_HEAD.match(text):
        return None
    m = _OUTPUT.search(text)
    if m is None:
        return None
    return Task(m.group("key").lower(), m.group("open") == "[")


def history_turns(text: str) -> list[tuple[str, str]]:
    """The (role, content) turns of the prompt's <chat_history> ("USER: …" / "ASSISTANT: …" lines)."""
    m = _HISTORY.search(text)
    block = m.group("h") if m else ""
    marks = list(_ROLE_LINE.finditer(block))
    out = []
    for i, mk in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(block)
        out.append((mk.group(1).lower(), block[mk.end():end].strip()))
    return out


def fingerprint(answer_text: str, owner: str = "") -> str:
    """An answer text's key that survives Open WebUI's re-rendering and truncation: its first 300 letters and
    digits, lower-cased, with the API key id it was given to (another key never sees its suggestions)."""
    norm = re.sub(r"[\W_]+", "", answer_text.lower())[:300]
    return hashlib.sha256(f"{owner}\n{norm}".encode("utf-8")).hexdigest()


class FollowupMemory:
    """The follow-up questions suggested with recent answers, by answer fingerprint (in memory, bounded, expiring;
    document headings only: no question or answer text is kept)."""

    def __init__(self, size: int = 2048, ttl: float = 6 * 3600):
        self.size, self.ttl = size, ttl
        self._items: OrderedDict[str, tuple[float, list[str]]] = OrderedDict()
        self._lock = threading.Lock()

    def remember(self, answer_text: str, followups: Sequence[str], owner: str = "") -> None:
        key = fingerprint(answer_text, owner)
        with self._lock:
            self._items[key] = (time.monotonic(), list(followups))
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def recall(self, answer_text: str, owner: str = "") -> list[str] | None:
        with self._lock:
            item = self._items.get(fingerprint(answer_text, owner))
        if item is None or time.monotonic() - item[0] > self.ttl:
            return None
        return item[1]


def _standalone(turns: list[tuple[str, str]], settings: Settings) -> str:
    from .rewrite import standalone_question
    from .types import Turn

    users = [c for r, c in turns if r == "user" and c]
    if not users:
        return ""
    earlier = [Turn(role="user", content=c) for c in users[:-1]]
    return standalone_question(users[-1], earlier, settings.model_copy(update={"llm": None}))  # rules only: cheap


def subject(turns: list[tuple[str, str]], settings: Settings, words: int = 6) -> str:
    """What the conversation is about, in a few words ("Noonan syndrome")."""
    from .rewrite import subject_of, topic_of

    q = _standalone(turns, settings)
    if not q:
        return ""
    s = topic_of(q) or subject_of(q)
    s = " ".join(s.split()[:words]).strip(" ,;:-?")
    return s[:1].upper() + s[1:]


def _followups(turns: list[tuple[str, str]], settings: Settings, memory: FollowupMemory | None,
               owner: str) -> list[str]:
    answers = [c for r, c in turns if r == "assistant" and c]
    if answers and memory is not None:
        known = memory.recall(answers[-1], owner)
        if known is not None:
            return known
    from .rewrite import aspect_question

    topic = subject(turns, settings)
    return [aspect_question(a, topic.lower() if topic.istitle() else topic) for a in _ASPECTS[:3]] if topic else []


def reply(task: Task, prompt: str, settings: Settings, memory: FollowupMemory | None = None, owner: str = "") -> str:
    """The JSON text Open WebUI asked for (``owner``: the id of the API key asking)."""
    turns = history_turns(prompt)
    if task.key == "title":
        value: object = subject(turns, settings) or "Clinical question"
    elif task.key == "tags":
        topic = subject(turns, settings, words=4)
        value = ["Health"] + ([topic] if topic else [])
    elif task.key == "follow_ups":
        value = _followups(turns, settings, memory, owner)
    else:  # queries (qa_bot searches its own index), text (no autocompletion), and keys of newer tasks
        value = [] if task.is_list else ""
    return json.dumps({task.key: value}, ensure_ascii=False)


def source_events(citations: Sequence[Citation], link: dict[int, str] | None = None) -> list[dict]:
    """Open WebUI "source" events, one per citation in [n] order (its [n] markers open the n-th distinct source):
    the document's title as the name, the quoted passage as the document text, the passage link or the source
    URL when there is one."""
    from .render import display_title

    out = []
    for c in citations:
        title = display_title(c)
        url = (link or {}).get(c.n) or c.url
        name = f"[{c.n}] {title}"  # Open WebUI shortens a name past 30 characters: the title alone
        # metadata.source is what Open WebUI tells sources apart by: distinct per citation
        meta = {"source": url if url and url != c.url else f"qa-bot:{c.n}:{c.chunk_id}", "name": name}
        source = {"id": f"qa-bot:{c.n}", "name": name}
        if url:
            meta["url"] = source["url"] = url
        out.append({"type": "source", "data": {"source": source, "document": [c.quote], "metadata": [meta]}})
    return out
