"""Keep lab starters generated from their solutions, and list the labs.

`vmastery labs sync` rewrites every starter.py from the marked regions of its solution.py;
`vmastery labs list` prints each lab with its hardware tag. Grade one lab with
`pytest labs/phase-NN/lab-NN-name` (the solution) or `LAB_IMPL=starter pytest ...` (your work).
"""
from __future__ import annotations

import argparse
from pathlib import Path

from .. import labs
from ..errors import EXIT_OK, EXIT_PROBLEMS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=["sync", "list"])
    parser.add_argument("paths", nargs="*", type=Path, help="only the labs under these folders (default: all)")


def run(args: argparse.Namespace) -> int:
    if args.action == "sync":
        try:
            written = labs.sync(args.root, args.paths)
        except labs.RegionError as error:
            print(f"line {error.line}: {error}")
            return EXIT_PROBLEMS
        print("\n".join(written) if written else "every starter is up to date")
        return EXIT_OK
    for lab in labs.lab_dirs(args.root):
        title = (lab / "README.md").read_text(encoding="utf-8").split("\n", 1)[0].lstrip("# ")
        print(f"{lab.relative_to(args.root)}  {title}")
    return EXIT_OK
