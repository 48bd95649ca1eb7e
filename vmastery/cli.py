"""`vmastery`: the one command line of the project.

Each subcommand is a small module with `add_arguments(parser)` and `run(args) -> int`; this file only
wires them together, so `vmastery --help` reads as the table of contents of the tooling. Exit codes
are the same everywhere: 0 done, 1 the input has problems (see the report), 2 the command could not
run (bad arguments, missing or mismatched upstream/).
"""
from __future__ import annotations

import argparse
import functools
import importlib
import os
import sys
from pathlib import Path

from .errors import EXIT_USAGE, VmasteryError

SUBCOMMANDS = [
    ("fetch", "vmastery.commands.fetch", "recreate upstream/ from the pinned sdist (UPSTREAM_PIN.md)"),
    ("index", "vmastery.commands.index", "build the tree-sitter symbol index; find and show anchors"),
    ("check", "vmastery.commands.check", "validate every note, tour, reference, tracepoint and lab"),
    ("annotate", "vmastery.commands.annotate", "scaffold the sidecar note of one symbol"),
    ("labs", "vmastery.commands.labs", "regenerate lab starters from their solutions"),
    ("site", "vmastery.site.cli", "build the annotated-source site (Sphinx)"),
    ("serve", "vmastery.site.serve", "preview the built site locally; --edit for the wiki mode"),
    ("trace", "vmastery.tracing.cli", "trace one request through vLLM (CPU simulation or GPU)"),
    ("reanchor", "vmastery.reanchor.cli", "move annotations onto another vLLM version"),
]

EPILOG = """\
a first session:
  vmastery fetch                      # upstream/ from the pin (once; verified, idempotent)
  vmastery index --find allocate_slots
  vmastery annotate 'vllm/v1/core/kv_cache_manager.py::KVCacheManager.allocate_slots'
  vmastery check                      # what CI runs on every contribution
  vmastery site && vmastery serve     # read it all in a browser

exit codes: 0 done, 1 problems found in the input, 2 the command could not run.
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vmastery",
        description="Read, check, trace and re-anchor vLLM 0.22.1 with the project's annotations.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--root", type=Path, default=Path.cwd(),
                        help="repository root (default: the current directory)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, module_name, summary in SUBCOMMANDS:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as missing:
            # A subsystem whose optional dependency is absent stays listed and explains itself.
            command = sub.add_parser(name, help=summary)
            command.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
            command.set_defaults(handler=functools.partial(_missing, name, missing.name))
            continue
        command = sub.add_parser(name, help=summary, description=module.__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
        module.add_arguments(command)
        command.set_defaults(handler=module.run, exit_at_once=getattr(module, "EXIT_AT_ONCE", False))
    return parser


def _missing(command: str, package: str | None, args: argparse.Namespace) -> int:
    print(f"vmastery {command}: the Python package '{package}' is not installed.\n"
          "    fix: run ./bootstrap (it installs everything), or pip install -e '.[test]'", file=sys.stderr)
    return EXIT_USAGE


def main(argv: list[str] | None = None) -> int:
    return _run(argv)[0]


def entry() -> None:
    """The `vmastery` console script: `main`, then, for a command that holds big in-memory indexes and
    leaves nothing to clean up (`EXIT_AT_ONCE` in its module), exit without freeing them one by one:
    tearing down thirteen release indexes took 4 s of a 38 s `vmastery reanchor` run."""
    code, args = _run(None)
    if getattr(args, "exit_at_once", False):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


def _run(argv: list[str] | None) -> tuple[int, argparse.Namespace]:
    args = build_parser().parse_args(argv)
    args.root = args.root.resolve()
    try:
        return args.handler(args), args
    except VmasteryError as error:
        print(f"vmastery {args.command}: {error}", file=sys.stderr)
        return error.exit_code, args
    except KeyboardInterrupt:
        print("interrupted; files are written whole or not at all", file=sys.stderr)
        return EXIT_USAGE, args


if __name__ == "__main__":
    entry()
