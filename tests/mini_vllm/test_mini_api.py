"""The offline API: stop conditions, prefix caching, clear errors, and the upstream citations."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from mini_vllm import LLM, SamplingParams
from mini_vllm.config import ModelConfig

REPO = Path(__file__).resolve().parents[2]


def test_stop_conditions(tiny_model):
    llm = LLM(tiny_model, num_kv_blocks=256)
    full = llm.generate(["The engine"], SamplingParams(temperature=0, max_tokens=30, ignore_eos=True))
    c = full[0].outputs[0]
    assert len(c.token_ids) == 30 and c.finish_reason == "length"
    # Stop on a token id taken from the greedy output: generation ends right there.
    stop_tok = c.token_ids[5]
    first = c.token_ids.index(stop_tok)
    s = llm.generate(["The engine"], SamplingParams(temperature=0, max_tokens=30,
                                                    stop_token_ids=[stop_tok]))[0].outputs[0]
    assert s.token_ids == c.token_ids[:first + 1] and s.stop_reason == stop_tok
    # Stop strings cut the text before the stop string.
    text = c.text
    needle = text[len(text) // 2: len(text) // 2 + 3]
    if needle.strip():
        t = llm.generate(["The engine"], SamplingParams(temperature=0, max_tokens=30,
                                                        stop=[needle]))[0].outputs[0]
        assert t.finish_reason == "stop" and t.stop_reason == needle
        assert t.text == text[:text.find(needle)]


def test_prefix_caching_hits_and_does_not_change_outputs(tiny_model):
    shared = "the cache the block the request the batch " * 6
    prompts = [shared + tail for tail in ("one", "two", "three")]
    sp = SamplingParams(temperature=0, max_tokens=12, ignore_eos=True)
    cached = LLM(tiny_model, num_kv_blocks=256, block_size=8)
    first = cached.generate(prompts[:1], sp)
    rest = cached.generate(prompts[1:], sp)
    assert first[0].num_cached_tokens == 0 and all(r.num_cached_tokens >= 32 for r in rest)
    plain = LLM(tiny_model, num_kv_blocks=256, block_size=8, enable_prefix_caching=False)
    ref = plain.generate(prompts, sp)
    assert [o.outputs[0].token_ids for o in first + rest] == [o.outputs[0].token_ids for o in ref]


def test_clear_errors(tiny_model, tmp_path):
    with pytest.raises(FileNotFoundError, match="config.json"):
        ModelConfig.from_pretrained(tmp_path)
    with pytest.raises(TypeError, match="unknown engine argument"):
        LLM(tiny_model, block_sise=4)
    llm = LLM(tiny_model, num_kv_blocks=4, block_size=4)
    with pytest.raises(ValueError, match="KV blocks"):
        llm.generate(["x " * 40], SamplingParams(max_tokens=10))
    with pytest.raises(ValueError, match="top_p"):
        SamplingParams(top_p=0.0)


def test_every_module_cites_a_resolvable_upstream_anchor():
    from vmastery.symbols import index_for

    index = index_for(REPO)
    for path in sorted((REPO / "mini_vllm").rglob("*.py")):
        source = path.read_text()
        doc = ast.get_docstring(ast.parse(source)) or ""
        assert "{anchor}`" in doc, f"{path}: module docstring cites no upstream anchor"
        for anchor in re.findall(r"\{anchor\}`([^`]+)`", source):
            assert index.get(anchor) is not None, f"{path}: anchor {anchor} does not resolve"
