"""How alike two pieces of code, or two names, are: the measures the matcher combines.

Code is compared as token sequences (identifiers, numbers, punctuation) with the symbol's own name
masked, so a pure rename scores 1.0; the score is 2·LCS / (|a| + |b|), the same quantity as
difflib's ratio, computed by rapidfuzz's bit-parallel LCS so thousands of pairs stay cheap.
"""
from __future__ import annotations

import re
from collections import defaultdict
from functools import lru_cache

from rapidfuzz.distance import Indel

from ..symbols import Symbol, SymbolIndex

TOKEN = re.compile(r"\w+|[^\w\s]")
# Docstrings and comments; triple-quoted strings go whole (a rare triple-quoted value too: harmless here).
PROSE = re.compile(r'"""[\s\S]*?"""|\'\'\'[\s\S]*?\'\'\'|#[^\n]*')
SUFFIX = re.compile(r"\[[^\]]*\]$")

_IDS: dict[str, int] = {"\0self": 0}
MIN_LINE = 12  # shorter lines (`return x`) are too common to point anywhere


def tokens(code: str, name: str, prose: bool = True) -> list[int]:
    """Code as interned token ids, the symbol's own name replaced so a rename alone changes nothing.

    With `prose=False` docstrings and comments are dropped first. Both views are useful: a docstring
    carried along is evidence of identity, and a docstring added to an unchanged body is no change.
    """
    return list(_tokens(code, name, prose))


@lru_cache(maxsize=200_000)  # a chain of releases meets the same code in step after step
def _tokens(code: str, name: str, prose: bool) -> tuple[int, ...]:
    ids = _IDS
    text = code if prose else PROSE.sub(" ", code)
    return tuple([0 if t == name else ids.setdefault(t, len(ids)) for t in TOKEN.findall(text)])


def similarity(a: list[int], b: list[int]) -> float:
    """Share of tokens two bodies have in common, in order: 2·LCS / (|a| + |b|), as difflib's ratio."""
    if a == b:
        return 1.0
    return Indel.normalized_similarity(a, b)


def base_name(symbol: Symbol) -> str:
    """The last name of a qualname without its `[setter]`/`[2]` suffix or leading underscores."""
    return _base_name(symbol.name)


@lru_cache(maxsize=None)  # asked millions of times per run, about a few thousand names
def _base_name(name: str) -> str:
    return SUFFIX.sub("", name).lstrip("_") or name


def name_words(name: str) -> set[str]:
    """`_get_kv_cache_shape` -> {get, kv, cache, shape}; `CPTritonContext` -> {cp, triton, context}."""
    spaced = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)  # an acronym ends where a word starts: PP|Handler
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", spaced)
    return {w.lower() for w in re.split(r"[_\W]+", spaced) if w}


def name_likeness(a: str, b: str) -> float:
    wa, wb = name_words(a), name_words(b)
    return len(wa & wb) / len(wa | wb) if wa | wb else 0.0


def name_kept(old: str, new_qualname: str) -> bool:
    """Whether every word of a (two-word or longer) old name survives in the new name or its class's.

    `pp_receive` -> `PPHandler.receive`, `TRTLLMDecode` -> `FlashInferTrtllmAPIDecode`,
    `get_finished` -> `get_finished_jobs`: the old name was kept and qualified, which word overlap
    alone (`name_likeness`) undervalues as the new name grows.
    """
    return words_added(old, new_qualname) is not None


def words_added(old: str, new_qualname: str) -> int | None:
    """How many words the new name (with its class's) adds to a kept old name; None if not kept."""
    words = name_words(old)
    parts = new_qualname.replace("::", ".").split(".")
    new = name_words(parts[-1]) | (name_words(parts[-2]) if len(parts) > 1 else set())
    return len(new - words) if len(words) >= 2 and words <= new else None


# The hardware a dispatch method is written for: `CustomOp.forward_cuda` / `forward_hip` / `forward_xpu`.
PLATFORMS = frozenset({"cuda", "hip", "rocm", "xpu", "cpu", "tpu", "hpu", "npu"})


def platform_siblings(a: str, b: str) -> bool:
    """Whether two names differ only in the platform they name (`forward_xpu`, `forward_hip`).

    Such methods are implementations of one operation for different hardware: when one goes while
    the other appears, the class dropped one platform's path and gained another's. However alike
    their bodies, neither is the other renamed (round 23). A name without a platform word on one
    side (`forward` -> `forward_native`) is not a sibling: that is a real rename.
    """
    wa, wb = name_words(a), name_words(b)
    pa, pb = wa & PLATFORMS, wb & PLATFORMS
    return bool(pa) and bool(pb) and pa != pb and wa - pa == wb - pb


# Folders that hold one vendor's copy of a model or kernel: `models/qwen4_exp/nvidia/`, `.../amd/`.
VENDOR_FOLDERS = PLATFORMS | {"nvidia", "amd", "intel"}


def _vendors(path: str) -> frozenset[str]:
    return VENDOR_FOLDERS.intersection(path.split("/")[:-1])


def other_vendor(old_path: str, new_path: str) -> bool:
    """Whether a file lies in another vendor's folder than the old one did (`nvidia/ops/x.py` ->
    `amd/ops/x.py`): most likely a port made for other hardware (round 27). A move out of every
    vendor folder (`nvidia/` -> `common/`) is not one."""
    a, b = _vendors(old_path), _vendors(new_path)
    return bool(a) and bool(b) and not a & b


def same_vendor(old_path: str, new_path: str) -> bool:
    """Whether both files lie in one vendor's folder (`nvidia/ops/a.py`, `nvidia/ops/b.py`)."""
    return bool(_vendors(old_path) & _vendors(new_path))


def parent_anchor(anchor: str) -> str | None:
    path, _, qual = anchor.partition("::")
    cut = max(qual.rfind("."), qual.rfind("::"))
    return f"{path}::{qual[:cut]}" if cut > 0 else None


def package_files(old: SymbolIndex, new: SymbolIndex) -> dict[str, set[str]]:
    """Old modules that became packages (`quantization/inc.py` -> `quantization/inc/`, round 6),
    each with the new files under the package: those files are the module's home.

    Only when the module itself is gone: then its symbols can only live on inside the package.
    """
    table: dict[str, set[str]] = defaultdict(set)
    for path in new.by_file:
        parts = path.split("/")
        for depth in range(1, len(parts)):
            module = "/".join(parts[:depth]) + ".py"
            if module in old.by_file and module not in new.by_file:
                table[module].add(path)
    return table


MODULE_KEPT = 0.5  # share of a gone module's distinctive lines its namesake must hold to be the module moved


def moved_modules(old: SymbolIndex, new: SymbolIndex) -> dict[str, set[str]]:
    """Gone modules whose file reappears, new, under the same file name with folders added to or
    taken from its path (none renamed), holding at least half of its distinctive lines (`serve/rpc/api_router.py` ->
    `serve/dev/rpc/api_router.py`): git's rename detection, limited to a module re-filed in its own
    tree, so that its small, generically named functions (`collective_rpc`) go where it went
    (round 11). A namesake in a sibling folder (`eagle/cudagraph.py`, `dflash/cudagraph.py`) is
    another module with copied code, not this one moved."""
    by_name: dict[str, list[str]] = defaultdict(list)
    for path in new.by_file:
        if path not in old.by_file:
            by_name[path.rpartition("/")[2]].append(path)
    table: dict[str, set[str]] = {}
    for path in old.by_file:
        namesakes = [p for p in by_name.get(path.rpartition("/")[2], ()) if _refiled(path, p)]
        if path in new.by_file or not namesakes:
            continue
        mine = _file_lines(tuple(old.lines(path)))
        if not mine:
            continue
        share, best = max((len(mine & _file_lines(tuple(new.lines(p)))) / len(mine), p) for p in namesakes)
        if share >= MODULE_KEPT:
            table[path] = {best}
    return table


def _refiled(old: str, new: str) -> bool:
    """Whether one path's folders are the other's with folders added, none renamed."""
    a, b = old.split("/")[:-1], new.split("/")[:-1]
    short, long = (a, b) if len(a) <= len(b) else (b, a)
    it = iter(long)
    return short != long and all(part in it for part in short)


@lru_cache(maxsize=20_000)
def _file_lines(lines: tuple[str, ...]) -> frozenset[str]:
    return frozenset(t for line in lines
                     if len(t := line.strip()) >= MIN_LINE and not t.startswith(("#", "import ", "from ")))
