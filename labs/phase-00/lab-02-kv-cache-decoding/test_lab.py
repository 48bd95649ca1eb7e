"""Grades lab 00-02: identical tokens with and without the cache, and FLOP formulas that match a counter."""
from __future__ import annotations

import torch
from torch.utils.flop_counter import FlopCounterMode


def _model(impl):
    torch.manual_seed(0)
    return impl.TinyDecoder(impl.Cfg()).eval()


def _counted(fn) -> tuple[object, int]:
    counter = FlopCounterMode(display=False)
    with counter:
        result = fn()
    return result, counter.get_total_flops()


def test_cache_gives_identical_tokens(impl):
    model = _model(impl)
    for prompt in ([1, 2, 3], [5, 9, 33, 7, 100, 2, 64, 18, 71]):
        a = impl.generate_no_cache(model, prompt, 12)
        b = impl.generate_with_cache(model, prompt, 12)
        assert len(a) == len(b) == 12
        assert a == b


def test_cache_tokens_are_the_models_greedy_choice(impl):
    model = _model(impl)
    prompt = [4, 8, 15, 16, 23, 42]
    out = impl.generate_with_cache(model, prompt, 5)
    with torch.no_grad():
        for i, tok in enumerate(out):
            assert tok == int(model(torch.tensor(prompt + out[:i]), 0, None).argmax())


def test_step_flops_match_counter(impl):
    model, cfg = _model(impl), impl.Cfg()
    with torch.no_grad():
        _, prefill = _counted(lambda: model(torch.arange(10), 0, None))
        cache = impl.empty_cache(cfg)
        model(torch.arange(10), 0, cache)
        _, decode = _counted(lambda: model(torch.tensor([3]), 10, cache))
    assert impl.step_flops(cfg, 10, 10) == prefill
    assert impl.step_flops(cfg, 1, 11) == decode


def test_generation_flops_match_counter_and_cache_wins(impl):
    model, cfg = _model(impl), impl.Cfg()
    prompt, n = list(range(1, 17)), 8
    _, no_cache = _counted(lambda: impl.generate_no_cache(model, prompt, n))
    _, with_cache = _counted(lambda: impl.generate_with_cache(model, prompt, n))
    assert impl.generation_flops(cfg, len(prompt), n, use_cache=False) == no_cache
    assert impl.generation_flops(cfg, len(prompt), n, use_cache=True) == with_cache
    assert with_cache * 4 < no_cache
