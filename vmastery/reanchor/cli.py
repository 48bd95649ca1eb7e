"""Move every annotation, tour step, prose reference and tracepoint onto another vLLM version.

Each anchor gets one state: unchanged, shifted (same symbol, other lines), changed (code edited
beyond --threshold: re-read the note; the diff is in the JSON report), moved/renamed (found by code
similarity, with evidence and confidence) or orphaned (kept, never deleted). The default is a dry
run that writes the report; --apply rewrites the files atomically, and running it twice is a no-op.

Between two releases the run steps through every release in between (`--via`), as a reader of the
history would, and checks each result against the direct comparison (see chain.py).

Bumping the pin:
  vmastery reanchor --to 0.33.0                  # dry run: read the report it writes
  vmastery reanchor --to 0.33.0 --apply          # rewrite anchors, move notes, keep orphans
  # then set version/commit/sdist/sha256 in UPSTREAM_PIN.md, `vmastery fetch --force`, `vmastery check`

Orphaned notes move to annotations/orphans/ beside a `.orphan.json` record of where their code was.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

from rich.console import Console

from ..errors import EXIT_OK, EXIT_PROBLEMS, VmasteryError, rel
from ..files import write_atomic
from ..pin import read_pin
from .apply import apply, recover
from .fetch import newest_release, tree_for_version
from .match import CHANGE_THRESHOLD
from .plan import Tree, indexes, make_plan, source_tree, trees_between
from .report import invariant, to_json, to_markdown

EXIT_AT_ONCE = True  # every file is written and closed when `run` returns; see `vmastery.cli.entry`


def add_arguments(parser: argparse.ArgumentParser) -> None:
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--to", metavar="VERSION",
                        help="a vLLM release on the package index, or 'latest' (sdist verified by sha256)")
    target.add_argument("--to-tree", metavar="PATH", type=Path, help="a local vLLM checkout or unpacked sdist")
    parser.add_argument("--from-tree", metavar="PATH", type=Path,
                        help="the tree the corpus points at now (default: the pin, or the last --apply)")
    parser.add_argument("--via", metavar="VERSIONS", default="releases",
                        help="releases to step through, comma-separated; 'releases' (default): every final release "
                             "between two released versions; 'none': compare the two trees directly")
    parser.add_argument("--apply", action="store_true", help="rewrite the files (default: dry run)")
    parser.add_argument("--coverage", metavar="PREFIX", nargs="?", const="vllm/v1/",
                        help="also decide every old symbol under PREFIX (default vllm/v1/) for the report")
    parser.add_argument("--threshold", type=float, default=CHANGE_THRESHOLD,
                        help=f"code similarity below which a symbol is 'changed' (default {CHANGE_THRESHOLD})")
    parser.add_argument("--report", metavar="BASE", type=Path,
                        help="write BASE.md and BASE.json (default .cache/reanchor/report-FROM-TO)")
    parser.add_argument("--no-code", action="store_true",
                        help="leave old/new code out of the JSON report (for a report to commit)")


def target_tree(root: Path, args: argparse.Namespace) -> Tree:
    if args.to_tree is not None:
        path = args.to_tree.resolve()
        return Tree(str(path), path, None)
    version = newest_release(read_pin(root).index_url) if args.to == "latest" else args.to
    return Tree(version, tree_for_version(root, version), version)


def run(args: argparse.Namespace) -> int:
    root: Path = args.root
    console = Console(highlight=False)
    recovered = recover(root)
    if recovered:
        console.print(f"reanchor: {recovered}")
    if not 0.0 < args.threshold <= 1.0:
        raise VmasteryError(f"--threshold {args.threshold}: must be in (0, 1], e.g. 0.9")
    new = target_tree(root, args)
    old = Tree(str(args.from_tree.resolve()), args.from_tree.resolve()) if args.from_tree else source_tree(root)
    steps = trees_between(root, old, new, args.via)
    started = time.perf_counter()
    old_index, new_index, *between = indexes(root, [old, new, *steps], True)
    plan = make_plan(root, old, new, old_index, new_index, args.coverage, args.threshold, list(zip(steps, between)))
    seconds = time.perf_counter() - started
    base = args.report or root / ".cache" / "reanchor" / f"report-{Path(old.label).name}-{Path(new.label).name}"
    for suffix, text in ((".md", to_markdown(plan, seconds)), (".json", to_json(plan, not args.no_code, seconds))):
        write_atomic(base.with_name(base.name + suffix), text)
    # the site reads old/new code and diffs here
    write_atomic(root / ".cache" / "reanchor" / "latest.json", to_json(plan, True, seconds))
    inv = invariant(plan)
    counts = ", ".join(f"{n} {s}" for s, n in sorted(plan.counts().items()))
    console.print(f"reanchor {old.label} -> {new.label}: {inv['in']} anchor sites ({counts}) in {seconds:.1f} s")
    if plan.coverage:
        cov = ", ".join(f"{n} {s}" for s, n in sorted(plan.counts(plan.coverage).items()))
        console.print(f"coverage {args.coverage}: {len(plan.coverage)} symbols ({cov})")
    if inv["review"]:
        console.print(f"[yellow]{inv['review']} anchor sites left for review[/]: kept in place; the report lists their candidates")
    console.print(f"report: {rel(base, root)}.md / .json")
    if not args.apply:
        console.print(f"dry run: {len(plan.edits)} files would change; add --apply to write them")
        return EXIT_PROBLEMS if inv["orphaned"] or inv["review"] else EXIT_OK
    changed = apply(root, plan.edits)
    console.print(f"applied: {changed} files written" if changed else "applied: nothing to do")
    return EXIT_PROBLEMS if inv["orphaned"] or inv["review"] else EXIT_OK
