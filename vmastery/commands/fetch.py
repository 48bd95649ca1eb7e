"""Recreate upstream/ exactly: download (or take) the pinned sdist, verify its sha256, unpack it safely,
check version and commit. A second run with an intact tree does nothing."""
from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import EXIT_OK
from ..pin import fetch


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--tarball", type=Path, help="use this local sdist instead of downloading (offline machines)")
    parser.add_argument("--force", action="store_true", help="replace an upstream/ that differs from the pin (discards edits)")


def run(args: argparse.Namespace) -> int:
    print(fetch(args.root, tarball=args.tarball, force=args.force))
    return EXIT_OK
