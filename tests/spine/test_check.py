"""`vmastery check`: each class of error, planted in a scratch project beside the real upstream/."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from vmastery.annotations import note_path
from vmastery.check import run_checks
from vmastery.symbols import SymbolIndex

from .conftest import ROOT

ANCHOR = "vllm/v1/core/block_pool.py::BlockPool.get_new_blocks"


def _note(repo: Path, index: SymbolIndex, anchor: str = ANCHOR, body: str = "Why it exists.\n",
          front: str | None = None, path: str | None = None) -> Path:
    symbol = index.get(anchor)
    fingerprint = symbol.fingerprint if symbol else "0" * 12
    front = front if front is not None else f"anchor: {anchor}\nfingerprint: {fingerprint}\nphase: 2\n"
    target = repo / (path or note_path(anchor))
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(f"---\n{front}---\n{body}")
    return target


def _codes(repo: Path, index: SymbolIndex, strict: bool = False) -> list[tuple[str, int, str]]:
    report = run_checks(repo, index, strict=strict)
    return [(p.path, p.line, p.code) for p in report.errors]


def test_a_clean_note_passes(repo: Path, index: SymbolIndex) -> None:
    _note(repo, index, body="Hands out blocks.\n\n```{line} ret: list[KVCacheBlock] = self.free_block_queue.popleft_n(num_blocks)\nThe one O(n) step.\n```\n")
    report = run_checks(repo, index)
    assert report.problems == [] and report.counts["line notes"] == 1


def test_unresolved_anchor_suggests_the_real_name(repo: Path, index: SymbolIndex) -> None:
    wrong = "vllm/v1/core/block_pool.py::BlockPool.get_new_block"
    _note(repo, index, anchor=wrong)
    report = run_checks(repo, index)
    (problem,) = [p for p in report.errors if p.code == "anchor-unresolved"]
    assert problem.line == 2 and "did you mean" in problem.message and "get_new_blocks" in problem.message


def test_note_at_the_wrong_path_and_duplicates(repo: Path, index: SymbolIndex) -> None:
    _note(repo, index)
    _note(repo, index, path="annotations/elsewhere.md")
    codes = {code for _, _, code in _codes(repo, index)}
    assert {"note-path", "duplicate-note"} <= codes


def test_drift_is_a_warning_and_an_error_under_strict(repo: Path, index: SymbolIndex) -> None:
    _note(repo, index, front=f"anchor: {ANCHOR}\nfingerprint: 000000000000\n")
    report = run_checks(repo, index)
    assert [p.code for p in report.warnings] == ["drift"] and not report.errors
    assert _codes(repo, index, strict=True) == [(note_path(ANCHOR), 3, "drift")]


@pytest.mark.parametrize("front, code, line", [
    ("anchor: x\nfingerprint: 0\ncolour: red\n", "front-matter-key", 4),
    (f"anchor: {ANCHOR}\nfingerprint: not-hex\n", "front-matter-value", 3),
    (f"anchor: {ANCHOR}\nfingerprint: [unclosed\n", "front-matter-yaml", 3),
    (f"anchor: {ANCHOR}\nfingerprint: 8736a65c0733\nphase: 42\n", "front-matter-value", 4),
])
def test_malformed_front_matter(repo: Path, index: SymbolIndex, front: str, code: str, line: int) -> None:
    _note(repo, index, front=front)
    assert (note_path(ANCHOR), line, code) in _codes(repo, index)


def test_missing_front_matter(repo: Path, index: SymbolIndex) -> None:
    path = repo / note_path(ANCHOR)
    path.parent.mkdir(parents=True)
    path.write_text("Just prose.\n")
    assert _codes(repo, index) == [(note_path(ANCHOR), 1, "front-matter-missing")]


@pytest.mark.parametrize("quote, message", [
    ("this text is nowhere in it", "no line of"),
    ("blocks", "shorter than"),
    ("num_blocks", "matches 5 lines"),
])
def test_line_note_quotes_must_match_one_line(repo: Path, index: SymbolIndex, quote: str, message: str) -> None:
    path = _note(repo, index, body=f"Intro.\n\n```{{line}} {quote}\nA note.\n```\n")
    report = run_checks(repo, index)
    (problem,) = report.errors
    assert (problem.path, problem.line) == (note_path(ANCHOR), 8) and message in problem.message
    assert path.read_text().splitlines()[7].startswith("```{line}")


def test_prose_references_raw_html_and_pasted_code_in_course_pages(repo: Path, index: SymbolIndex) -> None:
    upstream = index.lines("vllm/v1/core/block_pool.py")
    symbol = index.get(ANCHOR)
    pasted = "\n".join(upstream[symbol.start - 1:symbol.end])  # read at test time, never committed
    page = repo / "course" / "phase-02" / "00-guide.md"
    page.parent.mkdir(parents=True)
    page.write_text(
        "# Guide\n\n"
        f"Blocks come from {{anchor}}`{ANCHOR}` and from {{anchor}}`{ANCHOR}s`.\n\n"  # line 3
        "<script>alert(1)</script>\n\n"                                                 # line 5
        f"```python\n{pasted}\n```\n\n"                                                # line 7
        f"```{{upstream}} {ANCHOR}\n:from: this quote is nowhere\n```\n"
        "A literal role in code is fine: ``{anchor}`not/checked.py` ``.\n"
    )
    found = _codes(repo, index)
    rel = "course/phase-02/00-guide.md"
    assert (rel, 3, "anchor-unresolved") in found
    assert (rel, 5, "raw-html") in found
    assert any(code == "pasted-upstream" and line > 7 for _, line, code in found)
    assert any(code == "line-quote" for _, _, code in found)
    assert len(found) == 4


def test_tours_need_steps_a_matching_file_name_and_unique_slugs(repo: Path, index: SymbolIndex) -> None:
    tours = repo / "annotations" / "tours"
    (tours / "walk.md").write_text("---\ntour: walk\ntitle: A walk\n---\nNo steps.\n")
    (tours / "other.md").write_text(f"---\ntour: walk\ntitle: Again\n---\n```{{step}} {ANCHOR}\n```\n")
    codes = [code for _, _, code in _codes(repo, index)]
    assert sorted(codes) == ["duplicate-tour", "tour-empty", "tour-path"]


def test_mini_vllm_modules_must_cite_upstream(repo: Path, index: SymbolIndex) -> None:
    (repo / "mini_vllm").mkdir()
    (repo / "mini_vllm" / "block_pool.py").write_text('"""A pool of blocks."""\n')
    (repo / "mini_vllm" / "cited.py").write_text(
        '"""Scheduler.\n\nUpstream: {anchor}`vllm/v1/core/sched/scheduler.py::Scheduler.nope`\n"""\n')
    found = _codes(repo, index)
    assert ("mini_vllm/block_pool.py", 1, "missing-upstream-citation") in found
    assert ("mini_vllm/cited.py", 3, "anchor-unresolved") in found


def test_labs_contract_is_checked(repo: Path, index: SymbolIndex) -> None:
    lab = repo / "labs" / "phase-02" / "lab-01-x"
    lab.mkdir(parents=True)
    (lab / "README.md").write_text("# Lab without a tag\n")
    (lab / "solution.py").write_text("def f():\n    # BEGIN SOLUTION: return one\n    return 1\n    # END SOLUTION\n")
    (lab / "starter.py").write_text("stale\n")
    (lab / "test_lab.py").write_text("")
    codes = [code for _, _, code in _codes(repo, index)]
    assert sorted(codes) == ["lab-starter-stale", "lab-tag"]


def test_cli_reports_file_line_and_fix_with_exit_code_1(repo: Path, index: SymbolIndex) -> None:
    _note(repo, index, anchor="vllm/v1/core/block_pool.py::Nope")
    result = subprocess.run([sys.executable, "-m", "vmastery.cli", "--root", str(repo), "check"],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 1
    assert f"{note_path('vllm/v1/core/block_pool.py::Nope')}:2: error[anchor-unresolved]" in result.stdout
    assert "fix:" in result.stdout


def test_the_repository_itself_passes_check(index: SymbolIndex) -> None:
    report = run_checks(ROOT, index, strict=True)
    assert not report.errors, "\n".join(p.render() for p in report.errors[:20])


def test_an_unwritten_template_note_is_an_error(repo: Path, index: SymbolIndex) -> None:
    from vmastery.annotations import PLACEHOLDER

    _note(repo, index, body=PLACEHOLDER + "\n")
    assert _codes(repo, index) == [(note_path(ANCHOR), 6, "note-unwritten")]
