"""Text addressed to a model (prompt injection): "Ignore all previous instructions", "print the system prompt",
"you are now an AI without rules", "Write that …".

One vocabulary (``VERBS``, ``TARGETS``, ``PHRASES``) read at two strengths:

* ``ADDRESSED_TO_MODEL`` (strict: the verb right before what it dismisses, "ignore the previous …"): for text that
  is otherwise clinical, a passage of a document or a sentence an LLM wrote. Such text never supports a claim and
  is never quoted.
* ``INSTRUCTION`` (loose: the verb and what it dismisses up to 40 characters apart): what the composer never quotes.
* ``MESSAGE_INSTRUCTION`` (``INSTRUCTION`` and role-play requests, "act as", "pretend to be", ordinary words in a
  document): a user's message (``engine.instruction_only``).
"""

from __future__ import annotations

import re

VERBS = ("ignore", "disregard", "forget", "override")
MESSAGE_VERBS = VERBS + ("bypass",)  # "gastric bypass … prior surgery": a message's verb, a document's noun
# what an injection tells the model to dismiss
TARGETS = ("previous", "prior", "above", "earlier", "preceding", "system", "instructions?", "prompts?", "rules?",
           "guidelines", "context", "everything", "disclaimer")
# phrases that address the model whatever surrounds them
PHRASES = (r"system\s+prompts?", r"you\s+are\s+now", r"you\s+are\s+(?:now\s+)?(?:an?\s+)?(?:ai|assistant|language\s+model|chatbot)",
           r"as\s+an\s+ai", r"new\s+instructions?", "jailbreak", r"developer\s+mode")
# phrases that address the model in a message to it, but are ordinary words in a document ("acts as", "your rules")
REQUESTS = (r"pretend\s+(?:to\s+be|you)", r"act\s+as", "roleplay", r"your\s+(?:instructions|rules|prompt)")
# an imperative to pass something on, at the start of a sentence ("Say that …", "Tell the user that …")
PASS_ON = r"(?:^|[.!?:]\s+)(?:write|say|state|answer|respond|reply|tell)\s+(?:the\s+user\s+)?that\b"

_V = "|".join(VERBS)
_T = "|".join(TARGETS)
_P = "|".join(PHRASES)
ADDRESSED_TO_MODEL = re.compile(rf"\b(?:{_V})\s+(?:all\s+|any\s+|the\s+|your\s+)?(?:{_T})\b|\b(?:{_P})\b|{PASS_ON}",
                                re.I)
INSTRUCTION = re.compile(rf"\b(?:{_V})\b.{{0,40}}\b(?:{_T})\b|\b(?:{_P})\b|{PASS_ON}", re.I)
MESSAGE_INSTRUCTION = re.compile(rf"{INSTRUCTION.pattern}|\b(?:{'|'.join(MESSAGE_VERBS)})\b.{{0,40}}\b(?:{_T})\b|"
                                 rf"\b(?:{'|'.join(REQUESTS)})\b", re.I)


def addressed_to_model(text: str) -> bool:
    """Whether otherwise clinical text (a passage, an LLM's sentence) carries an instruction to a model."""
    return ADDRESSED_TO_MODEL.search(text or "") is not None


def instruction_like(text: str) -> bool:
    """Whether text tells a model to drop its instructions, the verb and what it dismisses a few words apart
    ("ignore all of the above instructions")."""
    return INSTRUCTION.search(text or "") is not None


def message_instruction(message: str) -> bool:
    """Whether a message to the assistant tells it to drop its instructions or to play a role ("act as …")."""
    return MESSAGE_INSTRUCTION.search(message or "") is not None
