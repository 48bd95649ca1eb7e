"""Round 12: code written after a symbol was deleted is not the symbol; another lost symbol's namesake is no rival."""
from __future__ import annotations

from vmastery.reanchor.chain import Chain
from vmastery.reanchor.match import Matcher

GETTER = '''
    def {name}(self) -> int:
        """Head size from the text config, falling back to hidden size over heads."""
        text = self.hf_config.get_text_config()
        size = getattr(text, "head_dim", None)
        if size is None:
            size = text.hidden_size // text.num_attention_heads
        return int(size) * (2 if getattr(text, "interleaved", False) else 1)
'''


def test_a_lookalike_born_after_the_symbol_was_gone_leaves_it_orphaned(tmp_path, staged):
    # 0.1 has the getter; 0.2 deletes it with nothing in its place; 0.3 adds another model's copy.
    v0 = staged(tmp_path / "v0", {"vllm/convertors.py": "class GemmaConvertor:" + GETTER.format(name="get_head_size")})
    v1 = staged(tmp_path / "v1", {"vllm/convertors.py": "class Base:\n    pass\n"})
    v2 = staged(tmp_path / "v2", {"vllm/convertors.py": "class Base:\n    pass\n\nclass QwenConvertor:"
                                  + GETTER.format(name="get_layers")})
    anchor = "vllm/convertors.py::GemmaConvertor.get_head_size"
    assert Matcher(v0, v2).decide(anchor).state == "renamed"  # end to end, the copy looks like a rename
    chain = Chain([v0, v1, v2], ["0.1", "0.2", "0.3"])
    d = chain.decide(anchor)
    assert d.state == "orphaned", d
    assert "created in 0.3, after this symbol was gone" in d.evidence[-1]
    plain = Chain([v0, v1, v2], ["0.1", "0.2", "0.3"])
    plain.born_after = False  # without the rule the two comparisons only disagree
    assert plain.decide(anchor).state == "review"


def test_a_lookalike_already_there_when_the_symbol_went_is_still_a_review(tmp_path, staged):
    # The copy exists from 0.2 on, beside the getter, which 0.3 deletes: history cannot settle it.
    both = "class GemmaConvertor:" + GETTER.format(name="get_head_size") + "\nclass QwenConvertor:" + GETTER.format(name="get_layers")
    v0 = staged(tmp_path / "v0", {"vllm/convertors.py": "class GemmaConvertor:" + GETTER.format(name="get_head_size")})
    v1 = staged(tmp_path / "v1", {"vllm/convertors.py": both})
    v2 = staged(tmp_path / "v2", {"vllm/convertors.py": "class QwenConvertor:" + GETTER.format(name="get_layers")})
    d = Chain([v0, v1, v2], ["0.1", "0.2", "0.3"]).decide("vllm/convertors.py::GemmaConvertor.get_head_size")
    assert d.state == "review" and d.evidence[0] == "the two comparisons disagree", d


CACHE = '''
class {name}(BaseCache):
    """Keeps processed items keyed by hash, evicting least recently used ones beyond the budget."""

    def __init__(self, budget_bytes: int) -> None:
        self._items = LRUCache(maxsize=budget_bytes, getsizeof=lambda item: item.nbytes)
        self._hits = 0
        self._misses = 0

    def get_and_update(self, key: str, item: object | None) -> object:
        if key in self._items:
            self._hits += 1
            return self._items[key]
        self._misses += 1
        assert item is not None, f"sender evicted {{key}} before the receiver asked for it"
        self._items[key] = item
        return item
'''


def test_another_lost_symbols_namesake_is_no_rival(tmp_path, staged):
    # cache.py becomes a package: OnlyCache keeps its name in base.py, SenderCache is renamed in lru.py.
    # Both new classes hold the same code; OnlyCache's namesake belongs to OnlyCache, not to SenderCache.
    old = staged(tmp_path / "old", {"vllm/mm/cache.py": CACHE.format(name="ProcessorOnlyCache")
                                    + CACHE.format(name="ProcessorSenderCache")})
    new = staged(tmp_path / "new", {"vllm/mm/cache/base.py": CACHE.format(name="ProcessorOnlyCache"),
                                    "vllm/mm/cache/lru.py": CACHE.format(name="LruSenderCache")})
    anchor = "vllm/mm/cache.py::ProcessorSenderCache"
    d = Matcher(old, new).decide(anchor)
    assert (d.state, d.new) == ("renamed", "vllm/mm/cache/lru.py::LruSenderCache"), d
    plain = Matcher(old, new)
    plain.namesakes = False  # without the rule the namesake is a rival as close as the heir
    assert plain.decide(anchor).state != "renamed"
