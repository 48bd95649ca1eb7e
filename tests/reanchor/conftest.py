"""Two tiny vLLM trees (old and new) and a repository anchored at the old one.

The trees are written here, in our own words, to stage each fate the matcher must tell apart:
a function that stays put, one shifted by an insertion, one edited beyond the threshold, one moved
to another file, one renamed in place, a class renamed with its methods, and one deleted.
"""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

PIN = """---
version: 0.0.1
commit: abc1234
commit_id: gabc1234
sdist: vllm-0.0.1.tar.gz
sdist_sha256: 0000000000000000000000000000000000000000000000000000000000000000
index_url: https://pypi.org/simple
---
# pin
"""

PLANNER = '''
def plan_pages(total_bytes: int, page_bytes: int, layers: int) -> int:
    """How many pages fit when every layer needs one page per block."""
    if page_bytes <= 0 or layers <= 0:
        raise ValueError("page size and layer count must be positive")
    pages = total_bytes // page_bytes // layers
    return max(pages, 0)
'''

OLD = {
    "vllm/core/pool.py": '''
class PagePool:
    """Free pages, handed out first in, first out."""

    def __init__(self, count: int):
        self.free = list(range(count))
        self.used = set()

    def take(self, n: int) -> list[int]:
        if n > len(self.free):
            raise RuntimeError("not enough free pages for this request")
        taken, self.free = self.free[:n], self.free[n:]
        self.used.update(taken)
        return taken

    def give_back(self, pages: list[int]) -> None:
        for page in pages:
            self.used.discard(page)
            self.free.append(page)

    def drop_everything(self) -> None:
        for page in sorted(self.used):
            self.free.append(page)
        self.used.clear()
        self.free.sort()
        assert len(set(self.free)) == len(self.free)
''' + PLANNER,
    "vllm/core/status.py": '''
class SlotState:
    """Reference count of one slot; -1 while it is still being written."""

    def __init__(self, slot: int):
        self.slot = slot
        self.refs = -1

    def ready(self) -> bool:
        return self.refs >= 0 and self.slot >= 0 and self.slot < 1 << 30
''',
    "vllm/core/gone.py": '''
def obsolete_helper(values: list[int]) -> int:
    total = 0
    for value in values:
        total += value * value
    return total
''',
}

NEW = {
    "vllm/core/pool.py": '''
import logging

log = logging.getLogger(__name__)


class PagePool:
    """Free pages, handed out first in, first out."""

    def __init__(self, count: int):
        self.free = list(range(count))
        self.used = set()

    def take(self, n: int) -> list[int]:
        if n > len(self.free):
            raise RuntimeError("not enough free pages for this request")
        taken, self.free = self.free[:n], self.free[n:]
        self.used.update(taken)
        return taken

    def release(self, pages: list[int]) -> None:
        for page in pages:
            self.used.discard(page)
            self.free.append(page)

    def drop_everything(self) -> None:
        log.info("dropping %d pages", len(self.used))
        self.free = sorted(set(self.free) | self.used)
        self.used = set()
''',
    "vllm/core/planning.py": PLANNER,
    "vllm/core/status.py": '''
class ChunkState:
    """Reference count of one slot; -1 while it is still being written."""

    def __init__(self, slot: int):
        self.slot = slot
        self.refs = -1

    def ready(self) -> bool:
        return self.refs >= 0 and self.slot >= 0 and self.slot < 1 << 30
''',
}


def write_tree(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))
    (root / "csrc").mkdir(exist_ok=True)
    return root


@pytest.fixture
def trees(tmp_path: Path) -> tuple[Path, Path]:
    return write_tree(tmp_path / "old", OLD), write_tree(tmp_path / "new", NEW)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository whose upstream/ is the old tree, with notes, a tour, prose and a tracepoint."""
    from vmastery.symbols import SymbolIndex

    root = tmp_path / "repo"
    write_tree(root / "upstream", OLD)
    write_tree(tmp_path / "new", NEW)
    (root / "UPSTREAM_PIN.md").write_text(PIN)
    index = SymbolIndex.build(root / "upstream", None, progress=False)

    def note(anchor: str, body: str) -> None:
        path, _, qual = anchor.partition("::")
        file = root / "annotations" / path / f"{qual}.md"
        file.parent.mkdir(parents=True, exist_ok=True)
        fp = index.get(anchor).fingerprint
        file.write_text(f"---\nanchor: {anchor}\nfingerprint: {fp}\ntags: []\n---\n{body}")

    note("vllm/core/pool.py::PagePool.take", "Takes pages.\n\n```{line} taken, self.free = self.free[:n]\nSlices.\n```\n")
    note("vllm/core/pool.py::PagePool.give_back", "Returns pages; see {anchor}`vllm/core/pool.py::PagePool.take`.\n")
    note("vllm/core/pool.py::plan_pages", "Sizing.\n")
    note("vllm/core/gone.py::obsolete_helper", "About to disappear.\n")
    note("vllm/core/status.py::SlotState.ready", "Ready check.\n")
    tours = root / "annotations" / "tours"
    tours.mkdir(parents=True)
    (tours / "walk.md").write_text("---\ntour: walk\ntitle: A walk\n---\nStart.\n\n"
                                   "```{step} vllm/core/pool.py::PagePool.give_back\n```\n\n"
                                   "```{step} vllm/core/pool.py::plan_pages\n```\n")
    (root / "tracepoints").mkdir()
    (root / "tracepoints" / "pool.yaml").write_text(
        "tracepoints:\n  - anchor: vllm/core/pool.py::plan_pages\n    level: span\n")
    (root / "guide.md").write_text(
        "Sizing lives in {anchor}`the planner <vllm/core/pool.py::plan_pages>`.\n\n"
        "```{upstream} vllm/core/pool.py::PagePool.drop_everything\n:from: for page in sorted(self.used):\n"
        ":to: self.used.clear()\n```\n")
    return root



@pytest.fixture
def staged():
    """`staged(root, files)`: write a small old or new vLLM tree and return its symbol index."""
    from vmastery.symbols import SymbolIndex

    return lambda root, files: SymbolIndex.build(write_tree(root, files), None, progress=False)
