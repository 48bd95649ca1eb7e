"""Fixtures for the spine tests: the real pinned tree, indexed once per session."""
from __future__ import annotations

from pathlib import Path

import pytest

from vmastery.symbols import SymbolIndex, index_for

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def index() -> SymbolIndex:
    return index_for(ROOT, progress=False)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """An empty project beside the real upstream/ and cache: a place to plant bad input."""
    (tmp_path / "upstream").symlink_to(ROOT / "upstream")
    (tmp_path / ".cache").symlink_to(ROOT / ".cache")
    (tmp_path / "annotations" / "tours").mkdir(parents=True)
    return tmp_path
