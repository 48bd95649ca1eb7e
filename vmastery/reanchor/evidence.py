"""Evidence beyond token order, for what the first matching rounds cannot settle.

- **identifiers**: the set of names and literals a body uses. Token-order similarity cannot tell
  `return capability.major == 10` from `... == 12`; the identifier sets can, so they break ties
  between candidates that are otherwise equal (see `Matcher._assign_round`).
- **class split**: a class split into a base plus per-variant subclasses (`Backend` ->
  `_BackendBase`, `BackendA(_BackendBase)`, `BackendB(_BackendBase)`) matches none of its heirs
  as a whole, yet its members reappear by name among them. The base is the primary heir; the
  variants are named in the evidence, and the members then follow their class or its variants.

Tried and dropped (round 2): following callers, i.e. relocating an orphan to the new symbol its old
callers call now. On the tuned label sets it fixed none of the misses it was meant for and made six
wrong relocations (a caller that stops calling a helper usually calls some *other* new code), so
the matcher keeps preferring an orphan to that guess.
"""
from __future__ import annotations

import re
from collections import defaultdict
from typing import TYPE_CHECKING

from ..symbols import Symbol
from .similarity import PROSE, base_name, name_likeness, parent_anchor

if TYPE_CHECKING:
    from .match import Matcher

WORD = re.compile(r"[A-Za-z_]\w*|\d[\w.]*")
CLASS_HEAD = re.compile(r"class\s+\w+\s*(?:\[[^\]]*\])?\s*\(([^)]*)\)")
SPLIT_MIN_MEMBERS = 2  # members of a split class found among its heirs, at least
ALIAS_MARGIN = 0.15  # how far behind the chosen copy a member of an aliased variant may be (round 7)
NAME_SIDE_MIN = 0.55  # code similarity the candidate a name points at needs to contest a rename (SAME_PARENT_MIN)


def identifiers(code: str) -> frozenset[str]:
    """Names and literals a piece of code uses (calls, attributes, numbers), prose excluded."""
    return frozenset(WORD.findall(PROSE.sub(" ", code)))


def overlap(a: frozenset[str], b: frozenset[str]) -> float:
    """Jaccard overlap of two identifier sets: what breaks ties token order cannot (`== 10` vs `== 12`)."""
    return len(a & b) / len(a | b) if a | b else 0.0


def class_bases(code: str) -> list[str]:
    """The last name part of each base a class statement lists: `class A(pkg.B, C):` -> [B, C]."""
    head = CLASS_HEAD.search(code[:500])
    if not head:
        return []
    return [part.strip().split("[")[0].split(".")[-1] for part in head.group(1).split(",") if part.strip()]


def split_classes(m: Matcher, lost: list[Symbol]) -> None:
    """An orphaned class whose members reappear, by name, across a new base class and its subclasses."""
    for old in lost:
        d = m.decisions.get(old.anchor)
        if d is None or d.state != "orphaned" or old.kind != "class":
            continue
        members = [s for s in m.old.by_file[old.path] if parent_anchor(s.anchor) == old.anchor]
        names = {s.name for s in members}
        heirs: dict[str, set[str]] = {}
        for s in m.fresh_by_file.get(old.path, ()):
            if s.kind == "class":
                found = {c.name for c in m.fresh_members.get(s.anchor, ())} & names
                if found:
                    heirs[s.anchor] = found
        if len(heirs) < 2:
            continue
        bases = [a for a in heirs
                 if all(a == b or short_name(a) in class_bases(m.new.code(m.new.by_anchor[b])) for b in heirs)]
        covered = set().union(*heirs.values())
        if len(bases) != 1 or len(covered) < max(SPLIT_MIN_MEMBERS, len(members) // 2) or bases[0] in m.claimed:
            continue
        base = bases[0]
        variants = [short_name(a) for a in heirs if a != base]
        heir, lineage = lineage_heir(m, old, base, [a for a in heirs if a != base]), ""
        if heir != base:
            lineage = f"; only {short_name(heir)} keeps its bases ({', '.join(class_bases(m.old.code(old)))})"
        sim = m.sim(old, m.new.by_anchor[heir])
        m.claim(old, heir, sim, round(len(covered) / max(len(members), 1), 3),
                [f"split: {len(covered)} of {len(members)} members reappear in {short_name(base)} "
                 f"and its subclasses {', '.join(sorted(variants))}{lineage}", f"code similarity {sim:.2f}"])


def lineage_heir(m: Matcher, old: Symbol, base: str, variants: list[str]) -> str:
    """Which heir of a split class carries its identity: the new base, unless that base is a bare
    mixin that dropped every class the old one inherited from while exactly one variant still lists
    them all (round 7: `TrtLlmBf16Experts(FusedMoEExpertsMonolithic)` -> the mixin
    `TrtLlmBf16ExpertsBase` plus `...Modular(Base, FusedMoEExpertsModular)` and
    `...Monolithic(Base, FusedMoEExpertsMonolithic)`: the monolithic variant is still what callers
    built, the modular one is new). A base that keeps the lineage (`NixlBaseConnector`) stays heir."""
    lineage = set(class_bases(m.old.code(old))) - {"object"}
    if not lineage or lineage & set(class_bases(m.new.code(m.new.by_anchor[base]))):
        return base
    keep = [a for a in variants if lineage <= set(class_bases(m.new.code(m.new.by_anchor[a]))) and a not in m.claimed]
    return keep[0] if len(keep) == 1 else base


def short_name(anchor: str) -> str:
    return anchor.rpartition("::")[2].rpartition(".")[2]


def classes_follow_members(m: Matcher, lost: list[Symbol]) -> None:
    """An orphaned class whose members mostly moved into one new class went there itself.

    Rewritten classes often share too little code as a whole, yet their methods are found one
    by one; when most of them agree on a destination that no one else claimed, that is strong
    evidence for the class too.
    """
    for old in lost:
        decision = m.decisions[old.anchor]
        if decision.state != "orphaned" or old.kind not in {"class", "struct"}:
            continue
        prefix = old.anchor + ("." if old.path.endswith(".py") else "::")
        members = [d for a, d in m.decisions.items() if a.startswith(prefix) and a.count(".") == old.anchor.count(".") + 1]
        votes: dict[str, int] = defaultdict(int)
        for d in members:
            if d.new and (parent := parent_anchor(d.new)):
                votes[parent] += 1
        if not votes:
            continue
        target, count = max(votes.items(), key=lambda kv: kv[1])
        total = sum(1 for s in m.old.by_file[old.path] if parent_anchor(s.anchor) == old.anchor)
        if count >= 2 and count * 2 > total and target not in m.claimed and target not in m.old.by_anchor \
                and target in m.new.by_anchor:
            sim = m.sim(old, m.new.by_anchor[target])
            m.claim(old, target, sim, count / total,
                    [f"{count} of {total} members went there", f"code similarity {sim:.2f}"])


def names_disagree(m: Matcher, lost: list[Symbol]) -> None:
    """A method renamed in its class to a name sharing no word with the old one, while another new
    member of the class keeps part of the old name and is also similar enough: code and name point
    at different heirs, and a person decides (`review`) rather than the code alone.

    `_cache_block_mask`: the closest body is `finalize_partial_tail_offload` (0.71), yet
    `reachable_block_mask` (0.57) keeps the name's words and its job.
    """
    for old in lost:
        d = m.decisions.get(old.anchor)
        if d is None or d.state != "renamed" or old.kind != "method" or not d.new:
            continue
        chosen = m.new.by_anchor[d.new]
        if parent_anchor(d.new) != parent_anchor(old.anchor) or name_likeness(old.name, chosen.name) > 0:
            continue
        contested = [(m.sim(old, s), s.anchor) for s in m.fresh_members.get(parent_anchor(d.new), ())
                     if s.anchor != d.new and s.anchor not in m.claimed and s.kind == "method"
                     and base_name(s) != base_name(old) and name_likeness(old.name, s.name) >= 0.5]
        contested = [(sim, a) for sim, a in contested if sim >= NAME_SIDE_MIN]
        if len(contested) != 1:
            continue
        sim, anchor = contested[0]
        m.claimed.discard(d.new)
        m.review(old, [(d.new, d.similarity), (anchor, round(sim, 3))],
                 [f"code points at {short_name(d.new)} ({d.similarity:.2f}), its name at "
                  f"{short_name(anchor)} ({sim:.2f})"])


def aliases_break_ties(m: Matcher, lost: list[Symbol]) -> None:
    """A member copied verbatim into several variants goes to the variant its old class's name
    still points at.

    When a class is split into variants, the new file often keeps the old name as a module-level
    alias (`NixlConnector = NixlPullConnector`) so old imports keep working: that variant is the
    old behaviour. It only settles near-ties between copies: the aliased variant's member must be
    within ALIAS_MARGIN of the one chosen, and past the name bar (round 7: `NixlConnector.start_load_kv`
    is 1.00 in push, whose only change is a docstring, and 0.91 in the aliased pull, which adds one
    assert). Members only: the class itself goes where most of its code went (`NixlBaseConnector`)."""
    texts: dict[str, str] = {}
    for old in lost:
        d = m.decisions.get(old.anchor)
        parent = parent_anchor(old.anchor)
        if d is None or d.new is None or not parent or parent in m.new.by_anchor or "::" not in d.new:
            continue
        path, cls = d.new.split("::")[0], short_name(parent)
        if path not in texts:
            file = m.new.root / path
            texts[path] = file.read_text(errors="replace") if file.is_file() else ""
        alias = re.search(rf"^{re.escape(cls)}\s*=\s*(\w+)\s*$", texts[path], re.M)
        target = f"{path}::{alias.group(1)}.{old.name}" if alias else None
        if target is None or target == d.new or target in m.claimed or target not in m.new.by_anchor:
            continue
        sim = m.sim(old, m.new.by_anchor[target])
        if sim >= max(NAME_SIDE_MIN, (d.similarity or 0.0) - ALIAS_MARGIN):
            m.claimed.discard(d.new)
            m.claim(old, target, sim, d.confidence or 0.0,
                    [f"{cls} = {alias.group(1)} in the new file: near-ties go to the aliased variant",
                     f"code similarity {sim:.2f}"])
