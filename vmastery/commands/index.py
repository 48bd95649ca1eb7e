"""Build the tree-sitter symbol index of upstream/ and look anchors up in it.

The index covers every class, function, method and nested definition of `vllm/**/*.py` and
`csrc/**` with its qualified name, line span and fingerprint. It is cached in .cache/symbols.json
and rebuilt per file when a file changes. Without options it prints a summary.
"""
from __future__ import annotations

import argparse
import time
from collections import Counter

from ..anchors import AnchorError, resolve
from ..errors import EXIT_OK, EXIT_PROBLEMS
from ..symbols import index_for


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--find", metavar="TEXT", help="list anchors whose qualified name contains TEXT")
    parser.add_argument("--show", metavar="ANCHOR", help="print one symbol: span, fingerprint and code")
    parser.add_argument("--limit", type=int, default=50, help="at most this many --find results (default 50)")


def run(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    index = index_for(args.root)
    if args.find:
        needle = args.find.lower()
        hits = [s for s in index.by_anchor.values() if needle in s.qualname.lower()]
        for symbol in hits[:args.limit]:
            print(f"{symbol.anchor}  (line {symbol.line}, {symbol.kind})")
        if len(hits) > args.limit:
            print(f"... {len(hits) - args.limit} more; narrow the text or raise --limit")
        return EXIT_OK if hits else EXIT_PROBLEMS
    if args.show:
        try:
            target = resolve(index, args.show)
        except AnchorError as error:
            print(error)
            return EXIT_PROBLEMS
        if target.symbol is None:
            print(f"{target.path}: {len(index.by_file[target.path])} symbols")
            return EXIT_OK
        s = target.symbol
        print(f"{target.label()}\nkind {s.kind}, lines {s.start}-{s.end}, fingerprint {s.fingerprint}\n")
        print(index.code(s))
        return EXIT_OK
    kinds = Counter(s.kind for s in index.by_anchor.values())
    print(f"{len(index)} symbols in {len(index.by_file)} files "
          f"({', '.join(f'{n} {k}' for k, n in kinds.most_common())}) in {time.perf_counter() - started:.2f} s")
    return EXIT_OK
