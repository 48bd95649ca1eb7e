"""A name kept by a thin shell: the note follows the code, not the name (round 10).

A common refactor keeps a public name alive as a two-line wrapper and moves the body into a new
function it calls: `_resolve_flashinfer_autotune_file` becomes a shell around
`flashinfer_autotune_root`; a tool parser class becomes a registry stub over a new parser engine.
By name the symbol stayed (or moved) with the shell; by code, which is what a note explains, it went
into the callee. The labelling policy keeps identity with the part that holds most of the code, so
when the symbol keeping the name is a small fraction of the old body and calls a *fresh* symbol (one
the old tree did not have) that holds most of the old code, the anchor goes to that callee.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from ..symbols import Symbol
from .accept import SAME_NAME_MIN, TINY_TOKENS
from .decision import Decision
from .evidence import identifiers
from .similarity import base_name

if TYPE_CHECKING:
    from .match import Matcher

SHELL_SHARE = 0.35  # a body this small beside the old one is a wrapper, not the code
SHELL_LEAD = 0.25  # the callee must hold clearly more of the old code than the shell does


def shell_heir(m: Matcher, old: Symbol, kept: Symbol) -> tuple[Symbol, float] | None:
    """The fresh symbol `kept` delegates to, if `kept` is a thin shell and that symbol holds `old`'s code."""
    old_tokens, kept_tokens = m.toks(m.old, old, False), m.toks(m.new, kept, False)
    if len(old_tokens) < 2 * TINY_TOKENS or len(kept_tokens) > SHELL_SHARE * len(old_tokens):
        return None
    kept_sim = m.sim(old, kept)
    called = identifiers(m.new.code(kept)) - {kept.name}
    heirs = []
    for name in called:
        for s in m.fresh_named(name.lstrip("_") or name):
            if s.anchor != kept.anchor and s.kind in {"function", "method"} | ({old.kind} if old.kind == "class" else set()):
                sim = m.sim(old, s)
                if sim >= SAME_NAME_MIN and sim >= kept_sim + SHELL_LEAD:
                    heirs.append((sim, s))
    heirs.sort(key=lambda h: -h[0])
    if not heirs or (len(heirs) > 1 and heirs[1][0] >= heirs[0][0] - 0.05):
        return None  # nothing, or two callees that could each be the heir
    return heirs[0][1], heirs[0][0]


def follow_shell(m: Matcher, d: Decision) -> Decision:
    """`d` redirected to the callee when the symbol it names is a thin shell; else `d` unchanged."""
    if d.state not in {"changed", "moved"} or not m.shells:
        return d
    if d.state == "changed" and m.kept_shells:
        return d  # round 24: the anchor lives on; `changed` shows its diff to a person, who decides
    old, kept = m.old.get(d.old), m.new.get(d.new) if d.new else None
    if old is None or kept is None:
        return d
    found = shell_heir(m, old, kept)
    if found is None or found[0].anchor in m.claimed:
        return d
    heir, sim = found
    m.claimed.add(heir.anchor)
    state = "moved" if base_name(old) == base_name(heir) else "renamed"
    return Decision(d.old, state, heir.anchor, similarity=round(sim, 3), confidence=round(min(sim, 0.99), 3),
                    evidence=[f"{d.new} keeps the name as a shell ({len(m.toks(m.new, kept, False))} tokens) "
                              f"calling {heir.anchor}, which holds the code", f"code similarity {sim:.2f}"])
