"""Errors with messages meant for people: the CLI and the UI show ``str(err)`` as is."""


class QABotError(Exception):
    """Base class: a clear, one-line message; never a traceback for the user."""


class BadQuestionError(QABotError, ValueError):
    """The question is empty, too long or unreadable."""


class IndexMissingError(QABotError):
    """No index has been built yet in the data directory."""


class StoreUnavailableError(QABotError):
    """The Chroma server (QA_BOT_CHROMA_URL) cannot be reached."""


class BadInputError(QABotError, ValueError):
    """A file or record given by the user cannot be used (history file, eval set, …)."""


class IndexBusyError(QABotError):
    """Another process (named with its PID) is writing to the same index."""
