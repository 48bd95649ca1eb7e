"""Writing a plan's edits so that no interruption can leave a file half-written or an edit half-done.

Protocol (a small write-ahead journal, `.cache/reanchor/journal.json`):

1. every new text is written to a temporary file beside its destination and flushed to disk;
2. the journal, listing each temporary file, its destination and the file it replaces, is written
   (itself through a temporary name) and only then marked committed;
3. temporaries are renamed over their destinations, then moved-away sources are removed;
4. the journal is deleted.

A rename is atomic, so each file is always either its old or its new whole self. If a run dies
before the commit, the next run deletes the temporaries (roll back); after it, the next run
finishes the renames (roll forward). Either way the corpus ends whole and consistent.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from .plan import Edit

JOURNAL = ".cache/reanchor/journal.json"
TMP_SUFFIX = ".reanchor-tmp"


def _write_durable(path: Path, data: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())


def _write_journal(root: Path, entries: list[dict], committed: bool) -> None:
    journal = root / JOURNAL
    tmp = journal.with_name(journal.name + TMP_SUFFIX)
    _write_durable(tmp, json.dumps({"committed": committed, "entries": entries}, indent=1))
    tmp.replace(journal)


def recover(root: Path) -> str | None:
    """Finish or undo an interrupted apply; returns what was done, or None when there was nothing."""
    journal = root / JOURNAL
    if not journal.exists():
        return None
    data = json.loads(journal.read_text(encoding="utf-8"))
    entries = data["entries"]
    if data["committed"]:
        _finish(root, entries)
        outcome = f"finished an interrupted apply ({len(entries)} files)"
    else:
        for entry in entries:
            (root / entry["tmp"]).unlink(missing_ok=True)
        outcome = f"rolled back an interrupted apply ({len(entries)} files untouched)"
    journal.unlink()
    return outcome


def _finish(root: Path, entries: list[dict]) -> None:
    for entry in entries:
        tmp = root / entry["tmp"]
        if tmp.exists():
            tmp.replace(root / entry["dest"])
    for entry in entries:
        if entry["path"] != entry["dest"]:
            (root / entry["path"]).unlink(missing_ok=True)
            _prune(root, (root / entry["path"]).parent)


def _prune(root: Path, folder: Path) -> None:
    """Remove folders a moved note left empty, up to `annotations/`."""
    while folder != root and folder.name != "annotations" and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
        folder = folder.parent


def apply(root: Path, edits: list[Edit], crash_after: int | None = None) -> int:
    """Carry out `edits`; returns how many files changed. `crash_after` is for the interruption tests."""
    recover(root)
    for edit in edits:
        dest = root / edit.dest
        if edit.dest != edit.path and dest.exists():
            raise FileExistsError(f"{edit.dest}: exists already; {edit.path} cannot move there. "
                                  "Merge the two notes by hand, then run again")
    entries = [{"path": e.path, "dest": e.dest, "tmp": e.dest + TMP_SUFFIX} for e in edits]
    _write_journal(root, entries, committed=False)
    for edit, entry in zip(edits, entries):
        _write_durable(root / entry["tmp"], edit.text)
    _write_journal(root, entries, committed=True)
    if crash_after is not None:
        for entry in entries[:crash_after]:
            (root / entry["tmp"]).replace(root / entry["dest"])
        raise KeyboardInterrupt("simulated interruption")
    _finish(root, entries)
    (root / JOURNAL).unlink()
    return len(edits)
