"""Candidates that belong to another lost symbol: its heir, not a home for this one.

Lost symbols are paired with new ones one to one, batch by batch, so a symbol decided first could
take the place another lost symbol moved to. Two kinds of heir are recognised by name alone, before
any code is compared:

- (round 12) a candidate keeping the one name of another lost symbol, the only symbol of that name
  in either tree (`cache.py::MultiModalProcessorOnlyCache` -> `cache/base.py::...OnlyCache`): no
  rival for the symbol being decided;
- (round 18) a nested function keeping the whole qualified name of another lost symbol, the only
  one of that name: that closure, moved with its file, and not a home for a copy found elsewhere
  (jais's `_get_alibi_slopes.get_slopes_power_of_2` is not MiniMax's). Only closures: a class or
  method may well take over a name another gave up (`OffloadingHandler` was renamed to
  `OffloadingWorker` when that name fell free).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from ..symbols import Symbol
from .similarity import base_name, parent_anchor

if TYPE_CHECKING:
    from .match import Matcher


def heir_of_another(m: Matcher, old: Symbol, anchor: str) -> bool:
    """Whether `anchor` keeps the name of another lost symbol, the only one of that name in either tree."""
    new = m.new.by_anchor[anchor]
    name = base_name(new)
    if name == base_name(old) or m.new_name_count(new) != 1 or m.old_name_count(new) != 1:
        return False
    twins = [s for s in m.old_by_name.get(new.name, []) if base_name(s) == name]
    return len(twins) == 1 and twins[0].anchor not in m.new.by_anchor


def closure_of_another(m: Matcher, old: Symbol, anchor: str) -> bool:
    """Whether `anchor` is a nested function keeping the whole qualified name of another lost symbol,
    the only one of that name."""
    new = m.new.by_anchor[anchor]
    if new.qualname == old.qualname:
        return False
    parent = parent_anchor(anchor)
    enclosing = m.new.get(parent) if parent else None
    if enclosing is None or enclosing.kind == "class":
        return False
    others = m.old_by_qualname.get(new.qualname, [])
    return len(others) == 1 and others[0].anchor not in m.new.by_anchor
