"""The return assistant (issue 11): reads what a buyer writes, names the return reason and says when a
person must answer. A pure library (no chain, no gateway); docs/assistant.md describes it.

    from returntrace.assistant import Assistant
    Assistant.load().assess("the bottle teat gave my son a rash")
"""

from returntrace.assistant.assistant import Assistant
from returntrace.assistant.codes import HANDOFF_WHY, LANGUAGES, MAX_TEXT_CHARS, REASONS, UNKNOWN_LANGUAGE, Assessment

__all__ = ["Assessment", "Assistant", "HANDOFF_WHY", "LANGUAGES", "MAX_TEXT_CHARS", "REASONS", "UNKNOWN_LANGUAGE"]
