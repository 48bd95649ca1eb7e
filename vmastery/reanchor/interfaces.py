"""Round 22: a method renamed across an interface, the base class and every override at once.

`PoolingIOProcessor.pre_process_online` became `get_request_factory_online`, and so did each of
its five overrides (`EmbedIOProcessor`, `BiEncoderIOProcessor`, `CrossEncoderIOProcessor`, ...),
their bodies rewritten for the new request factories: code similarity finds 0.3-0.5 and orphans
them, while readers follow the rename. What code cannot vouch for, the hierarchy can: the old name
left the base class and every class overriding it, all of which live on, and each of them gained
the same new method. A one-off coincidence does not look like that; an interface renamed does.

The new name must also be the only such name keeping a word of the old one that the others lack
(`online`, not `offline`), and no other lost method of the base may claim it by the same evidence
(`get_num_mm_encoder_tokens` and `get_num_mm_connector_tokens` both gave way to
`get_mm_lora_token_counts`: which one it continues is a judgement, left as it was).
"""
from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from ..symbols import Symbol
from .similarity import name_words, parent_anchor
from .structure import ancestors

if TYPE_CHECKING:
    from .match import Matcher

MIN_OVERRIDES = 2  # overriding classes that must all show the rename, besides the base
MAX_DEFINITIONS = 50  # a name defined in more places (`forward`) is looked at no further


def interfaces_follow(m: Matcher, lost: list[Symbol]) -> None:
    """Rename each orphaned method of a living class along its interface, when the interface was renamed."""
    # The trees do not change within a batch, and every override of one interface asks the same question.
    renamed = cache(lambda base, name: renamed_interface(m, base, name))
    for old in lost:
        d = m.decisions.get(old.anchor)
        if d is None or d.state not in {"orphaned", "review"} or old.kind != "method":
            continue
        parent = parent_anchor(old.anchor)
        cls = m.old.get(parent) if parent else None
        if cls is None or cls.kind != "class" or parent not in m.new.by_anchor:
            continue
        defining = [a for a in ancestors(m, cls, old=True) if f"{a.anchor}.{old.name}" in m.old.by_anchor]
        base = defining[-1] if defining else cls  # the farthest class declaring the method: the interface
        new_name = renamed(base, old.name)
        if new_name is None:
            continue
        anchor = f"{parent}.{new_name}"
        if anchor not in m.new.by_anchor or anchor in m.old.by_anchor or anchor in m.claimed:
            continue
        if base is not cls and _base_went_elsewhere(m, f"{base.anchor}.{old.name}", f"{base.anchor}.{new_name}"):
            continue
        sim = m.sim(old, m.new.by_anchor[anchor])
        because = (f"interface renamed: {base.qualname}.{old.name} and every override of it became {new_name}, "
                   "each in a class that lives on")
        m.claim(old, anchor, sim, 0.9, [because, f"code similarity {sim:.2f}"])


def renamed_interface(m: Matcher, base: Symbol, name: str, check_rivals: bool = True) -> str | None:
    """The one new name that `base.name` and all its overrides took, if the hierarchy says so."""
    if base.anchor not in m.new.by_anchor or f"{base.anchor}.{name}" in m.new.by_anchor:
        return None
    overrides = _overrides(m, base, name)
    living = [s for s in overrides if parent_anchor(s.anchor) in m.new.by_anchor]
    if len(living) < MIN_OVERRIDES or any(s.anchor in m.new.by_anchor for s in living):
        return None  # too few to be a pattern, or the name lives on in an override
    fresh = {c: {s.name for s in m.fresh_members.get(c, ())} for c in [base.anchor, *(parent_anchor(s.anchor) for s in living)]}
    shared = set.intersection(*fresh.values())
    words = name_words(name)
    picks = [new for new in shared
             if words & name_words(new) - set().union(*(name_words(o) for o in shared if o != new))]
    if len(picks) != 1:
        return None
    if check_rivals:
        gone = [s for s in m.old.by_file.get(base.path, []) if parent_anchor(s.anchor) == base.anchor
                and s.kind == "method" and s.name != name and s.anchor not in m.new.by_anchor]
        if any(renamed_interface(m, base, s.name, check_rivals=False) == picks[0] for s in gone):
            return None
    return picks[0]


def _overrides(m: Matcher, base: Symbol, name: str) -> list[Symbol]:
    """Old methods `name` of classes inheriting from `base`."""
    definitions = m.old_by_name.get(name, [])
    if len(definitions) > MAX_DEFINITIONS:
        return []
    out = []
    for s in definitions:
        parent = parent_anchor(s.anchor)
        cls = m.old.get(parent) if parent else None
        if s.kind == "method" and cls is not None and cls.kind == "class" and parent != base.anchor \
                and any(a.anchor == base.anchor for a in ancestors(m, cls, old=True)):
            out.append(s)
    return out


def _base_went_elsewhere(m: Matcher, method: str, renamed: str) -> bool:
    """Whether the base's own method was relocated somewhere else than `renamed`: then its code says
    the interface went another way (`_apply_hf_processor_tokens_only` -> `_postprocess_prompt`)."""
    decision = m.decisions.get(method)
    if decision is None and m.users is not None and not m.users.nested:
        m.users.nested = True
        try:
            decision = m.decide(method)
        finally:
            m.users.nested = False
    return decision is not None and decision.new is not None and decision.new != renamed
