"""Deciding where each symbol of one vLLM tree went in another.

For an old anchor the answer is one of five states:

- **unchanged**: same anchor, same fingerprint, same lines;
- **shifted**: same anchor, other lines, or code edited by less than the review threshold;
- **changed**: same anchor, code edited beyond the threshold: a person must re-read the note;
- **moved** / **renamed**: the anchor is gone, and code similarity found it elsewhere (moved: same
  name in another file or class; renamed: another name), with the evidence and a confidence;
- **orphaned**: no counterpart good enough; the nearest candidates are still listed;
- **review**: structure points at one candidate (its users' heirs use it) but the code is too
  different to be sure: nothing is moved or orphaned, a person picks among the candidates listed.

Why code similarity and not names alone: in a fast-moving tree, names are reused (dozens of
`get_name` methods) and files are split, so a name match without similar code is a guess. Why not
similarity alone: tiny bodies (`return "FLASH_ATTN"`) are identical across many classes, so a match
must also agree with where the symbol's parent went. Both signals are combined below; every accepted
move records which of them fired, so a reviewer can judge it.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from functools import cached_property, lru_cache

from ..symbols import Symbol, SymbolIndex
from .boilerplate import absorbed_orphans, boilerplate_to_review, shared_code_orphans
from .decision import Decision
from .shells import follow_shell
from .twins import twins_follow
from .accept import RENAME_MIN, TINY_TOKENS, acceptable, level, tightest_kept
from .heirs import closure_of_another, heir_of_another
from .imports import imported_heirs, imports_follow
from .interfaces import interfaces_follow
from .evidence import aliases_break_ties, classes_follow_members, identifiers, names_disagree, overlap, split_classes
from .similarity import (MIN_LINE, base_name, moved_modules, other_vendor, package_files, parent_anchor,
                         platform_siblings, same_vendor, similarity, tokens)
from .structure import Users, hoisted, overrides_follow, users_follow, uses_follow

CHANGE_THRESHOLD = 0.9  # below this similarity a same-anchor symbol is "changed" (review it)
MAX_DF = 60  # a line found in more places than this says nothing about identity
PAIR_MARGIN = 0.05  # how much closer another lost symbol must be to a rival for it not to count

class Matcher:
    """Maps anchors of `old` onto `new`; decisions are memoised, so asking twice is free."""

    def __init__(self, old: SymbolIndex, new: SymbolIndex, threshold: float = CHANGE_THRESHOLD):
        self.old, self.new, self.threshold = old, new, threshold
        self.decisions: dict[str, Decision] = {}
        self.claimed: set[str] = set()
        self._tokens: dict[tuple, list[int]] = {}
        self._sims: dict[tuple[str, str], float] = {}
        self._moved_to: dict[str, set[str]] = defaultdict(set)  # old file -> files its symbols went to
        self.users: Users | None = Users(self)
        self.kept_name: dict[str, str | None] = {}  # old anchor -> the one candidate keeping its name, if any
        self.boilerplate = True  # round 8 rule; tests switch it off to show what it changes
        self.shells = True  # round 10 rule (shells.py), likewise
        self.modules = True  # round 11: a module moved under its own file name is its symbols' home
        self.namesakes = True  # round 12: another lost symbol's namesake heir is no rival
        self.twins = True  # round 13: copies merged into one helper follow it (twins.py)
        self.identical = True  # round 15: a body found once in each tree is the symbol (accept.word_for_word)
        self.clear_heirs = True  # round 16: a namesake far ahead under a name used a few times (accept.clear_heir)
        self.closures = True  # round 18: a closure keeping another's qualified name is that one's heir
        self.standing = True  # round 19: only rivals of as much structural standing block a match
        self.imports = True  # round 20: an orphan's old module importing its name says where it went
        self.importers = True  # round 21: ... or the modules that imported it from there, if they agree
        self.interfaces = True  # round 22: a method renamed with every override of it (interfaces.py)
        self.platforms = True  # round 23: another platform's twin (`forward_xpu` -> `forward_hip`) is no heir
        self.shared = True  # round 24: a cross-file rename whose code a living namesake holds is a copy
        self.kept_shells = True  # round 24: an anchor that lives on as a shell stays put (`changed`)
        self.kept_identical = True  # round 25: the one unchanged body keeping the whole old name
        self.code_size = True  # round 26: a body is tiny by its code, comments and docstring aside
        self.paired = True  # round 26: a rival that is another lost symbol's clear match is no rival
        self.absorbed = True  # round 26: code a living symbol took in is merged, not renamed
        self.imported_heir = True  # round 26: a fresh symbol the old module now imports instead
        self.vendors = True  # round 27: another vendor's copy is no rival of one in the symbol's own folder
        self.twin_methods = True  # round 27: copies of one class's method merged follow each other

    # -- code access -------------------------------------------------------------------------
    def code(self, index: SymbolIndex, symbol: Symbol) -> str:
        return index.code(symbol)

    def toks(self, index: SymbolIndex, symbol: Symbol, prose: bool = True) -> list[int]:
        key = (id(index), symbol.anchor, prose)
        if key not in self._tokens:
            self._tokens[key] = tokens(index.code(symbol), base_name(symbol), prose)
        return self._tokens[key]

    def sim(self, old: Symbol, new: Symbol, index: SymbolIndex | None = None) -> float:
        """Code similarity with and without docstrings and comments, whichever is higher; `new` is a
        symbol of `index` (the new tree unless another is given: the old one, to compare old with old)."""
        index = self.new if index is None else index
        full = similarity(self.toks(self.old, old), self.toks(index, new))
        if full == 1.0:
            return full
        return max(full, similarity(self.toks(self.old, old, False), self.toks(index, new, False)))

    @cached_property
    def fresh(self) -> list[Symbol]:
        """New symbols whose anchor did not exist before: the only places a lost symbol can go."""
        return [s for s in self.new.by_anchor.values() if s.anchor not in self.old.by_anchor]

    @cached_property
    def _by_fingerprint(self) -> dict[str, list[Symbol]]:
        return group(self.fresh, lambda s: s.fingerprint)

    @cached_property
    def _old_fingerprints(self) -> Counter[str]:
        return Counter(s.fingerprint for s in self.old.by_anchor.values())

    def fingerprint_count(self, fingerprint: str) -> tuple[int, int]:
        """How many symbols hold this code: in the old tree, and among the new tree's fresh ones."""
        return self._old_fingerprints.get(fingerprint, 0), len(self._by_fingerprint.get(fingerprint, ()))

    @cached_property
    def _by_name(self) -> dict[str, list[Symbol]]:
        return group(self.fresh, base_name)

    def fresh_named(self, name: str) -> list[Symbol]:
        """Fresh symbols whose base name (`base_name`) is `name`."""
        return self._by_name.get(name, [])

    @cached_property
    def _name_count(self) -> Counter[str]:
        return Counter(base_name(s) for s in self.new.by_anchor.values())

    @cached_property
    def _old_name_count(self) -> Counter[str]:
        return Counter(base_name(s) for s in self.old.by_anchor.values())

    def _home(self, old: Symbol) -> set[str]:
        """Files where `old` would be expected: its own, and wherever its class went."""
        homes = {old.path} | self._moved_to.get(old.path, set()) | self._package_files.get(old.path, set())
        parent = parent_anchor(old.anchor)
        if parent and (d := self.decisions.get(parent)) and d.new:
            homes.add(d.new.partition("::")[0])
        return homes

    @cached_property
    def _package_files(self) -> dict[str, set[str]]:
        # a module that became a package (round 6), or moved keeping its file name (round 11)
        homes = package_files(self.old, self.new)
        for path, files in (moved_modules(self.old, self.new) if self.modules else {}).items():
            homes[path] = homes.get(path, set()) | files
        return homes

    @cached_property
    def _fresh_by_file(self) -> dict[str, list[Symbol]]:
        return group(self.fresh, lambda s: s.path)

    @cached_property
    def _line_postings(self) -> dict[int, list[tuple[str, int]]]:
        """Inverted index: a distinctive code line -> where it occurs in files with fresh symbols.

        Lines, not tokens, keep this cheap (a tree has ten times fewer lines than tokens); it only
        proposes candidates, and the token-level similarity decides.
        """
        postings: dict[int, list[tuple[str, int]]] = defaultdict(list)
        for path in self._fresh_by_file:
            for h, number in _distinctive_lines(tuple(self.new.lines(path))):
                postings[h].append((path, number))
        return {h: hits for h, hits in postings.items() if len(hits) <= MAX_DF}

    def _shared_lines(self, old: Symbol) -> dict[str, int]:
        """Fresh symbols of the same family as `old`, by how many of its distinctive lines they hold."""
        counts: dict[str, int] = defaultdict(int)
        lines = self.old.lines(old.path)[old.start - 1:old.end]
        family = _family(old.kind)
        for h in {hash(t) for line in lines if len(t := line.strip()) >= MIN_LINE}:
            for path, number in self._line_postings.get(h, ()):
                for s in self._fresh_by_file[path]:
                    if s.start <= number <= s.end and _family(s.kind) == family:
                        counts[s.anchor] += 1
        return counts

    # -- decisions ---------------------------------------------------------------------------
    def decide(self, anchor: str) -> Decision:
        """The fate of `anchor` (a symbol or a whole file of the old tree)."""
        if anchor not in self.decisions:
            self.decide_many([anchor])
        return self.decisions[anchor]

    def decide_many(self, anchors: list[str]) -> list[Decision]:
        """Decide a batch; moves are assigned parents first, best evidence first, one to one."""
        todo = [a for a in dict.fromkeys(anchors) if a not in self.decisions]
        lost: list[Symbol] = []
        files: list[str] = []
        for anchor in todo:
            if "::" not in anchor:
                files.append(anchor)
                continue
            old = self.old.get(anchor)
            if old is None:
                self.decisions[anchor] = Decision(anchor, "orphaned", similarity=0.0, confidence=0.0,
                                                  evidence=["not a symbol of the old tree"])
            elif (new := self.new.get(anchor)) is not None:
                self.decisions[anchor] = follow_shell(self, self._same_anchor(old, new))
            else:
                lost.append(old)
        # A symbol is judged with its file-mates: where the rest of its file went is evidence for
        # it, so every lost symbol of the same files joins the batch (cheap: a few per file).
        asked = {s.anchor for s in lost}
        for path in sorted({s.path for s in lost}):
            for s in self.old.by_file.get(path, []):
                if s.anchor not in asked and s.anchor not in self.decisions and s.anchor not in self.new.by_anchor:
                    lost.append(s)
                    asked.add(s.anchor)
        # Parents are decided before their members, so members can follow their class.
        for anchor in sorted({p for s in lost if (p := parent_anchor(s.anchor)) and p not in self.decisions
                              and p not in asked}):
            if self.old.get(anchor) is not None:
                self.decide(anchor)
        by_depth: dict[int, list[Symbol]] = defaultdict(list)
        for s in lost:
            by_depth[s.qualname.count(".") + s.qualname.count("::")].append(s)
        for depth in sorted(by_depth):
            self._assign(by_depth[depth])
        # A later pass reads evidence the first rounds could not (a class split across a base and its
        # variants); members of a class it relocates get a second chance to follow it.
        before = {s.anchor for s in lost if self.decisions[s.anchor].new is None}
        split_classes(self, lost)
        moved = {a for a in before if self.decisions[a].new is not None}
        self._reassign_members(lost, moved, only_orphans=True)
        # Users and inheritance (structure.py) can overrule code similarity; members of a class
        # they re-decide are decided again, since they may have followed the class's old target.
        self._reassign_members(lost, set(users_follow(self, lost)), only_orphans=False)
        uses_follow(self, lost)
        hoisted(self, lost)
        if self.interfaces:
            interfaces_follow(self, lost)  # round 22
        overrides_follow(self, lost)
        names_disagree(self, lost)
        classes_follow_members(self, lost)
        aliases_break_ties(self, lost)
        if self.boilerplate:
            boilerplate_to_review(self, lost)  # round 8
        if self.shared:
            shared_code_orphans(self, lost)  # round 24
        if self.absorbed:
            absorbed_orphans(self, lost)  # round 26
        for s in lost:  # round 10: a name kept by a thin shell does not keep the note
            self.decisions[s.anchor] = follow_shell(self, self.decisions[s.anchor])
        if self.twins:
            twins_follow(self, lost)  # round 13
        if self.imports:
            imports_follow(self, lost)  # round 20
        if self.imported_heir:
            imported_heirs(self, lost)  # round 26
        for path in files:
            self.decisions[path] = self._file(path)
        return [self.decisions[a] for a in anchors]

    def _reassign_members(self, lost: list[Symbol], parents: set[str], only_orphans: bool) -> None:
        """Decide again the members (at any depth) of re-decided classes, outermost first."""
        if not parents:
            return
        again = [s for s in lost if any(s.anchor.startswith(p + ".") for p in parents)
                 and (not only_orphans or self.decisions[s.anchor].new is None)]
        for s in again:
            if (new := self.decisions.pop(s.anchor).new) is not None:
                self.claimed.discard(new)
        self._refresh_moved_to(list(parents))
        by_depth: dict[int, list[Symbol]] = defaultdict(list)
        for s in again:
            by_depth[s.qualname.count(".")].append(s)
        for depth in sorted(by_depth):
            self._assign(by_depth[depth])

    @cached_property
    def old_by_qualname(self) -> dict[str, list[Symbol]]:
        return group(self.old.by_anchor.values(), lambda s: s.qualname)

    def home(self, old: Symbol) -> set[str]:
        return self._home(old)

    def old_name_count(self, symbol: Symbol) -> int:
        return self._old_name_count.get(base_name(symbol), 0)

    def new_name_count(self, symbol: Symbol) -> int:
        return self._name_count.get(base_name(symbol), 0)

    def _refresh_moved_to(self, anchors: list[str]) -> None:
        """Forget where re-decided symbols' files were thought to go, and recount from the decisions now."""
        for path in {a.partition("::")[0] for a in anchors}:
            self._moved_to[path] = {d.new.partition("::")[0] for s in self.old.by_file.get(path, [])
                                    if (d := self.decisions.get(s.anchor)) and d.new and d.confidence >= 0.9}

    def candidates_of(self, old: Symbol) -> list[str]:
        """The new symbols worth comparing with `old` (see `_candidates`), as anchors."""
        return list(self._candidates(old))

    def scored(self, old: Symbol) -> list[tuple[float, float, str, list[str]]]:
        """Candidates for `old` of its own family, best score first: (score, similarity, anchor, reasons)."""
        rows = [self._score(old, anchor, reasons) + (anchor,) for anchor, reasons in self._candidates(old).items()]
        return sorted(((score, sim, anchor, reasons) for score, sim, reasons, anchor in rows if sim > 0),
                      key=lambda item: -item[0])

    def review(self, old: Symbol, candidates: list[tuple[str, float]], evidence: list[str]) -> None:
        """Leave `old` to a person: evidence points somewhere, but not strongly enough to move it."""
        self.decisions[old.anchor] = Decision(old.anchor, "review", None, similarity=candidates[0][1] if candidates else 0.0,
                                              confidence=0.0, evidence=evidence, candidates=candidates)

    @cached_property
    def old_by_name(self) -> dict[str, list[Symbol]]:
        return group(self.old.by_anchor.values(), lambda s: s.name)

    @cached_property
    def classes_named(self) -> dict[str, list[Symbol]]:
        return _classes_named(self.new)

    @cached_property
    def old_classes_named(self) -> dict[str, list[Symbol]]:
        return _classes_named(self.old)

    def _same_anchor(self, old: Symbol, new: Symbol) -> Decision:
        moved_lines = (old.start, old.end) != (new.start, new.end)
        if old.fingerprint == new.fingerprint:
            state = "shifted" if moved_lines else "unchanged"
            return Decision(old.anchor, state, new.anchor, evidence=["same anchor", "same fingerprint"])
        sim = self.sim(old, new)
        state = "changed" if sim < self.threshold else "shifted"
        return Decision(old.anchor, state, new.anchor, similarity=round(sim, 3), confidence=1.0,
                        evidence=["same anchor", f"code similarity {sim:.2f}"])

    def _candidates(self, old: Symbol) -> dict[str, list[str]]:
        """New symbols worth comparing with `old`, each with the reasons it was proposed."""
        found: dict[str, list[str]] = defaultdict(list)
        for s in self._by_fingerprint.get(old.fingerprint, []):
            found[s.anchor].append("same fingerprint")
        same_named = self._by_name.get(base_name(old), [])
        if len(same_named) > 20:  # `__init__`, `forward`: only the ones next door are worth a look
            homes = self._home(old)
            same_named = [s for s in same_named if s.path in homes]
        for s in same_named:
            found[s.anchor].append("same name")
        parent = parent_anchor(old.anchor)
        if parent and (moved := self.decisions.get(parent)) and moved.new and moved.new != parent:
            sep = "." if old.path.endswith(".py") else "::"
            twin = f"{moved.new}{sep}{old.qualname[len(parent.partition('::')[2]) + len(sep):]}"
            if twin in self.new.by_anchor and twin not in self.old.by_anchor:
                found[twin].append("follows its parent")
        if len(self.toks(self.old, old)) >= TINY_TOKENS:
            counts = self._shared_lines(old)
            # ties broken by anchor, not by set order: the same run must give the same answer (round 5)
            for anchor, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:8]:
                found[anchor].append("shared code")
        neighbours = [s for s in self._fresh_by_file.get(old.path, ()) if _family(s.kind) == _family(old.kind)]
        if len(neighbours) <= 40:  # a rename in place: compare with every new name in the file
            for s in neighbours:
                found[s.anchor].append("same file")
        if parent:  # a rename inside its class, however big the file: every new member of that class
            went = parent if parent in self.new.by_anchor else (self.decisions[parent].new if parent in self.decisions else None)
            for s in self._fresh_members.get(went, ()) if went else ():
                if _family(s.kind) == _family(old.kind) and "same file" not in found.get(s.anchor, ()):
                    found[s.anchor].append("same class")
        return found

    @property
    def fresh_by_file(self) -> dict[str, list[Symbol]]:
        return self._fresh_by_file

    @property
    def fresh_members(self) -> dict[str, list[Symbol]]:
        return self._fresh_members

    def ids(self, index: SymbolIndex, symbol: Symbol) -> frozenset[str]:
        key = (id(index), symbol.anchor, "ids")
        if key not in self._tokens:
            self._tokens[key] = identifiers(index.code(symbol))  # type: ignore[assignment]
        return self._tokens[key]  # type: ignore[return-value]

    def claim(self, old: Symbol, anchor: str, sim: float, confidence: float, evidence: list[str]) -> None:
        """Record `old` -> `anchor` as a relocation found by a later pass (see evidence.py)."""
        self.claimed.add(anchor)
        state = "moved" if base_name(old) == base_name(self.new.by_anchor[anchor]) else "renamed"
        self.decisions[old.anchor] = Decision(old.anchor, state, anchor, similarity=round(sim, 3),
                                              confidence=round(confidence, 3), evidence=evidence)

    @cached_property
    def _fresh_members(self) -> dict[str, list[Symbol]]:
        table = defaultdict(list)
        for s in self.fresh:
            if parent := parent_anchor(s.anchor):
                table[parent].append(s)
        return table

    def _score(self, old: Symbol, anchor: str, reasons: list[str]) -> tuple[float, float, list[str]]:
        new = self.new.by_anchor[anchor]
        if _family(old.kind) != _family(new.kind):
            return 0.0, 0.0, reasons
        if self.platforms and platform_siblings(base_name(old), base_name(new)):
            return 0.0, 0.0, reasons
        key = (old.anchor, anchor)
        if key not in self._sims:
            self._sims[key] = self.sim(old, new)
        sim = self._sims[key]
        same_name = base_name(old) == base_name(new)
        score = sim + 0.1 * same_name + 0.15 * ("follows its parent" in reasons) + 0.05 * (old.path == new.path)
        return score, sim, reasons

    def _assign(self, lost: list[Symbol]) -> None:
        """Two rounds: the second sees where each file's other symbols went (its new neighbours)."""
        self._assign_round(lost, final=False)
        for s in lost:
            d = self.decisions.get(s.anchor)
            if d and d.new and d.confidence >= 0.9:
                self._moved_to[s.path].add(d.new.partition("::")[0])
        self._assign_round([s for s in lost if s.anchor not in self.decisions], final=True)

    def _assign_round(self, lost: list[Symbol], final: bool) -> None:
        offers = []  # (score, sim, old, new anchor, reasons)
        best: dict[str, list[tuple[str, float]]] = {}
        every: dict[str, list[tuple[float, float, str, list[str]]]] = {}
        for old in lost:
            scored = []
            for anchor, reasons in self._candidates(old).items():
                score, sim, reasons = self._score(old, anchor, reasons)
                scored.append((score, sim, anchor, reasons))
            scored.sort(key=lambda item: -item[0])
            every[old.anchor] = scored
        paired = paired_candidates(every) if self.paired else {}
        for old in lost:
            scored = every[old.anchor]
            best[old.anchor] = [(a, round(s, 3)) for _, s, a, _ in scored[:3]]
            self.kept_name[old.anchor] = tightest_kept(self, old, [anchor for _, _, anchor, _ in scored])
            homes = self._home(old)
            levels = [level(self, old, anchor, reasons, homes) for _, _, anchor, reasons in scored]
            # A candidate keeping the one name of another lost symbol is that symbol's heir: no rival (round 12).
            taken = {i for i, item in enumerate(scored) if heir_of_another(self, old, item[2])} if self.namesakes else set()
            # Round 27: a copy in another vendor's folder is a port, no rival of a candidate in the
            # old file's own vendor folder (`nvidia/ops/qsa_prepare.py` against `amd/ops/qsa_prepare.py`).
            ported = {i for i, item in enumerate(scored)
                      if self.vendors and other_vendor(old.path, self.new.by_anchor[item[2]].path)}
            # Round 26: nor is one that a file-mate matches clearly better, when it lies beside this
            # symbol's own best candidate and that one is close enough to stand without a margin
            # (twin helpers becoming twin methods of one new class: each pair holds 0.87, the cross
            # pairs 0.78).
            if scored and scored[0][1] >= RENAME_MIN:
                top = self.new.by_anchor[scored[0][2]].path
                taken |= {i for i, item in enumerate(scored)
                          if (p := paired.get(item[2])) and p[0] != old.anchor and p[1] >= item[1] + PAIR_MARGIN
                          and p[0].partition("::")[0] == old.path and self.new.by_anchor[item[2]].path == top}
            for rank, (score, sim, anchor, reasons) in enumerate(scored):
                if self.closures and closure_of_another(self, old, anchor):
                    continue  # round 18: not this symbol's to take
                own_vendor = same_vendor(old.path, self.new.by_anchor[anchor].path)
                # The other candidates that count as rivals: since round 19 only those with as much
                # structural standing (`level`), which before counted only in a near tie, so a
                # namesake in an unrelated class could still block a clear rename in its own class.
                rivals = [i for i in range(len(scored)) if i != rank and i not in taken and not (own_vendor and i in ported)
                          and (not self.standing or levels[i] >= levels[rank])]
                other = max((scored[i][1] for i in rivals), default=-1.0)
                if other >= sim - 0.02:
                    # When code cannot tell candidates apart, structure can: a kept name, then its
                    # old file or class. Only rivals with as much of it still count; among those,
                    # the names and literals used (`== 10` vs `== 12`) may still separate them.
                    tied = [i for i in rivals if levels[i] >= levels[rank] and scored[i][1] >= sim - 0.02]
                    mine = overlap(self.ids(self.old, old), self.ids(self.new, self.new.by_anchor[anchor]))
                    if tied and all(overlap(self.ids(self.old, old), self.ids(self.new, self.new.by_anchor[scored[i][2]]))
                                    <= mine - 0.1 for i in tied):
                        tied = []
                    rest = [scored[i][1] for i in rivals if levels[i] >= levels[rank] and scored[i][1] < sim - 0.02]
                    other = max([scored[i][1] for i in tied] + rest, default=-1.0)
                if acceptable(self, old, anchor, sim, reasons, other):
                    offers.append((score, sim, old, anchor, reasons))
        offers.sort(key=lambda item: -item[0])
        for score, sim, old, anchor, reasons in offers:
            if old.anchor in self.decisions or anchor in self.claimed:
                continue
            self.claimed.add(anchor)
            new = self.new.by_anchor[anchor]
            state = "moved" if base_name(old) == base_name(new) else "renamed"
            confidence = 1.0 if sim == 1.0 and "same fingerprint" in reasons else min(score, 0.99)
            self.decisions[old.anchor] = Decision(
                old.anchor, state, anchor, similarity=round(sim, 3), confidence=round(confidence, 3),
                evidence=[*reasons, f"code similarity {sim:.2f}"])
        for old in lost:
            if final and old.anchor not in self.decisions:
                self.decisions[old.anchor] = Decision(
                    old.anchor, "orphaned", similarity=0.0, confidence=0.0, candidates=best[old.anchor],
                    evidence=["no counterpart above the thresholds"])

    def _file(self, path: str) -> Decision:
        if path in self.new.by_file:
            return Decision(path, "unchanged", path, evidence=["file still exists"])
        if path not in self.old.by_file:
            return Decision(path, "orphaned", similarity=0.0, confidence=0.0,
                            evidence=["not a file of the old tree"])
        votes: dict[str, int] = defaultdict(int)
        members = self.old.by_file[path]
        for d in self.decide_many([s.anchor for s in members]):
            if d.new:
                votes[d.new.partition("::")[0]] += 1
        if votes:
            target, count = max(votes.items(), key=lambda kv: kv[1])
            share = count / len(members)
            if share >= 0.5:
                return Decision(path, "moved", target, similarity=round(share, 3), confidence=round(share, 3),
                                evidence=[f"{count} of {len(members)} symbols went to {target}"])
        return Decision(path, "orphaned", similarity=0.0, confidence=0.0,
                        candidates=sorted(((p, c / len(members)) for p, c in votes.items()), key=lambda x: -x[1])[:3],
                        evidence=["no file received most of its symbols"])


def paired_candidates(every: dict[str, list[tuple[float, float, str, list[str]]]]) -> dict[str, tuple[str, float]]:
    """New anchor -> (old anchor, similarity) where that old symbol is its closest and it is that
    old symbol's best candidate: a pair that vouches for itself."""
    closest: dict[str, tuple[str, float]] = {}
    for old, scored in every.items():
        for _, sim, anchor, _ in scored:
            if sim > closest.get(anchor, ("", -1.0))[1]:
                closest[anchor] = (old, sim)
    return {anchor: (old, sim) for anchor, (old, sim) in closest.items()
            if every[old] and every[old][0][2] == anchor}


@lru_cache(maxsize=20_000)
def _distinctive_lines(lines: tuple[str, ...]) -> list[tuple[int, int]]:
    """(hash, line number) of a file's lines long enough to point somewhere; remembered by content,
    since the releases a chain steps through share most files."""
    out = []
    for number, line in enumerate(lines, start=1):
        text = line.strip()
        if len(text) >= MIN_LINE and not text.startswith("#"):
            out.append((hash(text), number))
    return out


def _classes_named(index: SymbolIndex) -> dict[str, list[Symbol]]:
    return group((s for s in index.by_anchor.values() if s.kind == "class"), lambda s: s.name)


def group(symbols: Iterable[Symbol], key: Callable[[Symbol], str]) -> dict[str, list[Symbol]]:
    """Symbols by `key`, each list in the order given (the matcher's tables: by name, file, fingerprint)."""
    table: dict[str, list[Symbol]] = defaultdict(list)
    for s in symbols:
        table[key(s)].append(s)
    return table


def _family(kind: str) -> str:
    return {"method": "function", "struct": "class"}.get(kind, kind)
