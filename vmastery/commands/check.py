"""Validate the whole repository against the pinned tree.

Every note, tour, prose reference ({anchor} roles, {upstream}/{step} directives), docstring citation
and tracepoint must resolve; line-note quotes must match one line; front matter must be well formed;
raw HTML and pasted upstream code are refused; drifted notes (code changed since the note's
fingerprint) are warnings, errors with --strict. Exit 0 clean, 1 problems found, 2 could not run.
"""
from __future__ import annotations

import argparse
import json
from dataclasses import asdict

from ..check import run_checks
from ..errors import EXIT_OK, EXIT_PROBLEMS
from ..symbols import index_for


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--strict", action="store_true", help="treat warnings (drift) as errors; CI uses this")
    parser.add_argument("--json", action="store_true", help="print the problems as JSON for tools")


def run(args: argparse.Namespace) -> int:
    report = run_checks(args.root, index_for(args.root), strict=args.strict)
    if args.json:
        print(json.dumps({"problems": [asdict(p) for p in report.problems], "counts": dict(report.counts)}, indent=1))
    else:
        for problem in report.problems:
            print(problem.render())
        counts = ", ".join(f"{n} {what}" for what, n in sorted(report.counts.items()))
        print(f"check: {counts}; {len(report.errors)} errors, {len(report.warnings)} warnings")
    return EXIT_PROBLEMS if report.errors else EXIT_OK
