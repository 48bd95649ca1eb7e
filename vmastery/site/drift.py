"""What changed in the code under a drifted note: the diff from the last re-anchoring run.

A note records the fingerprint of the code it was written against. `vmastery reanchor` writes the
old and new code of every annotated symbol, and their diff, to `.cache/reanchor/latest.json` (never
committed: it holds vLLM code). When a drifted note's fingerprint is the one its old code had in that
report, the diff is exactly what changed since the note was written, and the site shows it under the
note's drift marker. Without that report, or for a note written against still older code, the
marker stands alone rather than showing a diff that would not be the note's.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)
LATEST = Path(".cache") / "reanchor" / "latest.json"


@dataclass(frozen=True)
class CodeChange:
    old_fingerprint: str
    diff: str
    since: str  # "0.22.1 → 0.33.0"


def load(root: Path) -> dict[str, CodeChange]:
    """Anchor -> the code change the last `vmastery reanchor` run found under that note."""
    path = root / LATEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as error:
        logger.warning("%s: unreadable (%s); drifted notes are shown without a diff. Fix: run "
                       "`vmastery reanchor` again to rewrite it.", path, error)
        return {}
    since = f"{data.get('from', '?')} → {data.get('to', '?')}"
    changes: dict[str, CodeChange] = {}
    for item in data.get("items", []):
        if item.get("kind") != "note" or not item.get("diff") or not item.get("old_fingerprint"):
            continue
        change = CodeChange(item["old_fingerprint"], item["diff"], since)
        changes[item["anchor"]] = change  # before --apply the note still names the old anchor
        if item.get("new_anchor"):
            changes[item["new_anchor"]] = change  # after it, the new one
    return changes


def for_note(changes: dict[str, CodeChange], anchor: str, fingerprint: str) -> CodeChange | None:
    """The change to show under a note, only if the note was written against its old code."""
    change = changes.get(anchor)
    return change if change is not None and change.old_fingerprint == fingerprint else None
