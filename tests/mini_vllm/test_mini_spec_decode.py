"""Speculative decoding changes speed, never outputs: identical greedy tokens, same distribution."""

from __future__ import annotations

import torch

from mini_vllm import LLM, SamplingParams
from mini_vllm.spec_decode import NgramProposer, rejection_sample


def test_ngram_proposer_finds_longest_recent_match():
    prop = NgramProposer(3, 1, 3, 100)
    assert prop.propose([5, 6, 7, 8, 9, 5, 6, 7]) == [8, 9, 5]
    assert prop.propose([1, 2, 3, 4]) == []
    assert prop.propose([4, 1, 9, 4, 2, 9, 4]) == [2, 9, 4]  # most recent occurrence of "9 4"


def test_greedy_identical_with_and_without_spec(tiny_model):
    # Repetitive prompts make the n-gram proposer fire often.
    prompts = ["the cache the cache the cache the cache the", "one two three one two three one",
               "a b a b a b a b a b"]
    sp = SamplingParams(temperature=0.0, max_tokens=40, ignore_eos=True)
    base = LLM(tiny_model, num_kv_blocks=128, block_size=4).generate(prompts, sp)
    spec_llm = LLM(tiny_model, num_kv_blocks=128, block_size=4, num_speculative_tokens=4)
    spec = spec_llm.generate(prompts, sp)
    for a, b in zip(base, spec):
        assert a.outputs[0].token_ids == b.outputs[0].token_ids
    stats = spec_llm.llm_engine.stats
    assert stats.num_draft_tokens > 0 and stats.num_accepted_tokens > 0


def test_rejection_sampler_preserves_distribution(chi_square):
    torch.manual_seed(0)
    p = torch.softmax(torch.randn(2, 8) * 1.5, -1)
    g = torch.Generator().manual_seed(0)
    n = 20000
    for draft in (int(p[0].argmax()), int(p[0].argmin())):  # a likely and an unlikely draft
        firsts = torch.tensor([rejection_sample(p, [draft], greedy=False, generator=g)[0]
                               for _ in range(n)])
        counts = torch.bincount(firsts, minlength=8).float()
        assert chi_square(counts, p[0]) > 1e-3


def test_sampled_outputs_same_distribution_end_to_end(tiny_model, chi_square):
    """Second-token distribution with and without drafts, over many seeds (two-sample chi-square)."""
    prompt = "a b a b a b a b a b a"
    sp = [SamplingParams(temperature=1.0, seed=s, max_tokens=3, ignore_eos=True) for s in range(200)]
    outs = {}
    for k in (0, 3):
        llm = LLM(tiny_model, num_kv_blocks=512, block_size=8, num_speculative_tokens=k,
                  max_num_seqs=64, max_num_batched_tokens=1024)
        res = llm.generate([prompt] * len(sp), sp)
        outs[k] = torch.tensor([r.outputs[0].token_ids[2] for r in res])
    a = torch.bincount(outs[0], minlength=512).float()
    b = torch.bincount(outs[3], minlength=512).float()
    keep = (a + b) >= 5
    # Renormalise over the kept bins: the counts tested below are only those bins' counts.
    pooled = (a[keep] + b[keep]) / (a[keep] + b[keep]).sum()
    # Under H0 both samples come from `pooled`: test each (crude but fails on a real bias).
    assert chi_square(b[keep], pooled) > 1e-4
