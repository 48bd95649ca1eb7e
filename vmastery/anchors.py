"""Resolving what prose points at: anchors to symbols or files, and quotes to lines.

The rendering side (site roles and directives) and the checking side (`vmastery check`) both resolve
through these functions, so a reference that passes `check` is exactly one the site can render.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from .symbols import Symbol, SymbolIndex

ANCHOR_SHAPE = re.compile(r"^(?:vllm|csrc)/[\w./-]+\.(?:py|cpp|cc|cu|cuh|h|hpp|inl)(?:::.+)?$")


@dataclass(frozen=True, slots=True)
class Target:
    """What an anchor resolved to: a symbol, or a whole file when the anchor has no `::`."""

    path: str
    symbol: Symbol | None

    @property
    def line(self) -> int:
        return self.symbol.line if self.symbol else 1

    def label(self) -> str:
        """The canonical rendering: `vllm/v1/core/block_pool.py:333 — BlockPool.get_new_blocks()`."""
        if self.symbol is None:
            return self.path
        call = "()" if self.symbol.kind in {"function", "method"} else ""
        return f"{self.path}:{self.symbol.line} — {self.symbol.qualname}{call}"


class AnchorError(ValueError):
    """An anchor that does not resolve; the message says why and suggests the nearest real ones."""


def resolve(index: SymbolIndex, anchor: str) -> Target:
    anchor = anchor.strip()
    if not ANCHOR_SHAPE.match(anchor):
        raise AnchorError(f"'{anchor}' is not an anchor; write PATH::QUALNAME with PATH under vllm/ or csrc/, "
                          "e.g. vllm/v1/core/block_pool.py::BlockPool.get_new_blocks")
    path, sep, qualname = anchor.partition("::")
    if path not in index.by_file:
        close = difflib.get_close_matches(path, index.by_file.keys(), n=3, cutoff=0.6)
        raise AnchorError(f"no file '{path}' in the pinned tree" + _did_you_mean(close))
    if not sep:
        return Target(path, None)
    symbol = index.get(anchor)
    if symbol is None:
        names = [s.qualname for s in index.by_file[path]]
        close = difflib.get_close_matches(qualname, names, n=3, cutoff=0.5)
        raise AnchorError(f"'{qualname}' is not defined in {path}"
                          + _did_you_mean([f"{path}::{c}" for c in close]))
    return Target(path, symbol)


def _did_you_mean(candidates: list[str]) -> str:
    return f"; did you mean {' or '.join(candidates)}?" if candidates else ""


def quoting_lines(index: SymbolIndex, path: str, quote: str, start: int = 1, end: int | None = None) -> list[int]:
    """Numbers of the lines of `path` (from `start` to `end`) that contain `quote`, white space folded."""
    needle = " ".join(quote.split())
    lines = index.lines(path)
    return [number for number in range(start, (end or len(lines)) + 1)
            if needle in " ".join(lines[number - 1].split())]


def find_quote(index: SymbolIndex, symbol: Symbol, quote: str) -> int:
    """The one line of `symbol` that contains `quote` (white space at its ends ignored)."""
    hits = quoting_lines(index, symbol.path, quote, symbol.start, symbol.end)
    if len(hits) == 1:
        return hits[0]
    if not hits:
        raise AnchorError(f"no line of {symbol.qualname} contains {quote!r}")
    raise AnchorError(f"{quote!r} matches {len(hits)} lines of {symbol.qualname} "
                      f"({', '.join(map(str, hits[:5]))}); quote more of the line")
