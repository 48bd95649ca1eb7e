"""Speculative decoding changes speed, never outputs: identical greedy tokens, same distribution."""

from __future__ import annotations

import pytest
import torch

import mini_vllm.engine as engine_module
from mini_vllm import LLM, SamplingParams
from mini_vllm.spec_decode import NgramProposer, rejection_sample
from mini_vllm.tiny import create_induction_model


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


@pytest.fixture(scope="session")
def induction_model() -> str:
    """The trained toy induction model (trained once, ~1 min, then reused from .cache/)."""
    return str(create_induction_model())


def _homogeneity_p_value(a: torch.Tensor, b: torch.Tensor) -> float:
    """Two-sample chi-square test that counts `a` and `b` come from one distribution.

    Bins with fewer than 10 pooled counts are merged into one, so expected counts stay large.
    """
    small = (a + b) < 10
    a = torch.cat([a[~small], a[small].sum(0, keepdim=True)]).double()
    b = torch.cat([b[~small], b[small].sum(0, keepdim=True)]).double()
    keep = (a + b) > 0
    a, b = a[keep], b[keep]
    pooled = (a + b) / (a.sum() + b.sum())
    ea, eb = pooled * a.sum(), pooled * b.sum()
    stat = ((a - ea) ** 2 / ea).sum() + ((b - eb) ** 2 / eb).sum()
    dof = len(a) - 1
    return float(torch.special.gammaincc(torch.tensor(dof / 2, dtype=torch.double), stat / 2))


def _sampled_tokens(model: str, k: int, n: int = 400) -> tuple[torch.Tensor, object]:
    # A repeated 10-word span: the model wants to copy, the proposer drafts the copy, and at
    # temperature 1.5 the copy is likely but not certain, so drafts are both accepted and rejected.
    prompt = ("engine block cache the queue page decode model key step " * 4).split()[:36]
    params = [SamplingParams(temperature=1.5, seed=s, max_tokens=4, ignore_eos=True) for s in range(n)]
    llm = LLM(model, num_kv_blocks=1024, block_size=8, num_speculative_tokens=k, max_num_seqs=128,
              max_num_batched_tokens=2048, enable_prefix_caching=False)
    res = llm.generate([" ".join(prompt)] * n, params)
    return torch.tensor([r.outputs[0].token_ids for r in res]), llm.llm_engine.stats


def test_sampled_outputs_same_distribution_end_to_end(induction_model, monkeypatch):
    """Per-position token distribution with and without drafts on a model that accepts them.

    Output token 0 comes from the prompt pass; tokens 1-3 come from rejection sampling when
    drafts are on. A negative control with a biased verifier (on rejection, resample from p
    instead of p minus the draft) must be caught, so the test has the power it claims.
    """
    base, _ = _sampled_tokens(induction_model, 0)
    spec, stats = _sampled_tokens(induction_model, 4)
    assert 0 < stats.num_accepted_tokens < stats.num_draft_tokens  # both paths exercised
    for pos in range(1, 4):
        a, b = (torch.bincount(t[:, pos], minlength=95) for t in (base, spec))
        assert _homogeneity_p_value(a, b) > 1e-3, f"output position {pos} differs with drafts"

    def biased(target_probs, drafts, greedy, generator=None):
        out = []
        for j, d in enumerate(drafts):
            p = target_probs[j]
            if torch.rand((), generator=generator) < p[d]:
                out.append(d)
                continue
            out.append(int(torch.multinomial(p, 1, generator=generator)))  # wrong: may re-pick d
            return out
        return out + [int(torch.multinomial(target_probs[-1], 1, generator=generator))]

    monkeypatch.setattr(engine_module, "rejection_sample", biased)
    bad, _ = _sampled_tokens(induction_model, 4)
    worst = min(_homogeneity_p_value(torch.bincount(base[:, pos], minlength=95),
                                     torch.bincount(bad[:, pos], minlength=95)) for pos in range(1, 4))
    assert worst < 1e-3, "the test did not detect a biased rejection sampler"


def test_spec_decode_speeds_up_repetitive_text_on_the_induction_model(induction_model):
    """Greedy: identical tokens, and the copied continuation is accepted in multi-token steps."""
    prompt = " ".join(("page key decode the value table first " * 6).split()[:40])
    sp = SamplingParams(temperature=0.0, max_tokens=32, ignore_eos=True)
    base = LLM(induction_model, num_kv_blocks=64, block_size=8).generate([prompt], sp)
    llm = LLM(induction_model, num_kv_blocks=64, block_size=8, num_speculative_tokens=4)
    spec = llm.generate([prompt], sp)
    assert base[0].outputs[0].token_ids == spec[0].outputs[0].token_ids
    st = llm.llm_engine.stats
    assert st.num_generated_tokens / (st.num_generated_tokens - st.num_accepted_tokens) > 2.0
