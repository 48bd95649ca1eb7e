"""The symbol index on real upstream files: names, spans, disambiguation, fingerprints, cache."""
from __future__ import annotations

import shutil
from pathlib import Path

from vmastery.symbols import SymbolIndex, parse_file

from .conftest import ROOT


def test_known_symbols_have_their_upstream_spans(index: SymbolIndex) -> None:
    get_new_blocks = index.get("vllm/v1/core/block_pool.py::BlockPool.get_new_blocks")
    assert (get_new_blocks.kind, get_new_blocks.line, get_new_blocks.end) == ("method", 333, 363)
    assert index.lines("vllm/v1/core/block_pool.py")[332].lstrip().startswith("def get_new_blocks(")
    assert index.get("vllm/v1/core/kv_cache_manager.py::KVCacheManager").kind == "class"
    assert index.get("vllm/v1/request.py::Request.__init__").kind == "method"


def test_nested_and_cpp_names(index: SymbolIndex) -> None:
    nested = index.get("vllm/v1/core/kv_cache_utils.py::get_request_block_hasher.request_block_hasher")
    assert nested is not None and nested.kind == "function"
    kernel = index.get("csrc/cache_kernels.cu::vllm::reshape_and_cache_kernel")
    assert kernel is not None and kernel.kind == "function"
    assert "reshape_and_cache_kernel" in index.lines(kernel.path)[kernel.line - 1]


def test_overloads_are_numbered_and_the_implementation_keeps_the_name(index: SymbolIndex) -> None:
    base = "vllm/v1/core/kv_cache_manager.py::KVCacheBlocks.get_block_ids"
    lines = [index.get(base + suffix).line for suffix in ("[overload-1]", "[overload-2]", "")]
    assert lines == sorted(lines)
    assert index.get(base + "[overload-3]") is None


def test_every_anchor_is_unique_and_spans_are_sane(index: SymbolIndex) -> None:
    count = sum(len(symbols) for symbols in index.by_file.values())
    assert count == len(index) > 25_000
    for symbol in index.by_anchor.values():
        assert symbol.start <= symbol.line <= symbol.end


def _write(tmp: Path, text: str) -> list:
    (tmp / "vllm").mkdir(exist_ok=True)
    (tmp / "vllm" / "m.py").write_text(text)
    return parse_file(tmp, "vllm/m.py")


def test_repeated_names_get_stable_suffixes(tmp_path: Path) -> None:
    symbols = _write(tmp_path, """
import typing
if typing.TYPE_CHECKING:
    def f(): ...
else:
    def f(): return 1
class C:
    @property
    def p(self): return 1
    @p.setter
    def p(self, v): pass
    @typing.overload
    def g(self, x: int) -> int: ...
    @typing.overload
    def g(self, x: str) -> str: ...
    def g(self, x): return x
""")
    assert [s.qualname for s in symbols] == [
        "f", "f[2]", "C", "C.p", "C.p[setter]", "C.g[overload-1]", "C.g[overload-2]", "C.g"]


def test_fingerprint_ignores_comments_and_layout_but_not_code(tmp_path: Path) -> None:
    base = _write(tmp_path, "def f(a, b):\n    return a + b\n")[0].fingerprint
    reformatted = _write(tmp_path, "\n\ndef f(a,   b):  # add\n    # the sum\n    return a + b\n")[0]
    changed = _write(tmp_path, "def f(a, b):\n    return a - b\n")[0]
    assert reformatted.fingerprint == base
    assert changed.fingerprint != base


def test_cache_reuses_unchanged_files_and_reparses_edited_ones(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    (tree / "vllm" / "v1").mkdir(parents=True)
    shutil.copy(ROOT / "upstream/vllm/v1/request.py", tree / "vllm/v1/request.py")
    (tree / "csrc").mkdir()
    cache = tmp_path / "index.json"
    first = SymbolIndex.build(tree, cache, progress=False)
    assert SymbolIndex.build(tree, cache, progress=False).by_anchor == first.by_anchor
    path = tree / "vllm/v1/request.py"
    path.write_text(path.read_text() + "\n\ndef added_later():\n    return 1\n")
    again = SymbolIndex.build(tree, cache, progress=False)
    assert again.get("vllm/v1/request.py::added_later") is not None
    assert len(again) == len(first) + 1
