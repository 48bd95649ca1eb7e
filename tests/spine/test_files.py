"""write_atomic: a file is replaced whole or not at all, and no temporary file is left behind."""
from __future__ import annotations

import os
import stat

import pytest

from vmastery.files import write_atomic


def test_text_and_bytes_replace_the_file(tmp_path):
    path = tmp_path / "deep" / "note.md"
    write_atomic(path, "first ✓\n")
    assert path.read_text(encoding="utf-8") == "first ✓\n"
    write_atomic(path, b"\x00second", durable=False)
    assert path.read_bytes() == b"\x00second"
    assert stat.S_IMODE(path.stat().st_mode) == 0o644  # not mkstemp's private 0o600
    assert sorted(p.name for p in path.parent.iterdir()) == ["note.md"]


def test_a_failed_write_keeps_the_old_file_and_cleans_up(tmp_path, monkeypatch):
    path = tmp_path / "report.json"
    path.write_text('{"old": true}')

    def interrupted(src, dst):
        raise KeyboardInterrupt  # Ctrl-C between writing the new bytes and renaming them

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_atomic(path, '{"new": true}')
    assert path.read_text() == '{"old": true}'
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]
