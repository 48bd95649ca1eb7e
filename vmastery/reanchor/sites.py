"""Every place the repository names an upstream anchor, with its exact position, so it can be rewritten.

Anchors appear as text in four shapes, in Markdown, YAML and Python alike:

- the role ``{anchor}`PATH::QUALNAME` `` or ``{anchor}`shown text <PATH::QUALNAME>` ``;
- a directive fence ```` ```{upstream} ANCHOR ```` or ```` ```{step} ANCHOR ````;
- a key `anchor: ANCHOR` (note front matter, tracepoints) or `annotation: ANCHOR` (a tracepoint's note).

Reading them with one set of patterns over plain text, rather than through each file format's parser,
is what lets a rewrite change exactly those characters and leave every other byte of the file alone.
Which files are read is `vmastery check`'s own list (`check.walk`), so the two always agree.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ..anchors import ANCHOR_SHAPE
from ..check import PYTHON_DIRS, walk

ROLE = re.compile(r"\{anchor\}`(?:[^`<>]*<)?(?P<a>[^`<>]+?)>?`")
FENCE = re.compile(r"^[ \t]*(?:`{3,}|~{3,})\{(?P<kind>upstream|step)\}[ \t]+(?P<a>\S+)", re.M)
KEY = re.compile(r"^[ \t]*(?:-[ \t]+)?(?P<kind>anchor|annotation):[ \t]*(?P<q>['\"]?)(?P<a>[^\s'\"#]+)(?P=q)", re.M)
SKIP = ("benchmarks/reanchor/", "annotations/orphans/")  # labelled data and orphans keep old anchors
NOTES = "annotations/"


@dataclass(frozen=True, slots=True)
class Site:
    """One anchor written in one file: `text[start:end] == anchor`."""

    file: str  # repository-relative
    line: int
    kind: str  # note, step, upstream, role, tracepoint, tracepoint-note
    anchor: str
    start: int
    end: int


def files(root: Path) -> list[Path]:
    """The files that may cite upstream: all Markdown, the Python of PYTHON_DIRS, tracepoint YAML."""
    found = walk(root, ".md") + walk(root, ".py", PYTHON_DIRS)
    found += walk(root, ".yaml", ("tracepoints",)) + walk(root, ".yml", ("tracepoints",))
    return sorted(p for p in found if not p.relative_to(root).as_posix().startswith(SKIP))


def scan_text(rel: str, text: str) -> list[Site]:
    """Every anchor site of one file's text, in order of position."""
    sites: list[Site] = []
    is_note = rel.startswith(NOTES) and rel.endswith(".md") and "/tours/" not in rel
    front_end = _front_matter_end(text) if rel.endswith(".md") else 0
    for pattern in (ROLE, FENCE, KEY):
        for match in pattern.finditer(text):
            anchor = match.group("a").strip()
            if not ANCHOR_SHAPE.match(anchor):
                continue
            kind = match.groupdict().get("kind") or "role"
            if pattern is KEY:
                if rel.endswith(".md"):
                    if match.start() >= front_end or kind != "anchor":
                        continue  # only the front matter's key is the note's anchor
                    kind = "note" if is_note else "front-matter"
                else:
                    kind = "tracepoint" if kind == "anchor" else "tracepoint-note"
            start = match.start("a") + (len(match.group("a")) - len(match.group("a").lstrip()))
            sites.append(Site(rel, text.count("\n", 0, start) + 1, kind, anchor, start, start + len(anchor)))
    return sorted(sites, key=lambda s: s.start)


def scan(root: Path) -> list[Site]:
    sites = []
    for path in files(root):
        rel = path.relative_to(root).as_posix()
        sites += scan_text(rel, path.read_text(encoding="utf-8", errors="replace"))
    return sites


def _front_matter_end(text: str) -> int:
    if not text.startswith("---\n"):
        return 0
    end = text.find("\n---", 4)
    return end if end != -1 else 0


def rewrite(text: str, sites: list[Site], mapping: dict[str, str]) -> str:
    """`text` with each site's anchor replaced by `mapping[anchor]` where given; nothing else moves."""
    pieces, cursor = [], 0
    for site in sorted(sites, key=lambda s: s.start):
        target = mapping.get(site.anchor)
        if target is None or target == site.anchor:
            continue
        if text[site.start:site.end] != site.anchor:
            raise ValueError(f"{site.file}:{site.line}: text changed under the scan; run again")
        pieces += [text[cursor:site.start], target]
        cursor = site.end
    pieces.append(text[cursor:])
    return "".join(pieces)
