"""Evidence from how code refers to code: who uses a symbol, and which class a method is inherited from.

Token similarity says how alike two bodies are; it cannot say which of two alike bodies is the
heir. Two structural facts can, and both are checked in the new tree, not guessed:

- **users follow**: the code that used a symbol (constructed the class, called the function) has
  heirs of its own in the new tree. When those heirs name one candidate and not the others, that
  candidate took over the symbol's job, even if a sibling created in the same release copied more
  of its code (`DecodeEagleCudaGraphManager`: its builder's heir builds `SpeculatorCudaGraphManager`,
  while the closer copy `DFlashCudaGraphManager` is only built by a brand-new speculator).
- **hoisted into an ancestor**: a method gone from a class that still exists, while a class the new
  one inherits from gained a method of that name, was moved up the hierarchy. When several ancestors
  define it, the one holding most of the old body is the heir (the others delegate with `super()`).

Round 2 tried relocating an orphan to whatever its old callers call now, and dropped it: callers
that stop calling a helper usually call some other new code. The difference here is that users only
*choose among candidates the code already proposed* (with a similarity floor), and a choice they
cannot confirm by code is not made but handed to a person (`review`).
"""
from __future__ import annotations

import re
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING

from ..symbols import Symbol
from .evidence import class_bases, short_name
from .similarity import base_name, name_kept, parent_anchor

if TYPE_CHECKING:
    from .match import Matcher

WORD = re.compile(r"\w+")
USERS_MIN = 0.5  # code similarity a candidate the users point at still needs to be relocated to
REVIEW_MIN = 0.25  # below this, what the users point at is too unlike the old code even to propose
HOIST_MIN = 0.4  # code similarity an ancestor's method needs to take a hoisted method
MIN_NAME = 8  # shorter names (`run`, `build`) are mentioned everywhere and identify nothing
MAX_USERS = 12  # a name used in more places than this is an API, and its users prove little
ANCESTOR_DEPTH = 4
SPLIT_LEAD = 0.15  # how far a base class must lead the subclass the users build to take the split (round 6)
DIGITS = re.compile(r"\d+")


@lru_cache(maxsize=50_000)
def _words(text: str) -> frozenset[str]:
    """The words of a file's text, remembered by content: releases share most files byte for byte,
    so stepping through ten of them reads each distinct file once."""
    return frozenset(WORD.findall(text))


class Users:
    """Where each name of the old tree is mentioned, and what the mentioning code became."""

    def __init__(self, m: Matcher):
        self.m = m
        self.nested = False  # users' heirs are decided on demand, but never from inside such a decision

    @cached_property
    def _words(self) -> dict[str, frozenset[str]]:
        """old file -> the words it uses; built once, only when a contested case needs it."""
        return {path: _words("\n".join(self.m.old.lines(path))) for path in self.m.old.by_file}

    def files_mentioning(self, name: str) -> list[str]:
        """Old files whose text uses the word `name`."""
        return [path for path, words in self._words.items() if name in words]

    def of(self, old: Symbol) -> list[Symbol]:
        """Innermost old symbols whose code mentions `old`'s name, `old` and its members excluded."""
        name = old.name.split("[")[0]
        found: dict[str, Symbol] = {}
        word = re.compile(rf"\b{re.escape(name)}\b")
        for path in self.files_mentioning(name):
            symbols = self.m.old.by_file.get(path, [])
            for number, line in enumerate(self.m.old.lines(path), start=1):
                if name not in line or not word.search(line):
                    continue
                inner = [s for s in symbols if s.start <= number <= s.end]
                if not inner:
                    continue  # an import or a module-level line: says nothing about who took over
                user = min(inner, key=lambda s: s.end - s.start)
                if user.anchor == old.anchor or user.anchor.startswith(old.anchor + ".") \
                        or old.anchor.startswith(user.anchor + "."):
                    continue  # itself, its members, or the function a closure lives in: not users
                found[user.anchor] = user
                if len(found) > MAX_USERS:
                    return []
        return list(found.values())

    def heirs(self, old: Symbol) -> list[Symbol]:
        """The new symbols that the users of `old` became (same anchor, or where they were relocated)."""
        out = []
        for user in self.of(old):
            if (same := self.m.new.get(user.anchor)) is not None:
                out.append(same)
                continue
            decision = self.m.decisions.get(user.anchor)
            if decision is None and not self.nested:
                self.nested = True
                try:
                    decision = self.m.decide(user.anchor)
                finally:
                    self.nested = False
            if decision is not None and decision.new and (heir := self.m.new.get(decision.new)) is not None:
                out.append(heir)
        return out


def users_follow(m: Matcher, lost: list[Symbol]) -> list[str]:
    """Re-decide classes and functions whose users' heirs name another candidate; return the old anchors changed."""
    changed = []
    for old in lost:
        d = m.decisions.get(old.anchor)
        if d is None or d.state not in {"orphaned", "moved", "renamed"} or len(old.name) < MIN_NAME:
            continue
        if old.kind not in {"class", "function", "method"} or (old.kind == "method" and not d.new and not _parent_kept(m, old)):
            continue
        if m.users is None or m.old_name_count(old) > 1:
            continue  # a name several old symbols share (`real_page_size_bytes`) has users that prove nothing
        scored = m.scored(old)
        if not scored:
            continue
        heirs = m.users.heirs(old)
        if not heirs:
            continue
        texts = [m.new.code(h) for h in heirs]
        named = {}
        for _, sim, anchor, _ in scored:
            if m.new_name_count(m.new.by_anchor[anchor]) > 1:
                continue  # the heirs naming `get_name` may mean any class's
            name = m.new.by_anchor[anchor].name.split("[")[0]
            pattern = re.compile(rf"\b{re.escape(name)}\b")
            if any(pattern.search(t) for t in texts):
                named.setdefault(name, []).append((sim, anchor))
        if len(named) != 1:
            continue  # none, or several: the users do not single one out
        (name, hits), = named.items()
        if len(hits) != 1:
            continue
        sim, anchor = hits[0]
        if d.new and base_name(m.new.by_anchor[d.new]) == base_name(old):
            continue  # a kept name is evidence of its own; users do not overrule it
        if anchor == d.new or (anchor in m.claimed and anchor != d.new):
            continue
        target = m.new.by_anchor[anchor]
        if target.anchor == d.new or another_version(old.name, target.name):
            continue
        current = ", ".join(short_name(h.anchor) for h in heirs[:3])
        top_sim, top = scored[0][1], scored[0][2]
        if old.kind == "class" and top_sim - sim >= SPLIT_LEAD and short_name(top) in class_bases(m.new.code(target)):
            if top == d.new or top in m.claimed:
                continue  # already the base, or another symbol's heir: the users prove nothing more
            # The users build a subclass of a far closer candidate: the class was split into a base
            # and variants, and the base holds the body (round 6: `NixlConnectorScheduler` ->
            # `NixlBaseConnectorScheduler` 0.71, whose pull variant the connector builds, 0.52).
            if d.new:
                m.claimed.discard(d.new)
            m.claim(old, top, top_sim, min(0.5 + top_sim / 2, 0.99),
                    [f"split: the heirs of its users ({current}) build {short_name(anchor)}, a subclass "
                     f"of {short_name(top)}", f"code similarity {top_sim:.2f}"])
            changed.append(old.anchor)
        elif sim >= USERS_MIN:
            if d.new:
                m.claimed.discard(d.new)
            m.claim(old, anchor, sim, min(0.5 + sim / 2, 0.99),
                    [f"users follow: the heirs of its users ({current}) use {short_name(anchor)}",
                     f"code similarity {sim:.2f}"])
            changed.append(old.anchor)
        elif sim >= REVIEW_MIN and d.state == "orphaned" and target.path in m.home(old):
            m.review(old, [(anchor, round(sim, 3))] + [(a, round(s, 3)) for _, s, a, _ in scored[:2] if a != anchor],
                     [f"users follow: the heirs of its users ({current}) use {short_name(anchor)}, "
                      f"but code similarity is only {sim:.2f}"])
            changed.append(old.anchor)
    return changed


def another_version(old: str, new: str) -> bool:
    """Names that differ only in their numbers (`KimiK25VisionConfig`, `KimiK3VisionConfig`) name
    another release of a model: its users moving to it say the old one was replaced, not renamed."""
    return old != new and DIGITS.sub("", old) == DIGITS.sub("", new)


def _parent_kept(m: Matcher, old: Symbol) -> bool:
    parent = parent_anchor(old.anchor)
    return parent is not None and (parent in m.new.by_anchor or bool((d := m.decisions.get(parent)) and d.new))


def hoisted(m: Matcher, lost: list[Symbol]) -> None:
    """An orphaned method whose class lives on, and one of whose new ancestors gained a method of its
    name (or, failing that, exactly one whose name keeps the old one or is kept in it:
    `_build_draft_attn_metadata` -> `_build_attn_metadata`)."""
    for old in lost:
        d = m.decisions.get(old.anchor)
        if d is None or d.state not in {"orphaned", "review"} or old.kind != "method":
            continue  # a review too: inheritance is firmer evidence than the users that proposed it
        parent = parent_anchor(old.anchor)
        went = parent if parent in m.new.by_anchor else (m.decisions[parent].new if parent in m.decisions else None)
        if not went or m.new.get(went) is None or m.new.by_anchor[went].kind != "class":
            continue
        options = []
        for ancestor in ancestors(m, m.new.by_anchor[went]):
            anchor = f"{ancestor.anchor}.{old.name}"
            if anchor in m.new.by_anchor and anchor not in m.old.by_anchor and anchor not in m.claimed:
                options.append(anchor)
        if not options:  # hoisted and renamed: exactly one new ancestor method keeps the old name, or is kept in it
            options = [s.anchor for ancestor in ancestors(m, m.new.by_anchor[went])
                       for s in m.fresh_members.get(ancestor.anchor, ())
                       if s.kind == "method" and s.anchor not in m.claimed and f"{went}.{s.name}" not in m.new.by_anchor
                       and (name_kept(old.name, s.name) or name_kept(s.name, old.name))]
            if len(options) != 1:
                continue
        best = max(options, key=lambda a: containment(m, old, m.new.by_anchor[a]))
        sim = m.sim(old, m.new.by_anchor[best])
        if sim < HOIST_MIN:
            continue
        m.claim(old, best, sim, min(0.5 + sim / 2, 0.99),
                [f"hoisted: {short_name(went)} inherits {short_name(best)} from {short_name(parent_anchor(best) or best)}",
                 f"holds {containment(m, old, m.new.by_anchor[best]):.0%} of the old body",
                 f"code similarity {sim:.2f}"])


def ancestors(m: Matcher, cls: Symbol, old: bool = False) -> list[Symbol]:
    """Classes `cls` inherits from (in the new tree, or the old one), nearest first; a base name
    defined twice is resolved to one in the same file, else skipped (guessing would be worse than
    stopping)."""
    index, named = (m.old, m.old_classes_named) if old else (m.new, m.classes_named)
    out: list[Symbol] = []
    todo = [cls]
    while todo and len(out) < ANCESTOR_DEPTH:
        current = todo.pop(0)
        for name in class_bases(index.code(current)):
            defs = [s for s in named.get(name, ()) if s.anchor != current.anchor]
            if len(defs) > 1:
                defs = [s for s in defs if s.path == current.path]
            if len(defs) == 1 and defs[0] not in out:
                out.append(defs[0])
                todo.append(defs[0])
    return out


def overrides_follow(m: Matcher, lost: list[Symbol]) -> None:
    """An orphaned override whose base method was renamed, while its class, living on, gained a
    method of the base's new name: the override was renamed with the interface it implements.

    `FileSystemTierManager.get_finished` overrode `SecondaryTierManager.get_finished`; the base
    method is now `get_finished_jobs`, and so is the override, rewritten beyond what code similarity
    alone could vouch for. Both halves are read from the trees: the old class inherits the old
    method, the new class inherits the new name from the class the base method went to.
    """
    for old in lost:
        d = m.decisions.get(old.anchor)
        if d is None or d.state not in {"orphaned", "review"} or old.kind != "method" or m.users is None:
            continue
        parent = parent_anchor(old.anchor)
        went = parent if parent in m.new.by_anchor else (m.decisions[parent].new if parent in m.decisions else None)
        if not went or m.new.get(went) is None or m.new.by_anchor[went].kind != "class" \
                or m.old.get(parent) is None or m.old.by_anchor[parent].kind != "class":
            continue
        base = next((f"{a.anchor}.{old.name}" for a in ancestors(m, m.old.by_anchor[parent], old=True)
                     if f"{a.anchor}.{old.name}" in m.old.by_anchor), None)
        if base is None or base in m.new.by_anchor:
            continue  # not an override, or the base kept its name: nothing was renamed
        decision = m.decisions.get(base)
        if decision is None and not m.users.nested:
            m.users.nested = True
            try:
                decision = m.decide(base)
            finally:
                m.users.nested = False
        if decision is None or decision.state != "renamed" or not decision.new:
            continue
        renamed = m.new.by_anchor[decision.new]
        anchor = f"{went}.{renamed.name}"
        home = parent_anchor(renamed.anchor)
        if anchor not in m.new.by_anchor or anchor in m.old.by_anchor or anchor in m.claimed \
                or not any(a.anchor == home for a in ancestors(m, m.new.by_anchor[went])):
            continue
        sim = m.sim(old, m.new.by_anchor[anchor])
        because = f"override follows its base: {short_name(base)} became {short_name(decision.new)}, " \
                  f"which {short_name(went)} now overrides"
        # The interface may have been split (`scale_elastic_ep` -> `prepare_` + `commit_elastic_ep`):
        # when the old override's code is closer to another new method of the interface that the
        # class also overrides, structure and code disagree, and a person decides, unless the name
        # settles it: the old name lives on in the new one (`get_finished` -> `get_finished_jobs`).
        interface = {s.name for s in m.fresh_members.get(home, ())} - {renamed.name}
        rivals = sorted(((m.sim(old, s), s.anchor) for s in m.fresh_members.get(went, ())
                         if s.name in interface and s.anchor not in m.claimed), reverse=True)
        if rivals and rivals[0][0] > sim and not name_kept(old.name, renamed.name):
            m.review(old, [(anchor, round(sim, 3)), (rivals[0][1], round(rivals[0][0], 3))],
                     [because, f"but its code is closer to {short_name(rivals[0][1])} "
                               f"({rivals[0][0]:.2f} against {sim:.2f}), also new in that interface"])
            continue
        m.claim(old, anchor, sim, min(0.5 + sim / 2, 0.99), [because, f"code similarity {sim:.2f}"])


def containment(m: Matcher, old: Symbol, new: Symbol) -> float:
    """Share of the old body's tokens found, in order, in the new one (LCS / |old|)."""
    a, b = m.toks(m.old, old, False), m.toks(m.new, new, False)
    if not a:
        return 0.0
    from rapidfuzz.distance import LCSseq
    return LCSseq.similarity(a, b) / len(a)


def uses_follow(m: Matcher, lost: list[Symbol]) -> None:
    """An orphan that used a symbol which was renamed: its heir, next door, uses the new name.

    `create_handlers` built a `CpuGpuOffloadingHandlers`; that class is now `CPUOffloadingWorker`,
    and of the new methods of its class only `create_worker` names it. Only renamed, distinctive
    symbols count (a name kept, or shared by several classes, says nothing), and only candidates in
    the symbol's home (its file, or the class its parent became).
    """
    for old in lost:
        d = m.decisions.get(old.anchor)
        if d is None or d.state != "orphaned" or m.users is None or m.users.nested:
            continue
        used = set()
        for word in sorted(m.ids(m.old, old)):
            user = m.old_by_name.get(word, [])
            if word == old.name or len(word) < MIN_NAME or len(user) != 1 or user[0].anchor in m.new.by_anchor:
                continue
            decision = m.decisions.get(user[0].anchor)
            if decision is None:  # decided on demand, once, never from inside such a decision
                m.users.nested = True
                try:
                    decision = m.decide(user[0].anchor)
                finally:
                    m.users.nested = False
            if decision.state == "renamed" and decision.new:
                used.add(m.new.by_anchor[decision.new].name)
        if not used:
            continue
        homes = m.home(old)
        parent = parent_anchor(old.anchor)
        went = parent if parent in m.new.by_anchor else (m.decisions[parent].new if parent in m.decisions else None)
        hits = []
        for _, sim, anchor, _ in m.scored(old):
            new = m.new.by_anchor[anchor]
            if anchor in m.claimed or not (new.path in homes or (went and parent_anchor(anchor) == went)):
                continue
            if used & m.ids(m.new, new):
                hits.append((sim, anchor))
        if len(hits) != 1:
            continue
        sim, anchor = hits[0]
        names = ", ".join(sorted(used & m.ids(m.new, m.new.by_anchor[anchor])))
        if sim >= USERS_MIN:
            m.claim(old, anchor, sim, min(0.5 + sim / 2, 0.99),
                    [f"uses follow: it used what is now {names}; of its new neighbours only "
                     f"{short_name(anchor)} does", f"code similarity {sim:.2f}"])
        elif sim >= REVIEW_MIN:
            m.review(old, [(anchor, round(sim, 3))],
                     [f"uses follow: it used what is now {names}; of its new neighbours only "
                      f"{short_name(anchor)} does, but code similarity is only {sim:.2f}"])
