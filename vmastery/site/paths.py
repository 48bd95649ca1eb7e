"""Where things are in the built site, and which symbol index a build reads: shared by every page writer.

Kept apart from the Sphinx extension so the page generators can use it without importing the
extension (which imports them).
"""
from __future__ import annotations

import posixpath
from functools import cache
from pathlib import Path

from ..symbols import SymbolIndex, index_for


@cache
def _index(root: str) -> SymbolIndex:
    return index_for(Path(root), progress=False)


def index_of(env) -> SymbolIndex:
    return _index(env.config.vmastery_root)


def source_uri(docname: str, path: str, qualname: str | None = None) -> str:
    """The URL of a file's source page (and symbol), relative to the page of `docname`."""
    target = f"source/{path}.html"
    uri = posixpath.relpath(target, posixpath.dirname(docname) or ".")
    return uri + (f"#{qualname}" if qualname else "")


def selected(path: str, only: list[str]) -> bool:
    return not only or any(path == p or path.startswith(p.rstrip("/") + "/") for p in only)


def page_url(from_page: str, to_page: str) -> str:
    return posixpath.relpath(f"{to_page}.html", posixpath.dirname(from_page) or ".")
