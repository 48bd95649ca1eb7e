"""A reading aid for labelling: an old symbol's code, and where its lines and name occur in the new tree.

It uses plain text search (distinctive lines, the bare name), not the matcher, so labels made with
it do not inherit the matcher's judgement. Usage:
    python benchmarks/reanchor/inspect_symbol.py OLD_TREE NEW_TREE ANCHOR [ANCHOR ...]
"""
from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path

from vmastery.symbols import SymbolIndex


def enclosing(index: SymbolIndex, path: str, line: int) -> str:
    inner = [s for s in index.by_file.get(path, []) if s.start <= line <= s.end]
    return min(inner, key=lambda s: s.end - s.start).anchor if inner else path


def main() -> None:
    old_root, new_root, *anchors = sys.argv[1:]
    old = SymbolIndex.build(Path(old_root), Path(".cache/reanchor/label-old.json"), progress=False)
    new = SymbolIndex.build(Path(new_root), Path(".cache/reanchor/label-new.json"), progress=False)
    lines_at: dict[str, list[tuple[str, int]]] = {}
    for path in new.by_file:
        for n, text in enumerate(new.lines(path), 1):
            t = text.strip()
            if len(t) >= 20:
                lines_at.setdefault(t, []).append((path, n))
    for anchor in anchors:
        s = old.get(anchor)
        print("=" * 100)
        if s is None:
            print(anchor, "NOT IN OLD")
            continue
        code = old.code(s).splitlines()
        print(f"{anchor}  [{s.kind}, {len(code)} lines]  in new: {anchor in new.by_anchor}")
        shown = code if len(code) <= 12 else code[:8] + ["    ..."] + code[-3:]
        print("\n".join("  | " + c[:110] for c in shown))
        name = re.sub(r"\[.*\]$", "", s.name)
        defs = [x.anchor for x in new.by_anchor.values() if re.sub(r"\[.*\]$", "", x.name).lstrip("_") == name.lstrip("_")]
        print(f"  name '{name}' defined in new ({len(defs)}):", ", ".join(defs[:6]))
        hits: Counter[str] = Counter()
        body = [c.strip() for c in code[1:] if len(c.strip()) >= 20 and not c.strip().startswith("#")]
        for t in body:
            for path, n in lines_at.get(t, [])[:20]:
                hits[enclosing(new, path, n)] += 1
        print(f"  {len(body)} distinctive lines; new symbols holding them:",
              ", ".join(f"{a} x{c}" for a, c in hits.most_common(4)) or "none")


if __name__ == "__main__":
    main()
