"""A module that now imports the name it used to define says where the symbol went (round 20).

When several models' private copies of a helper are replaced by one shared function, each model
file keeps calling the helper under the same name and only gains an import line:
`from .utils import get_spec_layer_idx_from_weight_name`. The shared version is often rewritten
(a prefix tuple instead of a chain of `if`s), so code similarity alone finds too little of any one
copy in it and the copy is orphaned; readers follow the import, as anyone reading the new file
would, and label every copy as moved there. A class moved out of a model file and imported back
(`DeepseekV4Attention`) is the same case with members.

So an orphaned symbol whose old file still exists, and now imports the symbol's top-level name from
another module, goes to the symbol of that name there (following re-exports), when that symbol is
fresh (merged into code that already existed, a note is orphaned, by the labelling policy) and still
holds some of the old code.
"""
from __future__ import annotations

import ast
from functools import lru_cache
from typing import TYPE_CHECKING

from ..symbols import Symbol, SymbolIndex
from .decision import Decision
from .similarity import base_name

if TYPE_CHECKING:
    from .match import Matcher

IMPORTED_MIN = 0.25  # the imported symbol must still hold this much of the old code
HOPS = 3  # re-exports followed from the importing module to the defining one


def imports_follow(m: Matcher, lost: list[Symbol]) -> None:
    """Send orphaned symbols to the fresh symbol their old module now imports under their name."""
    for old in lost:
        d = m.decisions[old.anchor]
        if d.state not in {"orphaned", "review", "moved", "renamed"} or old.path not in m.new.by_file:
            continue
        top, _, rest = old.qualname.partition(".")
        found = defining(m.new, old.path, top)
        if found is None:
            continue
        path, name = found
        anchor = f"{path}::{name}{'.' + rest if rest else ''}"
        target = m.new.by_anchor.get(anchor)
        if target is None or anchor in m.old.by_anchor or target.kind != old.kind or anchor == d.new:
            continue
        sim = m.sim(old, target)
        if sim < IMPORTED_MIN:
            continue
        state = "moved" if base_name(old) == base_name(target) else "renamed"
        m.decisions[old.anchor] = Decision(
            old.anchor, state, anchor, similarity=round(sim, 3), confidence=round(min(sim, 0.99), 3),
            evidence=[f"{old.path} now imports {top} from {path}", f"code similarity {sim:.2f}"])


def defining(index: SymbolIndex, path: str, name: str) -> tuple[str, str] | None:
    """(file, name) of the top-level symbol `name` in `path` refers to, through imports and re-exports;
    None where `path` does not import it."""
    for _ in range(HOPS):
        source = _imported(index, path).get(name)
        if source is None:
            return None
        path, name = source
        if index.has(f"{path}::{name}"):
            return path, name
    return None


@lru_cache(maxsize=4096)
def _imported(index: SymbolIndex, path: str) -> dict[str, tuple[str, str]]:
    """Names `path` imports from modules of the tree: local name -> (file, name there)."""
    try:
        tree = ast.parse("\n".join(index.lines(path)))
    except (SyntaxError, ValueError):
        return {}
    found = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            module = _module_file(index, path, node.module or "", node.level)
            if module is not None:
                for alias in node.names:
                    found[alias.asname or alias.name] = (module, alias.name)
    return found


def _module_file(index: SymbolIndex, path: str, module: str, level: int) -> str | None:
    """The tree's file for an import's module (`vllm.a.b` or `.b` seen from `path`), if it has one."""
    if level:
        package = path.split("/")[:-1]
        package = package[:len(package) - (level - 1)] if level > 1 else package
        parts = package + (module.split(".") if module else [])
    else:
        parts = module.split(".")
    for candidate in ("/".join(parts) + ".py", "/".join(parts) + "/__init__.py"):
        if candidate in index.by_file:
            return candidate
    return None
