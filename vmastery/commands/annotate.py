"""Create the sidecar note of one symbol, with anchor and fingerprint filled in.

The note is written at the one path its anchor dictates (see annotations/README.md); an existing
note is never overwritten. Open the printed path in an editor, write, then run `vmastery check`.
"""
from __future__ import annotations

import argparse

from ..anchors import AnchorError, resolve
from ..annotations import note_path, note_template
from ..errors import EXIT_OK, VmasteryError
from ..files import write_atomic
from ..symbols import index_for


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("anchor", help="PATH::QUALNAME, e.g. vllm/v1/core/block_pool.py::BlockPool.get_new_blocks")
    parser.add_argument("--phase", type=int, choices=range(20), metavar="N", help="course phase (0-19)")


def run(args: argparse.Namespace) -> int:
    try:
        target = resolve(index_for(args.root), args.anchor)
    except AnchorError as error:
        raise VmasteryError(str(error)) from None
    if target.symbol is None:
        raise VmasteryError("a note explains one symbol: add ::QUALNAME to the anchor")
    path = args.root / note_path(target.symbol.anchor)
    if path.exists():
        raise VmasteryError(f"{path.relative_to(args.root)} already exists; edit it instead")
    write_atomic(path, note_template(target.symbol.anchor, target.symbol.fingerprint, args.phase))
    print(path.relative_to(args.root))
    return EXIT_OK
