"""One re-anchoring run: which trees, what every anchor site becomes, and the file edits that follow.

A run compares the tree the repository is anchored at (the pin, or the tree a previous `--apply`
recorded in `annotations/.anchored-at.json`) with a target tree, decides each anchor once
(`match.Matcher`), and turns the decisions into `Item`s for the report and `Edit`s for `--apply`.
Nothing here writes a file: `apply.py` does, atomically.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from packaging.version import Version

from ..anchors import AnchorError, find_quote, quoting_lines
from ..annotations import ANNOTATIONS, load, note_path
from ..errors import VmasteryError
from ..markdown import scan as md_scan
from ..pin import read_pin
from ..symbols import Symbol, SymbolIndex
from .chain import Chain
from .diff import symbol_diff
from .decision import Decision
from .match import CHANGE_THRESHOLD, Matcher
from .sites import Site, rewrite, scan

RECORD = f"{ANNOTATIONS}/.anchored-at.json"  # where the last --apply says the corpus now points
ORPHANS = f"{ANNOTATIONS}/orphans"
ANCHORED = {"unchanged", "shifted", "changed", "moved", "renamed"}
KEPT = {"orphaned", "review"}
CARRIED = "left for review by the run from"  # evidence of a review kept from an earlier applied run  # not anchored in the new tree: an orphan is set aside, a review stays in place


@dataclass(frozen=True, slots=True)
class Tree:
    """A vLLM tree and how to name it in reports: `0.33.0`, or a local path."""

    label: str
    root: Path
    version: str | None = None


@dataclass(slots=True)
class Item:
    """One anchor site (or line note, or coverage symbol) and its fate."""

    kind: str
    file: str | None
    line: int
    anchor: str
    state: str
    new_anchor: str | None
    similarity: float
    confidence: float
    evidence: list[str]
    candidates: list[tuple[str, float]] = field(default_factory=list)
    quote: str | None = None
    old_code: str | None = None
    new_code: str | None = None
    diff: str | None = None
    old_fingerprint: str | None = None  # of the old code: the site shows the diff only to notes written against it

    def as_json(self, with_code: bool) -> dict:
        data = asdict(self)
        if not with_code:
            for key in ("old_code", "new_code", "diff"):
                data.pop(key)
        return data


@dataclass(slots=True)
class Edit:
    """The whole new text of one file, and where it goes (`dest` differs from `path` for a move)."""

    path: str
    dest: str
    text: str
    reason: str


@dataclass(slots=True)
class Plan:
    old: Tree
    new: Tree
    items: list[Item]
    edits: list[Edit]
    coverage: list[Item]
    via: list[str] = field(default_factory=list)  # releases stepped through, oldest first

    def counts(self, items: list[Item] | None = None) -> dict[str, int]:
        result: dict[str, int] = {}
        for item in self.items if items is None else items:
            result[item.state] = result.get(item.state, 0) + 1
        return result


def source_tree(root: Path) -> Tree:
    """The tree the corpus is anchored at now: the pin, unless an applied run moved it on."""
    record = root / RECORD
    pin = read_pin(root)
    if record.exists():
        data = json.loads(record.read_text(encoding="utf-8"))
        if data.get("tree"):
            return Tree(data["tree"], Path(data["tree"]), None)
        if data.get("version") and data["version"] != pin.version:
            from .fetch import tree_for_version
            return Tree(data["version"], tree_for_version(root, data["version"], pin.index_url), data["version"])
    return Tree(pin.version, root / "upstream", pin.version)


def trees_between(root: Path, old: Tree, new: Tree, via: str) -> list[Tree]:
    """The trees a run steps through (`--via`), fetched and verified like the target.

    `releases`: every final release strictly between two released versions (none for a local tree);
    `none`: compare the ends directly; otherwise a comma-separated list of versions.
    """
    from .fetch import releases_between, tree_for_version

    if via == "none":
        return []
    if via == "releases":
        if old.version is None or new.version is None or Version(old.version) >= Version(new.version):
            return []
        versions = releases_between(read_pin(root).index_url, old.version, new.version)
    else:
        versions = [v.strip() for v in via.split(",") if v.strip()]
    return [Tree(v, tree_for_version(root, v), v) for v in versions]


def index(root: Path, tree: Tree, progress: bool) -> SymbolIndex:
    return indexes(root, [tree], progress)[0]


def indexes(root: Path, trees: list[Tree], progress: bool) -> list[SymbolIndex]:
    """The symbol index of each tree, built together (one pool parses what no cache holds)."""
    for tree in trees:
        if not (tree.root / "vllm").is_dir():
            raise VmasteryError(f"{tree.root}: not a vLLM tree (no vllm/ folder)\n"
                                "    fix: pass the root of a vLLM checkout or sdist")
    return SymbolIndex.build_many([(tree.root, _cache(root, tree)) for tree in trees], progress)


def _cache(root: Path, tree: Tree) -> Path:
    if tree.root.resolve() == (root / "upstream").resolve():
        return root / ".cache" / "symbols.json"  # share the index `vmastery index` already built
    return root / ".cache" / "reanchor" / f"index-{tree.root.resolve().name}.json"


def pending_reviews(root: Path) -> dict[str, dict]:
    """Anchors an applied run left for review, as its record lists them: anchor -> candidates, evidence.

    A review keeps its old anchor, which names a symbol of the tree the run came *from*, not of the
    tree the record now points at. Without this list the next run (the same tree on both sides)
    would find the anchor in neither tree and orphan the note: applying twice would not be a no-op.
    """
    record = root / RECORD
    if not record.exists():
        return {}
    data = json.loads(record.read_text(encoding="utf-8"))
    reviews = data.get("review") or {}
    well_formed = isinstance(reviews, dict) and all(
        isinstance(entry, dict) and all(isinstance(c, list) and len(c) == 2 and isinstance(c[0], str)
                                        for c in entry.get("candidates", []))
        for entry in reviews.values())
    if not well_formed:
        raise VmasteryError(f"{RECORD}: 'review' must map each anchor to {{\"from\": ..., \"candidates\": "
                            "[[anchor, similarity], ...]}\n"
                            "    fix: restore the file from git, or re-run the last --apply from its source tree")
    return reviews


def matcher_for(old: Tree, new: Tree, old_index: SymbolIndex, new_index: SymbolIndex,
                via: list[tuple[Tree, SymbolIndex]] = (), threshold: float = CHANGE_THRESHOLD) -> Matcher | Chain:
    """The two ends compared directly, or, with `via` (the trees between, oldest first), a `Chain`."""
    if not via:
        return Matcher(old_index, new_index, threshold)
    return Chain([old_index, *(i for _, i in via), new_index], [old.label, *(t.label for t, _ in via), new.label],
                 threshold)


def make_plan(root: Path, old: Tree, new: Tree, old_index: SymbolIndex, new_index: SymbolIndex,
              coverage_prefix: str | None = None, threshold: float = CHANGE_THRESHOLD,
              via: list[tuple[Tree, SymbolIndex]] = ()) -> Plan:
    """Decide every anchor site (and every old symbol under `coverage_prefix`) and the edits that follow.

    With `via` (the trees between, oldest first) anchors are carried release by release and checked
    against the direct comparison (`chain.Chain`); without, the two ends are compared directly.
    """
    matcher = matcher_for(old, new, old_index, new_index, via, threshold)
    reviews = pending_reviews(root)
    sites = scan(root)
    corpus = load(root)
    notes = {n.file: n for n in corpus.notes}
    wanted = [s.anchor for s in sites]
    coverage_anchors = sorted(a for a in old_index.by_anchor if coverage_prefix is not None
                              and a.startswith(coverage_prefix))
    matcher.decide_many([a for a in dict.fromkeys(wanted + coverage_anchors) if old_index.get(a) or "::" not in a])

    items: list[Item] = []
    mapping: dict[str, str] = {}
    for site in sites:
        decision = _decide(matcher, site.anchor, reviews)
        item = _item(site.kind, site.file, site.line, site.anchor, decision, old_index, new_index,
                     with_code=site.kind == "note")
        items.append(item)
        if decision.new and decision.new != site.anchor:
            mapping[site.anchor] = decision.new
        note = notes.get(site.file) if site.kind == "note" else None
        if note is not None:
            items += _line_notes(note, decision, new_index)
        if site.kind == "upstream":
            items += _window_quotes(root, site, decision, new_index)
    coverage = [_item("symbol", None, 0, a, matcher.decide(a), old_index, new_index, with_code=False)
                for a in coverage_anchors]
    edits = _edits(root, sites, mapping, items, notes, old_index, new_index, threshold, old, new, reviews)
    return Plan(old, new, items, edits, coverage, [t.label for t, _ in via])


def _decide(matcher: Matcher | Chain, anchor: str, reviews: dict[str, dict]) -> Decision:
    """The matcher's decision, except for anchors an earlier applied run already dealt with.

    An anchor already naming a new-tree symbol stays put: a name the old tree lacks but the new tree
    has is taken as already moved, never as lost. An anchor that run left for review (and that still
    names neither tree's symbol) stays in review with the candidates it had, until a person picks one.
    """
    in_old, in_new = matcher.old.has(anchor), matcher.new.has(anchor)
    if not in_old and in_new:
        return Decision(anchor, "unchanged", anchor, evidence=["already names a symbol of the new tree"])
    if not in_old and anchor in reviews:
        pending = reviews[anchor]
        return Decision(anchor, "review", None, similarity=0.0, confidence=0.0,
                        evidence=[f"{CARRIED} {pending.get('from', '?')}; "
                                  "still unresolved: point the anchor at one of the candidates by hand",
                                  *pending.get("evidence", [])],
                        candidates=[(a, s) for a, s in pending.get("candidates", [])])
    return matcher.decide(anchor)


def _item(kind: str, file: str | None, line: int, anchor: str, d: Decision, old: SymbolIndex,
          new: SymbolIndex, with_code: bool) -> Item:
    item = Item(kind, file, line, anchor, d.state, d.new, d.similarity, d.confidence, list(d.evidence),
                list(d.candidates))
    if with_code:
        old_symbol = old.get(anchor)
        new_symbol = new.get(d.new) if d.new else None
        item.old_code = old.code(old_symbol) if old_symbol else None
        item.old_fingerprint = old_symbol.fingerprint if old_symbol else None
        item.new_code = new.code(new_symbol) if new_symbol else None
        if item.old_code is not None and item.new_code is not None:
            item.diff = symbol_diff(item.old_code, item.new_code, f"{anchor}", f"{d.new}")
    return item


def _line_notes(note, decision: Decision, new: SymbolIndex) -> list[Item]:
    """A line note survives when its quote still picks out exactly one line of the symbol's new code."""
    items = []
    symbol = new.get(decision.new) if decision.new else None
    for line_note in note.line_notes:
        state, evidence = "orphaned", ["the note's symbol is orphaned"]
        if decision.state == "review":
            state, evidence = "review", ["the note's symbol is left for review"]
        if symbol is not None:
            try:
                find_quote(new, symbol, line_note.quote)
                state, evidence = ("unchanged" if decision.state == "unchanged" else "shifted"), ["quote found"]
            except AnchorError as error:
                ambiguous = "matches" in str(error)
                state, evidence = ("changed" if ambiguous else "orphaned"), [str(error)]
                if not ambiguous and (home := quote_elsewhere(new, symbol, line_note.quote)):
                    evidence.append(f"the quoted line is now in {home}: re-point the note there if it follows")
        items.append(Item("line-note", note.file, line_note.line, note.anchor, state,
                          decision.new if state not in KEPT else None, decision.similarity,
                          decision.confidence, evidence, quote=line_note.quote))
    return items


def quote_elsewhere(new: SymbolIndex, symbol: Symbol, quote: str) -> str | None:
    """The symbol holding the quoted line elsewhere in `symbol`'s file, if exactly one line has it.

    When a body moves into a helper and the old name stays as a shell, the note stays with the name
    (`changed`), and its line notes lose their lines; this says where those lines went.
    """
    numbers = [n for n in quoting_lines(new, symbol.path, quote) if not symbol.start <= n <= symbol.end]
    if len(numbers) != 1:
        return None
    around = [s for s in new.by_file.get(symbol.path, []) if s.start <= numbers[0] <= s.end]
    return min(around, key=lambda s: s.end - s.start).anchor if around else None  # the innermost


def _window_quotes(root: Path, site: Site, decision: Decision, new: SymbolIndex) -> list[Item]:
    """An {upstream} window's `:from:`/`:to:` quotes, checked like line notes against the new code."""
    text = (root / site.file).read_text(encoding="utf-8")
    directive = next((d for d in md_scan(text).directives if d.name == "upstream" and d.line == site.line), None)
    if directive is None:
        return []
    items = []
    symbol = new.get(decision.new) if decision.new else None
    for key in ("from", "to"):
        quote = directive.options.get(key)
        if not quote:
            continue
        state, evidence = "orphaned", ["the window's symbol is orphaned"]
        if decision.state == "review":
            state, evidence = "review", ["the window's symbol is left for review"]
        if symbol is not None:
            try:
                find_quote(new, symbol, quote)
                state, evidence = ("unchanged" if decision.state == "unchanged" else "shifted"), ["quote found"]
            except AnchorError as error:
                state, evidence = ("changed" if "matches" in str(error) else "orphaned"), [str(error)]
        items.append(Item(f"upstream-{key}", site.file, site.line, site.anchor, state,
                          decision.new if state not in KEPT else None, decision.similarity,
                          decision.confidence, evidence, quote=quote))
    return items


def _edits(root: Path, sites: list[Site], mapping: dict[str, str], items: list[Item], notes: dict,
           old_index: SymbolIndex, new_index: SymbolIndex, threshold: float, old: Tree, new: Tree,
           pending: dict[str, dict]) -> list[Edit]:
    by_file: dict[str, list[Site]] = {}
    for site in sites:
        by_file.setdefault(site.file, []).append(site)
    note_items = {i.file: i for i in items if i.kind == "note"}
    edits = []
    for rel, file_sites in by_file.items():
        text = (root / rel).read_text(encoding="utf-8")
        item = note_items.get(rel)
        if item is not None and item.state == "orphaned":
            edits.append(Edit(rel, f"{ORPHANS}/{rel.removeprefix(ANNOTATIONS + '/')}", text, "orphaned note"))
            continue
        updated = rewrite(text, file_sites, mapping)
        dest, reason = rel, "anchors rewritten"
        if item is not None and item.new_anchor:
            updated = _refresh_fingerprint(updated, notes[rel], item, old_index, new_index, threshold)
            dest = note_path(item.new_anchor)
            if dest != rel:
                reason = f"note follows its symbol ({item.state})"
        if updated != text or dest != rel:
            edits.append(Edit(rel, dest, updated, reason))
    for item in items:
        if item.kind == "note" and item.state == "orphaned" and item.file:
            edits.append(_orphan_record(item, old_index, old, new))
    if edits:
        data = {"version": new.version, "tree": None if new.version else str(new.root), "from": old.label}
        reviews = _reviews(items, old, pending)
        if reviews:  # what the next run must keep in review rather than orphan (see pending_reviews)
            data["review"] = reviews
        record = json.dumps(data, indent=1) + "\n"
        current = (root / RECORD).read_text(encoding="utf-8") if (root / RECORD).exists() else None
        if current != record:
            edits.append(Edit(RECORD, RECORD, record, "record the tree the corpus now points at"))
    return edits


def _reviews(items: list[Item], old: Tree, pending: dict[str, dict]) -> dict[str, dict]:
    """Anchors of this run left for review, with the run they came from and what to pick among.

    A review carried over from an earlier run keeps that run's entry: its candidates are still the
    ones to pick among, and its anchor still names a symbol of that run's source tree.
    """
    out: dict[str, dict] = {}
    for item in items:
        if item.state != "review" or item.kind in {"line-note", "upstream-from", "upstream-to"}:
            continue
        if item.evidence and item.evidence[0].startswith(CARRIED) and item.anchor in pending:
            out[item.anchor] = pending[item.anchor]
        else:
            out[item.anchor] = {"from": old.label, "candidates": [list(c) for c in item.candidates],
                                "evidence": list(item.evidence)}
    return out


def _orphan_record(item: Item, old_index: SymbolIndex, old: Tree, new: Tree) -> Edit:
    """The sidecar kept beside an orphaned note: where its code was, exactly, and what came closest.

    The snapshot is a reference (release, path, lines, sha256 of the code) rather than a copy, since
    no vLLM source is committed here; `vmastery reanchor` rebuilds the text from the verified sdist.
    """
    symbol = old_index.get(item.anchor)
    code = old_index.code(symbol) if symbol else ""
    dest = f"{ORPHANS}/{item.file.removeprefix(ANNOTATIONS + '/')}".removesuffix(".md") + ".orphan.json"
    data = {"anchor": item.anchor, "orphaned_in": new.label, "written_against": old.label,
            "snapshot": {"path": symbol.path, "start": symbol.start, "end": symbol.end,
                         "fingerprint": symbol.fingerprint,
                         "sha256": hashlib.sha256(code.encode()).hexdigest()} if symbol else None,
            "nearest": item.candidates, "evidence": item.evidence}
    return Edit(dest, dest, json.dumps(data, indent=1) + "\n", "orphan record")


def _refresh_fingerprint(text: str, note, item: Item, old: SymbolIndex, new: SymbolIndex, threshold: float) -> str:
    """Take the new fingerprint only when the note was current and the code changed below the threshold.

    A note already drifting, or whose code changed beyond the threshold, keeps its old fingerprint so
    `vmastery check` keeps flagging it until a person re-reads it: re-anchoring never hides drift.
    """
    old_symbol, new_symbol = old.get(item.anchor), new.get(item.new_anchor)
    if old_symbol is None or new_symbol is None or item.state == "changed" or item.similarity < threshold:
        return text
    if note.meta.fingerprint != old_symbol.fingerprint or old_symbol.fingerprint == new_symbol.fingerprint:
        return text
    head, sep, rest = text.partition("\nfingerprint: ")
    if not sep or not rest.startswith(note.meta.fingerprint):
        return text
    return f"{head}{sep}{new_symbol.fingerprint}{rest[len(note.meta.fingerprint):]}"
