"""Draw a random sample of anchors to label, excluding every anchor already labelled.

    python benchmarks/reanchor/sample.py --seed 3 --lost 34 --kept 6
    python benchmarks/reanchor/sample.py --seed 6 --prefix vllm/ --lost 50 --kept 8
    python benchmarks/reanchor/sample.py --seed 101 --prefix vllm/ --old-tree .cache/trees/vllm-0.27.0
    python benchmarks/reanchor/sample.py --seed 201 --prefix vllm/ --old-tree .cache/trees/vllm-0.29.0 \
        --not-in .cache/trees/vllm-0.27.0

Anchors are drawn under `--prefix` (default vllm/v1/; vllm/ widens the pool to the whole tree).

Prints anchors whose anchor is gone in the new tree (`--lost`) and anchors that still exist
(`--kept`). It reads only the two symbol indexes, never the matcher, so a set drawn with it is
not biased towards what the matcher finds easy. With `--old-tree` (another release than the pin)
only symbols the pin did not have are drawn: no label, and so no rule, was ever read from them.
`--not-in` narrows that to symbols born after another release as well, a population no rule has
been read from even when an earlier fresh population has. Anchors labelled in any file under
this folder (second readings and other populations included) are never drawn again.
"""
from __future__ import annotations

import argparse
import random
from pathlib import Path

import yaml

from vmastery.symbols import SymbolIndex

HERE = Path(__file__).parent
ROOT = HERE.parent.parent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--lost", type=int, default=34)
    parser.add_argument("--kept", type=int, default=6)
    parser.add_argument("--prefix", default="vllm/v1/",
                        help="only anchors whose path starts with this (default: vllm/v1/)")
    parser.add_argument("--new-tree", type=Path, default=ROOT / ".cache/trees/vllm-0.33.0")
    parser.add_argument("--old-tree", type=Path, help="draw from this release instead of the pin (upstream/)")
    parser.add_argument("--not-in", type=Path, action="append", default=[],
                        help="also leave out symbols this release had (repeatable)")
    args = parser.parse_args()
    pin = SymbolIndex.build(ROOT / "upstream", ROOT / ".cache/symbols.json", progress=False)
    old = pin if args.old_tree is None else SymbolIndex.build(
        args.old_tree, ROOT / ".cache/reanchor" / f"index-{args.old_tree.name}.json", progress=False)
    new = SymbolIndex.build(args.new_tree, ROOT / ".cache/reanchor" / f"index-{args.new_tree.name}.json", progress=False)
    older = [SymbolIndex.build(tree, ROOT / ".cache/reanchor" / f"index-{tree.name}.json", progress=False)
             for tree in args.not_in]
    done = {label["anchor"] for f in sorted(HERE.rglob("*.yaml"))
            for label in (yaml.safe_load(f.read_text()) or {}).get("labels", [])}
    v1 = sorted(a for a in old.by_anchor if a.startswith(args.prefix) and a not in done
                and (old is pin or a not in pin.by_anchor)
                and not any(a in index.by_anchor for index in older))
    rng = random.Random(args.seed)
    lost = [a for a in v1 if a not in new.by_anchor]
    kept = [a for a in v1 if a in new.by_anchor]
    if args.lost > len(lost) or args.kept > len(kept):
        raise SystemExit(f"sample.py: asked for {args.lost} lost and {args.kept} kept anchors, the pool holds "
                         f"{len(lost)} and {len(kept)}\n    fix: ask for fewer (--lost/--kept) or widen --prefix")
    for a in sorted(rng.sample(lost, args.lost)):
        print("lost", a)
    for a in sorted(rng.sample(kept, args.kept)):
        print("kept", a)


if __name__ == "__main__":
    main()
