"""Copies merged into one helper: each copy's note goes where the code went (round 13).

Identical helpers live on in several modules (`_is_equal_or_regex_match` in two quantization
backends), and a refactor replaces them with one shared function. The matcher pairs lost symbols
with new ones one to one, so the first copy takes the merged helper and every other copy is
orphaned, though its code lives on there just as well; readers label every copy as gone to the
helper. So an orphaned module-level function follows its twin (another lost function of the same
name whose code is nearly the same) when that twin was relocated and the target holds this copy's
code about as well as the twin's.

Round 27 does the same for methods when the copies are one class's (same qualified name) in two
files: a model's `nvidia/` and `amd/` variants whose identical `_encode_image` moved into one new
shared mixin.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from ..symbols import Symbol
from .accept import SAME_NAME_MIN, TINY_TOKENS
from .decision import Decision
from .similarity import base_name, parent_anchor, similarity

if TYPE_CHECKING:
    from .match import Matcher

TWIN_MIN = 0.9  # code similarity two old functions need to be copies of one another
TWIN_LAG = 0.05  # how much less of this copy than of its twin the merged helper may hold


def twins_follow(m: Matcher, lost: list[Symbol]) -> None:
    """Send orphaned copies of a relocated function to where that function went."""
    for old in lost:
        d = m.decisions[old.anchor]
        method = m.twin_methods and old.kind == "method"
        if d.state != "orphaned" or not (old.kind == "function" and parent_anchor(old.anchor) is None or method) \
                or len(m.toks(m.old, old)) < TINY_TOKENS:
            continue
        found = set()
        for twin in m.old_by_name.get(old.name, []):
            if twin.anchor == old.anchor or twin.kind != old.kind or twin.anchor in m.new.by_anchor:
                continue
            if method and twin.qualname != old.qualname:
                continue  # a method's copy is the same class's method in another file
            if similarity(m.toks(m.old, old), m.toks(m.old, twin)) < TWIN_MIN:
                continue
            went = m.decide(twin.anchor)
            if went.state in {"moved", "renamed"} and went.new in m.new.by_anchor:
                found.add((twin.anchor, went.new))
        targets = {new for _, new in found}
        if len(targets) != 1:
            continue  # no relocated twin, or twins that went different ways
        (anchor,) = targets
        target = m.new.by_anchor[anchor]
        mine = m.sim(old, target)
        best_twin = max(m.sim(m.old.by_anchor[t], target) for t, _ in found)
        if mine < SAME_NAME_MIN or mine < best_twin - TWIN_LAG:
            continue
        twin_names = ", ".join(sorted(t for t, _ in found))
        state = "moved" if base_name(old) == base_name(target) else "renamed"
        m.decisions[old.anchor] = Decision(
            old.anchor, state, anchor, similarity=round(mine, 3), confidence=round(min(mine, 0.99), 3),
            evidence=[f"a copy of {twin_names}, which went to {anchor}: the copies were merged",
                      f"code similarity {mine:.2f}"])
