"""Re-anchoring through every release in between, checked against the two ends compared directly.

Ten releases apart, a function may have been renamed in one release and rewritten in a later one:
compared end to end its code no longer looks like it, and the note is orphaned. Release by release
each change is small, so the rename is seen when it happens and the rewrite later is only a change
of the same symbol. This is what a reviewer with `git log --follow` does, with the package index's
releases standing in for the history (no git history ships in an sdist).

Stepping has its own risk: an error in any step carries to the end. So every anchor the last tree
lacks is decided twice, by the chain of steps and by the direct comparison of the two ends
(`match.Matcher` both times), and the two are combined with one rule, fixed before it was scored:

- both agree: that decision, with both lines of evidence;
- one abstains (`review`): the other's decision;
- they name different fates: `review`, listing both candidates, because the evidence conflicts
  and a wrong move misplaces a note silently while a review asks a person;
- except where the history settles it:
  - (round 12) the walk saw the symbol go with nothing to take its place, and the direct
    comparison's counterpart was only created in a later release: the symbol is orphaned. Code
    written after a symbol was deleted is new code that happens to look like it (a later model's
    copy of the same config getter), not the symbol moved;
  - (round 14) the direct comparison finds nothing, and the walk saw one rename inside the class the
    symbol still belongs to: the rename stands (`EngineCore.log_iteration_details` ->
    `capture_iteration_details`), since its code was rewritten only after it was renamed;
  - (round 15) the direct comparison finds nothing, and the walk carried the symbol under its own
    name, each move nearly word for word (`CARRIED`): a file moved, then rewritten later
    (`NixlConnectorWorker.register_kv_caches` -> `NixlBaseConnectorWorker.register_kv_caches`);
    (round 16) likewise where the direct comparison finds only a symbol of another name;
  - (round 17) the walk saw the symbol go with nothing in its place, and the direct comparison only
    offers another name in another file: the symbol is orphaned.

An anchor the last tree still has is the same symbol, decided by the direct comparison alone.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..symbols import SymbolIndex
from .decision import Decision
from .match import CHANGE_THRESHOLD, Matcher
from .similarity import base_name, parent_anchor

CARRIED = 0.97  # each move of a walk this sure, under its own name, outweighs a direct comparison that finds nothing


@dataclass(slots=True)
class Step:
    """One release-to-release move on an anchor's way through the chain."""

    into: str  # the release the move was seen in
    state: str
    new: str
    confidence: float


@dataclass(slots=True)
class Walk:
    """Where the chain of steps took one anchor: its name in the last tree, or where it stopped."""

    state: str  # "anchored", or the stopping step's "orphaned" / "review"
    new: str | None
    moves: list[Step] = field(default_factory=list)
    stopped_in: str | None = None
    stop: Decision | None = None


class Chain:
    """Decides anchors of `indexes[0]` in `indexes[-1]` (as `Matcher` does) through the releases between.

    `labels` names each index (`0.22.1`, `0.23.0`, ...). Decisions are memoised like the matcher's.
    """

    def __init__(self, indexes: list[SymbolIndex], labels: list[str], threshold: float = CHANGE_THRESHOLD):
        if len(indexes) < 3 or len(indexes) != len(labels):
            raise ValueError("a chain needs the two end trees and at least one tree between, each labelled")
        self.old, self.new, self.labels, self.indexes = indexes[0], indexes[-1], labels, indexes
        self.direct = Matcher(self.old, self.new, threshold)
        self.steps = [Matcher(a, b, threshold) for a, b in zip(indexes, indexes[1:])]
        for step in self.steps:  # a shell in a release between may move on: only the last tree says
            step.kept_shells = False  # the anchor lives on (round 24)
        self.decisions: dict[str, Decision] = {}
        self.walks: dict[str, Walk] = {}
        self._names: dict[int, set[str]] = {}
        self.born_after = True  # round 12 rule; tests switch it off to show what it changes
        self.in_class = True  # round 14 rule, likewise
        self.carried = True  # round 15 rule, likewise
        self.over_rename = True  # round 16: ... also over a direct comparison's rename
        self.far_rename = True  # round 17: a deletion seen when it happened outweighs a rename into another file

    def decide(self, anchor: str) -> Decision:
        if anchor not in self.decisions:
            self.decide_many([anchor])
        return self.decisions[anchor]

    def decide_many(self, anchors: list[str]) -> list[Decision]:
        todo = [a for a in dict.fromkeys(anchors) if a not in self.decisions]
        direct = dict(zip(todo, self.direct.decide_many(todo)))
        lost = [a for a in todo if not self.new.has(a) and self.old.has(a)]
        self._walk(lost)
        for anchor in todo:
            d = direct[anchor]
            self.decisions[anchor] = combine(d, self.walks[anchor], self) if anchor in self.walks else d
        return [self.decisions[a] for a in anchors]

    def _walk(self, anchors: list[str]) -> None:
        """Carry each anchor through the steps in one batch per step (file-mates are judged together)."""
        walks = {a: Walk("anchored", a) for a in anchors}
        for step, matcher in enumerate(self.steps):
            alive = [w for w in walks.values() if w.state == "anchored"]
            decided = dict(zip([w.new for w in alive], matcher.decide_many([w.new for w in alive])))
            into = self.labels[step + 1]
            for w in alive:
                d = decided[w.new]
                if d.state in {"orphaned", "review"}:
                    w.state, w.new, w.stopped_in, w.stop = d.state, None, into, d
                elif d.new != w.new:
                    w.moves.append(Step(into, d.state, d.new, d.confidence))
                    w.new = d.new
        self.walks.update(walks)

    def first_seen(self, anchor: str) -> int:
        """The first tree holding a symbol of `anchor`'s qualified name, in any file (a symbol moved
        between files on its way is still the same symbol, so the path is not asked)."""
        qualname = anchor.partition("::")[2]
        return next(i for i, index in enumerate(self.indexes) if qualname in self._qualnames(i))

    def _qualnames(self, i: int) -> set[str]:
        if i not in self._names:
            self._names[i] = {a.partition("::")[2] for a in self.indexes[i].by_anchor}
        return self._names[i]

    def path(self, walk: Walk) -> str:
        return "; ".join(f"{s.state} to {s.new} in {s.into} (confidence {s.confidence:.2f})" for s in walk.moves)


def combine(direct: Decision, walk: Walk, chain: Chain) -> Decision:
    """One decision from the direct comparison and the chain's walk, by the rule in the module docstring."""
    span = f"{chain.labels[0]} -> {chain.labels[-1]} release by release"
    if walk.state == "anchored":
        stepped = _moved(direct.old, walk, chain)
    else:
        where = "gone in" if walk.state == "orphaned" else "left for review in"
        last = f" (last seen as {walk.moves[-1].new})" if walk.moves else ""
        why = f"{span}: {where} {walk.stopped_in}{last}"
        stepped = Decision(direct.old, walk.state, None, similarity=0.0, confidence=0.0,
                           evidence=[why, *(walk.stop.evidence if walk.stop else [])],
                           candidates=direct.candidates)
    if stepped.state == "review":  # the walk abstained (perhaps both did): the direct comparison decides
        kept = direct
    elif direct.state == "review":
        kept = stepped
    elif direct.new == stepped.new:
        both = "agrees" if stepped.new else "also finds no counterpart"
        kept = direct if direct.new else stepped
        merged = list(dict.fromkeys([*stepped.evidence, f"the direct comparison {both}", *direct.evidence]))
        return Decision(direct.old, kept.state, kept.new, kept.similarity,
                        max(direct.confidence, stepped.confidence), merged, kept.candidates)
    elif renamed_in_its_class(direct, walk, chain):
        return Decision(direct.old, stepped.state, stepped.new, stepped.similarity, stepped.confidence,
                        [*stepped.evidence, f"renamed inside its class in {walk.moves[0].into}; the direct "
                         "comparison finds too little of its code left after the releases since"],
                        direct.candidates)
    elif carried_intact(direct, walk, chain):
        instead = ("the direct comparison finds too little of its code left after the releases since"
                   if direct.state == "orphaned" else f"where the direct comparison renames it to {direct.new}")
        return Decision(direct.old, stepped.state, stepped.new, stepped.similarity, stepped.confidence,
                        [*stepped.evidence, f"carried under its own name, nearly unchanged at each move; {instead}"],
                        direct.candidates)
    elif far_rename(direct, walk, chain):
        return Decision(direct.old, "orphaned", None, similarity=0.0, confidence=0.0,
                        evidence=[*stepped.evidence, f"the direct comparison offers only {direct.new}, another "
                                  "name in another file"], candidates=direct.candidates)
    elif born_after_it_went(direct, walk, chain):
        born = chain.labels[chain.first_seen(direct.new)]
        return Decision(direct.old, "orphaned", None, similarity=0.0, confidence=0.0,
                        evidence=[*stepped.evidence, f"the direct comparison's counterpart {direct.new} was "
                                  f"created in {born}, after this symbol was gone"], candidates=direct.candidates)
    else:
        fates = [f"direct: {direct.state}{' to ' + direct.new if direct.new else ''}",
                 f"release by release: {stepped.state}{' to ' + stepped.new if stepped.new else ''}"]
        listed = [(d.new, d.similarity) for d in (stepped, direct) if d.new]
        rest = [c for c in direct.candidates if c[0] not in {a for a, _ in listed}]
        return Decision(direct.old, "review", None, similarity=0.0, confidence=0.0,
                        evidence=["the two comparisons disagree", *fates], candidates=(listed + rest)[:4])
    note = "the direct comparison abstained" if kept is stepped else "the release-by-release walk abstained"
    return Decision(kept.old, kept.state, kept.new, kept.similarity, kept.confidence,
                    [*kept.evidence, note], kept.candidates)


def renamed_in_its_class(direct: Decision, walk: Walk, chain: Chain) -> bool:
    """Whether the walk saw one rename, inside the class the symbol still belongs to, which the direct
    comparison cannot see for the edits since (round 14)."""
    if not chain.in_class or direct.state != "orphaned" or walk.state != "anchored" or len(walk.moves) != 1:
        return False
    parent = parent_anchor(direct.old)
    cls = chain.old.get(parent) if parent else None
    return cls is not None and cls.kind == "class" and parent == parent_anchor(walk.new) and chain.new.has(parent)


def carried_intact(direct: Decision, walk: Walk, chain: Chain) -> bool:
    """Whether the walk carried the symbol under its own name, nearly unchanged at every move,
    where the direct comparison finds nothing (round 15) or only another name (round 16: the pull
    worker's `_read_blocks_for_req`, not the push worker's `_xfer_blocks_for_req` at 0.65)."""
    if not chain.carried or walk.state != "anchored" or not walk.moves:
        return False
    if direct.state != "orphaned" and not (direct.state == "renamed" and chain.over_rename):
        return False
    return all(s.state == "moved" and s.confidence >= CARRIED for s in walk.moves)


def far_rename(direct: Decision, walk: Walk, chain: Chain) -> bool:
    """Whether the walk saw the symbol go with nothing in its place, and the direct comparison only
    offers a symbol of another name in another file (round 17).

    A rename and a move at once, found only end to end, is the weakest relocation the direct
    comparison makes; a deletion seen in the release it happened outweighs it
    (`tool_calls_to_openai_format` is not `deepseek_v41_encoding.tool_calls_from_openai_format`).
    A rename within the same file stays a review: there the direct comparison was right as often.
    """
    if not chain.far_rename or walk.state != "orphaned" or direct.state != "renamed" or direct.new is None:
        return False
    return direct.new.partition("::")[0] != direct.old.partition("::")[0]


def born_after_it_went(direct: Decision, walk: Walk, chain: Chain) -> bool:
    """Whether the walk orphaned the symbol in a release the direct comparison's counterpart did not
    yet exist in (round 12)."""
    if not chain.born_after or walk.state != "orphaned" or direct.new is None or direct.new not in chain.new.by_anchor:
        return False
    return chain.first_seen(direct.new) > chain.labels.index(walk.stopped_in)


def _moved(anchor: str, walk: Walk, chain: Chain) -> Decision:
    """The walk's end as a relocation decision, scored against the two end trees."""
    old, new = chain.old.get(anchor), chain.new.get(walk.new)
    if old is None or new is None:  # a whole file: its walk ends at a path
        return Decision(anchor, "moved", walk.new, similarity=1.0,
                        confidence=min((s.confidence for s in walk.moves), default=1.0),
                        evidence=[f"release by release: {chain.path(walk)}"])
    sim = chain.direct.sim(old, new)
    state = "moved" if base_name(old) == base_name(new) else "renamed"
    return Decision(anchor, state, walk.new, similarity=round(sim, 3),
                    confidence=min((s.confidence for s in walk.moves), default=1.0),
                    evidence=[f"release by release: {chain.path(walk)}", f"code similarity end to end {sim:.2f}"])
