"""The command line: help that teaches, exit codes scripts can trust, annotate's one place."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from vmastery.annotations import note_path
from vmastery.cli import main

from .conftest import ROOT

ANCHOR = "vllm/v1/core/block_pool.py::BlockPool.touch"


def _run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "vmastery.cli", *args], capture_output=True, text=True, cwd=cwd)


def test_help_lists_every_spine_command_and_the_exit_codes() -> None:
    result = _run("--help")
    assert result.returncode == 0
    for command in ("fetch", "index", "check", "annotate", "labs"):
        assert f"    {command}" in result.stdout
    assert "exit codes: 0 done, 1 problems found in the input, 2 the command could not run" in result.stdout


def test_index_find_and_show(capsys) -> None:
    assert main(["--root", str(ROOT), "index", "--find", "BlockPool.get_new_blocks"]) == 0
    assert "vllm/v1/core/block_pool.py::BlockPool.get_new_blocks  (line 333, method)" in capsys.readouterr().out
    assert main(["--root", str(ROOT), "index", "--show", "vllm/v1/core/block_pool.py::Nope"]) == 1


def test_annotate_writes_the_note_at_its_path_once(repo: Path, capsys) -> None:
    assert main(["--root", str(repo), "annotate", ANCHOR, "--phase", "2"]) == 0
    text = (repo / note_path(ANCHOR)).read_text()
    assert text.startswith(f"---\nanchor: {ANCHOR}\nfingerprint: ") and "phase: 2\n" in text
    assert main(["--root", str(repo), "annotate", ANCHOR]) == 2
    assert "already exists" in capsys.readouterr().err
    assert main(["--root", str(repo), "annotate", "vllm/v1/core/block_pool.py::Nope"]) == 2


def test_missing_upstream_is_a_usage_error_with_the_fix(tmp_path: Path) -> None:
    result = _run("--root", str(tmp_path), "check")
    assert result.returncode == 2 and "run `vmastery fetch`" in result.stderr


def test_a_command_that_exits_at_once_still_flushes_its_output_and_exit_code(tmp_path: Path) -> None:
    # `vmastery reanchor` skips interpreter teardown (vmastery.cli.entry); its messages must still arrive.
    result = _run("reanchor", "--to-tree", str(tmp_path / "no-such-tree"))
    assert result.returncode == 2, result
    assert "vmastery reanchor:" in result.stderr
