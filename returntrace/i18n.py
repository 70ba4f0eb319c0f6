"""The marker of text a person reads on the gateway's pages, for its gettext catalogues.

Text defined here (step labels in returntrace.vocab) stays English in the core; the gateway's pages
translate it where they show it (api/http/pages/i18n.py), and `make i18n` extracts every `N_()`.
"""

from __future__ import annotations


def N_(message: str) -> str:  # noqa: N802 (gettext's name for a marker)
    """Marks `message` for the catalogues where it is defined; it is translated where it is shown."""
    return message
