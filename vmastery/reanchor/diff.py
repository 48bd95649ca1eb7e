"""The code of a symbol, old against new, as a reviewer (and the site) reads it."""
from __future__ import annotations

import difflib


def symbol_diff(old_code: str, new_code: str, old_label: str = "old", new_label: str = "new") -> str:
    """A unified diff of two versions of one symbol's code; empty when they are equal.

    The site shows it under a note whose code changed since the note was written, so it keeps
    three lines of context: enough to place an edit, short enough to read beside prose.
    """
    if old_code == new_code:
        return ""
    lines = difflib.unified_diff(old_code.splitlines(), new_code.splitlines(),
                                 fromfile=old_label, tofile=new_label, lineterm="", n=3)
    return "\n".join(lines) + "\n"
