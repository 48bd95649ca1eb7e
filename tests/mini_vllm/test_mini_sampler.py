"""Sampler semantics against transformers' logits processors, and sampled frequencies vs. theory."""

from __future__ import annotations

import math

import pytest
import torch
from transformers.generation.logits_process import (MinPLogitsWarper, RepetitionPenaltyLogitsProcessor,
                                                    TemperatureLogitsWarper, TopKLogitsWarper,
                                                    TopPLogitsWarper)

from mini_vllm import LLM, SamplingParams
from mini_vllm.sampler import Sampler, SamplingRow


def rows_for(params: SamplingParams, n: int, prompt=(3, 4), output=()) -> list[SamplingRow]:
    return [SamplingRow(params, list(prompt), list(output)) for _ in range(n)]


@pytest.mark.parametrize("t,k,p,min_p", [(0.7, 0, 1.0, 0.0), (1.0, 5, 1.0, 0.0), (1.3, 0, 0.6, 0.0),
                                         (0.8, 10, 0.9, 0.0), (1.0, 0, 1.0, 0.05)])
def test_processing_matches_transformers(t, k, p, min_p):
    torch.manual_seed(0)
    logits = torch.randn(4, 50) * 3
    ids = torch.tensor([[3, 4]] * 4)
    ours = Sampler().process_logits(logits, rows_for(SamplingParams(temperature=t, top_k=k, top_p=p,
                                                                    min_p=min_p), 4))
    ref = TemperatureLogitsWarper(t)(ids, logits.clone())
    if min_p:
        ref = MinPLogitsWarper(min_p)(ids, ref)
    if k:
        ref = TopKLogitsWarper(k)(ids, ref)
    if p < 1:
        ref = TopPLogitsWarper(p)(ids, ref)
    assert torch.equal(torch.isinf(ours), torch.isinf(ref))
    finite = ~torch.isinf(ref)
    torch.testing.assert_close(ours[finite], ref[finite])


def test_penalties():
    logits = torch.tensor([[2.0, -1.0, 0.5, 1.0, 0.0]])
    ids = torch.tensor([[1, 3]])
    ours = Sampler().process_logits(logits, [SamplingRow(SamplingParams(repetition_penalty=1.5),
                                                         [1], [3])])
    torch.testing.assert_close(ours, RepetitionPenaltyLogitsProcessor(1.5)(ids, logits.clone()))
    # Frequency and presence apply to output tokens only: token 3 appears twice, token 1 is prompt.
    row = SamplingRow(SamplingParams(frequency_penalty=0.5, presence_penalty=0.25), [1], [3, 3])
    out = Sampler().process_logits(logits, [row])
    torch.testing.assert_close(out, torch.tensor([[2.0, -1.0, 0.5, 1.0 - 1.0 - 0.25, 0.0]]))


@pytest.mark.parametrize("params", [SamplingParams(temperature=0.8),
                                    SamplingParams(temperature=1.2, top_k=6),
                                    SamplingParams(temperature=1.0, top_p=0.7),
                                    SamplingParams(temperature=1.0, min_p=0.1)])
def test_sampled_frequencies_match_distribution(params, chi_square):
    torch.manual_seed(1)
    logits = torch.randn(1, 12) * 1.5
    n = 20000
    sampler = Sampler(seed=123)
    rows = rows_for(params, n)
    tokens, _ = sampler(logits.expand(n, -1), rows)
    probs = sampler.process_logits(logits, rows[:1]).softmax(-1)[0]
    counts = torch.bincount(tokens, minlength=12).float()
    assert counts[probs == 0].sum() == 0, "a filtered-out token was sampled"
    assert chi_square(counts, probs) > 1e-3


def test_seed_reproducible_and_logprobs(tiny_model):
    llm = LLM(tiny_model, num_kv_blocks=128)
    sp = SamplingParams(temperature=1.0, seed=42, max_tokens=12, logprobs=3)
    a = llm.generate(["The block cache"], sp)[0].outputs[0]
    # Same seed in a different batch -> same tokens; batch neighbours must not matter.
    b = llm.generate(["Other prompt here", "The block cache", "x y z"], [
        SamplingParams(temperature=1.0, max_tokens=12), sp, SamplingParams(temperature=0.5)])[1].outputs[0]
    assert a.token_ids == b.token_ids
    assert len(a.logprobs) == len(a.token_ids)
    for tok, lp in zip(a.token_ids, a.logprobs):
        assert tok in lp and lp[tok] <= 0.0 and len(lp) in (3, 4)
    assert math.isclose(a.cumulative_logprob, sum(lp[t] for lp, t in zip(a.logprobs, a.token_ids)))


def test_parallel_sampling_n(tiny_model):
    llm = LLM(tiny_model, num_kv_blocks=128)
    out = llm.generate(["The engine runs"], SamplingParams(n=4, temperature=1.0, seed=0, max_tokens=8))
    assert len(out) == 1 and [c.index for c in out[0].outputs] == [0, 1, 2, 3]
    assert len({tuple(c.token_ids) for c in out[0].outputs}) > 1
