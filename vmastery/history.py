"""Page history from git: who wrote each note, when it last changed, and the recent changes.

One `git log` over `annotations/` gives everything; the site shows the authors and last change on
each note and a Recent changes page, like a wiki's history, with git as the only store. History
changes only on commit, so the site asks once per build (`changes`) and derives the rest from that
answer (`histories`).
"""
from __future__ import annotations

import subprocess
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

RECORD, UNIT = "\x1e", "\x1f"


@dataclass(frozen=True, slots=True)
class Change:
    sha: str
    date: str  # ISO 8601, author date
    author: str
    subject: str
    files: tuple[str, ...]


@dataclass(slots=True)
class NoteHistory:
    authors: Counter = field(default_factory=Counter)  # name -> commits touching the note
    last: Change | None = None


def changes(root: Path, under: str = "annotations", limit: int | None = None) -> list[Change]:
    """Commits touching `under`, newest first; empty outside a git checkout."""
    command = ["git", "-C", str(root), "log", f"--format={RECORD}%H{UNIT}%aI{UNIT}%an{UNIT}%s",
               "--name-only", "--no-renames", "--relative"]  # paths relative to `root`
    if limit:
        command.append(f"-{limit}")
    try:
        out = subprocess.run([*command, "--", under], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return []
    result = []
    for record in out.split(RECORD)[1:]:
        head, _, names = record.partition("\n")
        sha, date, author, subject = head.split(UNIT, 3)
        result.append(Change(sha, date, author, subject, tuple(n for n in names.splitlines() if n)))
    return result


def note_histories(root: Path, under: str = "annotations") -> dict[str, NoteHistory]:
    """Per file under `under`: its authors and its last change."""
    return histories(changes(root, under))


def histories(log: list[Change]) -> dict[str, NoteHistory]:
    """Per file named in `log` (newest first): its authors and its last change."""
    histories: dict[str, NoteHistory] = {}
    for change in log:
        for name in change.files:
            entry = histories.setdefault(name, NoteHistory())
            entry.authors[change.author] += 1
            entry.last = entry.last or change
    return histories
