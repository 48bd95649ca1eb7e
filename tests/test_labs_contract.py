"""Every lab's untouched starter must fail its grader: a lab whose starter passes tests nothing."""
from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

import pytest

from vmastery.labs import RegionError, lab_dirs, make_starter

ROOT = Path(__file__).resolve().parents[1]


def test_make_starter_replaces_regions_at_their_indentation() -> None:
    solution = "def f(x):\n    # BEGIN SOLUTION: double it\n    return 2 * x\n    # END SOLUTION\n"
    starter = make_starter(solution, "labs/x")
    assert "return 2 * x" not in starter
    assert "    raise NotImplementedError('double it')\n" in starter


@pytest.mark.parametrize("bad, line", [
    ("# BEGIN SOLUTION\nx = 1\n", 1),
    ("x = 1\n# END SOLUTION\n", 2),
    ("# BEGIN SOLUTION\n# BEGIN SOLUTION\n# END SOLUTION\n", 2),
    ("x = 1\n", 1),
])
def test_make_starter_rejects_unbalanced_markers(bad: str, line: int) -> None:
    with pytest.raises(RegionError) as error:
        make_starter(bad, "labs/x")
    assert error.value.line == line


def test_every_starter_fails_its_grader(tmp_path: Path) -> None:
    labs = lab_dirs(ROOT)
    if not labs:
        pytest.skip("no labs yet")
    report = tmp_path / "starter.xml"
    env = {**os.environ, "LAB_IMPL": "starter"}
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-m", "not gpu", "-p", "no:cacheprovider",
                    f"--junitxml={report}", *map(str, labs)], cwd=ROOT, env=env, capture_output=True)
    failed: dict[str, int] = defaultdict(int)
    for case in ET.parse(report).iter("testcase"):
        if case.find("failure") is not None or case.find("error") is not None:
            lab = next((l for l in labs if (case.get("classname") or "").replace(".", "/").find(
                l.relative_to(ROOT).as_posix()) >= 0 or l.name.replace("-", "_") in (case.get("classname") or "")), None)
            if lab is not None:
                failed[lab.relative_to(ROOT).as_posix()] += 1
    passing = [l.relative_to(ROOT).as_posix() for l in labs if failed[l.relative_to(ROOT).as_posix()] == 0]
    assert not passing, f"these starters pass their graders untouched: {passing}"
