"""Imports say where a symbol went: its old module's (round 20), or its importers' (round 21).

When several models' private copies of a helper are replaced by one shared function, each model
file keeps calling the helper under the same name and only gains an import line:
`from .utils import get_spec_layer_idx_from_weight_name`. The shared version is often rewritten
(a prefix tuple instead of a chain of `if`s), so code similarity alone finds too little of any one
copy in it and the copy is orphaned; readers follow the import, as anyone reading the new file
would, and label every copy as moved there. A class moved out of a model file and imported back
(`DeepseekV4Attention`) is the same case with members.

So a lost symbol goes where the imports say: when its old file still exists and now imports the
symbol's top-level name from another module, or else (round 21) when the files that imported the
name from its old file all import it from one other module now (`glm4_mtp.py` took the helper from
`glm4.py`, which dropped it, and now takes it from `utils.py`), it goes to the symbol of that name there
(following re-exports), provided that symbol is fresh (merged into code that already existed, a note
is orphaned, by the labelling policy) and still holds some of the old code.

Round 26 (`imported_heirs`) reads the old module's imports for a helper that changed its name as it
left: `ll_bf16.py` dropped `_cute` and `_stream`, stopped calling them, and now imports
`cute_context` and `current_cuda_stream` from a new shared module, whose bodies are the old ones.
Tiny bodies like these are too common to move on code alone; the import that replaced them is what
singles the heir out.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING

from ..symbols import Symbol, SymbolIndex
from .decision import Decision
from .similarity import base_name

if TYPE_CHECKING:
    from .match import Matcher

IMPORTED_MIN = 0.25  # the imported symbol must still hold this much of the old code
HEIR_MIN = 0.7  # ... and a newly imported one under another name this much (round 26)
HEIR_LEAD = 0.1  # ... this far ahead of the module's other new imports
HOPS = 3  # re-exports followed from the importing module to the defining one
FROM_IMPORT = re.compile(r"^[ \t]*from[ \t]+(\.*)([\w.]*)[ \t]+import[ \t]+(\([^)]*\)|[^\n]*)", re.MULTILINE)
COMMENT = re.compile(r"#[^\n]*")
MAX_MENTIONS = 40  # files using the name whose imports are read; a name used more widely is an API


def imports_follow(m: Matcher, lost: list[Symbol]) -> None:
    """Send lost symbols to the fresh symbol their importers now import under their name.

    The imports outrank code similarity: a symbol orphaned, left for review, or relocated to a
    lookalike by code alone (a newer model's private copy) goes where the imports say.
    """
    for old in lost:
        d = m.decisions[old.anchor]
        if d.state not in {"orphaned", "review", "moved", "renamed"}:
            continue
        top, _, rest = old.qualname.partition(".")
        found = imported_from(m, old, top)
        if found is None:
            continue
        (path, name), importer = found
        anchor = f"{path}::{name}{'.' + rest if rest else ''}"
        target = m.new.by_anchor.get(anchor)
        if target is None or anchor in m.old.by_anchor or target.kind != old.kind or anchor == d.new:
            continue
        if importer != old.path and renamed_onto(m, f"{path}::{name}"):
            continue  # other files' imports name a place, not a symbol: the name may have changed hands
        sim = m.sim(old, target)
        if sim < IMPORTED_MIN:
            continue
        state = "moved" if base_name(old) == base_name(target) else "renamed"
        m.decisions[old.anchor] = Decision(
            old.anchor, state, anchor, similarity=round(sim, 3), confidence=round(min(sim, 0.99), 3),
            evidence=[f"{importer} now imports {top} from {path}", f"code similarity {sim:.2f}"])


def imported_heirs(m: Matcher, lost: list[Symbol]) -> None:
    """Rename an orphaned module-level symbol to the fresh symbol its old module now imports in its
    place: the module still exists, no longer mentions the old name, imports a name it did not
    before, and that name's definition holds the old code, clearly more than any other new import."""
    texts: dict[str, str] = {}
    for old in lost:
        d = m.decisions[old.anchor]
        if d.state != "orphaned" or "." in old.qualname or old.path not in m.new.by_file:
            continue
        if old.path not in texts:
            texts[old.path] = "\n".join(m.new.lines(old.path))
        if re.search(rf"\b{re.escape(old.name)}\b", texts[old.path]):
            continue  # still used (or defined anew) there: not replaced by an import
        before = _imported(m.old, old.path)
        scored = []
        for local in _imported(m.new, old.path).keys() - before.keys():
            if (found := defining(m.new, old.path, local)) is None:
                continue
            anchor = f"{found[0]}::{found[1]}"
            target = m.new.by_anchor[anchor]
            if anchor in m.old.by_anchor or anchor in m.claimed or target.kind != old.kind:
                continue
            scored.append((m.sim(old, target), anchor))
        scored.sort(reverse=True)
        if not scored or scored[0][0] < HEIR_MIN or len(scored) > 1 and scored[1][0] > scored[0][0] - HEIR_LEAD:
            continue
        sim, anchor = scored[0]
        m.claim(old, anchor, sim, min(sim, 0.99),
                [f"{old.path} now imports {anchor.rpartition('::')[2]} from {anchor.partition('::')[0]} "
                 f"and no longer uses {old.name}", f"code similarity {sim:.2f}"])


def renamed_onto(m: Matcher, anchor: str) -> bool:
    """Whether another symbol was renamed to `anchor`: the name was handed over (`OffloadingHandler`
    became `OffloadingWorker`, so code importing `OffloadingWorker` now gets a different class).
    A module's own import of a name it used to define is not doubted this way: it replaced the
    definition (`DeepseekV4Attention`, though a sibling class was also merged into its heir)."""
    return anchor in m.claimed and any(d.new == anchor and d.state == "renamed" for d in m.decisions.values())


def imported_from(m: Matcher, old: Symbol, top: str) -> tuple[tuple[str, str], str] | None:
    """Where the new tree's code takes `top` from, and which file says so: `old`'s own file, if it
    still exists and imports the name; else the files that imported it from `old`'s file, if they
    all now import it from one place (`glm4_mtp.py` took the helper from `glm4.py`, now from `utils`)."""
    if old.path in m.new.by_file and (found := defining(m.new, old.path, top)) is not None:
        return found, old.path
    if m.users is None or not m.importers:
        return None
    files = [f for f in m.users.files_mentioning(top) if f != old.path and f in m.new.by_file]
    if len(files) > MAX_MENTIONS:
        return None
    said = {f: defining(m.new, f, top) for f in files if defining(m.old, f, top) == (old.path, top)}
    places = set(said.values())
    if len(places) != 1 or None in places:
        return None  # nobody imported it, or its importers now disagree (or some dropped it)
    (place,) = places
    return place, sorted(said)[0]


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
    found = {}
    for level, module, name, local in from_imports("\n".join(index.lines(path))):
        if (source := _module_file(index, path, module, level)) is not None:
            found[local] = (source, name)
    return found


@lru_cache(maxsize=1024)  # keyed by whole file texts: bounded, since a chain asks about few files
def from_imports(source: str) -> tuple[tuple[int, str, str, str], ...]:
    """(level, module, name, local name) of each `from ... import` statement in a file's text.

    Read with a pattern, not `ast`: parsing every file that mentions a name costs seconds per
    release, and the statement's shape is all that is needed. Remembered by content, since
    releases share most files byte for byte.
    """
    found = []
    for dots, module, names in FROM_IMPORT.findall(source):
        for part in COMMENT.sub("", names).strip().strip("()").split(","):
            words = part.split()
            if len(words) == 1 or (len(words) == 3 and words[1] == "as"):
                found.append((len(dots), module, words[0], words[-1]))
    return tuple(found)


def _module_file(index: SymbolIndex, path: str, module: str, level: int) -> str | None:
    """The tree's file for an import's module (`vllm.a.b` or `.b` seen from `path`), if it has one."""
    if level:
        package = path.split("/")[:-1]
        parts = package[:len(package) - level + 1] + (module.split(".") if module else [])
    else:
        parts = module.split(".")
    for candidate in ("/".join(parts) + ".py", "/".join(parts) + "/__init__.py"):
        if candidate in index.by_file:
            return candidate
    return None
