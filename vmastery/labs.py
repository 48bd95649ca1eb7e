"""Labs: the contract that keeps each lab's starter and solution from drifting apart.

A lab is a folder `labs/phase-NN/lab-NN-name/` with `README.md`, `solution.py`, `starter.py` and
`test_lab.py`. The solution marks what the learner must write:

    # BEGIN SOLUTION: one-line hint shown to the learner
    ...reference code...
    # END SOLUTION

and `starter.py` is *generated* from it — each region becomes the hint and a `NotImplementedError`
at the region's indentation — so the two cannot disagree about anything but the marked code.
`test_lab.py` grades `solution.py` by default and `starter.py` under `LAB_IMPL=starter`.
"""
from __future__ import annotations

import re
from pathlib import Path

from .errors import Problem
from .files import write_atomic

FILES = ("README.md", "solution.py", "starter.py", "test_lab.py")
TAGS = ("[CPU-OK]", "[GPU-OPT]", "[GPU-REQ]")
BEGIN = re.compile(r"^(?P<indent>[ \t]*)# BEGIN SOLUTION(?::\s*(?P<hint>.*))?$")
END = re.compile(r"^[ \t]*# END SOLUTION\s*$")
HEADER = ("# Generated from solution.py by `vmastery labs sync`: the marked regions are yours to write.\n"
          "# Grade it with: LAB_IMPL=starter pytest {lab}\n")


class RegionError(ValueError):
    def __init__(self, line: int, message: str):
        super().__init__(message)
        self.line = line


def lab_dirs(root: Path) -> list[Path]:
    return sorted(p for p in (root / "labs").glob("phase-*/lab-*") if p.is_dir())


def make_starter(solution: str, lab: str) -> str:
    """The starter text for a solution text; raises RegionError on unbalanced markers."""
    out = [HEADER.format(lab=lab)]
    region_start = None
    regions = 0
    for number, line in enumerate(solution.splitlines(keepends=True), start=1):
        begin, end = BEGIN.match(line.rstrip("\n")), END.match(line.rstrip("\n"))
        if begin:
            if region_start is not None:
                raise RegionError(number, f"BEGIN SOLUTION inside the region opened at line {region_start}")
            region_start, regions = number, regions + 1
            indent, hint = begin.group("indent"), (begin.group("hint") or "write this part").strip()
            out.append(f"{indent}# TODO: {hint}\n{indent}raise NotImplementedError({hint!r})\n")
        elif end:
            if region_start is None:
                raise RegionError(number, "END SOLUTION without a BEGIN SOLUTION")
            region_start = None
        elif region_start is None:
            out.append(line)
    if region_start is not None:
        raise RegionError(region_start, "BEGIN SOLUTION is never closed by END SOLUTION")
    if regions == 0:
        raise RegionError(1, "no '# BEGIN SOLUTION' region: the starter would equal the solution")
    return "".join(out)


def check(root: Path) -> tuple[list[Problem], int]:
    problems: list[Problem] = []
    labs = lab_dirs(root)
    for lab in labs:
        rel = lab.relative_to(root).as_posix()
        missing = [f for f in FILES if not (lab / f).exists()]
        if missing:
            problems.append(Problem(rel, 0, "lab-files", f"missing {', '.join(missing)}",
                                    f"every lab has {', '.join(FILES)}"))
            continue
        heading = (lab / "README.md").read_text(encoding="utf-8").split("\n", 1)[0]
        if not any(tag in heading for tag in TAGS):
            problems.append(Problem(f"{rel}/README.md", 1, "lab-tag", "the title line has no hardware tag",
                                    f"end the '# ' title with one of {', '.join(TAGS)}"))
        try:
            expected = make_starter((lab / "solution.py").read_text(encoding="utf-8"), rel)
        except RegionError as error:
            problems.append(Problem(f"{rel}/solution.py", error.line, "lab-regions", str(error),
                                    "pair every '# BEGIN SOLUTION: hint' with a '# END SOLUTION'"))
            continue
        if (lab / "starter.py").read_text(encoding="utf-8") != expected:
            problems.append(Problem(f"{rel}/starter.py", 1, "lab-starter-stale",
                                    "starter.py is not what solution.py generates",
                                    "run `vmastery labs sync` (learners: your own edits here are expected)"))
    return problems, len(labs)


def sync(root: Path, only: list[Path] | None = None) -> list[str]:
    """Regenerate stale starter.py files atomically (all labs, or those under `only`); returns those rewritten."""
    written = []
    chosen = [p.resolve() for p in only or []]
    for lab in lab_dirs(root):
        if chosen and not any(lab.resolve() == c or c in lab.resolve().parents for c in chosen):
            continue
        rel = lab.relative_to(root).as_posix()
        if not (lab / "solution.py").exists():
            continue  # `check` reports the missing file; nothing to generate from
        text = make_starter((lab / "solution.py").read_text(encoding="utf-8"), rel)
        starter = lab / "starter.py"
        if starter.exists() and starter.read_text(encoding="utf-8") == text:
            continue
        write_atomic(starter, text)
        written.append(rel)
    return written
