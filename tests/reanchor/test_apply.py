"""Re-anchoring a whole repository: every site decided, files rewritten whole, twice is a no-op."""
from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from vmastery.errors import VmasteryError
from vmastery.reanchor import apply as apply_mod
from vmastery.reanchor.plan import RECORD, Tree, index, make_plan, source_tree
from vmastery.reanchor.report import invariant, to_json, to_markdown
from vmastery.reanchor.sites import rewrite, scan_text
from vmastery.symbols import SymbolIndex


def plan_for(repo: Path):
    old, new = source_tree(repo), Tree(str(repo.parent / "new"), repo.parent / "new", None)
    return make_plan(repo, old, new, index(repo, old, False), index(repo, new, False), coverage_prefix="vllm/")


def snapshot(repo: Path) -> dict[str, str]:
    return {p.relative_to(repo).as_posix(): p.read_text() for p in sorted(repo.rglob("*"))
            if p.is_file() and "upstream" not in p.parts and ".cache" not in p.parts}


def test_dry_run_decides_every_site_and_writes_nothing(repo):
    before = snapshot(repo)
    plan = plan_for(repo)
    assert snapshot(repo) == before
    counts = invariant(plan)
    assert counts["in"] == len(plan.items) == counts["anchored"] + counts["orphaned"]
    kinds = {i.kind for i in plan.items}
    assert {"note", "line-note", "role", "step", "tracepoint"} <= kinds
    report = json.loads(to_json(plan))
    assert report["invariant"] == counts
    take = next(i for i in report["items"] if i["kind"] == "note" and i["anchor"].endswith("PagePool.take"))
    assert take["old_code"] and take["new_code"]  # what the site shows under a note
    old_take = index(repo, source_tree(repo), False).get(take["anchor"])
    assert take["old_fingerprint"] == old_take.fingerprint  # lets the site match the diff to the note
    assert any(i["state"] == "changed" for i in report["coverage"])
    window = {i["kind"]: i for i in report["items"] if i["kind"].startswith("upstream-")}
    assert window["upstream-from"]["state"] == "orphaned"  # the loop over sorted(self.used) is gone
    assert window["upstream-from"]["quote"] == "for page in sorted(self.used):"
    assert "Annotation sites needing review" in to_markdown(plan)


def test_apply_rewrites_moves_and_keeps_orphans(repo):
    plan = plan_for(repo)
    apply_mod.apply(repo, plan.edits)
    ann = repo / "annotations"
    moved = ann / "vllm/core/planning.py/plan_pages.md"
    renamed = ann / "vllm/core/pool.py/PagePool.release.md"
    assert moved.read_text().startswith("---\nanchor: vllm/core/planning.py::plan_pages\n")
    assert "anchor: vllm/core/pool.py::PagePool.release" in renamed.read_text()
    assert not (ann / "vllm/core/pool.py/plan_pages.md").exists()
    orphan = ann / "orphans/vllm/core/gone.py/obsolete_helper.md"
    assert orphan.read_text().endswith("About to disappear.\n")  # kept word for word
    record = json.loads((ann / "orphans/vllm/core/gone.py/obsolete_helper.orphan.json").read_text())
    assert record["snapshot"]["path"] == "vllm/core/gone.py" and len(record["snapshot"]["sha256"]) == 64
    assert "```{step} vllm/core/pool.py::PagePool.release" in (ann / "tours/walk.md").read_text()
    assert "anchor: vllm/core/planning.py::plan_pages" in (repo / "tracepoints/pool.yaml").read_text()
    assert "<vllm/core/planning.py::plan_pages>" in (repo / "guide.md").read_text()
    assert json.loads((repo / RECORD).read_text())["tree"] == str(repo.parent / "new")
    assert not (repo / apply_mod.JOURNAL).exists()
    assert not list(repo.rglob("*" + apply_mod.TMP_SUFFIX))


def test_second_run_is_a_no_op(repo):
    apply_mod.apply(repo, plan_for(repo).edits)
    after = snapshot(repo)
    again = plan_for(repo)
    assert again.edits == []
    assert all(i.state in {"unchanged", "orphaned"} or i.kind == "line-note" for i in again.items)
    apply_mod.apply(repo, again.edits)
    assert snapshot(repo) == after


def test_fingerprint_refreshed_only_below_threshold(repo):
    apply_mod.apply(repo, plan_for(repo).edits)
    from vmastery.symbols import SymbolIndex
    new = SymbolIndex.build(repo.parent / "new", None, progress=False)
    take = (repo / "annotations/vllm/core/pool.py/PagePool.take.md").read_text()
    assert f"fingerprint: {new.get('vllm/core/pool.py::PagePool.take').fingerprint}" in take


@pytest.mark.parametrize("crash_after", [0, 1, 3])
def test_interrupted_apply_leaves_every_file_whole(repo, crash_after):
    plan = plan_for(repo)
    before = snapshot(repo)
    expected = {e.dest: e.text for e in plan.edits}
    with pytest.raises(KeyboardInterrupt):
        apply_mod.apply(repo, plan.edits, crash_after=crash_after)
    middle = snapshot(repo)
    for path, text in middle.items():  # each file is its old self or its new self, never a mix
        if path.endswith(apply_mod.TMP_SUFFIX) or path.startswith(".cache"):
            continue
        assert text in {before.get(path), expected.get(path)}, path
    assert apply_mod.recover(repo).startswith("finished")
    final = snapshot(repo)
    for dest, text in expected.items():
        assert final[dest] == text
    assert not list(repo.rglob("*" + apply_mod.TMP_SUFFIX))


def test_crash_before_commit_rolls_back(repo):
    plan = plan_for(repo)
    before = snapshot(repo)
    entries = [{"path": e.path, "dest": e.dest, "tmp": e.dest + apply_mod.TMP_SUFFIX} for e in plan.edits]
    apply_mod._write_journal(repo, entries, committed=False)
    (repo / entries[0]["tmp"]).write_text("half")
    assert apply_mod.recover(repo).startswith("rolled back")
    assert snapshot(repo) == before


def test_sites_rewrite_only_the_anchor_characters():
    text = ("---\nanchor: vllm/a.py::f\nfingerprint: 0123456789ab\n---\n"
            "See {anchor}`vllm/a.py::f` and {anchor}`words <vllm/a.py::f>`.\nanchor: vllm/a.py::f\n"
            "```{upstream} vllm/a.py::f\n```\n")
    sites = scan_text("annotations/vllm/a.py/f.md", text)
    assert [s.kind for s in sites] == ["note", "role", "role", "upstream"]  # body `anchor:` is prose
    out = rewrite(text, sites, {"vllm/a.py::f": "vllm/b.py::g"})
    assert out.count("vllm/b.py::g") == 4 and out.count("vllm/a.py::f") == 1
    assert out.replace("vllm/b.py::g", "vllm/a.py::f") == text


def test_no_note_is_ever_lost(repo):
    def notes() -> list[str]:
        return sorted(p.read_text().split("---\n", 2)[2] for p in (repo / "annotations").rglob("*.md")
                      if "tours" not in p.parts)
    before = notes()
    plan = plan_for(repo)
    apply_mod.apply(repo, plan.edits)
    assert notes() == before  # every note body survives, anchored or orphaned
    orphans = list((repo / "annotations/orphans").rglob("*.md"))
    anchored = [p for p in (repo / "annotations").rglob("*.md") if "orphans" not in p.parts and "tours" not in p.parts]
    assert len(orphans) + len(anchored) == len(before)
    assert len(orphans) == sum(1 for i in plan.items if i.kind == "note" and i.state == "orphaned")

# -- a note left for review (round 4: applying twice must stay a no-op) ------------------------------
# The staged case is a real review, decided by the matcher: `estimate_budget` is gone, its only user
# (`admit`) now calls `plan_token_budget` next door, but the new body shares too little code to move
# the note on that evidence alone. The note must stay where it is, in review, run after run.

ANCHOR = "vllm/core/budget.py::estimate_budget"

OLD_BUDGET = '''
def estimate_budget(waiting: list[int], limit: int) -> int:
    """Tokens the next step may schedule: the waiting prompts, cut at the limit."""
    total = 0
    for length in waiting:
        if total + length > limit:
            break
        total += length
    return total


def admit(waiting: list[int], limit: int) -> list[int]:
    budget = estimate_budget(waiting, limit)
    chosen, used = [], 0
    for length in waiting:
        if used + length <= budget:
            chosen.append(length)
            used += length
    return chosen
'''

NEW_BUDGET = '''
def plan_token_budget(waiting: list[int], limit: int, chunk: int = 512) -> int:
    """Chunked prefill: every waiting prompt contributes at most one chunk."""
    pieces = sorted((min(length, chunk) for length in waiting), reverse=True)
    spare = max(limit - sum(pieces), 0)
    logger.debug("budget %d, spare %d", limit, spare)
    return limit - spare


def admit(waiting: list[int], limit: int) -> list[int]:
    budget = plan_token_budget(waiting, limit)
    chosen, used = [], 0
    for length in waiting:
        if used + length <= budget:
            chosen.append(length)
            used += length
    return chosen
'''


def add_review_case(repo: Path) -> None:
    """Add budget.py to both trees of the `repo` fixture, and a note on the symbol that will be reviewed."""
    (repo / "upstream/vllm/core/budget.py").write_text(textwrap.dedent(OLD_BUDGET).lstrip("\n"))
    (repo.parent / "new/vllm/core/budget.py").write_text(textwrap.dedent(NEW_BUDGET).lstrip("\n"))
    index = SymbolIndex.build(repo / "upstream", None, progress=False)
    note = repo / "annotations" / "vllm/core/budget.py" / "estimate_budget.md"
    note.parent.mkdir(parents=True, exist_ok=True)
    note.write_text(f"---\nanchor: {ANCHOR}\nfingerprint: {index.get(ANCHOR).fingerprint}\ntags: []\n---\n"
                    "Budget before scheduling; compare {anchor}`vllm/core/budget.py::admit`.\n")


def test_review_is_kept_and_a_second_run_is_a_no_op(repo):
    add_review_case(repo)
    first = plan_for(repo)
    note = next(i for i in first.items if i.kind == "note" and i.anchor == ANCHOR)
    assert note.state == "review", note.evidence
    assert note.candidates[0][0] == "vllm/core/budget.py::plan_token_budget"
    assert first.edits, "the rest of the corpus moves"
    apply_mod.apply(repo, first.edits)
    record = json.loads((repo / RECORD).read_text())
    assert list(record["review"]) == [ANCHOR]
    after = snapshot(repo)
    assert "annotations/vllm/core/budget.py/estimate_budget.md" in after  # left in place, not orphaned

    again = plan_for(repo)  # the record now points at the new tree on both sides
    kept = next(i for i in again.items if i.kind == "note" and i.anchor == ANCHOR)
    assert kept.state == "review" and kept.candidates == note.candidates
    assert again.edits == []
    assert invariant(again)["review"] == 1
    apply_mod.apply(repo, again.edits)
    assert snapshot(repo) == after

    # once a person points the note at the candidate, it is an ordinary anchored note
    path = repo / "annotations/vllm/core/budget.py/estimate_budget.md"
    path.write_text(path.read_text().replace(ANCHOR, "vllm/core/budget.py::plan_token_budget", 1))
    resolved = plan_for(repo)
    assert next(i for i in resolved.items if i.kind == "note" and i.file.endswith("estimate_budget.md")).state == "unchanged"


def test_a_malformed_review_record_is_a_clear_error(repo):
    (repo / RECORD).parent.mkdir(parents=True, exist_ok=True)
    (repo / RECORD).write_text(json.dumps({"version": None, "tree": str(repo / "upstream"), "review": ["x"]}))
    with pytest.raises(VmasteryError, match="review"):
        plan_for(repo)


from hypothesis import given, settings
from hypothesis import strategies as st

PROSE = st.text(alphabet=st.characters(blacklist_characters="`{}<>\r", blacklist_categories=("Cs",)), max_size=30)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(PROSE, st.sampled_from(["vllm/a.py::f", "vllm/b.py::C.m", "vllm/c.py"])), max_size=6))
def test_rewrite_changes_only_anchors(parts):
    text = "".join(f"{prose}{{anchor}}`{anchor}` " for prose, anchor in parts)
    sites = scan_text("page.md", text)
    assert [s.anchor for s in sites] == [a for _, a in parts]
    mapping = {"vllm/a.py::f": "vllm/z.py::g", "vllm/c.py": "vllm/d.py"}
    out = rewrite(text, sites, mapping)
    assert out == "".join(f"{prose}{{anchor}}`{mapping.get(anchor, anchor)}` " for prose, anchor in parts)
