"""Round 8: a cross-file relocation of boilerplate is a guess, so it goes to review.

Deleted model code often has a near-identical twin in another model (`compute_logits`, a
token-classification `__init__`): the code matches the twin closely, yet nothing says the old
symbol went there. What separates this from a real move is that the twin is not special: other,
unrelated symbols of the new tree (other files, other classes) match the old code nearly as well.

The rule is judged on the outermost relocated symbol, since a class's members follow it (and so
look "at home" in its new file). Two kinds of structure still settle a move on their own: the
target file keeping the old file's name (the module moved), and a member hoisted into the base
its class's heir inherits from. A class is boilerplate when most of the members that went with it
have such rivals; a function or a lone member, when it has them itself. Boilerplate relocated to
another file (not the module's new package) becomes a `review` listing the rivals, and so do the
members that followed it.

Round 24 adds the other side of the same doubt (`shared_code_orphans`): a body renamed into another
file is a copy, not the symbol, when a namesake that lives on in both trees holds it as closely.
Round 26 (`absorbed_orphans`) asks the same of any symbol that lives on beside the old one or the
target, whatever its name, but only if it came closer to the old code than it was: then the code
was merged into it, and the look-alike under a new name is what was left over.
"""
from __future__ import annotations

from collections import defaultdict
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from ..symbols import Symbol
from .decision import Decision
from .similarity import base_name, parent_anchor

if TYPE_CHECKING:
    from .match import Matcher

MARGIN = 0.05  # a rival this close to the chosen target's similarity is "nearly as close"
RIVALS = 2  # this many such rivals in unrelated places make a body boilerplate
SHARED_MARGIN = 0.02  # a living namesake this close to a cross-file rename's target makes it a copy (round 24)
ABSORBED_GAIN = 0.1  # how much closer to the old code a living symbol must have come to have taken it in (round 26)


def _by_name(m: Matcher) -> dict[str, list[Symbol]]:
    """Every new symbol (kept or fresh) by its last name part, built once per matcher."""
    table = getattr(m, "_boilerplate_names", None)
    if table is None:
        table = defaultdict(list)
        for s in m.new.by_anchor.values():
            table[base_name(s)].append(s)
        m._boilerplate_names = table  # type: ignore[attr-defined]
    return table


def rivals(m: Matcher, old: Symbol, target: Symbol, sim: float) -> list[tuple[str, float]]:
    """Same-named symbols in unrelated places (not old's or target's file) nearly as close as `target`."""
    close = []
    for name in sorted({base_name(old), base_name(target)}):
        for s in _by_name(m).get(name, ()):
            if s.path in (old.path, target.path) or s.kind != target.kind:
                continue
            if (r := m.sim(old, s)) >= sim - MARGIN:
                close.append((s.anchor, round(r, 3)))
    return sorted(close, key=lambda item: (-item[1], item[0]))


def _relocated(m: Matcher, old: Symbol) -> Symbol | None:
    d = m.decisions.get(old.anchor)
    if d is None or d.state not in ("moved", "renamed") or d.new is None:
        return None
    return m.new.by_anchor[d.new]


def boilerplate_to_review(m: Matcher, lost: list[Symbol]) -> None:
    """Send cross-file relocations of boilerplate (and the members that followed them) to review."""
    for old in lost:
        target = _relocated(m, old)
        if target is None or target.path == old.path or target.path in m._package_files.get(old.path, set()):
            continue
        if PurePosixPath(target.path).name == PurePosixPath(old.path).name:
            continue  # the module itself moved (`fla/ops/kda.py` -> `third_party/.../ops/kda.py`)
        if any(e.startswith("hoisted:") for e in m.decisions[old.anchor].evidence):
            continue  # inheritance picked the target: the heir of its class inherits it from there
        parent = parent_anchor(old.anchor)
        if parent and (p := m.old.get(parent)) and _relocated(m, p) is not None:
            continue  # judged with its parent
        followers = [s for s in m.old.by_file.get(old.path, []) if s.anchor.startswith(old.anchor + ".")
                     and (t := _relocated(m, s)) is not None and t.anchor.startswith(target.anchor + ".")]
        parts = followers or [old]
        found = {s.anchor: rivals(m, s, _relocated(m, s), m.decisions[s.anchor].similarity) for s in parts}
        generic = [a for a, close in found.items() if len(close) >= RIVALS]
        if 2 * len(generic) <= len(parts):
            continue
        note = f"boilerplate: {len(generic)} of {len(parts)} bodies have {RIVALS}+ unrelated near-twins"
        for s in [old, *followers]:
            d = m.decisions[s.anchor]
            m.claimed.discard(d.new)
            m.review(s, [(d.new, d.similarity), *found.get(s.anchor, [])[:4]], [note, *d.evidence])


def shared_code_orphans(m: Matcher, lost: list[Symbol]) -> None:
    """Orphan a symbol renamed into another file while a namesake that lives on holds its code as well.

    Bamba's `BambaAttentionDecoderLayer.self_attention` went with its model; a new model's
    `Cosmos3EdgeAttention.forward_with_positions` matches it at 0.98, but so does Falcon-H1's
    `self_attention`, which kept its anchor. The body was shared code: one copy of it lives on under
    the old name, so the look-alike under a new name in a new file is another copy, not the symbol
    (round 24). Code merged into a symbol that already existed is orphaned by the same policy.
    """
    for old in lost:
        target = _relocated(m, old)
        if target is None or target.path == old.path or base_name(target) == base_name(old):
            continue
        sim = m.decisions[old.anchor].similarity
        for s in _by_name(m).get(base_name(old), ()):
            if s.path in (old.path, target.path) or s.kind != old.kind or m.old.get(s.anchor) is None:
                continue
            if (r := m.sim(old, s)) >= sim - SHARED_MARGIN:
                _orphan(m, old, target, s, r, "shared code", "lives on under the same name, holds it as closely")
                break


def absorbed_orphans(m: Matcher, lost: list[Symbol]) -> None:
    """Orphan a renamed symbol whose code a symbol that lives on has taken in as fully.

    MiniMax-M3's `minimax_m3_build_sparse_block_table` matches the new `_alloc_sparse_block_table`
    at 0.66, but its sibling `minimax_m3_build_sparse_block_table_decode`, there all along, went from
    0.54 to 0.68 of its code: the body was folded into the sibling, which by the labelling policy
    orphans the note (round 26). A living symbol that was already that close is a sibling, not a
    sign of a merge, hence the gain.
    """
    for old in lost:
        target = _relocated(m, old)
        if target is None or base_name(target) == base_name(old) or m.decisions[old.anchor].similarity >= 1.0:
            continue
        if (found := _absorber(m, old, target)) is not None:
            _orphan(m, old, target, *found, "absorbed", "lives on, now holds its code as closely")


def _absorber(m: Matcher, old: Symbol, target: Symbol) -> tuple[Symbol, float] | None:
    """The first symbol living on in `old`'s or `target`'s file that came to hold `old`'s code as
    closely as `target` does, and with it its similarity."""
    sim = m.decisions[old.anchor].similarity
    for path in dict.fromkeys((old.path, target.path)):
        for s in m.new.by_file.get(path, ()):
            before = m.old.get(s.anchor)
            if before is None or s.kind != old.kind or s.anchor == old.anchor:
                continue
            if (now := m.sim(old, s)) >= sim - SHARED_MARGIN and now >= m.sim(old, before, m.old) + ABSORBED_GAIN:
                return s, now
    return None


def _orphan(m: Matcher, old: Symbol, target: Symbol, holder: Symbol, held: float, why: str, how: str) -> None:
    """Undo `old`'s relocation to `target`: `holder`, a symbol that lives on, holds its code (`held`)."""
    sim = m.decisions[old.anchor].similarity
    m.claimed.discard(target.anchor)
    m.decisions[old.anchor] = Decision(
        old.anchor, "orphaned", None, similarity=0.0, confidence=0.0,
        candidates=[(target.anchor, sim), (holder.anchor, round(held, 3))],
        evidence=[f"{why}: {holder.anchor}, which {how} ({held:.2f}, against {sim:.2f} for {target.anchor})"])
