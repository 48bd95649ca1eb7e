"""The one error shape of the project: where, what is wrong, how to fix it.

Every command that rejects input reports `Problem`s, so a learner or a CI log always sees
`file:line: what is wrong` followed by the fix, and scripts can rely on the exit codes below.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

EXIT_OK = 0
EXIT_PROBLEMS = 1  # the command ran and found problems in the input (check, reanchor review)
EXIT_USAGE = 2  # the command could not do its job: bad arguments, pin mismatch, missing upstream/


@dataclass(frozen=True, slots=True)
class Problem:
    """One finding about one place in the repository."""

    path: str
    line: int  # 1-based; 0 when the problem concerns the whole file
    code: str  # stable identifier, e.g. "anchor-unresolved", so a class can be grepped or silenced
    message: str
    fix: str
    severity: str = "error"  # "error" fails `check`; "warning" (e.g. drift) is reported only

    def render(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.severity}[{self.code}]: {self.message}\n    fix: {self.fix}"


class VmasteryError(Exception):
    """A failure that stops a command; its text is the whole user-facing message."""

    exit_code = EXIT_USAGE


def rel(path: Path, root: Path) -> str:
    """A path as the user should see it: relative to the repository root when inside it."""
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)
