"""Names in the live code of tours and `{upstream}` blocks link to their definitions.

The directives emit ordinary literal blocks (so every builder can render them) tagged with the file
and line range they show. When a page is written, each tagged block is re-coloured by the same
tree-sitter highlighter as the source pages, whose names already resolve to definitions through the
symbol index; the links are rebased from the source page's folder to the page being written. A name
in a tour's code is therefore one click from its definition, like on the source page itself.
"""
from __future__ import annotations

import hashlib
import html
import posixpath
import re
from functools import lru_cache

from ..symbols import SymbolIndex
from .highlight import Linker, highlight
from .paths import selected

BLOCK = re.compile(r'(<div class="[^"]*\bvm-live-code\b[^"]*">\s*<div class="highlight"><pre>)(.*?)(</pre>)', re.S)
TAG = re.compile(r"\bvm-f-([0-9a-f]{12})\b.*?\bvm-r-(\d+)-(\d+)\b|\bvm-r-(\d+)-(\d+)\b.*?\bvm-f-([0-9a-f]{12})\b")
HREF = re.compile(r'href="([^"]*)"')


def file_tag(path: str) -> str:
    return hashlib.blake2b(path.encode(), digest_size=6).hexdigest()


def classes_for(path: str, first: int, last: int) -> list[str]:
    """The classes a directive puts on a live-code block so the writer can find its source again."""
    return ["vm-live-code", f"vm-f-{file_tag(path)}", f"vm-r-{first}-{last}"]


class LiveCode:
    """Per build: the index, one shared import resolver, and coloured files memoised by path."""

    def __init__(self, index: SymbolIndex, only: list[str]):
        self.index, self.only = index, only
        self.linker = Linker(index)
        self.by_tag = {file_tag(p): p for p in index.by_file}
        self._lines = lru_cache(maxsize=256)(self._colour)

    def _colour(self, path: str) -> tuple[str, ...]:
        def page_of(target: str) -> str | None:  # root-relative; rebased per page in `link`
            return f"source/{target}.html" if selected(target, self.only) else None

        return tuple(highlight(self.index, self.linker, path, page_of).lines)

    def link(self, pagename: str, body: str) -> str:
        """`body` with every tagged live-code block replaced by its linked colouring."""
        base = posixpath.dirname(pagename) or "."

        def rebase(match: re.Match) -> str:
            href = html.unescape(match.group(1))
            return f'href="{html.escape(posixpath.relpath(href.split("#")[0], base) + _fragment(href))}"'

        def replace(match: re.Match) -> str:
            tag = TAG.search(match.group(1))
            if tag is None:
                return match.group(0)
            digest = tag.group(1) or tag.group(6)
            first, last = int(tag.group(2) or tag.group(4)), int(tag.group(3) or tag.group(5))
            path = self.by_tag.get(digest)
            if path is None or not selected(path, self.only):
                return match.group(0)
            lines = self._lines(path)[first - 1:last]
            own_page = f"source/{path}.html"
            rows = []
            for number, line in enumerate(lines, start=first):
                line = re.sub(r'href="#', f'href="{own_page}#', line)
                rows.append(f'<span class="linenos">{number}</span>{HREF.sub(rebase, line)}')
            return match.group(1) + "<span></span>" + "\n".join(rows) + "\n" + match.group(3)

        return BLOCK.sub(replace, body)


def _fragment(href: str) -> str:
    return "#" + href.split("#", 1)[1] if "#" in href else ""
