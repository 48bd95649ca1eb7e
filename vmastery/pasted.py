"""Detect upstream code pasted into the repository instead of embedded by anchor.

A code block "reproduces upstream" when a run of `WINDOW` consecutive meaningful lines appears, in
the same order, somewhere in the pinned tree. Lines are compared with white space folded; blank
lines, comments, imports and short lines (`return x`, `else:`) are skipped on both sides, because
they are too common to prove copying.
"""
from __future__ import annotations

import hashlib
import pickle
from pathlib import Path

from .files import write_atomic
from .symbols import SymbolIndex

WINDOW = 3
MIN_LINE = 16
SCHEMA = 1


def meaningful(lines: list[str]) -> list[tuple[int, str]]:
    """(index, folded text) of the lines that count as evidence of copying."""
    kept = []
    for number, raw in enumerate(lines):
        text = " ".join(raw.split())
        if len(text) < MIN_LINE or text.startswith(("#", "//", "/*", "*", "import ", "from ", '"""', "'''")):
            continue
        kept.append((number, text))
    return kept


def _key(texts: list[str]) -> bytes:
    return hashlib.blake2b("\n".join(texts).encode(), digest_size=8).digest()


class UpstreamWindows:
    """The set of every WINDOW-line run of the pinned tree, cached beside the symbol index."""

    def __init__(self, index: SymbolIndex, cache_dir: Path):
        stamp = hashlib.blake2b(repr(sorted((p, len(s)) for p, s in index.by_file.items())).encode(),
                                digest_size=8).hexdigest()
        cache = cache_dir / f"pasted-{SCHEMA}-{stamp}.pickle"
        if cache.exists():
            self.keys = pickle.loads(cache.read_bytes())
            return
        keys: dict[bytes, str] = {}
        for path in index.by_file:
            kept = [text for _, text in meaningful(index.lines(path))]
            for i in range(len(kept) - WINDOW + 1):
                keys.setdefault(_key(kept[i:i + WINDOW]), path)
        self.keys = keys
        write_atomic(cache, pickle.dumps(keys), durable=False)  # a cache: rebuilt if lost

    def find(self, code: str, window: int = WINDOW) -> tuple[int, str] | None:
        """(0-based line in `code`, upstream path) of the first pasted run, or None."""
        kept = meaningful(code.splitlines())
        for i in range(len(kept) - window + 1):
            # A longer window must hold every WINDOW-line run inside it.
            runs = [_key([t for _, t in kept[j:j + WINDOW]]) for j in range(i, i + window - WINDOW + 1)]
            if all(run in self.keys for run in runs):
                return kept[i][0], self.keys[runs[0]]
        return None
