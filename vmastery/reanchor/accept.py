"""Whether a candidate may be a lost symbol's new home: the bars code similarity must clear.

The bar depends on what else vouches for a match (see `acceptable`): a kept name, the place (its
old file, where its class or its file-mates went), a name kept inside a longer one. `level` ranks
that structural evidence, which breaks ties when code cannot (`Matcher._assign_round`).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from ..symbols import Symbol
from .evidence import class_bases
from .similarity import base_name, name_likeness, parent_anchor, similarity, words_added

if TYPE_CHECKING:
    from .match import Matcher

SAME_NAME_MIN = 0.55  # a moved symbol keeping a distinctive name needs this much code in common
SAME_NAME_NEAR_MIN = 0.4  # ... less when it went where the rest of its file went
SAME_PARENT_MIN = 0.55  # a method renamed inside its own class
RENAME_MIN = 0.8  # a renamed one needs more: nothing else vouches for it
RENAME_MARGIN = 0.1  # how far a renamed symbol's best match must lead the next one
NEAR_MIN = 0.7  # a rename next door (same file, where its class went, or a similar name)
CLEAR_LEAD = 0.2  # a rename next door this far ahead of every other candidate needs only SAME_NAME_MIN
GENERIC_NAME = 4  # a name defined this often in the new tree (`__init__`, `get_name`) proves nothing
HOOK_NAME = 20  # ... and one defined this often is a framework hook (`forward`, `load_weights`): never a clear heir
CLEAR_HEIR = 0.9  # code similarity of a clear heir under a generic name (see `clear_heir`)
TINY_TOKENS = 40  # bodies this short are too generic to match on code alone


def tightest_kept(m: Matcher, old: Symbol, anchors: list[str]) -> str | None:
    """The candidate that keeps `old`'s whole name adding the fewest words, if exactly one does.

    A kept name singles out an heir only when it is unambiguous: `SparseBackend` is kept just as
    well by `_SparseBackendBase` as by `SparseBackendGen10`, so there it proves nothing.
    """
    if generic_name(m, old):
        return None
    added = [(n, a) for a in anchors if (n := words_added(old.name, m.new.by_anchor[a].qualname)) is not None]
    if not added:
        return None
    fewest = min(n for n, _ in added)
    tightest = [a for n, a in added if n == fewest]
    return tightest[0] if len(tightest) == 1 else None


def level(m: Matcher, old: Symbol, anchor: str, reasons: list[str], homes: set[str]) -> int:
    """How much besides code vouches for a candidate: its name (kept, or kept inside the new one)
    counts most, then its place."""
    kept = "same name" in reasons or m.kept_name.get(old.anchor) == anchor
    return 2 * kept + ("follows its parent" in reasons or "same class" in reasons
                       or m.new.by_anchor[anchor].path in homes)


def generic_name(m: Matcher, old: Symbol) -> bool:
    """A name defined this often (`__init__`, `get_name`) vouches for nothing."""
    return max(m.new_name_count(old), m.old_name_count(old)) >= GENERIC_NAME


def acceptable(m: Matcher, old: Symbol, anchor: str, sim: float, reasons: list[str], other: float) -> bool:
    """Whether `anchor` may be `old`'s new home: enough code in common, and not a coin toss.

    The bar depends on what else vouches for the match: keeping a distinctive name, following
    its class, staying in its file or having a similar name each make a weaker code match
    believable; a generic name (`__init__`) vouches for nothing.
    """
    new = m.new.by_anchor[anchor]
    same_name = base_name(old) == base_name(new)
    follows = "follows its parent" in reasons
    near = new.path in m.home(old)
    generic = generic_name(m, old)
    # A function wrapped into a class named after it (`_pack_seq_kernel` -> `PackSeqKernel.kernel`)
    # keeps its name in the class: compare with the last two parts of the new qualname too.
    likeness = max(name_likeness(old.name, new.name), name_likeness(old.name, _last_two(new.qualname)))
    kept = m.kept_name.get(old.anchor) == anchor
    if kept:
        likeness = 1.0  # the whole old name lives on inside the new one (round 4)
    tiny = len(m.toks(m.old, old)) < TINY_TOKENS or (
        m.code_size and len(m.toks(m.old, old, False)) < TINY_TOKENS and code_carries(m, old, new))
    rivals = other >= sim - 0.02  # another candidate nearly as similar
    parent = parent_anchor(old.anchor)
    parent_went = m.decisions[parent].new if parent and parent in m.decisions else None
    same_parent = parent_went is not None and (parent_anchor(anchor) == parent_went
                                               or parent_went != parent and variant_of(m, anchor, parent_went))
    if word_for_word(m, old, anchor, reasons):
        return True  # round 15: whatever its name or size, the one copy of its code is the symbol
    if kept_word_for_word(m, old, anchor, sim, generic):
        return True  # round 25: its name kept whole, its body unchanged, and no other candidate's is
    if follows:
        return sim >= SAME_NAME_MIN
    parent_lost = parent is not None and parent in m.decisions and m.decisions[parent].new is None
    if old.kind == "method" and (parent_went or parent_lost) and not same_parent and not near:
        # A method leaving its class for an unrelated one: only strong code evidence will do,
        # and never for a name many classes define (each backend's `get_kv_cache_shape`), nor
        # when the class it belonged to went somewhere that has a member of that name (round 3).
        if parent_went and f"{parent_went}.{old.name}" in m.new.by_anchor:
            return False
        # A longer name keeping the whole old one, far ahead of anything else, makes NEAR_MIN
        # enough (round 4: `_freeze_gc` -> `gc_utils.freeze_gc_for_cudagraph_capture`); the
        # bare same name in another class is just as likely a namesake, so it does not count.
        bar = NEAR_MIN if kept and not same_name and sim - other >= CLEAR_LEAD else RENAME_MIN
        return (not generic or clear_heir(m, old, sim, other, same_name)) and not tiny and sim >= bar and not rivals
    if rivals and sim < 1.0:
        return False  # another candidate is nearly as good: the evidence cannot tell them apart
    if generic and not near and not same_parent and not clear_heir(m, old, sim, other, same_name):
        return False  # `get_name` elsewhere is just another class's `get_name`
    if not same_name and other >= sim - RENAME_MARGIN:
        return False  # a rename must stand out: splits leave several near-equal heirs
    if same_parent:  # renamed in place, inside the class it always belonged to
        # A short body needs 0.9, unless the new name shares a word with the old one and no other
        # candidate comes within CLEAR_LEAD (round 5: `_get_num_free_blocks` -> `_get_num_free_chunks`,
        # 0.88 against 0.52). Sharing no word (`get_required_kv_cache_layout` -> `supports_non_causal`)
        # is exactly the coincidence short bodies produce, so it keeps the high bar.
        clear = likeness > 0 and sim - other >= CLEAR_LEAD
        return sim >= (0.9 if tiny and not clear else SAME_PARENT_MIN) and not rivals
    if tiny and not (same_name and not generic) and not (near and likeness >= 0.5):
        return False  # a short body matches too many places to trust on code alone
    if same_name and not generic or kept and near:
        bar = SAME_NAME_NEAR_MIN if near else SAME_NAME_MIN
    elif likeness >= 0.75:
        bar = SAME_NAME_MIN
    elif near and parent is None and sim - other >= CLEAR_LEAD:
        bar = SAME_NAME_MIN  # a module-level rename next door, and nothing else comes close (round 4)
    elif near or likeness >= 0.5:
        bar = NEAR_MIN
    else:
        bar = RENAME_MIN
    if sim < bar or (same_name and generic and not near and sim < RENAME_MIN):
        return False
    return not rivals


def code_carries(m: Matcher, old: Symbol, new: Symbol) -> bool:
    """Whether the match rests on the code alone: comments and docstrings left out, the bodies are
    closer than with them.

    Then the code's own size is what says whether it is too short to single anything out (round 26):
    a long comment over a one-line property (`return self.is_mamba and ...`) that the candidate does
    not share leaves a tiny body matching another tiny body. A docstring carried along is evidence
    of identity, and then the whole text counts (`JobMetadata` -> `TransferJob`).
    """
    with_prose = similarity(m.toks(m.old, old), m.toks(m.new, new))
    return similarity(m.toks(m.old, old, False), m.toks(m.new, new, False)) > with_prose


def clear_heir(m: Matcher, old: Symbol, sim: float, other: float, same_name: bool) -> bool:
    """Whether a namesake holds nearly all of `old`'s code, far ahead of every other candidate, under
    a name used a few times over rather than a framework hook's (round 16).

    A name four backends define (`grouped_topk`, `select_experts`) proves nothing by itself, but it
    does not make a 0.95 match with nothing else near a coincidence: the CPU `grouped_topk` ->
    `router/cpu_router.py::_grouped_topk`. Hooks every model defines (`load_weights`, `__call__`)
    keep the old bar, since there a close body is as often a sibling model's copy.
    """
    return (m.clear_heirs and same_name and sim >= CLEAR_HEIR and sim - other >= CLEAR_LEAD
            and len(m.toks(m.old, old)) >= TINY_TOKENS
            and max(m.new_name_count(old), m.old_name_count(old)) < HOOK_NAME)


def word_for_word(m: Matcher, old: Symbol, anchor: str, reasons: list[str]) -> bool:
    """Whether `anchor` holds `old`'s code unchanged, is the only place either tree holds it, and no
    namesake at home holds most of it.

    Names and sizes guard against namesakes and coincidence (`warmup` is defined fourteen times, a
    one-line delegation is tiny); a body found once before and once after, nowhere else, needs no
    such guard (round 15: `OpenAIServingChat.warmup` -> `OnlineRenderer.warmup`).
    """
    if not m.identical or "same fingerprint" not in reasons or m.fingerprint_count(old.fingerprint) != (1, 1):
        return False
    # Round 17: a namesake at home (its file, or where its file or class went) holding most of the
    # code is the heir; the copy elsewhere is a sibling's (`TrtLlmBf16Experts.__init__` went to the
    # `TrtLlmBf16ExpertsBase` beside it, not to the LoRA variant that copied it word for word).
    home = m.home(old)
    return not any(s.anchor != anchor and s.path in home and m.sim(old, s) >= SAME_NAME_MIN
                   for s in m.fresh_named(base_name(old)))


def kept_word_for_word(m: Matcher, old: Symbol, anchor: str, sim: float, generic: bool) -> bool:
    """Whether `anchor` keeps every word of `old`'s name, holds its body unchanged (its own name
    aside), and is the only candidate that holds it unchanged.

    Pattern closures renamed by a suffix (`replacement_noq` -> `replacement_noq_without_layer`)
    are tiny and have near-twins beside them (`pattern_noq_without_layer`, `replacement_noq_with_layer`)
    that code alone cannot rule out; the kept name and the one unchanged body together can (round 25,
    read from the fresh 0.27.0 -> 0.33.0 sets).
    """
    if not m.kept_identical or sim < 1.0 or generic or words_added(old.name, m.new.by_anchor[anchor].qualname) is None:
        return False
    return not any(a != anchor and m.sim(old, m.new.by_anchor[a]) >= 1.0 for a in m.candidates_of(old))


def variant_of(m: Matcher, anchor: str, parent_went: str) -> bool:
    """Whether `anchor` is a member of a subclass of the class `old`'s class was relocated to: a class
    split into a base and variants (round 6: `NixlConnectorScheduler` -> `NixlBaseConnectorScheduler`, and
    its `request_finished` -> `NixlPullConnectorScheduler.request_finished`)."""
    parent = parent_anchor(anchor)
    if parent is None or parent not in m.new.by_anchor or m.new.by_anchor[parent].kind != "class":
        return False
    return parent_went.rpartition("::")[2].rpartition(".")[2] in class_bases(m.new.code(m.new.by_anchor[parent]))


def _last_two(qualname: str) -> str:
    return "_".join(qualname.replace("::", ".").split(".")[-2:])
